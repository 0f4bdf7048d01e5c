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
//   apart, each read and resolved as the media tools read and resolve it,
//   not as the file tools (`gait_pdf_paths`, `gait_pdf_urls`,
//   `gait_image_paths`, `gait_image_urls`), and `image_generate`,
//   `music_generate` and `video_generate` the reference media they upload to
//   their provider, read as `view_image` reads them (`gait_media_paths`,
//   `gait_media_urls`);
// - `message` gets the local files and URLs it may send as attachments
//   (`media`, `mediaUrl`, `path`, `filePath`, `fileUrl`, `image`, each of
//   `mediaUrls` and of every `attachments` entry's keys, with their
//   snake_case spellings), read as OpenClaw's media loading reads them
//   (`gait_message_paths`, `gait_message_urls`);
// - `read` gets a media-store reference (`media://inbound/ID`) as the
//   inbound media file it names, and the other spellings of a file name it
//   opens when the file is missing (`gait_read_variants`);
// - `browser` gets the files an `upload` reads and the file a `download` or
//   `waitfordownload` writes, resolved in OpenClaw's uploads, inbound media
//   and downloads folders as it resolves them (`gait_browser_upload_paths`,
//   `gait_browser_download_paths`), and the page script it runs and the
//   dashboard URL it opens as explicit targets of kind `other` (the gate
//   cannot tell where they reach);
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
//   input given as hex bytes, media or browser paths that are not strings or
//   whose file OpenClaw picks at run time or reads from a folder of its own)
//   are refused.
// A refusal is an IntentRefusal: the call is blocked with its code and reason.
import fs from "node:fs";
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

/** `os.homedir()`, or undefined where it throws (no home for the user). */
function osHomedir() {
  try {
    return os.homedir();
  } catch {
    return undefined;
  }
}

/** The home OpenClaw expands `~` with; refused when its two resolutions
 * (path-utils: HOME, USERPROFILE, os.homedir(); sandbox paths:
 * os.homedir()) disagree or neither is known. */
