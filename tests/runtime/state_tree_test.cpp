// Tests of the state tree (runtime/state_tree.cpp): known-answer hashes,
// canonical shape, updates, proofs and their encoding, corruption handling,
// a randomized model check and the cost of one update.
#include "writ/runtime/state_tree.hpp"

#include <gtest/gtest.h>
#include <openssl/evp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace writ::runtime {
namespace {

using Changes = std::map<Hash256, std::optional<Hash256>>;
using Model = std::map<Hash256, Hash256>;

// A Store kept in std::maps, with hooks to damage it and a read counter.
class MapStore final : public Store {
 public:
  Result<std::optional<std::string>> get(Column c, std::string_view key) const override {
    ++reads;
    const auto& col = cols_[static_cast<size_t>(c)];
    auto it = col.find(std::string(key));
    if (it == col.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }
  Status write(const WriteBatch& batch, bool) override {
    for (const auto& op : batch.ops()) {
      auto& col = cols_[static_cast<size_t>(op.column)];
      if (op.value)
        col[std::string(op.key)] = std::string(*op.value);
      else
        col.erase(std::string(op.key));
    }
    return Status::success();
  }
  Result<std::vector<std::pair<std::string, std::string>>> scan(Column c) const override {
    const auto& col = cols_[static_cast<size_t>(c)];
    return std::vector<std::pair<std::string, std::string>>(col.begin(), col.end());
  }
  void erase(Column c, const std::string& key) { cols_[static_cast<size_t>(c)].erase(key); }
  void set(Column c, const std::string& key, std::string value) {
    cols_[static_cast<size_t>(c)][key] = std::move(value);
  }
  size_t count(Column c) const { return cols_[static_cast<size_t>(c)].size(); }

  mutable uint64_t reads = 0;

 private:
  std::map<std::string, std::string> cols_[kColumnCount];
};

// SHA-256 through EVP, independent of the code under test.
Hash256 ref_sha256(const std::vector<uint8_t>& data) {
  Hash256 h;
  unsigned len = 0;
  EXPECT_EQ(EVP_Digest(data.data(), data.size(), h.bytes.data(), &len, EVP_sha256(), nullptr), 1);
  return h;
}
void append(std::vector<uint8_t>& v, const Hash256& h) {
  v.insert(v.end(), h.bytes.begin(), h.bytes.end());
}
Hash256 ref_leaf(const Hash256& key, const Hash256& value) {
  std::vector<uint8_t> v{0x00};
  append(v, key);
  append(v, value);
  return ref_sha256(v);
}
Hash256 ref_internal(uint16_t bit, const Hash256& left, const Hash256& right) {
  std::vector<uint8_t> v{0x01, static_cast<uint8_t>(bit >> 8), static_cast<uint8_t>(bit)};
  append(v, left);
  append(v, right);
  return ref_sha256(v);
}

std::string raw(const Hash256& h) {
  return std::string(reinterpret_cast<const char*>(h.bytes.data()), 32);
}

Hash256 random_hash(std::mt19937_64& rng) {
  Hash256 h;
  for (size_t i = 0; i < 32; i += 8) {
    uint64_t x = rng();
    std::memcpy(h.bytes.data() + i, &x, 8);
  }
  return h;
}
// A key whose bits are all zero except the given ones.
Hash256 key_with_bits(std::initializer_list<int> bits) {
  Hash256 h;
  for (int b : bits) h.bytes[b / 8] |= static_cast<uint8_t>(0x80 >> (b % 8));
  return h;
}
Hash256 value_of(uint64_t i) {
  Hash256 h;
  for (int k = 0; k < 8; ++k) h.bytes[31 - k] = static_cast<uint8_t>(i >> (8 * k));
  h.bytes[0] = 0xAA;
  return h;
}

// Applies `changes` to `root` in `store` and commits the batch.
Hash256 apply(MapStore& store, const Hash256& root, const Changes& changes) {
  WriteBatch batch;
  auto r = StateTree(store).update(root, changes, batch);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  if (!r.ok()) return {};
  EXPECT_TRUE(store.write(batch, false).ok);
  return *r;
}

// The root of a tree holding exactly `model`, built in one update of a fresh store.
Hash256 fresh_root(const Model& model) {
  MapStore store;
  Changes c;
  for (const auto& [k, v] : model) c[k] = v;
  return apply(store, StateTree::empty_root(), c);
}

Model random_model(std::mt19937_64& rng, size_t n) {
  Model m;
  while (m.size() < n) m[random_hash(rng)] = random_hash(rng);
  return m;
}

std::optional<Hash256> get_ok(const Store& store, const Hash256& root, const Hash256& key) {
  auto r = StateTree(store).get(root, key);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : std::nullopt;
}
TreeProof prove_ok(const Store& store, const Hash256& root, const Hash256& key) {
  auto r = StateTree(store).prove(root, key);
  EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().message);
  return r.ok() ? *r : TreeProof{};
}

// ---------------------------------------------------------------------------
// Hashing scheme

TEST(StateTree, EmptyRootIsTheDocumentedTag) {
  const std::string tag = "writ.state_tree.empty";
  EXPECT_EQ(StateTree::empty_root(), ref_sha256(std::vector<uint8_t>(tag.begin(), tag.end())));
  MapStore store;
  EXPECT_EQ(get_ok(store, StateTree::empty_root(), value_of(1)), std::nullopt);
  TreeProof p = prove_ok(store, StateTree::empty_root(), value_of(1));
  EXPECT_TRUE(p.steps.empty());
  EXPECT_FALSE(p.leaf.has_value());
  EXPECT_TRUE(verify_proof(StateTree::empty_root(), value_of(1), std::nullopt, p));
  EXPECT_FALSE(verify_proof(StateTree::empty_root(), value_of(1), value_of(2), p));
  // An empty proof shows nothing about a non-empty tree.
  EXPECT_FALSE(verify_proof(ref_leaf(value_of(3), value_of(4)), value_of(1), std::nullopt, p));
}

TEST(StateTree, RootsMatchTheDocumentedHashes) {
  MapStore store;
  const Hash256 k0 = key_with_bits({}), k1 = key_with_bits({0}), k2 = key_with_bits({255});
  const Hash256 k3 = key_with_bits({0, 9});
  const Hash256 v0 = value_of(10), v1 = value_of(11), v2 = value_of(12), v3 = value_of(13);

  Hash256 r = apply(store, StateTree::empty_root(), {{k0, v0}});
  EXPECT_EQ(r, ref_leaf(k0, v0));
  r = apply(store, r, {{k1, v1}});
  EXPECT_EQ(r, ref_internal(0, ref_leaf(k0, v0), ref_leaf(k1, v1)));
  r = apply(store, r, {{k2, v2}, {k3, v3}});
  const Hash256 left = ref_internal(255, ref_leaf(k0, v0), ref_leaf(k2, v2));
  const Hash256 right = ref_internal(9, ref_leaf(k1, v1), ref_leaf(k3, v3));
  EXPECT_EQ(r, ref_internal(0, left, right));

  // Nodes are stored under their hash with their hash preimage as the value.
  auto stored = store.get(Column::Tree, raw(r));
  ASSERT_TRUE(stored.ok() && stored->has_value());
  std::string expect = std::string("\x01\x00\x00", 3) + raw(left) + raw(right);
  EXPECT_EQ(**stored, expect);
  // 4 leaves, the two-key root, and the three internal nodes of r.
  EXPECT_EQ(store.count(Column::Tree), 8u);
}

// ---------------------------------------------------------------------------
// Updates

TEST(StateTree, InsertOneKeyThenGet) {
  MapStore store;
  const Hash256 key = value_of(7), value = value_of(8);
  const Hash256 root = apply(store, StateTree::empty_root(), {{key, value}});
  EXPECT_NE(root, StateTree::empty_root());
  EXPECT_EQ(get_ok(store, root, key), value);
  EXPECT_EQ(get_ok(store, root, value_of(9)), std::nullopt);
  EXPECT_EQ(get_ok(store, StateTree::empty_root(), key), std::nullopt);
}

// A block whose commit fails must leave no pending node behind: forgetting
// what an update made returns the tree to where it was, the previous root
// reads as before, and a retry makes the same root.
TEST(StateTree, ForgettingTheNodesAnUpdateMadeUndoesIt) {
  MapStore store;
  StateTree tree(store);
  std::mt19937_64 rng(3);
  Changes first;
  for (int i = 0; i < 200; ++i) first[random_hash(rng)] = value_of(static_cast<uint64_t>(i));
  auto r1 = tree.update(StateTree::empty_root(), first);
  ASSERT_TRUE(r1.ok());
  const size_t pending = tree.pending();
  Changes second;
  for (int i = 0; i < 20; ++i) second[random_hash(rng)] = value_of(1000 + static_cast<uint64_t>(i));
  second[first.begin()->first] = first.begin()->second;  // unchanged: nothing to make
  std::vector<Hash256> replaced, made;
  auto r2 = tree.update(r1.value(), second, &replaced, &made);
  ASSERT_TRUE(r2.ok());
  EXPECT_GT(tree.pending(), pending);
  EXPECT_FALSE(made.empty());
  tree.forget_pending(made);
  EXPECT_EQ(tree.pending(), pending);
  for (const auto& [key, value] : first) {
    auto v = tree.get(r1.value(), key);
    ASSERT_TRUE(v.ok()) << v.error().to_string();
    EXPECT_EQ(v.value(), value);
  }
  auto again = tree.update(r1.value(), second);  // the retry makes the same root
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again.value(), r2.value());
}

