//! How the text of a string literal and of an argument path's `["…"]` key
//! is read: escapes decoded, and the characters a reader of the policy
//! cannot see refused (bidirectional controls, E0005; other invisible
//! characters written as they are, E0007), with the diagnostics' wording.

use crate::diag::{codes, Diagnostic};
use crate::span::Span;
use gait_run::normalize::{bidi_control, invisible};
use icu_properties::props::{Emoji, IndicSyllabicCategory, JoiningType, Script};
use icu_properties::{CodePointMapData, CodePointSetData};

/// Where a character the reader may not see stands: what a diagnostic
/// names and what its help offers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Place {
    /// Outside strings, argument paths and comments.
    SourceText,
    /// In a comment.
    Comment,
    /// In a string literal or an argument path's `["…"]` key: part of a
    /// value, where an escape can write the character visibly.
    StringLiteral,
}

impl Place {
    fn text(self) -> &'static str {
        match self {
            Place::SourceText => "source text",
            Place::Comment => "a comment",
            Place::StringLiteral => "string literal",
        }
    }
}

pub(super) fn bidi_diag(span: Span, place: Place) -> Diagnostic {
    let place = place.text();
    Diagnostic::error(codes::E0005, format!("bidirectional control character in {place}"))
        .with_primary(span, "invisible character that reorders how the text is displayed")
        .with_help("remove it: bidi controls can make source display differently from what is compiled (Trojan Source)")
}

/// An invisible character written as it is where it is part of a value: a
/// reviewer reads `"read_file"` where the policy holds `read\u{200b}_file`.
pub(super) fn invisible_diag(span: Span, c: char, place: Place) -> Diagnostic {
    let what = if c.is_control() {
        "control character"
    } else {
        "invisible character"
    };
    Diagnostic::error(
        codes::E0007,
        format!("{what} U+{:04X} in {}", u32::from(c), place.text()),
    )
    .with_primary(
        span,
        if c.is_control() {
            "a character that changes how the text around it is shown"
        } else {
            "a character no one sees when reading the policy"
        },
    )
    .with_help(match place {
        Place::SourceText | Place::Comment => {
            format!("remove it: in {} it means nothing", place.text())
        }
        Place::StringLiteral => format!(
            "remove it, or write it as the escape `\\u{{{:x}}}` if it is meant",
            u32::from(c)
        ),
    })
}

/// Reports the bidirectional controls of `text` (a comment, a string, an
/// argument path), the characters that change how the text around them is
/// shown ([`shows_otherwise`]: in a comment they could make code of it on a
/// terminal), and, in a string literal (part of a value), every other
/// invisible character written as it is.
pub(super) fn report_hidden(text: &str, base: usize, place: Place, diags: &mut Vec<Diagnostic>) {
    let value = place == Place::StringLiteral;
    for (i, c) in text.char_indices() {
        let span = Span::new(base + i, base + i + c.len_utf8());
        if bidi_control(c) {
            diags.push(bidi_diag(span, place));
        } else if (value && invisible(c)) || shows_otherwise(c) {
            diags.push(invisible_diag(span, c, place));
        }
    }
}

/// Whether `c`, an invisible character written raw between `prev` and
/// `next` (the characters written raw beside it; `None` for an escape, an
/// end or a quote), is one ordinary text needs:
/// - a zero-width joiner between two emoji (`👩‍💻`; after an emoji's
///   variation selector too: `❤️‍🔥`);
/// - a zero-width non-joiner between a virama and a consonant in a script
///   that forms conjuncts by default, or between a letter that joins to the
///   left and one that joins to the right, of one script (Persian
///   `می‌خواهم`, Hindi `क्‌ष`);
/// - a text or emoji variation selector right after an emoji (`⚠️`), and
///   the emoji selector of a keycap (`1️⃣`).
///
/// Anywhere else (after `é`, after a letter that never joins, between
/// symbols that form no sequence, in a chain, beside an escape) it changes
/// nothing a reader sees and hides a difference: refused.
fn joins_text(c: char, prev: Option<char>, next: Option<char>) -> bool {
    let Some(p) = prev else {
        return false;
    };
    let same_script = |n: char| script(n) == script(p);
    match c {
        // An emoji sequence (`👩‍💻`, `❤️‍🔥`). (In Indic text a joiner beside
        // a virama shows in some pairs and fonts and not in others: no
        // property tells which, so it is written as the escape `\u{200d}`.)
        '\u{200d}' => (emoji(p) || p == '\u{fe0f}') && next.is_some_and(emoji),
        '\u{200c}' => next.is_some_and(|n| {
            same_script(n)
                && ((virama(p) && consonant(n) && breaks_conjuncts(p))
                    || (joins_left(p) && joins_right(n)))
        }),
        // A variation selector after an emoji; the emoji selector in a
        // keycap (`1️⃣`: a digit, `#` or `*`, the selector, the keycap mark).
        '\u{fe0e}' => emoji(p),
        '\u{fe0f}' => emoji(p) || (matches!(p, '0'..='9' | '#' | '*') && next == Some('\u{20e3}')),
        _ => false,
    }
}

