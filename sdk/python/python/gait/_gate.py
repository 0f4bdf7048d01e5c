"""The gate: three transports, one API, one verdict.

* :meth:`Gate.load` decides in this process with the runtime itself (the
  ``gait._native`` module: the bundle verified as ``gait-run verify`` does,
  every decision made by the runtime's gate entry with the GIL released).
* :meth:`Gate.sidecar` asks a ``gait-run serve`` over keep-alive HTTP.
* :meth:`Gate.subprocess` runs ``gait-run eval`` once per decision.

All three give the same :class:`Decision` for the same intent. Whatever
cannot be decided raises :class:`GateUnavailable`; it never answers allow.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import http.client
import inspect
import io
import json
import logging
import math
import os
import secrets
import socket
import subprocess as _subprocess
import threading
import time
import urllib.parse
import uuid
from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Sequence, TypeVar, Union, cast

from . import _native
from ._context import Context
from ._convert import NotExactJSON, exact_copy
from ._decision import Decision, exit_for_verdict, from_result
from ._errors import ApprovalRequired, Blocked, GateUnavailable, NotAllowed
from ._trace import mark_executed, write_record

PathLike = Union[str, "os.PathLike[str]"]
Intent = Union[Dict[str, Any], str, bytes]
F = TypeVar("F", bound=Callable[..., Any])
log = logging.getLogger("gait")

# An intent up to this size is decided on the event loop's thread by
# `aevaluate` (microseconds); a larger one on a worker thread.
_INLINE_BYTES = 8192

try:  # PyO3's panic exception derives from BaseException, not Exception.
    from pyo3_runtime import PanicException as _Panic  # type: ignore[import-not-found]
except ImportError:  # pragma: no cover - the module exists once _native loaded
    _Panic = Exception


def _encode(intent: Any) -> Union[bytes, Decision]:
    """The intent's text, or the runtime's invalid-intent decision for a
    value that JSON cannot hold (the same in every transport). Any other
    failure is :class:`GateUnavailable` (``internal_error``), as in the
    in-process ``evaluate``: never an exception of another kind."""
    try:
        return _native.encode_intent(intent)
    except (TypeError, ValueError, UnicodeError) as e:
        return Decision._invalid(str(e))
    except (Exception, _Panic) as e:  # a bug: fail closed, loudly
        raise GateUnavailable(f"{type(e).__name__}: {e}", "internal_error") from None


def refusal(decision: Decision, tool_name: Optional[str] = None) -> NotAllowed:
    """The exception for a decision that is not ``allow``."""
    if decision.verdict == "require_approval":
        return ApprovalRequired(decision, tool_name)
    return Blocked(decision, tool_name)


class Gate:
    """A policy gate. Build one with :meth:`load`, :meth:`sidecar` or
    :meth:`subprocess`; all are thread-safe and usable from asyncio."""

    transport: str = "?"

    # -- constructors -----------------------------------------------------

    @staticmethod
    def load(
        bundle: PathLike,
        trust: Sequence[PathLike],
        pin: Optional[str] = None,
        min_revision: Optional[int] = None,
        decision_timeout_ms: Optional[int] = None,
    ) -> "Gate":
        """The in-process gate. ``trust`` are public key files (several for
        rotation); ``pin`` a policy digest (``sha256:…``); ``min_revision``
        refuses older bundles. Raises :class:`GateUnavailable` (with the
        stable code, e.g. ``bundle_signature_invalid``) for a rejected
        bundle, and (``invalid_input``) for unusable arguments — no trusted
        key, a malformed pin, ``min_revision`` outside 0 … 2**32-1,
        ``decision_timeout_ms`` outside 1 … 60000."""
        return _InProcessGate(bundle, trust, pin, min_revision, decision_timeout_ms)

    @staticmethod
    def sidecar(
        url: str,
        token: Optional[str] = None,
        timeout: float = 5.0,
        pin: Optional[str] = None,
        *,
        accept_simulated: bool = False,
        answer_key: Optional[str] = None,
    ) -> "Gate":
        """A gate that asks ``gait-run serve`` at ``url`` (``http://host:port``)
        over keep-alive HTTP, with a bearer ``token`` if the sidecar wants
        one. ``timeout`` (seconds) bounds each whole request — connecting,
        sending, and the entire answer —, and at most 1 MiB of an answer is
        read (``GateUnavailable``: ``timeout``, ``response_too_large``).

        **Without ``answer_key`` this transport trusts whoever answers on
        ``url``.** The server is not authenticated (the bearer token is sent
        to whatever server answers, in clear over ``http``): a process that
        binds the address while the sidecar is down or restarting can answer
        ``allow`` to any call. With ``answer_key`` — the secret (at least 32
        bytes) the sidecar was started with (``gait-run serve
        --answer-key-env VAR``) — every request carries a fresh random
        ``Gait-Nonce`` and every answer must carry the ``Gait-Answer-Mac``
        that only a holder of the secret can compute over that nonce, the
        status and the body (``GateUnavailable`` ``answer_unauthenticated``
        otherwise: the call must not run). The secret itself is never sent.
        Otherwise use a loopback address that only the sidecar can bind,
        ``https`` to a host you trust, or the in-process transport
        (:meth:`load`), which verifies the bundle itself.

        What the client checks on an ``allow`` (``GateUnavailable``
        ``answer_untrusted`` otherwise: the call must not run): a
        ``gait.gate.result`` with ``ok: true`` and ``bundle_verified: true``
        (a sidecar started with ``--insecure-skip-verify`` says false);
        with ``pin`` (``sha256:...``), that policy digest in the answer;
        an ``intent_digest`` equal to the digest this client computes for
        the intent it sent (so an answer about another intent, or replayed
        from another call, is refused — it does not prove that a verified
        bundle decided, since a server can compute the same digest); and
        no mark of ``gait-run serve --simulate`` (``simulated_verdict``,
        ``would_have_blocked``, the reason ``simulate_mode_non_enforcing``),
        whose ``allow`` enforces nothing, unless ``accept_simulated=True``.
        Every one of these fields is the answering server's own claim: they
        catch a misconfigured sidecar; ``answer_key`` catches an impostor."""
        return _SidecarGate(url, token, timeout, pin, accept_simulated, answer_key)

    @staticmethod
    def subprocess(
        bundle: PathLike,
        trust: Sequence[PathLike],
        gait_run: str = "gait-run",
        timeout: float = 10.0,
        pin: Optional[str] = None,
        min_revision: Optional[int] = None,
        decision_timeout_ms: Optional[int] = None,
    ) -> "Gate":
        """A gate that runs ``gait-run eval`` for each decision (the bundle is
        verified at construction with ``gait-run verify``, and by every
        ``eval`` again). ``timeout`` (seconds) bounds each run. Like
        :meth:`load`, it never goes back to a lower revision: every
        ``verify`` and ``eval`` is given ``--min-revision`` = the highest
        revision it has verified so far (at least ``min_revision``)."""
        return _SubprocessGate(bundle, trust, gait_run, timeout, pin, min_revision, decision_timeout_ms)

    # -- decisions --------------------------------------------------------

    def evaluate(self, intent: Intent) -> Decision:
        """Decides one intent: a dict (JSON values only), JSON ``str`` or
        ``bytes``. An invalid intent is a ``block`` decision (reason
        ``intent_invalid``), never an exception; a gate that cannot decide
        raises :class:`GateUnavailable`."""
        raise NotImplementedError

    async def aevaluate(self, intent: Intent) -> Decision:
        """:meth:`evaluate` for asyncio."""
        raise NotImplementedError

    def reload(self) -> Dict[str, Any]:
        """Re-reads the policy (in-process: verifies the bundle file again,
        never accepting a lower revision, and keeps the old one if the new is
        rejected — raising :class:`GateUnavailable`). Returns the policy now
        deciding."""
        raise NotImplementedError

    @property
    def policy(self) -> Dict[str, Any]:
        """The policy deciding now (name, version, revision, digest)."""
        raise NotImplementedError

    def check(self, decision: Decision, tool_name: Optional[str] = None) -> Decision:
        """Returns the decision if it allows, else raises :class:`Blocked` or
        :class:`ApprovalRequired`."""
        if decision.verdict == "allow":
            return decision
        raise refusal(decision, tool_name)

    # -- wrapper mode -----------------------------------------------------

    def guard(
        self,
        tool_name: str,
        context: Optional[Context] = None,
        *,
        trace_dir: Optional[PathLike] = None,
    ) -> Callable[[F], F]:
        """Decorates a function (sync or async) as the tool ``tool_name``.

        Each call builds the intent ``{"tool_name", "args": <the call's
        arguments by parameter name, defaults applied>, "context",
        "skill_provenance"}`` — the policy's ``map tool`` mappings turn the
        arguments into targets —, asks the gate, and runs the function once,
        only on ``allow``. Otherwise it raises :class:`Blocked` /
        :class:`ApprovalRequired` (both :class:`NotAllowed`, carrying the
        decision) or :class:`GateUnavailable`, without running it. A
        parameter named ``self`` or ``cls`` in first place is left out of
        ``args``.

        The function runs with exactly the values that were decided on:
        arguments must be of the exact JSON types (``dict`` with ``str``
        keys, ``list``, ``tuple``, ``str``, ``int``, ``float``, ``bool``,
        ``None`` — not subclasses) or exact ``pathlib`` paths (decided as
        ``str(path)``). Any other argument (an enum, a dataclass, a
        ``str`` subclass, a set, ...) makes the intent invalid: the call is
        blocked (:class:`Blocked`, reason ``intent_invalid``) without asking
        the gate or running the function.

        With ``trace_dir``, one record per decision is written to
        ``<trace_dir>/wrapper/<id>.json`` (a fresh random id per call). On
        ``allow`` the record is written, with ``executed: false``, before
        the function runs — if it cannot be written the function is not run
        and :class:`GateUnavailable` (code ``record_write_failed``) is
        raised — and rewritten with ``executed: true`` once the function
        has run (returned or raised); a failure of that rewrite is logged
        (logger ``gait``) and never replaces the function's result. A
        record of a refused call that cannot be written is logged too; the
        refusal is raised as it would be."""
        if not isinstance(tool_name, str) or not tool_name.strip():
            raise ValueError("guard needs a non-empty tool name")
        ctx_json = context.context_json() if context is not None else None
        skill_json = context.skill_json() if context is not None else None
        gate = self

        def decorate(fn: F) -> F:
            sig = inspect.signature(fn)
            params = list(sig.parameters.values())
            skip = params[0].name if params and params[0].name in ("self", "cls") else None
            var_kw = next((p.name for p in params if p.kind is inspect.Parameter.VAR_KEYWORD), None)
            # Fast path for the common signature (no positional-only, no
            # *args/**kwargs): the arguments by name without sig.bind.
            P = inspect.Parameter
            plain = all(p.kind in (P.POSITIONAL_OR_KEYWORD, P.KEYWORD_ONLY) for p in params)
            positional = len([p for p in params if p.kind is P.POSITIONAL_OR_KEYWORD])
            names = [p.name for p in params]
            defaults = [p.default for p in params]
            empty = P.empty

            def bind(args: Any, kwargs: Any) -> "tuple[Dict[str, Any], Optional[inspect.BoundArguments]]":
                """The arguments by parameter name, defaults included, as
                Python binds them (its ``TypeError`` for a call that does
                not fit), and the ``BoundArguments`` behind them (None on
                the fast path, where every argument can be passed by name)."""
                if plain and len(args) <= positional:
                    out: Dict[str, Any] = {}
                    n = len(args)
                    used = 0
                    for i, name in enumerate(names):
                        if i < n:
                            if name in kwargs:
                                break  # given twice: let sig.bind raise
                            out[name] = args[i]
                        elif name in kwargs:
                            out[name] = kwargs[name]
                            used += 1
                        elif defaults[i] is not empty:
                            out[name] = defaults[i]
                        else:
                            break  # missing: let sig.bind raise
                    else:
                        if used == len(kwargs):
                            return out, None
                bound = sig.bind(*args, **kwargs)
                bound.apply_defaults()
                return bound.arguments, bound

            def build(arguments: Dict[str, Any]) -> "tuple[Dict[str, Any], Optional[str]]":
                """The intent of a call, and why it is invalid (None when it
                is not): a ``**kwargs`` key that is the name of another
                parameter (a positional-only one, or the ``*args`` one)
                would be judged in place of the value that parameter
                really receives, so it is never merged."""
                call_args: Dict[str, Any] = {}
                clash: Optional[str] = None
                for name, value in arguments.items():
                    if name == skip:
                        continue
                    if name == var_kw:
                        for key, item in value.items():
                            if key in names and key != var_kw:
                                clash = clash or (
                                    f"args: the **{var_kw} key {key!r} is also the name of the parameter {key!r} "
                                    "(positional-only or *args), which receives another value"
                                )
                            else:
                                call_args[key] = item
                    else:
                        call_args[name] = value
                intent: Dict[str, Any] = {"tool_name": tool_name, "args": call_args}
                if ctx_json is not None:
                    intent["context"] = ctx_json
                if skill_json is not None:
                    intent["skill_provenance"] = skill_json
                return intent, clash

            def prepare(args: Any, kwargs: Any) -> "tuple[Dict[str, Any], Union[bytes, Decision], Callable[[], Any]]":
                """The intent, what to decide — its JSON text, or, for
                arguments that are not exact JSON types, that JSON cannot
                hold, or that a ``**kwargs`` key would hide, the runtime's
                invalid-intent decision —, and the call of the function
                with deep copies of the judged values, defaults included:
                a change made to the caller's objects (or to a mutable
                default) while the gate decides never reaches the
                function."""
                arguments, bound = bind(args, kwargs)
                try:
                    run = {name: (v if name == skip else exact_copy(v)) for name, v in arguments.items()}
                except NotExactJSON as e:
                    intent, _ = build(arguments)
                    return intent, Decision._invalid(f"args: {e}"), lambda: None
                # The call keeps its shape (a decorator under guard may read
                # args[0] or add a keyword): the given arguments' copies where
                # they were given, and a left-out default only when its copy
                # is another object (a mutable one: the function must not
                # see it changed) — an immutable one stays implicit.
                if bound is None:
                    n = len(args)
                    pos = tuple(run[name] for name in names[:n])
                    kws = {
                        name: run[name]
                        for name in names[n:]
                        if name in kwargs or run[name] is not arguments[name]
                    }
                    call = functools.partial(fn, *pos, **kws)
                else:
                    rebound = sig.bind(*args, **kwargs)
                    added = [n for n, v in run.items() if n not in rebound.arguments and v is not arguments[n]]
                    if added:
                        # A positional parameter added pulls in the ones
                        # before it (a gap would pass it by keyword).
                        last = max(names.index(n) for n in added)
                        for param in params[:last]:
                            if param.kind in (P.POSITIONAL_ONLY, P.POSITIONAL_OR_KEYWORD):
                                added.append(param.name)
                    for name, value in run.items():
                        if name in rebound.arguments or name in added:
                            rebound.arguments[name] = value
                    call = functools.partial(fn, *rebound.args, **rebound.kwargs)
                intent, clash = build(run)
                if clash is not None:
                    return intent, Decision._invalid(clash), call
                # The judged values, in a copy of their own (paths as
                # strings): the function changing its arguments never
                # changes the record of what was decided.
                intent["args"] = exact_copy(intent["args"], as_json=True)
                return intent, _encode(intent), call

            def refused(intent: Any, decision: Optional[Decision], error: Optional[str] = None) -> None:
                if trace_dir is not None:
                    try:
                        write_record(trace_dir, "wrapper", uuid.uuid4().hex, intent, decision, False, error)
                    except Exception as e:  # noqa: BLE001 - the call is refused either way
                        log.warning("gait: the decision record of a refused call could not be written: %s", e)

            def before_run(intent: Any, decision: Decision) -> "Optional[tuple[Path, str]]":
                if trace_dir is None:
                    return None
                call_id = uuid.uuid4().hex
                try:
                    return write_record(trace_dir, "wrapper", call_id, intent, decision, False), call_id
                except Exception as e:  # noqa: BLE001 - refuse: never run unrecorded
                    raise GateUnavailable(f"the decision record could not be written: {e}", "record_write_failed") from None

            def after_run(pending: "Optional[tuple[Path, str]]", intent: Any, decision: Decision) -> None:
                if pending is not None:
                    mark_executed(pending[0], "wrapper", pending[1], intent, decision)

            if inspect.iscoroutinefunction(fn):

                @functools.wraps(fn)
                async def awrapper(*args: Any, **kwargs: Any) -> Any:
                    intent, payload, call = prepare(args, kwargs)
                    if isinstance(payload, Decision):
                        decision = payload
                    else:
                        try:
                            decision = await gate.aevaluate(payload)
                        except GateUnavailable as e:
                            refused(intent, None, str(e))
                            raise
                    if decision.verdict != "allow":
                        refused(intent, decision)
                        raise refusal(decision, tool_name)
                    pending = before_run(intent, decision)
                    try:
                        return await call()
                    finally:
                        after_run(pending, intent, decision)

                return cast(F, awrapper)

            @functools.wraps(fn)
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                intent, payload, call = prepare(args, kwargs)
                if isinstance(payload, Decision):
                    decision = payload
                else:
                    try:
                        decision = gate.evaluate(payload)
                    except GateUnavailable as e:
                        refused(intent, None, str(e))
                        raise
                if decision.verdict != "allow":
                    refused(intent, decision)
                    raise refusal(decision, tool_name)
                pending = before_run(intent, decision)
                try:
                    return call()
                finally:
                    after_run(pending, intent, decision)

            return cast(F, wrapper)

        return decorate


def _check_numbers(min_revision: Any, decision_timeout_ms: Any) -> None:
    """``min_revision`` (0 … 2**32-1) and ``decision_timeout_ms``
    (1 … 60000) as the runtime takes them, else GateUnavailable
    (``invalid_input``)."""
    for name, value, low, high in (
        ("min_revision", min_revision, 0, 2**32 - 1),
        ("decision_timeout_ms", decision_timeout_ms, 1, 60_000),
    ):
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise GateUnavailable(f"{name} must be an integer in {low}..={high}, got {value!r}", "invalid_input")


class _InProcessGate(Gate):
    transport = "in_process"

    def __init__(
        self,
        bundle: PathLike,
        trust: Sequence[PathLike],
        pin: Optional[str],
        min_revision: Optional[int],
        decision_timeout_ms: Optional[int],
    ) -> None:
        if isinstance(trust, (str, bytes, os.PathLike)):
            trust = [trust]
        _check_numbers(min_revision, decision_timeout_ms)
        try:
            self._gate = _native.NativeGate(
                os.fspath(bundle), [os.fspath(t) for t in trust], pin, min_revision, decision_timeout_ms
            )
        except _native.BundleRejected as e:
            code, message = e.args
            raise GateUnavailable(message, code) from None
        except (ValueError, TypeError, OverflowError, OSError) as e:
            # OverflowError: a negative or too large min_revision /
            # decision_timeout_ms (not a u32 / u64).
            raise GateUnavailable(f"{type(e).__name__}: {e}", "invalid_input") from None
        self._eval = self._gate.evaluate

    def evaluate(self, intent: Intent) -> Decision:
        try:
            t = self._eval(intent)
        except _native.BundleRejected as e:
            code, message = e.args
            raise GateUnavailable(message, code) from None
        except (Exception, _Panic) as e:  # a bug: fail closed, loudly
            raise GateUnavailable(f"{type(e).__name__}: {e}", "internal_error") from None
        return Decision(t[0], t[1], t[2], t[3], t[4])

    async def aevaluate(self, intent: Intent) -> Decision:
        encoded = _encode(intent)
        if isinstance(encoded, Decision):
            return encoded
        if len(encoded) <= _INLINE_BYTES:
            return self.evaluate(encoded)
        return await asyncio.to_thread(self.evaluate, encoded)

    def reload(self) -> Dict[str, Any]:
        try:
            return self._gate.reload()
        except _native.BundleRejected as e:
            code, message = e.args
            raise GateUnavailable(message, code) from None

    @property
    def policy(self) -> Dict[str, Any]:
        return self._gate.policy()


# The largest sidecar response read (a gate result is about 1 KiB); a
# larger one is GateUnavailable (`response_too_large`).
_MAX_RESPONSE_BYTES = 1024 * 1024

# The status at which `gait-run serve` refuses a body this client sends
# without reading it (413: over its cap), its answer MAC covering the
# digest of no body. Never an allow. (Its other unread refusals — 415 not
# JSON, 408 not received in time, 400 unreadable — cannot answer a body
# this client sent whole as JSON: believing them would let a relay that
# sent the sidecar another request pass its genuine refusal off as this
# one's.)
_UNREAD_BODY_STATUSES = (413,)


# The shortest answer key `gait-run serve --answer-key-env` accepts.
_MIN_ANSWER_KEY_BYTES = 32


def _answer_key_bytes(answer_key: Any) -> Optional[bytes]:
    """The answer key's bytes (UTF-8, as the sidecar reads its variable);
    ``GateUnavailable`` ``invalid_input`` for a key that is not a string of
    at least 32 bytes or not UTF-8 (a value from ``os.environ`` may hold
    undecodable bytes)."""
    if answer_key is None:
        return None
    try:
        key = answer_key.encode() if isinstance(answer_key, str) else None
    except UnicodeEncodeError:
        key = None
    if key is None or len(key) < _MIN_ANSWER_KEY_BYTES:
        raise GateUnavailable(f"answer_key must be UTF-8 text of at least {_MIN_ANSWER_KEY_BYTES} bytes", "invalid_input")
    return key


def _timeout_seconds(timeout: Any) -> float:
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not math.isfinite(timeout) or timeout <= 0:
        raise GateUnavailable(f"timeout must be a positive number of seconds, got {timeout!r}", "invalid_input")
    return float(timeout)


class _DeadlineReader(io.RawIOBase):
    """The socket as a raw stream whose every read waits at most until the
    request's deadline: the timeout bounds the whole response (status,
    headers and body), not each read — a server that sends one byte at a
    time cannot hold the caller past it."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        super().__init__()
        self._sock = sock
        self._deadline = deadline

    def readable(self) -> bool:
        return True

    def readinto(self, b: Any) -> int:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the sidecar did not answer within the timeout")
        self._sock.settimeout(remaining)
        return self._sock.recv_into(b)

    def fileno(self) -> int:
        return self._sock.fileno()


