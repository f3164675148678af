#!/usr/bin/env bash
# End-to-end tests of the dev node and the chain verbs: keygen, a node on an
# ephemeral loopback port, deploy, transfer, calls, receipts, proofs, a restart
# on the same data directory, --data mode without a node, and exit codes.
# usage: chain_cli_test.sh WRIT_BINARY TOKEN_SOURCE
# Every node started here stops by itself (--exit-after-seconds) and is killed
# by the EXIT trap if still running.
set -u
WRIT="$1"
TOKEN="$2"  # tests/fixtures/token.writ
SRC_DIR="$(cd "$(dirname "$TOKEN")/../.." && pwd)"
source "$(dirname "$0")/lib.sh"

# stop_node NAME: SIGTERM, then the node must exit 0 having said where it stopped.
stop_node() {
  local name="$1" rc
  kill -TERM "$NODE_PID"
  wait "$NODE_PID"
  rc=$?
  NODE_PID=""
  if [[ "$rc" == 0 ]] && grep -q "^stopped at height" "$TMP/$name.log"; then ok "$name-clean-stop"
  else bad "$name-clean-stop" "exit $rc" "$(cat "$TMP/$name.log")"; fi
}

field() { sed -n "s/^$1: //p" <<<"$LAST" | head -1; }
json_field() { sed -n "s/^ *\"$1\": \"\{0,1\}\([^\",]*\)\"\{0,1\},\{0,1\}$/\1/p" <<<"$LAST" | head -1; }

cp "$TOKEN" "$TMP/token.writ"

# ---- keys and genesis ------------------------------------------------------------
expect keygen 0 "^0x[0-9a-f]{64}$" -- "$WRIT" keygen -o "$TMP/alice.key"
ALICE="$LAST"
if [[ "$(stat -c %a "$TMP/alice.key")" == 600 ]]; then ok keygen-mode-0600; else bad keygen-mode-0600 "mode $(stat -c %a "$TMP/alice.key")"; fi
expect keygen-file-has-address 0 "\"address\": \"$ALICE\"" -- cat "$TMP/alice.key"
expect keygen-no-overwrite 3 "use --force" -- "$WRIT" keygen -o "$TMP/alice.key"
expect keygen-stdout 0 '"seed": "0x[0-9a-f]{64}"' -- "$WRIT" keygen
expect keygen-bob 0 "^0x[0-9a-f]{64}$" -- "$WRIT" keygen -o "$TMP/bob.key"
cat > "$TMP/genesis.json" <<EOF
{"chain_id": 7, "timestamp": 1700000000,
 "accounts": [{"address": "$ALICE", "balance": "1000000000000"}]}
EOF

# ---- usage errors ------------------------------------------------------------------
expect node-help 0 "usage: writ node --data DIR" -- "$WRIT" node --help
expect help-deploy 0 "usage: writ deploy \(--key KEYFILE \| --dev-key NAME\)" -- "$WRIT" help deploy
expect node-needs-data 2 "usage: writ node" -- "$WRIT" node
expect node-refuses-wildcard 2 "not a loopback address" -- "$WRIT" node --data "$TMP/x" --rpc 0.0.0.0:0
expect node-refuses-lan 2 "not a loopback address" -- "$WRIT" node --data "$TMP/x" --rpc 192.168.0.1:8545
expect node-bad-jit-mode 2 "give off, tiered or deploy" -- "$WRIT" node --data "$TMP/x" --jit fast --rpc 127.0.0.1:0
expect node-new-dir-needs-init 3 "no chain in .*--init" -- "$WRIT" node --data "$TMP/x" --rpc 127.0.0.1:0
expect node-genesis-does-not-create 3 "no chain in" -- "$WRIT" node --data "$TMP/x" --genesis "$TMP/genesis.json" --rpc 127.0.0.1:0
[[ ! -e "$TMP/x/chain" ]] && ok node-made-no-chain || bad node-made-no-chain "$TMP/x/chain exists"
# --init without --genesis creates the default development chain (writ genesis).
expect node-init-default-genesis 0 "chain 1337 created in .* at height 0" -- \
  "$WRIT" node --data "$TMP/devnode" --init --rpc 127.0.0.1:0 --exit-after-seconds 1 --quiet
expect node-init-default-oracle 0 "result 0 \(u64\): 3$" -- \
  "$WRIT" call --data "$TMP/devnode" --to 0x101 --source "$SRC_DIR/contracts/oracle/oracle.writ" --call feeds_count
