"""Shared by the examples: builds and signs agent.gaitpol with a throw-away
key (gaitc from $GAITC, else PATH, else the checkout's target/debug or
target/release) and returns (bundle, public key), in a temporary folder
removed when the example exits. In production you ship a bundle built by
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


def gaitc() -> str:
    found = os.environ.get("GAITC") or shutil.which("gaitc")
    if found:
        return found
    target = Path(os.environ.get("CARGO_TARGET_DIR") or HERE.parents[1] / "target")
    for profile in ("debug", "release"):
        local = target / profile / "gaitc"
        if local.exists():
            return str(local)
    raise SystemExit("gaitc not found: set GAITC or put it on PATH (cargo build -p gaitc)")


def build() -> Tuple[Path, Path]:
    work = Path(tempfile.mkdtemp(prefix="gait-example-"))
    atexit.register(shutil.rmtree, work, True)
    subprocess.run([gaitc(), "keygen", "--out", str(work / "release")], check=True, capture_output=True)
    bundle = work / "agent.gaitb"
    subprocess.run(
        [gaitc(), "build", str(HERE / "agent.gaitpol"), "-o", str(bundle), "--key", str(work / "release.key")],
        check=True,
        capture_output=True,
    )
    return bundle, work / "release.pub"
