"""AutoGen 0.7: a real `AssistantAgent` driven by `ReplayChatCompletionClient`
with a `GatedWorkbench`, and `ToolAgent` behind `GaitInterventionHandler`."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any, List, Sequence

import pytest
from conftest import LOW, SideEffects, assert_same_as_cli, read_records

import gait

pytest.importorskip("autogen_agentchat")

from autogen_agentchat.agents import AssistantAgent  # noqa: E402
from autogen_core import AgentId, FunctionCall, SingleThreadedAgentRuntime  # noqa: E402
from autogen_core.exceptions import MessageDroppedException  # noqa: E402
from autogen_core.models import CreateResult, FunctionExecutionResultMessage, LLMMessage, ModelInfo, RequestUsage  # noqa: E402
from autogen_core.tool_agent import ToolAgent  # noqa: E402
from autogen_core.tools import FunctionTool, ToolResult  # noqa: E402
from autogen_ext.models.replay import ReplayChatCompletionClient  # noqa: E402

from gait.autogen import GaitInterventionHandler, GatedWorkbench  # noqa: E402

CALLS = [
    FunctionCall(id="call_allow", name="write_file", arguments=json.dumps({"path": "/workspace/report.txt", "content": "ok"})),
    FunctionCall(id="call_block", name="write_file", arguments=json.dumps({"path": "/workspace/../etc/passwd", "content": "x"})),
    FunctionCall(id="call_approval", name="delete_file", arguments=json.dumps({"path": "report.txt"})),
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
        effects.calls.append(("write_file", {"path": path, "content": content}))
        return f"wrote {path}"

    async def delete_file(path: str) -> str:
        effects.calls.append(("delete_file", {"path": path}))
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
    records = {r["tool_call_id"]: r for r in read_records(tmp_path, "autogen")}
    assert set(records) == {"call_allow", "call_block", "call_approval"}
    for call_id, rec in records.items():
        assert rec["executed"] is (call_id == "call_allow")
        decision = gate.evaluate(rec["intent"])
        assert decision.result == rec["result"]
        assert_same_as_cli(bundle, trust, rec["intent"], decision)


def test_unavailable_gate_runs_nothing(unavailable_gate: gait.Gate, effects: SideEffects, tmp_path: Path) -> None:
    model = run_agent(unavailable_gate, effects, tmp_path)
    assert effects.calls == []
    sent = results_sent(model)
    assert len(sent) == 3 and all(is_error and "gate unavailable" in text for text, is_error in sent.values())


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
    for rec in read_records(tmp_path, "autogen"):
        assert rec["executed"] is (rec["tool_call_id"] == "call_allow")
        assert_same_as_cli(bundle, trust, rec["intent"], gate.evaluate(rec["intent"]))
