"""AutoGPT Forge 0.1.4: a real `ForgeAgent` (its SQLite `AgentDB`, its
`LocalWorkspace`) whose `abilities` is `GatedActionRegister`, driven by
scripted steps through forge's own `write_file` / `read_file` abilities; and
AutoGPT's command payload through `intent_from_command`.

Forge lives in its own venv (target/adapters/venv-forge); in the main venv
only the tests that need no forge run (the module must import without it)."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Tuple

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from conftest import GAIT_RUN, ROOT, AfterDecision, assert_same_as_cli, build_bundle, read_records, run

import gait
from gait.autogpt import FORGE_WORKSPACE_ARGS, intent_from_command

try:
    import forge  # noqa: F401

    HAVE_FORGE = True
except ImportError:
    HAVE_FORGE = False

# Forge 0.1.4 uses pydantic v1 idioms: its deprecation warnings are not ours.
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
needs_forge = pytest.mark.skipif(not HAVE_FORGE, reason="AutoGPT Forge runs in target/adapters/venv-forge")

POLICY = ROOT / "tests" / "adapters" / "parity.gaitpol"
CTX = gait.Context(identity="parity-agent", risk_class="high")
ACME_KEY_ID = "930f5f661b02203c8ce996e4420ee711bdb392fa24dfe1ec9fd277cb2845ad8c"
FILES_DIGEST = "sha256:ee21a010fd9c957bf0ddb36d389f38d5791af0a7d7b776060b6fad9827148ee7"


@pytest.fixture(scope="module")
def forge_bundle(keys: Tuple[Path, Path], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tests/adapters/parity.gaitpol (forge's parameter names, workspaces
    `…/gait-parity-ws/task-*`), built and signed at test time."""
    return build_bundle(POLICY, tmp_path_factory.mktemp("forge-bundle") / "parity.gaitb", keys[0])


@pytest.fixture(scope="module")
def forge_gate(forge_bundle: Path, trust: Path) -> gait.Gate:
    return gait.Gate.load(forge_bundle, trust=[trust])


# -- without forge ---------------------------------------------------------


def test_the_module_imports_without_forge() -> None:
    """`gait.autogpt` imports where forge cannot (the main venv);
    `intent_from_command` works, the register says what it needs."""
    code = (
        "import sys; sys.modules['forge'] = None\n"
        "import gait.autogpt as a\n"
        "print(a.intent_from_command({'command': {'name': 'write_file', 'args': {'file_path': 'a'}}})['tool_name'])\n"
        "try:\n"
        "    a.GatedActionRegister(object(), None)\n"
        "except ImportError as e:\n"
        "    print('ImportError', 'autogpt-forge==0.1.4' in str(e))\n"
    )
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert p.returncode == 0, p.stderr
    assert p.stdout.split() == ["write_file", "ImportError", "True"]


def test_intent_from_command_takes_autogpts_payload() -> None:
    payload = {
        "command": {"name": "write_file", "args": {"file_path": "/report.txt", "data": "ok"}},
        "skill_provenance": {"name": "files", "version": "1.0.0", "source": "registry", "publisher": "acme",
                             "digest": FILES_DIGEST, "signature_key_id": ACME_KEY_ID},
    }
    intent = intent_from_command(payload, CTX, workspace="/srv/ws/task-1", trust_payload_skill=True)
    assert intent == {
        "tool_name": "write_file",
        "args": {"file_path": "/report.txt", "data": "ok"},
        "context": {"identity": "parity-agent", "risk_class": "high", "workspace": "/srv/ws/task-1"},
        "skill_provenance": {"skill_name": "files", "skill_version": "1.0.0", "source": "registry", "publisher": "acme",
                             "digest": FILES_DIGEST, "signature_key_id": ACME_KEY_ID},
    }
    # forge roots its file abilities' paths in the task's workspace.
    rooted = intent_from_command(payload, CTX, workspace="/srv/ws/task-1", workspace_args=FORGE_WORKSPACE_ARGS)
    assert rooted["args"]["file_path"] == "report.txt"
    # The intent form of skill provenance is taken as it is (with the opt-in).
    claimed = {"command": {"name": "read_file", "args": {}}, "skill_provenance": {"skill_name": "x", "publisher": "p", "source": "s"}}
    as_is = intent_from_command(claimed, CTX, trust_payload_skill=True)
    assert as_is["skill_provenance"] == {"skill_name": "x", "publisher": "p", "source": "s"}
    # The payload is model-controlled: without the opt-in its skill is
    # ignored, and the context's skill always wins over it.
    assert "skill_provenance" not in intent_from_command(payload, CTX)
    ctx = CTX.merged(skill=gait.Skill(name="other", publisher="globex", source="git"))
    for trust in (False, True):
        assert intent_from_command(claimed, ctx, trust_payload_skill=trust)["skill_provenance"]["skill_name"] == "other"
    assert intent_from_command({"command": {"name": "read_file"}}, ctx)["skill_provenance"]["skill_name"] == "other"


