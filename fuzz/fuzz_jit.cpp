// The JIT against the interpreter on programs the fuzzer's input decides
// (tests/vm/random_program.hpp reads its choices from the input's bytes):
// each program is assembled, deployed on two hosts, compiled, and called a
// few times with arguments and gas limits from the input on both tiers;
// any difference in status, function, pc, gas left, output, detail,
// storage or logs aborts with both results printed. Half the inputs compile
// their program as a large module is compiled.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>

#include "jit_compare.hpp"

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

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static std::unique_ptr<jit::Compiler> compiler = jit::Compiler::create();
  if (!compiler) return 0;
  // The input's last byte, when odd, compiles the program the way a large
  // module is compiled (jit.hpp, kOptimizedFunctionInsns).
  jit::CompileOptions options;
  options.large = size > 0 && (data[size - 1] & 1) != 0;
  Source src{data, size};
  test::RandomProgram gen([&src] { return src.next(); });
  const test::DiffOutcome out = test::compare_random_program(*compiler, gen, options);
  if (!out.mismatch.empty()) {
    std::fputs(out.mismatch.c_str(), stderr);
    std::abort();
  }
  return 0;
}
