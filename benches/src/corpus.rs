//! The shared intent corpus: the same tool calls, written once for every
//! engine, with the decision each must give known by construction.
//!
//! Every probe stays inside the semantics the three languages share
//! (docs/performance.md, "Equivalent workloads"): at most one path, always
//! strictly below a rule's prefix or outside every prefix, never the prefix
//! itself; exact domains, no wildcards.

use crate::{Rng, RuleSpec, DOMAIN_POOL};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// What a probe is built to exercise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Matches the first rule.
    FirstHit,
    /// Matches the rule in the middle (`n / 2`).
    MiddleHit,
    /// Matches the last rule.
    LastHit,
    /// Matches a rule drawn at random.
    RandomHit,
    /// A tool no rule names.
    MissUnknownTool,
    /// A rule's tool with a path below another rule's prefix.
    MissOtherPath,
    /// A rule's tool with a path whose text starts with the rule's prefix but
    /// is not below it (`/ws/p1` vs `/ws/p10/x`).
    MissPrefixTrap,
    /// A rule's tool and path, one allowed domain and one that is not.
    MissDomainNotAllowed,
    /// A rule's tool and domains, no path target.
    MissNoPath,
    /// A rule's tool and path, no url target.
    MissNoDomain,
}

impl Kind {
    pub const ALL: [Kind; 10] = [
        Kind::FirstHit,
        Kind::MiddleHit,
        Kind::LastHit,
        Kind::RandomHit,
        Kind::MissUnknownTool,
        Kind::MissOtherPath,
        Kind::MissPrefixTrap,
        Kind::MissDomainNotAllowed,
        Kind::MissNoPath,
        Kind::MissNoDomain,
    ];

    /// Whether a probe of this kind must be allowed (every rule allows, the
    /// default blocks).
    pub fn allowed(self) -> bool {
        matches!(
            self,
            Kind::FirstHit | Kind::MiddleHit | Kind::LastHit | Kind::RandomHit
        )
    }
}

/// One tool call of the corpus, in the flat form the peer engines read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Probe {
    pub tool: String,
    /// Normalized absolute paths (zero or one).
    pub paths: Vec<String>,
    /// Lower-case host names.
    pub domains: Vec<String>,
}

impl Probe {
    /// The flat JSON the peer engines get (`{"tool", "paths", "domains"}`).
    pub fn peer_json(&self) -> String {
        json!({"tool": self.tool, "paths": self.paths, "domains": self.domains}).to_string()
    }

    /// The same call as a Gait `IntentRequest` (runtime.md §2): explicit path
    /// targets (operation `read`) and url targets, low risk.
    pub fn intent_json(&self) -> String {
        let targets: Vec<serde_json::Value> = self
            .paths
            .iter()
            .map(|p| json!({"kind": "path", "value": p, "operation": "read"}))
            .chain(
                self.domains
                    .iter()
                    .map(|d| json!({"kind": "url", "value": format!("https://{d}/v1/items")})),
            )
            .collect();
        json!({
            "schema_id": "gait.gate.intent_request",
            "schema_version": "1.0.0",
            "tool_name": self.tool,
            "args": {},
            "targets": targets,
            "arg_provenance": [{"arg_path": "$.path", "source": "user"}],
            "context": {"identity": "bench-agent", "workspace": "/ws", "risk_class": "low"},
        })
        .to_string()
    }
}

/// A probe with the kind it was built as.
#[derive(Debug, Clone)]
pub struct Case {
    pub kind: Kind,
    pub probe: Probe,
}

/// A path strictly below `prefix`, in one of a few shapes.
fn below(prefix: &str, rng: &mut Rng) -> String {
    let r = rng.below(1_000);
    match rng.below(3) {
        0 => format!("{prefix}/file{r}.txt"),
        1 => format!("{prefix}/d{r}/f{}.rs", rng.below(100)),
        _ => format!("{prefix}/a/b{r}/c/d.json"),
    }
}

