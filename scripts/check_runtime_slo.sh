#!/usr/bin/env bash
# Runtime SLO check (docs/slo/runtime_slo.md): builds the release gait-run,
# then measures the in-process decision and the whole `gait-run eval` process
# per endpoint class against perf/runtime_slo_budgets.json, and runs the
# fail-closed probes (error budget 0). Writes target/slo/runtime_slo_report.json.
# Exit 0: every budget holds; 5: a budget is exceeded (named on stderr);
# 1: it could not measure. Arguments are passed to scripts/check_runtime_slo.py
# (--budgets FILE, --report FILE).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
command -v python3 >/dev/null || { echo "python3 is required" >&2; exit 1; }
# What is measured is the release gait-run; the bundle it decides with is
# built by the debug gaitc (bundles are byte-identical whichever build of
# gaitc writes them, and the test suite has built it already).
cargo build --release --quiet -p gait-run
cargo build --quiet -p gaitc
exec python3 scripts/check_runtime_slo.py --gaitc "${CARGO_TARGET_DIR:-$root/target}/debug/gaitc" "$@"
