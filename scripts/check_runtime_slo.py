#!/usr/bin/env python3
"""Runtime SLO checker (docs/slo/runtime_slo.md).

Measures the in-process decision (`gait-run bench`) and the whole `gait-run
eval` process per endpoint class against the budgets in
perf/runtime_slo_budgets.json, checks the error budget (every timed decision
must give its expected verdict and exit code; every fail-closed probe must
block with its exact code), writes a report with percentile breakdowns, and
exits 0 when every budget holds, 5 when one is exceeded (each named with the
command to reproduce it and how far over it is), 1 when it cannot measure.

Usage: scripts/check_runtime_slo.sh [--budgets FILE] [--report FILE] [--bin DIR] [--gaitc PATH]
"""

import argparse
import json
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Exit codes of gait-run (runtime.md §1).
EXIT_FOR = {"allow": 0, "dry_run": 0, "block": 3, "require_approval": 4}


def percentile(sorted_values, p):
    """Nearest rank, as gait-run bench computes it."""
    if not sorted_values:
        return 0
    rank = math.ceil(p / 100.0 * len(sorted_values))
    return sorted_values[min(max(rank, 1), len(sorted_values)) - 1]


def breakdown(values):
    s = sorted(values)
    return {
        "p50": percentile(s, 50),
        "p90": percentile(s, 90),
        "p95": percentile(s, 95),
        "p99": percentile(s, 99),
        "max": s[-1] if s else 0,
        "samples": len(s),
    }


def run(cmd, stdin=None):
    return subprocess.run(cmd, input=stdin, capture_output=True, check=False)


