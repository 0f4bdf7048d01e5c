//! Decision tables: the bundle payload, and evaluation with them.
//!
//! # Model
//!
//! A rule's condition is kept as a small tree of nodes over *atoms*; an atom
//! tests one attribute against a *value set*. Values are matched per
//! attribute by one multi-pattern DFA holding every pattern of that attribute
//! (`regex-automata`, serialized in the payload and used as loaded): one pass
//! over a value yields the ids of every pattern it matches, whatever the
//! number of rules. Value-set membership is then a binary search of those few
//! pattern ids in the set's sorted pattern list.
//!
//! To keep a decision's cost independent of the rule count, each rule has
//! compile-time *anchors*: positive facts of which at least one must hold for
//! the rule to match (e.g. `tool == "x"` anchors on pattern `x` of the tool
//! DFA). Posting lists map each pattern, enum value, flag and marker to the
//! rules anchored on it. A decision collects the candidate rules from the
//! postings of what actually matched (plus the few rules without anchors),
//! evaluates only those, in tier order, and stops after the deciding tier.
//!
//! # Format (`gait.tables/5`)
//!
//! `"GTBL"`, `u32` version, then sections `[u32 tag][u32 length][bytes]`, each
//! 8-byte aligned. Numbers are `u32` arrays packed column by column, each
//! column in the fewest little-endian bytes its values need; strings are a
//! blob with offsets; DFAs are `regex-automata`'s little-endian serialization,
//! dense for small automata and sparse for large ones (a flag per DFA).
//! Every index is validated on load, so evaluation never reads out of bounds.

mod decide;
mod explain;
mod format;
mod load;
mod matching;
mod records;
mod strings;

pub use decide::path_key;
pub use explain::ExplainedRule;
pub use records::{ApprovalTerms, ApproverRecord, RuleRecord};
pub use strings::Strings;

use crate::decision::SkillFacts;
use crate::intent::Intent;
use crate::vocab::{EndpointClass, Risk, TargetKind, Verdict};
use matching::Matcher;

pub const FORMAT: &str = "gait.tables/5";
const MAGIC: &[u8; 4] = b"GTBL";
const VERSION: u32 = 1;

/// Matchers, by index.
pub mod matcher {
    pub const TOOL: usize = 0;
    pub const IDENTITY: usize = 1;
    pub const WORKSPACE: usize = 2;
    pub const SKILL_NAME: usize = 3;
    pub const SKILL_PUBLISHER: usize = 4;
    pub const SKILL_SOURCE: usize = 5;
    pub const PATH: usize = 6;
    pub const DOMAIN: usize = 7;
    pub const COMMAND: usize = 8;
    /// Unanchored multi-literal search over `args` strings.
    pub const MARKERS: usize = 9;
    /// Tool-name globs of the tool mappings (postings are mapping ids).
    pub const MAPPING_TOOLS: usize = 10;
    pub const COUNT: usize = 11;
    /// What each matcher matches, by index (explain texts, `gaitc inspect`).
    pub const NAMES: [&str; COUNT] = [
        "tool",
        "identity",
        "workspace",
        "skill.name",
        "skill.publisher",
        "skill.source",
        "path",
        "domain",
        "command",
        "args contain",
        "tool mapping",
    ];
}

/// Enum attributes, by index, with their base in the enum postings.
pub mod enums {
    pub const RISK: usize = 0;
    pub const ENDPOINT: usize = 1;
    pub const HOST_CLASS: usize = 2;
    pub const TARGET: usize = 3;
    pub const PROVENANCE: usize = 4;
    pub const COUNT: usize = 5;
    /// Number of values of each enum attribute.
    pub const SIZES: [usize; COUNT] = [
        crate::vocab::Risk::ALL.len(),
        crate::vocab::EndpointClass::ALL.len(),
        crate::vocab::HostClass::ALL.len(),
        crate::vocab::TargetKind::ALL.len(),
        crate::vocab::ProvenanceSource::ALL.len(),
    ];

    pub fn base(e: usize) -> usize {
        SIZES[..e].iter().sum()
    }

    pub fn total() -> usize {
        SIZES.iter().sum()
    }
}

/// Flags, by index.
pub mod flags {
    pub const DESTRUCTIVE: u32 = 0;
    pub const SKILL: u32 = 1;
    pub const SIGNED: u32 = 2;
    pub const PINNED: u32 = 3;
    pub const VERIFIED: u32 = 4;
    pub const COUNT: usize = 5;
}

