"""The gate itself: loading as `gait-run verify` does, decisions equal to
`gait-run eval`, invalid intents failing closed on every transport, reload,
and concurrency (threads and asyncio)."""

from __future__ import annotations

import asyncio
import json
import math
import shutil
import threading
import time
from pathlib import Path
from typing import Any, List, Tuple

import pytest
from conftest import FIXTURES, GAIT_RUN, GAITC, LOW, Sidecar, assert_same_as_cli, build_bundle, cli_eval, run

import gait
from gait import _native

WRITE_OK = {"tool_name": "write_file", "args": {"path": "/workspace/a.txt", "content": "x"}, "context": {"risk_class": "low"}}
WRITE_ETC = {"tool_name": "write_file", "args": {"path": "/workspace/../etc/passwd"}, "context": {"risk_class": "low"}}
DELETE = {"tool_name": "delete_file", "args": {"path": "notes.txt"}, "context": {"risk_class": "low", "workspace": "/workspace"}}
EXEC = {"tool_name": "run_command", "args": {"command": "ls"}, "context": {"risk_class": "low"}}


# -- loading ---------------------------------------------------------------


def test_load_reports_the_verified_policy(gate: gait.Gate, bundle: Path, trust: Path) -> None:
    p = run(GAIT_RUN, "verify", str(bundle), "--trust", str(trust))
    verified = json.loads(p.stdout)
    policy = gate.policy
    assert (policy["name"], policy["version"], policy["revision"]) == ("python-adapters", "1.0.0", 1)
    assert policy["digest"] == verified["policy_digest"]
    assert policy["signed_by"] == verified["signed_by"]
    assert gate.transport == "in_process"


def _other_key(tmp_path: Path) -> Path:
    run(GAITC, "keygen", "--out", str(tmp_path / "other"))
    return tmp_path / "other.pub"


def test_rejected_bundles_raise_gate_unavailable_with_the_cli_code(bundle: Path, trust: Path, tmp_path: Path) -> None:
    """Each rejection gives the code `gait-run verify` gives."""
    bad = tmp_path / "bad.gaitb"
    bad.write_bytes(b"not a bundle at all")
    truncated = tmp_path / "truncated.gaitb"
    truncated.write_bytes(bundle.read_bytes()[:-7])
    cases: List[Tuple[str, dict[str, Any], str]] = [
        ("untrusted key", {"bundle": bundle, "trust": [_other_key(tmp_path)]}, "bundle_key_untrusted"),
        ("pin mismatch", {"bundle": bundle, "trust": [trust], "pin": "sha256:" + "0" * 64}, "bundle_pin_mismatch"),
        ("rollback", {"bundle": bundle, "trust": [trust], "min_revision": 2}, "bundle_revision_rollback"),
        ("malformed", {"bundle": bad, "trust": [trust]}, "bundle_malformed"),
        ("payload cut", {"bundle": truncated, "trust": [trust]}, "bundle_payload_digest_mismatch"),
        ("missing file", {"bundle": tmp_path / "nope.gaitb", "trust": [trust]}, "bundle_malformed"),
    ]
    for name, kwargs, code in cases:
        cli = ["verify", str(kwargs["bundle"])]
        for t in kwargs["trust"]:
            cli += ["--trust", str(t)]
        if "pin" in kwargs:
            cli += ["--pin", kwargs["pin"]]
        if "min_revision" in kwargs:
            cli += ["--min-revision", str(kwargs["min_revision"])]
        p = run(GAIT_RUN, *cli)
        assert p.returncode == 2 and json.loads(p.stdout)["code"] == code, name
        with pytest.raises(gait.GateUnavailable) as e:
            gait.Gate.load(**kwargs)
        assert e.value.code == code, name
        with pytest.raises(gait.GateUnavailable) as e:
            gait.Gate.subprocess(gait_run=GAIT_RUN, **kwargs)
        assert e.value.code == code, name


