"""The gate itself: loading as `gait-run verify` does, decisions equal to
`gait-run eval`, invalid intents failing closed on every transport, reload,
and concurrency (threads and asyncio)."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import math
import shutil
import socket
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
    assert req["approvals_required"] == 2 and req["rules"] == approval.matched_rules
    assert req["intent_digest"] == approval.intent_digest and req["policy_digest"] == gate.policy["digest"]
    assert req == approval.result["approval_request"]

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


def test_a_bundle_that_expires_while_loaded_raises_instead_of_deciding(keys: Tuple[Path, Path], tmp_path: Path) -> None:
    # The runtime's gate entry checks the bundle's not_after before every
    # decision; the in-process gate surfaces its refusal as GateUnavailable.
    # Eight seconds to build, load and decide once before it expires.
    not_after = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 8))
    out = tmp_path / "expiring.gaitb"
    p = run(GAITC, "build", str(FIXTURES / "agent.gaitpol"), "-o", str(out), "--key", str(keys[0]), "--not-after", not_after)
    assert p.returncode == 0, p.stderr.decode()
    g = gait.Gate.load(out, [keys[1]])
    assert g.evaluate(WRITE_OK).verdict == "allow"
    deadline = time.monotonic() + 30
    while True:
        try:
            g.evaluate(WRITE_OK)
        except gait.GateUnavailable as e:
            assert e.code == "bundle_expired"
            assert str(e) == f"gait: gate unavailable (bundle_expired): the bundle expired at {not_after}"
            break
        assert time.monotonic() < deadline, "the bundle never expired"
        time.sleep(0.25)
    code, result = cli_eval(out, keys[1], WRITE_OK)
    assert (code, result["reason_codes"]) == (2, ["bundle_expired"])


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


# -- hostile answers --------------------------------------------------------


class Scripted:
    """A loopback server that answers every request with the bytes (or
    the generator of bytes) its `respond` gives: what a compromised or
    broken sidecar could send."""

    def __init__(self, respond: Any, with_request: bool = False) -> None:
        self.respond = respond
        self.with_request = with_request
        self.stop = threading.Event()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}"
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self.stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _handle(self, conn: socket.socket) -> None:
        with conn:
            try:
                conn.settimeout(5)
                data = b""
                while b"\r\n\r\n" not in data:
                    chunk = conn.recv(65536)
                    if not chunk:
                        return
                    data += chunk
                head, _, body = data.partition(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    if name.strip().lower() == b"content-length":
                        length = int(value)
                while len(body) < length:
                    body += conn.recv(65536)
                out = self.respond(head) if self.with_request else self.respond()
                for part in [out] if isinstance(out, bytes) else out:
                    if self.stop.is_set():
                        return
                    conn.sendall(part)
            except OSError:
                return

    def close(self) -> None:
        self.stop.set()
        self.sock.close()
        self.thread.join()


def http_response(status: str, body: bytes, headers: str = "") -> bytes:
    return f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n{headers}\r\n".encode() + body


def _with_result(gate: gait.Gate, intent: Any, **changes: Any) -> bytes:
    result = gate.evaluate(intent).result
    result = {**result, **changes}
    for key in [k for k, v in changes.items() if v is _DROP]:
        del result[key]
    return json.dumps(result).encode()


_DROP = object()


def test_sidecar_hostile_answers_are_never_an_allow(gate: gait.Gate) -> None:
    allow = gate.evaluate(WRITE_OK).raw
    cases: List[Tuple[str, bytes, str]] = [
        ("200, a body that is not a gate result", http_response("200 OK", b'{"verdict": "allow", "allowed": true}'), "bad_output"),
        ("200, a body that is not JSON", http_response("200 OK", b"allow"), "bad_output"),
        ("200, no body", http_response("200 OK", b""), "bad_output"),
        ("500 with an allow result", http_response("500 Internal Server Error", allow), "bad_output"),
        ("400 with an allow result", http_response("400 Bad Request", allow), "bad_output"),
        ("302 to elsewhere", http_response("302 Found", b"", "Location: http://127.0.0.1:1/v1/eval\r\n"), "bad_output"),
        ("307 with an allow result", http_response("307 Temporary Redirect", allow, "Location: /v1/eval\r\n"), "bad_output"),
        ("reason_codes a string", http_response("200 OK", _with_result(gate, WRITE_OK, reason_codes="workspace_io")), "bad_output"),
        ("reason_codes empty", http_response("200 OK", _with_result(gate, WRITE_OK, reason_codes=[])), "bad_output"),
        ("approval without a number of approvals", http_response("200 OK", _with_result(gate, DELETE, required_approvals=_DROP)), "bad_output"),
        ("approval with zero approvals", http_response("200 OK", _with_result(gate, DELETE, required_approvals=0)), "bad_output"),
        ("an unknown verdict", http_response("200 OK", _with_result(gate, WRITE_OK, verdict="maybe")), "bad_output"),
        # An allow the answer itself says nobody verified (`--insecure-skip-verify`, or a forgery).
        ("an allow from an unverified bundle", http_response("200 OK", _with_result(gate, WRITE_OK, bundle_verified=False)), "answer_untrusted"),
        ("an allow without bundle_verified", http_response("200 OK", _with_result(gate, WRITE_OK, bundle_verified=_DROP)), "answer_untrusted"),
        ("an allow with ok false", http_response("200 OK", _with_result(gate, WRITE_OK, ok=False)), "answer_untrusted"),
    ]
    for name, response, code in cases:
        server = Scripted(lambda response=response: response)
        try:
            g = gait.Gate.sidecar(server.url, timeout=5)
            with pytest.raises(gait.GateUnavailable) as e:
                g.evaluate(WRITE_OK)
            assert e.value.code == code, (name, e.value)
            with pytest.raises(gait.GateUnavailable):
                asyncio.run(g.aevaluate(WRITE_OK))
        finally:
            server.close()
    # The same server with a true answer is believed; with a pin, only for that policy.
    server = Scripted(lambda: http_response("200 OK", allow))
    try:
        assert gait.Gate.sidecar(server.url).evaluate(WRITE_OK).verdict == "allow"
        digest = json.loads(allow)["policy"]["digest"]
        assert gait.Gate.sidecar(server.url, pin=digest).evaluate(WRITE_OK).verdict == "allow"
        with pytest.raises(gait.GateUnavailable) as e:
            gait.Gate.sidecar(server.url, pin="sha256:" + "0" * 64).evaluate(WRITE_OK)
        assert e.value.code == "answer_untrusted"
    finally:
        server.close()
    # A block needs no vouching: it refuses the call whoever says it.
    block = _with_result(gate, WRITE_OK, verdict="block", reason_codes=["default_block"], bundle_verified=False)
    server = Scripted(lambda: http_response("200 OK", block))
    try:
        assert gait.Gate.sidecar(server.url).evaluate(WRITE_OK).verdict == "block"
    finally:
        server.close()


class Relay:
    """An impostor in front of a real sidecar: it passes each request's
    ``Gait-Nonce`` on with ``intent`` in place of the body sent, and
    answers with the sidecar's real answer and MAC."""

    def __init__(self, upstream: str, intent: Any) -> None:
        import http.client
        import http.server

        host, port = upstream[len("http://") :].rsplit(":", 1)
        body = json.dumps(intent).encode()
        outer = self
        self.relayed = 0

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length", "0")))
                conn = http.client.HTTPConnection(host, int(port), timeout=5)
                headers = {"Content-Type": "application/json", "Gait-Nonce": self.headers.get("Gait-Nonce", "")}
                conn.request(self.command, self.path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                conn.close()
                outer.relayed += 1
                self.send_response(resp.status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Gait-Answer-Mac", resp.getheader("Gait-Answer-Mac") or "")
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


ANSWER_KEY = "an-answer-key-of-more-than-32-bytes-0123456789"


def test_sidecar_answers_are_authenticated_with_the_answer_key(gate: gait.Gate, bundle: Path, trust: Path) -> None:
    """With ``answer_key`` the client refuses every answer that does not
    carry the MAC of its own fresh nonce, status and body under the key:
    an impostor on the sidecar's address — answering a true allow for the
    very intent, or replaying a real authenticated answer — is refused,
    while the real sidecar started with the key is believed."""
    import http.client

    s = Sidecar(bundle, trust, answer_key=ANSWER_KEY)
    try:
        g = gait.Gate.sidecar(s.url, answer_key=ANSWER_KEY)
        assert g.evaluate(WRITE_OK).verdict == "allow"
        assert g.evaluate(DELETE).verdict == "require_approval"
        assert asyncio.run(g.aevaluate(WRITE_OK)).verdict == "allow"
        assert g.policy["digest"] == gate.policy["digest"]
        for wrong in (ANSWER_KEY + "x", ANSWER_KEY[::-1]):
            with pytest.raises(gait.GateUnavailable) as e:
                gait.Gate.sidecar(s.url, answer_key=wrong).evaluate(WRITE_OK)
            assert e.value.code == "answer_unauthenticated"
        # A real authenticated answer, recorded for one nonce.
        host, port = s.url[len("http://") :].rsplit(":", 1)
        conn = http.client.HTTPConnection(host, int(port), timeout=5)
        conn.request("POST", "/v1/eval", body=json.dumps(WRITE_OK).encode(), headers={"Content-Type": "application/json", "Gait-Nonce": "recorded"})
        resp = conn.getresponse()
        recorded, mac = resp.read(), resp.getheader("Gait-Answer-Mac")
        conn.close()
        assert resp.status == 200 and mac and json.loads(recorded)["verdict"] == "allow"
        # A relay that passes the client's own nonce on to the real sidecar
        # with another intent gets a real MAC — for another request.
        relay = Relay(s.url, WRITE_OK)
        try:
            with pytest.raises(gait.GateUnavailable) as e:
                gait.Gate.sidecar(relay.url, answer_key=ANSWER_KEY).evaluate(DELETE)
            assert e.value.code == "answer_unauthenticated"
            assert relay.relayed >= 1
        finally:
            relay.close()
    finally:
        s.stop()
    allow = gate.evaluate(WRITE_OK).raw
    impostors = [
        ("a true allow without a MAC", http_response("200 OK", allow)),
        ("a true allow with a made-up MAC", http_response("200 OK", allow, "Gait-Answer-Mac: " + "0" * 64 + "\r\n")),
        ("a real answer replayed (another nonce)", http_response("200 OK", recorded, f"Gait-Answer-Mac: {mac}\r\n")),
    ]
    for name, response in impostors:
        server = Scripted(lambda response=response: response)
        try:
            # Without the key the impostor's allow is believed: what the key is for.
            assert gait.Gate.sidecar(server.url).evaluate(WRITE_OK).verdict == "allow", name
            g = gait.Gate.sidecar(server.url, answer_key=ANSWER_KEY, timeout=5)
            with pytest.raises(gait.GateUnavailable) as e:
                g.evaluate(WRITE_OK)
            assert e.value.code == "answer_unauthenticated", (name, e.value)
            with pytest.raises(gait.GateUnavailable):
                _ = g.policy
        finally:
            server.close()
    for short in ("", "short", "x" * 31):
        with pytest.raises(gait.GateUnavailable) as e:
            gait.Gate.sidecar(s.url, answer_key=short)
        assert e.value.code == "invalid_input"


def test_an_authenticated_sidecars_refusal_of_an_unread_body_is_believed(bundle: Path, trust: Path) -> None:
    """A body over the sidecar's cap is refused (413) unread: its answer's
    MAC covers the digest of no body. The client reports the sidecar's
    refusal, not an unauthenticated answer; no other status is believed
    that way (a 200 always covers the body read; a 415 or 408 cannot answer
    a JSON body sent whole, but a relay's other request)."""
    s = Sidecar(bundle, trust, answer_key=ANSWER_KEY, extra=("--max-body-bytes", "64"))
    try:
        g = gait.Gate.sidecar(s.url, answer_key=ANSWER_KEY)
        d = g.evaluate(WRITE_OK)
        assert d.verdict == "block" and d.exit_code == 6, d
        assert "larger than 64 bytes" in (d.result.get("error") or ""), d.raw
        with pytest.raises(gait.GateUnavailable) as e:
            gait.Gate.sidecar(s.url, answer_key=ANSWER_KEY[::-1]).evaluate(WRITE_OK)
        assert e.value.code == "answer_unauthenticated"
    finally:
        s.stop()
    # The digest of no body makes no other status's answer count, though
    # the rest of the MAC (the client's own nonce) is right.
    def unread_mac(head: bytes, status: str, body: bytes) -> str:
        nonce = next(line.split(b":", 1)[1].strip() for line in head.split(b"\r\n") if line.lower().startswith(b"gait-nonce:"))
        parts = [b"gait.answer.v2", nonce, b"POST", b"/v1/eval", hashlib.sha256(b"").hexdigest().encode(), status.split()[0].encode()]
        return hmac.new(ANSWER_KEY.encode(), b"".join(p + b"\n" for p in parts) + body, hashlib.sha256).hexdigest()

    refusal = json.dumps({**json.loads(d.raw), "verdict": "allow"}).encode()
    unread_415 = json.dumps({**json.loads(d.raw), "error": "the request's Content-Type must be application/json"}).encode()
    for status, body, believed in [
        ("413 Payload Too Large", d.raw, True),
        ("200 OK", refusal, False),
        ("500 Internal Server Error", d.raw, False),
        # A relay's other request refused unread (not JSON): not this one's.
        ("415 Unsupported Media Type", unread_415, False),
        ("408 Request Timeout", d.raw, False),
    ]:
        server = Scripted(lambda head, status=status, body=body: http_response(status, body, f"Gait-Answer-Mac: {unread_mac(head, status, body)}\r\n"), with_request=True)
        try:
            g = gait.Gate.sidecar(server.url, answer_key=ANSWER_KEY, timeout=5)
            if believed:
                assert g.evaluate(WRITE_OK).verdict == "block"
            else:
                with pytest.raises(gait.GateUnavailable) as e:
                    g.evaluate(WRITE_OK)
                assert e.value.code == "answer_unauthenticated", (status, e.value)
        finally:
            server.close()


def test_sidecar_allow_must_be_about_the_intent_sent(gate: gait.Gate) -> None:
    """An allow whose intent_digest is not the digest the client computes
    for the intent it sent (an answer about another intent, replayed, or
    made up) is refused; the digest the client computes is the one the
    runtime gives, in every spelling of the same intent."""
    other = {**WRITE_OK, "args": {"path": "/workspace/b.txt", "content": "y"}}
    cases = [
        ("an allow about another intent", gate.evaluate(other).raw),
        ("an allow without intent_digest", _with_result(gate, WRITE_OK, intent_digest=_DROP)),
        ("an allow with intent_digest null", _with_result(gate, WRITE_OK, intent_digest=None)),
        ("an allow with a made-up intent_digest", _with_result(gate, WRITE_OK, intent_digest="sha256:" + "0" * 64)),
    ]
    for name, body in cases:
        server = Scripted(lambda body=body: http_response("200 OK", body))
        try:
            g = gait.Gate.sidecar(server.url, timeout=5)
            with pytest.raises(gait.GateUnavailable) as e:
                g.evaluate(WRITE_OK)
            assert e.value.code == "answer_untrusted" and "intent_digest" in str(e.value), (name, e.value)
            with pytest.raises(gait.GateUnavailable):
                asyncio.run(g.aevaluate(WRITE_OK))
        finally:
            server.close()
    for intent in (WRITE_OK, json.dumps(WRITE_OK, indent=3), DELETE, EXEC, {**WRITE_OK, "context": {"risk_class": "LOW", "workspace": "/workspace/"}}):
        text = intent.encode() if isinstance(intent, str) else json.dumps(intent).encode()
        assert gait._native.intent_digest(text) == gate.evaluate(intent).intent_digest, intent
    envelope = json.dumps({"intent": WRITE_OK, "approval_tokens": []}).encode()
    assert gait._native.intent_digest(envelope) == gate.evaluate(WRITE_OK).intent_digest
    assert gait._native.intent_digest(b"[]") is None and gait._native.intent_digest(b"not json") is None
    # The envelope read as the sidecar reads it: the intent's own bytes (a
    # duplicate key inside it is refused, not merged away), and a malformed
    # envelope (a repeated or unknown member) has no digest.
    intent_text = json.dumps(WRITE_OK).encode()
    assert gait._native.intent_digest(b'{"intent": ' + intent_text + b"}") == gate.evaluate(WRITE_OK).intent_digest
    duplicated = b'{"intent": {"tool_name": "write_file", "tool_name": "read_file", "args": {"path": "/workspace/a"}}}'
    assert gait._native.intent_digest(duplicated) is None
    for malformed in (
        b'{"intent": ' + intent_text + b', "intent": ' + intent_text + b"}",
        b'{"intent": ' + intent_text + b', "approval_tokens": {}}',
        b'{"intent": ' + intent_text + b', "extra": 1}',
    ):
        assert gait._native.intent_digest(malformed) is None, malformed


def test_a_simulating_sidecar_is_refused_unless_accepted(bundle: Path, trust: Path) -> None:
    """`gait-run serve --simulate` answers allow to calls the policy blocks
    (marked simulated_verdict / would_have_blocked): the client refuses
    such an answer unless it opts in with accept_simulated=True."""
    s = Sidecar(bundle, trust, extra=("--simulate",))
    try:
        g = gait.Gate.sidecar(s.url)
        for intent in (WRITE_ETC, WRITE_OK):
            with pytest.raises(gait.GateUnavailable) as e:
                g.evaluate(intent)
            assert e.value.code == "answer_untrusted" and "simulate" in str(e.value)
        calls: List[Any] = []

        @g.guard("write_file", context=gait.Context(risk_class="low"))
        def write_file(path: str) -> None:
            calls.append(path)

        with pytest.raises(gait.GateUnavailable):
            write_file("/workspace/../etc/passwd")
        assert calls == []
        accepting = gait.Gate.sidecar(s.url, accept_simulated=True)
        d = accepting.evaluate(WRITE_ETC)
        assert d.verdict == "allow" and d.result["would_have_blocked"] is True
    finally:
        s.stop()


def _bounded(fn: Any, limit: float) -> Tuple[float, Any]:
    """Runs fn on a thread; (seconds taken, what it raised or returned)."""
    out: List[Any] = []
    start = time.monotonic()

    def run_it() -> None:
        try:
            out.append(fn())
        except BaseException as e:  # noqa: BLE001 - returned
            out.append(e)

    t = threading.Thread(target=run_it, daemon=True)
    t.start()
    t.join(limit)
    assert out, f"still running after {limit} s"
    return time.monotonic() - start, out[0]


def test_sidecar_timeout_bounds_the_whole_request() -> None:
    """A sidecar that sends its answer one byte at a time (each byte well
    within the timeout) cannot hold the caller past the timeout: not in
    the headers, not in the body."""

    def drip(prefix: bytes) -> Any:
        def respond() -> Any:
            yield prefix
            for _ in range(400):
                time.sleep(0.05)
                yield b"x"

        return respond

    for name, respond in [
        ("headers", drip(b"HTTP/1.1 200 OK\r\nX-Slow: ")),
        ("body", drip(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n")),
    ]:
        server = Scripted(respond)
        try:
            g = gait.Gate.sidecar(server.url, timeout=0.5)
            took, raised = _bounded(lambda: g.evaluate(WRITE_OK), 15)
            assert isinstance(raised, gait.GateUnavailable) and raised.code == "timeout", (name, raised)
            assert took < 2.5, (name, took)
            took, raised = _bounded(lambda: asyncio.run(g.aevaluate(WRITE_OK)), 15)
            assert isinstance(raised, gait.GateUnavailable) and raised.code == "timeout", (name, raised)
            assert took < 2.5, (name, took)
        finally:
            server.close()


def test_sidecar_response_body_is_capped() -> None:
    """At most 1 MiB of an answer is read: a larger one (declared, or sent
    chunked without end) is GateUnavailable at once."""
    big = b"[" + b"0," * (1024 * 1024) + b"0]"

    def endless_chunks() -> Any:
        yield b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
        chunk = b"x" * 65536
        for _ in range(1000):
            yield b"%x\r\n%s\r\n" % (len(chunk), chunk)

    for name, respond in [("declared", lambda: http_response("200 OK", big)), ("chunked", endless_chunks)]:
        server = Scripted(respond)
        try:
            took, raised = _bounded(lambda: gait.Gate.sidecar(server.url, timeout=30).evaluate(WRITE_OK), 40)
            assert isinstance(raised, gait.GateUnavailable) and raised.code == "response_too_large", (name, raised)
            assert took < 10, (name, took)
        finally:
            server.close()


def test_gate_arguments_out_of_range_are_gate_unavailable(bundle: Path, trust: Path) -> None:
    bad: List[dict[str, Any]] = [
        {"min_revision": -1},
        {"min_revision": 2**40},
        {"min_revision": "1"},
        {"decision_timeout_ms": -5},
        {"decision_timeout_ms": 0},
        {"decision_timeout_ms": 2**70},
        {"decision_timeout_ms": True},
    ]
    for kwargs in bad:
        with pytest.raises(gait.GateUnavailable) as e:
            gait.Gate.load(bundle, [trust], **kwargs)
        assert e.value.code == "invalid_input", kwargs
        with pytest.raises(gait.GateUnavailable) as e:
            gait.Gate.subprocess(bundle, [trust], gait_run=GAIT_RUN, **kwargs)
        assert e.value.code == "invalid_input", kwargs
    for timeout in (0, -1.0, math.nan, math.inf):
        with pytest.raises(gait.GateUnavailable):
            gait.Gate.sidecar("http://127.0.0.1:1", timeout=timeout)
        with pytest.raises(gait.GateUnavailable):
            gait.Gate.subprocess(bundle, [trust], gait_run=GAIT_RUN, timeout=timeout)


def test_a_failure_to_encode_is_gate_unavailable_sync_and_async(gate: gait.Gate, sidecar: Sidecar, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever goes wrong while writing the intent (here: the encoder
    raising RuntimeError) is GateUnavailable on every path, as in the
    in-process evaluate — never another exception."""

    def broken(intent: Any) -> bytes:
        raise RuntimeError("encoder broke")

    monkeypatch.setattr(_native, "encode_intent", broken)
    over_http = gait.Gate.sidecar(sidecar.url)
    for call in (lambda: asyncio.run(gate.aevaluate(WRITE_OK)), lambda: over_http.evaluate(WRITE_OK), lambda: asyncio.run(over_http.aevaluate(WRITE_OK))):
        with pytest.raises(gait.GateUnavailable) as e:
            call()
        assert e.value.code == "internal_error"


# -- the subprocess transport ------------------------------------------------


def test_subprocess_allow_with_a_nonzero_exit_is_not_believed(gate: gait.Gate, bundle: Path, trust: Path, tmp_path: Path) -> None:
    allow = tmp_path / "allow.json"
    allow.write_bytes(gate.evaluate(WRITE_OK).raw)
    approval = tmp_path / "approval.json"
    approval.write_bytes(_with_result(gate, DELETE, required_approvals=_DROP))
    for exit_code, body in [(3, allow), (1, allow), (4, allow), (6, allow), (4, approval)]:
        fake = tmp_path / f"fake-{exit_code}-{body.stem}"
        fake.write_text(
            "#!/bin/sh\n"
            'if [ "$1" = verify ]; then echo \'{"ok": true, "policy": {"revision": 1}}\'; exit 0; fi\n'
            f"cat {body}\nexit {exit_code}\n"
        )
        fake.chmod(0o755)
        g = gait.Gate.subprocess(bundle, [trust], gait_run=str(fake))
        with pytest.raises(gait.GateUnavailable) as e:
            g.evaluate(WRITE_OK)
        assert e.value.code == "bad_output", (exit_code, body)
        with pytest.raises(gait.GateUnavailable):
            asyncio.run(g.aevaluate(WRITE_OK))


def test_subprocess_refuses_an_older_bundle_after_a_newer_one(keys: Tuple[Path, Path], tmp_path: Path) -> None:
    """The subprocess transport keeps a rollback floor: the highest revision
    it has verified. An older, validly signed bundle copied over the file
    afterwards is refused by every eval and by reload()."""
    src = (FIXTURES / "agent.gaitpol").read_text()
    v1 = build_bundle(FIXTURES / "agent.gaitpol", tmp_path / "v1.gaitb", keys[0])
    rev2 = tmp_path / "rev2.gaitpol"
    rev2.write_text(src.replace("revision 1", "revision 2"))
    v2 = build_bundle(rev2, tmp_path / "v2.gaitb", keys[0])
    live = tmp_path / "live.gaitb"

    # Seen at construction (verify).
    shutil.copy(v2, live)
    g = gait.Gate.subprocess(live, [keys[1]], gait_run=GAIT_RUN)
    assert g.evaluate(WRITE_OK).verdict == "allow"
    shutil.copy(v1, live)
    for call in (lambda: g.evaluate(WRITE_OK), lambda: asyncio.run(g.aevaluate(WRITE_OK)), g.reload):
        with pytest.raises(gait.GateUnavailable) as e:
            call()
        assert e.value.code == "bundle_revision_rollback"

    # Seen in an eval result only.
    shutil.copy(v1, live)
    g = gait.Gate.subprocess(live, [keys[1]], gait_run=GAIT_RUN)
    shutil.copy(v2, live)
    assert g.evaluate(WRITE_OK).result["policy"]["revision"] == 2
    shutil.copy(v1, live)
    with pytest.raises(gait.GateUnavailable) as e:
        g.evaluate(WRITE_OK)
    assert e.value.code == "bundle_revision_rollback"
    # The newer one back: decides again.
    shutil.copy(v2, live)
    assert g.evaluate(WRITE_OK).verdict == "allow" and g.reload()["revision"] == 2


def test_subprocess_takes_a_bundle_path_starting_with_a_dash(bundle: Path, trust: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    shutil.copy(bundle, tmp_path / "-agent.gaitb")
    g = gait.Gate.subprocess("-agent.gaitb", [trust], gait_run=GAIT_RUN)
    assert g.policy["revision"] == 1
    assert g.evaluate(WRITE_OK).verdict == "allow"
