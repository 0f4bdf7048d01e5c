//! `--explain`: every rule of the deciding tiers, each atom of its condition
//! and whether it held, and the atoms as text (not on the decision path).

use super::*;
use crate::vocab::{HostClass, ProvenanceSource};

/// One rule as `--explain` shows it: whether it matched, and each atom of its
/// condition with whether it held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExplainedRule {
    pub name: String,
    pub priority: u32,
    pub verdict: Verdict,
    pub matched: bool,
    pub atoms: Vec<(String, bool)>,
}

const ENUM_NAMES: [&str; enums::COUNT] = ["risk", "endpoint", "host_class", "target", "provenance"];
const FLAG_NAMES: [&str; flags::COUNT] = [
    "destructive",
    "skill",
    "skill.signed",
    "skill.pinned",
    "skill.verified",
];

impl Tables {
    /// Evaluates every rule of the first `tiers` priority levels fully and
    /// reports each atom (for `--explain`; not on the decision path).
    pub fn explain(
        &self,
        intent: &Intent,
        tiers: usize,
        scratch: &mut Scratch,
    ) -> Vec<ExplainedRule> {
        let facts = self.skill_facts(intent);
        self.match_values(intent, scratch);
        let ctx = Ctx {
            intent,
            facts,
            scratch,
        };
        let mut out = Vec::new();
        let mut levels: Vec<u32> = Vec::new();
        for rid in 0..self.rule_count() as u32 {
            let r = self.rule(rid);
            if !levels.contains(&r[0]) {
                if levels.len() == tiers {
                    break;
                }
                levels.push(r[0]);
            }
            let mut atoms = Vec::new();
            if r[9] != NONE {
                self.atoms_of(r[9], &ctx, &mut atoms);
            }
            out.push(ExplainedRule {
                name: self.s(r[3]).to_owned(),
                priority: r[0],
                verdict: Verdict::ALL[r[1] as usize],
                matched: r[9] == NONE || self.eval_node(r[9], &ctx),
                atoms,
            });
        }
        out
    }

    fn atoms_of(&self, id: u32, ctx: &Ctx<'_, '_>, out: &mut Vec<(String, bool)>) {
        let i = id as usize * node::STRIDE;
        let Some(n) = self.data.nodes.get(i..i + node::STRIDE) else {
            return;
        };
        match n[0] {
            node::AND | node::OR => {
                for &c in self.list(n[1], n[2]) {
                    self.atoms_of(c, ctx, out);
                }
            }
            node::NOT => self.atoms_of(n[1], ctx, out),
            _ => out.push((self.atom_text(n[1]), self.eval_atom(n[1], ctx))),
        }
    }

    fn valueset_text(&self, m: usize, vs: u32) -> String {
        let i = vs as usize * 2;
        let Some(rec) = self.data.valuesets.get(i..i + 2) else {
            return "[]".to_owned();
        };
        let ids = self.list(rec[0], rec[1]);
        let sources = &self.matchers[m].sources;
        let mut items: Vec<String> = ids
            .iter()
            .take(8)
            .map(|&p| {
                format!(
                    "{:?}",
                    self.s(sources.get(p as usize).copied().unwrap_or(NONE))
                )
            })
            .collect();
        if ids.len() > 8 {
            items.push(format!("… (+{})", ids.len() - 8));
        }
        format!("[{}]", items.join(", "))
    }

    /// A readable form of an atom, in policy syntax.
    pub fn atom_text(&self, id: u32) -> String {
        let i = id as usize * atom::STRIDE;
        let Some(a) = self.data.atoms.get(i..i + atom::STRIDE) else {
            return String::new();
        };
        let (kind, attr, all, negated, arg) = (a[0], a[1] as usize, a[2] == 1, a[3] == 1, a[4]);
        let op = if negated { "not in" } else { "in" };
        let q = if all { "all" } else { "any" };
        let enum_values = |e: usize| {
            let names: Vec<&str> = (0..enums::SIZES[e])
                .filter(|v| arg >> v & 1 == 1)
                .map(|v| match e {
                    enums::RISK => Risk::ALL[v].as_str(),
                    enums::ENDPOINT => EndpointClass::ALL[v].as_str(),
                    enums::HOST_CLASS => HostClass::ALL[v].as_str(),
                    enums::TARGET => TargetKind::ALL[v].as_str(),
                    _ => ProvenanceSource::ALL[v].as_str(),
                })
                .collect();
            format!("[{}]", names.join(", "))
        };
        match kind {
            atom::SCALAR_SET => format!(
                "{} {op} {}",
                matcher::NAMES[attr],
                self.valueset_text(attr, arg)
            ),
            atom::MULTI_SET => format!(
                "{q} {} {op} {}",
                matcher::NAMES[attr],
                self.valueset_text(attr, arg)
            ),
            atom::SCALAR_ENUM => format!("risk {op} {}", enum_values(enums::RISK)),
            atom::MULTI_ENUM => format!("{q} {} {op} {}", ENUM_NAMES[attr], enum_values(attr)),
            atom::FLAG => FLAG_NAMES
                .get(arg as usize)
                .copied()
                .unwrap_or("?")
                .to_owned(),
            _ => format!("args contain {}", self.valueset_text(matcher::MARKERS, arg)),
        }
    }
}
