//! The abstract syntax tree, with byte spans on every node.
//!
//! Spans are location metadata, not part of a node's value: `Span`'s equality
//! is always true, so `==` on trees compares structure and text only. This is
//! what "fmt output parses to the same AST" means, and it is tested.

pub use crate::span::Span;
use gait_run::vocab::Verdict;

/// A value with a span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spanned<T> {
    pub node: T,
    pub span: Span,
}

impl<T> Spanned<T> {
    pub fn new(node: T, span: Span) -> Self {
        Spanned { node, span }
    }
}

pub type Name = Spanned<String>;
pub type Str = Spanned<String>;
/// A number kept as written; validated where an integer is expected.
pub type Num = Spanned<String>;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct File {
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    Header(Header),
    Default(DefaultItem),
    FailClosed(FailClosed),
    Import(Import),
    Let(LetItem),
    Map(MapItem),
    Trust(TrustItem),
    Approver(ApproverItem),
    ApprovalTtl(ApprovalTtl),
    Pin(PinItem),
    Rule(Rule),
    Test(Test),
    /// Input the parser skipped while recovering from a syntax error.
    Error(Span),
}

impl Item {
    pub fn span(&self) -> Span {
        match self {
            Item::Header(x) => x.span,
            Item::Default(x) => x.span,
            Item::FailClosed(x) => x.span,
            Item::Import(x) => x.span,
            Item::Let(x) => x.span,
            Item::Map(x) => x.span,
            Item::Trust(x) => x.span,
            Item::Approver(x) => x.span,
            Item::ApprovalTtl(x) => x.span,
            Item::Pin(x) => x.span,
            Item::Rule(x) => x.span,
            Item::Test(x) => x.span,
            Item::Error(s) => *s,
        }
    }

