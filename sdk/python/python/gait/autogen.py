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
ungated workbench). A ``GatedWorkbench`` cannot be serialized
(``dump_component()`` raises ``TypeError``): a config would load back
without the gate.

Records (``trace_dir``): an allowed call's record is written with
``executed: false`` before the tool runs — if it cannot be written the tool
is not run (an ``is_error`` result) — and rewritten with ``executed: true``
once it has run; a failure of that rewrite is logged (logger ``gait``) and
never replaces the tool's result.

At the core level (``ToolAgent`` with ``tool_agent_caller_loop``),
:class:`GaitInterventionHandler` decides every ``FunctionCall`` sent or
published through the runtime and drops the refused ones (the caller gets
``MessageDroppedException``; ``handler.decisions[call_id]`` tells why).
With autogen-core 0.7.5, after a dropped message ``stop_when_idle()`` never
returns (the runtime does not mark a dropped message done): stop the runtime
with ``stop()``.
"""

from __future__ import annotations

import copy
import json
import logging
from pathlib import Path
from typing import Any, AsyncGenerator, Dict, List, Mapping, NoReturn, Optional, Sequence, cast

from autogen_core import CancellationToken, DefaultInterventionHandler, DropMessage, FunctionCall
from autogen_core.models import FunctionExecutionResult
from autogen_core.tools import BaseTool, StaticStreamWorkbench, TextResultContent, ToolResult
from pydantic import BaseModel

from ._as_run import not_as_judged_after
from ._context import Context, intent_for
from ._convert import jsonable, schema_args
from ._model_schema import model_schema
from ._decision import Decision
from ._errors import GateUnavailable
from ._gate import Gate, PathLike
from ._trace import RECORD_FAILED, mark_executed, record_before_run, record_refused

__all__ = ["GatedWorkbench", "GaitInterventionHandler"]

log = logging.getLogger("gait")
# Allowed calls whose result has not come back yet, remembered at most.
_MAX_PENDING = 4096
_NOT_SERIALIZABLE = (
    "a gait GatedWorkbench cannot be serialized: its gate is not configuration, and a dumped "
    "workbench would load back ungated; build the agent again with a new GatedWorkbench"
)


def _parameters(tool: Any) -> Any:
    """The JSON schema of a tool's arguments, written from the pydantic
    args type it validates them with (``schema["parameters"]`` inlines
    ``$ref``s and drops a default beside one), its defaults checked against
    the type's fields (:func:`gait._model_schema.model_schema`), or None for
    no tool."""
    args_type = getattr(tool, "args_type", None)
    model = args_type() if callable(args_type) else None
    if isinstance(model, type) and issubclass(model, BaseModel):
        return model_schema(model)
    schema = getattr(tool, "schema", None)
    return schema.get("parameters") if isinstance(schema, Mapping) else None


def _as_validated(tool: Any, judged: Any, sent: Any) -> Optional[str]:
    """Why a call must be refused because the tool would run with other
    values than those judged, or None: the tool's args model validates a
    copy of the call's own arguments as ``BaseTool.run_json`` will
    (``args_type().model_validate``) and the result is compared with the
    judged arguments (:func:`gait._as_run.not_as_judged_after`)."""
    args_type = getattr(tool, "args_type", None)
    model = args_type() if callable(args_type) else None
    if not (isinstance(model, type) and issubclass(model, BaseModel)):
        return None
    return not_as_judged_after(judged, lambda: model.model_validate(copy.deepcopy(sent)))


def _refusal(decision: Optional[Decision], error: Optional[GateUnavailable]) -> str:
    if decision is None:
        return f"gait: the tool call was not run: gate unavailable ({error.code if error else 'gate_unavailable'})"
    reasons = ", ".join(decision.reason_codes) or "none"
    return f"gait: the tool call was not run: verdict={decision.verdict} reasons={reasons}"


class GatedWorkbench(StaticStreamWorkbench):  # type: ignore[misc,unused-ignore]
    """A ``StaticWorkbench`` that asks the gate before every tool call.

    It cannot be serialized: ``dump_component()`` (and so
    ``AssistantAgent.dump_component()`` of an agent using it) raises
    ``TypeError``. The gate — a verified bundle, a sidecar connection — is
    not configuration, and the ``StaticStreamWorkbench`` config it would
    otherwise inherit loads back as a plain, ungated workbench. Build the
    agent again with a new ``GatedWorkbench`` instead."""

    # Not the parent's provider: a dumped config must never name a
    # workbench that would load back without the gate.
    component_provider_override = "gait.autogen.GatedWorkbench"

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

    def _to_config(self) -> NoReturn:
        raise TypeError(_NOT_SERIALIZABLE)

    @classmethod
    def _from_config(cls, config: Any) -> NoReturn:
        raise TypeError(_NOT_SERIALIZABLE)

    async def _decide(
        self, name: str, arguments: Optional[Mapping[str, Any]], call_id: Optional[str]
    ) -> "tuple[Optional[ToolResult], Dict[str, Any], Optional[Decision], str, Optional[Path], Dict[str, Any]]":
        """(the refusal or None, the intent, the decision, the record id, the
        record's path). On allow the record (executed: false) is written
        before the tool runs; if it cannot be, the call is refused."""
        # The policy names the real tool, not a display override.
        original = getattr(self, "_override_name_to_original", {}).get(name, name)
        args = jsonable(dict(arguments) if arguments is not None else {})
        # What the tool gets on allow: the call's own arguments, copied now
        # (its args model fills the same defaults the gate judged; filled
        # in here, pydantic would validate them as given values).
        sent = cast(Dict[str, Any], copy.deepcopy(args))
        # Judged with the tool's defaults, as the tool's args model fills them in.
        tool = next((t for t in getattr(self, "_tools", ()) if getattr(t, "name", None) == original), None)
        args, invalid = schema_args(args, _parameters(tool), pydantic=True)
        if invalid is None and tool is not None:
            invalid = _as_validated(tool, args, sent)
        intent = intent_for(original, args, self.context)
        record_id = call_id or ""
        try:
            decision = Decision._invalid(invalid) if invalid is not None else await self.gate.aevaluate(intent)
        except GateUnavailable as e:
            record_refused(self.trace_dir, "autogen", record_id, intent, None, str(e))
            return ToolResult(name=name, result=[TextResultContent(content=_refusal(None, e))], is_error=True), intent, None, record_id, None, sent
        if decision.verdict != "allow":
            record_refused(self.trace_dir, "autogen", record_id, intent, decision)
            return (
                ToolResult(name=name, result=[TextResultContent(content=_refusal(decision, None))], is_error=True),
                intent,
                decision,
                record_id,
                None,
                sent,
            )
        try:
            path = record_before_run(self.trace_dir, "autogen", record_id, intent, decision)
        except Exception:  # noqa: BLE001 - refuse: never run unrecorded
            return ToolResult(name=name, result=[TextResultContent(content=RECORD_FAILED)], is_error=True), intent, decision, record_id, None, sent
        return None, intent, decision, record_id, path, sent

    async def call_tool(
        self,
        name: str,
        arguments: Optional[Mapping[str, Any]] = None,
        cancellation_token: Optional[CancellationToken] = None,
        call_id: Optional[str] = None,
    ) -> ToolResult:
        refused, intent, decision, record_id, path, sent = await self._decide(name, arguments, call_id)
        if refused is not None:
            return refused
        try:
            return await super().call_tool(name, sent, cancellation_token, call_id)
        finally:
            mark_executed(path, "autogen", record_id, intent, decision)

    async def call_tool_stream(
        self,
        name: str,
        arguments: Optional[Mapping[str, Any]] = None,
        cancellation_token: Optional[CancellationToken] = None,
        call_id: Optional[str] = None,
    ) -> AsyncGenerator[Any, None]:
        refused, intent, decision, record_id, path, sent = await self._decide(name, arguments, call_id)
        if refused is not None:
            yield refused
            return
        try:
            async for item in super().call_tool_stream(name, sent, cancellation_token, call_id):
                yield item
        finally:
            mark_executed(path, "autogen", record_id, intent, decision)


class GaitInterventionHandler(DefaultInterventionHandler):  # type: ignore[misc,unused-ignore]
    """Drops every ``FunctionCall`` message — sent (``on_send``) or
    published (``on_publish``) — the gate does not allow.

    Records (``trace_dir``): an allowed call's record is written with
    ``executed: false`` before the message is let through (if it cannot be
    written, the message is dropped), and rewritten with ``executed: true``
    when the ``FunctionExecutionResult`` with its call id comes back
    (``on_response``). A published call has no response, and a tool that
    raises answers none: their records keep ``executed: false`` (the handler
    cannot see whether the tool ran).

    Arguments: the message's JSON. Given the ``tools`` the calls go to (the
    ``ToolAgent``'s), a call is judged with its tool's schema defaults
    filled in and its args type's validation compared, as
    :class:`GatedWorkbench` judges it (a default the schema does not show,
    an ambiguous union, a value validation changes: refused). An allowed
    call goes on as a new ``FunctionCall`` with the text judged; register
    the handler last (a later handler could still replace the message)."""

    def __init__(
        self,
        gate: Gate,
        context: Optional[Context] = None,
        trace_dir: Optional[PathLike] = None,
        tools: Optional[Sequence[BaseTool[Any, Any]]] = None,
    ) -> None:
        self.gate = gate
        self.context = context
        self.trace_dir = trace_dir
        self._schemas: Dict[str, Any] = {}
        self._tools: Dict[str, Any] = {}
        for tool in tools or ():
            if isinstance(getattr(tool, "name", None), str):
                self._schemas[tool.name] = _parameters(tool)
                self._tools[tool.name] = tool
        self.decisions: Dict[str, Optional[Decision]] = {}
        # call id -> (record path, intent, decision) until its result passes.
        self._pending: Dict[str, "tuple[Path, Dict[str, Any], Decision]"] = {}

    async def _check(self, message: Any) -> Any:
        if not isinstance(message, FunctionCall):
            return message
        # Read once: what is judged, and what the message let through
        # carries (a new message: the judged one may still be changed by
        # whoever holds it).
        call_id, name, text = message.id, message.name, message.arguments
        try:
            args: Any = json.loads(text) if text.strip() else {}
        except ValueError:
            args = text  # not JSON: the runtime refuses it
        sent = copy.deepcopy(args)
        invalid: Optional[str] = None
        if name in self._schemas:
            args, invalid = schema_args(args, self._schemas[name], pydantic=True)
        if invalid is None and name in self._tools:
            invalid = _as_validated(self._tools[name], args, sent)
        intent = intent_for(name, args, self.context)
        try:
            decision: Optional[Decision] = (
                Decision._invalid(invalid) if invalid is not None else await self.gate.aevaluate(intent)
            )
            error: Optional[str] = None
        except GateUnavailable as e:
            decision, error = None, str(e)
        self.decisions[call_id] = decision
        if decision is None or decision.verdict != "allow":
            record_refused(self.trace_dir, "autogen", call_id, intent, decision, error)
            return DropMessage
        try:
            path = record_before_run(self.trace_dir, "autogen", call_id, intent, decision)
        except Exception as e:  # noqa: BLE001 - refuse: never run unrecorded
            log.warning("gait: dropped the allowed call %r: its decision record could not be written: %s", call_id, e)
            return DropMessage
        if path is not None:
            if len(self._pending) >= _MAX_PENDING:
                self._pending.pop(next(iter(self._pending)))
            self._pending[call_id] = (path, intent, decision)
        # A new message with the very text judged: the tool's args model
        # fills the defaults judged (and validates as compared above).
        return FunctionCall(id=call_id, name=name, arguments=text)

    async def on_send(self, message: Any, *, message_context: Any, recipient: Any) -> Any:
        return await self._check(message)

    async def on_publish(self, message: Any, *, message_context: Any) -> Any:
        return await self._check(message)

    async def on_response(self, message: Any, *, sender: Any, recipient: Any) -> Any:
        if isinstance(message, FunctionExecutionResult):
            pending = self._pending.pop(message.call_id, None)
            if pending is not None:
                mark_executed(pending[0], "autogen", message.call_id, pending[1], pending[2])
        return message
