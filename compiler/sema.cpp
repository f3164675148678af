// Semantic analysis (contract in sema.hpp).
#include "sema.hpp"

#include <functional>
#include <set>

#include "writ/vm/u256.hpp"

namespace writ::compiler {
namespace {

using vm::U256;

U256 pow10(unsigned n) {
  U256 r = U256::from_u64(1);
  for (unsigned i = 0; i < n; ++i) r = vm::mul(r, U256::from_u64(10));
  return r;
}

// Largest value of an integer type, as U256 (two's complement max for signed).
U256 type_max(const Type* t) {
  if (t->kind == Type::Kind::Bool) return U256::from_u64(1);
  unsigned bits = t->is_int() ? t->bits : (t->is_small() ? 64 : 256);
  if (t->is_int() && t->is_signed) bits -= 1;
  return bits >= 256 ? U256::max() : vm::sub(vm::shl(U256::from_u64(1), bits), U256::from_u64(1));
}

class Sema {
 public:
  Sema(Program& p, Diagnostics& d) : p_(p), d_(d), T(p.types) {}

  bool run() {
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

 private:
  // Whether a free function's body can change state: emit, transfer, a write
  // through a storage parameter, a call of a non-view method of another
  // contract, or a call of a function that does. Recursion counts as pure
  // (the other paths decide).
  bool changes_state(const FnDecl& f) {
    auto it = effects_.find(&f);
    if (it != effects_.end()) return it->second == 2;
    effects_[&f] = 1;  // in progress
    bool changes = f.contract ? !f.is_view : (f.body && block_changes_state(*f.body));
    effects_[&f] = changes ? 2 : 0;
    return changes;
  }
  bool block_changes_state(const Block& b) {
    for (const auto& st : b.stmts)
      if (stmt_changes_state(*st)) return true;
    return false;
  }
  bool stmt_changes_state(const Stmt& st) {
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
  bool expr_changes_state(const Expr& e) {
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
  void declare(std::map<std::string, D*>& table, D* d, const char* what) {
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

  static bool reserved_name(const std::string& n) {
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

  void collect() {
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

  void resolve_declarations() {
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
        d_.error(e->span, "event " + e->name + " has " + std::to_string(flat.size()) +
                              " values; at most 16");
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
        d_.error(e->span, "error " + e->name + " has " + std::to_string(flat.size()) +
                              " values; at most 16");
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
  static bool neutral_variant(const std::string& v) {
    static const std::set<std::string> kNeutral = {
        "None", "Unset", "Empty", "Unknown", "Nothing", "Null", "Undefined", "Uninitialized"};
    return kNeutral.count(v) > 0;
  }
  const EnumDecl* unmarked_enum_in(const Type* t, int depth = 0) {
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
  void warn_unset_enums(const StorageField& s, const Type* t) {
    const EnumDecl* e = unmarked_enum_in(t);
    if (!e) return;
    d_.warning(s.span, "storage field " + s.name + " can hold enum " + e->name +
                           ", whose unset value reads as " + e->name + "::" + e->variants[0] +
                           " (its first variant): start " + e->name +
                           " with a neutral variant such as None, or write `default " +
                           e->variants[0] + "` if that is intended");
  }

  void check_unique_params(const std::vector<Param>& ps) {
    std::set<std::string> seen;
    for (const Param& p : ps)
      if (!seen.insert(p.name).second) d_.error(p.span, "'" + p.name + "' is listed twice");
  }

  // False when `s` is being resolved already: a field of `s` (directly or
  // through other structs) has type `s`. The caller reports it where the type
  // is named, and gives that field the error type, so no later pass (storage
  // layout, ABI flattening, codegen) ever walks an infinite struct.
  bool resolve_struct(StructDecl* s) {
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

  void resolve_signature(FnDecl& f, bool is_interface) {
    for (Param& p : f.params) {
      if (p.storage_ref) {
        p.resolved = resolve_type(*p.type, true);
        if (f.contract || is_interface)
          d_.error(p.span,
                   "storage parameters belong to free functions (a contract's functions name its "
                   "storage directly)");
        if (p.resolved->kind == Type::Kind::Bytes || p.resolved->kind == Type::Kind::String ||
            p.resolved->kind == Type::Kind::Vec || p.resolved->kind == Type::Kind::Array)
          d_.error(p.span, "storage holds scalars, structs, maps and vectors (" +
                               p.resolved->name() + " is a memory buffer)");
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
      d_.error(f.name_span,
               "function " + f.name + " takes " + std::to_string(flat_params.size()) +
                   " values; a call passes at most 32 (a struct counts one per field)");
    if (flat_results.size() > vm::kMaxParams)
      d_.error(f.name_span,
               "function " + f.name + " returns " + std::to_string(flat_results.size()) +
                   " values; a call returns at most 32 (a struct counts one per field)");
    if (f.is_view && f.is_payable) d_.error(f.name_span, "a view function cannot be payable");
    if ((f.is_payable || f.is_reentrant) && !f.is_pub && f.contract && !f.is_init)
      d_.error(f.name_span, "payable/reentrant apply to pub functions");
  }

  const Type* resolve_value_type(TypeExpr& te, const char* where) {
    const Type* t = resolve_type(te, false);
    if (t->kind == Type::Kind::Interface) return t;
    return t;
    (void)where;
  }

  const Type* resolve_type(TypeExpr& te, bool storage) {
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
  void check_const(ConstDecl& c) {
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
  struct Scope {
    std::map<std::string, int> names;
  };

  void check_fn(FnDecl& f) {
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
      d_.error(Span{f.body->span.file, f.body->span.end > 0 ? f.body->span.end - 1 : 0,
                    f.body->span.end},
               "function " + f.name + " can reach its end without returning a value");
    fn_ = nullptr;
  }

  // `report` is false for parameters: duplicates among them are reported once
  // by check_unique_params, and every parameter must get its index.
  int declare_local(const std::string& name, const Type* t, Span s, bool report = true) {
    if (lookup_local(name) >= 0) {
      if (report)
        d_.error(
            s, "'" + name + "' is already a variable in this function (shadowing is not allowed)");
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

  int lookup_local(const std::string& name) const {
    for (auto it = scopes_.rbegin(); it != scopes_.rend(); ++it) {
      auto f = it->names.find(name);
      if (f != it->names.end()) return f->second;
    }
    return -1;
  }

  // Returns true when every path through the block ends in return/revert (or
  // break/continue, for the purpose of reachability).
  bool check_block(Block& b, bool new_scope = true) {
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
  void check_for_body(Stmt& s, const Type* t) {
    scopes_.emplace_back();
    s.locals.push_back(declare_local(s.names[0], t, s.name_spans[0]));
    ++loop_depth_;
    check_block(*s.body);
    --loop_depth_;
    scopes_.pop_back();
  }

  bool check_stmt(Stmt& s) {
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
          const Type* r = check_arith(s.assign_op, tt, vt, &target, *s.exprs[1], s.span);
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
            d_.error(
                s.exprs[0]->span,
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
            d_.error(s.span, "function " + fn_->name + " returns (" + names + "), this returns " +
                                 t->name());
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

  static bool contains_break(const Block& b) {
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

  void check_cond(Expr& e) {
    const Type* t = check(e, T.bool_type());
    if (!t->is_error() && t != T.bool_type())
      d_.error(e.span, "condition must be bool, not " + t->name());
  }

  // emit Event(args) / revert Error(args) / require(c, Error(args))
  void check_decl_call(Expr& call, bool is_event, bool report_shape = false) {
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

  void check_args(Expr& call, size_t first, const std::vector<Param>& params,
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

  // ---- type rules ------------------------------------------------------------------
  void expect_type(Expr& e, const Type* got, const Type* want) {
    if (got->is_error() || want->is_error() || got == want) return;
    d_.error(e.span,
             "expected " + want->name() + ", found " + got->name() + conversion_hint(got, want));
  }

  // For a bare number where a time is expected: the forms that say what the
  // number means.
  static std::string time_hint(const Type* time_type) {
    return time_type->kind == Type::Kind::Duration
               ? " (a bare number is not a duration: write 3600s, 60m or 1h, or duration(n) "
                 "for n seconds)"
               : " (a bare number is not a timestamp: compare with now() + 1h or a stored "
                 "timestamp, or write timestamp(n) for n seconds since the epoch)";
  }

  static std::string conversion_hint(const Type* got, const Type* want) {
    if (got->is_int() &&
        (want->kind == Type::Kind::Timestamp || want->kind == Type::Kind::Duration))
      return time_hint(want);
    if (got->is_int() && want->is_int()) return " (convert with 'as " + want->name() + "')";
    if (got->is_int() && want->kind == Type::Kind::Fixed)
      return " (wad(x)/ray(x) converts a whole number; " + want->name() +
             "::from_raw(x) takes raw units)";
    if (got->kind == Type::Kind::Fixed && want->kind == Type::Kind::Fixed)
      return want->decimals > got->decimals ? " (use to_ray(x))"
                                            : " (use to_wad_down(x) or to_wad_up(x))";
    if (got->kind == Type::Kind::Fixed && want->is_int())
      return " (use floor(x), ceil(x) or x.raw())";
    if (got->kind == Type::Kind::StoreVec)
      return " (a storage vector is not a value: read its elements with xs[i] or for x in xs)";
    return "";
  }

  // Integer literal value checked against a type; folds into e.value.
  void fold_int_literal(Expr& e, const Type* t) {
    auto v = vm::parse_u256(e.text);
    if (!v) {
      d_.error(e.span, "integer literal " + e.text + " does not fit 256 bits");
      e.type = T.error();
      return;
    }
    U256 val = *v;
    if (t->kind == Type::Kind::Fixed) {
      if (!vm::mul_checked(val, pow10(t->decimals), val)) {
        d_.error(e.span, "literal " + e.text + " is too large for " + t->name());
        e.type = T.error();
        return;
      }
    } else if (vm::gt(val, type_max(t))) {
      d_.error(e.span, "literal " + e.text + " does not fit " + t->name() + " (max " +
                           vm::to_dec_string(type_max(t)) + ")");
      e.type = T.error();
      return;
    }
    e.is_const = true;
    e.value = vm::to_dec_string(val);
    e.type = t;
  }

  const Type* check(Expr& e, const Type* expected) {
    const Type* t = check_inner(e, expected);
    e.type = t;
    return t;
  }

  bool is_literal(const Expr& e) const {
    return e.kind == Expr::Kind::Int || e.kind == Expr::Kind::Decimal ||
           (e.kind == Expr::Kind::Unary && e.un == UnOp::Neg && is_literal(*e.kids[0]));
  }

  const Type* check_inner(Expr& e, const Type* expected) {
    switch (e.kind) {
      case Expr::Kind::Int: {
        const Type* t = expected;
        if (!t || !(t->is_int() || t->kind == Type::Kind::Fixed || t->kind == Type::Kind::Address ||
                    t->kind == Type::Kind::Bytes32))
          t = T.u256();
        if (t->kind == Type::Kind::Address || t->kind == Type::Kind::Bytes32) t = T.u256();
        fold_int_literal(e, t);
        return e.type ? e.type : t;
      }
      case Expr::Kind::Decimal: {
        if (expected && expected->is_error()) return T.error();  // already reported
        const Type* t = expected && expected->kind == Type::Kind::Fixed ? expected : nullptr;
        if (!t) {
          d_.error(e.span,
                   "a decimal literal needs a fixed-point type here (annotate it: let x: wad = " +
                       e.text + ")");
          return T.error();
        }
        size_t dot = e.text.find('.');
        std::string ip = e.text.substr(0, dot), fp = e.text.substr(dot + 1);
        while (!fp.empty() && fp.back() == '0') fp.pop_back();
        if (fp.size() > t->decimals) {
          d_.error(e.span, "literal " + e.text + " has more than " + std::to_string(t->decimals) +
                               " decimals: it is not exactly representable as " + t->name());
          return T.error();
        }
        fp.append(t->decimals - fp.size(), '0');
        std::string digits = ip + fp;
        auto v = vm::parse_u256(digits);
        if (!v) {
          d_.error(e.span, "literal " + e.text + " is too large for " + t->name());
          return T.error();
        }
        e.is_const = true;
        e.value = vm::to_dec_string(*v);
        return t;
      }
      case Expr::Kind::Duration: {
        auto v = vm::parse_u256(e.text);
        uint64_t unit = e.text2 == "s"   ? 1
                        : e.text2 == "m" ? 60
                        : e.text2 == "h" ? 3600
                        : e.text2 == "d" ? 86400
                                         : 604800;
        U256 r;
        if (!v || !vm::mul_checked(*v, U256::from_u64(unit), r) || !r.fits_u64()) {
          d_.error(e.span, "duration " + e.text + e.text2 + " does not fit 64 bits of seconds");
          return T.error();
        }
        e.is_const = true;
        e.value = vm::to_dec_string(r);
        return T.duration();
      }
      case Expr::Kind::String:
        return expected && expected->kind == Type::Kind::Bytes ? T.bytes() : T.string();
      case Expr::Kind::Bool:
        e.is_const = true;
        e.value = e.text == "true" ? "1" : "0";
        return T.bool_type();
      case Expr::Kind::Name:
        return check_name(e);
      case Expr::Kind::Path:
        return check_path(e);
      case Expr::Kind::Unary:
        return check_unary(e, expected);
      case Expr::Kind::Binary:
        return check_binary(e, expected);
      case Expr::Kind::Call:
        return check_call(e, expected);
      case Expr::Kind::Method:
        return check_method(e);
      case Expr::Kind::Field:
        return check_field(e);
      case Expr::Kind::Index:
        return check_index(e);
      case Expr::Kind::StructLit:
        return check_struct_lit(e);
      case Expr::Kind::Cast:
        return check_cast(e);
      case Expr::Kind::Try: {
        Expr& call = *e.kids[0];
        check(call, nullptr);
        if (!(call.kind == Expr::Kind::Method && call.ref == Ref::Interface)) {
          if (!call.type->is_error())
            d_.error(e.span,
                     "try applies to a call of another contract: try IFace(addr).method(...)");
          return T.error();
        }
        return T.bool_type();
      }
      case Expr::Kind::ArrayLit: {
        if (expected && expected->is_error()) {
          for (auto& k : e.kids) check(*k, nullptr);
          return T.error();  // the annotation was already reported
        }
        if (!expected ||
            (expected->kind != Type::Kind::Vec && expected->kind != Type::Kind::Array)) {
          d_.error(e.span,
                   "an array literal needs a vec<T> or [T; N] type here (annotate the variable)");
          for (auto& k : e.kids) check(*k, nullptr);
          return T.error();
        }
        if (expected->kind == Type::Kind::Array && !e.kids.empty() &&
            e.kids.size() != expected->length) {
          d_.error(e.span, "array of " + std::to_string(expected->length) +
                               " elements, literal has " + std::to_string(e.kids.size()));
        }
        for (auto& k : e.kids) {
          const Type* t = check(*k, expected->elem);
          expect_type(*k, t, expected->elem);
        }
        return expected;
      }
      case Expr::Kind::Tuple:
        d_.error(e.span, "tuples appear only in return statements and let (a, b) = ...");
        for (auto& k : e.kids) check(*k, nullptr);
        return T.error();
    }
    return T.error();
  }

  const Type* check_name(Expr& e) {
    int local = fn_ ? lookup_local(e.text) : -1;
    if (local >= 0) {
      e.ref = Ref::Local;
      e.index = local;
      e.is_storage_ref = fn_->locals[local].storage_ref;
      return fn_->locals[local].type;
    }
    if (fn_ && fn_->contract) {
      auto& st = fn_->contract->storage;
      for (size_t i = 0; i < st.size(); ++i) {
        if (st[i].name == e.text) {
          e.ref = Ref::Storage;
          e.index = static_cast<int>(i);
          return st[i].resolved;
        }
      }
    }
    if (auto it = p_.consts.find(e.text); it != p_.consts.end()) {
      if (const_state_[it->second] == 1) {
        d_.error(e.span, "constant " + e.text + " depends on itself");
        return T.error();
      }
      check_const(*it->second);  // declarations may come in any order
      e.ref = Ref::Const;
      e.decl = it->second;
      if (it->second->value && it->second->value->is_const) {
        e.is_const = true;
        e.value = it->second->value->value;
      }
      return it->second->resolved;
    }
    if (fn_ && !fn_->contract && fn_->body) {
      for (auto* c : p_.contracts)
        for (auto& f : c->storage)
          if (f.name == e.text) {
            d_.error(e.span,
                     "'" + e.text + "' is a storage field: free functions cannot reach storage");
            return T.error();
          }
    }
    d_.error(e.span, "unknown name '" + e.text + "'" + suggestion(e.text));
    return T.error();
  }

  std::string suggestion(const std::string& name) const {
    // Closest local or storage name by edit distance 1-2, to help with typos.
    auto dist = [](const std::string& a, const std::string& b) {
      std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
      for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
      for (size_t i = 1; i <= a.size(); ++i) {
        cur[0] = i;
        for (size_t j = 1; j <= b.size(); ++j)
          cur[j] =
              std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
        std::swap(prev, cur);
      }
      return prev[b.size()];
    };
    std::string best;
    size_t best_d = 3;
    auto consider = [&](const std::string& c) {
      size_t d = dist(name, c);
      if (d < best_d) {
        best_d = d;
        best = c;
      }
    };
    if (fn_) {
      for (const auto& s : scopes_)
        for (const auto& [n, i] : s.names) consider(n);
      if (fn_->contract)
        for (const auto& f : fn_->contract->storage) consider(f.name);
    }
    for (const auto& [n, c] : p_.consts) consider(n);
    return best.empty() ? "" : " (did you mean '" + best + "'?)";
  }

  const Type* check_path(Expr& e) {
    if (auto it = p_.enums.find(e.text); it != p_.enums.end()) {
      const auto& vs = it->second->variants;
      for (size_t i = 0; i < vs.size(); ++i) {
        if (vs[i] == e.text2) {
          e.ref = Ref::EnumVariant;
          e.index = static_cast<int>(i);
          e.is_const = true;
          e.value = std::to_string(i);
          return T.enum_type(it->second);
        }
      }
      d_.error(e.span, "enum " + e.text + " has no variant " + e.text2);
      return T.error();
    }
    d_.error(e.span, "unknown path " + e.text + "::" + e.text2);
    return T.error();
  }

  const Type* check_unary(Expr& e, const Type* expected) {
    Expr& x = *e.kids[0];
    switch (e.un) {
      case UnOp::Not: {
        const Type* t = check(x, T.bool_type());
        if (!t->is_error() && t != T.bool_type()) {
          d_.error(e.span, "'!' needs a bool, found " + t->name() + " (use '~' for bitwise not)");
          return T.error();
        }
        if (x.is_const) {
          e.is_const = true;
          e.value = x.value == "1" ? "0" : "1";
        }
        return T.bool_type();
      }
      case UnOp::BitNot: {
        const Type* t = check(x, expected);
        if (t->is_error()) return t;
        if (!(t->is_int() && !t->is_signed) && t->kind != Type::Kind::Bytes32) {
          d_.error(e.span, "'~' needs an unsigned integer or bytes32, found " + t->name());
          return T.error();
        }
        return t;
      }
      case UnOp::Neg: {
        if (x.kind == Expr::Kind::Int) {
          const Type* t = expected && expected->is_int() && expected->is_signed
                              ? expected
                              : T.int_type(256, true);
          auto v = vm::parse_u256(x.text);
          if (!v) {
            d_.error(x.span, "integer literal does not fit 256 bits");
            return T.error();
          }
          U256 limit = vm::add(type_max(t), U256::from_u64(1));  // |MIN|
          if (vm::gt(*v, limit)) {
            d_.error(e.span, "literal -" + x.text + " does not fit " + t->name());
            return T.error();
          }
          x.type = t;
          e.is_const = true;
          e.value = vm::to_dec_string(vm::neg(*v));  // two's complement bits
          return t;
        }
        const Type* t = check(x, expected);
        if (t->is_error()) return t;
        if (!(t->is_int() && t->is_signed)) {
          d_.error(e.span, "'-' needs a signed integer, found " + t->name() +
                               (t->is_int() ? " (unsigned values cannot be negated)" : ""));
          return T.error();
        }
        return t;
      }
    }
    return T.error();
  }

  // Type of `l op r` for arithmetic (+ - * / % **); reports precision rules.
  // The source text of an expression, for diagnostics that show the fix in
  // the author's own terms; `fallback` when it is long or spans lines.
  std::string source_text(const Expr& e, const char* fallback) const {
    if (e.span.file >= p_.sources.size()) return fallback;
    const std::string& text = p_.sources.file(e.span.file).text;
    if (e.span.end <= e.span.begin || e.span.end > text.size()) return fallback;
    std::string t = text.substr(e.span.begin, e.span.end - e.span.begin);
    if (t.size() > 40 || t.find('\n') != std::string::npos) return fallback;
    return t;
  }

  // `lhs` is null for a compound assignment (x *= y), whose left side is the
  // target; the fix is then written with the target's text from `span`.
  const Type* check_arith(BinOp op, const Type* l, const Type* r, Expr* lhs, Expr& rhs, Span span) {
    const std::string a_text = lhs ? source_text(*lhs, "a") : "a";
    const std::string b_text = source_text(rhs, "b");
    if (l->is_error() || r->is_error()) return T.error();
    if ((op == BinOp::Div || op == BinOp::Rem) && rhs.is_const && rhs.value == "0") {
      d_.error(rhs.span, "division by zero");
      return T.error();
    }
    const char* sym = binop_text(op);
    // Fixed point.
    if (l->kind == Type::Kind::Fixed || r->kind == Type::Kind::Fixed) {
      if (op == BinOp::Add || op == BinOp::Sub) {
        if (l == r) return l;
        d_.error(span, std::string("'") + sym + "' needs both sides of the same type, found " +
                           l->name() + " and " + r->name() + conversion_hint(r, l));
        return T.error();
      }
      if (op == BinOp::Mul) {
        if (l->kind == Type::Kind::Fixed && r->kind == Type::Kind::Fixed) {
          const std::string args = "(" + a_text + ", " + b_text + ")";
          d_.error(span, "multiplying " + l->name() + " by " + r->name() +
                             " loses precision: write mul_down" + args + " or mul_up" + args +
                             " to choose the rounding");
          return T.error();
        }
        const Type* f = l->kind == Type::Kind::Fixed ? l : r;
        const Type* n = l->kind == Type::Kind::Fixed ? r : l;
        if (n->is_int() && !n->is_signed) return f;
        d_.error(span,
                 "a " + f->name() + " can be multiplied by an unsigned integer, not " + n->name());
        return T.error();
      }
      if (op == BinOp::Div || op == BinOp::Rem) {
        const std::string args = "(" + a_text + ", " + b_text + ")";
        d_.error(span, "dividing a " + (l->kind == Type::Kind::Fixed ? l : r)->name() +
                           " loses precision: write div_down" + args + " or div_up" + args +
                           " to choose the rounding");
        return T.error();
      }
      d_.error(span, std::string("'") + sym + "' is not defined for " + l->name());
      return T.error();
    }
    // Time.
    if (l->kind == Type::Kind::Timestamp || r->kind == Type::Kind::Timestamp ||
        l->kind == Type::Kind::Duration || r->kind == Type::Kind::Duration) {
      auto is = [](const Type* t, Type::Kind k) { return t->kind == k; };
      using K = Type::Kind;
      if (op == BinOp::Add) {
        if ((is(l, K::Timestamp) && is(r, K::Duration)) ||
            (is(l, K::Duration) && is(r, K::Timestamp)))
          return T.timestamp();
        if (is(l, K::Duration) && is(r, K::Duration)) return T.duration();
      } else if (op == BinOp::Sub) {
        if (is(l, K::Timestamp) && is(r, K::Timestamp)) return T.duration();
        if (is(l, K::Timestamp) && is(r, K::Duration)) return T.timestamp();
        if (is(l, K::Duration) && is(r, K::Duration)) return T.duration();
      } else if (op == BinOp::Mul || op == BinOp::Div) {
        if (is(l, K::Duration) && r->is_int() && r->is_small() && !r->is_signed)
          return T.duration();
        if (op == BinOp::Mul && is(r, K::Duration) && l->is_int() && l->is_small() && !l->is_signed)
          return T.duration();
      }
      std::string why = " (timestamps and durations add and subtract; durations scale by integers)";
      if ((op == BinOp::Add || op == BinOp::Sub) && (l->is_int() || r->is_int()))
        why =
            " (a bare number is not a duration: write t + 3600s or t + 1h, or duration(n) for n "
            "seconds)";
      d_.error(span, std::string("'") + sym + "' is not defined for " + l->name() + " and " +
                         r->name() + why);
      return T.error();
    }
    if (!l->is_int() || !r->is_int()) {
      d_.error(span, std::string("'") + sym + "' needs numbers, found " + l->name() + " and " +
                         r->name());
      return T.error();
    }
    if (op == BinOp::Pow) {
      if (l->is_signed || r->is_signed) {
        d_.error(span, "'**' is defined for unsigned integers");
        return T.error();
      }
      return l;
    }
    if (l != r) {
      d_.error(span, std::string("'") + sym + "' needs both sides of the same type, found " +
                         l->name() + " and " + r->name() + " (convert one with 'as')");
      return T.error();
    }
    if ((op == BinOp::Div || op == BinOp::Rem) && rhs.is_const && rhs.value == "0") {
      d_.error(rhs.span, "division by zero");
      return T.error();
    }
    return l;
  }

  const Type* check_binary(Expr& e, const Type* expected) {
    Expr& a = *e.kids[0];
    Expr& b = *e.kids[1];
    BinOp op = e.bin;
    if (op == BinOp::And || op == BinOp::Or) {
      const Type* l = check(a, T.bool_type());
      const Type* r = check(b, T.bool_type());
      if (!l->is_error() && l != T.bool_type())
        d_.error(a.span,
                 std::string("'") + binop_text(op) + "' needs bool operands, found " + l->name());
      if (!r->is_error() && r != T.bool_type())
        d_.error(b.span,
                 std::string("'") + binop_text(op) + "' needs bool operands, found " + r->name());
      return T.bool_type();
    }
    bool cmp = op == BinOp::Eq || op == BinOp::Ne || op == BinOp::Lt || op == BinOp::Le ||
               op == BinOp::Gt || op == BinOp::Ge;
    // Type the non-literal side first so literals adapt to it.
    const Type* l;
    const Type* r;
    const Type* hint = cmp ? nullptr : expected;
    if (is_literal(a) && !is_literal(b)) {
      r = check(b, hint);
      l = check(a, operand_hint(op, r, a, true));
    } else {
      l = check(a, hint);
      r = check(b, operand_hint(op, l, b, false));
    }
    if (l->is_error() || r->is_error()) return T.error();
    if (cmp) {
      if (l != r) {
        d_.error(e.span, std::string("cannot compare ") + l->name() + " with " + r->name() +
                             conversion_hint(r, l));
        return T.error();
      }
      bool ordered =
          l->is_numeric() || l->kind == Type::Kind::Timestamp || l->kind == Type::Kind::Duration;
      if (!ordered && op != BinOp::Eq && op != BinOp::Ne) {
        d_.error(e.span, std::string("'") + binop_text(op) + "' is not defined for " + l->name());
        return T.error();
      }
      if (!l->is_scalar() || vm_type(l) == vm::ValType::Buf) {
        d_.error(e.span, l->name() + " values cannot be compared");
        return T.error();
      }
      return T.bool_type();
    }
    if (op == BinOp::BitAnd || op == BinOp::BitOr || op == BinOp::BitXor) {
      bool ok = l == r && ((l->is_int() && !l->is_signed) || l->kind == Type::Kind::Bytes32 ||
                           l == T.bool_type());
      if (!ok) {
        d_.error(e.span,
                 std::string("'") + binop_text(op) +
                     "' needs two unsigned integers, bytes32 or bools of the same type, found " +
                     l->name() + " and " + r->name());
        return T.error();
      }
      return l;
    }
    if (op == BinOp::Shl || op == BinOp::Shr) {
      // >> on a signed integer is arithmetic (it rounds toward minus
      // infinity: -7 >> 1 == -4); << on one is refused, since shifting into
      // the sign bit has no checked meaning.
      const bool signed_shr = op == BinOp::Shr && l->is_int() && l->is_signed;
      bool ok = ((l->is_int() && !l->is_signed) || l->kind == Type::Kind::Bytes32 || signed_shr) &&
                r->is_int() && !r->is_signed;
      if (!ok) {
        d_.error(e.span,
                 std::string(op == BinOp::Shl
                                 ? "<< takes an unsigned integer or bytes32"
                                 : ">> takes an integer (arithmetic when signed) or bytes32") +
                     " and an unsigned amount, found " + l->name() + " and " + r->name());
        return T.error();
      }
      return l;
    }
    return check_arith(op, l, r, &a, b, e.span);
  }

  bool is_decimal_literal(const Expr& e) const {
    return e.kind == Expr::Kind::Decimal ||
           (e.kind == Expr::Kind::Unary && e.un == UnOp::Neg && is_decimal_literal(*e.kids[0]));
  }
  // literal_hint, except that a decimal literal next to a fixed-point value
  // in * or / takes that value's type: `x * 0.5` on a wad then gets the
  // rounding diagnostic (write mul_down(x, 0.5)), not a literal-type error.
  const Type* operand_hint(BinOp op, const Type* other, const Expr& operand, bool on_left) {
    if (other && other->kind == Type::Kind::Fixed && is_decimal_literal(operand) &&
        (op == BinOp::Mul || op == BinOp::Div || op == BinOp::Rem))
      return other;
    return literal_hint(op, other, on_left);
  }

  // Expected type for a literal operand next to a value of type `other`.
  const Type* literal_hint(BinOp op, const Type* other, bool literal_on_left) {
    (void)literal_on_left;
    if (!other || other->is_error()) return nullptr;
    if (other->kind == Type::Kind::Fixed &&
        (op == BinOp::Mul || op == BinOp::Div || op == BinOp::Rem))
      return T.u256();
    if (other->kind == Type::Kind::Duration && (op == BinOp::Mul || op == BinOp::Div))
      return T.u64();
    if ((op == BinOp::Shl || op == BinOp::Shr)) return T.u64();
    if (op == BinOp::Pow) return other->is_int() ? other : nullptr;
    return other;
  }

  const Type* check_lvalue(Expr& e) {
    const Type* t = check(e, nullptr);
    if (t->is_error()) return t;
    bool storage = false;
    if (!is_place(e, storage)) {
      d_.error(e.span, "cannot assign to this expression");
      return T.error();
    }
    if (storage && fn_ && fn_->is_view) d_.error(e.span, "a view function cannot write storage");
    if (t->is_storage_only()) {
      d_.error(e.span,
               t->kind == Type::Kind::StoreVec
                   ? "a whole storage vector cannot be assigned; assign its elements or push"
                   : "a whole map cannot be assigned; assign its entries");
      return T.error();
    }
    return t;
  }

  static bool is_place(const Expr& e, bool& storage) {
    switch (e.kind) {
      case Expr::Kind::Name:
        if (e.ref == Ref::Storage || (e.ref == Ref::Local && e.is_storage_ref)) storage = true;
        return e.ref == Ref::Local || e.ref == Ref::Storage;
      case Expr::Kind::Field:
        return is_place(*e.kids[0], storage);
      case Expr::Kind::Index:
        return is_place(*e.kids[0], storage);
      default:
        return false;
    }
  }

  const Type* check_field(Expr& e) {
    const Type* t = check(*e.kids[0], nullptr);
    if (t->is_error()) return t;
    if (t->kind != Type::Kind::Struct) {
      d_.error(e.span, t->name() + " has no fields");
      return T.error();
    }
    const auto& fields = t->strukt->fields;
    for (size_t i = 0; i < fields.size(); ++i) {
      if (fields[i].name == e.text) {
        e.index = static_cast<int>(i);
        return t->elems[i];
      }
    }
    d_.error(e.span, "struct " + t->name() + " has no field '" + e.text + "'");
    return T.error();
  }

  const Type* check_index(Expr& e) {
    const Type* t = check(*e.kids[0], nullptr);
    if (t->is_error()) {
      check(*e.kids[1], nullptr);
      return t;
    }
    if (t->kind == Type::Kind::Map || t->kind == Type::Kind::IterMap) {
      const Type* k = check(*e.kids[1], t->key);
      expect_type(*e.kids[1], k, t->key);
      return t->elem;
    }
    if (t->kind == Type::Kind::StoreVec) {
      const Type* k = check(*e.kids[1], T.u64());
      expect_type(*e.kids[1], k, T.u64());
      return t->elem;
    }
    if (t->kind == Type::Kind::Vec || t->kind == Type::Kind::Array ||
        t->kind == Type::Kind::Bytes) {
      const Type* k = check(*e.kids[1], T.u64());
      expect_type(*e.kids[1], k, T.u64());
      if (t->kind == Type::Kind::Array && e.kids[1]->is_const) {
        auto v = vm::parse_u256(e.kids[1]->value);
        if (v && (!v->fits_u64() || v->low64() >= t->length))
          d_.error(e.kids[1]->span,
                   "index " + e.kids[1]->value + " is out of bounds for " + t->name());
      }
      return t->kind == Type::Kind::Bytes ? T.int_type(8, false) : t->elem;
    }
    d_.error(e.span, t->name() + " cannot be indexed");
    check(*e.kids[1], nullptr);
    return T.error();
  }

  const Type* check_struct_lit(Expr& e) {
    auto it = p_.structs.find(e.text);
    if (it == p_.structs.end()) {
      d_.error(e.span, "unknown struct '" + e.text + "'");
      for (auto& k : e.kids) check(*k, nullptr);
      return T.error();
    }
    StructDecl* s = it->second;
    const Type* st = T.struct_type(s);
    std::vector<int> order(s->fields.size(), -1);
    for (size_t i = 0; i < e.field_names.size(); ++i) {
      int fi = -1;
      for (size_t j = 0; j < s->fields.size(); ++j)
        if (s->fields[j].name == e.field_names[i]) fi = static_cast<int>(j);
      if (fi < 0) {
        d_.error(e.kids[i]->span, "struct " + s->name + " has no field '" + e.field_names[i] + "'");
        check(*e.kids[i], nullptr);
        continue;
      }
      if (order[fi] >= 0)
        d_.error(e.kids[i]->span, "field '" + e.field_names[i] + "' is given twice");
      order[fi] = static_cast<int>(i);
      const Type* t = check(*e.kids[i], s->fields[fi].resolved);
      expect_type(*e.kids[i], t, s->fields[fi].resolved);
    }
    for (size_t j = 0; j < s->fields.size(); ++j)
      if (order[j] < 0)
        d_.error(e.span, "missing field '" + s->fields[j].name + "' of struct " + s->name);
    e.decl = s;
    return st;
  }

  // Decimals of dec<N>: enough for any currency or rate, and 10^N leaves
  // room in 256 bits for amounts (10^36 × 10^36 still fits the 512-bit
  // products of mul_down and friends).
  static constexpr unsigned kMaxDecimals = 36;

  const Type* check_cast(Expr& e) {
    const Type* to = resolve_type(*e.type_expr, false);
    const Type* from = check(*e.kids[0], to->is_int() ? to : nullptr);
    if (to->is_error() || from->is_error()) return T.error();
    auto intlike = [](const Type* t) {
      return t->is_int() || t->kind == Type::Kind::Address || t->kind == Type::Kind::Bytes32 ||
             t->kind == Type::Kind::Timestamp || t->kind == Type::Kind::Duration ||
             t->kind == Type::Kind::Enum || t->kind == Type::Kind::Bool;
    };
    if (from == to) return to;
    // Fixed point to more decimals is exact (checked against overflow); to
    // fewer it loses digits, so the rounding must be named.
    if (from->kind == Type::Kind::Fixed && to->kind == Type::Kind::Fixed) {
      // A tag is put on or taken off at the same scale; changing it takes a price.
      if (from->is_tagged() || to->is_tagged()) {
        if (from->is_tagged() && to->is_tagged()) {
          d_.error(e.span, "converting " + from->name() + " to " + to->name() +
                               (from->quote || to->quote
                                    ? std::string(" is not a conversion between amounts")
                                    : " needs a price: convert_down(x, p) or convert_up(x, p) "
                                      "with p: price<" +
                                          from->currency->name + "/" + to->currency->name + ">"));
          return T.error();
        }
        if (from->decimals == to->decimals) return to;
        d_.error(e.span, "converting " + from->name() + " to " + to->name() +
                             " changes the scale as well as the tag: convert to dec<" +
                             std::to_string(from->decimals) + "> first");
        return T.error();
      }
      if (to->decimals > from->decimals) return to;
      d_.error(e.span, "converting " + from->name() + " to " + to->name() + " drops " +
                           std::to_string(from->decimals - to->decimals) +
                           " decimals: write rescale_down(x, " + std::to_string(to->decimals) +
                           ") or rescale_up(x, " + std::to_string(to->decimals) + ")");
      return T.error();
    }
    if (intlike(from) && to->is_int()) return to;
    if (from->is_int() && (to->kind == Type::Kind::Address || to->kind == Type::Kind::Bytes32))
      return to;
    if (from->kind == Type::Kind::Address && to->kind == Type::Kind::Bytes32) return to;
    if (from->kind == Type::Kind::Bytes32 && to->kind == Type::Kind::Address) return to;
    if (from->kind == Type::Kind::Interface && to->kind == Type::Kind::Address) return to;
    if ((from->kind == Type::Kind::String && to->kind == Type::Kind::Bytes) ||
        (from->kind == Type::Kind::Bytes && to->kind == Type::Kind::String))
      return to;
    d_.error(e.span,
             "cannot convert " + from->name() + " to " + to->name() + conversion_hint(from, to));
    return T.error();
  }

  // ---- calls -------------------------------------------------------------------------
  const Type* builtin_result(Expr& e, Builtin b, const Type* t) {
    e.ref = Ref::Builtin;
    e.index = static_cast<int>(b);
    return t;
  }

  bool nargs(Expr& e, size_t n, const std::string& name) {
    if (e.kids.size() - 1 == n) return true;
    d_.error(e.span, name + " takes " + std::to_string(n) + " argument" + (n == 1 ? "" : "s") +
                         ", got " + std::to_string(e.kids.size() - 1));
    for (size_t i = 1; i < e.kids.size(); ++i) check(*e.kids[i], nullptr);
    return false;
  }

  // Free functions are compiled into each contract that calls them and run in
  // its call frame, so context (caller(), transfer, calls) means the same there.
  void require_state_access(Expr&, const char*) {}

  const Type* check_call(Expr& e, const Type* expected) {
    Expr& callee = *e.kids[0];
    if (callee.kind == Expr::Kind::Path) {
      // T::from_raw(x) for fixed-point types.
      if ((callee.text == "wad" || callee.text == "ray") && callee.text2 == "from_raw") {
        if (!nargs(e, 1, callee.text + "::from_raw")) return T.error();
        const Type* t = check(*e.kids[1], T.u256());
        expect_type(*e.kids[1], t, T.u256());
        return builtin_result(e, Builtin::FromRaw, T.fixed(callee.text == "wad" ? 18 : 27));
      }
      d_.error(callee.span, "unknown function " + callee.text + "::" + callee.text2);
      for (size_t i = 1; i < e.kids.size(); ++i) check(*e.kids[i], nullptr);
      return T.error();
    }
    if (callee.kind != Expr::Kind::Name) {
      d_.error(callee.span, "only named functions can be called");
      for (size_t i = 1; i < e.kids.size(); ++i) check(*e.kids[i], nullptr);
      return T.error();
    }
    const std::string& n = callee.text;
    // Local variables shadow nothing callable; check functions first.
    if (fn_ && fn_->contract) {
      for (auto& f : fn_->contract->fns) {
        if (f->name == n && !f->is_init) return check_fn_call(e, *f);
      }
    }
    if (auto it = p_.fns.find(n); it != p_.fns.end()) return check_fn_call(e, *it->second);
    if (auto it = p_.interfaces.find(n); it != p_.interfaces.end()) {
      // IFace(addr): a typed reference to another contract.
      if (!nargs(e, 1, n)) return T.error();
      const Type* t = check(*e.kids[1], T.address());
      expect_type(*e.kids[1], t, T.address());
      e.ref = Ref::Interface;
      e.decl = it->second;
      return T.interface_type(it->second);
    }
    if (p_.errors.count(n)) {
      d_.error(e.span,
               "an error is raised with revert " + n + "(...) or require(cond, " + n + "(...))");
      return T.error();
    }
    if (p_.events.count(n)) {
      d_.error(e.span, "an event is logged with emit " + n + "(...)");
      return T.error();
    }
    return check_builtin_call(e, n, expected);
  }

  const Type* check_fn_call(Expr& e, FnDecl& f) {
    if (fn_ && fn_->is_view && !f.is_view) {
      if (!is_pure_helper(f))
        d_.error(e.span, "a view function cannot call " + f.name + ", which is not a view");
      else
        view_calls_.push_back({&e, &f});  // decided once every body is checked
    }
    if (fn_ && !fn_->contract && f.contract) {
      d_.error(e.span, "free functions cannot call contract functions");
    }
    callee_is_view_ = f.is_view;
    check_args(e, 1, f.params, f.name);
    callee_is_view_ = false;
    e.ref = Ref::Function;
    e.decl = &f;
    if (f.result_types.empty()) return T.void_type();
    if (f.result_types.size() == 1) return f.result_types[0];
    return T.tuple(f.result_types);
  }

  // A contract's internal helper called from a view must be marked view. A
  // free function without storage parameters may be called from a view when
  // its body cannot change state (changes_state, after all bodies are checked).
  static bool is_pure_helper(const FnDecl& f) {
    if (f.contract) return false;
    for (const Param& p : f.params)
      if (p.storage_ref) return false;
    return true;
  }

  const Type* check_builtin_call(Expr& e, const std::string& n, const Type* expected) {
    auto arg = [&](size_t i, const Type* want) {
      const Type* t = check(*e.kids[i], want);
      if (want) expect_type(*e.kids[i], t, want);
      return t;
    };
    if (n == "require") {
      if (e.kids.size() != 2 && e.kids.size() != 3) {
        d_.error(e.span,
                 "require takes a condition and optionally an error: require(cond, Err(...))");
        return T.error();
      }
      check_cond(*e.kids[1]);
      if (e.kids.size() == 3) check_decl_call(*e.kids[2], false, true);
      return builtin_result(e, Builtin::Require, T.void_type());
    }
    if (n == "assert") {
      if (!nargs(e, 1, "assert")) return T.error();
      check_cond(*e.kids[1]);
      return builtin_result(e, Builtin::Assert, T.void_type());
    }
    struct Nullary {
      const char* name;
      Builtin b;
      const Type* t;
      bool state;
    };
    const Nullary nullary[] = {
        {"caller", Builtin::Caller, T.address(), true},
        {"origin", Builtin::Origin, T.address(), true},
        {"self_address", Builtin::SelfAddress, T.address(), true},
        {"value", Builtin::Value, T.u256(), true},
        {"now", Builtin::Now, T.timestamp(), false},
        {"block_number", Builtin::BlockNumber, T.u64(), false},
        {"chain_id", Builtin::ChainId, T.u64(), false},
        {"gas_left", Builtin::GasLeft, T.u64(), false},
    };
    for (const Nullary& x : nullary) {
      if (n == x.name) {
        if (!nargs(e, 0, n)) return T.error();
        if (x.state) require_state_access(e, x.name);
        return builtin_result(e, x.b, x.t);
      }
    }
    if (n == "balance") {
      if (!nargs(e, 1, n)) return T.error();
      arg(1, T.address());
      return builtin_result(e, Builtin::Balance, T.u256());
    }
    if (n == "transfer") {
      if (!nargs(e, 2, n)) return T.error();
      arg(1, T.address());
      arg(2, T.u256());
      require_state_access(e, "transfer");
      if (fn_ && fn_->is_view) d_.error(e.span, "a view function cannot transfer value");
      return builtin_result(e, Builtin::Transfer, T.void_type());
    }
    if (n == "sha256") {
      if (!nargs(e, 1, n)) return T.error();
      const Type* t = check(*e.kids[1], T.bytes());
      if (!t->is_error() && t->kind != Type::Kind::Bytes && t->kind != Type::Kind::String)
        d_.error(e.kids[1]->span, "sha256 takes bytes or a string, found " + t->name());
      return builtin_result(e, Builtin::Sha256, T.bytes32());
    }
    if (n == "raw_call") {
      // raw_call(to: address, value: u256, data: bytes) -> (bool, bytes):
      // a call with encoded input (from call_data or approved by a
      // treasury), its success and its output (or revert data); never
      // reverts by itself.
      if (!nargs(e, 3, n)) return T.error();
      const Type* to = check(*e.kids[1], T.address());
      expect_type(*e.kids[1], to, T.address());
      const Type* v = check(*e.kids[2], T.u256());
      expect_type(*e.kids[2], v, T.u256());
      const Type* d = check(*e.kids[3], T.bytes());
      if (!d->is_error() && d->kind != Type::Kind::Bytes)
        d_.error(e.kids[3]->span, "the data of raw_call is bytes, found " + d->name());
      if (fn_ && fn_->is_view) d_.error(e.span, "a view function cannot make a raw call");
      return builtin_result(e, Builtin::RawCall, T.tuple({T.bool_type(), T.bytes()}));
    }
    if (n == "call_data") {
      // call_data("name(types)", args...) -> bytes: the input of a call, the
      // 4-byte selector of the signature then the arguments, ABI-encoded.
      if (e.kids.size() < 2 || e.kids[1]->kind != Expr::Kind::String) {
        d_.error(e.span,
                 "call_data takes a signature string first, e.g. "
                 "call_data(\"transfer(u256,u256)\", to, amount)");
        for (size_t i = 1; i < e.kids.size(); ++i) check(*e.kids[i], nullptr);
        return T.error();
      }
      std::string fn_name;
      std::vector<std::string> types;
      if (!split_call_signature(e.kids[1]->text, fn_name, types)) {
        d_.error(e.kids[1]->span, "a signature is name(types), e.g. \"transfer(u256,u256)\"");
        return T.error();
      }
      for (const std::string& t : types)
        if (t != "u64" && t != "u256" && t != "bytes") {
          d_.error(e.kids[1]->span,
                   "call_data takes the VM's types in the signature: u64, u256 or bytes (any "
                   "buffer), found " +
                       t);
          return T.error();
        }
      if (types.size() != e.kids.size() - 2) {
        d_.error(e.span, "the signature names " + std::to_string(types.size()) + " arguments, " +
                             std::to_string(e.kids.size() - 2) + " are given");
        return T.error();
      }
      for (size_t i = 0; i < types.size(); ++i) {
        const Type* want = types[i] == "u64" ? T.u64() : types[i] == "bytes" ? T.bytes() : T.u256();
        const Type* t = check(*e.kids[i + 2], want);
        if (!t->is_error() && !(t->is_scalar() && vm_type(t) == vm_type(want)))
          d_.error(e.kids[i + 2]->span, "argument " + std::to_string(i + 1) + " is a " + types[i] +
                                            " in the signature, found " + t->name());
      }
      return builtin_result(e, Builtin::CallData, T.bytes());
    }
    if (n == "selector") {
      // selector("name(types)") -> u64: the 4-byte selector of a signature, a constant.
      if (!nargs(e, 1, n)) return T.error();
      std::string fn_name;
      std::vector<std::string> types;
      if (e.kids[1]->kind != Expr::Kind::String ||
          !split_call_signature(e.kids[1]->text, fn_name, types)) {
        d_.error(e.kids[1]->span,
                 "selector takes a signature string, e.g. selector(\"TooBig(u64,u64)\")");
        return T.error();
      }
      for (const std::string& t : types)
        if (t != "u64" && t != "u256" && t != "bytes") {
          d_.error(e.kids[1]->span,
                   "a signature names the VM's types: u64, u256 or bytes, found " + t);
          return T.error();
        }
      return builtin_result(e, Builtin::Selector, T.u64());
    }
    if (n == "abi_word" || n == "abi_bytes" || n == "abi_selector" || n == "abi_args") {
      // Decoding what raw_call gives back (docs/language.md §5).
      const bool indexed = n == "abi_word" || n == "abi_bytes";
      if (!nargs(e, indexed ? 2 : 1, n)) return T.error();
      const Type* d = check(*e.kids[1], T.bytes());
      if (!d->is_error() && d->kind != Type::Kind::Bytes)
        d_.error(e.kids[1]->span, "the data of " + n + " is bytes, found " + d->name());
      if (indexed) {
        const Type* i = check(*e.kids[2], T.u64());
        expect_type(*e.kids[2], i, T.u64());
      }
      if (n == "abi_word") return builtin_result(e, Builtin::AbiWord, T.u256());
      if (n == "abi_bytes") return builtin_result(e, Builtin::AbiBytes, T.bytes());
      if (n == "abi_selector") return builtin_result(e, Builtin::AbiSelector, T.u64());
      return builtin_result(e, Builtin::AbiArgs, T.bytes());
    }
    if (n == "ed25519_verify") {
      // ed25519_verify(public_key: bytes32, message: bytes, signature: bytes)
      // -> bool, under the chain's strict rule (docs/runtime.md).
      if (!nargs(e, 3, n)) return T.error();
      const Type* k = check(*e.kids[1], T.bytes32());
      if (!k->is_error() && k->kind != Type::Kind::Bytes32)
        d_.error(e.kids[1]->span,
                 "the public key of ed25519_verify is a bytes32, found " + k->name());
      for (size_t i : {2u, 3u}) {
        const Type* t = check(*e.kids[i], T.bytes());
        if (!t->is_error() && t->kind != Type::Kind::Bytes && t->kind != Type::Kind::String)
          d_.error(e.kids[i]->span, std::string(i == 2 ? "the message" : "the signature") +
                                        " of ed25519_verify is bytes, found " + t->name());
      }
      return builtin_result(e, Builtin::Ed25519Verify, T.bool_type());
    }
    if (n == "hash") {
      if (!nargs(e, 2, n)) return T.error();
      for (int i = 1; i <= 2; ++i) {
        const Type* t = check(*e.kids[i], nullptr);
        if (!t->is_error() && (!t->is_scalar() || vm_type(t) == vm::ValType::Buf))
          d_.error(e.kids[i]->span, "hash takes two scalar values, found " + t->name());
      }
      return builtin_result(e, Builtin::Hash, T.bytes32());
    }
    if (n == "min" || n == "max") {
      if (!nargs(e, 2, n)) return T.error();
      const Type* a;
      const Type* b;
      if (is_literal(*e.kids[1])) {
        b = check(*e.kids[2], expected);
        a = arg(1, b);
      } else {
        a = check(*e.kids[1], expected);
        b = arg(2, a);
      }
      if (!a->is_error() && !(a->is_numeric() || a->kind == Type::Kind::Timestamp ||
                              a->kind == Type::Kind::Duration)) {
        d_.error(e.span, n + " takes numbers, found " + a->name());
        return T.error();
      }
      return builtin_result(e, n == "min" ? Builtin::Min : Builtin::Max, a);
    }
    if (n == "mul_down" || n == "mul_up" || n == "div_down" || n == "div_up") {
      if (!nargs(e, 2, n)) return T.error();
      const Type* a =
          check(*e.kids[1], expected && expected->kind == Type::Kind::Fixed ? expected : nullptr);
      if (a->is_error()) return a;
      if (a->kind != Type::Kind::Fixed) {
        d_.error(e.kids[1]->span,
                 n + " takes a fixed-point value (wad or ray) first, found " + a->name());
        check(*e.kids[2], nullptr);
        return T.error();
      }
      // The second operand: the same type, an unsigned integer, or, for a
      // tagged amount or price, an untagged rate at any scale (a fee of
      // 0.003 as a wad). The result keeps the first operand's type, except
      // that an amount divided by an amount of the same currency is a plain
      // ratio at its scale.
      const Type* b = check(*e.kids[2], a->is_tagged() ? nullptr : a);
      const bool rate = a->is_tagged() && b->kind == Type::Kind::Fixed && !b->is_tagged();
      if (!b->is_error() && b != a && !rate && !(b->is_int() && !b->is_signed)) {
        d_.error(e.kids[2]->span,
                 n + " takes a second " + a->name() +
                     (a->is_tagged() ? ", an untagged rate (dec<N>, wad, ray)" : std::string()) +
                     " or an unsigned integer, found " + b->name());
        return T.error();
      }
      if (a->is_tagged() && b == a && (n == "mul_down" || n == "mul_up")) {
        d_.error(e.span, "multiplying " + a->name() + " by " + b->name() +
                             " has no meaning: scale an amount by a rate (an untagged dec<N>, "
                             "wad or ray) or convert it with a price");
        return T.error();
      }
      Builtin which = n == "mul_down"   ? Builtin::MulDown
                      : n == "mul_up"   ? Builtin::MulUp
                      : n == "div_down" ? Builtin::DivDown
                                        : Builtin::DivUp;
      if (b->is_int() && (which == Builtin::MulDown || which == Builtin::MulUp)) {
        d_.error(e.span, "multiplying by an integer is exact: write a * n");
        return T.error();
      }
      if ((which == Builtin::DivDown || which == Builtin::DivUp) && e.kids[2]->is_const &&
          e.kids[2]->value == "0") {
        d_.error(e.kids[2]->span, "division by zero");
        return T.error();
      }
      if (a->is_tagged() && b == a) return builtin_result(e, which, T.fixed(a->decimals));
      return builtin_result(e, which, a);
    }
    if (n == "convert_down" || n == "convert_up") {
      // convert_down(amount<A>, price<A/B>) -> amount<B> (times the price);
      // convert_down(amount<B>, price<A/B>) -> amount<A> (divided by it).
      if (!nargs(e, 2, n)) return T.error();
      const Type* a = check(*e.kids[1], nullptr);
      const Type* p = check(*e.kids[2], nullptr);
      if (a->is_error() || p->is_error()) return T.error();
      if (a->kind != Type::Kind::Fixed || !a->is_tagged() || a->quote) {
        d_.error(e.kids[1]->span, n + " converts an amount<C>, found " + a->name());
        return T.error();
      }
      if (p->kind != Type::Kind::Fixed || !p->quote) {
        d_.error(e.kids[2]->span, n + " needs a price<A/B>, found " + p->name());
        return T.error();
      }
      if (a->currency != p->currency && a->currency != p->quote) {
        d_.error(e.kids[2]->span, "a price<" + p->currency->name + "/" + p->quote->name +
                                      "> cannot convert " + a->name() + ": it needs a price of " +
                                      a->currency->name + " against another currency");
        return T.error();
      }
      const CurrencyDecl* to = a->currency == p->currency ? p->quote : p->currency;
      return builtin_result(e, n == "convert_down" ? Builtin::ConvertDown : Builtin::ConvertUp,
                            T.amount(to));
    }
    if (n == "mul_div_down" || n == "mul_div_up") {
      if (!nargs(e, 3, n)) return T.error();
      arg(1, T.u256());
      arg(2, T.u256());
      arg(3, T.u256());
      if (e.kids[3]->is_const && e.kids[3]->value == "0")
        d_.error(e.kids[3]->span, "division by zero");
      return builtin_result(e, n == "mul_div_down" ? Builtin::MulDivDown : Builtin::MulDivUp,
                            T.u256());
    }
    if (n == "floor" || n == "ceil") {
      if (!nargs(e, 1, n)) return T.error();
      const Type* a = check(*e.kids[1], nullptr);
      if (!a->is_error() && a->kind != Type::Kind::Fixed) {
        d_.error(e.kids[1]->span, n + " takes a wad or ray, found " + a->name());
        return T.error();
      }
      return builtin_result(e, n == "floor" ? Builtin::Floor : Builtin::Ceil, T.u256());
    }
    if (n == "rescale_down" || n == "rescale_up") {
      // rescale_down(x, N) / rescale_up(x, N): x as dec<N>, rounded down or
      // up when N has fewer decimals (exact, and checked, when more).
      if (!nargs(e, 2, n)) return T.error();
      const Type* a = check(*e.kids[1], nullptr);
      check(*e.kids[2], T.u64());
      if (!a->is_error() && a->kind != Type::Kind::Fixed) {
        d_.error(e.kids[1]->span,
                 n + " takes a fixed-point value (wad, ray, dec<N>), found " + a->name());
        return T.error();
      }
      auto digits = e.kids[2]->is_const ? vm::parse_u256(e.kids[2]->value) : std::nullopt;
      if (!digits || digits->is_zero() || !digits->fits_u64() || digits->low64() > kMaxDecimals) {
        d_.error(e.kids[2]->span, "the decimals of " + n + " are a constant from 1 to " +
                                      std::to_string(kMaxDecimals));
        return T.error();
      }
      return builtin_result(e, n == "rescale_down" ? Builtin::RescaleDown : Builtin::RescaleUp,
                            T.fixed(static_cast<unsigned>(digits->low64())));
    }
    if (n == "to_ray") {
      if (!nargs(e, 1, n)) return T.error();
      arg(1, T.fixed(18));
      return builtin_result(e, Builtin::ToRay, T.fixed(27));
    }
    if (n == "to_wad_down" || n == "to_wad_up") {
      if (!nargs(e, 1, n)) return T.error();
      arg(1, T.fixed(27));
      return builtin_result(e, n == "to_wad_down" ? Builtin::ToWadDown : Builtin::ToWadUp,
                            T.fixed(18));
    }
    if (n == "wrapping_add" || n == "wrapping_sub" || n == "wrapping_mul") {
      if (!nargs(e, 2, n)) return T.error();
      const Type* a = check(*e.kids[1], expected);
      arg(2, a);
      if (!a->is_error() &&
          !(a->is_int() && !a->is_signed && (a->bits == 32 || a->bits == 64 || a->bits == 256))) {
        d_.error(e.span, n + " is defined for u32, u64 and u256, found " + a->name());
        return T.error();
      }
      return builtin_result(e,
                            n == "wrapping_add"   ? Builtin::WrappingAdd
                            : n == "wrapping_sub" ? Builtin::WrappingSub
                                                  : Builtin::WrappingMul,
                            a);
    }
    if (n == "sign_extend") {
      // sign_extend(x, b): x read as a two's complement number whose sign is
      // the top bit of byte b (0 = the least significant), as an i256; past
      // byte 30, x is taken whole.
      if (!nargs(e, 2, n)) return T.error();
      const Type* a = check(*e.kids[1], T.u256());
      if (!a->is_error() && !(a->is_int() && !a->is_signed) && a->kind != Type::Kind::Bytes32)
        d_.error(e.kids[1]->span,
                 "sign_extend takes an unsigned integer or bytes32, found " + a->name());
      const Type* b = check(*e.kids[2], T.u64());
      if (!b->is_error() && !(b->is_int() && !b->is_signed && b->is_small()))
        d_.error(e.kids[2]->span,
                 "the byte index of sign_extend is an unsigned integer of at most "
                 "64 bits, found " +
                     b->name());
      return builtin_result(e, Builtin::SignExtend, T.int_type(256, true));
    }
    if (n == "wrapping_pow") {
      // x ** n modulo 2^bits: hashing and PRNG arithmetic, never money.
      if (!nargs(e, 2, n)) return T.error();
      const Type* a = check(*e.kids[1], expected);
      const Type* p = check(*e.kids[2], T.u64());
      if (!p->is_error() && !(p->is_int() && !p->is_signed))
        d_.error(e.kids[2]->span, "the exponent of wrapping_pow is unsigned, found " + p->name());
      if (!a->is_error() &&
          !(a->is_int() && !a->is_signed && (a->bits == 32 || a->bits == 64 || a->bits == 256))) {
        d_.error(e.span, n + " is defined for u32, u64 and u256, found " + a->name());
        return T.error();
      }
      return builtin_result(e, Builtin::WrappingPow, a);
    }
    if (n == "rotate_right") {
      if (!nargs(e, 2, n)) return T.error();
      const Type* a = check(*e.kids[1], expected);
      arg(2, T.u64());
      if (!a->is_error() && !(a->is_int() && a->bits == 32 && !a->is_signed)) {
        d_.error(e.kids[1]->span, "rotate_right rotates a u32, found " + a->name());
        return T.error();
      }
      if (!e.kids[2]->is_const) d_.error(e.kids[2]->span, "the rotation amount must be a constant");
      return builtin_result(e, Builtin::RotateRight, a);
    }
    if (n == "add_mod" || n == "mul_mod") {
      if (!nargs(e, 3, n)) return T.error();
      arg(1, T.u256());
      arg(2, T.u256());
      arg(3, T.u256());
      if (e.kids[3]->is_const && e.kids[3]->value == "0")
        d_.error(e.kids[3]->span, "division by zero");
      return builtin_result(e, n == "add_mod" ? Builtin::AddMod : Builtin::MulMod, T.u256());
    }
    // Conversions spelled as calls of a type.
    if (n == "address" || n == "bytes32") {
      if (!nargs(e, 1, n)) return T.error();
      const Type* a = check(*e.kids[1], T.u256());
      if (!a->is_error() && !(a->is_int() && !a->is_signed) && a->kind != Type::Kind::Address &&
          a->kind != Type::Kind::Bytes32)
        d_.error(e.kids[1]->span, n + "(x) takes an unsigned integer, found " + a->name());
      return builtin_result(e, n == "address" ? Builtin::ConvAddress : Builtin::ConvBytes32,
                            n == "address" ? T.address() : T.bytes32());
    }
    if (n == "wad" || n == "ray") {
      if (!nargs(e, 1, n)) return T.error();
      const Type* a = check(*e.kids[1], T.u256());
      if (!a->is_error() && !(a->is_int() && !a->is_signed))
        d_.error(e.kids[1]->span,
                 n + "(x) converts an unsigned integer number of whole units, found " + a->name());
      return builtin_result(e, Builtin::ConvFixed, T.fixed(n == "wad" ? 18 : 27));
    }
    if (n == "timestamp" || n == "duration") {
      if (!nargs(e, 1, n)) return T.error();
      arg(1, T.u64());
      return builtin_result(e, n == "timestamp" ? Builtin::ConvTimestamp : Builtin::ConvDuration,
                            n == "timestamp" ? T.timestamp() : T.duration());
    }
    if (n == "new_bytes") {
      if (!nargs(e, 1, n)) return T.error();
      arg(1, T.u64());
      return builtin_result(e, Builtin::NewBytes, T.bytes());
    }
    d_.error(e.kids[0]->span, "unknown function '" + n + "'" + suggestion(n));
    for (size_t i = 1; i < e.kids.size(); ++i) check(*e.kids[i], nullptr);
    return T.error();
  }

  const Type* check_method(Expr& e) {
    Expr& recv = *e.kids[0];
    const Type* rt = check(recv, nullptr);
    if (rt->is_error()) {
      for (size_t i = 1; i < e.kids.size(); ++i) check(*e.kids[i], nullptr);
      return rt;
    }
    const std::string& m = e.text;
    if (rt->kind == Type::Kind::Interface) {
      for (auto& f : rt->iface->fns) {
        if (f->name != m) continue;
        if (fn_ && fn_->is_view && !f->is_view)
          d_.error(e.span, "a view function can call only view methods of other contracts (" + m +
                               " is not a view)");
        require_state_access(e, "calling another contract");
        check_args(e, 1, f->params, rt->name() + "." + m);
        if (e.call_value) {
          const Type* vt = check(*e.call_value, T.u256());
          expect_type(*e.call_value, vt, T.u256());
          // (A view function already cannot call a method that is not a view.)
          if (f->is_view)
            d_.error(e.call_value->span, m + " is a view method: a static call carries no value");
        }
        e.ref = Ref::Interface;
        e.decl = f.get();
        if (f->result_types.empty()) return T.void_type();
        if (f->result_types.size() == 1) return f->result_types[0];
        return T.tuple(f->result_types);
      }
      d_.error(e.span, "interface " + rt->name() + " has no method '" + m + "'");
      for (size_t i = 1; i < e.kids.size(); ++i) check(*e.kids[i], nullptr);
      return T.error();
    }
    if (e.call_value) {
      d_.error(e.call_value->span, "{value: ...} goes with a call to another contract");
      return T.error();
    }
    auto no_args = [&]() { return nargs(e, 0, m); };
    bool storage_place = false;
    bool place = is_place(recv, storage_place);
    if (m == "len") {
      if (!no_args()) return T.error();
      if (rt->kind == Type::Kind::IterMap || rt->kind == Type::Kind::Vec ||
          rt->kind == Type::Kind::StoreVec || rt->kind == Type::Kind::Array ||
          rt->kind == Type::Kind::Bytes || rt->kind == Type::Kind::String)
        return builtin_result(e, Builtin::Len, T.u64());
    } else if (m == "push" && rt->kind == Type::Kind::Vec) {
      if (!nargs(e, 1, m)) return T.error();
      const Type* t = check(*e.kids[1], rt->elem);
      expect_type(*e.kids[1], t, rt->elem);
      if (!place) d_.error(recv.span, "push needs a vector variable");
      return builtin_result(e, Builtin::Push, T.void_type());
    } else if (m == "pop" && rt->kind == Type::Kind::Vec) {
      if (!no_args()) return T.error();
      if (!place) d_.error(recv.span, "pop needs a vector variable");
      return builtin_result(e, Builtin::Pop, rt->elem);
    } else if ((m == "push" || m == "pop") && rt->kind == Type::Kind::StoreVec) {
      if (fn_ && fn_->is_view) d_.error(e.span, "a view function cannot write storage");
      if (m == "pop") {
        if (!no_args()) return T.error();
        return builtin_result(e, Builtin::Pop, rt->elem);
      }
      if (!nargs(e, 1, m)) return T.error();
      const Type* t = check(*e.kids[1], rt->elem);
      expect_type(*e.kids[1], t, rt->elem);
      return builtin_result(e, Builtin::Push, T.void_type());
    } else if ((m == "contains" || m == "remove") && rt->kind == Type::Kind::IterMap) {
      if (!nargs(e, 1, m)) return T.error();
      const Type* t = check(*e.kids[1], rt->key);
      expect_type(*e.kids[1], t, rt->key);
      if (m == "remove") {
        if (fn_ && fn_->is_view) d_.error(e.span, "a view function cannot write storage");
        return builtin_result(e, Builtin::Remove, T.void_type());
      }
      return builtin_result(e, Builtin::Contains, T.bool_type());
    } else if (m == "key_at" && rt->kind == Type::Kind::IterMap) {
      if (!nargs(e, 1, m)) return T.error();
      const Type* t = check(*e.kids[1], T.u64());
      expect_type(*e.kids[1], t, T.u64());
      return builtin_result(e, Builtin::KeyAt, rt->key);
    } else if (m == "raw" && rt->kind == Type::Kind::Fixed) {
      if (!no_args()) return T.error();
      return builtin_result(e, Builtin::Raw, T.u256());
    } else if (m == "seconds" &&
               (rt->kind == Type::Kind::Duration || rt->kind == Type::Kind::Timestamp)) {
      if (!no_args()) return T.error();
      return builtin_result(e, Builtin::Seconds, T.u64());
    }
    d_.error(e.span, rt->name() + " has no method '" + m + "'");
    for (size_t i = 1; i < e.kids.size(); ++i) check(*e.kids[i], nullptr);
    return T.error();
  }

  Program& p_;
  Diagnostics& d_;
  TypeTable& T;
  std::map<std::string, Span> global_names_;
  std::map<const StructDecl*, int> struct_state_;
  FnDecl* fn_ = nullptr;
  std::vector<Scope> scopes_;
  int loop_depth_ = 0;
  bool callee_is_view_ = false;
  std::map<const ConstDecl*, int> const_state_;
  std::vector<std::pair<Expr*, FnDecl*>> view_calls_;  // views calling unmarked free functions
  std::map<const FnDecl*, int>
      effects_;  // changes_state memo: 0 no, 1 in progress, 2 yes  // 0 unchecked, 1 being checked,
                 // 2 done  // set while checking the arguments of a call to a view function
};

}  // namespace

bool analyze(Program& p, Diagnostics& diags) {
  return Sema(p, diags).run();
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
