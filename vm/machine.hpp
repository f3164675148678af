// State of one contract call inside the interpreter. Internal to writ_vm.
//
// Invariants relied on by the dispatch loop (interpreter_loop.inc):
//   1. a register of type buf always holds a valid handle into `heap` when
//      it is read (registers start at zero or are written before they are
//      read, program.hpp invariant 6; handle 0 is the empty buffer; only
//      instructions that create buffers write new handles);
//   2. `mem_used` is the sum of the capacities granted to buffers and never
//      exceeds kMaxMemory;
//   3. frames occupy consecutive slot ranges of `stack`, the current one
//      starting at `regs`.
#pragma once

#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "program.hpp"
#include "writ/vm/buffer.hpp"
#include "writ/vm/gas.hpp"
#include "writ/vm/host.hpp"
#include "writ/vm/interpreter.hpp"

namespace writ::vm {

struct StackRelease {
  void operator()(uint64_t* p) const;  // back to the thread's pool
};
using StackHandle = std::unique_ptr<uint64_t[], StackRelease>;
// The index of the function whose code holds `ip` (traps and the tracer:
// the interpreter does not keep it in a register).
inline uint32_t function_of(const Program& prog, const Insn* ip) {
  for (size_t f = 0; f < prog.funcs.size(); ++f) {
    const std::vector<Insn>& c = prog.funcs[f].code;
    if (ip >= c.data() && ip < c.data() + c.size()) return static_cast<uint32_t>(f);
    const std::vector<Insn>& fused = prog.funcs[f].fused;
    if (ip >= fused.data() && ip < fused.data() + fused.size()) return static_cast<uint32_t>(f);
  }
  return 0;  // unreachable: ip is always in some function's code
}

// A caller's record: where it resumes. The CALL before it (ret_ip[-1]) says
// the rest: the caller's frame starts `frame.caller_slots` slots below the
// callee's, and its results go to slot `c` of it.
// An out-of-bounds trap's detail: "<what> <at> in a buffer of <size> bytes".
// Out of line: the loop's handlers keep only the call.
[[gnu::cold, gnu::noinline]] inline std::string out_of_bounds(const char* what, uint64_t at,
                                                              size_t size) {
  return std::string(what) + " " + std::to_string(at) + " in a buffer of " + std::to_string(size) +
         " bytes";
}

struct Frame {
  const Insn* ret_ip;
};

// kMaxStackSlots register slots, page-aligned, then room for kMaxFrames
// call records (frames_of) and a sentinel before them; contents unspecified.
StackHandle acquire_stack();
inline Frame* frames_of(uint64_t* stack) {
  return reinterpret_cast<Frame*>(stack + kMaxStackSlots);
}

struct Machine {
  Machine(const VerifiedModule& m, Host& h, const Message& msg_)
      : vm(m), prog(m.program()), mod(m.module()), host(h), msg(msg_) {}

  const VerifiedModule& vm;
  const Program& prog;
  const Module& mod;
  Host& host;
  const Message& msg;

  int64_t gas = 0;
  bool is_static = false;
  // The slot of this contract that the last sload or sstore reached, and
  // therefore accessed (Host::first_access) in this block: a write after
  // the read of the same slot, as in `balance[a] -= x`, need not ask the
  // host again. Accesses only accumulate while a call runs (a failed
  // nested call keeps its own; only a new top call, or a host restore
  // around a whole call, takes them back), so the slot stays accessed.
  bool warm_valid = false;
  U256 warm_key{};
  // Frees the call's buffers in the thread's arena after `heap` is destroyed
  // (so declared before it).
  BufferScope buffer_scope;
  BufferHeap heap;  // handle -> buffer; heap[0] is the empty buffer
  uint64_t mem_used = 0;
  StackHandle stack;  // the registers, then the call records (frames_of)

  // Filled by the loop: status, trap location, revert data; on Ok the slot of
  // the first result in the exported function's frame.
  ExecResult result;
  uint32_t ret_slot = 0;

  // The last nested call, when it failed: the trace it would pass on
  // (its own `calls` and itself) and the revert data it handed this call.
  // run_call attaches the trace to the result if this call reverts with
  // exactly that data (ExecResult::calls).
  bool last_call_failed = false;
  std::vector<FailedCall> failed_calls;
  uint32_t failed_calls_omitted = 0;
  std::vector<uint8_t> failed_output;
  // The buffer that holds the last failed call's data (its handle), and the
  // one the call reverted with: a revert passes a failure on when they are
  // the same buffer, not when its own data happens to equal the failure's
  // (a caught failure, then an error of the caller's with the same fields).
  uint64_t failed_handle = 0;
  uint64_t revert_handle = 0;
  // After each nested call: records a failed one (taking its trace and
  // output), forgets the last one on success. Out of line: not on the hot path.
  void note_call(const U256& callee, uint32_t selector, ExecResult& r);

