// The gait-gate plugin inside the real OpenClaw (npm `openclaw`, pinned by
// tests/openclaw/adapter): each test is one `openclaw agent --local` run,
// offline, whose model (tests/openclaw/mock_openai.mjs) asks for tool calls;
// the plugin is loaded from sdk/openclaw by path. What is checked: a call the
// policy allows runs (its file exists), a call it refuses does not (no file)
// and the model receives the refusal, every decision equals `gait-run eval`
// on the same intent, and a gate that is unavailable blocks.
import { describe, test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { runAgent, toolResults } from "./harness.mjs";
import { makeFixture, readRecords, startSidecar, closedPort, GAIT_RUN } from "./fixture.mjs";

let fx;
before(() => {
  fx = makeFixture();
});
after(() => fx?.cleanup());

let n = 0;
/** A fresh folder of the workspace for one run, and its files' paths. */
function scene() {
  n += 1;
  const dir = `run${n}`;
  fs.mkdirSync(path.join(fx.ws, "allowed", dir), { recursive: true });
  fs.mkdirSync(path.join(fx.ws, "denied", dir), { recursive: true });
  return {
    ok: (f) => path.join(fx.ws, "allowed", dir, f),
    no: (f) => path.join(fx.ws, "denied", dir, f),
    traceDir: path.join(fx.root, `trace-${n}`),
  };
}

// OpenClaw sends tool call ids back to the model without `_` (call_w1 -> callw1).
const seen = (results, id) => results[id.replaceAll("_", "")] ?? results[id];

function assertParity(records, bundle = fx.bundle) {
  for (const rec of Object.values(records)) {
    const cli = fx.evalCli(rec.intent, bundle);
    assert.deepEqual(rec.result, cli.result, `${rec.tool_call_id}: the plugin's decision is gait-run eval's`);
    assert.equal(rec.result.verdict, cli.result.verdict);
    assert.deepEqual(rec.result.reason_codes, cli.result.reason_codes);
    assert.equal(rec.result.intent_digest, cli.result.intent_digest);
  }
}

async function allowAndBlock(gateConfig) {
  const s = scene();
  const run = await runAgent({
    workspace: fx.ws,
    pluginConfig: { ...gateConfig, identity: "e2e", workspace: fx.ws, riskClass: "medium", traceDir: s.traceDir },
    toolCalls: [
      { id: "call_write_ok", name: "write", arguments: { path: s.ok("w.txt"), content: "allowed" } },
      { id: "call_exec_ok", name: "exec", arguments: { command: `touch ${s.ok("e.txt")}` } },
      { id: "call_write_no", name: "write", arguments: { path: s.no("w.txt"), content: "refused" } },
      { id: "call_exec_no", name: "exec", arguments: { command: `touch ${s.ok("x.txt")} && rm -f ${s.ok("w.txt")}` } },
      { id: "call_exec_approval", name: "exec", arguments: { command: `curl -o ${s.ok("c.txt")} https://example.com/` } },
    ],
  });
  assert.equal(run.code, 0, run.stderr.slice(-3000));
  const results = toolResults(run.requests);
  // Allowed: ran.
  assert.equal(fs.readFileSync(s.ok("w.txt"), "utf8"), "allowed");
  assert.ok(fs.existsSync(s.ok("e.txt")), "the allowed exec ran");
  // Refused: no side effect, and the model was told why.
  assert.ok(!fs.existsSync(s.no("w.txt")), "the blocked write left no file");
  assert.ok(!fs.existsSync(s.ok("x.txt")), "the blocked exec did not run");
  assert.ok(!fs.existsSync(s.ok("c.txt")), "the exec that needs approval did not run");
  assert.match(seen(results, "call_write_no"), /Gait gate: blocked: verdict block by policy openclaw-e2e .*reasons: default_block/);
  assert.match(seen(results, "call_exec_no"), /Gait gate: blocked: verdict block .*reasons: destructive_command/);
  assert.match(seen(results, "call_exec_approval"), /Gait gate: blocked: verdict require_approval .*reasons: network_command/);
  assert.doesNotMatch(seen(results, "call_write_ok"), /Gait gate/);
  // One record per call, executed iff allowed, each decision gait-run eval's.
  const records = readRecords(s.traceDir);
  assert.deepEqual(Object.keys(records).sort(), ["call_exec_approval", "call_exec_no", "call_exec_ok", "call_write_no", "call_write_ok"]);
  for (const [id, rec] of Object.entries(records)) {
    assert.equal(rec.executed, id.endsWith("_ok"), id);
    assert.equal(rec.framework, "openclaw");
    assert.deepEqual(rec.intent.context, { identity: "e2e", risk_class: "medium", workspace: fx.ws });
  }
  assert.deepEqual(records.call_exec_ok.intent.args, { command: `touch ${s.ok("e.txt")}` });
  assertParity(records);
  return { run, records };
}

async function unavailable(gateConfig) {
  const s = scene();
  const run = await runAgent({
    workspace: fx.ws,
    pluginConfig: gateConfig === undefined ? undefined : { ...gateConfig, workspace: fx.ws, riskClass: "medium", traceDir: s.traceDir },
    toolCalls: [{ id: "call_write", name: "write", arguments: { path: s.ok("w.txt"), content: "x" } }],
  });
  return { s, run, said: seen(toolResults(run.requests), "call_write"), written: fs.existsSync(s.ok("w.txt")), records: readRecords(s.traceDir) };
}

const REWRITER = `import { definePluginEntry } from "openclaw/plugin-sdk/plugin-entry";
export default definePluginEntry({
  id: "param-rewriter",
  name: "rewrites write paths",
  description: "test plugin",
  register(api) {
    api.on("before_tool_call", async (event) =>
      event.toolName === "write" ? { params: { ...event.params, path: api.pluginConfig.to } } : undefined,
    { priority: 0 });
  },
});
`;

function rewriterPlugin() {
  const dir = path.join(fx.root, "param-rewriter");
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "index.mjs"), REWRITER);
  fs.writeFileSync(
    path.join(dir, "package.json"),
    JSON.stringify({ name: "param-rewriter", version: "0.0.0", type: "module", openclaw: { extensions: ["./index.mjs"] } }),
  );
  fs.writeFileSync(
    path.join(dir, "openclaw.plugin.json"),
    JSON.stringify({ id: "param-rewriter", name: "rewriter", configSchema: { type: "object", additionalProperties: true } }),
  );
  return dir;
}

