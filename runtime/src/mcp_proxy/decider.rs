//! The proxy's gate: the bundle, the intent context from the flags, and the
//! evaluation options; a `tools/call` in, the gate's decision out.

use super::defaults::ToolDefaults;
use super::session::{Decide, Decided};
use gait_run::approval::Approvals;
use gait_run::bundle::Verified;
use gait_run::gate::{self, EvalOptions, Refusal};
use gait_run::keys::KeyPair;
use gait_run::tables::Scratch;
use serde_json::{json, Map, Value};
use std::path::PathBuf;
use std::time::{Duration, Instant};

pub(super) struct Gate {
    pub bundle: Verified,
    pub context: Map<String, Value>,
    pub simulate: bool,
    pub trace: Option<(PathBuf, KeyPair)>,
    pub decision_timeout: Option<Duration>,
    pub scratch: Scratch,
    /// Whether decisions are logged (`--log`): their log fields are made.
    pub logging: bool,
    /// The client declared roots ([`Decide::client_has_roots`]): a call
    /// with a relative path is refused.
    pub unrooted_relative_paths: bool,
    /// The server's listed argument defaults, filled into each call judged.
    pub defaults: ToolDefaults,
}

impl Gate {
    /// The gate's decision on an intent's text.
    fn evaluate(
        &mut self,
        text: &[u8],
        interactive: Option<&str>,
        out: &mut Vec<u8>,
    ) -> gate::Summary<'static> {
        let opts = EvalOptions {
            simulate: self.simulate,
            // Lent to this one evaluation, given back below.
            trace: self.trace.take(),
            decision_timeout: self.decision_timeout,
            approvals: Approvals {
                interactive,
                ..Approvals::default()
            },
            ..EvalOptions::default()
        };
        // Owned: the session keeps it past this borrow of the bundle.
        let summary =
            gate::evaluate(&self.bundle, text, &opts, &mut self.scratch, out).into_owned();
        self.trace = opts.trace;
        summary
    }
}

impl Gate {
    /// The normalized targets of an intent, `kind value (class)`, from its
    /// `--explain` result (no trace, no approvals); `None` when that result
    /// has none to read (it failed).
    fn explained_targets(&mut self, text: &[u8]) -> Option<Vec<String>> {
        let opts = EvalOptions {
            simulate: self.simulate,
            explain: true,
            decision_timeout: self.decision_timeout,
            ..EvalOptions::default()
        };
        let mut out = Vec::new();
        gate::evaluate(&self.bundle, text, &opts, &mut self.scratch, &mut out);
        let result: Value = serde_json::from_slice(&out).unwrap_or(Value::Null);
        let field = |t: &Value, k: &str| t.get(k).and_then(Value::as_str).unwrap_or("?").to_owned();
        let line = |t: &Value, note: &str| {
            format!(
                "{} {} ({}){note}",
                field(t, "kind"),
                field(t, "value"),
                field(t, "endpoint_class")
            )
        };
        let explain = &result["explain"];
        // A path holding `\` is judged both ways, one holding quotes or
        // brackets as a shell reads it too: the approver sees what a
        // server that reads `\` as a separator, or a shell, would touch,
        // first (the
        // question shows 16 lines and counts the rest: many targets must not
        // push the other reading out of sight; targets are sorted, so the
        // two readings' lists do not pair up by position).
        let first: Vec<String> = explain["targets"]
            .as_array()?
            .iter()
            .map(|t| line(t, ""))
            .collect();
        let mut targets = Vec::with_capacity(first.len());
        // Each other reading with the note that says how it reads the path.
        let backslash = explain
            .get("backslash_reading")
            .map(|r| (r, " [if \\ is read as a separator]"));
        let shell = explain
            .get("shell_readings")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(|r| (r, " [as a shell reads it]"));
        for (reading, note) in backslash.into_iter().chain(shell) {
            for t in reading["targets"].as_array()? {
                let shown = line(t, note);
                if !first.contains(&line(t, "")) && !targets.contains(&shown) {
                    targets.push(shown);
                }
            }
        }
        targets.extend(first);
        Some(targets)
    }
}

impl Gate {
    /// With client roots, a server may resolve a relative path against a
    /// root the client chose (the reference filesystem server resolves it
    /// against its first root) rather than in its working directory: the
    /// intent is decided once without a workspace, and when that reading
    /// finds it invalid (a relative path has no base then), that refusal
    /// is the answer. `None`: nothing relative, decide as usual.
    fn without_workspace(
        &mut self,
        intent: &Map<String, Value>,
        out: &mut Vec<u8>,
    ) -> Option<gate::Summary<'static>> {
        let mut unrooted = intent.clone();
        if let Some(Value::Object(ctx)) = unrooted.get_mut("context") {
            ctx.remove("workspace");
        }
        let text = serde_json::to_vec(&Value::Object(unrooted)).ok()?;
        let opts = EvalOptions {
            decision_timeout: self.decision_timeout,
            ..EvalOptions::default()
        };
        let mut probe = Vec::new();
        let summary = gate::evaluate(&self.bundle, &text, &opts, &mut self.scratch, &mut probe);
        (summary.exit == gait_run::exit::INVALID).then(|| {
            out.extend_from_slice(&probe);
            summary.into_owned()
        })
    }
}

