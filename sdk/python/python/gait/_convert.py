"""Arguments of a framework's tool call, made into JSON values.

Only lossless conversions: paths and UUIDs become strings, dates ISO 8601,
enums their value, pydantic models and dataclasses their fields. Anything
else (a set, bytes, an arbitrary object) is left as it is, and the runtime
then judges the intent invalid — a block, never a guess."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import os
import uuid
from typing import Any

_MAX_DEPTH = 64


def jsonable(value: Any, _depth: int = 0) -> Any:
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if _depth > _MAX_DEPTH:
        return value
    if isinstance(value, dict):
        return {k: jsonable(v, _depth + 1) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v, _depth + 1) for v in value]
    if isinstance(value, os.PathLike):
        p = os.fspath(value)
        return p if isinstance(p, str) else value
    if isinstance(value, enum.Enum):
        return jsonable(value.value, _depth + 1)
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    dump = getattr(value, "model_dump", None)
    if callable(dump) and not isinstance(value, type):
        try:
            return jsonable(dump(mode="json"), _depth + 1)
        except Exception:  # noqa: BLE001 - not a pydantic v2 model after all
            return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return jsonable(dataclasses.asdict(value), _depth + 1)
    return value
