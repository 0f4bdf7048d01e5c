#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test setup fails loudly"
)]
//! Approvals from source to bundle: `trust approver`, `approvers` sets,
//! `approvals N from SET interactive` and `approval_ttl` compile into tables
//! that the runtime answers as written here by hand; and the scoping of
//! approver names across imported modules.

mod support;

use gait_run::tables::{ApprovalTerms, ApproverRecord, RuleRecord, TableData, Tables};
use gait_run::vocab::Verdict;
use support::{dir_with, key};

// Example-only keys (`gaitc keygen`), with their key ids (hex SHA-256).
const ALICE: &str = "39lyMPTOAWJma2U5s5lqL3KiMQiU8tPo7S6rYnqM2Wk=";
const ALICE_ID: &str = "2ad9d0551a34ae736ce6c5d8c4fb5e5ba984b8d32a5dac7d5f558720d6f0873b";
const BOB: &str = "gpYBo2M7hMAOfGBKIwLYJE59+xCjTl+x3R5S070OAdE=";
const BOB_ID: &str = "bbe831085b229c17efba6d90ed16ee104bd2b94d785658d9b8f51fab4207e366";
const CAROL_OLD: &str = "pHNjc2h4PjKBNRUT+FE7ktaRR51BnVpPJCisHlKljk0=";
const CAROL_OLD_ID: &str = "d86194fec12aa334a5ebe561eec9a1d0ba24d013ebc25e7c56e0da0647468918";
const CAROL_NEW: &str = "lUEY+FNujtftb0x+6RJSCDwIMEH+uNuHK5nEuAUm34w=";
const CAROL_NEW_ID: &str = "1934f2a080aa02a7504bd21e0e6d441b4468b52792752f69cd791e691f6209bd";

/// Checks `policy.gaitpol` in `dir`: the session and the checked policy, if any.
fn check(
    dir: &std::path::Path,
) -> (
    gaitc::check::Session,
    usize,
    Option<gaitc::check::model::Policy>,
) {
    let mut s = gaitc::check::Session::new();
    let id = s.load_path(&dir.join("policy.gaitpol")).unwrap();
    let policy = s.check(id).policy;
    (s, id, policy)
}

/// Builds and signs (with `key(7)`) the bundle of `policy.gaitpol` in `dir`.
fn bundle(dir: &std::path::Path) -> Vec<u8> {
    let (s, id, policy) = check(dir);
    let policy = policy.unwrap_or_else(|| panic!("{:?}", s.diagnostics()));
    gaitc::bundle::build(&s, id, &policy, &[&key(7)], None)
        .unwrap()
        .0
}

/// Builds, signs, verifies and loads the bundle of `policy.gaitpol` in `dir`.
fn tables(dir: &std::path::Path) -> Tables {
    let opts = gait_run::bundle::VerifyOptions {
        trust: vec![key(7).public().clone()],
        now: gait_run::time::now().0,
        ..gait_run::bundle::VerifyOptions::default()
    };
    gait_run::bundle::verify(&bundle(dir), &opts)
        .unwrap()
        .tables
}

/// The payload of the bundle of `policy.gaitpol` in `dir`, decoded, not
/// loaded (what `gaitc inspect` reads).
fn table_data(dir: &std::path::Path) -> TableData {
    let bytes = bundle(dir);
    TableData::decode(gait_run::bundle::parse(&bytes).unwrap().payload).unwrap()
}

/// The keys of one approver, from the loaded tables.
fn keys_of<'t>(t: &'t Tables, name: &str) -> Vec<(&'t str, &'t str)> {
    t.approver_keys()
        .filter(|(a, _, _)| *a == name)
        .map(|(_, id, k)| (id, k))
        .collect()
}

