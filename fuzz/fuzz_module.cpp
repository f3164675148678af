// libFuzzer target over the module loader, the verifier and the interpreter.
//
// Input: a module, optionally followed by argument bytes:
//
//   module bytes                       the whole input decodes as a module, or
//   module bytes ++ tail ++ u8 n       n = tail length (1..255), when the
//                                      whole input does not decode
//
// The seed corpus (fuzz/corpus/module/*.wbc) is plain modules; the trailer
// form lets the fuzzer vary the call arguments without touching the module.
// Argument values come from a generator seeded by the tail (or, without one,
// by the module's code hash), biased towards boundary values.
//
// Mutation: half of the mutants come from libFuzzer's byte-level mutators
// (they exercise the loader's error paths); the other half are structural:
// the input is decoded, one function's code, register list or a constant is
// mutated, or the argument tail, and the module is re-encoded, so it stays
// well-formed and the time goes to the verifier and the interpreter.
//
// For every input that decodes, it checks:
//   1. encode_module(decode_module(b)) == b                (one encoding)
// and for every module that also verifies:
//   2. assemble(disassemble(m)) == m                        (text round trip)
//   3. for each export, called with derived arguments and a gas cap, the
//      computed-goto loop, the switch loop and the traced loop agree on
//      status, gas left, output, trap location and the logs they leave.
// A broken invariant calls abort(): libFuzzer reports it as a crash.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <span>
#include <string>
#include <vector>

#include "writ/vm/abi.hpp"
#include "writ/vm/assembler.hpp"
#include "writ/vm/interpreter.hpp"
#include "writ/vm/memory_host.hpp"
#include "writ/vm/module.hpp"
#include "writ/vm/opcodes.hpp"
#include "writ/vm/verifier.hpp"

