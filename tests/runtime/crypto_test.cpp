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
std::string to_hex_for_test(const std::array<uint8_t, N>& a) {
  static const char* kDigits = "0123456789abcdef";
  std::string out;
  for (uint8_t b : a) {
    out.push_back(kDigits[b >> 4]);
    out.push_back(kDigits[b & 15]);
  }
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

// The twelve edge cases of "Taming the many EdDSAs" (K. Chalkias,
// F. Garillot, V. Nikolaenko, Security Standardisation Research 2020), as
// published in cases.txt of the paper's ed25519-speccheck suite: message,
// public key A, signature R || S. The paper's table of what each case
// exercises:
//   0  S = 0, A and R of small order        1  0 < S < L, A small, R mixed
//   2  0 < S < L, A mixed, R small          3  A and R mixed: valid everywhere
//   4  mixed A and R, cofactored only       5  mixed, passes cofactored only
//   6  S > L                                7  S much larger than L
//   8  non-canonical R (cofactorless)       9  non-canonical R (cofactored)
//  10  non-canonical A, reduced k           11  non-canonical A, unreduced k
struct SpeccheckCase {
  const char* message;
  const char* public_key;
  const char* signature;
};
constexpr SpeccheckCase kSpeccheck[12] = {
    {"8c93255d71dcab10e8f379c26200f3c7bd5f09d9bc3068d3ef4edeb4853022b6",
     "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
     "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"
     "0000000000000000000000000000000000000000000000000000000000000000"},
    {"9bd9f44f4dcc75bd531b56b2cd280b0bb38fc1cd6d1230e14861d861de092e79",
     "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
     "f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43"
     "a5bb704786be79fc476f91d3f3f89b03984d8068dcf1bb7dfc6637b45450ac04"},
    {"aebf3f2601a0c8c5d39cc7d8911642f740b78168218da8471772b35f9d35b9ab",
     "f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43",
     "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa"
     "8c4bd45aecaca5b24fb97bc10ac27ac8751a7dfe1baff8b953ec9f5833ca260e"},
    {"9bd9f44f4dcc75bd531b56b2cd280b0bb38fc1cd6d1230e14861d861de092e79",
     "cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d",
     "9046a64750444938de19f227bb80485e92b83fdb4b6506c160484c016cc1852f"
     "87909e14428a7a1d62e9f22f3d3ad7802db02eb2e688b6c52fcd6648a98bd009"},
    {"e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec4011eaccd55b53f56c",
     "cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d",
     "160a1cb0dc9c0258cd0a7d23e94d8fa878bcb1925f2c64246b2dee1796bed512"
     "5ec6bc982a269b723e0668e540911a9a6a58921d6925e434ab10aa7940551a09"},
    {"e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec4011eaccd55b53f56c",
     "cdb267ce40c5cd45306fa5d2f29731459387dbf9eb933b7bd5aed9a765b88d4d",
     "21122a84e0b5fca4052f5b1235c80a537878b38f3142356b2c2384ebad4668b7"
     "e40bc836dac0f71076f9abe3a53f9c03c1ceeeddb658d0030494ace586687405"},
    {"85e241a07d148b41e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec40",
     "442aad9f089ad9e14647b1ef9099a1ff4798d78589e66f28eca69c11f582a623",
     "e96f66be976d82e60150baecff9906684aebb1ef181f67a7189ac78ea23b6c0e"
     "547f7690a0e2ddcd04d87dbc3490dc19b3b3052f7ff0538cb68afb369ba3a514"},
    {"85e241a07d148b41e47d62c63f830dc7a6851a0b1f33ae4bb2f507fb6cffec40",
     "442aad9f089ad9e14647b1ef9099a1ff4798d78589e66f28eca69c11f582a623",
     "8ce5b96c8f26d0ab6c47958c9e68b937104cd36e13c33566acd2fe8d38aa1942"
     "7e71f98a473474f2f13f06f97c20d58cc3f54b8bd0d272f42b695dd7e89a8c22"},
    {"9bedc267423725d473888631ebf45988bad3db83851ee85c85e241a07d148b41",
     "f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43",
     "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
     "03be9678ac102edcd92b0210bb34d7428d12ffc5df5f37e359941266a4e35f0f"},
    {"9bedc267423725d473888631ebf45988bad3db83851ee85c85e241a07d148b41",
     "f7badec5b8abeaf699583992219b7b223f1df3fbbea919844e3f7c554a43dd43",
     "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
     "ca8c5b64cd208982aa38d4936621a4775aa233aa0505711d8fdcfdaa943d4908"},
    {"e96b7021eb39c1a163b6da4e3093dcd3f21387da4cc4572be588fafae23c155b",
     "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
     "a9d55260f765261eb9b84e106f665e00b867287a761990d7135963ee0a7d59dc"
     "a5bb704786be79fc476f91d3f3f89b03984d8068dcf1bb7dfc6637b45450ac04"},
    {"39a591f5321bbe07fd5a23dc2f39d025d74526615746727ceefd6e82ae65c06f",
     "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
     "a9d55260f765261eb9b84e106f665e00b867287a761990d7135963ee0a7d59dc"
     "a5bb704786be79fc476f91d3f3f89b03984d8068dcf1bb7dfc6637b45450ac04"},
};

// OpenSSL's EVP verification alone, without the chain's encoding rules.
bool openssl_verify(const PublicKey& key, const Bytes& message, const Signature& sig) {
  EVP_PKEY* pkey =
      EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, nullptr, key.bytes.data(), key.bytes.size());
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  const bool ok = pkey && ctx && EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, pkey) == 1 &&
                  EVP_DigestVerify(ctx, sig.bytes.data(), sig.bytes.size(), message.data(),
                                   message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(pkey);
  return ok;
}

