// WorldState: the journaled overlay over the committed state that a block
// executes against. It is the VM's Host for the runtime: nested contract calls
// re-enter the VM through call(), each with a checkpoint so that a failed call
// undoes exactly its own effects. Internal to writ_runtime.
//
// Invariants:
//   1. every read goes to the overlay first, then to the store (the state as of
//      the last committed block);
//   2. every change is journaled; revert_to(c) restores the overlay exactly as
//      it was when checkpoint() returned c;
//   3. dirty keys are kept in ordered maps, so collect() is deterministic.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <vector>

#include "read_cache.hpp"
#include "writ/runtime/chain.hpp"
#include "writ/runtime/sandbox.hpp"
#include "writ/vm/interpreter.hpp"
#include "writ/vm/verifier.hpp"

namespace writ::runtime {

inline vm::U256 to_vm(const Address& a) {
  return a.to_u256();
}
inline Address from_vm(const vm::U256& v) {
  return Hash256::from_u256(v);
}

// Committed accounts and storage slots, decoded, in front of the store (see
// read_cache.hpp). An absent account reads as Account{} and an absent slot as
// zero, so those are cached too.
struct StateCache {
  struct SlotKey {
    Address address;
    U256 slot;
    bool operator==(const SlotKey& o) const { return address == o.address && slot == o.slot; }
  };
  struct SlotHasher {
    size_t operator()(const SlotKey& k) const {
      // Addresses are SHA-256 outputs; map slots are too, and plain slots are
      // small integers, which the multiplier spreads.
      return Hash256Hasher()(k.address) ^ (k.slot.limb[0] * 0x9E3779B97F4A7C15ull) ^ k.slot.limb[3];
    }
  };
  static constexpr size_t kDefaultEntries = 1 << 18;
  explicit StateCache(size_t entries = kDefaultEntries) : accounts(entries), slots(entries) {}
  ReadCache<Address, Account, Hash256Hasher> accounts;
  ReadCache<SlotKey, U256, SlotHasher> slots;
};

class WorldState final : public vm::Host {
 public:
  // `cache` (optional) must hold committed values of `store` only.
  WorldState(const StoreReader& store, vm::ModuleCache& modules, vm::BlockContext ctx,
             StateCache* cache = nullptr)
      : store_(store), modules_(modules), ctx_(ctx), cache_(cache) {}

  Account get_account(const Address& a);
  void put_account(const Address& a, const Account& acct);
  U256 get_storage(const Address& a, const U256& slot);
  void put_code(const Hash256& hash, Bytes code);
  std::optional<Bytes> get_code(const Hash256& hash);
  // Loads (verifying once, cached by code hash) the module of a code hash.
  Result<std::shared_ptr<const vm::VerifiedModule>> module_of(const Hash256& code_hash);

  void set_context(const vm::BlockContext& ctx) { ctx_ = ctx; }
  // The contract allowed the accounts' history words (vm::Host::history_word):
  // the chain's risk engine; zero (the default) allows none.
  void set_risk_engine(const Address& a) { risk_engine_ = a; }
  std::vector<Log> take_logs();
  const std::vector<Log>& logs() const { return logs_; }
  // Sandbox sessions only (a chain never sets them): see CallHooks.
  void set_hooks(CallHooks* hooks) { hooks_ = hooks; }
  void set_tracer(CallTracer* tracer) { tracer_ = tracer; }

  // A checkpoint marks the journal and the log list: a log needs no journal
  // entry of its own (it is undone by cutting the list), which keeps the
  // memory a log holds to the log itself (docs/gas.md, "Host memory").
  struct Checkpoint {
    size_t journal = 0;
    size_t logs = 0;
  };
  Checkpoint checkpoint() const { return {journal_.size(), logs_.size()}; }
  void revert_to(Checkpoint cp);
  // After a transaction finishes: nothing can revert it any more.
  void forget_journal() { journal_.clear(); }

  // The first store read that failed (I/O error or an undecodable record).
  // Once set, the block being executed must not commit: its results would
  // rest on state that was never read.
  const std::optional<Error>& store_error() const { return store_error_; }

