#!/usr/bin/env bash
# Builds the Node binding of the gate (sdk/node, napi-rs; release profile) and
# puts it where the OpenClaw plugin loads it by default:
# sdk/openclaw/native/gait_node.node (gitignored). Needs only cargo: N-API
# symbols are resolved from the Node process that loads the addon.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
cargo build --quiet --release -p gait-node
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
mkdir -p sdk/openclaw/native
# Copy to a temporary name and rename: a Node process that has the old addon
# loaded keeps its mapping.
cp "$TARGET/release/libgait_node.so" sdk/openclaw/native/.gait_node.node.tmp
mv sdk/openclaw/native/.gait_node.node.tmp sdk/openclaw/native/gait_node.node
echo "build_node_addon: sdk/openclaw/native/gait_node.node"