MALFORMED: List[Any] = [
    None,
    [],
    "write_file",
    {},
    {"command": "write_file"},
    {"command": {"args": {"file_path": "/srv/ws/a"}}},
    {"command": {"name": 7, "args": {}}},
    {"command": {"name": "", "args": {}}},
    {"command": {"name": "write_file", "args": ["a", "b"]}},
    {"command": {"name": "write_file", "args": {"file_path": "a"}}, "skill_provenance": "acme"},
    {"command": {"name": "write_file", "args": {"file_path": "a"}}, "skill_provenance": {"name": "files"}},
    {"command": {"name": "write_file", "args": {"file_path": {"nested": "a"}}}},
    {"command": {"name": "write_file", "args": {"file_path": b"bytes"}}},
]


@pytest.mark.parametrize("payload", MALFORMED, ids=[f"malformed{i}" for i in range(len(MALFORMED))])
def test_a_payload_of_another_shape_is_an_invalid_intent(forge_gate: gait.Gate, forge_bundle: Path, trust: Path, payload: Any) -> None:
    """Nothing is guessed: the runtime refuses the intent (block,
    intent_invalid, exit 6), the same as `gait-run eval`."""
    intent = intent_from_command(payload, CTX, workspace="/srv/gait-parity-ws/task-1", trust_payload_skill=True)
    decision = forge_gate.evaluate(intent)
    assert (decision.verdict, decision.reason_codes, decision.exit_code) == ("block", ["intent_invalid"], 6), decision.result
    try:
        text = json.dumps(intent)
    except TypeError:
        return  # not JSON at all (bytes): no CLI to compare with; the in-process refusal stands
    assert_same_as_cli(forge_bundle, trust, text, decision)


# -- with forge ------------------------------------------------------------


class Forge:
    """A real ForgeAgent with forge's SQLite AgentDB and a LocalWorkspace
    that counts the writes forge makes (the side effects)."""

    def __init__(self, root: Path) -> None:
        from forge.agent import ForgeAgent
        from forge.sdk import AgentDB, LocalWorkspace

        writes: List[Tuple[str, str]] = []

        class CountingWorkspace(LocalWorkspace):  # type: ignore[misc]
            def write(self, task_id: str, path: str, data: bytes) -> None:
                writes.append((task_id, str(path)))
                super().write(task_id, path, data)

        self.writes = writes
        self.base = root / "gait-parity-ws"
        self.agent = ForgeAgent(AgentDB(f"sqlite:///{root / 'forge.db'}"), CountingWorkspace(str(self.base)))

    def gated(self, gate: gait.Gate, trace_dir: Path, context: gait.Context = CTX, **kw: Any) -> Any:
        from gait.autogpt import GatedActionRegister

        self.agent.abilities = GatedActionRegister(self.agent, gate, context=context, trace_dir=trace_dir, **kw)
        return self.agent.abilities

    async def artifacts(self, task_id: str) -> List[str]:
        artifacts, _ = await self.agent.db.list_artifacts(task_id, 1, 100)
        return sorted(a.relative_path for a in artifacts)


