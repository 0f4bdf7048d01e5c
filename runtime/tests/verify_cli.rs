#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test setup fails loudly"
)]
//! `gait-run verify`: exit codes and JSON report.

use gait_run::bundle;
use gait_run::keys::KeyPair;
use gait_run::tables::{atom, enums, flags, matcher, MatcherData, TableData};
use std::process::{Command, Output};

fn spec<'a>(
    name: &'a str,
    revision: u32,
    rules: usize,
    sources: &'a [(String, String)],
) -> bundle::ManifestSpec<'a> {
    bundle::ManifestSpec {
        name,
        version: "1.0.0",
        revision,
        compiler_version: "test",
        sources,
        rules,
        not_after: None,
    }
}

/// A minimal valid bundle: no rules, default block, revision 5.
fn tiny_bundle(key: &KeyPair) -> Vec<u8> {
    let data = TableData {
        default_verdict: gait_run::vocab::Verdict::Block.index() as u32,
        fail_closed_risk: 0b1100,
        matchers: vec![MatcherData::default(); matcher::COUNT],
        enum_postings: vec![0; 2 * enums::total()],
        flag_postings: vec![0; 2 * flags::COUNT],
        ..TableData::default()
    };
    let payload = data.encode();
    let manifest = bundle::manifest(
        &spec("tiny", 5, 0, &[("tiny.gaitpol".into(), "00".repeat(32))]),
        &payload,
    );
    bundle::assemble(&manifest, &payload, &[key])
}

#[test]
fn verify_exit_codes_and_report() {
    let dir = tempfile::tempdir().unwrap();
    let k = KeyPair::from_seed(&[3; 32]);
    std::fs::write(dir.path().join("b.gaitb"), tiny_bundle(&k)).unwrap();
    std::fs::write(
        dir.path().join("k.pub"),
        format!("{}\n", k.public().to_base64()),
    )
    .unwrap();
    std::fs::write(
        dir.path().join("o.pub"),
        format!("{}\n", KeyPair::from_seed(&[4; 32]).public().to_base64()),
    )
    .unwrap();
    let run = |args: &[&str]| -> Output {
        Command::new(env!("CARGO_BIN_EXE_gait-run"))
            .args(args)
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    let json = |o: &Output| serde_json::from_slice::<serde_json::Value>(&o.stdout).unwrap();

    let ok = run(&["verify", "b.gaitb", "--trust", "k.pub"]);
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert_eq!(json(&ok)["ok"], true);
    assert_eq!(json(&ok)["policy"]["revision"], 5);
    assert_eq!(json(&ok)["signed_by"][0], k.public().id());

    let bad = run(&["verify", "b.gaitb", "--trust", "o.pub"]);
    assert_eq!(bad.status.code(), Some(2));
    assert_eq!(json(&bad)["code"], "bundle_key_untrusted");
    assert_eq!(
        run(&["verify", "b.gaitb", "--trust", "o.pub", "--trust", "k.pub"])
            .status
            .code(),
        Some(0),
        "key rotation"
    );
    let rollback = run(&[
        "verify",
        "b.gaitb",
        "--trust",
        "k.pub",
        "--min-revision",
        "9",
    ]);
    assert_eq!(
        (rollback.status.code(), json(&rollback)["code"].as_str()),
        (Some(2), Some("bundle_revision_rollback"))
    );
    let digest = json(&ok)["policy_digest"].as_str().unwrap().to_owned();
    assert_eq!(
        run(&["verify", "b.gaitb", "--trust", "k.pub", "--pin", &digest])
            .status
            .code(),
        Some(0)
    );
    let wrong_pin = format!("sha256:{}", "1".repeat(64));
    let pin = run(&["verify", "b.gaitb", "--trust", "k.pub", "--pin", &wrong_pin]);
    assert_eq!(
        (pin.status.code(), json(&pin)["code"].as_str()),
        (Some(2), Some("bundle_pin_mismatch"))
    );

    // Usage errors exit 6.
    assert_eq!(
        run(&["verify", "b.gaitb"]).status.code(),
        Some(6),
        "no trust and no --insecure-skip-verify"
    );
    assert_eq!(
        run(&[
            "verify",
            "b.gaitb",
            "--trust",
            "k.pub",
            "--pin",
            "sha256:xyz"
        ])
        .status
        .code(),
        Some(6)
    );
    assert_eq!(run(&["verify", "--bogus"]).status.code(), Some(6));
    assert_eq!(
        run(&["verify", "b.gaitb", "--trust", "missing.pub"])
            .status
            .code(),
        Some(6)
    );

    let skip = run(&["verify", "b.gaitb", "--insecure-skip-verify"]);
    assert_eq!(skip.status.code(), Some(0));
    assert_eq!(json(&skip)["bundle_verified"], false);

    std::fs::write(dir.path().join("empty.gaitb"), b"").unwrap();
    let empty = run(&["verify", "empty.gaitb", "--trust", "k.pub"]);
    assert_eq!(
        (empty.status.code(), json(&empty)["code"].as_str()),
        (Some(2), Some("bundle_malformed"))
    );
}

#[test]
fn hostile_payloads_are_rejected_not_evaluated() {
    // A correctly signed bundle whose tables are inconsistent (as only a buggy or
    // malicious signer could produce) is rejected as malformed at load.
    let k = KeyPair::from_seed(&[5; 32]);
    let mut data = TableData {
        matchers: vec![MatcherData::default(); matcher::COUNT],
        enum_postings: vec![0; 2 * enums::total()],
        flag_postings: vec![0; 2 * flags::COUNT],
        ..TableData::default()
    };
    data.rules = vec![0, 0, 0, 99, 0, 0, 0, 0, u32::MAX, u32::MAX]; // name string 99 does not exist
    let payload = data.encode();
    let manifest = bundle::manifest(&spec("bad", 0, 1, &[]), &payload);
    let bytes = bundle::assemble(&manifest, &payload, &[&k]);
    let opts = bundle::VerifyOptions {
        trust: vec![k.public().clone()],
        ..Default::default()
    };
    assert_eq!(
        bundle::verify(&bytes, &opts).unwrap_err().code,
        bundle::RejectCode::Malformed
    );
    // A flag atom whose negation bit is set: `not` is a node, the atom's
    // evaluation has no negated form, so the bit would be silently ignored
    // (`not skill.verified` tested as `skill.verified`). The same atom
    // without the bit loads.
    data.rules.clear();
    for (atom, want) in [
        ([atom::FLAG, 0, 0, 0, flags::SIGNED], None),
        (
            [atom::FLAG, 0, 0, 1, flags::SIGNED],
            Some(bundle::RejectCode::Malformed),
        ),
        (
            [atom::FLAG, 0, 1, 0, flags::SIGNED],
            Some(bundle::RejectCode::Malformed),
        ),
    ] {
        data.atoms = atom.to_vec();
        let payload = data.encode();
        let manifest = bundle::manifest(&spec("flag", 0, 0, &[]), &payload);
        let bytes = bundle::assemble(&manifest, &payload, &[&k]);
        assert_eq!(
            bundle::verify(&bytes, &opts).err().map(|r| r.code),
            want,
            "{atom:?}"
        );
    }
    data.atoms.clear();
    data.unanchored = vec![7];
    let payload = data.encode();
    let manifest = bundle::manifest(&spec("bad", 0, 0, &[]), &payload);
    let bytes = bundle::assemble(&manifest, &payload, &[&k]);
    assert_eq!(
        bundle::verify(&bytes, &opts).unwrap_err().code,
        bundle::RejectCode::Malformed
    );
}
