//! Lowering a checked policy to decision tables (`gait_run::tables`).
//!
//! - Every pattern of an attribute goes into that attribute's one
//!   multi-pattern DFA (`MatchKind::All`, anchored full match; markers use an
//!   unanchored search). Globs are translated to regexes here, once.
//! - Conditions become nodes over de-duplicated atoms; value sets are sorted
//!   pattern-id lists.
//! - Each rule gets anchors (facts of which one must hold for it to match);
//!   posting lists map patterns, enum values and flags to anchored rules, so
//!   that evaluation only looks at plausible rules.
//!
//! `patterns` turns each pattern into a hash-table key or a regex.

mod patterns;

use crate::check::attrs::{Attr, EnumKind, Flag};
use crate::check::model::{Atom, Cond, Pin, Policy, TrustKey, Values};
use crate::syntax::ast::Quant;
use gait_run::tables::{
    approval_flag, atom, enums, flags, matcher, node, DfaData, HashTable, MatcherData, Strings,
    TableData, NONE, RULE_STRIDE,
};
use gait_run::vocab::{Risk, Verdict, FAIL_CLOSED_FIELDS};
use patterns::{build_dfa, event_for, table_for, Class, Table, COMPLEX_GROUP};
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LowerError(pub String);

impl std::fmt::Display for LowerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Default)]
struct Builder {
    strings: Strings,
    string_ids: HashMap<String, u32>,
    /// Why a string could not be added (the table's 32-bit offsets): the
    /// lowering fails with it at the end.
    strings_full: Option<String>,
    lists: Vec<u32>,
    /// Patterns per matcher, and their ids.
    patterns: Vec<Vec<String>>,
    pattern_ids: Vec<HashMap<String, u32>>,
    valuesets: Vec<u32>,
    valueset_ids: HashMap<(usize, Vec<u32>), u32>,
    atoms: Vec<u32>,
    atom_ids: HashMap<Vec<u32>, u32>,
    nodes: Vec<u32>,
    node_ids: HashMap<Vec<u32>, u32>,
}

/// A fact that, when it holds, makes a rule a candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Key {
    Pattern(usize, u32),
    Enum(usize, usize),
    Flag(u32),
}

/// `(holder, key id, key)`: a row per key of each holder (a trusted publisher
/// or an approver).
fn key_rows<'a>(
    holders: impl Iterator<Item = (&'a String, &'a Vec<TrustKey>)>,
) -> Vec<(String, String, String)> {
    holders
        .flat_map(|(who, keys)| {
            keys.iter()
                .map(move |k| (who.clone(), k.id.clone(), k.base64.clone()))
        })
        .collect()
}

impl Builder {
    fn new() -> Builder {
        Builder {
            patterns: vec![Vec::new(); matcher::COUNT],
            pattern_ids: vec![HashMap::new(); matcher::COUNT],
            ..Builder::default()
        }
    }

    /// Rows of three strings, sorted and de-duplicated, as interned string ids.
    fn rows(&mut self, mut rows: Vec<(String, String, String)>) -> Vec<u32> {
        rows.sort();
        rows.dedup();
        rows.iter()
            .flat_map(|(a, b, c)| [self.string(a), self.string(b), self.string(c)])
            .collect()
    }

    fn string(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.string_ids.get(s) {
            return id;
        }
        match self.strings.push(s) {
            Ok(id) => {
                self.string_ids.insert(s.to_owned(), id);
                id
            }
            Err(e) => {
                self.strings_full.get_or_insert_with(|| e.to_string());
                NONE
            }
        }
    }

    fn list(&mut self, items: &[u32]) -> (u32, u32) {
        let start = self.lists.len() as u32;
        self.lists.extend_from_slice(items);
        (start, items.len() as u32)
    }

    fn pattern(&mut self, m: usize, p: &str) -> u32 {
        if let Some(&id) = self.pattern_ids[m].get(p) {
            return id;
        }
        let id = self.patterns[m].len() as u32;
        self.patterns[m].push(p.to_owned());
        self.pattern_ids[m].insert(p.to_owned(), id);
        id
    }

    fn valueset(&mut self, m: usize, items: &[String]) -> u32 {
        let mut pids: Vec<u32> = items.iter().map(|p| self.pattern(m, p)).collect();
        pids.sort_unstable();
        pids.dedup();
        if let Some(&id) = self.valueset_ids.get(&(m, pids.clone())) {
            return id;
        }
        let (start, len) = self.list(&pids);
        let id = (self.valuesets.len() / 2) as u32;
        self.valuesets.extend([start, len]);
        self.valueset_ids.insert((m, pids), id);
        id
    }

