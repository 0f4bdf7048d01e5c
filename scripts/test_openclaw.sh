#!/usr/bin/env bash
# The OpenClaw plugin (sdk/openclaw, id gait-gate) against the real OpenClaw:
# installs Node 24 and openclaw under target/adapters (scripts/setup_openclaw.sh,
# once), builds gaitc, gait-run and the Node binding of the gate, then runs
#   sdk/openclaw/test/      the handler on its own: every transport decides as
#                           `gait-run eval`; every failure blocks (seconds)
#   tests/openclaw/         `openclaw agent --local` runs with the plugin loaded
#                           from sdk/openclaw and a scripted loopback model
#                           (about 3 minutes)
# with Node's test runner; then checks std.openclaw with gaitc. Fails loudly.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
scripts/setup_openclaw.sh
cargo build --quiet -p gaitc -p gait-run
scripts/build_node_addon.sh
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
export GAITC="$TARGET/debug/gaitc" GAIT_RUN="$TARGET/debug/gait-run"
"$GAITC" check --deny-warnings stdlib/openclaw.gaitpol
# The example's policy is a template (its workspace is filled in by demo.mjs):
# checked with a stand-in workspace.
tmp_dir="$(mktemp -d)"
trap 'rm -rf "$tmp_dir"' EXIT
example_policy="$tmp_dir/policy.gaitpol"
sed 's|@WS@|/tmp/gait-openclaw-example/ws|g' examples/integrations/openclaw/policy.gaitpol.in > "$example_policy"
"$GAITC" check --deny-warnings "$example_policy"
NODE="$ROOT/target/adapters/bin/node"
"$NODE" --test --test-concurrency=1 sdk/openclaw/test/plugin.test.mjs tests/openclaw/e2e.test.mjs
