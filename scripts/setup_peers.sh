#!/usr/bin/env bash
# Installs the external peers the serving tests and the load check need, into
# project-local folders under .local/ (gitignored), idempotently:
#   .local/node   the real MCP filesystem server (npm, pinned by tests/mcp/package-lock.json)
#   .local/venv   the `mcp` Python SDK (PyPI, pinned below), the MCP client of the tests
#   .local/wrk    Debian's `wrk` HTTP load generator (apt-get download + dpkg -x, no system install)
# A second run with nothing changed is a no-op. Usage: scripts/setup_peers.sh [node|venv|wrk]...
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LOCAL="$ROOT/.local"
MCP_PY_VERSION="1.30.0"
mkdir -p "$LOCAL"

stamp_ok() { [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }

setup_node() {
  local dir="$LOCAL/node" want
  want="$(sha256sum "$ROOT/tests/mcp/package.json" "$ROOT/tests/mcp/package-lock.json" | sha256sum | cut -d' ' -f1)"
  if stamp_ok "$dir/.gait-stamp" "$want" && [ -x "$dir/node_modules/.bin/mcp-server-filesystem" ]; then
    echo "setup_peers: node peers up to date"; return
  fi
  command -v npm >/dev/null || { echo "setup_peers: npm not found (Node.js 20+ is required)" >&2; exit 1; }
  mkdir -p "$dir"
  cp "$ROOT/tests/mcp/package.json" "$ROOT/tests/mcp/package-lock.json" "$dir/"
  (cd "$dir" && npm ci --no-audit --no-fund --ignore-scripts)
  [ -x "$dir/node_modules/.bin/mcp-server-filesystem" ] || { echo "setup_peers: mcp-server-filesystem missing after npm ci" >&2; exit 1; }
  echo "$want" > "$dir/.gait-stamp"
}

setup_venv() {
  local dir="$LOCAL/venv"
  if stamp_ok "$dir/.gait-stamp" "mcp==$MCP_PY_VERSION" && "$dir/bin/python" -c "import mcp" 2>/dev/null; then
    echo "setup_peers: python venv up to date"; return
  fi
  rm -rf "$dir"
  python3 -m venv "$dir"
  "$dir/bin/python" -m pip install --quiet --disable-pip-version-check "mcp==$MCP_PY_VERSION"
  "$dir/bin/python" -c "import mcp"
  echo "mcp==$MCP_PY_VERSION" > "$dir/.gait-stamp"
}

setup_wrk() {
  local dir="$LOCAL/wrk"
  # `wrk --version` exits 1 after printing its version.
  if [ -x "$dir/bin/wrk" ] && case "$("$dir/bin/wrk" --version 2>&1 || true)" in wrk\ *) true ;; *) false ;; esac; then
    echo "setup_peers: wrk up to date"; return
  fi
  command -v apt-get >/dev/null || { echo "setup_peers: apt-get not found (wrk comes from Debian's packages)" >&2; exit 1; }
  local tmp; tmp="$(mktemp -d)"
  # The package lists may be missing on a fresh machine: `apt-get download` needs them.
  if ! (cd "$tmp" && apt-get download wrk libluajit-5.1-2 libluajit-5.1-common >/dev/null 2>&1); then
    apt-get update -qq >/dev/null 2>&1 || true
    (cd "$tmp" && apt-get download wrk libluajit-5.1-2 libluajit-5.1-common)
  fi
  rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
  for deb in "$tmp"/*.deb; do dpkg -x "$deb" "$dir.tmp"; done
  rm -rf "$tmp"
  mkdir -p "$dir.tmp/bin"
  local lib; lib="$(dirname "$(find "$dir.tmp/usr/lib" -name 'libluajit-5.1.so.2*' | head -n1)")"
  cat > "$dir.tmp/bin/wrk" <<WRAP
#!/bin/sh
LD_LIBRARY_PATH="$dir/${lib#"$dir.tmp/"}\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}" exec "$dir/usr/bin/wrk" "\$@"
WRAP
  chmod +x "$dir.tmp/bin/wrk"
  rm -rf "$dir" && mv "$dir.tmp" "$dir"
  case "$("$dir/bin/wrk" --version 2>&1 || true)" in
    wrk\ *) echo "setup_peers: installed $("$dir/bin/wrk" --version 2>&1 | head -n1 || true)" ;;
    *) echo "setup_peers: wrk does not run after installing it" >&2; exit 1 ;;
  esac
}

targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(node venv wrk)
for t in "${targets[@]}"; do
  case "$t" in
    node) setup_node ;;
    venv) setup_venv ;;
    wrk) setup_wrk ;;
    *) echo "setup_peers: unknown target $t (node, venv, wrk)" >&2; exit 6 ;;
  esac
done
