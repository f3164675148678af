// writ_gas_calibration: nanoseconds per gas for each opcode class, the
// measurement behind the schedule in docs/gas.md.
//
// For each class a program is generated whose loop body is kReps (64) copies
// of the class's instructions, cycling through a list of representative lines
// (operands chosen for the slow case where timing depends on data: full-width
// 256-bit values, worst divisor shapes, 32-byte exponents). It runs through
// the real API (assemble, encode, load_module, execute, metered) and
//   ns/gas = CPU time of one call / gas that call used,
// where gas used includes the loop's own addi + blt.u (3 of >= 67 gas a trip).
//
// Compute classes must stay within a 3x spread of ns/gas (slowest / fastest);
// that is the schedule's denial-of-service bound. Host classes (storage, logs,
// balance transfers against MemoryHost) are priced for the state they grow,
// not for time, and are reported separately.
//
//   writ_gas_calibration                          # ~12 s
//   writ_gas_calibration --benchmark_filter=div   # some classes
//   writ_gas_calibration --per-op                 # one row per instruction line
#include <benchmark/benchmark.h>

#include <malloc.h>

#include <algorithm>
#include <cinttypes>
#include <cstring>
#include <map>
#include <optional>

#include "bench_util.hpp"
#include "summary_reporter.hpp"
#include "writ/vm/opcodes.hpp"

namespace writ::bench {
namespace {

constexpr int kReps = 64;                        // class instructions per loop trip
constexpr int64_t kTargetGasPerRun = 3'000'000;  // ~ a few ms per call

// Compute classes are priced for time and bound the spread. Host classes are
// priced for the state they grow. kFreshPages measures the same allocation as a
// compute class after the C++ heap gave its free pages back to the kernel
// (malloc_trim before each run): buffers live in the VM's arena, which keeps
// its pages, so it should cost what the compute class does (docs/gas.md,
// "Memory"); reported, outside the spread.
enum Group { kCompute, kHost, kFreshPages };

struct CalClass {
  std::string name;
  Group group = kCompute;
  std::string regs = "";               // types of r2.. (r0 = trips, r1 = loop counter)
  std::string init = "";               // code before the loop
  std::vector<std::string> body = {};  // cycled to kReps entries; "{i}" = copy number
  std::string prelude = "";            // .const / .event / helper functions
  uint64_t max_trips = UINT64_MAX;     // memory and log classes: stay under kMaxMemory
  std::string callee = "";             // assembler text deployed at kCallee (xcall classes)
};

const U256 kCallee = U256::from_u64(0xCA11EE);

std::string replace_all(std::string s, const std::string& from, const std::string& to) {
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size()))
    s.replace(p, from.size(), to);
  return s;
}

std::string program_text(const CalClass& c) {
  std::string t = c.prelude + "\n.func run(u64) -> (u64) export\n  .regs u64 " + c.regs + "\n" +
                  c.init + "\n  const r1, 0\nloop:\n";
  for (int i = 0; i < kReps; ++i)
    t += "  " + replace_all(c.body[i % c.body.size()], "{i}", std::to_string(i)) + "\n";
  t += "  addi r1, r1, 1\n  blt.u r1, r0, loop\n  ret r1\n.end\n";
  return t;
}

// Hex of a 256-bit value with every limb populated (the slow case for
// multiplication and division).
const char* kFull1 = "0xf3a1c2d4e5b6a7980123456789abcdeffedcba9876543210a5a5a5a55a5a5a5b";
const char* kFull2 = "0xc0ffee0123456789deadbeefcafebabe0f1e2d3c4b5a69788796a5b4c3d2e1f1";
const char* kFull3 = "0xe1d2c3b4a5968778695a4b3c2d1e0f00112233445566778899aabbccddeeff01";

