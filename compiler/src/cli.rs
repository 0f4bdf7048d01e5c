//! The `gaitc` commands, as functions from arguments to an exit code, writing
//! to the given output. `main.rs` only parses the command line.

use crate::check::Session;
use crate::diag::codes;
use crate::diag::render;
use crate::fmt::format_source;
use crate::plumbing::{exit, write_atomic, Format};
use crate::source::SourceMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Directories never searched when a directory is given.
const SKIP_DIRS: &[&str] = &[".git", "target", "node_modules", ".local"];

/// Expands PATH arguments: files as given, directories recursively (sorted)
/// to their `*.gaitpol` files.
pub fn collect_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| format!("{}: {e}", p.display()))?;
        if meta.is_dir() {
            walk(p, &mut out).map_err(|e| format!("{}: {e}", p.display()))?;
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let path = e.path();
        let name = e.file_name();
        let ty = e.file_type()?;
        if ty.is_dir() {
            if !SKIP_DIRS.iter().any(|s| name == *s) {
                walk(&path, out)?;
            }
        } else if ty.is_file() && path.extension().is_some_and(|x| x == "gaitpol") {
            out.push(path);
        }
    }
    Ok(())
}

/// Whether human output should be coloured: only on a terminal, never with `NO_COLOR`.
pub fn use_color(is_terminal: bool) -> bool {
    is_terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// `gaitc check`.
pub fn check(
    paths: &[PathBuf],
    format: Format,
    deny_warnings: bool,
    color: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let files = match collect_files(paths) {
        Ok(f) => f,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return exit::INVALID;
        }
    };
    let mut session = Session::new();
    let mut unreadable = false;
    for f in &files {
        match session.load_path(f) {
            Ok(id) => {
                session.check(id);
            }
            Err(e) => {
                let _ = writeln!(err, "error: {e}");
                unreadable = true;
            }
        }
    }
    let diags = session.diagnostics();
    let (errors, warnings) = render::counts(&diags);
    let written = match format {
        Format::Human | Format::Plain => {
            let text = render::text(&diags, &session.sources, format == Format::Plain, color);
            write!(out, "{text}")
                .and_then(|_| writeln!(out, "{}", render::summary(&diags, files.len())))
        }
        Format::Json => writeln!(out, "{}", pretty(&render::json(&diags, &session.sources))),
        Format::Sarif => writeln!(out, "{}", pretty(&render::sarif(&diags, &session.sources))),
    };
    if written.is_err() {
        return exit::INTERNAL;
    }
    if unreadable || errors > 0 || (deny_warnings && warnings > 0) {
        exit::INVALID
    } else {
        exit::OK
    }
}

fn pretty(v: &serde_json::Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}

