// writ_state_read_bench: what the first read of a storage slot or of an
// account costs in a transaction against the chain's RocksDB store, to price
// it (docs/gas.md §5, "Open: the first read of a slot or an account").
//
// Setup (not measured): a chain on RocksDB in a fresh temporary directory.
// One account deploys the Writ contract below (kReadsSource) and fills
// `--slots` map entries with non-zero values, 2,000 per transaction, as many
// transactions per block as its gas takes; `--accounts` accounts are created
// by plain value transfers (account i, at hash(i, kAccountSeed), receives
// i + 1), in blocks of kMaxBlockTxs from 100 payers.
//
// A run: close the chain and open it again on the same directory, so that
// the node's caches are cold (the chain's StateCache and module cache,
// RocksDB's block caches; the kernel's page cache still holds the files,
// but see the page-cache rows below), execute one warm-up block (the
// contract's module is loaded and verified and the StateCache's tables
// allocated, see kWarmupReads; only absent keys are read, which the Bloom
// filters answer), wait for RocksDB's background work after the open, then
// execute five blocks of one transaction each, each running one loop of K
// iterations:
//   first slot        reads K map entries, each the first read of its slot
//                     in the transaction and since the reopen; run r reads
//                     range r mod (slots / K) of K entries, so runs read
//                     distinct entries as far as the state allows;
//   first balance     balance() of K accounts, likewise;
//   repeated slot     reads one entry K times (all but the first read are
//                     answered by the block's overlay);
//   repeated balance  balance() of one account K times;
//   loop              the same loop with the same hash per iteration, and no
//                     read: the baseline subtracted from the four above.
// Each loop computes one `hash` per iteration (a map entry's key, or an
// account's address), so all five do the same work apart from the read.
// Blocks in a run are executed with Chain::stage_block, exactly as
// produce_block executes them, and discarded: nothing is committed, so the
// five run at the same height on the same state, with the same state root
// work, and every run opens the same database.
// A block's time is taken two ways: "wall", its execution time as the chain
// measures it (BlockResult::timings.execute_ns, the state root left out;
// the transaction's signature is checked before, by Chain::validate), and
// "CPU", the CPU time of the thread that ran stage_block, state root
// included (the same in the five blocks, so it cancels). The CPU figure
// leaves out whatever else takes the core from the thread (other work on a
// shared machine) and the time it waits for the disk.
// Figures: ns per read = (block's time - the loop block's) / K, so a first
// read's figure is all the node does for it: the block's overlay
// (WorldState), the StateCache lookup and fill, and the RocksDB Get with
// its decoding; each run is printed, then the medians over the runs.
//
// The same on a fresh small chain (1,000 slots, 1,000 accounts, K = 1,000)
// for comparison; and, unless --cold-runs 0, runs on the large chain with
// the database's files dropped from the kernel's page cache just before the
// five blocks (posix_fadvise DONTNEED; the share of their pages still
// resident is printed), so that a first read goes to the disk, as it does
// on a validator whose state is larger than its memory.
//
// Usage: writ_state_read_bench [--slots N] [--accounts N] [--reads K]
//                              [--runs N] [--cold-runs N]
// (defaults 400,000 slots, 100,000 accounts, K = 20,000, 5 runs, 3 runs with
// the page cache dropped). The defaults take about 75 s on 2 cores, most of
// it signing and committing the 100,000 payments.
// The RocksDB directories are fresh temporary directories, removed at the end.
#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
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

