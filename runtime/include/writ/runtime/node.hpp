// The dev node: JSON-RPC 2.0 over HTTP/1.1 on loopback, over a Chain kept in
// RocksDB under a data directory. `writ node` is a thin shell around this.
//
//   auto dir = open_data_dir("/tmp/devchain", "genesis.json", {.create = true});  // once
//   auto dir = open_data_dir("/tmp/devchain", "");               // resumes it
//   RpcHandler rpc(*dir->chain);                                // the writ_* methods
//   ServerOptions so;
//   so.bind = "127.0.0.1:0";                                    // 0: an ephemeral port
//   RpcServer server(rpc, so);
//   if (Status s = server.start(); !s) ...;                     // binds; server.port()
//   server.run();                                               // until stop()
//
// The methods, their parameters and results are documented with examples in
// docs/runtime.md ("JSON-RPC"). Text forms on the wire: addresses, hashes,
// storage slots and words are "0x" + 64 hex digits (short forms like "0xB0B"
// are accepted as input and zero-extended); byte strings are "0x" + hex;
// amounts (balances, values) are decimal strings; u64 quantities (heights,
// nonces, gas) are JSON numbers.
//
// Contract:
//   1. RpcHandler serializes every use of the Chain behind one mutex, so the
//      Chain's rule (one thread drives it) holds however many requests run at
//      once. Read-only calls (writ_call) are the exception: each takes a
//      ChainView of the head and executes on it without the mutex, so calls
//      never hold up block production or other requests, never wait for a
//      block being produced, and each sees one committed head throughout.
//      Their limits are RpcOptions' call_gas_cap, request_call_gas and
//      request_call_ms (a batch counts as one request); past them a call is
//      answered -32005.
//   2. writ_sendRawTransaction never changes state for an invalid transaction
//      (undecodable: -32602; bad signature, nonce gap or replay, short balance,
//      ...: -32000 with the Chain's reason). A valid one is, with
//      block_per_tx, executed in its own block, committed, and only then
//      answered; otherwise it is queued and produce_pending() includes it.
//   3. RpcServer binds only loopback addresses (127.0.0.0/8, ::1); start()
//      refuses any other.
//   4. No client can hold the server: one thread reads every connection as
//      its bytes arrive, so a slow client costs only its own connection;
//      requests read whole are run by a pool of `workers` threads. Every
//      connection has a deadline (io_timeout_ms) for sending its whole
//      request and another for taking its reply; bodies are capped (max_body,
//      else 413); at most max_connections are open at once, and the next
//      ones read a 503 (never a reset). A connection frees its slot as soon
//      as its reply is written. Malformed HTTP gets a 4xx reply; handle()
//      turns every malformed request into a JSON-RPC error; nothing throws out.
//   5. stop() is async-signal-safe and may be called from any thread; run()
//      returns only after joining every thread it started.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "writ/runtime/chain.hpp"