/// Node kinds (`nodes` records are `[kind, a, b]`).
pub mod node {
    /// `a`, `b`: start and length of the children in `lists`.
    pub const AND: u32 = 0;
    pub const OR: u32 = 1;
    /// `a`: child node.
    pub const NOT: u32 = 2;
    /// `a`: atom id.
    pub const ATOM: u32 = 3;
    pub const STRIDE: usize = 3;
}

/// Atom kinds (`atoms` records are `[kind, attr, quant, negated, a]`).
pub mod atom {
    /// `attr`: a matcher index; `a`: value set. Scalar attribute.
    pub const SCALAR_SET: u32 = 0;
    /// `attr`: a matcher index; `quant`: 0 any / 1 all; `a`: value set.
    pub const MULTI_SET: u32 = 1;
    /// `attr`: an enum index (risk); `a`: bit mask.
    pub const SCALAR_ENUM: u32 = 2;
    /// `attr`: an enum index; `quant`; `a`: bit mask.
    pub const MULTI_ENUM: u32 = 3;
    /// `a`: flag index.
    pub const FLAG: u32 = 4;
    /// `a`: value set over the marker patterns.
    pub const ARGS_CONTAIN: u32 = 5;
    pub const STRIDE: usize = 5;
}

/// Rule records: `[priority, verdict, approvals(0 = none), name, reasons_start,
/// reasons_len, violations_start, violations_len, explain(NONE), root(NONE)]`.
pub const RULE_STRIDE: usize = 10;
/// "No value" in a `u32` field.
pub const NONE: u32 = u32::MAX;

/// The payload before encoding / after decoding: plain arrays. The default
/// is an empty policy (default verdict `allow`, no rules) with the default
/// approval TTL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableData {
    /// Default verdict (index in `Verdict::ALL`).
    pub default_verdict: u32,
    /// Fail-closed risk classes (bit per `Risk::ALL` index).
    pub fail_closed_risk: u32,
    /// Fail-closed required fields (bit per `vocab::FAIL_CLOSED_FIELDS` index).
    pub fail_closed_require: u32,
    /// Every string the other tables name by id.
    pub strings: Strings,
    /// Shared pool of `u32` lists referenced by `(start, len)`.
    pub lists: Vec<u32>,
    /// Rules in evaluation order (priority, then source order).
    pub rules: Vec<u32>,
    pub nodes: Vec<u32>,
    pub atoms: Vec<u32>,
    /// `(start, len)` of each value set's sorted pattern ids in `lists`.
    pub valuesets: Vec<u32>,
    pub matchers: Vec<MatcherData>,
    /// `(start, len)` of rule postings per enum value (see [`enums::base`]).
    pub enum_postings: Vec<u32>,
    /// `(start, len)` of rule postings per flag.
    pub flag_postings: Vec<u32>,
    /// Rules that have no anchor: always candidates.
    pub unanchored: Vec<u32>,
    /// Tool mappings: `(entries_start, entries_len)` into `mapping_entries`.
    pub mappings: Vec<u32>,
    /// `[target kind, endpoint class, steps_start, steps_len]`; a step is a
    /// string id (object key) or `NONE` (every element).
    pub mapping_entries: Vec<u32>,
    /// `[publisher, key id, public key (base64)]` string ids, sorted.
    pub trust: Vec<u32>,
    /// `[skill name, version, digest hex]` string ids, sorted.
    pub pins: Vec<u32>,
    /// The longest validity an approval token may claim, in seconds
    /// (`approval_ttl`; the compiler writes the default when none is given).
    pub approval_ttl_secs: u32,
    /// `[approver, key id, public key (base64)]` string ids, sorted by
    /// approver name, then key id (`trust approver`).
    pub approvers: Vec<u32>,
    /// One record per `require_approval` rule: `[rule name, set_start,
    /// set_len, flags]`, sorted by the rule name's text. `set_start` is
    /// [`NONE`] when any declared approver may approve; otherwise the
    /// allowed approvers' name string ids, sorted by text, are
    /// `lists[set_start..set_start + set_len]`. Flags: bit 0, interactive
    /// approval (MCP elicitation) is allowed for the rule.
    pub approval_rules: Vec<u32>,
}