TEST(StateTree, ShapeIsCanonicalAcrossOrdersAndBatches) {
  std::mt19937_64 rng(1);
  const Model model = random_model(rng, 300);
  const Hash256 expected = fresh_root(model);
  std::vector<std::pair<Hash256, Hash256>> items(model.begin(), model.end());

  for (int trial = 0; trial < 3; ++trial) {  // one key per update, in shuffled orders
    std::shuffle(items.begin(), items.end(), rng);
    MapStore store;
    Hash256 root = StateTree::empty_root();
    for (const auto& [k, v] : items) root = apply(store, root, {{k, v}});
    EXPECT_EQ(root, expected) << "trial " << trial;
  }
  for (int trial = 0; trial < 5; ++trial) {  // random batch splits
    std::shuffle(items.begin(), items.end(), rng);
    MapStore store;
    Hash256 root = StateTree::empty_root();
    size_t i = 0;
    while (i < items.size()) {
      size_t n = 1 + rng() % 60;
      Changes c;
      for (; n > 0 && i < items.size(); --n, ++i) c[items[i].first] = items[i].second;
      root = apply(store, root, c);
    }
    EXPECT_EQ(root, expected) << "trial " << trial;
    for (const auto& [k, v] : model) ASSERT_EQ(get_ok(store, root, k), v);
  }
}