std::vector<CalClass> classes() {
  std::vector<CalClass> cs;
  const std::string u64x8 = "u64 u64 u64 u64 u64 u64 u64 u64";  // r2..r9

  cs.push_back(
      {"alu64",
       kCompute,
       u64x8,
       "  const r2, 0x123456789\n  const r3, 0xfedcba987\n  const r4, 12345\n  const r5, 3\n"
       "  const r6, 77\n  const r7, 5\n  const r8, 1000\n  const r9, 7",
       {"add r2, r2, r3",     "sub r4, r4, r2",  "xor r3, r3, r4",        "addi r2, r2, 12345",
        "and r6, r4, r3",     "or r7, r7, r6",   "shl r6, r2, r5",        "shr.u r4, r3, r5",
        "shr.s r6, r4, r5",   "not r7, r6",      "andi r4, r4, 0xffffff", "xori r3, r3, 0x5555",
        "shli r6, r3, 7",     "shri r7, r2, 9",  "add32 r4, r4, r3",      "rotri32 r6, r2, 13",
        "eq r7, r2, r3",      "lt.u r6, r4, r3", "le.s r7, r3, r2",       "eqz r6, r4",
        "lti.u r7, r2, 1000", "eqi r6, r3, 5",   "ne r7, r2, r4",         "nop"}});
  cs.push_back(
      {"mul64+checked64",
       kCompute,
       u64x8,
       "  const r2, 0x123456789\n  const r3, 0xfedcba987\n  const r4, 12345\n  const r5, 3\n"
       "  const r6, 77\n  const r7, 5\n  const r8, 1000\n  const r9, 7",
       {"mul r2, r2, r3", "mul r6, r4, r5", "add.cu r7, r8, r9", "sub.cu r7, r8, r9",
        "mul.cu r7, r8, r9", "add.cs r6, r8, r9", "sub.cs r6, r9, r8", "mul.cs r6, r8, r9",
        "fits.u r8, 16", "fits.s r9, 8", "below r8, 1001", "assert r8"}});
  cs.push_back({"div64",
                kCompute,
                u64x8,
                "  const r2, 0xfedcba9876543210\n  const r3, 3\n  const r4, -0x7edcba9876543210\n  "
                "const r5, 7",
                {"div.u r6, r2, r3", "rem.u r7, r2, r3", "div.s r8, r4, r5", "rem.s r9, r4, r5"}});
  {
    CalClass c{
        "compare+branch", kCompute, u64x8, "  const r2, 1\n  const r3, 2\n  const r4, 1", {}};
    // Each branch ends a block; both of its edges lead to the next line, taken or not.
    for (const char* b : {"blt.u r2, r3", "bge.u r2, r3", "beq r2, r4", "bne r2, r4",
                          "blt.s r3, r2", "bge.s r3, r2", "br_if r2", "br_ifnot r2"})
      c.body.push_back(std::string(b) + ", b{i}\nb{i}:");
    c.body.push_back("jmp b{i}\nb{i}:");
    cs.push_back(c);
  }
  cs.push_back({"moves+consts",
                kCompute,
                "u64 u64 u64 u64 u256 u256 u256 u256 buf buf",
                "  const r2, 5\n  const r3, 1\n  wconsti r6, 9\n  wconst r7, K",
                {"mov r4, r2", "const r5, 0x1234", "wmov r8, r7", "wconsti r9, 77", "wconst r8, K",
                 "zext r9, r2", "sext r8, r3", "trunc r4, r7", "narrow.u r5, r6", "narrow.s r4, r6",
                 "select r5, r3, r2, r4", "bmov r11, r10"},
                std::string(".const K word ") + kFull1});
  const std::string w256 =
      "u64 u64 u64 u64 u256 u256 u256 u256 u256 u256 u256 u256";  // r2..r5, r6..r13
  cs.push_back(
      {"add/sub256",
       kCompute,
       w256,
       std::string(
           "  wconst r6, A\n  wconst r7, B\n  wconst r8, C\n  wconsti r9, 12345\n  wconst r10, H"),
       {"wadd r11, r11, r6", "wsub r12, r12, r7", "wadd.cu r13, r9, r10", "wsub.cu r13, r10, r9",
        "wadd.cs r13, r9, r10", "wsub.cs r13, r10, r9"},
       std::string(".const A word ") + kFull1 + "\n.const B word " + kFull2 + "\n.const C word " +
           kFull3 +
           "\n.const H word 0x7fffffffffffffffffffffffffffffff00000000000000000000000000000000"});
  cs.push_back(
      {"mul256",
       kCompute,
       w256,
       "  wconst r6, A\n  wconst r7, B\n  wconst r8, S\n  wconst r9, T\n  wconsti r10, 3",
       {"wmul r11, r6, r7", "wmul r12, r12, r6", "wmul.cu r13, r8, r9", "wmul.cs r13, r8, r10"},
       std::string(".const A word ") + kFull1 + "\n.const B word " + kFull2 +
           "\n.const S word 0xfedcba9876543210fedcba9876543210\n.const T word "
           "0xf123456789abcdef0f1e2d3c4b"});
  // Division: Knuth D on 4-limb dividends, by divisors of 1, 2 and 3 limbs.
  for (auto [label, divisor] : std::vector<std::pair<const char*, const char*>>{
           {"div256 (64-bit divisor)", "0xfedcba9876543211"},
           {"div256 (128-bit divisor)", "0x8123456789abcdef0123456789abcdef"},
           {"div256 (192-bit divisor)", "0x8123456789abcdef0123456789abcdeffedcba9876543210"}}) {
    cs.push_back(
        {label,
         kCompute,
         w256,
         "  wconst r6, A\n  wconst r7, D\n  wconst r8, N",
         {"wdiv.u r9, r6, r7", "wrem.u r10, r6, r7", "wdiv.s r11, r8, r7", "wrem.s r12, r8, r7"},
         std::string(".const A word ") + kFull1 + "\n.const D word " + divisor +
             "\n.const N word "
             "-0x7123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"});
  }
  for (auto [label, modulus] : std::vector<std::pair<const char*, const char*>>{
           {"addmod (256-bit m)", kFull3}, {"addmod (64-bit m)", "0xfedcba9876543211"}}) {
    cs.push_back({label,
                  kCompute,
                  w256,
                  "  wconst r6, A\n  wconst r7, B\n  wconst r8, M",
                  {"waddmod r9, r6, r7, r8", "waddmod r10, r7, r6, r8"},
                  std::string(".const A word ") + kFull1 + "\n.const B word " + kFull2 +
                      "\n.const M word " + modulus});
  }
  for (auto [label, modulus] : std::vector<std::pair<const char*, const char*>>{
           {"mulmod (256-bit m)", kFull3},
           {"mulmod (128-bit m)", "0x8123456789abcdef0123456789abcdef"},
           {"mulmod (64-bit m)", "0xfedcba9876543211"}}) {
    cs.push_back({label,
                  kCompute,
                  w256,
                  "  wconst r6, A\n  wconst r7, B\n  wconst r8, M",
                  {"wmulmod r9, r6, r7, r8", "wmulmod r10, r7, r6, r8"},
                  std::string(".const A word ") + kFull1 + "\n.const B word " + kFull2 +
                      "\n.const M word " + modulus});
  }
  cs.push_back({"muldiv",
                kCompute,
                w256,
                "  wconst r6, A\n  wconst r7, B\n  wconst r8, M",
                {"wmuldiv r9, r6, r7, r8", "wmuldiv.up r10, r7, r6, r8"},
                std::string(".const A word ") + kFull1 + "\n.const B word " + kFull2 +
                    "\n.const M word " + kFull3});
  for (auto [label, exponent] : std::vector<std::pair<const char*, const char*>>{
           {"exp (32-byte exponent)", kFull2},
           {"exp (1-byte exponent)", "0xff"},
           {"exp (8-byte exponent)", "0xfedcba9876543211"}}) {
    cs.push_back({label,
                  kCompute,
                  w256,
                  "  wconst r6, A\n  wconst r7, E",
                  {"wexp r8, r6, r7", "wexp r9, r7, r7"},
                  std::string(".const A word ") + kFull1 + "\n.const E word " + exponent});
  }
  cs.push_back({"exp.cu (3^161)",
                kCompute,
                w256,
                "  wconsti r6, 3\n  wconsti r7, 161",
                {"wexp.cu r8, r6, r7"}});
  cs.push_back({"bitwise/shift/cmp256",
                kCompute,
                w256 + " u256",
                "  wconst r6, A\n  wconst r7, B\n  const r2, 77\n  const r3, 9\n  wconst r14, S",
                {"wand r8, r6, r7", "wor r9, r8, r6", "wxor r10, r9, r7", "wnot r11, r10",
                 "wshl r12, r6, r2", "wshr.u r13, r7, r2", "wshr.s r12, r7, r2",
                 "wsignext r13, r6, r3", "weq r4, r6, r7", "wne r5, r6, r8", "wlt.u r4, r6, r7",
                 "wle.u r5, r7, r6", "wlt.s r4, r6, r7", "wle.s r5, r8, r7", "weqz r4, r9",
                 "wfits.u r14, 129", "wfits.s r14, 200"},
                std::string(".const A word ") + kFull1 + "\n.const B word " + kFull2 +
                    "\n.const S word 0xfedcba9876543210fedcba9876543210"});
  cs.push_back({"buffer load/store",
                kCompute,
                "u64 u64 u64 u64 u64 u256 u256 buf",
                "  const r2, 256\n  bnew r9, r2\n  const r3, 17\n  const r4, 9\n  const r5, 64\n  "
                "wconst r7, A",
                {"ld8 r6, r9, r3", "st8 r9, r3, r6", "ld64 r6, r9, r4", "st64 r9, r4, r6",
                 "ldw r8, r9, r5", "stw r9, r5, r7", "blen r6, r9"},
                std::string(".const A word ") + kFull1});
  cs.push_back({"bnew 32 bytes", kCompute, "u64 buf", "  const r2, 32", {"bnew r3, r2"}, "", 4000});
  cs.push_back({"bnew 1 KiB", kCompute, "u64 buf", "  const r2, 1024", {"bnew r3, r2"}, "", 400});
  cs.push_back({"bnew 1 KiB, after malloc_trim",
                kFreshPages,
                "u64 buf",
                "  const r2, 1024",
                {"bnew r3, r2"},
                "",
                400});
  cs.push_back({"bresize +32 bytes",
                kCompute,
                "u64 buf",
                "  const r2, 0\n  bnew r3, r2",
                {"addi r2, r2, 32\n  bresize r3, r2"},
                "",
                2000});
  cs.push_back({"bcopy 32 bytes",
                kCompute,
                "u64 u64 buf buf",
                "  const r2, 1024\n  bnew r4, r2\n  bnew r5, r2\n  const r2, 32\n  const r3, 64",
                {"bcopy r4, r3, r5, r2, r2", "bcopy r5, r2, r4, r3, r2"}});
  cs.push_back({"bcopy 1 KiB",
                kCompute,
                "u64 u64 buf buf",
                "  const r2, 1024\n  bnew r4, r2\n  bnew r5, r2\n  const r3, 0",
                {"bcopy r4, r3, r5, r3, r2", "bcopy r5, r3, r4, r3, r2"}});
  // Past the caches a copy runs at the memory's bandwidth: the worst case of
  // a price per byte.
  cs.push_back({"bcopy 4 MiB",
                kCompute,
                "u64 u64 buf buf",
                "  const r2, 4194304\n  bnew r4, r2\n  bnew r5, r2\n  const r3, 0",
                {"bcopy r4, r3, r5, r3, r2", "bcopy r5, r3, r4, r3, r2"},
                "",
                8});
  cs.push_back({"bconst 32 bytes",
                kCompute,
                "buf",
                "",
                {"bconst r2, K"},
                ".const K bytes 0x00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
                4000});
  cs.push_back({"input (36 bytes)", kCompute, "buf", "", {"input r2"}, "", 4000});
  cs.push_back({"sha256 64 bytes",
                kCompute,
                "u64 u256 buf",
                "  const r2, 64\n  bnew r4, r2",
                {"sha256 r3, r4"}});
  cs.push_back({"sha256 1 KiB",
                kCompute,
                "u64 u256 buf",
                "  const r2, 1024\n  bnew r4, r2",
                {"sha256 r3, r4"}});
  // RFC 8032 section 7.1, TEST 2: a valid signature, so the whole check runs.
  cs.push_back({"ed25519 (1-byte message)",
                kCompute,
                "u64 u256 buf buf",
                "  wconst r3, K\n  bconst r4, M\n  bconst r5, S",
                {"ed25519 r2, r3, r4, r5"},
                ".const K word 0x3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c\n"
                ".const M bytes 0x72\n"
                ".const S bytes 0x92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
                "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
                20});
  // A 1 KiB message (the signature no longer matches, but the check does the
  // same work): prices the per-block dynamic gas of the message's hashing.
  cs.push_back({"ed25519 (1 KiB message)",
                kCompute,
                "u64 u256 buf buf u64",
                "  wconst r3, K\n  const r6, 1024\n  bnew r4, r6\n  bconst r5, S",
                {"ed25519 r2, r3, r4, r5"},
                ".const K word 0x3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c\n"
                ".const S bytes 0x92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
                "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00",
                20});
  cs.push_back({"hash2",
                kCompute,
                "u256 u256 u256",
                "  wconst r2, A\n  wconst r3, B",
                {"hash2 r4, r2, r3", "hash2 r3, r4, r2"},
                std::string(".const A word ") + kFull1 + "\n.const B word " + kFull2});
  // `.regs` of n u256 registers (after a function's u64 parameter).
  auto wide_regs = [](int n) {
    std::string s;
    for (int i = 0; i < n; ++i) s += "u256 ";
    return s;
  };
  cs.push_back({"call+ret (1-slot frame)",
                kCompute,
                "u64 u64",
                "  const r2, 5",
                {"call leaf, r2, r3"},
                ".func leaf(u64) -> (u64)\n  ret r0\n.end"});
  cs.push_back({"call+ret (64 x u256 frame)",
                kCompute,
                "u64 u64",
                "  const r2, 5",
                {"call big, r2, r3"},
                ".func big(u64) -> (u64)\n  .regs " + wide_regs(64) + "\n  ret r0\n.end"});
  cs.push_back({"call+ret (2 x u256 frame, zeroed)",
                kCompute,
                "u64 u256",
                "  const r2, 5",
                {"call zeroed2, r2, r3"},
                ".func zeroed2(u64) -> (u256)\n  .regs " + wide_regs(2) + "\n  ret r2\n.end"});
  cs.push_back({"call+ret (8 x u256 frame, zeroed)",
                kCompute,
                "u64 u256",
                "  const r2, 5",
                {"call zeroed8, r2, r3"},
                ".func zeroed8(u64) -> (u256)\n  .regs " + wide_regs(8) + "\n  ret r8\n.end"});
  // The same frame read before it is written: the call zeroes all 256 slots.
  cs.push_back({"call+ret (64 x u256 frame, zeroed)",
                kCompute,
                "u64 u256",
                "  const r2, 5",
                {"call zeroed, r2, r3"},
                ".func zeroed(u64) -> (u256)\n  .regs " + wide_regs(64) + "\n  ret r64\n.end"});
  cs.push_back({"context",
                kCompute,
                "u64 u256",
                "",
                {"caller r3", "self r3", "callvalue r3", "origin r3", "blocknum r2", "timestamp r2",
                 "chainid r2", "gasleft r2"}});

  // ---- host classes: priced for state growth -----------------------------------
  cs.push_back({"sload (present slot)",
                kHost,
                "u256 u256 u256",
                "  wconsti r2, 1\n  wconsti r4, 7\n  sstore r2, r4",
                {"sload r3, r2"}});
  cs.push_back({"sstore (unchanged)",
                kHost,
                "u256 u256",
                "  wconsti r2, 1\n  wconsti r3, 7\n  sstore r2, r3",
                {"sstore r2, r3"}});
  cs.push_back({"sstore (modified)",
                kHost,
                "u256 u256 u256",
                "  wconsti r2, 1\n  wconsti r3, 7\n  wconsti r4, 8",
                {"sstore r2, r3", "sstore r2, r4"},
                "",
                2000});
  cs.push_back({"sstore (added)",
                kHost,
                "u256 u256 u256",
                "  wconsti r2, 1\n  wconsti r3, 7\n  wconsti r4, 1",
                {"sstore r2, r3\n  wadd r2, r2, r4"},
                "",
                200});
  // The risk engine's history words (the host names the contract its risk
  // engine): a read, and a write that changes the word each time.
  cs.push_back({"hload", kHost, "u256 u256", "  self r2", {"hload r3, r2, 0"}});
  cs.push_back({"hstore (modified)",
                kHost,
                "u256 u256 u256",
                "  self r2\n  wconsti r3, 7\n  wconsti r4, 8",
                {"hstore r2, 0, r3", "hstore r2, 0, r4"},
                "",
                2000});
  cs.push_back({"emit (2 topics, 32 bytes)",
                kHost,
                "u256 u256",
                "  wconsti r2, 1\n  wconsti r3, 2",
                {"emit Ev, r2"},
                ".event Ev(u256 indexed, u256)",
                500});
  cs.push_back({"balance", kHost, "u256 u256", "  self r2", {"balance r3, r2"}});
  {
    uint32_t sel = vm::selector_of("f", {});
    char hex[16];
    std::snprintf(hex, sizeof hex, "0x%08x", sel);
    CalClass c{"xcall (callee returns at once)",
               kHost,
               "u64 buf u256 u256 buf",
               "  wconsti r4, 0xCA11EE\n  bconst r6, SEL",
               {"xcall r2, r3, r4, r5, r6"},
               std::string(".const SEL bytes ") + hex,
               2000};
    c.callee = ".func f() -> () export\n  ret r0\n.end\n";
    cs.push_back(c);
  }
  {
    // A 1 MiB buffer argument: the callee's entry copies it into its memory
    // (1 gas per 32-byte word, kGasMemoryWord) and returns.
    const vm::ValType params[] = {vm::ValType::Buf};
    uint32_t sel = vm::selector_of("take", params);
    char hex[16];
    std::snprintf(hex, sizeof hex, "0x%08x", sel);
    CalClass c{"xcall with a 1 MiB buffer argument",
               kHost,
               "u64 buf u256 u256 buf u64 buf u64 u64 u256 u64",
               // input: selector, the argument's offset (32) and length, its bytes
               "  wconsti r4, 0xCA11EE\n  const r7, 1048644\n  bnew r6, r7\n  bconst r8, SEL\n"
               "  const r9, 0\n  const r10, 4\n  bcopy r6, r9, r8, r9, r10\n"
               "  wconsti r11, 32\n  stw r6, r10, r11\n  const r12, 36\n"
               "  wconsti r11, 1048576\n  stw r6, r12, r11",
               {"xcall r2, r3, r4, r5, r6"},
               std::string(".const SEL bytes ") + hex,
               16};
    c.callee = ".func take(buf) -> () export\n  ret r0\n.end\n";
    cs.push_back(c);
  }
  return cs;
}

