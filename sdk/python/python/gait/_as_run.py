"""What a tool is really run with, as the gate reads JSON, and where that
differs from what was judged: shared by the adapters that check a call as
the framework will hand it to the tool (LangChain, OpenAI Agents, AutoGen).
A framework validates a call with the tool's pydantic model after the gate
has decided; a validator, a normalizer or an alias can hand the tool
another value than the one judged. The adapters run the framework's own
validation on a copy and refuse the call when :func:`first_difference`
finds the result differs from what was judged; :func:`plain` writes what a
tool gets as JSON where that is what is judged."""

from __future__ import annotations

import dataclasses
import enum
import json
import math
from typing import Any, Callable, Dict, List, NamedTuple, Optional

from pydantic import BaseModel, RootModel, TypeAdapter

from ._convert import jsonable

MAX_DEPTH = 64


class Unseen(Exception):
    """A value the tool would get that the gate cannot write as JSON."""


def first_difference(judged: Any, got: Any, where: str = "args", depth: int = 0) -> Optional[str]:
    """Where the judged arguments (JSON) and what the tool gets (the values
    its framework's validation made: models, dataclasses, dates, enums,
    paths …) differ — a path such as ``args.target.path`` — or None.

    Models are read by their fields under the names their JSON schema
    shows (what the function reads on them, whatever ``model_dump`` would
    write) and their extra values; dataclasses by their fields; dicts,
    lists and tuples item by item; an enum member by its value. A value of
    a standard type (exactly: dates and times, decimals, UUIDs, paths,
    URLs, bytes, sets of JSON values, booleans and numbers) is the judged
    one when pydantic's own reading of the judged JSON as that type gives
    an equal value written alike: ``"5"`` as ``5``,
    ``"2024-01-01T00:00:00Z"`` as that ``datetime``, ``"./a.txt"`` as
    ``Path("a.txt")``, ``1`` as ``True``. A validator or normalizer that
    changed the value (``/workspace/passwd`` → ``/etc/passwd``, ``..%2Fetc``
    → ``../etc``) makes them differ, and so does a value of any other type
    (a ``str`` subclass, a class of the tool's: its own reading is not
    pydantic's)."""
    if depth > MAX_DEPTH:
        return where
    fields = _fields(got, judged)
    if isinstance(fields, _Clash):
        return f"{where}.{fields.key}"
    if fields is not None:
        got = fields
    if isinstance(judged, dict) and isinstance(got, dict):
        for key in sorted(set(judged) | set(got), key=str):
            if key not in judged or key not in got:
                return f"{where}.{key}"
            diff = first_difference(judged[key], got[key], f"{where}.{key}", depth + 1)
            if diff is not None:
                return diff
        return None
    if isinstance(judged, list) and isinstance(got, (list, tuple)):
        if len(judged) != len(got):
            return where
        for i, (j, g) in enumerate(zip(judged, got)):
            diff = first_difference(j, g, f"{where}[{i}]", depth + 1)
            if diff is not None:
                return diff
        return None
    return None if _same_value(judged, got, depth) else where


def not_as_judged(judged: Any, got: Any, reader: str = "its args model") -> Optional[str]:
    """Why a call must be refused because the tool would run with ``got``
    where ``judged`` was judged (:func:`first_difference`), or None."""
    diff = first_difference(judged, got)
    if diff is None:
        return None
    return (
        f"{diff}: the tool would run with another value than the one judged ({reader} reads, changes or drops it "
        "otherwise than its JSON schema shows)"
    )


def not_as_judged_after(judged: Any, validate: Callable[[], Any]) -> Optional[str]:
    """:func:`not_as_judged` for the values ``validate`` — the framework's own
    validation of a copy of the call, as it will run it after the gate —
    hands the tool. Validation that refuses the call: None (the tool never
    runs). Validators therefore run once more per call."""
    if not isinstance(judged, dict):
        return None
    try:
        got = validate()
    except Exception:  # noqa: BLE001 - the framework refuses the call itself: the tool never runs
        return None
    return not_as_judged(judged, got)


class _Clash(NamedTuple):
    """A key a model's value cannot be read under alone: an extra value
    beside a field of that name, or a call giving a field under two of its
    names."""

    key: str


