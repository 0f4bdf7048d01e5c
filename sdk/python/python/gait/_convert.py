"""Arguments of a tool call, made into JSON values.

:func:`jsonable` (the framework adapters, whose arguments come from the
model as JSON): only lossless conversions — paths and UUIDs become strings,
dates ISO 8601, enums their value, pydantic models and dataclasses their
fields. Anything else (a set, bytes, an arbitrary object) is left as it is,
and the runtime then judges the intent invalid — a block, never a guess.

:func:`exact_copy` (``guard``, which runs the function with copies of
the very values it decided on): exact JSON types only, and exact
``pathlib`` paths (judged as ``str(path)``); anything else is refused."""

from __future__ import annotations

import copy
import dataclasses
import datetime
import enum
import os
import pathlib
import re
import uuid
from typing import Any, Dict, Optional, Tuple

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
    """A value ``guard`` does not decide on (see :func:`exact_copy`)."""


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


def exact_copy(value: Any, as_json: bool = False, _depth: int = 0) -> Any:
    """A deep copy of a value ``guard`` decides on: only the exact types
    ``dict`` (``str`` keys), ``list``, ``tuple``, ``str``, ``int``,
    ``float``, ``bool`` and ``None`` — no subclass, whose methods could make
    the function see something other than what was decided —, and the
    exact ``pathlib`` path classes. Anything else raises
    :class:`NotExactJSON`.

    With ``as_json=False`` the copy has the same types (``dict``, ``list``,
    ``tuple`` rebuilt; scalars and paths, which are immutable, as they
    are): what the function runs with. With ``as_json=True`` it is the JSON
    value judged: tuples become lists and paths ``str(path)`` (what
    ``os.fspath`` gives for them)."""
    t = type(value)
    if t in _SCALARS:
        return value
    if t in _PATHS:
        return str(value) if as_json else value
    if _depth > _MAX_DEPTH * 2:
        raise NotExactJSON(f"nested deeper than {_MAX_DEPTH * 2} levels")
    if t is dict:
        copied: Dict[str, Any] = {}
        for k, v in value.items():
            if type(k) is not str:
                raise NotExactJSON(f"an object key of type {type(k).__name__} (keys must be exactly str)")
            copied[k] = exact_copy(v, as_json, _depth + 1)
        return copied
    if t is list or (t is tuple and as_json):
        return [exact_copy(v, as_json, _depth + 1) for v in value]
    if t is tuple:
        return tuple(exact_copy(v, as_json, _depth + 1) for v in value)
    raise NotExactJSON(
        f"an argument of type {t.__module__}.{t.__qualname__}: guard decides only on exact JSON types "
        "(dict, list, tuple, str, int, float, bool, None) and pathlib paths"
    )


class AmbiguousDefaults(ValueError):
    """The defaults a call's arguments would receive depend on which branch
    of a union the framework's validation picks (two object schemas of an
    ``anyOf`` / ``oneOf`` that fill in different defaults): the values the
    tool runs with cannot be known before it runs, so the call is refused."""


class UnseenDefault(AmbiguousDefaults):
    """A property the call leaves out gets a value the tool's JSON schema
    does not show (a pydantic ``default_factory``; in a strict schema, one
    that lists every property as required, any property without a
    ``default`` may have one): the value the tool runs with cannot be
    judged, so the call is refused."""


_MAX_REF_HOPS = 32
#: Schema nodes one call's defaults may cost (a recursive untagged union
#: nested by the model would otherwise take exponential time).
_MAX_WORK = 20_000


class _Walk:
    """One call's walk: the schema's root, whether pydantic validates with
    the model it was written from, and the work left."""

    __slots__ = ("root", "pydantic", "nullable_none", "work")

    def __init__(self, root: Any, pydantic: bool, nullable_none: bool = True) -> None:
        self.root = root
        self.pydantic = pydantic
        self.nullable_none = nullable_none
        self.work = _MAX_WORK

    def spend(self, where: str) -> None:
        self.work -= 1
        if self.work < 0:
            raise AmbiguousDefaults(f"{where}: the schema's defaults cost too much to work out (a deeply nested union)")


def _resolve(schema: Any, root: Any) -> Any:
    """``schema`` with its local ``$ref`` (``#/...``, a JSON pointer into
    ``root``) followed; None for a reference that is not a local pointer or
    does not resolve (no defaults are known there)."""
    for _ in range(_MAX_REF_HOPS):
        if not isinstance(schema, dict):
            return None
        ref = schema.get("$ref")
        if ref is None:
            return schema
        if not isinstance(ref, str) or not (ref == "#" or ref.startswith("#/")):
            return None
        target: Any = root
        for part in ref[2:].split("/") if ref != "#" else []:
            part = part.replace("~1", "/").replace("~0", "~")
            target = target.get(part) if isinstance(target, dict) else None
        schema = target
    return None


