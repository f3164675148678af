// writ::vm::U256 — the VM's 256-bit machine word.
//
// Contract:
//  1. A U256 is an unsigned integer in [0, 2^256). Every "wrapping" operation
//     returns its exact result reduced mod 2^256.
//  2. Signed operations (names starting with `s`, plus sar/signextend/is_negative)
//     read the same 256 bits as two's complement i256 in [-2^255, 2^255).
//     MIN denotes -2^255 (bit pattern 0x8000...0000).
//  3. `*_checked` functions return false when the exact mathematical result does
//     not fit the unsigned (or, for s*, signed) range; `out` is unspecified then.
//     They never throw.
//  4. REQUIRES preconditions (nonzero divisor / modulus) are the caller's job:
//     the interpreter traps on a zero divisor before calling. Violating them is
//     undefined behaviour (in practice a hardware divide trap).
//  5. Boost.Multiprecision (BoostU256) is the reference semantics; the tests in
//     tests/vm/u256_test.cpp compare every operation against it.
//
// Layout invariant: U256 is a standard-layout, trivially copyable aggregate of
// exactly four little-endian uint64_t limbs (limb[0] least significant) and
// nothing else, because the interpreter moves it through raw 8-byte register
// slots with memcpy.
//
// Thread safety: all functions are pure; U256 values carry no shared state.
//
// Hot, small operations are defined inline (and constexpr) here so the
// interpreter can inline them; division, exponentiation, modular arithmetic and
// text conversion live in u256.cpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>

namespace writ::vm {

namespace detail {
// GCC/Clang builtin; gives exact 64x64->128 products and add-with-carry chains.
__extension__ typedef unsigned __int128 uint128;
}  // namespace detail

struct U256 {
  uint64_t limb[4];  // little-endian: limb[0] is the least significant

  static constexpr U256 zero() { return {{0, 0, 0, 0}}; }
  static constexpr U256 from_u64(uint64_t v) { return {{v, 0, 0, 0}}; }
  // Two's complement sign extension of v (so from_i64(-1) == max()).
  static constexpr U256 from_i64(int64_t v) {
    const uint64_t fill = v < 0 ? ~uint64_t{0} : 0;
    return {{static_cast<uint64_t>(v), fill, fill, fill}};
  }
  static constexpr U256 max() { return {{~uint64_t{0}, ~uint64_t{0}, ~uint64_t{0}, ~uint64_t{0}}}; }
  // -2^255, the most negative i256.
  static constexpr U256 signed_min() { return {{0, 0, 0, uint64_t{1} << 63}}; }
  // 2^255 - 1, the most positive i256.
  static constexpr U256 signed_max() {
    return {{~uint64_t{0}, ~uint64_t{0}, ~uint64_t{0}, ~uint64_t{0} >> 1}};
  }

