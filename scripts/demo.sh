#!/usr/bin/env bash
# The main job: installs the dependencies, builds the `writ` tool, then
#   1. assembles the bytecode example and runs it: iterative Fibonacci over
#      u256, and the checked 64-bit version trapping on overflow;
#   2. compiles the vault contract (examples/vault.writ) and calls it: a
#      deposit that emits an event, and a withdrawal that reverts with the
#      contract's error, decoded.
# Each step checks its result; the script exits non-zero if one is wrong.
#
#   scripts/demo.sh
#
# Environment: WRIT_BUILD_DIR (default build), WRIT_JOBS (default: cores),
# WRIT_SKIP_DEPS=1 to skip the package check.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
build=${WRIT_BUILD_DIR:-build}
jobs=${WRIT_JOBS:-$(nproc)}

[[ ${WRIT_SKIP_DEPS:-0} == 1 ]] || scripts/install-deps.sh
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release
cmake --build "$build" -j "$jobs" --target writ
writ=$build/tools/writ/writ

run() {
  echo
  echo "\$ ${*/#$build\/tools\/writ\//}"
  "$@"
}

run "$writ" asm examples/fib.wsm -o "$build/fib.wbc"
run "$writ" disasm "$build/fib.wbc"
out=$(run "$writ" exec "$build/fib.wbc" --call fib --arg 100)
echo "$out"
if ! grep -q 'result 0 (u256): 354224848179261915075$' <<<"$out"; then
  echo "demo: fib(100) did not return 354224848179261915075" >&2
  exit 1
fi
run "$writ" exec "$build/fib.wbc" --call fib64 --arg 92 --json

# fib64 uses checked addition: it computes fib(n+1) too, and fib(94) does not
# fit 64 bits, so fib64(93) and above trap with Overflow and the command exits 1.
set +e
run "$writ" exec "$build/fib.wbc" --call fib64 --arg 100
rc=$?
set -e
if [[ $rc -ne 1 ]]; then
  echo "demo: expected the overflow trap to exit 1, got $rc" >&2
  exit 1
fi

# A contract in the Writ language: fixed-point (WAD/RAY) vault.
run "$writ" build examples/vault.writ -o "$build/demo"
out=$(run "$writ" run examples/vault.writ --init-arg 1.000000001547125957863212448 \
        --call deposit --arg 100.5)
echo "$out"
if ! grep -q 'event: Deposited(who: .*, amount: 100.5, shares: 100.5)' <<<"$out"; then
  echo "demo: the vault deposit did not emit Deposited(..., 100.5, 100.5)" >&2
  exit 1
fi
# Withdrawing shares that were never deposited reverts with InsufficientShares.
set +e
out=$(run "$writ" run examples/vault.writ --init-arg 1.0 --call withdraw --arg 5.0 2>&1)
rc2=$?
set -e
echo "$out"
if [[ $rc2 -ne 1 ]] || ! grep -q 'InsufficientShares(have: 0.0, want: 5.0)' <<<"$out"; then
  echo "demo: expected the withdrawal to revert with InsufficientShares (exit 1), got $rc2" >&2
  exit 1
fi

# The whole system: compiler, VM and runtime on an embedded RocksDB chain.
out=$(run "$writ" demo)
echo "$out"
for expect in '== block 1: deploy' 'price(ETH/USD, max age 1h) = 2001.0' \
              'alice pays bob: scored, settled' 'held as hold 1' 'PaymentRefused(score: ' \
              'event Released(id: 1, by: reviewer' 'refused: StalePrice(feed: 1' \
              'verified against the root: yes' "alice's account .* verified: yes" \
              'event Queued(id: 1' 'event ToUsd(payer: procurement' 'Withdrawn(token: USDW, payee: dave' \
              'contractor: +36.000000 USDW' 'HeldForApprovals(id: 2, score: ' 'Paid(token: 0x0, to: 0x5a1e5' \
              'Borrowed(id: 2, who: owner-alice, amount: 3000000000' 'Barked(id: 1, owner: procurement' \
              'Taken(sale: 1, buyer: governance' 'SaleClosed(sale: 1, returned: [1-9]' 'bad debt 0.000000000000000000$' \
              'lender: 5000.[0-9]* USDW supplied is now 500[1-9]' 'Repaid(id: 2, who: owner-alice' \
              'a second node applied .* state root: yes' 'same state root: yes' '^demo: ok$'; do
  if ! grep -q "$expect" <<<"$out"; then
    echo "demo: the chain demo did not print '$expect'" >&2
    exit 1
  fi
done

echo
echo "demo: ok (the overflow trap and the revert above are expected: exit code 1 each)"
