#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test setup fails loudly"
)]
//! The language server never crashes on half-typed or malformed text:
//! random edits (fragments of real policies inserted, ranges deleted, random
//! characters, lines cut short) are applied to the shipped policies through
//! the server's handlers, and after every edit each request must answer
//! without an error, with every range inside the document.

#[allow(
    dead_code,
    reason = "the text helpers are shared; the client is for tests/lsp.rs"
)]
mod lsp_support;

use gaitc::lsp::{notification, request, Options, Server};
use lsp_server::Message;
use lsp_support::position;
use proptest::prelude::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

fn policies() -> &'static Vec<(PathBuf, String)> {
    static P: OnceLock<Vec<(PathBuf, String)>> = OnceLock::new();
    P.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let files = gaitc::cli::collect_files(&[
            root.join("examples"),
            root.join("stdlib"),
            root.join("tests/invalid"),
        ])
        .unwrap();
        files
            .into_iter()
            .map(|f| {
                let text = std::fs::read_to_string(&f).unwrap();
                (f.canonicalize().unwrap(), text)
            })
            .collect()
    })
}

#[derive(Debug, Clone)]
enum Edit {
    /// Insert a fragment of another policy at a fraction of the text.
    Fragment {
        policy: usize,
        from: f64,
        len: usize,
        at: f64,
    },
    /// Delete `len` characters at a fraction of the text.
    Delete { at: f64, len: usize },
    /// Insert random characters (any Unicode, controls and bidi included).
    Junk { at: f64, text: String },
    /// Cut the line at a fraction of the text (a half-typed line).
    CutLine { at: f64 },
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), 0.0..1.0f64, 1usize..120, 0.0..1.0f64).prop_map(
            |(policy, from, len, at)| Edit::Fragment {
                policy,
                from,
                len,
                at
            }
        ),
        (0.0..1.0f64, 1usize..80).prop_map(|(at, len)| Edit::Delete { at, len }),
        (
            0.0..1.0f64,
            "(\\PC|[\\u{202E}\\u{0}\\r\\t\"\\[\\]{}#.])*{0,24}"
        )
            .prop_map(|(at, text)| Edit::Junk { at, text }),
        (0.0..1.0f64).prop_map(|at| Edit::CutLine { at }),
    ]
}

