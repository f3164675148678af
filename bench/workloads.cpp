// writ_bench: the six workloads of DESIGN.md section 7, each run as a Writ
// program (bench/workloads/NAME.wsm) through the real API (assemble, encode,
// load_module, MemoryHost, execute with ABI input) and as a native C++ twin
// implementing the same algorithm with the same integer widths.
//
// Before anything is timed, every workload runs once on each interpreter entry
// point and natively, and the program aborts unless all results agree (plus
// published test vectors where there are some). Then Google Benchmark times:
//   NAME/native        the C++ twin
//   NAME/vm            writ::vm::execute (computed goto, metered)
//   NAME/vm_unmetered  writ::vm::execute_unmetered
//   NAME/vm_switch     writ::vm::execute_switch_dispatch (metered)
// and a summary table (ratios, targets) is printed at the end.
//
//   writ_bench                               # ~15 s on a 2-core VM
//   writ_bench --benchmark_filter=sort       # one workload
#include <benchmark/benchmark.h>
#include <malloc.h>
#include <openssl/sha.h>

#include <algorithm>
#include <bit>
#include <cinttypes>
#include <cstring>
#include <functional>
#include <map>
#include <optional>
#include <unordered_map>

#include "bench_util.hpp"
#include "sha256.hpp"  // vm/: the interpreter's digest routine
#include "summary_reporter.hpp"
#include "writ/compiler/compiler.hpp"
#include "writ/vm/u256.hpp"
#ifdef WRIT_HAVE_JIT
#include <chrono>

#include "writ/vm/jit.hpp"
#endif

