// Blocks, transactions and the committed state (contract in chain.hpp).
#include "writ/runtime/chain.hpp"

#include <algorithm>
#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>

#include "encoding.hpp"
#include "signature_pool.hpp"
#include "world_state.hpp"
#include "writ/runtime/sandbox.hpp"
#include "writ/vm/abi.hpp"

namespace writ::runtime {

namespace {

std::string height_key(uint64_t h) {
  std::string k;
  enc::u64(k, h);
  return k;
}
std::string hash_key(const Hash256& h) {
  return std::string(reinterpret_cast<const char*>(h.bytes.data()), 32);
}

// An error the store caused (chain.hpp, guarantee 4).
Error store_damaged(const std::string& what) {
  return vm::error_at(0, std::string(kStoreDamaged) + what);
}

U256 mul_u64(const U256& a, uint64_t b, bool& overflow) {
  U256 r;
  overflow = !vm::mul_checked(a, U256::from_u64(b), r);
  return r;
}

uint64_t intrinsic_gas(const Transaction& tx) {
  return kTxBaseGas + kTxDataByteGas * tx.data.size() + kTxCodeByteGas * tx.code.size();
}

std::string encode_block(const Block& b) {
  std::string o;
  enc::str(o, b.header.encode());
  enc::u32(o, static_cast<uint32_t>(b.txs.size()));
  for (const Transaction& t : b.txs) enc::bytes(o, t.encode());
  return o;
}

// A block's state tree changes (Column::TreeLog):
//   u32 count | count x [key (32) | u8 present | value hash (32) if present]
using TreeChanges = std::map<Hash256, std::optional<Hash256>>;

std::string encode_tree_changes(const TreeChanges& changes) {
  std::string o;
  o.reserve(4 + changes.size() * 65);
  enc::u32(o, static_cast<uint32_t>(changes.size()));
  for (const auto& [key, value] : changes) {
    enc::hash(o, key);
    enc::u8(o, value ? 1 : 0);
    if (value) enc::hash(o, *value);
  }
  return o;
}

Result<TreeChanges> decode_tree_changes(std::string_view s) {
  enc::Reader r(s);
  TreeChanges out;
  const uint32_t n = r.u32("change count");
  for (uint32_t i = 0; i < n && !r.failed(); ++i) {
    Hash256 key = r.hash("key");
    const uint8_t present = r.u8("present");
    if (present > 1) return vm::error_at(r.pos(), "present flag is not 0 or 1");
    std::optional<Hash256> value;
    if (present) value = r.hash("value hash");
    out.emplace(key, value);
  }
  if (!r.done()) return r.error();
  return out;
}

Result<Block> decode_block(std::string_view s) {
  enc::Reader r(s);
  Block b;
  std::string h = r.str("header");
  uint32_t n = r.u32("tx count");
  std::vector<Bytes> raw;
  for (uint32_t i = 0; i < n && !r.failed(); ++i) raw.push_back(r.bytes("tx"));
  if (!r.done()) return r.error();
  auto hdr = BlockHeader::decode(h);
  if (!hdr.ok()) return hdr.error();
  b.header = hdr.value();
  for (const Bytes& t : raw) {
    auto tx = decode_transaction(t);
    if (!tx.ok()) return tx.error();
    b.txs.push_back(std::move(tx.value()));
  }
  return b;
}

}  // namespace

struct Chain::Impl {
  using BlockResult = Chain::BlockResult;
  using BlockTimings = Chain::BlockTimings;
  std::unique_ptr<Store> store;
  StateTree tree;
  uint64_t chain_id = 0;
  U256 min_gas_price = U256::from_u64(kDefaultMinGasPrice);
  Address risk_engine, payment_holds;  // zero: plain payments are not scored
  BlockHeader head;
  mutable vm::ModuleCache modules;
  mutable StateCache state_cache;  // committed accounts and slots
  std::vector<BlockListener> listeners;

  // Signature checks started ahead of produce_block (verify_ahead), by
  // transaction hash. A verdict is a function of the transaction alone, so
  // where it was computed does not matter. Bounded: the oldest entries go
  // first (they are only work done early, never needed for correctness).
  std::unique_ptr<SignaturePool> pool;
  // Guards `head` against view(), which any thread may call, and makes a
  // commit's store write and head update one step for it.
  mutable std::mutex view_mu;
  mutable std::mutex ahead_mu;
  mutable std::unordered_map<Hash256, SignaturePool::JobPtr, Hash256Hasher> ahead;  // lookups only
  mutable std::deque<Hash256> ahead_order;
  static constexpr size_t kMaxAhead = 4 * kMaxBlockTxs;

  void remember_ahead(const Hash256& tx_hash, SignaturePool::JobPtr job) const {
    std::lock_guard<std::mutex> lock(ahead_mu);
    if (!ahead.emplace(tx_hash, std::move(job)).second) return;
    ahead_order.push_back(tx_hash);
    while (ahead_order.size() > kMaxAhead) {
      ahead.erase(ahead_order.front());
      ahead_order.pop_front();
    }
  }
  SignaturePool::JobPtr take_ahead(const Hash256& tx_hash) {
    std::lock_guard<std::mutex> lock(ahead_mu);
    auto it = ahead.find(tx_hash);
    if (it == ahead.end()) return nullptr;
    SignaturePool::JobPtr job = std::move(it->second);
    ahead.erase(it);  // its hash stays in ahead_order until it ages out: harmless
    return job;
  }

  // Decoded tree nodes kept in memory: the top of the tree, which every
  // block rewrites, and the live tree's nodes as far as they fit (about
  // 120 bytes each: 250 MB when full, memory that a small chain never
  // allocates). A state of 400,000 slots has a tree of about 800,000 nodes;
  // a node the cache does not hold costs its update a read from RocksDB
  // (docs/gas.md, the commit-cost audit).
  static constexpr size_t kTreeCacheNodes = 1 << 21;

  explicit Impl(std::unique_ptr<Store> s)
      : store(std::move(s)),
        tree(*store, kTreeCacheNodes),
        pool(std::make_unique<SignaturePool>(std::max(2u, std::thread::hardware_concurrency()))) {}

  // Checks against a state view; `ws` carries earlier transactions of the same block.
  struct TxMeta {
    Hash256 hash;
    Address sender;
    size_t size = 0;
  };

