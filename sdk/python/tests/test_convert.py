"""The defaults a framework's validation fills into a tool call's
arguments (`gait._convert.with_schema_defaults`), checked against pydantic
itself: the gate must judge the values the tool runs with."""

from __future__ import annotations

from typing import Annotated, Any, Dict, List, Literal, Optional, Union

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, Field

import gait._convert
from gait._convert import AmbiguousDefaults, UnseenDefault, schema_args, with_schema_defaults


class Target(BaseModel):
    path: str = "/etc/passwd"
    mode: str = "w"


class Plain(BaseModel):
    kind: Literal["plain"] = "plain"
    size: int = 1


class Tagged(BaseModel):
    kind: Literal["tagged"]
    tag: str = "t"


class Deep(BaseModel):
    inner: Target
    more: List[Target] = []


class Call(BaseModel):
    content: str
    target: Target
    maybe: Optional[Target] = None
    many: List[Target] = []
    by_name: Dict[str, Target] = {}
    either: Union[Plain, Tagged] = Plain()
    tagged: Annotated[Union[Plain, Tagged], Field(discriminator="kind")] = Plain()
    deep: Optional[Deep] = None
    top: str = "/workspace/top.txt"
    labels: List[str] = Field(default_factory=list)


SCHEMA = Call.model_json_schema()


def _model(fields: Dict[str, Any]) -> Any:
    """A dict holding any subset of the given optional fields."""
    keys = sorted(fields)
    return st.fixed_dictionaries({}, optional={k: fields[k] for k in keys})