  // The dirty state as store writes and state tree changes.
  void collect(WriteBatch& batch, std::map<Hash256, std::optional<Hash256>>& tree_changes) const;
  // After the batch from collect() is durable: its values go into `cache`.
  void publish(StateCache& cache) const;

  // vm::Host
  vm::U256 sload(const vm::U256& account, const vm::U256& key) override;
  vm::StorageChange sstore(const vm::U256& account, const vm::U256& key,
                           const vm::U256& value) override;
  vm::U256 balance(const vm::U256& account) override;
  bool transfer(const vm::U256& from, const vm::U256& to, const vm::U256& amount) override;
  bool account_exists(const vm::U256& account) override;
  // Kept for the block: a WorldState executes one (vm::Host).
  bool first_access(const vm::U256& account, const vm::U256& key) override;
  bool first_access(const vm::U256& account) override;
  vm::ExecResult call(const vm::Message& msg) override;
  void emit_log(const vm::U256& account, std::span<const vm::U256> topics,
                std::span<const uint8_t> data) override;
  const vm::BlockContext& block() const override { return ctx_; }
  bool history_word(const vm::U256& self, const vm::U256& account, unsigned i,
                    vm::U256& out) override;
  bool set_history_word(const vm::U256& self, const vm::U256& account, unsigned i,
                        const vm::U256& value, bool& changed) override;
  // A mark puts back the journal, the logs and the accessed sets (which a
  // revert_to keeps). Not with hooks or a tracer: a session's hooks see
  // each call once.
  bool snapshot(Snapshot& out) override;
  void restore(const Snapshot& mark) override;
  void release(const Snapshot& mark) override;

 private:
  // The overlay's entry for `a`, read from the cache or the store on first
  // use; references stay valid (std::map) for the state's life.
  Account& account_entry(const Address& a);
  // The entry, journaled and marked dirty, for the caller to change.
  Account& account_for_write(const Address& a);
  // call() without the hooks.
  vm::ExecResult call_code(const vm::Message& msg);
  // `self` is the risk engine and i a history word.
  bool may_use_history(const vm::U256& self, unsigned i) const;

  using SlotKey = std::pair<Address, U256>;
  struct SlotLess {
    bool operator()(const SlotKey& a, const SlotKey& b) const {
      if (a.first != b.first) return a.first < b.first;
      return vm::lt(a.second, b.second);
    }
  };
  struct Entry {
    enum Kind : uint8_t { AccountChange, SlotChange, CodeAdded } kind;
    Address address;
    U256 slot{};
    std::optional<Account>
        prev_account;  // value in the overlay before (nullopt: not in the overlay)
    std::optional<U256> prev_slot;
    bool prev_dirty = false;
    Hash256 code_hash;
  };

  const StoreReader& store_;
  Address risk_engine_{};
  vm::ModuleCache& modules_;
  vm::BlockContext ctx_;
  StateCache* cache_;
  CallHooks* hooks_ = nullptr;
  CallTracer* tracer_ = nullptr;
  std::map<Address, Account> accounts_;  // overlay (reads and writes)
  std::set<Address> dirty_accounts_;
  std::map<SlotKey, U256, SlotLess> slots_;
  std::set<SlotKey, SlotLess> dirty_slots_;
  std::map<Hash256, Bytes> new_code_;
  // What the block has accessed (first_access): the accounts and slots the
  // overlay holds for the rest of the block, whatever became of the
  // transaction that read them.
  std::set<SlotKey, SlotLess> accessed_slots_;
  std::set<Address> accessed_accounts_;
  // While a mark (snapshot) is held: what first_access added to those sets,
  // in order (an account's with slot nullopt).
  std::vector<std::pair<Address, std::optional<U256>>> accesses_;
  unsigned marks_ = 0;
  std::vector<Log> logs_;
  std::vector<Entry> journal_;
  std::optional<Error> store_error_;
  void note_error(std::string what) {
    if (!store_error_) store_error_ = vm::error_at(0, std::move(what));
  }
};

}  // namespace writ::runtime