  // `signature_ok`: the transaction's signature verdict (SignaturePool).
  // `pending`: the sender's transactions before this one that are not in
  // the state yet (a mempool's): this one's nonce comes after theirs, and
  // the balance must cover what they may spend too.
  // A nonce gap also sets `*gap` (a block producer may keep it for later).
  std::string check(WorldState& ws, const Transaction& tx, bool signature_ok, const TxMeta& meta,
                    const Chain::Pending& pending = {}, bool* gap = nullptr) const {
    if (tx.chain_id != chain_id)
      return "wrong chain id " + std::to_string(tx.chain_id) + " (this chain is " +
             std::to_string(chain_id) + ")";
    if (!signature_ok) return "bad signature";
    if (vm::lt(tx.gas_price, min_gas_price))
      return "gas price " + vm::to_dec_string(tx.gas_price) + " is below the chain's minimum " +
             vm::to_dec_string(min_gas_price);
    size_t size = meta.size;
    if (size > kMaxTxSize)
      return "oversize: " + std::to_string(size) + " bytes (limit " + std::to_string(kMaxTxSize) +
             ")";
    if (tx.gas_limit > kBlockGasLimit)
      return "gas limit " + std::to_string(tx.gas_limit) + " above the block limit " +
             std::to_string(kBlockGasLimit);
    uint64_t intrinsic = intrinsic_gas(tx);
    if (tx.gas_limit < intrinsic)
      return "gas limit " + std::to_string(tx.gas_limit) + " below the intrinsic cost " +
             std::to_string(intrinsic);
    Account a = ws.get_account(meta.sender);
    a.nonce += pending.count;
    if (tx.nonce < a.nonce)
      return "nonce " + std::to_string(tx.nonce) + " is a replay: the account's next nonce is " +
             std::to_string(a.nonce);
    if (tx.nonce > a.nonce && gap) *gap = true;
    if (tx.nonce > a.nonce)
      return "nonce gap: nonce " + std::to_string(tx.nonce) + ", the account's next nonce is " +
             std::to_string(a.nonce);
    bool of1 = false, of2 = false;
    U256 fee = mul_u64(tx.gas_price, tx.gas_limit, of1);
    U256 need;
    of2 = !vm::add_checked(fee, tx.value, need);
    of2 = of2 || !vm::add_checked(need, pending.spend, need);
    if (of1 || of2 || vm::lt(a.balance, need))
      return "insufficient balance for value + gas: has " + vm::to_dec_string(a.balance) +
             ", needs " + (of1 || of2 ? std::string("more than 2^256") : vm::to_dec_string(need));
    return "";
  }

  // A plain payment on a chain with a risk engine (docs/runtime.md,
  // "Payments and risk"): the engine assesses it before anything moves, as
  // the system caller (the zero address) with the transaction's gas; then it
  // settles (and the engine records it), is held (the value goes to the
  // payment-holds contract, which opens a hold), or is refused (a revert
  // with PaymentRefused(score, reasons), nothing moves). `judged` receives the
  // engine's judgment whatever becomes of the payment.
  //
  // With `call`, the value comes with a call to `to`'s code (docs/runtime.md,
  // "Payments and risk"): the engine scores and records it the same way and
  // a refusal stops it, but a call cannot wait for a reviewer, so one that
  // scores at the hold threshold is not held: nothing moves here (the call
  // moves the value), r.status is Ok and the receipt gives the score.
  vm::ExecResult pay_with_risk(WorldState& ws, const Address& from, const Address& to,
                               const U256& amount, int64_t gas, std::optional<PaymentRisk>& judged,
                               bool call = false) const {
    using vm::ValType;
    using vm::Value;
    vm::ExecResult r;
    r.gas_left = gas;
    auto system_call = [&](const Address& at, const Bytes& input, bool is_static) {
      vm::Message m;
      m.self = to_vm(at);
      m.input = input;
      m.gas = r.gas_left;
      m.is_static = is_static;
      vm::ExecResult x = ws.call(m);
      r.gas_left = x.gas_left;
      return x;
    };
    auto fail = [&](vm::ExecResult x, const std::string& who) {
      x.detail = who + (x.detail.empty() ? "" : ": " + x.detail);
      return x;
    };
    const std::vector<Value> parties = {Value::u256(from.to_u256()), Value::u256(to.to_u256()),
                                        Value::u256(amount)};
    // One call scores the payment and, unless it is refused, records it in
    // both histories (settled and held alike: a burst that is being held
    // keeps raising its own velocity, so it goes on to be refused). A
    // refused payment reverts below, and with it anything the call did.
    static const uint32_t kPay =
        vm::selector_of("pay", std::vector<ValType>{ValType::U256, ValType::U256, ValType::U256});
    vm::ExecResult a = system_call(risk_engine, vm::call_input(kPay, parties), false);
    if (a.status != vm::Status::Ok) return fail(std::move(a), "risk engine");
    auto answer = vm::abi_decode(
        std::vector<ValType>{ValType::U64, ValType::Buf, ValType::U64, ValType::U64}, a.output);
    PaymentRisk k;
    if (answer.ok()) {
      const auto& v = answer.value();
      k.score = static_cast<uint16_t>(std::min<uint64_t>(v[0].word.low64(), 999));
      for (size_t i = 0; i + 8 <= v[1].bytes.size() && k.reasons.size() < 4; i += 8)
        k.reasons.push_back(v[1].bytes[i]);  // little-endian u64 codes below 100
      k.model_version = v[2].word.low64();
      const uint64_t d = v[3].word.low64();
      if (d > 2) answer = vm::error_at(0, "decision " + std::to_string(d));
      k.decision = static_cast<PaymentRisk::Decision>(d);
    }
    if (!answer.ok()) {
      r.status = vm::Status::InvalidCode;
      r.detail = "risk engine: malformed assessment (" + answer.error().message + ")";
      return r;
    }
    judged = k;
    if (k.decision == PaymentRisk::Decision::Refused) {
      std::vector<uint8_t> codes;
      for (uint8_t c : k.reasons)
        for (int b = 0; b < 8; ++b) codes.push_back(b == 0 ? c : 0);
      static const uint32_t kRefused =
          vm::selector_of("PaymentRefused", std::vector<ValType>{ValType::U64, ValType::Buf});
      r.status = vm::Status::Revert;
      r.output =
          vm::call_input(kRefused, std::vector<Value>{Value::u64(k.score), Value::buf(codes)});
      r.detail = "payment refused by the risk engine (score " + std::to_string(k.score) + ")";
      return r;
    }
    if (call) {
      judged->decision = PaymentRisk::Decision::Settled;
      r.status = vm::Status::Ok;
      return r;
    }
    const bool hold = k.decision == PaymentRisk::Decision::Held;
    if (!ws.transfer(to_vm(from), to_vm(hold ? payment_holds : to), amount)) {
      r.status = vm::Status::InsufficientBalance;
      return r;
    }
    if (!hold) {
      r.status = vm::Status::Ok;
      return r;
    }
    std::vector<uint8_t> codes;
    for (uint8_t c : k.reasons)
      for (int b = 0; b < 8; ++b) codes.push_back(b == 0 ? c : 0);
    static const uint32_t kHold =
        vm::selector_of("hold", std::vector<ValType>{ValType::U256, ValType::U256, ValType::U256,
                                                     ValType::U64, ValType::Buf});
    std::vector<Value> args = parties;
    args.push_back(Value::u64(k.score));
    args.push_back(Value::buf(codes));
    vm::ExecResult h = system_call(payment_holds, vm::call_input(kHold, args), false);
    if (h.status != vm::Status::Ok) return fail(std::move(h), "payment holds");
    auto id = vm::abi_decode(std::vector<ValType>{ValType::U64}, h.output);
    if (!id.ok()) {
      r.status = vm::Status::InvalidCode;
      r.detail = "payment holds: malformed hold id";
      return r;
    }
    judged->hold_id = id->at(0).word.low64();
    r.status = vm::Status::Ok;
    return r;
  }

