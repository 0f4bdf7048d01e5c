//! A borrowed JSON tree for the evaluation path, and the byte writers shared
//! by the canonical (RFC 8785) and the result serializations.
//!
//! Intents are parsed by serde_json into [`Json`], whose strings borrow from
//! the input text unless they contain escapes, and whose arrays, objects and
//! unescaped strings live in an arena ([`bumpalo::Bump`]) that the caller
//! resets between decisions: a warm gate reads an intent without a heap
//! allocation. Objects keep their keys in input order; a key repeated in one
//! object is an error (parsers disagree on which copy wins, so an adapter
//! that checked one copy must not have the gate decide the other).

use bumpalo::collections::Vec as ArenaVec;
/// The arena type [`Json::parse_in`] reads into (re-exported, so that
/// callers need not name the `bumpalo` crate).
pub use bumpalo::Bump;
use serde::de::{self, DeserializeSeed, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::fmt;

/// A JSON value: strings borrowed from the parsed text (or decoded into the
/// arena), arrays and objects in the arena.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Json<'a> {
    Null,
    Bool(bool),
    U64(u64),
    I64(i64),
    F64(f64),
    Str(&'a str),
    Arr(&'a [Json<'a>]),
    /// Members in input order; keys are unique.
    Obj(&'a [(&'a str, Json<'a>)]),
}

/// Objects up to this many members are checked for repeated keys pairwise;
/// larger ones by sorting (so a hostile object costs `n log n`, not `n²`).
const PAIRWISE_LIMIT: usize = 16;

/// Members the whole text's object is given room for at its first: an
/// intent has up to ten.
const INITIAL_MEMBERS: usize = 10;

/// Room any other non-empty object or list is given at its first member
/// (two: most of an intent's are small; more would let a body of many
/// one-member values take several times its size in arena).
const FIRST_ROOM: usize = 2;

/// Objects up to this many members are put in canonical key order on the
/// stack; larger ones in a vector.
const SMALL_OBJECT: usize = 32;

impl<'a> Json<'a> {
    /// Parses JSON text (the whole of it: trailing characters are an
    /// error) into `arena`. Repeated keys in any object are rejected.
    pub fn parse_in(text: &'a [u8], arena: &'a Bump) -> Result<Json<'a>, serde_json::Error> {
        // UTF-8 checked once over the whole text (then serde_json reads
        // strings without checking each again); text that is not UTF-8 is
        // read byte-wise, for serde_json's own error and position.
        match std::str::from_utf8(text) {
            Ok(text) => read_all(serde_json::Deserializer::from_str(text), arena),
            Err(_) => read_all(serde_json::Deserializer::from_slice(text), arena),
        }
    }

    /// Parses JSON text with [`Json::parse_in`]'s checks into an owned
    /// `serde_json::Value` (keys in input order).
    pub fn parse_value(text: &[u8]) -> Result<Value, serde_json::Error> {
        let arena = Bump::new();
        Json::parse_in(text, &arena).map(|j| j.to_value())
    }

    /// A view of an in-memory `serde_json::Value` (strings borrowed from
    /// it, arrays and objects in `arena`), held to the text reader's number
    /// range: `Err(`[`BEYOND_64_BITS`]`)` for a number it
    /// refuses ([`beyond_64_bits`]), found in the same walk.
    pub fn from_value(v: &'a Value, arena: &'a Bump) -> Result<Json<'a>, &'static str> {
        Self::walk::<true>(v, arena)
    }

    /// A view of a value the program itself built (manifests, signature
    /// blocks, tokens, traces: [`crate::jcs::to_string`]), every number
    /// kept as it is.
    pub fn from_own_value(v: &'a Value, arena: &'a Bump) -> Json<'a> {
        // (Unchecked, the walk refuses nothing: never `Null` here.)
        Self::walk::<false>(v, arena).unwrap_or(Json::Null)
    }

    fn walk<const CHECKED: bool>(v: &'a Value, arena: &'a Bump) -> Result<Json<'a>, &'static str> {
        Ok(match v {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Number(n) => {
                if let Some(u) = n.as_u64() {
                    Json::U64(u)
                } else if let Some(i) = n.as_i64() {
                    Json::I64(i)
                } else {
                    let f = n.as_f64();
                    if CHECKED && f.is_none_or(beyond_64_bits) {
                        return Err(BEYOND_64_BITS);
                    }
                    Json::F64(f.unwrap_or(0.0))
                }
            }
            Value::String(s) => Json::Str(s),
            Value::Array(items) => {
                let mut out = bumpalo::collections::Vec::with_capacity_in(items.len(), arena);
                for i in items {
                    out.push(Self::walk::<CHECKED>(i, arena)?);
                }
                Json::Arr(out.into_bump_slice())
            }
            Value::Object(m) => {
                let mut out = bumpalo::collections::Vec::with_capacity_in(m.len(), arena);
                for (k, v) in m {
                    out.push((k.as_str(), Self::walk::<CHECKED>(v, arena)?));
                }
                Json::Obj(out.into_bump_slice())
            }
        })
    }

    /// An owned `serde_json::Value` with the same content and key order.
    pub fn to_value(&self) -> Value {
        match *self {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(b),
            Json::U64(u) => Value::from(u),
            Json::I64(i) => Value::from(i),
            Json::F64(f) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
            Json::Str(s) => Value::String(s.to_owned()),
            Json::Arr(items) => Value::Array(items.iter().map(Json::to_value).collect()),
            Json::Obj(members) => Value::Object(
                members
                    .iter()
                    .map(|(k, v)| ((*k).to_owned(), v.to_value()))
                    .collect(),
            ),
        }
    }

    /// The member `key` of an object (`None` for other values).
    pub fn get(&self, key: &str) -> Option<&'a Json<'a>> {
        match *self {
            Json::Obj(members) => members.iter().find(|(k, _)| *k == key).map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&'a str> {
        match *self {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Json::Null)
    }

    /// Appends the RFC 8785 canonical text: keys sorted by UTF-16 code
    /// units, no whitespace, minimal escapes, ECMAScript numbers.
    pub fn write_canonical(&self, out: &mut Vec<u8>) {
        match *self {
            Json::Null => out.extend_from_slice(b"null"),
            Json::Bool(b) => out.extend_from_slice(if b { b"true" } else { b"false" }),
            Json::U64(u) => write_u64(out, u),
            Json::I64(i) => {
                if i < 0 {
                    out.push(b'-');
                }
                write_u64(out, i.unsigned_abs());
            }
            Json::F64(f) => out.extend_from_slice(es_number(f).as_bytes()),
            Json::Str(s) => write_str(out, s),
            Json::Arr(items) => {
                out.push(b'[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(b',');
                    }
                    item.write_canonical(out);
                }
                out.push(b']');
            }
            Json::Obj(members) => {
                // The members' indices in canonical key order: on the stack
                // for the usual small object.
                let mut small = [0usize; SMALL_OBJECT];
                let mut large = Vec::new();
                let order: &mut [usize] = match small.get_mut(..members.len()) {
                    Some(order) => order,
                    None => {
                        large.resize(members.len(), 0);
                        &mut large
                    }
                };
                for (i, slot) in order.iter_mut().enumerate() {
                    *slot = i;
                }
                let key = |i: &usize| members.get(*i).map_or("", |m| m.0);
                if !members.iter().all(|(k, _)| k.is_ascii()) {
                    order.sort_by(|a, b| key(a).encode_utf16().cmp(key(b).encode_utf16()));
                } else {
                    // For ASCII, byte order is UTF-16 code-unit order.
                    order.sort_by(|a, b| key(a).as_bytes().cmp(key(b).as_bytes()));
                }
                out.push(b'{');
                for (n, &i) in order.iter().enumerate() {
                    let Some((k, v)) = members.get(i) else {
                        continue;
                    };
                    if n > 0 {
                        out.push(b',');
                    }
                    write_str(out, k);
                    out.push(b':');
                    v.write_canonical(out);
                }
                out.push(b'}');
            }
        }
    }
}

