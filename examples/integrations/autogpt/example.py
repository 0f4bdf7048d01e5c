"""AutoGPT Forge 0.1.4: a `ForgeAgent` whose abilities go through the gate
(`gait.autogpt.GatedActionRegister`).

Forge's agent loop (`execute_step`) is a placeholder that calls no ability,
so this example takes the steps an AutoGPT model would emit — command
payloads `{"command": {"name", "args"}}` — and runs
them through the agent's register, as an agent loop does: forge's own
`write_file` and `read_file` abilities, in a task created by
forge (SQLite `AgentDB`, `LocalWorkspace` in a temporary folder).

    scripts/setup_adapters.sh       # forge's own venv: target/adapters/venv-forge
    target/adapters/venv-forge/bin/python examples/integrations/autogpt/example.py

Decision records: ./gait-out/autogpt/<task_id>-<n>.json (and the payload's
tool call id where the command carries one).
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any, Dict, List, Optional, Tuple

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # forge imports litellm: no download
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from forge.agent import ForgeAgent  # noqa: E402
from forge.sdk import AgentDB, LocalWorkspace, TaskRequestBody  # noqa: E402

import gait  # noqa: E402
from _bundle import build  # noqa: E402
from gait.autogpt import GatedActionRegister  # noqa: E402

HERE = Path(__file__).resolve().parent

# What the model asked for, step by step (AutoGPT's command payload shape),
# and which skill the operator runs the step under (None: the agent itself).
# The skill comes from the operator, never from the payload: a payload is
# model-controlled, and its own "skill_provenance" is ignored (the register
# takes it only with trust_payload_skill=True, and never over the context's).
SUMMARIZER = gait.Skill(name="summarizer", version="0.3.0", source="registry", publisher="globex")
STEPS: List[Tuple[Optional[gait.Skill], Dict[str, Any]]] = [
    (None, {"command": {"name": "write_file", "args": {"file_path": "report.md", "data": "weekly report"}}}),
    (None, {"command": {"name": "write_file", "args": {"file_path": ".ssh/authorized_keys", "data": "ssh-ed25519 AAAA"}}}),
    (None, {"command": {"name": "write_file", "args": {"file_path": "deploy/release.sh", "data": "#!/bin/sh\n"}}}),
    (SUMMARIZER, {"command": {"name": "read_file", "args": {"file_path": "report.md"}}}),
    (None, {"command": {"name": "read_file", "args": {"file_path": "report.md"}}}),
]


async def main() -> None:
    bundle, trust = build(HERE / "policy.gaitpol")
    gate = gait.Gate.load(bundle, trust=[trust])
    top = Path(tempfile.mkdtemp(prefix="gait-autogpt-example-"))
    try:
        agent = ForgeAgent(AgentDB(f"sqlite:///{top / 'forge.db'}"), LocalWorkspace(str(top / "autogpt-example-ws")))
        ctx = gait.Context(identity="autogpt-example", risk_class="high")
        agent.abilities = GatedActionRegister(agent, gate, context=ctx, trace_dir="gait-out")
        # The same abilities, gated with the summarizer skill in the context.
        skilled = GatedActionRegister(agent, gate, context=ctx.merged(skill=SUMMARIZER), trace_dir="gait-out")
        task = await agent.create_task(TaskRequestBody(input="write the weekly report"))
        for n, (skill, step) in enumerate(STEPS, start=1):
            command = step["command"]
            register = skilled if skill is SUMMARIZER else agent.abilities
            outcome: Optional[str]
            try:
                result = await register.run_command(task.task_id, step, tool_call_id=f"{task.task_id}-{n}")
                outcome = f"ran: {result!r}" if command["name"] != "write_file" else "ran"
            except gait.NotAllowed as e:
                outcome = f"not run: verdict={e.decision.verdict} reasons={', '.join(e.decision.reason_codes)}"
            except gait.GateUnavailable as e:
                outcome = f"not run: gate unavailable ({e.code})"
            print(f"step {n} {command['name']} {command['args']}: {outcome}")
        ws = top / "autogpt-example-ws" / task.task_id
        print(f"files written: {sorted(p.relative_to(ws).as_posix() for p in ws.rglob('*') if p.is_file())}")
    finally:
        shutil.rmtree(top, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(main())
