#include "world_state.hpp"

#include <cstring>

namespace writ::runtime {

namespace {

std::string slot_db_key(const Address& a, const U256& slot) {
  std::string k(reinterpret_cast<const char*>(a.bytes.data()), 32);
  uint8_t s[32];
  vm::to_be_bytes(slot, s);
  k.append(reinterpret_cast<const char*>(s), 32);
  return k;
}

std::string_view addr_key(const Address& a) {
  return {reinterpret_cast<const char*>(a.bytes.data()), 32};
}

struct Word {
  uint8_t b[32];
  explicit Word(const U256& v) { vm::to_be_bytes(v, b); }
  std::string_view view() const { return {reinterpret_cast<const char*>(b), 32}; }
};

}  // namespace

Account WorldState::get_account(const Address& a) {
  return account_entry(a);
}

Account& WorldState::account_entry(const Address& a) {
  auto it = accounts_.find(a);
  if (it != accounts_.end()) return it->second;
  const uint64_t epoch = cache_ ? cache_->accounts.epoch() : 0;
  if (cache_) {
    if (auto hit = cache_->accounts.get(a)) return accounts_.emplace(a, *hit).first->second;
  }
  Account acct;
  bool read_ok = false;
  auto r = store_.get(Column::Accounts, addr_key(a));
  if (!r.ok()) {
    note_error("reading account " + a.hex() + ": " + r.error().message);
  } else if (!r.value()) {
    read_ok = true;
  } else if (auto d = Account::decode(*r.value())) {
    acct = *d;
    read_ok = true;
  } else {
    note_error("account record of " + a.hex() + " is corrupt");
  }
  if (read_ok && cache_) cache_->accounts.put_read(a, acct, epoch);
  return accounts_.emplace(a, acct).first->second;  // the committed value (not dirty)
}

Account& WorldState::account_for_write(const Address& a) {
  Account& acct = account_entry(a);
  const bool was_dirty = !dirty_accounts_.insert(a).second;
  journal_.push_back(Entry{Entry::AccountChange, a, {}, acct, {}, was_dirty, {}});
  return acct;
}

void WorldState::put_account(const Address& a, const Account& acct) {
  account_for_write(a) = acct;
}

U256 WorldState::get_storage(const Address& a, const U256& slot) {
  SlotKey k{a, slot};
  auto it = slots_.find(k);
  if (it != slots_.end()) return it->second;
  const uint64_t epoch = cache_ ? cache_->slots.epoch() : 0;
  if (cache_) {
    if (auto hit = cache_->slots.get({a, slot})) {
      slots_.emplace(k, *hit);
      return *hit;
    }
  }
  U256 v = U256::zero();
  bool read_ok = false;
  auto r = store_.get(Column::Storage, slot_db_key(a, slot));
  if (!r.ok()) {
    note_error("reading storage of " + a.hex() + ": " + r.error().message);
  } else if (!r.value()) {
    read_ok = true;
  } else if (r.value()->size() == 32) {
    v = vm::from_be_bytes(reinterpret_cast<const uint8_t*>(r.value()->data()));
    read_ok = true;
  } else {
    note_error("storage record of " + a.hex() + " is corrupt");
  }
  if (read_ok && cache_) cache_->slots.put_read({a, slot}, v, epoch);
  slots_.emplace(k, v);
  return v;
}

void WorldState::put_code(const Hash256& hash, Bytes code) {
  if (new_code_.count(hash)) return;
  journal_.push_back(Entry{Entry::CodeAdded, {}, {}, {}, {}, false, hash});
  new_code_.emplace(hash, std::move(code));
}

std::optional<Bytes> WorldState::get_code(const Hash256& hash) {
  auto it = new_code_.find(hash);
  if (it != new_code_.end()) return it->second;
  auto r = store_.get(Column::Code, addr_key(hash));
  if (!r.ok()) {
    note_error("reading code " + hash.hex() + ": " + r.error().message);
    return std::nullopt;
  }
  if (!r.value()) return std::nullopt;
  return Bytes(r.value()->begin(), r.value()->end());
}

Result<std::shared_ptr<const vm::VerifiedModule>> WorldState::module_of(const Hash256& code_hash) {
  vm::CodeHash h;
  std::memcpy(h.bytes, code_hash.bytes.data(), sizeof h.bytes);
  if (auto known = modules_.find(h)) return known;
  auto code = get_code(code_hash);
  if (!code) return vm::error_at(0, "code " + code_hash.hex() + " is missing from the store");
  return modules_.get(*code);
}

std::vector<Log> WorldState::take_logs() {
  std::vector<Log> out = std::move(logs_);
  logs_.clear();
  return out;
}

void WorldState::revert_to(Checkpoint cp) {
  if (logs_.size() > cp.logs) logs_.resize(cp.logs);
  while (journal_.size() > cp.journal) {
    Entry& e = journal_.back();
    switch (e.kind) {
      case Entry::AccountChange:
        accounts_[e.address] = *e.prev_account;
        if (!e.prev_dirty) dirty_accounts_.erase(e.address);
        break;
      case Entry::SlotChange: {
        SlotKey k{e.address, e.slot};
        slots_[k] = *e.prev_slot;
        if (!e.prev_dirty) dirty_slots_.erase(k);
        break;
      }
      case Entry::CodeAdded:
        new_code_.erase(e.code_hash);
        break;
    }
    journal_.pop_back();
  }
}

void WorldState::collect(WriteBatch& batch,
                         std::map<Hash256, std::optional<Hash256>>& tree_changes) const {
  for (const Address& a : dirty_accounts_) {
    const Account& acct = accounts_.at(a);
    if (acct.is_empty()) {
      batch.del(Column::Accounts, addr_key(a));
      tree_changes[account_key(a)] = std::nullopt;
    } else {
      batch.put(Column::Accounts, addr_key(a), acct.encode());
      tree_changes[account_key(a)] = account_leaf_value(acct);
    }
  }
  for (const SlotKey& k : dirty_slots_) {
    const U256& v = slots_.at(k);
    if (v.is_zero()) {
      batch.del(Column::Storage, slot_db_key(k.first, k.second));
      tree_changes[storage_key(k.first, k.second)] = std::nullopt;
    } else {
      batch.put(Column::Storage, slot_db_key(k.first, k.second), Word(v).view());
      tree_changes[storage_key(k.first, k.second)] = storage_leaf_value(v);
    }
  }
  for (const auto& [hash, code] : new_code_)
    batch.put(Column::Code, addr_key(hash),
              std::string_view(reinterpret_cast<const char*>(code.data()), code.size()));
}

void WorldState::publish(StateCache& cache) const {
  cache.accounts.put_committed([&](auto&& put) {
    for (const Address& a : dirty_accounts_) put(a, accounts_.at(a));
  });
  cache.slots.put_committed([&](auto&& put) {
    for (const SlotKey& k : dirty_slots_) put({k.first, k.second}, slots_.at(k));
  });
}

// ---- vm::Host ------------------------------------------------------------------

vm::U256 WorldState::sload(const vm::U256& account, const vm::U256& key) {
  return get_storage(from_vm(account), key);
}

vm::StorageChange WorldState::sstore(const vm::U256& account, const vm::U256& key,
                                     const vm::U256& value) {
  Address a = from_vm(account);
  U256 old = get_storage(a, key);
  if (old == value) return vm::StorageChange::Unchanged;
  SlotKey k{a, key};
  Entry e{Entry::SlotChange, a, key, {}, old, dirty_slots_.count(k) > 0, {}};
  journal_.push_back(e);
  slots_[k] = value;
  dirty_slots_.insert(k);
  if (value.is_zero()) return vm::StorageChange::Deleted;
  return old.is_zero() ? vm::StorageChange::Added : vm::StorageChange::Modified;
}

vm::U256 WorldState::balance(const vm::U256& account) {
  return account_entry(from_vm(account)).balance;
}

bool WorldState::account_exists(const vm::U256& account) {
  return !account_entry(from_vm(account)).is_empty();
}

bool WorldState::transfer(const vm::U256& from, const vm::U256& to, const vm::U256& amount) {
  if (amount.is_zero()) return true;
  Address f = from_vm(from), t = from_vm(to);
  if (vm::lt(account_entry(f).balance, amount)) return false;
  Account& fa = account_for_write(f);
  fa.balance = vm::sub(fa.balance, amount);
  Account& ta = account_for_write(t);
  ta.balance = vm::add(ta.balance, amount);  // the supply fits 256 bits: cannot wrap
  return true;
}

bool WorldState::first_access(const vm::U256& account, const vm::U256& key) {
  const bool first = accessed_slots_.insert({from_vm(account), key}).second;
  if (first && marks_ != 0) accesses_.emplace_back(from_vm(account), key);
  return first;
}

bool WorldState::first_access(const vm::U256& account) {
  const bool first = accessed_accounts_.insert(from_vm(account)).second;
  if (first && marks_ != 0) accesses_.emplace_back(from_vm(account), std::nullopt);
  return first;
}

bool WorldState::snapshot(Snapshot& out) {
  if (hooks_ != nullptr || tracer_ != nullptr) return false;
  out = {journal_.size(), logs_.size(), accesses_.size()};
  ++marks_;
  return true;
}

void WorldState::restore(const Snapshot& mark) {
  revert_to({mark.journal, mark.logs});
  while (accesses_.size() > mark.accesses) {
    const auto& [address, slot] = accesses_.back();
    if (slot)
      accessed_slots_.erase({address, *slot});
    else
      accessed_accounts_.erase(address);
    accesses_.pop_back();
  }
}

void WorldState::release(const Snapshot&) {
  if (--marks_ == 0) accesses_.clear();
}

vm::ExecResult WorldState::call(const vm::Message& in) {
  if (in.parent == nullptr) {  // a transaction's top call: its accounts were read
    accessed_accounts_.insert(from_vm(in.caller));
    accessed_accounts_.insert(from_vm(in.self));
  }
  if (hooks_ == nullptr) return call_code(in);
  vm::Message msg = in;
  if (auto answer = hooks_->before(msg)) return *answer;
  vm::ExecResult r = call_code(msg);
  hooks_->after(msg, r);
  return r;
}

vm::ExecResult WorldState::call_code(const vm::Message& msg) {
  const Checkpoint cp = checkpoint();
  vm::ExecResult r;
  r.gas_left = msg.gas;
  Account callee = get_account(from_vm(msg.self));
  if (callee.code_hash.is_zero()) {
    r.status = vm::Status::NoCode;
    r.detail = "no contract at " + from_vm(msg.self).hex();
    return r;
  }
  auto module = module_of(callee.code_hash);
  if (!module.ok()) {
    r.status = vm::Status::InvalidCode;
    r.detail = module.error().message;
    return r;
  }
  if (!transfer(msg.caller, msg.self, msg.value)) {
    r.status = vm::Status::InsufficientBalance;
    r.detail = "caller balance below the value sent";
    return r;
  }
  vm::ExecutionTier* tier = modules_.tier();
  if (tracer_) {
    tracer_->enter(msg);
    r = vm::execute(*module.value(), *this, msg, *tracer_);
    tracer_->leave(msg, r);
  } else {
    r = tier ? tier->execute(module.value(), *this, msg) : vm::execute(*module.value(), *this, msg);
  }
  if (r.status != vm::Status::Ok) revert_to(cp);
  return r;
}

bool WorldState::may_use_history(const vm::U256& self, unsigned i) const {
  return !risk_engine_.is_zero() && from_vm(self) == risk_engine_ && i < vm::kHistoryWords;
}

bool WorldState::history_word(const vm::U256& self, const vm::U256& account, unsigned i,
                              vm::U256& out) {
  if (!may_use_history(self, i)) return false;
  out = account_entry(from_vm(account)).history[i];
  return true;
}

bool WorldState::set_history_word(const vm::U256& self, const vm::U256& account, unsigned i,
                                  const vm::U256& value, bool& changed) {
  if (!may_use_history(self, i)) return false;
  const Address a = from_vm(account);
  changed = account_entry(a).history[i] != value;
  if (changed) account_for_write(a).history[i] = value;
  return true;
}

void WorldState::emit_log(const vm::U256& account, std::span<const vm::U256> topics,
                          std::span<const uint8_t> data) {
  Log l;
  l.address = from_vm(account);
  for (const auto& t : topics) l.topics.push_back(Hash256::from_u256(t));
  l.data.assign(data.begin(), data.end());
  logs_.push_back(std::move(l));
}

}  // namespace writ::runtime
