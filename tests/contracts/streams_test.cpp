// The payment streams (contracts/streams/streams.writ, docs/contracts/
// streams.md) on a chain of the default genesis: random sequences keep
// every stream's accounts exact, and the page's gas table holds.
#include <gtest/gtest.h>

#include <random>

#include "payment_chain.hpp"

namespace writ::contracts {
namespace {

using namespace testing;

const U256 kRateScale = kWad;  // a rate is base units per second times 10^18

// A stream as `stream(id)` returns it (docs/contracts/streams.md).
struct StreamView {
  uint64_t state = 0;  // 1 active, 2 cancelled
  U256 rate, balance, debt;
  uint64_t since = 0;
  U256 deposited, withdrawn, refunded;
};

StreamView stream_of(const PaymentChain& p, const Address& streams, uint64_t id) {
  auto f = p.view(
      streams, "stream", {ValType::U64}, {Value::u64(id)},
      {ValType::U64, ValType::U256, ValType::U256, ValType::U256, ValType::U256, ValType::U256,
       ValType::U256, ValType::U64, ValType::U256, ValType::U256, ValType::U256});
  return {f[0].word.low64(), f[4].word, f[5].word, f[6].word,
          f[7].word.low64(), f[8].word, f[9].word, f[10].word};
}

Bytes create_input(const Address& recipient, const U256& rate, const U256& deposit) {
  return input("create", {ValType::U256, ValType::U256, ValType::U256, ValType::U256},
               {Value::u256(recipient.to_u256()), Value::u256(U256::zero()), Value::u256(rate),
                Value::u256(deposit)});
}

// Random native streams between Alice and Bob under random top-ups,
// withdrawals and cancels from random callers, one transaction per block,
// time moving by seconds and now and then by hours (past the coverage).
// After every step, for every stream: deposited = balance + withdrawn +
// refunded; while it is active, what was withdrawn plus its debt is
// exactly rate x (since - created), nothing lost to rounding however many
// withdrawals; once cancelled, what the recipient got and can still get is
// at most floor(rate x (cancelled - created) / 10^18). And the contract
// holds exactly the streams' balances (nothing else pays it here).
TEST(Streams, RandomSequencesKeepEveryStreamExact) {
  PaymentChain p;
  const Address streams = Address::from_u256(U256::from_u64(kStreamsAddress));
  const DevKey keys[] = {DevKey::Alice, DevKey::Bob, DevKey::Carol};
  std::mt19937_64 rng(20261204);
  auto pick = [&](uint64_t n) { return rng() % n; };
  std::vector<uint64_t> created(1, 0), cancelled(1, 0);
  std::map<std::string, int> ok;
  uint64_t count = 0;
  for (int step = 0; step < 400; ++step) {
    const uint64_t id = count == 0 ? 1 : 1 + pick(count);
    const uint64_t advance = 1 + pick(pick(8) == 0 ? 20'000 : 90);
    const int op = count == 0 ? 0 : static_cast<int>(pick(6));
    std::string name;
    runtime::Receipt r;
    if (op == 0) {
      name = "create";
      const DevKey sender = pick(2) ? DevKey::Alice : DevKey::Bob;
      const DevKey recipient = sender == DevKey::Alice ? DevKey::Bob : DevKey::Alice;
      // Rates from a millionth of a base unit a second to a thousand, odd
      // ones included, so that withdrawals leave fractions.
      U256 rate = U256::from_u64(1 + pick(1'000'000'000'000ull));
      for (uint64_t k = pick(4); k > 0; --k) rate = vm::mul(rate, U256::from_u64(1000));
      const U256 deposit = U256::from_u64(1 + pick(5'000));
      r = p.send(sender, streams, deposit, create_input(p.addr(recipient), rate, deposit), advance);
      if (r.status == vm::Status::Ok) {
        ++count;
        created.push_back(p.time);
        cancelled.push_back(0);
      }
    } else if (op == 1) {
      name = "top_up";
      const U256 amount = U256::from_u64(pick(600));
      r = p.send(
          keys[pick(3)], streams, amount,
          input("top_up", {ValType::U64, ValType::U256}, {Value::u64(id), Value::u256(amount)}),
          advance);
    } else if (op == 5) {
      name = "cancel";
      r = p.send(keys[pick(3)], streams, U256::zero(),
                 input("cancel", {ValType::U64}, {Value::u64(id)}), advance);
      if (r.status == vm::Status::Ok) cancelled[id] = p.time;
    } else {
      name = "withdraw";
      r = p.send(keys[pick(3)], streams, U256::zero(),
                 input("withdraw", {ValType::U64}, {Value::u64(id)}), advance);
    }
    ASSERT_TRUE(r.status == vm::Status::Ok || r.status == vm::Status::Revert)
        << "step " << step << " " << name << ": " << r.detail;
    if (r.status == vm::Status::Ok) ++ok[name];
    U256 held = U256::zero();
    for (uint64_t s = 1; s <= count; ++s) {
      const StreamView v = stream_of(p, streams, s);
      ASSERT_EQ(v.deposited, vm::add(v.balance, vm::add(v.withdrawn, v.refunded)))
          << "step " << step << ": stream " << s;
      held = vm::add(held, v.balance);
      if (v.state == 1) {
        ASSERT_EQ(vm::add(vm::mul(v.withdrawn, kRateScale), v.debt),
                  vm::mul(v.rate, U256::from_u64(v.since - created[s])))
            << "step " << step << ": stream " << s << " lost or made a fraction";
      } else {
        ASSERT_EQ(v.state, 2u);
        const U256 streamed =
            vm::div(vm::mul(v.rate, U256::from_u64(cancelled[s] - created[s])), kRateScale);
        ASSERT_FALSE(vm::lt(streamed, vm::add(v.withdrawn, v.balance)))
            << "step " << step << ": cancelled stream " << s << " pays more than streamed";
      }
    }
    ASSERT_EQ(p.balance(streams), held) << "step " << step << " after " << name;
  }
  for (const char* k : {"create", "top_up", "withdraw", "cancel"})
    EXPECT_GE(ok[k], 10) << k << " succeeded only " << ok[k] << " times";
}

// The gas table of docs/contracts/streams.md, and the plain payment it is
// compared with there.
// Value that comes with a call is scored as a payment to the called contract
// before the call runs (docs/runtime.md, "Payments and risk"): a thief with
// a sender's key cannot move what a plain payment could not by opening a
// stream to itself. A sanctioned sender's call carrying value is refused and
// nothing runs; one that scores at the hold threshold runs (a call cannot
// wait for a reviewer) and is recorded in the sender's history; a call
// without value is not scored.
TEST(Streams, ValueThatComesWithACallIsScoredFirst) {
  PaymentChain p;
  const Address streams = Address::from_u256(U256::from_u64(kStreamsAddress));
  const Address alice = p.addr(DevKey::Alice), bob = p.addr(DevKey::Bob);
  const U256 deposit = vm::mul(U256::from_u64(1000), kWad);
  const Bytes create = create_input(bob, kRateScale, deposit);
  // A new counterparty: 730 under this chain's model, at the hold threshold.
  const U256 streams_before = p.balance(streams);
  const uint64_t sent_before = p.chain->account(alice)->history[0].limb[0] & 0xFFFFFF;
  runtime::Receipt run = p.send(DevKey::Alice, streams, deposit, create);
  ASSERT_EQ(run.status, vm::Status::Ok) << run.detail;
  ASSERT_TRUE(run.risk.has_value());
  EXPECT_EQ(run.risk->score, 730);
  EXPECT_EQ(run.risk->decision, runtime::PaymentRisk::Decision::Settled);
  EXPECT_EQ(p.balance(streams), vm::add(streams_before, deposit)) << "the call moved the value";
  EXPECT_EQ(p.chain->account(alice)->history[0].limb[0] & 0xFFFFFF, sent_before + 1)
      << "recorded as a payment sent";
  // Sanctioned: refused, nothing runs, nothing moves but the fee.
  ASSERT_EQ(p.send(DevKey::Governance, p.risk, U256::zero(),
                   input("set_sanctioned", {ValType::U256, ValType::U64},
                         {Value::u256(alice.to_u256()), Value::u64(1)}))
                .status,
            vm::Status::Ok);
  const U256 alice_before = p.balance(alice), streams_mid = p.balance(streams);
  runtime::Receipt refused = p.send(DevKey::Alice, streams, deposit, create);
  EXPECT_EQ(refused.status, vm::Status::Revert);
  ASSERT_TRUE(refused.risk.has_value());
  EXPECT_EQ(refused.risk->score, 999);
  EXPECT_EQ(refused.risk->decision, runtime::PaymentRisk::Decision::Refused);
  EXPECT_EQ(p.balance(streams), streams_mid);
  EXPECT_EQ(p.balance(alice), vm::sub(alice_before, U256::from_u64(refused.gas_used)));
  // Without value a call is not scored, sanctioned sender or not.
  runtime::Receipt plain = p.send(DevKey::Alice, streams, U256::zero(),
                                  input("withdraw", {ValType::U64}, {Value::u64(1)}));
  EXPECT_FALSE(plain.risk.has_value());
}

TEST(Streams, GasOfEveryOperationIsWithinTenPercentOfItsPage) {
  PaymentChain p;
  const Address streams = Address::from_u256(U256::from_u64(kStreamsAddress));
  PageGas gas("streams.md");
  const Address bob = p.addr(DevKey::Bob);
  // A cent a second of a 2-decimal currency: one base unit, times 10^18.
  gas.record("create (native)", p.send(DevKey::Alice, streams, U256::from_u64(360'000),
                                       create_input(bob, kRateScale, U256::from_u64(360'000))));
  gas.record("top_up (native)", p.send(DevKey::Carol, streams, U256::from_u64(1'000),
                                       input("top_up", {ValType::U64, ValType::U256},
                                             {Value::u64(1), Value::u256(U256::from_u64(1'000))})));
  gas.record("withdraw", p.send(DevKey::Bob, streams, U256::zero(),
                                input("withdraw", {ValType::U64}, {Value::u64(1)}), 3'600));
  gas.record("cancel", p.send(DevKey::Alice, streams, U256::zero(),
                              input("cancel", {ValType::U64}, {Value::u64(1)})));
  gas.record("withdraw (after cancel)", p.send(DevKey::Bob, streams, U256::zero(),
                                               input("withdraw", {ValType::U64}, {Value::u64(1)})));
  // The same cent as a plain payment: to a known payee, so it settles.
  ASSERT_EQ(p.send(DevKey::Alice, bob, U256::from_u64(1)).status, vm::Status::Ok);
  gas.record("plain payment (native, scored)", p.send(DevKey::Alice, bob, U256::from_u64(1)));
  gas.check();
}

}  // namespace
}  // namespace writ::contracts
