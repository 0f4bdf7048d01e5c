//! Loading: files read once per canonical path (or taken from the overlay),
//! parsed, and their imports loaded in turn.

use super::{FileKind, Graph, Module, ModuleId};
use crate::diag::{codes, Diagnostic};
use crate::source::MAX_SOURCE_BYTES;
use crate::span::FileId;
use crate::stdlib;
use crate::suggest::best_match;
use crate::syntax::ast::{self, Item, Spanned};
use crate::syntax::parser::parse;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Whether an item makes its file a policy (a module may not hold it).
fn decides(item: &Item) -> bool {
    matches!(
        item,
        Item::Header(_)
            | Item::Default(_)
            | Item::FailClosed(_)
            | Item::ApprovalTtl(_)
            | Item::Rule(_)
            | Item::Test(_)
    )
}

impl Graph {
    fn report(&mut self, file: FileId, d: Diagnostic) {
        self.diagnostics.push(d.in_file(file));
    }

    /// Makes `load_path` (and file imports) read `text` instead of the file at
    /// `path` (an absolute, canonical path; it need not exist on disk). Used by
    /// the language server for documents open in the editor.
    pub fn set_overlay(&mut self, path: PathBuf, text: String) {
        // Keyed by the canonical path when the file exists (a path given
        // through a symlinked directory finds it), else as given.
        let key = std::fs::canonicalize(&path).unwrap_or(path);
        self.overlay.insert(key, text);
    }

    /// Loads a file from disk (display name as given). Errors reading it are
    /// returned as text; nothing is recorded.
    pub fn load_path(&mut self, path: &Path) -> Result<ModuleId, String> {
        let key = match std::fs::canonicalize(path) {
            Ok(key) => key,
            Err(_) if self.overlay.contains_key(path) => path.to_path_buf(),
            Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
        };
        let key_str = key.to_string_lossy().into_owned();
        if let Some(&id) = self.by_key.get(&key_str) {
            return Ok(id);
        }
        let text = match self.overlay.get(&key) {
            Some(text) if text.len() > MAX_SOURCE_BYTES => {
                return Err(format!(
                    "cannot read {}: file is larger than {} MiB",
                    path.display(),
                    MAX_SOURCE_BYTES / (1024 * 1024)
                ))
            }
            Some(text) => text.clone(),
            None => {
                read_source(&key).map_err(|e| format!("cannot read {}: {e}", path.display()))?
            }
        };
        let dir = key.parent().map(Path::to_path_buf).unwrap_or_default();
        Ok(self.add_module(key_str, path.display().to_string(), Some(key), dir, text))
    }

    /// Adds an in-memory source (imports resolve relative to `dir`).
    pub fn load_source(&mut self, name: &str, text: &str, dir: &Path) -> ModuleId {
        let key = format!("<memory>/{}/{}", self.modules.len(), name);
        self.add_module(
            key,
            name.to_owned(),
            None,
            dir.to_path_buf(),
            text.to_owned(),
        )
    }

    fn add_module(
        &mut self,
        key: String,
        name: String,
        path: Option<PathBuf>,
        dir: PathBuf,
        text: String,
    ) -> ModuleId {
        let parsed = parse(&text);
        let file = self.sources.add(name, path, text);
        for d in parsed.diagnostics {
            self.report(file, d);
        }
        let kind = if parsed.file.items.iter().any(decides) {
            FileKind::Policy
        } else {
            FileKind::Module
        };
        let id = self.modules.len();
        self.modules.push(Module {
            file,
            ast: parsed.file,
            comments: parsed.comments,
            kind,
            dir,
            imports: BTreeMap::new(),
        });
        self.by_key.insert(key, id);
        self.loading.push(id);
        self.load_imports(id);
        self.loading.pop();
        id
    }

