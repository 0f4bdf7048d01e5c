//! The payload's bytes (`gait.tables/N`): sections of packed `u32` arrays
//! (see [`pack`]), a string blob and serialized automata; encoding and
//! structural decoding (indices are validated by [`Tables::load`]).

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

/// The value that stands for [`NONE`] in a column `width` bytes wide: all
/// ones.
fn all_ones(width: usize) -> u32 {
    u32::MAX >> (32 - 8 * width)
}

/// Packs a `u32` array whose words form records of `stride` words (its
/// columns): `[u32 count][u8 stride][stride × u8 width]`, then each column's
/// words in turn (column `c` holds the words at `c`, `c + stride`, …), each
/// in its column's width of little-endian bytes — the fewest bytes (1–4)
/// that hold the column's largest value with all ones left free to stand
/// for [`NONE`]. Most words are ids far below 2³², so a payload packs to
/// about half of its plain `u32` size (less to hash on load); a column
/// stored on its own decodes in one tight loop.
pub(super) fn pack(v: &[u32], stride: usize) -> Vec<u8> {
    let stride = stride.clamp(1, usize::from(u8::MAX));
    let widths: Vec<usize> = (0..stride)
        .map(|c| {
            let largest = v
                .iter()
                .skip(c)
                .step_by(stride)
                .filter(|&&x| x != NONE)
                .max()
                .copied()
                .unwrap_or(0);
            (1..4).find(|&w| largest < all_ones(w)).unwrap_or(4)
        })
        .collect();
    let mut out = Vec::with_capacity(5 + stride + v.len() * 4);
    out.extend_from_slice(&(v.len() as u32).to_le_bytes());
    out.push(stride as u8);
    out.extend(widths.iter().map(|&w| w as u8));
    for (c, &w) in widths.iter().enumerate() {
        for &x in v.iter().skip(c).step_by(stride) {
            let x = if x == NONE { all_ones(w) } else { x };
            out.extend_from_slice(&x.to_le_bytes()[..w]);
        }
    }
    out
}

/// A matcher section's words, read front to back.
struct Words<'a>(&'a [u32]);

impl<'a> Words<'a> {
    /// The next `n` words.
    fn take(&mut self, n: usize) -> Result<&'a [u32], TableError> {
        if n > self.0.len() {
            return Err(bad("truncated matcher section"));
        }
        let (head, tail) = self.0.split_at(n);
        self.0 = tail;
        Ok(head)
    }

    fn next(&mut self) -> Result<u32, TableError> {
        Ok(self.take(1)?[0])
    }
}

/// Fills every `stride`-th word of `column` from `bytes`, `W` bytes a word
/// (a width known at compile time: one tight loop per width).
fn unpack_column<const W: usize>(column: &mut [u32], stride: usize, bytes: &[u8]) {
    let ones = all_ones(W);
    let read = |b: &[u8]| {
        let mut le = [0u8; 4];
        le[..W].copy_from_slice(b);
        let x = u32::from_le_bytes(le);
        if x == ones {
            NONE
        } else {
            x
        }
    };
    if stride == 1 {
        for (slot, b) in column.iter_mut().zip(bytes.chunks_exact(W)) {
            *slot = read(b);
        }
    } else {
        for (row, b) in column.chunks_mut(stride).zip(bytes.chunks_exact(W)) {
            if let Some(slot) = row.first_mut() {
                *slot = read(b);
            }
        }
    }
}

/// Reads a section written by [`pack`]: exactly `count` words, every width
/// 1–4, no byte left over.
fn unpack(body: &[u8]) -> Result<Vec<u32>, TableError> {
    let (words, rest) = unpack_prefix(body)?;
    if !rest.is_empty() {
        return Err(bad("packed section has bytes after its words"));
    }
    Ok(words)
}

