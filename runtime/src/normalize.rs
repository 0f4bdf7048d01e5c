//! Intent input and normalization (runtime.md §2–3): the security boundary.
//!
//! Gait's `IntentRequest` JSON is read as is (unknown fields ignored); every
//! value a policy can test is normalized before evaluation, so that raw-string
//! tricks (traversal, encodings, userinfo, IP notations, wrappers) cannot
//! change a decision. Anything that cannot be normalized makes the intent
//! invalid: it is never evaluated.

use crate::canonical::{NormalizeBuffers, Texts};
use crate::decision::Decision;
use crate::intent::{Intent, Provenance, Skill, Target, Targets};
use crate::json::Bump;
use crate::json::{write_opt_str, write_str, Json};
use crate::tables::{Steps, Tables};
use crate::vocab::{EndpointClass, HostClass, ProvenanceSource, Risk, TargetKind};
use serde_json::Value;
use std::borrow::Cow;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Largest intent accepted, in bytes.
pub const MAX_INTENT_BYTES: usize = 1024 * 1024;
/// Most targets (explicit and mapped) one intent may carry.
pub const MAX_TARGETS: usize = 4096;
/// Most targets times readings in one intent: each reading of an intent
/// whose paths another program reads otherwise ([`PathReading`]) builds
/// and decides every target again, so an intent with such paths has room
/// for fewer targets (4,096 read once, 1,365 read three ways, 409 read ten
/// ways): a decision's work stays bounded.
pub const MAX_TARGET_READINGS: usize = 4096;

/// Why an intent is invalid: the field and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntentError {
    pub field: String,
    pub message: String,
    /// A reason code more specific than `intent_invalid`, reported beside
    /// it (`url_ambiguous`).
    pub code: Option<&'static str>,
}

/// The longest path the Linux kernel accepts (`PATH_MAX`, with its NUL).
pub const PATH_MAX: usize = 4096;

/// The reason code of a URL that readers disagree on (issue 14).
pub const URL_AMBIGUOUS: &str = "url_ambiguous";

impl std::fmt::Display for IntentError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

fn invalid(field: impl Into<String>, message: impl Into<String>) -> IntentError {
    let message = message.into();
    // The URL reader marks an ambiguous URL by its code (see `ambiguous`).
    let code = message
        .strip_prefix(URL_AMBIGUOUS)
        .is_some_and(|rest| rest.starts_with(':'))
        .then_some(URL_AMBIGUOUS);
    IntentError {
        field: field.into(),
        message,
        code,
    }
}

fn ambiguous(raw: &str, why: &str) -> String {
    format!("{URL_AMBIGUOUS}: `{raw}` {why}: HTTP clients (curl, urllib, Go) and the WHATWG reading would not agree on its host")
}

/// The warnings normalization raised (inline: there are few).
pub type Warnings = smallvec::SmallVec<[&'static str; 2]>;

/// A normalized intent with its digest and the warnings normalization raised.
#[derive(Debug, Clone)]
pub struct Normalized<'a> {
    pub intent: Intent<'a>,
    /// `sha256:` + hex SHA-256 of [`Normalized::canonical`].
    pub digest: Digest,
    /// The RFC 8785 canonical JSON text of the normalized intent (what the
    /// digest covers): tool, args, explicit targets and provenance sorted and
    /// deduplicated, skill provenance, context. Empty when normalized by
    /// [`normalize_json_with`] without `keep_canonical`.
    pub canonical: Vec<u8>,
    pub warnings: Warnings,
    /// The raw skill provenance (copied into traces), kept with the
    /// canonical text only ([`Normalized::canonical`]).
    pub skill_provenance: Option<Value>,
    /// The intent with `\` in paths read as `/`, when a path holds `\`.
    pub backslash_reading: Option<Box<Intent<'a>>>,
    /// The intent with paths read as a shell reads a word (quotes and
    /// escapes removed, each bracket expression one of its characters),
    /// when a path holds `\`, `'`, `"` or `[…]`: one intent per choice of
    /// the bracket expressions' characters ([`PathReading::Shell`]).
    pub shell_readings: Vec<Intent<'a>>,
}

impl Normalized<'_> {
    /// Decides every reading of the intent with `decide` and keeps the most
    /// restrictive verdict (on a tie, the POSIX reading's decision).
    pub fn decide<'b>(&self, mut decide: impl FnMut(&Intent<'_>) -> Decision<'b>) -> Decision<'b> {
        let mut decision = decide(&self.intent);
        let others = self.backslash_reading.as_deref().into_iter();
        for other in others.chain(&self.shell_readings) {
            decision = crate::decision::most_restrictive(decision, decide(other));
        }
        decision
    }

    /// The same, owning its values (detached from the intent's text).
    pub fn into_owned(self) -> Normalized<'static> {
        Normalized {
            intent: self.intent.into_owned(),
            digest: self.digest,
            canonical: self.canonical,
            warnings: self.warnings,
            skill_provenance: self.skill_provenance,
            backslash_reading: self.backslash_reading.map(|i| Box::new(i.into_owned())),
            shell_readings: self
                .shell_readings
                .into_iter()
                .map(Intent::into_owned)
                .collect(),
        }
    }

    /// The canonical normalized intent as a JSON value (for traces).
    pub fn canonical_value(&self) -> Value {
        serde_json::from_slice(&self.canonical).unwrap_or(Value::Null)
    }
}

fn check_size(bytes: &[u8]) -> Result<(), IntentError> {
    if bytes.len() > MAX_INTENT_BYTES {
        return Err(invalid(
            "intent",
            format!("larger than {} bytes", MAX_INTENT_BYTES),
        ));
    }
    Ok(())
}

/// Parses intent text (a JSON object) into a borrowed tree. A key repeated
/// in any object makes the intent invalid: parsers disagree on which copy
/// wins (first or last), and an adapter that checked one copy must not have
/// the gate decide the other.
pub fn parse_json<'a>(bytes: &'a [u8], arena: &'a Bump) -> Result<Json<'a>, IntentError> {
    check_size(bytes)?;
    let v = Json::parse_in(bytes, arena)
        .map_err(|e| invalid("intent", format!("not valid JSON: {e}")))?;
    if !matches!(v, Json::Obj(_)) {
        return Err(invalid("intent", "not a JSON object"));
    }
    Ok(v)
}

/// The intent digest the gate gives an intent's text (its result's
/// `intent_digest`): read and normalized as [`crate::gate::evaluate`]
/// reads it, without a bundle (the digest covers the canonical intent,
/// never a bundle's mappings). `Err` for an intent the gate refuses as
/// invalid (it has no digest). What the language bindings compare an
/// answer's claimed digest with.
pub fn intent_digest(bytes: &[u8]) -> Result<Digest, IntentError> {
    let arena = Bump::new();
    let json = parse_json(bytes, &arena)?;
    normalize_json_with(&json, None, false).map(|n| n.digest)
}

/// [`parse_json`], as an owned `serde_json::Value` (same checks).
pub fn parse(bytes: &[u8]) -> Result<Value, IntentError> {
    parse_json(bytes, &Bump::new()).map(|j| j.to_value())
}

const READ_OPS: &[&str] = &[
    "read", "get", "list", "open", "stat", "cat", "head", "download",
];
const WRITE_OPS: &[&str] = &[
    "write", "append", "put", "create", "update", "save", "copy", "move", "rename", "mkdir",
];
const DELETE_OPS: &[&str] = &[
    "delete", "remove", "rm", "unlink", "rmdir", "drop", "truncate",
];
const DNS_OPS: &[&str] = &["dns", "resolve", "lookup"];
const EXEC_OPS: &[&str] = &["exec", "spawn", "run", "shell", "command"];

/// Members of a JSON object (`None` for null or missing; an error otherwise).
fn object<'a>(
    v: Option<&Json<'a>>,
    field: impl FnOnce() -> String,
) -> Result<&'a [(&'a str, Json<'a>)], IntentError> {
    match v {
        None | Some(Json::Null) => Ok(&[]),
        Some(Json::Obj(m)) => Ok(*m),
        Some(_) => Err(invalid(field(), "must be a JSON object")),
    }
}

fn member<'a>(obj: &'a [(&'a str, Json<'a>)], key: &str) -> Option<&'a Json<'a>> {
    obj.iter().find(|(k, _)| *k == key).map(|(_, v)| v)
}

fn str_field<'a>(
    obj: &'a [(&'a str, Json<'a>)],
    key: &str,
    field: impl FnOnce() -> String,
) -> Result<Option<&'a str>, IntentError> {
    match member(obj, key) {
        None | Some(Json::Null) => Ok(None),
        Some(Json::Str(s)) => Ok(Some(*s)),
        Some(_) => Err(invalid(field(), "must be a string")),
    }
}

/// The vocabulary word in `obj[key]` (trimmed, any case): missing or
/// unknown is an error naming `field(".key")` and the word, lower-cased.
fn word_field<T>(
    obj: &[(&str, Json<'_>)],
    key: &str,
    field: &dyn Fn(&str) -> String,
    parse: fn(&str) -> Option<T>,
    what: &str,
) -> Result<T, IntentError> {
    let dotted = || field(&format!(".{key}"));
    let text = str_field(obj, key, dotted)?.unwrap_or_default().trim();
    parse(text).ok_or_else(|| invalid(dotted(), format!("unknown {what} `{}`", lower(text))))
}

/// Lower-cases, borrowing when the text is already lower-case ASCII (the
/// usual case: kinds, risks, sources are only compared, never stored).
fn lower(s: &str) -> Cow<'_, str> {
    if s.bytes().any(|b| b.is_ascii_uppercase()) || !s.is_ascii() {
        Cow::Owned(s.to_lowercase())
    } else {
        Cow::Borrowed(s)
    }
}

/// Normalizes an intent given as a `serde_json::Value`. A value built in
/// memory has not been through the text reader's checks: its numbers are
/// held to the same range ([`Json::from_value`]).
pub fn normalize(raw: &Value, tables: Option<&Tables>) -> Result<Normalized<'static>, IntentError> {
    let arena = Bump::new();
    let json = Json::from_value(raw, &arena).map_err(|why| invalid("intent", why))?;
    normalize_json(&json, tables).map(Normalized::into_owned)
}

/// Normalizes an intent. `tables` supplies the bundle's tool mappings. A
/// path holding `\` is read both ways ([`PathReading`]): the POSIX reading is
/// the intent, the other is kept in [`Normalized::backslash_reading`].
pub fn normalize_json<'a>(
    raw: &Json<'a>,
    tables: Option<&Tables>,
) -> Result<Normalized<'a>, IntentError> {
    normalize_json_with(raw, tables, true)
}

/// [`normalize_json`]; with `keep_canonical` false the canonical text is
/// hashed into the digest and not kept ([`Normalized::canonical`] is
/// empty): the gate keeps it only for a signed trace.
pub fn normalize_json_with<'a>(
    raw: &Json<'a>,
    tables: Option<&Tables>,
    keep_canonical: bool,
) -> Result<Normalized<'a>, IntentError> {
    normalize_json_in(
        raw,
        tables,
        keep_canonical,
        &mut NormalizeBuffers::default(),
    )
}

/// [`normalize_json_with`] with reused buffers (the gate passes its
/// scratch's): a warm normalization allocates nothing for its texts. The
/// caller keeping them trims them ([`NormalizeBuffers::trim`]) after each
/// use, as the gate does after every decision.
pub fn normalize_json_in<'a>(
    raw: &Json<'a>,
    tables: Option<&Tables>,
    keep_canonical: bool,
    bufs: &mut NormalizeBuffers,
) -> Result<Normalized<'a>, IntentError> {
    if let Json::Obj(obj) = *raw {
        // The members of an approval envelope (`POST /v1/eval`): an intent
        // carrying one reads as two requests — the intent decided here, and
        // the one a reader of `intent` would act on. Keys are compared
        // decoded, so an escaped spelling is caught too.
        for key in ["intent", "approval_tokens"] {
            if member(obj, key).is_some() {
                return Err(invalid(
                    key,
                    "an intent must not carry an approval envelope's member (it would read as two requests)",
                ));
            }
        }
    }
    let text = if keep_canonical {
        Canonical::Keep
    } else {
        Canonical::DigestOnly
    };
    // The POSIX reading notes, from each path as given (before `..` is
    // resolved: `sub/'..'/../x` loses its quotes to the `..`, not to
    // bash), which other readings the intent needs.
    OTHER_READINGS.with(|o| *o.borrow_mut() = Some(OtherReadings::default()));
    let mut memo = Memo {
        built: Vec::new(),
        next: 0,
    };
    other_readings(raw, tables, text, bufs, &mut memo)
}

/// [`normalize_json_in`]: the POSIX reading, then the others its paths
/// need. (Inlined: the normalized intent is not moved once more.)
#[inline(always)]
fn other_readings<'a>(
    raw: &Json<'a>,
    tables: Option<&Tables>,
    text: Canonical,
    bufs: &mut NormalizeBuffers,
    memo: &mut Memo<'a>,
) -> Result<Normalized<'a>, IntentError> {
    let posix = normalize_as(raw, tables, PathReading::Posix, text, bufs, memo);
    let needs = OTHER_READINGS
        .with(|o| o.borrow_mut().take())
        .unwrap_or_default();
    let mut n = posix?;
    let Some(shell) = needs.shell_readings() else {
        return Err(invalid(
            "path",
            "the intent's paths hold more than 8 combinations of bracket set characters (each combination is a reading the gate judges: give fewer such paths or smaller sets)",
        ));
    };
    let readings = 1 + usize::from(needs.backslash) + shell;
    let count = bufs.spans.len();
    if readings > 1 && count.saturating_mul(readings) > MAX_TARGET_READINGS {
        return Err(invalid(
            "targets",
            format!(
                "{count} targets read {readings} ways each is more than {MAX_TARGET_READINGS} target readings (a path with `\\`, a quote or a bracket set is also judged as a shell or a Windows-minded tool reads it): give fewer targets"
            ),
        ));
    }
    if needs.backslash {
        n.backslash_reading = Some(Box::new(
            normalize_as(
                raw,
                tables,
                PathReading::Backslash,
                Canonical::Skip,
                bufs,
                memo,
            )?
            .intent,
        ));
    }
    if shell > 0 {
        // Reading k picks, in each bracketed path, the k-th combination in
        // mixed radix over the paths ([`path_choice`]): every combination
        // of every path's characters is one reading.
        SHELL_RADIX.with(|r| *r.borrow_mut() = needs.radix());
        let readings = (0..shell).try_for_each(|choice| {
            let reading = PathReading::Shell(choice);
            let intent = normalize_as(raw, tables, reading, Canonical::Skip, bufs, memo)?.intent;
            n.shell_readings.push(intent);
            Ok(())
        });
        SHELL_RADIX.with(|r| r.borrow_mut().clear());
        readings?;
    }
    Ok(n)
}

/// The POSIX reading's targets in the order it built them, for the other
/// readings to reuse each one no reading changes: a target that is not a
/// path (a command line is parsed once, not once per reading), and an
/// absolute path with no `\`, quote or bracket. Each is matched to the
/// call that builds it again by the position and length of its value in
/// the intent's text (the spans, kept in [`NormalizeBuffers`]).
struct Memo<'a> {
    /// The POSIX reading's targets, when the intent has other readings.
    built: Vec<Target<'a>>,
    /// The next target a later reading builds.
    next: usize,
}

impl<'a> Memo<'a> {
    /// The target built from `value`: the POSIX reading's when `reading`
    /// reads it the same way, else `build`'s.
    fn target(
        &mut self,
        spans: &mut Vec<(usize, usize)>,
        reading: PathReading,
        kind: TargetKind,
        value: &'a str,
        build: impl FnOnce() -> Result<Target<'a>, String>,
    ) -> Result<Target<'a>, String> {
        let span = (value.as_ptr() as usize, value.len());
        if reading == PathReading::Posix {
            spans.push(span);
            return build();
        }
        let i = self.next;
        self.next += 1;
        #[cfg(test)]
        if tests::NO_REUSE.with(std::cell::Cell::get) {
            return build();
        }
        let same = kind != TargetKind::Path || {
            let bytes = path_bytes(value);
            value.starts_with('/')
                && match reading {
                    PathReading::Backslash => bytes & BACKSLASH == 0,
                    _ => bytes & OTHER_READING == 0,
                }
        };
        match (spans.get(i), self.built.get(i)) {
            (Some(&s), Some(t)) if same && s == span => Ok(t.clone()),
            _ => build(),
        }
    }
}

/// What [`normalize_as`] makes of the canonical text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Canonical {
    /// Hashed into the digest and kept ([`Normalized::canonical`]).
    Keep,
    /// Hashed into the digest only.
    DigestOnly,
    /// Neither: the backslash or shell reading, whose intent alone is used
    /// (the digest is the POSIX reading's).
    Skip,
}

fn normalize_as<'a>(
    raw: &Json<'a>,
    tables: Option<&Tables>,
    reading: PathReading,
    text: Canonical,
    bufs: &mut NormalizeBuffers,
    memo: &mut Memo<'a>,
) -> Result<Normalized<'a>, IntentError> {
    if reading == PathReading::Posix {
        bufs.spans.clear();
        memo.built.clear();
    }
    memo.next = 0;
    let Json::Obj(obj) = *raw else {
        return Err(invalid("intent", "not a JSON object"));
    };
    let tool = tool_name(obj)?;
    let empty_args = Json::Obj(&[]);
    let args = match member(obj, "args") {
        None | Some(Json::Null) => &empty_args,
        Some(v @ Json::Obj(_)) => v,
        Some(_) => return Err(invalid("args", "must be a JSON object")),
    };
    // Every string of `args`, for `args contain`: skipped when the bundle's
    // rules never read them.
    let mut arg_strings = Vec::new();
    if tables.is_none_or(Tables::uses_arg_strings) {
        collect_strings(args, &mut arg_strings);
    }
    let ctx = context(obj, reading)?;
    let ws = (ctx.workspace.as_deref(), reading);
    // The canonical texts of the explicit targets and of the provenance
    // entries, in reused buffers (sorted and deduplicated below).
    let parts = bufs;
    parts.targets.clear();
    parts.provenance.clear();
    // The other readings' targets are not part of the canonical text.
    let explicit_json = (text != Canonical::Skip).then_some(&mut parts.targets);
    let mut targets = explicit_targets(obj, &tool, ws, explicit_json, (memo, &mut parts.spans))?;
    if let Some(tables) = tables {
        mapped_targets(
            tables,
            args,
            &tool,
            ws,
            &mut targets,
            &mut parts.mapping_ids,
            (memo, &mut parts.spans),
        )?;
    }
    if reading == PathReading::Posix
        && OTHER_READINGS.with(|o| o.borrow().as_ref().is_some_and(|n| n.backslash || n.shell))
    {
        // Kept in the order built, for the other readings ([`Memo`]).
        memo.built.extend(targets.iter().cloned());
    }
    // Equal targets are equal in every field: an unstable sort loses nothing.
    targets.sort_unstable();
    targets.dedup();
    if targets.capacity() > 4 * targets.len().max(2) {
        // Many equal targets (one path spelled 4,000 ways): give back the
        // room before the next reading takes its own.
        targets.shrink_to_fit();
    }
    let provenance = arg_provenance(obj, &mut parts.provenance)?;
    let (skill, skill_raw) = skill_provenance(obj, text == Canonical::Keep)?;
    let (digest, canonical) = match text {
        Canonical::Skip => (Digest::EMPTY, Vec::new()),
        Canonical::Keep | Canonical::DigestOnly => {
            parts.targets.sort_dedup();
            parts.provenance.sort_dedup();
            parts.text.clear();
            canonical_text(
                &mut parts.text,
                &tool,
                args,
                &ctx,
                skill.as_ref(),
                &parts.targets,
                &parts.provenance,
            );
            let kept = if text == Canonical::Keep {
                parts.text.clone()
            } else {
                Vec::new()
            };
            (digest_of(&parts.text), kept)
        }
    };
    Ok(Normalized {
        digest,
        intent: Intent {
            tool,
            risk: ctx.risk,
            identity: ctx.identity,
            workspace: ctx.workspace,
            targets,
            provenance,
            skill,
            arg_strings,
        },
        canonical,
        warnings: ctx.warnings,
        skill_provenance: skill_raw,
        backslash_reading: None,
        shell_readings: Vec::new(),
    })
}

