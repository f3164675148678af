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
//      caller's frame size and the callee's zero_end in `frame`; a RET
//      carries its function's result slots in `b` (so neither reads a
//      FuncCode at run time);
//   6. a register outside [param_slots, zero_end) that is not a parameter is
//      written on every path before it is read.
#pragma once

#include <cstdint>
#include <vector>

#include "writ/vm/module.hpp"
#include "writ/vm/opcodes.hpp"

namespace writ::vm {

// Pseudo-opcode, only in pre-decoded code: charge `imm` gas for the block that
// starts here (entered by fall-through). Its pc is the block's first pc.
inline constexpr uint16_t kOpGas = kOpcodeCount;

// Superinstructions, only in FuncCode::fused (the code the interpreter runs
// when nothing traces it): a 64-bit comparison whose result the next
// instruction, a br_if or br_ifnot on the same register, tests. The fused
// instruction is the comparison's, with only its opcode changed; it writes the
// comparison's register as before, then branches as the next instruction
// would (whose fields it reads: that instruction stays in place, so a jump to
// it still works). One dispatch instead of two, and no reload of the result.
// Also: a `const` followed by a two-register conditional branch (compiled
// code compares with literals that way), fused the same way; and calls and
// returns of a single slot, which copy it without a loop.
// clang-format off
#define WRIT_FUSED_COMPARES(X) \
  X(EQ) X(NE) X(LT_U) X(LE_U) X(LT_S) X(LE_S) X(EQZ) X(EQI) X(LTI_U) \
  X(WEQ) X(WNE) X(WLT_U) X(WLE_U) X(WLT_S) X(WLE_S) X(WEQZ)
#define WRIT_FUSED_CONST_BRANCHES(X) X(BEQ) X(BNE) X(BLT_U) X(BGE_U) X(BLT_S) X(BGE_S)
// clang-format on
// Also pairs: two register computations, element loads or stores in a row
// in one block, run as one instruction (the first's fields, then the second's, which
// stays in place as the compares' branches do), for every two of
// WRIT_PAIRABLE_OPS: one dispatch instead of two where code is mostly
// arithmetic (hashing, bit manipulation, moves and constants around calls).
// X(arg, op) for each op; WRIT_PAIRS(X) gives X(first, second) for every two,
// row by row in the same order.
// clang-format off
#define WRIT_PAIRABLE_OPS(X, arg) \
  X(arg, MOV) X(arg, CONST) X(arg, ADD) X(arg, SUB) X(arg, MUL) X(arg, ADDI) X(arg, AND) \
  X(arg, OR) X(arg, XOR) X(arg, ANDI) X(arg, SHLI) X(arg, SHRI) X(arg, ADD32) X(arg, ROTRI32) \
  X(arg, LD64) X(arg, ST64)
#define WRIT_PAIRS(X) \
  WRIT_PAIRABLE_OPS(X, MOV) WRIT_PAIRABLE_OPS(X, CONST) WRIT_PAIRABLE_OPS(X, ADD) \
  WRIT_PAIRABLE_OPS(X, SUB) WRIT_PAIRABLE_OPS(X, MUL) WRIT_PAIRABLE_OPS(X, ADDI) \
  WRIT_PAIRABLE_OPS(X, AND) WRIT_PAIRABLE_OPS(X, OR) WRIT_PAIRABLE_OPS(X, XOR) \
  WRIT_PAIRABLE_OPS(X, ANDI) WRIT_PAIRABLE_OPS(X, SHLI) WRIT_PAIRABLE_OPS(X, SHRI) \
  WRIT_PAIRABLE_OPS(X, ADD32) WRIT_PAIRABLE_OPS(X, ROTRI32) WRIT_PAIRABLE_OPS(X, LD64) \
  WRIT_PAIRABLE_OPS(X, ST64)
enum : uint16_t {
  kOpFusedBefore = kOpGas,
#define WRIT_FUSED_ENUM(name) kOp##name##_BR_IF, kOp##name##_BR_IFNOT,
  WRIT_FUSED_COMPARES(WRIT_FUSED_ENUM)
#undef WRIT_FUSED_ENUM
#define WRIT_FUSED_ENUM(name) kOpCONST_##name,
  WRIT_FUSED_CONST_BRANCHES(WRIT_FUSED_ENUM)
#undef WRIT_FUSED_ENUM
  kOpCALL_1SLOT,  // a call whose callee has one parameter slot and nothing to zero
  kOpRET_1SLOT,   // a return of one result slot
#define WRIT_PAIR_ENUM(first, second) kOpPAIR_##first##_##second,
  WRIT_PAIRS(WRIT_PAIR_ENUM)
#undef WRIT_PAIR_ENUM
  kInternalOpEnd
};
// clang-format on
inline constexpr uint16_t kOpFirstPair = kOpRET_1SLOT + 1;

// Where `op` stands in WRIT_PAIRABLE_OPS, or -1.
constexpr int pairable_index(uint16_t op) {
  int i = 0;
#define WRIT_PAIR_INDEX(unused, name)                  \
  if (op == static_cast<uint16_t>(Op::name)) return i; \
  ++i;
  WRIT_PAIRABLE_OPS(WRIT_PAIR_INDEX, )
#undef WRIT_PAIR_INDEX
  return -1;
}
inline constexpr int kPairableCount = [] {
  int n = 0;
#define WRIT_PAIR_COUNT(unused, name) ++n;
  WRIT_PAIRABLE_OPS(WRIT_PAIR_COUNT, )
#undef WRIT_PAIR_COUNT
  return n;
}();
// The pair superinstruction of `first` then `second`, or 0 if there is none.
// WRIT_PAIRS lists the pairs row by row in WRIT_PAIRABLE_OPS's order (checked
// below), so the pair's opcode follows from the two positions.
constexpr uint16_t pair_op(uint16_t first, uint16_t second) {
  const int f = pairable_index(first), s = pairable_index(second);
  if (f < 0 || s < 0) return 0;
  return static_cast<uint16_t>(kOpFirstPair + f * kPairableCount + s);
}
#define WRIT_PAIR_CHECK(first, second)                                                          \
  static_assert(pair_op(static_cast<uint16_t>(Op::first), static_cast<uint16_t>(Op::second)) == \
                kOpPAIR_##first##_##second);
WRIT_PAIRS(WRIT_PAIR_CHECK)
#undef WRIT_PAIR_CHECK
inline constexpr unsigned kInternalOpCount = kInternalOpEnd;

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
    uint32_t ft_gas;  // conditional branches: static gas of the fall-through block
    struct {
      uint16_t caller_slots;  // the calling function's frame size
      uint16_t zero_end;      // the callee's FuncCode::zero_end
    } frame;                  // CALL
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
  // `code` with superinstructions: same length, same indices and fields, only
  // some opcodes changed. The untraced interpreter runs it; the tracer and
  // the JIT read `code`.
  std::vector<Insn> fused;
  std::vector<uint16_t> reg_slot;  // register index -> first slot
  uint32_t frame_slots = 0;        // 8-byte slots for all registers
  uint32_t param_slots = 0;        // params occupy slots [0, param_slots)
  // Slots [param_slots, zero_end) hold every register that some path may
  // read before writing it: a call zeroes those, the rest are written before
  // they are read (verifier.cpp, slots_read_before_written).
  uint32_t zero_end = 0;
  uint32_t result_slots = 0;
  uint32_t entry_gas = 0;  // static gas of the entry block
  uint32_t block_count = 0;
};

inline constexpr unsigned slots_of(ValType t) {
  return t == ValType::U256 ? 4 : 1;
}

struct Program {
  std::vector<FuncCode> funcs;
  std::vector<const Insn*> entry;        // per function: funcs[f].code.data()
  std::vector<const Insn*> fused_entry;  // per function: funcs[f].fused.data()
  // No frame exceeds kMaxStackSlots / kMaxFrames: with the depth bounded by
  // kMaxFrames, the register stack cannot run out and CALL need not test it.
  bool stack_cannot_overflow = false;
  std::vector<U256> event_topics;         // per event: topic 0
  std::vector<uint32_t> error_selectors;  // per error
};

}  // namespace writ::vm
