#!/usr/bin/env bash
# Runs cargo-fuzz targets for a bounded time each, with a per-input time
# limit (1 s; 15 s for command, whose work is bounded by steps) so that a
# slow input is a failure, not a stall:
#   scripts/fuzz.sh [SECONDS] [TARGET...]   (default: 60 s; command url intent bundle approval_token)
# cargo-fuzz is installed into .local/cargo-fuzz (pinned) when missing; the
# toolchain's stable compiler is used with RUSTC_BOOTSTRAP for the sanitizer flags.
# The bundle target is seeded with a signed bundle past 256 KiB and may grow
# inputs to 2 MiB (bundle_seed below).
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
# The bundle target's seed: a signed bundle whose payload is past 256 KiB,
# the size from which `bundle::verify` decodes beside hashing (libFuzzer
# grows inputs from a few bytes, and would never reach it by itself).
bundle_seed() {
  local dir="$ROOT/fuzz/corpus/bundle" src
  [ -f "$dir/seed-large.gaitb" ] && return 0
  mkdir -p "$dir"
  (cd "$ROOT" && cargo build --quiet -p gaitc)
  src="$(mktemp -d)"
  {
    printf 'policy "fuzz-seed-large" version "1.0.0"\n\ndefault block\n'
    for i in $(seq 0 2999); do
      printf '\nrule r%d {\n  when tool == "tool_%d" and all path in ["/ws/p%d/**"]\n  then allow\n  reason "r%d"\n}\n' "$i" "$i" "$i" "$i"
    done
  } >"$src/large.gaitpol"
  "${CARGO_TARGET_DIR:-$ROOT/target}/debug/gaitc" build "$src/large.gaitpol" -o "$dir/seed-large.gaitb" \
    --key "$ROOT/runtime/tests/fixtures/test.key" >/dev/null
  rm -rf "$src"
}
cd "$ROOT/fuzz"
failed=()
for t in "${TARGETS[@]}"; do
  echo "== fuzz $t (${SECONDS_EACH}s)"
  log="$ROOT/fuzz/artifacts/$t.log"
  mkdir -p "$(dirname "$log")"
  extra=()
  limit=1
  # The command analyzer's work on a line is bounded by steps, not time: a
  # line at the bound takes ~1 s in this instrumented build (twice per
  # input: fuzz_targets/command.rs).
  [ "$t" = command ] && limit=15
  if [ "$t" = bundle ]; then
    bundle_seed
    extra=(-max_len=2097152)
  fi
  if RUSTC_BOOTSTRAP=1 "$FUZZ" run "$t" -- -max_total_time="$SECONDS_EACH" -timeout="$limit" -rss_limit_mb=2048 -print_final_stats=1 "${extra[@]}" >"$log" 2>&1; then
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