/// `gaitc fmt`.
pub fn fmt(
    paths: &[PathBuf],
    check_only: bool,
    color: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    if paths.len() == 1 && paths[0] == Path::new("-") {
        let mut src = String::new();
        if std::io::Read::read_to_string(&mut std::io::stdin(), &mut src).is_err() {
            let _ = writeln!(err, "error: standard input is not valid UTF-8");
            return exit::INVALID;
        }
        return match format_source(&src) {
            Ok(text) => {
                if check_only {
                    if text == src {
                        exit::OK
                    } else {
                        let _ = writeln!(out, "<stdin> would be reformatted");
                        exit::WOULD_CHANGE
                    }
                } else if out.write_all(text.as_bytes()).is_ok() {
                    exit::OK
                } else {
                    exit::INTERNAL
                }
            }
            Err(diags) => {
                let mut sources = SourceMap::new();
                let id = sources.add("<stdin>", None, src);
                let diags: Vec<_> = diags.into_iter().map(|d| d.in_file(id)).collect();
                let _ = write!(err, "{}", render::text(&diags, &sources, false, color));
                exit::INVALID
            }
        };
    }
    let files = match collect_files(paths) {
        Ok(f) => f,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return exit::INVALID;
        }
    };
    let mut invalid = false;
    let mut changed = 0usize;
    for f in &files {
        let src = match std::fs::read_to_string(f) {
            Ok(s) => s,
            Err(e) => {
                let _ = writeln!(err, "error: cannot read {}: {e}", f.display());
                invalid = true;
                continue;
            }
        };
        match format_source(&src) {
            Ok(text) if text == src => {}
            Ok(text) => {
                changed += 1;
                if check_only {
                    let _ = writeln!(out, "would reformat {}", f.display());
                } else if let Err(e) = std::fs::write(f, text) {
                    let _ = writeln!(err, "error: cannot write {}: {e}", f.display());
                    invalid = true;
                } else {
                    let _ = writeln!(out, "formatted {}", f.display());
                }
            }
            Err(diags) => {
                let mut sources = SourceMap::new();
                let id = sources.add(f.display().to_string(), Some(f.clone()), src);
                let diags: Vec<_> = diags.into_iter().map(|d| d.in_file(id)).collect();
                let _ = write!(err, "{}", render::text(&diags, &sources, false, color));
                let _ = writeln!(
                    err,
                    "error: {} has syntax errors; not formatted",
                    f.display()
                );
                invalid = true;
            }
        }
    }
    let verb = if check_only {
        "would reformat"
    } else {
        "reformatted"
    };
    let _ = writeln!(err, "{} of {} files {verb}", changed, files.len());
    if invalid {
        exit::INVALID
    } else if check_only && changed > 0 {
        exit::WOULD_CHANGE
    } else {
        exit::OK
    }
}

/// `gaitc explain [CODE]`.
pub fn explain(code: Option<&str>, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let Some(code) = code else {
        let _ = writeln!(
            out,
            "Diagnostic codes (run `gaitc explain CODE` for details):\n"
        );
        for info in codes::ALL {
            let _ = writeln!(
                out,
                "  {}  {:<7}  {}",
                info.code,
                format!("{:?}", info.severity).to_lowercase(),
                info.title
            );
        }
        return exit::OK;
    };
    match codes::lookup(code) {
        Some(info) => {
            let _ = write!(out, "{}", info.explanation);
            if !info.explanation.ends_with('\n') {
                let _ = writeln!(out);
            }
            exit::OK
        }
        None => {
            let _ = writeln!(err, "error: unknown diagnostic code `{code}`");
            if let Some(s) =
                crate::suggest::best_match(&code.to_uppercase(), codes::ALL.iter().map(|i| i.code))
            {
                let _ = writeln!(err, "help: did you mean `{s}`?");
            }
            let _ = writeln!(err, "help: `gaitc explain` lists every code");
            exit::INVALID
        }
    }
}

/// `gaitc lsp`: the language server on standard input/output. Exit 0 after
/// `shutdown` + `exit`, 1 when the client exits without `shutdown` or the
/// connection fails.
pub fn lsp(err: &mut dyn Write) -> i32 {
    match crate::lsp::run_stdio() {
        Ok(true) => exit::OK,
        Ok(false) => exit::INTERNAL,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            exit::INTERNAL
        }
    }
}

/// `gaitc keygen --out PREFIX`: writes `PREFIX.key` (0600) and `PREFIX.pub`.
pub fn keygen(prefix: &Path, force: bool, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let key_path = with_suffix(prefix, "key");
    let pub_path = with_suffix(prefix, "pub");
    if !force {
        for p in [&key_path, &pub_path] {
            if p.exists() {
                let _ = writeln!(
                    err,
                    "error: {} exists; refusing to overwrite a key (use --force)",
                    p.display()
                );
                return exit::INVALID;
            }
        }
    }
    let mut seed = [0u8; 32];
    if let Err(e) = getrandom::fill(&mut seed) {
        let _ = writeln!(err, "error: no randomness available: {e}");
        return exit::INTERNAL;
    }
    let kp = gait_run::keys::KeyPair::from_seed(&seed);
    if let Err(e) = write_private(&key_path, kp.to_file_text().as_bytes()) {
        let _ = writeln!(err, "error: cannot write {}: {e}", key_path.display());
        return exit::INTERNAL;
    }
    if let Err(e) = std::fs::write(&pub_path, format!("{}\n", kp.public().to_base64())) {
        let _ = writeln!(err, "error: cannot write {}: {e}", pub_path.display());
        return exit::INTERNAL;
    }
    let _ = writeln!(out, "key_id={}", kp.public().id());
    let _ = writeln!(
        err,
        "wrote {} (private, 0600) and {} (public)",
        key_path.display(),
        pub_path.display()
    );
    let _ = writeln!(
        err,
        "trust it in a policy with: trust publisher \"NAME\" key \"ed25519:{}\"",
        kp.public().to_base64()
    );
    exit::OK
}

