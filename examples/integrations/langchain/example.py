"""LangChain v1: an agent from `create_agent` whose tool calls go through
`gait.langchain.GaitMiddleware`. The model is LangChain's offline
`GenericFakeChatModel`, scripted to call three tools; put your real chat
model in its place.

    pip install "langchain==1.5.2" "langchain-core==1.8.3"   # or scripts/setup_adapters.sh
    python examples/integrations/langchain/example.py
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from langchain.agents import create_agent  # noqa: E402
from langchain_core.language_models.fake_chat_models import GenericFakeChatModel  # noqa: E402
from langchain_core.messages import AIMessage, ToolMessage  # noqa: E402
from langchain_core.tools import tool  # noqa: E402

import gait  # noqa: E402
from _bundle import build  # noqa: E402
from gait.langchain import GaitMiddleware  # noqa: E402

files: dict[str, str] = {}


@tool
def write_file(path: str, content: str) -> str:
    """Write a file."""
    files[path] = content
    return f"wrote {path}"


@tool
def delete_file(path: str) -> str:
    """Delete a file."""
    files.pop(path, None)
    return f"deleted {path}"


class ScriptedModel(GenericFakeChatModel):
    def bind_tools(self, tools: Any, **kw: Any) -> "ScriptedModel":
        return self


model = ScriptedModel(
    messages=iter(
        [
            AIMessage(
                content="",
                tool_calls=[
                    {"name": "write_file", "args": {"path": "/workspace/report.txt", "content": "ok"}, "id": "call_1"},
                    {"name": "write_file", "args": {"path": "/workspace/../etc/passwd", "content": "x"}, "id": "call_2"},
                    {"name": "delete_file", "args": {"path": "report.txt"}, "id": "call_3"},
                ],
            ),
            AIMessage(content="done"),
        ]
    )
)

bundle, trust = build()
gate = gait.Gate.load(bundle, trust=[trust])
ctx = gait.Context(identity="langchain-example", workspace="/workspace", risk_class="low")
# Last in the list: nothing after it can change a call the gate allowed.
agent = create_agent(model, tools=[write_file, delete_file], middleware=[GaitMiddleware(gate, context=ctx, trace_dir="gait-out")])
out = agent.invoke({"messages": [{"role": "user", "content": "tidy the workspace"}]})
for m in out["messages"]:
    if isinstance(m, ToolMessage):
        print(f"{m.tool_call_id} {m.name}: status={m.status} {m.content}")
print(f"final: {out['messages'][-1].content}")
print(f"files written: {sorted(files)}")