/// Appends a JSON string with the escapes both RFC 8785 and serde_json's
/// compact writer use: `\"`, `\\`, `\b \f \n \r \t`, other controls as
/// `\u00xx`; everything else verbatim.
pub fn write_str(out: &mut Vec<u8>, s: &str) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes = s.as_bytes();
    out.reserve(bytes.len() + 2);
    out.push(b'"');
    // Most strings need no escape: checked a word at a time (the last
    // partial word a byte at a time), then copied whole.
    let clean = clean_prefix(bytes);
    if clean == bytes.len() {
        out.extend_from_slice(bytes);
        out.push(b'"');
        return;
    }
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate().skip(clean) {
        if !NEEDS_ESCAPE[usize::from(b)] {
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0x08 => out.extend_from_slice(b"\\b"),
            0x0c => out.extend_from_slice(b"\\f"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            _ => {
                out.extend_from_slice(b"\\u00");
                out.push(HEX[usize::from(b >> 4)]);
                out.push(HEX[usize::from(b & 15)]);
            }
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// The length of `bytes` when none of it needs an escape; otherwise a
/// prefix length (a multiple of 8) before the first byte that may.
fn clean_prefix(bytes: &[u8]) -> usize {
    let mut words = bytes.chunks_exact(8);
    let mut clean = 0;
    for word in words.by_ref() {
        let mut w = [0u8; 8];
        w.copy_from_slice(word);
        if word_needs_escape(u64::from_le_bytes(w)) {
            return clean;
        }
        clean += 8;
    }
    // The last partial word byte by byte: copying it into a padded word
    // (a variable-length copy, then an 8-byte load of what it stored) stalls
    // on the store and cost more than the rest of the string.
    if words
        .remainder()
        .iter()
        .any(|&b| NEEDS_ESCAPE[usize::from(b)])
    {
        clean
    } else {
        bytes.len()
    }
}

/// Whether any byte of the word is a control, `"` or `\` (SWAR: a byte below
/// 0x20, or equal to 0x22 or 0x5c, sets its high bit in the mask).
fn word_needs_escape(w: u64) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let zero_byte = |x: u64| x.wrapping_sub(ONES) & !x & HIGH;
    let below_space = w.wrapping_sub(ONES * 0x20) & !w & HIGH;
    let quote = zero_byte(w ^ (ONES * u64::from(b'"')));
    let backslash = zero_byte(w ^ (ONES * u64::from(b'\\')));
    below_space | quote | backslash != 0
}

/// Bytes a JSON string must escape: controls, `"` and `\`.
const NEEDS_ESCAPE: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = true;
        i += 1;
    }
    t[b'"' as usize] = true;
    t[b'\\' as usize] = true;
    t
};

