// A read cache in front of a Store for the columns a block reads most: state
// tree nodes (content-addressed, immutable), accounts, storage and code.
// Writes go to the inner store first and then update the cache, so the cache
// never holds a value the store does not; every write goes through the chain,
// so nothing changes the store behind the cache's back. The cache is dropped
// whole when it grows past its bound.
#include <mutex>
#include <unordered_map>

#include "store_cache.hpp"

namespace writ::runtime {
namespace {

class CachedStore final : public Store {
 public:
  CachedStore(std::unique_ptr<Store> inner, size_t max_entries) : inner_(std::move(inner)), max_(max_entries) {}

  Result<std::optional<std::string>> get(Column c, std::string_view key) const override {
    if (!cached(c)) return inner_->get(c, key);
    std::string k = tag(c, key);
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = map_.find(k);
      if (it != map_.end()) return it->second;
    }
    auto r = inner_->get(c, key);
    if (r.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      if (map_.size() >= max_) map_.clear();
      map_.emplace(std::move(k), r.value());
    }
    return r;
  }

  Status write(const WriteBatch& batch, bool sync) override {
    Status s = inner_->write(batch, sync);
    std::lock_guard<std::mutex> lock(mu_);
    if (!s) {
      map_.clear();  // unknown how much of a failed write landed: trust the store
      return s;
    }
    if (map_.size() + batch.size() >= max_) map_.clear();
    for (const auto& op : batch.ops())
      if (cached(op.column)) map_[tag(op.column, op.key)] = op.value;
    return s;
  }

  Result<std::vector<std::pair<std::string, std::string>>> scan(Column c) const override { return inner_->scan(c); }

 private:
  static bool cached(Column c) {
    return c == Column::Tree || c == Column::Accounts || c == Column::Storage || c == Column::Code;
  }
  static std::string tag(Column c, std::string_view key) {
    std::string k(1, static_cast<char>(c));
    k.append(key);
    return k;
  }

  std::unique_ptr<Store> inner_;
  size_t max_;
  mutable std::mutex mu_;
  mutable std::unordered_map<std::string, std::optional<std::string>> map_;  // lookups only, never iterated
};

}  // namespace

std::unique_ptr<Store> with_read_cache(std::unique_ptr<Store> inner, size_t max_entries) {
  return std::make_unique<CachedStore>(std::move(inner), max_entries);
}

}  // namespace writ::runtime