  // Executes one valid transaction; state changes stay in `ws`.
  Receipt apply(WorldState& ws, const Transaction& tx, const TxMeta& meta, uint64_t height,
                uint32_t index) const {
    Receipt rc;
    rc.tx_hash = meta.hash;
    rc.height = height;
    rc.index = index;
    const Address sender = meta.sender;
    vm::BlockContext ctx = ws.block();
    ctx.origin = to_vm(sender);
    ws.set_context(ctx);

    bool of = false;
    U256 prepaid = mul_u64(tx.gas_price, tx.gas_limit, of);
    Account sa = ws.get_account(sender);
    sa.balance = vm::sub(sa.balance, prepaid);
    sa.nonce += 1;
    ws.put_account(sender, sa);
    const WorldState::Checkpoint cp = ws.checkpoint();

    int64_t gas = static_cast<int64_t>(tx.gas_limit - intrinsic_gas(tx));
    vm::ExecResult r;
    r.gas_left = gas;
    vm::Message msg;
    msg.caller = to_vm(sender);
    msg.value = tx.value;
    msg.gas = gas;
    if (tx.kind == Transaction::Kind::Call) {
      msg.self = to_vm(tx.to);
      msg.input = tx.data;
      if (tx.data.empty() && !risk_engine.is_zero() && !tx.value.is_zero()) {
        r = pay_with_risk(ws, sender, tx.to, tx.value, gas, rc.risk);
      } else if (tx.data.empty()) {
        // A plain payment: value moves and no code runs, to any account,
        // contract or not, exactly as transfer() in a contract
        // (docs/language.md, "Value").
        if (!ws.transfer(msg.caller, msg.self, tx.value))
          r.status = vm::Status::InsufficientBalance;
      } else if (!risk_engine.is_zero() && !tx.value.is_zero()) {
        // Value with a call: scored and recorded as a payment to the called
        // contract first, and refused as one; else the call runs.
        r = pay_with_risk(ws, sender, tx.to, tx.value, gas, rc.risk, true);
        if (r.status == vm::Status::Ok) {
          msg.gas = r.gas_left;
          r = ws.call(msg);
        }
      } else {
        r = ws.call(msg);
      }
    } else {
      Address addr = contract_address(sender, tx.nonce);
      rc.contract = addr;
      Account existing = ws.get_account(addr);
      auto module = modules.get(tx.code);
      if (!existing.code_hash.is_zero() || existing.nonce != 0) {
        r.status = vm::Status::InvalidCode;
        r.detail = "an account already exists at " + addr.hex();
      } else if (!module.ok()) {
        r.status = vm::Status::InvalidCode;
        r.detail = "module: " + module.error().to_string();
      } else {
        Hash256 ch;
        vm::CodeHash vh = vm::code_hash(tx.code);
        std::memcpy(ch.bytes.data(), vh.bytes, 32);
        ws.put_code(ch, tx.code);
        Account ca = existing;
        ca.code_hash = ch;
        ws.put_account(addr, ca);
        const vm::Module& m = module.value()->module();
        const vm::Export* init = m.find_export(vm::kConstructorName);
        if (!risk_engine.is_zero() && !tx.value.is_zero()) {
          // Value that comes with a deploy: scored as a payment to the new
          // contract first, as a call's (else a contract deployed with the
          // balance and a function that sends it on would move it unscored).
          r = pay_with_risk(ws, sender, addr, tx.value, gas, rc.risk, true);
          msg.gas = r.gas_left;
        }
        if (r.status != vm::Status::Ok) {
          // refused: nothing runs (reverted below)
        } else if (init) {
          msg.self = to_vm(addr);
          msg.input = tx.data;
          msg.is_deploy = true;
          r = ws.call(msg);
        } else if (!tx.data.empty()) {
          r.status = vm::Status::InvalidInput;
          r.detail = "the module has no constructor to take the deploy's data";
        } else if (!ws.transfer(msg.caller, to_vm(addr), tx.value)) {
          r.status = vm::Status::InsufficientBalance;
        }
      }
    }
    if (r.status != vm::Status::Ok) ws.revert_to(cp);
    uint64_t gas_left = r.gas_left < 0 ? 0 : static_cast<uint64_t>(r.gas_left);
    rc.gas_used = tx.gas_limit - gas_left;
    // Refund the unused gas; the fee for the used gas is burned.
    U256 refund = mul_u64(tx.gas_price, gas_left, of);
    Account after = ws.get_account(sender);
    after.balance = vm::add(after.balance, refund);
    ws.put_account(sender, after);
    rc.status = r.status;
    rc.output = r.output;
    rc.trap_func = r.func;
    rc.trap_pc = r.pc;
    rc.detail = r.detail;
    rc.calls = std::move(r.calls);
    rc.calls_omitted = r.calls_omitted;
    rc.logs = ws.take_logs();
    if (r.status != vm::Status::Ok) rc.logs.clear();
    if (tx.kind == Transaction::Kind::Deploy && r.status != vm::Status::Ok) rc.contract = Address{};
    ws.forget_journal();
    return rc;
  }

  // The state tree is persisted (its new nodes written) every
  // kTreePersistBlocks blocks, or sooner when many nodes are pending; the
  // blocks in between log their tree changes instead, and opening the chain
  // replays that log. Most nodes a block makes are replaced by the next
  // blocks (the top of the tree every time), so they never reach the store.
  static constexpr uint64_t kTreePersistBlocks = 32;
  static constexpr size_t kMaxPendingNodes = 1 << 18;
  uint64_t tree_height = 0;  // the last block whose root is persisted

  // On open: rebuilds the pending tree nodes of the blocks after the last
  // persisted root from their logs, checking each root against its block.
  // Verifies every contract's code in the store into the module cache, before
  // the chain takes part in blocks. The cache is in memory, and a call pays
  // only for its callee's first access, not for verifying the callee again
  // after a restart (docs/gas.md, "A contract's first call after a node
  // starts"). Code that does not hash to its key, or no longer verifies, is
  // a corrupt database.
  Status verify_stored_code() {
    auto code = store->scan(Column::Code);
    if (!code.ok()) return Status::failure(code.error().message);
    for (const auto& [key, value] : code.value()) {
      const std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(value.data()),
                                           value.size());
      Hash256 named;
      if (key.size() != named.bytes.size())
        return Status::failure("database is corrupt: a code record's key is " +
                               std::to_string(key.size()) + " bytes, not 32");
      std::memcpy(named.bytes.data(), key.data(), named.bytes.size());
      const vm::CodeHash h = vm::code_hash(bytes);
      if (std::memcmp(h.bytes, named.bytes.data(), named.bytes.size()) != 0)
        return Status::failure("database is corrupt: the code stored as 0x" + named.hex() +
                               " does not hash to its key");
      auto module = modules.get(bytes);
      if (!module.ok())
        return Status::failure("database is corrupt: the code 0x" + named.hex() +
                               " does not verify: " + module.error().to_string());
    }
    return Status::success();
  }

