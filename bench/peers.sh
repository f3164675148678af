#!/usr/bin/env bash
# Writ beside LuaJIT on the three workloads both run as the same algorithm
# (fib_rec, sha256, sort: bench/peers/workloads.lua): Writ's interpreter
# beside LuaJIT's (-joff), Writ's JIT beside LuaJIT's trace compiler, and
# native C++. Results are checked equal to the Writ workloads' (`writ exec`)
# before anything is timed. Two rounds, alternating, the fastest of each kept.
# usage: bench/peers.sh [BUILD_DIR]   (needs luajit: apt-get install luajit)
set -eu
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$(cd "${1:-$ROOT/build}" && pwd)
BENCH="$BUILD/bench/writ_bench"
WRIT="$BUILD/tools/writ/writ"
LUA="$ROOT/bench/peers/workloads.lua"
command -v luajit >/dev/null || { echo "peers.sh: no luajit (apt-get install luajit)" >&2; exit 2; }
command -v jq >/dev/null || { echo "peers.sh: no jq (apt-get install jq)" >&2; exit 2; }
[[ -x "$BENCH" && -x "$WRIT" ]] || { echo "peers.sh: build writ_bench and writ in $BUILD first" >&2; exit 2; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# The workloads' results on Writ, from the same .wsm files and inputs as writ_bench.
block=0x$(printf '%02x' $(seq 0 31))80$(printf '0%.0s' $(seq 1 58))0100
want() { "$WRIT" exec "$ROOT/bench/workloads/$1" --json "${@:2}" | jq -r '.results[0]'; }
declare -A expected=(
  [fib_rec]=$(want fib_rec.wsm --call fib --arg 25)
  [sha256]=$(want sha256.wsm --call chain --arg "$block" --arg 2000)
  [sort]=$(want sort.wsm --call sort --arg 1000 --arg 42)
)

declare -A best
keep() {  # keep KEY MS: the smaller
  if [[ -z "${best[$1]:-}" ]] || awk "BEGIN { exit !($2 < ${best[$1]}) }"; then best[$1]=$2; fi
}
for round in 1 2; do
  "$BENCH" --benchmark_filter='^(fib_rec|sha256|sort)/(vm|jit|native)$' --benchmark_repetitions=3 \
    --benchmark_out="$TMP/writ.json" --benchmark_out_format=json > /dev/null 2> "$TMP/writ.err" ||
    { cat "$TMP/writ.err" >&2; exit 1; }
  while read -r name ms; do keep "writ:$name" "$ms"; done < <(
    jq -r '.benchmarks[] | select(.run_type == "iteration") | "\(.name) \(.cpu_time)"' "$TMP/writ.json")
  for mode in on off; do
    flag=$([[ $mode == off ]] && echo -joff || true)
    while read -r name ms result; do
      if [[ "$result" != "${expected[$name]}" ]]; then
        echo "peers.sh: LuaJIT ($mode) $name gives $result, Writ ${expected[$name]}" >&2
        exit 1
      fi
      keep "lua-$mode:$name" "$ms"
    done < <(luajit $flag "$LUA" 0.5)
  done
  echo "round $round done" >&2
done

printf '%-9s %10s %10s %10s %10s %10s %12s %12s\n' workload "native ms" "Writ VM" "LuaJIT -joff" \
  "Writ JIT" "LuaJIT" "Lint/WritVM" "LJIT/WritJIT"
for w in fib_rec sha256 sort; do
  awk -v w="$w" -v n="${best[writ:$w/native]}" -v v="${best[writ:$w/vm]}" -v li="${best[lua-off:$w]}" \
      -v j="${best[writ:$w/jit]}" -v lj="${best[lua-on:$w]}" \
      'BEGIN { printf "%-9s %10.3f %10.3f %12.3f %10.3f %10.3f %11.1fx %11.1fx\n", w, n, v, li, j, lj, li / v, lj / j }'
done
echo "Lint/WritVM: LuaJIT's interpreter time / Writ's interpreter time (above 1: Writ faster);"
echo "LJIT/WritJIT: LuaJIT's trace compiler / Writ's JIT. LuaJIT $(luajit -v | cut -d' ' -f2); CPU time, ms per run."
echo "(sort under -joff: LuaJIT's interpreter boxes every 64-bit integer, an allocation each.)"