impl Default for TableData {
    fn default() -> TableData {
        TableData {
            default_verdict: 0,
            fail_closed_risk: 0,
            fail_closed_require: 0,
            strings: Strings::default(),
            lists: Vec::new(),
            rules: Vec::new(),
            nodes: Vec::new(),
            atoms: Vec::new(),
            valuesets: Vec::new(),
            matchers: Vec::new(),
            enum_postings: Vec::new(),
            flag_postings: Vec::new(),
            unanchored: Vec::new(),
            mappings: Vec::new(),
            mapping_entries: Vec::new(),
            trust: Vec::new(),
            pins: Vec::new(),
            approval_ttl_secs: DEFAULT_APPROVAL_TTL_SECS,
            approvers: Vec::new(),
            approval_rules: Vec::new(),
        }
    }
}

/// Flags of a [`TableData::approval_rules`] record.
pub mod approval_flag {
    /// The rule may be approved interactively (MCP elicitation).
    pub const INTERACTIVE: u32 = 1;
}

/// The hard cap of `approval_ttl` (24 hours), in seconds.
pub const MAX_APPROVAL_TTL_SECS: u32 = 24 * 60 * 60;
/// `approval_ttl` when the policy sets none (15 minutes), in seconds.
pub const DEFAULT_APPROVAL_TTL_SECS: u32 = 15 * 60;

/// One attribute's matcher. Literal patterns are looked up in hash tables
/// built at compile time; the others are spread over a few DFAs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MatcherData {
    pub patterns: u32,
    /// Values equal to the key.
    pub exact: HashTable,
    /// Paths equal to the key or below it (`/key/**`); the key `""` matches every path.
    pub prefix: HashTable,
    /// Hosts strictly below the key (`*.key`).
    pub suffix: HashTable,
    pub dfas: Vec<DfaData>,
    /// `(start, len)` of rule postings (or mapping ids) per pattern.
    pub postings: Vec<u32>,
    /// The source text of each pattern (string ids), for explanations.
    pub sources: Vec<u32>,
}

/// An open-addressing hash table (FNV-1a, linear probing) from string keys to
/// pattern ids, built at compile time and used as loaded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HashTable {
    /// A power-of-two number of slots, each an entry index or `NONE`.
    pub slots: Vec<u32>,
    /// `[key string id, pattern id]` pairs.
    pub entries: Vec<u32>,
}

/// FNV-1a, 64 bits: the hash of [`HashTable`] keys (part of the format).
pub fn fnv1a(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .fold(0xcbf2_9ce4_8422_2325, |h, &b| fnv1a_step(h, b))
}

/// One byte of FNV-1a: `fnv1a(k + [b]) == fnv1a_step(fnv1a(k), b)`, so the
/// hashes of a value's prefixes are one running hash.
pub fn fnv1a_step(h: u64, b: u8) -> u64 {
    (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
}

impl HashTable {
    /// Builds a table for `(key, key string id, pattern id)` entries (keys may repeat).
    pub fn build(entries: &[(&str, u32, u32)]) -> HashTable {
        if entries.is_empty() {
            return HashTable::default();
        }
        let size = (entries.len() * 2).next_power_of_two();
        let mut slots = vec![NONE; size];
        let mut flat = Vec::with_capacity(entries.len() * 2);
        for (i, (key, sid, pid)) in entries.iter().enumerate() {
            flat.extend([*sid, *pid]);
            let mut h = fnv1a(key.as_bytes()) as usize & (size - 1);
            while slots[h] != NONE {
                h = (h + 1) & (size - 1);
            }
            slots[h] = i as u32;
        }
        HashTable {
            slots,
            entries: flat,
        }
    }
}

/// One DFA of a matcher. A value matches pattern `ids[k]` exactly when the
/// DFA reports a match of its pattern `k` at some point of a scan over the
/// value (patterns are written so that a match event means "the whole value
/// matches"; the DFA never has to remember earlier matches, which keeps it
/// small under "all matches" semantics).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DfaData {
    /// Anchored at the start of the value (else an unanchored search).
    pub anchored: bool,
    /// Stored as a sparse DFA (else dense).
    pub sparse: bool,
    /// `k > 0`: run (anchored) over the value's last `k` segments only,
    /// from its `k`-th last `/` (a value with fewer never matches); `0`: over
    /// the whole value.
    pub segments: u32,
    /// Global pattern id of each of the DFA's patterns.
    pub ids: Vec<u32>,
    /// `regex-automata` dense or sparse DFA, little-endian serialization.
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableError(pub String);

impl std::fmt::Display for TableError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

fn bad(msg: impl Into<String>) -> TableError {
    TableError(msg.into())
}

/// One entry of a tool mapping: where in `args` to find a target, of which
/// kind and class.
#[derive(Debug, Clone, Copy)]
pub struct MappingEntry<'a> {
    pub kind: TargetKind,
    pub class: EndpointClass,
    pub steps: Steps<'a>,
}