fn with_suffix(prefix: &Path, ext: &str) -> PathBuf {
    let mut s = prefix.as_os_str().to_owned();
    s.push(".");
    s.push(ext);
    PathBuf::from(s)
}

fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    // `mode` applies only when the file is created: tighten an existing one too.
    std::fs::set_permissions(path, std::os::unix::fs::PermissionsExt::from_mode(0o600))?;
    f.write_all(bytes)
}

/// `gaitc build POLICY -o OUT --key KEY... [--not-after T]`.
pub fn build(
    policy_path: &Path,
    output: &Path,
    keys: &[PathBuf],
    not_after: Option<&str>,
    color: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    if keys.is_empty() {
        let _ = writeln!(err, "error: a bundle must be signed: give --key KEYFILE (create one with `gaitc keygen --out NAME`)");
        return exit::INVALID;
    }
    let mut pairs = Vec::new();
    for k in keys {
        match gait_run::keys::KeyPair::read(k) {
            Ok(kp) => pairs.push(kp),
            Err(e) => {
                let _ = writeln!(err, "error: {e}");
                return exit::INVALID;
            }
        }
    }
    if let Some(t) = not_after {
        if let Err(e) = gait_run::time::parse_rfc3339(t) {
            let _ = writeln!(err, "error: --not-after: {e}");
            return exit::INVALID;
        }
    }
    let mut session = Session::new();
    let id = match session.load_path(policy_path) {
        Ok(id) => id,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return exit::INVALID;
        }
    };
    let checked = session.check(id);
    let diags = session.diagnostics();
    if !diags.is_empty() {
        let _ = write!(
            err,
            "{}",
            render::text(&diags, &session.sources, false, color)
        );
    }
    let Some(policy) = checked.policy else {
        let what = if session.modules[id].kind == crate::check::FileKind::Module {
            "it is a module, not a policy"
        } else {
            "it has errors"
        };
        let _ = writeln!(
            err,
            "error: {} was not built: {what}",
            policy_path.display()
        );
        return exit::INVALID;
    };
    let refs: Vec<&gait_run::keys::KeyPair> = pairs.iter().collect();
    let sources = session.source_digests(id);
    let (bytes, digest) = match crate::bundle::emit(&policy, &sources, &refs, not_after) {
        Ok(x) => x,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return exit::INVALID;
        }
    };
    if let Err(e) = write_atomic(output, &bytes) {
        let _ = writeln!(err, "error: cannot write {}: {e}", output.display());
        return exit::INTERNAL;
    }
    let _ = writeln!(out, "policy_digest={digest}");
    let _ = writeln!(
        err,
        "built {} ({} rules, {} bytes, signed by {})",
        output.display(),
        policy.rules.len(),
        bytes.len(),
        refs.iter()
            .map(|k| &k.public().id()[..16])
            .collect::<Vec<_>>()
            .join(", ")
    );
    exit::OK
}

