#!/usr/bin/env bash
# The whole test suite, as README.md's second command and .ci/run run it.
# Test peers (npm, PyPI, Debian packages) are installed into project-local
# folders (.local/, editors/vscode/node_modules, target/adapters/venv) by the
# scripts below, once; later runs reuse them.
#
#   0. scripts/setup_redis.sh             Debian's redis-server (pinned) under target/adapters/redis,
#                                         for the approval replay store's tests in cargo test
#   1. cargo test                         unit, snapshot, conformance, differential
#                                         (the bash one in the background: see below),
#                                         bundle, CLI, fail-closed, sidecar (real HTTP),
#                                         mcp-proxy (stand-in servers), LSP (stdio)
#   2. v1.7 acceptance                    endpoint fixtures, skill supply chain,
#                                         fail-closed matrix, policy tests with coverage,
#                                         runtime SLO check
#   2b. adversarial latency               hostile intents (command lines, paths, URLs, targets)
#                                         decided within 10 ms or refused; none times out
#   3. mcp-proxy against real peers       npm filesystem server + mcp Python SDK
#   3b. the gait Python package           scripts/setup_adapters.sh (venvs in target/adapters,
#                                         pinned: maturin build, LangChain, OpenAI Agents,
#                                         AutoGen; AutoGPT Forge in venv-forge), then pytest
#                                         over sdk/python/tests
#   3c. adapter parity                    tests/adapters/scenarios.json through every adapter
#                                         (OpenClaw: real `openclaw agent --local` runs)
#                                         and gait-run eval, twice (target/adapter-parity/)
#   3d. the OpenClaw plugin               scripts/setup_openclaw.sh (Node 24 + openclaw under
#                                         target/adapters, pinned), the Node binding, the
#                                         plugin's tests and real `openclaw agent --local` runs
#   4. sidecar load and fault smoke       wrk mix of valid/invalid/oversize requests:
#                                         no allow for a bad request, no crash
#   5. editors                            VS Code grammar tests, headless Neovim e2e
#   6. benchmark peers                    Cedar and regorus agree with Gait on the
#                                         shared corpus (in the background: see below)
# Stops at the first failing step.
set -euo pipefail
cd "$(dirname "$0")/.."

# Each step's wall time, printed as a table at the end (where CI's minutes
# go).
timings=()
step_name=""
step_started=$SECONDS
end_step() {
  if [[ -n "$step_name" ]]; then
    timings+=("$(printf '%5d s  %s' $((SECONDS - step_started)) "${step_name:0:90}")")
  fi
}
step() {
  end_step
  step_name="$*"
  step_started=$SECONDS
  echo
  echo "== $*"
}

step "redis-server for the approval replay store tests (scripts/setup_redis.sh: Debian's package, pinned, under target/adapters/redis)"
GAIT_REDIS_SERVER="$(bash scripts/setup_redis.sh | tail -n 1)"
export GAIT_REDIS_SERVER

# Two jobs run in the background, at the lowest CPU priority (nice 19), from
# the start of `cargo test` on: the bash differential (runtime/tests/command_bash.rs:
# 100,000 lines, each run in a real bash: a process or more per line, ~340
# CPU-seconds) and the benchmark peers' agreement tests (Cedar and regorus,
# ~110 s of compiling on 2 cores; in their own target folder,
# target/bench-peers, so that they never hold the build lock the later
# steps' cargo builds need). The steps between them are often one process
# waiting on another (Python, Node, an MCP server), and a niced job runs in
# the gaps they leave without taking time from them; the last step waits
# for both and prints what they printed. Steps that measure time (the
# runtime SLO, the adversarial latency check) stop both while they run
# (SIGSTOP/SIGCONT to every process of their sessions: GAIT_PAUSE_SIDS, read
# by scripts/test_v1_7_acceptance.sh too. By session, not process group:
# GNU timeout, which the differential runs its bash drivers under, puts
# them in groups of their own.)
bg_pids=()
bg_logs=()
bg_names=()
bg_signal() { # SIGNAL: to every process of every background session
  local sid
  # Twice: a process forked while the first pass ran is caught by the second.
  for sid in "${bg_pids[@]}" "${bg_pids[@]}"; do
    pkill "-$1" -s "$sid" 2>/dev/null || true
  done
}
bg_cleanup() {
  bg_signal CONT
  bg_signal KILL
  rm -f "${bg_logs[@]}"
}
trap bg_cleanup EXIT
start_bg() { # NAME COMMAND...: in a session of its own (setsid: its pid is the session's id), niced
  local name=$1 log
  shift
  log="$(mktemp)"
  # A new session is a new autogroup where the kernel groups by session
  # (CONFIG_SCHED_AUTOGROUP, on by default): nice then only ranks processes
  # within it, and the group as a whole gets an equal share with the
  # foreground's. So the group's own nice value is raised too (measured:
  # with `nice` alone a niced rustc took half of the release build's CPU).
  setsid -w bash -c 'echo 19 > /proc/self/autogroup 2>/dev/null || true; exec nice -n 19 "$@"' start_bg "$@" >"$log" 2>&1 &
  bg_pids+=($!)
  bg_logs+=("$log")
  bg_names+=("$name")
  echo "started in the background: $name"
}
paused() { # COMMAND...: runs it with the background jobs stopped
  local rc=0
  bg_signal STOP
  "$@" || rc=$?
  bg_signal CONT
  return $rc
}

