// writ_runtime_bench: runtime throughput (DESIGN.md §7), in one run.
//
//   (a) the signature-verification bound: Ed25519 verifications per second of
//       signed payment transactions, verify_batch with 1 and with 2 threads,
//       the best of 3 runs before and 3 after the end-to-end runs;
//   (b) end to end, signed payments per second: a stream of blocks of raw
//       encoded transactions; each block is decoded and handed to
//       Chain::verify_ahead while the previous one runs Chain::produce_block
//       (signatures checked on 2 pool threads, which the producing thread
//       helps; execution; state root; one synced RocksDB WriteBatch per
//       block), in blocks of 1,000 plain value transfers between many
//       accounts, then the same with Writ token transfers; reported as
//       payments/s, as a ratio to the bound (target >= 75%), and with the
//       per-block latency (p50/p99);
//   (c) where the time of a block goes: the chain's own split of
//       produce_block (BlockResult::timings), with the synced write timed
//       and the store traffic counted by a Store decorator (see Probe);
//   (d) the same payments on the in-memory store, to isolate RocksDB;
//   (e) the same payments on RocksDB with the risk engine of the default
//       genesis scoring each before it settles (docs/runtime.md, "Payments
//       and risk"), in blocks an hour apart (each sender pays once an hour),
//       reported beside (b) as a ratio (goal >= 85%), with how
//       many settled, were held or refused; and the dev node's latency from
//       submission to receipt, with scoring on.
//
// Usage: writ_runtime_bench [--blocks N] [--token-blocks N] [--keep]
// (measured payment blocks, default 64; token blocks, default 8). The chain
// writes its state tree every 32 blocks (docs/runtime.md §1), so the default
// payment stream covers two of those writes and their cost is in the figure;
// a stream shorter than 32 blocks would leave it out. The defaults keep the
// whole run under half a minute on 2 cores. The RocksDB directory is a fresh
// temporary directory, removed at the end unless --keep.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <time.h>
#include <unistd.h>

#include "test_token.hpp"
#include "writ/compiler/compiler.hpp"
#include "writ/contracts/system.hpp"
#include "writ/runtime/chain.hpp"
#include "writ/runtime/node.hpp"
#include "writ/vm/abi.hpp"
#ifdef WRIT_HAVE_JIT
#include "writ/vm/jit.hpp"
#endif

namespace writ::runtime {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

constexpr uint64_t kChainId = 77;
constexpr uint64_t kGenesisTime = 1'700'000'000;
constexpr size_t kBlockSize = 1000;
constexpr size_t kSenders = 2000;       // each sends at most once per block
constexpr size_t kRecipients = 10'000;  // fresh addresses: the state grows as it would
constexpr uint64_t kPaymentGas = 1'000;
constexpr uint64_t kTokenGas = 200'000;
constexpr uint64_t kScoredPaymentGas = 300'000;  // the risk engine's work is the payment's

[[noreturn]] void die(const std::string& what) {
  std::fprintf(stderr, "writ_runtime_bench: %s\n", what.c_str());
  std::exit(1);
}

// CPU time of the whole process (every thread), to read the wall-clock
// numbers on a shared machine: other load stretches wall time, not this.
double process_cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}
double ms(Clock::duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p / 100.0 * static_cast<double>(v.size() - 1) + 0.5);
  return v[std::min(i, v.size() - 1)];
}

// Runs f(i) for i in [0, n) on `threads` threads (contiguous chunks).
void parallel_for(size_t n, unsigned threads, const std::function<void(size_t)>& f) {
  std::vector<std::thread> pool;
  for (unsigned t = 0; t < threads; ++t)
    pool.emplace_back([&, t] {
      for (size_t i = n * t / threads; i < n * (t + 1) / threads; ++i) f(i);
    });
  for (auto& th : pool) th.join();
}

// ---- probe: the store traffic of produce_block ----------------------------------

// Times the block's one synced write and counts the reads (state tree nodes
// apart: most are found in the chain's memory, a few come from the store).
struct Probe {
  bool armed = false;
  std::optional<Clock::time_point> write_begin, write_end;
  Clock::duration get_time{};
  uint64_t gets = 0, tree_gets = 0, write_ops = 0;
  void reset() { *this = Probe(); }
};

