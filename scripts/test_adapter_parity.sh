#!/usr/bin/env bash
# The adapter parity harness (tests/adapters/README.md): one scenario table,
# tests/adapters/scenarios.json, run through every framework adapter —
# openai_agents, langchain, autogen (target/adapters/venv), autogpt
# (AutoGPT Forge 0.1.4, target/adapters/venv-forge), openclaw (a Node runner,
# tests/adapters/run_openclaw.mjs: real `openclaw agent --local` runs with the
# gait-gate plugin) — and through `gait-run eval`, twice. Any drift in
# verdict, reason codes, intent digest, side effects, decision records or
# fail-closed codes fails it.
#
#   target/adapter-parity/report.json   per framework and scenario
#   target/adapter-parity/junit.xml     the same as JUnit
#
# A framework whose runner is missing fails the harness — except OpenClaw
# while GAIT_PARITY_SKIP_OPENCLAW=1: then it is reported "missing_tolerated"
# (and run as soon as its runner exists, whatever the variable says).
#
# Installs what it needs first (scripts/setup_adapters.sh, idempotent) and
# builds gaitc and gait-run (debug) and the Node binding (release). First, the harness's own checks
# (tests/adapters/test_parity.py: it must see drift where there is some).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
bash scripts/setup_adapters.sh
cargo build --quiet -p gaitc -p gait-run
# OpenClaw's gate decides in process: the Node binding (sdk/openclaw/native).
bash scripts/build_node_addon.sh
export GAITC="$TARGET/debug/gaitc"
export GAIT_RUN="$TARGET/debug/gait-run"
export PYTHONDONTWRITEBYTECODE=1
PY="$TARGET/adapters/venv/bin/python"
"$PY" -m pytest -q -p no:cacheprovider tests/adapters/test_parity.py
timeout 1200 "$PY" tests/adapters/parity.py "$@"
