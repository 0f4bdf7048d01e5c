"""AutoGen 0.7: an `AssistantAgent` whose workbench is
`gait.autogen.GatedWorkbench`. The model is AutoGen's offline
`ReplayChatCompletionClient`, scripted to call three tools; use a real model
client in its place.

    pip install "autogen-agentchat==0.7.5" "autogen-ext==0.7.5"   # or scripts/setup_adapters.sh
    python examples/integrations/autogen/example.py
"""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from autogen_agentchat.agents import AssistantAgent  # noqa: E402
from autogen_agentchat.messages import ToolCallExecutionEvent  # noqa: E402
from autogen_core import FunctionCall  # noqa: E402
from autogen_core.models import CreateResult, ModelInfo, RequestUsage  # noqa: E402
from autogen_core.tools import FunctionTool  # noqa: E402
from autogen_ext.models.replay import ReplayChatCompletionClient  # noqa: E402

import gait  # noqa: E402
from _bundle import build  # noqa: E402
from gait.autogen import GatedWorkbench  # noqa: E402

files: dict[str, str] = {}


async def write_file(path: str, content: str) -> str:
    files[path] = content
    return f"wrote {path}"


async def delete_file(path: str) -> str:
    files.pop(path, None)
    return f"deleted {path}"


calls = [
    FunctionCall(id="call_1", name="write_file", arguments=json.dumps({"path": "/workspace/report.txt", "content": "ok"})),
    FunctionCall(id="call_2", name="write_file", arguments=json.dumps({"path": "/workspace/../etc/passwd", "content": "x"})),
    FunctionCall(id="call_3", name="delete_file", arguments=json.dumps({"path": "report.txt"})),
]
model = ReplayChatCompletionClient(
    [CreateResult(finish_reason="function_calls", content=calls, usage=RequestUsage(0, 0), cached=False), "done"],
    model_info=ModelInfo(vision=False, function_calling=True, json_output=False, family="unknown", structured_output=False),
)

bundle, trust = build()
gate = gait.Gate.load(bundle, trust=[trust])
ctx = gait.Context(identity="autogen-example", workspace="/workspace", risk_class="low")
tools = [FunctionTool(write_file, description="Write a file."), FunctionTool(delete_file, description="Delete a file.")]
# workbench=, not tools=: tools= would build an ungated workbench.
agent = AssistantAgent("ops", model_client=model, workbench=GatedWorkbench(tools, gate, context=ctx, trace_dir="gait-out"), reflect_on_tool_use=True)
result = asyncio.run(agent.run(task="tidy the workspace"))
for m in result.messages:
    if isinstance(m, ToolCallExecutionEvent):
        for r in m.content:
            print(f"{r.call_id} {r.name}: is_error={r.is_error} {r.content}")
print(f"final: {result.messages[-1].content}")
print(f"files written: {sorted(files)}")
