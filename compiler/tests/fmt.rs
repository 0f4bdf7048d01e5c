#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test setup fails loudly"
)]
//! `gaitc fmt`: idempotent, comment-preserving, AST-preserving.

mod support;

use gaitc::fmt::format_source;
use gaitc::syntax::lexer::lex;
use gaitc::syntax::parser::parse;
use proptest::prelude::*;

fn all_policy_files() -> Vec<std::path::PathBuf> {
    let root = support::repo();
    let mut files =
        gaitc::cli::collect_files(&[root.join("examples"), root.join("stdlib")]).unwrap();
    files.retain(|f| !f.to_string_lossy().contains("/invalid/"));
    files
}

fn comment_texts(src: &str) -> Vec<String> {
    lex(src)
        .comments
        .into_iter()
        .map(|c| c.text.trim_end().to_owned())
        .collect()
}

#[test]
fn examples_and_stdlib_are_formatted_and_formatting_is_idempotent() {
    let files = all_policy_files();
    assert!(
        files.len() >= 3,
        "expected the stdlib and examples, found {files:?}"
    );
    for f in files {
        let src = std::fs::read_to_string(&f).unwrap();
        let once = format_source(&src).unwrap_or_else(|e| panic!("{}: {e:?}", f.display()));
        let twice = format_source(&once).unwrap();
        assert_eq!(once, twice, "not idempotent: {}", f.display());
        assert_eq!(
            comment_texts(&src),
            comment_texts(&once),
            "comments changed in {}",
            f.display()
        );
        assert_eq!(
            parse(&src).file,
            parse(&once).file,
            "AST changed in {}",
            f.display()
        );
        assert_eq!(
            src,
            once,
            "{} is not in canonical layout (run `gaitc fmt`)",
            f.display()
        );
    }
}

#[test]
fn comments_survive_in_every_position() {
    let src = "# file\npolicy \"p\" version \"1.0.0\" # header\n\n# before default\ndefault block\nlet s: paths = [\n  # leading element\n  \"/a/**\", # after a\n  \"/b/**\",\n  # before close\n]\nrule r { # after brace\n  # before when\n  when any path in s # after when\n  then block\n  # before close\n} # after rule\ntest \"t\" {\n  intent { # in intent\n    tool \"x\" # after tool\n  }\n  expect block\n}\n# eof\n";
    let out = format_source(src).unwrap();
    assert_eq!(comment_texts(src), comment_texts(&out), "{out}");
    assert_eq!(format_source(&out).unwrap(), out);
    assert_eq!(parse(src).file, parse(&out).file);
}

// ------------------------------------------------------------ generated policies

#[test]
fn approvals_are_laid_out_canonically() {
    let src = "policy \"p\" version \"1.0.0\"\ndefault block\napproval_ttl   2h\ntrust approver \"alice\"   key \"ed25519:AAAA\" ,key \"ed25519:BBBB\"\n\
               let oncall:approvers=[\"alice\",\"bob\"]\n\
               rule deploys { then require_approval approvals 2\n  from oncall+[ \"carol\" ]   interactive # who\n }\n\
               rule deletes { then require_approval\n approvals 1 interactive }\n";
    let once = format_source(src).unwrap();
    assert_eq!(parse(&once).file, parse(src).file, "the AST is kept");
    assert_eq!(format_source(&once).unwrap(), once, "idempotent");
    insta::assert_snapshot!(once);
}

fn ident() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "ws",
        "hosts",
        "bins",
        "tools_a",
        "ids",
        "secrets",
        "x1",
        "workspace",
    ])
    .prop_map(str::to_owned)
}

fn string_lit() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        "/workspace/**",
        "/etc/*",
        "api.github.com",
        "*.stripe.com",
        "rm",
        "read_file",
        "a \\\"quoted\\\" \\\\ x",
        "ünï\\u{e9}",
        "",
    ])
    .prop_map(|s| format!("\"{s}\""))
}

fn ws() -> impl Strategy<Value = String> {
    prop::sample::select(vec![
        " ",
        "  ",
        "\n",
        " \n  ",
        " # c\n",
        "\n# own line\n",
        "\t",
    ])
    .prop_map(str::to_owned)
}

fn atom() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "destructive",
            "skill",
            "skill.signed",
            "skill.verified"
        ])
        .prop_map(str::to_owned),
        (
            prop::sample::select(vec!["any", "all"]),
            prop::sample::select(vec!["path", "domain", "endpoint", "command"]),
            prop::sample::select(vec!["in", "not in"]),
            set_expr()
        )
            .prop_map(|(q, a, op, s)| format!("{q} {a} {op} {s}")),
        (
            prop::sample::select(vec!["tool", "identity", "risk"]),
            prop::sample::select(vec!["==", "!="]),
            prop_oneof![string_lit(), Just("high".to_owned())]
        )
            .prop_map(|(a, op, v)| format!("{a} {op} {v}")),
        set_expr().prop_map(|s| format!("args contain {s}")),
    ]
}

