// The authenticated state structure: a compressed sparse Merkle tree (a
// binary radix tree over 256-bit keys) whose root commits to every (key,
// value hash) pair of the chain state. Updating k keys costs O(k log n)
// hashes; a proof for one key is O(log n) hashes and shows either its value
// hash (inclusion) or that the key is absent (exclusion); verify_proof checks
// it offline against a block's state root.
//
// Nodes are stored content-addressed (by their hash) in Column::Tree, so every
// persisted root stays readable. update() keeps the nodes it makes in memory
// ("pending"); persist() adds those reachable from a root to the caller's
// batch, and the caller commits the batch (atomically with the rest of the
// block), then calls drop_pending(). A chain may update many roots in a row
// and persist only the last: nodes of the roots in between, which the next
// block replaces, then never reach the store.
//
// Nodes read or made are also kept decoded in a bounded cache (a node is a
// function of its hash, so the cache never changes a result).
//
// Thread-safety: const methods may run concurrently; update() needs the store
// to stay unchanged while it runs.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <span>

#include "writ/runtime/store.hpp"
#include "writ/runtime/types.hpp"

namespace writ::runtime {

struct TreeProof {
  // Opaque to callers: the path from the root towards the key. Canonical
  // binary encoding, so proofs can be shipped and checked elsewhere.
  struct Step {
    uint16_t bit = 0;  // key bit index at which this branch splits (0 = most significant)
    bool went_right = false;
    Hash256 sibling;  // hash of the other child
  };
  std::vector<Step> steps;  // root first
  // The leaf the path ends at, when it is not the key itself (exclusion), or
  // the key's own leaf (inclusion): its key and value hash.
  std::optional<std::pair<Hash256, Hash256>> leaf;

  Bytes encode() const;
  static Result<TreeProof> decode(std::span<const uint8_t> bytes);
};

class StateTree {
 public:
  // Keeps up to cache_nodes decoded nodes (about 110 bytes each). The
  // default suits a tree used for a few reads; a chain passes more.
  static constexpr size_t kDefaultCacheNodes = 1 << 12;
  explicit StateTree(const Store& store, size_t cache_nodes = kDefaultCacheNodes);
  ~StateTree();
  StateTree(const StateTree&) = delete;
  StateTree& operator=(const StateTree&) = delete;

  static Hash256 empty_root();  // root of the tree with no keys

  // Applies `changes` (key -> new value hash, or nullopt to remove the key) to
  // the tree with root `root` (persisted or pending) and returns the new
  // root. The nodes it makes become pending: readable here, not yet stored.
  // With `replaced`, also lists the nodes of the tree at `root` that the new
  // tree no longer holds (for forget_pending). With `made`, lists the nodes
  // that this call made pending and that were not pending before: given to
  // forget_pending, they undo the update (a block whose commit failed).
  Result<Hash256> update(const Hash256& root,
                         const std::map<Hash256, std::optional<Hash256>>& changes,
                         std::vector<Hash256>* replaced = nullptr,
                         std::vector<Hash256>* made = nullptr) const;
  // Adds every pending node reachable from `root` to `batch` (Column::Tree):
  // once the batch is durable, `root` is readable from the store alone.
  // Returns the number of nodes added.
  size_t persist(const Hash256& root, WriteBatch& batch) const;
  // After the batch of a persist() is durable (or to discard every pending
  // root): forgets the pending nodes.
  void drop_pending();
  // Drops these nodes from the cache of decoded nodes (a committed block's
  // replaced nodes: the cache then keeps the live tree's). Reading them
  // later still works, from the store.
  void forget_cached(std::span<const Hash256> nodes);
  // Forgets these pending nodes (those not pending are left alone): once the
  // root an update made from them is the one in use, the nodes it replaced
  // are garbage, and keeping the pending set near the live tree keeps its
  // lookups cheap.
  // REQUIRES: no root that still holds them will be read again.
  void forget_pending(std::span<const Hash256> nodes);
  size_t pending() const;

  // update(), then persist() the new root into `batch` and drop_pending():
  // for callers that persist every root.
  // REQUIRES: no pending nodes (they would be dropped).
  Result<Hash256> update(const Hash256& root,
                         const std::map<Hash256, std::optional<Hash256>>& changes,
                         WriteBatch& batch);

  // The value hash under `key` in the tree with `root`, or nullopt if absent.
  Result<std::optional<Hash256>> get(const Hash256& root, const Hash256& key) const;

  Result<TreeProof> prove(const Hash256& root, const Hash256& key) const;

  struct Cache;

 private:
  const Store& store_;
  std::unique_ptr<Cache> cache_;
};

// True iff `proof` shows that in the tree with `root`, `key` maps to
// `value_hash` (inclusion) or, when value_hash is nullopt, is absent
// (exclusion). Needs nothing but its arguments.
bool verify_proof(const Hash256& root, const Hash256& key, const std::optional<Hash256>& value_hash,
                  const TreeProof& proof);

}  // namespace writ::runtime
