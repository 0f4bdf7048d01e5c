-- End-to-end test with a real editor client: headless Neovim (0.7+) and its
-- built-in LSP client start `gaitc lsp`, open a policy with an error, wait for
-- the diagnostic, request the code actions, apply the fix, and check the
-- buffer text and that the diagnostics cleared.
--
-- Run by scripts/test_editors.sh:
--   GAITC=/path/to/gaitc GAIT_POLICY=/tmp/x/policy.gaitpol nvim --headless --clean -c 'luafile editors/nvim/e2e.lua'
-- Exits 0 on success, 1 with a message on any failure or timeout.

local TIMEOUT = 20000 -- ms for each wait

local function out(msg)
  io.stdout:write(msg .. "\n")
end

local function fail(msg)
  io.stderr:write("FAIL: " .. msg .. "\n")
  vim.cmd("cquit 1")
end

local function wait(what, cond)
  if not vim.wait(TIMEOUT, cond, 20) then
    error("timed out after " .. TIMEOUT .. " ms waiting for " .. what, 0)
  end
end

local function expect(cond, msg)
  if not cond then
    error(msg, 0)
  end
end

local function run()
  local gaitc = os.getenv("GAITC")
  local path = os.getenv("GAIT_POLICY")
  expect(gaitc and path, "GAITC and GAIT_POLICY must be set")

  vim.cmd("edit " .. vim.fn.fnameescape(path))
  local buf = vim.api.nvim_get_current_buf()
  local client_id = vim.lsp.start_client({
    name = "gaitc",
    cmd = { gaitc, "lsp" },
    root_dir = vim.fn.fnamemodify(path, ":h"),
    init_options = { debounceMs = 10 },
    flags = { debounce_text_changes = 0 },
  })
  expect(client_id, "vim.lsp.start_client failed to start `" .. gaitc .. " lsp`")
  vim.lsp.buf_attach_client(buf, client_id)
  local client = vim.lsp.get_client_by_id(client_id)
  wait("the server to initialize", function()
    return client.initialized or (client.server_capabilities ~= nil and next(client.server_capabilities) ~= nil)
  end)
  out("ok: gaitc lsp initialized")

  -- 1. The diagnostic of the error: code E0031 on line 8 (0-based 7).
  wait("diagnostics", function()
    return #vim.diagnostic.get(buf) > 0
  end)
  local diags = vim.diagnostic.get(buf)
  expect(#diags == 1, "expected 1 diagnostic, got " .. #diags .. ": " .. vim.inspect(diags))
  local d = diags[1]
  expect(d.code == "E0031", "expected code E0031, got " .. tostring(d.code))
  expect(d.lnum == 7, "expected the diagnostic on line 8, got line " .. (d.lnum + 1))
  expect(d.source == "gaitc", "expected source gaitc, got " .. tostring(d.source))
  out("ok: diagnostic " .. d.code .. " on line " .. (d.lnum + 1) .. ": " .. vim.split(d.message, "\n")[1])

  -- 2. The code action for it.
  local range = {
    start = { line = d.lnum, character = d.col },
    ["end"] = { line = d.end_lnum, character = d.end_col },
  }
  -- The LSP form of the diagnostic (Neovim 0.7 keeps only part of it in user_data).
  local lsp_diag = { range = range, code = d.code, message = d.message, severity = d.severity, source = d.source }
  local params = {
    textDocument = vim.lsp.util.make_text_document_params(buf),
    range = range,
    context = { diagnostics = { lsp_diag } },
  }
  local resp, err = client.request_sync("textDocument/codeAction", params, TIMEOUT, buf)
  expect(resp and not resp.err, "codeAction failed: " .. vim.inspect(err or (resp and resp.err)))
  local actions = resp.result or {}
  expect(#actions == 1, "expected 1 code action, got " .. vim.inspect(actions))
  local action = actions[1]
  expect(action.title == "Insert `any`", "unexpected action title: " .. tostring(action.title))
  out("ok: code action \"" .. action.title .. "\"")

  -- 3. Apply it: the buffer text changes, and the diagnostic goes away.
  vim.lsp.util.apply_workspace_edit(action.edit, client.offset_encoding or "utf-16")
  local line = vim.api.nvim_buf_get_lines(buf, 7, 8, false)[1]
  expect(line == '  when any path in ["/etc/**"]', "unexpected line after the fix: " .. line)
  out("ok: buffer line 8 is now: " .. line)
  wait("the diagnostics to clear", function()
    return #vim.diagnostic.get(buf) == 0
  end)
  out("ok: diagnostics cleared")

  -- 4. Shut down.
  vim.lsp.stop_client(client_id)
  wait("the server to stop", function()
    return vim.lsp.get_client_by_id(client_id) == nil
  end)
  out("ok: server stopped")
end

local ok, err = pcall(run)
if ok then
  out("PASS: neovim end-to-end")
  vim.cmd("qall!")
else
  fail(tostring(err))
end
