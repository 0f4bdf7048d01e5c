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
//! # Format (`gait.tables/2`)
//!
//! `"GTBL"`, `u32` version, then sections `[u32 tag][u32 length][bytes]`, each
//! 8-byte aligned. Numbers are little-endian `u32` arrays; strings are a blob
//! with offsets; DFAs are `regex-automata`'s little-endian serialization.
//! Every index is validated on load, so evaluation never reads out of bounds.

use crate::decision::{default_decision, fail_closed, reduce_tier, Decision, Matched, SkillFacts};
use crate::intent::Intent;
use crate::vocab::{EndpointClass, HostClass, ProvenanceSource, Risk, TargetKind, Verdict};
use regex_automata::dfa::dense::DFA;
use regex_automata::dfa::Automaton;
use regex_automata::util::primitives::StateID;
use regex_automata::util::start;
use regex_automata::Anchored;

pub const FORMAT: &str = "gait.tables/2";
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

/// The payload before encoding / after decoding: plain arrays.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TableData {
    /// Default verdict (index in `Verdict::ALL`).
    pub default_verdict: u32,
    /// Fail-closed risk classes (bit per `Risk::ALL` index).
    pub fail_closed_risk: u32,
    /// Fail-closed required fields (bit per `vocab::FAIL_CLOSED_FIELDS` index).
    pub fail_closed_require: u32,
    pub strings: Vec<String>,
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
}

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
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
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

    fn encode(&self, out: &mut Vec<u32>) {
        out.push(self.slots.len() as u32);
        out.extend(&self.slots);
        out.push((self.entries.len() / 2) as u32);
        out.extend(&self.entries);
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
    /// Global pattern id of each of the DFA's patterns.
    pub ids: Vec<u32>,
    /// `regex-automata` dense DFA, little-endian serialization.
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

// ------------------------------------------------------------------ encoding

mod tag {
    pub const META: u32 = 1;
    pub const STRINGS: u32 = 2;
    pub const LISTS: u32 = 3;
    pub const RULES: u32 = 4;
    pub const NODES: u32 = 5;
    pub const ATOMS: u32 = 6;
    pub const VALUESETS: u32 = 7;
    pub const ENUM_POSTINGS: u32 = 8;
    pub const FLAG_POSTINGS: u32 = 9;
    pub const UNANCHORED: u32 = 10;
    pub const MAPPINGS: u32 = 11;
    pub const MAPPING_ENTRIES: u32 = 12;
    pub const TRUST: u32 = 13;
    pub const PINS: u32 = 14;
    /// `MATCHER + i`: `[patterns, n_dfas, (anchored, n_ids, ids...)*, postings...]`.
    pub const MATCHER: u32 = 100;
    /// `MATCHER_DFA + i * DFAS_PER_MATCHER + k`: bytes of DFA `k` of matcher `i`.
    pub const MATCHER_DFA: u32 = 1000;
    pub const DFAS_PER_MATCHER: u32 = 64;
}

fn put_section(out: &mut Vec<u8>, tag: u32, bytes: &[u8]) {
    out.extend_from_slice(&tag.to_le_bytes());
    out.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
    out.extend_from_slice(bytes);
    while out.len() % 8 != 0 {
        out.push(0);
    }
}

fn u32_bytes(v: &[u32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

impl TableData {
    /// Encodes the payload. Deterministic: the same data gives the same bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        put_section(
            &mut out,
            tag::META,
            &u32_bytes(&[
                self.default_verdict,
                self.fail_closed_risk,
                self.fail_closed_require,
            ]),
        );
        let mut offsets = Vec::with_capacity(self.strings.len() + 1);
        let mut blob = Vec::new();
        offsets.push(0u32);
        for s in &self.strings {
            blob.extend_from_slice(s.as_bytes());
            offsets.push(blob.len() as u32);
        }
        let mut strings = u32_bytes(&[self.strings.len() as u32]);
        strings.extend(u32_bytes(&offsets));
        strings.extend(blob);
        put_section(&mut out, tag::STRINGS, &strings);
        for (t, v) in [
            (tag::LISTS, &self.lists),
            (tag::RULES, &self.rules),
            (tag::NODES, &self.nodes),
            (tag::ATOMS, &self.atoms),
            (tag::VALUESETS, &self.valuesets),
            (tag::ENUM_POSTINGS, &self.enum_postings),
            (tag::FLAG_POSTINGS, &self.flag_postings),
            (tag::UNANCHORED, &self.unanchored),
            (tag::MAPPINGS, &self.mappings),
            (tag::MAPPING_ENTRIES, &self.mapping_entries),
            (tag::TRUST, &self.trust),
            (tag::PINS, &self.pins),
        ] {
            put_section(&mut out, t, &u32_bytes(v));
        }
        for (i, m) in self.matchers.iter().enumerate() {
            let mut head = vec![m.patterns, m.dfas.len() as u32];
            for d in &m.dfas {
                head.push(u32::from(d.anchored));
                head.push(d.ids.len() as u32);
                head.extend(&d.ids);
            }
            for t in [&m.exact, &m.prefix, &m.suffix] {
                t.encode(&mut head);
            }
            head.extend(&m.sources);
            head.extend(&m.postings);
            put_section(&mut out, tag::MATCHER + i as u32, &u32_bytes(&head));
            for (k, d) in m.dfas.iter().enumerate() {
                put_section(
                    &mut out,
                    tag::MATCHER_DFA + i as u32 * tag::DFAS_PER_MATCHER + k as u32,
                    &d.bytes,
                );
            }
        }
        out
    }

    /// Decodes the payload's arrays (structure only; see [`Tables::load`]).
    pub fn decode(bytes: &[u8]) -> Result<TableData, TableError> {
        if bytes.len() < 8 || &bytes[..4] != MAGIC {
            return Err(bad("payload is not a gait.tables payload"));
        }
        let version = u32::from_le_bytes([bytes[4], bytes[5], bytes[6], bytes[7]]);
        if version != VERSION {
            return Err(bad(format!("unsupported tables version {version}")));
        }
        let mut data = TableData {
            matchers: vec![MatcherData::default(); matcher::COUNT],
            ..TableData::default()
        };
        let mut seen = std::collections::HashSet::new();
        let mut pos = 8;
        while pos < bytes.len() {
            let header = bytes
                .get(pos..pos + 8)
                .ok_or_else(|| bad("truncated section header"))?;
            let t = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
            let len = u32::from_le_bytes([header[4], header[5], header[6], header[7]]) as usize;
            let body = bytes
                .get(pos + 8..pos + 8 + len)
                .ok_or_else(|| bad("truncated section"))?;
            pos = (pos + 8 + len).div_ceil(8) * 8;
            if !seen.insert(t) {
                return Err(bad(format!("duplicate section {t}")));
            }
            let words = || -> Result<Vec<u32>, TableError> {
                if body.len() % 4 != 0 {
                    return Err(bad(format!("section {t} is not a u32 array")));
                }
                Ok(body
                    .chunks_exact(4)
                    .map(|c| u32::from_le_bytes([c[0], c[1], c[2], c[3]]))
                    .collect())
            };
            match t {
                tag::META => {
                    let w = words()?;
                    let [d, r, q] = w.as_slice() else {
                        return Err(bad("bad meta section"));
                    };
                    (
                        data.default_verdict,
                        data.fail_closed_risk,
                        data.fail_closed_require,
                    ) = (*d, *r, *q);
                }
                tag::STRINGS => data.strings = decode_strings(body)?,
                tag::LISTS => data.lists = words()?,
                tag::RULES => data.rules = words()?,
                tag::NODES => data.nodes = words()?,
                tag::ATOMS => data.atoms = words()?,
                tag::VALUESETS => data.valuesets = words()?,
                tag::ENUM_POSTINGS => data.enum_postings = words()?,
                tag::FLAG_POSTINGS => data.flag_postings = words()?,
                tag::UNANCHORED => data.unanchored = words()?,
                tag::MAPPINGS => data.mappings = words()?,
                tag::MAPPING_ENTRIES => data.mapping_entries = words()?,
                tag::TRUST => data.trust = words()?,
                tag::PINS => data.pins = words()?,
                t if (tag::MATCHER..tag::MATCHER + matcher::COUNT as u32).contains(&t) => {
                    let w = words()?;
                    let m = &mut data.matchers[(t - tag::MATCHER) as usize];
                    let mut it = w.iter().copied();
                    let mut next = || it.next().ok_or_else(|| bad("truncated matcher section"));
                    m.patterns = next()?;
                    let n_dfas = next()?;
                    if n_dfas > tag::DFAS_PER_MATCHER {
                        return Err(bad("too many automata in a matcher"));
                    }
                    for _ in 0..n_dfas {
                        let anchored = next()? == 1;
                        let n = next()? as usize;
                        let ids = (0..n.min(w.len()))
                            .map(|_| next())
                            .collect::<Result<Vec<_>, _>>()?;
                        m.dfas.push(DfaData {
                            anchored,
                            ids,
                            bytes: Vec::new(),
                        });
                    }
                    for t in [&mut m.exact, &mut m.prefix, &mut m.suffix] {
                        let n = next()? as usize;
                        t.slots = (0..n.min(w.len()))
                            .map(|_| next())
                            .collect::<Result<Vec<_>, _>>()?;
                        let n = next()? as usize;
                        t.entries = (0..(2 * n).min(w.len()))
                            .map(|_| next())
                            .collect::<Result<Vec<_>, _>>()?;
                    }
                    m.sources = (0..m.patterns.min(w.len() as u32))
                        .map(|_| next())
                        .collect::<Result<Vec<_>, _>>()?;
                    m.postings = it.collect();
                }
                t if (tag::MATCHER_DFA
                    ..tag::MATCHER_DFA + matcher::COUNT as u32 * tag::DFAS_PER_MATCHER)
                    .contains(&t) =>
                {
                    let i = ((t - tag::MATCHER_DFA) / tag::DFAS_PER_MATCHER) as usize;
                    let k = ((t - tag::MATCHER_DFA) % tag::DFAS_PER_MATCHER) as usize;
                    let d = data.matchers[i]
                        .dfas
                        .get_mut(k)
                        .ok_or_else(|| bad("automaton section without its matcher"))?;
                    d.bytes = body.to_vec();
                }
                other => return Err(bad(format!("unknown section {other}"))),
            }
        }
        Ok(data)
    }
}

fn decode_strings(body: &[u8]) -> Result<Vec<String>, TableError> {
    let word = |i: usize| -> Result<usize, TableError> {
        let b = body
            .get(i * 4..i * 4 + 4)
            .ok_or_else(|| bad("truncated string table"))?;
        Ok(u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize)
    };
    let count = word(0)?;
    let blob_start = (count + 2)
        .checked_mul(4)
        .ok_or_else(|| bad("string table too large"))?;
    let blob = body
        .get(blob_start..)
        .ok_or_else(|| bad("truncated string table"))?;
    let mut out = Vec::with_capacity(count.min(body.len()));
    for i in 0..count {
        let (a, b) = (word(1 + i)?, word(2 + i)?);
        let bytes = blob
            .get(a..b)
            .ok_or_else(|| bad("string offset out of range"))?;
        out.push(String::from_utf8(bytes.to_vec()).map_err(|_| bad("string is not UTF-8"))?);
    }
    Ok(out)
}

// ------------------------------------------------------------------ loaded tables

struct Scanner {
    dfa: DFA<Vec<u32>>,
    start: StateID,
    ids: Vec<u32>,
}

struct Matcher {
    dfas: Vec<Scanner>,
    exact: HashTable,
    prefix: HashTable,
    suffix: HashTable,
    /// Longest key of the prefix / suffix table: longer parts of a value
    /// cannot match, so they are never hashed (this keeps a value with many
    /// segments or labels linear to scan, whatever an attacker sends).
    longest_prefix: usize,
    longest_suffix: usize,
    patterns: u32,
    postings: Vec<u32>,
    sources: Vec<u32>,
}

impl Matcher {
    /// Takes the matcher's data as it is (moved, not copied); DFAs are
    /// validated and then owned.
    fn load(m: MatcherData, string_lens: &[usize]) -> Result<Matcher, TableError> {
        let strings = string_lens.len();
        if m.postings.len() != 2 * m.patterns as usize {
            return Err(bad("matcher postings do not match its pattern count"));
        }
        let mut covered = vec![false; m.patterns as usize];
        let mut dfas = Vec::with_capacity(m.dfas.len());
        for d in m.dfas {
            // `from_bytes` needs 4-byte alignment: copy into an aligned spot.
            let mut buf = vec![0u8; d.bytes.len() + 8];
            let off = buf.as_ptr().align_offset(4);
            buf[off..off + d.bytes.len()].copy_from_slice(&d.bytes);
            let (dfa, _) = DFA::from_bytes(&buf[off..off + d.bytes.len()])
                .map_err(|e| bad(format!("invalid automaton: {e}")))?;
            if dfa.pattern_len() != d.ids.len() {
                return Err(bad("automaton pattern count differs from its table"));
            }
            for &id in &d.ids {
                match covered.get_mut(id as usize) {
                    Some(c) if !*c => *c = true,
                    _ => return Err(bad("automaton pattern id out of range or repeated")),
                }
            }
            let anchored = if d.anchored {
                Anchored::Yes
            } else {
                Anchored::No
            };
            let start = dfa
                .start_state(&start::Config::new().anchored(anchored))
                .map_err(|e| bad(format!("automaton has no usable start state: {e}")))?;
            let dfa = dfa.to_owned();
            dfas.push(Scanner {
                dfa,
                start,
                ids: d.ids,
            });
        }
        for t in [&m.exact, &m.prefix, &m.suffix] {
            if !(t.slots.is_empty() || t.slots.len().is_power_of_two())
                || t.slots.len() < t.entries.len()
            {
                return Err(bad("bad hash table size"));
            }
            let n_entries = (t.entries.len() / 2) as u32;
            if t.slots.iter().any(|&s| s != NONE && s >= n_entries)
                || (!t.slots.is_empty() && t.slots.iter().all(|&s| s != NONE))
            {
                return Err(bad("bad hash table slot"));
            }
            for e in t.entries.chunks_exact(2) {
                match covered.get_mut(e[1] as usize) {
                    Some(c) if !*c => *c = true,
                    _ => return Err(bad("hash table pattern id out of range or repeated")),
                }
                if e[0] as usize >= strings {
                    return Err(bad("hash table key out of range"));
                }
            }
        }
        if covered.iter().any(|c| !c) {
            return Err(bad("a pattern has no automaton"));
        }
        if m.sources.len() != m.patterns as usize
            || m.sources.iter().any(|&s| s as usize >= strings)
        {
            return Err(bad("pattern sources do not match the patterns"));
        }
        let longest = |t: &HashTable| {
            t.entries
                .chunks_exact(2)
                .map(|e| string_lens.get(e[0] as usize).copied().unwrap_or(0))
                .max()
                .unwrap_or(0)
        };
        let (longest_prefix, longest_suffix) = (longest(&m.prefix), longest(&m.suffix));
        Ok(Matcher {
            longest_prefix,
            longest_suffix,
            dfas,
            exact: m.exact,
            prefix: m.prefix,
            suffix: m.suffix,
            patterns: m.patterns,
            postings: m.postings,
            sources: m.sources,
        })
    }

    /// Appends the pattern ids of every entry of `table` whose key is `key`.
    fn lookup(table: &HashTable, strings: &[String], key: &str, out: &mut Vec<u32>) {
        if table.slots.is_empty() {
            return;
        }
        let mask = table.slots.len() - 1;
        let mut h = fnv1a(key.as_bytes()) as usize & mask;
        // Some slot is always empty (checked on load), so probing ends.
        while let Some(&slot) = table.slots.get(h) {
            if slot == NONE {
                return;
            }
            let e = slot as usize * 2;
            if let (Some(&sid), Some(&pid)) = (table.entries.get(e), table.entries.get(e + 1)) {
                if strings.get(sid as usize).is_some_and(|s| s == key) {
                    out.push(pid);
                }
            }
            h = (h + 1) & mask;
        }
    }

    /// Appends, sorted and unique, the ids of every pattern `value` matches.
    fn matches(&self, value: &str, strings: &[String], out: &mut Vec<u32>) {
        let first = out.len();
        let hay = value.as_bytes();
        Self::lookup(&self.exact, strings, value, out);
        if !self.prefix.slots.is_empty() {
            // `/a/**` matches `/a` and everything below it: look up every
            // segment-boundary prefix (the key "" matches every path).
            Self::lookup(&self.prefix, strings, "", out);
            for (i, &b) in hay.iter().enumerate().take(self.longest_prefix + 1) {
                if b == b'/' && i > 0 {
                    Self::lookup(&self.prefix, strings, &value[..i], out);
                }
            }
            if !value.is_empty() && value.len() <= self.longest_prefix {
                Self::lookup(&self.prefix, strings, value, out);
            }
        }
        if !self.suffix.slots.is_empty() {
            // `*.s` matches hosts strictly below `s`.
            let first = hay.len().saturating_sub(self.longest_suffix + 1);
            for (i, &b) in hay.iter().enumerate().skip(first.max(1)) {
                if b == b'.' {
                    Self::lookup(&self.suffix, strings, &value[i + 1..], out);
                }
            }
        }
        for a in &self.dfas {
            let dfa = &a.dfa;
            let report = |s: StateID, out: &mut Vec<u32>| {
                if dfa.is_match_state(s) {
                    for i in 0..dfa.match_len(s) {
                        if let Some(&id) = a.ids.get(dfa.match_pattern(s, i).as_usize()) {
                            out.push(id);
                        }
                    }
                }
            };
            let mut s = a.start;
            let mut dead = false;
            for &b in hay {
                s = dfa.next_state(s, b);
                if dfa.is_dead_state(s) {
                    dead = true;
                    break;
                }
                report(s, out);
            }
            if !dead {
                report(dfa.next_eoi_state(s), out);
            }
        }
        out[first..].sort_unstable();
        let mut w = first;
        for r in first..out.len() {
            if w == first || out[r] != out[w - 1] {
                out[w] = out[r];
                w += 1;
            }
        }
        out.truncate(w);
    }

    fn posting(&self, pattern: u32) -> (usize, usize) {
        let i = pattern as usize * 2;
        match (self.postings.get(i), self.postings.get(i + 1)) {
            (Some(&a), Some(&b)) => (a as usize, b as usize),
            _ => (0, 0),
        }
    }
}

/// One entry of a tool mapping: where in `args` to find a target, of which
/// kind and class. A step is an object key, or `None` for every element (`[*]`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappingEntry<'a> {
    pub kind: TargetKind,
    pub class: EndpointClass,
    pub steps: Vec<Option<&'a str>>,
}