text = st.sampled_from(["/workspace/a", "/etc/shadow", "a"])
target = _model({"path": text, "mode": st.sampled_from(["r", "w"])})
plain = st.fixed_dictionaries({}, optional={"kind": st.just("plain"), "size": st.integers(0, 9)})
tagged = st.fixed_dictionaries({"kind": st.just("tagged")}, optional={"tag": text})
deep = st.fixed_dictionaries({"inner": target}, optional={"more": st.lists(target, max_size=2)})
call = st.fixed_dictionaries(
    {"content": text, "target": target},
    optional={
        "maybe": st.one_of(st.none(), target),
        "many": st.lists(target, max_size=3),
        "by_name": st.dictionaries(st.sampled_from(["a", "b"]), target, max_size=2),
        "either": st.one_of(plain, tagged),
        "tagged": st.one_of(plain.map(lambda d: {**d, "kind": "plain"}), tagged),
        "deep": st.one_of(st.none(), deep),
        "top": text,
        "labels": st.lists(text, max_size=2),
    },
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(args=call)
def test_the_defaults_filled_are_the_ones_pydantic_fills(args: Dict[str, Any]) -> None:
    """For every call pydantic accepts, the arguments with the schema's
    defaults are exactly what pydantic validates them into — nested models,
    optional models, lists and maps of models, tagged and untagged unions —
    or the call is refused as ambiguous (an untagged union whose branches
    would fill different defaults), never judged with other values."""
    expected = Call.model_validate(args).model_dump(mode="json")
    try:
        filled = with_schema_defaults(args, SCHEMA, pydantic=True)
    except UnseenDefault as e:
        event("unseen")
        assert "labels" not in args and str(e).startswith("args.labels: ")  # only the factory is unseen
        return
    except AmbiguousDefaults:
        event("ambiguous")
        assert "either" in args  # only the untagged union can be
        return
    event("filled")
    assert filled == expected


def test_the_caller_s_arguments_are_not_changed() -> None:
    args: Dict[str, Any] = {"content": "x", "target": {}, "many": [{"mode": "r"}]}
    before = repr(args)
    filled = with_schema_defaults(args, SCHEMA)
    assert repr(args) == before
    assert filled["target"] == {"path": "/etc/passwd", "mode": "w"}
    assert filled["many"] == [{"path": "/etc/passwd", "mode": "r"}]
    # Nothing missing: the very object.
    complete = Call.model_validate(args).model_dump(mode="json")
    assert with_schema_defaults(complete, SCHEMA) is complete


def test_an_untagged_union_with_different_defaults_is_refused() -> None:
    """A value that would be filled differently by two branches of a union
    cannot be known before validation: refused, with where. A tag settles
    it."""
    filled, invalid = schema_args({"content": "x", "target": {}, "either": {"kind": "tagged"}}, SCHEMA)
    assert invalid is None and filled["either"] == {"kind": "tagged", "tag": "t"}
    _, invalid = schema_args({"content": "x", "target": {}, "either": {}}, SCHEMA)
    assert invalid is not None and invalid.startswith("args.either: ")

    class One(BaseModel):
        path: str = "/workspace/one"

    class Two(BaseModel):
        path: str = "/etc/two"

    class Ambiguous(BaseModel):
        dest: Union[One, Two]

    args = {"dest": {}}
    filled, invalid = schema_args(args, Ambiguous.model_json_schema())
    assert filled is args
    assert invalid is not None and invalid.startswith("args.dest: ")
    with pytest.raises(AmbiguousDefaults):
        with_schema_defaults(args, Ambiguous.model_json_schema())
    # Given, the path leaves nothing to choose.
    assert with_schema_defaults({"dest": {"path": "/x"}}, Ambiguous.model_json_schema()) == {"dest": {"path": "/x"}}


def test_references_that_do_not_resolve_fill_nothing() -> None:
    """A `$ref` outside the schema, or to nothing, or in a cycle of
    references: no defaults known there (the framework's own validation
    decides), and no endless walk."""
    schema: Dict[str, Any] = {
        "$defs": {"Loop": {"$ref": "#/$defs/Loop"}, "Self": {"properties": {"next": {"$ref": "#/$defs/Self"}, "n": {"default": 1}}}},
        "properties": {
            "remote": {"$ref": "https://example.com/schema.json"},
            "missing": {"$ref": "#/$defs/Nothing"},
            "loop": {"$ref": "#/$defs/Loop"},
            "chain": {"$ref": "#/$defs/Self"},
        },
    }
    args = {"remote": {}, "missing": {}, "loop": {}, "chain": {"next": {"next": {}}}}
    assert with_schema_defaults(args, schema) == {
        "remote": {},
        "missing": {},
        "loop": {},
        "chain": {"next": {"next": {"n": 1}, "n": 1}, "n": 1},
    }


def test_a_default_is_not_filled_further() -> None:
    """pydantic does not validate defaults: a defaulted model field receives
    the default as the schema shows it, nothing added."""

    class Outer(BaseModel):
        target: Target = {"path": "/workspace/given"}  # type: ignore[assignment]

    # pydantic hands the tool the default as it is: no `mode` added.
    assert Outer.model_validate({}).target == {"path": "/workspace/given"}
    assert with_schema_defaults({}, Outer.model_json_schema(), pydantic=True) == {"target": {"path": "/workspace/given"}}


def test_a_list_of_deep_models() -> None:
    class Batch(BaseModel):
        jobs: List[Deep]

    args = {"jobs": [{"inner": {}}, {"inner": {"path": "/workspace/x"}, "more": [{}]}]}
    assert with_schema_defaults(args, Batch.model_json_schema()) == Batch.model_validate(args).model_dump(mode="json")


def test_a_value_the_schema_does_not_show_is_refused() -> None:
    """A property left out whose value the schema does not show — a
    ``default_factory`` (not required, no ``default``), at the top or in a
    nested model; in a strict schema, which lists every property as
    required, any property without a ``default`` — cannot be judged: the
    call is refused, saying where. A required property left out is not
    (the framework's validation refuses the call itself)."""

    class Inner(BaseModel):
        path: str = Field(default_factory=lambda: "/etc/factory")

    class Tool(BaseModel):
        content: str
        inner: Optional[Inner] = None
        tags: List[str] = Field(default_factory=list)

    schema = Tool.model_json_schema()
    for args, where in (
        ({"content": "x"}, "args.tags: "),
        ({"content": "x", "tags": [], "inner": {}}, "args.inner.path: "),
    ):
        filled, invalid = schema_args(args, schema, pydantic=True)
        assert filled is args and invalid is not None and invalid.startswith(where), invalid
        # A schema not validated by pydantic (a hand-written one): an
        # optional property without a default is simply absent.
        assert schema_args(args, schema)[1] is None
    complete = {"content": "x", "tags": [], "inner": {"path": "/workspace/p"}}
    assert schema_args(complete, schema, pydantic=True) == (complete, None)
    # A required property left out: not ours to refuse.
    assert schema_args({"tags": []}, schema, pydantic=True) == ({"tags": [], "inner": None}, None)
    # A strict schema: every property required, extra ones forbidden.
    strict = {
        "type": "object",
        "additionalProperties": False,
        "required": ["content", "mode", "path"],
        "properties": {"content": {"type": "string"}, "mode": {"type": "string", "default": "w"}, "path": {"type": "string"}},
    }
    assert schema_args({"content": "x", "path": "/p"}, strict) == ({"content": "x", "path": "/p", "mode": "w"}, None)
    _, invalid = schema_args({"content": "x"}, strict)
    assert invalid is not None and invalid.startswith("args.path: ")


def test_a_coerced_tag_still_gets_the_defaults() -> None:
    """pydantic reads ``"1"`` as ``Level.ONE`` (lax mode): a value that
    matches no branch's ``const``/``enum`` exactly is read by every branch,
    never by none — its defaults are filled."""
    import enum as _enum

    class Level(_enum.IntEnum):
        ONE = 1

    class Call(BaseModel):
        level: Level
        path: str = "/etc/gait.conf"

    args = {"level": "1"}
    assert Call.model_validate(args).path == "/etc/gait.conf"
    assert with_schema_defaults(args, Call.model_json_schema(), pydantic=True) == {"level": "1", "path": "/etc/gait.conf"}


def test_tuples_of_models_are_filled() -> None:
    from typing import Tuple

    class Pair(BaseModel):
        pair: Tuple[Target, Target]

    args = {"pair": [{}, {"mode": "r"}]}
    assert with_schema_defaults(args, Pair.model_json_schema(), pydantic=True) == Pair.model_validate(args).model_dump(mode="json")


def test_too_deep_or_too_costly_is_refused_not_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nesting past what the runtime reads, and a recursive untagged union
    nested by the caller (exponential to walk), are refused — quickly —
    never left unfilled; a union that refers to itself does not hang."""

    class Node(BaseModel):
        path: str = "/etc/deep"
        next: Optional["Node"] = None

    deep: Dict[str, Any] = {}
    for _ in range(140):
        deep = {"next": deep}
    _, invalid = schema_args(deep, Node.model_json_schema(), pydantic=True)
    assert invalid is not None and "deeper" in invalid

    class A(BaseModel):
        a: Optional[Union["A", "B"]] = None
        x: int = 1

    class B(BaseModel):
        a: Optional[Union["A", "B"]] = None
        y: int = 2

    A.model_rebuild()
    nested: Dict[str, Any] = {}
    for _ in range(24):
        nested = {"a": nested}
    _, invalid = schema_args(nested, A.model_json_schema(), pydantic=True)
    assert invalid is not None and invalid.startswith("args" + ".a" * 24 + ": the defaults filled in depend on which")
    # The walk is bounded by a count of schema nodes (not a clock): with a
    # small budget the same call stops there.
    monkeypatch.setattr(gait._convert, "_MAX_WORK", 10)
    _, invalid = schema_args(nested, A.model_json_schema(), pydantic=True)
    assert invalid is not None and "cost too much" in invalid
    monkeypatch.undo()
    loop = {"$defs": {"U": {"anyOf": [{"$ref": "#/$defs/U"}, {"$ref": "#/$defs/U"}]}}, "properties": {"u": {"$ref": "#/$defs/U"}}}
    args, _ = schema_args({"u": {"v": 1}}, loop)
    assert args == {"u": {"v": 1}}


def assert_field_name_refused(model: Any) -> None:
    """``inner.path`` sent by its field name: the tool gets ``/etc/shadow``
    through ``populate_by_name``; the gate, reading the schema's alias,
    refuses the call."""
    args = {"inner": {"path": "/etc/shadow"}}
    assert model.model_validate(args).inner.path == "/etc/shadow"
    _, invalid = schema_args(args, model.model_json_schema(), pydantic=True)
    assert invalid is not None and invalid.startswith("args.inner.path: ")


def test_a_name_the_schema_does_not_have_beside_a_default_is_refused() -> None:
    """With ``populate_by_name`` the tool takes a field by its name while the
    schema shows its alias: a member the schema does not name beside a
    left-out defaulted property may be that property — refused."""
    from pydantic import ConfigDict

    class Inner(BaseModel):
        model_config = ConfigDict(populate_by_name=True)
        path: str = Field("/tmp/safe", alias="Path")

    class Call(BaseModel):
        inner: Inner

    assert_field_name_refused(Call)
    # By the schema's own name: filled and judged as the tool gets it.
    assert schema_args({"inner": {"Path": "/w"}}, Call.model_json_schema(), pydantic=True) == ({"inner": {"Path": "/w"}}, None)

    # A required aliased field (nothing to fill) sent by its field name: the
    # gate would judge no `Path`, the tool gets `/etc/shadow`.
    class Required(BaseModel):
        model_config = ConfigDict(populate_by_name=True)
        path: str = Field(alias="Path")

    class Top(BaseModel):
        inner: Required

    assert_field_name_refused(Top)
    args = {"inner": {"path": "/etc/shadow"}}
    # A hand-written schema: an unknown member is the tool's business; a
    # model that keeps extra members (additionalProperties true) too.
    assert schema_args(args, Top.model_json_schema()) == (args, None)

    class Extra(BaseModel):
        model_config = ConfigDict(extra="allow")
        mode: str = "w"

    assert schema_args({"note": "x"}, Extra.model_json_schema(), pydantic=True) == ({"note": "x", "mode": "w"}, None)


def test_a_strict_schema_s_optional_left_out_is_none() -> None:
    """The OpenAI Agents SDK's strict schema drops a ``None`` default: a
    nullable property left out is judged as ``None``, as the tool gets it."""
    strict = {
        "type": "object",
        "additionalProperties": False,
        "required": ["path", "limit"],
        "properties": {"path": {"type": "string"}, "limit": {"anyOf": [{"type": "integer"}, {"type": "null"}]}},
    }
    assert schema_args({"path": "/w"}, strict) == ({"path": "/w", "limit": None}, None)


def test_odd_schemas_neither_crash_nor_resolve_wrongly() -> None:
    schema: Dict[str, Any] = {
        "properties": {
            "a": {"anyOf": 5, "oneOf": "x", "allOf": None},
            "b": {"$ref": "#anchor"},
            "c": {"default": 1},
        },
        "$anchor": "anchor",
    }
    # (`#anchor` is not a JSON pointer: read as the root, `b` would get `c`.)
    assert with_schema_defaults({"a": {}, "b": {}}, schema) == {"a": {}, "b": {}, "c": 1}


def test_a_default_the_schema_writes_as_another_json_type_is_not_trusted() -> None:
    """The schema's default is compared with the field's as JSON: a field
    holding ``0`` whose schema says ``false`` (``json_schema_extra``) is not
    the same default for the tool (Python's ``0 == False`` is), so it is
    dropped and a call leaving it out is refused; the same JSON is kept."""
    import pydantic

    from gait._model_schema import model_schema

    class Args(pydantic.BaseModel):
        count: int = pydantic.Field(0, json_schema_extra={"default": False})
        limit: int = 10

    props = model_schema(Args)["properties"]
    assert "default" not in props["count"]
    assert props["limit"]["default"] == 10


def test_a_default_no_field_is_found_behind_is_not_trusted() -> None:
    """A view of the validating model (LangChain's ``tool_call_schema`` of
    its ``args_schema``) whose property no field of the validating model
    stands behind: its default is checked by nothing, so it is dropped; a
    property a field stands behind keeps its checked default."""
    import pydantic

    from gait._model_schema import model_schema

    class Validating(pydantic.BaseModel):
        content: str = "hello"

    class View(pydantic.BaseModel):
        content: str = "hello"
        target: str = "/workspace/safe.txt"

    props = model_schema(View, Validating)["properties"]
    assert "default" not in props["target"]
    assert props["content"]["default"] == "hello"
