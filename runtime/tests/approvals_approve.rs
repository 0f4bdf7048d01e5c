#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test setup fails loudly"
)]
//! `gait-run approve --intent FILE --bundle FILE`: the approver is shown
//! what the intent says, read as the gate reads it, and nothing is signed
//! for a result file whose intent or policy digest is not the intent's and
//! the bundle's — a changed result file cannot show one tool and carry
//! another intent's digest. Without `--intent`, a warning says that what
//! is shown is the result file's unverified copy.

mod support;

use serde_json::{json, Value};
use support::approvals::{stderr, Env};

/// `--intent a.json --bundle p.gaitb --trust release.pub`, then `extra`.
fn with_intent<'a>(intent: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut v = vec![
        "--intent",
        intent,
        "--bundle",
        "p.gaitb",
        "--trust",
        "release.pub",
    ];
    v.extend_from_slice(extra);
    v
}

/// Writes `ra.json` changed by `edit` as `name`.
fn forge(e: &Env, name: &str, edit: impl Fn(&mut Value)) {
    let mut v: Value =
        serde_json::from_slice(&std::fs::read(e.dir.join("ra.json")).unwrap()).unwrap();
    edit(&mut v);
    std::fs::write(e.dir.join(name), v.to_string()).unwrap();
}

#[test]
fn approve_checks_the_request_against_the_intent_and_the_bundle() {
    let e = Env::new(1);
    let ra = e.request("a.json", "ra.json");
    let rb = e.request("b.json", "rb.json");
    assert_ne!(ra["intent_digest"], rb["intent_digest"]);

    // A result file showing a harmless tool while carrying another
    // intent's digest: refused, nothing written.
    forge(&e, "forged.json", |v| {
        v["approval_request"]["intent_digest"] = rb["intent_digest"].clone();
        v["approval_request"]["tool_name"] = json!("list_dir");
    });
    let refused = |request: &str, extra: &[&str], says: &str| {
        let o = e.approve(request, "alice.key", "alice", extra);
        assert_eq!(
            o.status.code(),
            Some(6),
            "{request} {extra:?}: {}",
            stderr(&o)
        );
        assert!(
            stderr(&o).contains(says),
            "{request} {extra:?}: {}",
            stderr(&o)
        );
        assert!(o.stdout.is_empty());
        assert!(!e.dir.join("never.tok").exists());
    };
    let to_file = ["-o", "never.tok"];
    refused(
        "forged.json",
        &with_intent("a.json", &to_file),
        &format!(
            "the request is for intent {}, but --intent a.json is {}",
            rb["intent_digest"].as_str().unwrap(),
            ra["intent_digest"].as_str().unwrap()
        ),
    );
    // The right request, the wrong intent.
    refused(
        "ra.json",
        &with_intent("b.json", &to_file),
        "nothing signed",
    );
    // Another policy digest, or another revision, than the bundle's.
    forge(&e, "other-policy.json", |v| {
        v["approval_request"]["policy_digest"] = json!(format!("sha256:{}", "0".repeat(64)));
    });
    refused(
        "other-policy.json",
        &with_intent("a.json", &to_file),
        "but --bundle p.gaitb is sha256:",
    );
    forge(&e, "other-revision.json", |v| {
        v["approval_request"]["policy_revision"] = json!(99);
    });
    refused(
        "other-revision.json",
        &with_intent("a.json", &to_file),
        "(revision 99)",
    );
    // Rules the bundle does not ask approval for with this intent.
    forge(&e, "other-rules.json", |v| {
        v["approval_request"]["rules"] = json!([]);
    });
    refused(
        "other-rules.json",
        &with_intent("a.json", &to_file),
        "are not the ones --bundle asks approval for",
    );
    // Bob's key under alice's name (and carol's, whom the policy does not
    // declare): the gate would refuse such a token, so none is signed.
    for key in ["bob.key", "carol.key"] {
        let o = e.approve("ra.json", key, "alice", &with_intent("a.json", &to_file));
        assert_eq!(o.status.code(), Some(6), "{key}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("is not one the policy declares for approver `alice`"),
            "{key}: {}",
            stderr(&o)
        );
        assert!(o.stdout.is_empty());
        assert!(!e.dir.join("never.tok").exists());
    }
    // The bundle is verified as eval verifies it.
    std::fs::write(
        e.dir.join("alice.pub"),
        format!("{}\n", support::approvals::key(1).public().to_base64()),
    )
    .unwrap();
    refused(
        "ra.json",
        &[
            "--intent",
            "a.json",
            "--bundle",
            "p.gaitb",
            "--trust",
            "alice.pub",
            "-o",
            "never.tok",
        ],
        "bundle_key_untrusted",
    );
    refused(
        "ra.json",
        &[
            "--intent",
            "a.json",
            "--bundle",
            "p.gaitb",
            "-o",
            "never.tok",
        ],
        "no --trust key given",
    );
    // --intent and --bundle go together; trust flags need --bundle.
    refused(
        "ra.json",
        &["--intent", "a.json", "-o", "never.tok"],
        "--bundle",
    );
    refused(
        "ra.json",
        &["--bundle", "p.gaitb", "-o", "never.tok"],
        "--intent",
    );
    refused(
        "ra.json",
        &["--trust", "release.pub", "-o", "never.tok"],
        "give --intent FILE --bundle FILE",
    );
}

