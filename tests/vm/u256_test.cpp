// Tests for writ::vm::U256.
//
// Three tiers:
//  1. Differential: every operation against Boost.Multiprecision on a fixed edge
//     set crossed pairwise and on thousands of fixed-seed random operands. The
//     reference values are built from limbs independently of the code under
//     test; signed and checked forms are judged with exact arbitrary-precision
//     (cpp_int) math, including the overflow flag.
//  2. Published vectors (Yellow Paper, ethereum/tests, EIP-145, evm.codes), cited
//     at each use.
//  3. Text and byte conversions: round trips, byte order, rejections.
#include "writ/vm/u256.hpp"
#include "writ/vm/u256_boost.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include <boost/multiprecision/cpp_int.hpp>

namespace writ::vm {
// Lets gtest print a failing U256 as hex.
void PrintTo(const U256& x, std::ostream* os) {
  *os << to_hex_string(x);
}
}  // namespace writ::vm

namespace {

using namespace writ::vm;
namespace bmp = boost::multiprecision;

using Big = bmp::cpp_int;  // exact, signed, unbounded
using BoostU512 =
    bmp::number<bmp::cpp_int_backend<512, 512, bmp::unsigned_magnitude, bmp::unchecked, void>>;

const Big kTwo64 = Big(1) << 64;
const Big kTwo255 = Big(1) << 255;
const Big kTwo256 = Big(1) << 256;

// --- Reference conversions, independent of the code under test -------------

// Unsigned value of x.
Big big(const U256& x) {
  Big r = 0;
  for (int i = 3; i >= 0; --i) r = (r << 64) + Big(x.limb[i]);
  return r;
}

// Two's complement signed value of x.
Big sbig(const U256& x) {
  const Big v = big(x);
  return v >= kTwo255 ? v - kTwo256 : v;
}

// v mod 2^256 (also for negative v).
U256 u(Big v) {
  v %= kTwo256;
  if (v < 0) v += kTwo256;
  U256 r{};
  for (int i = 0; i < 4; ++i) r.limb[i] = static_cast<uint64_t>((v >> (64 * i)) % kTwo64);
  return r;
}

// Parses a Boost-syntax literal ("0x..." or decimal), possibly negative.
U256 lit(const char* text) {
  const bool negative = text[0] == '-';
  const Big magnitude(negative ? text + 1 : text);
  return u(negative ? Big(-magnitude) : magnitude);
}

bool in_unsigned_range(const Big& v) {
  return v >= 0 && v < kTwo256;
}
bool in_signed_range(const Big& v) {
  return v >= -kTwo255 && v < kTwo255;
}

std::string hex(const U256& x) {
  return "0x" + big(x).str(0, std::ios_base::hex);
}

BoostU256 boost_of(const U256& x) {
  return BoostU256(big(x));
}
U256 from_ref(const BoostU256& x) {
  return u(Big(x));
}
U256 from_ref(const BoostU512& x) {
  return u(Big(x));
}

// --- Operand sets ----------------------------------------------------------

const std::vector<U256>& edge_values() {
  static const std::vector<U256> values = [] {
    const char* const texts[] = {
        "0",
        "1",
        "2",
        "3",
        "10",
        "0x7fffffffffffffff",                                                  // 2^63 - 1
        "0x8000000000000000",                                                  // 2^63
        "0xffffffffffffffff",                                                  // 2^64 - 1
        "0x10000000000000000",                                                 // 2^64
        "0x80000000000000000000000000000000",                                  // 2^127
        "0xffffffffffffffffffffffffffffffff",                                  // 2^128 - 1
        "0x100000000000000000000000000000000",                                 // 2^128
        "0x1000000000000000000000000000000000000000000000000",                 // 2^192
        "0xffffffffffffffffffffffffffffffffffffffffffffffff",                  // 2^192 - 1
        "0x7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",  // 2^255 - 1
        "0x8000000000000000000000000000000000000000000000000000000000000000",  // MIN
        "0x8000000000000000000000000000000000000000000000000000000000000001",  // MIN + 1
        "0xfffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe",  // -2
        "0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",  // -1
        // one limb set
        "0xdeadbeefcafebabe0000000000000000",
        "0x123456789abcdef000000000000000000000000000000000",
        "0x0f1e2d3c4b5a69780000000000000000000000000000000000000000000000000",
        // alternating bit patterns
        "0xaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "0x5555555555555555555555555555555555555555555555555555555555555555",
        "0xf0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0f0",
        "0x00000000ffffffff00000000ffffffff00000000ffffffff00000000ffffffff",
    };
    std::vector<U256> out;
    for (const char* t : texts) out.push_back(lit(t));
    return out;
  }();
  return values;
}

U256 low_bits(U256 x, unsigned bits) {
  for (unsigned i = 0; i < 4; ++i) {
    const unsigned lo = i * 64;
    if (bits <= lo) {
      x.limb[i] = 0;
    } else if (bits < lo + 64) {
      x.limb[i] &= (uint64_t{1} << (bits - lo)) - 1;
    }
  }
  return x;
}

// Mixed magnitudes: small values, values straddling limb boundaries, values
// next to edges, negatives and sparse patterns are all common.
U256 random_value(std::mt19937_64& rng) {
  const U256 raw{{rng(), rng(), rng(), rng()}};
  switch (rng() % 6) {
    case 0:  // random bit length 0..256
      return low_bits(raw, static_cast<unsigned>(rng() % 257));
    case 1:  // random limb count 0..4
      return low_bits(raw, static_cast<unsigned>(rng() % 5) * 64);
    case 2: {  // an edge value plus a small delta
      const auto& edges = edge_values();
      const int delta = static_cast<int>(rng() % 7) - 3;
      return u(big(edges[rng() % edges.size()]) + delta);
    }
    case 3:  // negative of a random bit length value
      return u(-big(low_bits(raw, static_cast<unsigned>(rng() % 257))));
    case 4: {  // sparse limbs
      U256 r{};
      const uint64_t choices[] = {0, 1, ~uint64_t{0}, uint64_t{1} << 63, rng()};
      for (auto& l : r.limb) l = choices[rng() % 5];
      return r;
    }
    default: {  // 2^k or 2^k - 1
      const unsigned k = static_cast<unsigned>(rng() % 256);
      return u((Big(1) << k) - Big(rng() % 2));
    }
  }
}

constexpr int kRandomCases = 5000;

// Every edge pair plus kRandomCases random pairs.
const std::vector<std::pair<U256, U256>>& operand_pairs() {
  static const std::vector<std::pair<U256, U256>> pairs = [] {
    std::vector<std::pair<U256, U256>> out;
    for (const U256& a : edge_values()) {
      for (const U256& b : edge_values()) out.emplace_back(a, b);
    }
    std::mt19937_64 rng(0x5772697455323536);  // fixed seed: "WritU256"
    for (int i = 0; i < kRandomCases; ++i) {
      const U256 a = random_value(rng);
      out.emplace_back(a, random_value(rng));
    }
    return out;
  }();
  return pairs;
}

const std::vector<std::array<U256, 3>>& operand_triples() {
  static const std::vector<std::array<U256, 3>> triples = [] {
    std::vector<std::array<U256, 3>> out;
    for (const U256& a : edge_values()) {
      for (const U256& b : edge_values()) {
        for (const U256& c : edge_values()) out.push_back({a, b, c});
      }
    }
    std::mt19937_64 rng(0x7472697031323335);
    for (int i = 0; i < kRandomCases; ++i) {
      const U256 a = random_value(rng);
      const U256 b = random_value(rng);
      out.push_back({a, b, random_value(rng)});
    }
    return out;
  }();
  return triples;
}

// ===========================================================================
// Representation and bridges

TEST(U256, LayoutIsFourLittleEndianLimbs) {
  static_assert(sizeof(U256) == 32);
  static_assert(std::is_trivially_copyable_v<U256> && std::is_standard_layout_v<U256>);
  const U256 x = lit("0x0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20");
  EXPECT_EQ(x.limb[0], 0x191a1b1c1d1e1f20u);
  EXPECT_EQ(x.limb[3], 0x0102030405060708u);
  uint64_t slots[4];
  std::memcpy(slots, &x, sizeof x);
  U256 back;
  std::memcpy(&back, slots, sizeof back);
  EXPECT_EQ(back, x);
}

TEST(U256, ConstructorsAndPredicatesMatchDefinitions) {
  EXPECT_EQ(big(U256::zero()), 0);
  EXPECT_EQ(big(U256::max()), kTwo256 - 1);
  EXPECT_EQ(big(U256::signed_min()), kTwo255);
  EXPECT_EQ(big(U256::signed_max()), kTwo255 - 1);
  EXPECT_EQ(big(U256::from_u64(~uint64_t{0})), kTwo64 - 1);
  EXPECT_EQ(sbig(U256::from_i64(-5)), -5);
  EXPECT_EQ(sbig(U256::from_i64(std::numeric_limits<int64_t>::min())),
            Big(std::numeric_limits<int64_t>::min()));
  EXPECT_EQ(U256::from_i64(7), U256::from_u64(7));
  for (const auto& [a, b] : operand_pairs()) {
    const Big v = big(a);
    EXPECT_EQ(a.is_zero(), v == 0) << hex(a);
    EXPECT_EQ(a.fits_u64(), v < kTwo64) << hex(a);
    EXPECT_EQ(a.low64(), static_cast<uint64_t>(v % kTwo64)) << hex(a);
    EXPECT_EQ(a.is_negative(), sbig(a) < 0) << hex(a);
    EXPECT_EQ(a == b, v == big(b)) << hex(a) << " " << hex(b);
    EXPECT_EQ(a != b, v != big(b)) << hex(a) << " " << hex(b);
  }
}

TEST(U256, InlineOperationsAreConstexpr) {
  static_assert(add(U256::max(), U256::from_u64(1)) == U256::zero());
  static_assert(sub(U256::zero(), U256::from_u64(1)) == U256::max());
  static_assert(lt(U256::from_u64(1), U256::signed_min()));
  static_assert(slt(U256::signed_min(), U256::from_u64(1)));
  constexpr U256 kShifted = shl(U256::from_u64(1), 200);
  EXPECT_EQ(big(kShifted), Big(1) << 200);
}

TEST(U256, BoostBridgesRoundTrip) {
  for (const auto& [a, b] : operand_pairs()) {
    EXPECT_EQ(Big(to_boost(a)), big(a)) << hex(a);
    EXPECT_EQ(from_boost(boost_of(a)), a) << hex(a);
    EXPECT_EQ(from_boost(to_boost(b)), b) << hex(b);
  }
}

// ===========================================================================
// Wrapping arithmetic

TEST(U256, AddMatchesBoostWrapping) {
  for (const auto& [a, b] : operand_pairs()) {
    EXPECT_EQ(add(a, b), from_ref(boost_of(a) + boost_of(b))) << hex(a) << " " << hex(b);
  }
}

TEST(U256, AddWrapsAtTwoTo256) {
  EXPECT_EQ(add(U256::max(), U256::from_u64(1)), U256::zero());
  EXPECT_EQ(add(U256::max(), U256::max()), lit("-2"));
  EXPECT_EQ(add(lit("0xffffffffffffffff"), U256::from_u64(1)), lit("0x10000000000000000"));
}

TEST(U256, SubMatchesBoostWrapping) {
  for (const auto& [a, b] : operand_pairs()) {
    EXPECT_EQ(sub(a, b), from_ref(boost_of(a) - boost_of(b))) << hex(a) << " " << hex(b);
    EXPECT_EQ(neg(a), u(-big(a))) << hex(a);
  }
  EXPECT_EQ(sub(U256::zero(), U256::from_u64(1)), U256::max());
}

TEST(U256, MulMatchesBoostWrapping) {
  for (const auto& [a, b] : operand_pairs()) {
    EXPECT_EQ(mul(a, b), from_ref(boost_of(a) * boost_of(b))) << hex(a) << " " << hex(b);
  }
  EXPECT_EQ(mul(U256::signed_min(), U256::from_u64(2)), U256::zero());
}

// ===========================================================================
// Checked arithmetic

TEST(U256, UnsignedCheckedOpsFlagExactlyTheOverflows) {
  int overflows[3] = {0, 0, 0};
  for (const auto& [a, b] : operand_pairs()) {
    const Big exact[3] = {big(a) + big(b), big(a) - big(b), big(a) * big(b)};
    bool ok[3];
    U256 out[3];
    ok[0] = add_checked(a, b, out[0]);
    ok[1] = sub_checked(a, b, out[1]);
    ok[2] = mul_checked(a, b, out[2]);
    for (int op = 0; op < 3; ++op) {
      EXPECT_EQ(ok[op], in_unsigned_range(exact[op])) << op << ": " << hex(a) << " " << hex(b);
      if (ok[op] && in_unsigned_range(exact[op])) {
        EXPECT_EQ(out[op], u(exact[op])) << op << ": " << hex(a) << " " << hex(b);
      }
      overflows[op] += ok[op] ? 0 : 1;
    }
  }
  // The operand mix must exercise both outcomes of every checked op.
  for (int op = 0; op < 3; ++op) EXPECT_GT(overflows[op], 100) << op;
}

TEST(U256, MulCheckedIsExactAtTheBoundary) {
  U256 out;
  // (2^128 - 1)^2 = 2^256 - 2^129 + 1 fits; 2^128 * 2^128 does not.
  EXPECT_TRUE(mul_checked(lit("0xffffffffffffffffffffffffffffffff"),
                          lit("0xffffffffffffffffffffffffffffffff"), out));
  EXPECT_EQ(big(out), (kTwo256 >> 128) * (kTwo256 >> 128) - (Big(1) << 129) + 1);
  EXPECT_FALSE(mul_checked(lit("0x100000000000000000000000000000000"),
                           lit("0x100000000000000000000000000000000"), out));
  // 2^255 * 2 = 2^256 overflows by exactly one.
  EXPECT_FALSE(mul_checked(U256::signed_min(), U256::from_u64(2), out));
  EXPECT_TRUE(mul_checked(U256::max(), U256::from_u64(1), out));
  EXPECT_EQ(out, U256::max());
}

TEST(U256, SignedCheckedOpsFlagExactlyTheOverflows) {
  int overflows[3] = {0, 0, 0};
  for (const auto& [a, b] : operand_pairs()) {
    const Big exact[3] = {sbig(a) + sbig(b), sbig(a) - sbig(b), sbig(a) * sbig(b)};
    bool ok[3];
    U256 out[3];
    ok[0] = sadd_checked(a, b, out[0]);
    ok[1] = ssub_checked(a, b, out[1]);
    ok[2] = smul_checked(a, b, out[2]);
    for (int op = 0; op < 3; ++op) {
      EXPECT_EQ(ok[op], in_signed_range(exact[op])) << op << ": " << hex(a) << " " << hex(b);
      if (ok[op] && in_signed_range(exact[op])) {
        EXPECT_EQ(sbig(out[op]), exact[op]) << op << ": " << hex(a) << " " << hex(b);
      }
      overflows[op] += ok[op] ? 0 : 1;
    }
  }
  for (int op = 0; op < 3; ++op) EXPECT_GT(overflows[op], 100) << op;
}

TEST(U256, SignedCheckedBoundaries) {
  U256 out;
  const U256 min = U256::signed_min();
  const U256 minus_one = U256::max();
  EXPECT_FALSE(sadd_checked(U256::signed_max(), U256::from_u64(1), out));
  EXPECT_TRUE(sadd_checked(min, U256::signed_max(), out));
  EXPECT_EQ(out, minus_one);
  EXPECT_FALSE(ssub_checked(min, U256::from_u64(1), out));
  EXPECT_FALSE(ssub_checked(U256::zero(), min, out));  // -(-2^255) = 2^255
  EXPECT_TRUE(ssub_checked(minus_one, min, out));
  EXPECT_EQ(out, U256::signed_max());
  EXPECT_FALSE(smul_checked(min, minus_one, out));
  EXPECT_TRUE(
      smul_checked(lit("-0x4000000000000000000000000000000000000000000000000000000000000000"),
                   U256::from_u64(2), out));  // -2^254 * 2 = MIN exactly
  EXPECT_EQ(out, min);
  EXPECT_FALSE(
      smul_checked(lit("0x4000000000000000000000000000000000000000000000000000000000000000"),
                   U256::from_u64(2), out));  // 2^254 * 2 = 2^255 > MAX
}

// ===========================================================================
// Division

TEST(U256, DivModMatchBoost) {
  for (const auto& [a, b] : operand_pairs()) {
    if (b.is_zero()) continue;
    const U256 q = from_ref(boost_of(a) / boost_of(b));
    const U256 r = from_ref(boost_of(a) % boost_of(b));
    EXPECT_EQ(div(a, b), q) << hex(a) << " " << hex(b);
    EXPECT_EQ(mod(a, b), r) << hex(a) << " " << hex(b);
    U256 q2, r2;
    divmod(a, b, q2, r2);
    EXPECT_EQ(q2, q) << hex(a) << " " << hex(b);
    EXPECT_EQ(r2, r) << hex(a) << " " << hex(b);
  }
}

// Limbs drawn from values that sit on the decision boundaries of Knuth's
// Algorithm D (trial quotient of 2^64, qhat correction, the rare add-back step).
TEST(U256, DivisionHandlesKnuthCornerCases) {
  const uint64_t top = uint64_t{1} << 63;
  const uint64_t parts[] = {0, 1, top - 1, top, ~uint64_t{0} - 1, ~uint64_t{0}};
  std::vector<U256> values;
  for (uint64_t l3 : parts) {
    for (uint64_t l2 : parts) {
      for (uint64_t l1 : parts) {
        for (uint64_t l0 : parts) values.push_back(U256{{l0, l1, l2, l3}});
      }
    }
  }
  for (size_t i = 0; i < values.size(); i += 3) {
    const U256& b = values[i];
    if (b.is_zero()) continue;
    for (const U256& a : values) {
      U256 q, r;
      divmod(a, b, q, r);
      // Division identity a = q*b + r with r < b, checked exactly.
      ASSERT_EQ(big(q) * big(b) + big(r), big(a)) << hex(a) << " " << hex(b);
      ASSERT_LT(big(r), big(b)) << hex(a) << " " << hex(b);
    }
  }
}

// Operands that make Algorithm D take step D6 (add back), which random
// operands reach with probability ~2^-63 per quotient digit. Found by searching
// structured operands with an instrumented build; the corner-case tests above
// take that step a few thousand times as well.
TEST(U256, DivisionAddBackStep) {
  const U256 cases[][2] = {
      {lit("0x80000000ffffffff00000000ffffffffffff000000000001ffffffff"),
       lit("0x80000000ffffffff00000000ffffffffffffffff00000001")},
      {lit("0x7fffffff00000000000000000000000000000001ffff000000000000"),
       lit("0x8000000000000000000000000000000080000000ffffffff")},
      {lit("0x8000000000000000000000000000000000000000000000000000000000000000"),
       lit("0x800000000000000000000000000000000000000000000001")},
  };
  for (const auto& c : cases) {
    U256 q, r;
    divmod(c[0], c[1], q, r);
    EXPECT_EQ(big(q), big(c[0]) / big(c[1])) << hex(c[0]) << " " << hex(c[1]);
    EXPECT_EQ(big(r), big(c[0]) % big(c[1])) << hex(c[0]) << " " << hex(c[1]);
  }
}

// Division by precomputed reciprocals (Möller and Granlund): a partial
// remainder whose top two limbs equal the divisor's takes the path that
// starts from the largest digit (the 3-by-2 step needs them below); divisors
// of one limb take the 2-by-1 path; the same divisor many times in a row
// reuses its cached reciprocal, and a different one must not.
TEST(U256, ReciprocalDivisionMatchesBoost) {
  std::mt19937_64 rng(20261204);
  for (int i = 0; i < 20000; ++i) {
    // (d2, d1, d0) with the top bit of d2 set or not, and a dividend
    // (d2, d1, r0 < d0, x): its second quotient digit meets the equal top limbs.
    const uint64_t d2 = rng() | (i % 2 ? uint64_t{1} << 63 : 0);
    const uint64_t d1 = i % 3 ? rng() : ~uint64_t{0};
    const uint64_t d0 = (rng() | 1) & (i % 5 ? ~uint64_t{0} : 0xff);
    const U256 b{{d0, d1, d2, 0}};
    const U256 a{{rng(), d0 > 0 ? rng() % d0 : 0, d1, d2}};
    U256 q, r;
    divmod(a, b, q, r);
    ASSERT_EQ(q, from_ref(boost_of(a) / boost_of(b))) << hex(a) << " " << hex(b);
    ASSERT_EQ(r, from_ref(boost_of(a) % boost_of(b))) << hex(a) << " " << hex(b);
    // One-limb divisors, normalized or not, under 512-bit products.
    const U256 x{{rng(), rng(), rng(), rng()}}, y{{rng(), rng(), rng(), rng() >> (i % 64)}};
    const U256 m1 = U256::from_u64((rng() >> (i % 64)) | 1);
    const BoostU512 product = BoostU512(big(x)) * BoostU512(big(y));
    ASSERT_EQ(mulmod(x, y, m1), from_ref(BoostU512(product % BoostU512(big(m1)))));
    // Several divisions by one modulus, then by another of the same top limbs.
    const U256 m4{{rng(), rng(), rng(), rng() | 1}};
    const U256 m4b{{m4.limb[0] ^ 1, m4.limb[1], m4.limb[2], m4.limb[3]}};
    for (const U256& m : {m4, m4, m4b, m4}) {
      ASSERT_EQ(mulmod(x, y, m), from_ref(BoostU512(product % BoostU512(big(m)))))
          << hex(x) << " " << hex(y) << " " << hex(m);
    }
  }
}

// mulmod divides a product of up to 8 limbs: the same corner limbs, longer dividends.
TEST(U256, MulmodHandlesKnuthCornerCases) {
  const uint64_t top = uint64_t{1} << 63;
  const uint64_t parts[] = {0, 1, top - 1, top, ~uint64_t{0} - 1, ~uint64_t{0}};
  std::vector<U256> values;
  for (uint64_t l3 : parts) {
    for (uint64_t l2 : parts) {
      for (uint64_t l1 : parts) {
        for (uint64_t l0 : parts) values.push_back(U256{{l0, l1, l2, l3}});
      }
    }
  }
  for (size_t i = 0; i < values.size(); i += 37) {
    for (size_t j = 0; j < values.size(); j += 29) {
      const BoostU512 product = BoostU512(big(values[i])) * BoostU512(big(values[j]));
      for (size_t k = 1; k < values.size(); k += 13) {
        const U256& m = values[k];
        ASSERT_EQ(mulmod(values[i], values[j], m), from_ref(BoostU512(product % BoostU512(big(m)))))
            << hex(values[i]) << " " << hex(values[j]) << " " << hex(m);
      }
    }
  }
}

TEST(U256, SdivTruncatesTowardZero) {
  // The reference relies on cpp_int truncating like C++; pin that down first.
  ASSERT_EQ(Big(-7) / 2, -3);
  ASSERT_EQ(Big(-7) % 2, -1);
  int overflows = 0;
  for (const auto& [a, b] : operand_pairs()) {
    if (b.is_zero()) continue;
    const Big exact = sbig(a) / sbig(b);
    U256 out;
    const bool ok = sdiv(a, b, out);
    EXPECT_EQ(ok, in_signed_range(exact)) << hex(a) << " " << hex(b);
    EXPECT_EQ(out, u(exact)) << hex(a) << " " << hex(b);  // also MIN for MIN / -1
    overflows += ok ? 0 : 1;
  }
  EXPECT_GT(overflows, 0);
}

TEST(U256, SmodTakesTheSignOfTheDividend) {
  for (const auto& [a, b] : operand_pairs()) {
    if (b.is_zero()) continue;
    EXPECT_EQ(smod(a, b), u(sbig(a) % sbig(b))) << hex(a) << " " << hex(b);
  }
  EXPECT_EQ(smod(U256::signed_min(), U256::max()), U256::zero());
}

// ===========================================================================
// Exponentiation and modular arithmetic

TEST(U256, ExpMatchesBoostPowm) {
  ASSERT_EQ(bmp::powm(Big(0), Big(0), kTwo256), 1);  // reference agrees on 0^0
  for (const auto& [a, b] : operand_pairs()) {
    EXPECT_EQ(exp(a, b), u(bmp::powm(big(a), big(b), kTwo256))) << hex(a) << " " << hex(b);
  }
}

// Exact reference for exp_checked: base^e for e < 256; base >= 2 with e >= 256
// certainly overflows since base^e >= 2^e.
bool exact_power(const U256& base, const U256& e, Big& value) {
  if (e.is_zero()) {
    value = 1;
  } else if (big(base) <= 1) {
    value = big(base);
  } else if (big(e) >= 256) {
    return false;
  } else {
    value = bmp::pow(big(base), static_cast<unsigned>(e.limb[0]));
  }
  return value < kTwo256;
}

TEST(U256, ExpCheckedMatchesExactPower) {
  std::vector<std::pair<U256, U256>> cases = operand_pairs();
  // Sweep small and boundary bases across every exponent near the overflow line.
  std::vector<U256> bases;
  for (uint64_t b = 0; b <= 20; ++b) bases.push_back(U256::from_u64(b));
  for (const char* t : {"255", "256", "0xffffffff", "0x100000000", "0xffffffffffffffff",
                        "0x10000000000000000", "0x1fffffffffffff", "0x200000000000000000000",
                        "0x7fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"}) {
    bases.push_back(lit(t));
  }
  for (const U256& base : bases) {
    for (uint64_t e = 0; e <= 260; ++e) cases.emplace_back(base, U256::from_u64(e));
  }
  int overflows = 0, exact = 0;
  for (const auto& [base, e] : cases) {
    Big expected;
    const bool expected_ok = exact_power(base, e, expected);
    U256 out;
    const bool ok = exp_checked(base, e, out);
    EXPECT_EQ(ok, expected_ok) << hex(base) << " " << hex(e);
    if (ok && expected_ok) {
      EXPECT_EQ(big(out), expected) << hex(base) << " " << hex(e);
      // An exact result must agree with the wrapping form.
      EXPECT_EQ(out, exp(base, e)) << hex(base) << " " << hex(e);
    }
    (ok ? exact : overflows) += 1;
  }
  EXPECT_GT(overflows, 100);
  EXPECT_GT(exact, 100);
  U256 out;
  EXPECT_TRUE(exp_checked(U256::from_u64(2), U256::from_u64(255), out));
  EXPECT_EQ(out, U256::signed_min());
  EXPECT_FALSE(exp_checked(U256::from_u64(2), U256::from_u64(256), out));
  EXPECT_TRUE(exp_checked(U256::max(), U256::from_u64(1), out));
  EXPECT_FALSE(exp_checked(U256::max(), U256::from_u64(2), out));
}

TEST(U256, AddmodMulmodMatchBoost512) {
  for (const auto& [a, b, m] : operand_triples()) {
    if (m.is_zero()) continue;
    const BoostU512 wa(big(a)), wb(big(b)), wm(big(m));
    EXPECT_EQ(addmod(a, b, m), from_ref(BoostU512((wa + wb) % wm)))
        << hex(a) << " " << hex(b) << " " << hex(m);
    EXPECT_EQ(mulmod(a, b, m), from_ref(BoostU512((wa * wb) % wm)))
        << hex(a) << " " << hex(b) << " " << hex(m);
  }
}

// Two-limb divisors take their own path (the dividend's length a constant,
// the top digit by a comparison when the normalized top limb is 0): every
// dividend length, divisors with and without their top bit set, and top
// windows at, just below and just above the divisor.
TEST(U256, TwoLimbDivisorsMatchBoost512) {
  std::mt19937_64 rng(2024);
  std::vector<U256> moduli;
  for (int i = 0; i < 64; ++i) {
    U256 m = U256::zero();
    m.limb[1] = i < 16 ? (rng() | (uint64_t{1} << 63)) : (rng() >> (rng() % 63));
    if (m.limb[1] == 0) m.limb[1] = 1;
    m.limb[0] = i % 4 == 0 ? ~uint64_t{0} : (i % 4 == 1 ? 0 : rng());
    moduli.push_back(m);
  }
  moduli.push_back(U256{{~uint64_t{0}, ~uint64_t{0}, 0, 0}});
  moduli.push_back(U256{{~uint64_t{0}, ~uint64_t{0} >> 1, 0, 0}});
  moduli.push_back(U256{{0, uint64_t{1} << 63, 0, 0}});
  for (const U256& m : moduli) {
    const BoostU512 wm(big(m));
    for (int k = 0; k < 300; ++k) {
      U256 a = U256::zero(), b = U256::zero();
      const int la = 1 + static_cast<int>(rng() % 4), lb = 1 + static_cast<int>(rng() % 4);
      for (int i = 0; i < la; ++i) a.limb[i] = rng();
      for (int i = 0; i < lb; ++i) b.limb[i] = rng();
      if (k % 10 == 0) a = m;                                         // a window equal to m
      if (k % 10 == 1) a = sub(m, U256::from_u64(1));                 // just below
      if (k % 10 == 2) a = add(m, U256::from_u64(1 + rng() % 1000));  // just above
      if (k % 10 == 3) a = sub(mul(m, U256::from_u64(2)), U256::from_u64(1));
      if (k % 10 == 4) b = U256::from_u64(1);
      const BoostU512 wa(big(a)), wb(big(b));
      ASSERT_EQ(mulmod(a, b, m), from_ref(BoostU512((wa * wb) % wm)))
          << hex(a) << " " << hex(b) << " " << hex(m);
      ASSERT_EQ(div(a, m), from_ref(BoostU512(wa / wm))) << hex(a) << " / " << hex(m);
      ASSERT_EQ(mod(a, m), from_ref(BoostU512(wa % wm))) << hex(a) << " % " << hex(m);
    }
  }
}

// ===========================================================================
// Shifts, bitwise, comparisons

std::vector<uint64_t> shift_amounts(std::mt19937_64& rng) {
  std::vector<uint64_t> out;
  for (uint64_t n = 0; n <= 260; ++n) out.push_back(n);
  out.push_back(511);
  out.push_back(512);
  out.push_back(uint64_t{1} << 32);
  out.push_back(~uint64_t{0});
  out.push_back(rng());
  return out;
}

TEST(U256, ShiftsMatchBoost) {
  std::mt19937_64 rng(145);
  // Each value against ~265 shift counts: every edge value, every 8th random one.
  std::vector<U256> values = edge_values();
  const auto& pairs = operand_pairs();
  for (size_t i = 0; i < pairs.size(); i += 8) values.push_back(pairs[i].second);
  for (const U256& a : values) {
    for (const uint64_t n : shift_amounts(rng)) {
      const Big sa = sbig(a);
      Big expected_shl = 0, expected_shr = 0;
      Big expected_sar = sa < 0 ? -1 : 0;
      if (n < 256) {
        expected_shl = (big(a) << static_cast<unsigned>(n)) % kTwo256;
        expected_shr = big(a) >> static_cast<unsigned>(n);
        // Floor division by 2^n, written out so the reference does not depend
        // on how cpp_int rounds shifts of negative numbers.
        const Big p = Big(1) << static_cast<unsigned>(n);
        expected_sar = sa / p;
        if (sa < 0 && expected_sar * p != sa) expected_sar -= 1;
      }
      EXPECT_EQ(shl(a, n), u(expected_shl)) << hex(a) << " << " << n;
      EXPECT_EQ(shr(a, n), u(expected_shr)) << hex(a) << " >> " << n;
      EXPECT_EQ(sar(a, n), u(expected_sar)) << hex(a) << " sar " << n;
    }
  }
}

TEST(U256, BitwiseMatchBoost) {
  for (const auto& [a, b] : operand_pairs()) {
    const BoostU256 ba = boost_of(a), bb = boost_of(b);
    EXPECT_EQ(bit_and(a, b), from_ref(BoostU256(ba & bb))) << hex(a) << " " << hex(b);
    EXPECT_EQ(bit_or(a, b), from_ref(BoostU256(ba | bb))) << hex(a) << " " << hex(b);
    EXPECT_EQ(bit_xor(a, b), from_ref(BoostU256(ba ^ bb))) << hex(a) << " " << hex(b);
    EXPECT_EQ(bit_not(a), u(kTwo256 - 1 - big(a))) << hex(a);
  }
}

TEST(U256, UnsignedComparisonsMatchBoost) {
  for (const auto& [a, b] : operand_pairs()) {
    const Big x = big(a), y = big(b);
    EXPECT_EQ(lt(a, b), x < y) << hex(a) << " " << hex(b);
    EXPECT_EQ(le(a, b), x <= y) << hex(a) << " " << hex(b);
    EXPECT_EQ(gt(a, b), x > y) << hex(a) << " " << hex(b);
    EXPECT_EQ(ge(a, b), x >= y) << hex(a) << " " << hex(b);
  }
}

TEST(U256, SignedComparisonsMatchTwosComplement) {
  for (const auto& [a, b] : operand_pairs()) {
    const Big x = sbig(a), y = sbig(b);
    EXPECT_EQ(slt(a, b), x < y) << hex(a) << " " << hex(b);
    EXPECT_EQ(sle(a, b), x <= y) << hex(a) << " " << hex(b);
    EXPECT_EQ(sgt(a, b), x > y) << hex(a) << " " << hex(b);
    EXPECT_EQ(sge(a, b), x >= y) << hex(a) << " " << hex(b);
  }
  EXPECT_TRUE(slt(U256::signed_min(), U256::signed_max()));
  EXPECT_FALSE(lt(U256::signed_min(), U256::signed_max()));
}

TEST(U256, SignextendMatchesDefinition) {
  for (const auto& [a, unused] : operand_pairs()) {
    for (uint64_t b = 0; b <= 33; ++b) {
      Big expected = big(a);
      if (b < 31) {
        const unsigned width = static_cast<unsigned>(b) * 8 + 8;
        const Big low = big(a) % (Big(1) << width);
        expected = low >= (Big(1) << (width - 1)) ? low - (Big(1) << width) : low;
      }
      EXPECT_EQ(signextend(b, a), u(expected)) << b << " " << hex(a);
    }
    EXPECT_EQ(signextend(~uint64_t{0}, a), a);
  }
}

TEST(U256, ByteLengthMatchesMostSignificantBit) {
  EXPECT_EQ(byte_length(U256::zero()), 0u);
  EXPECT_EQ(bit_length(U256::zero()), 0u);
  for (const auto& [a, unused] : operand_pairs()) {
    if (a.is_zero()) continue;
    const unsigned bits = static_cast<unsigned>(bmp::msb(big(a))) + 1;
    EXPECT_EQ(bit_length(a), bits) << hex(a);
    EXPECT_EQ(byte_length(a), (bits + 7) / 8) << hex(a);
  }
}

// ===========================================================================
// Published vectors

U256 minus(uint64_t v) {
  return u(-Big(v));
}

TEST(U256, SdivVectorsFromEthereumTests) {
  // ethereum/tests src/GeneralStateTestsFiller/VMTests/vmArithmeticTest/sdivFiller.yml
  struct Case {
    U256 a, b, expected;
  };
  const U256 pow255 = U256::signed_min();
  const U256 maxint = U256::signed_max();
  const Case cases[] = {
      {U256::from_u64(1), minus(1), minus(1)},       // sdiv_1_neg1
      {minus(1), U256::from_u64(1), minus(1)},       // sdiv_neg1_1
      {minus(2), minus(4), U256::zero()},            // sdiv_neg2_neg4
      {U256::from_u64(4), minus(2), minus(2)},       // sdiv_4_neg2
      {U256::from_u64(5), minus(4), minus(1)},       // sdiv_5_neg4
      {minus(1), U256::from_u64(25), U256::zero()},  // sdiv_neg1_25
      {minus(1), minus(1), U256::from_u64(1)},       // sdiv_neg1_neg1
      {minus(9), U256::from_u64(5), minus(1)},       // sdiv_neg9_5
      {neg(maxint), minus(1), maxint},               // sdiv_minint_neg1
      {minus(1), neg(maxint), U256::zero()},         // sdiv_neg1_minint
  };
  for (const Case& c : cases) {
    U256 out;
    EXPECT_TRUE(sdiv(c.a, c.b, out)) << hex(c.a) << " " << hex(c.b);
    EXPECT_EQ(out, c.expected) << hex(c.a) << " " << hex(c.b);
  }
  // sdiv_2pow255_neg1: EVM yields 2^255 (== -2^255); Yellow Paper App. H.2 SDIV
  // special-cases it. We return the same bits and flag the overflow.
  U256 out;
  EXPECT_FALSE(sdiv(neg(pow255), minus(1), out));
  EXPECT_EQ(out, pow255);
  // evm.codes SDIV example: SDIV(-2, -1) = 2.
  EXPECT_TRUE(sdiv(minus(2), minus(1), out));
  EXPECT_EQ(out, U256::from_u64(2));
}

TEST(U256, SmodVectorsFromEthereumTests) {
  // ethereum/tests .../vmArithmeticTest/smodFiller.yml
  EXPECT_EQ(smod(U256::from_u64(2), U256::from_u64(3)), U256::from_u64(2));  // smod_2_3
  EXPECT_EQ(smod(minus(1), U256::from_u64(2)), minus(1));                    // smod_neg1_2
  EXPECT_EQ(smod(U256::zero(), minus(1)), U256::zero());                     // smod_0_neg1
  EXPECT_EQ(smod(minus(2), U256::from_u64(3)), minus(2));                    // smod_neg2_3
  // mulmodFiller.yml, mulmod_vs_smod: SMOD(-5, 3) differs from MULMOD(-5, 1, 3) = 2
  // (the filler's comment says -1, but truncation gives -5 = -1*3 - 2).
  EXPECT_NE(smod(minus(5), U256::from_u64(3)),
            mulmod(minus(5), U256::from_u64(1), U256::from_u64(3)));
  EXPECT_EQ(smod(minus(5), U256::from_u64(3)), minus(2));
  // Yellow Paper App. H.2 SMOD: sgn(a)(|a| mod |b|), so SMOD(-8, 3) = -2;
  // evm.codes example: SMOD(-8, -3) = -2.
  EXPECT_EQ(smod(minus(8), U256::from_u64(3)), minus(2));
  EXPECT_EQ(smod(minus(8), minus(3)), minus(2));
  // The one SMOD whose quotient overflows still has remainder 0.
  EXPECT_EQ(smod(U256::signed_min(), minus(1)), U256::zero());
}

TEST(U256, AddmodVectorsFromEthereumTests) {
  // ethereum/tests .../vmArithmeticTest/addmodFiller.yml
  const auto n = U256::from_u64;
  EXPECT_EQ(addmod(n(1), n(2), n(2)), n(1));          // addmod_1_2_2
  EXPECT_EQ(addmod(minus(1), minus(2), n(2)), n(1));  // addmod_neg1_neg2_2
  EXPECT_EQ(addmod(minus(6), n(1), n(3)), n(2));      // addmod_neg6_1_3
  EXPECT_EQ(addmod(n(4), n(1), minus(3)), n(5));      // addmod_4_1_neg3
  EXPECT_EQ(addmod(minus(1), n(0), n(5)), n(0));      // addmod_neg1_0_5
  EXPECT_EQ(addmod(minus(1), n(1), n(5)), n(1));      // addmod_neg1_1_5
  EXPECT_EQ(addmod(minus(1), n(2), n(5)), n(2));      // addmod_neg1_2_5
  EXPECT_EQ(addmod(minus(1), minus(2), n(5)), n(4));  // addmod_neg1_neg2_5
  EXPECT_EQ(addmod(U256::max(), n(1), n(5)), n(1));   // addmod_2_160_1_5
  // The sum 2(2^256 - 1) needs 257 bits; (2m) mod m = 0.
  EXPECT_EQ(addmod(U256::max(), U256::max(), U256::max()), n(0));
  // evm.codes ADDMOD example: (2^256 - 1 + 2) mod 2 = 1.
  EXPECT_EQ(addmod(U256::max(), n(2), n(2)), n(1));
}

TEST(U256, MulmodVectorsFromEthereumTests) {
  // ethereum/tests .../vmArithmeticTest/mulmodFiller.yml
  const auto n = U256::from_u64;
  const U256 pow255 = U256::signed_min();
  EXPECT_EQ(mulmod(n(1), n(2), n(2)), n(0));               // mm_1_2_2
  EXPECT_EQ(mulmod(minus(1), minus(2), n(3)), n(0));       // mm_neg1_neg2_3
  EXPECT_EQ(mulmod(minus(5), n(1), n(3)), n(2));           // mm_neg5_1_3
  EXPECT_EQ(mulmod(n(5), n(1), minus(3)), n(5));           // mm_5_1_neg3
  EXPECT_EQ(mulmod(n(27), n(37), n(100)), n(99));          // mm_27_37_100
  EXPECT_EQ(mulmod(pow255, n(2), n(5)), n(1));             // mm_2pow255_2_5
  EXPECT_EQ(mulmod(minus(1), n(2), n(5)), n(0));           // mm_neg1_2_5
  EXPECT_EQ(mulmod(sub(pow255, n(1)), n(2), n(5)), n(4));  // mm_2pow255min1_2_5
  EXPECT_EQ(mulmod(add(pow255, n(1)), n(2), n(5)), n(3));  // mm_2pow255plus1_2_5
  // evm.codes MULMOD example: (2^256-1)^2 mod 12 = 9 (2^256 - 1 = 3 mod 12).
  EXPECT_EQ(mulmod(U256::max(), U256::max(), n(12)), n(9));
}

TEST(U256, SignextendVectorsFromEthereumTests) {
  // ethereum/tests .../vmArithmeticTest/signextendFiller.yml. The VM passes a
  // byte index that does not fit in 64 bits as UINT64_MAX (any b >= 31 is a no-op).
  const uint64_t huge = ~uint64_t{0};
  EXPECT_EQ(signextend(80, lit("0x126af4")), lit("0x126af4"));            // invalid_byte
  EXPECT_EQ(signextend(0, U256::zero()), U256::zero());                   // zero_zero
  EXPECT_EQ(signextend(0, minus(1)), minus(1));                           // zero_neg1
  EXPECT_EQ(signextend(huge, minus(2)), minus(2));                        // neg2_neg2
  EXPECT_EQ(signextend(huge, minus(1)), minus(1));                        // neg1_neg1
  EXPECT_EQ(signextend(huge, lit("0xff")), lit("0xff"));                  // large_ff
  EXPECT_EQ(signextend(huge, U256::zero()), U256::zero());                // neg1_zero
  EXPECT_EQ(signextend(0, lit("0x122f6a")), lit("0x6a"));                 // bit_is_not_set
  EXPECT_EQ(signextend(1, lit("0x126af4")), lit("0x6af4"));               // bit_is_not_set_high
  EXPECT_EQ(signextend(1, lit("0x12faf4")), minus(1292));                 // bit_is_set_high
  EXPECT_EQ(signextend(huge, lit("0x8000")), lit("0x8000"));              // overflow_bytenum
  EXPECT_EQ(signextend(0xf0000000000001, lit("0xffff")), lit("0xffff"));  // overflow_bytenum2
  EXPECT_EQ(signextend(0, lit("0x122ff4")), minus(12));                   // bit_is_set (..fff4)
  EXPECT_EQ(signextend(31, U256::from_u64(1)), U256::from_u64(1));        // byte31_pos
  EXPECT_EQ(signextend(31, minus(1)), minus(1));                          // byte31_neg
  // evm.codes SIGNEXTEND examples.
  EXPECT_EQ(signextend(0, lit("0xff")), U256::max());
  EXPECT_EQ(signextend(0, lit("0x7f")), lit("0x7f"));
  // Yellow Paper App. H.2 SIGNEXTEND: bit 8b+7 is copied upward; b = 30 is the
  // widest extension (bit 247).
  EXPECT_EQ(
      signextend(30, lit("0x0080000000000000000000000000000000000000000000000000000000000000")),
      lit("0xff80000000000000000000000000000000000000000000000000000000000000"));
}

TEST(U256, ExpVectorsFromEthereumTests) {
  // ethereum/tests .../vmArithmeticTest/expFiller.yml
  const auto n = U256::from_u64;
  EXPECT_EQ(exp(n(2), n(2)), n(4));             // exp_2_2
  EXPECT_EQ(exp(minus(1), minus(2)), n(1));     // exp_neg1_neg2
  EXPECT_EQ(exp(n(2147483647), n(2147483647)),  // exp_big_big
            lit("0xbc8cccccccc888888880000000aaaaaab00000000fffffffffffffff7fffffff"));
  EXPECT_EQ(exp(n(0), n(2147483647)), n(0));            // exp_0_big
  EXPECT_EQ(exp(n(2147483647), n(0)), n(1));            // exp_big_0
  EXPECT_EQ(exp(n(257), n(1)), n(257));                 // exp_257_1
  EXPECT_EQ(exp(n(1), n(257)), n(1));                   // exp_1_257
  EXPECT_EQ(exp(n(2), n(257)), n(0));                   // exp_2_257
  EXPECT_EQ(exp(n(0), n(0)), n(1));                     // exp_0_0
  EXPECT_EQ(exp(n(2), lit("0x0100000000000f")), n(0));  // exp_2_big
  EXPECT_EQ(exp(n(2), n(15)), n(0x8000));               // exp_2_15
  // Yellow Paper App. H.2 EXP is a^b mod 2^256: 2^255 fits, 2^256 wraps to 0.
  EXPECT_EQ(exp(n(2), n(255)), U256::signed_min());
  EXPECT_EQ(exp(n(2), n(256)), n(0));
  // 3^161 < 2^256 < 3^162; checked form must see the boundary.
  U256 out;
  EXPECT_TRUE(exp_checked(n(3), n(161), out));
  EXPECT_EQ(big(out), bmp::pow(Big(3), 161));
  EXPECT_FALSE(exp_checked(n(3), n(162), out));
}

TEST(U256, ExpGasByteLengthVectors) {
  // Yellow Paper App. G/H: EXP costs G_expbyte per byte of the exponent,
  // 1 + floor(log256(e)) for e > 0.
  EXPECT_EQ(byte_length(U256::from_u64(1)), 1u);
  EXPECT_EQ(byte_length(U256::from_u64(255)), 1u);
  EXPECT_EQ(byte_length(U256::from_u64(256)), 2u);
  EXPECT_EQ(byte_length(lit("0x0100000000000f")), 7u);
  EXPECT_EQ(byte_length(U256::max()), 32u);
}

TEST(U256, ShiftVectorsFromEip145) {
  // EIP-145 "Bitwise shifting instructions in EVM", Test Cases section.
  const U256 one = U256::from_u64(1);
  const U256 all = U256::max();
  const U256 top = U256::signed_min();
  const U256 half_max = U256::signed_max();
  const U256 zero = U256::zero();
  EXPECT_EQ(shl(one, 0x00), one);
  EXPECT_EQ(shl(one, 0x01), U256::from_u64(2));
  EXPECT_EQ(shl(one, 0xff), top);
  EXPECT_EQ(shl(one, 0x100), zero);
  EXPECT_EQ(shl(one, 0x101), zero);
  EXPECT_EQ(shl(all, 0x00), all);
  EXPECT_EQ(shl(all, 0x01), minus(2));
  EXPECT_EQ(shl(all, 0xff), top);
  EXPECT_EQ(shl(all, 0x100), zero);
  EXPECT_EQ(shl(zero, 0x01), zero);
  EXPECT_EQ(shl(half_max, 0x01), minus(2));

  EXPECT_EQ(shr(one, 0x00), one);
  EXPECT_EQ(shr(one, 0x01), zero);
  EXPECT_EQ(shr(top, 0x01),
            lit("0x4000000000000000000000000000000000000000000000000000000000000000"));
  EXPECT_EQ(shr(top, 0xff), one);
  EXPECT_EQ(shr(top, 0x100), zero);
  EXPECT_EQ(shr(top, 0x101), zero);
  EXPECT_EQ(shr(all, 0x00), all);
  EXPECT_EQ(shr(all, 0x01), half_max);
  EXPECT_EQ(shr(all, 0xff), one);
  EXPECT_EQ(shr(all, 0x100), zero);
  EXPECT_EQ(shr(zero, 0x01), zero);

  EXPECT_EQ(sar(one, 0x00), one);
  EXPECT_EQ(sar(one, 0x01), zero);
  EXPECT_EQ(sar(top, 0x01),
            lit("0xc000000000000000000000000000000000000000000000000000000000000000"));
  EXPECT_EQ(sar(top, 0xff), all);
  EXPECT_EQ(sar(top, 0x100), all);
  EXPECT_EQ(sar(top, 0x101), all);
  EXPECT_EQ(sar(all, 0x00), all);
  EXPECT_EQ(sar(all, 0x01), all);
  EXPECT_EQ(sar(all, 0xff), all);
  EXPECT_EQ(sar(all, 0x100), all);
  EXPECT_EQ(sar(zero, 0x01), zero);
  EXPECT_EQ(sar(lit("0x4000000000000000000000000000000000000000000000000000000000000000"), 0xfe),
            one);
  EXPECT_EQ(sar(half_max, 0xf8), lit("0x7f"));
  EXPECT_EQ(sar(half_max, 0xfe), one);
  EXPECT_EQ(sar(half_max, 0xff), zero);
  EXPECT_EQ(sar(half_max, 0x100), zero);
}

// ===========================================================================
// Bytes and text

TEST(U256, BigEndianBytesRoundTripAndOrder) {
  const U256 x = lit("0x0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20");
  uint8_t bytes[32];
  to_be_bytes(x, bytes);
  for (int i = 0; i < 32; ++i) EXPECT_EQ(bytes[i], i + 1) << i;
  EXPECT_EQ(from_be_bytes(bytes), x);
  for (const auto& [a, unused] : operand_pairs()) {
    to_be_bytes(a, bytes);
    for (int i = 0; i < 32; ++i) {
      ASSERT_EQ(Big(bytes[i]), (big(a) >> (8 * (31 - i))) % 256) << hex(a) << " byte " << i;
    }
    EXPECT_EQ(from_be_bytes(bytes), a) << hex(a);
  }
}

TEST(U256, FormattingMatchesBoost) {
  EXPECT_EQ(to_hex_string(U256::zero()), "0x0");
  EXPECT_EQ(to_dec_string(U256::zero()), "0");
  EXPECT_EQ(to_signed_dec_string(U256::zero()), "0");
  EXPECT_EQ(to_hex_string(U256::from_u64(0xABC)), "0xabc");
  EXPECT_EQ(to_signed_dec_string(U256::max()), "-1");
  EXPECT_EQ(to_signed_dec_string(U256::signed_min()),
            "-57896044618658097711785492504343953926634992332820282019728792003956564819968");
  EXPECT_EQ(to_dec_string(U256::max()),
            "115792089237316195423570985008687907853269984665640564039457584007913129639935");
  for (const auto& [a, unused] : operand_pairs()) {
    std::string expected_hex = big(a).str(0, std::ios_base::hex);
    std::transform(expected_hex.begin(), expected_hex.end(), expected_hex.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    EXPECT_EQ(to_hex_string(a), "0x" + expected_hex);
    EXPECT_EQ(to_dec_string(a), big(a).str());
    EXPECT_EQ(to_signed_dec_string(a), sbig(a).str());
  }
}

TEST(U256, ParseRoundTripsEveryFormat) {
  for (const auto& [a, unused] : operand_pairs()) {
    EXPECT_EQ(parse_u256(to_dec_string(a)), a) << hex(a);
    EXPECT_EQ(parse_u256(to_signed_dec_string(a)), a) << hex(a);
    const std::string h = to_hex_string(a);
    EXPECT_EQ(parse_u256(h), a) << h;
    std::string upper = "0X" + h.substr(2);
    std::transform(upper.begin() + 2, upper.end(), upper.begin() + 2,
                   [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
    EXPECT_EQ(parse_u256(upper), a) << upper;
    // '_' separators every three digits.
    std::string dec = to_dec_string(a), grouped;
    for (size_t i = 0; i < dec.size(); ++i) {
      if (i != 0 && (dec.size() - i) % 3 == 0) grouped.push_back('_');
      grouped.push_back(dec[i]);
    }
    EXPECT_EQ(parse_u256(grouped), a) << grouped;
  }
}

TEST(U256, ParseAcceptsLiteralForms) {
  EXPECT_EQ(parse_u256("0"), U256::zero());
  EXPECT_EQ(parse_u256("-0"), U256::zero());
  EXPECT_EQ(parse_u256("123"), U256::from_u64(123));
  EXPECT_EQ(parse_u256("0x1F"), U256::from_u64(31));
  EXPECT_EQ(parse_u256("0X1f"), U256::from_u64(31));
  EXPECT_EQ(parse_u256("1_000_000"), U256::from_u64(1000000));
  EXPECT_EQ(parse_u256("0xdead_BEEF"), U256::from_u64(0xdeadbeef));
  EXPECT_EQ(parse_u256("-1"), U256::max());
  EXPECT_EQ(parse_u256("-0x10"), minus(16));
  EXPECT_EQ(parse_u256("007"), U256::from_u64(7));
  // The extremes: 2^256 - 1 and -2^255 are the last accepted values.
  EXPECT_EQ(
      parse_u256("115792089237316195423570985008687907853269984665640564039457584007913129639935"),
      U256::max());
  EXPECT_EQ(parse_u256("0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"),
            U256::max());
  EXPECT_EQ(parse_u256("0x0000ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"),
            U256::max());
  EXPECT_EQ(
      parse_u256("-57896044618658097711785492504343953926634992332820282019728792003956564819968"),
      U256::signed_min());
  EXPECT_EQ(parse_u256("-0x8000000000000000000000000000000000000000000000000000000000000000"),
            U256::signed_min());
}

TEST(U256, ParseRejectsMalformedAndOverflowingText) {
  const char* const bad[] = {
      "",
      "-",
      "0x",
      "-0x",
      "_",
      "0x_",
      "--1",
      "+1",
      " 1",
      "1 ",
      "12a",
      "0xg",
      "0x1-",
      "1.0",
      "1e3",
      "0b101",
      "x10",
      "-_",
      // 2^256
      "115792089237316195423570985008687907853269984665640564039457584007913129639936",
      "0x10000000000000000000000000000000000000000000000000000000000000000",
      // 10 * (2^256 - 1) style overflow in the middle of the digit loop
      "1157920892373161954235709850086879078532699846656405640394575840079131296399350",
      // -(2^255 + 1)
      "-57896044618658097711785492504343953926634992332820282019728792003956564819969",
      "-0x8000000000000000000000000000000000000000000000000000000000000001",
  };
  for (const char* text : bad) EXPECT_EQ(parse_u256(text), std::nullopt) << '"' << text << '"';
}

}  // namespace

namespace writ::vm {
namespace {

// muldiv against Boost's 512-bit arithmetic on random operands of mixed sizes.
TEST(U256, MulDivMatchesBoostWith512BitProduct) {
  using boost::multiprecision::uint512_t;
  std::mt19937_64 rng(7);
  auto rnd = [&]() {
    U256 x{};
    int limbs = static_cast<int>(rng() % 5);
    for (int i = 0; i < limbs; ++i) x.limb[i] = rng();
    return x;
  };
  auto big = [](const U256& x) { return uint512_t(to_boost(x)); };
  int overflowed = 0;
  for (int i = 0; i < 5000; ++i) {
    U256 a = rnd(), b = rnd(), d = rnd();
    if (d.is_zero()) d = U256::from_u64(1 + rng() % 1000);
    for (bool up : {false, true}) {
      U256 out;
      bool ok = muldiv(a, b, d, up, out);
      uint512_t p = big(a) * big(b);
      uint512_t q = p / big(d);
      if (up && p % big(d) != 0) q += 1;
      bool fits = q < (uint512_t(1) << 256);
      ASSERT_EQ(ok, fits) << i;
      if (fits) {
        EXPECT_EQ(big(out), q) << i;
      } else {
        ++overflowed;
      }
    }
  }
  EXPECT_GT(overflowed, 0);
}

}  // namespace
}  // namespace writ::vm
