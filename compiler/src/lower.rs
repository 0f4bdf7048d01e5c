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

use crate::check::attrs::{Attr, EnumKind, Flag};
use crate::check::model::{Atom, Cond, Pin, Policy, Values};
use crate::syntax::ast::Quant;
use gait_run::tables::{
    atom, enums, flags, matcher, node, DfaData, HashTable, MatcherData, TableData, NONE,
    RULE_STRIDE,
};
use gait_run::vocab::{Risk, FAIL_CLOSED_FIELDS};
use regex_automata::dfa::dense;
use regex_automata::dfa::StartKind;
use regex_automata::nfa::thompson;
use regex_automata::MatchKind;
use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LowerError(pub String);

impl std::fmt::Display for LowerError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// Largest DFA built for one attribute.
const DFA_SIZE_LIMIT: usize = 512 * 1024 * 1024;

#[derive(Default)]
struct Builder {
    strings: Vec<String>,
    string_ids: HashMap<String, u32>,
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

impl Builder {
    fn new() -> Builder {
        Builder {
            patterns: vec![Vec::new(); matcher::COUNT],
            pattern_ids: vec![HashMap::new(); matcher::COUNT],
            ..Builder::default()
        }
    }

    fn string(&mut self, s: &str) -> u32 {
        if let Some(&id) = self.string_ids.get(s) {
            return id;
        }
        let id = self.strings.len() as u32;
        self.strings.push(s.to_owned());
        self.string_ids.insert(s.to_owned(), id);
        id
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
            } => match values {
                Values::Enum { mask, .. } => [
                    atom::SCALAR_ENUM,
                    enums::RISK as u32,
                    0,
                    u32::from(*negated),
                    *mask,
                ],
                Values::Patterns { items, .. } => {
                    let m = matcher_of(*attr);
                    let vs = self.valueset(m, items);
                    [atom::SCALAR_SET, m as u32, 0, u32::from(*negated), vs]
                }
            },
            Atom::Multi {
                attr,
                quant,
                negated,
                values,
            } => {
                let q = u32::from(*quant == Quant::All);
                match values {
                    Values::Enum { kind, mask } => [
                        atom::MULTI_ENUM,
                        enum_of(*kind) as u32,
                        q,
                        u32::from(*negated),
                        *mask,
                    ],
                    Values::Patterns { items, .. } => {
                        let m = matcher_of(*attr);
                        let vs = self.valueset(m, items);
                        [atom::MULTI_SET, m as u32, q, u32::from(*negated), vs]
                    }
                }
            }
        };
        self.atom(rec)
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

// ------------------------------------------------------------------ regexes

fn escape_char(c: char, out: &mut String) {
    if "\\.+*?()|[]{}^$#&-~".contains(c) {
        out.push('\\');
    }
    out.push(c);
}

fn escape(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        escape_char(c, &mut out);
    }
    out
}

/// A path-glob segment as a regex over one segment's characters.
fn segment_regex(seg: &str) -> String {
    let chars: Vec<char> = seg.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        match chars[i] {
            // Byte-level: the same strings as `[^/]*` on UTF-8 input, far fewer states.
            '*' => out.push_str("(?-u:[^/])*"),
            '?' => out.push_str("[^/]"),
            '[' => {
                // Mirrors the reference matcher: `]` first is literal; `!`/`^` negate.
                let mut j = i + 1;
                let negate = matches!(chars.get(j), Some('!') | Some('^'));
                if negate {
                    j += 1;
                }
                let mut body = String::new();
                let mut first = true;
                let mut closed = None;
                while j < chars.len() {
                    if chars[j] == ']' && !first {
                        closed = Some(j);
                        break;
                    }
                    first = false;
                    if j + 2 < chars.len() && chars[j + 1] == '-' && chars[j + 2] != ']' {
                        escape_char(chars[j], &mut body);
                        body.push('-');
                        escape_char(chars[j + 2], &mut body);
                        j += 3;
                    } else {
                        escape_char(chars[j], &mut body);
                        j += 1;
                    }
                }
                match closed {
                    Some(end) => {
                        out.push_str(if negate { "[^/" } else { "[" });
                        out.push_str(&body);
                        out.push(']');
                        i = end;
                    }
                    None => out.push_str("\\["),
                }
            }
            c => escape_char(c, &mut out),
        }
        i += 1;
    }
    out
}

/// How a pattern is searched for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Class {
    /// In the matcher's anchored DFA; a match event anywhere means a match.
    Anchored,
    /// In the matcher's unanchored DFA; a match event anywhere means a match.
    Unanchored,
    /// A full-match regex (events only at the end) in a small DFA of its own group.
    Complex,
}

