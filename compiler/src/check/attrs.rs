//! The attribute table of language.md §4: which attributes exist, whether they
//! are single- or multi-valued, and which set type or enum they take.

use gait_run::vocab::{EndpointClass, HostClass, ProvenanceSource, Risk, TargetKind};
use serde::{Deserialize, Serialize};
use std::fmt;

/// The declared type of a `let` set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SetType {
    Tools,
    Paths,
    Domains,
    Commands,
    Identities,
    Publishers,
    Sources,
    Skills,
    Markers,
    /// Declared approvers' names (`approvals N from SET`); no attribute takes them.
    Approvers,
}

impl SetType {
    pub const ALL: &'static [SetType] = &[
        SetType::Tools,
        SetType::Paths,
        SetType::Domains,
        SetType::Commands,
        SetType::Identities,
        SetType::Publishers,
        SetType::Sources,
        SetType::Skills,
        SetType::Markers,
        SetType::Approvers,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SetType::Tools => "tools",
            SetType::Paths => "paths",
            SetType::Domains => "domains",
            SetType::Commands => "commands",
            SetType::Identities => "identities",
            SetType::Publishers => "publishers",
            SetType::Sources => "sources",
            SetType::Skills => "skills",
            SetType::Markers => "markers",
            SetType::Approvers => "approvers",
        }
    }

    pub fn parse(s: &str) -> Option<SetType> {
        SetType::ALL.iter().copied().find(|t| t.as_str() == s)
    }

    /// Whether elements compare case-insensitively (and are stored lower-cased).
    pub fn case_insensitive(self) -> bool {
        matches!(
            self,
            SetType::Tools
                | SetType::Publishers
                | SetType::Sources
                | SetType::Skills
                | SetType::Domains
        )
    }
}

impl fmt::Display for SetType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An enumerated attribute domain.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EnumKind {
    Risk,
    Endpoint,
    HostClass,
    TargetKind,
    Provenance,
}

impl EnumKind {
    /// Every spelling accepted in a policy (wildcards included for endpoints).
    pub fn spellings(self) -> Vec<&'static str> {
        match self {
            EnumKind::Risk => Risk::ALL.iter().map(|v| v.as_str()).collect(),
            EnumKind::Endpoint => EndpointClass::SPELLINGS.to_vec(),
            EnumKind::HostClass => HostClass::ALL.iter().map(|v| v.as_str()).collect(),
            EnumKind::TargetKind => TargetKind::ALL.iter().map(|v| v.as_str()).collect(),
            EnumKind::Provenance => ProvenanceSource::ALL.iter().map(|v| v.as_str()).collect(),
        }
    }

    /// Number of values (for bit masks).
    pub fn cardinality(self) -> usize {
        match self {
            EnumKind::Risk => Risk::ALL.len(),
            EnumKind::Endpoint => EndpointClass::ALL.len(),
            EnumKind::HostClass => HostClass::ALL.len(),
            EnumKind::TargetKind => TargetKind::ALL.len(),
            EnumKind::Provenance => ProvenanceSource::ALL.len(),
        }
    }

    /// Canonical name of value `i`.
    pub fn value_name(self, i: usize) -> &'static str {
        match self {
            EnumKind::Risk => Risk::ALL.get(i).map(|v| v.as_str()),
            EnumKind::Endpoint => EndpointClass::ALL.get(i).map(|v| v.as_str()),
            EnumKind::HostClass => HostClass::ALL.get(i).map(|v| v.as_str()),
            EnumKind::TargetKind => TargetKind::ALL.get(i).map(|v| v.as_str()),
            EnumKind::Provenance => ProvenanceSource::ALL.get(i).map(|v| v.as_str()),
        }
        .unwrap_or("?")
    }

    /// The value indices a spelling denotes (several for `fs.*`).
    pub fn parse(self, s: &str) -> Option<Vec<usize>> {
        match self {
            EnumKind::Risk => Risk::parse(s).map(|v| vec![v.index()]),
            EnumKind::Endpoint => {
                EndpointClass::expand(s).map(|v| v.into_iter().map(|c| c.index()).collect())
            }
            EnumKind::HostClass => HostClass::parse(s).map(|v| vec![v.index()]),
            EnumKind::TargetKind => TargetKind::parse(s).map(|v| vec![v.index()]),
            EnumKind::Provenance => ProvenanceSource::parse(s).map(|v| vec![v.index()]),
        }
    }

    pub fn what(self) -> &'static str {
        match self {
            EnumKind::Risk => "risk class",
            EnumKind::Endpoint => "endpoint class",
            EnumKind::HostClass => "host class",
            EnumKind::TargetKind => "target kind",
            EnumKind::Provenance => "provenance source",
        }
    }
}

/// What an attribute's values are compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AttrType {
    Set(SetType),
    Enum(EnumKind),
}

impl fmt::Display for AttrType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AttrType::Set(t) => write!(f, "a set of type `{t}`"),
            AttrType::Enum(k) => write!(f, "a list of {}es", k.what().trim_end_matches('s')),
        }
    }
}

/// Every attribute a condition can test.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Attr {
    #[serde(rename = "tool")]
    Tool,
    #[serde(rename = "risk")]
    Risk,
    #[serde(rename = "identity")]
    Identity,
    #[serde(rename = "workspace")]
    Workspace,
    #[serde(rename = "skill.name")]
    SkillName,
    #[serde(rename = "skill.publisher")]
    SkillPublisher,
    #[serde(rename = "skill.source")]
    SkillSource,
    #[serde(rename = "endpoint")]
    Endpoint,
    #[serde(rename = "path")]
    Path,
    #[serde(rename = "domain")]
    Domain,
    #[serde(rename = "host_class")]
    HostClass,
    #[serde(rename = "target")]
    Target,
    #[serde(rename = "command")]
    Command,
    #[serde(rename = "provenance")]
    Provenance,
}

