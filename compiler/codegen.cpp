// Code generation (contract in codegen.hpp).
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
#include "codegen.hpp"

#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <functional>
#include <map>
#include <set>
#include <sstream>

#include "writ/vm/abi.hpp"
#include "writ/vm/opcodes.hpp"
#include "writ/vm/u256.hpp"
#include "writ/vm/verifier.hpp"

namespace writ::compiler {
namespace {

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

std::string json_str(const std::string& s) {
  std::string o = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      o += '\\';
      o += static_cast<char>(c);
    } else if (c < 0x20) {
      char b[8];
      std::snprintf(b, sizeof b, "\\u%04x", c);
      o += b;
    } else {
      o += static_cast<char>(c);
    }
  }
  return o + "\"";
}

std::string hex32(uint32_t v) {
  char b[16];
  std::snprintf(b, sizeof b, "0x%08x", v);
  return b;
}

U256 pow10(unsigned n) {
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
        error(f_.name_span, "function " + f_.name + " needs more than 4096 registers");
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
  // written to that register here instead.
  uint16_t const_small(uint64_t v, int16_t dst = -1) {
    if (dst >= 0) {
      emit(Op::CONST, {dst, static_cast<int64_t>(v)});
      return static_cast<uint16_t>(dst);
    }
    auto it = small_consts_.find(v);
    if (it != small_consts_.end()) return it->second;
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

  ContractOutput run() {
    // Contract functions first (in declaration order), then free functions as
    // they are reached.
    for (auto& f : c_.fns) fn_ref(f.get());
    for (auto& [name, e] : p_.events) {
      event_index_[e] = static_cast<uint16_t>(mod_.events.size());
      vm::Event ev;
      ev.name = e->name;
      for (const Param& f : e->fields) {
        std::vector<ValType> ts;
        flatten(f.resolved, ts);
        for (ValType t : ts) ev.fields.push_back({t, f.indexed});
      }
      mod_.events.push_back(ev);
    }
    std::vector<ErrorDecl*> errs;
    for (auto& [name, e] : p_.errors) errs.push_back(e);
    errs.push_back(p_.transfer_failed.get());
    index_error_ = std::make_unique<ErrorDecl>();
    index_error_->name = "IndexOutOfBounds";
    index_error_->fields.resize(2);
    index_error_->fields[0].name = "index";
    index_error_->fields[0].resolved = p_.types.u64();
    index_error_->fields[1].name = "length";
    index_error_->fields[1].resolved = p_.types.u64();
    errs.push_back(index_error_.get());
    // Not thrown by compiled code: the VM hands it to a caller whose callee
    // trapped or was refused (vm/abi.hpp); listed so that the ABI decodes it.
    call_failed_error_ = std::make_unique<ErrorDecl>();
    call_failed_error_->name = std::string(vm::kCallFailedName);
    call_failed_error_->fields.resize(2);
    call_failed_error_->fields[0].name = "callee";
    call_failed_error_->fields[0].resolved = p_.types.address();
    call_failed_error_->fields[1].name = "status";
    call_failed_error_->fields[1].resolved = p_.types.u64();
    errs.push_back(call_failed_error_.get());
    for (ErrorDecl* e : errs) {
      error_index_[e] = static_cast<uint16_t>(mod_.errors.size());
      vm::ErrorDecl er;
      er.name = e->name;
      for (const Param& f : e->fields) flatten(f.resolved, er.fields);
      mod_.errors.push_back(er);
    }
    std::vector<std::unique_ptr<FnGen>> gens;
    for (size_t i = 0; i < order_.size(); ++i) {
      auto g = std::make_unique<FnGen>(*this, *order_[i], static_cast<uint16_t>(i));
      mod_.functions.push_back(g->run());
      gens.push_back(std::move(g));
    }
    for (size_t i = 0; i < order_.size(); ++i) {
      FnDecl* f = order_[i];
      if (!f->contract || !f->is_pub) continue;
      vm::Export e;
      e.name = mod_.functions[i].name;
      e.func = static_cast<uint16_t>(i);
      e.flags = (f->is_view ? vm::kExportView : 0) | (f->is_payable ? vm::kExportPayable : 0) |
                (f->is_reentrant ? vm::kExportReentrant : 0);
      e.selector = vm::selector_of(e.name, mod_.functions[i].params);
      mod_.exports.push_back(e);
    }
    std::sort(mod_.exports.begin(), mod_.exports.end(),
              [](const vm::Export& a, const vm::Export& b) { return a.selector < b.selector; });
    for (size_t i = 1; i < mod_.exports.size(); ++i)
      if (mod_.exports[i].selector == mod_.exports[i - 1].selector)
        d_.error(c_.span, "functions " + mod_.exports[i - 1].name + " and " + mod_.exports[i].name +
                              " have the same selector; rename one");
    const SourceFile& root = p_.sources.file(0);
    uint8_t h[32];
    SHA256(reinterpret_cast<const uint8_t*>(root.text.data()), root.text.size(), h);
    std::string hex;
    for (uint8_t b : h) {
      static const char* kHex = "0123456789abcdef";
      hex += kHex[b >> 4];
      hex += kHex[b & 15];
    }
    mod_.metadata.push_back({"compiler", kCompilerVersion});
    mod_.metadata.push_back({"contract", c_.name});
    mod_.metadata.push_back({"source_sha256", hex});
    std::sort(mod_.metadata.begin(), mod_.metadata.end(),
              [](const vm::MetaEntry& a, const vm::MetaEntry& b) { return a.key < b.key; });

    ContractOutput out;
    out.name = c_.name;
    fill_abi(out);
    out.module = mod_;
    out.abi_json = abi_json();
    out.debug_json = debug_json(gens);
    return out;
  }

  uint16_t fn_ref(FnDecl* f) {
    auto it = fn_index_.find(f);
    if (it != fn_index_.end()) return it->second;
    uint16_t i = static_cast<uint16_t>(order_.size());
    fn_index_[f] = i;
    order_.push_back(f);
    return i;
  }
  uint16_t event_ref(const EventDecl* e) { return event_index_.at(e); }
  uint16_t error_ref(const ErrorDecl* e) { return error_index_.at(e); }
  ErrorDecl* index_error() { return index_error_.get(); }
  uint16_t word_const(const U256& v) {
    for (size_t i = 0; i < mod_.constants.size(); ++i)
      if (mod_.constants[i].kind == vm::Constant::Kind::Word && mod_.constants[i].word == v)
        return static_cast<uint16_t>(i);
    vm::Constant c;
    c.word = v;
    mod_.constants.push_back(c);
    return static_cast<uint16_t>(mod_.constants.size() - 1);
  }
  uint16_t bytes_const(const std::string& s) {
    std::vector<uint8_t> b(s.begin(), s.end());
    for (size_t i = 0; i < mod_.constants.size(); ++i)
      if (mod_.constants[i].kind == vm::Constant::Kind::Bytes && mod_.constants[i].bytes == b)
        return static_cast<uint16_t>(i);
    vm::Constant c;
    c.kind = vm::Constant::Kind::Bytes;
    c.bytes = b;
    mod_.constants.push_back(c);
    return static_cast<uint16_t>(mod_.constants.size() - 1);
  }
  Program& program() { return p_; }
  Diagnostics& diags() { return d_; }
  ContractDecl& contract() { return c_; }

 private:
  std::string loc(Span s) const {
    const SourceFile& f = p_.sources.file(s.file);
    auto [l, c] = f.line_col(s.begin);
    return "\"file\":" + json_str(f.path) + ",\"line\":" + std::to_string(l) +
           ",\"column\":" + std::to_string(c);
  }

  // A value's ABI description, with a struct's fields and an enum's variant
  // names, so that tools print values as the author wrote the types.
  static AbiParam abi_param(const std::string& name, const Type* t, int depth = 0) {
    AbiParam a;
    a.name = name;
    a.type = t->abi_name();
    flatten(t, a.flat);
    if (t->kind == Type::Kind::Struct && t->strukt && depth < 32)
      for (const Param& f : t->strukt->fields)
        a.fields.push_back(abi_param(f.name, f.resolved, depth + 1));
    if (t->kind == Type::Kind::Enum && t->enm) a.variants = t->enm->variants;
    return a;
  }

  static std::vector<AbiParam> abi_params(const std::vector<Param>& ps) {
    std::vector<AbiParam> out;
    for (const Param& p : ps) {
      AbiParam a = abi_param(p.name, p.resolved);
      a.indexed = p.indexed;
      out.push_back(std::move(a));
    }
    return out;
  }

  void fill_abi(ContractOutput& out) const {
    for (size_t i = 0; i < order_.size(); ++i) {
      FnDecl* f = order_[i];
      if (!f->contract || !f->is_pub) continue;
      AbiEntry e;
      e.name = mod_.functions[i].name;
      e.selector = vm::selector_of(e.name, mod_.functions[i].params);
      e.inputs = abi_params(f->params);
      for (const Type* t : f->result_types) e.outputs.push_back(abi_param("", t));
      e.view = f->is_view;
      e.payable = f->is_payable;
      e.reentrant = f->is_reentrant;
      e.constructor = f->is_init;
      out.functions.push_back(e);
    }
    for (const auto& [name, ev] : p_.events) {
      AbiEntry e;
      e.name = name;
      e.inputs = abi_params(ev->fields);
      out.events.push_back(e);
    }
    for (size_t i = 0; i < mod_.errors.size(); ++i) {
      for (const auto& [er, idx] : error_index_) {
        if (idx != i) continue;
        AbiEntry e;
        e.name = er->name;
        e.selector = vm::selector_of(mod_.errors[i].name, mod_.errors[i].fields);
        e.inputs = abi_params(er->fields);
        out.errors.push_back(e);
      }
    }
  }

  // ,"abi":[VM types] and, for a struct, its "fields" (each with its own
  // name, type, abi, ...), for an enum its "variants" by index: what tools
  // need to print a value by its Writ type from the ABI alone.
  static std::string type_json_tail(const Type* t) {
    std::vector<ValType> ts;
    flatten(t, ts);
    std::string o = ",\"abi\":[";
    for (size_t j = 0; j < ts.size(); ++j)
      o += (j ? ",\"" : "\"") + std::string(vm::abi_type_name(ts[j])) + "\"";
    o += "]";
    if (t->kind == Type::Kind::Struct && t->strukt) {
      o += ",\"fields\":[";
      for (size_t i = 0; i < t->elems.size() && i < t->strukt->fields.size(); ++i)
        o += (i ? ",{\"name\":" : "{\"name\":") + json_str(t->strukt->fields[i].name) +
             ",\"type\":" + json_str(t->elems[i]->abi_name()) + type_json_tail(t->elems[i]) + "}";
      o += "]";
    }
    if (t->kind == Type::Kind::Enum && t->enm) {
      o += ",\"variants\":[";
      for (size_t i = 0; i < t->enm->variants.size(); ++i)
        o += (i ? "," : "") + json_str(t->enm->variants[i]);
      o += "]";
    }
    return o;
  }

  std::string params_json(const std::vector<Param>& ps) const {
    std::string o = "[";
    for (size_t i = 0; i < ps.size(); ++i) {
      o += (i ? "," : "") + std::string("{\"name\":") + json_str(ps[i].name) +
           ",\"type\":" + json_str(ps[i].resolved->abi_name());
      if (ps[i].indexed) o += ",\"indexed\":true";
      o += type_json_tail(ps[i].resolved) + "}";
    }
    return o + "]";
  }

  std::string abi_json() const {
    std::string o = "{\n  \"contract\": " + json_str(c_.name) +
                    ",\n  \"compiler\": " + json_str(kCompilerVersion) + ",\n  \"functions\": [";
    bool first = true;
    for (size_t i = 0; i < order_.size(); ++i) {
      FnDecl* f = order_[i];
      if (!f->contract || !f->is_pub) continue;
      const vm::Function& vf = mod_.functions[i];
      o += first ? "\n    " : ",\n    ";
      first = false;
      o += "{\"name\":" + json_str(f->is_init ? "$init" : f->name) + ",\"selector\":\"" +
           hex32(vm::selector_of(vf.name, vf.params)) +
           "\",\"signature\":" + json_str(vm::signature_of(vf.name, vf.params)) +
           ",\"constructor\":" + (f->is_init ? "true" : "false") +
           ",\"view\":" + (f->is_view ? "true" : "false") +
           ",\"payable\":" + (f->is_payable ? "true" : "false") +
           ",\"reentrant\":" + (f->is_reentrant ? "true" : "false") +
           ",\"inputs\":" + params_json(f->params) + ",\"outputs\":[";
      for (size_t j = 0; j < f->result_types.size(); ++j)
        o += (j ? "," : "") + std::string("{\"type\":") + json_str(f->result_types[j]->abi_name()) +
             type_json_tail(f->result_types[j]) + "}";
      o += "]," + loc(f->name_span) + "}";
    }
    o += "\n  ],\n  \"events\": [";
    first = true;
    for (const auto& [name, e] : p_.events) {
      const vm::Event& ve = mod_.events[event_index_.at(e)];
      o += first ? "\n    " : ",\n    ";
      first = false;
      o += "{\"name\":" + json_str(name) +
           ",\"topic\":" + json_str(vm::to_hex_string(vm::event_topic(ve))) +
           ",\"fields\":" + params_json(e->fields) + "}";
    }
    o += "\n  ],\n  \"errors\": [";
    first = true;
    for (size_t i = 0; i < mod_.errors.size(); ++i) {
      const vm::ErrorDecl& ve = mod_.errors[i];
      const ErrorDecl* src = nullptr;
      for (const auto& [e, idx] : error_index_)
        if (idx == i) src = e;
      o += first ? "\n    " : ",\n    ";
      first = false;
      o += "{\"name\":" + json_str(ve.name) + ",\"selector\":\"" +
           hex32(vm::selector_of(ve.name, ve.fields)) +
           "\",\"fields\":" + (src ? params_json(src->fields) : "[]") + "}";
    }
    o += "\n  ],\n  \"storage\": [";
    first = true;
    for (const StorageField& s : c_.storage) {
      o += first ? "\n    " : ",\n    ";
      first = false;
      o += "{\"name\":" + json_str(s.name) + ",\"slot\":" + std::to_string(s.slot) +
           ",\"slots\":" + std::to_string(storage_slots(s.resolved)) +
           ",\"type\":" + json_str(s.resolved->abi_name()) + "}";
    }
    o += "\n  ]\n}\n";
    return o;
  }

  std::string debug_json(const std::vector<std::unique_ptr<FnGen>>& gens) const {
    std::string o = "{\n  \"contract\": " + json_str(c_.name) + ",\n  \"files\": [";
    for (size_t i = 0; i < p_.sources.size(); ++i)
      o += (i ? "," : "") + json_str(p_.sources.file(static_cast<uint32_t>(i)).path);
    o += "],\n  \"functions\": [";
    for (size_t i = 0; i < order_.size(); ++i) {
      const FnDecl* f = order_[i];
      const FnGen& g = *gens[i];
      const SourceFile& sf = p_.sources.file(f->name_span.file);
      auto [l, c] = sf.line_col(f->name_span.begin);
      o += (i ? ",\n    " : "\n    ");
      o += "{\"index\":" + std::to_string(i) + ",\"name\":" + json_str(mod_.functions[i].name) +
           ",\"file\":" + std::to_string(f->name_span.file) + ",\"line\":" + std::to_string(l) +
           ",\"column\":" + std::to_string(c);
      if (f->body) {
        auto [el, ec] = sf.line_col(f->body->span.end > 0 ? f->body->span.end - 1 : 0);
        o += ",\"end_line\":" + std::to_string(el);
        (void)ec;
      }
      o += ",\"code_size\":" + std::to_string(mod_.functions[i].code.size()) + ",\"locals\":[";
      for (size_t k = 0; k < f->locals.size() && k < g.local_regs.size(); ++k) {
        o += (k ? "," : "") + std::string("{\"name\":") + json_str(f->locals[k].name) +
             ",\"type\":" + json_str(f->locals[k].type->name()) + ",\"registers\":[";
        for (size_t r = 0; r < g.local_regs[k].size(); ++r)
          o += (r ? "," : "") + std::to_string(g.local_regs[k][r]);
        o += "]}";
      }
      o += "],\"pcs\":[";
      // [pc, file, line, column, end_line, end_column] per instruction.
      for (size_t k = 0; k < g.pcs.size(); ++k) {
        const auto& ps = g.pcs[k];
        const SourceFile& pf = p_.sources.file(ps.span.file);
        auto [bl, bc] = pf.line_col(ps.span.begin);
        auto [elx, ecx] = pf.line_col(ps.span.end > ps.span.begin ? ps.span.end : ps.span.begin);
        o += (k ? "," : "") + std::string("[") + std::to_string(ps.pc) + "," +
             std::to_string(ps.span.file) + "," + std::to_string(bl) + "," + std::to_string(bc) +
             "," + std::to_string(elx) + "," + std::to_string(ecx) + "]";
      }
      o += "]}";
    }
    o += "\n  ]\n}\n";
    return o;
  }

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

// ---------------------------------------------------------------------------
// FnGen

FnGen::FnGen(ModuleGen& mg, FnDecl& f, uint16_t index) : mg_(mg), f_(f), index_(index) {}

void FnGen::error(Span s, const std::string& msg) {
  mg_.diags().error(s, msg);
}

uint16_t FnGen::const_word(const U256& v, int16_t dst) {
  if (dst < 0) {
    std::array<uint64_t, 4> key = {v.limb[0], v.limb[1], v.limb[2], v.limb[3]};
    auto it = word_consts_.find(key);
    if (it != word_consts_.end()) return it->second;
    uint16_t r = new_reg(ValType::U256);
    word_consts_[key] = r;
    return r;
  }
  uint16_t r = static_cast<uint16_t>(dst);
  if (v.fits_u64())
    emit(Op::WCONSTI, {r, static_cast<int64_t>(v.low64())});
  else
    emit(Op::WCONST, {r, mg_.word_const(v)});
  return r;
}

vm::Function FnGen::run() {
  out_.name = f_.is_init ? "$init" : f_.name;
  // Parameters occupy the first registers, flattened.
  size_t p = 0;
  local_regs.resize(f_.locals.size());
  for (size_t i = 0; i < f_.params.size(); ++i) {
    std::vector<ValType> ts;
    if (f_.params[i].storage_ref)
      ts.push_back(ValType::U256);  // the slot of the storage place
    else
      flatten(f_.params[i].resolved, ts);
    for (ValType t : ts) {
      local_regs[i].push_back(static_cast<uint16_t>(p++));
      out_.params.push_back(t);
    }
  }
  for (const Type* t : f_.result_types) flatten(t, out_.results);
  span_ = f_.name_span;
  // Entry checks of public functions: arguments of narrow types must be in range.
  if (f_.is_pub && f_.contract) {
    for (size_t i = 0; i < f_.params.size(); ++i) {
      size_t k = 0;
      range_check_value(local_regs[i], f_.params[i].resolved, k);
    }
  }
  if (f_.body) gen_block(*f_.body);
  // Falling off the end of a function without results returns; the verifier
  // requires a terminator either way.
  // (A label placed at the very end, e.g. after a final if, also needs code.)
  if (reachable_here()) {
    if (f_.body)
      span_ = Span{f_.body->span.file, f_.body->span.end > 0 ? f_.body->span.end - 1 : 0,
                   f_.body->span.end};
    if (out_.results.empty())
      emit(Op::RET, {0});
    else
      emit(Op::UNREACHABLE, {});
  }
  emit_prologue();
  for (const Fixup& fx : fixups_) {
    int64_t pos = labels_[fx.label];
    for (int k = 0; k < 4; ++k)
      out_.code[fx.at + k] = static_cast<uint8_t>(static_cast<uint64_t>(pos) >> (8 * k));
  }
  return out_;
}

// Prepends the loads of the constant registers to the generated body.
void FnGen::emit_prologue() {
  if (small_consts_.empty() && word_consts_.empty()) return;
  std::vector<uint8_t> body = std::move(out_.code);
  std::vector<PcSpan> body_pcs = std::move(pcs);
  std::vector<Fixup> body_fixups = std::move(fixups_);
  out_.code.clear();
  pcs.clear();
  fixups_.clear();
  span_ = f_.name_span;
  for (const auto& [v, r] : small_consts_) emit(Op::CONST, {r, static_cast<int64_t>(v)});
  for (const auto& [limbs, r] : word_consts_) {
    U256 v{{limbs[0], limbs[1], limbs[2], limbs[3]}};
    const_word(v, static_cast<int16_t>(r));
  }
  const size_t shift = out_.code.size();
  out_.code.insert(out_.code.end(), body.begin(), body.end());
  for (PcSpan ps : body_pcs) {
    ps.pc += static_cast<uint32_t>(shift);
    pcs.push_back(ps);
  }
  for (Fixup fx : body_fixups) {
    fx.at += shift;
    fixups_.push_back(fx);
  }
  for (int64_t& l : labels_)
    if (l >= 0) l += static_cast<int64_t>(shift);
}

// ---- statements ------------------------------------------------------------------

void FnGen::gen_block(Block& b) {
  for (auto& s : b.stmts) gen_stmt(*s);
}

void FnGen::gen_stmt(Stmt& s) {
  span_ = s.span;
  size_t m = mark();
  switch (s.kind) {
    case Stmt::Kind::Let: {
      for (size_t i = 0; i < s.locals.size(); ++i) {
        int li = s.locals[i];
        if (static_cast<size_t>(li) >= local_regs.size()) local_regs.resize(li + 1);
        for (ValType t : flat(f_.locals[li].type)) local_regs[li].push_back(new_reg(t));
      }
      if (s.locals.size() == 1) {
        Val dst{local_regs[s.locals[0]]};
        gen_into(*s.exprs[0], dst);
      } else {
        Val v = gen(*s.exprs[0]);
        size_t k = 0;
        for (int li : s.locals)
          for (uint16_t r : local_regs[li]) move(r, v.regs[k++]);
      }
      break;
    }
    case Stmt::Kind::Assign: {
      Expr& target = *s.exprs[0];
      Expr& value = *s.exprs[1];
      Place p = place(target, true);
      if (s.compound) {
        Val cur = load(p, nullptr);
        Val rhs = gen(value);
        uint16_t rv = rhs.regs[0];
        const Type* t = target.type;
        if (t->kind == Type::Kind::Fixed && value.type->is_int()) {
          // wad * n: scale by an integer.
          rv = as_word(rv);
        }
        uint16_t dst = p.kind == Place::Kind::Regs ? p.regs.regs[0] : temp(reg_type(cur.regs[0]));
        arith(s.assign_op, t, cur.regs[0], rv, dst);
        if (p.kind != Place::Kind::Regs) store(p, Val{{dst}});
      } else if (p.kind == Place::Kind::Regs) {
        // Evaluate into a temporary first when the value reads the target
        // (x = f(x) with several registers), else straight into the target.
        Val v = gen(value, p.regs.regs.size() == 1 ? &p.regs : nullptr);
        copy(p.regs, v);
      } else {
        Val v = gen(value);
        store(p, v);
      }
      break;
    }
    case Stmt::Kind::Expr:
      gen(*s.exprs[0]);
      break;
    case Stmt::Kind::If: {
      // `if c { break; }` / `if c { continue; }`: one conditional branch.
      if (!s.else_body && s.body->stmts.size() == 1 && !loops_.empty() &&
          (s.body->stmts[0]->kind == Stmt::Kind::Break ||
           s.body->stmts[0]->kind == Stmt::Kind::Continue)) {
        bool brk = s.body->stmts[0]->kind == Stmt::Kind::Break;
        branch(*s.exprs[0], brk ? loops_.back().second : loops_.back().first, true);
        break;
      }
      int else_l = new_label();
      branch(*s.exprs[0], else_l, false);
      release(m);
      gen_block(*s.body);
      if (s.else_body) {
        int end_l = new_label();
        if (reachable_here()) emit(Op::JMP, {end_l});
        place_label(else_l);
        gen_block(*s.else_body);
        place_label(end_l);
      } else {
        place_label(else_l);
      }
      break;
    }
    case Stmt::Kind::While: {
      // Rotated loop: test at the bottom, one branch per iteration.
      int top = new_label(), test = new_label(), exit = new_label();
      emit(Op::JMP, {test});
      place_label(top);
      loops_.push_back({test, exit});
      gen_block(*s.body);
      loops_.pop_back();
      place_label(test);
      span_ = s.exprs[0]->span;
      size_t m2 = mark();
      branch(*s.exprs[0], top, true);
      release(m2);
      place_label(exit);
      break;
    }
    case Stmt::Kind::For: {
      if (s.exprs.size() == 1) {
        gen_for_each(s, m);
        break;
      }
      int li = s.locals[0];
      if (static_cast<size_t>(li) >= local_regs.size()) local_regs.resize(li + 1);
      uint16_t i = new_reg(ValType::U64);
      local_regs[li] = {i};
      uint16_t end = new_reg(ValType::U64);  // lives across the body
      gen_into(*s.exprs[0], Val{{i}});
      gen_into(*s.exprs[1], Val{{end}});
      release(m);
      gen_counted_loop(s, i, end, [] {});
      break;
    }
    case Stmt::Kind::Return:
      gen_return(s);
      break;
    case Stmt::Kind::Break:
      emit(Op::JMP, {loops_.back().second});
      break;
    case Stmt::Kind::Continue:
      emit(Op::JMP, {loops_.back().first});
      break;
    case Stmt::Kind::Emit: {
      Expr& call = *s.exprs[0];
      auto* ev = static_cast<const EventDecl*>(call.decl);
      std::vector<ValType> types;
      for (const Param& p : ev->fields) flatten(p.resolved, types);
      uint16_t base = run_regs(types);
      size_t k = 0;
      for (size_t i = 0; i < ev->fields.size(); ++i) {
        size_t n = flat(ev->fields[i].resolved).size();
        Val dst;
        for (size_t j = 0; j < n; ++j) dst.regs.push_back(static_cast<uint16_t>(base + k + j));
        gen_into(*call.kids[i + 1], dst);
        k += n;
      }
      emit(Op::EMIT, {mg_.event_ref(ev), base});
      break;
    }
    case Stmt::Kind::Revert:
      gen_throw(*s.exprs[0]);
      break;
    case Stmt::Kind::Block:
      gen_block(*s.body);
      break;
  }
  release(m);
}

void FnGen::gen_return(Stmt& s) {
  if (s.exprs.empty()) {
    emit(Op::RET, {0});
    return;
  }
  // One scalar already in a register: return it in place.
  if (s.exprs.size() == 1 && out_.results.size() == 1) {
    uint16_t r = gen1(*s.exprs[0]);
    emit(Op::RET, {r});
    return;
  }
  uint16_t base = run_regs(out_.results);
  if (s.exprs.size() == 1 && f_.result_types.size() > 1) {
    // return f(): the call's results, in order, are this function's.
    Val v = gen(*s.exprs[0]);
    for (size_t k = 0; k < v.regs.size(); ++k) move(static_cast<uint16_t>(base + k), v.regs[k]);
    emit(Op::RET, {base});
    return;
  }
  size_t k = 0;
  for (size_t i = 0; i < s.exprs.size(); ++i) {
    size_t n = flat(f_.result_types[i]).size();
    Val dst;
    for (size_t j = 0; j < n; ++j) dst.regs.push_back(static_cast<uint16_t>(base + k + j));
    gen_into(*s.exprs[i], dst);
    k += n;
  }
  emit(Op::RET, {base});
}

void FnGen::gen_throw(Expr& call) {
  auto* er = static_cast<const ErrorDecl*>(call.decl);
  std::vector<ValType> types;
  for (const Param& p : er->fields) flatten(p.resolved, types);
  uint16_t base = run_regs(types);
  size_t k = 0;
  for (size_t i = 0; i < er->fields.size(); ++i) {
    size_t n = flat(er->fields[i].resolved).size();
    Val dst;
    for (size_t j = 0; j < n; ++j) dst.regs.push_back(static_cast<uint16_t>(base + k + j));
    gen_into(*call.kids[i + 1], dst);
    k += n;
  }
  emit(Op::THROW, {mg_.error_ref(er), base});
}

void FnGen::throw_builtin(ErrorDecl* e, std::initializer_list<uint16_t> fields) {
  std::vector<ValType> types;
  for (const Param& p : e->fields) flatten(p.resolved, types);
  uint16_t base = run_regs(types);
  size_t k = 0;
  for (uint16_t r : fields) move(static_cast<uint16_t>(base + k++), r);
  emit(Op::THROW, {mg_.error_ref(e), base});
}

// ---- conditions ------------------------------------------------------------------

void FnGen::branch(Expr& c, int label, bool jump_if) {
  if (c.is_const) {
    bool v = c.value == "1";
    if (v == jump_if) emit(Op::JMP, {label});
    return;
  }
  if (c.kind == Expr::Kind::Unary && c.un == UnOp::Not) {
    branch(*c.kids[0], label, !jump_if);
    return;
  }
  if (c.kind == Expr::Kind::Binary) {
    BinOp op = c.bin;
    if (op == BinOp::And || op == BinOp::Or) {
      bool is_and = op == BinOp::And;
      if (is_and != jump_if) {
        // and/false: both must hold; or/true: either suffices.
        branch(*c.kids[0], label, jump_if);
        branch(*c.kids[1], label, jump_if);
      } else {
        int skip = new_label();
        branch(*c.kids[0], skip, !jump_if);
        branch(*c.kids[1], label, jump_if);
        place_label(skip);
      }
      return;
    }
    const Type* t = c.kids[0]->type;
    bool cmp = op == BinOp::Eq || op == BinOp::Ne || op == BinOp::Lt || op == BinOp::Le ||
               op == BinOp::Gt || op == BinOp::Ge;
    if (cmp && t && t->is_scalar() && vm_type(t) == ValType::U64) {
      uint16_t a = gen1(*c.kids[0]);
      uint16_t b = gen1(*c.kids[1]);
      bool s = t->is_int() && t->is_signed;
      Op lt = s ? Op::BLT_S : Op::BLT_U, ge = s ? Op::BGE_S : Op::BGE_U;
      switch (op) {
        case BinOp::Eq:
          emit(jump_if ? Op::BEQ : Op::BNE, {a, b, label});
          break;
        case BinOp::Ne:
          emit(jump_if ? Op::BNE : Op::BEQ, {a, b, label});
          break;
        case BinOp::Lt:
          emit(jump_if ? lt : ge, {a, b, label});
          break;
        case BinOp::Ge:
          emit(jump_if ? ge : lt, {a, b, label});
          break;
        case BinOp::Gt:
          emit(jump_if ? lt : ge, {b, a, label});
          break;
        case BinOp::Le:
          emit(jump_if ? ge : lt, {b, a, label});
          break;
        default:
          break;
      }
      return;
    }
  }
  uint16_t r = gen1(c);
  emit(jump_if ? Op::BR_IF : Op::BR_IFNOT, {r, label});
}

// ---- expressions -----------------------------------------------------------------

Val FnGen::gen(Expr& e, const Val* hint) {
  Span saved = span_;
  span_ = e.span;
  Val out;
  if (e.is_const && e.type && e.type->is_scalar() && e.kind != Expr::Kind::Call) {
    out = gen_const(e, hint);
    span_ = saved;
    return out;
  }
  switch (e.kind) {
    case Expr::Kind::String: {
      uint16_t r = dst_or_temp(hint, ValType::Buf);
      emit(Op::BCONST, {r, mg_.bytes_const(e.text)});
      out.regs = {r};
      break;
    }
    case Expr::Kind::Name:
      if (e.ref == Ref::Local && !e.is_storage_ref) {
        out.regs = local_regs[e.index];
      } else {
        Place p = place(e, false);
        out = load(p, hint);
      }
      break;
    case Expr::Kind::Field:
    case Expr::Kind::Index: {
      Place p = place(e, false);
      out = load(p, hint);
      break;
    }
    case Expr::Kind::Unary:
      out = gen_unary(e, hint);
      break;
    case Expr::Kind::Binary:
      out = gen_binary(e, hint);
      break;
    case Expr::Kind::Cast:
      out = gen_cast(e, hint);
      break;
    case Expr::Kind::Call:
      out = gen_call(e, hint);
      break;
    case Expr::Kind::Method:
      out = gen_method(e, hint);
      break;
    case Expr::Kind::Try:
      out = gen_external(*e.kids[0], true, hint);
      break;
    case Expr::Kind::StructLit: {
      auto* sd = static_cast<const StructDecl*>(e.decl);
      Val dst = hint && hint->regs.size() == flat(e.type).size() ? *hint : new_val(e.type, true);
      // Evaluate all fields before writing, in case a field reads the target.
      std::vector<Val> parts(sd->fields.size());
      for (size_t i = 0; i < e.field_names.size(); ++i) {
        for (size_t j = 0; j < sd->fields.size(); ++j)
          if (sd->fields[j].name == e.field_names[i]) parts[j] = gen(*e.kids[i]);
      }
      size_t k = 0;
      for (size_t j = 0; j < sd->fields.size(); ++j)
        for (uint16_t r : parts[j].regs) move(dst.regs[k++], r);
      out = dst;
      break;
    }
    case Expr::Kind::ArrayLit: {
      const Type* t = e.type;
      unsigned es = elem_size(t);
      uint64_t n = t->kind == Type::Kind::Array ? t->length : e.kids.size();
      uint16_t buf = dst_or_temp(hint, ValType::Buf);
      uint16_t len = const_small(n * es);
      emit(Op::BNEW, {buf, len});
      for (size_t i = 0; i < e.kids.size(); ++i) {
        uint16_t v = gen1(*e.kids[i]);
        if (es == 8) {
          emit(Op::ST64, {buf, const_small(i), v});
        } else {
          emit(Op::STW, {buf, const_small(i * 32), v});
        }
      }
      out.regs = {buf};
      break;
    }
    default:
      error(e.span, "internal compiler error: cannot generate this expression");
      break;
  }
  span_ = saved;
  return out;
}

Val FnGen::gen_const(Expr& e, const Val* hint) {
  auto v = vm::parse_u256(e.value);
  U256 val = v ? *v : U256::zero();
  Val out;
  bool small = vm_type(e.type) == ValType::U64;
  ValType vt = small ? ValType::U64 : ValType::U256;
  if (hint && hint->regs.size() == 1 && reg_type(hint->regs[0]) == vt) {
    if (small)
      const_small(val.low64(), static_cast<int16_t>(hint->regs[0]));
    else
      const_word(val, static_cast<int16_t>(hint->regs[0]));
    out.regs = {hint->regs[0]};
  } else {
    out.regs = {small ? const_small(val.low64()) : const_word(val)};
  }
  return out;
}

// Range checks every scalar of a (possibly struct) value held in `regs`.
void FnGen::range_check_value(const std::vector<uint16_t>& regs, const Type* t, size_t& k) {
  if (t->kind == Type::Kind::Struct) {
    for (const Type* f : t->elems) range_check_value(regs, f, k);
    return;
  }
  if ((t->kind == Type::Kind::Vec || t->kind == Type::Kind::Array) && k < regs.size()) {
    // A buffer from outside: every element of a narrow type is checked once,
    // here, so reads inside the function need no checks.
    const Type* et = t->elem;
    bool narrow = et->kind == Type::Kind::Bool || et->kind == Type::Kind::Enum ||
                  (et->is_int() && ((et->bits < 64) || (et->bits > 64 && et->bits < 256)));
    uint16_t buf = regs[k++];
    if (!narrow) return;
    unsigned es = elem_size(t);
    uint16_t n = temp(ValType::U64), i = temp(ValType::U64), v = temp(vm_type(et));
    emit(Op::BLEN, {n, buf});
    emit(Op::SHRI, {n, n, es == 8 ? 3 : 5});
    emit(Op::CONST, {i, 0});
    int top = new_label(), done = new_label();
    emit(Op::BGE_U, {i, n, done});
    place_label(top);
    if (es == 8) {
      emit(Op::LD64, {v, buf, i});
    } else {
      uint16_t off = temp(ValType::U64);
      emit(Op::SHLI, {off, i, 5});
      emit(Op::LDW, {v, buf, off});
    }
    range_check(v, et);
    emit(Op::ADDI, {i, i, 1});
    emit(Op::BLT_U, {i, n, top});
    place_label(done);
    return;
  }
  if (t->is_scalar() && k < regs.size()) range_check(regs[k++], t);
}

void FnGen::range_check(uint16_t r, const Type* t) {
  switch (t->kind) {
    case Type::Kind::Bool:
      emit(Op::FITS_U, {r, 1});
      break;
    case Type::Kind::Enum:
      emit(Op::BELOW, {r, static_cast<int64_t>(t->enm->variants.size())});
      break;
    case Type::Kind::Int:
      if (t->bits < 64)
        emit(t->is_signed ? Op::FITS_S : Op::FITS_U, {r, t->bits});
      else if (t->bits > 64 && t->bits < 256)
        emit(t->is_signed ? Op::WFITS_S : Op::WFITS_U, {r, t->bits});
      break;
    default:
      break;
  }
}

uint16_t FnGen::arith(BinOp op, const Type* t, uint16_t a, uint16_t b, uint16_t dst) {
  bool small = t->is_scalar() && vm_type(t) == ValType::U64;
  bool is_signed = t->is_int() && t->is_signed;
  if (t->kind == Type::Kind::Timestamp || t->kind == Type::Kind::Duration) {
    small = true;
    is_signed = false;
  }
  if (small) {
    Op o;
    switch (op) {
      case BinOp::Add:
        o = is_signed ? Op::ADD_CS : Op::ADD_CU;
        break;
      case BinOp::Sub:
        o = is_signed ? Op::SUB_CS : Op::SUB_CU;
        break;
      case BinOp::Mul:
        o = is_signed ? Op::MUL_CS : Op::MUL_CU;
        break;
      case BinOp::Div:
        o = is_signed ? Op::DIV_S : Op::DIV_U;
        break;
      case BinOp::Rem:
        o = is_signed ? Op::REM_S : Op::REM_U;
        break;
      case BinOp::BitAnd:
        o = Op::AND;
        break;
      case BinOp::BitOr:
        o = Op::OR;
        break;
      case BinOp::BitXor:
        o = Op::XOR;
        break;
      case BinOp::Shl:
        o = Op::SHL;
        break;
      case BinOp::Shr:
        o = is_signed ? Op::SHR_S : Op::SHR_U;
        break;
      case BinOp::Pow: {
        uint16_t wa = as_word(a), wb = as_word(b), wr = temp(ValType::U256);
        emit(Op::WEXP_CU, {wr, wa, wb});
        emit(Op::NARROW_U, {dst, wr});
        range_check(dst, t);
        return dst;
      }
      default:
        o = Op::ADD;
        break;
    }
    emit(o, {dst, a, b});
    if (op == BinOp::Shl && t->is_int() && t->bits < 64)
      emit(Op::ANDI, {dst, dst, static_cast<int64_t>((1ull << t->bits) - 1)});
    else if (op == BinOp::Add || op == BinOp::Sub || op == BinOp::Mul)
      range_check(dst, t);
    return dst;
  }
  bool wsigned = t->is_int() && t->is_signed;
  // Shift amounts are u64 registers; the operand may be wider.
  if ((op == BinOp::Shl || op == BinOp::Shr) && reg_type(b) == ValType::U256) {
    uint16_t n = temp(ValType::U64);
    emit(Op::NARROW_U, {n, b});
    b = n;
  }
  Op o;
  switch (op) {
    case BinOp::Add:
      o = wsigned ? Op::WADD_CS : Op::WADD_CU;
      break;
    case BinOp::Sub:
      o = wsigned ? Op::WSUB_CS : Op::WSUB_CU;
      break;
    case BinOp::Mul:
      o = wsigned ? Op::WMUL_CS : Op::WMUL_CU;
      break;
    case BinOp::Div:
      o = wsigned ? Op::WDIV_S : Op::WDIV_U;
      break;
    case BinOp::Rem:
      o = wsigned ? Op::WREM_S : Op::WREM_U;
      break;
    case BinOp::Pow:
      o = Op::WEXP_CU;
      b = as_word(b);  // the exponent may be any unsigned type
      break;
    case BinOp::BitAnd:
      o = Op::WAND;
      break;
    case BinOp::BitOr:
      o = Op::WOR;
      break;
    case BinOp::BitXor:
      o = Op::WXOR;
      break;
    case BinOp::Shl:
      o = Op::WSHL;
      break;
    case BinOp::Shr:
      o = wsigned ? Op::WSHR_S : Op::WSHR_U;
      break;
    default:
      o = Op::WADD;
      break;
  }
  emit(o, {dst, a, b});
  if (op == BinOp::Shl && t->is_int() && t->bits < 256) {
    U256 mask = vm::sub(vm::shl(U256::from_u64(1), t->bits), U256::from_u64(1));
    emit(Op::WAND, {dst, dst, const_word(mask)});
  } else if (op == BinOp::Add || op == BinOp::Sub || op == BinOp::Mul || op == BinOp::Pow ||
             (op == BinOp::Div && wsigned)) {
    range_check(dst, t);  // i128: MIN / -1 overflows 128 bits though not 256
  }
  return dst;
}

Val FnGen::gen_binary(Expr& e, const Val* hint) {
  BinOp op = e.bin;
  const Type* t = e.type;
  if (op == BinOp::And || op == BinOp::Or || op == BinOp::Eq || op == BinOp::Ne ||
      op == BinOp::Lt || op == BinOp::Le || op == BinOp::Gt || op == BinOp::Ge) {
    const Type* ot = e.kids[0]->type;
    uint16_t dst = dst_or_temp(hint, ValType::U64);
    if (op == BinOp::And || op == BinOp::Or || vm_type(ot) == ValType::U64) {
      if (op != BinOp::And && op != BinOp::Or) {
        uint16_t a = gen1(*e.kids[0]), b = gen1(*e.kids[1]);
        bool s = ot->is_int() && ot->is_signed;
        switch (op) {
          case BinOp::Eq:
            emit(Op::EQ, {dst, a, b});
            break;
          case BinOp::Ne:
            emit(Op::NE, {dst, a, b});
            break;
          case BinOp::Lt:
            emit(s ? Op::LT_S : Op::LT_U, {dst, a, b});
            break;
          case BinOp::Le:
            emit(s ? Op::LE_S : Op::LE_U, {dst, a, b});
            break;
          case BinOp::Gt:
            emit(s ? Op::LT_S : Op::LT_U, {dst, b, a});
            break;
          case BinOp::Ge:
            emit(s ? Op::LE_S : Op::LE_U, {dst, b, a});
            break;
          default:
            break;
        }
        return Val{{dst}};
      }
      int f = new_label();
      uint16_t tmp = temp(ValType::U64);
      emit(Op::CONST, {tmp, 0});
      branch(e, f, false);
      emit(Op::CONST, {tmp, 1});
      place_label(f);
      move(dst, tmp);
      return Val{{dst}};
    }
    uint16_t a = gen1(*e.kids[0]), b = gen1(*e.kids[1]);
    bool s = ot->is_int() && ot->is_signed;
    switch (op) {
      case BinOp::Eq:
        emit(Op::WEQ, {dst, a, b});
        break;
      case BinOp::Ne:
        emit(Op::WNE, {dst, a, b});
        break;
      case BinOp::Lt:
        emit(s ? Op::WLT_S : Op::WLT_U, {dst, a, b});
        break;
      case BinOp::Le:
        emit(s ? Op::WLE_S : Op::WLE_U, {dst, a, b});
        break;
      case BinOp::Gt:
        emit(s ? Op::WLT_S : Op::WLT_U, {dst, b, a});
        break;
      case BinOp::Ge:
        emit(s ? Op::WLE_S : Op::WLE_U, {dst, b, a});
        break;
      default:
        break;
    }
    return Val{{dst}};
  }
  // Immediate forms: a constant right operand of a 64-bit-class bit operation.
  if (vm_type(t) == ValType::U64 && e.kids[1]->is_const && t->is_int() && !t->is_signed &&
      (op == BinOp::BitAnd || op == BinOp::BitXor || op == BinOp::Shl || op == BinOp::Shr)) {
    uint16_t a = gen1(*e.kids[0]);
    uint64_t k = vm::parse_u256(e.kids[1]->value)->low64();
    uint16_t dst = dst_or_temp(hint, ValType::U64);
    Op o = op == BinOp::BitAnd   ? Op::ANDI
           : op == BinOp::BitXor ? Op::XORI
           : op == BinOp::Shl    ? Op::SHLI
                                 : Op::SHRI;
    emit(o, {dst, a, static_cast<int64_t>(k)});
    if (op == BinOp::Shl && t->bits < 64)
      emit(Op::ANDI, {dst, dst, static_cast<int64_t>((1ull << t->bits) - 1)});
    return Val{{dst}};
  }
  uint16_t a = gen1(*e.kids[0]);
  uint16_t b = gen1(*e.kids[1]);
  const Type* lt = e.kids[0]->type;
  const Type* rt = e.kids[1]->type;
  // Fixed-point scaled by an integer: both sides as words.
  if (t->kind == Type::Kind::Fixed) {
    if (lt->is_int()) a = as_word(a);
    if (rt->is_int()) b = as_word(b);
  }
  // Duration scaled by an integer (both u64 registers already).
  uint16_t dst = dst_or_temp(hint, vm_type(t));
  if (hint && hint->regs.size() == 1 && (hint->regs[0] == a || hint->regs[0] == b)) {
    // Writing the target while reading it is fine: instructions read first.
  }
  arith(op, t, a, b, dst);
  return Val{{dst}};
}

Val FnGen::gen_unary(Expr& e, const Val* hint) {
  const Type* t = e.type;
  if (e.un == UnOp::Not) {
    uint16_t x = gen1(*e.kids[0]);
    uint16_t dst = dst_or_temp(hint, ValType::U64);
    emit(Op::EQZ, {dst, x});
    return Val{{dst}};
  }
  uint16_t x = gen1(*e.kids[0]);
  uint16_t dst = dst_or_temp(hint, vm_type(t));
  if (e.un == UnOp::BitNot) {
    if (vm_type(t) == ValType::U64) {
      emit(Op::NOT, {dst, x});
      if (t->is_int() && t->bits < 64)
        emit(Op::ANDI, {dst, dst, static_cast<int64_t>((1ull << t->bits) - 1)});
    } else {
      emit(Op::WNOT, {dst, x});
      if (t->is_int() && t->bits < 256)
        emit(Op::WAND,
             {dst, dst,
              const_word(vm::sub(vm::shl(U256::from_u64(1), t->bits), U256::from_u64(1)))});
    }
    return Val{{dst}};
  }
  // Negation of a signed value: 0 - x, checked.
  if (vm_type(t) == ValType::U64) {
    uint16_t z = const_small(0);
    emit(Op::SUB_CS, {dst, z, x});
  } else {
    uint16_t z = const_word(U256::zero());
    emit(Op::WSUB_CS, {dst, z, x});
    range_check(dst, t);
  }
  return Val{{dst}};
}

void FnGen::convert(uint16_t dst, uint16_t src, const Type* from, const Type* to) {
  auto bits_of = [](const Type* t) -> unsigned {
    if (t->is_int()) return t->bits;
    if (t->kind == Type::Kind::Bool) return 1;
    if (t->is_small()) return 64;
    return 256;
  };
  bool fs = from->is_int() && from->is_signed;
  bool ts = to->is_int() && to->is_signed;
  unsigned tb = bits_of(to);
  ValType fv = vm_type(from), tv = vm_type(to);
  if (fv == ValType::Buf || tv == ValType::Buf || !to->is_int()) {
    // Same representation (address <-> bytes32 <-> u256, string <-> bytes, interface -> address),
    // or widening into a word.
    if (fv == ValType::U64 && tv == ValType::U256)
      emit(fs ? Op::SEXT : Op::ZEXT, {dst, src});
    else
      move(dst, src);
    return;
  }
  if (fv == ValType::U64 && tv == ValType::U64) {
    move(dst, src);
    if (ts) {
      if (!fs)
        emit(Op::FITS_U, {dst, tb - 1});  // unsigned into signed: must stay below 2^(bits-1)
      else if (tb < bits_of(from))
        emit(Op::FITS_S, {dst, tb});
    } else {
      if (fs)
        emit(Op::FITS_U, {dst, std::min(tb, 63u)});  // negative values are huge as unsigned
      else if (tb < bits_of(from))
        emit(Op::FITS_U, {dst, tb});
    }
    return;
  }
  if (fv == ValType::U64 && tv == ValType::U256) {
    if (fs && !ts) {
      emit(Op::FITS_U, {src, 63});
      emit(Op::ZEXT, {dst, src});
    } else {
      emit(fs ? Op::SEXT : Op::ZEXT, {dst, src});
    }
    return;
  }
  if (fv == ValType::U256 && tv == ValType::U64) {
    if (ts) {
      if (fs) {
        emit(Op::NARROW_S, {dst, src});
      } else {
        emit(Op::NARROW_U, {dst, src});
        emit(Op::FITS_U, {dst, 63});
      }
    } else {
      emit(Op::NARROW_U, {dst, src});  // negative signed values are >= 2^64 as unsigned: trap
      if (tb < 64) emit(Op::FITS_U, {dst, tb});
    }
    return;
  }
  // word to word
  move(dst, src);
  if (ts) {
    if (!fs)
      emit(Op::WFITS_U, {dst, tb - 1});
    else if (tb < 256)
      emit(Op::WFITS_S, {dst, tb});
  } else {
    if (fs)
      emit(Op::WFITS_U, {dst, std::min(tb, 255u)});
    else if (tb < bits_of(from))
      emit(Op::WFITS_U, {dst, tb});
  }
}

Val FnGen::gen_cast(Expr& e, const Val* hint) {
  const Type* from = e.kids[0]->type;
  const Type* to = e.type;
  uint16_t src = gen1(*e.kids[0]);
  if (from == to) return Val{{src}};
  uint16_t dst = dst_or_temp(hint, vm_type(to));
  if (from->kind == Type::Kind::Fixed && to->kind == Type::Kind::Fixed) {
    // More decimals (sema refuses fewer): exact, trapping Overflow past 2^256.
    emit(Op::WMUL_CU, {dst, src, const_word(pow10(to->decimals - from->decimals))});
    return Val{{dst}};
  }
  convert(dst, src, from, to);
  return Val{{dst}};
}

Val FnGen::gen_call(Expr& e, const Val* hint) {
  if (e.ref == Ref::Builtin) return gen_builtin(e, hint);
  if (e.ref == Ref::Interface) {
    // IFace(addr) alone is just the address.
    return gen(*e.kids[1], hint);
  }
  auto* f = const_cast<FnDecl*>(static_cast<const FnDecl*>(e.decl));
  uint16_t fi = mg_.fn_ref(f);
  std::vector<ValType> ptypes, rtypes;
  for (const Param& p : f->params) {
    if (p.storage_ref)
      ptypes.push_back(ValType::U256);
    else
      flatten(p.resolved, ptypes);
  }
  for (const Type* t : f->result_types) flatten(t, rtypes);
  uint16_t args = run_regs(ptypes);
  size_t k = 0;
  for (size_t i = 0; i < f->params.size(); ++i) {
    if (f->params[i].storage_ref) {
      move(static_cast<uint16_t>(args + k), storage_slot(*e.kids[i + 1], true));
      k += 1;
      continue;
    }
    size_t n = flat(f->params[i].resolved).size();
    Val dst;
    for (size_t j = 0; j < n; ++j) dst.regs.push_back(static_cast<uint16_t>(args + k + j));
    gen_into(*e.kids[i + 1], dst);
    k += n;
  }
  uint16_t res = run_regs(rtypes);
  span_ = e.span;
  emit(Op::CALL, {fi, args, res});
  Val out;
  for (size_t i = 0; i < rtypes.size(); ++i) out.regs.push_back(static_cast<uint16_t>(res + i));
  return out;
}

// The input of a call: the selector, then `vals` ABI-encoded (vm/abi.hpp):
// one head word per value, and for each buffer its offset in the head and a
// tail entry (a length word, then the bytes padded to whole words).
uint16_t FnGen::encode_input(uint32_t sel, const std::vector<uint16_t>& vals, const Val* hint) {
  const size_t n = vals.size();
  const uint64_t head = 32 * n;
  std::vector<uint16_t> lens, padded;  // per buffer, in order
  uint16_t size = 0;
  for (uint16_t r : vals) {
    if (reg_type(r) != ValType::Buf) continue;
    if (!size) {
      size = temp(ValType::U64);
      emit(Op::CONST, {size, static_cast<int64_t>(4 + head)});
    }
    uint16_t len = temp(ValType::U64), pad = temp(ValType::U64);
    emit(Op::BLEN, {len, r});
    emit(Op::ADDI, {pad, len, 31});
    emit(Op::SHRI, {pad, pad, 5});
    emit(Op::SHLI, {pad, pad, 5});
    emit(Op::ADD, {size, size, pad});
    emit(Op::ADDI, {size, size, 32});
    lens.push_back(len);
    padded.push_back(pad);
  }
  uint16_t buf = dst_or_temp(hint, ValType::Buf);
  // The selector goes in as the top 4 bytes of a word at offset 0; the
  // arguments overwrite the rest. Without arguments the buffer is cut back to 4.
  emit(Op::BNEW, {buf, size ? size : const_small(std::max<uint64_t>(32, 4 + head))});
  emit(Op::STW, {buf, const_small(0), const_word(vm::shl(U256::from_u64(sel), 224))});
  if (n == 0) emit(Op::BRESIZE, {buf, const_small(4)});
  uint16_t tail = 0;  // the next tail entry, from the start of the head
  if (size) {
    tail = temp(ValType::U64);
    emit(Op::CONST, {tail, static_cast<int64_t>(head)});
  }
  size_t b = 0;
  for (size_t i = 0; i < n; ++i) {
    const uint16_t at = const_small(4 + 32 * i);
    if (reg_type(vals[i]) != ValType::Buf) {
      emit(Op::STW, {buf, at, as_word(vals[i])});
      continue;
    }
    emit(Op::STW, {buf, at, as_word(tail)});
    uint16_t pos = temp(ValType::U64);
    emit(Op::ADDI, {pos, tail, 4});
    emit(Op::STW, {buf, pos, as_word(lens[b])});
    emit(Op::ADDI, {pos, pos, 32});
    emit(Op::BCOPY, {buf, pos, vals[i], const_small(0), lens[b]});
    emit(Op::ADD, {tail, tail, padded[b]});
    emit(Op::ADDI, {tail, tail, 32});
    ++b;
  }
  return buf;
}

// Decodes the results of a call from `out` into registers of the flattened
// `types`, range-checked as arguments of a public function are. Malformed
// data traps: a word past the end or an offset or length past the data is
// OutOfBounds, a u64 word or offset of 2^64 or more is Overflow.
Val FnGen::decode_results(uint16_t out, const std::vector<const Type*>& types) {
  Val v;
  size_t i = 0;
  for (const Type* t : types) {
    for (ValType vt : flat(t)) {
      const uint16_t at = const_small(32 * i++);
      uint16_t w = temp(ValType::U256);
      emit(Op::LDW, {w, out, at});
      if (vt == ValType::U256) {
        v.regs.push_back(w);
      } else if (vt == ValType::U64) {
        uint16_t r = temp(ValType::U64);
        emit(Op::NARROW_U, {r, w});
        v.regs.push_back(r);
      } else {
        v.regs.push_back(decode_buffer(out, w, nullptr));
      }
    }
  }
  size_t k = 0;
  for (const Type* t : types) range_check_value(v.regs, t, k);
  return v;
}

// The buffer of an ABI encoding in `out` whose tail entry is at offset `w`
// (a head word): a length word, then the bytes.
uint16_t FnGen::decode_buffer(uint16_t out, uint16_t w, const Val* hint) {
  uint16_t off = temp(ValType::U64), lw = temp(ValType::U256), len = temp(ValType::U64);
  emit(Op::NARROW_U, {off, w});
  emit(Op::LDW, {lw, out, off});
  emit(Op::NARROW_U, {len, lw});
  uint16_t from = temp(ValType::U64), last = temp(ValType::U64), probe = temp(ValType::U64);
  emit(Op::ADD_CU, {from, off, const_small(32)});
  // The last byte of the entry must exist before a buffer is made for it, so
  // a huge length traps OutOfBounds instead of charging its gas.
  emit(Op::ADD_CU, {last, from, len});
  emit(Op::ADDI, {last, last, -1});
  emit(Op::LD8, {probe, out, last});
  uint16_t dst = dst_or_temp(hint, ValType::Buf);
  emit(Op::BNEW, {dst, len});
  emit(Op::BCOPY, {dst, const_small(0), out, from, len});
  return dst;
}

Val FnGen::gen_external(Expr& e, bool is_try, const Val* hint) {
  // e: Method(Call(IFace, addr), method, args...)
  auto* m = static_cast<const FnDecl*>(e.decl);
  uint16_t addr = gen1(*e.kids[0]);
  // {value: v} is evaluated before the arguments, in source order.
  const uint16_t value = e.call_value ? as_word(gen1(*e.call_value)) : 0;
  std::vector<ValType> ptypes;
  for (const Param& p : m->params) flatten(p.resolved, ptypes);
  std::vector<uint16_t> vals;
  for (size_t i = 1; i < e.kids.size(); ++i) {
    Val a = gen(*e.kids[i]);
    vals.insert(vals.end(), a.regs.begin(), a.regs.end());
  }
  uint16_t buf = encode_input(vm::selector_of(m->name, ptypes), vals, nullptr);
  uint16_t ok = temp(ValType::U64);
  uint16_t outb = temp(ValType::Buf);
  span_ = e.span;
  if (m->is_view) {
    emit(Op::SXCALL, {ok, outb, addr, buf});
  } else {
    emit(Op::XCALL, {ok, outb, addr, e.call_value ? value : const_word(U256::zero()), buf});
  }
  if (is_try) {
    uint16_t dst = dst_or_temp(hint, ValType::U64);
    move(dst, ok);
    return Val{{dst}};
  }
  int cont = new_label();
  emit(Op::BR_IF, {ok, cont});
  emit(Op::REVERT, {outb});  // the callee's revert data propagates
  place_label(cont);
  return decode_results(outb, m->result_types);
}

Val FnGen::gen_method(Expr& e, const Val* hint) {
  if (e.ref == Ref::Interface) return gen_external(e, false, hint);
  Expr& recv = *e.kids[0];
  const Type* rt = recv.type;
  auto b = static_cast<Builtin>(e.index);
  switch (b) {
    case Builtin::Len: {
      uint16_t dst = dst_or_temp(hint, ValType::U64);
      if (rt->kind == Type::Kind::IterMap || rt->kind == Type::Kind::StoreVec) {
        uint16_t base = storage_slot(recv, false);
        uint16_t w = temp(ValType::U256);
        emit(Op::SLOAD, {w, base});
        emit(Op::TRUNC, {dst, w});
      } else if (rt->kind == Type::Kind::Array) {
        gen1(recv);  // evaluated for its effects; the length is the type's
        emit(Op::CONST, {dst, static_cast<int64_t>(rt->length)});
      } else {
        uint16_t buf = gen1(recv);
        emit(Op::BLEN, {dst, buf});
        unsigned es = elem_size(rt);
        if (es > 1) emit(Op::SHRI, {dst, dst, es == 8 ? 3 : 5});
      }
      return Val{{dst}};
    }
    case Builtin::Push: {
      if (rt->kind == Type::Kind::StoreVec) {
        // Element `len` at hash2(len, base), then the length grows by one.
        uint16_t base = storage_slot(recv, true);
        Val v = gen(*e.kids[1]);
        uint16_t lw = temp(ValType::U256), slot = temp(ValType::U256);
        emit(Op::SLOAD, {lw, base});
        emit(Op::HASH2, {slot, lw, base});
        Place p;
        p.kind = Place::Kind::Storage;
        p.type = rt->elem;
        p.slot = slot;
        store(p, v);
        emit(Op::WADD, {lw, lw, const_word(U256::from_u64(1))});
        emit(Op::SSTORE, {base, lw});
        return Val{};
      }
      Place p = place(recv, true);
      uint16_t buf = load(p, nullptr).regs[0];
      uint16_t v = gen1(*e.kids[1]);
      unsigned es = elem_size(rt);
      uint16_t n = temp(ValType::U64), n2 = temp(ValType::U64);
      emit(Op::BLEN, {n, buf});
      emit(Op::ADDI, {n2, n, es});
      emit(Op::BRESIZE, {buf, n2});
      if (es == 8) {
        emit(Op::SHRI, {n, n, 3});
        emit(Op::ST64, {buf, n, v});
      } else {
        emit(Op::STW, {buf, n, v});
      }
      return Val{};
    }
    case Builtin::Pop: {
      if (rt->kind == Type::Kind::StoreVec) {
        // The last element is read, its slots cleared, and the length shrinks.
        uint16_t base = storage_slot(recv, true);
        uint16_t lw = temp(ValType::U256), len = temp(ValType::U64);
        emit(Op::SLOAD, {lw, base});
        emit(Op::TRUNC, {len, lw});
        int ok = new_label();
        uint16_t zero = const_small(0);
        emit(Op::BNE, {len, zero, ok});
        throw_builtin(mg_.index_error(), {zero, zero});
        place_label(ok);
        emit(Op::WSUB, {lw, lw, const_word(U256::from_u64(1))});
        uint16_t slot = temp(ValType::U256);
        emit(Op::HASH2, {slot, lw, base});
        Place p;
        p.kind = Place::Kind::Storage;
        p.type = rt->elem;
        p.slot = slot;
        Val out = load(p, hint);
        Val zeros;
        for (ValType vt : flat(rt->elem))
          zeros.regs.push_back(vt == ValType::U64 ? zero : const_word(U256::zero()));
        store(p, zeros);
        emit(Op::SSTORE, {base, lw});
        return out;
      }
      Place p = place(recv, true);
      uint16_t buf = load(p, nullptr).regs[0];
      unsigned es = elem_size(rt);
      uint16_t n = temp(ValType::U64);
      emit(Op::BLEN, {n, buf});
      int ok = new_label();
      uint16_t zero = const_small(0);
      emit(Op::BNE, {n, zero, ok});
      throw_builtin(mg_.index_error(), {zero, zero});
      place_label(ok);
      emit(Op::ADDI, {n, n, -static_cast<int64_t>(es)});
      uint16_t dst = dst_or_temp(hint, vm_type(rt->elem));
      if (es == 8) {
        uint16_t idx = temp(ValType::U64);
        emit(Op::SHRI, {idx, n, 3});
        emit(Op::LD64, {dst, buf, idx});
      } else {
        emit(Op::LDW, {dst, buf, n});
      }
      emit(Op::BRESIZE, {buf, n});
      return Val{{dst}};
    }
    case Builtin::Contains: {
      uint16_t base = storage_slot(recv, false);
      uint16_t k = as_word(gen1(*e.kids[1]));
      uint16_t pos_base = slot_plus(base, 2);
      uint16_t ps = temp(ValType::U256), pv = temp(ValType::U256);
      emit(Op::HASH2, {ps, k, pos_base});
      emit(Op::SLOAD, {pv, ps});
      uint16_t dst = dst_or_temp(hint, ValType::U64);
      emit(Op::WEQZ, {dst, pv});
      emit(Op::XORI, {dst, dst, 1});
      return Val{{dst}};
    }
    case Builtin::KeyAt: {
      uint16_t base = storage_slot(recv, false);
      uint16_t i = gen1(*e.kids[1]);
      uint16_t lw = temp(ValType::U256), len = temp(ValType::U64);
      emit(Op::SLOAD, {lw, base});
      emit(Op::TRUNC, {len, lw});
      int ok = new_label();
      emit(Op::BLT_U, {i, len, ok});
      throw_builtin(mg_.index_error(), {i, len});
      place_label(ok);
      uint16_t ks = temp(ValType::U256), kw = temp(ValType::U256);
      emit(Op::HASH2, {ks, as_word(i), slot_plus(base, 1)});
      emit(Op::SLOAD, {kw, ks});
      if (vm_type(rt->key) == ValType::U64) {
        uint16_t dst = dst_or_temp(hint, ValType::U64);
        emit(Op::TRUNC, {dst, kw});
        return Val{{dst}};
      }
      return Val{{kw}};
    }
    case Builtin::Remove: {
      // Swap-remove: move the last key into the removed key's position.
      uint16_t base = storage_slot(recv, false);
      uint16_t k = as_word(gen1(*e.kids[1]));
      uint16_t keys = slot_plus(base, 1), posb = slot_plus(base, 2);
      uint16_t ps = temp(ValType::U256), pv = temp(ValType::U256);
      emit(Op::HASH2, {ps, k, posb});
      emit(Op::SLOAD, {pv, ps});
      int done = new_label();
      uint16_t isz = temp(ValType::U64);
      emit(Op::WEQZ, {isz, pv});
      emit(Op::BR_IF, {isz, done});
      uint16_t lw = temp(ValType::U256), one = const_word(U256::from_u64(1));
      emit(Op::SLOAD, {lw, base});
      uint16_t last = temp(ValType::U256), idx = temp(ValType::U256);
      emit(Op::WSUB, {last, lw, one});
      emit(Op::WSUB, {idx, pv, one});
      uint16_t last_slot = temp(ValType::U256), lastkey = temp(ValType::U256);
      emit(Op::HASH2, {last_slot, last, keys});
      emit(Op::SLOAD, {lastkey, last_slot});
      uint16_t idx_slot = temp(ValType::U256);
      emit(Op::HASH2, {idx_slot, idx, keys});
      emit(Op::SSTORE, {idx_slot, lastkey});
      uint16_t lk_pos = temp(ValType::U256);
      emit(Op::HASH2, {lk_pos, lastkey, posb});
      emit(Op::SSTORE, {lk_pos, pv});
      uint16_t zero = const_word(U256::zero());
      emit(Op::SSTORE, {last_slot, zero});
      emit(Op::SSTORE, {ps, zero});
      emit(Op::SSTORE, {base, last});
      // Clear the value.
      uint16_t vs = temp(ValType::U256);
      emit(Op::HASH2, {vs, k, base});
      uint64_t nslots = storage_slots(rt->elem);
      for (uint64_t j = 0; j < nslots; ++j) emit(Op::SSTORE, {slot_plus(vs, j), zero});
      place_label(done);
      return Val{};
    }
    case Builtin::Raw:
    case Builtin::Seconds:
      return gen(recv, hint);
    default:
      error(e.span, "internal compiler error: unknown method");
      return Val{};
  }
}

Val FnGen::gen_builtin(Expr& e, const Val* hint) {
  auto b = static_cast<Builtin>(e.index);
  auto arg = [&](size_t i) { return gen1(*e.kids[i]); };
  auto ctx = [&](Op op, ValType t) {
    uint16_t dst = dst_or_temp(hint, t);
    emit(op, {dst});
    return Val{{dst}};
  };
  const Type* t = e.type;
  switch (b) {
    case Builtin::Require: {
      int ok = new_label();
      branch(*e.kids[1], ok, true);
      if (e.kids.size() == 3) {
        gen_throw(*e.kids[2]);
      } else {
        if (!has_empty_buf_) {
          empty_buf_ = new_reg(ValType::Buf);  // never written: always the empty buffer
          has_empty_buf_ = true;
        }
        emit(Op::REVERT, {empty_buf_});
      }
      place_label(ok);
      return Val{};
    }
    case Builtin::Assert: {
      uint16_t c = arg(1);
      emit(Op::ASSERT, {c});
      return Val{};
    }
    case Builtin::Caller:
      return ctx(Op::CALLER, ValType::U256);
    case Builtin::Origin:
      return ctx(Op::ORIGIN, ValType::U256);
    case Builtin::SelfAddress:
      return ctx(Op::SELF, ValType::U256);
    case Builtin::Value:
      return ctx(Op::CALLVALUE, ValType::U256);
    case Builtin::Now:
      return ctx(Op::TIMESTAMP, ValType::U64);
    case Builtin::BlockNumber:
      return ctx(Op::BLOCKNUM, ValType::U64);
    case Builtin::ChainId:
      return ctx(Op::CHAINID, ValType::U64);
    case Builtin::GasLeft:
      return ctx(Op::GASLEFT, ValType::U64);
    case Builtin::Balance: {
      uint16_t a = arg(1);
      uint16_t dst = dst_or_temp(hint, ValType::U256);
      emit(Op::BALANCE, {dst, a});
      return Val{{dst}};
    }
    case Builtin::Transfer: {
      uint16_t to = arg(1), amt = arg(2);
      uint16_t ok = temp(ValType::U64);
      emit(Op::TRANSFER, {ok, to, amt});
      int cont = new_label();
      emit(Op::BR_IF, {ok, cont});
      throw_builtin(mg_.program().transfer_failed.get(), {to, amt});
      place_label(cont);
      return Val{};
    }
    case Builtin::Sha256: {
      uint16_t bb = arg(1);
      uint16_t dst = dst_or_temp(hint, ValType::U256);
      emit(Op::SHA256, {dst, bb});
      return Val{{dst}};
    }
    case Builtin::RawCall: {
      uint16_t to = as_word(arg(1)), value = as_word(arg(2)), data = arg(3);
      uint16_t ok = temp(ValType::U64), out = temp(ValType::Buf);
      span_ = e.span;
      emit(Op::XCALL, {ok, out, to, value, data});
      return Val{{ok, out}};
    }
    case Builtin::CallData: {
      // Sema checked the signature: name(t1,t2,...) with u64/u256/bytes types.
      std::string fn_name;
      std::vector<std::string> names;
      split_call_signature(e.kids[1]->text, fn_name, names);
      std::vector<ValType> types;
      for (const std::string& name : names)
        types.push_back(name == "u64"     ? ValType::U64
                        : name == "bytes" ? ValType::Buf
                                          : ValType::U256);
      std::vector<uint16_t> vals;
      for (size_t i = 0; i < types.size(); ++i) vals.push_back(arg(i + 2));
      return Val{{encode_input(vm::selector_of(fn_name, types), vals, hint)}};
    }
    case Builtin::Selector: {
      std::string fn_name;
      std::vector<std::string> names;
      split_call_signature(e.kids[1]->text, fn_name, names);
      std::vector<ValType> types;
      for (const std::string& name : names)
        types.push_back(name == "u64"     ? ValType::U64
                        : name == "bytes" ? ValType::Buf
                                          : ValType::U256);
      uint16_t dst = dst_or_temp(hint, ValType::U64);
      emit(Op::CONST, {dst, static_cast<int64_t>(vm::selector_of(fn_name, types))});
      return Val{{dst}};
    }
    case Builtin::AbiWord:
    case Builtin::AbiBytes: {
      // Head word i at byte 32*i; past the data traps OutOfBounds.
      uint16_t data = arg(1), i = arg(2);
      uint16_t at = temp(ValType::U64);
      emit(Op::MUL_CU, {at, i, const_small(32)});
      uint16_t w = dst_or_temp(b == Builtin::AbiWord ? hint : nullptr, ValType::U256);
      emit(Op::LDW, {w, data, at});
      if (b == Builtin::AbiWord) return Val{{w}};
      return Val{{decode_buffer(data, w, hint)}};
    }
    case Builtin::AbiSelector: {
      // The first 4 bytes, big-endian; shorter data traps OutOfBounds.
      uint16_t data = arg(1);
      uint16_t dst = dst_or_temp(hint, ValType::U64), byte = temp(ValType::U64);
      emit(Op::CONST, {dst, 0});
      for (uint64_t k = 0; k < 4; ++k) {
        emit(Op::LD8, {byte, data, const_small(k)});
        emit(Op::SHLI, {dst, dst, 8});
        emit(Op::OR, {dst, dst, byte});
      }
      return Val{{dst}};
    }
    case Builtin::AbiArgs: {
      // Everything after the 4-byte selector; shorter data traps OutOfBounds.
      uint16_t data = arg(1);
      uint16_t n = temp(ValType::U64), probe = temp(ValType::U64);
      emit(Op::LD8, {probe, data, const_small(3)});
      emit(Op::BLEN, {n, data});
      emit(Op::ADDI, {n, n, -4});
      uint16_t dst = dst_or_temp(hint, ValType::Buf);
      emit(Op::BNEW, {dst, n});
      emit(Op::BCOPY, {dst, const_small(0), data, const_small(4), n});
      return Val{{dst}};
    }
    case Builtin::Ed25519Verify: {
      uint16_t key = as_word(arg(1)), msg = arg(2), sig = arg(3);
      uint16_t dst = dst_or_temp(hint, ValType::U64);
      emit(Op::ED25519, {dst, key, msg, sig});
      return Val{{dst}};
    }
    case Builtin::Hash: {
      uint16_t x = as_word(arg(1)), y = as_word(arg(2));
      uint16_t dst = dst_or_temp(hint, ValType::U256);
      emit(Op::HASH2, {dst, x, y});
      return Val{{dst}};
    }
    case Builtin::Min:
    case Builtin::Max: {
      uint16_t x = arg(1), y = arg(2);
      bool s = t->is_int() && t->is_signed;
      bool want_min = b == Builtin::Min;
      if (vm_type(t) == ValType::U64) {
        uint16_t c = temp(ValType::U64);
        emit(s ? Op::LT_S : Op::LT_U, {c, x, y});
        uint16_t dst = dst_or_temp(hint, ValType::U64);
        emit(Op::SELECT, {dst, c, want_min ? x : y, want_min ? y : x});
        return Val{{dst}};
      }
      uint16_t c = temp(ValType::U64);
      emit(s ? Op::WLT_S : Op::WLT_U, {c, x, y});
      uint16_t tmp = temp(ValType::U256);
      int l = new_label();
      emit(Op::WMOV, {tmp, want_min ? x : y});
      emit(Op::BR_IF, {c, l});
      emit(Op::WMOV, {tmp, want_min ? y : x});
      place_label(l);
      uint16_t dst = dst_or_temp(hint, ValType::U256);
      move(dst, tmp);
      return Val{{dst}};
    }
    case Builtin::MulDown:
    case Builtin::MulUp:
    case Builtin::DivDown:
    case Builtin::DivUp: {
      uint16_t x = arg(1);
      const Type* bt = e.kids[2]->type;
      uint16_t y = as_word(arg(2));
      // Scaled by the second operand's decimals: a rate at another scale than
      // the amount (mul_down(amount<USD>, fee_wad)) keeps the amount's scale.
      U256 one = pow10(bt->kind == Type::Kind::Fixed ? bt->decimals : t->decimals);
      uint16_t dst = dst_or_temp(hint, ValType::U256);
      bool up = b == Builtin::MulUp || b == Builtin::DivUp;
      Op op = up ? Op::WMULDIV_UP : Op::WMULDIV;
      if (b == Builtin::MulDown || b == Builtin::MulUp) {
        emit(op, {dst, x, y, const_word(one)});  // x * y / 10^D
      } else if (bt->is_int()) {
        emit(op, {dst, x, const_word(U256::from_u64(1)), y});  // x / n
      } else {
        emit(op, {dst, x, const_word(one), y});  // x * 10^D / y
      }
      return Val{{dst}};
    }
    case Builtin::ConvertDown:
    case Builtin::ConvertUp: {
      // Raw units: an amount of C has C's decimals, a price 18.
      //   A -> B (times the price):   b = a * p * 10^dB / 10^(dA + 18)
      //   B -> A (divided by it):     a = b * 10^(18 + dA) / (p * 10^dB)
      const Type* at = e.kids[1]->type;
      const Type* pt = e.kids[2]->type;
      uint16_t x = arg(1), p = arg(2);
      uint16_t dst = dst_or_temp(hint, ValType::U256);
      const Op op = b == Builtin::ConvertUp ? Op::WMULDIV_UP : Op::WMULDIV;
      const int d_from = static_cast<int>(at->decimals), d_to = static_cast<int>(t->decimals);
      if (at->currency == pt->currency) {
        const int k = d_from + 18 - d_to;
        if (k >= 0) {
          emit(op, {dst, x, p, const_word(pow10(static_cast<unsigned>(k)))});
        } else {
          emit(Op::WMUL_CU, {dst, x, p});
          emit(Op::WMUL_CU, {dst, dst, const_word(pow10(static_cast<unsigned>(-k)))});
        }
      } else {
        const int k = 18 + d_to - d_from;
        if (k >= 0) {
          emit(op, {dst, x, const_word(pow10(static_cast<unsigned>(k))), p});
        } else {
          uint16_t den = temp(ValType::U256);
          emit(Op::WMUL_CU, {den, p, const_word(pow10(static_cast<unsigned>(-k)))});
          emit(op, {dst, x, const_word(U256::from_u64(1)), den});
        }
      }
      return Val{{dst}};
    }
    case Builtin::MulDivDown:
    case Builtin::MulDivUp: {
      uint16_t x = arg(1), y = arg(2), z = arg(3);
      uint16_t dst = dst_or_temp(hint, ValType::U256);
      emit(b == Builtin::MulDivUp ? Op::WMULDIV_UP : Op::WMULDIV, {dst, x, y, z});
      return Val{{dst}};
    }
    case Builtin::Floor:
    case Builtin::Ceil: {
      uint16_t x = arg(1);
      U256 one = pow10(e.kids[1]->type->decimals);
      uint16_t dst = dst_or_temp(hint, ValType::U256);
      if (b == Builtin::Floor)
        emit(Op::WDIV_U, {dst, x, const_word(one)});
      else
        emit(Op::WMULDIV_UP, {dst, x, const_word(U256::from_u64(1)), const_word(one)});
      return Val{{dst}};
    }
    case Builtin::RescaleDown:
    case Builtin::RescaleUp: {
      uint16_t x = arg(1);
      const unsigned from = e.kids[1]->type->decimals, to = t->decimals;
      uint16_t dst = dst_or_temp(hint, ValType::U256);
      if (to >= from) {
        emit(Op::WMUL_CU, {dst, x, const_word(pow10(to - from))});
      } else if (b == Builtin::RescaleDown) {
        emit(Op::WDIV_U, {dst, x, const_word(pow10(from - to))});
      } else {
        emit(Op::WMULDIV_UP, {dst, x, const_word(U256::from_u64(1)), const_word(pow10(from - to))});
      }
      return Val{{dst}};
    }
    case Builtin::ToRay: {
      uint16_t x = arg(1);
      uint16_t dst = dst_or_temp(hint, ValType::U256);
      emit(Op::WMUL_CU, {dst, x, const_word(pow10(9))});
      return Val{{dst}};
    }
    case Builtin::ToWadDown:
    case Builtin::ToWadUp: {
      uint16_t x = arg(1);
      uint16_t dst = dst_or_temp(hint, ValType::U256);
      if (b == Builtin::ToWadDown)
        emit(Op::WDIV_U, {dst, x, const_word(pow10(9))});
      else
        emit(Op::WMULDIV_UP, {dst, x, const_word(U256::from_u64(1)), const_word(pow10(9))});
      return Val{{dst}};
    }
    case Builtin::WrappingAdd:
    case Builtin::WrappingSub:
    case Builtin::WrappingMul: {
      bool small = vm_type(t) == ValType::U64;
      uint16_t dst = dst_or_temp(hint, vm_type(t));
      uint16_t x = arg(1);
      // u64 += constant: the immediate form.
      if (small && t->bits == 64 && b != Builtin::WrappingMul && e.kids[2]->is_const) {
        uint64_t k = vm::parse_u256(e.kids[2]->value)->low64();
        emit(Op::ADDI, {dst, x, static_cast<int64_t>(b == Builtin::WrappingAdd ? k : (~k + 1))});
        return Val{{dst}};
      }
      uint16_t y = arg(2);
      if (small && t->bits == 32 && b == Builtin::WrappingAdd) {
        emit(Op::ADD32, {dst, x, y});
        return Val{{dst}};
      }
      Op op = b == Builtin::WrappingAdd   ? (small ? Op::ADD : Op::WADD)
              : b == Builtin::WrappingSub ? (small ? Op::SUB : Op::WSUB)
                                          : (small ? Op::MUL : Op::WMUL);
      emit(op, {dst, x, y});
      if (small && t->bits == 32) emit(Op::ANDI, {dst, dst, 0xffffffff});
      return Val{{dst}};
    }
    case Builtin::SignExtend: {
      uint16_t x = as_word(arg(1)), byte = arg(2);  // sema: the index is a 64-bit-class integer
      uint16_t dst = dst_or_temp(hint, ValType::U256);
      emit(Op::WSIGNEXT, {dst, x, byte});
      return Val{{dst}};
    }
    case Builtin::WrappingPow: {
      // x ** n mod 2^256, then its low bits: (x ** n mod 2^256) mod 2^k is
      // x ** n mod 2^k for every k <= 256.
      uint16_t x = as_word(arg(1)), n = as_word(arg(2));
      if (vm_type(t) == ValType::U256) {
        uint16_t dst = dst_or_temp(hint, ValType::U256);
        emit(Op::WEXP, {dst, x, n});
        return Val{{dst}};
      }
      uint16_t w = temp(ValType::U256), dst = dst_or_temp(hint, ValType::U64);
      emit(Op::WEXP, {w, x, n});
      emit(Op::TRUNC, {dst, w});
      if (t->bits == 32) emit(Op::ANDI, {dst, dst, 0xffffffff});
      return Val{{dst}};
    }
    case Builtin::RotateRight: {
      uint16_t x = arg(1);
      uint16_t dst = dst_or_temp(hint, ValType::U64);
      emit(Op::ROTRI32,
           {dst, x, static_cast<int64_t>(vm::parse_u256(e.kids[2]->value)->low64() & 31)});
      return Val{{dst}};
    }
    case Builtin::AddMod:
    case Builtin::MulMod: {
      uint16_t x = arg(1), y = arg(2), m = arg(3);
      uint16_t dst = dst_or_temp(hint, ValType::U256);
      emit(b == Builtin::AddMod ? Op::WADDMOD : Op::WMULMOD, {dst, x, y, m});
      return Val{{dst}};
    }
    case Builtin::ConvAddress:
    case Builtin::ConvBytes32: {
      uint16_t x = arg(1);
      uint16_t dst = dst_or_temp(hint, ValType::U256);
      if (reg_type(x) == ValType::U64)
        emit(Op::ZEXT, {dst, x});
      else
        move(dst, x);
      return Val{{dst}};
    }
    case Builtin::ConvFixed: {
      uint16_t x = as_word(arg(1));
      uint16_t dst = dst_or_temp(hint, ValType::U256);
      emit(Op::WMUL_CU, {dst, x, const_word(pow10(t->decimals))});
      return Val{{dst}};
    }
    case Builtin::FromRaw:
    case Builtin::ConvTimestamp:
    case Builtin::ConvDuration:
      return gen(*e.kids[1], hint);
    case Builtin::NewBytes: {
      uint16_t n = arg(1);
      uint16_t dst = dst_or_temp(hint, ValType::Buf);
      emit(Op::BNEW, {dst, n});
      return Val{{dst}};
    }
    default:
      error(e.span, "internal compiler error: unknown builtin");
      return Val{};
  }
}

// for x in xs: the length is read once, before the first element; each
// element is read (bounds-checked) when the loop reaches it, so a body that
// shrinks the vector reverts rather than reading past its end.
void FnGen::gen_for_each(Stmt& s, size_t m) {
  Expr& xs = *s.exprs[0];
  const Type* ct = xs.type;
  const Type* et = ct->elem;
  int li = s.locals[0];
  if (static_cast<size_t>(li) >= local_regs.size()) local_regs.resize(li + 1);
  Val x = new_val(et, false);
  local_regs[li] = x.regs;
  uint16_t i = new_reg(ValType::U64), n = new_reg(ValType::U64);
  uint16_t src = 0;  // the storage slot or the buffer, across the body
  if (ct->kind == Type::Kind::StoreVec) {
    src = new_reg(ValType::U256);
    move(src, storage_slot(xs, false));
    uint16_t lw = temp(ValType::U256);
    emit(Op::SLOAD, {lw, src});
    emit(Op::TRUNC, {n, lw});
  } else {
    src = new_reg(ValType::Buf);
    move(src, gen1(xs));
    if (ct->kind == Type::Kind::Array) {
      emit(Op::CONST, {n, static_cast<int64_t>(ct->length)});
    } else {
      emit(Op::BLEN, {n, src});
      unsigned es = elem_size(ct);
      if (es > 1) emit(Op::SHRI, {n, n, es == 8 ? 3 : 5});
    }
  }
  emit(Op::CONST, {i, 0});
  release(m);
  gen_counted_loop(s, i, n, [&] {
    size_t m2 = mark();
    Place p;
    p.type = et;
    if (ct->kind == Type::Kind::StoreVec) {
      p.kind = Place::Kind::Storage;
      p.slot = store_vec_slot(src, i);
    } else {
      p.kind = Place::Kind::Element;
      p.byte_elem = false;
      p.buf = src;
      p.index = i;
    }
    copy(x, load(p, &x));
    release(m2);
  });
}

// The loop both `for` forms compile to, rotated (the test at the bottom, one
// branch per iteration): the u64 counter i runs up from its value to `end`
// (both registers live across the body); `prologue` runs at the top of each
// iteration, before the body. `continue` goes to the increment.
void FnGen::gen_counted_loop(Stmt& s, uint16_t i, uint16_t end,
                             const std::function<void()>& prologue) {
  int top = new_label(), next = new_label(), exit = new_label();
  emit(Op::BGE_U, {i, end, exit});
  place_label(top);
  prologue();
  loops_.push_back({next, exit});
  gen_block(*s.body);
  loops_.pop_back();
  place_label(next);
  span_ = s.span;
  emit(Op::ADDI, {i, i, 1});
  emit(Op::BLT_U, {i, end, top});
  place_label(exit);
}

// ---- places and storage -------------------------------------------------------------

uint16_t FnGen::storage_slot(Expr& e, bool for_write) {
  switch (e.kind) {
    case Expr::Kind::Name: {
      if (e.ref == Ref::Local) return local_regs[e.index][0];  // a storage parameter holds its slot
      const StorageField& f = f_.contract->storage[e.index];
      return const_word(U256::from_u64(f.slot));
    }
    case Expr::Kind::Field: {
      uint16_t base = storage_slot(*e.kids[0], for_write);
      const Type* st = e.kids[0]->type;
      uint64_t off = 0;
      for (int i = 0; i < e.index; ++i) off += storage_slots(st->elems[i]);
      return slot_plus(base, off);
    }
    case Expr::Kind::Index: {
      Expr& container = *e.kids[0];
      uint16_t base = storage_slot(container, for_write);
      if (container.type->kind == Type::Kind::StoreVec)
        return store_vec_slot(base, gen1(*e.kids[1]));
      uint16_t key = as_word(gen1(*e.kids[1]));
      uint16_t slot = temp(ValType::U256);
      emit(Op::HASH2, {slot, key, base});
      if (for_write && container.type->kind == Type::Kind::IterMap) iter_map_register(base, key);
      return slot;
    }
    default:
      error(e.span, "internal compiler error: not a storage place");
      return 0;
  }
}

uint16_t FnGen::store_vec_slot(uint16_t base, uint16_t i) {
  uint16_t lw = temp(ValType::U256), len = temp(ValType::U64);
  emit(Op::SLOAD, {lw, base});
  emit(Op::TRUNC, {len, lw});
  int ok = new_label();
  emit(Op::BLT_U, {i, len, ok});
  throw_builtin(mg_.index_error(), {i, len});
  place_label(ok);
  uint16_t slot = temp(ValType::U256);
  emit(Op::HASH2, {slot, as_word(i), base});
  return slot;
}

// Appends `key` to the iter_map at `base` unless it is already present.
void FnGen::iter_map_register(uint16_t base, uint16_t key) {
  uint16_t posb = slot_plus(base, 2);
  uint16_t ps = temp(ValType::U256), pv = temp(ValType::U256);
  emit(Op::HASH2, {ps, key, posb});
  emit(Op::SLOAD, {pv, ps});
  uint16_t present = temp(ValType::U64);
  emit(Op::WEQZ, {present, pv});
  int done = new_label();
  emit(Op::BR_IFNOT, {present, done});
  uint16_t len = temp(ValType::U256);
  emit(Op::SLOAD, {len, base});
  uint16_t ks = temp(ValType::U256);
  emit(Op::HASH2, {ks, len, slot_plus(base, 1)});
  emit(Op::SSTORE, {ks, key});
  uint16_t next = temp(ValType::U256);
  emit(Op::WADD, {next, len, const_word(U256::from_u64(1))});
  emit(Op::SSTORE, {ps, next});  // position + 1
  emit(Op::SSTORE, {base, next});
  place_label(done);
}

Place FnGen::place(Expr& e, bool for_write) {
  Place p;
  p.type = e.type;
  // Storage places: a storage name, or fields/indices rooted in one.
  std::function<bool(const Expr&)> in_storage = [&](const Expr& x) -> bool {
    if (x.kind == Expr::Kind::Name)
      return x.ref == Ref::Storage || (x.ref == Ref::Local && x.is_storage_ref);
    if (x.kind == Expr::Kind::Field) return in_storage(*x.kids[0]);
    if (x.kind == Expr::Kind::Index) {
      const Type* ct = x.kids[0]->type;
      if (ct->kind == Type::Kind::Map || ct->kind == Type::Kind::IterMap ||
          ct->kind == Type::Kind::StoreVec)
        return in_storage(*x.kids[0]);
      return false;  // element of a memory vector
    }
    return false;
  };
  if (in_storage(e)) {
    p.kind = Place::Kind::Storage;
    p.slot = storage_slot(e, for_write);
    return p;
  }
  switch (e.kind) {
    case Expr::Kind::Name:
      p.kind = Place::Kind::Regs;
      if (e.ref != Ref::Local || e.index < 0 || static_cast<size_t>(e.index) >= local_regs.size()) {
        error(e.span, "internal compiler error: '" + e.text + "' has no registers in " + f_.name);
        return p;
      }
      p.regs.regs = local_regs[e.index];
      return p;
    case Expr::Kind::Field: {
      Place base = place(*e.kids[0], for_write);
      const Type* st = e.kids[0]->type;
      size_t off = 0;
      for (int i = 0; i < e.index; ++i) off += flat(st->elems[i]).size();
      size_t n = flat(e.type).size();
      if (base.kind == Place::Kind::Regs) {
        p.kind = Place::Kind::Regs;
        p.regs.regs.assign(base.regs.regs.begin() + static_cast<long>(off),
                           base.regs.regs.begin() + static_cast<long>(off + n));
        return p;
      }
      // A field of a struct value computed by an expression (e.g. f().x).
      Val v = load(base, nullptr);
      p.kind = Place::Kind::Regs;
      p.regs.regs.assign(v.regs.begin() + static_cast<long>(off),
                         v.regs.begin() + static_cast<long>(off + n));
      return p;
    }
    case Expr::Kind::Index: {
      p.kind = Place::Kind::Element;
      p.byte_elem =
          e.kids[0]->type->kind == Type::Kind::Bytes || e.kids[0]->type->kind == Type::Kind::String;
      p.buf = gen1(*e.kids[0]);
      p.index = gen1(*e.kids[1]);
      return p;
    }
    default: {
      Val v = gen(e);
      p.kind = Place::Kind::Regs;
      p.regs = v;
      return p;
    }
  }
}

void FnGen::load_storage(uint16_t slot, const Type* t, const std::vector<uint16_t>& dst, size_t& i,
                         uint64_t& off) {
  if (t->kind == Type::Kind::Struct) {
    for (const Type* f : t->elems) load_storage(slot, f, dst, i, off);
    return;
  }
  uint16_t s = slot_plus(slot, off);
  uint16_t r = dst[i++];
  if (reg_type(r) == ValType::U64) {
    uint16_t w = temp(ValType::U256);
    emit(Op::SLOAD, {w, s});
    emit(Op::TRUNC, {r, w});
  } else {
    emit(Op::SLOAD, {r, s});
  }
  off += 1;
}

void FnGen::store_storage(uint16_t slot, const Type* t, const std::vector<uint16_t>& src, size_t& i,
                          uint64_t& off) {
  if (t->kind == Type::Kind::Struct) {
    for (const Type* f : t->elems) store_storage(slot, f, src, i, off);
    return;
  }
  uint16_t s = slot_plus(slot, off);
  emit(Op::SSTORE, {s, as_word(src[i++])});
  off += 1;
}

Val FnGen::load(const Place& p, const Val* hint) {
  switch (p.kind) {
    case Place::Kind::Regs:
      return p.regs;
    case Place::Kind::Storage: {
      Val dst = hint && hint->regs.size() == flat(p.type).size() ? *hint : new_val(p.type, true);
      size_t i = 0;
      uint64_t off = 0;
      load_storage(p.slot, p.type, dst.regs, i, off);
      return dst;
    }
    case Place::Kind::Element: {
      ValType vt = vm_type(p.type);
      uint16_t dst = dst_or_temp(hint, vt);
      // Element size follows the element's register class; bytes are u8.
      if (p.byte_elem) {
        emit(Op::LD8, {dst, p.buf, p.index});
      } else if (vt == ValType::U64) {
        emit(Op::LD64, {dst, p.buf, p.index});
      } else {
        uint16_t off = temp(ValType::U64);
        emit(Op::SHLI, {off, p.index, 5});
        emit(Op::LDW, {dst, p.buf, off});
      }
      return Val{{dst}};
    }
  }
  return Val{};
}

void FnGen::store(const Place& p, const Val& v) {
  switch (p.kind) {
    case Place::Kind::Regs:
      copy(p.regs, v);
      return;
    case Place::Kind::Storage: {
      size_t i = 0;
      uint64_t off = 0;
      store_storage(p.slot, p.type, v.regs, i, off);
      return;
    }
    case Place::Kind::Element: {
      ValType vt = vm_type(p.type);
      if (p.byte_elem) {
        emit(Op::ST8, {p.buf, p.index, v.regs[0]});
      } else if (vt == ValType::U64) {
        emit(Op::ST64, {p.buf, p.index, v.regs[0]});
      } else {
        uint16_t off = temp(ValType::U64);
        emit(Op::SHLI, {off, p.index, 5});
        emit(Op::STW, {p.buf, off, v.regs[0]});
      }
      return;
    }
  }
}

}  // namespace

std::vector<ContractOutput> generate(Program& p, Diagnostics& diags) {
  std::vector<ContractOutput> out;
  for (ContractDecl* c : p.contracts) {
    ModuleGen mg(p, diags, *c);
    out.push_back(mg.run());
  }
  return out;
}

}  // namespace writ::compiler
