// Out-of-line U256 operations: exact products, Knuth division, exponentiation,
// modular arithmetic, byte and text conversion. Everything here is hand-written;
// Boost appears only in the to_boost/from_boost bridges (u256_boost.hpp).
#include "writ/vm/u256.hpp"

#include <algorithm>
#include <cstring>

namespace writ::vm {

namespace {

using detail::uint128;

// Number of significant limbs of x[0..n) (0 when all are zero).
int significant_limbs(const uint64_t* x, int n) {
  while (n > 0 && x[n - 1] == 0) --n;
  return n;
}

// Full product of two 4-limb numbers into out[0..8), unrolled.
void mul_full4(const uint64_t* a, const uint64_t* b, uint64_t* out) {
  uint64_t t[8] = {};
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {
    uint64_t carry = 0;
#pragma GCC unroll 4
    for (int j = 0; j < 4; ++j) {
      const uint128 p = uint128{a[i]} * b[j] + t[i + j] + carry;
      t[i + j] = static_cast<uint64_t>(p);
      carry = static_cast<uint64_t>(p >> 64);
    }
    t[i + 4] = carry;
  }
  std::memcpy(out, t, sizeof t);
}

// Full product of a[0..na) and b[0..nb) into out[0..na+nb).
void mul_full(const uint64_t* a, int na, const uint64_t* b, int nb, uint64_t* out) {
  std::fill(out, out + na + nb, uint64_t{0});
  for (int i = 0; i < na; ++i) {
    uint64_t carry = 0;
    for (int j = 0; j < nb; ++j) {
      const uint128 t = uint128{a[i]} * b[j] + out[i + j] + carry;
      out[i + j] = static_cast<uint64_t>(t);
      carry = static_cast<uint64_t>(t >> 64);
    }
    out[i + nb] = carry;
  }
}

constexpr int kMaxDividendLimbs = 8;  // mulmod's 512-bit product
constexpr int kMaxDivisorLimbs = 4;

// Division by invariant integers with precomputed reciprocals: N. Möller and
// T. Granlund, "Improved division by invariant integers", IEEE Trans.
// Computers 60(2), 2011 (Algorithms 2, 4, 5 and 6). Each quotient digit then
// takes a few multiplications instead of a 128-by-64-bit hardware division;
// the divisor's reciprocal is computed once per division (and kept for the
// next division by the same divisor: mulmod in a loop, wad arithmetic's 10^18).
// Every function requires a normalized divisor (top bit set).

// floor((2^128 - 1) / d) - 2^64.
uint64_t reciprocal_2by1(uint64_t d) {
  return static_cast<uint64_t>(~uint128{0} / d);
}

// The reciprocal of the two-limb divisor (d1, d0): floor((2^192 - 1) / (d1, d0)) - 2^64.
uint64_t reciprocal_3by2(uint64_t d1, uint64_t d0) {
  uint64_t v = reciprocal_2by1(d1);
  uint64_t p = d1 * v + d0;
  if (p < d0) {  // the addition carried
    --v;
    if (p >= d1) {
      --v;
      p -= d1;
    }
    p -= d1;
  }
  const uint128 t = uint128{v} * d0;
  const uint64_t t1 = static_cast<uint64_t>(t >> 64);
  const uint64_t t0 = static_cast<uint64_t>(t);
  p += t1;
  if (p < t1) {  // carried
    --v;
    if (p > d1 || (p == d1 && t0 >= d0)) --v;
  }
  return v;
}

// (u1, u0) / d with u1 < d: the quotient digit and the remainder. The first
// correction happens about half the time, so it is made with a mask rather
// than a branch; the second is rare.
inline uint64_t udivrem_2by1(uint64_t u1, uint64_t u0, uint64_t d, uint64_t v, uint64_t& r) {
  const uint128 q = uint128{v} * u1 + ((uint128{u1} << 64) | u0);
  uint64_t q1 = static_cast<uint64_t>(q >> 64) + 1;
  const uint64_t q0 = static_cast<uint64_t>(q);
  r = u0 - q1 * d;
  const uint64_t mask = uint64_t{0} - static_cast<uint64_t>(r > q0);
  q1 += mask;
  r += d & mask;
  if (r >= d) [[unlikely]] {
    ++q1;
    r -= d;
  }
  return q1;
}

// (u2, u1, u0) / (d1, d0) with (u2, u1) < (d1, d0): the quotient digit and
// the two-limb remainder (the first correction by mask, as above).
inline uint64_t udivrem_3by2(uint64_t u2, uint64_t u1, uint64_t u0, uint64_t d1, uint64_t d0,
                             uint64_t v, uint128& r) {
  const uint128 d = (uint128{d1} << 64) | d0;
  const uint128 q = uint128{v} * u2 + ((uint128{u2} << 64) | u1);
  uint64_t q1 = static_cast<uint64_t>(q >> 64);
  const uint64_t q0 = static_cast<uint64_t>(q);
  const uint64_t r1 = u1 - q1 * d1;
  r = ((uint128{r1} << 64) | u0) - uint128{d0} * q1 - d;  // modulo 2^128
  const uint64_t mask = uint64_t{0} - static_cast<uint64_t>(static_cast<uint64_t>(r >> 64) >= q0);
  q1 += 1 + mask;
  r += d & ((uint128{mask} << 64) | mask);
  if (r >= d) [[unlikely]] {
    ++q1;
    r -= d;
  }
  return q1;
}

// The last divisor's reciprocal, per thread: a pure function of the divisor,
// so it changes no result, only how often it is computed.
struct ReciprocalCache {
  uint64_t d1 = 0, d0 = 0, v = 0;
};
thread_local ReciprocalCache tl_reciprocal_2by1;
thread_local ReciprocalCache tl_reciprocal_3by2;

uint64_t cached_reciprocal_2by1(uint64_t d) {
  ReciprocalCache& c = tl_reciprocal_2by1;
  if (c.d1 != d) {
    c.d1 = d;
    c.v = reciprocal_2by1(d);
  }
  return c.v;
}

uint64_t cached_reciprocal_3by2(uint64_t d1, uint64_t d0) {
  ReciprocalCache& c = tl_reciprocal_3by2;
  if (c.d1 != d1 || c.d0 != d0) {
    c.d1 = d1;
    c.d0 = d0;
    c.v = reciprocal_3by2(d1, d0);
  }
  return c.v;
}

// un[j..j+n] -= qd * vn[0..n); returns whether the result went negative.
bool submul(uint64_t* un, int j, const uint64_t* vn, int n, uint64_t qd) {
  uint64_t mul_carry = 0;
  uint64_t borrow = 0;
  for (int i = 0; i < n; ++i) {
    const uint128 p = uint128{qd} * vn[i] + mul_carry;
    mul_carry = static_cast<uint64_t>(p >> 64);
    const uint64_t p_lo = static_cast<uint64_t>(p);
    const uint64_t x = un[i + j];
    const uint64_t diff = x - p_lo;
    un[i + j] = diff - borrow;
    borrow = static_cast<uint64_t>(x < p_lo) | static_cast<uint64_t>(diff < borrow);
  }
  const uint64_t x = un[j + n];
  const uint64_t diff = x - mul_carry;
  un[j + n] = diff - borrow;
  return (static_cast<uint64_t>(x < mul_carry) | static_cast<uint64_t>(diff < borrow)) != 0;
}

// un[j..j+n) += vn[0..n); the carry out of the top limb is dropped (it
// cancels a borrow).
void add_back(uint64_t* un, int j, const uint64_t* vn, int n) {
  uint64_t carry = 0;
  for (int i = 0; i < n; ++i) {
    const uint128 t = uint128{un[i + j]} + vn[i] + carry;
    un[i + j] = static_cast<uint64_t>(t);
    carry = static_cast<uint64_t>(t >> 64);
  }
  un[j + n] += carry;
}

// Unsigned division u / v of limb arrays: Knuth, TAOCP vol. 2, 4.3.1,
// Algorithm D, each quotient digit from the top three dividend digits by the
// top two divisor digits (udivrem_3by2), which is exact or one too large.
// REQUIRES: 1 <= n <= kMaxDivisorLimbs, v[n-1] != 0, n <= m <= kMaxDividendLimbs.
// Writes q[0..m-n] and r[0..n). Inlined where m and n are constants
// (mulmod's 8-by-4 limbs), whose loops then unroll completely.
[[gnu::always_inline]] inline void divmod_body(const uint64_t* u, int m, const uint64_t* v, int n,
                                               uint64_t* q, uint64_t* r) {
  // D1: normalize so the divisor's top bit is set.
  // (x >> 1) >> (63 - s) is x >> (64 - s), and 0 when s == 0 (where a shift
  // by 64 would be undefined), so one path serves every s without a copy.
  const int s = __builtin_clzll(v[n - 1]);
  const auto high = [s](uint64_t x) { return (x >> 1) >> (63 - s); };
  uint64_t vn[kMaxDivisorLimbs];
  uint64_t un[kMaxDividendLimbs + 1];
#pragma GCC unroll 8
  for (int i = n - 1; i > 0; --i) vn[i] = (v[i] << s) | high(v[i - 1]);
  vn[0] = v[0] << s;
  un[m] = high(u[m - 1]);
#pragma GCC unroll 8
  for (int i = m - 1; i > 0; --i) un[i] = (u[i] << s) | high(u[i - 1]);
  un[0] = u[0] << s;

  if (n == 1) {
    // Short division: the running remainder is below the divisor, so each
    // step divides two limbs by one.
    const uint64_t d = vn[0];
    const uint64_t rv = cached_reciprocal_2by1(d);
    uint64_t rem = un[m];  // < 2^s <= d
    for (int j = m - 1; j >= 0; --j) q[j] = udivrem_2by1(rem, un[j], d, rv, rem);
    r[0] = rem >> s;
    return;
  }

  const uint64_t d1 = vn[n - 1];
  const uint64_t d0 = vn[n - 2];
  const uint64_t rv = cached_reciprocal_3by2(d1, d0);
  if (n == 2) {
    // Each 3-by-2 step leaves the exact two-limb remainder, kept in
    // registers. The top two limbs are below the divisor: un[m] < 2^s <= d1.
    uint128 rem = (uint128{un[m]} << 64) | un[m - 1];
    int j = m - 2;
    if (un[m] == 0) {
      // The top window is (0, un[m-1], un[m-2]), below twice the divisor
      // (whose top bit is set): its digit is 0 or 1, by a comparison and a
      // subtraction instead of a 3-by-2 step.
      const uint128 d = (uint128{d1} << 64) | d0;
      rem = (uint128{un[m - 1]} << 64) | un[m - 2];
      q[j] = rem >= d ? 1 : 0;
      if (rem >= d) rem -= d;
      --j;
    }
    for (; j >= 0; --j) {
      uint128 next;
      q[j] = udivrem_3by2(static_cast<uint64_t>(rem >> 64), static_cast<uint64_t>(rem), un[j], d1,
                          d0, rv, next);
      rem = next;
    }
    const uint64_t lo = static_cast<uint64_t>(rem), hi = static_cast<uint64_t>(rem >> 64);
    r[0] = (lo >> s) | ((hi << 1) << (63 - s));
    r[1] = hi >> s;
    return;
  }
#pragma GCC unroll 8
  for (int j = m - n; j >= 0; --j) {
    if (j == m - n && un[m] == 0) {
      // The top window is un[m-1..m-n], below 2 * vn (whose top bit is
      // set): its digit is 1 when it is at least vn, else 0 (always 0 for
      // the product of two numbers below the modulus). A comparison and a
      // subtraction instead of a 3-by-2 step.
      bool below = false;
#pragma GCC unroll 4
      for (int i = n - 1; i >= 0; --i) {
        if (un[j + i] != vn[i]) {
          below = un[j + i] < vn[i];
          break;
        }
      }
      q[j] = below ? 0 : 1;
      if (!below) {
        uint64_t borrow = 0;
#pragma GCC unroll 4
        for (int i = 0; i < n; ++i) {
          const uint64_t x = un[j + i];
          const uint64_t diff = x - vn[i];
          un[j + i] = diff - borrow;
          borrow = static_cast<uint64_t>(x < vn[i]) | static_cast<uint64_t>(diff < borrow);
        }
      }
      continue;
    }
    const uint64_t u2 = un[j + n];
    const uint64_t u1 = un[j + n - 1];
    const uint64_t u0 = un[j + n - 2];
    uint64_t qd;
    if (u2 == d1 && u1 == d0) {
      // The top two digits equal the divisor's (the 3-by-2 step needs them
      // below it): start from the largest digit and correct.
      qd = ~uint64_t{0};
      bool negative = submul(un, j, vn, n, qd);
      while (negative) {
        --qd;
        add_back(un, j, vn, n);
        negative = un[j + n] != 0;  // the window is back to its non-negative remainder
      }
    } else {
      uint128 rem;
      qd = udivrem_3by2(u2, u1, u0, d1, d0, rv, rem);
      // D4 for the lower n - 2 digits; what they borrow comes off the
      // remainder of the top three.
      uint64_t mul_carry = 0;
      uint64_t borrow = 0;
#pragma GCC unroll 8
      for (int i = 0; i < n - 2; ++i) {
        const uint128 p = uint128{qd} * vn[i] + mul_carry;
        mul_carry = static_cast<uint64_t>(p >> 64);
        const uint64_t p_lo = static_cast<uint64_t>(p);
        const uint64_t x = un[i + j];
        const uint64_t diff = x - p_lo;
        un[i + j] = diff - borrow;
        borrow = static_cast<uint64_t>(x < p_lo) | static_cast<uint64_t>(diff < borrow);
      }
      const uint128 taken = uint128{mul_carry} + borrow;
      const bool negative = rem < taken;
      rem -= taken;
      un[j + n - 2] = static_cast<uint64_t>(rem);
      un[j + n - 1] = static_cast<uint64_t>(rem >> 64);
      un[j + n] = negative ? ~uint64_t{0} : 0;
      // D5/D6: the digit was one too large: add the divisor back.
      if (negative) {
        --qd;
        add_back(un, j, vn, n);
      }
    }
    q[j] = qd;
  }

  // D8: unnormalize the remainder ((x << 1) << (63 - s) is x << (64 - s), 0 when s == 0).
#pragma GCC unroll 8
  for (int i = 0; i < n - 1; ++i) r[i] = (un[i] >> s) | ((un[i + 1] << 1) << (63 - s));
  r[n - 1] = un[n - 1] >> s;
}

// remainder = u[0..m) mod d. REQUIRES: d != 0, m <= kMaxDividendLimbs.
void divmod_limbs(const uint64_t* u, int m, const uint64_t* v, int n, uint64_t* q, uint64_t* r) {
  if (n == 2) {
    // A two-limb divisor (mulmod by a modulus below 2^128): the dividend's
    // length as a constant, so normalizing it unrolls into registers.
    switch (m) {
      case 3:
        return divmod_body(u, 3, v, 2, q, r);
      case 4:
        return divmod_body(u, 4, v, 2, q, r);
      case 5:
        return divmod_body(u, 5, v, 2, q, r);
      case 6:
        return divmod_body(u, 6, v, 2, q, r);
      case 7:
        return divmod_body(u, 7, v, 2, q, r);
      case 8:
        return divmod_body(u, 8, v, 2, q, r);
      default:
        break;
    }
  }
  divmod_body(u, m, v, n, q, r);
}

U256 mod_limbs(const uint64_t* u, int m, const U256& d) {
  const int n = significant_limbs(d.limb, 4);
  m = significant_limbs(u, m);
  U256 r = U256::zero();
  if (m < n) {
    std::copy(u, u + m, r.limb);
    return r;
  }
  uint64_t q[kMaxDividendLimbs];
  divmod_limbs(u, m, d.limb, n, q, r.limb);
  return r;
}

// u[0..M) mod d (d != 0), by the division unrolled for each length of d.
// Zero top limbs in u are harmless: the normalized divisor's top limb is at
// least 2^63, so a window starting with a zero limb is below it and its
// quotient digit is 0 (found by a comparison, not a 3-by-2 step).
template <int M>
U256 mod_fixed(const uint64_t* u, const U256& d) {
  uint64_t q[M];
  U256 r = U256::zero();
  switch (significant_limbs(d.limb, 4)) {
    case 4:
      divmod_body(u, M, d.limb, 4, q, r.limb);
      break;
    case 3:
      divmod_body(u, M, d.limb, 3, q, r.limb);
      break;
    case 2:
      divmod_body(u, M, d.limb, 2, q, r.limb);
      break;
    default:
      divmod_body(u, M, d.limb, 1, q, r.limb);
      break;
  }
  return r;
}

U256 abs_value(const U256& x) {
  return x.is_negative() ? neg(x) : x;
}

}  // namespace

// ---------------------------------------------------------------------------
// Checked products

bool mul_checked(const U256& a, const U256& b, U256& out) {
  const int na = significant_limbs(a.limb, 4);
  const int nb = significant_limbs(b.limb, 4);
  // The product of an na-limb and an nb-limb number has at most na+nb limbs.
  if (na + nb <= 4) {
    out = mul(a, b);
    return true;
  }
  uint64_t full[8];
  mul_full(a.limb, na, b.limb, nb, full);
  std::copy(full, full + 4, out.limb);
  for (int i = 4; i < na + nb; ++i) {
    if (full[i] != 0) return false;
  }
  return true;
}

bool smul_checked(const U256& a, const U256& b, U256& out) {
  U256 magnitude;
  // |MIN| = 2^255 is representable unsigned, so the magnitudes never wrap.
  if (!mul_checked(abs_value(a), abs_value(b), magnitude)) return false;
  const bool negative = a.is_negative() != b.is_negative();
  if (negative) {
    // -2^255 is the only negative value whose magnitude has bit 255 set.
    if (gt(magnitude, U256::signed_min())) return false;
    out = neg(magnitude);
  } else {
    if (magnitude.is_negative()) return false;
    out = magnitude;
  }
  return true;
}

// ---------------------------------------------------------------------------
// Division

void divmod(const U256& a, const U256& b, U256& quotient, U256& remainder) {
  if (a.fits_u64() && b.fits_u64()) {  // the common case in contract code
    quotient = U256::from_u64(a.limb[0] / b.limb[0]);
    remainder = U256::from_u64(a.limb[0] % b.limb[0]);
    return;
  }
  if (lt(a, b)) {
    quotient = U256::zero();
    remainder = a;
    return;
  }
  const int m = significant_limbs(a.limb, 4);
  const int n = significant_limbs(b.limb, 4);
  quotient = U256::zero();
  remainder = U256::zero();
  divmod_limbs(a.limb, m, b.limb, n, quotient.limb, remainder.limb);
}

U256 div(const U256& a, const U256& b) {
  if (a.fits_u64() && b.fits_u64()) return U256::from_u64(a.limb[0] / b.limb[0]);
  U256 q, r;
  divmod(a, b, q, r);
  return q;
}

U256 mod(const U256& a, const U256& b) {
  if (a.fits_u64() && b.fits_u64()) return U256::from_u64(a.limb[0] % b.limb[0]);
  U256 q, r;
  divmod(a, b, q, r);
  return r;
}

bool sdiv(const U256& a, const U256& b, U256& out) {
  if (a == U256::signed_min() && b == U256::max()) {
    out = a;
    return false;
  }
  const U256 q = div(abs_value(a), abs_value(b));
  out = a.is_negative() != b.is_negative() ? neg(q) : q;
  return true;
}

U256 smod(const U256& a, const U256& b) {
  const U256 r = mod(abs_value(a), abs_value(b));
  return a.is_negative() ? neg(r) : r;
}

// ---------------------------------------------------------------------------
// Exponentiation

U256 exp(const U256& base, const U256& exponent) {
  if (base == U256::from_u64(2)) {  // 2^e is a shift; common in fixed-point code
    return lt(exponent, U256::from_u64(256)) ? shl(U256::from_u64(1), exponent.limb[0])
                                             : U256::zero();
  }
  // Right-to-left square-and-multiply over the exponent's significant bits.
  U256 result = U256::from_u64(1);
  U256 power = base;
  const unsigned bits = bit_length(exponent);
  for (unsigned i = 0; i < bits; ++i) {
    if ((exponent.limb[i / 64] >> (i % 64)) & 1) result = mul(result, power);
    if (i + 1 < bits) power = mul(power, power);
  }
  return result;
}

bool exp_checked(const U256& base, const U256& exponent, U256& out) {
  if (exponent.is_zero()) {
    out = U256::from_u64(1);
    return true;
  }
  if (base.fits_u64() && base.limb[0] <= 1) {  // 0^e = 0 and 1^e = 1 for e >= 1
    out = base;
    return true;
  }
  // base >= 2, so base^e >= 2^e overflows once e >= 256.
  if (!exponent.fits_u64() || exponent.limb[0] >= 256) return false;
  // Left-to-right: every intermediate is base^(a prefix of e's bits) <= base^e,
  // so an overflowing intermediate proves the final result overflows.
  const uint64_t e = exponent.limb[0];
  U256 result = U256::from_u64(1);
  for (int i = static_cast<int>(bit_length(exponent)) - 1; i >= 0; --i) {
    if (!mul_checked(result, result, result)) return false;
    if (((e >> i) & 1) != 0 && !mul_checked(result, base, result)) return false;
  }
  out = result;
  return true;
}

// ---------------------------------------------------------------------------
// Modular arithmetic with 512-bit intermediates

U256 addmod(const U256& a, const U256& b, const U256& m) {
  if (a.fits_u64() && b.fits_u64() && m.fits_u64()) {
    return U256::from_u64(static_cast<uint64_t>((uint128{a.limb[0]} + b.limb[0]) % m.limb[0]));
  }
  uint64_t sum[5];
  uint64_t carry = 0;
#pragma GCC unroll 4
  for (int i = 0; i < 4; ++i) {
    const uint128 t = uint128{a.limb[i]} + b.limb[i] + carry;
    sum[i] = static_cast<uint64_t>(t);
    carry = static_cast<uint64_t>(t >> 64);
  }
  sum[4] = carry;
  if ((m.limb[3] >> 63) != 0) {
    // m >= 2^255 and the sum is below 2^257 <= 4m: at most three
    // subtractions of m, the first usually the last.
    for (int k = 0; k < 3; ++k) {
      uint64_t t[5];
      uint64_t borrow = 0;
#pragma GCC unroll 5
      for (int i = 0; i < 5; ++i) {
        const uint64_t mi = i < 4 ? m.limb[i] : 0;
        const uint64_t x = sum[i];
        const uint64_t diff = x - mi;
        t[i] = diff - borrow;
        borrow = static_cast<uint64_t>(x < mi) | static_cast<uint64_t>(diff < borrow);
      }
      if (borrow != 0) break;  // sum < m
      std::memcpy(sum, t, sizeof t);
    }
    return U256{{sum[0], sum[1], sum[2], sum[3]}};
  }
  return mod_fixed<5>(sum, m);
}

bool muldiv(const U256& a, const U256& b, const U256& d, bool round_up, U256& out) {
  const int na = significant_limbs(a.limb, 4);
  const int nb = significant_limbs(b.limb, 4);
  out = U256::zero();
  if (na == 0 || nb == 0) return true;
  uint64_t product[8] = {};
  mul_full(a.limb, na, b.limb, nb, product);
  int m = significant_limbs(product, na + nb);
  const int n = significant_limbs(d.limb, 4);
  U256 rem = U256::zero();
  uint64_t q[kMaxDividendLimbs] = {};
  if (m < n) {
    std::copy(product, product + m, rem.limb);
  } else {
    divmod_limbs(product, m, d.limb, n, q, rem.limb);
    for (int i = 4; i <= m - n; ++i)
      if (q[i] != 0) return false;  // quotient needs more than 256 bits
  }
  std::copy(q, q + 4, out.limb);
  if (round_up && !rem.is_zero()) return add_checked(out, U256::from_u64(1), out);
  return true;
}

U256 mulmod(const U256& a, const U256& b, const U256& m) {
  if (a.fits_u64() && b.fits_u64() && m.fits_u64()) {
    return U256::from_u64(static_cast<uint64_t>((uint128{a.limb[0]} * b.limb[0]) % m.limb[0]));
  }
  uint64_t product[8];
  mul_full4(a.limb, b.limb, product);
  if (m.limb[2] == 0 && m.limb[3] == 0) {
    // One or two limbs: a quotient digit per product limb, so the product's
    // zero top limbs are worth trimming.
    return mod_limbs(product, 8, m);
  }
  return mod_fixed<8>(product, m);
}

// ---------------------------------------------------------------------------
// Bytes

// ---------------------------------------------------------------------------
// Text

namespace {

// x = x * factor + addend; returns false if the exact result is >= 2^256.
bool mul_small_add(U256& x, uint64_t factor, uint64_t addend) {
  uint64_t carry = addend;
  for (int i = 0; i < 4; ++i) {
    const uint128 t = uint128{x.limb[i]} * factor + carry;
    x.limb[i] = static_cast<uint64_t>(t);
    carry = static_cast<uint64_t>(t >> 64);
  }
  return carry == 0;
}

// x /= divisor, returning the remainder. REQUIRES: divisor != 0.
uint64_t div_small(U256& x, uint64_t divisor) {
  uint64_t rem = 0;
  for (int i = 3; i >= 0; --i) {
    const uint128 cur = (uint128{rem} << 64) | x.limb[i];
    x.limb[i] = static_cast<uint64_t>(cur / divisor);
    rem = static_cast<uint64_t>(cur % divisor);
  }
  return rem;
}

int hex_digit_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

std::optional<U256> parse_u256(std::string_view text) {
  bool negative = false;
  if (!text.empty() && text.front() == '-') {
    negative = true;
    text.remove_prefix(1);
  }
  const bool hex = text.size() >= 2 && text[0] == '0' && (text[1] == 'x' || text[1] == 'X');
  if (hex) text.remove_prefix(2);

  U256 value = U256::zero();
  bool any_digit = false;
  for (const char c : text) {
    if (c == '_') continue;
    if (hex) {
      const int d = hex_digit_value(c);
      if (d < 0) return std::nullopt;
      if ((value.limb[3] >> 60) != 0) return std::nullopt;  // the shift would drop bits
      value = shl(value, 4);
      value.limb[0] |= static_cast<uint64_t>(d);
    } else {
      if (c < '0' || c > '9') return std::nullopt;
      if (!mul_small_add(value, 10, static_cast<uint64_t>(c - '0'))) return std::nullopt;
    }
    any_digit = true;
  }
  if (!any_digit) return std::nullopt;
  if (negative) {
    // Magnitudes up to 2^255 (== MIN's bit pattern) negate into i256 range.
    if (gt(value, U256::signed_min())) return std::nullopt;
    value = neg(value);
  }
  return value;
}

std::string to_dec_string(const U256& x) {
  if (x.fits_u64()) return std::to_string(x.limb[0]);
  // Peel off 19-digit chunks (10^19 is the largest power of ten below 2^64).
  constexpr uint64_t kChunk = 10'000'000'000'000'000'000ull;
  constexpr int kChunkDigits = 19;
  U256 rest = x;
  std::string out;
  while (!rest.fits_u64()) {
    uint64_t chunk = div_small(rest, kChunk);
    for (int i = 0; i < kChunkDigits; ++i) {
      out.push_back(static_cast<char>('0' + chunk % 10));
      chunk /= 10;
    }
  }
  for (uint64_t top = rest.limb[0]; top != 0; top /= 10) {
    out.push_back(static_cast<char>('0' + top % 10));
  }
  std::reverse(out.begin(), out.end());
  return out;
}

std::string to_signed_dec_string(const U256& x) {
  // neg(MIN) == MIN, whose unsigned reading 2^255 is exactly |MIN|.
  return x.is_negative() ? "-" + to_dec_string(neg(x)) : to_dec_string(x);
}

std::string to_hex_string(const U256& x) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out = "0x";
  const unsigned bits = bit_length(x);
  if (bits == 0) return "0x0";
  for (int nibble = static_cast<int>((bits + 3) / 4) - 1; nibble >= 0; --nibble) {
    out.push_back(kDigits[(x.limb[nibble / 16] >> ((nibble % 16) * 4)) & 0xf]);
  }
  return out;
}

}  // namespace writ::vm
