// writ_rpc_bench: the dev node's JSON-RPC throughput and latency under load
// (issue 8), on loopback, in one run.
//
// A node in this process (RpcServer over RpcHandler over a fresh RocksDB
// chain, default ServerOptions) serves `--clients` concurrent clients, each
// with its own funded sender. Each client sends signed payments with
// writ_sendRawTransaction, one request per connection (the node answers
// `Connection: close`), the next as soon as the previous is answered. For
// each mode the run is measured twice: alone, and with 32 slow clients
// connected throughout (each sends one byte and nothing more; when the node
// drops one at its io_timeout, it connects again at once).
//
//   block-per-tx   the node's default: a payment is executed in its own
//                  block, committed (synced) and only then answered.
//                  payments/s = answered payments / wall time; latency =
//                  send to answer.
//   interval       --block-interval 50 ms: a payment is queued and answered,
//                  a block every 50 ms commits the queue. payments/s =
//                  payments / (first send to the block that commits the
//                  last); latency = send to answer (queued).
//
// Usage: writ_rpc_bench [--clients N] [--payments N] [--seconds S] [--repeat N]
// (default 16 clients, 2,000 payments per run, each run cut at 30 s, 3 runs
// of each case, alone and loaded alternating; each figure is the median of
// its runs, and each ratio the median of the ratios of a loaded run to the
// alone run just before it, so that a shared machine's drift falls on both
// sides alike).
// Every load loop is bounded in count and time; the data directories are
// removed.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "writ/runtime/chain.hpp"
#include "writ/runtime/node.hpp"

namespace writ::runtime {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr uint64_t kChainId = 88;
constexpr uint64_t kPaymentGas = 1'000;
constexpr size_t kSlowClients = 32;

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "writ_rpc_bench: %s\n", what.c_str());
  std::exit(1);
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

struct Config {
  size_t clients = 16;
  size_t payments = 2000;
  double seconds = 30;
  size_t repeat = 3;
};

struct Figures {
  size_t payments = 0;
  double per_s = 0;
  double p50_ms = 0, p99_ms = 0;
  size_t slow_connects = 0;  // connections the slow clients made
};

// 32 clients that each send one byte and then nothing; one that the node
// closes connects again at once. Runs until `stop`.
void hold_slow_clients(uint16_t port, const std::atomic<bool>& stop,
                       std::atomic<size_t>& connects) {
  std::array<int, kSlowClients> fds;
  fds.fill(-1);
  auto open_one = [&]() -> int {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -1;
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 ||
        ::send(fd, "P", 1, MSG_NOSIGNAL) != 1) {
      ::close(fd);
      return -1;
    }
    ++connects;
    return fd;
  };
  while (!stop.load()) {
    std::vector<pollfd> p;
    for (int& fd : fds) {
      if (fd < 0) fd = open_one();
      if (fd >= 0) p.push_back({fd, POLLIN, 0});
    }
    ::poll(p.data(), p.size(), 50);
    for (const pollfd& q : p) {
      if (!q.revents) continue;
      char buf[4096];
      ssize_t n = ::recv(q.fd, buf, sizeof buf, MSG_DONTWAIT);
      if (n > 0) continue;  // its 408; the close follows
      if (n < 0 && (errno == EAGAIN || errno == EINTR)) continue;
      for (int& fd : fds)
        if (fd == q.fd) fd = -1;
      ::close(q.fd);
    }
  }
  for (int fd : fds)
    if (fd >= 0) ::close(fd);
}

