// Verification and lowering of a decoded module (contract in verifier.hpp,
// output format in program.hpp).
#include "writ/vm/verifier.hpp"

#include <algorithm>
#include <array>
#include <cstring>
#include <utility>

#include "program.hpp"
#include "writ/vm/host.hpp"
#include "writ/vm/interpreter.hpp"

namespace writ::vm {

VerifiedModule::~VerifiedModule() = default;

namespace {

// Gas added to a CALL for the slots it writes into the callee's frame: the
// parameters it copies and the registers it zeroes ([0, zero_end)), one unit
// per 16 slots, rounded up, and 2 more when it zeroes any (the loop or the
// memset has a cost of its own: 8 slots zeroed took 3-4 ns more than none).
// Slots past zero_end are never touched by the call (the callee writes them
// before reading), so they cost nothing.
uint32_t frame_gas(const FuncCode& callee) {
  return (callee.zero_end + 15) / 16 + (callee.zero_end > callee.param_slots ? 2 : 0);
}

struct Decoded {
  uint32_t pc;
  Op op;
  uint32_t operand[5];  // raw operand values (immediates in imm)
  int64_t imm;
};

class FunctionVerifier {
 public:
  FunctionVerifier(const Module& m, size_t index) : m_(m), f_(m.functions[index]), index_(index) {}

  // First pass: decode and check the function, lay out its frame, and find the
  // slots a call must write (zero_end). False with error() set on bad code.
  bool analyze(FuncCode& out) {
    // Register slots.
    uint32_t slot = 0;
    out.reg_slot.reserve(f_.register_count());
    for (size_t r = 0; r < f_.register_count(); ++r) {
      out.reg_slot.push_back(static_cast<uint16_t>(slot));
      slot += slots_of(f_.reg_type(r));
      if (r + 1 == f_.params.size()) out.param_slots = slot;
    }
    out.frame_slots = slot;
    for (ValType t : f_.results) out.result_slots += slots_of(t);

    if (!decode_all() || !check_all()) return false;
    out.zero_end = slots_read_before_written(out);
    return true;
  }

  // Second pass, once every function's zero_end is known (a call's gas
  // depends on its callee's): lower to the interpreter's instructions.
  void lower(FuncCode& out, const std::vector<FuncCode>& funcs) {
    funcs_ = &funcs;
    lower_code(out);
  }

  const Error& error() const { return err_; }

 private:
  Error fail(uint32_t pc, const std::string& msg) {
    err_ = error_at(pc, "function " + std::to_string(index_) + " (" + f_.name +
                            ") at code offset " + std::to_string(pc) + ": " + msg);
    err_.function = static_cast<uint32_t>(index_);
    return err_;
  }

  bool decode_all() {
    const auto& code = f_.code;
    size_t pc = 0;
    is_start_.assign(code.size(), false);
    while (pc < code.size()) {
      uint8_t byte = code[pc];
      if (!is_defined(byte)) {
        char buf[48];
        std::snprintf(buf, sizeof buf, "undefined opcode 0x%02x", byte);
        fail(pc, buf);
        return false;
      }
      Op op = static_cast<Op>(byte);
      size_t size = encoded_size(op);
      if (code.size() - pc < size) {
        fail(pc, std::string(info(op).mnemonic) + " needs " + std::to_string(size) + " bytes, " +
                     std::to_string(code.size() - pc) + " left in the function");
        return false;
      }
      Decoded d{};
      d.pc = static_cast<uint32_t>(pc);
      d.op = op;
      size_t at = pc + 1;
      unsigned k = 0;
      for (char c : info(op).operands) {
        unsigned w = operand_width(c);
        uint64_t v = 0;
        for (unsigned i = 0; i < w; ++i) v |= uint64_t(code[at + i]) << (8 * i);
        if (c == 'i')
          d.imm = static_cast<int64_t>(v);
        else
          d.operand[k] = static_cast<uint32_t>(v);
        ++k;
        at += w;
      }
      is_start_[pc] = true;
      insns_.push_back(d);
      pc += size;
    }
    if (insns_.empty() || !(info(insns_.back().op).flags & F_TERM)) {
      fail(insns_.empty() ? 0 : insns_.back().pc,
           "code falls off the end: the last instruction must be jmp, ret, revert, throw or "
           "unreachable");
      return false;
    }
    return true;
  }