/// Formats a finite double the way ECMAScript does (RFC 8785 §3.2.2.3) (shortest round-trip digits).
pub fn es_number(f: f64) -> String {
    if f == 0.0 {
        return "0".to_owned();
    }
    if !f.is_finite() {
        return "null".to_owned();
    }
    let sign = if f < 0.0 { "-" } else { "" };
    // Shortest round-trip digits and exponent from Rust's `{:e}` formatting.
    let sci = format!("{:e}", f.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let digits: String = mantissa.chars().filter(|c| c.is_ascii_digit()).collect();
    let e: i32 = exp.parse().unwrap_or(0);
    let k = digits.len() as i32;
    let n = e + 1; // position of the decimal point relative to the digits
    let body = if k <= n && n <= 21 {
        format!("{digits}{}", "0".repeat((n - k) as usize))
    } else if 0 < n && n <= 21 {
        format!("{}.{}", &digits[..n as usize], &digits[n as usize..])
    } else if -6 < n && n <= 0 {
        format!("0.{}{digits}", "0".repeat((-n) as usize))
    } else {
        let exp_sign = if n > 0 { "+" } else { "-" };
        let m = if k == 1 {
            digits
        } else {
            format!("{}.{}", &digits[..1], &digits[1..])
        };
        format!("{m}e{exp_sign}{}", (n - 1).abs())
    };
    format!("{sign}{body}")
}

/// Appends a JSON list of strings.
pub fn write_str_list<'s>(out: &mut Vec<u8>, items: impl IntoIterator<Item = &'s str>) {
    out.push(b'[');
    for (i, s) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_str(out, s);
    }
    out.push(b']');
}

/// Appends a JSON string, or `null`.
pub fn write_opt_str(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        Some(s) => write_str(out, s),
        None => out.extend_from_slice(b"null"),
    }
}

/// Appends an unsigned integer in decimal.
pub fn write_u64(out: &mut Vec<u8>, mut n: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&buf[i..]);
}

