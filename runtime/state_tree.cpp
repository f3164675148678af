// The state tree: a compressed binary radix (Patricia) tree over 256-bit keys,
// hashed as a Merkle tree. See state_tree.hpp for the contract.
//
// Keys are read most significant bit first: bit i of a key is bit (7 - i % 8)
// of byte i / 8, so the tree's left-to-right order is the bytewise order of
// Hash256 (and of the std::map of changes).
//
// Nodes, hashing and storage
//   leaf      encoding = 0x00 || key (32) || value hash (32)             65 bytes
//   internal  encoding = 0x01 || split bit (u16 BE) || left || right     67 bytes
//   node hash = SHA-256(encoding); the node is stored in Column::Tree under
//   its 32 hash bytes with its encoding as the value. The tag byte separates
//   the two domains (a leaf can never pass for an internal node).
//   empty tree: root = SHA-256("writ.state_tree.empty"), stored nowhere.
//
// Invariants of a tree (they make its shape a function of its key set alone,
// so equal key sets give equal roots however they were built):
//   1. an internal node with split bit b has two non-empty sides; every key
//      under it shares bits [0, b), keys on its left have bit b = 0, keys on
//      its right bit b = 1;
//   2. hence the split bits strictly increase from the root down, and b is
//      the length of the longest common prefix of the node's keys;
//   3. a tree with one key is a single leaf; there are no empty subtrees.
// Reads check 1-2 as far as a path reveals them, and that every loaded node
// hashes to the key it was stored under; a violation is a corruption error.
//
// Proofs (TreeProof::encode):
//   u8 format = 1 | u32 BE step count n (<= 256)
//   n x [u16 BE split bit (< 256) | u8 direction (0 left, 1 right) | sibling (32)]
//   u8 has_leaf (0 or 1) | [leaf key (32) | leaf value hash (32)]
// verify_proof rebuilds the root from the leaf up. An exclusion proof is the
// search path of the absent key: it ends at the leaf that search reaches,
// which holds another key, or is empty (no steps, no leaf) for the empty tree.
// It is sound because every step must go the way the queried key's bit says:
// with an honest root and a collision-resistant hash, the steps are then the
// real nodes of the key's search path, and the search path of a present key
// always ends at that key's own leaf, which no exclusion proof may show. The
// verifier also demands strictly increasing split bits and a leaf that agrees
// with every decision of the path (invariants 1-2), so a proof is consistent
// on its own.
#include "writ/runtime/state_tree.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <mutex>
#include <string>
#include <unordered_map>

#include "encoding.hpp"  // enc::Reader, for TreeProof::decode
#include "read_cache.hpp"

namespace writ::runtime {
namespace state_tree_internal {

// A decoded node (the unit of the store, the cache and the hashing).
struct Node {
  bool leaf = true;
  uint16_t bit = 0;  // internal only: the split bit
  Hash256 a;         // leaf: key;        internal: left child
  Hash256 b;         // leaf: value hash; internal: right child
};

}  // namespace state_tree_internal

// Nodes made by update() and not yet persisted, by hash: open addressing
// with linear probing over SHA-256 outputs (any 8 bytes of which are uniform,
// so they index directly). No allocation per node, one probe sequence per
// lookup, and clear() is O(1): a slot is live only if it carries the
// current generation. Only looked up, never iterated (persist() walks the
// tree from a root), so its layout never reaches a result.
class PendingNodes {
 public:
  const state_tree_internal::Node* find(const Hash256& h) const {
    if (size_ == 0) return nullptr;
    for (size_t i = index(h);; i = (i + 1) & mask_) {
      const Slot& s = slots_[i];
      if (s.generation != generation_) return nullptr;
      if (s.key == h) return &s.node;
    }
  }
  void insert(const Hash256& h, const state_tree_internal::Node& n) {
    if (2 * (size_ + 1) > slots_.size()) grow();
    for (size_t i = index(h);; i = (i + 1) & mask_) {
      Slot& s = slots_[i];
      if (s.generation != generation_) {
        s = Slot{h, n, generation_};
        ++size_;
        return;
      }
      if (s.key == h) return;  // the same node (a node is a function of its hash)
    }
  }
  // Backward-shift deletion: the entries after the erased one that probed
  // past it move back, so every remaining key is still found by its probe.
  void erase(const Hash256& h) {
    if (size_ == 0) return;
    size_t i = index(h);
    for (;; i = (i + 1) & mask_) {
      if (slots_[i].generation != generation_) return;  // absent
      if (slots_[i].key == h) break;
    }
    for (size_t j = i;;) {
      j = (j + 1) & mask_;
      if (slots_[j].generation != generation_) break;
      const size_t k = index(slots_[j].key);  // where the entry at j wants to be
      const bool stays = i <= j ? (i < k && k <= j) : (i < k || k <= j);
      if (stays) continue;
      slots_[i] = slots_[j];
      i = j;
    }
    slots_[i].generation = 0;  // free (live generations start at 1)
    --size_;
  }
  void clear() {
    size_ = 0;
    if (++generation_ == 0) {  // wrapped: every stale slot must read as free
      std::fill(slots_.begin(), slots_.end(), Slot{});
      generation_ = 1;
    }
  }
  size_t size() const { return size_; }

