//! A decision with the tables: match every value once, collect the candidate
//! rules from the postings of what matched, evaluate them in tier order.

use super::*;
use crate::decision::{default_decision, fail_closed, reduce_tier, Decision, Matched};
use crate::vocab::{HostClass, ProvenanceSource};

impl Tables {
    /// `skill.signed` / `skill.pinned` from the trust and pin tables.
    pub fn skill_facts(&self, intent: &Intent) -> SkillFacts {
        let Some(skill) = &intent.skill else {
            return SkillFacts::default();
        };
        let signed = skill.key_id.as_deref().is_some_and(|kid| {
            self.data
                .trust
                .chunks_exact(3)
                .any(|t| self.s(t[0]) == skill.publisher && self.s(t[1]) == kid)
        });
        let pinned = match (&skill.version, &skill.digest) {
            (Some(v), Some(dg)) => self
                .data
                .pins
                .chunks_exact(3)
                .any(|p| self.s(p[0]) == skill.name && self.s(p[1]) == v && self.s(p[2]) == dg),
            _ => false,
        };
        SkillFacts { signed, pinned }
    }

    /// Calls `f` with every entry of every tool mapping that applies to
    /// `tool`, mapping by mapping in id order, until `f` fails. `buf` is
    /// reused scratch space (nothing else is allocated).
    pub fn for_each_mapping_entry<E>(
        &self,
        tool: &str,
        buf: &mut Vec<u32>,
        mut f: impl FnMut(MappingEntry<'_>) -> Result<(), E>,
    ) -> Result<(), E> {
        let m = &self.matchers[matcher::MAPPING_TOOLS];
        buf.clear();
        m.matches(tool, &self.data.strings, buf);
        // The matched patterns' mapping ids, after them in the same buffer.
        let patterns = buf.len();
        for i in 0..patterns {
            let (a, n) = m.posting(buf[i]);
            let ids = self.list(a as u32, n as u32);
            buf.extend_from_slice(ids);
        }
        buf.drain(..patterns);
        buf.sort_unstable();
        buf.dedup();
        for &id in buf.iter() {
            let rec = self
                .data
                .mappings
                .get(id as usize * 2..id as usize * 2 + 2)
                .unwrap_or(&[0, 0]);
            for e in rec[0]..rec[0] + rec[1] {
                let Some(e) = self
                    .data
                    .mapping_entries
                    .get(e as usize * 4..e as usize * 4 + 4)
                else {
                    continue;
                };
                f(MappingEntry {
                    kind: TargetKind::ALL[e[0] as usize],
                    class: EndpointClass::ALL[e[1] as usize],
                    steps: Steps {
                        ids: self.list(e[2], e[3]),
                        tables: self,
                    },
                })?;
            }
        }
        Ok(())
    }

    /// Evaluates one normalized intent. No I/O, no clock; the result depends on
    /// the tables and the intent only.
    pub fn decide(&self, intent: &Intent, scratch: &mut Scratch) -> Decision<'_> {
        if let Some(d) = fail_closed(intent, &self.fail_closed_risk, &self.fail_closed_require) {
            return d;
        }
        let facts = self.skill_facts(intent);
        self.match_values(intent, scratch);
        self.collect_candidates(intent, facts, scratch);
        // The matching rules, in a reused buffer (lent out while the
        // scratch is borrowed by the evaluation context).
        let mut matched = std::mem::take(&mut scratch.matched);
        matched.clear();
        let ctx = Ctx {
            intent,
            facts,
            scratch,
        };
        let mut tier: Option<u32> = None;
        for &rid in &scratch.cands {
            let r = self.rule(rid);
            if tier.is_some_and(|p| r[0] != p) {
                break;
            }
            let holds = r[9] == NONE || self.eval_node(r[9], &ctx);
            if holds {
                tier = Some(r[0]);
                matched.push(rid);
            }
        }
        // The matched rows are read in place: no per-rule vectors.
        let strings = |start: u32, len: u32| self.list(start, len).iter().map(|&s| self.s(s));
        let decision = reduce_tier(matched.iter().map(|&rid| {
            let r = self.rule(rid);
            Matched {
                name: self.s(r[3]),
                verdict: Verdict::ALL[r[1] as usize],
                reasons: strings(r[4], r[5]),
                violations: strings(r[6], r[7]),
                approvals: (r[2] != 0).then_some(r[2]),
            }
        }));
        scratch.matched = matched;
        decision.unwrap_or_else(|| default_decision(self.default_verdict))
    }

