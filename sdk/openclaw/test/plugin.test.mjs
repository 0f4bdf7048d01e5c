// The gait-gate handler without OpenClaw around it (the OpenClaw runs are in
// tests/openclaw/e2e.test.mjs): every transport decides exactly as
// `gait-run eval` on the same intent, and every failure blocks.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import http from "node:http";
import path from "node:path";
import { createHook, answer } from "../src/hook.mjs";
import { recordName } from "../src/trace.mjs";
import { makeFixture, readRecords, startSidecar, closedPort, GAIT_RUN } from "../../../tests/openclaw/fixture.mjs";

let fx;
let sidecar;
before(async () => {
  fx = makeFixture();
  sidecar = await startSidecar(fx.bundle, fx.trust);
});
after(async () => {
  await sidecar?.stop();
  fx?.cleanup();
});

const ctx = { medium: { identity: "unit", riskClass: "medium" } };

// One call per verdict and failure the policy can give.
function calls() {
  const ws = fx.ws;
  return [
    { id: "allow_write", toolName: "write", params: { path: `${ws}/allowed/a.txt`, content: "x" }, verdict: "allow" },
    { id: "allow_exec", toolName: "exec", params: { command: `touch ${ws}/allowed/e.txt` }, verdict: "allow" },
    { id: "allow_relative", toolName: "read", params: { path: "allowed/notes.md" }, verdict: "allow" },
    { id: "block_default", toolName: "write", params: { path: `${ws}/denied/b.txt`, content: "x" }, verdict: "block" },
    { id: "block_traversal", toolName: "read", params: { path: `${ws}/allowed/../../../etc/passwd` }, verdict: "block" },
    { id: "block_rule", toolName: "exec", params: { command: `echo hi; sudo rm -rf ${ws}` }, verdict: "block" },
    { id: "approval", toolName: "exec", params: { command: "curl https://example.com" }, verdict: "require_approval" },
    { id: "invalid", toolName: "write", params: { path: 7, content: "x" }, verdict: "block" },
    { id: "unknown_tool", toolName: "frobnicate", params: {}, verdict: "block" },
  ];
}

async function decideAll(hook) {
  const out = [];
  for (const c of calls()) {
    const reply = await hook({ toolName: c.toolName, params: c.params, toolCallId: c.id, runId: "r1" }, {});
    out.push({ c, reply });
  }
  return out;
}

for (const transport of ["native", "sidecar-url", "sidecar-spawned"]) {
  test(`${transport}: every decision equals gait-run eval on the same intent, and only allow runs`, async () => {
    const traceDir = fs.mkdtempSync(path.join(fx.root, `trace-${transport}-`));
    const base = { ...ctx.medium, workspace: fx.ws, traceDir };
    const cfg =
      transport === "native"
        ? { ...base, bundle: fx.bundle, trust: fx.trust, transport: "native" }
        : transport === "sidecar-url"
          ? { ...base, sidecarUrl: sidecar.url }
          : { ...base, bundle: fx.bundle, trust: [fx.trust], transport: "sidecar", gaitRun: GAIT_RUN };
    const hook = createHook(cfg);
    assert.equal(hook.gate.transport, transport === "native" ? "native" : "sidecar");
    try {
      const decided = await decideAll(hook);
      const records = readRecords(traceDir);
      for (const { c, reply } of decided) {
        const rec = records[c.id];
        assert.ok(rec, `a record for ${c.id}`);
        assert.equal(rec.framework, "openclaw");
        const cli = fx.evalCli(rec.intent);
        assert.deepEqual(rec.result, cli.result, `${c.id}: the plugin's result is gait-run eval's`);
        assert.equal(rec.result.verdict, c.verdict, c.id);
        assert.equal(rec.executed, c.verdict === "allow", c.id);
        if (c.verdict === "allow") {
          assert.equal(reply, undefined, `${c.id} runs`);
        } else {
          assert.equal(reply.block, true, `${c.id} is blocked`);
          assert.match(reply.blockReason, new RegExp(`verdict ${c.verdict}`));
          for (const code of rec.result.reason_codes) assert.ok(reply.blockReason.includes(code), `${c.id}: ${code} named`);
        }
      }
      // The intent carries the context given in the configuration.
      assert.deepEqual(records.allow_write.intent.context, { identity: "unit", risk_class: "medium", workspace: fx.ws });
      assert.equal(records.invalid.result.reason_codes[0], "intent_invalid");
    } finally {
      hook.gate.close();
    }
  });
}