/// `sha256:` + the hex SHA-256 of an intent's canonical text: the intent
/// digest.
pub fn digest_of(canonical: &[u8]) -> Digest {
    Digest::of(&crate::sha256(canonical))
}

/// An intent digest, `sha256:` + 64 lowercase hex digits, held inline (a
/// decision does not allocate for it). It reads as a `&str`; the digest of
/// a reading whose canonical text was skipped is empty.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Digest {
    text: [u8; DIGEST_LEN],
    len: u8,
}

const DIGEST_LEN: usize = 71;

impl Digest {
    /// The empty digest (a reading normalized without its canonical text).
    pub const EMPTY: Digest = Digest {
        text: [0; DIGEST_LEN],
        len: 0,
    };

    /// `sha256:` + the lowercase hex of a SHA-256.
    pub fn of(sha256: &[u8; 32]) -> Digest {
        let mut text = [0u8; DIGEST_LEN];
        text[..7].copy_from_slice(b"sha256:");
        for (pair, &b) in text[7..].chunks_exact_mut(2).zip(sha256) {
            pair.copy_from_slice(&crate::hex_pair(b));
        }
        Digest {
            text,
            len: DIGEST_LEN as u8,
        }
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII is ever written (`of`), so this never fails.
        std::str::from_utf8(&self.text[..usize::from(self.len)]).unwrap_or_default()
    }
}

impl std::ops::Deref for Digest {
    type Target = str;
    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl AsRef<str> for Digest {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl std::fmt::Display for Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::fmt::Debug for Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl PartialEq<str> for Digest {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl PartialEq<&str> for Digest {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl PartialEq<String> for Digest {
    fn eq(&self, other: &String) -> bool {
        self.as_str() == other
    }
}

impl serde::Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

/// `tool_name`: trimmed, lower-cased, not empty, no control or invisible
/// characters, none that a dispatcher reads as an ASCII letter
/// ([`tool_name_reads_as_ascii`]).
fn tool_name<'a>(obj: &'a [(&'a str, Json<'a>)]) -> Result<Cow<'a, str>, IntentError> {
    let given = str_field(obj, "tool_name", || "tool_name".into())?
        .unwrap_or_default()
        .trim();
    // Before lower-casing, which turns `İ` into `i` and a combining dot.
    if let Some((c, ascii)) = tool_name_reads_as_ascii(given) {
        return Err(invalid(
            "tool_name",
            format!("holds `{c}`, which a case-insensitive dispatcher reads as `{ascii}`: the name may be another tool's"),
        ));
    }
    let tool = lower(given);
    if tool.is_empty() {
        return Err(invalid("tool_name", "is required and must not be empty"));
    }
    let unseen = if tool.is_ascii() {
        tool.bytes().any(|b| b.is_ascii_control())
    } else {
        tool.chars().any(|c| c.is_control() || invisible(c))
    };
    if unseen {
        // As for paths and commands: a NUL or control character makes the
        // name read differently by whoever dispatches the call, and so does
        // a character that is not seen (`read_file` + U+200B), which a
        // dispatcher may strip.
        return Err(invalid(
            "tool_name",
            "must not contain NUL, control or invisible (format) characters",
        ));
    }
    Ok(tool)
}

/// Invisible characters: zero-width spaces and joiners, direction marks
/// (the Arabic letter mark too) and overrides, word joiners, the
/// byte-order mark, soft hyphen, the combining grapheme joiner, Hangul
/// fillers, variation selectors, interlinear annotation marks, and the
/// tag characters (U+E0000–E007F: ASCII text no one sees, "ASCII
/// smuggling"). One set for the gate, both approval prompts and the
/// policy language (`gaitc` refuses them in string literals).
pub fn invisible(c: char) -> bool {
    bidi_control(c)
        || matches!(c, '\u{ad}' | '\u{34f}' | '\u{115f}' | '\u{1160}' | '\u{180b}'..='\u{180f}' | '\u{200b}'..='\u{200d}' | '\u{2060}'..='\u{2064}' | '\u{206a}'..='\u{206f}' | '\u{3164}' | '\u{fe00}'..='\u{fe0f}' | '\u{feff}' | '\u{ffa0}' | '\u{fff9}'..='\u{fffb}' | '\u{e0000}'..='\u{e007f}' | '\u{e0100}'..='\u{e01ef}')
}

/// The bidirectional controls among [`invisible`] characters: embeddings,
/// overrides and isolates, the left-to-right, right-to-left and Arabic
/// letter marks. They reorder how the text around them is displayed
/// ("Trojan Source"): `gaitc` refuses them in comments too.
pub fn bidi_control(c: char) -> bool {
    matches!(c, '\u{61c}' | '\u{200e}' | '\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// The first character of a tool name that a case-insensitive dispatcher
/// reads as ASCII letters, and what it reads: `ſ` (`S`), dotless `ı` and
/// dotted `İ` (`I`, `i`: Java's `equalsIgnoreCase`, Go's `EqualFold`,
/// Python's `upper()`), the Kelvin sign (`k`), the Latin ligatures (`ﬁ` is
/// `fi` to Python's `casefold()` and NFKC) and the full-width forms of ASCII
/// (NFKC). `liſt_dir` is `list_dir` to such a dispatcher and another tool to
/// an exact one: the two readings differ, so the intent fails closed, and
/// `gaitc` refuses such a name in a policy.
pub fn tool_name_reads_as_ascii(name: &str) -> Option<(char, &'static str)> {
    const FULL_WIDTH: &str = "!\"#$%&'()*+,-./0123456789:;<=>?@abcdefghijklmnopqrstuvwxyz[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~";
    if name.is_ascii() {
        return None;
    }
    name.chars().find_map(|c| {
        let ascii = match c {
            '\u{17f}' => "s",
            '\u{130}' | '\u{131}' => "i",
            '\u{212a}' => "k",
            '\u{fb00}' => "ff",
            '\u{fb01}' => "fi",
            '\u{fb02}' => "fl",
            '\u{fb03}' => "ffi",
            '\u{fb04}' => "ffl",
            '\u{fb05}' | '\u{fb06}' => "st",
            '\u{ff01}'..='\u{ff5e}' => {
                let k = (u32::from(c) - 0xff01) as usize;
                FULL_WIDTH.get(k..k + 1)?
            }
            _ => return None,
        };
        Some((c, ascii))
    })
}

/// The intent's `context`, normalized.
struct Context<'a> {
    identity: Option<Cow<'a, str>>,
    workspace: Option<Cow<'a, str>>,
    risk: Risk,
    warnings: Warnings,
}

fn context<'a>(
    obj: &'a [(&'a str, Json<'a>)],
    reading: PathReading,
) -> Result<Context<'a>, IntentError> {
    let mut warnings = Warnings::new();
    let context = object(member(obj, "context"), || "context".into())?;
    let identity = str_field(context, "identity", || "context.identity".into())?
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(Cow::Borrowed);
    let workspace = match str_field(context, "workspace", || "context.workspace".into())?
        .map(str::trim)
        .filter(|s| !s.is_empty())
    {
        None => None,
        Some(w) => Some(
            normalize_path_cow(w, None, reading).map_err(|m| invalid("context.workspace", m))?,
        ),
    };
    let risk_text = str_field(context, "risk_class", || "context.risk_class".into())?;
    let risk = match risk_text.and_then(|s| Risk::parse_lowercased(s.trim())) {
        Some(r) => r,
        None => {
            warnings.push("risk_class_unknown");
            Risk::Critical
        }
    };
    Ok(Context {
        identity,
        workspace,
        risk,
        warnings,
    })
}

/// The explicit `targets`, and their canonical texts (the digest covers
/// them; mapped targets are derived from `args`, which it covers already).
fn explicit_targets<'a>(
    obj: &'a [(&'a str, Json<'a>)],
    tool: &str,
    ws: (Option<&str>, PathReading),
    mut explicit_json: Option<&mut Texts>,
    (memo, spans): (&mut Memo<'a>, &mut Vec<(usize, usize)>),
) -> Result<Targets<'a>, IntentError> {
    let items = match member(obj, "targets") {
        None | Some(Json::Null) => return Ok(Targets::new()),
        Some(Json::Arr(items)) => items,
        Some(_) => return Err(invalid("targets", "must be a list")),
    };
    if items.len() > MAX_TARGETS {
        return Err(invalid(
            "targets",
            format!("more than {MAX_TARGETS} targets"),
        ));
    }
    let mut targets = Targets::with_capacity(items.len());
    for (i, t) in items.iter().enumerate() {
        let field = |key: &str| format!("targets[{i}]{key}");
        let Json::Obj(t) = t else {
            return Err(invalid(field(""), "must be a JSON object"));
        };
        let kind = word_field(
            t,
            "kind",
            &field,
            TargetKind::parse_lowercased,
            TargetKind::WHAT,
        )?;
        // Trimmed by build_target (a path is not: see there).
        let value = str_field(t, "value", || field(".value"))?.unwrap_or_default();
        if value.trim().is_empty() {
            return Err(invalid(
                field(".value"),
                "is required and must not be empty",
            ));
        }
        let operation = str_field(t, "operation", || field(".operation"))?
            .map(|s| lower(s.trim()))
            .filter(|s| !s.is_empty());
        let explicit_class = str_field(t, "endpoint_class", || field(".endpoint_class"))?
            .map(|s| EndpointClass::parse_lowercased(s.trim()));
        let flag = |key: &str| -> Result<bool, IntentError> {
            match member(t, key) {
                None | Some(Json::Null) => Ok(false),
                Some(Json::Bool(b)) => Ok(*b),
                Some(_) => Err(invalid(field(&format!(".{key}")), "must be true or false")),
            }
        };
        let destructive = flag("destructive")? || flag("destructive_hint")?;
        // A class the kind cannot have (a command declared `fs.read`, a path
        // `net.http`) is not valid: inferred instead, as for an unknown one.
        let class = explicit_class.flatten().filter(|c| kind.takes(*c));
        let target = memo
            .target(spans, ws.1, kind, value, || {
                build_target(kind, value, operation, class, destructive, tool, ws)
            })
            .map_err(|m| invalid(field(".value"), m))?;
        if let Some(texts) = explicit_json.as_deref_mut() {
            texts.push_with(|j| target_json(j, &target));
        }
        targets.push(target);
    }
    Ok(targets)
}

/// Mapped targets: derived from `args` by the bundle's tool mappings, kept
/// together with the explicit ones (an adapter cannot hide a mapped target).
fn mapped_targets<'a>(
    tables: &Tables,
    args: &Json<'a>,
    tool: &str,
    ws: (Option<&str>, PathReading),
    targets: &mut Targets<'a>,
    buf: &mut Vec<u32>,
    (memo, spans): (&mut Memo<'a>, &mut Vec<(usize, usize)>),
) -> Result<(), IntentError> {
    tables.for_each_mapping_entry(tool, buf, |entry| {
        // Counted before any is built: a hostile list of mapped values
        // costs nothing past the limit.
        let mut count = 0;
        select(args, entry.steps, entry.steps, &mut |_| {
            count += 1;
            Ok(())
        })?;
        if targets.len() + count > MAX_TARGETS {
            return Err(invalid(
                "targets",
                format!("more than {MAX_TARGETS} targets"),
            ));
        }
        select(args, entry.steps, entry.steps, &mut |v| {
            let target = memo
                .target(spans, ws.1, entry.kind, v, || {
                    build_target(entry.kind, v, None, Some(entry.class), false, tool, ws)
                })
                .map_err(|m| invalid(arg_path_text(entry.steps), m))?;
            targets.push(target);
            Ok(())
        })
    })
}

/// `arg_provenance`: the sources, and each entry's canonical text.
fn arg_provenance(
    obj: &[(&str, Json<'_>)],
    provenance_json: &mut Texts,
) -> Result<Provenance, IntentError> {
    let mut provenance = Provenance::new();
    let items = match member(obj, "arg_provenance") {
        None | Some(Json::Null) => return Ok(provenance),
        Some(Json::Arr(items)) => items,
        Some(_) => return Err(invalid("arg_provenance", "must be a list")),
    };
    for (i, p) in items.iter().enumerate() {
        let field = |key: &str| format!("arg_provenance[{i}]{key}");
        let Json::Obj(p) = p else {
            return Err(invalid(field(""), "must be a JSON object"));
        };
        let source = word_field(
            p,
            "source",
            &field,
            ProvenanceSource::parse_lowercased,
            ProvenanceSource::WHAT,
        )?;
        let arg_path = str_field(p, "arg_path", || field(".arg_path"))?
            .map(str::trim)
            .unwrap_or("");
        provenance.push(source);
        provenance_json.push_with(|j| {
            j.extend_from_slice(b"{\"arg_path\":");
            write_str(j, arg_path);
            j.extend_from_slice(b",\"source\":");
            write_str(j, source.as_str());
            j.push(b'}');
        });
    }
    Ok(provenance)
}

/// `skill_provenance`, normalized, and as given (copied into traces).
fn skill_provenance<'a>(
    obj: &'a [(&'a str, Json<'a>)],
    keep_raw: bool,
) -> Result<(Option<Skill<'a>>, Option<Value>), IntentError> {
    let (raw, s) = match member(obj, "skill_provenance") {
        None | Some(Json::Null) => return Ok((None, None)),
        Some(raw @ Json::Obj(s)) => (raw, s),
        Some(_) => return Err(invalid("skill_provenance", "must be a JSON object")),
    };
    let req = |key: &str| -> Result<&'a str, IntentError> {
        let v = str_field(s, key, || format!("skill_provenance.{key}"))?
            .map(str::trim)
            .unwrap_or("");
        if v.is_empty() {
            return Err(invalid(format!("skill_provenance.{key}"), "is required"));
        }
        Ok(v)
    };
    let name = lower(req("skill_name")?);
    let publisher = lower(req("publisher")?);
    let source = lower(req("source")?);
    let version = str_field(s, "skill_version", || {
        "skill_provenance.skill_version".into()
    })?
    .map(str::trim)
    .filter(|v| !v.is_empty())
    .map(Cow::Borrowed);
    let digest = match str_field(s, "digest", || "skill_provenance.digest".into())?
        .map(|d| lower(d.trim()))
    {
        None => None,
        Some(d) if d.is_empty() => None,
        Some(d) => {
            let hex = match d {
                Cow::Borrowed(d) => Cow::Borrowed(d.strip_prefix("sha256:").unwrap_or(d)),
                Cow::Owned(d) => Cow::Owned(d.strip_prefix("sha256:").unwrap_or(&d).to_owned()),
            };
            if hex.len() != 64 || !hex.bytes().all(|c| c.is_ascii_hexdigit()) {
                return Err(invalid(
                    "skill_provenance.digest",
                    "must be 64 hex digits (optionally prefixed sha256:)",
                ));
            }
            Some(hex)
        }
    };
    let key_id = str_field(s, "signature_key_id", || {
        "skill_provenance.signature_key_id".into()
    })?
    .map(|k| lower(k.trim()))
    .filter(|k| !k.is_empty());
    let skill = Skill {
        name,
        version,
        publisher,
        source,
        digest,
        key_id,
    };
    Ok((Some(skill), keep_raw.then(|| raw.to_value())))
}

/// The canonical text (RFC 8785) of the normalized intent, written directly
/// in key order: tool, args, explicit targets and provenance (sorted and
/// deduplicated), skill provenance, context.
fn canonical_text(
    c: &mut Vec<u8>,
    tool: &str,
    args: &Json<'_>,
    ctx: &Context,
    skill: Option<&Skill>,
    explicit_json: &Texts,
    provenance_json: &Texts,
) {
    c.extend_from_slice(b"{\"arg_provenance\":");
    provenance_json.write_joined(c);
    c.extend_from_slice(b",\"args\":");
    args.write_canonical(c);
    c.extend_from_slice(b",\"context\":{\"identity\":");
    write_opt_str(c, ctx.identity.as_deref());
    c.extend_from_slice(b",\"risk_class\":");
    write_str(c, ctx.risk.as_str());
    c.extend_from_slice(b",\"workspace\":");
    write_opt_str(c, ctx.workspace.as_deref());
    c.extend_from_slice(b"},\"skill_provenance\":");
    match skill {
        None => c.extend_from_slice(b"null"),
        Some(s) => {
            c.extend_from_slice(b"{\"digest\":");
            write_opt_str(c, s.digest.as_deref());
            c.extend_from_slice(b",\"publisher\":");
            write_str(c, &s.publisher);
            c.extend_from_slice(b",\"signature_key_id\":");
            write_opt_str(c, s.key_id.as_deref());
            c.extend_from_slice(b",\"skill_name\":");
            write_str(c, &s.name);
            c.extend_from_slice(b",\"skill_version\":");
            write_opt_str(c, s.version.as_deref());
            c.extend_from_slice(b",\"source\":");
            write_str(c, &s.source);
            c.push(b'}');
        }
    }
    c.extend_from_slice(b",\"targets\":");
    explicit_json.write_joined(c);
    c.extend_from_slice(b",\"tool_name\":");
    write_str(c, tool);
    c.push(b'}');
}

