//! `gaitc fmt`: the canonical layout of a `.gaitpol` file.
//!
//! The layout is computed from the AST; comments are put back by position:
//! a comment before (or inside) a line-sized construct is printed on its own
//! line above it, and a comment after a construct on the same source line
//! stays at the end of that line. Blank lines between items are kept (at most
//! one). Formatting is idempotent and preserves the AST (both are tested).

use crate::syntax::ast::*;
use crate::syntax::lexer::Comment;
use crate::syntax::parser::parse;
use std::borrow::Borrow;

/// Widest single-line set literal before it is laid out one element per line.
const MAX_WIDTH: usize = 100;
const INDENT: &str = "  ";

/// Formats a source text. `Err` carries the parse diagnostics' messages when
/// the text does not parse (a file with syntax errors is never rewritten).
pub fn format_source(src: &str) -> Result<String, Vec<crate::diag::Diagnostic>> {
    let parsed = parse(src);
    let errors: Vec<_> = parsed
        .diagnostics
        .into_iter()
        .filter(|d| d.is_error())
        .collect();
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(format_file(&parsed.file, &parsed.comments, src))
}

/// Formats a parsed file.
pub fn format_file(file: &File, comments: &[Comment], src: &str) -> String {
    let mut p = Printer {
        out: String::new(),
        comments,
        next: 0,
        src,
    };
    let mut prev: Option<&Item> = None;
    for item in &file.items {
        if let Some(prev) = prev {
            let blank_in_source =
                has_blank_line(&src[prev.span().end().min(src.len())..first_start(&p, item)]);
            let block = |i: &Item| {
                matches!(i, Item::Rule(_) | Item::Test(_) | Item::FailClosed(_))
                    || is_multiline_map(i)
            };
            if blank_in_source
                || matches!(prev, Item::Header(_))
                || block(prev)
                || block(item)
                || kind_changes(prev, item)
            {
                p.out.push('\n');
            }
        }
        p.item(item);
        prev = Some(item);
    }
    p.flush_before(u32::MAX, 0);
    let mut out = p.out;
    while out.ends_with("\n\n") {
        out.pop();
    }
    if !out.is_empty() && !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

fn first_start(p: &Printer, item: &Item) -> usize {
    let start = item.span().start();
    let comment = p
        .comments
        .get(p.next)
        .map(|c| c.span.start())
        .filter(|&c| c < start);
    comment.unwrap_or(start).min(p.src.len())
}

fn has_blank_line(between: &str) -> bool {
    let lines: Vec<&str> = between.split('\n').collect();
    lines.len() >= 3
        && lines[1..lines.len() - 1]
            .iter()
            .any(|l| l.trim().is_empty())
}

/// The first non-whitespace byte at or after `pos`.
fn next_token_start(src: &str, pos: usize) -> usize {
    let rest = &src[pos.min(src.len())..];
    pos + (rest.len() - rest.trim_start().len())
}

/// Whether the source has an empty line between `pos` and the previous non-blank text.
fn blank_before(src: &str, pos: usize) -> bool {
    let before = &src[..pos.min(src.len())];
    let trimmed = before.trim_end_matches([' ', '\t', '\r', '\n']);
    !trimmed.is_empty() && before[trimmed.len()..].matches('\n').count() >= 2
}

fn kind_changes(a: &Item, b: &Item) -> bool {
    std::mem::discriminant(a) != std::mem::discriminant(b)
}

fn is_multiline_map(i: &Item) -> bool {
    matches!(i, Item::Map(m) if m.entries.len() != 1)
}

struct Printer<'a> {
    out: String,
    comments: &'a [Comment],
    next: usize,
    src: &'a str,
}

