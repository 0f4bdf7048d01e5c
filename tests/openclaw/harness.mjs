// Runs the real `openclaw agent --local` once, offline: its own HOME (fresh
// state, a fresh session id), the loopback mock model scripting the tool
// calls, and the gait-gate plugin loaded from sdk/openclaw by path.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { startMock } from "./mock_openai.mjs";

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const ADAPTERS = process.env.GAIT_ADAPTERS ?? path.join(ROOT, "target/adapters");
export const OPENCLAW = path.join(ADAPTERS, "bin/openclaw");
export const PLUGIN_DIR = path.join(ROOT, "sdk/openclaw");

// Where a run's time goes, besides the agent loop (`node --cpu-prof` on
// `openclaw agent --local`): OpenClaw restarts itself once, and starts worker
// threads (its SQLite state, session and transcript stores; the memory
// plugin's index and search; the session disk budget), each loading ~1000
// modules. Only how the process starts and two services no test reaches are
// changed here; the agent loop, the plugin hooks and the tools are not.
//
// - NODE_OPTIONS --disable-warning=ExperimentalWarning: the flag OpenClaw's
//   entry respawns itself to add (dist/entry.respawn-*: the CLI re-executes
//   itself when it is missing). Given here, the first process runs the
//   agent, with the same flag, and the respawn is not paid.
// - NODE_COMPILE_CACHE: OpenClaw enables Node's compile cache with
//   module.enableCompileCache() in its main thread, which does not reach
//   worker threads; it passes the folder on to its SQLite store workers only,
//   the others (session, transcript, state-read...) compile every module
//   again, each run. From the environment the cache reaches them all.
//   OPENCLAW_PACKAGED_COMPILE_CACHE_RESPAWNED tells openclaw.mjs that the
//   cache folder is chosen (else it respawns to move it under
//   openclaw/<version>/); nothing else reads it. The cache holds V8 code of
//   files it checks by content hash: what runs is the same.
const RUN_ENV = {
  NODE_OPTIONS: [process.env.NODE_OPTIONS, "--disable-warning=ExperimentalWarning"].filter(Boolean).join(" "),
  NODE_COMPILE_CACHE: process.env.NODE_COMPILE_CACHE || path.join(os.tmpdir(), "node-compile-cache"),
  OPENCLAW_PACKAGED_COMPILE_CACHE_RESPAWNED: "1",
};
// - plugins.slots.memory "none": no memory
//   plugin (memory-core: indexing and search workers, its prompt section,
//   memory_search/memory_get tools; its hooks are before_prompt_build and
//   before_agent_reply, none on a tool call). The tests' tools (write, exec,
//   tool_call, a test plugin's) and every plugin's before_tool_call run as
//   without it. OpenClaw's own tests run with this slot off.
// - session.maintenance.mode "warn": OpenClaw's session housekeeping (prune
//   old sessions, cap their number, keep the sessions folder under its disk
//   budget) reports instead of acting, so it starts no planning workers
//   (two session-archive workers and a disk-budget one, ~1 s CPU each). A
//   fresh HOME holds this run's one session: nothing to prune. The session
//   and transcript writes of the run itself are the same.
const RUN_CONFIG = {
  session: { maintenance: { mode: "warn" } },
};

/**
 * @param {object} o
 * @param {Array<{id,name,arguments}>} o.toolCalls  the model's tool calls
 * @param {object|undefined} o.pluginConfig  plugins.entries["gait-gate"].config (undefined: plugin not loaded)
 * @param {string} o.workspace  the agent's workspace
 * @param {string} [o.home]  HOME for the run (default: a fresh temporary folder, removed afterwards)
 * @param {object} [o.extraConfig]  merged into openclaw.json at the top level
 * @param {Array<{dir,id,config}>} [o.extraPlugins]  other plugins loaded beside gait-gate
 * @returns {Promise<{code, stdout, stderr, json, requests, home}>}
 */