/// Every string of `v` (values and keys), borrowed from the text or the
/// arena.
fn collect_strings<'a>(v: &Json<'a>, out: &mut Vec<Cow<'a, str>>) {
    match *v {
        Json::Str(s) => out.push(Cow::Borrowed(s)),
        Json::Arr(items) => items.iter().for_each(|i| collect_strings(i, out)),
        Json::Obj(m) => {
            for (k, v) in m {
                out.push(Cow::Borrowed(k));
                collect_strings(v, out);
            }
        }
        _ => {}
    }
}

fn arg_path_text(steps: Steps<'_>) -> String {
    let mut s = String::from("args");
    for step in steps.iter() {
        match step {
            Some(k)
                if k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') && !k.is_empty() =>
            {
                s.push('.');
                s.push_str(k);
            }
            Some(k) => s.push_str(&format!("[{k:?}]")),
            None => s.push_str("[*]"),
        }
    }
    s
}

/// The strings an argument path selects. A missing field selects nothing; a
/// present value of the wrong shape makes the intent invalid. `all` is the
/// whole path (named in the error).
fn select<'a>(
    v: &Json<'a>,
    steps: Steps<'_>,
    all: Steps<'_>,
    f: &mut impl FnMut(&'a str) -> Result<(), IntentError>,
) -> Result<(), IntentError> {
    match steps.split_first() {
        None => match *v {
            Json::Str(s) => f(s),
            Json::Null => Ok(()),
            _ => Err(invalid(
                arg_path_text(all),
                "a mapped argument must be a string",
            )),
        },
        Some((Some(key), rest)) => match *v {
            // Every member whose key is `key` as a case-insensitive reader
            // reads it: Go's encoding/json (and .NET's web defaults) fill a
            // field from a key that differs in case, the last one winning,
            // so `{"path": "/ok", "PATH": "/etc/shadow"}` reads `/etc/shadow`
            // there and `/ok` here. Both are judged.
            Json::Obj(m) => m
                .iter()
                .filter(|(k, _)| same_key_ignoring_case(k, key))
                .try_for_each(|(_, inner)| select(inner, rest, all, f)),
            Json::Null => Ok(()),
            _ => Err(invalid(
                arg_path_text(all),
                "the argument does not have the mapped shape (expected an object)",
            )),
        },
        Some((None, rest)) => match *v {
            Json::Arr(items) => items.iter().try_for_each(|i| select(i, rest, all, f)),
            Json::Null => Ok(()),
            _ => Err(invalid(
                arg_path_text(all),
                "the argument does not have the mapped shape (expected a list)",
            )),
        },
    }
}

/// Whether a case-insensitive JSON reader takes object key `k` for field
/// `key`: equal but for ASCII case, or, past ASCII, char by char with the
/// same lower or upper case or the same upper case of the lower case (an
/// over-reading of Go's folding, under which `ſ` is `s`, the Kelvin sign
/// `K` is `k` and `İ` is `i`).
///
/// `_` and `-` are skipped on both sides: frameworks convert between
/// spellings (pydantic's `alias_generator=to_camel` with
/// `populate_by_name` fills `dest_path` from `destPath` and from
/// `dest_path`; kebab-case CLI-style keys), so `{"sourcePath": …,
/// "dest_path": "/etc/cron.d/evil"}` is judged under `args.destPath` too.
pub fn same_key_ignoring_case(k: &str, key: &str) -> bool {
    if k.len() == key.len() && k.eq_ignore_ascii_case(key) {
        return true;
    }
    let separator = |c: &char| matches!(c, '_' | '-');
    let mut a = k.chars().filter(|c| !separator(c));
    let mut b = key.chars().filter(|c| !separator(c));
    loop {
        match (a.next(), b.next()) {
            (None, None) => return true,
            (Some(x), Some(y)) if same_char_ignoring_case(x, y) => {}
            _ => return false,
        }
    }
}

/// Whether a case-folding reader (Go's `encoding/json`) takes object key
/// `k` for field `key`: char by char the same but for case
/// ([`same_key_ignoring_case`]'s reading of a character), no character
/// skipped.
pub fn same_key_folding_case(k: &str, key: &str) -> bool {
    k.chars().count() == key.chars().count()
        && k.chars()
            .zip(key.chars())
            .all(|(x, y)| same_char_ignoring_case(x, y))
}

fn same_char_ignoring_case(x: char, y: char) -> bool {
    fn single(mut it: impl Iterator<Item = char>) -> Option<char> {
        let c = it.next()?;
        it.next().is_none().then_some(c)
    }
    // Go folds a character as upper(lower(c)) with Unicode's simple
    // mappings (`İ` is `I`, `ſ` is `S`); the first character of Rust's full
    // mappings is the simple mapping or reads more as equal (`ß` as `S`).
    fn fold(c: char) -> char {
        let l = c.to_lowercase().next().unwrap_or(c);
        l.to_uppercase().next().unwrap_or(l)
    }
    x == y
        || single(x.to_lowercase()).is_some_and(|l| Some(l) == single(y.to_lowercase()))
        || single(x.to_uppercase()).is_some_and(|u| Some(u) == single(y.to_uppercase()))
        || fold(x) == fold(y)
}

/// The canonical text of an explicit target (keys in RFC 8785 order).
fn target_json(j: &mut Vec<u8>, t: &Target) {
    j.extend_from_slice(if t.destructive {
        b"{\"destructive\":true"
    } else {
        b"{\"destructive\":false"
    });
    j.extend_from_slice(b",\"endpoint_class\":");
    write_str(j, t.class.as_str());
    j.extend_from_slice(b",\"kind\":");
    write_str(j, t.kind.as_str());
    j.extend_from_slice(b",\"operation\":");
    write_opt_str(j, t.operation.as_deref());
    j.extend_from_slice(b",\"value\":");
    write_str(j, &t.value);
    j.push(b'}');
}

/// Infers an endpoint class from a list of words (an operation, or the tool
/// name's words). The most consequential class wins when several words match.
fn class_from_words<'w>(
    kind: TargetKind,
    words: impl Iterator<Item = &'w [u8]> + Clone,
) -> Option<EndpointClass> {
    let has = |set: &[&str]| words.clone().any(|w| set.iter().any(|s| s.as_bytes() == w));
    match kind {
        TargetKind::Path => {
            if has(DELETE_OPS) {
                Some(EndpointClass::FsDelete)
            } else if has(WRITE_OPS) {
                Some(EndpointClass::FsWrite)
            } else if has(READ_OPS) {
                Some(EndpointClass::FsRead)
            } else {
                None
            }
        }
        TargetKind::Url | TargetKind::Host => Some(if has(DNS_OPS) {
            EndpointClass::NetDns
        } else {
            EndpointClass::NetHttp
        }),
        TargetKind::Command => Some(EndpointClass::ProcExec),
        TargetKind::Other if has(EXEC_OPS) => Some(EndpointClass::ProcExec),
        _ => None,
    }
}

fn tool_words(tool: &str) -> impl Iterator<Item = &[u8]> + Clone {
    // Split as bytes: the separators are ASCII, and the words are only
    // compared with ASCII operation names.
    tool.as_bytes()
        .split(|b| matches!(b, b'.' | b'_' | b'-' | b'/'))
        .filter(|w| !w.is_empty())
}

/// Normalizes one target and infers its class, destructiveness, path, host and programs.
fn build_target<'a>(
    kind: TargetKind,
    raw: &'a str,
    operation: Option<Cow<'a, str>>,
    explicit_class: Option<EndpointClass>,
    destructive_flag: bool,
    tool: &str,
    base: (Option<&str>, PathReading),
) -> Result<Target<'a>, String> {
    let (workspace, reading) = base;
    let trimmed = raw.trim();
    if trimmed.is_empty() {
        return Err("must not be empty".to_owned());
    }
    // A path with whitespace (or U+FEFF) at its ends is two paths: `" /../x"` is
    // absolute to a program that trims it (JavaScript's `trim`, Python's
    // `strip`) and a relative name, resolved in its working directory, to
    // one that does not (`open`, `fs.readFile`). Neither reading is sure:
    // it is refused. Other kinds are read trimmed (URL parsers and
    // resolvers trim or refuse the blanks; a shell skips them).
    // JavaScript's `trim` also removes U+FEFF, which is not whitespace to
    // Rust: a path with it at an end is two paths in the same way.
    let bom_at_an_end = trimmed.starts_with('\u{feff}') || trimmed.ends_with('\u{feff}');
    if kind == TargetKind::Path && (trimmed.len() != raw.len() || bom_at_an_end) {
        return Err(format!(
            "`{raw}` has whitespace or U+FEFF at its ends: programs that trim it and programs that do not read two different paths"
        ));
    }
    let raw = trimmed;
    let class = explicit_class
        .or_else(|| {
            // The operation decides when it is recognised; else the tool's words.
            let op_known = operation.as_deref().is_some_and(|o| {
                [READ_OPS, WRITE_OPS, DELETE_OPS, DNS_OPS, EXEC_OPS]
                    .iter()
                    .any(|set| set.contains(&o))
            });
            if op_known || matches!(kind, TargetKind::Command) {
                class_from_words(kind, operation.as_deref().map(str::as_bytes).into_iter())
            } else {
                class_from_words(kind, tool_words(tool))
            }
        })
        .unwrap_or(EndpointClass::Other);
    let delete_op = operation
        .as_deref()
        .is_some_and(|o| DELETE_OPS.contains(&o));
    let destructive = destructive_flag
        || delete_op
        || matches!(class, EndpointClass::FsDelete | EndpointClass::ProcExec);

    // `null` (blanks around it or not): the Python MCP SDK parses a
    // string argument whose type is not exactly `str` and keeps what is
    // neither a string nor a number, so the tool gets `None` and takes its
    // own default — a path `null` judged as `<workspace>/null` listed the
    // server's default directory (confirmed). (`true` and `false` it gives
    // back as the strings: a bool is an int to its check.)
    if json_null(raw) {
        return Err("`null` is JSON's null to an SDK that parses string arguments (the tool would get None and use its own default): give the value itself, or leave the argument out".to_owned());
    }
    // The normalized value, and what it is read as: one string each, the
    // raw text copied only for kinds that keep it.
    let (value, host) = match kind {
        TargetKind::Path => (normalize_path_cow(raw, workspace, reading)?, None),
        TargetKind::Url => {
            let (canonical, host) = normalize_url(raw)?;
            (canonical, Some(host))
        }
        TargetKind::Host => {
            // A host name alone: what follows `/`, `?` or `#` would be
            // dropped by the URL reading below, while a resolver given the
            // value sends all of it (`x.pypi.org/.evil.example` asks
            // evil.example's servers). (`user@host` reads as `host`, as
            // before: the resolver's last labels are still `host`'s.)
            if raw.contains(['/', '?', '#']) {
                return Err(ambiguous(
                    raw,
                    "is not a host name alone (it has a `/`, `?` or `#`, which a resolver would send)",
                ));
            }
            let host = if plain_host(raw) {
                (Cow::Borrowed(raw), domain_class(raw))
            } else {
                let (_, (host, class)) = read_url(&format!("http://{raw}")).map_err(|e| {
                    if e.starts_with(URL_AMBIGUOUS) {
                        e
                    } else {
                        format!("`{raw}` is not a valid host")
                    }
                })?;
                (Cow::Owned(host), class)
            };
            // The host as given, when normalizing left it unchanged.
            let value = if host.0 == raw {
                Cow::Borrowed(raw)
            } else {
                host.0.clone()
            };
            (value, Some(host))
        }
        _ => (Cow::Borrowed(raw), None),
    };
    let mut t = Target {
        kind,
        value,
        operation,
        class,
        destructive,
        host,
        programs: Vec::new(),
    };
    if kind == TargetKind::Command || class == EndpointClass::ProcExec {
        if raw.contains('\0') {
            return Err("a command must not contain NUL".to_owned());
        }
        // `["curl", "http://…"]` is one odd word to bash and a list to the
        // Python MCP SDK, which hands it to a `str | list[str]` tool as the
        // argv it runs (confirmed): two readings.
        if json_list_or_object(raw) {
            return Err("a command must not be a JSON list or object (an SDK that parses such strings hands the tool the list, which it runs as a program and its arguments)".to_owned());
        }
        t.programs = crate::command::programs(raw).map_err(|e| e.to_string())?;
    }
    Ok(t)
}

/// How a path's `\`, quotes and brackets are read. Linux reads them as
/// ordinary bytes of a name (POSIX); a Windows-minded tool, a server or a
/// later normalization may read `\` as `/`; a tool that puts the path on a
/// shell line (`subprocess.run(f"cat {path}", shell=True)`) or globs it
/// has quotes and escapes removed first and bracket expressions matched
/// (`/ws/".."/secret` is `/ws/../secret`, and `.e''nv` and `.en[v]` are
/// `.env`, to bash). A path holding `\` is judged under the backslash
/// reading too, one holding `\`, `'`, `"` or `[…]` under every shell
/// reading too, and the most restrictive verdict wins
/// ([`Normalized::decide`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathReading {
    /// `\`, quotes and brackets are part of a name, as the kernel reads them.
    Posix,
    /// `\` separates segments, like `/`.
    Backslash,
    /// Quote removal as bash does it for an unquoted word (`'…'`, `"…"`,
    /// `\X`), each unquoted bracket expression read as one of its
    /// characters (choice `n`: the first expression's character `n mod
    /// size`, the next one's from the quotient, and so on; every
    /// combination for `n` below [`shell_choices`]), then the POSIX
    /// reading. (A glob matches files that exist, the literal name when
    /// none does: the POSIX reading and these cover every file it can
    /// reach.)
    Shell(usize),
}

/// Most shell readings of one path, or of one intent (the product of its
/// paths' bracket expressions' sizes): more are refused.
const MAX_SHELL_CHOICES: usize = 8;

/// A bracket expression's characters when it is a plain set (`[h]`,
/// `[slug]`, `[...slug]`): given the text after its `[`, the set and the
/// bytes up to and with its `]`. `None` when no `]` follows (a literal `[`;
/// nor does any later `[` open one, then).
fn bracket_set(after_open: &str) -> Option<(Vec<char>, usize)> {
    // A `]` right after `[` is a member, not the end.
    let end = after_open
        .char_indices()
        .skip(1)
        .find(|&(_, c)| c == ']')
        .map(|(i, _)| i)?;
    let mut chars: Vec<char> = after_open[..end].chars().collect();
    chars.sort_unstable();
    chars.dedup();
    Some((chars, end + 1))
}

/// Whether a bracket expression's set is one the shell readings can list:
/// no negation (`[!x]`, `[^x]`), range (`[a-z]`), class (`[[:alpha:]]`),
/// escape or quote, and at most [`MAX_SHELL_CHOICES`] characters.
fn listable(set: &[char], text: &str) -> bool {
    // A `-` first or last is itself; between two characters, a range.
    let inner = text.chars().skip(1).collect::<Vec<_>>();
    let range = inner.len() > 1 && inner[..inner.len() - 1].contains(&'-');
    !(text.starts_with(['!', '^'])
        || text.contains("[:")
        || text.contains("[=")
        || text.contains("[.")
        || range
        || text.contains(['\\', '\'', '"'])
        || set.len() > MAX_SHELL_CHOICES)
}

/// How many shell readings `raw` has: 0 when it holds no `\`, `'`, `"` or
/// `[` (its shell reading is its POSIX reading), else the product of its
/// unquoted bracket expressions' sizes (1 without any). `bytes` is
/// `raw`'s [`path_bytes`].
fn shell_choices(raw: &str, bytes: u8) -> usize {
    if bytes & OTHER_READING == 0 {
        return 0;
    }
    if bytes & BRACKET == 0 {
        // Quotes and escapes alone: one reading.
        return 1;
    }
    let mut choices = 1usize;
    shell_word(raw, |set| {
        choices = choices.saturating_mul(set.len());
        0
    });
    choices
}

/// `raw` after bash's quote removal and pathname expansion, read as one
/// unquoted word: `'…'` is literal, `"…"` literal but for `\` before `$`,
/// `` ` ``, `"`, `\`; `\X` outside quotes is `X`; an unquoted bracket
/// expression is the character `pick` chooses from its set. `None` when a
/// quote is not closed (a shell refuses the line). (`$'…'`, `$"…"`,
/// expansions, `*`, `?` and sets that cannot be listed never get here:
/// [`read_otherwise`] refuses them first.)
fn shell_word(raw: &str, mut pick: impl FnMut(&[char]) -> usize) -> Option<String> {
    let mut out = String::with_capacity(raw.len());
    let mut rest = raw;
    let mut closable = true;
    loop {
        // The run up to the next character this reading changes is copied
        // whole.
        let run = rest
            .bytes()
            .position(|b| matches!(b, b'\\' | b'\'' | b'"' | b'['))
            .unwrap_or(rest.len());
        out.push_str(&rest[..run]);
        rest = &rest[run..];
        let Some(c) = rest.chars().next() else { break };
        rest = &rest[c.len_utf8()..];
        match c {
            '\\' => match rest.chars().next() {
                Some(next) => {
                    rest = &rest[next.len_utf8()..];
                    out.push(next);
                }
                // A `\` that ends the word is itself to bash and dash.
                None => out.push('\\'),
            },
            '\'' => {
                let end = rest.find('\'')?;
                out.push_str(&rest[..end]);
                rest = &rest[end + 1..];
            }
            '"' => loop {
                let c = rest.chars().next()?;
                rest = &rest[c.len_utf8()..];
                match c {
                    '"' => break,
                    '\\' => {
                        let next = rest.chars().next()?;
                        rest = &rest[next.len_utf8()..];
                        if !matches!(next, '$' | '`' | '"' | '\\') {
                            out.push('\\');
                        }
                        out.push(next);
                    }
                    c => out.push(c),
                }
            },
            '[' => match bracket_set(rest).filter(|_| closable) {
                Some((set, len)) => {
                    out.push(set[pick(&set) % set.len()]);
                    rest = &rest[len..];
                }
                None => {
                    // No `]` after this `[`: none after a later one either
                    // (one scan, not one per `[`).
                    closable = false;
                    out.push('[');
                }
            },
            c => out.push(c),
        }
    }
    Some(out)
}

/// The shell reading `choice` of `raw` ([`PathReading::Shell`]).
fn shell_reading(raw: &str, choice: usize) -> Option<String> {
    let mut left = choice;
    shell_word(raw, |set| {
        let k = left % set.len();
        left /= set.len();
        k
    })
}

/// Paths under the POSIX reading ([`normalize_path_as`]).
pub fn normalize_path(raw: &str, workspace: Option<&str>) -> Result<String, String> {
    normalize_path_as(raw, workspace, PathReading::Posix)
}

