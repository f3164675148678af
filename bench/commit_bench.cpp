// writ_commit_bench: what a validator spends per unit of gas to execute and
// commit blocks whose work is state changes and logs, against the gas
// schedule's bound that nothing costs more than 3 times ordinary code per
// gas (docs/gas.md, "What a validator must not be made to do", item "Open:
// what committing a block costs"; and "First access").
//
// Setup (not measured): a chain on RocksDB in a fresh temporary directory.
// One account deploys the Writ contract below (kCommitsSource) and sends
// every transaction. A second chain, in another fresh directory, also holds
// `--state-slots` filled map entries of that contract (keys from
// kFilledBase, 2,000 per transaction, as many transactions per block as its
// gas takes), then produces kTreePersistBlocks empty blocks so that its
// state tree is persisted: that tree (about two nodes per slot) is larger
// than the chain's cache of tree nodes (262,144 nodes).
//
// A measured block holds one transaction of kBlockGasLimit gas and is made
// by Chain::produce_block (execute, state root, commit, synced), after
// RocksDB's background work of the blocks before has settled. The rows:
//   compute             a 64-bit arithmetic loop of `--compute` iterations:
//                       ordinary code, the baseline;
//   logs 64 B           `--small-logs` events of 64 bytes of data each;
//   logs 64 KiB         `--large-logs` events of 64 KiB of data each (a
//                       buffer of random bytes passed in the transaction;
//                       65,632 bytes of log data each with its ABI head);
//   slots added         K = `--slots` new map entries, non-zero;
//   slots modified      the same K entries given new non-zero values, in
//                       the next block;
//   slots deleted       the same K entries set to zero, in the block after.
// The fresh chain runs all six, the filled one the three slot rows and two
// more, whose entries have not been touched since the setup (those of the
// three rows above were written one block before):
//   slots modified, cold  K of the filled entries given new values;
//   slots deleted, cold   K other filled entries set to zero.
// Run r uses keys [r K, (r + 1) K) (filled ones: [r K, (r + 1) K) and
// [(runs + r) K, (runs + r + 1) K) from kFilledBase), new log sequence
// numbers and a new random buffer, so no run repeats another's data.
//
// Figures per block, in ns per gas of the transaction's gas used:
//   exec         BlockResult::timings.execute_ns (its signature was checked
//                before, by Chain::validate);
//   root         timings.state_root_ns: the state tree update;
//   root+commit  that and timings.commit_ns: the block's batch after the
//                root (the tree log or the tree's nodes, the receipts
//                encoded and hashed, the block record), its synced write
//                (write: the store's write() alone) and forgetting the tree
//                nodes it replaced;
//   sum          exec + root+commit; /cmp: sum ÷ the compute row's median
//                exec ns per gas;
//   untimed      produce_block's wall time less the three timings:
//                publishing the block's state to the cache and freeing it,
//                validator work that no timing counts;
//   wall         produce_block's wall time; /cmp likewise;
// and the bytes of the block's write batch, the tree nodes in it (the tree
// is written every 32 blocks, or when 262,144 nodes are pending: such a
// block pays for the blocks before it), and the CPU time that the process's
// other threads (RocksDB's flushes and compactions) spent from the start of
// the block until they were idle again. Log rows also give the bytes of log
// data per gas, and ns per byte of log data of root+commit and of wall time
// less exec. Each run is printed, then the medians over the runs, and the
// means: a block that persists the tree is whichever block reaches the
// limit, so a row's median may include it or not; the mean spreads it over
// the row's runs.
//
// Usage: writ_commit_bench [--runs N] [--state-slots N] [--slots K]
//                          [--small-logs N] [--large-logs N] [--compute N]
// (defaults 3 runs, 400,000 filled slots (0: no filled chain), K = 15,000,
// 120,000 logs of 64 B, 300 logs of 64 KiB, 7,000,000 iterations: 49 to
// 92 M gas a block). The defaults take about 45 s on 2 cores, 17 s of it
// filling the second chain.
// The RocksDB directories are fresh temporary directories, removed at the end.
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "chain_bench_util.hpp"
#include "writ/compiler/compiler.hpp"
#include "writ/runtime/chain.hpp"
#include "writ/vm/abi.hpp"

