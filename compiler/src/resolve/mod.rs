//! The module graph: loading files once per canonical path, their imports
//! (`import std.NAME` from the embedded stdlib, `import "f" as A` relative to
//! the importing file), the editor's unsaved texts in place of files on disk,
//! and import cycles (reported at the import that closes them; that edge is
//! dropped). Syntax errors and import errors are this phase's diagnostics.
//!
//! Checking ([`crate::check`]) reads the graph; the language server and the
//! command line load through it. [`Graph::source_digests`] names the sources
//! a bundle is built from.

mod load;

use crate::diag::Diagnostic;
use crate::source::SourceMap;
use crate::span::FileId;
use crate::syntax::ast;
use crate::syntax::lexer::Comment;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

pub type ModuleId = usize;

/// Whether a file is a policy (it decides) or a module (it is imported).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Policy,
    Module,
}

/// One loaded file: its syntax tree and what its imports resolved to.
#[derive(Debug)]
pub struct Module {
    pub file: FileId,
    pub ast: ast::File,
    pub comments: Vec<Comment>,
    pub kind: FileKind,
    /// Directory used to resolve relative imports (and intent files).
    dir: PathBuf,
    /// For each item index holding an import: the module it resolved to.
    imports: BTreeMap<usize, Option<ModuleId>>,
}

/// Every loaded file, its imports, and the diagnostics of loading them.
#[derive(Debug, Default)]
pub struct Graph {
    pub sources: SourceMap,
    pub modules: Vec<Module>,
    by_key: HashMap<String, ModuleId>,
    loading: Vec<ModuleId>,
    diagnostics: Vec<Diagnostic>,
    /// Texts that replace files on disk (by canonical path), e.g. documents open in an editor.
    overlay: HashMap<PathBuf, String>,
}

impl Graph {
    pub fn new() -> Self {
        Self::default()
    }

    /// The diagnostics of loading (syntax and imports), in the order found.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    /// The module an import item (by its index in the module's items) resolved to.
    pub fn import_target(&self, id: ModuleId, item_index: usize) -> Option<ModuleId> {
        self.modules
            .get(id)?
            .imports
            .get(&item_index)
            .copied()
            .flatten()
    }

    /// The modules module `id`'s imports resolved to, in item order.
    pub fn imports(&self, id: ModuleId) -> impl Iterator<Item = ModuleId> + '_ {
        self.modules
            .get(id)
            .into_iter()
            .flat_map(|m| m.imports.values().flatten().copied())
    }

    /// The directory relative imports (and intent files) of module `id` resolve against.
    pub fn dir(&self, id: ModuleId) -> &Path {
        self.modules
            .get(id)
            .map_or(Path::new(""), |m| m.dir.as_path())
    }

    /// Module `id` and everything it imports, transitively: each once,
    /// dependencies before their importers (a deterministic order).
    pub fn postorder(&self, id: ModuleId) -> Vec<ModuleId> {
        let mut order = Vec::new();
        let mut seen = HashSet::new();
        self.visit(id, &mut seen, &mut order);
        order
    }

    fn visit(&self, id: ModuleId, seen: &mut HashSet<ModuleId>, out: &mut Vec<ModuleId>) {
        if !seen.insert(id) {
            return;
        }
        for dep in self.imports(id) {
            self.visit(dep, seen, out);
        }
        out.push(id);
    }

    /// Every source a policy is built from — the file itself and every module
    /// it imports, transitively — as `(path, sha256 hex)` sorted by path.
    /// Paths are relative to the policy file's directory (`/`-separated);
    /// stdlib modules are `std/NAME.gaitpol`.
    pub fn source_digests(&self, id: ModuleId) -> Vec<(String, String)> {
        let order = self.postorder(id);
        let root_dir = self
            .sources
            .get(self.modules[id].file)
            .and_then(|f| f.path.as_ref())
            .and_then(|p| p.parent().map(Path::to_path_buf));
        let mut out: Vec<(String, String)> = order
            .into_iter()
            .map(|m| {
                let file = self.modules[m].file;
                let text = self.sources.text(file);
                let name = self.sources.name(file);
                let path = match (
                    self.sources.get(file).and_then(|f| f.path.as_ref()),
                    &root_dir,
                ) {
                    (Some(p), Some(root)) => relative_path(root, p),
                    _ => match name.strip_prefix("<std>/") {
                        Some(std_name) => format!("std/{std_name}"),
                        None => Path::new(name)
                            .file_name()
                            .map(|f| f.to_string_lossy().into_owned())
                            .unwrap_or_else(|| name.to_owned()),
                    },
                };
                (path, gait_run::hex(&gait_run::sha256(text.as_bytes())))
            })
            .collect();
        out.sort();
        out
    }
}

/// `to` relative to directory `from` (both absolute), with `/` separators.
pub fn relative_path(from: &Path, to: &Path) -> String {
    let a: Vec<_> = from.components().collect();
    let b: Vec<_> = to.components().collect();
    let common = a.iter().zip(&b).take_while(|(x, y)| x == y).count();
    let mut parts: Vec<String> = std::iter::repeat_n("..".to_owned(), a.len() - common).collect();
    parts.extend(
        b[common..]
            .iter()
            .map(|c| c.as_os_str().to_string_lossy().into_owned()),
    );
    parts.join("/")
}
