"""OpenAI Agents SDK: a real `Agent` run by `Runner` with a scripted offline
`Model`, its function tools guarded by `guard_tools`."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any, List

import pytest
from conftest import LOW, SideEffects, assert_same_as_cli, read_records

import gait

agents = pytest.importorskip("agents")

from agents import Agent, FunctionTool, Runner, WebSearchTool, function_tool, set_tracing_disabled  # noqa: E402
from agents.items import ModelResponse  # noqa: E402
from agents.models.interface import Model  # noqa: E402
from agents.usage import Usage  # noqa: E402
from openai.types.responses import ResponseFunctionToolCall, ResponseOutputMessage, ResponseOutputText  # noqa: E402

from gait.openai_agents import GUARDRAIL_NAME, gait_guardrail, guard_tools  # noqa: E402

set_tracing_disabled(True)

CALLS = [
    ("call_allow", "write_file", {"path": "/workspace/report.txt", "content": "ok"}),
    ("call_block", "write_file", {"path": "/workspace/../etc/passwd", "content": "x"}),
    ("call_approval", "delete_file", {"path": "report.txt"}),
]


class ScriptedModel(Model):
    """Turn 1: the three tool calls; turn 2: a final message. Records the
    input of every turn."""

    def __init__(self) -> None:
        self.inputs: List[Any] = []

    async def get_response(self, system_instructions: Any, input: Any, *args: Any, **kwargs: Any) -> ModelResponse:
        self.inputs.append(input)
        if len(self.inputs) == 1:
            output: List[Any] = [
                ResponseFunctionToolCall(type="function_call", call_id=cid, name=name, arguments=json.dumps(args), id=f"fc_{cid}", status="completed")
                for cid, name, args in CALLS
            ]
        else:
            output = [
                ResponseOutputMessage(
                    id="msg_1",
                    type="message",
                    role="assistant",
                    status="completed",
                    content=[ResponseOutputText(type="output_text", text="done", annotations=[])],
                )
            ]
        return ModelResponse(output=output, usage=Usage(), response_id=None)

    def stream_response(self, *args: Any, **kwargs: Any) -> Any:  # pragma: no cover - not used
        raise NotImplementedError


def make_tools(effects: SideEffects) -> List[Any]:
    @function_tool
    def write_file(path: str, content: str) -> str:
        """Write a file."""
        effects.calls.append(("write_file", {"path": path, "content": content}))
        return f"wrote {path}"

    @function_tool
    def delete_file(path: str) -> str:
        """Delete a file."""
        effects.calls.append(("delete_file", {"path": path}))
        return f"deleted {path}"

    return [write_file, delete_file]


def run(gate: gait.Gate, effects: SideEffects, trace_dir: Path) -> ScriptedModel:
    model = ScriptedModel()
    agent = Agent(name="ops", instructions="tidy", model=model, tools=guard_tools(make_tools(effects), gate, context=LOW, trace_dir=trace_dir))
    result = asyncio.run(Runner.run(agent, "tidy the workspace"))
    assert result.final_output == "done"
    return model


def outputs_sent(model: ScriptedModel) -> dict[str, str]:
    """The function call outputs the model received on its second turn."""
    items = model.inputs[1]
    return {i["call_id"]: str(i["output"]) for i in items if isinstance(i, dict) and i.get("type") == "function_call_output"}


def test_allowed_runs_once_refusals_reach_the_model(gate: gait.Gate, bundle: Path, trust: Path, effects: SideEffects, tmp_path: Path) -> None:
    model = run(gate, effects, tmp_path)
    assert effects.calls == [("write_file", {"path": "/workspace/report.txt", "content": "ok"})]
    sent = outputs_sent(model)
    assert sent["call_allow"] == "wrote /workspace/report.txt"
    assert "verdict=block" in sent["call_block"] and "secret_path_access" in sent["call_block"]
    assert "verdict=require_approval" in sent["call_approval"] and "delete_needs_review" in sent["call_approval"]
    records = {r["tool_call_id"]: r for r in read_records(tmp_path, "openai_agents")}
    assert set(records) == {"call_allow", "call_block", "call_approval"}
    for call_id, rec in records.items():
        assert rec["executed"] is (call_id == "call_allow")
        decision = gate.evaluate(rec["intent"])
        assert decision.result == rec["result"]
        assert_same_as_cli(bundle, trust, rec["intent"], decision)


def test_unavailable_gate_runs_nothing(unavailable_gate: gait.Gate, effects: SideEffects, tmp_path: Path) -> None:
    model = run(unavailable_gate, effects, tmp_path)
    assert effects.calls == []
    sent = outputs_sent(model)
    assert len(sent) == 3 and all("gate unavailable" in v for v in sent.values())


def test_guard_tools_covers_function_tools_only(gate: gait.Gate, effects: SideEffects) -> None:
    tools = make_tools(effects)
    guarded = guard_tools(tools, gate)
    assert all(isinstance(t, FunctionTool) and t.tool_input_guardrails[0].name == GUARDRAIL_NAME for t in guarded)
    # Attaching twice keeps one gait guardrail.
    guard_tools(tools, gate)
    assert [g.name for g in tools[0].tool_input_guardrails].count(GUARDRAIL_NAME) == 1
    with pytest.raises(TypeError):
        guard_tools([*tools, WebSearchTool()], gate)
    assert len(guard_tools([*tools, WebSearchTool()], gate, allow_unguarded=True)) == 3


def test_arguments_that_are_not_json_are_refused(gate: gait.Gate) -> None:
    guardrail = gait_guardrail(gate, context=LOW)

    class Ctx:
        tool_name = "write_file"
        tool_call_id = "c1"
        tool_arguments = "{not json"
        context = None

    class Data:
        context = Ctx()
        agent = None

    out = asyncio.run(guardrail.guardrail_function(Data()))
    assert out.behavior["type"] == "reject_content" and "intent_invalid" in out.behavior["message"]
