//! The body of `POST /v1/eval`: a bare intent, or an envelope
//! `{"intent": {…}, "approval_tokens": [ {…token…}, … ]}`.
//!
//! A body is an envelope when its first member's key is written plainly as
//! `"intent"` or `"approval_tokens"` and the whole body is an object with
//! exactly the member `intent` and optionally `approval_tokens` (an array),
//! each once. Anything else is decided as a bare intent, as before — an
//! intent needs `tool_name`, so a body that is neither is refused as an
//! invalid intent (`block`, 400), never allowed. A bare intent costs one
//! look at its first key, no second parse.

use serde::Deserialize;
use serde_json::value::RawValue;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Envelope<'a> {
    #[serde(borrow)]
    intent: &'a RawValue,
    #[serde(borrow, default)]
    approval_tokens: Vec<&'a RawValue>,
}

/// Whether the first member's key is `"intent"` or `"approval_tokens"`.
pub fn looks_like_envelope(body: &[u8]) -> bool {
    let mut rest = body.trim_ascii_start();
    let Some(r) = rest.strip_prefix(b"{") else {
        return false;
    };
    rest = r.trim_ascii_start();
    rest.starts_with(b"\"intent\"") || rest.starts_with(b"\"approval_tokens\"")
}

/// The intent's bytes and the tokens' bytes of a body.
pub fn split(body: &[u8]) -> (&[u8], Vec<Vec<u8>>) {
    if !looks_like_envelope(body) {
        return (body, Vec::new());
    }
    match serde_json::from_slice::<Envelope<'_>>(body) {
        Ok(e) => (
            e.intent.get().as_bytes(),
            e.approval_tokens
                .iter()
                .map(|t| t.get().as_bytes().to_vec())
                .collect(),
        ),
        Err(_) => (body, Vec::new()),
    }
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn envelopes_and_bare_intents() {
        let bare = br#"{"tool_name":"read_file","args":{}}"#;
        assert_eq!(split(bare), (&bare[..], vec![]));
        let env = br#" { "intent" : {"tool_name":"x"}, "approval_tokens": [{"a":1}, {"b":2}] }"#;
        let (i, t) = split(env);
        assert_eq!(i, br#"{"tool_name":"x"}"#);
        assert_eq!(t, vec![br#"{"a":1}"#.to_vec(), br#"{"b":2}"#.to_vec()]);
        let (i, t) = split(br#"{"intent":{"tool_name":"x"}}"#);
        assert_eq!((i, t.len()), (&br#"{"tool_name":"x"}"#[..], 0));
        let (i, t) = split(br#"{"approval_tokens":[],"intent":{"tool_name":"y"}}"#);
        assert_eq!((i, t.len()), (&br#"{"tool_name":"y"}"#[..], 0));
        // An intent with an unknown `intent` member first, a repeated key,
        // an extra member, tokens not an array: all decided as bare intents.
        for body in [
            &br#"{"intent":1,"tool_name":"read_file"}"#[..],
            br#"{"intent":{},"intent":{}}"#,
            br#"{"intent":{},"approval_tokens":[],"x":1}"#,
            br#"{"intent":{},"approval_tokens":{}}"#,
            br#"{"intent":{}"#,
        ] {
            assert_eq!(
                split(body),
                (body, vec![]),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
    }
}
