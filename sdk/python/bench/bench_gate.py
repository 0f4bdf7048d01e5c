"""Latency of the `gait` package's transports, side by side
(scripts/bench_python.sh runs it with release binaries).

Measured per call, after warm-up, on one intent that names no targets (the
policy's `map tool` mapping derives them, as in wrapper mode):

* rust            `gait-run bench` on the same intent text (the runtime alone)
* dict / str / bytes   in-process `Gate.evaluate` from each form
* guard           a `@gate.guard`-ed no-op function, and its overhead over
                  calling the function unguarded
* sidecar         `Gate.sidecar` to a local `gait-run serve` (keep-alive HTTP)
* subprocess      `Gate.subprocess` (`gait-run eval` per call)
* cedarpy         Cedar's Python binding on the equivalent check (the policy
                  set and entities parsed once, outside the timing), when
                  installed; regorus has no Python distribution on PyPI

Prints a table and, with --json FILE, writes the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable, Dict, List

import gait

HERE = Path(__file__).resolve().parent
POLICY = HERE.parent / "tests" / "fixtures" / "agent.gaitpol"
INTENT: Dict[str, Any] = {
    "tool_name": "write_file",
    "args": {"path": "/workspace/out.txt", "content": "x"},
    "context": {"identity": "bench", "workspace": "/workspace", "risk_class": "low"},
}


def percentiles(samples: List[int]) -> Dict[str, float]:
    s = sorted(samples)

    def p(q: float) -> float:
        return s[min(len(s) - 1, max(0, int(round(q * len(s))) - 1))] / 1000.0

    return {"p50_us": p(0.50), "p90_us": p(0.90), "p99_us": p(0.99), "samples": len(s)}


def timed(fn: Callable[[], Any], iterations: int, warmup: int) -> Dict[str, float]:
    for _ in range(warmup):
        fn()
    clock = time.perf_counter_ns
    out = []
    for _ in range(iterations):
        t = clock()
        fn()
        out.append(clock() - t)
    return percentiles(out)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gaitc", required=True)
    ap.add_argument("--gait-run", required=True)
    ap.add_argument("--iterations", type=int, default=50_000)
    ap.add_argument("--process-iterations", type=int, default=200, help="calls timed for the subprocess transport")
    ap.add_argument("--json", help="write the numbers to this file")
    a = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="gait-bench-"))
    subprocess.run([a.gaitc, "keygen", "--out", str(work / "k")], check=True, capture_output=True)
    bundle = work / "p.gaitb"
    subprocess.run([a.gaitc, "build", str(POLICY), "-o", str(bundle), "--key", str(work / "k.key")], check=True, capture_output=True)
    trust = work / "k.pub"
    text = json.dumps(INTENT)
    (work / "intents").mkdir()
    (work / "intents" / "write.json").write_text(text)

    results: Dict[str, Any] = {"intent": INTENT, "iterations": a.iterations, "python": sys.version.split()[0]}
    rust = subprocess.run(
        [a.gait_run, "bench", "--bundle", str(bundle), "--trust", str(trust), "--intents", str(work / "intents"), "--iterations", str(a.iterations)],
        check=True,
        capture_output=True,
    )
    overall = json.loads(rust.stdout)["overall"]
    results["rust"] = {"p50_us": overall["p50_ns"] / 1000.0, "p99_us": overall["p99_ns"] / 1000.0}

    gate = gait.Gate.load(bundle, trust=[trust])
    assert gate.evaluate(INTENT).verdict == "allow"
    raw = text.encode()
    n, w = a.iterations, min(a.iterations, 5_000)
    results["dict"] = timed(lambda: gate.evaluate(INTENT), n, w)
    results["str"] = timed(lambda: gate.evaluate(text), n, w)
    results["bytes"] = timed(lambda: gate.evaluate(raw), n, w)

    ctx = gait.Context(identity="bench", workspace="/workspace", risk_class="low")

    def plain(path: str, content: str) -> int:
        return 1

    guarded = gate.guard("write_file", context=ctx)(plain)
    results["plain_call"] = timed(lambda: plain("/workspace/out.txt", "x"), n, w)
    results["guard"] = timed(lambda: guarded("/workspace/out.txt", "x"), n, w)
    results["guard_overhead_us"] = results["guard"]["p50_us"] - results["plain_call"]["p50_us"]

    serve = subprocess.Popen(
        [a.gait_run, "serve", "--bundle", str(bundle), "--trust", str(trust), "--listen", "127.0.0.1:0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert serve.stdout is not None
        url = "http://" + json.loads(serve.stdout.readline())["listening"]
        side = gait.Gate.sidecar(url)
        for _ in range(50):
            try:
                side.evaluate(INTENT)
                break
            except gait.GateUnavailable:
                time.sleep(0.1)
        results["sidecar"] = timed(lambda: side.evaluate(INTENT), min(n, 5_000), 200)
    finally:
        serve.terminate()
        serve.wait(timeout=10)

    sub = gait.Gate.subprocess(bundle, [trust], gait_run=a.gait_run)
    results["subprocess"] = timed(lambda: sub.evaluate(INTENT), a.process_iterations, 10)

    try:
        import cedarpy  # type: ignore[import-not-found]
    except ImportError:
        cedarpy = None
    if cedarpy is not None:
        # The same question in Cedar: may `bench` write /workspace/out.txt?
        policies = cedarpy.PolicySet.from_str(
            'permit(principal, action == Action::"write_file", resource) when { resource.path like "/workspace/*" };\n'
            'forbid(principal, action, resource) when { resource.path like "/etc/*" };\n'
        )
        entities = cedarpy.Entities.from_json_str(
            json.dumps(
                [
                    {"uid": {"__entity": {"type": "File", "id": "out"}}, "attrs": {"path": "/workspace/out.txt"}, "parents": []},
                    {"uid": {"__entity": {"type": "User", "id": "bench"}}, "attrs": {}, "parents": []},
                ]
            )
        )
        request = {"principal": 'User::"bench"', "action": 'Action::"write_file"', "resource": 'File::"out"', "context": {}}
        assert cedarpy.is_authorized(request, policies, entities).allowed
        results["cedarpy"] = timed(lambda: cedarpy.is_authorized(request, policies, entities), min(n, 20_000), 1_000)

    rows = [
        ("rust (gait-run bench, same intent text)", results["rust"]),
        ("in-process evaluate(dict)", results["dict"]),
        ("in-process evaluate(str)", results["str"]),
        ("in-process evaluate(bytes)", results["bytes"]),
        ("plain function call", results["plain_call"]),
        ("guarded function call (decision included)", results["guard"]),
        ("sidecar (keep-alive HTTP)", results["sidecar"]),
        ("subprocess (gait-run eval)", results["subprocess"]),
    ]
    if "cedarpy" in results:
        rows.append(("cedarpy is_authorized (pre-parsed)", results["cedarpy"]))
    print(f"{'transport':<46} {'p50 µs':>10} {'p99 µs':>10}")
    for name, r in rows:
        print(f"{name:<46} {r['p50_us']:>10.2f} {r['p99_us']:>10.2f}")
    print(f"{'guard overhead over a plain call (p50)':<46} {results['guard_overhead_us']:>10.2f}")
    print(f"{'str over the rust figure (p50)':<46} {results['str']['p50_us'] - results['rust']['p50_us']:>10.2f}")
    if "cedarpy" not in results:
        print("cedarpy: not installed (scripts/bench_python.sh installs it)")
    if a.json:
        Path(a.json).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
