//! The approval token (`gait.approval_token`, `schemas/v1/approval_token.schema.json`):
//! one approver's signed consent to one intent under one policy, for a
//! bounded time, usable once.
//!
//! ```json
//! {"approver":"alice","intent_digest":"sha256:…","issued_at":"2026-12-04T08:00:00Z",
//!  "key_id":"<64 hex>","not_after":"2026-12-04T08:15:00Z","policy_digest":"sha256:…",
//!  "policy_revision":7,"rules":["unverified_skill"],"schema_id":"gait.approval_token",
//!  "schema_version":"1.0.0","signature":{"alg":"ed25519","key_id":"<64 hex>","sig":"<base64>"},
//!  "token_id":"<32 hex>"}
//! ```
//!
//! The signature is Ed25519 over the RFC 8785 canonical text of the token
//! without `signature` ([`Token::signed_bytes`]); the token file is the
//! canonical text of the whole token and a newline. The reader is strict:
//! unknown or repeated fields, wrong types, malformed ids, digests or times,
//! unsorted rules and anything over [`MAX_TOKEN_BYTES`] are refused, as
//! values ([`TokenError`]), never a panic.

use crate::json::{write_str, write_str_list, write_u64};
use crate::keys::{b64_decode, b64_encode, KeyPair, PublicKey};
use serde::Deserialize;

/// The schema version this runtime writes and reads.
pub const TOKEN_SCHEMA_VERSION: &str = "1.0.0";
/// The largest token accepted, in bytes.
pub const MAX_TOKEN_BYTES: usize = 8 * 1024;
/// The most rules a token may name.
pub const MAX_TOKEN_RULES: usize = 64;
/// The longest approver name, in bytes.
pub const MAX_APPROVER_LEN: usize = 128;

/// A token's claims: everything it binds except the signature.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    /// 128 random bits, 32 lowercase hex.
    pub token_id: String,
    pub approver: String,
    /// The signing key's id (lowercase hex SHA-256 of the public key).
    pub key_id: String,
    pub intent_digest: String,
    pub policy_digest: String,
    pub policy_revision: u32,
    /// The contributing rules, sorted and unique.
    pub rules: Vec<String>,
    /// RFC 3339 texts as signed, and their Unix seconds.
    pub issued_at: String,
    pub not_after: String,
    pub issued_at_secs: i64,
    pub not_after_secs: i64,
}

/// A token read by [`read`]: well-formed; its signature is not checked yet
/// ([`Token::verify`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Token {
    pub claims: Claims,
    /// The 64 signature bytes.
    pub sig: Vec<u8>,
}

/// Why a token is not well-formed (`approval_token_invalid`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenError(pub String);

