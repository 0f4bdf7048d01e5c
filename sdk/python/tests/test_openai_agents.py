"""OpenAI Agents SDK: a real `Agent` run by `Runner` with a scripted offline
`Model`, its function tools guarded by `guard_tools`."""

from __future__ import annotations

import datetime
import decimal
import uuid
from typing import Set

from pydantic import HttpUrl

import asyncio
import dataclasses
import logging
import json
from pathlib import Path
from typing import Annotated, Any, List, Optional

from urllib.parse import unquote

from typing_extensions import TypeAliasType, TypedDict

import pytest
from agents import (
    Agent,
    FunctionTool,
    Runner,
    ToolGuardrailFunctionOutput,
    WebSearchTool,
    function_tool,
    set_tracing_disabled,
    tool_input_guardrail,
)
from agents.items import ModelResponse
from agents.models.interface import Model
from agents.usage import Usage
from conftest import COMMON_TYPED_ARGS, FACTORY_CALL, LOW, IntoEtcTarget, Shade, NESTED_CALLS, NESTED_JUDGED, SaveTarget, SideEffects, assert_same_as_cli, break_trace_dir, executed_flags, read_records, record_warnings
from openai.types.responses import ResponseFunctionToolCall, ResponseOutputMessage, ResponseOutputText
import pydantic.dataclasses
from pydantic import AfterValidator, BaseModel, Field

import gait
from gait.openai_agents import GUARDRAIL_NAME, NOT_JUDGED, gait_guardrail, guard_tools

set_tracing_disabled(True)

CALLS = [
    ("call_allow", "write_file", {"path": "/workspace/report.txt", "content": "ok"}),
    ("call_block", "write_file", {"path": "/workspace/../etc/passwd", "content": "x"}),
    ("call_approval", "delete_file", {"path": "report.txt"}),
    ("call_dry", "write_file", {"path": "/workspace/dry-run/plan.txt", "content": "x"}),
]


class ScriptedModel(Model):
    """Turn 1: the three tool calls; turn 2: a final message. Records the
    input of every turn."""

    def __init__(self, calls: Any = None) -> None:
        self.inputs: List[Any] = []
        # (call id, tool name, arguments: a dict sent as JSON, or raw text)
        self.calls = CALLS if calls is None else calls

    async def get_response(self, system_instructions: Any, input: Any, *args: Any, **kwargs: Any) -> ModelResponse:
        self.inputs.append(input)
        if len(self.inputs) == 1:
            output: List[Any] = [
                ResponseFunctionToolCall(
                    type="function_call",
                    call_id=cid,
                    name=name,
                    arguments=args if isinstance(args, str) else json.dumps(args),
                    id=f"fc_{cid}",
                    status="completed",
                )
                for cid, name, args in self.calls
            ]
        else:
            output = [
                ResponseOutputMessage(
                    id="msg_1",
                    type="message",
                    role="assistant",
                    status="completed",
                    content=[ResponseOutputText(type="output_text", text="done", annotations=[])],
                )
            ]
        return ModelResponse(output=output, usage=Usage(), response_id=None)

    def stream_response(self, *args: Any, **kwargs: Any) -> Any:  # pragma: no cover - not used
        raise NotImplementedError


def make_tools(effects: SideEffects) -> List[Any]:
    @function_tool
    def write_file(path: str, content: str) -> str:
        """Write a file."""
        effects.ran("write_file", {"path": path, "content": content})
        return f"wrote {path}"

    @function_tool
    def delete_file(path: str) -> str:
        """Delete a file."""
        effects.ran("delete_file", {"path": path})
        return f"deleted {path}"

    return [write_file, delete_file]


def run(gate: gait.Gate, effects: SideEffects, trace_dir: Path, tools: Any = None, calls: Any = None) -> ScriptedModel:
    model = ScriptedModel(calls)
    if tools is None:
        tools = guard_tools(make_tools(effects), gate, context=LOW, trace_dir=trace_dir)
    agent = Agent(name="ops", instructions="tidy", model=model, tools=tools)
    result = asyncio.run(Runner.run(agent, "tidy the workspace"))
    assert result.final_output == "done"
    return model


def outputs_sent(model: ScriptedModel) -> dict[str, str]:
    """The function call outputs the model received on its second turn."""
    items = model.inputs[1]
    return {i["call_id"]: str(i["output"]) for i in items if isinstance(i, dict) and i.get("type") == "function_call_output"}


def test_allowed_runs_once_refusals_reach_the_model(gate: gait.Gate, bundle: Path, trust: Path, effects: SideEffects, tmp_path: Path) -> None:
    model = run(gate, effects, tmp_path)
    assert effects.calls == [("write_file", {"path": "/workspace/report.txt", "content": "ok"})]
    sent = outputs_sent(model)
    assert sent["call_allow"] == "wrote /workspace/report.txt"
    assert "verdict=block" in sent["call_block"] and "secret_path_access" in sent["call_block"]
    assert "verdict=require_approval" in sent["call_approval"] and "delete_needs_review" in sent["call_approval"]
    assert "verdict=dry_run" in sent["call_dry"] and "dry_run_only" in sent["call_dry"]
    records = {r["tool_call_id"]: r for r in read_records(tmp_path, "openai_agents")}
    assert set(records) == {"call_allow", "call_block", "call_approval", "call_dry"}
    for call_id, rec in records.items():
        assert rec["executed"] is (call_id == "call_allow")
        decision = gate.evaluate(rec["intent"])
        assert decision.result == rec["result"]
        assert_same_as_cli(bundle, trust, rec["intent"], decision)


