// Internal to the compiler library (writ_compiler, not installed): the code
// generator's classes, shared by the codegen*.cpp files. The contract is in
// codegen.hpp. ModuleGen generates one contract's module (function order,
// event and error tables, constants, exports, ABI and debug info); FnGen one
// function's code.
//
//   codegen.cpp           the module and function drivers, statements and conditions
//   codegen_expr.cpp      expressions: constants, operators, range checks, conversions
//   codegen_calls.cpp     calls of functions, and of other contracts (ABI encoding and decoding)
//   codegen_builtins.cpp  calls of the builtin functions and methods
//   codegen_storage.cpp   places: storage slots, maps, vectors, loads and stores
//   codegen_abi.cpp       the contract's ABI (structured and abi.json) and debug.json
//
// Invariants:
//
// The program is analysed (sema succeeded) and codegen trusts the tree: it
// reports only what sema cannot see (limits such as register counts, selector
// clashes) and internal errors.
//
// Registers: every parameter and `let` variable owns its registers for the
// whole function (so the debugger can always find it); expression temporaries
// come from a per-type pool released at the end of each statement. Runs of
// consecutive registers (call arguments and results, event and error fields)
// come from a pool of runs keyed by their type signature.
//
// Storage layout: fields get consecutive slots from 0 in declaration order
// (structs take one slot per scalar field, an iter_map three); a map entry
// lives at sha256(key || base) (the hash2 instruction), a struct inside it at
// consecutive slots from there. docs/language.md documents the layout.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "codegen.hpp"
#include "writ/vm/abi.hpp"
#include "writ/vm/opcodes.hpp"
#include "writ/vm/u256.hpp"
#include "writ/vm/verifier.hpp"

namespace writ::compiler::codegen_internal {

using vm::Op;
using vm::U256;
using vm::ValType;

struct Val {
  std::vector<uint16_t> regs;
};

struct Place {
  enum class Kind : uint8_t { Regs, Storage, Element } kind = Kind::Regs;
  Val regs;                // Regs
  uint16_t slot = 0;       // Storage: u256 register holding the first slot
  uint16_t buf = 0;        // Element: buffer register
  uint16_t index = 0;      // Element: u64 register (element index; byte index for bytes)
  bool byte_elem = false;  // Element of bytes/string: one byte, not an 8/32-byte slot
  const Type* type = nullptr;
};

inline U256 pow10(unsigned n) {
  U256 r = U256::from_u64(1);
  for (unsigned i = 0; i < n; ++i) r = vm::mul(r, U256::from_u64(10));
  return r;
}

class ModuleGen;

class FnGen {
 public:
  FnGen(ModuleGen& mg, FnDecl& f, uint16_t index);
  vm::Function run();

  struct PcSpan {
    uint32_t pc;
    Span span;
  };
  std::vector<PcSpan> pcs;
  std::vector<std::vector<uint16_t>> local_regs;

 private:
  friend class ModuleGen;
  // ---- registers -----------------------------------------------------------------
  uint16_t new_reg(ValType t) {
    size_t n = out_.register_count();
    if (n >= vm::kMaxRegisters) {
      if (!too_many_regs_)
        error(f_.name_span, "function " + f_.name +
                                " needs more than 4096 registers (one per local variable and "
                                "intermediate value); split it into smaller functions");
      too_many_regs_ = true;
      return 0;
    }
    out_.locals.push_back(t);
    return static_cast<uint16_t>(n);
  }
  ValType reg_type(uint16_t r) const { return out_.reg_type(r); }

  struct TempEntry {
    bool is_run;
    size_t index;
  };
  struct Temp {
    uint16_t reg;
    ValType type;
    bool used;
  };
  struct Run {
    uint16_t first;
    std::vector<ValType> types;
    bool used;
  };