/// `gaitc inspect BUNDLE [--json]`: structure and payload digest are checked;
/// signatures are listed, not verified (use `gait-run verify` with keys).
pub fn inspect(path: &Path, json_out: bool, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let bytes = match std::fs::read(path) {
        Ok(b) => b,
        Err(e) => {
            let _ = writeln!(err, "error: cannot read {}: {e}", path.display());
            return exit::INVALID;
        }
    };
    let parsed = match gait_run::bundle::parse(&bytes) {
        Ok(p) => p,
        Err(rej) => {
            if json_out {
                let _ = writeln!(
                    out,
                    "{}",
                    serde_json::json!({"ok": false, "code": rej.code.as_str(), "error": rej.message})
                );
            }
            let _ = writeln!(err, "error: {rej}");
            return exit::VERIFY;
        }
    };
    let data = match gait_run::tables::TableData::decode(parsed.payload) {
        Ok(d) => d,
        Err(e) => {
            let _ = writeln!(err, "error: bundle_malformed: payload: {e}");
            return exit::VERIFY;
        }
    };
    let matchers: Vec<serde_json::Value> = data
        .matchers
        .iter()
        .enumerate()
        .filter(|(_, m)| m.patterns > 0)
        .map(|(i, m)| {
            serde_json::json!({"attribute": gait_run::tables::matcher::NAMES.get(i).copied().unwrap_or("?"), "patterns": m.patterns, "automata": m.dfas.len(),
                               "dfa_bytes": m.dfas.iter().map(|d| d.bytes.len()).sum::<usize>()})
        })
        .collect();
    let rules: Vec<serde_json::Value> = data
        .rules
        .chunks_exact(gait_run::tables::RULE_STRIDE)
        .map(|r| {
            let s = |i: u32| data.strings.get(i as usize).cloned().unwrap_or_default();
            serde_json::json!({
                "name": s(r[3]),
                "priority": r[0],
                "verdict": gait_run::vocab::Verdict::ALL.get(r[1] as usize).map(|v| v.as_str()),
            })
        })
        .collect();
    let report = serde_json::json!({
        "ok": true,
        "policy_digest": parsed.policy_digest,
        "manifest": parsed.manifest,
        "signatures": parsed.signatures.iter().map(|s| serde_json::json!({"alg": s.alg, "key_id": s.key_id})).collect::<Vec<_>>(),
        "tables": {
            "rules": data.rules.len() / gait_run::tables::RULE_STRIDE,
            "nodes": data.nodes.len() / gait_run::tables::node::STRIDE,
            "atoms": data.atoms.len() / gait_run::tables::atom::STRIDE,
            "value_sets": data.valuesets.len() / 2,
            "strings": data.strings.len(),
            "unanchored_rules": data.unanchored.len(),
            "tool_mappings": data.mappings.len() / 2,
            "trusted_keys": data.trust.len() / 3,
            "pins": data.pins.len() / 3,
            "matchers": matchers,
            "payload_bytes": parsed.payload.len(),
        },
        "rules": rules,
    });
    if json_out {
        let _ = writeln!(out, "{}", pretty(&report));
        return exit::OK;
    }
    let i = &parsed.info;
    let _ = writeln!(
        out,
        "policy       {} {} (revision {})",
        i.name, i.version, i.revision
    );
    let _ = writeln!(out, "digest       {}", parsed.policy_digest);
    let _ = writeln!(
        out,
        "payload      {} bytes, sha256:{}",
        i.payload_size, i.payload_sha256
    );
    if let Some(na) = &i.not_after {
        let _ = writeln!(out, "not after    {na}");
    }
    for s in &parsed.signatures {
        let _ = writeln!(out, "signature    {} key {}", s.alg, s.key_id);
    }
    if parsed.signatures.is_empty() {
        let _ = writeln!(out, "signature    (none: this bundle will be rejected)");
    }
    if let Some(sources) = parsed.manifest.get("sources").and_then(|v| v.as_array()) {
        for s in sources {
            let _ = writeln!(
                out,
                "source       {} sha256:{}",
                s["path"].as_str().unwrap_or(""),
                s["sha256"].as_str().unwrap_or("")
            );
        }
    }
    let t = &report["tables"];
    let _ = writeln!(
        out,
        "tables       {} rules, {} nodes, {} atoms, {} value sets, {} unanchored",
        t["rules"], t["nodes"], t["atoms"], t["value_sets"], t["unanchored_rules"]
    );
    for m in t["matchers"].as_array().into_iter().flatten() {
        let _ = writeln!(
            out,
            "matcher      {:<16} {} patterns, {} DFA bytes",
            m["attribute"].as_str().unwrap_or(""),
            m["patterns"],
            m["dfa_bytes"]
        );
    }
    for r in report["rules"].as_array().into_iter().flatten() {
        let _ = writeln!(
            out,
            "rule         {:<24} priority {:<4} {}",
            r["name"].as_str().unwrap_or(""),
            r["priority"],
            r["verdict"].as_str().unwrap_or("")
        );
    }
    exit::OK
}