  Status replay_tree_log() {
    auto corrupt = [](const std::string& what) {
      return Status::failure("database is corrupt: " + what);
    };
    auto recorded = store->get(Column::Meta, "tree_height");
    if (!recorded.ok()) return Status::failure(recorded.error().message);
    tree_height = head.height;  // no record: every root was persisted
    if (recorded.value()) {
      enc::Reader r(*recorded.value());
      tree_height = r.u64("tree_height");
      if (!r.done() || tree_height > head.height)
        return corrupt("the persisted state tree height is invalid");
    }
    auto header_at = [&](uint64_t h) -> Result<BlockHeader> {
      auto raw = store->get(Column::Blocks, height_key(h));
      if (!raw.ok()) return raw.error();
      if (!raw.value()) return vm::error_at(0, "block " + std::to_string(h) + " is missing");
      auto blk = decode_block(*raw.value());
      if (!blk.ok()) return blk.error();
      return blk->header;
    };
    auto start = header_at(tree_height);
    if (!start.ok()) return corrupt(start.error().message);
    Hash256 root = start->state_root;
    for (uint64_t h = tree_height + 1; h <= head.height; ++h) {
      const std::string what = "the state tree log of block " + std::to_string(h);
      auto raw = store->get(Column::TreeLog, height_key(h));
      if (!raw.ok()) return Status::failure(raw.error().message);
      if (!raw.value()) return corrupt(what + " is missing");
      auto changes = decode_tree_changes(*raw.value());
      if (!changes.ok()) return corrupt(what + ": " + changes.error().to_string());
      auto next = tree.update(root, changes.value());
      if (!next.ok()) return corrupt(what + ": " + next.error().message);
      auto header = header_at(h);
      if (!header.ok()) return corrupt(header.error().message);
      if (next.value() != header->state_root)
        return corrupt(what + " gives state root " + next.value().hex() + ", the block has " +
                       header->state_root.hex());
      root = next.value();
    }
    return Status::success();
  }

  static Error mismatch(uint64_t height, const char* field, const Hash256& computed,
                        const Hash256& header) {
    return vm::error_at(0, "block " + std::to_string(height) + " rejected: header field " + field +
                               " is " + header.hex() + ", executing the block gives " +
                               computed.hex());
  }

  // Executes `txs` on top of the head and commits the block. With
  // `expected` (apply_block), every transaction must be valid and the
  // header's roots and gas must come out the same, else nothing is committed.
  // With `stage`, writes nothing: the block is kept in `staged` for
  // commit_staged().
  Result<BlockResult> execute(const std::vector<Transaction>& txs, uint64_t timestamp,
                              const BlockHeader* expected, bool stage = false);

  // A block executed and rooted, its records in a batch not yet written.
  struct Prepared {
    Block block;  // the header complete: state and receipts roots
    WriteBatch batch;
    std::vector<Hash256> replaced, made;  // tree nodes the block replaced and made
    bool persist_tree = false;
    uint64_t state_root_ns = 0;
    uint64_t records_ns = 0;  // the batch after the root: tree, receipts, block record
  };

  // Commits `ws` and the block records in one synced batch. With `expected`
  // (a block made elsewhere), the state and receipts roots must be the
  // header's, else nothing is written.
  Result<BlockHeader> commit(WorldState& ws, const Block& proposed,
                             const std::vector<Receipt>& receipts, WriteBatch batch = {},
                             const BlockHeader* expected = nullptr,
                             BlockTimings* timings = nullptr) {
    auto p = prepare(ws, proposed, receipts, std::move(batch), expected);
    if (!p.ok()) return p.error();
    return finish(ws, p.value(), receipts, timings);
  }

  // The state root, the receipts root and the batch of a block, nothing
  // written: the tree holds the new nodes as pending until finish() or
  // abandon().
  Result<Prepared> prepare(WorldState& ws, const Block& proposed,
                           const std::vector<Receipt>& receipts, WriteBatch batch,
                           const BlockHeader* expected) {
    const auto started = std::chrono::steady_clock::now();
    if (ws.store_error())
      return store_damaged("block " + std::to_string(proposed.header.height) +
                           " not committed: " + ws.store_error()->message);
    Prepared p;
    const uint64_t height = proposed.header.height;
    TreeChanges changes;
    ws.collect(batch, changes);
    auto root = tree.update(head.state_root, changes, &p.replaced, &p.made);
    if (!root.ok()) return root.error();
    const auto rooted = std::chrono::steady_clock::now();
    p.state_root_ns = static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::nanoseconds>(rooted - started).count());
    p.persist_tree = height == 0 || height - tree_height >= kTreePersistBlocks ||
                     tree.pending() >= kMaxPendingNodes;
    if (p.persist_tree) {
      tree.persist(root.value(), batch);
      for (uint64_t h = tree_height + 1; h < height; ++h) batch.del(Column::TreeLog, height_key(h));
      batch.put(Column::Meta, "tree_height", height_key(height));
    } else {
      batch.put(Column::TreeLog, height_key(height), encode_tree_changes(changes));
    }
    p.block = proposed;
    Block& b = p.block;
    b.header.state_root = root.value();
    std::vector<Hash256> rh;
    rh.reserve(receipts.size());
    for (const Receipt& r : receipts) {
      std::string e = r.encode();
      rh.push_back(Receipt::hash_of_encoding(e));
      batch.put(Column::Receipts, hash_key(r.tx_hash), std::move(e));
    }
    b.header.receipts_root = merkle_root(rh);
    if (expected) {
      if (b.header.receipts_root != expected->receipts_root) {
        tree.forget_pending(p.made);  // nothing of a refused block stays
        return mismatch(height, "receipts_root", b.header.receipts_root, expected->receipts_root);
      }
      if (b.header.state_root != expected->state_root) {
        tree.forget_pending(p.made);
        return mismatch(height, "state_root", b.header.state_root, expected->state_root);
      }
    }
    batch.put(Column::Blocks, height_key(b.header.height), encode_block(b));
    batch.put(Column::Meta, "head", height_key(b.header.height));
    p.batch = std::move(batch);
    p.records_ns = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                             std::chrono::steady_clock::now() - rooted)
                                             .count());
    return p;
  }

  // Drops a prepared block: the tree forgets the nodes it made.
  void abandon(Prepared& p) { tree.forget_pending(p.made); }

  // Writes a prepared block (synced) and makes it the head.
  Result<BlockHeader> finish(WorldState& ws, Prepared& p, const std::vector<Receipt>& receipts,
                             BlockTimings* timings) {
    const auto started = std::chrono::steady_clock::now();
    const Block& b = p.block;
    const uint64_t height = b.header.height;
    // Held until the head is updated: a view taken in between would see the
    // new block's state under the old header.
    std::unique_lock<std::mutex> publishing(view_mu);
    Status s = store->write(p.batch, true);
    if (!s) {
      // Nothing of the block stays: the tree forgets the nodes it made, the
      // state cache never saw the block (publish comes after), and the head,
      // tree_height and listeners are untouched. The chain is exactly at its
      // last committed block and can produce this one again.
      tree.forget_pending(p.made);
      // Not acknowledged is all this process can say: a write whose sync (or
      // whose commit record) failed may have reached the disk whole, and the
      // next start then finds the block (docs/runtime.md, "A full disk").
      return vm::error_at(0, std::string(kStorageUnavailable) + "block " + std::to_string(height) +
                                 " not acknowledged: " + s.message + ". The chain stays at " +
                                 "block " + std::to_string(height - 1) +
                                 "; a write that failed may still have reached the disk, and the "
                                 "next start then finds block " +
                                 std::to_string(height) +
                                 " committed: before making a new transaction, look for the "
                                 "receipt of the one sent, or send that same signed transaction "
                                 "again (its nonce lets it count once)");
    }
    if (p.persist_tree) {
      tree.drop_pending();
      tree_height = height;
    } else {
      tree.forget_pending(p.replaced);  // the previous head's nodes that this one replaced
    }
    tree.forget_cached(p.replaced);
    if (timings) {
      timings->state_root_ns = p.state_root_ns;
      timings->commit_ns =
          p.records_ns + static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                                   std::chrono::steady_clock::now() - started)
                                                   .count());
    }
    ws.publish(state_cache);
    head = b.header;
    publishing.unlock();
    for (const auto& l : listeners) l(b, receipts);
    return head;
  }

  // The block stage_block executed, waiting for commit_staged.
  struct Staged {
    std::unique_ptr<WorldState> ws;
    BlockResult result;
    Prepared prepared;
  };
  std::optional<Staged> staged;
};

