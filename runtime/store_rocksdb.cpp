// The RocksDB store: one column family per Column, one atomic WriteBatch per
// write(), fsync'd when asked (the chain asks at every block commit).
// Tuned for what the chain does: point reads (Bloom filters), random
// hash keys written in batches (sorted before insertion), incompressible
// values (no compression for them).
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <algorithm>

#include "writ/runtime/store.hpp"

namespace writ::runtime {
namespace {

Result<std::optional<std::string>> rocks_get(rocksdb::DB* db, const rocksdb::ReadOptions& ro,
                                             rocksdb::ColumnFamilyHandle* h, Column c,
                                             std::string_view key) {
  std::string value;
  rocksdb::Status s = db->Get(ro, h, rocksdb::Slice(key.data(), key.size()), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok())
    return vm::error_at(0, std::string("rocksdb get from ") + column_name(c) + ": " + s.ToString());
  return std::optional<std::string>(std::move(value));
}

Result<std::vector<std::pair<std::string, std::string>>> rocks_scan(
    rocksdb::DB* db, const rocksdb::ReadOptions& ro, rocksdb::ColumnFamilyHandle* h) {
  std::vector<std::pair<std::string, std::string>> out;
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro, h));
  for (it->SeekToFirst(); it->Valid(); it->Next())
    out.emplace_back(it->key().ToString(), it->value().ToString());
  if (!it->status().ok()) return vm::error_at(0, "rocksdb scan: " + it->status().ToString());
  return out;
}

// A RocksDB snapshot: reads see the database as of GetSnapshot().
class RocksSnapshot final : public StoreReader {
 public:
  RocksSnapshot(rocksdb::DB* db, const std::vector<rocksdb::ColumnFamilyHandle*>& handles)
      : db_(db), handles_(handles), snap_(db->GetSnapshot()) {}
  ~RocksSnapshot() override { db_->ReleaseSnapshot(snap_); }

  Result<std::optional<std::string>> get(Column c, std::string_view key) const override {
    rocksdb::ReadOptions ro;
    ro.snapshot = snap_;
    return rocks_get(db_, ro, handles_[static_cast<size_t>(c)], c, key);
  }
  Result<std::vector<std::pair<std::string, std::string>>> scan(Column c) const override {
    rocksdb::ReadOptions ro;
    ro.snapshot = snap_;
    return rocks_scan(db_, ro, handles_[static_cast<size_t>(c)]);
  }

 private:
  rocksdb::DB* const db_;
  const std::vector<rocksdb::ColumnFamilyHandle*>& handles_;  // the store's, which outlives this
  const rocksdb::Snapshot* const snap_;
};

class RocksStore final : public Store {
 public:
  RocksStore(rocksdb::DB* db, std::vector<rocksdb::ColumnFamilyHandle*> handles)
      : db_(db), handles_(std::move(handles)) {}

  ~RocksStore() override {
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
    delete db_;
  }

  Result<std::optional<std::string>> get(Column c, std::string_view key) const override {
    return rocks_get(db_, rocksdb::ReadOptions(), handles_[static_cast<size_t>(c)], c, key);
  }

  std::unique_ptr<const StoreReader> snapshot() const override {
    return std::make_unique<RocksSnapshot>(db_, handles_);
  }

  Status write(const WriteBatch& batch, bool sync) override {
    // The operations go in in (column, key) order: a memtable skiplist
    // insert starts from where the previous one ended, so sorted inserts
    // skip much of the search that random keys (hashes) would pay. Ties
    // break on the position in the batch, so two operations on one key keep
    // their order (the later wins, as in the batch). std::sort with that
    // total order, rather than std::stable_sort: no temporary buffer (whose
    // nothrow allocation AddressSanitizer misreports as a mismatched free).
    const std::vector<WriteBatch::Op> ops = batch.ops();
    std::vector<uint32_t> order(ops.size());
    for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](uint32_t a, uint32_t b) {
      if (ops[a].column != ops[b].column) return ops[a].column < ops[b].column;
      if (int c = ops[a].key.compare(ops[b].key); c != 0) return c < 0;
      return a < b;
    });
    // Room for every record and its framing up front (no regrowth).
    rocksdb::WriteBatch wb(batch.bytes() + 16 * ops.size() + 64);
    for (uint32_t i : order) {
      const WriteBatch::Op& op = ops[i];
      auto* h = handles_[static_cast<size_t>(op.column)];
      const rocksdb::Slice key(op.key.data(), op.key.size());
      rocksdb::Status s = op.value
                              ? wb.Put(h, key, rocksdb::Slice(op.value->data(), op.value->size()))
                              : wb.Delete(h, key);
      if (!s.ok()) return Status::failure("rocksdb batch: " + s.ToString());
    }
    rocksdb::WriteOptions wo;
    wo.sync = sync;
    rocksdb::Status s = db_->Write(wo, &wb);
    if (!s.ok()) return Status::failure("rocksdb write: " + s.ToString());
    return Status::success();
  }

  Result<std::vector<std::pair<std::string, std::string>>> scan(Column c) const override {
    return rocks_scan(db_, rocksdb::ReadOptions(), handles_[static_cast<size_t>(c)]);
  }

 private:
  rocksdb::DB* db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
};

}  // namespace

Result<std::unique_ptr<Store>> open_rocksdb_store(const std::string& path) {
  rocksdb::DBOptions opts;
  opts.create_if_missing = true;
  opts.create_missing_column_families = true;
  opts.paranoid_checks = true;
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  cfs.emplace_back(rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions());
  for (int i = 0; i < kColumnCount; ++i) {
    const auto c = static_cast<Column>(i);
    rocksdb::ColumnFamilyOptions co;
    // Point reads are the chain's only reads on the hot path: a Bloom filter
    // per table file lets a read of an absent key (a fresh account, an
    // empty slot) skip the files that cannot hold it.
    rocksdb::BlockBasedTableOptions table;
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    co.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
    // Hashes, signatures and 256-bit words do not compress: compressing
    // them in every flush and compaction would only burn CPU that signature
    // checks need. Code and metadata keep the default.
    if (c != Column::Code && c != Column::Meta) co.compression = rocksdb::kNoCompression;
    cfs.emplace_back(column_name(c), co);
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(opts, path, cfs, &handles, &db);
  if (!s.ok()) return vm::error_at(0, "cannot open database at " + path + ": " + s.ToString());
  // handles[0] is the default family, unused; keep ours in Column order.
  db->DestroyColumnFamilyHandle(handles[0]);
  handles.erase(handles.begin());
  return std::unique_ptr<Store>(new RocksStore(db, std::move(handles)));
}

}  // namespace writ::runtime