Figures run(const Config& cfg, bool interval, bool slow) {
  // Senders and their payments, signed before the clock starts.
  const size_t per_client = (cfg.payments + cfg.clients - 1) / cfg.clients;
  std::vector<Keypair> keys(cfg.clients);
  Genesis g;
  g.chain_id = kChainId;
  g.timestamp = 1'700'000'000;
  for (size_t c = 0; c < cfg.clients; ++c) {
    std::array<uint8_t, 32> seed{};
    std::memcpy(seed.data(), &c, sizeof c);
    seed[31] = 0x8B;
    keys[c] = keypair_from_seed(seed);
    g.accounts.push_back({address_of(keys[c].pub), U256::from_u64(1'000'000'000'000)});
  }
  std::vector<std::vector<std::string>> bodies(cfg.clients);
  std::vector<Hash256> last_tx(cfg.clients);
  for (size_t c = 0; c < cfg.clients; ++c)
    for (size_t i = 0; i < per_client; ++i) {
      Transaction t;
      t.kind = Transaction::Kind::Call;
      t.chain_id = kChainId;
      t.nonce = i;
      t.gas_limit = kPaymentGas;
      t.gas_price = U256::from_u64(1);
      t.value = U256::from_u64(1);
      t.to = sha256("bench.rpc.recipient",
                    std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(&i), sizeof i));
      t.sign_with(keys[c]);
      last_tx[c] = t.hash();
      bodies[c].push_back(
          R"({"jsonrpc":"2.0","id":1,"method":"writ_sendRawTransaction","params":[")" +
          to_hex(t.encode()) + "\"]}");
    }

  fs::path dir = fs::temp_directory_path() / ("writ-rpc-bench-" + std::to_string(::getpid()) +
                                              (interval ? "-i" : "-b") + (slow ? "-s" : ""));
  fs::remove_all(dir);
  Figures out;
  {
    auto store = open_rocksdb_store(dir.string(), RocksStoreOptions{.create = true});
    if (!store.ok()) die(store.error().to_string());
    auto chain = Chain::open(std::move(store.value()), g);
    if (!chain.ok()) die(chain.error().to_string());
    RpcOptions ro;
    ro.block_per_tx = !interval;
    RpcHandler handler(*chain.value(), ro);
    ServerOptions so;
    so.bind = "127.0.0.1:0";
    so.block_interval_ms = interval ? 50 : 0;
    so.exit_after_ms = static_cast<uint64_t>(cfg.seconds * 1000) + 60'000;  // a safety net
    RpcServer server(handler, so);
    if (Status s = server.start(); !s) die("node: " + s.message);
    std::thread serve([&] { server.run(); });

    std::atomic<bool> stop_slow{false};
    std::atomic<size_t> slow_connects{0};
    std::thread slow_thread;
    if (slow) {
      slow_thread =
          std::thread([&] { hold_slow_clients(server.port(), stop_slow, slow_connects); });
      std::this_thread::sleep_for(std::chrono::milliseconds(200));  // all connected
    }

    const Endpoint ep = server.endpoint();
    const auto start = Clock::now();
    const auto cutoff = start + std::chrono::duration<double>(cfg.seconds);
    std::vector<std::vector<double>> lat(cfg.clients);
    std::atomic<size_t> failed{0};
    std::vector<std::thread> clients;
    for (size_t c = 0; c < cfg.clients; ++c)
      clients.emplace_back([&, c] {
        for (const std::string& body : bodies[c]) {
          if (Clock::now() >= cutoff) return;
          const auto t0 = Clock::now();
          auto r = http_post(ep, "/", body, 30'000);
          const auto t1 = Clock::now();
          if (!r.ok() || r->status != 200 || r->body.find("\"result\"") == std::string::npos) {
            ++failed;
            return;
          }
          lat[c].push_back(std::chrono::duration<double, std::milli>(t1 - t0).count());
        }
      });
    for (auto& t : clients) t.join();
    size_t sent = 0;
    for (const auto& l : lat) sent += l.size();
    if (interval) {
      // Until the block that commits every payment sent.
      const auto limit = Clock::now() + std::chrono::seconds(10);
      for (size_t c = 0; c < cfg.clients; ++c)
        while (lat[c].size() == per_client && !chain.value()->receipt(last_tx[c]) &&
               Clock::now() < limit)
          std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    const double secs = std::chrono::duration<double>(Clock::now() - start).count();
    stop_slow.store(true);
    if (slow_thread.joinable()) slow_thread.join();
    server.stop();
    serve.join();
    if (failed.load()) die("a client got no answer or an error");
    std::vector<double> all;
    for (const auto& l : lat) all.insert(all.end(), l.begin(), l.end());
    out.payments = sent;
    out.per_s = static_cast<double>(sent) / secs;
    out.p50_ms = percentile(all, 50);
    out.p99_ms = percentile(all, 99);
    out.slow_connects = slow_connects.load();
  }
  fs::remove_all(dir);
  return out;
}

}  // namespace
}  // namespace writ::runtime