/// A path glob as an anchored full-match regex over the path key (the root is "").
pub fn path_regex(glob: &str) -> String {
    if glob == "/" {
        return r"\A\z".to_owned();
    }
    let body = glob.strip_prefix('/').unwrap_or(glob);
    let mut out = String::from(r"\A");
    for seg in body.split('/') {
        if seg == "**" {
            out.push_str("(?:/(?-u:[^/])+)*");
        } else {
            out.push('/');
            out.push_str(&segment_regex(seg));
        }
    }
    out.push_str(r"\z");
    out
}

/// A path glob in event form: a leading `**` becomes an unanchored search for
/// the rest (which starts with `/`, so only at a segment start); a trailing
/// `**` becomes "followed by `/` or the end". Globs with `**` between other
/// segments keep their full-match regex.
fn path_event(glob: &str) -> (Class, String) {
    if glob == "/" {
        return (Class::Anchored, r"\A\z".to_owned());
    }
    let body = glob.strip_prefix('/').unwrap_or(glob);
    let mut segs: Vec<&str> = Vec::new();
    for seg in body.split('/') {
        if !(seg == "**" && segs.last() == Some(&"**")) {
            segs.push(seg);
        }
    }
    if segs == ["**"] {
        return (Class::Anchored, r"\A(?:/|\z)".to_owned());
    }
    let leading = segs.first() == Some(&"**");
    let trailing = segs.last() == Some(&"**");
    let core = &segs[usize::from(leading)..segs.len() - usize::from(trailing)];
    if core.contains(&"**") {
        return (Class::Complex, path_regex(glob));
    }
    let mut re = String::new();
    for seg in core {
        re.push('/');
        re.push_str(&segment_regex(seg));
    }
    re.push_str(if trailing { r"(?:/|\z)" } else { r"\z" });
    if leading {
        (Class::Unanchored, re)
    } else {
        (Class::Anchored, format!(r"\A{re}"))
    }
}

/// A `*` glob (tools, commands) in event form.
fn star_event(glob: &str) -> (Class, String) {
    let parts: Vec<&str> = glob.split('*').collect();
    let lit = |s: &str| escape(s);
    match parts.as_slice() {
        [only] => (Class::Anchored, format!(r"\A{}\z", lit(only))),
        [a, ""] => (Class::Anchored, format!(r"\A{}", lit(a))),
        ["", b] => (Class::Unanchored, format!(r"{}\z", lit(b))),
        ["", m, ""] => (Class::Unanchored, lit(m)),
        _ => {
            let mut re = String::from(r"\A");
            for (i, p) in parts.iter().enumerate() {
                if i > 0 {
                    re.push_str("(?s-u:.)*");
                }
                re.push_str(&lit(p));
            }
            re.push_str(r"\z");
            (Class::Complex, re)
        }
    }
}

fn event_for(m: usize, p: &str) -> (Class, String) {
    match m {
        matcher::TOOL | matcher::COMMAND | matcher::MAPPING_TOOLS => star_event(p),
        matcher::PATH | matcher::WORKSPACE => path_event(p),
        matcher::DOMAIN => match p.strip_prefix("*.") {
            Some(suffix) => (
                Class::Unanchored,
                format!(r"(?s-u:.)\.{}\z", escape(suffix)),
            ),
            None => (Class::Anchored, format!(r"\A{}\z", escape(p))),
        },
        matcher::MARKERS => (Class::Unanchored, escape(p)),
        _ => (Class::Anchored, format!(r"\A{}\z", escape(p))),
    }
}

/// Full-match patterns per DFA: small groups bound the subset explosion.
const COMPLEX_GROUP: usize = 4;

fn build_dfa(anchored: bool, regexes: &[String]) -> Result<Vec<u8>, LowerError> {
    let start = if anchored {
        StartKind::Anchored
    } else {
        StartKind::Unanchored
    };
    let dfa = dense::Builder::new()
        .configure(
            dense::Config::new()
                .match_kind(MatchKind::All)
                .start_kind(start)
                .minimize(false)
                .dfa_size_limit(Some(DFA_SIZE_LIMIT))
                .determinize_size_limit(Some(DFA_SIZE_LIMIT)),
        )
        // Byte-level classes (`(?-u:[^/])`) are allowed: values are always UTF-8.
        .syntax(regex_automata::util::syntax::Config::new().utf8(false))
        .thompson(thompson::Config::new().shrink(false).utf8(false))
        .build_many(regexes)
        .map_err(|e| {
            LowerError(format!(
                "cannot build an automaton for {} patterns: {e}",
                regexes.len()
            ))
        })?;
    let (bytes, pad) = dfa.to_bytes_little_endian();
    Ok(bytes[pad..].to_vec())
}

