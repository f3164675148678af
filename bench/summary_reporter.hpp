// A console reporter that also keeps each benchmark's fastest repetition
// (CPU time per iteration, ns), for the summary tables the benchmark binaries
// print after their runs.
#pragma once

#include <benchmark/benchmark.h>

#include <algorithm>
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

}  // namespace writ::bench