/// Reads one JSON value into the arena; `.1`: it is the whole text's value
/// (the intent's own object).
#[derive(Clone, Copy)]
struct Seed<'a>(&'a Bump, bool);

/// The whole text as one value (trailing characters are an error).
fn read_all<'a, R: serde_json::de::Read<'a>>(
    mut de: serde_json::Deserializer<R>,
    arena: &'a Bump,
) -> Result<Json<'a>, serde_json::Error> {
    let v = Seed(arena, true).deserialize(&mut de)?;
    de.end()?;
    Ok(v)
}

impl<'de: 'a, 'a> DeserializeSeed<'de> for Seed<'a> {
    type Value = Json<'a>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Json<'a>, D::Error> {
        d.deserialize_any(self)
    }
}

/// 2^64 and -2^63: a double at or past either is refused when integral
/// ([`Seed::visit_f64`]: `i64::MIN` itself is read as an `i64`, never as a
/// double; -2^63 - 1 rounds to it).
const BEYOND_U64: f64 = 18_446_744_073_709_551_616.0;

/// Why a number [`beyond_64_bits`] is refused.
pub const BEYOND_64_BITS: &str = "a number outside -2^63..2^64 is not read as the same number by every reader (a double rounds an integer there; Python's json keeps it exact): write it as a string";

/// Whether a double is an integer outside -2^63..2^64, which the JSON
/// readers refuse (see [`Json::parse_in`]).
pub fn beyond_64_bits(v: f64) -> bool {
    // Past 2^53 every finite double is an integer; infinities and NaN
    // (an in-memory value can hold them) are refused too.
    !v.is_finite() || v >= BEYOND_U64 || v <= BELOW_I64
}
const BELOW_I64: f64 = -9_223_372_036_854_775_808.0;

