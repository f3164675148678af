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
//   2. it is direct-mapped: a fixed table of `slots` entries (a power of
//      two), each key in the one slot its hash picks; a put evicts whatever
//      held that slot. The table is allocated in chunks as puts first reach
//      them, and every operation is O(1);
//   3. epochs guard against a reader that read the store before a commit and
//      puts its (now stale) value after it: put_read(key, value, epoch) is
//      ignored unless no commit has happened since epoch() was taken.
//      Commits go through put_committed (all under one lock).
// Thread-safety: every method may be called from any thread.
// Internal to writ_runtime.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>

namespace writ::runtime {

template <class Key, class Value, class Hasher>
class ReadCache {
 public:
  // `slots` is rounded up to a power of two.
  explicit ReadCache(size_t slots)
      : size_(round_up(slots)),
        mask_(size_ - 1),
        chunks_(std::make_unique<std::unique_ptr<Slot[]>[]>(chunk_count())) {}
  ReadCache(const ReadCache&) = delete;
  ReadCache& operator=(const ReadCache&) = delete;

  std::optional<Value> get(const Key& k) {
    std::lock_guard<std::mutex> lock(mu_);
    const size_t i = index(k);
    const Slot* chunk = chunks_[i / kChunk].get();
    if (!chunk) return std::nullopt;
    const Slot& s = chunk[i % kChunk];
    if (s.used && s.key == k) return s.value;
    return std::nullopt;
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
    Key key{};
    Value value{};
  };
  // The table is allocated a chunk at a time, when a put first lands in it,
  // and written whole there: an idle cache costs next to no memory, and no
  // page is ever first read (the kernel would map its shared zero page, and
  // the first write would then replace it and interrupt every core to flush
  // the old mapping, once per page).
  static constexpr size_t kChunk = 512;
  static size_t round_up(size_t n) {
    size_t p = 1;
    while (p < n) p <<= 1;
    return p;
  }
  size_t index(const Key& k) const { return Hasher()(k) & mask_; }
  size_t chunk_count() const { return (size_ + kChunk - 1) / kChunk; }
  void insert_locked(const Key& k, const Value& v) {
    const size_t i = index(k);
    std::unique_ptr<Slot[]>& chunk = chunks_[i / kChunk];
    if (!chunk) chunk = std::make_unique<Slot[]>(kChunk);
    Slot& s = chunk[i % kChunk];
    s.used = true;
    s.key = k;
    s.value = v;
  }

  mutable std::mutex mu_;
  const size_t size_;
  const size_t mask_;
  std::unique_ptr<std::unique_ptr<Slot[]>[]> chunks_;
  uint64_t epoch_ = 0;
};

}  // namespace writ::runtime
