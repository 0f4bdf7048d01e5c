"""The runnable examples under examples/integrations/ run as documented: the
allowed write happens, the blocked write and the delete do not, and each
leaves one decision record per tool call."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import GAITC, ROOT

EXAMPLES = ROOT / "examples" / "integrations"
FRAMEWORK_DIR = {"wrapper": "wrapper", "langchain": "langchain", "openai_agents": "openai_agents", "autogen": "autogen"}


@pytest.mark.parametrize("name", sorted(FRAMEWORK_DIR))
def test_example_runs(name: str, tmp_path: Path) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    p = subprocess.run(
        [sys.executable, str(EXAMPLES / name / "example.py")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={"GAITC": GAITC, "PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1", "TMPDIR": str(tmp)},
        check=False,
    )
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip().endswith("files written: ['/workspace/report.txt']"), p.stdout
    assert "secret_path_access" in p.stdout and "delete_needs_review" in p.stdout
    records = [json.loads(f.read_text()) for f in (tmp_path / "gait-out" / FRAMEWORK_DIR[name]).glob("*.json")]
    assert sorted((r["result"]["verdict"], r["executed"]) for r in records) == [
        ("allow", True),
        ("block", False),
        ("require_approval", False),
    ]
    # The throw-away key and bundle are removed at exit; nothing is written
    # into the examples' folder.
    assert list(tmp.iterdir()) == []
    assert not list(EXAMPLES.rglob("__pycache__"))
