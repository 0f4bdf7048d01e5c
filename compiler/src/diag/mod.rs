//! Diagnostics as data: a stable code, a severity, a message, a primary span,
//! secondary labels, help and an optional fix-it. Rendering (human, plain, JSON,
//! SARIF) lives in [`render`]; nothing else formats diagnostics.

pub mod codes;
pub mod render;

use crate::span::{FileId, Span};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// A span with a message. `file` is `None` for "the diagnostic's own file".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Label {
    pub file: Option<FileId>,
    pub span: Span,
    pub message: String,
}

/// A machine-applicable edit: replace `span` with `replacement`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fix {
    pub span: Span,
    pub replacement: String,
    pub message: String,
}

/// One finding of the checker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub code: String,
    pub severity: Severity,
    pub message: String,
    pub file: FileId,
    pub primary: Label,
    pub secondary: Vec<Label>,
    pub help: Option<String>,
    pub fix: Option<Fix>,
}

impl Diagnostic {
    fn new(code: &str, severity: Severity, message: impl Into<String>) -> Self {
        Diagnostic {
            code: code.to_owned(),
            severity,
            message: message.into(),
            file: 0,
            primary: Label {
                file: None,
                span: Span::new(0, 0),
                message: String::new(),
            },
            secondary: Vec::new(),
            help: None,
            fix: None,
        }
    }

    /// An error with the given code.
    pub fn error(code: &str, message: impl Into<String>) -> Self {
        Self::new(code, Severity::Error, message)
    }

    /// A warning with the given code.
    pub fn warning(code: &str, message: impl Into<String>) -> Self {
        Self::new(code, Severity::Warning, message)
    }

    pub fn with_primary(mut self, span: Span, message: impl Into<String>) -> Self {
        self.primary = Label {
            file: None,
            span,
            message: message.into(),
        };
        self
    }

    pub fn with_secondary(mut self, span: Span, message: impl Into<String>) -> Self {
        self.secondary.push(Label {
            file: None,
            span,
            message: message.into(),
        });
        self
    }

    /// A secondary label in another file.
    pub fn with_secondary_in(
        mut self,
        file: FileId,
        span: Span,
        message: impl Into<String>,
    ) -> Self {
        self.secondary.push(Label {
            file: Some(file),
            span,
            message: message.into(),
        });
        self
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    pub fn with_fix(
        mut self,
        span: Span,
        replacement: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        self.fix = Some(Fix {
            span,
            replacement: replacement.into(),
            message: message.into(),
        });
        self
    }

    /// "Did you mean `s`?" with a fix-it replacing `span`, when a close
    /// candidate exists; otherwise the given help.
    pub fn with_suggestion(
        self,
        span: Span,
        suggestion: Option<&str>,
        otherwise: impl Into<String>,
    ) -> Self {
        match suggestion {
            Some(s) => self.with_help(format!("did you mean `{s}`?")).with_fix(
                span,
                s,
                format!("use `{s}`"),
            ),
            None => self.with_help(otherwise),
        }
    }

    /// Sets the file of the diagnostic (labels without a file follow it).
    pub fn in_file(mut self, file: FileId) -> Self {
        self.file = file;
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// Sorts diagnostics by file, position, then code, and drops exact duplicates,
/// so output is the same whatever order the phases found them in.
pub fn sort_and_dedup(diags: &mut Vec<Diagnostic>) {
    // Everything a diagnostic shows is in the key, places included: equal
    // findings end up side by side whatever order they were found in.
    diags.sort_by(order);
    // `Span`'s `==` ignores positions (ASTs compare equal wherever they
    // stand): a duplicate is the same finding at the same places, so two
    // alike findings on different lines are both kept.
    diags.dedup_by(|a, b| a == b && same_places(a, b));
}

/// A label's file, place and message.
type LabelKey<'d> = (Option<FileId>, u32, u32, &'d str);

fn label_key(l: &Label) -> LabelKey<'_> {
    (l.file, l.span.start, l.span.end, l.message.as_str())
}

/// [`sort_and_dedup`]'s order: file, primary place, code, message,
/// severity, then the rest of what is shown.
fn order(a: &Diagnostic, b: &Diagnostic) -> std::cmp::Ordering {
    head_key(a)
        .cmp(&head_key(b))
        .then_with(|| label_key(&a.primary).cmp(&label_key(&b.primary)))
        .then_with(|| {
            a.secondary
                .iter()
                .map(label_key)
                .cmp(b.secondary.iter().map(label_key))
        })
        .then_with(|| fix_key(a).cmp(&fix_key(b)))
        .then_with(|| a.help.cmp(&b.help))
}

fn head_key(d: &Diagnostic) -> (FileId, u32, u32, &str, &str, Severity) {
    (
        d.file,
        d.primary.span.start,
        d.primary.span.end,
        d.code.as_str(),
        d.message.as_str(),
        d.severity,
    )
}

fn fix_key(d: &Diagnostic) -> Option<(u32, u32, &str, &str)> {
    d.fix.as_ref().map(|f| {
        (
            f.span.start,
            f.span.end,
            f.replacement.as_str(),
            f.message.as_str(),
        )
    })
}

/// Whether two diagnostics' labels stand at the same places.
fn same_places(a: &Diagnostic, b: &Diagnostic) -> bool {
    let at = |l: &Label| (l.file, l.span.start, l.span.end);
    at(&a.primary) == at(&b.primary)
        && a.secondary.len() == b.secondary.len()
        && a.secondary
            .iter()
            .zip(&b.secondary)
            .all(|(x, y)| at(x) == at(y))
        && a.fix.as_ref().map(|f| (f.span.start, f.span.end))
            == b.fix.as_ref().map(|f| (f.span.start, f.span.end))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Alike findings at different places are all kept; the same finding
    /// at the same place twice is one (spans compare equal wherever they
    /// stand, so the places are compared on their own).
    #[test]
    fn dedup_keeps_alike_findings_at_other_places() {
        let at = |start: usize| {
            Diagnostic::error(codes::E0002, "unexpected character `;`")
                .with_primary(Span::new(start, start + 1), "not part of any token")
        };
        let mut diags = vec![at(9), at(3), at(3), at(20)];
        sort_and_dedup(&mut diags);
        let starts: Vec<usize> = diags.iter().map(|d| d.primary.span.start()).collect();
        assert_eq!(starts, [3, 9, 20]);
        // Findings alike but for a secondary place, each found twice and
        // interleaved: sorted together, each kept once.
        let second = |start: usize| at(3).with_secondary(Span::new(start, start + 1), "first here");
        let mut with_secondary = vec![second(12), second(7), second(12), second(7)];
        sort_and_dedup(&mut with_secondary);
        let places: Vec<usize> = with_secondary
            .iter()
            .map(|d| d.secondary[0].span.start())
            .collect();
        assert_eq!(places, [7, 12]);
    }
}