  bool check_reg(const Decoded& d, unsigned k, ValType want) {
    uint32_t r = d.operand[k];
    if (r >= f_.register_count()) {
      fail(d.pc, std::string(info(d.op).mnemonic) + " operand " + std::to_string(k + 1) +
                     ": register r" + std::to_string(r) + " does not exist (the function has " +
                     std::to_string(f_.register_count()) + ")");
      return false;
    }
    if (f_.reg_type(r) != want) {
      fail(d.pc, std::string(info(d.op).mnemonic) + " operand " + std::to_string(k + 1) +
                     ": register r" + std::to_string(r) + " is " +
                     std::string(type_name(f_.reg_type(r))) + ", expected " +
                     std::string(type_name(want)));
      return false;
    }
    return true;
  }

  // A run of registers starting at operand k, typed as `types` says.
  bool check_run(const Decoded& d, unsigned k, const std::vector<ValType>& types,
                 const char* what) {
    uint32_t base = d.operand[k];
    if (types.empty()) {
      if (base != 0) {
        fail(d.pc, std::string(what) + " has no values: the register operand must be r0");
        return false;
      }
      return true;
    }
    if (base + types.size() > f_.register_count()) {
      fail(d.pc, std::string(what) + " needs registers r" + std::to_string(base) + "..r" +
                     std::to_string(base + types.size() - 1) + " but the function has " +
                     std::to_string(f_.register_count()));
      return false;
    }
    for (size_t i = 0; i < types.size(); ++i) {
      if (f_.reg_type(base + i) != types[i]) {
        fail(d.pc, std::string(what) + " value " + std::to_string(i) + " in r" +
                       std::to_string(base + i) + " is " +
                       std::string(type_name(f_.reg_type(base + i))) + ", expected " +
                       std::string(type_name(types[i])));
        return false;
      }
    }
    return true;
  }

  bool check_all() {
    for (const Decoded& d : insns_) {
      const OpInfo& oi = info(d.op);
      unsigned k = 0;
      for (char c : oi.operands) {
        bool ok = true;
        switch (c) {
          case 'a':
          case 'A':
            ok = check_reg(d, k, ValType::U64);
            break;
          case 'w':
          case 'W':
            ok = check_reg(d, k, ValType::U256);
            break;
          case 'b':
          case 'B':
            ok = check_reg(d, k, ValType::Buf);
            break;
          case 't':
            if (d.operand[k] >= f_.code.size() || !is_start_[d.operand[k]]) {
              fail(d.pc,
                   "jump target " + std::to_string(d.operand[k]) +
                       (d.operand[k] >= f_.code.size() ? " is outside the function (code size " +
                                                             std::to_string(f_.code.size()) + ")"
                                                       : " is not the start of an instruction"));
              ok = false;
            }
            break;
          case 'k': {
            uint32_t ki = d.operand[k];
            if (ki >= m_.constants.size()) {
              fail(d.pc, "constant k" + std::to_string(ki) + " does not exist (the module has " +
                             std::to_string(m_.constants.size()) + ")");
              ok = false;
            } else {
              auto want = d.op == Op::BCONST ? Constant::Kind::Bytes : Constant::Kind::Word;
              if (m_.constants[ki].kind != want) {
                fail(d.pc, "constant k" + std::to_string(ki) + " is a " +
                               (want == Constant::Kind::Word ? "bytes" : "word") + " constant, " +
                               std::string(oi.mnemonic) + " needs a " +
                               (want == Constant::Kind::Word ? "word" : "bytes") + " constant");
                ok = false;
              }
            }
            break;
          }
          case 'f':
            if (d.operand[k] >= m_.functions.size()) {
              fail(d.pc, "call of function " + std::to_string(d.operand[k]) +
                             " but the module has " + std::to_string(m_.functions.size()));
              ok = false;
            }
            break;
          case 'e':
            if (d.operand[k] >= m_.events.size()) {
              fail(d.pc, "event " + std::to_string(d.operand[k]) + " does not exist");
              ok = false;
            }
            break;
          case 'x':
            if (d.operand[k] >= m_.errors.size()) {
              fail(d.pc, "error " + std::to_string(d.operand[k]) + " does not exist");
              ok = false;
            }
            break;
          default:
            break;  // 'r' and 'i' are checked per opcode below
        }
        if (!ok) return false;
        ++k;
      }
      if (!check_special(d)) return false;
    }
    return true;
  }

