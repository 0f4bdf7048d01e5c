//! The outcome of evaluating one intent (language.md §6).

use crate::vocab::Verdict;
use smallvec::SmallVec;
use std::borrow::Cow;

/// The reason codes, violations or rule names of a decision, sorted and
/// unique: borrowed from the bundle's string table (or the policy, or the
/// runtime's own codes), kept inline up to four — a decision on the common
/// path allocates nothing for them.
pub type Codes<'b> = SmallVec<[Cow<'b, str>; 4]>;

/// The same codes, owned (of any lifetime).
pub fn owned_codes<'x>(c: Codes<'_>) -> Codes<'x> {
    c.into_iter().map(|c| Cow::Owned(c.into_owned())).collect()
}

/// How the verdict was reached (IAM-style explicit vs implicit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecisionKind {
    /// A rule of the deciding tier.
    Rule,
    /// No rule matched: the policy's default.
    Default,
    /// Blocked before any rule ran.
    FailClosed,
}

impl DecisionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DecisionKind::Rule => "rule",
            DecisionKind::Default => "default",
            DecisionKind::FailClosed => "fail_closed",
        }
    }
}

/// A decision; `'b` is the lifetime of the bundle (or policy) its codes
/// borrow from ([`Decision::into_owned`] detaches one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision<'b> {
    pub verdict: Verdict,
    /// Sorted, unique.
    pub reason_codes: Codes<'b>,
    /// Sorted, unique.
    pub violations: Codes<'b>,
    /// Every matching rule of the deciding tier, sorted.
    pub matched_rules: Codes<'b>,
    pub kind: DecisionKind,
    /// Approvals required (0 unless the verdict is `require_approval`).
    pub required_approvals: u32,
}

impl Decision<'_> {
    /// The same decision, owning its codes (of any lifetime).
    pub fn into_owned<'x>(self) -> Decision<'x> {
        Decision {
            verdict: self.verdict,
            reason_codes: owned_codes(self.reason_codes),
            violations: owned_codes(self.violations),
            matched_rules: owned_codes(self.matched_rules),
            kind: self.kind,
            required_approvals: self.required_approvals,
        }
    }
}

/// Skill facts derived from the policy's trust and pin tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SkillFacts {
    pub signed: bool,
    pub pinned: bool,
}

impl SkillFacts {
    pub fn verified(self) -> bool {
        self.signed && self.pinned
    }
}

/// The fail-closed step (language.md §6.1), shared by every evaluator so the
/// reference and the tables cannot differ on it. Returns the block decision
/// when the intent must be blocked before any rule runs: at the policy's
/// fail-closed risk classes for missing fields, and at every risk class for a
/// dynamic command line (`command_dynamic`).
pub fn fail_closed<'b>(
    intent: &crate::intent::Intent,
    risk_classes: &[crate::vocab::Risk],
    require: &[&str],
) -> Option<Decision<'b>> {
    let mut reasons = Codes::new();
    let mut violations = Codes::new();
    // A command line whose programs runtime data can choose cannot be
    // judged at any risk class (issue 14): no rule sees it.
    let dynamic = intent
        .targets
        .iter()
        .any(|t| t.programs.iter().any(|p| p == crate::command::DYNAMIC));
    if dynamic {
        reasons.push(Cow::Borrowed("command_dynamic"));
        violations.push(Cow::Borrowed("command_dynamic"));
    }
    if risk_classes.contains(&intent.risk) {
        missing_fields(intent, require, &mut reasons, &mut violations);
    }
    if reasons.is_empty() {
        return None;
    }
    reasons.sort_unstable();
    reasons.dedup();
    violations.sort_unstable();
    violations.dedup();
    Some(Decision {
        verdict: Verdict::Block,
        reason_codes: reasons,
        violations,
        matched_rules: Codes::new(),
        kind: DecisionKind::FailClosed,
        required_approvals: 0,
    })
}

/// The fields a fail-closed risk class requires that the intent lacks, and
/// an unknown endpoint class (language.md §6.1).
fn missing_fields(
    intent: &crate::intent::Intent,
    require: &[&str],
    reasons: &mut Codes<'_>,
    violations: &mut Codes<'_>,
) {
    use crate::vocab::EndpointClass;
    let some_other = intent
        .targets
        .iter()
        .any(|t| t.class == EndpointClass::Other);
    for field in require {
        let missing = match *field {
            "targets" => intent.targets.is_empty(),
            "arg_provenance" => intent.provenance.is_empty(),
            "endpoint_class" => some_other,
            "skill_provenance" => intent.skill.is_none(),
            "identity" => intent.identity.as_deref().is_none_or(str::is_empty),
            _ => false,
        };
        let codes = crate::vocab::FAIL_CLOSED_FIELDS
            .iter()
            .position(|f| f == field)
            .and_then(|i| crate::vocab::FAIL_CLOSED_CODES.get(i));
        if let (true, Some(&(reason, violation))) = (missing, codes) {
            reasons.push(Cow::Borrowed(reason));
            violations.push(Cow::Borrowed(violation));
        }
    }
    if some_other || intent.targets.is_empty() {
        reasons.push(Cow::Borrowed("fail_closed_endpoint_class_unknown"));
        violations.push(Cow::Borrowed("endpoint_class_unknown"));
    }
}

