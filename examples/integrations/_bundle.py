"""Shared by the examples: builds and signs agent.gaitpol (or the example's
own policy) with a throw-away key (gaitc from $GAITC, else PATH, else the
checkout's target/debug or target/release) and returns (bundle, public key),
in a temporary folder removed when the example exits. In production you ship a bundle built by
your release pipeline and the release public key instead."""

from __future__ import annotations

import atexit
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Tuple

HERE = Path(__file__).resolve().parent


def _binary(name: str, env: str) -> str:
    found = os.environ.get(env) or shutil.which(name)
    if found:
        return found
    target = Path(os.environ.get("CARGO_TARGET_DIR") or HERE.parents[1] / "target")
    for profile in ("debug", "release"):
        local = target / profile / name
        if local.exists():
            return str(local)
    raise SystemExit(f"{name} not found: set {env} or put it on PATH (cargo build -p {name})")


def gaitc() -> str:
    return _binary("gaitc", "GAITC")


def gait_run() -> str:
    """gait-run from $GAIT_RUN, else PATH, else the checkout's target/."""
    return _binary("gait-run", "GAIT_RUN")


def build(policy: Path = HERE / "agent.gaitpol") -> Tuple[Path, Path]:
    """Builds and signs `policy` (default: agent.gaitpol); returns (bundle,
    public key). The private key is beside them, as `release.key`."""
    work = Path(tempfile.mkdtemp(prefix="gait-example-"))
    atexit.register(shutil.rmtree, work, True)
    subprocess.run([gaitc(), "keygen", "--out", str(work / "release")], check=True, capture_output=True)
    bundle = work / "agent.gaitb"
    subprocess.run(
        [gaitc(), "build", str(policy), "-o", str(bundle), "--key", str(work / "release.key")],
        check=True,
        capture_output=True,
    )
    return bundle, work / "release.pub"
