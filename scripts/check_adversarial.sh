#!/usr/bin/env bash
# Adversarial decision latency (issue 14): builds the adversarial generator
# in release and decides each hostile intent through the real gate entry.
# It is a package of its own (benches/adversarial, gait-adversarial) that
# needs the runtime alone: its release build reuses the gait-run that
# scripts/test_v1_7_acceptance.sh built.
# Exit 0 when every intent the gate accepts is decided within the budget (slowest of 5 runs)
# (10 ms, or $1 ms) and none times out; 5 otherwise (the slow ones named).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo run --quiet --release -p gait-adversarial -- "${1:-10}"
