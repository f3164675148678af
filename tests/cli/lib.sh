# The shared part of the end-to-end CLI tests (sourced by tests/cli/*.sh):
# a temporary directory removed at exit, a node started in the background
# (NODE_PID) killed at exit if it is still running, pass/fail counters and
# the helpers below. Each test prints "ok   NAME" or "FAIL NAME: why" with
# the output indented; `finish` prints the totals and sets the exit status.
TMP="$(mktemp -d)"
NODE_PID=""
cleanup() {
  if [[ -n "$NODE_PID" ]] && kill -0 "$NODE_PID" 2>/dev/null; then
    kill -TERM "$NODE_PID" 2>/dev/null
    sleep 0.5
    kill -KILL "$NODE_PID" 2>/dev/null
    wait "$NODE_PID" 2>/dev/null
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT
pass=0
fail=0
LAST=""

ok()  { echo "ok   $1"; pass=$((pass + 1)); }
bad() { echo "FAIL $1: $2"; [[ -n "${3:-}" ]] && echo "$3" | sed 's/^/  | /'; fail=$((fail + 1)); }

# expect NAME WANT_EXIT PATTERN -- command...   (output kept in $LAST; at most 60 s)
expect() {
  local name="$1" want="$2" pattern="$3"
  shift 4
  local rc
  LAST="$(timeout 60 "$@" 2>&1)"
  rc=$?
  if [[ "$rc" != "$want" ]]; then bad "$name" "exit $rc, wanted $want" "$LAST"; return; fi
  if [[ -n "$pattern" ]] && ! grep -Eq -- "$pattern" <<<"$LAST"; then
    bad "$name" "output does not match /$pattern/" "$LAST"; return
  fi
  ok "$name"
}

# check NAME CONDITION-COMMAND...
check() {
  local name="$1"
  shift
  if "$@"; then ok "$name"; else bad "$name" "the condition does not hold"; fi
}

finish() {
  echo "$pass passed, $fail failed"
  [[ $fail -eq 0 ]]
}

# start_node NAME ARGS...: `writ node` (WRIT) in the background on an ephemeral
# loopback port, its output in $TMP/NAME.log; sets NODE_PID and RPC, and
# checks NAME-listening.
start_node() {
  local name="$1"
  shift
  "$WRIT" node --rpc 127.0.0.1:0 --exit-after-seconds 50 "$@" > "$TMP/$name.log" 2>&1 &
  NODE_PID=$!
  RPC=""
  for _ in $(seq 100); do
    RPC="$(sed -n 's/^listening on \(127\.0\.0\.1:[0-9][0-9]*\)$/\1/p' "$TMP/$name.log")"
    [[ -n "$RPC" ]] && break
    kill -0 "$NODE_PID" 2>/dev/null || break
    sleep 0.1
  done
  if [[ -n "$RPC" ]]; then ok "$name-listening"; else bad "$name-listening" "no 'listening on' line" "$(cat "$TMP/$name.log")"; fi
}
