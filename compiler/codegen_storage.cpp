// Code generation: places (storage slots of fields, map entries and vector
// elements; buffer elements; registers) and the loads and stores through
// them. codegen_internal.hpp has the classes and the storage layout.
#include "codegen_internal.hpp"

#include <functional>

namespace writ::compiler::codegen_internal {

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
        emit(Op::LDW, {dst, p.buf, wide_offset(p.index)});
      }
      return Val{{dst}};
    }
  }
  return Val{};
}

// The byte offset of 32-byte element `index`: index x 32, or 2^64 - 1 (past
// the end of any buffer, so the access traps OutOfBounds) when index x 32
// does not fit 64 bits. A plain shift wrapped: index + k x 2^59 reached
// element `index` again (a claim paid out once per alias).
uint16_t FnGen::wide_offset(uint16_t index) {
  uint16_t off = temp(ValType::U64), hi = temp(ValType::U64);
  emit(Op::SHLI, {off, index, 5});
  emit(Op::SHRI, {hi, index, 59});
  past_end_where(off, hi, true, off);
  return off;
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
        emit(Op::STW, {p.buf, wide_offset(p.index), v.regs[0]});
      }
      return;
    }
  }
}

}  // namespace writ::compiler::codegen_internal
