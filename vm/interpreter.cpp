// Interpreter entry (run_call) and the computed-goto instantiations of the
// dispatch loop in interpreter_loop.inc.
#include "writ/vm/interpreter.hpp"

#include <openssl/sha.h>

#include <bit>
#include <cstdlib>
#include <cstring>
#include <new>
#include <type_traits>

#include "machine.hpp"
#include "sha256.hpp"
#include "writ/vm/abi.hpp"
#include "writ/vm/ed25519.hpp"
#include "writ/vm/gas.hpp"

static_assert(std::endian::native == std::endian::little,
              "ld64/st64 and register slots assume a little-endian host");

namespace writ::vm {

std::string_view status_name(Status s) {
  switch (s) {
    case Status::Ok:
      return "Ok";
    case Status::Revert:
      return "Revert";
    case Status::OutOfGas:
      return "OutOfGas";
    case Status::Overflow:
      return "Overflow";
    case Status::DivisionByZero:
      return "DivisionByZero";
    case Status::OutOfBounds:
      return "OutOfBounds";
    case Status::CallDepth:
      return "CallDepth";
    case Status::Unreachable:
      return "Unreachable";
    case Status::AssertFailed:
      return "AssertFailed";
    case Status::MemoryLimit:
      return "MemoryLimit";
    case Status::StaticViolation:
      return "StaticViolation";
    case Status::Reentrancy:
      return "Reentrancy";
    case Status::InvalidInput:
      return "InvalidInput";
    case Status::NotPayable:
      return "NotPayable";
    case Status::NoCode:
      return "NoCode";
    case Status::InvalidCode:
      return "InvalidCode";
    case Status::InsufficientBalance:
      return "InsufficientBalance";
    case Status::NotPermitted:
      return "NotPermitted";
  }
  return "Unknown";
}

#define WRIT_LOOP_NAME run_goto
#include "interpreter_loop.inc"
#undef WRIT_LOOP_NAME

namespace {

// Register stacks are reused across calls (one per nesting level per thread):
// allocating 8 MiB per call cost page faults and, unaligned, made the timing
// of 256-bit handlers vary with where the allocation landed.
struct StackPool {
  std::vector<uint64_t*> free;
  ~StackPool() {
    for (uint64_t* p : free) std::free(p);
  }
};
thread_local StackPool t_stacks;

}  // namespace

StackHandle acquire_stack() {
  if (!t_stacks.free.empty()) {
    uint64_t* p = t_stacks.free.back();
    t_stacks.free.pop_back();
    return StackHandle(p);
  }
  // aligned_alloc wants a multiple of the alignment.
  constexpr size_t kBytes =
      (kMaxStackSlots * sizeof(uint64_t) + (kMaxFrames + 1) * sizeof(Frame) + 4095) / 4096 * 4096;
  void* p = std::aligned_alloc(4096, kBytes);
  if (!p) throw std::bad_alloc();
  return StackHandle(static_cast<uint64_t*>(p));
}

void StackRelease::operator()(uint64_t* p) const {
  if (t_stacks.free.size() < 8)
    t_stacks.free.push_back(p);
  else
    std::free(p);
}

void Machine::note_call(const U256& callee, uint32_t selector, ExecResult& r) {
  last_call_failed = r.status != Status::Ok;
  if (!last_call_failed) {
    failed_calls.clear();
    failed_calls_omitted = 0;
    failed_output.clear();
    return;
  }
  failed_calls = std::move(r.calls);
  failed_calls_omitted = r.calls_omitted;
  if (failed_calls.size() < kMaxFailedCalls) {
    FailedCall fc;
    fc.callee = callee;
    fc.selector = selector;
    fc.status = r.status;
    fc.func = r.func;
    fc.pc = r.pc;
    fc.detail = r.detail.substr(0, kMaxFailedCallDetail);
    failed_calls.push_back(std::move(fc));
  } else {
    ++failed_calls_omitted;
  }
  failed_output = std::move(r.output);
}

namespace {

// The entry checks' failures are refusals (host.hpp): the gas comes back.
ExecResult fail(Status s, int64_t gas_left, std::string detail) {
  ExecResult r;
  r.status = s;
  r.gas_left = keeps_gas(s) || is_refusal(s) ? gas_left : 0;
  r.detail = std::move(detail);
  return r;
}

template <class T, bool kMetered>
void loop_adapter(Machine& m, uint32_t func, Tracer* tracer) {
  if constexpr (std::is_same_v<T, NullTracer>) {
    (void)tracer;
    run_goto<NullTracer, kMetered>(m, func, static_cast<NullTracer*>(nullptr));
  } else {
    run_goto<Tracer, kMetered>(m, func, tracer);
  }
}

}  // namespace

ExecResult run_call(const VerifiedModule& vm, Host& host, const Message& msg, bool metered,
                    LoopFn loop, Tracer* tracer) {
  const Module& mod = vm.module();
  const Program& prog = vm.program();
  if (msg.gas < 0) return fail(Status::OutOfGas, 0, "negative gas");
  if (msg.input.size() < 4)
    return fail(Status::InvalidInput, msg.gas,
                "input of " + std::to_string(msg.input.size()) + " bytes has no 4-byte selector");
  uint32_t selector = (uint32_t{msg.input[0]} << 24) | (uint32_t{msg.input[1]} << 16) |
                      (uint32_t{msg.input[2]} << 8) | msg.input[3];
  const Export* ex = mod.find_selector(selector);
  if (!ex) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "no exported function has selector 0x%08x", selector);
    return fail(Status::InvalidInput, msg.gas, buf);
  }
  const bool is_constructor = ex->name == kConstructorName;
  if (is_constructor && !msg.is_deploy)
    return fail(Status::InvalidInput, msg.gas,
                "the constructor runs only when the contract is deployed");
  if (!is_constructor && msg.is_deploy)
    return fail(Status::InvalidInput, msg.gas, "a deploy runs the constructor, not " + ex->name);
  if (!msg.value.is_zero() && !(ex->flags & kExportPayable))
    return fail(Status::NotPayable, msg.gas, ex->name + " is not payable");
  if (msg.depth > kMaxCallDepth) return fail(Status::CallDepth, msg.gas, "nested call depth");
  if (!(ex->flags & kExportReentrant)) {
    for (const Message* p = msg.parent; p; p = p->parent)
      if (p->self == msg.self)
        return fail(
            Status::Reentrancy, msg.gas,
            ex->name +
                ": the contract is already on the call stack and the function is not reentrant");
  }
  const Function& fn = mod.functions[ex->func];
  // The arguments are checked before anything is copied, and their buffers
  // paid for before they are: a refused input costs its checks alone (it
  // gives all its gas back), and one that passes copies no more than its
  // gas pays for. Copying first let a call whose last argument did not fit
  // copy megabytes (several arguments pointing at one region) for nothing.
  auto words = abi_check(fn.params, msg.input.subspan(4));
  if (!words.ok())
    return fail(Status::InvalidInput, msg.gas,
                "arguments of " + ex->name + ": " + words.error().message + " (input byte " +
                    std::to_string(words.error().offset + 4) + ")");
  const FuncCode& fc = prog.funcs[ex->func];
  // Entry block gas, and memory for buffer arguments.
  const uint64_t max_words = static_cast<uint64_t>(INT64_MAX / kGasMemoryWord) - fc.entry_gas;
  if (metered && (words.value() > max_words ||
                  static_cast<int64_t>(fc.entry_gas + kGasMemoryWord * words.value()) > msg.gas)) {
    ExecResult r = fail(Status::OutOfGas, 0, "");
    r.func = ex->func;
    return r;
  }
  const int64_t entry = static_cast<int64_t>(fc.entry_gas + kGasMemoryWord * words.value());
  // Buffers go from the input straight into the callee's memory: a copy on
  // the C++ heap between (fresh pages from the kernel for each large one)
  // made a megabyte argument cost several times its gas in time.
  auto args = abi_decode_views(fn.params, msg.input.subspan(4));
  if (!args.ok())  // abi_check passed: not reached
    return fail(Status::InvalidInput, msg.gas,
                "arguments of " + ex->name + ": " + args.error().message);

  Machine m(vm, host, msg);
  m.is_static = msg.is_static || (ex->flags & kExportView);
  m.gas = msg.gas;
  m.heap.emplace_back();  // handle 0: the empty buffer
  m.stack = acquire_stack();
  if (metered) m.gas -= entry;
  uint64_t* regs = m.stack.get();
  // Not for an empty frame: glibc's memset of 0 bytes is a masked store,
  // which costs a microcode assist (about 200 ns) when the page was never
  // touched, as a callee's stack page may be.
  if (fc.frame_slots != 0) std::memset(regs, 0, fc.frame_slots * sizeof(uint64_t));
  for (size_t i = 0; i < args->size(); ++i) {
    const ArgView& v = (*args)[i];
    uint64_t* slot = regs + fc.reg_slot[i];
    if (v.type == ValType::U64) {
      *slot = v.word.low64();
    } else if (v.type == ValType::U256) {
      Machine::store_w(slot, v.word);
    } else {
      uint64_t h = m.new_buffer(v.bytes.data(), v.bytes.size());
      if (h == 0 && !v.bytes.empty()) return fail(Status::MemoryLimit, 0, "argument buffers");
      *slot = h;
    }
  }

  // The host's memory (journal, logs, overlay) grows at most a few bytes per
  // unit of gas (docs/gas.md, "Host memory"), so a call within the block gas
  // limit cannot exhaust a node's memory. An embedder that passes far more
  // gas, or a machine that is out of memory for other reasons, gets a
  // MemoryLimit trap rather than an abort: the host reverts the call's frame
  // as for any trap (its journal entries are pushed with the strong
  // guarantee, so the state is never half-changed).
  try {
    loop(m, ex->func, tracer);
  } catch (const std::bad_alloc&) {
    m.result = ExecResult{};
    m.result.status = Status::MemoryLimit;
    m.result.detail = "out of memory";
    m.result.func = ex->func;
  }

  ExecResult r = std::move(m.result);
  r.gas_left = metered ? (keeps_gas(r.status) ? m.gas : 0) : msg.gas;
  // A revert that passes on the last nested call's failure carries its trace.
  if (r.status == Status::Revert && m.last_call_failed && m.failed_handle != 0 &&
      m.revert_handle == m.failed_handle && r.output == m.failed_output) {
    r.calls = std::move(m.failed_calls);
    r.calls_omitted = m.failed_calls_omitted;
  }
  if (r.status == Status::Ok) {
    std::vector<Value> results;
    const uint64_t* p = regs + m.ret_slot;
    for (ValType t : fn.results) {
      if (t == ValType::U64)
        results.push_back(Value::u64(*p));
      else if (t == ValType::U256)
        results.push_back(Value::u256(Machine::load_w(p)));
      else
        results.push_back(Value::buf(Machine::bytes(m.heap[*p])));
      p += slots_of(t);
    }
    r.output = abi_encode(results);
  }
  return r;
}

ExecResult execute(const VerifiedModule& module, Host& host, const Message& msg) {
  return run_call(module, host, msg, true, &loop_adapter<NullTracer, true>, nullptr);
}

ExecResult execute(const VerifiedModule& module, Host& host, const Message& msg, Tracer& tracer) {
  return run_call(module, host, msg, true, &loop_adapter<Tracer, true>, &tracer);
}

ExecResult execute_unmetered(const VerifiedModule& module, Host& host, const Message& msg) {
  return run_call(module, host, msg, false, &loop_adapter<NullTracer, false>, nullptr);
}

ExecResult execute_switch_dispatch(const VerifiedModule& module, Host& host, const Message& msg) {
  return run_call(module, host, msg, true, switch_loop(), nullptr);
}

}  // namespace writ::vm