  uint16_t temp(ValType t) {
    for (size_t i = 0; i < temps_.size(); ++i) {
      if (!temps_[i].used && temps_[i].type == t) {
        temps_[i].used = true;
        stack_.push_back({false, i});
        return temps_[i].reg;
      }
    }
    temps_.push_back(Temp{new_reg(t), t, true});
    stack_.push_back({false, temps_.size() - 1});
    return temps_.back().reg;
  }
  uint16_t run_regs(const std::vector<ValType>& types) {
    if (types.empty()) return 0;
    for (size_t i = 0; i < runs_.size(); ++i) {
      if (!runs_[i].used && runs_[i].types == types) {
        runs_[i].used = true;
        stack_.push_back({true, i});
        return runs_[i].first;
      }
    }
    uint16_t first = static_cast<uint16_t>(out_.register_count());
    for (ValType t : types) new_reg(t);
    runs_.push_back(Run{first, types, true});
    stack_.push_back({true, runs_.size() - 1});
    return first;
  }
  size_t mark() const { return stack_.size(); }
  void release(size_t m) {
    while (stack_.size() > m) {
      TempEntry e = stack_.back();
      stack_.pop_back();
      if (e.is_run)
        runs_[e.index].used = false;
      else
        temps_[e.index].used = false;
    }
  }

  // ---- emission --------------------------------------------------------------------
  int new_label() {
    labels_.push_back(-1);
    return static_cast<int>(labels_.size() - 1);
  }
  void place_label(int l) { labels_[l] = static_cast<int64_t>(out_.code.size()); }
  // Whether code emitted now can be reached: the last instruction does not
  // end control flow, or a label (a jump target) is placed right here, as
  // after `require`'s throw or a checked transfer's.
  bool reachable_here() const {
    if (pcs.empty() || !(vm::info(static_cast<Op>(out_.code[pcs.back().pc])).flags & vm::F_TERM))
      return true;
    const auto here = static_cast<int64_t>(out_.code.size());
    return std::find(labels_.begin(), labels_.end(), here) != labels_.end();
  }

  // Operands in the order of the opcode's layout; for 't' operands, a label.
  void emit(Op op, std::initializer_list<int64_t> operands) {
    const vm::OpInfo& oi = vm::info(op);
    pcs.push_back(PcSpan{static_cast<uint32_t>(out_.code.size()), span_});
    out_.code.push_back(static_cast<uint8_t>(op));
    size_t k = 0;
    for (int64_t v : operands) {
      char c = oi.operands[k++];
      unsigned w = vm::operand_width(c);
      if (c == 't') {
        fixups_.push_back({out_.code.size(), static_cast<int>(v)});
        v = 0;
      }
      for (unsigned i = 0; i < w; ++i)
        out_.code.push_back(static_cast<uint8_t>(static_cast<uint64_t>(v) >> (8 * i)));
    }
  }

  void error(Span s, const std::string& msg);
  void emit_prologue();

  // ---- constants -------------------------------------------------------------------
  // Constants read as operands live in registers loaded once in the function's
  // prologue (so loops do not reload them); with `dst` the constant is
  // written to that register here instead. A function whose registers are
  // nearly all taken (thousands of distinct constants in generated code) gets
  // its further constants loaded where they are read, into a temporary of the
  // statement, rather than run out of registers.
  static constexpr size_t kHoistedRegisterLimit = vm::kMaxRegisters - 512;
  bool hoisting_full() const { return out_.register_count() >= kHoistedRegisterLimit; }
  uint16_t const_small(uint64_t v, int16_t dst = -1) {
    if (dst >= 0) {
      emit(Op::CONST, {dst, static_cast<int64_t>(v)});
      return static_cast<uint16_t>(dst);
    }
    auto it = small_consts_.find(v);
    if (it != small_consts_.end()) return it->second;
    if (hoisting_full()) return const_small(v, static_cast<int16_t>(temp(ValType::U64)));
    uint16_t r = new_reg(ValType::U64);
    small_consts_[v] = r;
    return r;
  }
  uint16_t const_word(const U256& v, int16_t dst = -1);

