"""AutoGen 0.7: a real `AssistantAgent` driven by `ReplayChatCompletionClient`
with a `GatedWorkbench`, and `ToolAgent` behind `GaitInterventionHandler`."""

from __future__ import annotations

import datetime
import decimal
import uuid
from typing import Set

from pydantic import HttpUrl

import asyncio
import json
import logging
from pathlib import Path
from typing import Any, List, Sequence

import pytest
from pydantic import BaseModel
from autogen_agentchat.agents import AssistantAgent
from autogen_core import AgentId, CancellationToken, FunctionCall, SingleThreadedAgentRuntime, TopicId, TypeSubscription
from autogen_core.exceptions import MessageDroppedException
from autogen_core.models import CreateResult, FunctionExecutionResultMessage, LLMMessage, ModelInfo, RequestUsage
from autogen_core.tool_agent import ToolAgent
from autogen_core.tools import BaseTool, FunctionTool, StaticStreamWorkbench, ToolResult, Workbench
from autogen_ext.models.replay import ReplayChatCompletionClient
from conftest import COMMON_TYPED_ARGS, LOW, NESTED_CALLS, DecodedArgs, Shade, FactoryTarget, IntoEtcTarget, RewrittenArgs, AfterDecision, NESTED_JUDGED, SaveTarget, SideEffects, assert_same_as_cli, break_trace_dir, executed_flags, read_records, record_warnings

import gait
from gait.autogen import GaitInterventionHandler, GatedWorkbench

CALLS = [
    FunctionCall(id="call_allow", name="write_file", arguments=json.dumps({"path": "/workspace/report.txt", "content": "ok"})),
    FunctionCall(id="call_block", name="write_file", arguments=json.dumps({"path": "/workspace/../etc/passwd", "content": "x"})),
    FunctionCall(id="call_approval", name="delete_file", arguments=json.dumps({"path": "report.txt"})),
    FunctionCall(id="call_dry", name="write_file", arguments=json.dumps({"path": "/workspace/dry-run/plan.txt", "content": "x"})),
]
INFO = ModelInfo(vision=False, function_calling=True, json_output=False, family="unknown", structured_output=False)


