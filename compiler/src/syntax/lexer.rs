//! The `.gaitpol` lexer: logos tokens with byte spans.
//!
//! Whitespace is dropped; comments are kept as trivia beside the token stream so
//! that the formatter can put them back. Lexical errors never stop lexing: they
//! become diagnostics and the offending bytes are skipped, so the parser still
//! sees every later token and the checker can report every independent error.

use super::literal::{
    arg_path_keys, bidi_diag, decode_string, invisible_diag, report_hidden, shows_otherwise, Place,
};
use crate::diag::{codes, Diagnostic};
use crate::span::Span;
use gait_run::normalize::{bidi_control, invisible};
use logos::Logos;

/// A token of the language. Value-carrying tokens own their (decoded) text.
#[derive(Logos, Debug, Clone, PartialEq, Eq)]
// A carriage return only as part of a CRLF line end: alone (or a form
// feed) it could make a terminal show other text over the code before it.
#[logos(skip r"([ \t\n]|\r\n)+")]
pub enum Token {
    // Keywords (reserved words of language.md §2, plus `contain`).
    #[token("policy")]
    Policy,
    #[token("version")]
    Version,
    #[token("revision")]
    Revision,
    #[token("default")]
    Default,
    #[token("fail_closed")]
    FailClosed,
    #[token("risk")]
    Risk,
    #[token("require")]
    Require,
    #[token("import")]
    Import,
    #[token("as")]
    As,
    #[token("let")]
    Let,
    #[token("map")]
    Map,
    #[token("tool")]
    Tool,
    #[token("trust")]
    Trust,
    #[token("publisher")]
    Publisher,
    #[token("approver")]
    Approver,
    #[token("key")]
    Key,
    #[token("pin")]
    Pin,
    #[token("skill")]
    Skill,
    #[token("digest")]
    Digest,
    #[token("rule")]
    Rule,
    #[token("priority")]
    Priority,
    #[token("when")]
    When,
    #[token("then")]
    Then,
    #[token("reason")]
    Reason,
    #[token("violation")]
    Violation,
    #[token("explain")]
    Explain,
    #[token("approvals")]
    Approvals,
    #[token("from")]
    From,
    #[token("interactive")]
    Interactive,
    #[token("approval_ttl")]
    ApprovalTtl,
    #[token("and")]
    And,
    #[token("or")]
    Or,
    #[token("not")]
    Not,
    #[token("in")]
    In,
    #[token("any")]
    Any,
    #[token("all")]
    All,
    #[token("test")]
    Test,
    #[token("intent")]
    Intent,
    #[token("expect")]
    Expect,
    #[token("args")]
    Args,
    #[token("contain")]
    Contain,
    #[token("target")]
    Target,
    #[token("op")]
    Op,
    #[token("provenance")]
    Provenance,
    #[token("identity")]
    Identity,
    #[token("workspace")]
    Workspace,
    #[token("true")]
    True,
    #[token("false")]
    False,
    #[token("allow")]
    Allow,
    #[token("block")]
    Block,
    #[token("require_approval")]
    RequireApproval,
    #[token("dry_run")]
    DryRun,

    // Punctuation.
    #[token("{")]
    LBrace,
    #[token("}")]
    RBrace,
    #[token("[")]
    LBracket,
    #[token("]")]
    RBracket,
    #[token("(")]
    LParen,
    #[token(")")]
    RParen,
    #[token(",")]
    Comma,
    #[token(":")]
    Colon,
    #[token("=")]
    Assign,
    #[token("+")]
    Plus,
    #[token("==")]
    EqEq,
    #[token("!=")]
    NotEq,