def test_no_trusted_key_or_a_bad_pin_is_refused(bundle: Path, trust: Path) -> None:
    with pytest.raises(gait.GateUnavailable) as e:
        gait.Gate.load(bundle, trust=[])
    assert e.value.code == "invalid_input"
    with pytest.raises(gait.GateUnavailable) as e:
        gait.Gate.load(bundle, trust=[trust], pin="sha256:xyz")
    assert e.value.code == "invalid_input"
    with pytest.raises(gait.GateUnavailable):
        gait.Gate.load(bundle, trust=[trust], decision_timeout_ms=0)


# -- decisions -------------------------------------------------------------


@pytest.mark.parametrize("intent", [WRITE_OK, WRITE_ETC, DELETE, EXEC], ids=["allow", "secret", "approval", "default"])
def test_decision_equals_gait_run_eval(gate: gait.Gate, bundle: Path, trust: Path, intent: dict[str, Any]) -> None:
    for form in (intent, json.dumps(intent), json.dumps(intent).encode()):
        d = gate.evaluate(form)
        assert_same_as_cli(bundle, trust, intent, d)
        # The in-process result is the runtime's serving path: the same bytes
        # as the sidecar would send, and the same JSON as the CLI prints.
        assert json.loads(d.raw) == d.result


def test_decision_fields(gate: gait.Gate) -> None:
    allow = gate.evaluate(WRITE_OK)
    assert allow.allowed and allow.verdict == "allow" and allow.exit_code == 0
    assert allow.reason_codes == ["workspace_io"] and allow.matched_rules == ["workspace_io"]
    assert allow.violations == [] and allow.approval_request is None
    assert allow.policy_digest == gate.policy["digest"]
    assert allow.intent_digest is not None and allow.intent_digest.startswith("sha256:")

    secret = gate.evaluate(WRITE_ETC)
    assert not secret.allowed and secret.verdict == "block" and secret.exit_code == 3
    assert secret.reason_codes == ["secret_path_access"] and secret.violations == ["secret_access"]

    approval = gate.evaluate(DELETE)
    assert not approval.allowed and approval.verdict == "require_approval" and approval.exit_code == 4
    req = approval.approval_request
    assert req is not None
    assert req["required_approvals"] == 2 and req["reason_codes"] == ["delete_needs_review"]
    assert req["intent_digest"] == approval.intent_digest and req["policy_digest"] == gate.policy["digest"]

    with pytest.raises(gait.ApprovalRequired) as e:
        gate.check(approval, "delete_file")
    assert e.value.decision is approval
    with pytest.raises(gait.Blocked):
        gate.check(secret)
    assert gate.check(allow) is allow


# -- invalid intents -------------------------------------------------------


class Opaque:
    pass


def _deep(n: int) -> Any:
    v: Any = "leaf"
    for _ in range(n):
        v = {"a": v}
    return v


INVALID: List[Tuple[str, Any]] = [
    ("not json text", "{not json"),
    ("empty text", ""),
    ("json list", [1, 2]),
    ("json number text", "42"),
    ("none", None),
    ("int", 7),
    ("empty tool name", {"tool_name": "", "args": {}}),
    ("args not an object", {"tool_name": "write_file", "args": "x"}),
    ("set in args", {"tool_name": "write_file", "args": {"path": {"/workspace/a"}}}),
    ("object in args", {"tool_name": "write_file", "args": {"path": Opaque()}}),
    ("bytes in args", {"tool_name": "write_file", "args": {"path": b"/workspace/a"}}),
    ("nan", {"tool_name": "write_file", "args": {"path": "/workspace/a", "n": math.nan}}),
    ("infinity", {"tool_name": "write_file", "args": {"path": "/workspace/a", "n": math.inf}}),
    ("int key", {"tool_name": "write_file", "args": {1: "/workspace/a"}}),
    ("lone surrogate", {"tool_name": "write_file", "args": {"path": "/workspace/\ud800"}}),
    ("lone surrogate text", '{"tool_name": "w\ud800"}'),
    ("invalid utf-8 bytes", b'{"tool_name": "\xff"}'),
    ("deep nesting", {"tool_name": "write_file", "args": _deep(300)}),
    ("over 1 MiB", {"tool_name": "write_file", "args": {"path": "/workspace/a", "content": "x" * (1024 * 1024 + 1)}}),
    ("nul in path", {"tool_name": "write_file", "args": {"path": "/workspace/a\u0000b"}, "context": {"risk_class": "low"}}),
    ("mapped arg not a string", {"tool_name": "write_file", "args": {"path": ["/workspace/a"]}, "context": {"risk_class": "low"}}),
    ("huge int", {"tool_name": "write_file", "args": {"path": "/workspace/a", "n": 10**40}}),
]