impl Printer<'_> {
    fn indent(&mut self, level: usize) {
        for _ in 0..level {
            self.out.push_str(INDENT);
        }
    }

    /// Prints every pending comment that starts before `pos`, one per line.
    fn flush_before(&mut self, pos: u32, level: usize) {
        while let Some(c) = self.comments.get(self.next) {
            if c.span.start >= pos {
                break;
            }
            if !self.out.is_empty()
                && !self.out.ends_with("\n\n")
                && !self.out.ends_with("{\n")
                && blank_before(self.src, c.span.start())
            {
                self.out.push('\n');
            }
            self.indent(level);
            self.out.push('#');
            self.out.push_str(c.text.trim_end());
            self.out.push('\n');
            self.next += 1;
            if level == 0 && blank_before(self.src, next_token_start(self.src, c.span.end())) {
                self.out.push('\n');
            }
        }
    }

    /// Appends a comment that follows `end` on the same source line.
    fn trailing(&mut self, end: u32) {
        if let Some(c) = self.comments.get(self.next) {
            let between = self.src.get(end as usize..c.span.start()).unwrap_or("\n");
            if c.span.start >= end && !between.contains('\n') {
                self.out.push_str(" #");
                self.out.push_str(c.text.trim_end());
                self.next += 1;
            }
        }
    }

    /// One output line for a construct spanning `span`.
    fn line(&mut self, level: usize, span: Span, text: &str) {
        self.flush_before(span.end, level);
        self.indent(level);
        self.out.push_str(text);
        self.trailing(span.end);
        self.out.push('\n');
    }

    fn open(&mut self, level: usize, start: Span, header: &str) {
        self.flush_before(start.start, level);
        self.indent(level);
        self.out.push_str(header);
        self.out.push_str(" {\n");
    }

    fn close(&mut self, level: usize, span: Span) {
        self.flush_before(span.end.saturating_sub(1), level + 1);
        self.indent(level);
        self.out.push('}');
        self.trailing(span.end);
        self.out.push('\n');
    }

    fn item(&mut self, item: &Item) {
        match item {
            Item::Header(h) => {
                let mut s = format!(
                    "policy {} version {}",
                    quote(&h.name.node),
                    quote(&h.version.node)
                );
                if let Some(r) = &h.revision {
                    s.push_str(&format!(" revision {}", r.node));
                }
                self.line(0, h.span, &s);
            }
            Item::Default(d) => self.line(0, d.span, &format!("default {}", d.verdict.node)),
            Item::FailClosed(f) => {
                if f.lines.is_empty() && !self.has_comment_in(f.span) {
                    self.line(0, f.span, "fail_closed {}");
                    return;
                }
                self.open(0, f.span, "fail_closed");
                for l in &f.lines {
                    match l {
                        FailClosedLine::Risk(names, span) => {
                            self.line(1, *span, &format!("risk [{}]", join_names(names)))
                        }
                        FailClosedLine::Require(names, span) => {
                            self.line(1, *span, &format!("require {}", join_names(names)))
                        }
                    }
                }
                self.close(0, f.span);
            }
            Item::Import(i) => {
                let mut s = match &i.target {
                    ImportTarget::Std(n) => format!("import {}", n.node),
                    ImportTarget::File(f) => format!("import {}", quote(&f.node)),
                };
                if let Some(a) = &i.alias {
                    s.push_str(&format!(" as {}", a.node));
                }
                self.line(0, i.span, &s);
            }
            Item::Let(l) => self.let_item(l),
            Item::Map(m) => {
                let tools = join_strs(&m.tools);
                if m.entries.len() == 1 {
                    self.line(
                        0,
                        m.span,
                        &format!("map tool {tools} {{ {} }}", map_entry(&m.entries[0])),
                    );
                } else {
                    self.open(0, m.span, &format!("map tool {tools}"));
                    for e in &m.entries {
                        self.line(1, e.span, &map_entry(e));
                    }
                    self.close(0, m.span);
                }
            }
            Item::Trust(t) => {
                let keys = comma_list(&t.keys, |k| format!("key {}", quote(&k.node)));
                self.line(
                    0,
                    t.span,
                    &format!("trust publisher {} {keys}", quote(&t.publisher.node)),
                );
            }
            Item::Approver(a) => {
                let keys = comma_list(&a.keys, |k| format!("key {}", quote(&k.node)));
                self.line(
                    0,
                    a.span,
                    &format!("trust approver {} {keys}", quote(&a.name.node)),
                );
            }
            Item::ApprovalTtl(t) => {
                self.line(0, t.span, &format!("approval_ttl {}", t.duration.node))
            }
            Item::Pin(p) => self.line(
                0,
                p.span,
                &format!(
                    "pin skill {} version {} digest {}",
                    quote(&p.skill.node),
                    quote(&p.version.node),
                    quote(&p.digest.node)
                ),
            ),
            Item::Rule(r) => {
                let mut header = format!("rule {}", r.name.node);
                if let Some(pr) = &r.priority {
                    header.push_str(&format!(" priority {}", pr.node));
                }
                self.open(0, r.span, &header);
                for c in &r.clauses {
                    let text = match c {
                        RuleClause::When(cond, _) => format!("when {}", cond_text(cond, 0)),
                        RuleClause::Then(v, _) => format!("then {}", v.node),
                        RuleClause::Reason(list, _) => format!("reason {}", join_strs(list)),
                        RuleClause::Violation(list, _) => format!("violation {}", join_strs(list)),
                        RuleClause::Explain(s, _) => format!("explain {}", quote(&s.node)),
                        RuleClause::Approvals(a, _) => approvals_text(a),
                        RuleClause::Error(_) => continue,
                    };
                    self.line(1, c.span(), &text);
                }
                self.close(0, r.span);
            }
            Item::Test(t) => {
                self.open(0, t.span, &format!("test {}", quote(&t.name.node)));
                for c in &t.clauses {
                    match c {
                        TestClause::Intent(lit) => {
                            self.open(1, lit.span, "intent");
                            for f in &lit.fields {
                                match f {
                                    IntentField::Skill(fields, span)
                                        if intent_field(f).len() + 4 > MAX_WIDTH =>
                                    {
                                        self.open(2, *span, "skill");
                                        for sf in fields {
                                            self.line(
                                                3,
                                                sf.span,
                                                &format!(
                                                    "{} {}",
                                                    sf.key.node,
                                                    quote(&sf.value.node)
                                                ),
                                            );
                                        }
                                        self.close(2, *span);
                                    }
                                    _ => self.line(2, f.span(), &intent_field(f)),
                                }
                            }
                            self.close(1, lit.span);
                        }
                        TestClause::IntentFile { word, path, span } => self.line(
                            1,
                            *span,
                            &format!("intent {} {}", word.node, quote(&path.node)),
                        ),
                        TestClause::Expect(e) => {
                            let mut s = format!("expect {}", e.verdict.node);
                            for tail in &e.tails {
                                match tail {
                                    ExpectTail::Reason(l, _) => {
                                        s.push_str(&format!(" reason {}", join_strs(l)))
                                    }
                                    ExpectTail::Violation(l, _) => {
                                        s.push_str(&format!(" violation {}", join_strs(l)))
                                    }
                                    ExpectTail::Rule(n, _) => {
                                        s.push_str(&format!(" rule {}", n.node))
                                    }
                                }
                            }
                            self.line(1, e.span, &s);
                        }
                        TestClause::Error(_) => {}
                    }
                }
                self.close(0, t.span);
            }
            Item::Error(_) => {}
        }
    }

    fn has_comment_in(&self, span: Span) -> bool {
        self.comments[self.next..]
            .iter()
            .any(|c| c.span.start >= span.start && c.span.start < span.end)
    }

    fn let_item(&mut self, l: &LetItem) {
        let head = format!("let {}: {} = ", l.name.node, l.ty.node);
        let inline = format!("{head}{}", set_expr_text(&l.value));
        let list_has_comment = l
            .value
            .terms
            .iter()
            .any(|t| matches!(t, SetTerm::List(..)) && self.has_comment_in(t.span()));
        if inline.len() <= MAX_WIDTH && !list_has_comment {
            self.line(0, l.span, &inline);
            return;
        }
        self.flush_before(l.span.start, 0);
        self.out.push_str(&head);
        for (i, term) in l.value.terms.iter().enumerate() {
            if i > 0 {
                self.out.push_str(" + ");
            }
            match term {
                SetTerm::Ref(n) => self.out.push_str(&n.node),
                SetTerm::List(elems, span) => {
                    self.out.push('[');
                    self.trailing(span.start + 1);
                    self.out.push('\n');
                    for e in elems {
                        self.flush_before(e.span.end, 1);
                        self.indent(1);
                        self.out.push_str(&elem_text(&e.node));
                        self.out.push(',');
                        let after_comma = self.src[e.span.end()..]
                            .find(',')
                            .map(|i| e.span.end + i as u32 + 1)
                            .unwrap_or(e.span.end);
                        self.trailing(after_comma.min(span.end));
                        self.out.push('\n');
                    }
                    self.flush_before(span.end.saturating_sub(1), 1);
                    self.out.push(']');
                }
            }
        }
        self.trailing(l.span.end);
        self.out.push('\n');
    }
}

