"""OpenAI Agents SDK: a tool input guardrail that asks the gate before every
function tool runs.

    from agents import Agent
    from gait.openai_agents import guard_tools

    agent = Agent(name="ops", tools=guard_tools([write_file, run_command], gate, context=ctx))

:func:`gait_guardrail` is a ``ToolInputGuardrail``: it builds the intent from
the call (tool name, the JSON arguments → ``args``; the policy's ``map tool``
mappings give the targets), asks the gate, and answers ``allow()`` only on
``allow``; on any other verdict, or when the gate is unavailable,
``reject_content(...)``: the tool is not run and the model receives the
refusal (verdict and reasons).

Reach: the SDK runs tool input guardrails for **function tools only**
(``FunctionTool``, including tools of MCP servers given
``tool_input_guardrails``). Hosted tools (web search, file search, code
interpreter, image generation, hosted MCP) run on OpenAI's side and local
shell / computer tools are not function tools: no guardrail sees them.
:func:`guard_tools` therefore refuses any tool that is not a ``FunctionTool``
unless ``allow_unguarded=True`` is given (then they are returned unchanged).

What is judged: the model's JSON arguments with the defaults of the tool's
arguments filled in for the parameters it leaves out, nested ones too (the
SDK's args model fills them in before the tool runs). For a tool made by
``function_tool`` the defaults are read from its pydantic args model's own
schema — the one the SDK validates with, rebuilt by the SDK's
``function_schema`` from the tool's ``__wrapped__`` function and used only
when its strict form is the tool's ``params_json_schema``: there a plain
default shows, a ``None`` default too (the strict schema drops it), and a
left-out argument with a ``default_factory`` (whose value no schema shows)
is refused as an invalid intent, in strict and ``strict_mode=False`` tools
alike. For other function tools the ``params_json_schema`` is read: in a
strict one (every property required) a left-out property without a
``default`` is judged ``None`` if it is nullable and refused otherwise.
A call is judged as the tool will run it: for a ``function_tool`` the
SDK's args model validates a copy of the call, and a value it would hand
the function otherwise than judged (a validator, a normalizer) refuses the
call as an invalid intent naming the argument (validators run once more
per call); other function tools' validation is their own and not seen. An
MCP server's tools (``agent.mcp_servers``) are judged with their
``inputSchema``'s defaults, which the server fills in; a call of a tool the
agent does not have is refused. Handoffs are not function tools: their
``on_handoff`` callbacks run with the model's arguments ungated (gate the
agent handed off to with its own ``guard_tools``).

The context: the ``context`` given here, with ``identity``, ``workspace``,
``risk_class`` and ``session_id`` taken from the run context
(``Runner.run(..., context=...)``, a dict or object) where present.

Records (``trace_dir``), precisely: the guardrail writes each decision's
record when it decides, with ``executed: false`` — for an allowed call too,
before the tool runs; if that record cannot be written the call is rejected
(the tool never runs unrecorded). A guardrail cannot see whether the tool
then ran (a later guardrail may reject the call), so with
:func:`gait_guardrail` attached by hand the records stay ``executed:
false``. :func:`guard_tools` also wraps each tool's ``on_invoke_tool``:
once the tool has run (returned or raised) the record of that call is
rewritten with ``executed: true``; a failure of that rewrite is logged
(logger ``gait``) and never replaces the tool's output. ``guard_tools``
returns copies: the tool objects given to it are not changed.
"""

from __future__ import annotations

import copy
import json
import logging
import threading
import weakref
from collections import OrderedDict
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Awaitable, Callable, Dict, List, NamedTuple, Optional, Sequence

import agents.tool as _agents_tool
from agents import FunctionTool, ToolGuardrailFunctionOutput, ToolInputGuardrail, tool_input_guardrail
from agents.function_schema import function_schema
from agents.tool_context import ToolContext

from ._as_run import not_as_judged_after
from ._context import Context, intent_for
from ._convert import schema_args
from ._model_schema import model_schema
from ._errors import GateUnavailable
from ._gate import Gate, PathLike
from ._decision import Decision
from ._trace import RECORD_FAILED, mark_executed, record_before_run, record_refused

__all__ = ["gait_guardrail", "guard_tools", "GUARDRAIL_NAME"]

GUARDRAIL_NAME = "gait_gate"
log = logging.getLogger("gait")
# The SDK's mark of a sync function tool (checked against timeout_seconds).
_SYNC_MARKER = getattr(_agents_tool, "_SYNC_FUNCTION_TOOL_MARKER", "__agents_sync_function_tool__")
_MAX_PENDING = 4096
_CONTEXT_FIELDS = ("identity", "workspace", "risk_class", "session_id")