    fn atom(&mut self, rec: [u32; atom::STRIDE]) -> u32 {
        if let Some(&id) = self.atom_ids.get(rec.as_slice()) {
            return id;
        }
        let id = (self.atoms.len() / atom::STRIDE) as u32;
        self.atoms.extend(rec);
        self.atom_ids.insert(rec.to_vec(), id);
        id
    }

    fn node(&mut self, kind: u32, a: u32, b: u32, key: Vec<u32>) -> u32 {
        if let Some(&id) = self.node_ids.get(&key) {
            return id;
        }
        let id = (self.nodes.len() / node::STRIDE) as u32;
        self.nodes.extend([kind, a, b]);
        self.node_ids.insert(key, id);
        id
    }

    /// Lowers a condition; children are emitted before parents.
    fn cond(&mut self, c: &Cond) -> u32 {
        match c {
            Cond::And(parts) | Cond::Or(parts) => {
                let kind = if matches!(c, Cond::And(_)) {
                    node::AND
                } else {
                    node::OR
                };
                let kids: Vec<u32> = parts.iter().map(|p| self.cond(p)).collect();
                let mut key = vec![kind];
                key.extend(&kids);
                if let Some(&id) = self.node_ids.get(&key) {
                    return id;
                }
                let (start, len) = self.list(&kids);
                self.node(kind, start, len, key)
            }
            Cond::Not(inner) => {
                let k = self.cond(inner);
                self.node(node::NOT, k, 0, vec![node::NOT, k])
            }
            Cond::Atom(a) => {
                let id = self.atom_record(a);
                self.node(node::ATOM, id, 0, vec![node::ATOM, id])
            }
        }
    }

    fn atom_record(&mut self, a: &Atom) -> u32 {
        let rec = match a {
            Atom::Flag(f) => [atom::FLAG, 0, 0, 0, flag_index(*f)],
            Atom::ArgsContain(items) => {
                let vs = self.valueset(matcher::MARKERS, items);
                [atom::ARGS_CONTAIN, matcher::MARKERS as u32, 0, 0, vs]
            }
            Atom::Scalar {
                attr,
                negated,
                values,
            } => self.membership(*attr, None, *negated, values),
            Atom::Multi {
                attr,
                quant,
                negated,
                values,
            } => self.membership(*attr, Some(*quant), *negated, values),
        };
        self.atom(rec)
    }

    /// The record of a membership test: `[kind, enum or matcher, all?,
    /// negated, mask or value set]`; `quant` is `None` for a single-valued
    /// attribute.
    fn membership(
        &mut self,
        attr: Attr,
        quant: Option<Quant>,
        negated: bool,
        values: &Values,
    ) -> [u32; 5] {
        let q = u32::from(quant == Some(Quant::All));
        let negated = u32::from(negated);
        let (enum_code, set_code) = match quant {
            Some(_) => (atom::MULTI_ENUM, atom::MULTI_SET),
            None => (atom::SCALAR_ENUM, atom::SCALAR_SET),
        };
        match values {
            Values::Enum { kind, mask } => [enum_code, enum_of(*kind) as u32, q, negated, *mask],
            Values::Patterns { items, .. } => {
                let m = matcher_of(attr);
                let vs = self.valueset(m, items);
                [set_code, m as u32, q, negated, vs]
            }
        }
    }

    fn vs_patterns(&self, vs: u32) -> &[u32] {
        let i = vs as usize * 2;
        let (start, len) = (self.valuesets[i] as usize, self.valuesets[i + 1] as usize);
        &self.lists[start..start + len]
    }

    /// Anchors of a condition under a polarity: a set of keys of which one
    /// holds whenever the condition does, with a cost (lower is better).
    fn anchors(&self, c: &Cond, positive: bool) -> Option<(u64, Vec<Key>)> {
        match (c, positive) {
            (Cond::Not(inner), p) => self.anchors(inner, !p),
            (Cond::And(parts), true) | (Cond::Or(parts), false) => parts
                .iter()
                .filter_map(|p| self.anchors(p, positive))
                .min_by_key(|(cost, keys)| (*cost, keys.len())),
            (Cond::Or(parts), true) | (Cond::And(parts), false) => {
                let mut cost = 0u64;
                let mut keys = Vec::new();
                for p in parts {
                    let (c, k) = self.anchors(p, positive)?;
                    cost = cost.saturating_add(c);
                    keys.extend(k);
                }
                keys.sort();
                keys.dedup();
                Some((cost, keys))
            }
            (Cond::Atom(a), positive) => self.atom_anchors(a, positive),
        }
    }