namespace writ::bench {
namespace {

using vm::Value;

constexpr uint64_t kLcgMul = 6364136223846793005ull;  // Knuth's MMIX LCG
constexpr uint64_t kLcgInc = 1442695040888963407ull;

// ---- workload parameters ------------------------------------------------------
constexpr uint64_t kFibIterN = 1'000'000;
constexpr uint64_t kFibRecN = 25;
constexpr uint64_t kShaChain = 2'000;
constexpr uint64_t kSortN = 1'000;
constexpr uint64_t kSortSeed = 42;
constexpr uint64_t kModexpCount = 1'000;
constexpr uint64_t kTokenTransfers = 10'000;
constexpr uint64_t kTokenAccounts = 1'000;
constexpr uint64_t kTokenSeed = 7;
constexpr uint64_t kTokenBalancesSlot = 1;                       // BALANCES in token.wsm
constexpr uint64_t kTokenInitialBalance = 1'000'000'000'000ull;  // never short: amounts are < 2^16

// ---- 1. iterative Fibonacci mod 2^256 ------------------------------------------
// U256 addition is writ::vm::add from u256.hpp (4 x 64-bit limbs, add with carry),
// the function the interpreter's wadd uses.
[[gnu::noinline]] U256 native_fib_u256(uint64_t n) {
  U256 a = U256::zero(), b = U256::from_u64(1);
  for (uint64_t i = 0; i < n / 2; ++i) {
    a = vm::add(a, b);
    b = vm::add(b, a);
  }
  return (n & 1) ? b : a;
}

// ---- 2. recursive Fibonacci --------------------------------------------------------
// Two real calls per node, like the VM's: no inlining, and no sibling-call /
// tail-recursion-with-accumulator rewriting (which GCC applies to `f(n-1) + f(n-2)`
// and which would halve the calls). Checked by `objdump -d writ_bench`.
[[gnu::noinline, gnu::optimize("no-optimize-sibling-calls")]] uint64_t native_fib_rec(uint64_t n) {
  if (n < 2) return n;
  return native_fib_rec(n - 1) + native_fib_rec(n - 2);
}

// ---- 3. SHA-256 compression -----------------------------------------------------
constexpr uint32_t kShaK[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};
constexpr uint32_t kShaIv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};

// FIPS 180-4 section 6.2.2, with the same Ch and Maj forms as sha256.wsm.
[[gnu::noinline]] void native_sha256_compress(uint32_t state[8], const uint8_t block[64]) {
  uint32_t w[64];
  for (int t = 0; t < 16; ++t)
    w[t] = (uint32_t{block[4 * t]} << 24) | (uint32_t{block[4 * t + 1]} << 16) |
           (uint32_t{block[4 * t + 2]} << 8) | uint32_t{block[4 * t + 3]};
  for (int t = 16; t < 64; ++t) {
    uint32_t s0 = std::rotr(w[t - 15], 7) ^ std::rotr(w[t - 15], 18) ^ (w[t - 15] >> 3);
    uint32_t s1 = std::rotr(w[t - 2], 17) ^ std::rotr(w[t - 2], 19) ^ (w[t - 2] >> 10);
    w[t] = w[t - 16] + s0 + w[t - 7] + s1;
  }
  uint32_t a = state[0], b = state[1], c = state[2], d = state[3];
  uint32_t e = state[4], f = state[5], g = state[6], h = state[7];
  for (int t = 0; t < 64; ++t) {
    uint32_t t1 = h + (std::rotr(e, 6) ^ std::rotr(e, 11) ^ std::rotr(e, 25)) +
                  (g ^ (e & (f ^ g))) + kShaK[t] + w[t];
    uint32_t t2 =
        (std::rotr(a, 2) ^ std::rotr(a, 13) ^ std::rotr(a, 22)) + (((a | b) & c) | (a & b));
    h = g;
    g = f;
    f = e;
    e = d + t1;
    d = c;
    c = b;
    b = a;
    a = t1 + t2;
  }
  state[0] += a;
  state[1] += b;
  state[2] += c;
  state[3] += d;
  state[4] += e;
  state[5] += f;
  state[6] += g;
  state[7] += h;
}

// H := IV, then `iters` compressions of `block`; H0..H7 as one big-endian word.
U256 native_sha256_chain(const uint8_t block[64], uint64_t iters) {
  uint32_t s[8];
  std::memcpy(s, kShaIv, sizeof s);
  for (uint64_t i = 0; i < iters; ++i) native_sha256_compress(s, block);
  U256 r;
  for (int i = 0; i < 4; ++i) r.limb[3 - i] = (uint64_t{s[2 * i]} << 32) | s[2 * i + 1];
  return r;
}

// A message of up to 55 bytes padded per FIPS 180-4 section 5.1.1 into one block.
std::vector<uint8_t> sha256_pad_one_block(const std::vector<uint8_t>& msg) {
  if (msg.size() > 55) die("sha256_pad_one_block: message too long");
  std::vector<uint8_t> b(64, 0);
  std::copy(msg.begin(), msg.end(), b.begin());
  b[msg.size()] = 0x80;
  uint64_t bits = msg.size() * 8;
  for (int i = 0; i < 8; ++i) b[63 - i] = static_cast<uint8_t>(bits >> (8 * i));
  return b;
}

// The 32-byte message of the workload: bytes 0, 1, ..., 31.
std::vector<uint8_t> sha_message() {
  std::vector<uint8_t> m(32);
  for (int i = 0; i < 32; ++i) m[i] = static_cast<uint8_t>(i);
  return m;
}

// ---- 4. insertion sort -------------------------------------------------------
[[gnu::noinline]] uint64_t native_sort(uint64_t n, uint64_t seed) {
  std::vector<uint64_t> a(n);
  uint64_t x = seed;
  for (uint64_t i = 0; i < n; ++i) {
    x = x * kLcgMul + kLcgInc;
    a[i] = x;
  }
  for (uint64_t i = 1; i < n; ++i) {
    uint64_t v = a[i];
    uint64_t j = i;
    while (j > 0 && a[j - 1] > v) {
      a[j] = a[j - 1];
      --j;
    }
    a[j] = v;
  }
  if (!std::is_sorted(a.begin(), a.end())) die("native_sort: not sorted");
  uint64_t sum = 0;
  for (uint64_t i = 0; i < n; ++i) sum += a[i] * (i + 1);
  return sum;
}

// ---- 5. modular exponentiation -----------------------------------------------
// Products mod m are writ::vm::mulmod (u256.cpp), the function wmulmod uses, so
// the ratio is the interpreter's overhead around the same arithmetic.
[[gnu::noinline]] U256 native_modexp(uint64_t count, U256 x, const U256& e, const U256& m) {
  for (uint64_t k = 0; k < count; ++k) {
    U256 r = U256::from_u64(1);
    for (int i = 255; i >= 0; --i) {
      r = vm::mulmod(r, r, m);
      if ((e.limb[i / 64] >> (i % 64)) & 1) r = vm::mulmod(r, x, m);
    }
    x = r;
  }
  return x;
}

// m = 2^256 - 189, the largest prime below 2^256; e = m - 2, so x^e = x^-1 (Fermat)
// and an even number of exponentiations gives x back.
const U256 kModexpM = vm::sub(U256::zero(), U256::from_u64(189));
const U256 kModexpE = vm::sub(U256::zero(), U256::from_u64(191));
const U256 kModexpX =
    *vm::parse_u256("0x1234567890abcdef1234567890abcdef1234567890abcdef1234567890abcdef");

// ---- 6. token transfers ---------------------------------------------------------
// The native map is keyed the way the contract keys storage: the slot
// hash2(account, BALANCES) = SHA-256(be32(account) || be32(BALANCES)), through
// the same OpenSSL digest routine the interpreter's hash2 uses (vm/sha256.hpp).
// (native_token_by_account, reported beside it, keys by the account number and skips the hashing.)
U256 token_slot(uint64_t account) {
  uint8_t in[64], h[32];
  vm::to_be_bytes(U256::from_u64(account), in);
  vm::to_be_bytes(U256::from_u64(kTokenBalancesSlot), in + 32);
  vm::sha256_digest(in, 64, h);
  return vm::from_be_bytes(h);
}

struct U256Hash {
  size_t operator()(const U256& k) const noexcept {
    uint64_t h = 0x9e3779b97f4a7c15ull;
    for (uint64_t l : k.limb) h = (h ^ l) * 0xff51afd7ed558ccdull;
    return static_cast<size_t>(h ^ (h >> 29));
  }
};
using SlotMap = std::unordered_map<U256, U256, U256Hash>;
using AccountMap = std::unordered_map<uint64_t, U256>;

struct Transfer {
  uint64_t from, to, amount;
};
inline Transfer next_transfer(uint64_t& x, uint64_t accounts) {
  Transfer t;
  x = x * kLcgMul + kLcgInc;
  t.from = (x >> 33) % accounts;
  x = x * kLcgMul + kLcgInc;
  t.amount = x >> 48;
  x = x * kLcgMul + kLcgInc;
  t.to = (x >> 33) % accounts;
  return t;
}

// Returns the last `to` balance, or nothing when a balance is short (the VM traps).
// The timed runs pass n, seed and accounts opaque (token_inputs), as the
// contract receives them: a constant account count would let the compiler
// turn `% accounts` into a multiplication, which the contract cannot do.
template <class Map, class KeyFn>
[[gnu::noinline]] std::optional<U256> native_token(Map& balances, uint64_t n, uint64_t seed,
                                                   uint64_t accounts, KeyFn key) {
  uint64_t x = seed;
  U256 last = U256::zero();
  for (uint64_t i = 0; i < n; ++i) {
    Transfer t = next_transfer(x, accounts);
    U256 amount = U256::from_u64(t.amount);
    U256& from = balances[key(t.from)];  // unordered_map references survive rehashing
    if (!vm::sub_checked(from, amount, from)) return std::nullopt;
    U256& to = balances[key(t.to)];
    if (!vm::add_checked(to, amount, to)) return std::nullopt;
    last = to;
  }
  return last;
}

struct TokenInputs {
  uint64_t n = kTokenTransfers, seed = kTokenSeed, accounts = kTokenAccounts;
};
TokenInputs token_inputs() {
  TokenInputs in;
  benchmark::DoNotOptimize(in.n);
  benchmark::DoNotOptimize(in.seed);
  benchmark::DoNotOptimize(in.accounts);
  return in;
}

SlotMap token_initial_slots() {
  SlotMap m;
  for (uint64_t a = 0; a < kTokenAccounts; ++a)
    m[token_slot(a)] = U256::from_u64(kTokenInitialBalance);
  return m;
}
AccountMap token_initial_accounts() {
  AccountMap m;
  for (uint64_t a = 0; a < kTokenAccounts; ++a) m[a] = U256::from_u64(kTokenInitialBalance);
  return m;
}
void token_setup_host(vm::MemoryHost& host) {
  for (uint64_t a = 0; a < kTokenAccounts; ++a)
    (void)host.sstore(kContract, token_slot(a), U256::from_u64(kTokenInitialBalance));
}

// ---- the workload table ----------------------------------------------------------
struct Workload {
  std::string name;
  Program program;
  Program writ;                   // the same workload compiled from bench/workloads/NAME.writ
  bool needs_host_state = false;  // a fresh token_setup_host before every VM run
  std::function<void(benchmark::State&)> native;  // one timed native loop
  std::vector<uint8_t> expected;                  // ABI output of the native run
  double target = 0;                              // max VM/native from the issue (0: none)
  int64_t gas_used = 0;                           // per VM run, from the verification run
  bool jit = false;                               // compiled by the JIT tier
  double jit_compile_ms = 0;
  size_t code_bytes = 0;  // the module's encoded size
};

#ifdef WRIT_HAVE_JIT
// Compiled code by module, for run_jit (an ExecFn like the interpreter's).
std::map<const vm::VerifiedModule*, std::shared_ptr<const vm::jit::CompiledModule>>& jit_codes() {
  static std::map<const vm::VerifiedModule*, std::shared_ptr<const vm::jit::CompiledModule>> m;
  return m;
}
ExecResult run_jit(const vm::VerifiedModule& m, vm::Host& h, const Message& msg) {
  return vm::jit::execute(*jit_codes().at(&m), m, h, msg);
}
// The same module compiled without gas metering.
std::map<const vm::VerifiedModule*, std::shared_ptr<const vm::jit::CompiledModule>>&
jit_unmetered_codes() {
  static std::map<const vm::VerifiedModule*, std::shared_ptr<const vm::jit::CompiledModule>> m;
  return m;
}
ExecResult run_jit_unmetered(const vm::VerifiedModule& m, vm::Host& h, const Message& msg) {
  return vm::jit::execute_unmetered(*jit_unmetered_codes().at(&m), m, h, msg);
}
#endif

std::string workload_source(const std::string& file) {
  return read_file(std::string(WRIT_BENCH_WORKLOAD_DIR) + "/" + file);
}

// Compiles bench/workloads/NAME.writ and prepares the same call as the
// assembler program (same export name and arguments).
Program writ_program(const std::string& name, const Program& asm_program) {
  std::string path = std::string(WRIT_BENCH_WORKLOAD_DIR) + "/" + name + ".writ";
  auto out = compiler::compile_file(path, {});
  if (!out.ok || out.contracts.empty()) die(name + ".writ: " + out.diagnostics);
  auto v = vm::load_module(out.contracts.back().bytecode);
  if (!v.ok()) die(name + ".writ: " + v.error().to_string());
  Program p;
  p.module = v.value();
  p.label = name + ".writ";
  p.input = asm_program.input;
  uint32_t sel = (uint32_t{p.input[0]} << 24) | (uint32_t{p.input[1]} << 16) |
                 (uint32_t{p.input[2]} << 8) | p.input[3];
  if (!p.module->module().find_selector(sel))
    die(name + ".writ: no export with the assembler program's selector");
  return p;
}

std::vector<uint8_t> abi_of(const Value& v) {
  return vm::abi_encode(std::vector<Value>{v});
}

std::string hex(const std::vector<uint8_t>& b) {
  std::string s;
  char buf[3];
  for (uint8_t c : b) {
    std::snprintf(buf, sizeof buf, "%02x", c);
    s += buf;
  }
  return s;
}

// Runs the program once on `fn` and checks status and output.
ExecResult run_checked(const Workload& w, ExecFn fn, const char* engine) {
  vm::MemoryHost host;
  if (w.needs_host_state) token_setup_host(host);
  Message msg = make_message(w.program);
  ExecResult r = fn(*w.program.module, host, msg);
  if (r.status != vm::Status::Ok)
    die(w.name + " on " + engine + ": " + std::string(vm::status_name(r.status)) + " at pc " +
        std::to_string(r.pc) + " " + r.detail);
  if (r.output != w.expected)
    die(w.name + " on " + engine + ": VM result 0x" + hex(r.output) + " differs from native 0x" +
        hex(w.expected));
  return r;
}

std::vector<Workload> make_workloads() {
  std::vector<Workload> ws;

  {  // 1
    Workload w;
    w.name = "fib_u256";
    w.program = load_program(workload_source("fib_u256.wsm"), "fib_u256.wsm", "fib",
                             {Value::u64(kFibIterN)});
    w.expected = abi_of(Value::u256(native_fib_u256(kFibIterN)));
    // fib(100), a published value, as a check of both.
    if (vm::to_dec_string(native_fib_u256(100)) != "354224848179261915075")
      die("native_fib_u256(100) is wrong");
    w.native = [](benchmark::State& st) {
      for (auto _ : st) {
        uint64_t n = kFibIterN;
        benchmark::DoNotOptimize(n);
        U256 r = native_fib_u256(n);
        benchmark::DoNotOptimize(r);
      }
    };
    ws.push_back(std::move(w));
  }
  {  // 2
    Workload w;
    w.name = "fib_rec";
    w.program =
        load_program(workload_source("fib_rec.wsm"), "fib_rec.wsm", "fib", {Value::u64(kFibRecN)});
    w.expected = abi_of(Value::u64(native_fib_rec(kFibRecN)));
    if (native_fib_rec(kFibRecN) != 75025) die("native_fib_rec(25) is wrong");
    w.target = 25;
    w.native = [](benchmark::State& st) {
      for (auto _ : st) {
        uint64_t n = kFibRecN;
        benchmark::DoNotOptimize(n);
        uint64_t r = native_fib_rec(n);
        benchmark::DoNotOptimize(r);
      }
    };
    ws.push_back(std::move(w));
  }
  {  // 3
    Workload w;
    w.name = "sha256";
    std::vector<uint8_t> block = sha256_pad_one_block(sha_message());
    // FIPS 180-2 appendix B.1: SHA-256("abc"), one compression of the padded block.
    const std::string abc_digest =
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
    std::vector<uint8_t> abc_block = sha256_pad_one_block({'a', 'b', 'c'});
    if (vm::to_hex_string(native_sha256_chain(abc_block.data(), 1)) != "0x" + abc_digest)
      die("native SHA-256(\"abc\") is wrong");
    Program abc = load_program(workload_source("sha256.wsm"), "sha256.wsm", "chain",
                               {Value::buf(abc_block), Value::u64(1)});
    vm::MemoryHost host;
    Message msg = make_message(abc);
    ExecResult r = vm::execute(*abc.module, host, msg);
    if (r.status != vm::Status::Ok || hex(r.output) != abc_digest)
      die("VM SHA-256(\"abc\") is wrong: 0x" + hex(r.output));
    // One compression of the workload's padded message is SHA-256 of the message.
    uint8_t md[32];
    std::vector<uint8_t> msg32 = sha_message();
    ::SHA256(msg32.data(), msg32.size(), md);
    if (native_sha256_chain(block.data(), 1) != vm::from_be_bytes(md))
      die("native SHA-256 of the 32-byte message differs from OpenSSL's");

    w.program = load_program(workload_source("sha256.wsm"), "sha256.wsm", "chain",
                             {Value::buf(block), Value::u64(kShaChain)});
    w.expected = abi_of(Value::u256(native_sha256_chain(block.data(), kShaChain)));
    w.target = 50;
    w.native = [block](benchmark::State& st) {
      for (auto _ : st) {
        uint64_t n = kShaChain;
        benchmark::DoNotOptimize(n);
        U256 digest = native_sha256_chain(block.data(), n);
        benchmark::DoNotOptimize(digest);
      }
    };
    ws.push_back(std::move(w));
  }
  {  // 4
    Workload w;
    w.name = "sort";
    w.program = load_program(workload_source("sort.wsm"), "sort.wsm", "sort",
                             {Value::u64(kSortN), Value::u64(kSortSeed)});
    w.expected = abi_of(Value::u64(native_sort(kSortN, kSortSeed)));
    w.target = 35;
    w.native = [](benchmark::State& st) {
      for (auto _ : st) {
        uint64_t n = kSortN;
        benchmark::DoNotOptimize(n);
        uint64_t r = native_sort(n, kSortSeed);
        benchmark::DoNotOptimize(r);
      }
    };
    ws.push_back(std::move(w));
  }
  {  // 5
    Workload w;
    w.name = "modexp";
    w.program = load_program(workload_source("modexp.wsm"), "modexp.wsm", "modexp",
                             {Value::u64(kModexpCount), Value::u256(kModexpX),
                              Value::u256(kModexpE), Value::u256(kModexpM)});
    U256 native = native_modexp(kModexpCount, kModexpX, kModexpE, kModexpM);
    if (native != kModexpX) die("native_modexp: (x^-1)^-1 != x; is m prime and the count even?");
    if (native_modexp(1, U256::from_u64(3), U256::from_u64(5), kModexpM) != U256::from_u64(243))
      die("native_modexp: 3^5 != 243");
    w.expected = abi_of(Value::u256(native));
    w.native = [](benchmark::State& st) {
      for (auto _ : st) {
        uint64_t n = kModexpCount;
        benchmark::DoNotOptimize(n);
        U256 r = native_modexp(n, kModexpX, kModexpE, kModexpM);
        benchmark::DoNotOptimize(r);
      }
    };
    ws.push_back(std::move(w));
  }
  {  // 6
    Workload w;
    w.name = "token";
    w.needs_host_state = true;
    w.program = load_program(
        workload_source("token.wsm"), "token.wsm", "transfers",
        {Value::u64(kTokenTransfers), Value::u64(kTokenSeed), Value::u64(kTokenAccounts)});
    SlotMap slots = token_initial_slots();
    auto last = native_token(slots, kTokenTransfers, kTokenSeed, kTokenAccounts, token_slot);
    if (!last) die("native_token: a balance went short");
    AccountMap accounts = token_initial_accounts();
    auto last2 = native_token(accounts, kTokenTransfers, kTokenSeed, kTokenAccounts,
                              [](uint64_t a) { return a; });
    if (!last2 || *last2 != *last) die("native_token by account differs from by slot");
    for (uint64_t a = 0; a < kTokenAccounts; ++a)
      if (accounts[a] != slots[token_slot(a)]) die("native_token by account differs from by slot");
    w.expected = abi_of(Value::u256(*last));
    w.target = 30;
    w.native = [](benchmark::State& st) {
      const SlotMap initial = token_initial_slots();
      for (auto _ : st) {
        st.PauseTiming();
        SlotMap m = initial;
        const TokenInputs in = token_inputs();
        st.ResumeTiming();
        auto r = native_token(m, in.n, in.seed, in.accounts, token_slot);
        benchmark::DoNotOptimize(r);
      }
    };
    // The final storage must equal the native map, account by account.
    vm::MemoryHost host;
    token_setup_host(host);
    Message msg = make_message(w.program);
    ExecResult r = vm::execute(*w.program.module, host, msg);
    if (r.status != vm::Status::Ok)
      die("token: " + std::string(vm::status_name(r.status)) + " " + r.detail);
    for (uint64_t a = 0; a < kTokenAccounts; ++a)
      if (host.sload(kContract, token_slot(a)) != slots[token_slot(a)])
        die("token: VM balance of account " + std::to_string(a) + " differs from native");
    if (host.storage_size() != kTokenAccounts) die("token: VM wrote slots outside the balances");
    ws.push_back(std::move(w));
  }

  // Every engine must agree with native, and so must the Writ version.
  for (Workload& w : ws) {
    w.writ = writ_program(w.name, w.program);
    {
      Workload ww = w;
      ww.program = w.writ;
      run_checked(ww, run_metered, "execute (Writ)");
    }
    ExecResult r = run_checked(w, run_metered, "execute");
    w.gas_used = kBenchGas - r.gas_left;
    run_checked(w, run_unmetered, "execute_unmetered");
    run_checked(w, run_switch, "execute_switch_dispatch");
    std::printf("verified %-9s VM == native on all three engines; %" PRId64 " gas per run\n",
                w.name.c_str(), w.gas_used);
#ifdef WRIT_HAVE_JIT
    // WRIT_JIT_OPT=O1..O3 and WRIT_JIT_CODEGEN=0..3 measure other LLVM
    // pipelines than the default (docs/jit.md, "The pipeline"); WRIT_JIT_LARGE=1
    // compiles every workload the way large modules are (jit.hpp).
    static std::unique_ptr<vm::jit::Compiler> compiler = [] {
      vm::jit::CompilerOptions o;
      if (const char* e = std::getenv("WRIT_JIT_OPT");
          e && e[0] == 'O' && e[1] >= '1' && e[1] <= '3')
        o.opt_level = static_cast<unsigned>(e[1] - '0');
      if (const char* e = std::getenv("WRIT_JIT_CODEGEN"); e && e[0] >= '0' && e[0] <= '3')
        o.codegen_level = static_cast<unsigned>(e[0] - '0');
      return vm::jit::Compiler::create(nullptr, o);
    }();
    w.code_bytes = vm::encode_module(w.program.module->module()).size();
    if (compiler) {
      std::string why;
      const auto t0 = std::chrono::steady_clock::now();
      const bool large = std::getenv("WRIT_JIT_LARGE") != nullptr;
      auto code = compiler->compile(*w.program.module, &why, {.large = large});
      w.jit_compile_ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
      if (code) {
        jit_codes()[w.program.module.get()] = code;
        run_checked(w, run_jit, "the JIT");
        auto unmetered =
            compiler->compile(*w.program.module, &why, {.metered = false, .large = large});
        if (!unmetered) {
          std::fprintf(stderr, "%s: the JIT compiled it metered but not unmetered: %s\n",
                       w.name.c_str(), why.c_str());
          std::exit(1);
        }
        jit_unmetered_codes()[w.program.module.get()] = unmetered;
        run_checked(w, run_jit_unmetered, "the JIT, unmetered");
        w.jit = true;
        std::printf("verified %-9s JIT == native; compiled in %.1f ms\n", w.name.c_str(),
                    w.jit_compile_ms);
      } else {
        std::printf("%-9s not compiled by the JIT: %s\n", w.name.c_str(), why.c_str());
      }
    }
#endif
  }
  return ws;
}

void run_vm(benchmark::State& st, const Workload& w, ExecFn fn) {
  vm::MemoryHost shared;
  Message msg = make_message(w.program);
  for (auto _ : st) {
    if (w.needs_host_state) {
      st.PauseTiming();
      auto host = std::make_unique<vm::MemoryHost>();
      token_setup_host(*host);
      st.ResumeTiming();
      ExecResult r = fn(*w.program.module, *host, msg);
      benchmark::DoNotOptimize(r);
      st.PauseTiming();
      host.reset();  // destruction is not part of the run
      st.ResumeTiming();
    } else {
      ExecResult r = fn(*w.program.module, shared, msg);
      benchmark::DoNotOptimize(r);
    }
  }
  st.counters["gas"] = static_cast<double>(w.gas_used);
}

// ---- summary -----------------------------------------------------------------------

void print_summary(const SummaryReporter& rep, const std::vector<Workload>& ws) {
  std::printf(
      "\nWrit interpreter vs native C++ (same run; CPU time per workload run, fastest "
      "repetition)\n");
  std::printf("%-9s %11s %11s %9s %7s %11s %9s %11s %9s %8s\n", "workload", "VM ms", "native ms",
              "VM/nat", "target", "unmet. ms", "meter+%", "switch ms", "sw/goto", "ns/gas");
  for (const Workload& w : ws) {
    auto vmt = rep.ns(w.name + "/vm"), nat = rep.ns(w.name + "/native");
    auto unm = rep.ns(w.name + "/vm_unmetered"), sw = rep.ns(w.name + "/vm_switch");
    if (!vmt) continue;
    auto ms = [](std::optional<double> v) { return v ? *v / 1e6 : 0.0; };
    char target[16] = "-";
    if (w.target > 0 && nat)
      std::snprintf(target, sizeof target, "%s%.0fx", *vmt / *nat <= w.target ? "<=" : "MISS ",
                    w.target);
    std::printf("%-9s %11.3f %11.3f %8.1fx %7s %11.3f %8.1f%% %11.3f %8.2fx %8.3f\n",
                w.name.c_str(), ms(vmt), ms(nat), nat ? *vmt / *nat : 0.0, target, ms(unm),
                unm ? 100.0 * (*vmt / *unm - 1) : 0.0, ms(sw), sw ? *sw / *vmt : 0.0,
                w.gas_used ? *vmt / static_cast<double>(w.gas_used) : 0.0);
  }
  if (auto by_acct = rep.ns("token/native_by_account"))
    if (auto vmt = rep.ns("token/vm"))
      std::printf(
          "token vs a native map keyed by account (no hashing): native %.3f ms, VM/native %.1fx\n",
          *by_acct / 1e6, *vmt / *by_acct);
  std::printf(
      "meter+%%: execute vs execute_unmetered (target <= 10%%); sw/goto: switch dispatch time / "
      "computed goto\n");
  std::printf(
      "\nThe JIT tier vs the interpreter and native C++ (same run; metered; targets: JIT within "
      "2x of native on fib_rec, sha256, sort, fib_u256; >= 5x the interpreter on compute)\n");
  std::printf("%-9s %11s %11s %11s %9s %9s %9s %11s %9s %11s %13s\n", "workload", "JIT ms", "VM ms",
              "native ms", "JIT/nat", "VM/JIT", "meter+%", "compile ms", "ms/KB", "break-even",
              "b-e Mgas/KB");
  for (const Workload& w : ws) {
    auto jt = rep.ns(w.name + "/jit"), vmt = rep.ns(w.name + "/vm"),
         nat = rep.ns(w.name + "/native");
    if (!jt || !vmt || !nat) {
      std::printf("%-9s %11s   (%s)\n", w.name.c_str(), "-",
                  w.jit ? "not in this run" : "not compiled: the interpreter runs it");
      continue;
    }
    const double saved_ms = (*vmt - *jt) / 1e6;
    auto unm = rep.ns(w.name + "/jit_unmetered");
    const double runs = saved_ms > 0 ? w.jit_compile_ms / saved_ms : 0.0;
    std::printf("%-9s %11.3f %11.3f %11.3f %8.2fx %8.1fx %8.1f%% %11.1f %9.2f %11.0f %13.1f\n",
                w.name.c_str(), *jt / 1e6, *vmt / 1e6, *nat / 1e6, *jt / *nat, *vmt / *jt,
                unm ? 100.0 * (*jt / *unm - 1) : 0.0, w.jit_compile_ms,
                w.jit_compile_ms / (static_cast<double>(w.code_bytes) / 1024.0), runs,
                runs * static_cast<double>(w.gas_used) / 1e6 /
                    (static_cast<double>(w.code_bytes) / 1024.0));
  }
  std::printf(
      "meter+%%: metered vs unmetered compiled code (target <= 15%%); break-even: runs of the "
      "workload after which compiling has paid for itself; b-e Mgas/KB: the gas those runs use, "
      "per KB of the module's code (the tier's threshold is set from it)\n");
  std::printf("\nCompiled Writ vs hand-written assembler (same run, same engine: metered goto)\n");
  std::printf("%-9s %11s %11s %9s %8s\n", "workload", "Writ ms", "asm ms", "Writ/asm", "target");
  for (const Workload& w : ws) {
    auto wr = rep.ns(w.name + "/writ"), as = rep.ns(w.name + "/vm");
    if (!wr || !as) continue;
    double ratio = *wr / *as;
    std::printf("%-9s %11.3f %11.3f %8.2fx %8s\n", w.name.c_str(), *wr / 1e6, *as / 1e6, ratio,
                ratio <= 1.3 ? "<=1.3x" : "MISS 1.3x");
  }
}

}  // namespace
}  // namespace writ::bench

