// An OpenClaw tool call as a Gait intent (runtime.md §2):
//   {tool_name, args, context: {identity, workspace, risk_class, session_id?}, skill_provenance?}
// The tool's parameters are passed as `args`; the policy's tool mappings
// (`import std.openclaw`) derive the targets from them. Nothing is dropped or
// renamed, so an adapter bug cannot hide an argument from the gate. What is
// changed, so that the gate judges what OpenClaw will really act on:
//
// - path spellings OpenClaw's file tools rewrite (`@/abs`, `@~/x`, `~/x`,
//   `file:///x`: OpenClaw's path-utils `expandPath`) are resolved exactly as
//   OpenClaw resolves them; a spelling whose target depends on the file
//   system (`@name`: OpenClaw keeps the `@` when `./@name` exists) or that
//   cannot be resolved is refused;
// - `tool_call` (Tool Search) is decided as the tool it calls;
// - `apply_patch` gets OpenClaw's own resolved targets (`event.derivedPaths`)
//   as `gait_derived_paths`, `pdf` and `view_image` their paths and URLs
//   apart, each read as the tool reads it (`gait_pdf_paths`,
//   `gait_pdf_urls`, `gait_image_paths`, `gait_image_urls`);
// - the repairs OpenClaw's tools make to a model's malformed arguments before
//   they act (a trailing `</arg_value>>` stripped, `.docxcodex` made `.docx`:
//   its stripMalformedXmlArgValueSuffix and
//   normalizeHallucinatedOfficePathExtension) are made here too, where the
//   tool makes them (`read`, `write`, `edit` paths; `exec`'s `command`,
//   `workdir`, `host`, `ask`, `node`); a path another tool would be given
//   repaired or not is refused;
// - `exec`'s `env` (variables the command runs with: `TAR_OPTIONS`,
//   `GIT_PAGER` choose what runs) is decided with the command: the line
//   `K='v'; …; COMMAND` as `gait_exec_env_command`;
// - calls that cannot be read as the gate needs (code-mode `exec`, process
//   input given as hex bytes) are refused.
// A refusal is an IntentRefusal: the call is blocked with its code and reason.
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export class IntentRefusal extends Error {
  constructor(code, message) {
    super(`${code}: ${message}`);
    this.code = code;
  }
}

