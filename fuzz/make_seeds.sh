#!/usr/bin/env bash
# Regenerates the seed corpora that are built rather than written by hand:
#   fuzz/corpus/module/*.wbc  assembled from fuzz/corpus/asm/*.wsm (run after an
#                             encoding change), with the writ tool;
#   fuzz/corpus/rpc/*.http    HTTP requests to the dev node (a request per
#                             JSON-RPC method, batches, signed payments), written
#                             by the fuzz_rpc binary itself (run after a change
#                             to the transaction encoding or the methods);
#   fuzz/corpus/proof/*.proof real state proofs with their claims, written by
#                             the fuzz_proof binary (after a proof format change);
#   fuzz/corpus/abci/*.abci   CometBFT connection streams, written by fuzz_abci.
#
#   fuzz/make_seeds.sh [WRIT_BINARY [FUZZ_BUILD_DIR]]
#     defaults: build/tools/writ/writ, build-fuzz (fuzz/run.sh builds the targets there)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
writ=${1:-$root/build/tools/writ/writ}
fuzz_build=${2:-$root/build-fuzz}
for src in "$root"/fuzz/corpus/asm/*.wsm; do
  "$writ" asm "$src" -o "$root/fuzz/corpus/module/$(basename "$src" .wsm).wbc"
done
rm -rf "$root/fuzz/corpus/rpc" "$root/fuzz/corpus/proof" "$root/fuzz/corpus/abci"
WRIT_FUZZ_RPC_SEEDS="$root/fuzz/corpus/rpc" "$fuzz_build/fuzz/fuzz_rpc"
WRIT_FUZZ_PROOF_SEEDS="$root/fuzz/corpus/proof" "$fuzz_build/fuzz/fuzz_proof"
WRIT_FUZZ_ABCI_SEEDS="$root/fuzz/corpus/abci" "$fuzz_build/fuzz/fuzz_abci"
echo "make_seeds: $(ls "$root/fuzz/corpus/module" | wc -l) modules," \
  "$(ls "$root/fuzz/corpus/rpc" | wc -l) RPC requests, $(ls "$root/fuzz/corpus/proof" | wc -l) proofs"