constexpr uint64_t kChainId = 78;
constexpr uint64_t kGenesisTime = 1'700'000'000;
constexpr uint64_t kSlotsPerFillTx = 2'000;
// Gas limits, with room for a price of the first access to a slot or an
// account (docs/gas.md): a fill uses about 2,200 gas per slot at today's
// prices, a payment kTxBaseGas, a read loop about 170 gas per iteration
// (each block takes what fits; see produce_all).
constexpr uint64_t kFillGas = 20'000'000;
constexpr uint64_t kPaymentGas = 10'000;
constexpr uint64_t kReadGas = kBlockGasLimit / 2;  // two fit in a block
constexpr size_t kPayers = 100;
// The chain writes its state tree at least every 32 blocks (chain.cpp's
// kTreePersistBlocks) and logs the changes of the blocks in between.
constexpr uint64_t kTreePersistBlocks = 32;
// Account i is at hash(i, kAccountSeed); kReadsSource writes it as 0xACC7.
constexpr uint64_t kAccountSeed = 0xACC7;
// Keys past every filled slot and created account: the warm-up reads them
// (absent, so the Bloom filters answer without reading a data block).
constexpr uint64_t kAbsentBase = uint64_t{1} << 40;
// How many absent slots, and absent accounts, the warm-up reads. The chain's
// StateCache allocates its table a chunk (512 entries, 50-100 KB) at a time,
// when a put first lands in it (read_cache.hpp), and absent values are
// cached too: 8,192 random keys touch each of the 512 chunks of a
// 2^18-entry table with probability 1 - e^-16. Without this, the measured
// first reads after a reopen would also pay for allocating and zeroing
// those chunks (several microseconds each), which a node does only once
// after it starts.
constexpr uint64_t kWarmupReads = 8'192;

// The contract. Each public function but fill() runs one loop of `count`
// iterations that computes one hash (a map entry's slot is
// sha256(key ‖ field slot), docs/language.md "Storage layout"; an account's
// address is hash(i, kAccountSeed)) and, but for hash_loop(), reads once.
// The results (xor of what was read) are checked against what was written.
constexpr const char* kReadsSource = R"(
contract Reads {
  storage cells: map<u64, u256>;

  pub fn fill(from: u64, count: u64) {
    for i in from..from + count { cells[i] = (i as u256) + 1; }
  }
  pub view fn read_slots(from: u64, count: u64) -> u256 {
    let s: u256 = 0;
    for i in from..from + count { s = s ^ cells[i]; }
    return s;
  }
  pub view fn read_slot_repeatedly(at: u64, count: u64) -> u256 {
    let s: u256 = 0;
    for _ in 0..count { s = s ^ cells[at]; }
    return s;
  }
  pub view fn read_balances(from: u64, count: u64) -> u256 {
    let s: u256 = 0;
    for i in from..from + count { s = s ^ balance(address(hash(i, 0xACC7) as u256)); }
    return s;
  }
  pub view fn read_balance_repeatedly(at: u64, count: u64) -> u256 {
    let s: u256 = 0;
    for _ in 0..count { s = s ^ balance(address(hash(at, 0xACC7) as u256)); }
    return s;
  }
  pub view fn hash_loop(from: u64, count: u64) -> u256 {
    let s: u256 = 0;
    for i in from..from + count { s = s ^ (hash(i, 0xACC7) as u256); }
    return s;
  }
}
)";

[[noreturn]] void die(const std::string& what) { bench::die_removing_temp_dirs(what); }

// xor of (i + 1) for i in [from, from + count): what read_slots and
// read_balances return over values written as i + 1.
uint64_t xor_of_values(uint64_t from, uint64_t count) {
  uint64_t x = 0;
  for (uint64_t i = from; i < from + count; ++i) x ^= i + 1;
  return x;
}

Keypair key_of(uint64_t n) {
  std::array<uint8_t, 32> seed{};
  std::memcpy(seed.data(), &n, sizeof n);
  seed[31] = 0x5E;
  return keypair_from_seed(seed);
}

// The address the contract computes for account i: hash(i, kAccountSeed),
// SHA-256 of the two as 32-byte big-endian words.
Address account_at(uint64_t i) {
  std::array<uint8_t, 64> words{};
  vm::to_be_bytes(U256::from_u64(i), words.data());
  vm::to_be_bytes(U256::from_u64(kAccountSeed), words.data() + 32);
  return sha256(words);
}

// Drops the files under `dir` from the kernel's page cache (they are clean:
// RocksDB syncs its tables and log, and fdatasync makes sure of the rest)
// and returns the share of their pages still resident after (mincore).
double drop_page_cache(const fs::path& dir) {
  const size_t page = static_cast<size_t>(::sysconf(_SC_PAGESIZE));
  size_t pages = 0, resident = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    const int fd = ::open(e.path().c_str(), O_RDONLY);
    if (fd < 0) continue;
    (void)::fdatasync(fd);
    (void)::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
    const size_t size = e.file_size();
    if (size > 0) {
      // Mapping a file faults nothing in: mincore sees the cache as it is.
      void* m = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
      if (m != MAP_FAILED) {
        std::vector<unsigned char> in_core((size + page - 1) / page);
        if (::mincore(m, size, in_core.data()) == 0) {
          pages += in_core.size();
          for (unsigned char c : in_core) resident += c & 1;
        }
        ::munmap(m, size);
      }
    }
    ::close(fd);
  }
  return pages == 0 ? 0 : static_cast<double>(resident) / static_cast<double>(pages);
}

