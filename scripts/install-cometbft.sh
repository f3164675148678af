#!/usr/bin/env bash
# Builds CometBFT, the consensus engine that Writ's validators run beside
# `writ abci` (a separate program, docs/network.md), from the Go module proxy
# into .deps/bin/cometbft, for the validator network test and for operators.
# Needs Go 1.22 or later: the machine's (on PATH, or /usr/local/go), else a
# Go toolchain fetched once from the same proxy into .deps/go (x86-64 only; its
# archive's SHA-256 is pinned below).
# Idempotent: nothing is fetched when the pinned version is already there.
set -euo pipefail

version=v0.38.26
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bin="$root/.deps/bin"
if [[ -x "$bin/cometbft" && "$("$bin/cometbft" version 2>/dev/null)" == "${version#v}" ]]; then
  echo "install-cometbft: CometBFT $version is installed ($bin/cometbft)"
  exit 0
fi
# The toolchain the proxy serves as the module golang.org/toolchain. The
# digest is of the archive; it matches the checksum database's entry for
# the module (h1:hxQU5yWTnb0g5kLfz0z3G0wrgC9rQGwX9qPSPnpQuGY=).
go_toolchain=v0.0.1-go1.24.11.linux-amd64
go_toolchain_sha256=8a9685c09d449928863152512648530dafde05e7d41fcbb21baba3a852e84ef4

# Whether $1 is a Go toolchain of version 1.22 or later.
new_enough() {
  local v
  v=$("$1" env GOVERSION 2>/dev/null) || return 1
  [[ $v =~ ^go1\.([0-9]+) ]] && ((BASH_REMATCH[1] >= 22))
}

go=""
for candidate in "$(command -v go || true)" /usr/local/go/bin/go "$root/.deps/go/bin/go"; do
  if [[ -n "$candidate" && -x "$candidate" ]] && new_enough "$candidate"; then
    go=$candidate
    break
  fi
done
if [[ -z "$go" ]]; then
  if [[ $(uname -s)/$(uname -m) != Linux/x86_64 ]]; then
    echo "install-cometbft: Go 1.22 or later is needed to build CometBFT $version (on PATH" \
         "or in /usr/local/go)" >&2
    exit 1
  fi
  echo "install-cometbft: no Go 1.22 or later here; fetching $go_toolchain from the Go module proxy"
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  curl -sSfL --retry 3 -o "$tmp/go.zip" \
    "https://proxy.golang.org/golang.org/toolchain/@v/$go_toolchain.zip"
  if ! echo "$go_toolchain_sha256  $tmp/go.zip" | sha256sum --check --quiet -; then
    echo "install-cometbft: the Go toolchain's archive does not have its pinned SHA-256" >&2
    exit 1
  fi
  unzip -q "$tmp/go.zip" -d "$tmp/x"
  # Module archives keep no file modes: the programs become executable here.
  chmod -R u+x "$tmp/x/golang.org/toolchain@$go_toolchain/bin" \
    "$tmp/x/golang.org/toolchain@$go_toolchain/pkg/tool"
  rm -rf "$root/.deps/go"
  mkdir -p "$root/.deps"
  mv "$tmp/x/golang.org/toolchain@$go_toolchain" "$root/.deps/go"
  go="$root/.deps/go/bin/go"
  new_enough "$go" || { echo "install-cometbft: the fetched Go does not run" >&2; exit 1; }
fi
echo "install-cometbft: building CometBFT $version with $("$go" version)"
mkdir -p "$bin"
GOBIN="$bin" "$go" install "github.com/cometbft/cometbft/cmd/cometbft@$version"
echo "install-cometbft: $("$bin/cometbft" version) in $bin"
