//! `gaitc test` (inline tests and `*.test.json` fixtures, coverage, JUnit
//! XML) and `gaitc test add` (a recorded decision becomes a fixture).

use super::paths::{collect_files, collect_fixtures, read_keys};
use crate::check::Session;
use crate::diag::render;
use crate::plumbing::{exit, fail, pretty_json, write_atomic};
use std::io::Write;
use std::path::{Path, PathBuf};

/// What `gaitc test` is asked to do.
#[derive(Debug, Default)]
pub struct TestArgs {
    pub paths: Vec<PathBuf>,
    pub junit: Option<PathBuf>,
    pub coverage: bool,
    /// Fail (exit 5) when rule coverage is below this percentage.
    pub min_coverage: Option<f64>,
}

struct SuiteResult {
    file: String,
    outcomes: Vec<crate::testing::TestOutcome>,
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// JUnit XML (the common `testsuites/testsuite/testcase/failure` shape).
pub fn junit_xml(suites: &[(String, Vec<crate::testing::TestOutcome>)]) -> String {
    let total: usize = suites.iter().map(|s| s.1.len()).sum();
    let failed: usize = suites
        .iter()
        .map(|s| s.1.iter().filter(|o| !o.passed).count())
        .sum();
    let mut x = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"gaitc test\" tests=\"{total}\" failures=\"{failed}\" errors=\"0\">\n");
    for (file, outcomes) in suites {
        let f = outcomes.iter().filter(|o| !o.passed).count();
        x.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{f}\" errors=\"0\" skipped=\"0\">\n",
            xml_escape(file),
            outcomes.len()
        ));
        for o in outcomes {
            x.push_str(&format!(
                "    <testcase classname=\"{}\" name=\"{}\" time=\"0\"",
                xml_escape(file),
                xml_escape(&o.name)
            ));
            if o.passed {
                x.push_str("/>\n");
            } else {
                let first = o.failures.first().map(String::as_str).unwrap_or("failed");
                x.push_str(&format!(
                    ">\n      <failure message=\"{}\" type=\"policy_test\">{}</failure>\n    </testcase>\n",
                    xml_escape(first),
                    xml_escape(&o.failures.join("\n"))
                ));
            }
        }
        x.push_str("  </testsuite>\n");
    }
    x.push_str("</testsuites>\n");
    x
}

/// `gaitc test [PATH...]`: exit 0 all pass, 5 failures (or coverage below
/// `--min-coverage`), 6 source errors.
pub fn test(args: &TestArgs, color: bool, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let (policies, fixtures) = match (collect_files(&paths), collect_fixtures(&paths)) {
        (Ok(p), Ok(f)) => (p, f),
        (Err(e), _) | (_, Err(e)) => return fail(err, e, exit::INVALID),
    };
    let mut source_errors = false;
    // Fixtures grouped by the policy they test.
    let mut by_policy: std::collections::BTreeMap<PathBuf, Vec<crate::testing::Fixture>> =
        std::collections::BTreeMap::new();
    for f in &fixtures {
        match crate::testing::load_fixture(f) {
            Ok(fx) => by_policy
                .entry(std::fs::canonicalize(&fx.policy).unwrap_or(fx.policy.clone()))
                .or_default()
                .push(fx),
            Err(e) => {
                let _ = writeln!(err, "error: {e}");
                source_errors = true;
            }
        }
    }
    let mut files: Vec<PathBuf> = policies.clone();
    for p in by_policy.keys() {
        if !policies
            .iter()
            .any(|q| std::fs::canonicalize(q).ok().as_ref() == Some(p))
        {
            files.push(p.clone());
        }
    }
    let mut suites: Vec<SuiteResult> = Vec::new();
    let mut coverage_total = crate::testing::Coverage::default();
    let mut coverage_lines = Vec::new();
    for file in &files {
        let mut s = Session::new();
        let id = match s.load_path(file) {
            Ok(id) => id,
            Err(e) => {
                let _ = writeln!(err, "error: {e}");
                source_errors = true;
                continue;
            }
        };
        let checked = s.check(id);
        if s.modules[id].kind == crate::check::FileKind::Module {
            continue;
        }
        let Some(policy) = checked.policy else {
            let diags: Vec<_> = s
                .diagnostics()
                .into_iter()
                .filter(|d| d.is_error())
                .collect();
            let _ = write!(err, "{}", render::text(&diags, &s.sources, false, color));
            let _ = writeln!(
                err,
                "error: {} has errors; its tests were not run",
                file.display()
            );
            source_errors = true;
            continue;
        };
        let tables = match crate::testing::tables_for(&policy) {
            Ok(t) => t,
            Err(e) => {
                let _ = writeln!(err, "error: {}: {e}", file.display());
                source_errors = true;
                continue;
            }
        };
        let mut outcomes = crate::testing::run_tests(&policy, &tables);
        let canonical = std::fs::canonicalize(file).unwrap_or(file.clone());
        let mut scratch = gait_run::tables::Scratch::default();
        for fx in by_policy.get(&canonical).into_iter().flatten() {
            let name = format!("{} ({})", fx.name, fx.path.display());
            outcomes.push(crate::testing::run_case(
                &policy,
                &tables,
                &name,
                Ok(fx.intent.clone()),
                &fx.expect,
                &mut scratch,
            ));
        }
        let display = file.display().to_string();
        for o in &outcomes {
            let _ = writeln!(
                out,
                "{} {display} :: {}",
                if o.passed { "ok  " } else { "FAIL" },
                o.name
            );
            for f in &o.failures {
                let _ = writeln!(out, "       {f}");
            }
        }
        let c = crate::testing::coverage(&policy, &outcomes);
        if args.coverage || args.min_coverage.is_some() {
            let mut line = format!(
                "coverage {display}: {}/{} rules, {}/{} tool mappings",
                c.rules_covered, c.rules, c.mappings_covered, c.mappings
            );
            let missing: Vec<String> = c
                .uncovered_rules
                .iter()
                .map(|r| format!("rule {r}"))
                .chain(
                    c.uncovered_mappings
                        .iter()
                        .map(|m| format!("tool mapping {m}")),
                )
                .collect();
            if !missing.is_empty() {
                line.push_str(&format!("; not exercised: {}", missing.join(", ")));
            }
            coverage_lines.push(line);
        }
        coverage_total.rules += c.rules;
        coverage_total.rules_covered += c.rules_covered;
        coverage_total.mappings += c.mappings;
        coverage_total.mappings_covered += c.mappings_covered;
        suites.push(SuiteResult {
            file: display,
            outcomes,
        });
    }
    let passed: usize = suites
        .iter()
        .map(|s| s.outcomes.iter().filter(|o| o.passed).count())
        .sum();
    let failed: usize = suites
        .iter()
        .map(|s| s.outcomes.iter().filter(|o| !o.passed).count())
        .sum();
    let percent = if coverage_total.rules == 0 {
        100.0
    } else {
        100.0 * coverage_total.rules_covered as f64 / coverage_total.rules as f64
    };
    for l in &coverage_lines {
        let _ = writeln!(out, "{l}");
    }
    if args.coverage || args.min_coverage.is_some() {
        let _ = writeln!(
            out,
            "coverage: {}/{} rules ({percent:.1}%), {}/{} tool mappings",
            coverage_total.rules_covered,
            coverage_total.rules,
            coverage_total.mappings_covered,
            coverage_total.mappings
        );
    }
    if let Some(path) = &args.junit {
        let pairs: Vec<(String, Vec<crate::testing::TestOutcome>)> = suites
            .iter()
            .map(|s| (s.file.clone(), s.outcomes.clone()))
            .collect();
        if let Err(e) = write_atomic(path, junit_xml(&pairs).as_bytes()) {
            return fail(
                err,
                format_args!("cannot write {}: {e}", path.display()),
                exit::INTERNAL,
            );
        }
    }
    let _ = writeln!(out, "{passed} passed, {failed} failed");
    if source_errors {
        return exit::INVALID;
    }
    if let Some(min) = args.min_coverage {
        if percent + 1e-9 < min {
            return fail(
                err,
                format_args!("rule coverage {percent:.1}% is below --min-coverage {min}"),
                exit::TEST_FAILED,
            );
        }
    }
    if failed > 0 {
        exit::TEST_FAILED
    } else {
        exit::OK
    }
}

