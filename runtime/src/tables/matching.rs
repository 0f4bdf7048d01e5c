//! A loaded matcher: exact, prefix and suffix hash tables and automata over
//! the patterns of one attribute; one pass over a value yields the ids of
//! every pattern it matches.

use super::*;
use regex_automata::dfa::{dense, sparse, Automaton};
use regex_automata::util::primitives::StateID;
use regex_automata::util::start;
use regex_automata::Anchored;

/// A DFA as the compiler chose to store it: dense (one table lookup per
/// byte) for small automata, sparse (a few times smaller, a short scan of
/// the state's transitions per byte) for large ones.
enum Dfa {
    Dense(dense::DFA<Vec<u32>>),
    Sparse(sparse::DFA<Vec<u8>>),
}

pub(super) struct Scanner {
    dfa: Dfa,
    start: StateID,
    ids: Vec<u32>,
    /// See [`DfaData::segments`].
    segments: u32,
}

/// Where the value's last `k` segments start: its `k`-th last `/`.
fn last_segments(hay: &[u8], k: u32) -> Option<usize> {
    let mut left = k;
    for (i, &b) in hay.iter().enumerate().rev() {
        if b == b'/' {
            left -= 1;
            if left == 0 {
                return Some(i);
            }
        }
    }
    None
}

/// Validates a serialized DFA against its table entry; returns it (owned)
/// and its start state.
fn load_dfa<A: Automaton>(dfa: &A, d: &DfaData) -> Result<StateID, TableError> {
    if dfa.pattern_len() != d.ids.len() {
        return Err(bad("automaton pattern count differs from its table"));
    }
    let anchored = if d.anchored {
        Anchored::Yes
    } else {
        Anchored::No
    };
    dfa.start_state(&start::Config::new().anchored(anchored))
        .map_err(|e| bad(format!("automaton has no usable start state: {e}")))
}

/// Appends the ids of every pattern the DFA reports over `hay` (one pass,
/// stopping at a dead state). Most bytes lead to a state that is neither
/// dead nor matching: one comparison (`is_special_state`) tells, and only a
/// special state is looked at further.
fn scan<A: Automaton>(dfa: &A, start: StateID, ids: &[u32], hay: &[u8], out: &mut Vec<u32>) {
    let mut s = start;
    for &b in hay {
        s = dfa.next_state(s, b);
        if dfa.is_special_state(s) {
            if dfa.is_dead_state(s) {
                return;
            }
            if dfa.is_match_state(s) {
                report(dfa, s, ids, out);
            }
        }
    }
    let s = dfa.next_eoi_state(s);
    if dfa.is_match_state(s) {
        report(dfa, s, ids, out);
    }
}

/// Appends the ids of the patterns match state `s` reports.
#[inline(never)]
fn report<A: Automaton>(dfa: &A, s: StateID, ids: &[u32], out: &mut Vec<u32>) {
    for i in 0..dfa.match_len(s) {
        if let Some(&id) = ids.get(dfa.match_pattern(s, i).as_usize()) {
            out.push(id);
        }
    }
}

/// Which key lengths a hash table holds: bit `i` for a key of `i` bytes
/// (`i < 63`), bit 63 for any key of 63 bytes or more. A value part whose
/// length no key has is not hashed, let alone looked up.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct KeyLengths(u64);

impl KeyLengths {
    /// Whether some key may be `len` bytes long.
    fn may_hold(self, len: usize) -> bool {
        self.0 >> len.min(63) & 1 == 1
    }
}

/// A hash table with what its keys' lengths tell: which lengths occur, and
/// the longest (longer parts of a value cannot match, so they are never
/// hashed: a value with many segments or labels stays linear to scan,
/// whatever an attacker sends).
struct Table {
    table: HashTable,
    lengths: KeyLengths,
    longest: usize,
}

impl Table {
    /// `strings`: the table's keys were checked on load to be its ids.
    fn new(table: HashTable, strings: &Strings) -> Table {
        let (mut bits, mut longest) = (0u64, 0);
        for e in table.entries.chunks_exact(2) {
            let len = strings.len_of(e[0] as usize).unwrap_or(0);
            bits |= 1 << len.min(63);
            longest = longest.max(len);
        }
        Table {
            table,
            lengths: KeyLengths(bits),
            longest,
        }
    }

    fn is_empty(&self) -> bool {
        self.table.slots.is_empty()
    }

    /// Appends the pattern ids of every entry whose key is `key`.
    fn lookup(&self, strings: &Strings, key: &str, out: &mut Vec<u32>) {
        if self.lengths.may_hold(key.len()) {
            self.probe(strings, key, fnv1a(key.as_bytes()), out);
        }
    }

    /// [`Table::lookup`] with the key's hash (`fnv1a(key)`) already known.
    fn lookup_hashed(&self, strings: &Strings, key: &str, hash: u64, out: &mut Vec<u32>) {
        if self.lengths.may_hold(key.len()) {
            self.probe(strings, key, hash, out);
        }
    }

