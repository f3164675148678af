// Damage to a real RocksDB chain, one kind per test: a cut, bit-flipped or
// deleted write-ahead log, a damaged MANIFEST, a damaged or missing CURRENT
// file, a damaged or missing commit record, a data directory without its
// database. Each case ends in one of two outcomes, never a third:
//   - a refusal to open whose message names what is damaged or lost;
//   - exactly the committed state: the last acknowledged block's height and
//     state root, and its balances.
// A silent rollback (an earlier head) or a zero served as data fails the test.
// A full disk (a FileSystem wrapper that refuses writes on demand) stops
// block production, not the process, and the chain commits again once the
// disk has room.
//
// The chain is built by a Fixture and closed before the damage, so the
// damage hits files at rest: RocksDB keeps the blocks since its last flush in
// the write-ahead log only (a close does not flush), which is what a crash
// leaves too.
#include <gtest/gtest.h>
#include <rocksdb/file_system.h>
#include <sched.h>
#include <sys/mount.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include "writ/runtime/chain.hpp"
#include "writ/runtime/node.hpp"
#include "writ/writ.h"

namespace writ::runtime {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kChainId = 7;
constexpr uint64_t kBlocks = 40;  // committed in the fixture
constexpr uint64_t kTxsPerBlock = 4;

Keypair alice() {
  return keypair_from_seed({1});
}
Address bob() {
  return Hash256::from_u256(U256::from_u64(0xB0B));
}

Genesis genesis() {
  Genesis g;
  g.chain_id = kChainId;
  g.timestamp = 1'700'000'000;
  g.accounts.push_back({address_of(alice().pub), U256::from_u64(1'000'000'000)});
  return g;
}

Transaction transfer(uint64_t nonce, uint64_t value) {
  Transaction t;
  t.kind = Transaction::Kind::Call;
  t.chain_id = kChainId;
  t.nonce = nonce;
  t.gas_limit = 5000;
  t.gas_price = U256::from_u64(1);
  t.value = U256::from_u64(value);
  t.to = bob();
  t.sign_with(alice());
  return t;
}

// A file system whose writes fail with "no space left" while `full` is set:
// new files, appends and syncs. With `short_writes`, an append first writes
// half of its data (a write cut short), then fails.
class FullDisk final : public rocksdb::FileSystemWrapper {
 public:
  FullDisk() : rocksdb::FileSystemWrapper(rocksdb::FileSystem::Default()) {}
  const char* Name() const override { return "WritFullDisk"; }
  std::atomic<bool> full{false};
  std::atomic<bool> short_writes{false};
  std::atomic<int> refused{0};

  rocksdb::IOStatus refuse() {
    ++refused;
    return rocksdb::IOStatus::NoSpace("no space left on device (injected)");
  }

  rocksdb::IOStatus NewWritableFile(const std::string& name, const rocksdb::FileOptions& o,
                                    std::unique_ptr<rocksdb::FSWritableFile>* out,
                                    rocksdb::IODebugContext* dbg) override {
    if (full) return refuse();
    return wrap(target()->NewWritableFile(name, o, out, dbg), out);
  }
  rocksdb::IOStatus ReopenWritableFile(const std::string& name, const rocksdb::FileOptions& o,
                                       std::unique_ptr<rocksdb::FSWritableFile>* out,
                                       rocksdb::IODebugContext* dbg) override {
    if (full) return refuse();
    return wrap(target()->ReopenWritableFile(name, o, out, dbg), out);
  }
  rocksdb::IOStatus ReuseWritableFile(const std::string& name, const std::string& old,
                                      const rocksdb::FileOptions& o,
                                      std::unique_ptr<rocksdb::FSWritableFile>* out,
                                      rocksdb::IODebugContext* dbg) override {
    if (full) return refuse();
    return wrap(target()->ReuseWritableFile(name, old, o, out, dbg), out);
  }

 private:
  class File final : public rocksdb::FSWritableFileOwnerWrapper {
   public:
    File(std::unique_ptr<rocksdb::FSWritableFile> f, FullDisk& disk)
        : rocksdb::FSWritableFileOwnerWrapper(std::move(f)), disk_(disk) {}
    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& o,
                             rocksdb::IODebugContext* dbg) override {
      if (disk_.full) return refuse_append(data, o, dbg);
      return target()->Append(data, o, dbg);
    }
    rocksdb::IOStatus Append(const rocksdb::Slice& data, const rocksdb::IOOptions& o,
                             const rocksdb::DataVerificationInfo& v,
                             rocksdb::IODebugContext* dbg) override {
      if (disk_.full) return refuse_append(data, o, dbg);
      return target()->Append(data, o, v, dbg);
    }
    rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t at,
                                       const rocksdb::IOOptions& o,
                                       rocksdb::IODebugContext* dbg) override {
      if (disk_.full) return disk_.refuse();
      return target()->PositionedAppend(data, at, o, dbg);
    }
    rocksdb::IOStatus PositionedAppend(const rocksdb::Slice& data, uint64_t at,
                                       const rocksdb::IOOptions& o,
                                       const rocksdb::DataVerificationInfo& v,
                                       rocksdb::IODebugContext* dbg) override {
      if (disk_.full) return disk_.refuse();
      return target()->PositionedAppend(data, at, o, v, dbg);
    }
    rocksdb::IOStatus Sync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
      if (disk_.full) return disk_.refuse();
      return target()->Sync(o, dbg);
    }
    rocksdb::IOStatus Fsync(const rocksdb::IOOptions& o, rocksdb::IODebugContext* dbg) override {
      if (disk_.full) return disk_.refuse();
      return target()->Fsync(o, dbg);
    }

   private:
    rocksdb::IOStatus refuse_append(const rocksdb::Slice& data, const rocksdb::IOOptions& o,
                                    rocksdb::IODebugContext* dbg) {
      if (disk_.short_writes && data.size() > 1)
        (void)target()->Append(rocksdb::Slice(data.data(), data.size() / 2), o, dbg);
      return disk_.refuse();
    }
    FullDisk& disk_;
  };
  rocksdb::IOStatus wrap(rocksdb::IOStatus s, std::unique_ptr<rocksdb::FSWritableFile>* out) {
    if (s.ok()) *out = std::make_unique<File>(std::move(*out), *this);
    return s;
  }
};

// What a chain committed, to compare a reopened one with.
struct Committed {
  uint64_t height = 0;
  Hash256 state_root;
  U256 bob_balance{};
};

class FaultInjection : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("writ-fault-" + std::to_string(::getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path db() const { return dir_ / "chain"; }

  static Result<std::unique_ptr<Chain>> open_chain(const fs::path& path,
                                                   const RocksStoreOptions& o = {}) {
    auto store = open_rocksdb_store(path.string(), o);
    if (!store.ok()) return store.error();
    return Chain::open(std::move(store.value()), genesis());
  }

  // Creates the chain and commits kBlocks blocks of transfers (1 unit each).
  Committed build(uint64_t blocks = kBlocks) {
    RocksStoreOptions create;
    create.create = true;
    auto chain = open_chain(db(), create);
    EXPECT_TRUE(chain.ok()) << chain.error().message;
    if (!chain.ok()) return {};
    Chain& c = *chain.value();
    uint64_t nonce = 0, time = 1'700'000'000;
    for (uint64_t b = 0; b < blocks; ++b) {
      std::vector<Transaction> txs;
      for (uint64_t i = 0; i < kTxsPerBlock; ++i) txs.push_back(transfer(nonce++, 1));
      auto r = c.produce_block(txs, ++time);
      EXPECT_TRUE(r.ok()) << r.error().message;
      EXPECT_TRUE(r.ok() && r->rejected.empty());
    }
    return {c.head().height, c.head().state_root, c.balance(bob()).value()};
  }

  // The database's files whose names end in `suffix` (or start with it, for
  // MANIFEST-), largest number last.
  std::vector<fs::path> files(const std::string& pattern) const {
    std::vector<fs::path> out;
    for (const auto& e : fs::directory_iterator(db())) {
      const std::string n = e.path().filename().string();
      if ((pattern.front() == '.' && n.size() > pattern.size() &&
           n.compare(n.size() - pattern.size(), pattern.size(), pattern) == 0) ||
          (pattern.front() != '.' && n.rfind(pattern, 0) == 0))
        out.push_back(e.path());
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  // The table file of one column (its name is among the file's properties).
  // REQUIRES: no column name that extends `c`'s (tree, tree_log).
  fs::path table_of(Column c) const {
    fs::path found;
    for (const fs::path& p : files(".sst")) {
      std::ifstream f(p, std::ios::binary);
      std::stringstream ss;
      ss << f.rdbuf();
      // The property rocksdb.column.family.name, its key delta-encoded
      // after rocksdb.column.family.id: "name" then the value.
      if (ss.str().find(std::string("name") + column_name(c)) != std::string::npos) {
        EXPECT_TRUE(found.empty()) << "two table files name " << column_name(c);
        found = p;
      }
    }
    EXPECT_FALSE(found.empty()) << "no table file of " << column_name(c);
    return found;
  }
  fs::path only_wal() const {
    auto w = files(".log");
    EXPECT_EQ(w.size(), 1u);
    return w.empty() ? fs::path() : w.back();
  }

  static void flip_byte(const fs::path& p, uint64_t at) {
    std::fstream f(p, std::ios::in | std::ios::out | std::ios::binary);
    ASSERT_TRUE(f.good()) << p;
    f.seekg(static_cast<std::streamoff>(at));
    char c = 0;
    f.read(&c, 1);
    c = static_cast<char>(c ^ 0x5a);
    f.seekp(static_cast<std::streamoff>(at));
    f.write(&c, 1);
  }
  static void append(const fs::path& p, const std::string& bytes) {
    std::ofstream f(p, std::ios::binary | std::ios::app);
    f << bytes;
  }

  // The chain reopens with exactly what was committed.
  void expect_committed(const Committed& want, const RocksStoreOptions& o = {}) {
    auto chain = open_chain(db(), o);
    ASSERT_TRUE(chain.ok()) << chain.error().message;
    EXPECT_EQ(chain.value()->head().height, want.height);
    EXPECT_EQ(chain.value()->head().state_root, want.state_root);
    EXPECT_EQ(chain.value()->balance(bob()).value(), want.bob_balance);
  }
  // The chain does not open; the error contains every one of `words`.
  void expect_refused(const std::vector<std::string>& words) {
    auto chain = open_chain(db());
    ASSERT_FALSE(chain.ok()) << "opened at height " << chain.value()->head().height;
    for (const std::string& w : words)
      EXPECT_NE(chain.error().message.find(w), std::string::npos)
          << "no \"" << w << "\" in: " << chain.error().message;
  }
  // After a refusal: accepting the loss opens the chain at a lower height
  // than `lost` committed (what a silent rollback would have served), and
  // from then on it opens normally and builds on that head.
  void expect_accepted_rollback(const Committed& lost) {
    RocksStoreOptions accept;
    accept.accept_lost_writes = true;
    std::string accepted;
    accept.accepted_loss = &accepted;
    uint64_t recovered = 0;
    {
      auto chain = open_chain(db(), accept);
      ASSERT_TRUE(chain.ok()) << chain.error().message;
      recovered = chain.value()->head().height;
      EXPECT_LT(recovered, lost.height);
      EXPECT_EQ(accepted, "block " + std::to_string(lost.height) +
                              " was committed; the database recovered only block " +
                              std::to_string(recovered) + ", and the blocks after it are lost");
    }
    auto chain = open_chain(db());
    ASSERT_TRUE(chain.ok()) << chain.error().message;
    EXPECT_EQ(chain.value()->head().height, recovered);
    auto next =
        chain.value()->produce_block({transfer(recovered * kTxsPerBlock, 1)}, 1'800'000'000);
    ASSERT_TRUE(next.ok()) << next.error().message;
    EXPECT_TRUE(next->rejected.empty());
  }

  // Every file of the database but RocksDB's diagnostic log, with its bytes.
  std::map<std::string, std::string> contents() const {
    std::map<std::string, std::string> out;
    for (const auto& e : fs::directory_iterator(db())) {
      const std::string n = e.path().filename().string();
      if (n == "LOG" || n.rfind("LOG.old", 0) == 0) continue;
      std::ifstream f(e.path(), std::ios::binary);
      std::stringstream ss;
      ss << f.rdbuf();
      out[n] = ss.str();
    }
    return out;
  }

  fs::path dir_;
};

// ---- the write-ahead log -------------------------------------------------------------------

TEST_F(FaultInjection, UndamagedChainReopensAtItsHead) {
  Committed c = build();
  ASSERT_EQ(c.height, kBlocks);
  expect_committed(c);
  expect_committed(c);  // and again, after the first reopen flushed the log
}

TEST_F(FaultInjection, CutWriteAheadLogIsRefusedNamingBothHeights) {
  Committed c = build();
  fs::path wal = only_wal();
  fs::resize_file(wal, fs::file_size(wal) / 2);
  expect_refused({"lost committed writes", "block " + std::to_string(kBlocks) + " was committed",
                  "recovered only block", "write-ahead log is damaged or missing"});
  // The C API refuses it too, as damage.
  const std::string g = R"({"chain_id": 7, "accounts": []})";
  writ_chain* wc = nullptr;
  EXPECT_EQ(writ_chain_open(db().c_str(), g.data(), g.size(), &wc), WRIT_ERR_CORRUPT);
  EXPECT_NE(std::string(writ_last_error()).find("lost committed writes"), std::string::npos)
      << writ_last_error();
  EXPECT_EQ(wc, nullptr);
  expect_accepted_rollback(c);
}

// A refused open changes no file: the damaged log still holds the writes
// after the damage (to salvage from, or for a backup's comparison), and the
// next open is refused the same way.
TEST_F(FaultInjection, ARefusedOpenLeavesTheDamagedLogInPlace) {
  build();
  fs::path wal = only_wal();
  flip_byte(wal, fs::file_size(wal) / 3);
  const auto before = contents();
  expect_refused({"lost committed writes", "block " + std::to_string(kBlocks) + " was committed"});
  EXPECT_EQ(contents(), before);
  expect_refused({"lost committed writes", "block " + std::to_string(kBlocks) + " was committed"});
  EXPECT_EQ(contents(), before);
}

// Accepting a loss takes effect with the chain: an accepting open whose
// chain is then refused (another chain's genesis) accepts nothing.
TEST_F(FaultInjection, AnAcceptingOpenThatFailsAcceptsNothing) {
  Committed c = build();
  fs::path wal = only_wal();
  fs::resize_file(wal, fs::file_size(wal) / 2);
  RocksStoreOptions accept;
  accept.accept_lost_writes = true;
  auto store = open_rocksdb_store(db().string(), accept);
  ASSERT_TRUE(store.ok()) << store.error().message;
  Genesis other = genesis();
  other.chain_id += 1;
  auto chain = Chain::open(std::move(store.value()), other);
  ASSERT_FALSE(chain.ok());
  expect_refused({"lost committed writes", "block " + std::to_string(kBlocks) + " was committed"});
  expect_accepted_rollback(c);
}

TEST_F(FaultInjection, BitFlipInWriteAheadLogIsRefused) {
  Committed c = build();
  fs::path wal = only_wal();
  flip_byte(wal, fs::file_size(wal) / 3);
  expect_refused({"lost committed writes", "block " + std::to_string(kBlocks) + " was committed"});
  expect_accepted_rollback(c);
}

TEST_F(FaultInjection, DeletedWriteAheadLogIsRefused) {
  build();
  fs::remove(only_wal());
  expect_refused({"lost committed writes", "block " + std::to_string(kBlocks) + " was committed",
                  "recovered only no block"});
  // Nothing at all was flushed: accepting the loss leaves a database without
  // a chain, which the data directory refuses to treat as a new one.
  fs::create_directories(dir_ / "data");
  fs::rename(db(), dir_ / "data" / "chain");
  {
    std::ofstream g(dir_ / "data" / "genesis.json");
    g << R"({"chain_id": 7, "accounts": []})";
  }
  DataDirOptions accept;
  accept.accept_lost_writes = true;
  auto d = open_data_dir((dir_ / "data").string(), "", accept);
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.error().message.find("holds no chain"), std::string::npos) << d.error().message;
}

// A crash tears the log's tail: the write being made when the process died,
// never acknowledged. That is not a loss: the chain opens at its head.
TEST_F(FaultInjection, TornTailOfAnUnacknowledgedWriteOpensAtTheHead) {
  Committed c = build();
  append(only_wal(), std::string(3000, '\x17'));
  expect_committed(c);
}

TEST_F(FaultInjection, DeletedLogAfterAFlushLosesNothing) {
  Committed c = build();
  expect_committed(c);  // the reopen flushed the recovered blocks to a table file
  for (const fs::path& w : files(".log")) fs::remove(w);
  expect_committed(c);
}

// ---- MANIFEST and CURRENT --------------------------------------------------------------------

TEST_F(FaultInjection, DamagedManifestIsRefused) {
  build();
  auto manifests = files("MANIFEST-");
  ASSERT_FALSE(manifests.empty());
  flip_byte(manifests.back(), 20);
  expect_refused({"cannot open database at " + db().string()});
}

// A MANIFEST that is gone is damage, not a failed write to retry: the C
// API said WRIT_ERR_IO ("retry once there is space").
TEST_F(FaultInjection, MissingManifestIsRefusedAsDamage) {
  build();
  for (const fs::path& m : files("MANIFEST-")) fs::remove(m);
  expect_refused({"cannot open database at " + db().string()});
  const std::string g = R"({"chain_id": 7, "accounts": []})";
  writ_chain* wc = nullptr;
  EXPECT_EQ(writ_chain_open(db().c_str(), g.data(), g.size(), &wc), WRIT_ERR_CORRUPT)
      << writ_last_error();
  EXPECT_EQ(wc, nullptr);
}

TEST_F(FaultInjection, MissingCurrentIsRefusedAndNotRecreated) {
  build();
  fs::remove(db() / "CURRENT");
  expect_refused({"no database at " + db().string(), "CURRENT file is missing"});
  RocksStoreOptions create;
  create.create = true;
  auto created = open_rocksdb_store(db().string(), create);
  ASSERT_FALSE(created.ok());
  EXPECT_NE(created.error().message.find("holds files but no database"), std::string::npos)
      << created.error().message;
  EXPECT_FALSE(fs::exists(db() / "CURRENT"));
}

TEST_F(FaultInjection, DamagedCurrentIsRefused) {
  build();
  {
    std::ofstream f(db() / "CURRENT", std::ios::trunc);
    f << "MANIFEST-999999\n";
  }
  expect_refused({"cannot open database at " + db().string()});
}

// ---- the commit record --------------------------------------------------------------------------

TEST_F(FaultInjection, MissingCommitRecordIsRefused) {
  Committed c = build();
  fs::remove(db() / kCommitRecordFile);
  expect_refused({"no commit record"});
  RocksStoreOptions accept;
  accept.accept_lost_writes = true;
  expect_committed(c, accept);  // nothing was lost: accepting opens at the head
  expect_committed(c);          // and the record is back
}

TEST_F(FaultInjection, OneDamagedCommitRecordSlotIsSurvived) {
  Committed c = build();
  // The last record went to one slot; damage it. The other slot holds the
  // record before it, one block earlier: the chain opens at its head, which
  // is above that record.
  for (uint64_t at : {uint64_t{0}, uint64_t{4096}}) {
    flip_byte(db() / kCommitRecordFile, at + 20);
    expect_committed(c);
    flip_byte(db() / kCommitRecordFile, at + 20);  // undo, to damage the other one next
  }
}

TEST_F(FaultInjection, BothCommitRecordSlotsDamagedIsRefused) {
  build();
  flip_byte(db() / kCommitRecordFile, 20);
  flip_byte(db() / kCommitRecordFile, 4096 + 20);
  expect_refused({"commit record", "is damaged"});
}

// ---- damaged table files: errors at every layer, never a zero or a null ------------------

// Flips a byte in the first data block of the accounts, blocks and receipts
// tables (each read from disk: a fresh open has an empty block cache). The
// chain still opens (its head block and metadata are elsewhere), and every
// read of a damaged record is an error that says the store is damaged.
TEST_F(FaultInjection, DamagedTableRecordsAreErrorsAtEveryLayer) {
  Committed c = build();
  expect_committed(c);  // the reopen flushes the log into one table file per column
  for (Column col : {Column::Accounts, Column::Blocks, Column::Receipts})
    flip_byte(table_of(col), 40);
  const std::string damaged(kStoreDamaged);
  const std::string rocks_says = "Corruption";
  auto has = [](const std::string& text, const std::string& word) {
    return text.find(word) != std::string::npos;
  };

  {
    auto opened = open_chain(db());
    ASSERT_TRUE(opened.ok()) << opened.error().message;
    Chain& chain = *opened.value();
    ASSERT_EQ(chain.head().height, c.height);
    const Address a = address_of(alice().pub);

    // Chain queries.
    auto balance = chain.balance(bob());
    ASSERT_FALSE(balance.ok()) << "balance " << vm::to_dec_string(balance.value());
    EXPECT_TRUE(is_store_failure(balance.error().message)) << balance.error().message;
    EXPECT_TRUE(has(balance.error().message, rocks_says)) << balance.error().message;
    EXPECT_FALSE(chain.account(a).ok());
    EXPECT_FALSE(chain.prove_account(bob()).ok());
    auto block1 = chain.block(1);
    ASSERT_FALSE(block1.ok());
    EXPECT_TRUE(is_store_failure(block1.error().message));
    size_t receipt_errors = 0;
    for (uint64_t h = 1; h <= c.height; ++h) {
      auto b = chain.block(h);
      if (!b.ok()) continue;
      ASSERT_TRUE(b.value().has_value()) << "block " << h << " read as absent";
      for (const Transaction& t : b.value()->txs) {
        auto r = chain.receipt(t.hash());
        if (!r.ok()) {
          EXPECT_TRUE(is_store_failure(r.error().message)) << r.error().message;
          ++receipt_errors;
        } else {
          EXPECT_TRUE(r.value().has_value()) << "a committed receipt read as absent";
        }
      }
    }
    EXPECT_GT(receipt_errors, 0u);

    // Validation and execution: the payment is not refused for "balance 0",
    // and no block is built on the zero.
    const Transaction pay = transfer(c.height * kTxsPerBlock, 1);
    Status v = chain.validate(pay);
    ASSERT_FALSE(v);
    EXPECT_TRUE(is_store_failure(v.message)) << v.message;
    EXPECT_FALSE(has(v.message, "insufficient balance")) << v.message;
    auto produced = chain.produce_block({pay}, 1'800'000'000);
    ASSERT_FALSE(produced.ok()) << "a block was built on unreadable state";
    EXPECT_TRUE(is_store_failure(produced.error().message)) << produced.error().message;
    EXPECT_EQ(chain.head().height, c.height);
    EXPECT_EQ(chain.head().state_root, c.state_root);

    // JSON-RPC: internal errors that say the store is damaged.
    RpcHandler rpc(chain);
    auto call = [&](const std::string& method, nlohmann::json params) {
      return nlohmann::json::parse(rpc.handle(
          nlohmann::json{{"jsonrpc", "2.0"}, {"id", 1}, {"method", method}, {"params", params}}
              .dump()));
    };
    const std::string bob_hex = "0x" + bob().hex();
    for (const auto& [method, params] : std::vector<std::pair<std::string, nlohmann::json>>{
             {"writ_getBalance", {bob_hex}},
             {"writ_getNonce", {bob_hex}},
             {"writ_getAccount", {bob_hex}},
             {"writ_getProof", {bob_hex}},
             {"writ_getBlock", {1}},
             {"writ_sendRawTransaction", {to_hex(pay.encode())}}}) {
      SCOPED_TRACE(method);
      nlohmann::json reply = call(method, params);
      ASSERT_TRUE(reply.contains("error")) << reply.dump();
      EXPECT_EQ(reply["error"]["code"], -32603) << reply.dump();
      EXPECT_TRUE(has(reply["error"]["message"].get<std::string>(), damaged)) << reply.dump();
    }
    EXPECT_EQ(chain.head().height, c.height);
  }

  // The C API: WRIT_ERR_CORRUPT, never WRIT_OK with a zero. (The chain's own
  // genesis: another is refused.)
  const std::string g = R"({"chain_id": 7, "timestamp": 1700000000, "accounts": [{"address": "0x)" +
                        address_of(alice().pub).hex() + R"(", "balance": "1000000000"}]})";
  writ_chain* wc = nullptr;
  ASSERT_EQ(writ_chain_open(db().c_str(), g.data(), g.size(), &wc), WRIT_OK) << writ_last_error();
  uint8_t addr[32], word[32];
  std::memcpy(addr, bob().bytes.data(), 32);
  EXPECT_EQ(writ_chain_balance(wc, addr, word), WRIT_ERR_CORRUPT);
  EXPECT_TRUE(has(writ_last_error(), damaged)) << writ_last_error();
  uint64_t nonce = 0;
  EXPECT_EQ(writ_chain_nonce(wc, addr, &nonce), WRIT_ERR_CORRUPT);
  writ_block_header header;
  EXPECT_EQ(writ_chain_block_header(wc, 1, &header, nullptr), WRIT_ERR_CORRUPT);
  writ_chain_close(wc);
}