#[test]
fn approvers_sets_interactive_and_ttl_reach_the_tables() {
    let policy = format!(
        r#"policy "approvals-test" version "1.0.0"

default block

import "team.gaitpol" as team

approval_ttl 2h

trust approver "carol" key "ed25519:{CAROL_OLD}", key "ed25519:{CAROL_NEW}"
trust approver "alice" key "ed25519:{ALICE}"

let leads: approvers = ["carol"]

rule deploys priority 10 {{
  when any command in ["kubectl"]
  then require_approval
  approvals 2 from team.oncall + leads + ["alice", "bob"] interactive
}}

rule deletes priority 10 {{
  when destructive
  then require_approval
  approvals 1 from ["carol"]
}}

rule writes priority 20 {{
  when any endpoint in [fs.write]
  then require_approval
  approvals 3
}}

rule reads priority 30 {{
  when all endpoint in [fs.read]
  then allow
}}
"#
    );
    let team = format!(
        "trust approver \"bob\" key \"ed25519:{BOB}\"\n\nlet oncall: approvers = [\"bob\"]\n"
    );
    let dir = dir_with(&[("policy.gaitpol", &policy), ("team.gaitpol", &team)]);
    let (s, _, _) = check(dir.path());
    assert!(s.diagnostics().is_empty(), "{:?}", s.diagnostics());
    let t = tables(dir.path());

    assert_eq!(t.approval_ttl_secs(), 7200);
    // Sorted by approver, then key id; the module's approver included.
    assert_eq!(
        t.approver_keys().collect::<Vec<_>>(),
        vec![
            ("alice", ALICE_ID, ALICE),
            ("bob", BOB_ID, BOB),
            ("carol", CAROL_NEW_ID, CAROL_NEW),
            ("carol", CAROL_OLD_ID, CAROL_OLD),
        ]
    );
    assert_eq!(
        keys_of(&t, "carol"),
        vec![(CAROL_NEW_ID, CAROL_NEW), (CAROL_OLD_ID, CAROL_OLD)]
    );
    assert_eq!(keys_of(&t, "bob"), vec![(BOB_ID, BOB)]);
    assert!(keys_of(&t, "mallory").is_empty());
    // Each key verifies tokens as the key it was declared as.
    for (name, id, _) in t.approver_keys() {
        let k = t.approver_public_key(name, id).expect("a declared key");
        assert_eq!(k.id(), id);
    }
    assert!(t.approver_public_key("bob", CAROL_NEW_ID).is_none());

    // The payload's records, typed, as `gaitc inspect` shows them.
    let d = table_data(dir.path());
    assert_eq!(
        d.approver_records().collect::<Vec<_>>(),
        t.approver_keys()
            .map(|(name, key_id, public_key)| ApproverRecord {
                name,
                key_id,
                public_key
            })
            .collect::<Vec<_>>()
    );
    assert_eq!(
        d.approval_terms().collect::<Vec<_>>(),
        vec![
            ApprovalTerms {
                rule: "deletes",
                approvers: Some(vec!["carol"]),
                interactive: false
            },
            ApprovalTerms {
                rule: "deploys",
                approvers: Some(vec!["alice", "bob", "carol"]),
                interactive: true
            },
            ApprovalTerms {
                rule: "writes",
                approvers: None,
                interactive: false
            },
        ]
    );
    let rule =
        |name: &str| -> RuleRecord<'_> { d.rule_records().find(|r| r.name == name).expect(name) };
    let deploys = rule("deploys");
    assert_eq!(
        (
            deploys.priority,
            deploys.verdict,
            deploys.approvals_required()
        ),
        (10, Some(Verdict::RequireApproval), 2)
    );
    assert_eq!(rule("writes").approvals_required(), 3);
    assert_eq!(rule("reads").verdict, Some(Verdict::Allow));

    // A union of a module's set, a local set and a list: sorted, each once.
    let deploys = t
        .approval_rule("deploys")
        .expect("deploys requires approval");
    let set = deploys.approvers.expect("a `from` set");
    assert_eq!(set.names().collect::<Vec<_>>(), ["alice", "bob", "carol"]);
    assert!(set.contains("bob") && !set.contains("mallory"));
    assert!(deploys.interactive);

    let deletes = t
        .approval_rule("deletes")
        .expect("deletes requires approval");
    let set = deletes.approvers.expect("a `from` set");
    assert_eq!(set.names().collect::<Vec<_>>(), ["carol"]);
    assert!(!deletes.interactive);

    // No `from`: any declared approver; not interactive unless written.
    let writes = t.approval_rule("writes").expect("writes requires approval");
    assert!(writes.approvers.is_none());
    assert!(!writes.interactive);

    assert!(
        t.approval_rule("reads").is_none(),
        "an allow rule has no approval terms"
    );
    assert!(t.approval_rule("nonexistent").is_none());
}