/// One to three distinct domains of `rule`'s allowlist.
fn allowed_domains(rule: &RuleSpec, rng: &mut Rng) -> Vec<String> {
    let want = (1 + rng.below(3)).min(rule.domains.len());
    let mut out: Vec<String> = Vec::with_capacity(want);
    while out.len() < want {
        let d = &rule.domains[rng.below(rule.domains.len())];
        if !out.contains(d) {
            out.push(d.clone());
        }
    }
    out
}

/// A domain of the pool that `rule` does not allow (the pool is larger
/// than any allowlist), or one outside the pool.
fn foreign_domain(rule: &RuleSpec, rng: &mut Rng) -> String {
    for _ in 0..DOMAIN_POOL {
        let d = crate::domain(rng.below(DOMAIN_POOL));
        if !rule.domains.contains(&d) {
            return d;
        }
    }
    "evil.example.net".to_owned()
}

/// One case of `kind` against `rules` (non-empty).
pub fn case(rules: &[RuleSpec], kind: Kind, rng: &mut Rng) -> Option<Case> {
    let n = rules.len();
    let index = match kind {
        Kind::FirstHit => 0,
        Kind::MiddleHit => n / 2,
        Kind::LastHit => n.checked_sub(1)?,
        _ => rng.below(n),
    };
    let rule = rules.get(index)?;
    let probe = match kind {
        Kind::FirstHit | Kind::MiddleHit | Kind::LastHit | Kind::RandomHit => Probe {
            tool: rule.tool.clone(),
            paths: vec![below(&rule.prefix, rng)],
            domains: allowed_domains(rule, rng),
        },
        Kind::MissUnknownTool => Probe {
            tool: format!("shell_{}", rng.below(n)),
            paths: vec![below(&rule.prefix, rng)],
            domains: allowed_domains(rule, rng),
        },
        Kind::MissOtherPath => {
            let other = if n > 1 {
                let j = (index + 1 + rng.below(n - 1)) % n;
                below(&rules[j].prefix, rng)
            } else {
                format!("/etc/passwd{}", rng.below(10))
            };
            Probe {
                tool: rule.tool.clone(),
                paths: vec![other],
                domains: allowed_domains(rule, rng),
            }
        }
        Kind::MissPrefixTrap => Probe {
            tool: rule.tool.clone(),
            paths: vec![format!("{}{}/x.txt", rule.prefix, rng.below(10))],
            domains: allowed_domains(rule, rng),
        },
        Kind::MissDomainNotAllowed => {
            let mut domains = allowed_domains(rule, rng);
            domains.truncate(1);
            domains.push(foreign_domain(rule, rng));
            Probe {
                tool: rule.tool.clone(),
                paths: vec![below(&rule.prefix, rng)],
                domains,
            }
        }
        Kind::MissNoPath => Probe {
            tool: rule.tool.clone(),
            paths: Vec::new(),
            domains: allowed_domains(rule, rng),
        },
        Kind::MissNoDomain => Probe {
            tool: rule.tool.clone(),
            paths: vec![below(&rule.prefix, rng)],
            domains: Vec::new(),
        },
    };
    Some(Case { kind, probe })
}

/// `count` cases against `rules`, every kind in turn (so each kind is a
/// tenth of the corpus), drawn from `seed`. Empty when `rules` is.
pub fn corpus(rules: &[RuleSpec], count: usize, seed: u64) -> Vec<Case> {
    let mut rng = Rng::new(seed);
    (0..count)
        .filter_map(|i| case(rules, Kind::ALL[i % Kind::ALL.len()], &mut rng))
        .collect()
}

/// The four probes every decision benchmark cycles through: first-rule hit,
/// middle hit, last hit, and a miss whose tool and path match but one domain
/// is not in the allowlist (the miss that takes every engine furthest).
pub fn timing_mix(rules: &[RuleSpec], seed: u64) -> Vec<Case> {
    let mut rng = Rng::new(seed);
    [
        Kind::FirstHit,
        Kind::MiddleHit,
        Kind::LastHit,
        Kind::MissDomainNotAllowed,
    ]
    .into_iter()
    .filter_map(|k| case(rules, k, &mut rng))
    .collect()
}

/// Size of the agreement corpus per (N, k).
pub const CORPUS_SIZE: usize = 10_000;