  // ---- values ----------------------------------------------------------------------
  std::vector<ValType> flat(const Type* t) const {
    std::vector<ValType> v;
    flatten(t, v);
    return v;
  }
  Val new_val(const Type* t, bool as_temp) {
    Val v;
    for (ValType vt : flat(t)) v.regs.push_back(as_temp ? temp(vt) : new_reg(vt));
    return v;
  }
  void move(uint16_t dst, uint16_t src) {
    if (dst == src) return;
    switch (reg_type(dst)) {
      case ValType::U64:
        emit(Op::MOV, {dst, src});
        break;
      case ValType::U256:
        emit(Op::WMOV, {dst, src});
        break;
      case ValType::Buf:
        emit(Op::BMOV, {dst, src});
        break;
    }
  }
  void copy(const Val& dst, const Val& src) {
    for (size_t i = 0; i < dst.regs.size() && i < src.regs.size(); ++i)
      move(dst.regs[i], src.regs[i]);
  }
  // A u256 register holding the value of a scalar (small values zero-extended).
  uint16_t as_word(uint16_t r) {
    if (reg_type(r) == ValType::U256) return r;
    uint16_t w = temp(ValType::U256);
    emit(Op::ZEXT, {w, r});
    return w;
  }

  Val gen(Expr& e, const Val* hint = nullptr);
  void gen_into(Expr& e, const Val& dst) {
    Val v = gen(e, &dst);
    copy(dst, v);
  }
  uint16_t gen1(Expr& e, const Val* hint = nullptr) {
    Val v = gen(e, hint);
    return v.regs.empty() ? 0 : v.regs[0];
  }
  uint16_t dst_or_temp(const Val* hint, ValType t) {
    if (hint && hint->regs.size() == 1 && reg_type(hint->regs[0]) == t) return hint->regs[0];
    return temp(t);
  }

  Val gen_const(Expr& e, const Val* hint);
  Val gen_binary(Expr& e, const Val* hint);
  Val gen_unary(Expr& e, const Val* hint);
  Val gen_cast(Expr& e, const Val* hint);
  Val gen_call(Expr& e, const Val* hint);
  Val gen_builtin(Expr& e, const Val* hint);
  Val gen_method(Expr& e, const Val* hint);
  Val gen_external(Expr& e, bool is_try, const Val* hint);
  uint16_t encode_input(uint32_t sel, const std::vector<uint16_t>& vals, const Val* hint);
  Val decode_results(uint16_t out, const std::vector<const Type*>& types);
  uint16_t decode_buffer(uint16_t out, uint16_t w, const Val* hint);
  uint16_t saturated_u64(uint16_t w);
  void past_end_where(uint16_t dst, uint16_t cond, bool when, uint16_t v);
  void gen_for_each(Stmt& s, size_t m);
  void gen_counted_loop(Stmt& s, uint16_t i, uint16_t end, const std::function<void()>& prologue);
  uint16_t arith(BinOp op, const Type* t, uint16_t a, uint16_t b, uint16_t dst);
  void range_check(uint16_t r, const Type* t);
  void range_check_value(const std::vector<uint16_t>& regs, const Type* t, size_t& k);
  void convert(uint16_t dst, uint16_t src, const Type* from, const Type* to);
  void branch(Expr& cond, int label, bool jump_if);

  // ---- places ------------------------------------------------------------------------
  Place place(Expr& e, bool for_write);
  uint16_t storage_slot(Expr& e, bool for_write);
  // The first slot of element `i` (u64) of the storage vector at `base`;
  // reverts IndexOutOfBounds(i, length) past the end.
  uint16_t store_vec_slot(uint16_t base, uint16_t i);
  uint16_t slot_plus(uint16_t slot, uint64_t k) {
    if (k == 0) return slot;
    uint16_t r = temp(ValType::U256);
    uint16_t kk = const_word(U256::from_u64(k));
    emit(Op::WADD, {r, slot, kk});
    return r;
  }
  Val load(const Place& p, const Val* hint);
  void store(const Place& p, const Val& v);
  uint16_t wide_offset(uint16_t index);
  void load_storage(uint16_t slot, const Type* t, const std::vector<uint16_t>& dst, size_t& i,
                    uint64_t& off);
  void store_storage(uint16_t slot, const Type* t, const std::vector<uint16_t>& src, size_t& i,
                     uint64_t& off);
  void iter_map_register(uint16_t base, uint16_t key_word);
  unsigned elem_size(const Type* container) const {
    if (container->kind == Type::Kind::Bytes || container->kind == Type::Kind::String) return 1;
    return vm_type(container->elem) == ValType::U64 ? 8 : 32;
  }

