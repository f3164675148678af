// Random Writ assembler programs over the whole instruction set, for the
// JIT's differential tests (tests/vm/jit_test.cpp) and fuzzer
// (fuzz/fuzz_jit.cpp): forward and backward branches (loops end at the gas
// limit), calls of a helper and recursive calls (some after a base case),
// buffers, storage, hashing, the call's context, every trap. Programs the verifier refuses are
// possible but rare; callers skip them.
#pragma once

#include <cstdint>
#include <functional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace writ::vm::test {

class RandomProgram {
 public:
  // `next` yields the random words that decide everything (a generator's,
  // or a fuzzer's input bytes).
  explicit RandomProgram(std::function<uint64_t()> next) : next_(std::move(next)) {}
  uint64_t rng() { return next_(); }
  uint64_t pick(uint64_t n) { return next_() % n; }

  // u64 registers r0, r1, r4..r7; u256 registers r2, r3, r8..r11; buffers r12, r13.
  std::string a() {
    static const char* kRegs[] = {"r0", "r1", "r4", "r5", "r6", "r7"};
    return kRegs[pick(6)];
  }
  std::string w() {
    static const char* kRegs[] = {"r2", "r3", "r8", "r9", "r10", "r11"};
    return kRegs[pick(6)];
  }
  std::string imm() {
    static const int64_t kImms[] = {0, 1, 2, 3, 7, 31, 32, 63, 64, 65, 255, 256, 1000, -1, -2};
    return pick(3) == 0 ? std::to_string(static_cast<int64_t>(rng()))
                        : std::to_string(kImms[pick(15)]);
  }

