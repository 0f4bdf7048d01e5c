//! The reference evaluator: language.md §6 over the checked model, written to
//! be obviously correct rather than fast. Every rule is evaluated, every glob
//! is matched by direct recursion. The decision tables must agree with it on
//! every policy and intent (differential tests).

use crate::check::attrs::{Attr, Flag};
use crate::check::model::{Atom, Cond, Policy, Values};
use crate::syntax::ast::Quant;
use gait_run::decision::{
    default_decision, fail_closed, reduce_tier, Decision, Matched, SkillFacts,
};
use gait_run::intent::Intent;

/// Evaluates one normalized intent against a checked policy.
pub fn evaluate<'p>(policy: &'p Policy, intent: &Intent) -> Decision<'p> {
    let require: Vec<&str> = policy
        .fail_closed
        .require
        .iter()
        .map(String::as_str)
        .collect();
    if let Some(d) = fail_closed(intent, &policy.fail_closed.risk, &require) {
        return d;
    }
    let facts = skill_facts(policy, intent);
    let mut tier: Option<u32> = None;
    let mut matched: Vec<Matched> = Vec::new();
    let mut order: Vec<&crate::check::model::Rule> = policy.rules.iter().collect();
    order.sort_by_key(|r| r.priority);
    for rule in order {
        if tier.is_some_and(|p| p != rule.priority) {
            break;
        }
        let holds = rule
            .cond
            .as_ref()
            .is_none_or(|c| eval_cond(c, intent, facts));
        if holds {
            tier = Some(rule.priority);
            matched.push(Matched {
                name: &rule.name,
                verdict: rule.verdict,
                reasons: rule.reasons.iter().map(String::as_str).collect(),
                violations: rule.violations.iter().map(String::as_str).collect(),
                approvals: rule.approvals,
            });
        }
    }
    reduce_tier(matched).unwrap_or_else(|| default_decision(policy.default))
}

/// `skill.signed` and `skill.pinned` from the policy's trust and pin items.
pub fn skill_facts(policy: &Policy, intent: &Intent) -> SkillFacts {
    let Some(skill) = &intent.skill else {
        return SkillFacts::default();
    };
    let signed = skill.key_id.as_deref().is_some_and(|kid| {
        policy
            .trust
            .iter()
            .any(|t| t.publisher == skill.publisher && t.keys.iter().any(|k| k.id == kid))
    });
    let pinned = match (&skill.version, &skill.digest) {
        (Some(v), Some(d)) => policy
            .pins
            .iter()
            .any(|p| p.skill == skill.name && &p.version == v && p.digest_hex() == d),
        _ => false,
    };
    SkillFacts { signed, pinned }
}

pub fn eval_cond(c: &Cond, intent: &Intent, facts: SkillFacts) -> bool {
    match c {
        Cond::And(parts) => parts.iter().all(|p| eval_cond(p, intent, facts)),
        Cond::Or(parts) => parts.iter().any(|p| eval_cond(p, intent, facts)),
        Cond::Not(inner) => !eval_cond(inner, intent, facts),
        Cond::Atom(a) => eval_atom(a, intent, facts),
    }
}

