"""LangChain v1: a real `create_agent` agent driven by `GenericFakeChatModel`,
with `GaitMiddleware` gating its tool calls."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Annotated, Any, Dict, Iterator, List

import pydantic
import pydantic.v1
import pytest
from conftest import FACTORY_CALL, LOW, NESTED_CALLS, FactoryArgs, RewrittenArgs, NESTED_JUDGED, AfterDecision, SaveTarget, SideEffects, assert_same_as_cli, break_trace_dir, executed_flags, read_records, record_warnings
from langchain.agents import AgentState, create_agent
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain.tools import ToolRuntime
from langchain_core.tools import tool
from langgraph.prebuilt import InjectedState

import gait
from gait.langchain import GaitMiddleware


class ScriptedModel(GenericFakeChatModel):
    """The offline fake model; records what it was sent (fakes have no
    bind_tools: binding is a no-op; the async path runs _generate too)."""

    seen: List[List[BaseMessage]] = []

    def bind_tools(self, tools: Any, **kw: Any) -> "ScriptedModel":
        return self

    def _generate(self, messages: List[BaseMessage], *args: Any, **kwargs: Any) -> Any:
        self.seen.append(list(messages))
        return super()._generate(messages, *args, **kwargs)


CALLS = [
    {"name": "write_file", "args": {"path": "/workspace/report.txt", "content": "ok"}, "id": "call_allow"},
    {"name": "write_file", "args": {"path": "/workspace/../etc/passwd", "content": "x"}, "id": "call_block"},
    {"name": "delete_file", "args": {"path": "report.txt"}, "id": "call_approval"},
    {"name": "write_file", "args": {"path": "/workspace/dry-run/plan.txt", "content": "x"}, "id": "call_dry"},
]


def script(calls: Any = None) -> Iterator[AIMessage]:
    return iter([AIMessage(content="", tool_calls=CALLS if calls is None else calls), AIMessage(content="done")])


def make_tools(effects: SideEffects) -> List[Any]:
    @tool
    def write_file(path: str, content: str) -> str:
        """Write a file."""
        effects.ran("write_file", {"path": path, "content": content})
        return f"wrote {path}"

    @tool
    def delete_file(path: str) -> str:
        """Delete a file."""
        effects.ran("delete_file", {"path": path})
        return f"deleted {path}"

    return [write_file, delete_file]


def run_agent(
    gate: gait.Gate, effects: SideEffects, trace_dir: Path, use_async: bool = False, calls: Any = None, **kw: Any
) -> tuple[ScriptedModel, dict[str, Any]]:
    model = ScriptedModel(messages=script(calls))
    model.seen = []
    agent = create_agent(model, tools=make_tools(effects), middleware=[GaitMiddleware(gate, context=LOW, trace_dir=trace_dir, **kw)])
    request = {"messages": [{"role": "user", "content": "tidy the workspace"}]}
    if use_async:
        out = asyncio.run(agent.ainvoke(request))
    else:
        out = agent.invoke(request)
    return model, out


def tool_messages(out: dict[str, Any]) -> dict[str, ToolMessage]:
    return {m.tool_call_id: m for m in out["messages"] if isinstance(m, ToolMessage)}


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
def test_allowed_runs_once_refusals_reach_the_model(gate: gait.Gate, bundle: Path, trust: Path, effects: SideEffects, tmp_path: Path, use_async: bool) -> None:
    model, out = run_agent(gate, effects, tmp_path, use_async)
    # The side effect: exactly once for allow, never for block or approval.
    assert effects.calls == [("write_file", {"path": "/workspace/report.txt", "content": "ok"})]
    msgs = tool_messages(out)
    assert msgs["call_allow"].status == "success" and msgs["call_allow"].content == "wrote /workspace/report.txt"
    assert msgs["call_block"].status == "error" and "verdict=block" in msgs["call_block"].content
    assert "secret_path_access" in msgs["call_block"].content
    assert msgs["call_approval"].status == "error" and "verdict=require_approval" in msgs["call_approval"].content
    # dry_run never executes.
    assert msgs["call_dry"].status == "error" and "verdict=dry_run" in msgs["call_dry"].content
    # The model's second turn was sent the refusals.
    assert len(model.seen) == 2
    sent = {m.tool_call_id: m.content for m in model.seen[1] if isinstance(m, ToolMessage)}
    assert "verdict=block" in sent["call_block"] and "verdict=require_approval" in sent["call_approval"]
    assert "verdict=dry_run" in sent["call_dry"] and "dry_run_only" in sent["call_dry"]
    assert out["messages"][-1].content == "done"
    # Each decision equals gait-run eval on the same intent.
    records = {r["tool_call_id"]: r for r in read_records(tmp_path, "langchain")}
    assert set(records) == {"call_allow", "call_block", "call_approval", "call_dry"}
    expected = {
        "call_allow": ("allow", True),
        "call_block": ("block", False),
        "call_approval": ("require_approval", False),
        "call_dry": ("dry_run", False),
    }
    for call_id, rec in records.items():
        assert (rec["result"]["verdict"], rec["executed"]) == expected[call_id]
        assert rec["intent"]["context"]["workspace"] == "/workspace"
        decision = gate.evaluate(rec["intent"])
        assert decision.result == rec["result"]
        assert_same_as_cli(bundle, trust, rec["intent"], decision)


def test_unavailable_gate_runs_nothing(unavailable_gate: gait.Gate, effects: SideEffects, tmp_path: Path) -> None:
    model, out = run_agent(unavailable_gate, effects, tmp_path)
    assert effects.calls == []
    msgs = tool_messages(out)
    assert all(m.status == "error" and "gate unavailable" in m.content for m in msgs.values())
    assert len(msgs) == 4
    records = read_records(tmp_path, "langchain")
    assert len(records) == 4
    assert all(r["executed"] is False and r["result"] is None for r in records)


def test_on_deny_raise_stops_the_run(gate: gait.Gate, effects: SideEffects, tmp_path: Path) -> None:
    with pytest.raises(gait.NotAllowed):
        run_agent(gate, effects, tmp_path, on_deny="raise")
    assert ("write_file", {"path": "/workspace/../etc/passwd", "content": "x"}) not in effects.calls
    assert all(name != "delete_file" for name, _ in effects.calls)


def test_run_context_fills_the_intent_context(gate: gait.Gate, effects: SideEffects, tmp_path: Path) -> None:
    """identity and workspace from `invoke(context=...)`; a relative path is
    judged in that workspace (here outside /workspace: blocked)."""
    model = ScriptedModel(messages=iter([AIMessage(content="", tool_calls=[{"name": "write_file", "args": {"path": "r.txt", "content": ""}, "id": "c1"}]), AIMessage(content="done")]))
    agent = create_agent(model, tools=make_tools(effects), middleware=[GaitMiddleware(gate, context=LOW, trace_dir=tmp_path)])
    agent.invoke({"messages": [{"role": "user", "content": "x"}]}, context={"identity": "alice", "workspace": "/home/alice"})
    (rec,) = read_records(tmp_path, "langchain")
    assert rec["intent"]["context"]["identity"] == "alice" and rec["intent"]["context"]["workspace"] == "/home/alice"
    assert rec["result"]["verdict"] == "block" and effects.calls == []


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
def test_records_are_written_before_the_tool_runs(gate: gait.Gate, effects: SideEffects, tmp_path: Path, use_async: bool) -> None:
    """While the allowed tool runs its record already exists with
    executed: false; after it ran, true."""
    seen: List[dict[str, bool]] = []
    effects.during = lambda: seen.append(executed_flags(tmp_path, "langchain"))
    run_agent(gate, effects, tmp_path, use_async)
    # (the agent runs the four calls concurrently: the refused ones' records
    # may or may not be there yet)
    assert len(effects.calls) == 1 and len(seen) == 1 and seen[0]["call_allow"] is False
    assert executed_flags(tmp_path, "langchain") == {"call_allow": True, "call_block": False, "call_approval": False, "call_dry": False}


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
def test_a_record_that_cannot_be_written_refuses_the_call(gate: gait.Gate, effects: SideEffects, tmp_path: Path, use_async: bool) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")
    _, out = run_agent(gate, effects, not_a_dir, use_async)
    assert effects.calls == []
    msgs = tool_messages(out)
    assert msgs["call_allow"].status == "error" and "decision record could not be written" in msgs["call_allow"].content
    assert "verdict=block" in msgs["call_block"].content and "verdict=dry_run" in msgs["call_dry"].content
    with pytest.raises(gait.GateUnavailable) as e:
        run_agent(gate, effects, not_a_dir, use_async, calls=CALLS[:1], on_deny="raise")
    assert e.value.code == "record_write_failed" and effects.calls == []


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
def test_a_record_failure_after_the_run_keeps_the_tools_result(
    gate: gait.Gate, effects: SideEffects, tmp_path: Path, caplog: pytest.LogCaptureFixture, use_async: bool
) -> None:
    """The tool ran: its result reaches the model even though its record
    cannot be updated afterwards; the failure is logged."""
    effects.during = lambda: break_trace_dir(tmp_path, "langchain")
    with caplog.at_level(logging.WARNING, logger="gait"):
        _, out = run_agent(gate, effects, tmp_path, use_async, calls=CALLS[:1])
    assert len(effects.calls) == 1
    msgs = tool_messages(out)
    assert msgs["call_allow"].status == "success" and msgs["call_allow"].content == "wrote /workspace/report.txt"
    assert out["messages"][-1].content == "done"
    assert any("could not be updated" in w for w in record_warnings(caplog))


# -- what is judged is what the tool receives --------------------------------


class InjectedTargetState(AgentState):  # type: ignore[misc]
    target: str


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
def test_an_injected_argument_sent_by_the_model_is_refused(gate: gait.Gate, tmp_path: Path, use_async: bool) -> None:
    """ToolNode fills InjectedState arguments in after the middleware
    decided: a value the model sends under such a name (a decoy the gate
    would judge while the tool gets the state's value) makes the call
    refused, without running the tool."""
    ran: List[Any] = []

    @tool
    def write_file(content: str, path: Annotated[str, InjectedState("target")]) -> str:
        """Write content to the session's target file."""
        ran.append(path)
        return f"wrote {path}"

    calls = [{"name": "write_file", "args": {"content": "owned", "path": "/workspace/ok.txt"}, "id": "c_decoy"}]
    model = ScriptedModel(messages=script(calls))
    agent = create_agent(model, tools=[write_file], state_schema=InjectedTargetState, middleware=[GaitMiddleware(gate, context=LOW, trace_dir=tmp_path)])
    request = {"messages": [{"role": "user", "content": "save it"}], "target": "/etc/passwd"}
    out = asyncio.run(agent.ainvoke(request)) if use_async else agent.invoke(request)
    assert ran == []
    msg = tool_messages(out)["c_decoy"]
    assert msg.status == "error" and "reasons=intent_invalid" in msg.content and "args.path" in msg.content
    assert "argument_not_in_tool_schema" in msg.content and "injected by the tool node" in msg.content
    (rec,) = read_records(tmp_path, "langchain")
    assert rec["result"]["reason_codes"] == ["intent_invalid"] and rec["executed"] is False
    # An argument the tool does not have at all is refused the same way.
    with pytest.raises(gait.Blocked) as e:
        agent2 = create_agent(
            ScriptedModel(messages=script([{"name": "write_file", "args": {"content": "x", "bogus": 1}, "id": "c_bogus"}])),
            tools=[write_file], state_schema=InjectedTargetState, middleware=[GaitMiddleware(gate, context=LOW, on_deny="raise")],
        )
        agent2.invoke(request)
    assert e.value.decision.reason_codes == ["intent_invalid"] and ran == []


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
def test_arguments_are_judged_with_defaults_and_run_as_judged(gate: gait.Gate, tmp_path: Path, use_async: bool) -> None:
    """The model leaves out an argument with a default: the gate judges it
    with the default (in /etc: blocked, never run; in the workspace:
    allowed), and the tool runs with exactly the values judged."""
    ran: List[Any] = []

    @tool
    def write_file(content: str, path: str = "/workspace/default.txt") -> str:
        """Write a file."""
        ran.append(("write_file", path, content))
        return f"wrote {path}"

    @tool
    def read_file(path: str = "/etc/shadow") -> str:
        """Read a file."""
        ran.append(("read_file", path))
        return "secret"

    calls = [
        {"name": "write_file", "args": {"content": "x"}, "id": "c_write"},
        {"name": "read_file", "args": {}, "id": "c_read"},
    ]
    agent = create_agent(ScriptedModel(messages=script(calls)), tools=[write_file, read_file], middleware=[GaitMiddleware(gate, context=LOW, trace_dir=tmp_path)])
    request = {"messages": [{"role": "user", "content": "x"}]}
    out = asyncio.run(agent.ainvoke(request)) if use_async else agent.invoke(request)
    assert ran == [("write_file", "/workspace/default.txt", "x")]
    msgs = tool_messages(out)
    assert msgs["c_write"].status == "success" and "secret_path_access" in msgs["c_read"].content
    records = {r["tool_call_id"]: r for r in read_records(tmp_path, "langchain")}
    assert records["c_write"]["intent"]["args"] == {"content": "x", "path": "/workspace/default.txt"}
    assert records["c_read"]["intent"]["args"] == {"path": "/etc/shadow"}


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
def test_the_tool_receives_a_copy_of_the_judged_arguments(gate: gait.Gate, use_async: bool) -> None:
    """A change made to the request's arguments while the gate decides
    never reaches the tool: the handler is given a copy of the values
    judged."""
    from langchain.agents.middleware.types import ToolCallRequest

    @tool
    def write_file(path: str, content: str) -> str:
        """Write a file."""
        return path

    args = {"path": "/workspace/a.txt", "content": "x"}
    call = {"name": "write_file", "args": args, "id": "c1", "type": "tool_call"}
    request = ToolCallRequest(tool_call=call, tool=write_file, state={"messages": []}, runtime=None)  # type: ignore[arg-type]
    seen: List[Any] = []

    def handler(req: Any) -> ToolMessage:
        seen.append(dict(req.tool_call["args"]))
        return ToolMessage(content="ok", tool_call_id="c1")

    async def ahandler(req: Any) -> ToolMessage:
        return handler(req)

    mw = GaitMiddleware(AfterDecision(gate, lambda: args.update(path="/etc/passwd")), context=LOW)
    if use_async:
        asyncio.run(mw.awrap_tool_call(request, ahandler))
    else:
        mw.wrap_tool_call(request, handler)
    assert args["path"] == "/etc/passwd"
    assert seen == [{"path": "/workspace/a.txt", "content": "x"}]


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
def test_nested_arguments_are_judged_with_their_defaults(gate: gait.Gate, tmp_path: Path, use_async: bool) -> None:
    """A nested model's field left out by the model is filled by the tool's
    validation: the gate judges the call with it (a defaulted path in /etc
    is blocked and never written), and the tool runs with the values
    judged."""
    ran: List[Any] = []

    @tool
    def save_file(content: str, target: SaveTarget) -> str:
        """Save a file."""
        ran.append((target.path, target.mode))
        return f"saved {target.path}"

    calls = [{"name": "save_file", "args": args, "id": call_id} for call_id, args in NESTED_CALLS]
    agent = create_agent(ScriptedModel(messages=script(calls)), tools=[save_file], middleware=[GaitMiddleware(gate, context=LOW, trace_dir=tmp_path)])
    request = {"messages": [{"role": "user", "content": "x"}]}
    out = asyncio.run(agent.ainvoke(request)) if use_async else agent.invoke(request)
    assert ran == [("/workspace/s.txt", "w")]
    msgs = tool_messages(out)
    assert "secret_path_access" in msgs["c_nested_default"].content and msgs["c_nested_given"].status == "success"
    records = {r["tool_call_id"]: r for r in read_records(tmp_path, "langchain")}
    assert {k: r["intent"]["args"] for k, r in records.items()} == NESTED_JUDGED


def test_an_unknown_key_on_a_tool_with_a_runtime_parameter_is_refused(gate: gait.Gate) -> None:
    """A tool taking LangGraph's ``ToolRuntime`` has an input schema pydantic
    cannot write as JSON: a model sending an unknown key gets the refusal,
    and the run goes on (it does not crash on the schema)."""
    ran: List[Any] = []

    @tool
    def write_file(path: str, runtime: ToolRuntime) -> str:
        """Write a file."""
        ran.append(path)
        return "ok"

    calls = [{"name": "write_file", "args": {"path": "/workspace/a.txt", "bogus": 1}, "id": "c_bogus"}]
    agent = create_agent(ScriptedModel(messages=script(calls)), tools=[write_file], middleware=[GaitMiddleware(gate, context=LOW)])
    out = agent.invoke({"messages": [{"role": "user", "content": "x"}]})
    assert ran == []
    content = tool_messages(out)["c_bogus"].content
    assert "intent_invalid" in content and "args.bogus" in content


def test_a_default_the_schema_does_not_show_is_refused(gate: gait.Gate, tmp_path: Path) -> None:
    """A ``default_factory`` (in /etc) the model leaves out: the gate cannot
    see the value the tool would get, so the call is refused as an invalid
    intent, and the tool never runs."""
    ran: List[Any] = []

    @tool(args_schema=FactoryArgs)
    def write_file(content: str, path: str) -> str:
        """Write a file."""
        ran.append(path)
        return "ok"

    call_id, args = FACTORY_CALL
    agent = create_agent(
        ScriptedModel(messages=script([{"name": "write_file", "args": args, "id": call_id}])),
        tools=[write_file],
        middleware=[GaitMiddleware(gate, context=LOW, trace_dir=tmp_path)],
    )
    out = agent.invoke({"messages": [{"role": "user", "content": "x"}]})
    assert ran == []
    content = tool_messages(out)[call_id].content
    assert "intent_invalid" in content and "args.path" in content and "default_factory" in content
    (record,) = read_records(tmp_path, "langchain")
    assert record["result"]["reason_codes"] == ["intent_invalid"] and record["executed"] is False


def test_a_default_a_validator_rewrites_is_refused(gate: gait.Gate, tmp_path: Path) -> None:
    """A default written ``passwd`` in the schema but validated
    (``validate_default``) into ``/etc/passwd``: judged as written, the
    call was allowed and the tool read /etc/passwd. The args model's fields
    tell: refused as an invalid intent naming it, and the tool never
    runs."""
    ran: List[Any] = []

    @tool(args_schema=RewrittenArgs)
    def write_file(content: str, path: str) -> str:
        """Write a file."""
        ran.append(path)
        return "ok"

    agent = create_agent(
        ScriptedModel(messages=script([{"name": "write_file", "args": {"content": "x"}, "id": "c_rewritten"}])),
        tools=[write_file],
        middleware=[GaitMiddleware(gate, context=LOW, trace_dir=tmp_path)],
    )
    out = agent.invoke({"messages": [{"role": "user", "content": "x"}]})
    assert ran == []
    content = tool_messages(out)["c_rewritten"].content
    assert "intent_invalid" in content and "args.path" in content
    # The tool, run directly, gets the rewritten default: what was judged.
    assert write_file.invoke({"content": "x"}) == "ok" and ran == ["/etc/passwd"]


class AliasedArgs(pydantic.BaseModel):
    """``path`` read under its alias only: LangChain's ``tool_call_schema``
    shows it as ``path``, validation ignores that name, and the tool gets
    the default."""

    content: str
    path: str = pydantic.Field("/etc/passwd", alias="file_path")


class ExcludedArgs(pydantic.BaseModel):
    """``path`` left out of ``model_dump()``: LangChain never hands it to
    the tool, which runs with its function's own default."""

    content: str
    path: str = pydantic.Field("/workspace/safe.txt", exclude=True)


class DumpedByAliasArgs(pydantic.BaseModel):
    """``path`` dumped as ``target``: not a name LangChain hands on."""

    model_config = pydantic.ConfigDict(serialize_by_alias=True)
    content: str
    path: str = pydantic.Field("/workspace/safe.txt", serialization_alias="target")


class ExcludedIfArgs(pydantic.BaseModel):
    """``path`` left out of ``model_dump()`` by a predicate: caught on the
    call, by LangChain's own reading of it."""

    content: str
    path: str = pydantic.Field("/workspace/safe.txt", exclude_if=lambda v: True)


class NestedAliasPathArgs(pydantic.BaseModel):
    """``path`` read from ``loc.path``: the schema shows ``path``."""

    content: str
    path: str = pydantic.Field("/etc/passwd", validation_alias=pydantic.AliasPath("loc", "path"))


class V1Args(pydantic.v1.BaseModel):
    content: str
    path: str = "/etc/passwd"


@pytest.mark.parametrize(
    ("args_schema", "sent", "why"),
    [
        (AliasedArgs, {"content": "x", "path": "/workspace/notes.txt"}, "under another name"),
        (AliasedArgs, {"content": "x"}, "under another name"),
        (ExcludedArgs, {"content": "x", "path": "/workspace/notes.txt"}, "exclude=True"),
        (DumpedByAliasArgs, {"content": "x", "path": "/workspace/notes.txt"}, "serialize_by_alias"),
        (ExcludedIfArgs, {"content": "x", "path": "/workspace/notes.txt"}, "another value than the one judged"),
        (NestedAliasPathArgs, {"content": "x", "path": "/workspace/notes.txt"}, "args.path"),
    ],
    ids=["alias-sent", "alias-left-out", "exclude", "serialize-by-alias", "exclude-if", "alias-path"],
)
def test_a_field_the_tool_does_not_get_as_sent_is_refused(gate: gait.Gate, tmp_path: Path, args_schema: Any, sent: Dict[str, Any], why: str) -> None:
    """An ``args_schema`` with which LangChain hands the tool another value
    than the call's (or the schema's default) whatever is sent — an alias
    validation reads instead of the name the model sees, a field
    ``model_dump()`` leaves out or renames: judged as sent, the call was
    allowed and the tool wrote /etc/passwd. Refused as an invalid intent
    naming why; the tool never runs. (Run directly, the tool shows the value it would have got.)"""
    ran: List[Any] = []

    def write_file(content: str, path: str = "/etc/passwd") -> str:
        ran.append(path)
        return "ok"

    from langchain_core.tools import StructuredTool

    lc_tool = StructuredTool.from_function(write_file, name="write_file", description="Write a file.", args_schema=args_schema)
    agent = create_agent(
        ScriptedModel(messages=script([{"name": "write_file", "args": sent, "id": "c_unpassed"}])),
        tools=[lc_tool],
        middleware=[GaitMiddleware(gate, context=LOW, trace_dir=tmp_path)],
    )
    out = agent.invoke({"messages": [{"role": "user", "content": "x"}]})
    assert ran == []
    content = tool_messages(out)["c_unpassed"].content
    assert "intent_invalid" in content and why in content
    (record,) = read_records(tmp_path, "langchain")
    assert record["result"]["reason_codes"] == ["intent_invalid"] and record["executed"] is False
    assert lc_tool.invoke(dict(sent)) == "ok" and ran == ["/etc/passwd"]


def test_a_pydantic_v1_schema_is_judged_as_the_tool_gets_it(gate: gait.Gate, tmp_path: Path) -> None:
    """A ``pydantic.v1`` ``args_schema``: a left-out ``path`` is judged with
    the model's default (/etc/passwd: blocked; judged absent before, it was
    allowed and the tool wrote /etc/passwd), one sent is judged and run as
    sent."""
    ran: List[Any] = []

    def write_file(content: str, path: str = "/workspace/other.txt") -> str:
        ran.append(path)
        return "ok"

    from langchain_core.tools import StructuredTool

    lc_tool = StructuredTool.from_function(write_file, name="write_file", description="Write a file.", args_schema=V1Args)
    calls = [
        {"name": "write_file", "args": {"content": "x"}, "id": "c_v1_left_out"},
        {"name": "write_file", "args": {"content": "x", "path": "/workspace/notes.txt"}, "id": "c_v1_sent"},
    ]
    agent = create_agent(ScriptedModel(messages=script(calls)), tools=[lc_tool], middleware=[GaitMiddleware(gate, context=LOW, trace_dir=tmp_path)])
    out = agent.invoke({"messages": [{"role": "user", "content": "x"}]})
    assert ran == ["/workspace/notes.txt"]
    assert "verdict=block" in tool_messages(out)["c_v1_left_out"].content
    records = {r["intent"]["args"]["path"]: r for r in read_records(tmp_path, "langchain")}
    assert records["/etc/passwd"]["executed"] is False and records["/workspace/notes.txt"]["executed"] is True
    assert lc_tool.invoke({"content": "x"}) == "ok" and ran[-1] == "/etc/passwd"


def test_a_validator_that_changes_a_sent_value_is_refused(gate: gait.Gate, tmp_path: Path) -> None:
    """A validator changing a sent value (``/workspace/passwd`` into
    ``/etc/passwd``): judged as sent, the tool would get another one —
    refused, naming the argument; the tool never runs. A value pydantic
    merely coerces (``"5"`` for an ``int``) is the same value: judged and
    run."""
    ran: List[Any] = []

    class Args(pydantic.BaseModel):
        content: str
        path: str
        count: int = 1

        @pydantic.field_validator("path")
        @classmethod
        def into_etc(cls, v: str) -> str:
            return v.replace("/workspace/", "/etc/")

    @tool(args_schema=Args)
    def write_file(content: str, path: str, count: int = 1) -> str:
        """Write a file."""
        ran.append((path, count))
        return "ok"

    agent = create_agent(
        ScriptedModel(messages=script([{"name": "write_file", "args": {"content": "x", "path": "/workspace/passwd"}, "id": "c_changed"}])),
        tools=[write_file],
        middleware=[GaitMiddleware(gate, context=LOW, trace_dir=tmp_path)],
    )
    out = agent.invoke({"messages": [{"role": "user", "content": "x"}]})
    content = tool_messages(out)["c_changed"].content
    assert "intent_invalid" in content and "args.path" in content and "another value than the one judged" in content
    assert ran == []

    class Plain(pydantic.BaseModel):
        content: str
        path: str
        count: int = 1

    @tool("write_file", args_schema=Plain)
    def write_plain(content: str, path: str, count: int = 1) -> str:
        """Write a file."""
        ran.append((path, count))
        return "ok"

    calls = [{"name": "write_file", "args": {"content": "x", "path": "/workspace/notes.txt", "count": "5"}, "id": "c_coerced"}]
    agent = create_agent(ScriptedModel(messages=script(calls)), tools=[write_plain], middleware=[GaitMiddleware(gate, context=LOW, trace_dir=tmp_path)])
    out = agent.invoke({"messages": [{"role": "user", "content": "x"}]})
    assert tool_messages(out)["c_coerced"].status == "success" and ran == [("/workspace/notes.txt", 5)]


def test_an_alias_read_by_name_too_is_judged_as_sent(gate: gait.Gate, tmp_path: Path) -> None:
    """The same alias with ``validate_by_name``: validation reads the name
    the model sends, the tool gets it: judged and run as sent."""
    ran: List[Any] = []

    class Args(AliasedArgs):
        model_config = pydantic.ConfigDict(validate_by_name=True)

    @tool(args_schema=Args)
    def write_file(content: str, path: str) -> str:
        """Write a file."""
        ran.append(path)
        return "ok"

    calls = [{"name": "write_file", "args": {"content": "x", "path": "/workspace/notes.txt"}, "id": "c_by_name"}]
    agent = create_agent(ScriptedModel(messages=script(calls)), tools=[write_file], middleware=[GaitMiddleware(gate, context=LOW, trace_dir=tmp_path)])
    out = agent.invoke({"messages": [{"role": "user", "content": "x"}]})
    assert tool_messages(out)["c_by_name"].status == "success" and ran == ["/workspace/notes.txt"]
    (record,) = read_records(tmp_path, "langchain")
    assert record["intent"]["args"]["path"] == "/workspace/notes.txt" and record["executed"] is True


def test_a_dict_schema_is_judged_with_the_function_s_own_defaults(gate: gait.Gate, tmp_path: Path) -> None:
    """A JSON schema given as a dict: LangChain hands the tool the call's
    arguments as they are — the schema's ``default`` is never filled in,
    the function's own default runs — so that is what the gate judges: a
    left-out ``path`` defaulting to /etc/passwd in the function is judged
    as /etc/passwd (blocked), not as absent nor as the schema's default."""
    ran: List[Any] = []
    schema = {
        "type": "object",
        "properties": {"content": {"type": "string"}, "path": {"type": "string", "default": "/workspace/safe.txt"}, "mode": {"type": "string", "default": "append"}},
        "required": ["content"],
    }

    def write_file(content: str, path: str = "/etc/passwd", mode: str = "truncate") -> str:
        ran.append((path, mode))
        return "ok"

    from langchain_core.tools import StructuredTool

    lc_tool = StructuredTool.from_function(write_file, name="write_file", description="Write a file.", args_schema=schema)
    calls = [
        {"name": "write_file", "args": {"content": "x", "path": "/workspace/notes.txt"}, "id": "c_dict_sent"},
        {"name": "write_file", "args": {"content": "x"}, "id": "c_dict_left_out"},
    ]
    agent = create_agent(ScriptedModel(messages=script(calls)), tools=[lc_tool], middleware=[GaitMiddleware(gate, context=LOW, trace_dir=tmp_path)])
    out = agent.invoke({"messages": [{"role": "user", "content": "x"}]})
    assert ran == [("/workspace/notes.txt", "truncate")]
    assert "verdict=block" in tool_messages(out)["c_dict_left_out"].content
    records = {r["intent"]["args"].get("path"): r for r in read_records(tmp_path, "langchain")}
    assert records["/workspace/notes.txt"]["intent"]["args"] == {"content": "x", "path": "/workspace/notes.txt", "mode": "truncate"}
    assert records["/etc/passwd"]["intent"]["args"] == {"content": "x", "path": "/etc/passwd", "mode": "truncate"}
    assert records["/etc/passwd"]["executed"] is False


@pytest.mark.parametrize("use_async", [False, True], ids=["sync", "async"])
def test_a_tool_whose_two_functions_default_differently_is_refused(gate: gait.Gate, tmp_path: Path, use_async: bool) -> None:
    """A tool with a ``func`` and a ``coroutine``: an asynchronous run
    calls the coroutine, with its own defaults. When the two default a
    left-out argument differently (``/workspace/safe.txt`` and
    ``/etc/passwd``) the gate cannot tell which value the tool gets: the
    call is refused as an invalid intent, sync or async, and neither runs.
    The same argument sent, or defaults that agree, run as judged."""
    ran: List[Any] = []
    schema = {"type": "object", "properties": {"content": {"type": "string"}, "path": {"type": "string"}}, "required": ["content"]}

    def write_file(content: str, path: str = "/workspace/safe.txt") -> str:
        ran.append(("func", path))
        return "ok"

    async def awrite_file(content: str, path: str = "/etc/passwd") -> str:
        ran.append(("coroutine", path))
        return "ok"

    async def awrite_same(content: str, path: str = "/workspace/safe.txt") -> str:
        ran.append(("coroutine", path))
        return "ok"

    from langchain_core.tools import StructuredTool

    request = {"messages": [{"role": "user", "content": "x"}]}

    def run(lc_tool: Any, calls: List[Dict[str, Any]]) -> Dict[str, ToolMessage]:
        agent = create_agent(ScriptedModel(messages=script(calls)), tools=[lc_tool], middleware=[GaitMiddleware(gate, context=LOW, trace_dir=tmp_path)])
        return tool_messages(asyncio.run(agent.ainvoke(request)) if use_async else agent.invoke(request))

    differ = StructuredTool.from_function(write_file, coroutine=awrite_file, name="write_file", description="Write a file.", args_schema=schema)
    msgs = run(differ, [
        {"name": "write_file", "args": {"content": "x"}, "id": "c_left_out"},
        {"name": "write_file", "args": {"content": "x", "path": "/workspace/notes.txt"}, "id": "c_sent"},
    ])
    runner = "coroutine" if use_async else "func"
    assert ran == [(runner, "/workspace/notes.txt")]
    assert msgs["c_left_out"].status == "error" and "intent_invalid" in msgs["c_left_out"].content
    assert "args.path" in msgs["c_left_out"].content and "coroutine" in msgs["c_left_out"].content
    assert msgs["c_sent"].status == "success"
    agree = StructuredTool.from_function(write_file, coroutine=awrite_same, name="write_file", description="Write a file.", args_schema=schema)
    msgs = run(agree, [{"name": "write_file", "args": {"content": "x"}, "id": "c_agree"}])
    assert msgs["c_agree"].status == "success" and ran[1:] == [(runner, "/workspace/safe.txt")]


def test_the_tool_validates_the_call_s_own_arguments(gate: gait.Gate, tmp_path: Path) -> None:
    """The gate judges the arguments with the defaults filled in, but the
    tool gets the call's own arguments (copied when judged): its validation
    fills the same defaults without validating them as given values — a
    ``limit: int = None`` left out runs (an explicit ``None`` would fail
    ``int``)."""
    ran: List[Any] = []

    @tool
    def read_file(path: str, limit: int = None) -> str:  # type: ignore[assignment]
        """Read a file."""
        ran.append((path, limit))
        return "text"

    calls = [{"name": "read_file", "args": {"path": "/workspace/a.txt"}, "id": "c_read"}]
    agent = create_agent(ScriptedModel(messages=script(calls)), tools=[read_file], middleware=[GaitMiddleware(gate, context=LOW, trace_dir=tmp_path)])
    out = agent.invoke({"messages": [{"role": "user", "content": "x"}]})
    assert ran == [("/workspace/a.txt", None)] and tool_messages(out)["c_read"].status == "success"
    (record,) = read_records(tmp_path, "langchain")
    assert record["intent"]["args"] == {"path": "/workspace/a.txt", "limit": None}
