#include "risk_baseline.hpp"

#include <deque>
#include <unordered_map>

namespace writ::cli::risk {

std::vector<int64_t> rules_baseline(const Stream& s) {
  constexpr uint64_t kHour = 3'600, kDay = 86'400;
  const vm::U256 large = vm::mul(vm::U256::from_u64(kLargeAmountUnits),
                                 vm::U256::from_u64(1'000'000'000'000'000'000ull));
  // Per sender: the times of its payments in the last day, oldest first.
  std::unordered_map<std::string, std::deque<uint64_t>> sent;
  std::vector<int64_t> scores;
  scores.reserve(s.payments.size());
  for (const Payment& p : s.payments) {
    std::deque<uint64_t>& times = sent[p.from];
    // A payment exactly a window ago has left it: the windows are (t - len, t].
    while (!times.empty() && p.time - times.front() >= kDay) times.pop_front();
    uint64_t last_hour = 0;
    for (auto it = times.rbegin(); it != times.rend() && p.time - *it < kHour; ++it) ++last_hour;
    int64_t score = 0;
    if (vm::ge(p.amount, large)) ++score;
    if (last_hour >= kHourVelocity) ++score;
    if (times.size() >= kDayVelocity) ++score;
    scores.push_back(score);
    times.push_back(p.time);
  }
  return scores;
}

}  // namespace writ::cli::risk
