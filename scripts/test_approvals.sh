#!/usr/bin/env bash
# The approval path end to end through the CLI (issue 18; docs/approval_runbook.md),
# on examples/approvals/ with the debug binaries of gaitc and gait-run:
#
#   1. the policy: `gaitc check`, `gaitc test`, `gaitc build` signed with a
#      throwaway release key, `gait-run verify`;
#   2. a write outside the workspace (one approver): require_approval (exit 4)
#      with its approval_request; `gait-run approve` (alice, the example-only
#      key) -> token; eval with it -> allow (exit 0), approval_granted; the
#      same token again -> approval_token_replayed (exit 4); a token for that
#      intent on another -> approval_token_intent_mismatch; a blocked intent
#      with a token -> still block (exit 3); `approve` refuses a blocked result
#      and an approver the rule does not allow;
#   3. two approvers (production deploys), with a throwaway key for bob in a
#      copy of the policy: alice alone -> approval_insufficient, alice twice ->
#      approval_distinct_approvers_required, alice + bob -> allow;
#   4. replay across processes: rounds of two `eval` processes started at once
#      with the same fresh token on one store file -> exactly one exit 0, the
#      other approval_token_replayed;
#   5. the skill-provenance case: a command from the web-search skill, which
#      this policy cannot verify (it trusts no publisher), is not run without
#      approval; its approval_request.skill_provenance names the skill; an
#      on-call approver approves it; the agent's tool runner then runs it
#      (the skill's real scripts/search.py, against a stub search API on
#      loopback) and it prints its results.
#
# Fails at the first wrong answer (set -e) with what was expected and what came;
# prints one `ok` line per check. The replay stores live in a temporary folder
# (GAIT_STATE_DIR too: nothing is written under ~/.local/state).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
# Always build: a no-op when up to date, and never a stale binary.
cargo build --quiet -p gaitc -p gait-run
bin="${CARGO_TARGET_DIR:-$root/target}/debug"
gaitc="$bin/gaitc"
gaitrun="$bin/gait-run"
command -v python3 >/dev/null || { echo "python3 is required" >&2; exit 1; }