namespace writ::runtime {
namespace {

namespace fs = std::filesystem;
using namespace bench;  // chain_bench_util.hpp

constexpr uint64_t kChainId = 79;
constexpr uint64_t kGenesisTime = 1'700'000'000;
// Filling: about 6,160 gas per new slot (docs/gas.md: 2,000 added and 4,000
// first access), so a fill transaction of 2,000 slots needs 12.4 M.
constexpr uint64_t kSlotsPerFillTx = 2'000;
constexpr uint64_t kFillGas = 13'000'000;
// The filled entries' keys start here, far from the measured ones at 0.
constexpr uint64_t kFilledBase = uint64_t{1} << 40;
// The chain writes its state tree at least every 32 blocks (chain.cpp's
// kTreePersistBlocks) and logs the changes of the blocks in between.
constexpr uint64_t kTreePersistBlocks = 32;
// The data of a large log: a buffer of 64 KiB.
constexpr size_t kLargeLogBytes = 64 * 1024;
// The compute loop's multiplier (kCommitsSource's compute()).
constexpr uint64_t kMixer = 0x9E3779B97F4A7C15;

// The contract. set_slots writes cells[i] = value + i over a range of keys,
// so value 1 then 2 adds then modifies them; clear_slots deletes them.
// Note's two words are the sequence number and a 256-bit product of it;
// Blob's data is the ABI encoding of (seq, data): 96 bytes of head, then the
// buffer.
constexpr const char* kCommitsSource = R"(
event Note(seq: u256, mix: u256);
event Blob(seq: u64, data: bytes);

contract Commits {
  storage cells: map<u64, u256>;

  pub fn compute(seed: u64, count: u64) -> u64 {
    let x: u64 = seed;
    for i in 0..count { x = wrapping_mul(x ^ i, 0x9E3779B97F4A7C15) ^ (x >> 29); }
    return x;
  }
  pub fn small_logs(from: u64, count: u64) {
    for i in from..from + count {
      let s = i as u256;
      emit Note(s, wrapping_mul(s, 0x9E3779B97F4A7C15F39CC0605CEDC835));
    }
  }
  pub fn large_logs(from: u64, count: u64, data: bytes) {
    for i in from..from + count { emit Blob(i, data); }
  }
  pub fn set_slots(from: u64, count: u64, value: u256) {
    for i in from..from + count { cells[i] = value + (i as u256); }
  }
  pub fn clear_slots(from: u64, count: u64) {
    for i in from..from + count { cells[i] = 0; }
  }
}
)";

[[noreturn]] void die(const std::string& what) { bench::die_removing_temp_dirs(what); }

Keypair key_of(uint64_t n) {
  std::array<uint8_t, 32> seed{};
  std::memcpy(seed.data(), &n, sizeof n);
  seed[31] = 0xC0;
  return keypair_from_seed(seed);
}

// What compute(seed, count) returns, computed here.
uint64_t compute_result(uint64_t seed, uint64_t count) {
  uint64_t x = seed;
  for (uint64_t i = 0; i < count; ++i) x = ((x ^ i) * kMixer) ^ (x >> 29);
  return x;
}

// `n` bytes that no compressor shortens (xorshift64*), different for each seed.
Bytes random_bytes(size_t n, uint64_t seed) {
  Bytes out(n);
  uint64_t s = seed * kMixer + 1;
  for (size_t i = 0; i < n; i += 8) {
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    const uint64_t w = s * 0x2545F4914F6CDD1D;
    std::memcpy(out.data() + i, &w, std::min<size_t>(8, n - i));
  }
  return out;
}

// ---- the store ----------------------------------------------------------------------

// The RocksDB store with a record of its last write: what the block's batch
// held and how long the synced write took. Everything else passes through.
// Thread-safety: as the store it wraps; last_write() is read by the thread
// that drives the chain, between blocks.
class MeteredStore final : public Store {
 public:
  struct Write {
    size_t bytes = 0;       // keys and values
    size_t tree_nodes = 0;  // puts in Column::Tree: the tree was persisted
    uint64_t write_ns = 0;
  };
  explicit MeteredStore(std::unique_ptr<Store> inner) : inner_(std::move(inner)) {}

