//! One document checked by the same [`Session`] as `gaitc check`, plus an
//! index of the names in its syntax tree (what is under the cursor).

use crate::check::attrs::{attr_info, AttrType};
use crate::check::{ModuleId, Session};
use crate::diag::Diagnostic;
use crate::span::{FileId, Span};
use crate::syntax::ast::{self, Cond, Elem, Item, Rhs, SetExpr, SetTerm};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Something named in the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ref {
    /// `let NAME: ...` (the defining name).
    SetDef(String),
    /// A set used by name (`name` or `alias.name`).
    SetRef(String),
    /// An attribute tested in a condition.
    Attr(String),
    /// A flag (`destructive`, `skill.signed`, ...).
    Flag(String),
    /// A bare enum value compared with an attribute.
    EnumValue { attr: String, value: String },
    /// `rule NAME` (the defining name).
    RuleDef(String),
    /// `expect ... rule NAME` in a test.
    RuleRef(String),
    /// The target of the import item with this index.
    Import(usize),
    /// A verdict word.
    Verdict(String),
}

/// The result of checking one document.
#[derive(Debug)]
pub struct Analysis {
    pub session: Session,
    pub module: ModuleId,
    pub file: FileId,
    /// The document's own diagnostics (sorted as `gaitc check` sorts them).
    pub diagnostics: Vec<Diagnostic>,
    /// Canonical paths of every file on disk (or open) this check read.
    pub deps: BTreeSet<PathBuf>,
    /// Names in the document, in source order.
    pub refs: Vec<(Span, Ref)>,
}

/// What a document is checked as.
pub struct Input<'a> {
    /// Canonical path of the document, when it is a file.
    pub path: Option<&'a Path>,
    /// Display name (for documents that are not files).
    pub name: &'a str,
    pub text: &'a str,
    /// Other open documents (canonical path, text): they replace the files on disk.
    pub open: Vec<(PathBuf, String)>,
}

impl Analysis {
    /// Checks a document. `Err` carries a message when the checker panicked
    /// (a bug: the checker is fuzzed never to); the server keeps running.
    /// A document that cannot be loaded (larger than the checker's limit)
    /// is an `Err` too, published as a diagnostic, as `gaitc check` reports it.
    pub fn run(input: &Input<'_>) -> Result<Analysis, String> {
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| Analysis::run_inner(input)))
            .unwrap_or_else(|panic| {
                Err(format!(
                    "internal error in the checker: {}",
                    panic_message(&*panic)
                ))
            })
    }

    fn run_inner(input: &Input<'_>) -> Result<Analysis, String> {
        let mut session = Session::new();
        for (path, text) in &input.open {
            session.set_overlay(path.clone(), text.clone());
        }
        let module = match input.path {
            Some(path) => {
                session.set_overlay(path.to_path_buf(), input.text.to_owned());
                session.load_path(path)?
            }
            None => {
                let cwd = std::env::current_dir().unwrap_or_default();
                session.load_source(input.name, input.text, &cwd)
            }
        };
        session.check(module);
        let file = session.modules[module].file;
        let diagnostics = session
            .diagnostics()
            .into_iter()
            .filter(|d| d.primary.file.unwrap_or(d.file) == file)
            .collect();
        let deps = (0..session.sources.len())
            .filter_map(|f| session.sources.get(f)?.path.clone())
            .collect();
        let refs = index(&session.modules[module].ast);
        Ok(Analysis {
            session,
            module,
            file,
            diagnostics,
            deps,
            refs,
        })
    }

    pub fn text(&self) -> &str {
        self.session.sources.text(self.file)
    }

    pub fn ast(&self) -> &ast::File {
        &self.session.modules[self.module].ast
    }

    /// The innermost name whose span contains `offset` (its end included, so a
    /// cursor right after a word still finds it).
    pub fn ref_at(&self, offset: usize) -> Option<&(Span, Ref)> {
        self.refs
            .iter()
            .filter(|(s, _)| s.start() <= offset && offset <= s.end())
            .min_by_key(|(s, _)| s.end() - s.start())
    }

    /// The `let` item named `name` in module `id`.
    pub fn let_item(&self, id: ModuleId, name: &str) -> Option<&ast::LetItem> {
        self.session
            .modules
            .get(id)?
            .ast
            .items
            .iter()
            .find_map(|i| match i {
                Item::Let(l) if l.name.node == name => Some(l),
                _ => None,
            })
    }

    /// The rule named `name` in this document.
    pub fn rule(&self, name: &str) -> Option<&ast::Rule> {
        self.ast().items.iter().find_map(|i| match i {
            Item::Rule(r) if r.name.node == name => Some(r),
            _ => None,
        })
    }

    /// The module and set name a reference (`name` or `alias.name`) denotes.
    pub fn resolve_set(&self, name: &str) -> Option<(ModuleId, String)> {
        if self.let_item(self.module, name).is_some() {
            return Some((self.module, name.to_owned()));
        }
        let (alias, member) = name.split_once('.')?;
        let target = self.session.alias_target(self.module, alias)?;
        self.let_item(target, member)?;
        Some((target, member.to_owned()))
    }
}

