#!/usr/bin/env bash
# Four validators on loopback, each a CometBFT v0.38 node with its own Writ
# application (`writ abci`) and data directory: payments and contract calls
# sent through several nodes by several clients; every validator commits the
# same blocks, state roots and receipts; one validator killed (SIGKILL) and
# restarted catches up; with two of four stopped the network halts without
# forking, then resumes.
#
# usage: validators_test.sh WRIT COMETBFT SOURCE_DIR [ROUNDS]
#   ROUNDS: payment rounds per phase (default 3; the long version: 50)
#   WRIT_NET_LOAD_TXS, WRIT_NET_LOAD_SENDERS: payments per sender and senders
#   (through the validators in turn) in the load phase, whose payments/s and
#   latency are printed (default 25 and 4; docs/network.md's figures: 500 × 4
#   and 250 × 8)
set -u
WRIT="$1"
COMETBFT="$2"
SRC="$3"
ROUNDS="${4:-3}"
LOAD_TXS="${WRIT_NET_LOAD_TXS:-25}"          # payments per sender in the load phase
LOAD_SENDERS="${WRIT_NET_LOAD_SENDERS:-4}"   # senders (development keys, at most 8)
source "$SRC/tests/cli/lib.sh"

if [[ ! -x "$COMETBFT" ]]; then
  bad cometbft-installed "no CometBFT at '$COMETBFT': scripts/install-cometbft.sh builds it"
  finish
  exit 1
fi

N=4
NET="$TMP/net"
ip_of() { echo "127.0.0.$(($1 + 1))"; }
# Each validator's ports, on its own loopback address. Below Linux's ephemeral
# range (32768-60999), which other tests' servers (port 0) and every client
# connection draw from: a port there can be held by another process for a
# moment, and a validator that cannot bind it does not start.
P2P_PORT=27656 COMET_RPC_PORT=27657 ABCI_PORT=27658 RPC_PORT=27545
PIDS_C=() PIDS_A=()

# Every process of the test is ended at exit, whatever happened.
stop_all() {
  for p in "${PIDS_C[@]}" "${PIDS_A[@]}"; do [[ -n "$p" ]] && kill -KILL "$p" 2>/dev/null; done
  wait 2>/dev/null
}
trap 'stop_all; cleanup' EXIT

"$COMETBFT" testnet --v $N --o "$NET" --starting-ip-address 127.0.0.1 --p2p-port "$P2P_PORT" \
  >/dev/null 2>&1 || { bad testnet "cometbft testnet failed"; finish; exit 1; }
"$WRIT" genesis -o "$TMP/writ-genesis.json"
for i in $(seq 0 $((N - 1))); do
  home="$NET/node$i"
  ip=$(ip_of $i)
  cfg="$home/config/config.toml"
  # This node's addresses (its own loopback IP), fast blocks, no empty-block
  # pauses, peers on their own IPs.
  sed -i -e "s|^laddr = \"tcp://0.0.0.0:26656\"|laddr = \"tcp://$ip:$P2P_PORT\"|" \
         -e "s|^laddr = \"tcp://127.0.0.1:26657\"|laddr = \"tcp://$ip:$COMET_RPC_PORT\"|" \
         -e "s|^proxy_app = .*|proxy_app = \"tcp://$ip:$ABCI_PORT\"|" \
         -e "s|^timeout_commit = .*|timeout_commit = \"300ms\"|" \
         -e "s|^timeout_propose = .*|timeout_propose = \"2s\"|" \
         -e "s|^allow_duplicate_ip = .*|allow_duplicate_ip = true|" \
         -e "s|^addr_book_strict = .*|addr_book_strict = false|" \
         -e "s|^pprof_laddr = .*|pprof_laddr = \"\"|" \
         -e "s|^prometheus = .*|prometheus = false|" "$cfg"
  # The Writ genesis as the chain's app_state (the same in every copy).
  jq --slurpfile w "$TMP/writ-genesis.json" '.app_state = $w[0]' "$home/config/genesis.json" \
    > "$home/config/genesis.tmp" && mv "$home/config/genesis.tmp" "$home/config/genesis.json"