  // ---- statements ----------------------------------------------------------------------
  void gen_block(Block& b);
  void gen_stmt(Stmt& s);
  void gen_return(Stmt& s);
  void gen_throw(Expr& call);
  void throw_builtin(ErrorDecl* e, std::initializer_list<uint16_t> fields);

  ModuleGen& mg_;
  FnDecl& f_;
  uint16_t index_;
  vm::Function out_;
  std::vector<int64_t> labels_;
  struct Fixup {
    size_t at;
    int label;
  };
  std::vector<Fixup> fixups_;
  std::vector<Temp> temps_;
  std::vector<Run> runs_;
  std::vector<TempEntry> stack_;
  std::vector<std::pair<int, int>> loops_;                   // (continue label, break label)
  std::map<uint64_t, uint16_t> small_consts_;                // value -> prologue register
  std::map<std::array<uint64_t, 4>, uint16_t> word_consts_;  // limbs -> prologue register
  Span span_;
  bool too_many_regs_ = false;
  uint16_t empty_buf_ = 0;
  bool has_empty_buf_ = false;
};

class ModuleGen {
 public:
  ModuleGen(Program& p, Diagnostics& d, ContractDecl& c) : p_(p), d_(d), c_(c) {}

  ContractOutput run();

  uint16_t fn_ref(FnDecl* f);
  uint16_t event_ref(const EventDecl* e) { return event_index_.at(e); }
  uint16_t error_ref(const ErrorDecl* e) { return error_index_.at(e); }
  ErrorDecl* index_error() { return index_error_.get(); }
  uint16_t word_const(const U256& v);
  uint16_t bytes_const(const std::string& s);
  Program& program() { return p_; }
  Diagnostics& diags() { return d_; }
  ContractDecl& contract() { return c_; }

 private:
  void check_limits();
  // The ABI and debug info (codegen_abi.cpp).
  std::string loc(Span s) const;
  static AbiParam abi_param(const std::string& name, const Type* t, int depth = 0);
  static std::vector<AbiParam> abi_params(const std::vector<Param>& ps);
  void fill_abi(ContractOutput& out) const;
  static std::string type_json_tail(const Type* t);
  // How a storage value of `t` lies in slots, for tools (the ABI's storage
  // "layout"): {"kind":"value","type":T[,"variants":[..]]},
  // {"kind":"struct","type":T,"fields":[{"name":N,"offset":O,"layout":L}]},
  // {"kind":"map"|"iter_map","key":K,"value":L}, {"kind":"vec","element":L}.
  static std::string storage_layout_json(const Type* t);
  std::string params_json(const std::vector<Param>& ps) const;
  std::string abi_json() const;
  std::string debug_json(const std::vector<std::unique_ptr<FnGen>>& gens) const;

  Program& p_;
  Diagnostics& d_;
  ContractDecl& c_;
  vm::Module mod_;
  std::map<const FnDecl*, uint16_t> fn_index_;
  std::vector<FnDecl*> order_;
  std::map<const EventDecl*, uint16_t> event_index_;
  std::map<const ErrorDecl*, uint16_t> error_index_;
  std::unique_ptr<ErrorDecl> index_error_;
  std::unique_ptr<ErrorDecl> call_failed_error_;
};

}  // namespace writ::compiler::codegen_internal