// ---- the chain ---------------------------------------------------------------------

struct Selectors {
  uint32_t fill = 0, read_slots = 0, read_slot_repeatedly = 0, read_balances = 0,
           read_balance_repeatedly = 0, hash_loop = 0;
};

struct Bench {
  fs::path dir;
  Genesis genesis;
  Keypair owner;  // deploys, fills, and sends every measured transaction
  std::vector<Keypair> payers;
  Address contract;
  Selectors sel;
  std::unique_ptr<Chain> chain;
  uint64_t time = kGenesisTime;
  uint64_t slots = 0, accounts = 0;
};

void open_chain(Bench& b, bool create) {
  auto s = open_rocksdb_store(b.dir.string(), RocksStoreOptions{.create = create});
  if (!s.ok()) die("open " + b.dir.string() + ": " + s.error().to_string());
  auto c = Chain::open(std::move(s.value()), b.genesis);
  if (!c.ok()) die("Chain::open: " + c.error().to_string());
  b.chain = std::move(c.value());
  b.chain->set_verify_threads(2);
}

uint64_t next_nonce(const Bench& b, const Keypair& k) {
  auto a = b.chain->account(address_of(k.pub));
  if (!a.ok()) die("account: " + a.error().to_string());
  return a->nonce;
}

Transaction signed_tx(const Keypair& k, uint64_t nonce, Transaction::Kind kind, const Address& to,
                      U256 value, Bytes code, Bytes data, uint64_t gas) {
  Transaction t;
  t.kind = kind;
  t.chain_id = kChainId;
  t.nonce = nonce;
  t.gas_limit = gas;
  t.gas_price = U256::from_u64(1);
  t.value = value;
  t.to = to;
  t.code = std::move(code);
  t.data = std::move(data);
  t.sign_with(k);
  return t;
}

// A call of the contract's function `selector`(a: u64, b: u64) by the owner.
Transaction call_tx(const Bench& b, uint64_t nonce, uint32_t selector, uint64_t x, uint64_t y,
                    uint64_t gas) {
  const std::vector<vm::Value> args{vm::Value::u64(x), vm::Value::u64(y)};
  return signed_tx(b.owner, nonce, Transaction::Kind::Call, b.contract, U256::zero(), {},
                   vm::call_input(selector, args), gas);
}

// Every transaction the block took must have succeeded.
void check_receipts(const Chain::BlockResult& r) {
  for (const Receipt& rc : r.receipts) {
    if (rc.status == vm::Status::Ok) continue;
    std::string why = "a transaction failed: " + std::string(vm::status_name(rc.status));
    if (!rc.detail.empty()) why += " (" + rc.detail + ")";
    if (rc.status == vm::Status::OutOfGas)
      why += "; a read loop has " + std::to_string(kReadGas) + " gas: try a smaller --reads";
    die(why);
  }
}

// Produces one block of `txs`; every transaction must be taken and succeed.
Chain::BlockResult produce(Bench& b, const std::vector<Transaction>& txs) {
  auto r = b.chain->produce_block(txs, ++b.time);
  if (!r.ok()) die("produce_block: " + r.error().to_string());
  if (!r->rejected.empty()) die("a transaction was left out: " + r->rejected[0].reason);
  check_receipts(r.value());
  return std::move(r.value());
}

// Executes one block of `txs` on top of the head exactly as produce_block
// would (Chain::stage_block), checks it as produce() does, and discards it:
// the chain stays at its head, so every measured block runs at the same
// height, on the same committed state, with the same state tree work.
Chain::BlockResult stage_and_discard(Bench& b, const std::vector<Transaction>& txs) {
  auto r = b.chain->stage_block(txs, ++b.time);
  if (!r.ok()) die("stage_block: " + r.error().to_string());
  b.chain->discard_staged();
  if (!r->rejected.empty()) die("a transaction was left out: " + r->rejected[0].reason);
  check_receipts(r.value());
  return std::move(r.value());
}

