// Chain determinism with the JIT (docs/jit.md): two chains of the default
// genesis run the same signed blocks, one with the JIT forced on for every
// contract (compiled at its first call), one on the interpreter; every
// block's state root and every receipt (status, gas used, output, logs)
// must be the same. The blocks exercise the system contracts: native
// payments scored by the risk engine, the oracle hub's reports and pokes,
// token approvals and transfers, the lending pool (supply, borrow, a
// liquidation after a price fall) and DUSD (a vault, the PSM, a
// liquidation auction taken), and a failing call.
#include <gtest/gtest.h>

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "credit_chain.hpp"
#include "writ/vm/jit.hpp"

namespace writ::contracts {
namespace {

using namespace testing;

struct Twin {
  CreditChain interp{3}, jitted{3};
  std::atomic<uint64_t> compiled_calls{0}, compiled_modules{0}, cached_modules{0};
  uint64_t time = kDevGenesisTime;
  std::map<std::string, uint64_t> nonces;
  int blocks = 0;

  // Forced on (every module compiled before its first call), or tiered:
  // compiled on the background thread once its calls used `threshold`.
  explicit Twin(bool forced = true, int64_t threshold = 0) {
    vm::jit::TierOptions o;
    o.threshold_gas = threshold;
    o.threshold_gas_per_kb = 0;
    o.synchronous = forced;
    use(o);
  }
  explicit Twin(vm::jit::TierOptions o) { use(o); }
  void use(vm::jit::TierOptions o) {
    o.compiled_calls = &compiled_calls;
    o.compiled_modules = &compiled_modules;
    o.cached_modules = &cached_modules;
    std::string err;
    auto tier = vm::jit::make_tier(o, &err);
    EXPECT_NE(tier, nullptr) << err;
    jitted.chain->set_execution_tier(tier);
  }