/// The steps of an argument path, read from the tables without copying: a
/// step is an object key, or `None` for every element (`[*]`).
#[derive(Debug, Clone, Copy)]
pub struct Steps<'a> {
    ids: &'a [u32],
    tables: &'a Tables,
}

impl<'a> Steps<'a> {
    /// The first step and the rest.
    pub fn split_first(self) -> Option<(Option<&'a str>, Steps<'a>)> {
        let (&first, rest) = self.ids.split_first()?;
        let step = (first != NONE).then(|| self.tables.s(first));
        Some((
            step,
            Steps {
                ids: rest,
                tables: self.tables,
            },
        ))
    }

    /// Every step, in order.
    pub fn iter(self) -> impl Iterator<Item = Option<&'a str>> {
        let tables = self.tables;
        self.ids
            .iter()
            .map(move |&s| (s != NONE).then(|| tables.s(s)))
    }
}

/// Loaded, validated decision tables.
pub struct Tables {
    data: TableData,
    matchers: Vec<Matcher>,
    default_verdict: Verdict,
    fail_closed_risk: Vec<Risk>,
    fail_closed_require: Vec<&'static str>,
    /// The approvers' public keys, decoded at load, in `data.approvers`
    /// order (a token check verifies against them without decoding).
    approver_public_keys: Vec<crate::keys::PublicKey>,
}

impl std::fmt::Debug for Tables {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tables")
            .field("rules", &self.rule_count())
            .finish_non_exhaustive()
    }
}

/// Reusable buffers, so that a warm evaluator allocates nothing per decision
/// beyond the result.
#[derive(Debug, Default)]
pub struct Scratch {
    pids: Vec<u32>,
    /// Per matcher: `(start, len)` in `pids` for each value, in value order.
    spans: Vec<Vec<(u32, u32)>>,
    markers: Vec<u32>,
    cands: Vec<u32>,
    /// The rules that matched, in tier order.
    matched: Vec<u32>,
    /// The arena the gate reads an intent's JSON into; reset after each
    /// decision ([`Scratch::take_arena`], [`Scratch::return_arena`]).
    arena: bumpalo::Bump,
    /// Normalization's buffers (the canonical texts, the mapping ids).
    pub(crate) normalize: crate::canonical::NormalizeBuffers,
}

/// An arena that grew past this (a large intent) is dropped after its
/// decision rather than kept: a long-lived evaluator holds at most this
/// much for intent text between decisions.
const ARENA_KEEP_BYTES: usize = 256 * 1024;

impl Scratch {
    /// The intent arena, taken out for one decision (the scratch is lent to
    /// the tables while the intent tree borrows the arena). A scratch
    /// without one gets an empty arena, which allocates nothing until used.
    pub fn take_arena(&mut self) -> bumpalo::Bump {
        std::mem::take(&mut self.arena)
    }

    /// Gives the arena back after the decision (after a panic too),
    /// emptied; kept for the next decision unless it grew past
    /// [`ARENA_KEEP_BYTES`]. Normalization's buffers are trimmed the same
    /// way ([`NormalizeBuffers::trim`]).
    ///
    /// [`NormalizeBuffers::trim`]: crate::canonical::NormalizeBuffers::trim
    pub fn return_arena(&mut self, mut arena: bumpalo::Bump) {
        arena.reset();
        if arena.allocated_bytes() <= ARENA_KEEP_BYTES {
            self.arena = arena;
        }
        self.normalize.trim();
    }
}

struct Ctx<'a, 'i> {
    intent: &'a Intent<'i>,
    facts: SkillFacts,
    scratch: &'a Scratch,
}

impl Tables {
    /// Whether any rule tests `args contain` (only then does a decision
    /// read [`Intent::arg_strings`]).
    pub fn uses_arg_strings(&self) -> bool {
        self.matchers[matcher::MARKERS].patterns > 0
    }

    pub fn rule_count(&self) -> usize {
        self.data.rules.len() / RULE_STRIDE
    }

    pub fn default_verdict(&self) -> Verdict {
        self.default_verdict
    }