Chain::Chain(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Chain::~Chain() = default;

Result<std::unique_ptr<Chain>> Chain::open(std::unique_ptr<Store> store, const Genesis& genesis) {
  auto impl = std::make_unique<Impl>(std::move(store));
  Impl& c = *impl;
  auto head = c.store->get(Column::Meta, "head");
  if (!head.ok()) return head.error();
  if (head.value()) {
    auto id = c.store->get(Column::Meta, "chain_id");
    if (!id.ok()) return id.error();
    enc::Reader r(id.value() ? std::string_view(*id.value()) : std::string_view());
    uint64_t stored_id = r.u64("chain_id");
    if (!r.done())
      return vm::error_at(0, "database has no valid chain id: not a Writ chain, or corrupt");
    if (stored_id != genesis.chain_id)
      return vm::error_at(0, "database holds chain " + std::to_string(stored_id) +
                                 ", genesis says " + std::to_string(genesis.chain_id));
    c.chain_id = stored_id;
    // The minimum gas price is the one the chain was created with; a chain
    // made before the parameter existed has no record and takes the
    // genesis value.
    auto price = c.store->get(Column::Meta, "min_gas_price");
    if (!price.ok()) return price.error();
    c.min_gas_price = genesis.min_gas_price;
    if (price.value()) {
      if (price.value()->size() != 32)
        return vm::error_at(0, "database is corrupt: the minimum gas price record is invalid");
      c.min_gas_price = vm::from_be_bytes(reinterpret_cast<const uint8_t*>(price.value()->data()));
      if (c.min_gas_price != genesis.min_gas_price)
        return vm::error_at(0, "database holds a chain with minimum gas price " +
                                   vm::to_dec_string(c.min_gas_price) + ", genesis says " +
                                   vm::to_dec_string(genesis.min_gas_price));
    }
    // The payment-risk contracts, likewise: no record means none.
    auto risk = c.store->get(Column::Meta, "payment_risk");
    if (!risk.ok()) return risk.error();
    if (risk.value()) {
      if (risk.value()->size() != 64)
        return vm::error_at(0, "database is corrupt: the payment risk record is invalid");
      std::memcpy(c.risk_engine.bytes.data(), risk.value()->data(), 32);
      std::memcpy(c.payment_holds.bytes.data(), risk.value()->data() + 32, 32);
    }
    if (c.risk_engine != genesis.risk_engine || c.payment_holds != genesis.payment_holds)
      return vm::error_at(
          0, "database holds a chain whose payment risk contracts are " +
                 (c.risk_engine.is_zero() ? std::string("none")
                                          : c.risk_engine.hex() + " and " + c.payment_holds.hex()) +
                 ", genesis says " +
                 (genesis.risk_engine.is_zero()
                      ? std::string("none")
                      : genesis.risk_engine.hex() + " and " + genesis.payment_holds.hex()));
    // The genesis must be the one block 0 was made from: another with the
    // same chain id and parameters but other accounts or contracts would be
    // served as this chain's (writ_getGenesis) while the state says otherwise.
    {
      Hash256 genesis_root;
      auto kept = c.store->get(Column::Meta, "genesis_root");
      if (!kept.ok()) return kept.error();
      if (kept.value() && kept.value()->size() == 32) {
        std::memcpy(genesis_root.bytes.data(), kept.value()->data(), 32);
      } else {
        auto zero = c.store->get(Column::Blocks, height_key(0));
        if (!zero.ok()) return zero.error();
        if (!zero.value()) return vm::error_at(0, "database is corrupt: block 0 is missing");
        auto z = decode_block(*zero.value());
        if (!z.ok())
          return vm::error_at(0, "database is corrupt: block 0: " + z.error().to_string());
        genesis_root = z->header.state_root;
      }
      auto made = Chain::open(open_memory_store(), genesis);
      if (!made.ok()) return made.error();
      if (made.value()->head().state_root != genesis_root)
        return vm::error_at(0, "database holds chain " + std::to_string(stored_id) +
                                   " made from another genesis: its block 0 has state root 0x" +
                                   genesis_root.hex() + ", this genesis makes 0x" +
                                   made.value()->head().state_root.hex());
    }
    auto raw = c.store->get(Column::Blocks, *head.value());
    if (!raw.ok()) return raw.error();
    if (!raw.value()) return vm::error_at(0, "database is corrupt: the head block is missing");
    auto b = decode_block(*raw.value());
    if (!b.ok())
      return vm::error_at(0, "database is corrupt: head block: " + b.error().to_string());
    c.head = b->header;
    if (Status replayed = c.replay_tree_log(); !replayed) return vm::error_at(0, replayed.message);
    if (Status verified = c.verify_stored_code(); !verified)
      return vm::error_at(0, verified.message);
    if (Status confirmed = c.store->confirm_open(); !confirmed)
      return vm::error_at(0, confirmed.message);
    return std::unique_ptr<Chain>(new Chain(std::move(impl)));
  }
  // A new chain: block 0 from the genesis.
  if (genesis.min_gas_price.is_zero())
    return vm::error_at(0, "genesis: the minimum gas price must be at least 1");
  c.chain_id = genesis.chain_id;
  c.min_gas_price = genesis.min_gas_price;
  if (genesis.risk_engine.is_zero() != genesis.payment_holds.is_zero())
    return vm::error_at(0, "genesis: risk_engine and payment_holds go together");
  c.risk_engine = genesis.risk_engine;
  c.payment_holds = genesis.payment_holds;
  c.head.state_root = StateTree::empty_root();
  vm::BlockContext ctx;
  ctx.number = 0;
  ctx.timestamp = genesis.timestamp;
  ctx.chain_id = genesis.chain_id;
  WorldState ws(*c.store, c.modules, ctx, &c.state_cache);
  ws.set_risk_engine(c.risk_engine);
  std::map<Address, size_t> listed;
  for (size_t i = 0; i < genesis.accounts.size(); ++i) {
    const GenesisAccount& a = genesis.accounts[i];
    if (auto [at, fresh] = listed.emplace(a.address, i); !fresh)
      return vm::error_at(0, "genesis accounts[" + std::to_string(i) + "].address: 0x" +
                                 a.address.hex() + " is listed before, at accounts[" +
                                 std::to_string(at->second) + "]");
    Account acct = ws.get_account(a.address);
    acct.balance = a.balance;
    ws.put_account(a.address, acct);
  }
  std::vector<Receipt> receipts;
  for (size_t j = 0; j < genesis.contracts.size(); ++j) {
    const GenesisContract& gc = genesis.contracts[j];
    auto module = c.modules.get(gc.code);
    if (!module.ok())
      return vm::error_at(0, "genesis contracts[" + std::to_string(j) + "] at 0x" +
                                 gc.address.hex() + ": " + module.error().to_string());
    Hash256 ch;
    vm::CodeHash vh = vm::code_hash(gc.code);
    std::memcpy(ch.bytes.data(), vh.bytes, 32);
    ws.put_code(ch, gc.code);
    Account ca = ws.get_account(gc.address);
    ca.code_hash = ch;
    if (!vm::add_checked(ca.balance, gc.balance, ca.balance))
      return vm::error_at(0, "genesis contracts[" + std::to_string(j) +
                                 "].balance: with the balance " + "accounts[] gives 0x" +
                                 gc.address.hex() + ", it passes 2^256 - 1");
    ws.put_account(gc.address, ca);
    if (module.value()->module().find_export(vm::kConstructorName)) {
      vm::Message msg;
      msg.self = to_vm(gc.address);
      msg.input = gc.init_input;
      msg.gas = static_cast<int64_t>(kBlockGasLimit);
      msg.is_deploy = true;
      auto r = ws.call(msg);
      if (r.status != vm::Status::Ok)
        return vm::error_at(0, "genesis contracts[" + std::to_string(j) + "] at 0x" +
                                   gc.address.hex() + ": constructor failed: " +
                                   std::string(vm::status_name(r.status)) + " " + r.detail);
    }
    ws.forget_journal();
  }
  for (size_t i = 0; i < genesis.calls.size(); ++i) {
    const GenesisCall& gc = genesis.calls[i];
    vm::Message msg;
    msg.caller = to_vm(gc.from);
    msg.self = to_vm(gc.to);
    msg.input = gc.input;
    msg.gas = static_cast<int64_t>(kBlockGasLimit);
    auto r = ws.call(msg);
    if (r.status != vm::Status::Ok)
      return vm::error_at(
          0,
          "genesis calls[" + std::to_string(i) + "] to 0x" + gc.to.hex() + " failed: " +
              std::string(vm::status_name(r.status)) + (r.detail.empty() ? "" : " " + r.detail) +
              (r.output.empty() ? ""
                                : " (output " + vm::format_value(vm::Value::buf(r.output)) + ")"));
    ws.forget_journal();
  }
  ws.take_logs();
  Block b;
  b.header.height = 0;
  b.header.timestamp = genesis.timestamp;
  b.header.tx_root = merkle_root({});
  // The chain id goes in the same batch as block 0: a crash leaves either a
  // whole genesis or nothing.
  WriteBatch meta;
  std::string id;
  enc::u64(id, genesis.chain_id);
  meta.put(Column::Meta, "chain_id", id);
  uint8_t price[32];
  vm::to_be_bytes(genesis.min_gas_price, price);
  meta.put(Column::Meta, "min_gas_price", std::string_view(reinterpret_cast<char*>(price), 32));
  if (!genesis.risk_engine.is_zero()) {
    for (const Address& a : {genesis.risk_engine, genesis.payment_holds})
      if (ws.get_account(a).code_hash.is_zero())
        return vm::error_at(0, "genesis: the payment risk contract " + a.hex() + " has no code");
    std::string both(reinterpret_cast<const char*>(genesis.risk_engine.bytes.data()), 32);
    both.append(reinterpret_cast<const char*>(genesis.payment_holds.bytes.data()), 32);
    meta.put(Column::Meta, "payment_risk", both);
  }
  auto committed = c.commit(ws, b, receipts, std::move(meta));
  if (!committed.ok()) return committed.error();
  // Block 0's state root beside the chain id, for the reopen's genesis check
  // (which falls back to block 0 itself where a crash left this out).
  WriteBatch root;
  root.put(Column::Meta, "genesis_root",
           std::string_view(reinterpret_cast<const char*>(c.head.state_root.bytes.data()), 32));
  if (Status w = c.store->write(root, true); !w) return vm::error_at(0, w.message);
  return std::unique_ptr<Chain>(new Chain(std::move(impl)));
}

uint64_t Chain::chain_id() const {
  return impl_->chain_id;
}
const U256& Chain::min_gas_price() const {
  return impl_->min_gas_price;
}
const BlockHeader& Chain::head() const {
  return impl_->head;
}
void Chain::set_execution_tier(std::shared_ptr<vm::ExecutionTier> tier) {
  impl_->modules.set_tier(std::move(tier));
}

void Chain::set_verify_threads(unsigned n) {
  impl_->pool = std::make_unique<SignaturePool>(n);
}

void Chain::verify_ahead(std::span<const Transaction> txs) {
  Impl& c = *impl_;
  std::vector<SignaturePool::JobPtr> jobs;
  jobs.reserve(txs.size());
  for (const Transaction& tx : txs) {
    Bytes e = tx.encode();
    auto job = SignaturePool::make(tx, e);
    c.remember_ahead(sha256(e), job);
    jobs.push_back(std::move(job));
  }
  c.pool->submit(std::move(jobs));
}
size_t Chain::verdicts_kept() const {
  std::lock_guard<std::mutex> lock(impl_->ahead_mu);
  return impl_->ahead.size();
}

void Chain::subscribe(BlockListener listener) {
  impl_->listeners.push_back(std::move(listener));
}

Status Chain::validate(const Transaction& tx) const {
  return validate(tx, Pending{});
}

U256 Chain::Pending::most_spent(const Transaction& tx) {
  bool of1 = false;
  U256 fee = mul_u64(tx.gas_price, tx.gas_limit, of1), out;
  if (of1 || !vm::add_checked(fee, tx.value, out)) return U256::max();
  return out;
}

Status Chain::validate(const Transaction& tx, const Pending& pending) const {
  vm::BlockContext ctx;
  ctx.chain_id = impl_->chain_id;
  WorldState ws(*impl_->store, impl_->modules, ctx, &impl_->state_cache);
  // The signature is checked now and its verdict kept for produce_block.
  Bytes e = tx.encode();
  Impl::TxMeta meta{sha256(e), tx.sender(), e.size()};
  auto job = SignaturePool::make(tx, e);
  const bool signed_ok = impl_->pool->run_now(job);
  std::string reason = impl_->check(ws, tx, signed_ok, meta, pending);
  // A reason drawn from a state read that failed (a zero balance, a zero
  // nonce) is no reason: the failure is the answer.
  if (ws.store_error()) return Status::failure(store_damaged(ws.store_error()->message).message);
  // The verdict is kept for the block only for a transaction that may be in
  // one: refused ones (CheckTx's, anyone's) kept theirs too, with a copy of
  // the transaction, 40,000 of 256 KiB at most: 10 GB of a node's memory.
  if (reason.empty()) impl_->remember_ahead(meta.hash, std::move(job));
  return reason.empty() ? Status::success() : Status::failure(reason);
}

Result<Chain::BlockResult> Chain::Impl::execute(const std::vector<Transaction>& txs,
                                                uint64_t timestamp, const BlockHeader* expected,
                                                bool stage) {
  Impl& c = *this;
  if (c.staged)
    return vm::error_at(0, "block " + std::to_string(c.staged->result.block.header.height) +
                               " is staged: commit or discard it first");
  if (timestamp < c.head.timestamp)
    return vm::error_at(0, "block timestamp " + std::to_string(timestamp) +
                               " is before the head's " + std::to_string(c.head.timestamp));
  if (txs.size() > kMaxBlockTxs)
    return vm::error_at(0, "more than " + std::to_string(kMaxBlockTxs) + " transactions");
  // Signatures are the physical limit of throughput, so their checks run on
  // the pool's threads while this thread executes (and were perhaps started
  // by verify_ahead while the previous block committed); transaction i waits
  // only for its own verdict, and helps with the others while it waits.
  const size_t n = txs.size();
  std::vector<Impl::TxMeta> meta(n);
  std::vector<SignaturePool::JobPtr> jobs(n);
  std::vector<SignaturePool::JobPtr> fresh;
  for (size_t i = 0; i < n; ++i) {
    Bytes e = txs[i].encode();
    meta[i] = Impl::TxMeta{sha256(e), txs[i].sender(), e.size()};
    jobs[i] = c.take_ahead(meta[i].hash);
    if (!jobs[i]) {
      jobs[i] = SignaturePool::make(txs[i], e);
      fresh.push_back(jobs[i]);
    }
  }
  c.pool->submit(std::move(fresh));

  const auto started = std::chrono::steady_clock::now();
  BlockResult out;
  out.block.header.height = c.head.height + 1;
  out.block.header.parent_hash = c.head.hash();
  out.block.header.timestamp = timestamp;
  vm::BlockContext ctx;
  ctx.number = out.block.header.height;
  ctx.timestamp = timestamp;
  ctx.chain_id = c.chain_id;
  auto ws_owner = std::make_unique<WorldState>(*c.store, c.modules, ctx, &c.state_cache);
  WorldState& ws = *ws_owner;
  ws.set_risk_engine(c.risk_engine);
  uint64_t block_gas = 0;
  std::vector<Hash256> th;
  for (size_t i = 0; i < n; ++i) {
    const Transaction& tx = txs[i];
    bool gap = false;
    std::string reason = c.check(ws, tx, c.pool->wait(jobs[i]), meta[i], {}, &gap);
    RejectKind kind = gap ? RejectKind::NonceGap : RejectKind::Invalid;
    // A transaction checked or executed against a value the store could not
    // give back would build the block on a wrong zero: the block fails.
    if (ws.store_error())
      return store_damaged("block " + std::to_string(out.block.header.height) +
                           " not committed: " + ws.store_error()->message);
    if (reason.empty() && block_gas + tx.gas_limit > kBlockGasLimit) {
      reason = "block gas limit reached";
      kind = RejectKind::NoRoom;
    }
    if (!reason.empty()) {
      if (expected)
        return vm::error_at(0, "block " + std::to_string(out.block.header.height) +
                                   " rejected: transaction " + std::to_string(i) + " (0x" +
                                   meta[i].hash.hex() + ") is invalid: " + reason);
      out.rejected.push_back({meta[i].hash, reason, kind});
      continue;
    }
    Receipt rc = c.apply(ws, tx, meta[i], out.block.header.height,
                         static_cast<uint32_t>(out.block.txs.size()));
    if (ws.store_error())
      return store_damaged("block " + std::to_string(out.block.header.height) +
                           " not committed: " + ws.store_error()->message);
    block_gas += rc.gas_used;
    out.block.txs.push_back(tx);
    th.push_back(meta[i].hash);
    out.receipts.push_back(std::move(rc));
  }
  out.block.header.gas_used = block_gas;
  out.block.header.tx_root = merkle_root(th);
  if (expected) {
    if (out.block.header.tx_root != expected->tx_root)
      return mismatch(out.block.header.height, "tx_root", out.block.header.tx_root,
                      expected->tx_root);
    if (block_gas != expected->gas_used)
      return vm::error_at(0, "block " + std::to_string(out.block.header.height) +
                                 " rejected: header field gas_used is " +
                                 std::to_string(expected->gas_used) +
                                 ", executing the block gives " + std::to_string(block_gas));
  }
  out.timings.execute_ns =
      static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::nanoseconds>(
                                std::chrono::steady_clock::now() - started)
                                .count());
  if (stage) {
    auto p = c.prepare(ws, out.block, out.receipts, {}, expected);
    if (!p.ok()) return p.error();
    out.block = p.value().block;
    out.timings.state_root_ns = p.value().state_root_ns;
    c.staged = Staged{std::move(ws_owner), out, std::move(p.value())};
    return out;
  }
  auto h = c.commit(ws, out.block, out.receipts, {}, expected, &out.timings);
  if (!h.ok()) return h.error();
  out.block.header = h.value();
  return out;
}