    /// A plain identifier.
    #[regex(r"[A-Za-z_][A-Za-z0-9_]*", |lex| lex.slice().to_owned())]
    Ident(String),
    /// Identifiers joined by `.` without spaces (`fs.read`, `skill.name`, `fs.*`).
    #[regex(r"[A-Za-z_][A-Za-z0-9_]*(\.([A-Za-z_][A-Za-z0-9_]*|\*))+", |lex| lex.slice().to_owned())]
    Dotted(String),
    /// An argument path: `args` followed by `.name`, `["key"]` or `[*]` steps.
    #[regex(r#"args(\.[A-Za-z_][A-Za-z0-9_]*|\[\*\]|\["([^"\\\n]|\\[^\n])*"\])+"#, |lex| lex.slice().to_owned(), priority = 20)]
    ArgPath(String),
    /// A number as written (validated where an integer is expected).
    #[regex(r"-?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?", |lex| lex.slice().to_owned())]
    Number(String),
    /// A duration as written: digits and a unit (`90s`, `15m`, `2h`; the
    /// unit is validated where a duration is expected).
    #[regex(r"[0-9]+[A-Za-z]+", |lex| lex.slice().to_owned())]
    Duration(String),
    /// A string literal; the lexer decodes its escapes after matching.
    #[regex(r#""([^"\\\n]|\\[^\n])*""#, |lex| lex.slice().to_owned())]
    Str(String),
    /// A string literal missing its closing quote (reported, then treated as a string).
    #[regex(r#""([^"\\\n]|\\[^\n])*"#, |lex| lex.slice().to_owned())]
    UnterminatedStr(String),
    /// A comment, kept as trivia (never reaches the parser).
    // A lone carriage return ends a comment too: editors show a line break
    // there, and what follows must not be hidden in the comment.
    #[regex(r"#[^\n\r]*", |lex| lex.slice().to_owned(), allow_greedy = true)]
    Comment(String),
}

/// A comment and where it sits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub span: Span,
    /// The text after `#`, as written.
    pub text: String,
}

/// The result of lexing one file.
#[derive(Debug, Default)]
pub struct Lexed {
    pub tokens: Vec<(usize, Token, usize)>,
    pub comments: Vec<Comment>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Lexes a whole file.
pub fn lex(src: &str) -> Lexed {
    let mut out = Lexed::default();
    let mut lexer = Token::lexer(src);
    // The character and end of the run of unexpected characters the last
    // diagnostic covers, while no token has come after it.
    let mut run: Option<(char, usize)> = None;
    while let Some(result) = lexer.next() {
        let range = lexer.span();
        let span = Span::new(range.start, range.end);
        if result.is_ok() {
            run = None;
        }
        match result {
            Ok(Token::Comment(text)) => {
                report_hidden(&text, range.start, Place::Comment, &mut out.diagnostics);
                out.comments.push(Comment {
                    span,
                    text: text[1..].to_owned(),
                });
            }
            Ok(Token::Str(raw)) => {
                let value = decode_string(
                    &raw[1..raw.len() - 1],
                    range.start + 1,
                    &mut out.diagnostics,
                );
                out.tokens.push((range.start, Token::Str(value), range.end));
            }
            Ok(Token::UnterminatedStr(raw)) => {
                out.diagnostics.push(
                    Diagnostic::error(
                        codes::E0003,
                        "unterminated string: it needs a closing `\"` on the same line",
                    )
                    .with_primary(span, "this string is never closed")
                    .with_help("strings cannot span lines; write a line break as `\\n`"),
                );
                let value = decode_string(&raw[1..], range.start + 1, &mut out.diagnostics);
                out.tokens.push((range.start, Token::Str(value), range.end));
            }
            Ok(Token::ArgPath(text)) => {
                // A key (`["…"]`) is read as a string literal is: the same
                // escapes, and the same refusals.
                for (at, body) in arg_path_keys(&text) {
                    decode_string(body, range.start + at, &mut out.diagnostics);
                }
                out.tokens
                    .push((range.start, Token::ArgPath(text), range.end));
            }
            Ok(tok) => out.tokens.push((range.start, tok, range.end)),
            Err(()) => {
                let bad = &src[range.clone()];
                let c = bad.chars().next().unwrap_or('\u{FFFD}');
                if range.start == 0 && c == '\u{feff}' {
                    // The byte-order mark some editors write first.
                    continue;
                }
                // Logos reports one character at a time: a run of one
                // character (`;;;`, three carriage returns) is one finding
                // over the run.
                if run == Some((c, range.start)) {
                    if let Some(last) = out.diagnostics.last_mut() {
                        last.primary.span.end = span.end;
                        run = Some((c, range.end));
                        continue;
                    }
                }
                let diag = if bidi_control(c) {
                    bidi_diag(span, Place::SourceText)
                } else if invisible(c) || shows_otherwise(c) {
                    invisible_diag(span, c, Place::SourceText)
                } else {
                    Diagnostic::error(
                        codes::E0002,
                        format!("unexpected character `{}`", c.escape_debug()),
                    )
                    .with_primary(span, "not part of any token")
                    .with_help(unexpected_char_help(c))
                };
                out.diagnostics.push(diag);
                run = Some((c, range.end));
            }
        }
    }
    out
}

fn unexpected_char_help(c: char) -> &'static str {
    match c {
        '\'' => "strings use double quotes: \"...\"",
        '/' => "comments start with `#`; paths and globs are written as strings",
        '*' => "globs are written inside strings, e.g. \"/workspace/**\"",
        ';' => "statements are separated by newlines or spaces, not `;`",
        '&' | '|' => "write boolean operators as `and` / `or`",
        '!' => "write negation as `not` (and inequality as `!=`)",
        _ => "remove it, or put it inside a string literal",
    }
}