    pub(super) fn match_values(&self, intent: &Intent, sc: &mut Scratch) {
        sc.pids.clear();
        sc.spans.resize_with(matcher::COUNT, Vec::new);
        for s in &mut sc.spans {
            s.clear();
        }
        let run = |sc: &mut Scratch, m: usize, value: &str| {
            let start = sc.pids.len() as u32;
            self.matchers[m].matches(value, &self.data.strings, &mut sc.pids);
            let len = sc.pids.len() as u32 - start;
            sc.spans[m].push((start, len));
        };
        run(sc, matcher::TOOL, &intent.tool);
        if let Some(v) = &intent.identity {
            run(sc, matcher::IDENTITY, v);
        }
        if let Some(v) = &intent.workspace {
            run(sc, matcher::WORKSPACE, path_key(v));
        }
        if let Some(skill) = &intent.skill {
            run(sc, matcher::SKILL_NAME, &skill.name);
            run(sc, matcher::SKILL_PUBLISHER, &skill.publisher);
            run(sc, matcher::SKILL_SOURCE, &skill.source);
        }
        for p in intent.paths() {
            run(sc, matcher::PATH, path_key(p));
        }
        for d in intent.domains() {
            run(sc, matcher::DOMAIN, d);
        }
        for c in intent.commands() {
            run(sc, matcher::COMMAND, c);
        }
        sc.markers.clear();
        if self.matchers[matcher::MARKERS].patterns > 0 {
            for s in &intent.arg_strings {
                self.matchers[matcher::MARKERS].matches(s, &self.data.strings, &mut sc.markers);
            }
            sc.markers.sort_unstable();
            sc.markers.dedup();
        }
    }

    fn collect_candidates(&self, intent: &Intent, facts: SkillFacts, sc: &mut Scratch) {
        sc.cands.clear();
        sc.cands.extend_from_slice(&self.data.unanchored);
        for m in 0..=matcher::COMMAND {
            for &(start, len) in &sc.spans[m] {
                for &p in &sc.pids[start as usize..(start + len) as usize] {
                    let (a, n) = self.matchers[m].posting(p);
                    sc.cands.extend_from_slice(self.list(a as u32, n as u32));
                }
            }
        }
        for &p in &sc.markers {
            let (a, n) = self.matchers[matcher::MARKERS].posting(p);
            sc.cands.extend_from_slice(self.list(a as u32, n as u32));
        }
        let enum_hit = |sc: &mut Scratch, e: usize, v: usize| {
            let i = (enums::base(e) + v) * 2;
            if let (Some(&a), Some(&n)) = (
                self.data.enum_postings.get(i),
                self.data.enum_postings.get(i + 1),
            ) {
                sc.cands.extend_from_slice(self.list(a, n));
            }
        };
        enum_hit(sc, enums::RISK, intent.risk.index());
        for t in &intent.targets {
            enum_hit(sc, enums::ENDPOINT, t.class.index());
            enum_hit(sc, enums::TARGET, t.kind.index());
        }
        for h in intent.host_classes() {
            enum_hit(sc, enums::HOST_CLASS, h.index());
        }
        for p in &intent.provenance {
            enum_hit(sc, enums::PROVENANCE, p.index());
        }
        let flag_values = [
            intent.destructive(),
            intent.skill.is_some(),
            facts.signed,
            facts.pinned,
            facts.verified(),
        ];
        for (f, on) in flag_values.into_iter().enumerate() {
            if on {
                let (a, n) = (
                    self.data.flag_postings[f * 2],
                    self.data.flag_postings[f * 2 + 1],
                );
                sc.cands.extend_from_slice(self.list(a, n));
            }
        }
        sc.cands.sort_unstable();
        sc.cands.dedup();
    }