TEST(Ed25519Strict, OnlyCaseThreeOfTheTamingVectorsVerifies) {
  std::vector<int> accepted, accepted_by_openssl_alone;
  for (int i = 0; i < 12; ++i) {
    const SpeccheckCase& c = kSpeccheck[i];
    PublicKey key;
    key.bytes = array_from_hex<32>(c.public_key);
    Signature sig;
    sig.bytes = array_from_hex<64>(c.signature);
    const Bytes message = from_hex(c.message);
    if (verify(key, message, sig)) accepted.push_back(i);
    if (openssl_verify(key, message, sig)) accepted_by_openssl_alone.push_back(i);
  }
  EXPECT_EQ(accepted, std::vector<int>({3}));
  // OpenSSL 3.0 by itself accepts the small-order cases (0-2) and a
  // non-canonical key (11): the chain's encoding rules are what refuse them.
  EXPECT_EQ(accepted_by_openssl_alone, std::vector<int>({0, 1, 2, 3, 11}));
}

TEST(Ed25519Strict, EachRefusedVectorHasTheDocumentedReason) {
  auto key_of = [](int i) {
    PublicKey k;
    k.bytes = array_from_hex<32>(kSpeccheck[i].public_key);
    return k;
  };
  auto sig_of = [](int i) {
    Signature s;
    s.bytes = array_from_hex<64>(kSpeccheck[i].signature);
    return s;
  };
  auto text = [](const char* why) { return std::string(why ? why : "(none)"); };
  for (int i : {0, 1, 10, 11})
    EXPECT_EQ(text(public_key_defect(key_of(i))), "a point of small order") << i;
  EXPECT_EQ(text(signature_defect(sig_of(2))), "R is a point of small order");
  for (int i : {8, 9})
    EXPECT_EQ(text(signature_defect(sig_of(i))), "R is a point of small order") << i;
  for (int i : {6, 7})
    EXPECT_EQ(text(signature_defect(sig_of(i))), "S is not below the group order L") << i;
  // Cases 3-5 are well-formed encodings: 4 and 5 fail the equation itself.
  for (int i : {3, 4, 5}) {
    EXPECT_EQ(public_key_defect(key_of(i)), nullptr) << i;
    EXPECT_EQ(signature_defect(sig_of(i)), nullptr) << i;
  }
}

// The forgery that the small-order rule closes: with A = R = the identity
// and S = 0, the cofactorless equation [0]B = identity + [k]identity holds
// for every message, so anyone could sign for A's address.
TEST(Ed25519Strict, IdentityKeyAndSignatureForgeNothing) {
  PublicKey identity;
  identity.bytes[0] = 1;
  Signature forged;
  forged.bytes[0] = 1;
  for (const Bytes& message : {Bytes{}, Bytes{1, 2, 3}, from_hex(kSpeccheck[0].message)}) {
    EXPECT_TRUE(openssl_verify(identity, message, forged)) << "the hole exists without the rule";
    EXPECT_FALSE(verify(identity, message, forged));
  }
}

// Every encoding of every small-order point, canonical or not, is refused;
// so are y values at or above p. y8 + (p - y8) = p: the two order-8 values
// are each other's negatives, as the table in crypto.cpp assumes.
TEST(Ed25519Strict, SmallOrderAndNonCanonicalEncodingsAreRefused) {
  auto le = [](std::string_view hex) { return array_from_hex<32>(hex); };
  const auto p = le("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f");
  const auto y8 = le("26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05");
  const auto minus_y8 = le("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a");
  unsigned carry = 0;
  std::array<uint8_t, 32> sum{};
  for (size_t i = 0; i < 32; ++i) {
    carry += unsigned{y8[i]} + minus_y8[i];
    sum[i] = static_cast<uint8_t>(carry);
    carry >>= 8;
  }
  EXPECT_EQ(carry, 0u);
  EXPECT_EQ(sum, p);

  std::vector<std::array<uint8_t, 32>> small = {
      le("0100000000000000000000000000000000000000000000000000000000000000"),  // identity
      le("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),  // order 2
      le("0000000000000000000000000000000000000000000000000000000000000000"),  // order 4
      y8, minus_y8};                                                           // order 8
  for (auto enc : small) {
    for (uint8_t sign : {0x00, 0x80}) {
      PublicKey k;
      k.bytes = enc;
      k.bytes[31] |= sign;
      EXPECT_STREQ(public_key_defect(k), "a point of small order") << to_hex_for_test(k.bytes);
      Signature s;
      std::copy(k.bytes.begin(), k.bytes.end(), s.bytes.begin());
      EXPECT_STREQ(signature_defect(s), "R is a point of small order");
    }
  }
  // y = p, p + 1 (0 and 1 again, non-canonically) and the largest 255-bit y.
  for (std::string_view hex :
       {"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
        "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"}) {
    PublicKey k;
    k.bytes = le(hex);
    EXPECT_STREQ(public_key_defect(k), "not a canonical point encoding (y is not below 2^255 - 19)")
        << hex;
  }
  // S = L - 1 is the largest canonical S; S = L is not.
  Signature s = sign(keypair_from_seed(array_from_hex<32>(kRfc8032[0].secret_key)).priv, Bytes{});
  const auto l = le("edd3f55c1a631258d69cf7a2def9de1400000000000000000000000000000010");
  std::copy(l.begin(), l.end(), s.bytes.begin() + 32);
  EXPECT_STREQ(signature_defect(s), "S is not below the group order L");
  s.bytes[32] -= 1;
  EXPECT_EQ(signature_defect(s), nullptr);
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
