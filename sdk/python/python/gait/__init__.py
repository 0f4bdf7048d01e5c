"""Gait's policy gate for Python agents.

    import gait

    gate = gait.Gate.load("policy.gaitb", trust=["release.pub"])
    decision = gate.evaluate({"tool_name": "write_file", "args": {"path": "/workspace/a"},
                              "context": {"risk_class": "low"}})

    @gate.guard("write_file", context=gait.Context(identity="bot", workspace="/workspace"))
    def write_file(path: str, content: str) -> None: ...

Every decision is the runtime's (``gait-run eval``'s result, byte for byte
in-process). Adapters: ``gait.langchain``, ``gait.openai_agents``,
``gait.autogen`` (imported on demand, each needs its framework).
"""

from ._context import Context, Skill, intent_for
from ._decision import Decision
from ._errors import ApprovalRequired, Blocked, GaitError, GateUnavailable, NotAllowed
from ._gate import Gate, refusal
from ._trace import write_record

__all__ = [
    "ApprovalRequired",
    "Blocked",
    "Context",
    "Decision",
    "GaitError",
    "Gate",
    "GateUnavailable",
    "NotAllowed",
    "Skill",
    "intent_for",
    "refusal",
    "write_record",
]