  Result<std::optional<std::string>> get(Column c, std::string_view key) const override {
    return inner_->get(c, key);
  }
  Result<std::vector<std::pair<std::string, std::string>>> scan(Column c) const override {
    return inner_->scan(c);
  }
  Status write(const WriteBatch& batch, bool sync) override {
    Write w;
    w.bytes = batch.bytes();
    for (size_t i = 0; i < batch.size(); ++i)
      if (batch.op(i).column == Column::Tree) ++w.tree_nodes;
    const auto t0 = Clock::now();
    Status s = inner_->write(batch, sync);
    w.write_ns = static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - t0).count());
    last_ = w;
    return s;
  }
  std::unique_ptr<const StoreReader> snapshot() const override { return inner_->snapshot(); }
  Status confirm_open() override { return inner_->confirm_open(); }

  const Write& last_write() const { return last_; }

 private:
  std::unique_ptr<Store> inner_;
  Write last_;
};

// ---- the chain ----------------------------------------------------------------------

struct Selectors {
  uint32_t compute = 0, small_logs = 0, large_logs = 0, set_slots = 0, clear_slots = 0;
};

struct Bench {
  fs::path dir;
  Genesis genesis;
  Keypair owner;  // deploys and sends every transaction
  uint64_t nonce = 0;
  Address contract;
  Selectors sel;
  std::unique_ptr<Chain> chain;
  MeteredStore* store = nullptr;  // owned by the chain
  uint64_t time = kGenesisTime;
};

Transaction signed_tx(Bench& b, Transaction::Kind kind, const Address& to, Bytes code, Bytes data,
                      uint64_t gas) {
  Transaction t;
  t.kind = kind;
  t.chain_id = kChainId;
  t.nonce = b.nonce++;
  t.gas_limit = gas;
  t.gas_price = U256::from_u64(1);
  t.value = U256::zero();
  t.to = to;
  t.code = std::move(code);
  t.data = std::move(data);
  t.sign_with(b.owner);
  return t;
}

// A call of the contract's function `selector` with `args`, by the owner.
Transaction call_tx(Bench& b, uint32_t selector, const std::vector<vm::Value>& args,
                    uint64_t gas) {
  return signed_tx(b, Transaction::Kind::Call, b.contract, {}, vm::call_input(selector, args), gas);
}

// Every transaction the block took must have succeeded; `hint` says which
// option to lower when one ran out of gas.
void check_receipts(const Chain::BlockResult& r, const std::string& hint) {
  for (const Receipt& rc : r.receipts) {
    if (rc.status == vm::Status::Ok) continue;
    std::string why = "a transaction failed: " + std::string(vm::status_name(rc.status));
    if (!rc.detail.empty()) why += " (" + rc.detail + ")";
    if (rc.status == vm::Status::OutOfGas && !hint.empty()) why += "; " + hint;
    die(why);
  }
}

size_t produce_all(Bench& b, std::vector<Transaction> txs) {
  return bench::produce_all(*b.chain, b.time, std::move(txs),
                            [](const Chain::BlockResult& r) { check_receipts(r, ""); });
}