/// Paths: relative paths join the (absolute) workspace; repeated `/`
/// collapse; `.` drops; `..` removes the previous segment and never climbs
/// above `/`; a trailing `/` is dropped. `~` and control characters are
/// invalid. `\` is a byte of a name or a separator, as `reading` says.
pub fn normalize_path_as(
    raw: &str,
    workspace: Option<&str>,
    reading: PathReading,
) -> Result<String, String> {
    normalize_path_cow(raw, workspace, reading).map(Cow::into_owned)
}

/// Whether an absolute path is already in normal form: every segment
/// non-empty and neither `.` nor `..` (no `//`, no trailing `/` but the
/// root's), and under the backslash reading no `\`. Normalizing it gives
/// the same text.
fn already_normal(raw: &str, bytes: u8, reading: PathReading) -> bool {
    let Some(rest) = raw.strip_prefix('/') else {
        return false;
    };
    if reading == PathReading::Backslash && bytes & BACKSLASH != 0 {
        return false;
    }
    rest.is_empty() || rest.split('/').all(|seg| !matches!(seg, "" | "." | ".."))
}

/// [`normalize_path_as`], borrowing `raw` when it is already normal (no
/// allocation for the usual absolute path).
fn normalize_path_cow<'a>(
    raw: &'a str,
    workspace: Option<&str>,
    reading: PathReading,
) -> Result<Cow<'a, str>, String> {
    let bytes = path_bytes(raw);
    if reading == PathReading::Posix && bytes & OTHER_READING != 0 {
        OTHER_READINGS.with(|o| {
            if let Some(needs) = o.borrow_mut().as_mut() {
                needs.note(raw, bytes);
            }
        });
    }
    if bytes & CONTROL != 0 || (bytes & MAY_BE_C1 != 0 && raw.chars().any(|c| c.is_control())) {
        return Err("a path must not contain NUL or control characters".to_owned());
    }
    if raw.starts_with('~') {
        return Err(
            "a path must not start with `~` (the runtime does not expand home directories)"
                .to_owned(),
        );
    }
    if raw.len() > PATH_MAX {
        // Linux refuses a longer path (ENAMETOOLONG) whatever it resolves
        // to; judging it would only cost time.
        return Err(format!(
            "a path must not be longer than {PATH_MAX} bytes (the kernel's PATH_MAX)"
        ));
    }
    // A `\` beside a quote: a tool that reads `\` as `/` after a shell
    // removed the quotes (`sub/'..\..\'etc`) reaches what neither the
    // backslash nor the shell reading alone gives.
    if bytes & (BACKSLASH | QUOTE) == BACKSLASH | QUOTE {
        return Err("a path must not hold both `\\` and a quote (a shell removes the quotes, and a tool that then reads `\\` as `/` reaches another path than either reading)".to_owned());
    }
    let file_url = raw.len() >= 5 && raw.as_bytes()[..5].eq_ignore_ascii_case(b"file:");
    if bytes & EXPANDS != 0 || file_url {
        if let Some(why) = read_otherwise(raw) {
            return Err(why.to_owned());
        }
    }
    if let PathReading::Shell(choice) = reading {
        // `shell_choices(raw, bytes) > 0`.
        if bytes & OTHER_READING != 0 {
            // A quote a shell would not close: the shell refuses the line,
            // and the path is only what the kernel reads.
            return match shell_reading(raw, path_choice(raw, choice)) {
                Some(word) => {
                    // An already normal word is its own normal form: kept,
                    // not copied.
                    let changed = match normalize_path_cow(&word, workspace, PathReading::Posix)? {
                        Cow::Borrowed(_) => None,
                        Cow::Owned(p) => Some(p),
                    };
                    Ok(Cow::Owned(changed.unwrap_or(word)))
                }
                None => normalize_path_cow(raw, workspace, PathReading::Posix),
            };
        }
    }
    let normal = if already_normal(raw, bytes, reading) {
        Cow::Borrowed(raw)
    } else {
        normal_form(raw, workspace, reading)?
    };
    match opaque(&normal) {
        Some(why) => Err(format!("a path must not name {why}: the file it reaches is the opening process's, out of sight")),
        None => Ok(normal),
    }
}

/// Which readings beside the POSIX one an intent's paths need, noted by
/// the POSIX reading from each path as given ([`normalize_json_in`]).
#[derive(Debug, Default)]
struct OtherReadings {
    /// A path holds `\`: the backslash reading.
    backslash: bool,
    /// A path has a shell reading ([`shell_choices`] above 0).
    shell: bool,
    /// Each different path with more than one shell reading, and how many
    /// it has, in the order first met.
    bracketed: Vec<(String, usize)>,
}

impl OtherReadings {
    fn note(&mut self, raw: &str, bytes: u8) {
        self.backslash |= bytes & BACKSLASH != 0;
        let choices = shell_choices(raw, bytes);
        self.shell |= choices > 0;
        if choices > 1 && !self.bracketed.iter().any(|(p, _)| p == raw) {
            self.bracketed.push((raw.to_owned(), choices));
        }
    }

    /// How many shell readings the intent has: every combination of its
    /// bracketed paths' choices (1 without any, 0 when no path has a shell
    /// reading); `None` above [`MAX_SHELL_CHOICES`].
    fn shell_readings(&self) -> Option<usize> {
        if !self.shell {
            return Some(0);
        }
        self.bracketed
            .iter()
            .try_fold(1usize, |n, (_, c)| n.checked_mul(*c))
            .filter(|&n| n <= MAX_SHELL_CHOICES)
    }

    /// Each bracketed path with its place value in the mixed-radix count
    /// of the readings ([`path_choice`]).
    fn radix(&self) -> Vec<(String, usize, usize)> {
        let mut place = 1;
        self.bracketed
            .iter()
            .map(|(p, c)| {
                let digit = (p.clone(), place, *c);
                place *= c;
                digit
            })
            .collect()
    }
}

/// Which combination of `raw`'s bracket sets shell reading `choice` of the
/// intent takes: its digit in the mixed-radix count over the intent's
/// bracketed paths ([`OtherReadings::radix`]); `choice` itself for a path
/// read alone.
fn path_choice(raw: &str, choice: usize) -> usize {
    SHELL_RADIX.with(|r| {
        r.borrow()
            .iter()
            .find(|(p, _, _)| p == raw)
            .map_or(choice, |(_, place, n)| choice / place % n)
    })
}

thread_local! {
    /// Set while [`normalize_json_in`] takes an intent's shell readings:
    /// each bracketed path, its place value and its number of choices.
    static SHELL_RADIX: std::cell::RefCell<Vec<(String, usize, usize)>> =
        const { std::cell::RefCell::new(Vec::new()) };
    /// Set while [`normalize_json_in`] reads an intent under the POSIX
    /// reading (one decision at a time per thread).
    static OTHER_READINGS: std::cell::RefCell<Option<OtherReadings>> =
        const { std::cell::RefCell::new(None) };
}

/// [`path_bytes`]: a C0 control character or DEL.
const CONTROL: u8 = 1;
/// [`path_bytes`]: `$`, a backquote, `*`, `?`, `[`, `{` or `(`, which a
/// shell or a globbing tool may expand, or which may open a JSON list or
/// object ([`read_otherwise`] says).
const EXPANDS: u8 = 2;
/// [`path_bytes`]: `\`, `'`, `"` or `[`, which another reading of the path
/// reads otherwise ([`PathReading`]).
const OTHER_READING: u8 = 4;
/// [`path_bytes`]: the byte 0xC2, which starts U+0080–U+00BF (the C1
/// controls among them).
const MAY_BE_C1: u8 = 8;
/// [`path_bytes`]: `\\`.
const BACKSLASH: u8 = 16;
/// [`path_bytes`]: `'` or `"`.
const QUOTE: u8 = 32;
/// [`path_bytes`]: `[`.
const BRACKET: u8 = 64;

/// What each byte may be in a path: one table lookup per byte, so that a
/// plain path is read once (the checks above are rare).
static PATH_BYTE: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut b = 0;
    while b < 0x20 {
        t[b] = CONTROL;
        b += 1;
    }
    t[0x7f] = CONTROL;
    t[b'$' as usize] = EXPANDS;
    t[b'`' as usize] = EXPANDS;
    t[b'*' as usize] = EXPANDS;
    t[b'?' as usize] = EXPANDS;
    t[b'{' as usize] = EXPANDS;
    t[b'(' as usize] = EXPANDS;
    t[b'[' as usize] = EXPANDS | OTHER_READING | BRACKET;
    t[b'\\' as usize] = OTHER_READING | BACKSLASH;
    t[b'\'' as usize] = OTHER_READING | QUOTE;
    t[b'"' as usize] = OTHER_READING | QUOTE;
    t[0xc2] = MAY_BE_C1;
    t
};

/// The [`PATH_BYTE`] classes of `raw`'s bytes, together.
fn path_bytes(raw: &str) -> u8 {
    raw.bytes()
        .fold(0, |seen, b| seen | PATH_BYTE[usize::from(b)])
}

/// Why a tool may read `raw` as something else than a path, as it reads
/// `~` (which is refused before): a variable its tool may expand
/// (`$HOME/../etc/shadow`: `os.path.expandvars`, a shell), or a `file:` URL
/// (`file:///etc/shadow`: `urlopen`, `curl`, Node's `fileURLToPath`, with
/// percent-escapes decoded), which the path reading would join to the
/// workspace as a relative name.
fn read_otherwise(raw: &str) -> Option<&'static str> {
    let b = raw.as_bytes();
    // `$` is rare: found with memchr, then the byte after each is read.
    // Bash expands `$NAME`, `${…}`, `$(…)`, `$[…]`, the special parameters
    // (`$1`, `$@`, `$*`, `$#`, `$?`, `$-`, `$$`, `$!`: `/ws/.$1./x` is
    // `/ws/../x`) and decodes `$'…'` and `$"…"`.
    let variable = raw.contains('$')
        && b.windows(2).any(|w| {
            w[0] == b'$'
                && (w[1].is_ascii_alphanumeric()
                    || matches!(
                        w[1],
                        b'_' | b'{'
                            | b'('
                            | b'['
                            | b'@'
                            | b'*'
                            | b'#'
                            | b'?'
                            | b'-'
                            | b'$'
                            | b'!'
                            | b'\''
                            | b'"'
                    ))
        });
    if variable {
        return Some("a path must not hold `$NAME`, `${…}`, `$(…)`, `$1`, `$'…'` or another expansion (a tool or shell may expand it; the runtime does not)");
    }
    if raw.contains('`') {
        return Some(
            "a path must not hold a backquote (a shell runs what is between two as a command)",
        );
    }
    // Pathname expansion and brace expansion: a shell (or a globbing tool:
    // Python's `glob`, fast-glob) reads `.en[v]`, `.e*v` or `{.env,x}` as
    // the files they match, which the gate cannot list.
    // (bash's extended patterns, `@(…)`, `+(…)`, `!(…)`, with `extglob`
    // on: `.@(env)` is `.env`; `*(…)` and `?(…)` hold `*` and `?`.)
    let extglob = raw.contains('(') && ["@(", "+(", "!("].iter().any(|p| raw.contains(p));
    if raw.contains(['*', '?']) || extglob || brace_expansion(raw) {
        return Some("a path must not hold `*`, `?`, `@(…)`, `+(…)`, `!(…)` or `{a,b}` (a shell or a globbing tool reads it as the files it matches, which the runtime cannot know)");
    }
    if raw.contains('[') && raw.contains('\\') {
        return Some("a path must not hold both `\\` and `[` (a shell reads `\\[` as a bracket, Python's `glob` as a backslash before a bracket expression)");
    }
    if raw.contains('[') && !brackets_listable(raw) {
        return Some("a path must not hold a bracket expression with a range, a negation, a class or more than 8 characters (`[a-z]`, `[!x]`), or more than 8 combinations of them (a shell or a globbing tool reads it as the files it matches; plain sets such as `[slug]` are judged as each of their characters)");
    }
    // A JSON list or object in a string: the Python MCP SDK parses a string
    // argument whose type is not exactly `str` (`str | list[str]`), so
    // `["/etc/shadow"]` reaches the tool as a list holding `/etc/shadow`,
    // where the path reading joins it to the workspace as a name.
    if json_list_or_object(raw) {
        return Some("a path must not be a JSON list or object (an SDK that parses such strings hands the tool what is inside)");
    }
    if b.len() >= 5 && b[..5].eq_ignore_ascii_case(b"file:") {
        return Some("a path must not be a `file:` URL (a tool that reads URLs opens the URL's path, percent-escapes decoded): give the path itself");
    }
    None
}

/// Whether `raw` is JSON's `null` as Python's `json.loads` reads it
/// (surrounding blanks allowed).
fn json_null(raw: &str) -> bool {
    raw.trim_matches([' ', '\t', '\n', '\r']) == "null"
}

/// Whether `raw` is a JSON list or object as Python's `json.loads` reads
/// it (the Python MCP SDK's pre-parsing): also with `NaN`, `Infinity` and
/// `-Infinity`, which strict JSON refuses (`{"p": "/etc/shadow", "x": NaN}`
/// reached a `str | FileRef` tool as `FileRef("/etc/shadow")`, confirmed).
pub(crate) fn json_list_or_object(raw: &str) -> bool {
    let text = raw.trim_matches([' ', '\t', '\n', '\r']);
    if !matches!(text.as_bytes().first(), Some(b'[' | b'{')) {
        return false;
    }
    match serde_json::from_str::<serde::de::IgnoredAny>(text) {
        Ok(_) => return true,
        // Deeper than serde_json's 128 levels: Python reads about 1,000.
        Err(e) if e.to_string().starts_with("recursion limit exceeded") => return true,
        Err(_) => {}
    }
    if !(text.contains("NaN") || text.contains("Infinity")) {
        return false;
    }
    // The same text with each `NaN` and `Infinity` outside strings as `0`.
    let mut strict = String::with_capacity(text.len());
    let mut in_string = false;
    let mut rest = text;
    while let Some(c) = rest.chars().next() {
        if in_string {
            match c {
                '\\' => {
                    let n = rest.chars().nth(1).map_or(0, char::len_utf8);
                    strict.push_str(&rest[..1 + n]);
                    rest = &rest[1 + n..];
                    continue;
                }
                '"' => in_string = false,
                _ => {}
            }
        } else if c == '"' {
            in_string = true;
        } else if let Some(after) = rest
            .strip_prefix("NaN")
            .or_else(|| rest.strip_prefix("Infinity"))
        {
            strict.push('0');
            rest = after;
            continue;
        }
        strict.push(c);
        rest = &rest[c.len_utf8()..];
    }
    serde_json::from_str::<serde::de::IgnoredAny>(&strict).is_ok()
}

/// Whether every bracket expression of `raw` is a plain set and their
/// combinations are at most [`MAX_SHELL_CHOICES`]. (Read without quotes:
/// a quoted `[a-z]` is refused too.)
fn brackets_listable(raw: &str) -> bool {
    let mut combinations = 1usize;
    let mut at = 0;
    while let Some(i) = raw[at..].find('[') {
        let after = at + i + 1;
        // No `]` after this `[`: none after a later one either.
        let Some((set, len)) = bracket_set(&raw[after..]) else {
            break;
        };
        if !listable(&set, &raw[after..after + len - 1]) {
            return false;
        }
        combinations = combinations.saturating_mul(set.len());
        at = after + len;
    }
    combinations <= MAX_SHELL_CHOICES
}

/// Whether `raw` holds a `{` with `,` or `..` before a later `}` (bash's
/// brace expansion: `{.env,x}`, `{a..c}`, `{a,{b}}`). Read from the first
/// `{` to the last `}`: a path that only looks like one is refused too.
fn brace_expansion(raw: &str) -> bool {
    match (raw.find('{'), raw.rfind('}')) {
        (Some(open), Some(close)) if open < close => {
            let inner = &raw[open + 1..close];
            inner.contains(',') || inner.contains("..")
        }
        _ => false,
    }
}

/// What a normalized absolute path names when the file it reaches depends on
/// the process that opens it: a descriptor (`/dev/fd/N`, `/dev/stdin`,
/// `/proc/self/fd/N`), or a process's root, working directory or mapped
/// files (`/proc/self/root/etc/shadow` is `/etc/shadow`, past every pattern
/// anchored at `/`). A kernel link the gate cannot follow: fail closed.
fn opaque(path: &str) -> Option<&'static str> {
    // A normal path starts with `/` and has no empty segment.
    if !(path.starts_with("/dev/") || path.starts_with("/proc/")) {
        return None;
    }
    let mut segs = path.split('/').filter(|s| !s.is_empty());
    match segs.next()? {
        "dev" => match segs.next()? {
            "fd" | "stdin" | "stdout" | "stderr" => Some("a descriptor (`/dev/fd`, `/dev/stdin`)"),
            _ => None,
        },
        "proc" => {
            let number = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
            let pid = segs.next()?;
            if !(matches!(pid, "self" | "thread-self") || number(pid)) {
                return None;
            }
            let mut next = segs.next()?;
            if next == "task" {
                if !number(segs.next()?) {
                    return None;
                }
                next = segs.next()?;
            }
            matches!(next, "root" | "cwd" | "fd" | "map_files").then_some(
                "a process's root, working directory, descriptors or mapped files under `/proc`",
            )
        }
        _ => None,
    }
}

/// The normal form of a path that is not already normal.
fn normal_form<'a>(
    raw: &'a str,
    workspace: Option<&str>,
    reading: PathReading,
) -> Result<Cow<'a, str>, String> {
    let backslash = reading == PathReading::Backslash;
    let absolute = raw.starts_with('/') || (backslash && raw.starts_with('\\'));
    let base = if absolute {
        ""
    } else {
        match workspace {
            Some(ws) if ws.starts_with('/') => ws,
            _ => return Err(format!("relative path `{raw}` with no absolute workspace")),
        }
    };
    join_segments(base, raw, backslash).map(Cow::Owned).ok_or_else(|| {
        format!("`{raw}` climbs with `..` out of a folder under /dev or /proc, which may be a link to a process's own folder (`/dev/fd/../root` is the process's root, `/proc/net/../environ` its environment): the kernel resolves `..` after the link")
    })
}

/// The normal form of `raw` under `base`: one pass over the segments of
/// `base` then `raw`, writing into the output; `..` truncates it to the
/// previous `/`. `None` when a `..` follows a folder under `/dev` or
/// `/proc`: there links lead into the opening process's folder (`/dev/fd`
/// is `/proc/self/fd`, `/proc/net` is `self/net`), and the kernel climbs
/// from the link's target, not textually.
fn join_segments(base: &str, raw: &str, backslash: bool) -> Option<String> {
    let mut out = String::with_capacity(base.len() + raw.len() + 1);
    let mut step = |seg: &str| {
        match seg {
            "" | "." => {}
            ".." => {
                if out.starts_with("/dev/") || out.starts_with("/proc/") {
                    return None;
                }
                let cut = out.rfind('/').unwrap_or(0);
                out.truncate(cut);
            }
            s => {
                out.push('/');
                out.push_str(s);
            }
        }
        Some(())
    };
    base.split('/').try_for_each(&mut step)?;
    // `raw` is split byte by byte: its separators are ASCII, so every
    // segment between two is whole UTF-8.
    let mut from = 0;
    for (i, b) in raw.bytes().enumerate() {
        if b == b'/' || (backslash && b == b'\\') {
            step(&raw[from..i])?;
            from = i + 1;
        }
    }
    step(&raw[from..])?;
    if out.is_empty() {
        out.push('/');
    }
    Some(out)
}

