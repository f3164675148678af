// The chain end to end: genesis, signed transactions, deploys of Writ
// contracts, receipts, failed transactions, validation, blocks, proofs, and
// reopening a RocksDB chain.
#include <gtest/gtest.h>

#include <unistd.h>
#include <atomic>
#include <filesystem>
#include <random>
#include <thread>

#include "json_text.hpp"
#include "test_token.hpp"
#include "writ/compiler/compiler.hpp"
#include "writ/runtime/chain.hpp"
#include "writ/vm/gas.hpp"
#include "writ/vm/abi.hpp"
#include "writ/vm/interpreter.hpp"

namespace writ::runtime {
namespace {

namespace fs = std::filesystem;
using vm::Value;

Bytes compile_token() {
  auto out = compiler::compile_source("token.writ", fixtures::test_token_source(), {});
  EXPECT_TRUE(out.ok) << out.diagnostics;
  return out.ok ? out.contracts[0].bytecode : Bytes{};
}

uint32_t selector(const std::string& sig_name, std::vector<vm::ValType> params) {
  return vm::selector_of(sig_name, params);
}

struct Fixture {
  Keypair alice = keypair_from_seed({1});
  Keypair bob = keypair_from_seed({2});
  Genesis genesis;
  std::unique_ptr<Chain> chain;
  uint64_t time = 1'700'000'000;