size_t produce_all(Bench& b, std::vector<Transaction> txs) {
  return bench::produce_all(*b.chain, b.time, std::move(txs),
                            [](const Chain::BlockResult& r) { check_receipts(r); });
}

// Creates the chain in `b.dir`: deploys the contract, fills b.slots slots and
// creates b.accounts accounts. Prints what it took.
void build_chain(Bench& b, const std::string& label) {
  const auto t0 = Clock::now();
  auto compiled = compiler::compile_source("reads.writ", kReadsSource, {});
  if (!compiled.ok) die("the contract does not compile:\n" + compiled.diagnostics);
  const compiler::ContractOutput& out = compiled.contracts.at(0);
  auto selector = [&](const std::string& name) { return selector_of(out, name); };
  b.sel.fill = selector("fill");
  b.sel.read_slots = selector("read_slots");
  b.sel.read_slot_repeatedly = selector("read_slot_repeatedly");
  b.sel.read_balances = selector("read_balances");
  b.sel.read_balance_repeatedly = selector("read_balance_repeatedly");
  b.sel.hash_loop = selector("hash_loop");

  b.owner = key_of(0);
  b.payers.clear();
  for (size_t i = 0; i < kPayers; ++i) b.payers.push_back(key_of(1 + i));
  b.genesis = Genesis{};
  b.genesis.chain_id = kChainId;
  b.genesis.timestamp = kGenesisTime;
  const U256 funds = U256::from_u64(uint64_t{1} << 50);
  b.genesis.accounts.push_back({address_of(b.owner.pub), funds});
  for (const Keypair& k : b.payers) b.genesis.accounts.push_back({address_of(k.pub), funds});
  fs::remove_all(b.dir);
  open_chain(b, true);

  // Deploy, then fill: one sender, nonces in order.
  const Address owner = address_of(b.owner.pub);
  produce(b, {signed_tx(b.owner, 0, Transaction::Kind::Deploy, Address{}, U256::zero(),
                        out.bytecode, {}, 5'000'000)});
  b.contract = contract_address(owner, 0);
  std::vector<Transaction> fill;
  uint64_t nonce = 1;
  for (uint64_t from = 0; from < b.slots; from += kSlotsPerFillTx)
    fill.push_back(call_tx(b, nonce++, b.sel.fill, from, std::min(kSlotsPerFillTx, b.slots - from),
                           kFillGas));
  const size_t fill_blocks = produce_all(b, std::move(fill));
  const double fill_s = seconds_since(t0);

  // Accounts by plain payments: payment i from payer i % kPayers, signed on
  // two threads, in blocks of kMaxBlockTxs; each block's signatures are
  // handed to verify_ahead while the one before it executes.
  const auto t1 = Clock::now();
  std::vector<Transaction> pay(b.accounts);
  auto sign_range = [&](size_t lo, size_t hi) {
    for (size_t i = lo; i < hi; ++i)
      pay[i] = signed_tx(b.payers[i % kPayers], i / kPayers, Transaction::Kind::Call, account_at(i),
                         U256::from_u64(i + 1), {}, {}, kPaymentGas);
  };
  std::thread helper(sign_range, 0, pay.size() / 2);
  sign_range(pay.size() / 2, pay.size());
  helper.join();
  size_t pay_blocks = 0;
  for (size_t at = 0; at < pay.size(); at += kMaxBlockTxs, ++pay_blocks) {
    const size_t end = std::min(pay.size(), at + kMaxBlockTxs);
    const std::vector<Transaction> block(pay.begin() + static_cast<long>(at),
                                         pay.begin() + static_cast<long>(end));
    if (end < pay.size())
      b.chain->verify_ahead(std::span<const Transaction>(pay).subspan(
          end, std::min(kMaxBlockTxs, pay.size() - end)));
    produce(b, block);
  }
  // Empty blocks, one state tree persistence period: the tree's nodes
  // pending from the setup are written with one of them, so that opening
  // the chain replays no large tree log.
  for (uint64_t i = 0; i < kTreePersistBlocks; ++i) produce(b, {});
  std::printf("setup, %s: %llu slots in %zu blocks (%.1f s); %llu accounts by payments in %zu "
              "blocks (%.1f s)\n",
              label.c_str(), static_cast<unsigned long long>(b.slots), fill_blocks, fill_s,
              static_cast<unsigned long long>(b.accounts), pay_blocks, seconds_since(t1));
}

