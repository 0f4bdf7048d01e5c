// The one builder of bundles with approvers, for the runtime's unit tests
// (runtime/src/approval/tests.rs) and its integration tests
// (tests/support/approvals.rs): both `include!` this file into a module
// where `gait_run` names the runtime crate (the unit tests: `use crate as
// gait_run;`). Items only, no inner attributes.

/// What to declare in the fail-closed matrix fixture
/// (`tests/fixtures/matrix.gaitb`: rule `unverified_skill` requires
/// approval, `deletes` blocks).
pub struct ApprovalSpec<'a> {
    /// The approvers' keys: `(approver, seed)`, the key pair of seed
    /// `[seed; 32]` ([`seed_key`]); a name may come twice (two keys).
    pub approvers: &'a [(&'a str, u8)],
    /// `unverified_skill`'s `from` set; `None`: any declared approver.
    pub set: Option<&'a [&'a str]>,
    /// `unverified_skill`'s `approvals N`.
    pub n: u32,
    /// `unverified_skill` may be approved interactively.
    pub interactive: bool,
    /// The default verdict is `require_approval`.
    pub default_ra: bool,
}

/// The key pair of seed `[seed; 32]`.
pub fn seed_key(seed: u8) -> gait_run::keys::KeyPair {
    gait_run::keys::KeyPair::from_seed(&[seed; 32])
}

/// The seed of the key that signs [`approval_bundle`]'s bundles.
pub const SIGNER_SEED: u8 = 9;

/// The matrix fixture with `spec`'s approvers and terms, signed by
/// [`SIGNER_SEED`].
pub fn approval_bundle(spec: &ApprovalSpec<'_>) -> Vec<u8> {
    use gait_run::bundle;
    use gait_run::tables::{TableData, NONE, RULE_STRIDE};
    let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/matrix.gaitb");
    let bytes = std::fs::read(fixture).unwrap();
    let u = bundle::parse(&bytes).unwrap();
    let mut d = TableData::decode(u.payload).unwrap();
    let string = |d: &mut TableData, s: &str| -> u32 { d.strings.push(s).unwrap() };
    // The approver table is sorted by approver, then key id.
    let mut recs: Vec<(String, String, String)> = spec
        .approvers
        .iter()
        .map(|(a, seed)| {
            let p = seed_key(*seed).public().clone();
            ((*a).to_owned(), p.id().to_owned(), p.to_base64())
        })
        .collect();
    recs.sort();
    for (a, id, b64) in recs {
        let r = [string(&mut d, &a), string(&mut d, &id), string(&mut d, &b64)];
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
    match spec.set {
        Some(set) => {
            let start = d.lists.len() as u32;
            let mut names = set.to_vec();
            names.sort_unstable();
            let ids: Vec<u32> = names.iter().map(|s| string(&mut d, s)).collect();
            d.lists.extend(ids);
            d.approval_rules[at + 1] = start;
            d.approval_rules[at + 2] = set.len() as u32;
        }
        None => d.approval_rules[at + 1] = NONE,
    }
    d.approval_rules[at + 3] = u32::from(spec.interactive);
    let r = d
        .rules
        .chunks(RULE_STRIDE)
        .position(|r| r[3] == rule)
        .unwrap();
    d.rules[r * RULE_STRIDE + 2] = spec.n;
    if spec.default_ra {
        d.default_verdict = gait_run::vocab::Verdict::RequireApproval.index() as u32;
    }
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
    bundle::assemble(&manifest, &payload, &[&seed_key(SIGNER_SEED)])
}
