"""LangChain v1 middleware: every tool call of an agent goes through the gate.

    from langchain.agents import create_agent
    from gait.langchain import GaitMiddleware

    agent = create_agent(model, tools=[...], middleware=[..., GaitMiddleware(gate, context=ctx)])

``wrap_tool_call`` / ``awrap_tool_call`` build the intent from the tool call
(``name`` → ``tool_name``, ``args`` → ``args``: the policy's ``map tool``
mappings give the targets), ask the gate, and call the tool (``handler``)
once, only on ``allow``. Otherwise the tool is not called and, with
``on_deny="message"`` (the default), the model receives a ``ToolMessage``
with ``status="error"`` naming the verdict and reasons; with
``on_deny="raise"`` the middleware raises :class:`gait.Blocked` /
:class:`gait.ApprovalRequired` / :class:`gait.GateUnavailable`.

Put it **last** in ``middleware``: middleware compose outermost first, so one
listed after it could change the call after the gate decided.

What is judged is what the tool is handed: the model's ``args`` with the
defaults of the tool's schema filled in (``tool_call_schema``, nested models
too; a left-out argument whose value the JSON schema does not show — a
``default_factory`` — cannot be judged, and the call is refused as an
invalid intent), and the tool is called with a copy of exactly those
values.

Injected arguments (``InjectedState``, ``InjectedStore``, ``ToolRuntime``,
``InjectedToolCallId``) are **not judged**: LangGraph's ``ToolNode`` fills
them in after the middleware has decided. A call whose ``args`` hold a key
that is not in the tool's ``tool_call_schema`` — the name of an injected
argument (a decoy value the tool would never see), or an unknown one — is
refused without asking the gate: ``block`` with reason ``intent_invalid``
(the result's ``error`` names the key and ``argument_not_in_tool_schema``).
Do not let an injected argument choose what a policy mapping should judge
(a path or URL from the graph state): pass such values as model-visible
arguments, or check them in the tool.

The context: the ``context`` given here, with ``identity``, ``workspace``,
``risk_class`` and ``session_id`` taken from the run's context
(``agent.invoke(..., context=...)``, a dict or object) where present, and
the session from the run's ``thread_id`` otherwise.

Records (``trace_dir``): an allowed call's record is written with
``executed: false`` before the tool is called — if it cannot be written the
tool is not called (the model gets a refusal; with ``on_deny="raise"``,
:class:`gait.GateUnavailable` with code ``record_write_failed``) — and
rewritten with ``executed: true`` once the tool has run; a failure of that
rewrite is logged (logger ``gait``) and never replaces the tool's result.
"""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any, Awaitable, Callable, Dict, Literal, Optional

from langchain.agents.middleware import AgentMiddleware
from langchain_core.messages import ToolMessage
from pydantic import BaseModel

from ._context import Context, intent_for
from ._convert import jsonable, schema_args
from ._model_schema import model_schema
from ._decision import Decision
from ._errors import GateUnavailable
from ._gate import Gate, PathLike, refusal
from ._trace import RECORD_FAILED, mark_executed, record_before_run, record_refused

__all__ = ["GaitMiddleware"]

_CONTEXT_FIELDS = ("identity", "workspace", "risk_class", "session_id")

#: Named in the refusal of a call whose ``args`` hold a key that is not in
#: the tool's ``tool_call_schema`` (an injected argument, or an unknown one).
INJECTED_ARGUMENT = "argument_not_in_tool_schema"


