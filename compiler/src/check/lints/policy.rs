//! Whole-policy lints over the checked model: rules that can never match,
//! rules shadowed by an earlier tier, and tool mappings no rule can see.
//!
//! Conditions are put in disjunctive normal form (bounded; rules whose DNF
//! would explode are skipped) and each conjunction is tested for definite
//! unsatisfiability. Every check is sound: a warning means what it says,
//! although not every never-matching rule is detected.

use crate::check::attrs::{Attr, EnumKind, Flag};
use crate::check::literals::star_match;
use crate::check::model::{Atom, Cond, Policy, Values};
use crate::diag::{codes, Diagnostic};
use crate::span::FileId;
use crate::syntax::ast::Quant;
use std::collections::{BTreeMap, HashMap};

/// Largest DNF (number of conjunctions) the lints will build.
const MAX_DNF: usize = 256;

/// A literal: an atom or its negation.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Lit {
    pub atom: Atom,
    pub positive: bool,
}

pub type Conj = Vec<Lit>;

/// DNF of an optional condition (`None` = always true = one empty conjunction).
pub fn dnf(cond: Option<&Cond>) -> Option<Vec<Conj>> {
    match cond {
        None => Some(vec![Vec::new()]),
        Some(c) => to_dnf(c, true),
    }
}

fn to_dnf(c: &Cond, positive: bool) -> Option<Vec<Conj>> {
    match (c, positive) {
        (Cond::Atom(a), p) => Some(vec![vec![Lit {
            atom: a.clone(),
            positive: p,
        }]]),
        (Cond::Not(inner), p) => to_dnf(inner, !p),
        (Cond::Or(parts), true) | (Cond::And(parts), false) => {
            let mut out = Vec::new();
            for part in parts {
                out.extend(to_dnf(part, positive)?);
                if out.len() > MAX_DNF {
                    return None;
                }
            }
            Some(out)
        }
        (Cond::And(parts), true) | (Cond::Or(parts), false) => {
            let mut acc: Vec<Conj> = vec![Vec::new()];
            for part in parts {
                let d = to_dnf(part, positive)?;
                let mut next = Vec::new();
                for a in &acc {
                    for b in &d {
                        let mut c = a.clone();
                        for lit in b {
                            if !c.contains(lit) {
                                c.push(lit.clone());
                            }
                        }
                        next.push(c);
                        if next.len() > MAX_DNF {
                            return None;
                        }
                    }
                }
                acc = next;
            }
            Some(acc)
        }
    }
}

fn full_mask(kind: EnumKind) -> u32 {
    (1u32 << kind.cardinality()) - 1
}

/// The values of `kind` a membership test in `mask` admits: `mask`, or its
/// complement when the test is negated.
fn admitted(kind: EnumKind, mask: u32, negated: bool) -> u32 {
    if negated {
        full_mask(kind) & !mask
    } else {
        mask
    }
}

