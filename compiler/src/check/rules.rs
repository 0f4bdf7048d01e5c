//! Rules and their conditions: clauses (each once where it must be), the
//! verdict, approvals, reason and violation codes, and conditions typed
//! against the attribute table — quantifiers, operators, values.

use super::attrs::{self, AttrInfo, AttrType, SetType};
use super::lints;
use super::literals;
use super::model::{self, Origin, Values};
use super::sets::ElemValue;
use super::{ModuleId, Session};
use crate::diag::{codes, Diagnostic};
use crate::span::{FileId, Span};
use crate::suggest::best_match;
use crate::syntax::ast::{self, Quant, Spanned};
use gait_run::vocab::Verdict;
use std::collections::HashMap;

/// Marker pattern for clauses that may appear only once in a rule.
macro_rules! RuleClauseOnce {
    () => {
        ast::RuleClause::When(..)
            | ast::RuleClause::Then(..)
            | ast::RuleClause::Explain(..)
            | ast::RuleClause::Approvals(..)
    };
}

/// What a condition is checked under: its module, the rule's verdict (the
/// quantifier hints depend on it) and its polarity (`negated` under an odd
/// number of `not`s, for the quantifier lints).
#[derive(Clone, Copy)]
struct CondContext {
    id: ModuleId,
    verdict: Option<Verdict>,
    negated: bool,
}

impl Session {
    pub(super) fn check_rule(&mut self, id: ModuleId, r: &ast::Rule) -> Option<model::Rule> {
        let file = self.file(id);
        let mut ok = true;
        let priority = match &r.priority {
            Some(n) => self.integer(file, n, "priority"),
            None => Some(0),
        };
        ok &= priority.is_some();
        let mut seen: HashMap<&'static str, Span> = HashMap::new();
        let mut when = None;
        let mut then = None;
        let mut reasons = Vec::new();
        let mut violations = Vec::new();
        let mut explain = None;
        let mut approvals: Option<(Option<u32>, &ast::Approvals, Span)> = None;
        for clause in &r.clauses {
            let kw = clause.keyword();
            if matches!(clause, RuleClauseOnce!())
                && !self.first(file, &mut seen, kw, clause.span())
            {
                ok = false;
                continue;
            }
            match clause {
                ast::RuleClause::When(c, _) => when = Some(c.clone()),
                ast::RuleClause::Then(v, _) => then = Some(v.node),
                ast::RuleClause::Reason(list, _) | ast::RuleClause::Violation(list, _) => {
                    for s in list {
                        let code = literals::code(&s.node);
                        match self.literal(file, code, codes::E0047, s.span, "invalid code") {
                            Some(v) => {
                                let target = if kw == "reason" {
                                    &mut reasons
                                } else {
                                    &mut violations
                                };
                                if !target.contains(&v) {
                                    target.push(v);
                                }
                            }
                            None => ok = false,
                        }
                    }
                }
                ast::RuleClause::Explain(s, _) => explain = Some(s.node.clone()),
                ast::RuleClause::Approvals(a, span) => {
                    approvals = Some((self.integer(file, &a.count, "approvals"), a, *span))
                }
                ast::RuleClause::Error(_) => ok = false,
            }
        }
        let verdict = match then {
            Some(v) => Some(v),
            None => {
                if !r
                    .clauses
                    .iter()
                    .any(|c| matches!(c, ast::RuleClause::Error(_)))
                {
                    let insert_at = r.span.end().saturating_sub(1);
                    let d = Diagnostic::error(codes::E0060, format!("rule `{}` has no `then`", r.name.node))
                        .with_primary(r.name.span, "this rule never says what to decide")
                        .with_help("every rule needs a verdict: add `then allow`, `then block`, `then require_approval` or `then dry_run`")
                        .with_fix(Span::new(insert_at, insert_at), "  then block\n", "add `then block`");
                    self.report(file, d);
                }
                None
            }
        };
        let mut approvers = None;
        let mut interactive = false;
        let approvals = match (approvals, verdict) {
            (None, _) => None,
            (Some((n, a, span)), Some(Verdict::RequireApproval)) => match n {
                Some(0) => {
                    let d =
                        Diagnostic::error(codes::E0062, "`approvals 0` would require no approval")
                            .with_primary(span, "must be at least 1")
                            .with_help("use `approvals 1` or more, or a different verdict");
                    self.report(file, d);
                    ok = false;
                    None
                }
                Some(n) => {
                    interactive = a.interactive.is_some();
                    match self.approval_terms(id, n, a) {
                        Some(set) => approvers = set,
                        None => ok = false,
                    }
                    Some(n)
                }
                None => {
                    ok = false;
                    None
                }
            },
            (Some((_, a, span)), Some(v)) => {
                if let Some(from) = &a.from {
                    // Checked all the same: its names, and its sets count as used.
                    let expected = AttrType::Set(SetType::Approvers);
                    self.eval_set(id, from, expected, "`approvals … from`");
                }
                let help = if a.from.is_some() || a.interactive.is_some() {
                    "`from` and `interactive` say who may approve and how; remove the clause, or change the verdict to `require_approval`"
                } else {
                    "remove `approvals`, or change the verdict to `require_approval`"
                };
                let d = Diagnostic::error(
                    codes::E0062,
                    format!("`approvals` on a rule whose verdict is `{v}`"),
                )
                .with_primary(span, "only meaningful with `then require_approval`")
                .with_help(help)
                .with_fix(span, "", "remove `approvals`");
                self.report(file, d);
                ok = false;
                None
            }
            (Some(_), None) => None,
        };
        let cond = match &when {
            Some(c) => {
                let at = CondContext {
                    id,
                    verdict,
                    negated: false,
                };
                let checked = self.check_cond(c, at);
                ok &= checked.is_some();
                checked
            }
            None => None,
        };
        if !ok {
            return None;
        }
        Some(model::Rule {
            name: r.name.node.clone(),
            name_span: r.name.span,
            priority: priority?,
            verdict: verdict?,
            reasons,
            violations,
            explain,
            approvals,
            approvers,
            interactive,
            cond,
            origin: Origin { file, span: r.span },
        })
    }

