// writ_jit_diff: the long differential run of the JIT against the
// interpreter (docs/jit.md). Generates random programs from consecutive
// seeds (tests/vm/random_program.hpp), compares every call on both tiers
// (jit_compare.hpp), and prints a progress line every --every modules.
//
//   writ_jit_diff [--modules N] [--seed S] [--every K] [--large]
// (--large: every module compiled as a large one is, jit.hpp)
//
// Exit: 0 when every module agreed, 1 on the first mismatch (its seed,
// program and both results printed: `--seed S --modules 1` replays it),
// 2 on a usage error or when LLVM cannot compile for this host.
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "jit_compare.hpp"

using namespace writ::vm;

namespace {

// splitmix64: the stream of a seed.
struct SplitMix {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
  }
};

bool parse(const char* s, uint64_t& out) {
  char* end = nullptr;
  errno = 0;
  out = std::strtoull(s, &end, 10);
  return errno == 0 && end != s && *end == 0;
}

}  // namespace

int main(int argc, char** argv) {
  uint64_t modules = 10'000, seed = 1, every = 10'000;
  jit::CompileOptions options;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--large") {  // compiled as large modules are (jit.hpp, kOptimizedFunctionInsns)
      options.large = true;
      continue;
    }
    uint64_t* dst = a == "--modules" ? &modules
                    : a == "--seed"  ? &seed
                    : a == "--every" ? &every
                                     : nullptr;
    if (!dst || i + 1 >= argc || !parse(argv[i + 1], *dst) || (dst == &every && every == 0)) {
      std::fprintf(stderr, "usage: writ_jit_diff [--modules N] [--seed S] [--every K] [--large]\n");
      return 2;
    }
    ++i;
  }
  std::string err;
  auto compiler = jit::Compiler::create(&err);
  if (!compiler) {
    std::fprintf(stderr, "writ_jit_diff: %s\n", err.c_str());
    return 2;
  }
  const auto t0 = std::chrono::steady_clock::now();
  uint64_t compared = 0, refused = 0, calls = 0, reruns = 0;
  std::array<uint64_t, 32> statuses{};
  auto report = [&](uint64_t done) {
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("%" PRIu64 " modules (seeds %" PRIu64 "..%" PRIu64 "): %" PRIu64
                " compared, %" PRIu64 " refused by the verifier, %" PRIu64 " calls (%" PRIu64
                " out of gas found late and run again), 0 mismatches; %.0f s, %.1f modules/s\n",
                done, seed, seed + done - 1, compared, refused, calls, reruns, s, done / s);
    std::fflush(stdout);
  };
  for (uint64_t k = 0; k < modules; ++k) {
    SplitMix sm{seed + k};
    test::RandomProgram gen([&sm] { return sm.next(); });
    const test::DiffOutcome out = test::compare_random_program(*compiler, gen, options);
    if (!out.mismatch.empty()) {
      std::printf("MISMATCH at seed %" PRIu64 " (replay: --seed %" PRIu64 " --modules 1%s)\n%s",
                  seed + k, seed + k, options.large ? " --large" : "", out.mismatch.c_str());
      return 1;
    }
    if (out.verified)
      ++compared;
    else
      ++refused;
    calls += static_cast<uint64_t>(out.calls);
    reruns += static_cast<uint64_t>(out.reruns);
    for (size_t s = 0; s < statuses.size(); ++s) statuses[s] += out.statuses[s];
    if ((k + 1) % every == 0) report(k + 1);
  }
  if (modules % every != 0) report(modules);
  std::printf("calls by status:");
  for (size_t s = 0; s < statuses.size(); ++s)
    if (statuses[s])
      std::printf(" %s %" PRIu64, std::string(status_name(static_cast<Status>(s))).c_str(),
                  statuses[s]);
  std::printf("\n");
  return 0;
}
