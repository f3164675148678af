#!/usr/bin/env bash
# `writ debug` end to end: scripted sessions through a pipe (the transcript a
# script gets) and a terminal session in tmux (what a person sees), on the
# project `writ init` makes and on a contract file.
# usage: debugger_cli_test.sh WRIT_BINARY SOURCE_DIR
set -u
WRIT="$1"
SRC="$2"
source "$(dirname "$0")/lib.sh"

cd "$TMP"
"$WRIT" init demo >/dev/null
cd demo

# debug_script NAME WANT_EXIT PATTERN COMMANDS -- writ-debug-args...
debug_script() {
  local name="$1" want="$2" pattern="$3" cmds="$4"
  shift 5
  expect "$name" "$want" "$pattern" -- bash -c 'printf "$0" | "$@"' "$cmds" "$WRIT" debug "$@"
}

debug_script debug-starts 0 "^recorded [0-9]+ steps in 4 contract calls; the call returned, [0-9,]+ gas used$" 'quit\n' -- \
  --test test_increment_counts_up
debug_script debug-first-line 0 "^CounterTest.test_increment_counts_up at .*/test/counter_test.writ:[0-9]+  \[step 1 of [0-9]+, gas left [0-9,]+\]$" 'quit\n' -- \
  --test CounterTest.test_increment_counts_up
debug_script debug-step-into-callee 0 "^Counter.increment at .*/src/counter.writ:[0-9]+  \[step" 'step\nstep\nquit\n' -- \
  --test test_increment_counts_up
debug_script debug-stack-across-contracts 0 "#1  CounterTest.test_increment_counts_up at .*counter_test.writ:12" 'step\nstep\nstack\nquit\n' -- \
  --test test_increment_counts_up
# Storage by name at the step before and after the write, reached stepping back.
debug_script debug-storage-after-write 0 "  count: u64 = 1" 'step\nstep\nnext\nnext\nstorage\nquit\n' -- \
  --test test_increment_counts_up
debug_script debug-storage-stepped-back 0 "^  count: u64 = 0$" 'step\nstep\nnext\nnext\nback\nstorage\nquit\n' -- \
  --test test_increment_counts_up
debug_script debug-breakpoint-continue 0 "^breakpoint 1$" 'break counter.writ:13\ncontinue\nquit\n' -- \
  --test test_increment_counts_up
# FILE names a whole file: test.writ is not counter_test.writ.
debug_script debug-breakpoint-whole-file-name 0 "^end of the trace" 'break test.writ:12\ncontinue\nquit\n' -- \
  --test test_increment_counts_up
debug_script debug-breakpoint-path-suffix 0 "^breakpoint 1$" 'break test/counter_test.writ:12\ncontinue\nquit\n' -- \
  --test test_increment_counts_up
debug_script debug-reverse-continue 0 "step 15 of" 'break counter.writ:11\ncontinue\ncontinue\nrc\nquit\n' -- \
  --test test_increment_counts_up
debug_script debug-events 0 "^  Incremented\(by: 0x[0-9a-f]+, value: 2\) from Counter$" 'events\nquit\n' -- \
  --test test_increment_counts_up
debug_script debug-gas-lines 0 "^ +6,400  .*/src/counter.writ:11  count \+= 1;$" 'gas-lines\nquit\n' -- \
  --test test_increment_counts_up
debug_script debug-history 0 "^   2  next$" 'step\nnext\nhistory\nquit\n' -- --test test_increment_counts_up
debug_script debug-end 0 "^end of the trace: the call returned" 'continue\nquit\n' -- --test test_increment_counts_up
debug_script debug-start 0 "^start of the trace$" 'back\nquit\n' -- --test test_increment_counts_up

# A contract file: locals by name and type, map entries by key, a conditional breakpoint.
TOKEN="$SRC/tests/fixtures/token.writ"
debug_script debug-file-locals 0 "^  amount: u256 = 5$" 'locals\nquit\n' -- \
  "$TOKEN" --call transfer --arg 0xb0b --arg 5 --init-arg 1000
