#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test setup fails loudly"
)]
//! The one gate entry (`gate::evaluate`: intent text → result bytes and a
//! summary): its bytes are one JSON document appended to the caller's
//! buffer, the summary says what the bytes say, the same input gives the
//! same bytes; and the intent digest against known answers. The digests
//! below were produced by the value-based canonicalization this path
//! replaced; they must never change, because traces and fixtures pin them.

use gait_run::bundle::{verify, Verified, VerifyOptions};
use gait_run::gate::{evaluate, EvalOptions};
use gait_run::keys::PublicKey;
use gait_run::tables::Scratch;
use proptest::prelude::*;
use std::path::Path;

fn bundle() -> Verified {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let bytes = std::fs::read(dir.join("matrix.gaitb")).unwrap();
    let key = PublicKey::read(&dir.join("test.pub")).unwrap();
    verify(
        &bytes,
        &VerifyOptions {
            trust: vec![key],
            ..Default::default()
        },
    )
    .unwrap()
}

/// Evaluates `text` and checks the entry's contract: the result is appended
/// (what the buffer held is kept), it is one JSON object, a second
/// evaluation with a used scratch gives the same bytes, and the summary
/// agrees with the result's fields. Returns the result.
fn same(bundle: &Verified, text: &[u8], opts: &EvalOptions) -> serde_json::Value {
    // These tests are about the result, not the deadline: a debug build on a
    // busy machine may be descheduled past the default 50 ms.
    let opts = &EvalOptions {
        simulate: opts.simulate,
        explain: opts.explain,
        trace: None,
        decision_timeout: Some(
            opts.decision_timeout
                .unwrap_or(std::time::Duration::from_secs(120)),
        ),
        approvals: opts.approvals,
    };
    let mut scratch = Scratch::default();
    let mut out = b"prefix kept:".to_vec();
    let summary = evaluate(bundle, text, opts, &mut scratch, &mut out);
    let body = out
        .strip_prefix(b"prefix kept:")
        .expect("the buffer's contents are kept")
        .to_vec();
    let mut again = Vec::new();
    let summary2 = evaluate(bundle, text, opts, &mut scratch, &mut again);
    assert_eq!(body, again, "{}", String::from_utf8_lossy(text));
    assert_eq!(summary, summary2);
    let r: serde_json::Value = serde_json::from_slice(&body)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&body)));
    assert!(!body.contains(&b'\n'), "one line");
    let want_exit = match r["verdict"].as_str().unwrap() {
        _ if r["ok"] == false => summary.exit,
        "allow" | "dry_run" => 0,
        "block" => 3,
        "require_approval" => 4,
        v => panic!("verdict {v}"),
    };
    assert_eq!(summary.exit, want_exit);
    if r["ok"] == false {
        assert!([1, 2, 6].contains(&summary.exit), "{}", summary.exit);
        assert_eq!(r["verdict"], "block");
        assert_eq!(serde_json::json!(summary.error), r["error"]);
    } else {
        assert_eq!(summary.error, None);
    }
    assert_eq!(summary.verdict.as_str(), r["verdict"]);
    assert_eq!(serde_json::json!(summary.reason_codes), r["reason_codes"]);
    assert_eq!(
        serde_json::json!(summary.endpoint_classes),
        r["endpoint_classes"]
    );
    assert_eq!(serde_json::json!(summary.intent_digest), r["intent_digest"]);
    assert_eq!(
        serde_json::json!(summary.required_approvals),
        r["required_approvals"]
    );
    r
}

