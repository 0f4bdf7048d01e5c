#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test setup fails loudly"
)]
//! Differential testing: the decision tables (lowered, encoded, decoded and
//! loaded exactly as a bundle's payload is) must give exactly what the
//! reference evaluator gives, for generated policies and intents.
//!
//! Values and patterns are drawn from small shared vocabularies so that
//! matches, near-misses (`/workspaceevil`, apex vs `*.`), negations and
//! quantifier edge cases (no values, mixed values) occur often.

use gait_run::decision::Decision;
use gait_run::intent::{Intent, Skill, Target};
use gait_run::tables::{Scratch, TableData, Tables};
use gait_run::vocab::{EndpointClass, HostClass, ProvenanceSource, Risk, TargetKind, Verdict};
use gaitc::check::attrs::{Attr, EnumKind, Flag, SetType};
use gaitc::check::model::{self, Atom, Cond, Policy, Values};
use gaitc::syntax::ast::Quant;
use proptest::prelude::*;

const TOOLS: &[&str] = &[
    "read_file",
    "write_file",
    "exec",
    "web_fetch",
    "mcp__fs_read",
    "",
];
const TOOL_GLOBS: &[&str] = &[
    "read_file",
    "write_file",
    "exec",
    "mcp__*",
    "*_file",
    "*",
    "web_*",
];
const PATHS: &[&str] = &[
    "/",
    "/workspace",
    "/workspace/a.txt",
    "/workspace/.ssh/id_rsa",
    "/home/dev/.ssh/id_ed25519",
    "/etc/passwd",
    "/workspaceevil/x",
    "/tmp/agent/x/y",
    "/a/b]c",
    "/a/bz",
    "/é/ü",
    "/.ssh/config",
    "/home/u/.ssh/config",
    "/home/u/x.ssh/config",
    "/x/.aws/sso/cache",
    "/x/.aws/sso/cache/y",
    "/x/.aws/sso/cachey",
    "/k/a.pem",
    "/k/.pem",
    "/k/.env.local",
    "/config",
    "/a/config/x",
];
const PATH_GLOBS: &[&str] = &[
    "/workspace/**",
    "/workspace/*",
    "**/.ssh/id_*",
    "/etc/*",
    "/**",
    "/",
    "/tmp/agent/**",
    "/a/[a-c]*",
    "**/*.txt",
    "/home/*/.ssh/**",
    "/*/[!a]*",
    "/a/b[]]c",
    "/é/?",
    "/a/**/y",
    "**/.ssh/config",
    "/**/config",
    "**/.aws/sso/cache/**",
    "**/*.pem",
    "**/.env.*",
    "**/y",
];
const DOMAINS: &[&str] = &[
    "api.github.com",
    "github.com",
    "evil.io",
    "a.b.stripe.com",
    "169.254.169.254",
    "localhost",
    "xgithub.com",
];
const DOMAIN_PATS: &[&str] = &[
    "api.github.com",
    "*.github.com",
    "*.stripe.com",
    "evil.io",
    "169.254.169.254",
    "github.com",
];
const COMMANDS: &[&str] = &["rm", "ls", "curl", "mkfs.ext4", "sh", "bash"];
const COMMAND_PATS: &[&str] = &["rm", "mkfs*", "curl", "*sh", "ls"];
const IDENTITIES: &[&str] = &["ci-bot", "alice", "bob"];
const PUBLISHERS: &[&str] = &["acme", "evil"];
const SOURCES: &[&str] = &["registry", "local"];
const SKILLS: &[&str] = &["web-search", "fs"];
const MARKERS: &[&str] = &["AKIA", "-----BEGIN", "ghp_", "é"];
const ARG_STRINGS: &[&str] = &[
    "hello",
    "xAKIAy",
    "ghp_123",
    "-----BEGIN RSA",
    "",
    "AKI",
    "café",
];
const KEY: &str = "ed25519:11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";
const DIGEST: &str = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