debug_script debug-file-map-entries 0 "^    \[0xca11e2\] = 995$" 'continue\nstorage\nquit\n' -- \
  "$TOKEN" --call transfer --arg 0xb0b --arg 5 --init-arg 1000
debug_script debug-file-local-later 0 "^have: u256 = 1000$" 'next\nnext\nprint have\nquit\n' -- \
  "$TOKEN" --call transfer --arg 0xb0b --arg 5 --init-arg 1000
debug_script debug-condition-false 0 "^end of the trace" 'break 12 if amount > 7\ncontinue\nquit\n' -- \
  "$TOKEN" --call transfer --arg 0xb0b --arg 5 --init-arg 1000
debug_script debug-condition-true 0 "^breakpoint 1$" 'break 12 if amount < 7\ncontinue\nquit\n' -- \
  "$TOKEN" --call transfer --arg 0xb0b --arg 5 --init-arg 1000
# A struct local by field (nested, an enum field by variant), an enum by variant.
cat > "$TMP/structs.writ" <<'WRIT'
enum Phase { Open, Closed }
struct Q { a: u64, b: u256 }
struct P { x: u64, flag: bool, y: u256, q: Q, ph: Phase }
contract S {
  pub fn f(n: u64) -> u64 {
    let p = P { x: n, flag: true, y: 77, q: Q { a: 1, b: 2 }, ph: Phase::Closed };
    let ph = Phase::Open;
    return p.x + 1;
  }
}
WRIT
debug_script debug-struct-local 0 "^  p: P = \{x: 5, flag: true, y: 77, q: \{a: 1, b: 2\}, ph: Phase::Closed\}$" \
  'next\nnext\nlocals\nquit\n' -- "$TMP/structs.writ" --call f --arg 5
debug_script debug-enum-local 0 "^ph: Phase = Phase::Open$" 'next\nnext\nnext\nprint ph\nquit\n' -- \
  "$TMP/structs.writ" --call f --arg 5
# Storage of every shape by name: structs by field (an enum by variant), a
# nested map, a storage vector, an iter_map; as the call left it and before.
VIEWS="$SRC/tests/fixtures/views.writ"
debug_script debug-views-struct-field 0 "^      phase = Open$" 'continue\nstorage\nquit\n' -- \
  "$VIEWS" --call open --arg 7
debug_script debug-views-struct-before 0 "^      phase = None$" 'storage\nquit\n' -- \
  "$VIEWS" --call open --arg 7
debug_script debug-views-nested-map 0 "^    \[0xca11e2\]: map<address, u256>$" 'continue\nstorage\nquit\n' -- \
  "$VIEWS" --call open --arg 7
debug_script debug-views-nested-entry 0 "^      \[0xb0b\] = 7$" 'continue\nstorage\nquit\n' -- \
  "$VIEWS" --call open --arg 7
debug_script debug-views-vec 0 "^  queue: vec<u64> \(length 1\)$" 'continue\nstorage\nquit\n' -- \
  "$VIEWS" --call open --arg 7
debug_script debug-views-iter-map 0 "^  members: iter_map<address, u64> \(1 key\)$" 'continue\nstorage\nquit\n' -- \
  "$VIEWS" --call open --arg 7
# Buffers among the locals, as each step saw them (a vector growing, then
# stepped back to its shorter self; a string).
debug_script debug-buffer-local 0 "^  doubled: vec<u64> = \[2, 4, 6\]$" 'continue\nlocals\nquit\n' -- \
  "$VIEWS" --call total --arg '[1,2,3]'
debug_script debug-buffer-string 0 '^  note: string = "summed"$' 'continue\nlocals\nquit\n' -- \
  "$VIEWS" --call total --arg '[1,2,3]'
