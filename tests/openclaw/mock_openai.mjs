// A loopback stand-in for an OpenAI-compatible chat-completions endpoint that
// scripts the model's side of an OpenClaw run, so that `openclaw agent --local`
// runs offline and deterministically.
//
// The script (JSON) is `{"tool_calls": [{"id", "name", "arguments"}...]}`:
// - a request whose conversation holds no tool result yet answers with those
//   tool calls (all in one assistant turn);
// - a request whose conversation holds tool results answers with a final text
//   that quotes every tool result (`TOOL RESULTS: [id] text | ...`), so that
//   what the model received is visible in the run's reply too. (OpenClaw
//   appends its own context message after a tool result: the last message is
//   not always the tool's.)
// Every request body is appended to `log` (one JSON line each).
//
// Use as a module (`startMock({script, log})` → `{url, close}`) or as a
// program: `node mock_openai.mjs SCRIPT.json LOG.jsonl` prints
// `{"listening": "http://127.0.0.1:PORT/v1"}` and serves until killed.
import http from "node:http";
import fs from "node:fs";

function contentText(content) {
  if (typeof content === "string") return content;
  if (Array.isArray(content)) {
    return content.map((p) => (typeof p === "string" ? p : (p?.text ?? ""))).join("");
  }
  return content == null ? "" : JSON.stringify(content);
}

function reply(body, script) {
  const messages = Array.isArray(body.messages) ? body.messages : [];
  const tools = messages.filter((m) => m.role === "tool");
  if (tools.length > 0) {
    const results = tools.map((m) => `[${m.tool_call_id}] ${contentText(m.content)}`);
    return { text: `TOOL RESULTS: ${results.join(" | ")}` };
  }
  const calls = (script.tool_calls ?? []).map((c) => ({
    id: c.id,
    type: "function",
    function: { name: c.name, arguments: JSON.stringify(c.arguments ?? {}) },
  }));
  return calls.length ? { calls } : { text: script.text ?? "nothing to do" };
}

function completion(model, answer) {
  const message = answer.calls
    ? { role: "assistant", content: null, tool_calls: answer.calls }
    : { role: "assistant", content: answer.text };
  return {
    id: "chatcmpl-mock",
    object: "chat.completion",
    created: 0,
    model,
    choices: [{ index: 0, message, finish_reason: answer.calls ? "tool_calls" : "stop" }],
    usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
  };
}

function chunks(model, answer) {
  const base = { id: "chatcmpl-mock", object: "chat.completion.chunk", created: 0, model };
  const out = [{ ...base, choices: [{ index: 0, delta: { role: "assistant" }, finish_reason: null }] }];
  if (answer.calls) {
    answer.calls.forEach((c, index) => {
      out.push({
        ...base,
        choices: [{ index: 0, delta: { tool_calls: [{ index, ...c }] }, finish_reason: null }],
      });
    });
    out.push({ ...base, choices: [{ index: 0, delta: {}, finish_reason: "tool_calls" }] });
  } else {
    out.push({ ...base, choices: [{ index: 0, delta: { content: answer.text }, finish_reason: null }] });
    out.push({ ...base, choices: [{ index: 0, delta: {}, finish_reason: "stop" }] });
  }
  out.push({ ...base, choices: [], usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } });
  return out;
}

export function startMock({ script, log }) {
  const server = http.createServer((req, res) => {
    let data = "";
    req.setEncoding("utf8");
    req.on("data", (d) => (data += d));
    req.on("end", () => {
      if (req.method === "GET" && req.url.endsWith("/models")) {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify({ object: "list", data: [{ id: "m1", object: "model" }] }));
        return;
      }
      if (req.method !== "POST" || !req.url.endsWith("/chat/completions")) {
        res.writeHead(404, { "content-type": "application/json" });
        res.end(JSON.stringify({ error: { message: `no route ${req.method} ${req.url}` } }));
        return;
      }
      let body;
      try {
        body = JSON.parse(data);
      } catch {
        res.writeHead(400);
        res.end();
        return;
      }
      if (log) fs.appendFileSync(log, JSON.stringify(body) + "\n");
      const answer = reply(body, script);
      const model = body.model ?? "m1";
      if (body.stream) {
        res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
        for (const c of chunks(model, answer)) res.write(`data: ${JSON.stringify(c)}\n\n`);
        res.end("data: [DONE]\n\n");
      } else {
        res.writeHead(200, { "content-type": "application/json" });
        res.end(JSON.stringify(completion(model, answer)));
      }
    });
  });
  return new Promise((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      resolve({
        url: `http://127.0.0.1:${port}/v1`,
        close: () =>
          new Promise((r) => {
            server.closeAllConnections?.();
            server.close(() => r());
          }),
      });
    });
  });
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [scriptPath, log] = process.argv.slice(2);
  const script = JSON.parse(fs.readFileSync(scriptPath, "utf8"));
  const { url } = await startMock({ script, log });
  console.log(JSON.stringify({ listening: url }));
}
