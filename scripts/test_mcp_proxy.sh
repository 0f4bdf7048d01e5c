#!/usr/bin/env bash
# The mcp-proxy against real peers: installs them (scripts/setup_peers.sh: the
# real MCP filesystem server from npm, the `mcp` Python SDK from PyPI), builds
# gaitc and gait-run, builds and signs tests/mcp/policy.gaitpol (which imports
# std.mcp.filesystem) with a throw-away key, and runs tests/mcp/test_proxy.py.
# Fails loudly: any failed step exits non-zero.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
scripts/setup_peers.sh node venv
cargo build --quiet -p gaitc -p gait-run
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
"$TARGET/debug/gaitc" test tests/mcp/policy.gaitpol
"$TARGET/debug/gaitc" keygen --out "$WORK/test" >/dev/null
"$TARGET/debug/gaitc" build tests/mcp/policy.gaitpol -o "$WORK/policy.gaitb" --key "$WORK/test.key" >/dev/null
export GAIT_RUN="$TARGET/debug/gait-run"
export GAIT_BUNDLE="$WORK/policy.gaitb"
export GAIT_TRUST="$WORK/test.pub"
export MCP_FS_SERVER="$ROOT/.local/node/node_modules/.bin/mcp-server-filesystem"
# The server logs its start on stderr; keep the test output readable.
if ! .local/venv/bin/python tests/mcp/test_proxy.py 2> "$WORK/test.log"; then
  cat "$WORK/test.log" >&2
  echo "test_mcp_proxy: FAILED" >&2
  exit 1
fi
grep -E '^(Ran|OK)' "$WORK/test.log"
passed="$(grep -E '^Ran [0-9]+ test' "$WORK/test.log" | awk '{print $2}')"
echo "mcp-proxy: ${passed} passed, 0 failed"
