//! Checking: from the module graph ([`crate::resolve`]) to a checked
//! [`model::Policy`] plus every diagnostic.
//!
//! A [`Session`] loads files through its [`Graph`], checks each module's own
//! items once (names, `sets`, `items`: mappings, trust, pins), and then
//! assembles and lints each policy that was asked for (`structure`: header,
//! default, fail_closed; `rules` and their conditions; `intents`: test
//! blocks; [`lints`]). This file only orchestrates. The checker never stops at
//! the first error: a failed name or literal is reported and then treated as
//! "unknown", which silences the follow-up errors it would otherwise cause.

/// The items of one kind: `items_of!(items, Item::Rule)` yields `&ast::Rule`s.
macro_rules! items_of {
    ($items:expr, $variant:path) => {
        $items.iter().filter_map(|i| match i {
            $variant(x) => Some(x),
            _ => None,
        })
    };
}

mod approvers;
pub mod attrs;
mod intents;
mod items;
pub mod lints;
pub mod literals;
pub mod model;
mod report;
mod rules;
mod sets;
mod structure;

pub use crate::resolve::{relative_path, FileKind, ModuleId};

use crate::diag::{codes, sort_and_dedup, Diagnostic};
use crate::resolve::Graph;
use crate::span::{FileId, Span};
use crate::syntax::ast::Item;
use attrs::SetType;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

/// A resolved set, exported by its module.
#[derive(Debug, Clone)]
struct SetDef {
    ty: Option<SetType>,
    items: Option<Vec<String>>,
    span: Span,
    state: SetState,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetState {
    Pending,
    InProgress,
    Done,
}

/// What checking knows of one module: its names, which of them are used, and
/// its checked tables.
#[derive(Debug, Default)]
struct Scope {
    aliases: HashMap<String, (Option<ModuleId>, Span)>,
    sets: BTreeMap<String, SetDef>,
    used_sets: HashSet<String>,
    used_aliases: HashSet<String>,
    checked: bool,
    mappings: Vec<model::ToolMapping>,
    trust: Vec<model::Trust>,
    pins: Vec<model::Pin>,
    /// Approvers declared in this file (names, also when a key is invalid).
    approver_names: Vec<(String, Span)>,
    /// Approvers declared in this file whose declaration checks.
    approvers: Vec<model::Approver>,
}

/// Loads, checks and lints policies; owns every source and diagnostic.
///
/// A session reads as its module graph (`session.sources`,
/// `session.modules[id]`, `session.source_digests(id)`): it is the graph plus
/// what checking found.
#[derive(Debug, Default)]
pub struct Session {
    graph: Graph,
    /// One per module of the graph (grown as modules are loaded).
    scopes: Vec<Scope>,
    diagnostics: Vec<Diagnostic>,
}

impl std::ops::Deref for Session {
    type Target = Graph;

    fn deref(&self) -> &Graph {
        &self.graph
    }
}

/// The outcome of checking one policy file.
#[derive(Debug)]
pub struct Checked {
    pub module: ModuleId,
    /// The checked policy, when the file is a policy without errors.
    pub policy: Option<model::Policy>,
}

impl Session {
    pub fn new() -> Self {
        Self::default()
    }

    /// Every diagnostic so far (loading and checking), sorted and de-duplicated.
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        let mut d = self.graph.diagnostics().to_vec();
        d.extend(self.diagnostics.iter().cloned());
        sort_and_dedup(&mut d);
        d
    }

    pub fn error_count(&self) -> usize {
        self.diagnostics().iter().filter(|d| d.is_error()).count()
    }

    /// Makes `load_path` (and file imports) read `text` instead of the file at
    /// `path` (an absolute, canonical path; it need not exist on disk). Used by
    /// the language server for documents open in the editor.
    pub fn set_overlay(&mut self, path: PathBuf, text: String) {
        self.graph.set_overlay(path, text);
    }

    /// Loads a file from disk (display name as given). Errors reading it are
    /// returned as text; nothing is recorded.
    pub fn load_path(&mut self, path: &Path) -> Result<ModuleId, String> {
        self.graph.load_path(path)
    }

    /// Adds an in-memory source (imports resolve relative to `dir`).
    pub fn load_source(&mut self, name: &str, text: &str, dir: &Path) -> ModuleId {
        self.graph.load_source(name, text, dir)
    }

