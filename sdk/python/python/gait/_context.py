"""Who asks, where, at what risk, and which skill: the ``context`` and
``skill_provenance`` of an intent."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, Mapping, Optional, Union


@dataclass(frozen=True)
class Skill:
    """Skill provenance (runtime.md §2): which skill makes the call. The
    policy's ``trust``/``pin`` items decide whether it is signed and pinned."""

    name: str
    publisher: str
    source: str
    version: Optional[str] = None
    digest: Optional[str] = None
    signature_key_id: Optional[str] = None

    def to_json(self) -> Dict[str, str]:
        out = {"skill_name": self.name, "publisher": self.publisher, "source": self.source}
        if self.version is not None:
            out["skill_version"] = self.version
        if self.digest is not None:
            out["digest"] = self.digest
        if self.signature_key_id is not None:
            out["signature_key_id"] = self.signature_key_id
        return out


@dataclass(frozen=True)
class Context:
    """The intent's ``context`` (identity, workspace — relative paths are
    judged against it —, risk class, session) and, with ``skill``, its
    ``skill_provenance`` (a :class:`Skill` or the JSON object itself).
    ``extra`` adds fields to ``context`` as they are. A missing risk class
    is judged ``critical`` by the runtime."""

    identity: Optional[str] = None
    workspace: Optional[str] = None
    risk_class: Optional[str] = None
    session_id: Optional[str] = None
    skill: Optional[Union[Skill, Mapping[str, Any]]] = None
    extra: Mapping[str, Any] = field(default_factory=dict)

    def context_json(self) -> Dict[str, Any]:
        out: Dict[str, Any] = dict(self.extra)
        for key in ("identity", "workspace", "risk_class", "session_id"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out

    def skill_json(self) -> Optional[Dict[str, Any]]:
        if self.skill is None:
            return None
        if isinstance(self.skill, Skill):
            return self.skill.to_json()
        return dict(self.skill)

    def merged(self, **fields: Any) -> "Context":
        """A copy where the given fields (those not None) replace these."""
        given = {k: v for k, v in fields.items() if v is not None}
        if not given:
            return self
        values = {k: getattr(self, k) for k in ("identity", "workspace", "risk_class", "session_id", "skill", "extra")}
        values.update(given)
        return Context(**values)


def intent_for(tool_name: str, args: Any, context: Optional[Context]) -> Dict[str, Any]:
    """The intent of one tool call: its name, its arguments (the policy's
    ``map tool`` mappings derive the targets from them), context and skill."""
    intent: Dict[str, Any] = {"tool_name": tool_name, "args": args}
    if context is not None:
        intent["context"] = context.context_json()
        skill = context.skill_json()
        if skill is not None:
            intent["skill_provenance"] = skill
    return intent
