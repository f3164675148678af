// The Writ module: its in-memory form, its canonical binary encoding, and the
// loader that turns untrusted bytes into a Module or a located error.
//
// Binary layout (integers little-endian; docs/bytecode.md has the full grammar):
//   "WRIT" u16 version u16 flags(=0)  then sections, each  u8 id  u32 size  payload
//   ids strictly increasing, each at most once, empty sections omitted:
//     1 constants  2 functions  3 exports  4 events  5 errors  6 metadata
//
// Invariants of a Module returned by decode_module (the "well-formed" level;
// the verifier then checks code):
//   1. every count and size is within the limits below;
//   2. names are 1..kMaxName bytes of [A-Za-z0-9_.$]; function, event and
//      error names are unique;
//   3. exports are sorted by selector, selectors are unique and each equals
//      selector_of(name, params of its function); an export carries its
//      function's name, so a function is exported at most once;
//   4. encode_module(decode_module(b)) == b  (one encoding per module).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "writ/vm/result.hpp"
#include "writ/vm/u256.hpp"

namespace writ::vm {

inline constexpr uint16_t kModuleVersion = 1;
inline constexpr size_t kMaxModuleSize = 512 * 1024;
inline constexpr size_t kMaxFunctions = 4096;
inline constexpr size_t kMaxCodeSize = 256 * 1024;  // per function
inline constexpr size_t kMaxRegisters = 4096;       // per function, params included
inline constexpr size_t kMaxParams = 32;            // also results
inline constexpr size_t kMaxConstants = 65535;
inline constexpr size_t kMaxBytesConstant = 64 * 1024;
inline constexpr size_t kMaxExports = 1024;
inline constexpr size_t kMaxEvents = 1024;
inline constexpr size_t kMaxErrors = 1024;
inline constexpr size_t kMaxFields = 16;  // per event or error
inline constexpr size_t kMaxIndexed = 3;  // indexed fields per event
inline constexpr size_t kMaxName = 64;
inline constexpr size_t kMaxMetadata = 64;
inline constexpr size_t kMaxMetaValue = 1024;

// Register and value types. A u64 register holds any value of 64 bits or less
// (bool, u8..u64, i64, timestamps); u256 holds 256-bit integers, addresses and
// 32-byte words; buf holds a handle to a byte buffer in the call's memory.
enum class ValType : uint8_t { U64 = 0, U256 = 1, Buf = 2 };
std::string_view type_name(ValType t);  // "u64", "u256", "buf"
// Name of the type in selectors and ABI JSON ("u64", "u256", "bytes").
std::string_view abi_type_name(ValType t);

struct Constant {
  enum class Kind : uint8_t { Word = 0, Bytes = 1 };
  Kind kind = Kind::Word;
  U256 word{};                 // Kind::Word
  std::vector<uint8_t> bytes;  // Kind::Bytes
  bool operator==(const Constant&) const = default;
};

struct Function {
  std::string name;
  std::vector<ValType> params;  // registers r0 .. r(params-1)
  std::vector<ValType> results;
  std::vector<ValType> locals;  // registers after the params
  std::vector<uint8_t> code;
  size_t register_count() const { return params.size() + locals.size(); }
  ValType reg_type(size_t r) const {
    return r < params.size() ? params[r] : locals[r - params.size()];
  }
  bool operator==(const Function&) const = default;
};

enum ExportFlags : uint8_t {
  kExportView = 1,       // runs in static mode: state writes trap
  kExportPayable = 2,    // accepts value; otherwise a call with value is refused
  kExportReentrant = 4,  // may be entered while this contract is already on the call stack
};
inline constexpr uint8_t kExportFlagMask = 7;

// The export that runs once, when the contract is deployed (Message::is_deploy).
inline constexpr std::string_view kConstructorName = "$init";

struct Export {
  std::string name;
  uint32_t selector = 0;
  uint16_t func = 0;
  uint8_t flags = 0;
  bool operator==(const Export&) const = default;
};

struct EventField {
  ValType type = ValType::U256;
  bool indexed = false;
  bool operator==(const EventField&) const = default;
};
struct Event {
  std::string name;
  std::vector<EventField> fields;
  bool operator==(const Event&) const = default;
};
struct ErrorDecl {
  std::string name;
  std::vector<ValType> fields;
  bool operator==(const ErrorDecl&) const = default;
};
struct MetaEntry {
  std::string key;
  std::string value;
  bool operator==(const MetaEntry&) const = default;
};

struct Module {
  std::vector<Constant> constants;
  std::vector<Function> functions;
  std::vector<Export> exports;  // sorted by selector
  std::vector<Event> events;
  std::vector<ErrorDecl> errors;
  std::vector<MetaEntry> metadata;
  bool operator==(const Module&) const = default;

  const Export* find_export(std::string_view name) const;
  const Export* find_selector(uint32_t selector) const;
};

// Selector: the first 4 bytes (big-endian) of SHA-256 of "name(t1,t2,...)".
uint32_t selector_of(std::string_view name, std::span<const ValType> params);
// Signature text hashed by selector_of, e.g. "transfer(u256,u64)".
std::string signature_of(std::string_view name, std::span<const ValType> params);
// Event topic 0: SHA-256 of the event signature, read as a big-endian word.
U256 event_topic(const Event& e);

bool is_valid_name(std::string_view name);

// Untrusted bytes to a well-formed module. Errors carry the byte offset.
Result<Module> decode_module(std::span<const uint8_t> bytes);
// Canonical encoding. REQUIRES: m satisfies the invariants above (as any
// decoded or assembled module does).
std::vector<uint8_t> encode_module(const Module& m);

// SHA-256 of the encoded module: the key of the verified-module cache.
struct CodeHash {
  uint8_t bytes[32];
  auto operator<=>(const CodeHash&) const = default;
  std::string hex() const;
};
CodeHash code_hash(std::span<const uint8_t> bytes);

}  // namespace writ::vm
