// Ed25519 keys and signing through OpenSSL 3's EVP interface
// (EVP_PKEY_ED25519, "pure" Ed25519: the message is signed as is, with a
// NULL digest); verification is the VM library's strict rule
// (writ/vm/ed25519.hpp), which contracts use too.
//
// Error convention: nothing here throws. An OpenSSL failure while deriving a
// key or signing can only mean memory exhaustion or a broken OpenSSL build,
// so it aborts with a message; verify() returns false for anything invalid.
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

#include "writ/vm/ed25519.hpp"

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
  return vm::ed25519_key_defect(key.bytes);
}

const char* signature_defect(const Signature& sig) {
  return vm::ed25519_signature_defect(sig.bytes);
}

bool verify(const PublicKey& key, std::span<const uint8_t> message, const Signature& sig) {
  return vm::ed25519_verify(key.bytes, message, sig.bytes);
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
