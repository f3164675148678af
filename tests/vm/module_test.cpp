// Module format: canonical encoding, round trips, and located rejection of
// malformed bytes.
#include <random>

#include "test_util.hpp"

namespace writ::vm::test {
namespace {

const char* kSample = R"(
.meta compiler "writ-asm test"
.meta source "sample"
.const BIG word 0xffffffffffffffffffffffffffffffff
.const HELLO bytes "hello"
.event Transfer(u256 indexed, u256 indexed, u256)
.error Short(u256, u256)
.func add(u64, u64) -> (u64) export view
  .regs u64
  add r2, r0, r1
  ret r2
.end
.func helper(u256) -> (u256)
  .regs u256
  wconst r1, BIG
  wadd r1, r1, r0
  ret r1
.end
.func go(u256) -> (u256) export
  .regs u256 u256 buf
  call helper, r0, r1
  bconst r3, HELLO
  emit Transfer, r0
  ret r1
.end
)";

TEST(ModuleFormat, EncodeDecodeRoundTripIsByteExact) {
  auto bytes = assemble_bytes(kSample);
  ASSERT_FALSE(bytes.empty());
  auto m = decode_module(bytes);
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  EXPECT_EQ(encode_module(m.value()), bytes);
  EXPECT_EQ(m->functions.size(), 3u);
  EXPECT_EQ(m->exports.size(), 2u);
  EXPECT_EQ(m->constants[1].bytes, std::vector<uint8_t>({'h', 'e', 'l', 'l', 'o'}));
  EXPECT_EQ(m->metadata[0].key, "compiler");
}

TEST(ModuleFormat, DisassembleAssembleRoundTrip) {
  auto bytes = assemble_bytes(kSample);
  auto m = decode_module(bytes);
  ASSERT_TRUE(m.ok());
  std::string text = disassemble(m.value());
  auto again = assemble(text);
  ASSERT_TRUE(again.ok()) << again.error().to_string() << "\n" << text;
  EXPECT_EQ(again.value(), m.value());
  EXPECT_EQ(encode_module(again.value()), bytes);
  // The disassembly of the reassembled module is identical text.
  EXPECT_EQ(disassemble(again.value()), text);
}

TEST(ModuleFormat, ExportsAreSortedBySelectorAndSelectorsDeriveFromSignature) {
  auto m = assemble(kSample);
  ASSERT_TRUE(m.ok());
  ASSERT_EQ(m->exports.size(), 2u);
  EXPECT_LT(m->exports[0].selector, m->exports[1].selector);
  const Export* add = m->find_export("add");
  ASSERT_NE(add, nullptr);
  std::vector<ValType> params = {ValType::U64, ValType::U64};
  EXPECT_EQ(signature_of("add", params), "add(u64,u64)");
  EXPECT_EQ(add->selector, selector_of("add", params));
  EXPECT_EQ(m->find_selector(add->selector), add);
  EXPECT_EQ(add->flags, kExportView);
}

TEST(ModuleFormat, RejectsBadMagicVersionAndFlagsWithOffsets) {
  auto bytes = assemble_bytes(kSample);
  auto b = bytes;
  b[0] = 'X';
  auto r = decode_module(b);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().offset, 0u);
  EXPECT_NE(r.error().message.find("magic"), std::string::npos);

  b = bytes;
  b[4] = 9;
  r = decode_module(b);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().offset, 4u);
  EXPECT_NE(r.error().message.find("version 9"), std::string::npos);

  b = bytes;
  b[6] = 1;
  r = decode_module(b);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().offset, 6u);
}

TEST(ModuleFormat, EveryTruncationIsRejectedWithinBounds) {
  auto bytes = assemble_bytes(kSample);
  for (size_t n = 0; n < bytes.size(); ++n) {
    std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + static_cast<long>(n));
    auto r = decode_module(cut);
    if (r.ok()) {
      // Only a cut at a section boundary leaves a (smaller) valid module.
      EXPECT_EQ(encode_module(r.value()), cut) << "prefix of " << n << " bytes";
      EXPECT_LT(r->functions.size() + r->exports.size() + r->events.size(), 8u);
      continue;
    }
    EXPECT_LE(r.error().offset, n) << r.error().to_string();
    EXPECT_FALSE(r.error().message.empty());
  }
}