/// Whether a non-joiner after a virama breaks a conjunct: in the scripts
/// that form conjuncts or half forms by default. (Sinhala and Gurmukhi
/// show a virama unless a joiner asks for a conjunct, and Tamil forms
/// almost none: a non-joiner there changes nothing in most pairs, and the
/// pair alone does not tell which — written as the escape `\u{200c}`.)
fn breaks_conjuncts(v: char) -> bool {
    [
        Script::Devanagari,
        Script::Bengali,
        Script::Gujarati,
        Script::Oriya,
        Script::Telugu,
        Script::Kannada,
        Script::Malayalam,
    ]
    .contains(&script(v))
}

/// Emoji (Unicode's `Emoji` property), but ASCII: the keycap bases (`#`,
/// `*`, digits) are emoji only with the keycap mark after the selector, and
/// a selector after a plain digit would hide in a value.
fn emoji(c: char) -> bool {
    !c.is_ascii() && CodePointSetData::new::<Emoji>().contains(c)
}

fn script(c: char) -> Script {
    CodePointMapData::<Script>::new().get(c)
}

/// A visible virama (`Indic_Syllabic_Category=Virama`: Devanagari's `्`,
/// Tamil's pulli, Sinhala's al-lakuna, …): a non-joiner after one keeps the
/// consonants around it from forming a conjunct. (Not the pure killers of
/// Thai, Lao, Tibetan or Myanmar, nor the invisible stackers: no conjunct
/// a non-joiner could break.)
fn virama(c: char) -> bool {
    CodePointMapData::<IndicSyllabicCategory>::new().get(c) == IndicSyllabicCategory::Virama
}

/// A consonant (`Indic_Syllabic_Category=Consonant`): what a non-joiner
/// after a virama keeps apart from the consonant before it.
fn consonant(c: char) -> bool {
    CodePointMapData::<IndicSyllabicCategory>::new().get(c) == IndicSyllabicCategory::Consonant
}

/// A letter that joins to the one after it (`Joining_Type` dual- or
/// left-joining: most Arabic, Syriac, N'Ko, Mongolian letters; not `ا`,
/// `د`, `ر`, `و`, which join only to the right).
fn joins_left(c: char) -> bool {
    matches!(
        CodePointMapData::<JoiningType>::new().get(c),
        JoiningType::DualJoining | JoiningType::LeftJoining
    )
}

/// A letter that joins to the one before it (`Joining_Type` dual- or
/// right-joining; not the hamza, which joins to neither).
fn joins_right(c: char) -> bool {
    matches!(
        CodePointMapData::<JoiningType>::new().get(c),
        JoiningType::DualJoining | JoiningType::RightJoining
    )
}

/// Characters that change how the text around them is shown (a carriage
/// return or a line separator breaks the line, ESC starts a terminal
/// escape sequence): every control character but tab, and U+2028/U+2029.
pub(crate) fn shows_otherwise(c: char) -> bool {
    (c.is_control() && c != '\t') || matches!(c, '\u{2028}' | '\u{2029}')
}

/// The bodies of an argument path's `["…"]` keys, with the byte offset of
/// each in `text` (the lexer's pattern guarantees their shape: a `\\`
/// escapes the next character).
pub fn arg_path_keys(text: &str) -> Vec<(usize, &str)> {
    let mut keys = Vec::new();
    let mut from = 0;
    while let Some(open) = text[from..].find("[\"") {
        let start = from + open + 2;
        let mut escaped = false;
        let mut end = text.len();
        for (i, c) in text[start..].char_indices() {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => {
                    end = start + i;
                    break;
                }
                _ => {}
            }
        }
        keys.push((start, &text[start..end]));
        from = (end + 1).min(text.len());
    }
    keys
}

/// The value of a string body: its escapes decoded as the lexer decodes them
/// (what it refuses is reported there, not here).
pub fn unescape(body: &str) -> String {
    decode_string(body, 0, &mut Vec::new())
}

