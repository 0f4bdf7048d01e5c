//! Checking: from the module graph ([`crate::resolve`]) to a checked
//! [`model::Policy`] plus every diagnostic.
//!
//! A [`Session`] loads files through its [`Graph`], checks each module's own
//! items once (names, sets, mappings, trust, pins), and then assembles and
//! lints each policy that was asked for (header, default, fail_closed, rules
//! and their conditions, test blocks; [`lints`]). The checker never stops at
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

pub mod attrs;
pub mod lints;
pub mod literals;
pub mod model;
mod report;

pub use crate::resolve::{relative_path, FileKind, ModuleId};

use crate::diag::{codes, sort_and_dedup, Diagnostic};
use crate::resolve::Graph;
use crate::span::{FileId, Span};
use crate::suggest::best_match;
use crate::syntax::ast::{self, Elem, Item, Quant, Spanned};
use attrs::{AttrType, EnumKind, SetType};
use gait_run::vocab::{ProvenanceSource, Risk, TargetKind, Verdict, FAIL_CLOSED_FIELDS};
use literals::LitError;
use model::{Origin, Values};
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
            pins,
            rules,
            tests,
        };
        let lint_diags = lints::policy::lint_policy(&policy, file);
        self.diagnostics.extend(lint_diags);
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

    /// Whether a module, or anything it imports, has mappings, trust or pins.
    fn provides_tables(&self, id: ModuleId) -> bool {
        let (m, t, p) = self.collect_tables(id);
        !(m.is_empty() && t.is_empty() && p.is_empty())
    }
}

/// One evaluated list element: a canonical literal or enum bits.
enum ElemValue {
    Item(String),
    Mask(u32),
}

impl Session {
    fn let_item(&self, id: ModuleId, name: &str) -> Option<ast::LetItem> {
        self.graph.modules[id]
            .ast
            .items
            .iter()
            .find_map(|i| match i {
                Item::Let(l) if l.name.node == name => Some(l.clone()),
                _ => None,
            })
    }

