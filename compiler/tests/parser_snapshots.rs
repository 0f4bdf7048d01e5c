#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test setup fails loudly"
)]
//! Parser output on the conformance corpus (`tests/conformance/*/policy.gaitpol`):
//! the syntax tree's `Debug` form, spans included, and the comments kept
//! beside it, as insta snapshots (`tests/snapshots/parser/`). A grammar or
//! lexer change that moves a node or a span shows up here.

mod support;

#[test]
fn conformance_policies_parse_to_their_snapshots() {
    let dirs = support::conformance_dirs();
    assert!(!dirs.is_empty(), "no policies in the conformance corpus");
    for dir in &dirs {
        let src = std::fs::read_to_string(dir.join("policy.gaitpol")).unwrap();
        let parsed = gaitc::syntax::parser::parse(&src);
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            parsed.diagnostics.is_empty(),
            "{name}: {:?}",
            parsed.diagnostics
        );
        let text = format!("{:#?}\n\ncomments: {:#?}", parsed.file, parsed.comments);
        insta::with_settings!({snapshot_path => "snapshots/parser", prepend_module_to_snapshot => false}, {
            insta::assert_snapshot!(name, text);
        });
    }
}