/// The char boundary nearest below `frac` of the text.
fn boundary(text: &str, frac: f64) -> usize {
    let mut i = ((text.len() as f64) * frac) as usize;
    i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn chars_end(text: &str, start: usize, n: usize) -> usize {
    text[start..]
        .char_indices()
        .nth(n)
        .map(|(i, _)| start + i)
        .unwrap_or(text.len())
}

fn apply(text: &str, e: &Edit) -> String {
    let mut t = text.to_owned();
    match e {
        Edit::Fragment {
            policy,
            from,
            len,
            at,
        } => {
            let (_, src) = &policies()[policy % policies().len()];
            let s = boundary(src, *from);
            let frag = &src[s..chars_end(src, s, *len)];
            t.insert_str(boundary(&t, *at), frag);
        }
        Edit::Delete { at, len } => {
            let s = boundary(&t, *at);
            let e = chars_end(&t, s, *len);
            t.replace_range(s..e, "");
        }
        Edit::Junk { at, text } => t.insert_str(boundary(&t, *at), text),
        Edit::CutLine { at } => {
            let s = boundary(&t, *at);
            let end = t[s..].find('\n').map(|i| s + i).unwrap_or(t.len());
            t.replace_range(s..end, "");
        }
    }
    t
}

/// UTF-16 length of every line; lines end at `\r\n`, `\n` or a lone `\r`
/// (the LSP specification), and a line end is not part of its line.
fn line_lengths(text: &str) -> Vec<usize> {
    text.replace("\r\n", "\n")
        .split(['\n', '\r'])
        .map(|l| l.chars().map(char::len_utf16).sum())
        .collect()
}

/// Every `{start, end}` range of `v` outside objects about another URI is inside the text.
fn check_ranges(v: &Value, uri: &str, lines: &[usize], what: &str) {
    match v {
        Value::Object(o) => {
            if o.get("uri").is_some_and(|u| u != uri) {
                return;
            }
            if let (Some(s), Some(e)) = (o.get("start"), o.get("end")) {
                let pos = |p: &Value| {
                    let l = p["line"].as_u64().unwrap() as usize;
                    let c = p["character"].as_u64().unwrap() as usize;
                    assert!(l < lines.len(), "{what}: line {l} past the end ({v})");
                    assert!(c <= lines[l], "{what}: column {c} past line {l} ({v})");
                    (l, c)
                };
                assert!(pos(s) <= pos(e), "{what}: inverted range {v}");
            }
            for child in o.values() {
                check_ranges(child, uri, lines, what);
            }
        }
        Value::Array(a) => a.iter().for_each(|c| check_ranges(c, uri, lines, what)),
        _ => {}
    }
}

fn run_requests(server: &mut Server, uri: &str, text: &str, probes: &[(f64, f64)], id: &mut i32) {
    let lines = line_lengths(text);
    let now = Instant::now();
    for msg in server.flush(now + Duration::from_secs(1)) {
        let Message::Notification(n) = msg else {
            panic!("unexpected message")
        };
        assert_eq!(n.method, "textDocument/publishDiagnostics");
        check_ranges(&n.params, uri, &lines, "diagnostics");
    }
    let pos = |frac: f64| position(text, boundary(text, frac));
    let doc = json!({"uri": uri});
    for &(a, b) in probes {
        let (p, q) = (pos(a.min(b)), pos(a.max(b)));
        let reqs = [
            (
                "textDocument/hover",
                json!({"textDocument": doc, "position": p}),
            ),
            (
                "textDocument/definition",
                json!({"textDocument": doc, "position": p}),
            ),
            (
                "textDocument/completion",
                json!({"textDocument": doc, "position": p}),
            ),
            (
                "textDocument/codeAction",
                json!({"textDocument": doc, "range": {"start": p, "end": q}, "context": {"diagnostics": []}}),
            ),
            ("textDocument/documentSymbol", json!({"textDocument": doc})),
            (
                "textDocument/formatting",
                json!({"textDocument": doc, "options": {"tabSize": 2, "insertSpaces": true}}),
            ),
        ];
        for (method, params) in reqs {
            *id += 1;
            let out = server.handle(request(*id, method, params), now);
            let [Message::Response(r)] = out.as_slice() else {
                panic!("{method}: expected one response, got {out:?}")
            };
            match &r.response_result {
                Ok(result) => check_ranges(result, uri, &lines, method),
                Err(e) => panic!("{method} failed: {e:?}"),
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_edits_never_crash_the_server(
        which in any::<usize>(),
        edits in prop::collection::vec(edit(), 1..6),
        probes in prop::collection::vec((0.0..1.0f64, 0.0..1.0f64), 1..4),
    ) {
        let cache = tempfile::tempdir().unwrap();
        let mut server = Server::new(&Options { debounce: Duration::ZERO, cache_dir: cache.path().to_path_buf() });
        let (path, original) = &policies()[which % policies().len()];
        let uri = url::Url::from_file_path(path).unwrap().to_string();
        let now = Instant::now();
        let opened = server.handle(
            notification("textDocument/didOpen", json!({"textDocument": {"uri": uri, "languageId": "gaitpol", "version": 1, "text": original}})),
            now,
        );
        prop_assert_eq!(opened.len(), 1);
        let mut id = 0;
        run_requests(&mut server, &uri, original, &probes, &mut id);
        let mut text = original.clone();
        for (version, e) in edits.iter().enumerate() {
            text = apply(&text, e);
            let out = server.handle(
                notification("textDocument/didChange", json!({"textDocument": {"uri": uri, "version": version + 2}, "contentChanges": [{"text": text}]})),
                now,
            );
            prop_assert!(out.is_empty());
            run_requests(&mut server, &uri, &text, &probes, &mut id);
        }
        let closed = server.handle(notification("textDocument/didClose", json!({"textDocument": {"uri": uri}})), now);
        prop_assert_eq!(closed.len(), 1);
    }
}
