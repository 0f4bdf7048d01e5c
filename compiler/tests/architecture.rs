#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test setup fails loudly"
)]
//! The shape of `compiler/src` (ARCHITECTURE.md, "The compiler's layout"):
//! the import graph has no circle, between files or between top-level
//! modules, and no file is long without saying why.
//!
//! A file's imports are the crate paths it names: `use` trees and
//! `crate::`/`super::` paths in code (comments, strings and `#[cfg(test)]`
//! modules left out), each resolved to the longest module path with a file.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Longest source file without a reason; a longer one holds a line starting
/// with `// length:` that says why.
const MAX_LINES: usize = 800;

type ModPath = Vec<String>;

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// The library's modules by path (`check::lints::policy`), with their text.
/// `main.rs` is another crate and is left out.
fn modules() -> BTreeMap<ModPath, String> {
    let root = src();
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    let mut out = BTreeMap::new();
    for f in files {
        let rel = f.strip_prefix(&root).unwrap().with_extension("");
        let mut path: ModPath = rel
            .components()
            .map(|c| c.as_os_str().to_string_lossy().into_owned())
            .collect();
        if path == ["main"] {
            continue;
        }
        if path.last().is_some_and(|l| l == "mod" || l == "lib") {
            path.pop();
        }
        out.insert(path, std::fs::read_to_string(&f).unwrap());
    }
    out
}

/// The code of a file: comments and string contents blanked, the unit tests cut.
fn code(text: &str) -> String {
    let text = text.split("#[cfg(test)]").next().unwrap_or("");
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    let mut prev = ' ';
    while let Some(c) = chars.next() {
        let after_word = prev.is_alphanumeric() || prev == '_';
        prev = c;
        match c {
            // A raw string: r"...", r#"..."# (quotes inside).
            'r' if !after_word && matches!(chars.peek(), Some('"' | '#')) => {
                let mut hashes = 0;
                while chars.peek() == Some(&'#') {
                    chars.next();
                    hashes += 1;
                }
                if chars.next() != Some('"') {
                    // `r#ident`: not a string.
                    out.push('r');
                    continue;
                }
                'scan: while let Some(c) = chars.next() {
                    if c == '"' {
                        let mut closing = 0;
                        while closing < hashes && chars.peek() == Some(&'#') {
                            chars.next();
                            closing += 1;
                        }
                        if closing == hashes {
                            break 'scan;
                        }
                    }
                }
                out.push_str("\"\"");
                prev = '"';
            }
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '"' => {
                out.push('"');
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        _ => {}
                    }
                }
                out.push('"');
            }
            // A char literal such as '"' or '{' (not a lifetime).
            '\'' => {
                let rest: String = chars.clone().take(3).collect();
                let literal = rest.starts_with('\\') || rest.chars().nth(1) == Some('\'');
                out.push('\'');
                if literal {
                    while let Some(c) = chars.next() {
                        match c {
                            '\\' => {
                                chars.next();
                            }
                            '\'' => break,
                            _ => {}
                        }
                    }
                    out.push('\'');
                }
            }
            _ => out.push(c),
        }
    }
    out
}

/// `a::{b, c::{d, e}}` as `a::b`, `a::c::d`, `a::c::e`.
fn expand(tree: &str) -> Vec<String> {
    let tree = tree.trim();
    let Some(open) = tree.find('{') else {
        let name = tree.split(" as ").next().unwrap_or("");
        return vec![name.chars().filter(|c| !c.is_whitespace()).collect()];
    };
    let head = &tree[..open];
    let inner = tree[open + 1..]
        .strip_suffix('}')
        .unwrap_or(&tree[open + 1..]);
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    parts
        .into_iter()
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .flat_map(|p| expand(&format!("{}{p}", head.trim())))
        .collect()
}

/// The crate paths a module's code names.
fn named_paths(code: &str) -> Vec<String> {
    let mut paths = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("use ") {
        let boundary = i == 0 || !rest[..i].ends_with(|c: char| c.is_alphanumeric() || c == '_');
        let after = &rest[i + 4..];
        let end = after.find(';').unwrap_or(after.len());
        if boundary {
            paths.extend(expand(&after[..end]));
        }
        rest = &after[end.min(after.len())..];
    }
    for prefix in ["crate::", "super::"] {
        let mut from = 0;
        while let Some(i) = code[from..].find(prefix) {
            let start = from + i;
            let len = code[start..]
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .unwrap_or(code.len() - start);
            paths.push(code[start..start + len].trim_end_matches(':').to_owned());
            from = start + len.max(1);
        }
    }
    paths
}

/// The module `path` names from module `here`, when it is one of ours.
fn resolve(path: &str, here: &[String], modules: &BTreeMap<ModPath, String>) -> Option<ModPath> {
    let segments: Vec<&str> = path.split("::").filter(|s| !s.is_empty()).collect();
    let (mut full, rest): (ModPath, &[&str]) = match segments.first()? {
        &"crate" => (Vec::new(), &segments[1..]),
        &"self" => (here.to_vec(), &segments[1..]),
        &"super" => {
            let mut base = here.to_vec();
            let supers = segments.iter().take_while(|s| **s == "super").count();
            base.truncate(base.len().saturating_sub(supers));
            (base, &segments[supers..])
        }
        first => {
            // A child module of this one; anything else is another crate.
            let mut child = here.to_vec();
            child.push((*first).to_owned());
            if !modules.contains_key(&child) {
                return None;
            }
            (here.to_vec(), &segments[..])
        }
    };
    full.extend(rest.iter().map(|s| (*s).to_owned()));
    (0..=full.len())
        .rev()
        .map(|n| full[..n].to_vec())
        .find(|p| modules.contains_key(p))
}

