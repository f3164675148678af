// The interpreter: runs a verified module's exported function for one Message.
//
//   auto vm = load_module(bytes);                     // verify once
//   ExecResult r = execute(*vm.value(), host, msg);   // run many times
//
// The input is selector ++ ABI arguments (abi.hpp); the output on Ok is the
// ABI-encoded results, on Revert the revert data. Every other status is a
// trap with the function and pc where it happened; see host.hpp for which
// traps keep unused gas. The interpreter never throws and never reads or
// writes out of bounds, whatever the input, because the verifier proved the
// code's invariants (vm/program.hpp) and every data-dependent access is
// checked here.
//
// Resource bounds (per call of a contract unless said otherwise):
#pragma once

#include <cstdint>

#include "writ/vm/buffer.hpp"
#include "writ/vm/host.hpp"
#include "writ/vm/verifier.hpp"

namespace writ::vm {

inline constexpr uint32_t kMaxFrames = 1024;          // internal call depth
inline constexpr uint32_t kMaxStackSlots = 1u << 20;  // register slots over all frames (8 MiB)
inline constexpr uint32_t kMaxCallDepth = 64;         // nested contract calls per transaction
inline constexpr uint64_t kMaxMemory = 32ull << 20;   // buffer bytes allocated

// What a tracer sees before each instruction executes (the kOpGas pseudo-
// instructions are not reported).
struct TraceStep {
  uint32_t func;
  uint32_t pc;
  uint8_t opcode;
  uint32_t frame_depth;  // 0 in the exported function
  int64_t gas_left;      // after the current block's static charge
  const uint64_t* regs;  // the frame's register slots (layout: VerifiedModule program)
  // The static gas charged since the previous step: the block this step
  // enters (and, at a function's first step, its entry charge); 0 inside a
  // block. The rest of what gas_left fell by since the previous step is that
  // step's dynamic gas (storage, hashing by length, calls, ...).
  int64_t static_gas;
  // The call's buffers by handle (a buf register holds a handle; 0 is the
  // empty buffer), as they are at this step.
  const BufferHeap* buffers;
};

// A tracer for tools (the debugger). The interpreter is compiled separately for
// the traced and untraced cases, so tracing costs nothing when it is off.
class Tracer {
 public:
  virtual ~Tracer() = default;
  virtual void on_step(const TraceStep& step) = 0;
};

[[nodiscard]] ExecResult execute(const VerifiedModule& module, Host& host, const Message& msg);
[[nodiscard]] ExecResult execute(const VerifiedModule& module, Host& host, const Message& msg,
                                 Tracer& tracer);

// For measurement and differential tests only: the same interpreter without
// gas metering (gas_left is returned unchanged), and the portable switch
// dispatch in place of computed goto.
[[nodiscard]] ExecResult execute_unmetered(const VerifiedModule& module, Host& host,
                                           const Message& msg);
[[nodiscard]] ExecResult execute_switch_dispatch(const VerifiedModule& module, Host& host,
                                                 const Message& msg);

}  // namespace writ::vm