impl Token {
    /// How the token is named in messages.
    pub fn describe(&self) -> String {
        match self {
            Token::Ident(s) => format!("name `{s}`"),
            Token::Dotted(s) => format!("name `{s}`"),
            Token::ArgPath(s) => format!("argument path `{s}`"),
            Token::Number(s) => format!("number `{s}`"),
            Token::Duration(s) => format!("duration `{s}`"),
            Token::Str(s) | Token::UnterminatedStr(s) => format!("string {:?}", s),
            Token::Comment(_) => "comment".to_owned(),
            other => format!("`{}`", other.keyword_text()),
        }
    }

    /// The source text of a keyword or punctuation token.
    pub fn keyword_text(&self) -> &'static str {
        match self {
            Token::Policy => "policy",
            Token::Version => "version",
            Token::Revision => "revision",
            Token::Default => "default",
            Token::FailClosed => "fail_closed",
            Token::Risk => "risk",
            Token::Require => "require",
            Token::Import => "import",
            Token::As => "as",
            Token::Let => "let",
            Token::Map => "map",
            Token::Tool => "tool",
            Token::Trust => "trust",
            Token::Publisher => "publisher",
            Token::Approver => "approver",
            Token::Key => "key",
            Token::Pin => "pin",
            Token::Skill => "skill",
            Token::Digest => "digest",
            Token::Rule => "rule",
            Token::Priority => "priority",
            Token::When => "when",
            Token::Then => "then",
            Token::Reason => "reason",
            Token::Violation => "violation",
            Token::Explain => "explain",
            Token::Approvals => "approvals",
            Token::From => "from",
            Token::Interactive => "interactive",
            Token::ApprovalTtl => "approval_ttl",
            Token::And => "and",
            Token::Or => "or",
            Token::Not => "not",
            Token::In => "in",
            Token::Any => "any",
            Token::All => "all",
            Token::Test => "test",
            Token::Intent => "intent",
            Token::Expect => "expect",
            Token::Args => "args",
            Token::Contain => "contain",
            Token::Target => "target",
            Token::Op => "op",
            Token::Provenance => "provenance",
            Token::Identity => "identity",
            Token::Workspace => "workspace",
            Token::True => "true",
            Token::False => "false",
            Token::Allow => "allow",
            Token::Block => "block",
            Token::RequireApproval => "require_approval",
            Token::DryRun => "dry_run",
            Token::LBrace => "{",
            Token::RBrace => "}",
            Token::LBracket => "[",
            Token::RBracket => "]",
            Token::LParen => "(",
            Token::RParen => ")",
            Token::Comma => ",",
            Token::Colon => ":",
            Token::Assign => "=",
            Token::Plus => "+",
            Token::EqEq => "==",
            Token::NotEq => "!=",
            Token::Ident(_)
            | Token::Dotted(_)
            | Token::ArgPath(_)
            | Token::Number(_)
            | Token::Duration(_)
            | Token::Str(_)
            | Token::UnterminatedStr(_)
            | Token::Comment(_) => "",
        }
    }

    /// Whether this is a reserved word.
    pub fn is_keyword(&self) -> bool {
        let text = self.keyword_text();
        !text.is_empty() && text.chars().all(|c| c.is_ascii_alphabetic() || c == '_')
    }
}

