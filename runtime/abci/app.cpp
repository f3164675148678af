// The ABCI++ application: each request of CometBFT to the Chain.
#include <google/protobuf/timestamp.pb.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>

#include "abci.pb.h"
#include "writ/runtime/abci.hpp"
#include "writ/runtime/node.hpp"

namespace writ::runtime::abci {

namespace pb = ::writ::abci;

FrameStatus read_frame(std::string_view buf, std::string_view& payload, size_t& used,
                       std::string& why) {
  uint64_t len = 0;
  size_t i = 0;
  for (unsigned shift = 0;; shift += 7) {
    if (i == buf.size()) return FrameStatus::kMore;
    const uint8_t b = static_cast<uint8_t>(buf[i++]);
    if (shift == 63 && b > 1) {  // a tenth byte that goes on, or past 2^64
      why = "a frame length that is not a 64-bit varint";
      return FrameStatus::kBad;
    }
    len |= uint64_t{b & 0x7fu} << shift;
    if (!(b & 0x80)) break;
  }
  if (len > kMaxFrame) {
    why = "a frame of " + std::to_string(len) + " bytes (the limit is " +
          std::to_string(kMaxFrame) + ")";
    return FrameStatus::kBad;
  }
  if (buf.size() - i < len) return FrameStatus::kMore;
  payload = buf.substr(i, len);
  used = i + len;
  return FrameStatus::kFrame;
}

std::string frame(std::string_view payload) {
  std::string out;
  uint64_t n = payload.size();
  do {
    uint8_t b = n & 0x7f;
    n >>= 7;
    out.push_back(static_cast<char>(n ? b | 0x80 : b));
  } while (n);
  out.append(payload);
  return out;
}

std::string utf8_text(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const auto c = static_cast<uint8_t>(s[i]);
    // The length of a well-formed UTF-8 sequence starting here, 0 if none.
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n > 1) {
      if (i + n > s.size()) n = 0;
      for (size_t k = 1; n && k < n; ++k)
        if ((static_cast<uint8_t>(s[i + k]) >> 6) != 2) n = 0;
      if (n) {  // no overlong forms, surrogates or code points past U+10FFFF
        uint32_t cp = c & (0x7f >> n);
        for (size_t k = 1; k < n; ++k) cp = (cp << 6) | (static_cast<uint8_t>(s[i + k]) & 0x3f);
        static const uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
        if (cp < kMin[n] || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) n = 0;
      }
    }
    if (n == 0) {
      char esc[5];
      std::snprintf(esc, sizeof esc, "\\x%02x", c);
      out += esc;
      ++i;
      continue;
    }
    out.append(s.substr(i, n));
    i += n;
  }
  return out;
}

std::string exception_response(const std::string& why) {
  pb::Response res;
  res.mutable_exception()->set_error(utf8_text(why));
  return res.SerializeAsString();
}

namespace {

// Protobuf strings are UTF-8: every text that may quote input goes through
// utf8_text.
template <class M>
void set_log_text(M* m, const std::string& text) {
  m->set_log(utf8_text(text));
}

constexpr uint32_t kCodeOk = 0;
constexpr uint32_t kCodeUndecodable = 1;  // not a Writ transaction
constexpr uint32_t kCodeInvalid = 2;      // refused: signature, nonce, balance, limits
constexpr uint32_t kCodeFailed = 3;       // executed and failed (charged; see log)

std::string hex(const Hash256& h) {
  return "0x" + h.hex();
}

std::string bytes_of(const Hash256& h) {
  return std::string(reinterpret_cast<const char*>(h.bytes.data()), h.bytes.size());
}

pb::Event event(const std::string& type,
                std::initializer_list<std::pair<std::string, std::string>> attrs) {
  pb::Event e;
  e.set_type(type);
  for (const auto& [k, v] : attrs) {
    pb::EventAttribute* a = e.add_attributes();
    a->set_key(k);
    a->set_value(v);
    a->set_index(true);
  }
  return e;
}

}  // namespace

struct App::Impl {
  AppOptions opts;
  std::mutex mu;
  std::string open_error;
  std::optional<DataDir> dir;
  // What the mempool holds of each sender since the last commit (CheckTx
  // NEW and RECHECK), so a sender's next transactions are admitted in order.
  std::map<Address, Chain::Pending> mempool;
  uint64_t finalized_height = 0;  // the staged block's

  void log(const std::string& line) const {
    if (opts.log)
      opts.log(line);
    else
      std::fprintf(stderr, "writ abci: %s\n", line.c_str());
  }

  Chain* chain() { return dir ? dir->chain.get() : nullptr; }