    fn load_imports(&mut self, id: ModuleId) {
        let file = self.modules[id].file;
        let dir = self.modules[id].dir.clone();
        let imports: Vec<(usize, ast::Import)> = self.modules[id]
            .ast
            .items
            .iter()
            .enumerate()
            .filter_map(|(i, it)| match it {
                Item::Import(imp) => Some((i, imp.clone())),
                _ => None,
            })
            .collect();
        for (index, imp) in imports {
            let resolved = match &imp.target {
                ast::ImportTarget::Std(name) => self.load_std(file, name),
                ast::ImportTarget::File(path) => self.load_relative(file, &dir, path),
            };
            let resolved =
                resolved.and_then(|target| self.check_cycle(id, target, &imp).then_some(target));
            if let Some(target) = resolved {
                if self.modules[target].kind == FileKind::Policy {
                    let first = self.modules[target].ast.items.iter().find(|i| decides(i));
                    let mut d = Diagnostic::error(codes::E0016, "this file is a policy, not a module, and cannot be imported")
                        .with_primary(imp.span, "imported here")
                        .with_help("a module may only contain `let`, `map tool`, `trust`, `pin` and `import` items; move the shared items into their own file");
                    if let Some(item) = first {
                        d = d.with_secondary_in(
                            self.modules[target].file,
                            item.span(),
                            format!("{} not allowed in a module", item.describe()),
                        );
                    }
                    self.report(file, d);
                }
            }
            self.modules[id].imports.insert(index, resolved);
        }
    }

    fn load_std(&mut self, file: FileId, name: &Spanned<String>) -> Option<ModuleId> {
        let key = format!("<std>/{}", name.node);
        if let Some(&id) = self.by_key.get(&key) {
            return Some(id);
        }
        match stdlib::module(&name.node) {
            Some((file_name, src)) => Some(self.add_module(
                key,
                format!("<std>/{file_name}"),
                None,
                PathBuf::new(),
                src.to_owned(),
            )),
            None => {
                let mut d = Diagnostic::error(
                    codes::E0022,
                    format!("no standard library module `{}`", name.node),
                )
                .with_primary(name.span, "not found");
                d = d.with_suggestion(
                    name.span,
                    best_match(&name.node, stdlib::names()),
                    format!(
                        "the standard library has: {}; files are imported with `import \"path.gaitpol\" as NAME`",
                        stdlib::names().collect::<Vec<_>>().join(", ")
                    ),
                );
                self.report(file, d);
                None
            }
        }
    }

    fn load_relative(
        &mut self,
        file: FileId,
        dir: &Path,
        path: &Spanned<String>,
    ) -> Option<ModuleId> {
        let full = dir.join(&path.node);
        match self.load_path(&full) {
            Ok(id) => Some(id),
            Err(e) => {
                let d = Diagnostic::error(codes::E0022, format!("cannot import `{}`", path.node))
                    .with_primary(path.span, "file not found or unreadable")
                    .with_help(format!(
                        "{e}; import paths are relative to the importing file"
                    ));
                self.report(file, d);
                None
            }
        }
    }

    /// Reports and refuses an import that closes a cycle.
    fn check_cycle(&mut self, from: ModuleId, target: ModuleId, imp: &ast::Import) -> bool {
        let Some(pos) = self.loading.iter().position(|&m| m == target) else {
            return true;
        };
        let chain: Vec<String> = self.loading[pos..]
            .iter()
            .chain(std::iter::once(&target))
            .map(|&m| self.sources.name(self.modules[m].file).to_owned())
            .collect();
        let d = Diagnostic::error(codes::E0023, format!("import cycle: {}", chain.join(" → ")))
            .with_primary(imp.span, "this import closes the cycle")
            .with_help("modules cannot import each other in a cycle; move the shared sets into a third module");
        self.report(self.modules[from].file, d);
        false
    }
}

fn read_source(path: &Path) -> std::io::Result<String> {
    let meta = std::fs::metadata(path)?;
    if meta.len() > MAX_SOURCE_BYTES as u64 {
        return Err(std::io::Error::other(format!(
            "file is larger than {} MiB",
            MAX_SOURCE_BYTES / (1024 * 1024)
        )));
    }
    let bytes = std::fs::read(path)?;
    String::from_utf8(bytes).map_err(|e| {
        std::io::Error::other(format!(
            "not valid UTF-8 (at byte {})",
            e.utf8_error().valid_up_to()
        ))
    })
}