 private:
  struct Slot {
    Hash256 key;
    state_tree_internal::Node node;
    uint32_t generation = 0;  // live when equal to the table's
  };
  size_t index(const Hash256& h) const { return Hash256Hasher()(h) & mask_; }
  void grow() {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(std::max<size_t>(1024, 2 * old.size()), Slot{});
    mask_ = slots_.size() - 1;
    const uint32_t live = generation_;
    generation_ = 1;
    size_ = 0;
    for (const Slot& s : old)
      if (s.generation == live) insert(s.key, s.node);
  }

  std::vector<Slot> slots_;
  size_t mask_ = 0;
  size_t size_ = 0;
  uint32_t generation_ = 1;
};

// Decoded nodes by hash. A node is a function of its hash, so an entry is
// never stale: nodes read from the store (after their hash was checked) go
// in as they are met, and persisted nodes as they are persisted.
//
// Pending nodes: made by update() and not yet persisted. They are the only
// copy of their node until persist() writes them, so they are never evicted;
// lookups try them first (the nodes an update reads most are the top of the
// tree, which the previous blocks made).
struct StateTree::Cache {
  explicit Cache(size_t capacity) : nodes(capacity) {}
  // Two ways, and the nodes a block replaces dropped as it commits
  // (forget_cached): the live tree's nodes then stay, where a direct-mapped
  // table let each new node evict whatever held its slot, live or replaced
  // (docs/gas.md, the commit-cost audit).
  ReadCache<Hash256, state_tree_internal::Node, Hash256Hasher, 2> nodes;
  mutable std::mutex pending_mu;
  PendingNodes pending;  // guarded by pending_mu

