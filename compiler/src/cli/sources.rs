//! The commands over policy sources: `gaitc check`, `gaitc fmt`, and
//! `gaitc explain` (the diagnostics' long form).

use super::paths::collect_files;
use crate::check::Session;
use crate::diag::codes;
use crate::diag::render;
use crate::fmt::format_source;
use crate::plumbing::{exit, fail, pretty_json, Format};
use crate::source::SourceMap;
use std::io::Write;
use std::path::{Path, PathBuf};

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
        Err(e) => return fail(err, e, exit::INVALID),
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
        Format::Json => writeln!(
            out,
            "{}",
            pretty_json(&render::json(&diags, &session.sources))
        ),
        Format::Sarif => writeln!(
            out,
            "{}",
            pretty_json(&render::sarif(&diags, &session.sources))
        ),
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
            return fail(err, "standard input is not valid UTF-8", exit::INVALID);
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
        Err(e) => return fail(err, e, exit::INVALID),
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