/// `gaitc test add --from-trace TRACE --to FILE.test.json --trust PUB... --policy POLICY`:
/// a recorded decision (its signature verified first) becomes a fixture that
/// pins today's verdict and reasons.
pub fn test_add(
    trace_path: &Path,
    to: &Path,
    trust: &[PathBuf],
    policy: &Path,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let keys = match read_keys(trust, gait_run::keys::PublicKey::read) {
        Ok(keys) => keys,
        Err(e) => return fail(err, e, exit::INVALID),
    };
    // The strict reader, as `gait-run trace verify` reads it (a repeated
    // key is no trace).
    let trace: serde_json::Value = match std::fs::read(trace_path)
        .ok()
        .and_then(|b| gait_run::json::Json::parse_value(&b).ok())
    {
        Some(v) => v,
        None => {
            return fail(
                err,
                format_args!("{} is not a readable JSON trace", trace_path.display()),
                exit::INVALID,
            )
        }
    };
    if let Err(e) = gait_run::gate::verify_trace(&trace, &keys) {
        return fail(err, format_args!("{}: {}", e.code, e.message), exit::VERIFY);
    }
    let Some(intent) = trace.get("intent").filter(|i| i.is_object()) else {
        return fail(
            err,
            "the trace carries no intent (it was written by an older gait-run)",
            exit::INVALID,
        );
    };
    // A simulated decision pins what would have happened.
    let verdict = trace
        .get("simulated_verdict")
        .unwrap_or(&trace["verdict"])
        .clone();
    let reasons: Vec<serde_json::Value> = trace["reason_codes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| {
            r.as_str()
                .is_some_and(|r| r != "simulate_mode_non_enforcing" && !r.starts_with("simulated_"))
        })
        .cloned()
        .collect();
    let fixture_dir = to
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let policy_rel = match (
        std::fs::canonicalize(fixture_dir),
        std::fs::canonicalize(policy),
    ) {
        (Ok(d), Ok(p)) => crate::check::relative_path(&d, &p),
        _ => {
            return fail(
                err,
                format_args!(
                    "{} or the directory of {} does not exist",
                    policy.display(),
                    to.display()
                ),
                exit::INVALID,
            )
        }
    };
    let fixture = serde_json::json!({
        "name": format!("incident trace {}", trace["trace_id"].as_str().unwrap_or("")),
        "policy": policy_rel,
        "intent": intent,
        "expect": {"verdict": verdict, "reasons": reasons, "violations": trace["violations"]},
    });
    if let Err(e) = write_atomic(to, format!("{}\n", pretty_json(&fixture)).as_bytes()) {
        return fail(
            err,
            format_args!("cannot write {}: {e}", to.display()),
            exit::INTERNAL,
        );
    }
    let _ = writeln!(out, "wrote {} (expect {verdict})", to.display());
    exit::OK
}
