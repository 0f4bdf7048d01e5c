//! The peer engines (`cedar-policy`, `regorus`) on the standard workload, and
//! the agreement check that runs before any timing.

use crate::corpus::{Case, Probe};
use crate::gait::Gait;
use crate::{translate, Result, RuleSpec};
use cedar_policy::{
    Authorizer, Context, Decision, Entities, EntityId, EntityTypeName, EntityUid, PolicySet,
    Request, RestrictedExpression,
};
use std::str::FromStr;

/// Cedar: a parsed policy set, evaluated by `Authorizer::is_authorized`
/// with an empty entity store.
pub struct Cedar {
    pub policies: PolicySet,
    authorizer: Authorizer,
    entities: Entities,
    principal: EntityUid,
    action: EntityUid,
    tool_type: EntityTypeName,
}

/// Parses Cedar policy text (the compile step of Cedar).
pub fn cedar_parse(text: &str) -> Result<PolicySet> {
    PolicySet::from_str(text).map_err(|e| format!("cedar policy set: {e}"))
}

fn uid(type_name: &str, id: &str) -> Result<EntityUid> {
    let t = EntityTypeName::from_str(type_name)
        .map_err(|e| format!("cedar type name {type_name}: {e}"))?;
    Ok(EntityUid::from_type_name_and_id(t, EntityId::new(id)))
}

impl Cedar {
    pub fn new(policies: PolicySet) -> Result<Cedar> {
        Ok(Cedar {
            policies,
            authorizer: Authorizer::new(),
            entities: Entities::empty(),
            principal: uid("Agent", "bench-agent")?,
            action: uid("Action", "call")?,
            tool_type: EntityTypeName::from_str("Tool")
                .map_err(|e| format!("cedar type name Tool: {e}"))?,
        })
    }

    pub fn from_rules(rules: &[RuleSpec]) -> Result<Cedar> {
        Cedar::new(cedar_parse(&translate::cedar(rules)?)?)
    }

    /// The Cedar request of a probe: resource `Tool::"<tool>"`, context
    /// `{path, domains}` (`path` absent when the probe has none).
    pub fn request(&self, probe: &Probe) -> Result<Request> {
        let mut pairs = Vec::with_capacity(2);
        match probe.paths.as_slice() {
            [] => {}
            [one] => pairs.push((
                "path".to_owned(),
                RestrictedExpression::new_string(one.clone()),
            )),
            more => {
                return Err(format!(
                "{} paths: the Cedar mapping takes at most one (Cedar has no `like` over a set)",
                more.len()
            ))
            }
        }
        pairs.push((
            "domains".to_owned(),
            RestrictedExpression::new_set(
                probe
                    .domains
                    .iter()
                    .map(|d| RestrictedExpression::new_string(d.clone())),
            ),
        ));
        let context = Context::from_pairs(pairs).map_err(|e| format!("cedar context: {e}"))?;
        let resource =
            EntityUid::from_type_name_and_id(self.tool_type.clone(), EntityId::new(&probe.tool));
        Request::new(
            self.principal.clone(),
            self.action.clone(),
            resource,
            context,
            None,
        )
        .map_err(|e| format!("cedar request: {e}"))
    }

    /// The decision on a prepared request.
    pub fn decide(&self, request: &Request) -> bool {
        self.authorizer
            .is_authorized(request, &self.policies, &self.entities)
            .decision()
            == Decision::Allow
    }

    /// From the flat probe JSON text: parse, build the request, decide.
    pub fn decide_json(&self, peer_json: &str) -> Result<bool> {
        let probe: Probe =
            serde_json::from_str(peer_json).map_err(|e| format!("probe JSON: {e}"))?;
        Ok(self.decide(&self.request(&probe)?))
    }
}

/// regorus: an engine with the policy (and data) added and prepared.
#[derive(Clone)]
pub struct Rego {
    pub engine: regorus::Engine,
    rule: String,
}

/// Which Rego form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegoForm {
    /// Rules as data, one generic rule iterating them.
    Data,
    /// One Rego rule per policy rule.
    Generated,
}

impl RegoForm {
    pub fn name(self) -> &'static str {
        match self {
            RegoForm::Data => "rego_data",
            RegoForm::Generated => "rego_generated",
        }
    }
}

/// The Rego policy text and data document (`None` for the generated form)
/// of `rules` in `form`.
pub fn rego_sources(rules: &[RuleSpec], form: RegoForm) -> Result<(String, Option<String>)> {
    Ok(match form {
        RegoForm::Data => (
            translate::REGO_DATA_POLICY.to_owned(),
            Some(translate::rego_data(rules)?),
        ),
        RegoForm::Generated => (translate::rego_generated(rules)?, None),
    })
}