/// Of two decisions on readings of one intent, the most restrictive
/// (`allow < dry_run < require_approval < block`); on a tie, the more
/// explicit (fail-closed, then a rule, then the default), then the first.
/// Two `require_approval` decisions are merged instead: the approval asked
/// must satisfy both readings' rules (every matching rule, so the approvers
/// allowed by all and interactive only if all are; the larger count), not
/// the weaker terms of one of them.
pub fn most_restrictive<'b>(first: Decision<'b>, second: Decision<'b>) -> Decision<'b> {
    if first.verdict == Verdict::RequireApproval && second.verdict == Verdict::RequireApproval {
        return merge_approvals(first, second);
    }
    let rank = |d: &Decision| (d.verdict, explicitness(d.kind));
    if rank(&second) > rank(&first) {
        second
    } else {
        first
    }
}

/// Two `require_approval` decisions as one that asks what both ask.
fn merge_approvals<'b>(mut first: Decision<'b>, second: Decision<'b>) -> Decision<'b> {
    let union = |mut a: Codes<'b>, b: Codes<'b>| {
        a.extend(b);
        a.sort_unstable();
        a.dedup();
        a
    };
    first.reason_codes = union(first.reason_codes, second.reason_codes);
    first.violations = union(first.violations, second.violations);
    first.matched_rules = union(first.matched_rules, second.matched_rules);
    first.required_approvals = first.required_approvals.max(second.required_approvals);
    if explicitness(second.kind) > explicitness(first.kind) {
        first.kind = second.kind;
    }
    first
}

/// Fail-closed is more explicit than a rule, a rule than the default.
fn explicitness(k: DecisionKind) -> u8 {
    match k {
        DecisionKind::Default => 0,
        DecisionKind::Rule => 1,
        DecisionKind::FailClosed => 2,
    }
}

/// One matching rule of the deciding tier, as the tier reduction sees it.
/// Its reasons and violations are any cloneable sequence of strings (a
/// vector, or the tables' string ids read in place).
#[derive(Clone)]
pub struct Matched<'a, S = Vec<&'a str>> {
    pub name: &'a str,
    pub verdict: Verdict,
    pub reasons: S,
    pub violations: S,
    pub approvals: Option<u32>,
}

/// Reduces the matching rules of the deciding tier to a decision
/// (language.md §6.2–3): most restrictive verdict; reasons and violations of
/// the rules with that verdict; every matching rule listed. The rules are
/// walked three times (a cloneable iterator: the tables pass one that
/// reads their rows in place, without collecting them).
pub fn reduce_tier<'a, S, I>(matched: I) -> Option<Decision<'a>>
where
    S: IntoIterator<Item = &'a str> + Clone,
    I: IntoIterator<Item = Matched<'a, S>>,
    I::IntoIter: Clone,
{
    let matched = matched.into_iter();
    let verdict = matched.clone().map(|m| m.verdict).max()?;
    let mut reasons = Codes::new();
    let mut violations = Codes::new();
    let mut approvals = 0u32;
    for m in matched.clone().filter(|m| m.verdict == verdict) {
        let start = reasons.len();
        reasons.extend(m.reasons.into_iter().map(Cow::Borrowed));
        if reasons.len() == start {
            reasons.push(Cow::Owned(format!("matched_rule_{}", m.name)));
        }
        violations.extend(m.violations.into_iter().map(Cow::Borrowed));
        if verdict == Verdict::RequireApproval {
            approvals = approvals.max(m.approvals.unwrap_or(1));
        }
    }
    reasons.sort_unstable();
    reasons.dedup();
    violations.sort_unstable();
    violations.dedup();
    let mut names: Codes<'a> = matched.map(|m| Cow::Borrowed(m.name)).collect();
    names.sort_unstable();
    names.dedup();
    Some(Decision {
        verdict,
        reason_codes: reasons,
        violations,
        matched_rules: names,
        kind: DecisionKind::Rule,
        required_approvals: approvals,
    })
}

