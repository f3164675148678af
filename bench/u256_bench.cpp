// The VM's 256-bit arithmetic beside two well-tuned libraries, on the
// operations that dominate fixed-point and modular code: `mulmod` and
// `addmod` (the wmulmod / waddmod instructions) and `exp` (wexp, modulo
// 2^256).
//
//   GMP    the mpn layer (hand-written assembler on x86-64 and AArch64):
//          mpn_mul_n / mpn_add_n for the product or sum, mpn_tdiv_qr for the
//          remainder (schoolbook division with Möller–Granlund reciprocals,
//          the algorithm of writ::vm::mulmod); exp is mpz_powm modulo 2^256.
//   Boost  Boost.Multiprecision's fixed-width cpp_int (512-bit intermediates;
//          exp by the same square-and-multiply over its 256-bit wrapping
//          product).
//
// Each iteration is one operation whose input is the previous result (a
// dependent chain, as in a modular exponentiation), so the figure is the
// operation's latency. Every twin's result is checked against the VM's
// before the runs. Prints a table of the fastest repetitions at the end.
#include <benchmark/benchmark.h>
#include <gmp.h>

#include <cstdio>
#include <cstring>

#include "bench_util.hpp"
#include "summary_reporter.hpp"
#include "writ/vm/u256.hpp"
#include "writ/vm/u256_boost.hpp"

namespace writ::bench {
namespace {

using BoostU512 = boost::multiprecision::number<boost::multiprecision::cpp_int_backend<
    512, 512, boost::multiprecision::unsigned_magnitude, boost::multiprecision::unchecked, void>>;
using vm::BoostU256;

// 2^256 - 189, the largest prime below 2^256 (a full four-limb modulus).
const U256 kM256 = vm::sub(U256::zero(), U256::from_u64(189));
// 2^127 - 1, a Mersenne prime (two limbs: the general division path).
const U256 kM128 = {{~uint64_t{0}, ~uint64_t{0} >> 1, 0, 0}};
const U256 kX = {{0x243f6a8885a308d3, 0x13198a2e03707344, 0xa4093822299f31d0, 0x082efa98ec4e6c89}};
// An exponent with every limb in use (256 squarings, about 128 multiplications).
const U256 kE = {{0x452821e638d01377, 0xbe5466cf34e90c6c, 0xc0ac29b7c97c50dd, 0x3f84d5b5b5470917}};

int limbs_of(const U256& m) {
  int n = 4;
  while (n > 0 && m.limb[n - 1] == 0) --n;
  return n;
}

// ---- the three implementations of each operation ----------------------------

const mp_limb_t* limbs(const U256& x) {
  return reinterpret_cast<const mp_limb_t*>(x.limb);
}

// u[0..n) mod m by mpn_tdiv_qr (n <= 8).
U256 gmp_remainder(const mp_limb_t* u, mp_size_t n, const U256& m) {
  while (n > 0 && u[n - 1] == 0) --n;
  const int mn = limbs_of(m);
  U256 out = U256::zero();
  if (n < mn) {
    std::memcpy(out.limb, u, sizeof(mp_limb_t) * static_cast<size_t>(n));
    return out;
  }
  mp_limb_t q[8], r[4] = {};
  mpn_tdiv_qr(q, r, 0, u, n, limbs(m), mn);
  std::memcpy(out.limb, r, sizeof r);
  return out;
}

U256 gmp_mulmod(const U256& a, const U256& b, const U256& m) {
  mp_limb_t p[8];
  mpn_mul_n(p, limbs(a), limbs(b), 4);
  return gmp_remainder(p, 8, m);
}

U256 gmp_addmod(const U256& a, const U256& b, const U256& m) {
  mp_limb_t s[5];
  s[4] = mpn_add_n(s, limbs(a), limbs(b), 4);
  return gmp_remainder(s, 5, m);
}

// mpz_powm modulo 2^256, with the numbers allocated once.
class GmpExp {
 public:
  GmpExp() {
    mpz_inits(base_, exp_, mod_, out_, nullptr);
    mpz_setbit(mod_, 256);
  }
  ~GmpExp() { mpz_clears(base_, exp_, mod_, out_, nullptr); }
  GmpExp(const GmpExp&) = delete;
  GmpExp& operator=(const GmpExp&) = delete;
  U256 operator()(const U256& b, const U256& e) {
    mpz_import(base_, 4, -1, sizeof(uint64_t), 0, 0, b.limb);
    mpz_import(exp_, 4, -1, sizeof(uint64_t), 0, 0, e.limb);
    mpz_powm(out_, base_, exp_, mod_);
    U256 r = U256::zero();
    mpz_export(r.limb, nullptr, -1, sizeof(uint64_t), 0, 0, out_);
    return r;
  }