struct Prepared {
  CalClass c;
  Program program;  // trips filled in
  uint64_t trips = 0;
  int64_t gas = 0;  // per run
  double ops = 0;   // class instructions per run
};

// A fresh host: the contract's balance, and the callee of the xcall classes.
std::unique_ptr<vm::MemoryHost> make_host(const CalClass& c) {
  auto host = std::make_unique<vm::MemoryHost>();
  host->set_balance(kContract, U256::from_u64(1'000'000));
  host->set_risk_engine(kContract);
  if (!c.callee.empty()) {
    auto m = vm::assemble(c.callee);
    if (!m.ok()) die(c.name + ": callee: " + m.error().to_string());
    auto d = host->deploy(kCallee, vm::encode_module(m.value()));
    if (!d.ok()) die(c.name + ": callee: " + d.error().to_string());
  }
  return host;
}

ExecResult run_once(const CalClass& c, const Program& p) {
  auto host = make_host(c);
  Message msg = make_message(p);
  return vm::execute(*p.module, *host, msg);
}

Prepared prepare(const CalClass& c) {
  Prepared p;
  p.c = c;
  std::string text = program_text(c);
  auto probe = [&](uint64_t trips) {
    Program prog = load_program(text, c.name, "run", {vm::Value::u64(trips)});
    ExecResult r = run_once(c, prog);
    if (r.status != vm::Status::Ok)
      die("calibration class '" + c.name + "': " + std::string(vm::status_name(r.status)) +
          " at pc " + std::to_string(r.pc) + " " + r.detail + "\n" + text);
    return std::make_pair(prog, kBenchGas - r.gas_left);
  };
  int64_t g1 = probe(1).second, g2 = probe(2).second;
  int64_t per_trip = g2 - g1;
  p.trips = std::clamp<uint64_t>(
      static_cast<uint64_t>(kTargetGasPerRun / std::max<int64_t>(per_trip, 1)), 2, c.max_trips);
  auto [prog, gas] = probe(p.trips);
  p.program = prog;
  p.gas = gas;
  p.ops = static_cast<double>(p.trips) * kReps;
  return p;
}

