// Semantic analysis: type rules and expressions (literals, names, operators,
// fields, indexing, struct literals, conversions). sema_internal.hpp has the
// checker class and its invariants.
#include "sema_internal.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "writ/vm/u256.hpp"

namespace writ::compiler::sema_internal {
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

}  // namespace

// ---- type rules ------------------------------------------------------------------

void Sema::expect_type(Expr& e, const Type* got, const Type* want) {
  if (got->is_error() || want->is_error() || got == want) return;
  d_.error(e.span,
           "expected " + want->name() + ", found " + got->name() + conversion_hint(got, want));
}

// For a bare number where a time is expected: the forms that say what the
// number means.
std::string Sema::time_hint(const Type* time_type) {
  return time_type->kind == Type::Kind::Duration
             ? " (a bare number is not a duration: write 3600s, 60m or 1h, or duration(n) "
               "for n seconds)"
             : " (a bare number is not a timestamp: compare with now() + 1h or a stored "
               "timestamp, or write timestamp(n) for n seconds since the epoch)";
}

std::string Sema::conversion_hint(const Type* got, const Type* want) {
  if (got->is_int() && (want->kind == Type::Kind::Timestamp || want->kind == Type::Kind::Duration))
    return time_hint(want);
  if (got->is_int() && want->is_int()) return " (convert with 'as " + want->name() + "')";
  if (got->is_int() && want->kind == Type::Kind::Fixed) {
    if (want->is_tagged() && !want->quote)
      return " (" + want->currency->name + "::from_raw(x) takes base units)";
    if (want->name() == "wad" || want->name() == "ray")
      return " (" + want->name() + "(x) converts a whole number; " + want->name() +
             "::from_raw(x) takes raw units)";
    return " (wad(x) and ray(x) convert whole numbers, and a currency's ::from_raw(x) takes "
           "base units; a " +
           want->name() + " is written as a literal such as 1.50)";
  }
  if (got->kind == Type::Kind::Fixed && want->kind == Type::Kind::Fixed) {
    if (got->quote || want->quote) return "";  // a price: no conversion to suggest
    const std::string scale = "dec<" + std::to_string(want->decimals) + ">";
    if (got->is_tagged() && want->is_tagged())
      return " (another currency: convert_down(x, p) or convert_up(x, p) with a price)";
    if (got->is_tagged())
      return got->decimals == want->decimals
                 ? " (take the currency off with 'as " + want->name() + "')"
                 : " (take the currency off with 'as dec<" + std::to_string(got->decimals) +
                       ">' first, then change the scale)";
    if (want->is_tagged())
      return got->decimals == want->decimals
                 ? " (put the currency on with 'as " + want->name() + "')"
                 : " (change the scale to " + scale + " first, then 'as " + want->name() + "')";
    if (got->decimals == 27 && want->decimals == 18) return " (use to_wad_down(x) or to_wad_up(x))";
    if (got->decimals == 18 && want->decimals == 27) return " (use to_ray(x))";
    if (want->decimals > got->decimals) return " (convert with 'as " + want->name() + "': exact)";
    return " (use rescale_down(x, " + std::to_string(want->decimals) + ") or rescale_up(x, " +
           std::to_string(want->decimals) + "))";
  }
  if (got->kind == Type::Kind::Fixed && want->is_int())
    return " (use floor(x), ceil(x) or x.raw())";
  if (got->kind == Type::Kind::StoreVec)
    return " (a storage vector is not a value: read its elements with xs[i] or for x in xs)";
  return "";
}

