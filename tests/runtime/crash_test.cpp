// Crash safety (DESIGN.md §8): kill the node mid-commit, reopen, and find the
// last committed state intact and nothing half-written.
//
// Each trial forks a child that opens a RocksDB chain in a fresh temporary
// directory and produces blocks of signed transfers in a loop, recording
// nothing outside the database. The parent SIGKILLs it after a random delay,
// reaps it, and checks the database:
//   1. it reopens (Chain::open), and the head block exists and decodes;
//   2. blocks 0..head all exist, nothing is stored above the head, each block's
//      parent_hash is the previous header's hash, and its tx root, receipts
//      root and gas used match its transactions and their receipts;
//   3. there is a receipt (and a tx index entry) for every transaction of a
//      committed block and for nothing else;
//   4. money is conserved: the sum of all balances plus the burned fees
//      (Σ gas_used × gas_price over the receipts) equals the genesis supply;
//   5. the state root recomputed from the flat account and storage records
//      equals the head's state root, and every account's proof verifies
//      against it: the records and the tree agree, nothing half-written;
//   6. the chain continues: it produces a block on top of the recovered head.
//
// Trials: 5 by default, 50 with WRIT_LONG_TESTS=1 in the environment. The
// delays come from a fixed seed per trial, so a failing trial can be rerun
// (the kill point still depends on scheduling). Most trials kill the child
// 5-80 ms after it reports that its chain is open (mid block production);
// every fifth kills it 0-250 ms after the fork, during process start-up,
// RocksDB creation or the genesis commit.
//
// The child is this binary re-executed (fork, then execv of /proc/self/exe
// with --writ-crash-child), so it starts with fresh RocksDB and OpenSSL
// state: a plain fork of a process that has opened RocksDB copies the
// bookkeeping of its background thread pool but not the threads. The child
// also asks to be killed if the parent dies (PR_SET_PDEATHSIG) and stops on
// its own after 20 s; the parent always reaps it (waitpid).
#include <gtest/gtest.h>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <thread>

#include "writ/runtime/chain.hpp"

