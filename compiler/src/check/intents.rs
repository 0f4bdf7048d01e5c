//! Test blocks: each names an intent (inline, written as Gait
//! `IntentRequest` JSON, or a file beside the policy) and what the policy
//! must decide for it (verdict, reasons, violations, deciding rule).

use super::attrs::EnumKind;
use super::literals;
use super::model::{self, Origin};
use super::sets::elem_text;
use super::{ModuleId, Session};
use crate::diag::{codes, Diagnostic};
use crate::span::{FileId, Span};
use crate::suggest::best_match;
use crate::syntax::ast::{self, Spanned};
use gait_run::vocab::{ProvenanceSource, Risk, TargetKind};
use std::collections::HashMap;

impl Session {
    pub(super) fn check_test(
        &mut self,
        id: ModuleId,
        t: &ast::Test,
        rule_names: &[String],
    ) -> Option<model::TestCase> {
        let file = self.file(id);
        let mut ok = true;
        let mut intent: Option<model::TestIntent> = None;
        let mut expect: Option<model::Expectation> = None;
        let mut seen: HashMap<&'static str, Span> = HashMap::new();
        for clause in &t.clauses {
            match clause {
                ast::TestClause::Intent(_) | ast::TestClause::IntentFile { .. } => {
                    if !self.first(file, &mut seen, "intent", clause.span()) {
                        ok = false;
                        continue;
                    }
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
                    if !self.first(file, &mut seen, "expect", e.span) {
                        ok = false;
                        continue;
                    }
                    expect = self.check_expect(file, e, rule_names);
                    ok &= expect.is_some();
                }
                ast::TestClause::Error(_) => ok = false,
            }
        }
        if !seen.contains_key("intent") {
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
        if !seen.contains_key("expect") {
            let d = Diagnostic::error(
                codes::E0070,
                format!("test {:?} has no `expect`", t.name.node),
            )
            .with_primary(t.name.span, "nothing to check")
            .with_help("add `expect VERDICT [reason \"CODE\"] [rule NAME]`");
            self.report(file, d);
            ok = false;
        }
        let (true, Some(intent), Some(expect)) = (ok, intent, expect) else {
            return None;
        };
        Some(model::TestCase {
            name: t.name.node.clone(),
            intent,
            expect,
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
            if kw != "target" && !self.first(file, &mut seen, kw, field.span()) {
                ok = false;
                continue;
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