  bool check_special(const Decoded& d) {
    switch (d.op) {
      case Op::CALL: {
        const Function& callee = m_.functions[d.operand[0]];
        return check_run(d, 1, callee.params, ("arguments of call " + callee.name).c_str()) &&
               check_run(d, 2, callee.results, ("results of call " + callee.name).c_str());
      }
      case Op::RET:
        return check_run(d, 0, f_.results, "ret");
      case Op::THROW:
        return check_run(d, 1, m_.errors[d.operand[0]].fields,
                         ("fields of error " + m_.errors[d.operand[0]].name).c_str());
      case Op::EMIT: {
        std::vector<ValType> types;
        for (const EventField& f : m_.events[d.operand[0]].fields) types.push_back(f.type);
        return check_run(d, 1, types, ("fields of event " + m_.events[d.operand[0]].name).c_str());
      }
      case Op::WFITS_U:
      case Op::WFITS_S:
        if (d.imm < 1 || d.imm > 256) {
          fail(d.pc, std::string(info(d.op).mnemonic) + " bit width " + std::to_string(d.imm) +
                         " is outside 1..256");
          return false;
        }
        return true;
      case Op::HLOAD:
      case Op::HSTORE:
        if (d.imm < 0 || d.imm >= static_cast<int64_t>(kHistoryWords)) {
          fail(d.pc, std::string(info(d.op).mnemonic) + " word " + std::to_string(d.imm) +
                         " is outside 0.." + std::to_string(kHistoryWords - 1));
          return false;
        }
        return true;
      case Op::FITS_U:
      case Op::FITS_S:
        if (d.imm < 1 || d.imm > 64) {
          fail(d.pc, std::string(info(d.op).mnemonic) + " bit width " + std::to_string(d.imm) +
                         " is outside 1..64");
          return false;
        }
        return true;
      default:
        return true;
    }
  }

  // Builds the pre-decoded code: leaders, block gas, gas pseudo-ops, and
  // operands translated to slot offsets and instruction indices.
  // The index of each instruction by its pc (0 where no instruction starts).
  std::vector<uint32_t> index_of_pc() const {
    std::vector<uint32_t> index(f_.code.size(), 0);
    for (size_t i = 0; i < insns_.size(); ++i) index[insns_[i].pc] = static_cast<uint32_t>(i);
    return index;
  }

  // The index of branch instruction `d`'s target.
  static uint32_t target_index(const Decoded& d, const std::vector<uint32_t>& index_of_pc) {
    unsigned k = static_cast<unsigned>(info(d.op).operands.find('t'));
    return index_of_pc[d.operand[k]];
  }

  // Which instructions start a basic block.
  std::vector<bool> leaders(const std::vector<uint32_t>& index_of_pc) const {
    const size_t n = insns_.size();
    std::vector<bool> leader(n, false);
    leader[0] = true;
    for (size_t i = 0; i < n; ++i) {
      const OpInfo& oi = info(insns_[i].op);
      if (oi.flags & F_BRANCH) leader[target_index(insns_[i], index_of_pc)] = true;
      if ((oi.flags & (F_BRANCH | F_TERM)) && i + 1 < n) leader[i + 1] = true;
    }
    return leader;
  }

