-- wrk script for scripts/load_sidecar.sh: a fixed mix of valid, invalid,
-- wrong-type and oversize requests to POST /v1/eval (cycled in order, 20 per
-- round), and per-status counts reported at the end (`statuses` and
-- `allow_non_200` are globals: done() reads them from each thread).
--   valid (15/20): allow x10 (two intents), block x4, require_approval x1
--   invalid (3/20): not JSON, empty tool_name, NUL in a path      -> 400 block
--   oversize (1/20): a body over --max-body-bytes (16384)          -> 413 block
--   wrong type (1/20): Content-Type text/plain                     -> 415 block
local json = {["Content-Type"] = "application/json"}
local text = {["Content-Type"] = "text/plain"}
local allow1 = '{"tool_name":"read_file","args":{"path":"/workspace/src/main.rs"},"context":{"risk_class":"low","workspace":"/workspace"}}'
local allow2 = '{"tool_name":"read_file","args":{"path":"docs/readme.md"},"context":{"risk_class":"low","workspace":"/workspace"}}'
local block = '{"tool_name":"read_file","args":{"path":"/workspace/../etc/shadow"},"context":{"risk_class":"low"}}'
local approval = '{"tool_name":"read_file","args":{"path":"/workspace/a"},"skill_provenance":{"skill_name":"x","skill_version":"1.0.0","source":"registry","publisher":"acme"},"context":{"risk_class":"low"}}'
local not_json = '{"tool_name": "read_file", "args": {'
local empty_tool = '{"tool_name":"","args":{"path":"/workspace/a"}}'
local nul_path = '{"tool_name":"read_file","args":{"path":"/workspace/a\\u0000b"},"context":{"risk_class":"low"}}'
local oversize = '{"tool_name":"read_file","args":{"path":"/workspace/a","pad":"' .. string.rep("x", 20000) .. '"}}'

local plan = {
  {"POST", json, allow1}, {"POST", json, allow2}, {"POST", json, block}, {"POST", json, not_json},
  {"POST", json, allow1}, {"POST", json, allow2}, {"POST", json, approval}, {"POST", json, allow1},
  {"POST", json, empty_tool}, {"POST", json, allow2}, {"POST", json, block}, {"POST", json, allow1},
  {"POST", json, oversize}, {"POST", json, allow2}, {"POST", json, block}, {"POST", json, nul_path},
  {"POST", json, allow1}, {"POST", text, allow1}, {"POST", json, allow2}, {"POST", json, block},
}

local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

local reqs = {}
local i = 0
statuses = {}
allow_non_200 = 0

function init(args)
  for _, p in ipairs(plan) do
    table.insert(reqs, wrk.format(p[1], "/v1/eval", p[2], p[3]))
  end
end

function request()
  i = i + 1
  return reqs[(i % #reqs) + 1]
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status ~= 200 and string.find(body, '"verdict":"allow"', 1, true) then
    allow_non_200 = allow_non_200 + 1
  end
end

function done(summary, latency, requests)
  local total = {}
  local bad = 0
  for _, t in ipairs(threads) do
    for code, n in pairs(t:get("statuses")) do
      total[code] = (total[code] or 0) + n
    end
    bad = bad + t:get("allow_non_200")
  end
  local parts = {}
  for code, n in pairs(total) do
    table.insert(parts, string.format('"%d": %d', code, n))
  end
  table.sort(parts)
  io.write(string.format('LOADJSON {"statuses": {%s}, "allow_with_non_200": %d, "p50_us": %d, "p90_us": %d, "p99_us": %d, "max_us": %d, "requests": %d, "duration_us": %d, "errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}}\n',
    table.concat(parts, ", "), bad, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.max, summary.requests, summary.duration, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.status, summary.errors.timeout))
end