// Creates the chain in `b.dir` and deploys the contract; fills `filled`
// entries from kFilledBase, then persists the tree. Prints what it took.
void build_chain(Bench& b, uint64_t filled, const std::string& label) {
  const auto t0 = Clock::now();
  auto compiled = compiler::compile_source("commits.writ", kCommitsSource, {});
  if (!compiled.ok) die("the contract does not compile:\n" + compiled.diagnostics);
  const compiler::ContractOutput& out = compiled.contracts.at(0);
  auto selector = [&](const std::string& name) { return selector_of(out, name); };
  b.sel.compute = selector("compute");
  b.sel.small_logs = selector("small_logs");
  b.sel.large_logs = selector("large_logs");
  b.sel.set_slots = selector("set_slots");
  b.sel.clear_slots = selector("clear_slots");

  b.owner = key_of(0);
  b.genesis = Genesis{};
  b.genesis.chain_id = kChainId;
  b.genesis.timestamp = kGenesisTime;
  b.genesis.accounts.push_back({address_of(b.owner.pub), U256::from_u64(uint64_t{1} << 50)});
  fs::remove_all(b.dir);
  auto s = open_rocksdb_store(b.dir.string(), RocksStoreOptions{.create = true});
  if (!s.ok()) die("open " + b.dir.string() + ": " + s.error().to_string());
  auto metered = std::make_unique<MeteredStore>(std::move(s.value()));
  b.store = metered.get();
  auto c = Chain::open(std::move(metered), b.genesis);
  if (!c.ok()) die("Chain::open: " + c.error().to_string());
  b.chain = std::move(c.value());
  b.chain->set_verify_threads(2);

  produce_all(b, {signed_tx(b, Transaction::Kind::Deploy, Address{}, out.bytecode, {}, 5'000'000)});
  b.contract = contract_address(address_of(b.owner.pub), 0);
  std::vector<Transaction> fill;
  for (uint64_t from = 0; from < filled; from += kSlotsPerFillTx) {
    const uint64_t n = std::min(kSlotsPerFillTx, filled - from);
    fill.push_back(call_tx(b, b.sel.set_slots,
                           {vm::Value::u64(kFilledBase + from), vm::Value::u64(n),
                            vm::Value::u256(U256::from_u64(1))},
                           kFillGas));
  }
  const size_t fill_blocks = produce_all(b, std::move(fill));
  // Empty blocks, one tree persistence period: the setup's pending tree
  // nodes are written with one of them, not with a measured block.
  for (uint64_t i = 0; i < kTreePersistBlocks; ++i) produce_all(b, {});
  std::printf("setup, %s: %llu slots filled in %zu blocks; %.1f s\n", label.c_str(),
              static_cast<unsigned long long>(filled), fill_blocks, seconds_since(t0));
}

// ---- one block ----------------------------------------------------------------------

struct BlockFigures {
  double gas = 0;
  double items = 0;  // loop iterations, logs or slots
  double exec = 0, root = 0, write = 0, root_commit = 0, untimed = 0, wall = 0;  // ns per gas
  double log_bytes = 0;                                     // of log data in the receipt
  double written_mb = 0;                                    // the block's batch
  double tree_knodes = 0;                                   // tree nodes in it, thousands
  double background_ms = 0;  // CPU of the other threads, from the block until idle
};

struct Measured {
  BlockFigures f;
  Receipt receipt;
};

// Produces one block of `tx` after RocksDB's background work has settled,
// and takes its figures; `items` is what the transaction does K times.
Measured measure(Bench& b, const Transaction& tx, uint64_t items, const std::string& hint) {
  wait_until_quiet();
  if (Status s = b.chain->validate(tx); !s) die("validate: " + s.message);
  const double cpu0 = process_cpu_seconds(), thread0 = thread_cpu_seconds();
  const auto t0 = Clock::now();
  auto r = b.chain->produce_block({tx}, ++b.time);
  const double wall_ns = seconds_since(t0) * 1e9;
  if (!r.ok()) die("produce_block: " + r.error().to_string());
  if (!r->rejected.empty()) die("the transaction was left out: " + r->rejected[0].reason);
  check_receipts(r.value(), hint);
  wait_until_quiet();
  const double background_s =
      (process_cpu_seconds() - cpu0) - (thread_cpu_seconds() - thread0);

  Measured m;
  m.receipt = std::move(r->receipts.at(0));
  const Chain::BlockTimings& t = r->timings;
  BlockFigures& f = m.f;
  f.gas = static_cast<double>(m.receipt.gas_used);
  f.items = static_cast<double>(items);
  f.exec = static_cast<double>(t.execute_ns) / f.gas;
  f.root = static_cast<double>(t.state_root_ns) / f.gas;
  f.write = static_cast<double>(b.store->last_write().write_ns) / f.gas;
  f.root_commit = static_cast<double>(t.state_root_ns + t.commit_ns) / f.gas;
  f.wall = wall_ns / f.gas;
  f.untimed = f.wall - f.exec - f.root_commit;
  for (const Log& l : m.receipt.logs) f.log_bytes += static_cast<double>(l.data.size());
  f.written_mb = static_cast<double>(b.store->last_write().bytes) / 1e6;
  f.tree_knodes = static_cast<double>(b.store->last_write().tree_nodes) / 1e3;
  f.background_ms = std::max(0.0, background_s) * 1e3;
  return m;
}