/// URLs are read twice — as WHATWG URLs (the `url` crate) and as RFC 3986
/// URIs are read by curl, Python's urllib and Go — and accepted only when both
/// readings agree on scheme, host and port (issue 14): a value without a
/// scheme gets `https://`; a backslash, `{`, `}`, whitespace or a control
/// character anywhere before the path, `[`/`]` outside an IPv6 literal, more
/// than one `@`, a `%` in the host, a `.` in the scheme, or a special scheme
/// not followed by `//` is ambiguous (`url_ambiguous`). Returns the canonical URL and the
/// normalized host with its class.
///
/// A plain `http(s)` URL ([`plain_url_host`]: a lower-case ASCII host name,
/// no user, port, percent sign or dot segment) is its own canonical form
/// under both readings: it and its host are borrowed without parsing.
pub fn normalize_url(raw: &str) -> Result<NormalizedUrl<'_>, String> {
    if let Some(host) = plain_url_host(raw) {
        return Ok((
            Cow::Borrowed(raw),
            (Cow::Borrowed(host), domain_class(host)),
        ));
    }
    let (url, (host, class)) = read_url(raw)?;
    Ok((Cow::Owned(url), (Cow::Owned(host), class)))
}

/// A normalized URL: its canonical text, and its host with the host's class.
pub type NormalizedUrl<'a> = (Cow<'a, str>, (Cow<'a, str>, HostClass));

/// Bytes a plain URL's path, query and fragment may hold: those no part of
/// the WHATWG URL parser percent-encodes, decodes or reads as a separator
/// other than `/`, `?` and `#` (no `%`, `\`, `'`, `^`, `|`, quotes,
/// brackets, braces, blanks or controls).
const PLAIN_URL_TAIL: [bool; 256] = {
    let mut t = [false; 256];
    let mut b = 0;
    while b < 256 {
        let c = b as u8;
        t[b] = c.is_ascii_alphanumeric()
            || matches!(
                c,
                b'-' | b'.'
                    | b'_'
                    | b'~'
                    | b'/'
                    | b'?'
                    | b'#'
                    | b'='
                    | b'&'
                    | b':'
                    | b'@'
                    | b','
                    | b'+'
                    | b';'
                    | b'!'
                    | b'$'
                    | b'*'
                    | b'('
                    | b')'
            );
        b += 1;
    }
    t
};

/// The host of a plain URL: `http://` or `https://` (lower case), a
/// [`plain_host`], then a path starting with `/` whose bytes are all
/// [`PLAIN_URL_TAIL`] and none of whose segments is `.` or `..`. Both
/// readings of such a URL agree, and the WHATWG serialization is the text
/// itself (`the_plain_url_fast_path_is_the_full_reading` checks it against
/// [`read_url`]). `None` for everything else, which is read in full.
fn plain_url_host(raw: &str) -> Option<&str> {
    let rest = raw
        .strip_prefix("https://")
        .or_else(|| raw.strip_prefix("http://"))?;
    let (host, tail) = rest.split_at(rest.bytes().position(|b| b == b'/')?);
    if !plain_host(host) {
        return None;
    }
    let tail = tail.as_bytes();
    let mut in_path = true;
    let mut segment = 0;
    for (i, &b) in tail.iter().enumerate() {
        if !PLAIN_URL_TAIL[usize::from(b)] {
            return None;
        }
        if in_path && matches!(b, b'/' | b'?' | b'#') {
            if matches!(&tail[segment..i], b"." | b"..") {
                return None;
            }
            segment = i + 1;
            in_path = b == b'/';
        }
    }
    if in_path && matches!(&tail[segment..], b"." | b"..") {
        return None;
    }
    Some(host)
}

/// A host name the URL parser, IDNA and a resolver all leave as it is:
/// 1 to 253 bytes of lower-case ASCII letters, digits and `-` in
/// dot-separated labels of 1 to 63 bytes, none starting with `xn--`
/// (punycode, which IDNA decodes and checks), the last starting with a letter (so that it is
/// never read as an IPv4 number: `0x7f`, `2130706433`).
fn plain_host(host: &str) -> bool {
    let b = host.as_bytes();
    if b.is_empty() || b.len() > 253 {
        return false;
    }
    // One pass: `start` is where the current label begins.
    let mut start = 0;
    for i in 0..=b.len() {
        match b.get(i) {
            Some(c) if c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-' => {}
            end @ (Some(b'.') | None) => {
                let label = &b[start..i];
                let punycode = label.starts_with(b"xn--");
                let too_long = label.len() > 63;
                // Empty, punycode or too long, or a last label that could
                // be a number.
                let number = end.is_none() && !label.first().is_some_and(u8::is_ascii_lowercase);
                if label.is_empty() || punycode || too_long || number {
                    return false;
                }
                start = i + 1;
            }
            Some(_) => return false,
        }
    }
    true
}

/// The full reading of a URL (see [`normalize_url`]), without the plain
/// URLs' fast path.
#[doc(hidden)]
pub fn read_url(raw: &str) -> Result<(String, (String, HostClass)), String> {
    let text: std::borrow::Cow<'_, str> = if raw.contains("://") || has_special_scheme(raw) {
        raw.into()
    } else {
        // Without a scheme, other readers part ways before the host: wget
        // reads `HOST:PATH` (anything but digits after the colon) as
        // `ftp://HOST/PATH` and git, scp and rsync as a remote `HOST`
        // (`localhost:80@api.github.com` reaches localhost:21 with wget,
        // confirmed), where `https://` makes `HOST:…` userinfo.
        let authority = raw.split(['/', '?', '#']).next().unwrap_or("");
        let port_only = authority
            .split_once(':')
            .is_none_or(|(_, port)| port.bytes().all(|b| b.is_ascii_digit()));
        if !port_only {
            return Err(ambiguous(
                raw,
                "has no scheme and a `:` not followed by a port (wget, git and scp read `HOST:PATH`)",
            ));
        }
        format!("https://{raw}").into()
    };
    let rfc = rfc3986_authority(raw, &text)?;
    let url = url::Url::parse(&text).map_err(|e| format!("`{raw}` is not a valid URL ({e})"))?;
    // A `file:` URL names a local file whatever its host: Python's urllib
    // and curl read `file://127.0.0.1/etc/shadow` from this machine's disk.
    // It is no network endpoint, and its host says nothing of where it goes.
    if url.scheme() == "file" {
        return Err(format!(
            "`{raw}` is a file: URL: it names a local file, not a network endpoint"
        ));
    }
    let host_str = url
        .host_str()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| format!("`{raw}` has no host"))?;
    let unbracketed = host_str.trim_start_matches('[').trim_end_matches(']');
    // The host read with the special-scheme host parser: lower-case, IDNA
    // to punycode, every IPv4 notation to dotted decimal. Under a special
    // scheme the URL parser has just done exactly that: its host is used
    // as is (its serialization parses back to itself, which the `url` fuzz
    // target checks). An opaque host (other schemes) is parsed again with
    // the special-scheme parser. A host of 400 KB costs about 3 ms per
    // parse here; the adversarial-latency check has one.
    let (host, first_failed) = match url.host().filter(|_| url.is_special()) {
        Some(h) => (h.to_owned(), false),
        None => {
            let first = url::Host::parse(unbracketed);
            let failed = first.is_err();
            let host = first
                .or_else(|_| url::Host::parse(host_str))
                .map_err(|e| format!("`{raw}` has an invalid host ({e})"))?;
            (host, failed)
        }
    };
    // The RFC 3986 reading's host is parsed below. When its text is this
    // very text (the common case), the same parser gives the same answer:
    // it is not computed again.
    let same_text = rfc.host == unbracketed;
    // The RFC 3986 reading's host, canonicalized the same way (IPv4
    // notations and IDNA are the resolver's business, not a disagreement).
    if !url.is_special() && !rfc.host.is_ascii() {
        // An opaque host: WHATWG percent-encodes it, a resolver would
        // convert it with IDNA.
        return Err(ambiguous(
            raw,
            "has a non-ASCII host under a scheme without a host grammar",
        ));
    }
    // IDNA (UTS 46) drops default-ignorable code points (U+00AD, U+115F,
    // U+3164, variation selectors, …): the WHATWG reading removes them,
    // while Python's IDNA 2003 codec (urllib, `socket.getaddrinfo`) keeps
    // them and clients behind a proxy send the raw text: another name
    // (`x.stri\u{115f}pe.com` is `x.xn--stripe-6xy.com` to urllib).
    if !rfc.host.is_ascii() && rfc.host.chars().any(idna_ignores) {
        return Err(ambiguous(
            raw,
            "has a character in its host that IDNA ignores and other readers keep",
        ));
    }
    // UTS 46's deviation characters: nontransitional processing (WHATWG,
    // requests, Node) keeps `ß`, `ς`, ZWJ and ZWNJ, transitional processing
    // and IDNA 2003 (Python's urllib and socket layer, curl's fallback) map
    // them (`straße.de` is `strasse.de` to urllib): two names.
    if !rfc.host.is_ascii()
        && rfc.host.chars().any(|c| {
            matches!(
                c,
                '\u{df}' | '\u{1e9e}' | '\u{3c2}' | '\u{3a3}' | '\u{200c}' | '\u{200d}'
            )
        })
    {
        return Err(ambiguous(
            raw,
            "has a character in its host (`ß`, `ς`, a zero-width joiner) that IDNA's two processings map differently",
        ));
    }
    // IDNA 2003 (nameprep, RFC 3454 table B.1) maps a few characters to
    // nothing that UTS 46 keeps as valid: `169.254.169.25\u{1806}4` is an
    // `xn--` label here and 169.254.169.254 to Python's `socket` layer
    // (`getaddrinfo`, `http.client`), confirmed.
    if !rfc.host.is_ascii() && rfc.host.chars().any(nameprep_drops) {
        return Err(ambiguous(
            raw,
            "has a character in its host that IDNA 2003 (Python's socket layer) removes and UTS 46 keeps",
        ));
    }
    // A character UTS 46 maps (`ᵢ` to `i`, `ℍ` to `h`) may be one Python's
    // IDNA 2003 codec does not know (it stops at Unicode 3.2) and keeps as
    // is: another name (`pypᵢ.org` is pypi.org here and `xn--pyp-efy.org`
    // to Python, confirmed). A non-ASCII host must be what UTS 46 maps it
    // to, or map only characters of the blocks both read alike (see
    // [`mapped_alike`]).
    if !rfc.host.is_ascii() && !idna_readers_agree(&rfc.host) {
        return Err(ambiguous(
            raw,
            "has a character in its host that IDNA maps and readers of older Unicode (Python's IDNA 2003 codec) may not: write the host as IDNA writes it (lower case, no compatibility forms)",
        ));
    }
    // The same text gives the same host: parsed and compared only when it
    // differs.
    let only_one_accepts = || ambiguous(raw, "has a host only one reading accepts");
    let hosts_agree = match (same_text, first_failed) {
        (true, true) => return Err(only_one_accepts()),
        (true, false) => true,
        (false, _) => url::Host::parse(&rfc.host).map_err(|_| only_one_accepts())? == host,
    };
    if rfc.scheme != url.scheme()
        || !hosts_agree
        || rfc.port.or_else(|| default_port(&rfc.scheme)) != url.port_or_known_default()
    {
        return Err(ambiguous(raw, "is read differently by the two readings"));
    }
    let normalized = match host {
        url::Host::Domain(d) => {
            // One trailing dot is the root (`example.com.`); an empty label
            // (`localhost..`, `a..b`, `.a`) is a name resolvers refuse and
            // the WHATWG reading accepts.
            let d = match d.strip_suffix('.') {
                Some(d) => d.to_owned(),
                None => d,
            };
            if d.is_empty() {
                return Err(format!("`{raw}` has no host"));
            }
            if d.split('.').any(str::is_empty) {
                return Err(ambiguous(raw, "has an empty label in its host"));
            }
            // A name over 253 characters is no DNS name; and Node's legacy
            // `url.parse` empties a host over 255 characters of *raw* text
            // (then connects to localhost), where IDNA may have dropped code
            // points (soft hyphens, zero-width spaces) to give a short `d`.
            if d.len() > 253 || rfc.host.len() > 253 {
                return Err(ambiguous(raw, "has a host longer than 253 characters"));
            }
            // A label over 63 characters is no DNS label; the legacy
            // `url.js` reader (the npm `url` package) cuts it at 63 and
            // moves the rest into the path: another host.
            if d.split('.').any(|l| l.len() > 63) {
                return Err(ambiguous(raw, "has a label longer than 63 characters"));
            }
            // The WHATWG reading keeps `;`, `'`, `"`, `` ` ``, `!`, `$`, … in
            // a domain; Node's legacy `url.parse` (still used by HTTP
            // clients) ends the host there (`http://127.0.0.1;/` reaches
            // 127.0.0.1). A domain name is letters, digits, `-` and `_`.
            if !d
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
            {
                return Err(ambiguous(
                    raw,
                    "has a character in its host outside letters, digits, `-`, `_` and `.`",
                ));
            }
            let class = domain_class(&d);
            (d, class)
        }
        url::Host::Ipv4(v4) => (v4.to_string(), ipv4_class(v4)),
        url::Host::Ipv6(v6) => match embedded_ipv4(v6) {
            Some(v4) => (v4.to_string(), ipv4_class(v4)),
            None => (v6.to_string(), ipv6_class(v6)),
        },
    };
    Ok((String::from(url), normalized))
}

/// Scheme, host and port as an RFC 3986 reader finds them.
struct Rfc3986<'t> {
    scheme: Cow<'t, str>,
    host: Cow<'t, str>,
    port: Option<u16>,
}

fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        "ftp" => Some(21),
        _ => None,
    }
}

/// Whether IDNA's mapping (UTS 46) removes `c` from a host: alone, it
/// leaves an empty host.
fn idna_ignores(c: char) -> bool {
    let mut buf = [0u8; 4];
    !c.is_ascii()
        && matches!(
            url::Host::parse(c.encode_utf8(&mut buf)),
            Err(url::ParseError::EmptyHost)
        )
}

/// Whether UTS 46 and Python's IDNA 2003 codec read the non-ASCII `host`
/// alike: UTS 46 leaves it as it is (but ASCII case and the ideographic
/// and full-width full stops, separators to both), or each character it
/// maps is left as it is alone or [`mapped_alike`].
fn idna_readers_agree(host: &str) -> bool {
    let as_written = host
        .replace(['\u{3002}', '\u{ff0e}', '\u{ff61}'], ".")
        .to_ascii_lowercase();
    if url::quirks::domain_to_unicode(host) == as_written {
        return true;
    }
    host.chars().filter(|c| !c.is_ascii()).all(|c| {
        mapped_alike(c) || {
            let alone = format!("a{c}b");
            url::quirks::domain_to_unicode(&alone) == alone
        }
    })
}

/// Characters UTS 46 maps that Python's IDNA 2003 codec maps to the same
/// text: the Latin, Greek and Cyrillic blocks of Unicode 1.1 (capitals to
/// small letters, compatibility forms), the Latin Extended Additional
/// block, the full-width forms of ASCII and the ideographic full stops. A
/// sweep of every code point from U+0080 to U+2FFFF through this `url`/
/// `idna` version and Python 3.11's codec found no difference in them but
/// `ß`, `ẞ`, `ς`, `Σ` (refused before: deviation characters). Elsewhere
/// UTS 46's mappings include characters added after Unicode 3.2, which
/// the codec keeps (about 830 of them: modifier letters, Cherokee small
/// letters, enclosed forms, …), and new ones are added with each Unicode
/// version: such hosts are refused rather than listed.
fn mapped_alike(c: char) -> bool {
    matches!(
        c,
        '\u{a0}'..='\u{24f}'
            | '\u{370}'..='\u{3ff}'
            | '\u{400}'..='\u{4ff}'
            | '\u{1e00}'..='\u{1eff}'
            | '\u{3002}'
            | '\u{ff01}'..='\u{ff5e}'
            | '\u{ff61}'
    )
}

/// Whether IDNA 2003's nameprep maps `c` to nothing (RFC 3454, table B.1):
/// soft hyphen, combining grapheme joiner, Mongolian todo soft hyphen and
/// free variation selectors, zero-width space and joiners, word joiner,
/// variation selectors, zero-width no-break space.
fn nameprep_drops(c: char) -> bool {
    matches!(
        c,
        '\u{ad}'
            | '\u{34f}'
            | '\u{1806}'
            | '\u{180b}'..='\u{180d}'
            | '\u{200b}'..='\u{200d}'
            | '\u{2060}'
            | '\u{fe00}'..='\u{fe0f}'
            | '\u{feff}'
    )
}

/// Reads `text` (the value, with `https://` added when it had no scheme) as
/// RFC 3986 does, refusing every character on which readers are known to
/// part ways before the path.
fn rfc3986_authority<'t>(raw: &str, text: &'t str) -> Result<Rfc3986<'t>, String> {
    let Some((scheme, rest)) = text.split_once(':') else {
        return Err(ambiguous(raw, "has no scheme"));
    };
    let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    if !scheme_ok {
        return Err(ambiguous(
            raw,
            "has a scheme with characters outside RFC 3986",
        ));
    }
    // RFC 3986 allows `.` in a scheme, urllib3 does not: it reads
    // `evil.com://x.stripe.com/` as host `evil.com` with the path
    // `//x.stripe.com/` (confirmed, urllib3 2.7).
    if scheme.contains('.') {
        return Err(ambiguous(
            raw,
            "has a `.` in its scheme, which some clients read as a host",
        ));
    }
    let Some(after) = rest.strip_prefix("//") else {
        // `http:/host` and `http:host`: WHATWG finds a host, RFC 3986 a path.
        return Err(ambiguous(raw, "has no `//` after its scheme"));
    };
    let end = after.find(['/', '?', '#']).unwrap_or(after.len());
    let authority = &after[..end];
    if let Some(c) = authority
        .chars()
        .find(|c| matches!(c, '\\' | '{' | '}') || c.is_whitespace() || c.is_control())
    {
        return Err(ambiguous(raw, &format!("has {c:?} before its path")));
    }
    if authority.matches('@').count() > 1 {
        return Err(ambiguous(raw, "has more than one `@` before its path"));
    }
    let host_port = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = if let Some(v6) = host_port.strip_prefix('[') {
        let Some((inside, after)) = v6.split_once(']') else {
            return Err(ambiguous(raw, "has an unclosed `[`"));
        };
        let port = match after {
            "" => None,
            p => Some(
                p.strip_prefix(':')
                    .ok_or_else(|| ambiguous(raw, "has text after its IPv6 literal"))?,
            ),
        };
        (Cow::Owned(format!("[{inside}]")), port)
    } else {
        match host_port.rsplit_once(':') {
            Some((h, p)) => (Cow::Borrowed(h), Some(p)),
            None => (Cow::Borrowed(host_port), None),
        }
    };
    if host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .contains(['[', ']', '%'])
        || authority.contains(['[', ']']) && !host.starts_with('[')
    {
        return Err(ambiguous(raw, "has `[`, `]` or `%` in its host"));
    }
    let port = match port {
        None | Some("") => None,
        Some(p) if p.bytes().all(|b| b.is_ascii_digit()) => Some(
            p.parse::<u16>()
                .map_err(|_| format!("`{raw}` has a port out of range"))?,
        ),
        Some(_) => return Err(ambiguous(raw, "has a port that is not a number")),
    };
    let scheme = if scheme.bytes().any(|b| b.is_ascii_uppercase()) {
        Cow::Owned(scheme.to_ascii_lowercase())
    } else {
        Cow::Borrowed(scheme)
    };
    Ok(Rfc3986 { scheme, host, port })
}