Result<Chain::BlockResult> Chain::produce_block(const std::vector<Transaction>& txs,
                                                uint64_t timestamp) {
  return impl_->execute(txs, timestamp, nullptr);
}

Result<Chain::BlockResult> Chain::stage_block(const std::vector<Transaction>& txs,
                                              uint64_t timestamp) {
  return impl_->execute(txs, timestamp, nullptr, true);
}

Result<BlockHeader> Chain::commit_staged() {
  Impl& c = *impl_;
  if (!c.staged) return vm::error_at(0, "no staged block to commit");
  Impl::Staged st = std::move(*c.staged);
  c.staged.reset();
  return c.finish(*st.ws, st.prepared, st.result.receipts, nullptr);
}

void Chain::discard_staged() {
  Impl& c = *impl_;
  if (!c.staged) return;
  c.abandon(c.staged->prepared);
  c.staged.reset();
}

const Chain::BlockResult* Chain::staged() const {
  return impl_->staged ? &impl_->staged->result : nullptr;
}

Result<Receipt> Chain::trace_transaction(const Block& block, uint32_t index, CallTracer* tracer,
                                         const std::function<void(const StateReader&)>& before) {
  Impl& c = *impl_;
  const BlockHeader& h = block.header;
  if (h.height != c.head.height + 1 || h.parent_hash != c.head.hash())
    return vm::error_at(0, "block " + std::to_string(h.height) + " does not follow the head (" +
                               std::to_string(c.head.height) + ")");
  if (index >= block.txs.size())
    return vm::error_at(0, "block " + std::to_string(h.height) + " has " +
                               std::to_string(block.txs.size()) + " transactions, not " +
                               std::to_string(index + 1));
  vm::BlockContext ctx;
  ctx.number = h.height;
  ctx.timestamp = h.timestamp;
  ctx.chain_id = c.chain_id;
  WorldState ws(*c.store, c.modules, ctx, &c.state_cache);
  ws.set_risk_engine(c.risk_engine);
  for (uint32_t i = 0; i <= index; ++i) {
    const Transaction& tx = block.txs[i];
    const Bytes e = tx.encode();
    const Impl::TxMeta meta{sha256(e), tx.sender(), e.size()};
    const std::string reason = c.check(ws, tx, tx.signature_valid(), meta);
    if (!reason.empty())
      return vm::error_at(0, "transaction " + std::to_string(i) + " of block " +
                                 std::to_string(h.height) + " is invalid here: " + reason);
    if (i == index) {
      if (before)
        before([&ws](const Address& a, const U256& slot) { return ws.get_storage(a, slot); });
      ws.set_tracer(tracer);
    }
    Receipt rc = c.apply(ws, tx, meta, h.height, i);
    if (ws.store_error()) return store_damaged(ws.store_error()->message);
    if (i == index) return rc;
  }
  return vm::error_at(0, "unreachable");
}