/// Loaded, validated decision tables.
pub struct Tables {
    data: TableData,
    matchers: Vec<Matcher>,
    default_verdict: Verdict,
    fail_closed_risk: Vec<Risk>,
    fail_closed_require: Vec<&'static str>,
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
}

struct Ctx<'a> {
    intent: &'a Intent,
    facts: SkillFacts,
    scratch: &'a Scratch,
}

impl Tables {
    /// Validates decoded data and loads the automata (no rebuilding: DFAs are
    /// deserialized and copied as they are).
    pub fn load(data: TableData) -> Result<Tables, TableError> {
        let default_verdict = *Verdict::ALL
            .get(data.default_verdict as usize)
            .ok_or_else(|| bad("bad default verdict"))?;
        let fail_closed_risk = Risk::ALL
            .iter()
            .copied()
            .filter(|r| data.fail_closed_risk & (1 << r.index()) != 0)
            .collect();
        let fail_closed_require = crate::vocab::FAIL_CLOSED_FIELDS
            .iter()
            .enumerate()
            .filter(|(i, _)| data.fail_closed_require & (1 << i) != 0)
            .map(|(_, f)| *f)
            .collect();
        if data.matchers.len() != matcher::COUNT {
            return Err(bad("wrong number of matchers"));
        }
        let string_lens: Vec<usize> = data.strings.iter().map(String::len).collect();
        let mut data = data;
        let matchers = std::mem::take(&mut data.matchers)
            .into_iter()
            .map(|m| Matcher::load(m, &string_lens))
            .collect::<Result<Vec<_>, _>>()?;
        let t = Tables {
            data,
            matchers,
            default_verdict,
            fail_closed_risk,
            fail_closed_require,
        };
        t.validate()?;
        Ok(t)
    }

