//! Running a policy's inline `test` blocks: each intent is normalized by the
//! runtime (with the policy's own tool mappings), decided by the compiled
//! tables, cross-checked against the reference evaluator, and compared with
//! the expectation.

use crate::check::model::{Policy, TestCase, TestIntent};
use gait_run::decision::Decision;
use gait_run::tables::{Scratch, TableData, Tables};

/// The outcome of one test.
#[derive(Debug, Clone)]
pub struct TestOutcome {
    pub name: String,
    pub passed: bool,
    /// What went wrong, one line each (empty when passed).
    pub failures: Vec<String>,
    pub decision: Option<Decision>,
}

/// Compiles a policy's tables (as a bundle payload would hold them).
pub fn tables_for(policy: &Policy) -> Result<Tables, String> {
    let data = crate::lower::lower(policy).map_err(|e| e.to_string())?;
    let decoded = TableData::decode(&data.encode()).map_err(|e| e.to_string())?;
    Tables::load(decoded).map_err(|e| e.to_string())
}

/// Runs every inline test of a checked policy.
pub fn run_tests(policy: &Policy, tables: &Tables) -> Vec<TestOutcome> {
    let mut scratch = Scratch::default();
    policy
        .tests
        .iter()
        .map(|t| run_one(policy, tables, t, &mut scratch))
        .collect()
}

fn run_one(policy: &Policy, tables: &Tables, t: &TestCase, scratch: &mut Scratch) -> TestOutcome {
    let fail = |msg: String| TestOutcome {
        name: t.name.clone(),
        passed: false,
        failures: vec![msg],
        decision: None,
    };
    let raw = match &t.intent {
        TestIntent::Inline(v) => v.clone(),
        TestIntent::File(path) => match std::fs::read(path) {
            Ok(bytes) => match gait_run::normalize::parse(&bytes) {
                Ok(v) => v,
                Err(e) => return fail(format!("intent file {path}: {e}")),
            },
            Err(e) => return fail(format!("cannot read intent file {path}: {e}")),
        },
    };
    let n = match gait_run::normalize::normalize(&raw, Some(tables)) {
        Ok(n) => n,
        Err(e) => {
            // An invalid intent is blocked with `intent_invalid`.
            let d = Decision {
                verdict: gait_run::vocab::Verdict::Block,
                reason_codes: vec!["intent_invalid".to_owned()],
                violations: vec!["intent_invalid".to_owned()],
                matched_rules: Vec::new(),
                kind: gait_run::decision::DecisionKind::FailClosed,
                required_approvals: 0,
            };
            let mut o = compare(t, d);
            if !o.passed {
                o.failures.push(format!("the intent is invalid: {e}"));
            }
            return o;
        }
    };
    let decision = tables.decide(&n.intent, scratch);
    let reference = crate::eval::evaluate(policy, &n.intent);
    let mut outcome = compare(t, decision.clone());
    if reference != decision {
        outcome.passed = false;
        outcome.failures.push(format!("internal: tables decided {decision:?} but the reference evaluator decided {reference:?}"));
    }
    outcome
}

fn compare(t: &TestCase, d: Decision) -> TestOutcome {
    let e = &t.expect;
    let mut failures = Vec::new();
    if d.verdict != e.verdict {
        failures.push(format!("expected verdict {}, got {}", e.verdict, d.verdict));
    }
    for r in &e.reasons {
        if !d.reason_codes.contains(r) {
            failures.push(format!("expected reason {r:?}, got {:?}", d.reason_codes));
        }
    }
    for v in &e.violations {
        if !d.violations.contains(v) {
            failures.push(format!("expected violation {v:?}, got {:?}", d.violations));
        }
    }
    if let Some(rule) = &e.rule {
        if !d.matched_rules.contains(rule) {
            failures.push(format!(
                "expected rule {rule} to match, matched {:?}",
                d.matched_rules
            ));
        }
    }
    TestOutcome {
        name: t.name.clone(),
        passed: failures.is_empty(),
        failures,
        decision: Some(d),
    }
}