# Scripted steps, as an AutoGPT model would emit them: (ability, kwargs, verdict).
STEPS: List[Tuple[str, Dict[str, Any], str]] = [
    ("write_file", {"file_path": "report.txt", "data": "ok"}, "allow"),
    ("write_file", {"file_path": "home/.ssh/authorized_keys", "data": "ssh-ed25519 AAAA"}, "block"),
    ("write_file", {"file_path": "deploy/release.sh", "data": "#!/bin/sh"}, "require_approval"),
    ("write_file", {"file_path": "../escaped.txt", "data": "x"}, "block"),
    ("read_file", {"file_path": "report.txt"}, "allow"),
    ("write_file", {"file_path": 42, "data": "x"}, "block"),
]


@needs_forge
def test_forge_abilities_run_once_on_allow_and_never_otherwise(forge_gate: gait.Gate, forge_bundle: Path, trust: Path, tmp_path: Path) -> None:
    f = Forge(tmp_path)
    register = f.gated(forge_gate, tmp_path / "trace")
    task = "task-steps"
    outcomes: List[Any] = []

    async def main() -> None:
        for name, kwargs, _ in STEPS:
            try:
                outcomes.append(await register.run_action(task, name, **kwargs))
            except gait.NotAllowed as e:
                outcomes.append(e)

    asyncio.run(main())
    ws = f.base / task
    # Allowed: forge's write_file ran once (file, artifact); read_file read it back.
    assert f.writes == [(task, "report.txt")]
    assert (ws / "report.txt").read_bytes() == b"ok"
    assert outcomes[4] == b"ok"
    assert asyncio.run(f.artifacts(task)) == ["report.txt"]
    # Refused: nothing written anywhere, the right exception with the gate's decision.
    assert sorted(p.relative_to(f.base).as_posix() for p in f.base.rglob("*") if p.is_file()) == [f"{task}/report.txt"]
    for (name, kwargs, verdict), outcome in zip(STEPS, outcomes):
        if verdict == "allow":
            assert not isinstance(outcome, Exception)
            continue
        assert isinstance(outcome, gait.ApprovalRequired if verdict == "require_approval" else gait.Blocked), outcome
        assert outcome.decision.verdict == verdict and outcome.tool_name == name
    assert outcomes[1].decision.reason_codes == ["secret_path_access"]
    assert outcomes[2].decision.approval_request is not None
    assert outcomes[3].decision.reason_codes == ["default_block"]
    assert outcomes[5].decision.reason_codes == ["intent_invalid"]
    # One record per step at <trace_dir>/autogpt/<task>-<n>.json; each
    # decision equals gait-run eval on the recorded intent.
    records = {r["tool_call_id"]: r for r in read_records(tmp_path / "trace", "autogpt")}
    assert sorted(records) == sorted(f"{task}-{n}" for n in range(1, len(STEPS) + 1))
    for n, (name, kwargs, verdict) in enumerate(STEPS, start=1):
        rec = records[f"{task}-{n}"]
        assert rec["executed"] is (verdict == "allow")
        assert rec["result"]["verdict"] == verdict
        assert rec["intent"] == {
            "tool_name": name,
            "args": kwargs,
            "context": {"identity": "parity-agent", "risk_class": "high", "session_id": task, "workspace": str(ws)},
        }
        assert_same_as_cli(forge_bundle, trust, rec["intent"], forge_gate.evaluate(rec["intent"]))


@needs_forge
def test_the_ungated_register_would_have_written_outside_the_task(tmp_path: Path) -> None:
    """Why the gate judges forge's resolved path: forge itself only refuses
    paths outside its base folder, so `../escaped.txt` lands in another
    task's parent folder when nothing gates it."""
    f = Forge(tmp_path)
    asyncio.run(f.agent.abilities.run_action("task-plain", "write_file", file_path="../escaped.txt", data="x"))
    assert (f.base / "escaped.txt").read_text() == "x"


