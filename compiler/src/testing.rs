//! Running policy tests: inline `test` blocks and `*.test.json` fixtures.
//! Each intent is normalized by the runtime (with the policy's own tool
//! mappings), decided by the compiled tables, cross-checked against the
//! reference evaluator, and compared with the expectation.

use crate::check::model::{Expectation, Policy, TestIntent};
use gait_run::decision::Decision;
use gait_run::tables::{Scratch, TableData, Tables};
use gait_run::vocab::Verdict;
use serde_json::Value;
use std::path::{Path, PathBuf};

/// The outcome of one test.
#[derive(Debug, Clone)]
pub struct TestOutcome {
    pub name: String,
    pub passed: bool,
    /// What went wrong, one line each (empty when passed).
    pub failures: Vec<String>,
    pub decision: Option<Decision<'static>>,
    /// The normalized tool name (for mapping coverage).
    pub tool: Option<String>,
}

/// A `*.test.json` fixture: `{"name"?, "policy", "intent", "expect": {"verdict",
/// "reasons"?, "violations"?, "rule"?}}`; `policy` is relative to the fixture.
#[derive(Debug, Clone)]
pub struct Fixture {
    pub name: String,
    pub path: PathBuf,
    pub policy: PathBuf,
    pub intent: Value,
    pub expect: Expectation,
}

/// Reads and validates a fixture file.
pub fn load_fixture(path: &Path) -> Result<Fixture, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    // The runtime's strict reader: a key repeated anywhere (in the intent
    // above all) is an error here as it is at the gate, never last-one-wins.
    let v: Value = gait_run::json::Json::parse_value(text.as_bytes())
        .map_err(|e| format!("{}: not JSON: {e}", path.display()))?;
    let field = |k: &str| {
        v.get(k)
            .ok_or_else(|| format!("{}: missing `{k}`", path.display()))
    };
    let policy = field("policy")?
        .as_str()
        .ok_or_else(|| format!("{}: `policy` must be a path", path.display()))?;
    let expect = field("expect")?;
    let verdict = expect
        .get("verdict")
        .and_then(Value::as_str)
        .and_then(Verdict::parse)
        .ok_or_else(|| {
            format!(
                "{}: `expect.verdict` must be allow, block, require_approval or dry_run",
                path.display()
            )
        })?;
    let strings = |k: &str| -> Result<Vec<String>, String> {
        match expect.get(k) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(items)) => items
                .iter()
                .map(|i| {
                    i.as_str()
                        .map(str::to_owned)
                        .ok_or_else(|| format!("{}: `expect.{k}` must be strings", path.display()))
                })
                .collect(),
            Some(_) => Err(format!("{}: `expect.{k}` must be a list", path.display())),
        }
    };
    let name = v
        .get("name")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| {
            path.file_name()
                .map(|f| {
                    f.to_string_lossy()
                        .trim_end_matches(".test.json")
                        .to_owned()
                })
                .unwrap_or_default()
        });
    Ok(Fixture {
        name,
        path: path.to_path_buf(),
        policy: path.parent().unwrap_or(Path::new(".")).join(policy),
        intent: field("intent")?.clone(),
        expect: Expectation {
            verdict,
            reasons: strings("reasons")?,
            violations: strings("violations")?,
            rule: expect
                .get("rule")
                .and_then(Value::as_str)
                .map(str::to_owned),
        },
    })
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
        .map(|t| {
            let raw = match &t.intent {
                TestIntent::Inline(v) => Ok(v.clone()),
                TestIntent::File(path) => {
                    match std::fs::read(path) {
                        Err(e) => Err(format!("cannot read intent file {path}: {e}")),
                        // An intent the gate cannot read is decided as the
                        // gate decides it: block, `intent_invalid`.
                        Ok(b) => match gait_run::normalize::parse(&b) {
                            Ok(v) => Ok(v),
                            Err(e) => return invalid_case(&t.name, &t.expect, &e),
                        },
                    }
                }
            };
            run_case(policy, tables, &t.name, raw, &t.expect, &mut scratch)
        })
        .collect()
}

/// An invalid intent is blocked with `intent_invalid`, as at the gate.
fn invalid_case(
    name: &str,
    expect: &Expectation,
    e: &gait_run::normalize::IntentError,
) -> TestOutcome {
    let mut o = compare(name, expect, gait_run::decision::intent_invalid(), None);
    if !o.passed {
        o.failures.push(format!("the intent is invalid: {e}"));
    }
    o
}

