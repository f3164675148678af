// The in-memory store: one ordered map per column. Used by fast tests; it
// keeps the same contract as the RocksDB store (batches apply atomically).
#include <array>
#include <map>
#include <memory>
#include <mutex>
#include <shared_mutex>

#include "writ/runtime/store.hpp"

namespace writ::runtime {

const char* column_name(Column c) {
  switch (c) {
    case Column::Meta:
      return "meta";
    case Column::Accounts:
      return "accounts";
    case Column::Storage:
      return "storage";
    case Column::Code:
      return "code";
    case Column::Tree:
      return "tree";
    case Column::Blocks:
      return "blocks";
    case Column::Receipts:
      return "receipts";
    case Column::TreeLog:
      return "tree_log";
  }
  return "?";
}

namespace {

using ColumnMap = std::map<std::string, std::string>;
// Each column's map is shared, copy-on-write: a snapshot holds the maps as
// they were, and a write that would change a map a snapshot still holds
// copies that column first. Without snapshots nothing is ever copied.
using Columns = std::array<std::shared_ptr<ColumnMap>, kColumnCount>;

Result<std::optional<std::string>> get_from(const ColumnMap& m, std::string_view key) {
  auto it = m.find(std::string(key));
  if (it == m.end()) return std::optional<std::string>();
  return std::optional<std::string>(it->second);
}

class MemorySnapshot final : public StoreReader {
 public:
  explicit MemorySnapshot(Columns cols) : cols_(std::move(cols)) {}
  Result<std::optional<std::string>> get(Column c, std::string_view key) const override {
    return get_from(*cols_[static_cast<size_t>(c)], key);
  }
  Result<std::vector<std::pair<std::string, std::string>>> scan(Column c) const override {
    const auto& m = *cols_[static_cast<size_t>(c)];
    return std::vector<std::pair<std::string, std::string>>(m.begin(), m.end());
  }

 private:
  const Columns cols_;  // never written: the store copies a column before writing it
};

class MemoryStore final : public Store {
 public:
  MemoryStore() {
    for (auto& m : cols_) m = std::make_shared<ColumnMap>();
  }

  Result<std::optional<std::string>> get(Column c, std::string_view key) const override {
    std::shared_lock lock(mu_);
    return get_from(*cols_[static_cast<size_t>(c)], key);
  }

  Status write(const WriteBatch& batch, bool) override {
    std::unique_lock lock(mu_);
    std::array<bool, kColumnCount> own{};  // copied (or found unshared) in this write
    for (const auto& op : batch.ops()) {
      auto& col = cols_[static_cast<size_t>(op.column)];
      if (!own[static_cast<size_t>(op.column)]) {
        // Under mu_ no snapshot can take the map, so use_count() can only
        // fall: at 1 nobody else holds it.
        if (col.use_count() > 1) col = std::make_shared<ColumnMap>(*col);
        own[static_cast<size_t>(op.column)] = true;
      }
      if (op.value)
        (*col)[std::string(op.key)] = std::string(*op.value);
      else
        col->erase(std::string(op.key));
    }
    return Status::success();
  }

  Result<std::vector<std::pair<std::string, std::string>>> scan(Column c) const override {
    std::shared_lock lock(mu_);
    const auto& m = *cols_[static_cast<size_t>(c)];
    return std::vector<std::pair<std::string, std::string>>(m.begin(), m.end());
  }

  std::unique_ptr<const StoreReader> snapshot() const override {
    std::shared_lock lock(mu_);
    return std::make_unique<MemorySnapshot>(cols_);
  }

 private:
  mutable std::shared_mutex mu_;
  Columns cols_;
};

}  // namespace

std::unique_ptr<Store> open_memory_store() {
  return std::make_unique<MemoryStore>();
}

}  // namespace writ::runtime