// ---- the rows -----------------------------------------------------------------------

enum class Row {
  Compute,
  SmallLogs,
  LargeLogs,
  Added,
  Modified,
  Deleted,
  ModifiedCold,
  DeletedCold,
};
constexpr const char* kRowNames[] = {
    "compute",       "logs 64 B",     "logs 64 KiB",          "slots added",
    "slots modified", "slots deleted", "slots modified, cold", "slots deleted, cold"};

struct Options {
  uint64_t runs = 3, state_slots = 400'000, slots = 15'000, small_logs = 120'000,
           large_logs = 300, compute = 7'000'000;
};

// Every run of one row on one chain.
struct Series {
  std::string chain;
  Row row;
  std::vector<BlockFigures> runs;
};

// Measures row `row`, run `run`, on `b`.
BlockFigures run_row(Bench& b, Row row, uint64_t run, const Options& o) {
  using vm::Value;
  const uint64_t k = o.slots;
  const uint64_t gas = kBlockGasLimit;
  const std::string slots_hint =
      "lower --slots (each block's transaction has " + std::to_string(gas) + " gas)";
  auto set = [&](uint64_t from, uint64_t value) {
    return call_tx(b, b.sel.set_slots,
                   {Value::u64(from), Value::u64(k), Value::u256(U256::from_u64(value))}, gas);
  };
  auto clear = [&](uint64_t from) {
    return call_tx(b, b.sel.clear_slots, {Value::u64(from), Value::u64(k)}, gas);
  };
  switch (row) {
    case Row::Compute: {
      const Measured m = measure(
          b, call_tx(b, b.sel.compute, {Value::u64(run + 1), Value::u64(o.compute)}, gas),
          o.compute, "lower --compute");
      const U256 want = U256::from_u64(compute_result(run + 1, o.compute));
      if (m.receipt.output.size() != 32 || vm::from_be_bytes(m.receipt.output.data()) != want)
        die("compute returned a wrong value");
      return m.f;
    }
    case Row::SmallLogs:
    case Row::LargeLogs: {
      const bool large = row == Row::LargeLogs;
      const uint64_t n = large ? o.large_logs : o.small_logs;
      std::vector<Value> args{Value::u64(run * n), Value::u64(n)};
      if (large) args.push_back(Value::buf(random_bytes(kLargeLogBytes, run + 1)));
      const Measured m =
          measure(b, call_tx(b, large ? b.sel.large_logs : b.sel.small_logs, args, gas), n,
                  large ? "lower --large-logs" : "lower --small-logs");
      if (m.receipt.logs.size() != n) die("a log row emitted a wrong number of logs");
      return m.f;
    }
    case Row::Added: return measure(b, set(run * k, 1), k, slots_hint).f;
    case Row::Modified: return measure(b, set(run * k, 2), k, slots_hint).f;
    case Row::Deleted: return measure(b, clear(run * k), k, slots_hint).f;
    case Row::ModifiedCold: return measure(b, set(kFilledBase + run * k, 2), k, slots_hint).f;
    case Row::DeletedCold:
      return measure(b, clear(kFilledBase + (o.runs + run) * k), k, slots_hint).f;
  }
  die("unknown row");
}