class RecordingReplay(ReplayChatCompletionClient):
    """The offline replay client; records the messages of every turn."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.seen: List[Sequence[LLMMessage]] = []

    async def create(self, messages: Sequence[LLMMessage], **kwargs: Any) -> CreateResult:
        self.seen.append(list(messages))
        return await super().create(messages, **kwargs)


def client() -> RecordingReplay:
    return RecordingReplay(
        [CreateResult(finish_reason="function_calls", content=list(CALLS), usage=RequestUsage(0, 0), cached=False), "done"],
        model_info=INFO,
    )


def make_tools(effects: SideEffects) -> List[FunctionTool]:
    async def write_file(path: str, content: str) -> str:
        effects.ran("write_file", {"path": path, "content": content})
        return f"wrote {path}"

    async def delete_file(path: str) -> str:
        effects.ran("delete_file", {"path": path})
        return f"deleted {path}"

    return [FunctionTool(write_file, description="Write a file."), FunctionTool(delete_file, description="Delete a file.")]


def run_agent(gate: gait.Gate, effects: SideEffects, trace_dir: Path) -> RecordingReplay:
    model = client()
    agent = AssistantAgent(
        "ops",
        model_client=model,
        workbench=GatedWorkbench(make_tools(effects), gate, context=LOW, trace_dir=trace_dir),
        reflect_on_tool_use=True,
    )
    result = asyncio.run(agent.run(task="tidy the workspace"))
    assert result.messages[-1].content == "done"
    return model


def results_sent(model: RecordingReplay) -> dict[str, tuple[str, bool]]:
    """The tool results the model received on its second turn."""
    out: dict[str, tuple[str, bool]] = {}
    for m in model.seen[1]:
        if isinstance(m, FunctionExecutionResultMessage):
            for r in m.content:
                out[r.call_id] = (r.content, bool(r.is_error))
    return out


def test_allowed_runs_once_refusals_reach_the_model(gate: gait.Gate, bundle: Path, trust: Path, effects: SideEffects, tmp_path: Path) -> None:
    model = run_agent(gate, effects, tmp_path)
    assert effects.calls == [("write_file", {"path": "/workspace/report.txt", "content": "ok"})]
    sent = results_sent(model)
    assert sent["call_allow"] == ("wrote /workspace/report.txt", False)
    assert sent["call_block"][1] and "verdict=block" in sent["call_block"][0] and "secret_path_access" in sent["call_block"][0]
    assert sent["call_approval"][1] and "verdict=require_approval" in sent["call_approval"][0]
    assert sent["call_dry"][1] and "verdict=dry_run" in sent["call_dry"][0] and "dry_run_only" in sent["call_dry"][0]
    records = {r["tool_call_id"]: r for r in read_records(tmp_path, "autogen")}
    assert set(records) == {"call_allow", "call_block", "call_approval", "call_dry"}
    for call_id, rec in records.items():
        assert rec["executed"] is (call_id == "call_allow")
        decision = gate.evaluate(rec["intent"])
        assert decision.result == rec["result"]
        assert_same_as_cli(bundle, trust, rec["intent"], decision)


def test_unavailable_gate_runs_nothing(unavailable_gate: gait.Gate, effects: SideEffects, tmp_path: Path) -> None:
    model = run_agent(unavailable_gate, effects, tmp_path)
    assert effects.calls == []
    sent = results_sent(model)
    assert len(sent) == 4 and all(is_error and "gate unavailable" in text for text, is_error in sent.values())
    records = read_records(tmp_path, "autogen")
    assert len(records) == 4 and all(r["executed"] is False and r["result"] is None for r in records)


def test_call_tool_and_call_tool_stream_are_both_gated(gate: gait.Gate, effects: SideEffects) -> None:
    wb = GatedWorkbench(make_tools(effects), gate, context=LOW)

    async def main() -> None:
        ok = await wb.call_tool("write_file", {"path": "/workspace/a", "content": ""}, call_id="a")
        assert not ok.is_error and effects.count("write_file") == 1
        no = await wb.call_tool("write_file", {"path": "/etc/passwd", "content": ""}, call_id="b")
        assert no.is_error and "verdict=block" in no.result[0].content
        streamed = [item async for item in wb.call_tool_stream("write_file", {"path": "/etc/shadow", "content": ""}, call_id="c")]
        assert len(streamed) == 1 and isinstance(streamed[0], ToolResult) and streamed[0].is_error
        streamed = [item async for item in wb.call_tool_stream("write_file", {"path": "/workspace/b", "content": ""}, call_id="d")]
        assert isinstance(streamed[-1], ToolResult) and not streamed[-1].is_error

    asyncio.run(main())
    assert [args["path"] for _, args in effects.calls] == ["/workspace/a", "/workspace/b"]


def test_tool_agent_behind_the_intervention_handler(gate: gait.Gate, bundle: Path, trust: Path, effects: SideEffects, tmp_path: Path) -> None:
    handler = GaitInterventionHandler(gate, context=LOW, trace_dir=tmp_path)

    async def main() -> None:
        runtime = SingleThreadedAgentRuntime(intervention_handlers=[handler])
        await ToolAgent.register(runtime, "tools", lambda: ToolAgent("file tools", make_tools(effects)))
        runtime.start()
        target = AgentId("tools", "default")
        result = await runtime.send_message(CALLS[0], target)
        assert result.content == "wrote /workspace/report.txt"
        for call in CALLS[1:]:
            with pytest.raises(MessageDroppedException):
                await runtime.send_message(call, target)
        # Not stop_when_idle(): autogen-core 0.7.5 never marks a dropped
        # message done, so it would wait forever.
        await runtime.stop()

    asyncio.run(asyncio.wait_for(main(), 30))
    assert effects.calls == [("write_file", {"path": "/workspace/report.txt", "content": "ok"})]
    assert handler.decisions["call_block"] is not None and handler.decisions["call_block"].verdict == "block"
    assert handler.decisions["call_approval"] is not None and handler.decisions["call_approval"].verdict == "require_approval"
    assert handler.decisions["call_dry"] is not None and handler.decisions["call_dry"].verdict == "dry_run"
    records = read_records(tmp_path, "autogen")
    assert len(records) == 4
    for rec in records:
        assert rec["executed"] is (rec["tool_call_id"] == "call_allow")
        assert_same_as_cli(bundle, trust, rec["intent"], gate.evaluate(rec["intent"]))


def test_published_function_calls_are_gated_too(gate: gait.Gate, effects: SideEffects, tmp_path: Path) -> None:
    """A ToolAgent subscribed to a topic runs the FunctionCalls published to
    it: the handler decides those (on_publish) as it decides sent ones."""
    handler = GaitInterventionHandler(gate, context=LOW, trace_dir=tmp_path)

    async def main() -> None:
        runtime = SingleThreadedAgentRuntime(intervention_handlers=[handler])
        await ToolAgent.register(runtime, "tools", lambda: ToolAgent("file tools", make_tools(effects)))
        await runtime.add_subscription(TypeSubscription(topic_type="tool_calls", agent_type="tools"))
        runtime.start()
        topic = TopicId("tool_calls", "default")
        # The refused ones first, the allowed one last: once it has run, the
        # others have long been through the handler.
        for call in [*CALLS[1:], CALLS[0]]:
            await runtime.publish_message(call, topic)
        for _ in range(200):
            if effects.calls:
                break
            await asyncio.sleep(0.02)
        await asyncio.sleep(0.2)
        await runtime.stop()

    asyncio.run(asyncio.wait_for(main(), 30))
    assert effects.calls == [("write_file", {"path": "/workspace/report.txt", "content": "ok"})]
    assert {k: (d.verdict if d is not None else None) for k, d in handler.decisions.items()} == {
        "call_allow": "allow",
        "call_block": "block",
        "call_approval": "require_approval",
        "call_dry": "dry_run",
    }
    # A published call has no response: its record cannot learn that it ran.
    assert executed_flags(tmp_path, "autogen") == {"call_allow": False, "call_block": False, "call_approval": False, "call_dry": False}


def test_a_gated_workbench_cannot_be_serialized(gate: gait.Gate, effects: SideEffects) -> None:
    """Dumping an agent would otherwise give a config that loads back as a
    plain, ungated StaticStreamWorkbench."""
    tools = make_tools(effects)
    # The plain workbench dumps (and loads back): the path this refuses.
    plain = StaticStreamWorkbench(tools).dump_component()
    with pytest.warns(UserWarning, match="SECURITY WARNING"):  # autogen's own, on loading tools
        assert isinstance(Workbench.load_component(plain), StaticStreamWorkbench)

    wb = GatedWorkbench(tools, gate, context=LOW)
    with pytest.raises(TypeError, match="cannot be serialized"):
        wb.dump_component()
    agent = AssistantAgent("ops", model_client=client(), workbench=wb)
    with pytest.raises(TypeError, match="cannot be serialized"):
        agent.dump_component()
    # A config naming the gated workbench does not load either.
    forged = plain.model_copy(update={"provider": "gait.autogen.GatedWorkbench"})
    with pytest.raises(TypeError, match="cannot be serialized"):
        Workbench.load_component(forged)


def test_workbench_records_are_written_before_the_tool_runs(gate: gait.Gate, effects: SideEffects, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    wb = GatedWorkbench(make_tools(effects), gate, context=LOW, trace_dir=tmp_path)
    seen: List[dict[str, bool]] = []
    effects.during = lambda: seen.append(executed_flags(tmp_path, "autogen"))

    async def main() -> None:
        ok = await wb.call_tool("write_file", {"path": "/workspace/a", "content": ""}, call_id="a")
        assert not ok.is_error
        streamed = [item async for item in wb.call_tool_stream("write_file", {"path": "/workspace/b", "content": ""}, call_id="b")]
        assert not streamed[-1].is_error

    asyncio.run(main())
    assert seen == [{"a": False}, {"a": True, "b": False}]
    assert executed_flags(tmp_path, "autogen") == {"a": True, "b": True}

    # A record that cannot be written before: the tool does not run.
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")
    effects.calls.clear()
    effects.during = None
    broken = GatedWorkbench(make_tools(effects), gate, context=LOW, trace_dir=not_a_dir)

    async def refused() -> None:
        r = await broken.call_tool("write_file", {"path": "/workspace/a", "content": ""}, call_id="c")
        assert r.is_error and "decision record could not be written" in r.result[0].content
        streamed = [item async for item in broken.call_tool_stream("write_file", {"path": "/workspace/a", "content": ""}, call_id="d")]
        assert len(streamed) == 1 and streamed[0].is_error

    asyncio.run(refused())
    assert effects.calls == []

    # A record that cannot be updated after: the tool's result stands.
    effects.during = lambda: break_trace_dir(tmp_path, "autogen")

    async def after() -> None:
        r = await wb.call_tool("write_file", {"path": "/workspace/e", "content": ""}, call_id="e")
        assert not r.is_error and r.result[0].content == "wrote /workspace/e"

    with caplog.at_level(logging.WARNING, logger="gait"):
        asyncio.run(after())
    assert effects.count("write_file") == 1
    assert any("could not be updated" in w for w in record_warnings(caplog))


def defaulted_tools(effects: SideEffects) -> List[FunctionTool]:
    """``write_file`` (its path defaults into the workspace) and
    ``delete_file`` (its path defaults into /etc)."""

    async def write_file(content: str, path: str = "/workspace/default.txt") -> str:
        effects.ran("write_file", {"path": path, "content": content})
        return f"wrote {path}"

    async def delete_file(content: str, path: str = "/etc/gait-default.txt") -> str:
        effects.ran("delete_file", {"path": path, "content": content})
        return f"deleted {path}"

    return [FunctionTool(write_file, description="Write."), FunctionTool(delete_file, description="Delete.")]


def test_arguments_are_judged_with_the_tools_defaults(gate: gait.Gate, effects: SideEffects, tmp_path: Path) -> None:
    """A call that leaves out a mapped argument is judged with the default
    the tool's args model fills in, and the tool runs with exactly the
    values judged: a default in /etc is blocked, one in the workspace runs."""


    bench = GatedWorkbench(defaulted_tools(effects), gate, context=LOW, trace_dir=tmp_path)

    async def main() -> List[ToolResult]:
        return [
            await bench.call_tool("write_file", {"content": "x"}, call_id="c_write"),
            await bench.call_tool("delete_file", {"content": "x"}, call_id="c_delete"),
        ]

    written, deleted = asyncio.run(main())
    assert not written.is_error and effects.calls == [("write_file", {"path": "/workspace/default.txt", "content": "x"})]
    assert deleted.is_error and "secret_path_access" in deleted.result[0].content
    records = {r["tool_call_id"]: r for r in read_records(tmp_path, "autogen")}
    assert records["c_write"]["intent"]["args"] == {"content": "x", "path": "/workspace/default.txt"}
    assert records["c_delete"]["intent"]["args"] == {"content": "x", "path": "/etc/gait-default.txt"}


def test_nested_arguments_are_judged_with_their_defaults(gate: gait.Gate, effects: SideEffects, tmp_path: Path) -> None:
    """A nested model's field left out by the model is filled by the tool's
    args model: the gate judges the call with it (a defaulted path in /etc
    is blocked and never written), and the tool runs with the values
    judged."""

    async def save_file(content: str, target: SaveTarget) -> str:
        effects.ran("save_file", {"path": target.path, "mode": target.mode})
        return f"saved {target.path}"

    bench = GatedWorkbench([FunctionTool(save_file, description="Save.")], gate, context=LOW, trace_dir=tmp_path)

    async def main() -> List[ToolResult]:
        return [await bench.call_tool("save_file", args, call_id=call_id) for call_id, args in NESTED_CALLS]

    refused, saved = asyncio.run(main())
    assert refused.is_error and "secret_path_access" in refused.result[0].content
    assert not saved.is_error and effects.calls == [("save_file", {"path": "/workspace/s.txt", "mode": "w"})]
    records = {r["tool_call_id"]: r for r in read_records(tmp_path, "autogen")}
    assert {k: r["intent"]["args"] for k, r in records.items()} == NESTED_JUDGED


def test_the_tool_runs_with_the_values_judged(gate: gait.Gate, effects: SideEffects, tmp_path: Path) -> None:
    """A change made to the caller's arguments after the gate decided never
    reaches the tool (call_tool and call_tool_stream): it runs with a copy
    of the values judged, and the record holds them."""
    args: dict[str, Any] = {"path": "/workspace/a.txt", "content": "x"}

    async def write_file(path: str, content: str) -> str:
        effects.ran("write_file", {"path": path, "content": content})
        return f"wrote {path}"

    bench = GatedWorkbench(
        [FunctionTool(write_file, description="Write.")],
        AfterDecision(gate, lambda: args.update(path="/etc/passwd")),
        context=LOW,
        trace_dir=tmp_path,
    )

    async def main() -> None:
        args["path"] = "/workspace/a.txt"
        result = await bench.call_tool("write_file", args, call_id="c_call")
        assert not result.is_error
        args["path"] = "/workspace/a.txt"
        async for _ in bench.call_tool_stream("write_file", args, call_id="c_stream"):
            pass

    asyncio.run(main())
    assert args["path"] == "/etc/passwd"  # the caller's object was changed ...
    judged = {"path": "/workspace/a.txt", "content": "x"}
    assert effects.calls == [("write_file", judged)] * 2  # ... the tool saw the values judged
    records = {r["tool_call_id"]: r for r in read_records(tmp_path, "autogen")}
    assert {k: (r["intent"]["args"], r["executed"]) for k, r in records.items()} == {"c_call": (judged, True), "c_stream": (judged, True)}


def test_a_default_the_schema_does_not_show_is_refused(gate: gait.Gate, effects: SideEffects, tmp_path: Path) -> None:
    """A nested model's ``default_factory`` (in /etc) the model leaves out:
    the gate cannot see the value the tool would get, so the call is
    refused as an invalid intent naming it, and the tool never runs."""

    async def save_file(content: str, target: FactoryTarget) -> str:
        effects.ran("save_file", {"path": target.path, "content": content})
        return f"saved {target.path}"

    bench = GatedWorkbench([FunctionTool(save_file, description="Save.")], gate, context=LOW, trace_dir=tmp_path)
    result = asyncio.run(bench.call_tool("save_file", {"content": "x", "target": {}}, call_id="c_factory"))
    assert result.is_error and "intent_invalid" in result.result[0].content
    assert effects.calls == []
    (record,) = read_records(tmp_path, "autogen")
    assert record["result"]["reason_codes"] == ["intent_invalid"] and "args.target.path" in record["result"]["error"]
    # Given explicitly, the same call is judged on it and runs.
    given = asyncio.run(bench.call_tool("save_file", {"content": "x", "target": {"path": "/workspace/f.txt"}}, call_id="c_given"))
    assert not given.is_error and effects.calls == [("save_file", {"path": "/workspace/f.txt", "content": "x"})]


def test_a_default_a_validator_rewrites_is_refused(gate: gait.Gate, effects: SideEffects, tmp_path: Path) -> None:
    """A nested default written ``passwd`` in the schema but validated
    (``validate_default``) into ``/etc/passwd``: judged as written, the
    tool wrote /etc/passwd. The args type's fields tell: refused as an
    invalid intent naming it, and the tool never runs."""

    async def save_file(content: str, target: RewrittenArgs) -> str:
        effects.ran("save_file", {"path": target.path, "content": content})
        return f"saved {target.path}"

    bench = GatedWorkbench([FunctionTool(save_file, description="Save.")], gate, context=LOW, trace_dir=tmp_path)
    result = asyncio.run(bench.call_tool("save_file", {"content": "x", "target": {"content": "y"}}, call_id="c_rewritten"))
    assert result.is_error and "intent_invalid" in result.result[0].content
    assert effects.calls == []
    (record,) = read_records(tmp_path, "autogen")
    assert "args.target.path" in record["result"]["error"]


class Done(BaseModel):
    ok: bool = True


class ReadDecoded(BaseTool[DecodedArgs, Done]):
    """A tool of its own args type (not a FunctionTool), which URL-decodes
    its path when validated."""

    def __init__(self, effects: SideEffects) -> None:
        super().__init__(DecodedArgs, Done, "read_file", "Read a file.")
        self.effects = effects

    async def run(self, args: DecodedArgs, cancellation_token: CancellationToken) -> Done:
        self.effects.ran("read_file", {"path": args.path})
        return Done()


def test_a_value_the_args_model_changes_is_refused(gate: gait.Gate, effects: SideEffects, tmp_path: Path) -> None:
    """The tool's args model validates the call after the gate decided: a
    nested model's validator rewriting ``/workspace/passwd`` into
    ``/etc/passwd``, a tool type URL-decoding ``..%2Fetc%2Fshadow``. Judged
    as sent, both were allowed and the tools ran on /etc; the call is now
    validated on a copy and compared with what was judged: refused as an
    invalid intent naming the argument, through a real AssistantAgent, and
    nothing runs. A call the validators leave as it is runs."""

    async def save_file(content: str, target: IntoEtcTarget) -> str:
        effects.ran("save_file", {"path": target.path, "content": content})
        return "saved"

    calls = [
        FunctionCall(id="c_into_etc", name="save_file", arguments=json.dumps({"content": "x", "target": {"path": "/workspace/passwd"}})),
        FunctionCall(id="c_decoded", name="read_file", arguments=json.dumps({"path": "/workspace/..%2Fetc%2Fshadow"})),
        FunctionCall(id="c_plain", name="read_file", arguments=json.dumps({"path": "/workspace/notes.txt"})),
    ]
    model = RecordingReplay(
        [CreateResult(finish_reason="function_calls", content=calls, usage=RequestUsage(0, 0), cached=False), "done"], model_info=INFO
    )
    tools: List[Any] = [FunctionTool(save_file, description="Save."), ReadDecoded(effects)]
    agent = AssistantAgent("ops", model_client=model, workbench=GatedWorkbench(tools, gate, context=LOW, trace_dir=tmp_path), reflect_on_tool_use=True)
    asyncio.run(agent.run(task="go"))
    assert effects.calls == [("read_file", {"path": "/workspace/notes.txt"})]
    records = {r["tool_call_id"]: r for r in read_records(tmp_path, "autogen")}
    assert records["c_into_etc"]["result"]["reason_codes"] == ["intent_invalid"]
    assert "args.target.path: the tool would run with another value" in records["c_into_etc"]["result"]["error"]
    assert records["c_decoded"]["result"]["reason_codes"] == ["intent_invalid"] and "args.path: the tool" in records["c_decoded"]["result"]["error"]
    assert records["c_plain"]["executed"] is True
    sent = results_sent(model)
    assert sent["c_into_etc"][1] and "intent_invalid" in sent["c_into_etc"][0]


def test_the_intervention_handler_refuses_what_the_args_model_changes_and_passes_on_its_own_copy(
    gate: gait.Gate, effects: SideEffects, tmp_path: Path
) -> None:
    """Behind the handler (given the tools): a call the tool's args model
    would rewrite is dropped as an invalid intent; an allowed call reaches
    the ToolAgent as a new message with the text judged, so a change made to
    the sender's message after the decision never reaches the tool."""
    tools: List[Any] = [ReadDecoded(effects)]
    handler = GaitInterventionHandler(
        AfterDecision(gate, lambda: setattr(held[0], "arguments", '{"path": "/etc/passwd"}') if held else None),
        context=LOW,
        trace_dir=tmp_path,
        tools=tools,
    )
    held: List[FunctionCall] = []

    async def main() -> None:
        runtime = SingleThreadedAgentRuntime(intervention_handlers=[handler])
        await ToolAgent.register(runtime, "tools", lambda: ToolAgent("file tools", tools))
        runtime.start()
        target = AgentId("tools", "default")
        with pytest.raises(MessageDroppedException):
            await runtime.send_message(FunctionCall(id="c_decoded", name="read_file", arguments='{"path": "/workspace/..%2Fetc%2Fshadow"}'), target)
        held.append(FunctionCall(id="c_changed", name="read_file", arguments='{"path": "/workspace/ok.txt"}'))
        await runtime.send_message(held[0], target)
        await runtime.stop()

    asyncio.run(asyncio.wait_for(main(), 30))
    assert held[0].arguments == '{"path": "/etc/passwd"}'  # the sender's message was changed ...
    assert effects.calls == [("read_file", {"path": "/workspace/ok.txt"})]  # ... the tool got the text judged
    decision = handler.decisions["c_decoded"]
    assert decision is not None and decision.reason_codes == ["intent_invalid"]


