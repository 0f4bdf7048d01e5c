"""Wrapper mode: `@gate.guard` runs the function once and only on allow."""

from __future__ import annotations

import asyncio
import collections
import dataclasses
import datetime
import enum
import hashlib
import json
import logging
import shutil
import string
import uuid
from pathlib import Path, PurePosixPath
from typing import Any, Dict, List

import pytest
from conftest import LOW, AfterDecision, assert_same_as_cli, read_records
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

import gait
from gait._convert import NotExactJSON, exact_copy
from gait._trace import record_name


def make_tools(gate: gait.Gate, calls: List[Any], trace_dir: Path | None = None, context: gait.Context = LOW) -> Dict[str, Any]:
    @gate.guard("write_file", context=context, trace_dir=trace_dir)
    def write_file(path: str, content: str = "") -> str:
        calls.append(("write_file", path, content))
        return f"wrote {path}"

    @gate.guard("delete_file", context=context, trace_dir=trace_dir)
    async def delete_file(path: str) -> str:
        calls.append(("delete_file", path))
        return f"deleted {path}"

    return {"write_file": write_file, "delete_file": delete_file}


def test_allow_runs_the_function_once_and_returns_its_value(gate: gait.Gate, tmp_path: Path) -> None:
    calls: List[Any] = []
    tools = make_tools(gate, calls, tmp_path)
    assert tools["write_file"]("/workspace/a.txt", content="hi") == "wrote /workspace/a.txt"
    assert calls == [("write_file", "/workspace/a.txt", "hi")]
    (rec,) = read_records(tmp_path, "wrapper")
    assert rec["framework"] == "wrapper" and rec["executed"] is True
    assert rec["intent"] == {"tool_name": "write_file", "args": {"path": "/workspace/a.txt", "content": "hi"}, "context": LOW.context_json()}
    assert rec["result"]["verdict"] == "allow"


def test_block_raises_blocked_and_never_runs(gate: gait.Gate, bundle: Path, trust: Path, tmp_path: Path) -> None:
    calls: List[Any] = []
    tools = make_tools(gate, calls, tmp_path)
    with pytest.raises(gait.Blocked) as e:
        tools["write_file"]("/workspace/../etc/shadow")
    assert calls == []
    assert isinstance(e.value, gait.NotAllowed)
    assert e.value.decision.reason_codes == ["secret_path_access"]
    (rec,) = read_records(tmp_path, "wrapper")
    assert rec["executed"] is False and rec["result"] == e.value.decision.result
    # The decision is gait-run eval's on the recorded intent.
    assert_same_as_cli(bundle, trust, rec["intent"], e.value.decision)


def test_approval_raises_approval_required_and_never_runs(gate: gait.Gate) -> None:
    calls: List[Any] = []
    tools = make_tools(gate, calls)
    with pytest.raises(gait.ApprovalRequired) as e:
        asyncio.run(tools["delete_file"]("/workspace/a.txt"))
    assert calls == []
    assert e.value.decision.approval_request is not None
    assert e.value.decision.approval_request["approvals_required"] == 2


def test_dry_run_never_runs_the_function(gate: gait.Gate, bundle: Path, trust: Path, tmp_path: Path) -> None:
    """The fixture policy answers dry_run for writes under
    /workspace/dry-run: a dry run is not an allow, the function never runs."""
    calls: List[Any] = []
    tools = make_tools(gate, calls, tmp_path)

    @gate.guard("write_file", context=LOW, trace_dir=tmp_path)
    async def awrite_file(path: str) -> None:
        calls.append(path)

    with pytest.raises(gait.Blocked) as e:
        tools["write_file"]("/workspace/dry-run/plan.txt", "x")
    assert e.value.decision.verdict == "dry_run" and e.value.decision.reason_codes == ["dry_run_only"]
    assert e.value.decision.exit_code == 0 and not e.value.decision.allowed
    with pytest.raises(gait.Blocked):
        asyncio.run(awrite_file("/workspace/dry-run/plan.txt"))
    assert calls == []
    records = read_records(tmp_path, "wrapper")
    assert len(records) == 2 and all(r["result"]["verdict"] == "dry_run" and r["executed"] is False for r in records)
    (sync_record,) = [r for r in records if "content" in r["intent"]["args"]]
    assert_same_as_cli(bundle, trust, sync_record["intent"], e.value.decision)