impl<'de: 'a, 'a> Visitor<'de> for Seed<'a> {
    type Value = Json<'a>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Json<'a>, E> {
        Ok(Json::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Json<'a>, E> {
        Ok(if v >= 0 {
            Json::U64(v.unsigned_abs())
        } else {
            Json::I64(v)
        })
    }
    fn visit_u64<E>(self, v: u64) -> Result<Json<'a>, E> {
        Ok(Json::U64(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Json<'a>, E> {
        // An integer past the 64-bit range reaches here rounded to a
        // double: 18446744073709551616 and …617 would be one number to the
        // digest (an approval for one amount would cover the other), and
        // two to a reader with big integers (Python's `json`). The text is
        // not seen here, and past 2^64 every double is integral: any
        // number that large is refused.
        if beyond_64_bits(v) {
            return Err(E::custom(BEYOND_64_BITS));
        }
        Ok(Json::F64(v))
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Json<'a>, E> {
        Ok(Json::Str(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Json<'a>, E> {
        Ok(Json::Str(self.0.alloc_str(v)))
    }
    fn visit_unit<E>(self) -> Result<Json<'a>, E> {
        Ok(Json::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json<'a>, A::Error> {
        let mut out = ArenaVec::new_in(self.0);
        while let Some(v) = seq.next_element_seed(Seed(self.0, false))? {
            if out.is_empty() {
                out.reserve(FIRST_ROOM);
            }
            out.push(v);
        }
        Ok(Json::Arr(out.into_bump_slice()))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json<'a>, A::Error> {
        // Growing an arena vector copies it: room is made at the first
        // member, for all of an intent's own members or for a few (an
        // empty `{}`, of which a body may hold many, takes none).
        let room = if self.1 { INITIAL_MEMBERS } else { FIRST_ROOM };
        let mut out: ArenaVec<'a, (&'a str, Json<'a>)> = ArenaVec::new_in(self.0);
        while let Some(key) = map.next_key_seed(KeySeed(self.0))? {
            if out.len() < PAIRWISE_LIMIT && out.iter().any(|(k, _)| *k == key) {
                return Err(repeated::<A::Error>(key));
            }
            let v = map.next_value_seed(Seed(self.0, false))?;
            if out.is_empty() {
                out.reserve(room);
            }
            out.push((key, v));
        }
        if out.len() > PAIRWISE_LIMIT {
            let mut keys: ArenaVec<'a, &str> = ArenaVec::with_capacity_in(out.len(), self.0);
            keys.extend(out.iter().map(|(k, _)| *k));
            keys.sort_unstable();
            if let Some(w) = keys.windows(2).find(|w| w[0] == w[1]) {
                return Err(repeated::<A::Error>(w[0]));
            }
        }
        Ok(Json::Obj(out.into_bump_slice()))
    }
}

fn repeated<E: de::Error>(key: &str) -> E {
    E::custom(format_args!("the key `{key}` appears twice in one object"))
}

/// Reads an object key: borrowed when it has no escapes, else decoded into
/// the arena.
#[derive(Clone, Copy)]
struct KeySeed<'a>(&'a Bump);

impl<'de: 'a, 'a> DeserializeSeed<'de> for KeySeed<'a> {
    type Value = &'a str;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<&'a str, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de: 'a, 'a> Visitor<'de> for KeySeed<'a> {
    type Value = &'a str;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("an object key")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<&'a str, E> {
        proto_key(v)?;
        Ok(v)
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<&'a str, E> {
        // Only an escaped key can hold NUL (`"path\u0000"`): a reader that
        // stops at NUL (C strings) would read it as another key (`path`).
        if v.contains('\0') {
            return Err(E::custom("an object key must not contain NUL (`\\u0000`): a reader of C strings reads it as another key"));
        }
        proto_key(v)?;
        Ok(self.0.alloc_str(v))
    }
}

/// `__proto__` is an own key to `JSON.parse` but the prototype to every
/// JavaScript copy of the object (`Object.assign({}, args)`, `for…in`,
/// spreads): `{"source": "/ws/a", "__proto__": {"destination":
/// "/etc/cron.d/evil"}}` hands the copy a destination no reader of the
/// JSON sees. Refused wherever it stands.
fn proto_key<E: de::Error>(k: &str) -> Result<(), E> {
    if k == "__proto__" {
        return Err(E::custom(
            "an object key must not be `__proto__` (JavaScript copies read it as the object's prototype)",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The byte-wise reading, which `parse_in` skips for UTF-8 text.
    fn read_bytes(text: &[u8]) -> Result<Value, String> {
        let arena = Bump::new();
        read_all(serde_json::Deserializer::from_slice(text), &arena)
            .map(|j| j.to_value())
            .map_err(|e| e.to_string())
    }

    fn read(text: &[u8]) -> Result<Value, String> {
        let arena = Bump::new();
        Json::parse_in(text, &arena)
            .map(|j| j.to_value())
            .map_err(|e| e.to_string())
    }

    /// Integers past `u64` and `i64` would reach the digest rounded to a
    /// double (…616 and …617 one number): refused, however written; the
    /// extremes of both types and fractions stay.
    #[test]
    fn integers_past_64_bits_are_refused() {
        for text in [
            "18446744073709551616",
            "18446744073709551617",
            "-9223372036854775809",
            "1e20",
            "-1.8446744073709552e19",
            "[1, {\"a\": 99999999999999999999999}]",
        ] {
            let e = read(text.as_bytes()).unwrap_err();
            assert!(e.contains("outside -2^63..2^64"), "{text}: {e}");
        }
        // Past 2^64 every double is integral: so all are refused.
        for text in ["1.5e300", "-1e100"] {
            assert!(read(text.as_bytes()).is_err(), "{text}");
        }
        for text in [
            "18446744073709551615",
            "-9223372036854775808",
            "1.5",
            "-0.0",
            "1e19",
            "0.5e-300",
        ] {
            assert!(read(text.as_bytes()).is_ok(), "{text}");
        }
    }

    proptest::proptest! {
        /// Checking UTF-8 once, then reading as text, accepts and refuses
        /// exactly what reading the bytes does, with the same error and
        /// position: escapes (lone surrogates too), control characters,
        /// repeated keys, bytes that are not UTF-8 inside and outside
        /// strings, a byte-order mark, trailing text.
        #[test]
        fn reading_as_text_is_reading_the_bytes(
            parts in proptest::collection::vec(proptest::sample::select(vec![
                &b"{"[..], b"}", b"[", b"]", b",", b":", b"\"", b"\"k\"", b"1", b"-0.5e3",
                b"null", b" ", b"\n", b"\\", b"\\u", b"d800", b"dc00", b"00e9", b"\\n",
                b"\xc3\xa9", b"\xe2\x80\xae", b"\xff", b"\xc3", b"\xed\xa0\x80",
                b"\xef\xbb\xbf", b"\x01", b"x",
            ]), 0..24),
        ) {
            let text = parts.concat();
            proptest::prop_assert_eq!(read(&text), read_bytes(&text));
        }
    }

    #[test]
    fn text_that_is_not_utf8_keeps_the_byte_readers_error() {
        for text in [
            &b"{\"k\": \"\xff\"}"[..],
            b"{\"k\": \"\xed\xa0\x80\"}",
            b"{\"k\": 1}\xff",
            b"\xef\xbb\xbf{}",
        ] {
            let err = read(text).unwrap_err();
            assert_eq!(Err(err), read_bytes(text));
        }
        assert_eq!(read(b"{\"k\": \"\xc3\xa9\"}").unwrap()["k"], "\u{e9}");
    }

    fn canonical(text: &str) -> String {
        let mut out = Vec::new();
        let arena = Bump::new();
        Json::parse_in(text.as_bytes(), &arena)
            .unwrap()
            .write_canonical(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn canonical_text_is_rfc8785() {
        // Known answers (RFC 8785: keys by UTF-16 code units, minimal
        // escapes, ECMAScript numbers); parsed text and a Value give the same.
        for (text, want) in [
            (
                r#"{ "b": 1, "a": [true, null, "x"], "\u00e9": 2, "aa": {"z": 0, "y": -1} }"#,
                "{\"a\":[true,null,\"x\"],\"aa\":{\"y\":-1,\"z\":0},\"b\":1,\"\u{e9}\":2}",
            ),
            (
                r#"{"\ue000": 2, "\ud83d\ude00": 1, "k\"q": "a\"b\\c\n\u0001\u007fé"}"#,
                "{\"k\\\"q\":\"a\\\"b\\\\c\\n\\u0001\u{7f}\u{e9}\",\"\u{1F600}\":1,\"\u{E000}\":2}",
            ),
            (
                // (Numbers past 64 bits, 1e20 or 1e21, are refused
                // before: `integers_past_64_bits_are_refused`.)
                r#"[1.5, 1e19, 4.5e15, 0.000001, 1e-7, -2.5e-10, 18446744073709551615, -9223372036854775808, 0, -0.0]"#,
                "[1.5,10000000000000000000,4500000000000000,0.000001,1e-7,-2.5e-10,18446744073709551615,-9223372036854775808,0,0]",
            ),
        ] {
            assert_eq!(canonical(text), want, "{text}");
            let v: Value = serde_json::from_str(text).unwrap();
            let mut from_value = Vec::new();
            let arena = Bump::new();
            Json::from_value(&v, &arena)
                .unwrap()
                .write_canonical(&mut from_value);
            assert_eq!(String::from_utf8(from_value).unwrap(), want, "{text}");
        }
    }

    #[test]
    fn strings_borrow_unless_escaped() {
        let text = br#"{"a": "plain", "b": "esc\"aped", "c\u0064": 1}"#;
        let arena = Bump::new();
        let j = Json::parse_in(text, &arena).unwrap();
        let in_text = |s: &str| text.as_ptr_range().contains(&s.as_ptr());
        let a = j.get("a").and_then(Json::as_str).unwrap();
        assert_eq!(a, "plain");
        assert!(in_text(a), "an unescaped string is borrowed from the text");
        let b = j.get("b").and_then(Json::as_str).unwrap();
        assert_eq!(b, "esc\"aped");
        assert!(!in_text(b), "an escaped string is decoded into the arena");
        assert_eq!(j.get("cd"), Some(&Json::U64(1)), "escaped key, decoded");
        let arena = Bump::new();
        assert!(
            Json::parse_in(
                br#"{"a":{"path":"/w/a","path\u0000":"/etc/shadow"}}"#,
                &arena
            )
            .is_err(),
            "a NUL in a key reads as another key to a C-string reader"
        );
        for text in [
            &br#"{"a":{"__proto__":{"destination":"/etc/cron.d/evil"}}}"#[..],
            br#"{"__pro\u0074o__":1}"#,
        ] {
            assert!(Json::parse_in(text, &arena).is_err(), "{text:?}");
        }
        assert!(Json::parse_in(br#"{"__proto":1,"proto__":2}"#, &arena).is_ok());
    }

    #[test]
    fn objects_larger_than_the_stack_order_are_canonical_too() {
        // Past SMALL_OBJECT members the canonical order is sorted in a
        // vector: the same text as serde_json's sorted map.
        for n in [SMALL_OBJECT - 1, SMALL_OBJECT, SMALL_OBJECT + 1, 100] {
            let members: Vec<String> = (0..n).rev().map(|i| format!("\"k{i:03}\": {i}")).collect();
            let text = format!("{{{}}}", members.join(","));
            let sorted: std::collections::BTreeMap<String, u64> =
                serde_json::from_str(&text).unwrap();
            assert_eq!(
                canonical(&text),
                serde_json::to_string(&sorted).unwrap(),
                "{n}"
            );
        }
    }

    #[test]
    fn many_small_values_cost_little_arena_room() {
        // Room is made at a value's first member: an empty `{}` or `[]`
        // takes none, a small one a few slots. A body of many small values
        // (what an attacker sends to the sidecar) stays within a small
        // multiple of its size.
        // (The list holding them costs the most: 24 bytes a value, grown
        // by doubling. Empty values stay under 40 times the text, the
        // smallest non-empty ones under 60.)
        for (item, times) in [
            ("{}", 40),
            ("[]", 40),
            (r#"{"a":1}"#, 60),
            ("[1]", 60),
            (r#"[{"a":[{}]}]"#, 60),
        ] {
            let text = format!("{{\"a\": [{}]}}", vec![item; 10_000].join(","));
            let arena = Bump::new();
            Json::parse_in(text.as_bytes(), &arena).unwrap();
            assert!(
                arena.allocated_bytes() < times * text.len(),
                "{item}: {} bytes of arena for {} bytes of text",
                arena.allocated_bytes(),
                text.len()
            );
        }
    }

    #[test]
    fn the_whole_text_is_read() {
        for bad in [&b"{} x"[..], b"{}{}", b"[1] ]", b""] {
            assert!(Json::parse_value(bad).is_err(), "{bad:?}");
        }
        assert!(Json::parse_value(b" {} \n").is_ok());
    }

    #[test]
    fn repeated_keys_are_rejected_in_small_and_large_objects() {
        assert!(Json::parse_value(br#"{"a": 1, "b": {"c": 1, "c": 2}}"#).is_err());
        assert!(
            Json::parse_value(br#"[{"x": {"m": 1, "m": 1}}]"#).is_err(),
            "inside a list"
        );
        assert!(
            Json::parse_value(br#"{"a": 1, "\u0061": 2}"#).is_err(),
            "escaped spelling"
        );
        let many: Vec<String> = (0..40).map(|i| format!("\"k{i}\": {i}")).collect();
        let ok = format!("{{{}}}", many.join(","));
        assert!(Json::parse_value(ok.as_bytes()).is_ok());
        let dup = format!("{{{}, \"k3\": 0}}", many.join(","));
        let err = Json::parse_value(dup.as_bytes()).unwrap_err().to_string();
        assert!(err.contains("`k3` appears twice"), "{err}");
    }

    #[test]
    fn string_writer_matches_serde_json() {
        let mut cases: Vec<String> = [
            "",
            "plain",
            "q\"b\\s",
            "\u{0}\u{1f}\u{7f}\t\n\r\u{8}\u{c}",
            "é😀",
        ]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
        // Bytes that need an escape and their neighbours, at every position
        // of a word and across the word boundary.
        for special in [
            '\u{0}', '\u{1f}', ' ', '!', '"', '#', '[', '\\', ']', '\u{7f}', 'é',
        ] {
            for at in 0..18 {
                let mut t: String = "abcdefghijklmnopq".chars().take(at).collect();
                t.push(special);
                // Also as the last byte: in the padded last word.
                cases.push(t.clone());
                t.push_str("tail-of-the-string");
                cases.push(t);
            }
        }
        for s in &cases {
            let s = s.as_str();
            let mut out = Vec::new();
            write_str(&mut out, s);
            assert_eq!(out, serde_json::to_vec(s).unwrap(), "{s:?}");
        }
        let mut out = Vec::new();
        for n in [0, 7, 10, 12345, u64::MAX] {
            out.clear();
            write_u64(&mut out, n);
            assert_eq!(out, n.to_string().as_bytes());
        }
    }
}