/// Which hash table a literal pattern goes to (its key), if any.
enum Table {
    Exact(String),
    Prefix(String),
    Suffix(String),
}

fn table_for(m: usize, p: &str) -> Option<Table> {
    let wild = |s: &str| s.contains(['*', '?', '[', ']']);
    match m {
        matcher::IDENTITY
        | matcher::SKILL_NAME
        | matcher::SKILL_PUBLISHER
        | matcher::SKILL_SOURCE => Some(Table::Exact(p.to_owned())),
        matcher::TOOL | matcher::COMMAND | matcher::MAPPING_TOOLS if !p.contains('*') => {
            Some(Table::Exact(p.to_owned()))
        }
        matcher::DOMAIN => Some(match p.strip_prefix("*.") {
            Some(suffix) => Table::Suffix(suffix.to_owned()),
            None => Table::Exact(p.to_owned()),
        }),
        matcher::PATH | matcher::WORKSPACE => {
            if p == "/" {
                // The root's path key is "".
                return Some(Table::Exact(String::new()));
            }
            if p == "**" || p == "/**" {
                return Some(Table::Prefix(String::new()));
            }
            let stem = p.strip_suffix("/**").unwrap_or(p);
            if !stem.starts_with('/') || wild(stem) || stem.split('/').any(|seg| seg == "**") {
                return None;
            }
            Some(if stem.len() == p.len() {
                Table::Exact(p.to_owned())
            } else {
                Table::Prefix(stem.to_owned())
            })
        }
        _ => None,
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
                dfas.push(DfaData {
                    anchored,
                    ids: ids.to_vec(),
                    bytes: build_dfa(anchored, regexes)?,
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
    let mut trust: Vec<(String, String, String)> = Vec::new();
    for t in &policy.trust {
        for k in &t.keys {
            trust.push((t.publisher.clone(), k.id.clone(), k.base64.clone()));
        }
    }
    trust.sort();
    trust.dedup();
    let trust: Vec<u32> = trust
        .iter()
        .flat_map(|(p, k, key)| [b.string(p), b.string(k), b.string(key)])
        .collect();
    let mut pins: Vec<(String, String, String)> = policy.pins.iter().map(Pin::row).collect();
    pins.sort();
    pins.dedup();
    let pins: Vec<u32> = pins
        .iter()
        .flat_map(|(n, v, d)| [b.string(n), b.string(v), b.string(d)])
        .collect();

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
        strings: b.strings,
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
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_forms() {
        assert_eq!(
            path_event("/workspace/**"),
            (Class::Anchored, r"\A/workspace(?:/|\z)".to_owned())
        );
        assert_eq!(
            path_event("**/.ssh/id_*"),
            (Class::Unanchored, r"/\.ssh/id_(?-u:[^/])*\z".to_owned())
        );
        assert_eq!(
            path_event("**/.config/gcloud/**"),
            (Class::Unanchored, r"/\.config/gcloud(?:/|\z)".to_owned())
        );
        assert_eq!(
            path_event("/**"),
            (Class::Anchored, r"\A(?:/|\z)".to_owned())
        );
        assert_eq!(path_event("/a/**/b").0, Class::Complex);
        assert_eq!(
            star_event("mcp__*"),
            (Class::Anchored, r"\Amcp__".to_owned())
        );
        assert_eq!(
            star_event("*_file"),
            (Class::Unanchored, r"_file\z".to_owned())
        );
        assert_eq!(star_event("*"), (Class::Anchored, r"\A".to_owned()));
        assert_eq!(star_event("a*b").0, Class::Complex);
    }

    #[test]
    fn path_regexes() {
        assert_eq!(
            path_regex("/workspace/**"),
            r"\A/workspace(?:/(?-u:[^/])+)*\z"
        );
        assert_eq!(
            path_regex("**/.ssh/id_*"),
            r"\A(?:/(?-u:[^/])+)*/\.ssh/id_(?-u:[^/])*\z"
        );
        assert_eq!(path_regex("/a/[!x-z]?"), r"\A/a/[^/x-z][^/]\z");
        assert_eq!(path_regex("/a/[]x]"), r"\A/a/[\]x]\z");
        assert_eq!(path_regex("/"), r"\A\z");
    }
}
