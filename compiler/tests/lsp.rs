#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    reason = "test setup fails loudly"
)]
//! `gaitc lsp` spoken to over stdio, as an editor would: initialize,
//! diagnostics on open/change/close, hover, definition (same file, another
//! file, the stdlib), symbols, completion, formatting, code actions, shutdown.

mod lsp_support;

use lsp_support::{apply_edits, file_uri, pos_of, position, Client};
use serde_json::{json, Value};
use std::path::Path;
use std::process::Command;

const POLICY: &str = r#"policy "t" version "1.0.0"

default block

import std.secrets
import "shared.gaitpol" as shared

let workspace: paths = ["/workspace/**"]

rule no_etc priority 10 {
  when path in ["/etc//shadow"]
  then block
  reason "etc_access"
}

rule io priority 20 {
  when all path in workspce and all endpoint in [fs.raed]
  then allow
  reason "io"
}

rule secrets_never priority 5 {
  when any path in secrets.credentials or any domain in shared.hosts
  then block
}

test "etc is blocked" {
  intent { tool "read_file" target path "/etc/shadow" }
  expect block rule no_etc
}
"#;

const SHARED: &str = r#"let hosts: domains = ["api.github.com", "*.stripe.com"]
let scratch: paths = ["/tmp/**"]
"#;

/// `POLICY` with its errors corrected: it checks clean.
fn fixed_policy() -> String {
    POLICY
        .replace(
            "when path in [\"/etc//shadow\"]",
            "when any path in [\"/etc/shadow\"]",
        )
        .replace("workspce", "workspace")
        .replace("fs.raed", "fs.read")
}

struct Fixture {
    dir: tempfile::TempDir,
    cache: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Fixture {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("policy.gaitpol"), POLICY).unwrap();
        std::fs::write(dir.path().join("shared.gaitpol"), SHARED).unwrap();
        Fixture {
            dir,
            cache: tempfile::tempdir().unwrap(),
        }
    }
    fn path(&self, name: &str) -> std::path::PathBuf {
        self.dir.path().canonicalize().unwrap().join(name)
    }
    fn uri(&self, name: &str) -> String {
        file_uri(&self.path(name))
    }
    fn start(&self) -> Client {
        Client::start(
            self.dir.path(),
            json!({"debounceMs": 5, "cacheDir": self.cache.path()}),
        )
        .0
    }
}

fn codes(diags: &[Value]) -> Vec<String> {
    diags
        .iter()
        .map(|d| d["code"].as_str().unwrap().to_owned())
        .collect()
}

fn range(start: (u64, u64), end: (u64, u64)) -> Value {
    json!({"start": {"line": start.0, "character": start.1},
           "end": {"line": end.0, "character": end.1}})
}

fn gaitc(args: &[&str], dir: &Path, stdin: Option<&str>) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gaitc"))
        .args(args)
        .current_dir(dir)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    if let Some(input) = stdin {
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(input.as_bytes())
            .unwrap();
    }
    drop(child.stdin.take());
    let out = child.wait_with_output().unwrap();
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn initialize_advertises_the_features_and_shutdown_exits_0() {
    let f = Fixture::new();
    let (client, result) = Client::start(f.dir.path(), json!({}));
    let caps = &result["capabilities"];
    assert_eq!(caps["textDocumentSync"]["change"], 1, "full sync");
    assert_eq!(caps["positionEncoding"], "utf-16");
    for cap in [
        "hoverProvider",
        "definitionProvider",
        "documentSymbolProvider",
        "documentFormattingProvider",
    ] {
        assert_eq!(caps[cap], true, "{cap}");
    }
    assert_eq!(
        caps["codeActionProvider"]["codeActionKinds"],
        json!(["quickfix"])
    );
    assert!(caps["completionProvider"].is_object());
    assert_eq!(result["serverInfo"]["name"], "gaitc");
    assert_eq!(client.shutdown(), 0);
}