/// Runs one case: an intent (or the error reading it) against an expectation.
pub fn run_case(
    policy: &Policy,
    tables: &Tables,
    name: &str,
    raw: Result<Value, String>,
    expect: &Expectation,
    scratch: &mut Scratch,
) -> TestOutcome {
    let raw = match raw {
        Ok(v) => v,
        Err(e) => {
            return TestOutcome {
                name: name.to_owned(),
                passed: false,
                failures: vec![e],
                decision: None,
                tool: None,
            }
        }
    };
    let n = match gait_run::normalize::normalize(&raw, Some(tables)) {
        Ok(n) => n,
        Err(e) => return invalid_case(name, expect, &e),
    };
    let decision = n.decide(|i| tables.decide(i, scratch));
    let reference = n.decide(|i| crate::eval::evaluate(policy, i));
    let mut outcome = compare(
        name,
        expect,
        decision.clone(),
        Some(n.intent.tool.to_string()),
    );
    if reference != decision {
        outcome.passed = false;
        outcome.failures.push(format!("internal: tables decided {decision:?} but the reference evaluator decided {reference:?}"));
    }
    if !outcome.passed {
        // The explain data of the deciding rules: the answer to "why".
        for r in tables.explain(&n.intent, 2, scratch) {
            let atoms: Vec<String> = r
                .atoms
                .iter()
                .map(|(t, held)| format!("{} {t}", if *held { "[held]" } else { "[failed]" }))
                .collect();
            outcome.failures.push(format!(
                "  rule {} (priority {}, {}): {}{}{}",
                r.name,
                r.priority,
                r.verdict,
                if r.matched {
                    "matched"
                } else {
                    "did not match"
                },
                if atoms.is_empty() { "" } else { " — " },
                atoms.join("; ")
            ));
        }
    }
    outcome
}

fn compare(name: &str, e: &Expectation, d: Decision<'_>, tool: Option<String>) -> TestOutcome {
    let mut failures = Vec::new();
    if d.verdict != e.verdict {
        failures.push(format!("expected verdict {}, got {}", e.verdict, d.verdict));
    }
    // Every expected code must be there (others may be too).
    for (what, expected, got) in [
        ("reasons", &e.reasons, &d.reason_codes),
        ("violations", &e.violations, &d.violations),
    ] {
        if expected.iter().any(|c| !got.iter().any(|g| g == c)) {
            failures.push(format!("expected {what} {expected:?}, got {got:?}"));
        }
    }
    if let Some(rule) = &e.rule {
        if !d.matched_rules.iter().any(|m| m == rule) {
            failures.push(format!(
                "expected rule {rule} to match, matched {:?}",
                d.matched_rules
            ));
        }
    }
    TestOutcome {
        name: name.to_owned(),
        passed: failures.is_empty(),
        failures,
        decision: Some(d.into_owned()),
        tool,
    }
}

/// Which rules and tool mappings of a policy no test exercised.
#[derive(Debug, Clone, Default)]
pub struct Coverage {
    pub rules: usize,
    pub rules_covered: usize,
    pub uncovered_rules: Vec<String>,
    pub mappings: usize,
    pub mappings_covered: usize,
    pub uncovered_mappings: Vec<String>,
}

/// A rule is exercised when some test's decision lists it among the matched
/// rules; a mapping when some test calls one of its tools.
pub fn coverage(policy: &Policy, outcomes: &[TestOutcome]) -> Coverage {
    let mut c = Coverage::default();
    for r in &policy.rules {
        c.rules += 1;
        if outcomes.iter().any(|o| {
            o.decision
                .as_ref()
                .is_some_and(|d| d.matched_rules.iter().any(|m| *m == r.name))
        }) {
            c.rules_covered += 1;
        } else {
            c.uncovered_rules.push(r.name.clone());
        }
    }
    for m in &policy.mappings {
        c.mappings += 1;
        let hit = outcomes
            .iter()
            .filter_map(|o| o.tool.as_deref())
            .any(|tool| {
                m.tools
                    .iter()
                    .any(|g| crate::check::literals::star_match(g, tool))
            });
        if hit {
            c.mappings_covered += 1;
        } else {
            c.uncovered_mappings.push(m.tools.join(", "));
        }
    }
    c
}