class _DeadlineResponse(http.client.HTTPResponse):
    """An ``HTTPResponse`` read through a :class:`_DeadlineReader`."""

    def __init__(self, sock: Any, debuglevel: int = 0, method: Optional[str] = None, url: Optional[str] = None, *, deadline: float) -> None:
        super().__init__(sock, debuglevel, method, url)
        self.fp.close()  # the plain reader made by HTTPResponse: not used
        self.fp = io.BufferedReader(_DeadlineReader(sock, deadline))


class _SidecarGate(Gate):
    transport = "sidecar"

    def __init__(
        self,
        url: str,
        token: Optional[str],
        timeout: float,
        pin: Optional[str] = None,
        accept_simulated: bool = False,
        answer_key: Optional[str] = None,
    ) -> None:
        parts = urllib.parse.urlsplit(url)
        self._pin = pin
        self._accept_simulated = bool(accept_simulated)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise GateUnavailable(f"not an http(s) URL: {url!r}", "invalid_input")
        self._answer_key = _answer_key_bytes(answer_key)
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._port = parts.port or (443 if self._https else 80)
        self._base = parts.path.rstrip("/")
        self._timeout = _timeout_seconds(timeout)
        self._headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        self._local = threading.local()

    def _conn(self) -> http.client.HTTPConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            conn = cls(self._host, self._port, timeout=self._timeout)
            self._local.conn = conn
        return conn

    def _drop(self) -> None:
        conn = getattr(self._local, "conn", None)
        self._local.conn = None
        if conn is not None:
            conn.close()

    def _exchange(self, conn: http.client.HTTPConnection, method: str, path: str, body: Optional[bytes], deadline: float) -> "tuple[int, bytes]":
        """One request and its response, all of it before ``deadline``."""

        def remaining() -> float:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("the sidecar did not answer within the timeout")
            return left

        if conn.sock is None:
            conn.timeout = remaining()
            conn.connect()
        sock = conn.sock
        if sock is not None:
            # sendall's timeout bounds the whole send (Python >= 3.5).
            sock.settimeout(remaining())
        conn.response_class = cast(Any, functools.partial(_DeadlineResponse, deadline=deadline))
        headers = self._headers
        nonce = ""
        if self._answer_key is not None:
            nonce = secrets.token_urlsafe(18)
            headers = {**headers, "Gait-Nonce": nonce}
        conn.request(method, self._base + path, body=body, headers=headers)
        resp = conn.getresponse()
        length = resp.getheader("Content-Length")
        if length is not None and length.strip().isdigit() and int(length) > _MAX_RESPONSE_BYTES:
            self._drop()
            raise GateUnavailable(f"the sidecar answered {int(length)} bytes (at most {_MAX_RESPONSE_BYTES} are read)", "response_too_large")
        data = resp.read(_MAX_RESPONSE_BYTES + 1)
        if len(data) > _MAX_RESPONSE_BYTES:
            self._drop()
            raise GateUnavailable(f"the sidecar answered more than {_MAX_RESPONSE_BYTES} bytes", "response_too_large")
        if resp.will_close or not resp.isclosed():
            # Not read to its end (or the server closes): not reusable.
            self._drop()
        if self._answer_key is not None:
            request = (nonce, method, path, body or b"")
            self._authenticate(self._answer_key, request, resp.status, data, resp.getheader("Gait-Answer-Mac"))
        return resp.status, data

    def _authenticate(
        self, key: bytes, request: "tuple[str, str, str, bytes]", status: int, data: bytes, given: Optional[str]
    ) -> None:
        """Refuses an answer whose ``Gait-Answer-Mac`` is missing or is not
        the MAC, under ``answer_key``, of this request (its nonce, method,
        endpoint path and body) and of the answer's status and body (see
        ``gait-run serve --answer-key-env``): an impostor can neither make
        one nor pass on a sidecar's answer to another request."""
        nonce, method, path, sent = request

        def mac(read: bytes) -> bytes:
            head = [b"gait.answer.v2", nonce.encode(), method.encode(), path.encode(), hashlib.sha256(read).hexdigest().encode(), str(status).encode()]
            return hmac.new(key, b"".join(part + b"\n" for part in head) + data, hashlib.sha256).hexdigest().encode()

        got = (given or "").strip().lower().encode()
        # The refusal of a body over the sidecar's cap, unread, is MAC'd
        # over the digest of no body; it is never an allow, so it is
        # believed as the refusal it is.
        unread = status in _UNREAD_BODY_STATUSES and hmac.compare_digest(got, mac(b""))
        if given is None or not (hmac.compare_digest(got, mac(sent)) or unread):
            self._drop()
            what = "has no Gait-Answer-Mac" if given is None else "has a Gait-Answer-Mac that is not the answer key's"
            raise GateUnavailable(
                f"the answer (HTTP {status}) {what}: not the sidecar holding the answer key", "answer_unauthenticated"
            )

    def _request(self, method: str, path: str, body: Optional[bytes]) -> "tuple[int, bytes]":
        """The status and body of one request. ``timeout`` bounds all of it:
        connecting, sending, the status line, the headers and the body
        (``timeout`` code past it); the body is at most 1 MiB
        (``response_too_large``)."""
        deadline = time.monotonic() + self._timeout
        last: Optional[BaseException] = None
        # A kept-alive connection the server closed fails at once: one retry
        # on a fresh connection (within the same deadline).
        for _ in range(2):
            conn = self._conn()
            try:
                return self._exchange(conn, method, path, body, deadline)
            except (OSError, http.client.HTTPException) as e:
                self._drop()
                last = e
                if isinstance(e, TimeoutError) or time.monotonic() >= deadline:
                    raise GateUnavailable(f"no answer within {self._timeout} s ({type(e).__name__}: {e})", "timeout") from None
            except BaseException:
                self._drop()
                raise
        raise GateUnavailable(f"{type(last).__name__}: {last}", "sidecar_unreachable")

    def _decision(self, status: int, data: bytes, sent: bytes) -> Decision:
        try:
            result = json.loads(data)
        except ValueError:
            result = None
        if status in (200, 400, 408, 413, 415, 500) and isinstance(result, dict) and result.get("schema_id") == "gait.gate.result":
            verdict = result.get("verdict")
            if status == 200:
                exit_code = exit_for_verdict(verdict) if isinstance(verdict, str) else 1
            elif status == 500:
                exit_code = 1
            else:
                exit_code = 6
            try:
                decision = from_result(data, result, exit_code)
            except ValueError as e:
                raise GateUnavailable(str(e), "bad_output") from None
            if decision.verdict == "allow" and status != 200:
                raise GateUnavailable(f"HTTP {status} with verdict allow", "bad_output")
            if decision.verdict == "allow":
                why = self._untrusted(result, sent)
                if why:
                    raise GateUnavailable(f"an allow the gate cannot vouch for ({why})", "answer_untrusted")
            return decision
        if status >= 400 and isinstance(result, dict):
            # The sidecar's error answer (401 without the token, ...).
            codes = result.get("reason_codes")
            code = codes[0] if isinstance(codes, list) and codes and isinstance(codes[0], str) else f"http_{status}"
            message = result.get("error") or f"HTTP {status}"
            raise GateUnavailable(str(message), code)
        raise GateUnavailable(f"HTTP {status}: not a gate result", "bad_output")

    def _untrusted(self, result: "dict[str, Any]", sent: bytes) -> str:
        """Why an allow answer must not let a call run ('' when it may).
        Every field read here is the answering server's own claim: these
        checks refuse a misconfigured or non-enforcing sidecar, and an
        answer about another intent, not a server that lies."""
        why = []
        if result.get("ok") is not True:
            why.append("ok is not true")
        if result.get("bundle_verified") is not True:
            why.append("bundle_verified is not true")
        policy = result.get("policy")
        if self._pin is not None and (not isinstance(policy, dict) or policy.get("digest") != self._pin):
            why.append(f"policy digest is not the pinned {self._pin}")
        try:
            expected = _native.intent_digest(sent)
        except (Exception, _Panic) as e:  # a bug: fail closed
            why.append(f"the intent digest could not be computed ({type(e).__name__}: {e})")
        else:
            claimed = result.get("intent_digest")
            if expected is None:
                why.append("the intent sent has no digest (not an intent the runtime normalizes)")
            elif claimed != expected:
                why.append(f"intent_digest {claimed!r} is not the digest of the intent sent ({expected})")
        if not self._accept_simulated:
            codes = result.get("reason_codes")
            if (
                "simulated_verdict" in result
                or "would_have_blocked" in result
                or (isinstance(codes, list) and "simulate_mode_non_enforcing" in codes)
            ):
                why.append("the sidecar runs --simulate (non-enforcing; pass accept_simulated=True to accept it)")
        return ", ".join(why)

    def evaluate(self, intent: Intent) -> Decision:
        encoded = _encode(intent)
        if isinstance(encoded, Decision):
            return encoded
        status, data = self._request("POST", "/v1/eval", encoded)
        return self._decision(status, data, encoded)

    async def aevaluate(self, intent: Intent) -> Decision:
        # Blocking HTTP on a worker thread (each thread keeps its own
        # keep-alive connection).
        return await asyncio.to_thread(self.evaluate, intent)

    def reload(self) -> Dict[str, Any]:
        # The sidecar reloads itself (SIGHUP or file change); report what it
        # decides with now.
        return self.policy

    @property
    def policy(self) -> Dict[str, Any]:
        status, data = self._request("GET", "/healthz", None)
        try:
            body = json.loads(data)
        except ValueError:
            body = None
        if status != 200 or not isinstance(body, dict) or not isinstance(body.get("policy"), dict):
            raise GateUnavailable(f"/healthz answered HTTP {status}", "sidecar_unhealthy")
        return cast(Dict[str, Any], body["policy"])