export async function runAgent({ toolCalls, pluginConfig, workspace, home, extraConfig, extraPlugins = [], pluginDir = PLUGIN_DIR, message = "go", timeoutMs = 240000 }) {
  const ownHome = home === undefined;
  home ??= fs.mkdtempSync(path.join(os.tmpdir(), "gait-openclaw-home-"));
  fs.mkdirSync(path.join(home, ".openclaw"), { recursive: true });
  const log = path.join(home, "model-requests.jsonl");
  const mock = await startMock({ script: { tool_calls: toolCalls }, log });
  const config = {
    models: {
      mode: "merge",
      providers: {
        mock: {
          baseUrl: mock.url,
          apiKey: "offline",
          api: "openai-completions",
          models: [
            {
              id: "m1",
              name: "scripted",
              reasoning: false,
              input: ["text"],
              contextWindow: 128000,
              maxTokens: 4096,
              cost: { input: 0, output: 0, cacheRead: 0, cacheWrite: 0 },
            },
          ],
        },
      },
    },
    agents: { defaults: { model: { primary: "mock/m1" }, workspace } },
    ...RUN_CONFIG,
    plugins: { slots: { memory: "none" } },
    ...(extraConfig ?? {}),
  };
  if (pluginConfig !== undefined || extraPlugins.length > 0) {
    config.plugins = { ...config.plugins, load: { paths: [] }, entries: {} };
    if (pluginConfig !== undefined) {
      config.plugins.load.paths.push(pluginDir);
      config.plugins.entries["gait-gate"] = { enabled: true, config: pluginConfig };
    }
    for (const p of extraPlugins) {
      config.plugins.load.paths.push(p.dir);
      config.plugins.entries[p.id] = { enabled: true, config: p.config ?? {} };
    }
  }
  fs.writeFileSync(path.join(home, ".openclaw/openclaw.json"), JSON.stringify(config, null, 2));
  const sessionId = `s-${process.pid}-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
  const args = ["agent", "--local", "--agent", "main", "--session-id", sessionId, "--message", message, "--json"];
  const env = { ...process.env, ...RUN_ENV, HOME: home, NO_COLOR: "1", OPENCLAW_HOME: undefined };
  delete env.OPENCLAW_HOME;
  try {
    const { code, stdout, stderr } = await new Promise((resolve, reject) => {
      const child = spawn(OPENCLAW, args, { env, stdio: ["ignore", "pipe", "pipe"], detached: true });
      let stdout = "";
      let stderr = "";
      child.stdout.on("data", (d) => (stdout += d));
      child.stderr.on("data", (d) => (stderr += d));
      const timer = setTimeout(() => {
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {}
        reject(new Error(`openclaw agent did not finish within ${timeoutMs} ms\n${stderr.slice(-4000)}`));
      }, timeoutMs);
      child.on("error", reject);
      child.on("close", (code) => {
        clearTimeout(timer);
        // The agent may leave helpers (its worker) behind: end its group.
        try {
          process.kill(-child.pid, "SIGKILL");
        } catch {}
        resolve({ code, stdout, stderr });
      });
    });
    let json = null;
    try {
      json = JSON.parse(stdout);
    } catch {}
    const requests = fs.existsSync(log)
      ? fs.readFileSync(log, "utf8").trim().split("\n").filter(Boolean).map((l) => JSON.parse(l))
      : [];
    return { code, stdout, stderr, json, requests, home };
  } finally {
    await mock.close();
    // A HOME made here holds only OpenClaw's state of this run.
    if (ownHome) fs.rmSync(home, { recursive: true, force: true });
  }
}

/** The tool messages the model received, by tool call id (OpenClaw may
 * rewrite ids: `call_1` is sent back as `call1`). */
export function toolResults(requests) {
  const last = requests[requests.length - 1];
  const out = {};
  for (const m of last?.messages ?? []) {
    if (m.role !== "tool") continue;
    const text = typeof m.content === "string" ? m.content : (m.content ?? []).map((p) => p.text ?? "").join("");
    out[m.tool_call_id] = text;
  }
  return out;
}