    /// Types a condition.
    fn check_cond(&mut self, c: &ast::Cond, at: CondContext) -> Option<model::Cond> {
        match c {
            ast::Cond::Or(a, b) | ast::Cond::And(a, b) => {
                let l = self.check_cond(a, at);
                let r = self.check_cond(b, at);
                let (l, r) = (l?, r?);
                let is_and = matches!(c, ast::Cond::And(..));
                let mut parts = Vec::new();
                for part in [l, r] {
                    match (part, is_and) {
                        (model::Cond::And(v), true) | (model::Cond::Or(v), false) => {
                            parts.extend(v)
                        }
                        (p, _) => parts.push(p),
                    }
                }
                Some(if is_and {
                    model::Cond::And(parts)
                } else {
                    model::Cond::Or(parts)
                })
            }
            ast::Cond::Not(inner, _) => Some(model::Cond::Not(Box::new(self.check_cond(
                inner,
                CondContext {
                    negated: !at.negated,
                    ..at
                },
            )?))),
            ast::Cond::Atom(a) => self.check_atom(a, at).map(model::Cond::Atom),
        }
    }

    fn check_atom(&mut self, a: &ast::Atom, at: CondContext) -> Option<model::Atom> {
        let CondContext {
            id,
            verdict,
            negated,
        } = at;
        let file = self.file(id);
        match &a.kind {
            ast::AtomKind::Flag(name) => {
                if let Some(f) = attrs::flag(&name.node) {
                    return Some(model::Atom::Flag(f));
                }
                match attrs::attr_info(&name.node) {
                    Some(info) => self.attribute_as_flag(file, name.span, info),
                    None => self.unknown_attribute(file, name),
                }
                None
            }
            ast::AtomKind::ArgsContain(set) => {
                match self.eval_set(id, set, AttrType::Set(SetType::Markers), "`args contain`") {
                    Some(Values::Patterns { items, .. }) => Some(model::Atom::ArgsContain(items)),
                    _ => None,
                }
            }
            ast::AtomKind::Test {
                quant,
                attr,
                op,
                rhs,
            } => {
                let Some(info) = attrs::attr_info(&attr.node) else {
                    if attrs::flag(&attr.node).is_some() {
                        self.compared_flag(file, attr, op.span, attr.span.to(rhs.span()));
                    } else {
                        self.unknown_attribute(file, attr);
                    }
                    return None;
                };
                let mut ok = true;
                match (info.multi, quant) {
                    (true, None) => {
                        let q = if verdict == Some(Verdict::Allow) {
                            "all"
                        } else {
                            "any"
                        };
                        let d = Diagnostic::error(codes::E0031, format!("`{}` has one value per target and needs a quantifier", info.name))
                            .with_primary(attr.span, "which values? `any` or `all`")
                            .with_help(format!(
                                "write `any {0} ...` (some value matches) or `all {0} ...` (there is a value and every value matches); allow rules want `all`, block rules `any`",
                                info.name
                            ))
                            .with_fix(attr.span.head(), format!("{q} "), format!("insert `{q}`"));
                        self.report(file, d);
                        ok = false;
                    }
                    (false, Some(q)) => {
                        let d = Diagnostic::error(
                            codes::E0032,
                            format!(
                                "`{}` has a single value; `{}` does not apply",
                                info.name,
                                q.node.as_str()
                            ),
                        )
                        .with_primary(q.span, "quantifier on a single-valued attribute")
                        .with_help(format!(
                            "write `{} {} ...` without the quantifier",
                            info.name,
                            op.node.as_str()
                        ))
                        .with_fix(
                            q.span.to(attr.span.head()),
                            "",
                            format!("remove `{}`", q.node.as_str()),
                        );
                        self.report(file, d);
                        ok = false;
                    }
                    _ => {}
                }
                // Quantifier safety for the verdict (the effective quantifier flips under `not`).
                if let (true, Some(q), Some(v)) = (info.per_target, quant, verdict) {
                    let effective = match (q.node, negated) {
                        (Quant::Any, false) | (Quant::All, true) => Quant::Any,
                        _ => Quant::All,
                    };
                    if let Some(d) = lints::quantifier::check(q, info.name, effective, v) {
                        self.report(file, d);
                    }
                }
                let values = match rhs {
                    ast::Rhs::Set(set) => {
                        if matches!(op.node, ast::CmpOp::Eq | ast::CmpOp::Ne) {
                            let suggestion = if op.node == ast::CmpOp::Eq {
                                "in"
                            } else {
                                "not in"
                            };
                            let d = Diagnostic::error(
                                codes::E0036,
                                format!(
                                    "`{}` compares with a single value, not a list",
                                    op.node.as_str()
                                ),
                            )
                            .with_primary(op.span, "comparison with a list")
                            .with_help(format!("use `{suggestion}` to test membership in a list"))
                            .with_fix(
                                op.span,
                                suggestion,
                                format!("use `{suggestion}`"),
                            );
                            self.report(file, d);
                            ok = false;
                        }
                        self.eval_set(id, set, info.ty, &format!("`{}`", info.name))
                    }
                    ast::Rhs::Value(v) => {
                        match self.eval_elem(id, v, info.ty, &format!("`{}`", info.name)) {
                            Some(ElemValue::Item(item)) => match info.ty {
                                AttrType::Set(ty) => Some(Values::Patterns {
                                    ty,
                                    items: vec![item],
                                }),
                                AttrType::Enum(_) => None,
                            },
                            Some(ElemValue::Mask(mask)) => match info.ty {
                                AttrType::Enum(kind) => Some(Values::Enum { kind, mask }),
                                AttrType::Set(_) => None,
                            },
                            None => None,
                        }
                    }
                };
                let values = values?;
                if !ok {
                    return None;
                }
                let negated_op = matches!(op.node, ast::CmpOp::NotIn | ast::CmpOp::Ne);
                Some(match quant {
                    Some(q) => model::Atom::Multi {
                        attr: info.attr,
                        quant: q.node,
                        negated: negated_op,
                        values,
                    },
                    None => model::Atom::Scalar {
                        attr: info.attr,
                        negated: negated_op,
                        values,
                    },
                })
            }
        }
    }

