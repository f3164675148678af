// Code generation: calls of the builtin functions (context, transfers,
// hashing, abi_* decoding, money math, wrapping arithmetic, conversions) and
// methods (len, push, pop and the iter_map methods). codegen_internal.hpp has
// the classes and the invariants.
#include "codegen_internal.hpp"

#include <string>
#include <vector>

namespace writ::compiler::codegen_internal {

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
    case Builtin::HistoryWord:
    case Builtin::SetHistoryWord: {
      uint16_t who = arg(1);
      const int64_t word = static_cast<int64_t>(vm::parse_u256(e.kids[2]->value)->low64());
      if (b == Builtin::SetHistoryWord) {
        uint16_t w = arg(3);
        emit(Op::HSTORE, {who, word, w});
        return Val{};
      }
      uint16_t dst = dst_or_temp(hint, ValType::U256);
      emit(Op::HLOAD, {dst, who, word});
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
      // Head word i at byte 32*i; past the data traps OutOfBounds, also
      // where 32*i would not fit 64 bits (at 2^64 - 1 then: it trapped
      // Overflow).
      uint16_t data = arg(1);
      uint16_t at = wide_offset(arg(2));
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
          // Divided by the price, then by 10^-k: the same rounding as one
          // division by their product (floor(floor(x / p) / q) is floor(x /
          // pq), and so for the ceiling), which may not fit 256 bits.
          uint16_t q = temp(ValType::U256);
          emit(op, {q, x, const_word(U256::from_u64(1)), p});
          emit(op, {dst, q, const_word(U256::from_u64(1)),
                    const_word(pow10(static_cast<unsigned>(-k)))});
        }
      }
      return Val{{dst}};
    }
    case Builtin::MulDivDown:
    case Builtin::MulDivUp:
    case Builtin::AddMod:
    case Builtin::MulMod: {
      // Three u256 operands, one instruction (512-bit exact in the VM).
      const Op op = b == Builtin::MulDivDown ? Op::WMULDIV
                    : b == Builtin::MulDivUp ? Op::WMULDIV_UP
                    : b == Builtin::AddMod   ? Op::WADDMOD
                                             : Op::WMULMOD;
      uint16_t x = arg(1), y = arg(2), z = arg(3);
      uint16_t dst = dst_or_temp(hint, ValType::U256);
      emit(op, {dst, x, y, z});
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

}  // namespace writ::compiler::codegen_internal
