// Ed25519 keys and signatures (OpenSSL), addresses, and parallel batch
// verification.
#pragma once

#include <array>
#include <span>
#include <string>
#include <vector>

#include "writ/runtime/types.hpp"

namespace writ::runtime {

struct PublicKey {
  std::array<uint8_t, 32> bytes{};
  auto operator<=>(const PublicKey&) const = default;
};
struct PrivateKey {
  std::array<uint8_t, 32> seed{};  // the Ed25519 private key (RFC 8032 seed)
};
struct Signature {
  std::array<uint8_t, 64> bytes{};
  auto operator<=>(const Signature&) const = default;
};
struct Keypair {
  PrivateKey priv;
  PublicKey pub;
};

Keypair generate_keypair();  // from OpenSSL's CSPRNG
Keypair keypair_from_seed(const std::array<uint8_t, 32>& seed);
Signature sign(const PrivateKey& key, std::span<const uint8_t> message);

// The verification rule is a consensus rule: every node must accept exactly
// the same signatures. It is the strict rule of writ/vm/ed25519.hpp (canonical
// A and R, neither of small order, S < L, then the cofactorless equation),
// shared with the VM's ed25519 instruction; docs/runtime.md, "Signatures".
bool verify(const PublicKey& key, std::span<const uint8_t> message, const Signature& sig);

// Rules 1-3 alone, for decoders that refuse a malformed key or signature
// before any curve arithmetic: nullptr when the encoding is acceptable, else
// the reason ("a point of small order", ...).
const char* public_key_defect(const PublicKey& key);
const char* signature_defect(const Signature& sig);  // names R or S

// The account address of a key: SHA-256("writ.address" || public key).
Address address_of(const PublicKey& key);

struct VerifyItem {
  const PublicKey* key;
  std::span<const uint8_t> message;
  const Signature* sig;
};
// Verifies every item using up to `threads` threads; result[i] is item i's verdict.
std::vector<bool> verify_batch(std::span<const VerifyItem> items, unsigned threads);

}  // namespace writ::runtime
