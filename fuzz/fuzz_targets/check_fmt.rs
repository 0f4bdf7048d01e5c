//! The whole checker on arbitrary text (imports resolve into an empty
//! directory), plus the formatter's contract: when text parses, its formatting
//! parses to the same tree and formatting again changes nothing.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else { return };
    let mut session = gaitc::check::Session::new();
    let id = session.load_source("fuzz.gaitpol", src, std::path::Path::new("/nonexistent-fuzz-dir"));
    let _ = session.check(id);
    let diags = session.diagnostics();
    let _ = gaitc::diag::render::json(&diags, &session.sources);
    let _ = gaitc::diag::render::text(&diags, &session.sources, true, false);
    if let Ok(once) = gaitc::fmt::format_source(src) {
        let reparsed = gaitc::syntax::parser::parse(&once);
        assert!(reparsed.diagnostics.iter().all(|d| !d.is_error()), "formatted text does not parse:\n{once}");
        assert_eq!(reparsed.file, gaitc::syntax::parser::parse(src).file);
        assert_eq!(gaitc::fmt::format_source(&once).ok().as_deref(), Some(once.as_str()));
    }
});
