//! The payload's bytes (`gait.tables/N`): sections of little-endian `u32`
//! arrays, a string blob and serialized automata; encoding and structural
//! decoding (indices are validated by [`Tables::load`]).

use super::*;

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
    pub const APPROVERS: u32 = 15;
    pub const APPROVAL_RULES: u32 = 16;
    /// `MATCHER + i`: `[patterns, n_dfas, (flags, n_ids, ids...)*, postings...]`;
    /// a DFA's flags: bit 0 anchored, bit 1 sparse, bits 8–15 the number
    /// of trailing segments it reads (0: the whole value).
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
                self.approval_ttl_secs,
            ]),
        );
        put_section(&mut out, tag::STRINGS, &self.strings.encode());
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
            (tag::APPROVERS, &self.approvers),
            (tag::APPROVAL_RULES, &self.approval_rules),
        ] {
            put_section(&mut out, t, &u32_bytes(v));
        }
        for (i, m) in self.matchers.iter().enumerate() {
            let mut head = vec![m.patterns, m.dfas.len() as u32];
            for d in &m.dfas {
                head.push(u32::from(d.anchored) | u32::from(d.sparse) << 1 | d.segments << 8);
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
                    let [d, r, q, ttl] = w.as_slice() else {
                        return Err(bad("bad meta section"));
                    };
                    (
                        data.default_verdict,
                        data.fail_closed_risk,
                        data.fail_closed_require,
                        data.approval_ttl_secs,
                    ) = (*d, *r, *q, *ttl);
                }
                tag::STRINGS => data.strings = Strings::decode(body)?,
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
                tag::APPROVERS => data.approvers = words()?,
                tag::APPROVAL_RULES => data.approval_rules = words()?,
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
                        let flags = next()?;
                        let segments = (flags >> 8) & 0xff;
                        if flags & !0xff03 != 0 || (segments > 0 && flags & 1 == 0) {
                            return Err(bad("unknown automaton flags"));
                        }
                        let n = next()? as usize;
                        let ids = (0..n.min(w.len()))
                            .map(|_| next())
                            .collect::<Result<Vec<_>, _>>()?;
                        m.dfas.push(DfaData {
                            anchored: flags & 1 != 0,
                            sparse: flags & 2 != 0,
                            segments,
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
