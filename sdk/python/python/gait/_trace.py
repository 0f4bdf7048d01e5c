"""Decision records: ``<trace_dir>/<framework>/<tool_call_id>.json``, one per
decision, holding the framework, the tool call id, the intent, the gate's
result (as ``gait-run eval`` prints it) and whether the tool was let run.

File names. An ordinary tool call id (letters, digits, ``.``, ``_``, ``-``;
not empty, not starting with ``.``, at most 200 characters) is the file name
itself: ``call_1`` → ``call_1.json``. Any other id is made safe (every other
character becomes ``_``, a leading ``_`` is added before a ``.``, cut to 150
characters) and gets ``~`` and the first 16 hex digits of the SHA-256 of the
id (UTF-8) appended: ``a/b`` → ``a_b~<16 hex>.json``, never the same name as
the ordinary id ``a_b``; the empty id → ``_~<16 hex>.json``. ``~`` never
occurs in an ordinary id, so the two kinds cannot collide.

Never overwritten. A record is created only if its file does not exist yet
(atomically: written to a temporary file, then linked to its name, which
fails if the name is taken). When the name is taken — the same tool call id
decided twice, e.g. a framework retrying a call — the record is written as
``<name>+1.json``, then ``+2``, … (the first free one, in that order; ``+``
never occurs in a name made above). The only file ever rewritten is a
record this process created itself, to turn ``executed`` to true once the
tool ran (:func:`mark_executed`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Dict, Optional, Union

from ._decision import Decision

FRAMEWORKS = ("wrapper", "langchain", "openai_agents", "autogen", "openclaw", "autogpt")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
_ORDINARY = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}")
# How many `+N` names are tried before giving up (then: OSError).
_MAX_SUFFIX = 10_000

log = logging.getLogger("gait")


def record_name(tool_call_id: str) -> str:
    """The file name of the record of ``tool_call_id`` (see the module
    docstring): the id itself for an ordinary id, else the id made safe
    plus ``~`` and 16 hex digits of its SHA-256."""
    if _ORDINARY.fullmatch(tool_call_id):
        return tool_call_id + ".json"
    digest = hashlib.sha256(tool_call_id.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    name = _UNSAFE.sub("_", tool_call_id)[:150]
    if not name or name.startswith("."):
        name = "_" + name
    return f"{name}~{digest}.json"


def _default(obj: Any) -> str:
    return f"<not JSON: {type(obj).__name__}>"


def _record(
    framework: str,
    tool_call_id: str,
    intent: Any,
    decision: Optional[Decision],
    executed: bool,
    error: Optional[str],
) -> bytes:
    record: Dict[str, Any] = {
        "framework": framework,
        "tool_call_id": tool_call_id,
        "intent": intent,
        "result": decision.result if decision is not None else None,
        "executed": bool(executed),
    }
    if error is not None:
        record["error"] = error
    return (json.dumps(record, indent=2, sort_keys=True, default=_default) + "\n").encode("utf-8", "surrogatepass")


def _temp(folder: Path, data: bytes) -> str:
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".record-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
    except BaseException:
        _unlink(tmp)
        raise
    return tmp


def _unlink(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def write_record(
    trace_dir: Union[str, "os.PathLike[str]"],
    framework: str,
    tool_call_id: str,
    intent: Any,
    decision: Optional[Decision],
    executed: bool,
    error: Optional[str] = None,
) -> Path:
    """Writes one new record and returns its path. Never overwrites a file:
    a taken name gets ``+1``, ``+2``, … Raises ``OSError`` when the record
    cannot be written."""
    if framework not in FRAMEWORKS:
        raise ValueError(f"unknown framework {framework!r}")
    folder = Path(trace_dir) / framework
    folder.mkdir(parents=True, exist_ok=True)
    data = _record(framework, tool_call_id, intent, decision, executed, error)
    base = record_name(tool_call_id)[: -len(".json")]
    tmp = _temp(folder, data)
    try:
        for n in range(_MAX_SUFFIX):
            path = folder / (f"{base}.json" if n == 0 else f"{base}+{n}.json")
            try:
                # Atomic and exclusive: the whole record appears under a
                # name nobody else had, or the name is taken.
                os.link(tmp, path)
                return path
            except FileExistsError:
                continue
            except OSError:
                # A file system without hard links: create exclusively and
                # write in place.
                try:
                    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
                except FileExistsError:
                    continue
                try:
                    with os.fdopen(fd, "wb") as f:
                        f.write(data)
                except BaseException:
                    _unlink(str(path))
                    raise
                return path
        raise FileExistsError(f"{folder}: no free record name for {tool_call_id!r}")
    finally:
        _unlink(tmp)


def rewrite_record(
    path: Path,
    framework: str,
    tool_call_id: str,
    intent: Any,
    decision: Optional[Decision],
    executed: bool,
    error: Optional[str] = None,
) -> None:
    """Replaces a record this process wrote (at ``path``, returned by
    :func:`write_record`) atomically. Raises ``OSError``."""
    data = _record(framework, tool_call_id, intent, decision, executed, error)
    tmp = _temp(path.parent, data)
    try:
        os.replace(tmp, path)
    except BaseException:
        _unlink(tmp)
        raise


def mark_executed(path: Optional[Path], framework: str, tool_call_id: str, intent: Any, decision: Optional[Decision]) -> None:
    """After the tool ran: rewrites its record (written before it ran with
    ``executed: false``) with ``executed: true``. Never raises — the tool
    has run, and its result must reach the caller — a failure is logged
    (logger ``gait``, level WARNING) and the record keeps ``false``."""
    if path is None:
        return
    try:
        rewrite_record(path, framework, tool_call_id, intent, decision, True)
    except Exception as e:  # noqa: BLE001 - logged, never raised after the side effect
        log.warning("gait: the tool %r ran but its decision record %s could not be updated: %s", tool_call_id, path, e)


def record_refused(
    trace_dir: Optional[Union[str, "os.PathLike[str]"]],
    framework: str,
    tool_call_id: str,
    intent: Any,
    decision: Optional[Decision],
    error: Optional[str] = None,
) -> None:
    """The record of a call that is not run. Never raises: the call is
    refused either way; a failure is logged (logger ``gait``, WARNING)."""
    if trace_dir is None:
        return
    try:
        write_record(trace_dir, framework, tool_call_id, intent, decision, False, error)
    except Exception as e:  # noqa: BLE001 - logged; the refusal stands
        log.warning("gait: the decision record of the refused call %r could not be written: %s", tool_call_id, e)


def record_before_run(
    trace_dir: Optional[Union[str, "os.PathLike[str]"]],
    framework: str,
    tool_call_id: str,
    intent: Any,
    decision: Decision,
) -> Optional[Path]:
    """The record of an allowed call, written before the tool runs (with
    ``executed: false``; :func:`mark_executed` turns it true after). Raises
    ``OSError`` (or another exception) when it cannot be written: the
    caller must then not run the tool."""
    if trace_dir is None:
        return None
    return write_record(trace_dir, framework, tool_call_id, intent, decision, False)


RECORD_FAILED = "gait: the tool call was not run: its decision record could not be written"
