#!/usr/bin/env bash
# Installs every Debian 12 package that Writ needs to build, test, benchmark
# and fuzz. Idempotent: when everything is already installed it changes
# nothing and needs no network. Runs apt-get as root, through sudo when the
# caller is not root.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config ccache git  # toolchain (g++ 12, cmake 3.25)
  libboost-dev libssl-dev                                  # VM: Boost.Multiprecision, SHA-256
  librocksdb-dev                                           # runtime: state store
  nlohmann-json3-dev                                       # runtime: genesis files, JSON-RPC
  libprotobuf-dev protobuf-compiler                        # runtime/abci: CometBFT's ABCI++ wire format
  libgtest-dev libgmock-dev libbenchmark-dev               # tests and benchmarks
  libgmp-dev                                               # benchmarks: GMP, the yardstick of 256-bit arithmetic
  llvm-14-dev                                              # JIT tier (WRIT_JIT)
  clang libclang-rt-14-dev                                 # fuzzers (libFuzzer) and sanitizers
  tmux                                                     # tests: the debugger driven as in a terminal
  curl jq unzip                                            # tests: the validator network's checks; Go's toolchain, when the machine has none
)

missing=()
for p in "${packages[@]}"; do
  if [[ $(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true) != installed ]]; then
    missing+=("$p")
  fi
done
if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#packages[@]} packages are installed"
  exit 0
fi

if [[ $(id -u) -eq 0 ]]; then
  as_root=()
elif command -v sudo >/dev/null; then
  as_root=(sudo)
else
  echo "install-deps: missing packages (${missing[*]}) and not root; run as root or install sudo" >&2
  exit 1
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -q
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
