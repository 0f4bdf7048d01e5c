#!/usr/bin/env bash
# Installs the `gait` Python package and the agent frameworks its adapters
# are tested against into project-local venvs, pinned:
#
#   target/adapters/venv     (under $CARGO_TARGET_DIR if set)
#     maturin, pytest, hypothesis, mypy, jsonschema,
#     langchain, openai-agents, autogen-*         sdk/python/requirements/adapters.txt
#                                                 (every dependency pinned by adapters.lock)
#     gait (sdk/python, built by maturin --release over the runtime crate
#           into target/adapters/wheels)
#   target/adapters/venv-forge  (AutoGPT Forge pins openai<2, which conflicts
#                                with openai-agents: its own venv)
#     autogpt-forge, pytest, hypothesis, jsonschema
#                                                 sdk/python/requirements/forge.txt
#                                                 (every dependency pinned by forge.lock)
#     gait (the same wheel from target/adapters/wheels)
#   target/adapters/node, target/adapters/openclaw, target/adapters/bin/{node,openclaw}
#     Node 24 and OpenClaw for the gait-gate plugin      scripts/setup_openclaw.sh
#   target/adapters/uv, target/adapters/uv-cache
#     uv (pinned, from PyPI), which creates the venvs and installs into them:
#     a fresh install of both took 12 s + ~15 s where pip took 41 s + ~55 s.
#     The venvs are seeded with pip (other scripts install with it).
#
# Idempotent: the requirements are installed again only when the pin files or
# the Python change, the package is rebuilt only when its sources (sdk/python,
# runtime/, Cargo.lock) change; a second run installs nothing new.
# GAIT_SKIP_FORGE=1 leaves the forge venv out (the adapter parity harness and
# the AutoGPT tests need it).
# Needs Python >= 3.11 (langchain 1.x) with venv, and cargo. Set PYTHON to
# choose the interpreter.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
BASE="$TARGET/adapters"
VENV="$BASE/venv"
PY="${PYTHON:-python3}"
REQ="sdk/python/requirements/adapters.txt"
LOCK="sdk/python/requirements/adapters.lock"

if ! "$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)'; then
  echo "setup_adapters: needs Python >= 3.11 (found $("$PY" --version 2>&1))" >&2
  exit 1
fi
installed=()

# uv, pinned, in its own small venv; its cache stays under target/adapters.
UV_VERSION="0.13.9"
UV="$BASE/uv/bin/uv"
export UV_CACHE_DIR="$BASE/uv-cache"
if ! "$UV" --version 2>/dev/null | grep -q "^uv $UV_VERSION "; then
  rm -rf "$BASE/uv"
  mkdir -p "$BASE"
  "$PY" -m venv "$BASE/uv"
  "$BASE/uv/bin/python" -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
  installed+=("uv $UV_VERSION")
fi
uv_install() { # uv_install VENV ARGS...: pip install into VENV, with uv
  local venv="$1"
  shift
  "$UV" pip install --quiet --python "$venv/bin/python" "$@"
}

if [ ! -x "$VENV/bin/python" ]; then
  "$UV" venv --quiet --seed --python "$PY" "$VENV"
  installed+=("venv")
fi

# 1. The pinned requirements.
req_stamp="$( (cat "$REQ" "$LOCK"; "$VENV/bin/python" --version) | sha256sum | cut -d' ' -f1)"
if [ "$(cat "$VENV/.gait-requirements" 2>/dev/null || true)" != "$req_stamp" ]; then
  uv_install "$VENV" --compile-bytecode -r "$REQ" -c "$LOCK"
  echo "$req_stamp" > "$VENV/.gait-requirements"
  installed+=("requirements ($(grep -cvE '^(#|$)' "$REQ") pinned, $(grep -cvE '^(#|$)' "$LOCK") in the lock)")
fi

# 2. The package, built from this checkout.
pkg_stamp="$( (find sdk/python/src sdk/python/python runtime/src -type f -print0 | sort -z | xargs -0 sha256sum;
               sha256sum sdk/python/Cargo.toml sdk/python/pyproject.toml runtime/Cargo.toml Cargo.toml Cargo.lock) \
             | sha256sum | cut -d' ' -f1)"
WHEELS="$BASE/wheels"
if [ "$(cat "$VENV/.gait-package" 2>/dev/null || true)" != "$pkg_stamp" ] \
   || ! "$VENV/bin/python" -c 'import gait._native' 2>/dev/null \
   || ! ls "$WHEELS"/gait-*.whl >/dev/null 2>&1; then
  rm -rf "$WHEELS"
  "$VENV/bin/maturin" build --quiet --release --manifest-path sdk/python/Cargo.toml \
    --interpreter "$VENV/bin/python" --out "$WHEELS" >&2
  uv_install "$VENV" --no-deps --reinstall "$WHEELS"/gait-*.whl
  echo "$pkg_stamp" > "$VENV/.gait-package"
  installed+=("gait (built from sdk/python)")
fi

# 3. The forge venv: its pinned requirements, then the same wheel.
FORGE_VENV="$BASE/venv-forge"
FORGE_REQ="sdk/python/requirements/forge.txt"
FORGE_LOCK="sdk/python/requirements/forge.lock"
forge_installed=()
if [ "${GAIT_SKIP_FORGE:-}" != "1" ]; then
  if [ ! -x "$FORGE_VENV/bin/python" ]; then
    "$UV" venv --quiet --seed --python "$PY" "$FORGE_VENV"
    forge_installed+=("venv")
  fi
  forge_stamp="$( (cat "$FORGE_REQ" "$FORGE_LOCK"; "$FORGE_VENV/bin/python" --version) | sha256sum | cut -d' ' -f1)"
  if [ "$(cat "$FORGE_VENV/.gait-requirements" 2>/dev/null || true)" != "$forge_stamp" ]; then
    uv_install "$FORGE_VENV" --compile-bytecode -r "$FORGE_REQ" -c "$FORGE_LOCK"
    echo "$forge_stamp" > "$FORGE_VENV/.gait-requirements"
    forge_installed+=("requirements ($(grep -cvE '^(#|$)' "$FORGE_REQ") pinned, $(grep -cvE '^(#|$)' "$FORGE_LOCK") in the lock)")
  fi
  if [ "$(cat "$FORGE_VENV/.gait-package" 2>/dev/null || true)" != "$pkg_stamp" ] \
     || ! "$FORGE_VENV/bin/python" -c 'import gait._native' 2>/dev/null; then
    uv_install "$FORGE_VENV" --no-deps --reinstall "$WHEELS"/gait-*.whl
    echo "$pkg_stamp" > "$FORGE_VENV/.gait-package"
    forge_installed+=("gait (from $WHEELS)")
  fi
fi

# 4. Node 24 and OpenClaw (target/adapters/node, target/adapters/openclaw,
#    entry points target/adapters/bin/{node,openclaw}), for sdk/openclaw.
bash scripts/setup_openclaw.sh >&2

if [ "${#installed[@]}" -eq 0 ]; then
  echo "setup_adapters: $VENV is up to date (nothing installed)"
else
  echo "setup_adapters: installed into $VENV: ${installed[*]}"
fi
if [ "${GAIT_SKIP_FORGE:-}" = "1" ]; then
  echo "setup_adapters: $FORGE_VENV left out (GAIT_SKIP_FORGE=1)"
elif [ "${#forge_installed[@]}" -eq 0 ]; then
  echo "setup_adapters: $FORGE_VENV is up to date (nothing installed)"
else
  echo "setup_adapters: installed into $FORGE_VENV: ${forge_installed[*]}"
fi
