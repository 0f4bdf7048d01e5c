// OpenClaw plugin `gait-gate`: every tool call is decided by a Gait policy
// before it runs (`before_tool_call`). `allow` lets the call run; `block`,
// `require_approval` (until approvals are defined), `dry_run` and every
// failure — bad configuration, a bundle that fails verification, a gate that
// does not answer, an answer that cannot be read, this plugin's own code
// failing to load — block the call with a reason naming the verdict.
//
// This file is kept minimal on purpose: the hook is registered before any of
// the plugin's own code is loaded, so that nothing after the OpenClaw SDK
// import can make the plugin register no hook (which would leave tools
// running ungated). The gate code is loaded once, at registration, and a
// failure to load it becomes a block of every call.
import { definePluginEntry } from "openclaw/plugin-sdk/plugin-entry";

const ID = "gait-gate";
// The host's own deadline for this hook: past it OpenClaw blocks the call
// itself ("before_tool_call" is fail-closed in OpenClaw). The gate's deadline
// (`timeoutMs`, default 2000) is shorter, so that the plugin answers first
// with its own reason and trace record.
const HOST_MARGIN_MS = 3000;
const DEFAULT_TIMEOUT_MS = 2000;
// OpenClaw runs `before_tool_call` handlers by descending priority, each on
// the original call, and keeps the last `params` one returns. The gate runs
// last and, when it allows, returns the parameters it decided: a rewrite by
// another plugin's handler is replaced by them and never runs undecided.
// (A handler with the same priority registered later would still run after
// this one: none should use -Infinity.)
const LAST = Number.NEGATIVE_INFINITY;

function blockAll(reason) {
  return async () => ({ block: true, blockReason: `Gait gate: blocked: ${reason}; the tool call was not run` });
}

export default definePluginEntry({
  id: ID,
  name: "Gait gate",
  description: "Decides every tool call with a signed Gait policy bundle before it runs (fail closed).",
  register(api) {
    const config = api.pluginConfig;
    const timeoutMs =
      Number.isInteger(config?.timeoutMs) && config.timeoutMs > 0 ? config.timeoutMs : DEFAULT_TIMEOUT_MS;
    // `workspace: "agent"`: each call is decided in its agent's workspace,
    // as OpenClaw resolves it from its configuration (loaded only then, and
    // here, so that a failure blocks every call like any other).
    const agentRuntime = config?.workspace === "agent" ? import("openclaw/plugin-sdk/agent-runtime") : Promise.resolve(undefined);
    const ready = Promise.all([import("./src/hook.mjs"), agentRuntime])
      .then(([m, rt]) =>
        m.createHook(config, {
          logger: api.logger,
          openclaw: rt && { config: api.config, resolveAgentWorkspaceDir: rt.resolveAgentWorkspaceDir, resolveDefaultAgentId: rt.resolveDefaultAgentId },
        }),
      )
      .catch((e) => {
        api.logger?.error?.(`${ID}: the gate could not be loaded; blocking every tool call: ${e?.stack ?? e}`);
        return blockAll(`plugin_load_failed: the gate could not be loaded (${e?.message ?? e})`);
      });
    api.on(
      "before_tool_call",
      async (event, ctx) => {
        try {
          const hook = await ready;
          return await hook(event, ctx);
        } catch (e) {
          return { block: true, blockReason: `Gait gate: blocked: internal_error (${e?.message ?? e}); the tool call was not run` };
        }
      },
      { priority: LAST, timeoutMs: timeoutMs + HOST_MARGIN_MS },
    );
  },
});