// ---- a full disk ----------------------------------------------------------------------------

// While the disk is full, blocks fail with "storage unavailable", the chain
// stays exactly at its last committed block and serves reads, and writes
// over JSON-RPC get the same error; once there is room, the same block
// commits (the store resumes by itself) with the state root a chain that
// never failed computes, and the database reopens at it.
void full_disk_case(const fs::path& db, bool short_writes) {
  auto disk = std::make_shared<FullDisk>();
  RocksStoreOptions o;
  o.create = true;
  o.file_system = disk;
  auto store = open_rocksdb_store(db.string(), o);
  ASSERT_TRUE(store.ok()) << store.error().message;
  auto opened = Chain::open(std::move(store.value()), genesis());
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  Chain& chain = *opened.value();
  auto reference = Chain::open(open_memory_store(), genesis());  // never fails
  ASSERT_TRUE(reference.ok());
  uint64_t nonce = 0, time = 1'700'000'000;
  auto next_block = [&] {
    std::vector<Transaction> txs;
    for (uint64_t i = 0; i < kTxsPerBlock; ++i) txs.push_back(transfer(nonce++, 1));
    return txs;
  };
  for (int b = 0; b < 3; ++b) {
    auto txs = next_block();
    ++time;
    ASSERT_TRUE(chain.produce_block(txs, time).ok());
    ASSERT_TRUE(reference.value()->produce_block(txs, time).ok());
  }
  const BlockHeader before = chain.head();
  const U256 bob_before = chain.balance(bob()).value();

  disk->full = true;
  disk->short_writes = short_writes;
  const auto txs = next_block();
  ++time;
  for (int attempt = 0; attempt < 3; ++attempt) {
    auto r = chain.produce_block(txs, time);
    ASSERT_FALSE(r.ok()) << "a block committed on a full disk";
    EXPECT_TRUE(is_storage_unavailable(r.error().message)) << r.error().message;
    EXPECT_NE(r.error().message.find("No space left"), std::string::npos) << r.error().message;
    EXPECT_EQ(chain.head(), before);
    auto bal = chain.balance(bob());  // reads go on
    ASSERT_TRUE(bal.ok()) << bal.error().message;
    EXPECT_EQ(bal.value(), bob_before);
  }
  EXPECT_GT(disk->refused.load(), 0);
  {
    RpcHandler rpc(chain);
    auto reply = nlohmann::json::parse(rpc.handle(nlohmann::json{
        {"jsonrpc", "2.0"},
        {"id", 1},
        {"method", "writ_sendRawTransaction"},
        {"params", {to_hex(txs[0].encode())}}}.dump()));
    ASSERT_TRUE(reply.contains("error")) << reply.dump();
    EXPECT_EQ(reply["error"]["code"], -32603);
    EXPECT_EQ(reply["error"]["message"].get<std::string>().rfind("storage unavailable", 0), 0u)
        << reply.dump();
    auto read = nlohmann::json::parse(rpc.handle(nlohmann::json{
        {"jsonrpc", "2.0"},
        {"id", 2},
        {"method", "writ_getBalance"},
        {"params", {"0x" + bob().hex()}}}.dump()));
    EXPECT_EQ(read["result"], vm::to_dec_string(bob_before)) << read.dump();
  }

  disk->full = false;
  auto r = chain.produce_block(txs, time);
  ASSERT_TRUE(r.ok()) << r.error().message;
  auto want = reference.value()->produce_block(txs, time);
  ASSERT_TRUE(want.ok());
  EXPECT_EQ(chain.head(), reference.value()->head());
  EXPECT_EQ(chain.head().height, before.height + 1);
  // And more blocks on top, across a tree persist (every 32 blocks).
  for (int b = 0; b < 40; ++b) {
    auto more = next_block();
    ++time;
    ASSERT_TRUE(chain.produce_block(more, time).ok());
    ASSERT_TRUE(reference.value()->produce_block(more, time).ok());
  }
  EXPECT_EQ(chain.head(), reference.value()->head());
  const BlockHeader last = chain.head();
  opened.value().reset();
  auto again = open_rocksdb_store(db.string());
  ASSERT_TRUE(again.ok()) << again.error().message;
  auto reopened = Chain::open(std::move(again.value()), genesis());
  ASSERT_TRUE(reopened.ok()) << reopened.error().message;
  EXPECT_EQ(reopened.value()->head(), last);
  EXPECT_EQ(reopened.value()->balance(bob()).value(), reference.value()->balance(bob()).value());
}