    fn validate(&self) -> Result<(), TableError> {
        let d = &self.data;
        let n_lists = d.lists.len();
        let n_strings = d.strings.len() as u32;
        let n_rules = (d.rules.len() / RULE_STRIDE) as u32;
        let range_ok = |start: u32, len: u32| {
            (start as usize)
                .checked_add(len as usize)
                .is_some_and(|e| e <= n_lists)
        };
        let list = |start: u32, len: u32| -> Result<&[u32], TableError> {
            if !range_ok(start, len) {
                return Err(bad("list range out of bounds"));
            }
            Ok(&d.lists[start as usize..(start + len) as usize])
        };
        let str_ok = |s: u32| s < n_strings;
        for (name, v, stride) in [
            ("rules", &d.rules, RULE_STRIDE),
            ("nodes", &d.nodes, node::STRIDE),
            ("atoms", &d.atoms, atom::STRIDE),
            ("valuesets", &d.valuesets, 2),
            ("mappings", &d.mappings, 2),
            ("mapping entries", &d.mapping_entries, 4),
            ("trust", &d.trust, 3),
            ("pins", &d.pins, 3),
        ] {
            if v.len() % stride != 0 {
                return Err(bad(format!("{name} table has a partial record")));
            }
        }
        if d.enum_postings.len() != 2 * enums::total() || d.flag_postings.len() != 2 * flags::COUNT
        {
            return Err(bad("posting tables have the wrong size"));
        }
        let n_nodes = (d.nodes.len() / node::STRIDE) as u32;
        let n_atoms = (d.atoms.len() / atom::STRIDE) as u32;
        let n_vs = (d.valuesets.len() / 2) as u32;
        // Value sets: sorted pattern ids (which matcher is checked via atoms).
        for vs in d.valuesets.chunks_exact(2) {
            let items = list(vs[0], vs[1])?;
            if items.windows(2).any(|w| w[0] >= w[1]) {
                return Err(bad("value set is not sorted"));
            }
        }
        for a in d.atoms.chunks_exact(atom::STRIDE) {
            let (kind, attr, quant, neg, arg) = (a[0], a[1] as usize, a[2], a[3], a[4]);
            if quant > 1 || neg > 1 {
                return Err(bad("bad atom flags"));
            }
            let vs_patterns_ok = |m: usize| -> Result<(), TableError> {
                if arg >= n_vs {
                    return Err(bad("atom value set out of range"));
                }
                let vs = &d.valuesets[arg as usize * 2..arg as usize * 2 + 2];
                let patterns = self.matchers.get(m).map(|m| m.patterns).unwrap_or(0);
                if list(vs[0], vs[1])?.iter().any(|&p| p >= patterns) {
                    return Err(bad("value set names a pattern its matcher lacks"));
                }
                Ok(())
            };
            match kind {
                atom::SCALAR_SET if attr <= matcher::SKILL_SOURCE => vs_patterns_ok(attr)?,
                atom::MULTI_SET if (matcher::PATH..=matcher::COMMAND).contains(&attr) => {
                    vs_patterns_ok(attr)?
                }
                // Flags and markers have no quantifier, and their evaluation
                // has no negated form (`not` is a node): a set bit would be
                // silently ignored, so it is refused.
                atom::ARGS_CONTAIN if quant == 0 && neg == 0 => vs_patterns_ok(matcher::MARKERS)?,
                atom::SCALAR_ENUM if attr == enums::RISK => {}
                atom::MULTI_ENUM if (enums::ENDPOINT..enums::COUNT).contains(&attr) => {}
                atom::FLAG if (arg as usize) < flags::COUNT && quant == 0 && neg == 0 => {}
                _ => return Err(bad("bad atom")),
            }
            if matches!(kind, atom::SCALAR_ENUM | atom::MULTI_ENUM)
                && arg >> enums::SIZES[attr] != 0
            {
                return Err(bad("enum mask out of range"));
            }
        }
        // Nodes refer only to earlier nodes, which bounds recursion by depth.
        let mut depth = vec![0u32; n_nodes as usize];
        for (i, n) in d.nodes.chunks_exact(node::STRIDE).enumerate() {
            let children: &[u32] = match n[0] {
                node::AND | node::OR => list(n[1], n[2])?,
                node::NOT => std::slice::from_ref(&n[1]),
                node::ATOM => {
                    if n[1] >= n_atoms {
                        return Err(bad("node atom out of range"));
                    }
                    &[]
                }
                _ => return Err(bad("bad node kind")),
            };
            let mut dmax = 0;
            for &c in children {
                if c as usize >= i {
                    return Err(bad("node refers forward"));
                }
                dmax = dmax.max(depth[c as usize]);
            }
            depth[i] = dmax + 1;
            if depth[i] > 512 {
                return Err(bad("condition nested too deeply"));
            }
        }
        let mut prev_priority = 0;
        for r in d.rules.chunks_exact(RULE_STRIDE) {
            if r[0] < prev_priority {
                return Err(bad("rules are not in priority order"));
            }
            prev_priority = r[0];
            if r[1] as usize >= Verdict::ALL.len()
                || !str_ok(r[3])
                || (r[8] != NONE && !str_ok(r[8]))
                || (r[9] != NONE && r[9] >= n_nodes)
            {
                return Err(bad("bad rule record"));
            }
            for s in list(r[4], r[5])?.iter().chain(list(r[6], r[7])?) {
                if !str_ok(*s) {
                    return Err(bad("rule code out of range"));
                }
            }
        }
        let postings_ok = |p: &[u32], bound: u32| -> Result<(), TableError> {
            for pr in p.chunks_exact(2) {
                if list(pr[0], pr[1])?.iter().any(|&r| r >= bound) {
                    return Err(bad("posting out of range"));
                }
            }
            Ok(())
        };
        for (i, m) in self.matchers.iter().enumerate() {
            let bound = if i == matcher::MAPPING_TOOLS {
                (d.mappings.len() / 2) as u32
            } else {
                n_rules
            };
            postings_ok(&m.postings, bound)?;
        }
        postings_ok(&d.enum_postings, n_rules)?;
        postings_ok(&d.flag_postings, n_rules)?;
        if d.unanchored.iter().any(|&r| r >= n_rules) {
            return Err(bad("unanchored rule out of range"));
        }
        for m in d.mappings.chunks_exact(2) {
            if (m[0] as usize + m[1] as usize) * 4 > d.mapping_entries.len() {
                return Err(bad("mapping entries out of range"));
            }
        }
        for e in d.mapping_entries.chunks_exact(4) {
            if e[0] as usize >= TargetKind::ALL.len() || e[1] as usize >= EndpointClass::ALL.len() {
                return Err(bad("bad mapping entry"));
            }
            if list(e[2], e[3])?.iter().any(|&s| s != NONE && !str_ok(s)) {
                return Err(bad("mapping step out of range"));
            }
        }
        if d.trust.iter().chain(&d.pins).any(|&s| !str_ok(s)) {
            return Err(bad("trust or pin string out of range"));
        }
        Ok(())
    }

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
        self.data
            .strings
            .get(id as usize)
            .map(String::as_str)
            .unwrap_or("")
    }

    fn list(&self, start: u32, len: u32) -> &[u32] {
        self.data
            .lists
            .get(start as usize..start as usize + len as usize)
            .unwrap_or(&[])
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

    /// `skill.signed` / `skill.pinned` from the trust and pin tables.
    pub fn skill_facts(&self, intent: &Intent) -> SkillFacts {
        let Some(skill) = &intent.skill else {
            return SkillFacts::default();
        };
        let signed = skill.key_id.as_deref().is_some_and(|kid| {
            self.data
                .trust
                .chunks_exact(3)
                .any(|t| self.s(t[0]) == skill.publisher && self.s(t[1]) == kid)
        });
        let pinned = match (&skill.version, &skill.digest) {
            (Some(v), Some(dg)) => self
                .data
                .pins
                .chunks_exact(3)
                .any(|p| self.s(p[0]) == skill.name && self.s(p[1]) == v && self.s(p[2]) == dg),
            _ => false,
        };
        SkillFacts { signed, pinned }
    }

    /// Tool mappings that apply to a (normalized) tool name, each as its entries.
    pub fn mappings_for(&self, tool: &str) -> Vec<Vec<MappingEntry<'_>>> {
        let m = &self.matchers[matcher::MAPPING_TOOLS];
        let mut pids = Vec::new();
        m.matches(tool, &self.data.strings, &mut pids);
        let mut ids: Vec<u32> = Vec::new();
        for p in pids {
            let (a, n) = m.posting(p);
            ids.extend(self.list(a as u32, n as u32));
        }
        ids.sort_unstable();
        ids.dedup();
        ids.into_iter()
            .map(|id| {
                let rec = self
                    .data
                    .mappings
                    .get(id as usize * 2..id as usize * 2 + 2)
                    .unwrap_or(&[0, 0]);
                (rec[0]..rec[0] + rec[1])
                    .filter_map(|e| {
                        self.data
                            .mapping_entries
                            .get(e as usize * 4..e as usize * 4 + 4)
                    })
                    .map(|e| {
                        let steps = self
                            .list(e[2], e[3])
                            .iter()
                            .map(|&s| (s != NONE).then(|| self.s(s)))
                            .collect();
                        MappingEntry {
                            kind: TargetKind::ALL[e[0] as usize],
                            class: EndpointClass::ALL[e[1] as usize],
                            steps,
                        }
                    })
                    .collect()
            })
            .collect()
    }

    /// Evaluates one normalized intent. No I/O, no clock; the result depends on
    /// the tables and the intent only.
    pub fn decide(&self, intent: &Intent, scratch: &mut Scratch) -> Decision {
        if let Some(d) = fail_closed(intent, &self.fail_closed_risk, &self.fail_closed_require) {
            return d;
        }
        let facts = self.skill_facts(intent);
        self.match_values(intent, scratch);
        self.collect_candidates(intent, facts, scratch);
        let ctx = Ctx {
            intent,
            facts,
            scratch,
        };
        let mut tier: Option<u32> = None;
        let mut matched: Vec<u32> = Vec::new();
        for &rid in &scratch.cands {
            let r = self.rule(rid);
            if tier.is_some_and(|p| r[0] != p) {
                break;
            }
            let holds = r[9] == NONE || self.eval_node(r[9], &ctx);
            if holds {
                tier = Some(r[0]);
                matched.push(rid);
            }
        }
        let decision = reduce_tier(matched.iter().map(|&rid| {
            let r = self.rule(rid);
            Matched {
                name: self.s(r[3]),
                verdict: Verdict::ALL[r[1] as usize],
                reasons: self.list(r[4], r[5]).iter().map(|&s| self.s(s)).collect(),
                violations: self.list(r[6], r[7]).iter().map(|&s| self.s(s)).collect(),
                approvals: (r[2] != 0).then_some(r[2]),
            }
        }));
        decision.unwrap_or_else(|| default_decision(self.default_verdict))
    }

    fn match_values(&self, intent: &Intent, sc: &mut Scratch) {
        sc.pids.clear();
        sc.spans.resize_with(matcher::COUNT, Vec::new);
        for s in &mut sc.spans {
            s.clear();
        }
        let run = |sc: &mut Scratch, m: usize, value: &str| {
            let start = sc.pids.len() as u32;
            self.matchers[m].matches(value, &self.data.strings, &mut sc.pids);
            let len = sc.pids.len() as u32 - start;
            sc.spans[m].push((start, len));
        };
        run(sc, matcher::TOOL, &intent.tool);
        if let Some(v) = &intent.identity {
            run(sc, matcher::IDENTITY, v);
        }
        if let Some(v) = &intent.workspace {
            run(sc, matcher::WORKSPACE, path_key(v));
        }
        if let Some(skill) = &intent.skill {
            run(sc, matcher::SKILL_NAME, &skill.name);
            run(sc, matcher::SKILL_PUBLISHER, &skill.publisher);
            run(sc, matcher::SKILL_SOURCE, &skill.source);
        }
        for p in intent.paths() {
            run(sc, matcher::PATH, path_key(p));
        }
        for d in intent.domains() {
            run(sc, matcher::DOMAIN, d);
        }
        for c in intent.commands() {
            run(sc, matcher::COMMAND, c);
        }
        sc.markers.clear();
        if self.matchers[matcher::MARKERS].patterns > 0 {
            for s in &intent.arg_strings {
                self.matchers[matcher::MARKERS].matches(s, &self.data.strings, &mut sc.markers);
            }
            sc.markers.sort_unstable();
            sc.markers.dedup();
        }
    }

    fn collect_candidates(&self, intent: &Intent, facts: SkillFacts, sc: &mut Scratch) {
        sc.cands.clear();
        sc.cands.extend_from_slice(&self.data.unanchored);
        for m in 0..=matcher::COMMAND {
            for &(start, len) in &sc.spans[m] {
                for &p in &sc.pids[start as usize..(start + len) as usize] {
                    let (a, n) = self.matchers[m].posting(p);
                    sc.cands.extend_from_slice(self.list(a as u32, n as u32));
                }
            }
        }
        for &p in &sc.markers {
            let (a, n) = self.matchers[matcher::MARKERS].posting(p);
            sc.cands.extend_from_slice(self.list(a as u32, n as u32));
        }
        let enum_hit = |sc: &mut Scratch, e: usize, v: usize| {
            let i = (enums::base(e) + v) * 2;
            if let (Some(&a), Some(&n)) = (
                self.data.enum_postings.get(i),
                self.data.enum_postings.get(i + 1),
            ) {
                sc.cands.extend_from_slice(self.list(a, n));
            }
        };
        enum_hit(sc, enums::RISK, intent.risk.index());
        for t in &intent.targets {
            enum_hit(sc, enums::ENDPOINT, t.class.index());
            enum_hit(sc, enums::TARGET, t.kind.index());
        }
        for h in intent.host_classes() {
            enum_hit(sc, enums::HOST_CLASS, h.index());
        }
        for p in &intent.provenance {
            enum_hit(sc, enums::PROVENANCE, p.index());
        }
        let flag_values = [
            intent.destructive(),
            intent.skill.is_some(),
            facts.signed,
            facts.pinned,
            facts.verified(),
        ];
        for (f, on) in flag_values.into_iter().enumerate() {
            if on {
                let (a, n) = (
                    self.data.flag_postings[f * 2],
                    self.data.flag_postings[f * 2 + 1],
                );
                sc.cands.extend_from_slice(self.list(a, n));
            }
        }
        sc.cands.sort_unstable();
        sc.cands.dedup();
    }

    fn eval_node(&self, id: u32, ctx: &Ctx<'_>) -> bool {
        let i = id as usize * node::STRIDE;
        let Some(n) = self.data.nodes.get(i..i + node::STRIDE) else {
            return false;
        };
        match n[0] {
            node::AND => self
                .list(n[1], n[2])
                .iter()
                .all(|&c| self.eval_node(c, ctx)),
            node::OR => self
                .list(n[1], n[2])
                .iter()
                .any(|&c| self.eval_node(c, ctx)),
            node::NOT => !self.eval_node(n[1], ctx),
            _ => self.eval_atom(n[1], ctx),
        }
    }

    /// Whether a value (its matched pattern ids) is in value set `vs`.
    fn in_set(&self, vs: u32, pids: &[u32]) -> bool {
        let i = vs as usize * 2;
        let Some(rec) = self.data.valuesets.get(i..i + 2) else {
            return false;
        };
        let set = self.list(rec[0], rec[1]);
        pids.iter().any(|p| set.binary_search(p).is_ok())
    }

    fn eval_atom(&self, id: u32, ctx: &Ctx<'_>) -> bool {
        let i = id as usize * atom::STRIDE;
        let Some(a) = self.data.atoms.get(i..i + atom::STRIDE) else {
            return false;
        };
        let (kind, attr, quant_all, negated, arg) =
            (a[0], a[1] as usize, a[2] == 1, a[3] == 1, a[4]);
        let sc = ctx.scratch;
        let pids_of = |span: &(u32, u32)| &sc.pids[span.0 as usize..(span.0 + span.1) as usize];
        match kind {
            atom::SCALAR_SET => match sc.spans[attr].first() {
                // Skill attributes are false without skill provenance; other
                // missing scalars are "not in" every set.
                None => negated && attr < matcher::SKILL_NAME,
                Some(span) => self.in_set(arg, pids_of(span)) != negated,
            },
            atom::MULTI_SET => {
                let spans = &sc.spans[attr];
                let member = |span: &(u32, u32)| self.in_set(arg, pids_of(span)) != negated;
                if quant_all {
                    !spans.is_empty() && spans.iter().all(member)
                } else {
                    spans.iter().any(member)
                }
            }
            atom::SCALAR_ENUM => (arg >> ctx.intent.risk.index() & 1 == 1) != negated,
            atom::MULTI_ENUM => {
                let member = |v: usize| (arg >> v & 1 == 1) != negated;
                let t = &ctx.intent.targets;
                match attr {
                    enums::ENDPOINT => {
                        quantify(t.iter().map(|t| t.class.index()), quant_all, member)
                    }
                    enums::TARGET => quantify(t.iter().map(|t| t.kind.index()), quant_all, member),
                    enums::HOST_CLASS => quantify(
                        ctx.intent.host_classes().map(HostClass::index),
                        quant_all,
                        member,
                    ),
                    _ => quantify(
                        ctx.intent
                            .provenance
                            .iter()
                            .map(|p: &ProvenanceSource| p.index()),
                        quant_all,
                        member,
                    ),
                }
            }
            atom::FLAG => match arg {
                flags::DESTRUCTIVE => ctx.intent.destructive(),
                flags::SKILL => ctx.intent.skill.is_some(),
                flags::SIGNED => ctx.facts.signed,
                flags::PINNED => ctx.facts.pinned,
                _ => ctx.facts.verified(),
            },
            _ => {
                let i = arg as usize * 2;
                let Some(rec) = self.data.valuesets.get(i..i + 2) else {
                    return false;
                };
                let set = self.list(rec[0], rec[1]);
                sc.markers.iter().any(|p| set.binary_search(p).is_ok())
            }
        }
    }
}