// Builds a chain with `filled` slots, runs `rows` `o.runs` times (each run
// all rows in order), removes the chain.
std::vector<Series> measure_chain(const std::string& name, const std::string& label,
                                  uint64_t filled, const std::vector<Row>& rows, const Options& o) {
  Bench b;
  b.dir = fs::temp_directory_path() /
          ("writ-commit-bench-" + name + "-" + std::to_string(::getpid()));
  g_temp_dirs.push_back(b.dir);
  build_chain(b, filled, label);
  std::vector<Series> out;
  for (Row r : rows) out.push_back({label, r, {}});
  const auto t0 = Clock::now();
  for (uint64_t run = 0; run < o.runs; ++run)
    for (size_t i = 0; i < rows.size(); ++i) out[i].runs.push_back(run_row(b, rows[i], run, o));
  std::printf("measured, %s: %zu blocks in %.1f s\n", label.c_str(), rows.size() * o.runs,
              seconds_since(t0));
  b.chain.reset();
  fs::remove_all(b.dir);
  return out;
}

// ---- report -------------------------------------------------------------------------

void print_header() {
  const char* row =
      "%-22s %6s %5s %6s | %5s %5s %5s %6s %6s %5s | %6s %6s %5s | %7s %6s %6s | %5s %6s "
      "%6s\n";
  std::printf(row, "", "", "gas", "gas", "exec", "root", "write", "root+", "sum", "sum", "untimd",
              "wall", "wall", "written", "tree", "bg CPU", "log B", "commit", "wall-ex");
  std::printf(row, "row", "run", "M", "/item", "ns/g", "ns/g", "ns/g", "commit", "ns/g", "/cmp",
              "ns/g", "ns/g", "/cmp", "MB", "knodes", "ms", "/gas", "ns/B", "ns/B");
}

void print_row(const std::string& name, const std::string& run, const BlockFigures& f,
               double compute_exec, bool logs) {
  const double sum = f.exec + f.root_commit;
  std::printf("%-22s %6s %5.1f %6.0f | %5.2f %5.2f %5.2f %6.2f %6.2f %5.1f | %6.2f %6.2f %5.1f | "
              "%7.1f %6.1f %6.0f",
              name.c_str(), run.c_str(), f.gas / 1e6, f.gas / f.items, f.exec, f.root, f.write,
              f.root_commit, sum, sum / compute_exec, f.untimed, f.wall, f.wall / compute_exec,
              f.written_mb, f.tree_knodes, f.background_ms);
  if (logs && f.log_bytes > 0)
    std::printf(" | %5.2f %6.2f %6.2f", f.log_bytes / f.gas, f.root_commit * f.gas / f.log_bytes,
                (f.wall - f.exec) * f.gas / f.log_bytes);
  std::printf("\n");
}

// The median (or the mean) of each figure over the runs.
BlockFigures summary_of(const std::vector<BlockFigures>& runs, bool mean = false) {
  BlockFigures m;
  for (double BlockFigures::*x :
       {&BlockFigures::gas, &BlockFigures::items, &BlockFigures::exec, &BlockFigures::root,
        &BlockFigures::write, &BlockFigures::root_commit,
        &BlockFigures::untimed, &BlockFigures::wall, &BlockFigures::log_bytes,
        &BlockFigures::written_mb, &BlockFigures::tree_knodes, &BlockFigures::background_ms}) {
    std::vector<double> v;
    for (const BlockFigures& f : runs) v.push_back(f.*x);
    double total = 0;
    for (double d : v) total += d;
    m.*x = mean ? total / static_cast<double>(v.size()) : median(v);
  }
  return m;
}


}  // namespace
}  // namespace writ::runtime

