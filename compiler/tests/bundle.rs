#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test setup fails loudly"
)]
//! Bundles: deterministic bytes, and every rejection path of runtime.md §6.

mod support;

use gait_run::bundle::{self, RejectCode, VerifyOptions};
use gait_run::keys::{KeyPair, PublicKey};
use std::path::{Path, PathBuf};
use support::{dir_with, gaitc, gaitc_ok, key};

const POLICY: &str = r#"policy "bundle-test" version "1.2.3" revision 5

default block

import "lib/hosts.gaitpol" as hosts

let ws: paths = ["/workspace/**"]

map tool "read_file" { path args.path as fs.read }

rule secrets priority 10 {
  when any path in ["**/.ssh/**"]
  then block
  reason "secret_path_access"
}

rule files priority 20 {
  when all endpoint in [fs.read] and all path in ws
  then allow
}

rule egress priority 20 {
  when all domain in hosts.api
  then allow
}
"#;

const LIB: &str = "let api: domains = [\"api.github.com\", \"*.stripe.com\"]\n";

fn write_policy(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir.join("lib")).unwrap();
    std::fs::write(dir.join("lib/hosts.gaitpol"), LIB).unwrap();
    std::fs::write(dir.join("policy.gaitpol"), POLICY).unwrap();
    dir.join("policy.gaitpol")
}

fn build_with(path: &Path, keys: &[&KeyPair], not_after: Option<&str>) -> Vec<u8> {
    let mut s = gaitc::check::Session::new();
    let id = s.load_path(path).unwrap();
    let checked = s.check(id);
    let policy = checked
        .policy
        .unwrap_or_else(|| panic!("{:?}", s.diagnostics()));
    gaitc::bundle::build(&s, id, &policy, keys, not_after)
        .unwrap()
        .0
}

fn opts(trust: &[&KeyPair]) -> VerifyOptions {
    VerifyOptions {
        trust: trust.iter().map(|k| k.public().clone()).collect(),
        now: gait_run::time::now().0,
        ..VerifyOptions::default()
    }
}

fn code(bytes: &[u8], o: &VerifyOptions) -> Option<RejectCode> {
    bundle::verify(bytes, o).err().map(|r| r.code)
}

#[test]
fn same_sources_same_bytes_from_any_directory() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let k = key(1);
    let pa = write_policy(a.path());
    let pb = write_policy(b.path());
    let first = build_with(&pa, &[&k], None);
    let again = build_with(&pa, &[&k], None);
    let elsewhere = build_with(&pb, &[&k], None);
    assert_eq!(first, again);
    assert_eq!(
        first, elsewhere,
        "the bundle must not depend on where the sources are"
    );
    // And through the CLI, from different working directories.
    std::fs::write(a.path().join("k.key"), k.to_file_text()).unwrap();
    let out1 = gaitc_ok(
        &[
            "build",
            "policy.gaitpol",
            "-o",
            "out.gaitb",
            "--key",
            "k.key",
        ],
        a.path(),
    );
    gaitc_ok(
        &[
            "build",
            a.path().join("policy.gaitpol").to_str().unwrap(),
            "-o",
            b.path().join("out.gaitb").to_str().unwrap(),
            "--key",
            a.path().join("k.key").to_str().unwrap(),
        ],
        Path::new("/"),
    );
    let cli_a = std::fs::read(a.path().join("out.gaitb")).unwrap();
    let cli_b = std::fs::read(b.path().join("out.gaitb")).unwrap();
    assert_eq!(cli_a, cli_b);
    assert_eq!(cli_a, first);
    let stdout = String::from_utf8(out1.stdout).unwrap();
    let digest = bundle::parse(&first).unwrap().policy_digest;
    assert_eq!(stdout.trim(), format!("policy_digest={digest}"));
}

#[test]
fn manifest_lists_sources_relative_to_the_main_file() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = build_with(
        &write_policy(dir.path()),
        &[&key(1)],
        Some("2099-01-01T00:00:00+01:00"),
    );
    let parsed = bundle::parse(&bytes).unwrap();
    let paths: Vec<&str> = parsed.manifest["sources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["path"].as_str().unwrap())
        .collect();
    assert_eq!(paths, ["lib/hosts.gaitpol", "policy.gaitpol"]);
    assert_eq!(parsed.info.revision, 5);
    assert_eq!(parsed.info.rules, 3);
    assert_eq!(
        parsed.info.not_after.as_deref(),
        Some("2098-12-31T23:00:00Z"),
        "not_after is normalized to UTC"
    );
    assert!(
        !String::from_utf8_lossy(parsed.manifest_bytes).contains(&*dir.path().to_string_lossy())
    );
}