    pub(super) fn eval_node(&self, id: u32, ctx: &Ctx<'_, '_>) -> bool {
        let i = id as usize * node::STRIDE;
        let Some(n) = self.data.nodes.get(i..i + node::STRIDE) else {
            return false;
        };
        match n[0] {
            node::AND => self
                .list(n[1], n[2])
                .iter()
                .all(|&c| self.eval_node(c, ctx)),
            node::OR => self
                .list(n[1], n[2])
                .iter()
                .any(|&c| self.eval_node(c, ctx)),
            node::NOT => !self.eval_node(n[1], ctx),
            _ => self.eval_atom(n[1], ctx),
        }
    }

    /// Whether a value (its matched pattern ids) is in value set `vs`.
    fn in_set(&self, vs: u32, pids: &[u32]) -> bool {
        let i = vs as usize * 2;
        let Some(rec) = self.data.valuesets.get(i..i + 2) else {
            return false;
        };
        let set = self.list(rec[0], rec[1]);
        pids.iter().any(|p| set.binary_search(p).is_ok())
    }

    pub(super) fn eval_atom(&self, id: u32, ctx: &Ctx<'_, '_>) -> bool {
        let i = id as usize * atom::STRIDE;
        let Some(a) = self.data.atoms.get(i..i + atom::STRIDE) else {
            return false;
        };
        let (kind, attr, quant_all, negated, arg) =
            (a[0], a[1] as usize, a[2] == 1, a[3] == 1, a[4]);
        let sc = ctx.scratch;
        let pids_of = |span: &(u32, u32)| &sc.pids[span.0 as usize..(span.0 + span.1) as usize];
        match kind {
            atom::SCALAR_SET => match sc.spans[attr].first() {
                // Skill attributes are false without skill provenance; other
                // missing scalars are "not in" every set.
                None => negated && attr < matcher::SKILL_NAME,
                Some(span) => self.in_set(arg, pids_of(span)) != negated,
            },
            atom::MULTI_SET => {
                let spans = &sc.spans[attr];
                let member = |span: &(u32, u32)| self.in_set(arg, pids_of(span)) != negated;
                if quant_all {
                    !spans.is_empty() && spans.iter().all(member)
                } else {
                    spans.iter().any(member)
                }
            }
            atom::SCALAR_ENUM => (arg >> ctx.intent.risk.index() & 1 == 1) != negated,
            atom::MULTI_ENUM => {
                let member = |v: usize| (arg >> v & 1 == 1) != negated;
                let t = &ctx.intent.targets;
                match attr {
                    enums::ENDPOINT => {
                        quantify(t.iter().map(|t| t.class.index()), quant_all, member)
                    }
                    enums::TARGET => quantify(t.iter().map(|t| t.kind.index()), quant_all, member),
                    enums::HOST_CLASS => quantify(
                        ctx.intent.host_classes().map(HostClass::index),
                        quant_all,
                        member,
                    ),
                    _ => quantify(
                        ctx.intent
                            .provenance
                            .iter()
                            .map(|p: &ProvenanceSource| p.index()),
                        quant_all,
                        member,
                    ),
                }
            }
            atom::FLAG => match arg {
                flags::DESTRUCTIVE => ctx.intent.destructive(),
                flags::SKILL => ctx.intent.skill.is_some(),
                flags::SIGNED => ctx.facts.signed,
                flags::PINNED => ctx.facts.pinned,
                _ => ctx.facts.verified(),
            },
            _ => {
                let i = arg as usize * 2;
                let Some(rec) = self.data.valuesets.get(i..i + 2) else {
                    return false;
                };
                let set = self.list(rec[0], rec[1]);
                sc.markers.iter().any(|p| set.binary_search(p).is_ok())
            }
        }
    }
}

/// `any`: some value satisfies `pred`; `all`: there is a value and every value does.
fn quantify(values: impl Iterator<Item = usize>, all: bool, pred: impl Fn(usize) -> bool) -> bool {
    if all {
        let mut any_value = false;
        for v in values {
            if !pred(v) {
                return false;
            }
            any_value = true;
        }
        any_value
    } else {
        values.into_iter().any(pred)
    }
}

/// The string a path is matched as: the root `/` is the empty string, so that
/// `/**` (zero or more segments) matches it.
pub fn path_key(p: &str) -> &str {
    if p == "/" {
        ""
    } else {
        p
    }
}