  explicit Impl(AppOptions o) : opts(std::move(o)) {
    namespace fs = std::filesystem;
    std::error_code ec;
    if (!fs::exists(fs::path(opts.data_dir) / "chain", ec)) return;  // InitChain makes it
    DataDirOptions dopts;
    dopts.accept_lost_writes = opts.accept_rollback;
    auto d = open_data_dir(opts.data_dir, "", dopts);
    if (!d.ok()) {
      open_error = d.error().message;
      log("cannot open " + opts.data_dir + ": " + open_error);
      return;
    }
    dir = std::move(d.value());
    if (!dir->accepted_loss.empty()) log("--accept-rollback: " + dir->accepted_loss);
    log("resumed the chain in " + opts.data_dir + " at height " +
        std::to_string(dir->chain->head().height) + ", app hash " +
        hex(dir->chain->head().state_root));
  }

  // ---- the requests ----

  void info(const pb::InfoRequest& req, pb::InfoResponse& res) {
    res.set_data("writ");
    res.set_version("writ-abci/1");
    res.set_app_version(1);
    if (Chain* c = chain()) {
      res.set_last_block_height(static_cast<int64_t>(c->head().height));
      res.set_last_block_app_hash(bytes_of(c->head().state_root));
    }
    if (!opts.quiet)
      log("Info (CometBFT " + req.version() + "): at height " +
          std::to_string(res.last_block_height()));
  }

  std::string init_chain(const pb::InitChainRequest& req, pb::InitChainResponse& res) {
    if (req.initial_height() > 1)
      return "InitChain: initial_height " + std::to_string(req.initial_height()) +
             " is not supported (Writ chains start at 1)";
    std::string text = req.app_state_bytes();
    if (text.empty() || text == "null" || text == "\"\"") text = opts.genesis_json;
    if (text.empty())
      return "InitChain: the CometBFT genesis has no app_state and writ abci was given no "
             "--genesis";
    auto g = parse_genesis_json(text, opts.data_dir);
    if (!g.ok()) return "InitChain: the app_state is not a Writ genesis: " + g.error().message;
    if (Chain* c = chain()) {
      // Asked again (CometBFT restarted before block 1): the same genesis.
      auto fresh = Chain::open(open_memory_store(), g.value());
      if (!fresh.ok()) return "InitChain: " + fresh.error().message;
      if (c->head().height != 0 || fresh.value()->head().hash() != c->head().hash() ||
          fresh.value()->chain_id() != c->chain_id())
        return "InitChain: the data directory holds another chain (height " +
               std::to_string(c->head().height) + ", app hash " + hex(c->head().state_root) + ")";
    } else {
      DataDirOptions o;
      o.create = true;
      o.genesis_json = text;
      auto d = open_data_dir(opts.data_dir, "", o);
      if (!d.ok()) return "InitChain: " + d.error().message;
      dir = std::move(d.value());
    }
    res.set_app_hash(bytes_of(chain()->head().state_root));
    log("InitChain: chain " + std::to_string(chain()->chain_id()) + " (CometBFT chain " +
        req.chain_id() + "), app hash " + hex(chain()->head().state_root));
    return "";
  }

  void check_tx(const pb::CheckTxRequest& req, pb::CheckTxResponse& res) {
    auto tx = decode_transaction(std::span<const uint8_t>(
        reinterpret_cast<const uint8_t*>(req.tx().data()), req.tx().size()));
    if (!tx.ok()) {
      res.set_code(kCodeUndecodable);
      set_log_text(&res, "not a Writ transaction: " + tx.error().message);
      return;
    }
    const Address sender = tx.value().sender();
    Chain::Pending& p = mempool[sender];
    const Status s = chain()->validate(tx.value(), p);
    if (!s.ok) {
      res.set_code(kCodeInvalid);
      set_log_text(&res, s.message);
      if (p.count == 0) mempool.erase(sender);
      return;
    }
    ++p.count;
    vm::add_checked(p.spend, Chain::Pending::most_spent(tx.value()), p.spend);
    res.set_code(kCodeOk);
    res.set_gas_wanted(static_cast<int64_t>(tx.value().gas_limit));
  }

