// The plugin's configuration (`plugins.entries["gait-gate"].config`, given
// as `api.pluginConfig`), checked completely: any problem is reported, and
// the plugin then blocks every tool call with that report as the reason.
import path from "node:path";

/** `workspace: "agent"`: each call's workspace is the calling agent's, as
 * OpenClaw resolves it from its configuration (`agents.list[].workspace`,
 * `agents.defaults.workspace`, its default folder), instead of one folder
 * for every agent of the gateway. */
export const AGENT_WORKSPACE = "agent";
/** The shortest answer key `gait-run serve --answer-key-env` accepts. */
export const MIN_ANSWER_KEY_BYTES = 32;

// Answer keys read from the environment, by variable. The variable is
// removed once read: the processes the gateway starts (an agent's exec
// tool among them) do not inherit the secret. OpenClaw may register the
// plugin more than once per process: later reads come from here.
const answerKeys = new Map();

function answerKeyFrom(variable) {
  if (!answerKeys.has(variable)) {
    const key = process.env[variable];
    if (key) {
      answerKeys.set(variable, key);
      delete process.env[variable];
    }
  }
  return answerKeys.get(variable);
}

export class ConfigError extends Error {
  constructor(problems) {
    super(problems.join("; "));
    this.problems = problems;
  }
}

const KNOWN = new Set([
  "bundle",
  "trust",
  "pin",
  "minRevision",
  "sidecarUrl",
  "sidecarTokenEnv",
  "sidecarAnswerKeyEnv",
  "transport",
  "gaitRun",
  "nativeAddon",
  "identity",
  "sessionId",
  "workspace",
  "riskClass",
  "skills",
  "traceDir",
  "timeoutMs",
  "decisionTimeoutMs",
]);

const SKILL_FIELDS = new Set([
  "skill_name",
  "skill_version",
  "source",
  "publisher",
  "digest",
  "signature_key_id",
]);

