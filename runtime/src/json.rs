//! A borrowed JSON tree for the evaluation path, and the byte writers shared
//! by the canonical (RFC 8785) and the result serializations.
//!
//! Intents are parsed by serde_json into [`Json`], whose strings borrow from
//! the input text unless they contain escapes: one decision allocates only
//! the object and array vectors, not a string per value. Objects keep their
//! keys in input order; a key repeated in one object is an error (parsers
//! disagree on which copy wins, so an adapter that checked one copy must not
//! have the gate decide the other).

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::Value;
use std::borrow::Cow;
use std::fmt;

/// A JSON value whose strings borrow from the parsed text where they can.
#[derive(Debug, Clone, PartialEq)]
pub enum Json<'a> {
    Null,
    Bool(bool),
    U64(u64),
    I64(i64),
    F64(f64),
    Str(Cow<'a, str>),
    Arr(Vec<Json<'a>>),
    /// Members in input order; keys are unique.
    Obj(Vec<(Cow<'a, str>, Json<'a>)>),
}

/// Objects up to this many members are checked for repeated keys pairwise;
/// larger ones by sorting (so a hostile object costs `n log n`, not `n²`).
const PAIRWISE_LIMIT: usize = 16;

impl<'a> Json<'a> {
    /// Parses JSON text. Repeated keys in any object are rejected.
    pub fn parse(text: &'a [u8]) -> Result<Json<'a>, serde_json::Error> {
        serde_json::from_slice(text)
    }

    /// A view of a `serde_json::Value` (strings borrowed from it).
    pub fn from_value(v: &'a Value) -> Json<'a> {
        match v {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Number(n) => {
                if let Some(u) = n.as_u64() {
                    Json::U64(u)
                } else if let Some(i) = n.as_i64() {
                    Json::I64(i)
                } else {
                    Json::F64(n.as_f64().unwrap_or(0.0))
                }
            }
            Value::String(s) => Json::Str(Cow::Borrowed(s)),
            Value::Array(items) => Json::Arr(items.iter().map(Json::from_value).collect()),
            Value::Object(m) => Json::Obj(
                m.iter()
                    .map(|(k, v)| (Cow::Borrowed(k.as_str()), Json::from_value(v)))
                    .collect(),
            ),
        }
    }

    /// An owned `serde_json::Value` with the same content and key order.
    pub fn to_value(&self) -> Value {
        match self {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::U64(u) => Value::from(*u),
            Json::I64(i) => Value::from(*i),
            Json::F64(f) => serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number),
            Json::Str(s) => Value::String(s.as_ref().to_owned()),
            Json::Arr(items) => Value::Array(items.iter().map(Json::to_value).collect()),
            Json::Obj(members) => Value::Object(
                members
                    .iter()
                    .map(|(k, v)| (k.as_ref().to_owned(), v.to_value()))
                    .collect(),
            ),
        }
    }

    /// The member `key` of an object (`None` for other values).
    pub fn get(&self, key: &str) -> Option<&Json<'a>> {
        match self {
            Json::Obj(members) => members
                .iter()
                .find(|(k, _)| k.as_ref() == key)
                .map(|(_, v)| v),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self {
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
        match self {
            Json::Null => out.extend_from_slice(b"null"),
            Json::Bool(b) => out.extend_from_slice(if *b { b"true" } else { b"false" }),
            Json::U64(u) => write_u64(out, *u),
            Json::I64(i) => {
                if *i < 0 {
                    out.push(b'-');
                }
                write_u64(out, i.unsigned_abs());
            }
            Json::F64(f) => out.extend_from_slice(es_number(*f).as_bytes()),
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
                let mut order: Vec<&(Cow<'a, str>, Json<'a>)> = members.iter().collect();
                if !order.iter().all(|(k, _)| k.is_ascii()) {
                    order.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
                } else {
                    // For ASCII, byte order is UTF-16 code-unit order.
                    order.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
                }
                out.push(b'{');
                for (i, (k, v)) in order.into_iter().enumerate() {
                    if i > 0 {
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
    out.reserve(s.len() + 2);
    out.push(b'"');
    let bytes = s.as_bytes();
    // Most strings need no escape: skip clean 8-byte words at once.
    let mut clean = 0;
    while let Some(word) = bytes.get(clean..clean + 8) {
        let mut w = [0u8; 8];
        w.copy_from_slice(word);
        if word_needs_escape(u64::from_le_bytes(w)) {
            break;
        }
        clean += 8;
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

impl<'de> Deserialize<'de> for Json<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Json<'de>, D::Error> {
        d.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Json<'de>, E> {
        Ok(Json::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Json<'de>, E> {
        Ok(if v >= 0 {
            Json::U64(v.unsigned_abs())
        } else {
            Json::I64(v)
        })
    }
    fn visit_u64<E>(self, v: u64) -> Result<Json<'de>, E> {
        Ok(Json::U64(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Json<'de>, E> {
        Ok(Json::F64(v))
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Json<'de>, E> {
        Ok(Json::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Json<'de>, E> {
        Ok(Json::Str(Cow::Owned(v.to_owned())))
    }
    fn visit_string<E>(self, v: String) -> Result<Json<'de>, E> {
        Ok(Json::Str(Cow::Owned(v)))
    }
    fn visit_unit<E>(self) -> Result<Json<'de>, E> {
        Ok(Json::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json<'de>, A::Error> {
        let mut out = Vec::new();
        while let Some(v) = seq.next_element()? {
            out.push(v);
        }
        Ok(Json::Arr(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json<'de>, A::Error> {
        let mut out: Vec<(Cow<'de, str>, Json<'de>)> = Vec::new();
        while let Some(Key(key)) = map.next_key()? {
            if out.len() < PAIRWISE_LIMIT && out.iter().any(|(k, _)| *k == key) {
                return Err(repeated::<A::Error>(&key));
            }
            let v = map.next_value()?;
            out.push((key, v));
        }
        if out.len() > PAIRWISE_LIMIT {
            let mut keys: Vec<&str> = out.iter().map(|(k, _)| k.as_ref()).collect();
            keys.sort_unstable();
            if let Some(w) = keys.windows(2).find(|w| w[0] == w[1]) {
                return Err(repeated::<A::Error>(w[0]));
            }
        }
        Ok(Json::Obj(out))
    }
}

fn repeated<E: de::Error>(key: &str) -> E {
    E::custom(format_args!("the key `{key}` appears twice in one object"))
}

/// An object key, borrowed when it has no escapes.
struct Key<'a>(Cow<'a, str>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Key<'de>, D::Error> {
        struct KeyVisitor;
        impl<'de> Visitor<'de> for KeyVisitor {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object key")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v)))
            }
        }
        d.deserialize_str(KeyVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical(text: &str) -> String {
        let mut out = Vec::new();
        Json::parse(text.as_bytes())
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
                r#"[1.5, 1e21, 1e20, 0.000001, 1e-7, -2.5e-10, 18446744073709551615, -9223372036854775808, 0, -0.0]"#,
                "[1.5,1e+21,100000000000000000000,0.000001,1e-7,-2.5e-10,18446744073709551615,-9223372036854775808,0,0]",
            ),
        ] {
            assert_eq!(canonical(text), want, "{text}");
            let v: Value = serde_json::from_str(text).unwrap();
            let mut from_value = Vec::new();
            Json::from_value(&v).write_canonical(&mut from_value);
            assert_eq!(String::from_utf8(from_value).unwrap(), want, "{text}");
        }
    }

    #[test]
    fn strings_borrow_unless_escaped() {
        let j = Json::parse(br#"{"a": "plain", "b": "esc\"aped"}"#).unwrap();
        assert!(matches!(
            j.get("a"),
            Some(Json::Str(Cow::Borrowed("plain")))
        ));
        assert!(matches!(j.get("b"), Some(Json::Str(Cow::Owned(s))) if s == "esc\"aped"));
    }

    #[test]
    fn repeated_keys_are_rejected_in_small_and_large_objects() {
        assert!(Json::parse(br#"{"a": 1, "b": {"c": 1, "c": 2}}"#).is_err());
        assert!(
            Json::parse(br#"[{"x": {"m": 1, "m": 1}}]"#).is_err(),
            "inside a list"
        );
        assert!(
            Json::parse(br#"{"a": 1, "\u0061": 2}"#).is_err(),
            "escaped spelling"
        );
        let many: Vec<String> = (0..40).map(|i| format!("\"k{i}\": {i}")).collect();
        let ok = format!("{{{}}}", many.join(","));
        assert!(Json::parse(ok.as_bytes()).is_ok());
        let dup = format!("{{{}, \"k3\": 0}}", many.join(","));
        let err = Json::parse(dup.as_bytes()).unwrap_err().to_string();
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