test("require_approval blocks (until the approvals issue), and says so", () => {
  const reply = answer({ verdict: "require_approval", reason_codes: ["network_command"], policy: { name: "p", version: "1.0.0", revision: 3 } }, null);
  assert.deepEqual(Object.keys(reply).sort(), ["block", "blockReason"]);
  assert.match(reply.blockReason, /verdict require_approval by policy p 1\.0\.0 \(revision 3\); reasons: network_command/);
  assert.equal(answer({ verdict: "dry_run", reason_codes: [] }, null).block, true);
  assert.equal(answer({ verdict: "allow", reason_codes: [] }, "gate_timeout: late").block, true);
});

test("a tampered bundle (native): every call blocked with the bundle's rejection code, as gait-run eval's; no result recorded", async () => {
  const traceDir = fs.mkdtempSync(path.join(fx.root, "trace-tampered-"));
  const hook = createHook({ bundle: fx.tampered, trust: fx.trust, workspace: fx.ws, transport: "native", traceDir });
  assert.equal(hook.gate.ok, false);
  const reply = await hook({ toolName: "write", params: { path: `${fx.ws}/allowed/t.txt`, content: "x" }, toolCallId: "t1" }, {});
  assert.equal(reply.block, true);
  assert.match(reply.blockReason, /bundle_payload_digest_mismatch/);
  assert.match(reply.blockReason, /the tool call was not run$/);
  const rec = readRecords(traceDir).t1;
  const cli = fx.evalCli(rec.intent, fx.tampered);
  assert.equal(cli.code, 2);
  assert.deepEqual(cli.result.reason_codes, ["bundle_payload_digest_mismatch"]);
  // As the Python adapters record a GateUnavailable: no result, the code in the error.
  assert.equal(rec.result, null);
  assert.match(rec.error, /^gate unavailable \(bundle_payload_digest_mismatch\): /);
  assert.equal(rec.executed, false);
});

test("a tampered bundle (spawned sidecar): every call blocked with the rejection code", async () => {
  const traceDir = fs.mkdtempSync(path.join(fx.root, "trace-tampered-sc-"));
  const hook = createHook({ bundle: fx.tampered, trust: fx.trust, transport: "sidecar", gaitRun: GAIT_RUN, traceDir });
  const reply = await hook({ toolName: "read", params: { path: `${fx.ws}/allowed/x` }, toolCallId: "t2" }, {});
  assert.equal(reply.block, true);
  assert.match(reply.blockReason, /bundle_payload_digest_mismatch/);
  const rec = readRecords(traceDir).t2;
  assert.equal(rec.executed, false);
  assert.equal(rec.result, null);
  assert.match(rec.error, /^gate unavailable \(bundle_payload_digest_mismatch\): /);
});

test("the sidecar is down: blocked, sidecar_unreachable", async () => {
  const port = await closedPort();
  const hook = createHook({ sidecarUrl: `http://127.0.0.1:${port}`, workspace: fx.ws });
  const reply = await hook({ toolName: "read", params: { path: `${fx.ws}/allowed/x` }, toolCallId: "d1" }, {});
  assert.equal(reply.block, true);
  assert.match(reply.blockReason, /gate unavailable \(sidecar_unreachable\)/);
  hook.gate.close();
});