 private:
  mpz_t base_, exp_, mod_, out_;
};

U256 boost_mulmod(const U256& a, const U256& b, const U256& m) {
  const BoostU512 p = BoostU512(vm::to_boost(a)) * BoostU512(vm::to_boost(b));
  return vm::from_boost(BoostU256(p % BoostU512(vm::to_boost(m))));
}

U256 boost_addmod(const U256& a, const U256& b, const U256& m) {
  const BoostU512 s = BoostU512(vm::to_boost(a)) + BoostU512(vm::to_boost(b));
  return vm::from_boost(BoostU256(s % BoostU512(vm::to_boost(m))));
}

// Right-to-left square-and-multiply over Boost's wrapping 256-bit product:
// the algorithm of writ::vm::exp.
U256 boost_exp(const U256& b, const U256& e) {
  BoostU256 result = 1, power = vm::to_boost(b);
  const BoostU256 be = vm::to_boost(e);
  const unsigned bits = vm::bit_length(e);
  for (unsigned i = 0; i < bits; ++i) {
    if (boost::multiprecision::bit_test(be, i)) result *= power;
    if (i + 1 < bits) power *= power;
  }
  return vm::from_boost(result);
}

// ---- benchmarks ----------------------------------------------------------------

template <typename Op>
void chain(benchmark::State& st, Op op) {
  U256 r = kX;
  for (auto _ : st) {
    r = op(r);
    benchmark::DoNotOptimize(r);
  }
}

void register_all() {
  for (const auto& [suffix, m] : {std::pair{"256", kM256}, std::pair{"128", kM128}}) {
    const std::string mm = std::string("mulmod") + suffix;
    const U256 mod = m;
    benchmark::RegisterBenchmark((mm + "/writ").c_str(), [mod](benchmark::State& st) {
      chain(st, [&](const U256& r) { return vm::mulmod(r, kX, mod); });
    });
    benchmark::RegisterBenchmark((mm + "/gmp").c_str(), [mod](benchmark::State& st) {
      chain(st, [&](const U256& r) { return gmp_mulmod(r, kX, mod); });
    });
    benchmark::RegisterBenchmark((mm + "/boost").c_str(), [mod](benchmark::State& st) {
      chain(st, [&](const U256& r) { return boost_mulmod(r, kX, mod); });
    });
  }
  benchmark::RegisterBenchmark("addmod256/writ", [](benchmark::State& st) {
    chain(st, [](const U256& r) { return vm::addmod(r, kX, kM256); });
  });
  benchmark::RegisterBenchmark("addmod256/gmp", [](benchmark::State& st) {
    chain(st, [](const U256& r) { return gmp_addmod(r, kX, kM256); });
  });
  benchmark::RegisterBenchmark("addmod256/boost", [](benchmark::State& st) {
    chain(st, [](const U256& r) { return boost_addmod(r, kX, kM256); });
  });
  benchmark::RegisterBenchmark("exp/writ", [](benchmark::State& st) {
    chain(st, [](const U256& r) { return vm::exp(r, kE); });
  });
  benchmark::RegisterBenchmark("exp/gmp", [](benchmark::State& st) {
    GmpExp gmp_exp;
    chain(st, [&](const U256& r) { return gmp_exp(r, kE); });
  });
  benchmark::RegisterBenchmark("exp/boost", [](benchmark::State& st) {
    chain(st, [](const U256& r) { return boost_exp(r, kE); });
  });
}

// Every twin computes what the VM computes, over a chain of inputs.
void check_twins() {
  GmpExp gmp_exp;
  for (const U256& m : {kM256, kM128}) {
    U256 r = kX;
    for (int i = 0; i < 1000; ++i) {
      const U256 want = vm::mulmod(r, kX, m);
      if (gmp_mulmod(r, kX, m) != want || boost_mulmod(r, kX, m) != want)
        die("mulmod twins disagree with writ::vm::mulmod");
      const U256 sum = vm::addmod(r, kX, m);
      if (gmp_addmod(r, kX, m) != sum || boost_addmod(r, kX, m) != sum)
        die("addmod twins disagree with writ::vm::addmod");
      r = want;
    }
  }
  U256 r = kX;
  for (int i = 0; i < 100; ++i) {
    const U256 want = vm::exp(r, kE);
    if (gmp_exp(r, kE) != want || boost_exp(r, kE) != want)
      die("exp twins disagree with writ::vm::exp");
    r = vm::add(want, U256::from_u64(3));  // keep the base odd now and then
  }
}

void print_summary(const SummaryReporter& rep) {
  std::printf(
      "\nThe VM's 256-bit arithmetic beside GMP (mpn, assembler) and Boost.Multiprecision\n"
      "(same run; ns per operation in a dependent chain, fastest repetition)\n");
  std::printf("%-12s %10s %10s %10s %10s %11s\n", "operation", "writ ns", "GMP ns", "Boost ns",
              "writ/GMP", "writ/Boost");
  for (const char* op : {"mulmod256", "mulmod128", "addmod256", "exp"}) {
    const auto w = rep.ns(std::string(op) + "/writ");
    const auto g = rep.ns(std::string(op) + "/gmp");
    const auto b = rep.ns(std::string(op) + "/boost");
    if (!w || !g || !b) {
      std::printf("%-12s   (not in this run)\n", op);
      continue;
    }
    std::printf("%-12s %10.1f %10.1f %10.1f %9.2fx %10.2fx\n", op, *w, *g, *b, *w / *g, *w / *b);
  }
  std::printf(
      "mulmod256: modulus 2^256 - 189; mulmod128: 2^127 - 1; exp: a full 256-bit exponent, "
      "modulo 2^256\n");
}

}  // namespace
}  // namespace writ::bench

int main(int argc, char** argv) {
  using namespace writ::bench;
  check_twins();
  std::vector<char*> args = args_with_defaults(argc, argv, "0.1", "3");
  int n = static_cast<int>(args.size());
  benchmark::Initialize(&n, args.data());
  if (benchmark::ReportUnrecognizedArguments(n, args.data())) return 1;
  register_all();
  SummaryReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  print_summary(reporter);
  benchmark::Shutdown();
  return 0;
}
