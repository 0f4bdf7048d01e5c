"""The adapter parity harness: one scenario table (scenarios.json) through
every framework adapter and through `gait-run eval`, twice.

    python tests/adapters/parity.py            (scripts/test_adapter_parity.sh runs it)

For every scenario x framework it asserts
  verdict parity        the decision record's result equals `gait-run eval`'s on
                        the same intent (verdict, reason codes, intent digest,
                        every field), and the recorded intent is the scenario's;
  executed semantics    the tool's side effect (a file it writes, one line in the
                        effects log) exists iff the verdict is allow, exactly
                        once, and nothing else appears in the scenario's folder;
  deterministic evidence the record is at <trace_dir>/<framework>/<id>.json,
                        valid against schemas/v1/decision_record.schema.json,
                        and byte-identical in both runs (records hold no time
                        field; `gait-run eval`'s signed traces differ only in
                        `observed_at` and the signature over it);
  fail-closed handling  every error (tampered bundle, sidecar down, a silent
                        sidecar, a decision past its deadline, an invalid
                        intent) refuses the call with a stable code.
It writes target/adapter-parity/report.json and junit.xml and exits 1 on any
drift, and 1 when a framework's runner is missing — unless it is OpenClaw and
GAIT_PARITY_SKIP_OPENCLAW=1 (then reported as "missing", tolerated).
See tests/adapters/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
TARGET = Path(os.environ.get("CARGO_TARGET_DIR") or ROOT / "target").resolve()
OUT = TARGET / "adapter-parity"
GAITC = os.environ.get("GAITC", str(TARGET / "debug" / "gaitc"))
GAIT_RUN = os.environ.get("GAIT_RUN", str(TARGET / "debug" / "gait-run"))
VENV = TARGET / "adapters" / "venv" / "bin" / "python"
VENV_FORGE = TARGET / "adapters" / "venv-forge" / "bin" / "python"
NODE = TARGET / "adapters" / "bin" / "node"

# What may differ between two runs. Decision records (every adapter) hold no
# clock value; `gait-run eval --trace-dir` traces carry `observed_at` and a
# signature whose signed digest covers it.
TIME_FIELDS = {"decision_record": [], "gait.gate.trace": ["observed_at", "signature.signed_digest", "signature.sig"]}

REFUSAL_MARK = "not run"


@dataclass
class Framework:
    """One adapter: how its runner is started (the job and output paths are
    appended) and what must exist for it to run."""

    name: str
    command: List[str]
    needs: List[Path]
    how_to_install: str

    def missing(self) -> List[str]:
        return [str(p) for p in self.needs if not p.exists()]


FRAMEWORKS = [
    Framework("openai_agents", [str(VENV), str(HERE / "run_python.py"), "openai_agents"], [VENV], "scripts/setup_adapters.sh"),
    Framework("langchain", [str(VENV), str(HERE / "run_python.py"), "langchain"], [VENV], "scripts/setup_adapters.sh"),
    Framework("autogen", [str(VENV), str(HERE / "run_python.py"), "autogen"], [VENV], "scripts/setup_adapters.sh"),
    Framework("autogpt", [str(VENV_FORGE), str(HERE / "run_python.py"), "autogpt"], [VENV_FORGE], "scripts/setup_adapters.sh"),
    # OpenClaw: a Node runner speaking the same job/output protocol (README.md),
    # driving `openclaw agent --local` with the gait-gate plugin loaded.
    Framework(
        "openclaw",
        [str(NODE), str(HERE / "run_openclaw.mjs")],
        [NODE, HERE / "run_openclaw.mjs", ROOT / "sdk" / "openclaw" / "openclaw.plugin.json", HERE / "openclaw_tools" / "openclaw.plugin.json"],
        "sdk/openclaw + tests/adapters/run_openclaw.mjs + scripts/setup_adapters.sh (target/adapters/bin/node)",
    ),
]


# -- small helpers ---------------------------------------------------------------


def run(cmd: List[str], stdin: bytes = b"", timeout: float = 120, env: Optional[Dict[str, str]] = None) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(cmd, input=stdin, capture_output=True, timeout=timeout, check=False, env=env)


def record_name(tool_call_id: str) -> str:
    """gait._trace.record_name (the harness does not import the package)."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", tool_call_id)[:200]
    if not name or name.startswith("."):
        name = "_" + name
    return name + ".json"