    /// What the item is called in messages.
    pub fn describe(&self) -> &'static str {
        match self {
            Item::Header(_) => "policy header",
            Item::Default(_) => "`default`",
            Item::FailClosed(_) => "`fail_closed` block",
            Item::Import(_) => "import",
            Item::Let(_) => "set",
            Item::Map(_) => "tool mapping",
            Item::Trust(_) => "trust item",
            Item::Approver(_) => "approver",
            Item::ApprovalTtl(_) => "`approval_ttl`",
            Item::Pin(_) => "pin item",
            Item::Rule(_) => "rule",
            Item::Test(_) => "test",
            Item::Error(_) => "invalid item",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub name: Str,
    pub version: Str,
    pub revision: Option<Num>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DefaultItem {
    pub verdict: Spanned<Verdict>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FailClosed {
    pub lines: Vec<FailClosedLine>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FailClosedLine {
    Risk(Vec<Name>, Span),
    Require(Vec<Name>, Span),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ImportTarget {
    /// `import std.NAME` (the full dotted name, e.g. `std.secrets`).
    Std(Name),
    /// `import "relative/file.gaitpol"`.
    File(Str),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    pub target: ImportTarget,
    pub alias: Option<Name>,
    pub span: Span,
}

impl Import {
    /// The name the module is known by in the importing file.
    pub fn alias_name(&self) -> Option<&str> {
        match (&self.alias, &self.target) {
            (Some(a), _) => Some(&a.node),
            (None, ImportTarget::Std(n)) => n.node.rsplit('.').next(),
            (None, ImportTarget::File(_)) => None,
        }
    }
    /// Span of the alias (or the module name when there is no alias).
    pub fn alias_span(&self) -> Span {
        match (&self.alias, &self.target) {
            (Some(a), _) => a.span,
            (None, ImportTarget::Std(n)) => n.span,
            (None, ImportTarget::File(s)) => s.span,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LetItem {
    pub name: Name,
    pub ty: Name,
    pub value: SetExpr,
    pub span: Span,
}

/// `a + b + ["c"]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetExpr {
    pub terms: Vec<SetTerm>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetTerm {
    List(Vec<Spanned<Elem>>, Span),
    Ref(Name),
}

impl SetTerm {
    pub fn span(&self) -> Span {
        match self {
            SetTerm::List(_, s) => *s,
            SetTerm::Ref(n) => n.span,
        }
    }
}

/// An element of a list literal, or the right-hand side of `==`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Elem {
    /// A string literal (paths, domains, tools, ...).
    Str(String),
    /// A bare word (enum values such as `fs.read`, `high`, `private`).
    Word(String),
    /// A number (only meaningful in JSON; rejected elsewhere).
    Number(String),
    /// `true` / `false`.
    Bool(bool),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapItem {
    pub tools: Vec<Str>,
    pub entries: Vec<MapEntry>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MapEntry {
    pub kind: Name,
    /// The argument path as written, starting with `args`.
    pub path: Name,
    pub class: Name,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TrustItem {
    pub publisher: Str,
    pub keys: Vec<Str>,
    pub span: Span,
}

/// `trust approver "NAME" key "ed25519:…" [, key "…"]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApproverItem {
    pub name: Str,
    pub keys: Vec<Str>,
    pub span: Span,
}

/// `approval_ttl DURATION` (the duration as written, e.g. `15m`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApprovalTtl {
    pub duration: Spanned<String>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinItem {
    pub skill: Str,
    pub version: Str,
    pub digest: Str,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rule {
    pub name: Name,
    pub priority: Option<Num>,
    pub clauses: Vec<RuleClause>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RuleClause {
    When(Cond, Span),
    Then(Spanned<Verdict>, Span),
    Reason(Vec<Str>, Span),
    Violation(Vec<Str>, Span),
    Explain(Str, Span),
    Approvals(Approvals, Span),
    /// A clause the parser could not read (already reported).
    Error(Span),
}

impl RuleClause {
    pub fn span(&self) -> Span {
        match self {
            RuleClause::When(_, s)
            | RuleClause::Then(_, s)
            | RuleClause::Reason(_, s)
            | RuleClause::Violation(_, s)
            | RuleClause::Explain(_, s)
            | RuleClause::Approvals(_, s)
            | RuleClause::Error(s) => *s,
        }
    }
    pub fn keyword(&self) -> &'static str {
        match self {
            RuleClause::When(..) => "when",
            RuleClause::Then(..) => "then",
            RuleClause::Reason(..) => "reason",
            RuleClause::Violation(..) => "violation",
            RuleClause::Explain(..) => "explain",
            RuleClause::Approvals(..) => "approvals",
            RuleClause::Error(_) => "",
        }
    }
}

/// `approvals N [from SET] [interactive]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approvals {
    pub count: Num,
    /// The approvers allowed to approve (`None`: any declared approver).
    pub from: Option<SetExpr>,
    /// Where `interactive` is written, when it is.
    pub interactive: Option<Span>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cond {
    Or(Box<Cond>, Box<Cond>),
    And(Box<Cond>, Box<Cond>),
    Not(Box<Cond>, Span),
    Atom(Atom),
}

impl Cond {
    pub fn span(&self) -> Span {
        match self {
            Cond::Or(a, b) | Cond::And(a, b) => a.span().to(b.span()),
            Cond::Not(_, s) => *s,
            Cond::Atom(a) => a.span,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Quant {
    Any,
    All,
}

impl Quant {
    pub fn as_str(self) -> &'static str {
        match self {
            Quant::Any => "any",
            Quant::All => "all",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum CmpOp {
    In,
    NotIn,
    Eq,
    Ne,
}

impl CmpOp {
    pub fn as_str(self) -> &'static str {
        match self {
            CmpOp::In => "in",
            CmpOp::NotIn => "not in",
            CmpOp::Eq => "==",
            CmpOp::Ne => "!=",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Atom {
    pub kind: AtomKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AtomKind {
    /// `destructive`, `skill`, `skill.signed`, ...
    Flag(Name),
    /// `[any|all] ATTR (in|not in) SET` or `[any|all] ATTR (==|!=) VALUE`.
    Test {
        quant: Option<Spanned<Quant>>,
        attr: Name,
        op: Spanned<CmpOp>,
        rhs: Rhs,
    },
    /// `args contain SET`.
    ArgsContain(SetExpr),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rhs {
    Set(SetExpr),
    Value(Spanned<Elem>),
}

impl Rhs {
    pub fn span(&self) -> Span {
        match self {
            Rhs::Set(s) => s.span,
            Rhs::Value(v) => v.span,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Test {
    pub name: Str,
    pub clauses: Vec<TestClause>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TestClause {
    Intent(IntentLit),
    /// `intent file "path"` (`word` is the word after `intent`, checked to be `file`).
    IntentFile {
        word: Name,
        path: Str,
        span: Span,
    },
    Expect(Expect),
    Error(Span),
}

impl TestClause {
    pub fn span(&self) -> Span {
        match self {
            TestClause::Intent(i) => i.span,
            TestClause::IntentFile { span, .. } => *span,
            TestClause::Expect(e) => e.span,
            TestClause::Error(s) => *s,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IntentLit {
    pub fields: Vec<IntentField>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IntentField {
    Tool(Str, Span),
    Args(Spanned<Json>, Span),
    Target {
        kind: Name,
        value: Str,
        op: Option<Spanned<Elem>>,
        span: Span,
    },
    Risk(Name, Span),
    Identity(Str, Span),
    Workspace(Str, Span),
    Provenance(Vec<Name>, Span),
    Skill(Vec<SkillField>, Span),
}

impl IntentField {
    pub fn span(&self) -> Span {
        match self {
            IntentField::Tool(_, s)
            | IntentField::Args(_, s)
            | IntentField::Target { span: s, .. }
            | IntentField::Risk(_, s)
            | IntentField::Identity(_, s)
            | IntentField::Workspace(_, s)
            | IntentField::Provenance(_, s)
            | IntentField::Skill(_, s) => *s,
        }
    }
    pub fn keyword(&self) -> &'static str {
        match self {
            IntentField::Tool(..) => "tool",
            IntentField::Args(..) => "args",
            IntentField::Target { .. } => "target",
            IntentField::Risk(..) => "risk",
            IntentField::Identity(..) => "identity",
            IntentField::Workspace(..) => "workspace",
            IntentField::Provenance(..) => "provenance",
            IntentField::Skill(..) => "skill",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkillField {
    pub key: Name,
    pub value: Str,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expect {
    pub verdict: Spanned<Verdict>,
    pub tails: Vec<ExpectTail>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpectTail {
    Reason(Vec<Str>, Span),
    Violation(Vec<Str>, Span),
    Rule(Name, Span),
}

/// A JSON value written in a test intent's `args`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Json {
    Null,
    Bool(bool),
    /// As written; validated as a JSON number by the checker.
    Number(String),
    Str(String),
    Array(Vec<Spanned<Json>>),
    Object(Vec<(Str, Spanned<Json>)>),
    /// A bare word other than `null` (reported by the checker).
    Word(String),
}