void print_table(const SummaryReporter& rep, const std::vector<Prepared>& ps) {
  struct Row {
    const Prepared* p;
    double ns_per_gas, ns_per_op, gas_per_op;
  };
  std::vector<Row> rows;
  for (const Prepared& p : ps) {
    auto ns = rep.ns(p.c.name);
    if (!ns) continue;
    const double loop_gas =  // addi + blt.u per trip
        static_cast<double>(vm::info(vm::Op::ADDI).base_gas + vm::info(vm::Op::BLT_U).base_gas) *
        static_cast<double>(p.trips);
    rows.push_back({&p, *ns / static_cast<double>(p.gas), *ns / p.ops,
                    (static_cast<double>(p.gas) - loop_gas) / p.ops});
  }
  double lo = 1e300, hi = 0;
  const Row *lo_row = nullptr, *hi_row = nullptr;
  for (const Row& r : rows)
    if (r.p->c.group == kCompute) {
      if (r.ns_per_gas < lo) lo = r.ns_per_gas, lo_row = &r;
      if (r.ns_per_gas > hi) hi = r.ns_per_gas, hi_row = &r;
    }
  auto print = [&](Group g, const char* title) {
    std::printf("%-36s %9s %9s %9s %7s\n", title, "gas/op", "ns/op", "ns/gas",
                g == kCompute ? "/min" : "");
    for (const Row& r : rows) {
      if (r.p->c.group != g) continue;
      std::printf("%-36s %9.1f %9.1f %9.3f", r.p->c.name.c_str(), r.gas_per_op, r.ns_per_op,
                  r.ns_per_gas);
      if (g == kCompute) std::printf(" %6.2fx", r.ns_per_gas / lo);
      std::printf("\n");
    }
  };
  std::printf("\nGas calibration (CPU time of metered execute; gas/op includes dynamic gas)\n");
  print(kCompute, "compute class");
  if (lo_row && hi_row)
    std::printf(
        "spread over compute classes: %.2fx (slowest %s %.3f ns/gas, fastest %s %.3f ns/gas; bound "
        "3x)\n\n",
        hi / lo, hi_row->p->c.name.c_str(), hi, lo_row->p->c.name.c_str(), lo);
  print(kHost, "host class");
  std::printf("(host classes are priced for state growth, not time: outside the spread)\n\n");
  print(kFreshPages, "memory after malloc_trim");
  std::printf(
      "(outside the spread; buffers live in the VM's arena, which keeps its pages: this should "
      "cost what bnew 1 KiB does; docs/gas.md, \"Memory\")\n");
}

}  // namespace
}  // namespace writ::bench