debug_script debug-buffer-later 0 "^doubled: vec<u64> = \[2, 4\]$" 'break 28\ncontinue\ncontinue\np doubled\nquit\n' -- \
  "$VIEWS" --call total --arg '[1,2,3]'
debug_script debug-buffer-stepped-back 0 "^doubled: vec<u64> = \[2\]$" 'break 28\ncontinue\ncontinue\nrc\np doubled\nquit\n' -- \
  "$VIEWS" --call total --arg '[1,2,3]'
debug_script debug-failed-call 0 "the call failed: Revert Insufficient\(have: 1000, want: 5000\)" 'quit\n' -- \
  "$TOKEN" --call transfer --arg 0xb0b --arg 5000 --init-arg 1000
debug_script debug-unknown-command 0 "unknown command 'frobnicate' \(help lists them\)" 'frobnicate\nquit\n' -- \
  --test test_increment_counts_up
debug_script debug-bad-condition 0 "a condition is: if NAME OP VALUE" 'break 12 if amount\nquit\n' -- \
  "$TOKEN" --call transfer --arg 0xb0b --arg 5 --init-arg 1000
debug_script debug-eof-ends 0 "^\(writ debug\) $" '' -- --test test_increment_counts_up

# Bad input.
expect debug-no-such-test 2 "no test test_nothing \(tests: CounterTest.test_increment_counts_up" -- \
  "$WRIT" debug --test test_nothing
expect debug-no-such-function 2 "has no public function 'nope'" -- "$WRIT" debug "$TOKEN" --call nope
expect debug-usage 2 "usage: writ debug" -- "$WRIT" debug
expect debug-compile-error 3 "error: " -- bash -c "printf 'contract X { pub fn f() -> u64 { return true; } }' > x.writ; \"$WRIT\" debug x.writ --call f"

# A committed transaction replayed from a data directory: a chain made by the
# chain verbs on the data directory directly (no node), the token built from
# a copy of its source so the copy can then be changed.
cp "$TOKEN" "$TMP/token.writ"
"$WRIT" build "$TMP/token.writ" -o "$TMP/tokbuild" >/dev/null
"$WRIT" node --data "$TMP/chain" --init --rpc 127.0.0.1:0 --exit-after-seconds 1 --quiet >/dev/null 2>&1
"$WRIT" keygen -o "$TMP/alice.key" >/dev/null
ALICE="$(sed -n 's/.*"address": "\(0x[0-9a-f]*\)".*/\1/p' "$TMP/alice.key")"
# Addresses print without leading zeros (0x0abc... as 0xabc...).
ALICE_SHOWN="0x$(sed 's/^0x0*//' <<<"$ALICE")"
"$WRIT" send --data "$TMP/chain" --dev-key alice --to "$ALICE" --value 100000000000 >/dev/null
TOKEN_AT="$("$WRIT" deploy --data "$TMP/chain" --key "$TMP/alice.key" "$TMP/token.writ" --init-arg 1000 | sed -n 's/^contract: //p')"
TX="$("$WRIT" call --data "$TMP/chain" --key "$TMP/alice.key" --to "$TOKEN_AT" --source "$TMP/token.writ" \
      --call transfer --arg 0xb0b --arg 7 | sed -n 's/^tx: //p')"
check tx-made test -n "$TX" -a -n "$TOKEN_AT"
debug_script debug-tx-replayed 0 "^transaction ${TX#0x}: block [0-9]+, position 0; replayed from the genesis of " 'quit\n' -- \
  --tx "$TX" --data "$TMP/chain" --build "$TMP/tokbuild"
debug_script debug-tx-storage-before 0 "^    \[$ALICE_SHOWN\] = 1000$" 'storage\nquit\n' -- \
  --tx "$TX" --data "$TMP/chain" --build "$TMP/tokbuild"
debug_script debug-tx-storage-after 0 "^    \[$ALICE_SHOWN\] = 993$" 'next\nnext\nnext\nnext\nstorage\nquit\n' -- \
  --tx "$TX" --data "$TMP/chain" --build "$TMP/tokbuild"