def test_the_intervention_handler_judges_with_the_tools_defaults(gate: gait.Gate, effects: SideEffects, tmp_path: Path) -> None:
    """Given the ToolAgent's tools, the handler judges a call with its tool's
    schema defaults (a defaulted path in /etc: dropped, never run; one in
    the workspace: let through) and the tool gets exactly the arguments
    judged; a nested default_factory left out is refused. Without the
    tools, the arguments are judged as sent."""


    async def save_file(content: str, target: FactoryTarget) -> str:
        effects.ran("save_file", {"path": target.path, "content": content})
        return "saved"

    tools = [*defaulted_tools(effects), FunctionTool(save_file, description="Save.")]
    handler = GaitInterventionHandler(gate, context=LOW, trace_dir=tmp_path, tools=tools)

    async def main() -> None:
        runtime = SingleThreadedAgentRuntime(intervention_handlers=[handler])
        await ToolAgent.register(runtime, "tools", lambda: ToolAgent("file tools", tools))
        runtime.start()
        target = AgentId("tools", "default")
        result = await runtime.send_message(FunctionCall(id="c_write", name="write_file", arguments='{"content": "x"}'), target)
        assert result.content == "wrote /workspace/default.txt"
        for call_id, name in (("c_delete", "delete_file"), ("c_save", "save_file")):
            args = '{"content": "x", "target": {}}' if name == "save_file" else '{"content": "x"}'
            with pytest.raises(MessageDroppedException):
                await runtime.send_message(FunctionCall(id=call_id, name=name, arguments=args), target)
        await runtime.stop()

    asyncio.run(asyncio.wait_for(main(), 30))
    assert effects.calls == [("write_file", {"path": "/workspace/default.txt", "content": "x"})]
    decisions = {k: (d.verdict, d.reason_codes) if d is not None else None for k, d in handler.decisions.items()}
    assert decisions == {
        "c_write": ("allow", ["workspace_io"]),
        "c_delete": ("block", ["secret_path_access"]),
        "c_save": ("block", ["intent_invalid"]),
    }
    records = {r["tool_call_id"]: r for r in read_records(tmp_path, "autogen")}
    assert records["c_write"]["intent"]["args"] == {"content": "x", "path": "/workspace/default.txt"}
    assert records["c_delete"]["intent"]["args"] == {"content": "x", "path": "/etc/gait-default.txt"}
    assert "args.target.path" in records["c_save"]["result"]["error"]