// ---- one run -------------------------------------------------------------------------

// ns per read (loop: ns per iteration, what the others have had subtracted).
struct PerRead {
  double first_slot = 0, repeated_slot = 0, first_balance = 0, repeated_balance = 0, loop = 0;
};

// A run's figures, two ways: `wall` from the block's execution time
// (BlockResult::timings.execute_ns), `cpu` from the CPU time of the thread
// that ran stage_block, state root included: the five blocks change the
// same records (the owner's account, for the fee), so the subtraction
// cancels it. The CPU figure leaves out the time other work on a shared
// machine takes the core away, and also the time spent waiting for the
// disk.
struct RunFigures {
  PerRead wall, cpu;
  double first_slot_gas = 0, first_balance_gas = 0;  // gas per read, beyond the loop's
  double reopen_s = 0;   // Chain::open
  double quiet_s = 0;    // then waiting for RocksDB's background work
  double resident = -1;  // page-cache rows: share of the files' pages left resident
};

// Reopens the chain, warms it up, drops the page cache if `drop`, and times
// the five loops of K iterations; run number `run` (counting every run on
// this chain) picks the slots and accounts read first. Every block is
// staged and discarded (stage_and_discard): a run commits nothing, so
// each run opens the same database.
RunFigures measure_run(Bench& b, uint64_t reads, size_t run, bool drop) {
  RunFigures f;
  b.chain.reset();
  const auto t0 = Clock::now();
  open_chain(b, false);
  f.reopen_s = seconds_since(t0);

  const uint64_t nonce = next_nonce(b, b.owner);
  // Warm-up: the module is loaded and verified, the owner's account read,
  // the StateCache's tables allocated (kWarmupReads); only absent slots and
  // accounts are read. Then the background work of the open settles (it
  // may compact, which reads and writes files through the page cache),
  // and only then is the page cache dropped.
  stage_and_discard(
      b, {call_tx(b, nonce, b.sel.read_slots, kAbsentBase, kWarmupReads, kReadGas),
          call_tx(b, nonce + 1, b.sel.read_balances, kAbsentBase, kWarmupReads, kReadGas)});
  f.quiet_s = wait_until_quiet();
  if (drop) f.resident = drop_page_cache(b.dir);

  struct Timed {
    double wall = 0, cpu = 0;  // ns per iteration
    uint64_t gas = 0;
  };
  const double k = static_cast<double>(reads);
  // One block of one call; its output must be the u256 `expect`.
  auto timed = [&](uint32_t selector, uint64_t x, std::optional<uint64_t> expect) {
    const Transaction tx = call_tx(b, nonce, selector, x, reads, kReadGas);
    if (Status s = b.chain->validate(tx); !s) die("validate: " + s.message);
    const double cpu0 = thread_cpu_seconds();
    const Chain::BlockResult r = stage_and_discard(b, {tx});
    const double cpu = thread_cpu_seconds() - cpu0;
    const Receipt& rc = r.receipts.at(0);
    if (expect) {
      if (rc.output.size() != 32 || vm::from_be_bytes(rc.output.data()) != U256::from_u64(*expect))
        die("a read loop returned a wrong value: the contract does not read what was written");
    }
    return Timed{static_cast<double>(r.timings.execute_ns) / k, cpu * 1e9 / k, rc.gas_used};
  };
  const uint64_t slot_from = (run % (b.slots / reads)) * reads;
  const uint64_t account_from = (run % (b.accounts / reads)) * reads;
  const uint64_t odd = reads % 2;  // a value xored K times
  const Timed first_slot = timed(b.sel.read_slots, slot_from, xor_of_values(slot_from, reads));
  const Timed first_balance =
      timed(b.sel.read_balances, account_from, xor_of_values(account_from, reads));
  const Timed repeated_slot = timed(b.sel.read_slot_repeatedly, slot_from, odd * (slot_from + 1));
  const Timed repeated_balance =
      timed(b.sel.read_balance_repeatedly, account_from, odd * (account_from + 1));
  const Timed loop = timed(b.sel.hash_loop, slot_from, std::nullopt);

  auto per_read = [&](double Timed::*clock) {
    PerRead p;
    p.loop = loop.*clock;
    p.first_slot = first_slot.*clock - p.loop;
    p.first_balance = first_balance.*clock - p.loop;
    p.repeated_slot = repeated_slot.*clock - p.loop;
    p.repeated_balance = repeated_balance.*clock - p.loop;
    return p;
  };
  f.wall = per_read(&Timed::wall);
  f.cpu = per_read(&Timed::cpu);
  auto gas_per_read = [&](const Timed& t) {
    return (static_cast<double>(t.gas) - static_cast<double>(loop.gas)) / k;
  };
  f.first_slot_gas = gas_per_read(first_slot);
  f.first_balance_gas = gas_per_read(first_balance);
  return f;
}

