//! Name resolution, type checking and lints: from parsed files to a checked
//! [`model::Policy`] plus every diagnostic.
//!
//! A [`Session`] loads files (and, transitively, their imports) once, checks
//! each module's own items once, and then assembles and lints each policy
//! that was asked for. The checker never stops at the first error: a failed
//! name or literal is reported and then treated as "unknown", which silences
//! the follow-up errors it would otherwise cause.

pub mod attrs;
pub mod lints;
pub mod literals;
pub mod model;

use crate::diag::{codes, sort_and_dedup, Diagnostic};
use crate::source::{SourceMap, MAX_SOURCE_BYTES};
use crate::span::{FileId, Span};
use crate::stdlib;
use crate::suggest::best_match;
use crate::syntax::ast::{self, Elem, Item, Quant, Spanned};
use crate::syntax::lexer::Comment;
use crate::syntax::parser::parse;
use attrs::{AttrType, EnumKind, SetType};
use gait_run::vocab::{ProvenanceSource, Risk, TargetKind, Verdict, FAIL_CLOSED_FIELDS};
use literals::LitError;
use model::{Origin, Values};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

pub type ModuleId = usize;

/// Whether a file is a policy (it decides) or a module (it is imported).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileKind {
    Policy,
    Module,
}

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

#[derive(Debug)]
pub struct Module {
    pub file: FileId,
    pub ast: ast::File,
    pub comments: Vec<Comment>,
    pub kind: FileKind,
    /// Directory used to resolve relative imports.
    dir: PathBuf,
    /// For each item index holding an import: the module it resolved to.
    imports: BTreeMap<usize, Option<ModuleId>>,
    aliases: HashMap<String, (Option<ModuleId>, Span)>,
    sets: BTreeMap<String, SetDef>,
    used_sets: HashSet<String>,
    used_aliases: HashSet<String>,
    checked: bool,
    mappings: Vec<model::ToolMapping>,
    trust: Vec<model::Trust>,
    pins: Vec<model::Pin>,
}

/// Loads, checks and lints policies; owns every source and diagnostic.
#[derive(Debug, Default)]
pub struct Session {
    pub sources: SourceMap,
    pub modules: Vec<Module>,
    by_key: HashMap<String, ModuleId>,
    loading: Vec<ModuleId>,
    diagnostics: Vec<Diagnostic>,
    /// Texts that replace files on disk (by canonical path), e.g. documents open in an editor.
    overlay: HashMap<PathBuf, String>,
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

    /// Every diagnostic so far, sorted and de-duplicated.
    pub fn diagnostics(&self) -> Vec<Diagnostic> {
        let mut d = self.diagnostics.clone();
        sort_and_dedup(&mut d);
        d
    }

