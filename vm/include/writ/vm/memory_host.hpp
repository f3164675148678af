// An in-memory Host for tests, benchmarks and `writ exec`: accounts with
// balances and code, storage, logs, and a journal so that a failed call
// leaves no trace. Nested calls run the interpreter on the callee's module.
//
// Not thread-safe. Deterministic: it never iterates its hash maps in an
// order that can reach results (dumps sort first).
#pragma once

#include <array>
#include <map>
#include <memory>
#include <set>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "writ/vm/host.hpp"
#include "writ/vm/interpreter.hpp"
#include "writ/vm/verifier.hpp"

namespace writ::vm {

class MemoryHost : public Host {
 public:
  struct Log {
    U256 account;
    std::vector<U256> topics;
    std::vector<uint8_t> data;
  };

  MemoryHost() = default;

  // Installs module bytes at an address. The module is decoded and verified
  // once (cached by code hash); errors come back located.
  Result<std::shared_ptr<const VerifiedModule>> deploy(const U256& address,
                                                       std::span<const uint8_t> bytes);
  void set_balance(const U256& account, const U256& amount) { balances_[account] = amount; }
  BlockContext& block_context() { return block_; }
  const std::vector<Log>& logs() const { return logs_; }
  size_t storage_size() const { return storage_.size(); }
  // The contract allowed hload/hstore (Host::history_word); zero: none.
  void set_risk_engine(const U256& address) { risk_engine_ = address; }

  // Host interface.
  U256 sload(const U256& account, const U256& key) override;
  StorageChange sstore(const U256& account, const U256& key, const U256& value) override;
  U256 balance(const U256& account) override;
  bool transfer(const U256& from, const U256& to, const U256& amount) override;
  bool account_exists(const U256& account) override;
  // A top call (no parent) runs as a transaction alone in its block: what
  // it accesses first pays as on a chain. Code that runs execute() on this
  // host directly stays in one block until the next top call.
  bool first_access(const U256& account, const U256& key) override;
  bool first_access(const U256& account) override;
  U256 sload_access(const U256& account, const U256& key, bool& first) override;
  ExecResult call(const Message& msg) override;
  void emit_log(const U256& account, std::span<const U256> topics,
                std::span<const uint8_t> data) override;
  const BlockContext& block() const override { return block_; }
  bool history_word(const U256& self, const U256& account, unsigned i, U256& out) override;
  bool set_history_word(const U256& self, const U256& account, unsigned i, const U256& value,
                        bool& changed) override;

  // Journal: a checkpoint is a position; reverting undoes everything after it.
  size_t checkpoint() const { return journal_.size(); }
  void revert_to(size_t checkpoint);
  // A mark puts back the journal and the marks of first_access too.
  bool snapshot(Snapshot& out) override;
  void restore(const Snapshot& mark) override;
  void release(const Snapshot& mark) override;

 private:
  struct SlotKey {
    U256 account, key;
    bool operator==(const SlotKey&) const = default;
  };
  // Lookups hash and compare the caller's words limb by limb where they are
  // (scalar_limb), not as whole words: the interpreter writes a word as four
  // 8-byte stores, and a copy reads it with 16-byte loads, which cannot be
  // forwarded from those stores and wait for them to reach the cache (that
  // wait was a third of sload's time).
  static uint64_t limb(const U256& w, int i) { return scalar_limb(&w.limb[i]); }
  static bool same_slot(const U256& a1, const U256& k1, const U256& a2, const U256& k2) {
    uint64_t d = 0;
    for (int i = 0; i < 4; ++i) d |= (limb(a1, i) ^ limb(a2, i)) | (limb(k1, i) ^ limb(k2, i));
    return d == 0;
  }
  // Not noexcept on purpose: libstdc++ then keeps each node's hash code, so a
  // lookup walking a bucket compares codes instead of rehashing 64-byte keys.
  struct SlotHash {
    static size_t of(const U256& account, const U256& key) {
      uint64_t h = 0x9e3779b97f4a7c15ull;
      for (int i = 0; i < 4; ++i) h = (h ^ limb(account, i)) * 0xff51afd7ed558ccdull;
      for (int i = 0; i < 4; ++i) h = (h ^ limb(key, i)) * 0xc4ceb9fe1a85ec53ull;
      return static_cast<size_t>(h ^ (h >> 29));
    }
    size_t operator()(const SlotKey& k) const { return of(k.account, k.key); }
  };
  struct SlotEq {
    bool operator()(const SlotKey& a, const SlotKey& b) const {
      return same_slot(a.account, a.key, b.account, b.key);
    }
  };
  struct U256Less {
    bool operator()(const U256& a, const U256& b) const { return lt(a, b); }
  };
  // A slot's value, and the top call that last accessed it (first_access):
  // the mark lives in the slot's node, so that marking costs no lookup of
  // its own (a separate set made the token workload a third slower).
  struct Slot {
    U256 value;
    uint64_t accessed = 0;
  };
  struct JournalEntry {
    enum Kind : uint8_t { Storage, Balance, Log, History } kind;
    U256 account, key, old_value;
    bool existed;
  };