  std::optional<state_tree_internal::Node> find_pending(const Hash256& h) const {
    std::lock_guard<std::mutex> lock(pending_mu);
    if (const auto* n = pending.find(h)) return *n;
    return std::nullopt;
  }
};

namespace {

using state_tree_internal::Node;

constexpr uint8_t kLeafTag = 0x00;
constexpr uint8_t kInternalTag = 0x01;
constexpr size_t kLeafSize = 65;
constexpr size_t kInternalSize = 67;
constexpr int kKeyBits = 256;
constexpr uint8_t kProofFormat = 1;
constexpr size_t kProofStepSize = 35;

int key_bit(const Hash256& key, int i) {
  return (key.bytes[i >> 3] >> (7 - (i & 7))) & 1;
}

// Length of the longest common prefix of a and b in bits (256 when equal).
int common_prefix(const Hash256& a, const Hash256& b) {
  for (int i = 0; i < 32; ++i) {
    uint8_t x = a.bytes[i] ^ b.bytes[i];
    if (x) return 8 * i + std::countl_zero(x);
  }
  return kKeyBits;
}

Node make_leaf(const Hash256& key, const Hash256& value) {
  return {true, 0, key, value};
}
Node make_internal(int bit, const Hash256& left, const Hash256& right) {
  return {false, static_cast<uint16_t>(bit), left, right};
}

// The canonical encoding, which is also the hash preimage. Built on the
// stack: hashing a node allocates nothing.
struct EncodedNode {
  std::array<uint8_t, kInternalSize> bytes;
  size_t size;
  std::span<const uint8_t> span() const { return {bytes.data(), size}; }
  std::string_view view() const { return {reinterpret_cast<const char*>(bytes.data()), size}; }
};

EncodedNode encode_node(const Node& n) {
  EncodedNode e;
  uint8_t* p = e.bytes.data();
  if (n.leaf) {
    *p++ = kLeafTag;
  } else {
    *p++ = kInternalTag;
    *p++ = static_cast<uint8_t>(n.bit >> 8);
    *p++ = static_cast<uint8_t>(n.bit);
  }
  std::memcpy(p, n.a.bytes.data(), 32);
  std::memcpy(p + 32, n.b.bytes.data(), 32);
  e.size = static_cast<size_t>(p + 64 - e.bytes.data());
  return e;
}

Hash256 hash_bytes(std::string_view s) {
  return sha256(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(s.data()), s.size()));
}
Hash256 node_hash(const Node& n) {
  return sha256(encode_node(n).span());
}

std::string_view key_view(const Hash256& h) {
  return {reinterpret_cast<const char*>(h.bytes.data()), 32};
}

Error corrupt(const Hash256& h, const std::string& what) {
  return vm::error_at(0, "state tree: node " + h.hex() + ": " + what);
}

// Loads and checks one node: present, well formed, and hashing to `h`.
Result<Node> read_node(const Store& store, StateTree::Cache& cache, const Hash256& h) {
  if (auto p = cache.find_pending(h)) return *p;
  if (auto hit = cache.nodes.get(h)) return *hit;
  auto got = store.get(Column::Tree, key_view(h));
  if (!got) return corrupt(h, "read failed: " + got.error().message);
  if (!*got) return corrupt(h, "missing from the store (corrupt or incomplete state)");
  const std::string& v = **got;
  if (hash_bytes(v) != h) return corrupt(h, "stored bytes do not hash to the node's key");
  Node n;
  if (v.size() == kLeafSize && static_cast<uint8_t>(v[0]) == kLeafTag) {
    n.leaf = true;
    std::memcpy(n.a.bytes.data(), v.data() + 1, 32);
    std::memcpy(n.b.bytes.data(), v.data() + 33, 32);
  } else if (v.size() == kInternalSize && static_cast<uint8_t>(v[0]) == kInternalTag) {
    n.leaf = false;
    n.bit = static_cast<uint16_t>((static_cast<uint8_t>(v[1]) << 8) | static_cast<uint8_t>(v[2]));
    if (n.bit >= kKeyBits)
      return corrupt(h, "split bit " + std::to_string(n.bit) + " out of range");
    std::memcpy(n.a.bytes.data(), v.data() + 3, 32);
    std::memcpy(n.b.bytes.data(), v.data() + 35, 32);
  } else {
    return corrupt(h, "malformed encoding (" + std::to_string(v.size()) + " bytes)");
  }
  cache.nodes.put(h, n);
  return n;
}

Error split_order_error(const Hash256& h, int bit, int parent_bit) {
  return corrupt(h, "split bit " + std::to_string(bit) + " does not exceed its parent's " +
                        std::to_string(parent_bit));
}

// The search path of `key` from `root`: the internal nodes passed (as proof
// steps) and the leaf reached (none for the empty tree).
Result<TreeProof> search(const Store& store, StateTree::Cache& cache, const Hash256& root,
                         const Hash256& key) {
  TreeProof path;
  if (root == StateTree::empty_root()) return path;
  Hash256 h = root;
  int parent_bit = -1;
  for (;;) {
    auto n = read_node(store, cache, h);
    if (!n) return n.error();
    if (n->leaf) {
      for (const TreeProof::Step& s : path.steps)
        if (key_bit(n->a, s.bit) != static_cast<int>(s.went_right))
          return corrupt(h, "leaf key disagrees with its path at bit " + std::to_string(s.bit));
      path.leaf = std::make_pair(n->a, n->b);
      return path;
    }
    if (n->bit <= parent_bit) return split_order_error(h, n->bit, parent_bit);
    bool right = key_bit(key, n->bit);
    path.steps.push_back({n->bit, right, right ? n->a : n->b});
    h = right ? n->b : n->a;
    parent_bit = n->bit;
  }
}

// One change: the key and its new value hash (nullptr: remove the key).
struct Change {
  Hash256 key;
  const Hash256* value;
};
using Changes = std::span<const Change>;
using Subtree = std::optional<Hash256>;  // nullopt: empty

// Splits changes whose keys share bits [0, bit) at the first key with `bit` set.
std::pair<Changes, Changes> split_at_bit(Changes s, int bit) {
  auto mid = std::partition_point(s.begin(), s.end(),
                                  [bit](const Change& c) { return key_bit(c.key, bit) == 0; });
  size_t n = static_cast<size_t>(mid - s.begin());
  return {s.first(n), s.subspan(n)};
}

// One update() call: a merge of the sorted changes into the old tree, top
// down, touching only the paths of the changed keys.
class Updater {
 public:
  Updater(const Store& store, StateTree::Cache& cache) : store_(store), cache_(cache) {}