    pub fn error_count(&self) -> usize {
        self.diagnostics().iter().filter(|d| d.is_error()).count()
    }

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
        let kind = if parsed.file.items.iter().any(|i| {
            matches!(
                i,
                Item::Header(_)
                    | Item::Default(_)
                    | Item::FailClosed(_)
                    | Item::Rule(_)
                    | Item::Test(_)
            )
        }) {
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
            aliases: HashMap::new(),
            sets: BTreeMap::new(),
            used_sets: HashSet::new(),
            used_aliases: HashSet::new(),
            checked: false,
            mappings: Vec::new(),
            trust: Vec::new(),
            pins: Vec::new(),
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
                    let first = self.modules[target].ast.items.iter().find(|i| {
                        matches!(
                            i,
                            Item::Header(_)
                                | Item::Default(_)
                                | Item::FailClosed(_)
                                | Item::Rule(_)
                                | Item::Test(_)
                        )
                    });
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

    /// The module an import item (by its index in the module's items) resolved to.
    pub fn import_target(&self, id: ModuleId, item_index: usize) -> Option<ModuleId> {
        self.modules
            .get(id)?
            .imports
            .get(&item_index)
            .copied()
            .flatten()
    }

    /// The module a name (`alias`, or the last segment of `std.NAME`) refers to in module `id`.
    pub fn alias_target(&self, id: ModuleId, alias: &str) -> Option<ModuleId> {
        self.modules.get(id)?.aliases.get(alias)?.0
    }

    /// The type and canonical items of a set defined in module `id`, when it
    /// was resolved without errors (after [`Session::check`]).
    pub fn set_values(&self, id: ModuleId, name: &str) -> Option<(SetType, &[String])> {
        let def = self.modules.get(id)?.sets.get(name)?;
        Some((def.ty?, def.items.as_deref()?))
    }

    // ------------------------------------------------------------ modules

    /// Checks a module's own items once: names, sets, mappings, trust, pins.
    fn check_module(&mut self, id: ModuleId) {
        if self.modules[id].checked {
            return;
        }
        self.modules[id].checked = true;
        let deps: Vec<ModuleId> = self.modules[id]
            .imports
            .values()
            .flatten()
            .copied()
            .collect();
        for dep in deps {
            self.check_module(dep);
        }
        let file = self.modules[id].file;
        let items = self.modules[id].ast.items.clone();

        // Aliases and unique names.
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
                    let target = self.modules[id].imports.get(&index).copied().flatten();
                    if let Some(alias) = imp.alias_name() {
                        if declare(self, alias, imp.alias_span(), "import") {
                            self.modules[id]
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
                    self.modules[id].sets.insert(l.name.node.clone(), def);
                }
                Item::Rule(r) => {
                    declare(self, &r.name.node, r.name.span, "rule");
                }
                _ => {}
            }
        }

        // Sets (in declaration order; references resolve on demand).
        let set_names: Vec<String> = self.modules[id].sets.keys().cloned().collect();
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

    fn let_item(&self, id: ModuleId, name: &str) -> Option<ast::LetItem> {
        self.modules[id].ast.items.iter().find_map(|i| match i {
            Item::Let(l) if l.name.node == name => Some(l.clone()),
            _ => None,
        })
    }

    /// Resolves a local set: its type and canonical items (memoized, cycle-safe).
    fn resolve_local_set(&mut self, id: ModuleId, name: &str) -> Option<(SetType, Vec<String>)> {
        let def = self.modules[id].sets.get(name)?.clone();
        match def.state {
            SetState::Done => return def.ty.zip(def.items),
            SetState::InProgress => {
                let file = self.modules[id].file;
                let d = Diagnostic::error(
                    codes::E0024,
                    format!("set `{name}` is defined in terms of itself"),
                )
                .with_primary(def.span, "this set's definition refers back to it")
                .with_help(
                    "a set's union cannot include the set itself, directly or through other sets",
                );
                self.report(file, d);
                return None;
            }
            SetState::Pending => {}
        }
        if let Some(s) = self.modules[id].sets.get_mut(name) {
            s.state = SetState::InProgress;
        }
        let item = self.let_item(id, name)?;
        let file = self.modules[id].file;
        if item.value.terms.is_empty() {
            // A set whose syntax error was already reported: known but unusable.
            if let Some(s) = self.modules[id].sets.get_mut(name) {
                s.state = SetState::Done;
            }
            return None;
        }
        let ty = match SetType::parse(&item.ty.node) {
            Some(t) => Some(t),
            None => {
                let names: Vec<&str> = SetType::ALL.iter().map(|t| t.as_str()).collect();
                let mut d =
                    Diagnostic::error(codes::E0035, format!("unknown set type `{}`", item.ty.node))
                        .with_primary(item.ty.span, "not a set type");
                d = d.with_suggestion(
                    item.ty.span,
                    best_match(&item.ty.node, names.iter().copied()),
                    format!("set types are: {}", names.join(", ")),
                );
                self.report(file, d);
                None
            }
        };
        let items = match ty {
            Some(t) => {
                match self.eval_set(id, &item.value, AttrType::Set(t), &format!("set `{name}`")) {
                    Some(Values::Patterns { items, .. }) => Some(items),
                    _ => None,
                }
            }
            None => None,
        };
        if let Some(s) = self.modules[id].sets.get_mut(name) {
            s.state = SetState::Done;
            s.ty = ty;
            s.items = items.clone();
        }
        ty.zip(items)
    }

    /// Resolves a set reference (`name` or `alias.name`) from module `id`.
    /// `None` after reporting (or silently, when the cause was reported already).
    fn resolve_ref(
        &mut self,
        id: ModuleId,
        name: &Spanned<String>,
    ) -> Option<(SetType, Vec<String>)> {
        let file = self.modules[id].file;
        if let Some((alias, member)) = name.node.split_once('.') {
            let Some((target, _)) = self.modules[id].aliases.get(alias).cloned() else {
                return self.unknown_name(id, name);
            };
            self.modules[id].used_aliases.insert(alias.to_owned());
            let target = target?; // import failed: already reported
            if !self.modules[target].sets.contains_key(member) {
                let candidates: Vec<String> = self.modules[target].sets.keys().cloned().collect();
                let mut d = Diagnostic::error(
                    codes::E0020,
                    format!("module `{alias}` has no set `{member}`"),
                )
                .with_primary(name.span, "unknown set");
                let fixed = best_match(member, candidates.iter().map(String::as_str))
                    .map(|s| format!("{alias}.{s}"));
                d = d.with_suggestion(
                    name.span,
                    fixed.as_deref(),
                    format!("`{alias}` defines: {}", candidates.join(", ")),
                );
                self.report(file, d);
                return None;
            }
            return self.resolve_local_set(target, member);
        }
        if self.modules[id].sets.contains_key(&name.node) {
            self.modules[id].used_sets.insert(name.node.clone());
            return self.resolve_local_set(id, &name.node);
        }
        if self.modules[id].aliases.contains_key(&name.node) {
            self.modules[id].used_aliases.insert(name.node.clone());
            let d = Diagnostic::error(
                codes::E0020,
                format!("`{}` is a module, not a set", name.node),
            )
            .with_primary(name.span, "module alias")
            .with_help(format!("refer to one of its sets as `{}.NAME`", name.node));
            self.report(file, d);
            return None;
        }
        self.unknown_name(id, name)
    }

    fn unknown_name<T>(&mut self, id: ModuleId, name: &Spanned<String>) -> Option<T> {
        let file = self.modules[id].file;
        let mut candidates: Vec<String> = self.modules[id].sets.keys().cloned().collect();
        for (alias, (target, _)) in &self.modules[id].aliases {
            if let Some(t) = target {
                candidates.extend(self.modules[*t].sets.keys().map(|s| format!("{alias}.{s}")));
            }
        }
        candidates.sort();
        let mut d = Diagnostic::error(codes::E0020, format!("unknown set `{}`", name.node))
            .with_primary(name.span, "not defined");
        let otherwise = if name.node.contains('.') {
            "import the module first, e.g. `import std.secrets`"
        } else {
            "define it with `let NAME: TYPE = [...]` or import a module that does"
        };
        d = d.with_suggestion(
            name.span,
            best_match(&name.node, candidates.iter().map(String::as_str)),
            otherwise,
        );
        self.report(file, d);
        None
    }

    /// Evaluates a set expression against the type an attribute or `let` expects.
    fn eval_set(
        &mut self,
        id: ModuleId,
        expr: &ast::SetExpr,
        expected: AttrType,
        what: &str,
    ) -> Option<Values> {
        let file = self.modules[id].file;
        let mut ok = true;
        let mut items: Vec<String> = Vec::new();
        let mut mask: u32 = 0;
        let mut seen_literals: HashMap<String, Span> = HashMap::new();
        for term in &expr.terms {
            match term {
                ast::SetTerm::Ref(name) => {
                    let resolved = self.resolve_ref(id, name);
                    match (resolved, expected) {
                        (Some((ty, vals)), AttrType::Set(want)) if ty == want => items.extend(vals),
                        (Some((ty, _)), AttrType::Set(want)) => {
                            let d = Diagnostic::error(codes::E0030, format!("{what} expects a set of type `{want}`, but `{}` has type `{ty}`", name.node))
                                .with_primary(name.span, format!("set of type `{ty}`"))
                                .with_help(format!("use a set declared `: {want}`"));
                            self.report(file, d);
                            ok = false;
                        }
                        (Some((ty, _)), AttrType::Enum(kind)) => {
                            let d = Diagnostic::error(
                                codes::E0030,
                                format!(
                                    "{what} takes {} values, but `{}` is a set of type `{ty}`",
                                    kind.what(),
                                    name.node
                                ),
                            )
                            .with_primary(name.span, format!("set of type `{ty}`"))
                            .with_help(format!(
                                "write a list of {}es, e.g. `[{}]`",
                                kind.what().trim_end_matches('s'),
                                kind.spellings().first().copied().unwrap_or("")
                            ));
                            self.report(file, d);
                            ok = false;
                        }
                        (None, _) => ok = false,
                    }
                }
                ast::SetTerm::List(elems, _) => {
                    for elem in elems {
                        match self.eval_elem(id, elem, expected, what) {
                            Some(ElemValue::Item(v)) => {
                                if let Some(first) = seen_literals.get(&v) {
                                    let d = Diagnostic::warning(
                                        codes::W0010,
                                        format!("`{v}` appears more than once"),
                                    )
                                    .with_primary(elem.span, "duplicate")
                                    .with_secondary(*first, "first here")
                                    .with_help("remove the duplicate")
                                    .with_fix(
                                        elem.span,
                                        "",
                                        "remove the duplicate",
                                    );
                                    self.report(file, d);
                                } else {
                                    seen_literals.insert(v.clone(), elem.span);
                                }
                                items.push(v);
                            }
                            Some(ElemValue::Mask(m)) => {
                                if mask & m == m {
                                    let d = Diagnostic::warning(
                                        codes::W0010,
                                        "value appears more than once",
                                    )
                                    .with_primary(elem.span, "already in this list")
                                    .with_help("remove the duplicate");
                                    self.report(file, d);
                                }
                                mask |= m;
                            }
                            None => ok = false,
                        }
                    }
                }
            }
        }
        if !ok {
            return None;
        }
        Some(match expected {
            AttrType::Set(ty) => {
                let mut seen = HashSet::new();
                items.retain(|i| seen.insert(i.clone()));
                Values::Patterns { ty, items }
            }
            AttrType::Enum(kind) => Values::Enum { kind, mask },
        })
    }

    fn eval_elem(
        &mut self,
        id: ModuleId,
        elem: &Spanned<Elem>,
        expected: AttrType,
        what: &str,
    ) -> Option<ElemValue> {
        let file = self.modules[id].file;
        match (expected, &elem.node) {
            (AttrType::Set(ty), Elem::Str(s)) => match validate_literal(ty, s) {
                Ok(v) => {
                    if matches!(ty, SetType::Paths | SetType::Domains) {
                        self.script_lints(file, elem.span, s);
                    }
                    Some(ElemValue::Item(v))
                }
                Err(e) => {
                    let code = literal_code(ty);
                    let mut d = Diagnostic::error(code, e.message)
                        .with_primary(elem.span, format!("invalid {} literal", ty_singular(ty)))
                        .with_help(e.help);
                    if let Some(fix) = e.fix {
                        d = d.with_fix(
                            elem.span,
                            format!("{fix:?}"),
                            format!("replace with {fix:?}"),
                        );
                    }
                    self.report(file, d);
                    None
                }
            },
            (AttrType::Set(ty), other) => {
                let shown = elem_text(other);
                let mut d = Diagnostic::error(
                    codes::E0047,
                    format!(
                        "{what} holds {} values, which are written as strings",
                        ty_singular(ty)
                    ),
                )
                .with_primary(elem.span, format!("`{shown}` is not a string"));
                d = if matches!(other, Elem::Word(w) if self.modules[id].sets.contains_key(w) || w.contains('.'))
                {
                    d.with_help(format!("to include the set `{shown}`, write it outside the brackets: `[...] + {shown}`"))
                } else {
                    d.with_help("put the value in double quotes").with_fix(
                        elem.span,
                        format!("{shown:?}"),
                        "quote it",
                    )
                };
                self.report(file, d);
                None
            }
            (AttrType::Enum(kind), Elem::Word(w)) => match kind.parse(w) {
                Some(idx) => Some(ElemValue::Mask(idx.iter().fold(0u32, |m, i| m | (1 << i)))),
                None => {
                    self.bad_enum(file, elem.span, kind, w, false);
                    None
                }
            },
            (AttrType::Enum(kind), Elem::Str(s)) => {
                self.bad_enum(file, elem.span, kind, s, true);
                None
            }
            (AttrType::Enum(kind), other) => {
                let shown = elem_text(other);
                self.bad_enum(file, elem.span, kind, &shown, false);
                None
            }
        }
    }

    fn bad_enum(&mut self, file: FileId, span: Span, kind: EnumKind, word: &str, quoted: bool) {
        let spellings = kind.spellings();
        let mut d = if quoted && kind.parse(word).is_some() {
            Diagnostic::error(
                codes::E0034,
                format!("{} values are bare words, not strings", kind.what()),
            )
            .with_primary(span, "written as a string")
            .with_help(format!("write `{word}` without quotes"))
            .with_fix(span, word, "remove the quotes")
        } else {
            Diagnostic::error(codes::E0034, format!("`{word}` is not a {}", kind.what()))
                .with_primary(span, format!("unknown {}", kind.what()))
        };
        if d.help.is_none() {
            d = d.with_suggestion(
                span,
                best_match(word, spellings.iter().copied()),
                format!(
                    "{}es are: {}",
                    kind.what().trim_end_matches('s'),
                    spellings.join(", ")
                ),
            );
        }
        self.report(file, d);
    }

    fn script_lints(&mut self, file: FileId, span: Span, literal: &str) {
        for finding in literals::script_findings(literal) {
            let d = match finding {
                literals::ScriptFinding::Mixed { part } => Diagnostic::warning(codes::W0007, format!("`{part}` mixes characters of different scripts"))
                    .with_primary(span, "mixed-script literal")
                    .with_help("homoglyphs from another script can make a name look like a trusted one; write it in a single script (or in punycode if intended)"),
                literals::ScriptFinding::Confusable { part, looks_like } => {
                    Diagnostic::warning(codes::W0008, format!("`{part}` is written in a non-Latin script but looks like `{looks_like}`"))
                        .with_primary(span, "confusable literal")
                        .with_help(format!("if you meant `{looks_like}`, retype it in ASCII; if the non-Latin name is intended, write its punycode form"))
                }
            };
            self.report(file, d);
        }
    }

    fn check_mapping(&mut self, id: ModuleId, m: &ast::MapItem) {
        let file = self.modules[id].file;
        let mut tools = Vec::new();
        let mut ok = true;
        for t in &m.tools {
            match literals::tool_glob(&t.node) {
                Ok(v) => tools.push(v),
                Err(e) => {
                    self.report(file, lit_diag(codes::E0042, e, t.span, "invalid tool name"));
                    ok = false;
                }
            }
        }
        let mut entries = Vec::new();
        for entry in &m.entries {
            let kind = match entry.kind.node.as_str() {
                "path" => Some(TargetKind::Path),
                "url" => Some(TargetKind::Url),
                "host" => Some(TargetKind::Host),
                "command" => Some(TargetKind::Command),
                other => {
                    let mut d =
                        Diagnostic::error(codes::E0050, format!("`{other}` is not a mapping kind"))
                            .with_primary(entry.kind.span, "unknown kind");
                    d = match best_match(other, ["path", "url", "host", "command"]) {
                        Some(s) => d
                            .with_help(format!(
                                "did you mean `{s}`? kinds are path, url, host and command"
                            ))
                            .with_fix(entry.kind.span, s, format!("use `{s}`")),
                        None => d.with_help("a mapping's kind is path, url, host or command"),
                    };
                    self.report(file, d);
                    None
                }
            };
            let steps = match parse_arg_path(&entry.path.node) {
                Ok(s) => Some(s),
                Err(msg) => {
                    let d = Diagnostic::error(codes::E0052, msg)
                        .with_primary(entry.path.span, "invalid argument path")
                        .with_help("write `args.NAME`, `args[\"key\"]` or `args.list[*]`: the steps select a string (or strings) inside the tool's arguments");
                    self.report(file, d);
                    None
                }
            };
            let class = match gait_run::vocab::EndpointClass::parse(&entry.class.node) {
                Some(c) => Some(c),
                None => {
                    self.bad_enum(
                        file,
                        entry.class.span,
                        EnumKind::Endpoint,
                        &entry.class.node,
                        false,
                    );
                    None
                }
            };
            if let (Some(kind), Some(class)) = (kind, class) {
                let fits = match kind {
                    TargetKind::Path => class.family() == Some("fs"),
                    TargetKind::Url | TargetKind::Host => class.family() == Some("net"),
                    TargetKind::Command => class == gait_run::vocab::EndpointClass::ProcExec,
                    _ => false,
                };
                if !fits {
                    let allowed = match kind {
                        TargetKind::Path => "fs.read, fs.write or fs.delete",
                        TargetKind::Url | TargetKind::Host => "net.http or net.dns",
                        _ => "proc.exec",
                    };
                    let d = Diagnostic::error(
                        codes::E0051,
                        format!(
                            "a `{}` mapping cannot have endpoint class `{class}`",
                            entry.kind.node
                        ),
                    )
                    .with_primary(
                        entry.class.span,
                        format!("not a class for `{}` targets", entry.kind.node),
                    )
                    .with_secondary(entry.kind.span, "mapping kind")
                    .with_help(format!("`{}` targets take {allowed}", entry.kind.node));
                    self.report(file, d);
                    ok = false;
                } else if let Some(path) = steps {
                    entries.push(model::MappingEntry { kind, path, class });
                }
            } else {
                ok = false;
            }
        }
        if ok {
            self.modules[id].mappings.push(model::ToolMapping {
                tools,
                entries,
                origin: Origin { file, span: m.span },
            });
        }
    }

    fn check_trust(&mut self, id: ModuleId, t: &ast::TrustItem) {
        let file = self.modules[id].file;
        let mut ok = true;
        if let Err(e) = literals::non_empty(&t.publisher.node, "publisher name") {
            self.report(
                file,
                lit_diag(codes::E0047, e, t.publisher.span, "invalid publisher"),
            );
            ok = false;
        }
        let mut keys = Vec::new();
        for k in &t.keys {
            match literals::key(&k.node) {
                Ok(_) => keys.push(k.node.clone()),
                Err(e) => {
                    self.report(file, lit_diag(codes::E0045, e, k.span, "invalid key"));
                    ok = false;
                }
            }
        }
        if ok {
            self.modules[id].trust.push(model::Trust {
                publisher: t.publisher.node.to_lowercase(),
                keys,
            });
        }
    }

    fn check_pin(&mut self, id: ModuleId, p: &ast::PinItem) {
        let file = self.modules[id].file;
        let mut ok = true;
        if let Err(e) = literals::non_empty(&p.skill.node, "skill name") {
            self.report(
                file,
                lit_diag(codes::E0047, e, p.skill.span, "invalid skill name"),
            );
            ok = false;
        }
        if let Err(e) = literals::non_empty(&p.version.node, "version") {
            self.report(
                file,
                lit_diag(codes::E0046, e, p.version.span, "invalid version"),
            );
            ok = false;
        }
        if let Err(e) = literals::digest(&p.digest.node) {
            self.report(
                file,
                lit_diag(codes::E0044, e, p.digest.span, "invalid digest"),
            );
            ok = false;
        }
        if ok {
            self.modules[id].pins.push(model::Pin {
                skill: p.skill.node.to_lowercase(),
                version: p.version.node.clone(),
                digest: p.digest.node.clone(),
            });
        }
    }

    // ------------------------------------------------------------ policies

    /// Checks a loaded file. For a policy, assembles and lints it; for a
    /// module, checks its items (and reports nothing module-specific).
    pub fn check(&mut self, id: ModuleId) -> Checked {
        self.check_module(id);
        if self.modules[id].kind == FileKind::Module {
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

    fn has_errors_in(&self, id: ModuleId) -> bool {
        let mut files = vec![self.modules[id].file];
        let mut stack = vec![id];
        let mut seen = HashSet::new();
        while let Some(m) = stack.pop() {
            if !seen.insert(m) {
                continue;
            }
            files.push(self.modules[m].file);
            stack.extend(self.modules[m].imports.values().flatten());
        }
        self.diagnostics
            .iter()
            .any(|d| d.is_error() && files.contains(&d.file))
    }

    fn check_policy(&mut self, id: ModuleId) -> Option<model::Policy> {
        let file = self.modules[id].file;
        let items = self.modules[id].ast.items.clone();

        // Header: exactly once, first.
        let headers: Vec<&ast::Header> = items_of!(items, Item::Header).collect();
        let first_item = items.iter().find(|i| !matches!(i, Item::Error(_)));
        let mut header_info = None;
        match headers.first() {
            None => {
                let span = first_item.map(|i| i.span().head()).unwrap_or_default();
                let d = Diagnostic::error(codes::E0010, "this policy has no `policy` header")
                    .with_primary(span, "expected `policy \"NAME\" version \"X.Y.Z\"` before this")
                    .with_help("a policy file starts with its header, e.g. `policy \"my-agent\" version \"1.0.0\"`; a file without rules, default or tests is a module instead")
                    .with_fix(span, "policy \"NAME\" version \"1.0.0\"\n\n", "insert a header");
                self.report(file, d);
            }
            Some(h) => {
                if let Some(first) = first_item {
                    if !matches!(first, Item::Header(_)) {
                        let d = Diagnostic::error(
                            codes::E0011,
                            "the policy header must be the first item",
                        )
                        .with_primary(h.span, "header")
                        .with_secondary(
                            first.span(),
                            format!("{} before the header", first.describe()),
                        )
                        .with_help("move `policy ... version ...` to the top of the file");
                        self.report(file, d);
                    }
                }
                for dup in &headers[1..] {
                    let d = Diagnostic::error(codes::E0011, "duplicate policy header")
                        .with_primary(dup.span, "second header")
                        .with_secondary(h.span, "first header")
                        .with_help("a policy has exactly one header; remove this one");
                    self.report(file, d);
                }
                header_info = self.check_header(file, h);
            }
        }

        // Default: exactly once.
        let defaults: Vec<&ast::DefaultItem> = items_of!(items, Item::Default).collect();
        let default = match defaults.first() {
            None => {
                let span = headers
                    .first()
                    .map(|h| h.span)
                    .unwrap_or_else(|| first_item.map(|i| i.span().head()).unwrap_or_default());
                let d = Diagnostic::error(codes::E0012, "this policy has no `default` verdict")
                    .with_primary(span, "policy without a default")
                    .with_help("there is no silent default: add `default block` (or the verdict for intents no rule matches)")
                    .with_fix(Span { start: span.end, end: span.end }, "\n\ndefault block", "add `default block`");
                self.report(file, d);
                None
            }
            Some(first) => {
                for dup in &defaults[1..] {
                    let d = Diagnostic::error(codes::E0013, "duplicate `default`")
                        .with_primary(dup.span, "second default")
                        .with_secondary(first.span, "first default")
                        .with_help("a policy has exactly one default verdict; remove one");
                    self.report(file, d);
                }
                Some(first.verdict.node)
            }
        };

        let fail_closed = self.check_fail_closed(file, &items);

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
        let (name, version, revision) = header_info?;
        let policy = model::Policy {
            name,
            version,
            revision,
            default: default?,
            fail_closed,
            mappings,
            trust,
            pins,
            rules,
            tests,
        };
        let lint_diags = lints::lint_policy(&policy, file);
        self.diagnostics.extend(lint_diags);
        Some(policy)
    }

    fn check_header(&mut self, file: FileId, h: &ast::Header) -> Option<(String, String, u32)> {
        let mut ok = true;
        if h.name.node.trim().is_empty() {
            let d = Diagnostic::error(codes::E0047, "empty policy name")
                .with_primary(h.name.span, "empty")
                .with_help("name the policy, e.g. \"payments-agent\"");
            self.report(file, d);
            ok = false;
        }
        if let Err(e) = literals::semver(&h.version.node) {
            self.report(
                file,
                lit_diag(codes::E0046, e, h.version.span, "not a semantic version"),
            );
            ok = false;
        }
        let revision = match &h.revision {
            Some(n) => self.integer(file, n, "revision"),
            None => Some(0),
        };
        (ok && revision.is_some()).then(|| {
            (
                h.name.node.clone(),
                h.version.node.clone(),
                revision.unwrap_or(0),
            )
        })
    }

    fn integer(&mut self, file: FileId, n: &Spanned<String>, what: &str) -> Option<u32> {
        if let Ok(v) = n.node.parse::<u32>() {
            if !(n.node.len() > 1 && n.node.starts_with('0')) {
                return Some(v);
            }
        }
        let reason = if n.node.starts_with('-') {
            "must not be negative"
        } else if n.node.contains(['.', 'e', 'E']) {
            "must be a whole number"
        } else if n.node.len() > 1 && n.node.starts_with('0') {
            "must not have leading zeros"
        } else {
            "is larger than 4294967295"
        };
        let d = Diagnostic::error(codes::E0006, format!("{what} {reason}: `{}`", n.node))
            .with_primary(n.span, "invalid integer")
            .with_help(format!(
                "{what} is a non-negative whole number that fits in 32 bits"
            ));
        self.report(file, d);
        None
    }

    fn check_fail_closed(&mut self, file: FileId, items: &[Item]) -> model::FailClosedSpec {
        let blocks: Vec<&ast::FailClosed> = items_of!(items, Item::FailClosed).collect();
        let mut spec = model::FailClosedSpec {
            explicit: !blocks.is_empty(),
            risk: vec![Risk::High, Risk::Critical],
            require: Vec::new(),
        };
        for dup in blocks.iter().skip(1) {
            let d = Diagnostic::error(codes::E0014, "duplicate `fail_closed` block")
                .with_primary(dup.span, "second block")
                .with_secondary(blocks[0].span, "first block")
                .with_help("merge the two blocks into one");
            self.report(file, d);
        }
        let Some(block) = blocks.first() else {
            return spec;
        };
        let mut seen_risk: Option<Span> = None;
        let mut seen_require: Option<Span> = None;
        for line in &block.lines {
            match line {
                ast::FailClosedLine::Risk(names, span) => {
                    if let Some(first) = seen_risk {
                        self.duplicate_clause(file, "risk", *span, first);
                        continue;
                    }
                    seen_risk = Some(*span);
                    let mut risks = Vec::new();
                    for n in names {
                        match Risk::parse(&n.node) {
                            Some(r) if !risks.contains(&r) => risks.push(r),
                            Some(_) => {}
                            None => {
                                let mut d = Diagnostic::error(
                                    codes::E0015,
                                    format!("`{}` is not a risk class", n.node),
                                )
                                .with_primary(n.span, "unknown risk class");
                                d = match best_match(&n.node, ["low", "medium", "high", "critical"])
                                {
                                    Some(s) => d
                                        .with_help(format!("did you mean `{s}`?"))
                                        .with_fix(n.span, s, format!("use `{s}`")),
                                    None => d.with_help(
                                        "risk classes are low, medium, high and critical",
                                    ),
                                };
                                self.report(file, d);
                            }
                        }
                    }
                    risks.sort();
                    spec.risk = risks;
                }
                ast::FailClosedLine::Require(names, span) => {
                    if let Some(first) = seen_require {
                        self.duplicate_clause(file, "require", *span, first);
                        continue;
                    }
                    seen_require = Some(*span);
                    for n in names {
                        if FAIL_CLOSED_FIELDS.contains(&n.node.as_str()) {
                            if !spec.require.contains(&n.node) {
                                spec.require.push(n.node.clone());
                            }
                        } else {
                            let mut d = Diagnostic::error(
                                codes::E0015,
                                format!("`{}` is not a field `fail_closed` can require", n.node),
                            )
                            .with_primary(n.span, "unknown field");
                            d =
                                match best_match(&n.node, FAIL_CLOSED_FIELDS.iter().copied()) {
                                    Some(s) => d
                                        .with_help(format!("did you mean `{s}`?"))
                                        .with_fix(n.span, s, format!("use `{s}`")),
                                    None => d.with_help(format!(
                                        "fields are: {}",
                                        FAIL_CLOSED_FIELDS.join(", ")
                                    )),
                                };
                            self.report(file, d);
                        }
                    }
                }
            }
        }
        spec.require.sort();
        spec
    }

    fn duplicate_clause(&mut self, file: FileId, what: &str, span: Span, first: Span) {
        let d = Diagnostic::error(codes::E0061, format!("duplicate `{what}`"))
            .with_primary(span, format!("second `{what}`"))
            .with_secondary(first, format!("first `{what}`"))
            .with_help(format!("write `{what}` once"));
        self.report(file, d);
    }

    fn check_rule(&mut self, id: ModuleId, r: &ast::Rule) -> Option<model::Rule> {
        let file = self.modules[id].file;
        let mut ok = true;
        let priority = match &r.priority {
            Some(n) => self.integer(file, n, "priority"),
            None => Some(0),
        };
        ok &= priority.is_some();
        let mut seen: HashMap<&'static str, Span> = HashMap::new();
        let mut when = None;
        let mut then = None;
        let mut reasons = Vec::new();
        let mut violations = Vec::new();
        let mut explain = None;
        let mut approvals: Option<(Option<u32>, Span)> = None;
        for clause in &r.clauses {
            let kw = clause.keyword();
            if matches!(clause, RuleClauseOnce!()) {
                if let Some(first) = seen.get(kw) {
                    self.duplicate_clause(file, kw, clause.span(), *first);
                    ok = false;
                    continue;
                }
                seen.insert(kw, clause.span());
            }
            match clause {
                ast::RuleClause::When(c, _) => when = Some(c.clone()),
                ast::RuleClause::Then(v, _) => then = Some(v.node),
                ast::RuleClause::Reason(list, _) | ast::RuleClause::Violation(list, _) => {
                    for s in list {
                        match literals::code(&s.node) {
                            Ok(v) => {
                                let target = if kw == "reason" {
                                    &mut reasons
                                } else {
                                    &mut violations
                                };
                                if !target.contains(&v) {
                                    target.push(v);
                                }
                            }
                            Err(e) => {
                                self.report(
                                    file,
                                    lit_diag(codes::E0047, e, s.span, "invalid code"),
                                );
                                ok = false;
                            }
                        }
                    }
                }
                ast::RuleClause::Explain(s, _) => explain = Some(s.node.clone()),
                ast::RuleClause::Approvals(n, span) => {
                    approvals = Some((self.integer(file, n, "approvals"), *span))
                }
                ast::RuleClause::Error(_) => ok = false,
            }
        }
        let verdict = match then {
            Some(v) => Some(v),
            None => {
                if !r
                    .clauses
                    .iter()
                    .any(|c| matches!(c, ast::RuleClause::Error(_)))
                {
                    let insert_at = r.span.end().saturating_sub(1);
                    let d = Diagnostic::error(codes::E0060, format!("rule `{}` has no `then`", r.name.node))
                        .with_primary(r.name.span, "this rule never says what to decide")
                        .with_help("every rule needs a verdict: add `then allow`, `then block`, `then require_approval` or `then dry_run`")
                        .with_fix(Span::new(insert_at, insert_at), "  then block\n", "add `then block`");
                    self.report(file, d);
                }
                None
            }
        };
        let approvals = match (approvals, verdict) {
            (None, _) => None,
            (Some((n, span)), Some(Verdict::RequireApproval)) => match n {
                Some(0) => {
                    let d =
                        Diagnostic::error(codes::E0062, "`approvals 0` would require no approval")
                            .with_primary(span, "must be at least 1")
                            .with_help("use `approvals 1` or more, or a different verdict");
                    self.report(file, d);
                    ok = false;
                    None
                }
                Some(n) => Some(n),
                None => {
                    ok = false;
                    None
                }
            },
            (Some((_, span)), Some(v)) => {
                let d = Diagnostic::error(
                    codes::E0062,
                    format!("`approvals` on a rule whose verdict is `{v}`"),
                )
                .with_primary(span, "only meaningful with `then require_approval`")
                .with_help("remove `approvals`, or change the verdict to `require_approval`")
                .with_fix(span, "", "remove `approvals`");
                self.report(file, d);
                ok = false;
                None
            }
            (Some(_), None) => None,
        };
        let cond = match &when {
            Some(c) => {
                let checked = self.check_cond(id, c, verdict, false);
                ok &= checked.is_some();
                checked
            }
            None => None,
        };
        if !ok {
            return None;
        }
        Some(model::Rule {
            name: r.name.node.clone(),
            priority: priority?,
            verdict: verdict?,
            reasons,
            violations,
            explain,
            approvals,
            cond,
            origin: Origin { file, span: r.span },
            name_span: r.name.span,
        })
    }

    /// Types a condition. `negated` tracks polarity for the quantifier lints.
    fn check_cond(
        &mut self,
        id: ModuleId,
        c: &ast::Cond,
        verdict: Option<Verdict>,
        negated: bool,
    ) -> Option<model::Cond> {
        match c {
            ast::Cond::Or(a, b) | ast::Cond::And(a, b) => {
                let l = self.check_cond(id, a, verdict, negated);
                let r = self.check_cond(id, b, verdict, negated);
                let (l, r) = (l?, r?);
                let is_and = matches!(c, ast::Cond::And(..));
                let mut parts = Vec::new();
                for part in [l, r] {
                    match (part, is_and) {
                        (model::Cond::And(v), true) | (model::Cond::Or(v), false) => {
                            parts.extend(v)
                        }
                        (p, _) => parts.push(p),
                    }
                }
                Some(if is_and {
                    model::Cond::And(parts)
                } else {
                    model::Cond::Or(parts)
                })
            }
            ast::Cond::Not(inner, _) => Some(model::Cond::Not(Box::new(
                self.check_cond(id, inner, verdict, !negated)?,
            ))),
            ast::Cond::Atom(a) => self
                .check_atom(id, a, verdict, negated)
                .map(model::Cond::Atom),
        }
    }

    fn check_atom(
        &mut self,
        id: ModuleId,
        a: &ast::Atom,
        verdict: Option<Verdict>,
        negated: bool,
    ) -> Option<model::Atom> {
        let file = self.modules[id].file;
        match &a.kind {
            ast::AtomKind::Flag(name) => {
                if let Some(f) = attrs::flag(&name.node) {
                    return Some(model::Atom::Flag(f));
                }
                if let Some(info) = attrs::attr_info(&name.node) {
                    let example = if info.multi {
                        format!("any {} in SET", info.name)
                    } else {
                        format!("{} in SET", info.name)
                    };
                    let d = Diagnostic::error(
                        codes::E0036,
                        format!("`{}` is an attribute and needs a comparison", info.name),
                    )
                    .with_primary(name.span, "attribute used as a flag")
                    .with_help(format!("compare it with a set or value, e.g. `{example}`"));
                    self.report(file, d);
                    return None;
                }
                self.unknown_attribute(file, name);
                None
            }
            ast::AtomKind::ArgsContain(set) => {
                match self.eval_set(id, set, AttrType::Set(SetType::Markers), "`args contain`") {
                    Some(Values::Patterns { items, .. }) => Some(model::Atom::ArgsContain(items)),
                    _ => None,
                }
            }
            ast::AtomKind::Test {
                quant,
                attr,
                op,
                rhs,
            } => {
                let Some(info) = attrs::attr_info(&attr.node) else {
                    if attrs::flag(&attr.node).is_some() {
                        let d = Diagnostic::error(
                            codes::E0036,
                            format!("`{}` is a flag and cannot be compared", attr.node),
                        )
                        .with_primary(op.span, "comparison on a flag")
                        .with_help(format!(
                            "test the flag alone: `{0}` or `not {0}`",
                            attr.node
                        ))
                        .with_fix(
                            attr.span.to(rhs.span()),
                            attr.node.clone(),
                            "test the flag alone",
                        );
                        self.report(file, d);
                    } else {
                        self.unknown_attribute(file, attr);
                    }
                    return None;
                };
                let mut ok = true;
                match (info.multi, quant) {
                    (true, None) => {
                        let q = if verdict == Some(Verdict::Allow) {
                            "all"
                        } else {
                            "any"
                        };
                        let d = Diagnostic::error(codes::E0031, format!("`{}` has one value per target and needs a quantifier", info.name))
                            .with_primary(attr.span, "which values? `any` or `all`")
                            .with_help(format!(
                                "write `any {0} ...` (some value matches) or `all {0} ...` (there is a value and every value matches); allow rules want `all`, block rules `any`",
                                info.name
                            ))
                            .with_fix(attr.span.head(), format!("{q} "), format!("insert `{q}`"));
                        self.report(file, d);
                        ok = false;
                    }
                    (false, Some(q)) => {
                        let d = Diagnostic::error(
                            codes::E0032,
                            format!(
                                "`{}` has a single value; `{}` does not apply",
                                info.name,
                                q.node.as_str()
                            ),
                        )
                        .with_primary(q.span, "quantifier on a single-valued attribute")
                        .with_help(format!(
                            "write `{} {} ...` without the quantifier",
                            info.name,
                            op.node.as_str()
                        ))
                        .with_fix(
                            q.span.to(attr.span.head()),
                            "",
                            format!("remove `{}`", q.node.as_str()),
                        );
                        self.report(file, d);
                        ok = false;
                    }
                    _ => {}
                }
                // Quantifier safety for the verdict (the effective quantifier flips under `not`).
                if let (true, Some(q), Some(v)) = (info.per_target, quant, verdict) {
                    let effective = match (q.node, negated) {
                        (Quant::Any, false) | (Quant::All, true) => Quant::Any,
                        _ => Quant::All,
                    };
                    self.quantifier_lint(file, q, info.name, effective, v);
                }
                let values = match rhs {
                    ast::Rhs::Set(set) => {
                        if matches!(op.node, ast::CmpOp::Eq | ast::CmpOp::Ne) {
                            let suggestion = if op.node == ast::CmpOp::Eq {
                                "in"
                            } else {
                                "not in"
                            };
                            let d = Diagnostic::error(
                                codes::E0036,
                                format!(
                                    "`{}` compares with a single value, not a list",
                                    op.node.as_str()
                                ),
                            )
                            .with_primary(op.span, "comparison with a list")
                            .with_help(format!("use `{suggestion}` to test membership in a list"))
                            .with_fix(
                                op.span,
                                suggestion,
                                format!("use `{suggestion}`"),
                            );
                            self.report(file, d);
                            ok = false;
                        }
                        self.eval_set(id, set, info.ty, &format!("`{}`", info.name))
                    }
                    ast::Rhs::Value(v) => {
                        match self.eval_elem(id, v, info.ty, &format!("`{}`", info.name)) {
                            Some(ElemValue::Item(item)) => match info.ty {
                                AttrType::Set(ty) => Some(Values::Patterns {
                                    ty,
                                    items: vec![item],
                                }),
                                AttrType::Enum(_) => None,
                            },
                            Some(ElemValue::Mask(mask)) => match info.ty {
                                AttrType::Enum(kind) => Some(Values::Enum { kind, mask }),
                                AttrType::Set(_) => None,
                            },
                            None => None,
                        }
                    }
                };
                let values = values?;
                if !ok {
                    return None;
                }
                let negated_op = matches!(op.node, ast::CmpOp::NotIn | ast::CmpOp::Ne);
                Some(match quant {
                    Some(q) => model::Atom::Multi {
                        attr: info.attr,
                        quant: q.node,
                        negated: negated_op,
                        values,
                    },
                    None => model::Atom::Scalar {
                        attr: info.attr,
                        negated: negated_op,
                        values,
                    },
                })
            }
        }
    }

    fn quantifier_lint(
        &mut self,
        file: FileId,
        q: &Spanned<Quant>,
        attr: &str,
        effective: Quant,
        verdict: Verdict,
    ) {
        let d = match (verdict, effective) {
            (Verdict::Allow, Quant::Any) => Diagnostic::warning(codes::W0005, format!("`any {attr}` in an allow rule"))
                .with_primary(q.span, "one matching target is enough to allow")
                .with_help(format!("an intent with several targets would be allowed as soon as one of them matches; use `all {attr}` so that every target must match")),
            (Verdict::Block | Verdict::RequireApproval, Quant::All) => {
                Diagnostic::warning(codes::W0006, format!("`all {attr}` in a {verdict} rule"))
                    .with_primary(q.span, "every target must match for the rule to fire")
                    .with_help(format!("adding one harmless target escapes this rule; use `any {attr}` so that one matching target is enough"))
            }
            _ => return,
        };
        self.report(file, d);
    }

    fn unknown_attribute(&mut self, file: FileId, name: &Spanned<String>) {
        let words = attrs::condition_words();
        let mut d = Diagnostic::error(codes::E0033, format!("unknown attribute `{}`", name.node))
            .with_primary(name.span, "not an attribute or flag");
        d = d.with_suggestion(
            name.span,
            best_match(&name.node, words.iter().copied()),
            format!("attributes and flags are: {}", words.join(", ")),
        );
        self.report(file, d);
    }

    fn check_test(
        &mut self,
        id: ModuleId,
        t: &ast::Test,
        rule_names: &[String],
    ) -> Option<model::TestCase> {
        let file = self.modules[id].file;
        let mut ok = true;
        let mut intent: Option<model::TestIntent> = None;
        let mut expect: Option<model::Expectation> = None;
        let mut first_intent: Option<Span> = None;
        let mut first_expect: Option<Span> = None;
        for clause in &t.clauses {
            match clause {
                ast::TestClause::Intent(_) | ast::TestClause::IntentFile { .. } => {
                    if let Some(first) = first_intent {
                        self.duplicate_clause(file, "intent", clause.span(), first);
                        ok = false;
                        continue;
                    }
                    first_intent = Some(clause.span());
                    intent = match clause {
                        ast::TestClause::Intent(lit) => {
                            self.check_intent(file, lit).map(model::TestIntent::Inline)
                        }
                        ast::TestClause::IntentFile { word, path, .. } => {
                            self.check_intent_file(id, word, path)
                        }
                        _ => None,
                    };
                    ok &= intent.is_some();
                }
                ast::TestClause::Expect(e) => {
                    if let Some(first) = first_expect {
                        self.duplicate_clause(file, "expect", e.span, first);
                        ok = false;
                        continue;
                    }
                    first_expect = Some(e.span);
                    expect = self.check_expect(file, e, rule_names);
                    ok &= expect.is_some();
                }
                ast::TestClause::Error(_) => ok = false,
            }
        }
        if first_intent.is_none() {
            let d = Diagnostic::error(
                codes::E0070,
                format!("test {:?} has no `intent`", t.name.node),
            )
            .with_primary(t.name.span, "nothing to evaluate")
            .with_help(
                "add `intent { tool \"NAME\" ... }` or `intent file \"path/to/intent.json\"`",
            );
            self.report(file, d);
            ok = false;
        }
        if first_expect.is_none() {
            let d = Diagnostic::error(
                codes::E0070,
                format!("test {:?} has no `expect`", t.name.node),
            )
            .with_primary(t.name.span, "nothing to check")
            .with_help("add `expect VERDICT [reason \"CODE\"] [rule NAME]`");
            self.report(file, d);
            ok = false;
        }
        if !ok {
            return None;
        }
        Some(model::TestCase {
            name: t.name.node.clone(),
            intent: intent?,
            expect: expect?,
            origin: Origin { file, span: t.span },
        })
    }

    fn check_intent_file(
        &mut self,
        id: ModuleId,
        word: &Spanned<String>,
        path: &Spanned<String>,
    ) -> Option<model::TestIntent> {
        let file = self.modules[id].file;
        if word.node != "file" {
            let d = Diagnostic::error(
                codes::E0001,
                format!(
                    "expected `{{` or `file` after `intent`, found `{}`",
                    word.node
                ),
            )
            .with_primary(word.span, "unexpected")
            .with_help("write `intent { ... }` or `intent file \"intent.json\"`");
            self.report(file, d);
            return None;
        }
        let full = self.modules[id].dir.join(&path.node);
        if !full.is_file() {
            let d = Diagnostic::error(
                codes::E0070,
                format!("intent file `{}` not found", path.node),
            )
            .with_primary(path.span, "no such file")
            .with_help(format!(
                "looked for {}; the path is relative to the policy file",
                full.display()
            ));
            self.report(file, d);
            return None;
        }
        Some(model::TestIntent::File(full.to_string_lossy().into_owned()))
    }

    fn check_intent(&mut self, file: FileId, lit: &ast::IntentLit) -> Option<serde_json::Value> {
        use serde_json::{json, Map, Value};
        let mut ok = true;
        let mut seen: HashMap<&'static str, Span> = HashMap::new();
        let mut tool = None;
        let mut args = Value::Object(Map::new());
        let mut targets = Vec::new();
        let mut context = Map::new();
        context.insert("risk_class".into(), json!("low"));
        let mut provenance = Vec::new();
        let mut skill: Option<Map<String, Value>> = None;
        for field in &lit.fields {
            let kw = field.keyword();
            if kw != "target" {
                if let Some(first) = seen.get(kw) {
                    self.duplicate_clause(file, kw, field.span(), *first);
                    ok = false;
                    continue;
                }
                seen.insert(kw, field.span());
            }
            match field {
                ast::IntentField::Tool(s, _) => {
                    if s.node.trim().is_empty() {
                        let d = Diagnostic::error(codes::E0070, "empty tool name")
                            .with_primary(s.span, "empty")
                            .with_help("name the tool the agent calls");
                        self.report(file, d);
                        ok = false;
                    }
                    tool = Some(s.node.clone());
                }
                ast::IntentField::Args(j, _) => match self.json_value(file, j) {
                    Some(v) => args = v,
                    None => ok = false,
                },
                ast::IntentField::Target {
                    kind, value, op, ..
                } => {
                    if TargetKind::parse(&kind.node).is_none() {
                        self.bad_intent_enum(file, kind, EnumKind::TargetKind);
                        ok = false;
                    }
                    let mut t = Map::new();
                    t.insert("kind".into(), json!(kind.node));
                    t.insert("value".into(), json!(value.node));
                    if let Some(op) = op {
                        t.insert("operation".into(), json!(elem_text(&op.node)));
                    }
                    targets.push(Value::Object(t));
                }
                ast::IntentField::Risk(r, _) => {
                    if Risk::parse(&r.node).is_none() {
                        self.bad_intent_enum(file, r, EnumKind::Risk);
                        ok = false;
                    }
                    context.insert("risk_class".into(), json!(r.node));
                }
                ast::IntentField::Identity(s, _) => {
                    context.insert("identity".into(), json!(s.node));
                }
                ast::IntentField::Workspace(s, _) => {
                    if !s.node.starts_with('/') {
                        let d = Diagnostic::error(
                            codes::E0070,
                            "the workspace must be an absolute path",
                        )
                        .with_primary(s.span, "not absolute")
                        .with_help(
                            "write the workspace as an absolute path such as \"/workspace\"",
                        );
                        self.report(file, d);
                        ok = false;
                    }
                    context.insert("workspace".into(), json!(s.node));
                }
                ast::IntentField::Provenance(list, _) => {
                    for p in list {
                        if ProvenanceSource::parse(&p.node).is_none() {
                            self.bad_intent_enum(file, p, EnumKind::Provenance);
                            ok = false;
                        }
                        provenance.push(json!({"arg_path": "$", "source": p.node}));
                    }
                }
                ast::IntentField::Skill(fields, span) => {
                    let mut m = Map::new();
                    for f in fields {
                        let key = match f.key.node.as_str() {
                            "name" => "skill_name",
                            "publisher" => "publisher",
                            "source" => "source",
                            "version" => "skill_version",
                            "digest" => "digest",
                            "key" => "signature_key_id",
                            other => {
                                let mut d = Diagnostic::error(
                                    codes::E0070,
                                    format!("unknown skill field `{other}`"),
                                )
                                .with_primary(f.key.span, "unknown field");
                                d = d.with_suggestion(f.key.span, best_match(other, ["name", "publisher", "source", "version", "digest", "key"]), "skill fields are name, publisher, source, version, digest and key");
                                self.report(file, d);
                                ok = false;
                                continue;
                            }
                        };
                        let mut value = f.value.node.clone();
                        if key == "digest" {
                            match literals::digest(&value) {
                                Ok(v) => value = v.trim_start_matches("sha256:").to_owned(),
                                Err(e) => {
                                    self.report(
                                        file,
                                        lit_diag(codes::E0044, e, f.value.span, "invalid digest"),
                                    );
                                    ok = false;
                                }
                            }
                        }
                        m.insert(key.into(), json!(value));
                    }
                    for required in ["skill_name", "publisher", "source"] {
                        if !m.contains_key(required) {
                            let field = match required {
                                "skill_name" => "name",
                                other => other,
                            };
                            let d = Diagnostic::error(
                                codes::E0070,
                                format!("the skill has no `{field}`"),
                            )
                            .with_primary(*span, "incomplete skill provenance")
                            .with_help("skill provenance needs name, publisher and source");
                            self.report(file, d);
                            ok = false;
                        }
                    }
                    skill = Some(m);
                }
            }
        }
        let Some(tool) = tool else {
            let d = Diagnostic::error(codes::E0070, "the intent has no `tool`")
                .with_primary(lit.span, "which tool does the agent call?")
                .with_help("add `tool \"NAME\"` to the intent");
            self.report(file, d);
            return None;
        };
        if !ok {
            return None;
        }
        let mut intent = Map::new();
        intent.insert("schema_id".into(), json!("gait.gate.intent_request"));
        intent.insert("schema_version".into(), json!("1.0.0"));
        intent.insert("tool_name".into(), json!(tool));
        intent.insert("args".into(), args);
        intent.insert("targets".into(), Value::Array(targets));
        if !provenance.is_empty() {
            intent.insert("arg_provenance".into(), Value::Array(provenance));
        }
        if let Some(s) = skill {
            intent.insert("skill_provenance".into(), Value::Object(s));
        }
        intent.insert("context".into(), Value::Object(context));
        Some(Value::Object(intent))
    }

    fn bad_intent_enum(&mut self, file: FileId, word: &Spanned<String>, kind: EnumKind) {
        let spellings = match kind {
            EnumKind::Endpoint => vec![],
            k => k.spellings(),
        };
        let mut d = Diagnostic::error(
            codes::E0070,
            format!("`{}` is not a {}", word.node, kind.what()),
        )
        .with_primary(word.span, format!("unknown {}", kind.what()));
        d = d.with_suggestion(
            word.span,
            best_match(&word.node, spellings.iter().copied()),
            format!(
                "{}es are: {}",
                kind.what().trim_end_matches('s'),
                spellings.join(", ")
            ),
        );
        self.report(file, d);
    }

    fn json_value(&mut self, file: FileId, j: &Spanned<ast::Json>) -> Option<serde_json::Value> {
        use serde_json::Value;
        Some(match &j.node {
            ast::Json::Null => Value::Null,
            ast::Json::Bool(b) => Value::Bool(*b),
            ast::Json::Str(s) => Value::String(s.clone()),
            ast::Json::Number(n) => match serde_json::from_str::<serde_json::Number>(n) {
                Ok(num) => Value::Number(num),
                Err(_) => {
                    let d = Diagnostic::error(codes::E0047, format!("`{n}` is not a JSON number"))
                        .with_primary(j.span, "invalid number")
                        .with_help("JSON numbers have no leading zeros or trailing dots");
                    self.report(file, d);
                    return None;
                }
            },
            ast::Json::Word(w) => {
                let d = Diagnostic::error(codes::E0047, format!("`{w}` is not a JSON value"))
                    .with_primary(j.span, "bare word in JSON")
                    .with_help("JSON values are strings (in double quotes), numbers, true, false, null, objects and arrays")
                    .with_fix(j.span, format!("{w:?}"), "quote it");
                self.report(file, d);
                return None;
            }
            ast::Json::Array(items) => {
                let mut out = Vec::new();
                let mut ok = true;
                for item in items {
                    match self.json_value(file, item) {
                        Some(v) => out.push(v),
                        None => ok = false,
                    }
                }
                if !ok {
                    return None;
                }
                Value::Array(out)
            }
            ast::Json::Object(members) => {
                let mut out = serde_json::Map::new();
                let mut ok = true;
                let mut seen: HashMap<&str, Span> = HashMap::new();
                for (k, v) in members {
                    if let Some(first) = seen.get(k.node.as_str()) {
                        let d = Diagnostic::error(
                            codes::E0047,
                            format!("duplicate key {:?} in JSON object", k.node),
                        )
                        .with_primary(k.span, "duplicate key")
                        .with_secondary(*first, "first here")
                        .with_help("each key appears once in a JSON object");
                        self.report(file, d);
                        ok = false;
                    }
                    seen.insert(&k.node, k.span);
                    match self.json_value(file, v) {
                        Some(val) => {
                            out.insert(k.node.clone(), val);
                        }
                        None => ok = false,
                    }
                }
                if !ok {
                    return None;
                }
                Value::Object(out)
            }
        })
    }

    fn check_expect(
        &mut self,
        file: FileId,
        e: &ast::Expect,
        rule_names: &[String],
    ) -> Option<model::Expectation> {
        let mut ok = true;
        let mut reasons = Vec::new();
        let mut violations = Vec::new();
        let mut rule = None;
        for tail in &e.tails {
            match tail {
                ast::ExpectTail::Reason(list, _) | ast::ExpectTail::Violation(list, _) => {
                    let is_reason = matches!(tail, ast::ExpectTail::Reason(..));
                    for s in list {
                        match literals::code(&s.node) {
                            Ok(v) => (if is_reason {
                                &mut reasons
                            } else {
                                &mut violations
                            })
                            .push(v),
                            Err(err) => {
                                self.report(
                                    file,
                                    lit_diag(codes::E0047, err, s.span, "invalid code"),
                                );
                                ok = false;
                            }
                        }
                    }
                }
                ast::ExpectTail::Rule(n, span) => {
                    if rule.is_some() {
                        self.duplicate_clause(file, "rule", *span, *span);
                        ok = false;
                    } else if rule_names.contains(&n.node) {
                        rule = Some(n.node.clone());
                    } else {
                        let mut d =
                            Diagnostic::error(codes::E0020, format!("unknown rule `{}`", n.node))
                                .with_primary(n.span, "no rule of this name");
                        d = match best_match(&n.node, rule_names.iter().map(String::as_str)) {
                            Some(s) => d.with_help(format!("did you mean `{s}`?")).with_fix(
                                n.span,
                                s,
                                format!("use `{s}`"),
                            ),
                            None => {
                                d.with_help("`expect ... rule NAME` names a rule of this policy")
                            }
                        };
                        self.report(file, d);
                        ok = false;
                    }
                }
            }
        }
        ok.then_some(model::Expectation {
            verdict: e.verdict.node,
            reasons,
            violations,
            rule,
        })
    }

    /// Mappings, trust and pins of a module and everything it imports (each
    /// module once, in a deterministic order).
    fn collect_tables(
        &self,
        id: ModuleId,
    ) -> (Vec<model::ToolMapping>, Vec<model::Trust>, Vec<model::Pin>) {
        let mut order = Vec::new();
        let mut seen = HashSet::new();
        self.postorder(id, &mut seen, &mut order);
        let mut mappings = Vec::new();
        let mut trust = Vec::new();
        let mut pins = Vec::new();
        for m in order {
            mappings.extend(self.modules[m].mappings.iter().cloned());
            trust.extend(self.modules[m].trust.iter().cloned());
            pins.extend(self.modules[m].pins.iter().cloned());
        }
        (mappings, trust, pins)
    }

    fn postorder(&self, id: ModuleId, seen: &mut HashSet<ModuleId>, out: &mut Vec<ModuleId>) {
        if !seen.insert(id) {
            return;
        }
        for dep in self.modules[id].imports.values().flatten() {
            self.postorder(*dep, seen, out);
        }
        out.push(id);
    }

    fn provides_tables(&self, id: ModuleId) -> bool {
        let (m, t, p) = self.collect_tables(id);
        !(m.is_empty() && t.is_empty() && p.is_empty())
    }

    fn unused_lints(&mut self, id: ModuleId) {
        let file = self.modules[id].file;
        let module = &self.modules[id];
        let mut found = Vec::new();
        for (name, def) in &module.sets {
            if !module.used_sets.contains(name) {
                found.push(
                    Diagnostic::warning(codes::W0001, format!("set `{name}` is never used"))
                        .with_primary(def.span, "unused set")
                        .with_help(
                            "use it in a rule, or remove it; a prefix `_` does not silence this",
                        ),
                );
            }
        }
        let aliases: Vec<(String, Option<ModuleId>, Span)> = module
            .aliases
            .iter()
            .map(|(a, (t, s))| (a.clone(), *t, *s))
            .collect();
        for (alias, target, span) in aliases {
            let used = self.modules[id].used_aliases.contains(&alias);
            // Importing a policy is already an error (E0016); don't also call it unused.
            let contributes = target.is_some_and(|t| {
                self.provides_tables(t) || self.modules[t].kind == FileKind::Policy
            });
            if !used && !contributes && target.is_some() {
                found.push(
                    Diagnostic::warning(codes::W0002, format!("import `{alias}` is never used"))
                        .with_primary(span, "unused import")
                        .with_help(
                            "refer to one of its sets as `ALIAS.NAME`, or remove the import",
                        ),
                );
            }
        }
        for d in found {
            self.report(file, d);
        }
    }
}

/// The items of one kind: `items_of!(items, Item::Rule)` yields `&ast::Rule`s.
macro_rules! items_of {
    ($items:expr, $variant:path) => {
        $items.iter().filter_map(|i| match i {
            $variant(x) => Some(x),
            _ => None,
        })
    };
}
use items_of;

/// Marker pattern for clauses that may appear only once in a rule.
macro_rules! RuleClauseOnce {
    () => {
        ast::RuleClause::When(..)
            | ast::RuleClause::Then(..)
            | ast::RuleClause::Explain(..)
            | ast::RuleClause::Approvals(..)
    };
}
use RuleClauseOnce;

enum ElemValue {
    Item(String),
    Mask(u32),
}

fn elem_text(e: &Elem) -> String {
    match e {
        Elem::Str(s) | Elem::Word(s) | Elem::Number(s) => s.clone(),
        Elem::Bool(b) => b.to_string(),
    }
}

fn ty_singular(ty: SetType) -> &'static str {
    match ty {
        SetType::Tools => "tool",
        SetType::Paths => "path",
        SetType::Domains => "domain",
        SetType::Commands => "command",
        SetType::Identities => "identity",
        SetType::Publishers => "publisher",
        SetType::Sources => "source",
        SetType::Skills => "skill",
        SetType::Markers => "marker",
    }
}

fn literal_code(ty: SetType) -> &'static str {
    match ty {
        SetType::Paths => codes::E0040,
        SetType::Domains => codes::E0041,
        SetType::Tools => codes::E0042,
        SetType::Commands => codes::E0043,
        _ => codes::E0047,
    }
}

fn validate_literal(ty: SetType, s: &str) -> Result<String, LitError> {
    match ty {
        SetType::Paths => literals::path_glob(s),
        SetType::Domains => literals::domain_pattern(s),
        SetType::Tools => literals::tool_glob(s),
        SetType::Commands => literals::command_pattern(s),
        SetType::Markers => literals::non_empty(s, "marker"),
        SetType::Identities => literals::non_empty(s, "identity"),
        SetType::Publishers => literals::non_empty(s, "publisher").map(|v| v.to_lowercase()),
        SetType::Sources => literals::non_empty(s, "source").map(|v| v.to_lowercase()),
        SetType::Skills => literals::non_empty(s, "skill name").map(|v| v.to_lowercase()),
    }
}

fn lit_diag(code: &str, e: LitError, span: Span, label: &str) -> Diagnostic {
    let mut d = Diagnostic::error(code, e.message)
        .with_primary(span, label)
        .with_help(e.help);
    if let Some(fix) = e.fix {
        d = d.with_fix(span, format!("{fix:?}"), format!("replace with {fix:?}"));
    }
    d
}

/// Parses `args.a["b"][*]` into steps.
pub fn parse_arg_path(text: &str) -> Result<Vec<model::PathStep>, String> {
    let Some(mut rest) = text.strip_prefix("args") else {
        return Err(format!("argument path `{text}` must start with `args`"));
    };
    let mut steps = Vec::new();
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            steps.push(model::PathStep::Key(r[..end].to_owned()));
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix("[*]") {
            steps.push(model::PathStep::Each);
            rest = r;
        } else if let Some(r) = rest.strip_prefix("[\"") {
            let mut key = String::new();
            let mut chars = r.char_indices();
            let mut end = None;
            while let Some((i, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, e)) = chars.next() {
                            key.push(match e {
                                'n' => '\n',
                                't' => '\t',
                                other => other,
                            });
                        }
                    }
                    '"' => {
                        end = Some(i);
                        break;
                    }
                    other => key.push(other),
                }
            }
            let end = end.ok_or_else(|| "unterminated key in argument path".to_owned())?;
            rest = r[end + 1..]
                .strip_prefix(']')
                .ok_or_else(|| "expected `]` after the key".to_owned())?;
            steps.push(model::PathStep::Key(key));
        } else {
            return Err(format!("cannot read argument path step `{rest}`"));
        }
    }
    if steps.is_empty() {
        return Err(
            "`args` alone is not an argument path: select a field, e.g. `args.path`".to_owned(),
        );
    }
    if !steps.iter().any(|s| matches!(s, model::PathStep::Key(_))) {
        return Err("an argument path must name at least one field".to_owned());
    }
    Ok(steps)
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

impl Session {
    /// Every source a policy is built from — the file itself and every module
    /// it imports, transitively — as `(path, sha256 hex)` sorted by path.
    /// Paths are relative to the policy file's directory (`/`-separated);
    /// stdlib modules are `std/NAME.gaitpol`.
    pub fn source_digests(&self, id: ModuleId) -> Vec<(String, String)> {
        let mut order = Vec::new();
        let mut seen = HashSet::new();
        self.postorder(id, &mut seen, &mut order);
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