fn eval_atom(a: &Atom, intent: &Intent, facts: SkillFacts) -> bool {
    match a {
        Atom::Flag(f) => match f {
            Flag::Destructive => intent.destructive(),
            Flag::Skill => intent.skill.is_some(),
            Flag::SkillSigned => facts.signed,
            Flag::SkillPinned => facts.pinned,
            Flag::SkillVerified => facts.verified(),
        },
        Atom::ArgsContain(markers) => intent
            .arg_strings
            .iter()
            .any(|s| markers.iter().any(|m| s.contains(m.as_str()))),
        Atom::Scalar {
            attr,
            negated,
            values,
        } => {
            let value: Option<String> = match attr {
                Attr::Tool => Some(intent.tool.to_string()),
                Attr::Risk => Some(intent.risk.as_str().to_owned()),
                Attr::Identity => intent.identity.as_deref().map(str::to_owned),
                Attr::Workspace => intent.workspace.as_deref().map(str::to_owned),
                Attr::SkillName => intent.skill.as_ref().map(|s| s.name.to_string()),
                Attr::SkillPublisher => intent.skill.as_ref().map(|s| s.publisher.to_string()),
                Attr::SkillSource => intent.skill.as_ref().map(|s| s.source.to_string()),
                _ => None,
            };
            match value {
                // Skill attributes are false without skill provenance; other
                // missing scalars are "not in" every set.
                None => {
                    *negated
                        && !matches!(
                            attr,
                            Attr::SkillName | Attr::SkillPublisher | Attr::SkillSource
                        )
                }
                Some(v) => member(values, &v) != *negated,
            }
        }
        Atom::Multi {
            attr,
            quant,
            negated,
            values,
        } => {
            let vals: Vec<&str> = match attr {
                Attr::Endpoint => intent.targets.iter().map(|t| t.class.as_str()).collect(),
                Attr::Path => intent.paths().collect(),
                Attr::Domain => intent.domains().collect(),
                Attr::HostClass => intent.host_classes().map(|h| h.as_str()).collect(),
                Attr::Target => intent.targets.iter().map(|t| t.kind.as_str()).collect(),
                Attr::Command => intent.commands().collect(),
                Attr::Provenance => intent.provenance.iter().map(|p| p.as_str()).collect(),
                _ => Vec::new(),
            };
            let test = |v: &&str| member(values, v) != *negated;
            match quant {
                Quant::Any => vals.iter().any(test),
                Quant::All => !vals.is_empty() && vals.iter().all(test),
            }
        }
    }
}

/// Whether one attribute value is in a value set.
fn member(values: &Values, v: &str) -> bool {
    use crate::check::attrs::SetType;
    match values {
        Values::Enum { kind, mask } => {
            (0..kind.cardinality()).any(|i| mask >> i & 1 == 1 && kind.value_name(i) == v)
        }
        Values::Patterns { ty, items } => items.iter().any(|p| match ty {
            SetType::Paths => path_glob_match(p, v),
            SetType::Domains => domain_match(p, v),
            SetType::Tools | SetType::Commands => crate::check::literals::star_match(p, v),
            SetType::Identities
            | SetType::Publishers
            | SetType::Sources
            | SetType::Skills
            | SetType::Markers
            | SetType::Approvers => p == v,
        }),
    }
}

/// Domain patterns: exact, or `*.suffix` strictly below the suffix.
pub fn domain_match(pattern: &str, host: &str) -> bool {
    match pattern.strip_prefix("*.") {
        Some(suffix) => {
            host.len() > suffix.len() + 1
                && host.ends_with(suffix)
                && host.as_bytes()[host.len() - suffix.len() - 1] == b'.'
        }
        None => pattern == host,
    }
}

/// Segments of a normalized path (the root has none).
fn path_segments(path: &str) -> Vec<&str> {
    if path == "/" || path.is_empty() {
        Vec::new()
    } else {
        path.trim_start_matches('/').split('/').collect()
    }
}

/// Path globs: `*`, `?`, classes within a segment, `**` for any number of
/// whole segments (zero included).
pub fn path_glob_match(pattern: &str, path: &str) -> bool {
    if pattern == "/" {
        return path == "/";
    }
    let pat: Vec<&str> = if let Some(rest) = pattern.strip_prefix('/') {
        rest.split('/').collect()
    } else {
        pattern.split('/').collect()
    };
    let segs = path_segments(path);
    match_segments(&pat, &segs)
}

fn match_segments(pat: &[&str], segs: &[&str]) -> bool {
    match pat.first() {
        None => segs.is_empty(),
        Some(&"**") => (0..=segs.len()).any(|k| match_segments(&pat[1..], &segs[k..])),
        Some(p) => segs
            .first()
            .is_some_and(|s| segment_match(p, s) && match_segments(&pat[1..], &segs[1..])),
    }
}

