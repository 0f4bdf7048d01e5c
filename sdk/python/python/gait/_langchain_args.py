"""What a LangChain tool's function is really called with, worked out by
LangChain itself: the middleware's check that the values the gate judged
are the ones the tool runs with (:func:`tool_gets`, then
:func:`gait._as_run.not_as_judged`).

The gate judges a call's arguments with the defaults of the tool's schema
filled in (``gait._convert``). LangChain then validates the call with the
tool's ``args_schema`` and hands the function, of ``model_dump()``'s keys,
those the call sent or that have a default, each as validated — so anything
that reads, drops or renames a field otherwise than its JSON schema shows
(an alias path, ``exclude_if``, an overridden ``model_dump``, a validator or
``str_strip_whitespace`` changing a value, a field named ``args``) makes the
tool run with a value that was never judged. Running LangChain's own
``_parse_input`` on a copy of the call and comparing tells, whatever the
reason."""

from __future__ import annotations

import copy
import inspect
import json
from typing import Any, Dict, Iterable, Optional, Tuple

from pydantic import BaseModel, create_model

from ._as_run import Unseen, plain

__all__ = ["TwoReadings", "tool_gets"]

#: Parameters LangChain fills itself, never from the call.
_RUNTIME_PARAMETERS = frozenset({"self", "run_manager", "callbacks", "config"})


class TwoReadings(Exception):
    """A parameter the tool's synchronous and asynchronous functions
    default to different values (its name is the message)."""


def tool_gets(tool: Any, sent: Dict[str, Any], call_id: str, injected: Iterable[str]) -> Optional[Dict[str, Any]]:
    """The arguments ``tool``'s function is called with for the call's
    arguments ``sent``, as LangChain's validation makes them (compare them
    with :func:`gait._as_run.first_difference`; :func:`gait._as_run.plain`
    writes them as JSON), its
    own defaults included for parameters LangChain does not pass; injected
    arguments (``injected``) left out. None when LangChain would not call
    the function (its validation refuses the call), or the tool has no
    ``_parse_input``. Raises :class:`TwoReadings` for a parameter left out
    of the call that the tool's ``func`` and ``coroutine`` default
    differently."""
    parse = getattr(tool, "_parse_input", None)
    if not callable(parse):
        return None
    injected = set(injected)
    try:
        parsed = parse(copy.deepcopy(sent), call_id)
    except Exception:  # noqa: BLE001 - LangChain refuses the call: see below
        # A required injected argument (ToolNode fills it in after the
        # gate) is missing here: validated again with those fields
        # optional; any other refusal: the function is never called.
        relaxed = _relaxed(tool, injected)
        if relaxed is None:
            return None
        try:
            parsed = relaxed._parse_input(copy.deepcopy(sent), call_id)
        except Exception:  # noqa: BLE001 - the function is never called
            return None
    if not isinstance(parsed, dict):
        return None
    got = {k: v for k, v in parsed.items() if k not in injected}
    defaulted: Dict[str, Any] = {}
    for name, default in _function_defaults(tool):
        if name in parsed or name in injected:
            continue
        if name in defaulted and not _same_default(defaulted[name], default):
            raise TwoReadings(name)
        defaulted[name] = default
    got.update(defaulted)
    return got


def _same_default(a: Any, b: Any) -> bool:
    """Whether two defaults are one value to the tool (as JSON texts: no
    coercion between them; a value JSON cannot write: only itself)."""
    try:
        return _text(plain(a, 0)) == _text(plain(b, 0))
    except Unseen:
        return a is b


def _text(v: Any) -> str:
    """A JSON value's text, keys sorted: two values the same to the tool
    (no coercion between them) have the same text."""
    return json.dumps(v, sort_keys=True)


def _function_defaults(tool: Any) -> Iterable[Tuple[str, Any]]:
    """The defaults of the tool's function's own parameters (``*args`` and
    ``**kwargs`` as empty). A tool may hold two functions, ``func`` for a
    synchronous run and ``coroutine`` for an asynchronous one (which falls
    back on ``func``): the defaults of both, one after the other (a
    parameter both default comes twice)."""
    funcs = [f for f in (getattr(tool, "func", None), getattr(tool, "coroutine", None)) if callable(f)]
    if not funcs:
        run = getattr(tool, "_run", None)
        funcs = [run] if callable(run) else []
    return [pair for func in funcs for pair in _own_defaults(func)]


def _own_defaults(func: Any) -> Iterable[Tuple[str, Any]]:
    try:
        params = inspect.signature(func).parameters.values()
    except (TypeError, ValueError):
        return []
    out: "list[Tuple[str, Any]]" = []
    for p in params:
        if p.name in _RUNTIME_PARAMETERS:
            continue
        if p.kind is inspect.Parameter.VAR_POSITIONAL:
            out.append((p.name, []))
        elif p.kind is inspect.Parameter.VAR_KEYWORD:
            out.append((p.name, {}))
        elif p.default is not inspect.Parameter.empty:
            out.append((p.name, p.default))
    return out


def _relaxed(tool: Any, injected: "set[str]") -> Any:
    """A copy of ``tool`` whose ``args_schema`` takes its injected
    arguments as optional (None), or None when there are none."""
    schema = getattr(tool, "args_schema", None)
    if not injected or not (isinstance(schema, type) and issubclass(schema, BaseModel)):
        return None
    names = [n for n in schema.model_fields if n in injected]
    if not names:
        return None
    try:
        fields: Dict[str, Any] = {n: (Any, None) for n in names}
        relaxed = create_model(schema.__name__, __base__=schema, **fields)
        return tool.model_copy(update={"args_schema": relaxed})
    except Exception:  # noqa: BLE001 - no relaxed copy: the check is skipped, as for a refused call
        return None
