//! Sets: `let` items resolved once each (memoized, with cycle detection),
//! references to them (`name`, `alias.name`), and set expressions evaluated
//! against the type an attribute or a `let` expects: literals validated and
//! canonicalized, enum words read into bit masks.

use super::attrs::{AttrType, SetType};
use super::literals::{self, LitError};
use super::model::Values;
use super::{lints, ModuleId, Session, SetState};
use crate::diag::{codes, Diagnostic};
use crate::span::Span;
use crate::suggest::best_match;
use crate::syntax::ast::{self, Elem, Item, Spanned};
use std::collections::{HashMap, HashSet};

/// One evaluated list element: a canonical literal or enum bits.
pub(super) enum ElemValue {
    Item(String),
    Mask(u32),
}

impl Session {
    fn let_item(&self, id: ModuleId, name: &str) -> Option<ast::LetItem> {
        self.graph.modules[id]
            .ast
            .items
            .iter()
            .find_map(|i| match i {
                Item::Let(l) if l.name.node == name => Some(l.clone()),
                _ => None,
            })
    }

    /// Resolves a local set: its type and canonical items (memoized, cycle-safe).
    pub(super) fn resolve_local_set(
        &mut self,
        id: ModuleId,
        name: &str,
    ) -> Option<(SetType, Vec<String>)> {
        let def = self.scopes[id].sets.get(name)?.clone();
        match def.state {
            SetState::Done => return def.ty.zip(def.items),
            SetState::InProgress => {
                let file = self.file(id);
                let d = Diagnostic::error(
                    codes::E0024,
                    format!("set `{name}` is defined in terms of itself"),
                )
                .with_primary(def.span, "this set's definition refers back to it")
                .with_help(
                    "a set's union cannot include the set itself, directly or through other sets",
                );
                self.report(file, d);
                return None;
            }
            SetState::Pending => {}
        }
        if let Some(s) = self.scopes[id].sets.get_mut(name) {
            s.state = SetState::InProgress;
        }
        let item = self.let_item(id, name)?;
        let file = self.file(id);
        if item.value.terms.is_empty() {
            // A set whose syntax error was already reported: known but unusable.
            if let Some(s) = self.scopes[id].sets.get_mut(name) {
                s.state = SetState::Done;
            }
            return None;
        }
        let ty = match SetType::parse(&item.ty.node) {
            Some(t) => Some(t),
            None => {
                let names: Vec<&str> = SetType::ALL.iter().map(|t| t.as_str()).collect();
                let mut d =
                    Diagnostic::error(codes::E0035, format!("unknown set type `{}`", item.ty.node))
                        .with_primary(item.ty.span, "not a set type");
                d = d.with_suggestion(
                    item.ty.span,
                    best_match(&item.ty.node, names.iter().copied()),
                    format!("set types are: {}", names.join(", ")),
                );
                self.report(file, d);
                None
            }
        };
        let items = match ty {
            Some(t) => {
                match self.eval_set(id, &item.value, AttrType::Set(t), &format!("set `{name}`")) {
                    Some(Values::Patterns { items, .. }) => Some(items),
                    _ => None,
                }
            }
            None => None,
        };
        if let Some(s) = self.scopes[id].sets.get_mut(name) {
            s.state = SetState::Done;
            s.ty = ty;
            s.items = items.clone();
        }
        ty.zip(items)
    }

    /// Resolves a set reference (`name` or `alias.name`) from module `id`.
    /// `None` after reporting (or silently, when the cause was reported already).
    fn resolve_ref(
        &mut self,
        id: ModuleId,
        name: &Spanned<String>,
    ) -> Option<(SetType, Vec<String>)> {
        let file = self.file(id);
        if let Some((alias, member)) = name.node.split_once('.') {
            let Some((target, _)) = self.scopes[id].aliases.get(alias).cloned() else {
                return self.unknown_name(id, name);
            };
            self.scopes[id].used_aliases.insert(alias.to_owned());
            let target = target?; // import failed: already reported
            if !self.scopes[target].sets.contains_key(member) {
                let candidates: Vec<String> = self.scopes[target].sets.keys().cloned().collect();
                let mut d = Diagnostic::error(
                    codes::E0020,
                    format!("module `{alias}` has no set `{member}`"),
                )
                .with_primary(name.span, "unknown set");
                let fixed = best_match(member, candidates.iter().map(String::as_str))
                    .map(|s| format!("{alias}.{s}"));
                d = d.with_suggestion(
                    name.span,
                    fixed.as_deref(),
                    format!("`{alias}` defines: {}", candidates.join(", ")),
                );
                self.report(file, d);
                return None;
            }
            return self.resolve_local_set(target, member);
        }
        if self.scopes[id].sets.contains_key(&name.node) {
            self.scopes[id].used_sets.insert(name.node.clone());
            return self.resolve_local_set(id, &name.node);
        }
        if self.scopes[id].aliases.contains_key(&name.node) {
            self.scopes[id].used_aliases.insert(name.node.clone());
            let d = Diagnostic::error(
                codes::E0020,
                format!("`{}` is a module, not a set", name.node),
            )
            .with_primary(name.span, "module alias")
            .with_help(format!("refer to one of its sets as `{}.NAME`", name.node));
            self.report(file, d);
            return None;
        }
        self.unknown_name(id, name)
    }