/// Decodes the escapes of a string body starting at byte `base`.
/// Reports bad escapes, bidi controls and invisible characters written as
/// they are; always returns a best-effort value.
pub(super) fn decode_string(body: &str, base: usize, diags: &mut Vec<Diagnostic>) -> String {
    let mut out = String::with_capacity(body.len());
    let mut chars = body.char_indices().peekable();
    // The character written raw just before (`None` after an escape).
    let mut prev_raw = None;
    while let Some((i, c)) = chars.next() {
        let next_raw = chars.peek().map(|&(_, n)| n).filter(|&n| n != '\\');
        let raw_before = prev_raw.replace(c);
        if invisible(c) && !joins_text(c, raw_before, next_raw) {
            report_hidden(
                &body[i..i + c.len_utf8()],
                base + i,
                Place::StringLiteral,
                diags,
            );
            continue;
        }
        if shows_otherwise(c) {
            // A raw carriage return shows as a line break, an escape
            // sequence (ESC) rewrites the terminal: written as escapes
            // they are seen.
            let span = Span::new(base + i, base + i + c.len_utf8());
            diags.push(invisible_diag(span, c, Place::StringLiteral));
            continue;
        }
        if c != '\\' {
            out.push(c);
            continue;
        }
        prev_raw = None;
        let Some((_, esc)) = chars.next() else { break };
        match esc {
            '"' => out.push('"'),
            '\\' => out.push('\\'),
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            '/' => out.push('/'),
            'u' => {
                let start = i;
                let mut digits = String::new();
                let braced = chars.peek().map(|&(_, c)| c) == Some('{');
                let mut end = i + 2;
                if braced {
                    chars.next();
                    end += 1;
                    let mut closed = false;
                    for (j, d) in chars.by_ref() {
                        end = j + d.len_utf8();
                        if d == '}' {
                            closed = true;
                            break;
                        }
                        digits.push(d);
                    }
                    if !closed {
                        digits.push('!');
                    }
                } else {
                    for _ in 0..4 {
                        match chars.peek() {
                            Some(&(j, d)) if d.is_ascii_hexdigit() => {
                                digits.push(d);
                                end = j + 1;
                                chars.next();
                            }
                            _ => break,
                        }
                    }
                    if digits.len() != 4 {
                        digits.push('!');
                    } else if let Some(combined) =
                        low_surrogate_after(&digits, &mut chars, &mut end)
                    {
                        // JSON-style surrogate pair: `\uD83D\uDE00`.
                        digits = combined;
                    }
                }
                let span = Span::new(base + start, base + end);
                match u32::from_str_radix(&digits, 16)
                    .ok()
                    .filter(|_| (1..=6).contains(&digits.len()))
                    .and_then(char::from_u32)
                {
                    Some(ch) if bidi_control(ch) => {
                        diags.push(bidi_diag(span, Place::StringLiteral))
                    }
                    Some(ch) => out.push(ch),
                    None => diags.push(
                        Diagnostic::error(codes::E0004, "invalid unicode escape")
                            .with_primary(span, "not a Unicode scalar value")
                            .with_help("write `\\u{HEX}` with 1 to 6 hex digits, e.g. `\\u{e9}`"),
                    ),
                }
            }
            other => {
                let span = Span::new(base + i, base + i + 1 + other.len_utf8());
                diags.push(
                    Diagnostic::error(codes::E0004, format!("unknown escape sequence `\\{}`", other.escape_debug()))
                        .with_primary(span, "not a valid escape")
                        .with_help("valid escapes are \\\" \\\\ \\n \\t \\r \\/ and \\u{HEX}; write a literal backslash as \\\\"),
                );
                out.push(other);
            }
        }
    }
    out
}

/// If `high` (4 hex digits) is a high surrogate and the input continues with
/// `\uXXXX` holding a low surrogate, consumes it and returns the combined
/// code point in hex.
fn low_surrogate_after(
    high: &str,
    chars: &mut std::iter::Peekable<std::str::CharIndices<'_>>,
    end: &mut usize,
) -> Option<String> {
    let hi = u32::from_str_radix(high, 16)
        .ok()
        .filter(|h| (0xD800..0xDC00).contains(h))?;
    let mut ahead = chars.clone();
    let (_, backslash) = ahead.next()?;
    let (_, u) = ahead.next()?;
    if backslash != '\\' || u != 'u' {
        return None;
    }
    let mut low = String::new();
    let mut last = 0;
    for _ in 0..4 {
        let (j, d) = ahead.next()?;
        low.push(d);
        last = j;
    }
    let lo = u32::from_str_radix(&low, 16)
        .ok()
        .filter(|l| (0xDC00..0xE000).contains(l))?;
    *chars = ahead;
    *end = last + 1;
    Some(format!(
        "{:x}",
        0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
    ))
}
