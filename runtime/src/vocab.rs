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

/// Fields a `fail_closed { require ... }` line may name.
pub const FAIL_CLOSED_FIELDS: &[&str] = &[
    "targets",
    "arg_provenance",
    "endpoint_class",
    "skill_provenance",
    "identity",
];

/// Risk classes that fail closed when a policy has no `fail_closed` item.
pub const DEFAULT_FAIL_CLOSED_RISK: &[Risk] = &[Risk::High, Risk::Critical];

#[cfg(test)]
mod tests {
    use super::*;

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
