#!/usr/bin/env bash
# Latency of the `gait` Python package's transports side by side (in-process
# from dict / str / bytes, guard, sidecar, subprocess) against the runtime
# alone (`gait-run bench`) and cedarpy: release binaries, the adapters venv
# (scripts/setup_adapters.sh) plus cedarpy (sdk/python/requirements/bench.txt).
#   scripts/bench_python.sh [--iterations N] [--json FILE]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup_adapters.sh >&2
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
VENV="$TARGET/adapters/venv"
if ! "$VENV/bin/python" -c 'import cedarpy' 2>/dev/null; then
  "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -r sdk/python/requirements/bench.txt >&2
fi
cargo build --quiet --release -p gaitc -p gait-run
exec "$VENV/bin/python" sdk/python/bench/bench_gate.py \
  --gaitc "$TARGET/release/gaitc" --gait-run "$TARGET/release/gait-run" "$@"
