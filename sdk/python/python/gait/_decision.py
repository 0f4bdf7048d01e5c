"""The answer of the gate for one intent."""

from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Tuple

VERDICTS = ("allow", "block", "require_approval", "dry_run")


class Decision:
    """One decision.

    ``result`` is the result JSON of ``gait-run eval`` for the same intent (a
    dict, identical key for key); the other fields are read from it.
    ``allowed`` is true only for the verdict ``allow`` (``dry_run`` never
    executes). ``exit_code`` is the exit code ``gait-run eval`` gives (0
    allow, 3 block, 4 require_approval, 6 invalid intent, 1 internal error
    or deadline).
    """

    __slots__ = ("raw", "exit_code", "verdict", "reason_codes", "intent_digest", "_result")

    raw: bytes
    exit_code: int
    verdict: str
    reason_codes: List[str]
    intent_digest: Optional[str]

    def __init__(
        self,
        raw: bytes,
        exit_code: int,
        verdict: str,
        reason_codes: List[str],
        intent_digest: Optional[str],
        result: Optional[Dict[str, Any]] = None,
    ) -> None:
        self.raw = raw
        self.exit_code = exit_code
        self.verdict = verdict
        self.reason_codes = reason_codes
        self.intent_digest = intent_digest
        self._result = result

    @classmethod
    def _native(cls, t: Tuple[bytes, int, str, List[str], Optional[str]]) -> "Decision":
        return cls(t[0], t[1], t[2], t[3], t[4])

    @classmethod
    def _invalid(cls, message: str) -> "Decision":
        """The runtime's own invalid-intent decision (``block``,
        ``intent_invalid``, exit 6) with ``message`` as its error: for a
        call an adapter refuses before any intent text exists."""
        from . import _native

        return cls._native(_native.invalid_intent(message))

    @property
    def allowed(self) -> bool:
        return self.verdict == "allow"

    @property
    def result(self) -> Dict[str, Any]:
        r = self._result
        if r is None:
            r = self._result = json.loads(self.raw)
        return r

    @property
    def violations(self) -> List[str]:
        return list(self.result.get("violations") or [])

    @property
    def matched_rules(self) -> List[str]:
        return list(self.result.get("matched_rules") or [])

    @property
    def policy_digest(self) -> Optional[str]:
        policy = self.result.get("policy")
        return policy.get("digest") if isinstance(policy, dict) else None

    @property
    def approval_request(self) -> Optional[Dict[str, Any]]:
        """For ``require_approval``: the gate's ``approval_request`` object,
        as the result carries it — what an approver must see and sign for
        (``intent_digest``, ``tool_name``, ``policy_digest``,
        ``policy_revision``, ``rules``, ``approvals_required``, allowed
        ``approvers``, ``interactive``, ``approval_ttl_seconds``,
        ``skill_provenance``; see
        docs/approval_runbook.md). ``None`` for any other verdict."""
        if self.verdict != "require_approval":
            return None
        req = self.result.get("approval_request")
        return dict(req) if isinstance(req, dict) else None

    def __repr__(self) -> str:
        return (
            f"Decision(verdict={self.verdict!r}, reason_codes={self.reason_codes!r}, "
            f"intent_digest={self.intent_digest!r})"
        )

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Decision):
            return NotImplemented
        return self.exit_code == other.exit_code and self.result == other.result

    __hash__ = None  # type: ignore[assignment]


def exit_for_verdict(verdict: str) -> int:
    return {"allow": 0, "dry_run": 0, "block": 3, "require_approval": 4}.get(verdict, 1)


def from_result(raw: bytes, result: Any, exit_code: int) -> Decision:
    """A decision from a result another transport returned; raises
    ValueError when it is not a gate result."""
    if not isinstance(result, dict) or result.get("schema_id") != "gait.gate.result":
        raise ValueError("the answer is not a gait.gate.result")
    verdict = result.get("verdict")
    if verdict not in VERDICTS:
        raise ValueError(f"the answer has no known verdict: {verdict!r}")
    codes = result.get("reason_codes")
    if not isinstance(codes, list) or not codes or not all(isinstance(c, str) and c for c in codes):
        raise ValueError("the answer's reason_codes are not a non-empty list of strings")
    if verdict == "require_approval":
        approvals = result.get("required_approvals")
        if not isinstance(approvals, int) or isinstance(approvals, bool) or approvals < 1:
            raise ValueError(f"the answer requires approval without a number of approvals: {approvals!r}")
    digest = result.get("intent_digest")
    return Decision(raw, exit_code, verdict, list(codes), digest if isinstance(digest, str) else None, result)
