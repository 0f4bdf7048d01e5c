#!/usr/bin/env bash
# Builds the toolchain and runs the main job on the bundled example:
# check the policy, compile it to a signed bundle, verify it, and decide two
# intents (a traversal to an SSH key is blocked; a workspace write is allowed).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet -p gaitc -p gait-run
bin="${CARGO_TARGET_DIR:-target}/release"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== gaitc check examples/payments-agent.gaitpol"
$bin/gaitc check examples/payments-agent.gaitpol
echo "== gaitc keygen + build (signed, digest-pinned bundle)"
$bin/gaitc keygen --out "$work/demo" 2>/dev/null
$bin/gaitc build examples/payments-agent.gaitpol -o "$work/payments.gaitb" --key "$work/demo.key"
echo "== gait-run verify"
$bin/gait-run verify "$work/payments.gaitb" --trust "$work/demo.pub"
for intent in examples/intents/read_ssh_key.json examples/intents/write_workspace.json; do
  echo "== gait-run eval --intent $intent"
  code=0
  out=$($bin/gait-run eval --bundle "$work/payments.gaitb" --trust "$work/demo.pub" --intent "$intent") || code=$?
  if command -v python3 >/dev/null; then
    printf '%s' "$out" | python3 -c 'import json,sys; r=json.load(sys.stdin); print("verdict:", r["verdict"], "| reasons:", ", ".join(r["reason_codes"]), "| rules:", ", ".join(r["matched_rules"]) or "-")'
  else
    printf '%s\n' "$out"
  fi
  echo "exit code: $code (0 allow, 3 block, 4 require_approval)"
done