    fn atom_anchors(&self, a: &Atom, positive: bool) -> Option<(u64, Vec<Key>)> {
        let enum_keys = |e: usize, mask: u32, weight: u64| {
            let keys: Vec<Key> = (0..enums::SIZES[e])
                .filter(|v| mask >> v & 1 == 1)
                .map(|v| Key::Enum(e, v))
                .collect();
            Some((weight * keys.len() as u64, keys))
        };
        match a {
            Atom::Flag(f) if positive => Some((700, vec![Key::Flag(flag_index(*f))])),
            Atom::ArgsContain(items) if positive => {
                let vs = *self
                    .valueset_ids
                    .get(&(matcher::MARKERS, self.sorted_pids(matcher::MARKERS, items)))?;
                let keys: Vec<Key> = self
                    .vs_patterns(vs)
                    .iter()
                    .map(|&p| Key::Pattern(matcher::MARKERS, p))
                    .collect();
                Some((50 * keys.len() as u64, keys))
            }
            Atom::Scalar {
                values: Values::Enum { kind, mask },
                negated,
                ..
            } => {
                // Risk is always present, so `not (risk in M)` is `risk in !M`.
                let full = (1u32 << kind.cardinality()) - 1;
                let m = if *negated != positive {
                    *mask
                } else {
                    full & !*mask
                };
                enum_keys(enums::RISK, m, 400)
            }
            Atom::Multi {
                values: Values::Enum { kind, mask },
                negated,
                ..
            } if positive => {
                let full = (1u32 << kind.cardinality()) - 1;
                let m = if *negated { full & !*mask } else { *mask };
                enum_keys(enum_of(*kind), m, 300)
            }
            Atom::Scalar {
                attr,
                negated: false,
                values: Values::Patterns { items, .. },
            }
            | Atom::Multi {
                attr,
                negated: false,
                values: Values::Patterns { items, .. },
                ..
            } if positive => {
                let m = matcher_of(*attr);
                let keys: Vec<Key> = self
                    .sorted_pids(m, items)
                    .into_iter()
                    .map(|p| Key::Pattern(m, p))
                    .collect();
                let cost = keys
                    .iter()
                    .map(|k| match k {
                        Key::Pattern(m, p) => pattern_weight(*m, &self.patterns[*m][*p as usize]),
                        _ => 0,
                    })
                    .sum();
                Some((cost, keys))
            }
            _ => None,
        }
    }

    fn sorted_pids(&self, m: usize, items: &[String]) -> Vec<u32> {
        let mut pids: Vec<u32> = items
            .iter()
            .filter_map(|p| self.pattern_ids[m].get(p).copied())
            .collect();
        pids.sort_unstable();
        pids.dedup();
        pids
    }
}

/// How likely a pattern is to match (a leading wildcard matches much).
fn pattern_weight(m: usize, p: &str) -> u64 {
    let broad = match m {
        matcher::PATH | matcher::WORKSPACE => {
            p.starts_with("**") || p == "/**" || p.starts_with("/*")
        }
        _ => p.starts_with('*'),
    };
    if broad {
        250
    } else {
        10
    }
}

fn matcher_of(attr: Attr) -> usize {
    match attr {
        Attr::Tool => matcher::TOOL,
        Attr::Identity => matcher::IDENTITY,
        Attr::Workspace => matcher::WORKSPACE,
        Attr::SkillName => matcher::SKILL_NAME,
        Attr::SkillPublisher => matcher::SKILL_PUBLISHER,
        Attr::SkillSource => matcher::SKILL_SOURCE,
        Attr::Path => matcher::PATH,
        Attr::Domain => matcher::DOMAIN,
        Attr::Command => matcher::COMMAND,
        // Enum attributes never reach a pattern matcher.
        Attr::Risk | Attr::Endpoint | Attr::HostClass | Attr::Target | Attr::Provenance => {
            matcher::TOOL
        }
    }
}

fn enum_of(kind: EnumKind) -> usize {
    match kind {
        EnumKind::Risk => enums::RISK,
        EnumKind::Endpoint => enums::ENDPOINT,
        EnumKind::HostClass => enums::HOST_CLASS,
        EnumKind::TargetKind => enums::TARGET,
        EnumKind::Provenance => enums::PROVENANCE,
    }
}

fn flag_index(f: Flag) -> u32 {
    match f {
        Flag::Destructive => flags::DESTRUCTIVE,
        Flag::Skill => flags::SKILL,
        Flag::SkillSigned => flags::SIGNED,
        Flag::SkillPinned => flags::PINNED,
        Flag::SkillVerified => flags::VERIFIED,
    }
}