/// `items`, each written as `text` writes it, separated by `, `.
fn comma_list<'a, T, S: Borrow<str>>(items: &'a [T], text: impl FnMut(&'a T) -> S) -> String {
    items.iter().map(text).collect::<Vec<S>>().join(", ")
}

fn join_names(names: &[Name]) -> String {
    comma_list(names, |n| n.node.as_str())
}

fn join_strs(list: &[Str]) -> String {
    comma_list(list, |s| quote(&s.node))
}

/// `approvals N [from SET] [interactive]`.
fn approvals_text(a: &Approvals) -> String {
    let mut s = format!("approvals {}", a.count.node);
    if let Some(from) = &a.from {
        s.push_str(&format!(" from {}", set_expr_text(from)));
    }
    if a.interactive.is_some() {
        s.push_str(" interactive");
    }
    s
}

fn map_entry(e: &MapEntry) -> String {
    format!("{} {} as {}", e.kind.node, e.path.node, e.class.node)
}

fn intent_field(f: &IntentField) -> String {
    match f {
        IntentField::Tool(s, _) => format!("tool {}", quote(&s.node)),
        IntentField::Args(j, _) => format!("args {}", json_text(&j.node)),
        IntentField::Target {
            kind, value, op, ..
        } => {
            let mut s = format!("target {} {}", kind.node, quote(&value.node));
            if let Some(op) = op {
                s.push_str(&format!(" op {}", elem_text(&op.node)));
            }
            s
        }
        IntentField::Risk(r, _) => format!("risk {}", r.node),
        IntentField::Identity(s, _) => format!("identity {}", quote(&s.node)),
        IntentField::Workspace(s, _) => format!("workspace {}", quote(&s.node)),
        IntentField::Provenance(l, _) => format!("provenance {}", join_names(l)),
        IntentField::Skill(fields, _) => {
            if fields.is_empty() {
                return "skill {}".to_owned();
            }
            let inner = fields
                .iter()
                .map(|f| format!("{} {}", f.key.node, quote(&f.value.node)))
                .collect::<Vec<_>>()
                .join(" ");
            format!("skill {{ {inner} }}")
        }
    }
}

