#include "writ/runtime/types.hpp"

#include <openssl/sha.h>

namespace writ::runtime {

bool Hash256::is_zero() const {
  for (uint8_t b : bytes)
    if (b) return false;
  return true;
}

std::string Hash256::hex() const {
  static const char* kHex = "0123456789abcdef";
  std::string s;
  s.reserve(64);
  for (uint8_t b : bytes) {
    s += kHex[b >> 4];
    s += kHex[b & 15];
  }
  return s;
}

std::optional<Hash256> Hash256::from_hex(std::string_view s) {
  if (s.size() >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s.remove_prefix(2);
  if (s.size() != 64) return std::nullopt;
  auto nib = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
  };
  Hash256 h;
  for (size_t i = 0; i < 32; ++i) {
    int hi = nib(s[2 * i]), lo = nib(s[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    h.bytes[i] = static_cast<uint8_t>(hi * 16 + lo);
  }
  return h;
}

// The low-level digest avoids OpenSSL 3's per-call algorithm fetch (see
// vm/sha256.hpp); deprecated in favour of EVP, hence the local suppression.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
Hash256 sha256(std::span<const uint8_t> data) {
  Hash256 h;
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, data.data(), data.size());
  SHA256_Final(h.bytes.data(), &ctx);
  return h;
}

Hash256 sha256(std::string_view tag, std::span<const uint8_t> data) {
  Hash256 h;
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, tag.data(), tag.size());
  SHA256_Update(&ctx, data.data(), data.size());
  SHA256_Final(h.bytes.data(), &ctx);
  return h;
}
#pragma GCC diagnostic pop

}  // namespace writ::runtime