def test_async_allow_runs_once(gate: gait.Gate) -> None:
    calls: List[Any] = []

    @gate.guard("read_file", context=LOW)
    async def read_file(path: str) -> str:
        calls.append(path)
        return "content"

    assert asyncio.run(read_file(path="/workspace/r.txt")) == "content"
    assert calls == ["/workspace/r.txt"]


def test_unavailable_gate_never_runs_the_function(unavailable_gate: gait.Gate, tmp_path: Path) -> None:
    calls: List[Any] = []
    tools = make_tools(unavailable_gate, calls, tmp_path)
    with pytest.raises(gait.GateUnavailable):
        tools["write_file"]("/workspace/a.txt")
    with pytest.raises(gait.GateUnavailable):
        asyncio.run(tools["delete_file"]("/workspace/a.txt"))
    assert calls == []
    recs = read_records(tmp_path, "wrapper")
    assert len(recs) == 2 and all(r["executed"] is False and r["result"] is None and "error" in r for r in recs)


def test_arguments_become_args_by_parameter_name(gate: gait.Gate, tmp_path: Path) -> None:
    seen: List[Any] = []

    class Files:
        @gate.guard("write_file", context=LOW, trace_dir=tmp_path)
        def write(self, path: Path, *, mode: str = "w", **extra: Any) -> None:
            seen.append((path, mode, extra))

    Files().write(Path("/workspace/p.txt"), tag="t")
    (rec,) = read_records(tmp_path, "wrapper")
    # self left out, defaults applied, **kwargs merged, Path made a string.
    assert rec["intent"]["args"] == {"path": "/workspace/p.txt", "mode": "w", "tag": "t"}
    assert seen == [(Path("/workspace/p.txt"), "w", {"tag": "t"})]


def test_arguments_json_cannot_hold_are_blocked_as_invalid(gate: gait.Gate) -> None:
    calls: List[Any] = []

    @gate.guard("write_file", context=LOW)
    def write_file(path: Any) -> None:
        calls.append(path)

    with pytest.raises(gait.Blocked) as e:
        write_file(object())
    assert "intent_invalid" in e.value.decision.reason_codes
    with pytest.raises(gait.Blocked):
        write_file({"/workspace/a"})
    assert calls == []


class Sneaky(str):
    """A str that is not what it says."""

    def __str__(self) -> str:
        return "/etc/passwd"

    def __fspath__(self) -> str:
        return "/etc/passwd"


class SneakyPath(PurePosixPath):
    def __fspath__(self) -> str:
        return "/etc/passwd"


class Where(enum.Enum):
    WORKSPACE = "/workspace/a"


@dataclasses.dataclass
class Target:
    path: str


def test_the_function_runs_only_with_the_values_decided_on(gate: gait.Gate) -> None:
    """guard decides on exact JSON types (and exact pathlib paths, as
    str(path)); any other argument — a str subclass, an enum, a dataclass,
    a date, a UUID, an OrderedDict, a path subclass — is refused as an
    invalid intent before the gate is asked, and the function never runs
    with a value other than the one decided on."""
    calls: List[Any] = []

    @gate.guard("write_file", context=LOW)
    def write_file(path: Any, content: Any = "") -> None:
        calls.append(str(path))

    @gate.guard("write_file", context=LOW)
    async def awrite_file(path: Any, content: Any = "") -> None:
        calls.append(str(path))

    untrusted = [
        (Sneaky("/workspace/a"), ""),
        (SneakyPath("/workspace/a"), ""),
        (Where.WORKSPACE, ""),
        (Target("/workspace/a"), ""),
        ("/workspace/a", datetime.date(2024, 1, 1)),
        ("/workspace/a", uuid.UUID(int=1)),
        ("/workspace/a", collections.OrderedDict(a=1)),
        ("/workspace/a", {"nested": [Sneaky("x")]}),
        ("/workspace/a", {Sneaky("k"): 1}),
    ]
    for path, content in untrusted:
        for call in (lambda: write_file(path, content), lambda: asyncio.run(awrite_file(path, content))):
            with pytest.raises(gait.Blocked) as e:
                call()
            assert e.value.decision.reason_codes == ["intent_invalid"], (path, content)
            assert e.value.decision.exit_code == 6
    assert calls == []
    # Exact JSON types, tuples and exact paths are decided on as they are
    # (a path as str(path)) and the function runs with them.
    write_file(Path("/workspace/p.txt"), ("a", 1, 2.5, None, True, {"k": ["v"]}))
    asyncio.run(awrite_file(PurePosixPath("/workspace/q.txt"), 7))
    assert calls == ["/workspace/p.txt", "/workspace/q.txt"]