  explicit Fixture(std::unique_ptr<Store> store = open_memory_store()) {
    genesis.chain_id = 7;
    genesis.timestamp = time;
    genesis.accounts.push_back({address_of(alice.pub), U256::from_u64(1'000'000'000)});
    auto c = Chain::open(std::move(store), genesis);
    EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().to_string());
    if (c.ok()) chain = std::move(c.value());
  }

  Transaction tx(const Keypair& k, uint64_t nonce, Transaction::Kind kind, Address to, Bytes data,
                 U256 value = U256::zero(), uint64_t gas = 2'000'000) {
    Transaction t;
    t.kind = kind;
    t.chain_id = 7;
    t.nonce = nonce;
    t.gas_limit = gas;
    t.gas_price = U256::from_u64(1);
    t.value = value;
    t.to = to;
    t.data = std::move(data);
    t.sign_with(k);
    return t;
  }
  Transaction deploy(const Keypair& k, uint64_t nonce, Bytes code, Bytes init) {
    Transaction t = tx(k, nonce, Transaction::Kind::Deploy, Address{}, std::move(init));
    t.code = std::move(code);
    t.sign_with(k);
    return t;
  }
  Chain::BlockResult block(std::vector<Transaction> txs) {
    time += 5;
    auto r = chain->produce_block(txs, time);
    EXPECT_TRUE(r.ok()) << (r.ok() ? "" : r.error().to_string());
    return r.ok() ? r.value() : Chain::BlockResult{};
  }
};

Bytes call_data(const std::string& name, std::vector<vm::ValType> types, std::vector<Value> args) {
  return vm::call_input(selector(name, types), args);
}

TEST(Chain, GenesisFundsAccountsAndCommitsAStateRoot) {
  Fixture f;
  EXPECT_EQ(f.chain->head().height, 0u);
  EXPECT_EQ(f.chain->balance(address_of(f.alice.pub)).value(), U256::from_u64(1'000'000'000));
  EXPECT_NE(f.chain->head().state_root, StateTree::empty_root());
  auto proof = f.chain->prove_account(address_of(f.alice.pub));
  ASSERT_TRUE(proof.ok());
  EXPECT_TRUE(verify_account_proof(proof.value()));
}

// An account listed twice was funded with the sum of its balances, which
// wrapped past 2^256 - 1 (2^256 - 1 and 10 gave 9); a contract's balance
// added to an account's the same way.
TEST(Chain, GenesisRefusesAnAccountListedTwiceAndABalanceThatWraps) {
  const Address a = Hash256::from_u256(U256::from_u64(0x1));
  const U256 max = vm::sub(U256::zero(), U256::from_u64(1));
  Genesis g;
  g.chain_id = 7;
  g.accounts.push_back({a, max});
  g.accounts.push_back({a, U256::from_u64(10)});
  auto c = Chain::open(open_memory_store(), g);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("accounts[1].address"), std::string::npos) << c.error().message;
  g.accounts.pop_back();
  g.contracts.push_back({a, compile_token(), {}, U256::from_u64(10)});
  c = Chain::open(open_memory_store(), g);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("contracts[0].balance"), std::string::npos) << c.error().message;
}

TEST(Chain, ValueTransferChargesGasAndMovesValue) {
  Fixture f;
  Address a = address_of(f.alice.pub), b = address_of(f.bob.pub);
  auto t = f.tx(f.alice, 0, Transaction::Kind::Call, b, {}, U256::from_u64(500), 5000);
  auto r = f.block({t});
  ASSERT_EQ(r.receipts.size(), 1u);
  EXPECT_EQ(r.receipts[0].status, vm::Status::Ok);
  EXPECT_EQ(r.receipts[0].gas_used, kTxBaseGas);
  EXPECT_EQ(f.chain->balance(b).value(), U256::from_u64(500));
  EXPECT_EQ(f.chain->balance(a).value(), U256::from_u64(1'000'000'000 - 500 - kTxBaseGas));
  EXPECT_EQ(f.chain->account(a).value().nonce, 1u);
  EXPECT_EQ(f.chain->head().height, 1u);
  auto stored = f.chain->receipt(t.hash()).value();
  ASSERT_TRUE(stored.has_value());
  EXPECT_EQ(*stored, r.receipts[0]);
}

TEST(Chain, InvalidTransactionsAreRejectedWithReasonsAndChangeNothing) {
  Fixture f;
  Address b = address_of(f.bob.pub);
  Hash256 root = f.chain->head().state_root;
  auto good = f.tx(f.alice, 0, Transaction::Kind::Call, b, {}, U256::from_u64(1), 5000);
  auto gap = f.tx(f.alice, 5, Transaction::Kind::Call, b, {}, U256::from_u64(1), 5000);
  auto wrong_chain = good;
  wrong_chain.chain_id = 8;
  wrong_chain.sign_with(f.alice);
  auto bad_sig = good;
  bad_sig.signature.bytes[0] ^= 1;
  auto broke = f.tx(f.bob, 0, Transaction::Kind::Call, b, {}, U256::from_u64(1), 5000);
  auto too_much_gas =
      f.tx(f.alice, 0, Transaction::Kind::Call, b, {}, U256::zero(), kBlockGasLimit + 1);
  auto below_intrinsic = f.tx(f.alice, 0, Transaction::Kind::Call, b, {}, U256::zero(), 10);
  EXPECT_NE(f.chain->validate(gap).message.find("nonce gap"), std::string::npos);
  EXPECT_NE(f.chain->validate(wrong_chain).message.find("wrong chain id 8"), std::string::npos);
  EXPECT_EQ(f.chain->validate(bad_sig).message, "bad signature");
  EXPECT_NE(f.chain->validate(broke).message.find("insufficient balance"), std::string::npos);
  EXPECT_NE(f.chain->validate(too_much_gas).message.find("above the block limit"),
            std::string::npos);
  EXPECT_NE(f.chain->validate(below_intrinsic).message.find("below the intrinsic cost"),
            std::string::npos);
  // A refused transaction leaves no verdict behind for a block (each kept a
  // copy of itself: 40,000 refused 256 KiB transactions, 10 GB); one that
  // may be in a block does.
  EXPECT_EQ(f.chain->verdicts_kept(), 0u);
  EXPECT_TRUE(f.chain->validate(good).ok);
  EXPECT_EQ(f.chain->verdicts_kept(), 1u);
  EXPECT_TRUE(f.chain->validate(good).ok);
  auto r = f.block({gap, wrong_chain, bad_sig, broke, too_much_gas, below_intrinsic});
  ASSERT_EQ(r.rejected.size(), 6u);
  EXPECT_TRUE(r.receipts.empty());
  EXPECT_EQ(f.chain->head().state_root, root);  // nothing changed
  // Each says why, as a kind a block producer can act on (a gap may fill).
  EXPECT_EQ(r.rejected[0].kind, Chain::RejectKind::NonceGap);
  for (size_t i = 1; i < r.rejected.size(); ++i)
    EXPECT_EQ(r.rejected[i].kind, Chain::RejectKind::Invalid) << r.rejected[i].reason;
  // One that the block has no gas left for is valid, only late.
  auto big0 = f.tx(f.alice, 0, Transaction::Kind::Call, b, {}, U256::zero(), kBlockGasLimit);
  auto big1 = f.tx(f.alice, 1, Transaction::Kind::Call, b, {}, U256::zero(), kBlockGasLimit);
  auto full = f.block({big0, big1});
  ASSERT_EQ(full.rejected.size(), 1u);
  EXPECT_EQ(full.rejected[0].hash, big1.hash());
  EXPECT_EQ(full.rejected[0].kind, Chain::RejectKind::NoRoom);
  EXPECT_EQ(full.rejected[0].reason, "block gas limit reached");
  ASSERT_EQ(full.receipts.size(), 1u);
  root = f.chain->head().state_root;
  good = f.tx(f.alice, 1, Transaction::Kind::Call, b, {}, U256::from_u64(1), 5000);
  // A replay of an included transaction is rejected.
  f.block({good});
  auto replay = f.block({good});
  ASSERT_EQ(replay.rejected.size(), 1u);
  EXPECT_NE(replay.rejected[0].reason.find("replay"), std::string::npos);
}

// Issue: with the identity as public key and R = identity, S = 0 as
// signature, any transaction "verified", so anyone could spend from that
// key's address. Funded here, the address still cannot be spent from.
TEST(Chain, NoTransactionFromASmallOrderKeyIsValid) {
  Fixture f;
  PublicKey identity;
  identity.bytes[0] = 1;
  Signature forged;
  forged.bytes[0] = 1;
  const Address victim = address_of(identity);
  f.block({f.tx(f.alice, 0, Transaction::Kind::Call, victim, {}, U256::from_u64(50'000), 5000)});
  std::vector<Transaction> forgeries;
  for (uint64_t value : {1000, 2000}) {
    Transaction t;
    t.kind = Transaction::Kind::Call;
    t.chain_id = 7;
    t.gas_limit = 5000;
    t.gas_price = U256::from_u64(1);
    t.value = U256::from_u64(value);
    t.to = address_of(f.bob.pub);
    t.sender_key = identity;
    t.signature = forged;
    EXPECT_EQ(f.chain->validate(t).message, "bad signature") << value;
    EXPECT_FALSE(decode_transaction(t.encode()).ok()) << "refused at decode too";
    forgeries.push_back(t);
  }
  const Hash256 root = f.chain->head().state_root;
  auto r = f.block(forgeries);
  EXPECT_EQ(r.rejected.size(), 2u);
  EXPECT_EQ(f.chain->head().state_root, root);
}

// Issue: a zero gas price from a key holding nothing used to be accepted, so
// anyone could fill blocks and create account records for free.
TEST(Chain, TransactionsBelowTheMinimumGasPriceAreInvalidAndCreateNoAccount) {
  Fixture f;
  EXPECT_EQ(f.chain->min_gas_price(), U256::from_u64(kDefaultMinGasPrice));
  const Keypair nobody = keypair_from_seed({42});
  const Address to = address_of(f.bob.pub);
  auto priced = [&](const Keypair& k, uint64_t price) {
    Transaction t = f.tx(k, 0, Transaction::Kind::Call, to, {}, U256::zero(), 5000);
    t.gas_price = U256::from_u64(price);
    t.sign_with(k);
    return t;
  };
  const Hash256 root = f.chain->head().state_root;
  auto free_from_nobody = priced(nobody, 0);
  auto free_from_alice = priced(f.alice, 0);
  auto paid_by_nobody = priced(nobody, 1);
  EXPECT_EQ(f.chain->validate(free_from_nobody).message,
            "gas price 0 is below the chain's minimum 1");
  EXPECT_EQ(f.chain->validate(free_from_alice).message,
            "gas price 0 is below the chain's minimum 1");
  EXPECT_NE(f.chain->validate(paid_by_nobody).message.find("insufficient balance"),
            std::string::npos);
  auto r = f.block({free_from_nobody, free_from_alice, paid_by_nobody});
  EXPECT_EQ(r.rejected.size(), 3u);
  EXPECT_TRUE(r.block.txs.empty()) << "no block slot";
  EXPECT_EQ(f.chain->head().state_root, root) << "no account record, no nonce, no fee";
  auto proof = f.chain->prove_account(address_of(nobody.pub));
  ASSERT_TRUE(proof.ok());
  EXPECT_FALSE(proof->account.has_value()) << "the key that paid nothing has no account record";
  // At the minimum, the funded account's transaction goes in.
  auto ok = f.block({priced(f.alice, 1)});
  EXPECT_EQ(ok.receipts.size(), 1u);
}

TEST(Chain, TheMinimumGasPriceIsAGenesisParameterKeptWithTheChain) {
  auto g = parse_genesis_json(R"({"chain_id": 3, "min_gas_price": "250"})", ".");
  ASSERT_TRUE(g.ok()) << g.error().to_string();
  EXPECT_EQ(g->min_gas_price, U256::from_u64(250));
  auto dflt = parse_genesis_json(R"({"chain_id": 3})", ".");
  ASSERT_TRUE(dflt.ok());
  EXPECT_EQ(dflt->min_gas_price, U256::from_u64(1)) << "non-zero by default";
  auto zero = parse_genesis_json(R"({"chain_id": 3, "min_gas_price": "0"})", ".");
  ASSERT_FALSE(zero.ok());
  EXPECT_NE(zero.error().message.find("min_gas_price: must be at least 1"), std::string::npos);
  auto bad = parse_genesis_json(R"({"chain_id": 3, "min_gas_price": "cheap"})", ".");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("min_gas_price"), std::string::npos);

  fs::path dir = fs::temp_directory_path() / ("writ-chain-price-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  Genesis genesis;
  genesis.chain_id = 3;
  genesis.min_gas_price = U256::from_u64(250);
  {
    auto store = open_rocksdb_store(dir.string(), RocksStoreOptions{.create = true});
    ASSERT_TRUE(store.ok()) << store.error().to_string();
    auto c = Chain::open(std::move(store.value()), genesis);
    ASSERT_TRUE(c.ok()) << c.error().to_string();
    EXPECT_EQ(c.value()->min_gas_price(), U256::from_u64(250));
  }
  {
    auto store = open_rocksdb_store(dir.string());
    ASSERT_TRUE(store.ok());
    auto c = Chain::open(std::move(store.value()), genesis);
    ASSERT_TRUE(c.ok()) << c.error().to_string();
    EXPECT_EQ(c.value()->min_gas_price(), U256::from_u64(250));
  }
  {
    auto store = open_rocksdb_store(dir.string());
    ASSERT_TRUE(store.ok());
    Genesis other = genesis;
    other.min_gas_price = U256::from_u64(1);
    auto c = Chain::open(std::move(store.value()), other);
    ASSERT_FALSE(c.ok());
    EXPECT_EQ(c.error().message,
              "database holds a chain with minimum gas price 250, genesis says 1");
  }
  fs::remove_all(dir);
}

// Issue: NoCode and InvalidCode receipts charged only the intrinsic gas while
// docs/gas.md said every status but Ok and Revert consumes all gas. The rule
// now (docs/gas.md): a refusal, decided before any code runs, costs the
// intrinsic gas alone; a trap in running code consumes the whole limit.
TEST(Chain, RefusedTransactionsPayTheirIntrinsicGasAndTrapsPayTheirLimit) {
  Fixture f;
  auto deployed = f.block(
      {f.deploy(f.alice, 0, compile_token(),
                call_data("$init", {vm::ValType::U256}, {Value::u256(U256::from_u64(1000))}))});
  ASSERT_EQ(deployed.receipts.size(), 1u);
  ASSERT_EQ(deployed.receipts[0].status, vm::Status::Ok) << deployed.receipts[0].detail;
  const Address token = deployed.receipts[0].contract;
  auto intrinsic = [](const Transaction& t) {
    return kTxBaseGas + kTxDataByteGas * t.data.size() + kTxCodeByteGas * t.code.size();
  };
  const uint64_t limit = 300'000;
  const Bytes balance_of =
      call_data("balance_of", {vm::ValType::U256}, {Value::u256(U256::from_u64(1))});
  Transaction no_code = f.tx(f.alice, 1, Transaction::Kind::Call, address_of(f.bob.pub), balance_of,
                             U256::zero(), limit);
  Transaction bad_selector = f.tx(f.alice, 2, Transaction::Kind::Call, token,
                                  {0xde, 0xad, 0xbe, 0xef}, U256::zero(), limit);
  Transaction not_payable =
      f.tx(f.alice, 3, Transaction::Kind::Call, token, balance_of, U256::from_u64(9), limit);
  Transaction invalid_code = f.deploy(f.alice, 4, Bytes{0x57, 0x52, 0x49, 0x54, 9, 9, 9}, {});
  auto r = f.block({no_code, bad_selector, not_payable, invalid_code});
  ASSERT_EQ(r.receipts.size(), 4u);
  const vm::Status want[] = {vm::Status::NoCode, vm::Status::InvalidInput, vm::Status::NotPayable,
                             vm::Status::InvalidCode};
  const Transaction* txs[] = {&no_code, &bad_selector, &not_payable, &invalid_code};
  for (size_t i = 0; i < 4; ++i) {
    EXPECT_EQ(r.receipts[i].status, want[i]) << i;
    EXPECT_EQ(r.receipts[i].gas_used, intrinsic(*txs[i])) << vm::status_name(want[i]);
  }
  auto spin = f.block({f.tx(f.alice, 5, Transaction::Kind::Call, token, call_data("spin", {}, {}),
                            U256::zero(), limit)});
  ASSERT_EQ(spin.receipts.size(), 1u);
  EXPECT_EQ(spin.receipts[0].status, vm::Status::OutOfGas);
  EXPECT_EQ(spin.receipts[0].gas_used, limit);
}

// One rule for value: a plain payment (no data) moves value and runs no
// code, whether the payee is a contract or not, as transfer() does inside a
// contract. (It used to end in InvalidInput for a contract.)
TEST(Chain, APlainPaymentToAContractMovesValueAndRunsNoCode) {
  Fixture f;
  auto deployed = f.block(
      {f.deploy(f.alice, 0, compile_token(),
                call_data("$init", {vm::ValType::U256}, {Value::u256(U256::from_u64(1000))}))});
  ASSERT_EQ(deployed.receipts.size(), 1u);
  const Address token = deployed.receipts[0].contract;
  auto r =
      f.block({f.tx(f.alice, 1, Transaction::Kind::Call, token, {}, U256::from_u64(777), 5000)});
  ASSERT_EQ(r.receipts.size(), 1u);
  EXPECT_EQ(r.receipts[0].status, vm::Status::Ok) << r.receipts[0].detail;
  EXPECT_EQ(r.receipts[0].gas_used, kTxBaseGas) << "no code ran";
  EXPECT_TRUE(r.receipts[0].logs.empty());
  auto acct = f.chain->prove_account(token);
  ASSERT_TRUE(acct.ok());
  ASSERT_TRUE(acct->account.has_value());
  EXPECT_EQ(acct->account->balance, U256::from_u64(777));
}

// A store that fails on demand, as a full disk or a failing device does.
struct FaultyStore final : Store {
  std::unique_ptr<Store> inner = open_memory_store();
  bool fail_writes = false;
  bool fail_reads = false;
  Result<std::optional<std::string>> get(Column c, std::string_view key) const override {
    if (fail_reads) return vm::error_at(0, "I/O error (injected)");
    return inner->get(c, key);
  }
  Status write(const WriteBatch& batch, bool sync) override {
    if (fail_writes) return Status::failure("No space left on device (injected)");
    return inner->write(batch, sync);
  }
  Result<std::vector<std::pair<std::string, std::string>>> scan(Column c) const override {
    return inner->scan(c);
  }
};

TEST(Chain, AFailedCommitChangesNothingAndTheBlockCanBeRetried) {
  auto owned = std::make_unique<FaultyStore>();
  FaultyStore* store = owned.get();
  Fixture f(std::move(owned));
  Address a = address_of(f.alice.pub), b = address_of(f.bob.pub);
  f.block({f.tx(f.alice, 0, Transaction::Kind::Call, b, {}, U256::from_u64(100), 5000)});
  const BlockHeader head = f.chain->head();
  const U256 alice_before = f.chain->balance(a).value();
  auto pay = f.tx(f.alice, 1, Transaction::Kind::Call, b, {}, U256::from_u64(50), 5000);

  store->fail_writes = true;  // the disk is full
  auto r = f.chain->produce_block({pay}, f.time + 5);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(is_storage_unavailable(r.error().message)) << r.error().message;
  EXPECT_NE(r.error().message.find("block 2 not acknowledged"), std::string::npos)
      << r.error().message;
  EXPECT_NE(r.error().message.find(
                "may still have reached the disk, and the next start then finds block 2 committed"),
            std::string::npos)
      << r.error().message;
  EXPECT_NE(r.error().message.find("No space left"), std::string::npos);
  // Nothing moved: not the head, not a balance or nonce (read through the
  // chain's caches, which must not hold the uncommitted block), not a proof.
  EXPECT_EQ(f.chain->head(), head);
  EXPECT_EQ(f.chain->balance(b).value(), U256::from_u64(100));
  EXPECT_EQ(f.chain->balance(a).value(), alice_before);
  EXPECT_EQ(f.chain->account(a).value().nonce, 1u);
  EXPECT_FALSE(f.chain->receipt(pay.hash()).value().has_value());
  auto proof = f.chain->prove_account(b);
  ASSERT_TRUE(proof.ok());
  EXPECT_EQ(proof->account->balance, U256::from_u64(100));
  EXPECT_TRUE(verify_account_proof(proof.value()));

  store->fail_writes = false;  // space again: the same block goes through
  auto ok = f.block({pay});
  ASSERT_EQ(ok.receipts.size(), 1u);
  EXPECT_EQ(f.chain->head().height, 2u);
  EXPECT_EQ(f.chain->balance(b).value(), U256::from_u64(150));
  EXPECT_EQ(f.chain->account(a).value().nonce, 2u);
}

TEST(Chain, AStoreReadErrorStopsTheBlockFromCommitting) {
  auto owned = std::make_unique<FaultyStore>();
  FaultyStore* store = owned.get();
  Fixture f(std::move(owned));
  const BlockHeader head = f.chain->head();
  // Carol has never been read, so her account must come from the store.
  Address carol = address_of(keypair_from_seed({9}).pub);
  auto pay = f.tx(f.alice, 0, Transaction::Kind::Call, carol, {}, U256::from_u64(5), 5000);
  store->fail_reads = true;
  auto r = f.chain->produce_block({pay}, f.time + 5);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("not committed"), std::string::npos) << r.error().message;
  EXPECT_NE(r.error().message.find("I/O error"), std::string::npos);
  store->fail_reads = false;
  EXPECT_EQ(f.chain->head(), head);
  EXPECT_EQ(f.chain->balance(carol).value(), U256::zero());
  f.block({pay});
  EXPECT_EQ(f.chain->balance(carol).value(), U256::from_u64(5));
}

// Every query answers a failed store read with an error (chain.hpp,
// guarantee 4), never with zero or "absent".
TEST(Chain, QueriesAnswerAFailedStoreReadWithAnError) {
  auto owned = std::make_unique<FaultyStore>();
  FaultyStore* store = owned.get();
  Fixture f(std::move(owned));
  Address b = address_of(f.bob.pub);
  const Transaction pay = f.tx(f.alice, 0, Transaction::Kind::Call, b, {}, U256::from_u64(5), 5000);
  f.block({pay});
  // Never read: not in the chain's caches.
  const Address carol = address_of(keypair_from_seed({9}).pub);
  store->fail_reads = true;
  auto damaged = [](const std::string& m) {
    return is_store_failure(m) && m.find("I/O") != m.npos;
  };
  auto acct = f.chain->account(carol);
  ASSERT_FALSE(acct.ok());
  EXPECT_TRUE(damaged(acct.error().message)) << acct.error().message;
  EXPECT_FALSE(f.chain->balance(carol).ok());
  auto slot = f.chain->storage(carol, U256::from_u64(3));
  ASSERT_FALSE(slot.ok());
  EXPECT_TRUE(damaged(slot.error().message)) << slot.error().message;
  auto code = f.chain->code(sha256("writ.test", {}));
  ASSERT_FALSE(code.ok());
  EXPECT_TRUE(damaged(code.error().message)) << code.error().message;
  auto rc = f.chain->receipt(pay.hash());
  ASSERT_FALSE(rc.ok());
  EXPECT_TRUE(damaged(rc.error().message)) << rc.error().message;
  auto blk = f.chain->block(1);
  ASSERT_FALSE(blk.ok());
  EXPECT_TRUE(damaged(blk.error().message)) << blk.error().message;
  EXPECT_FALSE(f.chain->prove_account(carol).ok());
  EXPECT_FALSE(f.chain->prove_storage(carol, U256::from_u64(3)).ok());
  const Transaction from_carol =
      f.tx(keypair_from_seed({9}), 0, Transaction::Kind::Call, b, {}, U256::from_u64(1), 5000);
  Status v = f.chain->validate(from_carol);
  ASSERT_FALSE(v);
  EXPECT_TRUE(damaged(v.message)) << v.message;
  // A read-only call over a failed read is an error, not a result over a zero.
  auto called = f.chain->call(b, carol, Bytes{1, 2, 3, 4}, 100'000);
  ASSERT_FALSE(called.ok());
  EXPECT_TRUE(damaged(called.error().message)) << called.error().message;
  store->fail_reads = false;
  // Absent is still absent, and zero still zero, when the store answers.
  EXPECT_EQ(f.chain->balance(carol).value(), U256::zero());
  EXPECT_FALSE(f.chain->receipt(from_carol.hash()).value().has_value());
  EXPECT_FALSE(f.chain->block(2).value().has_value());
  EXPECT_TRUE(f.chain->block(1).value().has_value());
}

// One store seen by successive chains (a chain owns its store).
struct SharedStore final : Store {
  explicit SharedStore(std::shared_ptr<Store> s) : inner(std::move(s)) {}
  std::shared_ptr<Store> inner;
  Result<std::optional<std::string>> get(Column c, std::string_view key) const override {
    return inner->get(c, key);
  }
  Status write(const WriteBatch& batch, bool sync) override { return inner->write(batch, sync); }
  Result<std::vector<std::pair<std::string, std::string>>> scan(Column c) const override {
    return inner->scan(c);
  }
};

uint64_t be_u64(const std::string& s) {
  uint64_t v = 0;
  for (char c : s) v = v << 8 | static_cast<uint8_t>(c);
  return v;
}

// A chain reopens only with the genesis its block 0 was made from: another
// with the same chain id and parameters (a changed balance) would be served
// as its genesis (writ_getGenesis) while the state says otherwise.
TEST(Chain, ReopeningWithAnotherGenesisOfTheSameChainIsRefused) {
  std::shared_ptr<Store> mem = open_memory_store();
  Genesis g;
  {
    Fixture f(std::make_unique<SharedStore>(mem));
    g = f.genesis;
  }
  EXPECT_TRUE(Chain::open(std::make_unique<SharedStore>(mem), g).ok());
  Genesis other = g;
  other.accounts.push_back({address_of(keypair_from_seed({66}).pub), U256::from_u64(99'999'999)});
  auto c = Chain::open(std::make_unique<SharedStore>(mem), other);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.error().message.find("database holds chain 7 made from another genesis"),
            std::string::npos)
      << c.error().message;
}

TEST(Chain, TheStateTreeIsPersistedEveryFewBlocksAndItsLogReplayedOnOpen) {
  std::shared_ptr<Store> mem = open_memory_store();
  Hash256 root;
  Address b;
  {
    Fixture f(std::make_unique<SharedStore>(mem));
    b = address_of(f.bob.pub);
    for (uint64_t n = 0; n < 40; ++n)
      f.block({f.tx(f.alice, n, Transaction::Kind::Call, b, {}, U256::from_u64(n + 1), 5000)});
    root = f.chain->head().state_root;
  }
  // Block 32's root is the last persisted; blocks 33..40 left a log.
  auto th = mem->get(Column::Meta, "tree_height");
  ASSERT_TRUE(th.ok() && th.value());
  EXPECT_EQ(be_u64(*th.value()), 32u);
  auto log = mem->scan(Column::TreeLog);
  ASSERT_TRUE(log.ok());
  std::vector<uint64_t> logged;
  for (const auto& [k, v] : log.value()) logged.push_back(be_u64(k));
  EXPECT_EQ(logged, (std::vector<uint64_t>{33, 34, 35, 36, 37, 38, 39, 40}));
  // The persisted root is readable from the store alone (a bare StateTree).
  {
    Fixture f(std::make_unique<SharedStore>(mem));
    auto b32 = f.chain->block(32).value();
    ASSERT_TRUE(b32.has_value());
    auto v = StateTree(*mem).get(b32->header.state_root, account_key(b));
    ASSERT_TRUE(v.ok()) << v.error().to_string();
    EXPECT_TRUE(v.value().has_value());
  }
  {  // Reopened: the log is replayed to the head's root, which proves.
    Fixture f(std::make_unique<SharedStore>(mem));
    EXPECT_EQ(f.chain->head().height, 40u);
    EXPECT_EQ(f.chain->head().state_root, root);
    auto p = f.chain->prove_account(b);
    ASSERT_TRUE(p.ok());
    EXPECT_TRUE(verify_account_proof(p.value()));
    EXPECT_EQ(p->account->balance, U256::from_u64(40 * 41 / 2));
    f.time = f.chain->head().timestamp;  // the reopened chain's clock goes on from its head
    f.block({f.tx(f.alice, 40, Transaction::Kind::Call, b, {}, U256::from_u64(1), 5000)});
    EXPECT_EQ(f.chain->balance(b).value(), U256::from_u64(40 * 41 / 2 + 1));
  }
  // A damaged or missing log is a corrupt database, named by block.
  auto reopen_error = [&] {
    Fixture f0;  // the same genesis (a chain of its own, in memory)
    auto c = Chain::open(std::make_unique<SharedStore>(mem), f0.genesis);
    return c.ok() ? std::string() : c.error().message;
  };
  auto entry = mem->get(Column::TreeLog, std::string("\0\0\0\0\0\0\0\x23", 8));  // block 35
  ASSERT_TRUE(entry.ok() && entry.value());
  std::string damaged = *entry.value();
  damaged[damaged.size() - 1] ^= 1;  // the last value hash
  WriteBatch w;
  w.put(Column::TreeLog, std::string("\0\0\0\0\0\0\0\x23", 8), damaged);
  ASSERT_TRUE(mem->write(w, true));
  EXPECT_NE(reopen_error().find("state tree log of block 35 gives state root"), std::string::npos)
      << reopen_error();
  WriteBatch d;
  d.del(Column::TreeLog, std::string("\0\0\0\0\0\0\0\x23", 8));
  ASSERT_TRUE(mem->write(d, true));
  EXPECT_NE(reopen_error().find("state tree log of block 35 is missing"), std::string::npos)
      << reopen_error();
  WriteBatch back;
  back.put(Column::TreeLog, std::string("\0\0\0\0\0\0\0\x23", 8), *entry.value());
  ASSERT_TRUE(mem->write(back, true));
  EXPECT_EQ(reopen_error(), "");
}

// Opening a chain verifies every contract's code in its store, so that the
// first call of a contract after a restart does not verify it again for the
// price of a first access (docs/gas.md); code damaged in the store is a
// corrupt database, named by its hash.
TEST(Chain, StoredCodeIsVerifiedWhenTheChainOpens) {
  // A tier that records the modules announced to it as verified: set on a
  // chain, it is told of those its module cache already holds.
  struct RecordingTier final : vm::ExecutionTier {
    std::vector<std::string> verified_hashes;
    vm::ExecResult execute(const std::shared_ptr<const vm::VerifiedModule>& module, vm::Host& host,
                           const vm::Message& msg) override {
      return vm::execute(*module, host, msg);
    }
    void verified(const std::shared_ptr<const vm::VerifiedModule>& module) override {
      verified_hashes.push_back(module->hash().hex());
    }
  };
  std::shared_ptr<Store> mem = open_memory_store();
  Hash256 token_code;
  {
    Fixture f(std::make_unique<SharedStore>(mem));
    Bytes init = call_data("$init", {vm::ValType::U256}, {Value::u256(U256::from_u64(1000))});
    auto r = f.block({f.deploy(f.alice, 0, compile_token(), init)});
    ASSERT_EQ(r.receipts[0].status, vm::Status::Ok) << r.receipts[0].detail;
    token_code = f.chain->account(r.receipts[0].contract).value().code_hash;
  }
  {
    Fixture f(std::make_unique<SharedStore>(mem));
    auto tier = std::make_shared<RecordingTier>();
    f.chain->set_execution_tier(tier);
    EXPECT_EQ(tier->verified_hashes, std::vector<std::string>{token_code.hex()});
  }
  auto reopen_error = [&] {
    Fixture f0;  // the same genesis (a chain of its own, in memory)
    auto c = Chain::open(std::make_unique<SharedStore>(mem), f0.genesis);
    return c.ok() ? std::string() : c.error().message;
  };
  const std::string key(reinterpret_cast<const char*>(token_code.bytes.data()), 32);
  auto stored = mem->get(Column::Code, key);
  ASSERT_TRUE(stored.ok() && stored.value());
  const std::string original = *stored.value();
  auto put_code = [&](const std::string& k, const std::string& v) {
    WriteBatch w;
    w.put(Column::Code, k, v);
    ASSERT_TRUE(mem->write(w, true));
  };
  std::string damaged = original;
  damaged[damaged.size() / 2] ^= 1;
  put_code(key, damaged);
  EXPECT_EQ(reopen_error(), "database is corrupt: the code stored as 0x" + token_code.hex() +
                                " does not hash to its key");
  put_code(key, original);
  EXPECT_EQ(reopen_error(), "");
  // Bytes stored under their own hash that are not a module.
  const std::string junk = "not a module";
  const vm::CodeHash junk_hash = vm::code_hash(
      std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(junk.data()), junk.size()));
  put_code(std::string(reinterpret_cast<const char*>(junk_hash.bytes), 32), junk);
  EXPECT_NE(reopen_error().find("database is corrupt: the code 0x" + junk_hash.hex() +
                                " does not verify: "),
            std::string::npos)
      << reopen_error();
}

TEST(Chain, AFailedCommitThatPersistsTheTreeKeepsItsPendingNodes) {
  auto owned = std::make_unique<FaultyStore>();
  FaultyStore* store = owned.get();
  Fixture f(std::move(owned));
  Address b = address_of(f.bob.pub);
  for (uint64_t n = 0; n < 31; ++n)
    f.block({f.tx(f.alice, n, Transaction::Kind::Call, b, {}, U256::from_u64(1), 5000)});
  auto pay = f.tx(f.alice, 31, Transaction::Kind::Call, b, {}, U256::from_u64(1), 5000);
  store->fail_writes = true;  // block 32 would persist the tree
  ASSERT_FALSE(f.chain->produce_block({pay}, f.time + 5).ok());
  store->fail_writes = false;
  // The pending nodes of blocks 1..31 were kept: block 32 persists them now,
  // and a bare tree over the store alone reads the new root.
  f.block({pay});
  EXPECT_EQ(f.chain->head().height, 32u);
  auto v = StateTree(*store).get(f.chain->head().state_root, account_key(b));
  ASSERT_TRUE(v.ok()) << v.error().to_string();
  ASSERT_TRUE(v.value().has_value());
  Account want;
  want.balance = U256::from_u64(32);
  EXPECT_EQ(*v.value(), account_leaf_value(want));
}

TEST(Chain, VerifyingAheadGivesTheBlockThatVerifyingInlineGives) {
  // Three chains, one block of payments of which some are forged: checked
  // ahead on the pool, checked by produce_block alone, and checked with no
  // pool threads at all. Same block, same rejections.
  Fixture ahead, inline_only, no_threads;
  inline_only.chain->set_verify_threads(1);
  no_threads.chain->set_verify_threads(0);
  std::vector<Transaction> txs;
  Address b = address_of(ahead.bob.pub);
  for (uint64_t n = 0; n < 12; ++n) {
    auto t = ahead.tx(ahead.alice, n, Transaction::Kind::Call, b, {}, U256::from_u64(n + 1), 5000);
    if (n == 4 || n == 9) t.signature.bytes[3] ^= 1;
    txs.push_back(t);
  }
  ahead.chain->verify_ahead(txs);
  ahead.chain->verify_ahead(txs);  // twice is harmless
  auto r1 = ahead.block(txs);
  auto r2 = inline_only.block(txs);
  auto r3 = no_threads.block(txs);
  ASSERT_EQ(r1.rejected.size(), 8u);  // 4 is forged, so 5.. 11 are nonce gaps
  EXPECT_EQ(r1.rejected[0].reason, "bad signature");
  EXPECT_EQ(r1.receipts.size(), 4u);
  EXPECT_EQ(r1.rejected, r2.rejected);
  EXPECT_EQ(r1.rejected, r3.rejected);
  EXPECT_EQ(r1.block.header, r2.block.header);
  EXPECT_EQ(r1.block.header, r3.block.header);
  // Verdicts checked ahead of a block that never includes them are only
  // forgotten work: a later block verifies its own.
  auto later = ahead.tx(ahead.alice, 4, Transaction::Kind::Call, b, {}, U256::from_u64(7), 5000);
  ahead.chain->verify_ahead(std::vector<Transaction>{later});
  auto forged = later;
  forged.value = U256::from_u64(8);  // signed for 7
  auto r4 = ahead.block({forged});
  ASSERT_EQ(r4.rejected.size(), 1u);
  EXPECT_EQ(r4.rejected[0].reason, "bad signature");
  EXPECT_EQ(ahead.block({later}).receipts.size(), 1u);
}

TEST(Chain, DeployAndCallAWritContract) {
  Fixture f;
  Address a = address_of(f.alice.pub), b = address_of(f.bob.pub);
  Bytes code = compile_token();
  Bytes init = call_data("$init", {vm::ValType::U256}, {Value::u256(U256::from_u64(1000))});
  auto d = f.deploy(f.alice, 0, code, init);
  auto r = f.block({d});
  ASSERT_EQ(r.receipts.size(), 1u);
  ASSERT_EQ(r.receipts[0].status, vm::Status::Ok) << r.receipts[0].detail;
  Address token = r.receipts[0].contract;
  EXPECT_EQ(token, contract_address(a, 0));
  EXPECT_FALSE(f.chain->account(token).value().code_hash.is_zero());

  auto data = call_data("transfer", {vm::ValType::U256, vm::ValType::U256},
                        {Value::u256(b.to_u256()), Value::u256(U256::from_u64(250))});
  auto t = f.tx(f.alice, 1, Transaction::Kind::Call, token, data);
  r = f.block({t});
  ASSERT_EQ(r.receipts[0].status, vm::Status::Ok) << r.receipts[0].detail;
  ASSERT_EQ(r.receipts[0].logs.size(), 1u);
  EXPECT_EQ(r.receipts[0].logs[0].topics[1], a);
  EXPECT_EQ(r.receipts[0].logs[0].topics[2], b);

  auto q = f.chain->call(
      a, token, call_data("balance_of", {vm::ValType::U256}, {Value::u256(b.to_u256())}), 100000);
  ASSERT_TRUE(q.ok()) << q.error().message;
  ASSERT_EQ(q->status, vm::Status::Ok);
  EXPECT_EQ(vm::from_be_bytes(q->output.data()), U256::from_u64(250));

  // The map entry (slot hash2(key, 0): the map is storage field 0) is in the
  // state root, with a proof.
  uint8_t in[64];
  vm::to_be_bytes(b.to_u256(), in);
  vm::to_be_bytes(U256::zero(), in + 32);
  U256 slot = sha256(std::span<const uint8_t>(in, 64)).to_u256();
  EXPECT_EQ(f.chain->storage(token, slot).value(), U256::from_u64(250));
  auto sp = f.chain->prove_storage(token, slot);
  ASSERT_TRUE(sp.ok());
  EXPECT_TRUE(sp->present);
  EXPECT_TRUE(verify_storage_proof(sp.value()));
  auto tampered = sp.value();
  tampered.value = U256::from_u64(251);
  EXPECT_FALSE(verify_storage_proof(tampered));
}

// The first access to a slot in a block pays for its read from the store
// (docs/gas.md, "First access"); a later transaction of the same block that
// reaches it again pays the operation's price only, since the block holds it.
// So no transaction pays more than it would alone in its block, which is
// what a call (an estimate) shows.
TEST(Chain, TheFirstAccessToASlotIsPaidOncePerBlock) {
  Fixture f;
  Address b = address_of(f.bob.pub);
  Bytes init = call_data("$init", {vm::ValType::U256}, {Value::u256(U256::from_u64(1000))});
  auto r = f.block({f.deploy(f.alice, 0, compile_token(), init)});
  ASSERT_EQ(r.receipts.size(), 1u);
  const Address token = r.receipts[0].contract;
  const Bytes data = call_data("transfer", {vm::ValType::U256, vm::ValType::U256},
                               {Value::u256(b.to_u256()), Value::u256(U256::from_u64(10))});
  const auto transfer = [&](uint64_t nonce) {
    return f.tx(f.alice, nonce, Transaction::Kind::Call, token, data);
  };
  ASSERT_EQ(f.block({transfer(1)}).receipts[0].status, vm::Status::Ok);  // bob's slot exists
  r = f.block({transfer(2), transfer(3), transfer(4)});
  ASSERT_EQ(r.receipts.size(), 3u);
  for (const Receipt& rc : r.receipts) ASSERT_EQ(rc.status, vm::Status::Ok) << rc.detail;
  // The first reads both balances (alice's and bob's slots); the others find them.
  const uint64_t first = r.receipts[0].gas_used, later = r.receipts[1].gas_used;
  EXPECT_EQ(first - later, 2 * vm::kGasSlotFirstAccess);
  EXPECT_EQ(r.receipts[2].gas_used, later);
  // Alone in its block, the same transfer pays for the reads again.
  r = f.block({transfer(5)});
  ASSERT_EQ(r.receipts[0].status, vm::Status::Ok);
  EXPECT_EQ(r.receipts[0].gas_used, first);
}

// A view keeps the head it was taken at, whatever the chain commits after it,
// and may be read on other threads while blocks are produced.
void check_view_keeps_its_head(std::unique_ptr<Store> store) {
  Fixture f(std::move(store));
  Address a = address_of(f.alice.pub), b = address_of(f.bob.pub);
  Bytes init = call_data("$init", {vm::ValType::U256}, {Value::u256(U256::from_u64(1000))});
  auto r = f.block({f.deploy(f.alice, 0, compile_token(), init)});
  ASSERT_EQ(r.receipts.size(), 1u);
  const Address token = r.receipts[0].contract;
  auto transfer = [&](uint64_t nonce, uint64_t amount) {
    return f.tx(f.alice, nonce, Transaction::Kind::Call, token,
                call_data("transfer", {vm::ValType::U256, vm::ValType::U256},
                          {Value::u256(b.to_u256()), Value::u256(U256::from_u64(amount))}));
  };
  f.block({transfer(1, 250)});
  const Bytes query = call_data("balance_of", {vm::ValType::U256}, {Value::u256(b.to_u256())});
  auto balance_in = [&](const ChainView& v) {
    vm::ExecResult q = v.call(a, token, query, 100'000).value();
    EXPECT_EQ(q.status, vm::Status::Ok) << q.detail;
    return q.status == vm::Status::Ok ? vm::from_be_bytes(q.output.data()) : U256::zero();
  };
  auto v = f.chain->view();
  ASSERT_TRUE(v.ok()) << v.error().to_string();
  std::shared_ptr<const ChainView> old = v.value();
  const BlockHeader at = f.chain->head();
  EXPECT_EQ(old->head(), at);
  EXPECT_EQ(old->chain_id(), 7u);
  // The same answer and gas as Chain::call at the same head.
  vm::ExecResult direct = f.chain->call(a, token, query, 100'000).value();
  vm::ExecResult viewed = old->call(a, token, query, 100'000).value();
  EXPECT_EQ(viewed.output, direct.output);
  EXPECT_EQ(viewed.gas_left, direct.gas_left);
  // Readers on two threads while 10 blocks move 10 more to bob each.
  std::atomic<bool> done{false};
  std::atomic<int> reads{0}, wrong{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < 2; ++i)
    readers.emplace_back([&] {
      while (!done.load() || reads.load() < 20) {
        if (balance_in(*old) != U256::from_u64(250)) ++wrong;
        ++reads;
      }
    });
  for (uint64_t n = 2; n < 12; ++n) f.block({transfer(n, 10)});
  done.store(true);
  for (auto& t : readers) t.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(old->head(), at);
  EXPECT_EQ(balance_in(*old), U256::from_u64(250));
  // A call that writes changes nothing: not in the view, not in the chain.
  const Bytes move = call_data("transfer", {vm::ValType::U256, vm::ValType::U256},
                               {Value::u256(b.to_u256()), Value::u256(U256::from_u64(1))});
  EXPECT_EQ(old->call(a, token, move, 100'000).value().status, vm::Status::Ok);
  EXPECT_EQ(balance_in(*old), U256::from_u64(250));
  auto now = f.chain->view();
  ASSERT_TRUE(now.ok());
  EXPECT_EQ(now.value()->head(), f.chain->head());
  EXPECT_EQ(balance_in(*now.value()), U256::from_u64(350));
}

TEST(Chain, AViewKeepsItsHeadWhileBlocksAreCommittedInMemory) {
  check_view_keeps_its_head(open_memory_store());
}

TEST(Chain, AViewKeepsItsHeadWhileBlocksAreCommittedInRocksDb) {
  fs::path p = fs::temp_directory_path() / ("writ-view-test-" + std::to_string(::getpid()));
  fs::remove_all(p);
  {
    auto store = open_rocksdb_store(p.string(), RocksStoreOptions{.create = true});
    ASSERT_TRUE(store.ok()) << store.error().to_string();
    check_view_keeps_its_head(std::move(store.value()));
  }
  fs::remove_all(p);
}

// Nested calls between contracts on the chain: each call frame has its own
// checkpoint in the journaled state, so a callee that fails loses its own
// writes and logs while its caller (which caught the failure with try) keeps
// its own; and a contract already on the call stack cannot be entered again.
TEST(Chain, AFailedInnerCallRevertsItsFrameOnlyAndReentryIsRefused) {
  const char* kSource = R"(
event Bumped(n: u64);
event Attempted(ok: bool);
error Refused(n: u64);
interface ICallee {
  fn bump(n: u64) -> u64;
  fn call_back(c: address) -> u64;
}
interface ICaller {
  fn poke() -> u64;
}
contract Callee {
  storage total: u64;
  pub fn bump(n: u64) -> u64 {
    total += n;
    emit Bumped(n);
    require(n <= 100, Refused(n));
    return total;
  }
  pub fn call_back(c: address) -> u64 { return ICaller(c).poke(); }
}
contract Caller {
  storage attempts: u64;
  storage successes: u64;
  pub fn run(callee: address, n: u64) -> bool {
    attempts += 1;
    let ok = try ICallee(callee).bump(n);
    if ok { successes += 1; }
    emit Attempted(ok);
    return ok;
  }
  pub fn run_strict(callee: address, n: u64) -> u64 {
    attempts += 1;
    return ICallee(callee).bump(n);
  }
  pub fn reenter(callee: address) -> bool {
    attempts += 1;
    return try ICallee(callee).call_back(self_address());
  }
  pub fn poke() -> u64 { return 7; }
}
)";
  auto out = compiler::compile_source("frames.writ", kSource, {});
  ASSERT_TRUE(out.ok) << out.diagnostics;
  auto code_of = [&](const std::string& name) {
    for (const auto& c : out.contracts)
      if (c.name == name) return c.bytecode;
    ADD_FAILURE() << "no contract " << name;
    return Bytes{};
  };
  Fixture f;
  const Address a = address_of(f.alice.pub);
  auto r = f.block(
      {f.deploy(f.alice, 0, code_of("Callee"), {}), f.deploy(f.alice, 1, code_of("Caller"), {})});
  ASSERT_EQ(r.receipts.size(), 2u);
  ASSERT_EQ(r.receipts[0].status, vm::Status::Ok) << r.receipts[0].detail;
  ASSERT_EQ(r.receipts[1].status, vm::Status::Ok) << r.receipts[1].detail;
  const Address callee = contract_address(a, 0), caller = contract_address(a, 1);
  auto slot = [&](const Address& c, uint64_t s) {
    return f.chain->storage(c, U256::from_u64(s)).value().low64();
  };
  auto run = [&](uint64_t nonce, const char* fn, uint64_t n) {
    std::vector<vm::ValType> types = {vm::ValType::U256};
    std::vector<Value> args = {Value::u256(callee.to_u256())};
    if (std::string(fn) != "reenter") {
      types.push_back(vm::ValType::U64);
      args.push_back(Value::u64(n));
    }
    auto res = f.block({f.tx(f.alice, nonce, Transaction::Kind::Call, caller,
                             call_data(fn, types, args), U256::zero(), 1'000'000)});
    EXPECT_EQ(res.receipts.size(), 1u);
    return res.receipts.empty() ? Receipt{} : res.receipts[0];
  };

  // The inner call succeeds: both frames' writes and both logs stay.
  Receipt ok = run(2, "run", 40);
  ASSERT_EQ(ok.status, vm::Status::Ok) << ok.detail;
  EXPECT_EQ(slot(callee, 0), 40u);
  EXPECT_EQ(slot(caller, 0), 1u);
  EXPECT_EQ(slot(caller, 1), 1u);
  ASSERT_EQ(ok.logs.size(), 2u);
  EXPECT_EQ(ok.logs[0].address, callee);
  EXPECT_EQ(ok.logs[1].address, caller);

  // The inner call reverts after writing and emitting: its frame is undone
  // (total stays 40, no Bumped log); the caller's frame is kept.
  const Hash256 root_before = f.chain->head().state_root;
  Receipt caught = run(3, "run", 500);
  ASSERT_EQ(caught.status, vm::Status::Ok) << caught.detail;
  EXPECT_EQ(caught.output, vm::abi_encode(std::vector<Value>{Value::u64(0)}));  // false
  EXPECT_EQ(slot(callee, 0), 40u);
  EXPECT_EQ(slot(caller, 0), 2u);
  EXPECT_EQ(slot(caller, 1), 1u);
  ASSERT_EQ(caught.logs.size(), 1u);
  EXPECT_EQ(caught.logs[0].address, caller);
  EXPECT_NE(f.chain->head().state_root, root_before);

  // Without try, the inner revert propagates: the whole transaction reverts,
  // the caller's write too, and the revert data is the callee's error.
  Receipt strict = run(4, "run_strict", 500);
  EXPECT_EQ(strict.status, vm::Status::Revert);
  EXPECT_TRUE(strict.logs.empty());
  EXPECT_EQ(slot(caller, 0), 2u);
  EXPECT_EQ(slot(callee, 0), 40u);
  EXPECT_EQ(strict.output, call_data("Refused", {vm::ValType::U64}, {Value::u64(500)}));

  // Caller -> Callee.call_back -> Caller.poke: Caller is on the stack, so
  // the VM refuses the re-entry; Caller's try sees the failure.
  Receipt reentry = run(5, "reenter", 0);
  ASSERT_EQ(reentry.status, vm::Status::Ok) << reentry.detail;
  EXPECT_EQ(reentry.output, vm::abi_encode(std::vector<Value>{Value::u64(0)}));  // false
  EXPECT_EQ(slot(caller, 0), 3u);
}

TEST(Chain, FailedTransactionsRevertEverythingButTheFee) {
  Fixture f;
  Address a = address_of(f.alice.pub), b = address_of(f.bob.pub);
  Bytes init = call_data("$init", {vm::ValType::U256}, {Value::u256(U256::from_u64(1000))});
  auto r = f.block({f.deploy(f.alice, 0, compile_token(), init)});
  Address token = r.receipts[0].contract;
  U256 bal_before = f.chain->balance(a).value();
  // Revert with a custom error: state unchanged but the fee and the nonce.
  auto data = call_data("transfer", {vm::ValType::U256, vm::ValType::U256},
                        {Value::u256(b.to_u256()), Value::u256(U256::from_u64(5000))});
  r = f.block({f.tx(f.alice, 1, Transaction::Kind::Call, token, data, U256::zero(), 100000)});
  ASSERT_EQ(r.receipts[0].status, vm::Status::Revert);
  EXPECT_TRUE(r.receipts[0].logs.empty());
  uint64_t used = r.receipts[0].gas_used;
  EXPECT_GT(used, kTxBaseGas);
  EXPECT_EQ(f.chain->balance(a).value(), vm::sub(bal_before, U256::from_u64(used)));
  EXPECT_EQ(f.chain->account(a).value().nonce, 2u);
  // Out of gas in an infinite loop: all gas is paid.
  auto spin = call_data("spin", {}, {});
  r = f.block({f.tx(f.alice, 2, Transaction::Kind::Call, token, spin, U256::zero(), 50000)});
  EXPECT_EQ(r.receipts[0].status, vm::Status::OutOfGas);
  EXPECT_EQ(r.receipts[0].gas_used, 50000u);
  // Calling an account without code: NoCode.
  r = f.block({f.tx(f.alice, 3, Transaction::Kind::Call, b, spin, U256::zero(), 50000)});
  EXPECT_EQ(r.receipts[0].status, vm::Status::NoCode);
  // Deploying an invalid module: InvalidCode, no account created.
  Bytes junk = {'W', 'R', 'I', 'T', 9, 0, 0, 0};
  r = f.block({f.deploy(f.alice, 4, junk, {})});
  EXPECT_EQ(r.receipts[0].status, vm::Status::InvalidCode);
  EXPECT_NE(r.receipts[0].detail.find("unsupported module version 9"), std::string::npos);
  EXPECT_TRUE(f.chain->account(contract_address(a, 4)).value().code_hash.is_zero());
}

TEST(Chain, ExecutionIsDeterministicAcrossChains) {
  // Two chains fed the same blocks agree on every root.
  Fixture f1, f2;
  Address b = address_of(f1.bob.pub);
  Bytes init = call_data("$init", {vm::ValType::U256}, {Value::u256(U256::from_u64(1000))});
  std::vector<std::vector<Transaction>> blocks;
  blocks.push_back({f1.deploy(f1.alice, 0, compile_token(), init)});
  Address token = contract_address(address_of(f1.alice.pub), 0);
  std::vector<Transaction> many;
  for (uint64_t i = 1; i <= 20; ++i)
    many.push_back(
        f1.tx(f1.alice, i, Transaction::Kind::Call, token,
              call_data("transfer", {vm::ValType::U256, vm::ValType::U256},
                        {Value::u256(U256::from_u64(i)), Value::u256(U256::from_u64(i))})));
  many.push_back(f1.tx(f1.alice, 21, Transaction::Kind::Call, b, {}, U256::from_u64(3), 5000));
  blocks.push_back(many);
  for (auto& txs : blocks) {
    auto r1 = f1.block(txs);
    auto r2 = f2.block(txs);
    EXPECT_EQ(r1.block.header, r2.block.header);
    EXPECT_EQ(r1.receipts, r2.receipts);
  }
  EXPECT_EQ(f1.chain->head().hash(), f2.chain->head().hash());
}

TEST(Chain, AFollowerAppliesTheProducersBlocksAndRejectsAnyAlteredOne) {
  Fixture producer, follower;
  const Address a = address_of(producer.alice.pub), b = address_of(producer.bob.pub);
  Bytes init = call_data("$init", {vm::ValType::U256}, {Value::u256(U256::from_u64(1000))});
  const Address token = contract_address(a, 0);
  auto transfer = [&](uint64_t nonce, uint64_t amount) {
    return producer.tx(producer.alice, nonce, Transaction::Kind::Call, token,
                       call_data("transfer", {vm::ValType::U256, vm::ValType::U256},
                                 {Value::u256(b.to_u256()), Value::u256(U256::from_u64(amount))}));
  };
  // The producer's blocks: a deploy; transfers, one of which reverts, and a
  // payment; an empty block.
  std::vector<Block> made;
  made.push_back(producer.block({producer.deploy(producer.alice, 0, compile_token(), init)}).block);
  made.push_back(producer
                     .block({transfer(1, 10), transfer(2, 5000),
                             producer.tx(producer.alice, 3, Transaction::Kind::Call, b, {},
                                         U256::from_u64(9), 5000)})
                     .block);
  made.push_back(producer.block({}).block);
  ASSERT_EQ(made[1].txs.size(), 3u);

  for (size_t k = 0; k < made.size(); ++k) {
    const Block& blk = made[k];
    const Hash256 head_before = follower.chain->head().hash();
    // Each altered copy is refused, names what differs, and changes nothing.
    auto refused = [&](Block altered, const std::string& why) {
      auto r = follower.chain->apply_block(altered);
      EXPECT_FALSE(r.ok()) << "block " << blk.header.height << ": accepted with " << why;
      if (!r.ok()) {
        EXPECT_NE(r.error().message.find(why), std::string::npos)
            << r.error().message << " (wanted " << why << ")";
      }
      EXPECT_EQ(follower.chain->head().hash(), head_before);
    };
    Block altered = blk;
    ++altered.header.height;
    refused(altered, "header field height");
    altered = blk;
    altered.header.parent_hash.bytes[0] ^= 1;
    refused(altered, "header field parent_hash");
    altered = blk;
    altered.header.tx_root.bytes[31] ^= 1;
    refused(altered, "header field tx_root");
    altered = blk;
    altered.header.gas_used += 1;
    refused(altered, "header field gas_used");
    altered = blk;
    altered.header.receipts_root.bytes[5] ^= 1;
    refused(altered, "header field receipts_root");
    altered = blk;
    altered.header.state_root.bytes[9] ^= 1;
    refused(altered, "header field state_root");
    if (blk.txs.size() > 1) {
      altered = blk;  // reordered: another tx root (and, here, invalid nonces)
      std::swap(altered.txs[0], altered.txs[1]);
      refused(altered, "rejected");
      altered = blk;  // a forged signature
      altered.txs[0].signature.bytes[3] ^= 1;
      refused(altered,
              "transaction 0 (0x" + altered.txs[0].hash().hex() + ") is invalid: bad signature");
      altered = blk;  // a transaction left out
      altered.txs.pop_back();
      refused(altered, "header field tx_root");
    }
    // The block as made is applied: same header, same receipts.
    auto r = follower.chain->apply_block(blk);
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    EXPECT_EQ(r->block.header, blk.header);
    EXPECT_TRUE(r->rejected.empty());
    for (const Transaction& t : blk.txs)
      EXPECT_EQ(follower.chain->receipt(t.hash()).value(),
                producer.chain->receipt(t.hash()).value());
  }
  EXPECT_EQ(follower.chain->head(), producer.chain->head());
  EXPECT_EQ(follower.chain->balance(b).value(), producer.chain->balance(b).value());
  EXPECT_EQ(follower.chain->storage(token, U256::zero()).value(),
            producer.chain->storage(token, U256::zero()).value());
  // A block that is already applied (or any past height) is refused.
  auto again = follower.chain->apply_block(made.back());
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message.find("the next block is 4"), std::string::npos)
      << again.error().message;
}

TEST(Chain, RocksDbChainReopensAtItsLastBlock) {
  fs::path dir = fs::temp_directory_path() / ("writ-chain-test-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  Hash256 root;
  uint64_t height;
  Address b;
  {
    auto store = open_rocksdb_store(dir.string(), RocksStoreOptions{.create = true});
    ASSERT_TRUE(store.ok()) << store.error().to_string();
    Fixture f(std::move(store.value()));
    b = address_of(f.bob.pub);
    f.block({f.tx(f.alice, 0, Transaction::Kind::Call, b, {}, U256::from_u64(77), 5000)});
    f.block({f.tx(f.alice, 1, Transaction::Kind::Call, b, {}, U256::from_u64(23), 5000)});
    root = f.chain->head().state_root;
    height = f.chain->head().height;
  }
  {
    auto store = open_rocksdb_store(dir.string());
    ASSERT_TRUE(store.ok());
    Fixture f(std::move(store.value()));
    EXPECT_EQ(f.chain->head().height, height);
    EXPECT_EQ(f.chain->head().state_root, root);
    EXPECT_EQ(f.chain->balance(b).value(), U256::from_u64(100));
    auto blk = f.chain->block(1).value();
    ASSERT_TRUE(blk.has_value());
    EXPECT_EQ(blk->txs.size(), 1u);
  }
  {
    // Wrong chain id for this database.
    auto store = open_rocksdb_store(dir.string());
    ASSERT_TRUE(store.ok());
    Genesis g;
    g.chain_id = 99;
    auto c = Chain::open(std::move(store.value()), g);
    ASSERT_FALSE(c.ok());
    EXPECT_NE(c.error().message.find("database holds chain 7"), std::string::npos);
  }
  fs::remove_all(dir);
}

// stage_block then commit_staged is produce_block in two steps: the staged
// block is invisible (head, state, store) until committed, the same block
// either way; a discarded or never-committed one leaves nothing behind, even
// across a reopen of the database.
TEST(Chain, AStagedBlockIsInvisibleUntilCommittedAndIsTheBlockProduceWouldMake) {
  fs::path dir = fs::temp_directory_path() / ("writ-chain-staged-" + std::to_string(::getpid()));
  fs::remove_all(dir);
  Fixture twin;  // produces the same blocks in one step
  Address b = address_of(twin.bob.pub);
  const auto pay = [&](Fixture& f, uint64_t nonce, uint64_t amount) {
    return f.tx(f.alice, nonce, Transaction::Kind::Call, b, {}, U256::from_u64(amount), 5000);
  };
  {
    auto store = open_rocksdb_store(dir.string(), RocksStoreOptions{.create = true});
    ASSERT_TRUE(store.ok()) << store.error().to_string();
    Fixture f(std::move(store.value()));
    const BlockHeader genesis_head = f.chain->head();

    auto staged = f.chain->stage_block({pay(f, 0, 77)}, f.time + 5);
    ASSERT_TRUE(staged.ok()) << staged.error().to_string();
    EXPECT_EQ(staged.value().block.header.height, 1u);
    ASSERT_NE(f.chain->staged(), nullptr);
    EXPECT_EQ(f.chain->staged()->block.header, staged.value().block.header);
    // Nothing of it is visible yet.
    EXPECT_EQ(f.chain->head(), genesis_head);
    EXPECT_EQ(f.chain->balance(b).value(), U256::zero());
    EXPECT_FALSE(f.chain->block(1).value().has_value());
    EXPECT_FALSE(f.chain->receipt(pay(f, 0, 77).hash()).value().has_value());
    EXPECT_TRUE(f.chain->validate(pay(f, 0, 77)).ok);  // nonce 0 is still the next one
    // Nor can another block start on top of it.
    EXPECT_FALSE(f.chain->produce_block({}, f.time + 6).ok());
    EXPECT_FALSE(f.chain->stage_block({}, f.time + 6).ok());

    auto committed = f.chain->commit_staged();
    ASSERT_TRUE(committed.ok()) << committed.error().to_string();
    EXPECT_EQ(committed.value(), staged.value().block.header);
    EXPECT_EQ(f.chain->head(), staged.value().block.header);
    EXPECT_EQ(f.chain->staged(), nullptr);
    EXPECT_EQ(f.chain->balance(b).value(), U256::from_u64(77));
    EXPECT_FALSE(f.chain->commit_staged().ok());  // nothing staged now

    // The block produce_block makes from the same transactions and time.
    auto one_step = twin.chain->produce_block({pay(twin, 0, 77)}, twin.time + 5);
    ASSERT_TRUE(one_step.ok());
    EXPECT_EQ(one_step.value().block.header, staged.value().block.header);
    EXPECT_EQ(one_step.value().receipts, staged.value().receipts);

    // Discarded: as if never staged; the next block is made as before.
    ASSERT_TRUE(f.chain->stage_block({pay(f, 1, 500)}, f.time + 10).ok());
    f.chain->discard_staged();
    EXPECT_EQ(f.chain->staged(), nullptr);
    EXPECT_EQ(f.chain->head(), staged.value().block.header);
    EXPECT_EQ(f.chain->balance(b).value(), U256::from_u64(77));
    auto next = f.chain->produce_block({pay(f, 1, 23)}, f.time + 10);
    ASSERT_TRUE(next.ok()) << next.error().to_string();
    auto twin_next = twin.chain->produce_block({pay(twin, 1, 23)}, twin.time + 10);
    ASSERT_TRUE(twin_next.ok());
    EXPECT_EQ(next.value().block.header, twin_next.value().block.header);

    // Staged and never committed (the process ends): nothing was written.
    ASSERT_TRUE(f.chain->stage_block({pay(f, 2, 1000)}, f.time + 15).ok());
  }
  {
    auto store = open_rocksdb_store(dir.string());
    ASSERT_TRUE(store.ok());
    Fixture f(std::move(store.value()));
    EXPECT_EQ(f.chain->head(), twin.chain->head());
    EXPECT_EQ(f.chain->balance(b).value(), U256::from_u64(100));
    EXPECT_FALSE(f.chain->block(3).value().has_value());
  }
  fs::remove_all(dir);
}

TEST(Chain, UnopenableDatabasePathIsAnError) {
  auto store = open_rocksdb_store("/proc/writ-cannot-live-here");
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.error().message.find("no database at /proc/writ-cannot-live-here"),
            std::string::npos);
  RocksStoreOptions create;
  create.create = true;
  auto created = open_rocksdb_store("/proc/writ-cannot-live-here", create);
  ASSERT_FALSE(created.ok());
  EXPECT_NE(created.error().message.find("cannot create /proc/writ-cannot-live-here"),
            std::string::npos);
}

TEST(Chain, GenesisJsonParsesAndReportsFields) {
  auto g = parse_genesis_json(R"({"chain_id": 3, "timestamp": 10,
      "accounts": [{"address": "0xB0B", "balance": "1000"}]})",
                              ".");
  ASSERT_TRUE(g.ok()) << g.error().to_string();
  EXPECT_EQ(g->chain_id, 3u);
  ASSERT_EQ(g->accounts.size(), 1u);
  EXPECT_EQ(g->accounts[0].balance, U256::from_u64(1000));
  EXPECT_EQ(g->accounts[0].address, Hash256::from_u256(U256::from_u64(0xB0B)));
  auto bad = parse_genesis_json(R"({"chain_id": 3, "accounts": [{"address": "nope"}]})", ".");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("accounts[0].address"), std::string::npos);
  // A field the genesis does not have is refused, named (a misspelt balance
  // was ignored: the account had none).
  auto typo = parse_genesis_json(
      R"({"chain_id": 3, "accounts": [{"address": "0xB0B", "balanec": "1000"}]})", ".");
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.error().message.find("accounts[0].balanec: no such field"), std::string::npos)
      << typo.error().message;
  auto top = parse_genesis_json(R"({"chain_id": 3, "min_gas_prize": "1"})", ".");
  ASSERT_FALSE(top.ok());
  EXPECT_NE(top.error().message.find("genesis field min_gas_prize: no such field"),
            std::string::npos)
      << top.error().message;
  EXPECT_FALSE(parse_genesis_json("{not json", ".").ok());
  EXPECT_FALSE(parse_genesis_json(R"({"accounts": []})", ".").ok());
  // A key given twice is refused, named with where it is (the last one was
  // taken without a word: two readers of one file could differ on it).
  auto twice = parse_genesis_json(R"({"chain_id": 3, "chain_id": 4})", ".");
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(twice.error().message.find("the key \"chain_id\" appears twice in the top object"),
            std::string::npos)
      << twice.error().message;
  auto nested = parse_genesis_json(R"({"chain_id": 3, "accounts": [{"address": "0xB0B"},
      {"address": "0xA11CE", "balance": "1", "\u0062alance": "9"}]})",
                                   ".");
  ASSERT_FALSE(nested.ok());
  EXPECT_NE(nested.error().message.find("the key \"balance\" appears twice in accounts[1]"),
            std::string::npos)
      << nested.error().message;
  // Where: the byte of the second key (it was 0).
  EXPECT_EQ(twice.error().offset, 16u);
  EXPECT_NE(twice.error().message.find("at byte 16"), std::string::npos) << twice.error().message;
  const std::string escaped = R"({"a": {"b": 1, "c\"": 2}, "x": [{"k": "\"k\":", "k": 0}]})";
  auto inner = parse_json_text(escaped);
  ASSERT_FALSE(inner.ok());
  EXPECT_EQ(inner.error().offset, escaped.rfind("\"k\": 0"));
  EXPECT_NE(inner.error().message.find("the key \"k\" appears twice in x[0]"), std::string::npos)
      << inner.error().message;
}

TEST(Chain, GenesisContractFilesAndFieldsOfTheWrongKindAreErrorsNamingTheField) {
  auto error_of = [](const std::string& contract) {
    auto g = parse_genesis_json(R"({"chain_id": 3, "contracts": [)" + contract + "]}", "/");
    return g.ok() ? std::string("accepted") : g.error().message;
  };
  auto expect_error = [&](const std::string& contract, const std::string& want) {
    const std::string got = error_of(contract);
    EXPECT_NE(got.find(want), std::string::npos) << contract << " gave: " << got;
  };
  // A code file must be a regular file no larger than a module: a device
  // (which would never end), a directory or a missing path is named.
  expect_error(R"({"address": "0x1", "code_file": "/dev/zero"})",
               "contracts[0].code_file: /dev/zero is not a regular file");
  expect_error(R"({"address": "0x1", "code_file": "/tmp"})", "/tmp is not a regular file");
  expect_error(R"({"address": "0x1", "code_file": "/no/such/module.wbc"})",
               "/no/such/module.wbc does not exist");
  fs::path big = fs::temp_directory_path() / ("writ-genesis-big-" + std::to_string(::getpid()));
  std::ofstream(big, std::ios::binary) << std::string(vm::kMaxModuleSize + 1, 'x');
  expect_error(R"({"address": "0x1", "code_file": ")" + big.string() + R"("})",
               "has 524289 bytes, more than a module may (524288)");
  fs::remove(big);
  // Fields of the wrong JSON type.
  expect_error(R"({"address": "0x1", "code_file": 5})", "contracts[0].code_file: expected a path");
  expect_error(R"({"address": "0x1", "code": 5})", "contracts[0].code: expected module bytes");
  expect_error(R"({"address": "0x1", "code": "0x00", "init": 7})",
               "contracts[0].init: expected constructor input");
  // A code file that is there is read whole.
  fs::path mod = fs::temp_directory_path() / ("writ-genesis-mod-" + std::to_string(::getpid()));
  std::ofstream(mod, std::ios::binary) << std::string("\x01\x02\x03", 3);
  auto g = parse_genesis_json(R"({"chain_id": 3, "contracts": [{"address": "0x1", "code_file": ")" +
                                  mod.string() + R"("}]})",
                              "/");
  fs::remove(mod);
  ASSERT_TRUE(g.ok()) << g.error().to_string();
  EXPECT_EQ(g->contracts[0].code, (Bytes{1, 2, 3}));
}