  // The transactions of a proposal that the chain would take, in order,
  // within the limits; `all_valid` false when one was left out.
  // `first_only` (ProcessProposal): stop at the first refused transaction,
  // whose refusal decides; checking on cost a byzantine proposer's block of
  // 93,000 forged signatures 15 s of every validator's time.
  std::vector<std::string> select(const google::protobuf::RepeatedPtrField<std::string>& txs,
                                  int64_t max_bytes, bool& all_valid, std::string& first_why,
                                  bool first_only = false) {
    std::vector<std::string> out;
    std::map<Address, Chain::Pending> pending;
    int64_t bytes = 0;
    uint64_t gas = 0;
    all_valid = true;
    auto refuse = [&](size_t i, const std::string& why) {
      if (all_valid) first_why = "transaction " + std::to_string(i) + ": " + why;
      all_valid = false;
    };
    for (int i = 0; i < txs.size() && !(first_only && !all_valid); ++i) {
      const std::string& raw = txs[i];
      auto tx = decode_transaction(
          std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(raw.data()), raw.size()));
      if (!tx.ok()) {
        refuse(i, "not a Writ transaction: " + tx.error().message);
        continue;
      }
      if (out.size() == kMaxBlockTxs ||
          (max_bytes > 0 && bytes + static_cast<int64_t>(raw.size()) > max_bytes) ||
          gas + tx.value().gas_limit > kBlockGasLimit) {
        refuse(i, "over the block's limits");
        continue;
      }
      Chain::Pending& p = pending[tx.value().sender()];
      const Status s = chain()->validate(tx.value(), p);
      if (!s.ok) {
        refuse(i, s.message);
        continue;
      }
      ++p.count;
      vm::add_checked(p.spend, Chain::Pending::most_spent(tx.value()), p.spend);
      bytes += static_cast<int64_t>(raw.size());
      gas += tx.value().gas_limit;
      out.push_back(raw);
    }
    return out;
  }

  std::string finalize_block(const pb::FinalizeBlockRequest& req, pb::FinalizeBlockResponse& res) {
    Chain& c = *chain();
    // A height that does not follow is refused first: a block staged for the
    // next height stays staged for its Commit.
    if (req.height() != static_cast<int64_t>(c.head().height + 1))
      return "FinalizeBlock for height " + std::to_string(req.height()) +
             ", but the app's last block is " + std::to_string(c.head().height);
    if (c.staged()) {
      log("FinalizeBlock for height " + std::to_string(req.height()) +
          " again before Commit: the block staged for it is dropped");
      c.discard_staged();
    }
    const uint64_t time =
        req.time().seconds() < 0 ? 0 : static_cast<uint64_t>(req.time().seconds());
    std::vector<Transaction> txs;
    std::vector<int> position(static_cast<size_t>(req.txs_size()), -1);  // -> txs index
    std::vector<std::string> undecodable(static_cast<size_t>(req.txs_size()));
    for (int i = 0; i < req.txs_size(); ++i) {
      const std::string& raw = req.txs(i);
      auto tx = decode_transaction(
          std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(raw.data()), raw.size()));
      if (!tx.ok()) {
        undecodable[static_cast<size_t>(i)] = tx.error().message;
        continue;
      }
      position[static_cast<size_t>(i)] = static_cast<int>(txs.size());
      txs.push_back(std::move(tx.value()));
    }
    auto r = c.stage_block(txs, std::max(time, c.head().timestamp));
    if (!r.ok())
      return "FinalizeBlock for height " + std::to_string(req.height()) + ": " + r.error().message;
    const Chain::BlockResult& b = r.value();
    std::map<Hash256, const Receipt*> receipts;
    for (const Receipt& rc : b.receipts) receipts[rc.tx_hash] = &rc;
    std::map<Hash256, std::string> rejected;
    for (const Chain::Rejected& x : b.rejected) rejected.emplace(x.hash, x.reason);
    for (int i = 0; i < req.txs_size(); ++i) {
      pb::ExecTxResult* out = res.add_tx_results();
      const int at = position[static_cast<size_t>(i)];
      if (at < 0) {
        out->set_code(kCodeUndecodable);
        set_log_text(out, "not a Writ transaction: " + undecodable[static_cast<size_t>(i)]);
        continue;
      }
      const Transaction& tx = txs[static_cast<size_t>(at)];
      const Hash256 h = tx.hash();
      out->set_gas_wanted(static_cast<int64_t>(tx.gas_limit));
      auto rc = receipts.find(h);
      if (rc == receipts.end()) {
        out->set_code(kCodeInvalid);
        auto why = rejected.find(h);
        set_log_text(out, why == rejected.end() ? "left out of the block" : why->second);
        continue;
      }
      const Receipt& receipt = *rc->second;
      out->set_code(receipt.status == vm::Status::Ok ? kCodeOk : kCodeFailed);
      set_log_text(out, std::string(vm::status_name(receipt.status)) +
                            (receipt.detail.empty() ? "" : ": " + receipt.detail));
      out->set_data(std::string(receipt.output.begin(), receipt.output.end()));
      out->set_gas_used(static_cast<int64_t>(receipt.gas_used));
      *out->add_events() =
          event("writ.tx", {{"hash", hex(h)},
                            {"status", std::string(vm::status_name(receipt.status))},
                            {"gas_used", std::to_string(receipt.gas_used)}});
      if (!receipt.contract.is_zero())
        *out->add_events() = event("writ.deploy", {{"contract", hex(receipt.contract)}});
      for (const Log& l : receipt.logs) {
        pb::Event e = event("writ.log", {{"address", hex(l.address)}});
        for (size_t t = 0; t < l.topics.size(); ++t) {
          pb::EventAttribute* a = e.add_attributes();
          a->set_key("topic" + std::to_string(t));
          a->set_value(hex(l.topics[t]));
          a->set_index(true);
        }
        pb::EventAttribute* d = e.add_attributes();
        d->set_key("data");
        d->set_value(to_hex(l.data));
        *out->add_events() = std::move(e);
      }
    }
    res.set_app_hash(bytes_of(b.block.header.state_root));
    finalized_height = b.block.header.height;
    return "";
  }

  std::string commit(pb::CommitResponse&) {
    Chain& c = *chain();
    if (!c.staged())
      return "Commit without FinalizeBlock (the app is at height " +
             std::to_string(c.head().height) + ")";
    const size_t n = c.staged()->block.txs.size();
    auto h = c.commit_staged();
    if (!h.ok()) return "Commit: " + h.error().message;
    mempool.clear();  // CheckTx RECHECK rebuilds it from what the mempool kept
    if (!opts.quiet)
      log("block " + std::to_string(h.value().height) + ": " + std::to_string(n) + " tx" +
          (n == 1 ? "" : "s") + ", app hash " + hex(h.value().state_root));
    return "";
  }

  // Query path "/rpc": the data is a JSON-RPC request for the chain's reads
  // (writ_getBalance, writ_getProof, writ_getReceipt, writ_getLogs, writ_call,
  // ...: docs/runtime.md), the value its response, at the last committed
  // block. Transactions go through CometBFT (broadcast_tx_*), not here.
  // Called without the app's lock (App::handle): CometBFT's query
  // connection runs beside its consensus connection, and a read must not
  // hold up FinalizeBlock or Commit. The handler takes the lock around each
  // read of the chain (chain_mutex) and runs calls (writ_call) on a view of
  // the head without it.
  std::unique_ptr<RpcHandler> rpc;
  std::atomic<RpcHandler*> rpc_ready{nullptr};  // rpc, once made (under mu)
  std::atomic<Chain*> query_chain{nullptr};     // its chain
  std::string query(const pb::QueryRequest& req, pb::QueryResponse& res) {
    RpcHandler* handler = rpc_ready.load(std::memory_order_acquire);
    Chain* c = query_chain.load(std::memory_order_acquire);
    if (!handler) {  // the first query: make the handler under the lock
      std::lock_guard<std::mutex> g(mu);
      if (!open_error.empty()) return "the data directory could not be opened: " + open_error;
      if (!chain()) return "no chain yet: InitChain has not run";
      c = chain();
      if (!rpc) {
        // Never a block from here: writ_sendRawTransaction is refused (a
        // block made outside consensus would fork this validator).
        RpcOptions o;
        o.block_per_tx = false;
        o.chain_mutex = &mu;
        o.submit = [](const Transaction&, const Bytes&) {
          return std::string("transactions go through CometBFT (broadcast_tx_sync), not Query");
        };
        rpc = std::make_unique<RpcHandler>(*c, o);
      }
      handler = rpc.get();
      query_chain.store(c, std::memory_order_release);
      rpc_ready.store(handler, std::memory_order_release);
    }
    // The height of the last committed block, from a view of the head (no
    // lock); under the lock for a store that takes no snapshots.
    if (auto v = c->view(); v.ok()) {
      res.set_height(static_cast<int64_t>(v.value()->head().height));
    } else {
      std::lock_guard<std::mutex> g(mu);
      res.set_height(static_cast<int64_t>(c->head().height));
    }
    if (req.path() != "/rpc") {
      res.set_code(1);
      set_log_text(&res, "unknown query path \"" + req.path() +
                             "\" (\"/rpc\" takes a JSON-RPC request for the chain's reads)");
      return "";
    }
    if (req.height() != 0 && req.height() != res.height()) {
      // The chain keeps no past states to read from: answering from the
      // latest would pass it off as the height asked for.
      res.set_code(2);
      set_log_text(&res, "height " + std::to_string(req.height()) +
                             " is not served: Query answers at the last committed block "
                             "(height " +
                             std::to_string(res.height()) + ") only; give height 0 for it");
      return "";
    }
    res.set_code(0);
    res.set_value(handler->handle(req.data()));
    return "";
  }

  std::string handle(const pb::Request& req, pb::Response& res) {
    using R = pb::Request;
    if (!open_error.empty() && req.value_case() != R::kEcho && req.value_case() != R::kFlush)
      return "the data directory could not be opened: " + open_error;
    const bool needs_chain = req.value_case() == R::kCheckTx || req.value_case() == R::kCommit ||
                             req.value_case() == R::kPrepareProposal ||
                             req.value_case() == R::kProcessProposal ||
                             req.value_case() == R::kFinalizeBlock;
    if (needs_chain && !chain()) return "no chain yet: InitChain has not run";
    switch (req.value_case()) {
      case R::kEcho:
        res.mutable_echo()->set_message(req.echo().message());
        return "";
      case R::kFlush:
        res.mutable_flush();
        return "";
      case R::kInfo:
        info(req.info(), *res.mutable_info());
        return "";
      case R::kInitChain:
        return init_chain(req.init_chain(), *res.mutable_init_chain());
      case R::kQuery:
        return "a query is answered outside the app's lock";  // App::handle
      case R::kCheckTx:
        check_tx(req.check_tx(), *res.mutable_check_tx());
        return "";
      case R::kCommit:
        return commit(*res.mutable_commit());
      case R::kListSnapshots:
        res.mutable_list_snapshots();
        return "";
      case R::kOfferSnapshot:
        res.mutable_offer_snapshot()->set_result(pb::OfferSnapshotResponse::REJECT);
        return "";
      case R::kLoadSnapshotChunk:
        res.mutable_load_snapshot_chunk();
        return "";
      case R::kApplySnapshotChunk:
        res.mutable_apply_snapshot_chunk()->set_result(pb::ApplySnapshotChunkResponse::ABORT);
        return "";
      case R::kPrepareProposal: {
        bool all_valid = true;
        std::string why;
        pb::PrepareProposalResponse& out = *res.mutable_prepare_proposal();  // set even when empty
        for (std::string& t : select(req.prepare_proposal().txs(),
                                     req.prepare_proposal().max_tx_bytes(), all_valid, why))
          out.add_txs(std::move(t));
        return "";
      }
      case R::kProcessProposal: {
        bool all_valid = true;
        std::string why;
        select(req.process_proposal().txs(), 0, all_valid, why, /*first_only=*/true);
        res.mutable_process_proposal()->set_status(all_valid ? pb::ProcessProposalResponse::ACCEPT
                                                             : pb::ProcessProposalResponse::REJECT);
        if (!all_valid)
          log("ProcessProposal for height " + std::to_string(req.process_proposal().height()) +
              " rejected: " + why);
        return "";
      }
      case R::kExtendVote:
        res.mutable_extend_vote();
        return "";
      case R::kVerifyVoteExtension:
        res.mutable_verify_vote_extension()->set_status(pb::VerifyVoteExtensionResponse::ACCEPT);
        return "";
      case R::kFinalizeBlock:
        return finalize_block(req.finalize_block(), *res.mutable_finalize_block());
      case R::VALUE_NOT_SET:
        break;
    }
    return "a request of no kind this app knows";
  }
};

