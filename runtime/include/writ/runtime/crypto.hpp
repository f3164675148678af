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

// The verification rule (a consensus rule: every node must accept exactly the
// same signatures; docs/runtime.md, "Signatures"). A signature (R, S) by
// public key A on a message is valid iff
//   1. A and R are canonical point encodings: the 255-bit y coordinate is
//      below p = 2^255 - 19;
//   2. neither A nor R is a point of small order (the eight points of order
//      1, 2, 4 or 8: those whose y is 0, 1, p - 1 or ±sqrt of the order-8
//      value; checked on y alone, so the encodings with the sign bit set,
//      such as a "negative zero" x, are refused too);
//   3. S is canonical: S < L, the order of the base point;
//   4. A decodes to a point on the curve and [S]B = R + [k]A with
//      k = SHA-512(R || A || message) mod L (RFC 8032 §5.1.7, the
//      cofactorless equation, as OpenSSL checks it).
// Rules 1-3 are what RFC 8032 leaves to the verifier and OpenSSL does not
// all enforce: without rule 2, A = R = identity and S = 0 "signs" every
// message. On the published edge-case vectors of Chalkias, Garillot and
// Nikolaenko ("Taming the many EdDSAs", SSR 2020) only case 3 is accepted, as
// by libsodium and ed25519-dalek's verify_strict.
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
