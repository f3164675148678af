#include "writ/vm/memory_host.hpp"

#include <bit>

namespace writ::vm {

Result<std::shared_ptr<const VerifiedModule>> MemoryHost::deploy(const U256& address,
                                                                 std::span<const uint8_t> bytes) {
  auto v = cache_.get(bytes);
  if (!v.ok()) return v.error();
  code_[address] = v.value();
  return v;
}

size_t MemoryHost::SlotTable::index_of(const U256& account, const U256& key) const {
  if (size_ == 0) return kAbsent;
  const uint64_t code = SlotHash::of(account, key) | 1;
  for (size_t i = home(code);; i = (i + 1) & mask_) {
    if (codes_[i] == 0) return kAbsent;
    if (codes_[i] == code && same_slot(entries_[i].key.account, entries_[i].key.key, account, key))
      return i;
  }
}

MemoryHost::Slot* MemoryHost::SlotTable::insert(const U256& account, const U256& key,
                                                const Slot& slot) {
  // At most three quarters full, so that a probe ends soon.
  if ((size_ + 1) * 4 > codes_.size() * 3) grow();
  const uint64_t code = SlotHash::of(account, key) | 1;
  size_t i = home(code);
  while (codes_[i] != 0) i = (i + 1) & mask_;
  codes_[i] = code;
  entries_[i] = Entry{SlotKey{account, key}, slot};
  ++size_;
  return &entries_[i].slot;
}

void MemoryHost::SlotTable::erase(const U256& account, const U256& key) {
  size_t hole = index_of(account, key);
  if (hole == kAbsent) return;
  // Each entry after the hole, up to the next empty one, moves back into the
  // hole unless its probe starts after the hole (cyclically: between the hole
  // and its place), where a lookup for it does not pass the hole.
  for (size_t j = (hole + 1) & mask_; codes_[j] != 0; j = (j + 1) & mask_) {
    const size_t h = home(codes_[j]);
    const bool stays = hole <= j ? (hole < h && h <= j) : (hole < h || h <= j);
    if (stays) continue;
    codes_[hole] = codes_[j];
    entries_[hole] = entries_[j];
    hole = j;
  }
  codes_[hole] = 0;
  --size_;
}

void MemoryHost::SlotTable::grow() {
  const std::vector<uint64_t> old_codes = std::move(codes_);
  const std::vector<Entry> old = std::move(entries_);
  const size_t capacity = old_codes.empty() ? 16 : old_codes.size() * 2;
  codes_.assign(capacity, 0);
  entries_.assign(capacity, Entry{});
  mask_ = capacity - 1;
  shift_ = 64 - static_cast<unsigned>(std::countr_zero(capacity));
  size_ = 0;
  for (size_t i = 0; i < old_codes.size(); ++i)
    if (old_codes[i] != 0) insert(old[i].key.account, old[i].key.key, old[i].slot);
}

MemoryHost::Slot* MemoryHost::find_slot(const U256& account, const U256& key) {
  if (memo_value_ != nullptr && same_slot(memo_key_.account, memo_key_.key, account, key))
    return memo_value_;
  Slot* s = storage_.find(account, key);
  if (s == nullptr) return nullptr;
  memo_key_ = SlotKey{account, key};
  memo_value_ = s;
  return memo_value_;
}

U256 MemoryHost::sload(const U256& account, const U256& key) {
  const Slot* v = find_slot(account, key);
  return v == nullptr ? U256::zero() : v->value;
}

StorageChange MemoryHost::sstore(const U256& account, const U256& key, const U256& value) {
  Slot* slot = find_slot(account, key);
  if (slot != nullptr && !value.is_zero()) {
    // The common write: a slot with a value (never zero: a zero erases it)
    // takes another; the journal entry is written in place.
    if (slot->value == value) return StorageChange::Unchanged;
    JournalEntry& e = journal_.push();
    e.kind = JournalEntry::Storage;
    e.account = account;
    e.key = key;
    e.old_value = slot->value;
    e.existed = true;
    slot->value = value;
    return StorageChange::Modified;
  }
  U256 old = slot == nullptr ? U256::zero() : slot->value;
  if (old == value) return StorageChange::Unchanged;
  journal_.push_back({JournalEntry::Storage, account, key, old, slot != nullptr});
  if (value.is_zero()) {
    // Without a value from now on: its mark moves to accessed_absent_.
    if (slot->accessed == epoch_ && accessed_absent_.insert(SlotKey{account, key}).second &&
        marks_ != 0)
      accesses_.push_back({Access::Absent, account, key, 0});
    memo_value_ = nullptr;
    storage_.erase(account, key);
    return StorageChange::Deleted;
  }
  if (slot == nullptr) {
    // Accessed if the running top call reached it (the VM's writes follow
    // their first_access); not if the host's owner writes it directly.
    const SlotKey k{account, key};
    const uint64_t mark = accessed_absent_.count(k) ? epoch_ : 0;
    memo_key_ = k;
    memo_value_ = storage_.insert(account, key, Slot{value, mark});
    return StorageChange::Added;
  }
  slot->value = value;
  return old.is_zero() ? StorageChange::Added : StorageChange::Modified;
}

U256 MemoryHost::balance(const U256& account) {
  auto it = balances_.find(account);
  return it == balances_.end() ? U256::zero() : it->second;
}

bool MemoryHost::account_exists(const U256& account) {
  if (!balance(account).is_zero() || code_.count(account)) return true;
  for (unsigned i = 0; i < kHistoryWords; ++i) {
    auto it = history_.find(SlotKey{account, U256::from_u64(i)});
    if (it != history_.end() && !it->second.is_zero()) return true;
  }
  return false;
}

bool MemoryHost::transfer(const U256& from, const U256& to, const U256& amount) {
  if (amount.is_zero()) return true;
  U256 fb = balance(from);
  if (lt(fb, amount)) return false;
  journal_.push_back({JournalEntry::Balance, from, {}, fb, true});
  balances_[from] = sub(fb, amount);
  U256 tb = balance(to);
  journal_.push_back({JournalEntry::Balance, to, {}, tb, true});
  balances_[to] = add(tb, amount);  // total supply < 2^256: cannot wrap
  return true;
}

inline bool MemoryHost::mark_accessed(Slot* s, const U256& account, const U256& key) {
  if (s != nullptr) {
    if (s->accessed == epoch_) return false;
    if (marks_ != 0) accesses_.push_back({Access::SlotMark, account, key, s->accessed});
    s->accessed = epoch_;
    return true;
  }
  if (!accessed_absent_.insert(SlotKey{account, key}).second) return false;
  if (marks_ != 0) accesses_.push_back({Access::Absent, account, key, 0});
  return true;
}

bool MemoryHost::first_access(const U256& account, const U256& key) {
  // The lookup is the one the read or write after it would make: it finds
  // the slot remembered here (find_slot).
  return mark_accessed(find_slot(account, key), account, key);
}

U256 MemoryHost::sload_access(const U256& account, const U256& key, bool& first) {
  Slot* s = find_slot(account, key);
  first = mark_accessed(s, account, key);
  return s == nullptr ? U256::zero() : s->value;
}

bool MemoryHost::first_access(const U256& account) {
  if (!accessed_accounts_.insert(account).second) return false;
  if (marks_ != 0) accesses_.push_back({Access::Account, account, {}, 0});
  return true;
}

bool MemoryHost::snapshot(Snapshot& out) {
  out = {journal_.size(), 0, accesses_.size()};
  ++marks_;
  return true;
}

void MemoryHost::restore(const Snapshot& mark) {
  revert_to(mark.journal);  // the slots it puts back are marked accessed; undone below
  while (accesses_.size() > mark.accesses) {
    const Access& a = accesses_.back();
    switch (a.kind) {
      case Access::SlotMark:
        if (Slot* s = storage_.find(a.account, a.key)) s->accessed = a.prev_mark;
        break;
      case Access::Absent:
        accessed_absent_.erase(SlotKey{a.account, a.key});
        break;
      case Access::Account:
        accessed_accounts_.erase(a.account);
        break;
    }
    accesses_.pop_back();
  }
}

void MemoryHost::release(const Snapshot&) {
  if (--marks_ == 0) accesses_.clear();
}

ExecResult MemoryHost::call(const Message& msg) {
  if (msg.parent == nullptr) {
    ++epoch_;
    accessed_absent_.clear();
    accessed_accounts_.clear();
    accessed_accounts_.insert(msg.caller);
    accessed_accounts_.insert(msg.self);
  }
  size_t cp = checkpoint();
  ExecResult r;
  auto it = code_.find(msg.self);
  if (it == code_.end()) {
    r.status = Status::NoCode;
    r.gas_left = msg.gas;
    r.detail = "no contract at " + to_hex_string(msg.self);
    return r;
  }
  if (!transfer(msg.caller, msg.self, msg.value)) {
    r.status = Status::InsufficientBalance;
    r.gas_left = msg.gas;
    r.detail = "caller balance below the value sent";
    return r;
  }
  r = execute(*it->second, *this, msg);
  if (r.status != Status::Ok) revert_to(cp);
  // A top-level call is final: nothing can revert it any more, so its journal
  // entries are dropped (the journal would otherwise grow without bound).
  if (msg.parent == nullptr && journal_.size() > cp) journal_.resize(cp);
  return r;
}

void MemoryHost::emit_log(const U256& account, std::span<const U256> topics,
                          std::span<const uint8_t> data) {
  journal_.push_back({JournalEntry::Log, {}, {}, {}, false});
  logs_.push_back(Log{account, {topics.begin(), topics.end()}, {data.begin(), data.end()}});
}

bool MemoryHost::history_word(const U256& self, const U256& account, unsigned i, U256& out) {
  if (risk_engine_.is_zero() || self != risk_engine_ || i >= kHistoryWords) return false;
  auto it = history_.find(SlotKey{account, U256::from_u64(i)});
  out = it == history_.end() ? U256::zero() : it->second;
  return true;
}

bool MemoryHost::set_history_word(const U256& self, const U256& account, unsigned i,
                                  const U256& value, bool& changed) {
  U256 old;
  if (!history_word(self, account, i, old)) return false;
  changed = old != value;
  if (!changed) return true;
  journal_.push_back({JournalEntry::History, account, U256::from_u64(i), old, true});
  history_[SlotKey{account, U256::from_u64(i)}] = value;
  return true;
}

void MemoryHost::revert_to(size_t cp) {
  memo_value_ = nullptr;
  while (journal_.size() > cp) {
    const JournalEntry& e = journal_.back();
    switch (e.kind) {
      case JournalEntry::Storage:
        // The slot was accessed in this top call (its journal ends with it).
        if (e.existed) {
          if (Slot* s = storage_.find(e.account, e.key))
            *s = Slot{e.old_value, epoch_};
          else
            storage_.insert(e.account, e.key, Slot{e.old_value, epoch_});
        } else {
          storage_.erase(e.account, e.key);
          accessed_absent_.insert(SlotKey{e.account, e.key});
        }
        break;
      case JournalEntry::Balance:
        balances_[e.account] = e.old_value;
        break;
      case JournalEntry::Log:
        logs_.pop_back();
        break;
      case JournalEntry::History:
        history_[SlotKey{e.account, e.key}] = e.old_value;
        break;
    }
    journal_.pop_back();
  }
}

}  // namespace writ::vm
