//! The standard workload written for the peer engines: a Cedar policy set
//! and Rego in two forms. Only the common semantics are translated; anything
//! else is an error. One difference is known and kept out of the corpus
//! instead: Gait's `P/**` matches `P` itself, the peers' `P/*` does not
//! (tested in `tests/agreement.rs`; docs/performance.md, "Where the
//! semantics differ").
//!
//! Every rule `r{i}` of [`crate::gaitpol`] is
//! `tool == T and all path in ["P/**"] and all domain in [D...] then allow`,
//! default block. Its translations:
//! - Cedar: `permit` with `resource == Tool::"T"`, `context.path like "P/*"`
//!   and `[D...].containsAll(context.domains)`; Cedar's default deny is the
//!   default block.
//! - Rego, data-driven: the rules as data, one generic `allow` iterating them.
//! - Rego, generated: one `allow if { ... }` body per rule.

use crate::{Result, RuleSpec};

/// The literal prefix `P` of a `P/**` glob, when `P` has no glob
/// metacharacter and is a normalized absolute path: the only globs the
/// translations accept.
pub fn glob_prefix(glob: &str) -> Result<&str> {
    let prefix = glob
        .strip_suffix("/**")
        .ok_or_else(|| format!("glob {glob:?} is not of the form PREFIX/**"))?;
    let clean = prefix.starts_with('/')
        && !prefix.ends_with('/')
        && !prefix.contains("//")
        && prefix
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-' | '.'))
        && !prefix.split('/').any(|s| s == "." || s == "..");
    if clean {
        Ok(prefix)
    } else {
        Err(format!(
            "glob {glob:?}: the prefix must be a plain absolute path (letters, digits, / _ - .)"
        ))
    }
}

/// A name or domain as a string literal: plain ASCII only, so the Cedar,
/// Rego and JSON spellings are the same text.
fn literal(s: &str) -> Result<String> {
    if !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
    {
        Ok(format!("\"{s}\""))
    } else {
        Err(format!(
            "{s:?} is outside the common literal alphabet (letters, digits, _ - .)"
        ))
    }
}

fn list(items: &[String]) -> Result<String> {
    Ok(items
        .iter()
        .map(|d| literal(d))
        .collect::<Result<Vec<_>>>()?
        .join(", "))
}

fn glob_of(rule: &RuleSpec) -> String {
    format!("{}/**", rule.prefix)
}

/// The Cedar policy set: one `permit` per rule, principal `Agent`, action
/// `Action::"call"`, resource `Tool::"<tool>"`, context
/// `{path?: String, domains: Set<String>}`.
pub fn cedar(rules: &[RuleSpec]) -> Result<String> {
    let mut out = String::new();
    for (i, r) in rules.iter().enumerate() {
        let glob = glob_of(r);
        let prefix = glob_prefix(&glob)?;
        out.push_str(&format!(
            "@id(\"r{i}\")\npermit (principal, action == Action::\"call\", resource == Tool::{})\nwhen {{ context has path && context.path like \"{prefix}/*\" && !context.domains.isEmpty() && [{}].containsAll(context.domains) }};\n",
            literal(&r.tool)?,
            list(&r.domains)?,
        ));
    }
    Ok(out)
}

/// The package every Rego form defines; the decision is `data.gait.allow`.
pub const REGO_RULE: &str = "data.gait.allow";

/// The data-driven Rego: one generic rule iterating `data.bench_rules`.
pub const REGO_DATA_POLICY: &str = r#"package gait

default allow := false

allow if {
	some r in data.bench_rules
	r.tool == input.tool
	count(input.paths) > 0
	every p in input.paths {
		glob.match(r.glob, ["/"], p)
	}
	count(input.domains) > 0
	every d in input.domains {
		r.domains[d]
	}
}
"#;

/// The data document of [`REGO_DATA_POLICY`]: `{"bench_rules": [{"tool",
/// "glob", "domains": {DOMAIN: true}}]}` (domains as an object, so a lookup
/// is a key test).
pub fn rego_data(rules: &[RuleSpec]) -> Result<String> {
    let items = rules
        .iter()
        .map(|r| {
            let glob = glob_of(r);
            glob_prefix(&glob)?;
            literal(&r.tool)?;
            list(&r.domains)?;
            let domains: serde_json::Map<String, serde_json::Value> = r
                .domains
                .iter()
                .map(|d| (d.clone(), serde_json::Value::Bool(true)))
                .collect();
            Ok(serde_json::json!({"tool": r.tool, "glob": glob, "domains": domains}))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(serde_json::json!({ "bench_rules": items }).to_string())
}

/// The generated-rules Rego: one `allow if` body per rule.
pub fn rego_generated(rules: &[RuleSpec]) -> Result<String> {
    let mut out = String::from("package gait\n\ndefault allow := false\n");
    for r in rules {
        let glob = glob_of(r);
        glob_prefix(&glob)?;
        out.push_str(&format!(
            "\nallow if {{\n\tinput.tool == {}\n\tcount(input.paths) > 0\n\tevery p in input.paths {{\n\t\tglob.match(\"{glob}\", [\"/\"], p)\n\t}}\n\tcount(input.domains) > 0\n\tevery d in input.domains {{\n\t\td in {{{}}}\n\t}}\n}}\n",
            literal(&r.tool)?,
            list(&r.domains)?,
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_plain_prefix_globs_translate() {
        assert_eq!(glob_prefix("/ws/p1/**"), Ok("/ws/p1"));
        assert!(glob_prefix("/ws/*/x/**").is_err());
        assert!(glob_prefix("/ws/p1/*").is_err());
        assert!(glob_prefix("**/x/**").is_err());
        assert!(glob_prefix("/ws/../x/**").is_err());
    }

    #[test]
    fn cedar_rule_shape() {
        let rules = crate::rules(1, 2, 3);
        let text = cedar(&rules).unwrap_or_default();
        let expected = format!(
            "@id(\"r0\")\npermit (principal, action == Action::\"call\", resource == Tool::\"tool_0\")\nwhen {{ context has path && context.path like \"/ws/p0/*\" && !context.domains.isEmpty() && [\"{}\", \"{}\"].containsAll(context.domains) }};\n",
            rules[0].domains[0], rules[0].domains[1]
        );
        assert_eq!(text, expected);
    }

    #[test]
    fn rego_generated_has_one_body_per_rule() {
        let text = rego_generated(&crate::rules(7, 4, 3)).unwrap_or_default();
        assert_eq!(text.matches("\nallow if {").count(), 7);
        assert!(text.contains("glob.match(\"/ws/p6/**\", [\"/\"], p)"));
    }

    #[test]
    fn odd_literals_are_refused() {
        let mut rules = crate::rules(1, 1, 3);
        rules[0].tool = "a\"b".to_owned();
        assert!(cedar(&rules).is_err());
        assert!(rego_generated(&rules).is_err());
        assert!(rego_data(&rules).is_err());
    }
}