class ProbedStore final : public Store {
 public:
  ProbedStore(std::unique_ptr<Store> inner, Probe& probe)
      : inner_(std::move(inner)), probe_(probe) {}
  Result<std::optional<std::string>> get(Column c, std::string_view key) const override {
    if (!probe_.armed) return inner_->get(c, key);
    const auto t0 = Clock::now();
    if (c == Column::Tree) ++probe_.tree_gets;
    auto r = inner_->get(c, key);
    probe_.get_time += Clock::now() - t0;
    ++probe_.gets;
    return r;
  }
  Status write(const WriteBatch& batch, bool sync) override {
    if (!probe_.armed) return inner_->write(batch, sync);
    probe_.write_begin = Clock::now();
    Status s = inner_->write(batch, sync);
    probe_.write_end = Clock::now();
    probe_.write_ops = batch.size();
    return s;
  }
  Result<std::vector<std::pair<std::string, std::string>>> scan(Column c) const override {
    return inner_->scan(c);
  }

 private:
  std::unique_ptr<Store> inner_;
  Probe& probe_;
};

// ---- workload -----------------------------------------------------------------------

struct Accounts {
  std::vector<Keypair> senders;
  std::vector<Address> sender_addrs;
  std::vector<Address> recipients;
};

Accounts make_accounts() {
  Accounts a;
  a.senders.resize(kSenders);
  parallel_for(kSenders, 2, [&](size_t i) {
    std::array<uint8_t, 32> seed{};
    std::memcpy(seed.data(), &i, sizeof i);
    seed[31] = 0xBE;
    a.senders[i] = keypair_from_seed(seed);
  });
  for (const Keypair& k : a.senders) a.sender_addrs.push_back(address_of(k.pub));
  for (size_t i = 0; i < kRecipients; ++i)
    a.recipients.push_back(
        sha256("bench.recipient",
               std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(&i), sizeof i)));
  return a;
}

Genesis make_genesis(const Accounts& a) {
  Genesis g;
  g.chain_id = kChainId;
  g.timestamp = kGenesisTime;
  for (const Address& s : a.sender_addrs)
    g.accounts.push_back({s, U256::from_u64(1'000'000'000'000)});
  return g;
}

Transaction make_tx(const Keypair& k, uint64_t nonce, const Address& to, U256 value, Bytes data,
                    uint64_t gas) {
  Transaction t;
  t.kind = Transaction::Kind::Call;
  t.chain_id = kChainId;
  t.nonce = nonce;
  t.gas_limit = gas;
  t.gas_price = U256::from_u64(1);
  t.value = value;
  t.to = to;
  t.data = std::move(data);
  t.sign_with(k);
  return t;
}

// Blocks of raw encoded transactions: tx k is sent by sender k % kSenders
// with nonce first_nonce + k / kSenders (so no sender repeats in a block).
using RawBlock = std::vector<Bytes>;
std::vector<RawBlock> sign_blocks(
    const Accounts& a, size_t blocks, uint64_t first_nonce,
    const std::function<Transaction(size_t k, const Keypair&, uint64_t nonce)>& make) {
  const size_t n = blocks * kBlockSize;
  std::vector<Bytes> raw(n);
  parallel_for(n, 2, [&](size_t k) {
    raw[k] = make(k, a.senders[k % kSenders], first_nonce + k / kSenders).encode();
  });
  std::vector<RawBlock> out(blocks);
  for (size_t b = 0; b < blocks; ++b)
    out[b].assign(std::make_move_iterator(raw.begin() + static_cast<long>(b * kBlockSize)),
                  std::make_move_iterator(raw.begin() + static_cast<long>((b + 1) * kBlockSize)));
  return out;
}

// ---- measurements -------------------------------------------------------------------------

struct VerifyBound {
  double per_s_1 = 0, per_s_2 = 0,
         digest_us = 0;  // digest_us: SHA-256 of signing bytes, per tx, 1 thread
  double cpu_us = 0;     // CPU time per verification (2-thread run)
};

