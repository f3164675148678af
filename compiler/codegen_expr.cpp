// Code generation: expressions (constants, operators, range checks and
// conversions). codegen_internal.hpp has the classes and the invariants.
#include "codegen_internal.hpp"

#include <algorithm>

namespace writ::compiler::codegen_internal {

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
      if (e.text.size() > vm::kMaxBytesConstant)
        error(e.span, "string literal of " + std::to_string(e.text.size()) +
                          " bytes, past the VM's limit of " +
                          std::to_string(vm::kMaxBytesConstant) + " bytes for a constant");
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
    // Its length first, for every element type: whole elements (a vector),
    // exactly N of them (an array). A vector of wide elements 33 bytes long
    // was taken: push wrote at byte 33 while v[i] read at 32 x i, and a
    // vec<u128> read back a value past 2^128.
    {
      uint16_t len = temp(ValType::U64), bad = temp(ValType::U64);
      emit(Op::BLEN, {len, buf});
      if (t->kind == Type::Kind::Vec)
        emit(Op::ANDI, {bad, len, static_cast<int64_t>(elem_size(t) - 1)});
      else
        emit(Op::XORI, {bad, len, static_cast<int64_t>(t->length * elem_size(t))});
      emit(Op::BELOW, {bad, 1});
    }
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
  // Shift amounts are u64 registers; the amount may be wider (2^64 or more
  // traps Overflow), whatever the shifted value's width.
  if ((op == BinOp::Shl || op == BinOp::Shr) && reg_type(b) == ValType::U256) {
    uint16_t n = temp(ValType::U64);
    emit(Op::NARROW_U, {n, b});
    b = n;
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
  // Immediate forms: a constant right operand of a 64-bit-class bit operation
  // (a shift amount of 2^64 or more takes the general path, which traps).
  if (vm_type(t) == ValType::U64 && e.kids[1]->is_const && t->is_int() && !t->is_signed &&
      (op == BinOp::BitAnd || op == BinOp::BitXor || op == BinOp::Shl || op == BinOp::Shr) &&
      vm::parse_u256(e.kids[1]->value)->fits_u64()) {
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
  if (fs && (to->kind == Type::Kind::Address || to->kind == Type::Kind::Bytes32)) {
    // A negative value is no address or word: Overflow, as into an unsigned type.
    if (fv == ValType::U64) {
      emit(Op::FITS_U, {src, 63});
      emit(Op::ZEXT, {dst, src});
    } else {
      move(dst, src);
      emit(Op::WFITS_U, {dst, 255});
    }
    return;
  }
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

}  // namespace writ::compiler::codegen_internal
