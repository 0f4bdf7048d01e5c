#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test setup fails loudly"
)]
//! The runtime's test fixtures are real bundles built by this compiler. This
//! test rebuilds them and fails if a committed fixture is stale (bundles are
//! deterministic, so "stale" means "the format or compiler changed").
//! Regenerate with `GAIT_UPDATE_FIXTURES=1 cargo test -p gaitc --test fixtures`.

mod support;

/// The seed of the fixtures' signing key.
const KEY_SEED: u8 = 0x5e;

#[test]
fn runtime_fixture_bundles_are_current() {
    let dir = support::repo().join("runtime/tests/fixtures");
    let key = support::key(KEY_SEED);
    let update = std::env::var_os("GAIT_UPDATE_FIXTURES").is_some();
    let expected_key = format!("{}\n", key.public().to_base64());
    let mut stale = Vec::new();
    for (file, content) in [("test.key", key.to_file_text()), ("test.pub", expected_key)] {
        let path = dir.join(file);
        if std::fs::read_to_string(&path).ok().as_deref() != Some(content.as_str()) {
            if update {
                std::fs::write(&path, content).unwrap();
            } else {
                stale.push(file.to_owned());
            }
        }
    }
    {
        let policy = "matrix.gaitpol";
        let src = dir.join(policy);
        let mut s = gaitc::check::Session::new();
        let id = s.load_path(&src).unwrap();
        let checked = s.check(id);
        let p = checked
            .policy
            .unwrap_or_else(|| panic!("{:?}", s.diagnostics()));
        let bytes = gaitc::bundle::build(&s, id, &p, &[&key], None).unwrap().0;
        let out = src.with_extension("gaitb");
        if std::fs::read(&out).ok().as_deref() != Some(bytes.as_slice()) {
            if update {
                std::fs::write(&out, &bytes).unwrap();
            } else {
                stale.push(out.display().to_string());
            }
        }
    }
    assert!(
        stale.is_empty(),
        "stale fixtures {stale:?}: run GAIT_UPDATE_FIXTURES=1 cargo test -p gaitc --test fixtures"
    );
}
