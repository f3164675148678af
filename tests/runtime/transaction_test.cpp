// Transactions: the pinned byte layout, round trips, hashing and signing, and
// every way the strict decoder rejects input.
#include "writ/runtime/transaction.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <atomic>
#include <cstdlib>
#include <functional>
#include <new>
#include <set>
#include <string>

// Records the largest single allocation, so a test can show that a length
// field claiming gigabytes is rejected without allocating for it. (A
// malloc-based replacement; it changes nothing else for the rest of the binary.)
namespace {
std::atomic<size_t> g_largest_allocation{0};
}
void* operator new(size_t size) {
  size_t seen = g_largest_allocation.load(std::memory_order_relaxed);
  while (size > seen && !g_largest_allocation.compare_exchange_weak(seen, size)) {
  }
  if (void* p = std::malloc(size ? size : 1)) return p;
  throw std::bad_alloc();
}
// GCC inlines these next to `new` expressions and then warns that free()
// meets operator new; both are ours, so the pairing is right.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
void operator delete(void* p) noexcept {
  std::free(p);
}
void operator delete(void* p, size_t) noexcept {
  std::free(p);
}
#pragma GCC diagnostic pop

namespace writ::runtime {
namespace {

std::array<uint8_t, 32> reference_sha256(const Bytes& input) {
  std::array<uint8_t, 32> out{};
  unsigned len = 0;
  EXPECT_EQ(EVP_Digest(input.data(), input.size(), out.data(), &len, EVP_sha256(), nullptr), 1);
  return out;
}

Keypair test_key(uint8_t n) {
  std::array<uint8_t, 32> seed{};
  seed.fill(n);
  return keypair_from_seed(seed);
}

Transaction make_call() {
  Transaction tx;
  tx.kind = Transaction::Kind::Call;
  tx.chain_id = 7;
  tx.nonce = 42;
  tx.gas_limit = 1'000'000;
  tx.gas_price = U256::from_u64(3);
  tx.value = U256{{5, 0, 0, 1}};
  tx.to.bytes.fill(0xaa);
  tx.data = {1, 2, 3, 4, 5};
  tx.sign_with(test_key(1));
  return tx;
}

Transaction make_deploy() {
  Transaction tx;
  tx.kind = Transaction::Kind::Deploy;
  tx.chain_id = 7;
  tx.nonce = 43;
  tx.gas_limit = 5'000'000;
  tx.gas_price = U256::from_u64(2);
  tx.code = {0x57, 0x52, 0x49, 0x54, 0x01, 0x00, 0x10};
  tx.data = {9, 8};
  tx.sign_with(test_key(2));
  return tx;
}

bool mentions(const Error& e, const std::string& s) {
  return e.message.find(s) != std::string::npos;
}

TEST(Transaction, CallAndDeployRoundTrip) {
  for (const Transaction& tx : {make_call(), make_deploy()}) {
    const Bytes encoded = tx.encode();
    EXPECT_EQ(encoded.size(), 226 + tx.code.size() + tx.data.size());
    auto decoded = decode_transaction(encoded);
    ASSERT_TRUE(decoded.ok()) << decoded.error().message;
    EXPECT_EQ(*decoded, tx);
    EXPECT_EQ(decoded->encode(), encoded);
    EXPECT_EQ(decoded->hash(), tx.hash());
    EXPECT_TRUE(decoded->signature_valid());
  }
}

TEST(Transaction, PlainTransferWithNoDataRoundTrips) {
  Transaction tx = make_call();
  tx.data.clear();
  tx.sign_with(test_key(3));
  auto decoded = decode_transaction(tx.encode());
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_EQ(*decoded, tx);
  EXPECT_EQ(tx.encode().size(), 226u);
}

// The format, byte by byte, for one small call.
TEST(Transaction, ExactByteLayoutIsPinned) {
  Transaction tx;
  tx.kind = Transaction::Kind::Call;
  tx.chain_id = 0x0102030405060708;
  tx.nonce = 0x1112131415161718;
  tx.gas_limit = 0x2122232425262728;
  tx.gas_price = U256::from_u64(0x0a0b);
  tx.value = U256{{0x0c, 0, 0, 0xff00000000000000}};
  for (size_t i = 0; i < 32; ++i) tx.to.bytes[i] = static_cast<uint8_t>(0x40 + i);
  tx.data = {0xde, 0xad};
  for (size_t i = 0; i < 32; ++i) tx.sender_key.bytes[i] = static_cast<uint8_t>(0x80 + i);
  for (size_t i = 0; i < 64; ++i) tx.signature.bytes[i] = static_cast<uint8_t>(0xc0 + i);

  Bytes expected;
  auto bytes = [&](std::initializer_list<uint8_t> b) { expected.insert(expected.end(), b); };
  auto zeros = [&](int n) { expected.insert(expected.end(), n, 0); };
  auto counting = [&](int n, uint8_t first) {  // first, first+1, ...
    for (int i = 0; i < n; ++i) expected.push_back(static_cast<uint8_t>(first + i));
  };
  bytes({0x01});                                            // version
  bytes({0x00});                                            // kind: call
  bytes({0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08});  // chain_id
  bytes({0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18});  // nonce
  bytes({0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28});  // gas_limit
  zeros(30), bytes({0x0a, 0x0b});                           // gas_price
  bytes({0xff}), zeros(30), bytes({0x0c});                  // value
  counting(32, 0x40);                                       // to
  bytes({0, 0, 0, 0});                                      // code length
  bytes({0, 0, 0, 2, 0xde, 0xad});                          // data length, data
  counting(32, 0x80);                                       // sender key
  counting(64, 0xc0);                                       // signature
  ASSERT_EQ(expected.size(), 228u);

  EXPECT_EQ(tx.encode(), expected);
  EXPECT_EQ(tx.hash().bytes, reference_sha256(expected));

  const std::string tag = "writ.tx.v1";
  Bytes signing(tag.begin(), tag.end());
  signing.insert(signing.end(), expected.begin(), expected.end() - 64);
  EXPECT_EQ(tx.signing_bytes(), signing);

  // The signature is Ed25519 over SHA-256("writ.tx.v1" || bytes before it).
  const Keypair kp = test_key(9);
  tx.sign_with(kp);
  signing.assign(tag.begin(), tag.end());
  const Bytes encoded = tx.encode();
  signing.insert(signing.end(), encoded.begin(), encoded.end() - 64);
  const auto digest = reference_sha256(signing);
  EXPECT_TRUE(verify(kp.pub, digest, tx.signature));
  EXPECT_EQ(tx.sender_key, kp.pub);
  EXPECT_EQ(tx.sender(), address_of(kp.pub));
}

// One mutation per field (and per representation detail), each changing the encoding.
std::vector<std::pair<std::string, std::function<void(Transaction&)>>> field_mutations() {
  return {
      {"kind",
       [](Transaction& t) {
         t.kind = t.kind == Transaction::Kind::Call ? Transaction::Kind::Deploy
                                                    : Transaction::Kind::Call;
       }},
      {"chain_id", [](Transaction& t) { t.chain_id ^= 1; }},
      {"nonce", [](Transaction& t) { t.nonce += 1; }},
      {"gas_limit", [](Transaction& t) { t.gas_limit -= 1; }},
      {"gas_price", [](Transaction& t) { t.gas_price.limb[3] ^= 1; }},
      {"value", [](Transaction& t) { t.value.limb[0] ^= 0x80; }},
      {"to", [](Transaction& t) { t.to.bytes[31] ^= 1; }},
      {"code", [](Transaction& t) { t.code.push_back(0); }},
      {"data", [](Transaction& t) { t.data.back() ^= 1; }},
      {"data length", [](Transaction& t) { t.data.push_back(0); }},
      {"sender_key", [](Transaction& t) { t.sender_key = test_key(77).pub; }},
      {"signature", [](Transaction& t) { t.signature.bytes[5] ^= 4; }},
  };
}

TEST(Transaction, HashChangesWithEveryField) {
  const Transaction base = make_call();
  std::set<Hash256> hashes = {base.hash()};
  for (const auto& [name, mutate] : field_mutations()) {
    Transaction t = base;
    mutate(t);
    EXPECT_NE(t.hash(), base.hash()) << name;
    hashes.insert(t.hash());
  }
  EXPECT_EQ(hashes.size(), field_mutations().size() + 1);
}

TEST(Transaction, SignatureCoversEveryField) {
  for (const Transaction& base : {make_call(), make_deploy()}) {
    ASSERT_TRUE(base.signature_valid());
    for (const auto& [name, mutate] : field_mutations()) {
      Transaction t = base;
      mutate(t);
      EXPECT_FALSE(t.signature_valid()) << name;
    }
  }
  Transaction unsigned_tx = make_call();
  unsigned_tx.signature = Signature{};
  EXPECT_FALSE(unsigned_tx.signature_valid());
}

TEST(Transaction, ResigningWithAnotherKeyChangesSender) {
  Transaction tx = make_call();
  const Address before = tx.sender();
  tx.sign_with(test_key(5));
  EXPECT_TRUE(tx.signature_valid());
  EXPECT_NE(tx.sender(), before);
  EXPECT_EQ(tx.sender(), address_of(test_key(5).pub));
}

struct FieldSpan {
  std::string name;
  size_t begin, end;
};

// The fields of an encoded transaction, in order, with their byte ranges.
std::vector<FieldSpan> field_spans(const Transaction& tx) {
  std::vector<FieldSpan> spans;
  size_t at = 0;
  auto add = [&](const char* name, size_t n) {
    spans.push_back({name, at, at + n});
    at += n;
  };
  add("version", 1);
  add("kind", 1);
  add("chain_id", 8);
  add("nonce", 8);
  add("gas_limit", 8);
  add("gas_price", 32);
  add("value", 32);
  add("to", 32);
  add("code_length", 4);
  add("code", tx.code.size());
  add("data_length", 4);
  add("data", tx.data.size());
  add("sender_key", 32);
  add("signature", 64);
  return spans;
}

TEST(DecodeTransaction, EveryTruncationNamesTheMissingField) {
  for (const Transaction& tx : {make_call(), make_deploy()}) {
    const Bytes full = tx.encode();
    const std::vector<FieldSpan> spans = field_spans(tx);
    ASSERT_EQ(spans.back().end, full.size());
    for (size_t len = 0; len < full.size(); ++len) {
      auto r = decode_transaction(std::span(full).first(len));
      ASSERT_FALSE(r.ok()) << "decoded a " << len << "-byte prefix";
      const Error& e = r.error();
      EXPECT_LE(e.offset, len);
      // The field the prefix cuts into is the one reported, at its start.
      const FieldSpan* cut = nullptr;
      for (const FieldSpan& s : spans)
        if (s.begin <= len && len < s.end) {
          cut = &s;
          break;
        }
      ASSERT_NE(cut, nullptr);
      EXPECT_EQ(e.offset, cut->begin) << len << ": " << e.message;
      const std::string want = "field " + cut->name + ": truncated (needs " +
                               std::to_string(cut->end - cut->begin) + " byte";
      EXPECT_EQ(e.message.rfind(want, 0), 0u) << len << ": " << e.message;
      EXPECT_TRUE(mentions(e, std::to_string(len - cut->begin) + " left")) << e.message;
    }
  }
  auto r = decode_transaction(Bytes{1, 0, 0, 0, 0, 0, 0, 0, 0});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().message, "field chain_id: truncated (needs 8 bytes, 7 left)");
  EXPECT_EQ(r.error().offset, 2u);
}

// The signature rule's encoding checks (crypto.hpp) refuse at decode a key or
// signature that no message could be validly signed under, naming the field
// and its offset.
TEST(DecodeTransaction, RefusesSmallOrderAndNonCanonicalKeysAndSignatures) {
  const Transaction good = make_call();
  const std::vector<FieldSpan> spans = field_spans(good);
  auto offset_of = [&](const std::string& field) {
    for (const FieldSpan& s : spans)
      if (s.name == field) return s.begin;
    ADD_FAILURE() << field;
    return size_t{0};
  };
  ASSERT_TRUE(decode_transaction(good.encode()).ok());
  struct Case {
    const char* what;
    void (*edit)(Transaction&);
    const char* field;
    const char* reason;
  };
  const Case cases[] = {
      {"identity key",
       [](Transaction& t) {
         t.sender_key = PublicKey{};
         t.sender_key.bytes[0] = 1;
       },
       "sender_key", "a point of small order"},
      {"key with y = p",
       [](Transaction& t) {
         t.sender_key.bytes.fill(0xff);
         t.sender_key.bytes[0] = 0xed;
         t.sender_key.bytes[31] = 0x7f;
       },
       "sender_key", "not a canonical point encoding (y is not below 2^255 - 19)"},
      {"identity R",
       [](Transaction& t) {
         std::fill(t.signature.bytes.begin(), t.signature.bytes.begin() + 32, 0);
         t.signature.bytes[0] = 1;
       },
       "signature", "R is a point of small order"},
      {"S = 2^256 - 1",
       [](Transaction& t) {
         std::fill(t.signature.bytes.begin() + 32, t.signature.bytes.end(), 0xff);
       },
       "signature", "S is not below the group order L"},
  };
  for (const Case& c : cases) {
    Transaction t = good;
    c.edit(t);
    auto r = decode_transaction(t.encode());
    ASSERT_FALSE(r.ok()) << c.what;
    EXPECT_EQ(r.error().offset, offset_of(c.field)) << c.what;
    EXPECT_EQ(r.error().message, std::string("field ") + c.field + ": " + c.reason) << c.what;
  }
}

TEST(DecodeTransaction, RejectsUnknownVersion) {
  for (uint8_t version : {0, 2, 255}) {
    Bytes b = make_call().encode();
    b[0] = version;
    auto r = decode_transaction(b);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().offset, 0u);
    EXPECT_TRUE(mentions(r.error(), "field version")) << r.error().message;
    EXPECT_TRUE(mentions(r.error(), std::to_string(version))) << r.error().message;
  }
}

