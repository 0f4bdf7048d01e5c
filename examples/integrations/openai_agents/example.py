"""OpenAI Agents SDK: function tools guarded by `gait.openai_agents.guard_tools`
(a tool input guardrail on each). The model is a scripted offline
`agents` Model that calls three tools; use a real model in its place.

    pip install "openai-agents==0.24.0"   # or scripts/setup_adapters.sh
    python examples/integrations/openai_agents/example.py
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from agents import Agent, Runner, function_tool, set_tracing_disabled  # noqa: E402
from agents.items import ModelResponse  # noqa: E402
from agents.models.interface import Model  # noqa: E402
from agents.usage import Usage  # noqa: E402
from openai.types.responses import ResponseFunctionToolCall, ResponseOutputMessage, ResponseOutputText  # noqa: E402

import gait  # noqa: E402
from _bundle import build  # noqa: E402
from gait.openai_agents import guard_tools  # noqa: E402

set_tracing_disabled(True)
files: dict[str, str] = {}


@function_tool
def write_file(path: str, content: str) -> str:
    """Write a file."""
    files[path] = content
    return f"wrote {path}"


@function_tool
def delete_file(path: str) -> str:
    """Delete a file."""
    files.pop(path, None)
    return f"deleted {path}"


CALLS = [
    ("call_1", "write_file", {"path": "/workspace/report.txt", "content": "ok"}),
    ("call_2", "write_file", {"path": "/workspace/../etc/passwd", "content": "x"}),
    ("call_3", "delete_file", {"path": "report.txt"}),
]


class ScriptedModel(Model):
    def __init__(self) -> None:
        self.turns: list[Any] = []

    async def get_response(self, system_instructions: Any, input: Any, *args: Any, **kwargs: Any) -> ModelResponse:
        self.turns.append(input)
        if len(self.turns) == 1:
            output: list[Any] = [
                ResponseFunctionToolCall(type="function_call", call_id=c, name=n, arguments=json.dumps(a), id=f"fc_{c}", status="completed")
                for c, n, a in CALLS
            ]
        else:
            for item in input:
                if isinstance(item, dict) and item.get("type") == "function_call_output":
                    print(f"{item['call_id']}: {item['output']}")
            output = [
                ResponseOutputMessage(
                    id="msg", type="message", role="assistant", status="completed",
                    content=[ResponseOutputText(type="output_text", text="done", annotations=[])],
                )
            ]
        return ModelResponse(output=output, usage=Usage(), response_id=None)

    def stream_response(self, *args: Any, **kwargs: Any) -> Any:
        raise NotImplementedError


bundle, trust = build()
gate = gait.Gate.load(bundle, trust=[trust])
ctx = gait.Context(identity="openai-agents-example", workspace="/workspace", risk_class="low")
agent = Agent(name="ops", model=ScriptedModel(), tools=guard_tools([write_file, delete_file], gate, context=ctx, trace_dir="gait-out"))
result = asyncio.run(Runner.run(agent, "tidy the workspace"))
print(f"final: {result.final_output}")
print(f"files written: {sorted(files)}")
