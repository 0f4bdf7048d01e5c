//! Lexer + parser on arbitrary bytes: never panics, spans stay in bounds.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(src) = std::str::from_utf8(data) {
        let parsed = gaitc::syntax::parser::parse(src);
        for d in &parsed.diagnostics {
            assert!(d.primary.span.end() <= src.len());
            assert!(d.primary.span.start() <= d.primary.span.end());
        }
    }
});
