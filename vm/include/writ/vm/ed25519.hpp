// Ed25519 signature verification under Writ's strict rule, shared by the
// runtime (transaction signatures) and the VM (the ed25519 instruction), so
// that every node and every contract accepts exactly the same signatures.
//
// The rule (docs/runtime.md, "Signatures"): a signature R || S by public key
// A on a message is valid iff
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
// Rules 1-3 are what RFC 8032 leaves to the verifier and OpenSSL does not all
// enforce: without rule 2, A = R = identity and S = 0 "signs" every message.
// On the published edge-case vectors of Chalkias, Garillot and Nikolaenko
// ("Taming the many EdDSAs", SSR 2020) only case 3 is accepted, as by
// libsodium and ed25519-dalek's verify_strict.
//
// Thread safety: every function may be called from any thread.
#pragma once

#include <cstdint>
#include <span>

namespace writ::vm {

// Rules 1-4. `key` is 32 bytes, `signature` 64 (R then S); a signature of
// another length is invalid.
bool ed25519_verify(std::span<const uint8_t, 32> key, std::span<const uint8_t> message,
                    std::span<const uint8_t> signature);

// Rules 1-3 alone, for decoders that refuse a malformed key or signature
// before any curve arithmetic: nullptr when the encoding is acceptable, else
// the reason ("a point of small order", "R is ...", "S is ...").
const char* ed25519_key_defect(std::span<const uint8_t, 32> key);
const char* ed25519_signature_defect(std::span<const uint8_t, 64> signature);

}  // namespace writ::vm
