//! The sidecar's counters and their Prometheus text exposition (format
//! 0.0.4). Small and fixed: every label value is known in advance, so the
//! counters are plain atomics and nothing allocates per request.

use gait_run::bundle::Verified;
use gait_run::vocab::EndpointClass;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// Verdict labels, in the order of the counters' first index.
const VERDICTS: [&str; 4] = ["allow", "block", "require_approval", "dry_run"];
/// Upper bounds (seconds) of the latency histogram's buckets.
const BUCKETS: [f64; 14] = [
    0.000_025, 0.000_05, 0.000_1, 0.000_25, 0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1,
    0.25, 1.0,
];
/// The approval step's outcomes (`approval.code` of a result).
const APPROVALS: [&str; 4] = [
    "approval_granted",
    "approval_insufficient",
    "approval_distinct_approvers_required",
    "approval_store_unavailable",
];
/// HTTP statuses the sidecar answers with (anything else counts as `other`).
const STATUSES: [u16; 9] = [200, 400, 401, 404, 405, 408, 413, 415, 500];

fn class_count() -> usize {
    EndpointClass::ALL.len() + 1 // + "none": a decision with no target
}

fn class_label(i: usize) -> &'static str {
    EndpointClass::ALL.get(i).map_or("none", |c| c.as_str())
}

#[derive(Debug)]
pub struct Metrics {
    /// `[verdict][endpoint class or none]`.
    decisions: Vec<AtomicU64>,
    buckets: [AtomicU64; BUCKETS.len()],
    latency_count: AtomicU64,
    latency_sum_ns: AtomicU64,
    reload_success: AtomicU64,
    reload_failure: AtomicU64,
    http: [AtomicU64; STATUSES.len() + 1],
    approvals: [AtomicU64; APPROVALS.len()],
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics {
            decisions: (0..VERDICTS.len() * class_count())
                .map(|_| AtomicU64::new(0))
                .collect(),
            buckets: std::array::from_fn(|_| AtomicU64::new(0)),
            latency_count: AtomicU64::new(0),
            latency_sum_ns: AtomicU64::new(0),
            reload_success: AtomicU64::new(0),
            reload_failure: AtomicU64::new(0),
            http: std::array::from_fn(|_| AtomicU64::new(0)),
            approvals: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }
}

