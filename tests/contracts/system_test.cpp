// The system contracts on a real chain: the default genesis deploys and
// configures them, signed transactions from the development keys drive
// them, and the genesis JSON describes the same chain.
#include <gtest/gtest.h>

#include "writ/contracts/feeder.hpp"
#include "writ/contracts/system.hpp"
#include "writ/runtime/chain.hpp"
#include "writ/vm/abi.hpp"

namespace writ::contracts {
namespace {

using runtime::Address;
using runtime::Bytes;
using runtime::Chain;
using runtime::Transaction;
using vm::U256;
using vm::ValType;
using vm::Value;

const U256 kWad = U256::from_u64(1'000'000'000'000'000'000ull);

Bytes input(const std::string& fn, std::vector<ValType> types, std::vector<Value> args) {
  return vm::call_input(vm::selector_of(fn, types), args);
}

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
    return signed_call(who, 0, hub,
                       input("report", {ValType::U64, ValType::U256},
                             {Value::u64(kFeedEthUsd), Value::u256(vm::mul(U256::from_u64(dollars), kWad))}));
  };
  auto block = chain.produce_block({report(DevKey::Reporter1, 2000), report(DevKey::Reporter2, 2010)},
                                   kDevGenesisTime + 10);
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
  EXPECT_EQ(parse_price("2000.5").value(), vm::mul(U256::from_u64(20005), U256::from_u64(100'000'000'000'000'000ull)));
  EXPECT_EQ(parse_price("1").value(), kWad);
  EXPECT_EQ(parse_price("0.000000000000000001").value(), U256::from_u64(1));
  EXPECT_EQ(parse_price("1000000000000000000").value(), *vm::parse_u256("1000000000000000000000000000000000000"));
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
  EXPECT_NE(bad_price.error().message.find("line 2: price 'one'"), std::string::npos) << bad_price.error().message;
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
  auto r = chain.call(hub, hub,
                      input("price", {ValType::U64, ValType::U64}, {Value::u64(kFeedEurUsd), Value::u64(60)}),
                      1'000'000);
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, vm::Status::Ok);
  auto dec = vm::abi_decode(std::vector<ValType>{ValType::U256, ValType::U64}, r->output);
  ASSERT_TRUE(dec.ok());
  EXPECT_EQ(dec->at(0).word, vm::mul(U256::from_u64(1085), U256::from_u64(1'000'000'000'000'000ull)));
}

}  // namespace
}  // namespace writ::contracts