Result<Chain::BlockResult> Chain::apply_block(const Block& block) {
  const Impl& c = *impl_;
  const BlockHeader& h = block.header;
  const std::string at = "block " + std::to_string(h.height) + " rejected: ";
  if (h.height != c.head.height + 1)
    return vm::error_at(
        0, at + "header field height: the next block is " + std::to_string(c.head.height + 1));
  if (h.parent_hash != c.head.hash())
    return vm::error_at(
        0, at + "header field parent_hash is not the head's hash " + c.head.hash().hex());
  if (h.timestamp < c.head.timestamp)
    return vm::error_at(0, at + "header field timestamp " + std::to_string(h.timestamp) +
                               " is before the head's " + std::to_string(c.head.timestamp));
  if (block.txs.size() > kMaxBlockTxs)
    return vm::error_at(0, at + "more than " + std::to_string(kMaxBlockTxs) + " transactions");
  return impl_->execute(block.txs, h.timestamp, &h);
}

namespace {

// A read-only call at `head` over `store`: the overlay is discarded, so
// nothing is ever committed.
Result<vm::ExecResult> call_at(const StoreReader& store, vm::ModuleCache& modules,
                               StateCache* cache, const BlockHeader& head, uint64_t chain_id,
                               const Address& risk_engine, const Address& from, const Address& to,
                               const Bytes& input, uint64_t gas) {
  vm::BlockContext ctx;
  ctx.number = head.height;
  ctx.timestamp = head.timestamp;
  ctx.chain_id = chain_id;
  ctx.origin = to_vm(from);
  WorldState ws(store, modules, ctx, cache);
  ws.set_risk_engine(risk_engine);
  vm::Message msg;
  msg.caller = to_vm(from);
  msg.self = to_vm(to);
  msg.input = input;
  msg.gas = static_cast<int64_t>(std::min<uint64_t>(gas, kBlockGasLimit));
  vm::ExecResult r = ws.call(msg);
  if (ws.store_error()) return store_damaged(ws.store_error()->message);
  return r;
}

}  // namespace

