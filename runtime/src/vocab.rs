//! The shared vocabulary of policies, bundles and intents.
//!
//! Every enumerated value the language names (verdicts, risk classes, endpoint
//! classes, host classes, target kinds, provenance sources) is defined here,
//! once, with its canonical spelling. The compiler checks policies against these
//! lists and the runtime decodes intents with them, so the two can never drift.

use std::fmt;

macro_rules! vocab_enum {
    ($(#[$meta:meta])* $name:ident, $what:literal { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// What a value of this enum is called in messages.
            pub const WHAT: &'static str = $what;

            /// The canonical spelling.
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Parses the canonical spelling (exact, case-sensitive).
            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some($name::$variant),)+ _ => None }
            }

            /// Parses a spelling after Unicode lower-casing it, as intents
            /// are read (`HIGH` is `high`): an ASCII text is compared
            /// without a copy, any other is lower-cased first.
            pub fn parse_lowercased(text: &str) -> Option<Self> {
                if text.is_ascii() {
                    Self::ALL.iter().copied().find(|v| v.as_str().eq_ignore_ascii_case(text))
                } else {
                    Self::parse(&text.to_lowercase())
                }
            }

            /// Position of the value in [`Self::ALL`].
            pub const fn index(self) -> usize { self as usize }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
                $name::parse(&text).ok_or_else(|| {
                    serde::de::Error::custom(format!("unknown {} `{}`", $what, text))
                })
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result { f.write_str(self.as_str()) }
        }
    };
}

vocab_enum!(
    /// A decision. Declaration order is restrictiveness:
    /// `allow < dry_run < require_approval < block`.
    Verdict, "verdict" {
        Allow => "allow",
        DryRun => "dry_run",
        RequireApproval => "require_approval",
        Block => "block",
    }
);

vocab_enum!(
    /// The context risk class of an intent.
    Risk, "risk class" {
        Low => "low",
        Medium => "medium",
        High => "high",
        Critical => "critical",
    }
);

vocab_enum!(
    /// What a target does: the endpoint action model.
    EndpointClass, "endpoint class" {
        FsRead => "fs.read",
        FsWrite => "fs.write",
        FsDelete => "fs.delete",
        ProcExec => "proc.exec",
        NetHttp => "net.http",
        NetDns => "net.dns",
        UiClick => "ui.click",
        UiType => "ui.type",
        UiNavigate => "ui.navigate",
        Other => "other",
    }
);

impl EndpointClass {
    /// The family prefix (`fs`, `proc`, `net`, `ui`), or `None` for `other`.
    pub const fn family(self) -> Option<&'static str> {
        match self {
            EndpointClass::FsRead | EndpointClass::FsWrite | EndpointClass::FsDelete => Some("fs"),
            EndpointClass::ProcExec => Some("proc"),
            EndpointClass::NetHttp | EndpointClass::NetDns => Some("net"),
            EndpointClass::UiClick | EndpointClass::UiType | EndpointClass::UiNavigate => {
                Some("ui")
            }
            EndpointClass::Other => None,
        }
    }

    /// Expands a policy spelling: a class (`fs.read`) or a family wildcard
    /// (`fs.*`, `net.*`, `ui.*`) to the classes it denotes.
    pub fn expand(text: &str) -> Option<Vec<EndpointClass>> {
        if let Some(family) = text.strip_suffix(".*") {
            if !matches!(family, "fs" | "net" | "ui") {
                return None;
            }
            return Some(
                EndpointClass::ALL
                    .iter()
                    .copied()
                    .filter(|c| c.family() == Some(family))
                    .collect(),
            );
        }
        EndpointClass::parse(text).map(|c| vec![c])
    }

    /// Every spelling a policy may use: the classes and the family wildcards.
    pub const SPELLINGS: &'static [&'static str] = &[
        "fs.read",
        "fs.write",
        "fs.delete",
        "proc.exec",
        "net.http",
        "net.dns",
        "ui.click",
        "ui.type",
        "ui.navigate",
        "other",
        "fs.*",
        "net.*",
        "ui.*",
    ];
}

vocab_enum!(
    /// The class of a network host after normalization.
    HostClass, "host class" {
        Loopback => "loopback",
        Private => "private",
        LinkLocal => "link_local",
        Metadata => "metadata",
        Public => "public",
        // A single-label name (`metadata`, `db`): it resolves through
        // `/etc/hosts` or a search domain, inside the network.
        Internal => "internal",
    }
);

vocab_enum!(
    /// The kind of a target.
    TargetKind, "target kind" {
        Path => "path",
        Url => "url",
        Host => "host",
        Command => "command",
        Repo => "repo",
        Bucket => "bucket",
        Table => "table",
        Queue => "queue",
        Topic => "topic",
        Other => "other",
    }
);

vocab_enum!(
    /// Where an argument's value came from.
    ProvenanceSource, "provenance source" {
        User => "user",
        ToolOutput => "tool_output",
        External => "external",
        System => "system",
    }
);

impl TargetKind {
    /// Whether a target of this kind may have `class`: a path is a file
    /// (`fs.*`), a URL or host the network (`net.*`), either may also be a
    /// UI action's (`ui.*`: a page navigated to, a file uploaded); a
    /// command runs (`proc.exec`); the other kinds name neither a file nor
    /// a host, so not `fs.*` or `net.*` (a path or host rule could never
    /// see them).
    pub fn takes(self, class: EndpointClass) -> bool {
        let ui = class.family() == Some("ui");
        match self {
            TargetKind::Path => ui || class.family() == Some("fs"),
            TargetKind::Url | TargetKind::Host => ui || class.family() == Some("net"),
            TargetKind::Command => class == EndpointClass::ProcExec,
            _ => !matches!(class.family(), Some("fs" | "net")),
        }
    }
}

