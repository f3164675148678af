// ReadCache: a bounded in-memory cache of committed records, in front of the
// store's reads. RocksDB answers a point read from its memtable skiplist in
// microseconds; a block touches the same top tree nodes and hot accounts over
// and over, so the chain keeps them here, decoded.
//
// Contract:
//   1. a cache never decides a result: get() returns either nothing or the
//      value the store holds for the key (callers only put committed values,
//      or values that are a function of their key), so execution, roots and
//      gas are the same with any capacity;
//   2. it is set-associative: a fixed table of `slots` entries (a power of
//      two), in sets of `Ways` adjacent entries (1, the default: direct-
//      mapped), each key in the set its hash picks; a put of a key already
//      there replaces it, else takes a free entry of the set, else evicts
//      the set's oldest. The table is allocated in chunks as puts first
//      reach them, and every operation is O(Ways);
//   3. epochs guard against a reader that read the store before a commit and
//      puts its (now stale) value after it: put_read(key, value, epoch) is
//      ignored unless no commit has happened since epoch() was taken.
//      Commits go through put_committed (all under one lock).
// Thread-safety: every method may be called from any thread.
// Internal to writ_runtime.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>

namespace writ::runtime {

template <class Key, class Value, class Hasher, unsigned Ways = 1>
class ReadCache {
  static_assert(Ways > 0 && (Ways & (Ways - 1)) == 0, "Ways: a power of two");

 public:
  // `slots` is rounded up to a power of two.
  explicit ReadCache(size_t slots)
      : size_(round_up(std::max<size_t>(slots, Ways))),
        mask_(size_ - 1),
        chunks_(std::make_unique<std::unique_ptr<Slot[]>[]>(chunk_count())) {}
  ReadCache(const ReadCache&) = delete;
  ReadCache& operator=(const ReadCache&) = delete;

  std::optional<Value> get(const Key& k) {
    std::lock_guard<std::mutex> lock(mu_);
    const size_t i = index(k);
    const Slot* chunk = chunks_[i / kChunk].get();
    if (!chunk) return std::nullopt;
    const Slot* set = chunk + i % kChunk;
    for (unsigned w = 0; w < Ways; ++w)
      if (set[w].used && set[w].key == k) return set[w].value;
    return std::nullopt;
  }

  // Forgets the key's entry, if any (a value no longer wanted: the others
  // of its set then keep their places).
  void erase(const Key& k) {
    std::lock_guard<std::mutex> lock(mu_);
    const size_t i = index(k);
    Slot* chunk = chunks_[i / kChunk].get();
    if (!chunk) return;
    Slot* set = chunk + i % kChunk;
    for (unsigned w = 0; w < Ways; ++w)
      if (set[w].used && set[w].key == k) set[w].used = false;
  }

  // Slots backed by memory so far (whole chunks, allocated by puts).
  size_t resident_slots() const {
    std::lock_guard<std::mutex> lock(mu_);
    size_t n = 0;
    for (size_t c = 0; c < chunk_count(); ++c) n += chunks_[c] ? kChunk : 0;
    return n;
  }

  uint64_t epoch() const {
    std::lock_guard<std::mutex> lock(mu_);
    return epoch_;
  }

  // A value read from the store at `epoch` (see 3).
  void put_read(const Key& k, const Value& v, uint64_t epoch) {
    std::lock_guard<std::mutex> lock(mu_);
    if (epoch == epoch_) insert_locked(k, v);
  }

  // Values that a commit has just made durable (see 3): `each(put)` calls
  // put(key, value) for every changed record.
  template <class Each>
  void put_committed(Each&& each) {
    std::lock_guard<std::mutex> lock(mu_);
    ++epoch_;
    each([this](const Key& k, const Value& v) { insert_locked(k, v); });
  }

  // For a value that is a function of its key (content-addressed records
  // such as tree nodes): no epoch is needed.
  void put(const Key& k, const Value& v) {
    std::lock_guard<std::mutex> lock(mu_);
    insert_locked(k, v);
  }

 private:
  struct Slot {
    bool used = false;
    uint64_t stamp = 0;  // when it was written (Ways > 1: the oldest is evicted)
    Key key{};
    Value value{};
  };
  // The table is allocated a chunk at a time, when a put first lands in it,
  // and written whole there: an idle cache costs next to no memory, and no
  // page is ever first read (the kernel would map its shared zero page, and
  // the first write would then replace it and interrupt every core to flush
  // the old mapping, once per page). Chunks of 64 entries (about 8 KB of
  // tree nodes): a small chain's few thousand puts, spread by hash over a
  // large table, then allocate a few megabytes rather than most of it.
  static constexpr size_t kChunk = 64;
  static_assert(Ways <= kChunk, "a set lies within a chunk");
  static size_t round_up(size_t n) {
    size_t p = 1;
    while (p < n) p <<= 1;
    return p;
  }
  // The first entry of the key's set.
  size_t index(const Key& k) const { return Hasher()(k) & mask_ & ~size_t{Ways - 1}; }
  size_t chunk_count() const { return (size_ + kChunk - 1) / kChunk; }
  void insert_locked(const Key& k, const Value& v) {
    const size_t i = index(k);
    std::unique_ptr<Slot[]>& chunk = chunks_[i / kChunk];
    if (!chunk) chunk = std::make_unique<Slot[]>(kChunk);
    Slot* set = chunk.get() + i % kChunk;
    Slot* to = nullptr;
    for (unsigned w = 0; w < Ways && !to; ++w)
      if (set[w].used && set[w].key == k) to = &set[w];
    for (unsigned w = 0; w < Ways && !to; ++w)
      if (!set[w].used) to = &set[w];
    if (!to) {
      to = set;
      for (unsigned w = 1; w < Ways; ++w)
        if (set[w].stamp < to->stamp) to = &set[w];
    }
    to->used = true;
    to->stamp = ++clock_;
    to->key = k;
    to->value = v;
  }

  mutable std::mutex mu_;
  const size_t size_;
  const size_t mask_;
  std::unique_ptr<std::unique_ptr<Slot[]>[]> chunks_;
  uint64_t epoch_ = 0;
  uint64_t clock_ = 0;  // puts so far (the entries' stamps)
};

}  // namespace writ::runtime
