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
    diags.sort_by(|a, b| {
        (
            a.file,
            a.primary.span.start,
            a.primary.span.end,
            &a.code,
            &a.message,
        )
            .cmp(&(
                b.file,
                b.primary.span.start,
                b.primary.span.end,
                &b.code,
                &b.message,
            ))
    });
    diags.dedup();
}
