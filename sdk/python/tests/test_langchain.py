"""LangChain v1: a real `create_agent` agent driven by `GenericFakeChatModel`,
with `GaitMiddleware` gating its tool calls."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any, Iterator, List

import pytest
from conftest import LOW, SideEffects, assert_same_as_cli, read_records

import gait

langchain = pytest.importorskip("langchain")

from langchain.agents import create_agent  # noqa: E402
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel  # noqa: E402
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage  # noqa: E402
from langchain_core.tools import tool  # noqa: E402

from gait.langchain import GaitMiddleware  # noqa: E402


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
]


def script() -> Iterator[AIMessage]:
    return iter([AIMessage(content="", tool_calls=CALLS), AIMessage(content="done")])


def make_tools(effects: SideEffects) -> List[Any]:
    @tool
    def write_file(path: str, content: str) -> str:
        """Write a file."""
        effects.calls.append(("write_file", {"path": path, "content": content}))
        return f"wrote {path}"

    @tool
    def delete_file(path: str) -> str:
        """Delete a file."""
        effects.calls.append(("delete_file", {"path": path}))
        return f"deleted {path}"

    return [write_file, delete_file]


def run_agent(gate: gait.Gate, effects: SideEffects, trace_dir: Path, use_async: bool = False, **kw: Any) -> tuple[ScriptedModel, dict[str, Any]]:
    model = ScriptedModel(messages=script())
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
    # The model's second turn was sent the refusals.
    assert len(model.seen) == 2
    sent = {m.tool_call_id: m.content for m in model.seen[1] if isinstance(m, ToolMessage)}
    assert "verdict=block" in sent["call_block"] and "verdict=require_approval" in sent["call_approval"]
    assert out["messages"][-1].content == "done"
    # Each decision equals gait-run eval on the same intent.
    records = {r["tool_call_id"]: r for r in read_records(tmp_path, "langchain")}
    assert set(records) == {"call_allow", "call_block", "call_approval"}
    expected = {"call_allow": ("allow", True), "call_block": ("block", False), "call_approval": ("require_approval", False)}
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
    assert len(msgs) == 3
    assert all(r["executed"] is False and r["result"] is None for r in read_records(tmp_path, "langchain"))


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
