// libFuzzer target over state proofs, the bytes a light client or an auditor
// receives: TreeProof::decode, then verify_proof against a real tree.
//
// An input is a claim and a proof:
//   key (32) | claim (1: 0 absent, else present) | value hash (32) | proof bytes
// (an input shorter than 65 bytes is only decoded). For every input:
//   1. decode never crashes; a rejection has a reason and an offset inside
//      (or just past) the proof bytes;
//   2. what decodes re-encodes to the same bytes (one encoding per proof);
//   3. soundness: if verify_proof accepts the claim against the root of the
//      fuzzer's tree, the claim is true in that tree (the key holds that value
//      hash, or is absent). A forged proof that verifies is a finding.
// A broken invariant calls abort(): libFuzzer reports it as a crash.
//
// The tree holds 48 keys whose bytes are small numbers (so that mutations
// reach them and their neighbours). Seeds (fuzz/corpus/proof/) are real
// inclusion and exclusion proofs from it, written by this binary when
// WRIT_FUZZ_PROOF_SEEDS names a directory (fuzz/make_seeds.sh).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "writ/runtime/state_tree.hpp"

namespace {

using namespace writ::runtime;

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "fuzz_proof: invariant broken: %s\n", what.c_str());
  std::abort();
}

Hash256 small(uint8_t a, uint8_t b) {
  Hash256 h;
  h.bytes[0] = a;
  h.bytes[31] = b;
  return h;
}

struct World {
  std::unique_ptr<Store> store = open_memory_store();
  std::map<Hash256, Hash256> truth;  // key -> value hash
  Hash256 root;
  std::unique_ptr<StateTree> tree;
};

const World& world() {
  static const World* w = [] {
    auto* out = new World;
    std::map<Hash256, std::optional<Hash256>> changes;
    for (uint8_t i = 0; i < 48; ++i) {
      // Keys that share long prefixes and keys that split at the first bit.
      const Hash256 key = small(static_cast<uint8_t>(i % 3 == 0 ? 0x80 | i : i), i);
      out->truth[key] = small(0xEE, static_cast<uint8_t>(i + 1));
      changes[key] = out->truth[key];
    }
    WriteBatch batch;
    StateTree tree(*out->store);
    auto root = tree.update(StateTree::empty_root(), changes, batch);
    if (!root.ok() || !out->store->write(batch, false)) fail("the tree does not build");
    out->root = root.value();
    out->tree = std::make_unique<StateTree>(*out->store);
    return out;
  }();
  return *w;
}

void write_seeds(const std::filesystem::path& dir) {
  std::filesystem::create_directories(dir);
  const World& w = world();
  int n = 0;
  auto put = [&](const Hash256& key, const std::optional<Hash256>& value) {
    auto proof = w.tree->prove(w.root, key);
    if (!proof.ok()) fail("prove: " + proof.error().to_string());
    std::string bytes(reinterpret_cast<const char*>(key.bytes.data()), 32);
    bytes.push_back(value ? 1 : 0);
    const Hash256 v = value.value_or(Hash256{});
    bytes.append(reinterpret_cast<const char*>(v.bytes.data()), 32);
    const Bytes p = proof->encode();
    bytes.append(reinterpret_cast<const char*>(p.data()), p.size());
    std::ofstream(dir / ("seed" + std::to_string(n++) + ".proof"), std::ios::binary) << bytes;
  };
  int i = 0;
  for (const auto& [key, value] : w.truth)
    if (i++ % 6 == 0) put(key, value);   // inclusion
  put(small(0x01, 0x00), std::nullopt);  // exclusion: a neighbour
  put(small(0xFF, 0xFF), std::nullopt);  // exclusion: far right
  put(small(0x00, 0x00), std::nullopt);  // exclusion: far left
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (const char* dir = std::getenv("WRIT_FUZZ_PROOF_SEEDS")) {
    write_seeds(dir);
    std::exit(0);
  }
  world();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const bool has_claim = size >= 65;
  const size_t at = has_claim ? 65 : 0;
  const std::span<const uint8_t> proof_bytes(data + at, size - at);

  // 1, 2. Decoding.
  auto decoded = TreeProof::decode(proof_bytes);
  if (!decoded.ok()) {
    if (decoded.error().message.empty()) fail("a rejection without a reason");
    if (decoded.error().offset > proof_bytes.size()) fail("an error offset past the end");
    return 0;
  }
  const Bytes again = decoded->encode();
  if (again.size() != proof_bytes.size() ||
      !std::equal(again.begin(), again.end(), proof_bytes.begin()))
    fail("encode(decode(b)) != b");
  if (!has_claim) return 0;

  // 3. Soundness against the real tree.
  const World& w = world();
  Hash256 key, value;
  std::memcpy(key.bytes.data(), data, 32);
  std::memcpy(value.bytes.data(), data + 33, 32);
  const std::optional<Hash256> claim = data[32] ? std::optional<Hash256>(value) : std::nullopt;
  if (verify_proof(w.root, key, claim, decoded.value())) {
    auto it = w.truth.find(key);
    const std::optional<Hash256> real =
        it == w.truth.end() ? std::nullopt : std::optional<Hash256>(it->second);
    if (real != claim)
      fail("a proof verifies a false claim about key " + key.hex() +
           (claim ? " (claimed present)" : " (claimed absent)"));
  }
  return 0;
}