/// Whether a conjunction can certainly never hold.
pub fn unsatisfiable(conj: &[Lit]) -> bool {
    // An atom with its own negation.
    for (i, a) in conj.iter().enumerate() {
        if conj[i + 1..]
            .iter()
            .any(|b| b.atom == a.atom && b.positive != a.positive)
        {
            return true;
        }
    }
    let mut scalar_enum: BTreeMap<Attr, u32> = BTreeMap::new();
    // Multi-valued enum attributes: the values every value must lie in, the
    // sets some value must hit, and whether some value must exist.
    let mut multi_allowed: BTreeMap<Attr, u32> = BTreeMap::new();
    let mut multi_hits: BTreeMap<Attr, Vec<u32>> = BTreeMap::new();
    let mut multi_not_all: BTreeMap<Attr, Vec<u32>> = BTreeMap::new();
    let mut exact_scalar: BTreeMap<Attr, Vec<String>> = BTreeMap::new();
    let mut skill_needed = false;
    let mut no_skill = false;
    let mut flags: BTreeMap<Flag, bool> = BTreeMap::new();

    for lit in conj {
        if let Atom::Scalar { attr, .. } = &lit.atom {
            skill_needed |= is_skill_attr(*attr) && lit.positive;
        }
        match (&lit.atom, lit.positive) {
            (
                Atom::Scalar {
                    attr,
                    negated,
                    values: Values::Enum { kind, mask },
                },
                pos,
            ) => {
                // Holds iff value ∈ S (xor negations).
                let entry = scalar_enum.entry(*attr).or_insert(full_mask(*kind));
                *entry &= admitted(*kind, *mask, pos == *negated);
            }
            (
                Atom::Scalar {
                    attr,
                    negated,
                    values: Values::Patterns { items, .. },
                },
                pos,
            ) => {
                if pos && !*negated {
                    if items.is_empty() {
                        return true;
                    }
                    if items.iter().all(|i| !i.contains(['*', '?', '['])) {
                        let entry = exact_scalar.entry(*attr).or_insert_with(|| items.clone());
                        entry.retain(|v| items.contains(v));
                        if entry.is_empty() {
                            return true;
                        }
                    }
                }
            }
            (
                Atom::Multi {
                    attr,
                    quant,
                    negated,
                    values: Values::Enum { kind, mask },
                },
                pos,
            ) => {
                let full = full_mask(*kind);
                let set = admitted(*kind, *mask, *negated);
                match (quant, pos) {
                    (Quant::All, true) => {
                        *multi_allowed.entry(*attr).or_insert(full) &= set;
                        multi_hits.entry(*attr).or_default().push(set);
                    }
                    (Quant::Any, true) => multi_hits.entry(*attr).or_default().push(set),
                    // not any: no value in set.
                    (Quant::Any, false) => {
                        *multi_allowed.entry(*attr).or_insert(full) &= full & !set
                    }
                    // not all: no values, or some value outside set.
                    (Quant::All, false) => multi_not_all.entry(*attr).or_default().push(set),
                }
            }
            (
                Atom::Multi {
                    quant,
                    negated: false,
                    values: Values::Patterns { items, .. },
                    ..
                },
                true,
            ) => {
                if items.is_empty() {
                    let _ = quant;
                    return true;
                }
            }
            (Atom::Multi { .. }, _) => {}
            (Atom::Flag(f), pos) => {
                if let Some(prev) = flags.insert(*f, pos) {
                    if prev != pos {
                        return true;
                    }
                }
                match (f, pos) {
                    (Flag::Skill, false) => no_skill = true,
                    (Flag::SkillSigned | Flag::SkillPinned | Flag::SkillVerified, true) => {
                        skill_needed = true
                    }
                    _ => {}
                }
            }
            (Atom::ArgsContain(items), true) => {
                if items.is_empty() {
                    return true;
                }
            }
            (Atom::ArgsContain(_), false) => {}
        }
    }
    if skill_needed && no_skill {
        return true;
    }
    if flags.get(&Flag::SkillVerified) == Some(&true)
        && (flags.get(&Flag::SkillSigned) == Some(&false)
            || flags.get(&Flag::SkillPinned) == Some(&false))
    {
        return true;
    }
    if scalar_enum.values().any(|m| *m == 0) {
        return true;
    }
    let attrs: Vec<Attr> = multi_allowed
        .keys()
        .chain(multi_hits.keys())
        .copied()
        .collect();
    for attr in attrs {
        let allowed = multi_allowed.get(&attr).copied().unwrap_or(u32::MAX);
        let hits = multi_hits.get(&attr).map(Vec::as_slice).unwrap_or(&[]);
        if hits.iter().any(|h| h & allowed == 0) {
            return true;
        }
        // Some value must exist and every value lies in `allowed`: a `not all`
        // set covering `allowed` is then impossible to satisfy.
        if !hits.is_empty() {
            if let Some(not_all) = multi_not_all.get(&attr) {
                if not_all.iter().any(|s| allowed & !s == 0) {
                    return true;
                }
            }
        }
    }
    false
}