    /// The module a name (`alias`, or the last segment of `std.NAME`) refers to in module `id`.
    pub fn alias_target(&self, id: ModuleId, alias: &str) -> Option<ModuleId> {
        self.scopes.get(id)?.aliases.get(alias)?.0
    }

    /// The type and canonical items of a set defined in module `id`, when it
    /// was resolved without errors (after [`Session::check`]).
    pub fn set_values(&self, id: ModuleId, name: &str) -> Option<(SetType, &[String])> {
        let def = self.scopes.get(id)?.sets.get(name)?;
        Some((def.ty?, def.items.as_deref()?))
    }

    /// The source file of module `id`.
    fn file(&self, id: ModuleId) -> FileId {
        self.graph.modules[id].file
    }

    /// Checks a loaded file. For a policy, assembles and lints it; for a
    /// module, checks its items (and reports nothing module-specific).
    pub fn check(&mut self, id: ModuleId) -> Checked {
        let loaded = self.graph.modules.len();
        if self.scopes.len() < loaded {
            self.scopes.resize_with(loaded, Scope::default);
        }
        self.check_module(id);
        if self.graph.modules[id].kind == FileKind::Module {
            return Checked {
                module: id,
                policy: None,
            };
        }
        let errors_before = self.error_count();
        let policy = self.check_policy(id);
        let clean = self.error_count() == errors_before && !self.has_errors_in(id);
        Checked {
            module: id,
            policy: if clean { policy } else { None },
        }
    }

    /// Whether a file of the policy, or of anything it imports, has an error.
    fn has_errors_in(&self, id: ModuleId) -> bool {
        let files: Vec<FileId> = self
            .graph
            .postorder(id)
            .into_iter()
            .map(|m| self.file(m))
            .collect();
        self.graph
            .diagnostics()
            .iter()
            .chain(&self.diagnostics)
            .any(|d| d.is_error() && files.contains(&d.file))
    }

    // ------------------------------------------------------------ modules

    /// Checks a module's own items once: names, sets, mappings, trust, pins.
    fn check_module(&mut self, id: ModuleId) {
        if self.scopes[id].checked {
            return;
        }
        self.scopes[id].checked = true;
        let deps: Vec<ModuleId> = self.graph.imports(id).collect();
        for dep in deps {
            self.check_module(dep);
        }
        let items = self.graph.modules[id].ast.items.clone();
        self.declare_names(id, &items);
        // Approvers first: sets of approvers name them.
        for a in items_of!(items, Item::Approver) {
            self.check_approver(id, a);
        }

        // Sets (in declaration order; references resolve on demand).
        let set_names: Vec<String> = self.scopes[id].sets.keys().cloned().collect();
        for name in set_names {
            self.resolve_local_set(id, &name);
        }

        for item in &items {
            match item {
                Item::Map(m) => self.check_mapping(id, m),
                Item::Trust(t) => self.check_trust(id, t),
                Item::Pin(p) => self.check_pin(id, p),
                _ => {}
            }
        }
    }

    /// Import aliases, sets and rules: names are unique per file (E0021).
    fn declare_names(&mut self, id: ModuleId, items: &[Item]) {
        let file = self.file(id);
        let mut names: HashMap<String, (Span, &'static str)> = HashMap::new();
        let mut declare = |s: &mut Session, name: &str, span: Span, what: &'static str| {
            if let Some((first, first_what)) = names.get(name) {
                let d = Diagnostic::error(
                    codes::E0021,
                    format!("the name `{name}` is defined more than once"),
                )
                .with_primary(span, format!("{what} `{name}` redefined here"))
                .with_secondary(*first, format!("{first_what} `{name}` first defined here"))
                .with_help(
                    "names are unique per file across sets, rules and import aliases; rename one",
                );
                s.report(file, d);
                false
            } else {
                names.insert(name.to_owned(), (span, what));
                true
            }
        };
        for (index, item) in items.iter().enumerate() {
            match item {
                Item::Import(imp) => {
                    let target = self.graph.import_target(id, index);
                    if let Some(alias) = imp.alias_name() {
                        if declare(self, alias, imp.alias_span(), "import") {
                            self.scopes[id]
                                .aliases
                                .insert(alias.to_owned(), (target, imp.alias_span()));
                        }
                    }
                }
                Item::Let(l) if declare(self, &l.name.node, l.name.span, "set") => {
                    let def = SetDef {
                        ty: None,
                        items: None,
                        span: l.name.span,
                        state: SetState::Pending,
                    };
                    self.scopes[id].sets.insert(l.name.node.clone(), def);
                }
                Item::Rule(r) => {
                    declare(self, &r.name.node, r.name.span, "rule");
                }
                _ => {}
            }
        }
    }