TEST(DecodeTransaction, RejectsUnknownKind) {
  for (uint8_t kind : {2, 3, 128, 255}) {
    Bytes b = make_call().encode();
    b[1] = kind;
    auto r = decode_transaction(b);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().offset, 1u);
    EXPECT_TRUE(mentions(r.error(), "field kind")) << r.error().message;
  }
}

TEST(DecodeTransaction, RejectsCallWithCode) {
  Transaction tx = make_call();
  tx.code = {1, 2, 3};  // encode() writes what it is given; decode() is the gate
  auto r = decode_transaction(tx.encode());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().offset, 122u);
  EXPECT_TRUE(mentions(r.error(), "field code_length")) << r.error().message;
  EXPECT_TRUE(mentions(r.error(), "call")) << r.error().message;
}

TEST(DecodeTransaction, RejectsDeployWithNonzeroTo) {
  for (size_t i : {0u, 17u, 31u}) {
    Transaction tx = make_deploy();
    tx.to.bytes[i] = 1;
    auto r = decode_transaction(tx.encode());
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().offset, 90u);
    EXPECT_TRUE(mentions(r.error(), "field to")) << r.error().message;
  }
}

TEST(DecodeTransaction, RejectsDeployWithoutCode) {
  Transaction tx = make_deploy();
  tx.code.clear();
  auto r = decode_transaction(tx.encode());
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().offset, 122u);
  EXPECT_TRUE(mentions(r.error(), "field code_length")) << r.error().message;
  EXPECT_TRUE(mentions(r.error(), "deploy")) << r.error().message;
}

