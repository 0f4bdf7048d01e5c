// The parity harness's runner for OpenClaw (tests/adapters/README.md):
//
//   target/adapters/bin/node tests/adapters/run_openclaw.mjs JOB.json OUT.json
//
// For each scenario of the job: one REAL `openclaw agent --local` run (npm
// `openclaw` under target/adapters, scripts/setup_openclaw.sh), offline, with
//   - the gait-gate plugin (sdk/openclaw) loaded by path, configured with the
//     scenario's gate (bundle: in process through the Node binding;
//     tampered bundle: the tampered bytes loaded at start, so every call is
//     refused with the bundle's code; sidecar_down / sidecar_silent:
//     `sidecarUrl`, `timeoutMs` = the scenario's timeout) and context
//     (identity, riskClass, sessionId, workspace, skills, traceDir);
//   - the test plugin `parity-tools` (tests/adapters/openclaw_tools) giving
//     forge's tools (write_file, read_file, copy_file, run_command) that
//     write the scenario's workspace and log each run to its effects log;
//   - the loopback mock model (tests/openclaw/mock_openai.mjs) asking for the
//     scenario's one tool call with id `tool_call_id`.
// The plugin's configuration is per process, and every scenario has its own
// workspace and session: one agent run per scenario (they cannot be batched
// into one session). Runs go two at a time (GAIT_PARITY_OPENCLAW_JOBS).
//
// OUT.json: {framework, results: [{id, record_id, model_saw, ...}]}; the
// harness (parity.py) checks the records, files and effects logs itself.
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, "../..");
const TARGET = path.resolve(process.env.CARGO_TARGET_DIR || path.join(ROOT, "target"));
process.env.GAIT_ADAPTERS ??= path.join(TARGET, "adapters");
const { runAgent, toolResults } = await import("../openclaw/harness.mjs");

const GATE_PLUGIN = path.join(ROOT, "sdk/openclaw");
const TOOLS_PLUGIN = path.join(HERE, "openclaw_tools");
const [jobPath, outPath] = process.argv.slice(2);
if (!jobPath || !outPath) {
  console.error("usage: run_openclaw.mjs JOB.json OUT.json");
  process.exit(2);
}
const JOB = JSON.parse(fs.readFileSync(jobPath, "utf8"));
const JOBS = Math.max(1, Number.parseInt(process.env.GAIT_PARITY_OPENCLAW_JOBS ?? "2", 10) || 1);

/** The gait-gate configuration of a scenario's gate; `report` gets
 * `load_error_code` for the tampered bundle. */
function gateConfig(spec, report) {
  switch (spec.mode) {
    case "bundle": {
      const cfg = { bundle: spec.bundle, trust: spec.trust, transport: "native" };
      if (spec.decision_timeout_ms !== null && spec.decision_timeout_ms !== undefined) cfg.decisionTimeoutMs = spec.decision_timeout_ms;
      return cfg;
    }
    case "tampered_bundle": {
      // The gate is started on the tampered bytes (README: "or load tampered
      // at start and refuse every call"): OpenClaw's plugin opens its gate
      // in the agent's process, before any call, so no copy can be swapped
      // in between. Loading it directly must be refused with the same code.
      fs.copyFileSync(spec.tampered, spec.bundle);
      const addon = createRequire(import.meta.url)(path.join(GATE_PLUGIN, "native/gait_node.node"));
      const g = addon.Gate.open({ bundle: spec.bundle, trust: spec.trust });
      report.load_error_code = g.ok ? null : g.rejectionCode;
      return { bundle: spec.bundle, trust: spec.trust, transport: "native" };
    }
    case "sidecar_down":
    case "sidecar_silent":
      return { sidecarUrl: spec.url, timeoutMs: Math.round(Number(spec.timeout_s) * 1000) };
    default:
      throw new Error(`unknown gate mode ${spec.mode}`);
  }
}

async function runScenario(s) {
  const report = { id: s.id };
  const gate = gateConfig(s.gate, report);
  const gateCfg = {
    ...gate,
    identity: s.context.identity,
    riskClass: s.context.risk_class,
    sessionId: s.context.session_id,
    workspace: s.workspace,
    traceDir: JOB.trace_dir,
  };
  if (s.skill) gateCfg.skills = { [s.tool]: s.skill };
  // OpenClaw's own state and agent workspace (it writes bootstrap files
  // there) live in the scratch folder, never in the scenario's folder.
  const scratch = path.join(JOB.scratch, s.id);
  const home = path.join(scratch, "home");
  const agentWs = path.join(scratch, "agent-workspace");
  fs.mkdirSync(home, { recursive: true });
  fs.mkdirSync(agentWs, { recursive: true });
  const started = Date.now();
  const run = await runAgent({
    workspace: agentWs,
    home,
    message: s.summary,
    pluginConfig: undefined,
    extraConfig: {
      // The plugin tools as direct tool schemas (not behind tool_search):
      // the model calls write_file itself, as in the other frameworks.
      tools: { toolSearch: false },
      plugins: {
        // Only these two plugins (and no memory plugin): the run starts faster.
        allow: ["gait-gate", "parity-tools"],
        slots: { memory: "none" },
        load: { paths: [GATE_PLUGIN, TOOLS_PLUGIN] },
        entries: {
          "gait-gate": { enabled: true, config: gateCfg },
          "parity-tools": { enabled: true, config: { workspace: s.workspace, effectsLog: s.effects_log } },
        },
      },
    },
    toolCalls: [{ id: s.tool_call_id, name: s.tool, arguments: s.args }],
  });
  report.seconds = Math.round((Date.now() - started) / 100) / 10;
  fs.writeFileSync(path.join(scratch, "openclaw.log"), `exit ${run.code}\n--- stdout\n${run.stdout}\n--- stderr\n${run.stderr}\n`);
  if (run.code !== 0) {
    report.runner_error = `openclaw agent exited ${run.code}: ${run.stderr.slice(-1500)}`;
  }
  // OpenClaw may send a tool call id back to the model without `_`
  // (call_x -> callx); the decision record is keyed by the id the hook saw.
  const ids = [s.tool_call_id, s.tool_call_id.replaceAll("_", "")];
  const folder = path.join(JOB.trace_dir, "openclaw");
  report.record_id = ids.find((id) => fs.existsSync(path.join(folder, `${id}.json`))) ?? s.tool_call_id;
  const results = toolResults(run.requests);
  const saw = ids.map((id) => results[id]).find((t) => t !== undefined);
  report.model_saw = saw === undefined ? [] : [saw];
  report.model_requests = run.requests.length;
  return report;
}

const results = new Array(JOB.scenarios.length);
let next = 0;
async function worker() {
  while (next < JOB.scenarios.length) {
    const i = next++;
    const s = JOB.scenarios[i];
    try {
      results[i] = await runScenario(s);
    } catch (e) {
      results[i] = { id: s.id, runner_error: `${e?.name ?? "Error"}: ${e?.message ?? e}` };
    }
  }
}
await Promise.all(Array.from({ length: Math.min(JOBS, JOB.scenarios.length) }, worker));
fs.writeFileSync(outPath, JSON.stringify({ framework: "openclaw", results }, null, 2) + "\n");