debug_script debug-tx-stepped-back 0 "^    \[$ALICE_SHOWN\] = 1000$" 'next\nnext\nnext\nnext\nback\nstorage\nquit\n' -- \
  --tx "$TX" --data "$TMP/chain" --build "$TMP/tokbuild"
debug_script debug-tx-locals 0 "^  amount: u256 = 7$" 'locals\nquit\n' -- \
  --tx "$TX" --data "$TMP/chain" --build "$TMP/tokbuild"
debug_script debug-tx-events 0 "^  Transfer\(from: 0x[0-9a-f]+, to: 0xb0b, amount: 7\) from Token$" 'events\nquit\n' -- \
  --tx "$TX" --data "$TMP/chain" --build "$TMP/tokbuild"
echo "// changed" >> "$TMP/token.writ"
debug_script debug-tx-source-changed 0 "^note: .*token.writ changed since Token was compiled \(its source hash differs\)" 'quit\n' -- \
  --tx "$TX" --data "$TMP/chain" --build "$TMP/tokbuild"
expect debug-tx-unknown 2 "no transaction [0-9a-f]{64} in the chain of .* \(head: block [0-9]+\)" -- \
  "$WRIT" debug --tx 0x$(printf '%064d' 7) --data "$TMP/chain"
expect debug-tx-bad-hash 2 "is not a transaction hash" -- "$WRIT" debug --tx 0x12 --data "$TMP/chain"
expect debug-tx-no-chain 3 "no chain in" -- "$WRIT" debug --tx "$TX" --data "$TMP/nothing-here"
expect debug-tx-needs-data 2 "--tx HASH goes with one of --data DIR and --rpc HOST:PORT" -- "$WRIT" debug --tx "$TX"

# The same transaction replayed through a running node's JSON-RPC (its
# genesis and raw blocks), stepping back to the storage before the write.
start_node rpc-node --data "$TMP/chain"
debug_script debug-rpc-replayed 0 "^transaction ${TX#0x}: block [0-9]+, position 0; replayed from the genesis of the node at $RPC$" 'quit\n' -- \
  --tx "$TX" --rpc "$RPC" --build "$TMP/tokbuild"
debug_script debug-rpc-storage-after 0 "^    \[$ALICE_SHOWN\] = 993$" 'next\nnext\nnext\nnext\nstorage\nquit\n' -- \
  --tx "$TX" --rpc "$RPC" --build "$TMP/tokbuild"
debug_script debug-rpc-stepped-back 0 "^    \[$ALICE_SHOWN\] = 1000$" 'next\nnext\nnext\nnext\nback\nstorage\nquit\n' -- \
  --tx "$TX" --rpc "$RPC" --build "$TMP/tokbuild"
expect debug-rpc-unknown 2 "no transaction [0-9a-f]{64} in the chain of the node at" -- \
  "$WRIT" debug --tx 0x$(printf '%064d' 7) --rpc "$RPC"
expect debug-rpc-both 2 "goes with one of --data DIR and --rpc" -- \
  "$WRIT" debug --tx "$TX" --rpc "$RPC" --data "$TMP/chain"
kill -TERM "$NODE_PID" 2>/dev/null
wait "$NODE_PID" 2>/dev/null
expect debug-rpc-no-node 3 "the node at 127.0.0.1:1: writ_getReceipt: " -- \
  "$WRIT" debug --tx "$TX" --rpc 127.0.0.1:1

