//! The requests: diagnostics, hover, definition, symbols, formatting and
//! code actions, as functions of an [`Analysis`] (completion is in
//! [`super::completion`]).

use super::analysis::{Analysis, Ref};
use super::locate::Locator;
use super::text::LineIndex;
use crate::check::attrs::{attr_info, AttrInfo, AttrType, FLAGS};
use crate::check::ModuleId;
use crate::diag::{codes, Diagnostic, Severity};
use crate::fmt::format_source;
use crate::span::Span;
use crate::syntax::ast::{self, Item};
use gait_run::vocab::Verdict;
use lsp_types as lt;

/// Everything a request needs besides the analysis itself.
pub struct Ctx<'a> {
    pub uri: &'a lt::Uri,
    /// The document's version (code actions' edits carry it).
    pub version: Option<i32>,
    pub index: &'a LineIndex,
    pub locator: &'a Locator,
    /// Line indexes of the other files this request has pointed into.
    pub others: std::cell::RefCell<std::collections::HashMap<usize, LineIndex>>,
}

impl Ctx<'_> {
    fn range(&self, a: &Analysis, span: Span) -> lt::Range {
        self.index.range(a.text(), span)
    }

    /// A location in any file of the analysis.
    fn location(&self, a: &Analysis, file: usize, span: Span) -> Option<lt::Location> {
        let uri = self.locator.uri(&a.session.sources, file, Some(self.uri))?;
        let range = if file == a.file {
            self.range(a, span)
        } else {
            let text = a.session.sources.text(file);
            self.others
                .borrow_mut()
                .entry(file)
                .or_insert_with(|| LineIndex::new(text))
                .range(text, span)
        };
        Some(lt::Location { uri, range })
    }
}

// ------------------------------------------------------------ diagnostics

/// The document's diagnostics as LSP diagnostics: same code, span, message,
/// help and related information as `gaitc check`.
pub fn diagnostics(ctx: &Ctx<'_>, a: &Analysis) -> Vec<lt::Diagnostic> {
    a.diagnostics
        .iter()
        .map(|d| lsp_diagnostic(ctx, a, d))
        .collect()
}

fn lsp_diagnostic(ctx: &Ctx<'_>, a: &Analysis, d: &Diagnostic) -> lt::Diagnostic {
    let mut message = d.message.clone();
    if !d.primary.message.is_empty() {
        message.push_str(&format!(" ({})", d.primary.message));
    }
    if let Some(help) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(help);
    }
    let related: Vec<lt::DiagnosticRelatedInformation> = d
        .secondary
        .iter()
        .filter_map(|l| {
            let location = ctx.location(a, l.file.unwrap_or(d.file), l.span)?;
            Some(lt::DiagnosticRelatedInformation {
                location,
                message: l.message.clone(),
            })
        })
        .collect();
    lt::Diagnostic {
        range: ctx.range(a, d.primary.span),
        severity: Some(match d.severity {
            Severity::Error => lt::DiagnosticSeverity::ERROR,
            Severity::Warning => lt::DiagnosticSeverity::WARNING,
        }),
        code: Some(lt::NumberOrString::String(d.code.clone())),
        code_description: None,
        source: Some("gaitc".to_owned()),
        message,
        related_information: (!related.is_empty()).then_some(related),
        tags: (d.code == codes::W0001 || d.code == codes::W0002)
            .then(|| vec![lt::DiagnosticTag::UNNECESSARY]),
        data: None,
    }
}

// ------------------------------------------------------------ code actions