    // ------------------------------------------------------------ policies

    fn check_policy(&mut self, id: ModuleId) -> Option<model::Policy> {
        let file = self.file(id);
        let items = self.graph.modules[id].ast.items.clone();

        let header = self.check_header(file, &items);
        let default = self.check_default(file, &items);
        let fail_closed = self.check_fail_closed(file, &items);
        let approval_ttl_secs = self.check_approval_ttl(file, &items);
        let approvers = self.collect_approvers(id);

        // Rules.
        let rules: Vec<model::Rule> = items_of!(items, Item::Rule)
            .filter_map(|r| self.check_rule(id, r))
            .collect();
        let rule_names: Vec<String> = items_of!(items, Item::Rule)
            .map(|r| r.name.node.clone())
            .collect();

        // Tests.
        let tests: Vec<model::TestCase> = items_of!(items, Item::Test)
            .filter_map(|t| self.check_test(id, t, &rule_names))
            .collect();

        // Mappings, trust, pins: this file's and its imports' (transitively).
        let (mappings, trust, pins) = self.collect_tables(id);

        self.unused_lints(id);
        let (name, version, revision) = header?;
        let policy = model::Policy {
            name,
            version,
            revision,
            default: default?,
            fail_closed,
            mappings,
            trust,
            approvers,
            approval_ttl_secs: approval_ttl_secs?,
            pins,
            rules,
            tests,
        };
        let lint_diags = lints::policy::lint_policy(&policy, file);
        self.diagnostics.extend(lint_diags);
        // An approver whose declaration has an error still counts as declared.
        if self.visible_approvers(id).is_empty() {
            let default_span = items_of!(items, Item::Default).next().map(|d| d.span);
            for d in lints::approvals::nobody_can_approve(&policy, default_span) {
                self.report(file, d);
            }
        }
        Some(policy)
    }

    /// Mappings, trust and pins of a module and everything it imports (each
    /// module once, in a deterministic order).
    fn collect_tables(
        &self,
        id: ModuleId,
    ) -> (Vec<model::ToolMapping>, Vec<model::Trust>, Vec<model::Pin>) {
        let mut mappings = Vec::new();
        let mut trust = Vec::new();
        let mut pins = Vec::new();
        for m in self.graph.postorder(id) {
            mappings.extend(self.scopes[m].mappings.iter().cloned());
            trust.extend(self.scopes[m].trust.iter().cloned());
            pins.extend(self.scopes[m].pins.iter().cloned());
        }
        (mappings, trust, pins)
    }

    /// W0001 and W0002: sets and imports of module `id` nothing uses.
    fn unused_lints(&mut self, id: ModuleId) {
        let scope = &self.scopes[id];
        let mut found = lints::unused::sets(
            scope
                .sets
                .iter()
                .map(|(name, def)| (name.as_str(), def.span)),
            &scope.used_sets,
        );
        let imports: Vec<lints::unused::Import> = scope
            .aliases
            .iter()
            .filter_map(|(alias, (target, span))| {
                let target = (*target)?;
                Some(lints::unused::Import {
                    alias: alias.clone(),
                    span: *span,
                    used: scope.used_aliases.contains(alias),
                    // Importing a policy is already an error (E0016); don't also call it unused.
                    contributes: self.provides_tables(target)
                        || self.graph.modules[target].kind == FileKind::Policy,
                })
            })
            .collect();
        found.extend(lints::unused::imports(&imports));
        let file = self.file(id);
        for d in found {
            self.report(file, d);
        }
    }

    /// Whether a module, or anything it imports, has mappings, trust, pins
    /// or approvers.
    fn provides_tables(&self, id: ModuleId) -> bool {
        let (m, t, p) = self.collect_tables(id);
        let approvers = self
            .graph
            .postorder(id)
            .into_iter()
            .any(|m| !self.scopes[m].approver_names.is_empty());
        !(m.is_empty() && t.is_empty() && p.is_empty()) || approvers
    }
}