@needs_forge
def test_paths_are_judged_where_forge_writes_them(forge_gate: gait.Gate, tmp_path: Path) -> None:
    """A leading `/` is the top of the task's workspace for forge; positional
    arguments are named by the ability's signature."""
    f = Forge(tmp_path)
    register = f.gated(forge_gate, tmp_path / "trace")
    asyncio.run(register.run_action("task-a", "write_file", file_path="/rooted.txt", data="r"))
    asyncio.run(register.run_action("task-a", "write_file", "positional.txt", "p"))
    assert (f.base / "task-a" / "rooted.txt").read_text() == "r"
    assert (f.base / "task-a" / "positional.txt").read_text() == "p"
    records = {r["tool_call_id"]: r for r in read_records(tmp_path / "trace", "autogpt")}
    assert records["task-a-1"]["intent"]["args"] == {"file_path": "rooted.txt", "data": "r"}
    assert records["task-a-2"]["intent"]["args"] == {"file_path": "positional.txt", "data": "p"}
    assert records["task-a-1"]["intent"]["context"]["workspace"] == str(f.base / "task-a")


@needs_forge
def test_unknown_abilities_and_unnamed_arguments_are_refused(forge_gate: gait.Gate, tmp_path: Path) -> None:
    f = Forge(tmp_path)
    register = f.gated(forge_gate, tmp_path / "trace")
    with pytest.raises(gait.Blocked) as e:
        asyncio.run(register.run_action("task-a", "format_disk", device="/dev/sda"))
    # No mapping, no target: at high risk the runtime fails closed.
    assert e.value.decision.reason_codes == ["fail_closed_endpoint_class_unknown"]
    with pytest.raises(gait.Blocked) as e:
        asyncio.run(register.run_action("task-a", "write_file", "a.txt", "b", "one too many"))
    assert e.value.decision.reason_codes == ["intent_invalid"]
    assert f.writes == []


@needs_forge
def test_an_unavailable_gate_runs_nothing(unavailable_gate: gait.Gate, tmp_path: Path) -> None:
    f = Forge(tmp_path)
    register = f.gated(unavailable_gate, tmp_path / "trace")
    with pytest.raises(gait.GateUnavailable) as e:
        asyncio.run(register.run_action("task-a", "write_file", file_path="report.txt", data="ok"))
    assert e.value.code == "sidecar_unreachable"
    assert f.writes == [] and not (f.base / "task-a" / "report.txt").exists()
    (rec,) = read_records(tmp_path / "trace", "autogpt")
    assert rec["result"] is None and rec["executed"] is False and "sidecar_unreachable" in rec["error"]