VerifyBound measure_verify(const std::vector<RawBlock>& blocks, size_t max_items) {
  std::vector<Transaction> txs;
  for (const RawBlock& b : blocks)
    for (const Bytes& r : b) {
      if (txs.size() == max_items) break;
      auto t = decode_transaction(r);
      if (!t.ok()) die("decode: " + t.error().to_string());
      txs.push_back(std::move(t.value()));
    }
  std::vector<Hash256> digests(txs.size());
  auto t0 = Clock::now();
  for (size_t i = 0; i < txs.size(); ++i) digests[i] = sha256(txs[i].signing_bytes());
  VerifyBound vb;
  vb.digest_us = seconds_since(t0) * 1e6 / static_cast<double>(txs.size());
  std::vector<VerifyItem> items;
  for (size_t i = 0; i < txs.size(); ++i)
    items.push_back(
        {&txs[i].sender_key, std::span<const uint8_t>(digests[i].bytes), &txs[i].signature});
  // The best of 3 runs each: a shared machine only ever slows a run down,
  // and a slow bound would flatter the ratio to it.
  for (int rep = 0; rep < 3; ++rep)
    for (unsigned threads : {1u, 2u}) {
      t0 = Clock::now();
      const double cpu0 = process_cpu_seconds();
      auto ok = verify_batch(items, threads);
      double s = seconds_since(t0);
      const double cpu_us =
          (process_cpu_seconds() - cpu0) * 1e6 / static_cast<double>(items.size());
      if (std::count(ok.begin(), ok.end(), false) != 0)
        die("a benchmark signature does not verify");
      double& best = threads == 1 ? vb.per_s_1 : vb.per_s_2;
      best = std::max(best, static_cast<double>(items.size()) / s);
      if (threads == 2) vb.cpu_us = rep == 0 ? cpu_us : std::min(vb.cpu_us, cpu_us);
    }
  return vb;
}

// The faster of two measurements of the bound (taken before and after the
// end-to-end runs).
VerifyBound best_of(const VerifyBound& a, const VerifyBound& b) {
  VerifyBound r;
  r.per_s_1 = std::max(a.per_s_1, b.per_s_1);
  r.per_s_2 = std::max(a.per_s_2, b.per_s_2);
  r.digest_us = std::min(a.digest_us, b.digest_us);
  r.cpu_us = std::min(a.cpu_us, b.cpu_us);
  return r;
}

struct RunResult {
  explicit RunResult(std::string n) : name(std::move(n)) {}
  std::string name;
  size_t txs = 0;
  double seconds = 0;  // decode + produce_block, summed over the measured blocks
  double cpu = 0;      // process CPU seconds over the same
  std::vector<double> block_ms, write_ms;
  // Phase totals (seconds) over the measured blocks.
  double decode = 0, execute = 0, state_root = 0, records = 0, write = 0, other = 0;
  double get_s = 0;
  uint64_t gets = 0, tree_gets = 0, write_ops = 0;
  double per_s() const { return static_cast<double>(txs) / seconds; }
};

struct Node {
  Probe probe;
  std::unique_ptr<Chain> chain;
  uint64_t time = kGenesisTime;
  uint64_t block_interval = 1;  // seconds between blocks
};

// --jit: every chain runs its contracts through the JIT tier (docs/jit.md).
std::shared_ptr<writ::vm::ExecutionTier> g_tier;
std::atomic<uint64_t> g_compiled_calls{0}, g_compiled_modules{0};

void open_node(Node& n, std::unique_ptr<Store> store, const Genesis& g) {
  auto c = Chain::open(std::make_unique<ProbedStore>(std::move(store), n.probe), g);
  if (!c.ok()) die("open: " + c.error().to_string());
  n.chain = std::move(c.value());
  n.chain->set_verify_threads(2);
  if (g_tier) n.chain->set_execution_tier(g_tier);
}

// Adds one block's timings (t0: start, t1: produce_block called, t2: it
// returned; `t`: the chain's own split of produce_block) to `r`.
void record_block(const Probe& p, const Chain::BlockTimings& t, Clock::time_point t0,
                  Clock::time_point t1, Clock::time_point t2, double cpu, size_t txs,
                  RunResult& r) {
  if (!p.write_begin || !p.write_end) die("probe: the block's write was not seen");
  auto sec = [](Clock::duration d) { return std::chrono::duration<double>(d).count(); };
  const double produce = sec(t2 - t1), write = sec(*p.write_end - *p.write_begin);
  const double execute = static_cast<double>(t.execute_ns) * 1e-9;
  const double state_root = static_cast<double>(t.state_root_ns) * 1e-9;
  const double commit = static_cast<double>(t.commit_ns) * 1e-9;
  r.txs += txs;
  r.seconds += sec(t2 - t0);
  r.cpu += cpu;
  r.block_ms.push_back(ms(t2 - t0));
  r.write_ms.push_back(ms(*p.write_end - *p.write_begin));
  r.decode += sec(t1 - t0);
  r.execute += execute;
  r.state_root += state_root;
  r.records += std::max(0.0, commit - write);
  r.write += write;
  r.other += std::max(0.0, produce - execute - state_root - commit);
  r.get_s += sec(p.get_time);
  r.gets += p.gets;
  r.tree_gets += p.tree_gets;
  r.write_ops += p.write_ops;
}

