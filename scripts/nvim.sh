#!/usr/bin/env bash
# Runs the project-local Neovim installed by scripts/setup_editor_peers.sh
# (its libraries, e.g. libluv and libvterm, come from .local/neovim too).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
base="$root/.local/neovim"
arch_dir=$(ls -d "$base"/usr/lib/*-linux-gnu 2>/dev/null | head -n 1 || true)
export LD_LIBRARY_PATH="${arch_dir}${arch_dir:+:}$base/lib/${arch_dir##*/}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export VIMRUNTIME="$base/usr/share/nvim/runtime"
exec "$base/usr/bin/nvim" "$@"