int main(int argc, char** argv) {
  using namespace writ::bench;
  // Reproducible allocation: the interpreter's 8 MiB register stack is always
  // its own mapping (page-aligned), and freed buffer memory stays in the
  // process. With glibc's adaptive default the stack lands at a different heap
  // offset from call to call, and 256-bit handlers, which move values through
  // the C++ stack, vary by up to 1.6x with that offset (wadd: 13 vs 22 ns;
  // most likely 4 KiB aliasing between register slots and stack temporaries).
  mallopt(M_MMAP_THRESHOLD, 4 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  // Short by default (the whole run stays well under a minute), with three
  // repetitions of which the summary keeps the fastest.
  std::vector<char*> args = args_with_defaults(argc, argv, "0.1", "3");
  int n = static_cast<int>(args.size());
  benchmark::Initialize(&n, args.data());
  if (benchmark::ReportUnrecognizedArguments(n, args.data())) return 1;

  static std::vector<Workload> workloads = make_workloads();
  for (const Workload& w : workloads) {
    benchmark::RegisterBenchmark((w.name + "/native").c_str(), w.native)
        ->Unit(benchmark::kMillisecond);
    if (w.name == "token") {
      benchmark::RegisterBenchmark("token/native_by_account", [](benchmark::State& st) {
        const AccountMap initial = token_initial_accounts();
        for (auto _ : st) {
          st.PauseTiming();
          AccountMap m = initial;
          const TokenInputs in = token_inputs();
          st.ResumeTiming();
          auto r = native_token(m, in.n, in.seed, in.accounts, [](uint64_t a) { return a; });
          benchmark::DoNotOptimize(r);
        }
      })->Unit(benchmark::kMillisecond);
    }
    const Workload* wp = &w;
    benchmark::RegisterBenchmark((w.name + "/vm").c_str(), [wp](benchmark::State& st) {
      run_vm(st, *wp, run_metered);
    })->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark((w.name + "/writ").c_str(), [wp](benchmark::State& st) {
      Workload ww = *wp;
      ww.program = wp->writ;
      run_vm(st, ww, run_metered);
    })->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark((w.name + "/vm_unmetered").c_str(), [wp](benchmark::State& st) {
      run_vm(st, *wp, run_unmetered);
    })->Unit(benchmark::kMillisecond);
    benchmark::RegisterBenchmark((w.name + "/vm_switch").c_str(), [wp](benchmark::State& st) {
      run_vm(st, *wp, run_switch);
    })->Unit(benchmark::kMillisecond);
#ifdef WRIT_HAVE_JIT
    if (w.jit)
      benchmark::RegisterBenchmark((w.name + "/jit").c_str(), [wp](benchmark::State& st) {
        run_vm(st, *wp, run_jit);
      })->Unit(benchmark::kMillisecond);
    if (w.jit)
      benchmark::RegisterBenchmark((w.name + "/jit_unmetered").c_str(), [wp](benchmark::State& st) {
        run_vm(st, *wp, run_jit_unmetered);
      })->Unit(benchmark::kMillisecond);
#endif
  }
  SummaryReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  print_summary(reporter, workloads);
  benchmark::Shutdown();
  return 0;
}