namespace writ::runtime {

// ---- text forms shared by the node and the `writ` CLI --------------------------

// "0x" + 64 hex digits, or a shorter 0x-hex / decimal number zero-extended
// (0xB0B), as genesis files and the VM read addresses.
std::optional<Address> parse_address_text(std::string_view text);
std::string to_hex(std::span<const uint8_t> bytes);    // "0x" + lowercase hex
std::optional<Bytes> from_hex(std::string_view text);  // "0x" optional; even digit count
std::string word_hex(const U256& v);                   // "0x" + 64 hex digits

struct Endpoint {
  std::string host;  // numeric loopback address: "127.0.0.1", "::1"
  uint16_t port = 0;
  std::string to_string() const;  // "127.0.0.1:8545", "[::1]:8545"
};
bool is_loopback_host(std::string_view numeric_host);
// Parses "HOST:PORT" ("127.0.0.1:8545", "localhost:8545", "[::1]:8545"). Only
// loopback hosts are accepted; the error says why.
Result<Endpoint> parse_loopback_endpoint(std::string_view text);

// ---- data directories ------------------------------------------------------------

struct DataDir {
  std::unique_ptr<Chain> chain;
  bool created = false;  // true: this call wrote the genesis block
  // Non-empty when accept_lost_writes opened a chain that had lost blocks:
  // what was lost, for the operator ("block 812 was committed; ...").
  std::string accepted_loss;
  // The chain's genesis as kept in dir/genesis.json (self-contained JSON).
  std::string genesis_json;
};
struct DataDirOptions {
  // true: create the chain (`writ node --init`); `dir` must not hold one.
  // false: open the chain `dir` holds; a directory without its database
  // (dir/chain missing, or its files lost) is an error, never a new chain.
  bool create = false;
  // Opens a chain whose database lost committed blocks at the height it
  // recovered (`writ node --accept-rollback`): RocksStoreOptions.
  bool accept_lost_writes = false;
  // Creating without a genesis file: this genesis JSON instead (the default
  // genesis of `writ node --init`). Kept as dir/genesis.json like a file's.
  std::string genesis_json{};
};
// Opens the RocksDB chain under `dir` (dir/chain). Creating needs a genesis
// file; its JSON, made self-contained (code_file entries inlined as "code"),
// is kept as dir/genesis.json so later opens without `genesis_file` resume
// the same chain. An existing chain opened with a genesis file must have
// that file's chain id. Errors name the directory and what is missing or
// damaged.
Result<DataDir> open_data_dir(const std::string& dir, const std::string& genesis_file,
                              const DataDirOptions& options = {});

// ---- JSON-RPC ------------------------------------------------------------------------

struct RpcOptions {
  // true: writ_sendRawTransaction produces a block for the transaction before
  // it answers. false: transactions are queued for produce_pending().
  bool block_per_tx = true;
  // Read-only calls (writ_call) run on a snapshot of the head, outside the
  // lock that blocks are produced under, within these limits. The VM cannot
  // be interrupted, so time is bounded through gas (about 1 ns per gas,
  // docs/gas.md): a call that starts runs to its end, on at most
  // call_gas_cap gas, and a request overruns request_call_ms by at most
  // that one call.
  uint64_t default_call_gas = 10'000'000;  // writ_call without "gas"
  uint64_t call_gas_cap = 10'000'000;      // one call's gas at most (more asked: lowered)
  uint64_t request_call_gas = 50'000'000;  // the calls of one request, or of a whole batch
  uint64_t request_call_ms = 1'000;        // no call of a request or batch starts later
  size_t max_pending = 10'000;             // queue bound (interval mode)
  size_t max_batch = 100;                  // requests in one JSON-RPC batch
  // Receipts that writ_getLogs may read for one request or batch (the scan
  // holds the chain's lock).
  uint64_t max_log_receipts = 100'000;
  // Block timestamps in seconds; default: the wall clock. A block's timestamp
  // is never before its parent's.
  std::function<uint64_t()> clock;
  // The chain's genesis JSON (DataDir::genesis_json), which writ_getGenesis
  // answers so a client can rebuild the chain from its blocks (writ debug
  // --tx --rpc); empty: writ_getGenesis answers null.
  std::string genesis_json;
  // For a chain whose blocks another thread makes (writ abci: CometBFT's):
  // `chain_mutex`, when set, is held instead of the handler's own lock
  // around every use of the chain, so the two never overlap; `submit`, when
  // set, takes every decodable writ_sendRawTransaction (to the consensus
  // engine's mempool) instead of a block being made here, and answers why
  // it was refused, empty when taken. It runs without the lock held.
  std::mutex* chain_mutex = nullptr;
  std::function<std::string(const Transaction& tx, const Bytes& raw)> submit;
};

class RpcHandler {
 public:
  explicit RpcHandler(Chain& chain, RpcOptions opts = {});
  ~RpcHandler();
  RpcHandler(const RpcHandler&) = delete;
  RpcHandler& operator=(const RpcHandler&) = delete;

  // One JSON-RPC 2.0 request or batch, as text, to the response text. Empty
  // when every request was a notification (no "id"). Never throws.
  std::string handle(std::string_view request);