// Integer literal value checked against a type; folds into e.value.
void Sema::fold_int_literal(Expr& e, const Type* t) {
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

const Type* Sema::check(Expr& e, const Type* expected) {
  const Type* t = check_inner(e, expected);
  e.type = t;
  return t;
}

bool Sema::is_literal(const Expr& e) const {
  return e.kind == Expr::Kind::Int || e.kind == Expr::Kind::Decimal ||
         (e.kind == Expr::Kind::Unary && e.un == UnOp::Neg && is_literal(*e.kids[0]));
}

bool Sema::is_literal_expr(const Expr& e) const {
  if (is_literal(e)) return true;
  if (e.kind == Expr::Kind::Unary)
    return (e.un == UnOp::Neg || e.un == UnOp::BitNot) && is_literal_expr(*e.kids[0]);
  if (e.kind != Expr::Kind::Binary) return false;
  switch (e.bin) {
    case BinOp::Add:
    case BinOp::Sub:
    case BinOp::Mul:
    case BinOp::Div:
    case BinOp::Rem:
    case BinOp::Pow:
    case BinOp::BitAnd:
    case BinOp::BitOr:
    case BinOp::BitXor:
    case BinOp::Shl:
    case BinOp::Shr:
      return is_literal_expr(*e.kids[0]) && is_literal_expr(*e.kids[1]);
    default:
      return false;
  }
}

const Type* Sema::check_inner(Expr& e, const Type* expected) {
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
      if (!expected || (expected->kind != Type::Kind::Vec && expected->kind != Type::Kind::Array)) {
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

const Type* Sema::check_name(Expr& e) {
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
  if (e.text == "_") {
    d_.error(e.span, "'_' discards a value: it cannot be read");
    return T.error();
  }
  d_.error(e.span, "unknown name '" + e.text + "'" + suggestion(e.text));
  return T.error();
}

std::string Sema::suggestion(const std::string& name) const {
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

const Type* Sema::check_path(Expr& e) {
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

const Type* Sema::check_unary(Expr& e, const Type* expected) {
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

// The source text of an expression, for diagnostics that show the fix in
// the author's own terms; `fallback` when it is long or spans lines.
std::string Sema::source_text(const Expr& e, const char* fallback) const {
  if (e.span.file >= p_.sources.size()) return fallback;
  const std::string& text = p_.sources.file(e.span.file).text;
  if (e.span.end <= e.span.begin || e.span.end > text.size()) return fallback;
  std::string t = text.substr(e.span.begin, e.span.end - e.span.begin);
  if (t.size() > 40 || t.find('\n') != std::string::npos) return fallback;
  return t;
}

// Type of `l op r` for arithmetic (+ - * / % **); reports precision rules.
// `lhs` is null for a compound assignment (x *= y), whose left side is the
// target; the fix is then written with the target's text from `span`.
const Type* Sema::check_arith(BinOp op, const Type* l, const Type* r, Expr* lhs, Expr& rhs,
                              Span span) {
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
    if (op == BinOp::Rem) {
      d_.error(span, std::string("'%' is not defined for ") +
                         (l->kind == Type::Kind::Fixed ? l : r)->name() +
                         " (the remainder of raw units: x.raw() % y.raw())");
      return T.error();
    }
    if (op == BinOp::Div) {
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
      if (is(l, K::Duration) && r->is_int() && r->is_small() && !r->is_signed) return T.duration();
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
    d_.error(span,
             std::string("'") + sym + "' needs numbers, found " + l->name() + " and " + r->name());
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

const Type* Sema::check_binary(Expr& e, const Type* expected) {
  const Type* t = check_binary_type(e, expected);
  fold_unsigned(e, t);
  return t;
}

// Folds an operation on two constant unsigned integers, so that constants
// can be written as expressions (`const MAX_RATE: u256 = (1 << 128) * WAD;`)
// and cost nothing at run time. The rules are the VM's: where it would trap
// (a result past the type's maximum, below zero, a division or remainder by
// zero, a shift by 2^64 or more) this is a compile error; shifts truncate to
// the type's width.
void Sema::fold_unsigned(Expr& e, const Type* t) {
  const Expr& a = *e.kids[0];
  const Expr& b = *e.kids[1];
  if (t->is_error() || !t->is_int() || t->is_signed || !a.is_const || !b.is_const) return;
  auto x = vm::parse_u256(a.value), y = vm::parse_u256(b.value);
  if (!x || !y) return;
  const U256 max = type_max(t);
  U256 r;
  bool ok = true;
  const char* why = "the result does not fit ";
  switch (e.bin) {
    case BinOp::Add:
      ok = vm::add_checked(*x, *y, r) && !vm::gt(r, max);
      break;
    case BinOp::Sub:
      ok = vm::sub_checked(*x, *y, r);
      why = "the result is below zero in ";
      break;
    case BinOp::Mul:
      ok = vm::mul_checked(*x, *y, r) && !vm::gt(r, max);
      break;
    case BinOp::Div:
    case BinOp::Rem:
      if (y->is_zero()) {   // check_arith reported it
        e.is_const = true;  // (the value never reaches a module: the compile failed)
        e.value = "0";
        return;
      }
      r = e.bin == BinOp::Div ? vm::div(*x, *y) : vm::mod(*x, *y);
      break;
    case BinOp::BitAnd:
      r = vm::bit_and(*x, *y);
      break;
    case BinOp::BitOr:
      r = vm::bit_or(*x, *y);
      break;
    case BinOp::BitXor:
      r = vm::bit_xor(*x, *y);
      break;
    case BinOp::Shl:
    case BinOp::Shr:
      // An amount of 2^64 or more traps (it is narrowed to u64, §3).
      ok = y->fits_u64();
      why = "the shift amount is 2^64 or more, which traps, for ";
      if (!ok) break;
      if (y->low64() >= 256)
        r = U256{};
      else
        r = e.bin == BinOp::Shl ? vm::bit_and(vm::shl(*x, y->low64()), max)
                                : vm::shr(*x, y->low64());
      break;
    default:
      return;  // ** and the rest are computed at run time
  }
  if (!ok) {
    d_.error(e.span, std::string("constant expression: ") + why + t->name());
    e.is_const = true;  // one error, not a second "must be known at compile time"
    e.value = "0";
    return;
  }
  e.is_const = true;
  e.value = vm::to_dec_string(r);
}

const Type* Sema::check_binary_type(Expr& e, const Type* expected) {
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
  // A shift or a power has the left operand's type: a literal there takes
  // the context's type (u256 with none), never the amount's or exponent's.
  const bool left_typed = op == BinOp::Shl || op == BinOp::Shr || op == BinOp::Pow;
  if (is_literal_expr(a) && !is_literal_expr(b) && !left_typed) {
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
  if (const Type* t = check_bits(op, l, r, e.span)) return t;
  return check_arith(op, l, r, &a, b, e.span);
}

const Type* Sema::check_bits(BinOp op, const Type* l, const Type* r, Span span) {
  if (op == BinOp::BitAnd || op == BinOp::BitOr || op == BinOp::BitXor) {
    bool ok = l == r && ((l->is_int() && !l->is_signed) || l->kind == Type::Kind::Bytes32 ||
                         l == T.bool_type());
    if (!ok) {
      d_.error(span,
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
      d_.error(span, std::string(op == BinOp::Shl
                                     ? "<< takes an unsigned integer or bytes32"
                                     : ">> takes an integer (arithmetic when signed) or bytes32") +
                         " and an unsigned amount, found " + l->name() + " and " + r->name());
      return T.error();
    }
    return l;
  }
  return nullptr;
}

bool Sema::is_decimal_literal(const Expr& e) const {
  return e.kind == Expr::Kind::Decimal ||
         (e.kind == Expr::Kind::Unary && e.un == UnOp::Neg && is_decimal_literal(*e.kids[0]));
}

// literal_hint, except that a decimal literal next to a fixed-point value
// in * or / takes that value's type: `x * 0.5` on a wad then gets the
// rounding diagnostic (write mul_down(x, 0.5)), not a literal-type error.
const Type* Sema::operand_hint(BinOp op, const Type* other, const Expr& operand, bool on_left) {
  if (other && other->kind == Type::Kind::Fixed && is_decimal_literal(operand) &&
      (op == BinOp::Mul || op == BinOp::Div || op == BinOp::Rem))
    return other;
  return literal_hint(op, other, on_left);
}

// Expected type for a literal operand next to a value of type `other`.
const Type* Sema::literal_hint(BinOp op, const Type* other, bool literal_on_left) {
  (void)literal_on_left;
  if (!other || other->is_error()) return nullptr;
  if (other->kind == Type::Kind::Fixed &&
      (op == BinOp::Mul || op == BinOp::Div || op == BinOp::Rem))
    return T.u256();
  if (other->kind == Type::Kind::Duration && (op == BinOp::Mul || op == BinOp::Div)) return T.u64();
  if ((op == BinOp::Shl || op == BinOp::Shr)) return T.u64();
  if (op == BinOp::Pow) return other->is_int() ? other : nullptr;
  return other;
}

const Type* Sema::check_lvalue(Expr& e) {
  const Type* t = check(e, nullptr);
  if (t->is_error()) return t;
  bool storage = false;
  if (!is_place(e, storage)) {
    d_.error(e.span, "cannot assign to this expression");
    return T.error();
  }
  if (storage && fn_ && fn_->is_view) d_.error(e.span, "a view function cannot write storage");
  if (t->is_storage_only()) {
    d_.error(e.span, t->kind == Type::Kind::StoreVec
                         ? "a whole storage vector cannot be assigned; assign its elements or push"
                         : "a whole map cannot be assigned; assign its entries");
    return T.error();
  }
  return t;
}

bool Sema::is_place(const Expr& e, bool& storage) {
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

const Type* Sema::check_field(Expr& e) {
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

const Type* Sema::check_index(Expr& e) {
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
  if (t->kind == Type::Kind::Vec || t->kind == Type::Kind::Array || t->kind == Type::Kind::Bytes) {
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

const Type* Sema::check_struct_lit(Expr& e) {
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

const Type* Sema::check_cast(Expr& e) {
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

}  // namespace writ::compiler::sema_internal
