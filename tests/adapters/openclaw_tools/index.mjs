// The parity harness's tools inside OpenClaw (tests/adapters/README.md), a
// test-only plugin `parity-tools` loaded by path beside gait-gate: the same
// names and parameters as AutoGPT Forge's abilities and the Python runners'
// tools (tests/adapters/run_python.py), so every framework sends the same
// intent. Paths resolve as forge does: one leading "/" dropped, joined to the
// task folder, `..` not resolved away (the gate decided on exactly that
// path). Each run appends one JSON line to the effects log; run_command
// never runs anything: it logs the command line to commands.log.
//
// The parameters are declared without types on purpose: the gate, not
// OpenClaw's argument validation, must see (and refuse) a malformed call
// such as `file_path: 42` — the harness's invalid_intent scenario.
import fs from "node:fs";
import path from "node:path";
import { definePluginEntry } from "openclaw/plugin-sdk/plugin-entry";

function resolve(workspace, p) {
  let s = String(p);
  if (s.startsWith("/")) s = s.slice(1);
  return workspace + path.sep + s;
}

export default definePluginEntry({
  id: "parity-tools",
  name: "Parity tools",
  description: "write_file, read_file, copy_file, run_command for the adapter parity harness",
  register(api) {
    const cfg = api.pluginConfig ?? {};
    const { workspace, effectsLog } = cfg;
    if (typeof workspace !== "string" || typeof effectsLog !== "string") {
      throw new Error("parity-tools: `workspace` and `effectsLog` are required");
    }
    const write = (tool, p, data) => {
      const target = resolve(workspace, p);
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, data);
      // Keys sorted as the Python runner's json.dumps(sort_keys=True).
      fs.appendFileSync(effectsLog, JSON.stringify({ target, tool }) + "\n");
      return { content: [{ type: "text", text: `wrote ${p}` }], details: { path: String(p) } };
    };
    const any = (description) => ({ description });
    const tool = (name, description, props, run) =>
      api.registerTool({
        name,
        label: name,
        description,
        parameters: { type: "object", properties: props, required: Object.keys(props) },
        async execute(_id, params) {
          return run(params ?? {});
        },
      });
    tool("write_file", "Write data to a file in the task's workspace.", { file_path: any("the file"), data: any("its content") }, (a) =>
      write("write_file", a.file_path, String(a.data)),
    );
    tool("read_file", "Read a file in the task's workspace.", { file_path: any("the file") }, (a) => ({
      content: [{ type: "text", text: fs.readFileSync(resolve(workspace, a.file_path), "utf8") }],
      details: {},
    }));
    tool("copy_file", "Copy a file within the task's workspace.", { source: any("the file to copy"), destination: any("where to") }, (a) =>
      write("copy_file", a.destination, fs.readFileSync(resolve(workspace, a.source))),
    );
    tool("run_command", "Run a shell command (the harness only logs it).", { command: any("the command line") }, (a) =>
      write("run_command", "commands.log", String(a.command)),
    );
  },
});
