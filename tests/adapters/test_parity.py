"""The parity harness's own checks: each kind of drift it exists to catch
makes a cell fail (run by scripts/test_adapter_parity.sh before the harness,
in target/adapters/venv)."""

from __future__ import annotations

import copy
import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, Callable, Dict, List, Tuple

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
import parity  # noqa: E402

VALIDATOR = parity.record_validator()


def scenario(tmp: Path, sid: str) -> parity.Scenario:
    _, scenarios = parity.load_scenarios(tmp / "work")
    (s,) = [s for s in scenarios if s.id == sid]
    s.workspace.mkdir(parents=True)
    return s


def result_for(s: parity.Scenario) -> Dict[str, Any]:
    """A gate result as gait-run eval prints it, for the scenario's expectation."""
    verdict = s.expect["verdict"]
    return {
        "schema_id": "gait.gate.result",
        "schema_version": "1.0.0",
        "ok": verdict in ("allow", "block", "require_approval"),
        "verdict": verdict,
        "reason_codes": s.expect["reason_codes"],
        "violations": [],
        "matched_rules": ["workspace_io"] if verdict == "allow" else [],
        "decision": "rule",
        "policy": {"name": "adapter-parity", "version": "1.0.0", "revision": 1, "digest": "sha256:" + "1" * 64},
        "intent_digest": "sha256:" + "2" * 64,
        "endpoint_classes": ["fs.write"],
        "bundle_verified": True,
        "required_approvals": 1 if verdict == "require_approval" else 0,
        "warnings": [],
        "trace_path": None,
        **({"approval_request": {
            "intent_digest": "sha256:" + "2" * 64,
            "tool_name": "write_file",
            "policy_digest": "sha256:" + "1" * 64,
            "policy_revision": 1,
            "rules": [],
            "approvals_required": 1,
            "approvers": ["alice"],
            "interactive": False,
            "approval_ttl_seconds": 900,
            "skill_provenance": None,
        }} if verdict == "require_approval" else {}),
    }


def honest_run(tmp: Path, s: parity.Scenario, fw: str = "langchain") -> Tuple[Dict[str, Any], Path, Dict[str, Dict[str, Any]]]:
    """What a correct adapter leaves behind for `s`: its record, its side
    effect (only on allow) and its report."""
    trace_dir = tmp / "traces"
    (trace_dir / fw).mkdir(parents=True)
    call_id = f"call_{s.id}"
    reference = {s.id: result_for(s)} if s.expect.get("verdict") is not None else {}
    record: Dict[str, Any] = {"framework": fw, "tool_call_id": call_id, "intent": s.intent, "executed": s.allowed}
    if s.expect.get("verdict") is not None:
        record["result"] = reference[s.id]
        text = "wrote report.txt" if s.allowed else f"gait: the tool call was not run: verdict={s.expect['verdict']} reasons={', '.join(s.expect['reason_codes'])}"
    else:
        record["result"] = None
        record["error"] = f"gait: gate unavailable ({s.expect['error_code']}): down"
        text = f"gait: the tool call was not run: gate unavailable ({s.expect['error_code']})"
    (trace_dir / fw / parity.record_name(call_id)).write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
    if s.allowed:
        s.effect_path.parent.mkdir(parents=True, exist_ok=True)
        s.effect_path.write_text(s.raw["effect"].get("content", "x"))
        s.effects_log.write_text(json.dumps({"tool": s.tool, "target": str(s.effect_path)}) + "\n")
    report = {"id": s.id, "record_id": call_id, "model_saw": [text]}
    return report, trace_dir, reference


def cell(s: parity.Scenario, report: Dict[str, Any], trace_dir: Path, reference: Dict[str, Dict[str, Any]]) -> Dict[str, Any]:
    return parity.check_cell("langchain", s, report, trace_dir, reference, VALIDATOR)


@pytest.mark.parametrize("sid", ["allow", "block", "require_approval", "gate_unavailable_sidecar_down"])
def test_an_honest_adapter_passes(tmp_path: Path, sid: str) -> None:
    s = scenario(tmp_path, sid)
    c = cell(s, *honest_run(tmp_path, s))
    assert c["status"] == "pass", c["failures"]
    assert all(c["checks"].values())


def edit_record(trace_dir: Path, s: parity.Scenario, change: Callable[[Dict[str, Any]], None]) -> None:
    path = trace_dir / "langchain" / parity.record_name(f"call_{s.id}")
    rec = json.loads(path.read_text())
    change(rec)
    path.write_text(json.dumps(rec))