@pytest.fixture(scope="module")
def transports(gate: gait.Gate, bundle: Path, trust: Path, sidecar: Sidecar) -> List[gait.Gate]:
    return [gate, gait.Gate.sidecar(sidecar.url), gait.Gate.subprocess(bundle, [trust], gait_run=GAIT_RUN)]


@pytest.mark.parametrize("name,intent", INVALID, ids=[n for n, _ in INVALID])
def test_invalid_intents_fail_closed_on_every_transport(transports: List[gait.Gate], name: str, intent: Any) -> None:
    decisions = [g.evaluate(intent) for g in transports]
    for g, d in zip(transports, decisions):
        assert d.verdict == "block" and not d.allowed, (g.transport, d.result)
        assert "intent_invalid" in d.reason_codes, (g.transport, d.result)
        assert d.exit_code == 6, g.transport
        assert d.result["ok"] is False and d.result["decision"] == "fail_closed"
        with pytest.raises(gait.Blocked):
            g.check(d)
    # The same verdict, reasons and exit everywhere.
    assert len({(d.verdict, tuple(d.reason_codes), d.exit_code) for d in decisions}) == 1


def test_invalid_intents_also_fail_closed_asynchronously(transports: List[gait.Gate]) -> None:
    async def main() -> None:
        for g in transports:
            for _, intent in INVALID[:12]:
                d = await g.aevaluate(intent)
                assert d.verdict == "block" and "intent_invalid" in d.reason_codes

    asyncio.run(main())


# -- the conformance corpus on every transport ------------------------------


def test_every_transport_gives_identical_results_over_the_conformance_corpus(keys: Tuple[Path, Path], tmp_path: Path) -> None:
    """tests/conformance: each case through the in-process gate, the sidecar
    and the subprocess transport (`gait-run eval`): the same result (every
    field), the same exit code, and the corpus's expected verdict and
    reasons. The in-process bytes equal the sidecar's body byte for byte."""
    corpus = FIXTURES.parents[3] / "tests" / "conformance"
    dirs = sorted(p for p in corpus.iterdir() if (p / "cases.json").exists())
    assert len(dirs) >= 15
    total = 0
    for d in dirs:
        b = build_bundle(d / "policy.gaitpol", tmp_path / f"{d.name}.gaitb", keys[0])
        in_process = gait.Gate.load(b, [keys[1]])
        sub = gait.Gate.subprocess(b, [keys[1]], gait_run=GAIT_RUN)
        side = Sidecar(b, keys[1])
        try:
            over_http = gait.Gate.sidecar(side.url)
            for case in json.loads((d / "cases.json").read_text()):
                total += 1
                text = json.dumps(case["intent"])
                a = in_process.evaluate(text)
                s = over_http.evaluate(text)
                c = sub.evaluate(text)
                where = f"{d.name}/{case['name']}"
                assert a.result == c.result == s.result, where
                assert a.exit_code == c.exit_code == s.exit_code == case["exit"], where
                assert a.raw == s.raw, where
                assert a.verdict == case["verdict"] and a.reason_codes == case["reasons"], where
                if isinstance(case["intent"], dict):
                    # From a dict: the same decision as from its text.
                    assert in_process.evaluate(case["intent"]).result == a.result, where
        finally:
            side.stop()
    assert total >= 500


