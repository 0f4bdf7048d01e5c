//! Source files: names, texts and line tables, shared by every phase and by
//! the renderers (it implements codespan-reporting's `Files`).

use crate::span::FileId;
use codespan_reporting::files::{self, Files, SimpleFile};
use std::path::PathBuf;

/// Largest source file accepted (keeps spans within `u32` and bounds memory).
pub const MAX_SOURCE_BYTES: usize = 16 * 1024 * 1024;

#[derive(Debug)]
pub struct SourceFile {
    /// The name shown in diagnostics (as given on the command line, or `<std>/NAME.gaitpol`).
    pub name: String,
    /// Where the file lives on disk (`None` for embedded stdlib modules and in-memory sources).
    pub path: Option<PathBuf>,
    file: SimpleFile<String, String>,
}

impl SourceFile {
    pub fn text(&self) -> &str {
        self.file.source()
    }
}

#[derive(Debug, Default)]
pub struct SourceMap {
    files: Vec<SourceFile>,
}

impl SourceMap {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn add(&mut self, name: impl Into<String>, path: Option<PathBuf>, text: String) -> FileId {
        let name = name.into();
        self.files.push(SourceFile {
            file: SimpleFile::new(name.clone(), text),
            name,
            path,
        });
        self.files.len() - 1
    }

    pub fn get(&self, id: FileId) -> Option<&SourceFile> {
        self.files.get(id)
    }

    pub fn name(&self, id: FileId) -> &str {
        self.files
            .get(id)
            .map(|f| f.name.as_str())
            .unwrap_or("<unknown>")
    }

    pub fn text(&self, id: FileId) -> &str {
        self.files.get(id).map(|f| f.text()).unwrap_or("")
    }

    pub fn len(&self) -> usize {
        self.files.len()
    }

    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// 1-based (line, column) of a byte offset; columns count characters.
    pub fn line_col(&self, id: FileId, offset: usize) -> (usize, usize) {
        let text = self.text(id);
        let offset = floor_char_boundary(text, offset.min(text.len()));
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
        let col = text[line_start..offset].chars().count() + 1;
        (line, col)
    }
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

impl<'a> Files<'a> for SourceMap {
    type FileId = FileId;
    type Name = &'a str;
    type Source = &'a str;

    fn name(&'a self, id: FileId) -> Result<&'a str, files::Error> {
        self.files
            .get(id)
            .map(|f| f.name.as_str())
            .ok_or(files::Error::FileMissing)
    }

    fn source(&'a self, id: FileId) -> Result<&'a str, files::Error> {
        self.files
            .get(id)
            .map(|f| f.text())
            .ok_or(files::Error::FileMissing)
    }

    fn line_index(&'a self, id: FileId, byte_index: usize) -> Result<usize, files::Error> {
        self.files
            .get(id)
            .ok_or(files::Error::FileMissing)?
            .file
            .line_index((), byte_index)
    }

    fn line_range(
        &'a self,
        id: FileId,
        line_index: usize,
    ) -> Result<std::ops::Range<usize>, files::Error> {
        self.files
            .get(id)
            .ok_or(files::Error::FileMissing)?
            .file
            .line_range((), line_index)
    }
}