namespace {

using namespace writ::vm;

constexpr int64_t kGasCap = 100'000;
const U256 kContract = U256::from_u64(0xC0DE);
const U256 kPeer = U256::from_u64(0xC0DF);  // a second copy of the module, for xcall
const U256 kCaller = U256::from_u64(0xCA11E2);

[[noreturn]] void fail(const char* what, const std::string& detail) {
  std::fprintf(stderr, "fuzz_module: invariant broken: %s\n%s\n", what, detail.c_str());
  std::abort();
}

// splitmix64 over a seed folded from bytes: deterministic per input.
class Gen {
 public:
  explicit Gen(std::span<const uint8_t> seed) {
    for (uint8_t b : seed) s_ = (s_ ^ b) * 0x100000001b3ull;
  }
  uint64_t next() {
    uint64_t z = (s_ += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
  uint64_t below(uint64_t n) { return next() % n; }

  uint64_t u64() {
    static const uint64_t kEdges[] = {0,
                                      1,
                                      2,
                                      7,
                                      8,
                                      31,
                                      32,
                                      33,
                                      63,
                                      64,
                                      93,
                                      94,
                                      255,
                                      256,
                                      0x7fffffffffffffffull,
                                      0x8000000000000000ull,
                                      ~0ull};
    switch (below(3)) {
      case 0:
        return kEdges[below(std::size(kEdges))];
      case 1:
        return below(100);
      default:
        return next();
    }
  }
  U256 u256() {
    switch (below(4)) {
      case 0:
        return U256::from_u64(u64());
      case 1:
        return U256::from_i64(-static_cast<int64_t>(below(4)));
      case 2: {
        static const U256 kEdges[] = {U256::zero(), U256::max(), U256::signed_min(),
                                      U256::signed_max(), U256{{0, 1, 0, 0}}};
        return kEdges[below(std::size(kEdges))];
      }
      default:
        return U256{{next(), next(), next(), next()}};
    }
  }
  std::vector<uint8_t> bytes() {
    static const size_t kLens[] = {0, 1, 4, 31, 32, 33, 64, 100};
    std::vector<uint8_t> b(kLens[below(std::size(kLens))]);
    for (auto& x : b) x = static_cast<uint8_t>(next());
    return b;
  }

 private:
  uint64_t s_ = 0xcbf29ce484222325ull;
};

std::string hex(std::span<const uint8_t> b) {
  return format_value(Value::buf({b.begin(), b.end()}));
}

std::string describe(const ExecResult& r) {
  return std::string(status_name(r.status)) + " gas_left=" + std::to_string(r.gas_left) +
         " func=" + std::to_string(r.func) + " pc=" + std::to_string(r.pc) +
         " output=" + hex(r.output) + " detail=" + r.detail;
}

struct Run {
  ExecResult result;
  std::vector<MemoryHost::Log> logs;
};

class CountingTracer : public Tracer {
 public:
  void on_step(const TraceStep&) override { ++steps; }
  uint64_t steps = 0;
};

enum class Dispatch { Goto, Switch, Traced };

// One call in a fresh host, so every dispatcher starts from the same state.
Run run_once(std::span<const uint8_t> module, std::span<const uint8_t> input, const U256& value,
             Dispatch how) {
  MemoryHost host;
  host.block_context() = BlockContext{7, 1'700'000'000, 42, kCaller};
  auto vm = host.deploy(kContract, module);
  if (!vm.ok()) fail("deploy failed for a module that verified", vm.error().to_string());
  if (!host.deploy(kPeer, module).ok()) fail("second deploy failed", "");
  host.set_balance(kCaller, U256::from_u64(1'000'000));
  host.set_balance(kContract, U256::from_u64(1'000));
  host.set_balance(kPeer, U256::from_u64(1'000));

  Message msg;
  msg.caller = kCaller;
  msg.self = kContract;
  msg.value = value;
  msg.input = input;
  msg.gas = kGasCap;
  // The same steps MemoryHost::call takes around execute: value first, then
  // the code, and no state left behind by a failed call.
  Run out;
  size_t cp = host.checkpoint();
  if (!host.transfer(kCaller, kContract, value)) fail("caller cannot pay the value", "");
  CountingTracer tracer;
  switch (how) {
    case Dispatch::Goto:
      out.result = execute(*vm.value(), host, msg);
      break;
    case Dispatch::Switch:
      out.result = execute_switch_dispatch(*vm.value(), host, msg);
      break;
    case Dispatch::Traced:
      out.result = execute(*vm.value(), host, msg, tracer);
      break;
  }
  if (out.result.status != Status::Ok) host.revert_to(cp);
  out.logs = host.logs();
  if (out.result.gas_left < 0 || out.result.gas_left > kGasCap)
    fail("gas_left outside [0, cap]", describe(out.result));
  if (!keeps_gas(out.result.status) && !is_refusal(out.result.status) && out.result.gas_left != 0)
    fail("a trap that consumes all gas left some", describe(out.result));
  return out;
}

void compare(const char* which, const Run& a, const Run& b) {
  const ExecResult& x = a.result;
  const ExecResult& y = b.result;
  bool same = x.status == y.status && x.gas_left == y.gas_left && x.output == y.output;
  if (same && x.status != Status::Ok) same = x.func == y.func && x.pc == y.pc;
  if (same) same = a.logs.size() == b.logs.size();
  for (size_t i = 0; same && i < a.logs.size(); ++i)
    same = a.logs[i].account == b.logs[i].account && a.logs[i].topics == b.logs[i].topics &&
           a.logs[i].data == b.logs[i].data;
  if (!same) fail(which, "computed goto: " + describe(x) + "\nother:         " + describe(y));
}

void exercise(const VerifiedModule& vm, std::span<const uint8_t> module, Gen& gen) {
  const Module& m = vm.module();
  for (const Export& ex : m.exports) {
    const Function& fn = m.functions[ex.func];
    std::vector<Value> args;
    for (ValType t : fn.params) {
      if (t == ValType::U64)
        args.push_back(Value::u64(gen.u64()));
      else if (t == ValType::U256)
        args.push_back(Value::u256(gen.u256()));
      else
        args.push_back(Value::buf(gen.bytes()));
    }
    std::vector<uint8_t> input = call_input(ex.selector, args);
    // Now and then a malformed argument list: truncated or with a bad word.
    switch (gen.below(16)) {
      case 0:
        input.resize(4 + gen.below(input.size() - 3));
        break;
      case 1:
        if (input.size() > 4) input[4 + gen.below(input.size() - 4)] ^= 0xff;
        break;
      default:
        break;
    }
    U256 value = (ex.flags & kExportPayable) && gen.below(2) ? U256::from_u64(gen.below(1000))
                                                             : U256::zero();
    Run a = run_once(module, input, value, Dispatch::Goto);
    Run b = run_once(module, input, value, Dispatch::Switch);
    compare("computed-goto and switch dispatch disagree", a, b);
    Run c = run_once(module, input, value, Dispatch::Traced);
    compare("traced and untraced interpreter disagree", a, c);
    if (a.result.status == Status::Ok) {
      auto out = abi_decode(fn.results, a.result.output);
      if (!out.ok())
        fail("the output of an Ok call does not decode as its results", describe(a.result));
    }
  }
}

// Splits an input into module and argument tail (see the top of the file).
struct Split {
  std::span<const uint8_t> module, tail;
  Result<Module> decoded = Error{};
};

Split split_input(const uint8_t* data, size_t size) {
  std::span<const uint8_t> in(data, size);
  Split s{in, {}, decode_module(in)};
  if (s.decoded.ok() || size < 2 || data[size - 1] == 0 || data[size - 1] > size - 1) return s;
  size_t n = data[size - 1];
  s.module = in.first(size - 1 - n);
  s.tail = in.subspan(size - 1 - n, n);
  s.decoded = decode_module(s.module);
  return s;
}

}  // namespace

extern "C" size_t LLVMFuzzerMutate(uint8_t* data, size_t size, size_t max_size);

extern "C" size_t LLVMFuzzerCustomMutator(uint8_t* data, size_t size, size_t max_size,
                                          unsigned seed) {
  std::minstd_rand rng(seed);
  if (rng() % 2 == 0) return LLVMFuzzerMutate(data, size, max_size);
  Split s = split_input(data, size);
  if (!s.decoded.ok()) return LLVMFuzzerMutate(data, size, max_size);
  Module m = std::move(s.decoded.value());
  std::vector<uint8_t> tail(s.tail.begin(), s.tail.end());
  // Mutates `bytes` in place with libFuzzer's mutators, growing it by at most `room`.
  auto mutate = [](std::vector<uint8_t>& bytes, size_t room, size_t limit) {
    size_t n = bytes.size();
    bytes.resize(std::min(n + room, limit));
    if (bytes.empty()) return;
    bytes.resize(LLVMFuzzerMutate(bytes.data(), std::min(n, bytes.size()), bytes.size()));
  };
  unsigned what = rng() % 8;
  if (what >= 5 || m.functions.empty()) {
    // The arguments: a tail of 1..255 bytes.
    if (tail.empty()) tail.resize(1 + rng() % 64);
    mutate(tail, 32, 255);
    if (tail.empty()) tail.push_back(static_cast<uint8_t>(rng()));
  } else if (what <= 2) {
    Function& f = m.functions[rng() % m.functions.size()];
    mutate(f.code, 64, kMaxCodeSize);
    if (f.code.empty()) f.code.push_back(static_cast<uint8_t>(Op::UNREACHABLE));
  } else if (what == 3) {
    // Add, drop or retype a register.
    Function& f = m.functions[rng() % m.functions.size()];
    ValType t = static_cast<ValType>(rng() % 3);
    unsigned how = rng() % 3;
    if (how == 0 && f.register_count() < kMaxRegisters)
      f.locals.push_back(t);
    else if (how == 1 && !f.locals.empty())
      f.locals.pop_back();
    else if (!f.locals.empty())
      f.locals[rng() % f.locals.size()] = t;
  } else {
    // Change a constant: a word to a boundary value or random limbs, bytes mutated.
    if (m.constants.empty()) return LLVMFuzzerMutate(data, size, max_size);
    Constant& c = m.constants[rng() % m.constants.size()];
    if (c.kind == Constant::Kind::Bytes) {
      mutate(c.bytes, 64, kMaxBytesConstant);
    } else {
      static const U256 kEdges[] = {U256::zero(),       U256::from_u64(1),  U256::max(),
                                    U256::signed_min(), U256::from_u64(64), U256::from_u64(256)};
      c.word =
          rng() % 2
              ? kEdges[rng() % std::size(kEdges)]
              : U256{{rng() * 0x9e3779b97f4a7c15ull, rng() * 1ull, rng() * 1ull, rng() * 1ull}};
    }
  }
  std::vector<uint8_t> out = encode_module(m);
  if (!tail.empty()) {
    out.insert(out.end(), tail.begin(), tail.end());
    out.push_back(static_cast<uint8_t>(tail.size()));
  }
  if (out.size() > max_size) return LLVMFuzzerMutate(data, size, max_size);
  std::memcpy(data, out.data(), out.size());
  return out.size();
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Split s = split_input(data, size);
  if (!s.decoded.ok()) return 0;
  std::span<const uint8_t> module = s.module;
  std::span<const uint8_t> tail = s.tail;
  auto& decoded = s.decoded;

  // 1. One encoding per module.
  std::vector<uint8_t> re = encode_module(decoded.value());
  if (!std::equal(re.begin(), re.end(), module.begin(), module.end()))
    fail("encode_module(decode_module(b)) != b",
         "input " + hex(module) + "\nre-encoded " + hex(re));

  auto verified = verify(decoded.value(), code_hash(module));
  if (!verified.ok()) {
    // An error names a place inside the module.
    if (verified.error().message.empty()) fail("verifier error without a message", "");
    return 0;
  }

  // 2. Text round trip.
  std::string text = disassemble(decoded.value());
  auto again = assemble(text);
  if (!again.ok()) fail("disassembly does not assemble", again.error().to_string() + "\n" + text);
  if (!(again.value() == decoded.value())) fail("assemble(disassemble(m)) != m", text);
  if (encode_module(again.value()) != re) fail("re-assembled module encodes differently", text);

  // 3. Dispatchers agree.
  Gen gen(tail.empty() ? std::span<const uint8_t>(verified.value()->hash().bytes) : tail);
  exercise(*verified.value(), module, gen);
  return 0;
}
