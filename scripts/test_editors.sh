#!/usr/bin/env bash
# The editor tests: the VS Code extension's grammar tests and client syntax
# check (npm), and the Neovim end-to-end test of `gaitc lsp` (headless Neovim
# with its built-in LSP client). Installs what it needs first (idempotent).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

bash scripts/setup_editor_peers.sh

echo "== VS Code extension: client syntax check and TextMate grammar tests"
(cd editors/vscode && npm test --silent)
suites_passed=1

echo "== Neovim end-to-end: diagnostic, code action, fix applied, diagnostics cleared"
cargo build --quiet -p gaitc
target_dir=${CARGO_TARGET_DIR:-target}
[[ "$target_dir" = /* ]] || target_dir="$root/$target_dir"
gaitc="$target_dir/debug/gaitc"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cat > "$work/policy.gaitpol" <<'POLICY'
policy "e2e" version "1.0.0"

default block

# `path` has one value per target, so the rule below needs a quantifier:
# `gaitc check` reports E0031 and offers to insert `any`.
rule no_etc priority 10 {
  when path in ["/etc/**"]
  then block
  reason "etc_access"
}
POLICY
# The server's stdlib cache goes to the temporary directory, not $HOME.
XDG_CACHE_HOME="$work/cache" GAITC="$gaitc" GAIT_POLICY="$work/policy.gaitpol" \
  timeout 120 "$root/scripts/nvim.sh" --headless --clean -n -i NONE -c "luafile $root/editors/nvim/e2e.lua"
suites_passed=$((suites_passed + 1))
# (set -e: a failing suite has already ended the script with its status.)
echo "editors: $suites_passed suites passed (VS Code grammar, Neovim end to end)"
