// The rules baseline the model is compared with: a plain rule engine on
// amount and velocity, computed in C++ from the stream alone (no chain, no
// history beyond the sender's recent payments, no model).
//
// Each rule that fires adds a point; the baseline's score is the sum (0..3):
//   large amount   the amount is at least kLargeAmountUnits whole units;
//   hour velocity  the sender made at least kHourVelocity payments in the
//                  hour before this one (this one not counted);
//   day velocity   the sender made at least kDayVelocity payments in the
//                  24 hours before this one.
#pragma once

#include <cstdint>
#include <vector>

#include "risk_stream.hpp"

namespace writ::cli::risk {

inline constexpr uint64_t kLargeAmountUnits = 1'000;
inline constexpr uint64_t kHourVelocity = 3;
inline constexpr uint64_t kDayVelocity = 10;

// One score per payment of `s`, in its order.
std::vector<int64_t> rules_baseline(const Stream& s);

}  // namespace writ::cli::risk