step "cargo test (all but the bash differential, which runs in the background from here on)"
# The differential's test binary is built first and started in the
# background, run directly (cargo would wait for the build lock the
# foreground's `cargo test` holds while it compiles), from runtime/ as cargo
# runs it: it takes the cycles the compile leaves idle (linking, the last
# crates, the test runs), as the peers' build does.
diff_bin="$(cargo test --quiet --test command_bash --no-run --message-format=json | python3 -c '
import json, sys
for line in sys.stdin:
    m = json.loads(line)
    if m.get("reason") == "compiler-artifact" and m.get("executable") and m["target"]["name"] == "command_bash":
        print(m["executable"])
')"
[[ -x "$diff_bin" ]] || { echo "the bash differential's test binary was not built" >&2; exit 1; }
start_bg "the bash differential (runtime/tests/command_bash.rs)" \
  bash -c 'cd runtime && exec "$0" --exact bash_never_runs_a_program_the_gate_did_not_report' "$diff_bin"
start_bg "the benchmark peers' agreement tests (cargo test -p gait-benches --features peers)" \
  env CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-target}/bench-peers" cargo test -p gait-benches --features peers
# (--exact: the skip filter is the whole test name. The differential's own
# check of its harness, the_harness_sees_every_way_a_program_runs, runs
# here.)
cargo test -- --exact --skip bash_never_runs_a_program_the_gate_did_not_report
# The std.secrets conformance cases follow the module's own list.
python3 scripts/gen_secrets_cases.py --check
GAIT_PAUSE_SIDS="${bg_pids[*]}"
export GAIT_PAUSE_SIDS

step "builds: gait-run in release (v1.7 acceptance), gaitc and gait-run in debug (the later scripts)"
# (`cargo test`'s own units of the two crates are not the ones `cargo build`
# makes.)
cargo build --release --quiet -p gait-run
cargo build --quiet -p gaitc -p gait-run

step "v1.7 acceptance (endpoint fixtures, skill suite, fail-closed matrix, policy tests, runtime SLO)"
bash scripts/test_v1_7_acceptance.sh

step "adversarial decision latency (hostile intents through the gate: accepted ones within 10 ms, none timing out)"
paused bash scripts/check_adversarial.sh

step "mcp-proxy against the real MCP filesystem server (npm), driven by the mcp Python SDK (PyPI)"
bash scripts/test_mcp_proxy.sh

step "the gait Python package: transports over the conformance corpus, guard, LangChain / OpenAI Agents / AutoGen with their offline fake models, examples"
bash scripts/test_python.sh

step "the OpenClaw plugin (gait-gate) inside the real openclaw (Node 24): every transport decides as gait-run eval, every failure blocks, openclaw agent --local runs"
bash scripts/test_openclaw.sh

step "adapter parity: one scenario table through openai_agents, langchain, autogen, AutoGPT Forge, OpenClaw and gait-run eval, twice"
bash scripts/test_adapter_parity.sh

step "sidecar load and fault smoke (wrk, 3 s)"
bash scripts/load_sidecar.sh 3 >/dev/null
echo "load_sidecar: no bad request allowed, every request answered, the sidecar survived"

step "editors: VS Code grammar tests, Neovim end to end with gaitc lsp"
bash scripts/test_editors.sh

step "the background jobs: the bash differential, the benchmark peers' agreement tests"
# (The peers' code is not linted here with the feature: checking Cedar and
# regorus once more took 75-90 s of CI's 20 minutes, for code only the
# benchmark report runs; `.ci/run`'s clippy checks benches/ without it.
# Changing the peers' code: `cargo clippy -p gait-benches --all-targets
# --features peers -- -D warnings`; .github/workflows runs it.)
bg_signal CONT
bg_failed=0
for i in "${!bg_pids[@]}"; do
  rc=0
  wait "${bg_pids[$i]}" || rc=$?
  echo
  echo "-- ${bg_names[$i]}, run in the background (exit $rc):"
  cat "${bg_logs[$i]}"
  if [[ $rc -ne 0 ]]; then
    echo "failed: ${bg_names[$i]} (exit $rc)" >&2
    bg_failed=1
  fi
done
[[ $bg_failed -eq 0 ]]

end_step
echo
echo "test.sh: every step passed in $((SECONDS / 60)) min $((SECONDS % 60)) s:"
printf '%s\n' "${timings[@]}"