done
check same-genesis test "$(md5sum "$NET"/node*/config/genesis.json | cut -d' ' -f1 | sort -u | wc -l)" = 1

start_app() {  # start_app I: writ abci of validator I (its JSON-RPC on IP:RPC_PORT)
  local i=$1 ip
  ip=$(ip_of "$1")
  "$WRIT" abci --data "$NET/app$i" --addr "tcp://$ip:$ABCI_PORT" --rpc "$ip:$RPC_PORT" \
    --cometbft "$ip:$COMET_RPC_PORT" --quiet --exit-after-seconds 600 >> "$NET/app$i.log" 2>&1 &
  PIDS_A[$i]=$!
}
start_cometbft() {  # start_cometbft I: CometBFT of validator I
  local i=$1
  "$COMETBFT" start --home "$NET/node$i" --log_level "state:info,*:error" >> "$NET/node$i.log" 2>&1 &
  PIDS_C[$i]=$!
}
stop_validator() {  # stop_validator I SIGNAL
  local i=$1 sig=$2
  kill "-$sig" "${PIDS_C[$i]}" "${PIDS_A[$i]}" 2>/dev/null
  wait "${PIDS_C[$i]}" "${PIDS_A[$i]}" 2>/dev/null
  PIDS_C[$i]="" PIDS_A[$i]=""
}
rpc() {  # rpc I METHOD PARAMS-JSON: the result, from validator I's Writ JSON-RPC
  curl -s -m 5 -X POST -H 'Content-Type: application/json' \
    -d "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$2\",\"params\":$3}" "http://$(ip_of "$1"):$RPC_PORT/" |
    jq -c '.result'
}
height() {  # height I: validator I's committed height (0 when it does not answer)
  local h
  h=$(rpc "$1" writ_blockNumber '[]' 2>/dev/null)
  [[ "$h" =~ ^[0-9]+$ ]] && echo "$h" || echo 0
}
wait_height() {  # wait_height I H [SECONDS]: validator I at height >= H
  local deadline=$((SECONDS + ${3:-60})) h
  while ((SECONDS < deadline)); do
    h=$(height "$1")
    [[ "$h" =~ ^[0-9]+$ ]] && ((h >= $2)) && return 0
    sleep 0.3
  done
  return 1
}
# rpc_each I METHOD: one request to validator I per line of stdin (its
# params, JSON), all through one curl; each result on a line, in order.
rpc_each() {
  local url params body sep=""
  url="http://$(ip_of "$1"):$RPC_PORT/"
  while read -r params; do
    body="{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"$2\",\"params\":$params}"
    # In curl's config a quoted value escapes its double quotes.
    printf '%surl = "%s"\nheader = "Content-Type: application/json"\ndata = "%s"\n' "$sep" "$url" \
      "${body//\"/\\\"}"
    sep=$'next\n'
  done | curl -s -m 60 -K - | jq -c '.result'
}
# same_on KIND LINES VALIDATORS...: each validator's file $TMP/KIND-I (one
# line per item, `null` for a missing one) has LINES lines, none missing,
# and is the same as the first's; else says which line (from 1) differs.
same_on() {
  local kind=$1 lines=$2 i first="" n
  shift 2
  for i in "$@"; do
    n=$(grep -c . "$TMP/$kind-$i")
    [[ "$n" == "$lines" ]] || { echo "validator $i answered $n of $lines ${kind}s"; return 1; }
    n=$(grep -n -m1 -x 'null' "$TMP/$kind-$i" | cut -d: -f1)
    [[ -z "$n" ]] || { echo "validator $i has no $kind at line $n"; return 1; }
    if [[ -z "$first" ]]; then first=$i
    elif ! cmp -s "$TMP/$kind-$first" "$TMP/$kind-$i"; then
      n=$(cmp "$TMP/$kind-$first" "$TMP/$kind-$i" | sed -n 's/.* line \([0-9]*\)$/\1/p')
      echo "$kind at line $n: validator $i has $(sed -n "${n}p" "$TMP/$kind-$i"), validator $first $(sed -n "${n}p" "$TMP/$kind-$first")"
      return 1
    fi
  done
}
# agree FROM TO VALIDATORS...: the same block hash and state root at every
# height in [FROM, TO] on each of VALIDATORS.
agree() {
  local from=$1 to=$2 i
  shift 2
  for i in "$@"; do
    seq "$from" "$to" | sed 's/.*/[&]/' | rpc_each "$i" writ_getBlock |
      jq -c 'if . == null then null else [.height, .hash, .state_root, .transactions] end' \
      > "$TMP/block-$i"
  done
  same_on block $((to - from + 1)) "$@"
}
# same_receipts TXS-FILE VALIDATORS...: every transaction's receipt is the same on each.
same_receipts() {
  local file=$1 i
  shift
  for i in "$@"; do
    sed 's/.*/["&"]/' "$file" | rpc_each "$i" writ_getReceipt > "$TMP/receipt-$i"
  done
  same_on receipt "$(grep -c . "$file")" "$@"
}
# payments ROUND VALIDATORS...: alice, bob and carol each pay through another
# validator at once, waiting for their receipts; hashes appended to txs.
payments() {
  local round=$1 k=0 pids=() key v
  shift
  local vs=("$@")
  for key in alice bob carol; do
    v=${vs[$((k % ${#vs[@]}))]}
    ( "$WRIT" send --rpc "$(ip_of "$v"):$RPC_PORT" --dev-key "$key" --to 0xb0b --value $((round + 1)) \
        > "$TMP/pay-$round-$key.out" 2>&1 ) &
    pids+=($!)
    k=$((k + 1))
  done
  local failed=0
  for p in "${pids[@]}"; do wait "$p" || failed=1; done
  for key in alice bob carol; do
    sed -n 's/^tx: //p' "$TMP/pay-$round-$key.out" >> "$TMP/txs"
    grep -q '^status: Ok' "$TMP/pay-$round-$key.out" || { failed=1; cat "$TMP/pay-$round-$key.out"; }
  done
  return $failed
}

for i in $(seq 0 $((N - 1))); do start_app "$i"; done
sleep 0.5
for i in $(seq 0 $((N - 1))); do start_cometbft "$i"; done
show_logs() {
  for i in 0 1 2 3; do
    echo "--- app$i.log"; tail -5 "$NET/app$i.log"; echo "--- node$i.log"; tail -5 "$NET/node$i.log"
  done
}
# Every validator makes blocks and answers; else nothing after can hold.
for i in $(seq 0 $((N - 1))); do
  if ! wait_height "$i" 3 90; then
    bad network-makes-blocks "validator $i has no block 3 within 90 s"
    show_logs
    finish
    exit 1
  fi
done
ok network-makes-blocks
: > "$TMP/txs"

# Payments from three clients through different validators, and a contract
# deployed and called through another.
ok_rounds=0
for r in $(seq 1 "$ROUNDS"); do payments "$r" 0 1 2 && ok_rounds=$((ok_rounds + 1)); done
if [[ "$ok_rounds" != "$ROUNDS" ]]; then
  bad payments-committed "$ok_rounds of $ROUNDS rounds committed"
  show_logs
  finish
  exit 1
fi
ok payments-committed
# A client that moves to another validator waits until it has caught up
# with the one it used last (each answers from its own committed state).
caught_up() { wait_height "$2" "$(height "$1")" 30; }
"$WRIT" keygen -o "$TMP/dave.key" >/dev/null
DAVE=$(jq -r .address "$TMP/dave.key")
expect dave-funded 0 "^status: Ok" -- \
  "$WRIT" send --rpc "$(ip_of 0):$RPC_PORT" --dev-key reviewer --to "$DAVE" --value 100000000000
sed -n 's/^tx: //p' <<<"$LAST" >> "$TMP/txs"
caught_up 0 3
expect contract-deployed 0 "^status: Ok" -- \
  "$WRIT" deploy --rpc "$(ip_of 3):$RPC_PORT" --key "$TMP/dave.key" "$SRC/tests/fixtures/token.writ" --init-arg 1000
sed -n 's/^tx: //p' <<<"$LAST" >> "$TMP/txs"
TOKEN=$(sed -n 's/^contract: //p' <<<"$LAST")
caught_up 3 2
expect contract-called 0 "^status: Ok" -- \
  "$WRIT" call --rpc "$(ip_of 2):$RPC_PORT" --key "$TMP/dave.key" --to "$TOKEN" \
  --source "$SRC/tests/fixtures/token.writ" --call transfer --arg 0xb0b --arg 7
sed -n 's/^tx: //p' <<<"$LAST" >> "$TMP/txs"
caught_up 2 0
expect contract-read-elsewhere 0 "^result 0 \(u256\): 993$" -- \
  "$WRIT" call --rpc "$(ip_of 0):$RPC_PORT" --to "$TOKEN" --source "$SRC/tests/fixtures/token.writ" \
  --call balance_of --arg "$DAVE"

H=$(height 0)
for i in 1 2 3; do wait_height "$i" "$H" 30; done
check agree-blocks agree 1 "$H" 0 1 2 3
check agree-receipts same_receipts "$TMP/txs" 0 1 2 3
# Load: senders through the validators in turn, at once; every payment
# committed (the figures are printed, not judged: docs/network.md).
expect load-committed 0 "payments committed" -- "$WRIT" load \
  --rpc "$(ip_of 0):$RPC_PORT,$(ip_of 1):$RPC_PORT,$(ip_of 2):$RPC_PORT,$(ip_of 3):$RPC_PORT" \
  --txs "$LOAD_TXS" --senders "$LOAD_SENDERS" --timeout 120
echo "$LAST" | sed 's/^/  load: /'
H=$(height 0)
for i in 1 2 3; do wait_height "$i" "$H" 30; done
check agree-after-load agree 1 "$H" 0 1 2 3

# CometBFT's block H+1 carries the app hash after block H: Writ's state root.
ROOT=$(rpc 0 writ_getBlock "[$H]" | jq -r .state_root)
wait_height 0 $((H + 1)) 30
APPHASH=$(curl -s -m 5 "http://$(ip_of 0):$COMET_RPC_PORT/block?height=$((H + 1))" | jq -r '.result.block.header.app_hash')
check app-hash-is-state-root test "0x${APPHASH,,}" = "$ROOT"

# One validator killed mid-run: the other three go on; restarted, it
# catches up (CometBFT replays what its app lacks) and agrees.
stop_validator 3 KILL
for r in $(seq 1 "$ROUNDS"); do payments "$((100 + r))" 0 1 2 || bad "payments-with-one-down-$r" "failed"; done
H=$(height 0)
check three-go-on test "$H" -gt 0
start_app 3
start_cometbft 3
check killed-validator-catches-up wait_height 3 "$H" 90
check agree-after-catch-up agree 1 "$H" 0 1 2 3
check receipts-after-catch-up same_receipts "$TMP/txs" 0 1 2 3

# Two of four stopped: no quorum, so no block is committed (a halt, not a
# fork); the two left agree on everything they have. Restarted: it resumes.
stop_validator 2 TERM
stop_validator 3 TERM
sleep 2
HALT=$(height 0)
sleep 4
check halted test "$(height 0)" = "$HALT" -a "$(height 1)" = "$HALT"
check halted-agree agree 1 "$HALT" 0 1
start_app 2
start_app 3
start_cometbft 2
start_cometbft 3
check resumes wait_height 0 $((HALT + 2)) 90
for r in $(seq 1 "$ROUNDS"); do payments "$((200 + r))" 0 1 2 3 || bad "payments-after-resume-$r" "failed"; done
H=$(height 0)
for i in 1 2 3; do wait_height "$i" "$H" 60; done
check agree-after-resume agree 1 "$H" 0 1 2 3
check receipts-after-resume same_receipts "$TMP/txs" 0 1 2 3
check no-app-exception bash -c "! grep -l 'exception\|refused\|cannot' '$NET'/app*.log"
echo "network: $(wc -l < "$TMP/txs") transactions, $H blocks, 4 validators"
[[ $fail -gt 0 ]] && show_logs
finish
