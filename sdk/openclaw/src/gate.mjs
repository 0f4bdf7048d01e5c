// Gate transports. Every one answers `decide(intentText)` with
// `{result, error}`: `result` is the gate's result JSON (runtime.md §7) when
// the gate gave one, `error` a stable code and message when it did not (or
// when what it gave cannot be trusted). Only `result.verdict === "allow"`
// with no `error` lets a call run.
//
// - native:  the runtime in process, through the Node binding (sdk/node,
//            napi-rs): no process or socket per call.
// - sidecar: `gait-run serve` over keep-alive HTTP, at `sidecarUrl` or
//            spawned by the plugin on a loopback port for `bundle`.
// Error codes (as the Python package's GateUnavailable codes where they
// overlap): sidecar_unreachable (the sidecar cannot be reached), timeout (it
// does not answer within `timeoutMs`), gate_unavailable (a spawned sidecar that could
// not start or exited), gate_timeout, gate_answer_unreadable,
// gate_answer_untrusted (a sidecar's allow that is not verified, see
// `untrusted`), gate_answer_unauthenticated (an answer without the MAC of
// the answer key, see `sidecarGate`), native_unavailable, bundle_* (the runtime's rejection codes: a rejected
// bundle decides nothing), config_invalid.
import { createRequire } from "node:module";
import { spawn } from "node:child_process";
import { createHash, createHmac, randomBytes, timingSafeEqual } from "node:crypto";
import http from "node:http";
import https from "node:https";
import os from "node:os";
import path from "node:path";

const require = createRequire(import.meta.url);
const MAX_ANSWER_BYTES = 1 << 20;

export class GateError extends Error {
  constructor(code, message) {
    super(`${code}: ${message}`);
    this.code = code;
    this.detail = message;
  }
}

function readResult(text, where) {
  let result;
  try {
    result = JSON.parse(text);
  } catch {
    throw new GateError("gate_answer_unreadable", `${where} answered something that is not JSON`);
  }
  if (result === null || typeof result !== "object" || typeof result.verdict !== "string") {
    throw new GateError("gate_answer_unreadable", `${where} answered JSON without a verdict`);
  }
  return result;
}

const SCHEMA_ID = "gait.gate.result";

/** Why a sidecar's answer must not let a call run, or null when it may:
 * HTTP 200, a `gait.gate.result` with `ok: true`, `bundle_verified: true`,
 * verdict `allow` and, when `pin` is set, that policy digest. An answer that
 * is not an allow needs no check: it blocks. An allow that fails the check is
 * no decision (GateError `gate_answer_untrusted`, as the Python package
 * raises GateUnavailable for an allow it cannot trust): no result is
 * recorded. */
export function untrusted(status, result, pin) {
  if (result?.verdict !== "allow") return null;
  const why = [];
  if (status !== 200) why.push(`HTTP status ${status}`);
  if (result.schema_id !== SCHEMA_ID) why.push(`schema_id is not ${SCHEMA_ID}`);
  if (result.ok !== true) why.push("ok is not true");
  if (result.bundle_verified !== true) why.push("bundle_verified is not true");
  if (pin !== undefined && result.policy?.digest !== pin) why.push(`policy digest is not the pinned ${pin}`);
  return why.length === 0 ? null : `an allow the gate cannot vouch for (${why.join(", ")})`;
}

/** The default location of the Node binding, beside this package. */
export const DEFAULT_ADDON = new URL("../native/gait_node.node", import.meta.url).pathname;

/** In process. Throws GateError("native_unavailable") when the binding
 * cannot be loaded, and a plain error on a usage error (unreadable key). */