TEST(DecodeTransaction, EnforcesTheSizeLimitExactly) {
  Transaction tx = make_deploy();
  tx.data.clear();
  tx.code.assign(kMaxTxSize - 226, 0x5a);
  ASSERT_EQ(tx.encode().size(), kMaxTxSize);
  auto at_limit = decode_transaction(tx.encode());
  ASSERT_TRUE(at_limit.ok()) << at_limit.error().message;
  EXPECT_EQ(at_limit->code.size(), kMaxTxSize - 226);

  tx.code.push_back(0x5a);
  auto over = decode_transaction(tx.encode());
  ASSERT_FALSE(over.ok());
  EXPECT_TRUE(mentions(over.error(), std::to_string(kMaxTxSize + 1) + " bytes"))
      << over.error().message;
  EXPECT_TRUE(mentions(over.error(), "maximum")) << over.error().message;
}

TEST(DecodeTransaction, RejectsTrailingBytes) {
  for (size_t extra : {1u, 2u, 64u}) {
    const Bytes valid = make_deploy().encode();
    Bytes b = valid;
    b.insert(b.end(), extra, 0);
    auto r = decode_transaction(b);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().offset, valid.size());
    EXPECT_TRUE(mentions(r.error(), "trailing")) << r.error().message;
    EXPECT_TRUE(mentions(r.error(), "signature")) << r.error().message;
  }
}

