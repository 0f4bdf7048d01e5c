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

The context: the ``context`` given here, with ``identity``, ``workspace``,
``risk_class`` and ``session_id`` taken from the run context
(``Runner.run(..., context=...)``, a dict or object) where present.
"""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Sequence

from agents import FunctionTool, ToolGuardrailFunctionOutput, ToolInputGuardrail, tool_input_guardrail

from ._context import Context, intent_for
from ._errors import GateUnavailable
from ._gate import Gate, PathLike
from ._trace import write_record

__all__ = ["gait_guardrail", "guard_tools", "GUARDRAIL_NAME"]

GUARDRAIL_NAME = "gait_gate"
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


def gait_guardrail(
    gate: Gate,
    context: Optional[Context] = None,
    trace_dir: Optional[PathLike] = None,
) -> ToolInputGuardrail[Any]:
    """A tool input guardrail deciding each call with ``gate``."""
    base = context if context is not None else Context()

    async def gait_gate(data: Any) -> ToolGuardrailFunctionOutput:
        tc = data.context
        name = str(getattr(tc, "tool_name", "") or "")
        call_id = str(getattr(tc, "tool_call_id", "") or "")
        run_ctx = getattr(tc, "context", None)
        ctx = base.merged(**{k: _field(run_ctx, k) for k in _CONTEXT_FIELDS})
        intent: Dict[str, Any] = intent_for(name, _arguments(getattr(tc, "tool_arguments", None)), ctx)
        try:
            decision = await gate.aevaluate(intent)
        except GateUnavailable as e:
            if trace_dir is not None:
                write_record(trace_dir, "openai_agents", call_id, intent, None, False, str(e))
            return ToolGuardrailFunctionOutput.reject_content(
                f"gait: the tool call was not run: gate unavailable ({e.code})",
                output_info={"verdict": None, "error": str(e)},
            )
        allowed = decision.verdict == "allow"
        if trace_dir is not None:
            # The guardrail lets the tool run on allow: that is "executed".
            write_record(trace_dir, "openai_agents", call_id, intent, decision, allowed)
        info = {
            "verdict": decision.verdict,
            "reason_codes": decision.reason_codes,
            "intent_digest": decision.intent_digest,
        }
        if allowed:
            return ToolGuardrailFunctionOutput.allow(output_info=info)
        reasons = ", ".join(decision.reason_codes) or "none"
        return ToolGuardrailFunctionOutput.reject_content(
            f"gait: the tool call was not run: verdict={decision.verdict} reasons={reasons}",
            output_info=info,
        )

    return tool_input_guardrail(name=GUARDRAIL_NAME)(gait_gate)


def guard_tools(
    tools: Sequence[Any],
    gate: Gate,
    context: Optional[Context] = None,
    trace_dir: Optional[PathLike] = None,
    allow_unguarded: bool = False,
) -> List[Any]:
    """Attaches :func:`gait_guardrail` (first) to every ``FunctionTool`` and
    returns the tools. A tool that is not a ``FunctionTool`` cannot be gated
    and raises ``TypeError`` unless ``allow_unguarded``."""
    guardrail = gait_guardrail(gate, context, trace_dir)
    out: List[Any] = []
    for tool in tools:
        if isinstance(tool, FunctionTool):
            existing = [g for g in (tool.tool_input_guardrails or []) if getattr(g, "name", None) != GUARDRAIL_NAME]
            tool.tool_input_guardrails = [guardrail, *existing]
        elif not allow_unguarded:
            raise TypeError(
                f"gait cannot gate {type(tool).__name__} {getattr(tool, 'name', '')!r}: only function tools "
                "run input guardrails (pass allow_unguarded=True to use it ungated)"
            )
        out.append(tool)
    return out