/// The decision for an intent that cannot be normalized: never evaluated, blocked.
pub fn intent_invalid<'b>() -> Decision<'b> {
    Decision {
        verdict: Verdict::Block,
        reason_codes: Codes::from_iter([Cow::Borrowed("intent_invalid")]),
        violations: Codes::from_iter([Cow::Borrowed("intent_invalid")]),
        matched_rules: Codes::new(),
        kind: DecisionKind::FailClosed,
        required_approvals: 0,
    }
}

/// The decision when no rule matched.
pub fn default_decision<'b>(verdict: Verdict) -> Decision<'b> {
    let code = match verdict {
        Verdict::Allow => "default_allow",
        Verdict::Block => "default_block",
        Verdict::RequireApproval => "default_require_approval",
        Verdict::DryRun => "default_dry_run",
    };
    Decision {
        verdict,
        reason_codes: Codes::from_iter([Cow::Borrowed(code)]),
        violations: Codes::new(),
        matched_rules: Codes::new(),
        kind: DecisionKind::Default,
        required_approvals: u32::from(verdict == Verdict::RequireApproval),
    }
}

/// Hand-computed answers of language.md §6.1–3: the reference evaluator
/// shares these functions with the tables, so differential tests cannot
/// catch a mistake in them; these can.
#[cfg(test)]
mod tests {
    use super::*;
    use crate::intent::{Intent, Target};
    use crate::vocab::{EndpointClass, ProvenanceSource, Risk, TargetKind};