    fn probe(&self, strings: &Strings, key: &str, hash: u64, out: &mut Vec<u32>) {
        let table = &self.table;
        if table.slots.is_empty() {
            return;
        }
        let mask = table.slots.len() - 1;
        let mut h = hash as usize & mask;
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
}

pub(super) struct Matcher {
    dfas: Vec<Scanner>,
    exact: Table,
    prefix: Table,
    suffix: Table,
    /// The suffix table holds path suffixes (`/a/b`, from `**/a/b`) looked
    /// up at `/` boundaries; else domain suffixes looked up after each `.`.
    segment_suffixes: bool,
    pub(super) patterns: u32,
    pub(super) postings: Vec<u32>,
    pub(super) sources: Vec<u32>,
}

impl Matcher {
    /// Takes the matcher's data as it is (moved, not copied); DFAs are
    /// validated and then owned.
    /// `segment_suffixes`: see [`Matcher::segment_suffixes`].
    pub(super) fn load(
        m: MatcherData,
        strings: &Strings,
        segment_suffixes: bool,
    ) -> Result<Matcher, TableError> {
        let n_strings = strings.len();
        if m.postings.len() != 2 * m.patterns as usize {
            return Err(bad("matcher postings do not match its pattern count"));
        }
        let mut covered = vec![false; m.patterns as usize];
        let mut dfas = Vec::with_capacity(m.dfas.len());
        for d in m.dfas {
            let (dfa, start) = if d.sparse {
                // Byte-oriented: no alignment needed.
                let (dfa, _) = sparse::DFA::from_bytes(&d.bytes)
                    .map_err(|e| bad(format!("invalid automaton: {e}")))?;
                let start = load_dfa(&dfa, &d)?;
                (Dfa::Sparse(dfa.to_owned()), start)
            } else {
                // `from_bytes` needs 4-byte alignment: copy into an aligned spot.
                let mut buf = vec![0u8; d.bytes.len() + 8];
                let off = buf.as_ptr().align_offset(4);
                buf[off..off + d.bytes.len()].copy_from_slice(&d.bytes);
                let (dfa, _) = dense::DFA::from_bytes(&buf[off..off + d.bytes.len()])
                    .map_err(|e| bad(format!("invalid automaton: {e}")))?;
                let start = load_dfa(&dfa, &d)?;
                (Dfa::Dense(dfa.to_owned()), start)
            };
            for &id in &d.ids {
                match covered.get_mut(id as usize) {
                    Some(c) if !*c => *c = true,
                    _ => return Err(bad("automaton pattern id out of range or repeated")),
                }
            }
            dfas.push(Scanner {
                dfa,
                start,
                ids: d.ids,
                segments: d.segments,
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
                if e[0] as usize >= n_strings {
                    return Err(bad("hash table key out of range"));
                }
            }
        }
        if covered.iter().any(|c| !c) {
            return Err(bad("a pattern has no automaton"));
        }
        if m.sources.len() != m.patterns as usize
            || m.sources.iter().any(|&s| s as usize >= n_strings)
        {
            return Err(bad("pattern sources do not match the patterns"));
        }
        Ok(Matcher {
            segment_suffixes,
            dfas,
            exact: Table::new(m.exact, strings),
            prefix: Table::new(m.prefix, strings),
            suffix: Table::new(m.suffix, strings),
            patterns: m.patterns,
            postings: m.postings,
            sources: m.sources,
        })
    }

    /// Appends, sorted and unique, the ids of every pattern `value` matches.
    pub(super) fn matches(&self, value: &str, strings: &Strings, out: &mut Vec<u32>) {
        if self.patterns == 0 {
            // No pattern of this attribute in the policy (checked on load:
            // every pattern has a table entry or an automaton, so none is
            // left out here).
            return;
        }
        let first = out.len();
        let hay = value.as_bytes();
        self.exact.lookup(strings, value, out);
        if !self.prefix.is_empty() {
            // `/a/**` matches `/a` and everything below it: look up every
            // segment-boundary prefix (the key "" matches every path). The
            // prefixes' hashes are one running FNV-1a over the value.
            let longest = self.prefix.longest;
            let mut h = fnv1a(b"");
            self.prefix.lookup_hashed(strings, "", h, out);
            for (i, &b) in hay.iter().enumerate().take(longest + 1) {
                if b == b'/' && i > 0 {
                    self.prefix.lookup_hashed(strings, &value[..i], h, out);
                }
                h = fnv1a_step(h, b);
            }
            if !value.is_empty() && value.len() <= longest {
                self.prefix.lookup_hashed(strings, value, h, out);
            }
        }
        if !self.suffix.is_empty() {
            if self.segment_suffixes {
                // `**/a/b` matches a path whose last segments are `a/b`: look
                // up every suffix that starts at a `/` (key `/a/b`).
                let first = hay.len().saturating_sub(self.suffix.longest);
                for (i, &b) in hay.iter().enumerate().skip(first) {
                    if b == b'/' {
                        self.suffix.lookup(strings, &value[i..], out);
                    }
                }
            } else {
                // `*.s` matches hosts strictly below `s`.
                let first = hay.len().saturating_sub(self.suffix.longest + 1);
                for (i, &b) in hay.iter().enumerate().skip(first.max(1)) {
                    if b == b'.' {
                        self.suffix.lookup(strings, &value[i + 1..], out);
                    }
                }
            }
        }
        for a in &self.dfas {
            let from = match a.segments {
                0 => 0,
                k => match last_segments(hay, k) {
                    Some(i) => i,
                    None => continue,
                },
            };
            match &a.dfa {
                Dfa::Dense(dfa) => scan(dfa, a.start, &a.ids, &hay[from..], out),
                Dfa::Sparse(dfa) => scan(dfa, a.start, &a.ids, &hay[from..], out),
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

    pub(super) fn posting(&self, pattern: u32) -> (usize, usize) {
        let i = pattern as usize * 2;
        match (self.postings.get(i), self.postings.get(i + 1)) {
            (Some(&a), Some(&b)) => (a as usize, b as usize),
            _ => (0, 0),
        }
    }
}
