//! Completion: what may be written at the cursor, from the tokens before it
//! (the text need not parse) and, when the document was analyzed, the sets
//! in scope.

use super::analysis::Analysis;
use crate::check::attrs::{attr_info, AttrType, FLAGS};
use crate::check::ModuleId;
use crate::stdlib;
use crate::syntax::ast::Item;
use crate::syntax::lexer::{lex, Token};
use gait_run::vocab::Verdict;
use lsp_types as lt;

/// Completions that fit the position: attributes after `when`/`and`/`or`/`not`,
/// enum values or sets of the attribute's type after `in`/`==`, verdicts after
/// `then`/`default`/`expect`, set types after `let NAME:`, stdlib modules after
/// `import`, and item or clause keywords at the start of a line.
pub fn completion(a: Option<&Analysis>, text: &str, offset: usize) -> Vec<lt::CompletionItem> {
    let mut offset = offset.min(text.len());
    while offset > 0 && !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = text.get(..offset).unwrap_or("");
    let mut tokens: Vec<(usize, Token, usize)> = lex(before).tokens;
    // A word being typed is the prefix the client filters with, not context.
    if let Some((_, t, end)) = tokens.last() {
        let wordy = matches!(t, Token::Ident(_) | Token::Dotted(_)) || t.is_keyword();
        if *end == offset && wordy {
            tokens.pop();
        }
    }
    let text_of = |t: &Token| -> String {
        match t {
            Token::Ident(s) | Token::Dotted(s) => s.clone(),
            other => other.keyword_text().to_owned(),
        }
    };
    let last = tokens.last().map(|(_, t, _)| t.clone());
    let prev = |n: usize| -> Option<&Token> {
        tokens
            .len()
            .checked_sub(n + 1)
            .and_then(|i| tokens.get(i))
            .map(|(_, t, _)| t)
    };
    match last {
        Some(Token::When | Token::And | Token::Or | Token::Not | Token::LParen) => {
            if matches!(last, Some(Token::Not)) && prev(1).is_some_and(is_attr_token) {
                return vec![keyword_item("in", "`not in`: no value is in the set")];
            }
            return condition_starts(true);
        }
        Some(Token::Any | Token::All) => return condition_starts(false),
        Some(Token::Then | Token::Default | Token::Expect) => return verdicts(),
        Some(Token::Import) => return std_modules(),
        Some(Token::Colon) if matches!(prev(2), Some(Token::Let)) => return set_types(),
        Some(Token::In | Token::EqEq | Token::NotEq) => {
            let attr_pos = if matches!(prev(1), Some(Token::Not)) {
                2
            } else {
                1
            };
            if let Some(attr) = prev(attr_pos).filter(|t| is_attr_token(t)).map(&text_of) {
                return values_for(a, &attr, false);
            }
            return Vec::new();
        }
        Some(Token::LBracket | Token::Comma) => {
            // Inside a list: find its `[`, then the attribute before `in`.
            let mut depth = 0i32;
            for i in (0..tokens.len()).rev() {
                match &tokens[i].1 {
                    Token::RBracket => depth += 1,
                    Token::LBracket if depth == 0 => {
                        let op = i.checked_sub(1).and_then(|j| tokens.get(j)).map(|t| &t.1);
                        if !matches!(op, Some(Token::In | Token::EqEq | Token::NotEq)) {
                            return Vec::new();
                        }
                        let back = if i >= 3 && matches!(tokens[i - 2].1, Token::Not) {
                            3
                        } else {
                            2
                        };
                        let attr = i
                            .checked_sub(back)
                            .and_then(|j| tokens.get(j))
                            .filter(|t| is_attr_token(&t.1))
                            .map(|t| text_of(&t.1));
                        return match attr {
                            Some(attr) => values_for(a, &attr, true),
                            None => Vec::new(),
                        };
                    }
                    Token::LBracket => depth -= 1,
                    Token::LBrace | Token::RBrace => break,
                    _ => {}
                }
            }
            return Vec::new();
        }
        _ => {}
    }
    // At the start of a line: keywords of the enclosing block.
    let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
    let typed_word = before
        .get(line_start..)
        .unwrap_or("")
        .trim_start()
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
    if !typed_word {
        return Vec::new();
    }
    match enclosing_block(&tokens) {
        Some(Token::Rule) => keywords(RULE_CLAUSES),
        Some(Token::Test) => keywords(TEST_CLAUSES),
        Some(_) => Vec::new(),
        None => keywords(ITEM_KEYWORDS),
    }
}

