#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test setup fails loudly"
)]
//! Every example policy's inline tests pass, through the compiled tables, and
//! the tables agree with the reference evaluator on each of them.

mod support;

#[test]
fn example_inline_tests_pass() {
    let root = support::repo().join("examples");
    let files = gaitc::cli::collect_files(&[root]).unwrap();
    let mut total = 0;
    let mut failures = Vec::new();
    for f in &files {
        let mut s = gaitc::check::Session::new();
        let id = s.load_path(f).unwrap();
        let Some(policy) = s.check(id).policy else {
            if s.modules[id].kind == gaitc::check::FileKind::Policy {
                failures.push(format!(
                    "{}: does not check: {:?}",
                    f.display(),
                    s.diagnostics()
                ));
            }
            continue;
        };
        let tables = gaitc::testing::tables_for(&policy).unwrap();
        let outcomes = gaitc::testing::run_tests(&policy, &tables);
        let c = gaitc::testing::coverage(&policy, &outcomes);
        if !c.uncovered_rules.is_empty() {
            failures.push(format!(
                "{}: inline tests do not exercise {:?}",
                f.display(),
                c.uncovered_rules
            ));
        }
        for o in outcomes {
            total += 1;
            if !o.passed {
                failures.push(format!(
                    "{} :: {}: {}",
                    f.display(),
                    o.name,
                    o.failures.join("; ")
                ));
            }
        }
    }
    assert!(total >= 50, "only {total} inline tests found");
    support::assert_no_failures(&failures, total);
}