/// `any`: some value satisfies `pred`; `all`: there is a value and every value does.
fn quantify(values: impl Iterator<Item = usize>, all: bool, pred: impl Fn(usize) -> bool) -> bool {
    if all {
        let mut any_value = false;
        for v in values {
            if !pred(v) {
                return false;
            }
            any_value = true;
        }
        any_value
    } else {
        values.into_iter().any(pred)
    }
}

/// The string a path is matched as: the root `/` is the empty string, so that
/// `/**` (zero or more segments) matches it.
pub fn path_key(p: &str) -> &str {
    if p == "/" {
        ""
    } else {
        p
    }
}

/// One rule as `--explain` shows it: whether it matched, and each atom of its
/// condition with whether it held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExplainedRule {
    pub name: String,
    pub priority: u32,
    pub verdict: Verdict,
    pub matched: bool,
    pub atoms: Vec<(String, bool)>,
}

const ENUM_NAMES: [&str; enums::COUNT] = ["risk", "endpoint", "host_class", "target", "provenance"];
const FLAG_NAMES: [&str; flags::COUNT] = [
    "destructive",
    "skill",
    "skill.signed",
    "skill.pinned",
    "skill.verified",
];

impl Tables {
    /// Evaluates every rule of the first `tiers` priority levels fully and
    /// reports each atom (for `--explain`; not on the decision path).
    pub fn explain(
        &self,
        intent: &Intent,
        tiers: usize,
        scratch: &mut Scratch,
    ) -> Vec<ExplainedRule> {
        let facts = self.skill_facts(intent);
        self.match_values(intent, scratch);
        let ctx = Ctx {
            intent,
            facts,
            scratch,
        };
        let mut out = Vec::new();
        let mut levels: Vec<u32> = Vec::new();
        for rid in 0..self.rule_count() as u32 {
            let r = self.rule(rid);
            if !levels.contains(&r[0]) {
                if levels.len() == tiers {
                    break;
                }
                levels.push(r[0]);
            }
            let mut atoms = Vec::new();
            if r[9] != NONE {
                self.atoms_of(r[9], &ctx, &mut atoms);
            }
            out.push(ExplainedRule {
                name: self.s(r[3]).to_owned(),
                priority: r[0],
                verdict: Verdict::ALL[r[1] as usize],
                matched: r[9] == NONE || self.eval_node(r[9], &ctx),
                atoms,
            });
        }
        out
    }