def _fields(value: Any, judged: Any) -> "Dict[str, Any] | _Clash | None":
    """A model's or dataclass's values by name (see :func:`first_difference`),
    or None for any other value. A field is named as the judged call names
    it among the names validation reads it by (its alias choices, its name
    under ``populate_by_name``), else as the JSON schema shows it. An extra
    value under a name a field is read by (``extra="allow"`` beside an
    ``AliasPath``) is a clash: the judged value under that name is not the
    one the tool reads."""
    if isinstance(value, BaseModel) and not isinstance(value, RootModel):
        given = judged if isinstance(judged, dict) else {}
        out: Dict[str, Any] = {}
        taken: "set[str]" = set()
        for name, field in type(value).model_fields.items():
            names = _field_names(name, field)
            taken.update(names)
            present = [n for n in names if n in given]
            if len(present) > 1:
                return _Clash(present[1])
            out[present[0] if present else names[0]] = getattr(value, name)
        for key, extra in (value.model_extra or {}).items():
            if key in taken or key in out:
                return _Clash(key)
            out[key] = extra
        return out
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    return None


def _standard_types() -> "frozenset[type]":
    """The types whose other spellings are read by pydantic's own code (no
    code of the tool's, whatever the type is called): a value of one of
    them, exactly (no subclass), is the judged one when pydantic reads the
    judged JSON as that type into an equal value written alike."""
    import datetime
    import decimal
    import pathlib
    import uuid

    import pydantic_core

    types: "set[type]" = {
        bool, int, float, bytes, set, frozenset,
        datetime.datetime, datetime.date, datetime.time, datetime.timedelta,
        decimal.Decimal, uuid.UUID,
        pathlib.PurePath, pathlib.PurePosixPath, pathlib.PureWindowsPath, pathlib.Path, pathlib.PosixPath, pathlib.WindowsPath,
        pydantic_core.Url, pydantic_core.MultiHostUrl,
    }
    try:
        import pydantic.networks as networks

        for name in ("AnyUrl", "AnyHttpUrl", "HttpUrl", "FileUrl", "WebsocketUrl", "AnyWebsocketUrl", "FtpUrl"):
            t = getattr(networks, name, None)
            if isinstance(t, type):
                types.add(t)
    except ImportError:  # pragma: no cover - pydantic 2 has them
        pass
    return frozenset(types)


_STANDARD = _standard_types()
# pydantic's readers of the standard types met (building one costs time).
_READERS: Dict[type, Any] = {}
_JSON_SCALARS = (str, int, float, bool, type(None))


def _same_value(judged: Any, got: Any, depth: int = 0) -> bool:
    if depth > MAX_DEPTH:
        return False
    t = type(got)
    if t in _JSON_SCALARS and type(judged) in _JSON_SCALARS:
        if type(judged) is t or (_number(judged) and _number(got)):
            # -0.0 is 0.0 to `==`, not to a tool that divides by it.
            return bool(judged == got) and not (t is float and got == 0 and math.copysign(1.0, got) != math.copysign(1.0, judged))
    if isinstance(got, enum.Enum):
        # An enum member by its value: a type's own reading (`_missing_`
        # mapping one spelling to another member) is not pydantic's. A
        # `str` or `int` member is that text or number to the tool as
        # well, which its `__new__` may set otherwise than its value.
        if isinstance(got, str) and not _same_value(judged, str.__str__(got), depth + 1):
            return False
        if isinstance(got, int) and not _same_value(judged, int.__int__(got), depth + 1):
            return False
        return _same_value(judged, got.value, depth + 1)
    if isinstance(got, RootModel):
        return first_difference(judged, got.root, depth=depth + 1) is None
    if t not in _STANDARD:
        return False
    if t in (set, frozenset) and not all(type(x) in _JSON_SCALARS for x in got):
        return False
    reader = _READERS.get(t)
    if reader is None:
        reader = _READERS.setdefault(t, TypeAdapter(t))
    try:
        read = reader.validate_python(judged)
    except Exception:  # noqa: BLE001 - the judged value is not one of that type
        return False
    # Equal and written alike: a datetime in another zone (another calendar
    # day), a decimal of another exponent, -0.0 are other values to a tool
    # (in a set too, `{True}` beside `{1}`).
    if t in (set, frozenset):
        return bool(read == got) and sorted(map(repr, read)) == sorted(map(repr, got))
    return bool(read == got) and repr(read) == repr(got)


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
    return _field_names(name, field)[0]


def _field_names(name: str, field: Any) -> List[str]:
    """The top-level names validation may read a field by, the JSON
    schema's first: its validation alias (each choice of an
    ``AliasChoices``; an ``AliasPath``'s first step), its alias, its own
    name (read too under ``populate_by_name``; listed anyway: a call using
    it is compared under it)."""
    out: List[str] = []
    for alias in (field.validation_alias, field.alias):
        choices = getattr(alias, "choices", None)
        for a in choices if isinstance(choices, list) else [alias]:
            path = getattr(a, "path", None)
            first = path[0] if isinstance(path, list) and path else a
            if isinstance(first, str) and first not in out:
                out.append(first)
    if name not in out:
        out.append(name)
    return out