  // Calls `read(r)` for each register instruction `d` reads, then `write(r)`
  // for each it writes (in that order: `add r1, r1, r2` reads r1 first).
  template <class Read, class Write>
  void for_each_register(const Decoded& d, Read read, Write write) const {
    const std::string_view letters = info(d.op).operands;
    auto run = [&](uint32_t base, size_t count, auto&& f) {
      for (size_t i = 0; i < count; ++i) f(static_cast<uint32_t>(base + i));
    };
    for (size_t k = 0; k < letters.size(); ++k) {
      const char c = letters[k];
      if (c == 'a' || c == 'w' || c == 'b') read(d.operand[k]);
      if (c != 'r') continue;
      switch (d.op) {
        case Op::CALL:
          if (k == 1) run(d.operand[1], m_.functions[d.operand[0]].params.size(), read);
          break;
        case Op::RET:
          run(d.operand[0], f_.results.size(), read);
          break;
        case Op::THROW:
          run(d.operand[1], m_.errors[d.operand[0]].fields.size(), read);
          break;
        case Op::EMIT:
          run(d.operand[1], m_.events[d.operand[0]].fields.size(), read);
          break;
        default:
          break;
      }
    }
    for (size_t k = 0; k < letters.size(); ++k) {
      const char c = letters[k];
      if (c == 'A' || c == 'W' || c == 'B') write(d.operand[k]);
      if (c == 'r' && d.op == Op::CALL && k == 2)
        run(d.operand[2], m_.functions[d.operand[0]].results.size(), write);
    }
  }

  // Registers start at zero (docs/bytecode.md), but a CALL need only zero the
  // ones that some path reads before writing: a forward must-be-written
  // analysis over the basic blocks. Returns the end of the slots to zero:
  // [param_slots, end) covers every register that may be read unwritten.
  //
  // Its cost is paid for by deploy's gas per byte of code, so it is bounded
  // by the code's size: blocks are visited in reverse post-order from the
  // entry (a fact then crosses any chain of jumps, backward or forward, in
  // one pass, and the fixpoint takes a pass per level of loop nesting, plus
  // two), and past kWorkPerInsn word operations per instruction (deep
  // nesting, thousands of registers) the analysis stops. A function too
  // large for the analysis's memory or work zeroes its whole frame, which
  // its callers pay for (frame_gas): what a function gets depends only on
  // its code.
  static constexpr size_t kWorkPerInsn = 512;
  uint32_t slots_read_before_written(const FuncCode& out) const {
    const size_t n = insns_.size();
    const size_t nregs = f_.register_count();
    const size_t words = (nregs + 63) / 64;
    const std::vector<uint32_t> index = index_of_pc();
    const std::vector<bool> leader = leaders(index);
    std::vector<uint32_t> block_of(n, 0), starts;
    for (size_t i = 0; i < n; ++i) {
      if (leader[i]) starts.push_back(static_cast<uint32_t>(i));
      block_of[i] = static_cast<uint32_t>(starts.size() - 1);
    }
    const size_t nblocks = starts.size();
    constexpr size_t kBudgetWords = size_t{1} << 18;  // 2 MiB of bit sets
    if (nblocks * words * 2 > kBudgetWords) return out.frame_slots;
    const size_t work_budget = kWorkPerInsn * n;

    // Each block's successors (kNone: none), and the reverse post-order of
    // the blocks the entry reaches (the others never run).
    constexpr uint32_t kNone = UINT32_MAX;
    std::vector<std::array<uint32_t, 2>> succ(nblocks, {kNone, kNone});
    for (size_t b = 0; b < nblocks; ++b) {
      const size_t last = (b + 1 < nblocks ? starts[b + 1] : n) - 1;
      const uint32_t flags = info(insns_[last].op).flags;
      if (flags & F_BRANCH) succ[b][0] = block_of[target_index(insns_[last], index)];
      if (!(flags & F_TERM) && last + 1 < n) succ[b][1] = block_of[last + 1];
    }
    std::vector<uint32_t> order;
    order.reserve(nblocks);
    {
      std::vector<bool> seen(nblocks, false);
      std::vector<std::pair<uint32_t, int>> path = {{0, 0}};  // block, next successor
      seen[0] = true;
      while (!path.empty()) {
        auto& [b, k] = path.back();
        if (k == 2) {
          order.push_back(b);
          path.pop_back();
          continue;
        }
        const uint32_t s = succ[b][static_cast<size_t>(k++)];
        if (s != kNone && !seen[s]) {
          seen[s] = true;
          path.push_back({s, 0});
        }
      }
      std::reverse(order.begin(), order.end());
    }

    using Bits = std::vector<uint64_t>;
    auto set = [](Bits& b, size_t base, uint32_t r) {
      b[base + r / 64] |= uint64_t{1} << (r % 64);
    };
    auto has = [](const Bits& b, size_t base, uint32_t r) {
      return (b[base + r / 64] >> (r % 64)) & 1;
    };
    // gen: the registers each block writes; in: those written on every path
    // into it (all, to begin with, except at the entry: the parameters).
    Bits gen(nblocks * words, 0), in(nblocks * words, ~uint64_t{0});
    for (size_t i = 0; i < n; ++i)
      for_each_register(
          insns_[i], [](uint32_t) {}, [&](uint32_t r) { set(gen, block_of[i] * words, r); });
    std::fill(in.begin(), in.begin() + static_cast<ptrdiff_t>(words), 0);
    for (uint32_t r = 0; r < f_.params.size(); ++r) set(in, 0, r);

    Bits out_bits(words);
    bool changed = true;
    for (size_t work = 0; changed;) {
      // A pass: each block's out set, met into at most two successors.
      work += order.size() * words * 3;
      if (work > work_budget) return out.frame_slots;
      changed = false;
      for (const uint32_t b : order) {
        for (size_t w = 0; w < words; ++w) out_bits[w] = in[b * words + w] | gen[b * words + w];
        for (const uint32_t s : succ[b]) {
          if (s == kNone) continue;
          for (size_t w = 0; w < words; ++w) {
            const uint64_t v = in[s * words + w] & out_bits[w];
            if (v != in[s * words + w]) {
              in[s * words + w] = v;
              changed = true;
            }
          }
        }
      }
    }

    std::vector<bool> read_unwritten(nregs, false);
    Bits now(words);
    for (size_t b = 0; b < nblocks; ++b) {
      std::copy(in.begin() + static_cast<ptrdiff_t>(b * words),
                in.begin() + static_cast<ptrdiff_t>((b + 1) * words), now.begin());
      const size_t end = b + 1 < nblocks ? starts[b + 1] : n;
      for (size_t i = starts[b]; i < end; ++i)
        for_each_register(
            insns_[i],
            [&](uint32_t r) {
              if (!has(now, 0, r)) read_unwritten[r] = true;
            },
            [&](uint32_t r) { set(now, 0, r); });
    }
    uint32_t end = out.param_slots;
    for (size_t r = f_.params.size(); r < nregs; ++r)
      if (read_unwritten[r])
        end = std::max<uint32_t>(end, out.reg_slot[r] + slots_of(f_.reg_type(r)));
    return end;
  }

