//! The checked policy: names resolved, sets flattened and canonicalized,
//! conditions typed. This is what the reference evaluator and the table
//! lowering consume; it no longer refers to source syntax except for spans
//! kept for diagnostics.

use super::attrs::{Attr, EnumKind, Flag, SetType};
use super::literals::{self, LitError};
use crate::span::{FileId, Span};
use crate::syntax::ast::Quant;
use gait_run::vocab::{EndpointClass, Risk, TargetKind, Verdict};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Policy {
    pub name: String,
    pub version: String,
    pub revision: u32,
    pub default: Verdict,
    pub fail_closed: FailClosedSpec,
    pub mappings: Vec<ToolMapping>,
    pub trust: Vec<Trust>,
    /// Declared approvers (`trust approver`), in declaration order.
    pub approvers: Vec<Approver>,
    /// The longest validity an approval token may claim (`approval_ttl`, or
    /// the default), in seconds.
    pub approval_ttl_secs: u32,
    pub pins: Vec<Pin>,
    pub rules: Vec<Rule>,
    pub tests: Vec<TestCase>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FailClosedSpec {
    /// Whether the policy wrote a `fail_closed` item.
    pub explicit: bool,
    pub risk: Vec<Risk>,
    /// Required fields, canonical names from `gait_run::vocab::FAIL_CLOSED_FIELDS`.
    pub require: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ToolMapping {
    /// Lower-cased tool globs.
    pub tools: Vec<String>,
    pub entries: Vec<MappingEntry>,
    #[serde(skip)]
    pub origin: Origin,
}

#[derive(Debug, Clone, Serialize)]
pub struct MappingEntry {
    pub kind: TargetKind,
    pub path: Vec<PathStep>,
    pub class: EndpointClass,
}

/// One step of an argument path after `args`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PathStep {
    Key(String),
    Each,
}

#[derive(Debug, Clone, Serialize)]
pub struct Trust {
    /// Lower-cased publisher name.
    pub publisher: String,
    pub keys: Vec<TrustKey>,
}

/// A trusted Ed25519 public key, decoded once by the checker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustKey {
    pub bytes: [u8; 32],
    /// The key id (hex SHA-256 of the key), as signatures name their key.
    pub id: String,
    /// The base64 text as written after `ed25519:` (what a bundle carries).
    pub base64: String,
}

impl TrustKey {
    /// Reads `ed25519:BASE64` (a 32-byte key in standard base64).
    pub fn parse(text: &str) -> Result<TrustKey, LitError> {
        let bytes = literals::key(text)?;
        Ok(TrustKey {
            bytes,
            id: gait_run::keys::key_id(&bytes),
            base64: text.strip_prefix("ed25519:").unwrap_or(text).to_owned(),
        })
    }
}

/// As written: `ed25519:BASE64`.
impl Serialize for TrustKey {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format!("ed25519:{}", self.base64))
    }
}

/// A declared approver and the keys its approval tokens may be signed with.
#[derive(Debug, Clone, Serialize)]
pub struct Approver {
    /// As written (approver names are case-sensitive).
    pub name: String,
    pub keys: Vec<TrustKey>,
    #[serde(skip)]
    pub origin: Origin,
}

#[derive(Debug, Clone, Serialize)]
pub struct Pin {
    /// Lower-cased skill name.
    pub skill: String,
    pub version: String,
    /// As written: `sha256:` and 64 lowercase hex digits.
    pub digest: String,
}

impl Pin {
    /// The digest's 64 hex digits (without `sha256:`), as skills report theirs.
    pub fn digest_hex(&self) -> &str {
        self.digest.strip_prefix("sha256:").unwrap_or(&self.digest)
    }

    /// `(skill, version, digest hex)`: a row of a bundle's (or a trust store's) pin table.
    pub fn row(&self) -> (String, String, String) {
        (
            self.skill.clone(),
            self.version.clone(),
            self.digest_hex().to_owned(),
        )
    }
}

/// Where a construct was written.
#[derive(Debug, Clone, Copy, Default)]
pub struct Origin {
    pub file: FileId,
    pub span: Span,
}

#[derive(Debug, Clone, Serialize)]
pub struct Rule {
    pub name: String,
    /// Where the name is written (what rule diagnostics point at).
    #[serde(skip)]
    pub name_span: Span,
    pub priority: u32,
    pub verdict: Verdict,
    pub reasons: Vec<String>,
    pub violations: Vec<String>,
    pub explain: Option<String>,
    /// Required approvals (only on `require_approval` rules).
    pub approvals: Option<u32>,
    /// The approvers allowed to approve, sorted and de-duplicated (`approvals
    /// N from SET`); `None`: any declared approver.
    pub approvers: Option<Vec<String>>,
    /// Whether the rule may be approved interactively (MCP elicitation).
    pub interactive: bool,
    /// `None`: no `when` — the rule always matches.
    pub cond: Option<Cond>,
    #[serde(skip)]
    pub origin: Origin,
}

/// A typed condition.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Cond {
    And(Vec<Cond>),
    Or(Vec<Cond>),
    Not(Box<Cond>),
    Atom(Atom),
}

/// A typed atom. `in`/`not in`/`==`/`!=` are all reduced to membership with a
/// `negated` flag (`!=` is `not in [v]`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Atom {
    /// A single-valued attribute in (or not in) a set.
    Scalar {
        attr: Attr,
        negated: bool,
        values: Values,
    },
    /// A multi-valued attribute: `any`/`all` of its values in (or not in) a set.
    Multi {
        attr: Attr,
        quant: Quant,
        negated: bool,
        values: Values,
    },
    Flag(Flag),
    /// Some string in `args` contains one of the markers.
    ArgsContain(Vec<String>),
}

/// The right-hand side of a membership test.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Values {
    /// Canonical patterns or names of a set type.
    Patterns { ty: SetType, items: Vec<String> },
    /// Enum values as a bit mask over `EnumKind` value indices.
    Enum { kind: EnumKind, mask: u32 },
}

impl Values {
    pub fn is_empty(&self) -> bool {
        match self {
            Values::Patterns { items, .. } => items.is_empty(),
            Values::Enum { mask, .. } => *mask == 0,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct TestCase {
    pub name: String,
    pub intent: TestIntent,
    pub expect: Expectation,
    #[serde(skip)]
    pub origin: Origin,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TestIntent {
    /// An inline intent, already as Gait `IntentRequest` JSON.
    Inline(serde_json::Value),
    /// `intent file "..."`, resolved relative to the policy file.
    File(String),
}

#[derive(Debug, Clone, Serialize)]
pub struct Expectation {
    pub verdict: Verdict,
    pub reasons: Vec<String>,
    pub violations: Vec<String>,
    pub rule: Option<String>,
}