#[test]
fn without_approval_items_the_defaults_apply() {
    let dir = dir_with(&[(
        "policy.gaitpol",
        "policy \"p\" version \"1.0.0\"\n\ndefault block\n\nrule r {\n  then require_approval\n}\n",
    )]);
    let t = tables(dir.path());
    assert_eq!(t.approval_ttl_secs(), 15 * 60);
    assert_eq!(t.approver_keys().count(), 0);
    let d = table_data(dir.path());
    assert_eq!(d.approver_records().count(), 0);
    let r = d.rule_records().next().unwrap();
    // No `approvals` clause: 0 in the record, one approval required.
    assert_eq!((r.name, r.approvals, r.approvals_required()), ("r", 0, 1));
    assert_eq!(
        d.approval_terms().collect::<Vec<_>>(),
        vec![ApprovalTerms {
            rule: "r",
            approvers: None,
            interactive: false
        }]
    );
    let r = t.approval_rule("r").expect("r requires approval");
    assert!(r.approvers.is_none() && !r.interactive);
}

/// The codes of the diagnostics, each with the file name it is reported in.
fn codes_in(s: &gaitc::check::Session) -> Vec<(String, String)> {
    s.diagnostics()
        .iter()
        .map(|d| {
            let name = s
                .sources
                .name(d.file)
                .rsplit('/')
                .next()
                .unwrap_or("")
                .to_owned();
            (d.code.clone(), name)
        })
        .collect()
}

/// Checks `policy.gaitpol` in `dir`, which must be refused with exactly one
/// diagnostic, `code`, reported in the file named `file`.
fn refused(dir: &std::path::Path, code: &str, file: &str) -> gaitc::check::Session {
    let (s, _, checked) = check(dir);
    assert!(checked.is_none());
    assert_eq!(codes_in(&s), [(code.to_owned(), file.to_owned())]);
    s
}

/// A policy declaring approver `bob` with Alice's key, importing `team` as the
/// module `team.gaitpol`: refused with one E0081 in the policy.
fn bob_refused_beside(team: &str) -> gaitc::check::Session {
    let policy = format!(
        "policy \"p\" version \"1.0.0\"\n\ndefault block\n\nimport \"team.gaitpol\" as team\n\n\
         trust approver \"bob\" key \"ed25519:{ALICE}\"\n\nrule r {{\n  then require_approval\n}}\n"
    );
    let dir = dir_with(&[("policy.gaitpol", &policy), ("team.gaitpol", team)]);
    refused(dir.path(), "E0081", "policy.gaitpol")
}

#[test]
fn an_approver_declared_in_a_policy_and_in_its_module_is_a_duplicate() {
    let s = bob_refused_beside(&format!("trust approver \"bob\" key \"ed25519:{BOB}\"\n"));
    let d = &s.diagnostics()[0];
    let first = d.secondary[0]
        .file
        .expect("the first declaration is in another file");
    assert!(s.sources.name(first).ends_with("team.gaitpol"));
}

#[test]
fn a_module_names_only_the_approvers_it_can_see() {
    // `alice` is declared by the importing policy, not by the module or its
    // imports: the module's set cannot name her.
    let policy = format!(
        "policy \"p\" version \"1.0.0\"\n\ndefault block\n\nimport \"team.gaitpol\" as team\n\n\
         trust approver \"alice\" key \"ed25519:{ALICE}\"\n\n\
         rule r {{\n  then require_approval\n  approvals 1 from team.oncall\n}}\n"
    );
    let team = "let oncall: approvers = [\"alice\"]\n";
    let dir = dir_with(&[("policy.gaitpol", &policy), ("team.gaitpol", team)]);
    refused(dir.path(), "E0080", "team.gaitpol");
}

