//! The body of `POST /v1/eval` (`gait-run serve`), and what the language
//! bindings digest: a bare intent, or an envelope `{"intent": {…},
//! "approval_tokens": [ {…token…}, … ]}`.
//!
//! A body whose first member's key is written plainly as `"intent"` or
//! `"approval_tokens"` is an envelope, and must be exactly one: an object
//! with the member `intent` and optionally `approval_tokens` (an array),
//! each once. One that is not (another member beside them, a repeated key,
//! tokens not an array) is refused (`block`, 400), never decided as the
//! bare intent it might also read as — a reader taking its `intent` would
//! act on another intent than the one decided. Any other body is a bare
//! intent, as before (an intent needs `tool_name`, so an envelope with an
//! escaped first key is refused as an invalid intent, its tokens never
//! judged), and the intent reader refuses any intent that carries an
//! `intent` or `approval_tokens` member, however its key is spelled
//! (`normalize::normalize_json`). A bare intent costs one look at its first
//! key here, no second parse.

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

/// The intent's bytes and the tokens' bytes of a body (slices of it, not
/// copies); `Err` (why) for an envelope that is not well-formed.
pub fn split(body: &[u8]) -> Result<(&[u8], Vec<&[u8]>), String> {
    if !looks_like_envelope(body) {
        return Ok((body, Vec::new()));
    }
    let e = serde_json::from_slice::<Envelope<'_>>(body).map_err(|e| {
        format!("not an approval envelope ({{\"intent\": {{…}}, \"approval_tokens\": […]}}): {e}")
    })?;
    Ok((
        e.intent.get().as_bytes(),
        e.approval_tokens
            .iter()
            .map(|t| t.get().as_bytes())
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::split;

    #[test]
    fn envelopes_and_bare_intents() {
        let bare = br#"{"tool_name":"read_file","args":{}}"#;
        assert_eq!(split(bare), Ok((&bare[..], vec![])));
        let env = br#" { "intent" : {"tool_name":"x"}, "approval_tokens": [{"a":1}, {"b":2}] }"#;
        let (i, t) = split(env).unwrap();
        assert_eq!(i, br#"{"tool_name":"x"}"#);
        assert_eq!(t, vec![&br#"{"a":1}"#[..], &br#"{"b":2}"#[..]]);
        // Borrowed from the body, not copied.
        assert!(t.iter().all(|s| env.as_ptr_range().contains(&s.as_ptr())));
        let (i, t) = split(br#"{"intent":{"tool_name":"x"}}"#).unwrap();
        assert_eq!((i, t.len()), (&br#"{"tool_name":"x"}"#[..], 0));
        let (i, t) = split(br#"{"approval_tokens":[],"intent":{"tool_name":"y"}}"#).unwrap();
        assert_eq!((i, t.len()), (&br#"{"tool_name":"y"}"#[..], 0));
        // An envelope's key escaped: a bare intent (without `tool_name`,
        // refused by the gate), its tokens never judged.
        let escaped = br#"{"\u0069ntent":{"tool_name":"x"},"approval_tokens":[{"a":1}]}"#;
        assert_eq!(split(escaped), Ok((&escaped[..], vec![])));
        // Read as an envelope first, never as a bare intent: a body with an
        // intent's fields beside the envelope's (two intents, one each for
        // two readers), a repeated key, an extra member, tokens not an
        // array, a truncated body.
        for body in [
            &br#"{"intent":1,"tool_name":"read_file"}"#[..],
            br#"{"intent":{"tool_name":"delete_file"},"tool_name":"read_file","args":{}}"#,
            br#"{"approval_tokens":[],"intent":{},"tool_name":"read_file"}"#,
            br#"{"intent":{},"intent":{}}"#,
            br#"{"intent":{},"\u0069ntent":{}}"#,
            br#"{"intent":{},"approval_tokens":[],"x":1}"#,
            br#"{"intent":{},"approval_tokens":{}}"#,
            br#"{"intent":{}"#,
        ] {
            let why = split(body).unwrap_err();
            assert!(
                why.starts_with("not an approval envelope"),
                "{}: {why}",
                String::from_utf8_lossy(body)
            );
        }
    }
}
