"""The runnable examples under examples/integrations/ run as documented: the
allowed write happens, the blocked write and the delete do not, and each
leaves one decision record per tool call."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import GAIT_RUN, GAITC, ROOT

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


def run_example(path: Path, tmp_path: Path) -> "subprocess.CompletedProcess[str]":
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    p = subprocess.run(
        [sys.executable, str(path)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env={"GAITC": GAITC, "GAIT_RUN": GAIT_RUN, "PATH": "/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1", "TMPDIR": str(tmp)},
        check=False,
    )
    assert p.returncode == 0, p.stderr
    assert list(tmp.iterdir()) == [], "the example left temporary files"
    assert not list(EXAMPLES.rglob("__pycache__"))
    return p


def test_sidecar_example(tmp_path: Path) -> None:
    """A stdlib-only client of `gait-run serve`: only the allowed write and
    the loopback API call run; the metadata endpoint, both skill refusals and
    the call after the sidecar stopped do not."""
    out = run_example(EXAMPLES / "sidecar" / "example.py", tmp_path).stdout.splitlines()
    assert "verdict=allow reasons=workspace_io -> wrote /workspace/report.md" in out[0]
    assert 'verdict=allow reasons=internal_api -> {"status": "green"}' in out[1]
    assert out[2].endswith("not run: verdict=block reasons=metadata_endpoint")
    assert out[3].endswith("not run: verdict=block reasons=skill_publisher_untrusted")
    assert out[4].endswith("not run: verdict=block reasons=skill_unverified")
    assert out[5].endswith("not run: gate unavailable (ConnectionRefusedError)")
    assert out[6:] == ["files written: ['/workspace/report.md']", "fetched: ['health']", "decisions logged: 5 in gait-out/sidecar/decisions.log"]


def test_mcp_proxy_example(tmp_path: Path) -> None:
    """The mcp SDK's client through `gait-run mcp-proxy` to the SDK's server:
    the allowed write lands, the blocked calls never reach the server."""
    out = run_example(EXAMPLES / "mcp_proxy" / "example.py", tmp_path).stdout.splitlines()
    assert out[0] == "tools: ['read_file', 'write_file']"
    assert out[1].endswith("is_error=False wrote notes.md")
    assert "is_error=True gait: blocked tools/call `read_file`: verdict block; reasons: secret_path_access" in out[2]
    assert "is_error=True gait: blocked tools/call `write_file`: verdict block; reasons: default_block" in out[3]
    assert out[4:] == ["files: ['gait-mcp-example-ws/.env', 'gait-mcp-example-ws/notes.md']", "decisions logged: 3 in gait-out/mcp_proxy/decisions.log"]
    log = [json.loads(line) for line in (tmp_path / "gait-out" / "mcp_proxy" / "decisions.log").read_text().splitlines()]
    assert [(e["tool_name"], e["verdict"], e["forwarded"]) for e in log if e.get("event") == "decision"] == [
        ("write_file", "allow", True),
        ("read_file", "block", False),
        ("write_file", "block", False),
    ]
