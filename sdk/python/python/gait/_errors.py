"""The exceptions of the gate: a refused call carries its decision; a gate
that cannot decide is never taken for an allow."""

from __future__ import annotations

from typing import TYPE_CHECKING, Optional

if TYPE_CHECKING:
    from ._decision import Decision


class GaitError(Exception):
    """Base class of every exception the package raises on purpose."""


class NotAllowed(GaitError):
    """The gate did not answer ``allow``: the call was not made.

    ``decision`` is the full :class:`gait.Decision`.
    """

    def __init__(self, decision: "Decision", tool_name: Optional[str] = None) -> None:
        self.decision = decision
        self.tool_name = tool_name
        reasons = ", ".join(decision.reason_codes) or "none"
        what = f"{tool_name!r} " if tool_name else ""
        super().__init__(f"gait: {what}not allowed: verdict={decision.verdict} reasons={reasons}")


class Blocked(NotAllowed):
    """The gate answered ``block`` (or ``dry_run``, which never executes)."""


class ApprovalRequired(NotAllowed):
    """The gate answered ``require_approval``; ``decision.approval_request``
    holds what an approver needs."""


class GateUnavailable(GaitError):
    """The gate could not decide: a rejected bundle (``code`` is its stable
    reason, e.g. ``bundle_key_untrusted``), a sidecar that is down or
    refuses the token, a timeout, output that is not a gate result. The
    guarded function is never run."""

    def __init__(self, message: str, code: str = "gate_unavailable") -> None:
        self.code = code
        super().__init__(f"gait: gate unavailable ({code}): {message}")
