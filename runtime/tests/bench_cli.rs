#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test setup fails loudly"
)]
//! `gait-run bench`: a report per endpoint class and per stage, with ordered
//! percentiles.
//! (No timing thresholds here: budgets belong to the SLO harness.)

use std::path::Path;
use std::process::Command;

#[test]
fn bench_reports_percentiles_per_endpoint_class() {
    let f = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let dir = tempfile::tempdir().unwrap();
    let report = dir.path().join("perf.json");
    let out = Command::new(env!("CARGO_BIN_EXE_gait-run"))
        .args(["bench", "--bundle"])
        .arg(f.join("matrix.gaitb"))
        .arg("--trust")
        .arg(f.join("test.pub"))
        .args(["--iterations", "50", "--report"])
        .arg(&report)
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let r: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(r["schema_id"], "gait.perf.eval_report");
    assert_eq!(r["iterations"], 50);
    for class in [
        "fs.read",
        "fs.write",
        "fs.delete",
        "proc.exec",
        "net.http",
        "net.dns",
    ] {
        let c = &r["classes"][class];
        assert_eq!(c["samples"], 50, "{class}: {r:#}");
        let (p50, p95, p99, max) = (
            c["p50_ns"].as_u64().unwrap(),
            c["p95_ns"].as_u64().unwrap(),
            c["p99_ns"].as_u64().unwrap(),
            c["max_ns"].as_u64().unwrap(),
        );
        assert!(
            p50 > 0 && p50 <= p95 && p95 <= p99 && p99 <= max,
            "{class}: {c}"
        );
    }
    assert_eq!(r["overall"]["samples"], 300);
    // Each class's stages, each timed as many times, in order.
    for class in ["fs.read", "proc.exec", "net.http"] {
        let stages = r["stages"][class].as_object().unwrap();
        let names: Vec<&str> = stages.keys().map(String::as_str).collect();
        assert_eq!(names, ["read", "normalize", "digest", "decide", "write"]);
        for (name, s) in stages {
            assert_eq!(s["samples"], 50, "{class} {name}");
            assert!(s["p50_ns"].as_u64().unwrap() <= s["max_ns"].as_u64().unwrap());
        }
    }
    // The report is validated against schemas/v1/perf_eval_report.schema.json in compiler/tests/schemas.rs.
    // Bad inputs.
    let bad = Command::new(env!("CARGO_BIN_EXE_gait-run"))
        .args(["bench", "--bundle"])
        .arg(f.join("matrix.gaitb"))
        .arg("--trust")
        .arg(f.join("test.pub"))
        .args(["--iterations", "0"])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(6));
    let empty = tempfile::tempdir().unwrap();
    let none = Command::new(env!("CARGO_BIN_EXE_gait-run"))
        .args(["bench", "--bundle"])
        .arg(f.join("matrix.gaitb"))
        .arg("--trust")
        .arg(f.join("test.pub"))
        .arg("--intents")
        .arg(empty.path())
        .output()
        .unwrap();
    assert_eq!(none.status.code(), Some(6));
}
