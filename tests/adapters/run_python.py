"""The parity harness's runner for the Python adapters (tests/adapters/README.md).

    python run_python.py FRAMEWORK JOB.json OUT.json

FRAMEWORK is `langchain`, `openai_agents`, `autogen` (target/adapters/venv)
or `autogpt` (target/adapters/venv-forge). For each scenario of the job it
builds the gate the scenario asks for, then runs ONE tool call through the
framework's own agent machinery with the adapter in place — no wrapper mode:

  langchain      create_agent + GaitMiddleware, model GenericFakeChatModel
  openai_agents  Agent + Runner + guard_tools, a scripted agents Model
  autogen        AssistantAgent + GatedWorkbench, ReplayChatCompletionClient
  autogpt        ForgeAgent (AgentDB on SQLite, LocalWorkspace) whose
                 abilities are GatedActionRegister; the scripted step is
                 run_action(task_id, tool, **args), as an agent loop calls it

The tools are real: each writes files in the scenario's workspace (paths
resolved as AutoGPT Forge does: one leading "/" dropped, joined to the
workspace) and appends one line per run to the scenario's effects log. In
forge, write_file is forge's own ability and the workspace is a forge
LocalWorkspace that logs its writes; copy_file and run_command are
registered with forge's @action decorator. run_command never executes
anything: it logs the command line.

The runner reports what the framework showed (what the model was told, or
the exception) in OUT.json; the harness (parity.py) checks the files, the
effects logs and the decision records itself.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional

import gait

FRAMEWORK = sys.argv[1]
JOB = json.loads(Path(sys.argv[2]).read_text())
OUT = Path(sys.argv[3])


# -- the tools' side effects (shared by every framework) ----------------------


def resolve(workspace: str, path: Any) -> Path:
    """Where a tool writes `path`: as forge's LocalWorkspace does (one
    leading "/" dropped, joined to the workspace), without resolving `..`
    (the gate decided on exactly this path)."""
    p = str(path)
    p = p[1:] if p.startswith("/") else p
    return Path(workspace) / p


def log_effect(scenario: Dict[str, Any], tool: str, target: str) -> None:
    with open(scenario["effects_log"], "a", encoding="utf-8") as f:
        f.write(json.dumps({"tool": tool, "target": target}, sort_keys=True) + "\n")


def write(scenario: Dict[str, Any], tool: str, path: Any, data: Any) -> str:
    target = resolve(scenario["workspace"], path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data if isinstance(data, bytes) else str(data).encode())
    log_effect(scenario, tool, str(target))
    return f"wrote {path}"


def make_functions(scenario: Dict[str, Any]) -> Dict[str, Callable[..., str]]:
    """The harness's four tools as plain functions (typed, documented: the
    frameworks build their schemas from them)."""

    def write_file(file_path: str, data: str) -> str:
        """Write data to a file in the task's workspace."""
        return write(scenario, "write_file", file_path, data)

    def read_file(file_path: str) -> str:
        """Read a file in the task's workspace."""
        return resolve(scenario["workspace"], file_path).read_text()

    def copy_file(source: str, destination: str) -> str:
        """Copy a file within the task's workspace."""
        data = resolve(scenario["workspace"], source).read_bytes()
        return write(scenario, "copy_file", destination, data)

    def run_command(command: str) -> str:
        """Run a shell command (the harness only logs it)."""
        return write(scenario, "run_command", "commands.log", command)

    return {f.__name__: f for f in (write_file, read_file, copy_file, run_command)}


# -- gates --------------------------------------------------------------------


def make_gate(spec: Dict[str, Any], report: Dict[str, Any]) -> gait.Gate:
    mode = spec["mode"]
    if mode == "bundle":
        return gait.Gate.load(spec["bundle"], trust=spec["trust"], decision_timeout_ms=spec.get("decision_timeout_ms"))
    if mode == "tampered_bundle":
        # The gate starts on a good copy (verified at construction), then the
        # copy is overwritten with the tampered bytes: every decision from now
        # on must be refused, inside the adapter, with the bundle's code.
        copy = Path(spec["bundle"])
        shutil.copyfile(spec["good"], copy)
        gate = gait.Gate.subprocess(copy, trust=spec["trust"], gait_run=spec["gait_run"])
        shutil.copyfile(spec["tampered"], copy)
        # Loading the tampered bundle is refused outright, with the same code.
        try:
            gait.Gate.load(copy, trust=spec["trust"])
            report["load_error_code"] = None
        except gait.GateUnavailable as e:
            report["load_error_code"] = e.code
        return gate
    if mode in ("sidecar_down", "sidecar_silent"):
        return gait.Gate.sidecar(spec["url"], timeout=float(spec["timeout_s"]))
    raise SystemExit(f"unknown gate mode {mode!r}")