# -- reload ----------------------------------------------------------------


def test_reload_swaps_in_a_verified_newer_bundle_and_refuses_a_rollback(keys: Tuple[Path, Path], tmp_path: Path) -> None:
    src = (FIXTURES / "agent.gaitpol").read_text()
    v1 = build_bundle(FIXTURES / "agent.gaitpol", tmp_path / "v1.gaitb", keys[0])
    rev2 = tmp_path / "rev2.gaitpol"
    rev2.write_text(
        src.replace("revision 1", "revision 2").replace(
            "rule workspace_io priority 30", 'rule writes_frozen priority 25 {\n  when any endpoint in [fs.write]\n  then block\n  reason "frozen"\n}\n\nrule workspace_io priority 30'
        )
    )
    v2 = build_bundle(rev2, tmp_path / "v2.gaitb", keys[0])
    live = tmp_path / "live.gaitb"
    shutil.copy(v1, live)
    g = gait.Gate.load(live, [keys[1]])
    assert g.evaluate(WRITE_OK).verdict == "allow"

    shutil.copy(v2, live)
    assert g.evaluate(WRITE_OK).verdict == "allow"  # not re-read until reload()
    assert g.reload()["revision"] == 2
    d = g.evaluate(WRITE_OK)
    assert d.verdict == "block" and d.reason_codes == ["frozen"]

    shutil.copy(v1, live)
    with pytest.raises(gait.GateUnavailable) as e:
        g.reload()
    assert e.value.code == "bundle_revision_rollback"
    assert g.policy["revision"] == 2 and g.evaluate(WRITE_OK).reason_codes == ["frozen"]

    live.write_bytes(b"garbage")
    with pytest.raises(gait.GateUnavailable):
        g.reload()
    assert g.policy["revision"] == 2


# -- concurrency -----------------------------------------------------------


MIX = [WRITE_OK, WRITE_ETC, DELETE, EXEC, "{bad", {"tool_name": "read_file", "args": {"path": "/workspace/x"}, "context": {"risk_class": "low"}}]


def test_threads_decide_in_parallel_with_the_same_answers(gate: gait.Gate) -> None:
    expected = [gate.evaluate(i).raw for i in MIX]
    errors: List[str] = []

    def worker(k: int) -> None:
        for n in range(300):
            j = (k + n) % len(MIX)
            if gate.evaluate(MIX[j]).raw != expected[j]:
                errors.append(f"thread {k} intent {j}")

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_threads_keep_deciding_whole_answers_across_reloads(keys: Tuple[Path, Path], tmp_path: Path) -> None:
    """While one thread reloads a newer bundle, every decision is the whole
    answer of one bundle or the other, never a mix or an error."""
    src = (FIXTURES / "agent.gaitpol").read_text()
    live = tmp_path / "live.gaitb"
    build_bundle(FIXTURES / "agent.gaitpol", live, keys[0])
    g = gait.Gate.load(live, [keys[1]])
    answers = {g.evaluate(WRITE_OK).raw}
    stop = threading.Event()
    seen: List[bytes] = []
    errors: List[BaseException] = []

    def decide() -> None:
        try:
            while not stop.is_set():
                seen.append(g.evaluate(WRITE_OK).raw)
        except BaseException as e:  # noqa: BLE001 - reported below
            errors.append(e)

    workers = [threading.Thread(target=decide) for _ in range(4)]
    for w in workers:
        w.start()
    for rev in range(2, 6):
        p = tmp_path / f"r{rev}.gaitpol"
        p.write_text(src.replace("revision 1", f"revision {rev}"))
        build_bundle(p, tmp_path / "next.gaitb", keys[0])
        (tmp_path / "next.gaitb").replace(live)
        assert g.reload()["revision"] == rev
        answers.add(g.evaluate(WRITE_OK).raw)
    stop.set()
    for w in workers:
        w.join()
    assert errors == []
    assert len(answers) == 5 and seen and set(seen) <= answers


