#!/usr/bin/env bash
# Writ's interpreter beside an EVM interpreter, go-ethereum's, on the six
# workloads as Solidity (bench/peers/evm/Workloads.sol: the same algorithms).
# The Solidity is compiled by solc (npm's solc-js, pinned), run through
# go-ethereum's core/vm/runtime (pinned in bench/peers/evm/go.mod), and each
# EVM result is checked against the same algorithm written in Go before it
# counts. Two rounds, alternating, the fastest kept.
# usage: bench/evm_peer.sh [BUILD_DIR]
#   (needs go, node and npm; the first run fetches solc from the npm registry
#   and go-ethereum from the Go module proxy into BUILD_DIR/peers and Go's
#   module cache)
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
BENCH="$BUILD/bench/writ_bench"
PEER="$ROOT/bench/peers/evm"
CACHE="$BUILD/peers"
for tool in go node npm jq; do
  command -v "$tool" >/dev/null || { echo "evm_peer.sh: no $tool" >&2; exit 2; }
done
[[ -x "$BENCH" ]] || { echo "evm_peer.sh: build writ_bench in $BUILD first" >&2; exit 2; }
mkdir -p "$CACHE"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

if [[ ! -d "$CACHE/node_modules/solc" ]]; then
  npm install --prefix "$CACHE" --no-audit --no-fund --silent solc@0.8.37 >&2
fi
NODE_PATH="$CACHE/node_modules" node "$PEER/compile.js" "$PEER/Workloads.sol" "$TMP/codes.json"
(cd "$PEER" && go build -o "$CACHE/evmpeer" .)

declare -A best
keep() {  # keep KEY MS: the smaller
  if [[ -z "${best[$1]:-}" ]] || awk "BEGIN { exit !($2 < ${best[$1]}) }"; then best[$1]=$2; fi
}
W='fib_u256 fib_rec sha256 sort modexp token'
for round in 1 2; do
  "$BENCH" --benchmark_filter="^(${W// /|})/(vm|native)\$" --benchmark_repetitions=3 \
    --benchmark_out="$TMP/writ.json" --benchmark_out_format=json > /dev/null 2> "$TMP/writ.err" ||
    { cat "$TMP/writ.err" >&2; exit 1; }
  while read -r name ms; do keep "writ:$name" "$ms"; done < <(
    jq -r '.benchmarks[] | select(.run_type == "iteration") | "\(.name) \(.cpu_time)"' "$TMP/writ.json")
  while read -r name ms _; do keep "evm:$name" "$ms"; done < <("$CACHE/evmpeer" "$TMP/codes.json" 5)
  echo "round $round done" >&2
done

printf '%-9s %10s %10s %10s %11s %12s\n' workload "native ms" "Writ VM" "EVM (geth)" "Writ/native" "EVM/Writ VM"
for w in $W; do
  awk -v w="$w" -v n="${best[writ:$w/native]}" -v v="${best[writ:$w/vm]}" -v e="${best[evm:$w]}" \
    'BEGIN { printf "%-9s %10.3f %10.3f %10.3f %10.1fx %11.1fx\n", w, n, v, e, v / n, e / v }'
done
gm=1
for w in $W; do gm=$(awk -v g="$gm" -v e="${best[evm:$w]}" -v v="${best[writ:$w/vm]}" 'BEGIN { print g * e / v }'); done
awk -v g="$gm" 'BEGIN { printf "geometric mean of EVM/Writ VM: %.1fx\n", exp(log(g) / 6) }'
echo "EVM: go-ethereum $(sed -n 's/.*github.com\/ethereum\/go-ethereum \(v[0-9.]*\).*/\1/p' "$PEER/go.mod") core/vm/runtime, solc 0.8.37 --optimize (runs 200);"
echo "Writ: CPU time per run (writ_bench); EVM: wall time per call on an idle core. ms per run."
