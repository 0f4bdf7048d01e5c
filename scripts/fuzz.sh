#!/usr/bin/env bash
# Runs cargo-fuzz targets for a bounded time each, with a per-input time
# limit so that a slow input is a failure, not a stall:
#   scripts/fuzz.sh [SECONDS] [TARGET...]   (default: 60 s; command url intent bundle approval_token)
# cargo-fuzz is installed into .local/cargo-fuzz (pinned) when missing; the
# toolchain's stable compiler is used with RUSTC_BOOTSTRAP for the sanitizer flags.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
SECONDS_EACH="${1:-60}"
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=(command url intent bundle approval_token)
FUZZ="$ROOT/.local/cargo-fuzz/bin/cargo-fuzz"
if [ ! -x "$FUZZ" ]; then
  cargo install cargo-fuzz --version 0.13.2 --locked --root "$ROOT/.local/cargo-fuzz"
fi
cd "$ROOT/fuzz"
failed=()
for t in "${TARGETS[@]}"; do
  echo "== fuzz $t (${SECONDS_EACH}s, 1 s per input at most)"
  log="$ROOT/fuzz/artifacts/$t.log"
  mkdir -p "$(dirname "$log")"
  if RUSTC_BOOTSTRAP=1 "$FUZZ" run "$t" -- -max_total_time="$SECONDS_EACH" -timeout=1 -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1; then
    grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb|Done)" "$log" || true
  else
    failed+=("$t")
    grep -E "SUMMARY|Failing input|artifacts/|timeout|panicked" "$log" | head -n 8
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz: FAILED: ${failed[*]} (logs in fuzz/artifacts/)" >&2
  exit 1
fi
echo "fuzz: every target ran ${SECONDS_EACH}s without a crash or a slow input"