def test_overlapping_reloads_never_swap_in_a_lower_revision(keys: Tuple[Path, Path], tmp_path: Path) -> None:
    """Several threads reload while the file is replaced by ever newer
    revisions: the revision deciding never goes down (an overlapping reload
    that verified an older file must not swap it in after a newer one)."""
    src = (FIXTURES / "agent.gaitpol").read_text()
    revisions = range(2, 26)
    built = []
    for rev in revisions:
        p = tmp_path / f"r{rev}.gaitpol"
        p.write_text(src.replace("revision 1", f"revision {rev}"))
        built.append(build_bundle(p, tmp_path / f"r{rev}.gaitb", keys[0]))
    live = tmp_path / "live.gaitb"
    build_bundle(FIXTURES / "agent.gaitpol", live, keys[0])
    g = gait.Gate.load(live, [keys[1]])
    stop = threading.Event()
    errors: List[str] = []

    def reloader() -> None:
        while not stop.is_set():
            try:
                g.reload()
            except gait.GateUnavailable as e:
                if e.code != "bundle_revision_rollback":
                    errors.append(f"reload: {e}")

    def watcher() -> None:
        last = 0
        while not stop.is_set():
            rev = g.policy["revision"]
            if rev < last:
                errors.append(f"revision went down from {last} to {rev}")
            last = max(last, rev)

    threads = [threading.Thread(target=reloader) for _ in range(6)] + [threading.Thread(target=watcher)]
    for t in threads:
        t.start()
    try:
        for b in built:
            for _ in range(3):
                # The same revision copied again: a reload in flight may
                # read either copy, never an older revision than deciding.
                nxt = tmp_path / "next.gaitb"
                shutil.copy(b, nxt)
                nxt.replace(live)
                time.sleep(0.003)
    finally:
        stop.set()
        for t in threads:
            t.join()
    assert errors == []
    assert g.reload()["revision"] == revisions[-1] and g.policy["revision"] == revisions[-1]


def test_asyncio_gathers_many_decisions(gate: gait.Gate, sidecar: Sidecar) -> None:
    over_http = gait.Gate.sidecar(sidecar.url)
    expected = [gate.evaluate(i).result for i in MIX]

    async def main() -> None:
        for g in (gate, over_http):
            results = await asyncio.gather(*(g.aevaluate(MIX[n % len(MIX)]) for n in range(120)))
            for n, d in enumerate(results):
                assert d.result == expected[n % len(MIX)], g.transport
        big = {**WRITE_OK, "args": {"path": "/workspace/a", "content": "y" * 20000}}
        d = await gate.aevaluate(big)  # over the inline size: decided on a worker thread
        assert d.result == gate.evaluate(big).result and d.verdict == "allow"

    asyncio.run(main())


# -- transports failing ---------------------------------------------------