/// Who imports whom: file-level edges, self-loops dropped.
fn graph(modules: &BTreeMap<ModPath, String>) -> BTreeMap<ModPath, BTreeSet<ModPath>> {
    modules
        .iter()
        .map(|(m, text)| {
            let targets = named_paths(&code(text))
                .iter()
                .filter_map(|p| resolve(p, m, modules))
                .filter(|t| t != m)
                .collect();
            (m.clone(), targets)
        })
        .collect()
}

/// A circle of the graph, if there is one.
fn circle(edges: &BTreeMap<ModPath, BTreeSet<ModPath>>) -> Option<Vec<ModPath>> {
    fn visit(
        node: &ModPath,
        edges: &BTreeMap<ModPath, BTreeSet<ModPath>>,
        stack: &mut Vec<ModPath>,
        done: &mut BTreeSet<ModPath>,
    ) -> Option<Vec<ModPath>> {
        if let Some(i) = stack.iter().position(|n| n == node) {
            let mut found = stack[i..].to_vec();
            found.push(node.clone());
            return Some(found);
        }
        if done.contains(node) {
            return None;
        }
        stack.push(node.clone());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(found) = visit(next, edges, stack, done) {
                return Some(found);
            }
        }
        stack.pop();
        done.insert(node.clone());
        None
    }
    let mut done = BTreeSet::new();
    edges
        .keys()
        .find_map(|n| visit(n, edges, &mut Vec::new(), &mut done))
}

fn show(path: &[ModPath]) -> String {
    path.iter()
        .map(|m| {
            if m.is_empty() {
                "crate".to_owned()
            } else {
                m.join("::")
            }
        })
        .collect::<Vec<_>>()
        .join(" -> ")
}

#[test]
fn the_import_graph_has_no_circle() {
    let modules = modules();
    let edges = graph(&modules);
    // The scan sees what it must: a sample of known imports.
    for (from, to) in [
        ("cli::sources", "check"),
        ("check::sets", "check"),
        ("check", "resolve"),
        ("resolve::load", "resolve"),
        ("diag", "span"),
        ("bundle", "lower"),
    ] {
        let from: ModPath = from.split("::").map(str::to_owned).collect();
        let to: ModPath = to.split("::").map(str::to_owned).collect();
        assert!(edges[&from].contains(&to), "{from:?} should import {to:?}");
    }
    if let Some(found) = circle(&edges) {
        panic!("import circle between files: {}", show(&found));
    }
    // Between top-level modules (a directory and everything in it) too.
    let mut top: BTreeMap<ModPath, BTreeSet<ModPath>> = BTreeMap::new();
    for (from, targets) in &edges {
        let from_top: ModPath = from.iter().take(1).cloned().collect();
        let entry = top.entry(from_top.clone()).or_default();
        for t in targets {
            let t: ModPath = t.iter().take(1).cloned().collect();
            if t != from_top && !t.is_empty() {
                entry.insert(t);
            }
        }
    }
    if let Some(found) = circle(&top) {
        panic!("import circle between modules: {}", show(&found));
    }
}

#[test]
fn a_file_over_the_limit_says_why() {
    let root = src();
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    assert!(files.len() > 20, "found {} files", files.len());
    let long: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let text = std::fs::read_to_string(f).unwrap();
            let lines = text.lines().count();
            let reason = text
                .lines()
                .any(|l| l.trim_start().starts_with("// length:"));
            (lines > MAX_LINES && !reason).then(|| format!("{} ({lines} lines)", f.display()))
        })
        .collect();
    assert!(
        long.is_empty(),
        "over {MAX_LINES} lines without a `// length:` reason: {long:?}"
    );
}

#[test]
fn emission_sees_the_checked_policy_not_the_session() {
    let modules = modules();
    let edges = graph(&modules);
    let bundle = &edges[&vec!["bundle".to_owned()]];
    let into_check: Vec<&ModPath> = bundle
        .iter()
        .filter(|t| t.first().is_some_and(|s| s == "check"))
        .collect();
    assert_eq!(
        into_check,
        [&vec!["check".to_owned(), "model".to_owned()]],
        "bundle.rs may use the checked model, not the checker"
    );
}

#[test]
fn the_front_end_stays_behind_the_cli_feature() {
    let root = src();
    let mut files = Vec::new();
    rust_files(&root, &mut files);
    for f in &files {
        let rel = f.strip_prefix(&root).unwrap();
        let front_end =
            rel.starts_with("cli") || rel.starts_with("lsp") || rel == Path::new("main.rs");
        if front_end {
            continue;
        }
        let text = code(&std::fs::read_to_string(f).unwrap());
        for name in [
            "clap::",
            "lsp_server",
            "lsp_types",
            "getrandom",
            "crate::cli",
            "crate::lsp",
        ] {
            assert!(
                !text.contains(name),
                "{} uses `{name}`, which only the `cli` feature provides",
                rel.display()
            );
        }
    }
    let lib = std::fs::read_to_string(root.join("lib.rs")).unwrap();
    for module in ["cli", "lsp"] {
        assert!(
            lib.contains(&format!("#[cfg(feature = \"cli\")]\npub mod {module};")),
            "lib.rs declares `{module}` outside the `cli` feature"
        );
    }
    let manifest =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml")).unwrap();
    for dep in ["clap", "lsp-server", "lsp-types", "getrandom"] {
        let line = manifest
            .lines()
            .find(|l| l.starts_with(&format!("{dep} ")))
            .unwrap_or_else(|| panic!("no `{dep}` dependency"));
        assert!(line.contains("optional = true"), "{line}");
        assert!(
            manifest.contains(&format!("\"dep:{dep}\"")),
            "`cli` does not enable {dep}"
        );
    }
}