TEST_F(FaultInjection, FullDiskStopsBlocksNotTheNodeAndRecovers) {
  full_disk_case(db(), false);
}

TEST_F(FaultInjection, ShortWritesOnAFullDiskLeaveNothingHalfWritten) {
  full_disk_case(db(), true);
}

// The real thing (about 5 s, as root, which the test command and CI are): a
// chain on a 24 MiB tmpfs filled up by another file, blocks until the disk is
// full, then the file removed (recovery in place); then full again and a
// restart. Skipped only where a tmpfs cannot be mounted (not root, no mount
// namespaces). The mount is made in a mount namespace of this process alone
// (unshare), so it goes away with the process however the test ends, even
// by a crash.
TEST_F(FaultInjection, RealFullDiskOnASmallTmpfs) {
  // Threads started before unshare() stay in the old namespace and would
  // not see the mount (RocksDB's background threads among them): the test
  // needs a process of its own, which ctest gives every test.
  size_t threads = 0;
  for ([[maybe_unused]] const auto& t : fs::directory_iterator("/proc/self/task")) ++threads;
  if (threads != 1) GTEST_SKIP() << "needs a single-threaded process (run it alone)";
  const fs::path mnt = dir_ / "tmpfs";
  fs::create_directories(mnt);
  if (::unshare(CLONE_NEWNS) != 0)
    GTEST_SKIP() << "cannot make a mount namespace: " << std::strerror(errno);
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
      ::mount("writ-test", mnt.c_str(), "tmpfs", 0, "size=24m") != 0)
    GTEST_SKIP() << "cannot mount a tmpfs: " << std::strerror(errno);
  struct Unmount {
    fs::path at;
    ~Unmount() { ::umount2(at.c_str(), MNT_DETACH); }
  } unmount{mnt};
  const fs::path chain_dir = mnt / "chain";
  RocksStoreOptions create;
  create.create = true;
  auto opened = open_chain(chain_dir, create);
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  uint64_t nonce = 0, time = 1'700'000'000;
  std::vector<Transaction> txs;
  // Fills the disk but for about 2 MiB, then produces blocks of 100
  // payments until one fails; `last` is the head then.
  auto fill_until_a_block_fails = [&](Chain& chain, BlockHeader& last) {
    {
      std::ofstream filler(mnt / "filler", std::ios::binary | std::ios::app);
      const std::string mib(1 << 20, 'f');
      for (int i = 0; i < 64 && filler && fs::space(mnt).available >= (3u << 20); ++i) {
        filler << mib;
        filler.flush();
      }
    }
    for (int b = 0; b < 400; ++b) {
      txs.clear();
      for (uint64_t i = 0; i < 100; ++i) txs.push_back(transfer(nonce + i, 1));
      last = chain.head();
      auto r = chain.produce_block(txs, ++time);
      if (!r.ok()) {
        EXPECT_TRUE(is_storage_unavailable(r.error().message)) << r.error().message;
        EXPECT_EQ(chain.head(), last);
        EXPECT_TRUE(chain.balance(bob()).ok());  // reads go on
        return true;
      }
      nonce += 100;
    }
    return false;
  };

  // 1. In place: the node waits, then commits once the filler is gone.
  BlockHeader last;
  ASSERT_TRUE(fill_until_a_block_fails(*opened.value(), last)) << "the disk never filled up";
  auto still = opened.value()->produce_block(txs, time);
  ASSERT_FALSE(still.ok());
  EXPECT_TRUE(is_storage_unavailable(still.error().message)) << still.error().message;
  fs::remove(mnt / "filler");
  auto resumed = opened.value()->produce_block(txs, time);
  ASSERT_TRUE(resumed.ok()) << resumed.error().message;
  nonce += 100;
  EXPECT_EQ(opened.value()->head().height, last.height + 1);

  // 2. A restart on a disk still full: it opens at the last committed block
  // and commits the next one in the room that closing freed.
  ASSERT_TRUE(fill_until_a_block_fails(*opened.value(), last)) << "the disk never filled up";
  opened.value().reset();
  auto reopened = open_chain(chain_dir);
  ASSERT_TRUE(reopened.ok()) << reopened.error().message;
  EXPECT_EQ(reopened.value()->head(), last);
  auto next = reopened.value()->produce_block(txs, time);
  ASSERT_TRUE(next.ok()) << next.error().message;
  EXPECT_EQ(reopened.value()->head().height, last.height + 1);
}

// ---- the data directory ----------------------------------------------------------------------

TEST_F(FaultInjection, DataDirectoryWithoutItsDatabaseIsRefused) {
  const std::string data = (dir_ / "data").string();
  fs::create_directories(data);
  {
    std::ofstream g(dir_ / "genesis.json");
    g << R"({"chain_id": 7, "timestamp": 1700000000, "accounts": []})";
  }
  DataDirOptions create;
  create.create = true;
  {
    auto d = open_data_dir(data, (dir_ / "genesis.json").string(), create);
    ASSERT_TRUE(d.ok()) << d.error().message;
  }
  fs::remove_all(dir_ / "data" / "chain");
  for (const std::string& genesis_file : {std::string(), (dir_ / "genesis.json").string()}) {
    auto d = open_data_dir(data, genesis_file);
    ASSERT_FALSE(d.ok());
    EXPECT_NE(d.error().message.find("lost its chain database"), std::string::npos)
        << d.error().message;
    EXPECT_FALSE(fs::exists(dir_ / "data" / "chain"));
  }
}

}  // namespace
}  // namespace writ::runtime