impl std::fmt::Display for TokenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for TokenError {}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawToken {
    schema_id: String,
    schema_version: String,
    token_id: String,
    approver: String,
    key_id: String,
    intent_digest: String,
    policy_digest: String,
    policy_revision: u32,
    rules: Vec<String>,
    issued_at: String,
    not_after: String,
    signature: RawSignature,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSignature {
    alg: String,
    key_id: String,
    sig: String,
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn is_digest(s: &str) -> bool {
    s.strip_prefix("sha256:").is_some_and(|h| is_hex(h, 64))
}

/// Reads a token file's bytes strictly.
pub fn read(bytes: &[u8]) -> Result<Token, TokenError> {
    let bad = |m: String| Err(TokenError(m));
    if bytes.len() > MAX_TOKEN_BYTES {
        return bad(format!("larger than {MAX_TOKEN_BYTES} bytes"));
    }
    let raw: RawToken = serde_json::from_slice(bytes)
        .map_err(|e| TokenError(format!("not a well-formed approval token: {e}")))?;
    if raw.schema_id != super::TOKEN_SCHEMA_ID {
        return bad(format!(
            "schema_id is `{}`, expected `{}`",
            raw.schema_id,
            super::TOKEN_SCHEMA_ID
        ));
    }
    if raw.schema_version != TOKEN_SCHEMA_VERSION {
        return bad(format!(
            "schema_version `{}` is not supported (this runtime reads {TOKEN_SCHEMA_VERSION})",
            raw.schema_version
        ));
    }
    if !is_hex(&raw.token_id, 32) {
        return bad("token_id must be 32 lowercase hex digits".into());
    }
    if raw.approver.is_empty()
        || raw.approver.len() > MAX_APPROVER_LEN
        || raw.approver.chars().any(char::is_control)
    {
        return bad(format!(
            "approver must be 1 to {MAX_APPROVER_LEN} bytes without control characters"
        ));
    }
    if !is_hex(&raw.key_id, 64) {
        return bad("key_id must be 64 lowercase hex digits".into());
    }
    if !is_digest(&raw.intent_digest) || !is_digest(&raw.policy_digest) {
        return bad("intent_digest and policy_digest must be sha256: and 64 lowercase hex".into());
    }
    if raw.rules.len() > MAX_TOKEN_RULES
        || raw.rules.iter().any(|r| r.is_empty())
        || raw.rules.windows(2).any(|w| w[0] >= w[1])
    {
        return bad(format!(
            "rules must be at most {MAX_TOKEN_RULES} non-empty names, sorted and unique"
        ));
    }
    let issued_at_secs = crate::time::parse_rfc3339(&raw.issued_at)
        .map_err(|e| TokenError(format!("issued_at: {e}")))?;
    let not_after_secs = crate::time::parse_rfc3339(&raw.not_after)
        .map_err(|e| TokenError(format!("not_after: {e}")))?;
    if not_after_secs <= issued_at_secs {
        return bad("not_after must be later than issued_at".into());
    }
    let s = raw.signature;
    if s.alg != "ed25519" {
        return bad(format!(
            "signature.alg `{}` is not supported (ed25519)",
            s.alg
        ));
    }
    if s.key_id != raw.key_id {
        return bad("signature.key_id differs from key_id".into());
    }
    let sig = match b64_decode(&s.sig) {
        Some(b) if b.len() == 64 => b,
        _ => return bad("signature.sig must be the base64 of 64 bytes".into()),
    };
    Ok(Token {
        claims: Claims {
            token_id: raw.token_id,
            approver: raw.approver,
            key_id: raw.key_id,
            intent_digest: raw.intent_digest,
            policy_digest: raw.policy_digest,
            policy_revision: raw.policy_revision,
            rules: raw.rules,
            issued_at: raw.issued_at,
            not_after: raw.not_after,
            issued_at_secs,
            not_after_secs,
        },
        sig,
    })
}

impl Claims {
    /// Appends the RFC 8785 canonical members of the claims (keys in
    /// code-unit order; all keys are ASCII), without the braces, and with
    /// `signature` placed where it sorts when given.
    fn write_members(&self, out: &mut Vec<u8>, signature: Option<(&str, &str)>) {
        out.extend_from_slice(br#""approver":"#);
        write_str(out, &self.approver);
        out.extend_from_slice(br#","intent_digest":"#);
        write_str(out, &self.intent_digest);
        out.extend_from_slice(br#","issued_at":"#);
        write_str(out, &self.issued_at);
        out.extend_from_slice(br#","key_id":"#);
        write_str(out, &self.key_id);
        out.extend_from_slice(br#","not_after":"#);
        write_str(out, &self.not_after);
        out.extend_from_slice(br#","policy_digest":"#);
        write_str(out, &self.policy_digest);
        out.extend_from_slice(br#","policy_revision":"#);
        write_u64(out, u64::from(self.policy_revision));
        out.extend_from_slice(br#","rules":"#);
        write_str_list(out, self.rules.iter().map(String::as_str));
        out.extend_from_slice(br#","schema_id":"#);
        write_str(out, super::TOKEN_SCHEMA_ID);
        out.extend_from_slice(br#","schema_version":"#);
        write_str(out, TOKEN_SCHEMA_VERSION);
        if let Some((key_id, sig)) = signature {
            out.extend_from_slice(br#","signature":{"alg":"ed25519","key_id":"#);
            write_str(out, key_id);
            out.extend_from_slice(br#","sig":"#);
            write_str(out, sig);
            out.push(b'}');
        }
        out.extend_from_slice(br#","token_id":"#);
        write_str(out, &self.token_id);
    }

    /// The bytes the signature covers: the canonical text of the token
    /// without `signature`.
    pub fn signed_bytes(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(512);
        out.push(b'{');
        self.write_members(&mut out, None);
        out.push(b'}');
        out
    }

    /// Signs the claims (whose `key_id` must be `key`'s: it is set here)
    /// and returns the token file's text: canonical JSON and a newline.
    pub fn sign(mut self, key: &KeyPair) -> Vec<u8> {
        key.public().id().clone_into(&mut self.key_id);
        let sig = b64_encode(&key.sign(&self.signed_bytes()));
        let mut out = Vec::with_capacity(640);
        out.push(b'{');
        self.write_members(&mut out, Some((&self.key_id, &sig)));
        out.extend_from_slice(b"}\n");
        out
    }
}

impl Token {
    /// Whether the signature verifies with `key` (strict Ed25519).
    pub fn verify(&self, key: &PublicKey) -> bool {
        key.verify(&self.claims.signed_bytes(), &self.sig)
    }
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "tests fail loudly on broken fixtures"
)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    pub(crate) fn claims() -> Claims {
        Claims {
            token_id: "0123456789abcdef0123456789abcdef".into(),
            approver: "alice".into(),
            key_id: String::new(),
            intent_digest: format!("sha256:{}", "a".repeat(64)),
            policy_digest: format!("sha256:{}", "b".repeat(64)),
            policy_revision: 7,
            rules: vec!["r1".into(), "r2".into()],
            issued_at: "2026-12-04T08:00:00Z".into(),
            not_after: "2026-12-04T08:15:00Z".into(),
            issued_at_secs: 0,
            not_after_secs: 0,
        }
    }

    #[test]
    fn signed_text_is_the_rfc8785_text_and_known() {
        let key = KeyPair::from_seed(&[9; 32]);
        let text = claims().sign(&key);
        let v: Value = serde_json::from_slice(&text).unwrap();
        // The writer agrees with the one canonicalizer (as the bundle's
        // manifest does), and the file is exactly that text.
        assert_eq!(
            format!("{}\n", crate::jcs::to_string(&v)).as_bytes(),
            &text[..]
        );
        let token = read(&text).unwrap();
        let mut body = v.clone();
        body.as_object_mut().unwrap().remove("signature");
        assert_eq!(
            token.claims.signed_bytes(),
            crate::jcs::to_string(&body).into_bytes()
        );
        // Known answer: the canonical signed text, by hand.
        let expected = format!(
            concat!(
                r#"{{"approver":"alice","intent_digest":"sha256:{a}","issued_at":"2026-12-04T08:00:00Z","#,
                r#""key_id":"{k}","not_after":"2026-12-04T08:15:00Z","policy_digest":"sha256:{b}","#,
                r#""policy_revision":7,"rules":["r1","r2"],"schema_id":"gait.approval_token","#,
                r#""schema_version":"1.0.0","token_id":"0123456789abcdef0123456789abcdef"}}"#
            ),
            a = "a".repeat(64),
            b = "b".repeat(64),
            k = key.public().id()
        );
        assert_eq!(
            String::from_utf8(token.claims.signed_bytes()).unwrap(),
            expected
        );
        // Ed25519 is deterministic: the signature is a known answer too.
        assert_eq!(
            v["signature"]["sig"],
            b64_encode(&key.sign(expected.as_bytes()))
        );
        assert!(token.verify(key.public()));
        assert!(!token.verify(KeyPair::from_seed(&[8; 32]).public()));
        assert_eq!(token.claims.issued_at_secs, 1_796_371_200);
        assert_eq!(
            token.claims.not_after_secs - token.claims.issued_at_secs,
            900
        );
    }

    #[test]
    fn escapes_follow_rfc8785() {
        let key = KeyPair::from_seed(&[9; 32]);
        let mut c = claims();
        c.approver = "al\"ice\u{e9}\u{1}".into();
        let text = claims_text(c, &key);
        let v: Value = serde_json::from_slice(&text).unwrap();
        assert_eq!(
            format!("{}\n", crate::jcs::to_string(&v)).as_bytes(),
            &text[..]
        );
    }

    fn claims_text(c: Claims, key: &KeyPair) -> Vec<u8> {
        c.sign(key)
    }

    #[test]
    fn the_reader_is_strict() {
        let key = KeyPair::from_seed(&[9; 32]);
        let good: Value = serde_json::from_slice(&claims().sign(&key)).unwrap();
        let mutate = |f: &dyn Fn(&mut Value)| {
            let mut v = good.clone();
            f(&mut v);
            read(v.to_string().as_bytes())
        };
        assert!(mutate(&|_| {}).is_ok());
        type Edit = Box<dyn Fn(&mut Value)>;
        let cases: Vec<(&str, Edit)> = vec![
            ("unknown field", Box::new(|v| v["extra"] = json!(1))),
            (
                "unknown signature field",
                Box::new(|v| v["signature"]["x"] = json!(1)),
            ),
            ("schema", Box::new(|v| v["schema_id"] = json!("gait.other"))),
            (
                "version",
                Box::new(|v| v["schema_version"] = json!("2.0.0")),
            ),
            (
                "revision type",
                Box::new(|v| v["policy_revision"] = json!("7")),
            ),
            (
                "negative revision",
                Box::new(|v| v["policy_revision"] = json!(-1)),
            ),
            ("token id", Box::new(|v| v["token_id"] = json!("ABC"))),
            (
                "upper hex",
                Box::new(|v| v["token_id"] = json!("0123456789ABCDEF0123456789abcdef")),
            ),
            ("approver", Box::new(|v| v["approver"] = json!(""))),
            ("control", Box::new(|v| v["approver"] = json!("a\nb"))),
            (
                "digest",
                Box::new(|v| v["intent_digest"] = json!("sha256:xyz")),
            ),
            (
                "rules order",
                Box::new(|v| v["rules"] = json!(["r2", "r1"])),
            ),
            ("rules dup", Box::new(|v| v["rules"] = json!(["r1", "r1"]))),
            ("rules type", Box::new(|v| v["rules"] = json!("r1"))),
            ("time", Box::new(|v| v["issued_at"] = json!("yesterday"))),
            (
                "backwards",
                Box::new(|v| v["not_after"] = json!("2026-12-04T07:00:00Z")),
            ),
            ("alg", Box::new(|v| v["signature"]["alg"] = json!("rsa"))),
            (
                "sig key",
                Box::new(|v| v["signature"]["key_id"] = json!("0".repeat(64))),
            ),
            ("sig b64", Box::new(|v| v["signature"]["sig"] = json!("!!"))),
            (
                "sig len",
                Box::new(|v| v["signature"]["sig"] = json!(b64_encode(&[0; 63]))),
            ),
            (
                "missing",
                Box::new(|v| {
                    v.as_object_mut().unwrap().remove("rules");
                }),
            ),
            ("not an object", Box::new(|v| *v = json!([1]))),
        ];
        for (name, f) in cases {
            assert!(mutate(&*f).is_err(), "{name}");
        }
        // A repeated key, and oversize input.
        let text = String::from_utf8(claims().sign(&key)).unwrap();
        let dup = text.replacen("{", r#"{"approver":"bob","#, 1);
        assert!(read(dup.as_bytes()).is_err(), "repeated key");
        let big = format!("{}{}", " ".repeat(MAX_TOKEN_BYTES), text);
        assert!(read(big.as_bytes()).unwrap_err().0.contains("larger"));
        assert!(read(b"").is_err());
        assert!(read(&[0xff, 0xfe]).is_err());
    }
}
