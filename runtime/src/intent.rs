//! The normalized intent: what evaluation sees. Every value here is already
//! normalized (runtime.md §3); evaluation compares nothing raw.

use crate::vocab::{EndpointClass, HostClass, ProvenanceSource, Risk, TargetKind};

/// One target after normalization.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Target {
    pub kind: TargetKind,
    /// The normalized value (absolute path, canonical URL, command line, ...).
    pub value: String,
    pub operation: Option<String>,
    pub class: EndpointClass,
    pub destructive: bool,
    /// For `path` targets: the normalized absolute path.
    pub path: Option<String>,
    /// For `url`/`host` targets: the normalized host and its class.
    pub host: Option<(String, HostClass)>,
    /// For `command` and `proc.exec` targets: every program the command line runs.
    pub programs: Vec<String>,
}

/// Skill provenance after normalization (names compared case-insensitively).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Skill {
    /// Lower-cased.
    pub name: String,
    pub version: Option<String>,
    /// Lower-cased.
    pub publisher: String,
    /// Lower-cased.
    pub source: String,
    /// 64 lowercase hex digits (no `sha256:` prefix).
    pub digest: Option<String>,
    /// Lowercase hex key id of the signing key.
    pub key_id: Option<String>,
}

/// A normalized intent.
#[derive(Debug, Clone, PartialEq)]
pub struct Intent {
    /// Trimmed, lower-cased.
    pub tool: String,
    /// The risk class (missing or unknown is `critical`).
    pub risk: Risk,
    pub identity: Option<String>,
    /// Normalized absolute workspace path.
    pub workspace: Option<String>,
    pub targets: Vec<Target>,
    pub provenance: Vec<ProvenanceSource>,
    pub skill: Option<Skill>,
    /// Every string in `args` (values and object keys), for `args contain`
    /// (empty when normalized for tables whose rules never test it).
    pub arg_strings: Vec<String>,
}

impl Default for Intent {
    /// An empty intent; its risk is `critical`, as for a missing risk class.
    fn default() -> Intent {
        Intent {
            tool: String::new(),
            risk: Risk::Critical,
            identity: None,
            workspace: None,
            targets: Vec::new(),
            provenance: Vec::new(),
            skill: None,
            arg_strings: Vec::new(),
        }
    }
}

impl Intent {
    /// Values of the `path` attribute.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.targets.iter().filter_map(|t| t.path.as_deref())
    }

    /// Values of the `domain` attribute.
    pub fn domains(&self) -> impl Iterator<Item = &str> {
        self.targets
            .iter()
            .filter_map(|t| t.host.as_ref().map(|h| h.0.as_str()))
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