# A call that reverted leaves no write behind: its storage writes, and its
# callees', are rolled back from the step after it fails, in the views too.
cd "$TMP"
"$WRIT" init vault >/dev/null
cd vault
cat > src/vault.writ <<'WRIT'
error Refused(v: u64);
contract Vault {
  storage x: u64;
  init() { }
  pub fn put(v: u64) { x = v; }
  pub fn put_fail(v: u64) {
    x = v + 100;
    require(v == 0, Refused(v));
  }
}
WRIT
cat > test/vault_test.writ <<'WRIT'
import "test";
interface IVault {
  fn put(v: u64);
  fn put_fail(v: u64);
}
contract VaultTest {
  storage v: address;
  pub fn setup() { v = t().deploy("Vault", call_data("$init()")); }
  pub fn test_revert_then_put() {
    IVault(v).put(5);
    let ok = try IVault(v).put_fail(7);
    assert(!ok);
    IVault(v).put(3);
  }
  pub fn test_signed() {
    let acc: i64 = -1;
    for i in 0..4 {
      acc = acc - 2;
    }
    assert(acc == -9);
  }
  fn twice(a: u64) -> u64 { return helper(a) * 2; }
  fn helper(b: u64) -> u64 { return b + 1; }
  pub fn test_internal() {
    let r = twice(3);
    assert(r == 8);
  }
  pub fn test_long() {
    let w: vec<u64> = [];
    for i in 0..600 { w.push(i); }
    assert(w.len() == 600);
  }
}
WRIT
debug_script debug-storage-inside-failing-call 0 "^  x: u64 = 107$" \
  'break vault.writ:8\ncontinue\nstorage\nquit\n' -- --test test_revert_then_put
debug_script debug-storage-after-a-revert 0 "^  x: u64 = 5$" \
  'break vault_test.writ:13\ncontinue\nstep\nstorage\nquit\n' -- --test test_revert_then_put
# A line that makes a call is stopped at once: `next` goes on to the next
# line, a line breakpoint does not fire again when the callee returns, nor a
# function breakpoint when a callee returns into the function; `step` still
# stops where the callee returns.
debug_script debug-next-over-a-call 0 "^VaultTest.test_revert_then_put at .*/test/vault_test.writ:11  \[step" \
  'break vault_test.writ:10\ncontinue\nnext\nquit\n' -- --test test_revert_then_put
debug_script debug-line-breakpoint-once 0 "^end of the trace" \
  'break vault_test.writ:10\ncontinue\ncontinue\nquit\n' -- --test test_revert_then_put
debug_script debug-function-breakpoint-on-entry-only 0 "^end of the trace" \
  'break test_revert_then_put\ncontinue\nquit\n' -- --test test_revert_then_put
debug_script debug-function-breakpoint-entry 0 "^Vault.put_fail at .*/src/vault.writ:6  \[step" \
  'break put_fail\ncontinue\nquit\n' -- --test test_revert_then_put
debug_script debug-back-next-to-line-start 0 "^VaultTest.test_revert_then_put at .*/test/vault_test.writ:10  \[step 1[0-9] of" \
  'break vault_test.writ:11\ncontinue\nrn\nquit\n' -- --test test_revert_then_put
debug_script debug-step-out-stops-at-return 0 "^VaultTest.test_revert_then_put at .*/test/vault_test.writ:10  \[step" \
  'break vault_test.writ:10\ncontinue\nstep\nout\nquit\n' -- --test test_revert_then_put
# A test name that two contracts have must be named with its contract.
cat > test/other_test.writ <<'WRIT'
contract OtherTest {
  pub fn test_signed() { let x: u64 = 1; assert(x == 1); }
}
WRIT
debug_script debug-test-name-ambiguous 2 "more than one test is called test_signed \(.*OtherTest.test_signed.*\): name its contract" \
  'quit\n' -- --test test_signed
debug_script debug-test-name-with-contract 0 "^OtherTest.test_signed at " 'quit\n' -- --test OtherTest.test_signed
# A buffer longer than a step keeps says so.
debug_script debug-long-buffer-marked 0 "^w: vec<u64> = \[0, 1, 2, .*, 511\] \.\.\. \(the first 4,096 of its 4,800 bytes were recorded\)$" \
  'break vault_test.writ:31\ncontinue\nprint w\nquit\n' -- --test test_long
