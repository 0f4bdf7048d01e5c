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
values. Before the gate is asked, LangChain's own reading of the call (the
tool's ``_parse_input``, on a copy) must give the function those same values
— else the call is refused as an invalid intent naming the argument
(``gait._langchain_args``); for a tool whose schema is a dict, that reading
(the call's arguments and the function's own defaults) is what is judged.

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
from ._as_run import Unseen, not_as_judged, plain
from ._langchain_args import TwoReadings, tool_gets
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


def _call_schema(tool: Any) -> "tuple[Optional[Dict[str, Any]], bool, Optional[str]]":
    """The JSON schema of what the model may send the tool (its
    ``tool_call_schema``: injected arguments left out), or None when the
    tool is unknown or has none; whether it was written from the pydantic
    model the tool validates its arguments with (not a JSON schema given as
    a dict, which LangChain does not validate: the tool gets the call's
    arguments as they are, no default filled in); and, when the tool would
    not run with the values judged whatever the call sends, why."""
    if tool is None:
        return None, False, None
    schema = getattr(tool, "tool_call_schema", None)
    if isinstance(schema, dict):
        return schema, False, None
    validating = getattr(tool, "args_schema", None)
    if _is_v1_model(schema) or _is_v1_model(validating):
        # A pydantic.v1 model: its JSON schema's defaults are filled in,
        # and LangChain's own reading of the call (`_as_the_tool_gets`) is
        # what tells whether the tool gets them (no field checks here).
        view: Any = schema if _is_v1_model(schema) else validating
        out = view.schema()
        return (out, True, None) if isinstance(out, dict) else (None, False, "the tool's pydantic.v1 schema cannot be read")
    if not (isinstance(schema, type) and issubclass(schema, BaseModel)):
        return None, False, None
    # The tool validates with its `args_schema` (of which `tool_call_schema`
    # is a view without the injected arguments): its fields say which
    # default the tool really gets.
    if not (isinstance(validating, type) and issubclass(validating, BaseModel)):
        validating = schema
    out = model_schema(schema, validating)
    if not isinstance(out, dict):
        return None, False, None
    return out, True, _unpassed_field(validating, out.get("properties"))


def _as_the_tool_gets(
    tool: Any, judged: Dict[str, Any], sent: Dict[str, Any], call_id: str, injected: "set[str]", validated: bool
) -> "tuple[Dict[str, Any], Optional[Decision]]":
    """The arguments to judge, and the refusal of a call the tool would run
    with other values than those: LangChain's own reading of the call
    (:func:`gait._langchain_args.tool_gets`) against the judged arguments.
    For a dict schema (no validation) the tool's reading is what is judged:
    the call's arguments and its function's own defaults."""
    try:
        got = tool_gets(tool, sent, call_id, injected)
        if got is not None and not validated:
            # Judged as the tool reads it: written as JSON.
            return plain(got, 0), None
    except Unseen as e:
        return judged, Decision._invalid(f"args: the tool would run with {e}, which the gate cannot judge as JSON")
    except TwoReadings as e:
        return judged, Decision._invalid(
            f"args.{e}: the tool's function and coroutine default it to different values; the gate cannot tell "
            "which one runs, so it cannot judge the value the tool gets"
        )
    if got is None:
        return judged, None
    why = not_as_judged(judged, got, "its args_schema")
    return judged, None if why is None else Decision._invalid(why)


def _is_v1_model(model: Any) -> bool:
    try:
        from pydantic import v1
    except ImportError:  # pragma: no cover - pydantic 2 ships it
        return False
    return isinstance(model, type) and issubclass(model, v1.BaseModel)


def _unpassed_field(model: Any, props: Any) -> Optional[str]:
    """Why the tool would not get the value of a property of its schema
    (``props``) as the call sends it or the schema's default says, or None.
    LangChain validates the call's arguments with ``model`` and hands the
    tool, of ``model_dump()``'s keys, those the call sent or that have a
    default, each as validated: a property whose name validation does not
    read (an alias, without ``validate_by_name``) gets the field's default
    whatever is sent; a field ``model_dump()`` leaves out (``exclude``) or
    writes under another name (``serialize_by_alias``), or a
    ``model_serializer``, leaves the tool its function's own default."""
    if not isinstance(props, dict):
        return None
    config = model.model_config
    by_name = bool(config.get("validate_by_name") or config.get("populate_by_name"))
    by_alias = config.get("validate_by_alias", True) is not False
    dump_by_alias = bool(config.get("serialize_by_alias"))
    for name, field in model.model_fields.items():
        aliases = [a for a in (field.validation_alias, field.alias) if a is not None]
        key = next((k for k in [name, *[a for a in aliases if isinstance(a, str)]] if k in props), None)
        if key is None:
            continue
        read = set()
        if by_alias and aliases:
            first = aliases[0]
            choices = getattr(first, "choices", None)
            read.update([first] if isinstance(first, str) else [c for c in choices or [] if isinstance(c, str)])
        if by_name or not aliases or not by_alias:
            read.add(name)
        if key not in read:
            return f"args.{key}: the tool's args_schema reads this field under another name, so the tool gets its default whatever is sent"
        if field.exclude:
            return f"args.{key}: excluded from the tool's arguments (exclude=True): the tool gets its function's own default"
        dumped = field.serialization_alias or field.alias
        if dump_by_alias and isinstance(dumped, str) and dumped != name:
            return f"args.{key}: written under another name (serialize_by_alias): the tool gets its function's own default"
    return None


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
        try:
            schema, validated, unjudgeable = _call_schema(tool)
        except Exception as e:  # noqa: BLE001 - a schema pydantic cannot write: refused, never raised out of the agent
            schema, validated, unjudgeable = None, False, f"the tool's schema cannot be read ({type(e).__name__}: {e})"
        refused: Optional[Decision] = None
        if unjudgeable is not None:
            refused = Decision._invalid(f"{unjudgeable} (the gate cannot judge the value the tool runs with)")
        elif isinstance(args, dict) and schema is not None:
            props = schema.get("properties")
            allowed = set(props) if isinstance(props, dict) else set()
            injected = _injected_names(tool, allowed) | set(getattr(tool, "_injected_args_keys", None) or ())
            unknown = sorted(k for k in args if k not in allowed)
            if unknown:
                why = "is injected by the tool node after the gate decides" if unknown[0] in injected else "is not a parameter of the tool's schema"
                refused = Decision._invalid(
                    f"args.{unknown[0]}: {why}: the tool would not run with the value judged ({INJECTED_ARGUMENT})"
                )
            if validated:
                args, invalid = schema_args(args, schema, pydantic=True)
                if refused is None and invalid is not None:
                    refused = Decision._invalid(invalid)
            if refused is None:
                args, refused = _as_the_tool_gets(tool, args, sent, call_id, injected, validated)
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