impl Metrics {
    /// Counts one decision: once per endpoint class of the result (or once
    /// under `none`), and its latency.
    pub fn decision(&self, verdict: &str, classes: &[&str], latency: Duration) {
        // An unknown verdict cannot come from the gate; count it as block.
        let v = VERDICTS.iter().position(|x| *x == verdict).unwrap_or(1);
        let cc = class_count();
        if classes.is_empty() {
            self.decisions[v * cc + cc - 1].fetch_add(1, Relaxed);
        }
        for c in classes {
            let i = EndpointClass::ALL
                .iter()
                .position(|x| x.as_str() == *c)
                .unwrap_or(cc - 1);
            self.decisions[v * cc + i].fetch_add(1, Relaxed);
        }
        let secs = latency.as_secs_f64();
        if let Some(b) = BUCKETS.iter().position(|le| secs <= *le) {
            self.buckets[b].fetch_add(1, Relaxed);
        }
        self.latency_count.fetch_add(1, Relaxed);
        let ns = u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX);
        self.latency_sum_ns.fetch_add(ns, Relaxed);
    }

    pub fn reload(&self, ok: bool) {
        if ok {
            self.reload_success.fetch_add(1, Relaxed);
        } else {
            self.reload_failure.fetch_add(1, Relaxed);
        }
    }

    /// Counts a decision's approval step by its outcome.
    pub fn approval(&self, code: &str) {
        if let Some(i) = APPROVALS.iter().position(|c| *c == code) {
            self.approvals[i].fetch_add(1, Relaxed);
        }
    }

    pub fn http(&self, status: u16) {
        let i = STATUSES
            .iter()
            .position(|s| *s == status)
            .unwrap_or(STATUSES.len());
        self.http[i].fetch_add(1, Relaxed);
    }

    /// The exposition text.
    pub fn render(&self, bundle: &Verified) -> String {
        let mut out = String::with_capacity(8192);
        out.push_str("# HELP gait_decisions_total Decisions answered, by verdict and endpoint class of the intent's targets (an intent with several classes counts once per class; `none`: no target, e.g. an invalid intent).\n# TYPE gait_decisions_total counter\n");
        let cc = class_count();
        for (v, verdict) in VERDICTS.iter().enumerate() {
            for c in 0..cc {
                let n = self.decisions[v * cc + c].load(Relaxed);
                let _ = writeln!(
                    out,
                    "gait_decisions_total{{verdict=\"{verdict}\",endpoint_class=\"{}\"}} {n}",
                    class_label(c)
                );
            }
        }
        out.push_str("# HELP gait_decision_latency_seconds Time from a request's headers to its answer on /v1/eval.\n# TYPE gait_decision_latency_seconds histogram\n");
        let mut cumulative = 0u64;
        for (i, le) in BUCKETS.iter().enumerate() {
            cumulative += self.buckets[i].load(Relaxed);
            let _ = writeln!(
                out,
                "gait_decision_latency_seconds_bucket{{le=\"{le}\"}} {cumulative}"
            );
        }
        let count = self.latency_count.load(Relaxed);
        let _ = writeln!(
            out,
            "gait_decision_latency_seconds_bucket{{le=\"+Inf\"}} {count}"
        );
        let sum = self.latency_sum_ns.load(Relaxed) as f64 / 1e9;
        let _ = writeln!(out, "gait_decision_latency_seconds_sum {sum}");
        let _ = writeln!(out, "gait_decision_latency_seconds_count {count}");
        out.push_str("# HELP gait_bundle_info The bundle being served (always 1).\n# TYPE gait_bundle_info gauge\n");
        let _ = writeln!(
            out,
            "gait_bundle_info{{policy_digest=\"{}\",revision=\"{}\",name=\"{}\",version=\"{}\"}} 1",
            escape(bundle.policy_digest()),
            bundle.info().revision,
            escape(&bundle.info().name),
            escape(&bundle.info().version)
        );
        if let Some(at) = bundle.info().not_after_secs {
            // For an alert ahead of the expiry (past it, every decision
            // answers `block`, `bundle_expired`).
            out.push_str("# HELP gait_bundle_not_after_seconds The serving bundle's not_after, Unix seconds (absent for a bundle without one).\n# TYPE gait_bundle_not_after_seconds gauge\n");
            let _ = writeln!(out, "gait_bundle_not_after_seconds {at}");
        }
        out.push_str("# HELP gait_bundle_reloads_total Bundle reload attempts, by result (a failed one keeps the old bundle serving).\n# TYPE gait_bundle_reloads_total counter\n");
        let _ = writeln!(
            out,
            "gait_bundle_reloads_total{{result=\"success\"}} {}",
            self.reload_success.load(Relaxed)
        );
        let _ = writeln!(
            out,
            "gait_bundle_reloads_total{{result=\"failure\"}} {}",
            self.reload_failure.load(Relaxed)
        );
        out.push_str("# HELP gait_http_responses_total HTTP responses, by status code.\n# TYPE gait_http_responses_total counter\n");
        for (i, s) in STATUSES.iter().enumerate() {
            let _ = writeln!(
                out,
                "gait_http_responses_total{{code=\"{s}\"}} {}",
                self.http[i].load(Relaxed)
            );
        }
        let _ = writeln!(
            out,
            "gait_http_responses_total{{code=\"other\"}} {}",
            self.http[STATUSES.len()].load(Relaxed)
        );
        out.push_str("# HELP gait_approvals_total Decisions that judged approval tokens, by outcome (approval_granted turned require_approval into allow).\n# TYPE gait_approvals_total counter\n");
        for (i, code) in APPROVALS.iter().enumerate() {
            let _ = writeln!(
                out,
                "gait_approvals_total{{outcome=\"{code}\"}} {}",
                self.approvals[i].load(Relaxed)
            );
        }
        out
    }
}

/// Escapes a label value (backslash, double quote, newline).
fn escape(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}