namespace writ::runtime {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kChainId = 31;
constexpr uint64_t kGenesisTime = 1'700'000'000;
constexpr uint64_t kGasPrice = 3;         // so burned fees are not just gas
constexpr uint64_t kTransferGas = 1'500;  // limit; a transfer uses kTxBaseGas
constexpr int kSenders = 8;
constexpr int kRecipients = 24;
constexpr int kTxsPerBlock = 6;
const U256 kSenderFunds = U256::from_u64(1'000'000'000'000);

Keypair sender_key(int i) {
  return keypair_from_seed({static_cast<uint8_t>(i + 1), 0xC7});
}

// Recipients: the senders themselves and some addresses nobody holds a key for.
Address recipient(int i) {
  if (i < kSenders) return address_of(sender_key(i).pub);
  return Hash256::from_u256(U256::from_u64(0xC0DE'0000 + static_cast<uint64_t>(i)));
}

Genesis genesis() {
  Genesis g;
  g.chain_id = kChainId;
  g.timestamp = kGenesisTime;
  for (int i = 0; i < kSenders; ++i)
    g.accounts.push_back({address_of(sender_key(i).pub), kSenderFunds});
  return g;
}

U256 genesis_supply() {
  U256 s = U256::zero();
  for (const GenesisAccount& a : genesis().accounts) s = vm::add(s, a.balance);
  return s;
}

Transaction transfer(const Keypair& from, uint64_t nonce, const Address& to, uint64_t value) {
  Transaction t;
  t.kind = Transaction::Kind::Call;
  t.chain_id = kChainId;
  t.nonce = nonce;
  t.gas_limit = kTransferGas;
  t.gas_price = U256::from_u64(kGasPrice);
  t.value = U256::from_u64(value);
  t.to = to;
  t.sign_with(from);
  return t;
}

// ---- the child -------------------------------------------------------------------

// Produces blocks until killed. Exit codes: 3 open failed, 4 a block failed,
// 5 a transaction was rejected (the child only sends valid ones), 0 timeout.
int run_child(const std::string& dir, uint64_t seed, int ready_fd) {
  auto store = open_rocksdb_store(dir, RocksStoreOptions{.create = true});
  if (!store.ok()) {
    std::fprintf(stderr, "child: %s\n", store.error().to_string().c_str());
    return 3;
  }
  auto chain = Chain::open(std::move(store.value()), genesis());
  if (!chain.ok()) {
    std::fprintf(stderr, "child: %s\n", chain.error().to_string().c_str());
    return 3;
  }
  Chain& c = *chain.value();
  if (ready_fd >= 0) {
    char r = 'r';
    (void)!::write(ready_fd, &r, 1);
    ::close(ready_fd);
  }
  std::vector<Keypair> keys;
  std::vector<uint64_t> nonces;
  for (int i = 0; i < kSenders; ++i) {
    keys.push_back(sender_key(i));
    nonces.push_back(c.account(address_of(keys.back().pub)).value().nonce);
  }
  std::mt19937_64 rng(seed);
  uint64_t time = c.head().timestamp;
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (std::chrono::steady_clock::now() < give_up) {
    std::vector<Transaction> txs;
    for (int k = 0; k < kTxsPerBlock; ++k) {
      int s = static_cast<int>(rng() % kSenders);
      txs.push_back(transfer(keys[s], nonces[s]++, recipient(static_cast<int>(rng() % kRecipients)),
                             1 + rng() % 1000));
    }
    auto r = c.produce_block(txs, ++time);
    if (!r.ok()) {
      std::fprintf(stderr, "child: %s\n", r.error().to_string().c_str());
      return 4;
    }
    if (!r->rejected.empty()) {
      std::fprintf(stderr, "child: rejected: %s\n", r->rejected[0].reason.c_str());
      return 5;
    }
  }
  return 0;
}

// ---- the parent ------------------------------------------------------------------

struct Killed {
  int wait_status = 0;
  int ms_after_ready = -1;  // -1: killed before the child reported ready
  int ms_after_fork = 0;
};

// Forks the child on `dir`, kills it per the trial's schedule, reaps it.
Killed spawn_and_kill(const fs::path& dir, uint64_t seed, bool early) {
  std::mt19937_64 rng(seed);
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) ADD_FAILURE() << "pipe2 failed";
  const auto start = std::chrono::steady_clock::now();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    ::fcntl(fds[1], F_SETFD, 0);  // keep the write end across exec
    std::string fd = std::to_string(fds[1]), s = std::to_string(seed), d = dir.string();
    const char* argv[] = {"writ_crash_tests", "--writ-crash-child", d.c_str(),
                          s.c_str(),          fd.c_str(),           nullptr};
    ::execv("/proc/self/exe", const_cast<char* const*>(argv));
    ::_exit(127);
  }
  ::close(fds[1]);
  Killed k;
  auto ms_since = [](auto t0) {
    return static_cast<int>(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
            .count());
  };
  if (pid < 0) {
    ADD_FAILURE() << "fork failed";
    ::close(fds[0]);
    return k;
  }
  if (early) {
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 251));
  } else {
    pollfd p{fds[0], POLLIN, 0};
    int n = ::poll(&p, 1, 10'000);
    char r = 0;
    if (n == 1 && ::read(fds[0], &r, 1) == 1) {
      const auto ready = std::chrono::steady_clock::now();
      std::this_thread::sleep_for(std::chrono::milliseconds(5 + rng() % 76));  // 5-80 ms
      k.ms_after_ready = ms_since(ready);
    } else {
      ADD_FAILURE() << "the child did not report ready within 10 s";
    }
  }
  ::kill(pid, SIGKILL);
  k.ms_after_fork = ms_since(start);
  ::close(fds[0]);
  while (::waitpid(pid, &k.wait_status, 0) < 0 && errno == EINTR) {
  }
  return k;
}