def test_a_record_that_cannot_be_written_before_the_run_refuses_the_call(gate: gait.Gate, tmp_path: Path) -> None:
    """On allow the record (executed: false) is written before the function
    runs; if it cannot be, the function does not run."""
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")
    calls: List[Any] = []
    tools = make_tools(gate, calls, not_a_dir)
    with pytest.raises(gait.GateUnavailable) as e:
        tools["write_file"]("/workspace/a")
    assert e.value.code == "record_write_failed"

    @gate.guard("read_file", context=LOW, trace_dir=not_a_dir)
    async def read_file(path: str) -> str:
        calls.append(path)
        return "content"

    with pytest.raises(gait.GateUnavailable):
        asyncio.run(read_file("/workspace/a"))
    assert calls == []
    # A refused call is refused as it would be (the record failure logged).
    with pytest.raises(gait.Blocked):
        tools["write_file"]("/etc/passwd")
    with pytest.raises(gait.ApprovalRequired):
        asyncio.run(tools["delete_file"]("/workspace/a"))


def test_the_record_says_executed_only_once_the_function_ran(gate: gait.Gate, tmp_path: Path) -> None:
    seen_while_running: List[Any] = []

    def current() -> List[Any]:
        return [r["executed"] for r in read_records(tmp_path, "wrapper")]

    @gate.guard("write_file", context=LOW, trace_dir=tmp_path)
    def write_file(path: str) -> str:
        seen_while_running.append(current())
        return "ok"

    @gate.guard("read_file", context=LOW, trace_dir=tmp_path)
    async def read_file(path: str) -> str:
        seen_while_running.append(current())
        return "ok"

    assert write_file("/workspace/a") == "ok"
    assert seen_while_running == [[False]] and current() == [True]
    assert asyncio.run(read_file("/workspace/a")) == "ok"
    # (records are read in file-name order: the fresh ids are random)
    assert sorted(seen_while_running[1]) == [False, True]
    assert current() == [True, True]