// ---- report ------------------------------------------------------------------------------

void print_header() {
  const char* row = "%-28s %6s %6s %8s %8s %8s %8s %7s | %6s %6s %6s %6s %5s | %5s %5s\n";
  std::printf(row, "", "", "", "wall:", "", "", "", "", "CPU:", "", "", "", "", "", "");
  std::printf(row, "state", "run", "reads", "first", "repeated", "first", "repeated", "loop",
              "first", "repeat", "first", "repeat", "loop", "open", "quiet");
  std::printf(row, "", "", "K", "slot", "slot", "balance", "balance", "/iter", "slot", "slot",
              "bal", "bal", "/iter", "s", "s");
}

void print_row(const std::string& state, const std::string& run, uint64_t reads,
               const RunFigures& f) {
  const PerRead& w = f.wall;
  const PerRead& c = f.cpu;
  std::printf(
      "%-28s %6s %6llu %8.0f %8.0f %8.0f %8.0f %7.0f | %6.0f %6.0f %6.0f %6.0f %5.0f | %5.2f %5.2f",
      state.c_str(), run.c_str(), static_cast<unsigned long long>(reads), w.first_slot,
      w.repeated_slot, w.first_balance, w.repeated_balance, w.loop, c.first_slot, c.repeated_slot,
      c.first_balance, c.repeated_balance, c.loop, f.reopen_s, f.quiet_s);
  if (f.resident >= 0) std::printf("  %.1f%% resident", 100 * f.resident);
  std::printf("\n");
}

// Prints every run and their median; returns the median.
RunFigures report(const std::string& state, uint64_t reads, const std::vector<RunFigures>& runs) {
  auto med = [&](auto field) {
    std::vector<double> v;
    for (const RunFigures& f : runs) v.push_back(field(f));
    return median(v);
  };
  for (size_t i = 0; i < runs.size(); ++i)
    print_row(i == 0 ? state : "", std::to_string(i + 1), reads, runs[i]);
  RunFigures m;
  for (PerRead RunFigures::*clock : {&RunFigures::wall, &RunFigures::cpu})
    for (double PerRead::*x : {&PerRead::first_slot, &PerRead::repeated_slot,
                               &PerRead::first_balance, &PerRead::repeated_balance, &PerRead::loop})
      (m.*clock).*x = med([&](const RunFigures& f) { return (f.*clock).*x; });
  m.first_slot_gas = med([](const RunFigures& f) { return f.first_slot_gas; });
  m.first_balance_gas = med([](const RunFigures& f) { return f.first_balance_gas; });
  m.reopen_s = med([](const RunFigures& f) { return f.reopen_s; });
  m.quiet_s = med([](const RunFigures& f) { return f.quiet_s; });
  print_row("", "median", reads, m);
  return m;
}

struct Summary {
  std::string state;
  RunFigures median;
};


}  // namespace
}  // namespace writ::runtime