// Checks 1-6 of the header comment on the database in `dir`.
// `committed` receives the height the child had committed (0 if none).
void check_recovered(const fs::path& dir, const std::string& trial, uint64_t& committed) {
  SCOPED_TRACE(trial);
  committed = 0;
  // Killed before RocksDB made its CURRENT file, the database was never
  // created (creation is atomic there): nothing was committed.
  if (!fs::exists(dir / "CURRENT")) return;
  auto store = open_rocksdb_store(dir.string());
  ASSERT_TRUE(store.ok()) << store.error().to_string();
  // The flat records, read before the chain opens on the same store.
  std::map<Address, Account> accounts;
  std::map<Hash256, std::optional<Hash256>> leaves;  // state tree key -> value hash
  size_t stored_blocks = 0, stored_receipts = 0;
  {
    auto acc = store.value()->scan(Column::Accounts);
    ASSERT_TRUE(acc.ok());
    for (const auto& [key, value] : acc.value()) {
      ASSERT_EQ(key.size(), 32u);
      auto a = Account::decode(value);
      ASSERT_TRUE(a.has_value()) << "an account record does not decode";
      Address addr;
      std::memcpy(addr.bytes.data(), key.data(), 32);
      accounts[addr] = *a;
      leaves[account_key(addr)] = account_leaf_value(*a);
    }
    auto slots = store.value()->scan(Column::Storage);
    ASSERT_TRUE(slots.ok());
    for (const auto& [key, value] : slots.value()) {
      ASSERT_EQ(key.size(), 64u);
      ASSERT_EQ(value.size(), 32u);
      Address addr;
      std::memcpy(addr.bytes.data(), key.data(), 32);
      U256 slot = vm::from_be_bytes(reinterpret_cast<const uint8_t*>(key.data()) + 32);
      leaves[storage_key(addr, slot)] =
          storage_leaf_value(vm::from_be_bytes(reinterpret_cast<const uint8_t*>(value.data())));
    }
    auto blocks = store.value()->scan(Column::Blocks);
    auto receipts = store.value()->scan(Column::Receipts);
    ASSERT_TRUE(blocks.ok() && receipts.ok());
    stored_blocks = blocks->size();
    stored_receipts = receipts->size();
  }

  // 1. It reopens; the head block exists and decodes (Chain::open checks).
  auto opened = Chain::open(std::move(store.value()), genesis());
  ASSERT_TRUE(opened.ok()) << opened.error().to_string();
  Chain& c = *opened.value();
  const BlockHeader head = c.head();
  committed = head.height;
  if (stored_blocks == 0) {
    // Killed before the genesis commit: Chain::open has just written block 0.
    EXPECT_EQ(head.height, 0u);
    EXPECT_TRUE(accounts.empty());
    return;
  }

  // 2, 3. The blocks chain up and carry their receipts; nothing beyond them.
  EXPECT_EQ(stored_blocks, head.height + 1) << "blocks stored above the head";
  U256 burned = U256::zero();
  size_t tx_total = 0;
  Hash256 parent{};
  for (uint64_t h = 0; h <= head.height; ++h) {
    auto b = c.block(h).value();
    ASSERT_TRUE(b.has_value()) << "block " << h << " is missing or does not decode";
    EXPECT_EQ(b->header.height, h);
    if (h > 0) {
      EXPECT_EQ(b->header.parent_hash, parent) << "block " << h;
    }
    parent = b->header.hash();
    std::vector<Hash256> tx_hashes, receipt_hashes;
    uint64_t gas = 0;
    for (size_t i = 0; i < b->txs.size(); ++i) {
      const Transaction& tx = b->txs[i];
      tx_hashes.push_back(tx.hash());
      auto rc = c.receipt(tx.hash()).value();
      ASSERT_TRUE(rc.has_value()) << "no receipt for tx " << i << " of block " << h;
      EXPECT_EQ(rc->height, h);
      EXPECT_EQ(rc->index, i);
      EXPECT_EQ(rc->status, vm::Status::Ok);
      receipt_hashes.push_back(rc->hash());
      gas += rc->gas_used;
      burned = vm::add(burned, vm::mul(tx.gas_price, U256::from_u64(rc->gas_used)));
    }
    tx_total += b->txs.size();
    EXPECT_EQ(b->header.tx_root, merkle_root(tx_hashes)) << "block " << h;
    EXPECT_EQ(b->header.receipts_root, merkle_root(receipt_hashes)) << "block " << h;
    EXPECT_EQ(b->header.gas_used, gas) << "block " << h;
  }
  EXPECT_EQ(parent, head.hash());
  EXPECT_EQ(stored_receipts, tx_total) << "receipts of transactions outside the committed blocks";

  // 4. Conservation of money.
  U256 total = burned;
  for (const auto& [addr, acct] : accounts) total = vm::add(total, acct.balance);
  EXPECT_EQ(total, genesis_supply()) << "balances + burned fees != genesis supply";

  // 5. The flat records rebuild the committed root, and each account proves.
  auto mem = open_memory_store();
  WriteBatch scratch;
  auto rebuilt = StateTree(*mem).update(StateTree::empty_root(), leaves, scratch);
  ASSERT_TRUE(rebuilt.ok()) << rebuilt.error().to_string();
  EXPECT_EQ(rebuilt.value(), head.state_root) << "the account records and the state root disagree";
  for (const auto& [addr, acct] : accounts) {
    auto p = c.prove_account(addr);
    ASSERT_TRUE(p.ok()) << p.error().to_string();
    EXPECT_EQ(p->state_root, head.state_root);
    ASSERT_TRUE(p->account.has_value());
    EXPECT_EQ(*p->account, acct);
    EXPECT_TRUE(verify_account_proof(p.value()));
  }

  // 6. The chain continues.
  Keypair k = sender_key(0);
  Address to = recipient(kSenders);
  U256 before = c.balance(to).value();
  auto next = c.produce_block({transfer(k, c.account(address_of(k.pub)).value().nonce, to, 7)},
                              head.timestamp + 1);
  ASSERT_TRUE(next.ok()) << next.error().to_string();
  EXPECT_TRUE(next->rejected.empty());
  EXPECT_EQ(c.head().height, head.height + 1);
  EXPECT_EQ(c.head().parent_hash, head.hash());
  EXPECT_EQ(c.balance(to).value(), vm::add(before, U256::from_u64(7)));
}