impl Builder {
    /// The hash tables and DFAs of one matcher.
    fn build_matcher(&mut self, m: usize, postings: Vec<u32>) -> Result<MatcherData, LowerError> {
        let patterns = self.patterns[m].clone();
        let mut exact = Vec::new();
        let mut prefix = Vec::new();
        let mut suffix = Vec::new();
        let mut groups: BTreeMap<Class, (Vec<u32>, Vec<String>)> = BTreeMap::new();
        for (id, p) in patterns.iter().enumerate() {
            let id = id as u32;
            match table_for(m, p) {
                Some(Table::Exact(k)) => exact.push((self.string(&k), k, id)),
                Some(Table::Prefix(k)) => prefix.push((self.string(&k), k, id)),
                Some(Table::Suffix(k)) => suffix.push((self.string(&k), k, id)),
                None => {
                    let (class, re) = event_for(m, p);
                    let g = groups.entry(class).or_default();
                    g.0.push(id);
                    g.1.push(re);
                }
            }
        }
        let table = |entries: &[(u32, String, u32)]| {
            HashTable::build(
                &entries
                    .iter()
                    .map(|(sid, k, pid)| (k.as_str(), *sid, *pid))
                    .collect::<Vec<_>>(),
            )
        };
        let mut dfas = Vec::new();
        for (class, (ids, regexes)) in groups {
            let chunk = if class == Class::Complex {
                COMPLEX_GROUP.max(ids.len().div_ceil(60))
            } else {
                ids.len().max(1)
            };
            for (ids, regexes) in ids.chunks(chunk).zip(regexes.chunks(chunk)) {
                let anchored = class != Class::Unanchored;
                let (bytes, sparse) = build_dfa(anchored, regexes).map_err(LowerError)?;
                dfas.push(DfaData {
                    anchored,
                    sparse,
                    segments: match class {
                        Class::Segments(k) => k,
                        _ => 0,
                    },
                    ids: ids.to_vec(),
                    bytes,
                });
            }
        }
        let sources = patterns.iter().map(|p| self.string(p)).collect();
        Ok(MatcherData {
            sources,
            patterns: patterns.len() as u32,
            exact: table(&exact),
            prefix: table(&prefix),
            suffix: table(&suffix),
            dfas,
            postings,
        })
    }
}

// ------------------------------------------------------------------ lowering