  // Produces one block with the queued transactions, if any; returns how many
  // of them it took or refused. One the block had no gas left for stays
  // queued for the next block, with its sender's later ones. Those the block
  // rejects otherwise (e.g. a queued predecessor spent the balance) are
  // dropped: they get no receipt, and on_block sees their reasons in
  // BlockResult::rejected.
  size_t produce_pending();

  uint64_t blocks_produced() const { return blocks_produced_.load(); }
  size_t pending() const;

  // Called (under the handler's lock) after each block this handler commits.
  std::function<void(const Chain::BlockResult&)> on_block;

  struct Impl;

 private:
  std::unique_ptr<Impl> impl_;
  std::atomic<uint64_t> blocks_produced_{0};
};

// ---- HTTP server ------------------------------------------------------------------

struct ServerOptions {
  std::string bind = "127.0.0.1:8545";  // loopback only; port 0: ephemeral
  size_t max_body = 1 << 20;            // bytes; larger requests get 413
  size_t max_header = 16 * 1024;        // bytes of request line + headers; else 431
  // A client's whole request must arrive within io_timeout_ms of its
  // connection being accepted (else 408, or a plain close if it sent
  // nothing), and its reply be taken within io_timeout_ms of being ready.
  int io_timeout_ms = 5'000;
  // Connections open at once, slow ones included (each costs only its
  // buffers); the next ones are answered 503. A connection frees its slot
  // as soon as its reply is written.
  unsigned max_connections = 256;
  unsigned workers = 16;           // threads that run requests read whole (the handler)
  uint64_t block_interval_ms = 0;  // >0: call produce_pending() on this period (own thread)
  uint64_t exit_after_blocks = 0;  // >0: stop once the handler has produced this many
  uint64_t exit_after_ms = 0;      // >0: stop after this long (a safety net for tests)
};

class RpcServer {
 public:
  RpcServer(RpcHandler& handler, ServerOptions opts);
  // A server whose handler comes later (attach()): it can bind its address
  // before there is a chain to serve, so a port in use is an error at start-up;
  // clients that connect in between wait in the kernel's queue.
  explicit RpcServer(ServerOptions opts);
  ~RpcServer();  // REQUIRES: run() has returned (or never ran)
  RpcServer(const RpcServer&) = delete;
  RpcServer& operator=(const RpcServer&) = delete;

  // Binds and listens. Errors: a non-loopback address, a port in use, ...
  Status start();
  uint16_t port() const { return port_; }
  Endpoint endpoint() const;
  // REQUIRES: run() has not started.
  void attach(RpcHandler& handler) { handler_ = &handler; }
  // Serves until stop() or an exit_after_* condition. REQUIRES: start()
  // succeeded and a handler is attached.
  void run();
  // Async-signal-safe; idempotent.
  void stop();
  uint64_t requests_served() const { return served_.load(); }

  struct Impl;

 private:
  RpcHandler* handler_ = nullptr;
  ServerOptions opts_;
  uint16_t port_ = 0;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};
  std::atomic<bool> stopping_{false};
  std::atomic<uint64_t> served_{0};
  std::unique_ptr<Impl> impl_;
};

// ---- HTTP client (the CLI's --rpc, tests) --------------------------------------------

struct HttpReply {
  int status = 0;
  std::string body;
};
// POSTs `body` as application/json to a loopback endpoint and reads the reply.
Result<HttpReply> http_post(const Endpoint& to, std::string_view path, std::string_view body,
                            int timeout_ms);

// ---- proofs as JSON ----------------------------------------------------------------------

std::string account_proof_json(const AccountProof& p);  // as writ_getProof returns it
std::string storage_proof_json(const StorageProof& p);
// Checks a proof in that JSON form offline (it needs nothing but the text):
// true/false for a well-formed proof, an error naming the field otherwise.
// The "verified" field in the text is ignored.
Result<bool> verify_proof_json(std::string_view json);

}  // namespace writ::runtime
