// Semantic analysis (contract in sema.hpp): the driver, state effects,
// declarations, constants, functions and statements. sema_internal.hpp has
// the checker class, its invariants and where the rest of the code lives.
#include "sema.hpp"

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "sema_internal.hpp"
#include "writ/vm/u256.hpp"

namespace writ::compiler::sema_internal {

bool Sema::run() {
  collect();
  resolve_declarations();
  // Constants first, from every file: functions anywhere may use them.
  for (auto& u : p_.units)
    for (auto& c : u->consts) check_const(*c);
  for (auto& u : p_.units) {
    for (auto& f : u->fns) check_fn(*f);
    for (auto& c : u->contracts) {
      std::set<std::string> seen;
      bool has_init = false;
      for (auto& f : c->fns) {
        if (!f->is_init && !seen.insert(f->name).second) {
          d_.error(f->name_span,
                   "function " + f->name + " is defined twice in contract " + c->name);
        }
        if (f->is_init) {
          if (has_init) d_.error(f->name_span, "contract " + c->name + " has more than one init");
          has_init = true;
          if (!f->results.empty()) d_.error(f->name_span, "init cannot return values");
        }
        if (p_.fns.count(f->name) && !f->is_init)
          d_.error(f->name_span,
                   "function " + f->name + " hides the free function of the same name");
        check_fn(*f);
      }
    }
  }
  for (auto& [call, f] : view_calls_)
    if (changes_state(*f))
      d_.error(
          call->span,
          "a view function cannot call " + f->name +
              ", which changes state (it emits, transfers, writes storage or calls a non-view)");
  return !d_.has_errors();
}

// Whether a free function's body can change state: emit, transfer, a write
// through a storage parameter, a call of a non-view method of another
// contract, or a call of a function that does. Recursion counts as pure
// (the other paths decide).
bool Sema::changes_state(const FnDecl& f) {
  auto it = effects_.find(&f);
  if (it != effects_.end()) return it->second == 2;
  effects_[&f] = 1;  // in progress
  bool changes = f.contract ? !f.is_view : (f.body && block_changes_state(*f.body));
  effects_[&f] = changes ? 2 : 0;
  return changes;
}

bool Sema::block_changes_state(const Block& b) {
  for (const auto& st : b.stmts)
    if (stmt_changes_state(*st)) return true;
  return false;
}

bool Sema::stmt_changes_state(const Stmt& st) {
  if (st.kind == Stmt::Kind::Emit) return true;
  if (st.kind == Stmt::Kind::Assign) {
    bool storage = false;
    if (is_place(*st.exprs[0], storage) && storage) return true;
  }
  for (const auto& e : st.exprs)
    if (e && expr_changes_state(*e)) return true;
  if (st.body && block_changes_state(*st.body)) return true;
  if (st.else_body && block_changes_state(*st.else_body)) return true;
  return false;
}

bool Sema::expr_changes_state(const Expr& e) {
  if (e.ref == Ref::Builtin && (e.index == static_cast<int>(Builtin::Transfer) ||
                                e.index == static_cast<int>(Builtin::RawCall) ||
                                e.index == static_cast<int>(Builtin::Remove)))
    return true;
  if (e.kind == Expr::Kind::Method && e.ref == Ref::Interface && e.decl &&
      !static_cast<const FnDecl*>(e.decl)->is_view)
    return true;
  if (e.kind == Expr::Kind::Call && e.ref == Ref::Function && e.decl &&
      changes_state(*static_cast<const FnDecl*>(e.decl)))
    return true;
  if (e.kind == Expr::Kind::Method && e.ref == Ref::Builtin &&
      (e.index == static_cast<int>(Builtin::Push) || e.index == static_cast<int>(Builtin::Pop))) {
    bool storage = false;
    if (is_place(*e.kids[0], storage) && storage) return true;
  }
  for (const auto& k : e.kids)
    if (k && expr_changes_state(*k)) return true;
  return false;
}

// ---- declarations ---------------------------------------------------------

template <class D>
void Sema::declare(std::map<std::string, D*>& table, D* d, const char* what) {
  if (reserved_name(d->name)) {
    d_.error(d->span, std::string(what) + " name '" + d->name + "' is reserved");
    return;
  }
  auto [it, inserted] = global_names_.emplace(d->name, d->span);
  if (!inserted) {
    d_.error(d->span, "'" + d->name + "' is already declared");
    d_.note(it->second, "first declared here");
    return;
  }
  table[d->name] = d;
}

bool Sema::reserved_name(const std::string& n) {
  static const std::set<std::string> kReserved = {
      "bool",
      "u8",
      "u16",
      "u32",
      "u64",
      "u128",
      "u256",
      "i64",
      "i128",
      "i256",
      "address",
      "bytes32",
      "bytes",
      "string",
      "wad",
      "ray",
      "timestamp",
      "duration",
      "map",
      "iter_map",
      "vec",
      // the built-in errors, which every contract's ABI lists
      "TransferFailed",
      "IndexOutOfBounds",
      "CallFailed",
  };
  return kReserved.count(n) > 0;
}

void Sema::collect() {
  for (auto& u : p_.units) {
    for (auto& s : u->structs) declare(p_.structs, s.get(), "struct");
    for (auto& e : u->enums) declare(p_.enums, e.get(), "enum");
    for (auto& e : u->events) declare(p_.events, e.get(), "event");
    for (auto& e : u->errors) declare(p_.errors, e.get(), "error");
    for (auto& i : u->interfaces) declare(p_.interfaces, i.get(), "interface");
    for (auto& c : u->consts) declare(p_.consts, c.get(), "constant");
    for (auto& c : u->currencies) declare(p_.currencies, c.get(), "currency");
    for (auto& f : u->fns) {
      if (f->is_pub || f->is_payable || f->is_reentrant)
        d_.error(f->name_span,
                 "pub/payable/reentrant apply to contract functions, not free functions");
      FnDecl* fp = f.get();
      auto [it, inserted] = global_names_.emplace(fp->name, fp->name_span);
      if (!inserted) {
        d_.error(fp->name_span, "'" + fp->name + "' is already declared");
        d_.note(it->second, "first declared here");
      } else {
        p_.fns[fp->name] = fp;
      }
    }
    if (u.get() == p_.units[0].get()) {
      for (auto& c : u->contracts) {
        auto [it, inserted] = global_names_.emplace(c->name, c->span);
        if (!inserted) {
          d_.error(c->span, "'" + c->name + "' is already declared");
          d_.note(it->second, "first declared here");
        }
        p_.contracts.push_back(c.get());
      }
    }
  }
  p_.transfer_failed = std::make_unique<ErrorDecl>();
  p_.transfer_failed->name = "TransferFailed";
}

void Sema::resolve_declarations() {
  // Currencies first: amount<C> needs C's decimals.
  for (auto& [name, c] : p_.currencies) {
    const Type* t = resolve_type(*c->type, false);
    if (t->is_error()) continue;
    if (t->kind != Type::Kind::Fixed || t->is_tagged()) {
      d_.error(c->type->span,
               "a currency is a fixed-point scale (dec<N>, wad or ray), found " + t->name());
      continue;
    }
    c->decimals = t->decimals;
  }
  // Struct fields (recursive structs are rejected while resolving).
  for (auto& [name, s] : p_.structs) resolve_struct(s);
  for (auto& [name, e] : p_.enums) {
    std::set<std::string> seen;
    for (size_t i = 0; i < e->variants.size(); ++i)
      if (!seen.insert(e->variants[i]).second)
        d_.error(e->variant_spans[i], "variant " + e->variants[i] + " is listed twice");
    if (e->variants.empty()) d_.error(e->span, "enum " + e->name + " has no variants");
    if (e->variants.size() > 256)
      d_.error(e->span, "enum " + e->name + " has more than 256 variants");
  }
  for (auto& [name, e] : p_.events) {
    size_t indexed = 0;
    for (Param& f : e->fields) {
      f.resolved = resolve_value_type(*f.type, "an event field");
      if (f.indexed) {
        ++indexed;
        if (f.resolved->kind == Type::Kind::Bytes || f.resolved->kind == Type::Kind::String ||
            f.resolved->kind == Type::Kind::Struct || f.resolved->kind == Type::Kind::Vec ||
            f.resolved->kind == Type::Kind::Array)
          d_.error(f.span, "only scalar fields can be indexed");
      }
    }
    if (indexed > 3) d_.error(e->span, "event " + e->name + " has more than 3 indexed fields");
    std::vector<vm::ValType> flat;
    for (const Param& f : e->fields) flatten(f.resolved, flat);
    if (flat.size() > vm::kMaxFields)
      d_.error(e->span,
               "event " + e->name + " has " + std::to_string(flat.size()) + " values; at most 16");
    check_unique_params(e->fields);
  }
  p_.transfer_failed->fields.resize(2);
  p_.transfer_failed->fields[0].name = "to";
  p_.transfer_failed->fields[0].resolved = T.address();
  p_.transfer_failed->fields[1].name = "amount";
  p_.transfer_failed->fields[1].resolved = T.u256();
  for (auto& [name, e] : p_.errors) {
    for (Param& f : e->fields) f.resolved = resolve_value_type(*f.type, "an error field");
    check_unique_params(e->fields);
    std::vector<vm::ValType> flat;
    for (const Param& f : e->fields) flatten(f.resolved, flat);
    if (flat.size() > vm::kMaxFields)
      d_.error(e->span,
               "error " + e->name + " has " + std::to_string(flat.size()) + " values; at most 16");
  }
  for (auto& [name, i] : p_.interfaces) {
    std::set<std::string> seen;
    for (auto& f : i->fns) {
      if (!seen.insert(f->name).second)
        d_.error(f->name_span, "interface method " + f->name + " is declared twice");
      resolve_signature(*f, true);
    }
  }
  for (auto& [name, c] : p_.consts) c->resolved = resolve_value_type(*c->type, "a constant");
  for (auto& u : p_.units) {
    for (auto& f : u->fns) resolve_signature(*f, false);
    for (auto& c : u->contracts) {
      uint64_t slot = 0;
      std::set<std::string> seen;
      for (StorageField& s : c->storage) {
        if (!seen.insert(s.name).second)
          d_.error(s.span, "storage field " + s.name + " is declared twice");
        s.resolved = resolve_type(*s.type, true);
        if (s.resolved->kind == Type::Kind::Bytes || s.resolved->kind == Type::Kind::String ||
            s.resolved->kind == Type::Kind::Vec || s.resolved->kind == Type::Kind::Array) {
          d_.error(s.span, "storage holds scalars, structs, maps and vectors (" +
                               s.resolved->name() + " is a memory buffer)");
          s.resolved = T.error();
        }
        s.slot = slot;
        slot += storage_slots(s.resolved);
        warn_unset_enums(s, s.resolved);
      }
      for (auto& f : c->fns) resolve_signature(*f, false);
    }
  }
}

// Unset storage reads as zero, and zero is an enum's first variant: an
// escrow whose state enum starts at Funded shows every unknown deal as
// funded. Warns once per storage field that can hold such an enum (directly,
// as a map value, or in a struct), unless the first variant is
// neutral by name or marked `default`.
bool Sema::neutral_variant(const std::string& v) {
  static const std::set<std::string> kNeutral = {"None",    "Unset", "Empty",     "Unknown",
                                                 "Nothing", "Null",  "Undefined", "Uninitialized"};
  return kNeutral.count(v) > 0;
}

const EnumDecl* Sema::unmarked_enum_in(const Type* t, int depth) {
  if (!t || depth > 64) return nullptr;
  if (t->kind == Type::Kind::Enum) {
    const EnumDecl* e = t->enm;
    if (e && !e->variants.empty() && !e->first_is_default && !neutral_variant(e->variants[0]))
      return e;
    return nullptr;
  }
  for (const Type* sub : t->elems)
    if (const EnumDecl* e = unmarked_enum_in(sub, depth + 1)) return e;
  // A map's values can be unset; its keys are always given.
  if (t->kind == Type::Kind::Map || t->kind == Type::Kind::IterMap)
    return unmarked_enum_in(t->elem, depth + 1);
  return nullptr;
}

void Sema::warn_unset_enums(const StorageField& s, const Type* t) {
  const EnumDecl* e = unmarked_enum_in(t);
  if (!e) return;
  d_.warning(s.span, "storage field " + s.name + " can hold enum " + e->name +
                         ", whose unset value reads as " + e->name + "::" + e->variants[0] +
                         " (its first variant): start " + e->name +
                         " with a neutral variant such as None, or write `default " +
                         e->variants[0] + "` if that is intended");
}

void Sema::check_unique_params(const std::vector<Param>& ps) {
  std::set<std::string> seen;
  for (const Param& p : ps)
    if (!seen.insert(p.name).second) d_.error(p.span, "'" + p.name + "' is listed twice");
}

// False when `s` is being resolved already: a field of `s` (directly or
// through other structs) has type `s`. The caller reports it where the type
// is named, and gives that field the error type, so no later pass (storage
// layout, ABI flattening, codegen) ever walks an infinite struct.
bool Sema::resolve_struct(StructDecl* s) {
  if (struct_state_[s] == 2) return true;
  if (struct_state_[s] == 1) return false;
  struct_state_[s] = 1;
  std::vector<const Type*> fields;
  for (Param& f : s->fields) {
    f.resolved = resolve_type(*f.type, false);
    if (f.resolved->kind == Type::Kind::Bytes || f.resolved->kind == Type::Kind::String ||
        f.resolved->kind == Type::Kind::Vec || f.resolved->kind == Type::Kind::Array)
      d_.error(f.span, "struct fields are scalars or structs (" + f.resolved->name() +
                           " is a memory buffer)");
    fields.push_back(f.resolved);
  }
  check_unique_params(s->fields);
  T.set_struct_fields(s, fields);
  struct_state_[s] = 2;
  return true;
}

void Sema::resolve_signature(FnDecl& f, bool is_interface) {
  for (Param& p : f.params) {
    if (p.storage_ref) {
      p.resolved = resolve_type(*p.type, true);
      if (f.contract || is_interface)
        d_.error(p.span,
                 "storage parameters belong to free functions (a contract's functions name its "
                 "storage directly)");
      if (p.resolved->kind == Type::Kind::Bytes || p.resolved->kind == Type::Kind::String ||
          p.resolved->kind == Type::Kind::Vec || p.resolved->kind == Type::Kind::Array)
        d_.error(p.span, "storage holds scalars, structs, maps and vectors (" + p.resolved->name() +
                             " is a memory buffer)");
    } else {
      p.resolved = resolve_value_type(*p.type, "a parameter");
    }
  }
  for (auto& r : f.results) f.result_types.push_back(resolve_value_type(*r, "a result"));
  check_unique_params(f.params);
  // The VM passes at most kMaxParams values each way (structs: one per field).
  std::vector<vm::ValType> flat_params, flat_results;
  for (const Param& p : f.params) {
    if (p.storage_ref)
      flat_params.push_back(vm::ValType::U256);
    else if (p.resolved)
      flatten(p.resolved, flat_params);
  }
  for (const Type* t : f.result_types) flatten(t, flat_results);
  if (flat_params.size() > vm::kMaxParams)
    d_.error(f.name_span, "function " + f.name + " takes " + std::to_string(flat_params.size()) +
                              " values; a call passes at most 32 (a struct counts one per field)");
  if (flat_results.size() > vm::kMaxParams)
    d_.error(f.name_span, "function " + f.name + " returns " + std::to_string(flat_results.size()) +
                              " values; a call returns at most 32 (a struct counts one per field)");
  if (f.is_view && f.is_payable) d_.error(f.name_span, "a view function cannot be payable");
  if ((f.is_payable || f.is_reentrant) && !f.is_pub && f.contract && !f.is_init)
    d_.error(f.name_span, "payable/reentrant apply to pub functions");
}

const Type* Sema::resolve_value_type(TypeExpr& te, const char* where) {
  const Type* t = resolve_type(te, false);
  if (t->kind == Type::Kind::Interface) return t;
  return t;
  (void)where;
}

const Type* Sema::resolve_type(TypeExpr& te, bool storage) {
  if (te.kind == TypeExpr::Kind::Array) {
    const Type* elem = resolve_type(*te.args[0], false);
    auto n = vm::parse_u256(te.size);
    if (!n || !n->fits_u64() || n->low64() == 0 || n->low64() > 65536) {
      d_.error(te.span, "array length must be between 1 and 65536");
      return T.error();
    }
    if (!elem->is_scalar() || vm_type(elem) == vm::ValType::Buf) {
      if (!elem->is_error()) d_.error(te.span, "array elements are scalar values");
      return T.error();
    }
    return T.array(elem, n->low64());
  }
  if (te.kind == TypeExpr::Kind::Generic && (te.name == "amount" || te.name == "price")) {
    const bool price = te.name == "price";
    const size_t want = price ? 2 : 1;
    if (te.args.size() != want) {
      d_.error(te.span, price ? "price takes two currencies: price<EUR/USD> (USD per EUR)"
                              : "amount takes one currency: amount<USD>");
      return T.error();
    }
    std::vector<const CurrencyDecl*> cs;
    for (const auto& a : te.args) {
      auto it =
          a->kind == TypeExpr::Kind::Named ? p_.currencies.find(a->name) : p_.currencies.end();
      if (it == p_.currencies.end()) {
        d_.error(a->span, "unknown currency '" + a->name + "' (declare it: currency " + a->name +
                              " = dec<2>;)");
        return T.error();
      }
      if (it->second->decimals == 0) return T.error();  // its declaration was reported
      cs.push_back(it->second);
    }
    if (price && cs[0] == cs[1]) {
      d_.error(te.span, "a price is between two different currencies");
      return T.error();
    }
    return price ? T.price(cs[0], cs[1]) : T.amount(cs[0]);
  }
  if (te.kind == TypeExpr::Kind::Generic && te.name == "dec") {
    // dec<N>, 1 <= N <= kMaxDecimals: dec<18> is wad and dec<27> is ray.
    auto n = vm::parse_u256(te.size);
    if (te.size.empty() || !n || n->is_zero() || !n->fits_u64() || n->low64() > kMaxDecimals) {
      d_.error(te.span, "dec<N> takes a number of decimals from 1 to " +
                            std::to_string(kMaxDecimals) + ", found " +
                            (te.size.empty() ? std::string("a type") : te.size));
      return T.error();
    }
    return T.fixed(static_cast<unsigned>(n->low64()));
  }
  if (te.kind == TypeExpr::Kind::Generic) {
    if (te.name == "map" || te.name == "iter_map") {
      if (te.args.size() != 2) {
        d_.error(te.span, te.name + " takes two type arguments: " + te.name + "<K, V>");
        return T.error();
      }
      const Type* k = resolve_type(*te.args[0], false);
      const Type* v = resolve_type(*te.args[1], true);
      if (!storage) {
        d_.error(te.span, te.name + " lives in storage only: declare it as a storage field");
        return T.error();
      }
      if (!k->is_error() && (!k->is_scalar() || vm_type(k) == vm::ValType::Buf)) {
        d_.error(te.args[0]->span, "map keys are scalar values (" + k->name() + " is not)");
        return T.error();
      }
      if (te.name == "iter_map" && v->is_storage_only()) {
        d_.error(te.args[1]->span, "iter_map values cannot be maps or storage vectors");
        return T.error();
      }
      if (v->kind == Type::Kind::Bytes || v->kind == Type::Kind::String ||
          v->kind == Type::Kind::Vec || v->kind == Type::Kind::Array) {
        d_.error(te.args[1]->span, "storage holds scalars, structs, maps and vectors (" +
                                       v->name() + " is a memory buffer)");
        return T.error();
      }
      if (k->is_error() || v->is_error()) return T.error();
      return T.map(k, v, te.name == "iter_map");
    }
    if (te.name == "vec") {
      if (te.args.size() != 1) {
        d_.error(te.span, "vec takes one type argument: vec<T>");
        return T.error();
      }
      const Type* e = resolve_type(*te.args[0], false);
      if (storage) {
        // A vector in storage: elements are scalars or structs, each in its own slots.
        if (!e->is_error() && e->kind != Type::Kind::Struct &&
            (!e->is_scalar() || vm_type(e) == vm::ValType::Buf)) {
          d_.error(te.args[0]->span,
                   "storage vector elements are scalars or structs (" + e->name() + " is not)");
          return T.error();
        }
        return e->is_error() ? e : T.storage_vec(e);
      }
      if (!e->is_error() && (!e->is_scalar() || vm_type(e) == vm::ValType::Buf)) {
        d_.error(te.span, "vec elements are scalar values");
        return T.error();
      }
      return e->is_error() ? e : T.vec(e);
    }
    d_.error(te.span, "unknown generic type " + te.name + " (map, iter_map, vec)");
    return T.error();
  }
  const std::string& n = te.name;
  static const std::map<std::string, std::pair<unsigned, bool>> kInts = {
      {"u8", {8, false}},   {"u16", {16, false}},   {"u32", {32, false}},
      {"u64", {64, false}}, {"u128", {128, false}}, {"u256", {256, false}},
      {"i64", {64, true}},  {"i128", {128, true}},  {"i256", {256, true}},
  };
  if (auto it = kInts.find(n); it != kInts.end())
    return T.int_type(it->second.first, it->second.second);
  if (n == "bool") return T.bool_type();
  if (n == "address") return T.address();
  if (n == "bytes32") return T.bytes32();
  if (n == "bytes") return T.bytes();
  if (n == "string") return T.string();
  if (n == "wad") return T.fixed(18);
  if (n == "ray") return T.fixed(27);
  if (n == "timestamp") return T.timestamp();
  if (n == "duration") return T.duration();
  if (n == "map" || n == "iter_map" || n == "vec") {
    d_.error(te.span,
             n + " needs type arguments, e.g. " + n + (n == "vec" ? "<u64>" : "<address, u256>"));
    return T.error();
  }
  if (auto it = p_.structs.find(n); it != p_.structs.end()) {
    if (!resolve_struct(it->second)) {
      d_.error(te.span, "struct " + n + " contains itself");
      return T.error();
    }
    return T.struct_type(it->second);
  }
  if (auto it = p_.enums.find(n); it != p_.enums.end()) return T.enum_type(it->second);
  if (auto it = p_.interfaces.find(n); it != p_.interfaces.end())
    return T.interface_type(it->second);
  d_.error(te.span, "unknown type '" + n + "'");
  return T.error();
}

// ---- constants ---------------------------------------------------------------

void Sema::check_const(ConstDecl& c) {
  int& state = const_state_[&c];
  if (state != 0) return;  // checked already (on demand, from a use)
  state = 1;
  FnDecl* saved_fn = fn_;
  std::vector<Scope> saved_scopes = std::move(scopes_);
  scopes_.clear();
  fn_ = nullptr;
  if (!c.resolved)
    c.resolved = resolve_value_type(*c.type, "a constant");  // a duplicate, not in the table
  const Type* t = check(*c.value, c.resolved);
  if (!t->is_error() && !c.resolved->is_error()) {
    if (!c.value->is_const)
      d_.error(c.value->span, "a constant's value must be known at compile time");
    else
      expect_type(*c.value, t, c.resolved);
  }
  fn_ = saved_fn;
  scopes_ = std::move(saved_scopes);
  state = 2;
}

// ---- functions ---------------------------------------------------------------

void Sema::check_fn(FnDecl& f) {
  fn_ = &f;
  scopes_.clear();
  scopes_.emplace_back();
  loop_depth_ = 0;
  f.locals.clear();
  for (Param& p : f.params) {
    int idx = declare_local(p.name, p.resolved, p.span, false);
    f.locals[idx].storage_ref = p.storage_ref;
  }
  if (!f.body) return;
  bool terminates = check_block(*f.body, false);
  if (!terminates && !f.result_types.empty())
    d_.error(
        Span{f.body->span.file, f.body->span.end > 0 ? f.body->span.end - 1 : 0, f.body->span.end},
        "function " + f.name + " can reach its end without returning a value");
  fn_ = nullptr;
}

// `report` is false for parameters: duplicates among them are reported once
// by check_unique_params, and every parameter must get its index.
// A variable named `_` (not a parameter) discards its value: it holds it
// like any other, but enters no scope, so it can be declared again and can
// never be read.
int Sema::declare_local(const std::string& name, const Type* t, Span s, bool report) {
  if (report && name == "_") {
    fn_->locals.push_back(FnDecl::Local{name, t, s});
    return static_cast<int>(fn_->locals.size() - 1);
  }
  if (lookup_local(name) >= 0) {
    if (report)
      d_.error(s,
               "'" + name + "' is already a variable in this function (shadowing is not allowed)");
  } else if (fn_ && fn_->contract) {
    for (const StorageField& f : fn_->contract->storage) {
      if (f.name == name) {
        d_.error(s, "'" + name + "' would shadow the storage field of the same name");
        break;
      }
    }
  }
  fn_->locals.push_back(FnDecl::Local{name, t, s});
  int idx = static_cast<int>(fn_->locals.size() - 1);
  scopes_.back().names[name] = idx;
  return idx;
}

int Sema::lookup_local(const std::string& name) const {
  for (auto it = scopes_.rbegin(); it != scopes_.rend(); ++it) {
    auto f = it->names.find(name);
    if (f != it->names.end()) return f->second;
  }
  return -1;
}

// Returns true when every path through the block ends in return/revert (or
// break/continue, for the purpose of reachability).
bool Sema::check_block(Block& b, bool new_scope) {
  if (new_scope) scopes_.emplace_back();
  bool terminated = false;
  bool reported = false;
  for (auto& s : b.stmts) {
    if (terminated && !reported) {
      d_.error(s->span, "unreachable code");
      reported = true;
    }
    if (check_stmt(*s)) terminated = true;
  }
  if (new_scope) scopes_.pop_back();
  return terminated;
}

// The body of either `for` form, in a scope of its own that holds the
// loop variable (of type t).
void Sema::check_for_body(Stmt& s, const Type* t) {
  scopes_.emplace_back();
  s.locals.push_back(declare_local(s.names[0], t, s.name_spans[0]));
  ++loop_depth_;
  check_block(*s.body);
  --loop_depth_;
  scopes_.pop_back();
}

bool Sema::check_stmt(Stmt& s) {
  switch (s.kind) {
    case Stmt::Kind::Let: {
      const Type* annotated = s.type_expr ? resolve_type(*s.type_expr, false) : nullptr;
      const Type* t = check(*s.exprs[0], annotated);
      if (annotated && !annotated->is_error()) {
        expect_type(*s.exprs[0], t, annotated);
        t = annotated;
      }
      if (t->kind == Type::Kind::Void) {
        d_.error(s.exprs[0]->span, "this expression has no value");
        t = T.error();
      }
      if (t->is_storage_only()) {
        d_.error(s.exprs[0]->span,
                 "a " + t->name() + " lives in storage and cannot be copied into a variable");
        t = T.error();
      }
      if (s.names.size() > 1) {
        if (t->kind != Type::Kind::Tuple || t->elems.size() != s.names.size()) {
          if (!t->is_error())
            d_.error(s.span, "cannot unpack " + t->name() + " into " +
                                 std::to_string(s.names.size()) + " variables");
          for (size_t i = 0; i < s.names.size(); ++i)
            s.locals.push_back(declare_local(s.names[i], T.error(), s.name_spans[i]));
        } else {
          for (size_t i = 0; i < s.names.size(); ++i)
            s.locals.push_back(declare_local(s.names[i], t->elems[i], s.name_spans[i]));
        }
      } else {
        if (t->kind == Type::Kind::Tuple) {
          d_.error(s.span, "this call returns " + std::to_string(t->elems.size()) +
                               " values: unpack them with let (a, b) = ...");
          t = T.error();
        }
        if (t->kind == Type::Kind::Interface) {
          // allowed: a typed contract reference (an address)
        }
        s.locals.push_back(declare_local(s.names[0], t, s.name_spans[0]));
      }
      return false;
    }
    case Stmt::Kind::Assign: {
      Expr& target = *s.exprs[0];
      const Type* tt = check_lvalue(target);
      // A compound operator's right side is typed like the operator's right
      // operand (wad *= 3 scales by an integer), a plain one like the target.
      const Type* want = tt->is_error() ? nullptr
                         : s.compound   ? operand_hint(s.assign_op, tt, *s.exprs[1], false)
                                        : tt;
      const Type* vt = check(*s.exprs[1], want);
      if (s.compound) {
        const Type* r =
            tt->is_error() || vt->is_error() ? T.error() : check_bits(s.assign_op, tt, vt, s.span);
        if (!r) r = check_arith(s.assign_op, tt, vt, &target, *s.exprs[1], s.span);
        if (!r->is_error() && r != tt && !tt->is_error())
          d_.error(s.span, std::string("'") + binop_text(s.assign_op) +
                               "=' would change the type of the target to " + r->name());
      } else {
        expect_type(*s.exprs[1], vt, tt);
      }
      return false;
    }
    case Stmt::Kind::Expr: {
      Expr& e = *s.exprs[0];
      const Type* t = check(e, nullptr);
      bool is_call =
          e.kind == Expr::Kind::Call || e.kind == Expr::Kind::Method || e.kind == Expr::Kind::Try;
      if (!is_call && !t->is_error()) d_.error(e.span, "this expression has no effect");
      if (e.kind == Expr::Kind::Call && e.ref == Ref::Builtin &&
          (e.index == static_cast<int>(Builtin::Require) ||
           e.index == static_cast<int>(Builtin::Assert)))
        return false;
      return false;
    }
    case Stmt::Kind::If: {
      check_cond(*s.exprs[0]);
      bool a = check_block(*s.body);
      bool b = s.else_body ? check_block(*s.else_body) : false;
      if (s.exprs[0]->is_const && s.exprs[0]->value == "1" && a) return true;
      return a && b;
    }
    case Stmt::Kind::While: {
      check_cond(*s.exprs[0]);
      ++loop_depth_;
      check_block(*s.body);
      --loop_depth_;
      // `while true` without break never ends normally.
      return s.exprs[0]->is_const && s.exprs[0]->value == "1" && !contains_break(*s.body);
    }
    case Stmt::Kind::For: {
      if (s.exprs.size() == 1) {
        // for x in xs: a vector or array (memory or storage), element by element.
        const Type* ct = check(*s.exprs[0], nullptr);
        const Type* t = T.error();
        if (ct->kind == Type::Kind::Vec || ct->kind == Type::Kind::Array ||
            ct->kind == Type::Kind::StoreVec) {
          t = ct->elem;
        } else if (!ct->is_error()) {
          d_.error(s.exprs[0]->span, "for x in xs walks a vector or an array, not " + ct->name() +
                                         " (a range is written for i in a..b)");
        }
        check_for_body(s, t);
        return false;
      }
      // Literal bounds count in u64 unless the other bound says otherwise:
      // a literal takes the type of the bound that is not one (a variable,
      // a call, a named constant).
      const bool lit0 = is_literal(*s.exprs[0]), lit1 = is_literal(*s.exprs[1]);
      const Type* a = nullptr;
      const Type* b = nullptr;
      if (lit0 && !lit1) {
        b = check(*s.exprs[1], nullptr);
        a = check(*s.exprs[0], b->is_error() ? nullptr : b);
      } else {
        a = check(*s.exprs[0], lit0 && lit1 ? T.u64() : nullptr);
        b = check(*s.exprs[1], a->is_error() ? nullptr : a);
      }
      const Type* t = a;
      if (!a->is_error() && !b->is_error()) {
        if (!(a->is_int() && a->is_small() && !a->is_signed)) {
          d_.error(s.exprs[0]->span,
                   "for ranges count over unsigned integers of 64 bits or less, not " + a->name());
          t = T.error();
        } else {
          expect_type(*s.exprs[1], b, a);
        }
      }
      check_for_body(s, t);
      return false;
    }
    case Stmt::Kind::Return: {
      if (!fn_) return true;
      const auto& want = fn_->result_types;
      if (s.exprs.size() == 1 && want.size() > 1) {
        // return f(): a call whose results are exactly this function's.
        const Type* t = check(*s.exprs[0], nullptr);
        if (t->is_error()) return true;
        bool same = t->kind == Type::Kind::Tuple && t->elems.size() == want.size();
        for (size_t i = 0; same && i < want.size(); ++i)
          same = t->elems[i] == want[i] || t->elems[i]->is_error() || want[i]->is_error();
        if (!same && t->kind != Type::Kind::Tuple) {
          d_.error(s.span, "function " + fn_->name + " returns " + std::to_string(want.size()) +
                               " values, this returns 1");
        } else if (!same) {
          std::string names;
          for (const Type* w : want) names += (names.empty() ? "" : ", ") + w->name();
          d_.error(s.span,
                   "function " + fn_->name + " returns (" + names + "), this returns " + t->name());
        }
        return true;
      }
      if (s.exprs.size() != want.size()) {
        d_.error(s.span, "function " + fn_->name + " returns " + std::to_string(want.size()) +
                             " value" + (want.size() == 1 ? "" : "s") + ", this returns " +
                             std::to_string(s.exprs.size()));
        for (auto& e : s.exprs) check(*e, nullptr);
        return true;
      }
      for (size_t i = 0; i < want.size(); ++i) {
        const Type* t = check(*s.exprs[i], want[i]);
        expect_type(*s.exprs[i], t, want[i]);
      }
      return true;
    }
    case Stmt::Kind::Break:
    case Stmt::Kind::Continue:
      if (loop_depth_ == 0)
        d_.error(s.span, std::string(s.kind == Stmt::Kind::Break ? "break" : "continue") +
                             " outside a loop");
      return true;
    case Stmt::Kind::Emit: {
      if (fn_ && fn_->is_view) d_.error(s.span, "a view function cannot emit events");
      check_decl_call(*s.exprs[0], true);
      return false;
    }
    case Stmt::Kind::Revert:
      check_decl_call(*s.exprs[0], false);
      return true;
    case Stmt::Kind::Block:
      return check_block(*s.body);
  }
  return false;
}

bool Sema::contains_break(const Block& b) {
  for (const auto& s : b.stmts) {
    if (s->kind == Stmt::Kind::Break) return true;
    if (s->kind == Stmt::Kind::If) {
      if (contains_break(*s->body)) return true;
      if (s->else_body && contains_break(*s->else_body)) return true;
    }
    if (s->kind == Stmt::Kind::Block && contains_break(*s->body)) return true;
  }
  return false;
}

void Sema::check_cond(Expr& e) {
  const Type* t = check(e, T.bool_type());
  if (!t->is_error() && t != T.bool_type())
    d_.error(e.span, "condition must be bool, not " + t->name());
}

// emit Event(args) / revert Error(args) / require(c, Error(args))
void Sema::check_decl_call(Expr& call, bool is_event, bool report_shape) {
  if (call.kind != Expr::Kind::Call || call.kids.empty() ||
      call.kids[0]->kind != Expr::Kind::Name) {
    // emit/revert statements report this in the parser; require's argument here.
    if (report_shape)
      d_.error(call.span, "require's second argument must be an error: require(cond, Err(...))");
    call.type = T.error();
    return;
  }
  const std::string& name = call.kids[0]->text;
  std::vector<Param>* fields = nullptr;
  if (is_event) {
    auto it = p_.events.find(name);
    if (it == p_.events.end()) {
      d_.error(call.kids[0]->span, "unknown event '" + name + "'");
      for (size_t i = 1; i < call.kids.size(); ++i) check(*call.kids[i], nullptr);
      call.type = T.error();
      return;
    }
    call.ref = Ref::Event;
    call.decl = it->second;
    fields = &it->second->fields;
  } else {
    auto it = p_.errors.find(name);
    if (it == p_.errors.end()) {
      d_.error(call.kids[0]->span,
               "unknown error '" + name + "'" +
                   (p_.events.count(name) ? " (it is an event: use emit)" : ""));
      for (size_t i = 1; i < call.kids.size(); ++i) check(*call.kids[i], nullptr);
      call.type = T.error();
      return;
    }
    call.ref = Ref::Error;
    call.decl = it->second;
    fields = &it->second->fields;
  }
  check_args(call, 1, *fields, name);
  call.type = T.void_type();
}

void Sema::check_args(Expr& call, size_t first, const std::vector<Param>& params,
                      const std::string& what) {
  size_t n = call.kids.size() - first;
  if (n != params.size()) {
    d_.error(call.span, what + " takes " + std::to_string(params.size()) + " argument" +
                            (params.size() == 1 ? "" : "s") + ", got " + std::to_string(n));
    for (size_t i = first; i < call.kids.size(); ++i) check(*call.kids[i], nullptr);
    return;
  }
  for (size_t i = 0; i < n; ++i) {
    Expr& a = *call.kids[first + i];
    const Type* t = check(a, params[i].resolved);
    expect_type(a, t, params[i].resolved);
    if (params[i].storage_ref && !t->is_error()) {
      bool in_storage = false;
      if (!is_place(a, in_storage) || !in_storage) {
        d_.error(a.span, "parameter " + params[i].name +
                             " takes a storage field (or an entry of one), not a value");
      } else if (fn_ && fn_->is_view && !callee_is_view_) {
        d_.error(a.span, "a view function cannot pass storage to be written");
      }
    }
  }
}

}  // namespace writ::compiler::sema_internal

namespace writ::compiler {

bool analyze(Program& p, Diagnostics& diags) {
  return sema_internal::Sema(p, diags).run();
}

bool split_call_signature(const std::string& sig, std::string& name,
                          std::vector<std::string>& types) {
  const size_t open = sig.find('('), close = sig.rfind(')');
  if (open == std::string::npos || open == 0 || close != sig.size() - 1) return false;
  name = sig.substr(0, open);
  types.clear();
  std::string cur;
  for (char c : sig.substr(open + 1, close - open - 1) + ",") {
    if (c == ',') {
      if (!cur.empty()) types.push_back(cur);
      cur.clear();
    } else if (c != ' ') {
      cur += c;
    }
  }
  return true;
}

}  // namespace writ::compiler