def test_unavailable_transports_raise(bundle: Path, trust: Path, tmp_path: Path, unavailable_gate: gait.Gate) -> None:
    with pytest.raises(gait.GateUnavailable) as e:
        unavailable_gate.evaluate(WRITE_OK)
    assert e.value.code == "sidecar_unreachable"
    with pytest.raises(gait.GateUnavailable):
        asyncio.run(unavailable_gate.aevaluate(WRITE_OK))
    with pytest.raises(gait.GateUnavailable) as e:
        gait.Gate.subprocess(bundle, [trust], gait_run=str(tmp_path / "no-such-gait-run"))
    assert e.value.code == "gait_run_missing"
    # A binary that answers allow without being gait-run is not believed.
    fake = tmp_path / "fake-gait-run"
    fake.write_text('#!/bin/sh\nif [ "$1" = verify ]; then echo \'{"ok": true, "policy": {}}\'; exit 0; fi\necho \'{"verdict": "allow"}\'\n')
    fake.chmod(0o755)
    g = gait.Gate.subprocess(bundle, [trust], gait_run=str(fake))
    with pytest.raises(gait.GateUnavailable) as e:
        g.evaluate(WRITE_OK)
    assert e.value.code == "bad_output"
    hang = tmp_path / "slow-gait-run"
    hang.write_text('#!/bin/sh\nif [ "$1" = verify ]; then echo \'{"ok": true, "policy": {}}\'; exit 0; fi\nexec sleep 30\n')
    hang.chmod(0o755)
    g = gait.Gate.subprocess(bundle, [trust], gait_run=str(hang), timeout=0.5)
    with pytest.raises(gait.GateUnavailable) as e:
        g.evaluate(WRITE_OK)
    assert e.value.code == "timeout"
    with pytest.raises(gait.GateUnavailable) as e:
        asyncio.run(g.aevaluate(WRITE_OK))
    assert e.value.code == "timeout"


def test_sidecar_token_is_sent_and_required(bundle: Path, trust: Path) -> None:
    s = Sidecar(bundle, trust, token="s3cret-token")
    try:
        with pytest.raises(gait.GateUnavailable) as e:
            gait.Gate.sidecar(s.url).evaluate(WRITE_OK)
        assert e.value.code == "http_401"
        with pytest.raises(gait.GateUnavailable):
            gait.Gate.sidecar(s.url, token="wrong").evaluate(WRITE_OK)
        assert gait.Gate.sidecar(s.url, token="s3cret-token").evaluate(WRITE_OK).verdict == "allow"
    finally:
        s.stop()


def test_sidecar_keeps_deciding_after_a_restart_on_the_same_port(bundle: Path, trust: Path) -> None:
    """A kept-alive connection the server closed is replaced, not an error;
    while nothing listens the gate is unavailable (never an allow)."""
    s = Sidecar(bundle, trust)
    g = gait.Gate.sidecar(s.url)
    try:
        assert g.evaluate(WRITE_OK).verdict == "allow"
    finally:
        s.stop()
    # Restarted on the same port: the kept-alive connection is dead.
    again = Sidecar(bundle, trust, port=s.port)
    try:
        assert g.evaluate(WRITE_OK).verdict == "allow"
        assert g.evaluate(WRITE_ETC).reason_codes == ["secret_path_access"]
    finally:
        again.stop()
    with pytest.raises(gait.GateUnavailable) as e:
        g.evaluate(WRITE_OK)
    assert e.value.code == "sidecar_unreachable"


def test_encode_intent_matches_json_and_refuses_what_json_cannot_hold() -> None:
    value = {"s": "é\n\"\\\u0001", "i": -3, "big": 2**63, "f": 1.5, "e": 1e300, "b": [True, False, None], "t": (1, "two")}
    assert json.loads(_native.encode_intent(value)) == json.loads(json.dumps(value))
    with pytest.raises(TypeError):
        _native.encode_intent({"x": {1, 2}})
    with pytest.raises(ValueError):
        _native.encode_intent({"x": math.nan})
    assert _native.encode_intent("text") == b"text" and _native.encode_intent(b"raw") == b"raw"


def test_context_and_skill_reach_the_intent(gate: gait.Gate, bundle: Path, trust: Path) -> None:
    ctx = LOW.merged(skill=gait.Skill(name="files", publisher="acme", source="registry", version="1.0.0", digest="ab" * 32))
    intent = gait.intent_for("write_file", {"path": "a.txt"}, ctx)
    assert intent["context"] == {"identity": "test-agent", "workspace": "/workspace", "risk_class": "low", "session_id": "sess-1"}
    assert intent["skill_provenance"]["skill_name"] == "files"
    d = gate.evaluate(intent)
    assert d.verdict == "allow"  # the relative path is judged in the workspace
    assert_same_as_cli(bundle, trust, intent, d)
