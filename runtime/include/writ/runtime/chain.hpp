// The chain: accounts, contracts and blocks over a Store, with an
// authenticated state root. This is the C++ embedding API; writ.h wraps it
// for C.
//
//   auto chain = Chain::open(store, genesis);           // or reopen an existing chain
//   auto check = chain->validate(tx);                    // cheap checks, no state change
//   auto block = chain->produce_block({tx1, tx2}, now);  // execute, commit atomically
//   chain->receipt(tx1.hash()); chain->balance(addr); chain->prove_account(addr);
//
// Guarantees:
//   1. A block commits all its effects (state, tree nodes, block, receipts,
//      head) in one synced batch: after a crash the chain reopens at the last
//      committed block with its state root intact.
//   2. A transaction that fails leaves state exactly as before, except that its
//      sender paid gas_used × gas_price and its nonce advanced; an invalid
//      transaction (bad signature, wrong chain, nonce gap or replay, short
//      balance, oversize, gas limit out of range) is rejected and changes
//      nothing at all.
//   3. Executing a block is a pure function of (the committed state, the
//      block): no wall clock, no unordered iteration, no floating point.
//      Fees are burned.
//   4. A store that fails a read (a damaged record, an I/O error) is an
//      error, never a value: queries return it (is_store_failure() tells it
//      from other errors), validate() fails with it, and a block whose
//      execution read it is not committed. Nothing answers a zero balance or
//      an absent record for data the store could not give back.
// Thread-safety: one thread drives a Chain; validate() and the queries may
// run on other threads only while no block is being produced. view() and the
// ChainView it returns are the exception: any thread may take a view at any
// time (it waits at most for a commit's store write, never for a block's
// execution), and read it while blocks are produced.
#pragma once

#include <array>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "writ/runtime/state_tree.hpp"
#include "writ/runtime/store.hpp"
#include "writ/runtime/transaction.hpp"
#include "writ/vm/host.hpp"
#include "writ/vm/verifier.hpp"