#[test]
fn approve_shows_what_the_intent_says_not_the_result_file() {
    let e = Env::new(1);
    let ra = e.request("a.json", "ra.json");
    // The digests are the intent's, the shown fields changed: what is
    // signed is the intent, and so is what is shown.
    forge(&e, "retitled.json", |v| {
        v["approval_request"]["tool_name"] = json!("list_dir");
        v["approval_request"]["skill_provenance"] = Value::Null;
    });
    let o = e.approve(
        "retitled.json",
        "alice.key",
        "alice",
        &with_intent("a.json", &["-o", "alice.tok"]),
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    for shown in [
        "tool \"read_file\"",
        "endpoint classes [fs.read]",
        "targets [fs.read path \"/workspace/a\"]",
        "skill \"web-search\" version none (publisher \"acme\", source \"registry\", digest none, signed by none)",
        "(read from the intent)",
    ] {
        assert!(err.contains(shown), "lacks {shown}: {err}");
    }
    assert!(
        !err.contains("list_dir") && !err.contains("warning"),
        "{err}"
    );
    let tok: Value =
        serde_json::from_slice(&std::fs::read(e.dir.join("alice.tok")).unwrap()).unwrap();
    assert_eq!(tok["intent_digest"], ra["intent_digest"]);
    let (code, r) = e.eval(
        "a.json",
        &["--approval-token", "alice.tok", "--approval-store", "s.db"],
    );
    assert_eq!((code, r["verdict"].as_str()), (0, Some("allow")), "{r}");

    // Without --intent: it still signs, and warns that what it shows is
    // the result file's copy.
    let o = e.approve("retitled.json", "bob.key", "bob", &["-o", "bob.tok"]);
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let err = stderr(&o);
    assert!(
        err.contains("warning: approve: without --intent and --bundle")
            && err.contains("unverified result file retitled.json"),
        "{err}"
    );
    assert!(
        err.contains("tool \"list_dir\", skill none (from the result file, unverified)"),
        "{err}"
    );
}

#[test]
fn approve_help_recommends_the_intent() {
    let e = Env::new(1);
    let help = String::from_utf8_lossy(&e.run(&["approve", "--help"]).stdout).into_owned();
    for s in [
        "--intent",
        "--bundle",
        "--trust",
        "--insecure-skip-verify",
        "unverified",
    ] {
        assert!(help.contains(s), "approve --help lacks {s}: {help}");
    }
}
