// What the OpenClaw tests share: a temporary folder with a workspace
// (`ws/allowed`, `ws/denied`), tests/openclaw/policy.gaitpol.in built and
// signed with a throw-away key, a tampered copy of the bundle, and
// `gait-run eval` on the same bundle — the reference every decision of the
// plugin is compared with.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const TARGET = process.env.CARGO_TARGET_DIR ?? path.join(ROOT, "target");
export const GAITC = process.env.GAITC ?? path.join(TARGET, "debug/gaitc");
export const GAIT_RUN = process.env.GAIT_RUN ?? path.join(TARGET, "debug/gait-run");

function run(cmd, args, input) {
  const r = spawnSync(cmd, args, { input, encoding: "utf8" });
  if (r.error) throw r.error;
  return r;
}

function must(cmd, args) {
  const r = run(cmd, args);
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}: ${r.stderr}${r.stdout}`);
  return r.stdout;
}

export function makeFixture() {
  const root = fs.realpathSync(fs.mkdtempSync(path.join(os.tmpdir(), "gait-openclaw-")));
  const ws = path.join(root, "ws");
  fs.mkdirSync(path.join(ws, "allowed"), { recursive: true });
  fs.mkdirSync(path.join(ws, "denied"), { recursive: true });
  const src = fs.readFileSync(path.join(ROOT, "tests/openclaw/policy.gaitpol.in"), "utf8").replaceAll("@ROOT@", root);
  fs.writeFileSync(path.join(root, "policy.gaitpol"), src);
  must(GAITC, ["keygen", "--out", path.join(root, "release")]);
  const bundle = path.join(root, "policy.gaitb");
  must(GAITC, ["build", path.join(root, "policy.gaitpol"), "-o", bundle, "--key", path.join(root, "release.key")]);
  const trust = path.join(root, "release.pub");
  // One payload byte changed: the payload digest no longer matches.
  const bytes = fs.readFileSync(bundle);
  bytes[bytes.length - 1] ^= 0x01;
  const tampered = path.join(root, "tampered.gaitb");
  fs.writeFileSync(tampered, bytes);

  /** `gait-run eval` on an intent: {code, result}. */
  // The intent goes in a file: with a rejected bundle gait-run answers
  // without reading its input.
  let k = 0;
  function evalCli(intent, bundlePath = bundle, extra = []) {
    const file = path.join(root, `intent-${(k += 1)}.json`);
    fs.writeFileSync(file, JSON.stringify(intent));
    const r = run(GAIT_RUN, ["eval", "--bundle", bundlePath, "--trust", trust, "--intent", file, ...extra]);
    fs.rmSync(file);
    return { code: r.status, result: JSON.parse(r.stdout) };
  }
  return {
    root,
    ws,
    bundle,
    trust,
    tampered,
    evalCli,
    cleanup: () => fs.rmSync(root, { recursive: true, force: true }),
  };
}

/** The decision records of a trace folder, by tool call id. */
export function readRecords(traceDir) {
  const dir = path.join(traceDir, "openclaw");
  const out = {};
  if (!fs.existsSync(dir)) return out;
  for (const f of fs.readdirSync(dir)) {
    if (!f.endsWith(".json")) continue;
    const rec = JSON.parse(fs.readFileSync(path.join(dir, f), "utf8"));
    out[rec.tool_call_id] = rec;
  }
  return out;
}

/** Starts `gait-run serve` on a free loopback port: {url, stop}. */
export async function startSidecar(bundle, trust, { answerKey, extra = [] } = {}) {
  const { spawn } = await import("node:child_process");
  const args = ["serve", "--bundle", bundle, "--trust", trust, "--listen", "127.0.0.1:0", "--log", os.devNull, ...extra];
  if (answerKey) args.push("--answer-key-env", "GAIT_TEST_ANSWER_KEY");
  const child = spawn(GAIT_RUN, args, {
    stdio: ["ignore", "pipe", "inherit"],
    env: answerKey ? { ...process.env, GAIT_TEST_ANSWER_KEY: answerKey } : process.env,
  });
  const addr = await new Promise((resolve, reject) => {
    let out = "";
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (d) => {
      out += d;
      const line = out.split("\n").find((l) => l.includes("listening"));
      if (line) resolve(JSON.parse(line).listening);
    });
    child.on("exit", (code) => reject(new Error(`gait-run serve exited ${code}: ${out}`)));
  });
  return {
    url: `http://${addr}`,
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.on("exit", () => resolve());
        child.kill("SIGTERM");
      }),
  };
}

/** A loopback port with nothing listening (bound, then closed). */
export async function closedPort() {
  const net = await import("node:net");
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}