#[test]
fn a_good_bundle_verifies_and_loads() {
    let dir = tempfile::tempdir().unwrap();
    let (k1, k2) = (key(1), key(2));
    let bytes = build_with(&write_policy(dir.path()), &[&k1, &k2], None);
    let v = bundle::verify(&bytes, &opts(&[&k2])).unwrap();
    assert_eq!(
        v.signed_by,
        vec![k2.public().id().to_owned()],
        "rotation: any trusted key of several signers"
    );
    assert!(v.signature_verified);
    assert_eq!(v.tables.rule_count(), 3);
    let pin = VerifyOptions {
        pin: Some(v.policy_digest().to_owned()),
        min_revision: Some(5),
        ..opts(&[&k1])
    };
    assert!(bundle::verify(&bytes, &pin).is_ok());
}

#[test]
fn every_rejection_code() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_policy(dir.path());
    let (good, other) = (key(1), key(9));
    let bytes = build_with(&path, &[&good], None);
    let o = opts(&[&good]);
    assert_eq!(code(&bytes, &o), None);

    assert_eq!(code(&[], &o), Some(RejectCode::Malformed), "empty file");
    assert_eq!(
        code(b"GAITX\0\x01\x00", &o),
        Some(RejectCode::Malformed),
        "bad magic"
    );
    let mut v2 = bytes.clone();
    v2[6] = 2;
    assert_eq!(code(&v2, &o), Some(RejectCode::FormatUnsupported));
    for cut in [1, 7, 8, 11, 12, 40, bytes.len() / 2, bytes.len() - 1] {
        assert!(code(&bytes[..cut], &o).is_some(), "truncated at {cut}");
    }
    let mut payload_flip = bytes.clone();
    let last = payload_flip.len() - 1;
    payload_flip[last] ^= 0x01;
    assert_eq!(
        code(&payload_flip, &o),
        Some(RejectCode::PayloadDigestMismatch)
    );

    let parsed = bundle::parse(&bytes).unwrap();
    let unsigned = bundle::assemble(&parsed.manifest, parsed.payload, &[]);
    assert_eq!(code(&unsigned, &o), Some(RejectCode::Unsigned));
    assert_eq!(
        code(&bytes, &opts(&[&other])),
        Some(RejectCode::KeyUntrusted)
    );

    // A signature entry naming the trusted key, over other bytes.
    let forged = {
        let mut m = parsed.manifest.clone();
        m["policy"]["revision"] = serde_json::json!(6);
        let other_bundle = bundle::assemble(&m, parsed.payload, &[&good]);
        let other_sig = bundle::parse(&other_bundle).unwrap().signatures[0]
            .sig
            .clone();
        let sig_block = gait_run::jcs::to_string(
            &serde_json::json!([{"alg": "ed25519", "key_id": good.public().id(), "sig": other_sig}]),
        );
        let mut out = bytes[..12 + parsed.manifest_bytes.len()].to_vec();
        out.extend_from_slice(&(sig_block.len() as u32).to_le_bytes());
        out.extend_from_slice(sig_block.as_bytes());
        out.extend_from_slice(parsed.payload);
        out
    };
    assert_eq!(code(&forged, &o), Some(RejectCode::SignatureInvalid));

    let pinned = VerifyOptions {
        pin: Some(format!("sha256:{}", "0".repeat(64))),
        ..opts(&[&good])
    };
    assert_eq!(code(&bytes, &pinned), Some(RejectCode::PinMismatch));
    let expired = build_with(&path, &[&good], Some("2020-01-01T00:00:00Z"));
    assert_eq!(code(&expired, &o), Some(RejectCode::Expired));
    let rollback = VerifyOptions {
        min_revision: Some(6),
        ..opts(&[&good])
    };
    assert_eq!(code(&bytes, &rollback), Some(RejectCode::RevisionRollback));
}