int main(int argc, char** argv) {
  using namespace writ::runtime;
  Config cfg;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--clients" && i + 1 < argc)
      cfg.clients = std::max<size_t>(1, std::stoul(argv[++i]));
    else if (a == "--payments" && i + 1 < argc)
      cfg.payments = std::max<size_t>(1, std::stoul(argv[++i]));
    else if (a == "--seconds" && i + 1 < argc)
      cfg.seconds = std::stod(argv[++i]);
    else if (a == "--repeat" && i + 1 < argc)
      cfg.repeat = std::max<size_t>(1, std::stoul(argv[++i]));
    else
      die("usage: writ_rpc_bench [--clients N] [--payments N] [--seconds S] [--repeat N]");
  }
  std::printf(
      "writ_rpc_bench: %u hardware threads; %zu clients, %zu payments per run (cut at %.0f s); "
      "medians of %zu runs\n",
      std::thread::hardware_concurrency(), cfg.clients, cfg.payments, cfg.seconds, cfg.repeat);
  std::printf("%-14s %-16s %9s %10s %8s %8s\n", "mode", "slow clients", "payments", "payments/s",
              "p50 ms", "p99 ms");
  std::fflush(stdout);
  auto median = [](std::vector<Figures> runs) {
    Figures m = runs[0];
    auto mid = [&](auto field) {
      std::vector<double> v;
      for (const Figures& f : runs) v.push_back(f.*field);
      return percentile(v, 50);
    };
    m.per_s = mid(&Figures::per_s);
    m.p50_ms = mid(&Figures::p50_ms);
    m.p99_ms = mid(&Figures::p99_ms);
    for (const Figures& f : runs) {
      m.payments = std::min(m.payments, f.payments);
      m.slow_connects = std::max(m.slow_connects, f.slow_connects);
    }
    return m;
  };
  for (bool interval : {false, true}) {
    std::vector<Figures> alone_runs, loaded_runs;
    for (size_t r = 0; r < cfg.repeat; ++r) {
      alone_runs.push_back(run(cfg, interval, false));
      loaded_runs.push_back(run(cfg, interval, true));
    }
    const Figures alone = median(alone_runs), loaded = median(loaded_runs);
    const char* mode = interval ? "interval 50ms" : "block-per-tx";
    std::printf("%-14s %-16s %9zu %10.0f %8.2f %8.2f\n", mode, "none", alone.payments, alone.per_s,
                alone.p50_ms, alone.p99_ms);
    std::printf("%-14s %-16s %9zu %10.0f %8.2f %8.2f\n", mode,
                ("32 (" + std::to_string(loaded.slow_connects) + " conn.)").c_str(),
                loaded.payments, loaded.per_s, loaded.p50_ms, loaded.p99_ms);
    // Each loaded run against the alone run just before it (the same minute
    // of a shared machine): the median of those ratios, and their range.
    auto ratios = [&](double Figures::*field) {
      std::vector<double> v;
      for (size_t r = 0; r < cfg.repeat; ++r)
        v.push_back(loaded_runs[r].*field / alone_runs[r].*field);
      return v;
    };
    const auto rs = ratios(&Figures::per_s), r50 = ratios(&Figures::p50_ms),
               r99 = ratios(&Figures::p99_ms);
    std::printf("%-14s %-16s %9s %9.3fx %7.3fx %7.3fx\n", mode, "ratio (paired)", "",
                percentile(rs, 50), percentile(r50, 50), percentile(r99, 50));
    auto range = [](const std::vector<double>& v) {
      return std::to_string(*std::min_element(v.begin(), v.end())).substr(0, 5) + "-" +
             std::to_string(*std::max_element(v.begin(), v.end())).substr(0, 5);
    };
    std::printf("%-14s %-16s %9s %10s %8s %8s\n", mode, "ratio range", "", range(rs).c_str(),
                range(r50).c_str(), range(r99).c_str());
    std::fflush(stdout);
  }
  return 0;
}
