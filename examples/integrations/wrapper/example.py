"""Wrapper mode: a plain Python function guarded by the in-process gate.

    python examples/integrations/wrapper/example.py

Runs three calls: a workspace write (allowed: the function runs once), a
write to /etc (blocked: gait.Blocked, the function never runs) and a delete
(gait.ApprovalRequired). Decision records go to ./gait-out/wrapper/."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import gait  # noqa: E402
from _bundle import build  # noqa: E402

bundle, trust = build()
gate = gait.Gate.load(bundle, trust=[trust])
ctx = gait.Context(identity="wrapper-example", workspace="/workspace", risk_class="low", session_id="example")
files: dict[str, str] = {}  # the "file system" the tools really change


@gate.guard("write_file", context=ctx, trace_dir="gait-out")
def write_file(path: str, content: str) -> str:
    files[path] = content
    return f"wrote {len(content)} bytes to {path}"


@gate.guard("delete_file", context=ctx, trace_dir="gait-out")
def delete_file(path: str) -> str:
    files.pop(path, None)
    return f"deleted {path}"


for name, call in [
    ("write /workspace/report.txt", lambda: write_file("/workspace/report.txt", "ok")),
    ("write /workspace/../etc/passwd", lambda: write_file("/workspace/../etc/passwd", "x")),
    ("delete report.txt", lambda: delete_file("report.txt")),
]:
    try:
        print(f"{name}: allow: {call()}")
    except gait.ApprovalRequired as e:
        print(f"{name}: require_approval {e.decision.reason_codes} (needs {e.decision.approval_request['approvals_required']} approval)")
    except gait.Blocked as e:
        print(f"{name}: block {e.decision.reason_codes}")
print(f"files written: {sorted(files)}")
