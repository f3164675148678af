// SHA-256 for the interpreter's hash instructions, through OpenSSL's
// low-level digest. OpenSSL's one-shot SHA256() looks the algorithm up on
// every call, which tripled the cost of hash2 (the storage-map slot
// derivation that every map access pays); the low-level functions go straight
// to the (SHA-NI accelerated) block function. They are deprecated in OpenSSL
// 3 in favour of EVP, whose per-call context setup costs about the same as
// the lookup, hence the local suppression.
#pragma once

#include <openssl/sha.h>

#include <cstddef>
#include <cstdint>

#include "writ/vm/u256.hpp"

namespace writ::vm {

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
inline void sha256_digest(const uint8_t* data, size_t size, uint8_t out[32]) {
  SHA256_CTX ctx;
  SHA256_Init(&ctx);
  SHA256_Update(&ctx, data, size);
  SHA256_Final(out, &ctx);
}
#pragma GCC diagnostic pop

// hash2: SHA-256 of the two words big-endian, the storage-map slot derivation.
// Inline in the interpreter's loop (every map access pays it) and behind the
// JIT's host-op helper: one definition for both.
inline U256 hash2_words(const U256& a, const U256& b) {
  uint8_t buf[64], h[32];
  to_be_bytes(a, buf);
  to_be_bytes(b, buf + 32);
  sha256_digest(buf, 64, h);
  return from_be_bytes(h);
}

}  // namespace writ::vm