TEST(StateTree, DeletingGivesTheFreshTreeOfTheRest) {
  std::mt19937_64 rng(2);
  Model model = random_model(rng, 400);
  MapStore store;
  const Hash256 full = apply(store, StateTree::empty_root(), Changes(model.begin(), model.end()));

  // Remove a random half in one batch.
  Model rest = model;
  Changes removals;
  for (const auto& [k, v] : model)
    if (rng() % 2) {
      removals[k] = std::nullopt;
      rest.erase(k);
    }
  const Hash256 half = apply(store, full, removals);
  EXPECT_EQ(half, fresh_root(rest));
  for (const auto& [k, v] : model)
    EXPECT_EQ(get_ok(store, half, k), rest.count(k) ? std::optional(v) : std::nullopt);

  // Then the rest one key at a time, checking the canonical shape as it shrinks.
  std::vector<Hash256> keys;
  for (const auto& [k, v] : rest) keys.push_back(k);
  std::shuffle(keys.begin(), keys.end(), rng);
  Hash256 root = half;
  for (size_t i = 0; i < keys.size(); ++i) {
    root = apply(store, root, {{keys[i], std::nullopt}});
    rest.erase(keys[i]);
    if (i % 37 == 0) {
      ASSERT_EQ(root, fresh_root(rest)) << "after " << i + 1 << " removals";
    }
  }
  EXPECT_EQ(root, StateTree::empty_root());

  // Removing everything in one batch also gives the empty root.
  Changes all;
  for (const auto& [k, v] : model) all[k] = std::nullopt;
  EXPECT_EQ(apply(store, full, all), StateTree::empty_root());
}

TEST(StateTree, MixedBatchEqualsFreshTree) {
  std::mt19937_64 rng(3);
  Model model = random_model(rng, 500);
  MapStore store;
  Hash256 root = apply(store, StateTree::empty_root(), Changes(model.begin(), model.end()));
  for (int round = 0; round < 20; ++round) {
    Changes c;
    for (const auto& [k, v] : model) {
      switch (rng() % 8) {
        case 0:
          c[k] = std::nullopt;
          break;
        case 1:
          c[k] = random_hash(rng);
          break;
        default:
          break;
      }
    }
    for (int i = 0; i < 30; ++i) c[random_hash(rng)] = random_hash(rng);
    for (int i = 0; i < 10; ++i) c[random_hash(rng)] = std::nullopt;  // absent: no-ops
    for (const auto& [k, v] : c) {
      if (v)
        model[k] = *v;
      else
        model.erase(k);
    }
    root = apply(store, root, c);
    ASSERT_EQ(root, fresh_root(model)) << "round " << round;
  }
}

TEST(StateTree, EdgeKeysAndDeepCollapses) {
  // Keys that split at bit 0, bit 255 and everything between, including a
  // chain where each key hangs off the previous one's path.
  std::vector<Hash256> keys = {key_with_bits({}), key_with_bits({255}), key_with_bits({254}),
                               key_with_bits({254, 255}), key_with_bits({0})};
  Hash256 ones;
  ones.bytes.fill(0xFF);
  keys.push_back(ones);
  for (int b = 1; b < 255; b += 7) keys.push_back(key_with_bits({b, 200}));
  Model model;
  for (size_t i = 0; i < keys.size(); ++i) model[keys[i]] = value_of(i);

  MapStore store;
  std::mt19937_64 rng(4);
  for (int trial = 0; trial < 10; ++trial) {
    std::shuffle(keys.begin(), keys.end(), rng);
    Hash256 root = StateTree::empty_root();
    Model built;
    for (const Hash256& k : keys) {
      root = apply(store, root, {{k, model[k]}});
      built[k] = model[k];
      ASSERT_EQ(root, fresh_root(built));
    }
    std::shuffle(keys.begin(), keys.end(), rng);
    for (const Hash256& k : keys) {
      root = apply(store, root, {{k, std::nullopt}});
      built.erase(k);
      ASSERT_EQ(root, fresh_root(built));
      for (const auto& [bk, bv] : built) ASSERT_EQ(get_ok(store, root, bk), bv);
      ASSERT_EQ(get_ok(store, root, k), std::nullopt);
    }
    EXPECT_EQ(root, StateTree::empty_root());
  }
}

TEST(StateTree, OverwriteChangesRootSameValueKeepsIt) {
  std::mt19937_64 rng(5);
  const Model model = random_model(rng, 100);
  MapStore store;
  const Hash256 root = apply(store, StateTree::empty_root(), Changes(model.begin(), model.end()));
  const auto& [key, value] = *std::next(model.begin(), 42);

  const Hash256 changed = apply(store, root, {{key, value_of(99)}});
  EXPECT_NE(changed, root);
  EXPECT_EQ(get_ok(store, changed, key), value_of(99));

  WriteBatch batch;
  auto same = StateTree(store).update(root, {{key, value}}, batch);
  ASSERT_TRUE(same.ok());
  EXPECT_EQ(*same, root);
  EXPECT_EQ(batch.size(), 0u) << "an unchanged tree writes no nodes";

  auto absent = StateTree(store).update(root, {{random_hash(rng), std::nullopt}}, batch);
  ASSERT_TRUE(absent.ok());
  EXPECT_EQ(*absent, root);
  EXPECT_EQ(batch.size(), 0u) << "removing an absent key writes no nodes";

  auto nothing = StateTree(store).update(root, {}, batch);
  ASSERT_TRUE(nothing.ok());
  EXPECT_EQ(*nothing, root);
}