fn is_skill_attr(a: Attr) -> bool {
    matches!(
        a,
        Attr::SkillName | Attr::SkillPublisher | Attr::SkillSource
    )
}

/// `sub` implies `sup` syntactically: every literal of `sup` is in `sub`.
fn implies(sub: &[Lit], sup: &[Lit]) -> bool {
    sup.iter().all(|l| sub.contains(l))
}

/// Whether a conjunction admits `tool == name`.
fn admits_tool(conj: &[Lit], name: &str) -> bool {
    conj.iter().all(|lit| match &lit.atom {
        Atom::Scalar {
            attr: Attr::Tool,
            negated,
            values: Values::Patterns { items, .. },
        } => {
            let inside = items.iter().any(|p| star_match(p, name));
            inside == (lit.positive != *negated)
        }
        _ => true,
    })
}

/// Runs the whole-policy lints.
pub fn lint_policy(policy: &Policy, file: FileId) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let forms: Vec<Option<Vec<Conj>>> = policy.rules.iter().map(|r| dnf(r.cond.as_ref())).collect();
    let sat: Vec<Option<Vec<&Conj>>> = forms
        .iter()
        .map(|f| {
            f.as_ref()
                .map(|f| f.iter().filter(|c| !unsatisfiable(c)).collect())
        })
        .collect();

    // Rules in tier order. Conjunctions of strictly earlier tiers are indexed
    // by their first literal (a conjunction implied by `c` has all its
    // literals in `c`, so it is found under one of `c`'s literals); empty
    // conjunctions (rules without `when`) match everything.
    let mut order: Vec<usize> = (0..policy.rules.len()).collect();
    order.sort_by_key(|&i| (policy.rules[i].priority, i));
    let mut by_first: HashMap<&Lit, Vec<(usize, &Conj)>> = HashMap::new();
    let mut always: Vec<usize> = Vec::new();
    let mut pending: Vec<usize> = Vec::new();
    let mut current_tier: Option<u32> = None;

    for &i in &order {
        let rule = &policy.rules[i];
        if current_tier != Some(rule.priority) {
            // Entering a new tier: everything seen so far is an earlier tier.
            for j in pending.drain(..) {
                if let Some(conjs) = &sat[j] {
                    for c in conjs {
                        match c.first() {
                            None => always.push(j),
                            Some(first) => by_first.entry(first).or_default().push((j, c)),
                        }
                    }
                }
            }
            current_tier = Some(rule.priority);
        }
        pending.push(i);
        let Some(conjs) = &sat[i] else { continue };
        if conjs.is_empty() {
            out.push(
                Diagnostic::warning(codes::W0003, format!("rule `{}` can never match", rule.name))
                    .with_primary(rule.name_span, "its condition is contradictory")
                    .with_help("no intent satisfies this condition (e.g. a value required to be in two disjoint sets, an empty set, or a test together with its negation); fix or remove the rule")
                    .in_file(rule.origin.file),
            );
            continue;
        }
        // Shadowing: every satisfiable conjunction implies a conjunction of
        // some rule in a strictly earlier tier.
        let mut shadower: Option<usize> = always.first().copied();
        let all_covered = !always.is_empty()
            || conjs.iter().all(|c| {
                let hit = c.iter().find_map(|lit| {
                    by_first.get(lit).and_then(|cands| {
                        cands.iter().find(|(_, oc)| implies(c, oc)).map(|(j, _)| *j)
                    })
                });
                if shadower.is_none() {
                    shadower = hit;
                }
                hit.is_some()
            });
        if let (true, Some(j)) = (all_covered, shadower) {
            let other = &policy.rules[j];
            out.push(
                Diagnostic::warning(codes::W0004, format!("rule `{}` is shadowed by an earlier tier", rule.name))
                    .with_primary(rule.name_span, format!("priority {}: never decides", rule.priority))
                    .with_secondary_in(other.origin.file, other.name_span, format!("priority {} matches first, whenever this rule would", other.priority))
                    .with_help("the first priority level with a matching rule decides; give this rule a lower priority number, or narrow the earlier rule")
                    .in_file(rule.origin.file),
            );
        }
    }

    // Tool mappings defined in this file that no rule can see.
    for mapping in policy.mappings.iter().filter(|m| m.origin.file == file) {
        for tool in &mapping.tools {
            if tool.contains('*') {
                continue;
            }
            let seen = sat.iter().any(|form| match form {
                None => true,
                Some(f) => f.iter().any(|c| admits_tool(c, tool)),
            });
            if !seen {
                out.push(
                    Diagnostic::warning(codes::W0009, format!("no rule can see tool `{tool}`"))
                        .with_primary(mapping.origin.span, "mapping for this tool")
                        .with_help(format!("every rule restricts `tool` to names that exclude `{tool}`, so its targets only ever reach the default verdict; add a rule for it or remove the mapping"))
                        .in_file(file),
                );
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::check::attrs::SetType;

    fn risk(mask: u32, positive: bool) -> Lit {
        Lit {
            atom: Atom::Scalar {
                attr: Attr::Risk,
                negated: false,
                values: Values::Enum {
                    kind: EnumKind::Risk,
                    mask,
                },
            },
            positive,
        }
    }

    fn endpoint(quant: Quant, mask: u32, positive: bool) -> Lit {
        Lit {
            atom: Atom::Multi {
                attr: Attr::Endpoint,
                quant,
                negated: false,
                values: Values::Enum {
                    kind: EnumKind::Endpoint,
                    mask,
                },
            },
            positive,
        }
    }

    #[test]
    fn contradictions() {
        assert!(unsatisfiable(&[risk(0b0001, true), risk(0b0100, true)]));
        assert!(!unsatisfiable(&[risk(0b0011, true), risk(0b0110, true)]));
        assert!(unsatisfiable(&[risk(0b0011, true), risk(0b0011, false)]));
        // all endpoint in [fs.read] and any endpoint in [net.http]
        assert!(unsatisfiable(&[
            endpoint(Quant::All, 0b1, true),
            endpoint(Quant::Any, 0b10000, true)
        ]));
        assert!(!unsatisfiable(&[
            endpoint(Quant::Any, 0b1, true),
            endpoint(Quant::Any, 0b10000, true)
        ]));
        // any endpoint in [fs.read] and not any endpoint in [fs.read, fs.write]
        assert!(unsatisfiable(&[
            endpoint(Quant::Any, 0b1, true),
            endpoint(Quant::Any, 0b11, false)
        ]));
        // all endpoint in [fs.read] and not all endpoint in [fs.read]: same atom negated
        assert!(unsatisfiable(&[
            endpoint(Quant::All, 0b1, true),
            endpoint(Quant::All, 0b1, false)
        ]));
        let empty = Lit {
            atom: Atom::Multi {
                attr: Attr::Path,
                quant: Quant::Any,
                negated: false,
                values: Values::Patterns {
                    ty: SetType::Paths,
                    items: vec![],
                },
            },
            positive: true,
        };
        assert!(unsatisfiable(&[empty]));
        let verified = Lit {
            atom: Atom::Flag(Flag::SkillVerified),
            positive: true,
        };
        let no_skill = Lit {
            atom: Atom::Flag(Flag::Skill),
            positive: false,
        };
        assert!(unsatisfiable(&[verified, no_skill]));
    }

    #[test]
    fn dnf_distributes_and_negates() {
        let a = Cond::Atom(Atom::Flag(Flag::Destructive));
        let b = Cond::Atom(Atom::Flag(Flag::Skill));
        let c = Cond::Not(Box::new(Cond::Or(vec![a.clone(), b.clone()])));
        let d = dnf(Some(&c)).unwrap();
        assert_eq!(d.len(), 1);
        assert_eq!(d[0].len(), 2);
        assert!(d[0].iter().all(|l| !l.positive));
        let e = Cond::And(vec![
            Cond::Or(vec![a.clone(), b.clone()]),
            Cond::Or(vec![a, b]),
        ]);
        assert_eq!(dnf(Some(&e)).unwrap().len(), 4);
    }
}
