// The in-memory store: one ordered map per column. Used by fast tests; it
// keeps the same contract as the RocksDB store (batches apply atomically).
#include <array>
#include <map>
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

class MemoryStore final : public Store {
 public:
  Result<std::optional<std::string>> get(Column c, std::string_view key) const override {
    std::shared_lock lock(mu_);
    const auto& m = cols_[static_cast<size_t>(c)];
    auto it = m.find(std::string(key));
    if (it == m.end()) return std::optional<std::string>();
    return std::optional<std::string>(it->second);
  }

  Status write(const WriteBatch& batch, bool) override {
    std::unique_lock lock(mu_);
    for (const auto& op : batch.ops()) {
      auto& m = cols_[static_cast<size_t>(op.column)];
      if (op.value)
        m[std::string(op.key)] = std::string(*op.value);
      else
        m.erase(std::string(op.key));
    }
    return Status::success();
  }

  Result<std::vector<std::pair<std::string, std::string>>> scan(Column c) const override {
    std::shared_lock lock(mu_);
    const auto& m = cols_[static_cast<size_t>(c)];
    return std::vector<std::pair<std::string, std::string>>(m.begin(), m.end());
  }

 private:
  mutable std::shared_mutex mu_;
  std::array<std::map<std::string, std::string>, kColumnCount> cols_;
};

}  // namespace

std::unique_ptr<Store> open_memory_store() {
  return std::make_unique<MemoryStore>();
}

}  // namespace writ::runtime