#[test]
fn exit_without_shutdown_exits_1() {
    let f = Fixture::new();
    let (mut client, _) = Client::start(f.dir.path(), json!({}));
    client.notify("exit", Value::Null);
    assert_eq!(client.hang_up(), 1);
}

#[test]
fn diagnostics_on_open_are_those_of_gaitc_check() {
    let f = Fixture::new();
    let mut c = f.start();
    let diags = c.open(&f.uri("policy.gaitpol"), POLICY);
    assert_eq!(codes(&diags), ["W0001", "E0031", "E0040", "E0020", "E0034"]);
    // Exact ranges (0-based lines, UTF-16 columns).
    assert_eq!(diags[0]["range"], range((7, 4), (7, 13)));
    assert_eq!(diags[1]["range"], range((10, 7), (10, 11)));
    assert_eq!(diags[2]["range"], range((10, 16), (10, 30)));
    assert_eq!(diags[3]["range"], range((16, 19), (16, 27)));
    assert_eq!(diags[4]["range"], range((16, 49), (16, 56)));
    assert_eq!(diags[0]["severity"], 2);
    assert_eq!(diags[0]["tags"], json!([1]), "unused: `Unnecessary`");
    assert_eq!(diags[1]["severity"], 1);
    assert_eq!(diags[1]["source"], "gaitc");
    let help = diags[3]["message"].as_str().unwrap();
    assert!(
        help.starts_with("unknown set `workspce`")
            && help.ends_with("help: did you mean `workspace`?"),
        "{help}"
    );

    // The same findings, at the same places, as `gaitc check --format json`.
    let json: Value = serde_json::from_str(&gaitc(
        &["check", "--format", "json", "policy.gaitpol"],
        f.dir.path(),
        None,
    ))
    .unwrap();
    let cli: Vec<(String, u64, u64, u64, u64)> = json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            (
                d["code"].as_str().unwrap().to_owned(),
                d["line"].as_u64().unwrap() - 1,
                d["column"].as_u64().unwrap() - 1,
                d["end_line"].as_u64().unwrap() - 1,
                d["end_column"].as_u64().unwrap() - 1,
            )
        })
        .collect();
    let lsp: Vec<(String, u64, u64, u64, u64)> = diags
        .iter()
        .map(|d| {
            let r = &d["range"];
            (
                d["code"].as_str().unwrap().to_owned(),
                r["start"]["line"].as_u64().unwrap(),
                r["start"]["character"].as_u64().unwrap(),
                r["end"]["line"].as_u64().unwrap(),
                r["end"]["character"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(lsp, cli);
}

#[test]
fn related_information_points_at_the_other_definition() {
    let f = Fixture::new();
    let mut c = f.start();
    let text = "let a: paths = [\"/x/**\"]\nlet a: paths = [\"/y/**\"]\n";
    let uri = f.uri("dup.gaitpol");
    let diags = c.open(&uri, text);
    let dup = diags.iter().find(|d| d["code"] == "E0021").expect("E0021");
    assert_eq!(dup["range"], range((1, 4), (1, 5)));
    let related = dup["relatedInformation"].as_array().unwrap();
    assert_eq!(related.len(), 1);
    assert_eq!(related[0]["location"]["uri"], uri);
    assert_eq!(related[0]["location"]["range"], range((0, 4), (0, 5)));
}

#[test]
fn change_republishes_and_close_clears() {
    let f = Fixture::new();
    let mut c = f.start();
    let uri = f.uri("policy.gaitpol");
    assert_eq!(c.open(&uri, POLICY).len(), 5);
    let fixed = fixed_policy();
    assert_eq!(codes(&c.change(&uri, 2, &fixed)), Vec::<String>::new());
    // Several quick changes: the last one is what gets published.
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": uri, "version": 3}, "contentChanges": [{"text": POLICY}]}),
    );
    let again = fixed.replace("then allow", "then allw");
    let diags = c.change(&uri, 4, &again);
    assert_eq!(codes(&diags), ["E0001"]);
    c.close(&uri);
    assert_eq!(c.diagnostics(&uri, None), Vec::<Value>::new());
    assert_eq!(c.shutdown(), 0);
}

#[test]
fn positions_are_utf16_code_units() {
    let f = Fixture::new();
    let mut c = f.start();
    // `é` is 2 bytes and 1 UTF-16 unit; `𝔸` is 4 bytes and 2 units.
    let text = "let m: markers = [\"é𝔸\", \"é𝔸\"]\n";
    let uri = f.uri("m.gaitpol");
    let diags = c.open(&uri, text);
    let dup = diags.iter().find(|d| d["code"] == "W0010").expect("W0010");
    let second = text.rfind("\"é𝔸\"").unwrap();
    assert_eq!(dup["range"]["start"], position(text, second));
    assert_eq!(dup["range"]["start"]["character"], 25);
    assert_eq!(dup["range"]["end"]["character"], 30);
}

fn hover_text(c: &mut Client, uri: &str, pos: Value) -> String {
    let h = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": pos}),
    );
    h["contents"]["value"].as_str().unwrap_or("").to_owned()
}

#[test]
fn hover_documents_attributes_sets_rules_values_and_codes() {
    let f = Fixture::new();
    let mut c = f.start();
    let uri = f.uri("policy.gaitpol");
    c.open(&uri, POLICY);

    let attr = hover_text(&mut c, &uri, pos_of(POLICY, "path in workspce", 0, 1));
    assert!(
        attr.contains(
            "attribute (multi-valued: use `any` or `all`), compared with a set of type `paths`"
        ),
        "{attr}"
    );
    assert!(
        attr.contains("The normalized absolute path of each path target."),
        "{attr}"
    );

    let set = hover_text(&mut c, &uri, pos_of(POLICY, "shared.hosts", 0, 8));
    assert!(set.contains("let shared.hosts: domains"), "{set}");
    assert!(
        set.contains("2 values:\n- `api.github.com`\n- `*.stripe.com`"),
        "{set}"
    );

    let rule = hover_text(&mut c, &uri, pos_of(POLICY, "no_etc", 1, 2));
    assert!(
        rule.contains("verdict: **block**; priority (tier): 10"),
        "{rule}"
    );
    assert!(rule.contains("reason: `etc_access`"), "{rule}");

    let value = hover_text(&mut c, &uri, pos_of(POLICY, "fs.raed", 0, 2));
    assert!(
        value.starts_with("`fs.raed`: not a endpoint class"),
        "{value}"
    );

    // On a diagnostic: the code's `gaitc explain` text.
    let explain = gaitc(&["explain", "E0031"], f.dir.path(), None);
    let on_error = hover_text(&mut c, &uri, pos_of(POLICY, "path in [\"/etc", 0, 2));
    assert!(
        on_error.contains("**E0031** (error): missing quantifier on a multi-valued attribute"),
        "{on_error}"
    );
    assert!(on_error.contains(explain.trim_end()), "{on_error}");
}

fn definition(c: &mut Client, uri: &str, pos: Value) -> Value {
    c.request(
        "textDocument/definition",
        json!({"textDocument": {"uri": uri}, "position": pos}),
    )
}

#[test]
fn definition_of_sets_rules_imports_and_stdlib_names() {
    let f = Fixture::new();
    let mut c = f.start();
    let uri = f.uri("policy.gaitpol");
    let fixed = POLICY.replace("workspce", "workspace");
    c.open(&uri, &fixed);

    let local = definition(&mut c, &uri, pos_of(&fixed, "in workspace", 0, 5));
    assert_eq!(local, json!({"uri": uri, "range": range((7, 4), (7, 13))}));

    let rule = definition(&mut c, &uri, pos_of(&fixed, "rule no_etc", 1, 6));
    assert_eq!(rule, json!({"uri": uri, "range": range((9, 5), (9, 11))}));

    // Into another file of the workspace.
    let shared = definition(&mut c, &uri, pos_of(&fixed, "shared.hosts", 0, 9));
    assert_eq!(
        shared,
        json!({"uri": f.uri("shared.gaitpol"), "range": range((0, 4), (0, 9))})
    );
    let import = definition(&mut c, &uri, pos_of(&fixed, "\"shared.gaitpol\"", 0, 3));
    assert_eq!(
        import,
        json!({"uri": f.uri("shared.gaitpol"), "range": range((0, 0), (0, 0))})
    );

    // Into the stdlib: a read-only copy in the cache, named by content digest.
    let std = definition(&mut c, &uri, pos_of(&fixed, "secrets.credentials", 0, 10));
    let std_uri = std["uri"].as_str().unwrap();
    let std_path = url::Url::parse(std_uri).unwrap().to_file_path().unwrap();
    assert!(
        std_path.starts_with(
            f.cache
                .path()
                .canonicalize()
                .unwrap_or(f.cache.path().to_path_buf())
        ) || std_path.starts_with(f.cache.path()),
        "{std_uri}"
    );
    assert!(std_path
        .parent()
        .unwrap()
        .file_name()
        .unwrap()
        .to_str()
        .unwrap()
        .starts_with("stdlib-"));
    assert_eq!(std_path.file_name().unwrap(), "secrets.gaitpol");
    let src = std::fs::read_to_string(&std_path).unwrap();
    assert_eq!(src, include_str!("../../stdlib/secrets.gaitpol"));
    assert!(std::fs::metadata(&std_path)
        .unwrap()
        .permissions()
        .readonly());
    let start = lsp_support::offset(&src, &std["range"]["start"]);
    let end = lsp_support::offset(&src, &std["range"]["end"]);
    assert_eq!(&src[start..end], "credentials");
    assert!(src[..start].ends_with("let "));

    let std_module = definition(&mut c, &uri, pos_of(&fixed, "std.secrets", 0, 5));
    assert_eq!(std_module["uri"], std["uri"]);
}

#[test]
fn definition_of_an_approvers_set_used_in_from() {
    let f = Fixture::new();
    let mut c = f.start();
    let uri = f.uri("policy.gaitpol");
    let text = "policy \"p\" version \"1.0.0\"\n\ndefault block\n\n\
                trust approver \"alice\" key \"ed25519:39lyMPTOAWJma2U5s5lqL3KiMQiU8tPo7S6rYnqM2Wk=\"\n\n\
                let oncall: approvers = [\"alice\"]\n\n\
                rule r {\n  then require_approval\n  approvals 1 from oncall\n}\n";
    c.open(&uri, text);
    let def = definition(&mut c, &uri, pos_of(text, "from oncall", 0, 6));
    assert_eq!(def, json!({"uri": uri, "range": range((6, 4), (6, 10))}));
}

#[test]
fn an_open_module_replaces_its_file_and_changes_recheck_importers() {
    let f = Fixture::new();
    let mut c = f.start();
    let policy = f.uri("policy.gaitpol");
    let shared = f.uri("shared.gaitpol");
    let fixed = fixed_policy();
    assert_eq!(c.open(&policy, &fixed), Vec::<Value>::new());
    // The module is opened and `hosts` renamed without saving: the importer
    // is re-checked against the editor's text.
    let diags = c.open(&shared, SHARED);
    assert!(codes(&diags).iter().all(|c| c == "W0001"), "{diags:?}");
    c.change(&shared, 2, &SHARED.replace("hosts", "hostz"));
    let importer = c.diagnostics(&policy, Some(1));
    assert_eq!(codes(&importer), ["E0020"]);
    assert_eq!(
        importer[0]["message"],
        "module `shared` has no set `hosts` (unknown set)\nhelp: did you mean `shared.hostz`?"
    );
    // Closed unsaved: the file on disk counts again.
    c.close(&shared);
    assert_eq!(c.diagnostics(&shared, None), Vec::<Value>::new());
    assert_eq!(c.diagnostics(&policy, Some(1)), Vec::<Value>::new());
}

#[test]
fn document_symbols_list_rules_sets_mappings_and_tests() {
    let f = Fixture::new();
    let mut c = f.start();
    let uri = f.uri("policy.gaitpol");
    let text = format!("{POLICY}\nmap tool \"exec\" {{ command args.command as proc.exec }}\n");
    c.open(&uri, &text);
    let syms = c.request(
        "textDocument/documentSymbol",
        json!({"textDocument": {"uri": uri}}),
    );
    let got: Vec<(String, u64, String)> = syms
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["name"].as_str().unwrap().to_owned(),
                s["kind"].as_u64().unwrap(),
                s["detail"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let want: Vec<(String, u64, String)> = [
        ("policy t", 2, "version 1.0.0"),
        ("std.secrets", 3, "import"),
        ("\"shared.gaitpol\"", 3, "as shared"),
        ("workspace", 13, "paths"),
        ("no_etc", 12, "block, priority 10"),
        ("io", 12, "allow, priority 20"),
        ("secrets_never", 12, "block, priority 5"),
        ("etc is blocked", 6, "test"),
        ("map tool exec", 23, "1 targets"),
    ]
    .iter()
    .map(|(n, k, d)| (n.to_string(), *k, d.to_string()))
    .collect();
    assert_eq!(got, want);
    assert_eq!(syms[4]["selectionRange"], range((9, 5), (9, 11)));
    assert_eq!(syms[4]["range"], range((9, 0), (13, 1)));
}

fn labels(c: &mut Client, uri: &str, pos: Value) -> Vec<String> {
    let items = c.request(
        "textDocument/completion",
        json!({"textDocument": {"uri": uri}, "position": pos}),
    );
    let list = items.as_array().cloned().unwrap_or_default();
    list.iter()
        .map(|i| i["label"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn completion_fits_the_context() {
    let f = Fixture::new();
    let mut c = f.start();
    let uri = f.uri("policy.gaitpol");
    let text = r#"policy "t" version "1.0.0"
default block
import "shared.gaitpol" as shared
let ws: paths = ["/workspace/**"]
let hs: domains = ["example.com"]
rule r {
  when 
  then 
}
rule s {
  when any endpoint in [fs.read, 
  then block
}
rule u {
  when all path in 
  then block
}
rule v {
  when any domain in sh
  then block
}
rule w {
  
}
let x: 
"#;
    c.open(&uri, text);
    // Attributes and flags after `when`.
    let after_when = labels(&mut c, &uri, pos_of(text, "when \n", 0, 5));
    for want in [
        "tool",
        "path",
        "endpoint",
        "destructive",
        "skill.verified",
        "any",
        "all",
        "not",
    ] {
        assert!(
            after_when.contains(&want.to_owned()),
            "{want} in {after_when:?}"
        );
    }
    assert!(!after_when.contains(&"allow".to_owned()));
    // Verdicts after `then`.
    assert_eq!(
        labels(&mut c, &uri, pos_of(text, "then \n", 0, 5)),
        ["allow", "dry_run", "require_approval", "block"]
    );
    // Enum values inside the list of an enum attribute, with documentation.
    let values = c.request(
        "textDocument/completion",
        json!({"textDocument": {"uri": uri}, "position": pos_of(text, "fs.read, ", 0, 9)}),
    );
    let values = values.as_array().unwrap();
    let names: Vec<&str> = values
        .iter()
        .map(|v| v["label"].as_str().unwrap())
        .collect();
    // Every spelling the runtime's vocabulary has, in its order.
    assert_eq!(names, gait_run::vocab::EndpointClass::SPELLINGS);
    assert_eq!(values[0]["detail"], "endpoint class (`endpoint`)");
    assert!(values[0]["documentation"]["value"]
        .as_str()
        .unwrap()
        .starts_with("The endpoint class of each target"));
    // Sets of the attribute's type only: `paths` for `path`, `domains` for `domain`.
    assert_eq!(
        labels(&mut c, &uri, pos_of(text, "all path in \n", 0, 12)),
        ["shared.scratch", "ws"]
    );
    assert_eq!(
        labels(&mut c, &uri, pos_of(text, "domain in sh", 0, 12)),
        ["shared.hosts", "hs"]
    );
    // Clause keywords inside a rule, set types after `let NAME:`.
    let clauses = labels(&mut c, &uri, pos_of(text, "rule w {\n  ", 0, 11));
    assert_eq!(
        clauses,
        [
            "when",
            "then",
            "reason",
            "violation",
            "explain",
            "approvals"
        ]
    );
    let types = labels(&mut c, &uri, pos_of(text, "let x: ", 0, 7));
    assert!(types.contains(&"paths".to_owned()) && types.contains(&"domains".to_owned()));
    // Item keywords at the top level.
    let top = labels(&mut c, &uri, pos_of(text, "let x", 0, 0));
    assert!(top.contains(&"rule".to_owned()) && top.contains(&"import".to_owned()));
}

#[test]
fn formatting_equals_gaitc_fmt() {
    let f = Fixture::new();
    let mut c = f.start();
    let uri = f.uri("messy.gaitpol");
    let messy = "policy \"t\"   version \"1.0.0\"\ndefault    block\nrule r priority 1 { when any path in [\"/a/**\",\"/b/**\"]   then block reason \"x\" }\n";
    c.open(&uri, messy);
    let format = |c: &mut Client| {
        c.request(
            "textDocument/formatting",
            json!({"textDocument": {"uri": uri}, "options": {"tabSize": 2, "insertSpaces": true}}),
        )
    };
    let edits = format(&mut c);
    let formatted = apply_edits(messy, edits.as_array().unwrap());
    assert_eq!(formatted, gaitc(&["fmt", "-"], f.dir.path(), Some(messy)));
    assert_ne!(formatted, messy);
    // Formatted text: no edits. Syntax errors: null (never rewritten).
    c.change(&uri, 2, &formatted);
    let none = format(&mut c);
    assert_eq!(none, json!([]));
    c.change(&uri, 3, "rule {");
    let broken = format(&mut c);
    assert_eq!(broken, Value::Null);
}

#[test]
fn code_actions_apply_the_checkers_fixes() {
    let f = Fixture::new();
    let mut c = f.start();
    let uri = f.uri("policy.gaitpol");
    let mut diags = c.open(&uri, POLICY);
    let mut text = POLICY.to_owned();
    let mut version = 1;
    // Missing quantifier, literal fix, did-you-mean (set), did-you-mean (enum value).
    // Each fix is requested with the ranges of the latest published diagnostics.
    for (code, title) in [
        ("E0031", "Insert `any`"),
        ("E0040", "Replace with \"/etc/shadow\""),
        ("E0020", "Use `workspace`"),
        ("E0034", "Use `fs.read`"),
    ] {
        let d = diags.iter().find(|d| d["code"] == code).unwrap().clone();
        let actions = c.request(
            "textDocument/codeAction",
            json!({"textDocument": {"uri": uri}, "range": d["range"],
                   "context": {"diagnostics": [d]}}),
        );
        let action = actions
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["diagnostics"][0]["code"] == code)
            .unwrap_or_else(|| panic!("no action for {code}: {actions}"))
            .clone();
        assert_eq!(action["title"], title);
        assert_eq!(action["kind"], "quickfix");
        let change = &action["edit"]["documentChanges"][0];
        assert_eq!(
            change["textDocument"],
            json!({"uri": uri, "version": version})
        );
        let edits = change["edits"].as_array().unwrap().clone();
        text = apply_edits(&text, &edits);
        version += 1;
        let after = c.change(&uri, version, &text);
        assert!(
            !codes(&after).contains(&code.to_owned()),
            "{code} still there: {after:?}"
        );
        diags = after;
    }
    assert!(text.contains("when any path in [\"/etc/shadow\"]"));
    assert!(text.contains("when all path in workspace and all endpoint in [fs.read]"));
}

#[test]
fn bad_requests_get_errors_and_the_server_goes_on() {
    let f = Fixture::new();
    let mut c = f.start();
    let unknown = c.request_raw("textDocument/rename", json!({}));
    assert_eq!(unknown["error"]["code"], -32601);
    let again = c.request_raw("initialize", json!({"capabilities": {}}));
    assert_eq!(again["error"]["code"], -32600, "InvalidRequest: {again}");
    let bad = c.request_raw("textDocument/hover", json!({"nope": 1}));
    assert_eq!(bad["error"]["code"], -32602);
    let closed = c.request_raw(
        "textDocument/hover",
        json!({"textDocument": {"uri": f.uri("policy.gaitpol")}, "position": {"line": 0, "character": 0}}),
    );
    assert_eq!(closed["error"]["code"], -32602);
    // Positions past the end are clamped, not errors.
    let uri = f.uri("policy.gaitpol");
    c.open(&uri, POLICY);
    let far = c.request(
        "textDocument/hover",
        json!({"textDocument": {"uri": uri}, "position": {"line": 9999, "character": 9999}}),
    );
    assert_eq!(far, Value::Null);
    assert_eq!(c.shutdown(), 0);
}

#[test]
fn a_module_changed_on_disk_rechecks_its_open_importers() {
    let f = Fixture::new();
    let mut c = f.start();
    let policy = f.uri("policy.gaitpol");
    let fixed = fixed_policy();
    assert_eq!(c.open(&policy, &fixed), Vec::<Value>::new());
    std::fs::write(f.path("shared.gaitpol"), SHARED.replace("hosts", "hostz")).unwrap();
    c.notify(
        "workspace/didChangeWatchedFiles",
        json!({"changes": [{"uri": f.uri("shared.gaitpol"), "type": 2}]}),
    );
    assert_eq!(codes(&c.diagnostics(&policy, Some(1))), ["E0020"]);
}

#[test]
fn published_diagnostics_snapshot() {
    let f = Fixture::new();
    let mut c = f.start();
    let uri = f.uri("policy.gaitpol");
    let diags = c.open(&uri, POLICY);
    let text = serde_json::to_string_pretty(&diags)
        .unwrap()
        .replace(&uri, "file:///WORKSPACE/policy.gaitpol");
    insta::assert_snapshot!(text);
}

#[test]
fn every_line_end_gives_the_same_positions() {
    // `\n`, `\r\n` and lone `\r` documents get the same diagnostic ranges:
    // a line end is never a column, and `\r` alone ends a line. (A lone
    // `\r` is also refused, E0007: a terminal would show the text after it
    // over the text before it; those diagnostics are set aside here.)
    let f = Fixture::new();
    let mut c = f.start();
    let ranges = |c: &mut lsp_support::Client, name: &str, text: &str| -> Vec<(String, Value)> {
        let mut v: Vec<(String, Value)> = c
            .open(&f.uri(name), text)
            .iter()
            .map(|d| (d["code"].as_str().unwrap().to_owned(), d["range"].clone()))
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    };
    let lf = ranges(&mut c, "lf.gaitpol", POLICY);
    assert!(!lf.is_empty());
    assert_eq!(
        ranges(&mut c, "crlf.gaitpol", &POLICY.replace('\n', "\r\n")),
        lf
    );
    let cr = ranges(&mut c, "cr.gaitpol", &POLICY.replace('\n', "\r"));
    let lone_crs = cr.iter().filter(|(code, _)| code == "E0007").count();
    assert!(lone_crs > 0, "lone carriage returns are reported");
    let others: Vec<_> = cr.into_iter().filter(|(code, _)| code != "E0007").collect();
    assert_eq!(others, lf);
}
