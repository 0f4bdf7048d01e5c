"""What a tool is really run with, as the gate reads JSON, and where that
differs from what was judged: shared by the adapters that check a call as
the framework will hand it to the tool (LangChain, OpenAI Agents, AutoGen).
A framework validates a call with the tool's pydantic model after the gate
has decided; a validator, a normalizer or an alias can hand the tool
another value than the one judged. The adapters run the framework's own
validation on a copy, read the result with :func:`plain` and refuse the
call when :func:`first_difference` finds one."""

from __future__ import annotations

import dataclasses
import json
from typing import Any, Dict, Optional

from pydantic import BaseModel

from ._convert import jsonable

MAX_DEPTH = 64


class Unseen(Exception):
    """A value the tool would get that the gate cannot write as JSON."""


def first_difference(judged: Any, got: Any, where: str = "args") -> Optional[str]:
    """Where the judged arguments and the tool's differ (a path such as
    ``args.target.path``), or None. A string judged where the tool gets the
    number or boolean it spells (pydantic's lax coercion: ``"5"`` → ``5``)
    is the same value."""
    if isinstance(judged, dict) and isinstance(got, dict):
        for key in sorted(set(judged) | set(got), key=str):
            if key not in judged or key not in got:
                return f"{where}.{key}"
            diff = first_difference(judged[key], got[key], f"{where}.{key}")
            if diff is not None:
                return diff
        return None
    if isinstance(judged, list) and isinstance(got, list):
        if len(judged) != len(got):
            return where
        for i, (j, g) in enumerate(zip(judged, got)):
            diff = first_difference(j, g, f"{where}[{i}]")
            if diff is not None:
                return diff
        return None
    if isinstance(judged, str) and isinstance(got, (bool, int, float)) and not isinstance(got, str):
        return None if json.dumps(got) == judged else where
    if type(judged) is not type(got) and not (_number(judged) and _number(got)):
        return where
    return None if judged == got else where


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def plain(value: Any, depth: int) -> Any:
    """``value`` as the gate reads JSON: a pydantic model as its fields'
    values (what the function reads on it, whatever ``model_dump`` would
    write) by the names its JSON schema shows, a dataclass as its fields."""
    if depth > MAX_DEPTH:
        raise Unseen("nested too deep")
    if isinstance(value, BaseModel):
        out: Dict[str, Any] = {}
        for name, field in type(value).model_fields.items():
            out[_schema_name(name, field)] = plain(getattr(value, name), depth + 1)
        for key, extra in (value.model_extra or {}).items():
            out[key] = plain(extra, depth + 1)
        return out
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name), depth + 1) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {k: plain(v, depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v, depth + 1) for v in value]
    as_json = jsonable(value)
    if as_json is None or isinstance(as_json, (str, bool, int, float)):
        return as_json
    if isinstance(as_json, (dict, list)):
        return plain(as_json, depth + 1)
    raise Unseen(f"a value of type {type(value).__name__}")


def _schema_name(name: str, field: Any) -> str:
    """The property name pydantic's JSON schema gives a field."""
    for alias in (field.validation_alias, field.alias):
        if isinstance(alias, str):
            return alias
    return name