const ITEM_KEYWORDS: &[(&str, &str)] = &[
    (
        "policy",
        "`policy \"NAME\" version \"X.Y.Z\" [revision N]`: the policy header",
    ),
    (
        "default",
        "`default VERDICT`: the verdict when no rule matches",
    ),
    (
        "fail_closed",
        "`fail_closed { risk [...] require ... }`: fields an intent must carry",
    ),
    (
        "import",
        "`import std.NAME` or `import \"file.gaitpol\" as NAME`",
    ),
    ("let", "`let NAME: TYPE = [...]`: a named set"),
    (
        "map",
        "`map tool \"NAME\" { KIND args.PATH as CLASS }`: targets of a tool's arguments",
    ),
    (
        "trust",
        "`trust publisher \"P\" key \"ed25519:...\"` or `trust approver \"NAME\" key \"ed25519:...\"`",
    ),
    (
        "approval_ttl",
        "`approval_ttl DURATION`: the longest validity of an approval token (`15m` by default, at most `24h`)",
    ),
    (
        "pin",
        "`pin skill \"S\" version \"V\" digest \"sha256:...\"`",
    ),
    (
        "rule",
        "`rule NAME [priority N] { when ... then VERDICT ... }`",
    ),
    ("test", "`test \"NAME\" { intent { ... } expect VERDICT }`"),
];

const RULE_CLAUSES: &[(&str, &str)] = &[
    (
        "when",
        "`when CONDITION`: when the rule matches (absent: always)",
    ),
    ("then", "`then VERDICT`: the rule's verdict (required)"),
    (
        "reason",
        "`reason \"code\", ...`: reason codes reported with the decision",
    ),
    ("violation", "`violation \"code\", ...`: violation codes"),
    ("explain", "`explain \"text\"`: a human explanation"),
    (
        "approvals",
        "`approvals N [from SET] [interactive]`: how many distinct approvers a `require_approval` rule needs, which ones, and whether it may be approved interactively",
    ),
];

const TEST_CLAUSES: &[(&str, &str)] = &[
    (
        "intent",
        "`intent { tool \"...\" ... }` or `intent file \"x.json\"`",
    ),
    (
        "expect",
        "`expect VERDICT [reason ...] [violation ...] [rule NAME]`",
    ),
];

fn keyword_item(label: &str, doc: &str) -> lt::CompletionItem {
    lt::CompletionItem {
        label: label.to_owned(),
        kind: Some(lt::CompletionItemKind::KEYWORD),
        documentation: Some(markdown(doc)),
        ..Default::default()
    }
}

fn keywords(list: &[(&str, &str)]) -> Vec<lt::CompletionItem> {
    list.iter().map(|(k, d)| keyword_item(k, d)).collect()
}

fn markdown(s: &str) -> lt::Documentation {
    lt::Documentation::MarkupContent(lt::MarkupContent {
        kind: lt::MarkupKind::Markdown,
        value: s.to_owned(),
    })
}

fn is_attr_token(t: &Token) -> bool {
    let name = match t {
        Token::Ident(s) | Token::Dotted(s) => s.as_str(),
        other => other.keyword_text(),
    };
    attr_info(name).is_some()
}

/// The keyword of the innermost unclosed `{ ... }` block, if any.
fn enclosing_block(tokens: &[(usize, Token, usize)]) -> Option<Token> {
    let mut depth = 0i32;
    for i in (0..tokens.len()).rev() {
        match &tokens[i].1 {
            Token::RBrace => depth += 1,
            Token::LBrace if depth > 0 => depth -= 1,
            Token::LBrace => {
                return tokens[..i].iter().rev().find_map(|(_, t, _)| match t {
                    Token::Rule | Token::Test | Token::Map | Token::FailClosed | Token::Intent => {
                        Some(t.clone())
                    }
                    _ => None,
                });
            }
            _ => {}
        }
    }
    None
}