fn set_expr() -> impl Strategy<Value = String> {
    let term = prop_oneof![
        ident(),
        Just("secrets.credentials".to_owned()),
        prop::collection::vec(
            prop_oneof![
                string_lit(),
                Just("fs.read".to_owned()),
                Just("net.*".to_owned())
            ],
            0..4
        )
        .prop_map(|v| format!("[{}]", v.join(", "))),
    ];
    prop::collection::vec(term, 1..3).prop_map(|v| v.join(" + "))
}

fn cond() -> impl Strategy<Value = String> {
    atom().prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} and {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} or {b}")),
            inner.clone().prop_map(|a| format!("not {a}")),
            inner.prop_map(|a| format!("({a})")),
        ]
    })
}

fn rule() -> impl Strategy<Value = String> {
    (
        ident(),
        prop::option::of(0u32..50),
        prop::option::of(cond()),
        prop::sample::select(vec!["allow", "block", "require_approval", "dry_run"]),
        ws(),
        prop::option::of(string_lit()),
        prop::option::of((1u32..4, prop::option::of(set_expr()), any::<bool>())),
    )
        .prop_map(|(n, p, c, v, w, r, a)| {
            let mut s = format!("rule {n}");
            if let Some(p) = p {
                s.push_str(&format!(" priority {p}"));
            }
            s.push_str(" {");
            s.push_str(&w);
            if let Some(c) = c {
                s.push_str(&format!("when {c}{w}"));
            }
            s.push_str(&format!("then {v}"));
            if let Some(r) = r {
                s.push_str(&format!("{w}reason {r}, \"x\""));
            }
            if let Some((count, from, interactive)) = a {
                s.push_str(&format!("{w}approvals {count}"));
                if let Some(from) = from {
                    s.push_str(&format!("{w}from {from}"));
                }
                if interactive {
                    s.push_str(&format!("{w}interactive"));
                }
            }
            s.push_str(" }");
            s
        })
}

fn item() -> impl Strategy<Value = String> {
    prop_oneof![
        rule(),
        (ident(), prop::sample::select(vec!["paths", "domains", "tools"]), set_expr()).prop_map(|(n, t, s)| format!("let {n}: {t} = {s}")),
        Just("import std.secrets".to_owned()),
        Just("import \"lib/x.gaitpol\" as lib".to_owned()),
        Just("map tool \"a\", \"b\" { path args.path as fs.write url args[\"u\"][*] as net.http }".to_owned()),
        Just("map tool \"c\" { command args.cmd as proc.exec }".to_owned()),
        Just("fail_closed { risk [high] require targets, identity }".to_owned()),
        Just("trust publisher \"acme\" key \"ed25519:AAAA\", key \"ed25519:BBBB\"".to_owned()),
        Just("trust approver \"alice\" key \"ed25519:AAAA\", key \"ed25519:BBBB\"".to_owned()),
        Just("approval_ttl 15m".to_owned()),
        Just("pin skill \"s\" version \"1.0.0\" digest \"sha256:00\"".to_owned()),
        (string_lit(), prop::sample::select(vec!["block", "allow"])).prop_map(|(n, v)| format!(
            "test {n} {{ intent {{ tool \"x\" args {{\"a\": [1, -2.5e3, true, null, {{}}], \"b\": \"c\"}} target path \"/x\" op write target url \"u\" op \"get\" risk high provenance user, external skill {{ name \"n\" publisher \"p\" source \"s\" }} }} expect {v} reason \"r\" \"s\" violation \"v\" rule r }}"
        )),
    ]
}

fn policy() -> impl Strategy<Value = String> {
    (prop::collection::vec((item(), ws()), 0..8), ws()).prop_map(|(items, w)| {
        let mut s =
            format!("# generated\npolicy \"p\" version \"1.0.0\" revision 1{w}default block\n");
        for (i, w) in items {
            s.push_str(&i);
            s.push_str(&w);
            s.push('\n');
        }
        s
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn fmt_preserves_the_ast_and_comments_and_is_idempotent(src in policy()) {
        let parsed = parse(&src);
        prop_assert!(parsed.diagnostics.iter().all(|d| !d.is_error()), "generator produced invalid syntax: {:?}\n{src}", parsed.diagnostics);
        let once = format_source(&src).unwrap();
        prop_assert_eq!(&parse(&once).file, &parsed.file, "AST changed:\n{}\n---\n{}", src, once);
        prop_assert_eq!(comment_texts(&src), comment_texts(&once));
        let twice = format_source(&once).unwrap();
        prop_assert_eq!(once, twice);
    }
}
