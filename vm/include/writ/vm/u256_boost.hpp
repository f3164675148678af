// Bridges between U256 and Boost.Multiprecision, the reference semantics of
// Writ's 256-bit arithmetic. For tests and tools; not for hot paths.
#pragma once

#include <boost/multiprecision/cpp_int.hpp>

#include "writ/vm/u256.hpp"

namespace writ::vm {

using BoostU256 = boost::multiprecision::number<boost::multiprecision::cpp_int_backend<
    256, 256, boost::multiprecision::unsigned_magnitude, boost::multiprecision::unchecked, void>>;

inline BoostU256 to_boost(const U256& x) {
  BoostU256 r = x.limb[3];
  for (int i = 2; i >= 0; --i) {
    r <<= 64;
    r |= x.limb[i];
  }
  return r;
}

inline U256 from_boost(const BoostU256& x) {
  U256 r{};
  for (int i = 0; i < 4; ++i) {
    // Mask before converting: Boost's narrowing conversion is not guaranteed to truncate.
    r.limb[i] = static_cast<uint64_t>((x >> (64 * i)) & BoostU256(~uint64_t{0}));
  }
  return r;
}

}  // namespace writ::vm