fn condition_starts(with_quantifiers: bool) -> Vec<lt::CompletionItem> {
    let mut out: Vec<lt::CompletionItem> = crate::check::attrs::ATTRS
        .iter()
        .filter(|i| with_quantifiers || i.multi)
        .map(|info| lt::CompletionItem {
            label: info.name.to_owned(),
            kind: Some(lt::CompletionItemKind::FIELD),
            detail: Some(format!(
                "{} attribute: {}",
                if info.multi {
                    "multi-valued"
                } else {
                    "single-valued"
                },
                info.ty
            )),
            documentation: Some(markdown(info.doc)),
            ..Default::default()
        })
        .collect();
    if with_quantifiers {
        out.extend(FLAGS.iter().map(|(name, _, doc)| lt::CompletionItem {
            label: (*name).to_owned(),
            kind: Some(lt::CompletionItemKind::FIELD),
            detail: Some("flag".to_owned()),
            documentation: Some(markdown(doc)),
            ..Default::default()
        }));
        out.push(keyword_item(
            "any",
            "`any ATTR in SET`: some value of a multi-valued attribute is in the set",
        ));
        out.push(keyword_item(
            "all",
            "`all ATTR in SET`: every value is in the set (false when there is none)",
        ));
        out.push(keyword_item("not", "negation"));
        out.push(keyword_item(
            "args",
            "`args contain SET`: some string in the arguments matches",
        ));
    }
    out
}

/// One item per label, all of one kind and detail.
fn items<'a>(
    labels: impl Iterator<Item = &'a str>,
    kind: lt::CompletionItemKind,
    detail: &str,
) -> Vec<lt::CompletionItem> {
    labels
        .map(|label| lt::CompletionItem {
            label: label.to_owned(),
            kind: Some(kind),
            detail: Some(detail.to_owned()),
            ..Default::default()
        })
        .collect()
}

fn verdicts() -> Vec<lt::CompletionItem> {
    let labels = Verdict::ALL.iter().map(|v| v.as_str());
    items(labels, lt::CompletionItemKind::ENUM_MEMBER, "verdict")
}

fn std_modules() -> Vec<lt::CompletionItem> {
    items(
        stdlib::names(),
        lt::CompletionItemKind::MODULE,
        "standard library module",
    )
}

fn set_types() -> Vec<lt::CompletionItem> {
    let labels = crate::check::attrs::SetType::ALL.iter().map(|t| t.as_str());
    items(labels, lt::CompletionItemKind::TYPE_PARAMETER, "set type")
}

/// Enum values of an enum attribute, or the sets whose type fits a set attribute.
fn values_for(a: Option<&Analysis>, attr: &str, in_list: bool) -> Vec<lt::CompletionItem> {
    let Some(info) = attr_info(attr) else {
        return Vec::new();
    };
    match info.ty {
        AttrType::Enum(kind) => kind
            .spellings()
            .into_iter()
            .map(|v| lt::CompletionItem {
                label: v.to_owned(),
                kind: Some(lt::CompletionItemKind::ENUM_MEMBER),
                detail: Some(format!("{} (`{}`)", kind.what(), info.name)),
                documentation: Some(markdown(info.doc)),
                ..Default::default()
            })
            .collect(),
        // Inside `[...]` a set attribute takes string literals, not set names.
        AttrType::Set(_) if in_list => Vec::new(),
        AttrType::Set(ty) => {
            let Some(a) = a else { return Vec::new() };
            let mut out = Vec::new();
            let mut add = |label: String, module: ModuleId, member: &str| {
                let declared = a.let_item(module, member).map(|l| l.ty.node.as_str());
                if declared != Some(ty.as_str()) {
                    return;
                }
                let count = a
                    .session
                    .set_values(module, member)
                    .map(|(_, v)| format!(", {} values", v.len()))
                    .unwrap_or_default();
                out.push(lt::CompletionItem {
                    label,
                    kind: Some(lt::CompletionItemKind::VARIABLE),
                    detail: Some(format!("set of {ty}{count}")),
                    ..Default::default()
                });
            };
            for item in &a.ast().items {
                match item {
                    Item::Let(l) => add(l.name.node.clone(), a.module, &l.name.node),
                    Item::Import(imp) => {
                        let Some(alias) = imp.alias_name() else {
                            continue;
                        };
                        let Some(target) = a.session.alias_target(a.module, alias) else {
                            continue;
                        };
                        for ti in &a.session.modules[target].ast.items {
                            if let Item::Let(l) = ti {
                                add(format!("{alias}.{}", l.name.node), target, &l.name.node);
                            }
                        }
                    }
                    _ => {}
                }
            }
            out
        }
    }
}
