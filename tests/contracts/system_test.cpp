// The system contracts on a real chain: the default genesis deploys and
// configures them, signed transactions from the development keys drive
// them, and the genesis JSON describes the same chain.
#include <gtest/gtest.h>

#include <bit>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <random>

#include "payment_chain.hpp"
#include "writ/compiler/compiler.hpp"
#include "writ/contracts/feeder.hpp"
#include "writ/contracts/system.hpp"
#include "writ/runtime/chain.hpp"
#include "writ/runtime/node.hpp"
#include "writ/vm/abi.hpp"

namespace writ::contracts {
namespace {

using namespace testing;

Transaction signed_call(DevKey who, uint64_t nonce, const Address& to, Bytes data) {
  Transaction t;
  t.kind = Transaction::Kind::Call;
  t.chain_id = kDevChainId;
  t.nonce = nonce;
  t.gas_limit = 1'000'000;
  t.gas_price = U256::from_u64(1);
  t.to = to;
  t.data = std::move(data);
  t.sign_with(dev_key(who));
  return t;
}

TEST(SystemContracts, EveryEmbeddedContractHasItsFixedAddressAndAVerifiedModule) {
  ASSERT_FALSE(system_contracts().empty());
  const SystemContract* hub = find_system_contract("OracleHub");
  ASSERT_NE(hub, nullptr);
  EXPECT_EQ(hub->address, Address::from_u256(U256::from_u64(kOracleHubAddress)));
  EXPECT_EQ(hub->source, "contracts/oracle/oracle.writ");
  EXPECT_TRUE(vm::decode_module(hub->module).ok());
  EXPECT_NE(hub->abi_json.find("\"report\""), std::string_view::npos);
  EXPECT_EQ(find_system_contract("NoSuchContract"), nullptr);
}

TEST(SystemContracts, DevKeysAreDistinctAndStable) {
  std::set<std::string> seen;
  for (DevKey k : {DevKey::Governance, DevKey::Reporter1, DevKey::Reporter2, DevKey::Reporter3,
                   DevKey::Reviewer, DevKey::Alice, DevKey::Bob, DevKey::Carol})
    EXPECT_TRUE(seen.insert(runtime::address_of(dev_key(k).pub).hex()).second) << dev_key_name(k);
  EXPECT_EQ(runtime::address_of(dev_key(DevKey::Alice).pub),
            runtime::address_of(dev_key(DevKey::Alice).pub));
}

TEST(SystemContracts, TheDefaultGenesisConfiguresTheOracleAndSignedReportsMakeAPrice) {
  auto opened = Chain::open(runtime::open_memory_store(), default_genesis());
  ASSERT_TRUE(opened.ok()) << opened.error().to_string();
  Chain& chain = *opened.value();
  const Address hub = Address::from_u256(U256::from_u64(kOracleHubAddress));
  const Address gov = runtime::address_of(dev_key(DevKey::Governance).pub);
  auto view = [&](const std::string& fn, std::vector<ValType> types, std::vector<Value> args,
                  std::vector<ValType> results) {
    auto r = chain.call(gov, hub, input(fn, types, args), 1'000'000);
    EXPECT_TRUE(r.ok());
    std::vector<Value> out;
    if (r.ok() && r->status == vm::Status::Ok) {
      auto dec = vm::abi_decode(results, r->output);
      if (dec.ok()) out = dec.value();
    }
    return std::make_pair(r.ok() ? r->status : vm::Status::Unreachable, out);
  };
  // Three feeds, governed by the dev governance key, each with three reporters.
  auto count = view("feeds_count", {}, {}, {ValType::U64});
  ASSERT_EQ(count.first, vm::Status::Ok);
  EXPECT_EQ(count.second[0].word, U256::from_u64(3));
  auto governor = view("governor", {}, {}, {ValType::U256});
  EXPECT_EQ(governor.second[0].word, gov.to_u256());
  for (uint64_t feed : {kFeedEthUsd, kFeedEurUsd, kFeedUsdcUsd})
    for (DevKey r : {DevKey::Reporter1, DevKey::Reporter2, DevKey::Reporter3}) {
      auto is = view("is_reporter", {ValType::U64, ValType::U256},
                     {Value::u64(feed), Value::u256(runtime::address_of(dev_key(r).pub).to_u256())},
                     {ValType::U64});
      EXPECT_EQ(is.second.at(0).word, U256::from_u64(1)) << "feed " << feed;
    }
  // No price yet; two signed reports close ETH/USD's first round at their median.
  const std::vector<ValType> price_types = {ValType::U64, ValType::U64};
  EXPECT_EQ(view("price", price_types, {Value::u64(kFeedEthUsd), Value::u64(3600)},
                 {ValType::U256, ValType::U64})
                .first,
            vm::Status::Revert);
  auto report = [&](DevKey who, uint64_t dollars) {
    return signed_call(
        who, 0, hub,
        input("report", {ValType::U64, ValType::U256},
              {Value::u64(kFeedEthUsd), Value::u256(vm::mul(U256::from_u64(dollars), kWad))}));
  };
  auto block = chain.produce_block(
      {report(DevKey::Reporter1, 2000), report(DevKey::Reporter2, 2010)}, kDevGenesisTime + 10);
  ASSERT_TRUE(block.ok()) << block.error().to_string();
  ASSERT_EQ(block->receipts.size(), 2u);
  for (const auto& r : block->receipts) EXPECT_EQ(r.status, vm::Status::Ok) << r.detail;
  auto p = view("price", price_types, {Value::u64(kFeedEthUsd), Value::u64(3600)},
                {ValType::U256, ValType::U64});
  ASSERT_EQ(p.first, vm::Status::Ok);
  EXPECT_EQ(p.second[0].word, vm::mul(U256::from_u64(2005), kWad));
  EXPECT_EQ(p.second[1].word, U256::from_u64(kDevGenesisTime + 10));
  // A key that is not a reporter is refused, and pays for trying.
  auto alice = chain.produce_block({report(DevKey::Alice, 1)}, kDevGenesisTime + 20);
  ASSERT_TRUE(alice.ok());
  ASSERT_EQ(alice->receipts.size(), 1u);
  EXPECT_EQ(alice->receipts[0].status, vm::Status::Revert);
  EXPECT_GT(alice->receipts[0].gas_used, 0u);
}

TEST(SystemContracts, TheGenesisJsonIsTheSameChain) {
  auto parsed = runtime::parse_genesis_json(default_genesis_json(), ".");
  ASSERT_TRUE(parsed.ok()) << parsed.error().to_string();
  auto from_json = Chain::open(runtime::open_memory_store(), parsed.value());
  auto direct = Chain::open(runtime::open_memory_store(), default_genesis());
  ASSERT_TRUE(from_json.ok() && direct.ok());
  EXPECT_EQ(from_json.value()->head().state_root, direct.value()->head().state_root);
  EXPECT_EQ(from_json.value()->head().hash(), direct.value()->head().hash());
}

TEST(Feeder, PricesAreExactDecimalWadsWithinTheHubsRange) {
  EXPECT_EQ(parse_price("2000.5").value(),
            vm::mul(U256::from_u64(20005), U256::from_u64(100'000'000'000'000'000ull)));
  EXPECT_EQ(parse_price("1").value(), kWad);
  EXPECT_EQ(parse_price("0.000000000000000001").value(), U256::from_u64(1));
  EXPECT_EQ(parse_price("1000000000000000000").value(),
            *vm::parse_u256("1000000000000000000000000000000000000"));
  for (const char* bad : {"0", "0.0", "-1", "1.", ".5", "1e3", "abc", "", "1.0000000000000000001",
                          "1000000000000000000.000000000000000001", "99999999999999999999"})
    EXPECT_FALSE(parse_price(bad).ok()) << bad;
  EXPECT_EQ(parse_feed("EUR/USD").value(), kFeedEurUsd);
  EXPECT_EQ(parse_feed("7").value(), 7u);
  EXPECT_FALSE(parse_feed("DOGE/USD").ok());
  EXPECT_FALSE(parse_feed("0").ok());
}

TEST(Feeder, APriceSourceIsReadLineByLineAndErrorsNameTheLine) {
  auto q = parse_price_source("# prices at noon\nETH/USD 2000.5\n\n  EUR/USD\t1.0825  \n3 1\n");
  ASSERT_TRUE(q.ok()) << q.error().to_string();
  ASSERT_EQ(q->size(), 3u);
  EXPECT_EQ((*q)[0].feed, kFeedEthUsd);
  EXPECT_EQ((*q)[1].feed, kFeedEurUsd);
  EXPECT_EQ((*q)[1].price, vm::mul(U256::from_u64(10825), U256::from_u64(100'000'000'000'000ull)));
  EXPECT_EQ((*q)[2].price, kWad);
  auto bad_price = parse_price_source("ETH/USD 2000\nEUR/USD one\n");
  ASSERT_FALSE(bad_price.ok());
  EXPECT_NE(bad_price.error().message.find("line 2: price 'one'"), std::string::npos)
      << bad_price.error().message;
  auto bad_feed = parse_price_source("\n\nXAU/USD 2400\n");
  ASSERT_FALSE(bad_feed.ok());
  EXPECT_NE(bad_feed.error().message.find("line 3: unknown feed 'XAU/USD'"), std::string::npos);
  auto no_price = parse_price_source("ETH/USD\n");
  ASSERT_FALSE(no_price.ok());
  EXPECT_NE(no_price.error().message.find("line 1: expected FEED PRICE"), std::string::npos);
}

TEST(Feeder, ReportTransactionsFromTheDevReportersCloseARound) {
  auto opened = Chain::open(runtime::open_memory_store(), default_genesis());
  ASSERT_TRUE(opened.ok());
  Chain& chain = *opened.value();
  auto quotes = parse_price_source("EUR/USD 1.08\n");
  ASSERT_TRUE(quotes.ok());
  auto quotes2 = parse_price_source("EUR/USD 1.09\n");
  auto block = chain.produce_block(
      {report_transaction(dev_key(DevKey::Reporter1), kDevChainId, 0, quotes->at(0)),
       report_transaction(dev_key(DevKey::Reporter3), kDevChainId, 0, quotes2->at(0))},
      kDevGenesisTime + 1);
  ASSERT_TRUE(block.ok());
  ASSERT_EQ(block->receipts.size(), 2u);
  EXPECT_EQ(block->receipts[0].status, vm::Status::Ok);
  EXPECT_EQ(block->receipts[1].status, vm::Status::Ok);
  // The second report closed the round: AnswerUpdated with the median 1.085.
  EXPECT_EQ(block->receipts[1].logs.size(), 2u);
  const Address hub = Address::from_u256(U256::from_u64(kOracleHubAddress));
  auto r = chain.call(
      hub, hub,
      input("price", {ValType::U64, ValType::U64}, {Value::u64(kFeedEurUsd), Value::u64(60)}),
      1'000'000);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, vm::Status::Ok);
  auto dec = vm::abi_decode(std::vector<ValType>{ValType::U256, ValType::U64}, r->output);
  ASSERT_TRUE(dec.ok());
  EXPECT_EQ(dec->at(0).word,
            vm::mul(U256::from_u64(1085), U256::from_u64(1'000'000'000'000'000ull)));
}

TEST(Payments, ANewCounterpartyIsHeldUntilTheReviewerReleasesItThenPaymentsSettle) {
  PaymentChain p;
  const Address bob = p.addr(DevKey::Bob);
  const U256 bob_before = p.balance(bob);
  const U256 holds_before = p.balance(p.holds);
  runtime::Receipt held = p.pay(DevKey::Alice, bob, 5);
  ASSERT_EQ(held.status, vm::Status::Ok) << held.detail;
  ASSERT_TRUE(held.risk.has_value());
  EXPECT_EQ(held.risk->score, 730);  // 999 * sigmoid(1) = 730.3
  EXPECT_EQ(held.risk->reasons, (std::vector<uint8_t>{30}));
  EXPECT_EQ(held.risk->model_version, 2u);
  EXPECT_EQ(held.risk->decision, runtime::PaymentRisk::Decision::Held);
  EXPECT_EQ(held.risk->hold_id, 1u);
  // Funds locked, not moved: the payee has nothing yet, the holds contract has them.
  EXPECT_EQ(p.balance(bob), bob_before);
  EXPECT_EQ(p.balance(p.holds), vm::add(holds_before, vm::mul(U256::from_u64(5), kWad)));
  EXPECT_EQ(p.held_total(), vm::mul(U256::from_u64(5), kWad));
  // Only a reviewer releases; the reviewer does, once.
  EXPECT_EQ(p.holds_call(DevKey::Alice, "release", 1).status, vm::Status::Revert);
  runtime::Receipt released = p.holds_call(DevKey::Reviewer, "release", 1);
  ASSERT_EQ(released.status, vm::Status::Ok) << released.detail;
  EXPECT_EQ(p.balance(bob), vm::add(bob_before, vm::mul(U256::from_u64(5), kWad)));
  EXPECT_EQ(p.held_total(), U256::zero());
  EXPECT_EQ(p.balance(p.holds), holds_before);
  runtime::Receipt twice = p.holds_call(DevKey::Reviewer, "release", 1);
  EXPECT_EQ(twice.status, vm::Status::Revert);
  EXPECT_EQ(revert_name(twice, "NotHeld", {ValType::U64, ValType::U64}), "NotHeld");
  EXPECT_EQ(p.balance(bob), vm::add(bob_before, vm::mul(U256::from_u64(5), kWad)));
  // The release entered the history: Bob is a known counterparty now.
  runtime::Receipt settled = p.pay(DevKey::Alice, bob, 2);
  ASSERT_EQ(settled.status, vm::Status::Ok);
  ASSERT_TRUE(settled.risk.has_value());
  EXPECT_EQ(settled.risk->decision, runtime::PaymentRisk::Decision::Settled);
  EXPECT_EQ(settled.risk->score, 0);
  EXPECT_TRUE(settled.risk->reasons.empty());
  EXPECT_EQ(p.balance(bob), vm::add(bob_before, vm::mul(U256::from_u64(7), kWad)));
  // Receipts carry the judgment through storage and back.
  auto stored = p.chain->receipt(settled.tx_hash);
  ASSERT_TRUE(stored.ok() && stored.value().has_value());
  EXPECT_EQ(stored.value()->risk, settled.risk);
}

TEST(Payments, ARejectedHoldRefundsThePayerAndCountsTheFraudAgainstThePayee) {
  PaymentChain p;
  const Address alice = p.addr(DevKey::Alice), carol = p.addr(DevKey::Carol);
  const U256 carol_before = p.balance(carol);
  runtime::Receipt held = p.pay(DevKey::Alice, carol, 7);
  ASSERT_TRUE(held.risk && held.risk->decision == runtime::PaymentRisk::Decision::Held);
  const U256 alice_after_hold = p.balance(alice);
  runtime::Receipt rejected = p.holds_call(DevKey::Reviewer, "reject", held.risk->hold_id);
  ASSERT_EQ(rejected.status, vm::Status::Ok) << rejected.detail;
  // Refunded in full (the reviewer paid the gas, not Alice).
  EXPECT_EQ(p.balance(alice), vm::add(alice_after_hold, vm::mul(U256::from_u64(7), kWad)));
  EXPECT_EQ(p.balance(carol), carol_before);
  EXPECT_EQ(p.held_total(), U256::zero());
  auto h = p.chain->call(
      p.risk, p.risk, input("history", {ValType::U256}, {Value::u256(carol.to_u256())}), 1'000'000);
  ASSERT_TRUE(h.ok() && h->status == vm::Status::Ok);
  // fraud_received is the 16th field of History (19 fields, all 64-bit).
  auto fields = vm::abi_decode(std::vector<ValType>(19, ValType::U64), h->output);
  ASSERT_TRUE(fields.ok());
  EXPECT_EQ(fields->at(15).word, U256::from_u64(1));
  // A rejected hold cannot be released after.
  EXPECT_EQ(p.holds_call(DevKey::Reviewer, "release", held.risk->hold_id).status,
            vm::Status::Revert);
}

TEST(Payments, AHoldTimesOutToTheRefundAndATimeoutRacingAReleaseSettlesOnce) {
  PaymentChain p;
  const Address alice = p.addr(DevKey::Alice);
  const Address dave = Address::from_u256(U256::from_u64(0xDA7E));
  runtime::Receipt held = p.pay(DevKey::Alice, dave, 3);
  ASSERT_TRUE(held.risk && held.risk->decision == runtime::PaymentRisk::Decision::Held);
  const uint64_t id = held.risk->hold_id;
  const U256 alice_after_hold = p.balance(alice);
  // Before the deadline nobody may refund.
  EXPECT_EQ(p.holds_call(DevKey::Bob, "refund", id).status, vm::Status::Revert);
  // Three days and a second later anyone may, once; the release that comes
  // after finds it refunded.
  runtime::Receipt refunded = p.holds_call(DevKey::Bob, "refund", id, 3 * 86'400 + 1);
  ASSERT_EQ(refunded.status, vm::Status::Ok) << refunded.detail;
  EXPECT_EQ(p.balance(alice), vm::add(alice_after_hold, vm::mul(U256::from_u64(3), kWad)));
  EXPECT_EQ(p.balance(dave), U256::zero());
  runtime::Receipt late = p.holds_call(DevKey::Reviewer, "release", id);
  EXPECT_EQ(late.status, vm::Status::Revert);
  EXPECT_EQ(revert_name(late, "NotHeld", {ValType::U64, ValType::U64}), "NotHeld");
  EXPECT_EQ(p.balance(dave), U256::zero());
  EXPECT_EQ(p.held_total(), U256::zero());
  // Held payments count in the history: Dave is a known counterparty now.
  runtime::Receipt known = p.pay(DevKey::Alice, dave, 1);
  ASSERT_TRUE(known.risk && known.risk->decision == runtime::PaymentRisk::Decision::Settled);
  EXPECT_EQ(p.balance(dave), kWad);
  // And the other order: released first, the refund finds it released.
  const Address erin = Address::from_u256(U256::from_u64(0xE41));
  runtime::Receipt held2 = p.pay(DevKey::Alice, erin, 4);
  ASSERT_TRUE(held2.risk && held2.risk->decision == runtime::PaymentRisk::Decision::Held);
  ASSERT_EQ(p.holds_call(DevKey::Reviewer, "release", held2.risk->hold_id, 3 * 86'400 + 1).status,
            vm::Status::Ok);
  EXPECT_EQ(p.holds_call(DevKey::Bob, "refund", held2.risk->hold_id).status, vm::Status::Revert);
  EXPECT_EQ(p.balance(erin), vm::mul(U256::from_u64(4), kWad));
}

TEST(Payments, ASanctionedPayeeIsRefusedAndNothingMovesButTheFee) {
  PaymentChain p;
  const Address alice = p.addr(DevKey::Alice), eve = Address::from_u256(U256::from_u64(0xE7E));
  ASSERT_EQ(p.send(DevKey::Governance, p.risk, U256::zero(),
                   input("set_sanctioned", {ValType::U256, ValType::U64},
                         {Value::u256(eve.to_u256()), Value::u64(1)}))
                .status,
            vm::Status::Ok);
  const U256 alice_before = p.balance(alice);
  runtime::Receipt refused = p.pay(DevKey::Alice, eve, 9);
  EXPECT_EQ(refused.status, vm::Status::Revert);
  ASSERT_TRUE(refused.risk.has_value());
  EXPECT_EQ(refused.risk->decision, runtime::PaymentRisk::Decision::Refused);
  EXPECT_EQ(refused.risk->score, 999);
  EXPECT_EQ(refused.risk->reasons, (std::vector<uint8_t>{91}));
  EXPECT_EQ(revert_name(refused, "PaymentRefused", {ValType::U64, ValType::Buf}), "PaymentRefused");
  EXPECT_EQ(p.balance(eve), U256::zero());
  EXPECT_EQ(p.balance(alice), vm::sub(alice_before, U256::from_u64(refused.gas_used)));
  EXPECT_EQ(p.held_total(), U256::zero());
}

// The engine keeps each account's history in the account's own record (three
// words, docs/contracts/risk.md): the payer's sending, account and payee
// words, the payee's account word. A record holds its words up to the last
// that is not zero. Proofs of those records cover them; a refused payment
// records nothing.
TEST(Payments, TheHistoryLivesInTheAccountRecordsAndTheirProofs) {
  PaymentChain p;
  const Address alice = p.addr(DevKey::Alice), bob = p.addr(DevKey::Bob);
  const Address fresh = Address::from_u256(U256::from_u64(0xF2E5));
  ASSERT_EQ(p.chain->account(alice)->history[0], U256::zero());
  const uint64_t t0 = p.time;
  runtime::Receipt r = p.pay(DevKey::Alice, bob, 5);
  ASSERT_EQ(r.status, vm::Status::Ok) << r.detail;
  const runtime::Account a = p.chain->account(alice).value(), b = p.chain->account(bob).value();
  EXPECT_EQ(a.history[0].limb[0] & 0xFFFFFF, 1u) << "one payment sent";
  EXPECT_EQ((a.history[0].limb[0] >> 24) & 0xFFFFFFFFFF, t0 + 5) << "at the block's time";
  // The development keys are vouched for at genesis: first seen at 1 (1970).
  EXPECT_EQ(a.history[1].limb[0] & 0xFFFFFFFFFF, 1u) << "first seen";
  EXPECT_EQ(b.history[1].limb[0] & 0xFFFFFFFFFF, 1u) << "the payee's first seen";
  EXPECT_EQ(b.history[0], U256::zero()) << "the payee sent nothing";
  // The payee word: Bob's three bits in Alice's filter, one payee added.
  int bits = std::popcount(a.history[2].limb[3] & 0xFFFF'FFFF'FFFF);  // bits 192..239
  for (int i = 0; i < 3; ++i) bits += std::popcount(a.history[2].limb[i]);
  EXPECT_GE(bits, 1);
  EXPECT_LE(bits, 3);
  EXPECT_EQ(a.history[2].limb[3] >> 48, 1u) << "one payee added";
  EXPECT_EQ(b.history[2], U256::zero());
  EXPECT_EQ(a.encode().size(), 72u + 3 * 32u);
  EXPECT_EQ(b.encode().size(), 72u + 2 * 32u) << "word 2 is zero, so it is left out";
  EXPECT_EQ(runtime::Account::decode(a.encode()), a);
  EXPECT_EQ(runtime::Account::decode(b.encode()), b);
  std::string trailing_zero = b.encode() + std::string(32, '\0');
  EXPECT_FALSE(runtime::Account::decode(trailing_zero)) << "one encoding per account";
  EXPECT_EQ(p.chain->account(fresh)->encode().size(), 72u) << "no history, no words";
  // The proof of the record is a proof of its history too.
  auto proof = p.chain->prove_account(alice);
  ASSERT_TRUE(proof.ok() && proof->account.has_value());
  EXPECT_EQ(proof->account->history, a.history);
  EXPECT_TRUE(runtime::verify_account_proof(proof.value()));
  runtime::AccountProof forged = proof.value();
  forged.account->history[0] = vm::add(forged.account->history[0], U256::from_u64(1));
  EXPECT_FALSE(runtime::verify_account_proof(forged));
  // And through the node's JSON, checked offline from the JSON alone.
  runtime::RpcHandler rpc(*p.chain);
  nlohmann::json got = nlohmann::json::parse(
      rpc.handle(R"({"jsonrpc":"2.0","id":1,"method":"writ_getProof","params":["0x)" + alice.hex() +
                 R"("]})"));
  nlohmann::json pj = got["result"];
  ASSERT_TRUE(pj["account"].contains("history")) << got.dump();
  EXPECT_TRUE(runtime::verify_proof_json(pj.dump()).value());
  pj["account"]["history"][1] = "0x" + std::string(63, '0') + "2";
  EXPECT_FALSE(runtime::verify_proof_json(pj.dump()).value());
  pj["account"].erase("history");
  EXPECT_FALSE(runtime::verify_proof_json(pj.dump()).value()) << "the words are part of the record";
  // An account never seen before is first seen when a payment to it is recorded.
  const Address other = Address::from_u256(U256::from_u64(0x07E4));
  ASSERT_EQ(p.pay(DevKey::Alice, other, 1).status, vm::Status::Ok);
  EXPECT_EQ(p.chain->account(other)->history[1].limb[0] & 0xFFFFFFFFFF, p.time)
      << "the payee's first seen";
  // A refused payment leaves every word as it was.
  ASSERT_EQ(p.send(DevKey::Governance, p.risk, U256::zero(),
                   input("set_sanctioned", {ValType::U256, ValType::U64},
                         {Value::u256(fresh.to_u256()), Value::u64(1)}))
                .status,
            vm::Status::Ok);
  const runtime::Account sanctioned = p.chain->account(fresh).value();
  EXPECT_NE(sanctioned.history[1], U256::zero()) << "the sanction is in its account word";
  const runtime::Account before = p.chain->account(alice).value();
  ASSERT_EQ(p.pay(DevKey::Alice, fresh, 1).status, vm::Status::Revert);
  EXPECT_EQ(p.chain->account(alice)->history, before.history);
  EXPECT_EQ(p.chain->account(fresh)->history, sanctioned.history);
}

// Value that comes with a deploy is scored as a payment to the new contract
// (docs/runtime.md, "Payments and risk"), else a key thief could deploy a
// contract with the balance and a function that sends it on: a sanctioned
// sender's deploy with value is refused and no contract is made; another's
// runs, scored, and the contract holds the value.
TEST(Payments, ValueThatComesWithADeployIsScoredFirst) {
  PaymentChain p;
  auto out = compiler::compile_source("sink.writ",
                                      "contract Sink { pub fn f() -> u64 { return 1; } }", {});
  ASSERT_TRUE(out.ok) << out.diagnostics;
  auto deploy = [&](DevKey who, uint64_t units) {
    Transaction d;
    d.kind = Transaction::Kind::Deploy;
    d.chain_id = kDevChainId;
    d.nonce = p.nonces[std::string(dev_key_name(who))]++;
    d.gas_limit = 2'000'000;
    d.gas_price = U256::from_u64(1);
    d.value = vm::mul(U256::from_u64(units), kWad);
    d.code = out.contracts[0].bytecode;
    d.sign_with(dev_key(who));
    auto b = p.chain->produce_block({d}, ++p.time);
    EXPECT_TRUE(b.ok() && b->receipts.size() == 1);
    return b.ok() && b->receipts.size() == 1 ? b->receipts[0] : runtime::Receipt{};
  };
  const Address alice = p.addr(DevKey::Alice);
  ASSERT_EQ(p.send(DevKey::Governance, p.risk, U256::zero(),
                   input("set_sanctioned", {ValType::U256, ValType::U64},
                         {Value::u256(alice.to_u256()), Value::u64(1)}))
                .status,
            vm::Status::Ok);
  runtime::Receipt refused = deploy(DevKey::Alice, 7);
  EXPECT_EQ(refused.status, vm::Status::Revert);
  ASSERT_TRUE(refused.risk.has_value());
  EXPECT_EQ(refused.risk->score, 999);
  EXPECT_TRUE(p.chain->account(refused.contract)->code_hash.is_zero()) << "no contract made";
  EXPECT_EQ(p.balance(refused.contract), U256::zero());
  runtime::Receipt made = deploy(DevKey::Bob, 7);
  ASSERT_EQ(made.status, vm::Status::Ok) << made.detail;
  ASSERT_TRUE(made.risk.has_value());
  EXPECT_EQ(made.risk->score, 730);  // a new counterparty under this chain's model
  EXPECT_EQ(p.balance(made.contract), vm::mul(U256::from_u64(7), kWad));
}

TEST(Payments, AReviewerThatRevertsLeavesTheHoldAsItWas) {
  PaymentChain p;
  auto out = compiler::compile_source("flaky.writ", R"(
    error Changed();
    interface IHolds { fn release(id: u64); }
    contract FlakyReviewer {
      pub fn release_then_fail(h: address, id: u64) { IHolds(h).release(id); revert Changed(); }
    })",
                                      {});
  ASSERT_TRUE(out.ok) << out.diagnostics;
  Transaction d;
  d.kind = Transaction::Kind::Deploy;
  d.chain_id = kDevChainId;
  d.nonce = p.nonces["governance"]++;
  d.gas_limit = 5'000'000;
  d.gas_price = U256::from_u64(1);
  d.code = out.contracts[0].bytecode;
  d.sign_with(dev_key(DevKey::Governance));
  auto deployed = p.chain->produce_block({d}, ++p.time);
  ASSERT_TRUE(deployed.ok() && deployed->receipts[0].status == vm::Status::Ok);
  const Address flaky = deployed->receipts[0].contract;
  ASSERT_EQ(p.send(DevKey::Governance, p.risk, U256::zero(),
                   input("set_reviewer", {ValType::U256, ValType::U64},
                         {Value::u256(flaky.to_u256()), Value::u64(1)}))
                .status,
            vm::Status::Ok);
  const Address bob = p.addr(DevKey::Bob);
  runtime::Receipt held = p.pay(DevKey::Alice, bob, 6);
  ASSERT_TRUE(held.risk && held.risk->decision == runtime::PaymentRisk::Decision::Held);
  const U256 bob_before = p.balance(bob);
  runtime::Receipt failed =
      p.send(DevKey::Bob, flaky, U256::zero(),
             input("release_then_fail", {ValType::U256, ValType::U64},
                   {Value::u256(p.holds.to_u256()), Value::u64(held.risk->hold_id)}));
  EXPECT_EQ(failed.status, vm::Status::Revert);
  // Still held: Bob got nothing (he paid the gas), the holds contract keeps the funds.
  EXPECT_EQ(p.balance(bob), vm::sub(bob_before, U256::from_u64(failed.gas_used)));
  EXPECT_EQ(p.held_total(), vm::mul(U256::from_u64(6), kWad));
  ASSERT_EQ(p.holds_call(DevKey::Reviewer, "release", held.risk->hold_id).status, vm::Status::Ok);
  EXPECT_EQ(p.held_total(), U256::zero());
}

// The escrow under a random sequence of operations from random callers, one
// transaction per block with time moving on: after every step, for every
// deal, released + refunded <= deposited, a closed deal has nothing left,
// milestones only go forward; and the escrow's balance is exactly what its
// open deals have left plus the credits not yet withdrawn (nothing else
// pays it here). Most operations fail (wrong caller, state or time); the
// test also checks that every kind succeeded many times.
TEST(Escrow, RandomSequencesKeepReleasedPlusRefundedWithinTheDeposit) {
  PaymentChain p;
  const Address escrow = Address::from_u256(U256::from_u64(kEscrowAddress));
  const DevKey keys[] = {DevKey::Alice, DevKey::Bob, DevKey::Carol, DevKey::Reviewer};
  std::mt19937_64 rng(20261203);
  auto pick = [&](uint64_t n) { return rng() % n; };
  auto key = [&] { return keys[pick(4)]; };
  const std::vector<ValType> deal_types = {
      ValType::U64,  ValType::U256, ValType::U256, ValType::U256, ValType::U256,
      ValType::U256, ValType::U256, ValType::U256, ValType::U64,  ValType::U64,
      ValType::U64,  ValType::U64,  ValType::U64,  ValType::U64,  ValType::U64};
  auto view = [&](const std::string& fn, std::vector<ValType> types, std::vector<Value> args,
                  std::vector<ValType> out) {
    auto r = p.chain->call(escrow, escrow, input(fn, types, args), 10'000'000);
    EXPECT_TRUE(r.ok() && r->status == vm::Status::Ok) << fn;
    auto d = vm::abi_decode(out, r.ok() ? r->output : Bytes{});
    EXPECT_TRUE(d.ok()) << fn;
    return d.ok() ? d.value() : std::vector<Value>(out.size(), Value::u64(0));
  };
  std::map<std::string, int> ok;
  std::vector<uint64_t> next_seen(1, 0);
  uint64_t deals = 0;
  for (int step = 0; step < 500; ++step) {
    // Mostly one of the three newest deals, which are still open; time moves
    // by seconds, and now and then by hours (past deadlines and windows).
    const uint64_t id = deals == 0     ? 1
                        : pick(4) == 0 ? 1 + pick(deals)
                                       : deals - pick(std::min<uint64_t>(deals, 3));
    const uint64_t advance = 1 + pick(pick(10) == 0 ? 6000 : 60);
    int op = deals == 0 ? 0 : static_cast<int>(pick(8));
    if (deals > 0) {  // a dispute gets ruled and a held release approved, often enough
      auto f = view("deal", {ValType::U64}, {Value::u64(id)}, deal_types);
      if (f[0].word.low64() == 2 && pick(2) == 0) op = 5;
      if (f[14].word.low64() == 1 && pick(2) == 0) op = 2;
    }
    std::string name;
    runtime::Receipt r;
    if (op == 0) {
      name = "open";
      const DevKey buyer = keys[pick(2)];
      const DevKey seller = buyer == DevKey::Alice ? DevKey::Bob : DevKey::Alice;
      const bool arbiter = pick(4) != 0;
      std::vector<uint8_t> ms;
      uint64_t sum = 0;
      for (uint64_t i = 0, n = 1 + pick(4); i < n; ++i) {
        const uint64_t m = 1 + pick(1000);
        sum += m;
        uint8_t be[32];
        vm::to_be_bytes(U256::from_u64(m), be);
        ms.insert(ms.end(), be, be + 32);
      }
      const uint64_t threshold = arbiter && pick(3) == 0 ? 500 : 0;
      r = p.send(buyer, escrow, U256::from_u64(sum),
                 input("open",
                       {ValType::U256, ValType::U256, ValType::U256, ValType::Buf, ValType::U64,
                        ValType::U64, ValType::U64},
                       {Value::u256(p.addr(seller).to_u256()),
                        Value::u256(arbiter ? p.addr(DevKey::Carol).to_u256() : U256::zero()),
                        Value::u256(U256::zero()), Value::buf(ms),
                        Value::u64(p.time + advance + 200 + pick(3000)),
                        Value::u64(100 + pick(2000)), Value::u64(threshold)}),
                 advance);
      if (r.status == vm::Status::Ok) {
        ++deals;
        next_seen.push_back(0);
      }
    } else if (op <= 6) {
      static const char* kOps[] = {"release", "approve_release", "dispute", "end",
                                   "rule",    "withdraw"};
      name = kOps[op - 1];
      if (name == "rule")
        r = p.send(pick(4) == 0 ? key() : DevKey::Carol, escrow, U256::zero(),
                   input("rule", {ValType::U64, ValType::U64, ValType::U64},
                         {Value::u64(id), Value::u64(pick(5)), Value::u64(pick(12'000))}),
                   advance);
      else if (name == "withdraw")
        r = p.send(key(), escrow, U256::zero(),
                   input("withdraw", {ValType::U256}, {Value::u256(U256::zero())}), advance);
      else
        r = p.send(name == "approve_release" && pick(4) != 0 ? DevKey::Carol : key(), escrow,
                   U256::zero(), input(name, {ValType::U64}, {Value::u64(id)}), advance);
    } else {
      name = "release";  // releases twice as often: the buyer is the caller half the time
      r = p.send(pick(2) == 0 ? DevKey::Alice : DevKey::Bob, escrow, U256::zero(),
                 input("release", {ValType::U64}, {Value::u64(id)}), advance);
    }
    ASSERT_TRUE(r.status == vm::Status::Ok || r.status == vm::Status::Revert)
        << "step " << step << " " << name << ": " << r.detail;
    if (r.status == vm::Status::Ok) ++ok[name];
    // The invariants, after every step.
    U256 left_open = U256::zero();
    for (uint64_t d = 1; d <= deals; ++d) {
      auto f = view("deal", {ValType::U64}, {Value::u64(d)}, deal_types);
      const U256 deposited = f[5].word, released = f[6].word, refunded = f[7].word;
      const U256 out = vm::add(released, refunded);
      ASSERT_FALSE(vm::lt(deposited, out))
          << "step " << step << ": deal " << d << " paid out more than its deposit";
      const uint64_t state = f[0].word.low64(), next = f[9].word.low64();
      if (state == 3) {
        EXPECT_EQ(out, deposited) << "step " << step << ": closed deal " << d << " keeps money";
      }
      if (state != 3) left_open = vm::add(left_open, vm::sub(deposited, out));
      EXPECT_GE(next, next_seen[d]) << "deal " << d << ": a milestone went back";
      EXPECT_LE(next, f[8].word.low64());
      next_seen[d] = next;
    }
    const U256 owed =
        view("owed_total", {ValType::U256}, {Value::u256(U256::zero())}, {ValType::U256})[0].word;
    ASSERT_EQ(p.balance(escrow), vm::add(left_open, owed)) << "step " << step << " after " << name;
  }
  for (const char* k : {"open", "release", "dispute", "rule", "end", "withdraw", "approve_release"})
    EXPECT_GE(ok[k], 3) << k << " succeeded only " << ok[k] << " times (" << ok["open"] << " open, "
                        << ok["dispute"] << " disputes, " << ok["release"] << " releases, "
                        << ok["end"] << " ends)";
}

TEST(Escrow, GasOfEveryOperationIsWithinTenPercentOfItsPage) {
  PaymentChain p;
  const Address escrow = Address::from_u256(U256::from_u64(kEscrowAddress));
  PageGas gas("escrow.md");
  auto milestones = [](std::vector<uint64_t> ms) {
    std::vector<uint8_t> b;
    for (uint64_t m : ms) {
      uint8_t be[32];
      vm::to_be_bytes(U256::from_u64(m), be);
      b.insert(b.end(), be, be + 32);
    }
    return Value::buf(b);
  };
  const std::vector<ValType> open_types = {ValType::U256, ValType::U256, ValType::U256,
                                           ValType::Buf,  ValType::U64,  ValType::U64,
                                           ValType::U64};
  auto open = [&](std::vector<uint64_t> ms, uint64_t sum) {
    return p.send(
        DevKey::Alice, escrow, U256::from_u64(sum),
        input("open", open_types,
              {Value::u256(p.addr(DevKey::Bob).to_u256()),
               Value::u256(p.addr(DevKey::Carol).to_u256()), Value::u256(U256::zero()),
               milestones(ms), Value::u64(p.time + 86'400), Value::u64(3'600), Value::u64(0)}));
  };
  auto op = [&](DevKey who, const std::string& fn, uint64_t id) {
    return p.send(who, escrow, U256::zero(), input(fn, {ValType::U64}, {Value::u64(id)}));
  };
  gas.record("open (1 milestone)", open({100}, 100));
  gas.record("open (4 milestones)", open({100, 200, 300, 400}, 1000));
  gas.record("release", op(DevKey::Alice, "release", 2));
  gas.record("dispute", op(DevKey::Bob, "dispute", 2));
  gas.record("rule (split)", p.send(DevKey::Carol, escrow, U256::zero(),
                                    input("rule", {ValType::U64, ValType::U64, ValType::U64},
                                          {Value::u64(2), Value::u64(4), Value::u64(5'000)})));
  p.time += 86'400;
  gas.record("end", op(DevKey::Bob, "end", 1));
  gas.record("withdraw (native)",
             p.send(DevKey::Bob, escrow, U256::zero(),
                    input("withdraw", {ValType::U256}, {Value::u256(U256::zero())})));
  gas.check();
}

}  // namespace
}  // namespace writ::contracts
