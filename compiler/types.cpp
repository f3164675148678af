#include "types.hpp"

namespace writ::compiler {

std::string Type::name() const {
  switch (kind) {
    case Kind::Error:
      return "<error>";
    case Kind::Void:
      return "()";
    case Kind::Bool:
      return "bool";
    case Kind::Int:
      return std::string(is_signed ? "i" : "u") + std::to_string(bits);
    case Kind::Address:
      return "address";
    case Kind::Bytes32:
      return "bytes32";
    case Kind::Bytes:
      return "bytes";
    case Kind::String:
      return "string";
    case Kind::Fixed:
      if (currency && quote) return "price<" + currency->name + "/" + quote->name + ">";
      if (currency) return "amount<" + currency->name + ">";
      return decimals == 18   ? "wad"
             : decimals == 27 ? "ray"
                              : "dec<" + std::to_string(decimals) + ">";
    case Kind::Timestamp:
      return "timestamp";
    case Kind::Duration:
      return "duration";
    case Kind::Enum:
      return enm->name;
    case Kind::Struct:
      return strukt->name;
    case Kind::Array:
      return "[" + elem->name() + "; " + std::to_string(length) + "]";
    case Kind::Vec:
    case Kind::StoreVec:
      return "vec<" + elem->name() + ">";
    case Kind::Map:
      return "map<" + key->name() + ", " + elem->name() + ">";
    case Kind::IterMap:
      return "iter_map<" + key->name() + ", " + elem->name() + ">";
    case Kind::Interface:
      return iface->name;
    case Kind::Tuple: {
      std::string s = "(";
      for (size_t i = 0; i < elems.size(); ++i) s += (i ? ", " : "") + elems[i]->name();
      return s + ")";
    }
  }
  return "?";
}

bool Type::is_small() const {
  switch (kind) {
    case Kind::Bool:
    case Kind::Enum:
    case Kind::Timestamp:
    case Kind::Duration:
      return true;
    case Kind::Int:
      return bits <= 64;
    default:
      return false;
  }
}

bool Type::is_scalar() const {
  switch (kind) {
    case Kind::Error:
    case Kind::Void:
    case Kind::Struct:
    case Kind::Tuple:
    case Kind::Map:
    case Kind::IterMap:
    case Kind::StoreVec:
      return false;
    default:
      return true;
  }
}

vm::ValType vm_type(const Type* t) {
  if (t->is_small()) return vm::ValType::U64;
  switch (t->kind) {
    case Type::Kind::Bytes:
    case Type::Kind::String:
    case Type::Kind::Vec:
    case Type::Kind::Array:
      return vm::ValType::Buf;
    default:
      return vm::ValType::U256;
  }
}

void flatten(const Type* t, std::vector<vm::ValType>& out) {
  if (t->kind == Type::Kind::Struct || t->kind == Type::Kind::Tuple) {
    for (const Type* f : t->elems) flatten(f, out);
  } else if (t->is_scalar()) {
    out.push_back(vm_type(t));
  }
}

uint64_t storage_slots(const Type* t) {
  if (t->kind == Type::Kind::Struct) {
    uint64_t n = 0;
    for (const Type* f : t->elems) n += storage_slots(f);
    return n;
  }
  if (t->kind == Type::Kind::IterMap) return 3;
  return 1;
}

TypeTable::TypeTable() {
  auto simple = [&](Type::Kind k) {
    Type t;
    t.kind = k;
    return intern(t);
  };
  error_ = simple(Type::Kind::Error);
  void_ = simple(Type::Kind::Void);
  bool_ = simple(Type::Kind::Bool);
  address_ = simple(Type::Kind::Address);
  bytes32_ = simple(Type::Kind::Bytes32);
  bytes_ = simple(Type::Kind::Bytes);
  string_ = simple(Type::Kind::String);
  timestamp_ = simple(Type::Kind::Timestamp);
  duration_ = simple(Type::Kind::Duration);
}

const Type* TypeTable::intern(Type t) {
  for (const Type& x : types_) {
    if (x.kind == t.kind && x.bits == t.bits && x.is_signed == t.is_signed &&
        x.decimals == t.decimals && x.elem == t.elem && x.key == t.key && x.length == t.length &&
        x.strukt == t.strukt && x.enm == t.enm && x.iface == t.iface && x.currency == t.currency &&
        x.quote == t.quote && (t.kind != Type::Kind::Tuple || x.elems == t.elems))
      return &x;
  }
  types_.push_back(std::move(t));
  return &types_.back();
}

const Type* TypeTable::int_type(unsigned bits, bool is_signed) {
  Type t;
  t.kind = Type::Kind::Int;
  t.bits = bits;
  t.is_signed = is_signed;
  return intern(t);
}

std::string Type::abi_name() const {
  if (kind == Kind::Fixed && currency)
    return name().substr(0, name().size() - 1) + ", dec<" + std::to_string(decimals) + ">>";
  return name();
}

const Type* TypeTable::amount(const CurrencyDecl* c) {
  Type t;
  t.kind = Type::Kind::Fixed;
  t.decimals = c->decimals;
  t.currency = c;
  return intern(t);
}

const Type* TypeTable::price(const CurrencyDecl* base, const CurrencyDecl* quote) {
  Type t;
  t.kind = Type::Kind::Fixed;
  t.decimals = 18;
  t.currency = base;
  t.quote = quote;
  return intern(t);
}

const Type* TypeTable::fixed(unsigned decimals) {
  Type t;
  t.kind = Type::Kind::Fixed;
  t.decimals = decimals;
  return intern(t);
}

const Type* TypeTable::enum_type(const EnumDecl* d) {
  Type t;
  t.kind = Type::Kind::Enum;
  t.enm = d;
  return intern(t);
}

const Type* TypeTable::struct_type(const StructDecl* d) {
  Type t;
  t.kind = Type::Kind::Struct;
  t.strukt = d;
  return intern(t);
}

const Type* TypeTable::interface_type(const InterfaceDecl* d) {
  Type t;
  t.kind = Type::Kind::Interface;
  t.iface = d;
  return intern(t);
}

const Type* TypeTable::array(const Type* elem, uint64_t n) {
  Type t;
  t.kind = Type::Kind::Array;
  t.elem = elem;
  t.length = n;
  return intern(t);
}

const Type* TypeTable::vec(const Type* elem) {
  Type t;
  t.kind = Type::Kind::Vec;
  t.elem = elem;
  return intern(t);
}

const Type* TypeTable::storage_vec(const Type* elem) {
  Type t;
  t.kind = Type::Kind::StoreVec;
  t.elem = elem;
  return intern(t);
}

const Type* TypeTable::map(const Type* k, const Type* v, bool iterable) {
  Type t;
  t.kind = iterable ? Type::Kind::IterMap : Type::Kind::Map;
  t.key = k;
  t.elem = v;
  return intern(t);
}

const Type* TypeTable::tuple(const std::vector<const Type*>& elems) {
  Type t;
  t.kind = Type::Kind::Tuple;
  t.elems = elems;
  return intern(t);
}

void TypeTable::set_struct_fields(const StructDecl* d, std::vector<const Type*> fields) {
  struct_type(d);  // make sure the type exists before filling it in
  for (Type& x : types_)
    if (x.kind == Type::Kind::Struct && x.strukt == d) x.elems = std::move(fields);
}

}  // namespace writ::compiler
