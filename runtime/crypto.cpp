// Ed25519 through OpenSSL 3's EVP interface (EVP_PKEY_ED25519, "pure"
// Ed25519: the message is signed as is, with a NULL digest).
//
// Error convention: nothing here throws. An OpenSSL failure while deriving a
// key or signing can only mean memory exhaustion or a broken OpenSSL build,
// so it aborts with a message; a failure while verifying means "invalid"
// (a malformed public key or signature is the common case), so verify()
// returns false and clears the thread's OpenSSL error queue.
//
// Thread safety: every function is safe to call from any thread; each call
// owns its OpenSSL objects (freed by the RAII wrappers below).
#include "writ/runtime/crypto.hpp"

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <thread>

namespace writ::runtime {
namespace {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
struct MdCtxFree {
  void operator()(EVP_MD_CTX* p) const { EVP_MD_CTX_free(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;

[[noreturn]] void die(const char* what) {
  std::fprintf(stderr, "writ: fatal: OpenSSL Ed25519 %s failed (error 0x%lx)\n", what,
               ERR_get_error());
  std::abort();
}

// OpenSSL's one-shot EVP_DigestSign/Verify accept (NULL, 0) for an empty
// message in practice, but a pointer to a real byte keeps us off that edge.
const unsigned char* message_ptr(std::span<const uint8_t> message) {
  static const unsigned char kEmpty = 0;
  return message.empty() ? &kEmpty : message.data();
}

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
    {0xec, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f},
    {0x26, 0xe8, 0x95, 0x8f, 0xc2, 0xb2, 0x27, 0xb0, 0x45, 0xc3, 0xf4, 0x89, 0xf2, 0xef, 0x98, 0xf0,
     0xd5, 0xdf, 0xac, 0x05, 0xd3, 0xc6, 0x33, 0x39, 0xb1, 0x38, 0x02, 0x88, 0x6d, 0x53, 0xfc, 0x05},
    {0xc7, 0x17, 0x6a, 0x70, 0x3d, 0x4d, 0xd8, 0x4f, 0xba, 0x3c, 0x0b, 0x76, 0x0d, 0x10, 0x67, 0x0f,
     0x2a, 0x20, 0x53, 0xfa, 0x2c, 0x39, 0xcc, 0xc6, 0x4e, 0xc7, 0xfd, 0x77, 0x92, 0xac, 0x03, 0x7a},
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

PkeyPtr private_pkey(const std::array<uint8_t, 32>& seed) {
  PkeyPtr key(EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, nullptr, seed.data(), seed.size()));
  if (!key) die("private key import");
  return key;
}

}  // namespace

Keypair keypair_from_seed(const std::array<uint8_t, 32>& seed) {
  Keypair kp;
  kp.priv.seed = seed;
  PkeyPtr key = private_pkey(seed);
  size_t len = kp.pub.bytes.size();
  if (EVP_PKEY_get_raw_public_key(key.get(), kp.pub.bytes.data(), &len) != 1 ||
      len != kp.pub.bytes.size())
    die("public key derivation");
  return kp;
}

Keypair generate_keypair() {
  std::array<uint8_t, 32> seed{};
  if (RAND_bytes(seed.data(), static_cast<int>(seed.size())) != 1)
    die("seed generation (RAND_bytes)");
  Keypair kp = keypair_from_seed(seed);
  OPENSSL_cleanse(seed.data(), seed.size());
  return kp;
}

Signature sign(const PrivateKey& key, std::span<const uint8_t> message) {
  PkeyPtr pkey = private_pkey(key.seed);
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx) die("context allocation");
  if (EVP_DigestSignInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) != 1) die("sign init");
  Signature sig;
  size_t len = sig.bytes.size();
  const int signed_ok =
      EVP_DigestSign(ctx.get(), sig.bytes.data(), &len, message_ptr(message), message.size());
  if (signed_ok != 1 || len != sig.bytes.size()) die("signing");
  return sig;
}

const char* public_key_defect(const PublicKey& key) {
  switch (point_defect(key.bytes.data())) {
    case PointDefect::NonCanonical:
      return "not a canonical point encoding (y is not below 2^255 - 19)";
    case PointDefect::SmallOrder:
      return "a point of small order";
    case PointDefect::None:
      break;
  }
  return nullptr;
}

const char* signature_defect(const Signature& sig) {
  switch (point_defect(sig.bytes.data())) {
    case PointDefect::NonCanonical:
      return "R is not a canonical point encoding (y is not below 2^255 - 19)";
    case PointDefect::SmallOrder:
      return "R is a point of small order";
    case PointDefect::None:
      break;
  }
  if (!less_le(sig.bytes.data() + 32, kGroupL)) return "S is not below the group order L";
  return nullptr;
}

bool verify(const PublicKey& key, std::span<const uint8_t> message, const Signature& sig) {
  if (public_key_defect(key) || signature_defect(sig)) return false;
  PkeyPtr pkey(
      EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, key.bytes.data(), key.bytes.size()));
  MdCtxPtr ctx(EVP_MD_CTX_new());
  const bool valid = pkey && ctx &&
                     EVP_DigestVerifyInit(ctx.get(), nullptr, nullptr, nullptr, pkey.get()) == 1 &&
                     EVP_DigestVerify(ctx.get(), sig.bytes.data(), sig.bytes.size(),
                                      message_ptr(message), message.size()) == 1;
  // A rejected signature may leave entries on this thread's error queue;
  // they describe the input, not a fault, and must not leak into later calls.
  if (!valid) ERR_clear_error();
  return valid;
}

Address address_of(const PublicKey& key) {
  return sha256("writ.address", key.bytes);
}

// Items are split into `threads` contiguous chunks; each worker writes only
// its own bytes of `verdicts` (a byte per item: std::vector<bool> packs bits,
// so concurrent writes to it would race). Each verdict depends only on its
// item, so the result is the same for every thread count.
std::vector<bool> verify_batch(std::span<const VerifyItem> items, unsigned threads) {
  std::vector<uint8_t> verdicts(items.size(), 0);
  auto run = [&](size_t begin, size_t end) {
    for (size_t i = begin; i < end; ++i) {
      const VerifyItem& it = items[i];
      verdicts[i] = it.key && it.sig && verify(*it.key, it.message, *it.sig);
    }
  };

  const size_t n = items.size();
  const size_t workers = std::min<size_t>(std::max(threads, 1u), n);
  if (workers <= 1) {
    run(0, n);
  } else {
    std::vector<std::thread> pool;
    pool.reserve(workers - 1);
    // Chunk w is [w*n/workers, (w+1)*n/workers); the calling thread takes the last.
    auto chunk_begin = [&](size_t w) { return w * n / workers; };
    size_t spawned_until = 0;  // items [0, spawned_until) are owned by spawned threads
    for (size_t w = 0; w + 1 < workers; ++w) {
      try {
        pool.emplace_back(run, chunk_begin(w), chunk_begin(w + 1));
      } catch (...) {  // std::system_error: no more threads; the caller does the rest
        break;
      }
      spawned_until = chunk_begin(w + 1);
    }
    run(spawned_until, n);
    for (std::thread& t : pool) t.join();
  }
  return std::vector<bool>(verdicts.begin(), verdicts.end());
}

}  // namespace writ::runtime
