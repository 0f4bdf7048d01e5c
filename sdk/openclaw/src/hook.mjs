// The `before_tool_call` handler: intent → gate → OpenClaw's answer, and a
// decision record when `traceDir` is set.
import { randomUUID } from "node:crypto";
import path from "node:path";
import { AGENT_WORKSPACE, ConfigError, parseConfig } from "./config.mjs";
import { GateError, openGate } from "./gate.mjs";
import { buildIntent, IntentRefusal } from "./intent.mjs";
import { writeRecord } from "./trace.mjs";

// `require_approval`: OpenClaw's own approval prompt only where the policy
// allows interactive approval — the approvals issue defines that; until
// then it is blocked. To prompt instead, set this to true (nothing else
// changes: `answer()` already builds OpenClaw's `requireApproval` request).
export const PROMPT_FOR_APPROVAL = false;

/** The calling agent's workspace (`workspace: "agent"`), as OpenClaw
 * resolves it: a function of the hook's context, made once at start-up from
 * the configuration OpenClaw loaded the plugin with (resolveAgentWorkspaceDir
 * over it; the default agent when the call names none). It returns an
 * absolute path or refuses the call (`workspace_unknown`) rather than decide
 * it against another agent's folder. OpenClaw resolves relative paths in a
 * run folder instead when one is configured (`agents.defaults.cwd`, an
 * agent's `cwd`): then every call is refused, since which folder a run uses
 * is not in the call. */
function agentWorkspaces(openclaw) {
  const config = openclaw?.config;
  const agents = config?.agents;
  // Agents are listed in `agents.list` in the file, in `agents.entries`
  // once OpenClaw has loaded it: both are read.
  const entries = agents?.entries !== null && typeof agents?.entries === "object" ? Object.values(agents.entries) : [];
  const listed = [...(Array.isArray(agents?.list) ? agents.list : []), ...entries];
  const runFolder = [agents?.defaults?.cwd, ...listed.map((a) => a?.cwd)].some((c) => typeof c === "string" && c.trim() !== "");
  return (ctx) => {
    if (runFolder) {
      throw new IntentRefusal(
        "workspace_unknown",
        "OpenClaw's configuration sets a run folder (`cwd`), where relative paths are resolved instead of the workspace; set the plugin's `workspace` to that folder",
      );
    }
    const agentId = typeof ctx?.agentId === "string" && ctx.agentId.trim() !== "" ? ctx.agentId : undefined;
    const who = agentId ?? "(default)";
    let ws;
    try {
      ws = openclaw.resolveAgentWorkspaceDir(config, agentId ?? openclaw.resolveDefaultAgentId(config));
    } catch (e) {
      throw new IntentRefusal("workspace_unknown", `the workspace of agent ${who} cannot be resolved (${e?.message ?? e})`);
    }
    if (typeof ws !== "string" || !path.isAbsolute(ws)) {
      throw new IntentRefusal("workspace_unknown", `OpenClaw gave no absolute workspace for agent ${who}`);
    }
    // A workspace at the root is not where OpenClaw resolves relative paths
    // (its resolveWorkspaceRoot falls back to its working folder).
    const resolved = path.resolve(ws);
    if (resolved === path.parse(resolved).root) {
      throw new IntentRefusal("workspace_unknown", `agent ${who}'s workspace is the file system's root, where OpenClaw does not resolve relative paths`);
    }
    return resolved;
  };
}

const PREFIX = "Gait gate";
const DEADLINE_MARGIN_MS = 250;

/** OpenClaw's block answer: the reason, saying the call did not run (as
 * the Python adapters' refusals do). */
function refuse(text) {
  return { block: true, blockReason: `${PREFIX}: blocked: ${text}; the tool call was not run` };
}

function reasons(result) {
  return Array.isArray(result?.reason_codes) && result.reason_codes.length > 0
    ? result.reason_codes.join(", ")
    : "none";
}

function policyName(result) {
  const p = result?.policy;
  return p && typeof p.name === "string" ? ` by policy ${p.name} ${p.version ?? ""} (revision ${p.revision ?? "?"})` : "";
}

