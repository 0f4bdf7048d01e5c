// Decision records, as the Python adapters write them
// (sdk/python/python/gait/_trace.py): one file per decision at
// `<traceDir>/openclaw/<toolCallId>.json` holding `framework` ("openclaw"),
// `tool_call_id`, `intent`, `result` (the gate's result JSON, or null when the
// gate gave none), `executed` (true only when the call was let run) and, when
// the gate failed, `error`. Keys sorted, two-space indent, written to a
// temporary file and renamed into place.
import fs from "node:fs";
import path from "node:path";
import { randomBytes } from "node:crypto";

export const FRAMEWORK = "openclaw";

/** A file name for a tool call id: anything but letters, digits, `.`, `_`
 * and `-` becomes `_`; never hidden, never `..`; at most 200 characters. */
export function recordName(toolCallId) {
  let name = String(toolCallId).replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 200);
  if (name === "" || name.startsWith(".")) name = "_" + name;
  return name + ".json";
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
  const file = path.join(folder, recordName(toolCallId));
  const tmp = path.join(folder, `.record-${randomBytes(6).toString("hex")}.tmp`);
  try {
    fs.writeFileSync(tmp, JSON.stringify(sorted(record), null, 2) + "\n", { flag: "wx" });
    fs.renameSync(tmp, file);
  } catch (e) {
    try {
      fs.unlinkSync(tmp);
    } catch {}
    throw e;
  }
  return file;
}
