//! The `gaitc` commands, as functions from arguments to an exit code, writing
//! to the given output. `main.rs` only parses the command line.

use crate::check::Session;
use crate::diag::codes;
use crate::diag::render::{self, Format};
use crate::fmt::format_source;
use crate::source::SourceMap;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Exit codes shared by every command (runtime.md §1).
pub mod exit {
    pub const OK: i32 = 0;
    pub const INTERNAL: i32 = 1;
    pub const VERIFY: i32 = 2;
    pub const TEST_FAILED: i32 = 5;
    pub const INVALID: i32 = 6;
    /// `gaitc fmt --check` when a file would change.
    pub const WOULD_CHANGE: i32 = 1;
}

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
