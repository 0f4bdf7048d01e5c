#!/usr/bin/env bash
# Runtime SLO check (docs/slo/runtime_slo.md): builds the release binaries,
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
cargo build --release --quiet -p gaitc -p gait-run
exec python3 scripts/check_runtime_slo.py "$@"