/// Lowers a checked policy to table data.
pub fn lower(policy: &Policy) -> Result<TableData, LowerError> {
    let mut b = Builder::new();
    // Evaluation order: priority, then source order (a stable sort).
    let mut order: Vec<usize> = (0..policy.rules.len()).collect();
    order.sort_by_key(|&i| policy.rules[i].priority);

    let mut rules = Vec::with_capacity(order.len() * RULE_STRIDE);
    let mut roots = Vec::with_capacity(order.len());
    for &i in &order {
        let r = &policy.rules[i];
        let root = r.cond.as_ref().map(|c| b.cond(c)).unwrap_or(NONE);
        roots.push(root);
        let name = b.string(&r.name);
        let reasons: Vec<u32> = r.reasons.iter().map(|s| b.string(s)).collect();
        let violations: Vec<u32> = r.violations.iter().map(|s| b.string(s)).collect();
        let (rs, rl) = b.list(&reasons);
        let (vs, vl) = b.list(&violations);
        let explain = r.explain.as_deref().map(|e| b.string(e)).unwrap_or(NONE);
        rules.extend([
            r.priority,
            r.verdict.index() as u32,
            r.approvals.unwrap_or(0),
            name,
            rs,
            rl,
            vs,
            vl,
            explain,
            root,
        ]);
    }

    // Anchors and postings.
    let mut postings: BTreeMap<Key, Vec<u32>> = BTreeMap::new();
    let mut unanchored = Vec::new();
    for (rid, &i) in order.iter().enumerate() {
        let anchors = policy.rules[i]
            .cond
            .as_ref()
            .and_then(|c| b.anchors(c, true));
        match anchors {
            Some((_, keys)) => {
                for k in keys {
                    postings.entry(k).or_default().push(rid as u32);
                }
            }
            None => unanchored.push(rid as u32),
        }
    }

    // Tool mappings.
    let mut mapping_postings: BTreeMap<u32, Vec<u32>> = BTreeMap::new();
    let mut mappings = Vec::new();
    let mut mapping_entries = Vec::new();
    for (mid, m) in policy.mappings.iter().enumerate() {
        for t in &m.tools {
            let p = b.pattern(matcher::MAPPING_TOOLS, t);
            mapping_postings.entry(p).or_default().push(mid as u32);
        }
        let start = (mapping_entries.len() / 4) as u32;
        for e in &m.entries {
            let steps: Vec<u32> = e
                .path
                .iter()
                .map(|s| match s {
                    crate::check::model::PathStep::Key(k) => b.string(k),
                    crate::check::model::PathStep::Each => NONE,
                })
                .collect();
            let (ss, sl) = b.list(&steps);
            mapping_entries.extend([e.kind.index() as u32, e.class.index() as u32, ss, sl]);
        }
        mappings.extend([start, m.entries.len() as u32]);
    }

    // Trust (publisher, key id, key) and pins (name, version, digest hex), sorted.
    let trust = b.rows(key_rows(
        policy.trust.iter().map(|t| (&t.publisher, &t.keys)),
    ));
    let pins = b.rows(policy.pins.iter().map(Pin::row).collect());

    // Approvers (name, key id, key), sorted; the approval terms of every
    // `require_approval` rule, sorted by name: its approver set (`NONE`: any
    // declared approver) and flags.
    let approvers = b.rows(key_rows(
        policy.approvers.iter().map(|a| (&a.name, &a.keys)),
    ));
    let mut approval: Vec<&crate::check::model::Rule> = policy
        .rules
        .iter()
        .filter(|r| r.verdict == Verdict::RequireApproval)
        .collect();
    approval.sort_unstable_by(|a, b| a.name.cmp(&b.name));
    let mut approval_rules = Vec::with_capacity(approval.len() * 4);
    for r in approval {
        let (start, len) = match &r.approvers {
            None => (NONE, 0),
            Some(names) => {
                let mut names: Vec<&str> = names.iter().map(String::as_str).collect();
                names.sort_unstable();
                names.dedup();
                let ids: Vec<u32> = names.iter().map(|n| b.string(n)).collect();
                b.list(&ids)
            }
        };
        let flags = if r.interactive {
            approval_flag::INTERACTIVE
        } else {
            0
        };
        approval_rules.extend([b.string(&r.name), start, len, flags]);
    }

    // Posting lists into the shared pool.
    let mut enum_postings = vec![0u32; 2 * enums::total()];
    let mut flag_postings = vec![0u32; 2 * flags::COUNT];
    let mut pattern_postings: Vec<Vec<u32>> = (0..matcher::COUNT)
        .map(|m| vec![0u32; 2 * b.patterns[m].len()])
        .collect();
    for (key, rules_of) in &postings {
        let (start, len) = b.list(rules_of);
        match *key {
            Key::Pattern(m, p) => {
                pattern_postings[m][p as usize * 2] = start;
                pattern_postings[m][p as usize * 2 + 1] = len;
            }
            Key::Enum(e, v) => {
                let i = (enums::base(e) + v) * 2;
                enum_postings[i] = start;
                enum_postings[i + 1] = len;
            }
            Key::Flag(f) => {
                flag_postings[f as usize * 2] = start;
                flag_postings[f as usize * 2 + 1] = len;
            }
        }
    }
    for (p, mids) in &mapping_postings {
        let (start, len) = b.list(mids);
        pattern_postings[matcher::MAPPING_TOOLS][*p as usize * 2] = start;
        pattern_postings[matcher::MAPPING_TOOLS][*p as usize * 2 + 1] = len;
    }

    let mut matchers = Vec::with_capacity(matcher::COUNT);
    for (m, posts) in pattern_postings.into_iter().enumerate() {
        matchers.push(b.build_matcher(m, posts)?);
    }

    let fail_closed_risk = policy
        .fail_closed
        .risk
        .iter()
        .fold(0u32, |acc, r: &Risk| acc | 1 << r.index());
    let fail_closed_require = policy
        .fail_closed
        .require
        .iter()
        .filter_map(|f| FAIL_CLOSED_FIELDS.iter().position(|x| x == f))
        .fold(0u32, |acc, i| acc | 1 << i);
    Ok(TableData {
        default_verdict: policy.default.index() as u32,
        fail_closed_risk,
        fail_closed_require,
        strings: match b.strings_full {
            Some(e) => return Err(LowerError(e)),
            None => b.strings,
        },
        lists: b.lists,
        rules,
        nodes: b.nodes,
        atoms: b.atoms,
        valuesets: b.valuesets,
        matchers,
        enum_postings,
        flag_postings,
        unanchored,
        mappings,
        mapping_entries,
        trust,
        pins,
        approval_ttl_secs: policy.approval_ttl_secs,
        approvers,
        approval_rules,
    })
}