TEST(DecodeTransaction, HugeLengthFieldsFailWithoutAllocating) {
  const Transaction tx = make_deploy();
  const Bytes valid = tx.encode();
  const size_t data_length_at = 126 + tx.code.size();
  struct Case {
    size_t length_at;
    const char* field;
  };
  for (const Case& c : {Case{122, "code"}, Case{data_length_at, "data"}}) {
    for (uint32_t claimed : {0xffffffffu, 0x80000000u, static_cast<uint32_t>(kMaxTxSize)}) {
      Bytes b = valid;
      for (int i = 0; i < 4; ++i)
        b[c.length_at + i] = static_cast<uint8_t>(claimed >> (24 - 8 * i));
      g_largest_allocation = 0;
      auto r = decode_transaction(b);
      const size_t largest = g_largest_allocation;
      ASSERT_FALSE(r.ok());
      EXPECT_LT(largest, 4096u) << "decode allocated for a length it had not checked";
      EXPECT_EQ(r.error().offset, c.length_at + 4);
      EXPECT_EQ(r.error().message.rfind(std::string("field ") + c.field + ": truncated (needs " +
                                            std::to_string(claimed) + " bytes",
                                        0),
                0u)
          << r.error().message;
    }
  }
}

TEST(ContractAddress, IsTaggedHashOfSenderAndNonce) {
  const Address sender = address_of(test_key(1).pub);
  const Address a = contract_address(sender, 0x0102030405060708);
  EXPECT_EQ(contract_address(sender, 0x0102030405060708), a);

  const std::string tag = "writ.contract";
  Bytes input(tag.begin(), tag.end());
  input.insert(input.end(), sender.bytes.begin(), sender.bytes.end());
  input.insert(input.end(), {1, 2, 3, 4, 5, 6, 7, 8});
  EXPECT_EQ(a.bytes, reference_sha256(input));

  std::set<Address> seen;
  for (uint64_t nonce : {0ull, 1ull, 2ull, 256ull, ~0ull})
    seen.insert(contract_address(sender, nonce));
  EXPECT_EQ(seen.size(), 5u);
  EXPECT_NE(contract_address(address_of(test_key(2).pub), 0), contract_address(sender, 0));
}

}  // namespace
}  // namespace writ::runtime