int main(int argc, char** argv) {
  using namespace writ::runtime;
  writ::bench::g_program = "writ_state_read_bench";
  uint64_t slots = 400'000, accounts = 100'000, reads = 20'000;
  size_t runs = 5, cold_runs = 3;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (i + 1 < argc && a == "--slots")
      slots = count_of(a, argv[++i]);
    else if (i + 1 < argc && a == "--accounts")
      accounts = count_of(a, argv[++i]);
    else if (i + 1 < argc && a == "--reads")
      reads = count_of(a, argv[++i]);
    else if (i + 1 < argc && a == "--runs")
      runs = count_of(a, argv[++i]);
    else if (i + 1 < argc && a == "--cold-runs")
      cold_runs = count_of(a, argv[++i]);
    else
      die("usage: writ_state_read_bench [--slots N] [--accounts N] [--reads K] [--runs N] "
          "[--cold-runs N]");
  }
  if (slots == 0 || accounts == 0) die("--slots and --accounts must be at least 1");
  runs = std::max<size_t>(runs, 1);
  reads = std::max<uint64_t>(std::min({reads, slots, accounts}), 1);
  const auto run_start = Clock::now();
  const std::string pid = std::to_string(::getpid());
  std::printf("writ_state_read_bench: %u hardware threads; load average %s; RocksDB under %s\n",
              std::thread::hardware_concurrency(), load_average().c_str(),
              fs::temp_directory_path().c_str());

  auto label = [](uint64_t s, uint64_t a) {
    return std::to_string(s) + " slots, " + std::to_string(a) + " accounts";
  };
  std::vector<Summary> summary;

  // ---- the large chain ----
  Bench large;
  large.dir = fs::temp_directory_path() / ("writ-state-read-bench-" + pid);
  g_temp_dirs.push_back(large.dir);
  large.slots = slots;
  large.accounts = accounts;
  build_chain(large, label(slots, accounts));
  std::vector<RunFigures> large_runs, cold;
  for (size_t r = 0; r < runs; ++r) large_runs.push_back(measure_run(large, reads, r, false));
  for (size_t r = 0; r < cold_runs; ++r) cold.push_back(measure_run(large, reads, runs + r, true));
  large.chain.reset();
  fs::remove_all(large.dir);

  // ---- the small chain ----
  Bench small;
  small.dir = fs::temp_directory_path() / ("writ-state-read-bench-small-" + pid);
  g_temp_dirs.push_back(small.dir);
  small.slots = small.accounts = 1'000;
  const uint64_t small_reads = std::min<uint64_t>(reads, 1'000);
  build_chain(small, label(small.slots, small.accounts));
  std::vector<RunFigures> small_runs;
  for (size_t r = 0; r < runs; ++r) small_runs.push_back(measure_run(small, small_reads, r, false));
  small.chain.reset();
  fs::remove_all(small.dir);

  std::printf(
      "\nns per read: (time of a block of one transaction looping K times - that of the same "
      "loop\nwithout the read) / K. wall: the block's execution time (BlockResult timings); "
      "CPU: the CPU\ntime of the thread that executed it, state root included (the same in "
      "the five blocks).\nBefore each run the chain is closed and opened again (open s), so "
      "that its StateCache and\nRocksDB's block caches are cold; a warm-up block reads absent "
      "keys only; then the run waits\nfor RocksDB's background work (quiet s). \"page cache "
      "dropped\": the database's files were then\ndropped from the kernel's page cache too (the "
      "share of their pages left resident).\nThe blocks are staged and discarded: nothing is "
      "committed.\n\n");
  print_header();
  summary.push_back({label(slots, accounts), report(label(slots, accounts), reads, large_runs)});
  if (!cold.empty())
    summary.push_back({"  page cache dropped", report("  page cache dropped", reads, cold)});
  summary.push_back(
      {label(small.slots, small.accounts),
       report(label(small.slots, small.accounts), small_reads, small_runs)});

  // Against the price: the gas the transaction used per read beyond the
  // loop's, as built; ordinary code runs at about 1 ns per gas (docs/gas.md
  // §4).
  std::printf(
      "\nmedians against the price in this build (gas charged per read beyond the loop's; "
      "ordinary code\nruns at about 1 ns/gas):\n");
  for (const Summary& s : summary) {
    const RunFigures& m = s.median;
    auto line = [](const std::string& state, const char* what, double wall, double repeated,
                   double cpu, double gas) {
      std::printf("  %-28s first %-7s %6.0f ns wall (%6.0f over a repeated read), %6.0f ns CPU; "
                  "%4.0f gas: %6.1f ns/gas\n",
                  state.c_str(), what, wall, wall - repeated, cpu, gas, wall / gas);
    };
    line(s.state, "slot", m.wall.first_slot, m.wall.repeated_slot, m.cpu.first_slot,
         m.first_slot_gas);
    line("", "balance", m.wall.first_balance, m.wall.repeated_balance, m.cpu.first_balance,
         m.first_balance_gas);
  }
  std::printf("\ntotal run time %.1f s; load average at the end %s\n", seconds_since(run_start),
              load_average().c_str());
  return 0;
}