TEST(Chain, GenesisCallsConfigureContractsAsTheirCallerAndAFailingCallFailsTheGenesis) {
  auto out = compiler::compile_source("cfg.writ", R"(
    error NotOwner(caller: address);
    contract Cfg {
      storage owner: address;
      storage v: u64;
      init(o: address) { owner = o; }
      pub fn set(x: u64) { require(caller() == owner, NotOwner(caller())); v = x; }
    })",
                                      {});
  ASSERT_TRUE(out.ok) << out.diagnostics;
  const Address at = Hash256::from_u256(U256::from_u64(0x77));
  const Address owner = Hash256::from_u256(U256::from_u64(0xA));
  Genesis g;
  g.chain_id = 7;
  g.contracts.push_back({at, out.contracts[0].bytecode,
                         call_data("$init", {vm::ValType::U256}, {Value::u256(owner.to_u256())}),
                         U256::zero()});
  g.calls.push_back({owner, at, call_data("set", {vm::ValType::U64}, {Value::u64(5)})});
  auto c = Chain::open(open_memory_store(), g);
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  auto v = c.value()->storage(at, U256::from_u64(1));
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v.value(), U256::from_u64(5));

  // The same call from anyone else reverts NotOwner, and the genesis with it.
  g.calls[0].from = Hash256::from_u256(U256::from_u64(0xB));
  auto bad = Chain::open(open_memory_store(), g);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("genesis calls[0] to 0x"), std::string::npos)
      << bad.error().message;
  EXPECT_NE(bad.error().message.find("Revert"), std::string::npos) << bad.error().message;

  // The JSON form, and its errors by field.
  auto parsed = parse_genesis_json(
      R"({"chain_id": 7, "calls": [{"from": "0xA", "to": "0x77", "input": "0x01020304"}]})", ".");
  ASSERT_TRUE(parsed.ok()) << parsed.error().to_string();
  ASSERT_EQ(parsed->calls.size(), 1u);
  EXPECT_EQ(parsed->calls[0].from, owner);
  EXPECT_EQ(parsed->calls[0].to, at);
  EXPECT_EQ(parsed->calls[0].input, (Bytes{1, 2, 3, 4}));
  auto no_input =
      parse_genesis_json(R"({"chain_id": 7, "calls": [{"from": "0xA", "to": "0x77"}]})", ".");
  ASSERT_FALSE(no_input.ok());
  EXPECT_NE(no_input.error().message.find("calls[0].input"), std::string::npos);
  auto bad_to = parse_genesis_json(
      R"({"chain_id": 7, "calls": [{"from": "0xA", "to": "x", "input": "0x"}]})", ".");
  ASSERT_FALSE(bad_to.ok());
  EXPECT_NE(bad_to.error().message.find("calls[0].to"), std::string::npos);
}

}  // namespace
}  // namespace writ::runtime