  // The subtree rooted at `h` (whose parent splits at `parent_bit`) with
  // `s` (non-empty, sorted, all sharing the parent's prefix) applied. A node
  // whose own keys or values change is listed in replaced(): the new tree no
  // longer holds it. (A node that only gains a new sibling above it, when
  // inserted keys leave its prefix, is kept as a child of the new split.)
  Result<Subtree> merge(const Hash256& h, int parent_bit, Changes s) {
    auto loaded = node(h);
    if (!loaded) return loaded.error();
    const Node n = *loaded;
    if (!n.leaf && n.bit <= parent_bit) return split_order_error(h, n.bit, parent_bit);
    // Any key of the subtree gives its prefix: bits [0, n.bit), or the whole
    // key for a leaf.
    Hash256 rep = n.a;
    if (!n.leaf) {
      auto r = representative(h, parent_bit, s.front().key);
      if (!r) return r.error();
      rep = *r;
    }
    const int prefix_len = n.leaf ? kKeyBits : n.bit;
    // The common prefix of {rep} and every changed key (the keys are sorted,
    // so it is the common prefix of the smallest and the largest).
    const int m = common_prefix(std::min(rep, s.front().key), std::max(rep, s.back().key));

    if (m >= prefix_len) {  // every change falls inside this subtree
      if (n.leaf) {         // m == 256: s is the single change of this key
        if (s.front().value && *s.front().value == n.b) return Subtree{h};
        replaced_.push_back(h);
        if (!s.front().value) return Subtree{};
        return Subtree{put(make_leaf(n.a, *s.front().value))};
      }
      auto [s0, s1] = split_at_bit(s, n.bit);
      Subtree left = n.a, right = n.b;
      if (!s0.empty()) {
        auto r = merge(n.a, n.bit, s0);
        if (!r) return r.error();
        left = *r;
      }
      if (!s1.empty()) {
        auto r = merge(n.b, n.bit, s1);
        if (!r) return r.error();
        right = *r;
      }
      if (left == n.a && right == n.b) return Subtree{h};
      replaced_.push_back(h);
      return join(n.bit, left, right);
    }

    // Some changed keys leave the subtree's prefix at bit m: the new subtree
    // splits at m, with the old keys on rep's side. m's two sides are both
    // non-empty among {rep} and s, so the other side has changes and the
    // recursion below gets strictly fewer of them.
    auto [s0, s1] = split_at_bit(s, m);
    const bool old_right = key_bit(rep, m);
    Changes same = old_right ? s1 : s0;
    Changes other = old_right ? s0 : s1;
    Subtree kept = h;
    if (!same.empty()) {
      auto r = merge(h, parent_bit, same);
      if (!r) return r.error();
      kept = *r;
    }
    Subtree added = build_inserts(other);  // removals there are of absent keys
    return old_right ? join(m, added, kept) : join(m, kept, added);
  }

