// The strict Ed25519 rule of ed25519.hpp: encoding checks here, the curve
// equation by OpenSSL 3's EVP interface (EVP_PKEY_ED25519, "pure" Ed25519:
// the message is verified as is, with a NULL digest). A failure inside
// OpenSSL while verifying means "invalid" (a key that is not a point is the
// common case); the thread's OpenSSL error queue is cleared so that it
// cannot leak into later calls.
#include "writ/vm/ed25519.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <memory>

namespace writ::vm {
namespace {

// Little-endian field and group constants.
// p = 2^255 - 19.
constexpr std::array<uint8_t, 32> kFieldP = {
    0xed, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f};
// L = 2^252 + 27742317777372353535851937790883648493, the base point's order.
constexpr std::array<uint8_t, 32> kGroupL = {
    0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10};
// The y coordinates of the points of small order: 0 (order 4), 1 (the
// identity), p - 1 (order 2), and y8, p - y8 (order 8; y8 + (p - y8) = p is
// checked by the tests).
constexpr std::array<std::array<uint8_t, 32>, 5> kSmallOrderY = {{
    {},
    {0x01},
    {0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
    {0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4,
     0x89, 0xf2, 0xef, 0x98, 0xf0, 0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6,
     0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05},
    {0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b,
     0x76, 0x0d, 0x10, 0x67, 0x0f, 0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39,
     0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a},
}};

// a < b for 32-byte little-endian numbers.
bool less_le(const uint8_t* a, const std::array<uint8_t, 32>& b) {
  for (int i = 31; i >= 0; --i)
    if (a[i] != b[static_cast<size_t>(i)]) return a[i] < b[static_cast<size_t>(i)];
  return false;
}

enum class PointDefect { None, NonCanonical, SmallOrder };

// Rules 1 and 2 of crypto.hpp for a 32-byte point encoding.
PointDefect point_defect(const uint8_t* enc) {
  std::array<uint8_t, 32> y;
  std::copy(enc, enc + 32, y.begin());
  y[31] &= 0x7f;  // bit 255 is the sign of x
  if (!less_le(y.data(), kFieldP)) return PointDefect::NonCanonical;
  for (const auto& small : kSmallOrderY)
    if (y == small) return PointDefect::SmallOrder;
  return PointDefect::None;
}

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};

}  // namespace

const char* ed25519_key_defect(std::span<const uint8_t, 32> key) {
  switch (point_defect(key.data())) {
    case PointDefect::NonCanonical:
      return "not a canonical point encoding (y is not below 2^255 - 19)";
    case PointDefect::SmallOrder:
      return "a point of small order";
    case PointDefect::None:
      break;
  }
  return nullptr;
}

const char* ed25519_signature_defect(std::span<const uint8_t, 64> sig) {
  switch (point_defect(sig.data())) {
    case PointDefect::NonCanonical:
      return "R is not a canonical point encoding (y is not below 2^255 - 19)";
    case PointDefect::SmallOrder:
      return "R is a point of small order";
    case PointDefect::None:
      break;
  }
  if (!less_le(sig.data() + 32, kGroupL)) return "S is not below the group order L";
  return nullptr;
}

bool ed25519_verify(std::span<const uint8_t, 32> key, std::span<const uint8_t> message,
                    std::span<const uint8_t> signature) {
  if (signature.size() != 64) return false;
  if (ed25519_key_defect(key) || ed25519_signature_defect(signature.first<64>())) return false;
  std::unique_ptr<EVP_PKEY, PkeyFree> pkey(
      EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, key.data(), key.size()));
  std::unique_ptr<EVP_MD_CTX, MdCtxFree> ctx(EVP_MD_CTX_new());
  // EVP_DigestVerify takes (NULL, 0) for an empty message in practice; a
  // pointer to a real byte keeps it off that edge.
  static const unsigned char kEmpty = 0;
  const unsigned char* msg = message.empty() ? &kEmpty : message.data();
  const bool valid =
      pkey && ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) == 1 &&
      EVP_DigestVerify(ctx.get(), signature.data(), signature.size(), msg, message.size()) == 1;
  if (!valid) ERR_clear_error();
  return valid;
}

}  // namespace writ::vm