/// Reads one array written by [`pack`] from the front of `body`; returns
/// it and the bytes after it.
pub(super) fn unpack_prefix(body: &[u8]) -> Result<(Vec<u32>, &[u8]), TableError> {
    let truncated = || bad("truncated packed section");
    let head = body.get(..5).ok_or_else(truncated)?;
    let count = u32::from_le_bytes([head[0], head[1], head[2], head[3]]) as usize;
    let stride = usize::from(head[4]);
    let widths = body.get(5..5 + stride).ok_or_else(truncated)?;
    if stride == 0 || widths.iter().any(|w| !(1..=4).contains(w)) {
        return Err(bad("bad packed section header"));
    }
    let mut data = &body[5 + stride..];
    // Every word takes a byte at least: a count past the data is refused
    // before anything is allocated for it.
    if count > data.len() {
        return Err(truncated());
    }
    // Each column's bytes (all checked before anything is written).
    let mut columns = Vec::with_capacity(stride);
    for (c, &w) in widths.iter().enumerate() {
        let w = usize::from(w);
        let n = count.saturating_sub(c).div_ceil(stride);
        let bytes = data.get(..n * w).ok_or_else(truncated)?;
        data = &data[n * w..];
        columns.push((w, bytes));
    }
    let mut out = vec![0u32; count];
    // Records are stored column by column and read back row by row: a
    // transposition, done a block of rows at a time so that every column
    // writes into rows still in cache (one pass over the array, not one
    // per column).
    let rows_per_block = if stride == 1 {
        count.max(1)
    } else {
        BLOCK_ROWS
    };
    for (b, block) in out.chunks_mut(rows_per_block * stride).enumerate() {
        let first_row = b * rows_per_block;
        for (c, &(w, bytes)) in columns.iter().enumerate() {
            let column = block.get_mut(c..).unwrap_or_default();
            let n = column.len().div_ceil(stride);
            let from = first_row * w;
            let bytes = bytes.get(from..from + n * w).ok_or_else(truncated)?;
            match w {
                1 => unpack_column::<1>(column, stride, bytes),
                2 => unpack_column::<2>(column, stride, bytes),
                3 => unpack_column::<3>(column, stride, bytes),
                _ => unpack_column::<4>(column, stride, bytes),
            }
        }
    }
    Ok((out, data))
}