def test_arguments_of_common_types_run_as_judged(gate: gait.Gate, effects: SideEffects, tmp_path: Path) -> None:
    """Values pydantic reads into another spelling of the same value (a
    string enum, a ``Z`` datetime, ``./`` before a path, an upper-case
    UUID, ``1`` for true, ``"5"`` for 5, …) are what was judged: the call
    runs (comparing them as JSON text refused it)."""
    async def write_file(
        path: str, content: str, shade: Shade, when: datetime.datetime, at: datetime.time, every: datetime.timedelta,
        where: Path, site: HttpUrl, amount: decimal.Decimal, tags: Set[str], ident: uuid.UUID, flag: bool, blob: bytes, count: int,
    ) -> str:
        effects.ran("write_file", {"path": path, "shade": shade, "where": where, "flag": flag, "count": count})
        return "ok"

    bench = GatedWorkbench([FunctionTool(write_file, description="Write.")], gate, context=LOW, trace_dir=tmp_path)
    args = {"path": "/workspace/a.txt", "content": "x", **COMMON_TYPED_ARGS}
    result = asyncio.run(bench.call_tool("write_file", args, call_id="c_types"))
    assert not result.is_error, result
    assert effects.calls == [("write_file", {"path": "/workspace/a.txt", "shade": Shade.LIGHT, "where": Path("notes"), "flag": True, "count": 5})]
