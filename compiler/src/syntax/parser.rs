//! Parsing: lexer tokens into the AST, with error recovery, and syntax errors
//! that name the expected construct in words instead of a raw token list.

use crate::diag::{codes, Diagnostic};
use crate::span::Span;
use crate::syntax::ast::File;
use crate::syntax::lexer::{lex, Comment, Token};
use lalrpop_util::{ErrorRecovery, ParseError};

#[allow(clippy::all, clippy::unwrap_used, clippy::expect_used, unused)]
mod generated {
    lalrpop_util::lalrpop_mod!(pub gaitpol, "/gaitpol.rs");
}

/// A parsed file: the tree (partial when there were errors), the comments, and
/// every lexical and syntax diagnostic.
#[derive(Debug)]
pub struct Parsed {
    pub file: File,
    pub comments: Vec<Comment>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Parses one source text. Never fails: errors are diagnostics.
pub fn parse(src: &str) -> Parsed {
    let lexed = lex(src);
    let mut diagnostics = lexed.diagnostics;
    let mut recovered: Vec<ErrorRecovery<usize, Token, ()>> = Vec::new();
    let eof = src.len();
    let tokens = lexed.tokens.into_iter().map(Ok::<_, ()>);
    let parser = generated::gaitpol::FileParser::new();
    let file = match parser.parse(&mut recovered, tokens) {
        Ok(file) => file,
        Err(err) => {
            diagnostics.push(syntax_diagnostic(err, eof));
            File::default()
        }
    };
    for rec in recovered {
        diagnostics.push(syntax_diagnostic(rec.error, eof));
    }
    Parsed {
        file,
        comments: lexed.comments,
        diagnostics,
    }
}

fn syntax_diagnostic(err: ParseError<usize, Token, ()>, eof: usize) -> Diagnostic {
    match err {
        ParseError::UnrecognizedToken {
            token: (lo, tok, hi),
            expected,
        } => {
            let what = describe_expected(&expected);
            let (label, help) = token_hint(&tok, &expected);
            let mut d = Diagnostic::error(
                codes::E0001,
                format!("expected {what}, found {}", tok.describe()),
            )
            .with_primary(Span::new(lo, hi), label);
            if let Some(help) = help {
                d = d.with_help(help);
            }
            d
        }
        ParseError::UnrecognizedEof { location, expected } => {
            let what = describe_expected(&expected);
            Diagnostic::error(codes::E0001, format!("expected {what}, but the file ended"))
                .with_primary(
                    Span::new(location.min(eof), location.min(eof)),
                    "the file ends here",
                )
                .with_help("an item or block is incomplete; check for a missing `}` or value")
        }
        ParseError::InvalidToken { location } => Diagnostic::error(codes::E0001, "invalid token")
            .with_primary(Span::new(location, location + 1), "cannot be read here"),
        ParseError::ExtraToken {
            token: (lo, tok, hi),
        } => Diagnostic::error(codes::E0001, format!("unexpected {}", tok.describe()))
            .with_primary(Span::new(lo, hi), "nothing more was expected here"),
        ParseError::User { .. } => Diagnostic::error(codes::E0001, "syntax error"),
    }
}

const VERDICTS: &[&str] = &["allow", "block", "require_approval", "dry_run"];
const ITEM_KEYWORDS: &[&str] = &[
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
];
const RULE_CLAUSES: &[&str] = &[
    "when",
    "then",
    "reason",
    "violation",
    "explain",
    "approvals",
];
const ATTRIBUTES_KW: &[&str] = &[
    "tool",
    "risk",
    "identity",
    "workspace",
    "provenance",
    "target",
    "skill",
];

/// Turns LALRPOP's expected terminals into the construct they form, in words.
pub fn describe_expected(expected: &[String]) -> String {
    let names: Vec<&str> = expected.iter().map(|s| s.trim_matches('"')).collect();
    let has = |t: &str| names.contains(&t);
    let only = |set: &[&str]| !names.is_empty() && names.iter().all(|n| set.contains(n));

    if only(VERDICTS) {
        return "a verdict: allow, block, require_approval or dry_run".to_owned();
    }
    if has("policy") && has("rule") && has("let") {
        return "an item: `policy`, `default`, `fail_closed`, `import`, `let`, `map tool`, `trust`, `pin`, `rule` or `test`"
            .to_owned();
    }
    if has("when") && has("then") && has("}") {
        return "a rule clause (`when`, `then`, `reason`, `violation`, `explain`, `approvals`) or `}` to close the rule"
            .to_owned();
    }
    if has("intent") && has("expect") {
        return "a test clause (`intent { ... }` or `expect VERDICT`) or `}` to close the test"
            .to_owned();
    }
    if has("any") && has("not") && has("(") {
        return "a condition: an attribute test (`any path in SET`, `tool == \"x\"`), a flag (`destructive`), `not` or `(`"
            .to_owned();
    }
    if has("in") && has("==") {
        return "a comparison: `in`, `not in`, `==` or `!=`".to_owned();
    }
    if has("IdentTok") && has("DottedTok") && has("tool") && !has("[") {
        return "an attribute name, such as `path`, `endpoint`, `domain`, `tool` or `skill.publisher`".to_owned();
    }
    if has("[") && has("IdentTok") && has("DottedTok") {
        return "a set: a list such as `[\"a\", \"b\"]`, a set name, or a union `a + b`".to_owned();
    }
    if has("tool") && has("args") && has("target") && has("}") {
        return "an intent field (`tool`, `args`, `target`, `risk`, `identity`, `workspace`, `provenance`, `skill`) or `}`"
            .to_owned();
    }
    if has("reason") && has("violation") && has("rule") && !has("when") {
        return "an expectation (`reason \"CODE\"`, `violation \"CODE\"`, `rule NAME`) or the end of the test clause"
            .to_owned();
    }
    if has("risk") && has("require") && has("}") {
        return "a `fail_closed` line (`risk [high, critical]` or `require targets, ...`) or `}`"
            .to_owned();
    }
    if has("ArgPathTok") || has("args") && names.len() <= 2 {
        return "an argument path such as `args.path` or `args[\"file name\"]`".to_owned();
    }
    if has("and") && has("or") && has("}") {
        return "`and`, `or`, another rule clause, or `}`".to_owned();
    }
    // Generic: name each expected terminal in words, de-duplicated.
    let mut words: Vec<String> = Vec::new();
    for n in &names {
        let w = terminal_word(n);
        if !words.contains(&w) {
            words.push(w);
        }
    }
    if words.len() > 6 {
        words.truncate(5);
        words.push("...".to_owned());
    }
    match words.len() {
        0 => "nothing more".to_owned(),
        1 => words.remove(0),
        _ => {
            let last = words.pop().unwrap_or_default();
            format!("{} or {}", words.join(", "), last)
        }
    }
}

fn terminal_word(name: &str) -> String {
    match name {
        "IdentTok" => "a name".to_owned(),
        "DottedTok" => "a dotted name".to_owned(),
        "ArgPathTok" => "an argument path (`args.NAME`)".to_owned(),
        "NumLit" => "a number".to_owned(),
        "StrLit" => "a string in double quotes".to_owned(),
        "{" => "`{`".to_owned(),
        "}" => "`}`".to_owned(),
        other => format!("`{other}`"),
    }
}

/// The label under the offending token, and help where a common mistake is recognisable.
fn token_hint(tok: &Token, expected: &[String]) -> (String, Option<String>) {
    let names: Vec<&str> = expected.iter().map(|s| s.trim_matches('"')).collect();
    let wants_verdict = names.iter().all(|n| VERDICTS.contains(n));
    match tok {
        Token::Ident(word) if wants_verdict => {
            let guess = match word.as_str() {
                "permit" | "allowed" | "accept" => Some("allow"),
                "deny" | "forbid" | "reject" | "blocked" => Some("block"),
                "approve" | "approval" | "ask" => Some("require_approval"),
                "dryrun" | "simulate" => Some("dry_run"),
                _ => None,
            };
            (
                "not a verdict".to_owned(),
                guess.map(|g| format!("did you mean `{g}`?")),
            )
        }
        Token::Ident(word) if names.contains(&"when") && names.contains(&"then") => {
            let help = strsim_best(word, RULE_CLAUSES).map(|g| format!("did you mean `{g}`?"));
            ("not a rule clause".to_owned(), help)
        }
        Token::Ident(word) if names.contains(&"rule") && names.contains(&"let") => {
            let help = strsim_best(word, ITEM_KEYWORDS).map(|g| format!("did you mean `{g}`?"));
            ("not the start of an item".to_owned(), help)
        }
        Token::Str(_)
            if names.iter().any(|n| ATTRIBUTES_KW.contains(n)) && names.contains(&"IdentTok") =>
        {
            (
                "unexpected string".to_owned(),
                Some("attributes are bare words, e.g. `tool in [\"x\"]`, not strings".to_owned()),
            )
        }
        Token::Ident(_) | Token::Dotted(_) if names.contains(&"StrLit") && names.len() <= 2 => (
            "expected a string here".to_owned(),
            Some("put the value in double quotes".to_owned()),
        ),
        t if t.is_keyword() && (names.contains(&"IdentTok")) => (
            format!("`{}` is a reserved word", t.keyword_text()),
            Some("reserved words cannot be used as names; choose another name".to_owned()),
        ),
        _ => ("unexpected here".to_owned(), None),
    }
}

fn strsim_best<'a>(word: &str, candidates: &[&'a str]) -> Option<&'a str> {
    crate::suggest::best_match(word, candidates.iter().copied())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verdict_expectation_is_in_words() {
        let p = parse("policy \"p\" version \"1.0.0\"\ndefault block\nrule r { then permit }");
        assert_eq!(p.diagnostics.len(), 1, "{:?}", p.diagnostics);
        let d = &p.diagnostics[0];
        assert_eq!(d.code, "E0001");
        assert!(
            d.message
                .starts_with("expected a verdict: allow, block, require_approval or dry_run"),
            "{}",
            d.message
        );
        assert_eq!(d.help.as_deref(), Some("did you mean `allow`?"));
    }

    #[test]
    fn recovery_reports_independent_errors() {
        let src = "policy \"p\" version \"1.0.0\"\ndefault block\nrule a { then nope }\nrule b { when ( then allow }\nlet x: paths = [\"/a\"]\n";
        let p = parse(src);
        assert_eq!(p.diagnostics.len(), 2, "{:#?}", p.diagnostics);
        // The set after the broken rules is still parsed.
        assert!(p
            .file
            .items
            .iter()
            .any(|i| matches!(i, crate::syntax::ast::Item::Let(_))));
    }

    #[test]
    fn no_raw_token_names_leak() {
        for src in [
            "policy",
            "rule r {",
            "let x",
            "let x: paths = ",
            "map tool \"x\" { path",
            "rule r { when any }",
            "test \"t\" { intent { tool 3 } }",
        ] {
            for d in parse(src).diagnostics {
                for raw in [
                    "IdentTok",
                    "StrLit",
                    "NumLit",
                    "DottedTok",
                    "ArgPathTok",
                    "\"\\\"",
                ] {
                    assert!(!d.message.contains(raw), "{src:?} -> {}", d.message);
                }
            }
        }
    }
}
