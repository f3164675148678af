// The RocksDB store: one column family per Column, one atomic WriteBatch per
// write(), fsync'd when asked (the chain asks at every block commit).
#include <rocksdb/db.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>

#include "writ/runtime/store.hpp"

namespace writ::runtime {
namespace {

class RocksStore final : public Store {
 public:
  RocksStore(rocksdb::DB* db, std::vector<rocksdb::ColumnFamilyHandle*> handles)
      : db_(db), handles_(std::move(handles)) {}

  ~RocksStore() override {
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
    delete db_;
  }

  Result<std::optional<std::string>> get(Column c, std::string_view key) const override {
    std::string value;
    rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), handles_[static_cast<size_t>(c)],
                                 rocksdb::Slice(key.data(), key.size()), &value);
    if (s.IsNotFound()) return std::optional<std::string>();
    if (!s.ok())
      return vm::error_at(0,
                          std::string("rocksdb get from ") + column_name(c) + ": " + s.ToString());
    return std::optional<std::string>(std::move(value));
  }

  Status write(const WriteBatch& batch, bool sync) override {
    rocksdb::WriteBatch wb;
    for (const auto& op : batch.ops()) {
      auto* h = handles_[static_cast<size_t>(op.column)];
      rocksdb::Status s = op.value ? wb.Put(h, op.key, *op.value) : wb.Delete(h, op.key);
      if (!s.ok()) return Status::failure("rocksdb batch: " + s.ToString());
    }
    rocksdb::WriteOptions wo;
    wo.sync = sync;
    rocksdb::Status s = db_->Write(wo, &wb);
    if (!s.ok()) return Status::failure("rocksdb write: " + s.ToString());
    return Status::success();
  }

  Result<std::vector<std::pair<std::string, std::string>>> scan(Column c) const override {
    std::vector<std::pair<std::string, std::string>> out;
    std::unique_ptr<rocksdb::Iterator> it(
        db_->NewIterator(rocksdb::ReadOptions(), handles_[static_cast<size_t>(c)]));
    for (it->SeekToFirst(); it->Valid(); it->Next())
      out.emplace_back(it->key().ToString(), it->value().ToString());
    if (!it->status().ok()) return vm::error_at(0, "rocksdb scan: " + it->status().ToString());
    return out;
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
  for (int i = 0; i < kColumnCount; ++i)
    cfs.emplace_back(column_name(static_cast<Column>(i)), rocksdb::ColumnFamilyOptions());
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
