#include "writ/vm/opcodes.hpp"

#include "writ/vm/module.hpp"

#include <string_view>

namespace writ::vm {
namespace {

// The table must be dense and in numeric order: row k has number k.
constexpr bool table_is_dense() {
  unsigned expected = 0;
#define OP(name, mnemonic, number, operands, gas, flags, meaning) \
  if (static_cast<unsigned>(number) != expected++) return false;
#include "opcodes.def"
#undef OP
  return true;
}
static_assert(table_is_dense(), "opcodes.def rows must be numbered 0, 1, 2, ... in order");
static_assert(kOpcodeCount <= 256, "opcodes are one byte");

constexpr bool operands_are_known() {
  for (const OpInfo& i : kOpInfo)
    for (char c : i.operands)
      if (operand_width(c) == 0) return false;
  return true;
}
static_assert(operands_are_known(), "opcodes.def uses an unknown operand letter");

// The verifier sums a basic block's base gas into 32 bits (FuncCode and Insn
// keep it as uint32_t). A block is at most one function's code, so the
// costliest gas per byte of code, times kMaxCodeSize, must fit with room for
// call frames (at most 2,048 gas per call instruction of 7 bytes).
constexpr bool block_gas_fits_32_bits() {
  for (unsigned i = 0; i < kOpcodeCount; ++i) {
    const uint64_t per_block =
        uint64_t{kOpInfo[i].base_gas} * (kMaxCodeSize / encoded_size(static_cast<Op>(i)));
    if (per_block + 2048ull * (kMaxCodeSize / 7) >= (1ull << 32)) return false;
  }
  return true;
}
static_assert(block_gas_fits_32_bits(), "a block of the costliest opcode overflows 32-bit gas");

}  // namespace

std::optional<Op> op_by_mnemonic(std::string_view mnemonic) {
  for (unsigned i = 0; i < kOpcodeCount; ++i)
    if (!(kOpInfo[i].flags & F_INVALID) && kOpInfo[i].mnemonic == mnemonic)
      return static_cast<Op>(i);
  return std::nullopt;
}

}  // namespace writ::vm