# A condition on a signed local compares signed values, negative ones included.
debug_script debug-condition-signed-less 0 "^acc: i64 = -1$" \
  'break vault_test.writ:18 if acc < 0\ncontinue\nprint acc\nquit\n' -- --test VaultTest.test_signed
debug_script debug-condition-signed-equal 0 "^acc: i64 = -5$" \
  'break vault_test.writ:18 if acc == -5\ncontinue\nprint acc\nquit\n' -- --test VaultTest.test_signed
debug_script debug-condition-signed-echo 0 "^breakpoint 1: vault_test.writ:18 if acc == -5$" \
  'break vault_test.writ:18 if acc == -5\nquit\n' -- --test VaultTest.test_signed
debug_script debug-condition-signed-greater 0 "^end of the trace" \
  'break vault_test.writ:18 if acc > -1\ncontinue\nquit\n' -- --test VaultTest.test_signed
# Every frame of the stack has its line, callers within one contract too.
debug_script debug-stack-internal-caller 0 "^#1  VaultTest.twice at .*/test/vault_test.writ:22$" \
  'break helper\ncontinue\nstack\nquit\n' -- --test test_internal
debug_script debug-stack-internal-outer 0 "^#2  VaultTest.test_internal at .*/test/vault_test.writ:25$" \
  'break helper\ncontinue\nstack\nquit\n' -- --test test_internal
cd "$TMP/demo"

# The terminal: tmux on a socket of its own, the debugger as a person runs it.
T="tmux -L writ-debug-test-$$ -f /dev/null"
screen() { $T capture-pane -p -t dbg | grep -v '^ *$' | tail -3; }  # the last lines shown
wait_for() {  # wait_for PATTERN: up to 60 s (sanitizer builds are slow) for the screen to show it
  for _ in $(seq 600); do
    screen | grep -Eq -- "$1" && return 0
    $T has-session -t dbg 2>/dev/null || { echo "the tmux session has ended"; return 1; }
    sleep 0.1
  done
  return 1
}
$T new-session -d -s dbg -x 160 -y 40 "cd '$TMP/demo' && '$WRIT' debug --test test_increment_counts_up; echo DEBUGGER-EXITED; sleep 30"
check tmux-prompt wait_for '^\(writ debug\)'
$T send-keys -t dbg 'step' Enter
$T send-keys -t dbg 'step' Enter
check tmux-step-into wait_for '^Counter.increment at .*/src/counter.writ:10'
$T send-keys -t dbg 'back' Enter
check tmux-back wait_for 'step 8 of'
$T send-keys -t dbg '' Enter   # an empty line repeats the last command
check tmux-repeat wait_for 'step 1 of'
$T send-keys -t dbg Up Up Enter   # the history: back, then step
check tmux-history-up wait_for 'step 8 of'
$T send-keys -t dbg 'sXtep' Left Left Left BSpace Enter   # edited to "step"
check tmux-line-editing wait_for '^Counter.increment at .*/src/counter.writ:10'
$T send-keys -t dbg 'quit' Enter
check tmux-quit wait_for '^DEBUGGER-EXITED$'
$T kill-server 2>/dev/null
# Typed ahead, before the first prompt (while the test is compiled and run):
# both commands are read, none is lost to the terminal's mode switches.
# A server of its own: the one just killed may still be going away, and a
# client that reaches it sees "server exited unexpectedly".
T="tmux -L writ-debug-test-$$-ahead -f /dev/null"
$T new-session -d -s dbg -x 160 -y 40 "cd '$TMP/demo' && '$WRIT' debug --test test_increment_counts_up; echo DEBUGGER-EXITED; sleep 30"
$T send-keys -t dbg 'step' Enter 'step' Enter
check tmux-typed-ahead wait_for '^Counter.increment at .*/src/counter.writ:10'
$T send-keys -t dbg 'quit' Enter
check tmux-typed-ahead-quit wait_for '^DEBUGGER-EXITED$'
$T kill-server 2>/dev/null
finish