def _call_schema(tool: Any) -> "tuple[Optional[Dict[str, Any]], bool]":
    """The JSON schema of what the model may send the tool (its
    ``tool_call_schema``: injected arguments left out), or None when the
    tool is unknown or has none; and whether it was written from the
    pydantic model the tool validates its arguments with (not a JSON schema
    given as a dict, which LangChain does not validate)."""
    if tool is None:
        return None, False
    schema = getattr(tool, "tool_call_schema", None)
    if isinstance(schema, dict):
        return schema, False
    if not (isinstance(schema, type) and issubclass(schema, BaseModel)):
        return None, False
    # The tool validates with its `args_schema` (of which `tool_call_schema`
    # is a view without the injected arguments): its fields say which
    # default the tool really gets.
    validating = getattr(tool, "args_schema", None)
    if not (isinstance(validating, type) and issubclass(validating, BaseModel)):
        validating = schema
    out = model_schema(schema, validating)
    return (out, True) if isinstance(out, dict) else (None, False)


def _injected_names(tool: Any, callable_names: "set[str]") -> "set[str]":
    """The tool's parameters the model does not send (ToolNode injects
    them: ``InjectedState``, ``InjectedStore``, ``ToolRuntime``,
    ``InjectedToolCallId``)."""
    try:
        get_schema = getattr(tool, "get_input_schema", None)
        schema = get_schema() if callable(get_schema) else None
        to_json = getattr(schema, "model_json_schema", None)
        props = to_json().get("properties") if callable(to_json) else None
    except Exception:  # noqa: BLE001 - only words the refusal: a schema pydantic cannot write (ToolRuntime, a store)
        return set()
    return {k for k in props if k not in callable_names} if isinstance(props, dict) else set()


def _field(obj: Any, name: str) -> Any:
    if obj is None:
        return None
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def refusal_text(decision: Optional[Decision], error: Optional[GateUnavailable] = None) -> str:
    """What the model is told when a call is refused."""
    if decision is None:
        return f"gait: the tool call was not run: gate unavailable ({error.code if error else 'gate_unavailable'})"
    reasons = ", ".join(decision.reason_codes) or "none"
    text = f"gait: the tool call was not run: verdict={decision.verdict} reasons={reasons}"
    error = decision.result.get("error") if "intent_invalid" in decision.reason_codes else None
    return f"{text} ({error})" if isinstance(error, str) and error else text