function home() {
  const env = process.env;
  const own = osHomedir();
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

/** A path given to a tool that is not known to repair it, unchanged:
 * refused when the repair would change it (the tool may act on either
 * spelling). */
function assertUnrepaired(p) {
  if (repairFilePath(p) !== p) {
    throw new IntentRefusal(
      "path_repair_ambiguous",
      `the path ${JSON.stringify(p)} has a malformed ending that some OpenClaw tools repair and others do not; give the path without it`,
    );
  }
  return p;
}

/** A path for a tool that is not known to repair it, resolved as the file
 * tools resolve it (`resolveToolPath`). */
function unrepairedPath(p) {
  return resolveToolPath(assertUnrepaired(p));
}

/** The home OpenClaw's `resolveUserPath` expands `~` with (its
 * resolveRequiredHomeDir: OPENCLAW_HOME, itself `~`-expanded, else HOME,
 * USERPROFILE, Termux's home, os.homedir(); else the working folder). */
function openclawHome() {
  const env = process.env;
  const own = osHomedir();
  const prefix = normalizeHome(env.PREFIX);
  const termux =
    prefix && normalizeHome(env.ANDROID_DATA) && /(?:^|\/)com\.termux\/files\/usr\/?$/u.test(prefix.replace(/\\/gu, "/"))
      ? path.resolve(prefix, "..", "home")
      : undefined;
  const osHome = normalizeHome(env.HOME) ?? normalizeHome(env.USERPROFILE) ?? termux ?? normalizeHome(own);
  const explicit = normalizeHome(env.OPENCLAW_HOME);
  let h = osHome;
  if (explicit !== undefined) {
    const tilde = explicit === "~" || explicit.startsWith("~/") || explicit.startsWith("~\\");
    h = !tilde ? explicit : osHome && explicit.replace(/^~(?=$|[\\/])/, () => osHome);
  }
  if (!h) {
    try {
      h = process.cwd();
    } catch {}
  }
  if (!h) throw new IntentRefusal("path_unresolvable", "OpenClaw's home folder cannot be determined");
  return path.resolve(h);
}

/** A path as OpenClaw's `resolveUserPath` resolves it (media loading, its
 * state folder): trimmed; `~` followed by the end, `/` or `\` replaced by
 * its home; then resolved against the working folder (so `~user` and any
 * relative path name a file under OpenClaw's working folder). */
function openclawUserPath(p) {
  const t = p.trim();
  if (!t) return t;
  if (t.startsWith("~")) return path.resolve(t.replace(/^~(?=$|[\\/])/, () => openclawHome()));
  return path.resolve(t);
}

/** OpenClaw's state folder (its resolveConfigDir: OPENCLAW_STATE_DIR, else
 * the folder of OPENCLAW_CONFIG_PATH, else `~/.openclaw`). */
function openclawStateDir() {
  const override = process.env.OPENCLAW_STATE_DIR?.trim();
  if (override) return openclawUserPath(override);
  const config = process.env.OPENCLAW_CONFIG_PATH?.trim();
  if (config) return path.dirname(openclawUserPath(config));
  return path.join(openclawHome(), ".openclaw");
}

const OPENCLAW_TMP_DIR = "/tmp/openclaw";

/** OpenClaw's temporary folder, which holds the browser's `uploads` and
 * `downloads` (its resolvePreferredOpenClawTmpDir): `/tmp/openclaw` when it
 * is missing (OpenClaw creates it) or a folder of this user that others
 * cannot write to. Otherwise OpenClaw picks a fallback at run time (after
 * trying to repair the folder's permissions), which is refused here. */
export function openclawTmpDir() {
  const uid = typeof process.getuid === "function" ? process.getuid() : undefined;
  if (process.platform !== "win32" && uid !== undefined) {
    let st;
    try {
      st = fs.lstatSync(OPENCLAW_TMP_DIR);
    } catch (e) {
      if (e?.code === "ENOENT") return OPENCLAW_TMP_DIR;
    }
    if (st && st.isDirectory() && !st.isSymbolicLink() && st.uid === uid && (st.mode & 0o022) === 0) return OPENCLAW_TMP_DIR;
  }
  throw new IntentRefusal(
    "browser_folder_unknown",
    `${OPENCLAW_TMP_DIR} is not a folder of this user that others cannot write to, so OpenClaw keeps the browser's files in a fallback folder it chooses at run time; give an absolute path`,
  );
}

// File tools that repair their `path` before acting (OpenClaw's
// REQUIRED_PARAM_GROUPS with a `path`).
const REPAIRED_PATH_TOOLS = new Set(["read", "write", "edit"]);

// `exec` parameters OpenClaw strips the XML marker from.
const EXEC_REPAIRED = ["command", "workdir", "host", "ask", "node"];

const CANVAS_DOCUMENTS_PATH = "/__openclaw__/canvas/documents/";
const WINDOWS_DRIVE_PATH = /^[a-zA-Z]:[\\/]/;

/** A `pdf`/`pdfs` value as OpenClaw's pdf tool reads it (2026.9.6:
 * `resolvePdfInputs`, then `normalizeMediaReferenceSource` and
 * `classifyMediaReferenceSource`): JavaScript's trim (which also removes
 * U+FEFF), a `MEDIA:` prefix dropped (unless `media://`), `file:` URLs in
 * any letter case (`FILE:///x`, `file:/x`), http(s) URLs, a media-store
 * reference (`media://inbound/ID`: the file of OpenClaw's inbound media it
 * names, `inboundMediaFile`). Another scheme is refused (the tool refuses it
 * anyway). Non-strings are returned as paths (the gate refuses them). */
export function pdfReference(p) {
  return mediaReference(p, { at: false, data: false });
}

/** A media reference as OpenClaw's media tools read it (`pdfReference`);
 * `at`: a leading `@` is dropped first (view_image); a value empty after
 * that names nothing (`{}`: the tools skip it); `data`: a `data:` URL
 * is accepted, and names no file (`{}`); `exact`: the value is read
 * untrimmed by one reader and trimmed by another, so one with whitespace at
 * its ends is refused (`CODE_ambiguous`); `code`, `what`: the refusals'
 * code prefix and the name of the value (`pdf_reference`, "PDF reference"). */
function mediaReference(p, { at, data, exact = false, code = "pdf_reference", what = "PDF reference" }) {
  if (typeof p !== "string") return { path: p };
  if (exact && p.trim() !== p) {
    throw new IntentRefusal(
      `${code}_ambiguous`,
      `the ${what} ${JSON.stringify(p)} has whitespace at its ends, which OpenClaw keeps in one reading and drops in another; give it without`,
    );
  }
  let s = p.trim();
  if (at && s.startsWith("@")) s = s.slice(1).trim();
  if (!s) return {};
  if (!/^media:\/\//i.test(s)) s = s.replace(/^\s*MEDIA\s*:\s*/i, "").trim();
  if (!s) throw new IntentRefusal(`${code}_unreadable`, `the ${what} ${JSON.stringify(p)} names no file`);
  // A media-store reference: the file of OpenClaw's inbound media it names
  // (web-media loadWebMediaInternal looks it up there).
  if (/^media:\/\//i.test(s)) return { path: inboundMediaFile(s) };
  if (/^https?:\/\//i.test(s)) return { url: s };
  if (data && /^data:/i.test(s)) return {};
  if (/^file:/i.test(s)) {
    try {
      return { path: fileURLToPath(s) };
    } catch (e) {
      throw new IntentRefusal("path_unresolvable", `the file URL ${JSON.stringify(p)} cannot be resolved (${e.message})`);
    }
  }
  if (/^[a-z][a-z0-9+.-]*:/i.test(s) && !WINDOWS_DRIVE_PATH.test(s)) {
    throw new IntentRefusal(
      `${code}_unsupported`,
      `the ${what} ${JSON.stringify(p)} is neither a path, a file: URL nor an http(s) URL`,
    );
  }
  return { path: s };
}

/** A media tool's one reference and list of them (`pdf`/`pdfs`,
 * `path`/`paths`, `image`/`images`), each read by `mediaReference` with
 * `opts`: {files, urls}. A file's path is then resolved as the media tools
 * resolve it (`mediaToolPath` in `workspace` with `opts.code`, `opts.what`
 * and `opts.atDropped`; for `message` too). */
function mediaReferences(one, many, workspace, opts) {
  const all = [];
  if (one !== undefined) all.push(one);
  if (Array.isArray(many)) all.push(...many);
  else if (many !== undefined) all.push(many);
  const localPath = mediaToolPath(workspace, opts.code, opts.what, { atDropped: opts.atDropped });
  const files = [];
  const urls = [];
  for (const p of all) {
    const ref = mediaReference(p, opts);
    if (ref.url !== undefined) urls.push(ref.url);
    else if (ref.path !== undefined) files.push(localPath(ref.path));
  }
  return { files, urls };
}

/** A `pdf`, `view_image`, generation tool or `message` media reference's
 * local file (after `mediaReference`),
 * as OpenClaw's media tools resolve it (openclaw-tools
 * resolveMediaToolReferenceAccess, then web-media loadWebMedia, 2026.9.6):
 * a path starting with `~` through its `resolveUserPath`
 * (`openclawUserPath`: OPENCLAW_HOME first, unlike the file tools); any
 * other relative path, `@` included, in the tools' working folder, the
 * file tools' (joined to the workspace by the gate). Refused: a Windows
 * drive path (read from OpenClaw's own working folder) and a path that
 * resolves to a Canvas document (`/__openclaw__/canvas/documents/…`, mapped
 * by OpenClaw to a file of its state folder), `CODE_unsupported`; a
 * relative path when the workspace is the file system's root, which
 * OpenClaw does not resolve against (`path_unresolvable`). `atDropped`
 * (`message`): a path whose workspace-relative form starts with `@` is
 * refused (`CODE_ambiguous`). Non-strings are returned unchanged (the gate
 * refuses them). */
function mediaToolPath(workspace, code, what, { atDropped = false } = {}) {
  return (p) => {
    if (typeof p !== "string") return p;
    assertUnrepaired(p);
    const refuse = (why) => {
      throw new IntentRefusal(
        `${code}_unsupported`,
        `the ${what} ${JSON.stringify(p)} is read by OpenClaw from a folder of its own (${why}); give the file's absolute path`,
      );
    };
    if (WINDOWS_DRIVE_PATH.test(p)) refuse("a Windows drive path from its working folder");
    // OpenClaw maps a Canvas document path to its state folder from the raw
    // value (dropping a `?` or `#` part first, so `…/x?/../../a` is not the
    // path it looks like): any value naming OpenClaw's own URL space is
    // refused, however it is spelled.
    if (/__openclaw__/i.test(p)) refuse("a Canvas document from its state folder");
    let out = p;
    let resolved;
    if (p.startsWith("~")) resolved = out = openclawUserPath(p);
    else if (path.isAbsolute(p)) resolved = path.resolve(p);
    else if (typeof workspace === "string" && path.isAbsolute(workspace)) {
      if (path.resolve(workspace) === path.parse(path.resolve(workspace)).root) {
        throw new IntentRefusal(
          "path_unresolvable",
          `the relative path ${JSON.stringify(p)} is not read in the workspace \`${workspace}\` (the file system's root); give an absolute path`,
        );
      }
      resolved = path.resolve(workspace, p);
    }
    if (resolved !== undefined && resolved.trim().startsWith(CANVAS_DOCUMENTS_PATH)) refuse("a Canvas document from its state folder");
    if (atDropped && resolved !== undefined && typeof workspace === "string" && path.isAbsolute(workspace)) {
      // A reply's media path (`message` send from a Control UI chat) has a
      // leading `@` of its workspace-relative form dropped by OpenClaw
      // (reply-media-paths, sandbox-paths normalizeFileReferencePrefix),
      // kept by the other senders: two files, refused.
      const rel = path.relative(path.resolve(workspace), resolved);
      if (rel.startsWith("@")) {
        throw new IntentRefusal(
          `${code}_ambiguous`,
          `the ${what} ${JSON.stringify(p)} is \`${rel}\` in the workspace, whose leading \`@\` one OpenClaw sender drops and another keeps; give the path without it`,
        );
      }
    }
    return out;
  };
}

// `message` parameters that name a media source: one value each (with
// their snake_case spellings, which OpenClaw reads when the camelCase one is
// absent), lists of them, and the keys of each `attachments` entry
// (message-action-params: BASE_ACTION_MEDIA_SOURCE_PARAM_KEYS,
// `mediaUrls`, STRUCTURED_ATTACHMENT_MEDIA_SOURCE_PARAM_KEYS).
const MESSAGE_MEDIA_KEYS = ["media", "mediaUrl", "media_url", "path", "filePath", "file_path", "fileUrl", "file_url", "image"];
const MESSAGE_MEDIA_LIST_KEYS = ["mediaUrls", "media_urls"];
const MESSAGE_ATTACHMENT_KEYS = ["media", "mediaUrl", "media_url", "path", "filePath", "file_path", "fileUrl", "file_url", "url"];
// Actions whose media OpenClaw trims before loading (buildMessagePayload);
// the others (sendAttachment, reply, upload-file, setGroupIcon: its
// hydrateAttachmentParamsForAction) load a value untrimmed, and channel
// plugins read it trimmed.
const MESSAGE_TRIMMED_ACTIONS = new Set(["send", "broadcast"]);

/** The media a `message` call names, every value OpenClaw or a channel
 * plugin may load (a superset of what one action loads: `send` takes the
 * first of the single keys, each of `mediaUrls` and every attachment key;
 * Telegram's send all of them): {files, urls}. A value that is not a string,
 * `mediaUrls` that are neither a string nor a list of them, `attachments`
 * that are not a list of objects are refused; `buffer` (base64 or a data:
 * URL) names no file. */
function messageMedia(params, workspace) {
  const values = [];
  const take = (v, where) => {
    if (v === undefined || v === null || v === "") return;
    if (typeof v !== "string") {
      throw new IntentRefusal("message_media_unreadable", `\`${where}\` must be a string: a path or an http(s) URL`);
    }
    values.push(v);
  };
  const own = (o, k) => (Object.hasOwn(o, k) ? o[k] : undefined);
  for (const k of MESSAGE_MEDIA_KEYS) take(own(params, k), k);
  for (const k of MESSAGE_MEDIA_LIST_KEYS) {
    const v = own(params, k);
    if (Array.isArray(v)) v.forEach((x, i) => take(x, `${k}[${i}]`));
    else take(v, k);
  }
  const attachments = own(params, "attachments");
  if (attachments !== undefined && attachments !== null) {
    if (!Array.isArray(attachments)) throw new IntentRefusal("message_media_unreadable", "`attachments` must be a list of objects");
    attachments.forEach((a, i) => {
      if (!isPlain(a)) throw new IntentRefusal("message_media_unreadable", `\`attachments[${i}]\` must be an object`);
      for (const k of MESSAGE_ATTACHMENT_KEYS) take(own(a, k), `attachments[${i}].${k}`);
    });
  }
  const action = typeof params.action === "string" ? params.action.trim() : "";
  const trimmed = MESSAGE_TRIMMED_ACTIONS.has(action);
  // Media loading resolves a local file as the media tools do.
  return mediaReferences(undefined, trimmed ? values.filter((v) => v.trim() !== "") : values, workspace, {
    at: false,
    data: false,
    exact: !trimmed,
    code: "message_media",
    what: "media reference",
    atDropped: true,
  });
}

/** A browser path parameter's value: a string, or refused. */
function browserPath(v, where) {
  if (typeof v !== "string") throw new IntentRefusal("browser_path_unreadable", `\`${where}\` must be a string`);
  return assertUnrepaired(v);
}

/** The files a browser `upload` reads, as OpenClaw resolves `paths`
 * (extensions/browser paths.ts `resolveExistingUploadPaths`): each value
 * trimmed; `media://inbound/ID` is the file ID of OpenClaw's inbound media
 * folder (`<state>/media/inbound`); a relative path is resolved in its
 * uploads folder (`<tmp>/uploads`), and where that fails in the inbound
 * media folder (both are decided; `media/inbound/ID` likewise); an
 * absolute path is read as it is (OpenClaw accepts it only inside one of
 * the two). No `~`, `@` or `file:` spelling is expanded. */
function browserUploadPaths(paths) {
  if (paths === undefined || paths === null) return [];
  if (!Array.isArray(paths)) throw new IntentRefusal("browser_path_unreadable", "`paths` must be a list of strings");
  const out = [];
  paths.forEach((v, i) => {
    const raw = browserPath(v, `paths[${i}]`).trim();
    if (!raw) return;
    const inbound = () => path.join(openclawStateDir(), "media", "inbound");
    const ref = /^media:\/\//i.test(raw) ? raw : raw.replace(/^\s*MEDIA\s*:\s*/i, "").trim();
    const id = (encoded) => {
      let decoded;
      try {
        decoded = decodeURIComponent(encoded);
      } catch {}
      if (!decoded || decoded === "." || decoded === ".." || /[/\\\0]/.test(decoded)) {
        throw new IntentRefusal("browser_path_unreadable", `the media reference ${JSON.stringify(v)} names no inbound media file`);
      }
      return decoded;
    };
    if (/^media:\/\//i.test(ref)) {
      const m = /^media:\/\/inbound\/([^/?#\\]+)$/i.exec(ref);
      if (!m) throw new IntentRefusal("browser_path_unreadable", `the media reference ${JSON.stringify(v)} names no inbound media file`);
      out.push(path.join(inbound(), id(m[1])));
      return;
    }
    if (path.isAbsolute(raw)) {
      out.push(raw);
      return;
    }
    const uploads = path.join(openclawTmpDir(), "uploads");
    const relativeRef = /^(?:\.\/)?media\/inbound\/([^/\\]+)$/u.exec(ref);
    out.push(path.resolve(uploads, raw), relativeRef ? path.join(inbound(), id(relativeRef[1])) : path.resolve(inbound(), raw));
  });
  return out;
}

// How deep `browser` batches may nest before the plugin stops reading
// (OpenClaw refuses more than 6 levels).
const BROWSER_BATCH_DEPTH = 16;

/** What a `browser` call makes the page run or open that no argument names
 * as a URL, as explicit targets of kind `other` (endpoint class `other`):
 * script the model wrote — an `act` of kind `evaluate`, or any action with
 * a `fn` (`wait` with a predicate) — at the top level, in `request`, or in
 * any batch `actions` at any depth (OpenClaw's readActRequestParam merges
 * the top level into `request`, its normalizeActRequest trims `kind` and
 * `fn` and stringifies numbers, its batches nest); and a `dashboard`
 * widget's saved URL (the dashboard tool stored it earlier; the call does
 * not say it); and `importprofile`, which copies the host's own browser
 * cookies (decrypted from the system browser's profile) into a managed
 * profile, whatever URL the call also names. The gate cannot tell where
 * such a script reaches or judge those cookies as a file: an `other`
 * target fails closed at high and critical risk
 * (`fail_closed_endpoint_class_unknown`) and is allowed at lower risk only
 * by a rule that allows it (an `all endpoint in [net.http]` rule does not).
 * Read wider than OpenClaw reads it (any action, kinds in any case), so no
 * spelling OpenClaw runs is missed. */
function browserPageTargets(params) {
  const text = (v) => (typeof v === "string" || typeof v === "number" || typeof v === "boolean" ? String(v).trim() : "");
  const targets = [];
  const walk = (o, depth) => {
    if (o === null || typeof o !== "object" || Array.isArray(o)) return;
    if (depth > BROWSER_BATCH_DEPTH) {
      throw new IntentRefusal("browser_request_unreadable", `\`browser\` batch actions nest more than ${BROWSER_BATCH_DEPTH} levels deep`);
    }
    const fn = text(o.fn);
    if (fn !== "" || text(o.kind).toLowerCase() === "evaluate") {
      targets.push({ kind: "other", value: fn === "" ? "page script (evaluate without fn)" : fn, operation: "page_script" });
    }
    if (Array.isArray(o.actions)) for (const a of o.actions) walk(a, depth + 1);
  };
  walk(params, 0);
  if (params.request !== null && typeof params.request === "object" && !Array.isArray(params.request)) walk(params.request, 0);
  if (text(params.action).toLowerCase() === "importprofile") {
    const profile = text(params.systemProfile ?? params.system_profile);
    targets.push({ kind: "other", value: `system browser profile ${profile || "(default)"} cookies`, operation: "import_profile" });
  }
  const dashboard = text(params.dashboard);
  if (dashboard !== "") targets.push({ kind: "other", value: `dashboard widget ${dashboard}`, operation: "open_saved_url" });
  return targets;
}

/** The file a browser `download` (`path` required) or `waitfordownload`
 * (`path` optional; without it the file gets the site's name) writes, as
 * OpenClaw's browser server resolves it (routes `/download`,
 * `/wait/download`: the trimmed value resolved in its downloads folder,
 * `<tmp>/downloads`, which it must stay inside). */
function browserDownloadPaths(p) {
  if (p === undefined || p === null) return [];
  const raw = browserPath(p, "path").trim();
  if (!raw) return [];
  return [path.isAbsolute(raw) ? raw : path.resolve(openclawTmpDir(), "downloads", raw)];
}

/** A value OpenClaw's `read` takes as a media-store reference
 * (tools resolveLocalReadPath: `media://…`, after a `MEDIA:` prefix is
 * dropped and the value trimmed) as the file of its inbound media folder it
 * names (media-reference parseInboundMediaUri: host `inbound`, no user,
 * query or fragment, one percent-decoded name); `undefined` for any other
 * value; refused when OpenClaw would refuse it. */
function inboundMediaFile(v) {
  if (typeof v !== "string") return undefined;
  const t = v.trim();
  const source = /^media:\/\//i.test(t) ? t : t.replace(/^\s*MEDIA\s*:\s*/i, "").trim();
  if (!/^media:\/\//i.test(source)) return undefined;
  const bad = () => new IntentRefusal("path_unresolvable", `the media reference ${JSON.stringify(v)} names no file of OpenClaw's inbound media`);
  let url;
  try {
    url = new URL(source);
  } catch {
    throw bad();
  }
  if (url.hostname !== "inbound" || url.username || url.password || url.search || url.hash) throw bad();
  let id;
  try {
    id = decodeURIComponent(url.pathname.replace(/^\/+/, ""));
  } catch {
    throw bad();
  }
  if (!id || id === "." || id === ".." || /[/\\\0]/.test(id)) throw bad();
  return path.join(openclawStateDir(), "media", "inbound", id);
}

const UNICODE_SPACES = /[\u00A0\u2000-\u200A\u202F\u205F\u3000]/g;

/** The other spellings of a file name OpenClaw's `read` opens when the
 * file itself is missing (path-utils collectReadPathVariants, with the NFD
 * forms of every platform but macOS, all kept here): Unicode spaces as
 * spaces, a space before AM/PM as a narrow no-break space, quotes straight
 * or curly, NFC and NFD. */
function readPathVariants(p) {
  const name = path.basename(p);
  const parent = p.slice(0, p.length - name.length);
  const variants = new Set();
  const ascii = name.replace(UNICODE_SPACES, " ");
  for (const spaced of [ascii, ascii.replace(/ (?=(?:AM|PM)(?:\b|\.))/gi, "\u202f")]) {
    for (const quoted of [spaced.replace(/[\u2018\u2019]/g, "'"), spaced.replace(/['\u2018]/g, "\u2019")]) {
      variants.add(`${parent}${quoted.normalize("NFC")}`);
      variants.add(`${parent}${quoted.normalize("NFD")}`);
    }
  }
  variants.delete(p);
  return [...variants];
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
// (`memory_get` is not here: OpenClaw's memory reader takes its `path`
// literally — no `@`, `~` or `file://` — see `assertMemoryCorpus`.)
const PATH_PARAMS = {
  read: ["path"],
  ls: ["path"],
  write: ["path"],
  edit: ["path"],
};

const RESERVED = [
  "gait_read_variants",
  "gait_derived_paths",
  "gait_pdf_paths",
  "gait_pdf_urls",
  "gait_image_paths",
  "gait_image_urls",
  "gait_message_paths",
  "gait_message_urls",
  "gait_browser_upload_paths",
  "gait_browser_download_paths",
  "gait_exec_env_command",
  "gait_media_paths",
  "gait_media_urls",
];


/** `memory_get` reads its `path` as given (OpenClaw's memory reader,
 * readMemoryFile: trimmed, no `@`, `~` or `file://` expansion, relative to
 * the agent's workspace) — the gate judges it so — but with `corpus`
 * `wiki` or `all` it looks the value up in the memory wiki's vault by path,
 * name or id, a file the path does not name: refused
 * (`memory_corpus_unsupported`). */
function assertMemoryCorpus(corpus) {
  if (corpus === undefined || corpus === null) return;
  // OpenClaw's readCorpusParam: trimmed, then exactly one of its words.
  if (typeof corpus === "string" && ["", "memory"].includes(corpus.trim())) return;
  throw new IntentRefusal(
    "memory_corpus_unsupported",
    `\`memory_get\` with corpus ${JSON.stringify(corpus)} reads the memory wiki by name or id, not the file its path names; only the memory corpus is decided`,
  );
}

/** A sub-agent spawned in a folder of its own resolves its tools' relative
 * paths there, while the gate joins them to the workspace: a `cwd`
 * (sessions_spawn: OpenClaw's resolveUserPath, trimmed, `~` with its home, a
 * relative value in its working folder) other than the workspace, or a
 * managed worktree or project checkout (`worktree`, `projectId`,
 * `projectGitUrl`, which give the session a folder of OpenClaw's choosing)
 * is refused (`sessions_spawn_cwd_unsupported`). Without a workspace the
 * gate refuses relative paths anyway. */
function assertSpawnFolder(params, workspace) {
  for (const k of ["worktree", "projectId", "project_id", "projectGitUrl", "project_git_url"]) {
    const v = params[k];
    if (v === undefined || v === null || v === false || (typeof v === "string" && v.trim() === "")) continue;
    throw new IntentRefusal(
      "sessions_spawn_cwd_unsupported",
      `a sub-agent spawned with \`${k}\` works in a folder OpenClaw chooses, where its relative paths would be resolved, not in the workspace the gate resolves them in`,
    );
  }
  const cwd = params.cwd;
  if (cwd === undefined || cwd === null) return;
  if (typeof cwd !== "string") {
    throw new IntentRefusal("sessions_spawn_cwd_unsupported", "`cwd` must be a string");
  }
  if (cwd.trim() === "" || typeof workspace !== "string" || !path.isAbsolute(workspace)) return;
  const resolved = openclawUserPath(cwd);
  if (resolved !== path.resolve(workspace)) {
    throw new IntentRefusal(
      "sessions_spawn_cwd_unsupported",
      `a sub-agent spawned in ${JSON.stringify(resolved)} would resolve its relative paths there, while the gate resolves them in the workspace \`${workspace}\`; spawn it without \`cwd\``,
    );
  }
}

// The media generation tools that take reference media (`tts` takes none).
const GENERATION_TOOLS = new Set(["image_generate", "music_generate", "video_generate"]);

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
  // Explicit targets the plugin adds: what a call acts on that no argument
  // names (kept by the gate beside the mapped ones).
  const targets = [];
  const paths = PATH_PARAMS[toolName];
  if (paths) {
    args = { ...params };
    const repaired = REPAIRED_PATH_TOOLS.has(toolName);
    for (const k of paths) {
      if (!Object.hasOwn(args, k)) continue;
      const given = repaired ? repairFilePath(args[k]) : args[k];
      const inbound = toolName === "read" ? inboundMediaFile(given) : undefined;
      args[k] = inbound ?? (repaired ? resolveToolPath(given) : unrepairedPath(given));
    }
    if (toolName === "read" && typeof args.path === "string") {
      // When the file is missing, `read` opens another spelling of its name
      // that exists (path-utils getReadPathVariants): each is decided too.
      args.gait_read_variants = readPathVariants(args.path);
    }
  }
  if (toolName === "browser") {
    // Only `upload` reads `paths`, only `download` and `waitfordownload`
    // write `path` (OpenClaw reads `action` trimmed).
    const action = typeof params.action === "string" ? params.action.trim() : "";
    args = {
      ...params,
      gait_browser_upload_paths: action === "upload" ? browserUploadPaths(params.paths) : [],
      gait_browser_download_paths: action === "download" || action === "waitfordownload" ? browserDownloadPaths(params.path) : [],
    };
    targets.push(...browserPageTargets(params));
  }
  if (toolName === "message") {
    const { files, urls } = messageMedia(params, cfg.workspace);
    args = { ...params, gait_message_paths: files, gait_message_urls: urls };
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
    // `@` kept (a relative path), no data: URLs, as the tool does.
    const { files, urls } = mediaReferences(params.pdf, params.pdfs, cfg.workspace, {
      at: false,
      data: false,
      code: "pdf_reference",
      what: "PDF reference",
    });
    args = { ...params, gait_pdf_paths: files, gait_pdf_urls: urls };
  }
  if (toolName === "view_image") {
    // A leading `@` dropped, data: URLs accepted, as the tool does.
    const { files, urls } = mediaReferences(params.path, params.paths, cfg.workspace, {
      at: true,
      data: true,
      code: "image_reference",
      what: "image reference",
    });
    args = { ...params, gait_image_paths: files, gait_image_urls: urls };
  }
  if (GENERATION_TOOLS.has(toolName)) {
    // Reference media the generation tools load and send to their provider
    // (image edits, image-to-video, …), read as `view_image` reads them
    // (openclaw-tools normalizeMediaReferenceInputs, then
    // resolveMediaToolReferenceAccess and web-media loadWebMedia, 2026.9.6):
    // a leading `@` dropped, `MEDIA:` dropped, data: URLs accepted for
    // images only. A list key given one string is that one entry; both
    // spellings of `video_generate`'s audio keys are decided (OpenClaw reads
    // the snake_case one when the camelCase key is absent).
    const sources = [[params.image, params.images, "image", true]];
    if (toolName === "video_generate") {
      sources.push(
        [params.video, params.videos, "video", false],
        [params.audioRef, params.audioRefs, "audio", false],
        [params.audio_ref, params.audio_refs, "audio", false],
      );
    }
    const read = sources.map(([one, many, kind, data]) =>
      mediaReferences(one, many, cfg.workspace, { at: true, data, code: `${kind}_reference`, what: `${kind} reference` }),
    );
    args = { ...params, gait_media_paths: read.flatMap((r) => r.files), gait_media_urls: read.flatMap((r) => r.urls) };
  }
  if (toolName === "sessions_spawn") assertSpawnFolder(params, cfg.workspace);
  if (toolName === "memory_get") assertMemoryCorpus(params.corpus);
  if (toolName === "apply_patch") {
    const derived = Array.isArray(event.derivedPaths) ? [...event.derivedPaths] : [];
    const text = typeof params.input === "string" ? params.input : "";
    if (derived.length === 0 && PATCH_TARGET.test(text)) {
      throw new IntentRefusal("apply_patch_targets_unknown", "OpenClaw gave no resolved target paths for a patch that names files");
    }
    args = { ...params, gait_derived_paths: derived };
  }
  const intent = { tool_name: toolName, args };
  if (targets.length > 0) intent.targets = targets;
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