/** OpenClaw's answer to a decision: undefined lets the call run. */
export function answer(result, error) {
  if (error) {
    const shown = result ? ` (verdict ${result.verdict}; reasons: ${reasons(result)})` : "";
    return refuse(`${error}${shown}`);
  }
  const verdict = result.verdict;
  if (verdict === "allow") return undefined;
  const text = `verdict ${verdict}${policyName(result)}; reasons: ${reasons(result)}${
    result.error ? `; error: ${result.error}` : ""
  }`;
  if (verdict === "require_approval" && PROMPT_FOR_APPROVAL) {
    return {
      requireApproval: {
        title: "Gait policy: approval required",
        description: text,
        severity: "warning",
      },
    };
  }
  return refuse(text);
}

function withDeadline(promise, ms) {
  let timer;
  const late = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new GateError("gate_timeout", `no decision within ${ms} ms`)), ms);
    timer.unref?.();
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** A failure as the Python adapters record it (GateUnavailable's text):
 * `gate unavailable (<code>): <message>`. */
function errorText(e) {
  if (e instanceof GateError) return `gate unavailable (${e.code}): ${e.detail}`;
  // The plugin's own refusal of a call it cannot put to the gate as
  // OpenClaw would run it (intent.mjs): not a gate failure, so not
  // `gate unavailable`; no result either.
  if (e instanceof IntentRefusal) return e.message;
  return `gate unavailable (internal_error): ${e?.message ?? String(e)}`;
}

/** A handler that blocks everything with one reason (bad configuration, a
 * gate that cannot be opened). */
function blockingHook(reason) {
  return async () => refuse(reason);
}

/** Builds the handler for a raw plugin configuration. Never throws: a
 * configuration or gate that cannot be used gives a handler that blocks
 * every call, saying why. */
/** `openclaw`: OpenClaw's configuration and its resolveAgentWorkspaceDir and
 * resolveDefaultAgentId (plugin-sdk/agent-runtime), passed by the plugin
 * entry; needed only with `workspace: "agent"`. */
export function createHook(rawConfig, { logger, openclaw } = {}) {
  let cfg;
  try {
    cfg = parseConfig(rawConfig);
  } catch (e) {
    const why = e instanceof ConfigError ? `config_invalid: ${e.message}` : `config_invalid: ${e?.message ?? e}`;
    logger?.error?.(`gait-gate: ${why}; every tool call is blocked`);
    return blockingHook(why);
  }
  let gate;
  try {
    gate = openGate(cfg, logger);
  } catch (e) {
    const why = e instanceof GateError ? e.message : `config_invalid: ${e?.message ?? e}`;
    logger?.error?.(`gait-gate: ${why}; every tool call is blocked`);
    return blockingHook(why);
  }
  const workspaceOf = cfg.workspace === AGENT_WORKSPACE ? agentWorkspaces(openclaw) : undefined;
  if (!gate.ok) logger?.error?.(`gait-gate: the bundle was rejected (${gate.rejection}); every tool call is blocked`);

  const handler = async (event, ctx) => {
    const toolCallId = event?.toolCallId ?? ctx?.toolCallId ?? `no-tool-call-id-${randomUUID()}`;
    let intent = null;
    let result = null;
    let error = null;
    try {
      intent = buildIntent(workspaceOf ? { ...cfg, workspace: workspaceOf(ctx) } : cfg, event);
      // A backstop: the sidecar transport bounds each request by timeoutMs
      // itself (sidecar_unreachable); this deadline, a little later, catches
      // anything else that hangs (gate_timeout).
      const decided = await withDeadline(gate.decide(JSON.stringify(intent)), cfg.timeoutMs + DEADLINE_MARGIN_MS);
      result = decided.result;
      error = decided.error;
    } catch (e) {
      error = errorText(e);
    }
    let reply = answer(result, error);
    const executed = reply === undefined;
    if (cfg.traceDir) {
      try {
        writeRecord(cfg.traceDir, toolCallId, intent, result, executed, error);
      } catch (e) {
        // No evidence, no execution.
        if (executed) {
          reply = refuse(`trace_write_failed: ${e.message}`);
        }
        logger?.error?.(`gait-gate: cannot write the decision record of ${toolCallId}: ${e.message}`);
      }
    }
    if (reply !== undefined) return reply;
    // Allowed: the parameters decided, returned so that OpenClaw runs exactly
    // them. This hook runs last (index.mjs), and OpenClaw keeps the last
    // `params` a handler returns: another plugin's rewrite cannot reach the
    // tool undecided.
    const params = event.params !== null && typeof event.params === "object" && !Array.isArray(event.params) ? event.params : {};
    return { params: structuredClone(params) };
  };
  handler.gate = gate;
  handler.config = cfg;
  return handler;
}
