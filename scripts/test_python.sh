#!/usr/bin/env bash
# The `gait` Python package and its LangChain, OpenAI Agents, AutoGen and
# AutoGPT Forge adapters: installs them (scripts/setup_adapters.sh,
# idempotent: venvs in target/adapters/venv and target/adapters/venv-forge),
# builds gaitc and gait-run (the tests build and sign their bundles with gaitc
# and compare every decision with `gait-run eval`), then at once type-checks
# the package (mypy --strict), runs pytest over sdk/python/tests in the main
# venv (where the forge tests skip) and sdk/python/tests/test_autogpt.py in
# the forge venv. Exits non-zero on any failure; the Forge run's pytest
# summary is the last line of its output.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/setup_adapters.sh
cargo build --quiet -p gaitc -p gait-run
TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
export GAITC="$TARGET/debug/gaitc"
export GAIT_RUN="$TARGET/debug/gait-run"
export PYTHONDONTWRITEBYTECODE=1
# Hypothesis's own cache (not an example database: conftest.py turns that off).
export HYPOTHESIS_STORAGE_DIRECTORY="$TARGET/adapters/hypothesis"
cd sdk/python
# Three independent single-threaded jobs: the type check and the Forge tests
# run beside the main test run (their output is printed when they end).
logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT
# The package is typed (py.typed, stubs of the native module): checked
# against the frameworks it adapts.
"$TARGET/adapters/venv/bin/python" -m mypy --strict --no-error-summary \
  --cache-dir "$TARGET/adapters/mypy-cache" python/gait >"$logs/mypy" 2>&1 &
mypy_pid=$!
# AutoGPT Forge 0.1.4 (gait.autogpt) in its own venv: forge pins openai<2.
timeout 300 "$TARGET/adapters/venv-forge/bin/python" -m pytest -q -p no:cacheprovider \
  tests/test_autogpt.py >"$logs/forge" 2>&1 &
forge_pid=$!
status=0
# -p no:cacheprovider: nothing written into the source tree.
timeout 600 "$TARGET/adapters/venv/bin/python" -m pytest -q -p no:cacheprovider tests/ "$@" || status=$?
if wait "$mypy_pid"; then
  echo "mypy --strict: the gait package type-checks"
else
  cat "$logs/mypy"
  echo "mypy --strict: the gait package does not type-check" >&2
  status=1
fi
echo "AutoGPT Forge (target/adapters/venv-forge):"
cat "$logs/forge"
wait "$forge_pid" || status=1
exit "$status"