def _field(obj: Any, name: str) -> Any:
    if obj is None:
        return None
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


def _arguments(raw: Any) -> Any:
    """The call's arguments: the JSON object the model sent. Text that is
    not JSON is passed on as it is (a string), which the runtime refuses as
    an invalid intent (``args`` must be an object)."""
    if not isinstance(raw, str):
        return raw
    try:
        return json.loads(raw) if raw.strip() else {}
    except ValueError:
        return raw


class _Allowed(NamedTuple):
    """An allowed call, from the guardrail's decision until the tool runs:
    the argument text judged, and its record (None without ``trace_dir``)."""

    text: str
    path: Optional[Path]
    intent: Dict[str, Any]
    decision: Decision


class _Pending:
    """Allowed calls from the guardrail's decision until the tool runs, by
    (tool call id, tool name, argument text judged): two runs sharing the
    guarded tools whose models number calls alike (``call_0``) each find
    their own. At most ``_MAX_PENDING``: a call that never runs — rejected
    by a later guardrail, a run cancelled — is forgotten eventually, and
    refused if it comes after all."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._records: "OrderedDict[tuple[str, str, str], List[_Allowed]]" = OrderedDict()
        self._count = 0

    def put(self, call_id: str, tool: str, allowed: _Allowed) -> None:
        with self._lock:
            key = (call_id, tool, allowed.text)
            self._records.setdefault(key, []).append(allowed)
            self._records.move_to_end(key)  # evicted by its latest decision, oldest first
            self._count += 1
            while self._count > _MAX_PENDING and self._records:
                _, dropped = self._records.popitem(last=False)
                self._count -= len(dropped)

    def take(self, call_id: Any, tool: Any, text: Any, keep: bool = False) -> "Optional[_Allowed]":
        """The decision allowing this call with this text, removed unless
        ``keep`` (an agent tool's call, which the SDK invokes again when
        the run resumes after a nested approval, without its guardrails)."""
        if not (isinstance(call_id, str) and isinstance(tool, str) and isinstance(text, str)):
            return None
        with self._lock:
            entries = self._records.get((call_id, tool, text))
            if not entries:
                return None
            if keep:
                return entries[0]
            allowed = entries.pop(0)
            self._count -= 1
            if not entries:
                del self._records[(call_id, tool, text)]
            return allowed


class Judging(NamedTuple):
    """How a tool's calls are judged: the JSON schema its defaults are
    filled from, whether it is the pydantic args model's own (see
    :func:`gait._convert.schema_args`), and whether a strict schema's
    nullable property left out is judged ``None``."""

    schema: Any
    pydantic: bool
    nullable_none: bool = True
    #: Why the tool's calls cannot be judged at all (an invalid intent).
    refusal: Optional[str] = None
    #: The SDK's ``FuncSchema`` of a ``function_tool`` (rebuilt alike): its
    #: args model validates a copy of each call (:func:`_as_validated`).
    made: Any = None


# Keywords of a JSON schema whose values map names (not keywords) to schemas.
_NAMED = ("properties", "$defs", "definitions", "patternProperties")

def _without_text(schema: Any) -> Any:
    """``schema`` without its ``title`` and ``description`` keywords: what
    names and docstrings change, and validation does not read."""
    if isinstance(schema, dict):
        return {
            k: ({n: _without_text(x) for n, x in v.items()} if k in _NAMED and isinstance(v, dict) else _without_text(v))
            for k, v in schema.items()
            if k not in ("title", "description")
        }
    if isinstance(schema, list):
        return [_without_text(x) for x in schema]
    return schema


# Judgings of tools met on an agent (`gait_guardrail` attached by hand), by
# tool object (with the schema they were made from): rebuilding an args
# model costs milliseconds.
_JUDGED: Dict[int, "tuple[weakref.ref[Any], str, Judging]"] = {}


def _judging_schema(tool: FunctionTool) -> Judging:
    """How ``tool``'s calls are judged. A tool made by ``function_tool``
    validates the model's JSON with a pydantic args model whose schema the
    SDK makes strict: every property required, ``None`` defaults dropped, a
    ``default_factory`` shown as nothing at all. The model's own schema shows
    which left-out argument has a default, which ``None`` and which a
    factory: the model is rebuilt with the SDK's ``function_schema`` from the
    tool's ``__wrapped__`` function and used when its schema is the tool's
    ``params_json_schema`` but for titles and descriptions (which names and
    docstring options change). A ``function_tool`` whose model cannot be
    rebuilt alike is judged by its schema, a left-out nullable refused (it
    may have a factory); any other tool by its schema as it is."""
    inner = tool.on_invoke_tool
    if isinstance(inner, _RecordingInvoker):
        return inner.judging
    try:
        fn = tool.__wrapped__
    except Exception:  # noqa: BLE001 - not made by function_tool (MCP, hand-made, agent as tool)
        return Judging(tool.params_json_schema, False)
    try:
        # A callable object is read by its `__call__`, as `function_tool`
        # reads it (`_normalize_function_tool_callable`).
        normalize = getattr(_agents_tool, "_normalize_function_tool_callable", None)
        if callable(normalize):
            fn, _ = normalize(fn, None, None, True)
        made = function_schema(fn, strict_json_schema=tool.strict_json_schema)
        if _without_text(made.params_json_schema) == _without_text(tool.params_json_schema):
            return Judging(model_schema(made.params_pydantic_model), True, made=made)
    except Exception:  # noqa: BLE001 - a callable the SDK adapts otherwise, or a model not rebuilt alike
        pass
    # Made by `function_tool` (its invoker validates with the function's
    # own args model, validators included) but that model cannot be
    # rebuilt alike: the value the function gets cannot be compared with
    # the one judged, so its calls are refused.
    return Judging(
        tool.params_json_schema,
        False,
        nullable_none=False,
        refusal=f"the args model of function tool {tool.name!r} cannot be rebuilt to compare what its function would get with what is judged",
    )


async def _tool_schema(name: str, schemas: Dict[str, Judging], agent: Any, run_context: Any) -> Judging:
    """How the function tool ``name`` is judged: from the tools
    :func:`guard_tools` was given, else from the agent's own tools and then
    its MCP servers' (``agent.get_mcp_tools``: an MCP tool's ``inputSchema``
    defaults are the server's, which it fills in) — refused when the agent
    has several of that name (the SDK runs the last; which one a call
    reaches, the name alone does not tell), or none (nothing tells what the
    call's defaults are)."""
    if name in schemas:
        return schemas[name]
    tools = [t for t in getattr(agent, "tools", None) or () if isinstance(t, FunctionTool) and t.name == name]
    if not tools:
        try:
            mcp = await agent.get_mcp_tools(run_context) if hasattr(agent, "get_mcp_tools") else []
        except Exception as e:  # noqa: BLE001 - refuse: the call's tool cannot be known
            return Judging(None, False, refusal=f"the agent's MCP tools cannot be listed ({type(e).__name__}: {e})")
        tools = [t for t in mcp if isinstance(t, FunctionTool) and t.name == name]
    if len(tools) > 1:
        return Judging(None, False, refusal=f"the agent has {len(tools)} function tools named {name!r}: which one runs is not known")
    if not tools:
        return Judging(None, False, refusal=f"the agent has no function tool named {name!r} to judge the call by")
    tool = tools[0]
    try:
        shape = json.dumps(tool.params_json_schema, sort_keys=True, default=repr)
    except Exception:  # noqa: BLE001 - an odd schema: never cached
        return _judging_schema(tool)
    cached = _JUDGED.get(id(tool))
    if cached is not None and cached[0]() is tool and cached[1] == shape:
        return cached[2]
    judging = _judging_schema(tool)
    try:
        _JUDGED[id(tool)] = (weakref.ref(tool), shape, judging)
        weakref.finalize(tool, _JUDGED.pop, id(tool), None)
    except TypeError:  # a tool that cannot be weakly referenced: not cached
        _JUDGED.pop(id(tool), None)
    return judging


def _make_guardrail(
    gate: Gate,
    context: Optional[Context],
    trace_dir: Optional[PathLike],
    pending: Optional[_Pending],
    schemas: Optional[Dict[str, Judging]] = None,
) -> ToolInputGuardrail[Any]:
    base = context if context is not None else Context()
    known: Dict[str, Judging] = dict(schemas or {})

    async def gait_gate(data: Any) -> ToolGuardrailFunctionOutput:
        tc = data.context
        name = str(getattr(tc, "tool_name", "") or "")
        call_id = str(getattr(tc, "tool_call_id", "") or "")
        run_ctx = getattr(tc, "context", None)
        ctx = base.merged(**{k: _field(run_ctx, k) for k in _CONTEXT_FIELDS})
        # Judged with the tool's defaults: the SDK's args model fills them in
        # before the tool runs (the JSON text itself, immutable, is what the
        # SDK then parses).
        judging = await _tool_schema(name, known, getattr(data, "agent", None), tc)
        text = getattr(tc, "tool_arguments", None)
        sent = _arguments(text)
        args, invalid = schema_args(copy.deepcopy(sent), *judging[:3])
        if judging.refusal is not None:
            invalid = judging.refusal
        elif invalid is None and judging.made is not None:
            invalid = _as_validated(judging.made, args, sent)
        intent: Dict[str, Any] = intent_for(name, args, ctx)
        try:
            decision = Decision._invalid(invalid) if invalid is not None else await gate.aevaluate(intent)
        except GateUnavailable as e:
            record_refused(trace_dir, "openai_agents", call_id, intent, None, str(e))
            return ToolGuardrailFunctionOutput.reject_content(
                f"gait: the tool call was not run: gate unavailable ({e.code})",
                output_info={"verdict": None, "error": str(e)},
            )
        info = {
            "verdict": decision.verdict,
            "reason_codes": decision.reason_codes,
            "intent_digest": decision.intent_digest,
        }
        if decision.verdict != "allow":
            record_refused(trace_dir, "openai_agents", call_id, intent, decision)
            reasons = ", ".join(decision.reason_codes) or "none"
            return ToolGuardrailFunctionOutput.reject_content(
                f"gait: the tool call was not run: verdict={decision.verdict} reasons={reasons}",
                output_info=info,
            )
        # Allowed: the record (executed: false) before the tool may run.
        try:
            path = record_before_run(trace_dir, "openai_agents", call_id, intent, decision)
        except Exception as e:  # noqa: BLE001 - refuse: never run unrecorded
            return ToolGuardrailFunctionOutput.reject_content(RECORD_FAILED, output_info={**info, "error": str(e)})
        if pending is not None and isinstance(text, str):
            pending.put(call_id, name, _Allowed(text, path, intent, decision))
        return ToolGuardrailFunctionOutput.allow(output_info=info)

    return tool_input_guardrail(name=GUARDRAIL_NAME)(gait_gate)


def _as_validated(made: Any, judged: Any, sent: Any) -> Optional[str]:
    """Why a call must be refused because the tool would run with other
    values than those judged, or None: the SDK validates the call's JSON
    with the tool's args model after the guardrails and calls the function
    with its fields; the same model validates a copy here and the result is
    compared with the judged arguments (:func:`gait._as_run.not_as_judged_after`)."""
    if not isinstance(sent, dict):
        return None
    data = copy.deepcopy(sent)
    return not_as_judged_after(judged, lambda: made.params_pydantic_model(**data) if data else made.params_pydantic_model())


#: What the model reads when a guarded tool is invoked with other
#: arguments than the guardrail allowed, or without a decision.
NOT_JUDGED = "gait: the tool call was not run: its arguments are not the ones the gate allowed"


def gait_guardrail(
    gate: Gate,
    context: Optional[Context] = None,
    trace_dir: Optional[PathLike] = None,
) -> ToolInputGuardrail[Any]:
    """A tool input guardrail deciding each call with ``gate``.

    Its records say ``executed: false`` for every call, allowed ones too: a
    guardrail answers before the tool runs and never learns whether it did
    (a later guardrail may still reject the call). :func:`guard_tools`
    attaches it *and* wraps each tool so that the record of an allowed call
    is turned to ``executed: true`` once the tool has run."""
    return _make_guardrail(gate, context, trace_dir, None)


class _RecordingInvoker:
    """The ``on_invoke_tool`` of a tool :func:`guard_tools` returns: the
    tool's own invoker, then — once it has run (returned or raised) — the
    record of the call (written by the guardrail) marked executed. Never
    raises for the record: a failure is logged."""

    def __init__(self, inner: Callable[..., Awaitable[Any]], pending: _Pending, judging: "Judging", resumable: bool = False) -> None:
        self.inner = inner
        self.pending = pending
        # An agent used as a tool: the SDK invokes it again, guardrails
        # skipped, when the run resumes after its inner agent's approval;
        # its decision is kept for that (the same call id and text).
        self.resumable = resumable
        # The schema the tool's calls are judged with (:func:`_judging_schema`),
        # kept for a tool guarded again (its copy has no ``__wrapped__``).
        self.judging = judging
        if getattr(inner, _SYNC_MARKER, False):
            setattr(self, _SYNC_MARKER, True)

    async def __call__(self, ctx: ToolContext[Any], input: str) -> Any:
        # Only the call the guardrail allowed, with the very argument text
        # it judged: a later guardrail or an ``on_tool_start`` hook may
        # rewrite ``tool_call.arguments``, which is what the SDK invokes
        # the tool with; a path past the guardrails has no decision here.
        call_id = getattr(ctx, "tool_call_id", None)
        allowed = self.pending.take(call_id, getattr(ctx, "tool_name", None), input, keep=self.resumable)
        if allowed is None:
            log.warning("gait: refused to run tool call %r: no decision allows it with these arguments", call_id)
            return NOT_JUDGED
        try:
            return await self.inner(_inner_context(self.inner, ctx), input)
        finally:
            if allowed.path is not None:
                mark_executed(allowed.path, "openai_agents", str(call_id), allowed.intent, allowed.decision)

    def __agents_bind_function_tool__(self, function_tool: FunctionTool) -> "_RecordingInvoker":
        # FunctionTool copies bind their invoker to themselves: pass it on.
        bind = getattr(self.inner, "__agents_bind_function_tool__", None)
        inner = bind(function_tool) if callable(bind) else self.inner
        return self if inner is self.inner else _RecordingInvoker(inner, self.pending, self.judging, self.resumable)


def _inner_context(inner: Any, ctx: Any) -> Any:
    """The context the SDK itself would pass to ``inner`` (it narrows a
    ``ToolContext`` for an invoker declared to take a ``RunContextWrapper``)."""
    choose = getattr(_agents_tool, "_get_function_tool_invoke_context", None)
    if choose is None:
        return ctx
    try:
        return choose(SimpleNamespace(on_invoke_tool=inner), ctx)
    except Exception:  # noqa: BLE001 - the SDK's private helper changed: the full context
        return ctx


def guard_tools(
    tools: Sequence[Any],
    gate: Gate,
    context: Optional[Context] = None,
    trace_dir: Optional[PathLike] = None,
    allow_unguarded: bool = False,
) -> List[Any]:
    """Returns guarded **copies** of the tools (the given tool objects are
    not changed): each ``FunctionTool`` copy has the gait guardrail last in
    its ``tool_input_guardrails`` (once, even when guarded again: no
    guardrail of its own runs after the decision) and its ``on_invoke_tool``
    wrapped: the tool runs only for a call the guardrail allowed and with
    the very argument text it judged (a hook or guardrail that rewrote
    ``tool_call.arguments`` after the decision, or a path that skipped the
    guardrails, gets a refusal, and the tool does not run), and the
    decision record says ``executed: true`` only once the tool has run. A tool that is
    not a ``FunctionTool`` cannot be gated and raises ``TypeError`` unless
    ``allow_unguarded`` (then it is returned as it is). The copies have no
    ``__wrapped__`` (the SDK gives it only to its own invokers)."""
    pending = _Pending()
    functions = [tool for tool in tools if isinstance(tool, FunctionTool)]
    names = [tool.name for tool in {id(tool): tool for tool in functions}.values()]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        # The guardrail knows a call by its tool's name only: two tools of
        # one name would be judged with one tool's defaults.
        raise ValueError(f"gait cannot tell apart function tools of the same name: {', '.join(map(repr, twice))}")
    schemas = {tool.name: _judging_schema(tool) for tool in functions}
    guardrail = _make_guardrail(gate, context, trace_dir, pending, schemas)
    out: List[Any] = []
    for tool in tools:
        if isinstance(tool, FunctionTool):
            guarded = copy.copy(tool)  # FunctionTool.__copy__ rebinds its invoker to the copy
            existing = [g for g in (guarded.tool_input_guardrails or []) if getattr(g, "name", None) != GUARDRAIL_NAME]
            guarded.tool_input_guardrails = [*existing, guardrail]
            inner = guarded.on_invoke_tool
            while isinstance(inner, _RecordingInvoker):  # guarded before: one wrapper
                inner = inner.inner
            resumable = bool(getattr(tool, "_is_agent_tool", False))
            guarded.on_invoke_tool = _RecordingInvoker(inner, pending, schemas[tool.name], resumable)
            out.append(guarded)
        elif not allow_unguarded:
            raise TypeError(
                f"gait cannot gate {type(tool).__name__} {getattr(tool, 'name', '')!r}: only function tools "
                "run input guardrails (pass allow_unguarded=True to use it ungated)"
            )
        else:
            out.append(tool)
    return out
