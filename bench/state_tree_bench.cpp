// State tree costs on the in-memory store (runtime/state_tree.cpp): one-key
// and batched updates, get, prove and verify, on trees of 10k to 1M random
// keys. An update's batch is discarded, so every iteration starts from the
// same tree; "nodes" counts the nodes one update writes.
#include <benchmark/benchmark.h>

#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <vector>

#include "writ/runtime/state_tree.hpp"

namespace writ::runtime {
namespace {

Hash256 random_hash(std::mt19937_64& rng) {
  Hash256 h;
  for (size_t i = 0; i < 32; i += 8) {
    uint64_t x = rng();
    std::memcpy(h.bytes.data() + i, &x, 8);
  }
  return h;
}

struct Tree {
  std::unique_ptr<Store> store = open_memory_store();
  Hash256 root;
  std::vector<Hash256> keys;
};

// Built once per size and shared by the benchmarks.
const Tree& tree_of(size_t n) {
  static std::map<size_t, std::unique_ptr<Tree>> trees;
  auto& t = trees[n];
  if (t) return *t;
  t = std::make_unique<Tree>();
  std::mt19937_64 rng(n);
  std::map<Hash256, std::optional<Hash256>> changes;
  while (changes.size() < n) changes[random_hash(rng)] = random_hash(rng);
  for (const auto& [k, v] : changes) t->keys.push_back(k);
  WriteBatch batch;
  auto root = StateTree(*t->store).update(StateTree::empty_root(), changes, batch);
  if (!root.ok() || !t->store->write(batch, false).ok) std::abort();
  t->root = *root;
  return *t;
}

void BM_UpdateOneKey(benchmark::State& state) {
  const Tree& t = tree_of(static_cast<size_t>(state.range(0)));
  StateTree tree(*t.store);
  std::mt19937_64 rng(1);
  size_t nodes = 0, updates = 0;
  for (auto _ : state) {
    std::map<Hash256, std::optional<Hash256>> c;
    // Alternate inserting a new key and overwriting an existing one.
    if (updates % 2)
      c[t.keys[rng() % t.keys.size()]] = random_hash(rng);
    else
      c[random_hash(rng)] = random_hash(rng);
    WriteBatch batch;
    auto r = tree.update(t.root, c, batch);
    benchmark::DoNotOptimize(r);
    nodes += batch.size();
    ++updates;
  }
  state.counters["nodes"] = static_cast<double>(nodes) / static_cast<double>(updates);
}
BENCHMARK(BM_UpdateOneKey)
    ->Arg(10'000)
    ->Arg(100'000)
    ->Arg(1'000'000)
    ->Unit(benchmark::kMicrosecond);

void BM_UpdateBatch(benchmark::State& state) {
  const Tree& t = tree_of(100'000);
  StateTree tree(*t.store);
  std::mt19937_64 rng(2);
  const auto k = static_cast<size_t>(state.range(0));
  size_t nodes = 0, updates = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::map<Hash256, std::optional<Hash256>> c;
    while (c.size() < k) {
      if (c.size() % 2)
        c[t.keys[rng() % t.keys.size()]] = random_hash(rng);
      else
        c[random_hash(rng)] = random_hash(rng);
    }
    state.ResumeTiming();
    WriteBatch batch;
    auto r = tree.update(t.root, c, batch);
    benchmark::DoNotOptimize(r);
    nodes += batch.size();
    ++updates;
  }
  state.counters["nodes"] = static_cast<double>(nodes) / static_cast<double>(updates);
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * k));
}
BENCHMARK(BM_UpdateBatch)->Arg(100)->Arg(1000)->Unit(benchmark::kMicrosecond);

// The chain's pattern: block after block of 2,000 changed keys (a block of
// 1,000 payments) applied to the previous block's root, the new nodes kept
// pending and the ones they replace forgotten, the head persisted every 32 blocks (as the chain
// does) or 8; a chain-sized node cache. Arguments: keys in the tree, blocks per persist.
void BM_ChainBlocks(benchmark::State& state) {
  const Tree& t = tree_of(static_cast<size_t>(state.range(0)));
  StateTree tree(*t.store, size_t{1} << 18);
  std::mt19937_64 rng(5);
  constexpr size_t kKeysPerBlock = 2000;
  Hash256 root = t.root;
  uint64_t blocks = 0;
  for (auto _ : state) {
    state.PauseTiming();
    std::map<Hash256, std::optional<Hash256>> c;
    while (c.size() < kKeysPerBlock) {  // mostly existing accounts, some new
      if (c.size() % 8)
        c[t.keys[rng() % t.keys.size()]] = random_hash(rng);
      else
        c[random_hash(rng)] = random_hash(rng);
    }
    state.ResumeTiming();
    std::vector<Hash256> replaced;
    auto r = tree.update(root, c, &replaced);
    if (!r.ok()) std::abort();
    root = *r;
    tree.forget_pending(replaced);  // as the chain does once the block commits
    if (++blocks % static_cast<uint64_t>(state.range(1)) == 0) {
      WriteBatch batch;
      tree.persist(root, batch);
      // Stored beside the shared tree (content-addressed: its root still reads).
      if (!t.store->write(batch, false)) std::abort();
      tree.drop_pending();
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kKeysPerBlock));
}
BENCHMARK(BM_ChainBlocks)
    ->Args({12'000, 32})
    ->Args({12'000, 8})
    ->Args({100'000, 32})
    ->Args({100'000, 8})
    ->Unit(benchmark::kMillisecond);

void BM_Get(benchmark::State& state) {
  const Tree& t = tree_of(100'000);
  StateTree tree(*t.store);
  std::mt19937_64 rng(3);  // random keys: sorted ones would share warm paths
  for (auto _ : state) {
    auto r = tree.get(t.root, t.keys[rng() % t.keys.size()]);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_Get)->Unit(benchmark::kMicrosecond);

void BM_Prove(benchmark::State& state) {
  const Tree& t = tree_of(100'000);
  StateTree tree(*t.store);
  std::mt19937_64 rng(4);
  for (auto _ : state) {
    auto r = tree.prove(t.root, t.keys[rng() % t.keys.size()]);
    benchmark::DoNotOptimize(r);
  }
}
BENCHMARK(BM_Prove)->Unit(benchmark::kMicrosecond);

void BM_Verify(benchmark::State& state) {
  const Tree& t = tree_of(100'000);
  StateTree tree(*t.store);
  const Hash256& key = t.keys[12345];
  auto proof = tree.prove(t.root, key);
  auto value = tree.get(t.root, key);
  if (!proof.ok() || !value.ok()) std::abort();
  for (auto _ : state) benchmark::DoNotOptimize(verify_proof(t.root, key, *value, *proof));
  state.counters["steps"] = static_cast<double>(proof->steps.size());
}
BENCHMARK(BM_Verify)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace writ::runtime

BENCHMARK_MAIN();