  // One signed transaction in a block on both chains; the same result.
  runtime::Receipt step(const runtime::Keypair& key, const Address& to, Bytes data,
                        uint64_t advance = 5, const U256& value = U256::zero(),
                        uint64_t gas_limit = 3'000'000) {
    Transaction t;
    t.kind = Transaction::Kind::Call;
    t.chain_id = kDevChainId;
    t.nonce = nonces[runtime::address_of(key.pub).hex()]++;
    t.gas_limit = gas_limit;
    t.gas_price = U256::from_u64(1);
    t.value = value;
    t.to = to;
    t.data = std::move(data);
    t.sign_with(key);
    time += advance;
    auto a = interp.chain->produce_block({t}, time);
    auto b = jitted.chain->produce_block({t}, time);
    EXPECT_TRUE(a.ok() && b.ok());
    if (!a.ok() || !b.ok()) return {};
    ++blocks;
    EXPECT_EQ(a->block.header.state_root, b->block.header.state_root) << "block " << blocks;
    EXPECT_EQ(a->receipts.size(), b->receipts.size());
    for (size_t i = 0; i < std::min(a->receipts.size(), b->receipts.size()); ++i) {
      const runtime::Receipt &ra = a->receipts[i], &rb = b->receipts[i];
      EXPECT_EQ(ra.status, rb.status) << "block " << blocks;
      EXPECT_EQ(ra.gas_used, rb.gas_used) << "block " << blocks;
      EXPECT_EQ(ra.output, rb.output) << "block " << blocks;
      EXPECT_EQ(ra.detail, rb.detail) << "block " << blocks;
      EXPECT_EQ(ra.trap_func, rb.trap_func) << "block " << blocks;
      EXPECT_EQ(ra.trap_pc, rb.trap_pc) << "block " << blocks;
      EXPECT_EQ(ra.logs.size(), rb.logs.size()) << "block " << blocks;
      for (size_t k = 0; k < std::min(ra.logs.size(), rb.logs.size()); ++k) {
        EXPECT_EQ(ra.logs[k].address, rb.logs[k].address);
        EXPECT_EQ(ra.logs[k].topics, rb.logs[k].topics);
        EXPECT_EQ(ra.logs[k].data, rb.logs[k].data);
      }
    }
    EXPECT_EQ(a->block.header.receipts_root, b->block.header.receipts_root) << "block " << blocks;
    return a->receipts.empty() ? runtime::Receipt{} : a->receipts[0];
  }
  runtime::Receipt call(const runtime::Keypair& key, const Address& to, const std::string& fn,
                        std::vector<ValType> types, std::vector<Value> args, uint64_t advance = 5) {
    return step(key, to, input(fn, std::move(types), std::move(args)), advance);
  }
  void empty_to_hour() {
    time = (time / 3'600 + 1) * 3'600 - 1;
    auto a = interp.chain->produce_block({}, time);
    auto b = jitted.chain->produce_block({}, time);
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(a->block.header.state_root, b->block.header.state_root);
  }
  void prices(uint64_t eth) {
    for (DevKey r : {DevKey::Reporter1, DevKey::Reporter2}) {
      call(dev_key(r), interp.hub, "report", {ValType::U64, ValType::U256},
           {Value::u64(kFeedEthUsd), word(wad_of(eth))}, 1);
      call(dev_key(r), interp.hub, "report", {ValType::U64, ValType::U256},
           {Value::u64(kFeedUsdcUsd), word(wad_of(1))}, 1);
    }
    for (uint64_t feed : {kFeedEthUsd, kFeedUsdcUsd})
      call(dev_key(DevKey::Reporter3), interp.hub, "poke", {ValType::U64}, {Value::u64(feed)}, 1);
  }
};

void run_scenario(Twin& t) {
  const auto& u = t.interp.users;
  const CreditChain& c = t.interp;
  // Native payments: scored by the risk engine, one to a new account.
  t.step(u[0], c.user(1), {}, 5, wad_of(25));
  t.step(u[1], Address::from_u256(U256::from_u64(0xF00D)), {}, 5, wad_of(500));
  // Prices, current and delayed.
  t.prices(2'000);
  t.empty_to_hour();
  t.prices(2'000);
  t.empty_to_hour();
  t.prices(2'000);
  // Approvals, the lending pool, DUSD.
  for (size_t i = 0; i < 3; ++i)
    for (const Address& token : {c.weth, c.usdw})
      for (const Address& spender : {c.pool, c.stable})
        t.call(u[i], token, "approve", {ValType::U256, ValType::U256},
               {word(spender), word(max_u256())}, 1);
  t.call(u[2], c.pool, "supply", {ValType::U64, ValType::U256},
         {Value::u64(2), word(U256::from_u64(500'000'000'000ull))});
  t.call(u[0], c.pool, "supply", {ValType::U64, ValType::U256}, {Value::u64(1), word(wad_of(10))});
  t.call(u[0], c.pool, "borrow", {ValType::U64, ValType::U256},
         {Value::u64(2), word(U256::from_u64(14'900'000'000ull))});
  t.call(u[0], c.pool, "borrow", {ValType::U64, ValType::U256},
         {Value::u64(2), word(U256::from_u64(1'000'000'000ull))});  // refused
  t.call(u[1], c.stable, "open", {ValType::U64, ValType::U256, ValType::U256},
         {Value::u64(1), word(wad_of(10)), word(wad_of(13'000))});
  t.call(u[2], c.stable, "sell_gem", {ValType::U256}, {word(U256::from_u64(100'000'000'000ull))});
  // ETH falls 20%: liquidations in both.
  t.empty_to_hour();
  t.prices(1'600);
  t.empty_to_hour();
  t.prices(1'600);
  t.empty_to_hour();
  t.prices(1'600);
  t.call(u[2], c.pool, "liquidate", {ValType::U256, ValType::U64, ValType::U256, ValType::U64},
         {word(c.user(0)), Value::u64(2), word(U256::from_u64(7'000'000'000ull)), Value::u64(1)});
  t.call(u[2], c.stable, "bark", {ValType::U64, ValType::U256}, {Value::u64(1), word(c.user(1))});
  t.time += 1'800;
  t.call(u[2], c.stable, "take", {ValType::U64, ValType::U256, ValType::U256, ValType::U256},
         {Value::u64(1), word(wad_of(10)), word(max_u256()), word(c.user(2))});
  // Thirty days of interest, then everyone repays what they can.
  t.time += 30 * 86'400;
  t.call(u[0], c.pool, "repay_all", {ValType::U64}, {Value::u64(2)});
  t.call(u[1], c.stable, "wipe_all", {ValType::U64}, {Value::u64(1)});
  EXPECT_GE(t.blocks, 40);
}

TEST(JitChain, TheSameBlocksGiveTheSameRootsAndReceipts) {
  Twin t;
  run_scenario(t);
  // The JIT ran: every system contract called here was compiled, and ran compiled.
  EXPECT_GE(t.compiled_modules.load(), 5u);
  EXPECT_GE(t.compiled_calls.load(), 40u);
}

// Out of gas at every limit around a token transfer's cost (its reads of
// slots and accounts, first in each block, pay more): compiled code that
// finds the gas out late has the interpreter run the call again from the
// state as it was, first accesses included (vm::Host::snapshot), and the
// receipts and roots are the interpreter chain's.
TEST(JitChain, OutOfGasAtEveryLimitGivesTheSameReceipts) {
  Twin t;
  const auto& u = t.interp.users;
  const CreditChain& c = t.interp;
  const Bytes data = input("transfer", {ValType::U256, ValType::U256},
                           {word(c.user(1)), word(U256::from_u64(1'000))});
  const runtime::Receipt full = t.step(u[0], c.weth, data, 1);
  ASSERT_EQ(full.status, vm::Status::Ok);
  const uint64_t reruns = vm::jit::rerun_counts().reruns;
  int out_of_gas = 0;
  for (uint64_t limit = full.gas_used - 2'000; limit <= full.gas_used; limit += 9) {
    const runtime::Receipt r = t.step(u[0], c.weth, data, 1, U256::zero(), limit);
    out_of_gas += r.status == vm::Status::OutOfGas;
    if (HasFailure()) return;
  }
  EXPECT_GT(out_of_gas, 100);
  EXPECT_GT(vm::jit::rerun_counts().reruns, reruns + 50);
  EXPECT_EQ(vm::jit::rerun_counts().disagreements, 0u);
}

// Tiered: modules move to compiled code on the background thread while the
// blocks run (when exactly depends on the thread): the same results.
TEST(JitChain, BackgroundCompilationChangesNoResult) {
  Twin t(false, 20'000);
  run_scenario(t);
  // Compiling takes a while on the background thread (which module is
  // first depends on it: the risk engine's genesis calls pass the threshold
  // too); then the hub's reports and pokes run compiled, with the same
  // results.
  // (Compiling is slow under the sanitizers: seconds a module.)
  for (int i = 0; i < 400 && t.compiled_modules.load() == 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  for (int i = 0; i < 200 && t.compiled_calls.load() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    t.empty_to_hour();
    t.prices(1'500);
  }
  EXPECT_GE(t.compiled_modules.load(), 1u);
  EXPECT_GE(t.compiled_calls.load(), 1u);
}

// Compiled at deploy, whatever their gas (a threshold no call reaches), in
// the background, with the code cached on disk: a second node on the same
// cache directory (a restart) loads every module instead of compiling it.
TEST(JitChain, CompiledAtDeployAndCachedOnDisk) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("writ_jit_chain_cache_" + std::to_string(getpid()));
  std::filesystem::remove_all(dir);
  vm::jit::TierOptions o;
  o.threshold_gas = int64_t{1} << 60;
  o.compile_at_deploy = true;
  o.cache_dir = dir.string();
  const size_t n = system_contracts().size();
  auto wait_for = [](const std::atomic<uint64_t>& count, size_t want) {
    for (int i = 0; i < 2400 && count.load() < want; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    return count.load();
  };
  {
    Twin first(o);
    EXPECT_GE(wait_for(first.compiled_modules, n), n);
    EXPECT_EQ(first.cached_modules.load(), 0u);
    run_scenario(first);
    EXPECT_GE(first.compiled_calls.load(), 40u);
  }
  Twin second(o);
  EXPECT_GE(wait_for(second.compiled_modules, n), n);
  EXPECT_EQ(second.cached_modules.load(), second.compiled_modules.load());
  run_scenario(second);
  EXPECT_GE(second.compiled_calls.load(), 40u);
  std::filesystem::remove_all(dir);
}

// Every system contract of the default genesis compiles (a module that did
// not would stay on the interpreter: correct, but slow).
TEST(JitChain, EverySystemContractCompiles) {
  std::string err;
  auto compiler = vm::jit::Compiler::create(&err);
  ASSERT_NE(compiler, nullptr) << err;
  for (const SystemContract& sc : system_contracts()) {
    auto v = vm::load_module(sc.module);
    ASSERT_TRUE(v.ok()) << sc.name;
    std::string why;
    EXPECT_NE(compiler->compile(*v.value(), &why), nullptr) << sc.name << ": " << why;
  }
}

}  // namespace
}  // namespace writ::contracts