std::vector<Transaction> decode_block_txs(const RawBlock& raw) {
  std::vector<Transaction> txs;
  txs.reserve(raw.size());
  for (const Bytes& r : raw) {
    auto t = decode_transaction(r);
    if (!t.ok()) die("decode: " + t.error().to_string());
    txs.push_back(std::move(t.value()));
  }
  return txs;
}

// Produces blocks[first], blocks[first + 1], ... from raw bytes, as a node
// fed a stream of transactions does: while block b executes and commits, the
// signatures of block b + 1 (decoded first) are already being checked
// (Chain::verify_ahead). Block b's time is from decoding b + 1 to its commit
// returning; the first block's signatures start with it, so the sum over the
// blocks covers every verification of the stream. With `out`, adds the
// timings there. A Stream does it a block per step() for blocks [first,
// end), so that two nodes can take turns a slice each.
class Stream {
 public:
  Stream(Node& n, const std::vector<RawBlock>& blocks, size_t first, size_t end, RunResult* out,
         bool expect_ok_status, std::function<void(const Receipt&)> each = nullptr)
      : n_(n),
        blocks_(blocks),
        b_(first),
        end_(std::min(end, blocks.size())),
        out_(out),
        expect_ok_(expect_ok_status),
        each_(std::move(each)) {
    if (b_ < end_) cur_ = decode_block_txs(blocks_[b_]);
  }
  bool done() const { return b_ >= end_; }
  void step() {
    n_.probe.reset();
    n_.probe.armed = out_ != nullptr;
    const auto t0 = Clock::now();
    const double cpu0 = process_cpu_seconds();
    std::vector<Transaction> next;
    if (b_ + 1 < end_) {
      next = decode_block_txs(blocks_[b_ + 1]);
      n_.chain->verify_ahead(next);
    }
    const auto t1 = Clock::now();
    auto r = n_.chain->produce_block(cur_, n_.time += n_.block_interval);
    const auto t2 = Clock::now();
    const double cpu2 = process_cpu_seconds();
    n_.probe.armed = false;
    if (!r.ok()) die("produce_block: " + r.error().to_string());
    if (!r->rejected.empty()) die("rejected: " + r->rejected[0].reason);
    for (const Receipt& rc : r->receipts) {
      if (expect_ok_ && rc.status != vm::Status::Ok) die("a transaction failed: " + rc.detail);
      if (each_) each_(rc);
    }
    if (out_) record_block(n_.probe, r->timings, t0, t1, t2, cpu2 - cpu0, cur_.size(), *out_);
    cur_ = std::move(next);
    ++b_;
  }

 private:
  Node& n_;
  const std::vector<RawBlock>& blocks_;
  size_t b_, end_;
  RunResult* out_;
  bool expect_ok_;
  std::function<void(const Receipt&)> each_;
  std::vector<Transaction> cur_;
};

void run_blocks(Node& n, const std::vector<RawBlock>& blocks, size_t first, RunResult* out,
                bool expect_ok_status, const std::function<void(const Receipt&)>& each = nullptr) {
  Stream s(n, blocks, first, blocks.size(), out, expect_ok_status, each);
  while (!s.done()) s.step();
}

void run_block(Node& n, const RawBlock& raw, bool expect_ok_status) {
  run_blocks(n, std::vector<RawBlock>{raw}, 0, nullptr, expect_ok_status);
}

void print_run(const RunResult& r, double bound) {
  std::printf("%-28s %6zu %7.0f %7.1f%% %8.1f %8.2f %8.2f %8.2f %8.2f\n", r.name.c_str(), r.txs,
              r.per_s(), 100.0 * r.per_s() / bound, r.cpu * 1e6 / static_cast<double>(r.txs),
              percentile(r.block_ms, 50), percentile(r.block_ms, 99), percentile(r.write_ms, 50),
              percentile(r.write_ms, 99));
}

void print_phases(const RunResult& r) {
  const double total = r.seconds;
  const double per_tx = 1e6 / static_cast<double>(r.txs);
  auto row = [&](const char* name, double s, const char* note) {
    std::printf("  %-38s %7.1f us/tx %6.1f%%  %s\n", name, s * per_tx, 100.0 * s / total, note);
  };
  std::printf("%s: %.1f us per transaction\n", r.name.c_str(), total * per_tx);
  row("decode + verify_ahead of the next block", r.decode, "");
  row("validate + execute", r.execute, "waits for verdicts the pool has not given yet");
  row("state root (tree update)", r.state_root, "");
  row("receipts and block records", r.records, "encodings, batch");
  row("RocksDB write (synced batch)", r.write, "");
  row("digests, job hand-off, listeners", r.other, "");
  std::printf(
      "  store gets: %.1f per tx (%.1f of them state tree nodes), %.1f us/tx inside get(); %.1f "
      "writes per tx\n",
      static_cast<double>(r.gets) / static_cast<double>(r.txs),
      static_cast<double>(r.tree_gets) / static_cast<double>(r.txs), r.get_s * per_tx,
      static_cast<double>(r.write_ops) / static_cast<double>(r.txs));
}

}  // namespace
}  // namespace writ::runtime