    fn s(&self, id: u32) -> &str {
        self.data.text(id)
    }

    fn list(&self, start: u32, len: u32) -> &[u32] {
        self.data.list(start, len)
    }

    fn rule(&self, id: u32) -> &[u32] {
        let i = id as usize * RULE_STRIDE;
        self.data
            .rules
            .get(i..i + RULE_STRIDE)
            .unwrap_or(&[0; RULE_STRIDE])
    }

    /// The name of rule `id` (rules are numbered in evaluation order).
    pub fn rule_name(&self, id: u32) -> &str {
        self.s(self.rule(id)[3])
    }

    /// The trust table: `(publisher, key id, public key base64)`.
    pub fn trusted_keys(&self) -> impl Iterator<Item = (&str, &str, &str)> {
        self.data
            .trust
            .chunks_exact(3)
            .map(|t| (self.s(t[0]), self.s(t[1]), self.s(t[2])))
    }

    /// The pin table: `(skill name, version, digest hex)`.
    pub fn pins(&self) -> impl Iterator<Item = (&str, &str, &str)> {
        self.data
            .pins
            .chunks_exact(3)
            .map(|p| (self.s(p[0]), self.s(p[1]), self.s(p[2])))
    }

    /// The longest validity an approval token may claim, in seconds.
    pub fn approval_ttl_secs(&self) -> u32 {
        self.data.approval_ttl_secs
    }

    /// The approver table: `(approver, key id, public key base64)`, sorted
    /// by approver, then key id ([`TableData::approver_records`]).
    pub fn approver_keys(&self) -> impl Iterator<Item = (&str, &str, &str)> {
        self.data
            .approver_records()
            .map(|a| (a.name, a.key_id, a.public_key))
    }

    /// The decoded public key `key_id` of approver `name`, if the policy
    /// declares it.
    pub fn approver_public_key(&self, name: &str, key_id: &str) -> Option<&crate::keys::PublicKey> {
        let recs = &self.data.approvers;
        let n = recs.len() / 3;
        let i = partition_point(n, |i| {
            (self.s(recs[i * 3]), self.s(recs[i * 3 + 1])) < (name, key_id)
        });
        let r = recs.get(i * 3..i * 3 + 3)?;
        (self.s(r[0]) == name && self.s(r[1]) == key_id)
            .then(|| self.approver_public_keys.get(i))
            .flatten()
    }

    /// The approval terms of a `require_approval` rule, by name: `None` for
    /// a name that is not a `require_approval` rule of the policy.
    pub fn approval_rule(&self, rule: &str) -> Option<ApprovalRule<'_>> {
        let recs = &self.data.approval_rules;
        let n = recs.len() / 4;
        let i = partition_point(n, |i| self.s(recs[i * 4]) < rule);
        let r = recs.get(i * 4..i * 4 + 4)?;
        let name = self.s(r[0]);
        (name == rule).then(|| ApprovalRule {
            name,
            approvers: (r[1] != NONE).then(|| ApproverSet {
                tables: self,
                ids: self.list(r[1], r[2]),
            }),
            interactive: r[3] & approval_flag::INTERACTIVE != 0,
        })
    }
}

/// The approval terms of one `require_approval` rule.
#[derive(Clone, Copy)]
pub struct ApprovalRule<'a> {
    /// The rule's name (the bundle's text).
    pub name: &'a str,
    /// The approvers allowed to approve it; `None`: any declared approver.
    pub approvers: Option<ApproverSet<'a>>,
    /// Whether it may be approved interactively (MCP elicitation).
    pub interactive: bool,
}

/// A set of approver names, sorted by text.
#[derive(Clone, Copy)]
pub struct ApproverSet<'a> {
    tables: &'a Tables,
    ids: &'a [u32],
}

impl<'a> ApproverSet<'a> {
    /// The approvers' names, sorted.
    pub fn names(&self) -> impl Iterator<Item = &'a str> + 'a {
        let t = self.tables;
        self.ids.iter().map(move |&s| t.s(s))
    }

    pub fn contains(&self, name: &str) -> bool {
        let t = self.tables;
        self.ids.binary_search_by(|&s| t.s(s).cmp(name)).is_ok()
    }
}

/// The first index in `0..n` for which `before` is false (`before` holds
/// for a prefix of the range).
fn partition_point(n: usize, before: impl Fn(usize) -> bool) -> usize {
    let (mut lo, mut hi) = (0, n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if before(mid) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    lo
}