def test_a_record_failure_after_the_run_never_replaces_the_result(gate: gait.Gate, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The function ran: its result (or its exception) reaches the caller
    even when the record cannot be updated afterwards (a framework that
    retries on an error would run it twice); the failure is logged."""
    calls: List[Any] = []

    def break_the_trace_dir() -> None:
        folder = tmp_path / "wrapper"
        shutil.rmtree(folder)
        folder.write_text("not a folder any more")

    @gate.guard("write_file", context=LOW, trace_dir=tmp_path)
    def write_file(path: str) -> str:
        calls.append(path)
        break_the_trace_dir()
        return f"wrote {path}"

    @gate.guard("read_file", context=LOW, trace_dir=tmp_path)
    async def read_file(path: str) -> str:
        calls.append(path)
        break_the_trace_dir()
        raise KeyError("the tool's own error")

    with caplog.at_level(logging.WARNING, logger="gait"):
        assert write_file("/workspace/a") == "wrote /workspace/a"
        (tmp_path / "wrapper").unlink()
        with pytest.raises(KeyError):
            asyncio.run(read_file("/workspace/b"))
    assert calls == ["/workspace/a", "/workspace/b"]
    warnings = [r for r in caplog.records if r.name == "gait" and r.levelno == logging.WARNING]
    assert len(warnings) == 2 and all("could not be updated" in r.getMessage() for r in warnings)


def test_an_exception_in_the_function_is_recorded_as_executed(gate: gait.Gate, tmp_path: Path) -> None:
    @gate.guard("write_file", context=LOW, trace_dir=tmp_path)
    def write_file(path: str) -> None:
        raise OSError("disk full")

    with pytest.raises(OSError):
        write_file("/workspace/a")
    (rec,) = read_records(tmp_path, "wrapper")
    assert rec["executed"] is True


def test_guard_works_on_every_transport(gate: gait.Gate, sidecar: Any, bundle: Path, trust: Path) -> None:
    from conftest import GAIT_RUN

    for g in (gate, gait.Gate.sidecar(sidecar.url), gait.Gate.subprocess(bundle, [trust], gait_run=GAIT_RUN)):
        calls: List[Any] = []
        tools = make_tools(g, calls)
        tools["write_file"]("/workspace/ok")
        with pytest.raises(gait.Blocked):
            tools["write_file"]("/etc/passwd")
        with pytest.raises(gait.ApprovalRequired):
            asyncio.run(tools["delete_file"]("/workspace/x"))
        assert calls == [("write_file", "/workspace/ok", "")], g.transport


def test_record_names_are_safe(tmp_path: Path) -> None:
    d = gait.Decision(b"{}", 0, "allow", [], None, {})
    p = gait.write_record(tmp_path, "wrapper", "../../etc/x y", {"tool_name": "t"}, d, True)
    # One plain file name in <trace_dir>/wrapper: no separator, not hidden;
    # the id had to be changed, so its SHA-256 is in the name.
    digest = hashlib.sha256(b"../../etc/x y").hexdigest()[:16]
    assert p.parent == tmp_path / "wrapper" and p.name == f"_.._.._etc_x_y~{digest}.json"
    assert json.loads(p.read_text())["tool_call_id"] == "../../etc/x y"
    # An ordinary id is the file name itself.
    assert gait.write_record(tmp_path, "wrapper", "call_1", {"tool_name": "t"}, d, True).name == "call_1.json"


def test_record_names_never_collide(gate: gait.Gate, tmp_path: Path) -> None:
    """Ids that the old scheme mapped to one name ("a/b" and "a_b", the
    empty id and "_", long ids sharing their first 200 characters) get
    different names; a record is never overwritten."""
    groups = [["a/b", "a_b", "a b", "a\\b"], ["", "_", ".", "_."], ["x" * 200 + "1", "x" * 200 + "2", "x" * 200], ["é", "_", "\ud800"]]
    for ids in groups:
        names = [record_name(i) for i in ids]
        assert len(set(names)) == len(names), names
        assert all("/" not in n and not n.startswith(".") and len(n) <= 200 + 5 for n in names), names
    assert record_name("a_b") == "a_b.json" and record_name("") != "_.json"

    d = gait.Decision(b"{}", 0, "allow", [], None, {})
    ids = ["a/b", "a_b", "", "_", "x" * 250 + "1", "x" * 250 + "2", "\ud800"]
    paths = [gait.write_record(tmp_path, "wrapper", i, {"tool_name": "t", "n": n}, d, False) for n, i in enumerate(ids)]
    assert len(set(paths)) == len(ids)
    for n, (i, p) in enumerate(zip(ids, paths)):
        rec = json.loads(p.read_text())
        assert rec["tool_call_id"] == i and rec["intent"]["n"] == n

    # The same id decided again: a new record beside the first
    # (`<name>+1.json`, `+2`, ...), the first one unchanged.
    intents = [{"tool_name": "write_file", "args": {"path": f"/workspace/{k}"}, "context": LOW.context_json()} for k in range(3)]
    first = gait.write_record(tmp_path, "langchain", "call_x", intents[0], gate.evaluate(intents[0]), False)
    again = [gait.write_record(tmp_path, "langchain", "call_x", intents[k], gate.evaluate(intents[k]), False) for k in (1, 2)]
    assert first.name == "call_x.json" and [p.name for p in again] == ["call_x+1.json", "call_x+2.json"]
    assert [json.loads(p.read_text())["intent"] for p in [first, *again]] == intents
    assert sorted(p.name for p in (tmp_path / "langchain").iterdir()) == ["call_x+1.json", "call_x+2.json", "call_x.json"]
    assert len(read_records(tmp_path, "langchain")) == 3


# -- the property: never called on a non-allow ------------------------------

workspace_paths = st.builds(lambda parts: "/workspace/" + "/".join(parts), st.lists(st.sampled_from(["a", "b.txt", "..", ".", "src", ".ssh", "x y"]), max_size=4))
paths = st.one_of(
    workspace_paths,
    workspace_paths,
    st.sampled_from(["/workspace/a", "/workspace/../etc/passwd", "/etc/shadow", "notes.txt", "../x", "/workspace/.ssh/k", "~/x", "", "/workspace"]),
    st.builds(lambda parts: "/" + "/".join(parts), st.lists(st.sampled_from(["workspace", "..", ".", "etc", "a", ".ssh", "b\\c", "%2e%2e"]), max_size=5)),
    st.text(max_size=20),
)
json_leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=True), st.text(max_size=8))
odd = st.one_of(
    st.sets(st.integers(), max_size=2),
    st.binary(max_size=4),
    st.builds(object),
    st.builds(PurePosixPath, st.text(string.ascii_letters, max_size=5)),
    st.builds(Sneaky, st.sampled_from(["/workspace/a", "a.txt"])),
    st.just(Where.WORKSPACE),
    st.builds(Target, st.just("/workspace/a")),
)
values = st.recursive(st.one_of(json_leaf, odd), lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=5), inner, max_size=3)), max_leaves=6)
tools = st.sampled_from(["write_file", "read_file", "delete_file", "write_file", "read_file", "delete_file", "run_command", "unknown_tool", "WRITE_FILE", " write_file "])
contexts = st.builds(
    gait.Context,
    identity=st.one_of(st.none(), st.text(max_size=6)),
    workspace=st.one_of(st.none(), st.sampled_from(["/workspace", "/", "relative", "/workspace/../etc"])),
    risk_class=st.one_of(st.just("low"), st.none(), st.sampled_from(["low", "medium", "high", "critical", "LOW", "bogus"])),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tool=tools, path=st.one_of(paths, paths, values), extra=st.one_of(json_leaf, values), context=contexts)
def test_guard_never_calls_the_function_on_a_non_allow(gate: gait.Gate, tool: str, path: Any, extra: Any, context: gait.Context) -> None:
    calls: List[Any] = []

    @gate.guard(tool, context=context)
    def fn(path: Any, extra: Any = None) -> str:
        calls.append(path)
        return "ran"

    @gate.guard(tool, context=context)
    async def afn(path: Any, extra: Any = None) -> str:
        calls.append(path)
        return "ran"

    # The gate's own answer on the same intent, built independently: an
    # argument that is not of an exact JSON type (or an exact path) is an
    # invalid intent.
    intent = gait.intent_for(tool, {"path": path, "extra": extra}, context)
    try:
        intent["args"] = exact_copy(intent["args"], as_json=True)
        expected = gate.evaluate(intent)
    except NotExactJSON:
        expected = gate.evaluate("not an intent")
    event(f"verdict {expected.verdict}")
    for call in (lambda: fn(path, extra=extra), lambda: asyncio.run(afn(path, extra=extra))):
        calls.clear()
        try:
            out = call()
        except gait.NotAllowed as e:
            assert calls == []
            assert e.decision.verdict != "allow"
            assert e.decision.verdict == expected.verdict
            assert e.decision.reason_codes == expected.reason_codes
            assert isinstance(e, gait.ApprovalRequired) == (e.decision.verdict == "require_approval")
            continue
        assert out == "ran" and len(calls) == 1
        assert expected.verdict == "allow"


def test_arguments_bind_as_python_binds_them(gate: gait.Gate, tmp_path: Path) -> None:
    calls: List[Any] = []

    @gate.guard("write_file", context=LOW, trace_dir=tmp_path)
    def write_file(path: str, content: str = "d", *, mode: str = "w") -> None:
        calls.append((path, content, mode))

    write_file("/workspace/a")
    write_file("/workspace/b", "c")
    write_file(path="/workspace/c", mode="x")
    write_file("/workspace/d", content="e")
    got = sorted(json.dumps(r["intent"]["args"], sort_keys=True) for r in read_records(tmp_path, "wrapper"))
    want = sorted(
        json.dumps(a, sort_keys=True)
        for a in [
            {"path": "/workspace/a", "content": "d", "mode": "w"},
            {"path": "/workspace/b", "content": "c", "mode": "w"},
            {"path": "/workspace/c", "content": "d", "mode": "x"},
            {"path": "/workspace/d", "content": "e", "mode": "w"},
        ]
    )
    assert got == want and len(calls) == 4
    # Calls Python itself would refuse are refused the same way, before the gate.
    for bad_args, bad_kwargs in [((), {}), (("/workspace/a",), {"path": "/workspace/b"}), (("/workspace/a",), {"bogus": 1}), (("/workspace/a", "c", "x"), {})]:
        with pytest.raises(TypeError):
            write_file(*bad_args, **bad_kwargs)
    assert len(calls) == 4 and len(read_records(tmp_path, "wrapper")) == 4


def test_the_record_schema_accepts_real_records_and_rejects_wrong_ones(gate: gait.Gate, tmp_path: Path) -> None:
    """schemas/v1/decision_record.schema.json, which read_records applies to
    every record the tests read, can fail."""
    from conftest import RECORD_SCHEMA

    calls: List[Any] = []
    tools = make_tools(gate, calls, tmp_path)
    tools["write_file"]("/workspace/a.txt")
    with pytest.raises(gait.Blocked):
        tools["write_file"]("/etc/passwd")
    allowed, blocked = sorted(read_records(tmp_path, "wrapper"), key=lambda r: r["result"]["verdict"])
    assert allowed["executed"] is True and blocked["executed"] is False
    wrong = [
        {**blocked, "executed": True},  # a refused call that ran
        {**allowed, "result": None},  # no result and no error
        {**allowed, "error": "x"},  # an error beside a result
        {**allowed, "framework": "crewai"},
        {**allowed, "extra": 1},
        {**allowed, "result": {**allowed["result"], "verdict": "maybe"}},
        {k: v for k, v in allowed.items() if k != "tool_call_id"},
    ]
    for rec in wrong:
        assert not RECORD_SCHEMA.is_valid(rec), rec
    assert RECORD_SCHEMA.is_valid({**blocked, "result": None, "error": "gate unavailable"})


# -- F1: a **kwargs key never hides a positional-only or *args value ---------


def test_a_kwargs_key_named_like_a_positional_only_or_star_args_parameter_is_invalid(gate: gait.Gate, tmp_path: Path) -> None:
    """Python lets a ``**kwargs`` key have the name of a positional-only
    parameter or of the ``*args`` parameter; merged into ``args`` it would
    be judged in place of the value that parameter really receives. Such a
    call is an invalid intent: blocked, never run."""
    calls: List[Any] = []

    @gate.guard("write_file", context=LOW, trace_dir=tmp_path)
    def write_file(path: str, /, content: str = "", **opts: Any) -> None:
        calls.append(("write_file", path, opts))

    @gate.guard("run_command", context=LOW)
    def run_command(*command: str, **kw: Any) -> None:
        calls.append(("run_command", command, kw))

    @gate.guard("write_file", context=LOW)
    async def awrite_file(path: str, /, content: str = "", **opts: Any) -> None:
        calls.append(("awrite_file", path, opts))

    for call in (
        lambda: write_file("/etc/passwd", content="x", path="/workspace/ok.txt"),
        lambda: run_command("rm", "-rf", "/", command="ls"),
        lambda: asyncio.run(awrite_file("/etc/passwd", content="x", path="/workspace/ok.txt")),
    ):
        with pytest.raises(gait.Blocked) as e:
            call()
        assert e.value.decision.reason_codes == ["intent_invalid"]
        assert "is also the name of the parameter" in e.value.decision.result["error"]
    assert calls == []
    # Other **kwargs keys are still merged and judged.
    write_file("/workspace/ok.txt", content="x", mode="w")
    assert calls == [("write_file", "/workspace/ok.txt", {"mode": "w"})]
    records = read_records(tmp_path, "wrapper")
    assert sorted(json.dumps(r["intent"]["args"], sort_keys=True) for r in records) == sorted(
        [
            json.dumps({"path": "/etc/passwd", "content": "x"}, sort_keys=True),
            json.dumps({"path": "/workspace/ok.txt", "content": "x", "mode": "w"}, sort_keys=True),
        ]
    )


def test_the_function_runs_with_a_snapshot_of_the_judged_values(gate: gait.Gate) -> None:
    """A change made to the caller's argument objects while the gate
    decides never reaches the function: it runs with copies of the values
    that were judged (sync and async)."""
    shared: Dict[str, Any] = {"path": "/workspace/a.txt"}
    nested: List[Any] = [{"path": "/workspace/b.txt"}]

    def change() -> None:
        shared["path"] = "/etc/passwd"
        nested[0]["path"] = "/etc/shadow"

    seen: List[Any] = []
    mutating = AfterDecision(gate, change)

    @mutating.guard("write_file", context=LOW)
    def write_opts(opts: Dict[str, Any], more: List[Any], path: str = "/workspace/x") -> None:
        seen.append((dict(opts), json.dumps(more)))

    @mutating.guard("write_file", context=LOW)
    async def awrite_opts(opts: Dict[str, Any], more: List[Any], path: str = "/workspace/x") -> None:
        seen.append((dict(opts), json.dumps(more)))

    for call in (lambda: write_opts(shared, nested), lambda: asyncio.run(awrite_opts(shared, more=nested))):
        shared["path"], nested[0]["path"] = "/workspace/a.txt", "/workspace/b.txt"
        call()
        assert shared["path"] == "/etc/passwd"  # the caller's object was changed ...
    # ... but the function saw the values judged.
    assert seen == [({"path": "/workspace/a.txt"}, json.dumps([{"path": "/workspace/b.txt"}]))] * 2


# The property over signatures with positional-only and *args parameters:
# the function runs only on allow, and then with exactly the values judged.


def _posonly(gate: gait.Gate, tool: str, context: gait.Context, seen: List[Any]) -> Any:
    @gate.guard(tool, context=context)
    def fn(path: Any, /, extra: Any = None, **kw: Any) -> str:
        seen.append({"path": path, "extra": extra, **kw})
        return "ran"

    return fn


def _star_args(gate: gait.Gate, tool: str, context: gait.Context, seen: List[Any]) -> Any:
    @gate.guard(tool, context=context)
    def fn(*path: Any, extra: Any = None, **kw: Any) -> str:
        seen.append({"path": list(path), "extra": extra, **kw})
        return "ran"

    return fn


def _async_posonly(gate: gait.Gate, tool: str, context: gait.Context, seen: List[Any]) -> Any:
    @gate.guard(tool, context=context)
    async def fn(path: Any, /, extra: Any = None, **kw: Any) -> str:
        seen.append({"path": path, "extra": extra, **kw})
        return "ran"

    return lambda *a, **k: asyncio.run(fn(*a, **k))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    tool=tools,
    path=paths,
    hidden=st.one_of(st.none(), paths),
    extra=json_leaf,
    context=contexts,
    make=st.sampled_from([_posonly, _star_args, _async_posonly]),
)
def test_guard_judges_what_positional_only_and_star_args_receive(
    gate: gait.Gate, tool: str, path: str, hidden: Any, extra: Any, context: gait.Context, make: Any
) -> None:
    seen: List[Any] = []
    fn = make(gate, tool, context, seen)
    star = make is _star_args
    received = [path] if star else path
    kwargs: Dict[str, Any] = {"extra": extra}
    if hidden is not None:
        kwargs["path"] = hidden  # a **kwargs key named like the parameter
    if hidden is not None:
        expected = gate.evaluate("not an intent")
    else:
        intent = gait.intent_for(tool, {"path": received, "extra": extra}, context)
        expected = gate.evaluate(intent)
    event(f"verdict {expected.verdict}, hidden {hidden is not None}")
    try:
        out = fn(path, **kwargs)
    except gait.NotAllowed as e:
        assert seen == []
        assert e.decision.verdict != "allow"
        assert (e.decision.verdict, e.decision.reason_codes) == (expected.verdict, expected.reason_codes)
        return
    assert expected.verdict == "allow" and hidden is None
    assert out == "ran" and seen == [{"path": received, "extra": extra}]


def test_a_default_that_is_not_exact_json_is_blocked_as_invalid(gate: gait.Gate, tmp_path: Path) -> None:
    """A parameter's default is judged like an argument: a default of a
    type guard does not decide on (an enum) is an invalid intent — a
    ``Blocked`` refusal, recorded, never an exception of another kind and
    never a run."""
    calls: List[Any] = []

    @gate.guard("write_file", context=LOW, trace_dir=tmp_path)
    def write_file(path: str, where: Any = Where.WORKSPACE) -> None:
        calls.append(path)

    @gate.guard("write_file", context=LOW)
    async def awrite_file(path: str, where: Any = Where.WORKSPACE) -> None:
        calls.append(path)

    for call in (lambda: write_file("/workspace/a"), lambda: asyncio.run(awrite_file("/workspace/a"))):
        with pytest.raises(gait.Blocked) as e:
            call()
        assert e.value.decision.reason_codes == ["intent_invalid"]
        assert "Where" in str(e.value.decision.result.get("error"))
    assert calls == []
    records = read_records(tmp_path, "wrapper")
    assert [r["result"]["verdict"] for r in records] == ["block"]
    # Given explicitly as exact JSON, the same function is judged and runs.
    write_file("/workspace/a", where="/workspace/a")
    assert calls == ["/workspace/a"]


def test_a_mutable_default_runs_as_judged(gate: gait.Gate, tmp_path: Path) -> None:
    """A mutable default changed while the gate decides (by another thread,
    or the function's own earlier run) never reaches the function: it runs
    with a copy of the default that was judged — plain, positional-only
    and method signatures, sync and async — and the record holds that
    value."""
    opts_default: Dict[str, Any] = {"mode": "append"}

    def change() -> None:
        opts_default["mode"] = "truncate"

    seen: List[Any] = []
    mutating = AfterDecision(gate, change)

    @mutating.guard("write_file", context=LOW, trace_dir=tmp_path)
    def plain(path: str, opts: Dict[str, Any] = opts_default) -> None:
        seen.append(dict(opts))

    @mutating.guard("write_file", context=LOW, trace_dir=tmp_path)
    def posonly(path: str, /, opts: Dict[str, Any] = opts_default, **kw: Any) -> None:
        seen.append(dict(opts))

    @mutating.guard("write_file", context=LOW, trace_dir=tmp_path)
    async def aplain(path: str, opts: Dict[str, Any] = opts_default) -> None:
        seen.append(dict(opts))

    class Tool:
        @mutating.guard("write_file", context=LOW, trace_dir=tmp_path)
        def run(self, path: str, opts: Dict[str, Any] = opts_default) -> None:
            seen.append((type(self).__name__, dict(opts)))

    calls = [
        lambda: plain("/workspace/a.txt"),
        lambda: posonly("/workspace/a.txt"),
        lambda: asyncio.run(aplain("/workspace/a.txt")),
        lambda: Tool().run("/workspace/a.txt"),
    ]
    for call in calls:
        opts_default["mode"] = "append"
        call()
        assert opts_default == {"mode": "truncate"}  # the default itself was changed ...
    # ... but every function saw the value judged, which is the value recorded.
    judged = {"mode": "append"}
    assert seen == [judged, judged, judged, ("Tool", judged)]
    records = read_records(tmp_path, "wrapper")
    assert [r["intent"]["args"] for r in records] == [{"path": "/workspace/a.txt", "opts": judged}] * 4
    assert all(r["executed"] for r in records)


def test_the_call_keeps_its_shape_for_decorators_under_guard(gate: gait.Gate) -> None:
    """guard calls the function as it was called — positional arguments
    positionally, keywords by keyword, an immutable default left implicit —
    so a decorator under it that reads ``args[0]`` or adds a keyword of its
    own works as without guard; only a mutable default is passed (its
    judged copy)."""
    import functools

    def inject(fn: Any) -> Any:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return fn(*args, content="injected", **kwargs)

        return wrapper

    def first_positional(fn: Any) -> Any:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return fn(*args, **kwargs), args[0]

        return wrapper

    @gate.guard("write_file", context=LOW)
    @inject
    def write_a(path: str, content: str = "") -> str:
        return content

    @gate.guard("write_file", context=LOW)
    @first_positional
    def write_b(path: str, mode: str = "w") -> str:
        return mode

    @gate.guard("write_file", context=LOW)
    @first_positional
    def write_c(path: str, /, opts: Dict[str, Any] = {"mode": "a"}, *more: Any) -> Any:  # noqa: B006 - the point
        return opts

    assert write_a("/workspace/a") == "injected"
    assert write_b("/workspace/b") == ("w", "/workspace/b")
    assert write_c("/workspace/c") == ({"mode": "a"}, "/workspace/c")
