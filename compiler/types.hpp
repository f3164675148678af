// Writ's types, interned so that equal types are the same pointer.
//
// Representation in the VM (see docs/language.md, "Types"):
//   bool, u8..u64, i64, enums, timestamp, duration     one u64 register
//   u128, u256, i128, i256, address, bytes32, wad, ray one u256 register
//   bytes, string, vec<T>, [T; N]                      one buf register
//   structs                                            one register per scalar field, in order
//   map, iter_map, storage vec<T>                      storage only: no register
#pragma once

#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "ast.hpp"
#include "writ/vm/module.hpp"

namespace writ::compiler {

struct Type {
  enum class Kind : uint8_t {
    Error,
    Void,
    Bool,
    Int,
    Address,
    Bytes32,
    Bytes,
    String,
    Fixed,
    Timestamp,
    Duration,
    Enum,
    Struct,
    Array,
    Vec,
    Map,
    IterMap,
    StoreVec,  // vec<T> declared in storage: length at its slot, elements hashed from it
    Interface,
    Tuple,
  };
  Kind kind = Kind::Error;
  unsigned bits = 0;           // Int
  bool is_signed = false;      // Int
  unsigned decimals = 0;       // Fixed: 18 (wad) or 27 (ray)
  const Type* elem = nullptr;  // Array, Vec, StoreVec, Map value, IterMap value
  const Type* key = nullptr;   // Map, IterMap
  uint64_t length = 0;         // Array
  const StructDecl* strukt = nullptr;
  const EnumDecl* enm = nullptr;
  const InterfaceDecl* iface = nullptr;
  // Fixed point with a currency tag: amount<currency> when quote is null,
  // price<currency/quote> (quote per one currency, 18 decimals) otherwise.
  const CurrencyDecl* currency = nullptr;
  const CurrencyDecl* quote = nullptr;
  std::vector<const Type*> elems;  // Tuple; Struct field types (filled after resolution)

  std::string name() const;
  // The name in the ABI: a tagged amount or price also says its scale
  // ("amount<EUR, dec<2>>", "price<EUR/USD, dec<18>>"), so tools that read
  // the ABI alone can parse and print it.
  std::string abi_name() const;
  bool is_tagged() const { return currency != nullptr; }
  bool is_error() const { return kind == Kind::Error; }
  bool is_int() const { return kind == Kind::Int; }
  bool is_numeric() const { return kind == Kind::Int || kind == Kind::Fixed; }
  // Lives in one u64 register.
  bool is_small() const;
  // Fits one VM register (everything but structs, tuples, maps, void).
  bool is_scalar() const;
  bool is_storage_only() const {
    return kind == Kind::Map || kind == Kind::IterMap || kind == Kind::StoreVec;
  }
};

// VM register types a value of `t` occupies, in order (structs flattened).
void flatten(const Type* t, std::vector<vm::ValType>& out);
vm::ValType vm_type(const Type* t);  // REQUIRES: t->is_scalar()
// Number of storage slots a value of `t` occupies directly (maps: 1, iter_map: 3).
uint64_t storage_slots(const Type* t);

class TypeTable {
 public:
  TypeTable();
  const Type* error() const { return error_; }
  const Type* void_type() const { return void_; }
  const Type* bool_type() const { return bool_; }
  const Type* int_type(unsigned bits, bool is_signed);
  const Type* amount(const CurrencyDecl* c);                               // amount<c>
  const Type* price(const CurrencyDecl* base, const CurrencyDecl* quote);  // price<base/quote>
  const Type* u64() { return int_type(64, false); }
  const Type* u256() { return int_type(256, false); }
  const Type* address() const { return address_; }
  const Type* bytes32() const { return bytes32_; }
  const Type* bytes() const { return bytes_; }
  const Type* string() const { return string_; }
  const Type* fixed(unsigned decimals);
  const Type* timestamp() const { return timestamp_; }
  const Type* duration() const { return duration_; }
  const Type* enum_type(const EnumDecl* d);
  const Type* struct_type(const StructDecl* d);
  const Type* interface_type(const InterfaceDecl* d);
  const Type* array(const Type* elem, uint64_t n);
  const Type* vec(const Type* elem);
  const Type* storage_vec(const Type* elem);
  const Type* map(const Type* k, const Type* v, bool iterable);
  const Type* tuple(const std::vector<const Type*>& elems);

  // Struct field types are set once the struct's fields are resolved.
  void set_struct_fields(const StructDecl* d, std::vector<const Type*> fields);

 private:
  const Type* intern(Type t);
  std::deque<Type> types_;
  const Type* error_;
  const Type* void_;
  const Type* bool_;
  const Type* address_;
  const Type* bytes32_;
  const Type* bytes_;
  const Type* string_;
  const Type* timestamp_;
  const Type* duration_;
};

}  // namespace writ::compiler