@needs_forge
def test_a_rejected_bundle_leaves_no_gated_register(keys: Tuple[Path, Path], forge_bundle: Path, trust: Path, tmp_path: Path) -> None:
    """A tampered bundle is refused when the gate is built: there is no gate
    to build the register with (and `gait-run verify` gives the same code)."""
    bad = tmp_path / "tampered.gaitb"
    data = bytearray(forge_bundle.read_bytes())
    data[len(data) // 2] ^= 0x01
    bad.write_bytes(bytes(data))
    with pytest.raises(gait.GateUnavailable) as e:
        gait.Gate.load(bad, trust=[trust])
    p = run(GAIT_RUN, "verify", str(bad), "--trust", str(trust))
    assert p.returncode == 2
    assert json.loads(p.stdout)["code"] == e.value.code


@needs_forge
def test_run_command_takes_the_payload_with_its_skill(forge_gate: gait.Gate, forge_bundle: Path, trust: Path, tmp_path: Path) -> None:
    f = Forge(tmp_path)
    register = f.gated(forge_gate, tmp_path / "trace", trust_payload_skill=True)
    verified = {"name": "files", "version": "1.0.0", "source": "registry", "publisher": "acme", "digest": FILES_DIGEST, "signature_key_id": ACME_KEY_ID}
    ok = {"command": {"name": "write_file", "args": {"file_path": "skill.txt", "data": "s"}}, "skill_provenance": verified}
    untrusted = {"command": {"name": "write_file", "args": {"file_path": "evil.txt", "data": "e"}}, "skill_provenance": {**verified, "publisher": "globex"}}
    unpinned = {"command": {"name": "write_file", "args": {"file_path": "unpinned.txt", "data": "u"}}, "skill_provenance": {**verified, "digest": "sha256:" + "0" * 64}}

    async def main() -> List[Any]:
        out: List[Any] = [await register.run_command("task-s", ok, tool_call_id="call_ok")]
        for call_id, payload in (("call_untrusted", untrusted), ("call_unpinned", unpinned), ("call_bad", {"command": "write_file"})):
            with pytest.raises(gait.Blocked) as e:
                await register.run_command("task-s", payload, tool_call_id=call_id)
            out.append(e.value.decision.reason_codes)
        return out

    out = asyncio.run(main())
    assert out[1:] == [["skill_publisher_untrusted"], ["skill_unverified"], ["intent_invalid"]]
    assert f.writes == [("task-s", "skill.txt")]
    records = {r["tool_call_id"]: r for r in read_records(tmp_path / "trace", "autogpt")}
    assert sorted(records) == ["call_bad", "call_ok", "call_unpinned", "call_untrusted"]
    assert records["call_ok"]["intent"]["skill_provenance"]["skill_name"] == "files"
    assert records["call_ok"]["executed"] is True
    for rec in records.values():
        assert_same_as_cli(forge_bundle, trust, rec["intent"], forge_gate.evaluate(rec["intent"]))


@needs_forge
def test_abilities_of_the_replaced_register_are_kept_and_gated(forge_gate: gait.Gate, tmp_path: Path) -> None:
    """An ability a ForgeAgent registered on its own register (forge's
    `@action` decorator) is carried over, and gated like the others;
    `workspace_args` roots its path arguments."""
    from forge.actions import action

    f = Forge(tmp_path)

    @action(
        name="copy_file",
        description="Copy a file in the task's workspace",
        parameters=[
            {"name": "source", "description": "from", "type": "string", "required": True},
            {"name": "destination", "description": "to", "type": "string", "required": True},
        ],
        output_type="None",
    )
    async def copy_file(agent: Any, task_id: str, source: str, destination: str) -> None:
        agent.workspace.write(task_id=task_id, path=destination, data=agent.workspace.read(task_id=task_id, path=source))

    f.agent.abilities.abilities["copy_file"] = copy_file.action
    register = f.gated(forge_gate, tmp_path / "trace", workspace_args={"copy_file": ["source", "destination"]})
    assert "copy_file" in register.abilities and "write_file" in register.abilities

    async def main() -> None:
        await register.run_action("task-c", "write_file", file_path="notes.txt", data="n")
        await register.run_action("task-c", "copy_file", source="/notes.txt", destination="copy.txt")
        with pytest.raises(gait.Blocked):
            await register.run_action("task-c", "copy_file", source="notes.txt", destination="../../outside.txt")

    asyncio.run(main())
    assert (f.base / "task-c" / "copy.txt").read_text() == "n"
    assert f.writes == [("task-c", "notes.txt"), ("task-c", "copy.txt")]
    assert not (tmp_path / "outside.txt").exists()
    records = {r["tool_call_id"]: r for r in read_records(tmp_path / "trace", "autogpt")}
    assert records["task-c-2"]["intent"]["args"] == {"source": "notes.txt", "destination": "copy.txt"}


@needs_forge
def test_the_autogpt_example_runs(tmp_path: Path) -> None:
    """examples/integrations/autogpt/example.py, as documented: a forge task's
    scripted steps; only the allowed write and read run."""
    from conftest import GAITC

    tmp = tmp_path / "tmp"
    tmp.mkdir()
    p = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "integrations" / "autogpt" / "example.py")],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
        env={"GAITC": GAITC, "PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1", "TMPDIR": str(tmp)},
    )
    assert p.returncode == 0, p.stderr
    out = p.stdout.splitlines()
    assert out[0].endswith("ran")
    assert out[1].endswith("not run: verdict=block reasons=secret_path_access")
    assert out[2].endswith("not run: verdict=require_approval reasons=deploy_needs_review")
    assert out[3].endswith("not run: verdict=block reasons=skill_publisher_untrusted")
    assert out[4].endswith("ran: b'weekly report'")
    assert out[5] == "files written: ['report.md']"
    records = read_records(tmp_path / "gait-out", "autogpt")
    assert [(r["result"]["verdict"], r["executed"]) for r in sorted(records, key=lambda r: int(r["tool_call_id"].rsplit("-", 1)[1]))] == [
        ("allow", True), ("block", False), ("require_approval", False), ("block", False), ("allow", True),
    ]
    assert list(tmp.iterdir()) == []


