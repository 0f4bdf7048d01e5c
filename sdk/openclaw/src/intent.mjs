// An OpenClaw tool call as a Gait intent (runtime.md §2):
//   {tool_name, args, context: {identity, workspace, risk_class, session_id}, skill_provenance?}
// The tool's parameters are passed unchanged as `args`; the policy's tool
// mappings (`import std.openclaw`) derive the targets from them. Nothing is
// dropped or renamed, so an adapter bug cannot hide an argument from the gate.

/** The intent of one `before_tool_call` event under a parsed configuration. */
export function buildIntent(cfg, event) {
  if (typeof event?.toolName !== "string") {
    throw new TypeError("the tool call has no tool name");
  }
  const params = event.params;
  const intent = {
    tool_name: event.toolName,
    args: params !== null && typeof params === "object" && !Array.isArray(params) ? params : {},
  };
  const context = {};
  if (cfg.identity !== undefined) context.identity = cfg.identity;
  if (cfg.workspace !== undefined) context.workspace = cfg.workspace;
  if (cfg.riskClass !== undefined) context.risk_class = cfg.riskClass;
  if (cfg.sessionId !== undefined) context.session_id = cfg.sessionId;
  if (Object.keys(context).length > 0) intent.context = context;
  const skill = cfg.skills.find((s) => s.match(event.toolName));
  if (skill) intent.skill_provenance = skill.provenance;
  return intent;
}