    /// Resolves a local set: its type and canonical items (memoized, cycle-safe).
    fn resolve_local_set(&mut self, id: ModuleId, name: &str) -> Option<(SetType, Vec<String>)> {
        let def = self.scopes[id].sets.get(name)?.clone();
        match def.state {
            SetState::Done => return def.ty.zip(def.items),
            SetState::InProgress => {
                let file = self.file(id);
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
        if let Some(s) = self.scopes[id].sets.get_mut(name) {
            s.state = SetState::InProgress;
        }
        let item = self.let_item(id, name)?;
        let file = self.file(id);
        if item.value.terms.is_empty() {
            // A set whose syntax error was already reported: known but unusable.
            if let Some(s) = self.scopes[id].sets.get_mut(name) {
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
        if let Some(s) = self.scopes[id].sets.get_mut(name) {
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
        let file = self.file(id);
        if let Some((alias, member)) = name.node.split_once('.') {
            let Some((target, _)) = self.scopes[id].aliases.get(alias).cloned() else {
                return self.unknown_name(id, name);
            };
            self.scopes[id].used_aliases.insert(alias.to_owned());
            let target = target?; // import failed: already reported
            if !self.scopes[target].sets.contains_key(member) {
                let candidates: Vec<String> = self.scopes[target].sets.keys().cloned().collect();
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
        if self.scopes[id].sets.contains_key(&name.node) {
            self.scopes[id].used_sets.insert(name.node.clone());
            return self.resolve_local_set(id, &name.node);
        }
        if self.scopes[id].aliases.contains_key(&name.node) {
            self.scopes[id].used_aliases.insert(name.node.clone());
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
        let file = self.file(id);
        let mut candidates: Vec<String> = self.scopes[id].sets.keys().cloned().collect();
        for (alias, (target, _)) in &self.scopes[id].aliases {
            if let Some(t) = target {
                candidates.extend(self.scopes[*t].sets.keys().map(|s| format!("{alias}.{s}")));
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
        let file = self.file(id);
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
                                    let d = lints::duplicates::value(&v, elem.span, *first);
                                    self.report(file, d);
                                } else {
                                    seen_literals.insert(v.clone(), elem.span);
                                }
                                items.push(v);
                            }
                            Some(ElemValue::Mask(m)) => {
                                if mask & m == m {
                                    self.report(file, lints::duplicates::enum_value(elem.span));
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
        let file = self.file(id);
        match (expected, &elem.node) {
            (AttrType::Set(ty), Elem::Str(s)) => {
                let label = format!("invalid {} literal", ty_singular(ty));
                let v = self.literal(
                    file,
                    validate_literal(ty, s),
                    literal_code(ty),
                    elem.span,
                    &label,
                )?;
                if matches!(ty, SetType::Paths | SetType::Domains) {
                    for d in lints::unicode::check(elem.span, s) {
                        self.report(file, d);
                    }
                }
                Some(ElemValue::Item(v))
            }
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
                d = if matches!(other, Elem::Word(w) if self.scopes[id].sets.contains_key(w) || w.contains('.'))
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

impl Session {
    fn check_mapping(&mut self, id: ModuleId, m: &ast::MapItem) {
        let file = self.file(id);
        let mut tools = Vec::new();
        let mut ok = true;
        for t in &m.tools {
            let glob = literals::tool_glob(&t.node);
            match self.literal(file, glob, codes::E0042, t.span, "invalid tool name") {
                Some(v) => tools.push(v),
                None => ok = false,
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
            self.scopes[id].mappings.push(model::ToolMapping {
                tools,
                entries,
                origin: Origin { file, span: m.span },
            });
        }
    }

    fn check_trust(&mut self, id: ModuleId, t: &ast::TrustItem) {
        let file = self.file(id);
        let publisher = literals::non_empty(&t.publisher.node, "publisher name");
        let mut ok = self
            .literal(
                file,
                publisher,
                codes::E0047,
                t.publisher.span,
                "invalid publisher",
            )
            .is_some();
        let mut keys = Vec::new();
        for k in &t.keys {
            match self.literal(
                file,
                literals::key(&k.node),
                codes::E0045,
                k.span,
                "invalid key",
            ) {
                Some(_) => keys.push(k.node.clone()),
                None => ok = false,
            }
        }
        if ok {
            self.scopes[id].trust.push(model::Trust {
                publisher: t.publisher.node.to_lowercase(),
                keys,
            });
        }
    }

    fn check_pin(&mut self, id: ModuleId, p: &ast::PinItem) {
        let file = self.file(id);
        let skill = literals::non_empty(&p.skill.node, "skill name");
        let skill = self.literal(
            file,
            skill,
            codes::E0047,
            p.skill.span,
            "invalid skill name",
        );
        let version = literals::non_empty(&p.version.node, "version");
        let version = self.literal(
            file,
            version,
            codes::E0046,
            p.version.span,
            "invalid version",
        );
        let digest = literals::digest(&p.digest.node);
        let digest = self.literal(file, digest, codes::E0044, p.digest.span, "invalid digest");
        if skill.is_some() && version.is_some() && digest.is_some() {
            self.scopes[id].pins.push(model::Pin {
                skill: p.skill.node.to_lowercase(),
                version: p.version.node.clone(),
                digest: p.digest.node.clone(),
            });
        }
    }
}

/// Parses `args.a["b"][*]` into steps.
fn parse_arg_path(text: &str) -> Result<Vec<model::PathStep>, String> {
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

impl Session {
    /// The header: exactly once, first (E0010, E0011); its name, version and
    /// revision when they are valid.
    fn check_header(&mut self, file: FileId, items: &[Item]) -> Option<(String, String, u32)> {
        let headers: Vec<&ast::Header> = items_of!(items, Item::Header).collect();
        let first_item = items.iter().find(|i| !matches!(i, Item::Error(_)));
        match headers.first() {
            None => {
                let span = first_item.map(|i| i.span().head()).unwrap_or_default();
                let d = Diagnostic::error(codes::E0010, "this policy has no `policy` header")
                    .with_primary(span, "expected `policy \"NAME\" version \"X.Y.Z\"` before this")
                    .with_help("a policy file starts with its header, e.g. `policy \"my-agent\" version \"1.0.0\"`; a file without rules, default or tests is a module instead")
                    .with_fix(span, "policy \"NAME\" version \"1.0.0\"\n\n", "insert a header");
                self.report(file, d);
                None
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
                self.header_values(file, h)
            }
        }
    }

    /// The header's name, version and revision, when each is valid.
    fn header_values(&mut self, file: FileId, h: &ast::Header) -> Option<(String, String, u32)> {
        let mut ok = true;
        if h.name.node.trim().is_empty() {
            let d = Diagnostic::error(codes::E0047, "empty policy name")
                .with_primary(h.name.span, "empty")
                .with_help("name the policy, e.g. \"payments-agent\"");
            self.report(file, d);
            ok = false;
        }
        let version = literals::semver(&h.version.node);
        let label = "not a semantic version";
        ok &= self
            .literal(file, version, codes::E0046, h.version.span, label)
            .is_some();
        let revision = match &h.revision {
            Some(n) => self.integer(file, n, "revision"),
            None => Some(0),
        };
        if !ok {
            return None;
        }
        Some((h.name.node.clone(), h.version.node.clone(), revision?))
    }

    /// The default verdict: exactly once (E0012, E0013).
    fn check_default(&mut self, file: FileId, items: &[Item]) -> Option<Verdict> {
        let headers: Vec<&ast::Header> = items_of!(items, Item::Header).collect();
        let first_item = items.iter().find(|i| !matches!(i, Item::Error(_)));
        let defaults: Vec<&ast::DefaultItem> = items_of!(items, Item::Default).collect();
        match defaults.first() {
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
        }
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
}

/// Marker pattern for clauses that may appear only once in a rule.
macro_rules! RuleClauseOnce {
    () => {
        ast::RuleClause::When(..)
            | ast::RuleClause::Then(..)
            | ast::RuleClause::Explain(..)
            | ast::RuleClause::Approvals(..)
    };
}

impl Session {
    fn check_rule(&mut self, id: ModuleId, r: &ast::Rule) -> Option<model::Rule> {
        let file = self.file(id);
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
                        let code = literals::code(&s.node);
                        match self.literal(file, code, codes::E0047, s.span, "invalid code") {
                            Some(v) => {
                                let target = if kw == "reason" {
                                    &mut reasons
                                } else {
                                    &mut violations
                                };
                                if !target.contains(&v) {
                                    target.push(v);
                                }
                            }
                            None => ok = false,
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
        let file = self.file(id);
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
                    if let Some(d) = lints::quantifier::check(q, info.name, effective, v) {
                        self.report(file, d);
                    }
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
}

impl Session {
    fn check_test(
        &mut self,
        id: ModuleId,
        t: &ast::Test,
        rule_names: &[String],
    ) -> Option<model::TestCase> {
        let file = self.file(id);
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
        let file = self.file(id);
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
        let full = self.graph.dir(id).join(&path.node);
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
                            let digest = literals::digest(&value);
                            let span = f.value.span;
                            match self.literal(file, digest, codes::E0044, span, "invalid digest") {
                                Some(v) => value = v.trim_start_matches("sha256:").to_owned(),
                                None => ok = false,
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
                        let code = literals::code(&s.node);
                        match self.literal(file, code, codes::E0047, s.span, "invalid code") {
                            Some(v) => (if is_reason {
                                &mut reasons
                            } else {
                                &mut violations
                            })
                            .push(v),
                            None => ok = false,
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
}
