#!/usr/bin/env bash
# Load and fault check of `gait-run serve` (docs/performance.md, "HTTP sidecar:
# load and fault check"): a release build on loopback, `wrk` (Debian's, from
# scripts/setup_peers.sh) with scripts/load_sidecar.lua's mix of valid,
# invalid, wrong-type and oversize requests, then a few malformed connections.
# Checks, from the sidecar's own per-decision log and metrics, that no invalid,
# oversize or wrong-type request was answered `allow`, that every request was
# answered, and that the server survived; reports throughput, latency
# percentiles and peak RSS as JSON (also written to target/load_sidecar.json).
#
#   scripts/load_sidecar.sh [DURATION_S] [CONNECTIONS] [WRK_THREADS] [SERVER_WORKERS]
# Defaults: 10 s, 16 connections, 1 wrk thread, 1 sidecar worker (2 cores:
# one for the load generator, one for the sidecar).
# Environment: BUNDLE, TRUST (default: the runtime's test fixture policy);
# GAIT_ANSWER_KEY (a secret of 32+ bytes): the sidecar authenticates every
# answer with it (`--answer-key-env`), to measure what that costs.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
DURATION="${1:-10}"
CONNS="${2:-16}"
WRK_THREADS="${3:-1}"
WORKERS="${4:-1}"
BUNDLE="${BUNDLE:-$ROOT/runtime/tests/fixtures/matrix.gaitb}"
TRUST="${TRUST:-$ROOT/runtime/tests/fixtures/test.pub}"
scripts/setup_peers.sh wrk >/dev/null
cargo build --quiet --release -p gait-run --bin gait-run
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
BIN="$TARGET/release/gait-run"
WORK="$(mktemp -d)"
PID=""
cleanup() {
  if [ -n "$PID" ] && kill -0 "$PID" 2>/dev/null; then kill -TERM "$PID"; wait "$PID" || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT
fail() { echo "load_sidecar: FAIL: $*" >&2; exit 1; }

ANSWER_ARGS=()
[ -z "${GAIT_ANSWER_KEY:-}" ] || ANSWER_ARGS=(--answer-key-env GAIT_ANSWER_KEY)
"$BIN" serve --bundle "$BUNDLE" --trust "$TRUST" --listen 127.0.0.1:0 --workers "$WORKERS" \
  --max-body-bytes 16384 --log "$WORK/decisions.log" "${ANSWER_ARGS[@]}" > "$WORK/stdout" 2> "$WORK/stderr" &
PID=$!
for _ in $(seq 1 200); do [ -s "$WORK/stdout" ] && break; sleep 0.05; done
ADDR="$(sed -n 's/.*"listening":"\([^"]*\)".*/\1/p' "$WORK/stdout")"
[ -n "$ADDR" ] || fail "the sidecar did not start: $(cat "$WORK/stderr")"
HOST="${ADDR%:*}"; PORT="${ADDR##*:}"

# The digests of the two intents the policy allows: any other allowed decision is a failure.
ALLOWED_DIGESTS="$(for p in /workspace/src/main.rs docs/readme.md; do
  printf '{"tool_name":"read_file","args":{"path":"%s"},"context":{"risk_class":"low","workspace":"/workspace"}}' "$p" |
    "$BIN" eval --bundle "$BUNDLE" --trust "$TRUST" | sed -n 's/.*"intent_digest": "\(sha256:[0-9a-f]*\)".*/\1/p'
done | sort -u)"
[ "$(echo "$ALLOWED_DIGESTS" | wc -l)" = 2 ] || fail "cannot compute the allowed intents' digests"

# CPU time (user + system, clock ticks) the sidecar has used so far.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$PID/stat"; }
CPU0="$(cpu_ticks)"
echo "load_sidecar: wrk -t$WRK_THREADS -c$CONNS -d${DURATION}s against $ADDR (sidecar workers: $WORKERS)" >&2
.local/wrk/bin/wrk -t"$WRK_THREADS" -c"$CONNS" -d"${DURATION}s" --timeout 5s --latency \
  -s scripts/load_sidecar.lua "http://$ADDR/v1/eval" > "$WORK/wrk.out"
CPU1="$(cpu_ticks)"
TICKS="$(getconf CLK_TCK)"
LOADAVG="$(cut -d' ' -f1 /proc/loadavg)"
grep -E 'Requests/sec|Latency|Socket errors|Non-2xx' "$WORK/wrk.out" >&2 || true
LOADJSON="$(sed -n 's/^LOADJSON //p' "$WORK/wrk.out")"
[ -n "$LOADJSON" ] || fail "no summary from wrk: $(cat "$WORK/wrk.out")"

# Faults: a request line of garbage, headers never finished, a header section
# over hyper's limit, a body shorter than its Content-Length then closed;
# then the sidecar must still answer /healthz and /metrics.
python3 - "$HOST" "$PORT" > "$WORK/metrics.txt" <<'PY' || fail "fault check failed"
import socket, sys
host, port = sys.argv[1], int(sys.argv[2])

def exchange(data, read=True):
    s = socket.create_connection((host, port), timeout=10)
    try:
        s.sendall(data)
    except OSError:
        pass  # the server may close before taking everything: that is fine
    out = b""
    if read:
        try:
            while chunk := s.recv(65536):
                out += chunk
        except OSError:
            pass
    s.close()
    return out

r = exchange(b"GARBAGE\r\n\r\n")
assert r.startswith(b"HTTP/1.1 400"), r[:100]
exchange(b"POST /v1/eval HTTP/1.1\r\nHost: x\r\n", read=False)
r = exchange(b"GET /healthz HTTP/1.1\r\nX: " + b"a" * 600000 + b"\r\n\r\n")
assert not r.startswith(b"HTTP/1.1 200"), r[:100]
exchange(b"POST /v1/eval HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"tool_name\"", read=False)
r = exchange(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
assert r.startswith(b"HTTP/1.1 200"), r[:100]
r = exchange(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
assert r.startswith(b"HTTP/1.1 200"), r[:100]
sys.stdout.write(r.split(b"\r\n\r\n", 1)[1].decode())
PY
METRICS="$(cat "$WORK/metrics.txt")"
RSS_KB="$(awk '/^VmHWM/ {print $2}' "/proc/$PID/status")"
kill -TERM "$PID"
wait "$PID" || fail "the sidecar exited with $? after SIGTERM"
PID=""

python3 - "$WORK/decisions.log" "$LOADJSON" "$RSS_KB" "$ALLOWED_DIGESTS" "$DURATION" "$CONNS" "$WRK_THREADS" "$WORKERS" \
  "$((CPU1 - CPU0))" "$TICKS" "$LOADAVG" <<'PY' > "$WORK/result.json" || fail "checks failed (see above)"
import json, sys
log, load, rss_kb, allowed, duration, conns, wthreads, workers, cpu_ticks, clk_tck, loadavg = sys.argv[1:]
load = json.loads(load)
allowed = set(allowed.split())
decisions, by_status, bad = 0, {}, []
for line in open(log):
    e = json.loads(line)
    if e["event"] != "decision":
        continue
    decisions += 1
    s = str(e["status"])
    by_status.setdefault(s, {}).setdefault(e["verdict"], 0)
    by_status[s][e["verdict"]] += 1
    if e["verdict"] == "allow" and (e["status"] != 200 or e["intent_digest"] not in allowed):
        bad.append(e)
answered = sum(load["statuses"].values())
out = {
    "duration_s": int(duration), "connections": int(conns), "wrk_threads": int(wthreads), "sidecar_workers": int(workers),
    "requests": load["requests"], "answered": answered,
    "throughput_rps": round(load["requests"] / (load["duration_us"] / 1e6)),
    "latency_us": {k: load[k + "_us"] for k in ("p50", "p90", "p99", "max")},
    "http_statuses": load["statuses"], "wrk_errors": load["errors"],
    "decisions_logged": decisions, "logged_by_status_and_verdict": by_status,
    "invalid_requests_allowed": len(bad) + load["allow_with_non_200"],
    "peak_rss_kib": int(rss_kb),
    # CPU the sidecar spent per request (user + system, from /proc): what one
    # core can serve when nothing else competes for it.
    "sidecar_cpu_us_per_request": round(int(cpu_ticks) / int(clk_tck) * 1e6 / max(1, load["requests"]), 1),
    "load_average_1m_at_end": float(loadavg),
}
print(json.dumps(out, indent=2))
problems = []
if bad or load["allow_with_non_200"]:
    problems.append(f"{len(bad)} logged allow decisions for requests that must be blocked: {bad[:3]}")
for s in ("400", "413", "415"):
    if set(by_status.get(s, {})) - {"block"}:
        problems.append(f"status {s} with a verdict other than block: {by_status[s]}")
if decisions < answered:
    problems.append(f"{answered} answers but only {decisions} decisions logged")
if load["errors"]["timeout"]:
    problems.append(f"{load['errors']['timeout']} requests timed out")
for p in problems:
    print("load_sidecar: " + p, file=sys.stderr)
sys.exit(1 if problems else 0)
PY
mkdir -p "$TARGET"
cp "$WORK/result.json" "$TARGET/load_sidecar.json"
cat "$WORK/result.json"
echo "$METRICS" | grep -E '^gait_(decisions_total\{verdict="allow"|bundle_reloads|http_responses_total)' | grep -v ' 0$' >&2 || true
echo "load_sidecar: ok (no invalid request allowed, every request answered and logged, the sidecar survived the faults)" >&2