# The feeder: signed reports from the dev reporters; the second closes the round.
printf '# a price source\nETH/USD 2000.5\n\nEUR/USD 1.08\n' > "$TMP/prices.txt"
expect feed-file 0 "event: Reported\(feed: 2, round: 1, reporter: 0x[0-9a-f]{64}, price: 1.08\)" -- \
  "$WRIT" feed --data "$TMP/devnode" --dev-key reporter1 --prices "$TMP/prices.txt"
expect feed-closes-round 0 "event: AnswerUpdated\(feed: 1, round: 1, answer: 2001.0, at: [0-9]+s\)" -- \
  "$WRIT" feed --data "$TMP/devnode" --dev-key reporter2 --price ETH/USD=2001.5
expect feed-price-read 0 "result 0 \(wad\): 2001.0$" -- \
  "$WRIT" call --data "$TMP/devnode" --to 0x101 --source "$SRC_DIR/contracts/oracle/oracle.writ" \
  --call price --arg 1 --arg 1h
expect feed-not-reporter 1 "revert: NotReporter\(feed: 1, caller: 0x[0-9a-f]{64}\)" -- \
  "$WRIT" feed --data "$TMP/devnode" --dev-key alice --price ETH/USD=1
expect feed-twice 1 "revert: AlreadyReported\(feed: 2, round: 1, reporter: 0x[0-9a-f]{64}\)" -- \
  "$WRIT" feed --data "$TMP/devnode" --dev-key reporter1 --price EUR/USD=1.09
# A development key deploys and calls as it sends: the token's supply goes to
# bob, who transfers some; a key file and a dev key at once, or an unknown
# name, are usage errors.
expect deploy-dev-key 0 "^contract: 0x" -- \
  "$WRIT" deploy --data "$TMP/devnode" --dev-key bob "$SRC_DIR/tests/fixtures/token.writ" --init-arg 1000
DEV_TOKEN=$(sed -n 's/^contract: //p' <<<"$LAST")
expect call-dev-key 0 "^status: Ok" -- "$WRIT" call --data "$TMP/devnode" --dev-key bob --to "$DEV_TOKEN" \
  --source "$SRC_DIR/tests/fixtures/token.writ" --call transfer --arg 0xB0B --arg 40
expect call-dev-key-moved 0 "^result 0 \(u256\): 40$" -- "$WRIT" call --data "$TMP/devnode" --to "$DEV_TOKEN" \
  --source "$SRC_DIR/tests/fixtures/token.writ" --call balance_of --arg 0xB0B
expect call-dev-key-unknown 2 "--dev-key mallory: no such development key \(governance, " -- \
  "$WRIT" call --data "$TMP/devnode" --dev-key mallory --to "$DEV_TOKEN" \
  --source "$SRC_DIR/tests/fixtures/token.writ" --call transfer --arg 0xB0B --arg 1
expect deploy-key-and-dev-key 2 "give one of --key KEYFILE or --dev-key NAME" -- \
  "$WRIT" deploy --data "$TMP/devnode" --dev-key bob --key "$TMP/none.key" "$SRC_DIR/tests/fixtures/token.writ"
expect call-dev-key-and-from 2 "--from is for read-only calls" -- \
  "$WRIT" call --data "$TMP/devnode" --dev-key bob --from 0xB0B --to "$DEV_TOKEN" \
  --source "$SRC_DIR/tests/fixtures/token.writ" --call transfer --arg 0xB0B --arg 1
expect feed-bad-price 2 "--price ETH/USD=-3: price '-3': expected a decimal number" -- \
  "$WRIT" feed --data "$TMP/devnode" --dev-key reporter1 --price ETH/USD=-3
printf 'ETH/USD 2000\nDOGE/USD 0.1\n' > "$TMP/bad-prices.txt"
expect feed-bad-file 3 "bad-prices.txt: line 2: unknown feed 'DOGE/USD'" -- \
  "$WRIT" feed --data "$TMP/devnode" --dev-key reporter1 --prices "$TMP/bad-prices.txt"
# On the default chain every payment is scored before it settles.
expect pay-scored 0 "risk: score [0-9]+, reasons \[[0-9, ]*\], model 1: settled" -- \
  "$WRIT" send --data "$TMP/devnode" --dev-key alice --to 0xB0B --value 5
pay_tx="$("$WRIT" send --data "$TMP/devnode" --dev-key carol --to 0xB0B --value 2 | sed -n 's/^tx: //p')"
expect pay-receipt-json 0 '"decision": "settled"' -- "$WRIT" receipt --data "$TMP/devnode" --json "$pay_tx"
expect pay-receipt-text 0 "risk: score [0-9]+, reasons \[[0-9, ]*\], model 1: settled" -- \
  "$WRIT" receipt --data "$TMP/devnode" "$pay_tx"
