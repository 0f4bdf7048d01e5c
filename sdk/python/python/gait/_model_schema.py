"""The JSON schema a framework's tool arguments are judged with, read from
the pydantic model the framework validates them with, its defaults checked
against the model's fields: the LangChain, OpenAI Agents and AutoGen
adapters share it (each framework hands its tool the values its pydantic
model fills in, which the model's JSON schema alone does not always
show)."""

from __future__ import annotations

import copy
import json
from typing import Any, Dict, List, get_args

from pydantic import BaseModel
from pydantic_core import to_jsonable_python

# A default_factory whose value is known: the SDK gives `*args` and
# `**kwargs` these, and models often do.
_EMPTY_FACTORIES: Dict[Any, Any] = {list: [], dict: {}, set: [], frozenset: [], tuple: []}


def model_schema(model: Any, validating: Any = None) -> Any:
    """The args model's own JSON schema, its defaults checked against the
    fields of the model and of every model nested in it: a
    ``default_factory`` of ``list``, ``dict``, ``set``, ``frozenset`` or
    ``tuple`` (``*args``, ``**kwargs``) shows its empty value; a default
    pydantic validates (``validate_default``) or that the schema writes
    otherwise than the field holds (``json_schema_extra``) is removed — the
    tool's value cannot be judged, so a call leaving it out is refused. A
    nested model whose schema cannot be found has every nested default
    removed, and so has every ``$defs`` entry itself (a type alias's
    ``Field`` default sits there, checked by nothing: a validator may
    rewrite it). ``validating`` is the model the framework validates with
    when ``model`` is a view of it (LangChain's ``tool_call_schema`` of its
    ``args_schema``): its fields and config are the ones read."""
    schema = model.model_json_schema()
    validating = model if validating is None else validating
    _check_fields(validating, schema.get("properties"))
    defs = schema.get("$defs")
    defs = defs if isinstance(defs, dict) else {}
    models = {m.__name__: m for m in _nested_models(validating)}
    for name, entry in defs.items():
        if isinstance(entry, dict) and "default" in entry:
            defs[name] = entry = {k: v for k, v in entry.items() if k != "default"}
        nested = models.get(name)
        if nested is not None and isinstance(entry, dict) and entry.get("title", name) == name:
            _check_fields(nested, entry.get("properties"))
            continue
        # Not a model found through the fields (a dataclass, a model behind
        # a dataclass or a type alias, a TypedDict): its defaults are not
        # checked, so none is trusted — leaving one out is refused.
        props = entry.get("properties") if isinstance(entry, dict) else None
        if isinstance(props, dict):
            for key, prop in list(props.items()):
                if isinstance(prop, dict) and "default" in prop:
                    props[key] = {k: v for k, v in prop.items() if k != "default"}
    return schema


def _check_fields(model: Any, props: Any) -> None:
    """Checks (in place) the schema ``props`` of ``model``'s fields against
    the fields themselves (see :func:`model_schema`)."""
    if not isinstance(props, dict):
        return
    validate_all = bool(model.model_config.get("validate_default", False))
    matched = set()
    for name, field in model.model_fields.items():
        names = [a for a in (field.validation_alias, field.alias, name) if isinstance(a, str)]
        key = next((n for n in names if n in props), None)
        prop = props.get(key) if key is not None else None
        if not isinstance(prop, dict):
            continue
        matched.add(key)
        validated = validate_all or bool(field.validate_default)
        factory = field.default_factory
        if factory is not None and not validated and factory in _EMPTY_FACTORIES:
            props[key] = {**prop, "default": copy.deepcopy(_EMPTY_FACTORIES[factory])}
        elif "default" in prop:
            try:
                # As JSON texts: `0 == False` and `1 == 1.0` in Python, not
                # for the tool.
                same = not validated and _json(to_jsonable_python(field.default)) == _json(prop["default"])
            except Exception:  # noqa: BLE001 - a default pydantic cannot write as JSON
                same = False
            if not same:
                props[key] = {k: v for k, v in prop.items() if k != "default"}
    # A property no field is found behind (a view of the model that renamed
    # it — LangChain's `tool_call_schema` drops an alias —, or a field
    # under an alias choice or path): its default is checked by nothing, so
    # it is not trusted — leaving it out is refused.
    for key, prop in list(props.items()):
        if key not in matched and isinstance(prop, dict) and "default" in prop:
            props[key] = {k: v for k, v in prop.items() if k != "default"}


def _nested_models(model: Any) -> List[Any]:
    """The pydantic models reachable from ``model``'s fields (through
    ``Optional``, unions, lists, dicts, ``Annotated``), ``model`` itself
    left out."""
    seen: List[Any] = []
    todo = [f.annotation for f in model.model_fields.values()]
    while todo:
        t = todo.pop()
        if isinstance(t, type) and issubclass(t, BaseModel):
            if t is not model and t not in seen:
                seen.append(t)
                todo.extend(f.annotation for f in t.model_fields.values())
        else:
            todo.extend(get_args(t))
    return seen


def _json(value: Any) -> str:
    """``value``'s JSON text, keys sorted (types kept apart: ``false`` is
    not ``0``)."""
    return json.dumps(value, sort_keys=True)