int trial_count() {
  const char* long_tests = std::getenv("WRIT_LONG_TESTS");
  return long_tests && std::string(long_tests) == "1" ? 50 : 5;
}

TEST(CrashSafety, KilledMidBlockProductionReopensIntact) {
  const int trials = trial_count();
  int reached_blocks = 0;
  for (int t = 0; t < trials; ++t) {
    fs::path dir = fs::temp_directory_path() /
                   ("writ-crash-" + std::to_string(::getpid()) + "-" + std::to_string(t));
    fs::remove_all(dir);
    const uint64_t seed = 0xC8A5'0000 + static_cast<uint64_t>(t);
    const bool early = t % 5 == 4;
    const auto t0 = std::chrono::steady_clock::now();
    Killed k = spawn_and_kill(dir, seed, early);
    // The child must have died of our SIGKILL, not of its own failure.
    EXPECT_TRUE(WIFSIGNALED(k.wait_status) && WTERMSIG(k.wait_status) == SIGKILL)
        << "trial " << t << ": the child exited with "
        << (WIFEXITED(k.wait_status) ? WEXITSTATUS(k.wait_status) : -1) << " before it was killed";
    std::string name = "trial " + std::to_string(t) + " (seed " + std::to_string(seed) + ")";
    uint64_t height = 0;
    check_recovered(dir, name, height);
    {
      if (height > 0) ++reached_blocks;
      const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
          std::chrono::steady_clock::now() - t0);
      std::printf(
          "[ trial %2d ] killed %3d ms after fork%s; %3llu blocks committed; trial took %lld ms\n",
          t, k.ms_after_fork,
          k.ms_after_ready >= 0
              ? (" (" + std::to_string(k.ms_after_ready) + " ms after ready)").c_str()
              : " (timed from the fork)",
          static_cast<unsigned long long>(height), static_cast<long long>(ms.count()));
    }
    fs::remove_all(dir);
    if (HasFatalFailure()) return;
  }
  // The kills that wait for "ready" must land while blocks are being produced.
  EXPECT_GT(reached_blocks, 0);
}

}  // namespace
}  // namespace writ::runtime

int main(int argc, char** argv) {
  if (argc == 5 && std::string(argv[1]) == "--writ-crash-child")
    return writ::runtime::run_child(argv[2], std::stoull(argv[3]), std::stoi(argv[4]));
  ::testing::InitGoogleTest(&argc, argv);
  return RUN_ALL_TESTS();
}