int main(int argc, char** argv) {
  using namespace writ::runtime;
  size_t pay_blocks = 64, token_blocks = 8;
  bool keep = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--blocks" && i + 1 < argc)
      pay_blocks = std::stoul(argv[++i]);
    else if (a == "--token-blocks" && i + 1 < argc)
      token_blocks = std::stoul(argv[++i]);
    else if (a == "--keep")
      keep = true;
#ifdef WRIT_HAVE_JIT
    else if (a == "--jit" || a == "--jit-deploy") {
      // --jit: the node's default tiering; --jit-deploy: every contract
      // compiled when deployed, so the system contracts run compiled from
      // the first block.
      writ::vm::jit::TierOptions o;
      o.compile_at_deploy = a == "--jit-deploy";
      o.synchronous = o.compile_at_deploy;
      o.compiled_calls = &g_compiled_calls;
      o.compiled_modules = &g_compiled_modules;
      std::string err;
      g_tier = writ::vm::jit::make_tier(o, &err);
      if (!g_tier) die(a + ": " + err);
    }
#endif
    else
      die("usage: writ_runtime_bench [--blocks N] [--token-blocks N] [--keep] [--jit | "
          "--jit-deploy]");
  }
  pay_blocks = std::max<size_t>(pay_blocks, 2);
  token_blocks = std::max<size_t>(token_blocks, 2);
  const auto run_start = Clock::now();
  std::printf(
      "writ_runtime_bench: %u hardware threads; blocks of %zu transactions; %zu senders, %zu "
      "recipients\n",
      std::thread::hardware_concurrency(), kBlockSize, kSenders, kRecipients);

  // ---- setup (not measured) ----
  auto t0 = Clock::now();
  Accounts acc = make_accounts();
  Genesis genesis = make_genesis(acc);
  // One warm-up block (not measured) then pay_blocks measured ones.
  std::mt19937_64 rng(42);
  std::vector<uint32_t> pick((pay_blocks + 1) * kBlockSize);
  for (auto& p : pick) p = static_cast<uint32_t>(rng() % kRecipients);
  auto payments =
      sign_blocks(acc, pay_blocks + 1, 0, [&](size_t k, const Keypair& key, uint64_t nonce) {
        return make_tx(key, nonce, acc.recipients[pick[k]], U256::from_u64(1 + k % 1000), {},
                       kPaymentGas);
      });
  auto compiled =
      writ::compiler::compile_source("token.writ", writ::fixtures::test_token_source(), {});
  if (!compiled.ok) die("token: " + compiled.diagnostics);
  const Bytes token_code = compiled.contracts[0].bytecode;
  std::printf("setup: %zu payments signed in %.1f s\n", payments.size() * kBlockSize,
              seconds_since(t0));

  // ---- (a) the verification bound ----
  const VerifyBound vb_before = measure_verify(payments, 4000);

  // ---- (b) end to end on RocksDB: payments ----
  fs::path dir = fs::temp_directory_path() / ("writ-runtime-bench-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  Node rocks;
  {
    auto s = open_rocksdb_store(dir.string(), RocksStoreOptions{.create = true});
    if (!s.ok()) die(s.error().to_string());
    open_node(rocks, std::move(s.value()), genesis);
  }
  RunResult pay_rocks("payments, RocksDB");
  run_block(rocks, payments[0], true);  // warm-up
  run_blocks(rocks, payments, 1, &pay_rocks, true);

  // ---- (b') token transfers on the same chain ----
  // Setup: sender 0 deploys the token (all supply to itself) and pays every
  // other sender 1e9 units; then kSenders-way transfers as above.
  const uint64_t n0 = rocks.chain->account(acc.sender_addrs[0]).value().nonce;
  Address token = contract_address(acc.sender_addrs[0], n0);
  {
    Bytes init = writ::vm::call_input(
        writ::vm::selector_of("$init", std::vector{writ::vm::ValType::U256}),
        std::vector{writ::vm::Value::u256(U256::from_u64(1'000'000'000'000'000))});
    Transaction d;
    d.kind = Transaction::Kind::Deploy;
    d.chain_id = kChainId;
    d.nonce = n0;
    d.gas_limit = 5'000'000;
    d.gas_price = U256::from_u64(1);
    d.code = token_code;
    d.data = init;
    d.sign_with(acc.senders[0]);
    RawBlock blk{d.encode()};
    run_block(rocks, blk, true);
    RawBlock fund;
    for (size_t i = 1; i < kSenders; ++i) {
      Bytes data = writ::vm::call_input(
          writ::vm::selector_of("transfer",
                                std::vector{writ::vm::ValType::U256, writ::vm::ValType::U256}),
          std::vector{writ::vm::Value::u256(acc.sender_addrs[i].to_u256()),
                      writ::vm::Value::u256(U256::from_u64(1'000'000'000))});
      fund.push_back(
          make_tx(acc.senders[0], n0 + i, token, U256::zero(), std::move(data), kTokenGas)
              .encode());
      if (fund.size() == kBlockSize || i + 1 == kSenders) {
        run_block(rocks, fund, true);
        fund.clear();
      }
    }
  }
  std::vector<uint64_t> first_nonce(kSenders);
  for (size_t i = 0; i < kSenders; ++i)
    first_nonce[i] = rocks.chain->account(acc.sender_addrs[i]).value().nonce;
  const uint32_t transfer_sel = writ::vm::selector_of(
      "transfer", std::vector{writ::vm::ValType::U256, writ::vm::ValType::U256});
  auto token_txs =
      sign_blocks(acc, token_blocks + 1, 0, [&](size_t k, const Keypair& key, uint64_t nonce) {
        Bytes data = writ::vm::call_input(
            transfer_sel,
            std::vector{writ::vm::Value::u256(acc.recipients[(k * 7919) % kRecipients].to_u256()),
                        writ::vm::Value::u256(U256::from_u64(1 + k % 1000))});
        return make_tx(key, first_nonce[k % kSenders] + nonce, token, U256::zero(), std::move(data),
                       kTokenGas);
      });
  RunResult tok_rocks("token transfers, RocksDB");
  run_block(rocks, token_txs[0], true);  // warm-up
  run_blocks(rocks, token_txs, 1, &tok_rocks, true);
  rocks.chain.reset();
  if (!keep) fs::remove_all(dir);

  // ---- (d) payments on the in-memory store ----
  Node mem;
  open_node(mem, open_memory_store(), genesis);
  RunResult pay_mem("payments, in-memory store");
  run_block(mem, payments[0], true);
  run_blocks(mem, payments, 1, &pay_mem, true);
  mem.chain.reset();

  // ---- (e) the same payments, scored by the risk engine, on RocksDB ----
  Genesis scored_genesis = genesis;
  {
    const Genesis d = writ::contracts::default_genesis();
    scored_genesis.contracts = d.contracts;
    scored_genesis.calls = d.calls;
    scored_genesis.risk_engine = d.risk_engine;
    scored_genesis.payment_holds = d.payment_holds;
  }
  auto scored_payments =
      sign_blocks(acc, pay_blocks + 1, 0, [&](size_t k, const Keypair& key, uint64_t nonce) {
        return make_tx(key, nonce, acc.recipients[pick[k]], U256::from_u64(1 + k % 1000), {},
                       kScoredPaymentGas);
      });
  // Scored and unscored side by side: two fresh chains on RocksDB, one with
  // the default genesis's risk engine, taking turns of a few blocks, so that
  // whatever else loads the machine loads both alike; the ratio compares
  // their sums.
  RunResult pay_scored("payments scored, RocksDB");
  RunResult pay_twin("  unscored, alternating");
  size_t decisions[3] = {0, 0, 0};
  uint64_t scored_gas = 0;
  {
    const std::string pid = std::to_string(::getpid());
    fs::path sdir = fs::temp_directory_path() / ("writ-runtime-bench-scored-" + pid);
    fs::path tdir = fs::temp_directory_path() / ("writ-runtime-bench-twin-" + pid);
    fs::remove_all(sdir);
    fs::remove_all(tdir);
    Node scored, twin;
    auto s = open_rocksdb_store(sdir.string(), RocksStoreOptions{.create = true});
    auto t = open_rocksdb_store(tdir.string(), RocksStoreOptions{.create = true});
    if (!s.ok()) die(s.error().to_string());
    if (!t.ok()) die(t.error().to_string());
    open_node(scored, std::move(s.value()), scored_genesis);
    open_node(twin, std::move(t.value()), genesis);
    // Each sender pays once per block: blocks an hour apart make that once
    // an hour, ordinary traffic (blocks a second apart would make every
    // sender a fan-out burst to a new payee each second, which the engine
    // rightly holds and refuses, and which is not the load to size for).
    scored.block_interval = twin.block_interval = 3600;
    run_block(scored, scored_payments[0], false);  // warm-up
    run_block(twin, payments[0], true);
    auto judge = [&](const Receipt& rc) {
      if (!rc.risk) die("a payment was not scored");
      ++decisions[static_cast<int>(rc.risk->decision)];
      scored_gas += rc.gas_used;
    };
    auto plain = [&](const Receipt& rc) {
      if (rc.risk) die("a payment was scored on the chain without a risk engine");
    };
    // Turns of kTurn blocks, each run as a stream of its own: the first
    // block of a turn starts its own signature checks, so neither chain's
    // verification runs under the other's blocks (or in their CPU time).
    constexpr size_t kTurn = 8;
    for (size_t f = 1, turn = 0; f < scored_payments.size(); f += kTurn, ++turn) {
      Stream ss(scored, scored_payments, f, f + kTurn, &pay_scored, false, judge);
      Stream ts(twin, payments, f, f + kTurn, &pay_twin, true, plain);
      Stream& one = turn % 2 ? ss : ts;  // alternate which goes first
      Stream& two = turn % 2 ? ts : ss;
      while (!one.done()) one.step();
      while (!two.done()) two.step();
    }
    scored.chain.reset();
    twin.chain.reset();
    if (!keep) fs::remove_all(sdir);
    fs::remove_all(tdir);
  }

  const VerifyBound vb = best_of(vb_before, measure_verify(payments, 4000));

  // ---- (f) the dev node, scoring on: submission to committed receipt ----
  // A node in this process on an ephemeral loopback port, one block per
  // transaction (the dev node's default). Each payment is sent as raw bytes
  // with writ_sendRawTransaction, then writ_getReceipt is asked for its
  // receipt; the latency is from the send to the receipt being returned.
  std::vector<double> node_ms;
  {
    fs::path ndir =
        fs::temp_directory_path() / ("writ-runtime-bench-node-" + std::to_string(::getpid()));
    fs::remove_all(ndir);
    auto s = open_rocksdb_store(ndir.string(), RocksStoreOptions{.create = true});
    if (!s.ok()) die(s.error().to_string());
    auto c = Chain::open(std::move(s.value()), scored_genesis);
    if (!c.ok()) die(c.error().to_string());
    Chain& chain = *c.value();
    if (g_tier) chain.set_execution_tier(g_tier);
    RpcHandler rpc(chain);
    ServerOptions so;
    so.bind = "127.0.0.1:0";
    so.exit_after_ms = 120'000;  // a safety net: the server stops by itself
    RpcServer server(rpc, so);
    if (Status st = server.start(); !st) die("node: " + st.message);
    std::thread serve([&] { server.run(); });
    const size_t n = 300;
    for (size_t i = 0; i < n; ++i) {
      const size_t who = i % kSenders;
      Transaction t =
          make_tx(acc.senders[who], chain.account(acc.sender_addrs[who]).value().nonce,
                  acc.recipients[i % kRecipients], U256::from_u64(1), {}, kScoredPaymentGas);
      std::string send =
          R"({"jsonrpc":"2.0","id":1,"method":"writ_sendRawTransaction","params":[")" +
          to_hex(t.encode()) + "\"]}";
      std::string get = R"({"jsonrpc":"2.0","id":2,"method":"writ_getReceipt","params":["0x)" +
                        t.hash().hex() + "\"]}";
      const auto start = Clock::now();
      auto r1 = http_post(server.endpoint(), "/", send, 10'000);
      auto r2 = http_post(server.endpoint(), "/", get, 10'000);
      const auto end = Clock::now();
      if (!r1.ok() || !r2.ok() || r2->body.find("\"status\"") == std::string::npos)
        die("node: no receipt for a submitted payment: " +
            (r2.ok() ? r2->body : r2.error().message));
      node_ms.push_back(ms(end - start));
    }
    server.stop();
    serve.join();
    c.value().reset();
    if (!keep) fs::remove_all(ndir);
  }

  // ---- report ----
  std::printf(
      "\nSignature verification bound (Ed25519, OpenSSL, 4000 payment txs; the best of 3 runs "
      "before and 3 after the end-to-end runs)\n");
  std::printf("  1 thread : %9.0f verifications/s\n", vb.per_s_1);
  std::printf("  2 threads: %9.0f verifications/s  (%.2fx)   <- the bound\n", vb.per_s_2,
              vb.per_s_2 / vb.per_s_1);
  std::printf("  CPU per verification: %.1f us (so 2 idle cores bound it at %.0f/s)\n", vb.cpu_us,
              2e6 / vb.cpu_us);
  std::printf("  (+ SHA-256 of the signing bytes, serial in produce_block: %.2f us/tx)\n",
              vb.digest_us);

  std::printf(
      "\nEnd to end: decode, verify_ahead of the next block + produce_block (verify on 2 pool "
      "threads,\nexecute, state root, synced commit)\n");
  std::printf("%-28s %6s %7s %8s %8s %8s %8s %8s %8s\n", "workload", "txs", "tx/s", "of bound",
              "CPU/tx", "block", "block", "write", "write");
  std::printf("%-28s %6s %7s %8s %8s %8s %8s %8s %8s\n", "", "", "", "", "us", "p50 ms", "p99 ms",
              "p50 ms", "p99 ms");
  print_run(pay_rocks, vb.per_s_2);
  print_run(tok_rocks, vb.per_s_2);
  print_run(pay_mem, vb.per_s_2);
  print_run(pay_scored, vb.per_s_2);
  print_run(pay_twin, vb.per_s_2);
  const double ratio = pay_rocks.per_s() / vb.per_s_2;
  std::printf(
      "\nsigned payments/s over RocksDB: %.0f = %.1f%% of the 2-thread verification bound (target "
      ">= 75%%): %s\n",
      pay_rocks.per_s(), 100.0 * ratio, ratio >= 0.75 ? "MET" : "MISSED");

  {
    // The same from CPU time, as if the 2 cores were idle: v = CPU per
    // verification, c = CPU per payment end to end (the stream's CPU over its
    // payments), rest = c - v. The pipeline keeps both cores busy, so 2
    // cores finish a payment every c / 2; the serial thread needs `rest`.
    const double v = vb.cpu_us, c = pay_rocks.cpu * 1e6 / static_cast<double>(pay_rocks.txs),
                 rest = c - v;
    const double bound = 2e6 / v, model = 1e6 / std::max(c / 2, rest);
    std::printf(
        "from CPU time: verify %.1f us + the rest %.1f us per payment; on 2 idle cores that is "
        "%.0f/s = %.1f%% of %.0f/s\n",
        v, rest, model, 100.0 * model / bound, bound);
  }

  {
    const double scored_ratio = pay_scored.per_s() / pay_twin.per_s();
    const double cpu_ratio = pay_twin.cpu / pay_scored.cpu;
    std::printf(
        "\nrisk scoring on: %.0f payments/s = %.1f%% of the same payments unscored, the two chains "
        "taking turns of 8 blocks (%.0f/s; goal >= 85%%): %s\n"
        "  by CPU time per payment: %.1f us scored, %.1f us unscored: %.1f%%\n"
        "  decisions: %zu settled, %zu held, %zu refused; %.0f gas per scored payment on average\n",
        pay_scored.per_s(), 100.0 * scored_ratio, pay_twin.per_s(),
        scored_ratio >= 0.85 ? "MET" : "MISSED",
        pay_scored.cpu * 1e6 / static_cast<double>(pay_scored.txs),
        pay_twin.cpu * 1e6 / static_cast<double>(pay_twin.txs), 100.0 * cpu_ratio, decisions[0],
        decisions[1], decisions[2],
        static_cast<double>(scored_gas) / static_cast<double>(pay_scored.txs));
  }

  std::printf(
      "\nDev node (in process, 127.0.0.1, one synced block per transaction, risk scoring on): %zu "
      "payments sent as raw\n"
      "transactions; latency from writ_sendRawTransaction to writ_getReceipt returning the "
      "receipt:\n"
      "  p50 %.2f ms, p99 %.2f ms, max %.2f ms\n",
      node_ms.size(), percentile(node_ms, 50), percentile(node_ms, 99),
      *std::max_element(node_ms.begin(), node_ms.end()));

  std::printf("\nWhere a block's time goes (the chain's BlockTimings; the write timed by Probe)\n");
  print_phases(pay_rocks);
  print_phases(tok_rocks);
  print_phases(pay_mem);
  print_phases(pay_scored);
  print_phases(pay_twin);
  if (g_tier)
    std::printf("\nJIT tier: %llu modules compiled, %llu contract calls ran compiled code\n",
                static_cast<unsigned long long>(g_compiled_modules.load()),
                static_cast<unsigned long long>(g_compiled_calls.load()));
  std::printf("\ntotal run time %.1f s\n", seconds_since(run_start));
  return 0;
}