function isPlain(v) {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function normalizeHome(v) {
  const t = typeof v === "string" ? v.trim() : "";
  return t === "" || t === "undefined" || t === "null" ? undefined : t;
}

/** The home OpenClaw expands `~` with; refused when its two resolutions
 * (path-utils: HOME, USERPROFILE, os.homedir(); sandbox paths:
 * os.homedir()) disagree or neither is known. */
function home() {
  const env = process.env;
  let own;
  try {
    own = os.homedir();
  } catch {}
  const a = normalizeHome(env.HOME) ?? normalizeHome(env.USERPROFILE) ?? normalizeHome(own);
  const b = normalizeHome(own);
  if (!a || !b || path.resolve(a) !== path.resolve(b)) {
    throw new IntentRefusal("path_unresolvable", "`~` cannot be resolved to one home folder");
  }
  return path.resolve(a);
}

/** A path parameter as OpenClaw's file tools resolve it (before joining a
 * relative path to the working directory, which the gate does with the
 * workspace). Non-strings are returned unchanged (the gate refuses them). */
export function resolveToolPath(p) {
  if (typeof p !== "string") return p;
  let s = p;
  if (s.startsWith("@")) {
    const rest = s.slice(1);
    if (rest.startsWith("@")) return `./${rest}`;
    const expandable =
      rest === "~" || rest.startsWith("~/") || /^file:\/\//i.test(rest) || path.posix.isAbsolute(rest) || path.win32.isAbsolute(rest);
    if (!expandable) {
      // OpenClaw reads `./@name` when it exists, else `name`: decided by the
      // file system at run time, not by the call.
      throw new IntentRefusal(
        "path_reference_ambiguous",
        `the path ${JSON.stringify(p)} names \`./${p}\` or \`${rest}\` depending on which exists; give the path without \`@\``,
      );
    }
    s = rest;
  }
  if (s.startsWith("file://")) {
    try {
      return fileURLToPath(s);
    } catch (e) {
      throw new IntentRefusal("path_unresolvable", `the file URL ${JSON.stringify(p)} cannot be resolved (${e.message})`);
    }
  }
  if (s === "~" || s.startsWith("~/")) return home() + s.slice(1);
  return s;
}

const XML_ARG_VALUE_SUFFIX = /<\/arg_value>>+$/;
const OFFICE_EXTENSION_REPAIR = /\.(doc|ppt|xls)(?:odex|codex|xodex|xcodex)$/i;

/** OpenClaw's repair of a string argument with a trailing XML marker. */
function stripXmlArgValueSuffix(v) {
  return typeof v === "string" && v.includes("</arg_value>") ? v.replace(XML_ARG_VALUE_SUFFIX, "") : v;
}

/** OpenClaw's repair of a file tool's path (before it resolves it). */
function repairFilePath(v) {
  if (typeof v !== "string") return v;
  return stripXmlArgValueSuffix(v).replace(OFFICE_EXTENSION_REPAIR, (_m, family) => `.${family.toLowerCase()}x`);
}

/** A path for a tool that is not known to repair it: refused when the
 * repair would change it (the tool may act on either spelling). */
function unrepairedPath(p) {
  if (repairFilePath(p) !== p) {
    throw new IntentRefusal(
      "path_repair_ambiguous",
      `the path ${JSON.stringify(p)} has a malformed ending that some OpenClaw tools repair and others do not; give the path without it`,
    );
  }
  return resolveToolPath(p);
}

// File tools that repair their `path` before acting (OpenClaw's
// REQUIRED_PARAM_GROUPS with a `path`).
const REPAIRED_PATH_TOOLS = new Set(["read", "write", "edit"]);

// `exec` parameters OpenClaw strips the XML marker from.
const EXEC_REPAIRED = ["command", "workdir", "host", "ask", "node"];

/** A `pdf`/`pdfs` value as OpenClaw's pdf tool reads it (2026.9.6:
 * `resolvePdfInputs`, then `normalizeMediaReferenceSource` and
 * `classifyMediaReferenceSource`): JavaScript's trim (which also removes
 * U+FEFF), a `MEDIA:` prefix dropped (unless `media://`), `file:` URLs in
 * any letter case (`FILE:///x`, `file:/x`), http(s) URLs. A media-store
 * reference or another scheme is refused: the first names a file this
 * plugin cannot locate, the second the tool refuses anyway. Non-strings are
 * returned as paths (the gate refuses them). */
export function pdfReference(p) {
  return mediaReference(p, { at: false, data: false });
}

/** A media reference as OpenClaw's media tools read it (`pdfReference`);
 * `at`: a leading `@` is dropped first (view_image); `data`: a `data:` URL
 * is accepted, and names no file (`{}`). */
function mediaReference(p, { at, data }) {
  if (typeof p !== "string") return { path: p };
  let s = p.trim();
  if (at && s.startsWith("@")) s = s.slice(1).trim();
  if (!/^media:\/\//i.test(s)) s = s.replace(/^\s*MEDIA\s*:\s*/i, "").trim();
  if (/^https?:\/\//i.test(s)) return { url: s };
  if (data && /^data:/i.test(s)) return {};
  if (/^file:/i.test(s)) {
    try {
      return { path: fileURLToPath(s) };
    } catch (e) {
      throw new IntentRefusal("path_unresolvable", `the file URL ${JSON.stringify(p)} cannot be resolved (${e.message})`);
    }
  }
  if (/^[a-z][a-z0-9+.-]*:/i.test(s) && !/^[a-zA-Z]:[\\/]/.test(s)) {
    throw new IntentRefusal(
      "pdf_reference_unsupported",
      `the PDF reference ${JSON.stringify(p)} is neither a path, a file: URL nor an http(s) URL`,
    );
  }
  return { path: s };
}

/** A media tool's one reference and list of them (`pdf`/`pdfs`,
 * `path`/`paths`), each read by `mediaReference`: {files, urls}. */
function mediaReferences(one, many, opts) {
  const all = [];
  if (one !== undefined) all.push(one);
  if (Array.isArray(many)) all.push(...many);
  else if (many !== undefined) all.push(many);
  const files = [];
  const urls = [];
  for (const p of all) {
    const ref = mediaReference(p, opts);
    if (ref.url !== undefined) urls.push(ref.url);
    else if (ref.path !== undefined) files.push(unrepairedPath(ref.path));
  }
  return { files, urls };
}

/** A value in single quotes for a shell. */
function shellQuote(v) {
  return `'${v.replaceAll("'", "'\\''")}'`;
}

/** `exec` with `env`: the line the gate decides for it, `K='v'; …; COMMAND`
 * (the variables as the command sees them; a name that is not a shell
 * identifier, or a value that is not a string, is refused). */
function envCommand(env, command) {
  if (!isPlain(env)) throw new IntentRefusal("exec_env_unreadable", "`env` must be an object of strings");
  const parts = [];
  for (const [k, v] of Object.entries(env)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k) || typeof v !== "string") {
      throw new IntentRefusal("exec_env_unreadable", `the variable ${JSON.stringify(k)} cannot be decided as a shell assignment`);
    }
    parts.push(`${k}=${shellQuote(v)}`);
  }
  return parts.length > 0 && typeof command === "string" ? `${parts.join("; ")}; ${command}` : undefined;
}

// Parameters that OpenClaw resolves as local paths, per tool.
const PATH_PARAMS = {
  read: ["path"],
  ls: ["path"],
  memory_get: ["path"],
  write: ["path"],
  edit: ["path"],
};

const RESERVED = [
  "gait_derived_paths",
  "gait_pdf_paths",
  "gait_pdf_urls",
  "gait_image_paths",
  "gait_image_urls",
  "gait_exec_env_command",
];


const PATCH_TARGET = /^\*\*\* (?:Add File|Update File|Delete File|Move to):/m;

/** Tool Search's `tool_call` as the call it makes: {name, params}. Only the
 * canonical form is read (`id` with the arguments nested under `args`);
 * anything else is refused rather than guessed. */
function unwrapToolCall(params) {
  const keys = Object.keys(params);
  const extra = keys.filter((k) => k !== "id" && k !== "args");
  if (typeof params.id !== "string" || params.id.trim() === "" || extra.length > 0 || (params.args !== undefined && !isPlain(params.args))) {
    throw new IntentRefusal(
      "tool_call_unreadable",
      "a tool_call is decided as the tool it calls: give the tool's `id` and nest its arguments under `args` (nothing else)",
    );
  }
  const id = params.id.trim();
  // Catalog ids are `<source>:<source name>:<tool>`; OpenClaw's own tools
  // are decided by their name, any other source by the whole id.
  const parts = id.split(":");
  const name = parts.length === 3 && parts[0] === "openclaw" ? parts[2] : id;
  if (name === "tool_call") throw new IntentRefusal("tool_call_unreadable", "a tool_call cannot call tool_call");
  return { name, params: params.args ?? {} };
}

/** The intent of one `before_tool_call` event under a parsed configuration. */
export function buildIntent(cfg, event) {
  if (typeof event?.toolName !== "string") {
    throw new TypeError("the tool call has no tool name");
  }
  if (event.toolKind === "code_mode_exec") {
    throw new IntentRefusal(
      "code_mode_unsupported",
      "a code-mode exec runs a program, not a shell command line, and cannot be decided; turn code mode off to use the gate",
    );
  }
  let toolName = event.toolName;
  let params = isPlain(event.params) ? event.params : {};
  if (toolName === "tool_call") ({ name: toolName, params } = unwrapToolCall(params));
  for (const k of RESERVED) {
    if (Object.hasOwn(params, k)) throw new IntentRefusal("intent_reserved_argument", `the argument \`${k}\` is reserved for the gate`);
  }
  let args = params;
  const paths = PATH_PARAMS[toolName];
  if (paths) {
    args = { ...params };
    const repaired = REPAIRED_PATH_TOOLS.has(toolName);
    for (const k of paths) {
      if (Object.hasOwn(args, k)) args[k] = repaired ? resolveToolPath(repairFilePath(args[k])) : unrepairedPath(args[k]);
    }
  }
  if (toolName === "browser" && Array.isArray(params.paths)) {
    args = { ...params, paths: params.paths.map(unrepairedPath) };
  }
  if (toolName === "exec") {
    args = { ...params };
    for (const k of EXEC_REPAIRED) if (Object.hasOwn(args, k)) args[k] = stripXmlArgValueSuffix(args[k]);
    if (params.env !== undefined) {
      const line = envCommand(params.env, args.command);
      if (line !== undefined) args.gait_exec_env_command = line;
    }
  }
  if (toolName === "process" && params.hex !== undefined && !(Array.isArray(params.hex) && params.hex.length === 0)) {
    throw new IntentRefusal("process_hex_unsupported", "input given as hex bytes cannot be read as a command line; use `keys`, `literal` or `data`");
  }
  if (toolName === "pdf") {
    const { files, urls } = mediaReferences(params.pdf, params.pdfs, { at: false, data: false });
    args = { ...params, gait_pdf_paths: files, gait_pdf_urls: urls };
  }
  if (toolName === "view_image") {
    // A leading `@` dropped, data: URLs accepted, as the tool does.
    const { files, urls } = mediaReferences(params.path, params.paths, { at: true, data: true });
    args = { ...params, gait_image_paths: files, gait_image_urls: urls };
  }
  if (toolName === "apply_patch") {
    const derived = Array.isArray(event.derivedPaths) ? [...event.derivedPaths] : [];
    const text = typeof params.input === "string" ? params.input : "";
    if (derived.length === 0 && PATCH_TARGET.test(text)) {
      throw new IntentRefusal("apply_patch_targets_unknown", "OpenClaw gave no resolved target paths for a patch that names files");
    }
    args = { ...params, gait_derived_paths: derived };
  }
  const intent = { tool_name: toolName, args };
  const context = {};
  if (cfg.identity !== undefined) context.identity = cfg.identity;
  if (cfg.workspace !== undefined) context.workspace = cfg.workspace;
  if (cfg.riskClass !== undefined) context.risk_class = cfg.riskClass;
  if (cfg.sessionId !== undefined) context.session_id = cfg.sessionId;
  if (Object.keys(context).length > 0) intent.context = context;
  const skill = cfg.skills.find((s) => s.match(toolName));
  if (skill) intent.skill_provenance = skill.provenance;
  return intent;
}