class _SubprocessGate(Gate):
    transport = "subprocess"

    def __init__(
        self,
        bundle: PathLike,
        trust: Sequence[PathLike],
        gait_run: str,
        timeout: float,
        pin: Optional[str],
        min_revision: Optional[int],
        decision_timeout_ms: Optional[int],
    ) -> None:
        if isinstance(trust, (str, bytes, os.PathLike)):
            trust = [trust]
        _check_numbers(min_revision, decision_timeout_ms)
        # Every option as `--name=value` and the positional bundle after
        # `--`: a path starting with `-` is never taken for an option.
        opts: List[str] = [f"--trust={os.fsdecode(t)}" for t in trust]
        if pin is not None:
            opts.append(f"--pin={pin}")
        self._bundle = os.fsdecode(bundle)
        self._opts = opts
        self._gait_run = gait_run
        self._timeout = _timeout_seconds(timeout)
        self._deadline_opts = [f"--decision-timeout-ms={decision_timeout_ms}"] if decision_timeout_ms is not None else []
        # The rollback floor: the highest revision this gate has verified
        # (by `verify` or in an `eval` result), never below `min_revision`;
        # every `verify` and `eval` is run with `--min-revision=<floor>`,
        # so an older (validly signed) bundle copied over the file later is
        # refused (`bundle_revision_rollback`), as `Gate.load` refuses it.
        self._floor = min_revision or 0
        self._floor_lock = threading.Lock()
        self._policy = self.reload()

    @property
    def _eval_cmd(self) -> List[str]:
        return [
            self._gait_run,
            "eval",
            f"--bundle={self._bundle}",
            *self._opts,
            f"--min-revision={self._floor}",
            *self._deadline_opts,
            "--intent=-",
        ]

    @property
    def _verify_cmd(self) -> List[str]:
        return [self._gait_run, "verify", *self._opts, f"--min-revision={self._floor}", "--", self._bundle]

    def _seen(self, policy: Any) -> None:
        """Raises the floor to the revision of a verified policy."""
        revision = policy.get("revision") if isinstance(policy, dict) else None
        if isinstance(revision, int) and not isinstance(revision, bool):
            with self._floor_lock:
                if revision > self._floor:
                    self._floor = revision

    def _run(self, cmd: List[str], stdin: bytes) -> "tuple[int, bytes]":
        try:
            p = _subprocess.run(cmd, input=stdin, capture_output=True, timeout=self._timeout, check=False)
        except _subprocess.TimeoutExpired:
            raise GateUnavailable(f"{cmd[0]} {cmd[1]} ran longer than {self._timeout} s", "timeout") from None
        except OSError as e:
            raise GateUnavailable(f"cannot run {cmd[0]}: {e}", "gait_run_missing") from None
        return p.returncode, p.stdout

    def _decision(self, code: int, out: bytes) -> Decision:
        try:
            result = json.loads(out)
        except ValueError:
            raise GateUnavailable(f"gait-run eval exited {code} without a result", "bad_output") from None
        if code == 2 and isinstance(result, dict):
            codes = result.get("reason_codes") or ["bundle_rejected"]
            raise GateUnavailable(str(result.get("error") or "bundle rejected"), str(codes[0]))
        if code not in (0, 1, 3, 4, 6):
            raise GateUnavailable(f"gait-run eval exited {code}", "bad_output")
        try:
            decision = from_result(out, result, code)
        except ValueError as e:
            raise GateUnavailable(str(e), "bad_output") from None
        if decision.verdict == "allow" and code != 0:
            raise GateUnavailable(f"exit {code} with verdict allow", "bad_output")
        self._seen(result.get("policy"))
        return decision

    def evaluate(self, intent: Intent) -> Decision:
        encoded = _encode(intent)
        if isinstance(encoded, Decision):
            return encoded
        return self._decision(*self._run(self._eval_cmd, encoded))

    async def aevaluate(self, intent: Intent) -> Decision:
        encoded = _encode(intent)
        if isinstance(encoded, Decision):
            return encoded
        try:
            proc = await asyncio.create_subprocess_exec(
                *self._eval_cmd,
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.DEVNULL,
            )
        except OSError as e:
            raise GateUnavailable(f"cannot run {self._gait_run}: {e}", "gait_run_missing") from None
        try:
            out, _ = await asyncio.wait_for(proc.communicate(encoded), self._timeout)
        except asyncio.TimeoutError:
            proc.kill()
            await proc.wait()
            raise GateUnavailable(f"gait-run eval ran longer than {self._timeout} s", "timeout") from None
        return self._decision(proc.returncode if proc.returncode is not None else -1, out)

    def reload(self) -> Dict[str, Any]:
        code, out = self._run(self._verify_cmd, b"")
        try:
            body = json.loads(out)
        except ValueError:
            body = None
        if code != 0 or not isinstance(body, dict) or body.get("ok") is not True:
            if isinstance(body, dict):
                raise GateUnavailable(str(body.get("error") or f"gait-run verify exited {code}"), str(body.get("code") or "bundle_rejected"))
            raise GateUnavailable(f"gait-run verify exited {code}", "bad_output")
        policy = dict(body.get("policy") or {})
        self._seen(policy)
        policy["digest"] = body.get("policy_digest")
        policy["signed_by"] = body.get("signed_by")
        policy["not_after"] = body.get("not_after")
        self._policy = policy
        return policy

    @property
    def policy(self) -> Dict[str, Any]:
        return self._policy
