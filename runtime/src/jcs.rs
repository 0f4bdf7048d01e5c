//! RFC 8785 JSON Canonicalization Scheme: keys sorted by UTF-16 code units,
//! no insignificant whitespace, minimal string escapes, ECMAScript numbers.
//! Used for the bundle manifest, the signature block, traces and the intent
//! digest: anything that is hashed or signed.

use serde_json::Value;

/// The canonical text of a JSON value (written by [`Json::write_canonical`],
/// the one canonical writer: intent digests, manifests, signature blocks and
/// traces all go through it).
///
/// [`Json::write_canonical`]: crate::json::Json::write_canonical
pub fn to_string(v: &Value) -> String {
    let mut out = Vec::new();
    crate::json::Json::from_own_value(v, &bumpalo::Bump::new()).write_canonical(&mut out);
    // Always valid UTF-8: escapes are ASCII and everything else is copied
    // from `str`s.
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::es_number;
    use serde_json::json;

    #[test]
    fn sorts_keys_and_strips_whitespace() {
        let v: Value = serde_json::from_str(
            r#"{ "b": 1, "a": [true, null, "x"], "\u00e9": 2, "aa": {"z": 0, "y": -1} }"#,
        )
        .unwrap();
        assert_eq!(
            to_string(&v),
            r#"{"a":[true,null,"x"],"aa":{"y":-1,"z":0},"b":1,"é":2}"#
        );
    }

    #[test]
    fn utf16_key_order() {
        // U+1F600 (surrogates D83D DE00) sorts before U+E000 in UTF-16,
        // although its UTF-8 bytes sort after.
        let v = json!({"\u{E000}": 2, "\u{1F600}": 1});
        assert_eq!(to_string(&v), "{\"\u{1F600}\":1,\"\u{E000}\":2}");
    }

    #[test]
    fn string_escapes() {
        assert_eq!(
            to_string(&json!("a\"b\\c\n\u{1}\u{7f}é")),
            "\"a\\\"b\\\\c\\n\\u0001\u{7f}é\""
        );
    }

    #[test]
    fn numbers_follow_ecmascript() {
        for (f, s) in [
            (1.5, "1.5"),
            (1e21, "1e+21"),
            (1e20, "100000000000000000000"),
            (0.000001, "0.000001"),
            (1e-7, "1e-7"),
            (-2.5e-10, "-2.5e-10"),
            (123456789.125, "123456789.125"),
            (4.35, "4.35"),
        ] {
            assert_eq!(es_number(f), s, "{f}");
        }
        assert_eq!(
            to_string(&json!(18446744073709551615u64)),
            "18446744073709551615"
        );
    }
}