fn key_id() -> String {
    gait_run::keys::key_id(&gaitc::check::literals::key(KEY).unwrap())
}

fn pick(items: &'static [&'static str]) -> impl Strategy<Value = String> {
    prop::sample::select(items).prop_map(str::to_owned)
}

fn subset(items: &'static [&'static str]) -> impl Strategy<Value = Vec<String>> {
    prop::sample::subsequence(items, 0..=3.min(items.len()))
        .prop_map(|v| v.into_iter().map(str::to_owned).collect())
}

fn mask(n: usize) -> impl Strategy<Value = u32> {
    0u32..(1 << n)
}

fn pattern_atom() -> impl Strategy<Value = Atom> {
    let scalar = |attr: Attr, ty: SetType, items: &'static [&'static str]| {
        (any::<bool>(), subset(items)).prop_map(move |(negated, items)| Atom::Scalar {
            attr,
            negated,
            values: Values::Patterns { ty, items },
        })
    };
    let multi = |attr: Attr, ty: SetType, items: &'static [&'static str]| {
        (any::<bool>(), any::<bool>(), subset(items)).prop_map(move |(all, negated, items)| {
            Atom::Multi {
                attr,
                quant: if all { Quant::All } else { Quant::Any },
                negated,
                values: Values::Patterns { ty, items },
            }
        })
    };
    let enum_multi = |attr: Attr, kind: EnumKind| {
        (any::<bool>(), any::<bool>(), mask(kind.cardinality())).prop_map(
            move |(all, negated, mask)| Atom::Multi {
                attr,
                quant: if all { Quant::All } else { Quant::Any },
                negated,
                values: Values::Enum { kind, mask },
            },
        )
    };
    prop_oneof![
        scalar(Attr::Tool, SetType::Tools, TOOL_GLOBS),
        scalar(Attr::Identity, SetType::Identities, IDENTITIES),
        scalar(Attr::Workspace, SetType::Paths, PATH_GLOBS),
        scalar(Attr::SkillName, SetType::Skills, SKILLS),
        scalar(Attr::SkillPublisher, SetType::Publishers, PUBLISHERS),
        scalar(Attr::SkillSource, SetType::Sources, SOURCES),
        (any::<bool>(), mask(4)).prop_map(|(negated, mask)| Atom::Scalar {
            attr: Attr::Risk,
            negated,
            values: Values::Enum {
                kind: EnumKind::Risk,
                mask
            }
        }),
        multi(Attr::Path, SetType::Paths, PATH_GLOBS),
        multi(Attr::Domain, SetType::Domains, DOMAIN_PATS),
        multi(Attr::Command, SetType::Commands, COMMAND_PATS),
        enum_multi(Attr::Endpoint, EnumKind::Endpoint),
        enum_multi(Attr::HostClass, EnumKind::HostClass),
        enum_multi(Attr::Target, EnumKind::TargetKind),
        enum_multi(Attr::Provenance, EnumKind::Provenance),
        prop::sample::select(vec![
            Flag::Destructive,
            Flag::Skill,
            Flag::SkillSigned,
            Flag::SkillPinned,
            Flag::SkillVerified
        ])
        .prop_map(Atom::Flag),
        subset(MARKERS).prop_map(Atom::ArgsContain),
    ]
}

fn cond() -> impl Strategy<Value = Cond> {
    pattern_atom()
        .prop_map(Cond::Atom)
        .prop_recursive(3, 16, 3, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 1..4).prop_map(Cond::And),
                prop::collection::vec(inner.clone(), 1..4).prop_map(Cond::Or),
                inner.prop_map(|c| Cond::Not(Box::new(c))),
            ]
        })
}

fn verdict() -> impl Strategy<Value = Verdict> {
    prop::sample::select(Verdict::ALL.to_vec())
}