  constexpr bool is_zero() const { return (limb[0] | limb[1] | limb[2] | limb[3]) == 0; }
  constexpr bool fits_u64() const { return (limb[1] | limb[2] | limb[3]) == 0; }
  constexpr uint64_t low64() const { return limb[0]; }
  constexpr bool is_negative() const { return (limb[3] >> 63) != 0; }
};

static_assert(sizeof(U256) == 32, "U256 must be exactly four limbs");

// One 64-bit word read through a general register. The empty asm keeps the
// compiler from merging neighbouring limb loads into 16-byte vector loads:
// words written as four 8-byte stores (the interpreter's and the JIT's
// arithmetic) cannot be forwarded to a 16-byte load, which then waits for
// the stores to reach the cache (about a dozen cycles each time).
inline uint64_t scalar_limb(const uint64_t* p) {
  uint64_t x = *p;
#if defined(__GNUC__)
  asm("" : "+r"(x));
#endif
  return x;
}

static_assert(std::is_standard_layout_v<U256> && std::is_trivially_copyable_v<U256> &&
                  std::is_aggregate_v<U256>,
              "the interpreter memcpy's U256 through raw register slots");

constexpr bool operator==(const U256& a, const U256& b) {
  return ((a.limb[0] ^ b.limb[0]) | (a.limb[1] ^ b.limb[1]) | (a.limb[2] ^ b.limb[2]) |
          (a.limb[3] ^ b.limb[3])) == 0;
}
constexpr bool operator!=(const U256& a, const U256& b) {
  return !(a == b);
}

// ---------------------------------------------------------------------------
// Wrapping arithmetic (mod 2^256)

// The carry and borrow chains are written out limb by limb: as loops over
// uint128 sums GCC does not unroll them inside the interpreter's large
// dispatch function, and the spilled temporaries cost more than the math.
namespace detail {
constexpr uint64_t addc(uint64_t a, uint64_t b, uint64_t& carry) {
  uint64_t s = 0, r = 0;
  const bool c1 = __builtin_add_overflow(a, b, &s);
  const bool c2 = __builtin_add_overflow(s, carry, &r);
  carry = static_cast<uint64_t>(c1 | c2);
  return r;
}
constexpr uint64_t subb(uint64_t a, uint64_t b, uint64_t& borrow) {
  uint64_t d = 0, r = 0;
  const bool b1 = __builtin_sub_overflow(a, b, &d);
  const bool b2 = __builtin_sub_overflow(d, borrow, &r);
  borrow = static_cast<uint64_t>(b1 | b2);
  return r;
}
}  // namespace detail

constexpr U256 add(const U256& a, const U256& b) {
  uint64_t c = 0;
  U256 r{};
  r.limb[0] = detail::addc(a.limb[0], b.limb[0], c);
  r.limb[1] = detail::addc(a.limb[1], b.limb[1], c);
  r.limb[2] = detail::addc(a.limb[2], b.limb[2], c);
  r.limb[3] = detail::addc(a.limb[3], b.limb[3], c);
  return r;
}

constexpr U256 sub(const U256& a, const U256& b) {
  uint64_t c = 0;
  U256 r{};
  r.limb[0] = detail::subb(a.limb[0], b.limb[0], c);
  r.limb[1] = detail::subb(a.limb[1], b.limb[1], c);
  r.limb[2] = detail::subb(a.limb[2], b.limb[2], c);
  r.limb[3] = detail::subb(a.limb[3], b.limb[3], c);
  return r;
}

// Two's complement negation: 0 - a.
constexpr U256 neg(const U256& a) {
  return sub(U256::zero(), a);
}

// Schoolbook product keeping only the low four limbs (10 of the 16 partial products).
constexpr U256 mul(const U256& a, const U256& b) {
  U256 r{};
  for (int i = 0; i < 4; ++i) {
    uint64_t carry = 0;
    for (int j = 0; i + j < 4; ++j) {
      const detail::uint128 t = detail::uint128{a.limb[i]} * b.limb[j] + r.limb[i + j] + carry;
      r.limb[i + j] = static_cast<uint64_t>(t);
      carry = static_cast<uint64_t>(t >> 64);
    }
  }
  return r;
}

// Unsigned checked forms: false when the exact result is outside [0, 2^256).
constexpr bool add_checked(const U256& a, const U256& b, U256& out) {
  uint64_t c = 0;
  out.limb[0] = detail::addc(a.limb[0], b.limb[0], c);
  out.limb[1] = detail::addc(a.limb[1], b.limb[1], c);
  out.limb[2] = detail::addc(a.limb[2], b.limb[2], c);
  out.limb[3] = detail::addc(a.limb[3], b.limb[3], c);
  return c == 0;
}

constexpr bool sub_checked(const U256& a, const U256& b, U256& out) {
  uint64_t c = 0;
  out.limb[0] = detail::subb(a.limb[0], b.limb[0], c);
  out.limb[1] = detail::subb(a.limb[1], b.limb[1], c);
  out.limb[2] = detail::subb(a.limb[2], b.limb[2], c);
  out.limb[3] = detail::subb(a.limb[3], b.limb[3], c);
  return c == 0;
}

bool mul_checked(const U256& a, const U256& b, U256& out);

// Signed checked forms (two's complement i256): false on signed overflow.
constexpr bool sadd_checked(const U256& a, const U256& b, U256& out) {
  out = add(a, b);
  // Overflow iff both operands share a sign that the result does not.
  return !(a.is_negative() == b.is_negative() && out.is_negative() != a.is_negative());
}

constexpr bool ssub_checked(const U256& a, const U256& b, U256& out) {
  const bool a_neg = a.is_negative();
  const bool b_neg = b.is_negative();
  out = sub(a, b);
  // Overflow iff the operands' signs differ and the result's sign is not a's.
  return !(a_neg != b_neg && out.is_negative() != a_neg);
}

bool smul_checked(const U256& a, const U256& b, U256& out);

// ---------------------------------------------------------------------------
// Division. REQUIRES: divisor != 0 (the VM traps before calling).

U256 div(const U256& a, const U256& b);
U256 mod(const U256& a, const U256& b);
// Both results of one unsigned division. REQUIRES: b != 0.
void divmod(const U256& a, const U256& b, U256& quotient, U256& remainder);

// Signed division truncating toward zero. REQUIRES: b != 0.
// Returns false only for MIN / -1, whose true result 2^255 is not an i256; `out`
// is then set to MIN (what the EVM's SDIV produces).
bool sdiv(const U256& a, const U256& b, U256& out);
// Signed remainder with the sign of the dividend (|r| < |b|). REQUIRES: b != 0.
// smod(MIN, -1) == 0.
U256 smod(const U256& a, const U256& b);

// base^exponent mod 2^256; exp(0, 0) == 1 (EVM convention).
U256 exp(const U256& base, const U256& exponent);
// Exact power; false if base^exponent >= 2^256.
bool exp_checked(const U256& base, const U256& exponent, U256& out);

// (a + b) mod m and (a * b) mod m with exact 512-bit intermediates. REQUIRES: m != 0.
U256 addmod(const U256& a, const U256& b, const U256& m);
U256 mulmod(const U256& a, const U256& b, const U256& m);
// out = a * b / d over the exact 512-bit product, rounded down (or up when
// round_up). REQUIRES d != 0. Returns false when the quotient needs more than
// 256 bits (out is then unspecified).
bool muldiv(const U256& a, const U256& b, const U256& d, bool round_up, U256& out);

// ---------------------------------------------------------------------------
// Shifts. A shift count n >= 256 shifts every bit out.

constexpr U256 shl(const U256& a, uint64_t n) {
  if (n >= 256) return U256::zero();
  const unsigned limb_shift = static_cast<unsigned>(n / 64);
  const unsigned bit_shift = static_cast<unsigned>(n % 64);
  U256 r{};
  for (unsigned i = limb_shift; i < 4; ++i) {
    const unsigned src = i - limb_shift;
    uint64_t v = a.limb[src] << bit_shift;
    // A shift by 64 would be UB, hence the bit_shift != 0 guard.
    if (bit_shift != 0 && src > 0) v |= a.limb[src - 1] >> (64 - bit_shift);
    r.limb[i] = v;
  }
  return r;
}

constexpr U256 shr(const U256& a, uint64_t n) {
  if (n >= 256) return U256::zero();
  const unsigned limb_shift = static_cast<unsigned>(n / 64);
  const unsigned bit_shift = static_cast<unsigned>(n % 64);
  U256 r{};
  for (unsigned i = 0; i + limb_shift < 4; ++i) {
    const unsigned src = i + limb_shift;
    uint64_t v = a.limb[src] >> bit_shift;
    if (bit_shift != 0 && src < 3) v |= a.limb[src + 1] << (64 - bit_shift);
    r.limb[i] = v;
  }
  return r;
}

// ---------------------------------------------------------------------------
// Bitwise

constexpr U256 bit_and(const U256& a, const U256& b) {
  return {
      {a.limb[0] & b.limb[0], a.limb[1] & b.limb[1], a.limb[2] & b.limb[2], a.limb[3] & b.limb[3]}};
}
constexpr U256 bit_or(const U256& a, const U256& b) {
  return {
      {a.limb[0] | b.limb[0], a.limb[1] | b.limb[1], a.limb[2] | b.limb[2], a.limb[3] | b.limb[3]}};
}
constexpr U256 bit_xor(const U256& a, const U256& b) {
  return {
      {a.limb[0] ^ b.limb[0], a.limb[1] ^ b.limb[1], a.limb[2] ^ b.limb[2], a.limb[3] ^ b.limb[3]}};
}
constexpr U256 bit_not(const U256& a) {
  return {{~a.limb[0], ~a.limb[1], ~a.limb[2], ~a.limb[3]}};
}

// Arithmetic shift right: floor(a / 2^n) in the signed view. For negative a,
// ~a is non-negative and ~(~a >> n) == floor(a / 2^n); n >= 256 gives -1.
constexpr U256 sar(const U256& a, uint64_t n) {
  return a.is_negative() ? bit_not(shr(bit_not(a), n)) : shr(a, n);
}

// ---------------------------------------------------------------------------
// Comparisons

// a < b: decided by the most significant differing limb.
constexpr bool lt(const U256& a, const U256& b) {
  if (a.limb[3] != b.limb[3]) return a.limb[3] < b.limb[3];
  if (a.limb[2] != b.limb[2]) return a.limb[2] < b.limb[2];
  if (a.limb[1] != b.limb[1]) return a.limb[1] < b.limb[1];
  return a.limb[0] < b.limb[0];
}
constexpr bool gt(const U256& a, const U256& b) {
  return lt(b, a);
}
constexpr bool le(const U256& a, const U256& b) {
  return !lt(b, a);
}
constexpr bool ge(const U256& a, const U256& b) {
  return !lt(a, b);
}

constexpr bool slt(const U256& a, const U256& b) {
  const bool a_neg = a.is_negative();
  // With equal signs the two's complement order equals the unsigned order.
  return a_neg != b.is_negative() ? a_neg : lt(a, b);
}
constexpr bool sgt(const U256& a, const U256& b) {
  return slt(b, a);
}
constexpr bool sle(const U256& a, const U256& b) {
  return !slt(b, a);
}
constexpr bool sge(const U256& a, const U256& b) {
  return !slt(a, b);
}

// ---------------------------------------------------------------------------
// Bytes and bit counts

// EVM SIGNEXTEND: treat the low b+1 bytes of x as a two's complement number and
// extend its sign bit (bit 8b+7) through bit 255. b >= 31 returns x unchanged.
constexpr U256 signextend(uint64_t b, const U256& x) {
  if (b >= 31) return x;
  const unsigned sign_bit = static_cast<unsigned>(b) * 8 + 7;  // <= 247
  const unsigned sign_limb = sign_bit / 64;
  const unsigned sign_pos = sign_bit % 64;
  const bool negative = ((x.limb[sign_limb] >> sign_pos) & 1) != 0;
  const uint64_t fill = negative ? ~uint64_t{0} : 0;
  // keep = bits 0..sign_pos of the sign limb; sign_pos == 63 keeps all of it.
  const uint64_t keep = sign_pos == 63 ? ~uint64_t{0} : (uint64_t{2} << sign_pos) - 1;
  U256 r = x;
  r.limb[sign_limb] = (x.limb[sign_limb] & keep) | (fill & ~keep);
  for (unsigned i = sign_limb + 1; i < 4; ++i) r.limb[i] = fill;
  return r;
}

// Number of significant bits of x (0 for zero).
constexpr unsigned bit_length(const U256& x) {
  for (int i = 3; i >= 0; --i) {
    if (x.limb[i] != 0) {
      return static_cast<unsigned>(i) * 64 + 64 - static_cast<unsigned>(__builtin_clzll(x.limb[i]));
    }
  }
  return 0;
}

// Number of significant bytes of x (0 for zero); the EXP gas formula's byte count.
constexpr unsigned byte_length(const U256& x) {
  return (bit_length(x) + 7) / 8;
}

// 32-byte big-endian encoding (the EVM's memory/storage word order).
inline void to_be_bytes(const U256& x, uint8_t out[32]) {
  for (int i = 0; i < 4; ++i) {
    uint64_t be = __builtin_bswap64(x.limb[3 - i]);
    __builtin_memcpy(out + 8 * i, &be, 8);
  }
}
inline U256 from_be_bytes(const uint8_t in[32]) {
  U256 r;
  for (int i = 0; i < 4; ++i) {
    uint64_t be;
    __builtin_memcpy(&be, in + 8 * i, 8);
    r.limb[3 - i] = __builtin_bswap64(be);
  }
  return r;
}

// The Boost bridges (BoostU256, to_boost, from_boost) are in u256_boost.hpp,
// so that code which does not need the reference type does not compile it.

// ---------------------------------------------------------------------------
// Text

// Accepts decimal ("123") or hex ("0x1F"/"0X1f", digits in any case), with an
// optional leading '-' meaning two's complement negation. '_' may appear
// anywhere after the prefix and is ignored, but at least one digit is required.
// Returns nullopt for: empty input, a prefix with no digits ("", "-", "0x"),
// any other character (including whitespace and '+'), a magnitude >= 2^256, or
// with '-' a magnitude > 2^255.
std::optional<U256> parse_u256(std::string_view text);

std::string to_dec_string(const U256& x);         // unsigned decimal
std::string to_signed_dec_string(const U256& x);  // two's complement signed decimal
std::string to_hex_string(const U256& x);         // "0x" + minimal lowercase hex; "0x0" for zero

}  // namespace writ::vm