  void lower_code(FuncCode& out) {
    const size_t n = insns_.size();
    const std::vector<uint32_t> index_of_pc = this->index_of_pc();
    const std::vector<bool> leader = leaders(index_of_pc);
    // Static gas per block, keyed by the leader's instruction index.
    std::vector<uint64_t> block_gas(n, 0);
    size_t current = 0;
    for (size_t i = 0; i < n; ++i) {
      if (leader[i]) {
        current = i;
        ++out.block_count;
      }
      uint64_t g = info(insns_[i].op).base_gas;
      if (insns_[i].op == Op::CALL) g += frame_gas((*funcs_)[insns_[i].operand[0]]);
      block_gas[current] += g;
    }
    // A block is entered by fall-through from a non-branch when the previous
    // instruction neither branches nor terminates.
    std::vector<uint32_t> new_index(n, 0);
    uint32_t next = 0;
    for (size_t i = 0; i < n; ++i) {
      bool needs_gas_op =
          leader[i] && i > 0 && !(info(insns_[i - 1].op).flags & (F_BRANCH | F_TERM));
      if (needs_gas_op) ++next;
      new_index[i] = next++;
    }
    out.entry_gas = static_cast<uint32_t>(block_gas[0]);
    out.code.reserve(next);
    for (size_t i = 0; i < n; ++i) {
      const Decoded& d = insns_[i];
      if (leader[i] && i > 0 && !(info(insns_[i - 1].op).flags & (F_BRANCH | F_TERM))) {
        Insn g{};
        g.op = kOpGas;
        g.imm = static_cast<int64_t>(block_gas[i]);
        g.pc = d.pc;
        out.code.push_back(g);
      }
      Insn x{};
      x.op = static_cast<uint16_t>(d.op);
      x.pc = d.pc;
      const OpInfo& oi = info(d.op);
      unsigned k = 0;
      uint16_t regs[5] = {0, 0, 0, 0, 0};
      unsigned nregs = 0;
      for (char c : oi.operands) {
        if (is_register_operand(c)) {
          regs[nregs++] = d.operand[k] < out.reg_slot.size() ? out.reg_slot[d.operand[k]] : 0;
          ++k;
          continue;
        }
        switch (c) {
          case 'k':
          case 'f':
          case 'e':
          case 'x':
            regs[nregs++] = static_cast<uint16_t>(d.operand[k]);
            break;
          case 'i':
            x.imm = d.imm;
            break;
          case 't': {
            uint32_t ti = index_of_pc[d.operand[k]];
            x.br.offset = static_cast<int32_t>(static_cast<int64_t>(new_index[ti]) -
                                               static_cast<int64_t>(out.code.size()));
            x.br.gas = static_cast<uint32_t>(block_gas[ti]);
            break;
          }
          default:
            break;
        }
        ++k;
      }
      x.a = regs[0];
      x.b = regs[1];
      x.c = regs[2];
      if (nregs > 3) {
        x.ext.d = regs[3];
        x.ext.e = regs[4];
      }
      if ((oi.flags & F_COND) && i + 1 < n) x.ft_gas = static_cast<uint32_t>(block_gas[i + 1]);
      out.code.push_back(x);
    }
  }