expect feed-unknown-dev-key 2 "no such development key" -- \
  "$WRIT" feed --data "$TMP/devnode" --dev-key mallory --price ETH/USD=1
expect client-refuses-remote 2 "not a loopback address" -- "$WRIT" balance 0xB0B --rpc 10.0.0.1:8545
expect deploy-needs-key 2 "usage: writ deploy" -- "$WRIT" deploy "$TMP/token.writ" --rpc 127.0.0.1:1
expect send-bad-address 2 "is not an address" -- "$WRIT" send --key "$TMP/alice.key" --to nope --rpc 127.0.0.1:1
expect unknown-option 2 "unknown option --frob" -- "$WRIT" balance 0xB0B --frob
expect no-node 3 "cannot connect to 127.0.0.1:1" -- "$WRIT" balance 0xB0B --rpc 127.0.0.1:1

# ---- a node ------------------------------------------------------------------------------
D="$TMP/chain"
start_node node1 --data "$D" --init --genesis "$TMP/genesis.json"
expect node1-created 0 "^chain 7 created in" -- head -1 "$TMP/node1.log"
# A validator's application takes its JSON-RPC address at start: one in use
# (here the node's) stops it there, rather than leaving it unreachable.
expect abci-rpc-port-in-use 3 "^writ abci: --rpc: cannot listen on $RPC: Address already in use$" -- \
  "$WRIT" abci --data "$TMP/abci" --addr tcp://127.0.0.1:0 --rpc "$RPC" --exit-after-seconds 5 --quiet
expect abci-cometbft-needs-rpc 2 "^writ abci: --cometbft goes with --rpc$" -- \
  "$WRIT" abci --data "$TMP/abci" --cometbft 127.0.0.1:1

expect deploy 0 "^status: Ok" -- "$WRIT" deploy --key "$TMP/alice.key" "$TMP/token.writ" --init-arg 1000 --rpc "$RPC"
TOKEN="$(field contract)"
[[ "$TOKEN" =~ ^0x[0-9a-f]{64}$ ]] && ok deploy-contract-address || bad deploy-contract-address "got '$TOKEN'" "$LAST"
# Event fields print as minimal hex (0xb0b), so a key address that begins
# with zero nibbles prints without them.
ALICE_MIN="$(sed 's/^0x0*/0x/' <<<"$ALICE")"
expect transfer 0 "event: Transfer\(from: $ALICE_MIN, to: 0xb0b, amount: 250\)" -- \
  "$WRIT" call --to "$TOKEN" --source "$TMP/token.writ" --call transfer --arg 0xB0B --arg 250 --key "$TMP/alice.key" --rpc "$RPC"
TRANSFER_TX="$(field tx)"
expect transfer-result 0 "result 0 \(bool\): true" -- echo "$LAST"
expect balance-of-bob 0 "^result 0 \(u256\): 250$" -- \
  "$WRIT" call --to "$TOKEN" --source "$TMP/token.writ" --call balance_of --arg 0xB0B --rpc "$RPC"
expect balance-of-alice 0 "^result 0 \(u256\): 750$" -- \
  "$WRIT" call --to "$TOKEN" --source "$TMP/token.writ" --call balance_of --arg "$ALICE" --rpc "$RPC"
expect transfer-revert 1 "revert: Insufficient\(have: 750, want: 5000\)" -- \
  "$WRIT" call --to "$TOKEN" --source "$TMP/token.writ" --call transfer --arg 0xB0B --arg 5000 --key "$TMP/alice.key" --rpc "$RPC"
expect readonly-revert 1 "revert: Insufficient\(have: 0, want: 1\)" -- \
  "$WRIT" call --to "$TOKEN" --source "$TMP/token.writ" --call transfer --arg 0xB0B --arg 1 --from 0xC0FFEE --rpc "$RPC"
# The revert's source line, from the debug info of the compiled source.
expect readonly-revert-source 0 "^  at .*token.writ:[0-9]+:[0-9]+: require\(" -- echo "$LAST"
expect call-unknown-fn 2 "has no public function 'mint'" -- \
  "$WRIT" call --to "$TOKEN" --source "$TMP/token.writ" --call mint --rpc "$RPC"
expect send 0 "^status: Ok" -- "$WRIT" send --key "$TMP/alice.key" --to 0xB0B --value 77 --rpc "$RPC"
expect balance 0 "^77$" -- "$WRIT" balance 0xB0B --rpc "$RPC"
expect send-rejected-no-funds 3 "insufficient balance" -- "$WRIT" send --key "$TMP/bob.key" --to 0xB0B --value 1 --rpc "$RPC"
# A key file other users can read (or only its group) is refused before anything is
# sent; the same seed at mode 0600 signs.
cp "$TMP/alice.key" "$TMP/open.key"
chmod 644 "$TMP/open.key"
expect send-key-open-to-others 3 "open.key: the key file is open to other users \(mode 0644\).*chmod 600" -- \
  "$WRIT" send --key "$TMP/open.key" --to 0xCA11 --value 1 --rpc "$RPC"
