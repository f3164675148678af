// The JIT against the interpreter on programs the fuzzer's input decides
// (tests/vm/random_program.hpp reads its choices from the input's bytes):
// each program is assembled, deployed on two hosts, compiled, and called a
// few times with arguments and gas limits from the input on both tiers;
// any difference in status, function, pc, gas left, output, detail,
// storage or logs aborts with both results printed.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "random_program.hpp"
#include "writ/vm/abi.hpp"
#include "writ/vm/assembler.hpp"
#include "writ/vm/interpreter.hpp"
#include "writ/vm/jit.hpp"
#include "writ/vm/memory_host.hpp"

using namespace writ::vm;

namespace {

// The input's bytes, eight at a time, then a generator seeded from them.
struct Source {
  const uint8_t* data;
  size_t size;
  size_t at = 0;
  uint64_t state = 0x9e3779b97f4a7c15ull;
  uint64_t next() {
    if (at < size) {
      uint64_t v = 0;
      const size_t n = std::min<size_t>(8, size - at);
      std::memcpy(&v, data + at, n);
      at += n;
      state = state * 6364136223846793005ull + v + 1442695040888963407ull;
      return v;
    }
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return state ^ (state >> 29);
  }
};

[[noreturn]] void mismatch(const char* what, const std::string& text, const ExecResult& a,
                           const ExecResult& b) {
  std::fprintf(stderr,
               "JIT and interpreter differ in %s\n%s\ninterpreter: %s func %u pc %u gas %lld "
               "%s\njit: %s func %u pc %u gas %lld %s\n",
               what, text.c_str(), std::string(status_name(a.status)).c_str(), a.func, a.pc,
               static_cast<long long>(a.gas_left), a.detail.c_str(),
               std::string(status_name(b.status)).c_str(), b.func, b.pc,
               static_cast<long long>(b.gas_left), b.detail.c_str());
  std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static std::unique_ptr<jit::Compiler> compiler = jit::Compiler::create();
  if (!compiler) return 0;
  Source src{data, size};
  test::RandomProgram gen([&src] { return src.next(); });
  const std::string text = gen.program(5 + static_cast<int>(gen.pick(60)));
  auto mod = assemble(text);
  if (!mod.ok()) return 0;
  const std::vector<uint8_t> bytes = encode_module(mod.value());
  const U256 self = U256::from_u64(0xC0DE);
  MemoryHost ha, hb;
  auto va = ha.deploy(self, bytes);
  auto vb = hb.deploy(self, bytes);
  if (!va.ok() || !vb.ok()) return 0;  // the verifier refused it
  std::string why;
  auto code = compiler->compile(*va.value(), &why);
  if (!code) {
    std::fprintf(stderr, "the JIT did not compile a verified module: %s\n%s\n", why.c_str(),
                 text.c_str());
    std::abort();
  }
  const Export* ex = va.value()->module().find_export("f");
  if (!ex) return 0;
  for (int k = 0; k < 4; ++k) {
    auto word = [&] {
      switch (gen.pick(4)) {
        case 0:
          return U256::from_u64(gen.pick(10));
        case 1:
          return U256{{gen.rng(), gen.rng(), gen.rng(), gen.rng()}};
        case 2:
          return sub(U256::zero(), U256::from_u64(gen.pick(3)));
        default:
          return U256::from_u64(gen.rng());
      }
    };
    std::vector<Value> args = {Value::u64(gen.pick(3) ? gen.pick(100) : gen.rng()),
                               Value::u64(gen.rng() % 5), Value::u256(word()), Value::u256(word())};
    const std::vector<uint8_t> input = call_input(ex->selector, args);
    Message msg;
    msg.caller = U256::from_u64(0xCA11E2);
    msg.self = self;
    msg.input = input;
    msg.gas = k == 0 ? 50'000 : static_cast<int64_t>(gen.pick(3'000));
    ExecResult a = execute(*va.value(), ha, msg);
    ExecResult b = jit::execute(*code, *va.value(), hb, msg);
    if (a.status != b.status) mismatch("status", text, a, b);
    if (a.func != b.func || a.pc != b.pc) mismatch("trap location", text, a, b);
    if (a.gas_left != b.gas_left) mismatch("gas", text, a, b);
    if (a.output != b.output) mismatch("output", text, a, b);
    if (a.detail != b.detail) mismatch("detail", text, a, b);
    if (ha.storage_size() != hb.storage_size()) mismatch("storage", text, a, b);
    for (uint64_t key = 0; key < 8; ++key)
      if (ha.sload(self, U256::from_u64(key)) != hb.sload(self, U256::from_u64(key)))
        mismatch("storage", text, a, b);
    if (ha.logs().size() != hb.logs().size()) mismatch("logs", text, a, b);
    for (size_t i = 0; i < ha.logs().size(); ++i)
      if (ha.logs()[i].topics != hb.logs()[i].topics || ha.logs()[i].data != hb.logs()[i].data)
        mismatch("logs", text, a, b);
  }
  return 0;
}
