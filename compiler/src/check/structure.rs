//! The structure of a policy file: its header, its default verdict, its
//! `fail_closed` block and its `approval_ttl` — each at most once, the first
//! two exactly once.

use super::literals;
use super::model;
use super::Session;
use crate::diag::{codes, Diagnostic};
use crate::span::{FileId, Span};
use crate::suggest::best_match;
use crate::syntax::ast::{self, Item};
use gait_run::tables::{DEFAULT_APPROVAL_TTL_SECS, MAX_APPROVAL_TTL_SECS};
use gait_run::vocab::{Risk, Verdict, FAIL_CLOSED_FIELDS};
use std::collections::HashMap;

/// How an item written more than once is reported: the code, the message,
/// the labels of the repeat and of the first, and the help.
struct Repeated {
    code: &'static str,
    message: &'static str,
    second: &'static str,
    first: &'static str,
    help: &'static str,
}

const HEADER: Repeated = Repeated {
    code: codes::E0011,
    message: "duplicate policy header",
    second: "second header",
    first: "first header",
    help: "a policy has exactly one header; remove this one",
};

const DEFAULT: Repeated = Repeated {
    code: codes::E0013,
    message: "duplicate `default`",
    second: "second default",
    first: "first default",
    help: "a policy has exactly one default verdict; remove one",
};

const FAIL_CLOSED: Repeated = Repeated {
    code: codes::E0014,
    message: "duplicate `fail_closed` block",
    second: "second block",
    first: "first block",
    help: "merge the two blocks into one",
};

const APPROVAL_TTL: Repeated = Repeated {
    code: codes::E0084,
    message: "duplicate `approval_ttl`",
    second: "second `approval_ttl`",
    first: "first `approval_ttl`",
    help: "a policy has at most one approval TTL; remove one",
};

impl Session {
    /// Every item of `spans` after the first, as a repeat of it.
    fn repeated(&mut self, file: FileId, spans: &[Span], how: &Repeated) {
        let Some((first, rest)) = spans.split_first() else {
            return;
        };
        for span in rest {
            let d = Diagnostic::error(how.code, how.message)
                .with_primary(*span, how.second)
                .with_secondary(*first, how.first)
                .with_help(how.help);
            self.report(file, d);
        }
    }

    /// The header: exactly once, first (E0010, E0011); its name, version and
    /// revision when they are valid.
    pub(super) fn check_header(
        &mut self,
        file: FileId,
        items: &[Item],
    ) -> Option<(String, String, u32)> {
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
                let spans: Vec<Span> = headers.iter().map(|h| h.span).collect();
                self.repeated(file, &spans, &HEADER);
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
    pub(super) fn check_default(&mut self, file: FileId, items: &[Item]) -> Option<Verdict> {
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
                let spans: Vec<Span> = defaults.iter().map(|d| d.span).collect();
                self.repeated(file, &spans, &DEFAULT);
                Some(first.verdict.node)
            }
        }
    }

    pub(super) fn check_fail_closed(
        &mut self,
        file: FileId,
        items: &[Item],
    ) -> model::FailClosedSpec {
        let blocks: Vec<&ast::FailClosed> = items_of!(items, Item::FailClosed).collect();
        let mut spec = model::FailClosedSpec {
            explicit: !blocks.is_empty(),
            risk: vec![Risk::High, Risk::Critical],
            require: Vec::new(),
        };
        let spans: Vec<Span> = blocks.iter().map(|b| b.span).collect();
        self.repeated(file, &spans, &FAIL_CLOSED);
        let Some(block) = blocks.first() else {
            return spec;
        };
        let mut seen: HashMap<&'static str, Span> = HashMap::new();
        for line in &block.lines {
            match line {
                ast::FailClosedLine::Risk(names, span) => {
                    if !self.first(file, &mut seen, "risk", *span) {
                        continue;
                    }
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
                    if !self.first(file, &mut seen, "require", *span) {
                        continue;
                    }
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

    /// `approval_ttl`: at most once (E0084), more than zero and at most 24
    /// hours (E0083); the default when absent. `None` after reporting.
    pub(super) fn check_approval_ttl(&mut self, file: FileId, items: &[Item]) -> Option<u32> {
        let ttls: Vec<&ast::ApprovalTtl> = items_of!(items, Item::ApprovalTtl).collect();
        let spans: Vec<Span> = ttls.iter().map(|t| t.span).collect();
        self.repeated(file, &spans, &APPROVAL_TTL);
        let Some(ttl) = ttls.first() else {
            return Some(DEFAULT_APPROVAL_TTL_SECS);
        };
        let span = ttl.duration.span;
        let secs = literals::duration(&ttl.duration.node);
        let secs = self.literal(file, secs, codes::E0083, span, "invalid duration")?;
        match u32::try_from(secs) {
            Ok(s) if s > 0 && s <= MAX_APPROVAL_TTL_SECS => Some(s),
            _ => {
                let d = Diagnostic::error(
                    codes::E0083,
                    format!(
                        "`approval_ttl {}` is out of range: it must be more than 0 and at most 24h",
                        ttl.duration.node
                    ),
                )
                .with_primary(span, if secs == 0 { "zero" } else { "longer than 24h" })
                .with_help("an approval token is valid for at most 24 hours; the default is 15m");
                self.report(file, d);
                None
            }
        }
    }
}