App::App(AppOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {}
App::~App() = default;

const std::string& App::open_error() const {
  return impl_->open_error;
}

Chain* App::chain() {
  return impl_->chain();
}
std::unique_lock<std::mutex> App::lock() {
  return std::unique_lock<std::mutex>(impl_->mu);
}
std::mutex& App::mutex() {
  return impl_->mu;
}

std::string App::handle(std::string_view request) {
  pb::Request req;
  pb::Response res;
  std::string error;
  if (!req.ParseFromArray(request.data(), static_cast<int>(request.size()))) {
    error = "a request that is not an ABCI message (" + std::to_string(request.size()) + " bytes)";
  } else if (req.value_case() == pb::Request::kQuery) {
    try {
      error = impl_->query(req.query(), *res.mutable_query());  // takes the lock as it needs it
    } catch (const std::exception& e) {
      error = std::string("internal error: ") + e.what();
    }
  } else {
    std::lock_guard<std::mutex> g(impl_->mu);
    try {
      error = impl_->handle(req, res);
    } catch (const std::exception& e) {
      error = std::string("internal error: ") + e.what();
    }
  }
  if (!error.empty()) {
    impl_->log(error);
    return exception_response(error);
  }
  return res.SerializeAsString();
}

}  // namespace writ::runtime::abci