/// What `gaitc skill sign` is asked to do.
#[derive(Debug)]
pub struct SkillSignArgs<'a> {
    pub dir: &'a Path,
    pub key: &'a Path,
    pub publisher: &'a str,
    pub source: &'a str,
    pub name: Option<&'a str>,
    pub version: Option<&'a str>,
}

/// `gaitc skill sign DIR --key K --publisher P --source S [--name N --version V]`.
pub fn skill_sign(a: &SkillSignArgs<'_>, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let SkillSignArgs {
        dir,
        key,
        publisher,
        source,
        name,
        version,
    } = *a;
    let kp = match gait_run::keys::KeyPair::read(key) {
        Ok(k) => k,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return exit::INVALID;
        }
    };
    match crate::skill::sign(dir, &kp, publisher, source, name, version) {
        Ok(signed) => {
            let _ = writeln!(out, "skill_digest={}", signed.digest);
            let files = signed.manifest["files"]
                .as_array()
                .map(Vec::len)
                .unwrap_or(0);
            let _ = writeln!(
                err,
                "signed {} ({files} files) as {publisher} with key {}",
                dir.display(),
                kp.public().id()
            );
            let _ = writeln!(
                err,
                "pin it with: pin skill {:?} version {:?} digest {:?}",
                signed.manifest["name"].as_str().unwrap_or(""),
                signed.manifest["version"].as_str().unwrap_or(""),
                signed.digest
            );
            exit::OK
        }
        Err(e) => {
            // The directory cannot be signed as it is (symlinks, special files).
            let _ = writeln!(err, "error: {e}");
            exit::VERIFY
        }
    }
}

/// What `gaitc skill verify` is asked to do.
#[derive(Debug)]
pub struct SkillVerifyArgs<'a> {
    pub dir: &'a Path,
    pub policy: Option<&'a Path>,
    pub bundle: Option<&'a Path>,
    pub trust: &'a [PathBuf],
    pub report: Option<&'a Path>,
    pub json: bool,
}

/// `gaitc skill verify DIR (--policy P | --bundle B --trust PUB...) [--report FILE] [--json]`.
pub fn skill_verify(a: &SkillVerifyArgs<'_>, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let SkillVerifyArgs {
        dir,
        policy,
        bundle,
        trust,
        report: report_path,
        json: json_out,
    } = *a;
    let store = match crate::skill::trust_store(policy, bundle, trust) {
        Ok(s) => s,
        Err(crate::skill::StoreError::Invalid(e)) => {
            let _ = writeln!(err, "error: {e}");
            return exit::INVALID;
        }
        Err(crate::skill::StoreError::BundleRejected(e)) => {
            let _ = writeln!(err, "error: the bundle was rejected: {e}");
            return exit::VERIFY;
        }
    };
    let report = crate::skill::verify(dir, &store);
    let text = pretty(&report.to_json());
    if let Some(p) = report_path {
        if let Err(e) = write_atomic(p, format!("{text}\n").as_bytes()) {
            let _ = writeln!(err, "error: cannot write {}: {e}", p.display());
            return exit::INTERNAL;
        }
    }
    if json_out {
        let _ = writeln!(out, "{text}");
    } else if report.passed() {
        let _ = writeln!(
            out,
            "pass: {} {} by {} ({})",
            report.name.as_deref().unwrap_or("?"),
            report.version.as_deref().unwrap_or("?"),
            report.publisher.as_deref().unwrap_or("?"),
            report.digest.as_deref().unwrap_or("?")
        );
    } else {
        let _ = writeln!(out, "fail: {}", report.failure_codes.join(", "));
    }
    if report.passed() {
        exit::OK
    } else {
        exit::VERIFY
    }
}