#[test]
fn known_intent_digests() {
    let b = bundle();
    let opts = EvalOptions::default();
    let cases: [(&str, &str, &str); 3] = [
        (
            r#"{"tool_name": "Write_File", "args": {"path": "/w/a", "content": {"x": 1.5, "y": [1, -2, 1e19], "\u00e9": "q\"\n", "\ue000": null, "\ud83d\ude00": true}},
                "targets": [{"kind": "path", "value": "/w/a", "operation": "write"}, {"kind": "url", "value": "https://API.example.com/x", "destructive": true}],
                "arg_provenance": [{"arg_path": "$.path", "source": "user"}, {"arg_path": "$.content", "source": "EXTERNAL"}],
                "skill_provenance": {"skill_name": "Web-Search", "skill_version": "1.2.0", "source": "Registry", "publisher": "ACME", "digest": "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "signature_key_id": "ABC"},
                "context": {"identity": "bot", "workspace": "/w/", "risk_class": "HIGH"}}"#,
            "sha256:3171c9433a84ec4ccefb1f70e39f114a91cd87fdee2860a25015c991309fa015",
            "require_approval",
        ),
        (
            r#"{"tool_name": "exec", "args": {"command": "ls; sudo rm -rf /"}}"#,
            "sha256:5ce589dec0884a06ff40e26b7c6920d35a9ff7ca70f6fae0e9c9b8479a5043c6",
            "block",
        ),
        (
            r#"{"tool_name": "read_file", "args": {"path": "../etc/passwd"}, "context": {"workspace": "/workspace"}}"#,
            "sha256:c7f15f3479eb76f97e2b5a4b142aaf22034d3c673a309d0b25b15c518f09049b",
            "block",
        ),
    ];
    for (text, digest, verdict) in cases {
        let r = same(&b, text.as_bytes(), &opts);
        assert_eq!(r["intent_digest"], digest, "{text}");
        assert_eq!(r["verdict"], verdict, "{text}");
    }
}

#[test]
fn canonical_text_is_rfc8785() {
    let b = bundle();
    for (_, text) in gait_run::bench::builtin_intents() {
        let arena = gait_run::json::Bump::new();
        let raw = gait_run::normalize::parse_json(&text, &arena).unwrap();
        let n = gait_run::normalize::normalize_json(&raw, Some(&b.tables)).unwrap();
        let v = n.canonical_value();
        assert!(v.is_object());
        assert_eq!(gait_run::jcs::to_string(&v).as_bytes(), n.canonical);
        assert_eq!(
            n.digest,
            format!("sha256:{}", gait_run::hex(&gait_run::sha256(&n.canonical)))
        );
    }
}

#[test]
fn every_kind_of_result_reads_back_and_matches_its_summary() {
    let b = bundle();
    let plain = EvalOptions::default();
    let simulate = EvalOptions {
        simulate: true,
        ..Default::default()
    };
    let explain = EvalOptions {
        explain: true,
        ..Default::default()
    };
    let mut texts: Vec<Vec<u8>> = gait_run::bench::builtin_intents()
        .into_iter()
        .map(|(_, t)| t)
        .collect();
    for t in [
        &b"not json"[..],
        b"[]",
        br#"{"tool_name": ""}"#,
        br#"{"tool_name": "read_file", "tool_name": "exec"}"#,
        br#"{"tool_name": "read_file", "args": {"path": "~/.ssh/id_rsa"}}"#,
        br#"{"tool_name": "web_fetch", "args": {"url": "http://[::ffff:169.254.169.254]/"}, "context": {"risk_class": "low"}}"#,
        br#"{"tool_name": "x", "context": {"risk_class": "weird"}}"#,
    ] {
        texts.push(t.to_vec());
    }
    let mut seen = std::collections::BTreeSet::new();
    for t in &texts {
        for opts in [&plain, &simulate, &explain] {
            let r = same(&b, t, opts);
            seen.insert((
                r["verdict"].as_str().unwrap().to_owned(),
                r.get("explain").is_some(),
                r.get("simulated_verdict").is_some(),
            ));
        }
    }
    // The corpus reaches allow and block, each with and without explain, and
    // a simulated result.
    for v in ["allow", "block"] {
        assert!(seen.contains(&(v.to_owned(), false, false)), "{seen:?}");
        assert!(seen.contains(&(v.to_owned(), true, false)), "{seen:?}");
    }
    assert!(seen.iter().any(|s| s.2), "{seen:?}");
}

fn arb_str() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("/workspace/a.txt".to_owned()),
        Just("../../etc/passwd".to_owned()),
        Just("https://API.github.com@evil.io/x".to_owned()),
        Just("ls; sudo rm -rf /".to_owned()),
        Just("q\"\\\n\u{1}é😀".to_owned()),
        "[a-z/._~\\\\]{0,12}",
    ]
}

