// Helpers shared by the benchmarks that build a chain on RocksDB in
// temporary directories and time its blocks (writ_state_read_bench,
// writ_commit_bench): stopping with a message (the directories removed),
// CPU and wall time, waiting for RocksDB's background work, the machine's
// load, medians, and options that take a whole number.
#pragma once

#include <time.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "writ/compiler/compiler.hpp"
#include "writ/runtime/chain.hpp"

namespace writ::bench {

using Clock = std::chrono::steady_clock;

// The program's name for its messages, and the temporary database
// directories, removed by die() too.
inline std::string g_program = "writ_bench";
inline std::vector<std::filesystem::path> g_temp_dirs;

[[noreturn]] inline void die_removing_temp_dirs(const std::string& what) {
  std::fprintf(stderr, "%s: %s\n", g_program.c_str(), what.c_str());
  std::error_code ec;
  for (const std::filesystem::path& d : g_temp_dirs) std::filesystem::remove_all(d, ec);
  std::exit(1);
}

inline double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// CPU time of the whole process, every thread (RocksDB's background ones too).
inline double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// CPU time of the calling thread.
inline double thread_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Waits until this process's other threads are idle (under 5% of a core
// over 100 ms), at most 20 s, and returns the seconds waited. After an open
// or a block's synced write RocksDB may flush its memtables and compact on
// background threads, which would otherwise share the machine's cores with
// the next measured block.
inline double wait_until_quiet() {
  const auto t0 = Clock::now();
  double cpu = process_cpu_seconds();
  while (seconds_since(t0) < 20) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    const double now = process_cpu_seconds();
    if (now - cpu < 0.005) break;
    cpu = now;
  }
  return seconds_since(t0);
}

// The load averages of the machine (/proc/loadavg), for the record: other
// work on a shared machine stretches the wall-clock figures.
inline std::string load_average() {
  std::FILE* f = std::fopen("/proc/loadavg", "r");
  if (!f) return "unknown";
  double a = 0, b = 0, c = 0;
  const int n = std::fscanf(f, "%lf %lf %lf", &a, &b, &c);
  std::fclose(f);
  if (n != 3) return "unknown";
  char text[64];
  std::snprintf(text, sizeof text, "%.2f %.2f %.2f", a, b, c);
  return text;
}

inline double median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// An option's value: a whole number, or the run stops saying which option.
inline uint64_t count_of(const std::string& option, const char* text) {
  uint64_t v = 0;
  const char* end = text + std::strlen(text);
  const auto [past, ec] = std::from_chars(text, end, v);
  if (ec != std::errc() || past != end || past == text)
    die_removing_temp_dirs(option + " takes a whole number, not '" + text + "'");
  return v;
}

// The selector of the contract's function `name`; stops the run without one.
inline uint32_t selector_of(const compiler::ContractOutput& contract, const std::string& name) {
  for (const auto& f : contract.functions)
    if (f.name == name) return f.selector;
  die_removing_temp_dirs("the contract has no function " + name);
}

// Produces blocks until every one of `txs` (one sender's, in nonce order) is
// in: each block takes as many as its gas allows, the rest go to the next.
// `check` sees each block's result. Returns the number of blocks.
template <class Check>
size_t produce_all(runtime::Chain& chain, uint64_t& time, std::vector<runtime::Transaction> txs,
                   Check check) {
  size_t blocks = 0;
  while (!txs.empty()) {
    auto r = chain.produce_block(txs, ++time);
    if (!r.ok()) die_removing_temp_dirs("produce_block: " + r.error().to_string());
    if (r->block.txs.empty()) die_removing_temp_dirs("a block took none of the transactions");
    check(r.value());
    for (const auto& rej : r->rejected)
      if (rej.kind == runtime::Chain::RejectKind::Invalid)
        die_removing_temp_dirs("invalid transaction: " + rej.reason);
    txs.erase(txs.begin(), txs.begin() + static_cast<long>(r->block.txs.size()));
    ++blocks;
  }
  return blocks;
}

}  // namespace writ::bench