#[test]
fn approver_sets_are_typed() {
    let policy = format!(
        "policy \"p\" version \"1.0.0\"\n\ndefault block\n\n\
         trust approver \"alice\" key \"ed25519:{ALICE}\"\n\n\
         let oncall: approvers = [\"alice\"]\nlet pubs: publishers = [\"acme\"]\n\n\
         rule r {{\n  when tool in oncall\n  then require_approval\n  approvals 1 from pubs\n}}\n"
    );
    let dir = dir_with(&[("policy.gaitpol", &policy)]);
    let (s, _, checked) = check(dir.path());
    assert!(checked.is_none());
    // `tool in oncall` and `from pubs`: each a type mismatch.
    let codes: Vec<String> = s.diagnostics().iter().map(|d| d.code.clone()).collect();
    assert_eq!(codes, ["E0030", "E0030"]);
}

#[test]
fn one_key_under_two_approver_names_is_refused() {
    // Approvals count distinct approvers: one key declared for two names
    // would let its holder approve twice. In one file, and across an import.
    let one_file = format!(
        "policy \"p\" version \"1.0.0\"\n\ndefault block\n\n\
         trust approver \"alice\" key \"ed25519:{ALICE}\"\n\
         trust approver \"alice2\" key \"ed25519:{BOB}\", key \"ed25519:{ALICE}\"\n\n\
         rule r {{\n  then require_approval\n  approvals 2\n}}\n"
    );
    let dir = dir_with(&[("policy.gaitpol", &one_file)]);
    let s = refused(dir.path(), "E0081", "policy.gaitpol");
    let d = &s.diagnostics()[0];
    assert_eq!(
        d.message,
        format!(
            "approver `alice2` is declared with the key of approver `alice` (key id {ALICE_ID})"
        )
    );
    assert_eq!(d.secondary[0].message, "the key's holder, declared here");

    let s = bob_refused_beside(&format!(
        "trust approver \"alice\" key \"ed25519:{ALICE}\"\n"
    ));
    let first = s.diagnostics()[0].secondary[0]
        .file
        .expect("the holder is in another file");
    assert!(s.sources.name(first).ends_with("team.gaitpol"));
}

#[test]
fn an_approval_ttl_of_zero_or_past_32_bits_is_out_of_range() {
    // Zero: no token could be valid. Past u32 seconds (the bundle's width):
    // refused, never wrapped around to a short TTL (2^32 + 1 s would be 1 s).
    for (ttl, label) in [
        ("0s", "zero"),
        ("0h", "zero"),
        ("4294967297s", "longer than 24h"),
        ("99999999999h", "longer than 24h"),
        ("86401s", "longer than 24h"),
    ] {
        let policy = format!(
            "policy \"p\" version \"1.0.0\"\n\ndefault block\n\napproval_ttl {ttl}\n\n\
             trust approver \"alice\" key \"ed25519:{ALICE}\"\n\nrule r {{\n  then require_approval\n}}\n"
        );
        let dir = dir_with(&[("policy.gaitpol", &policy)]);
        let (s, _, checked) = check(dir.path());
        assert!(checked.is_none(), "{ttl}");
        assert_eq!(
            codes_in(&s),
            [("E0083".to_owned(), "policy.gaitpol".to_owned())],
            "{ttl}"
        );
        let d = &s.diagnostics()[0];
        assert_eq!(
            d.message,
            format!("`approval_ttl {ttl}` is out of range: it must be more than 0 and at most 24h")
        );
        assert_eq!(d.primary.message, label, "{ttl}");
    }
    // The cap itself is accepted.
    let policy = format!(
        "policy \"p\" version \"1.0.0\"\n\ndefault block\n\napproval_ttl 24h\n\n\
         trust approver \"alice\" key \"ed25519:{ALICE}\"\n\nrule r {{\n  then require_approval\n}}\n"
    );
    let dir = dir_with(&[("policy.gaitpol", &policy)]);
    assert_eq!(tables(dir.path()).approval_ttl_secs(), 24 * 3600);
}