/// Rows of a strided section unpacked together (see [`unpack_prefix`]):
/// 512 rows of the widest record (10 words) are 20 KiB.
const BLOCK_ROWS: usize = 512;

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
        for (t, v, stride) in [
            (tag::LISTS, &self.lists, 1),
            (tag::RULES, &self.rules, RULE_STRIDE),
            (tag::NODES, &self.nodes, node::STRIDE),
            (tag::ATOMS, &self.atoms, atom::STRIDE),
            (tag::VALUESETS, &self.valuesets, 2),
            (tag::ENUM_POSTINGS, &self.enum_postings, 2),
            (tag::FLAG_POSTINGS, &self.flag_postings, 2),
            (tag::UNANCHORED, &self.unanchored, 1),
            (tag::MAPPINGS, &self.mappings, 2),
            (tag::MAPPING_ENTRIES, &self.mapping_entries, 4),
            (tag::TRUST, &self.trust, 3),
            (tag::PINS, &self.pins, 3),
            (tag::APPROVERS, &self.approvers, 3),
            (tag::APPROVAL_RULES, &self.approval_rules, 4),
        ] {
            put_section(&mut out, t, &pack(v, stride));
        }
        for (i, m) in self.matchers.iter().enumerate() {
            if *m == MatcherData::default() {
                // An attribute no rule tests: no section (decoded as empty).
                continue;
            }
            let mut head = vec![m.patterns, m.dfas.len() as u32];
            for d in &m.dfas {
                head.push(u32::from(d.anchored) | u32::from(d.sparse) << 1 | d.segments << 8);
                head.push(d.ids.len() as u32);
                head.extend(&d.ids);
            }
            // Then its arrays, each packed on its own (ids, slots and
            // `(start, len)` postings need different widths).
            let mut body = pack(&head, 1);
            for t in [&m.exact, &m.prefix, &m.suffix] {
                body.extend(pack(&t.slots, 1));
                body.extend(pack(&t.entries, 2));
            }
            body.extend(pack(&m.sources, 1));
            body.extend(pack(&m.postings, 2));
            put_section(&mut out, tag::MATCHER + i as u32, &body);
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
                tag::LISTS => data.lists = unpack(body)?,
                tag::RULES => data.rules = unpack(body)?,
                tag::NODES => data.nodes = unpack(body)?,
                tag::ATOMS => data.atoms = unpack(body)?,
                tag::VALUESETS => data.valuesets = unpack(body)?,
                tag::ENUM_POSTINGS => data.enum_postings = unpack(body)?,
                tag::FLAG_POSTINGS => data.flag_postings = unpack(body)?,
                tag::UNANCHORED => data.unanchored = unpack(body)?,
                tag::MAPPINGS => data.mappings = unpack(body)?,
                tag::MAPPING_ENTRIES => data.mapping_entries = unpack(body)?,
                tag::TRUST => data.trust = unpack(body)?,
                tag::PINS => data.pins = unpack(body)?,
                tag::APPROVERS => data.approvers = unpack(body)?,
                tag::APPROVAL_RULES => data.approval_rules = unpack(body)?,
                t if (tag::MATCHER..tag::MATCHER + matcher::COUNT as u32).contains(&t) => {
                    let (head, arrays) = unpack_prefix(body)?;
                    let m = &mut data.matchers[(t - tag::MATCHER) as usize];
                    let mut rest = Words(head.as_slice());
                    m.patterns = rest.next()?;
                    let n_dfas = rest.next()?;
                    if n_dfas > tag::DFAS_PER_MATCHER {
                        return Err(bad("too many automata in a matcher"));
                    }
                    for _ in 0..n_dfas {
                        let flags = rest.next()?;
                        let segments = (flags >> 8) & 0xff;
                        if flags & !0xff03 != 0 || (segments > 0 && flags & 1 == 0) {
                            return Err(bad("unknown automaton flags"));
                        }
                        let n = rest.next()? as usize;
                        let ids = rest.take(n)?.to_vec();
                        m.dfas.push(DfaData {
                            anchored: flags & 1 != 0,
                            sparse: flags & 2 != 0,
                            segments,
                            ids,
                            bytes: Vec::new(),
                        });
                    }
                    if !rest.0.is_empty() {
                        return Err(bad("matcher head has words after its automata"));
                    }
                    let mut arrays = arrays;
                    let mut array = || -> Result<Vec<u32>, TableError> {
                        let (words, after) = unpack_prefix(arrays)?;
                        arrays = after;
                        Ok(words)
                    };
                    for t in [&mut m.exact, &mut m.prefix, &mut m.suffix] {
                        t.slots = array()?;
                        t.entries = array()?;
                        if t.entries.len() % 2 != 0 {
                            return Err(bad("hash table entries are not pairs"));
                        }
                    }
                    m.sources = array()?;
                    m.postings = array()?;
                    if !arrays.is_empty() {
                        return Err(bad("matcher section has bytes after its arrays"));
                    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packed_columns_take_the_bytes_their_values_need() {
        // Records of three words: ids below 2⁸ - 1, a column with NONE and
        // values up to 2¹⁶ - 2, and one needing all four bytes.
        let v = [7, NONE, 70_000, 254, 65_534, 1, 0, 0, u32::MAX - 1, 3];
        let bytes = pack(&v, 3);
        // count, stride, widths; then 4 + 3 + 3 words of 1, 2 and 4 bytes.
        assert_eq!(&bytes[..8], &[10, 0, 0, 0, 3, 1, 2, 4]);
        assert_eq!(bytes.len(), 8 + 4 + 3 * 2 + 3 * 4);
        // The first column: 7, 254, 0, 3 (254 = 2⁸ - 2 still fits a byte).
        assert_eq!(&bytes[8..12], &[7, 254, 0, 3]);
        // NONE in a two-byte column is 0xffff.
        assert_eq!(&bytes[12..14], &[0xff, 0xff]);
        assert_eq!(unpack(&bytes).unwrap(), v);
        // 255 no longer fits a byte: it would read as NONE.
        assert_eq!(&pack(&[255], 1)[..6], &[1, 0, 0, 0, 1, 2]);
        for (v, stride) in [
            (vec![], 1),
            (vec![NONE; 5], 2),
            (vec![0, 1, 2], 4),
            ((0..1000).map(|i| i * 97).collect(), 7),
            // Several blocks of rows, the last one partial and ragged.
            (
                (0..(BLOCK_ROWS as u32 * 3 * 10 + 7))
                    .map(|i| i.wrapping_mul(2_654_435_761) >> (i % 29))
                    .collect(),
                10,
            ),
            ((0..(BLOCK_ROWS as u32 * 2 * 3)).collect(), 3),
        ] {
            assert_eq!(unpack(&pack(&v, stride)).unwrap(), v, "stride {stride}");
        }
    }

    #[test]
    fn hostile_packed_sections_are_refused() {
        let good = pack(&[1, 2, 3, 4], 2);
        let mut cases: Vec<(&str, Vec<u8>)> = vec![
            ("empty", Vec::new()),
            ("no widths", good[..5].to_vec()),
            ("one word short", good[..good.len() - 1].to_vec()),
            ("a byte over", [good.as_slice(), &[0]].concat()),
            // A count no data could hold is refused, not allocated.
            (
                "huge count",
                [&u32::MAX.to_le_bytes()[..], &[1, 1, 9]].concat(),
            ),
        ];
        let mut zero_stride = good.clone();
        zero_stride[4] = 0;
        cases.push(("stride 0", zero_stride));
        for bad_width in [0, 5] {
            let mut b = good.clone();
            b[5] = bad_width;
            cases.push(("width out of 1-4", b));
        }
        for (what, body) in cases {
            assert!(unpack(&body).is_err(), "{what}");
        }
    }
}