fn rule(i: usize) -> impl Strategy<Value = model::Rule> {
    (
        0u32..4,
        verdict(),
        subset(&["r_a", "r_b", "r_c"]),
        subset(&["v_x", "v_y"]),
        prop::option::of(cond()),
        1u32..4,
    )
        .prop_map(
            move |(priority, verdict, reasons, violations, cond, approvals)| model::Rule {
                name: format!("rule_{i}"),
                name_span: Default::default(),
                priority,
                verdict,
                reasons,
                violations,
                explain: None,
                approvals: (verdict == Verdict::RequireApproval && approvals > 1)
                    .then_some(approvals),
                approvers: None,
                interactive: false,
                cond,
                origin: model::Origin::default(),
            },
        )
}

fn policy() -> impl Strategy<Value = Policy> {
    let rules = (0usize..9).prop_flat_map(|n| (0..n).map(rule).collect::<Vec<_>>());
    (
        rules,
        verdict(),
        mask(4),
        prop::sample::subsequence(gait_run::vocab::FAIL_CLOSED_FIELDS, 0..=2),
    )
        .prop_map(|(rules, default, risk_mask, require)| Policy {
            name: "gen".into(),
            version: "1.0.0".into(),
            revision: 0,
            default,
            fail_closed: model::FailClosedSpec {
                explicit: true,
                risk: Risk::ALL
                    .iter()
                    .copied()
                    .filter(|r| risk_mask >> r.index() & 1 == 1)
                    .collect(),
                require: require.into_iter().map(str::to_owned).collect(),
            },
            mappings: Vec::new(),
            trust: vec![model::Trust {
                publisher: "acme".into(),
                keys: vec![model::TrustKey::parse(KEY).unwrap()],
            }],
            approvers: Vec::new(),
            approval_ttl_secs: gait_run::tables::DEFAULT_APPROVAL_TTL_SECS,
            pins: vec![model::Pin {
                skill: "web-search".into(),
                version: "1.0.0".into(),
                digest: format!("sha256:{DIGEST}"),
            }],
            rules,
            tests: Vec::new(),
        })
}

fn target() -> impl Strategy<Value = Target<'static>> {
    (
        prop::sample::select(TargetKind::ALL.to_vec()),
        prop::sample::select(EndpointClass::ALL.to_vec()),
        any::<bool>(),
        prop::option::of(pick(PATHS)),
        prop::option::of((pick(DOMAINS), prop::sample::select(HostClass::ALL.to_vec()))),
        subset(COMMANDS),
    )
        .prop_map(|(kind, class, destructive, path, host, programs)| {
            // A path target's value is its path; a target of another kind
            // has none.
            let (kind, value) = match path {
                Some(p) => (TargetKind::Path, p.into()),
                None if kind == TargetKind::Path => (TargetKind::Other, "".into()),
                None => (kind, "".into()),
            };
            Target {
                kind,
                value,
                operation: None,
                class,
                destructive,
                host: host.map(|(h, c)| (h.into(), c)),
                programs,
            }
        })
}

fn skill() -> impl Strategy<Value = Skill<'static>> {
    (
        pick(SKILLS),
        pick(PUBLISHERS),
        pick(SOURCES),
        prop::option::of(pick(&["1.0.0", "2.0.0"])),
        prop::option::of(pick(&[DIGEST, "00"])),
        any::<u8>(),
    )
        .prop_map(|(name, publisher, source, version, digest, k)| Skill {
            name: name.into(),
            publisher: publisher.into(),
            source: source.into(),
            version: version.map(Into::into),
            digest: digest.map(Into::into),
            key_id: match k % 3 {
                0 => None,
                1 => Some(key_id().into()),
                _ => Some("ab".repeat(32).into()),
            },
        })
}

fn intent() -> impl Strategy<Value = Intent<'static>> {
    (
        pick(TOOLS),
        prop::sample::select(Risk::ALL.to_vec()),
        prop::option::of(pick(IDENTITIES)),
        prop::option::of(pick(PATHS)),
        prop::collection::vec(target(), 0..4),
        prop::collection::vec(prop::sample::select(ProvenanceSource::ALL.to_vec()), 0..3),
        prop::option::of(skill()),
        subset(ARG_STRINGS),
    )
        .prop_map(
            |(tool, risk, identity, workspace, targets, provenance, skill, arg_strings)| Intent {
                tool: tool.into(),
                risk,
                identity: identity.map(Into::into),
                workspace: workspace.map(Into::into),
                targets: targets.into(),
                provenance: provenance.into(),
                skill,
                arg_strings: arg_strings.into_iter().map(Into::into).collect(),
            },
        )
}

