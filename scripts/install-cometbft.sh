#!/usr/bin/env bash
# Builds CometBFT, the consensus engine that Writ's validators run beside
# `writ abci` (a separate program, docs/network.md), from the Go module proxy
# into .deps/bin/cometbft, for the validator network test and for operators.
# Needs the Go toolchain (go 1.22 or later; /usr/local/go is looked at too).
# Idempotent: nothing is fetched when the pinned version is already there.
set -euo pipefail

version=v0.38.26
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin="$root/.deps/bin"
if [[ -x "$bin/cometbft" && "$("$bin/cometbft" version 2>/dev/null)" == "${version#v}" ]]; then
  echo "install-cometbft: CometBFT $version is installed ($bin/cometbft)"
  exit 0
fi
go=$(command -v go || true)
[[ -z "$go" && -x /usr/local/go/bin/go ]] && go=/usr/local/go/bin/go
if [[ -z "$go" ]]; then
  echo "install-cometbft: the Go toolchain is needed to build CometBFT $version (go 1.22 or" \
       "later on PATH or in /usr/local/go)" >&2
  exit 1
fi
echo "install-cometbft: building CometBFT $version with $("$go" version)"
mkdir -p "$bin"
GOBIN="$bin" "$go" install "github.com/cometbft/cometbft/cmd/cometbft@$version"
echo "install-cometbft: $("$bin/cometbft" version) in $bin"