chmod 640 "$TMP/open.key"
expect deploy-key-open-to-group 3 "open to other users \(mode 0640\)" -- \
  "$WRIT" deploy --key "$TMP/open.key" "$TMP/token.writ" --init-arg 1 --rpc "$RPC"
expect balance-unchanged-by-refused-key 0 "^0$" -- "$WRIT" balance 0xCA11 --rpc "$RPC"
chmod 600 "$TMP/open.key"
expect send-key-owner-only 0 "^status: Ok" -- "$WRIT" send --key "$TMP/open.key" --to 0xCA11 --value 1 --rpc "$RPC"
expect balance-after-owner-only-key 0 "^1$" -- "$WRIT" balance 0xCA11 --rpc "$RPC"
expect send-raw-data-to-token 1 "status: InvalidInput" -- \
  "$WRIT" send --key "$TMP/alice.key" --to "$TOKEN" --data 0xdeadbeef --rpc "$RPC"
expect receipt 0 "\"status\": \"Ok\"" -- "$WRIT" receipt "$TRANSFER_TX" --json --rpc "$RPC"
expect receipt-has-log 0 "\"topics\"" -- echo "$LAST"
expect receipt-unknown 3 "no receipt for" -- "$WRIT" receipt "0x$(printf '%064d' 0)" --rpc "$RPC"
# Logs: the one Transfer to 0xB0B (the reverted one left none), by indexed topic.
expect logs-to-bob 0 "\"tx_hash\": \"$TRANSFER_TX\"" -- \
  "$WRIT" logs --from 0 --address "$TOKEN" --topic - --topic - --topic 0xB0B --json --rpc "$RPC"
expect logs-to-bob-once 0 "^1$" -- bash -c "grep -c '\"tx_hash\"' <<<'$LAST'"
expect logs-none-to-carol 0 "^\[\]$" -- "$WRIT" logs --from 0 --topic - --topic - --topic 0xCA401 --json --rpc "$RPC"
expect logs-none-to-carol-text 0 "^no logs$" -- "$WRIT" logs --from 0 --topic - --topic - --topic 0xCA401 --rpc "$RPC"
# Without --json a receipt and logs print decoded, by the ABIs given.
expect receipt-text 0 "^status: Ok$" -- "$WRIT" receipt "$TRANSFER_TX" --rpc "$RPC"
expect receipt-text-raw-log 0 "^log: $TOKEN " -- echo "$LAST"
"$WRIT" build "$TMP/token.writ" -o "$TMP/token-build" > /dev/null 2>&1
TOKEN_ABI="$(ls "$TMP"/token-build/*.abi.json | head -1)"
expect receipt-by-build 0 "^event: Transfer\(from: $ALICE_MIN, to: 0xb0b, amount: 250\)$" -- \
  "$WRIT" receipt "$TRANSFER_TX" --build "$TMP/token-build" --rpc "$RPC"
expect receipt-by-build-call 0 "^call: [A-Za-z]+\.transfer at " -- echo "$LAST"
expect receipt-by-build-result 0 "^result 0 \(bool\): true$" -- echo "$LAST"
expect logs-by-abi 0 "log 0: Transfer\(from: $ALICE_MIN, to: 0xb0b, amount: 250\) from [A-Za-z]+ at $TOKEN$" -- \
  "$WRIT" logs --from 0 --address "$TOKEN" --topic - --topic - --topic 0xB0B --abi "$TOKEN_ABI" --rpc "$RPC"
expect logs-bad-range 3 "from_block is after to_block" -- "$WRIT" logs --from 5 --to 1 --rpc "$RPC"
expect logs-bad-topic 2 "not a hash" -- "$WRIT" logs --topic zz --rpc "$RPC"
expect proof-account 0 "^verified: true" -- "$WRIT" proof "$ALICE" --rpc "$RPC"
ROOT1="$(json_field state_root)"
expect proof-map-entry 0 "\"value\": \"0x0{62}fa\"" -- "$WRIT" proof "$TOKEN" 0 --map-key 0xB0B --rpc "$RPC"
expect proof-map-entry-verified 0 "^verified: true" -- echo "$LAST"
expect proof-absent-slot 0 "\"present\": false" -- "$WRIT" proof "$TOKEN" 12345 --rpc "$RPC"
# Raw JSON-RPC over HTTP, as any client would send it (when curl is installed).
if command -v curl > /dev/null; then
  expect curl-chain-id 0 '"result":7' -- curl -s -X POST -H 'Content-Type: application/json' \
    -d '{"jsonrpc":"2.0","id":1,"method":"writ_chainId"}' "http://$RPC/"
  expect curl-bad-json 0 '"code":-32700' -- curl -s -X POST -d '{oops' "http://$RPC/"