namespace writ::runtime {

inline constexpr uint64_t kBlockGasLimit = 100'000'000;
inline constexpr uint64_t kTxBaseGas = 1'000;   // every transaction
inline constexpr uint64_t kTxDataByteGas = 4;   // per byte of data
inline constexpr uint64_t kTxCodeByteGas = 20;  // per byte of deployed code
inline constexpr size_t kMaxBlockTxs = 10'000;

// Every error caused by the store (a read that failed or a record that does
// not decode: a damaged database or a failing disk) has a message starting
// with kStoreDamaged, so callers can answer it as the node's failure rather
// than as a refusal of the request (JSON-RPC -32603, WRIT_ERR_CORRUPT).
inline constexpr std::string_view kStoreDamaged = "store damaged: ";
inline bool is_store_failure(std::string_view message) {
  return message.substr(0, kStoreDamaged.size()) == kStoreDamaged;
}
// A block whose commit the store refused (a full disk, a write error)
// fails with a message starting with kStorageUnavailable. The chain stays
// exactly at its last committed block, serves reads, and commits again once
// the store takes writes (the RocksDB store retries by itself).
inline constexpr std::string_view kStorageUnavailable = "storage unavailable: ";
inline bool is_storage_unavailable(std::string_view message) {
  return message.substr(0, kStorageUnavailable.size()) == kStorageUnavailable;
}

struct Account {
  U256 balance{};
  uint64_t nonce = 0;
  Hash256 code_hash{};  // zero: no code
  // The risk engine's history of the account (docs/contracts/risk.md), kept
  // here so that a scored payment rewrites only the records it touches
  // anyway; zero until the engine first records the account.
  std::array<U256, vm::kHistoryWords> history{};
  bool operator==(const Account&) const = default;
  // Nothing in it: such an account has no record and no leaf.
  bool is_empty() const;
  // A history word is not zero: the engine has recorded the account.
  bool has_history() const;
  // 72 bytes: balance (32, BE) | nonce (8, BE) | code hash (32); then the
  // history words (32 each, BE) up to the last one that is not zero, so a
  // record is 72, 104, 136 or 168 bytes and never ends in a zero word.
  std::string encode() const;
  static std::optional<Account> decode(std::string_view);
};

struct Log {
  Address address;
  std::vector<Hash256> topics;
  Bytes data;
  bool operator==(const Log&) const = default;
};

// How the risk engine judged a plain payment (docs/runtime.md, "Payments
// and risk"): the score and reasons it gave, the model that gave them, and
// what became of the payment.
struct PaymentRisk {
  enum class Decision : uint8_t { Settled = 0, Held = 1, Refused = 2 };
  uint16_t score = 0;            // 0..999, higher is riskier
  std::vector<uint8_t> reasons;  // up to four two-digit codes, most important first
  uint64_t model_version = 0;
  Decision decision = Decision::Settled;
  uint64_t hold_id = 0;  // Held: the hold in the payment-holds contract
  bool operator==(const PaymentRisk&) const = default;
};
const char* decision_name(PaymentRisk::Decision d);

struct Receipt {
  Hash256 tx_hash;
  uint64_t height = 0;
  uint32_t index = 0;  // position in the block
  vm::Status status = vm::Status::Ok;
  uint64_t gas_used = 0;
  Bytes output;  // return data, or revert data
  std::vector<Log> logs;
  Address contract;  // deploys: the new contract's address
  uint32_t trap_func = 0, trap_pc = 0;
  std::string detail;  // trap reason
  // The failure trace (vm::ExecResult::calls): when the transaction's call
  // reverted by passing on a failed nested call, the calls it came through,
  // innermost first, and how many outer ones were left out. Empty otherwise.
  std::vector<vm::FailedCall> calls;
  uint32_t calls_omitted = 0;
  // Plain payments on a chain with a risk engine: how it judged this one.
  std::optional<PaymentRisk> risk;
  bool operator==(const Receipt&) const = default;
  std::string encode() const;
  static Result<Receipt> decode(std::string_view);
  Hash256 hash() const;  // hash_of_encoding(encode())
  static Hash256 hash_of_encoding(std::string_view encoded);
};

struct BlockHeader {
  uint64_t height = 0;
  Hash256 parent_hash;
  uint64_t timestamp = 0;
  Hash256 tx_root;        // binary Merkle root of the transaction hashes
  Hash256 receipts_root;  // binary Merkle root of the receipt hashes
  Hash256 state_root;     // StateTree root after the block
  uint64_t gas_used = 0;
  bool operator==(const BlockHeader&) const = default;
  std::string encode() const;
  static Result<BlockHeader> decode(std::string_view);
  Hash256 hash() const;
};

struct Block {
  BlockHeader header;
  std::vector<Transaction> txs;
};

struct GenesisAccount {
  Address address;
  U256 balance{};
};
struct GenesisContract {
  Address address;   // fixed, documented address
  Bytes code;        // module bytes
  Bytes init_input;  // constructor input (selector + ABI args), empty if none
  U256 balance{};
};
// A call made at genesis, after every contract is installed: how a genesis
// configures its system contracts (feeds, reporters, parameters) through
// their own functions, as `from` (their governance, typically). A failing
// call fails the genesis.
struct GenesisCall {
  Address from;
  Address to;
  Bytes input;  // selector + ABI arguments
};
// The default of Genesis::min_gas_price: the smallest price that makes
// every transaction cost something (at least kTxBaseGas units).
inline constexpr uint64_t kDefaultMinGasPrice = 1;

struct Genesis {
  uint64_t chain_id = 1;
  uint64_t timestamp = 0;
  // A chain parameter: transactions priced below it are invalid (never
  // included, never charged). Non-zero, so that a key holding nothing cannot
  // fill blocks or create account records for free. Kept with the chain
  // when it is created; a later open must give the same value.
  U256 min_gas_price = U256::from_u64(kDefaultMinGasPrice);
  std::vector<GenesisAccount> accounts;
  std::vector<GenesisContract> contracts;
  std::vector<GenesisCall> calls;  // in order, after the contracts
  // Payments and risk: with a risk engine, every plain payment is scored
  // before it settles, and a payment to hold goes to the payment-holds
  // contract (docs/runtime.md, "Payments and risk"). Zero: no scoring. A
  // chain parameter, kept with the chain like min_gas_price.
  Address risk_engine;
  Address payment_holds;
};
// Parses the JSON genesis file format (docs/runtime.md). Errors name the field.
Result<Genesis> parse_genesis_json(std::string_view json, const std::string& base_dir);

// The state tree keys of an account and of a storage slot, and their values'
// hashes, as committed by the state root.
Hash256 account_key(const Address& a);
Hash256 storage_key(const Address& a, const U256& slot);
Hash256 account_leaf_value(const Account& acct);
Hash256 storage_leaf_value(const U256& value);

struct AccountProof {
  Hash256 state_root;
  uint64_t height = 0;
  Address address;
  std::optional<Account> account;  // nullopt: proven absent
  TreeProof proof;
};
struct StorageProof {
  Hash256 state_root;
  uint64_t height = 0;
  Address address;
  U256 slot{};
  U256 value{};  // zero when absent
  bool present = false;
  TreeProof proof;
};
bool verify_account_proof(const AccountProof& p);
bool verify_storage_proof(const StorageProof& p);

class ChainView;
class CallTracer;  // sandbox.hpp

class Chain {
 public:
  ~Chain();
  // Opens the chain in `store`: if it holds a chain, resumes at its last
  // committed block (genesis must match its chain id); else writes genesis as
  // block 0.
  static Result<std::unique_ptr<Chain>> open(std::unique_ptr<Store> store, const Genesis& genesis);