TEST(StateTree, OldRootsStayReadable) {
  std::mt19937_64 rng(6);
  Model model = random_model(rng, 200);
  MapStore store;
  std::vector<std::pair<Hash256, Model>> history;
  Hash256 root = apply(store, StateTree::empty_root(), Changes(model.begin(), model.end()));
  history.push_back({root, model});
  for (int round = 0; round < 10; ++round) {
    Changes c;
    for (const auto& [k, v] : model)
      if (rng() % 5 == 0) c[k] = (rng() % 2) ? std::optional(random_hash(rng)) : std::nullopt;
    c[random_hash(rng)] = random_hash(rng);
    for (const auto& [k, v] : c)
      if (v)
        model[k] = *v;
      else
        model.erase(k);
    root = apply(store, root, c);
    history.push_back({root, model});
  }
  for (const auto& [old_root, old_model] : history) {
    for (const auto& [k, v] : old_model) ASSERT_EQ(get_ok(store, old_root, k), v);
    for (const auto& [k, v] : model)
      if (!old_model.count(k)) {
        ASSERT_EQ(get_ok(store, old_root, k), std::nullopt);
      }
  }
}

// ---------------------------------------------------------------------------
// Proofs

TEST(StateTree, InclusionAndExclusionProofsVerify) {
  std::mt19937_64 rng(7);
  const Model model = random_model(rng, 200);
  MapStore store;
  const Hash256 root = apply(store, StateTree::empty_root(), Changes(model.begin(), model.end()));
  size_t max_steps = 0;
  for (const auto& [k, v] : model) {
    TreeProof p = prove_ok(store, root, k);
    ASSERT_TRUE(p.leaf.has_value());
    EXPECT_EQ(p.leaf->first, k);
    EXPECT_TRUE(verify_proof(root, k, v, p));
    EXPECT_FALSE(verify_proof(root, k, value_of(1), p)) << "wrong value";
    EXPECT_FALSE(verify_proof(root, k, std::nullopt, p)) << "a present key claimed absent";
    max_steps = std::max(max_steps, p.steps.size());
  }
  EXPECT_LE(max_steps, 30u);
  for (int i = 0; i < 200; ++i) {
    const Hash256 k = random_hash(rng);
    TreeProof p = prove_ok(store, root, k);
    ASSERT_TRUE(p.leaf.has_value());
    EXPECT_NE(p.leaf->first, k);
    EXPECT_TRUE(model.count(p.leaf->first)) << "the terminal leaf is a real key";
    EXPECT_TRUE(verify_proof(root, k, std::nullopt, p));
    EXPECT_FALSE(verify_proof(root, k, p.leaf->second, p)) << "an absent key claimed present";
    EXPECT_FALSE(verify_proof(StateTree::empty_root(), k, std::nullopt, p));
  }
  // A single-leaf tree: the exclusion proof is the lone leaf and no steps.
  MapStore one;
  const Hash256 single = apply(one, StateTree::empty_root(), {{value_of(1), value_of(2)}});
  TreeProof p = prove_ok(one, single, value_of(3));
  EXPECT_TRUE(p.steps.empty());
  EXPECT_TRUE(verify_proof(single, value_of(3), std::nullopt, p));
  EXPECT_FALSE(verify_proof(single, value_of(1), std::nullopt, p));
}

TEST(StateTree, NoProofOfAnotherKeyShowsAPresentKeyAbsent) {
  // Every proof the tree can produce (for every present key and for many
  // absent keys) is tried as an exclusion proof of every present key.
  std::mt19937_64 rng(8);
  const Model model = random_model(rng, 64);
  MapStore store;
  const Hash256 root = apply(store, StateTree::empty_root(), Changes(model.begin(), model.end()));
  std::vector<std::pair<Hash256, TreeProof>> proofs;
  for (const auto& [k, v] : model) proofs.push_back({k, prove_ok(store, root, k)});
  for (int i = 0; i < 64; ++i) {
    Hash256 k = random_hash(rng);
    proofs.push_back({k, prove_ok(store, root, k)});
  }
  int checked = 0;
  for (const auto& [a, va] : model) {
    for (const auto& [b, proof] : proofs) {
      EXPECT_FALSE(verify_proof(root, a, std::nullopt, proof));
      // (The proof of an absent key whose search ends at a's leaf is a's
      // inclusion proof, rightly; a present key's proof never is.)
      if (b != a && model.count(b)) {
        EXPECT_FALSE(verify_proof(root, a, va, proof)) << "b's proof shows a's value";
        EXPECT_FALSE(verify_proof(root, b, va, proof)) << "b's proof shows a's value for b";
      }
      if (!model.count(b) && proof.leaf->first != a) {
        EXPECT_FALSE(verify_proof(root, a, va, proof));
      }
      ++checked;
    }
  }
  EXPECT_EQ(checked, 64 * 128);
}