/// The words that start an item.
pub const ITEM_KEYWORDS: &[&str] = &[
    "policy",
    "default",
    "fail_closed",
    "import",
    "let",
    "map",
    "trust",
    "pin",
    "rule",
    "test",
    "approval_ttl",
];

/// The clauses of a rule.
pub const RULE_CLAUSES: &[&str] = &[
    "when",
    "then",
    "reason",
    "violation",
    "explain",
    "approvals",
];

/// The verdicts.
pub const VERDICTS: &[&str] = &["allow", "block", "require_approval", "dry_run"];

/// The attribute names that are reserved words (the others lex as names).
pub const ATTRIBUTE_KEYWORDS: &[&str] = &[
    "tool",
    "risk",
    "identity",
    "workspace",
    "provenance",
    "target",
    "skill",
];

/// Every other reserved word.
const OTHER_KEYWORDS: &[&str] = &[
    "version",
    "revision",
    "require",
    "as",
    "publisher",
    "approver",
    "key",
    "digest",
    "priority",
    "and",
    "or",
    "not",
    "in",
    "any",
    "all",
    "intent",
    "expect",
    "args",
    "contain",
    "from",
    "interactive",
    "op",
    "true",
    "false",
];

/// Every reserved word.
pub fn keywords() -> impl Iterator<Item = &'static str> {
    [
        ITEM_KEYWORDS,
        RULE_CLAUSES,
        VERDICTS,
        ATTRIBUTE_KEYWORDS,
        OTHER_KEYWORDS,
    ]
    .into_iter()
    .flatten()
    .copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<Token> {
        lex(src).tokens.into_iter().map(|(_, t, _)| t).collect()
    }

    #[test]
    fn dotted_names_and_arg_paths() {
        assert_eq!(
            kinds(r#"skill.verified fs.* args.path args["a b"][*].x args"#),
            vec![
                Token::Dotted("skill.verified".into()),
                Token::Dotted("fs.*".into()),
                Token::ArgPath("args.path".into()),
                Token::ArgPath(r#"args["a b"][*].x"#.into()),
                Token::Args,
            ]
        );
    }

    #[test]
    fn durations_are_digits_and_a_unit() {
        assert_eq!(
            kinds("15m 90s 2h 1e5 7 15min"),
            vec![
                Token::Duration("15m".into()),
                Token::Duration("90s".into()),
                Token::Duration("2h".into()),
                Token::Number("1e5".into()),
                Token::Number("7".into()),
                // Validated (and rejected) where a duration is expected.
                Token::Duration("15min".into()),
            ]
        );
    }

    #[test]
    fn comments_are_trivia_with_spans() {
        let l = lex("default block # why\n# own line\n");
        assert_eq!(l.tokens.len(), 2);
        assert_eq!(l.comments.len(), 2);
        assert_eq!(l.comments[0].text, " why");
        assert_eq!(l.comments[0].span, Span::new(14, 19));
    }

    #[test]
    fn strings_decode_escapes() {
        assert_eq!(
            kinds(r#""a\"b\\c\n\u{e9}\u00e9""#),
            vec![Token::Str("a\"b\\c\né\u{e9}".into())]
        );
    }

    #[test]
    fn json_surrogate_pairs_combine() {
        assert_eq!(
            kinds(r#""\uD83D\uDE00""#),
            vec![Token::Str("\u{1F600}".into())]
        );
        assert_eq!(
            lex(r#""\uD83D""#).diagnostics.len(),
            1,
            "a lone surrogate is not a character"
        );
    }

    #[test]
    fn bad_escape_and_bidi_are_reported() {
        let l = lex("\"\\q\" \"a\u{202E}b\" # \u{2066}");
        let codes: Vec<_> = l.diagnostics.iter().map(|d| d.code.as_str()).collect();
        assert_eq!(codes, vec!["E0004", "E0005", "E0005"]);
    }

    #[test]
    fn invisible_characters_in_values_are_refused_written_as_they_are() {
        let codes = |src: &str| -> Vec<String> {
            lex(src)
                .diagnostics
                .iter()
                .map(|d| d.code.as_str().to_owned())
                .collect()
        };
        // In a string, an argument path or loose in the text: E0007 (a
        // bidi control stays E0005 everywhere).
        for c in [
            '\u{200b}',
            '\u{ad}',
            '\u{feff}',
            '\u{fe0f}',
            '\u{e0041}',
            '\u{3164}',
        ] {
            assert_eq!(codes(&format!("\"read{c}_file\"")), ["E0007"], "{c:?}");
            assert_eq!(codes(&format!("args[\"pa{c}th\"]")), ["E0007"], "{c:?}");
            assert_eq!(codes(&format!("default {c} block")), ["E0007"], "{c:?}");
            // A comment holds no value.
            assert!(
                codes(&format!("# ok {c}\ndefault block")).is_empty(),
                "{c:?}"
            );
        }
        assert_eq!(codes("# \u{202e}\ndefault block"), ["E0005"]);
        // Joiners and variation selectors that ordinary text needs, after a
        // character that is not ASCII: kept.
        for text in [
            "\u{26a0}\u{fe0f} keys",
            "\u{1f469}\u{200d}\u{1f4bb}",
            "\u{645}\u{6cc}\u{200c}\u{62e}",
        ] {
            let l = lex(&format!("\"{text}\""));
            assert!(l.diagnostics.is_empty(), "{text:?}");
            assert_eq!(l.tokens[0].1, Token::Str(text.into()));
        }
        for text in [
            "read\u{200d}_file",
            "a\u{fe0f}",
            "\u{200c}x",
            "\u{1f469}\u{200b}",
            // After a Latin letter, at an end, in a chain, beside an escape.
            "caf\u{e9}\u{200d}",
            "caf\u{e9}\u{200d}x",
            "\u{1f469}\u{200d}",
            "\u{1f469}\u{200d}\u{200d}\u{1f4bb}",
            "\u{645}\u{200c}x",
            "\u{26a0}\u{fe0f}\u{fe0f}",
            "caf\\u{e9}\u{200d}\u{1f4bb}",
            "\\u{1f469}\u{200d}\u{1f4bb}",
            // Symbols that form no sequence; a letter that never joins to
            // the left; a consonant without a virama.
            "/data/\u{2192}\u{fe0f}/**",
            "/x/\u{2200}\u{200d}\u{2203}/**",
            "/y/\u{62f}\u{200c}\u{627}\u{631}/**",
            "/z/\u{915}\u{200c}\u{916}/**",
            // A selector after a keycap base written alone (a digit: the
            // keycap mark is not there); a non-joiner between scripts, or
            // after a virama before a mark or an independent vowel, or
            // before a letter that joins to neither side (hamza).
            "file1\u{fe0f}",
            "#\u{fe0f}",
            "\u{645}\u{200c}\u{915}",
            "\u{915}\u{94d}\u{200c}\u{93e}",
            "\u{915}\u{94d}\u{200c}\u{905}",
            "\u{628}\u{200c}\u{621}",
            // After signs that form no conjunct a non-joiner could break:
            // Thai, Lao, Tibetan and Myanmar killers, Khmer's coeng.
            "\u{e01}\u{e3a}\u{200c}\u{e02}",
            "\u{e81}\u{eba}\u{200c}\u{e82}",
            "\u{f40}\u{f84}\u{200c}\u{f41}",
            "\u{1000}\u{103a}\u{200c}\u{1001}",
            "\u{1780}\u{17d2}\u{200c}\u{1781}",
            // Where a virama shows unless a joiner asks for a conjunct
            // (Sinhala), or no conjunct forms (Tamil but `க்ஷ`): a
            // non-joiner changes nothing; nor does a joiner in Tamil.
            "\u{d9a}\u{dca}\u{200c}\u{dc2}",
            "\u{b95}\u{bcd}\u{200c}\u{b95}",
            "\u{b95}\u{bcd}\u{200c}\u{bb7}",
            "\u{b95}\u{bcd}\u{200d}\u{b95}",
            // A joiner in Indic text shows in some pairs and fonts only
            // (a half form is often the default): written as an escape.
            "\u{928}\u{92e}\u{938}\u{94d}\u{200d}\u{924}\u{947}",
            "\u{915}\u{94d}\u{200d}\u{937}",
            "\u{dc1}\u{dca}\u{200d}\u{dbb}\u{dd3}",
            "\u{9b0}\u{200d}\u{9cd}\u{9af}",
            "\u{d28}\u{d4d}\u{200d}",
        ] {
            let found = codes(&format!("\"{text}\""));
            assert!(
                !found.is_empty() && found.iter().all(|c| c == "E0007"),
                "{text:?}: {found:?}"
            );
        }
        // An emoji's variation selector, then a joiner: kept; so are a
        // non-joiner after a virama and a variation selector after an
        // emoji outside the emoji blocks (`↔️`).
        for text in [
            "\u{2764}\u{fe0f}\u{200d}\u{1f525}",
            "\u{915}\u{94d}\u{200c}\u{937}",
            "\u{2194}\u{fe0f}",
            // The scripts the Unicode properties name, not only Arabic:
            // Syriac and Mongolian letters that join; the emoji of a newer
            // Unicode version, a flag's regional indicators.
            "\u{710}\u{712}\u{200c}\u{715}",
            "\u{1820}\u{200c}\u{1821}",
            // A Malayalam and a Bengali non-joiner after a virama; a keycap.
            "\u{d15}\u{d4d}\u{200c}\u{d37}",
            "\u{995}\u{9cd}\u{200c}\u{9b7}",
            "1\u{fe0f}\u{20e3}",
            "\u{1fae8}\u{fe0f}",
            "\u{1f3f3}\u{fe0f}\u{200d}\u{1f308}",
        ] {
            assert!(codes(&format!("\"{text}\"")).is_empty(), "{text:?}");
        }
        // Characters that change how a comment is shown (ESC, a vertical tab,
        // a line separator) are E0007 there too; a tab is not.
        for c in ['\u{1b}', '\u{b}', '\u{c}', '\u{2028}', '\u{85}'] {
            assert_eq!(
                codes(&format!("# a{c}b\ndefault block")),
                ["E0007"],
                "{c:?}"
            );
        }
        assert!(codes("# a\tb\ndefault block").is_empty());
        // Between tokens a carriage return counts only in a CRLF line end:
        // alone, or a form feed, it is E0007 (a terminal would show the
        // comment after it over the code before it).
        assert!(codes("default\r\nblock\r\n").is_empty());
        assert_eq!(codes("default allow\r# default block"), ["E0007"]);
        assert_eq!(codes("default\u{c}block"), ["E0007"]);
        // A run of one unexpected character is one finding over the run;
        // each other character in a run is a finding of its own (a bidi
        // control after a `;` is E0005, not lost in the `;`'s E0002).
        let l = lex("default \r\r\r block");
        assert_eq!(l.diagnostics.len(), 1);
        assert_eq!(l.diagnostics[0].code, "E0007");
        let span = l.diagnostics[0].primary.span;
        assert_eq!((span.start(), span.end()), (8, 11));
        assert_eq!(
            codes("default ;;\u{200b}\u{202e}\r\u{200b} block"),
            ["E0002", "E0007", "E0005", "E0007", "E0007"]
        );
        assert_eq!(codes("default \r block \r"), ["E0007", "E0007"]);
        // One byte-order mark first in the file is skipped; elsewhere it is
        // E0007.
        assert!(codes("\u{feff}default block").is_empty());
        assert_eq!(codes("\u{feff}\u{feff}default block"), ["E0007"]);
        // Raw control characters in a string (a carriage return, ESC) are
        // E0007; a tab is kept; escapes are seen and kept.
        for c in ['\r', '\u{1b}', '\u{7f}', '\u{85}', '\0'] {
            assert_eq!(codes(&format!("\"a{c}b\"")), ["E0007"], "{c:?}");
        }
        assert!(codes("\"a\tb\"").is_empty());
        let l = lex("\"a\\r\\u{1b}b\"");
        assert!(l.diagnostics.is_empty());
        assert_eq!(l.tokens[0].1, Token::Str("a\r\u{1b}b".into()));
        // A lone carriage return ends a comment: what follows is code.
        assert_eq!(kinds("# note\rdefault block").len(), 2);
        assert_eq!(kinds("# note\r\ndefault").len(), 1);
        // An argument path's key is read as a string literal: escapes are
        // decoded (and seen), bad and bidi ones refused.
        assert!(codes("args[\"pa\\u{200b}th\"]").is_empty());
        assert_eq!(codes("args[\"pa\\qth\"]"), ["E0004"]);
        assert_eq!(codes("args[\"pa\\u{202e}th\"]"), ["E0005"]);
        assert_eq!(codes("args.a[\"x\"][\"y\u{200b}\"]"), ["E0007"]);
        // Written as an escape it is seen: kept in the value.
        let l = lex("\"read\\u{200b}_file\"");
        assert!(l.diagnostics.is_empty());
        assert_eq!(l.tokens[0].1, Token::Str("read\u{200b}_file".into()));
    }

    #[test]
    fn quoted_strings_show_invisible_characters_and_read_back() {
        for s in [
            "read\u{200b}_file",
            "tag\u{e0041}",
            "a\u{fe0f}",
            "plain",
            "q\"\\",
            "\u{1f469}\u{200d}\u{1f4bb}",
        ] {
            let q = crate::fmt::quote(s);
            // Every invisible character is written as an escape, an
            // emoji's joiner too: what is written visibly stays visible.
            assert!(!q.chars().any(gait_run::normalize::invisible), "{q:?}");
            let l = lex(&q);
            assert!(l.diagnostics.is_empty(), "{q:?}");
            assert_eq!(l.tokens[0].1, Token::Str(s.into()), "{q:?}");
        }
    }

    #[test]
    fn unexpected_characters_do_not_stop_lexing() {
        let l = lex("default ; block");
        assert_eq!(l.tokens.len(), 2);
        assert_eq!(l.diagnostics.len(), 1);
    }

    #[test]
    fn keyword_table_matches_lexer() {
        for kw in keywords() {
            let toks = kinds(kw);
            assert_eq!(toks.len(), 1, "{kw}");
            assert!(toks[0].is_keyword(), "{kw}");
            assert_eq!(toks[0].keyword_text(), kw);
        }
    }
}
