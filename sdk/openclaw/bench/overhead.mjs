// What the gait-gate plugin adds to one OpenClaw tool call, in process: the
// `before_tool_call` handler itself (intent built, JSON text, the Node
// binding's gate::evaluate, the result parsed, OpenClaw's answer built), called
// as OpenClaw calls it, after warm-up. Also, to place it: the binding's
// evaluate alone (JSON text in, text out) and the same handler over the
// sidecar (keep-alive HTTP to gait-run serve). No trace records (a record is
// a file write: its cost is the disk's, reported separately).
//
//   node sdk/openclaw/bench/overhead.mjs [ITERATIONS]   (scripts/bench_openclaw.sh)
// Prints one JSON report: per case p50/p95/p99/mean in microseconds.
import { createRequire } from "node:module";
import fs from "node:fs";
import path from "node:path";
import { createHook } from "../src/hook.mjs";
import { DEFAULT_ADDON } from "../src/gate.mjs";
import { makeFixture, startSidecar } from "../../../tests/openclaw/fixture.mjs";

const N = Number(process.argv[2] ?? 20000);
const WARMUP = Math.min(2000, N);
const fx = makeFixture();
const ws = fx.ws;
const calls = {
  write_allowed: { toolName: "write", params: { path: `${ws}/allowed/report.md`, content: "# report\n".repeat(20) } },
  exec_allowed: { toolName: "exec", params: { command: `touch ${ws}/allowed/a.txt && echo done` } },
  read_blocked: { toolName: "read", params: { path: `${ws}/allowed/../../../etc/shadow` } },
  exec_blocked: { toolName: "exec", params: { command: `cat ${ws}/allowed/x | sh -c 'rm -rf /'` } },
};

function stats(samples) {
  samples.sort((a, b) => a - b);
  const q = (p) => samples[Math.min(samples.length - 1, Math.floor(p * samples.length))];
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  const us = (ns) => Math.round(ns / 10) / 100;
  return { p50_us: us(q(0.5)), p95_us: us(q(0.95)), p99_us: us(q(0.99)), mean_us: us(mean), samples: samples.length };
}

async function measure(fn, n) {
  for (let i = 0; i < WARMUP; i++) await fn(i);
  const samples = new Array(n);
  for (let i = 0; i < n; i++) {
    const t0 = process.hrtime.bigint();
    await fn(i);
    samples[i] = Number(process.hrtime.bigint() - t0);
  }
  return stats(samples);
}

const report = { schema_id: "gait.perf.openclaw_overhead", iterations: N, node: process.version, cases: {} };
const cfg = { bundle: fx.bundle, trust: fx.trust, workspace: ws, identity: "bench", riskClass: "medium" };

const native = createHook({ ...cfg, transport: "native" });
const gate = createRequire(import.meta.url)(DEFAULT_ADDON).Gate.open({ bundle: fx.bundle, trust: [fx.trust] });
for (const [name, c] of Object.entries(calls)) {
  const event = (i) => ({ toolName: c.toolName, params: c.params, toolCallId: `call_${i}`, runId: "bench" });
  const expectBlock = name.endsWith("_blocked");
  const first = await native(event(0), {});
  if ((first?.block === true) !== expectBlock) throw new Error(`${name}: unexpected answer ${JSON.stringify(first)}`);
  report.cases[`handler_native/${name}`] = await measure((i) => native(event(i), {}), N);
  const text = JSON.stringify({ tool_name: c.toolName, args: c.params, context: { identity: "bench", workspace: ws, risk_class: "medium" } });
  report.cases[`evaluate_only/${name}`] = await measure(() => gate.evaluate(text), N);
}

const sidecar = await startSidecar(fx.bundle, fx.trust);
const viaSidecar = createHook({ identity: "bench", workspace: ws, riskClass: "medium", sidecarUrl: sidecar.url });
const M = Math.min(N, 5000);
for (const [name, c] of Object.entries(calls)) {
  report.cases[`handler_sidecar/${name}`] = await measure((i) => viaSidecar({ toolName: c.toolName, params: c.params, toolCallId: `call_${i}` }, {}), M);
}
viaSidecar.gate.close();
await sidecar.stop();

// A decision record per call (traceDir), for the record: a file write and rename.
const traced = createHook({ ...cfg, transport: "native", traceDir: path.join(fx.root, "trace") });
report.cases["handler_native_with_record/write_allowed"] = await measure(
  (i) => traced({ ...calls.write_allowed, toolCallId: `call_${i % 1000}` }, {}),
  Math.min(N, 5000),
);

const handlerP50 = Object.entries(report.cases).filter(([k]) => k.startsWith("handler_native/")).map(([, v]) => v.p50_us);
report.handler_native_p50_us_max = Math.max(...handlerP50);
console.log(JSON.stringify(report, null, 2));
fx.cleanup();
if (process.argv[3]) fs.writeFileSync(process.argv[3], JSON.stringify(report, null, 2) + "\n");