def _branches(schema: Any, walk: _Walk, want: str, where: str, depth: int = 0) -> "list[Any]":
    """The schemas in ``schema`` (through ``$ref``, ``anyOf``, ``oneOf``)
    that describe a value of the JSON type ``want`` (``object``: they have
    ``properties``, ``additionalProperties`` or ``patternProperties``;
    ``array``: ``items`` or ``prefixItems``). An ``allOf`` applies all of
    its parts: it is one branch, merged."""
    walk.spend(where)
    schema = _resolve(schema, walk.root)
    if schema is None or depth > _MAX_REF_HOPS:
        return []
    out: "list[Any]" = []
    keys = ("properties", "additionalProperties", "patternProperties") if want == "object" else ("items", "prefixItems")
    if any(isinstance(schema.get(k), (dict, list)) for k in keys):
        out.append(schema)
    for union in ("anyOf", "oneOf"):
        parts = schema.get(union)
        for part in parts if isinstance(parts, list) else ():
            out.extend(_branches(part, walk, want, where, depth + 1))
    parts = schema.get("allOf")
    if isinstance(parts, list):
        merged: Dict[str, Any] = {}
        for part in parts:
            for branch in _branches(part, walk, want, where, depth + 1):
                for k, v in branch.items():
                    if k == "properties" and isinstance(v, dict):
                        merged.setdefault("properties", {}).update(v)
                    elif k not in merged:
                        merged[k] = v
        if merged:
            out.append(merged)
    return out


def _fits(value: Dict[str, Any], branch: Dict[str, Any], root: Any) -> bool:
    """Whether the object ``value`` sets every property the branch fixes
    (``const`` — a tagged union's tag —, an ``enum``) to exactly an allowed
    value. Only chooses among branches: pydantic coerces (``"1"`` for an
    ``IntEnum``), so a value that fits none is read by every branch."""
    props = branch.get("properties")
    if not isinstance(props, dict):
        return True
    for name, item in value.items():
        prop = _resolve(props.get(name), root)
        if not isinstance(prop, dict):
            continue
        if "const" in prop and (prop["const"] != item or type(prop["const"]) is not type(item)):
            return False
        enum_ = prop.get("enum")
        if isinstance(enum_, list) and not any(e == item and type(e) is type(item) for e in enum_):
            return False
    return True


def _fill(value: Any, schema: Any, walk: _Walk, where: str, depth: int) -> Any:
    if not isinstance(value, (dict, list)):
        return value
    if depth > _MAX_DEPTH * 2:
        raise AmbiguousDefaults(f"{where}: nested deeper than {_MAX_DEPTH * 2} levels")
    want = "object" if isinstance(value, dict) else "array"
    branches = _branches(schema, walk, want, where)
    if isinstance(value, dict) and len(branches) > 1:
        fitting = [b for b in branches if _fits(value, b, walk.root)]
        branches = fitting or branches
    results: "list[Any]" = []
    for branch in branches:
        if isinstance(value, dict):
            filled = _fill_object(value, branch, walk, where, depth)
        else:
            filled = _fill_array(value, branch, walk, where, depth)
        if not any(filled == r for r in results):
            results.append(filled)
    if not results:
        return value
    if len(results) > 1:
        raise AmbiguousDefaults(
            f"{where}: the defaults filled in depend on which of {len(branches)} schemas of a union the value is read as"
        )
    return results[0]


def _nullable(prop: Any, root: Any) -> bool:
    """Whether a property's schema admits ``null`` (``Optional[X]``)."""
    prop = _resolve(prop, root)
    if not isinstance(prop, dict):
        return False
    t = prop.get("type")
    if t == "null" or (isinstance(t, list) and "null" in t):
        return True
    parts = prop.get("anyOf")
    return isinstance(parts, list) and any(_nullable(p, root) for p in parts[:_MAX_REF_HOPS])


def _sub_schema(name: str, props: Dict[str, Any], schema: Dict[str, Any], where: str) -> Any:
    """The schema a member ``name`` of an object is read by: its property,
    else the first ``patternProperties`` pattern it matches, else
    ``additionalProperties`` (None: no schema)."""
    if name in props:
        return props[name]
    patterns = schema.get("patternProperties")
    if isinstance(patterns, dict):
        for pattern, sub in patterns.items():
            try:
                if re.search(pattern, name):
                    return sub
            except re.error:
                raise AmbiguousDefaults(f"{where}.{name}: a property pattern the gate cannot read ({pattern!r})") from None
    extra = schema.get("additionalProperties")
    return extra if isinstance(extra, dict) else None