pub struct AttrInfo {
    pub attr: Attr,
    pub name: &'static str,
    pub multi: bool,
    pub ty: AttrType,
    /// Whether values come one per target (for the quantifier-safety lints).
    pub per_target: bool,
    pub doc: &'static str,
}

pub const ATTRS: &[AttrInfo] = &[
    AttrInfo { attr: Attr::Tool, name: "tool", multi: false, ty: AttrType::Set(SetType::Tools), per_target: false, doc: "The normalized (trimmed, lower-cased) tool name. Tool globs: `*` matches any run of characters." },
    AttrInfo { attr: Attr::Risk, name: "risk", multi: false, ty: AttrType::Enum(EnumKind::Risk), per_target: false, doc: "The context risk class: low, medium, high or critical (missing or unknown is evaluated as critical)." },
    AttrInfo { attr: Attr::Identity, name: "identity", multi: false, ty: AttrType::Set(SetType::Identities), per_target: false, doc: "The context identity (exact match)." },
    AttrInfo { attr: Attr::Workspace, name: "workspace", multi: false, ty: AttrType::Set(SetType::Paths), per_target: false, doc: "The normalized context workspace, matched with path globs." },
    AttrInfo { attr: Attr::SkillName, name: "skill.name", multi: false, ty: AttrType::Set(SetType::Skills), per_target: false, doc: "The skill name from skill provenance (case-insensitive); false when the intent has no skill." },
    AttrInfo { attr: Attr::SkillPublisher, name: "skill.publisher", multi: false, ty: AttrType::Set(SetType::Publishers), per_target: false, doc: "The skill publisher (case-insensitive); false when the intent has no skill." },
    AttrInfo { attr: Attr::SkillSource, name: "skill.source", multi: false, ty: AttrType::Set(SetType::Sources), per_target: false, doc: "The skill source (case-insensitive); false when the intent has no skill." },
    AttrInfo { attr: Attr::Endpoint, name: "endpoint", multi: true, ty: AttrType::Enum(EnumKind::Endpoint), per_target: true, doc: "The endpoint class of each target: fs.read fs.write fs.delete proc.exec net.http net.dns ui.click ui.type ui.navigate other (wildcards fs.* net.* ui.*)." },
    AttrInfo { attr: Attr::Path, name: "path", multi: true, ty: AttrType::Set(SetType::Paths), per_target: true, doc: "The normalized absolute path of each path target." },
    AttrInfo { attr: Attr::Domain, name: "domain", multi: true, ty: AttrType::Set(SetType::Domains), per_target: true, doc: "The normalized host of each url/host target (lower-case, punycode, no trailing dot, canonical IP)." },
    AttrInfo { attr: Attr::HostClass, name: "host_class", multi: true, ty: AttrType::Enum(EnumKind::HostClass), per_target: true, doc: "The class of each url/host target's host: loopback private link_local metadata public internal (a single-label name)." },
    AttrInfo { attr: Attr::Target, name: "target", multi: true, ty: AttrType::Enum(EnumKind::TargetKind), per_target: true, doc: "The kind of each target: path url host command repo bucket table queue topic other." },
    AttrInfo { attr: Attr::Command, name: "command", multi: true, ty: AttrType::Set(SetType::Commands), per_target: true, doc: "Every program a command line runs (basenames; wrappers such as sudo/env/timeout skipped, `sh -c` followed)." },
    AttrInfo { attr: Attr::Provenance, name: "provenance", multi: true, ty: AttrType::Enum(EnumKind::Provenance), per_target: false, doc: "The source of each arg_provenance entry: user tool_output external system." },
];

pub fn attr_info(name: &str) -> Option<&'static AttrInfo> {
    ATTRS.iter().find(|a| a.name == name)
}

pub fn info(attr: Attr) -> &'static AttrInfo {
    // ATTRS lists every variant; the fallback is unreachable but keeps this total.
    ATTRS.iter().find(|a| a.attr == attr).unwrap_or(&ATTRS[0])
}

/// Boolean flags.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Flag {
    #[serde(rename = "destructive")]
    Destructive,
    #[serde(rename = "skill")]
    Skill,
    #[serde(rename = "skill.signed")]
    SkillSigned,
    #[serde(rename = "skill.pinned")]
    SkillPinned,
    #[serde(rename = "skill.verified")]
    SkillVerified,
}

pub const FLAGS: &[(&str, Flag, &str)] = &[
    ("destructive", Flag::Destructive, "Some target is destructive: class fs.delete or proc.exec, a delete-like operation, or explicit `destructive: true`."),
    ("skill", Flag::Skill, "The intent carries skill provenance."),
    ("skill.signed", Flag::SkillSigned, "The skill's signature key id is a key of that publisher trusted by the policy (`trust`)."),
    ("skill.pinned", Flag::SkillPinned, "A `pin` exists for the skill's (name, version) and equals its digest."),
    ("skill.verified", Flag::SkillVerified, "Both signed and pinned."),
];

pub fn flag(name: &str) -> Option<Flag> {
    FLAGS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(_, f, _)| *f)
}

impl Flag {
    pub fn as_str(self) -> &'static str {
        FLAGS
            .iter()
            .find(|(_, f, _)| *f == self)
            .map(|(n, _, _)| *n)
            .unwrap_or("?")
    }
}

impl Attr {
    pub fn as_str(self) -> &'static str {
        info(self).name
    }
}

/// Every name usable at the start of a condition atom (for suggestions).
pub fn condition_words() -> Vec<&'static str> {
    ATTRS
        .iter()
        .map(|a| a.name)
        .chain(FLAGS.iter().map(|(n, _, _)| *n))
        .collect()
}
