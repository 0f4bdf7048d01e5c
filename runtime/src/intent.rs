//! The normalized intent: what evaluation sees. Every value here is already
//! normalized (runtime.md §3); evaluation compares nothing raw.

//!
//! Values borrow from the intent's text (or the arena its JSON was read
//! into) when normalizing leaves them as they were — the usual case — and
//! are owned when it changes them: `'a` is the text's lifetime
//! ([`Intent::into_owned`] detaches one).

use crate::vocab::{EndpointClass, HostClass, ProvenanceSource, Risk, TargetKind};
use smallvec::SmallVec;
use std::borrow::Cow;

/// An intent's targets, inline up to two (the common intent has one).
pub type Targets<'a> = SmallVec<[Target<'a>; 2]>;

/// An intent's argument provenance sources, inline up to eight.
pub type Provenance = SmallVec<[ProvenanceSource; 8]>;

/// One target after normalization.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Target<'a> {
    pub kind: TargetKind,
    /// The normalized value (absolute path, canonical URL, command line, ...).
    pub value: Cow<'a, str>,
    pub operation: Option<Cow<'a, str>>,
    pub class: EndpointClass,
    pub destructive: bool,
    /// For `url`/`host` targets: the normalized host and its class.
    pub host: Option<(Cow<'a, str>, HostClass)>,
    /// For `command` and `proc.exec` targets: every program the command line runs.
    pub programs: Vec<String>,
}

/// Skill provenance after normalization (names compared case-insensitively).
/// Values borrow from the intent's text when normalizing leaves them as they
/// were.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Skill<'a> {
    /// Lower-cased.
    pub name: Cow<'a, str>,
    pub version: Option<Cow<'a, str>>,
    /// Lower-cased.
    pub publisher: Cow<'a, str>,
    /// Lower-cased.
    pub source: Cow<'a, str>,
    /// 64 lowercase hex digits (no `sha256:` prefix).
    pub digest: Option<Cow<'a, str>>,
    /// Lowercase hex key id of the signing key.
    pub key_id: Option<Cow<'a, str>>,
}

impl Skill<'_> {
    /// The same skill, owning its values.
    pub fn into_owned(self) -> Skill<'static> {
        Skill {
            name: owned(self.name),
            version: self.version.map(owned),
            publisher: owned(self.publisher),
            source: owned(self.source),
            digest: self.digest.map(owned),
            key_id: self.key_id.map(owned),
        }
    }
}

/// A normalized intent.
#[derive(Debug, Clone, PartialEq)]
pub struct Intent<'a> {
    /// Trimmed, lower-cased.
    pub tool: Cow<'a, str>,
    /// The risk class (missing or unknown is `critical`).
    pub risk: Risk,
    pub identity: Option<Cow<'a, str>>,
    /// Normalized absolute workspace path.
    pub workspace: Option<Cow<'a, str>>,
    pub targets: Targets<'a>,
    pub provenance: Provenance,
    pub skill: Option<Skill<'a>>,
    /// Every string in `args` (values and object keys), for `args contain`
    /// (empty when normalized for tables whose rules never test it).
    pub arg_strings: Vec<Cow<'a, str>>,
}

impl Default for Intent<'_> {
    /// An empty intent; its risk is `critical`, as for a missing risk class.
    fn default() -> Self {
        Intent {
            tool: Cow::Borrowed(""),
            risk: Risk::Critical,
            identity: None,
            workspace: None,
            targets: Targets::new(),
            provenance: Provenance::new(),
            skill: None,
            arg_strings: Vec::new(),
        }
    }
}

fn owned(c: Cow<'_, str>) -> Cow<'static, str> {
    Cow::Owned(c.into_owned())
}

impl Target<'_> {
    /// For `path` targets: the normalized absolute path (the value).
    pub fn path(&self) -> Option<&str> {
        (self.kind == TargetKind::Path).then_some(&*self.value)
    }

    /// The same target, owning its values.
    pub fn into_owned(self) -> Target<'static> {
        Target {
            kind: self.kind,
            value: owned(self.value),
            operation: self.operation.map(owned),
            class: self.class,
            destructive: self.destructive,
            host: self.host.map(|(h, c)| (owned(h), c)),
            programs: self.programs,
        }
    }
}

impl Intent<'_> {
    /// The same intent, owning its values (detached from the text).
    pub fn into_owned(self) -> Intent<'static> {
        Intent {
            tool: owned(self.tool),
            risk: self.risk,
            identity: self.identity.map(owned),
            workspace: self.workspace.map(owned),
            targets: self.targets.into_iter().map(Target::into_owned).collect(),
            provenance: self.provenance,
            skill: self.skill.map(Skill::into_owned),
            arg_strings: self.arg_strings.into_iter().map(owned).collect(),
        }
    }

    /// Values of the `path` attribute.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.targets.iter().filter_map(Target::path)
    }

    /// Values of the `domain` attribute.
    pub fn domains(&self) -> impl Iterator<Item = &str> {
        self.targets
            .iter()
            .filter_map(|t| t.host.as_ref().map(|h| &*h.0))
    }

    /// Values of the `host_class` attribute.
    pub fn host_classes(&self) -> impl Iterator<Item = HostClass> + '_ {
        self.targets
            .iter()
            .filter_map(|t| t.host.as_ref().map(|h| h.1))
    }

    /// Values of the `command` attribute.
    pub fn commands(&self) -> impl Iterator<Item = &str> {
        self.targets
            .iter()
            .flat_map(|t| t.programs.iter().map(String::as_str))
    }

    pub fn destructive(&self) -> bool {
        self.targets.iter().any(|t| t.destructive)
    }
}