def expand(value: Any) -> Any:
    """Scenario arguments: {"$repeat": [text, n]} is text repeated n times."""
    if isinstance(value, dict):
        if set(value) == {"$repeat"}:
            text, n = value["$repeat"]
            return text * n
        return {k: expand(v) for k, v in value.items()}
    if isinstance(value, list):
        return [expand(v) for v in value]
    return value


def drop(doc: Dict[str, Any], dotted: List[str]) -> Dict[str, Any]:
    out = json.loads(json.dumps(doc))
    for path in dotted:
        *parents, last = path.split(".")
        node = out
        for p in parents:
            node = node.get(p) if isinstance(node, dict) else None
        if isinstance(node, dict):
            node.pop(last, None)
    return out


def record_validator() -> Any:
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    schemas = [json.loads(p.read_text()) for p in sorted((ROOT / "schemas" / "v1").glob("*.schema.json"))]
    registry: Registry = Registry().with_resources((s["$id"], Resource.from_contents(s)) for s in schemas)
    schema = json.loads((ROOT / "schemas" / "v1" / "decision_record.schema.json").read_text())
    return Draft202012Validator(schema, registry=registry)


class SilentSidecar:
    """A loopback server that accepts connections and never answers."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.conns: List[socket.socket] = []
        self.stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)

    def close(self) -> None:
        self.stop = True
        self.sock.close()
        for c in self.conns:
            c.close()


def down_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- the scenarios -----------------------------------------------------------------


@dataclass
class Scenario:
    raw: Dict[str, Any]
    id: str
    tool: str
    args: Dict[str, Any]
    skill: Optional[Dict[str, Any]]
    context: Dict[str, Any]
    workspace: Path
    expect: Dict[str, Any]
    gate: Dict[str, Any]
    intent: Dict[str, Any] = field(default_factory=dict)

    @property
    def folder(self) -> Path:
        return self.workspace.parent.parent

    @property
    def effects_log(self) -> Path:
        return self.folder / "effects.jsonl"

    @property
    def effect_path(self) -> Path:
        p = str(self.raw["effect"]["path"])
        return Path(os.path.normpath(self.workspace / (p[1:] if p.startswith("/") else p)))

    @property
    def allowed(self) -> bool:
        return self.expect.get("verdict") == "allow"


def load_scenarios(work: Path) -> Tuple[Dict[str, Any], List[Scenario]]:
    table = json.loads((HERE / "scenarios.json").read_text())
    out: List[Scenario] = []
    seen = set()
    for raw in table["scenarios"]:
        sid = raw["id"]
        assert re.fullmatch(r"[a-z0-9_]+", sid) and sid not in seen, sid
        seen.add(sid)
        ws = work / sid / "gait-parity-ws" / f"task-{sid}"
        skill = table["skills"][raw["skill"]] if raw.get("skill") else None
        ctx = dict(table["context"], session_id=f"sess-{sid}")
        s = Scenario(raw, sid, raw["call"]["tool"], expand(raw["call"]["args"]), skill, ctx, ws, raw["expect"], raw["gate"])
        s.intent = {
            "tool_name": s.tool,
            "args": s.args,
            "context": {**ctx, "workspace": str(ws)},
        }
        if skill is not None:
            s.intent["skill_provenance"] = skill
        out.append(s)
    return table, out


# -- gait-run eval, the reference ------------------------------------------------------


@dataclass
class Build:
    bundle: Path
    tampered: Path
    key: Path
    trust: Path
    policy_digest: str


def build(out: Path, table: Dict[str, Any]) -> Build:
    d = out / "build"
    shutil.rmtree(d, ignore_errors=True)
    d.mkdir(parents=True)
    p = run([GAITC, "keygen", "--out", str(d / "parity")])
    assert p.returncode == 0, p.stderr.decode()
    p = run([GAITC, "build", str(HERE / table["policy"]), "-o", str(d / "parity.gaitb"), "--key", str(d / "parity.key")])
    assert p.returncode == 0, p.stderr.decode()
    digest = re.search(rb"policy_digest=(sha256:[0-9a-f]{64})", p.stdout + p.stderr)
    # The tampered bundle: its payload's last byte flipped after signing.
    data = bytearray((d / "parity.gaitb").read_bytes())
    data[-1] ^= 0x01
    (d / "tampered.gaitb").write_bytes(bytes(data))
    return Build(d / "parity.gaitb", d / "tampered.gaitb", d / "parity.key", d / "parity.pub", digest.group(1).decode() if digest else "")


def cli_eval(b: Build, s: Scenario, trace_dir: Optional[Path], deadline: bool = True) -> Tuple[int, Dict[str, Any]]:
    bundle = b.tampered if s.gate["mode"] == "tampered_bundle" else b.bundle
    cmd = [GAIT_RUN, "eval", "--bundle", str(bundle), "--trust", str(b.trust), "--intent", "-"]
    # The scenario's deadline, else the longest one offered (60 s): the
    # reference is this debug build, whose signing of a trace on a busy
    # 2-core machine can near the default 50 ms — the reference must not turn
    # into a decision_timeout. (The deadline is no part of a result.)
    timeout_ms = s.gate.get("decision_timeout_ms") if deadline else None
    cmd += ["--decision-timeout-ms", str(timeout_ms if timeout_ms is not None else 60_000)]
    if trace_dir is not None:
        trace_dir.mkdir(parents=True, exist_ok=True)
        cmd += ["--trace-dir", str(trace_dir), "--trace-key", str(b.key)]
    p = run(cmd, stdin=json.dumps(s.intent).encode())
    return p.returncode, json.loads(p.stdout)


def check_eval(b: Build, scenarios: List[Scenario], runs_dir: Path) -> Tuple[Dict[str, Any], Dict[str, Dict[str, Any]]]:
    """`gait-run eval` on every scenario's intent, twice, with signed traces:
    the reference results, and the eval column of the report."""
    reference: Dict[str, Dict[str, Any]] = {}
    cells: Dict[str, Any] = {}
    for s in scenarios:
        failures: List[str] = []
        exp = s.expect
        if s.gate["mode"] in ("sidecar_down", "sidecar_silent"):
            cells[s.id] = {"status": "not_applicable", "why": "a transport failure of the sidecar: gait-run eval has no transport", "failures": []}
            continue
        traces: List[Optional[Dict[str, Any]]] = []
        outs: List[Tuple[int, Dict[str, Any]]] = []
        for r in (1, 2):
            tdir = runs_dir / f"run{r}" / "eval-traces" / s.id
            shutil.rmtree(tdir, ignore_errors=True)
            code, result = cli_eval(b, s, tdir)
            outs.append((code, result))
            files = sorted(tdir.glob("trace_*.json"))
            if len(files) > 1:
                failures.append(f"run {r}: {len(files)} traces")
            traces.append(json.loads(files[0].read_text()) if files else None)
            if files:
                v = run([GAIT_RUN, "trace", "verify", str(files[0]), "--trust", str(b.trust)])
                if v.returncode != 0:
                    failures.append(f"run {r}: gait-run trace verify exited {v.returncode}: {v.stdout.decode()[:300]}")
        (code, result), (code2, result2) = outs
        # The reference: the same call without a trace, as the adapters decide
        # (the traced runs differ from it and from each other only in
        # trace_path, which names the file written).
        plain_code, reference[s.id] = cli_eval(b, s, None)
        if reference[s.id].get("trace_path") is not None:
            failures.append("trace_path set without --trace-dir")
        for c, r in ((code, result), (code2, result2)):
            a, u = drop(r, ["trace_path"]), drop(reference[s.id], ["trace_path"])
            if (c, a) != (plain_code, u):
                diff = {k: [a.get(k), u.get(k)] for k in sorted(set(a) | set(u)) if a.get(k) != u.get(k)}
                failures.append(f"a traced run's result (exit {c}) differs from the untraced one (exit {plain_code}) beyond trace_path: {json.dumps(diff)[:400]}")
                break
        if code != exp.get("exit_code"):
            failures.append(f"exit code {code}, want {exp.get('exit_code')}")
        if exp.get("verdict") is not None:
            if (result.get("verdict"), result.get("reason_codes")) != (exp["verdict"], exp["reason_codes"]):
                failures.append(f"verdict {result.get('verdict')} {result.get('reason_codes')}, want {exp['verdict']} {exp['reason_codes']}")
        else:
            if result.get("reason_codes") != [exp["error_code"]] or result.get("verdict") != "block":
                failures.append(f"reason codes {result.get('reason_codes')}, want block [{exp['error_code']}]")
        # A trace exactly for the decisions the policy made.
        want_trace = result.get("decision") == "rule" or result.get("decision") == "default"
        if want_trace != (traces[0] is not None):
            failures.append(f"trace written: {traces[0] is not None}, want {want_trace} (decision {result.get('decision')})")
        if traces[0] is not None and traces[1] is not None:
            a, c = (drop(t, TIME_FIELDS["gait.gate.trace"]) for t in traces)  # type: ignore[arg-type]
            if a != c:
                failures.append("the two runs' traces differ beyond observed_at and the signature")
            if traces[0].get("intent_digest") != result.get("intent_digest") or traces[0].get("verdict") != result.get("verdict"):
                failures.append("the trace names another intent digest or verdict than the result")
        if exp.get("with_60s_deadline"):
            _, free = cli_eval(b, s, None, deadline=False)
            want = exp["with_60s_deadline"]
            if (free.get("verdict"), free.get("reason_codes")) != (want["verdict"], want["reason_codes"]):
                failures.append(f"with a 60 s deadline: {free.get('verdict')} {free.get('reason_codes')}, want {want['verdict']} {want['reason_codes']}")
        cells[s.id] = {
            "status": "fail" if failures else "pass",
            "exit_code": code,
            "verdict": result.get("verdict"),
            "reason_codes": result.get("reason_codes"),
            "intent_digest": result.get("intent_digest"),
            "trace": traces[0] is not None,
            "failures": failures,
        }
    return cells, reference


# -- one framework, one run ---------------------------------------------------------------


def gate_spec(s: Scenario, b: Build, scratch: Path, urls: Dict[str, str]) -> Dict[str, Any]:
    mode = s.gate["mode"]
    spec: Dict[str, Any] = {"mode": mode}
    if mode == "bundle":
        spec.update(bundle=str(b.bundle), trust=[str(b.trust)], decision_timeout_ms=s.gate.get("decision_timeout_ms"))
    elif mode == "tampered_bundle":
        spec.update(bundle=str(scratch / f"live-{s.id}.gaitb"), good=str(b.bundle), tampered=str(b.tampered), trust=[str(b.trust)], gait_run=GAIT_RUN)
    else:
        spec.update(url=urls[mode], timeout_s=s.gate["timeout_s"])
    return spec


def files_under(folder: Path) -> List[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file())


def check_cell(
    fw: str,
    s: Scenario,
    rep: Dict[str, Any],
    trace_dir: Path,
    reference: Dict[str, Dict[str, Any]],
    validator: Any,
) -> Dict[str, Any]:
    """Checks one scenario's outcome in one framework, right after its run
    (the files are still there)."""
    failures: Dict[str, List[str]] = {"verdict_parity": [], "executed_semantics": [], "deterministic_evidence": [], "fail_closed": []}
    exp = s.expect
    for key in ("runner_error", "gate_error_code"):
        if key in rep:
            failures["fail_closed"].append(f"{key}: {rep[key]}")
    record_id = rep.get("record_id")
    record: Optional[Dict[str, Any]] = None
    record_bytes = b""
    path = trace_dir / fw / record_name(str(record_id)) if record_id else None
    if path is None or not path.is_file():
        failures["deterministic_evidence"].append(f"no decision record at {path}")
    else:
        record_bytes = path.read_bytes()
        record = json.loads(record_bytes)
        errors = [f"{e.message} at {list(e.absolute_path)}" for e in validator.iter_errors(record)]
        if errors:
            failures["deterministic_evidence"].append(f"record invalid: {errors}")
        if record.get("framework") != fw or record.get("tool_call_id") != record_id:
            failures["deterministic_evidence"].append(f"record names {record.get('framework')}/{record.get('tool_call_id')}")
    # Verdict parity with gait-run eval.
    verdict = reason_codes = digest = error_code = None
    executed = None
    if record is not None:
        executed = record.get("executed")
        if record.get("intent") != s.intent:
            failures["verdict_parity"].append(f"the recorded intent is not the scenario's: {json.dumps(record.get('intent'))[:400]}")
        result = record.get("result")
        if exp.get("verdict") is not None:
            ref = reference.get(s.id)
            if result is None:
                failures["verdict_parity"].append(f"no result: {record.get('error')}")
            else:
                verdict, reason_codes, digest = result.get("verdict"), result.get("reason_codes"), result.get("intent_digest")
                if ref is not None and result != ref:
                    diff = sorted(k for k in set(result) | set(ref) if result.get(k) != ref.get(k))
                    failures["verdict_parity"].append(f"result differs from gait-run eval in {diff}")
                if (verdict, reason_codes) != (exp["verdict"], exp["reason_codes"]):
                    failures["verdict_parity"].append(f"{verdict} {reason_codes}, want {exp['verdict']} {exp['reason_codes']}")
        else:
            m = re.search(r"gate unavailable \(([^)]*)\)", str(record.get("error")))
            error_code = m.group(1) if m else None
            if result is not None:
                failures["fail_closed"].append(f"a result where the gate was unavailable: {result.get('verdict')}")
            if error_code != exp["error_code"]:
                failures["fail_closed"].append(f"error code {error_code}, want {exp['error_code']} ({record.get('error')})")
            ref = reference.get(s.id)
            if ref is not None and ref.get("reason_codes") != [error_code]:
                failures["fail_closed"].append(f"gait-run eval's code is {ref.get('reason_codes')}, the adapter's {error_code}")
            if s.gate["mode"] == "tampered_bundle" and rep.get("load_error_code", exp["error_code"]) != exp["error_code"]:
                failures["fail_closed"].append(f"loading the tampered bundle gave {rep.get('load_error_code')}")
        if executed is not s.allowed:
            failures["executed_semantics"].append(f"record says executed={executed}")
    # What the framework showed: the model's tool result, or the exception.
    code_words = list(exp.get("reason_codes") or []) if exp.get("verdict") is not None else [exp["error_code"]]
    if "model_saw" in rep:
        saw = rep["model_saw"]
        if len(saw) != 1:
            failures["executed_semantics"].append(f"the model got {len(saw)} results for the call")
        else:
            text = saw[0]
            if s.allowed and ("gait" in text or REFUSAL_MARK in text):
                failures["executed_semantics"].append(f"the model was told: {text[:200]}")
            if not s.allowed and not (REFUSAL_MARK in text and all(c in text for c in code_words)):
                failures["fail_closed"].append(f"the refusal the model got does not name {code_words}: {text[:300]}")
        if "tool_is_error" in rep and rep["tool_is_error"] != [not s.allowed]:
            failures["executed_semantics"].append(f"is_error {rep['tool_is_error']}")
    elif "raised" in rep or "returned" in rep:
        want = {"allow": None, "block": "Blocked", "require_approval": "ApprovalRequired", None: "GateUnavailable"}[exp.get("verdict")]
        if rep.get("raised") != want:
            failures["fail_closed"].append(f"raised {rep.get('raised')}, want {want}")
        if want == "GateUnavailable" and rep.get("raised_code") != exp["error_code"]:
            failures["fail_closed"].append(f"GateUnavailable code {rep.get('raised_code')}")
        if want in ("Blocked", "ApprovalRequired") and rep.get("raised_reason_codes") != exp.get("reason_codes"):
            failures["fail_closed"].append(f"raised with {rep.get('raised_reason_codes')}")
    else:
        failures["executed_semantics"].append("the runner reported neither what the model saw nor an exception")
    # The side effect: exactly once iff allow, nothing else anywhere.
    lines = s.effects_log.read_text().splitlines() if s.effects_log.exists() else []
    if len(lines) != (1 if s.allowed else 0):
        failures["executed_semantics"].append(f"{len(lines)} side effect(s) logged: {lines[:3]}")
    if s.effect_path.exists() != s.allowed:
        failures["executed_semantics"].append(f"{s.effect_path} exists: {s.effect_path.exists()}")
    if s.allowed and s.effect_path.exists() and "content" in s.raw["effect"]:
        if s.effect_path.read_text() != s.raw["effect"]["content"]:
            failures["executed_semantics"].append(f"{s.effect_path} holds {s.effect_path.read_text()[:80]!r}")
    expected_files = {s.effects_log, s.effect_path} if s.allowed else set()
    stray = [str(p) for p in files_under(s.folder) if p not in expected_files]
    if stray:
        failures["executed_semantics"].append(f"files written: {stray}")
    status = "fail" if any(failures.values()) else "pass"
    return {
        "status": status,
        "record": str(path.relative_to(OUT)) if path is not None and path.is_file() and path.is_relative_to(OUT) else (str(path) if path else None),
        "record_bytes": record_bytes,
        "verdict": verdict,
        "reason_codes": reason_codes,
        "intent_digest": digest,
        "error_code": error_code,
        "executed": executed,
        "checks": {k: not v for k, v in failures.items()},
        "failures": [f"{k}: {m}" for k, v in failures.items() for m in v],
    }


def run_framework(
    fw: Framework,
    r: int,
    scenarios: List[Scenario],
    b: Build,
    urls: Dict[str, str],
    reference: Dict[str, Dict[str, Any]],
    validator: Any,
    work: Path,
) -> Tuple[Dict[str, Any], Dict[str, Dict[str, Any]]]:
    run_dir = OUT / "runs" / f"run{r}"
    trace_dir = run_dir / "traces"
    scratch = run_dir / "scratch" / fw.name
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    shutil.rmtree(work, ignore_errors=True)
    for s in scenarios:
        s.workspace.mkdir(parents=True)
    job = {
        "framework": fw.name,
        "trace_dir": str(trace_dir),
        "scratch": str(scratch),
        "scenarios": [
            {
                "id": s.id,
                "summary": s.raw["summary"],
                "tool": s.tool,
                "args": s.args,
                "tool_call_id": f"call_{s.id}",
                "context": s.context,
                "skill": s.skill,
                "workspace": str(s.workspace),
                "effects_log": str(s.effects_log),
                "gate": gate_spec(s, b, scratch, urls),
            }
            for s in scenarios
        ],
    }
    (scratch / "job.json").write_text(json.dumps(job, indent=2) + "\n")
    out_path = scratch / "out.json"
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1", GAIT_RUN=GAIT_RUN, LITELLM_LOCAL_MODEL_COST_MAP="True")
    started = time.monotonic()
    p = run([*fw.command, str(scratch / "job.json"), str(out_path)], timeout=900, env=env)
    info: Dict[str, Any] = {"exit_code": p.returncode, "seconds": round(time.monotonic() - started, 1)}
    (scratch / "runner.log").write_bytes(p.stdout + p.stderr)
    reports: Dict[str, Dict[str, Any]] = {}
    if p.returncode == 0 and out_path.exists():
        reports = {rep["id"]: rep for rep in json.loads(out_path.read_text())["results"]}
    else:
        info["error"] = f"runner exited {p.returncode}: {(p.stderr or p.stdout).decode(errors='replace')[-2000:]}"
    cells: Dict[str, Dict[str, Any]] = {}
    for s in scenarios:
        rep = reports.get(s.id, {"runner_error": info.get("error", "no report for the scenario")})
        cells[s.id] = check_cell(fw.name, s, rep, trace_dir, reference, validator)
    # One record per tool call, nothing else in the framework's folder.
    wanted = {record_name(str(rep.get("record_id"))) for rep in reports.values()}
    stray = sorted(p.name for p in (trace_dir / fw.name).iterdir() if p.name not in wanted) if (trace_dir / fw.name).is_dir() else []
    if stray:
        info["error"] = f"files in {trace_dir / fw.name} that are no call's record: {stray}"
    return info, cells


# -- report --------------------------------------------------------------------------


def junit(report: Dict[str, Any], path: Path) -> None:
    suites = ET.Element("testsuites", name="adapter-parity")
    total = failed = skipped = 0
    for fw, entry in report["frameworks"].items():
        suite = ET.SubElement(suites, "testsuite", name=fw)
        n = f = sk = 0
        if entry["status"] in ("missing", "missing_tolerated"):
            case = ET.SubElement(suite, "testcase", classname=f"adapter_parity.{fw}", name="runner")
            n += 1
            if entry["status"] == "missing_tolerated":
                ET.SubElement(case, "skipped", message=entry["why"])
                sk += 1
            else:
                ET.SubElement(case, "failure", message=entry["why"]).text = entry["why"]
                f += 1
        for sid, cell in entry.get("scenarios", {}).items():
            case = ET.SubElement(suite, "testcase", classname=f"adapter_parity.{fw}", name=sid)
            n += 1
            if cell["status"] == "fail":
                msg = "; ".join(cell["failures"])
                ET.SubElement(case, "failure", message=msg[:500]).text = "\n".join(cell["failures"])
                f += 1
            elif cell["status"] == "not_applicable":
                ET.SubElement(case, "skipped", message=cell.get("why", "not applicable"))
                sk += 1
        suite.set("tests", str(n))
        suite.set("failures", str(f))
        suite.set("skipped", str(sk))
        total, failed, skipped = total + n, failed + f, skipped + sk
    suites.set("tests", str(total))
    suites.set("failures", str(failed))
    suites.set("skipped", str(skipped))
    ET.indent(suites)
    path.write_bytes(ET.tostring(suites, encoding="utf-8", xml_declaration=True) + b"\n")


def overall(statuses: Dict[str, str]) -> bool:
    """Passes only when every framework passed, OpenClaw's missing runner
    being the one tolerated absence."""
    return all(st in ("pass", "missing_tolerated") for st in statuses.values())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--only", action="append", help="run only these frameworks (the report says the others were not run; exit 1)")
    args = ap.parse_args()
    tolerate_openclaw = os.environ.get("GAIT_PARITY_SKIP_OPENCLAW") == "1"
    OUT.mkdir(parents=True, exist_ok=True)
    shutil.rmtree(OUT / "runs", ignore_errors=True)
    work = OUT / "work"
    table, scenarios = load_scenarios(work)
    b = build(OUT, table)
    validator = record_validator()
    silent = SilentSidecar()
    urls = {"sidecar_down": f"http://127.0.0.1:{down_port()}", "sidecar_silent": f"http://127.0.0.1:{silent.port}"}
    report: Dict[str, Any] = {
        "schema_id": "gait.adapter_parity.report",
        "schema_version": "1.0.0",
        "policy": str((HERE / table["policy"]).relative_to(ROOT)),
        "policy_digest": b.policy_digest,
        "scenarios": [s.id for s in scenarios],
        "runs": 2,
        "time_fields": TIME_FIELDS,
        "frameworks": {},
    }
    try:
        started = time.monotonic()
        eval_cells, reference = check_eval(b, scenarios, OUT / "runs")
        report["frameworks"]["eval"] = {
            "status": "fail" if any(c["status"] == "fail" for c in eval_cells.values()) else "pass",
            "runner": f"{GAIT_RUN} eval",
            "seconds": round(time.monotonic() - started, 1),
            "scenarios": eval_cells,
        }
        print(f"eval: {report['frameworks']['eval']['status']}", flush=True)
        for fw in FRAMEWORKS:
            if args.only and fw.name not in args.only:
                report["frameworks"][fw.name] = {"status": "not_run", "why": "--only", "scenarios": {}}
                continue
            missing = fw.missing()
            if missing:
                tolerated = fw.name == "openclaw" and tolerate_openclaw
                why = f"runner missing ({', '.join(missing)}); install: {fw.how_to_install}"
                if tolerated:
                    why += " — tolerated because GAIT_PARITY_SKIP_OPENCLAW=1"
                report["frameworks"][fw.name] = {"status": "missing_tolerated" if tolerated else "missing", "why": why, "scenarios": {}}
                print(f"{fw.name}: MISSING{' (tolerated: GAIT_PARITY_SKIP_OPENCLAW=1)' if tolerated else ''}: {why}", flush=True)
                continue
            runs: List[Tuple[Dict[str, Any], Dict[str, Dict[str, Any]]]] = []
            for r in (1, 2):
                runs.append(run_framework(fw, r, scenarios, b, urls, reference, validator, work))
            (info1, cells1), (info2, cells2) = runs
            cells: Dict[str, Any] = {}
            for s in scenarios:
                c1, c2 = dict(cells1[s.id]), cells2[s.id]
                failures = list(c1["failures"]) + [f"run 2: {m}" for m in c2["failures"]]
                if c1["record_bytes"] != c2["record_bytes"]:
                    failures.append("deterministic_evidence: the two runs' records differ")
                    c1["checks"]["deterministic_evidence"] = False
                for k in c1["checks"]:
                    c1["checks"][k] = c1["checks"][k] and c2["checks"][k]
                c1.pop("record_bytes")
                c1["failures"] = failures
                c1["status"] = "fail" if failures else "pass"
                cells[s.id] = c1
            errors = [i["error"] for i in (info1, info2) if "error" in i]
            status = "fail" if errors or any(c["status"] == "fail" for c in cells.values()) else "pass"
            report["frameworks"][fw.name] = {
                "status": status,
                "runner": " ".join(Path(c).name if i == 0 else str(Path(c).relative_to(ROOT)) if c.startswith(str(ROOT)) else c for i, c in enumerate(fw.command)),
                "seconds": [info1["seconds"], info2["seconds"]],
                "runner_errors": errors,
                "scenarios": cells,
            }
            bad = [f"{sid}: {c['failures'][0]}" for sid, c in cells.items() if c["status"] == "fail"]
            print(f"{fw.name}: {status} ({len(scenarios) - len(bad)}/{len(scenarios)} scenarios, runs {info1['seconds']} s + {info2['seconds']} s)", flush=True)
            for line in bad:
                print(f"  FAIL {line}", flush=True)
    finally:
        silent.close()
        shutil.rmtree(work, ignore_errors=True)
    statuses = {fw: e["status"] for fw, e in report["frameworks"].items()}
    ok = overall(statuses)
    all_cells = [c for e in report["frameworks"].values() for c in e.get("scenarios", {}).values()]
    counts = {st: sum(1 for c in all_cells if c["status"] == st) for st in ("pass", "fail", "not_applicable")}
    report["status"] = "pass" if ok else "fail"
    report["summary"] = {
        "frameworks": statuses,
        "cells": len(all_cells),
        "passed_cells": counts["pass"],
        "failed_cells": counts["fail"],
        "not_applicable_cells": counts["not_applicable"],
        "openclaw": statuses.get("openclaw"),
    }
    (OUT / "report.json").write_text(json.dumps(report, indent=2, sort_keys=True) + "\n")
    junit(report, OUT / "junit.xml")
    print(f"adapter parity: {report['status']} ({', '.join(f'{k} {v}' for k, v in statuses.items())}) — report {OUT / 'report.json'}, JUnit {OUT / 'junit.xml'}")
    # A missing runner counts as one failed (or, tolerated, one skipped) case, as in the JUnit file.
    missing = sum(1 for st in statuses.values() if st in ("missing", "not_run"))
    tolerated = sum(1 for st in statuses.values() if st == "missing_tolerated")
    print(f"adapter-parity: {counts['pass']} passed, {counts['fail'] + missing} failed, {counts['not_applicable'] + tolerated} skipped")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