  // The slots, in flat arrays: open addressing, linear probing, a
  // power-of-two capacity. A lookup takes its start from the hash's high
  // bits by a multiplication, where std::unordered_map divides by a prime
  // bucket count (a 64-bit division, 40 cycles and more on some cores), and
  // it reads no chain of nodes.
  // An entry moves when the table grows and when an erase shifts the
  // entries after it back (no tombstones), so a pointer into the table
  // lives until the next insert or erase.
  class SlotTable {
   public:
    Slot* find(const U256& account, const U256& key) {
      const size_t i = index_of(account, key);
      return i == kAbsent ? nullptr : &entries_[i].slot;
    }
    // REQUIRES: (account, key) is not in the table.
    Slot* insert(const U256& account, const U256& key, const Slot& slot);
    void erase(const U256& account, const U256& key);
    size_t size() const { return size_; }

   private:
    // An entry's hash code (SlotHash::of | 1; 0: empty) is kept apart from
    // its key and slot: a probe walks the codes, 8 bytes each, and reads the
    // entry (104 bytes) only where the code matches.
    struct Entry {
      SlotKey key;
      Slot slot;
    };
    static constexpr size_t kAbsent = ~size_t{0};
    size_t index_of(const U256& account, const U256& key) const;
    size_t home(uint64_t code) const {
      return static_cast<size_t>((code * 0x9e3779b97f4a7c15ull) >> shift_);
    }
    void grow();
    std::vector<uint64_t> codes_;
    std::vector<Entry> entries_;
    size_t size_ = 0;
    size_t mask_ = 0;
    unsigned shift_ = 64;  // 64 - log2(capacity)
  };

  // The slot found last: a contract reads a slot and then writes it, and the
  // write finds it here without hashing. Reset by anything that inserts or
  // erases (SlotTable moves its entries then).
  Slot* find_slot(const U256& account, const U256& key);
  // first_access of a slot found (s) or absent (nullptr).
  bool mark_accessed(Slot* s, const U256& account, const U256& key);
  SlotTable storage_;
  SlotKey memo_key_{};
  Slot* memo_value_ = nullptr;
  std::map<U256, U256, U256Less> balances_;
  // The running top call (Slot::accessed), the slots without a value it has
  // accessed, and the accounts (membership only: never iterated).
  uint64_t epoch_ = 1;
  std::unordered_set<SlotKey, SlotHash, SlotEq> accessed_absent_;
  std::set<U256, U256Less> accessed_accounts_;
  // While a mark (snapshot) is held: what first_access changed, in order.
  struct Access {
    enum Kind : uint8_t { SlotMark, Absent, Account } kind;
    U256 account, key;
    uint64_t prev_mark;  // SlotMark: the slot's mark before
  };
  std::vector<Access> accesses_;
  unsigned marks_ = 0;
  // History words by (account, word index as the key's low limb).
  std::unordered_map<SlotKey, U256, SlotHash, SlotEq> history_;
  U256 risk_engine_{};
  std::map<U256, std::shared_ptr<const VerifiedModule>, U256Less> code_;
  std::vector<Log> logs_;
  // Entries in fixed chunks: growing the journal never moves what it holds
  // (a call that writes thousands of slots would otherwise copy them all at
  // every doubling). Chunks are kept for reuse when it shrinks.
  class Journal {
   public:
    size_t size() const { return size_; }
    void push_back(const JournalEntry& e) { push() = e; }
    // A new last entry, for the caller to fill.
    JournalEntry& push() {
      if (size_ == chunks_.size() * kChunk)
        chunks_.push_back(std::unique_ptr<Chunk>(new Chunk));  // not zeroed
      JournalEntry& e = (*chunks_[size_ / kChunk])[size_ % kChunk];
      ++size_;
      return e;
    }
    const JournalEntry& back() const {
      return (*chunks_[(size_ - 1) / kChunk])[(size_ - 1) % kChunk];
    }
    void pop_back() { --size_; }
    // REQUIRES: n <= size().
    void resize(size_t n) { size_ = n; }

   private:
    static constexpr size_t kChunk = 256;
    using Chunk = std::array<JournalEntry, kChunk>;
    std::vector<std::unique_ptr<Chunk>> chunks_;
    size_t size_ = 0;
  };
  Journal journal_;
  BlockContext block_;
  ModuleCache cache_;
};

}  // namespace writ::vm
