// Basic runtime types: 32-byte hashes and addresses, byte strings, results.
#pragma once

#include <array>
#include <bit>
#include <compare>
#include <cstdint>
#include <cstring>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "writ/vm/result.hpp"
#include "writ/vm/u256.hpp"

namespace writ::runtime {

using Bytes = std::vector<uint8_t>;
using vm::Error;
using vm::Result;
using vm::U256;

// A SHA-256 digest (or any 32-byte identifier), ordered bytewise.
struct Hash256 {
  std::array<uint8_t, 32> bytes{};
  // Bytewise (lexicographic) order, compared eight bytes at a time as
  // big-endian words: the same order as comparing the bytes one by one, at a
  // fraction of the cost of a memcmp call in the ordered maps of the state.
  std::strong_ordering operator<=>(const Hash256& o) const {
    for (size_t i = 0; i < 32; i += 8) {
      const uint64_t a = word_at(i), b = o.word_at(i);
      if (a != b) return a < b ? std::strong_ordering::less : std::strong_ordering::greater;
    }
    return std::strong_ordering::equal;
  }
  bool operator==(const Hash256& o) const {
    return std::memcmp(bytes.data(), o.bytes.data(), 32) == 0;
  }
  bool is_zero() const;
  std::string hex() const;                                   // 64 lowercase hex digits
  static std::optional<Hash256> from_hex(std::string_view);  // with or without 0x
  U256 to_u256() const { return vm::from_be_bytes(bytes.data()); }
  static Hash256 from_u256(const U256& v) {
    Hash256 h;
    vm::to_be_bytes(v, h.bytes.data());
    return h;
  }

 private:
  uint64_t word_at(size_t i) const {  // bytes [i, i + 8) as a big-endian number
    uint64_t w;
    std::memcpy(&w, bytes.data() + i, 8);
    if constexpr (std::endian::native == std::endian::little) w = __builtin_bswap64(w);
    return w;
  }
};

// For unordered containers keyed by SHA-256 outputs, any 8 bytes of which are
// uniformly distributed. Code that touches state or gas may look such a
// container up but never iterates it (iteration order is not deterministic).
struct Hash256Hasher {
  size_t operator()(const Hash256& h) const {
    size_t v;
    std::memcpy(&v, h.bytes.data(), sizeof v);
    return v;
  }
};

// Accounts are 32-byte addresses: SHA-256 of the owner's Ed25519 public key,
// or a contract address derived at deploy. In the VM an address is a u256.
using Address = Hash256;

Hash256 sha256(std::span<const uint8_t> data);
Hash256 sha256(std::string_view tag, std::span<const uint8_t> data);  // SHA-256(tag || data)

// Status for operations without a value.
struct [[nodiscard]] Status {
  bool ok = true;
  std::string message;
  static Status success() { return {}; }
  static Status failure(std::string m) { return {false, std::move(m)}; }
  explicit operator bool() const { return ok; }
};

}  // namespace writ::runtime
