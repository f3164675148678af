// The store: the key-value database under the chain state. Two
// implementations: in memory (tests) and RocksDB (real use).
//
// Contract:
//   1. write() applies a batch atomically: after a crash either every
//      operation of a batch is visible or none is;
//   2. with sync = true, write() returns only once the batch is durable;
//   3. get() sees every batch that write() has returned for;
//   4. keys and values are arbitrary bytes; columns are separate key spaces
//      (RocksDB column families).
// Thread-safety: get() may run concurrently with get(); write() is called by
// one thread at a time.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "writ/runtime/types.hpp"

namespace writ::runtime {

enum class Column : uint8_t {
  Meta = 0,  // chain metadata: head block, genesis, versions
  Accounts,  // address -> account record
  Storage,   // address || slot -> value
  Code,      // code hash -> module bytes
  Tree,      // state tree nodes
  Blocks,    // height -> block header and transaction list
  Receipts,  // tx hash -> receipt
  TxIndex,   // tx hash -> (height, index)
};
inline constexpr int kColumnCount = 8;
const char* column_name(Column c);

class WriteBatch {
 public:
  struct Op {
    Column column;
    std::string key;
    std::optional<std::string> value;  // nullopt: delete
  };
  void put(Column c, std::string key, std::string value) {
    ops_.push_back({c, std::move(key), std::move(value)});
  }
  void del(Column c, std::string key) { ops_.push_back({c, std::move(key), std::nullopt}); }
  const std::vector<Op>& ops() const { return ops_; }
  size_t size() const { return ops_.size(); }
  void clear() { ops_.clear(); }

 private:
  std::vector<Op> ops_;
};

class Store {
 public:
  virtual ~Store() = default;
  // nullopt when absent; an error only for I/O or corruption.
  virtual Result<std::optional<std::string>> get(Column c, std::string_view key) const = 0;
  virtual Status write(const WriteBatch& batch, bool sync) = 0;
  // Every (key, value) of a column in key order (for tools and tests).
  virtual Result<std::vector<std::pair<std::string, std::string>>> scan(Column c) const = 0;
};

std::unique_ptr<Store> open_memory_store();
// Opens (creating if needed) a RocksDB database at `path`. Errors name the
// path and RocksDB's reason (missing permissions, a locked database, ...).
Result<std::unique_ptr<Store>> open_rocksdb_store(const std::string& path);

}  // namespace writ::runtime
