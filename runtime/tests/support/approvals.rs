//! Approvers in a bundle: the fail-closed matrix fixture
//! (`tests/fixtures/matrix.gaitb`) with approvers declared in its tables.

use gait_run::bundle;
use gait_run::keys::KeyPair;
use gait_run::tables::{TableData, NONE, RULE_STRIDE};
use std::path::Path;

/// The key pair of seed `[seed; 32]`: alice is 1, bob 3, carol 4 (not an
/// approver), the bundle's signer 9.
pub fn key(seed: u8) -> KeyPair {
    KeyPair::from_seed(&[seed; 32])
}

/// The fail-closed matrix fixture with approvers alice (seed 1) and bob
/// (seed 3); rule `unverified_skill` (require_approval) allows alice and
/// bob and needs `n` of them; signed by seed 9.
pub fn bundle_bytes(n: u32) -> Vec<u8> {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/matrix.gaitb");
    let bytes = std::fs::read(fixture).unwrap();
    let u = bundle::parse(&bytes).unwrap();
    let mut d = TableData::decode(u.payload).unwrap();
    let string = |d: &mut TableData, s: &str| -> u32 {
        d.strings.push(s);
        (d.strings.len() - 1) as u32
    };
    for (name, seed) in [("alice", 1), ("bob", 3)] {
        let p = key(seed).public().clone();
        let r = [
            string(&mut d, name),
            string(&mut d, p.id()),
            string(&mut d, &p.to_base64()),
        ];
        d.approvers.extend(r);
    }
    let rule = d
        .strings
        .iter()
        .position(|s| s == "unverified_skill")
        .unwrap() as u32;
    let at = d
        .approval_rules
        .chunks(4)
        .position(|r| r[0] == rule)
        .unwrap()
        * 4;
    let start = d.lists.len() as u32;
    let set = [string(&mut d, "alice"), string(&mut d, "bob")];
    d.lists.extend(set);
    d.approval_rules[at + 1] = start;
    d.approval_rules[at + 2] = 2;
    assert_ne!(d.approval_rules[at + 1], NONE);
    let r = d
        .rules
        .chunks(RULE_STRIDE)
        .position(|r| r[3] == rule)
        .unwrap();
    d.rules[r * RULE_STRIDE + 2] = n;
    let payload = d.encode();
    let sources = [("matrix.gaitpol".to_owned(), "00".repeat(32))];
    let manifest = bundle::manifest(
        &bundle::ManifestSpec {
            name: &u.info.name,
            version: &u.info.version,
            revision: u.info.revision,
            compiler_version: "test",
            sources: &sources,
            rules: u.info.rules as usize,
            not_after: None,
        },
        &payload,
    );
    bundle::assemble(&manifest, &payload, &[&key(9)])
}
