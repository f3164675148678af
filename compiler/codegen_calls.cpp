// Code generation: calls of functions, and of other contracts: the
// arguments ABI-encoded, the results decoded and range-checked (vm/abi.hpp).
// codegen_internal.hpp has the classes and the invariants.
#include "codegen_internal.hpp"

#include <algorithm>
#include <vector>

namespace writ::compiler::codegen_internal {

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
// A u256 offset or length as a u64, 2^64 - 1 when it does not fit: past any
// data, so that reading there traps OutOfBounds (narrowing trapped Overflow).
uint16_t FnGen::saturated_u64(uint16_t w) {
  uint16_t low = temp(ValType::U64), fits = temp(ValType::U64);
  uint16_t high = temp(ValType::U256), dst = temp(ValType::U64);
  emit(Op::TRUNC, {low, w});
  emit(Op::WSHR_U, {high, w, const_small(64)});
  emit(Op::WEQZ, {fits, high});
  past_end_where(dst, fits, false, low);
  return dst;
}

// dst = 2^64 - 1 where the u64 `cond` is nonzero (`when`) or zero (!`when`),
// else v: an offset past the end of any data, so that an access there traps
// OutOfBounds where the offset it stands for does not fit 64 bits.
void FnGen::past_end_where(uint16_t dst, uint16_t cond, bool when, uint16_t v) {
  uint16_t all = temp(ValType::U64);
  emit(Op::CONST, {all, -1});
  if (when) {
    emit(Op::SELECT, {dst, cond, all, v});
  } else {
    emit(Op::SELECT, {dst, cond, v, all});
  }
}

uint16_t FnGen::decode_buffer(uint16_t out, uint16_t w, const Val* hint) {
  uint16_t lw = temp(ValType::U256);
  uint16_t off = saturated_u64(w);
  emit(Op::LDW, {lw, out, off});  // the length word exists: off + 32 <= the data's length
  uint16_t len = saturated_u64(lw);
  uint16_t from = temp(ValType::U64), last = temp(ValType::U64), probe = temp(ValType::U64);
  uint16_t over = temp(ValType::U64);
  emit(Op::ADD_CU, {from, off, const_small(32)});
  // The last byte of the entry must exist before a buffer is made for it, so
  // a huge length traps OutOfBounds instead of charging its gas (where
  // from + len does not fit 64 bits, the probe reads at 2^64 - 1).
  emit(Op::ADD, {last, from, len});
  emit(Op::LT_U, {over, last, from});
  emit(Op::ADDI, {last, last, -1});
  past_end_where(last, over, true, last);
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

}  // namespace writ::compiler::codegen_internal