/// Fields a `fail_closed { require ... }` line may name.
pub const FAIL_CLOSED_FIELDS: &[&str] = &[
    "targets",
    "arg_provenance",
    "endpoint_class",
    "skill_provenance",
    "identity",
];

/// The reason code and the violation of each of [`FAIL_CLOSED_FIELDS`]
/// when an intent lacks it (`fail_closed_missing_<field>`,
/// `missing_<field>`), in the same order.
pub const FAIL_CLOSED_CODES: &[(&str, &str)] = &[
    ("fail_closed_missing_targets", "missing_targets"),
    (
        "fail_closed_missing_arg_provenance",
        "missing_arg_provenance",
    ),
    (
        "fail_closed_missing_endpoint_class",
        "missing_endpoint_class",
    ),
    (
        "fail_closed_missing_skill_provenance",
        "missing_skill_provenance",
    ),
    ("fail_closed_missing_identity", "missing_identity"),
];

/// Risk classes that fail closed when a policy has no `fail_closed` item.
pub const DEFAULT_FAIL_CLOSED_RISK: &[Risk] = &[Risk::High, Risk::Critical];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_fail_closed_field_has_its_codes() {
        assert_eq!(FAIL_CLOSED_CODES.len(), FAIL_CLOSED_FIELDS.len());
        for (field, (reason, violation)) in FAIL_CLOSED_FIELDS.iter().zip(FAIL_CLOSED_CODES) {
            assert_eq!(*reason, format!("fail_closed_missing_{field}"));
            assert_eq!(*violation, format!("missing_{field}"));
        }
    }

    /// `parse_lowercased` against its definition: Unicode lower-casing,
    /// then the exact spelling.
    fn agrees_with_lowercasing(s: &str) -> Result<(), proptest::test_runner::TestCaseError> {
        let lower = s.to_lowercase();
        proptest::prop_assert_eq!(Risk::parse_lowercased(s), Risk::parse(&lower));
        proptest::prop_assert_eq!(
            ProvenanceSource::parse_lowercased(s),
            ProvenanceSource::parse(&lower)
        );
        proptest::prop_assert_eq!(TargetKind::parse_lowercased(s), TargetKind::parse(&lower));
        proptest::prop_assert_eq!(
            EndpointClass::parse_lowercased(s),
            EndpointClass::parse(&lower)
        );
        Ok(())
    }

    proptest::proptest! {
        /// Every spelling in any case, and look-alikes: `K` is the Kelvin
        /// sign (its lower case is an ASCII `k`), `İ` lower-cases to two
        /// characters, `ſ` upper-cases to `S`.
        #[test]
        fn lowercased_parsing_is_parsing_the_lower_case(
            word in proptest::sample::select(
                Risk::ALL.iter().map(|v| v.as_str())
                    .chain(ProvenanceSource::ALL.iter().map(|v| v.as_str()))
                    .chain(TargetKind::ALL.iter().map(|v| v.as_str()))
                    .chain(EndpointClass::ALL.iter().map(|v| v.as_str()))
                    .collect::<Vec<_>>()
            ),
            flips in proptest::collection::vec(proptest::bool::ANY, 24),
            noise in "[a-zA-Z._\\u{212a}\\u{130}\\u{17f}]{0,3}",
        ) {
            let cased: String = word
                .chars()
                .zip(flips.iter().chain(std::iter::repeat(&false)))
                .map(|(c, &up)| if up { c.to_ascii_uppercase() } else { c })
                .collect();
            agrees_with_lowercasing(&cased)?;
            proptest::prop_assert!(Risk::parse_lowercased(&cased).is_some()
                || ProvenanceSource::parse_lowercased(&cased).is_some()
                || TargetKind::parse_lowercased(&cased).is_some()
                || EndpointClass::parse_lowercased(&cased).is_some());
            agrees_with_lowercasing(&format!("{cased}{noise}"))?;
            agrees_with_lowercasing(&cased.replace('k', "\u{212a}"))?;
        }
    }

    #[test]
    fn spellings_round_trip() {
        for v in Verdict::ALL {
            assert_eq!(Verdict::parse(v.as_str()), Some(*v));
        }
        for c in EndpointClass::ALL {
            assert_eq!(EndpointClass::parse(c.as_str()), Some(*c));
        }
        for h in HostClass::ALL {
            assert_eq!(HostClass::parse(h.as_str()), Some(*h));
        }
        assert_eq!(
            TargetKind::parse("Path"),
            None,
            "spellings are case-sensitive"
        );
    }

    #[test]
    fn verdict_order_is_restrictiveness() {
        assert!(Verdict::Allow < Verdict::DryRun);
        assert!(Verdict::DryRun < Verdict::RequireApproval);
        assert!(Verdict::RequireApproval < Verdict::Block);
    }

    #[test]
    fn family_wildcards_expand() {
        assert_eq!(
            EndpointClass::expand("fs.*"),
            Some(vec![
                EndpointClass::FsRead,
                EndpointClass::FsWrite,
                EndpointClass::FsDelete
            ])
        );
        assert_eq!(EndpointClass::expand("proc.*"), None);
        assert_eq!(
            EndpointClass::expand("other"),
            Some(vec![EndpointClass::Other])
        );
        for s in EndpointClass::SPELLINGS {
            assert!(EndpointClass::expand(s).is_some(), "{s}");
        }
    }
}