/// What `gaitc test` is asked to do.
#[derive(Debug, Default)]
pub struct TestArgs {
    pub paths: Vec<PathBuf>,
    pub junit: Option<PathBuf>,
    pub coverage: bool,
    /// Fail (exit 5) when rule coverage is below this percentage.
    pub min_coverage: Option<f64>,
}

/// `*.test.json` fixtures under the given paths (sorted).
fn collect_fixtures(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
        let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
        entries.sort_by_key(|e| e.file_name());
        for e in entries {
            let path = e.path();
            if e.file_type()?.is_dir() {
                if !SKIP_DIRS.iter().any(|s| e.file_name() == *s) {
                    walk(&path, out)?;
                }
            } else if path.to_string_lossy().ends_with(".test.json") {
                out.push(path);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut out).map_err(|e| format!("{}: {e}", p.display()))?;
        } else if p.to_string_lossy().ends_with(".test.json") {
            out.push(p.clone());
        }
    }
    Ok(out)
}

struct SuiteResult {
    file: String,
    outcomes: Vec<crate::testing::TestOutcome>,
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// JUnit XML (the common `testsuites/testsuite/testcase/failure` shape).
pub fn junit_xml(suites: &[(String, Vec<crate::testing::TestOutcome>)]) -> String {
    let total: usize = suites.iter().map(|s| s.1.len()).sum();
    let failed: usize = suites
        .iter()
        .map(|s| s.1.iter().filter(|o| !o.passed).count())
        .sum();
    let mut x = format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"gaitc test\" tests=\"{total}\" failures=\"{failed}\" errors=\"0\">\n");
    for (file, outcomes) in suites {
        let f = outcomes.iter().filter(|o| !o.passed).count();
        x.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{f}\" errors=\"0\" skipped=\"0\">\n",
            xml_escape(file),
            outcomes.len()
        ));
        for o in outcomes {
            x.push_str(&format!(
                "    <testcase classname=\"{}\" name=\"{}\" time=\"0\"",
                xml_escape(file),
                xml_escape(&o.name)
            ));
            if o.passed {
                x.push_str("/>\n");
            } else {
                let first = o.failures.first().map(String::as_str).unwrap_or("failed");
                x.push_str(&format!(
                    ">\n      <failure message=\"{}\" type=\"policy_test\">{}</failure>\n    </testcase>\n",
                    xml_escape(first),
                    xml_escape(&o.failures.join("\n"))
                ));
            }
        }
        x.push_str("  </testsuite>\n");
    }
    x.push_str("</testsuites>\n");
    x
}