fi
stop_node node1

# ---- restart on the same directory: same state ---------------------------------------------
start_node node2 --data "$D" --jit deploy
expect node2-resumed 0 "^chain 7 resumed from .* at height 6," -- head -1 "$TMP/node2.log"
expect restart-proof 0 "^verified: true" -- "$WRIT" proof "$ALICE" --rpc "$RPC"
ROOT2="$(json_field state_root)"
[[ -n "$ROOT1" && "$ROOT1" == "$ROOT2" ]] && ok restart-same-state-root || bad restart-same-state-root "'$ROOT1' vs '$ROOT2'"
expect restart-balance 0 "^77$" -- "$WRIT" balance 0xB0B --rpc "$RPC"
expect restart-token-balance 0 "^result 0 \(u256\): 250$" -- \
  "$WRIT" call --to "$TOKEN" --source "$TMP/token.writ" --call balance_of --arg 0xB0B --rpc "$RPC"
expect data-dir-locked 3 "cannot open database" -- "$WRIT" balance 0xB0B --data "$D"
# --jit deploy (where the JIT is built): the token, loaded by the calls above,
# is compiled in the background and its code kept under DIR/jit-cache.
if ! "$WRIT" node --help | grep -q "This build has no JIT"; then
  for _ in $(seq 100); do compgen -G "$D/jit-cache/*.o" > /dev/null && break; sleep 0.1; done
  if compgen -G "$D/jit-cache/*.o" > /dev/null; then ok node2-jit-cache-written
  else bad node2-jit-cache-written "no compiled code in $D/jit-cache" "$(cat "$TMP/node2.log")"; fi
  expect node2-compiled-token-balance 0 "^result 0 \(u256\): 250$" -- \
    "$WRIT" call --to "$TOKEN" --source "$TMP/token.writ" --call balance_of --arg 0xB0B --rpc "$RPC"
fi
stop_node node2

# ---- interval blocks, and a node that stops after N blocks -------------------------------------
start_node node3 --data "$D" --block-interval 100 --exit-after-blocks 2
expect interval-send 0 "^status: Ok" -- "$WRIT" send --key "$TMP/alice.key" --to 0xB0B --value 3 --rpc "$RPC"
expect interval-balance 0 "^80$" -- "$WRIT" balance 0xB0B --rpc "$RPC"
expect interval-second-send 0 "^status: submitted" -- "$WRIT" send --key "$TMP/alice.key" --to 0xB0B --value 1 --rpc "$RPC" --wait 0
for _ in $(seq 50); do kill -0 "$NODE_PID" 2>/dev/null || break; sleep 0.1; done
if kill -0 "$NODE_PID" 2>/dev/null; then bad node3-exits-after-blocks "still running"
else wait "$NODE_PID"; rc=$?; NODE_PID=""; [[ "$rc" == 0 ]] && ok node3-exits-after-blocks || bad node3-exits-after-blocks "exit $rc"; fi
expect node3-stopped-at-8 0 "^stopped at height 8" -- tail -1 "$TMP/node3.log"
expect node-init-refuses-existing 3 "already holds a chain" -- \
  "$WRIT" node --data "$D" --init --genesis "$TMP/genesis.json" --rpc 127.0.0.1:0


# ---- --data mode, no node ---------------------------------------------------------------------
expect data-balance 0 "^81$" -- "$WRIT" balance 0xB0B --data "$D"
expect data-send 0 "^status: Ok" -- "$WRIT" send --key "$TMP/alice.key" --to 0xB0B --value 19 --data "$D"
expect data-balance-after 0 "^100$" -- "$WRIT" balance 0xB0B --data "$D"
expect data-call-tx 0 "event: Transfer" -- \
  "$WRIT" call --to "$TOKEN" --source "$TMP/token.writ" --call transfer --arg 0xB0B --arg 50 --key "$TMP/alice.key" --data "$D"
expect data-call 0 "^result 0 \(u256\): 300$" -- \
  "$WRIT" call --to "$TOKEN" --source "$TMP/token.writ" --call balance_of --arg 0xB0B --data "$D"