    fn atoms_of(&self, id: u32, ctx: &Ctx<'_>, out: &mut Vec<(String, bool)>) {
        let i = id as usize * node::STRIDE;
        let Some(n) = self.data.nodes.get(i..i + node::STRIDE) else {
            return;
        };
        match n[0] {
            node::AND | node::OR => {
                for &c in self.list(n[1], n[2]) {
                    self.atoms_of(c, ctx, out);
                }
            }
            node::NOT => self.atoms_of(n[1], ctx, out),
            _ => out.push((self.atom_text(n[1]), self.eval_atom(n[1], ctx))),
        }
    }

    fn valueset_text(&self, m: usize, vs: u32) -> String {
        let i = vs as usize * 2;
        let Some(rec) = self.data.valuesets.get(i..i + 2) else {
            return "[]".to_owned();
        };
        let ids = self.list(rec[0], rec[1]);
        let sources = &self.matchers[m].sources;
        let mut items: Vec<String> = ids
            .iter()
            .take(8)
            .map(|&p| {
                format!(
                    "{:?}",
                    self.s(sources.get(p as usize).copied().unwrap_or(NONE))
                )
            })
            .collect();
        if ids.len() > 8 {
            items.push(format!("… (+{})", ids.len() - 8));
        }
        format!("[{}]", items.join(", "))
    }