test("a sidecar that does not answer: blocked, timeout; one that answers nonsense: gate_answer_unreadable", async () => {
  const sockets = new Set();
  const silent = http.createServer(() => {});
  silent.on("connection", (s) => sockets.add(s));
  const garbage = http.createServer((_req, res) => res.end('{"verdict_missing": true}'));
  const listen = (s) => new Promise((r) => s.listen(0, "127.0.0.1", () => r(s.address().port)));
  const [p1, p2] = [await listen(silent), await listen(garbage)];
  try {
    const slow = createHook({ sidecarUrl: `http://127.0.0.1:${p1}`, timeoutMs: 200 });
    const r1 = await slow({ toolName: "read", params: { path: "/x" }, toolCallId: "s1" }, {});
    assert.equal(r1.block, true);
    assert.match(r1.blockReason, /gate unavailable \(timeout\): .*did not answer within 200 ms/);
    slow.gate.close();
    const bad = createHook({ sidecarUrl: `http://127.0.0.1:${p2}` });
    const r2 = await bad({ toolName: "read", params: { path: "/x" }, toolCallId: "s2" }, {});
    assert.equal(r2.block, true);
    assert.match(r2.blockReason, /gate_answer_unreadable/);
    bad.gate.close();
  } finally {
    for (const s of sockets) s.destroy();
    silent.close();
    garbage.close();
  }
});

test("bad configuration blocks every call, naming the problem", async () => {
  const cases = [
    [undefined, /no configuration/],
    [{}, /no gate/],
    [{ bundle: fx.bundle }, /needs `trust`/],
    [{ bundle: fx.bundle, trust: fx.trust, sidecarUrl: "http://127.0.0.1:1" }, /not both/],
    [{ bundle: fx.bundle, trust: fx.trust, workspace: "relative/ws" }, /absolute path/],
    [{ bundle: fx.bundle, trust: fx.trust, riskclass: "low" }, /unknown setting `riskclass`/],
    [{ bundle: fx.bundle, trust: "/nonexistent.pub", transport: "native" }, /config_invalid: .*nonexistent\.pub/],
    [{ bundle: fx.bundle, trust: fx.trust, transport: "native", nativeAddon: "/nonexistent.node" }, /native_unavailable/],
    [{ bundle: fx.bundle, trust: fx.trust, transport: "sidecar", gaitRun: "/nonexistent/gait-run" }, /gate_unavailable/],
  ];
  for (const [cfg, why] of cases) {
    const hook = createHook(cfg);
    const reply = await hook({ toolName: "read", params: { path: "/x" }, toolCallId: "c" }, {});
    assert.equal(reply?.block, true, JSON.stringify(cfg));
    assert.match(reply.blockReason, why, JSON.stringify(cfg));
    hook.gate?.close();
  }
});

test("auto: without the Node binding the plugin decides through a spawned gait-run serve", async () => {
  const hook = createHook({ bundle: fx.bundle, trust: fx.trust, workspace: fx.ws, nativeAddon: "/nonexistent.node", gaitRun: GAIT_RUN });
  try {
    assert.equal(hook.gate.transport, "sidecar");
    assert.equal(await hook({ toolName: "write", params: { path: `${fx.ws}/allowed/a`, content: "" }, toolCallId: "a1" }, {}), undefined);
    assert.equal((await hook({ toolName: "write", params: { path: `${fx.ws}/denied/a`, content: "" }, toolCallId: "a2" }, {})).block, true);
  } finally {
    hook.gate.close();
  }
});

test("skill provenance per tool: matched by name or glob, passed as skill_provenance", async () => {
  const traceDir = fs.mkdtempSync(path.join(fx.root, "trace-skills-"));
  const prov = { skill_name: "web-helper", skill_version: "1.0.0", source: "registry", publisher: "acme" };
  const hook = createHook({ bundle: fx.bundle, trust: fx.trust, workspace: fx.ws, traceDir, skills: { "web_*": prov } });
  await hook({ toolName: "web_fetch", params: { url: "https://example.com/" }, toolCallId: "k1" }, {});
  await hook({ toolName: "read", params: { path: `${fx.ws}/allowed/x` }, toolCallId: "k2" }, {});
  const recs = readRecords(traceDir);
  assert.deepEqual(recs.k1.intent.skill_provenance, prov);
  assert.equal(recs.k2.intent.skill_provenance, undefined);
  assert.deepEqual(recs.k1.result, fx.evalCli(recs.k1.intent).result);
});

