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

// Unsigned division u / v of limb arrays: Knuth, TAOCP vol. 2, 4.3.1, Algorithm D,
// with 64-bit digits and 128-bit intermediates.
// REQUIRES: 1 <= n <= kMaxDivisorLimbs, v[n-1] != 0, n <= m <= kMaxDividendLimbs.
// Writes q[0..m-n] and r[0..n).
void divmod_limbs(const uint64_t* u, int m, const uint64_t* v, int n, uint64_t* q, uint64_t* r) {
  if (n == 1) {
    // Short division; each step's 128-bit dividend has high half < v[0], so the
    // quotient digit fits in 64 bits.
    const uint64_t d = v[0];
    uint64_t rem = 0;
    for (int j = m - 1; j >= 0; --j) {
      const uint128 cur = (uint128{rem} << 64) | u[j];
      q[j] = static_cast<uint64_t>(cur / d);
      rem = static_cast<uint64_t>(cur % d);
    }
    r[0] = rem;
    return;
  }

  // D1: normalize so the divisor's top bit is set; then each trial quotient
  // qhat overestimates the true digit by at most 2.
  const int s = __builtin_clzll(v[n - 1]);
  uint64_t vn[kMaxDivisorLimbs];
  uint64_t un[kMaxDividendLimbs + 1];
  if (s == 0) {  // shifting by 64 - 0 would be UB
    std::copy(v, v + n, vn);
    std::copy(u, u + m, un);
    un[m] = 0;
  } else {
    for (int i = n - 1; i > 0; --i) vn[i] = (v[i] << s) | (v[i - 1] >> (64 - s));
    vn[0] = v[0] << s;
    un[m] = u[m - 1] >> (64 - s);
    for (int i = m - 1; i > 0; --i) un[i] = (u[i] << s) | (u[i - 1] >> (64 - s));
    un[0] = u[0] << s;
  }

  const uint64_t v_top = vn[n - 1];
  const uint64_t v_next = vn[n - 2];
  for (int j = m - n; j >= 0; --j) {
    // D3: estimate qhat from the top two dividend digits, then refine it with
    // the next digit. qhat may start at 2^64 or 2^64 + 1; the first test
    // brings it below 2^64 before any product is formed.
    const uint128 num = (uint128{un[j + n]} << 64) | un[j + n - 1];
    uint128 qhat = num / v_top;
    uint128 rhat = num % v_top;
    while (qhat >> 64 != 0 || qhat * v_next > ((rhat << 64) | un[j + n - 2])) {
      --qhat;
      rhat += v_top;
      if (rhat >> 64 != 0) break;
    }
    const uint64_t qd = static_cast<uint64_t>(qhat);

    // D4: un[j..j+n] -= qd * vn.
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
    borrow = static_cast<uint64_t>(x < mul_carry) | static_cast<uint64_t>(diff < borrow);

    // D5/D6: qd was one too large (probability ~2/2^64): add the divisor back.
    if (borrow != 0) {
      q[j] = qd - 1;
      uint64_t carry = 0;
      for (int i = 0; i < n; ++i) {
        const uint128 t = uint128{un[i + j]} + vn[i] + carry;
        un[i + j] = static_cast<uint64_t>(t);
        carry = static_cast<uint64_t>(t >> 64);
      }
      un[j + n] += carry;  // wraps back to the true (zero) top digit
    } else {
      q[j] = qd;
    }
  }

  // D8: unnormalize the remainder.
  if (s == 0) {
    std::copy(un, un + n, r);
  } else {
    for (int i = 0; i < n - 1; ++i) r[i] = (un[i] >> s) | (un[i + 1] << (64 - s));
    r[n - 1] = un[n - 1] >> s;
  }
}

// remainder = u[0..m) mod d. REQUIRES: d != 0, m <= kMaxDividendLimbs.
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
  for (int i = 0; i < 4; ++i) {
    const uint128 t = uint128{a.limb[i]} + b.limb[i] + carry;
    sum[i] = static_cast<uint64_t>(t);
    carry = static_cast<uint64_t>(t >> 64);
  }
  sum[4] = carry;
  return mod_limbs(sum, 5, m);
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
  const int na = significant_limbs(a.limb, 4);
  const int nb = significant_limbs(b.limb, 4);
  if (na == 0 || nb == 0) return U256::zero();
  uint64_t product[8];
  mul_full(a.limb, na, b.limb, nb, product);
  return mod_limbs(product, na + nb, m);
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
