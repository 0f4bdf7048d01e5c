#!/usr/bin/env bash
# Instructions per decision, per endpoint class, outside SHA-256: a count
# that does not move with the machine's load (callgrind), for comparing two
# versions of the decision path where `gait-run bench`'s nanoseconds drown in
# noise. Builds a release `gait-run` with line tables into target/prof (its
# own target folder: the release build is untouched), builds
# examples/payments-agent.gaitpol with runtime/tests/fixtures/test.key, and
# runs `gait-run bench` on each file of perf/slo_intents/ under callgrind,
# counting `gate::evaluate_with` only. Needs valgrind (`apt install
# valgrind`). SHA-256 is left out: under valgrind the CPU's SHA extensions
# are hidden and sha2 falls back to software, which natively it does not.
# Usage: scripts/perf_instructions.sh [ITERATIONS]   (default 10000)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
command -v valgrind >/dev/null || { echo "valgrind is required (apt install valgrind)" >&2; exit 1; }
command -v callgrind_annotate >/dev/null || { echo "callgrind_annotate is required (valgrind)" >&2; exit 1; }
iterations=${1:-10000}
[[ "$iterations" =~ ^[1-9][0-9]*$ ]] || { echo "ITERATIONS must be a positive integer" >&2; exit 1; }
export CARGO_TARGET_DIR="$root/target/prof"
CARGO_PROFILE_RELEASE_DEBUG=line-tables-only cargo build --release --quiet -p gaitc -p gait-run
bin="$CARGO_TARGET_DIR/release"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$bin/gaitc" build examples/payments-agent.gaitpol -o "$work/p.gaitb" --key runtime/tests/fixtures/test.key >/dev/null
# gait-run bench: 1 decision, 1,000 warm-up decisions (at most), then
# ITERATIONS timed ones: the decisions counted.
decisions=$((1 + (iterations < 1000 ? iterations : 1000) + iterations))
printf '%-10s %12s %12s\n' class total non_sha256
for intent in perf/slo_intents/*.json; do
  name=$(basename "$intent" .json)
  mkdir -p "$work/$name"
  cp "$intent" "$work/$name/"
  valgrind --tool=callgrind --toggle-collect='gait_run::gate::evaluate_with' \
    --callgrind-out-file="$work/$name.out" \
    "$bin/gait-run" bench --bundle "$work/p.gaitb" --trust runtime/tests/fixtures/test.pub \
    --intents "$work/$name" --iterations "$iterations" >/dev/null 2>"$work/$name.err" ||
    { cat "$work/$name.err" >&2; exit 1; }
  total=$(sed -n 's/.*Collected : \([0-9]*\).*/\1/p' "$work/$name.err")
  sha=$(callgrind_annotate --inclusive=yes "$work/$name.out" 2>/dev/null |
    awk '/sha2::sha256::compress256 \[/ && !done {gsub(",", "", $1); print $1; done = 1}')
  printf '%-10s %12d %12d\n' "$name" $((total / decisions)) $(((total - ${sha:-0}) / decisions))
done