    fn m<'a>(
        name: &'a str,
        verdict: Verdict,
        reasons: &[&'a str],
        approvals: Option<u32>,
    ) -> Matched<'a> {
        Matched {
            name,
            verdict,
            reasons: reasons.to_vec(),
            violations: reasons.iter().map(|_| "v").chain([name]).collect(),
            approvals,
        }
    }

    #[test]
    fn the_most_restrictive_verdict_of_the_tier_wins() {
        let d = reduce_tier([
            m("a", Verdict::Allow, &["ok"], None),
            m("d", Verdict::DryRun, &["try"], None),
            m("r", Verdict::RequireApproval, &["ask"], Some(2)),
            m("b", Verdict::Block, &["no", "never"], None),
            m("b2", Verdict::Block, &[], None),
        ])
        .unwrap();
        assert_eq!(d.verdict, Verdict::Block);
        // Reasons and violations of the block rules only; a rule without a
        // reason contributes `matched_rule_NAME`.
        assert_eq!(
            d.reason_codes.as_slice(),
            ["matched_rule_b2", "never", "no"]
        );
        assert_eq!(d.violations.as_slice(), ["b", "b2", "v"]);
        // Every matching rule of the tier, sorted.
        assert_eq!(d.matched_rules.as_slice(), ["a", "b", "b2", "d", "r"]);
        assert_eq!(d.required_approvals, 0);
        assert_eq!(d.kind, DecisionKind::Rule);
        assert_eq!(reduce_tier(Vec::<Matched>::new()), None);
    }

    #[test]
    fn approvals_are_the_maximum_over_the_approval_rules_default_one() {
        let d = reduce_tier([
            m("r1", Verdict::RequireApproval, &["x"], None),
            m("r3", Verdict::RequireApproval, &["y"], Some(3)),
            m("r2", Verdict::RequireApproval, &["x"], Some(2)),
            m("a", Verdict::DryRun, &["z"], None),
        ])
        .unwrap();
        assert_eq!(d.verdict, Verdict::RequireApproval);
        assert_eq!(d.required_approvals, 3);
        assert_eq!(d.reason_codes.as_slice(), ["x", "y"]);
        let one = reduce_tier([m("r", Verdict::RequireApproval, &["x"], None)]).unwrap();
        assert_eq!(one.required_approvals, 1);
        assert_eq!(
            reduce_tier([
                m("d", Verdict::DryRun, &[], None),
                m("a", Verdict::Allow, &[], None)
            ])
            .unwrap()
            .reason_codes
            .as_slice(),
            ["matched_rule_d"]
        );
    }

    fn target(class: EndpointClass) -> Target<'static> {
        Target {
            kind: TargetKind::Other,
            value: "x".into(),
            operation: None,
            class,
            destructive: false,
            host: None,
            programs: Vec::new(),
        }
    }

    #[test]
    fn a_dynamic_command_blocks_at_every_risk_class() {
        let mut exec = target(EndpointClass::ProcExec);
        exec.programs = vec![crate::command::DYNAMIC.to_owned(), "echo".to_owned()];
        for risk in [Risk::Low, Risk::Medium, Risk::High, Risk::Critical] {
            let intent = Intent {
                risk,
                targets: smallvec::smallvec![exec.clone()],
                ..Intent::default()
            };
            let d = fail_closed(&intent, &[Risk::High, Risk::Critical], &[]).unwrap();
            assert_eq!(d.verdict, Verdict::Block);
            assert_eq!(d.kind, DecisionKind::FailClosed);
            assert_eq!(d.reason_codes.as_slice(), ["command_dynamic"]);
            assert_eq!(d.violations.as_slice(), ["command_dynamic"]);
        }
        // Reported together with the fields missing at a listed risk.
        let high = Intent {
            risk: Risk::High,
            targets: smallvec::smallvec![exec.clone()],
            ..Intent::default()
        };
        let d = fail_closed(&high, &[Risk::High], &["arg_provenance"]).unwrap();
        assert_eq!(
            d.reason_codes.as_slice(),
            ["command_dynamic", "fail_closed_missing_arg_provenance"]
        );
        // A command whose programs are known is left to the rules.
        exec.programs = vec!["echo".to_owned()];
        let low = Intent {
            risk: Risk::Low,
            targets: smallvec::smallvec![exec],
            ..Intent::default()
        };
        assert_eq!(fail_closed(&low, &[Risk::High], &[]), None);
    }

    #[test]
    fn fail_closed_names_every_missing_field_at_a_listed_risk() {
        let all = [
            "targets",
            "arg_provenance",
            "endpoint_class",
            "skill_provenance",
            "identity",
        ];
        let bare = Intent {
            risk: Risk::High,
            ..Intent::default()
        };
        let d = fail_closed(&bare, &[Risk::High, Risk::Critical], &all).unwrap();
        assert_eq!(d.verdict, Verdict::Block);
        assert_eq!(d.kind, DecisionKind::FailClosed);
        assert_eq!(
            d.reason_codes.as_slice(),
            [
                "fail_closed_endpoint_class_unknown",
                "fail_closed_missing_arg_provenance",
                "fail_closed_missing_identity",
                "fail_closed_missing_skill_provenance",
                "fail_closed_missing_targets",
            ]
        );
        // Not at a listed risk: nothing.
        let low = Intent {
            risk: Risk::Low,
            ..Intent::default()
        };
        assert_eq!(fail_closed(&low, &[Risk::High], &all), None);
        // Everything present and classified: nothing, even at a listed risk.
        let complete = Intent {
            risk: Risk::High,
            identity: Some("bot".into()),
            targets: smallvec::smallvec![target(EndpointClass::FsRead)],
            provenance: smallvec::smallvec![ProvenanceSource::User],
            skill: Some(Default::default()),
            ..Intent::default()
        };
        assert_eq!(fail_closed(&complete, &[Risk::High], &all), None);
        // One target of class `other` is an unknown endpoint class, required or not.
        let other = Intent {
            targets: smallvec::smallvec![
                target(EndpointClass::FsRead),
                target(EndpointClass::Other)
            ],
            ..complete.clone()
        };
        let d = fail_closed(&other, &[Risk::High], &["targets"]).unwrap();
        assert_eq!(
            d.reason_codes.as_slice(),
            ["fail_closed_endpoint_class_unknown"]
        );
        assert_eq!(d.violations.as_slice(), ["endpoint_class_unknown"]);
        let d = fail_closed(&other, &[Risk::High], &["endpoint_class"]).unwrap();
        assert_eq!(
            d.reason_codes.as_slice(),
            [
                "fail_closed_endpoint_class_unknown",
                "fail_closed_missing_endpoint_class"
            ]
        );
        // An empty identity is missing.
        let empty_identity = Intent {
            identity: Some("".into()),
            ..complete
        };
        assert_eq!(
            fail_closed(&empty_identity, &[Risk::High], &["identity"])
                .unwrap()
                .reason_codes
                .as_slice(),
            ["fail_closed_missing_identity"]
        );
    }

    #[test]
    fn defaults_and_invalid_intents() {
        let d = default_decision(Verdict::Block);
        assert_eq!(d.reason_codes.as_slice(), ["default_block"]);
        assert_eq!((d.kind, d.required_approvals), (DecisionKind::Default, 0));
        assert_eq!(
            default_decision(Verdict::RequireApproval).required_approvals,
            1
        );
        assert_eq!(
            default_decision(Verdict::Allow).reason_codes.as_slice(),
            ["default_allow"]
        );
        let i = intent_invalid();
        assert_eq!(
            (i.verdict, i.kind),
            (Verdict::Block, DecisionKind::FailClosed)
        );
        assert_eq!(i.reason_codes.as_slice(), ["intent_invalid"]);
        // The default's code is `default_<verdict>` for every verdict.
        for v in Verdict::ALL {
            assert_eq!(
                default_decision(*v).reason_codes.as_slice(),
                [format!("default_{v}")]
            );
        }
    }
}
