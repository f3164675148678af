// Semantic analysis: calls, of functions, of other contracts' methods, and of
// the builtin functions (context, transfers, hashing, raw calls and abi_*
// decoding, money math, wrapping arithmetic, conversions) and methods.
// sema_internal.hpp has the checker class and its invariants.
#include "sema_internal.hpp"

#include <optional>
#include <string>
#include <vector>

#include "writ/vm/host.hpp"
#include "writ/vm/u256.hpp"

namespace writ::compiler::sema_internal {

// ---- calls -------------------------------------------------------------------------

const Type* Sema::builtin_result(Expr& e, Builtin b, const Type* t) {
  e.ref = Ref::Builtin;
  e.index = static_cast<int>(b);
  return t;
}

bool Sema::nargs(Expr& e, size_t n, const std::string& name) {
  if (e.kids.size() - 1 == n) return true;
  d_.error(e.span, name + " takes " + std::to_string(n) + " argument" + (n == 1 ? "" : "s") +
                       ", got " + std::to_string(e.kids.size() - 1));
  for (size_t i = 1; i < e.kids.size(); ++i) check(*e.kids[i], nullptr);
  return false;
}

// Free functions are compiled into each contract that calls them and run in
// its call frame, so context (caller(), transfer, calls) means the same there.
void Sema::require_state_access(Expr&, const char*) {}

const Type* Sema::check_call(Expr& e, const Type* expected) {
  Expr& callee = *e.kids[0];
  if (callee.kind == Expr::Kind::Path && callee.text == "builtin") {
    // builtin::name(...): the builtin even where a function of the contract,
    // or a free function, has its name (a token's own `transfer`).
    callee.kind = Expr::Kind::Name;
    callee.text = callee.text2;
    callee.text2.clear();
    return check_builtin_call(e, callee.text, expected);
  }
  if (callee.kind == Expr::Kind::Path) {
    // T::from_raw(x) for fixed-point types.
    if ((callee.text == "wad" || callee.text == "ray") && callee.text2 == "from_raw") {
      if (!nargs(e, 1, callee.text + "::from_raw")) return T.error();
      const Type* t = check(*e.kids[1], T.u256());
      expect_type(*e.kids[1], t, T.u256());
      return builtin_result(e, Builtin::FromRaw, T.fixed(callee.text == "wad" ? 18 : 27));
    }
    // EUR::from_raw(x) for a declared currency: amount<EUR> from base units.
    if (auto cur = p_.currencies.find(callee.text);
        cur != p_.currencies.end() && callee.text2 == "from_raw") {
      if (!nargs(e, 1, callee.text + "::from_raw")) return T.error();
      const Type* t = check(*e.kids[1], T.u256());
      expect_type(*e.kids[1], t, T.u256());
      if (cur->second->decimals == 0) return T.error();  // its declaration was reported
      return builtin_result(e, Builtin::FromRaw, T.amount(cur->second));
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

const Type* Sema::check_fn_call(Expr& e, FnDecl& f) {
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
bool Sema::is_pure_helper(const FnDecl& f) {
  if (f.contract) return false;
  for (const Param& p : f.params)
    if (p.storage_ref) return false;
  return true;
}

const Type* Sema::check_builtin_call(Expr& e, const std::string& n, const Type* expected) {
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
  if (n == "history_word" || n == "set_history_word") {
    // The risk engine's words of an account, kept in its account record
    // (docs/language.md, "Builtins"): any other contract traps NotPermitted.
    const bool set = n == "set_history_word";
    if (!nargs(e, set ? 3 : 2, n)) return T.error();
    arg(1, T.address());
    arg(2, T.u64());
    if (set) arg(3, T.u256());
    bool word_ok = false;
    if (e.kids[2]->is_const)
      if (auto v = vm::parse_u256(e.kids[2]->value))
        word_ok = vm::lt(*v, vm::U256::from_u64(vm::kHistoryWords));
    if (!word_ok)
      d_.error(e.kids[2]->span,
               "the history word must be a constant 0.." + std::to_string(vm::kHistoryWords - 1));
    require_state_access(e, set ? "set_history_word" : "history_word");
    if (set && fn_ && fn_->is_view) d_.error(e.span, "a view function cannot set a history word");
    return builtin_result(e, set ? Builtin::SetHistoryWord : Builtin::HistoryWord,
                          set ? T.void_type() : T.u256());
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
    if (!a->is_error() &&
        !(a->is_numeric() || a->kind == Type::Kind::Timestamp || a->kind == Type::Kind::Duration)) {
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

const Type* Sema::check_method(Expr& e) {
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

}  // namespace writ::compiler::sema_internal