/// Canonical text of a condition; `parent` is the binding strength of the context.
pub fn cond_text(c: &Cond, parent: u8) -> String {
    let (prec, text) = match c {
        Cond::Or(a, b) => (1, format!("{} or {}", cond_text(a, 1), cond_text(b, 2))),
        Cond::And(a, b) => (2, format!("{} and {}", cond_text(a, 2), cond_text(b, 3))),
        Cond::Not(inner, _) => (3, format!("not {}", cond_text(inner, 3))),
        Cond::Atom(a) => (3, atom_text(a)),
    };
    if prec < parent {
        format!("({text})")
    } else {
        text
    }
}

fn atom_text(a: &Atom) -> String {
    match &a.kind {
        AtomKind::Flag(n) => n.node.clone(),
        AtomKind::ArgsContain(s) => format!("args contain {}", set_expr_text(s)),
        AtomKind::Test {
            quant,
            attr,
            op,
            rhs,
        } => {
            let q = quant
                .as_ref()
                .map(|q| format!("{} ", q.node.as_str()))
                .unwrap_or_default();
            let r = match rhs {
                Rhs::Set(s) => set_expr_text(s),
                Rhs::Value(v) => elem_text(&v.node),
            };
            format!("{q}{} {} {r}", attr.node, op.node.as_str())
        }
    }
}

