#!/usr/bin/env bash
# Regenerates the seed modules fuzz/corpus/module/*.wbc from the assembler
# sources fuzz/corpus/asm/*.wsm (run after an encoding change).
#
#   fuzz/make_seeds.sh [WRIT_BINARY]      default: build/tools/writ/writ
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
writ=${1:-$root/build/tools/writ/writ}
for src in "$root"/fuzz/corpus/asm/*.wsm; do
  "$writ" asm "$src" -o "$root/fuzz/corpus/module/$(basename "$src" .wsm).wbc"
done
