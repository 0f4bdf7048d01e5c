"""The comparison the LangChain, OpenAI Agents and AutoGen adapters make
between the arguments judged (JSON) and what the framework's pydantic
validation hands the tool (`gait._as_run.first_difference`): another
spelling of the same value, as pydantic alone reads it, is the value
judged; any value a type's or validator's own code changed is not."""

from __future__ import annotations

import datetime
import decimal
import enum
import pathlib
import uuid
from typing import Annotated, Any, Dict, Set
from urllib.parse import unquote

import pytest
from pydantic import AfterValidator, AliasChoices, AliasPath, BaseModel, ConfigDict, Field, GetCoreSchemaHandler, HttpUrl, RootModel, create_model
from pydantic_core import core_schema

from gait._as_run import first_difference


class DecodedPath(str):
    """A str type with its own pydantic reading: URL-decodes the text."""

    @classmethod
    def __get_pydantic_core_schema__(cls, source: Any, handler: GetCoreSchemaHandler) -> Any:
        return core_schema.no_info_after_validator_function(lambda v: cls(unquote(v)), core_schema.str_schema())


class Where(str, enum.Enum):
    WORKSPACE = "/workspace/out"
    SYSTEM = "/etc/cron.d"

    @classmethod
    def _missing_(cls, value: object) -> "Where | None":
        # A lenient lookup mapping another spelling to another member.
        return cls.SYSTEM if isinstance(value, str) and value.startswith("/workspace/sys") else None


class Shade(str, enum.Enum):
    LIGHT = "light"


class Inner(RootModel[str]):
    pass


def tokyo(t: datetime.datetime) -> datetime.datetime:
    return t.astimezone(datetime.timezone(datetime.timedelta(hours=9)))


class Changed(BaseModel):
    decoded: DecodedPath
    where: Where
    when: Annotated[datetime.datetime, AfterValidator(tokyo)]
    amount: Annotated[decimal.Decimal, AfterValidator(lambda d: d.quantize(decimal.Decimal("0.000")))]
    zero: Annotated[float, AfterValidator(lambda f: -f if f == 0 else f)]
    path: Annotated[pathlib.Path, AfterValidator(lambda p: pathlib.Path("/etc") / p.name)]


CHANGED: Dict[str, Any] = {
    "decoded": "/workspace/%2E%2E/etc/passwd",
    "where": "/workspace/sys",
    "when": "2024-01-01T20:00:00Z",
    "amount": "1.5",
    "zero": 0.0,
    "path": "/workspace/x",
}


@pytest.mark.parametrize("field", sorted(CHANGED))
def test_a_value_a_type_or_validator_changed_differs(field: str) -> None:
    """Each field's own code hands the tool another value than the one
    judged — decoded, another enum member, another calendar day, another
    exponent, another sign, another directory: a difference at that field."""
    one = create_model("One", **{field: (Changed.model_fields[field].rebuild_annotation(), ...)})  # type: ignore[call-overload]
    sent = {field: CHANGED[field]}
    assert first_difference(sent, one.model_validate(sent)) == f"args.{field}"


class Same(BaseModel):
    shade: Shade
    when: datetime.datetime
    at: datetime.time
    every: datetime.timedelta
    where: pathlib.Path
    site: HttpUrl
    amount: decimal.Decimal
    tags: Set[str]
    ident: uuid.UUID
    flag: bool
    blob: bytes
    count: int
    ratio: float
    inner: Inner


def test_another_spelling_of_the_same_value_is_the_value_judged() -> None:
    sent = {
        "shade": "light", "when": "2024-01-01T00:00:00Z", "at": "10:00", "every": "PT1H", "where": "./notes",
        "site": "https://Example.com", "amount": "1.50", "tags": ["a", "b"],
        "ident": "12345678-1234-5678-1234-567812345678".upper(), "flag": 1, "blob": "abc", "count": "5",
        "ratio": "5", "inner": "/workspace/a",
    }
    assert first_difference(sent, Same.model_validate(sent)) is None


def test_a_str_subclass_is_not_a_spelling_of_the_judged_text() -> None:
    class Plain(str):
        pass

    assert first_difference({"p": "/workspace/a"}, {"p": Plain("/workspace/a")}) == "args.p"


class Masked(str, enum.Enum):
    """A member whose text (what `open()` reads) is not its value."""

    def __new__(cls, value: str, real: str) -> "Masked":
        member = str.__new__(cls, real)
        member._value_ = value
        return member

    SCRATCH = ("/workspace/scratch", "/etc/cron.d/job")


class Port(int, enum.Enum):
    def __new__(cls, value: int, real: int) -> "Port":
        member = int.__new__(cls, real)
        member._value_ = value
        return member

    HTTP = (8080, 22)


class Hidden(BaseModel):
    """`path` read through an AliasPath, extras allowed: an extra `path`
    beside it is what a reading by name would compare."""

    model_config = ConfigDict(extra="allow")
    path: str = Field("/etc/cron.d/job", validation_alias=AliasPath("target", "path"))


class Choices(BaseModel):
    dest: str = Field(validation_alias=AliasChoices("dst", "destination"))


def test_what_the_tool_reads_is_compared_not_a_name_beside_it() -> None:
    # An extra value under the name of a field read elsewhere: a clash.
    sent = {"path": "/workspace/notes.txt"}
    assert first_difference(sent, Hidden.model_validate(sent)) == "args.path"
    sent2 = {"path": "/workspace/notes.txt", "target": {"path": "/etc/shadow"}}
    assert first_difference(sent2, Hidden.model_validate(sent2)) is not None
    # An enum member's text or number, not only its value.
    assert first_difference({"d": "/workspace/scratch"}, create_model("E", d=(Masked, ...)).model_validate({"d": "/workspace/scratch"})) == "args.d"
    assert first_difference({"p": 8080}, create_model("P", p=(Port, ...)).model_validate({"p": 8080})) == "args.p"
    # A set holding `True` where `1` was judged.
    assert first_difference({"s": [1]}, {"s": {True}}) == "args.s"
    # A field read under any of its alias choices, as the call names it.
    for key in ("dst", "destination"):
        sent3 = {key: "/workspace/a"}
        assert first_difference(sent3, Choices.model_validate(sent3)) is None
    assert first_difference({"dst": "/workspace/a", "destination": "/etc/x"}, Choices.model_validate({"dst": "/workspace/a", "destination": "/etc/x"})) is not None
