#!/usr/bin/env bash
# The mcp-proxy against real peers: installs them (scripts/setup_peers.sh: the
# real MCP filesystem server from npm, the `mcp` Python SDK from PyPI), builds
# gaitc and gait-run, builds and signs tests/mcp/policy.gaitpol (which imports
# std.mcp.filesystem) and tests/mcp/approval.gaitpol (interactive approval:
# `trust approver`, `approvals N [interactive]`) with a throw-away key, and
# runs tests/mcp/test_proxy.py and tests/mcp/test_elicitation.py. Fails
# loudly: any failed step exits non-zero.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
scripts/setup_peers.sh node venv
cargo build --quiet -p gaitc -p gait-run
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
# Both policies are clean: no error and no warning (W0011 would say a
# require_approval rule has nobody to approve it).
"$TARGET/debug/gaitc" check --deny-warnings tests/mcp/policy.gaitpol tests/mcp/approval.gaitpol
"$TARGET/debug/gaitc" test tests/mcp/policy.gaitpol
"$TARGET/debug/gaitc" keygen --out "$WORK/test" >/dev/null
"$TARGET/debug/gaitc" build tests/mcp/policy.gaitpol -o "$WORK/policy.gaitb" --key "$WORK/test.key" >/dev/null
"$TARGET/debug/gaitc" test tests/mcp/approval.gaitpol
"$TARGET/debug/gaitc" build tests/mcp/approval.gaitpol -o "$WORK/approval.gaitb" --key "$WORK/test.key" >/dev/null
export GAIT_RUN="$TARGET/debug/gait-run"
export GAIT_BUNDLE="$WORK/policy.gaitb"
export GAIT_APPROVAL_BUNDLE="$WORK/approval.gaitb"
export GAIT_TRUST="$WORK/test.pub"
export MCP_FS_SERVER="$ROOT/.local/node/node_modules/.bin/mcp-server-filesystem"
# The server logs its start on stderr; keep the test output readable.
passed=0
for t in test_proxy test_elicitation; do
  if ! .local/venv/bin/python "tests/mcp/$t.py" 2> "$WORK/$t.log"; then
    cat "$WORK/$t.log" >&2
    echo "test_mcp_proxy: $t FAILED" >&2
    exit 1
  fi
  grep -E '^(Ran|OK)' "$WORK/$t.log"
  passed=$((passed + $(grep -E '^Ran [0-9]+ test' "$WORK/$t.log" | awk '{print $2}')))
done
echo "mcp-proxy: ${passed} passed, 0 failed"