    fn unknown_name<T>(&mut self, id: ModuleId, name: &Spanned<String>) -> Option<T> {
        let file = self.file(id);
        let mut candidates: Vec<String> = self.scopes[id].sets.keys().cloned().collect();
        for (alias, (target, _)) in &self.scopes[id].aliases {
            if let Some(t) = target {
                candidates.extend(self.scopes[*t].sets.keys().map(|s| format!("{alias}.{s}")));
            }
        }
        candidates.sort();
        let mut d = Diagnostic::error(codes::E0020, format!("unknown set `{}`", name.node))
            .with_primary(name.span, "not defined");
        let otherwise = if name.node.contains('.') {
            "import the module first, e.g. `import std.secrets`"
        } else {
            "define it with `let NAME: TYPE = [...]` or import a module that does"
        };
        d = d.with_suggestion(
            name.span,
            best_match(&name.node, candidates.iter().map(String::as_str)),
            otherwise,
        );
        self.report(file, d);
        None
    }

    /// Evaluates a set expression against the type an attribute or `let` expects.
    pub(super) fn eval_set(
        &mut self,
        id: ModuleId,
        expr: &ast::SetExpr,
        expected: AttrType,
        what: &str,
    ) -> Option<Values> {
        let file = self.file(id);
        let mut ok = true;
        let mut items: Vec<String> = Vec::new();
        let mut mask: u32 = 0;
        let mut seen_literals: HashMap<String, Span> = HashMap::new();
        for term in &expr.terms {
            match term {
                ast::SetTerm::Ref(name) => {
                    let resolved = self.resolve_ref(id, name);
                    match (resolved, expected) {
                        (Some((ty, vals)), AttrType::Set(want)) if ty == want => items.extend(vals),
                        (Some((ty, _)), AttrType::Set(want)) => {
                            let d = Diagnostic::error(codes::E0030, format!("{what} expects a set of type `{want}`, but `{}` has type `{ty}`", name.node))
                                .with_primary(name.span, format!("set of type `{ty}`"))
                                .with_help(format!("use a set declared `: {want}`"));
                            self.report(file, d);
                            ok = false;
                        }
                        (Some((ty, _)), AttrType::Enum(kind)) => {
                            let d = Diagnostic::error(
                                codes::E0030,
                                format!(
                                    "{what} takes {} values, but `{}` is a set of type `{ty}`",
                                    kind.what(),
                                    name.node
                                ),
                            )
                            .with_primary(name.span, format!("set of type `{ty}`"))
                            .with_help(format!(
                                "write a list of {}es, e.g. `[{}]`",
                                kind.what().trim_end_matches('s'),
                                kind.spellings().first().copied().unwrap_or("")
                            ));
                            self.report(file, d);
                            ok = false;
                        }
                        (None, _) => ok = false,
                    }
                }
                ast::SetTerm::List(elems, _) => {
                    for elem in elems {
                        match self.eval_elem(id, elem, expected, what) {
                            Some(ElemValue::Item(v)) => {
                                if let Some(first) = seen_literals.get(&v) {
                                    let d = lints::duplicates::value(&v, elem.span, *first);
                                    self.report(file, d);
                                } else {
                                    seen_literals.insert(v.clone(), elem.span);
                                }
                                items.push(v);
                            }
                            Some(ElemValue::Mask(m)) => {
                                if mask & m == m {
                                    self.report(file, lints::duplicates::enum_value(elem.span));
                                }
                                mask |= m;
                            }
                            None => ok = false,
                        }
                    }
                }
            }
        }
        if !ok {
            return None;
        }
        Some(match expected {
            AttrType::Set(ty) => {
                let mut seen = HashSet::new();
                items.retain(|i| seen.insert(i.clone()));
                Values::Patterns { ty, items }
            }
            AttrType::Enum(kind) => Values::Enum { kind, mask },
        })
    }