/// regorus' compile step: a new engine, the policy parsed and added, the data
/// added. regorus analyses the modules lazily, at the first evaluation
/// ([`Rego::prepare`]).
pub fn rego_compile(policy: &str, data: Option<&str>) -> Result<regorus::Engine> {
    let mut engine = regorus::Engine::new();
    // The generated form of 10,000 rules is longer than regorus' default
    // policy length limits (1 MiB, 20,000 lines: a guard against hostile
    // input, not a semantic), so the limits on size and lines are lifted.
    engine.set_policy_length_config(regorus::PolicyLengthConfig {
        max_file_bytes: std::num::NonZeroUsize::MAX,
        max_lines: std::num::NonZeroUsize::MAX,
        ..regorus::PolicyLengthConfig::default()
    });
    engine
        .add_policy("gait.rego".to_owned(), policy.to_owned())
        .map_err(|e| format!("rego policy: {e:#}"))?;
    if let Some(data) = data {
        engine
            .add_data_json(data)
            .map_err(|e| format!("rego data: {e:#}"))?;
    }
    Ok(engine)
}

fn rego_value(json: &str) -> Result<regorus::Value> {
    regorus::Value::from_json_str(json).map_err(|e| format!("rego input: {e:#}"))
}

impl Rego {
    /// regorus' load step: analysis and scheduling of the modules (done by
    /// the first evaluation), here on an empty input.
    pub fn prepare(engine: regorus::Engine) -> Result<Rego> {
        let mut rego = Rego {
            engine,
            rule: translate::REGO_RULE.to_owned(),
        };
        rego.decide(&regorus::Value::new_object())?;
        Ok(rego)
    }

    pub fn from_rules(rules: &[RuleSpec], form: RegoForm) -> Result<Rego> {
        let (policy, data) = rego_sources(rules, form)?;
        Rego::prepare(rego_compile(&policy, data.as_deref())?)
    }

    /// The regorus input of flat probe JSON text.
    pub fn input(peer_json: &str) -> Result<regorus::Value> {
        rego_value(peer_json)
    }

    /// The decision on a prepared input.
    pub fn decide(&mut self, input: &regorus::Value) -> Result<bool> {
        self.engine.set_input(input.clone());
        self.verdict()
    }

    /// From the flat probe JSON text: set the input from JSON, decide.
    pub fn decide_json(&mut self, peer_json: &str) -> Result<bool> {
        self.engine
            .set_input_json(peer_json)
            .map_err(|e| format!("rego input: {e:#}"))?;
        self.verdict()
    }

    fn verdict(&mut self) -> Result<bool> {
        let v = self
            .engine
            .eval_rule(self.rule.clone())
            .map_err(|e| format!("rego eval: {e:#}"))?;
        v.as_bool()
            .copied()
            .map_err(|e| format!("rego {}: not a boolean: {e:#}", self.rule))
    }
}

/// Every engine on one workload.
pub struct Engines {
    pub gait: Gait,
    pub cedar: Cedar,
    pub rego_data: Rego,
    pub rego_generated: Rego,
}

impl Engines {
    pub fn build(n: usize, k: usize, seed: u64) -> Result<Engines> {
        let rules = crate::rules(n, k, seed);
        Ok(Engines {
            gait: Gait::from_source(&crate::gaitpol(n, k, seed))?,
            cedar: Cedar::from_rules(&rules)?,
            rego_data: Rego::from_rules(&rules, RegoForm::Data)?,
            rego_generated: Rego::from_rules(&rules, RegoForm::Generated)?,
        })
    }

    /// Each engine's decision on `probe`, from its JSON text (the full
    /// path, which includes building each engine's prepared input), in the
    /// order of [`ENGINES`].
    pub fn decisions(&mut self, probe: &Probe) -> Result<[bool; 5]> {
        let intent = probe.intent_json();
        let peer = probe.peer_json();
        let prepared = self.gait.prepare(&intent)?;
        Ok([
            self.gait.decide(&prepared),
            self.gait.decide_json(&intent),
            self.cedar.decide_json(&peer)?,
            self.rego_data.decide_json(&peer)?,
            self.rego_generated.decide_json(&peer)?,
        ])
    }
}

/// The engines (and Gait's two paths) compared by [`agreement`].
pub const ENGINES: [&str; 5] = [
    "gait (normalized intent)",
    "gait (intent JSON text)",
    "cedar",
    "rego_data",
    "rego_generated",
];

/// What [`agreement`] checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agreement {
    pub intents: usize,
    pub allowed: usize,
}

/// Runs every engine on every case; an error names the first case where an
/// engine's decision differs from Gait's or from the decision the case was
/// built to get. Counts of allowed and total on success.
pub fn agreement(engines: &mut Engines, cases: &[Case]) -> Result<Agreement> {
    let mut allowed = 0;
    for (i, case) in cases.iter().enumerate() {
        let got = engines.decisions(&case.probe)?;
        let expected = case.kind.allowed();
        if let Some(e) = got.iter().position(|&d| d != expected) {
            return Err(format!(
                "case {i} ({:?}, {}): {} says {}, expected {} (all engines: {:?} = {:?})",
                case.kind,
                case.probe.peer_json(),
                ENGINES[e],
                verdict(got[e]),
                verdict(expected),
                ENGINES,
                got.map(verdict),
            ));
        }
        allowed += usize::from(expected);
    }
    Ok(Agreement {
        intents: cases.len(),
        allowed,
    })
}

fn verdict(allowed: bool) -> &'static str {
    if allowed {
        "allow"
    } else {
        "block"
    }
}