TEST(StateTree, ForgedExclusionFromANeighbourIsRejected) {
  // Two keys under one split at bit 255: each one's inclusion proof hashes to
  // the root, so only the direction check stops it from "proving" the other
  // absent.
  MapStore store;
  const Hash256 a = key_with_bits({3}), b = key_with_bits({3, 255}), c = key_with_bits({1});
  const Hash256 root =
      apply(store, StateTree::empty_root(), {{a, value_of(1)}, {b, value_of(2)}, {c, value_of(3)}});
  TreeProof pb = prove_ok(store, root, b);
  ASSERT_EQ(pb.steps.size(), 2u);
  EXPECT_EQ(pb.steps[1].bit, 255);
  EXPECT_TRUE(verify_proof(root, b, value_of(2), pb));
  EXPECT_FALSE(verify_proof(root, a, std::nullopt, pb));

  // Flip the last direction so it "follows" a's bit: the hash no longer matches.
  TreeProof flipped = pb;
  flipped.steps[1].went_right = false;
  EXPECT_FALSE(verify_proof(root, a, std::nullopt, flipped));

  // Drop the last step and present the sibling pair as if b were directly
  // under the root: wrong hash.
  TreeProof shortened = pb;
  shortened.steps.pop_back();
  EXPECT_FALSE(verify_proof(root, a, std::nullopt, shortened));
  EXPECT_FALSE(verify_proof(root, b, value_of(2), shortened));

  // A root over a non-canonical shape (split 20 above split 9) whose hashes
  // do chain: the verifier refuses the proof on its own.
  const Hash256 x = key_with_bits({5, 20}), y = key_with_bits({5, 9, 20}), z = key_with_bits({});
  const Hash256 inner = ref_internal(9, ref_leaf(x, value_of(1)), ref_leaf(y, value_of(2)));
  const Hash256 bad_root = ref_internal(20, ref_leaf(z, value_of(3)), inner);
  TreeProof bad;
  bad.steps = {{20, true, ref_leaf(z, value_of(3))}, {9, true, ref_leaf(x, value_of(1))}};
  bad.leaf = std::make_pair(y, value_of(2));
  ASSERT_EQ(ref_internal(20, bad.steps[0].sibling,
                         ref_internal(9, bad.steps[1].sibling, ref_leaf(y, value_of(2)))),
            bad_root)
      << "the hashes chain, so only the order check can refuse";
  EXPECT_FALSE(verify_proof(bad_root, y, value_of(2), bad));
  EXPECT_FALSE(verify_proof(bad_root, key_with_bits({5, 9, 20, 100}), std::nullopt, bad));
  // The same steps in a canonical order (split 9 above split 20) pass.
  const Hash256 x2 = key_with_bits({9}), y2 = key_with_bits({9, 20});
  const Hash256 good_root =
      ref_internal(9, ref_leaf(z, value_of(3)),
                   ref_internal(20, ref_leaf(x2, value_of(1)), ref_leaf(y2, value_of(2))));
  TreeProof good;
  good.steps = {{9, true, ref_leaf(z, value_of(3))}, {20, true, ref_leaf(x2, value_of(1))}};
  good.leaf = std::make_pair(y2, value_of(2));
  EXPECT_TRUE(verify_proof(good_root, y2, value_of(2), good));
  // A leaf on the wrong side of a split is refused even if the hashes chain
  // (here: x2, whose bit 9 is 1, placed on the left of split 9).
  TreeProof wrong_side;
  wrong_side.steps = {{9, false, ref_leaf(z, value_of(3))}};
  wrong_side.leaf = std::make_pair(x2, value_of(1));
  const Hash256 swapped_root = ref_internal(9, ref_leaf(x2, value_of(1)), ref_leaf(z, value_of(3)));
  EXPECT_FALSE(verify_proof(swapped_root, key_with_bits({}), std::nullopt, wrong_side));
  EXPECT_FALSE(verify_proof(swapped_root, key_with_bits({7}), std::nullopt, wrong_side));
  EXPECT_FALSE(verify_proof(swapped_root, x2, value_of(1), wrong_side));
}

TEST(StateTree, TamperingWithProofValueOrRootFailsVerification) {
  std::mt19937_64 rng(9);
  const Model model = random_model(rng, 1000);
  MapStore store;
  const Hash256 root = apply(store, StateTree::empty_root(), Changes(model.begin(), model.end()));
  const auto& [key, value] = *std::next(model.begin(), 500);
  const Hash256 absent = random_hash(rng);

  struct Case {
    Hash256 key;
    std::optional<Hash256> value;
  };
  for (const Case& c : {Case{key, value}, Case{absent, std::nullopt}}) {
    TreeProof p = prove_ok(store, root, c.key);
    ASSERT_TRUE(verify_proof(root, c.key, c.value, p));
    const Bytes bytes = p.encode();
    int rejected_by_decode = 0, rejected_by_verify = 0;
    for (size_t i = 0; i < bytes.size(); ++i) {
      for (int bit = 0; bit < 8; ++bit) {
        Bytes t = bytes;
        t[i] ^= static_cast<uint8_t>(1 << bit);
        auto d = TreeProof::decode(t);
        if (!d.ok()) {
          ++rejected_by_decode;
          continue;
        }
        ASSERT_FALSE(verify_proof(root, c.key, c.value, *d)) << "byte " << i << " bit " << bit;
        ++rejected_by_verify;
      }
    }
    EXPECT_EQ(rejected_by_decode + rejected_by_verify, static_cast<int>(bytes.size() * 8));
    EXPECT_GT(rejected_by_verify, 0);
    for (size_t i = 0; i < 32; ++i) {
      Hash256 r = root;
      r.bytes[i] ^= 0x10;
      EXPECT_FALSE(verify_proof(r, c.key, c.value, p));
      if (c.value) {
        Hash256 k = c.key;
        k.bytes[i] ^= 0x10;
        EXPECT_FALSE(verify_proof(root, k, c.value, p)) << "inclusion moved to another key";
        Hash256 v = *c.value;
        v.bytes[i] ^= 0x10;
        EXPECT_FALSE(verify_proof(root, c.key, v, p));
      }
    }
  }
  // Empty-tree proof: any bit flip is rejected too.
  TreeProof empty;
  const Bytes eb = empty.encode();
  for (size_t i = 0; i < eb.size(); ++i)
    for (int bit = 0; bit < 8; ++bit) {
      Bytes t = eb;
      t[i] ^= static_cast<uint8_t>(1 << bit);
      auto d = TreeProof::decode(t);
      EXPECT_FALSE(d.ok() && verify_proof(StateTree::empty_root(), key, std::nullopt, *d));
    }
}

