#!/usr/bin/env bash
# The OpenClaw integration example, offline, in one command:
#   examples/integrations/openclaw/run.sh
# Installs Node 24 and openclaw under target/adapters (once), builds gaitc,
# gait-run and the Node binding, then runs one real `openclaw agent --local`
# session with the gait-gate plugin and a scripted model. Its workspace is
# under target/examples/openclaw/, its decision records in ./gait-out/openclaw/.
set -euo pipefail
# Decision records go to ./gait-out (where the command was run), as in the
# other integration examples.
OUT="$PWD/gait-out"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)"
cd "$ROOT"
scripts/setup_openclaw.sh >/dev/null
cargo build --quiet -p gaitc -p gait-run
scripts/build_node_addon.sh >/dev/null
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
exec target/adapters/bin/node examples/integrations/openclaw/demo.mjs "$ROOT/target/examples/openclaw" "$TARGET/debug/gaitc" "$OUT"