  // Allocates a buffer; returns its handle, or 0 when the memory bound would
  // be passed (the caller then traps MemoryLimit).
  uint64_t new_buffer(size_t size) {
    if (size > kMaxMemory - mem_used) return 0;
    mem_used += size;
    heap.emplace_back(size, uint8_t{0});
    return heap.size() - 1;
  }
  uint64_t new_buffer(const uint8_t* data, size_t size) {
    if (size > kMaxMemory - mem_used) return 0;
    mem_used += size;
    heap.emplace_back(data, data + size);
    return heap.size() - 1;
  }

  // A buffer's bytes, copied out of the arena (results, logs, errors).
  static std::vector<uint8_t> bytes(const Buffer& b) { return {b.begin(), b.end()}; }

  // Limb by limb through general registers (scalar_limb): a 32-byte copy
  // compiles to 16-byte moves that stall on store-to-load forwarding against
  // the 8-byte stores of the arithmetic.
  static U256 load_w(const uint64_t* p) {
    return U256{{scalar_limb(p), scalar_limb(p + 1), scalar_limb(p + 2), scalar_limb(p + 3)}};
  }
  static void store_w(uint64_t* p, const U256& v) {
    for (int i = 0; i < 4; ++i) p[i] = scalar_limb(&v.limb[i]);
  }
};

// Marks the running contract's slot `key` as accessed and charges its first
// access in the block (Host::first_access); false when that leaves the
// gas below zero. The mark is made unmetered too: it is state of the block.
template <bool kMetered>
inline bool charge_slot_access(Machine& m, const U256& key, int64_t& gas) {
  if (m.host.first_access(m.msg.self, key) && kMetered) {
    gas -= kGasSlotFirstAccess;
    return gas >= 0;
  }
  return true;
}

// Storage reads and writes, the host instructions that contracts run most:
// inline in the interpreter's loop (a call of exec_host_op and its switch
// cost a token transfer about 3% of its time) and in exec_host_op.
// A read marks its slot and reads it in one host call (Host::sload_access);
// a write to the slot reached last skips the mark (Machine::warm_key).
template <bool kMetered>
inline Status op_sload(Machine& m, uint64_t* regs, const Insn& in, int64_t& gas) {
  const U256 key = Machine::load_w(regs + in.b);
  bool first = false;
  const U256 value = m.host.sload_access(m.msg.self, key, first);
  m.warm_valid = true;
  m.warm_key = key;
  if (first && kMetered) {
    gas -= kGasSlotFirstAccess;
    if (gas < 0) return Status::OutOfGas;
  }
  Machine::store_w(regs + in.a, value);
  return Status::Ok;
}
template <bool kMetered>
inline Status op_sstore(Machine& m, uint64_t* regs, const Insn& in, int64_t& gas) {
  if (m.is_static) return Status::StaticViolation;
  const U256 key = Machine::load_w(regs + in.a);
  if (!m.warm_valid || key != m.warm_key) {
    if (!charge_slot_access<kMetered>(m, key, gas)) return Status::OutOfGas;
    m.warm_valid = true;
    m.warm_key = key;
  }
  const StorageChange ch = m.host.sstore(m.msg.self, key, Machine::load_w(regs + in.b));
  int64_t cost = 0;
  switch (ch) {
    case StorageChange::Added:
      cost = kGasStorageAdded;
      break;
    case StorageChange::Modified:
      cost = kGasStorageModified;
      break;
    case StorageChange::Deleted:
      cost = kGasStorageDeleted;
      break;
    case StorageChange::Unchanged:
      break;
  }
  if constexpr (kMetered) {
    gas -= cost;
    if (gas < 0) return Status::OutOfGas;
  }
  return Status::Ok;
}

// The instructions that reach outside the registers (is_host_op: the host,
// allocating buffer ops, events, errors, hashing, signatures), written once
// for the interpreter and the JIT (ops_host.cpp). Executes `in` on the frame
// at `regs`, charging its dynamic gas from `gas`; a trap's status is
// returned (its text in `detail`), Ok otherwise.
template <bool kMetered>
Status exec_host_op(Machine& m, uint64_t* regs, const Insn& in, int64_t& gas, std::string& detail);
bool is_host_op(uint16_t op);
// The buffer reads and writes (blen, ld8, st8, ld64, st64, ldw, stw) and the
// call's context (caller, self, callvalue, blocknum, timestamp, chainid,
// gasleft, origin), as the interpreter runs them inline: for the JIT.
Status exec_register_op(Machine& m, uint64_t* regs, const Insn& in, int64_t gas,
                        std::string& detail);

// The dispatch loop runs function `func`, whose registers are already set up
// at stack[0..), and leaves status, pc and (on Ok) the result slots in `m`.
// It is instantiated per tracer and metering mode, with computed goto
// (interpreter.cpp) and with a switch (interpreter_switch.cpp).
struct NullTracer {};  // the untraced instantiation: every trace hook compiles away
using LoopFn = void (*)(Machine& m, uint32_t func, Tracer* tracer);
LoopFn switch_loop();

// Shared entry: selects the export by selector, applies the payable, static
// and reentrancy rules, decodes the arguments into registers, runs `loop`
// and encodes the results.
ExecResult run_call(const VerifiedModule& vm, Host& host, const Message& msg, bool metered,
                    LoopFn loop, Tracer* tracer);

}  // namespace writ::vm