TEST(StateTree, ProofEncodingRoundTripsAndRejectsMalformedInput) {
  std::mt19937_64 rng(10);
  const Model model = random_model(rng, 300);
  MapStore store;
  const Hash256 root = apply(store, StateTree::empty_root(), Changes(model.begin(), model.end()));
  std::vector<TreeProof> proofs = {TreeProof{}, prove_ok(store, root, model.begin()->first),
                                   prove_ok(store, root, random_hash(rng))};
  for (const TreeProof& p : proofs) {
    const Bytes bytes = p.encode();
    EXPECT_EQ(bytes.size(), 1 + 4 + 35 * p.steps.size() + 1 + (p.leaf ? 64 : 0));
    auto d = TreeProof::decode(bytes);
    ASSERT_TRUE(d.ok()) << d.error().message;
    ASSERT_EQ(d->steps.size(), p.steps.size());
    for (size_t i = 0; i < p.steps.size(); ++i) {
      EXPECT_EQ(d->steps[i].bit, p.steps[i].bit);
      EXPECT_EQ(d->steps[i].went_right, p.steps[i].went_right);
      EXPECT_EQ(d->steps[i].sibling, p.steps[i].sibling);
    }
    EXPECT_EQ(d->leaf, p.leaf);
    EXPECT_EQ(d->encode(), bytes);

    for (size_t len = 0; len < bytes.size(); ++len) {
      auto t = TreeProof::decode(std::span<const uint8_t>(bytes.data(), len));
      ASSERT_FALSE(t.ok()) << "truncated to " << len;
      EXPECT_LE(t.error().offset, len);
      EXPECT_NE(t.error().message.find("tree proof"), std::string::npos);
      EXPECT_NE(t.error().message.find("truncated"), std::string::npos) << t.error().message;
    }
    Bytes trailing = bytes;
    trailing.push_back(0);
    auto t = TreeProof::decode(trailing);
    ASSERT_FALSE(t.ok());
    EXPECT_EQ(t.error().offset, bytes.size());
    EXPECT_NE(t.error().message.find("trailing"), std::string::npos) << t.error().message;
  }

  const Bytes good = proofs[1].encode();
  ASSERT_GE(proofs[1].steps.size(), 1u);
  auto expect_error = [](Bytes b, uint64_t offset, const char* words) {
    auto d = TreeProof::decode(b);
    ASSERT_FALSE(d.ok());
    EXPECT_EQ(d.error().offset, offset) << d.error().message;
    EXPECT_NE(d.error().message.find(words), std::string::npos) << d.error().message;
  };
  Bytes b = good;
  b[0] = 2;
  expect_error(b, 0, "format");
  b = good;
  b[1] = 0x01;  // step count 2^24 + n
  expect_error(b, 1, "step count");
  b = good;
  b[5] = 0x01;  // first step's bit = 256 + ...
  expect_error(b, 5, "out of range");
  b = good;
  b[7] = 2;  // first step's direction
  expect_error(b, 7, "direction");
  b = good;
  b[5 + 35 * proofs[1].steps.size()] = 2;  // leaf flag
  expect_error(b, 5 + 35 * proofs[1].steps.size(), "leaf flag");
}

// ---------------------------------------------------------------------------
// Corruption