export function nativeGate(cfg) {
  let addon;
  const file = cfg.nativeAddon ?? DEFAULT_ADDON;
  try {
    addon = require(file);
  } catch (e) {
    throw new GateError("native_unavailable", `cannot load the Node binding ${file}: ${e.message}`);
  }
  const g = addon.Gate.open({
    bundle: cfg.bundle,
    trust: cfg.trust,
    pin: cfg.pin,
    minRevision: cfg.minRevision,
    decisionTimeoutMs: cfg.decisionTimeoutMs,
  });
  return {
    transport: "native",
    ok: g.ok,
    // A rejected bundle still answers: the runtime's own block result with
    // the rejection code, exactly as `gait-run eval` prints it.
    rejection: g.ok ? null : `${g.rejectionCode}: ${g.rejectionMessage}`,
    ready: Promise.resolve(),
    // A rejected bundle decides nothing: every call is refused with the
    // bundle's rejection code (the code `gait-run eval` answers for it), as
    // the Python package's Gate.load refuses it — no result is recorded.
    async decide(text) {
      if (!g.ok) throw new GateError(g.rejectionCode, g.rejectionMessage);
      return { result: readResult(g.evaluate(text), "the gate"), error: null };
    },
    decideSync(text) {
      return readResult(g.evaluate(text), "the gate");
    },
    close() {},
  };
}

/** The status at which `gait-run serve` refuses a body the plugin sends
 * without reading it (413: over its cap), its answer MAC covering the
 * digest of no body. Never an allow. (Its other unread refusals — 415 not
 * JSON, 408 not received in time, 400 unreadable — cannot answer a body
 * the plugin sent whole as JSON: believing them would let a relay that
 * sent the sidecar another request pass its genuine refusal off as this
 * one's.) */
const UNREAD_BODY_STATUSES = [413];

/** The MAC `gait-run serve --answer-key-env` puts on an answer: hex
 * HMAC-SHA256 under the key of `gait.answer.v2`, the request's nonce,
 * method, endpoint path, the hex SHA-256 of its body and the answer's
 * status (each followed by a line feed), then the answer's body. */
export function answerMac(key, { nonce, method, path, body: sent }, status, body) {
  const read = createHash("sha256").update(sent ?? Buffer.alloc(0)).digest("hex");
  return createHmac("sha256", key)
    .update(`gait.answer.v2\n${nonce}\n${method}\n${path}\n${read}\n${status}\n`)
    .update(body)
    .digest("hex");
}

/** A `gait-run serve` at `base` (http[s]://host:port), over keep-alive.
 * With `answerKey` (the secret the sidecar was started with,
 * `--answer-key-env`), every request carries a fresh `gait-nonce` and an
 * answer counts only with the `gait-answer-mac` of that nonce, its status
 * and body under the key (GateError `gate_answer_unauthenticated`
 * otherwise): a process that takes the sidecar's address cannot answer for
 * it. */
