"""AutoGen (0.7): a workbench whose every tool call goes through the gate, and
an intervention handler for the core ``ToolAgent`` pattern.

    from autogen_agentchat.agents import AssistantAgent
    from gait.autogen import GatedWorkbench

    agent = AssistantAgent("ops", model_client=client,
                           workbench=GatedWorkbench([write_file, run_command], gate, context=ctx))

``AssistantAgent`` runs tools through its workbench (not as runtime messages),
so the gate sits in :class:`GatedWorkbench` (a ``StaticWorkbench``; it also
streams): ``call_tool`` and ``call_tool_stream`` build the intent (tool
name, arguments → ``args``; the policy's ``map tool`` mappings give the
targets), ask the gate, and run the tool once, only on ``allow``. Otherwise
the tool does not run and the result is a ``ToolResult`` with
``is_error=True`` whose text names the verdict and reasons (the model reads
it). Give the agent ``workbench=``, not ``tools=`` (``tools=`` builds its own
ungated workbench).

At the core level (``ToolAgent`` with ``tool_agent_caller_loop``),
:class:`GaitInterventionHandler` decides every ``FunctionCall`` sent through
the runtime and drops the refused ones (the caller gets
``MessageDroppedException``; ``handler.decisions[call_id]`` tells why).
With autogen-core 0.7.5, after a dropped message ``stop_when_idle()`` never
returns (the runtime does not mark a dropped message done): stop the runtime
with ``stop()``.
"""

from __future__ import annotations

import json
from typing import Any, AsyncGenerator, Dict, List, Mapping, Optional

from autogen_core import CancellationToken, DefaultInterventionHandler, DropMessage, FunctionCall
from autogen_core.tools import BaseTool, StaticStreamWorkbench, TextResultContent, ToolResult

from ._context import Context, intent_for
from ._convert import jsonable
from ._decision import Decision
from ._errors import GateUnavailable
from ._gate import Gate, PathLike
from ._trace import write_record

__all__ = ["GatedWorkbench", "GaitInterventionHandler"]


def _refusal(decision: Optional[Decision], error: Optional[GateUnavailable]) -> str:
    if decision is None:
        return f"gait: the tool call was not run: gate unavailable ({error.code if error else 'gate_unavailable'})"
    reasons = ", ".join(decision.reason_codes) or "none"
    return f"gait: the tool call was not run: verdict={decision.verdict} reasons={reasons}"


class GatedWorkbench(StaticStreamWorkbench):  # type: ignore[misc,unused-ignore]
    """A ``StaticWorkbench`` that asks the gate before every tool call."""

    def __init__(
        self,
        tools: List[BaseTool[Any, Any]],
        gate: Gate,
        context: Optional[Context] = None,
        trace_dir: Optional[PathLike] = None,
        tool_overrides: Optional[Dict[str, Any]] = None,
    ) -> None:
        super().__init__(tools, tool_overrides=tool_overrides)
        self.gate = gate
        self.context = context
        self.trace_dir = trace_dir

    async def _decide(
        self, name: str, arguments: Optional[Mapping[str, Any]], call_id: Optional[str]
    ) -> "tuple[Optional[ToolResult], Dict[str, Any], Optional[Decision], str]":
        """(the refusal or None, the intent, the decision, the record id)."""
        # The policy names the real tool, not a display override.
        original = getattr(self, "_override_name_to_original", {}).get(name, name)
        intent = intent_for(original, jsonable(dict(arguments) if arguments is not None else {}), self.context)
        record_id = call_id or ""
        try:
            decision = await self.gate.aevaluate(intent)
        except GateUnavailable as e:
            if self.trace_dir is not None:
                write_record(self.trace_dir, "autogen", record_id, intent, None, False, str(e))
            return ToolResult(name=name, result=[TextResultContent(content=_refusal(None, e))], is_error=True), intent, None, record_id
        if decision.verdict != "allow":
            if self.trace_dir is not None:
                write_record(self.trace_dir, "autogen", record_id, intent, decision, False)
            return (
                ToolResult(name=name, result=[TextResultContent(content=_refusal(decision, None))], is_error=True),
                intent,
                decision,
                record_id,
            )
        return None, intent, decision, record_id

    def _ran(self, record_id: str, intent: Dict[str, Any], decision: Optional[Decision]) -> None:
        if self.trace_dir is not None:
            write_record(self.trace_dir, "autogen", record_id, intent, decision, True)

    async def call_tool(
        self,
        name: str,
        arguments: Optional[Mapping[str, Any]] = None,
        cancellation_token: Optional[CancellationToken] = None,
        call_id: Optional[str] = None,
    ) -> ToolResult:
        refused, intent, decision, record_id = await self._decide(name, arguments, call_id)
        if refused is not None:
            return refused
        try:
            return await super().call_tool(name, arguments, cancellation_token, call_id)
        finally:
            self._ran(record_id, intent, decision)

    async def call_tool_stream(
        self,
        name: str,
        arguments: Optional[Mapping[str, Any]] = None,
        cancellation_token: Optional[CancellationToken] = None,
        call_id: Optional[str] = None,
    ) -> AsyncGenerator[Any, None]:
        refused, intent, decision, record_id = await self._decide(name, arguments, call_id)
        if refused is not None:
            yield refused
            return
        try:
            async for item in super().call_tool_stream(name, arguments, cancellation_token, call_id):
                yield item
        finally:
            self._ran(record_id, intent, decision)


class GaitInterventionHandler(DefaultInterventionHandler):  # type: ignore[misc,unused-ignore]
    """Drops every ``FunctionCall`` message the gate does not allow."""

    def __init__(self, gate: Gate, context: Optional[Context] = None, trace_dir: Optional[PathLike] = None) -> None:
        self.gate = gate
        self.context = context
        self.trace_dir = trace_dir
        self.decisions: Dict[str, Optional[Decision]] = {}

    async def on_send(self, message: Any, *, message_context: Any, recipient: Any) -> Any:
        if not isinstance(message, FunctionCall):
            return message
        try:
            args: Any = json.loads(message.arguments) if message.arguments.strip() else {}
        except ValueError:
            args = message.arguments  # not JSON: the runtime refuses it
        intent = intent_for(message.name, args, self.context)
        try:
            decision: Optional[Decision] = await self.gate.aevaluate(intent)
            error: Optional[str] = None
        except GateUnavailable as e:
            decision, error = None, str(e)
        self.decisions[message.id] = decision
        allowed = decision is not None and decision.verdict == "allow"
        if self.trace_dir is not None:
            write_record(self.trace_dir, "autogen", message.id, intent, decision, allowed, error)
        return message if allowed else DropMessage