TEST(StateTree, MissingOrDamagedNodesAreErrorsNamingTheNode) {
  std::mt19937_64 rng(11);
  const Model model = random_model(rng, 50);
  MapStore store;
  const Hash256 root = apply(store, StateTree::empty_root(), Changes(model.begin(), model.end()));
  const Hash256 key = std::next(model.begin(), 20)->first;

  // Every node on the key's path: the root, the internal nodes, the leaf.
  std::vector<Hash256> path = {root};
  {
    TreeProof p = prove_ok(store, root, key);
    Hash256 h = ref_leaf(p.leaf->first, p.leaf->second);
    std::vector<Hash256> up = {h};
    for (auto it = p.steps.rbegin(); it != p.steps.rend(); ++it) {
      h = it->went_right ? ref_internal(it->bit, it->sibling, h)
                         : ref_internal(it->bit, h, it->sibling);
      up.push_back(h);
    }
    ASSERT_EQ(up.back(), root);
    path.assign(up.rbegin(), up.rend());
  }
  ASSERT_GE(path.size(), 3u);

  auto expect_fail = [&](const MapStore& s, const Hash256& named, const char* words) {
    StateTree tree(s);
    WriteBatch batch;
    auto g = tree.get(root, key);
    auto p = tree.prove(root, key);
    auto u = tree.update(root, {{key, value_of(5)}}, batch);
    auto d = tree.update(root, {{key, std::nullopt}}, batch);
    for (const std::string& msg :
         {g.ok() ? std::string() : g.error().message, p.ok() ? std::string() : p.error().message,
          u.ok() ? std::string() : u.error().message, d.ok() ? std::string() : d.error().message}) {
      ASSERT_FALSE(msg.empty()) << "an operation succeeded on a damaged store";
      EXPECT_NE(msg.find(named.hex()), std::string::npos) << msg;
      EXPECT_NE(msg.find(words), std::string::npos) << msg;
    }
  };
  for (const Hash256& h : path) {
    MapStore missing = store;
    missing.erase(Column::Tree, raw(h));
    expect_fail(missing, h, "missing");

    MapStore damaged = store;
    auto v = store.get(Column::Tree, raw(h));
    ASSERT_TRUE(v.ok() && v->has_value());
    std::string bad = **v;
    bad[bad.size() - 1] ^= 1;
    damaged.set(Column::Tree, raw(h), bad);
    expect_fail(damaged, h, "hash");
  }
  // An unknown root is an error even for an empty change set.
  const Hash256 unknown = random_hash(rng);
  WriteBatch batch;
  auto u = StateTree(store).update(unknown, {}, batch);
  ASSERT_FALSE(u.ok());
  EXPECT_NE(u.error().message.find(unknown.hex()), std::string::npos);
  auto g = StateTree(store).get(unknown, key);
  ASSERT_FALSE(g.ok());

  // Nodes that hash correctly but break the split-order invariant.
  MapStore odd;
  const Hash256 x = key_with_bits({5, 20}), y = key_with_bits({5, 9, 20}), z = key_with_bits({});
  auto put = [&](const std::vector<uint8_t>& enc) {
    Hash256 h = ref_sha256(enc);
    odd.set(Column::Tree, raw(h), std::string(enc.begin(), enc.end()));
    return h;
  };
  auto leaf = [&](const Hash256& k, const Hash256& v) {
    std::vector<uint8_t> e{0};
    append(e, k);
    append(e, v);
    return put(e);
  };
  auto internal = [&](uint8_t bit, const Hash256& l, const Hash256& r) {
    std::vector<uint8_t> e{1, 0, bit};
    append(e, l);
    append(e, r);
    return put(e);
  };
  const Hash256 inner = internal(9, leaf(x, value_of(1)), leaf(y, value_of(2)));
  const Hash256 bad_root = internal(20, leaf(z, value_of(3)), inner);
  StateTree tree(odd);
  auto bg = tree.get(bad_root, y);
  ASSERT_FALSE(bg.ok());
  EXPECT_NE(bg.error().message.find("does not exceed"), std::string::npos) << bg.error().message;
  auto bu = tree.update(bad_root, {{y, std::nullopt}}, batch);
  ASSERT_FALSE(bu.ok());
  EXPECT_NE(bu.error().message.find(inner.hex()), std::string::npos) << bu.error().message;
}

// ---------------------------------------------------------------------------
// Randomized model check

TEST(StateTree, RandomOperationsMatchAMapModel) {
  std::mt19937_64 rng(12);
  // A pool with random keys and clustered keys (long shared prefixes).
  std::vector<Hash256> pool;
  for (int i = 0; i < 150; ++i) pool.push_back(random_hash(rng));
  const Hash256 base = random_hash(rng);
  for (int i = 0; i < 100; ++i) {
    Hash256 k = base;
    k.bytes[31] = static_cast<uint8_t>(i);
    k.bytes[30] ^= static_cast<uint8_t>(i % 3);
    pool.push_back(k);
  }
  MapStore store;
  Model model;
  Hash256 root = StateTree::empty_root();
  int ops = 0, batches = 0, proofs_checked = 0;
  while (ops < 2000) {
    Changes c;
    const int n = 1 + static_cast<int>(rng() % 25);
    for (int i = 0; i < n; ++i) {
      const Hash256& k = pool[rng() % pool.size()];
      c[k] = (rng() % 3 == 0) ? std::nullopt : std::optional(random_hash(rng));
    }
    ops += static_cast<int>(c.size());
    for (const auto& [k, v] : c)
      if (v)
        model[k] = *v;
      else
        model.erase(k);
    root = apply(store, root, c);
    ++batches;

    for (const Hash256& k : pool) {
      auto it = model.find(k);
      ASSERT_EQ(get_ok(store, root, k),
                it == model.end() ? std::nullopt : std::optional(it->second));
    }
    for (int i = 0; i < 8; ++i) {
      const Hash256 k = (i == 7) ? random_hash(rng) : pool[rng() % pool.size()];
      auto it = model.find(k);
      const std::optional<Hash256> v = it == model.end() ? std::nullopt : std::optional(it->second);
      auto decoded = TreeProof::decode(prove_ok(store, root, k).encode());
      ASSERT_TRUE(decoded.ok());
      ASSERT_TRUE(verify_proof(root, k, v, *decoded));
      ASSERT_FALSE(verify_proof(root, k, v ? std::nullopt : std::optional(value_of(0)), *decoded));
      ++proofs_checked;
    }
    if (batches % 10 == 0) {
      ASSERT_EQ(root, fresh_root(model)) << "after batch " << batches;
    }
  }
  EXPECT_EQ(root, fresh_root(model));
  EXPECT_GT(proofs_checked, 100);
}