export function sidecarGate(base, { token, timeoutMs, child, pin, answerKey } = {}) {
  const url = new URL("/v1/eval", base);
  const mod = url.protocol === "https:" ? https : http;
  const agent = new mod.Agent({ keepAlive: true, maxSockets: 8 });
  const headers = { "content-type": "application/json" };
  if (token) headers.authorization = `Bearer ${token}`;
  function authenticate(request, res, raw) {
    if (!answerKey) return;
    const given = res.headers["gait-answer-mac"];
    const got = Buffer.from(typeof given === "string" ? given.trim().toLowerCase() : "", "utf8");
    const matches = (read) => {
      const want = Buffer.from(answerMac(answerKey, { ...request, body: read }, res.statusCode, raw), "utf8");
      return got.length === want.length && timingSafeEqual(got, want);
    };
    // The refusal of a body over the sidecar's cap, unread, is MAC'd over
    // the digest of no body; it is never an allow, so it is believed as the
    // refusal it is.
    const unread = UNREAD_BODY_STATUSES.includes(res.statusCode) && matches(Buffer.alloc(0));
    if (!matches(request.body) && !unread) {
      throw new GateError(
        "gate_answer_unauthenticated",
        `the answer of ${base} (HTTP ${res.statusCode}) ${given === undefined ? "has no" : "has a wrong"} gait-answer-mac: not the sidecar holding the answer key`,
      );
    }
  }
  function post(text) {
    return new Promise((resolve, reject) => {
      const body = Buffer.from(text, "utf8");
      const nonce = answerKey ? randomBytes(18).toString("base64url") : "";
      const req = mod.request(url, {
        method: "POST",
        agent,
        headers: { ...headers, "content-length": body.length, ...(answerKey ? { "gait-nonce": nonce } : {}) },
      });
      // The whole request (connecting, sending, the answer) within timeoutMs.
      const timer = setTimeout(
        () => req.destroy(new GateError("timeout", `the sidecar at ${base} did not answer within ${timeoutMs} ms`)),
        timeoutMs,
      );
      timer.unref?.();
      req.on("close", () => clearTimeout(timer));
      req.on("error", (e) =>
        reject(e instanceof GateError ? e : new GateError("sidecar_unreachable", `the sidecar at ${base} is unreachable: ${e.message}`)),
      );
      req.on("response", (res) => {
        const parts = [];
        let size = 0;
        res.on("data", (d) => {
          size += d.length;
          if (size > MAX_ANSWER_BYTES) {
            req.destroy(new GateError("gate_answer_unreadable", "the sidecar's answer is too large"));
          } else parts.push(d);
        });
        res.on("error", (e) => reject(new GateError("gate_unavailable", `the sidecar's answer broke off: ${e.message}`)));
        res.on("end", () => {
          const raw = Buffer.concat(parts);
          const text = raw.toString("utf8");
          try {
            authenticate({ nonce, method: "POST", path: "/v1/eval", body }, res, raw);
            // Every status other than 200 carries a block result (or, for
            // 401, none: unreadable). Either way only `allow` runs the call.
            resolve({ status: res.statusCode, result: readResult(text, `the sidecar (HTTP ${res.statusCode})`) });
          } catch (e) {
            reject(e);
          }
        });
      });
      req.end(body);
    });
  }
  return {
    transport: "sidecar",
    ok: true,
    rejection: null,
    ready: Promise.resolve(),
    /** The sidecar's address, and the spawned `gait-run serve` if this gate spawned it. */
    base,
    /** Whether every answer must carry the MAC of its request (`answerKey`). */
    authenticated: Boolean(answerKey),
    child: child ?? null,
    async decide(text) {
      // A sidecar killed by a signal has no exit code, only a signal code:
      // either way its port is free for any other process to answer on.
      if (child && (child.exitCode !== null || child.signalCode !== null)) {
        throw new GateError("gate_unavailable", `the spawned sidecar exited (${child.exitCode !== null ? `code ${child.exitCode}` : `signal ${child.signalCode}`})`);
      }
      const { status, result } = await post(text);
      const why = untrusted(status, result, pin);
      if (why !== null) throw new GateError("gate_answer_untrusted", why);
      return { result, error: null };
    },
    close() {
      agent.destroy();
      if (child && child.exitCode === null && child.signalCode === null) child.kill();
    },
  };
}

/** Spawns `gait-run serve` for the bundle on a free loopback port; resolves
 * to a sidecar gate once it listens, rejects with the bundle's rejection
 * code (or gate_unavailable) when it does not start. */