  // A fresh subtree of the inserted keys of `s` (sorted, sharing a prefix).
  Subtree build_inserts(Changes s) {
    std::vector<Change> inserts;
    for (const Change& c : s)
      if (c.value) inserts.push_back(c);
    if (inserts.empty()) return std::nullopt;
    return build(inserts);
  }

  // A node of the old tree, read and checked (or found in the cache).
  // An update never reads a node it made: merge() descends the old tree
  // only, and build()/join() make nodes from hashes they already hold.
  Result<Node> node(const Hash256& h) { return read_node(store_, cache_, h); }

 private:
  // REQUIRES: s non-empty, sorted, distinct, all inserts.
  Hash256 build(Changes s) {
    if (s.size() == 1) return put(make_leaf(s.front().key, *s.front().value));
    const int m = common_prefix(s.front().key, s.back().key);
    auto [s0, s1] = split_at_bit(s, m);
    Hash256 left = build(s0);
    Hash256 right = build(s1);
    return put(make_internal(m, left, right));
  }

  Subtree join(int bit, const Subtree& left, const Subtree& right) {
    if (left && right) return put(make_internal(bit, *left, *right));
    return left ? left : right;  // a side became empty: the other moves up
  }

  // Adds a node made in this call to the pending nodes.
  Hash256 put(const Node& n) {
    const Hash256 h = node_hash(n);
    made_.emplace_back(h, n);
    return h;
  }

 public:
  // The nodes made, to become pending once the update succeeded.
  std::vector<std::pair<Hash256, Node>>& made() { return made_; }
  // The nodes of the old tree that the new one no longer holds (see merge).
  std::vector<Hash256>& replaced() { return replaced_; }
  // Room for an update of `changes` keys: a few new nodes each, and an
  // internal node remembered per key on the top of the tree (no rehashing
  // in the middle of a block's update).
  void reserve(size_t changes) {
    made_.reserve(4 * changes);
    replaced_.reserve(4 * changes);
    reps_.reserve(2 * changes);
  }

 private:
  // Some key stored under the internal node `h`: the leaf reached by
  // following `guide`'s bits, remembered for every node passed on the way,
  // so the merge below `h` (which follows the same keys) reads each node once.
  Result<Hash256> representative(const Hash256& h, int parent_bit, const Hash256& guide) {
    std::vector<Hash256> passed;
    Hash256 cur = h;
    Hash256 found;
    for (;;) {
      if (auto it = reps_.find(cur); it != reps_.end()) {
        found = it->second;
        break;
      }
      auto n = node(cur);
      if (!n) return n.error();
      if (n->leaf) {
        found = n->a;
        break;
      }
      if (n->bit <= parent_bit) return split_order_error(cur, n->bit, parent_bit);
      passed.push_back(cur);
      parent_bit = n->bit;
      cur = key_bit(guide, n->bit) ? n->b : n->a;
    }
    for (const Hash256& p : passed) reps_.emplace(p, found);
    return found;
  }

  const Store& store_;
  StateTree::Cache& cache_;
  std::vector<std::pair<Hash256, Node>> made_;
  std::vector<Hash256> replaced_;
  std::unordered_map<Hash256, Hash256, Hash256Hasher> reps_;  // internal node -> a key under it
};

void put_u16(Bytes& out, uint16_t v) {
  out.push_back(static_cast<uint8_t>(v >> 8));
  out.push_back(static_cast<uint8_t>(v));
}
void put_hash(Bytes& out, const Hash256& h) {
  out.insert(out.end(), h.bytes.begin(), h.bytes.end());
}

}  // namespace

