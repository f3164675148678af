// Pre-decoded code: what the verifier produces and the interpreter runs.
// Internal to writ_vm (and to the JIT later); not a stable format.
//
// Invariants (established by verifier.cpp, relied on by interpreter.cpp):
//   1. register operands are slot offsets into the frame, and the slots they
//      name hold a value of the type the opcode expects;
//   2. branch targets (branch_target) are indices into the same function's
//      `code`;
//   3. every path into a basic block pays its static gas exactly once:
//      function entry pays `entry_gas`, a taken branch pays `br.gas`, a
//      conditional branch that falls through pays `ft_gas`, and a block that
//      is entered by falling through a non-branch instruction starts with a
//      kOpGas pseudo-instruction carrying its gas;
//   4. the last instruction of `code` is a terminator;
//   5. a CALL carries what the call needs of the callee in `call` and the
//      caller's frame size in `caller_slots`; a RET carries its function's
//      result slots in `b` (so neither reads a FuncCode at run time).
#pragma once

#include <cstdint>
#include <vector>

#include "writ/vm/module.hpp"
#include "writ/vm/opcodes.hpp"

namespace writ::vm {

// Pseudo-opcode, only in pre-decoded code: charge `imm` gas for the block that
// starts here (entered by fall-through). Its pc is the block's first pc.
inline constexpr uint16_t kOpGas = kOpcodeCount;
inline constexpr unsigned kInternalOpCount = kOpcodeCount + 1;

struct Insn {
  uint16_t op;
  uint16_t a, b, c;  // slot offsets, or indices for f/e/x/k operands
  union {
    int64_t imm;
    struct {
      // The target's index in FuncCode::code minus this instruction's:
      // relative, so the interpreter jumps from `ip` without keeping the
      // code's base in a register.
      int32_t offset;
      uint32_t gas;  // static gas of the target block
    } br;
    struct {
      uint16_t d, e;
      uint32_t unused;
    } ext;
    struct {
      uint32_t entry_gas;    // the callee's entry gas
      uint16_t frame_slots;  // the callee's frame
      uint16_t param_slots;  // the callee's parameters
    } call;
  };
  union {
    uint32_t ft_gas;        // conditional branches: static gas of the fall-through block
    uint32_t caller_slots;  // CALL: the calling function's frame size
  };
  uint32_t pc;  // byte offset of the original instruction in the function's code
};
static_assert(sizeof(Insn) == 24);

// The index of branch `in`'s target, `in` being code[index].
inline uint32_t branch_target(const Insn& in, size_t index) {
  return static_cast<uint32_t>(static_cast<int64_t>(index) + in.br.offset);
}

struct FuncCode {
  std::vector<Insn> code;
  std::vector<uint16_t> reg_slot;  // register index -> first slot
  uint32_t frame_slots = 0;        // 8-byte slots for all registers
  uint32_t param_slots = 0;        // params occupy slots [0, param_slots)
  uint32_t result_slots = 0;
  uint32_t entry_gas = 0;  // static gas of the entry block
  uint32_t block_count = 0;
};

inline constexpr unsigned slots_of(ValType t) {
  return t == ValType::U256 ? 4 : 1;
}

struct Program {
  std::vector<FuncCode> funcs;
  std::vector<const Insn*> entry;  // per function: funcs[f].code.data()
  // No frame exceeds kMaxStackSlots / kMaxFrames: with the depth bounded by
  // kMaxFrames, the register stack cannot run out and CALL need not test it.
  bool stack_cannot_overflow = false;
  std::vector<U256> event_topics;         // per event: topic 0
  std::vector<uint32_t> error_selectors;  // per error
};

}  // namespace writ::vm