TEST(ModuleFormat, BareHeaderIsAnEmptyModule) {
  std::vector<uint8_t> b = {'W', 'R', 'I', 'T', 1, 0, 0, 0};
  auto r = decode_module(b);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->functions.empty());
  EXPECT_EQ(encode_module(r.value()), b);
}

TEST(ModuleFormat, TrailingBytesAndUnknownSectionsAreRejected) {
  auto bytes = assemble_bytes(kSample);
  auto b = bytes;
  b.push_back(0);
  auto r = decode_module(b);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().offset, bytes.size());

  b = bytes;
  b.insert(b.end(), {7, 1, 0, 0, 0, 0});  // section 7 does not exist
  r = decode_module(b);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("unknown section id 7"), std::string::npos);
  EXPECT_EQ(r.error().offset, bytes.size());
}

TEST(ModuleFormat, SectionSizePastEndIsRejected) {
  auto bytes = assemble_bytes(kSample);
  // First section header is at offset 8: id then u32 size.
  auto b = bytes;
  b[9] = 0xff;
  b[10] = 0xff;
  auto r = decode_module(b);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().offset, 9u);
  EXPECT_NE(r.error().message.find("past the end"), std::string::npos);
}

TEST(ModuleFormat, HugeCountsFailBeforeAllocating) {
  // Header + a constants section that claims 2^32-1 constants.
  std::vector<uint8_t> b = {'W', 'R', 'I', 'T', 1, 0, 0, 0, 1, 4, 0, 0, 0, 0xff, 0xff, 0xff, 0xff};
  auto r = decode_module(b);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().offset, 13u);
  EXPECT_NE(r.error().message.find("exceeds the limit"), std::string::npos);
}

TEST(ModuleFormat, OversizedModuleIsRejected) {
  std::vector<uint8_t> b(kMaxModuleSize + 1, 0);
  auto r = decode_module(b);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("exceeds the limit"), std::string::npos);
}

TEST(ModuleFormat, WrongSelectorIsRejected) {
  auto m = assemble(kSample);
  ASSERT_TRUE(m.ok());
  m->exports[0].selector ^= 1;
  auto r = decode_module(encode_module(m.value()));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("does not match its signature"), std::string::npos);
}

TEST(ModuleFormat, DuplicateFunctionNamesAreRejected) {
  auto m = assemble(kSample);
  ASSERT_TRUE(m.ok());
  m->functions[1].name = "add";
  auto r = decode_module(encode_module(m.value()));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("duplicate function name add"), std::string::npos);
}

TEST(ModuleFormat, RandomCorruptionNeverCrashesAndAlwaysLocates) {
  auto bytes = assemble_bytes(kSample);
  std::mt19937_64 rng(42);
  int rejected = 0;
  for (int i = 0; i < 20000; ++i) {
    auto b = bytes;
    int flips = 1 + static_cast<int>(rng() % 4);
    for (int f = 0; f < flips; ++f) b[rng() % b.size()] = static_cast<uint8_t>(rng());
    auto r = decode_module(b);
    if (!r.ok()) {
      ++rejected;
      EXPECT_LE(r.error().offset, b.size());
      continue;
    }
    // Whatever decodes re-encodes to the same bytes, and verification either
    // succeeds or names a reason.
    EXPECT_EQ(encode_module(r.value()), b);
    auto v = verify(r.value(), code_hash(b));
    if (!v.ok()) {
      EXPECT_FALSE(v.error().message.empty());
    }
  }
  EXPECT_GT(rejected, 1000);
}

TEST(ModuleCacheTest, VerifiesOncePerCodeHash) {
  auto bytes = assemble_bytes(kSample);
  ModuleCache cache;
  auto a = cache.get(bytes);
  auto b = cache.get(bytes);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a.value().get(), b.value().get());
  EXPECT_EQ(cache.size(), 1u);
  auto bad = bytes;
  bad[0] = 0;
  EXPECT_FALSE(cache.get(bad).ok());
  EXPECT_EQ(cache.size(), 1u);
}

TEST(ModuleCacheTest, FindsAVerifiedModuleByItsCodeHashOnly) {
  auto bytes = assemble_bytes(kSample);
  ModuleCache cache;
  EXPECT_EQ(cache.find(code_hash(bytes)), nullptr);  // not verified yet
  auto a = cache.get(bytes);
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(cache.find(code_hash(bytes)).get(), a.value().get());
  auto other = bytes;
  other.push_back(0);
  EXPECT_EQ(cache.find(code_hash(other)), nullptr);
}

}  // namespace
}  // namespace writ::vm::test