def test_each_drift_fails_its_check(tmp_path: Path) -> None:
    cases: List[Tuple[str, str, Callable[[parity.Scenario, Dict[str, Any], Path, Dict[str, Any]], None]]] = [
        # A blocked call that ran: the side effect exists.
        ("block", "executed_semantics", lambda s, rep, td, ref: (s.effect_path.parent.mkdir(parents=True, exist_ok=True), s.effect_path.write_text("x"))),
        # ... or its record says it ran.
        ("block", "executed_semantics", lambda s, rep, td, ref: edit_record(td, s, lambda r: r.update(executed=True))),
        # An allowed call that ran twice.
        ("allow", "executed_semantics", lambda s, rep, td, ref: s.effects_log.write_text(s.effects_log.read_text() * 2)),
        # A file written somewhere else.
        ("allow", "executed_semantics", lambda s, rep, td, ref: (s.workspace / "other.txt").write_text("x")),
        # Another reason than gait-run eval's.
        ("block", "verdict_parity", lambda s, rep, td, ref: edit_record(td, s, lambda r: r["result"].update(reason_codes=["default_block"]))),
        # Another intent digest.
        ("allow", "verdict_parity", lambda s, rep, td, ref: edit_record(td, s, lambda r: r["result"].update(intent_digest="sha256:" + "3" * 64))),
        # The adapter sent another intent (e.g. a hard-coded target).
        ("allow", "verdict_parity", lambda s, rep, td, ref: edit_record(td, s, lambda r: r["intent"].update(targets=[{"kind": "path", "value": "/x"}]))),
        # No record where the docs say it is.
        ("block", "deterministic_evidence", lambda s, rep, td, ref: (td / "langchain" / parity.record_name(f"call_{s.id}")).unlink()),
        # A record that is not a decision record.
        ("block", "deterministic_evidence", lambda s, rep, td, ref: edit_record(td, s, lambda r: r.update(when="now"))),
        # A gate error reported with another code.
        ("gate_unavailable_sidecar_down", "fail_closed", lambda s, rep, td, ref: edit_record(td, s, lambda r: r.update(error="gait: gate unavailable (timeout): x"))),
        # An unavailable gate taken for a decision.
        ("gate_unavailable_sidecar_down", "fail_closed", lambda s, rep, td, ref: edit_record(td, s, lambda r: r.update(result=result_for(scenario_allow(td))))),
        # The model was not told why.
        ("block", "fail_closed", lambda s, rep, td, ref: rep.update(model_saw=["the tool call was not run"])),
        # The runner crashed.
        ("allow", "fail_closed", lambda s, rep, td, ref: rep.update(runner_error="boom")),
    ]
    for i, (sid, check, drift) in enumerate(cases):
        tmp = tmp_path / str(i)
        s = scenario(tmp, sid)
        rep, td, ref = honest_run(tmp, s)
        drift(s, rep, td, ref)
        c = cell(s, rep, td, ref)
        assert c["status"] == "fail" and c["checks"][check] is False, (i, sid, check, c["failures"])


def scenario_allow(tmp: Path) -> parity.Scenario:
    _, scenarios = parity.load_scenarios(tmp / "unused")
    return scenarios[0]


def test_the_table_has_every_scenario_the_issue_names() -> None:
    table, scenarios = parity.load_scenarios(Path("/nonexistent/work"))
    by_id = {s.id: s for s in scenarios}
    assert {"allow", "block", "require_approval", "traversal", "multi_target_one_bad", "skill_untrusted_publisher",
            "skill_unverified", "invalid_intent", "gate_unavailable_tampered_bundle", "gate_unavailable_sidecar_down",
            "gate_timeout"} <= set(by_id)
    assert len(by_id["multi_target_one_bad"].args) == 2
    assert by_id["gate_timeout"].gate.get("decision_timeout_ms") == 1
    assert len(by_id["gate_timeout"].args["command"]) > 15_000
    # Every verdict, and every kind of gate failure, is covered.
    assert {s.expect.get("verdict") for s in scenarios} == {"allow", "block", "require_approval", None}
    assert {s.gate["mode"] for s in scenarios} == {"bundle", "tampered_bundle", "sidecar_down", "sidecar_silent"}


def test_a_missing_runner_fails_unless_openclaw_is_tolerated(tmp_path: Path) -> None:
    report = {"frameworks": {
        "langchain": {"status": "pass", "scenarios": {"allow": {"status": "pass", "failures": []}}},
        "openclaw": {"status": "missing", "why": "runner missing", "scenarios": {}},
    }}
    parity.junit(report, tmp_path / "a.xml")
    suites = ET.parse(tmp_path / "a.xml").getroot()
    assert suites.get("failures") == "1" and suites.find("testsuite[@name='openclaw']/testcase/failure") is not None
    assert not parity.overall({"langchain": "pass", "openclaw": "missing"})
    tolerated = copy.deepcopy(report)
    tolerated["frameworks"]["openclaw"]["status"] = "missing_tolerated"
    parity.junit(tolerated, tmp_path / "b.xml")
    suites = ET.parse(tmp_path / "b.xml").getroot()
    assert suites.get("failures") == "0" and suites.get("skipped") == "1"
    assert parity.overall({"langchain": "pass", "openclaw": "missing_tolerated"})
    assert not parity.overall({"langchain": "fail", "openclaw": "missing_tolerated"})
    assert not parity.overall({"langchain": "not_run"})