/// The message of a caught panic.
pub(crate) fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| (*s).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_owned())
}

/// Every name in a file's syntax tree.
pub fn index(file: &ast::File) -> Vec<(Span, Ref)> {
    let mut out = Vec::new();
    for (i, item) in file.items.iter().enumerate() {
        match item {
            Item::Import(imp) => {
                let target_span = match &imp.target {
                    ast::ImportTarget::Std(n) => n.span,
                    ast::ImportTarget::File(s) => s.span,
                };
                out.push((target_span, Ref::Import(i)));
                if let Some(alias) = &imp.alias {
                    out.push((alias.span, Ref::Import(i)));
                }
            }
            Item::Let(l) => {
                out.push((l.name.span, Ref::SetDef(l.name.node.clone())));
                set_refs(&l.value, None, &mut out);
            }
            Item::Default(d) => out.push((d.verdict.span, Ref::Verdict(verdict(&d.verdict.node)))),
            Item::Rule(r) => {
                out.push((r.name.span, Ref::RuleDef(r.name.node.clone())));
                for clause in &r.clauses {
                    match clause {
                        ast::RuleClause::When(c, _) => cond_refs(c, &mut out),
                        ast::RuleClause::Then(v, _) => {
                            out.push((v.span, Ref::Verdict(verdict(&v.node))))
                        }
                        ast::RuleClause::Approvals(a, _) => {
                            if let Some(from) = &a.from {
                                set_refs(from, None, &mut out);
                            }
                        }
                        _ => {}
                    }
                }
            }
            Item::Test(t) => {
                for clause in &t.clauses {
                    if let ast::TestClause::Expect(e) = clause {
                        out.push((e.verdict.span, Ref::Verdict(verdict(&e.verdict.node))));
                        for tail in &e.tails {
                            if let ast::ExpectTail::Rule(n, _) = tail {
                                out.push((n.span, Ref::RuleRef(n.node.clone())));
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    out.sort_by_key(|(s, _)| (s.start(), s.end()));
    out
}

fn verdict(v: &gait_run::vocab::Verdict) -> String {
    v.as_str().to_owned()
}

fn cond_refs(c: &Cond, out: &mut Vec<(Span, Ref)>) {
    match c {
        Cond::Or(a, b) | Cond::And(a, b) => {
            cond_refs(a, out);
            cond_refs(b, out);
        }
        Cond::Not(inner, _) => cond_refs(inner, out),
        Cond::Atom(atom) => match &atom.kind {
            ast::AtomKind::Flag(n) => out.push((n.span, Ref::Flag(n.node.clone()))),
            ast::AtomKind::Test { attr, rhs, .. } => {
                out.push((attr.span, Ref::Attr(attr.node.clone())));
                let enum_attr = attr_info(&attr.node)
                    .filter(|i| matches!(i.ty, AttrType::Enum(_)))
                    .map(|i| i.name);
                match rhs {
                    Rhs::Set(s) => set_refs(s, enum_attr, out),
                    Rhs::Value(v) => elem_ref(v, enum_attr, out),
                }
            }
            ast::AtomKind::ArgsContain(s) => set_refs(s, None, out),
        },
    }
}

fn set_refs(s: &SetExpr, enum_attr: Option<&str>, out: &mut Vec<(Span, Ref)>) {
    for term in &s.terms {
        match term {
            SetTerm::Ref(n) => out.push((n.span, Ref::SetRef(n.node.clone()))),
            SetTerm::List(elems, _) => {
                for e in elems {
                    elem_ref(e, enum_attr, out);
                }
            }
        }
    }
}

fn elem_ref(e: &ast::Spanned<Elem>, enum_attr: Option<&str>, out: &mut Vec<(Span, Ref)>) {
    if let (Elem::Word(w), Some(attr)) = (&e.node, enum_attr) {
        out.push((
            e.span,
            Ref::EnumValue {
                attr: attr.to_owned(),
                value: w.clone(),
            },
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_document_over_the_size_limit_is_an_error_not_checked() {
        let dir = std::env::temp_dir().join(format!("gaitc-lsp-size-{}", std::process::id()));
        let path = dir.join("big.gaitpol");
        let text = format!(
            "policy \"p\" version \"1\"\ndefault block\n#{}\n",
            "x".repeat(17 * 1024 * 1024)
        );
        let input = Input {
            path: Some(&path),
            name: "big.gaitpol",
            text: &text,
            open: Vec::new(),
        };
        match Analysis::run(&input) {
            Err(e) => assert!(e.contains("larger than 16 MiB"), "{e}"),
            Ok(_) => panic!("a 17 MiB document was checked"),
        }
        let small = Input {
            text: "policy \"p\" version \"1\"\ndefault block\n",
            ..input
        };
        let a = Analysis::run(&small);
        assert_eq!(a.map(|a| a.text().len()), Ok(small.text.len()));
    }
}