  // A module of two functions: helper(u64) -> u64 and the exported
  // f(u64, u64, u256, u256) -> u64 of `length` random instructions.
  std::string program(int length) {
    static const std::vector<std::pair<const char*, const char*>> kOps = {
        {"add", "Aaa"},     {"sub", "Aaa"},      {"mul", "Aaa"},      {"addi", "Aai"},
        {"add.cu", "Aaa"},  {"sub.cu", "Aaa"},   {"mul.cu", "Aaa"},   {"add.cs", "Aaa"},
        {"sub.cs", "Aaa"},  {"mul.cs", "Aaa"},   {"div.u", "Aaa"},    {"rem.u", "Aaa"},
        {"div.s", "Aaa"},   {"rem.s", "Aaa"},    {"and", "Aaa"},      {"or", "Aaa"},
        {"xor", "Aaa"},     {"not", "Aa"},       {"shl", "Aaa"},      {"shr.u", "Aaa"},
        {"shr.s", "Aaa"},   {"andi", "Aai"},     {"xori", "Aai"},     {"shli", "Aai"},
        {"shri", "Aai"},    {"add32", "Aaa"},    {"rotri32", "Aai"},  {"eq", "Aaa"},
        {"ne", "Aaa"},      {"lt.u", "Aaa"},     {"le.u", "Aaa"},     {"lt.s", "Aaa"},
        {"le.s", "Aaa"},    {"eqz", "Aa"},       {"eqi", "Aai"},      {"lti.u", "Aai"},
        {"mov", "Aa"},      {"const", "Ai"},     {"select", "Aaaa"},  {"wmov", "Ww"},
        {"wconsti", "Wi"},  {"zext", "Wa"},      {"sext", "Wa"},      {"trunc", "Aw"},
        {"narrow.u", "Aw"}, {"narrow.s", "Aw"},  {"wadd", "Www"},     {"wsub", "Www"},
        {"wmul", "Www"},    {"wadd.cu", "Www"},  {"wsub.cu", "Www"},  {"wmul.cu", "Www"},
        {"wadd.cs", "Www"}, {"wsub.cs", "Www"},  {"wmul.cs", "Www"},  {"wdiv.u", "Www"},
        {"wrem.u", "Www"},  {"wdiv.s", "Www"},   {"wrem.s", "Www"},   {"wexp", "Www"},
        {"wexp.cu", "Www"}, {"waddmod", "Wwww"}, {"wmulmod", "Wwww"}, {"wand", "Www"},
        {"wor", "Www"},     {"wxor", "Www"},     {"wnot", "Ww"},      {"wshl", "Wwa"},
        {"wshr.u", "Wwa"},  {"wshr.s", "Wwa"},   {"wsignext", "Wwa"}, {"weq", "Aww"},
        {"wne", "Aww"},     {"wlt.u", "Aww"},    {"wle.u", "Aww"},    {"wlt.s", "Aww"},
        {"wle.s", "Aww"},   {"weqz", "Aw"},      {"wmuldiv", "Wwww"}, {"wmuldiv.up", "Wwww"},
        {"fits.u", "ai"},   {"fits.s", "ai"},    {"wfits.u", "wi"},   {"wfits.s", "wi"},
        {"below", "ai"},    {"assert", "a"},     {"nop", ""},         {"wconst", "Wk"},
        {"bnew", "Ba"},     {"blen", "Ab"},      {"ld8", "Aba"},      {"st8", "baa"},
        {"ld64", "Aba"},    {"st64", "baa"},     {"ldw", "Wba"},      {"stw", "baw"},
        {"bresize", "ba"},  {"sha256", "Wb"},    {"hash2", "Www"},    {"sload", "Ww"},
        {"sstore", "ww"},   {"caller", "W"},     {"self", "W"},       {"callvalue", "W"},
        {"timestamp", "A"}, {"blocknum", "A"},   {"chainid", "A"},    {"gasleft", "A"},
        {"origin", "W"},    {"balance", "Ww"},   {"bmov", "Bb"},      {"input", "B"},
        {"bcopy", "babaa"}};
    std::ostringstream s;
    s << ".const BIG word 0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff1\n";
    s << ".const MID word 0x100000000000000000000000000000000\n";
    s << ".func helper(u64) -> (u64)\n  .regs u64\n  addi r1, r0, 3\n  mul.cu r1, r1, r0\n  ret "
         "r1\n.end\n";
    s << ".func f(u64, u64, u256, u256) -> (u64) export\n";
    s << "  .regs u64 u64 u64 u64 u256 u256 u256 u256 buf buf\n";
    // Sometimes a recursion's base case first: a test of r0 with a return a
    // few register computations away on the branch taken (1) or on the
    // fall-through (2), which the JIT inlines where its unrolled levels end.
    const uint64_t base = pick(4);
    auto base_case = [&] {
      if (pick(2)) s << "  addi r5, r0, " << imm() << "\n";
      if (pick(2)) s << "  xor r5, r5, r1\n";
      s << "  ret " << (pick(2) ? "r5" : "r0") << "\n";
    };
    if (base == 1 || base == 2) s << "  lti.u r4, r0, " << 1 + pick(4) << "\n";
    if (base == 1) s << "  br_if r4, BASE\n";
    if (base == 2) {
      s << "  br_ifnot r4, BODY\n";
      base_case();
      s << "BODY:\n";
    }
    const int labels = 1 + static_cast<int>(pick(4));
    std::vector<int> at(labels);
    for (int& l : at) l = static_cast<int>(pick(length + 1));
    for (int i = 0; i <= length; ++i) {
      for (int l = 0; l < labels; ++l)
        if (at[l] == i) s << "L" << l << ":\n";
      if (i == length) break;
      const uint64_t kind = pick(20);
      if (kind == 0) {
        static const char* kBranches[] = {"beq", "bne", "blt.u", "bge.u", "blt.s", "bge.s"};
        s << "  " << kBranches[pick(6)] << " " << a() << ", " << a() << ", L" << pick(labels)
          << "\n";
      } else if (kind == 1) {
        s << "  " << (pick(2) ? "br_if " : "br_ifnot ") << a() << ", L" << pick(labels) << "\n";
      } else if (kind == 2 && pick(4) == 0) {
        s << "  jmp L" << pick(labels) << "\n";
      } else if (kind == 3) {
        s << "  call helper, " << a() << ", " << a() << "\n";
      } else if (kind == 4 && pick(6) == 0) {
        s << "  call f, r0, " << a() << "\n";
      } else {
        const auto& [mn, operands] = kOps[pick(kOps.size())];
        s << "  " << mn;
        std::string sep = " ";
        for (const char* o = operands; *o; ++o) {
          std::string v;
          switch (*o) {
            case 'a':
            case 'A':
              v = a();
              break;
            case 'w':
            case 'W':
              v = w();
              break;
            case 'k':
              v = pick(2) ? "BIG" : "MID";
              break;
            case 'b':
            case 'B':
              v = pick(2) ? "r12" : "r13";
              break;
            default:
              // The range checks take a bit width the verifier bounds.
              if (std::string(mn).find("fits") != std::string::npos)
                v = std::to_string(1 + pick(mn[0] == 'w' ? 256 : 64));
              else
                v = imm();
              break;
          }
          s << sep << v;
          sep = ", ";
        }
        s << "\n";
      }
    }
    s << "  ret " << a() << "\n";
    if (base == 1) {
      s << "BASE:\n";
      base_case();
    }
    s << ".end\n";
    return s.str();
  }

 private:
  std::function<uint64_t()> next_;
};

}  // namespace writ::vm::test
