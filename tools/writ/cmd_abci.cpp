// `writ abci`: the validator's application beside a CometBFT node.
#include <csignal>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include "args.hpp"
#include "commands.hpp"
#include "writ/contracts/system.hpp"
#include "writ/runtime/abci.hpp"

namespace writ::cli {

namespace abci = runtime::abci;

const char* kAbciHelp =
    "usage: writ abci --data DIR [--genesis FILE] [--addr tcp://127.0.0.1:PORT | unix://PATH]\n"
    "                 [--exit-after-seconds S] [--quiet]\n"
    "Runs Writ as the ABCI++ application of a CometBFT v0.38 node (docs/network.md):\n"
    "CometBFT orders the blocks, this executes them on the chain kept in RocksDB\n"
    "under DIR. The chain is made at InitChain from the Writ genesis in CometBFT's\n"
    "genesis app_state (else --genesis FILE, else the default development\n"
    "genesis of `writ genesis`); later starts resume it. Listens on --addr\n"
    "(default tcp://127.0.0.1:26658, loopback only; CometBFT's proxy_app) and\n"
    "prints `listening on ADDR`. Logs each block and every refused request on\n"
    "standard error (only the refusals with --quiet).\n";

namespace {

std::atomic<abci::Server*> g_abci{nullptr};

extern "C" void on_abci_signal(int) {
  if (abci::Server* s = g_abci.load()) s->stop();
}

}  // namespace

int cmd_abci(const std::vector<std::string>& args) {
  Args a;
  if (!parse_args("abci", args, {"--data", "--genesis", "--addr", "--exit-after-seconds"},
                  {"--quiet"}, a))
    return kExitUsage;
  if (a.help) {
    std::fputs(kAbciHelp, stdout);
    return kExitOk;
  }
  if (!a.one("--data") || !a.pos.empty()) {
    std::fputs(kAbciHelp, stderr);
    return kExitUsage;
  }
  abci::AppOptions o;
  o.data_dir = *a.one("--data");
  o.quiet = a.has("--quiet");
  if (const std::string* g = a.one("--genesis")) {
    std::ifstream in(*g, std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "writ abci: --genesis %s: cannot read\n", g->c_str());
      return kExitInput;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    o.genesis_json = ss.str();
  } else {
    o.genesis_json = contracts::default_genesis_json();
  }
  abci::App app(o);
  if (!app.open_error().empty()) {
    std::fprintf(stderr, "writ abci: %s\n", app.open_error().c_str());
    return kExitInput;
  }
  abci::ServerOptions so;
  if (const std::string* addr = a.one("--addr")) so.address = *addr;
  abci::Server server(app, so);
  if (runtime::Status s = server.start(); !s) {
    std::fprintf(stderr, "writ abci: %s\n", s.message.c_str());
    return kExitInput;
  }
  g_abci.store(&server);
  struct sigaction sa {};
  sa.sa_handler = on_abci_signal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  std::signal(SIGPIPE, SIG_IGN);
  std::thread timer;
  if (const std::string* s = a.one("--exit-after-seconds")) {
    const unsigned long secs = std::strtoul(s->c_str(), nullptr, 10);
    timer = std::thread([&server, secs] {
      for (unsigned long i = 0; i < secs * 10; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        if (g_abci.load() == nullptr) return;
      }
      server.stop();
    });
  }
  std::printf("listening on %s\n", server.address().c_str());
  std::fflush(stdout);
  server.run();
  g_abci.store(nullptr);
  if (timer.joinable()) timer.join();
  auto lock = app.lock();
  if (runtime::Chain* c = app.chain())
    std::printf("stopped at height %llu, app hash 0x%s\n",
                static_cast<unsigned long long>(c->head().height),
                c->head().state_root.hex().c_str());
  else
    std::printf("stopped before InitChain\n");
  return kExitOk;
}

}  // namespace writ::cli
