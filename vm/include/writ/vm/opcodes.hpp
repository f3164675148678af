// Opcode enum and per-opcode traits, expanded from vm/opcodes.def.
//
// The traits are constexpr data so the verifier and the interpreter can
// consult them at compile time; nothing here allocates or throws.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string_view>

namespace writ::vm {

enum OpFlags : uint8_t {
  F_TERM = 1 << 0,     // ends a basic block, never falls through
  F_BRANCH = 1 << 1,   // has a jump target operand
  F_COND = 1 << 2,     // conditional: may fall through
  F_DYN = 1 << 3,      // charges dynamic gas at the instruction
  F_HOST = 1 << 4,     // calls the host interface
  F_WRITE = 1 << 5,    // changes state: refused in static calls
  F_CALL = 1 << 6,     // internal call
  F_INVALID = 1 << 7,  // undefined opcode number
};

enum class Op : uint8_t {
#define OP(name, mnemonic, number, operands, gas, flags, meaning) name = number,
#include "opcodes.def"
#undef OP
};

inline constexpr unsigned kOpcodeCount = 0
#define OP(name, mnemonic, number, operands, gas, flags, meaning) +1
#include "opcodes.def"
#undef OP
    ;

struct OpInfo {
  std::string_view mnemonic;
  std::string_view operands;  // operand letters, see opcodes.def
  uint32_t base_gas;
  uint8_t flags;
  std::string_view meaning;
};

inline constexpr std::array<OpInfo, kOpcodeCount> kOpInfo = {{
#define OP(name, mnemonic, number, operands, gas, flags, meaning) \
  {mnemonic, operands, gas, static_cast<uint8_t>(flags), meaning},
#include "opcodes.def"
#undef OP
}};

// Whether an operand letter names a register (a, A, w, W, b, B, or r, the
// first of a run; opcodes.def).
constexpr bool is_register_operand(char letter) {
  switch (letter) {
    case 'a':
    case 'A':
    case 'w':
    case 'W':
    case 'b':
    case 'B':
    case 'r':
      return true;
    default:
      return false;
  }
}

// Width in bytes of one operand letter; 0 for an unknown letter.
constexpr unsigned operand_width(char letter) {
  if (is_register_operand(letter)) return 2;
  switch (letter) {
    case 'k':
    case 'f':
    case 'e':
    case 'x':
      return 2;
    case 't':
      return 4;
    case 'i':
      return 8;
    default:
      return 0;
  }
}

// Encoded size of an instruction with this opcode, opcode byte included.
constexpr unsigned encoded_size(Op op) {
  unsigned n = 1;
  for (char c : kOpInfo[static_cast<unsigned>(op)].operands) n += operand_width(c);
  return n;
}

constexpr const OpInfo& info(Op op) {
  return kOpInfo[static_cast<unsigned>(op)];
}
constexpr bool is_defined(uint8_t byte) {
  return byte < kOpcodeCount && !(kOpInfo[byte].flags & F_INVALID);
}

// Looks up a mnemonic ("wadd.cu"); nullopt when unknown or reserved.
std::optional<Op> op_by_mnemonic(std::string_view mnemonic);

}  // namespace writ::vm
