// Internal parts of writ_runtime that the chain relies on for speed, tested
// on their own: the signature pool (verdicts must not depend on who computes
// them), the read cache (it may forget, never misremember), and Hash256's
// word-wise comparison (it must order exactly as the bytes do: ordered maps
// of hashes decide the order of state changes, hence the state root).
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <random>
#include <unistd.h>
#include <thread>

#include "read_cache.hpp"
#include "signature_pool.hpp"
#include "writ/runtime/store.hpp"

namespace writ::runtime {
namespace {

std::vector<Transaction> signed_txs(size_t n) {
  std::vector<Transaction> out;
  for (size_t i = 0; i < n; ++i) {
    Transaction t;
    t.chain_id = 3;
    t.nonce = i;
    t.gas_limit = 1000 + i;
    t.to = sha256("to", std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(&i), sizeof i));
    t.sign_with(keypair_from_seed({static_cast<uint8_t>(i % 5 + 1)}));
    if (i % 3 == 1) t.signature.bytes[7] ^= 0x40;  // a third are forged
    if (i % 7 == 2) t.value = U256::from_u64(1);   // signed before: now a bad signature too
    out.push_back(std::move(t));
  }
  return out;
}

SignaturePool::JobPtr job_of(const Transaction& t) {
  return SignaturePool::make(t, t.encode());
}

TEST(SignaturePool, VerdictsMatchSignatureValidForEveryThreadCount) {
  const auto txs = signed_txs(40);
  std::vector<bool> expected;
  size_t bad = 0;
  for (const auto& t : txs) {
    expected.push_back(t.signature_valid());
    bad += !expected.back();
  }
  ASSERT_GT(bad, 10u);
  ASSERT_LT(bad, 30u);
  for (unsigned threads : {0u, 1u, 3u}) {
    SignaturePool pool(threads);
    std::vector<SignaturePool::JobPtr> jobs;
    for (const auto& t : txs) jobs.push_back(job_of(t));
    pool.submit(jobs);
    // Waited on in reverse: the waiter runs queued jobs itself meanwhile.
    for (size_t i = txs.size(); i-- > 0;)
      EXPECT_EQ(pool.wait(jobs[i]), expected[i]) << "tx " << i << ", " << threads << " threads";
    for (const auto& j : jobs) EXPECT_GE(j->state.load(), SignaturePool::kGood);
  }
}

TEST(SignaturePool, JobsNeverSubmittedAreRunByTheWaiter) {
  SignaturePool pool(2);
  const auto txs = signed_txs(4);
  for (size_t i = 0; i < txs.size(); ++i) {
    EXPECT_EQ(pool.wait(job_of(txs[i])), txs[i].signature_valid()) << i;
    EXPECT_EQ(pool.run_now(job_of(txs[i])), txs[i].signature_valid()) << i;
  }
}

// A job run keeps its verdict, not the transaction it checked (a chain keeps
// up to 40,000 jobs for later blocks).
TEST(SignaturePool, ARunJobKeepsOnlyItsVerdict) {
  SignaturePool pool(0);
  for (const auto& t : signed_txs(6)) {
    auto job = job_of(t);
    EXPECT_FALSE(job->signing.empty());
    EXPECT_EQ(pool.run_now(job), t.signature_valid());
    EXPECT_TRUE(job->signing.empty());
    EXPECT_EQ(job->signing.capacity(), 0u);
    EXPECT_EQ(pool.wait(job), t.signature_valid());  // the verdict stays
  }
}

TEST(SignaturePool, ManyWaitersFromManyThreadsAgree) {
  const auto txs = signed_txs(24);
  SignaturePool pool(2);
  std::vector<SignaturePool::JobPtr> jobs;
  for (const auto& t : txs) jobs.push_back(job_of(t));
  pool.submit(jobs);
  std::vector<std::vector<int>> seen(3, std::vector<int>(txs.size(), -1));
  std::vector<std::thread> ts;
  for (size_t w = 0; w < seen.size(); ++w)
    ts.emplace_back([&, w] {
      for (size_t i = 0; i < jobs.size(); ++i)
        seen[w][(i + 7 * w) % jobs.size()] = pool.wait(jobs[(i + 7 * w) % jobs.size()]);
    });
  for (auto& t : ts) t.join();
  for (size_t i = 0; i < txs.size(); ++i)
    for (size_t w = 0; w < seen.size(); ++w)
      EXPECT_EQ(seen[w][i], txs[i].signature_valid() ? 1 : 0) << "tx " << i << " waiter " << w;
}

TEST(SignaturePool, DestroyingWithQueuedJobsDropsThem) {
  const auto txs = signed_txs(30);
  std::vector<SignaturePool::JobPtr> jobs;
  for (const auto& t : txs) jobs.push_back(job_of(t));
  {
    SignaturePool pool(1);
    pool.submit(jobs);
  }  // must return without running all 30
  // A dropped job is still queued or done; another pool can finish it.
  SignaturePool other(0);
  for (size_t i = 0; i < jobs.size(); ++i)
    EXPECT_EQ(other.wait(jobs[i]), txs[i].signature_valid()) << i;
}

struct IntHasher {
  size_t operator()(uint64_t v) const { return static_cast<size_t>(v); }
};

TEST(ReadCache, ForgetsOnCollisionNeverReturnsAnotherKeysValue) {
  ReadCache<uint64_t, uint64_t, IntHasher> c(8);  // slots: key % 8
  c.put(3, 30);
  EXPECT_EQ(c.get(3), std::optional<uint64_t>(30));
  EXPECT_EQ(c.get(11), std::nullopt);  // same slot, other key
  c.put(11, 110);                      // evicts 3
  EXPECT_EQ(c.get(11), std::optional<uint64_t>(110));
  EXPECT_EQ(c.get(3), std::nullopt);
  EXPECT_EQ(c.get(0), std::nullopt);                 // never written (zero-filled slot)
  ReadCache<uint64_t, uint64_t, IntHasher> five(5);  // rounded up to 8 slots
  five.put(4, 1);
  five.put(12, 2);
  EXPECT_EQ(five.get(4), std::nullopt);
  EXPECT_EQ(five.get(12), std::optional<uint64_t>(2));
}

// Two ways (the state tree's node cache): keys of one set live side by side,
// a put evicts the set's oldest entry, an erased entry frees its place, and
// a key put again replaces its own entry (never two values for one key).
TEST(ReadCache, TwoWaysKeepTwoKeysOfASetAndEvictTheOlder) {
  ReadCache<uint64_t, uint64_t, IntHasher, 2> c(8);  // sets: {0,1} {2,3} {4,5} {6,7}
  c.put(2, 20);
  c.put(10, 100);  // same set as 2
  EXPECT_EQ(c.get(2), std::optional<uint64_t>(20));
  EXPECT_EQ(c.get(10), std::optional<uint64_t>(100));
  EXPECT_EQ(c.get(3), std::nullopt);  // same set, never put
  c.put(2, 21);                       // replaces its own entry
  c.put(18, 180);                     // the set is full: evicts the older, 10
  EXPECT_EQ(c.get(2), std::optional<uint64_t>(21));
  EXPECT_EQ(c.get(18), std::optional<uint64_t>(180));
  EXPECT_EQ(c.get(10), std::nullopt);
  c.erase(2);
  EXPECT_EQ(c.get(2), std::nullopt);
  c.put(26, 260);  // takes the erased place: 18 stays
  EXPECT_EQ(c.get(18), std::optional<uint64_t>(180));
  EXPECT_EQ(c.get(26), std::optional<uint64_t>(260));
  c.erase(99);  // absent: nothing happens
  EXPECT_EQ(c.get(18), std::optional<uint64_t>(180));
  ReadCache<uint64_t, uint64_t, IntHasher, 2> one(1);  // at least one set
  one.put(5, 50);
  one.put(6, 60);
  EXPECT_EQ(one.get(5), std::optional<uint64_t>(50));
  EXPECT_EQ(one.get(6), std::optional<uint64_t>(60));
}

TEST(ReadCache, MemoryIsAllocatedWhereAPutLandsNotByReads) {
  ReadCache<uint64_t, uint64_t, IntHasher> c(1 << 20);
  EXPECT_EQ(c.resident_slots(), 0u);
  for (uint64_t k = 0; k < (1 << 20); k += 4096) EXPECT_EQ(c.get(k), std::nullopt);
  EXPECT_EQ(c.resident_slots(), 0u);  // reads of an empty table touch nothing
  c.put(7, 70);
  const size_t chunk = c.resident_slots();
  EXPECT_GT(chunk, 0u);
  EXPECT_LT(chunk, 1u << 20);
  EXPECT_EQ(c.get(7), std::optional<uint64_t>(70));
  EXPECT_EQ(c.get(8), std::nullopt);  // same chunk, never written
  c.put(9, 90);                       // same chunk: nothing new
  EXPECT_EQ(c.resident_slots(), chunk);
  c.put((1 << 20) - 1, 1);  // the last chunk
  EXPECT_EQ(c.resident_slots(), 2 * chunk);
  EXPECT_EQ(c.get((1 << 20) - 1), std::optional<uint64_t>(1));
  EXPECT_EQ(c.get(7), std::optional<uint64_t>(70));
}

TEST(ReadCache, AReadFromBeforeACommitIsNotCachedAfterIt) {
  ReadCache<uint64_t, uint64_t, IntHasher> c(64);
  const uint64_t e0 = c.epoch();
  c.put_read(1, 100, e0);  // no commit since e0: kept
  EXPECT_EQ(c.get(1), std::optional<uint64_t>(100));
  const uint64_t before = c.epoch();
  c.put_committed([](auto&& put) { put(2, 222); });
  EXPECT_EQ(c.get(2), std::optional<uint64_t>(222));
  c.put_read(2, 200, before);  // a stale read racing the commit: ignored
  EXPECT_EQ(c.get(2), std::optional<uint64_t>(222));
  c.put_read(5, 500, before);
  EXPECT_EQ(c.get(5), std::nullopt);
  c.put_read(5, 501, c.epoch());
  EXPECT_EQ(c.get(5), std::optional<uint64_t>(501));
}

TEST(Hash256, OrdersExactlyAsItsBytesDo) {
  auto bytewise = [](const Hash256& a, const Hash256& b) {
    const int c = std::memcmp(a.bytes.data(), b.bytes.data(), 32);
    return c < 0   ? std::strong_ordering::less
           : c > 0 ? std::strong_ordering::greater
                   : std::strong_ordering::equal;
  };
  std::mt19937_64 rng(7);
  std::vector<Hash256> hs;
  for (int i = 0; i < 64; ++i) {
    Hash256 h;
    for (auto& b : h.bytes) b = static_cast<uint8_t>(rng());
    hs.push_back(h);
    // Neighbours that differ in one byte only, at every position, across the
    // sign bit of a byte (0x7f / 0x80) and of a word.
    for (size_t at : {size_t{0}, size_t{7}, size_t{8}, size_t{15}, size_t{24}, size_t{31}}) {
      Hash256 lo = h, hi = h;
      lo.bytes[at] = 0x7f;
      hi.bytes[at] = 0x80;
      hs.push_back(lo);
      hs.push_back(hi);
    }
  }
  hs.push_back(Hash256{});
  for (const Hash256& a : hs)
    for (const Hash256& b : hs) {
      ASSERT_EQ(a <=> b, bytewise(a, b)) << a.hex() << " vs " << b.hex();
      ASSERT_EQ(a == b, bytewise(a, b) == 0) << a.hex() << " vs " << b.hex();
    }
}

// RocksStore::write hands a batch to RocksDB sorted by column and key, the
// sort ranking keys by their first 8 bytes before comparing them whole. The
// batch's meaning must not change: of two operations on one key, the later
// wins. Keys here share their first 8 bytes, differ only past them, are
// shorter than 8 bytes, or end in zero bytes (which the rank pads with).
TEST(RocksStore, ABatchKeepsItsOrderForEachKeyWhateverTheKeys) {
  namespace fs = std::filesystem;
  const fs::path dir =
      fs::temp_directory_path() / ("writ-store-order-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  auto store = open_rocksdb_store(dir.string(), RocksStoreOptions{.create = true});
  ASSERT_TRUE(store.ok()) << store.error().to_string();
  using namespace std::string_literals;
  const std::vector<std::string> keys = {
      "",          "a",          "a\0"s,         "a\0\0"s,     "abcdefg",  "abcdefgh",
      "abcdefgh\0"s, "abcdefghA",  "abcdefghB",   "abcdefgi",  "abcdefg\xff"s,
      "\xff\xff\xff\xff\xff\xff\xff\xff"s, "\xff\xff\xff\xff\xff\xff\xff\xff\x01"s,
      "\0\0\0\0\0\0\0\0\0"s};
  const Column columns[] = {Column::Storage, Column::Tree};
  std::map<std::pair<Column, std::string>, std::string> model;
  std::mt19937_64 rng(11);
  for (int round = 0; round < 40; ++round) {
    WriteBatch batch;
    const int ops = 1 + static_cast<int>(rng() % 200);
    for (int i = 0; i < ops; ++i) {
      const Column c = columns[rng() % 2];
      const std::string& k = keys[rng() % keys.size()];
      if (rng() % 4 == 0) {
        batch.del(c, k);
        model.erase({c, k});
      } else {
        const std::string v = std::to_string(round) + "." + std::to_string(i);
        batch.put(c, k, v);
        model[{c, k}] = v;
      }
    }
    ASSERT_TRUE(store.value()->write(batch, round % 8 == 0));
    for (Column c : columns) {
      auto rows = store.value()->scan(c);
      ASSERT_TRUE(rows.ok());
      std::vector<std::pair<std::string, std::string>> want;
      for (const auto& [ck, v] : model)
        if (ck.first == c) want.emplace_back(ck.second, v);
      ASSERT_EQ(rows.value(), want) << "round " << round << ", column " << column_name(c);
    }
  }
  store.value().reset();
  fs::remove_all(dir);
}

}  // namespace
}  // namespace writ::runtime