/// `gaitc test [PATH...]`: exit 0 all pass, 5 failures (or coverage below
/// `--min-coverage`), 6 source errors.
pub fn test(args: &TestArgs, color: bool, out: &mut dyn Write, err: &mut dyn Write) -> i32 {
    let paths = if args.paths.is_empty() {
        vec![PathBuf::from(".")]
    } else {
        args.paths.clone()
    };
    let (policies, fixtures) = match (collect_files(&paths), collect_fixtures(&paths)) {
        (Ok(p), Ok(f)) => (p, f),
        (Err(e), _) | (_, Err(e)) => {
            let _ = writeln!(err, "error: {e}");
            return exit::INVALID;
        }
    };
    let mut source_errors = false;
    // Fixtures grouped by the policy they test.
    let mut by_policy: std::collections::BTreeMap<PathBuf, Vec<crate::testing::Fixture>> =
        std::collections::BTreeMap::new();
    for f in &fixtures {
        match crate::testing::load_fixture(f) {
            Ok(fx) => by_policy
                .entry(std::fs::canonicalize(&fx.policy).unwrap_or(fx.policy.clone()))
                .or_default()
                .push(fx),
            Err(e) => {
                let _ = writeln!(err, "error: {e}");
                source_errors = true;
            }
        }
    }
    let mut files: Vec<PathBuf> = policies.clone();
    for p in by_policy.keys() {
        if !policies
            .iter()
            .any(|q| std::fs::canonicalize(q).ok().as_ref() == Some(p))
        {
            files.push(p.clone());
        }
    }
    let mut suites: Vec<SuiteResult> = Vec::new();
    let mut coverage_total = crate::testing::Coverage::default();
    let mut coverage_lines = Vec::new();
    for file in &files {
        let mut s = Session::new();
        let id = match s.load_path(file) {
            Ok(id) => id,
            Err(e) => {
                let _ = writeln!(err, "error: {e}");
                source_errors = true;
                continue;
            }
        };
        let checked = s.check(id);
        if s.modules[id].kind == crate::check::FileKind::Module {
            continue;
        }
        let Some(policy) = checked.policy else {
            let diags: Vec<_> = s
                .diagnostics()
                .into_iter()
                .filter(|d| d.is_error())
                .collect();
            let _ = write!(err, "{}", render::text(&diags, &s.sources, false, color));
            let _ = writeln!(
                err,
                "error: {} has errors; its tests were not run",
                file.display()
            );
            source_errors = true;
            continue;
        };
        let tables = match crate::testing::tables_for(&policy) {
            Ok(t) => t,
            Err(e) => {
                let _ = writeln!(err, "error: {}: {e}", file.display());
                source_errors = true;
                continue;
            }
        };
        let mut outcomes = crate::testing::run_tests(&policy, &tables);
        let canonical = std::fs::canonicalize(file).unwrap_or(file.clone());
        let mut scratch = gait_run::tables::Scratch::default();
        for fx in by_policy.get(&canonical).into_iter().flatten() {
            let name = format!("{} ({})", fx.name, fx.path.display());
            outcomes.push(crate::testing::run_case(
                &policy,
                &tables,
                &name,
                Ok(fx.intent.clone()),
                &fx.expect,
                &mut scratch,
            ));
        }
        let display = file.display().to_string();
        for o in &outcomes {
            let _ = writeln!(
                out,
                "{} {display} :: {}",
                if o.passed { "ok  " } else { "FAIL" },
                o.name
            );
            for f in &o.failures {
                let _ = writeln!(out, "       {f}");
            }
        }
        let c = crate::testing::coverage(&policy, &outcomes);
        if args.coverage || args.min_coverage.is_some() {
            let mut line = format!(
                "coverage {display}: {}/{} rules, {}/{} tool mappings",
                c.rules_covered, c.rules, c.mappings_covered, c.mappings
            );
            let missing: Vec<String> = c
                .uncovered_rules
                .iter()
                .map(|r| format!("rule {r}"))
                .chain(
                    c.uncovered_mappings
                        .iter()
                        .map(|m| format!("tool mapping {m}")),
                )
                .collect();
            if !missing.is_empty() {
                line.push_str(&format!("; not exercised: {}", missing.join(", ")));
            }
            coverage_lines.push(line);
        }
        coverage_total.rules += c.rules;
        coverage_total.rules_covered += c.rules_covered;
        coverage_total.mappings += c.mappings;
        coverage_total.mappings_covered += c.mappings_covered;
        suites.push(SuiteResult {
            file: display,
            outcomes,
        });
    }
    let passed: usize = suites
        .iter()
        .map(|s| s.outcomes.iter().filter(|o| o.passed).count())
        .sum();
    let failed: usize = suites
        .iter()
        .map(|s| s.outcomes.iter().filter(|o| !o.passed).count())
        .sum();
    let percent = if coverage_total.rules == 0 {
        100.0
    } else {
        100.0 * coverage_total.rules_covered as f64 / coverage_total.rules as f64
    };
    for l in &coverage_lines {
        let _ = writeln!(out, "{l}");
    }
    if args.coverage || args.min_coverage.is_some() {
        let _ = writeln!(
            out,
            "coverage: {}/{} rules ({percent:.1}%), {}/{} tool mappings",
            coverage_total.rules_covered,
            coverage_total.rules,
            coverage_total.mappings_covered,
            coverage_total.mappings
        );
    }
    if let Some(path) = &args.junit {
        let pairs: Vec<(String, Vec<crate::testing::TestOutcome>)> = suites
            .iter()
            .map(|s| (s.file.clone(), s.outcomes.clone()))
            .collect();
        if let Err(e) = write_atomic(path, junit_xml(&pairs).as_bytes()) {
            let _ = writeln!(err, "error: cannot write {}: {e}", path.display());
            return exit::INTERNAL;
        }
    }
    let _ = writeln!(out, "{passed} passed, {failed} failed");
    if source_errors {
        return exit::INVALID;
    }
    if let Some(min) = args.min_coverage {
        if percent + 1e-9 < min {
            let _ = writeln!(
                err,
                "error: rule coverage {percent:.1}% is below --min-coverage {min}"
            );
            return exit::TEST_FAILED;
        }
    }
    if failed > 0 {
        exit::TEST_FAILED
    } else {
        exit::OK
    }
}