def context_of(scenario: Dict[str, Any], with_workspace: bool = True) -> gait.Context:
    c = scenario["context"]
    return gait.Context(
        identity=c.get("identity"),
        workspace=scenario["workspace"] if with_workspace else None,
        risk_class=c.get("risk_class"),
        session_id=c.get("session_id"),
        skill=scenario.get("skill"),
    )


# -- frameworks ---------------------------------------------------------------


def run_langchain(scenario: Dict[str, Any], gate: gait.Gate, report: Dict[str, Any]) -> None:
    from langchain.agents import create_agent
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
    from langchain_core.messages import AIMessage, ToolMessage
    from langchain_core.tools import tool

    from gait.langchain import GaitMiddleware

    class Scripted(GenericFakeChatModel):
        def bind_tools(self, tools: Any, **kw: Any) -> "Scripted":
            return self

    call = {"name": scenario["tool"], "args": scenario["args"], "id": scenario["tool_call_id"]}
    model = Scripted(messages=iter([AIMessage(content="", tool_calls=[call]), AIMessage(content="done")]))
    tools = [tool(f) for f in make_functions(scenario).values()]
    agent = create_agent(model, tools=tools, middleware=[GaitMiddleware(gate, context=context_of(scenario), trace_dir=JOB["trace_dir"])])
    out = agent.invoke({"messages": [{"role": "user", "content": scenario["summary"]}]})
    msgs = [m for m in out["messages"] if isinstance(m, ToolMessage) and m.tool_call_id == scenario["tool_call_id"]]
    report["record_id"] = scenario["tool_call_id"]
    report["model_saw"] = [str(m.content) for m in msgs]
    report["tool_status"] = [m.status for m in msgs]
    report["final"] = str(out["messages"][-1].content)


def run_openai_agents(scenario: Dict[str, Any], gate: gait.Gate, report: Dict[str, Any]) -> None:
    from agents import Agent, Runner, function_tool, set_tracing_disabled
    from agents.items import ModelResponse, ToolCallOutputItem
    from agents.models.interface import Model
    from agents.usage import Usage
    from openai.types.responses import ResponseFunctionToolCall, ResponseOutputMessage, ResponseOutputText

    from gait.openai_agents import guard_tools

    set_tracing_disabled(True)
    cid = scenario["tool_call_id"]

    class Scripted(Model):
        def __init__(self) -> None:
            self.turns = 0

        async def get_response(self, *args: Any, **kwargs: Any) -> ModelResponse:
            self.turns += 1
            if self.turns == 1:
                output: List[Any] = [
                    ResponseFunctionToolCall(
                        type="function_call", call_id=cid, name=scenario["tool"], arguments=json.dumps(scenario["args"]), id=f"fc_{cid}", status="completed"
                    )
                ]
            else:
                output = [
                    ResponseOutputMessage(
                        id="msg_1", type="message", role="assistant", status="completed",
                        content=[ResponseOutputText(type="output_text", text="done", annotations=[])],
                    )
                ]
            return ModelResponse(output=output, usage=Usage(), response_id=None)

        def stream_response(self, *args: Any, **kwargs: Any) -> Any:
            raise NotImplementedError

    tools = guard_tools([function_tool(f) for f in make_functions(scenario).values()], gate, context=context_of(scenario), trace_dir=JOB["trace_dir"])
    agent = Agent(name="parity", model=Scripted(), tools=tools)
    result = asyncio.run(Runner.run(agent, scenario["summary"]))
    outputs = [item for item in result.new_items if isinstance(item, ToolCallOutputItem)]
    report["record_id"] = cid
    report["model_saw"] = [str(item.output) for item in outputs]
    report["final"] = str(result.final_output)


def run_autogen(scenario: Dict[str, Any], gate: gait.Gate, report: Dict[str, Any]) -> None:
    from autogen_agentchat.agents import AssistantAgent
    from autogen_agentchat.messages import ToolCallExecutionEvent
    from autogen_core import FunctionCall
    from autogen_core.models import CreateResult, ModelInfo, RequestUsage
    from autogen_core.tools import FunctionTool
    from autogen_ext.models.replay import ReplayChatCompletionClient

    from gait.autogen import GatedWorkbench

    cid = scenario["tool_call_id"]
    call = FunctionCall(id=cid, name=scenario["tool"], arguments=json.dumps(scenario["args"]))
    client = ReplayChatCompletionClient(
        [CreateResult(finish_reason="function_calls", content=[call], usage=RequestUsage(0, 0), cached=False), "done"],
        model_info=ModelInfo(vision=False, function_calling=True, json_output=False, family="unknown", structured_output=False),
    )
    tools = [FunctionTool(f, description=f.__doc__ or f.__name__) for f in make_functions(scenario).values()]
    agent = AssistantAgent(
        "parity", model_client=client, workbench=GatedWorkbench(tools, gate, context=context_of(scenario), trace_dir=JOB["trace_dir"]), reflect_on_tool_use=True
    )
    result = asyncio.run(agent.run(task=scenario["summary"]))
    seen: List[str] = []
    errors: List[bool] = []
    for m in result.messages:
        if isinstance(m, ToolCallExecutionEvent):
            for r in m.content:
                if r.call_id == cid:
                    seen.append(str(r.content))
                    errors.append(bool(r.is_error))
    report["record_id"] = cid
    report["model_saw"] = seen
    report["tool_is_error"] = errors
    report["final"] = str(result.messages[-1].content)