test("context: identity, workspace, riskClass and sessionId become the intent's context (session_id only when set)", async () => {
  const traceDir = fs.mkdtempSync(path.join(fx.root, "trace-context-"));
  const base = { bundle: fx.bundle, trust: fx.trust, workspace: fx.ws, identity: "i1", riskClass: "low", traceDir };
  await createHook({ ...base, sessionId: "sess-42" })({ toolName: "read", params: { path: `${fx.ws}/allowed/x` }, toolCallId: "x1" }, {});
  await createHook(base)({ toolName: "read", params: { path: `${fx.ws}/allowed/x` }, toolCallId: "x2" }, {});
  const recs = readRecords(traceDir);
  assert.deepEqual(recs.x1.intent.context, { identity: "i1", workspace: fx.ws, risk_class: "low", session_id: "sess-42" });
  assert.deepEqual(recs.x2.intent.context, { identity: "i1", workspace: fx.ws, risk_class: "low" });
  assert.deepEqual(recs.x1.result, fx.evalCli(recs.x1.intent).result);
  const bad = await createHook({ ...base, sessionId: 7 })({ toolName: "read", params: {}, toolCallId: "x3" }, {});
  assert.match(bad.blockReason, /config_invalid: `sessionId` must be a non-empty string/);
});

test("a record that cannot be written blocks an allowed call (no evidence, no execution)", async () => {
  const file = path.join(fx.root, "not-a-folder");
  fs.writeFileSync(file, "");
  const hook = createHook({ bundle: fx.bundle, trust: fx.trust, workspace: fx.ws, traceDir: file });
  const reply = await hook({ toolName: "write", params: { path: `${fx.ws}/allowed/a`, content: "" }, toolCallId: "w" }, {});
  assert.equal(reply.block, true);
  assert.match(reply.blockReason, /trace_write_failed/);
});

test("record names: safe file names for any tool call id", () => {
  assert.equal(recordName("call_1"), "call_1.json");
  assert.equal(recordName("../../etc/passwd"), "_.._.._etc_passwd.json");
  assert.equal(recordName(""), "_.json");
  assert.equal(recordName("a/b c"), "a_b_c.json");
});

test("std.openclaw: each built-in tool's parameters give the documented endpoint classes", async () => {
  const traceDir = fs.mkdtempSync(path.join(fx.root, "trace-mappings-"));
  const hook = createHook({ bundle: fx.bundle, trust: fx.trust, workspace: fx.ws, riskClass: "low", traceDir, transport: "native" });
  const ws = fx.ws;
  const table = [
    ["read", { path: "allowed/a.md" }, ["fs.read"]],
    ["ls", { path: ws }, ["fs.read"]],
    ["ls", {}, []],
    ["memory_get", { path: "MEMORY.md" }, ["fs.read"]],
    ["write", { path: `${ws}/a`, content: "" }, ["fs.write"]],
    ["edit", { path: `${ws}/a`, edits: [] }, ["fs.write"]],
    ["exec", { command: "ls -la", workdir: ws }, ["proc.exec"]],
    ["process", { action: "write", sessionId: "s", data: "rm -rf /\n" }, ["proc.exec"]],
    ["process", { action: "list" }, []],
    ["terminal", { action: "write", sessionId: "t", data: "id\n" }, ["proc.exec"]],
    ["web_fetch", { url: "https://docs.example.com/a" }, ["net.http"]],
    ["browser", { action: "open", targetUrl: "https://example.com" }, ["net.http"]],
    ["browser", { action: "upload", paths: [`${ws}/a`, `${ws}/b`] }, ["fs.read"]],
    ["canvas", { action: "navigate", url: "https://example.com" }, ["net.http"]],
    ["file_fetch", { node: "n1", path: "/etc/hosts" }, ["fs.read"]],
    ["dir_list", { node: "n1", path: "/srv" }, ["fs.read"]],
    ["file_write", { node: "n1", path: "/srv/x", contentBase64: "" }, ["fs.write"]],
    ["apply_patch", { input: "*** Begin Patch\n*** End Patch" }, []],
  ];
  let i = 0;
  for (const [toolName, params] of table) await hook({ toolName, params, toolCallId: `m${i++}` }, {});
  const recs = readRecords(traceDir);
  table.forEach(([toolName, params, classes], j) => {
    assert.deepEqual(recs[`m${j}`].result.endpoint_classes, classes, `${toolName} ${JSON.stringify(params)}`);
  });
});