  const Module& m_;
  const std::vector<FuncCode>* funcs_ = nullptr;  // every function's zero_end, for call gas
  const Function& f_;
  size_t index_;
  std::vector<Decoded> insns_;
  std::vector<bool> is_start_;
  Error err_;
};

// `code` with its superinstructions (program.hpp): each comparison that the
// next instruction, a br_if or br_ifnot of the comparison's register, tests;
// each const before a two-register conditional branch; calls and returns of
// one slot.
std::vector<Insn> fuse(const std::vector<Insn>& code) {
  std::vector<Insn> out = code;
  for (Insn& in : out) {
    if (in.op == static_cast<uint16_t>(Op::CALL) && in.call.param_slots == 1 &&
        in.frame.zero_end == 1)
      in.op = kOpCALL_1SLOT;
    else if (in.op == static_cast<uint16_t>(Op::RET) && in.b == 1)
      in.op = kOpRET_1SLOT;
  }
  for (size_t i = 0; i + 1 < out.size(); ++i) {
    const Insn& next = code[i + 1];
    if (code[i].op == static_cast<uint16_t>(Op::CONST)) {
      switch (next.op) {
#define WRIT_FUSE_CASE(name)            \
  case static_cast<uint16_t>(Op::name): \
    out[i].op = kOpCONST_##name;        \
    break;
        WRIT_FUSED_CONST_BRANCHES(WRIT_FUSE_CASE)
#undef WRIT_FUSE_CASE
        default:
          break;
      }
      continue;
    }
    const bool if_set = next.op == static_cast<uint16_t>(Op::BR_IF);
    if (!(if_set || next.op == static_cast<uint16_t>(Op::BR_IFNOT)) || next.a != code[i].a)
      continue;
    switch (code[i].op) {
#define WRIT_FUSE_CASE(name)                                       \
  case static_cast<uint16_t>(Op::name):                            \
    out[i].op = if_set ? kOp##name##_BR_IF : kOp##name##_BR_IFNOT; \
    break;
      WRIT_FUSED_COMPARES(WRIT_FUSE_CASE)
#undef WRIT_FUSE_CASE
      default:
        break;
    }
  }
  // Pairs (program.hpp), where neither instruction became a superinstruction
  // above: the second in the same block (a block entered by falling through
  // starts with kOpGas), and itself possibly the first of the next pair, for
  // a jump to it.
  for (size_t i = 0; i + 1 < out.size(); ++i) {
    if (out[i].op != code[i].op || out[i + 1].op != code[i + 1].op) continue;
    if (const uint16_t pair = pair_op(code[i].op, code[i + 1].op)) out[i].op = pair;
  }
  return out;
}

}  // namespace

Result<std::shared_ptr<const VerifiedModule>> verify(Module m, const CodeHash& hash) {
  auto program = std::make_unique<Program>();
  std::vector<FunctionVerifier> verifiers;
  verifiers.reserve(m.functions.size());
  program->funcs.resize(m.functions.size());
  for (size_t i = 0; i < m.functions.size(); ++i) {
    verifiers.emplace_back(m, i);
    if (!verifiers.back().analyze(program->funcs[i])) return verifiers.back().error();
  }
  for (size_t i = 0; i < m.functions.size(); ++i)
    verifiers[i].lower(program->funcs[i], program->funcs);
  // Program invariant 5: what calls and returns need, in the instructions.
  static_assert(kMaxRegisters * 4 <= UINT16_MAX, "frame sizes fit the CALL's 16-bit fields");
  uint32_t max_frame = 0;
  for (FuncCode& fc : program->funcs) {
    program->entry.push_back(fc.code.data());
    max_frame = std::max(max_frame, fc.frame_slots);
    for (Insn& in : fc.code) {
      if (in.op == static_cast<uint16_t>(Op::CALL)) {
        const FuncCode& callee = program->funcs[in.a];
        in.call.entry_gas = callee.entry_gas;
        in.call.frame_slots = static_cast<uint16_t>(callee.frame_slots);
        in.call.param_slots = static_cast<uint16_t>(callee.param_slots);
        in.frame.caller_slots = static_cast<uint16_t>(fc.frame_slots);
        in.frame.zero_end = static_cast<uint16_t>(callee.zero_end);
      } else if (in.op == static_cast<uint16_t>(Op::RET)) {
        in.b = static_cast<uint16_t>(fc.result_slots);
      }
    }
  }
  for (FuncCode& fc : program->funcs) {
    fc.fused = fuse(fc.code);
    program->fused_entry.push_back(fc.fused.data());
  }
  program->stack_cannot_overflow = uint64_t{max_frame} * kMaxFrames <= kMaxStackSlots;
  for (const Event& e : m.events) program->event_topics.push_back(event_topic(e));
  for (const ErrorDecl& e : m.errors)
    program->error_selectors.push_back(selector_of(e.name, e.fields));

  auto vm = std::shared_ptr<VerifiedModule>(new VerifiedModule());
  vm->module_ = std::move(m);
  vm->hash_ = hash;
  vm->program_ = std::move(program);
  return std::shared_ptr<const VerifiedModule>(std::move(vm));
}

Result<std::shared_ptr<const VerifiedModule>> load_module(std::span<const uint8_t> bytes) {
  auto m = decode_module(bytes);
  if (!m.ok()) return m.error();
  return verify(std::move(m.value()), code_hash(bytes));
}

Result<std::shared_ptr<const VerifiedModule>> ModuleCache::get(std::span<const uint8_t> bytes) {
  CodeHash h = code_hash(bytes);
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = by_hash_.find(h);
    if (it != by_hash_.end()) return it->second;
  }
  auto m = decode_module(bytes);
  if (!m.ok()) return m.error();
  auto v = verify(std::move(m.value()), h);
  if (!v.ok()) return v.error();
  bool added;
  {
    std::lock_guard<std::mutex> lock(mu_);
    added = by_hash_.emplace(h, v.value()).second;
  }
  if (added && tier_) tier_->verified(v.value());
  return v;
}

void ModuleCache::set_tier(std::shared_ptr<ExecutionTier> tier) {
  std::vector<std::shared_ptr<const VerifiedModule>> known;
  {
    std::lock_guard<std::mutex> lock(mu_);
    tier_ = std::move(tier);
    for (const auto& [hash, module] : by_hash_) known.push_back(module);
  }
  if (tier_)
    for (const auto& module : known) tier_->verified(module);
}

std::shared_ptr<const VerifiedModule> ModuleCache::find(const CodeHash& hash) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = by_hash_.find(hash);
  return it == by_hash_.end() ? nullptr : it->second;
}

size_t ModuleCache::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return by_hash_.size();
}

}  // namespace writ::vm
