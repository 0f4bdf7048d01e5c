// Decision records, as the Python adapters write them
// (sdk/python/python/gait/_trace.py): one file per decision at
// `<traceDir>/openclaw/<toolCallId>.json` holding `framework` ("openclaw"),
// `tool_call_id`, `intent`, `result` (the gate's result JSON, or null when the
// gate gave none), `executed` (true only when the call was let run) and, when
// the gate failed, `error`. Keys sorted, two-space indent, written to a
// temporary file and linked to its name (atomic and exclusive).
//
// File names as the Python package makes them: an ordinary id (letters,
// digits, `.`, `_`, `-`, not starting with `.`, at most 200) is the name
// itself; any other id is made safe (`_` for the rest, at most 150) and
// gets `~` + 16 hex digits of its SHA-256, so two ids never share a name.
// Never overwritten: a taken name (the same id decided twice) is written as
// `<name>+1.json`, `+2`, … (the first free one).
import fs from "node:fs";
import path from "node:path";
import { createHash, randomBytes } from "node:crypto";

export const FRAMEWORK = "openclaw";

const ORDINARY = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$/;
const MAX_SUFFIX = 10000;

/** The file name of the record of a tool call id (see above). */
export function recordName(toolCallId) {
  const id = String(toolCallId);
  if (ORDINARY.test(id)) return id + ".json";
  const digest = createHash("sha256").update(id, "utf8").digest("hex").slice(0, 16);
  let name = id.replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 150);
  if (name === "" || name.startsWith(".")) name = "_" + name;
  return `${name}~${digest}.json`;
}

function sorted(v) {
  if (Array.isArray(v)) return v.map(sorted);
  if (v !== null && typeof v === "object") {
    const out = {};
    for (const k of Object.keys(v).sort()) out[k] = sorted(v[k]);
    return out;
  }
  return v;
}

/** Writes the record; returns its path. Throws when it cannot be written. */
export function writeRecord(traceDir, toolCallId, intent, result, executed, error) {
  const folder = path.join(traceDir, FRAMEWORK);
  fs.mkdirSync(folder, { recursive: true });
  const record = {
    framework: FRAMEWORK,
    tool_call_id: toolCallId,
    intent: intent ?? null,
    result: result ?? null,
    executed: executed === true,
  };
  if (error) record.error = error;
  const base = recordName(toolCallId).slice(0, -".json".length);
  const data = JSON.stringify(sorted(record), null, 2) + "\n";
  const tmp = path.join(folder, `.record-${randomBytes(6).toString("hex")}.tmp`);
  fs.writeFileSync(tmp, data, { flag: "wx" });
  try {
    for (let n = 0; n < MAX_SUFFIX; n++) {
      const file = path.join(folder, n === 0 ? `${base}.json` : `${base}+${n}.json`);
      try {
        fs.linkSync(tmp, file);
        return file;
      } catch (e) {
        if (e.code === "EEXIST") continue;
        // A file system without hard links: create exclusively.
        try {
          fs.writeFileSync(file, data, { flag: "wx" });
          return file;
        } catch (e2) {
          if (e2.code === "EEXIST") continue;
          throw e2;
        }
      }
    }
    throw new Error(`${folder}: no free record name for ${JSON.stringify(String(toolCallId))}`);
  } finally {
    try {
      fs.unlinkSync(tmp);
    } catch {}
  }
}
