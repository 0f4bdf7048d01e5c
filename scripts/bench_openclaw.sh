#!/usr/bin/env bash
# The OpenClaw plugin's per-tool-call overhead, in process (Node binding) and
# over the sidecar: sdk/openclaw/bench/overhead.mjs on Node 24. Prints a JSON
# report (and writes it to $1 if given). No pass/fail: a measurement.
#   scripts/bench_openclaw.sh [REPORT.json] [ITERATIONS]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
scripts/setup_openclaw.sh >/dev/null
cargo build --quiet -p gaitc -p gait-run
scripts/build_node_addon.sh >/dev/null
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
export GAITC="$TARGET/debug/gaitc" GAIT_RUN="$TARGET/release/gait-run"
cargo build --quiet --release -p gait-run
target/adapters/bin/node sdk/openclaw/bench/overhead.mjs "${2:-20000}" "${1:-}"
