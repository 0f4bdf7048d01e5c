//! Rendering diagnostics: `human` (codespan-reporting, colour only when asked),
//! `plain` (no colour, ASCII only: for screen readers and logs), `json` (the
//! shape of language.md §7) and `sarif` (2.1.0, for code-scanning upload).

use super::{codes, Diagnostic, Label, Severity};
use crate::source::SourceMap;
use codespan_reporting::diagnostic as cs;
use codespan_reporting::term::{self, termcolor, Chars, Config, Styles, StylesWriter};
use serde_json::{json, Value};

fn to_codespan(d: &Diagnostic) -> cs::Diagnostic<usize> {
    let severity = match d.severity {
        Severity::Error => cs::Severity::Error,
        Severity::Warning => cs::Severity::Warning,
    };
    let mut labels = vec![cs::Label::primary(
        d.primary.file.unwrap_or(d.file),
        d.primary.span.start()..d.primary.span.end(),
    )
    .with_message(d.primary.message.clone())];
    for l in &d.secondary {
        labels.push(
            cs::Label::secondary(l.file.unwrap_or(d.file), l.span.start()..l.span.end())
                .with_message(l.message.clone()),
        );
    }
    let mut notes = Vec::new();
    if let Some(help) = &d.help {
        notes.push(format!("help: {help}"));
    }
    if let Some(fix) = &d.fix {
        if fix.replacement.is_empty() {
            notes.push(format!("fix: {}", fix.message));
        } else {
            notes.push(format!(
                "fix: {} (`{}`)",
                fix.message,
                fix.replacement.trim_end()
            ));
        }
    }
    cs::Diagnostic::new(severity)
        .with_code(d.code.clone())
        .with_message(d.message.clone())
        .with_labels(labels)
        .with_notes(notes)
}

/// Renders diagnostics as text. `color` uses ANSI colours; `plain` switches
/// to ASCII drawing characters.
pub fn text(diags: &[Diagnostic], sources: &SourceMap, plain: bool, color: bool) -> String {
    let mut config = Config::default();
    if plain {
        config.chars = Chars::ascii();
    }
    let mut out = String::new();
    for d in diags {
        let cd = to_codespan(d);
        let rendered = if color && !plain {
            let mut buf = termcolor::Buffer::ansi();
            let styles = Styles::default();
            let mut writer = StylesWriter::new(&mut buf, &styles);
            term::emit_to_write_style(&mut writer, &config, sources, &cd)
                .map(|_| String::from_utf8_lossy(buf.as_slice()).into_owned())
        } else {
            term::emit_into_string(&config, sources, &cd)
        };
        match rendered {
            Ok(s) => out.push_str(&s),
            Err(e) => out.push_str(&format!(
                "{}[{}]: {} (cannot show source: {e})\n",
                severity_word(d.severity),
                d.code,
                d.message
            )),
        }
    }
    out
}

/// The one-line summary printed after text diagnostics.
pub fn summary(diags: &[Diagnostic], files: usize) -> String {
    let (errors, warnings) = counts(diags);
    let files = if files == 1 {
        "1 file".to_owned()
    } else {
        format!("{files} files")
    };
    match (errors, warnings) {
        (0, 0) => format!("checked {files}: no problems"),
        _ => format!(
            "checked {files}: {} and {}",
            plural(errors, "error"),
            plural(warnings, "warning")
        ),
    }
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

fn severity_word(s: Severity) -> &'static str {
    match s {
        Severity::Error => "error",
        Severity::Warning => "warning",
    }
}

pub fn counts(diags: &[Diagnostic]) -> (usize, usize) {
    let errors = diags.iter().filter(|d| d.is_error()).count();
    (errors, diags.len() - errors)
}

fn position(sources: &SourceMap, file: usize, label: &Label) -> (usize, usize, usize, usize) {
    let (line, column) = sources.line_col(file, label.span.start());
    let (end_line, end_column) = sources.line_col(file, label.span.end());
    (line, column, end_line, end_column)
}

