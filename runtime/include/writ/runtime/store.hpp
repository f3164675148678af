// The store: the key-value database under the chain state. Two
// implementations: in memory (tests) and RocksDB (real use).
//
// Contract:
//   1. write() applies a batch atomically: after a crash either every
//      operation of a batch is visible or none is;
//   2. with sync = true, write() returns only once the batch is durable;
//   3. get() sees every batch that write() has returned for;
//   4. keys and values are arbitrary bytes; columns are separate key spaces
//      (RocksDB column families);
//   5. a write that fails (a full disk) changes nothing; the RocksDB store
//      then takes writes again by itself once the cause is gone (each later
//      write() first resumes the database), and serves get() throughout;
//   6. (RocksDB) no write that returned is lost silently: a database that
//      comes back from its files with fewer writes than were acknowledged
//      (a damaged or missing write-ahead log, MANIFEST or CURRENT file) is
//      refused at open with an error naming what was lost, unless the
//      caller accepts the loss explicitly (RocksStoreOptions).
//   7. a snapshot() sees exactly the batches written before it was taken.
// Thread-safety: get() may run concurrently with get(); write() is called by
// one thread at a time; snapshot() and a snapshot's get() may run on any
// thread, concurrently with write().
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "writ/runtime/types.hpp"

namespace rocksdb {
class FileSystem;
}

namespace writ::runtime {

enum class Column : uint8_t {
  Meta = 0,  // chain metadata: head block, genesis, versions
  Accounts,  // address -> account record
  Storage,   // address || slot -> value
  Code,      // code hash -> module bytes
  Tree,      // state tree nodes
  Blocks,    // height -> block header and transaction list
  Receipts,  // tx hash -> receipt (which holds the block height and index)
  TreeLog,   // height -> that block's state tree changes, until the tree is persisted
};
inline constexpr int kColumnCount = 8;
const char* column_name(Column c);

// Operations to apply atomically. Keys and values are copied into one buffer
// (a block's batch holds thousands of small records; one allocation each
// would cost more than the copying).
class WriteBatch {
 public:
  // A view of one operation, valid while the batch is not changed.
  struct Op {
    Column column;
    std::string_view key;
    std::optional<std::string_view> value;  // nullopt: delete
  };
  void put(Column c, std::string_view key, std::string_view value) { add(c, key, value, false); }
  void del(Column c, std::string_view key) { add(c, key, {}, true); }
  size_t size() const { return entries_.size(); }
  size_t bytes() const { return data_.size(); }  // of keys and values
  Op op(size_t i) const {
    const Entry& e = entries_[i];
    Op o{e.column, std::string_view(data_).substr(e.at, e.key_size), std::nullopt};
    if (!e.del) o.value = std::string_view(data_).substr(e.at + e.key_size, e.value_size);
    return o;
  }
  std::vector<Op> ops() const {
    std::vector<Op> out;
    out.reserve(entries_.size());
    for (size_t i = 0; i < entries_.size(); ++i) out.push_back(op(i));
    return out;
  }
  void clear() {
    data_.clear();
    entries_.clear();
  }

 private:
  struct Entry {
    Column column;
    bool del;
    uint32_t key_size;
    uint32_t value_size;
    size_t at;  // offset of the key in data_; the value follows it
  };
  void add(Column c, std::string_view key, std::string_view value, bool del) {
    entries_.push_back({c, del, static_cast<uint32_t>(key.size()),
                        static_cast<uint32_t>(value.size()), data_.size()});
    data_.append(key);
    data_.append(value);
  }
  std::string data_;
  std::vector<Entry> entries_;
};

// The reading half of a store: a live store, or a snapshot of one.
class StoreReader {
 public:
  virtual ~StoreReader() = default;
  // nullopt when absent; an error only for I/O or corruption.
  virtual Result<std::optional<std::string>> get(Column c, std::string_view key) const = 0;
  // Every (key, value) of a column in key order (for tools and tests).
  virtual Result<std::vector<std::pair<std::string, std::string>>> scan(Column c) const = 0;
};

class Store : public StoreReader {
 public:
  virtual Status write(const WriteBatch& batch, bool sync) = 0;
  // A frozen view of the store as of the last write() that returned: later
  // writes are invisible to it, and its get() may run on any thread, at the
  // same time as write(). nullptr when the store cannot take snapshots (the
  // default, for stores that wrap another in tests).
  // REQUIRES: every snapshot is destroyed before its store.
  virtual std::unique_ptr<const StoreReader> snapshot() const { return nullptr; }
  // Called by Chain::open once the chain's own checks have passed. A RocksDB
  // store opened with an accepted loss (RocksStoreOptions::accept_lost_writes)
  // records the acceptance here, not at its own open: an open that the chain
  // then refuses (another chain's genesis) accepts nothing.
  virtual Status confirm_open() { return Status::success(); }
};

std::unique_ptr<Store> open_memory_store();

struct RocksStoreOptions {
  // false: open an existing database; a directory without one (no CURRENT
  // file, or no directory) is an error, never a new empty database.
  // true: create the database if there is none. A directory that holds
  // files but no database (a damaged one) is refused even then.
  bool create = false;
  // Opens a database that recovered fewer writes than its commit record says
  // were acknowledged (or lost its commit record), and resets the record to
  // what was recovered: the operator's deliberate acceptance of a rollback.
  bool accept_lost_writes = false;
  // With accept_lost_writes: if non-null, set to what was accepted ("block 812
  // was committed; the database recovered block 515"), empty if nothing was.
  std::string* accepted_loss = nullptr;
  // Tests: the file system RocksDB writes through (fault injection). Null:
  // the default (POSIX) one.
  std::shared_ptr<rocksdb::FileSystem> file_system = nullptr;
};

// Opens a RocksDB database at `path`. Errors name the path and what is wrong
// (missing permissions, a locked database, no database, a damaged file, lost
// writes).
//
// The commit record: beside RocksDB's own files, `path`/WRIT-COMMITTED holds
// the sequence number of the last synced write() that returned (and the
// chain head height that write recorded, Meta "head"), in two alternating
// checksummed slots, fdatasync'd after the write and before write()
// returns. RocksDB recovers a torn log tail (an unacknowledged write cut by
// a crash) by dropping it, which is right; but it recovers a cut, corrupted
// or deleted log the same way, silently dropping acknowledged writes. Open
// compares what RocksDB recovered with the record and refuses to open below
// it, naming both heights. Cost: one extra fdatasync of a small file per
// synced write (per block, not per transaction).
Result<std::unique_ptr<Store>> open_rocksdb_store(const std::string& path,
                                                  const RocksStoreOptions& options = {});
// The commit record's file name inside the database directory.
inline constexpr const char* kCommitRecordFile = "WRIT-COMMITTED";

}  // namespace writ::runtime