expect data-proof 0 "^verified: true" -- "$WRIT" proof "$TOKEN" 0 --map-key 0xB0B --data "$D"
D2="$TMP/fresh"
expect data-deploy-new-chain 0 "^contract: 0x" -- \
  "$WRIT" deploy --key "$TMP/alice.key" "$TMP/token.writ" --init-arg 5 --data "$D2" --init --genesis "$TMP/genesis.json"
expect data-genesis-kept 0 '"chain_id": 7' -- cat "$D2/genesis.json"
cat > "$TMP/counter.writ" <<'EOF'
contract Counter {
  storage n: u64;
  pub fn inc() -> u64 { n += 1; return n; }
  pub view fn get() -> u64 { return n; }
}
EOF
"$WRIT" build "$TMP/counter.writ" -o "$TMP/build" > /dev/null 2>&1
expect data-deploy-wbc 0 "^contract: 0x" -- "$WRIT" deploy --key "$TMP/alice.key" "$TMP/build/Counter.wbc" --data "$D2"
COUNTER="$(field contract)"
expect data-counter-inc 0 "^result 0 \(u64\): 1$" -- \
  "$WRIT" call --to "$COUNTER" --source "$TMP/counter.writ" --call inc --key "$TMP/alice.key" --data "$D2"
expect data-counter-get 0 "^result 0 \(u64\): 1$" -- \
  "$WRIT" call --to "$COUNTER" --source "$TMP/counter.writ" --call get --data "$D2"
expect deploy-wbc-init-data-without-init 1 "status: InvalidInput" -- \
  "$WRIT" deploy --key "$TMP/alice.key" "$TMP/build/Counter.wbc" --init-data 0x00 --data "$D2"
expect deploy-wbc-no-abi 2 "module without an ABI" -- \
  "$WRIT" deploy --key "$TMP/alice.key" "$TMP/build/Counter.wbc" --init-arg 1 --data "$D2"

# ---- decoding by ABI: a failure through nested calls, events of several contracts -------------
# Outer -> Mid -> Inner, by address: Inner overflows, Mid and Outer pass the
# failure on. `writ call` and `writ receipt --build` print the chain of calls
# with each callee's error and source line; `writ logs --build` names the
# emitter and decodes a struct and an enum from the ABI file alone.
cat > "$TMP/nested.writ" <<'EOF'
enum Side { Buy, Sell }
struct Order { side: Side, amount: u64 }
event Seen(who: address indexed, o: Order);
interface IInner { fn inner(x: u64) -> u64; }
interface IMid { fn mid(inner: address, x: u64) -> u64; }
contract Inner {
  pub fn inner(x: u64) -> u64 {
    let y = x - 10;
    return y;
  }
}
contract Mid {
  pub fn mid(inner: address, x: u64) -> u64 {
    emit Seen(caller(), Order { side: Side::Sell, amount: x });
    return IInner(inner).inner(x) + 1;
  }
}
contract Outer {
  pub fn run(mid: address, inner: address, x: u64) -> u64 { return IMid(mid).mid(inner, x); }
}
EOF
"$WRIT" build "$TMP/nested.writ" -o "$TMP/nested-build" > /dev/null 2>&1
min() { sed 's/^0x0*/0x/' <<<"$1"; }
expect nested-deploy-inner 0 "^contract: 0x" -- "$WRIT" deploy --key "$TMP/alice.key" "$TMP/nested.writ" --contract Inner --data "$D2"
INNER="$(field contract)"
expect nested-deploy-mid 0 "^contract: 0x" -- "$WRIT" deploy --key "$TMP/alice.key" "$TMP/nested.writ" --contract Mid --data "$D2"
MID="$(field contract)"
expect nested-deploy-outer 0 "^contract: 0x" -- "$WRIT" deploy --key "$TMP/alice.key" "$TMP/nested.writ" --contract Outer --data "$D2"
OUTER="$(field contract)"
expect nested-call-chain 1 "^  2: Inner.inner at $(min "$INNER"): Overflow$" -- \
  "$WRIT" call --to "$OUTER" --source "$TMP/nested.writ" --contract Outer --call run --arg "$MID" --arg "$INNER" --arg 3 --key "$TMP/alice.key" --data "$D2"
NESTED_TX="$(field tx)"
expect nested-call-chain-source 0 "^     at inner pc [0-9]+, .*nested.writ:8:13: let y = x - 10;$" -- echo "$LAST"
expect nested-readonly-chain 1 "^  1: Mid.mid at $(min "$MID"): Revert: CallFailed\(callee: $(min "$INNER"), status: 3 \(Overflow\)\)$" -- \
  "$WRIT" call --to "$OUTER" --source "$TMP/nested.writ" --contract Outer --call run --arg "$MID" --arg "$INNER" --arg 3 --data "$D2"
