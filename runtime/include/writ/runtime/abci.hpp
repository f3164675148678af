// Writ as an ABCI++ application of CometBFT v0.38: validators replicate the
// chain through CometBFT's consensus, and this is the application each one
// runs beside its CometBFT node (`writ abci`).
//
//   abci::AppOptions o;
//   o.data_dir = "/var/writ";                    // the chain is made at InitChain
//   abci::App app(o);
//   abci::Server server(app, {.address = "tcp://127.0.0.1:26658"});
//   if (Status s = server.start(); !s) ...;
//   server.run();                                // until stop()
//
// The protocol (docs/network.md): CometBFT opens four connections (consensus,
// mempool, query, snapshot) and sends each a stream of Request messages,
// each framed by its length as an unsigned varint; the app answers every
// request on its connection, in order, with a Response framed the same way.
//
// Contract:
//   1. The app hash is the Writ state root. InitChain creates the chain from
//      the Writ genesis JSON in app_state_bytes (else AppOptions' genesis);
//      Info reports the last committed height and state root, so a
//      restarted app resumes where its store is and CometBFT replays the
//      blocks it lacks.
//   2. FinalizeBlock executes the block (Chain::stage_block) and answers a
//      result per transaction and the app hash; Commit alone writes
//      (Chain::commit_staged). A crash in between loses nothing CometBFT
//      has not kept: the block is finalized again after the restart.
//   3. Execution depends on the block alone: its transactions and the block
//      time CometBFT supplies (in seconds). No wall clock.
//   4. CheckTx admits a transaction the chain would take after those the
//      mempool holds of the same sender (signature, chain, nonce in
//      sequence, balance); PrepareProposal keeps the valid ones within the
//      size, count and gas limits; ProcessProposal rejects a proposal with
//      an invalid one.
//   5. A request the app cannot serve (a malformed message, a Commit
//      without FinalizeBlock, a block for the wrong height) is answered with
//      an exception and logged; the app never crashes on input and never
//      commits a block CometBFT did not finalize.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "writ/runtime/chain.hpp"

namespace writ::runtime::abci {

// Frames larger than this are refused (the connection is closed). Above
// the largest request CometBFT can send: a block of up to 100 MiB
// (block.max_bytes at most 104,857,600) with its commit and evidence.
inline constexpr size_t kMaxFrame = 128u << 20;

// The front of `buf` as a frame: kFrame sets `payload` and `used` (the
// bytes the frame took); kMore: not all of it has arrived; kBad: it never
// will be a frame (`why`: a length that is no 64-bit varint, or over kMaxFrame).
enum class FrameStatus { kFrame, kMore, kBad };
FrameStatus read_frame(std::string_view buf, std::string_view& payload, size_t& used,
                       std::string& why);
std::string frame(std::string_view payload);
// `s` with every byte that is not part of well-formed UTF-8 written as
// "\xNN": protobuf strings (logs, errors) must be UTF-8, and they may quote
// input.
std::string utf8_text(std::string_view s);
// A Response carrying an exception (what a request the app cannot serve gets).
std::string exception_response(const std::string& why);

struct AppOptions {
  std::string data_dir;
  // The Writ genesis JSON InitChain uses when CometBFT's app_state is empty.
  std::string genesis_json;
  // Operator log lines ("block 12: 3 txs, app hash 0x..."); default stderr.
  std::function<void(const std::string&)> log;
  // Only problems are logged, not every block.
  bool quiet = false;
  // Open a chain whose database lost committed blocks at the height it
  // recovered (DataDirOptions::accept_lost_writes); CometBFT then replays the
  // lost blocks from its own store. Without it such a chain is refused.
  bool accept_rollback = false;
};

class App {
 public:
  explicit App(AppOptions options);
  ~App();
  App(const App&) = delete;
  App& operator=(const App&) = delete;

  // Opening an existing chain failed: why (the app then answers every
  // request with an exception). Empty when all is well.
  const std::string& open_error() const;

  // One Request (protobuf, unframed) to its Response. Thread-safe: the
  // connections' requests run one at a time.
  std::string handle(std::string_view request);

  // The chain, once InitChain made it or the data directory held it; for
  // tests and the JSON-RPC reads. REQUIRES: the caller holds lock().
  Chain* chain();
  std::unique_lock<std::mutex> lock();
  // The lock itself, for a JSON-RPC handler over the same chain
  // (RpcOptions::chain_mutex).
  std::mutex& mutex();

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
};

struct ServerOptions {
  // "tcp://127.0.0.1:26658" (loopback only; port 0: ephemeral) or
  // "unix:///path/to/socket".
  std::string address = "tcp://127.0.0.1:26658";
};

class Server {
 public:
  Server(App& app, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;
  Status start();               // binds and listens
  std::string address() const;  // as bound: the port chosen for port 0
  void run();                   // serves until stop(); joins its threads
  void stop();                  // any thread; idempotent
  uint64_t connections() const { return connections_.load(); }

 private:
  void serve(int fd);
  App& app_;
  ServerOptions options_;
  int listen_fd_ = -1;
  std::string bound_;
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> connections_{0};
  std::mutex mu_;
  std::vector<int> open_;
  std::vector<std::thread> threads_;
};

}  // namespace writ::runtime::abci
