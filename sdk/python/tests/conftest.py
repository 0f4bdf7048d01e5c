"""Shared fixtures: real bundles built and signed by `gaitc` at test time with
a throw-away key, `gait-run` for the CLI comparison and the sidecar.

The binaries come from $GAITC / $GAIT_RUN, else the workspace's
target/debug (scripts/test_python.sh builds them first)."""

from __future__ import annotations

import asyncio
import enum
import json
import logging
import os
import re
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Annotated, Any, Callable, Dict, Iterator, Tuple

import pydantic
import pytest
from hypothesis import settings
from jsonschema import Draft202012Validator
from referencing import Registry, Resource

import gait
from gait._trace import record_name

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
FIXTURES = HERE / "fixtures"
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
GAITC = os.environ.get("GAITC", str(TARGET / "debug" / "gaitc"))
GAIT_RUN = os.environ.get("GAIT_RUN", str(TARGET / "debug" / "gait-run"))

# No example database: the tests write nothing into the source tree.
settings.register_profile("gait", database=None)
settings.load_profile("gait")

LOW = gait.Context(identity="test-agent", workspace="/workspace", risk_class="low", session_id="sess-1")


def run(*cmd: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(list(cmd), input=stdin, capture_output=True, timeout=60, check=False)


def build_bundle(policy: Path, out: Path, key: Path) -> Path:
    p = run(GAITC, "build", str(policy), "-o", str(out), "--key", str(key))
    assert p.returncode == 0, p.stderr.decode()
    return out


def cli_eval(bundle: Path, trust: Path, intent: Any) -> Tuple[int, Dict[str, Any]]:
    """`gait-run eval` on an intent (the reference every transport must match)."""
    text = intent if isinstance(intent, bytes) else (intent.encode() if isinstance(intent, str) else json.dumps(intent).encode())
    p = run(GAIT_RUN, "eval", "--bundle", str(bundle), "--trust", str(trust), "--intent", "-", stdin=text)
    return p.returncode, json.loads(p.stdout)


@pytest.fixture(scope="session")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Tuple[Path, Path]:
    """(private key, public key) made by `gaitc keygen`."""
    d = tmp_path_factory.mktemp("keys")
    p = run(GAITC, "keygen", "--out", str(d / "test"))
    assert p.returncode == 0, p.stderr.decode()
    return d / "test.key", d / "test.pub"


@pytest.fixture(scope="session")
def bundle(keys: Tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("bundle")
    return build_bundle(FIXTURES / "agent.gaitpol", d / "agent.gaitb", keys[0])


@pytest.fixture(scope="session")
def trust(keys: Tuple[Path, Path]) -> Path:
    return keys[1]


@pytest.fixture(scope="session")
def gate(bundle: Path, trust: Path) -> gait.Gate:
    return gait.Gate.load(bundle, trust=[trust])


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Sidecar:
    """A `gait-run serve` on a loopback port, stopped at the end."""

    def __init__(
        self, bundle: Path, trust: Path, token: str | None = None, port: int = 0, extra: Tuple[str, ...] = (), answer_key: str | None = None
    ) -> None:
        env = dict(os.environ)
        cmd = [GAIT_RUN, "serve", "--bundle", str(bundle), "--trust", str(trust), "--listen", f"127.0.0.1:{port}", *extra]
        if token:
            env["GAIT_TEST_TOKEN"] = token
            cmd += ["--auth-token-env", "GAIT_TEST_TOKEN"]
        if answer_key:
            env["GAIT_TEST_ANSWER_KEY"] = answer_key
            cmd += ["--answer-key-env", "GAIT_TEST_ANSWER_KEY"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        self.url = "http://" + json.loads(line)["listening"]
        self.port = int(self.url.rsplit(":", 1)[1])
        deadline = time.monotonic() + 10
        while True:
            try:
                with urllib.request.urlopen(self.url + "/healthz", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope="session")
def sidecar(bundle: Path, trust: Path) -> Iterator[Sidecar]:
    s = Sidecar(bundle, trust)
    yield s
    s.stop()


@pytest.fixture()
def unavailable_gate() -> gait.Gate:
    """A gate that cannot decide: a sidecar address where nothing listens."""
    return gait.Gate.sidecar(f"http://127.0.0.1:{free_port()}", timeout=2.0)


class SideEffects:
    """What the tools really did (each call appends its arguments, then
    runs `during`, if set, while the tool is still running)."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.during: Callable[[], None] | None = None

    def ran(self, tool: str, args: dict[str, Any]) -> None:
        self.calls.append((tool, args))
        if self.during is not None:
            self.during()

    def count(self, tool: str) -> int:
        return sum(1 for name, _ in self.calls if name == tool)


def executed_flags(trace_dir: Path, framework: str) -> dict[str, bool]:
    """`executed` of every record in <trace_dir>/<framework>/, by tool call
    id (records only: while tools run, another call's record may be a
    temporary file still being written)."""
    folder = trace_dir / framework
    records = [json.loads(p.read_text()) for p in sorted(folder.glob("*.json")) if not p.name.startswith(".")] if folder.is_dir() else []
    return {r["tool_call_id"]: r["executed"] for r in records}


def break_trace_dir(trace_dir: Path, framework: str) -> None:
    """Makes <trace_dir>/<framework> a file: no record can be written or
    rewritten there any more (even as root)."""
    folder = trace_dir / framework
    shutil.rmtree(folder, ignore_errors=True)
    folder.write_text("not a folder any more")


def record_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "gait" and r.levelno == logging.WARNING]


@pytest.fixture()
def effects() -> SideEffects:
    return SideEffects()


def assert_same_as_cli(bundle: Path, trust: Path, intent: Any, decision: gait.Decision) -> None:
    """The decision equals `gait-run eval` on the same intent: verdict, reason
    codes, intent digest (and the whole result)."""
    code, result = cli_eval(bundle, trust, intent)
    assert decision.verdict == result["verdict"]
    assert decision.reason_codes == result["reason_codes"]
    assert decision.intent_digest == result["intent_digest"]
    assert decision.exit_code == code
    assert decision.result == result


RECORD_FIELDS = {"framework", "tool_call_id", "intent", "result", "executed"}
SCHEMAS = ROOT / "schemas" / "v1"


def _validator(name: str) -> Draft202012Validator:
    """A validator for schemas/v1/NAME, with the other schemas resolvable
    by their $id."""
    schemas = [json.loads(p.read_text()) for p in sorted(SCHEMAS.glob("*.schema.json"))]
    registry: Registry = Registry().with_resources((s["$id"], Resource.from_contents(s)) for s in schemas)
    schema = json.loads((SCHEMAS / name).read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema, registry=registry)


RECORD_SCHEMA = _validator("decision_record.schema.json")


def read_records(trace_dir: Path, framework: str) -> list[dict[str, Any]]:
    """The decision records of `<trace_dir>/<framework>/`, each checked: it
    is named after its tool call id, holds exactly the record's fields (and
    `error` only when the gate was unavailable: no result), names this
    framework, holds the result as `gait-run eval` prints it, and validates
    against schemas/v1/decision_record.schema.json."""
    folder = trace_dir / framework
    if not folder.exists():
        return []
    records = []
    for p in sorted(folder.iterdir()):
        assert p.suffix == ".json" and not p.name.startswith("."), f"stray file {p}"
        rec = json.loads(p.read_text())
        errors = [f"{e.message} at {list(e.absolute_path)}" for e in RECORD_SCHEMA.iter_errors(rec)]
        assert errors == [], (p, errors)
        extra = {"error"} if rec.get("result") is None else set()
        assert set(rec) == RECORD_FIELDS | extra, (p, sorted(rec))
        assert rec["framework"] == framework
        # <name>.json, or <name>+N.json for the same id decided again.
        assert p.name == record_name(rec["tool_call_id"]) or re.fullmatch(
            re.escape(record_name(rec["tool_call_id"])[: -len(".json")]) + r"\+[1-9][0-9]*\.json", p.name
        ), (p.name, rec["tool_call_id"])
        assert isinstance(rec["executed"], bool)
        assert isinstance(rec["intent"], dict)
        # A tool name that is not a string (a malformed AutoGPT payload) is
        # recorded as it came, and the runtime refused it as invalid.
        assert isinstance(rec["intent"].get("tool_name"), str) or rec["result"] is None or rec["result"]["reason_codes"] == ["intent_invalid"]
        if rec["result"] is not None:
            assert rec["result"]["schema_id"] == "gait.gate.result"
        else:
            assert rec["executed"] is False and isinstance(rec["error"], str)
        records.append(rec)
    return records


class AfterDecision(gait.Gate):
    """A gate that runs ``during`` once it has decided and before the
    adapter (or guard) gets the answer: a change another thread or task
    makes while the decision is awaited."""

    def __init__(self, inner: gait.Gate, during: Any) -> None:
        self.inner = inner
        self.during = during

    def evaluate(self, intent: Any) -> gait.Decision:
        decision = self.inner.evaluate(intent)
        self.during()
        return decision

    async def aevaluate(self, intent: Any) -> gait.Decision:
        decision = await self.inner.aevaluate(intent)
        await asyncio.sleep(0)
        self.during()
        return decision


class SaveTarget(pydantic.BaseModel):
    """The nested argument of the tests' ``save_file`` tool: its defaults
    are filled by the framework's validation, after the model's call."""

    path: str = "/etc/gait-nested.txt"
    mode: str = "w"


#: ``save_file`` calls: a nested object that leaves its defaulted path out
#: (judged at the default, in /etc: blocked) and one that gives a path in
#: the workspace (allowed; judged and run with the defaulted mode).
NESTED_CALLS = [
    ("c_nested_default", {"content": "x", "target": {}}),
    ("c_nested_given", {"content": "x", "target": {"path": "/workspace/s.txt"}}),
]
NESTED_JUDGED = {
    "c_nested_default": {"content": "x", "target": {"path": "/etc/gait-nested.txt", "mode": "w"}},
    "c_nested_given": {"content": "x", "target": {"path": "/workspace/s.txt", "mode": "w"}},
}


class FactoryArgs(pydantic.BaseModel):
    """The arguments of a tool whose ``path`` defaults to a value its JSON
    schema does not show (a ``default_factory``, in /etc)."""

    content: str
    path: str = pydantic.Field(default_factory=lambda: "/etc/gait-factory.txt")


#: A call leaving the factory's ``path`` out: the adapters refuse it
#: (``intent_invalid``, naming ``args.path``), and the tool never runs.
FACTORY_CALL = ("c_factory", {"content": "x"})


class RewrittenArgs(pydantic.BaseModel):
    """The arguments of a tool whose ``path`` default is written ``passwd``
    in its JSON schema, but validated (``validate_default``) by a validator
    that puts it in /etc: the tool gets ``/etc/passwd``."""

    content: str
    path: Annotated[str, pydantic.AfterValidator(lambda p: "/etc/" + p)] = pydantic.Field("passwd", validate_default=True)


class IntoEtcTarget(pydantic.BaseModel):
    """A nested argument whose validator rewrites any given ``path`` into
    /etc (``/workspace/passwd`` → ``/etc/passwd``): judged as sent, the tool
    would get another value."""

    path: str

    @pydantic.field_validator("path")
    @classmethod
    def into_etc(cls, v: str) -> str:
        return v.replace("/workspace/", "/etc/")


class DecodedArgs(pydantic.BaseModel):
    """Arguments whose ``path`` is URL-decoded by a validator (a realistic
    normalizer): ``/workspace/..%2Fetc%2Fshadow`` — a file in the workspace
    to the gate — reaches the tool as ``/workspace/../etc/shadow``."""

    path: str

    @pydantic.field_validator("path")
    @classmethod
    def decode(cls, v: str) -> str:
        from urllib.parse import unquote

        return unquote(v)


class Shade(str, enum.Enum):
    """A string enum among the common argument types."""

    LIGHT = "light"


#: Arguments of common types beside a mapped ``path``, each as a model sends
#: it in a spelling pydantic reads into another of the same value (``Z``,
#: ``./``, upper case, ``1`` for true, ``"5"`` for 5): the tool gets the
#: value judged, and the call runs.
COMMON_TYPED_ARGS: dict[str, Any] = {
    "shade": "light",
    "when": "2024-01-01T00:00:00Z",
    "at": "10:00",
    "every": "PT1H",
    "where": "./notes",
    "site": "https://Example.com",
    "amount": "1.50",
    "tags": ["a", "b"],
    "ident": "12345678-1234-5678-1234-567812345678".upper(),
    "flag": 1,
    "blob": "abc",
    "count": "5",
}


class FactoryTarget(pydantic.BaseModel):
    """A nested argument whose ``path`` defaults to a ``default_factory``'s
    value (in /etc), which the JSON schema does not show."""

    path: str = pydantic.Field(default_factory=lambda: "/etc/gait-factory.txt")