/// `gaitc test add --from-trace TRACE --to FILE.test.json --trust PUB... --policy POLICY`:
/// a recorded decision (its signature verified first) becomes a fixture that
/// pins today's verdict and reasons.
pub fn test_add(
    trace_path: &Path,
    to: &Path,
    trust: &[PathBuf],
    policy: &Path,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let mut keys = Vec::new();
    for t in trust {
        match gait_run::keys::PublicKey::read(t) {
            Ok(k) => keys.push(k),
            Err(e) => {
                let _ = writeln!(err, "error: {e}");
                return exit::INVALID;
            }
        }
    }
    let trace: serde_json::Value = match std::fs::read(trace_path)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
    {
        Some(v) => v,
        None => {
            let _ = writeln!(
                err,
                "error: {} is not a readable JSON trace",
                trace_path.display()
            );
            return exit::INVALID;
        }
    };
    if let Err(e) = gait_run::gate::verify_trace(&trace, &keys) {
        let _ = writeln!(err, "error: {}: {}", e.code, e.message);
        return exit::VERIFY;
    }
    let Some(intent) = trace.get("intent").filter(|i| i.is_object()) else {
        let _ = writeln!(
            err,
            "error: the trace carries no intent (it was written by an older gait-run)"
        );
        return exit::INVALID;
    };
    // A simulated decision pins what would have happened.
    let verdict = trace
        .get("simulated_verdict")
        .unwrap_or(&trace["verdict"])
        .clone();
    let reasons: Vec<serde_json::Value> = trace["reason_codes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| {
            r.as_str()
                .is_some_and(|r| r != "simulate_mode_non_enforcing" && !r.starts_with("simulated_"))
        })
        .cloned()
        .collect();
    let fixture_dir = to
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let policy_rel = match (
        std::fs::canonicalize(fixture_dir),
        std::fs::canonicalize(policy),
    ) {
        (Ok(d), Ok(p)) => crate::check::relative_path(&d, &p),
        _ => {
            let _ = writeln!(
                err,
                "error: {} or the directory of {} does not exist",
                policy.display(),
                to.display()
            );
            return exit::INVALID;
        }
    };
    let fixture = serde_json::json!({
        "name": format!("incident trace {}", trace["trace_id"].as_str().unwrap_or("")),
        "policy": policy_rel,
        "intent": intent,
        "expect": {"verdict": verdict, "reasons": reasons, "violations": trace["violations"]},
    });
    if let Err(e) = write_atomic(to, format!("{}\n", pretty(&fixture)).as_bytes()) {
        let _ = writeln!(err, "error: cannot write {}: {e}", to.display());
        return exit::INTERNAL;
    }
    let _ = writeln!(out, "wrote {} (expect {verdict})", to.display());
    exit::OK
}