int main(int argc, char** argv) {
  using namespace writ::bench;
  // Steady state of a long-running node: freed buffer memory stays in the
  // process (glibc would otherwise return the top of the heap to the kernel
  // after each call, and the next call pays a page fault per 4 KiB); the
  // kFreshPages class measures the other case. The 8 MiB register stack is
  // always its own page-aligned mapping: with glibc's adaptive threshold it
  // lands at varying heap offsets, and 256-bit handlers (which move values
  // through the C++ stack) then vary by up to 1.6x (wadd: 13 vs 22 ns; most
  // likely 4 KiB aliasing between register slots and stack temporaries).
  mallopt(M_MMAP_THRESHOLD, 4 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  std::vector<char*> args = args_with_defaults(argc, argv, "0.15");
  int n = static_cast<int>(args.size());
  benchmark::Initialize(&n, args.data());
  // --per-op: one class per distinct instruction line (for tuning single opcodes).
  bool per_op = false;
  for (int i = 1; i < n; ++i)
    if (std::strcmp(args[i], "--per-op") == 0) per_op = true;
  std::vector<CalClass> cs = classes();
  if (per_op) {
    std::vector<CalClass> split;
    for (const CalClass& c : cs) {
      if (c.body.size() == 1) {
        split.push_back(c);
        continue;
      }
      for (const std::string& line : c.body) {
        CalClass one = c;
        one.name = c.name + ": " + line.substr(0, line.find_first_of(",\n"));
        one.body = {line};
        split.push_back(one);
      }
    }
    cs = split;
  }
  for (int i = 1; i < n; ++i)
    if (std::strcmp(args[i], "--per-op") != 0) {
      std::fprintf(stderr, "writ_gas_calibration: unrecognized argument %s\n", args[i]);
      return 1;
    }
  static std::vector<Prepared> prepared;
  for (const CalClass& c : cs) prepared.push_back(prepare(c));
  for (const Prepared& p : prepared) {
    const Prepared* pp = &p;
    benchmark::RegisterBenchmark(p.c.name.c_str(), [pp](benchmark::State& st) {
      Message msg = make_message(pp->program);
      for (auto _ : st) {
        st.PauseTiming();
        auto host = make_host(pp->c);
        if (pp->c.group == kFreshPages)
          malloc_trim(0);  // every page of the run comes from the kernel
        st.ResumeTiming();
        ExecResult r = writ::vm::execute(*pp->program.module, *host, msg);
        benchmark::DoNotOptimize(r);
        st.PauseTiming();
        host.reset();
        st.ResumeTiming();
      }
      st.counters["gas"] = static_cast<double>(pp->gas);
    })->Unit(benchmark::kMicrosecond);
  }
  SummaryReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  print_table(reporter, prepared);
  benchmark::Shutdown();
  return 0;
}