    pub(super) fn eval_elem(
        &mut self,
        id: ModuleId,
        elem: &Spanned<Elem>,
        expected: AttrType,
        what: &str,
    ) -> Option<ElemValue> {
        let file = self.file(id);
        match (expected, &elem.node) {
            (AttrType::Set(ty), Elem::Str(s)) => {
                let label = format!("invalid {} literal", ty_singular(ty));
                let v = self.literal(
                    file,
                    validate_literal(ty, s),
                    literal_code(ty),
                    elem.span,
                    &label,
                )?;
                if matches!(ty, SetType::Paths | SetType::Domains) {
                    for d in lints::unicode::check(elem.span, s) {
                        self.report(file, d);
                    }
                }
                if ty == SetType::Approvers && !self.approver_declared(id, &v, elem.span) {
                    return None;
                }
                Some(ElemValue::Item(v))
            }
            (AttrType::Set(ty), other) => {
                let shown = elem_text(other);
                let mut d = Diagnostic::error(
                    codes::E0047,
                    format!(
                        "{what} holds {} values, which are written as strings",
                        ty_singular(ty)
                    ),
                )
                .with_primary(elem.span, format!("`{shown}` is not a string"));
                d = if matches!(other, Elem::Word(w) if self.scopes[id].sets.contains_key(w) || w.contains('.'))
                {
                    d.with_help(format!("to include the set `{shown}`, write it outside the brackets: `[...] + {shown}`"))
                } else {
                    d.with_help("put the value in double quotes").with_fix(
                        elem.span,
                        format!("{shown:?}"),
                        "quote it",
                    )
                };
                self.report(file, d);
                None
            }
            (AttrType::Enum(kind), Elem::Word(w)) => match kind.parse(w) {
                Some(idx) => Some(ElemValue::Mask(idx.iter().fold(0u32, |m, i| m | (1 << i)))),
                None => {
                    self.bad_enum(file, elem.span, kind, w, false);
                    None
                }
            },
            (AttrType::Enum(kind), Elem::Str(s)) => {
                self.bad_enum(file, elem.span, kind, s, true);
                None
            }
            (AttrType::Enum(kind), other) => {
                let shown = elem_text(other);
                self.bad_enum(file, elem.span, kind, &shown, false);
                None
            }
        }
    }
}

pub(super) fn elem_text(e: &Elem) -> String {
    match e {
        Elem::Str(s) | Elem::Word(s) | Elem::Number(s) => s.clone(),
        Elem::Bool(b) => b.to_string(),
    }
}

fn ty_singular(ty: SetType) -> &'static str {
    match ty {
        SetType::Tools => "tool",
        SetType::Paths => "path",
        SetType::Domains => "domain",
        SetType::Commands => "command",
        SetType::Identities => "identity",
        SetType::Publishers => "publisher",
        SetType::Sources => "source",
        SetType::Skills => "skill",
        SetType::Markers => "marker",
        SetType::Approvers => "approver",
    }
}

fn literal_code(ty: SetType) -> &'static str {
    match ty {
        SetType::Paths => codes::E0040,
        SetType::Domains => codes::E0041,
        SetType::Tools => codes::E0042,
        SetType::Commands => codes::E0043,
        _ => codes::E0047,
    }
}

fn validate_literal(ty: SetType, s: &str) -> Result<String, LitError> {
    match ty {
        SetType::Paths => literals::path_glob(s),
        SetType::Domains => literals::domain_pattern(s),
        SetType::Tools => literals::tool_glob(s),
        SetType::Commands => literals::command_pattern(s),
        SetType::Markers => literals::non_empty(s, "marker"),
        SetType::Identities => literals::non_empty(s, "identity"),
        SetType::Publishers => literals::non_empty(s, "publisher").map(|v| v.to_lowercase()),
        SetType::Sources => literals::non_empty(s, "source").map(|v| v.to_lowercase()),
        SetType::Skills => literals::non_empty(s, "skill name").map(|v| v.to_lowercase()),
        SetType::Approvers => literals::approver_name(s),
    }
}
