// The RocksDB store: one column family per Column, one atomic WriteBatch per
// write(), fsync'd when asked (the chain asks at every block commit), and a
// commit record beside the database that catches lost acknowledged writes
// (store.hpp, open_rocksdb_store).
// Tuned for what the chain does: point reads (Bloom filters), random
// hash keys written in batches (sorted before insertion), incompressible
// values (no compression for them).
#include <fcntl.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/file_system.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>
#include <sys/file.h>

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <shared_mutex>
#include <utility>

#include "writ/runtime/store.hpp"

namespace writ::runtime {
namespace {

namespace fs = std::filesystem;

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

// A RocksDB snapshot: reads see the database as of GetSnapshot(). While one
// is alive, `live` counts it, and the store does not close its database (the
// reopen after a failed write waits for the count to fall to zero), so the
// database and handles stay valid for as long as the snapshot.
class RocksSnapshot final : public StoreReader {
 public:
  RocksSnapshot(rocksdb::DB* db, const std::vector<rocksdb::ColumnFamilyHandle*>& handles,
                std::atomic<int>& live)
      : db_(db), handles_(handles), live_(live), snap_(db->GetSnapshot()) {
    live_.fetch_add(1);
  }
  ~RocksSnapshot() override {
    db_->ReleaseSnapshot(snap_);
    live_.fetch_sub(1);
  }

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
  std::atomic<int>& live_;
  const rocksdb::Snapshot* const snap_;
};

// ---- the commit record ---------------------------------------------------------------------
//
// Two 40-byte slots, at offsets 0 and 4096 (different pages and sectors, so a
// torn write of one leaves the other whole):
//   magic "WRITCMT1" (8) | generation (8) | sequence (8) | head + 1 (8, 0: no head)
//   | first 8 bytes of SHA-256 of the 32 bytes before
// all little-endian. Generation g goes to slot g % 2; the valid slot with the
// higher generation is the record. A write tears at most the slot being
// written, whose predecessor (the previous record) stays in the other slot.

constexpr char kRecordMagic[8] = {'W', 'R', 'I', 'T', 'C', 'M', 'T', '1'};
constexpr size_t kSlotSize = 40;
constexpr off_t kSlotOffset[2] = {0, 4096};

struct CommitRecord {
  uint64_t generation = 0;
  uint64_t sequence = 0;         // RocksDB's last sequence number at that write
  std::optional<uint64_t> head;  // the chain head height that write recorded
};

void put_le(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
uint64_t get_le(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = v << 8 | p[i];
  return v;
}

std::array<uint8_t, kSlotSize> encode_slot(const CommitRecord& r) {
  std::array<uint8_t, kSlotSize> b{};
  std::memcpy(b.data(), kRecordMagic, 8);
  put_le(b.data() + 8, r.generation);
  put_le(b.data() + 16, r.sequence);
  put_le(b.data() + 24, r.head ? *r.head + 1 : 0);
  Hash256 h = sha256(std::span<const uint8_t>(b.data(), 32));
  std::memcpy(b.data() + 32, h.bytes.data(), 8);
  return b;
}
std::optional<CommitRecord> decode_slot(const uint8_t* b) {
  if (std::memcmp(b, kRecordMagic, 8) != 0) return std::nullopt;
  Hash256 h = sha256(std::span<const uint8_t>(b, 32));
  if (std::memcmp(b + 32, h.bytes.data(), 8) != 0) return std::nullopt;
  CommitRecord r;
  r.generation = get_le(b + 8);
  r.sequence = get_le(b + 16);
  if (uint64_t h1 = get_le(b + 24); h1 != 0) r.head = h1 - 1;
  return r;
}

std::string errno_text() {
  return std::strerror(errno);
}

// The open record file. write() is not thread-safe (the store's writes are
// serialized by its contract).
class RecordFile {
 public:
  ~RecordFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  // Opens (creating if asked) the file; `existing` gets the record, nullopt if
  // the file is missing or empty. An error if it exists and no slot is valid.
  Status open(const fs::path& p, bool create, std::optional<CommitRecord>& existing) {
    path_ = p.string();
    existing.reset();
    fd_ = ::open(path_.c_str(), O_RDWR | O_CLOEXEC | (create ? O_CREAT : 0), 0644);
    if (fd_ < 0) {
      if (errno == ENOENT && !create) return Status::success();
      return Status::failure(path_ + ": cannot open: " + errno_text());
    }
    if (create) {  // the new file's directory entry must be durable too
      int dfd = ::open(p.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (dfd < 0) return Status::failure(p.parent_path().string() + ": " + errno_text());
      const int synced = ::fsync(dfd);
      ::close(dfd);
      if (synced != 0) return Status::failure(p.parent_path().string() + ": " + errno_text());
    }
    uint8_t buf[kSlotSize];
    bool any_bytes = false;
    for (int i = 0; i < 2; ++i) {
      ssize_t n = ::pread(fd_, buf, kSlotSize, kSlotOffset[i]);
      if (n < 0) return Status::failure(path_ + ": cannot read: " + errno_text());
      if (n > 0) any_bytes = true;
      if (n != static_cast<ssize_t>(kSlotSize)) continue;
      auto r = decode_slot(buf);
      if (r && (!existing || r->generation > existing->generation)) existing = r;
    }
    if (!existing && any_bytes)
      return Status::failure("the commit record " + path_ +
                             " is damaged (neither of its slots is valid)");
    if (existing) generation_ = existing->generation;
    return Status::success();
  }
  // Writes the next generation and waits until it is durable.
  Status write(uint64_t sequence, std::optional<uint64_t> head) {
    CommitRecord r{generation_ + 1, sequence, head};
    auto b = encode_slot(r);
    ssize_t n = ::pwrite(fd_, b.data(), b.size(), kSlotOffset[r.generation % 2]);
    if (n != static_cast<ssize_t>(b.size()))
      return Status::failure(
          path_ + ": cannot write: " + (n < 0 ? errno_text() : std::string("short write")));
    if (::fdatasync(fd_) != 0) return Status::failure(path_ + ": cannot sync: " + errno_text());
    generation_ = r.generation;
    last_head_ = head;
    return Status::success();
  }
  std::optional<uint64_t> last_head() const { return last_head_; }
  void set_last_head(std::optional<uint64_t> h) { last_head_ = h; }

 private:
  std::string path_;
  int fd_ = -1;
  uint64_t generation_ = 0;
  std::optional<uint64_t> last_head_;
};

// The head height a batch records (the chain's Meta "head", an 8-byte
// big-endian height), if it records one.
std::optional<uint64_t> head_in(const WriteBatch& batch) {
  std::optional<uint64_t> head;
  for (size_t i = 0; i < batch.size(); ++i) {
    WriteBatch::Op op = batch.op(i);
    if (op.column != Column::Meta || op.key != "head" || !op.value || op.value->size() != 8)
      continue;
    uint64_t h = 0;
    for (char c : *op.value) h = h << 8 | static_cast<uint8_t>(c);
    head = h;
  }
  return head;
}

std::string head_text(std::optional<uint64_t> head) {
  return head ? "block " + std::to_string(*head) : "no block";
}

// RocksDB's diagnostic log (DIR/LOG), written with stdio. RocksDB's own log
// writer asserts (aborting the process, in builds with assertions such as
// Debian's) when it is used again after a write failed, which a full disk
// makes happen at the first error it reports. Here a full disk loses log
// lines, nothing more.
class InfoLog final : public rocksdb::Logger {
 public:
  explicit InfoLog(const std::string& path)
      : rocksdb::Logger(rocksdb::InfoLogLevel::INFO_LEVEL), file_(std::fopen(path.c_str(), "ae")) {}
  ~InfoLog() override {
    if (file_) std::fclose(file_);
  }
  using rocksdb::Logger::Logv;
  void Logv(const char* format, va_list ap) override {
    if (!file_) return;
    std::lock_guard<std::mutex> lock(mu_);
    std::vfprintf(file_, format, ap);
    std::fputc('\n', file_);
    std::fflush(file_);
    std::clearerr(file_);  // a failed write is forgotten: the next line tries again
  }

 private:
  std::mutex mu_;
  std::FILE* file_;
};

// Opens (with `create`, creates) the database at `path` with the store's
// options, its column families in Column order. `env`: null for the default.
rocksdb::Status open_db(const std::string& path, bool create, rocksdb::Env* env, rocksdb::DB** db,
                        std::vector<rocksdb::ColumnFamilyHandle*>* handles,
                        bool read_only = false) {
  rocksdb::DBOptions opts;
  opts.create_if_missing = create;
  opts.create_missing_column_families = true;
  opts.paranoid_checks = true;
  // Point-in-time recovery replays the write-ahead log up to its first
  // damaged record and stops there: a torn tail (the unacknowledged write a
  // crash cut short) is dropped and the database opens, as crash safety
  // needs. Damage before the tail drops acknowledged writes just as quietly;
  // the commit record, checked below, catches that, and names the heights.
  // The other modes, tried on the same damage (fault_injection_test.cpp):
  // kAbsoluteConsistency refuses a torn tail too, and opens without a deleted
  // log; kTolerateCorruptedTailRecords opens a cut log and without a deleted
  // one. A deleted log needs the record whatever the mode.
  opts.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  if (env) opts.env = env;
  // The diagnostic log grows by each open's lines (about 100 KB each): past
  // 4 MiB it starts again, the previous one kept as LOG.old.
  if (!read_only) {
    std::error_code ec;
    const fs::path log = fs::path(path) / "LOG";
    if (fs::file_size(log, ec) > (4u << 20) && !ec) fs::rename(log, fs::path(path) / "LOG.old", ec);
  }
  opts.info_log = std::make_shared<InfoLog>(path + "/LOG");
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
    // ... and one over the memtable, which holds the recent blocks: without
    // it such a read walks the memtable's skip list to learn the key is not
    // there (a payment's first read of a fresh account or slot).
    co.memtable_prefix_bloom_size_ratio = 0.02;
    co.memtable_whole_key_filtering = true;
    // Hashes, signatures and 256-bit words do not compress: compressing
    // them in every flush and compaction would only burn CPU that signature
    // checks need. Code and metadata keep the default.
    if (c != Column::Code && c != Column::Meta) co.compression = rocksdb::kNoCompression;
    cfs.emplace_back(column_name(c), co);
  }
  handles->clear();
  // Read-only: the log is replayed in memory, and no file is written,
  // flushed or deleted.
  rocksdb::Status s = read_only ? rocksdb::DB::OpenForReadOnly(opts, path, cfs, handles, db)
                                : rocksdb::DB::Open(opts, path, cfs, handles, db);
  if (!s.ok()) return s;
  // (*handles)[0] is the default family, unused; keep ours in Column order.
  (*db)->DestroyColumnFamilyHandle((*handles)[0]);
  handles->erase(handles->begin());
  return s;
}

// The order in which write() hands a batch's operations to RocksDB: by
// column, then key (bytewise), then position in the batch.
std::vector<uint32_t> write_order(const std::vector<WriteBatch::Op>& ops) {
  struct Rank {
    uint64_t head;    // the key's first 8 bytes, big-endian (zero-padded)
    uint32_t column;  // compared first
    uint32_t index;   // the operation; last, for ties
  };
  std::vector<Rank> ranks(ops.size());
  for (uint32_t i = 0; i < ranks.size(); ++i) {
    uint8_t b[8] = {};
    std::memcpy(b, ops[i].key.data(), std::min<size_t>(8, ops[i].key.size()));
    uint64_t head = 0;
    for (uint8_t x : b) head = head << 8 | x;
    ranks[i] = {head, static_cast<uint32_t>(ops[i].column), i};
  }
  // A total order, so std::sort keeps equal keys in batch order without
  // std::stable_sort's temporary buffer (whose nothrow allocation
  // AddressSanitizer misreports as a mismatched free).
  std::sort(ranks.begin(), ranks.end(), [&](const Rank& a, const Rank& b) {
    if (a.column != b.column) return a.column < b.column;
    if (a.head != b.head) return a.head < b.head;
    if (int c = ops[a.index].key.compare(ops[b.index].key); c != 0) return c < 0;
    return a.index < b.index;
  });
  std::vector<uint32_t> order(ranks.size());
  for (size_t i = 0; i < ranks.size(); ++i) order[i] = ranks[i].index;
  return order;
}

class RocksStore final : public Store {
 public:
  RocksStore(std::string path, std::unique_ptr<rocksdb::Env> env, rocksdb::DB* db,
             std::vector<rocksdb::ColumnFamilyHandle*> handles, std::unique_ptr<RecordFile> record)
      : path_(std::move(path)),
        env_(std::move(env)),
        db_(db),
        handles_(std::move(handles)),
        record_(std::move(record)),
        acknowledged_(db->GetLatestSequenceNumber()) {}

  ~RocksStore() override {
    close();  // before env_, which the database uses
    if (dir_lock_ >= 0) ::close(dir_lock_);
  }

  Result<std::optional<std::string>> get(Column c, std::string_view key) const override {
    std::shared_lock<std::shared_mutex> lock(reopen_mu_);
    if (!db_) return vm::error_at(0, "the database is closed after a failed write, reopening");
    return rocks_get(db_, rocksdb::ReadOptions(), handles_[static_cast<size_t>(c)], c, key);
  }

  // Null while a reopen after a failed write has not succeeded (readers then
  // use the store under the chain's lock).
  std::unique_ptr<const StoreReader> snapshot() const override {
    std::shared_lock<std::shared_mutex> lock(reopen_mu_);
    if (!db_) return nullptr;
    return std::make_unique<RocksSnapshot>(db_, handles_, live_snapshots_);
  }

  Status write(const WriteBatch& batch, bool sync) override {
    if (!record_failure_.empty()) return Status::failure(record_failure_);
    if (!write_failure_.empty()) {
      if (Status r = recover(batch.bytes()); !r) return r;
    }
    // The operations go in in (column, key) order: a memtable skiplist
    // insert starts from where the previous one ended, so sorted inserts
    // skip much of the search that random keys (hashes) would pay. Ties
    // break on the position in the batch, so two operations on one key keep
    // their order (the later wins, as in the batch). The sort moves 16-byte
    // ranks that carry each key's first 8 bytes: a block that writes the
    // state tree has some 250,000 operations, and comparing them through
    // the batch's keys (a cache miss or two each) took longer than RocksDB's
    // own write (docs/gas.md, "Open: what committing a block costs").
    const std::vector<WriteBatch::Op> ops = batch.ops();
    const std::vector<uint32_t> order = write_order(ops);
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
    if (!s.ok()) {
      write_failure_ = s.ToString();
      return Status::failure("rocksdb write: " + s.ToString());
    }
    acknowledged_ = db_->GetLatestSequenceNumber();
    if (sync) {
      // Durable in RocksDB; now in the record, before the caller may
      // acknowledge it. If the record cannot be written, the write stands
      // (a reopen finds it) but this store takes no more writes: the caller
      // would otherwise acknowledge writes that a damaged log could lose
      // unnoticed.
      std::optional<uint64_t> head = head_in(batch);
      if (!head) head = record_->last_head();
      Status r = record_->write(db_->GetLatestSequenceNumber(), head);
      if (r) accepted_ = false;
      if (!r) {
        record_failure_ = "the commit record cannot be written (" + r.message +
                          "); the store takes no more writes until it is reopened";
        return Status::failure(record_failure_);
      }
    }
    return Status::success();
  }

  Result<std::vector<std::pair<std::string, std::string>>> scan(Column c) const override {
    std::shared_lock<std::shared_mutex> lock(reopen_mu_);
    if (!db_) return vm::error_at(0, "the database is closed after a failed write, reopening");
    return rocks_scan(db_, rocksdb::ReadOptions(), handles_[static_cast<size_t>(c)]);
  }

  // `accepted`: the record still says more than the database recovered, and
  // confirm_open() is to replace it (unless a synced write has since).
  // The lock on the database's directory (open_rocksdb_store), released
  // with the store.
  void set_dir_lock(int fd) { dir_lock_ = fd; }

  void set_record(std::unique_ptr<RecordFile> r, bool accepted) {
    record_ = std::move(r);
    accepted_ = accepted;
  }

  Status confirm_open() override {
    if (!accepted_) return Status::success();
    std::shared_lock<std::shared_mutex> lock(reopen_mu_);
    if (!db_) return Status::failure("the database is closed after a failed write");
    if (Status w = record_->write(db_->GetLatestSequenceNumber(), record_->last_head()); !w)
      return Status::failure("cannot record the accepted rollback: " + w.message);
    accepted_ = false;
    return Status::success();
  }

 private:
  void close() {
    if (!db_) return;
    for (auto* h : handles_) db_->DestroyColumnFamilyHandle(h);
    handles_.clear();
    delete db_;
    db_ = nullptr;
  }

  // After a failed write. RocksDB 7.8 treats a failed log write as fatal:
  // the open database takes no more writes and DB::Resume() refuses, so the
  // only way back is to reopen it. That waits until the disk has room (a
  // probe file of the size of the write plus a margin is written and synced
  // first), so that a still-full disk leaves the open database serving
  // reads. The reopened database must hold exactly the acknowledged writes:
  // if the failed write reached the log whole, the caller's state (which
  // does not include it) and the store's would differ, so the store takes
  // no more writes until the process restarts and loads it.
  Status recover(size_t batch_bytes) {
    const std::string unavailable =
        "rocksdb write: the database takes no writes since \"" + write_failure_ + "\"";
    {
      rocksdb::FileSystem* fsys =
          (env_ ? env_.get() : rocksdb::Env::Default())->GetFileSystem().get();
      const std::string probe = path_ + "/WRIT-PROBE";
      std::unique_ptr<rocksdb::FSWritableFile> f;
      rocksdb::IOStatus io = fsys->NewWritableFile(probe, rocksdb::FileOptions(), &f, nullptr);
      const std::string chunk(64 * 1024, '\0');
      for (size_t written = 0; io.ok() && written < batch_bytes + (4u << 20);
           written += chunk.size())
        io = f->Append(chunk, rocksdb::IOOptions(), nullptr);
      if (io.ok()) io = f->Sync(rocksdb::IOOptions(), nullptr);
      if (f) (void)f->Close(rocksdb::IOOptions(), nullptr);
      (void)fsys->DeleteFile(probe, rocksdb::IOOptions(), nullptr);
      if (!io.ok()) return Status::failure(unavailable + " (still: " + io.ToString() + ")");
    }
    std::unique_lock<std::shared_mutex> lock(reopen_mu_);
    // Readers' snapshots pin the open database (RocksSnapshot): reopen only
    // once they are gone; until then writes stay unavailable and reads go on.
    if (int live = live_snapshots_.load(); live > 0)
      return Status::failure(unavailable + " (reopening waits for " + std::to_string(live) +
                             " reader snapshot" + (live == 1 ? "" : "s") + " to end)");
    close();
    rocksdb::Status s = open_db(path_, false, env_.get(), &db_, &handles_);
    if (!s.ok()) {
      db_ = nullptr;
      return Status::failure(unavailable + " (reopening: " + s.ToString() + ")");
    }
    if (db_->GetLatestSequenceNumber() != acknowledged_) {
      record_failure_ = "a write reported as failed (" + write_failure_ +
                        ") reached the database; restart to load it";
      return Status::failure(record_failure_);
    }
    write_failure_.clear();
    return Status::success();
  }

  std::string path_;
  std::unique_ptr<rocksdb::Env> env_;  // null: the default Env
  // Guards db_ and handles_ against a reopen (recover()) while get() runs.
  mutable std::shared_mutex reopen_mu_;
  mutable std::atomic<int> live_snapshots_{0};  // RocksSnapshots alive
  rocksdb::DB* db_;                             // null only while a reopen failed
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;
  std::unique_ptr<RecordFile> record_;
  bool accepted_ = false;       // an accepted loss that the record does not show yet
  int dir_lock_ = -1;           // the directory's lock (flock), or -1
  std::string record_failure_;  // non-empty: writes are refused
  std::string write_failure_;   // non-empty: the last write failed; recover() before the next
  uint64_t acknowledged_;       // the sequence number of the last write that succeeded
};

}  // namespace

Result<std::unique_ptr<Store>> open_rocksdb_store(const std::string& path,
                                                  const RocksStoreOptions& options) {
  const fs::path dir(path);
  std::error_code ec;
  const bool has_current = fs::exists(dir / "CURRENT", ec);
  if (!has_current) {
    // RocksDB treats a directory without CURRENT as no database and, asked
    // to create one, would start an empty database over whatever files are
    // left: a lost CURRENT file would silently become a new chain.
    if (!options.create) {
      if (!fs::exists(dir, ec))
        return vm::error_at(0, "no database at " + path + " (the directory does not exist)");
      return vm::error_at(0, "no database at " + path +
                                 ": its CURRENT file is missing (a damaged database, or not a "
                                 "database)");
    }
    for (const auto& entry : fs::directory_iterator(dir, ec)) {
      if (entry.path().filename() == kCommitRecordFile) {
        // A record left by a creation cut short names no block; one that
        // names a block outlived its database, which is lost, not absent.
        RecordFile old;
        std::optional<CommitRecord> r;
        if (Status st = old.open(entry.path(), false, r); !st)
          return vm::error_at(0, "cannot create a database at " + path + ": " + st.message);
        if (r && r->head)
          return vm::error_at(0, "cannot create a database at " + path + ": its commit record (" +
                                     std::string(kCommitRecordFile) + ") says " +
                                     head_text(r->head) +
                                     " was committed there, but the database is gone: restore "
                                     "it from a backup, or move the directory away to create a "
                                     "new one");
        continue;
      }
      return vm::error_at(0, "cannot create a database at " + path +
                                 ": the directory holds files but no database (no CURRENT "
                                 "file, so perhaps a damaged one, such as " +
                                 entry.path().filename().string() +
                                 "); move it away to create a new one");
    }
    fs::create_directories(dir, ec);
    if (ec) return vm::error_at(0, "cannot create " + path + ": " + ec.message());
  }
  // One process at a time: RocksDB's own LOCK file is a file that a careless
  // cleanup after a crash deletes (two processes then write one database).
  // The directory itself cannot be deleted while it holds the database, so
  // its lock holds whatever happens to the files in it.
  const int dir_lock = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_lock < 0) return vm::error_at(0, "cannot open database at " + path + ": " + errno_text());
  if (::flock(dir_lock, LOCK_EX | LOCK_NB) != 0) {
    const int e = errno;
    ::close(dir_lock);
    return vm::error_at(0, "cannot open database at " + path + ": " +
                               (e == EWOULDBLOCK ? std::string("another process has it open")
                                                 : std::string(std::strerror(e))));
  }
  struct DirLock {
    int fd;
    ~DirLock() {
      if (fd >= 0) ::close(fd);
    }
  } lock{dir_lock};
  // The record exists before the database does, so that a database never
  // exists without one (except one made before records, or damaged).
  auto record = std::make_unique<RecordFile>();
  std::optional<CommitRecord> recorded;
  // (Accepting a loss also accepts a missing record, so that one may be made.)
  if (Status r = record->open(dir / kCommitRecordFile, !has_current || options.accept_lost_writes,
                              recorded);
      !r)
    return vm::error_at(0, "cannot open database at " + path + ": " + r.message);
  if (!has_current) {
    if (Status w = record->write(0, std::nullopt); !w)
      return vm::error_at(0, "cannot create a database at " + path + ": " + w.message);
    recorded = CommitRecord{1, 0, std::nullopt};
  }

