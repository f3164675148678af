// Cross-currency payments on a chain of the default genesis (EURW 0x107,
// USDW 0x108, FxPool 0x109; docs/contracts/fx.md): random conversions in
// both directions at moving prices never lower the pool's value at the
// price they ran at, never pay more than the amount's value, and round
// trips never return more than went in; and the page's gas table holds.
#include <gtest/gtest.h>

#include <random>

#include "payment_chain.hpp"

namespace writ::contracts {
namespace {

using namespace testing;

struct FxChain : PaymentChain {
  const Address hub = Address::from_u256(U256::from_u64(kOracleHubAddress));
  const Address eurw = Address::from_u256(U256::from_u64(kEurTokenAddress));
  const Address usdw = Address::from_u256(U256::from_u64(kUsdTokenAddress));
  const Address pool = Address::from_u256(U256::from_u64(kFxPoolAddress));

  // Both reporters of the default genesis report `micro_usd` millionths of
  // a dollar per euro (a round needs two reports).
  void report(uint64_t micro_usd) {
    const U256 price = vm::mul(U256::from_u64(micro_usd), U256::from_u64(1'000'000'000'000ull));
    for (DevKey r : {DevKey::Reporter1, DevKey::Reporter2})
      ASSERT_EQ(send(r, hub, U256::zero(),
                     input("report", {ValType::U64, ValType::U256},
                           {Value::u64(kFeedEurUsd), Value::u256(price)}),
                     1)
                    .status,
                vm::Status::Ok);
  }
  runtime::Receipt approve(DevKey who, const Address& token) {
    return send(
        who, token, U256::zero(),
        input("approve", {ValType::U256, ValType::U256},
              {Value::u256(pool.to_u256()), Value::u256(vm::sub(U256::zero(), U256::from_u64(1)))}),
        1);
  }
  U256 balance_of(const Address& token, const Address& who) const {
    return view(token, "balance_of", {ValType::U256}, {Value::u256(who.to_u256())},
                {ValType::U256})[0]
        .word;
  }
  runtime::Receipt provide(DevKey who, uint64_t cents, uint64_t micros) {
    return send(who, pool, U256::zero(),
                input("provide", {ValType::U256, ValType::U256, ValType::U256},
                      {Value::u256(U256::from_u64(cents)), Value::u256(U256::from_u64(micros)),
                       Value::u256(U256::zero())}),
                1);
  }
  runtime::Receipt pay(DevKey who, bool eur_in, const Address& to, uint64_t raw) {
    return send(who, pool, U256::zero(),
                input(eur_in ? "pay_eur_as_usd" : "pay_usd_as_eur",
                      {ValType::U256, ValType::U256, ValType::U256},
                      {Value::u256(to.to_u256()), Value::u256(U256::from_u64(raw)),
                       Value::u256(U256::zero())}),
                1);
  }
};

// value in millionths of a dollar of `cents` euros at `micro_usd` per euro, exactly: cents x 10^4 x
// price / 10^6
U256 usd_value_scaled(const U256& cents, uint64_t micro_usd) {
  return vm::mul(vm::mul(cents, U256::from_u64(10'000)), U256::from_u64(micro_usd));
}

TEST(Fx, RandomConversionsNeverCreateValue) {
  FxChain f;
  std::mt19937_64 rng(20261204);
  auto pick = [&](uint64_t n) { return rng() % n; };
  uint64_t price = 1'082'500;  // 1.0825 USD per EUR, in millionths
  f.report(price);
  for (const Address& t : {f.eurw, f.usdw})
    ASSERT_EQ(f.approve(DevKey::Governance, t).status, vm::Status::Ok);
  // 50,000.00 EUR and 50,000 USD of liquidity.
  ASSERT_EQ(f.provide(DevKey::Governance, 5'000'000, 50'000'000'000).status, vm::Status::Ok);
  const Address carol = f.addr(DevKey::Carol);
  int converted = 0;
  for (int step = 0; step < 120; ++step) {
    if (step % 10 == 9) {  // the price moves by up to 0.9% (inside the 1% guard)
      const uint64_t move = price * pick(900) / 100'000;
      price = pick(2) ? price + move : price - move;
      f.report(price);
    }
    const bool eur_in = pick(2);
    const DevKey payer = DevKey::Governance;  // it holds 1,000,000 of each
    // From a cent to 2,000 (euros in cents, dollars in millionths).
    const uint64_t raw = eur_in ? 1 + pick(200'000) : 1 + pick(2'000'000'000);
    const U256 pool_eur = f.balance_of(f.eurw, f.pool), pool_usd = f.balance_of(f.usdw, f.pool);
    const U256 got_before = f.balance_of(eur_in ? f.usdw : f.eurw, carol);
    runtime::Receipt r = f.pay(payer, eur_in, carol, raw);
    ASSERT_TRUE(r.status == vm::Status::Ok || r.status == vm::Status::Revert) << r.detail;
    if (r.status != vm::Status::Ok) continue;  // a payment worth less than a cent
    ++converted;
    const U256 got = vm::sub(f.balance_of(eur_in ? f.usdw : f.eurw, carol), got_before);
    // Never more than the amount's value: dollars <= cents x price (scaled
    // to 10^-12 USD), or euros x price <= dollars paid.
    if (eur_in) {
      EXPECT_FALSE(vm::lt(usd_value_scaled(U256::from_u64(raw), price),
                          vm::mul(got, U256::from_u64(1'000'000))))
          << "step " << step << ": paid more dollars than the euros were worth";
    } else {
      EXPECT_FALSE(vm::lt(vm::mul(U256::from_u64(raw), U256::from_u64(1'000'000)),
                          usd_value_scaled(got, price)))
          << "step " << step << ": paid more euros than the dollars were worth";
    }
    // The pool's value at the price it converted at never goes down.
    const U256 before =
        vm::add(usd_value_scaled(pool_eur, price), vm::mul(pool_usd, U256::from_u64(1'000'000)));
    const U256 after = vm::add(usd_value_scaled(f.balance_of(f.eurw, f.pool), price),
                               vm::mul(f.balance_of(f.usdw, f.pool), U256::from_u64(1'000'000)));
    ASSERT_FALSE(vm::lt(after, before)) << "step " << step << ": the pool lost value";
  }
  EXPECT_GE(converted, 100);
  // Round trips: euros to dollars and straight back never return more.
  const Address gov = f.addr(DevKey::Governance);
  for (int k = 0; k < 20; ++k) {
    const uint64_t cents = 100 + pick(100'000);
    const U256 eur0 = f.balance_of(f.eurw, gov), usd0 = f.balance_of(f.usdw, gov);
    ASSERT_EQ(f.pay(DevKey::Governance, true, gov, cents).status, vm::Status::Ok);
    const U256 usd_got = vm::sub(f.balance_of(f.usdw, gov), usd0);
    runtime::Receipt back = f.pay(DevKey::Governance, false, gov, usd_got.low64());
    ASSERT_EQ(back.status, vm::Status::Ok) << back.detail;
    EXPECT_TRUE(vm::lt(f.balance_of(f.eurw, gov), eur0))
        << cents << " cents came back whole or more, through the fee";
    EXPECT_EQ(f.balance_of(f.usdw, gov), usd0);
  }
}

TEST(Fx, GasOfEveryOperationIsWithinTenPercentOfItsPage) {
  FxChain f;
  PageGas gas("fx.md");
  f.report(1'082'500);
  for (const Address& t : {f.eurw, f.usdw}) {
    ASSERT_EQ(f.approve(DevKey::Governance, t).status, vm::Status::Ok);
    ASSERT_EQ(f.approve(DevKey::Alice, t).status, vm::Status::Ok);
  }
  gas.record("provide (first, both currencies)",
             f.provide(DevKey::Governance, 5'000'000, 50'000'000'000));
  gas.record("provide (at the pool's proportion)",
             f.provide(DevKey::Alice, 100'000, 1'100'000'000));
  const Address bob = f.addr(DevKey::Bob);
  gas.record("pay_eur_as_usd", f.pay(DevKey::Alice, true, bob, 10'000));
  gas.record("pay_usd_as_eur", f.pay(DevKey::Alice, false, bob, 108'250'000));
  gas.record(
      "withdraw",
      f.send(DevKey::Alice, f.pool, U256::zero(),
             input("withdraw", {ValType::U256}, {Value::u256(U256::from_u64(1'000'000))}), 1));
  gas.record("token transfer (EURW)",
             f.send(DevKey::Alice, f.eurw, U256::zero(),
                    input("transfer", {ValType::U256, ValType::U256},
                          {Value::u256(bob.to_u256()), Value::u256(U256::from_u64(100))}),
                    1));
  gas.check();
}

}  // namespace
}  // namespace writ::contracts