class GaitMiddleware(AgentMiddleware):  # type: ignore[misc,unused-ignore]
    """Gates every tool call of a LangChain v1 agent."""

    def __init__(
        self,
        gate: Gate,
        context: Optional[Context] = None,
        on_deny: Literal["message", "raise"] = "message",
        trace_dir: Optional[PathLike] = None,
    ) -> None:
        super().__init__()
        if on_deny not in ("message", "raise"):
            raise ValueError("on_deny must be 'message' or 'raise'")
        self.gate = gate
        self.context = context if context is not None else Context()
        self.on_deny = on_deny
        self.trace_dir = trace_dir

    def _context_for(self, request: Any) -> Context:
        runtime = getattr(request, "runtime", None)
        run_ctx = _field(runtime, "context")
        fields = {k: _field(run_ctx, k) for k in _CONTEXT_FIELDS}
        if fields["session_id"] is None and self.context.session_id is None:
            config = _field(runtime, "config") or {}
            configurable = config.get("configurable") if isinstance(config, dict) else None
            if isinstance(configurable, dict) and isinstance(configurable.get("thread_id"), str):
                fields["session_id"] = configurable["thread_id"]
        return self.context.merged(**fields)

    def _intent(self, request: Any) -> "tuple[str, str, Dict[str, Any], Optional[Decision], Any]":
        """The call's name, id and intent — its ``args`` with the tool's
        schema defaults filled in, as the tool will receive them —, and,
        for a call that must not run whatever the policy says (an argument
        the tool's model-facing schema does not have: one ToolNode injects
        after the decision), the invalid-intent decision refusing it."""
        call = request.tool_call
        name = str(call.get("name") or "")
        call_id = str(call.get("id") or "")
        args = jsonable(call.get("args"))
        # What the tool gets on allow: the call's own arguments, copied now
        # (its validation fills the same defaults the gate judged; filled
        # in here, pydantic would validate them as given values).
        sent = copy.deepcopy(args)
        tool = getattr(request, "tool", None)
        schema, validated = _call_schema(tool)
        refused: Optional[Decision] = None
        if isinstance(args, dict) and schema is not None:
            props = schema.get("properties")
            allowed = set(props) if isinstance(props, dict) else set()
            unknown = sorted(k for k in args if k not in allowed)
            if unknown:
                injected = _injected_names(tool, allowed)
                why = "is injected by the tool node after the gate decides" if unknown[0] in injected else "is not a parameter of the tool's schema"
                refused = Decision._invalid(
                    f"args.{unknown[0]}: {why}: the tool would not run with the value judged ({INJECTED_ARGUMENT})"
                )
            args, invalid = schema_args(args, schema, pydantic=validated)
            if refused is None and invalid is not None:
                refused = Decision._invalid(invalid)
        return name, call_id, intent_for(name, args, self._context_for(request)), refused, sent

    def _judged(self, request: Any, sent: Any) -> Any:
        """The request the tool runs with: its ``args`` the copy of the
        call's arguments taken when they were judged, so that nothing
        changed in the request's own objects after the decision reaches the
        tool."""
        call = request.tool_call
        return request.override(tool_call={**call, "args": sent})

    def _denied(
        self,
        name: str,
        call_id: str,
        intent: Dict[str, Any],
        decision: Optional[Decision],
        error: Optional[GateUnavailable] = None,
    ) -> ToolMessage:
        record_refused(self.trace_dir, "langchain", call_id, intent, decision, str(error) if error else None)
        if self.on_deny == "raise":
            if decision is not None:
                raise refusal(decision, name)
            raise error if error is not None else GateUnavailable("no decision")
        return ToolMessage(
            content=refusal_text(decision, error),
            tool_call_id=call_id,
            name=name,
            status="error",
        )

    def _before_run(self, name: str, call_id: str, intent: Dict[str, Any], decision: Decision) -> "tuple[Optional[Path], Optional[ToolMessage]]":
        """(the record's path, None), or (None, the refusal) when the record
        cannot be written: the tool is then not run."""
        try:
            return record_before_run(self.trace_dir, "langchain", call_id, intent, decision), None
        except Exception as e:  # noqa: BLE001 - refuse: never run unrecorded
            error = GateUnavailable(f"the decision record could not be written: {e}", "record_write_failed")
            if self.on_deny == "raise":
                raise error from None
            return None, ToolMessage(content=RECORD_FAILED, tool_call_id=call_id, name=name, status="error")

    def wrap_tool_call(self, request: Any, handler: Callable[[Any], Any]) -> Any:
        name, call_id, intent, invalid, sent = self._intent(request)
        if invalid is not None:
            return self._denied(name, call_id, intent, invalid)
        try:
            decision = self.gate.evaluate(intent)
        except GateUnavailable as e:
            return self._denied(name, call_id, intent, None, e)
        if decision.verdict != "allow":
            return self._denied(name, call_id, intent, decision)
        path, refused = self._before_run(name, call_id, intent, decision)
        if refused is not None:
            return refused
        try:
            return handler(self._judged(request, sent))
        finally:
            mark_executed(path, "langchain", call_id, intent, decision)

    async def awrap_tool_call(self, request: Any, handler: Callable[[Any], Awaitable[Any]]) -> Any:
        name, call_id, intent, invalid, sent = self._intent(request)
        if invalid is not None:
            return self._denied(name, call_id, intent, invalid)
        try:
            decision = await self.gate.aevaluate(intent)
        except GateUnavailable as e:
            return self._denied(name, call_id, intent, None, e)
        if decision.verdict != "allow":
            return self._denied(name, call_id, intent, decision)
        path, refused = self._before_run(name, call_id, intent, decision)
        if refused is not None:
            return refused
        try:
            return await handler(self._judged(request, sent))
        finally:
            mark_executed(path, "langchain", call_id, intent, decision)
