//! The outcome of evaluating one intent (language.md §6).

use crate::vocab::Verdict;

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

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub verdict: Verdict,
    /// Sorted, unique.
    pub reason_codes: Vec<String>,
    /// Sorted, unique.
    pub violations: Vec<String>,
    /// Every matching rule of the deciding tier, sorted.
    pub matched_rules: Vec<String>,
    pub kind: DecisionKind,
    /// Approvals required (0 unless the verdict is `require_approval`).
    pub required_approvals: u32,
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
/// when the intent must be blocked before any rule runs.
pub fn fail_closed(
    intent: &crate::intent::Intent,
    risk_classes: &[crate::vocab::Risk],
    require: &[&str],
) -> Option<Decision> {
    use crate::vocab::EndpointClass;
    if !risk_classes.contains(&intent.risk) {
        return None;
    }
    let mut reasons = Vec::new();
    let mut violations = Vec::new();
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
        if missing {
            reasons.push(format!("fail_closed_missing_{field}"));
            violations.push(format!("missing_{field}"));
        }
    }
    if some_other || intent.targets.is_empty() {
        reasons.push("fail_closed_endpoint_class_unknown".to_owned());
        violations.push("endpoint_class_unknown".to_owned());
    }
    if reasons.is_empty() {
        return None;
    }
    reasons.sort();
    reasons.dedup();
    violations.sort();
    violations.dedup();
    Some(Decision {
        verdict: Verdict::Block,
        reason_codes: reasons,
        violations,
        matched_rules: Vec::new(),
        kind: DecisionKind::FailClosed,
        required_approvals: 0,
    })
}

/// One matching rule of the deciding tier, as the tier reduction sees it.
pub struct Matched<'a> {
    pub name: &'a str,
    pub verdict: Verdict,
    pub reasons: Vec<&'a str>,
    pub violations: Vec<&'a str>,
    pub approvals: Option<u32>,
}

/// Reduces the matching rules of the deciding tier to a decision
/// (language.md §6.2–3): most restrictive verdict; reasons and violations of
/// the rules with that verdict; every matching rule listed.
pub fn reduce_tier<'a>(matched: impl IntoIterator<Item = Matched<'a>>) -> Option<Decision> {
    let matched: Vec<Matched<'a>> = matched.into_iter().collect();
    let verdict = matched.iter().map(|m| m.verdict).max()?;
    let mut reasons = Vec::new();
    let mut violations = Vec::new();
    let mut approvals = 0u32;
    for m in matched.iter().filter(|m| m.verdict == verdict) {
        if m.reasons.is_empty() {
            reasons.push(format!("matched_rule_{}", m.name));
        } else {
            reasons.extend(m.reasons.iter().map(|s| (*s).to_owned()));
        }
        violations.extend(m.violations.iter().map(|s| (*s).to_owned()));
        if verdict == Verdict::RequireApproval {
            approvals = approvals.max(m.approvals.unwrap_or(1));
        }
    }
    reasons.sort();
    reasons.dedup();
    violations.sort();
    violations.dedup();
    let mut names: Vec<String> = matched.iter().map(|m| m.name.to_owned()).collect();
    names.sort();
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
pub fn intent_invalid() -> Decision {
    Decision {
        verdict: Verdict::Block,
        reason_codes: vec!["intent_invalid".to_owned()],
        violations: vec!["intent_invalid".to_owned()],
        matched_rules: Vec::new(),
        kind: DecisionKind::FailClosed,
        required_approvals: 0,
    }
}

/// The decision when no rule matched.
pub fn default_decision(verdict: Verdict) -> Decision {
    Decision {
        verdict,
        reason_codes: vec![format!("default_{verdict}")],
        violations: Vec::new(),
        matched_rules: Vec::new(),
        kind: DecisionKind::Default,
        required_approvals: u32::from(verdict == Verdict::RequireApproval),
    }
}
