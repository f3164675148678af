// Code generation (contract in codegen.hpp): the module and function drivers,
// statements and conditions. codegen_internal.hpp has the classes, the
// invariants (registers, storage layout) and where the rest of the code lives.
#include "codegen.hpp"

#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "codegen_internal.hpp"

namespace writ::compiler::codegen_internal {

// ---------------------------------------------------------------------------
// ModuleGen

ContractOutput ModuleGen::run() {
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
  check_limits();
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

// The VM's limits on a module (vm/module.hpp), said where the source
// passes them instead of surfacing as a module that does not verify.
void ModuleGen::check_limits() {
  using std::to_string;
  auto long_name = [&](Span at, const char* kind, const std::string& name) {
    if (name.size() > vm::kMaxName)
      d_.error(at, std::string("the name of ") + kind + " " + name.substr(0, 16) + "... is " +
                       to_string(name.size()) + " characters long, past the VM's limit of " +
                       to_string(vm::kMaxName));
  };
  for (size_t i = 0; i < order_.size(); ++i) {
    const vm::Function& fn = mod_.functions[i];
    long_name(order_[i]->name_span, "function", fn.name);
    if (fn.code.size() > vm::kMaxCodeSize)
      d_.error(order_[i]->name_span,
               "function " + fn.name + " compiles to " + to_string(fn.code.size()) +
                   " bytes of code, past the VM's limit of " + to_string(vm::kMaxCodeSize) +
                   " per function; split it into smaller functions");
  }
  for (const auto& [name, e] : p_.events) long_name(e->span, "event", e->name);
  for (const auto& [name, e] : p_.errors) long_name(e->span, "error", e->name);
  auto too_many = [&](size_t n, size_t limit, const std::string& what) {
    if (n > limit)
      d_.error(c_.span, "contract " + c_.name + " has " + to_string(n) + " " + what +
                            ", past the VM's limit of " + to_string(limit) + " per contract");
  };
  too_many(mod_.exports.size(), vm::kMaxExports, "public functions (the constructor included)");
  too_many(mod_.functions.size(), vm::kMaxFunctions,
           "functions (its own and the free functions it calls)");
  too_many(mod_.events.size(), vm::kMaxEvents, "events");
  too_many(mod_.errors.size(), vm::kMaxErrors, "errors (the built-in ones included)");
  too_many(mod_.constants.size(), vm::kMaxConstants, "distinct wide and string constants");
}

uint16_t ModuleGen::fn_ref(FnDecl* f) {
  auto it = fn_index_.find(f);
  if (it != fn_index_.end()) return it->second;
  uint16_t i = static_cast<uint16_t>(order_.size());
  fn_index_[f] = i;
  order_.push_back(f);
  return i;
}

uint16_t ModuleGen::word_const(const U256& v) {
  for (size_t i = 0; i < mod_.constants.size(); ++i)
    if (mod_.constants[i].kind == vm::Constant::Kind::Word && mod_.constants[i].word == v)
      return static_cast<uint16_t>(i);
  vm::Constant c;
  c.word = v;
  mod_.constants.push_back(c);
  return static_cast<uint16_t>(mod_.constants.size() - 1);
}

uint16_t ModuleGen::bytes_const(const std::string& s) {
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
    if (hoisting_full()) return const_word(v, static_cast<int16_t>(temp(ValType::U256)));
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

}  // namespace writ::compiler::codegen_internal

namespace writ::compiler {

std::vector<ContractOutput> generate(Program& p, Diagnostics& diags) {
  std::vector<ContractOutput> out;
  for (ContractDecl* c : p.contracts) {
    codegen_internal::ModuleGen mg(p, diags, *c);
    out.push_back(mg.run());
  }
  return out;
}

}  // namespace writ::compiler