StateTree::StateTree(const Store& store, size_t cache_nodes)
    : store_(store), cache_(std::make_unique<Cache>(cache_nodes)) {}
StateTree::~StateTree() = default;

Hash256 StateTree::empty_root() {
  static const Hash256 root = hash_bytes("writ.state_tree.empty");
  return root;
}

Result<Hash256> StateTree::update(const Hash256& root,
                                  const std::map<Hash256, std::optional<Hash256>>& changes,
                                  std::vector<Hash256>* replaced,
                                  std::vector<Hash256>* made) const {
  if (made) made->clear();
  Updater u(store_, *cache_);
  const bool empty = root == empty_root();
  if (!empty) {  // an unknown root is an error even when nothing changes
    auto n = u.node(root);
    if (!n) return n.error();
  }
  if (changes.empty()) return root;
  u.reserve(changes.size());
  std::vector<Change> list;
  list.reserve(changes.size());
  for (const auto& [key, value] : changes) list.push_back({key, value ? &*value : nullptr});

  Subtree result;
  if (empty) {
    result = u.build_inserts(list);
  } else {
    auto r = u.merge(root, -1, list);
    if (!r) return r.error();
    result = *r;
  }
  {
    std::lock_guard<std::mutex> lock(cache_->pending_mu);
    for (auto& [h, n] : u.made()) {
      if (made && !cache_->pending.find(h)) made->push_back(h);
      cache_->pending.insert(h, n);
    }
  }
  if (replaced) *replaced = std::move(u.replaced());
  return result ? *result : empty_root();
}

size_t StateTree::persist(const Hash256& root, WriteBatch& batch) const {
  std::lock_guard<std::mutex> lock(cache_->pending_mu);
  size_t written = 0;
  std::vector<Hash256> todo{root};
  while (!todo.empty()) {
    const Hash256 h = todo.back();
    todo.pop_back();
    const Node* found = cache_->pending.find(h);
    if (!found) continue;  // stored already, and so is all below it
    const Node& n = *found;
    batch.put(Column::Tree, key_view(h), encode_node(n).view());
    cache_->nodes.put(h, n);  // stays readable once the pending nodes are dropped
    ++written;
    if (!n.leaf) {
      todo.push_back(n.a);
      todo.push_back(n.b);
    }
  }
  return written;
}

void StateTree::forget_pending(std::span<const Hash256> nodes) {
  std::lock_guard<std::mutex> lock(cache_->pending_mu);
  for (const Hash256& h : nodes) cache_->pending.erase(h);
}

void StateTree::forget_cached(std::span<const Hash256> nodes) {
  for (const Hash256& h : nodes) cache_->nodes.erase(h);
}

void StateTree::drop_pending() {
  std::lock_guard<std::mutex> lock(cache_->pending_mu);
  cache_->pending.clear();
}

size_t StateTree::pending() const {
  std::lock_guard<std::mutex> lock(cache_->pending_mu);
  return cache_->pending.size();
}

Result<Hash256> StateTree::update(const Hash256& root,
                                  const std::map<Hash256, std::optional<Hash256>>& changes,
                                  WriteBatch& batch) {
  auto r = update(root, changes);
  if (!r) return r;
  persist(*r, batch);
  drop_pending();
  return r;
}

Result<std::optional<Hash256>> StateTree::get(const Hash256& root, const Hash256& key) const {
  auto path = search(store_, *cache_, root, key);
  if (!path) return path.error();
  if (path->leaf && path->leaf->first == key) return std::optional<Hash256>(path->leaf->second);
  return std::optional<Hash256>();
}

Result<TreeProof> StateTree::prove(const Hash256& root, const Hash256& key) const {
  return search(store_, *cache_, root, key);
}