pub fn set_expr_text(s: &SetExpr) -> String {
    s.terms
        .iter()
        .map(|t| match t {
            SetTerm::Ref(n) => n.node.clone(),
            SetTerm::List(elems, _) => format!("[{}]", comma_list(elems, |e| elem_text(&e.node))),
        })
        .collect::<Vec<_>>()
        .join(" + ")
}

fn elem_text(e: &Elem) -> String {
    match e {
        Elem::Str(s) => quote(s),
        Elem::Word(w) | Elem::Number(w) => w.clone(),
        Elem::Bool(b) => b.to_string(),
    }
}

fn json_text(j: &Json) -> String {
    match j {
        Json::Null => "null".to_owned(),
        Json::Bool(b) => b.to_string(),
        Json::Number(n) | Json::Word(n) => n.clone(),
        Json::Str(s) => quote(s),
        Json::Array(items) => format!("[{}]", comma_list(items, |i| json_text(&i.node))),
        Json::Object(members) if members.is_empty() => "{}".to_owned(),
        Json::Object(members) => {
            let member = |(k, v): &(Str, Spanned<Json>)| {
                format!("{}: {}", quote(&k.node), json_text(&v.node))
            };
            format!("{{ {} }}", comma_list(members, member))
        }
    }
}

/// A string literal with canonical escapes.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        // Every invisible character as an escape, and every character that
        // changes how the text around it is shown: what the author wrote
        // visibly stays visible.
        let escape =
            gait_run::normalize::invisible(c) || crate::syntax::literal::shows_otherwise(c);
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() || escape => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const MESSY: &str = r#"# top comment
policy "p"   version "1.0.0" revision 3
default block # trailing
let ws : paths = ["/workspace/**",
   # inside the list
   "/tmp/**"]
rule r priority 2 { when all path in ws and ( risk == high or risk == critical ) then allow reason "ok" }
rule s { when not (destructive or skill) then block }
test "t" { intent { tool "x" args {"a": [1, true, null], "b": {}} risk high } expect allow reason "ok" rule r }
# final comment
"#;

    /// `src` formatted, after checking that formatting kept its syntax tree.
    fn formatted(src: &str) -> String {
        let out = format_source(src).unwrap();
        assert_eq!(parse(src).file, parse(&out).file);
        out
    }

    #[test]
    fn formats_canonically_and_idempotently() {
        let once = formatted(MESSY);
        assert_eq!(format_source(&once).unwrap(), once);
        for needle in [
            "# top comment",
            "# trailing",
            "# inside the list",
            "# final comment",
            "  when all path in ws and (risk == high or risk == critical)\n",
            "  when not (destructive or skill)\n",
        ] {
            assert!(once.contains(needle), "missing {needle:?}:\n{once}");
        }
    }

    #[test]
    fn right_nested_operators_keep_their_grouping() {
        let out = formatted("policy \"p\" version \"1.0.0\"\ndefault block\nrule r { when destructive or (skill or skill.signed) then block }\n");
        assert!(
            out.contains("destructive or (skill or skill.signed)"),
            "{out}"
        );
    }

    #[test]
    fn refuses_text_with_syntax_errors() {
        assert!(format_source("rule r { then }").is_err());
    }
}