# A path as an AutoGPT model might send it: plain, nested, rooted, escaping,
# secret, review-needing, odd characters.
SEGMENT = st.one_of(
    st.sampled_from(["report.txt", "notes", ".ssh", "deploy", "..", ".", "task-other", "gait-parity-ws", "a b", "ü.txt", ".env"]),
    st.text(alphabet="abcxyz._-", min_size=1, max_size=6),
)
PATHS = st.builds(lambda lead, parts: lead + "/".join(parts), st.sampled_from(["", "/", "./", "../"]), st.lists(SEGMENT, min_size=1, max_size=4))


@needs_forge
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(path=PATHS, data=st.text(max_size=20))
def test_forge_writes_exactly_what_the_gate_allowed(forge_gate: gait.Gate, tmp_path: Path, path: str, data: str) -> None:
    """Whatever path the model sends: the ability runs once iff the gate
    allows the intent, and then forge writes exactly the path the gate
    judged (the task's workspace joined with the path, one leading "/"
    dropped, `..` resolved); a refused call writes nothing."""
    import os
    import uuid

    root = tmp_path / uuid.uuid4().hex
    root.mkdir()
    f = Forge(root)
    register = f.gated(forge_gate, root / "trace")
    intent = register.intent("task-p", "write_file", file_path=path, data=data)
    decision = forge_gate.evaluate(intent)
    event(decision.verdict)
    try:
        asyncio.run(register.run_action("task-p", "write_file", file_path=path, data=data))
        ran = True
    except gait.NotAllowed as e:
        assert e.decision == decision
        ran = False
    except (ValueError, OSError):
        # forge's own refusal (its traversal check) or the file system's,
        # after the gate allowed: the gate let it run.
        ran = True
    assert ran is decision.allowed
    written = [p for p in f.base.parent.rglob("*") if p.is_file() and p.suffix != ".db" and "trace" not in p.parts]
    if not decision.allowed:
        assert written == [] and f.writes == []
        return
    judged = os.path.normpath(f.base / "task-p" / (path[1:] if path.startswith("/") else path))
    assert [str(p) for p in written] in ([judged], [])
    assert len(f.writes) == 1


@needs_forge
def test_a_payloads_skill_never_replaces_the_operators(forge_gate: gait.Gate, tmp_path: Path) -> None:
    """The payload is what the model emits: its skill_provenance cannot
    replace the operator's Context(skill=...) (a step claiming the trusted
    publisher is judged as the operator's untrusted skill), and without
    trust_payload_skill it is not taken at all."""
    f = Forge(tmp_path)
    globex = CTX.merged(skill=gait.Skill(name="summarizer", publisher="globex", source="registry", version="0.3.0"))
    claim = {"name": "files", "version": "1.0.0", "source": "registry", "publisher": "acme", "digest": FILES_DIGEST, "signature_key_id": ACME_KEY_ID}
    spoofed = {"command": {"name": "write_file", "args": {"file_path": "b.txt", "data": "x"}}, "skill_provenance": claim}

    async def main() -> List[Any]:
        out: List[Any] = []
        for trust in (False, True):
            register = f.gated(forge_gate, tmp_path / "trace", context=globex, trust_payload_skill=trust)
            with pytest.raises(gait.Blocked) as e:
                await register.run_command("task-s", spoofed)
            out.append(e.value.decision.reason_codes)
        # No context skill, no opt-in: the claim is ignored (judged with no skill).
        register = f.gated(forge_gate, tmp_path / "trace")
        out.append(register._intent("task-s", "write_file", {"file_path": "b.txt"}, claim).get("skill_provenance"))
        return out

    out = asyncio.run(main())
    assert out == [["skill_publisher_untrusted"], ["skill_publisher_untrusted"], None]
    assert f.writes == []


