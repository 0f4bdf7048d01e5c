"""Decision records: ``<trace_dir>/<framework>/<tool_call_id>.json``, one per
decision, holding the framework, the tool call id, the intent, the gate's
result (as ``gait-run eval`` prints it) and whether the tool was let run."""

from __future__ import annotations

import json
import os
import re
import tempfile
from pathlib import Path
from typing import Any, Dict, Optional, Union

from ._decision import Decision

FRAMEWORKS = ("wrapper", "langchain", "openai_agents", "autogen", "openclaw", "autogpt")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")


def record_name(tool_call_id: str) -> str:
    """A file name for a tool call id: anything but letters, digits, ``.``,
    ``_`` and ``-`` becomes ``_``; never hidden, never ``..``; at most 200."""
    name = _UNSAFE.sub("_", tool_call_id)[:200]
    if not name or name.startswith("."):
        name = "_" + name
    return name + ".json"


def _default(obj: Any) -> str:
    return f"<not JSON: {type(obj).__name__}>"


def write_record(
    trace_dir: Union[str, "os.PathLike[str]"],
    framework: str,
    tool_call_id: str,
    intent: Any,
    decision: Optional[Decision],
    executed: bool,
    error: Optional[str] = None,
) -> Path:
    if framework not in FRAMEWORKS:
        raise ValueError(f"unknown framework {framework!r}")
    folder = Path(trace_dir) / framework
    folder.mkdir(parents=True, exist_ok=True)
    record: Dict[str, Any] = {
        "framework": framework,
        "tool_call_id": tool_call_id,
        "intent": intent,
        "result": decision.result if decision is not None else None,
        "executed": bool(executed),
    }
    if error is not None:
        record["error"] = error
    path = folder / record_name(tool_call_id)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".record-", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(record, f, indent=2, sort_keys=True, default=_default)
            f.write("\n")
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    return path
