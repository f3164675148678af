// `writ abci`: the validator's application beside a CometBFT node.
#include <csignal>
#include <cstdio>
#include <fstream>
#include <sstream>
#include <thread>

#include <openssl/evp.h>
#include <nlohmann/json.hpp>
#include "args.hpp"
#include "commands.hpp"
#include "writ/contracts/system.hpp"

#include "writ/runtime/abci.hpp"
#include "writ/runtime/node.hpp"

namespace writ::cli {

namespace abci = runtime::abci;

const char* kAbciHelp =
    "usage: writ abci --data DIR [--genesis FILE] [--addr tcp://127.0.0.1:PORT | unix://PATH]\n"
    "                 [--rpc 127.0.0.1:PORT [--cometbft 127.0.0.1:PORT]]\n"
    "                 [--accept-rollback] [--exit-after-seconds S] [--quiet]\n"
    "Runs Writ as the ABCI++ application of a CometBFT v0.38 node (docs/network.md):\n"
    "CometBFT orders the blocks, this executes them on the chain kept in RocksDB\n"
    "under DIR. The chain is made at InitChain from the Writ genesis in CometBFT's\n"
    "genesis app_state (else --genesis FILE, else the default development\n"
    "genesis of `writ genesis`); later starts resume it. Listens on --addr\n"
    "(default tcp://127.0.0.1:26658, loopback only; CometBFT's proxy_app) and\n"
    "prints `listening on ADDR`. Logs each block, every refused proposal and\n"
    "every exception on standard error (only the refusals and exceptions with\n"
    "--quiet); a transaction CheckTx refuses is answered to its sender only.\n"
    "  --rpc HOST:PORT     also serve the chain's JSON-RPC (the methods of `writ node`,\n"
    "                      docs/runtime.md) on loopback, once the chain exists (the\n"
    "                      address is taken at start: a port in use is an error); prints\n"
    "                      `rpc listening on HOST:PORT`. writ_sendRawTransaction hands\n"
    "                      the transaction to CometBFT (broadcast_tx_sync at --cometbft,\n"
    "                      default 127.0.0.1:26657), so `writ send --rpc` works the same\n"
    "                      with either kind of node\n"
    "  --accept-rollback   open a chain whose database lost committed blocks (a damaged\n"
    "                      or missing write-ahead log) at the height it recovered;\n"
    "                      CometBFT then replays the lost blocks from its own store\n"
    "                      (docs/network.md, \"How it fails\")\n";

namespace {

std::atomic<abci::Server*> g_abci{nullptr};

std::atomic<runtime::RpcServer*> g_rpc{nullptr};

extern "C" void on_abci_signal(int) {
  if (abci::Server* s = g_abci.load()) s->stop();
  if (runtime::RpcServer* s = g_rpc.load()) s->stop();
}

// Hands a transaction to CometBFT's mempool (broadcast_tx_sync): why it was
// refused (CheckTx's log), empty when taken.
std::string broadcast(const runtime::Endpoint& cometbft, const runtime::Bytes& raw) {
  std::string b64(4 * ((raw.size() + 2) / 3) + 1, '\0');
  const int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(b64.data()), raw.data(),
                                static_cast<int>(raw.size()));
  b64.resize(static_cast<size_t>(n));
  const nlohmann::json req = {
      {"jsonrpc", "2.0"}, {"id", 1}, {"method", "broadcast_tx_sync"}, {"params", {{"tx", b64}}}};
  auto r = runtime::http_post(cometbft, "/", req.dump(), 10'000);
  if (!r.ok()) return "CometBFT at " + cometbft.to_string() + ": " + r.error().message;
  const nlohmann::json j = nlohmann::json::parse(r->body, nullptr, false);
  if (!j.is_object()) return "CometBFT answered HTTP " + std::to_string(r->status);
  if (j.contains("error")) {
    const nlohmann::json& e = j["error"];
    return "CometBFT: " + e.value("message", std::string("error")) + ": " +
           (e.contains("data") && e["data"].is_string() ? e["data"].get<std::string>() : "");
  }
  const nlohmann::json& res = j.value("result", nlohmann::json::object());
  if (res.value("code", 0) != 0) return res.value("log", std::string("refused by CheckTx"));
  return "";
}

}  // namespace

int cmd_abci(const std::vector<std::string>& args) {
  Args a;
  if (!parse_args("abci", args,
                  {"--data", "--genesis", "--addr", "--rpc", "--cometbft", "--exit-after-seconds"},
                  {"--quiet", "--accept-rollback"}, a))
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
  o.accept_rollback = a.has("--accept-rollback");
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
  std::optional<runtime::Endpoint> rpc_at, cometbft;
  if (const std::string* r = a.one("--rpc")) {
    auto ep = runtime::parse_loopback_endpoint(*r);
    auto cb = runtime::parse_loopback_endpoint(a.one("--cometbft") ? *a.one("--cometbft")
                                                                   : "127.0.0.1:26657");
    if (!ep.ok() || !cb.ok()) {
      std::fprintf(
          stderr, "writ abci: %s\n",
          (!ep.ok() ? "--rpc " + ep.error().message : "--cometbft " + cb.error().message).c_str());
      return kExitUsage;
    }
    rpc_at = ep.value();
    cometbft = cb.value();
  } else if (a.one("--cometbft")) {
    std::fprintf(stderr, "writ abci: --cometbft goes with --rpc\n");
    return kExitUsage;
  }
  // The JSON-RPC's address is taken now, so that a port in use stops the
  // validator here rather than leaving it running unreachable; it serves once
  // there is a chain (InitChain makes it), clients waiting until then.
  std::optional<runtime::RpcServer> rpc;
  if (rpc_at) {
    runtime::ServerOptions rso;
    rso.bind = rpc_at->to_string();
    rpc.emplace(rso);
    if (runtime::Status s = rpc->start(); !s) {
      std::fprintf(stderr, "writ abci: --rpc: %s\n", s.message.c_str());
      return kExitInput;
    }
    g_rpc.store(&*rpc);
  }
  abci::Server server(app, so);
  if (runtime::Status s = server.start(); !s) {
    g_rpc.store(nullptr);
    std::fprintf(stderr, "writ abci: %s\n", s.message.c_str());
    return kExitInput;
  }
  g_abci.store(&server);
  install_stop_signals(on_abci_signal);
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
  std::atomic<bool> done{false};
  std::thread rpc_thread;
  if (rpc)
    rpc_thread = std::thread([&] {
      runtime::Chain* chain = nullptr;
      while (!done.load() && !chain) {
        {
          auto lock = app.lock();
          chain = app.chain();
        }
        if (!chain) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      if (!chain) return;
      runtime::RpcOptions ro;
      ro.block_per_tx = false;
      ro.chain_mutex = &app.mutex();
      ro.submit = [&](const runtime::Transaction&, const runtime::Bytes& raw) {
        return broadcast(*cometbft, raw);
      };
      runtime::RpcHandler handler(*chain, ro);
      rpc->attach(handler);
      std::printf("rpc listening on %s\n", rpc->endpoint().to_string().c_str());
      std::fflush(stdout);
      rpc->run();
    });
  server.run();
  g_abci.store(nullptr);
  done.store(true);
  if (rpc) rpc->stop();
  if (rpc_thread.joinable()) rpc_thread.join();
  g_rpc.store(nullptr);
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