  std::unique_ptr<rocksdb::Env> env;
  if (options.file_system) env = rocksdb::NewCompositeEnv(options.file_system);
  // What a database recovered: its last write and the head that recorded.
  struct Recovered {
    uint64_t sequence = 0;
    std::optional<uint64_t> head;
  };
  const auto recovered_in =
      [&](rocksdb::DB* db,
          const std::vector<rocksdb::ColumnFamilyHandle*>& h) -> Result<Recovered> {
    Recovered r{db->GetLatestSequenceNumber(), std::nullopt};
    auto v = rocks_get(db, rocksdb::ReadOptions(), h[static_cast<size_t>(Column::Meta)],
                       Column::Meta, "head");
    if (!v.ok()) return v.error();
    if (v.value() && v.value()->size() == 8) {
      uint64_t x = 0;
      for (char c : *v.value()) x = x << 8 | static_cast<uint8_t>(c);
      r.head = x;
    }
    return r;
  };
  const auto lost_writes = [&](const Recovered& r) {
    return vm::error_at(
        0, "database at " + path + " lost committed writes: " + head_text(recorded->head) +
               " was committed and acknowledged (write " + std::to_string(recorded->sequence) +
               "), but the database recovered only " + head_text(r.head) + " (write " +
               std::to_string(r.sequence) +
               "): its write-ahead log is damaged or missing. Restore the directory from a "
               "backup, or accept the rollback explicitly to open it at what was recovered");
  };
  // A read-only look first: opening for writing flushes what the log
  // recovered to a table file and deletes the log, so a refusal after it
  // would leave no trace of the writes after the damage (nothing to salvage
  // them from). A database that this cannot open (an older one without every
  // column) is judged after the normal open, as before.
  if (has_current && recorded && !options.accept_lost_writes) {
    std::vector<rocksdb::ColumnFamilyHandle*> ro_handles;
    rocksdb::DB* ro = nullptr;
    if (open_db(path, false, env.get(), &ro, &ro_handles, true).ok()) {
      auto r = recovered_in(ro, ro_handles);
      for (auto* h : ro_handles) ro->DestroyColumnFamilyHandle(h);
      delete ro;
      if (!r.ok())
        return vm::error_at(0, "cannot open database at " + path + ": " + r.error().message);
      if (recorded->sequence > r.value().sequence) return lost_writes(r.value());
    }
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = open_db(path, !has_current, env.get(), &db, &handles);
  if (!s.ok()) return vm::error_at(0, "cannot open database at " + path + ": " + s.ToString());
  auto recovered = recovered_in(db, handles);
  auto store = std::make_unique<RocksStore>(path, std::move(env), db, std::move(handles), nullptr);
  if (!recovered.ok())
    return vm::error_at(0, "cannot open database at " + path + ": " + recovered.error().message);
  const uint64_t recovered_sequence = recovered.value().sequence;
  const std::optional<uint64_t> recovered_head = recovered.value().head;
  bool rewrite = false;
  if (options.accepted_loss) options.accepted_loss->clear();
  if (!recorded) {
    if (!options.accept_lost_writes)
      return vm::error_at(0, "database at " + path + " has no commit record (" + kCommitRecordFile +
                                 " is missing), so whether it lost committed writes cannot be "
                                 "checked; it recovered " +
                                 head_text(recovered_head) +
                                 ". Accept what was recovered explicitly to open it");
    rewrite = true;
    if (options.accepted_loss)
      *options.accepted_loss = "the commit record was missing; the database recovered " +
                               head_text(recovered_head) + " (not checked)";
  } else if (recorded->sequence > recovered_sequence) {
    if (!options.accept_lost_writes) return lost_writes(recovered.value());
    rewrite = true;
    if (options.accepted_loss)
      *options.accepted_loss = head_text(recorded->head) +
                               " was committed; the database recovered only " +
                               head_text(recovered_head) + ", and the blocks after it are lost";
  }
  // An accepted loss is written to the record by confirm_open (Store), once
  // the chain's checks pass: an open refused after this one accepts nothing.
  record->set_last_head(recorded && !rewrite ? recorded->head : recovered_head);
  store->set_record(std::move(record), rewrite);
  store->set_dir_lock(std::exchange(lock.fd, -1));
  return std::unique_ptr<Store>(std::move(store));
}

}  // namespace writ::runtime