def fail_setup(msg):
    print(f"error: {msg}", file=sys.stderr)
    sys.exit(1)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--budgets", default=os.path.join(ROOT, "perf/runtime_slo_budgets.json"))
    ap.add_argument("--report", default=os.path.join(ROOT, "target/slo/runtime_slo_report.json"))
    ap.add_argument("--skip-instructions", action="store_true",
                    help="do not count instructions per decision (for a machine without valgrind)")
    ap.add_argument("--bin", default=os.path.join(os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")), "release"),
                    help="the folder of the gait-run binary measured (a release build)")
    ap.add_argument("--gaitc", default=None,
                    help="the gaitc that builds the measured bundle and keys (default: gaitc beside gait-run; "
                         "any build: its bundles are byte-identical)")
    args = ap.parse_args()

    with open(args.budgets, encoding="utf-8") as f:
        budgets = json.load(f)
    gaitc = args.gaitc or os.path.join(args.bin, "gaitc")
    gait_run = os.path.join(args.bin, "gait-run")
    for exe, build in ((gaitc, "cargo build -p gaitc"), (gait_run, "cargo build --release -p gait-run")):
        if not os.access(exe, os.X_OK):
            fail_setup(f"{exe} is missing: build with `{build}`")

    work = tempfile.mkdtemp(prefix="gait-slo-")
    key = os.path.join(work, "slo")
    bundle = os.path.join(work, "slo.gaitb")
    r = run([gaitc, "keygen", "--out", key])
    if r.returncode != 0:
        fail_setup(f"gaitc keygen failed: {r.stderr.decode(errors='replace')}")
    policy = os.path.join(ROOT, budgets["policy"])
    r = run([gaitc, "build", policy, "-o", bundle, "--key", key + ".key"])
    if r.returncode != 0:
        fail_setup(f"gaitc build {budgets['policy']} failed: {r.stderr.decode(errors='replace')}")
    trust = ["--trust", key + ".pub"]

    violations = []  # (kind, message)
    report = {
        "schema_id": "gait.perf.runtime_slo_report",
        "schema_version": "1.0.0",
        "budgets": os.path.relpath(args.budgets, ROOT),
        "policy": budgets["policy"],
        "cpu": cpu_model(),
        "in_process": {},
        "instructions": {},
        "process": {},
        "errors": {"wrong_decisions": [], "internal_errors": [], "fail_closed_violations": []},
    }

    # ---- in-process: gait-run bench over a directory holding the SLO intents
    intents_dir = os.path.join(work, "intents")
    os.makedirs(intents_dir)
    for cls, spec in budgets["intents"].items():
        with open(os.path.join(ROOT, spec["file"]), "rb") as src:
            data = src.read()
        with open(os.path.join(intents_dir, cls + ".json"), "wb") as dst:
            dst.write(data)
    ip = budgets["in_process"]
    repro_bench = (f"gait-run bench --bundle <{budgets['policy']} built> --trust KEY.pub "
                   f"--intents <the files of perf/slo_intents> --iterations {ip['iterations']}")

    def measure_in_process():
        bench_report = os.path.join(work, "bench.json")
        bench_cmd = [gait_run, "bench", "--bundle", bundle, *trust, "--intents", intents_dir,
                     "--iterations", str(ip["iterations"]), "--report", bench_report]
        r = run(bench_cmd)
        if r.returncode != 0:
            fail_setup(f"gait-run bench failed ({r.returncode}): {r.stderr.decode(errors='replace')}")
        with open(bench_report, encoding="utf-8") as f:
            return json.load(f)["classes"]

    def in_process_over(got, budget):
        return [f"{p} {got[f'{p}_ns'] / 1000:.2f} µs > budget {budget[p] / 1000:.2f} µs "
                f"(+{(got[f'{p}_ns'] - budget[p]) * 100 / budget[p]:.0f}%)"
                for p in ("p50", "p95", "p99") if got[f"{p}_ns"] > budget[p]]

    classes = measure_in_process()
    second = None
    if any(cls in classes and in_process_over(classes[cls], budget) for cls, budget in ip["budgets_ns"].items()):
        # As for the process budgets below: one run over budget on a shared
        # machine can be another job's; the classes are measured once more
        # and the second run decides. A regression is over budget twice; the
        # first run's figures stay in the report. The instruction budgets
        # further down are the noise-free guard.
        second = measure_in_process()
    for cls, budget in ip["budgets_ns"].items():
        got = (second or classes).get(cls)
        if got is None:
            violations.append(("in_process", f"class {cls}: no samples (is its intent's class still {cls}?)"))
            continue
        entry = {"p50_ns": got["p50_ns"], "p95_ns": got["p95_ns"], "p99_ns": got["p99_ns"],
                 "max_ns": got["max_ns"], "samples": got["samples"], "budget_ns": budget,
                 "over": in_process_over(got, budget)}
        if second is not None and cls in classes:
            first = classes[cls]
            entry["first_measurement_ns"] = {p: first[f"{p}_ns"] for p in ("p50", "p95", "p99", "max")}
        for over in entry["over"]:
            violations.append(("in_process", f"in-process {cls}: {over}; reproduce: {repro_bench}"))
        report["in_process"][cls] = entry

    # ---- instructions per decision (callgrind): the same on every machine
    if args.skip_instructions:
        report["instructions"] = {"skipped": "--skip-instructions"}
    else:
        report["instructions"] = measure_instructions(gait_run, bundle, trust, intents_dir, budgets, work, violations)

    # ---- whole process: spawn `gait-run eval` per intent, time spawn to exit
    pr = budgets["process"]
    def measure_process(cls, cmd, spec, want_exit):
        times = []
        for i in range(pr["warmup"] + pr["runs"]):
            t0 = time.perf_counter_ns()
            r = run(cmd)
            elapsed = time.perf_counter_ns() - t0
            verdict = None
            try:
                verdict = json.loads(r.stdout)["verdict"]
            except (ValueError, KeyError, TypeError):
                pass
            if r.returncode == 1:
                report["errors"]["internal_errors"].append({"class": cls, "stderr": r.stderr.decode(errors="replace")[:500]})
            elif r.returncode != want_exit or verdict != spec["verdict"]:
                report["errors"]["wrong_decisions"].append(
                    {"class": cls, "want": [spec["verdict"], want_exit], "got": [verdict, r.returncode]})
            if i >= pr["warmup"]:
                times.append(elapsed / 1e6)
        return breakdown(times)

    def over_budget(b, budget):
        return [f"{p} {b[p]:.2f} ms > budget {budget[p]} ms (+{(b[p] - budget[p]) * 100 / budget[p]:.0f}%)"
                for p in ("p50", "p95", "p99") if b[p] > budget[p]]

    for cls, budget in pr["budgets_ms"].items():
        spec = budgets["intents"][cls]
        intent_path = os.path.join(ROOT, spec["file"])
        cmd = [gait_run, "eval", "--bundle", bundle, *trust, "--intent", intent_path]
        want_exit = EXIT_FOR[spec["verdict"]]
        b = measure_process(cls, cmd, spec, want_exit)
        first = None
        if over_budget(b, budget):
            # A whole process's tail on a shared 2-core machine is mostly the
            # scheduler's (another build holding the cores while it starts):
            # a class over budget is measured once more, and the second
            # measurement decides. A real regression is over budget both
            # times; the first measurement stays in the report.
            first = {p: round(b[p], 3) for p in ("p50", "p95", "p99", "max")}
            b = measure_process(cls, cmd, spec, want_exit)
        entry = {"p50_ms": round(b["p50"], 3), "p90_ms": round(b["p90"], 3), "p95_ms": round(b["p95"], 3),
                 "p99_ms": round(b["p99"], 3), "max_ms": round(b["max"], 3), "samples": b["samples"],
                 "budget_ms": budget, "over": over_budget(b, budget)}
        if first is not None:
            entry["first_measurement_over_budget_ms"] = first
        for over in entry["over"]:
            violations.append(("process", f"process {cls}: {over}; reproduce: gait-run eval --bundle B --trust K.pub --intent {spec['file']}"))
        report["process"][cls] = entry

    # ---- fail-closed probes (error budget 0): each must block with its code
    report["fail_closed"] = fail_closed_probes(gait_run, gaitc, bundle, key, work, report["errors"])

    for kind in ("wrong_decisions", "internal_errors", "fail_closed_violations"):
        n = len(report["errors"][kind])
        limit = budgets["error_budget"][kind]
        if n > limit:
            first = json.dumps(report["errors"][kind][0])
            violations.append(("errors", f"error budget: {n} {kind.replace('_', ' ')} (budget {limit}); first: {first}"))

    report["status"] = "pass" if not violations else "fail"
    report["violations"] = [m for _, m in violations]
    os.makedirs(os.path.dirname(os.path.abspath(args.report)), exist_ok=True)
    with open(args.report, "w", encoding="utf-8") as f:
        json.dump(report, f, indent=2, sort_keys=True)
        f.write("\n")

    print_table(report)
    print(f"report: {os.path.relpath(args.report, ROOT)}")
    if violations:
        print(f"\nRUNTIME SLO FAILED ({len(violations)} budget(s) exceeded):", file=sys.stderr)
        for _, m in violations:
            print(f"  - {m}", file=sys.stderr)
        print("Budgets: perf/runtime_slo_budgets.json; contract: docs/slo/runtime_slo.md", file=sys.stderr)
        sys.exit(5)
    print("runtime SLO: every budget holds")


def measure_instructions(gait_run, bundle, trust, intents_dir, budgets, work, violations):
    """Instructions per decision, per class, outside SHA-256, under callgrind.

    Wall-clock budgets must leave room for a slower or busier machine (the
    same binary decides 2x slower on one of this project's CI machines than
    on another); an instruction count does not move with the machine or its
    load, so a small budget over it catches a regression of a few percent,
    such as a command line leaving the plain subset for the grammar.
    SHA-256 is left out: under valgrind the CPU's SHA extensions are hidden
    and sha2 runs its software rounds, which natively it does not.
    """
    spec = budgets.get("instructions")
    if spec is None:
        return {}
    for tool in ("valgrind", "callgrind_annotate"):
        if shutil.which(tool) is None:
            fail_setup(f"{tool} is required to count instructions per decision (apt install valgrind), "
                       "or pass --skip-instructions")
    iterations = spec["iterations"]
    # The counts are exact for one compiler: another rustc inlines and
    # schedules differently. With the budgets' own rustc a count over budget
    # fails the check; with another it is reported, not enforced. The
    # compiler is the one that built the binary (its `.comment` section),
    # not whichever `rustc` is on PATH.
    rustc = built_by(gait_run)
    enforced = rustc == spec["rustc"]
    if not enforced:
        print(f"note: instruction budgets not enforced: they were measured with {spec['rustc']}, "
              f"{os.path.basename(gait_run)} was built by {rustc}", file=sys.stderr)
    # gait-run bench decides once, warms up with min(1000, N) decisions, then
    # times N: every one is inside gate::evaluate_with, the function counted.
    decisions = 1 + min(1000, iterations) + iterations
    out = {"iterations": iterations, "rustc": rustc, "budgets_rustc": spec["rustc"], "enforced": enforced,
           "classes": {}}
    for cls, budget in spec["budgets"].items():
        one = os.path.join(work, "one-" + cls)
        os.makedirs(one, exist_ok=True)
        shutil.copy(os.path.join(intents_dir, cls + ".json"), one)
        cg = os.path.join(work, cls + ".callgrind")
        r = run(["valgrind", "--tool=callgrind", f"--toggle-collect={spec['function']}",
                 f"--callgrind-out-file={cg}", gait_run, "bench", "--bundle", bundle, *trust,
                 "--intents", one, "--iterations", str(iterations)])
        err = r.stderr.decode(errors="replace")
        m = re.search(r"Collected : (\d+)", err)
        if r.returncode != 0 or m is None:
            fail_setup(f"callgrind on gait-run bench ({cls}) failed ({r.returncode}): {err[-2000:]}")
        total = int(m.group(1))
        a = run(["callgrind_annotate", "--inclusive=yes", cg])
        if a.returncode != 0:
            fail_setup(f"callgrind_annotate failed ({a.returncode}): {a.stderr.decode(errors='replace')[-2000:]}")
        sha = 0
        for line in a.stdout.decode(errors="replace").splitlines():
            if "sha2::sha256::compress256 [" in line:
                sha = int(line.split()[0].replace(",", ""))
                break
        if total == 0:
            fail_setup(f"callgrind counted nothing in {spec['function']} ({cls}): was it renamed or inlined?")
        per = (total - sha) // decisions
        entry = {"non_sha256": per, "total": total // decisions, "budget": budget, "over": []}
        if per > budget:
            over = f"{per:,} instructions per decision outside SHA-256 > budget {budget:,} (+{(per - budget) * 100 / budget:.1f}%)"
            entry["over"].append(over)
            if enforced:
                violations.append(("instructions", f"instructions {cls}: {over}; reproduce: scripts/perf_instructions.sh {iterations}"))
            else:
                print(f"note: instructions {cls}: {over} (not enforced)", file=sys.stderr)
        out["classes"][cls] = entry
    return out


def built_by(binary):
    """`rustc X.Y.Z (hash date)`: the compiler recorded in the binary's
    `.comment` section (`rustc version …`), or "unknown"."""
    try:
        with open(binary, "rb") as f:
            data = f.read()
    except OSError:
        return "unknown"
    m = re.search(rb"rustc version ([0-9][^\x00]{0,80})", data)
    return "rustc " + m.group(1).decode(errors="replace") if m else "unknown"


def fail_closed_probes(gait_run, gaitc, bundle, key, work, errors):
    """Runs each probe through the real binary; records what it returned."""
    with open(bundle, "rb") as f:
        good = f.read()
    tampered = os.path.join(work, "tampered.gaitb")
    with open(tampered, "wb") as f:
        f.write(good[:-1] + bytes([good[-1] ^ 0x01]))
    other = os.path.join(work, "other")
    run([gaitc, "keygen", "--out", other])
    trust = ["--trust", key + ".pub"]
    high = '"context": {"identity": "slo", "workspace": "/workspace", "risk_class": "high"}'
    probes = [
        ("invalid intent: not JSON", [bundle], trust, b"{not json", 6, "intent_invalid"),
        ("invalid intent: repeated key", [bundle], trust,
         b'{"tool_name": "read_file", "tool_name": "exec"}', 6, "intent_invalid"),
        ("invalid intent: traversal with no workspace", [bundle], trust,
         b'{"tool_name": "read_file", "args": {"path": "../etc/passwd"}}', 6, "intent_invalid"),
        ("missing required fields at high risk", [bundle], trust,
         ('{"tool_name": "mystery_tool", ' + high + '}').encode(), 3, None),
        ("unknown endpoint class (unmapped tool, unknown risk)", [bundle], trust,
         b'{"tool_name": "teleport", "targets": [{"kind": "other", "value": "x"}], "context": {"risk_class": "weird"}}', 3, None),
        ("skill verification failure", [bundle], trust,
         ('{"tool_name": "read_file", "args": {"path": "/workspace/a"}, "arg_provenance": [{"arg_path": "$.path", "source": "user"}], '
          '"skill_provenance": {"skill_name": "web-search", "skill_version": "1.2.0", "source": "registry", "publisher": "acme", '
          '"digest": "' + "0" * 64 + '", "signature_key_id": "' + "1" * 64 + '"}, ' + high + '}').encode(), 4, "skill_unverified"),
        ("rejected bundle: tampered payload", [tampered], trust,
         b'{"tool_name": "read_file", "args": {"path": "/workspace/a"}}', 2, "bundle_payload_digest_mismatch"),
        ("rejected bundle: untrusted key", [bundle], ["--trust", other + ".pub"],
         b'{"tool_name": "read_file", "args": {"path": "/workspace/a"}}', 2, "bundle_key_untrusted"),
    ]
    results = []
    for name, (b,), tr, stdin, want_exit, want_code in probes:
        r = run([gait_run, "eval", "--bundle", b, *tr, "--intent", "-"], stdin=stdin)
        verdict, reasons = None, []
        try:
            out = json.loads(r.stdout)
            verdict, reasons = out.get("verdict"), out.get("reason_codes", [])
        except ValueError:
            pass
        ok = verdict in ("block", "require_approval") and r.returncode == want_exit and (
            want_code is None or want_code in reasons)
        results.append({"probe": name, "exit": r.returncode, "verdict": verdict, "reason_codes": reasons,
                        "want_exit": want_exit, "want_code": want_code, "ok": ok})
        if not ok:
            errors["fail_closed_violations"].append(results[-1])
    return results


def cpu_model():
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip() + f" ({os.cpu_count()} cpus)"
    except OSError:
        pass
    return f"unknown ({os.cpu_count()} cpus)"


def print_table(report):
    print(f"{'scope':<11} {'class':<10} {'p50':>10} {'p95':>10} {'p99':>10} {'max':>11}  budget p50/p95/p99   status")
    for cls, e in report["in_process"].items():
        b = e["budget_ns"]
        print(f"{'in-process':<11} {cls:<10} {e['p50_ns'] / 1000:>8.2f}µs {e['p95_ns'] / 1000:>8.2f}µs "
              f"{e['p99_ns'] / 1000:>8.2f}µs {e['max_ns'] / 1000:>9.1f}µs  "
              f"{b['p50'] / 1000:g}/{b['p95'] / 1000:g}/{b['p99'] / 1000:g} µs  {'OVER' if e['over'] else 'ok'}")
    for cls, e in report.get("instructions", {}).get("classes", {}).items():
        print(f"{'instructions':<11} {cls:<10} {e['non_sha256']:>10,} per decision outside SHA-256 "
              f"({e['total']:,} with it)  budget {e['budget']:,}  {'OVER' if e['over'] else 'ok'}")
    for cls, e in report["process"].items():
        b = e["budget_ms"]
        print(f"{'process':<11} {cls:<10} {e['p50_ms']:>8.2f}ms {e['p95_ms']:>8.2f}ms {e['p99_ms']:>8.2f}ms "
              f"{e['max_ms']:>9.2f}ms  {b['p50']}/{b['p95']}/{b['p99']} ms  {'OVER' if e['over'] else 'ok'}")
    for p in report["fail_closed"]:
        print(f"{'fail-closed':<11} {p['probe']:<52} exit {p['exit']} {p['verdict']}  {'ok' if p['ok'] else 'VIOLATION'}")


if __name__ == "__main__":
    main()