#[test]
fn a_flipped_byte_anywhere_is_rejected() {
    let dir = tempfile::tempdir().unwrap();
    let k = key(1);
    let bytes = build_with(&write_policy(dir.path()), &[&k], None);
    let o = opts(&[&k]);
    let parsed = bundle::parse(&bytes).unwrap();
    let header_end = 12 + parsed.manifest_bytes.len() + 4;
    let sig_end = bytes.len() - parsed.payload.len();
    // Every byte of the header, manifest and signature block; payload bytes sampled
    // (every payload byte is covered by the same digest check).
    let positions: Vec<usize> = (0..sig_end)
        .chain((sig_end..bytes.len()).step_by(97))
        .chain([bytes.len() - 1])
        .collect();
    let mut by_region = [0usize; 3];
    for &i in &positions {
        for mask in [0x01u8, 0x80] {
            let mut m = bytes.clone();
            m[i] ^= mask;
            let rejected = bundle::verify(&m, &o);
            assert!(
                rejected.is_err(),
                "flipping bit {mask:#x} of byte {i} was accepted"
            );
        }
        by_region[if i < header_end {
            0
        } else if i < sig_end {
            1
        } else {
            2
        }] += 1;
    }
    assert!(by_region.iter().all(|&n| n > 0), "{by_region:?}");
}

#[test]
fn keygen_writes_private_key_0600_and_refuses_to_overwrite() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let out = gaitc_ok(&["keygen", "--out", "k"], dir.path());
    let mode = std::fs::metadata(dir.path().join("k.key"))
        .unwrap()
        .permissions()
        .mode()
        & 0o777;
    assert_eq!(mode, 0o600);
    let kp = KeyPair::read(&dir.path().join("k.key")).unwrap();
    let pk = PublicKey::read(&dir.path().join("k.pub")).unwrap();
    assert_eq!(kp.public(), &pk);
    assert_eq!(
        String::from_utf8(out.stdout).unwrap().trim(),
        format!("key_id={}", pk.id())
    );
    let again = gaitc(&["keygen", "--out", "k"], dir.path());
    assert_eq!(again.status.code(), Some(6));
    assert_eq!(
        PublicKey::read(&dir.path().join("k.pub")).unwrap(),
        pk,
        "unchanged"
    );
}

#[test]
fn build_refuses_policies_with_errors_and_unsigned_builds() {
    let bad = "policy \"p\" version \"1.0.0\"\nrule r { then allow }\n";
    let dir = dir_with(&[("bad.gaitpol", bad), ("k.key", &key(1).to_file_text())]);
    let out = gaitc(
        &["build", "bad.gaitpol", "-o", "b.gaitb", "--key", "k.key"],
        dir.path(),
    );
    assert_eq!(out.status.code(), Some(6));
    assert!(String::from_utf8_lossy(&out.stderr).contains("E0012"));
    assert!(!dir.path().join("b.gaitb").exists());
    let out = gaitc(&["build", "bad.gaitpol", "-o", "b.gaitb"], dir.path());
    assert_eq!(
        out.status.code(),
        Some(6),
        "a build without --key is a usage error"
    );
}

/// The payload's packing loses nothing: every shipped policy's tables, and
/// a 2,000-rule one (ids past one byte), decode to exactly
/// what was encoded — `NONE` in every column that holds it, every width.
#[test]
fn payload_encoding_round_trips_every_table() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut sources: Vec<(String, String)> = [
        "examples/payments-agent.gaitpol",
        "examples/skills/policy.gaitpol",
        "examples/policy/endpoint/fs.gaitpol",
        "examples/policy/endpoint/net.gaitpol",
        "examples/policy/endpoint/proc.gaitpol",
        "examples/compat/policy.gaitpol",
        "runtime/tests/fixtures/matrix.gaitpol",
    ]
    .iter()
    .map(|p| (p.to_string(), String::new()))
    .collect();
    let mut big = String::from("policy \"big\" version \"1.0.0\"\n\ndefault block\n");
    for i in 0..2_000 {
        big.push_str(&format!(
            "\nrule r{i} {{\n  when tool == \"t{i}\" and all path in [\"/ws/p{i}/**\"] and all domain in [\"api{i}.example.com\", \"*.s{i}.example.com\"]\n  then allow\n  reason \"r{i}\"\n}}\n"
        ));
    }
    sources.push(("big.gaitpol".into(), big));
    for (path, text) in sources {
        let mut s = gaitc::check::Session::new();
        let id = if text.is_empty() {
            s.load_path(&root.join(&path)).unwrap()
        } else {
            s.load_source(&path, &text, Path::new("."))
        };
        let policy = s
            .check(id)
            .policy
            .unwrap_or_else(|| panic!("{path}: {:?}", s.diagnostics()));
        let data = gaitc::lower::lower(&policy).unwrap();
        let back = gait_run::tables::TableData::decode(&data.encode()).unwrap();
        assert!(
            back == data,
            "{path}: the payload does not decode to what was encoded"
        );
        assert!(!data.strings.is_empty(), "{path}: a policy has strings");
    }
}