/// Whether a value starts with a WHATWG special scheme and `:`.
fn has_special_scheme(raw: &str) -> bool {
    let trimmed = raw.trim_start_matches(|c: char| c <= ' ');
    let Some((scheme, _)) = trimmed.split_once(':') else {
        return false;
    };
    let scheme: String = scheme
        .chars()
        .filter(|c| !matches!(c, '\t' | '\n' | '\r'))
        .collect();
    matches!(
        scheme.to_ascii_lowercase().as_str(),
        "http" | "https" | "ws" | "wss" | "ftp" | "file"
    )
}

/// The class of a domain (without trailing dots): `localhost` and
/// `*.localhost` loopback, the metadata servers' names metadata, and any
/// other single-label name internal — it resolves through `/etc/hosts` or a
/// search domain (`http://metadata/` is GCE's metadata server).
///
/// Beyond the brief's names: the loopback names of common hosts files and
/// of systemd's nss-myhostname (`localhost.localdomain` and its subdomains,
/// `localhost4`, `localhost6`, `*.localdomain4/6`, Debian's
/// `ip6-localhost`/`ip6-loopback`), AWS's metadata aliases
/// (`instance-data`, `instance-data.ec2.internal`), and as internal the
/// names under suffixes that are never public (`.internal`, `.local`,
/// `.localdomain`, `.home.arpa`, `.lan`, `.home`, `.corp`, `.intranet`,
/// and Kubernetes' `.svc`, `kubernetes.default`).
fn domain_class(d: &str) -> HostClass {
    let under = |suffix: &str| {
        d.strip_suffix(suffix)
            .is_some_and(|rest| rest.is_empty() || rest.ends_with('.'))
    };
    if d == "localhost"
        || d.ends_with(".localhost")
        || under("localhost.localdomain")
        || matches!(
            d,
            "localhost4"
                | "localhost6"
                | "localhost4.localdomain4"
                | "localhost6.localdomain6"
                | "ip6-localhost"
                | "ip6-loopback"
        )
    {
        HostClass::Loopback
    } else if matches!(
        d,
        "metadata.google.internal"
            | "metadata.goog"
            | "instance-data"
            | "instance-data.ec2.internal"
    ) {
        HostClass::Metadata
    } else if !d.contains('.')
        || [
            ".internal",
            ".local",
            ".localdomain",
            ".home.arpa",
            ".lan",
            ".home",
            ".corp",
            ".intranet",
            ".svc",
        ]
        .iter()
        .any(|s| d.ends_with(s))
        || matches!(d, "kubernetes.default" | "home.arpa")
    {
        HostClass::Internal
    } else {
        HostClass::Public
    }
}

/// IPv4-mapped (`::ffff:a.b.c.d`) and NAT64 (`64:ff9b::a.b.c.d`) addresses
/// reach an IPv4 host: they are judged as that host.
fn embedded_ipv4(v6: Ipv6Addr) -> Option<Ipv4Addr> {
    if let Some(v4) = v6.to_ipv4_mapped() {
        return Some(v4);
    }
    let s = v6.segments();
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        let o = v6.octets();
        return Some(Ipv4Addr::new(o[12], o[13], o[14], o[15]));
    }
    None
}

pub fn ipv4_class(ip: Ipv4Addr) -> HostClass {
    let o = ip.octets();
    match o {
        // Cloud instance metadata: AWS, GCP, Azure, OpenStack, Oracle
        // (169.254.169.254); AWS ECS task metadata (169.254.170.2) and EKS
        // Pod Identity (169.254.170.23); Scaleway (169.254.42.42).
        [169, 254, 169, 254] | [169, 254, 170, 2] | [169, 254, 170, 23] | [169, 254, 42, 42] => {
            HostClass::Metadata
        }
        // Azure's WireServer (host agent and a metadata source), Alibaba
        // Cloud's metadata service, Oracle Cloud's legacy one.
        [168, 63, 129, 16] | [100, 100, 100, 200] | [192, 0, 0, 192] => HostClass::Metadata,
        // 0.0.0.0/8 reaches the local host on common systems.
        [127, ..] | [0, ..] => HostClass::Loopback,
        [169, 254, ..] => HostClass::LinkLocal,
        [10, ..] | [192, 168, ..] => HostClass::Private,
        [172, b, ..] if (16..32).contains(&b) => HostClass::Private,
        [100, b, ..] if (64..128).contains(&b) => HostClass::Private,
        _ => HostClass::Public,
    }
}

pub fn ipv6_class(ip: Ipv6Addr) -> HostClass {
    let s = ip.segments();
    let o = ip.octets();
    let last32 = Ipv4Addr::new(o[12], o[13], o[14], o[15]);
    if ip.is_loopback() || ip.is_unspecified() {
        HostClass::Loopback
    } else if s[..6] == [0; 6] || s[..6] == [0, 0, 0, 0, 0xffff, 0] {
        // IPv4-compatible `::a.b.c.d` (deprecated; some stacks still
        // route it as IPv4) and SIIT's IPv4-translated `::ffff:0:a.b.c.d`:
        // the class of the IPv4 address inside.
        ipv4_class(last32)
    } else if s[..3] == [0x64, 0xff9b, 1] {
        // NAT64's local-use prefix (RFC 8215): a translator of this network
        // reaches the IPv4 address inside, and the prefix itself is local.
        // Where the address sits depends on the translator's prefix length
        // (RFC 6052: /48, /56, /64, /96, skipping bits 64–71): the most
        // severe class of the four readings, at least `private`.
        // (A reading in 0.0.0.0/8 names no host a translator forwards to:
        // only the /96 one, the common layout, counts then.)
        let readings = [
            [o[6], o[7], o[9], o[10]],
            [o[7], o[9], o[10], o[11]],
            [o[9], o[10], o[11], o[12]],
            [o[12], o[13], o[14], o[15]],
        ]
        .map(|b| ipv4_class(Ipv4Addr::from(b)));
        let readings = [
            (o[6] != 0).then_some(readings[0]),
            (o[7] != 0).then_some(readings[1]),
            (o[9] != 0).then_some(readings[2]),
            Some(readings[3]),
        ];
        let readings = readings.map(|r| r.unwrap_or(HostClass::Public));
        [
            HostClass::Metadata,
            HostClass::Loopback,
            HostClass::LinkLocal,
        ]
        .into_iter()
        .find(|c| readings.contains(c))
        .unwrap_or(HostClass::Private)
    } else if s[0] == 0x2002 {
        // 6to4: the IPv4 address in bits 16–47, reached through a relay.
        let v4 = Ipv4Addr::new(o[2], o[3], o[4], o[5]);
        ipv4_class(v4)
    } else if s[..2] == [0x2001, 0] {
        // Teredo (RFC 4380): the client's IPv4 address, inverted, in the
        // last 32 bits, where a relay delivers (`2001:0:…:80ff:fffe` hides
        // 127.0.0.1).
        let v4 = Ipv4Addr::new(!o[12], !o[13], !o[14], !o[15]);
        ipv4_class(v4)
    } else if s[0] & 0xffc0 == 0xfec0 {
        // Site-local (RFC 3879 deprecated it; stacks still route it inside).
        HostClass::Private
    } else if matches!(
        s,
        // AWS IMDS, AWS EKS Pod Identity, GCP, Scaleway.
        [0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254]
            | [0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x23]
            | [0xfd20, 0xce, 0, 0, 0, 0, 0, 0x254]
            | [0xfd00, 0x42, 0, 0, 0, 0, 0, 0x42]
    ) {
        HostClass::Metadata
    } else if s[0] & 0xffc0 == 0xfe80 {
        HostClass::LinkLocal
    } else if s[0] & 0xfe00 == 0xfc00 {
        HostClass::Private
    } else {
        HostClass::Public
    }
}

#[cfg(test)]
mod tests {

    proptest::proptest! {
        /// Under a special scheme the URL parser's own host is used, not
        /// its serialization parsed again: the two are the same host for
        /// every host text an attacker might send (case, IDNA, IPv4
        /// notations, percent-encoding, trailing dots, brackets).
        #[test]
        fn the_url_parsers_host_is_its_serialization_parsed_again(
            scheme in proptest::sample::select(vec!["http", "https", "ws", "wss", "ftp", "HTTP"]),
            host in "(\\[::ffff:[0-9.]{1,15}\\]|\\[[0-9a-f:]{2,12}\\]|(0x[0-9a-fA-F]{1,3}|0[0-7]{1,4}|[0-9]{1,10})(\\.(0x[0-9a-f]{1,2}|[0-9]{1,3})){0,3}|([a-zA-Z0-9-]|%[0-9a-fA-F]{2}|\\u{e9}|\\u{212a}|\\u{ff0e}|\\u{3002}|xn--){1,6}(\\.([a-zA-Z0-9-]|\\u{df}){1,6}){0,3}\\.?)",
        ) {
            // Hosts the URL parser refuses are skipped; proptest fails the
            // test if most are (the check would be empty).
            let url = url::Url::parse(&format!("{scheme}://{host}/p"));
            proptest::prop_assume!(url.is_ok());
            let Ok(url) = url else { return Ok(()) };
            let (Some(own), Some(text)) = (url.host(), url.host_str()) else {
                return Err(proptest::test_runner::TestCaseError::fail("a special URL without a host"));
            };
            let unbracketed = text.trim_start_matches('[').trim_end_matches(']');
            let again = url::Host::parse(unbracketed).or_else(|_| url::Host::parse(text));
            proptest::prop_assert_eq!(again, Ok(own.to_owned()), "{}", text);
        }
    }

    #[test]
    fn bidi_controls_are_among_the_invisible_characters() {
        let (mut bidi, mut hidden) = (0, 0);
        for c in (0..=0x10_ffff).filter_map(char::from_u32) {
            if bidi_control(c) {
                assert!(invisible(c), "{c:?}");
                bidi += 1;
            }
            hidden += usize::from(invisible(c));
        }
        assert_eq!(bidi, 12);
        assert!(hidden > 400, "{hidden}");
    }

    #[test]
    fn a_digest_reads_as_sha256_and_its_hex() {
        for h in [[0u8; 32], [0xff; 32], crate::sha256(b"intent")] {
            let d = Digest::of(&h);
            assert_eq!(d.as_str(), format!("sha256:{}", crate::hex(&h)));
            assert_eq!(serde_json::to_string(&d).unwrap(), format!("\"{d}\""));
        }
        assert_eq!(Digest::EMPTY.as_str(), "");
    }

    proptest::proptest! {
        /// A path [`already_normal`] accepts is exactly what normalizing it
        /// gives (the borrowed fast path never changes a reading).
        #[test]
        fn an_already_normal_path_is_its_own_normal_form(
            raw in "[/a.\\\\]{0,12}",
            backslash in proptest::bool::ANY,
        ) {
            let reading = if backslash { PathReading::Backslash } else { PathReading::Posix };
            let separators: &[char] = if backslash { &['/', '\\'] } else { &['/'] };
            let base = if raw.starts_with(separators) { "" } else { "/ws" };
            let slow = join_segments(base, &raw, backslash);
            if already_normal(&raw, path_bytes(&raw), reading) {
                proptest::prop_assert_eq!(slow.as_deref(), Some(raw.as_str()));
            }
            let fast = normalize_path_cow(&raw, Some("/ws"), reading);
            proptest::prop_assert_eq!(fast.ok().map(Cow::into_owned), slow);
        }
    }

    use super::*;

    #[test]
    fn keys_are_compared_as_a_case_insensitive_reader_compares_them() {
        // Go's encoding/json: ASCII case, `ſ` (U+017F) for `s` and the
        // Kelvin sign (U+212A) for `k`; Greek final sigma for sigma.
        for (k, key) in [
            ("PATH", "path"),
            ("pAtH", "path"),
            ("\u{17f}ource", "source"),
            ("SOURCE", "\u{17f}ource"),
            ("\u{212a}ey", "key"),
            ("ma\u{3c2}", "ma\u{3a3}"),
            ("\u{c9}t\u{c9}", "\u{e9}t\u{e9}"),
            ("path", "path"),
            // Go: upper(lower('İ')) = 'I', with the simple mappings.
            ("f\u{130}le_path", "file_path"),
            ("\u{130}d", "id"),
            ("\u{131}d", "id"),
            // Spellings frameworks convert between.
            ("destPath", "dest_path"),
            ("dest-path", "destPath"),
            ("DEST_PATH", "destpath"),
            ("file__path", "filePath"),
        ] {
            assert!(same_key_ignoring_case(k, key), "{k:?} {key:?}");
            assert!(same_key_ignoring_case(key, k), "{key:?} {k:?}");
        }
        for (k, key) in [
            ("paths", "path"),
            ("pat", "path"),
            ("path ", "path"),
            ("p\u{e4}th", "path"),
            ("\u{131}e", "id"),
            ("", "path"),
        ] {
            assert!(!same_key_ignoring_case(k, key), "{k:?} {key:?}");
        }
    }