def test_unavailable_gate_runs_nothing(unavailable_gate: gait.Gate, effects: SideEffects, tmp_path: Path) -> None:
    model = run(unavailable_gate, effects, tmp_path)
    assert effects.calls == []
    sent = outputs_sent(model)
    assert len(sent) == 4 and all("gate unavailable" in v for v in sent.values())
    records = read_records(tmp_path, "openai_agents")
    assert len(records) == 4 and all(r["executed"] is False and r["result"] is None for r in records)


def test_guard_tools_covers_function_tools_only(gate: gait.Gate, effects: SideEffects) -> None:
    tools = make_tools(effects)
    invokers = [t.on_invoke_tool for t in tools]
    guarded = guard_tools(tools, gate)
    assert all(isinstance(t, FunctionTool) and t.tool_input_guardrails[0].name == GUARDRAIL_NAME for t in guarded)
    # The caller's tools are not changed: guard_tools returns copies.
    assert all(g is not t for g, t in zip(guarded, tools))
    assert [t.tool_input_guardrails for t in tools] == [None, None]
    assert [t.on_invoke_tool for t in tools] == invokers
    # Guarding the guarded copies again keeps one gait guardrail and one
    # recording wrapper.
    again = guard_tools(guarded, gate)
    assert [g.name for g in again[0].tool_input_guardrails].count(GUARDRAIL_NAME) == 1
    wrapper = again[0].on_invoke_tool
    assert type(wrapper) is type(guarded[0].on_invoke_tool) and not isinstance(wrapper.inner, type(wrapper))
    with pytest.raises(TypeError):
        guard_tools([*tools, WebSearchTool()], gate)
    assert len(guard_tools([*tools, WebSearchTool()], gate, allow_unguarded=True)) == 3


def test_arguments_that_are_not_json_are_refused(gate: gait.Gate, effects: SideEffects, tmp_path: Path) -> None:
    """A model that sends arguments that are not JSON: the intent is
    invalid (args must be an object), the tool does not run."""
    model = run(gate, effects, tmp_path, calls=[("call_bad", "write_file", "{not json")])
    assert effects.calls == []
    sent = outputs_sent(model)
    assert "verdict=block" in sent["call_bad"] and "intent_invalid" in sent["call_bad"]
    (rec,) = read_records(tmp_path, "openai_agents")
    assert rec["executed"] is False and rec["intent"]["args"] == "{not json"


def test_executed_is_recorded_only_once_the_tool_ran(gate: gait.Gate, effects: SideEffects, tmp_path: Path) -> None:
    """The gait guardrail allows; the tool has not run yet (a later guardrail
    may still reject it): the record says executed false until the tool
    has run."""
    seen: List[dict[str, bool]] = []
    effects.during = lambda: seen.append(executed_flags(tmp_path, "openai_agents"))
    run(gate, effects, tmp_path, calls=CALLS[:1])
    assert seen == [{"call_allow": False}] and executed_flags(tmp_path, "openai_agents") == {"call_allow": True}

    # The tool's own guardrail runs before the gate's (last: nothing of
    # its own runs after the decision) and rejects the call: it never
    # runs, and the gate was not asked.
    @tool_input_guardrail
    def second_opinion(data: Any) -> ToolGuardrailFunctionOutput:
        return ToolGuardrailFunctionOutput.reject_content("no, not today")

    effects.calls.clear()
    trace = tmp_path / "second"
    tools = make_tools(effects)
    for t in tools:
        t.tool_input_guardrails = [second_opinion]
    guarded = guard_tools(tools, gate, context=LOW, trace_dir=trace)
    assert [g.name for g in guarded[0].tool_input_guardrails] == ["second_opinion", GUARDRAIL_NAME]
    model = run(gate, effects, trace, tools=guarded, calls=CALLS[:1])
    assert effects.calls == [] and outputs_sent(model)["call_allow"] == "no, not today"
    assert read_records(trace, "openai_agents") == []

    # The guardrail alone cannot see the run: executed stays false.
    effects.calls.clear()
    alone = tmp_path / "alone"
    tools = make_tools(effects)
    for t in tools:
        t.tool_input_guardrails = [gait_guardrail(gate, context=LOW, trace_dir=alone)]
    run(gate, effects, alone, tools=tools, calls=CALLS[:1])
    assert len(effects.calls) == 1 and executed_flags(alone, "openai_agents") == {"call_allow": False}


