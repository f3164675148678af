// What the Google Benchmark binaries share: a console reporter that also
// keeps each benchmark's fastest repetition (CPU time per iteration, ns), for
// the summary tables they print after their runs, and their default flags.
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstring>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace writ::bench {

class SummaryReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const Run& r : runs) {
      if (r.error_occurred || r.run_type != Run::RT_Iteration) continue;
      // CPU time: the machine is shared, and wall time counts other processes' turns.
      double ns = r.GetAdjustedCPUTime() * 1e9 / benchmark::GetTimeUnitMultiplier(r.time_unit);
      auto [it, fresh] = ns_.emplace(r.benchmark_name(), ns);
      if (!fresh) it->second = std::min(it->second, ns);  // repetitions: keep the fastest
    }
    ConsoleReporter::ReportRuns(runs);
  }
  std::optional<double> ns(const std::string& name) const {
    auto it = ns_.find(name);
    if (it == ns_.end()) return std::nullopt;
    return it->second;
  }

 private:
  std::map<std::string, double> ns_;
};

// argv with "--benchmark_min_time=<min_time>" and, when `repetitions` is
// given, "--benchmark_repetitions=<repetitions>" added unless the command
// line sets them.
inline std::vector<char*> args_with_defaults(int argc, char** argv, const char* min_time,
                                             const char* repetitions = nullptr) {
  static std::deque<std::string> storage;  // the added flags, alive for the run
  std::vector<char*> args(argv, argv + argc);
  const auto given = [&](const char* flag) {
    for (int i = 1; i < argc; ++i)
      if (std::strncmp(argv[i], flag, std::strlen(flag)) == 0) return true;
    return false;
  };
  if (!given("--benchmark_min_time")) {
    storage.push_back(std::string("--benchmark_min_time=") + min_time);
    args.push_back(storage.back().data());
  }
  if (repetitions && !given("--benchmark_repetitions")) {
    storage.push_back(std::string("--benchmark_repetitions=") + repetitions);
    args.push_back(storage.back().data());
  }
  return args;
}

}  // namespace writ::bench