    /// An attribute written alone, where a flag would be (E0036).
    fn attribute_as_flag(&mut self, file: FileId, span: Span, info: &AttrInfo) {
        let example = if info.multi {
            format!("any {} in SET", info.name)
        } else {
            format!("{} in SET", info.name)
        };
        let d = Diagnostic::error(
            codes::E0036,
            format!("`{}` is an attribute and needs a comparison", info.name),
        )
        .with_primary(span, "attribute used as a flag")
        .with_help(format!("compare it with a set or value, e.g. `{example}`"));
        self.report(file, d);
    }

    /// A flag compared with a value (E0036): labelled at the operator `op`,
    /// with a fix-it replacing the whole comparison `test` by the flag alone.
    fn compared_flag(&mut self, file: FileId, flag: &Spanned<String>, op: Span, test: Span) {
        let name = &flag.node;
        let d = Diagnostic::error(
            codes::E0036,
            format!("`{name}` is a flag and cannot be compared"),
        )
        .with_primary(op, "comparison on a flag")
        .with_help(format!("test the flag alone: `{name}` or `not {name}`"))
        .with_fix(test, name.clone(), "test the flag alone");
        self.report(file, d);
    }

    /// A name that is neither an attribute nor a flag (E0033).
    fn unknown_attribute(&mut self, file: FileId, name: &Spanned<String>) {
        let words = attrs::condition_words();
        let mut d = Diagnostic::error(codes::E0033, format!("unknown attribute `{}`", name.node))
            .with_primary(name.span, "not an attribute or flag");
        d = d.with_suggestion(
            name.span,
            best_match(&name.node, words.iter().copied()),
            format!("attributes and flags are: {}", words.join(", ")),
        );
        self.report(file, d);
    }
}