bool verify_proof(const Hash256& root, const Hash256& key, const std::optional<Hash256>& value_hash,
                  const TreeProof& proof) {
  if (!proof.leaf) return proof.steps.empty() && !value_hash && root == StateTree::empty_root();
  const auto& [leaf_key, leaf_value] = *proof.leaf;
  if (value_hash ? (leaf_key != key || leaf_value != *value_hash) : leaf_key == key) return false;
  int prev = -1;
  for (const TreeProof::Step& s : proof.steps) {
    if (s.bit <= prev || s.bit >= kKeyBits) return false;
    const int dir = s.went_right ? 1 : 0;
    if (key_bit(key, s.bit) != dir || key_bit(leaf_key, s.bit) != dir) return false;
    prev = s.bit;
  }
  Hash256 h = node_hash(make_leaf(leaf_key, leaf_value));
  for (auto it = proof.steps.rbegin(); it != proof.steps.rend(); ++it)
    h = it->went_right ? node_hash(make_internal(it->bit, it->sibling, h))
                       : node_hash(make_internal(it->bit, h, it->sibling));
  return h == root;
}

Bytes TreeProof::encode() const {
  Bytes out;
  out.reserve(1 + 4 + steps.size() * kProofStepSize + 1 + 64);
  out.push_back(kProofFormat);
  const auto n = static_cast<uint32_t>(steps.size());
  for (int i = 3; i >= 0; --i) out.push_back(static_cast<uint8_t>(n >> (8 * i)));
  for (const Step& s : steps) {
    put_u16(out, s.bit);
    out.push_back(s.went_right ? 1 : 0);
    put_hash(out, s.sibling);
  }
  out.push_back(leaf ? 1 : 0);
  if (leaf) {
    put_hash(out, leaf->first);
    put_hash(out, leaf->second);
  }
  return out;
}

Result<TreeProof> TreeProof::decode(std::span<const uint8_t> bytes) {
  enc::Reader r(std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  auto fail = [](uint64_t offset, const std::string& why) {
    return vm::error_at(offset, "tree proof: " + why);
  };
  auto read_failed = [&] { return fail(r.error().offset, r.error().message); };

  const uint8_t format = r.u8("format");
  if (r.failed()) return read_failed();
  if (format != kProofFormat) return fail(0, "unknown format " + std::to_string(format));
  const uint32_t n = r.u32("step count");
  if (r.failed()) return read_failed();
  if (n > static_cast<uint32_t>(kKeyBits))
    return fail(1, "step count " + std::to_string(n) + " exceeds " + std::to_string(kKeyBits));
  TreeProof p;
  p.steps.reserve(n);
  for (uint32_t i = 0; i < n; ++i) {
    const size_t at = r.pos();
    const std::string field = "step " + std::to_string(i);
    if (!r.need(kProofStepSize, field.c_str())) return read_failed();
    Step s;
    const uint8_t bit_hi = r.u8("bit");
    s.bit = static_cast<uint16_t>((bit_hi << 8) | r.u8("bit"));
    if (s.bit >= kKeyBits)
      return fail(at, field + ": split bit " + std::to_string(s.bit) + " out of range");
    const uint8_t dir = r.u8("direction");
    if (dir > 1)
      return fail(at + 2, field + ": direction " + std::to_string(dir) + " is not 0 or 1");
    s.went_right = dir == 1;
    s.sibling = r.hash("sibling");
    p.steps.push_back(s);
  }
  const size_t flag_at = r.pos();
  const uint8_t has_leaf = r.u8("leaf flag");
  if (r.failed()) return read_failed();
  if (has_leaf > 1)
    return fail(flag_at, "leaf flag " + std::to_string(has_leaf) + " is not 0 or 1");
  if (has_leaf) {
    Hash256 key = r.hash("leaf key");
    Hash256 value = r.hash("leaf value hash");
    if (r.failed()) return read_failed();
    p.leaf = std::make_pair(key, value);
  }
  if (!r.done()) return read_failed();  // trailing bytes
  return p;
}

}  // namespace writ::runtime
