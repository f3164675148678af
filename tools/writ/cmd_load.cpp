// `writ load`: payments/s committed, and the time from submission to commit,
// against a running node (writ node) or a validator network (writ abci --rpc
// in front of CometBFT). A measurement for operators and the docs, not a test.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>
#include <thread>

#include <nlohmann/json.hpp>

#include "args.hpp"
#include "commands.hpp"
#include "writ/contracts/system.hpp"
#include "writ/runtime/node.hpp"

namespace writ::cli {

namespace rt = runtime;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

const char* kLoadHelp =
    "usage: writ load --rpc HOST:PORT[,HOST:PORT...] [--txs N] [--senders K] [--timeout S]\n"
    "Measures a chain under load: K of the development keys (default 3: alice, bob,\n"
    "carol; at most 8) each sign N payments (default 200) in nonce order and submit\n"
    "them at once, sender k through the k-th --rpc endpoint (round robin), while\n"
    "the first endpoint is watched for the blocks that commit them. Prints the\n"
    "payments committed per second (first submission to last commit) and the\n"
    "time from each one's submission to the block that commits it (p50, p99,\n"
    "max). Works against `writ node` and against validators (`writ abci --rpc`).\n";

namespace {

bool rpc_call(const rt::Endpoint& ep, const std::string& method, json params, json& result,
              std::string& err) {
  const json req = {{"jsonrpc", "2.0"}, {"id", 1}, {"method", method}, {"params", params}};
  auto r = rt::http_post(ep, "/", req.dump(), 30'000);
  if (!r.ok()) {
    err = r.error().message;
    return false;
  }
  const json j = json::parse(r->body, nullptr, false);
  if (!j.is_object() || j.contains("error")) {
    err = j.is_object() ? j["error"].dump() : r->body;
    return false;
  }
  result = j["result"];
  return true;
}

double ms(Clock::duration d) {
  return static_cast<double>(std::chrono::duration_cast<std::chrono::microseconds>(d).count()) /
         1000.0;
}

}  // namespace

int cmd_load(const std::vector<std::string>& args) {
  Args a;
  if (!parse_args("load", args, {"--rpc", "--txs", "--senders", "--timeout"}, {}, a))
    return kExitUsage;
  if (a.help) {
    std::fputs(kLoadHelp, stdout);
    return kExitOk;
  }
  if (!a.one("--rpc")) {
    std::fputs(kLoadHelp, stderr);
    return kExitUsage;
  }
  std::vector<rt::Endpoint> eps;
  for (size_t at = 0; at <= a.one("--rpc")->size();) {
    size_t comma = a.one("--rpc")->find(',', at);
    if (comma == std::string::npos) comma = a.one("--rpc")->size();
    auto ep = rt::parse_loopback_endpoint(a.one("--rpc")->substr(at, comma - at));
    if (!ep.ok()) {
      std::fprintf(stderr, "writ load: --rpc %s\n", ep.error().message.c_str());
      return kExitUsage;
    }
    eps.push_back(ep.value());
    at = comma + 1;
  }
  const uint64_t n = a.one("--txs") ? std::strtoull(a.one("--txs")->c_str(), nullptr, 10) : 200;
  const size_t k = a.one("--senders") ? std::strtoull(a.one("--senders")->c_str(), nullptr, 10) : 3;
  const long timeout_s =
      a.one("--timeout") ? std::strtol(a.one("--timeout")->c_str(), nullptr, 10) : 120;
  if (n == 0 || k == 0 || k > 8) {
    std::fprintf(stderr, "writ load: --txs must be positive and --senders 1 to 8\n");
    return kExitUsage;
  }
  static const contracts::DevKey kOrder[] = {
      contracts::DevKey::Alice,     contracts::DevKey::Bob,       contracts::DevKey::Carol,
      contracts::DevKey::Reviewer,  contracts::DevKey::Reporter1, contracts::DevKey::Reporter2,
      contracts::DevKey::Reporter3, contracts::DevKey::Governance};
  std::string err;
  json r;
  if (!rpc_call(eps[0], "writ_chainId", json::array(), r, err)) {
    std::fprintf(stderr, "writ load: %s: %s\n", eps[0].to_string().c_str(), err.c_str());
    return kExitInput;
  }
  const uint64_t chain_id = r.get<uint64_t>();
  // Every payment signed before the clock starts.
  std::vector<std::vector<rt::Transaction>> txs(k);
  for (size_t s = 0; s < k; ++s) {
    const rt::Keypair key = contracts::dev_key(kOrder[s]);
    if (!rpc_call(eps[0], "writ_getNonce", json::array({"0x" + rt::address_of(key.pub).hex()}), r,
                  err)) {
      std::fprintf(stderr, "writ load: writ_getNonce: %s\n", err.c_str());
      return kExitInput;
    }
    const uint64_t nonce = r.get<uint64_t>();
    for (uint64_t i = 0; i < n; ++i) {
      rt::Transaction t;
      t.kind = rt::Transaction::Kind::Call;
      t.chain_id = chain_id;
      t.nonce = nonce + i;
      t.gas_limit = 100'000;
      t.gas_price = vm::U256::from_u64(1);
      t.value = vm::U256::from_u64(1 + i % 7);
      t.to = rt::Address::from_u256(vm::U256::from_u64(0xb0b + s));
      t.sign_with(key);
      txs[s].push_back(std::move(t));
    }
  }
  std::mutex mu;
  std::map<rt::Hash256, Clock::time_point> sent, committed;
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> refused{0};
  if (!rpc_call(eps[0], "writ_blockNumber", json::array(), r, err)) {
    std::fprintf(stderr, "writ load: %s\n", err.c_str());
    return kExitInput;
  }
  uint64_t next_height = r.get<uint64_t>() + 1, blocks = 0;
  const auto started = Clock::now();
  std::thread watcher([&] {
    while (!stop.load()) {
      json b;
      std::string e;
      if (rpc_call(eps[0], "writ_getBlock", json::array({next_height}), b, e) && b.is_object()) {
        const auto now = Clock::now();
        std::lock_guard<std::mutex> g(mu);
        for (const auto& h : b["transactions"])
          if (auto hash = rt::Hash256::from_hex(h.get<std::string>()))
            committed.emplace(*hash, now);
        ++next_height;
        ++blocks;
        continue;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  });
  std::vector<std::thread> senders;
  for (size_t s = 0; s < k; ++s)
    senders.emplace_back([&, s] {
      const rt::Endpoint& ep = eps[s % eps.size()];
      for (const rt::Transaction& t : txs[s]) {
        const auto at = Clock::now();
        json res;
        std::string e;
        if (!rpc_call(ep, "writ_sendRawTransaction", json::array({rt::to_hex(t.encode())}), res,
                      e)) {
          if (refused.fetch_add(1) == 0)
            std::fprintf(stderr, "writ load: a payment was refused: %s\n", e.c_str());
          continue;
        }
        std::lock_guard<std::mutex> g(mu);
        sent.emplace(t.hash(), at);
      }
    });
  for (std::thread& t : senders) t.join();
  const auto deadline = Clock::now() + std::chrono::seconds(timeout_s);
  for (;;) {
    {
      std::lock_guard<std::mutex> g(mu);
      size_t done = 0;
      for (const auto& [h, t] : sent) done += committed.count(h);
      if (done == sent.size()) break;
    }
    if (Clock::now() > deadline) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  stop.store(true);
  watcher.join();
  std::vector<double> latency;
  Clock::time_point last = started;
  for (const auto& [h, t] : sent) {
    auto c = committed.find(h);
    if (c == committed.end()) continue;
    latency.push_back(ms(c->second - t));
    last = std::max(last, c->second);
  }
  if (latency.empty()) {
    std::fprintf(stderr, "writ load: no payment was committed within %ld s\n", timeout_s);
    return kExitInput;
  }
  std::sort(latency.begin(), latency.end());
  auto pct = [&](double p) {
    return latency[std::min(latency.size() - 1, static_cast<size_t>(p * latency.size()))];
  };
  const double secs = ms(last - started) / 1000.0;
  std::printf(
      "%zu of %zu payments committed (%llu refused at submission) in %.2f s over %llu "
      "blocks: %.0f payments/s\n",
      latency.size(), static_cast<size_t>(n * k), static_cast<unsigned long long>(refused.load()),
      secs, static_cast<unsigned long long>(blocks), latency.size() / secs);
  std::printf("submission to commit: p50 %.0f ms, p99 %.0f ms, max %.0f ms\n", pct(0.5), pct(0.99),
              latency.back());
  return latency.size() == n * k ? kExitOk : kExitInput;
}

}  // namespace writ::cli
