// Ed25519 (RFC 8032 vectors, tamper detection), addresses and batch verification.
#include "writ/runtime/crypto.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <set>
#include <string>
#include <string_view>

namespace writ::runtime {
namespace {

Bytes from_hex(std::string_view hex) {
  Bytes out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2)
    out.push_back(static_cast<uint8_t>(std::stoi(std::string(hex.substr(i, 2)), nullptr, 16)));
  EXPECT_EQ(hex.size() % 2, 0u) << hex;
  return out;
}

template <size_t N>
std::array<uint8_t, N> array_from_hex(std::string_view hex) {
  Bytes b = from_hex(hex);
  std::array<uint8_t, N> a{};
  EXPECT_EQ(b.size(), N) << hex;
  std::copy_n(b.begin(), std::min(N, b.size()), a.begin());
  return a;
}

// SHA-256 through OpenSSL's EVP one-shot, independent of runtime/types.cpp.
std::array<uint8_t, 32> reference_sha256(const Bytes& input) {
  std::array<uint8_t, 32> out{};
  unsigned len = 0;
  EXPECT_EQ(EVP_Digest(input.data(), input.size(), out.data(), &len, EVP_sha256(), nullptr), 1);
  EXPECT_EQ(len, 32u);
  return out;
}

// RFC 8032, "Edwards-Curve Digital Signature Algorithm (EdDSA)", section 7.1
// ("Test Vectors for Ed25519"), TEST 1, TEST 2 and TEST 3.
struct Rfc8032Vector {
  const char* name;
  const char* secret_key;
  const char* public_key;
  const char* message;
  const char* signature;
};
constexpr Rfc8032Vector kRfc8032[] = {
    {"TEST 1", "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
     "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
    {"TEST 2", "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
     "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
    {"TEST 3", "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
     "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"},
};

TEST(Ed25519, Rfc8032Section71Vectors) {
  for (const Rfc8032Vector& v : kRfc8032) {
    SCOPED_TRACE(v.name);
    const Keypair kp = keypair_from_seed(array_from_hex<32>(v.secret_key));
    EXPECT_EQ(kp.pub.bytes, array_from_hex<32>(v.public_key));
    EXPECT_EQ(kp.priv.seed, array_from_hex<32>(v.secret_key));
    const Bytes message = from_hex(v.message);
    const Signature sig = sign(kp.priv, message);
    EXPECT_EQ(sig.bytes, array_from_hex<64>(v.signature));
    Signature published;
    published.bytes = array_from_hex<64>(v.signature);
    PublicKey pub;
    pub.bytes = array_from_hex<32>(v.public_key);
    EXPECT_TRUE(verify(pub, message, published));
  }
}

TEST(Ed25519, SignVerifyRoundTripForSeveralLengths) {
  const Keypair kp = keypair_from_seed(array_from_hex<32>(kRfc8032[1].secret_key));
  for (size_t len : {0u, 1u, 31u, 32u, 33u, 1000u, 65536u}) {
    Bytes message(len);
    for (size_t i = 0; i < len; ++i) message[i] = static_cast<uint8_t>(i * 7 + len);
    const Signature sig = sign(kp.priv, message);
    EXPECT_TRUE(verify(kp.pub, message, sig)) << len;
    EXPECT_EQ(sign(kp.priv, message), sig) << "Ed25519 signing is deterministic";
  }
}

class Tamper : public ::testing::Test {
 protected:
  Keypair kp = keypair_from_seed(array_from_hex<32>(kRfc8032[2].secret_key));
  Bytes message = from_hex("00112233445566778899aabbccddeeff0102");
  Signature sig = sign(kp.priv, message);
};

TEST_F(Tamper, EveryFlippedMessageBitIsRejected) {
  ASSERT_TRUE(verify(kp.pub, message, sig));
  for (size_t bit = 0; bit < message.size() * 8; ++bit) {
    Bytes m = message;
    m[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    EXPECT_FALSE(verify(kp.pub, m, sig)) << "bit " << bit;
  }
  Bytes longer = message;
  longer.push_back(0);
  EXPECT_FALSE(verify(kp.pub, longer, sig));
  EXPECT_FALSE(verify(kp.pub, std::span(message).first(message.size() - 1), sig));
}

TEST_F(Tamper, EveryFlippedSignatureBitIsRejected) {
  for (size_t bit = 0; bit < 512; ++bit) {
    Signature s = sig;
    s.bytes[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    EXPECT_FALSE(verify(kp.pub, message, s)) << "bit " << bit;
  }
}

TEST_F(Tamper, EveryFlippedKeyBitIsRejected) {
  for (size_t bit = 0; bit < 256; ++bit) {
    PublicKey k = kp.pub;
    k.bytes[bit / 8] ^= static_cast<uint8_t>(1u << (bit % 8));
    EXPECT_FALSE(verify(k, message, sig)) << "bit " << bit;
  }
}

TEST_F(Tamper, MalformedKeysAndSignaturesAreInvalidNotFatal) {
  PublicKey not_a_point;
  not_a_point.bytes.fill(0xff);  // y >= p: not a canonical point encoding
  EXPECT_FALSE(verify(not_a_point, message, sig));
  EXPECT_FALSE(verify(PublicKey{}, message, sig));
  EXPECT_FALSE(verify(kp.pub, message, Signature{}));
  Signature s_too_big = sig;
  for (size_t i = 32; i < 64; ++i) s_too_big.bytes[i] = 0xff;  // S >= L
  EXPECT_FALSE(verify(kp.pub, message, s_too_big));
  // The failures leave nothing behind that breaks the next verification.
  EXPECT_TRUE(verify(kp.pub, message, sig));
}

TEST(Ed25519, KeypairFromSeedIsDeterministic) {
  std::array<uint8_t, 32> seed{};
  for (size_t i = 0; i < 32; ++i) seed[i] = static_cast<uint8_t>(i);
  const Keypair a = keypair_from_seed(seed);
  const Keypair b = keypair_from_seed(seed);
  EXPECT_EQ(a.pub, b.pub);
  EXPECT_EQ(a.priv.seed, seed);
  EXPECT_NE(a.pub.bytes, seed) << "the public key is derived, not copied";
  seed[31] ^= 1;
  EXPECT_NE(keypair_from_seed(seed).pub, a.pub);
}

TEST(Ed25519, GeneratedKeypairsAreDistinctAndConsistent) {
  std::set<std::array<uint8_t, 32>> seeds;
  std::set<PublicKey> pubs;
  for (int i = 0; i < 16; ++i) {
    const Keypair kp = generate_keypair();
    EXPECT_EQ(keypair_from_seed(kp.priv.seed).pub, kp.pub);
    seeds.insert(kp.priv.seed);
    pubs.insert(kp.pub);
    const Bytes m = {1, 2, 3};
    EXPECT_TRUE(verify(kp.pub, m, sign(kp.priv, m)));
  }
  EXPECT_EQ(seeds.size(), 16u);
  EXPECT_EQ(pubs.size(), 16u);
}

TEST(Address, IsTaggedSha256OfThePublicKey) {
  std::set<Address> seen;
  for (const Rfc8032Vector& v : kRfc8032) {
    PublicKey pub;
    pub.bytes = array_from_hex<32>(v.public_key);
    std::string tagged = "writ.address";
    Bytes input(tagged.begin(), tagged.end());
    input.insert(input.end(), pub.bytes.begin(), pub.bytes.end());
    const Address a = address_of(pub);
    EXPECT_EQ(a.bytes, reference_sha256(input)) << v.name;
    EXPECT_NE(a.bytes, reference_sha256(Bytes(pub.bytes.begin(), pub.bytes.end())))
        << "the domain tag must be part of the hash";
    EXPECT_EQ(address_of(pub), a);
    seen.insert(a);
  }
  EXPECT_EQ(seen.size(), std::size(kRfc8032));
}

TEST(VerifyBatch, AgreesWithVerifyForEveryThreadCount) {
  constexpr size_t kKeys = 5;
  std::vector<Keypair> keys;
  for (size_t i = 0; i < kKeys; ++i) {
    std::array<uint8_t, 32> seed{};
    seed[0] = static_cast<uint8_t>(i + 1);
    keys.push_back(keypair_from_seed(seed));
  }
  // 37 items (not a multiple of any thread count), a mix of valid and invalid.
  constexpr size_t kItems = 37;
  std::vector<Bytes> messages(kItems);
  std::vector<Signature> sigs(kItems);
  std::vector<VerifyItem> items;
  std::vector<bool> expected;
  for (size_t i = 0; i < kItems; ++i) {
    const Keypair& signer = keys[i % kKeys];
    messages[i] = Bytes(i + 1, static_cast<uint8_t>(i));
    sigs[i] = sign(signer.priv, messages[i]);
    const PublicKey* key = &signer.pub;
    // i % 4: 0 valid, 1 corrupted signature, 2 someone else's key,
    // 3 valid or (every other time) no key at all.
    if (i % 4 == 1) sigs[i].bytes[i % 64] ^= 0x10;
    if (i % 4 == 2) key = &keys[(i + 1) % kKeys].pub;
    if (i % 8 == 7) key = nullptr;
    items.push_back({key, messages[i], &sigs[i]});
    expected.push_back(key && verify(*key, messages[i], sigs[i]));
  }
  size_t valid = 0;
  for (bool b : expected) valid += b;
  ASSERT_GT(valid, 5u);
  ASSERT_LT(valid, kItems - 5);

  for (unsigned threads : {0u, 1u, 2u, 3u, 4u, 64u}) {
    EXPECT_EQ(verify_batch(items, threads), expected) << threads << " threads";
  }
  EXPECT_TRUE(verify_batch({}, 4).empty());
  EXPECT_EQ(verify_batch(std::span(items).first(1), 4), std::vector<bool>{true});
}

}  // namespace
}  // namespace writ::runtime