/// Glob match within one segment.
pub fn segment_match(pattern: &str, text: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let t: Vec<char> = text.chars().collect();
    seg_rec(&p, &t)
}

fn seg_rec(p: &[char], t: &[char]) -> bool {
    match p.first() {
        None => t.is_empty(),
        Some('*') => (0..=t.len()).any(|k| seg_rec(&p[1..], &t[k..])),
        Some('?') => !t.is_empty() && seg_rec(&p[1..], &t[1..]),
        Some('[') => {
            let Some((class_len, matches)) = class_match(&p[1..], t.first().copied()) else {
                // An unclosed `[` is literal (the checker rejects it anyway).
                return t.first() == Some(&'[') && seg_rec(&p[1..], &t[1..]);
            };
            matches && seg_rec(&p[1 + class_len..], &t[1..])
        }
        Some(c) => t.first() == Some(c) && seg_rec(&p[1..], &t[1..]),
    }
}

/// Parses a class body (after `[`); returns its length including `]` and
/// whether `c` is in it.
fn class_match(p: &[char], c: Option<char>) -> Option<(usize, bool)> {
    let mut i = 0;
    let negate = matches!(p.first(), Some('!') | Some('^'));
    if negate {
        i += 1;
    }
    let mut hit = false;
    let mut first = true;
    while i < p.len() {
        if p[i] == ']' && !first {
            let matched = c.is_some() && (hit != negate);
            return Some((i + 1, matched));
        }
        first = false;
        let lo = p[i];
        if i + 2 < p.len() && p[i + 1] == '-' && p[i + 2] != ']' {
            let hi = p[i + 2];
            if c.is_some_and(|c| lo <= c && c <= hi) {
                hit = true;
            }
            i += 3;
        } else {
            if c == Some(lo) {
                hit = true;
            }
            i += 1;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    type Matcher = fn(&str, &str) -> bool;

    /// `(matcher, pattern, value, whether it matches)`: path globs follow
    /// segments; a domain's apex is not its own subdomain.
    #[test]
    fn patterns_match_as_documented() {
        let (glob, domain): (Matcher, Matcher) = (path_glob_match, domain_match);
        let cases: &[(Matcher, &str, &str, bool)] = &[
            (glob, "/workspace/**", "/workspace", true),
            (glob, "/workspace/**", "/workspace/a/b", true),
            (glob, "/workspace/**", "/workspaceevil", false),
            (glob, "/workspace/**", "/workspaceevil/x", false),
            (glob, "/workspace/*", "/workspace/a", true),
            (glob, "/workspace/*", "/workspace/a/b", false),
            (glob, "/workspace/*", "/workspace", false),
            (glob, "**/.ssh/id_*", "/home/dev/.ssh/id_ed25519", true),
            (glob, "**/.ssh/id_*", "/.ssh/id_rsa", true),
            (glob, "/**", "/", true),
            (glob, "/", "/", true),
            (glob, "/", "/a", false),
            (glob, "/a/[a-c]?/x", "/a/bz/x", true),
            (glob, "/a/[!a-c]?/x", "/a/bz/x", false),
            (glob, "/a/[]x]", "/a/]", true),
            (glob, "/a/**/b", "/a/b", true),
            (glob, "/a/**/b", "/a/x/y/b", true),
            (glob, "/é/?", "/é/ü", true),
            (domain, "*.github.com", "api.github.com", true),
            (domain, "*.github.com", "a.b.github.com", true),
            (domain, "*.github.com", "github.com", false),
            (domain, "*.github.com", "evilgithub.com", false),
            (domain, "api.github.com", "api.github.com", true),
        ];
        for (matches, pattern, value, want) in cases {
            assert_eq!(matches(pattern, value), *want, "{pattern} ~ {value}");
        }
    }
}
