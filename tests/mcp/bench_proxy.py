"""Latency the proxy adds per tools/call: the same allowed `read_text_file`
call, N times over raw newline-delimited JSON-RPC, straight to the real
filesystem server and through `gait-run mcp-proxy`; prints round-trip
percentiles of both and their differences as JSON.

Usage (after scripts/setup_peers.sh and a release build; see
docs/integration/mcp_proxy.md): GAIT_RUN=... GAIT_BUNDLE=... GAIT_TRUST=...
MCP_FS_SERVER=... python tests/mcp/bench_proxy.py [N]
"""

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

WS = "/tmp/gait-mcp-ws"


def percentile(sorted_values, p):
    i = min(len(sorted_values) - 1, max(0, round(p / 100 * len(sorted_values)) - 1))
    return sorted_values[i]


def run(argv, n, warmup):
    proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)

    def rpc(msg):
        proc.stdin.write(json.dumps(msg).encode() + b"\n")
        proc.stdin.flush()
        if "id" not in msg:
            return None
        return json.loads(proc.stdout.readline())

    rpc({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "bench", "version": "0"}}})
    rpc({"jsonrpc": "2.0", "method": "notifications/initialized"})
    call = {"jsonrpc": "2.0", "method": "tools/call",
            "params": {"name": "read_text_file", "arguments": {"path": WS + "/hello.txt"}}}
    times = []
    for i in range(1, warmup + n + 1):
        call["id"] = i
        t0 = time.perf_counter_ns()
        reply = rpc(call)
        dt = time.perf_counter_ns() - t0
        if reply.get("id") != i or reply["result"].get("isError"):
            sys.exit(f"unexpected reply: {reply}")
        if i > warmup:
            times.append(dt)
    proc.stdin.close()
    proc.wait(timeout=20)
    times.sort()
    return {"p50_us": percentile(times, 50) / 1000, "p99_us": percentile(times, 99) / 1000,
            "mean_us": statistics.fmean(times) / 1000, "samples": len(times)}


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    gait, bundle, trust, server = (os.environ[k] for k in ("GAIT_RUN", "GAIT_BUNDLE", "GAIT_TRUST", "MCP_FS_SERVER"))
    shutil.rmtree(WS, ignore_errors=True)
    os.makedirs(WS)
    with open(WS + "/hello.txt", "w") as f:
        f.write("hello\n")
    log = os.path.join(tempfile.mkdtemp(), "proxy.log")
    proxied = [gait, "mcp-proxy", "--bundle", bundle, "--trust", trust, "--risk", "low",
               "--workspace", WS, "--log", log, "--", server, WS]
    out = {"calls": n}
    # Alternate the two a few times so that drift of the machine hits both alike.
    rounds = {"direct": [], "proxy": []}
    for _ in range(3):
        rounds["direct"].append(run([server, WS], n, 200))
        rounds["proxy"].append(run(proxied, n, 200))
    for k, rs in rounds.items():
        out[k] = {m: statistics.median(r[m] for r in rs) for m in ("p50_us", "p99_us", "mean_us")}
    out["added_p50_us"] = round(out["proxy"]["p50_us"] - out["direct"]["p50_us"], 1)
    out["added_p99_us"] = round(out["proxy"]["p99_us"] - out["direct"]["p99_us"], 1)
    out["added_mean_us"] = round(out["proxy"]["mean_us"] - out["direct"]["mean_us"], 1)
    # The gate's own part of it, from the proxy's decision log.
    decided = sorted(json.loads(l)["latency_us"] for l in open(log) if '"decision"' in l)
    out["decision_us"] = {"p50": percentile(decided, 50), "p99": percentile(decided, 99), "samples": len(decided)}
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