@needs_forge
def test_a_record_that_cannot_be_written_before_the_run_refuses_the_ability(forge_gate: gait.Gate, tmp_path: Path) -> None:
    """The record of an allowed call is written (executed: false) before
    the ability runs; if it cannot be, the ability never runs
    (GateUnavailable, record_write_failed)."""
    from conftest import break_trace_dir

    f = Forge(tmp_path)
    trace = tmp_path / "trace"
    trace.mkdir()
    break_trace_dir(trace, "autogpt")
    register = f.gated(forge_gate, trace)
    step = {"command": {"name": "write_file", "args": {"file_path": "out.txt", "data": "x"}}}
    for attempt in range(2):
        with pytest.raises(gait.GateUnavailable) as e:
            asyncio.run(register.run_command("task-r", step))
        assert e.value.code == "record_write_failed"
    assert f.writes == [] and not (f.base / "task-r" / "out.txt").exists()


@needs_forge
def test_the_record_is_written_before_the_ability_runs(forge_gate: gait.Gate, tmp_path: Path) -> None:
    """While the ability runs its record already exists, with executed:
    false; once it has run, executed: true."""
    f = Forge(tmp_path)
    trace = tmp_path / "trace"
    register = f.gated(forge_gate, trace)
    seen: List[Any] = []
    write = f.agent.workspace.write

    def spying(task_id: str, path: str, data: bytes) -> None:
        seen.append([r["executed"] for r in read_records(trace, "autogpt")])
        write(task_id, path, data)

    f.agent.workspace.write = spying
    asyncio.run(register.run_action("task-w", "write_file", file_path="out.txt", data="x"))
    assert seen == [[False]]
    assert [r["executed"] for r in read_records(trace, "autogpt")] == [True]


@needs_forge
def test_a_kwargs_key_named_like_a_positional_only_parameter_is_invalid(forge_gate: gait.Gate, tmp_path: Path) -> None:
    """An ability with a positional-only parameter and **kwargs: a keyword
    of the same name would be judged in place of the positional value the
    ability receives; the intent is invalid and the ability never runs."""
    from forge.actions.registry import Action

    f = Forge(tmp_path)
    register = f.gated(forge_gate, tmp_path / "trace")
    ran: List[Any] = []

    async def write_file(agent: Any, task_id: str, file_path: str, /, data: bytes = b"", **extra: Any) -> None:
        ran.append(file_path)

    register.abilities["write_file"] = Action(name="write_file", description="d", method=write_file, parameters=[], output_type="None")
    with pytest.raises(gait.Blocked) as e:
        asyncio.run(register.run_action("task-k", "write_file", "../../etc/passwd", data="x", file_path="ok.txt"))
    assert e.value.decision.reason_codes == ["intent_invalid"]
    assert ran == []