fn tables_for(policy: &Policy) -> Tables {
    let data = gaitc::lower::lower(policy).expect("lowers");
    let bytes = data.encode();
    let decoded = TableData::decode(&bytes).expect("decodes");
    assert_eq!(decoded, data, "encode/decode round trip");
    Tables::load(decoded).expect("loads")
}

/// The policy's tables decide every intent as the reference evaluator does.
fn agree(policy: &Policy, intents: &[Intent]) -> Result<(), TestCaseError> {
    let tables = tables_for(policy);
    let mut scratch = Scratch::default();
    for intent in intents {
        let want: Decision = gaitc::eval::evaluate(policy, intent);
        let got = tables.decide(intent, &mut scratch);
        prop_assert_eq!(
            &got,
            &want,
            "tables disagree with the reference\npolicy: {:#?}\nintent: {:#?}",
            policy,
            intent
        );
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 384, ..ProptestConfig::default() })]

    #[test]
    fn tables_agree_with_the_reference(policy in policy(), intents in prop::collection::vec(intent(), 16)) {
        agree(&policy, &intents)?;
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 20_000, ..ProptestConfig::default() })]

    /// The long run: `cargo test -p gaitc --release --test differential -- --ignored`.
    #[test]
    #[ignore]
    fn tables_agree_with_the_reference_long(policy in policy(), intents in prop::collection::vec(intent(), 32)) {
        agree(&policy, &intents)?;
    }
}

/// The generators must exercise every decision path, or agreement means little.
#[test]
fn generated_cases_cover_rules_defaults_and_fail_closed() {
    use proptest::strategy::ValueTree;
    use proptest::test_runner::{Config, TestRng, TestRunner};
    let mut runner = TestRunner::new_with_rng(
        Config::default(),
        TestRng::deterministic_rng(proptest::test_runner::RngAlgorithm::ChaCha),
    );
    let (mut rule, mut default, mut fail_closed, mut multi_matched) = (0, 0, 0, 0);
    for _ in 0..200 {
        let p = policy().new_tree(&mut runner).unwrap().current();
        let i = intent().new_tree(&mut runner).unwrap().current();
        let d = gaitc::eval::evaluate(&p, &i);
        match d.kind {
            gait_run::decision::DecisionKind::Rule => rule += 1,
            gait_run::decision::DecisionKind::Default => default += 1,
            gait_run::decision::DecisionKind::FailClosed => fail_closed += 1,
        }
        if d.matched_rules.len() > 1 {
            multi_matched += 1;
        }
    }
    assert!(rule >= 30 && default >= 10 && fail_closed >= 20 && multi_matched >= 5, "rule {rule}, default {default}, fail_closed {fail_closed}, several matched {multi_matched}");
}