expect nested-receipt-call 0 "^call: Outer.run at $(min "$OUTER")$" -- \
  "$WRIT" receipt "$NESTED_TX" --build "$TMP/nested-build" --data "$D2"
expect nested-receipt-revert 0 "^revert: CallFailed\(callee: $(min "$INNER"), status: 3 \(Overflow\)\)$" -- echo "$LAST"
expect nested-receipt-top-source 0 "^  at .*nested.writ:19:68: pub fn run" -- echo "$LAST"
expect nested-receipt-chain-mid 0 "^     at mid pc [0-9]+, .*nested.writ:15:12: return IInner\(inner\).inner\(x\) \+ 1;$" -- echo "$LAST"
expect nested-receipt-chain-inner 0 "^  2: Inner.inner at $(min "$INNER"): Overflow$" -- echo "$LAST"
expect nested-receipt-json 0 '"status": "Overflow"' -- "$WRIT" receipt "$NESTED_TX" --json --data "$D2"
expect nested-receipt-json-calls 0 '"calls": \[' -- echo "$LAST"
# Without the build directory the chain still prints, by address and selector.
expect nested-receipt-undecoded 0 "^  2: $(min "$INNER") \(unknown contract, selector 0x[0-9a-f]{8}\): Overflow$" -- \
  "$WRIT" receipt "$NESTED_TX" --data "$D2"
# One ABI file (and its debug info beside it) decodes the frames it knows.
expect nested-receipt-one-abi 0 "^     at inner pc [0-9]+, .*nested.writ:8:13: let y = x - 10;$" -- \
  "$WRIT" receipt "$NESTED_TX" --abi "$TMP/nested-build/Inner.abi.json" --data "$D2"
expect nested-ok 0 "^result 0 \(u64\): 21$" -- \
  "$WRIT" call --to "$OUTER" --source "$TMP/nested.writ" --contract Outer --call run --arg "$MID" --arg "$INNER" --arg 30 --key "$TMP/alice.key" --data "$D2"
OK_TX="$(field tx)"
expect nested-ok-event 0 "^event: Seen\(who: $(min "$OUTER"), o: \{side: Side::Sell, amount: 30\}\) from Mid at $(min "$MID")$" -- echo "$LAST"
expect nested-receipt-event 0 "^event: Seen\(who: $(min "$OUTER"), o: \{side: Side::Sell, amount: 30\}\) from Mid at $(min "$MID")$" -- \
  "$WRIT" receipt "$OK_TX" --build "$TMP/nested-build" --data "$D2"
expect nested-receipt-result 0 "^result 0 \(u64\): 21$" -- echo "$LAST"
expect nested-logs 0 "log 0: Seen\(who: $(min "$OUTER"), o: \{side: Side::Sell, amount: 30\}\) from Mid at $MID$" -- \
  "$WRIT" logs --from 0 --address "$MID" --build "$TMP/nested-build" --data "$D2"
# Matched by event topic when no code is known: the ABI file without its module.
cp "$TMP/nested-build/Mid.abi.json" "$TMP/Mid-only.abi.json"
expect nested-logs-by-topic 0 "log 0: Seen\(who: $(min "$OUTER"), o: \{side: Side::Sell, amount: 30\}\) from $MID$" -- \
  "$WRIT" logs --from 0 --address "$MID" --abi "$TMP/Mid-only.abi.json" --data "$D2"
printf '{"contract": "X", "functions": [{"name": "f", "selector": "0x12"}]}' > "$TMP/bad.abi.json"
expect receipt-bad-abi 3 "bad.abi.json: functions\[0\].selector: expected 0x and 8 hex digits" -- \
  "$WRIT" receipt "$NESTED_TX" --abi "$TMP/bad.abi.json" --data "$D2"
expect receipt-missing-abi 3 "--abi .*none.abi.json: cannot open" -- \
  "$WRIT" receipt "$NESTED_TX" --abi "$TMP/none.abi.json" --data "$D2"
expect logs-build-not-dir 3 "--build .*bad.abi.json: not a directory" -- \
  "$WRIT" logs --build "$TMP/bad.abi.json" --data "$D2"
expect receipt-json-and-build 2 "--json prints the raw receipt" -- \
  "$WRIT" receipt "$NESTED_TX" --json --build "$TMP/nested-build" --data "$D2"