  uint64_t chain_id() const;
  const U256& min_gas_price() const;  // Genesis::min_gas_price, as the chain was created
  const BlockHeader& head() const;

  // Stateless and state checks against the head state: what produce_block
  // would reject. Status message names the problem ("nonce 3 is a replay: the
  // account's next nonce is 5").
  Status validate(const Transaction& tx) const;
  // The same for a transaction that follows others of its sender not yet
  // in a block (a mempool's, a proposal's): its nonce must be the account's
  // next plus `count`, and the balance must cover `spend` (what those may
  // spend: Pending::most_spent of each) besides its own value and fee.
  struct Pending {
    uint64_t count = 0;
    U256 spend{};
    static U256 most_spent(const Transaction& tx);  // value + gas_limit × gas_price
  };
  Status validate(const Transaction& tx, const Pending& pending) const;

  // Where producing or applying a block spent its time, for metrics: wall
  // clock, measured beside the work and never part of the state or the block.
  struct BlockTimings {
    uint64_t execute_ns = 0;     // validation and execution, waits for signature verdicts included
    uint64_t state_root_ns = 0;  // the state tree update
    uint64_t commit_ns = 0;      // receipts, block records and the synced write
  };
  // Why a block left a transaction out.
  enum class RejectKind : uint8_t {
    Invalid,   // invalid on the state before it (signature, chain, replay, balance, ...)
    NonceGap,  // its nonce is ahead of its account's next one
    NoRoom,    // valid, but the block has no gas left for its limit
  };
  struct Rejected {
    Hash256 hash;
    std::string reason;  // for people: what was wrong, with the figures
    RejectKind kind = RejectKind::Invalid;
    bool operator==(const Rejected&) const = default;
  };
  struct BlockResult {
    Block block;
    std::vector<Receipt> receipts;
    std::vector<Rejected> rejected;  // in the order of the input
    BlockTimings timings;
  };
  // Executes the valid transactions in order on top of the head, commits the
  // block (synced) and makes it the head. Invalid ones are left out and
  // reported in `rejected`. `timestamp` must not go backwards.
  Result<BlockResult> produce_block(const std::vector<Transaction>& txs, uint64_t timestamp);

  // produce_block in two steps, for a consensus engine whose commit comes
  // after execution (ABCI's FinalizeBlock, then Commit): stage_block
  // executes and roots the block exactly as produce_block would, and writes
  // nothing; the head, the state every read sees and the store stay at the
  // last committed block until commit_staged() writes it (synced) and makes
  // it the head, as produce_block would have. discard_staged() drops it (a
  // crash does too: nothing of it was written). While a block is staged,
  // producing, applying or staging another is an error.
  Result<BlockResult> stage_block(const std::vector<Transaction>& txs, uint64_t timestamp);
  Result<BlockHeader> commit_staged();
  void discard_staged();
  const BlockResult* staged() const;  // nullptr: none

  // Imports a block made by another node (a follower, or a validator
  // replaying a proposal): executes block.txs on top of the head with the
  // header's timestamp, and commits only if the header is exactly what
  // executing them gives: height and parent_hash follow the head, every
  // transaction is valid, and tx_root, gas_used, receipts_root and
  // state_root match. Otherwise nothing changes and the error names the
  // block and the first field that differs (or the invalid transaction).
  // Two nodes that apply the same blocks from the same genesis hold the same
  // state: execution is a pure function of (committed state, block).
  Result<BlockResult> apply_block(const Block& block);