/// One quick fix per fix-it of a diagnostic whose range meets `range`.
pub fn code_actions(ctx: &Ctx<'_>, a: &Analysis, range: lt::Range) -> Vec<lt::CodeActionOrCommand> {
    let mut out = Vec::new();
    for d in &a.diagnostics {
        let Some(fix) = &d.fix else { continue };
        let diag_range = ctx.range(a, d.primary.span);
        if diag_range.end < range.start || range.end < diag_range.start {
            continue;
        }
        let edit = lt::TextEdit {
            range: ctx.range(a, fix.span),
            new_text: fix.replacement.clone(),
        };
        // `documentChanges` with the version: a client drops the edit if the
        // document changed since (and no map keyed by `Uri` is needed).
        let doc_edit = lt::TextDocumentEdit {
            text_document: lt::OptionalVersionedTextDocumentIdentifier {
                uri: ctx.uri.clone(),
                version: ctx.version,
            },
            edits: vec![lt::OneOf::Left(edit)],
        };
        out.push(lt::CodeActionOrCommand::CodeAction(lt::CodeAction {
            title: capitalize(&fix.message),
            kind: Some(lt::CodeActionKind::QUICKFIX),
            diagnostics: Some(vec![lsp_diagnostic(ctx, a, d)]),
            edit: Some(lt::WorkspaceEdit {
                changes: None,
                document_changes: Some(lt::DocumentChanges::Edits(vec![doc_edit])),
                change_annotations: None,
            }),
            command: None,
            is_preferred: Some(true),
            disabled: None,
            data: None,
        }));
    }
    out
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

// ------------------------------------------------------------ formatting

/// `gaitc fmt` as one edit of the whole document; `None` when the document
/// has syntax errors (it is never rewritten then), no edit when it is formatted.
pub fn formatting(index: &LineIndex, text: &str) -> Option<Vec<lt::TextEdit>> {
    let formatted = format_source(text).ok()?;
    if formatted == text {
        return Some(Vec::new());
    }
    Some(vec![lt::TextEdit {
        range: index.full_range(text),
        new_text: formatted,
    }])
}

// ------------------------------------------------------------ symbols

/// Rules, sets, mappings, tests (and the header and imports) of the document,
/// as `DocumentSymbol` objects (written as JSON: the type's deprecated
/// `deprecated` field is left out rather than set).
pub fn document_symbols(ctx: &Ctx<'_>, a: &Analysis) -> Vec<serde_json::Value> {
    let sym = |name: String, detail: String, kind: lt::SymbolKind, span: Span, sel: Span| {
        serde_json::json!({
            "name": if name.is_empty() { "<unnamed>".to_owned() } else { name },
            "detail": detail,
            "kind": kind,
            "range": ctx.range(a, span),
            "selectionRange": ctx.range(a, sel),
        })
    };
    let mut out = Vec::new();
    for item in &a.ast().items {
        match item {
            Item::Header(h) => out.push(sym(
                format!("policy {}", h.name.node),
                format!("version {}", h.version.node),
                lt::SymbolKind::MODULE,
                h.span,
                h.name.span,
            )),
            Item::Import(imp) => {
                let (name, sel) = match &imp.target {
                    ast::ImportTarget::Std(n) => (n.node.clone(), n.span),
                    ast::ImportTarget::File(s) => (format!("\"{}\"", s.node), s.span),
                };
                let detail = imp
                    .alias
                    .as_ref()
                    .map(|a| format!("as {}", a.node))
                    .unwrap_or_else(|| "import".to_owned());
                out.push(sym(name, detail, lt::SymbolKind::NAMESPACE, imp.span, sel));
            }
            Item::Let(l) => out.push(sym(
                l.name.node.clone(),
                l.ty.node.clone(),
                lt::SymbolKind::VARIABLE,
                l.span,
                l.name.span,
            )),
            Item::Map(m) => {
                let tools: Vec<&str> = m.tools.iter().map(|t| t.node.as_str()).collect();
                let sel = m.tools.first().map(|t| t.span).unwrap_or(m.span);
                out.push(sym(
                    format!("map tool {}", tools.join(", ")),
                    format!("{} targets", m.entries.len()),
                    lt::SymbolKind::STRUCT,
                    m.span,
                    sel,
                ));
            }
            Item::Rule(r) => out.push(sym(
                r.name.node.clone(),
                rule_summary(r),
                lt::SymbolKind::FUNCTION,
                r.span,
                r.name.span,
            )),
            Item::Test(t) => out.push(sym(
                t.name.node.clone(),
                "test".to_owned(),
                lt::SymbolKind::METHOD,
                t.span,
                t.name.span,
            )),
            _ => {}
        }
    }
    out
}

fn rule_verdict(r: &ast::Rule) -> Option<Verdict> {
    r.clauses.iter().find_map(|c| match c {
        ast::RuleClause::Then(v, _) => Some(v.node),
        _ => None,
    })
}

fn rule_priority(r: &ast::Rule) -> String {
    r.priority
        .as_ref()
        .map(|p| p.node.clone())
        .unwrap_or_else(|| "0".to_owned())
}

fn rule_summary(r: &ast::Rule) -> String {
    let verdict = rule_verdict(r)
        .map(|v| v.as_str())
        .unwrap_or("(no verdict)");
    format!("{verdict}, priority {}", rule_priority(r))
}

// ------------------------------------------------------------ definition

/// Where the name under the cursor is defined (sets, rules, imports, stdlib modules and their sets).
pub fn definition(ctx: &Ctx<'_>, a: &Analysis, offset: usize) -> Option<lt::Location> {
    let (_, r) = a.ref_at(offset)?;
    match r {
        Ref::SetRef(name) | Ref::SetDef(name) => {
            let (module, member) = a.resolve_set(name)?;
            let item = a.let_item(module, &member)?;
            ctx.location(a, a.session.modules[module].file, item.name.span)
        }
        Ref::RuleRef(name) | Ref::RuleDef(name) => {
            let rule = a.rule(name)?;
            ctx.location(a, a.file, rule.name.span)
        }
        Ref::Import(index) => {
            let target = a.session.import_target(a.module, *index)?;
            ctx.location(a, a.session.modules[target].file, Span::new(0, 0))
        }
        Ref::Attr(_) | Ref::Flag(_) | Ref::EnumValue { .. } | Ref::Verdict(_) => None,
    }
}

// ------------------------------------------------------------ hover

/// Documentation of the name under the cursor, and the explanation of every
/// diagnostic code there (or of a code written under the cursor, e.g. in a comment).
pub fn hover(ctx: &Ctx<'_>, a: &Analysis, offset: usize) -> Option<lt::Hover> {
    let mut sections: Vec<String> = Vec::new();
    let mut range = None;
    if let Some((span, r)) = a.ref_at(offset) {
        if let Some(text) = hover_ref(a, r) {
            sections.push(text);
            range = Some(ctx.range(a, *span));
        }
    }
    if sections.is_empty() {
        if let Some((span, info)) = code_word_at(a.text(), offset) {
            sections.push(info.explanation.trim_end().to_owned());
            range = Some(ctx.range(a, span));
        }
    }
    let mut seen = Vec::new();
    for d in &a.diagnostics {
        let s = d.primary.span;
        if s.start() <= offset && offset <= s.end() && !seen.contains(&d.code) {
            seen.push(d.code.clone());
            if let Some(info) = codes::lookup(&d.code) {
                sections.push(format!(
                    "**{}** ({}): {}\n\n{}",
                    info.code,
                    severity_word(info.severity),
                    info.title,
                    info.explanation.trim_end()
                ));
            }
        }
    }
    if sections.is_empty() {
        return None;
    }
    Some(lt::Hover {
        contents: lt::HoverContents::Markup(lt::MarkupContent {
            kind: lt::MarkupKind::Markdown,
            value: sections.join("\n\n---\n\n"),
        }),
        range,
    })
}

fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

/// A diagnostic code (`E0031`, `w0001`) written at `offset`.
fn code_word_at(text: &str, offset: usize) -> Option<(Span, &'static codes::CodeInfo)> {
    let offset = offset.min(text.len());
    let is_word = |c: char| c.is_ascii_alphanumeric();
    let before = text.get(..offset)?;
    let start = before
        .char_indices()
        .rev()
        .take_while(|&(_, c)| is_word(c))
        .last()
        .map(|(i, _)| i)
        .unwrap_or(offset);
    let after = text.get(offset..)?;
    let end = offset + after.find(|c: char| !is_word(c)).unwrap_or(after.len());
    let word = text.get(start..end)?;
    codes::lookup(word).map(|info| (Span::new(start, end), info))
}

fn attr_markdown(info: &AttrInfo) -> String {
    let valued = if info.multi {
        "multi-valued: use `any` or `all`"
    } else {
        "single-valued"
    };
    let values = match info.ty {
        AttrType::Enum(k) => format!("\n\nValues: {}", backticked(&k.spellings())),
        AttrType::Set(_) => String::new(),
    };
    format!(
        "```gaitpol\n{}\n```\nattribute ({valued}), compared with {}\n\n{}{values}",
        info.name, info.ty, info.doc
    )
}

fn backticked(items: &[&str]) -> String {
    items
        .iter()
        .map(|v| format!("`{v}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn hover_ref(a: &Analysis, r: &Ref) -> Option<String> {
    match r {
        Ref::Attr(name) => match attr_info(name) {
            Some(info) => Some(attr_markdown(info)),
            None => flag_doc(name),
        },
        Ref::Flag(name) => flag_doc(name),
        Ref::EnumValue { attr, value } => {
            let info = attr_info(attr)?;
            let AttrType::Enum(kind) = info.ty else {
                return None;
            };
            let validity = match kind.parse(value) {
                Some(v) if v.len() > 1 => format!(
                    "a {} wildcard: {}",
                    kind.what(),
                    backticked(&v.iter().map(|&i| kind.value_name(i)).collect::<Vec<_>>())
                ),
                Some(_) => format!("a {}", kind.what()),
                None => format!("not a {}", kind.what()),
            };
            Some(format!(
                "`{value}`: {validity} (a value of `{attr}`)\n\n{}",
                info.doc
            ))
        }
        Ref::SetRef(name) | Ref::SetDef(name) => {
            let (module, member) = a.resolve_set(name)?;
            Some(set_markdown(a, module, &member, name))
        }
        Ref::RuleDef(name) | Ref::RuleRef(name) => {
            let rule = a.rule(name)?;
            let verdict = rule_verdict(rule)
                .map(|v| format!("**{}**", v.as_str()))
                .unwrap_or_else(|| "no verdict (missing `then`)".to_owned());
            let mut text = format!(
                "```gaitpol\nrule {} priority {}\n```\nverdict: {verdict}; priority (tier): {}",
                rule.name.node,
                rule_priority(rule),
                rule_priority(rule)
            );
            for c in &rule.clauses {
                if let ast::RuleClause::Reason(rs, _) = c {
                    let rs: Vec<&str> = rs.iter().map(|r| r.node.as_str()).collect();
                    text.push_str(&format!("\n\nreason: {}", backticked(&rs)));
                }
                if let ast::RuleClause::Explain(e, _) = c {
                    text.push_str(&format!("\n\n{}", e.node));
                }
            }
            Some(text)
        }
        Ref::Import(index) => {
            let target = a.session.import_target(a.module, *index)?;
            let m = &a.session.modules[target];
            let sets: Vec<&str> = m
                .ast
                .items
                .iter()
                .filter_map(|i| match i {
                    Item::Let(l) => Some(l.name.node.as_str()),
                    _ => None,
                })
                .collect();
            Some(format!(
                "module `{}`\n\nsets: {}",
                a.session.sources.name(m.file),
                if sets.is_empty() {
                    "none".to_owned()
                } else {
                    backticked(&sets)
                }
            ))
        }
        Ref::Verdict(v) => Some(format!("verdict `{v}`")),
    }
}

fn flag_doc(name: &str) -> Option<String> {
    FLAGS
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|(n, _, doc)| format!("```gaitpol\n{n}\n```\nflag\n\n{doc}"))
}

/// At most this many values of a set are listed in a hover.
const HOVER_VALUES: usize = 50;

fn set_markdown(a: &Analysis, module: ModuleId, member: &str, written: &str) -> String {
    let declared = a
        .let_item(module, member)
        .map(|l| l.ty.node.clone())
        .unwrap_or_default();
    let mut text = format!("```gaitpol\nlet {written}: {declared}\n```\n");
    match a.session.set_values(module, member) {
        Some((_, values)) => {
            let shown: Vec<String> = values
                .iter()
                .take(HOVER_VALUES)
                .map(|v| format!("- `{v}`"))
                .collect();
            text.push_str(&format!(
                "{} value{}:\n{}",
                values.len(),
                if values.len() == 1 { "" } else { "s" },
                shown.join("\n")
            ));
            if values.len() > HOVER_VALUES {
                text.push_str(&format!("\n- … and {} more", values.len() - HOVER_VALUES));
            }
        }
        None => text.push_str("(the set has errors)"),
    }
    text
}