    #[test]
    fn repeated_keys_are_invalid_at_any_depth() {
        assert!(parse(br#"{"tool_name": "read_file", "tool_name": "exec"}"#).is_err());
        assert!(
            parse(br#"{"tool_name": "x", "args": {"path": "/ok", "path": "/etc/shadow"}}"#)
                .is_err()
        );
        assert!(parse(
            br#"{"tool_name": "x", "targets": [{"kind": "path", "value": "/a", "value": "/b"}]}"#
        )
        .is_err());
        let v = parse(
            br#"{"tool_name": "x", "args": {"n": [1, -2, 2.5, true, null, {"a": "b"}], "m": {}}}"#,
        )
        .unwrap();
        assert_eq!(
            v,
            serde_json::json!({"tool_name": "x", "args": {"n": [1, -2, 2.5, true, null, {"a": "b"}], "m": {}}})
        );
    }

    #[test]
    fn paths() {
        assert_eq!(
            normalize_path("/workspace/../etc/passwd", None).unwrap(),
            "/etc/passwd"
        );
        assert_eq!(
            normalize_path("/../../etc//shadow/", None).unwrap(),
            "/etc/shadow"
        );
        assert_eq!(
            normalize_path("a/./b/../c", Some("/workspace")).unwrap(),
            "/workspace/a/c"
        );
        assert_eq!(
            normalize_path("../../../etc/passwd", Some("/workspace")).unwrap(),
            "/etc/passwd"
        );
        // `\` is a byte of a name to the kernel, a separator to the other reading.
        assert_eq!(
            normalize_path("C:\\x\\..\\y", Some("/ws")).unwrap(),
            "/ws/C:\\x\\..\\y"
        );
        assert_eq!(
            normalize_path_as("C:\\x\\..\\y", Some("/ws"), PathReading::Backslash).unwrap(),
            "/ws/C:/y"
        );
        let trick = "/tmp/rt/q\\..\\..\\..\\..\\..\\..\\workspace/evil.sh";
        assert_eq!(
            normalize_path(trick, None).unwrap(),
            "/tmp/rt/q\\..\\..\\..\\..\\..\\..\\workspace/evil.sh"
        );
        assert_eq!(
            normalize_path_as(trick, None, PathReading::Backslash).unwrap(),
            "/workspace/evil.sh"
        );
        assert!(
            normalize_path("\\etc\\passwd", None).is_err(),
            "relative to the kernel"
        );
        assert_eq!(normalize_path("/", None).unwrap(), "/");
        assert!(normalize_path("~/.ssh/id_rsa", Some("/ws")).is_err());
        // What a tool may read otherwise: a variable it expands, a file: URL.
        for p in [
            "$HOME/../etc/shadow",
            "/w/${HOME}/x",
            "a/$(id)/b",
            "file:///etc/shadow",
            "FILE:/etc/shadow",
            "file://localhost/root/%2essh/id_rsa",
            // What bash expands or runs on a shell line: special
            // parameters (`$5` is empty: `/ws/.$5./x` is `/ws/../x`),
            // `$'…'`, `$"…"`, backquotes, globs and braces.
            "/w/price$5/a",
            "/ws/.$@./secret",
            "/ws/$'\\x2e\\x2e'/secret",
            "/ws/$\"..\"/secret",
            "/ws/`printf ..`/secret",
            "/ws/`id>/tmp/pwned`x",
            "/ws/.e*v",
            "/ws/.en?",
            "/ws/{.env,x}",
            "/ws/{a..c}",
            "/ws/{a,{b}}",
            "/ws/.@(env)",
            "/ws/.+(env)",
            "/ws/!(x)",
            "/ws/.ss[!x]/id_rsa",
            "/ws/.ss[^x]/id_rsa",
            "/ws/.ss[g-i]/id_rsa",
            "/ws/.ss[[:alpha:]]/id_rsa",
            "/ws/[abcdefghi]",
            "/ws/[abc][abc]",
            "/ws/sub/'..\\..\\'etc/shadow",
            "/ws/\"a\\b\"",
        ] {
            assert!(normalize_path(p, Some("/ws")).is_err(), "{p}");
        }
        // A `$` bash keeps as it is, a lone `[`, a brace without a list.
        for p in [
            "/w/a$/b$",
            "/w/a$.b",
            "/w/[x",
            "/w/{x}",
            "/w/a]b",
            "/w/file (1).txt",
        ] {
            assert_eq!(normalize_path(p, None).unwrap(), p);
        }
        assert_eq!(normalize_path("/w/file:x", None).unwrap(), "/w/file:x");
        // A JSON list or object an SDK parses before the tool sees it.
        for p in [
            r#"["/etc/shadow"]"#,
            r#" {"p": "/etc/shadow"}"#,
            "[]",
            // Python's `json.loads` takes NaN and Infinity.
            r#"{"path": "/etc/shadow", "x": NaN}"#,
            r#"["/etc/shadow", -Infinity]"#,
            r#"{"path": "/etc/shadow", "x": [Infinity]}"#,
        ] {
            assert!(normalize_path(p, Some("/ws")).is_err(), "{p}");
        }
        // JSON's null is `None` to such an SDK; `true` is the string.
        for (text, null) in [
            ("null", true),
            (" null", true),
            ("null\t", true),
            ("Null", false),
            ("true", false),
            ("nul", false),
        ] {
            assert_eq!(json_null(text), null, "{text:?}");
        }
        // Deeper than serde_json reads, not deeper than Python does (a
        // command, which no bracket rule refuses first).
        let deep = format!("{}\"curl\"{}", "[".repeat(200), "]".repeat(200));
        assert!(json_list_or_object(&deep));
        // Strings holding the words are strings.
        assert!(!json_list_or_object(r#"["NaN"]x"#));
        assert!(json_list_or_object(r#"["NaN \" Infinity", NaN]"#));
        assert!(!json_list_or_object("[NaN"));
        assert_eq!(
            normalize_path("[draft] notes.md", Some("/ws")).unwrap(),
            "/ws/[draft] notes.md"
        );
        // Kernel links to a file the opening process chooses.
        for p in [
            "/proc/self/root/etc/shadow",
            "/proc/thread-self/root",
            "/proc/1/cwd/x",
            "/proc/self/task/7/fd/0",
            "/proc/self/map_files/x",
            "/proc/self/x/../root/etc/shadow",
            "/dev/fd/3/etc",
            "/dev/stdin",
            "/dev//./stdout",
        ] {
            assert!(normalize_path(p, None).is_err(), "{p}");
        }
        for p in [
            "/proc/self/status",
            "/proc/cpuinfo",
            "/dev/null",
            "/proc/sys/root",
            "/dev/fdx",
        ] {
            assert_eq!(normalize_path(p, None).unwrap(), p);
        }
        // `..` out of a folder under /dev or /proc: the folder may be a link
        // into the process's own (`/dev/fd` is `/proc/self/fd`).
        for p in [
            "/dev/fd/../root/etc/shadow",
            "/proc/net/../environ",
            "/proc/self/fd/../root",
            "/dev/shm/x/../../fd/0",
        ] {
            assert!(normalize_path(p, None).is_err(), "{p}");
        }
        assert!(normalize_path_as(
            "/dev/fd\\..\\root\\etc\\shadow",
            None,
            PathReading::Backslash
        )
        .is_err());
        assert!(
            normalize_path("fd/../root", Some("/dev")).is_err(),
            "through the workspace too"
        );
        assert_eq!(
            normalize_path("/dev/../etc/hosts", None).unwrap(),
            "/etc/hosts"
        );
        assert_eq!(
            normalize_path("/workspace/a/../b", None).unwrap(),
            "/workspace/b"
        );
        assert!(normalize_path("/a\0b", None).is_err());
        assert!(normalize_path("rel", None).is_err());
        assert!(normalize_path(&format!("/{}", "a".repeat(PATH_MAX)), None).is_err());
        assert!(normalize_path(&format!("/{}", "a".repeat(PATH_MAX - 1)), None).is_ok());
    }

    #[test]
    fn tool_names_a_dispatcher_reads_as_other_ascii_names_fail_closed() {
        for (given, c, ascii) in [
            ("READ_F\u{130}LE", '\u{130}', "i"),
            ("delete_f\u{131}le", '\u{131}', "i"),
            ("li\u{17f}t_dir", '\u{17f}', "s"),
            ("read_\u{fb01}le", '\u{fb01}', "fi"),
            ("\u{212a}ill", '\u{212a}', "k"),
            ("\u{ff52}ead", '\u{ff52}', "r"),
            ("a\u{ff3f}b", '\u{ff3f}', "_"),
            ("a\u{ff3c}b", '\u{ff3c}', "\\"),
            ("a\u{ff5e}", '\u{ff5e}', "~"),
        ] {
            assert_eq!(tool_name_reads_as_ascii(given), Some((c, ascii)), "{given}");
            let intent = serde_json::json!({ "tool_name": given });
            let e = normalize(&intent, None).err().map(|e| e.to_string());
            assert!(
                e.as_deref().is_some_and(|e| e.contains("dispatcher")),
                "{given}: {e:?}"
            );
        }
        for fine in ["read_file", "\u{e9}crire", "\u{5199}\u{5165}"] {
            assert_eq!(tool_name_reads_as_ascii(fine), None, "{fine}");
            assert!(normalize(&serde_json::json!({ "tool_name": fine }), None).is_ok());
        }
        for name in [
            "read_file\u{200b}",
            "read\u{feff}_file",
            "\u{202e}elif_daer",
            "read\u{ad}file",
            // Tag characters (ASCII no one sees), a variation selector, a
            // Hangul filler.
            "read_file\u{e0072}\u{e006d}",
            "read_file\u{fe0f}",
            "read\u{3164}file",
        ] {
            let intent = serde_json::json!({ "tool_name": name });
            assert!(normalize(&intent, None).is_err(), "{name:?}");
        }
    }

    #[test]
    fn intent_digest_is_stable_under_order_and_whitespace() {
        let a = br#"{"tool_name": "Write_File", "args": {"path": "/w/a", "content": {"x": 1, "y": [1, 2]}},
            "targets": [{"kind": "path", "value": "/w/a", "operation": "write"}, {"kind": "url", "value": "https://API.example.com/x"}],
            "arg_provenance": [{"arg_path": "$.path", "source": "user"}, {"arg_path": "$.content", "source": "external"}],
            "context": {"identity": "bot", "workspace": "/w", "risk_class": "high"}}"#;
        let b = br#"{"context":{"risk_class":"HIGH","workspace":"/w/","identity":"bot"},
            "arg_provenance":[{"source":"EXTERNAL","arg_path":"$.content"},{"source":"user","arg_path":"$.path"},{"source":"user","arg_path":"$.path"}],
            "targets":[{"value":"https://api.example.com/x","kind":"url"},{"operation":"write","value":"/w//a/","kind":"path"}],
            "args":{"content":{"y":[1,2],"x":1},"path":"/w/a"},"tool_name":"  write_file "}"#;
        let d = |t: &[u8]| normalize(&parse(t).unwrap(), None).unwrap().digest;
        assert_eq!(d(a), d(b));
        let c = String::from_utf8_lossy(a).replace("\"x\": 1", "\"x\": 2");
        assert_ne!(d(a), d(c.as_bytes()), "different args, different digest");
        assert!(d(a).starts_with("sha256:") && d(a).len() == 71);
    }

    /// The second red-team round (2026-12-05): hosts Node's legacy
    /// `url.parse` cuts short, host targets that carry more than a name,
    /// and metadata addresses that were classed private or link-local.
    #[test]
    fn hosts_readers_cut_short_and_the_other_metadata_addresses() {
        for u in [
            "http://127.0.0.1;/latest/meta-data/",
            "http://169.254.169.254;.githubusercontent.com/x",
            "http://127.0.0.1'/x",
            "http://127.0.0.1\"/x",
            "http://127.0.0.1`/x",
            "http://a!b.example.com/",
            "http://a$b.example.com/",
        ] {
            let e = normalize_url(u).unwrap_err();
            assert!(e.starts_with(URL_AMBIGUOUS), "{u}: {e}");
        }
        // Hosts Node's legacy reader empties (it then connects to
        // localhost): too long, or long in raw text that IDNA shortens.
        for u in [
            format!(
                "http://{}.githubusercontent.com/x",
                vec!["a".repeat(60); 4].join(".")
            ),
            format!("http://api.github.com{}/x", "\u{ad}".repeat(250)),
        ] {
            let e = normalize_url(&u).unwrap_err();
            assert!(e.starts_with(URL_AMBIGUOUS), "{u}: {e}");
        }
        assert!(normalize_url(&format!(
            "http://{}.example.com/",
            vec!["a".repeat(60); 3].join(".")
        ))
        .is_ok());
        assert_eq!(
            normalize_url("https://my_host-1.example.com/x")
                .unwrap()
                .1
                 .0,
            "my_host-1.example.com"
        );
        let target = |kind, value: &str| {
            build_target(
                kind,
                value,
                None,
                None,
                false,
                "dns_lookup",
                (None, PathReading::Posix),
            )
            .map(|_| ())
        };
        for v in [
            "x.pypi.org/.evil.example",
            "pypi.org?x",
            "pypi.org#x",
            "pypi.org\\x",
        ] {
            assert!(target(TargetKind::Host, v).is_err(), "{v}");
        }
        assert!(target(TargetKind::Host, "pypi.org").is_ok());
        assert!(target(TargetKind::Host, "pypi.org:443").is_ok());
        for m in [
            "http://[fd20:ce::254]/computeMetadata/v1/",
            "http://[fd00:ec2::23]/",
            "http://[fd00:42::42]/",
            "http://169.254.170.2/v2/credentials",
            "http://169.254.170.23/",
            "http://169.254.42.42/",
        ] {
            assert_eq!(normalize_url(m).unwrap().1 .1, HostClass::Metadata, "{m}");
        }
    }

    /// Pieces of URLs and hosts on which the two readings, IDNA, IPv4
    /// numbers and the WHATWG serialization are known to part ways.
    const URL_PIECES: &[&str] = &[
        "a",
        // 63 letters: a label at the limit, or over it with one more.
        "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijk",
        "b",
        "z",
        "Z",
        "0",
        "7",
        "x",
        "xn--",
        "0x",
        "1e",
        ".",
        "..",
        "-",
        "_",
        "/",
        "?",
        "#",
        "=",
        "&",
        ":",
        "@",
        "%",
        "%2e",
        "%2E",
        "\\",
        " ",
        "\t",
        "\n",
        "[",
        "]",
        "'",
        "`",
        "^",
        "|",
        "~",
        "\u{e9}",
        "\u{3002}",
        "\u{ad}",
        "localhost",
        "example",
        "com",
        "!",
        "$",
        "*",
        "(",
        ")",
        ",",
        "+",
        ";",
        "{",
        "\"",
        "<",
        "80",
        "443",
        "/./",
        "/../",
        "/.",
        "/..",
    ];

    fn url_text() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let piece = proptest::sample::select(URL_PIECES);
        (
            proptest::sample::select(vec![
                "https://", "http://", "HTTP://", "ws://", "https:/", "",
            ]),
            proptest::collection::vec(piece.clone(), 1..7),
            proptest::sample::select(vec!["/", "", "?", "#", "/v1/items", ":8080/"]),
            proptest::collection::vec(piece, 0..8),
        )
            .prop_map(|(scheme, host, sep, tail)| {
                format!("{scheme}{}{sep}{}", host.concat(), tail.concat())
            })
    }

    fn host_text() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        proptest::collection::vec(proptest::sample::select(URL_PIECES), 1..7)
            .prop_map(|p| p.concat())
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(4096))]
        /// The plain URLs' fast path gives exactly what the full reading
        /// gives, for every text (it only borrows; it never decides).
        #[test]
        fn the_plain_url_fast_path_is_the_full_reading(text in url_text()) {
            let fast = normalize_url(&text)
                .map(|(u, (h, c))| (u.into_owned(), (h.into_owned(), c)));
            proptest::prop_assert_eq!(fast, read_url(&text), "{:?}", text);
        }

        /// A plain host alone is what the full reading of `http://` and the
        /// host finds (the `host` targets' fast path).
        #[test]
        fn a_plain_host_is_its_own_reading(
            host in host_text(),
        ) {
            if plain_host(&host) {
                let full = read_url(&format!("http://{host}")).map(|(_, h)| h);
                proptest::prop_assert_eq!(full, Ok((host.clone(), domain_class(&host))));
            }
        }
    }

    /// The fast path is taken by the URLs agents send most (the checks above
    /// would hold vacuously if it never were), and not by near misses.
    #[test]
    fn plain_urls_take_the_fast_path_and_near_misses_do_not() {
        for url in [
            "https://api.github.com/repos/o/r/issues?state=open&per_page=100",
            "http://localhost/x",
            "https://api43.svc1.example.com/v1/items",
            "https://a-b.example/p/a.b/..c/.d/~e_f#frag?x/../y",
            "https://metadata.google.internal/computeMetadata/v1/",
            "https://1.2.3.example/x",
        ] {
            assert!(plain_url_host(url).is_some(), "{url}");
            let fast = normalize_url(url).unwrap();
            assert!(matches!(fast.0, Cow::Borrowed(_)), "{url}");
            let full = read_url(url).unwrap();
            assert_eq!(
                (fast.0.into_owned(), (fast.1 .0.into_owned(), fast.1 .1)),
                full
            );
        }
        for url in [
            "https://api.github.com",
            "https://api.github.com?x",
            "HTTPS://api.github.com/",
            "https://API.github.com/",
            "https://api.github.com./",
            "https://api..github.com/",
            "https://.api.github.com/",
            "https://api.github.com:443/",
            "https://u@api.github.com/",
            "https://xn--pypi-x.org/",
            "https://a.xn--org/",
            "http://127.0.0.1/",
            "http://0x7f/",
            "http://example.0x7f/",
            "http://2130706433/",
            "https://a.com/x/./y",
            "https://a.com/x/..",
            "https://a.com/x/../y",
            "https://a.com/x/%2e%2e/y",
            "https://a.com/x\\y",
            "https://a.com/x y",
            "https://a.com/x'y",
            "https://a.com/x^y",
            "https://a_b.com/",
            "ftp://a.com/",
            "ws://a.com/",
        ] {
            assert!(plain_url_host(url).is_none(), "{url}");
        }
        let long = format!("https://{}.com/", "a".repeat(250));
        assert!(plain_url_host(&long).is_none());
        // A label over 63 characters: no DNS label, and another host to
        // the legacy `url.js` reader — refused by the full reading too.
        for n in [63, 64] {
            let url = format!("https://{}.github.com/x", "a".repeat(n));
            assert_eq!(plain_url_host(&url).is_some(), n == 63, "{n}");
            let full = read_url(&url);
            assert_eq!(full.is_ok(), n == 63, "{n}: {full:?}");
        }
    }

    #[test]
    fn urls_and_hosts() {
        let host = |u: &str| normalize_url(u).map(|x| (x.1 .0.into_owned(), x.1 .1));
        assert_eq!(
            host("https://api.github.com@evil.io/").unwrap(),
            ("evil.io".into(), HostClass::Public)
        );
        assert_eq!(
            host("HTTPS://API.GitHub.COM.:443/x").unwrap().0,
            "api.github.com"
        );
        assert_eq!(host("api.github.com/x").unwrap().0, "api.github.com");
        for metadata in [
            "http://2852039166/",
            "http://0xA9.254.169.254/",
            "http://0251.0376.0251.0376/",
            "http://[::ffff:169.254.169.254]/",
            "http://169.254.169.254",
            "http://metadata.google.internal./",
        ] {
            assert_eq!(host(metadata).unwrap().1, HostClass::Metadata, "{metadata}");
        }
        assert_eq!(
            host("http://[fd00:ec2::254]/").unwrap(),
            ("fd00:ec2::254".into(), HostClass::Metadata)
        );
        assert_eq!(
            host("http://127.1/").unwrap(),
            ("127.0.0.1".into(), HostClass::Loopback)
        );
        assert_eq!(
            host("http://foo.localhost/").unwrap().1,
            HostClass::Loopback
        );
        assert_eq!(host("http://[::1]:8080/").unwrap().1, HostClass::Loopback);
        assert_eq!(host("http://0.0.0.0:22/").unwrap().1, HostClass::Loopback);
        assert_eq!(host("http://10.1.2.3/").unwrap().1, HostClass::Private);
        assert_eq!(host("http://172.31.0.1/").unwrap().1, HostClass::Private);
        assert_eq!(host("http://172.32.0.1/").unwrap().1, HostClass::Public);
        assert_eq!(host("http://100.64.0.1/").unwrap().1, HostClass::Private);
        assert_eq!(host("http://169.254.1.1/").unwrap().1, HostClass::LinkLocal);
        assert_eq!(host("http://[fe80::1]/").unwrap().1, HostClass::LinkLocal);
        assert_eq!(host("http://[fc00::1]/").unwrap().1, HostClass::Private);
        assert_eq!(
            host("http://[64:ff9b::a9fe:a9fe]/").unwrap().1,
            HostClass::Metadata
        );
        assert_eq!(host("https://bücher.de/").unwrap().0, "xn--bcher-kva.de");
        // Ideographic and fullwidth dots are separators, not ignored.
        assert_eq!(
            host("https://api\u{ff0e}github\u{3002}com/").unwrap().0,
            "api.github.com"
        );
        assert!(host("http://").is_err());
        // One reading or none: each of these is read with another host by
        // curl, urllib or Go than by the WHATWG parser.
        for ambiguous in [
            "http:/169.254.169.254/latest",
            "http:\\\\169.254.169.254\\latest",
            "http:169.254.169.254/x",
            "HTTP:/169.254.169.254",
            "https://api.allowed.com\\@evil.com/",
            "https://api.allowed.com\\.evil.com/",
            "http://{example.com,169.254.169.254}/",
            "http://example.com{,.evil.com}/",
            "http://ex[a]mple.com/",
            "https://ev\nil.io/",
            "https://ev\til.io/",
            " https://example.com/",
            "https://a@b@evil.com/",
            "https://%65vil.com/",
            "https://example.com:80x/",
            "example.com\\@evil.com/x",
            "https://evil.com\u{7f}/",
            // urllib3 takes a scheme of letters, digits, `+` and `-` only:
            // `evil.com:` is its host and empty port.
            "evil.com://x.stripe.com/v1/charges",
            "evil.com.://x.stripe.com/",
            "attacker.example://api.github.com/repos",
            // Characters IDNA drops and Python's IDNA 2003 codec keeps.
            "https://x.stri\u{115f}pe.com/",
            "https://x.stri\u{ad}pe.com/",
            "https://x.stripe\u{fe0f}.com/",
            "https://x.str\u{3164}ipe.com/",
        ] {
            let e = host(ambiguous).unwrap_err();
            assert!(e.starts_with("url_ambiguous: "), "{ambiguous:?}: {e}");
        }
        assert!(
            host("http://[example.com]/").is_err(),
            "not an IPv6 literal to anyone"
        );
        // Agreeing readings stay accepted: path, query and fragment may
        // hold what the authority may not.
        assert_eq!(
            host("https://example.com/a\\b{c}[d] e").unwrap().0,
            "example.com"
        );
        assert_eq!(host("https://example.com?q={x}").unwrap().0, "example.com");
        assert_eq!(
            host("https://user:pw@example.com:8443/").unwrap().0,
            "example.com"
        );
        // Single-label names resolve inside the network; trailing dots go.
        for internal in [
            "http://metadata/computeMetadata/v1/",
            "http://db:5432/",
            "http://intranet./",
        ] {
            assert_eq!(host(internal).unwrap().1, HostClass::Internal, "{internal}");
        }
        assert_eq!(
            host("http://localhost./").unwrap(),
            ("localhost".into(), HostClass::Loopback)
        );
        // Loopback names of hosts files and nss-myhostname, metadata
        // aliases, suffixes that are never public.
        for (url, class) in [
            ("http://localhost.localdomain/", HostClass::Loopback),
            ("http://a.localhost.localdomain/", HostClass::Loopback),
            ("http://localhost6.localdomain6/", HostClass::Loopback),
            ("http://ip6-localhost/", HostClass::Loopback),
            ("http://instance-data/", HostClass::Metadata),
            ("http://instance-data.ec2.internal/", HostClass::Metadata),
            ("http://ip-10-0-0-1.ec2.internal/", HostClass::Internal),
            ("http://printer.local/", HostClass::Internal),
            ("http://nas.home.arpa/", HostClass::Internal),
            ("http://kubernetes.default/", HostClass::Internal),
            ("http://api.payments.svc/", HostClass::Internal),
            (
                "http://api.payments.svc.cluster.local/",
                HostClass::Internal,
            ),
            (
                "http://notlocalhost.localdomain.example.com/",
                HostClass::Public,
            ),
            ("http://local.example.com/", HostClass::Public),
            ("http://svc.example.com/", HostClass::Public),
        ] {
            assert_eq!(host(url).unwrap().1, class, "{url}");
        }
        // A scheme-less value other readers take as `HOST:PATH`, and IDNA's
        // deviation characters, are ambiguous; a port is fine.
        for url in [
            "localhost:80@api.github.com",
            "127.0.0.1:x@api.github.com/repos",
            "api.github.com:repos",
            "http://stra\u{df}e.de/",
            "http://\u{3c2}.example/",
        ] {
            let e = host(url).unwrap_err();
            assert!(e.starts_with(URL_AMBIGUOUS), "{url}: {e}");
        }
        assert!(host("http://a\u{200d}b.example/").is_err());
        assert_eq!(
            host("http://[2001:0:4136:e378:8000:63bf:80ff:fffe]/")
                .unwrap()
                .1,
            HostClass::Loopback,
            "Teredo: the client's address is inverted"
        );
        assert_eq!(
            host("http://[2001:0:4136:e378:8000:63bf:f7f7:f7f7]/")
                .unwrap()
                .1,
            HostClass::Public
        );
        assert_eq!(host("http://[fec0::1]/").unwrap().1, HostClass::Private);
        assert_eq!(host("api.github.com:443/x").unwrap().0, "api.github.com");
        assert_eq!(host("api.github.com/x@y").unwrap().0, "api.github.com");
        // Without a colon every reader takes `@` for userinfo.
        assert_eq!(host("api.github.com@evil.io").unwrap().0, "evil.io");
        for empty_label in [
            "http://localhost../",
            "http://a.localhost.../",
            "http://metadata.google.internal../",
            "http://evil.com../",
            "http://a..b.com/",
        ] {
            let e = host(empty_label).unwrap_err();
            assert!(e.starts_with("url_ambiguous: "), "{empty_label}: {e}");
        }
        assert!(host("https://exa mple.com/").is_err());
    }

    proptest::proptest! {
        /// Any text of the characters the readings treat specially goes
        /// through every reading without a panic, and a path the POSIX
        /// reading accepts has at most [`MAX_SHELL_CHOICES`] shell readings.
        #[test]
        fn every_reading_reads_any_path(raw in "[/a.'\"\\\\\\[\\]{},*?$`~ é-]{0,40}") {
            let posix = normalize_path_as(&raw, Some("/ws"), PathReading::Posix);
            let _ = normalize_path_as(&raw, Some("/ws"), PathReading::Backslash);
            let choices = shell_choices(&raw, path_bytes(&raw));
            if posix.is_ok() {
                proptest::prop_assert!(choices <= MAX_SHELL_CHOICES, "{raw:?}: {choices}");
            }
            for k in 0..choices.clamp(1, MAX_SHELL_CHOICES) {
                let _ = normalize_path_as(&raw, Some("/ws"), PathReading::Shell(k));
            }
        }
    }

    /// [`intent_digest`] is the digest normalizing the text gives, and none
    /// for an intent the reader refuses.
    #[test]
    fn intent_digest_of_text() {
        let text = br#"{"tool_name": "Read_File", "args": {"path": "/w/a"}, "context": {"workspace": "/w"}}"#;
        let n = normalize(&parse(text).unwrap(), None).unwrap();
        assert_eq!(intent_digest(text).unwrap(), n.digest);
        let reordered = br#"{"context": {"workspace": "/w"}, "args": {"path": "/w/a"}, "tool_name": "read_file"}"#;
        assert_eq!(intent_digest(reordered).unwrap(), n.digest);
        for bad in [
            &br#"{"tool_name": "a", "tool_name": "b", "args": {}}"#[..],
            br#"[]"#,
            br#"{"args": {}}"#,
            br#"{"tool_name": "a", "args": {"n": 18446744073709551616}}"#,
        ] {
            assert!(
                intent_digest(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    /// An intent given as a value is held to the text reader's number
    /// range: 2^64 reads as 2^64 + 1 to a double, not to Python's `json`.
    #[test]
    fn a_value_with_a_number_beyond_64_bits_is_refused_as_its_text_is() {
        use crate::json::beyond_64_bits;
        assert!(beyond_64_bits(f64::INFINITY) && beyond_64_bits(f64::NAN));
        assert!(beyond_64_bits(-1e19) && beyond_64_bits(18_446_744_073_709_551_616.0));
        assert!(!beyond_64_bits(18_446_744_073_709_549_568.0) && !beyond_64_bits(0.5));
        for n in [
            18_446_744_073_709_551_616.0,
            -9_223_372_036_854_775_808.0 * 2.0,
            1e300,
        ] {
            let intent = serde_json::json!({"tool_name": "pay", "args": {"amount": [n]}});
            let e = normalize(&intent, None).unwrap_err();
            assert_eq!(e.message, crate::json::BEYOND_64_BITS);
            assert!(parse(intent.to_string().as_bytes()).is_err(), "{n}");
        }
        for n in [
            serde_json::json!(u64::MAX),
            serde_json::json!(i64::MIN),
            serde_json::json!(0.5),
        ] {
            let intent = serde_json::json!({"tool_name": "pay", "args": {"amount": n}});
            assert!(normalize(&intent, None).is_ok(), "{n}");
        }
    }

    thread_local! {
        /// Set by a test: every reading builds every target ([`Memo`]).
        pub(super) static NO_REUSE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
    }

    /// An intent of `n` targets, the `i`-th `value(i)` of kind `kind(i)`.
    fn intent_of(
        workspace: &str,
        n: usize,
        kind: impl Fn(usize) -> &'static str,
        value: impl Fn(usize) -> String,
    ) -> Value {
        serde_json::json!({
            "tool_name": "read_file",
            "context": {"workspace": workspace},
            "targets": (0..n).map(|i| serde_json::json!({"kind": kind(i), "value": value(i)})).collect::<Vec<_>>(),
        })
    }

    proptest::proptest! {
        /// The other readings reuse the POSIX reading's targets that no
        /// reading changes ([`Memo`]): every reading is what building each
        /// target again gives, whatever the paths, commands and workspace.
        #[test]
        fn reusing_targets_changes_no_reading(
            workspace in "/(w|w\\\\s|w's|w\\[ab\\])",
            values in proptest::collection::vec(
                ("(path|command|url|host)", "[/a.'\"\\\\\\[\\] ;-]{1,14}"),
                1..6,
            ),
        ) {
            let raw = serde_json::json!({
                "tool_name": "read_file",
                "context": {"workspace": workspace},
                "targets": values.iter().map(|(k, v)| serde_json::json!({"kind": k, "value": v})).collect::<Vec<_>>(),
            });
            let reused = normalize(&raw, None);
            NO_REUSE.with(|f| f.set(true));
            let built = normalize(&raw, None);
            NO_REUSE.with(|f| f.set(false));
            match (reused, built) {
                (Ok(r), Ok(b)) => {
                    proptest::prop_assert_eq!(&r.intent, &b.intent);
                    proptest::prop_assert_eq!(&r.backslash_reading, &b.backslash_reading);
                    proptest::prop_assert_eq!(&r.shell_readings, &b.shell_readings);
                }
                (Err(r), Err(b)) => proptest::prop_assert_eq!(r.to_string(), b.to_string()),
                (r, b) => proptest::prop_assert!(false, "{:?} / {:?}", r.map(|n| n.digest), b.map(|n| n.digest)),
            }
        }
    }

    /// A command line is parsed once for all the readings of its intent,
    /// and is the same target in each; a path with `\\` is read anew.
    #[test]
    fn a_command_is_the_same_target_in_every_reading() {
        let raw = intent_of(
            "/ws",
            3,
            |i| ["command", "path", "path"][i],
            |i| ["rm -rf x; ls", "/ws/[ab]", "/ws/a\\..\\b"][i].to_owned(),
        );
        let n = normalize(&raw, None).unwrap();
        fn command(i: &Intent<'static>) -> Target<'static> {
            i.targets
                .iter()
                .find(|t| t.kind == TargetKind::Command)
                .cloned()
                .unwrap()
        }
        assert_eq!(n.shell_readings.len(), 2);
        let posix = command(&n.intent);
        assert_eq!(posix.programs, ["ls", "rm"]);
        let others = n
            .backslash_reading
            .iter()
            .map(|b| &**b)
            .chain(&n.shell_readings);
        let mut paths = Vec::new();
        for other in others {
            assert_eq!(command(other), posix);
            paths.extend(other.paths().map(str::to_owned));
        }
        paths.sort();
        // The backslash reading keeps `[ab]` (the POSIX reading's target) and
        // reads `a\\..\\b` as `b`; each shell reading picks `a` or `b` and
        // removes the `\\`s.
        assert_eq!(
            paths,
            ["/ws/[ab]", "/ws/a", "/ws/a..b", "/ws/a..b", "/ws/b", "/ws/b"]
        );
    }

    /// Each reading builds every target again: the number of targets
    /// times the number of readings is bounded, and an intent read once
    /// keeps room for [`MAX_TARGETS`].
    #[test]
    fn targets_times_readings_is_bounded() {
        let backslash = |i: usize| format!("/ws/{i}/a\\..\\b");
        let path = |_| "path";
        // Three readings each.
        let most = MAX_TARGET_READINGS / 3;
        assert!(normalize(&intent_of("/ws", most, path, backslash), None).is_ok());
        let e = normalize(&intent_of("/ws", most + 1, path, backslash), None).unwrap_err();
        assert_eq!(e.field, "targets");
        assert!(e.message.contains("read 3 ways"), "{e}");
        // Ten readings each: one 8-character bracket set.
        let ten = |i: usize| match i {
            0 => "/ws/[abcdefgh]".to_owned(),
            _ => backslash(i),
        };
        let most = MAX_TARGET_READINGS / 10;
        let n = normalize(&intent_of("/ws", most, path, ten), None).unwrap();
        assert_eq!(n.shell_readings.len(), 8);
        let e = normalize(&intent_of("/ws", most + 1, path, ten), None).unwrap_err();
        assert!(e.message.contains("read 10 ways"), "{e}");
        // Read once: the whole room, a command among them.
        let plain = |i: usize| format!("{i}/../{i}/x");
        assert!(normalize(&intent_of("/ws", MAX_TARGETS, path, plain), None).is_ok());
        let e = normalize(&intent_of("/ws", MAX_TARGETS + 1, path, plain), None).unwrap_err();
        assert!(e.message.contains("more than 4096 targets"), "{e}");
    }

    /// Two bracketed paths in one intent: the shell readings are every
    /// combination of the two paths' characters (a policy may judge
    /// targets together), and more than 8 combinations are refused.
    #[test]
    fn shell_readings_combine_every_bracketed_path() {
        let intent = |a: &str, b: &str, c: &str| {
            serde_json::json!({
                "tool_name": "write_file",
                "context": {"workspace": "/ws"},
                "targets": [
                    {"kind": "path", "value": a, "endpoint_class": "fs.write"},
                    {"kind": "path", "value": b, "endpoint_class": "fs.write"},
                    {"kind": "path", "value": c, "endpoint_class": "fs.write"},
                ],
            })
        };
        let n = normalize(&intent("/ws/[ab]", "/ws/[cd]", "/ws/'q'"), None).unwrap();
        let mut seen: Vec<Vec<&str>> = n
            .shell_readings
            .iter()
            .map(|r| {
                let mut p: Vec<&str> = r.paths().collect();
                p.sort_unstable();
                p.dedup();
                p
            })
            .collect();
        seen.sort();
        let want: Vec<Vec<&str>> = [
            ["/ws/a", "/ws/c"],
            ["/ws/a", "/ws/d"],
            ["/ws/b", "/ws/c"],
            ["/ws/b", "/ws/d"],
        ]
        .iter()
        .map(|p| {
            let mut p = p.to_vec();
            p.push("/ws/q");
            p.sort_unstable();
            p
        })
        .collect();
        assert_eq!(seen, want);
        // The same bracketed path twice is one path's choices.
        let n = normalize(&intent("/ws/[ab]", "/ws/[ab]", "/ws/x"), None).unwrap();
        assert_eq!(n.shell_readings.len(), 2);
        // 2 x 2 x 2 is the most; 3 x 3 is refused, and so is 2 x 2 x 3.
        assert!(normalize(&intent("/ws/[ab]", "/ws/[cd]", "/ws/[ef]"), None).is_ok());
        for (a, b, c) in [
            ("/ws/[abc]", "/ws/[def]", "/ws/x"),
            ("/ws/[ab]", "/ws/[cd]", "/ws/[efg]"),
        ] {
            let e = normalize(&intent(a, b, c), None).unwrap_err();
            assert!(e.to_string().contains("more than 8 combinations"), "{e}");
        }
    }

    /// The shell readings of a path are what bash makes of it as one
    /// word: quote removal (globbing off) gives the same text, and with
    /// every file the bracket expressions could name present, each file
    /// bash's glob matches is one of the readings.
    #[test]
    fn shell_readings_are_bashs() {
        let bash = |dir: &std::path::Path, opts: &str, word: &str| {
            let out = std::process::Command::new("/usr/bin/bash")
                .arg("-c")
                .arg(format!("{opts}; printf '%s\\n' {word}"))
                .current_dir(dir)
                .env_clear()
                .output()
                .unwrap();
            assert!(out.status.success(), "{word}: {out:?}");
            String::from_utf8(out.stdout).unwrap()
        };
        let dir = tempfile::tempdir().unwrap();
        for word in [
            r#"a".."b"#,
            "a'..'b",
            r"a\.\.b",
            r#"a"\$x\y\"z"b"#,
            r"a\\b",
            "a'\"'b",
            r#"x"'"y"#,
            // A `\` that ends the word stays.
            "a'b'\\",
            "plain",
        ] {
            // (0: no byte a shell reads otherwise, the POSIX reading only.)
            assert_eq!(
                shell_choices(word, path_bytes(word)),
                usize::from(word != "plain"),
                "{word}"
            );
            let ours = shell_reading(word, 0).unwrap();
            assert_eq!(
                bash(dir.path(), "set -f", word),
                format!("{ours}\n"),
                "{word}"
            );
        }
        for word in [".ss[h]", "[slug]", "[...slug]", "a[bc]d[ef]", "x[]]"] {
            let choices = shell_choices(word, path_bytes(word));
            let ours: Vec<String> = (0..choices)
                .map(|k| shell_reading(word, k).unwrap())
                .collect();
            // Every name a reading gives exists (but `.`, which globs
            // never match): bash's matches must all be among them.
            let files = tempfile::tempdir().unwrap();
            for name in ours.iter().filter(|n| *n != ".") {
                std::fs::write(files.path().join(name), "").unwrap();
            }
            let matched = bash(files.path(), "shopt -s nullglob", word);
            assert!(!matched.is_empty(), "{word}: bash matched nothing");
            for m in matched.lines() {
                assert!(
                    ours.iter().any(|o| o == m),
                    "{word}: bash matched {m:?}, ours {ours:?}"
                );
            }
        }
        // An unclosed quote: no shell reading (the shell refuses it).
        assert_eq!(shell_reading("John's notes", 0), None);
    }

    /// Hosts Python's IDNA 2003 codec (its `socket` layer, `http.client`)
    /// reads as another name than UTS 46 does (each confirmed with Python
    /// 3.11's `str.encode("idna")`): ambiguous. Hosts already in IDNA's
    /// form, and capitals and full-width forms both map alike, are not.
    #[test]
    fn hosts_idna_2003_reads_otherwise_are_ambiguous() {
        let host = |u: &str| normalize_url(u).map(|x| (x.1 .0.into_owned(), x.1 .1));
        for url in [
            // U+1806: removed by nameprep, kept by UTS 46.
            "http://169.254.169.25\u{1806}4/",
            "http://metadata.google.interna\u{1806}l/",
            "https://pasteb\u{1806}in.com/",
            "127.0.0.\u{1806}1",
            // Mapped by UTS 46, unknown to Unicode 3.2: `xn--pyp-efy.org`
            // to Python.
            "https://pyp\u{1d62}.org/simple/",
            "api.gi\u{1d57}hub.com",
            // Mapped by UTS 46, unknown to Unicode 3.2 (Cherokee small
            // letters, enclosed forms): refused, not listed.
            "https://a\u{13f8}.example/",
            "https://\u{1f110}.example/",
        ] {
            let e = host(url).unwrap_err();
            assert!(e.starts_with(URL_AMBIGUOUS), "{url}: {e}");
        }
        for (url, want) in [
            ("https://m\u{fc}nchen.de/", "xn--mnchen-3ya.de"),
            ("https://M\u{fc}nchen.DE/", "xn--mnchen-3ya.de"),
            ("https://\u{4f8b}\u{3048}.jp/", "xn--r8jz45g.jp"),
            ("https://M\u{dc}NCHEN.de/", "xn--mnchen-3ya.de"),
            ("http://\u{ff11}\u{ff12}\u{ff17}.0.0.1/", "127.0.0.1"),
            ("https://\u{ff45}\u{ff56}\u{ff49}\u{ff4c}.io/", "evil.io"),
        ] {
            assert_eq!(host(url).unwrap().0, want, "{url}");
        }
    }
}
