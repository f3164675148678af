// The in-memory host's storage against a model: reads, writes, deletions,
// the change each write reports (it sets the write's gas), and reverts to
// checkpoints, in long random sequences over a few keys so that the same slot
// is read, written, deleted and restored many times in a row.
#include <gtest/gtest.h>

#include <map>
#include <random>
#include <utility>
#include <vector>

#include "writ/vm/memory_host.hpp"

namespace writ::vm::test {
namespace {

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

}  // namespace
}  // namespace writ::vm::test