function isObject(v) {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

/** Returns the normalized configuration or throws a ConfigError. */
export function parseConfig(raw) {
  const problems = [];
  if (raw === undefined || raw === null) {
    throw new ConfigError([
      'no configuration: set plugins.entries["gait-gate"].config with `bundle` and `trust`, or `sidecarUrl`',
    ]);
  }
  if (!isObject(raw)) throw new ConfigError(["the configuration must be an object"]);
  for (const k of Object.keys(raw)) {
    if (!KNOWN.has(k)) problems.push(`unknown setting \`${k}\``);
  }
  const str = (k, { required = false } = {}) => {
    const v = raw[k];
    if (v === undefined) {
      if (required) problems.push(`\`${k}\` is required`);
      return undefined;
    }
    if (typeof v !== "string" || v.trim() === "") {
      problems.push(`\`${k}\` must be a non-empty string`);
      return undefined;
    }
    return v;
  };
  const int = (k, min, max = Number.MAX_SAFE_INTEGER) => {
    const v = raw[k];
    if (v === undefined) return undefined;
    if (!Number.isInteger(v) || v < min || v > max) {
      problems.push(max === Number.MAX_SAFE_INTEGER ? `\`${k}\` must be an integer >= ${min}` : `\`${k}\` must be an integer from ${min} to ${max}`);
      return undefined;
    }
    return v;
  };
  const file = (k) => {
    const v = str(k);
    return v === undefined ? undefined : path.resolve(v);
  };

  const cfg = {
    bundle: file("bundle"),
    trust: [],
    pin: str("pin"),
    minRevision: int("minRevision", 0),
    sidecarUrl: str("sidecarUrl"),
    sidecarTokenEnv: str("sidecarTokenEnv"),
    sidecarAnswerKeyEnv: str("sidecarAnswerKeyEnv"),
    transport: str("transport") ?? "auto",
    gaitRun: str("gaitRun") ?? "gait-run",
    gaitRunExplicit: raw.gaitRun !== undefined,
    nativeAddon: file("nativeAddon"),
    identity: str("identity"),
    sessionId: str("sessionId"),
    workspace: str("workspace"),
    riskClass: str("riskClass"),
    skills: [],
    traceDir: file("traceDir"),
    timeoutMs: int("timeoutMs", 1) ?? 2000,
    // As `gait-run --decision-timeout-ms`: 1 to 60000.
    decisionTimeoutMs: int("decisionTimeoutMs", 1, 60000),
  };

  if (raw.trust !== undefined) {
    const list = typeof raw.trust === "string" ? [raw.trust] : raw.trust;
    if (!Array.isArray(list) || list.length === 0 || list.some((t) => typeof t !== "string" || t.trim() === "")) {
      problems.push("`trust` must be a key file or a non-empty list of key files");
    } else {
      cfg.trust = list.map((t) => path.resolve(t));
    }
  }
  if (!["auto", "native", "sidecar"].includes(cfg.transport)) {
    problems.push("`transport` must be auto, native or sidecar");
  }
  if (cfg.bundle && cfg.sidecarUrl) {
    problems.push("give either `bundle` (with `trust`) or `sidecarUrl`, not both");
  } else if (!cfg.bundle && !cfg.sidecarUrl) {
    problems.push("no gate: give `bundle` with `trust`, or `sidecarUrl`");
  }
  if (cfg.bundle && cfg.trust.length === 0 && raw.trust === undefined) {
    problems.push("`bundle` needs `trust` (the public key file(s) of its signers): an unverified bundle is refused");
  }
  if (cfg.sidecarUrl) {
    let u;
    try {
      u = new URL(cfg.sidecarUrl);
    } catch {
      problems.push("`sidecarUrl` is not a URL");
    }
    if (u && u.protocol !== "http:" && u.protocol !== "https:") {
      problems.push("`sidecarUrl` must be an http or https URL");
    }
    for (const k of ["trust", "minRevision", "nativeAddon"]) {
      if (raw[k] !== undefined) problems.push(`\`${k}\` applies to \`bundle\`, not to \`sidecarUrl\` (the sidecar verifies its own bundle)`);
    }
    if (raw.transport !== undefined && raw.transport !== "sidecar") {
      problems.push("`sidecarUrl` is a sidecar: `transport` must be sidecar or absent");
    }
  }
  if (cfg.pin !== undefined && !/^sha256:[0-9a-f]{64}$/.test(cfg.pin)) {
    problems.push("`pin` must be sha256: followed by 64 lower-case hex digits");
  }
  if (cfg.sidecarTokenEnv) {
    const token = process.env[cfg.sidecarTokenEnv];
    if (!token) problems.push(`\`sidecarTokenEnv\`: the environment variable ${cfg.sidecarTokenEnv} is unset or empty`);
    else cfg.sidecarToken = token;
  }
  if (cfg.sidecarAnswerKeyEnv) {
    const key = answerKeyFrom(cfg.sidecarAnswerKeyEnv);
    if (!key || Buffer.byteLength(key, "utf8") < MIN_ANSWER_KEY_BYTES) {
      problems.push(
        `\`sidecarAnswerKeyEnv\`: the environment variable ${cfg.sidecarAnswerKeyEnv} is unset or shorter than ${MIN_ANSWER_KEY_BYTES} bytes`,
      );
    } else cfg.sidecarAnswerKey = key;
  }
  if (cfg.workspace !== undefined && cfg.workspace !== AGENT_WORKSPACE && !path.isAbsolute(cfg.workspace)) {
    problems.push(`\`workspace\` must be an absolute path, or "${AGENT_WORKSPACE}" (each calling agent's own workspace, as OpenClaw resolves it)`);
  }
  if (raw.skills !== undefined) {
    if (!isObject(raw.skills)) {
      problems.push("`skills` must be an object: tool name (or * glob) -> skill provenance");
    } else {
      for (const [pattern, prov] of Object.entries(raw.skills)) {
        if (!isObject(prov)) {
          problems.push(`\`skills["${pattern}"]\` must be an object`);
          continue;
        }
        for (const k of Object.keys(prov)) {
          if (!SKILL_FIELDS.has(k)) problems.push(`\`skills["${pattern}"]\`: unknown field \`${k}\``);
        }
        cfg.skills.push({ pattern, match: globMatcher(pattern), provenance: prov });
      }
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return cfg;
}

/** A matcher of tool names for a pattern: exact, or `*` for any run of
 * characters; case-insensitive (the runtime lower-cases tool names). */
export function globMatcher(pattern) {
  const p = pattern.toLowerCase();
  if (!p.includes("*")) return (name) => name.toLowerCase() === p;
  const re = new RegExp(
    "^" +
      p
        .split("*")
        .map((s) => s.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
        .join(".*") +
      "$",
    "s",
  );
  return (name) => re.test(name.toLowerCase());
}