    /// A readable form of an atom, in policy syntax.
    pub fn atom_text(&self, id: u32) -> String {
        let i = id as usize * atom::STRIDE;
        let Some(a) = self.data.atoms.get(i..i + atom::STRIDE) else {
            return String::new();
        };
        let (kind, attr, all, negated, arg) = (a[0], a[1] as usize, a[2] == 1, a[3] == 1, a[4]);
        let op = if negated { "not in" } else { "in" };
        let q = if all { "all" } else { "any" };
        let enum_values = |e: usize| {
            let names: Vec<&str> = (0..enums::SIZES[e])
                .filter(|v| arg >> v & 1 == 1)
                .map(|v| match e {
                    enums::RISK => Risk::ALL[v].as_str(),
                    enums::ENDPOINT => EndpointClass::ALL[v].as_str(),
                    enums::HOST_CLASS => HostClass::ALL[v].as_str(),
                    enums::TARGET => TargetKind::ALL[v].as_str(),
                    _ => ProvenanceSource::ALL[v].as_str(),
                })
                .collect();
            format!("[{}]", names.join(", "))
        };
        match kind {
            atom::SCALAR_SET => format!(
                "{} {op} {}",
                matcher::NAMES[attr],
                self.valueset_text(attr, arg)
            ),
            atom::MULTI_SET => format!(
                "{q} {} {op} {}",
                matcher::NAMES[attr],
                self.valueset_text(attr, arg)
            ),
            atom::SCALAR_ENUM => format!("risk {op} {}", enum_values(enums::RISK)),
            atom::MULTI_ENUM => format!("{q} {} {op} {}", ENUM_NAMES[attr], enum_values(attr)),
            atom::FLAG => FLAG_NAMES
                .get(arg as usize)
                .copied()
                .unwrap_or("?")
                .to_owned(),
            _ => format!("args contain {}", self.valueset_text(matcher::MARKERS, arg)),
        }
    }
}