  // Starts checking the signatures of transactions that a later
  // produce_block will include, on the chain's verification threads, and
  // returns at once. A node calls it as transactions arrive (or for block
  // N + 1 while block N executes) so that the cores verify while this thread
  // executes and commits. Optional: produce_block checks whatever was not
  // started, and the verdicts are the same either way. Keeps at most
  // 4 × kMaxBlockTxs pending verdicts (the oldest are dropped).
  void verify_ahead(std::span<const Transaction> txs);
  // How many verdicts verify_ahead and validate keep for later blocks (a
  // validate keeps one only for a transaction it accepts).
  size_t verdicts_kept() const;

  // Threads that verify signatures in the background (default: one per
  // core, at least 2); the thread that runs produce_block helps them. 0
  // verifies on that thread alone.
  // REQUIRES: no produce_block or validate running.
  void set_verify_threads(unsigned n);

  // The tier that runs contracts (vm::ExecutionTier: the JIT, docs/jit.md);
  // none, the default, runs them on the interpreter. The results, gas and
  // state are the same either way.
  // REQUIRES: no produce_block, validate or call running.
  void set_execution_tier(std::shared_ptr<vm::ExecutionTier> tier);

  // Runs a call against the head state without committing (eth_call style).
  // A store that fails a read makes the call an error (kStoreDamaged),
  // never a result computed over a zero.
  Result<vm::ExecResult> call(const Address& from, const Address& to, const Bytes& input,
                              uint64_t gas) const;

  // Re-executes transaction `index` of `block`, whose parent must be the
  // head: the transactions before it, then it with `tracer` (if any) told
  // every call and step (on the interpreter). Just before it runs, `before`
  // (if any) gets a reader of the state at that point. Nothing is committed;
  // the receipt is what executing it gives. For the debugger's replay of a
  // committed transaction (a chain re-built up to the block's parent).
  using StateReader = std::function<U256(const Address& account, const U256& slot)>;
  Result<Receipt> trace_transaction(const Block& block, uint32_t index, CallTracer* tracer,
                                    const std::function<void(const StateReader&)>& before = {});
  // An immutable view of the committed head (see ChainView), for readers on
  // other threads. Cheap: a header copy and a store snapshot. May be called
  // from any thread, while a block is produced too. An error when the store
  // cannot take snapshots (Store::snapshot()).
  Result<std::shared_ptr<const ChainView>> view() const;

  // Queries against the head state. An absent account, slot, code, receipt
  // or block is a value (zero, nullopt); a store failure is an error whose
  // message starts with kStoreDamaged (guarantee 4).
  Result<Account> account(const Address& a) const;
  Result<U256> balance(const Address& a) const;
  Result<U256> storage(const Address& a, const U256& slot) const;
  Result<std::optional<Bytes>> code(const Hash256& code_hash) const;
  Result<std::optional<Receipt>> receipt(const Hash256& tx_hash) const;
  Result<std::optional<Block>> block(uint64_t height) const;
  Result<AccountProof> prove_account(const Address& a) const;
  Result<StorageProof> prove_storage(const Address& a, const U256& slot) const;

  // Called after each committed block with its receipts (subscribe to logs).
  using BlockListener = std::function<void(const Block&, const std::vector<Receipt>&)>;
  void subscribe(BlockListener listener);

  struct Impl;

 private:
  explicit Chain(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// One committed head, frozen: its header and the state as of that block.
// Blocks committed after the view was taken are invisible to it, so readers
// on a view see one consistent state while the chain's driving thread
// produces the next blocks, and never wait for it.
// Thread-safety: every method may run on any thread, concurrently with each
// other and with the Chain's produce_block/apply_block.
// REQUIRES: every view is destroyed before its Chain.
class ChainView {
 public:
  ~ChainView();
  ChainView(const ChainView&) = delete;
  ChainView& operator=(const ChainView&) = delete;

  const BlockHeader& head() const;
  uint64_t chain_id() const;
  // Chain::call at this view's head: executes on a throwaway overlay over
  // the snapshot, so it never changes any state. Same results and gas as
  // Chain::call at the same head. `gas` is capped at kBlockGasLimit.
  // A store that fails a read makes the call an error (kStoreDamaged),
  // never a result computed over a zero.
  Result<vm::ExecResult> call(const Address& from, const Address& to, const Bytes& input,
                              uint64_t gas) const;

  struct Impl;
  explicit ChainView(std::unique_ptr<Impl> impl);

 private:
  std::unique_ptr<Impl> impl_;
};

// Binary Merkle root of a list of hashes (SHA-256 with 0x02 node tag; the
// empty list's root is SHA-256("writ.empty")).
Hash256 merkle_root(const std::vector<Hash256>& leaves);

}  // namespace writ::runtime
