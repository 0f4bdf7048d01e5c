#!/usr/bin/env bash
# Installs what the editor tests need, project-locally and idempotently:
#   .local/neovim/                  Debian's neovim (bookworm: 0.7.2) and the libraries it
#                                   links, unpacked with `dpkg -x` (no system-wide install)
#   editors/vscode/node_modules/    the extension's pinned npm packages (`npm ci`), among them
#                                   vscode-tmgrammar-test for the grammar tests
# A second run is a no-op. Works as root or not (nothing is installed system-wide; root
# only refreshes the apt lists when they are missing).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
nvim_dir="$root/.local/neovim"
stamp="$nvim_dir/.installed"

install_neovim() {
  if [[ -f "$stamp" && -x "$nvim_dir/usr/bin/nvim" ]]; then
    echo "neovim: already in $nvim_dir"
    return
  fi
  if ! apt-cache show neovim >/dev/null 2>&1; then
    if [[ $(id -u) -eq 0 ]]; then
      apt-get update -qq
    else
      echo "error: apt-cache knows no 'neovim' package; run 'apt-get update' as root first" >&2
      exit 1
    fi
  fi
  # neovim, its runtime files, and the first alternative of each of its direct
  # dependencies (libc6 is part of every base system).
  local pkgs=(neovim)
  while read -r dep; do
    [[ -n "$dep" && "$dep" != libc6 ]] && pkgs+=("$dep")
  done < <(apt-cache depends --no-recommends --no-suggests --no-conflicts --no-breaks \
             --no-replaces --no-enhances neovim |
           awk '/^ *\|?Depends:/ { if (!alt) print $2; alt = ($1 ~ /^\|/) }')
  echo "neovim: downloading ${pkgs[*]}"
  local debs
  debs=$(mktemp -d)
  chmod 755 "$debs" # apt-get download drops privileges to _apt when root
  trap 'rm -rf "$debs"' RETURN
  (cd "$debs" && apt-get download -qq "${pkgs[@]}")
  rm -rf "$nvim_dir"
  mkdir -p "$nvim_dir"
  for deb in "$debs"/*.deb; do
    dpkg -x "$deb" "$nvim_dir"
  done
  "$root/scripts/nvim.sh" --version | head -n 1
  touch "$stamp"
}

install_npm() {
  local dir="$root/editors/vscode"
  local lock_copy="$dir/node_modules/.package-lock.json"
  if [[ -f "$lock_copy" && "$dir/package-lock.json" -ot "$lock_copy" ]]; then
    echo "npm: editors/vscode/node_modules is up to date"
    return
  fi
  if ! command -v npm >/dev/null; then
    echo "error: npm is needed for the VS Code extension's tests (apt-get install npm)" >&2
    exit 1
  fi
  (cd "$dir" && npm ci --no-audit --no-fund --loglevel=error)
}

install_neovim
install_npm