int main(int argc, char** argv) {
  using namespace writ::runtime;
  writ::bench::g_program = "writ_commit_bench";
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 < argc && a == "--runs")
      o.runs = count_of(a, argv[++i]);
    else if (i + 1 < argc && a == "--state-slots")
      o.state_slots = count_of(a, argv[++i]);
    else if (i + 1 < argc && a == "--slots")
      o.slots = count_of(a, argv[++i]);
    else if (i + 1 < argc && a == "--small-logs")
      o.small_logs = count_of(a, argv[++i]);
    else if (i + 1 < argc && a == "--large-logs")
      o.large_logs = count_of(a, argv[++i]);
    else if (i + 1 < argc && a == "--compute")
      o.compute = count_of(a, argv[++i]);
    else
      die("usage: writ_commit_bench [--runs N] [--state-slots N] [--slots K] [--small-logs N] "
          "[--large-logs N] [--compute N]");
  }
  if (o.runs == 0 || o.slots == 0 || o.small_logs == 0 || o.large_logs == 0 || o.compute == 0)
    die("--runs, --slots, --small-logs, --large-logs and --compute must be at least 1");
  const auto run_start = Clock::now();
  std::printf("writ_commit_bench: %u hardware threads; load average %s; RocksDB under %s\n",
              std::thread::hardware_concurrency(), load_average().c_str(),
              fs::temp_directory_path().c_str());

  std::vector<Series> all = measure_chain(
      "fresh", "fresh chain", 0,
      {Row::Compute, Row::SmallLogs, Row::LargeLogs, Row::Added, Row::Modified, Row::Deleted}, o);
  if (o.state_slots > 0) {
    std::vector<Row> rows{Row::Added, Row::Modified, Row::Deleted};
    // The cold rows take 2 × runs × K of the filled entries.
    if (o.state_slots >= 2 * o.runs * o.slots) {
      rows.push_back(Row::ModifiedCold);
      rows.push_back(Row::DeletedCold);
    } else {
      std::printf("the cold rows are left out: they take 2 x runs x K = %llu filled slots\n",
                  static_cast<unsigned long long>(2 * o.runs * o.slots));
    }
    const std::string label = std::to_string(o.state_slots) + " filled slots";
    for (Series& s : measure_chain("filled", label, o.state_slots, rows, o))
      all.push_back(std::move(s));
  }

  const double compute_exec = summary_of(all.at(0).runs).exec;
  std::printf(
      "\nns per gas of each block's transaction (one per block, produce_block, synced). exec, "
      "root,\nroot+commit: BlockResult timings (execute_ns; state_root_ns; state_root_ns + "
      "commit_ns); write:\nthe store's synced write, within commit; sum = exec + root+commit; "
      "untimed: produce_block's\nwall time less the timings (the state cache published, the "
      "block freed); wall:\nproduce_block's wall time. "
      "/cmp: divided by the compute\nrow's median exec ns/gas (%.2f). written: the block's write "
      "batch; tree: state tree nodes in it\n(the tree persisted, for the blocks before too); bg "
      "CPU: CPU of the other threads (RocksDB)\nfrom the block until idle. Log rows: log data "
      "bytes per gas, ns per log byte of root+commit and\nof wall - exec.\n\n",
      compute_exec);
  print_header();
  std::string chain;
  for (const Series& s : all) {
    if (s.chain != chain) {
      chain = s.chain;
      std::printf("-- %s\n", chain.c_str());
    }
    const std::string name = kRowNames[static_cast<size_t>(s.row)];
    const bool logs = s.row == Row::SmallLogs || s.row == Row::LargeLogs;
    for (size_t i = 0; i < s.runs.size(); ++i)
      print_row(i == 0 ? name : "", std::to_string(i + 1), s.runs[i], compute_exec, logs);
    print_row("", "median", summary_of(s.runs), compute_exec, logs);
    print_row("", "mean", summary_of(s.runs, true), compute_exec, logs);
  }
  std::printf("\ntotal run time %.1f s; load average at the end %s\n", seconds_since(run_start),
              load_average().c_str());
  return 0;
}