def _fill_object(value: Dict[str, Any], schema: Dict[str, Any], walk: _Walk, where: str, depth: int) -> Any:
    props = schema.get("properties")
    props = props if isinstance(props, dict) else {}
    out: Any = None
    unknown = []
    for name, item in value.items():
        walk.spend(where)
        sub = _sub_schema(name, props, schema, where)
        if sub is None:
            unknown.append(name)
            continue
        filled = _fill(item, sub, walk, f"{where}.{name}", depth + 1)
        if filled is not item:
            out = dict(value) if out is None else out
            out[name] = filled
    required = schema.get("required")
    required = set(r for r in required if isinstance(r, str)) if isinstance(required, list) else set()
    # A strict schema (the OpenAI Agents SDK's) lists every property as
    # required, defaulted ones too: there `required` says nothing.
    strict = schema.get("additionalProperties") is False and bool(props) and required >= set(props)
    for name, prop in props.items():
        if not isinstance(name, str) or name in value:
            continue
        if not (isinstance(prop, dict) and "default" in prop):
            # A default beside a $ref (pydantic writes one there) wins.
            prop = _resolve(prop, walk.root)
        if isinstance(prop, dict) and "default" in prop:
            default: Any = prop["default"]
        elif strict and walk.nullable_none and _nullable(prop, walk.root):
            # The SDK's strict schema drops a `None` default.
            default = None
        elif strict or (walk.pydantic and name not in required):
            # In a strict schema, nothing tells a default_factory from a
            # required property; in pydantic's, a property neither
            # required nor defaulted has one. (A hand-written schema's
            # optional property without a default is simply absent.)
            raise UnseenDefault(
                f"{where}.{name}: left out, and the tool fills it with a value its schema does not show "
                "(a default_factory, or a default the gate cannot check): send it explicitly"
            )
        else:
            continue
        out = dict(value) if out is None else out
        # Not filled further: pydantic does not validate a default.
        out[name] = copy.deepcopy(default)
    if unknown and (walk.pydantic or strict) and schema.get("additionalProperties") is not True:
        # pydantic drops a member its schema does not name — unless it is
        # the field name behind a property's alias (`populate_by_name`):
        # then the tool gets it, where the gate judged the alias (its
        # default, or nothing). Which, the schema does not tell.
        raise AmbiguousDefaults(
            f"{where}.{unknown[0]}: not a property of the tool's schema (the tool may read it under another "
            "name): send the schema's names"
        )
    return value if out is None else out


def _fill_array(value: "list[Any]", schema: Dict[str, Any], walk: _Walk, where: str, depth: int) -> Any:
    prefix = schema.get("prefixItems")
    prefix = prefix if isinstance(prefix, list) else []
    items = schema.get("items")
    out: Any = None
    for i, item in enumerate(value):
        sub = prefix[i] if i < len(prefix) else items
        filled = _fill(item, sub, walk, f"{where}[{i}]", depth + 1)
        if filled is not item:
            out = list(value) if out is None else out
            out[i] = filled
    return value if out is None else out


def with_schema_defaults(args: Any, schema: Any, pydantic: bool = False, nullable_none: bool = True) -> Any:
    """``args`` (the model's arguments of a tool call) with the defaults of
    the tool's JSON schema (``schema``: its object schema, with
    ``properties``) filled in wherever the call leaves a property out — at
    the top and inside the objects and arrays it sends (nested models,
    through local ``$ref``, ``items``, ``additionalProperties``, ``allOf``
    and the one ``anyOf`` / ``oneOf`` branch the value fits) — what the
    framework's validation gives the tool, so that the gate judges the
    values the tool runs with. The defaults are copied from the JSON schema
    (JSON values already); a default itself is not filled further (pydantic
    does not validate defaults). Returns ``args`` itself when nothing is
    missing; a default the schema does not show (a ``default_factory``, a
    value pydantic cannot write as JSON) cannot be judged: a call leaving
    such a property out raises :class:`UnseenDefault` when ``pydantic``
    (the framework validates with the pydantic model the schema was written
    from, where a property neither required nor defaulted has a
    ``default_factory``), and always in a strict schema (every property
    required, no others allowed: the OpenAI Agents SDK's), where such a
    property may have one. Raises
    :class:`AmbiguousDefaults` when the defaults depend on which branch of
    a union validation picks. In a strict schema a nullable property left
    out is judged ``None`` (the OpenAI Agents SDK drops ``None`` defaults
    from its strict schemas), unless ``nullable_none`` is false: then it is
    unseen too (it may have a factory)."""
    if not isinstance(args, dict) or not isinstance(schema, dict):
        return args
    return _fill(args, schema, _Walk(schema, pydantic, nullable_none), "args", 0)


def schema_args(
    args: Any, schema: Any, pydantic: bool = False, nullable_none: bool = True
) -> "Tuple[Any, Optional[str]]":
    """The arguments a framework's tool receives (:func:`with_schema_defaults`)
    and, when they cannot be known before it runs, why (the error of the
    invalid-intent decision that refuses the call; None otherwise)."""
    try:
        return with_schema_defaults(args, schema, pydantic, nullable_none), None
    except AmbiguousDefaults as e:
        return args, str(e)