test("in process (Node binding): allowed write and exec run; blocked ones leave nothing; the model gets the refusal", async () => {
  await allowAndBlock({ bundle: fx.bundle, trust: fx.trust, transport: "native" });
});

// The other runs go two at a time: an `openclaw agent --local` run takes
// seconds, mostly on one core, and each has its own HOME (OpenClaw's state),
// mock model, scene folders and trace folder. The run above goes alone
// first, so that OpenClaw writes its bootstrap files into the shared
// workspace before two runs could race to.
describe("openclaw agent --local runs, two at a time", { concurrency: 2 }, () => {
  test("sidecar (gait-run serve at sidecarUrl): the same decisions", async () => {
    const sidecar = await startSidecar(fx.bundle, fx.trust);
    try {
      await allowAndBlock({ sidecarUrl: sidecar.url });
    } finally {
      await sidecar.stop();
    }
  });

  test("spawned sidecar (transport sidecar): the plugin starts gait-run serve itself", async () => {
    await allowAndBlock({ bundle: fx.bundle, trust: fx.trust, transport: "sidecar", gaitRun: GAIT_RUN });
  });

  // One allowed-by-policy write under a gate that cannot decide: nothing runs.
  test("control: without the plugin the same write runs (so the blocks below are the gate's doing)", async () => {
    const { run, written } = await unavailable(undefined);
    assert.equal(run.code, 0, run.stderr.slice(-2000));
    assert.equal(written, true);
  });

  test("tampered bundle (in process): blocked with the bundle's rejection code, as gait-run eval answers", async () => {
    const { run, said, written, records } = await unavailable({ bundle: fx.tampered, trust: fx.trust, transport: "native" });
    assert.equal(run.code, 0, run.stderr.slice(-2000));
    assert.equal(written, false);
    assert.match(said, /Gait gate: blocked: gate unavailable \(bundle_payload_digest_mismatch\).*the tool call was not run/);
    assert.equal(records.call_write.executed, false);
    assert.equal(records.call_write.result, null);
    const cli = fx.evalCli(records.call_write.intent, fx.tampered);
    assert.equal(cli.code, 2);
    assert.deepEqual(cli.result.reason_codes, ["bundle_payload_digest_mismatch"]);
  });

  test("tampered bundle (spawned sidecar): blocked, bundle_payload_digest_mismatch", async () => {
    const { said, written, records } = await unavailable({ bundle: fx.tampered, trust: fx.trust, transport: "sidecar", gaitRun: GAIT_RUN });
    assert.equal(written, false);
    assert.match(said, /Gait gate: blocked: gate unavailable \(bundle_payload_digest_mismatch\)/);
    assert.equal(records.call_write.executed, false);
  });

  test("sidecar down: blocked, sidecar_unreachable", async () => {
    const port = await closedPort();
    const { said, written, records } = await unavailable({ sidecarUrl: `http://127.0.0.1:${port}` });
    assert.equal(written, false);
    assert.match(said, /Gait gate: blocked: gate unavailable \(sidecar_unreachable\)/);
    assert.equal(records.call_write.executed, false);
    assert.equal(records.call_write.result, null);
  });

  test("bad plugin configuration: every call blocked, config_invalid", async () => {
    const { said, written } = await unavailable({ bundle: fx.bundle });
    assert.equal(written, false);
    assert.match(said, /Gait gate: blocked: config_invalid: .*needs `trust`/);
  });

  test("a plugin that fails to load: OpenClaw refuses to run the agent at all", async () => {
    const s = scene();
    const broken = path.join(fx.root, "broken-plugin");
    fs.cpSync(path.resolve(import.meta.dirname, "../../sdk/openclaw"), broken, { recursive: true, filter: (p) => !p.endsWith(".node") });
    fs.writeFileSync(path.join(broken, "index.mjs"), 'throw new Error("the entry cannot load");\n' + fs.readFileSync(path.join(broken, "index.mjs"), "utf8"));
    const run = await runAgent({
      workspace: fx.ws,
      pluginDir: broken,
      pluginConfig: { bundle: fx.bundle, trust: fx.trust, workspace: fx.ws },
      toolCalls: [{ id: "call_write", name: "write", arguments: { path: s.ok("w.txt"), content: "x" } }],
    });
    assert.notEqual(run.code, 0);
    assert.match(run.stdout + run.stderr, /plugin load failed: gait-gate/);
    assert.equal(run.requests.length, 0, "the model was never called");
    assert.equal(fs.existsSync(s.ok("w.txt")), false);
  });

  test("path spellings OpenClaw rewrites (@/abs, @~/x, file:///x): decided as the file OpenClaw writes", async () => {
    const s = scene();
    const home = fs.mkdtempSync(path.join(fx.root, "home-"));
    const run = await runAgent({
      workspace: fx.ws,
      home,
      pluginConfig: { bundle: fx.bundle, trust: fx.trust, transport: "native", workspace: fx.ws, riskClass: "medium", traceDir: s.traceDir },
      toolCalls: [
        { id: "call_at_ok", name: "write", arguments: { path: `@${s.ok("at.txt")}`, content: "a" } },
        { id: "call_url_ok", name: "write", arguments: { path: `file://${s.ok("url.txt")}`, content: "u" } },
        { id: "call_at_no", name: "write", arguments: { path: `@${s.no("at.txt")}`, content: "x" } },
        { id: "call_url_no", name: "write", arguments: { path: `file://${s.no("url.txt")}`, content: "x" } },
        { id: "call_home_no", name: "write", arguments: { path: "@~/evil.txt", content: "x" } },
      ],
    });
    assert.equal(run.code, 0, run.stderr.slice(-3000));
    const results = toolResults(run.requests);
    // Allowed: OpenClaw wrote exactly the file the gate judged.
    assert.equal(fs.readFileSync(s.ok("at.txt"), "utf8"), "a");
    assert.equal(fs.readFileSync(s.ok("url.txt"), "utf8"), "u");
    // Refused: nothing written, anywhere OpenClaw would have put it.
    assert.ok(!fs.existsSync(s.no("at.txt")));
    assert.ok(!fs.existsSync(s.no("url.txt")));
    assert.ok(!fs.existsSync(path.join(home, "evil.txt")));
    for (const id of ["call_at_no", "call_url_no", "call_home_no"]) assert.match(seen(results, id), /Gait gate: blocked: verdict block .*default_block/, id);
    const records = readRecords(s.traceDir);
    assert.equal(records.call_at_no.intent.args.path, s.no("at.txt"));
    assert.equal(records.call_home_no.intent.args.path, path.join(home, "evil.txt"));
    assertParity(records);
  });

  test("what OpenClaw's tools repair or set before they act is decided: a path's trailing </arg_value>>, exec's env", async () => {
    const s = scene();
    const tarred = `${fx.root}/policy.gaitpol`;
    const run = await runAgent({
      workspace: fx.ws,
      pluginConfig: { bundle: fx.bundle, trust: fx.trust, transport: "native", workspace: fx.ws, riskClass: "medium", traceDir: s.traceDir },
      toolCalls: [
        // OpenClaw's write tool strips the marker and writes `.env`.
        { id: "call_env_no", name: "write", arguments: { path: `${s.ok(".env")}</arg_value>>`, content: "SECRET=x" } },
        { id: "call_note_ok", name: "write", arguments: { path: `${s.ok("note.txt")}</arg_value>>`, content: "n" } },
        // GNU tar reads TAR_OPTIONS: the checkpoint action runs `touch`.
        {
          id: "call_tar_no",
          name: "exec",
          arguments: {
            command: `tar -cf ${s.ok("a.tar")} ${tarred}`,
            env: { TAR_OPTIONS: `--checkpoint=1 --checkpoint-action=exec=touch ${s.ok("pwned")}` },
          },
        },
        { id: "call_tar_ok", name: "exec", arguments: { command: `tar -cf ${s.ok("b.tar")} ${tarred}`, env: { TZ: "UTC" } } },
      ],
    });
    assert.equal(run.code, 0, run.stderr.slice(-3000));
    const results = toolResults(run.requests);
    assert.ok(!fs.existsSync(s.ok(".env")), "the .env write was refused");
    assert.match(seen(results, "call_env_no"), /Gait gate: blocked: verdict block .*reasons: secret_file/);
    assert.equal(fs.readFileSync(s.ok("note.txt"), "utf8"), "n", "the repaired path is the file written");
    assert.ok(!fs.existsSync(s.ok("pwned")) && !fs.existsSync(s.ok("a.tar")), "the exec with TAR_OPTIONS did not run");
    assert.match(seen(results, "call_tar_no"), /Gait gate: blocked: verdict block .*reasons: command_dynamic/);
    assert.ok(fs.existsSync(s.ok("b.tar")), "an exec with a harmless env runs");
    const records = readRecords(s.traceDir);
    assert.equal(records.call_env_no.intent.args.path, s.ok(".env"));
    assert.equal(records.call_tar_ok.intent.args.gait_exec_env_command, `TZ='UTC'; tar -cf ${s.ok("b.tar")} ${tarred}`);
    assertParity(records);
  });

  test("another plugin's parameter rewrite never runs undecided: the gate runs last and returns what it decided", async () => {
    const dir = rewriterPlugin();
    // Control: alone, the rewriter moves the write to the denied folder.
    const c = scene();
    const control = await runAgent({
      workspace: fx.ws,
      extraPlugins: [{ dir, id: "param-rewriter", config: { to: c.no("moved.txt") } }],
      toolCalls: [{ id: "call_w", name: "write", arguments: { path: c.ok("w.txt"), content: "x" } }],
    });
    assert.equal(control.code, 0, control.stderr.slice(-3000));
    assert.ok(fs.existsSync(c.no("moved.txt")), "the rewriter is active");
    // With the gate: the call runs as decided (the allowed path), the rewrite does not.
    const s = scene();
    const run = await runAgent({
      workspace: fx.ws,
      pluginConfig: { bundle: fx.bundle, trust: fx.trust, transport: "native", workspace: fx.ws, riskClass: "medium", traceDir: s.traceDir },
      extraPlugins: [{ dir, id: "param-rewriter", config: { to: s.no("moved.txt") } }],
      toolCalls: [{ id: "call_w", name: "write", arguments: { path: s.ok("w.txt"), content: "x" } }],
    });
    assert.equal(run.code, 0, run.stderr.slice(-3000));
    assert.ok(!fs.existsSync(s.no("moved.txt")), "the undecided rewrite did not run");
    assert.equal(fs.readFileSync(s.ok("w.txt"), "utf8"), "x");
    assert.equal(readRecords(s.traceDir).call_w.executed, true);
  });

  test('workspace "agent": relative paths are decided in the agent\'s workspace as OpenClaw resolves it from its configuration', async () => {
    const s = scene();
    const rel = (p) => path.relative(fx.ws, p);
    const run = await runAgent({
      workspace: fx.ws,
      pluginConfig: { bundle: fx.bundle, trust: fx.trust, transport: "native", workspace: "agent", riskClass: "medium", traceDir: s.traceDir },
      toolCalls: [
        { id: "call_rel_ok", name: "write", arguments: { path: rel(s.ok("r.txt")), content: "allowed" } },
        { id: "call_rel_no", name: "write", arguments: { path: rel(s.no("r.txt")), content: "refused" } },
      ],
    });
    assert.equal(run.code, 0, run.stderr.slice(-3000));
    assert.equal(fs.readFileSync(s.ok("r.txt"), "utf8"), "allowed");
    assert.ok(!fs.existsSync(s.no("r.txt")), "the blocked write left no file");
    const records = readRecords(s.traceDir);
    for (const rec of Object.values(records)) assert.equal(rec.intent.context.workspace, fx.ws, rec.tool_call_id);
    assert.equal(records.call_rel_ok.executed, true);
    assert.equal(records.call_rel_no.executed, false);
    assertParity(records);
  });

  test("tool_call (Tool Search) is decided as the tool it calls", async () => {
    const s = scene();
    const run = await runAgent({
      workspace: fx.ws,
      extraConfig: { tools: { toolSearch: { mode: "tools" } } },
      pluginConfig: { bundle: fx.bundle, trust: fx.trust, transport: "native", workspace: fx.ws, riskClass: "medium", traceDir: s.traceDir },
      toolCalls: [
        { id: "call_tc_ok", name: "tool_call", arguments: { id: "write", args: { path: s.ok("tc.txt"), content: "t" } } },
        { id: "call_tc_no", name: "tool_call", arguments: { id: "write", args: { path: s.no("tc.txt"), content: "x" } } },
      ],
    });
    assert.equal(run.code, 0, run.stderr.slice(-3000));
    const results = toolResults(run.requests);
    assert.ok(!fs.existsSync(s.no("tc.txt")), "the refused tool_call wrote nothing");
    assert.match(seen(results, "call_tc_no"), /Gait gate: blocked: verdict block .*default_block/);
    const records = readRecords(s.traceDir);
    assert.equal(records.call_tc_no.intent.tool_name, "write");
    assert.equal(records.call_tc_no.executed, false);
    assert.equal(records.call_tc_ok.intent.tool_name, "write");
    assert.equal(records.call_tc_ok.executed, true);
    assert.equal(fs.readFileSync(s.ok("tc.txt"), "utf8"), "t");
    assertParity(records);
  });

  test("the plugin's gate code fails to load: every call blocked, plugin_load_failed", async () => {
    const s = scene();
    const broken = path.join(fx.root, "broken-gate");
    fs.cpSync(path.resolve(import.meta.dirname, "../../sdk/openclaw"), broken, { recursive: true, filter: (p) => !p.endsWith(".node") });
    fs.writeFileSync(path.join(broken, "src/hook.mjs"), 'throw new Error("the gate code cannot load");\n');
    const run = await runAgent({
      workspace: fx.ws,
      pluginDir: broken,
      pluginConfig: { bundle: fx.bundle, trust: fx.trust, workspace: fx.ws },
      toolCalls: [{ id: "call_write", name: "write", arguments: { path: s.ok("w.txt"), content: "x" } }],
    });
    assert.equal(run.code, 0, run.stderr.slice(-3000));
    assert.equal(fs.existsSync(s.ok("w.txt")), false);
    assert.match(seen(toolResults(run.requests), "call_write"), /Gait gate: blocked: plugin_load_failed: .*the gate code cannot load/);
  });
});