@needs_forge
def test_the_ability_runs_with_the_values_judged(forge_gate: gait.Gate, tmp_path: Path) -> None:
    """A change made to the caller's objects — or to the ability's mutable
    default — after the gate decided never reaches the ability: it runs with
    copies of the values judged (run_action and run_command), and the record
    holds them."""
    from forge.actions.registry import Action

    f = Forge(tmp_path)
    options: Dict[str, Any] = {"mode": "append"}
    default: Dict[str, Any] = {"mode": "append"}

    def change() -> None:
        options["mode"] = default["mode"] = "truncate"

    register = f.gated(AfterDecision(forge_gate, change), tmp_path / "trace")
    seen: List[Any] = []

    async def write_file(agent: Any, task_id: str, file_path: str, data: str = "", options: Dict[str, Any] = default) -> None:
        seen.append((file_path, dict(options)))

    register.abilities["write_file"] = Action(name="write_file", description="d", method=write_file, parameters=[], output_type="None")

    async def main() -> None:
        for call in (
            lambda: register.run_action("task-m", "write_file", "a.txt", options=options),
            lambda: register.run_action("task-m", "write_file", file_path="b.txt"),
            lambda: register.run_command("task-m", {"command": {"name": "write_file", "args": {"file_path": "c.txt", "options": options}}}),
        ):
            options["mode"] = default["mode"] = "append"
            await call()
            assert options == default == {"mode": "truncate"}  # changed after the decision ...

    asyncio.run(main())
    # ... but the ability saw, and the records hold, the values judged.
    judged = {"mode": "append"}
    assert seen == [("a.txt", judged), ("b.txt", judged), ("c.txt", judged)]
    records = read_records(tmp_path / "trace", "autogpt")
    assert [r["intent"]["args"]["options"] for r in records] == [judged] * 3
    assert all(r["executed"] for r in records)


@needs_forge
def test_abilities_whose_arguments_cannot_be_named_or_copied_are_refused(forge_gate: gait.Gate, tmp_path: Path) -> None:
    """An ability declared ``(*args, **kwargs)`` (forge's agent and task id
    are not parameters of their own: no argument can be named) and one
    whose default cannot be copied are invalid intents — blocked and
    recorded, never run, never an exception of another kind."""
    import threading

    from forge.actions.registry import Action

    f = Forge(tmp_path)
    register = f.gated(forge_gate, tmp_path / "trace")
    ran: List[Any] = []

    async def anything(*args: Any, **kwargs: Any) -> None:
        ran.append(kwargs)

    async def locked(agent: Any, task_id: str, file_path: str, lock: Any = threading.Lock()) -> None:  # noqa: B008 - the point
        ran.append(file_path)

    for name, method in (("anything", anything), ("locked", locked)):
        register.abilities[name] = Action(name=name, description="d", method=method, parameters=[], output_type="None")
    for name in ("anything", "locked"):
        with pytest.raises(gait.Blocked) as e:
            asyncio.run(register.run_action("task-n", name, file_path="/etc/shadow"))
        assert e.value.decision.reason_codes == ["intent_invalid"], name
    assert ran == []
    assert [r["result"]["reason_codes"] for r in read_records(tmp_path / "trace", "autogpt")] == [["intent_invalid"]] * 2


@needs_forge
def test_an_argument_that_is_not_exact_json_is_refused(forge_gate: gait.Gate, tmp_path: Path) -> None:
    """A ``str`` subclass is judged by its characters (``notes.txt``, in the
    task's workspace) but forge reads file names with ``str(path)`` — here
    ``../../outside.txt``: the gate cannot judge what the ability runs with,
    so the call is an invalid intent and nothing is written. The same name
    as a plain string runs."""
    from forge.actions.registry import Action

    class Name(str):
        def __str__(self) -> str:
            return "../../outside.txt"

    f = Forge(tmp_path)
    register = f.gated(forge_gate, tmp_path / "trace")
    seen: List[str] = []

    async def write_file(agent: Any, task_id: str, file_path: str, data: str = "") -> None:
        seen.append(str(file_path))

    register.abilities["write_file"] = Action(name="write_file", description="d", method=write_file, parameters=[], output_type="None")
    with pytest.raises(gait.Blocked) as e:
        asyncio.run(register.run_action("task-x", "write_file", file_path=Name("notes.txt"), data="x"))
    assert e.value.decision.reason_codes == ["intent_invalid"] and seen == []
    with pytest.raises(gait.Blocked):
        asyncio.run(register.run_command("task-x", {"command": {"name": "write_file", "args": {"file_path": Name("notes.txt")}}}))
    assert seen == []
    asyncio.run(register.run_action("task-x", "write_file", file_path="notes.txt", data="x"))
    assert seen == ["notes.txt"]