/// Values far longer than any pattern (many segments, many labels) still
/// match exactly as the reference says: the lookups skip only parts that no
/// key is long enough to match.
#[test]
fn very_long_values_match_like_the_reference() {
    let src = "policy \"p\" version \"1.0.0\"\n\ndefault block\n\nrule ws {\n  when all path in [\"/workspace/**\", \"/a/b/c/d/e/f/g/h/**\"] and all domain in [\"*.example.com\", \"x.y\"]\n  then allow\n}\n";
    let mut s = gaitc::check::Session::new();
    let id = s.load_source("p.gaitpol", src, std::path::Path::new("."));
    let policy = s.check(id).policy.unwrap();
    let tables = tables_for(&policy);
    let long_path = format!("/workspace{}", "/seg".repeat(50_000));
    let deep_host = format!("{}example.com", "a.".repeat(20_000));
    let mut scratch = Scratch::default();
    for (path, host, want_allow) in [
        (long_path.clone(), deep_host.clone(), true),
        (
            format!("/a/b/c/d/e/f/g/h{}", "/x".repeat(1000)),
            "x.y".to_owned(),
            true,
        ),
        (
            format!("/a/b/c/d/e/f/g{}", "/x".repeat(1000)),
            "x.y".to_owned(),
            false,
        ),
        (
            long_path.replacen("/workspace", "/workspacex", 1),
            deep_host,
            false,
        ),
        (
            long_path,
            format!("{}example.org", "a.".repeat(20_000)),
            false,
        ),
    ] {
        let intent = Intent {
            tool: "t".into(),
            risk: Risk::Low,
            targets: smallvec_of(vec![path_target(path), host_target(host)]),
            ..Intent::default()
        };
        let got = tables.decide(&intent, &mut scratch);
        assert_eq!(got, gaitc::eval::evaluate(&policy, &intent));
        assert_eq!(got.verdict == Verdict::Allow, want_allow, "{got:?}");
    }
}

/// The lookups skip a value part whose length no key of the table has
/// (lengths 63 and over share one mark): keys of every length around that
/// bound — prefixes, segment suffixes, exact paths, domain suffixes — match
/// the values of their own length and no value of another length, exactly
/// as the reference says.
#[test]
fn keys_around_the_length_mark_match_like_the_reference() {
    let seg = |n: usize| "s".repeat(n);
    // `n` bytes of host labels of letter `c` (a `.` every tenth byte:
    // labels stay short). Each key has its own letter: labels of one letter
    // repeat, so a longer host of the same letter would end in a shorter
    // key's labels and match it (rightly: `*.` matches at any label).
    let labels = |n: usize, c: char| -> String {
        (0..n)
            .map(|i| if i % 10 == 9 && i + 1 < n { '.' } else { c })
            .collect()
    };
    let letter = |n: usize| char::from(b'a' + (n % 26) as u8);
    // For each `n`: a prefix key and an exact path of `n` bytes, a segment
    // suffix of `n + 1`, a domain suffix of `n - 1` (59 to 65 bytes, and
    // 128 to 130: both sides of the shared mark for 63 and over).
    let lens = [60usize, 61, 62, 63, 64, 129];
    let mut globs = Vec::new();
    for &n in &lens {
        globs.push(format!("\"/p{}/**\"", seg(n - 2)));
        globs.push(format!("\"**/q{}\"", seg(n - 1)));
        globs.push(format!("\"/e{}\"", seg(n - 2)));
    }
    let hosts: Vec<String> = lens
        .iter()
        .map(|&n| format!("\"*.{}.com\"", labels(n - 5, letter(n))))
        .collect();
    let src = format!(
        "policy \"p\" version \"1.0.0\"\n\ndefault block\n\nrule r {{\n  when any path in [{}] or any domain in [{}]\n  then allow\n}}\n",
        globs.join(", "),
        hosts.join(", ")
    );
    let mut s = gaitc::check::Session::new();
    let id = s.load_source("p.gaitpol", &src, std::path::Path::new("."));
    let policy = s.check(id).policy.expect("the policy checks");
    let tables = tables_for(&policy);
    let mut scratch = Scratch::default();
    let mut allowed = 0;
    let mut cases = 0;
    for &n in &lens {
        for m in [n - 1, n, n + 1] {
            let values = [
                (format!("/p{}", seg(m - 2)), false),
                (format!("/p{}/x", seg(m - 2)), false),
                (format!("/a/b/q{}", seg(m - 1)), false),
                (format!("/e{}", seg(m - 2)), false),
                (format!("x.{}.com", labels(m - 5, letter(n))), true),
            ];
            for (value, is_host) in values {
                let target = if is_host {
                    host_target(value)
                } else {
                    path_target(value)
                };
                let intent = Intent {
                    tool: "t".into(),
                    risk: Risk::Low,
                    targets: smallvec_of(vec![target]),
                    ..Intent::default()
                };
                let got = tables.decide(&intent, &mut scratch);
                assert_eq!(got, gaitc::eval::evaluate(&policy, &intent), "{intent:?}");
                // A value matches exactly when a key has its length: the
                // paths beside `n` match only where their length is in
                // `lens` too (60 to 64 neighbour each other); a host only
                // its own key (its letter is `n`'s).
                let want = if is_host { m == n } else { lens.contains(&m) };
                assert_eq!(
                    got.verdict == Verdict::Allow,
                    want,
                    "length {m} (beside {n}): {intent:?}"
                );
                cases += 1;
                allowed += usize::from(got.verdict == Verdict::Allow);
            }
        }
    }
    assert_eq!(cases, lens.len() * 3 * 5);
    assert!(allowed < cases, "near misses must be refused");
}

