#!/usr/bin/env bash
# Runs cargo-fuzz targets for a bounded time each, with a per-input time
# limit so that a slow input is a failure, not a stall:
#   scripts/fuzz.sh [SECONDS] [TARGET...]   (default: 60 s; command url intent bundle)
# cargo-fuzz is installed into .local/cargo-fuzz (pinned) when missing; the
# toolchain's stable compiler is used with RUSTC_BOOTSTRAP for the sanitizer flags.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SECONDS_EACH="${1:-60}"
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(command url intent bundle)
FUZZ="$ROOT/.local/cargo-fuzz/bin/cargo-fuzz"
if [ ! -x "$FUZZ" ]; then
  cargo install cargo-fuzz --version 0.13.2 --locked --root "$ROOT/.local/cargo-fuzz"
fi
cd "$ROOT/fuzz"
for t in "${TARGETS[@]}"; do
  echo "== fuzz $t (${SECONDS_EACH}s, 1 s per input at most)"
  RUSTC_BOOTSTRAP=1 "$FUZZ" run "$t" -- -max_total_time="$SECONDS_EACH" -timeout=1 -rss_limit_mb=2048 -print_final_stats=1 2>&1 | tail -n 12
done
