"""Arguments of a tool call, made into JSON values.

:func:`jsonable` (the framework adapters, whose arguments come from the
model as JSON): only lossless conversions — paths and UUIDs become strings,
dates ISO 8601, enums their value, pydantic models and dataclasses their
fields. Anything else (a set, bytes, an arbitrary object) is left as it is,
and the runtime then judges the intent invalid — a block, never a guess.

:func:`exact_json` (``guard``, which runs the function with the very
objects it decided on): exact JSON types only, and exact ``pathlib`` paths
as ``str(path)``; anything else is refused."""

from __future__ import annotations

import copy
import dataclasses
import datetime
import enum
import os
import pathlib
import uuid
from typing import Any, Dict

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


class NotExactJSON(TypeError):
    """A value ``guard`` does not decide on (see :func:`exact_json`)."""


_SCALARS = frozenset({str, int, float, bool, type(None)})
_PATHS = frozenset(
    {
        pathlib.PurePath,
        pathlib.PurePosixPath,
        pathlib.PureWindowsPath,
        pathlib.Path,
        pathlib.PosixPath,
        pathlib.WindowsPath,
    }
)


def exact_json(value: Any, _depth: int = 0) -> Any:
    """The value ``guard`` decides on, which is the value the function then
    runs with: only the exact types ``dict`` (``str`` keys), ``list``,
    ``tuple`` (sent as a JSON array), ``str``, ``int``, ``float``, ``bool``
    and ``None`` — no subclass, whose methods could make the function see
    something other than what was decided —, and the exact ``pathlib`` path
    classes, sent as ``str(path)`` (what ``os.fspath`` gives for them).
    Anything else raises :class:`NotExactJSON`. Returns the value itself
    when it holds no path, else a copy with the paths as strings."""
    t = type(value)
    if t in _SCALARS:
        return value
    if _depth > _MAX_DEPTH * 2:
        raise NotExactJSON(f"nested deeper than {_MAX_DEPTH * 2} levels")
    if t is dict:
        out: Any = None
        for k, v in value.items():
            if type(k) is not str:
                raise NotExactJSON(f"an object key of type {type(k).__name__} (keys must be exactly str)")
            c = exact_json(v, _depth + 1)
            if c is not v and out is None:
                out = dict(value)
            if out is not None:
                out[k] = c
        return value if out is None else out
    if t is list or t is tuple:
        items: Any = None
        for i, v in enumerate(value):
            c = exact_json(v, _depth + 1)
            if c is not v and items is None:
                items = list(value)
            if items is not None:
                items[i] = c
        return value if items is None else items
    if t in _PATHS:
        return str(value)
    raise NotExactJSON(
        f"an argument of type {t.__module__}.{t.__qualname__}: guard decides only on exact JSON types "
        "(dict, list, tuple, str, int, float, bool, None) and pathlib paths"
    )


def exact_copy(value: Any, _depth: int = 0) -> Any:
    """A deep copy of a value :func:`exact_json` accepts, of the same
    types (``dict``, ``list``, ``tuple`` rebuilt; scalars and ``pathlib``
    paths, which are immutable, as they are): what ``guard`` runs the
    function with, so that nothing changed in the caller's objects after
    the decision reaches it. Anything else raises :class:`NotExactJSON`."""
    t = type(value)
    if t in _SCALARS or t in _PATHS:
        return value
    if _depth > _MAX_DEPTH * 2:
        raise NotExactJSON(f"nested deeper than {_MAX_DEPTH * 2} levels")
    if t is dict:
        copied: Dict[str, Any] = {}
        for k, v in value.items():
            if type(k) is not str:
                raise NotExactJSON(f"an object key of type {type(k).__name__} (keys must be exactly str)")
            copied[k] = exact_copy(v, _depth + 1)
        return copied
    if t is list:
        return [exact_copy(v, _depth + 1) for v in value]
    if t is tuple:
        return tuple(exact_copy(v, _depth + 1) for v in value)
    raise NotExactJSON(
        f"an argument of type {t.__module__}.{t.__qualname__}: guard decides only on exact JSON types "
        "(dict, list, tuple, str, int, float, bool, None) and pathlib paths"
    )


def with_schema_defaults(args: Any, schema: Any) -> Any:
    """``args`` (the model's arguments of a tool call) with the defaults of
    the tool's JSON schema (``schema``: its object schema, with
    ``properties``) filled in for the parameters the call leaves out — what
    the framework's validation gives the tool — so that the gate judges
    the values the tool runs with. The defaults are copied from the JSON
    schema (JSON values already). Returns ``args`` itself when it is not
    an object, the schema has no defaults, or nothing is missing; a
    default the schema does not show (a ``default_factory``, a value
    pydantic cannot write as JSON) is not filled in."""
    if not isinstance(args, dict) or not isinstance(schema, dict):
        return args
    props = schema.get("properties")
    if not isinstance(props, dict):
        return args
    out = None
    for name, prop in props.items():
        if isinstance(name, str) and name not in args and isinstance(prop, dict) and "default" in prop:
            if out is None:
                out = dict(args)
            out[name] = copy.deepcopy(prop["default"])
    return args if out is None else out