ex=examples/approvals
work=$(mktemp -d)
stub_pid=
cleanup() {
  if [[ -n "$stub_pid" ]]; then kill "$stub_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
export GAIT_STATE_DIR="$work/state"

checks=0
ok() { checks=$((checks + 1)); echo "ok    $*"; }
die() { echo "FAIL  $*" >&2; exit 1; }

# field FILE EXPR: a Python expression over the JSON document `r` in FILE
# (strings bare, anything else as JSON).
field() {
  python3 - "$1" "$2" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
v = eval(sys.argv[2], {"r": r})
print(v if isinstance(v, str) else json.dumps(v))
PY
}

# expect WHAT GOT WANT
expect() {
  [[ "$2" == "$3" ]] || die "$1: got '$2', want '$3'"
  ok "$1: $3"
}

# eval_to OUT INTENT [ARGS...]: `gait-run eval` of INTENT on $bundle, the
# result in OUT; prints the exit code. A generous deadline: signature checks
# in a debug build on a busy machine must never be what decides.
bundle=$work/p.gaitb
eval_to() {
  local out=$1 intent=$2 code=0
  shift 2
  "$gaitrun" eval --bundle "$bundle" --trust "$work/release.pub" --intent "$intent" \
    --decision-timeout-ms 60000 "$@" >"$out" 2>"$out.err" || code=$?
  echo "$code"
}

# approve REQUEST INTENT KEY APPROVER OUT: a token, or the test fails. As the
# runbook says to: with the intent and the (verified) bundle, so approve
# checks the request against them and shows what the intent says.
approve() {
  "$gaitrun" approve --request "$1" --intent "$2" --bundle "$bundle" --trust "$work/release.pub" \
    --key "$3" --approver "$4" -o "$5" 2>"$work/approve.err" ||
    die "approve $1 as $4: $(cat "$work/approve.err")"
  ! grep -qi "unverified" "$work/approve.err" || die "approve $1 with --intent still warns: $(cat "$work/approve.err")"
}

# ---------------------------------------------------------------- 1. the policy
"$gaitc" check --deny-warnings "$ex/policy.gaitpol" >/dev/null || die "gaitc check $ex/policy.gaitpol"
ok "gaitc check: no problems"
"$gaitc" test "$ex/policy.gaitpol" >"$work/test.out" || { cat "$work/test.out"; die "gaitc test $ex/policy.gaitpol"; }
ok "gaitc test: $(tail -n 1 "$work/test.out")"
"$gaitc" keygen --out "$work/release" >/dev/null 2>&1
"$gaitc" build "$ex/policy.gaitpol" -o "$bundle" --key "$work/release.key" >/dev/null 2>"$work/build.err" ||
  die "gaitc build: $(cat "$work/build.err")"
"$gaitrun" verify "$bundle" --trust "$work/release.pub" >"$work/verify.json" || die "gait-run verify"
expect "verify: signed bundle" "$(field "$work/verify.json" 'r["bundle_verified"]')" true
# The approvers are in the signed bundle.
"$gaitc" inspect "$bundle" --json >"$work/inspect.json"
grep -q '"alice"' "$work/inspect.json" || die "gaitc inspect lists no approver alice"
ok "inspect: the approvers are compiled into the bundle"

# ---------------------------------------------------------------- 2. one approver
A=$ex/intents/outside_write.json
B=$ex/intents/unverified_skill_read.json
BLOCKED=$ex/intents/blocked_command.json

expect "A without a token: exit" "$(eval_to "$work/ra.json" "$A")" 4
expect "A: verdict" "$(field "$work/ra.json" 'r["verdict"]')" require_approval
expect "A: approval_request.rules" "$(field "$work/ra.json" 'r["approval_request"]["rules"]')" '["outside_writes"]'
expect "A: approval_request.approvals_required" "$(field "$work/ra.json" 'r["approval_request"]["approvals_required"]')" 1
expect "A: approval_request.approvers" "$(field "$work/ra.json" 'r["approval_request"]["approvers"]')" '["alice", "bob", "carol"]'
expect "A: approval_request.intent_digest is the result's" \
  "$(field "$work/ra.json" 'r["approval_request"]["intent_digest"] == r["intent_digest"]')" true
expect "A: approval_request.approval_ttl_seconds (approval_ttl 30m)" \
  "$(field "$work/ra.json" 'r["approval_request"]["approval_ttl_seconds"]')" 1800

approve "$work/ra.json" "$A" "$ex/alice.key" alice "$work/a.tok"
expect "token: schema" "$(field "$work/a.tok" 'r["schema_id"]')" gait.approval_token
expect "token: approver" "$(field "$work/a.tok" 'r["approver"]')" alice
expect "token: bound to A" "$(field "$work/a.tok" 'r["intent_digest"]')" "$(field "$work/ra.json" 'r["intent_digest"]')"

store=$work/approvals.db
# A token for A on intent B: says nothing about B (and is not spent).
expect "A's token on B: exit" "$(eval_to "$work/rb.json" "$B" --approval-token "$work/a.tok" --approval-store "$store")" 4
expect "A's token on B: token code" "$(field "$work/rb.json" 'r["approval"]["tokens"][0]["code"]')" approval_token_intent_mismatch
expect "A's token on B: decision code" "$(field "$work/rb.json" 'r["approval"]["code"]')" approval_insufficient

# A blocked intent with a token: a block is never turned into anything.
expect "blocked intent + token: exit" "$(eval_to "$work/rx.json" "$BLOCKED" --approval-token "$work/a.tok" --approval-store "$store")" 3
expect "blocked intent + token: verdict" "$(field "$work/rx.json" 'r["verdict"]')" block
expect "blocked intent + token: reasons" "$(field "$work/rx.json" 'r["reason_codes"]')" '["default_block"]'

expect "A + token: exit" "$(eval_to "$work/granted.json" "$A" --approval-token "$work/a.tok" --approval-store "$store")" 0
expect "A + token: verdict" "$(field "$work/granted.json" 'r["verdict"]')" allow
expect "A + token: reasons" "$(field "$work/granted.json" 'r["reason_codes"]')" '["approval_granted", "write_outside_workspace"]'
expect "A + token: approval" "$(field "$work/granted.json" '[r["approval"]["code"], r["approval"]["approvers"], r["approval"]["tokens"][0]["code"]]')" \
  '["approval_granted", ["alice"], "approval_token_accepted"]'
expect "A + token: the token id" "$(field "$work/granted.json" 'r["approval"]["tokens"][0]["token_id"]')" "$(field "$work/a.tok" 'r["token_id"]')"

expect "A + the same token again: exit" "$(eval_to "$work/again.json" "$A" --approval-token "$work/a.tok" --approval-store "$store")" 4
expect "A + the same token again: verdict" "$(field "$work/again.json" 'r["verdict"]')" require_approval
expect "A + the same token again: token code" "$(field "$work/again.json" 'r["approval"]["tokens"][0]["code"]')" approval_token_replayed

# What approve must not sign.
expect "blocked intent: exit" "$(eval_to "$work/rblocked.json" "$BLOCKED")" 3
code=0
"$gaitrun" approve --request "$work/rblocked.json" --key "$ex/alice.key" --approver alice -o "$work/never.tok" 2>"$work/refused.err" || code=$?
[[ $code -ne 0 ]] || die "approve signed a blocked result"
[[ ! -e "$work/never.tok" ]] || die "approve wrote a token for a blocked result"
expect "approve refuses a blocked result: exit" "$code" 6
"$gaitc" keygen --out "$work/carol" >/dev/null 2>&1
"$gaitrun" eval --bundle "$bundle" --trust "$work/release.pub" --intent "$B" >"$work/rskill.json" || true
code=0
"$gaitrun" approve --request "$work/rskill.json" --key "$work/carol.key" --approver carol -o "$work/never.tok" 2>"$work/refused.err" || code=$?
expect "approve refuses carol for an unverified skill (not on call): exit" "$code" 6
[[ ! -e "$work/never.tok" ]] || die "approve wrote a token for an approver not allowed"

# ---------------------------------------------------------------- 3. two approvers
# bob's private key was discarded: a copy of the policy declares a throwaway
# key for him (same rules), built into its own bundle.
"$gaitc" keygen --out "$work/bob" >/dev/null 2>&1
bob_pub=$(tr -d '\n' <"$work/bob.pub")
sed "s|gpYBo2M7hMAOfGBKIwLYJE59+xCjTl+x3R5S070OAdE=|$bob_pub|" "$ex/policy.gaitpol" >"$work/two.gaitpol"
grep -q "$bob_pub" "$work/two.gaitpol" || die "the policy copy does not declare bob's throwaway key"
ln -s "$root/$ex/intents" "$work/intents" # its tests' `intent file`s, relative to the policy
bundle=$work/two.gaitb
"$gaitc" build "$work/two.gaitpol" -o "$bundle" --key "$work/release.key" >/dev/null 2>"$work/build.err" ||
  die "gaitc build (the copy): $(cat "$work/build.err")"
DEPLOY=$ex/intents/deploy.json
expect "deploy: exit" "$(eval_to "$work/rd.json" "$DEPLOY")" 4
expect "deploy: approvals_required" "$(field "$work/rd.json" 'r["approval_request"]["approvals_required"]')" 2
approve "$work/rd.json" "$DEPLOY" "$ex/alice.key" alice "$work/d-alice1.tok"
approve "$work/rd.json" "$DEPLOY" "$ex/alice.key" alice "$work/d-alice2.tok"
approve "$work/rd.json" "$DEPLOY" "$work/bob.key" bob "$work/d-bob.tok"
store2=$work/two.db
expect "deploy + alice: exit" "$(eval_to "$work/d1.json" "$DEPLOY" --approval-token "$work/d-alice1.tok" --approval-store "$store2")" 4
expect "deploy + alice: decision code" "$(field "$work/d1.json" 'r["approval"]["code"]')" approval_insufficient
expect "deploy + alice twice: exit" "$(eval_to "$work/d2.json" "$DEPLOY" --approval-token "$work/d-alice1.tok" --approval-token "$work/d-alice2.tok" --approval-store "$store2")" 4
expect "deploy + alice twice: decision code" "$(field "$work/d2.json" 'r["approval"]["code"]')" approval_distinct_approvers_required
expect "deploy + alice twice: token codes" "$(field "$work/d2.json" '[t["code"] for t in r["approval"]["tokens"]]')" \
  '["approval_token_valid", "approval_token_duplicate_approver"]'
expect "deploy + alice + bob: exit" "$(eval_to "$work/d3.json" "$DEPLOY" --approval-token "$work/d-alice1.tok" --approval-token "$work/d-bob.tok" --approval-store "$store2")" 0
expect "deploy + alice + bob: approvers" "$(field "$work/d3.json" 'r["approval"]["approvers"]')" '["alice", "bob"]'
expect "deploy + alice + bob: reasons" "$(field "$work/d3.json" 'r["reason_codes"]')" '["approval_granted", "deploy_needs_two_approvers"]'
bundle=$work/p.gaitb

# ---------------------------------------------------------------- 4. replay across processes
# Both processes are started before either is waited for; the SQLite store
# file is shared (and created by whichever comes first).
race_store=$work/race.db
rounds=5
for round in $(seq 1 "$rounds"); do
  approve "$work/ra.json" "$A" "$ex/alice.key" alice "$work/race.tok"
  codes=()
  pids=()
  for p in 1 2; do
    "$gaitrun" eval --bundle "$bundle" --trust "$work/release.pub" --intent "$A" --decision-timeout-ms 60000 \
      --approval-token "$work/race.tok" --approval-store "$race_store" >"$work/race$p.json" 2>"$work/race$p.err" &
    pids+=($!)
  done
  for p in 0 1; do
    code=0
    wait "${pids[$p]}" || code=$?
    codes+=("$code")
  done
  sorted=$(printf '%s\n' "${codes[@]}" | sort -n | tr '\n' ' ')
  [[ "$sorted" == "0 4 " ]] || die "round $round: two processes, one token: exits ${codes[*]}, want one 0 and one 4 ($(cat "$work"/race*.err))"
  loser=1
  [[ ${codes[0]} -eq 4 ]] || loser=2
  expect "race $round/$rounds: exits ${codes[*]}; the other's token" "$(field "$work/race$loser.json" 'r["approval"]["tokens"][0]["code"]')" approval_token_replayed
done

# ---------------------------------------------------------------- 5. an unverified skill's call
# The agent's tool runner: decides the intent and runs its command only on allow.
run_gated() { # run_gated INTENT [eval args...]; the command's output, or "not run: exit N"
  local intent=$1 code
  shift
  code=$(eval_to "$work/gated.json" "$intent" "$@")
  if [[ $code -ne 0 ]]; then
    echo "not run: exit $code"
    return 0
  fi
  bash -c "$(field "$intent" 'r["args"]["command"]')"
}

# A stub of the search API the skill calls (SEARCH_API_URL), on a free loopback port.
python3 - "$work/stub.port" <<'PY' >"$work/stub.log" 2>&1 &
import http.server, json, os, sys, urllib.parse

class Search(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        q = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
        body = json.dumps({"results": [
            {"title": f"stub result for {q['q'][0]}", "url": "https://docs.example/approvals", "snippet": "approved"},
        ]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass

server = http.server.HTTPServer(("127.0.0.1", 0), Search)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(server.server_port))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
server.serve_forever()
PY
stub_pid=$!
for _ in $(seq 1 300); do [[ -s "$work/stub.port" ]] && break; sleep 0.1; done
[[ -s "$work/stub.port" ]] || die "the stub search API did not start: $(cat "$work/stub.log")"
export SEARCH_API_URL="http://127.0.0.1:$(cat "$work/stub.port")/v1/search"

SKILL=$ex/intents/unverified_skill_search.json
out=$(run_gated "$SKILL")
expect "skill call without approval" "$out" "not run: exit 4"
cp "$work/gated.json" "$work/rs.json"
expect "skill call: the rule" "$(field "$work/rs.json" '[r["matched_rules"], r["reason_codes"]]')" '[["unverified_skill"], ["skill_unverified"]]'
expect "skill call: approval_request.skill_provenance" \
  "$(field "$work/rs.json" '[r["approval_request"]["skill_provenance"][k] for k in ("skill_name", "skill_version", "publisher", "source", "digest")]')" \
  '["web-search", "1.2.0", "acme", "registry", null]'
expect "skill call: only the on-call approvers" "$(field "$work/rs.json" 'r["approval_request"]["approvers"]')" '["alice", "bob"]'
"$gaitrun" approve --request "$work/rs.json" --key "$ex/alice.key" --approver alice -o "$work/s.tok" 2>"$work/approve.err" ||
  die "approve the skill call: $(cat "$work/approve.err")"
# The approver is shown which skill asked.
grep -q '"skill_name":"web-search"' "$work/approve.err" || die "approve's summary does not name the skill: $(cat "$work/approve.err")"
ok "approve's summary names the skill: $(grep -o '"skill_name":"web-search","skill_version":"1.2.0"' "$work/approve.err")"
out=$(run_gated "$SKILL" --approval-token "$work/s.tok" --approval-store "$store")
expect "skill call with alice's approval: verdict" "$(field "$work/gated.json" '[r["verdict"], r["reason_codes"]]')" '["allow", ["approval_granted", "skill_unverified"]]'
expect "skill call with alice's approval: it ran" "$(python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["title"])' <<<"$out")" \
  "stub result for gait approval tokens"
out=$(run_gated "$SKILL" --approval-token "$work/s.tok" --approval-store "$store")
expect "skill call again with the same token" "$out" "not run: exit 4"
expect "skill call again: token code" "$(field "$work/gated.json" 'r["approval"]["tokens"][0]["code"]')" approval_token_replayed

echo "approval path: $checks checks passed"
