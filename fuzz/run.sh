#!/usr/bin/env bash
# Builds the libFuzzer targets and runs each for SECONDS (default 60) on a
# scratch copy of the seed corpus, so the committed corpus never changes.
#
#   fuzz/run.sh [SECONDS]
#
# Needs clang with its fuzzer runtime (scripts/install-deps.sh installs both).
# Environment:
#   WRIT_FUZZ_BUILD_DIR  build directory (default: build-fuzz in the repo)
#   WRIT_JOBS            parallel build jobs (default: the number of cores)
#   WRIT_FUZZ_TARGETS    targets to run (default: all eight)
#
# Exit status: 0 when every target ran its time without a finding, 1 when one
# crashed, timed out or broke an invariant (its input is saved under
# $WRIT_FUZZ_BUILD_DIR/artifacts/), 2 on a usage or build error.
set -euo pipefail

secs=${1:-60}
if ! [[ $secs =~ ^[0-9]+$ ]] || [[ $secs -eq 0 ]]; then
  echo "usage: fuzz/run.sh [SECONDS]   (a positive whole number; got '$secs')" >&2
  exit 2
fi
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${WRIT_FUZZ_BUILD_DIR:-$root/build-fuzz}
jobs=${WRIT_JOBS:-$(nproc)}
targets=${WRIT_FUZZ_TARGETS:-fuzz_module fuzz_asm fuzz_compile fuzz_transaction fuzz_rpc fuzz_proof fuzz_jit fuzz_abci}

for tool in clang clang++ cmake; do
  if ! command -v "$tool" >/dev/null; then
    echo "fuzz/run.sh: $tool not found (run scripts/install-deps.sh)" >&2
    exit 2
  fi
done

echo "== configuring $build (clang, WRIT_FUZZING=ON)"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DWRIT_FUZZING=ON -DWRIT_TESTING=OFF -DWRIT_BENCHMARKS=OFF -DWRIT_JIT=ON >/dev/null
echo "== building $targets"
# shellcheck disable=SC2086
cmake --build "$build" -j "$jobs" --target $targets

work=$(mktemp -d "${TMPDIR:-/tmp}/writ-fuzz.XXXXXX")
trap 'rm -rf "$work"' EXIT
artifacts="$build/artifacts"
mkdir -p "$artifacts"

# Dictionary for the assembler: every mnemonic from the opcode table (read from
# vm/opcodes.def itself, so the fuzz build need not build the writ command),
# plus the directives and keywords of the syntax.
{
  awk -F'"' '/^OP\(/ && !/F_INVALID/ { printf "\"%s\"\n", $2 }' "$root/vm/opcodes.def"
  for w in .func .end .regs .const .event .error .meta word bytes indexed export view payable \
           reentrant u64 u256 buf "->" r0 r1 r2 k0 "@0"; do
    printf '"%s"\n' "$w"
  done
} > "$work/asm.dict"

status=0
for target in $targets; do
  case $target in
    fuzz_module) seeds=module; extra=() ;;
    fuzz_asm) seeds=asm; extra=(-dict="$work/asm.dict") ;;
    fuzz_compile) seeds=writ; extra=() ;;
    fuzz_transaction) seeds=tx; extra=() ;;
    fuzz_rpc) seeds=rpc; extra=() ;;
    fuzz_proof) seeds=proof; extra=() ;;
    fuzz_jit) seeds=jit; extra=() ;;
    fuzz_abci) seeds=abci; extra=() ;;
    *) echo "fuzz/run.sh: unknown target $target" >&2; exit 2 ;;
  esac
  corpus="$work/$target"
  mkdir -p "$corpus"
  cp "$root/fuzz/corpus/$seeds"/* "$corpus"/
  log="$build/$target.log"
  echo "== $target: ${secs}s on a copy of fuzz/corpus/$seeds ($(ls "$corpus" | wc -l) seeds), log $log"
  if "$build/fuzz/$target" "$corpus" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
       -max_len=8192 -print_final_stats=1 -artifact_prefix="$artifacts/$target-" "${extra[@]}" \
       >"$log" 2>&1; then
    grep -E '^(stat::number_of_executed_units|stat::peak_rss_mb|Done [0-9]+ runs)' "$log" || true
    echo "== $target: ok, $(ls "$corpus" | wc -l) corpus entries"
  else
    status=1
    tail -n 60 "$log"
    echo "== $target: FINDING (inputs saved under $artifacts/)" >&2
  fi
done
exit $status