// The chain's pattern: many roots in a row from pending nodes, each update
// forgetting the pending nodes it replaced, the head persisted now and then.
// Every root must read exactly like the model (through the pending nodes),
// equal the fresh tree of the model, and, once persisted, read from the
// store alone; forgetting must never lose a node the head still holds.
TEST(StateTree, PendingRootsForgetWhatTheyReplaceAndPersistWhole) {
  std::mt19937_64 rng(21);
  std::vector<Hash256> pool;
  for (int i = 0; i < 400; ++i) pool.push_back(random_hash(rng));
  const Hash256 base = random_hash(rng);
  for (int i = 0; i < 120; ++i) {  // clustered: long shared prefixes, deep collapses
    Hash256 k = base;
    k.bytes[31] = static_cast<uint8_t>(i);
    k.bytes[29] ^= static_cast<uint8_t>(i % 5);
    pool.push_back(k);
  }
  MapStore store;
  StateTree tree(store, 64);  // a tiny read cache: reads hit pending nodes or the store
  Model model;
  Hash256 root = StateTree::empty_root();
  size_t forgotten = 0, peak_pending = 0;
  for (int block = 1; block <= 120; ++block) {
    Changes c;
    const int n = 1 + static_cast<int>(rng() % 60);
    for (int i = 0; i < n; ++i) {
      const Hash256& k = pool[rng() % pool.size()];
      // Deletes, new values, and values put back as they were before.
      const uint64_t r = rng() % 6;
      c[k] = r == 0 ? std::nullopt : std::optional(r == 1 ? value_of(7) : random_hash(rng));
    }
    for (const auto& [k, v] : c)
      if (v)
        model[k] = *v;
      else
        model.erase(k);
    std::vector<Hash256> replaced;
    auto next = tree.update(root, c, &replaced);
    ASSERT_TRUE(next.ok()) << "block " << block << ": " << next.error().to_string();
    root = *next;
    const size_t before = tree.pending();
    tree.forget_pending(replaced);
    forgotten += before - tree.pending();
    peak_pending = std::max(peak_pending, tree.pending());
    for (const Hash256& k : pool) {
      auto got = tree.get(root, k);
      ASSERT_TRUE(got.ok()) << "block " << block << ": " << got.error().to_string();
      auto it = model.find(k);
      ASSERT_EQ(*got, it == model.end() ? std::nullopt : std::optional(it->second))
          << "block " << block;
    }
    ASSERT_EQ(root, fresh_root(model)) << "block " << block;
    if (block % 17 == 0) {  // persist the head: the store alone then reads it
      WriteBatch batch;
      tree.persist(root, batch);
      ASSERT_TRUE(store.write(batch, false).ok);
      tree.drop_pending();
      for (const Hash256& k : pool) {
        auto it = model.find(k);
        ASSERT_EQ(get_ok(store, root, k),
                  it == model.end() ? std::nullopt : std::optional(it->second))
            << "block " << block;
      }
    }
  }
  // Forgetting did its job: the pending set stayed near the size of one tree.
  EXPECT_GT(forgotten, 0u);
  EXPECT_LT(peak_pending, 4 * pool.size());
}

// ---------------------------------------------------------------------------
// Cost

TEST(StateTree, SingleKeyUpdateTouchesLogarithmicallyManyNodes) {
  std::mt19937_64 rng(13);
  const Model model = random_model(rng, 100000);
  MapStore store;
  const Hash256 root = apply(store, StateTree::empty_root(), Changes(model.begin(), model.end()));
  std::vector<Hash256> keys;
  for (const auto& [k, v] : model) keys.push_back(k);

  size_t max_written = 0, total_written = 0;
  uint64_t max_reads = 0, total_reads = 0;
  double total_ns = 0;
  const int kUpdates = 300;
  for (int i = 0; i < kUpdates; ++i) {
    Changes c;
    switch (i % 3) {
      case 0:
        c[random_hash(rng)] = random_hash(rng);
        break;  // insert
      case 1:
        c[keys[rng() % keys.size()]] = random_hash(rng);
        break;  // overwrite
      default:
        c[keys[rng() % keys.size()]] = std::nullopt;
        break;  // remove
    }
    WriteBatch batch;
    store.reads = 0;
    auto t0 = std::chrono::steady_clock::now();
    auto r = StateTree(store).update(root, c, batch);
    total_ns +=
        std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count();
    ASSERT_TRUE(r.ok());
    max_written = std::max(max_written, batch.size());
    total_written += batch.size();
    max_reads = std::max(max_reads, store.reads);
    total_reads += store.reads;
  }
  std::printf(
      "[ cost     ] 100k keys, single-key update: nodes written mean %.1f max %zu, "
      "node reads mean %.1f max %llu, %.1f us/update\n",
      static_cast<double>(total_written) / kUpdates, max_written,
      static_cast<double>(total_reads) / kUpdates, static_cast<unsigned long long>(max_reads),
      total_ns / kUpdates / 1000);
  EXPECT_LE(max_written, 64u);
  EXPECT_LE(max_reads, 64u);
  // log2(100000) ~ 16.6: the mean path of a random Patricia tree is close to it.
  EXPECT_LE(static_cast<double>(total_written) / kUpdates, 2 * 17.0 + 2);
}

}  // namespace
}  // namespace writ::runtime