/// Large pattern sets take the compact storage forms — `**/a/b` globs in
/// the segment-suffix table, big automata stored sparse beside small dense
/// ones — and still decide every path and command exactly as the reference
/// does.
#[test]
fn compact_matchers_decide_like_the_reference() {
    // Many suffix globs with a wildcard segment: one big group.
    let exts = [
        "pem", "key", "p8", "ppk", "p12", "pfx", "jks", "keystore", "ovpn", "kdbx", "crt", "der",
        "asc", "gpg", "kube", "tfstate", "sqlite", "bak", "swp", "env",
    ];
    let mut globs: Vec<String> = exts.iter().map(|e| format!("**/*.{e}")).collect();
    globs.extend(exts.iter().map(|e| format!("**/.{e}.*")));
    globs.extend(
        [
            "**/.ssh/config",
            "/**/.aws/credentials",
            "**/id_rsa",
            "**/.aws/sso/cache/**",
        ]
        .map(String::from),
    );
    // Wildcards in the last 2 and 3 segments: anchored automata over those
    // segments only.
    globs.extend(["**/.ssh/id_*", "**/a/*/b*", "/**/k/?"].map(String::from));
    // Command globs: a small dense automaton.
    let cmds: Vec<String> = ["sh", "fs", "ctl", "adm", "admin", "exec", "run", "ssh"]
        .iter()
        .map(|c| format!("*{c}"))
        .collect();
    let list = |v: &[String]| {
        v.iter()
            .map(|g| format!("{g:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let src = format!(
        "policy \"p\" version \"1.0.0\"\n\ndefault allow\n\nrule secrets {{\n  when any path in [{}]\n  then block\n}}\n\nrule tools {{\n  when any command in [{}]\n  then block\n}}\n",
        list(&globs),
        list(&cmds)
    );
    let mut s = gaitc::check::Session::new();
    let id = s.load_source("p.gaitpol", &src, std::path::Path::new("."));
    let policy = s
        .check(id)
        .policy
        .unwrap_or_else(|| panic!("{:?}", s.diagnostics()));
    let data = gaitc::lower::lower(&policy).expect("lowers");
    let dfas: Vec<&gait_run::tables::DfaData> =
        data.matchers.iter().flat_map(|m| &m.dfas).collect();
    assert!(
        dfas.iter().any(|d| d.sparse),
        "a large automaton is stored sparse"
    );
    assert!(dfas.iter().any(|d| !d.sparse), "a small one stays dense");
    for k in [1, 2, 3] {
        assert!(
            dfas.iter().any(|d| d.segments == k),
            "an automaton over the last {k} segments"
        );
    }
    assert!(
        data.matchers[gait_run::tables::matcher::PATH]
            .suffix
            .entries
            .len()
            >= 2 * 3,
        "`**/a/b` globs are in the segment-suffix table"
    );
    let tables = tables_for(&policy);
    let mut scratch = Scratch::default();
    let mut paths: Vec<String> = Vec::new();
    for e in exts {
        for p in [
            format!("/w/a.{e}"),
            format!("/w/.{e}"),
            format!("/w/.{e}.local"),
            format!("/w/.{e}."),
            format!("/w/a.{e}x"),
            format!("/w/a.{e}/x"),
            format!("/a.{e}"),
            format!("/x/y.{}", &e[1..]),
        ] {
            paths.push(p);
        }
    }
    paths.extend(
        [
            "/.ssh/config",
            "/h/.ssh/config",
            "/h/x.ssh/config",
            "/h/.ssh/config/x",
            "/.aws/credentials",
            "/h/.aws/credentials",
            "/h/aws/credentials",
            "/id_rsa",
            "/h/id_rsa",
            "/h/id_rsa.pub",
            "/h/xid_rsa",
            "/h/.aws/sso/cache",
            "/h/.aws/sso/cache/t",
            "/h/.aws/sso/cachet",
            "/",
        ]
        .map(String::from),
    );
    paths.extend(
        [
            "/id_rsa",
            "/.ssh/id_rsa",
            "/x/.ssh/id_rsa",
            "/x/.ssh/id_rsa/y",
            "/ssh/id_rsa",
            "/a/q/bz",
            "/z/a/q/bz",
            "/a/bz",
            "/a/q/r/bz",
            "/a/q/b",
            "/a//b",
            "/k/x",
            "/m/k/x",
            "/k/xy",
            "/k",
        ]
        .map(String::from),
    );
    // Far longer than any key: the suffix lookups skip what cannot match.
    paths.push(format!("{}/.ssh/config", "/seg".repeat(5_000)));
    paths.push(format!("/.ssh/config{}", "/seg".repeat(5_000)));
    let mut blocked = 0;
    for p in &paths {
        let intent = Intent {
            tool: "t".into(),
            risk: Risk::Low,
            targets: smallvec_of(vec![Target {
                kind: TargetKind::Path,
                value: p.clone().into(),
                operation: None,
                class: EndpointClass::FsRead,
                destructive: false,
                host: None,
                programs: vec![],
            }]),
            ..Intent::default()
        };
        let want = gaitc::eval::evaluate(&policy, &intent);
        assert_eq!(tables.decide(&intent, &mut scratch), want, "{p}");
        blocked += usize::from(want.verdict == gait_run::vocab::Verdict::Block);
    }
    assert!(
        blocked > paths.len() / 3 && blocked < paths.len(),
        "{blocked} of {}",
        paths.len()
    );
    for c in [
        "bash",
        "sh",
        "zsh",
        "ssh",
        "systemctl",
        "ctl",
        "kubectl",
        "ls",
        "shx",
        "useradmin",
        "admi",
        "exec",
        "execx",
        "run",
        "rerun",
        "runx",
    ] {
        let intent = Intent {
            tool: "t".into(),
            risk: Risk::Low,
            targets: smallvec_of(vec![Target {
                kind: TargetKind::Command,
                value: c.into(),
                operation: None,
                class: EndpointClass::ProcExec,
                destructive: false,
                host: None,
                programs: vec![c.into()],
            }]),
            ..Intent::default()
        };
        assert_eq!(
            tables.decide(&intent, &mut scratch),
            gaitc::eval::evaluate(&policy, &intent),
            "{c}"
        );
    }
}

/// A read of path `p` (already normalized).
fn path_target(p: String) -> Target<'static> {
    Target {
        kind: TargetKind::Path,
        value: p.into(),
        operation: None,
        class: EndpointClass::FsRead,
        destructive: false,
        host: None,
        programs: vec![],
    }
}

/// An HTTP call to public host `h` (already normalized).
fn host_target(h: String) -> Target<'static> {
    Target {
        kind: TargetKind::Host,
        value: h.clone().into(),
        operation: None,
        class: EndpointClass::NetHttp,
        destructive: false,
        host: Some((h.into(), HostClass::Public)),
        programs: vec![],
    }
}

fn smallvec_of(v: Vec<Target<'_>>) -> gait_run::intent::Targets<'_> {
    v.into()
}