def run_autogpt(scenario: Dict[str, Any], gate: gait.Gate, report: Dict[str, Any]) -> None:
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    from forge.actions import action
    from forge.agent import ForgeAgent
    from forge.sdk import AgentDB, LocalWorkspace

    from gait.autogpt import GatedActionRegister

    class LoggingWorkspace(LocalWorkspace):  # type: ignore[misc]
        """Forge's LocalWorkspace; every write is logged as a side effect."""

        def write(self, task_id: str, path: str, data: bytes) -> None:
            super().write(task_id, path, data)
            log_effect(scenario, scenario["tool"], str(self._resolve_path(task_id, path)))

    @action(
        name="copy_file",
        description="Copy a file within the task's workspace",
        parameters=[
            {"name": "source", "description": "the file to copy", "type": "string", "required": True},
            {"name": "destination", "description": "where to", "type": "string", "required": True},
        ],
        output_type="None",
    )
    async def copy_file(agent: Any, task_id: str, source: str, destination: str) -> None:
        agent.workspace.write(task_id=task_id, path=destination, data=agent.workspace.read(task_id=task_id, path=source))

    @action(
        name="run_command",
        description="Run a shell command (the harness only logs it)",
        parameters=[{"name": "command", "description": "the command line", "type": "string", "required": True}],
        output_type="None",
    )
    async def run_command(agent: Any, task_id: str, command: str) -> None:
        agent.workspace.write(task_id=task_id, path="commands.log", data=command.encode())

    # The workspace is <base>/<task_id>: the harness names the task's folder.
    ws = Path(scenario["workspace"])
    base, task_id = ws.parent, ws.name
    db_dir = Path(JOB["scratch"]) / scenario["id"]
    db_dir.mkdir(parents=True, exist_ok=True)
    agent = ForgeAgent(AgentDB(f"sqlite:///{db_dir / 'forge.db'}"), LoggingWorkspace(str(base)))
    agent.abilities.abilities["copy_file"] = copy_file.action
    agent.abilities.abilities["run_command"] = run_command.action
    agent.abilities = GatedActionRegister(
        agent, gate, context=context_of(scenario, with_workspace=False), trace_dir=JOB["trace_dir"],
        workspace_args={"copy_file": ["source", "destination"]},
    )

    async def step() -> Any:
        # The scripted step, as an agent loop would take it from the model's
        # command: run_action(task_id, name, **args).
        return await agent.abilities.run_action(task_id, scenario["tool"], **scenario["args"])

    report["record_id"] = f"{task_id}-1"
    try:
        out = asyncio.run(step())
        report["returned"] = repr(out)[:200]
    except gait.GateUnavailable as e:
        report["raised"] = "GateUnavailable"
        report["raised_code"] = e.code
    except gait.NotAllowed as e:
        report["raised"] = type(e).__name__
        report["raised_verdict"] = e.decision.verdict
        report["raised_reason_codes"] = e.decision.reason_codes


RUNNERS = {"langchain": run_langchain, "openai_agents": run_openai_agents, "autogen": run_autogen, "autogpt": run_autogpt}


def main() -> int:
    runner = RUNNERS[FRAMEWORK]
    results: List[Dict[str, Any]] = []
    for scenario in JOB["scenarios"]:
        report: Dict[str, Any] = {"id": scenario["id"]}
        try:
            gate: Optional[gait.Gate] = make_gate(scenario["gate"], report)
        except gait.GateUnavailable as e:
            # A gate that cannot even be built: the agent is never started.
            report["gate_error_code"] = e.code
            gate = None
        if gate is not None:
            try:
                runner(scenario, gate, report)
            except Exception as e:  # noqa: BLE001 - reported, the harness fails the scenario
                report["runner_error"] = f"{type(e).__name__}: {e}"
        results.append(report)
    OUT.write_text(json.dumps({"framework": FRAMEWORK, "gait_version": getattr(gait, "__version__", None), "results": results}, indent=2, sort_keys=True) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