fn arb_json(depth: u32) -> BoxedStrategy<serde_json::Value> {
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(serde_json::Value::from),
        arb_str().prop_map(serde_json::Value::from),
    ];
    if depth == 0 {
        return leaf.boxed();
    }
    prop_oneof![
        leaf,
        prop::collection::vec(arb_json(depth - 1), 0..3).prop_map(serde_json::Value::from),
        prop::collection::btree_map("[a-z\u{e9}\u{e000}]{1,3}", arb_json(depth - 1), 0..3)
            .prop_map(|m| serde_json::Value::Object(m.into_iter().collect())),
    ]
    .boxed()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Generated intents (tool names the fixture maps, arbitrary args,
    /// targets, provenance, context): the entry's contract holds, and
    /// whitespace and key order do not change the digest or the verdict.
    #[test]
    fn generated_intents_keep_the_contract(
        tool in prop_oneof![Just("read_file"), Just("write_file"), Just("exec"), Just("web_fetch"), Just("Delete-File"), Just("x")],
        args in prop::collection::btree_map(prop_oneof![Just("path".to_owned()), Just("url".to_owned()), Just("command".to_owned()), "[a-z]{1,4}".prop_map(|s| s)], arb_json(2), 0..4),
        target in prop::option::of((prop_oneof![Just("path"), Just("url"), Just("host"), Just("command"), Just("other")], arb_str(), prop::option::of(prop_oneof![Just("read"), Just("write"), Just("delete"), Just("resolve"), Just("exec")]))),
        source in prop::option::of(prop_oneof![Just("user"), Just("External"), Just("bogus")]),
        risk in prop::option::of(prop_oneof![Just("low"), Just("HIGH"), Just("critical"), Just("odd")]),
        simulate in any::<bool>(),
    ) {
        let b = bundle();
        let mut intent = serde_json::json!({"tool_name": tool, "args": args,
            "context": {"identity": "p", "workspace": "/workspace", "risk_class": risk}});
        if let Some((kind, value, op)) = target {
            intent["targets"] = serde_json::json!([{"kind": kind, "value": value, "operation": op}]);
        }
        if let Some(s) = source {
            intent["arg_provenance"] = serde_json::json!([{"arg_path": "$.path", "source": s}]);
        }
        let opts = EvalOptions { simulate, ..Default::default() };
        let compact = serde_json::to_vec(&intent).unwrap();
        let r = same(&b, &compact, &opts);
        // The same intent with every object's keys in reverse order, pretty-printed.
        let pretty = serde_json::to_vec_pretty(&reversed(&intent)).unwrap();
        prop_assert_ne!(&compact, &serde_json::to_vec(&reversed(&intent)).unwrap());
        let r2 = same(&b, &pretty, &opts);
        prop_assert_eq!(&r["intent_digest"], &r2["intent_digest"]);
        prop_assert_eq!(&r["verdict"], &r2["verdict"]);
    }
}

/// Every object's keys in reverse order (serde_json keeps insertion order here).
fn reversed(v: &serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Object(m) => serde_json::Value::Object(
            m.iter()
                .rev()
                .map(|(k, v)| (k.clone(), reversed(v)))
                .collect(),
        ),
        serde_json::Value::Array(items) => items.iter().map(reversed).collect(),
        other => other.clone(),
    }
}

#[test]
fn explicit_and_mapped_targets_count_together_against_the_limit() {
    let b = bundle();
    let max = gait_run::normalize::MAX_TARGETS;
    let intent = |explicit: usize, mapped: bool| {
        let targets: Vec<serde_json::Value> = (0..explicit)
            .map(|i| serde_json::json!({"kind": "path", "value": format!("/workspace/f{i}"), "operation": "read"}))
            .collect();
        let mut v = serde_json::json!({"tool_name": "read_file", "targets": targets,
            "context": {"risk_class": "low", "workspace": "/workspace"}});
        if mapped {
            v["args"] = serde_json::json!({"path": "/workspace/mapped"});
        }
        serde_json::to_vec(&v).unwrap()
    };
    let opts = EvalOptions::default();
    for (explicit, mapped, invalid) in [
        (max, false, false),
        (max - 1, true, false),
        (max, true, true),
        (max + 1, false, true),
    ] {
        let r = same(&b, &intent(explicit, mapped), &opts);
        assert_eq!(
            r["reason_codes"] == serde_json::json!(["intent_invalid"]),
            invalid,
            "{explicit} explicit, mapped {mapped}: {}",
            r["error"]
        );
    }
}