#[test]
fn an_approver_name_longer_than_a_token_can_carry_is_refused() {
    // Tokens name their approver in at most MAX_APPROVER_LEN bytes: a longer
    // declared name could never approve.
    let max = gait_run::approval::token::MAX_APPROVER_LEN;
    let check_name = |name: &str| {
        let policy = format!(
            "policy \"p\" version \"1.0.0\"\n\ndefault block\n\n\
             trust approver \"{name}\" key \"ed25519:{ALICE}\"\n\nrule r {{\n  then require_approval\n}}\n"
        );
        let dir = dir_with(&[("policy.gaitpol", &policy)]);
        let (s, _, checked) = check(dir.path());
        (s, checked.is_some())
    };
    let (s, ok) = check_name(&"a".repeat(max));
    assert!(ok, "{:?}", codes_in(&s));
    let (s, ok) = check_name(&"a".repeat(max + 1));
    assert!(!ok);
    let d = &s.diagnostics()[0];
    assert_eq!(
        d.message,
        format!("approver name is {} bytes long, more than {max}", max + 1)
    );
}

#[test]
fn a_path_read_two_ways_asks_the_approval_of_both_readings() {
    // `/tmp\..\etc\shadow` is `/tmp\..\etc\shadow` (one odd name under
    // /tmp) to a POSIX reader and /etc/shadow to one that reads `\` as
    // `/`: the approval asked must satisfy the rules of both.
    let policy = format!(
        r#"policy "two-readings" version "1.0.0"

default block

trust approver "alice" key "ed25519:{ALICE}"
trust approver "bob" key "ed25519:{BOB}"
trust approver "carol" key "ed25519:{CAROL_NEW}"

map tool "write_file" {{ path args.path as fs.write }}

rule etc_writes priority 20 {{
  when any endpoint in [fs.write] and any path in ["/etc/**"]
  then require_approval
  reason "etc_write"
  approvals 2 from ["alice", "bob"]
}}

rule outside_writes priority 20 {{
  when any endpoint in [fs.write] and any path not in ["/workspace/**"]
  then require_approval
  reason "outside_write"
  approvals 1 interactive
}}
"#
    );
    let dir = dir_with(&[("policy.gaitpol", &policy)]);
    let opts = gait_run::bundle::VerifyOptions {
        trust: vec![key(7).public().clone()],
        now: gait_run::time::now().0,
        ..gait_run::bundle::VerifyOptions::default()
    };
    let verified = gait_run::bundle::verify(&bundle(dir.path()), &opts).unwrap();
    let request = |path: &str| {
        let intent = serde_json::json!({"tool_name": "write_file", "args": {"path": path},
                                        "context": {"risk_class": "low"}});
        let mut out = Vec::new();
        let s = gait_run::gate::evaluate(
            &verified,
            intent.to_string().as_bytes(),
            &gait_run::gate::EvalOptions::default(),
            &mut gait_run::tables::Scratch::default(),
            &mut out,
        );
        assert_eq!(s.verdict, Verdict::RequireApproval, "{path}");
        let r: serde_json::Value = serde_json::from_slice(&out).unwrap();
        (
            r["approval_request"]["approvals_required"].clone(),
            r["approval_request"]["approvers"].clone(),
            r["approval_request"]["interactive"].clone(),
            r["matched_rules"].clone(),
        )
    };
    let both = (
        serde_json::json!(2),
        serde_json::json!(["alice", "bob"]),
        serde_json::json!(false),
        serde_json::json!(["etc_writes", "outside_writes"]),
    );
    assert_eq!(request("/etc/shadow"), both);
    // Before: the POSIX reading's weaker terms (one approval from anyone,
    // interactive) won the tie.
    assert_eq!(request("/tmp\\..\\etc\\shadow"), both);
    // One reading only: its own terms.
    let outside = request("/tmp/x");
    assert_eq!(outside.0, serde_json::json!(1));
    assert_eq!(outside.2, serde_json::json!(true));
}
