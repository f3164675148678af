// A contract's storage decoded by variable name, from the layout its ABI
// gives each storage field ("storage"[i]."layout", docs/language.md "Storage
// layout"): scalars by type (enums by variant), structs by field, storage
// vectors by index, iter_maps by the keys they keep, and maps by the keys a
// trace reached (a map keeps no list of its keys: an entry is found through
// the hash2 that computed its slot).
#pragma once

#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "writ/vm/u256.hpp"

namespace writ::cli {

struct U256Less {
  bool operator()(const vm::U256& a, const vm::U256& b) const { return vm::lt(a, b); }
};
// hash2 results seen in a trace -> their two input words (key, slot).
using Preimages = std::map<vm::U256, std::pair<vm::U256, vm::U256>, U256Less>;

// One line of the view: a value, or a container (map, struct, vector) whose
// entries follow it one level deeper.
struct StorageVar {
  std::string label;  // "count", "[0xca11e2]", "amount"
  std::string path;   // "escrows[3].amount"
  std::string type;
  std::string value;  // empty for a container
  unsigned depth = 0;
  bool container = false;
};

// Reads a slot of the contract as of the point being shown.
using SlotRead = std::function<vm::U256(const vm::U256& slot)>;

// The storage view of a contract with ABI `abi_json`. At most
// kMaxStorageEntries entries of any one map or vector are listed.
inline constexpr size_t kMaxStorageEntries = 64;
std::vector<StorageVar> decode_storage(const std::string& abi_json, const SlotRead& read,
                                       const Preimages& preimages);

// The lines as `writ debug`'s `storage` prints them.
std::string format_storage(const std::vector<StorageVar>& vars);

vm::U256 storage_hash2(const vm::U256& a, const vm::U256& b);

}  // namespace writ::cli