# ---- a data directory that lost its database is refused, not recreated --------------------------
mv "$D2/chain" "$D2/chain.away"
expect data-lost-chain-dir 3 "lost its chain database" -- "$WRIT" balance 0xB0B --data "$D2"
[[ ! -e "$D2/chain" ]] && ok data-lost-chain-not-recreated || bad data-lost-chain-not-recreated "$D2/chain exists"
mv "$D2/chain.away" "$D2/chain"
mv "$D2/chain/CURRENT" "$TMP/CURRENT.away"
expect data-lost-current 3 "CURRENT file is missing" -- "$WRIT" balance 0xB0B --data "$D2"
expect data-lost-current-no-init 3 "holds files but no database" -- \
  "$WRIT" balance 0xB0B --data "$D2" --init --genesis "$TMP/genesis.json"
mv "$TMP/CURRENT.away" "$D2/chain/CURRENT"
expect data-restored 0 "^[0-9]+$" -- "$WRIT" balance 0xB0B --data "$D2"
# One process at a time, even once RocksDB's LOCK file is deleted (a cleanup after a crash).
start_node lockheld --data "$D2"
rm -f "$D2/chain/LOCK"
expect lock-file-deleted-still-held 3 "another process has it open" -- "$WRIT" balance 0xB0B --data "$D2"
stop_node lockheld
# A commit record that outlived its database: --init does not start a new chain over it.
D5="$TMP/record-only"
cp -r "$D2" "$D5"
find "$D5/chain" -type f ! -name WRIT-COMMITTED -delete
expect record-only-no-init 3 "commit record \(WRIT-COMMITTED\) says block [0-9]+ was committed there, but the database is gone" -- \
  "$WRIT" balance 0xB0B --data "$D5" --init --genesis "$TMP/genesis.json"

# ---- a lost write-ahead log: refused, naming both heights; then an explicit rollback --------------
D3="$TMP/lostlog"
expect lost-wal-init 0 "^0$" -- "$WRIT" balance 0xB0B --data "$D3" --init --genesis "$TMP/genesis.json"
expect lost-wal-send1 0 "^status: Ok" -- "$WRIT" send --key "$TMP/alice.key" --to 0xB0B --value 4 --data "$D3"
expect lost-wal-send2 0 "^status: Ok" -- "$WRIT" send --key "$TMP/alice.key" --to 0xB0B --value 5 --data "$D3"
rm -f "$D3"/chain/*.log  # block 2 was only there (each open flushes what the log holds)
expect lost-wal-refused 3 "lost committed writes: block 2 was committed.*recovered only block 1" -- \
  "$WRIT" balance 0xB0B --data "$D3"
expect lost-wal-node-refused 3 "lost committed writes" -- "$WRIT" node --data "$D3" --rpc 127.0.0.1:0
expect lost-wal-accepted 0 "^chain 7 resumed from .* at height 1," -- \
  "$WRIT" node --data "$D3" --accept-rollback --rpc 127.0.0.1:0 --exit-after-seconds 1 --quiet
grep -q "accept-rollback: block 2 was committed; the database recovered only block 1" <<<"$LAST" \
  && ok lost-wal-accepted-says-what || bad lost-wal-accepted-says-what "no note of the loss" "$LAST"
expect lost-wal-then-opens 0 "^4$" -- "$WRIT" balance 0xB0B --data "$D3"
# A validator's application takes the same explicit rollback (CometBFT then replays the lost blocks).
D4="$TMP/lostlog-abci"
expect lost-wal-abci-init 0 "^0$" -- "$WRIT" balance 0xB0B --data "$D4" --init --genesis "$TMP/genesis.json"
expect lost-wal-abci-send1 0 "^status: Ok" -- "$WRIT" send --key "$TMP/alice.key" --to 0xB0B --value 4 --data "$D4"
expect lost-wal-abci-send2 0 "^status: Ok" -- "$WRIT" send --key "$TMP/alice.key" --to 0xB0B --value 5 --data "$D4"
rm -f "$D4"/chain/*.log
expect lost-wal-abci-refused 3 "lost committed writes: block 2 was committed" -- \
  "$WRIT" abci --data "$D4" --addr tcp://127.0.0.1:0 --exit-after-seconds 1 --quiet
expect lost-wal-abci-accepted 0 "listening on" -- \
  "$WRIT" abci --data "$D4" --accept-rollback --addr tcp://127.0.0.1:0 --exit-after-seconds 1 --quiet
grep -q "accept-rollback: block 2 was committed; the database recovered only block 1" <<<"$LAST" \
  && ok lost-wal-abci-says-what || bad lost-wal-abci-says-what "no note of the loss" "$LAST"
expect lost-wal-abci-then-opens 0 "^4$" -- "$WRIT" balance 0xB0B --data "$D4"

finish