Result<vm::ExecResult> Chain::call(const Address& from, const Address& to, const Bytes& input,
                                   uint64_t gas) const {
  return call_at(*impl_->store, impl_->modules, &impl_->state_cache, impl_->head, impl_->chain_id,
                 impl_->risk_engine, from, to, input, gas);
}

// A view reads its snapshot only. It shares the chain's module cache (thread-
// safe, and keyed by code hash, so any module in it is right for any state)
// but not the state cache: that holds the newest committed values, which a
// view of an older head must not see, and a value read from an older
// snapshot must never be put into it.
struct ChainView::Impl {
  BlockHeader head;
  uint64_t chain_id = 0;
  std::unique_ptr<const StoreReader> snapshot;
  vm::ModuleCache& modules;
  Address risk_engine;
};

ChainView::ChainView(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ChainView::~ChainView() = default;
const BlockHeader& ChainView::head() const {
  return impl_->head;
}
uint64_t ChainView::chain_id() const {
  return impl_->chain_id;
}
Result<vm::ExecResult> ChainView::call(const Address& from, const Address& to, const Bytes& input,
                                       uint64_t gas) const {
  return call_at(*impl_->snapshot, impl_->modules, nullptr, impl_->head, impl_->chain_id,
                 impl_->risk_engine, from, to, input, gas);
}

Result<std::shared_ptr<const ChainView>> Chain::view() const {
  // The snapshot and the head are taken together, between commits (view_mu),
  // so the snapshot holds exactly the head's state.
  std::unique_ptr<const StoreReader> snap;
  BlockHeader head;
  {
    std::lock_guard<std::mutex> lock(impl_->view_mu);
    snap = impl_->store->snapshot();
    head = impl_->head;
  }
  if (!snap) return vm::error_at(0, "the chain's store cannot take snapshots");
  auto impl = std::make_unique<ChainView::Impl>(
      ChainView::Impl{head, impl_->chain_id, std::move(snap), impl_->modules, impl_->risk_engine});
  return std::shared_ptr<const ChainView>(std::make_shared<ChainView>(std::move(impl)));
}

Result<Account> Chain::account(const Address& a) const {
  vm::BlockContext ctx;
  WorldState ws(*impl_->store, impl_->modules, ctx, &impl_->state_cache);
  Account acct = ws.get_account(a);
  if (ws.store_error()) return store_damaged(ws.store_error()->message);
  return acct;
}

Result<U256> Chain::balance(const Address& a) const {
  auto acct = account(a);
  if (!acct.ok()) return acct.error();
  return acct->balance;
}

Result<U256> Chain::storage(const Address& a, const U256& slot) const {
  vm::BlockContext ctx;
  WorldState ws(*impl_->store, impl_->modules, ctx, &impl_->state_cache);
  U256 v = ws.get_storage(a, slot);
  if (ws.store_error()) return store_damaged(ws.store_error()->message);
  return v;
}

Result<std::optional<Bytes>> Chain::code(const Hash256& code_hash) const {
  auto r = impl_->store->get(Column::Code, hash_key(code_hash));
  if (!r.ok()) return store_damaged("reading code " + code_hash.hex() + ": " + r.error().message);
  if (!r.value()) return std::optional<Bytes>();
  return std::optional<Bytes>(Bytes(r.value()->begin(), r.value()->end()));
}

Result<std::optional<Receipt>> Chain::receipt(const Hash256& tx_hash) const {
  auto r = impl_->store->get(Column::Receipts, hash_key(tx_hash));
  if (!r.ok())
    return store_damaged("reading the receipt of " + tx_hash.hex() + ": " + r.error().message);
  if (!r.value()) return std::optional<Receipt>();
  auto rc = Receipt::decode(*r.value());
  if (!rc.ok())
    return store_damaged("the receipt of " + tx_hash.hex() +
                         " does not decode: " + rc.error().to_string());
  return std::optional<Receipt>(std::move(rc.value()));
}

Result<std::optional<Block>> Chain::block(uint64_t height) const {
  const std::string what = "block " + std::to_string(height);
  auto r = impl_->store->get(Column::Blocks, height_key(height));
  if (!r.ok()) return store_damaged("reading " + what + ": " + r.error().message);
  if (!r.value()) {
    // Every block up to the head was committed: one missing is damage.
    if (height <= impl_->head.height) return store_damaged(what + " is missing");
    return std::optional<Block>();
  }
  auto b = decode_block(*r.value());
  if (!b.ok()) return store_damaged(what + " does not decode: " + b.error().to_string());
  return std::optional<Block>(std::move(b.value()));
}

Result<AccountProof> Chain::prove_account(const Address& a) const {
  AccountProof p;
  p.state_root = impl_->head.state_root;
  p.height = impl_->head.height;
  p.address = a;
  // The tree is read from the store too: a node it cannot give back is damage.
  auto proof = impl_->tree.prove(p.state_root, account_key(a));
  if (!proof.ok()) return store_damaged("proof of " + a.hex() + ": " + proof.error().message);
  p.proof = proof.value();
  auto acct = account(a);
  if (!acct.ok()) return acct.error();
  if (!acct->is_empty()) p.account = acct.value();
  return p;
}

Result<StorageProof> Chain::prove_storage(const Address& a, const U256& slot) const {
  StorageProof p;
  p.state_root = impl_->head.state_root;
  p.height = impl_->head.height;
  p.address = a;
  p.slot = slot;
  auto proof = impl_->tree.prove(p.state_root, storage_key(a, slot));
  if (!proof.ok())
    return store_damaged("storage proof of " + a.hex() + ": " + proof.error().message);
  p.proof = proof.value();
  auto value = storage(a, slot);
  if (!value.ok()) return value.error();
  p.value = value.value();
  p.present = !p.value.is_zero();
  return p;
}

}  // namespace writ::runtime