def test_record_failures_before_and_after_the_run(gate: gait.Gate, effects: SideEffects, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    # Before: the record cannot be written, the allowed call is rejected.
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")
    model = run(gate, effects, not_a_dir)
    assert effects.calls == []
    sent = outputs_sent(model)
    assert "decision record could not be written" in sent["call_allow"] and "verdict=block" in sent["call_block"]

    # After: the tool ran; its output reaches the model, the failure is logged.
    effects.during = lambda: break_trace_dir(tmp_path, "openai_agents")
    with caplog.at_level(logging.WARNING, logger="gait"):
        model = run(gate, effects, tmp_path, calls=CALLS[:1])
    assert len(effects.calls) == 1 and outputs_sent(model)["call_allow"] == "wrote /workspace/report.txt"
    assert any("could not be updated" in w for w in record_warnings(caplog))


@pytest.mark.parametrize(
    "default, verdict",
    [("/workspace/default.txt", "allow"), ("/etc/gait-default.txt", "block")],
)
def test_arguments_are_judged_with_the_tools_defaults(
    gate: gait.Gate, effects: SideEffects, tmp_path: Path, default: str, verdict: str
) -> None:
    """A call that leaves out a mapped argument is judged with the default
    the SDK's args model gives the tool: a default in /etc is blocked (and
    the tool never runs), one in the workspace is allowed and runs."""

    @function_tool
    def write_file(content: str, path: str = default) -> str:
        """Write a file (by default at the parametrized path)."""
        effects.ran("write_file", {"path": path, "content": content})
        return f"wrote {path}"

    tools = guard_tools([write_file], gate, context=LOW, trace_dir=tmp_path)
    model = run(gate, effects, tmp_path, tools=tools, calls=[("c_default", "write_file", {"content": "x"})])
    (rec,) = read_records(tmp_path, "openai_agents")
    assert rec["intent"]["args"] == {"content": "x", "path": default}
    assert rec["result"]["verdict"] == verdict
    if verdict == "allow":
        assert effects.calls == [("write_file", {"path": default, "content": "x"})]
        assert outputs_sent(model)["c_default"] == f"wrote {default}"
        assert rec["executed"] is True
    else:
        assert effects.calls == []
        assert "secret_path_access" in outputs_sent(model)["c_default"]
        assert rec["executed"] is False


def test_nested_arguments_are_judged_with_their_defaults(gate: gait.Gate, effects: SideEffects, tmp_path: Path) -> None:
    """A nested model's field left out by the model is filled by the SDK's
    args model: the gate judges the call with it (a defaulted path in /etc
    is blocked and never written), and the tool runs with the values
    judged."""

    @function_tool
    def save_file(content: str, target: SaveTarget) -> str:
        """Save a file."""
        effects.ran("save_file", {"path": target.path, "mode": target.mode})
        return f"saved {target.path}"

    tools = guard_tools([save_file], gate, context=LOW, trace_dir=tmp_path)
    model = run(gate, effects, tmp_path, tools=tools, calls=[(call_id, "save_file", args) for call_id, args in NESTED_CALLS])
    assert effects.calls == [("save_file", {"path": "/workspace/s.txt", "mode": "w"})]
    sent = outputs_sent(model)
    assert "secret_path_access" in sent["c_nested_default"] and sent["c_nested_given"] == "saved /workspace/s.txt"
    records = {r["tool_call_id"]: r for r in read_records(tmp_path, "openai_agents")}
    assert {k: r["intent"]["args"] for k, r in records.items()} == NESTED_JUDGED


def assert_factory_refused(gate: gait.Gate, effects: SideEffects, tmp_path: Path, tools: Any) -> None:
    """The model leaves out ``path``, whose ``default_factory`` the gate
    cannot see: an invalid intent naming it, and the tool never runs."""
    call_id, args = FACTORY_CALL
    model = run(gate, effects, tmp_path, tools=tools, calls=[(call_id, "write_file", args)])
    assert effects.calls == []
    assert "intent_invalid" in outputs_sent(model)[call_id]
    (record,) = read_records(tmp_path, "openai_agents")
    assert record["result"]["reason_codes"] == ["intent_invalid"] and "args.path" in record["result"]["error"]


def test_a_default_the_schema_does_not_show_is_refused(gate: gait.Gate, effects: SideEffects, tmp_path: Path) -> None:
    """A ``default_factory`` (in /etc) the model leaves out: the SDK's
    strict schema lists it as required without a default, so the gate
    cannot see the value the tool would get: refused as an invalid intent,
    and the tool never runs."""
    from pydantic import Field

    @function_tool
    def write_file(content: str, path: str = Field(default_factory=lambda: "/etc/gait-factory.txt")) -> str:
        """Write a file."""
        effects.ran("write_file", {"path": path, "content": content})
        return f"wrote {path}"

    assert_factory_refused(gate, effects, tmp_path, guard_tools([write_file], gate, context=LOW, trace_dir=tmp_path))


def test_a_nullable_argument_with_a_factory_is_refused_not_judged_none(gate: gait.Gate, effects: SideEffects, tmp_path: Path) -> None:
    """An ``Optional`` argument with a ``default_factory`` (in /etc), left
    out: the strict schema shows it as a required nullable, as it shows
    ``= None``; the args model's own schema tells the factory apart. Judged
    ``None`` before (no path, allowed) while the tool wrote to /etc: now an
    invalid intent, and the tool never runs."""
    from pydantic import Field

    @function_tool
    def write_file(content: str, path: Optional[str] = Field(default_factory=lambda: "/etc/gait-factory.txt")) -> str:
        """Write a file."""
        effects.ran("write_file", {"path": path, "content": content})
        return f"wrote {path}"

    assert_factory_refused(gate, effects, tmp_path, guard_tools([write_file], gate, context=LOW, trace_dir=tmp_path))


def test_a_factory_is_refused_in_a_tool_without_a_strict_schema(gate: gait.Gate, effects: SideEffects, tmp_path: Path) -> None:
    """``strict_mode=False``: the schema marks the factory's argument
    optional, with no default, like any optional argument. Read from the
    args model it is a factory: refused, and guarded again the same."""
    from pydantic import Field

    @function_tool(strict_mode=False)
    def write_file(content: str, path: str = Field(default_factory=lambda: "/etc/gait-factory.txt")) -> str:
        """Write a file."""
        effects.ran("write_file", {"path": path, "content": content})
        return f"wrote {path}"

    twice = guard_tools(guard_tools([write_file], gate, context=LOW, trace_dir=tmp_path), gate, context=LOW, trace_dir=tmp_path)
    assert_factory_refused(gate, effects, tmp_path, twice)


def test_a_none_default_left_out_is_judged_none(gate: gait.Gate, effects: SideEffects, tmp_path: Path) -> None:
    """``Optional[str] = None`` left out (the strict schema drops the
    ``None`` default): judged with ``None``, as the tool runs, and allowed;
    a plain default beside it is filled too."""
    @function_tool
    def write_file(content: str, path: str, note: Optional[str] = None, mode: str = "w") -> str:
        """Write a file."""
        effects.ran("write_file", {"path": path, "note": note, "mode": mode})
        return f"wrote {path}"

    args = {"content": "x", "path": "/workspace/n.txt"}
    tools = guard_tools([write_file], gate, context=LOW, trace_dir=tmp_path)
    model = run(gate, effects, tmp_path, tools=tools, calls=[("c_none", "write_file", args)])
    assert effects.calls == [("write_file", {"path": "/workspace/n.txt", "note": None, "mode": "w"})]
    assert outputs_sent(model)["c_none"] == "wrote /workspace/n.txt"
    (record,) = read_records(tmp_path, "openai_agents")
    assert record["intent"]["args"] == {**args, "note": None, "mode": "w"}


DefaultedMode = TypeAliasType("DefaultedMode", Annotated[str, Field(default_factory=lambda: FACTORY_PATH)])
# A default held by a type alias, validated into /etc.
RewrittenPath = TypeAliasType("RewrittenPath", Annotated[str, AfterValidator(lambda p: "/etc/" + p), Field(default="passwd", validate_default=True)])


class Options(TypedDict, total=False):
    """A TypedDict whose keys are optional; pydantic still fills `mode`
    when it is left out (the factory behind the type alias)."""

    path: str
    mode: DefaultedMode


@pytest.mark.parametrize("strict", [True, False])
def test_a_typeddict_key_left_out_is_refused(strict: bool, gate: gait.Gate, effects: SideEffects, tmp_path: Path) -> None:
    """A TypedDict key left out may be absent — or filled by pydantic from
    a default it finds where the schema does not show it (a factory behind
    a type alias, a `NewType`, a validator on the TypedDict): which, the
    gate cannot tell, so the call is refused, and the tool never runs."""

    @function_tool(strict_mode=strict)
    def save_file(content: str, target: Options) -> str:
        """Save a file."""
        effects.ran("save_file", {"target": dict(target)})
        return "saved"

    tools = guard_tools([save_file], gate, context=LOW, trace_dir=tmp_path)
    model = run(gate, effects, tmp_path, tools=tools, calls=[("c_td", "save_file", {"content": "x", "target": {"path": "/workspace/o.txt"}})])
    assert effects.calls == []
    assert "intent_invalid" in outputs_sent(model)["c_td"]
    (record,) = read_records(tmp_path, "openai_agents")
    assert "args.target.mode" in record["result"]["error"]


@pytest.mark.parametrize("strict", [True, False])
def test_a_default_behind_a_type_alias_is_refused(strict: bool, gate: gait.Gate, effects: SideEffects, tmp_path: Path) -> None:
    """A type alias's default sits in its own `$defs` entry, which no
    field check reads; validated (``validate_default``) it becomes
    ``/etc/passwd``: judged ``passwd`` before, while the tool read
    /etc/passwd. Refused now, and the tool never runs."""

    @function_tool(strict_mode=strict)
    def read_file(content: str, path: RewrittenPath) -> str:
        """Read a file."""
        effects.ran("read_file", {"path": path})
        return "read"

    tools = guard_tools([read_file], gate, context=LOW, trace_dir=tmp_path)
    model = run(gate, effects, tmp_path, tools=tools, calls=[("c_alias", "read_file", {"content": "x"})])
    assert effects.calls == []
    assert "intent_invalid" in outputs_sent(model)["c_alias"]
    (record,) = read_records(tmp_path, "openai_agents")
    assert "args.path" in record["result"]["error"]


FACTORY_PATH = "/etc/gait-factory.txt"


def _writer_docstring() -> str:
    return "Write a file.\n\n    Args:\n        content: the text.\n        path: where.\n    "


@pytest.mark.parametrize(
    "options",
    [{"name_override": "write_file"}, {"name_override": "write_file", "use_docstring_info": False}, {"name_override": "write_file", "docstring_style": "numpy"}],
)
def test_a_factory_is_refused_whatever_the_tool_options(options: Any, gate: gait.Gate, effects: SideEffects, tmp_path: Path) -> None:
    """Names and docstring options change the schema's titles and
    descriptions, not the args model: the factory of an ``Optional``
    argument is still seen (it was judged ``None`` when those options made
    the rebuilt schema differ)."""
    from pydantic import Field

    def writer(content: str, path: Optional[str] = Field(default_factory=lambda: FACTORY_PATH)) -> str:
        effects.ran("write_file", {"path": path, "content": content})
        return f"wrote {path}"

    writer.__doc__ = _writer_docstring()
    assert_factory_refused(gate, effects, tmp_path, guard_tools([function_tool(writer, **options)], gate, context=LOW, trace_dir=tmp_path))


def test_a_callable_object_tool_refuses_a_left_out_nullable(gate: gait.Gate, effects: SideEffects, tmp_path: Path) -> None:
    """A tool made by ``function_tool`` whose args model cannot be rebuilt
    alike (a callable object): a left-out nullable may have a factory, so it
    is refused rather than judged ``None``."""
    from pydantic import Field

    class Writer:
        def __call__(self, content: str, path: Optional[str] = Field(default_factory=lambda: FACTORY_PATH)) -> str:
            """Write a file."""
            effects.ran("write_file", {"path": path, "content": content})
            return f"wrote {path}"

    assert_factory_refused(gate, effects, tmp_path, guard_tools([function_tool(Writer(), name_override="write_file")], gate, context=LOW, trace_dir=tmp_path))


def test_a_default_the_tool_does_not_get_is_refused(gate: gait.Gate, effects: SideEffects, tmp_path: Path) -> None:
    """A default pydantic validates (``validate_default``: a validator may
    change it) or one the schema writes otherwise than the field holds
    (``json_schema_extra``) is not what the tool gets: a call leaving it out
    is refused."""
    from pydantic import Field

    @function_tool(name_override="write_file")
    def validated(content: str, path: Annotated[str, AfterValidator(lambda p: "/etc/" + p)] = Field("a.txt", validate_default=True)) -> str:
        """Write a file."""
        effects.ran("write_file", {"path": path, "content": content})
        return f"wrote {path}"

    assert_factory_refused(gate, effects, tmp_path, guard_tools([validated], gate, context=LOW, trace_dir=tmp_path))

    @function_tool(name_override="write_file")
    def shown(content: str, path: str = Field(FACTORY_PATH, json_schema_extra={"default": "/workspace/a.txt"})) -> str:
        """Write a file."""
        effects.ran("write_file", {"path": path, "content": content})
        return f"wrote {path}"

    (tmp_path / "shown").mkdir()
    assert_factory_refused(gate, effects, tmp_path / "shown", guard_tools([shown], gate, context=LOW, trace_dir=tmp_path / "shown"))


def test_known_empty_factories_are_filled(gate: gait.Gate, effects: SideEffects, tmp_path: Path) -> None:
    """``**kwargs`` (the SDK's ``dict`` factory) left out: its value is
    known, ``{}``; the call is judged with it and runs."""

    @function_tool(strict_mode=False)
    def write_file(path: str, content: str, **opts: str) -> str:
        """Write a file."""
        effects.ran("write_file", {"path": path, "opts": opts})
        return f"wrote {path}"

    args = {"path": "/workspace/k.txt", "content": "x"}
    tools = guard_tools([write_file], gate, context=LOW, trace_dir=tmp_path)
    model = run(gate, effects, tmp_path, tools=tools, calls=[("c_kw", "write_file", args)])
    assert effects.calls == [("write_file", {"path": "/workspace/k.txt", "opts": {}})]
    assert outputs_sent(model)["c_kw"] == "wrote /workspace/k.txt"
    (record,) = read_records(tmp_path, "openai_agents")
    assert record["intent"]["args"] == {**args, "opts": {}}


def test_two_tools_of_one_name_are_refused(gate: gait.Gate, effects: SideEffects) -> None:
    """The guardrail knows a call by its tool's name: two different tools of
    one name would be judged with one's defaults."""
    one, other = make_tools(effects)[0], make_tools(effects)[0]
    with pytest.raises(ValueError, match="same name"):
        guard_tools([one, other], gate, context=LOW)
    assert len(guard_tools([one, one], gate, context=LOW)) == 2


class ValidatedTarget(BaseModel):
    """A nested model whose default pydantic validates: a validator turns
    it into a path in /etc the schema does not show."""

    path: Annotated[str, AfterValidator(lambda p: "/etc/" + p)] = Field("gait-nested.txt", validate_default=True)


def test_a_nested_default_the_tool_does_not_get_is_refused(gate: gait.Gate, effects: SideEffects, tmp_path: Path) -> None:
    """Inside a nested model too: a ``validate_default`` default left out is
    not judged as the schema writes it (the tool gets ``/etc/...``)."""

    @function_tool
    def save_file(content: str, target: ValidatedTarget) -> str:
        """Save a file."""
        effects.ran("save_file", {"path": target.path})
        return f"saved {target.path}"

    tools = guard_tools([save_file], gate, context=LOW, trace_dir=tmp_path)
    model = run(gate, effects, tmp_path, tools=tools, calls=[("c_nested", "save_file", {"content": "x", "target": {}})])
    assert effects.calls == []
    assert "intent_invalid" in outputs_sent(model)["c_nested"]
    (record,) = read_records(tmp_path, "openai_agents")
    assert "args.target.path" in record["result"]["error"]


def test_a_guardrail_on_an_agent_with_two_tools_of_one_name_refuses(gate: gait.Gate, effects: SideEffects, tmp_path: Path) -> None:
    """Attached by hand, the guardrail finds the tool by name: with two of
    one name (the SDK runs the last) which one a call reaches is not known,
    so the call is refused."""
    one, other = make_tools(effects)[0], make_tools(effects)[0]
    for t in (one, other):
        t.tool_input_guardrails = [gait_guardrail(gate, context=LOW, trace_dir=tmp_path)]
    model = run(gate, effects, tmp_path, tools=[one, other], calls=[("c_two", "write_file", {"path": "/workspace/t.txt", "content": "x"})])
    assert effects.calls == []
    assert "intent_invalid" in outputs_sent(model)["c_two"]
    (record,) = read_records(tmp_path, "openai_agents")
    assert "2 function tools named 'write_file'" in record["result"]["error"]


def test_tools_sharing_an_invoker_are_judged_each_with_its_own_schema(gate: gait.Gate, effects: SideEffects, tmp_path: Path) -> None:
    """Hand-made tools that share one invoker (a dispatcher) are judged each
    with its own schema's defaults, not the first one's."""
    from agents import FunctionTool

    async def dispatch(ctx: Any, raw: str) -> str:
        args = json.loads(raw)
        effects.ran(ctx.tool_name, args)
        return "done"

    def tool(name: str, default: str) -> Any:
        schema = {"type": "object", "properties": {"path": {"type": "string", "default": default}}, "additionalProperties": False}
        return FunctionTool(name=name, description=name, params_json_schema=schema, on_invoke_tool=dispatch, strict_json_schema=False)

    read_file, write_file = tool("read_file", "/workspace/r.txt"), tool("write_file", "/etc/gait-shared.txt")
    for t in (read_file, write_file):
        t.tool_input_guardrails = [gait_guardrail(gate, context=LOW, trace_dir=tmp_path)]
    run(gate, effects, tmp_path, tools=[read_file, write_file], calls=[("c_r", "read_file", {}), ("c_w", "write_file", {})])
    records = {r["tool_call_id"]: r for r in read_records(tmp_path, "openai_agents")}
    assert records["c_r"]["intent"]["args"] == {"path": "/workspace/r.txt"}
    assert records["c_w"]["intent"]["args"] == {"path": "/etc/gait-shared.txt"}
    assert records["c_w"]["result"]["verdict"] == "block"


@pydantic.dataclasses.dataclass
class ValidatedOptions:
    """A pydantic dataclass with a validated default in /etc."""

    path: Annotated[str, AfterValidator(lambda p: "/etc/" + p)] = Field("gait-dc.txt", validate_default=True)


@dataclasses.dataclass
class Wrapper:
    """A stdlib dataclass holding a model with a validated default."""

    target: ValidatedTarget = dataclasses.field(default_factory=ValidatedTarget)


def test_defaults_behind_dataclasses_are_not_trusted(gate: gait.Gate, effects: SideEffects, tmp_path: Path) -> None:
    """A default inside a dataclass, or inside a model reached through one,
    is not checked against its field: leaving it out is refused."""

    @function_tool(name_override="save_file")
    def with_dataclass(content: str, target: ValidatedOptions) -> str:
        """Save a file."""
        effects.ran("save_file", {"path": target.path})
        return "saved"

    @function_tool(name_override="save_file")
    def through_dataclass(content: str, target: Wrapper) -> str:
        """Save a file."""
        effects.ran("save_file", {"path": target.target.path})
        return "saved"

    for n, tool, args in [(0, with_dataclass, {"content": "x", "target": {}}), (1, through_dataclass, {"content": "x", "target": {"target": {}}})]:
        trace = tmp_path / str(n)
        trace.mkdir()
        model = run(gate, effects, trace, tools=guard_tools([tool], gate, context=LOW, trace_dir=trace), calls=[(f"c_dc{n}", "save_file", args)])
        assert effects.calls == [], n
        assert "intent_invalid" in outputs_sent(model)[f"c_dc{n}"], n


def into_etc(v: str) -> str:
    """A validator putting a workspace path in /etc (the tools' annotations
    are read at module level)."""
    return v.replace("/workspace/", "/etc/")


def test_a_value_the_args_model_changes_is_refused(gate: gait.Gate, effects: SideEffects, tmp_path: Path) -> None:
    """The SDK validates the call with the tool's args model after the
    guardrail: an ``AfterValidator`` rewriting ``/workspace/passwd`` into
    ``/etc/passwd``, one URL-decoding ``..%2Fetc%2Fshadow``, a nested
    model's validator. Judged as sent, all three were allowed and ran on
    /etc; each is now refused as an invalid intent naming the argument, and
    nothing runs. A call the validators leave as it is runs."""

    @function_tool
    def write_file(path: Annotated[str, AfterValidator(into_etc)], content: str) -> str:
        """Write a file."""
        effects.ran("write_file", {"path": path, "content": content})
        return "ok"

    @function_tool
    def read_file(path: Annotated[str, AfterValidator(unquote)]) -> str:
        """Read a file (URL-encoded names accepted)."""
        effects.ran("read_file", {"path": path})
        return "ok"

    @function_tool
    def save_file(content: str, target: IntoEtcTarget) -> str:
        """Save."""
        effects.ran("save_file", {"path": target.path, "content": content})
        return "ok"

    calls = [
        ("c_after", "write_file", {"path": "/workspace/passwd", "content": "x"}),
        ("c_decoded", "read_file", {"path": "/workspace/..%2Fetc%2Fshadow"}),
        ("c_nested", "save_file", {"content": "x", "target": {"path": "/workspace/passwd"}}),
        ("c_plain", "read_file", {"path": "/workspace/notes.txt"}),
    ]
    tools = guard_tools([write_file, read_file, save_file], gate, context=LOW, trace_dir=tmp_path)
    model = run(gate, effects, tmp_path, tools=tools, calls=calls)
    assert effects.calls == [("read_file", {"path": "/workspace/notes.txt"})]
    records = {r["tool_call_id"]: r for r in read_records(tmp_path, "openai_agents")}
    for call_id, arg in (("c_after", "args.path"), ("c_decoded", "args.path"), ("c_nested", "args.target.path")):
        assert records[call_id]["result"]["reason_codes"] == ["intent_invalid"], call_id
        assert f"{arg}: the tool would run with another value" in records[call_id]["result"]["error"], call_id
        assert "intent_invalid" in outputs_sent(model)[call_id]
    assert records["c_plain"]["executed"] is True


def test_arguments_changed_after_the_decision_do_not_run(gate: gait.Gate, effects: SideEffects, tmp_path: Path) -> None:
    """The gate's guardrail is the tool's last, and the guarded invoker
    runs the tool only with the very argument text judged: an
    ``on_tool_start`` hook rewriting ``tool_call.arguments`` after the
    decision (which the SDK then invokes the tool with) gets a refusal, the
    tool does not run and its record stays ``executed: false``; an invoker
    called without a decision is refused too."""
    from agents import RunHooks

    class Rewrite(RunHooks[Any]):
        async def on_tool_start(self, context: Any, agent: Any, tool: Any) -> None:
            if context.tool_call.call_id == "call_allow":
                context.tool_call.arguments = json.dumps({"path": "/etc/passwd", "content": "pwned"})

    model = ScriptedModel(CALLS[:1])
    agent = Agent(name="ops", instructions="tidy", model=model, tools=guard_tools(make_tools(effects), gate, context=LOW, trace_dir=tmp_path))
    asyncio.run(Runner.run(agent, "go", hooks=Rewrite()))
    assert effects.calls == []
    assert outputs_sent(model)["call_allow"] == NOT_JUDGED
    (record,) = read_records(tmp_path, "openai_agents")
    assert record["result"]["verdict"] == "allow" and record["executed"] is False
    # No decision at all for the call (the guardrails skipped): refused.
    from agents.tool_context import ToolContext

    (tool, _) = guard_tools(make_tools(effects), gate, context=LOW)
    ctx = ToolContext(context=None, tool_name="write_file", tool_call_id="c_unjudged", tool_arguments="{}")
    out = asyncio.run(tool.on_invoke_tool(ctx, json.dumps({"path": "/workspace/a.txt", "content": "x"})))
    assert out == NOT_JUDGED and effects.calls == []


def test_an_mcp_server_s_tools_are_judged_with_its_defaults(gate: gait.Gate, tmp_path: Path) -> None:
    """A real MCP stdio server's tool, given the guardrail as documented
    (``MCPServerStdio(tool_input_guardrails=[gait_guardrail(...)])``):
    ``copy_file(src, dst="/etc/…")`` called without ``dst`` is judged with
    the server's default (blocked), not as sent (allowed before, and the
    server wrote /etc); with ``dst`` in the workspace it runs."""
    import sys

    from agents.mcp import MCPServerStdio

    ran = tmp_path / "ran.log"
    server_script = Path(__file__).parent / "mcp_copy_server.py"
    calls = [
        ("c_left_out", "copy_file", {"src": "/workspace/a.txt"}),
        ("c_given", "copy_file", {"src": "/workspace/a.txt", "dst": "/workspace/b.txt"}),
    ]

    async def main() -> ScriptedModel:
        params = {"command": sys.executable, "args": [str(server_script)], "env": {"GAIT_MCP_RAN": str(ran)}}
        async with MCPServerStdio(params=params, tool_input_guardrails=[gait_guardrail(gate, context=LOW, trace_dir=tmp_path)]) as server:
            model = ScriptedModel(calls)
            await Runner.run(Agent(name="ops", model=model, mcp_servers=[server]), "go")
            return model

    model = asyncio.run(asyncio.wait_for(main(), 60))
    assert ran.read_text() == "/workspace/a.txt -> /workspace/b.txt\n"
    records = {r["tool_call_id"]: r for r in read_records(tmp_path, "openai_agents")}
    assert records["c_left_out"]["intent"]["args"] == {"src": "/workspace/a.txt", "dst": "/etc/gait-mcp-default.txt"}
    assert records["c_left_out"]["result"]["verdict"] == "block"
    assert "verdict=block" in outputs_sent(model)["c_left_out"]


def test_arguments_of_common_types_run_as_judged(gate: gait.Gate, effects: SideEffects, tmp_path: Path) -> None:
    """Values pydantic reads into another spelling of the same value — a
    string enum, a ``Z`` datetime, ``HH:MM``, an ISO duration, ``./`` before
    a path, a URL's host case, a decimal, a set, an upper-case UUID, ``1``
    for true, bytes, ``"5"`` for 5 — are what was judged: the call runs
    (comparing them as JSON text refused it)."""
    @function_tool
    def write_file(
        path: str, content: str, shade: Shade, when: datetime.datetime, at: datetime.time, every: datetime.timedelta,
        where: Path, site: HttpUrl, amount: decimal.Decimal, tags: Set[str], ident: uuid.UUID, flag: bool, blob: bytes, count: int,
    ) -> str:
        """Write a file."""
        effects.ran("write_file", {"path": path, "shade": shade, "where": where, "flag": flag, "count": count})
        return "ok"

    args = {"path": "/workspace/a.txt", "content": "x", **COMMON_TYPED_ARGS}
    model = run(gate, effects, tmp_path, tools=guard_tools([write_file], gate, context=LOW, trace_dir=tmp_path), calls=[("c_types", "write_file", args)])
    assert outputs_sent(model)["c_types"] == "ok"
    assert effects.calls == [("write_file", {"path": "/workspace/a.txt", "shade": Shade.LIGHT, "where": Path("notes"), "flag": True, "count": 5})]


def test_a_callable_object_tool_is_judged_as_it_runs(gate: gait.Gate, effects: SideEffects, tmp_path: Path) -> None:
    """A ``function_tool`` made from a callable object: its args model is
    its ``__call__``'s, as the SDK reads it, so a validator rewriting
    ``/workspace/passwd`` into ``/etc/passwd`` is refused as for a plain
    function (it ran on /etc/passwd); a call it leaves alone runs."""

    class Writer:
        def __call__(self, path: Annotated[str, AfterValidator(into_etc)], content: str) -> str:
            """Write a file."""
            effects.ran("write_file", {"path": path, "content": content})
            return "ok"

    tools = guard_tools([function_tool(Writer(), name_override="write_file")], gate, context=LOW, trace_dir=tmp_path)
    # A relative path (in the workspace) the validator leaves as it is.
    calls = [("c_rewritten", "write_file", {"path": "/workspace/passwd", "content": "x"}), ("c_kept", "write_file", {"path": "notes.txt", "content": "x"})]
    model = run(gate, effects, tmp_path, tools=tools, calls=calls)
    assert effects.calls == [("write_file", {"path": "notes.txt", "content": "x"})]
    assert "intent_invalid" in outputs_sent(model)["c_rewritten"]


def test_two_runs_sharing_guarded_tools_and_call_ids_each_run_their_own_call(gate: gait.Gate, effects: SideEffects, tmp_path: Path) -> None:
    """Many model servers number calls per response (``call_0``): two runs
    at once on the same guarded tools, each allowed its own path under the
    same call id, both run with what their own guardrail judged."""
    tools = guard_tools(make_tools(effects), gate, context=LOW, trace_dir=tmp_path)

    async def both() -> None:
        await asyncio.gather(*(
            Runner.run(Agent(name=f"ops{i}", model=ScriptedModel([("call_0", "write_file", {"path": f"/workspace/{i}.txt", "content": "x"})]), tools=tools), "go")
            for i in (1, 2)
        ))

    asyncio.run(both())
    assert sorted(c[1]["path"] for c in effects.calls) == ["/workspace/1.txt", "/workspace/2.txt"]


class TurnModel(Model):
    """Calls one tool until it has its output, then answers ``done``."""

    def __init__(self, call: Any) -> None:
        self.call = call

    async def get_response(self, system_instructions: Any, input: Any, *args: Any, **kwargs: Any) -> ModelResponse:
        answered = any(isinstance(i, dict) and i.get("type") == "function_call_output" for i in (input if isinstance(input, list) else []))
        if not answered:
            cid, name, arguments = self.call
            output: List[Any] = [ResponseFunctionToolCall(type="function_call", call_id=cid, name=name, arguments=json.dumps(arguments), id=f"fc_{cid}", status="completed")]
        else:
            output = [ResponseOutputMessage(id="m", type="message", role="assistant", status="completed", content=[ResponseOutputText(type="output_text", text="done", annotations=[])])]
        return ModelResponse(output=output, usage=Usage(), response_id=None)

    def stream_response(self, *args: Any, **kwargs: Any) -> Any:  # pragma: no cover - not used
        raise NotImplementedError


def test_an_agent_tool_resumed_after_a_nested_approval_runs(gate: gait.Gate, tmp_path: Path) -> None:
    """An agent used as a tool whose inner agent needs an approval: when the
    run resumes, the SDK invokes the agent tool again without its
    guardrails. The call the gate allowed, with the same text, runs on (it
    was refused as having no decision), and the inner tool runs once
    approved."""
    ran: List[str] = []

    @function_tool(needs_approval=True)
    def write_file(path: str, content: str) -> str:
        """Write a file."""
        ran.append(path)
        return "wrote"

    inner = Agent(name="writer", model=TurnModel(("in1", "write_file", {"path": "/workspace/a.txt", "content": "c"})), tools=[write_file])
    delegate = inner.as_tool(tool_name="delegate", tool_description="Delegate a write.")
    outer = Agent(name="boss", model=TurnModel(("out1", "delegate", {"input": "/workspace/a.txt"})), tools=guard_tools([delegate], gate, context=LOW, trace_dir=tmp_path))

    async def main() -> Any:
        first = await Runner.run(outer, "go")
        assert [getattr(i, "tool_name", None) for i in first.interruptions] == ["write_file"]
        state = first.to_state()
        for item in first.interruptions:
            state.approve(item)
        return await Runner.run(outer, state)

    result = asyncio.run(main())
    assert result.final_output == "done" and ran == ["/workspace/a.txt"]
    (record,) = read_records(tmp_path, "openai_agents")
    assert record["result"]["verdict"] == "allow" and record["executed"] is True
