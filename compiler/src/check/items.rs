//! The module-level items: tool mappings (`map tool`), trusted publishers'
//! keys (`trust publisher`; approvers' keys are read the same way, in
//! `approvers.rs`) and skill pins (`pin`). A module's checked items join every
//! policy that imports it.

use super::attrs::EnumKind;
use super::literals;
use super::model::{self, Origin};
use super::{ModuleId, Session};
use crate::diag::{codes, Diagnostic};
use crate::span::FileId;
use crate::suggest::best_match;
use crate::syntax::ast;
use gait_run::vocab::TargetKind;

impl Session {
    pub(super) fn check_mapping(&mut self, id: ModuleId, m: &ast::MapItem) {
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
                // The runtime's rule for a target's class (kind only takes
                // path, url, host and command here), without the UI
                // classes a mapping never derives.
                let fits = kind.takes(class) && class.family() != Some("ui");
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

    pub(super) fn check_trust(&mut self, id: ModuleId, t: &ast::TrustItem) {
        let file = self.file(id);
        let publisher = literals::non_empty(&t.publisher.node, "publisher name");
        let publisher = self.literal(
            file,
            publisher,
            codes::E0047,
            t.publisher.span,
            "invalid publisher",
        );
        let keys = self.trust_keys(file, &t.keys);
        if let (Some(_), Some(keys)) = (publisher, keys) {
            self.scopes[id].trust.push(model::Trust {
                publisher: t.publisher.node.to_lowercase(),
                keys,
            });
        }
    }

    /// The keys of a `trust publisher` or `trust approver` item, decoded;
    /// `None` when one is invalid (each reported, E0045).
    pub(super) fn trust_keys(
        &mut self,
        file: FileId,
        written: &[ast::Str],
    ) -> Option<Vec<model::TrustKey>> {
        let mut keys = Vec::new();
        let mut ok = true;
        for k in written {
            let key = model::TrustKey::parse(&k.node);
            match self.literal(file, key, codes::E0045, k.span, "invalid key") {
                Some(key) => keys.push(key),
                None => ok = false,
            }
        }
        ok.then_some(keys)
    }

    pub(super) fn check_pin(&mut self, id: ModuleId, p: &ast::PinItem) {
        let file = self.file(id);
        let fields = [
            (
                literals::non_empty(&p.skill.node, "skill name"),
                codes::E0047,
                p.skill.span,
                "invalid skill name",
            ),
            (
                literals::non_empty(&p.version.node, "version"),
                codes::E0046,
                p.version.span,
                "invalid version",
            ),
            (
                literals::digest(&p.digest.node),
                codes::E0044,
                p.digest.span,
                "invalid digest",
            ),
        ];
        let mut ok = true;
        for (checked, code, span, label) in fields {
            ok &= self.literal(file, checked, code, span, label).is_some();
        }
        if ok {
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
        } else if rest.starts_with("[\"") {
            // The key's escapes are a string literal's (the lexer reported
            // the bad ones).
            let Some(&(at, body)) = crate::syntax::literal::arg_path_keys(rest).first() else {
                return Err("unterminated key in argument path".to_owned());
            };
            rest = rest
                .get(at + body.len()..)
                .and_then(|r| r.strip_prefix('"'))
                .ok_or_else(|| "unterminated key in argument path".to_owned())?
                .strip_prefix(']')
                .ok_or_else(|| "expected `]` after the key".to_owned())?;
            steps.push(model::PathStep::Key(crate::syntax::literal::unescape(body)));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argument_path_keys_are_read_as_string_literals() {
        let key = |k: &str| model::PathStep::Key(k.to_owned());
        assert_eq!(
            parse_arg_path(r#"args["pa\u{200b}th"].x["q\"\\"][*]"#).unwrap(),
            vec![
                key("pa\u{200b}th"),
                key("x"),
                key("q\"\\"),
                model::PathStep::Each
            ]
        );
        assert_eq!(
            parse_arg_path(r#"args["a\tb\r\/"]"#).unwrap(),
            vec![key("a\tb\r/")]
        );
        assert!(parse_arg_path(r#"args["open"#).is_err());
    }
}
