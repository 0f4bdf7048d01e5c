//! Approvers: `trust approver` declarations (a name and keys, read exactly
//! as publishers' keys are), approver names in `approvers` sets checked
//! against the declared approvers, and the terms of a rule's `approvals N
//! [from SET] [interactive]` clause.

use super::attrs::{AttrType, SetType};
use super::literals;
use super::model::{self, Origin, Values};
use super::{ModuleId, Session};
use crate::diag::{codes, Diagnostic};
use crate::span::Span;
use crate::suggest::best_match;
use crate::syntax::ast;
use std::collections::HashMap;

impl Session {
    /// `trust approver "NAME" key "…"`: a valid name, valid keys, and a name
    /// declared once per file (E0081). The name counts as declared even when
    /// a key is invalid, so sets naming it report nothing more.
    pub(super) fn check_approver(&mut self, id: ModuleId, a: &ast::ApproverItem) {
        let file = self.file(id);
        let name = literals::approver_name(&a.name.node);
        let name = self.literal(
            file,
            name,
            codes::E0047,
            a.name.span,
            "invalid approver name",
        );
        let keys = self.trust_keys(file, &a.keys);
        let Some(name) = name else {
            return;
        };
        let earlier = self.scopes[id]
            .approver_names
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, span)| *span);
        if let Some(first) = earlier {
            self.report(
                file,
                duplicate(&name, a.name.span).with_secondary(first, "first declared here"),
            );
            return;
        }
        self.scopes[id]
            .approver_names
            .push((name.clone(), a.name.span));
        if let Some(keys) = keys {
            self.scopes[id].approvers.push(model::Approver {
                name,
                keys,
                origin: Origin {
                    file,
                    span: a.name.span,
                },
            });
        }
    }

    /// The approvers declared in module `id` and everything it imports,
    /// sorted and de-duplicated.
    pub(super) fn visible_approvers(&self, id: ModuleId) -> Vec<String> {
        let mut names: Vec<String> = self
            .graph
            .postorder(id)
            .into_iter()
            .flat_map(|m| self.scopes[m].approver_names.iter().map(|(n, _)| n.clone()))
            .collect();
        names.sort();
        names.dedup();
        names
    }

    /// Whether `name`, written at `span` in module `id`, is an approver
    /// declared there or in an import; reports it (E0080) when it is not.
    pub(super) fn approver_declared(&mut self, id: ModuleId, name: &str, span: Span) -> bool {
        let declared = self.visible_approvers(id);
        if declared.iter().any(|n| n == name) {
            return true;
        }
        let otherwise = if declared.is_empty() {
            format!("no approver is declared; declare one with `trust approver \"{name}\" key \"ed25519:…\"`")
        } else {
            format!("declared approvers: {}", declared.join(", "))
        };
        let d = Diagnostic::error(codes::E0080, format!("`{name}` is not a declared approver"))
            .with_primary(span, "unknown approver");
        let d = match best_match(name, declared.iter().map(String::as_str)) {
            Some(s) => d.with_help(format!("did you mean `{s}`?")).with_fix(
                span,
                format!("{s:?}"),
                format!("use `{s}`"),
            ),
            None => d.with_help(otherwise),
        };
        let file = self.file(id);
        self.report(file, d);
        false
    }

    /// The approvers allowed to approve a `require_approval` rule needing
    /// `n` approvals: `Some(None)` for any declared approver, `Some(Some(set))`
    /// for `from SET` (sorted, de-duplicated); `None` after reporting — a set
    /// that does not check, or fewer approvers than `n` (E0082).
    pub(super) fn approval_terms(
        &mut self,
        id: ModuleId,
        n: u32,
        a: &ast::Approvals,
    ) -> Option<Option<Vec<String>>> {
        let file = self.file(id);
        let (set, available, span) = match &a.from {
            Some(expr) => {
                let values = self.eval_set(
                    id,
                    expr,
                    AttrType::Set(SetType::Approvers),
                    "`approvals … from`",
                )?;
                let Values::Patterns { mut items, .. } = values else {
                    return None;
                };
                items.sort();
                let len = items.len();
                (Some(items), len, expr.span)
            }
            None => {
                let declared = self.visible_approvers(id).len();
                // No approver at all is the lint W0011 (nobody can approve).
                if declared == 0 {
                    return Some(None);
                }
                (None, declared, a.count.span)
            }
        };
        if n as usize <= available {
            return Some(set);
        }
        let who = match &set {
            Some(_) => format!("this set holds {available} approver{}", plural(available)),
            None => format!(
                "the policy declares {available} approver{}",
                plural(available)
            ),
        };
        let d = Diagnostic::error(
            codes::E0082,
            format!(
                "`approvals {n}` needs {n} distinct approvers, but only {available} can approve"
            ),
        )
        .with_primary(a.count.span, format!("{n} distinct approvers"))
        .with_help(format!(
            "{who}: lower the count to at most {available}, or add approvers{}",
            if set.is_some() {
                " to the set"
            } else {
                " with `trust approver`"
            }
        ));
        let d = if set.is_some() {
            d.with_secondary(span, who)
        } else {
            d
        };
        self.report(file, d);
        None
    }

    /// The approvers of a policy and everything it imports. An approver
    /// declared in two files is reported at the later one (E0081), and so is
    /// an approver holding a key another approver holds: approvals count
    /// distinct approvers, so one key under two names would let its holder
    /// count twice.
    pub(super) fn collect_approvers(&mut self, id: ModuleId) -> Vec<model::Approver> {
        let mut out: Vec<model::Approver> = Vec::new();
        let mut first: HashMap<String, Origin> = HashMap::new();
        // Key id → the approver holding it (its name and where declared).
        let mut holders: HashMap<String, (String, Origin)> = HashMap::new();
        let mut found = Vec::new();
        for m in self.graph.postorder(id) {
            for a in &self.scopes[m].approvers {
                if let Some(o) = first.get(&a.name) {
                    found.push((
                        duplicate(&a.name, a.origin.span),
                        a.origin,
                        *o,
                        "first declared here",
                    ));
                    continue;
                }
                let shared = a.keys.iter().find_map(|k| {
                    holders
                        .get(&k.id)
                        .filter(|(holder, _)| *holder != a.name)
                        .map(|(holder, o)| (k, holder, *o))
                });
                if let Some((key, holder, o)) = shared {
                    found.push((
                        shared_key(&a.name, key, holder, a.origin.span),
                        a.origin,
                        o,
                        "the key's holder, declared here",
                    ));
                    continue;
                }
                first.insert(a.name.clone(), a.origin);
                for k in &a.keys {
                    holders.insert(k.id.clone(), (a.name.clone(), a.origin));
                }
                out.push(a.clone());
            }
        }
        for (d, at, earlier, label) in found {
            let d = d.with_secondary_in(earlier.file, earlier.span, label);
            self.report(at.file, d);
        }
        out
    }
}

fn duplicate(name: &str, span: Span) -> Diagnostic {
    Diagnostic::error(codes::E0081, format!("approver `{name}` is declared more than once"))
        .with_primary(span, "declared again here")
        .with_help("declare each approver once, with all of its keys: `trust approver \"NAME\" key \"…\", key \"…\"`")
}

/// E0081 for approver `name` declared with a key approver `holder` holds.
fn shared_key(name: &str, key: &model::TrustKey, holder: &str, span: Span) -> Diagnostic {
    Diagnostic::error(
        codes::E0081,
        format!(
            "approver `{name}` is declared with the key of approver `{holder}` (key id {})",
            key.id
        ),
    )
    .with_primary(span, "declared again here, under another name")
    .with_help(format!(
        "distinct approvers hold distinct keys: with one key under two names, its holder counts as two approvers; give `{name}` its own key, or merge it into `{holder}`"
    ))
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}