export function spawnSidecar(cfg, logger) {
  // A key of its own for each spawned sidecar: only it can answer on its
  // port, even once it has exited and another process binds the port.
  const answerKey = randomBytes(32).toString("base64url");
  const args = ["serve", "--bundle", cfg.bundle, "--answer-key-env", "GAIT_ANSWER_KEY"];
  for (const t of cfg.trust) args.push("--trust", t);
  if (cfg.pin) args.push("--pin", cfg.pin);
  if (cfg.minRevision !== undefined) args.push("--min-revision", String(cfg.minRevision));
  if (cfg.decisionTimeoutMs !== undefined) args.push("--decision-timeout-ms", String(cfg.decisionTimeoutMs));
  args.push("--listen", "127.0.0.1:0", "--workers", "1", "--log", os.devNull);
  return new Promise((resolve, reject) => {
    let child;
    try {
      child = spawn(cfg.gaitRun, args, { stdio: ["ignore", "pipe", "pipe"], env: { ...process.env, GAIT_ANSWER_KEY: answerKey } });
    } catch (e) {
      reject(new GateError("gate_unavailable", `cannot start ${cfg.gaitRun}: ${e.message}`));
      return;
    }
    let out = "";
    let err = "";
    let settled = false;
    const kill = () => {
      if (child.exitCode === null && child.signalCode === null) child.kill();
    };
    process.once("exit", kill);
    child.on("error", (e) => {
      if (!settled) {
        settled = true;
        reject(new GateError("gate_unavailable", `cannot start ${cfg.gaitRun}: ${e.message}`));
      }
    });
    child.stderr.setEncoding("utf8");
    child.stderr.on("data", (d) => {
      if (err.length < 4096) err += d;
    });
    child.stdout.setEncoding("utf8");
    child.stdout.on("data", (d) => {
      out += d;
      if (settled) return;
      const line = out.split("\n").find((l) => l.includes('"listening"'));
      if (!line) return;
      try {
        const addr = JSON.parse(line).listening;
        settled = true;
        // The sidecar must not keep OpenClaw alive, nor die with a full pipe.
        child.unref();
        child.stdout.unref?.();
        child.stderr.unref?.();
        resolve(sidecarGate(`http://${addr}`, { timeoutMs: cfg.timeoutMs, child, pin: cfg.pin, answerKey }));
      } catch {}
    });
    // `close`, not `exit`: only then has everything it printed been read.
    child.on("close", (code) => {
      process.removeListener("exit", kill);
      if (settled) {
        logger?.error?.(`gait-gate: the spawned sidecar exited (code ${code}); every tool call is blocked from now on`);
        return;
      }
      settled = true;
      let why;
      try {
        why = JSON.parse(out.trim().split("\n")[0]);
      } catch {}
      if (why && typeof why.code === "string") reject(new GateError(why.code, why.error ?? `gait-run serve exited ${code}`));
      else reject(new GateError("gate_unavailable", `gait-run serve exited ${code} before listening: ${err.trim()}`));
    });
  });
}

/** The gate a configuration asks for. `ready` settles when it can decide;
 * a gate that cannot be had decides every call as an error. */
export function openGate(cfg, logger) {
  if (cfg.sidecarUrl) {
    return sidecarGate(cfg.sidecarUrl, { token: cfg.sidecarToken, timeoutMs: cfg.timeoutMs, pin: cfg.pin, answerKey: cfg.sidecarAnswerKey });
  }
  if (cfg.transport !== "sidecar") {
    try {
      return nativeGate(cfg);
    } catch (e) {
      if (!(e instanceof GateError) || cfg.transport === "native") throw e;
      // Not whatever `gait-run` comes first on PATH: only the one named.
      if (!cfg.gaitRunExplicit || !path.isAbsolute(cfg.gaitRun)) {
        throw new GateError(
          "native_unavailable",
          `${e.message.replace(/^native_unavailable: /, "")}; set \`gaitRun\` to the absolute path of gait-run to decide through a spawned sidecar instead`,
        );
      }
      logger?.warn?.(`gait-gate: ${e.message}; deciding through a spawned gait-run serve instead`);
    }
  }
  // Spawned at the first decision, not at registration: OpenClaw may
  // register a plugin more than once per process (inspection, runtime), and
  // only the registration that decides calls needs a sidecar.
  let starting = null;
  const start = () => {
    if (!starting) {
      starting = spawnSidecar(cfg, logger);
      starting.catch((e) => logger?.error?.(`gait-gate: ${e.message}; every tool call is blocked`));
    }
    return starting;
  };
  return {
    transport: "sidecar",
    ok: true,
    rejection: null,
    get ready() {
      return start().then(() => undefined);
    },
    async decide(text) {
      const gate = await start();
      return gate.decide(text);
    },
    close() {
      starting?.then((g) => g.close(), () => {});
    },
  };
}