/// One diagnostic as the JSON object of language.md §7 (plus `fix`).
pub fn json_diagnostic(d: &Diagnostic, sources: &SourceMap) -> Value {
    let file = d.primary.file.unwrap_or(d.file);
    let (line, column, end_line, end_column) = position(sources, file, &d.primary);
    let labels: Vec<Value> = d
        .secondary
        .iter()
        .map(|l| {
            let lf = l.file.unwrap_or(d.file);
            let (line, column, end_line, end_column) = position(sources, lf, l);
            json!({"file": sources.name(lf), "line": line, "column": column, "end_line": end_line,
                   "end_column": end_column, "message": l.message})
        })
        .collect();
    let fix = d.fix.as_ref().map(|f| {
        let (line, column) = sources.line_col(file, f.span.start());
        let (end_line, end_column) = sources.line_col(file, f.span.end());
        json!({"message": f.message, "replacement": f.replacement, "line": line, "column": column,
               "end_line": end_line, "end_column": end_column})
    });
    json!({
        "code": d.code,
        "severity": severity_word(d.severity),
        "message": d.message,
        "file": sources.name(file),
        "line": line,
        "column": column,
        "end_line": end_line,
        "end_column": end_column,
        "labels": labels,
        "help": d.help,
        "fix": fix,
    })
}

/// `{"diagnostics": [...], "errors": N, "warnings": N}`.
pub fn json(diags: &[Diagnostic], sources: &SourceMap) -> Value {
    let (errors, warnings) = counts(diags);
    json!({
        "diagnostics": diags.iter().map(|d| json_diagnostic(d, sources)).collect::<Vec<_>>(),
        "errors": errors,
        "warnings": warnings,
    })
}

/// SARIF 2.1.0 with one rule per diagnostic code.
pub fn sarif(diags: &[Diagnostic], sources: &SourceMap) -> Value {
    let rules: Vec<Value> = codes::ALL
        .iter()
        .map(|info| {
            json!({
                "id": info.code,
                "name": info.title,
                "shortDescription": {"text": info.title},
                "fullDescription": {"text": first_paragraph(info.explanation)},
                "help": {"text": info.explanation, "markdown": info.explanation},
                "defaultConfiguration": {"level": match info.severity { Severity::Error => "error", Severity::Warning => "warning" }},
            })
        })
        .collect();
    let region = |file: usize, label: &Label| {
        let (line, column, end_line, end_column) = position(sources, file, label);
        json!({"startLine": line, "startColumn": column, "endLine": end_line, "endColumn": end_column})
    };
    let results: Vec<Value> = diags
        .iter()
        .map(|d| {
            let file = d.primary.file.unwrap_or(d.file);
            let rule_index = codes::ALL.iter().position(|i| i.code == d.code);
            let mut text = d.message.clone();
            if let Some(h) = &d.help {
                text.push_str("\nhelp: ");
                text.push_str(h);
            }
            let related: Vec<Value> = d
                .secondary
                .iter()
                .enumerate()
                .map(|(i, l)| {
                    let lf = l.file.unwrap_or(d.file);
                    json!({"id": i, "message": {"text": l.message},
                           "physicalLocation": {"artifactLocation": {"uri": uri(sources.name(lf))}, "region": region(lf, l)}})
                })
                .collect();
            let mut result = json!({
                "ruleId": d.code,
                "ruleIndex": rule_index,
                "level": severity_word(d.severity),
                "message": {"text": text},
                "locations": [{"physicalLocation": {"artifactLocation": {"uri": uri(sources.name(file))}, "region": region(file, &d.primary)}}],
                "relatedLocations": related,
            });
            if let (Some(fix), Some(obj)) = (&d.fix, result.as_object_mut()) {
                let fl = Label { file: Some(file), span: fix.span, message: String::new() };
                obj.insert(
                    "fixes".into(),
                    json!([{"description": {"text": fix.message}, "artifactChanges": [{
                        "artifactLocation": {"uri": uri(sources.name(file))},
                        "replacements": [{"deletedRegion": region(file, &fl), "insertedContent": {"text": fix.replacement}}]}]}]),
                );
            }
            result
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "gaitc",
                "version": env!("CARGO_PKG_VERSION"),
                "informationUri": "https://example.invalid/gait-policy/docs/diagnostics",
                "rules": rules,
            }},
            "columnKind": "unicodeCodePoints",
            "results": results,
        }],
    })
}

fn uri(name: &str) -> String {
    let trimmed = name.strip_prefix("./").unwrap_or(name);
    trimmed.replace('\\', "/").replace(' ', "%20")
}

fn first_paragraph(md: &str) -> String {
    md.lines()
        .skip_while(|l| l.starts_with('#') || l.trim().is_empty())
        .take_while(|l| !l.trim().is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}