impl Decide for Gate {
    fn client_has_roots(&mut self) {
        self.unrooted_relative_paths = true;
    }

    fn client_sent(&mut self, msg: &Value) {
        self.defaults.client_sent(msg);
    }

    /// Decides one `tools/call` message.
    /// `oversize`: the line is larger than an intent may be
    /// (`normalize::MAX_INTENT_BYTES`); its calls are invalid intents, as at
    /// the other gates, and are not evaluated.
    fn decide(&mut self, msg: &Value, oversize: bool, interactive: Option<&str>) -> Decided {
        let started = Instant::now();
        let params = msg.get("params");
        let mut intent = Map::new();
        if let Some(name) = params.and_then(|p| p.get("name")) {
            intent.insert("tool_name".into(), name.clone());
        }
        let mut args = match params.and_then(|p| p.get("arguments")) {
            None | Some(Value::Null) => Value::Object(Map::new()),
            Some(a) => a.clone(),
        };
        // Judged as the server runs it: with the defaults its listing
        // shows for what the call leaves out.
        self.defaults
            .fill(params.and_then(|p| p.get("name")), &mut args);
        intent.insert("args".into(), args);
        intent.insert("context".into(), Value::Object(self.context.clone()));
        let mut result = Vec::with_capacity(1024);
        let mut intent_text = None;
        // The intent's text, decided by the one gate entry like any other
        // (which also answers block, bundle_expired, once the bundle is past
        // its not_after).
        let summary = if oversize {
            let err = gait_run::normalize::IntentError {
                field: "intent".into(),
                message: format!(
                    "larger than {} bytes",
                    gait_run::normalize::MAX_INTENT_BYTES
                ),
                code: None,
            };
            gate::refuse(&mut result, Refusal::Invalid(&err), Some(&self.bundle))
        } else {
            let unrooted = self
                .unrooted_relative_paths
                .then(|| self.without_workspace(&intent, &mut result))
                .flatten();
            match unrooted.map(Ok).unwrap_or_else(|| {
                serde_json::to_vec(&Value::Object(intent)).map(|text| {
                    let s = self.evaluate(&text, interactive, &mut result);
                    intent_text = Some(text);
                    s
                })
            }) {
                Ok(s) => s,
                Err(e) => {
                    result.clear();
                    let msg = format!("cannot write the intent: {e}");
                    gate::refuse(&mut result, Refusal::Internal(&msg), Some(&self.bundle))
                }
            }
        };
        let log = self.logging.then(|| {
            let verdict = summary.verdict.as_str();
            let trace_id = summary
                .intent_digest
                .as_deref()
                .map(|d| gate::trace_id(self.bundle.policy_digest(), d, verdict));
            let mut f = Map::new();
            f.insert("trace_id".into(), json!(trace_id));
            f.insert(
                "tool_name".into(),
                params
                    .and_then(|p| p.get("name"))
                    .cloned()
                    .unwrap_or(Value::Null),
            );
            f.insert("verdict".into(), json!(verdict));
            f.insert("reason_codes".into(), json!(summary.reason_codes));
            f.insert("endpoint_classes".into(), json!(summary.endpoint_classes));
            f.insert(
                "latency_us".into(),
                json!(u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX)),
            );
            f.insert("policy_digest".into(), json!(self.bundle.policy_digest()));
            f.insert("intent_digest".into(), json!(summary.intent_digest));
            // The gate's approval step (an interactive approval after an
            // accept), as in the sidecar's log.
            if let Some(a) = &summary.approval {
                f.insert("approval".into(), json!(a));
            }
            f
        });
        // A decision the client may be asked to approve: the targets the
        // gate judged, read again with --explain (no trace: the decision
        // is the one above), are what the approver sees first.
        let mut summary = summary;
        let targets = match &intent_text {
            Some(text) if summary.interactive_approval && interactive.is_none() => {
                // Not read again (the deadline, say): no question is asked
                // without them, the call is refused as without an
                // interactive approval.
                let read = self.explained_targets(text);
                if read.is_none() {
                    summary.interactive_approval = false;
                }
                read.unwrap_or_default()
            }
            _ => Vec::new(),
        };
        Decided {
            summary,
            result,
            log,
            targets,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use gait_run::bundle::{verify, VerifyOptions};

    fn gate() -> Gate {
        let bytes = include_bytes!("../../tests/fixtures/matrix.gaitb");
        let opts = VerifyOptions {
            insecure_skip_verify: true,
            ..Default::default()
        };
        Gate {
            bundle: verify(bytes, &opts).unwrap(),
            context: Map::new(),
            simulate: false,
            trace: None,
            decision_timeout: None,
            scratch: Scratch::default(),
            logging: false,
            unrooted_relative_paths: false,
            defaults: ToolDefaults::default(),
        }
    }

    fn intent(path: &str) -> Vec<u8> {
        serde_json::to_vec(&json!({
            "tool_name": "read_file",
            "args": {"path": path},
            "context": {"workspace": "/workspace", "risk_class": "low"}
        }))
        .unwrap()
    }

    /// A path holding `\` is judged under both readings; the approver is
    /// shown what each would touch (the reading a Windows-style server
    /// takes is the one that reaches `/etc/shadow`).
    #[test]
    fn the_question_shows_both_readings_of_a_backslash_path() {
        let mut g = gate();
        let got = g
            .explained_targets(&intent("/tmp\\..\\etc\\shadow"))
            .unwrap();
        assert_eq!(
            got,
            [
                "path /etc/shadow (fs.read) [if \\ is read as a separator]",
                "path /tmp..etcshadow (fs.read) [as a shell reads it]",
                "path /tmp\\..\\etc\\shadow (fs.read)",
            ]
        );
        // The other readings' own targets first, then the first reading's.
        let many = serde_json::to_vec(&json!({
            "tool_name": "read_file",
            "targets": [
                {"kind": "path", "value": "/workspace/a", "endpoint_class": "fs.read"},
                {"kind": "path", "value": "/tmp\\..\\etc\\shadow", "endpoint_class": "fs.read"},
                {"kind": "path", "value": "/workspace/b", "endpoint_class": "fs.read"}
            ],
            "context": {"workspace": "/workspace", "risk_class": "low"}
        }))
        .unwrap();
        assert_eq!(
            g.explained_targets(&many).unwrap(),
            [
                "path /etc/shadow (fs.read) [if \\ is read as a separator]",
                "path /tmp..etcshadow (fs.read) [as a shell reads it]",
                "path /tmp\\..\\etc\\shadow (fs.read)",
                "path /workspace/a (fs.read)",
                "path /workspace/b (fs.read)",
            ]
        );
        // One reading only: nothing added.
        let got = g.explained_targets(&intent("/workspace/a.txt")).unwrap();
        assert_eq!(got, ["path /workspace/a.txt (fs.read)"]);
    }

    /// A path a shell reads otherwise (quotes, a bracket expression): the
    /// approver sees each file it may reach, once.
    #[test]
    fn the_question_shows_the_shell_readings_of_a_path() {
        let mut g = gate();
        let got = g
            .explained_targets(&intent("/workspace/\"..\"/etc/pass[wd]"))
            .unwrap();
        assert_eq!(
            got,
            [
                "path /etc/passd (fs.read) [as a shell reads it]",
                "path /etc/passw (fs.read) [as a shell reads it]",
                "path /workspace/\"..\"/etc/pass[wd] (fs.read)",
            ]
        );
    }

    fn call(path: &str) -> Value {
        json!({"jsonrpc": "2.0", "id": 1, "method": "tools/call",
               "params": {"name": "read_file", "arguments": {"path": path}}})
    }

    /// A client with roots may have the server resolve a relative path
    /// against one of them: such a call is refused (the gate's own
    /// invalid-intent answer, without a workspace); absolute paths are
    /// decided as before.
    #[test]
    fn with_client_roots_a_relative_path_is_refused() {
        let mut g = gate();
        g.context.insert("workspace".into(), json!("/workspace"));
        g.context.insert("risk_class".into(), json!("low"));
        // Without roots: joined to the workspace.
        let d = g.decide(&call("a.txt"), false, None);
        assert_eq!(d.summary.verdict.as_str(), "allow", "{:?}", d.summary);
        g.client_has_roots();
        let d = g.decide(&call("a.txt"), false, None);
        assert_eq!(d.summary.exit, gait_run::exit::INVALID);
        assert_eq!(d.summary.reason_codes.as_slice(), ["intent_invalid"]);
        let result: Value = serde_json::from_slice(&d.result).unwrap();
        assert_eq!(result["verdict"], "block");
        assert!(
            result["error"].as_str().unwrap().contains("a.txt"),
            "{result}"
        );
        // Absolute paths: as before, the workspace still in the intent.
        let d = g.decide(&call("/workspace/a.txt"), false, None);
        assert_eq!(d.summary.verdict.as_str(), "allow");
        let d = g.decide(&call("/etc/shadow"), false, None);
        assert_eq!(d.summary.verdict.as_str(), "block");
        assert_ne!(d.summary.exit, gait_run::exit::INVALID);
    }

    /// An intent the gate cannot read has no targets to show: `None`, and
    /// the caller asks no question.
    #[test]
    fn an_unreadable_intent_has_no_targets_to_show() {
        let mut g = gate();
        assert_eq!(g.explained_targets(b"{not json"), None);
        assert_eq!(
            g.explained_targets(br#"{"tool_name": "read_file", "args": {"path": 1}}"#),
            None
        );
    }
}
