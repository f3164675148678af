// What compiled code shares with the rest of the JIT tier (internal to
// vm/jit/): the state it reads and writes besides the registers, the trap
// statuses' codes, and the helpers it calls by name.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

#include "machine.hpp"

namespace writ::vm::jit {

// What compiled code reads and writes besides the registers. Plain data:
// the IR reaches the fields by their offsets.
struct JitState {
  int64_t gas;
  uint32_t trap_func;
  uint32_t trap_pc;  // a trap's pc; after the outermost RET, that RET's pc
  uint64_t* stack_end;
  Machine* m;
  std::string* detail;
  uint32_t out_of_memory;  // a helper caught an allocation failure
  uint32_t metered;        // 0: the code was compiled without gas (benchmarks)
  BufferHeap* heap;        // &m->heap: buffers by handle
};
static_assert(std::is_standard_layout_v<JitState>);

using JitFn = uint32_t (*)(JitState*, uint64_t*);

// The pc of an out-of-gas trap that compiled code found late: a test of
// the gas came after the charge that ran it out (docs/jit.md, "Gas tested
// late"), so where that charge was is not known; jit::execute runs the call
// again on the interpreter, which says. No code is this long.
constexpr uint32_t kUnplacedPc = 0xffffffff;
// The longest base case (register computations and a return) that a
// recursion's guard inlines (Lowering::lower_guard).
constexpr size_t kMaxGuardInsns = 8;

constexpr uint32_t st_code(Status s) {
  return static_cast<uint32_t>(s);
}

// A helper that compiled code calls: the name the lowering calls it by and
// its address, for the JIT's symbol table (jit_helpers.cpp).
struct HelperSymbol {
  const char* name;
  void* address;
};
std::span<const HelperSymbol> helper_symbols();

}  // namespace writ::vm::jit
