// The in-memory host's storage against a model: reads, writes, deletions,
// the change each write reports (it sets the write's gas), and reverts to
// checkpoints, in long random sequences over a few keys so that the same slot
// is read, written, deleted and restored many times in a row.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "writ/vm/memory_host.hpp"

namespace writ::vm::test {
namespace {

// The first access to a slot (docs/gas.md, "First access") is marked in the
// slot's own node: the mark must survive the slot's deletion and a revert
// that restores or removes it, and end with the top call.
TEST(MemoryHost, FirstAccessesAreMarkedThroughDeletesAndRevertsUntilTheNextTopCall) {
  MemoryHost h;
  const U256 a = U256::from_u64(0xA), k = U256::from_u64(1), k2 = U256::from_u64(2);
  h.sstore(a, k, U256::from_u64(5));  // the owner's write is not an access
  EXPECT_TRUE(h.first_access(a, k));
  EXPECT_FALSE(h.first_access(a, k));
  size_t cp = h.checkpoint();
  EXPECT_EQ(h.sstore(a, k, U256::zero()), StorageChange::Deleted);
  EXPECT_FALSE(h.first_access(a, k));  // without a value now, still accessed
  h.revert_to(cp);
  EXPECT_EQ(h.sload(a, k), U256::from_u64(5));
  EXPECT_FALSE(h.first_access(a, k));
  // A slot without a value, accessed, written, and the write reverted.
  EXPECT_TRUE(h.first_access(a, k2));
  cp = h.checkpoint();
  EXPECT_EQ(h.sstore(a, k2, U256::from_u64(7)), StorageChange::Added);
  EXPECT_FALSE(h.first_access(a, k2));
  h.revert_to(cp);
  EXPECT_FALSE(h.first_access(a, k2));
  // Accounts.
  const U256 other = U256::from_u64(0xB0B), caller = U256::from_u64(0xCA11), self = a;
  EXPECT_TRUE(h.first_access(other));
  EXPECT_FALSE(h.first_access(other));
  // A top call begins anew (here one refused, to an address without code):
  // its caller and callee are reached already, all else is first again.
  Message m;
  m.caller = caller;
  m.self = self;
  EXPECT_EQ(h.call(m).status, Status::NoCode);
  EXPECT_FALSE(h.first_access(caller));
  EXPECT_FALSE(h.first_access(self));
  EXPECT_TRUE(h.first_access(other));
  EXPECT_TRUE(h.first_access(a, k));
  EXPECT_TRUE(h.first_access(a, k2));
  // A nested call is not a top call.
  m.parent = &m;
  h.call(m);
  EXPECT_FALSE(h.first_access(a, k));
}

// A snapshot (Host::snapshot, for the JIT's second run of a call) puts
// back what a revert does and the first accesses too, nested marks included.
TEST(MemoryHost, RestorePutsBackWritesLogsAndFirstAccesses) {
  MemoryHost h;
  const U256 a = U256::from_u64(0xA), b = U256::from_u64(0xB);
  const U256 kept = U256::from_u64(1), fresh = U256::from_u64(2), gone = U256::from_u64(3),
             seen = U256::from_u64(4);
  h.sstore(a, kept, U256::from_u64(5));  // the owner's writes: not accesses
  h.sstore(a, gone, U256::from_u64(6));
  h.set_balance(a, U256::from_u64(100));
  EXPECT_TRUE(h.first_access(a, seen));  // accessed before the mark
  // The state and first-access answers at the mark, read without changing them.
  auto same_as_at_mark = [&](const char* where) {
    SCOPED_TRACE(where);
    EXPECT_EQ(h.sload(a, kept), U256::from_u64(5));
    EXPECT_EQ(h.sload(a, fresh), U256::zero());
    EXPECT_EQ(h.sload(a, gone), U256::from_u64(6));
    EXPECT_EQ(h.balance(a), U256::from_u64(100));
    EXPECT_EQ(h.balance(b), U256::zero());
    EXPECT_TRUE(h.logs().empty());
    EXPECT_EQ(h.storage_size(), 2u);
  };
  Host::Snapshot outer;
  ASSERT_TRUE(h.snapshot(outer));
  // A call's effects: a slot read, one added, one deleted, a log, a transfer, accounts reached.
  EXPECT_TRUE(h.first_access(a, kept));
  EXPECT_TRUE(h.first_access(a, fresh));
  EXPECT_EQ(h.sstore(a, fresh, U256::from_u64(7)), StorageChange::Added);
  EXPECT_TRUE(h.first_access(a, gone));
  EXPECT_EQ(h.sstore(a, gone, U256::zero()), StorageChange::Deleted);
  EXPECT_FALSE(h.first_access(a, seen));
  h.emit_log(a, {}, {});
  EXPECT_TRUE(h.transfer(a, b, U256::from_u64(30)));
  EXPECT_TRUE(h.first_access(b));
  // A nested mark, and more accesses under it, put back first.
  Host::Snapshot inner;
  ASSERT_TRUE(h.snapshot(inner));
  const U256 late = U256::from_u64(9);
  EXPECT_TRUE(h.first_access(a, late));
  EXPECT_EQ(h.sstore(a, kept, U256::from_u64(8)), StorageChange::Modified);
  h.restore(inner);
  h.release(inner);
  EXPECT_EQ(h.sload(a, kept), U256::from_u64(5));
  EXPECT_EQ(h.sload(a, fresh), U256::from_u64(7));
  EXPECT_FALSE(h.first_access(a, kept));  // reached under the outer mark: still so
  h.restore(outer);
  same_as_at_mark("after restore");
  // First again: every slot and account reached after the mark; not the one before.
  EXPECT_TRUE(h.first_access(a, kept));
  EXPECT_TRUE(h.first_access(a, fresh));
  EXPECT_TRUE(h.first_access(a, gone));
  EXPECT_TRUE(h.first_access(a, late));
  EXPECT_TRUE(h.first_access(b));
  EXPECT_FALSE(h.first_access(a, seen));
  h.release(outer);
  // After the last release nothing is kept for a restore: accesses are plain again.
  EXPECT_TRUE(h.first_access(U256::from_u64(0xC)));
}

// sload_access is first_access then sload in one lookup: in long random
// sequences of reads, writes, deletions, reverts, marks put back and new
// top calls, its answers and values are those of the two calls made apart
// (Host's own sload_access, on a second host given the same operations).
TEST(MemoryHost, SloadAccessAnswersAsFirstAccessThenSload) {
  std::mt19937_64 rng(5);
  for (int round = 0; round < 40; ++round) {
    MemoryHost one, two;  // `one` reads with its own sload_access, `two` with Host's
    std::vector<size_t> checkpoints;
    std::vector<Host::Snapshot> marks;
    for (int step = 0; step < 400; ++step) {
      const U256 account = U256::from_u64(rng() % 2), slot = U256::from_u64(rng() % 5);
      SCOPED_TRACE("round " + std::to_string(round) + " step " + std::to_string(step));
      switch (rng() % 9) {
        case 0:
        case 1:
        case 2: {
          bool first1 = false, first2 = false;
          const U256 v1 = one.sload_access(account, slot, first1);
          const U256 v2 = two.Host::sload_access(account, slot, first2);
          ASSERT_EQ(v1, v2);
          ASSERT_EQ(first1, first2);
          break;
        }
        case 3:
        case 4: {
          const U256 v = U256::from_u64(rng() % 3);  // zero a third of the time
          ASSERT_EQ(one.sstore(account, slot, v), two.sstore(account, slot, v));
          break;
        }
        case 5:
          ASSERT_EQ(one.first_access(account, slot), two.first_access(account, slot));
          break;
        case 6:
          if (rng() % 2 == 0 || checkpoints.empty()) {
            ASSERT_EQ(one.checkpoint(), two.checkpoint());
            checkpoints.push_back(one.checkpoint());
          } else if (marks.empty() || checkpoints.back() >= marks.back().journal) {
            // (a revert stays above the innermost mark, as a nested call's does)
            one.revert_to(checkpoints.back());
            two.revert_to(checkpoints.back());
            checkpoints.pop_back();
          }
          break;
        case 7:
          if (rng() % 2 == 0 || marks.empty()) {
            Host::Snapshot m1, m2;
            ASSERT_TRUE(one.snapshot(m1));
            ASSERT_TRUE(two.snapshot(m2));
            ASSERT_EQ(m1.journal, m2.journal);
            ASSERT_EQ(m1.accesses, m2.accesses);
            marks.push_back(m1);
          } else {
            one.restore(marks.back());
            two.restore(marks.back());
            one.release(marks.back());
            two.release(marks.back());
            // Checkpoints taken after the mark end with it.
            while (!checkpoints.empty() && checkpoints.back() > marks.back().journal)
              checkpoints.pop_back();
            marks.pop_back();
          }
          break;
        case 8:
          if (marks.empty() && rng() % 4 == 0) {  // a new top call (refused: no code)
            Message m;
            m.caller = U256::from_u64(0xCA11);
            m.self = U256::from_u64(0x5E1F);
            ASSERT_EQ(one.call(m).status, Status::NoCode);
            ASSERT_EQ(two.call(m).status, Status::NoCode);
          }
          break;
      }
    }
  }
}

TEST(MemoryHost, StorageAgreesWithAModelThroughWritesDeletesAndReverts) {
  using Key = std::pair<uint64_t, uint64_t>;  // (account, slot)
  std::mt19937_64 rng(7);
  for (int round = 0; round < 50; ++round) {
    MemoryHost host;
    std::map<Key, uint64_t> model;  // zero values are absent
    std::vector<std::pair<size_t, std::map<Key, uint64_t>>> checkpoints;
    for (int step = 0; step < 400; ++step) {
      Key k{rng() % 2, rng() % 4};
      const U256 account = U256::from_u64(k.first), slot = U256::from_u64(k.second);
      const uint64_t old = model.count(k) ? model[k] : 0;
      switch (rng() % 6) {
        case 0:
        case 1:
          ASSERT_EQ(host.sload(account, slot), U256::from_u64(old))
              << "round " << round << " step " << step;
          break;
        case 2:
        case 3: {
          const uint64_t v = rng() % 3;  // zero a third of the time: deletions
          StorageChange want = v == old   ? StorageChange::Unchanged
                               : v == 0   ? StorageChange::Deleted
                               : old == 0 ? StorageChange::Added
                                          : StorageChange::Modified;
          ASSERT_EQ(host.sstore(account, slot, U256::from_u64(v)), want)
              << "round " << round << " step " << step;
          if (v == 0)
            model.erase(k);
          else
            model[k] = v;
          break;
        }
        case 4:
          checkpoints.emplace_back(host.checkpoint(), model);
          break;
        case 5:
          if (!checkpoints.empty()) {
            host.revert_to(checkpoints.back().first);
            model = checkpoints.back().second;
            checkpoints.pop_back();
          }
          break;
      }
      ASSERT_EQ(host.storage_size(), model.size()) << "round " << round << " step " << step;
    }
    for (const auto& [k, v] : model)
      EXPECT_EQ(host.sload(U256::from_u64(k.first), U256::from_u64(k.second)), U256::from_u64(v));
  }
}

// Thousands of slots: the table grows many times over, and erasing from
// long runs of neighbouring entries must keep every other slot reachable.
TEST(MemoryHost, ThousandsOfSlotsSurviveGrowthDeletesAndReverts) {
  std::mt19937_64 rng(11);
  MemoryHost host;
  std::map<std::pair<uint64_t, uint64_t>, uint64_t> model;
  const auto check_all = [&](const char* when) {
    ASSERT_EQ(host.storage_size(), model.size()) << when;
    for (const auto& [k, v] : model)
      ASSERT_EQ(host.sload(U256::from_u64(k.first), U256::from_u64(k.second)), U256::from_u64(v))
          << when << ": account " << k.first << " slot " << k.second;
  };
  for (uint64_t i = 0; i < 6000; ++i) {
    const std::pair<uint64_t, uint64_t> k{i % 3, i};
    ASSERT_EQ(host.sstore(U256::from_u64(k.first), U256::from_u64(k.second), U256::from_u64(i + 1)),
              StorageChange::Added);
    model[k] = i + 1;
  }
  check_all("after the writes");
  const size_t cp = host.checkpoint();
  const auto before = model;
  for (int step = 0; step < 20000; ++step) {
    const uint64_t slot = rng() % 8000;
    const std::pair<uint64_t, uint64_t> k{slot % 3, slot};
    const uint64_t v = rng() % 2 == 0 ? 0 : rng() % 1000 + 1;  // half of them deletions
    (void)host.sstore(U256::from_u64(k.first), U256::from_u64(k.second), U256::from_u64(v));
    if (v == 0)
      model.erase(k);
    else
      model[k] = v;
    if (step % 4000 == 0) check_all("among the deletions");
  }
  check_all("after the deletions");
  for (uint64_t slot = 8000; slot < 8064; ++slot)  // never written
    ASSERT_TRUE(host.sload(U256::from_u64(slot % 3), U256::from_u64(slot)).is_zero());
  host.revert_to(cp);
  model = before;
  check_all("after the revert");
}

}  // namespace
}  // namespace writ::vm::test
