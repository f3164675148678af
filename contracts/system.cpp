#include "writ/contracts/system.hpp"

#include <openssl/sha.h>
#include <nlohmann/json.hpp>

#include "system_data.hpp"
#include "writ/vm/abi.hpp"

namespace writ::contracts {

namespace {

using runtime::Address;
using runtime::Bytes;
using vm::U256;
using vm::ValType;
using vm::Value;

Address short_address(uint64_t v) {
  return Address::from_u256(U256::from_u64(v));
}

uint64_t address_of_contract(std::string_view name) {
  if (name == "OracleHub") return kOracleHubAddress;
  if (name == "RiskEngine") return kRiskEngineAddress;
  if (name == "PaymentHolds") return kPaymentHoldsAddress;
  if (name == "Escrow") return kEscrowAddress;
  if (name == "Streams") return kStreamsAddress;
  if (name == "Treasury") return kTreasuryAddress;
  if (name == "StableToken") return kEurTokenAddress;  // and a second one at kUsdTokenAddress
  if (name == "FxPool") return kFxPoolAddress;
  if (name == "LendingPool") return kLendingPoolAddress;
  if (name == "Stablecoin") return kStablecoinAddress;
  return 0;
}

const std::vector<SystemContract>& table() {
  static const std::vector<SystemContract> kTable = [] {
    std::vector<SystemContract> t;
    for (const detail::Embedded& e : detail::embedded())
      t.push_back({e.name, e.source, short_address(address_of_contract(e.name)), e.module,
                   e.abi_json, e.debug_json});
    return t;
  }();
  return kTable;
}

Bytes input(std::string_view fn, std::vector<ValType> types, std::vector<Value> args) {
  return vm::call_input(vm::selector_of(fn, types), args);
}

Value text(std::string_view s) {
  return Value::buf(std::vector<uint8_t>(s.begin(), s.end()));
}
Value u64(uint64_t v) {
  return Value::u64(v);
}
Value word(const Address& a) {
  return Value::u256(a.to_u256());
}

std::string hex(std::span<const uint8_t> b) {
  static const char* kHex = "0123456789abcdef";
  std::string s = "0x";
  for (uint8_t x : b) {
    s += kHex[x >> 4];
    s += kHex[x & 15];
  }
  return s;
}

// A number of thousandths as a WAD in an i256 (two's complement).
U256 milli_wad(int64_t milli) {
  const U256 mag = vm::mul(U256::from_u64(static_cast<uint64_t>(milli < 0 ? -milli : milli)),
                           U256::from_u64(1'000'000'000'000'000ull));
  return milli < 0 ? vm::sub(U256::zero(), mag) : mag;
}

// A decimal integer (raw units: a ray's 27 decimals written out).
U256 raw(std::string_view digits) {
  U256 v = U256::zero();
  for (char c : digits)
    v = vm::add(vm::mul(v, U256::from_u64(10)), U256::from_u64(uint64_t(c - '0')));
  return v;
}

}  // namespace

const DefaultModel& default_model() {
  // Version 1: trained by `writ risk train --allow-negative --without
  // new_recipient_account` on the generator's stream of seed 1 before it
  // had split payments (40,000 payments over 60 days, 30 days of warm-up,
  // 7-day feedback; docs/contracts/risk.md), rounded to thousandths. In
  // order: velocity hour and day, amount vs habit, new counterparty, thin
  // history, counterparty fraud, fan-in, fan-out, amount size, new account,
  // new recipient account (not weighed: "Known weaknesses" says why).
  static const DefaultModel kModel = {
      1, -16'916, {-871, 66, 1'105, 3'303, 1'357, 183, -173, 3'822, 671, 2'742, 0}};
  return kModel;
}

std::span<const SystemContract> system_contracts() {
  return table();
}

const SystemContract* find_system_contract(std::string_view name) {
  for (const SystemContract& c : table())
    if (c.name == name) return &c;
  return nullptr;
}

std::string_view dev_key_name(DevKey which) {
  switch (which) {
    case DevKey::Governance:
      return "governance";
    case DevKey::Reporter1:
      return "reporter1";
    case DevKey::Reporter2:
      return "reporter2";
    case DevKey::Reporter3:
      return "reporter3";
    case DevKey::Reviewer:
      return "reviewer";
    case DevKey::Alice:
      return "alice";
    case DevKey::Bob:
      return "bob";
    case DevKey::Carol:
      return "carol";
  }
  return "?";
}

runtime::Keypair dev_key(DevKey which) {
  const std::string seed_text = "writ dev key: " + std::string(dev_key_name(which));
  std::array<uint8_t, 32> seed{};
  SHA256(reinterpret_cast<const uint8_t*>(seed_text.data()), seed_text.size(), seed.data());
  return runtime::keypair_from_seed(seed);
}

runtime::Genesis default_genesis() {
  runtime::Genesis g;
  g.chain_id = kDevChainId;
  g.timestamp = kDevGenesisTime;
  // 1,000,000 units (18 decimals) to every dev key.
  const U256 funds =
      vm::mul(U256::from_u64(1'000'000), U256::from_u64(1'000'000'000'000'000'000ull));
  for (DevKey k : {DevKey::Governance, DevKey::Reporter1, DevKey::Reporter2, DevKey::Reporter3,
                   DevKey::Reviewer, DevKey::Alice, DevKey::Bob, DevKey::Carol})
    g.accounts.push_back({runtime::address_of(dev_key(k).pub), funds});
  const Address gov = runtime::address_of(dev_key(DevKey::Governance).pub);

  // The oracle hub: three feeds, each reported by the three dev reporters;
  // a round closes with two reports.
  const SystemContract* hub = find_system_contract("OracleHub");
  g.contracts.push_back({hub->address, Bytes(hub->module.begin(), hub->module.end()),
                         input("$init", {ValType::U256}, {word(gov)}), U256::zero()});
  struct FeedSpec {
    std::string_view name;
    uint64_t heartbeat, deviation;
    bool refuse;
  };
  // Heartbeats in seconds; deviations in 1/100,000 (10,000 = 10%).
  const FeedSpec feeds[] = {{"ETH/USD", 3600, 5'000, false},
                            {"EUR/USD", 3600, 1'000, true},
                            {"USDC/USD", 86'400, 500, true}};
  const std::vector<ValType> add_feed_types = {ValType::Buf, ValType::U64, ValType::U64,
                                               ValType::U64, ValType::U64, ValType::U64};
  for (const FeedSpec& f : feeds)
    g.calls.push_back({gov, hub->address,
                       input("add_feed", add_feed_types,
                             {text(f.name), u64(f.heartbeat), u64(f.deviation),
                              u64(f.refuse ? 1 : 0), u64(2), u64(3600)})});
  for (uint64_t feed : {kFeedEthUsd, kFeedEurUsd, kFeedUsdcUsd})
    for (DevKey r : {DevKey::Reporter1, DevKey::Reporter2, DevKey::Reporter3})
      g.calls.push_back({gov, hub->address,
                         input("set_reporter", {ValType::U64, ValType::U256, ValType::U64},
                               {u64(feed), word(runtime::address_of(dev_key(r).pub)), u64(1)})});

  // The risk engine: holds at 700, refuses at 950, the default model, the
  // dev reviewer.
  const SystemContract* risk = find_system_contract("RiskEngine");
  g.contracts.push_back(
      {risk->address, Bytes(risk->module.begin(), risk->module.end()),
       input("$init", {ValType::U256, ValType::U64, ValType::U64}, {word(gov), u64(700), u64(950)}),
       U256::zero()});
  const DefaultModel& m = default_model();
  std::vector<uint8_t> weights;
  for (int64_t w : m.weights_milli) {
    uint8_t be[32];
    vm::to_be_bytes(milli_wad(w), be);
    weights.insert(weights.end(), be, be + 32);
  }
  g.calls.push_back({gov, risk->address,
                     input("install_model", {ValType::U64, ValType::U256, ValType::Buf},
                           {u64(m.version), Value::u256(milli_wad(m.intercept_milli)),
                            Value::buf(std::move(weights))})});
  g.calls.push_back({gov, risk->address,
                     input("set_reviewer", {ValType::U256, ValType::U64},
                           {word(runtime::address_of(dev_key(DevKey::Reviewer).pub)), u64(1)})});

  // Payment holds: a held payment waits up to 3 days for the reviewer. The
  // holds contract records what it releases, so it is a recorder.
  const SystemContract* holds = find_system_contract("PaymentHolds");
  g.contracts.push_back(
      {holds->address, Bytes(holds->module.begin(), holds->module.end()),
       input("$init", {ValType::U256, ValType::U64}, {word(risk->address), u64(3 * 86'400)}),
       U256::zero()});
  g.calls.push_back(
      {gov, risk->address,
       input("set_recorder", {ValType::U256, ValType::U64}, {word(holds->address), u64(1)})});
  g.risk_engine = risk->address;
  g.payment_holds = holds->address;

  // The escrow: no parameters; every deal brings its own.
  const SystemContract* escrow = find_system_contract("Escrow");
  g.contracts.push_back({escrow->address, Bytes(escrow->module.begin(), escrow->module.end()),
                         input("$init", {}, {}), U256::zero()});
  // The payment streams: likewise, every stream brings its own.
  const SystemContract* streams = find_system_contract("Streams");
  g.contracts.push_back({streams->address, Bytes(streams->module.begin(), streams->module.end()),
                         input("$init", {}, {}), U256::zero()});

  // A development treasury (docs/contracts/treasury.md): owners governance,
  // alice and bob, 2 of 3; a payment the risk engine scores at 700 or more
  // needs one approval more; native payments above 10,000.0 wait a day
  // once approved and expire a week later. Funded with 100,000.0.
  const SystemContract* treasury = find_system_contract("Treasury");
  std::vector<uint8_t> owners;
  for (DevKey k : {DevKey::Governance, DevKey::Alice, DevKey::Bob}) {
    uint8_t be[32];
    vm::to_be_bytes(runtime::address_of(dev_key(k).pub).to_u256(), be);
    owners.insert(owners.end(), be, be + 32);
  }
  const U256 unit = U256::from_u64(1'000'000'000'000'000'000ull);
  g.contracts.push_back(
      {treasury->address, Bytes(treasury->module.begin(), treasury->module.end()),
       input("$init",
             {ValType::Buf, ValType::U64, ValType::U64, ValType::U64, ValType::U256, ValType::U64,
              ValType::U64},
             {Value::buf(std::move(owners)), u64(2), u64(700), u64(1),
              Value::u256(vm::mul(U256::from_u64(10'000), unit)), u64(86'400), u64(7 * 86'400)}),
       vm::mul(U256::from_u64(100'000), unit)});
  // Its payments are recorded in the risk engine's histories.
  g.calls.push_back(
      {gov, risk->address,
       input("set_recorder", {ValType::U256, ValType::U64}, {word(treasury->address), u64(1)})});

  // Two stable tokens at their currencies' decimals, issued by governance
  // (docs/contracts/fx.md): EURW (2 decimals) and USDW (6). The dev
  // accounts hold 10,000 of each; the treasury 100,000.00 EURW; governance
  // 1,000,000 of each, to fund the conversion pool once the EUR/USD feed
  // has a price. The pool converts at the hub's EUR/USD price no older than
  // an hour, for a fee of 0.3%.
  const SystemContract* token = find_system_contract("StableToken");
  const Address eurw = short_address(kEurTokenAddress), usdw = short_address(kUsdTokenAddress);
  const Address weth = short_address(kWethTokenAddress);
  for (const auto& spec : {std::pair{eurw, 2}, std::pair{usdw, 6}, std::pair{weth, 18}}) {
    const Address at = spec.first;
    const int decimals = spec.second;
    g.contracts.push_back({at, Bytes(token->module.begin(), token->module.end()),
                           input("$init", {ValType::U64, ValType::U256},
                                 {u64(static_cast<uint64_t>(decimals)), word(gov)}),
                           U256::zero()});
    U256 one = U256::from_u64(1);
    for (int i = 0; i < decimals; ++i) one = vm::mul(one, U256::from_u64(10));
    auto mint = [&](const Address& to, uint64_t whole) {
      g.calls.push_back({gov, at,
                         input("mint", {ValType::U256, ValType::U256},
                               {word(to), Value::u256(vm::mul(U256::from_u64(whole), one))})});
    };
    const uint64_t each = at == weth ? 100 : 10'000;
    for (DevKey k : {DevKey::Alice, DevKey::Bob, DevKey::Carol})
      mint(runtime::address_of(dev_key(k).pub), each);
    mint(gov, at == weth ? 10'000 : 1'000'000);
    if (at == eurw) mint(treasury->address, 100'000);
  }
  const SystemContract* fx = find_system_contract("FxPool");
  g.contracts.push_back({fx->address, Bytes(fx->module.begin(), fx->module.end()),
                         input("$init",
                               {ValType::U256, ValType::U256, ValType::U256, ValType::U64,
                                ValType::U64, ValType::U256},
                               {word(gov), word(eurw), word(usdw), u64(kFeedEurUsd), u64(3'600),
                                Value::u256(U256::from_u64(3'000'000'000'000'000ull))}),
                         U256::zero()});

  // The lending pool (docs/contracts/lending.md): markets for WETH (ETH/USD
  // feed), USDW (USDC/USD) and EURW (EUR/USD), with Compound-like kinked
  // rate models; accounts the risk engine scores at 700 or more borrow up
  // to half their limit.
  const SystemContract* pool = find_system_contract("LendingPool");
  g.contracts.push_back({pool->address, Bytes(pool->module.begin(), pool->module.end()),
                         input("$init", {ValType::U256}, {word(gov)}), U256::zero()});
  auto milli = [](uint64_t thousandths) {
    return Value::u256(milli_wad(static_cast<int64_t>(thousandths)));
  };
  struct MarketSpec {
    Address token;
    uint64_t decimals, feed;
    uint64_t cf, lt, incentive, reserve, base, multiplier, jump, kink;  // thousandths
  };
  const MarketSpec markets[] = {
      {weth, 18, kFeedEthUsd, 750, 800, 1'080, 150, 20, 100, 1'090, 800},
      {usdw, 6, kFeedUsdcUsd, 800, 850, 1'050, 100, 0, 50, 1'090, 800},
      {eurw, 2, kFeedEurUsd, 800, 850, 1'050, 100, 0, 50, 1'090, 800},
  };
  uint64_t market_id = 0;
  for (const MarketSpec& spec : markets) {
    ++market_id;
    g.calls.push_back({gov, pool->address,
                       input("list_market",
                             {ValType::U256, ValType::U64, ValType::U64, ValType::U256,
                              ValType::U256, ValType::U256, ValType::U256},
                             {word(spec.token), u64(spec.decimals), u64(spec.feed), milli(spec.cf),
                              milli(spec.lt), milli(spec.incentive), milli(spec.reserve)})});
    g.calls.push_back(
        {gov, pool->address,
         input("set_rate_model",
               {ValType::U64, ValType::U256, ValType::U256, ValType::U256, ValType::U256},
               {u64(market_id), milli(spec.base), milli(spec.multiplier), milli(spec.jump),
                milli(spec.kink)})});
  }
  g.calls.push_back({gov, pool->address,
                     input("set_risk", {ValType::U64, ValType::U256}, {u64(700), milli(500)})});

  // The DUSD stablecoin (docs/contracts/stablecoin.md): WETH vaults at a
  // 150% liquidation ratio and a 5% yearly stability fee, ceiling
  // 10,000,000 DUSD, dust 100; liquidation penalty 13%, auctions from 120%
  // of the delayed price, 1% off every 90 s, reset after 140 minutes or
  // below 40%, keepers paid 100 DUSD plus 0.1% of the debt; the peg
  // stability module swaps USDW 1:1 up to 10,000,000 for a 0.1% fee in.
  const SystemContract* stable = find_system_contract("Stablecoin");
  g.contracts.push_back({stable->address, Bytes(stable->module.begin(), stable->module.end()),
                         input("$init", {ValType::U256}, {word(gov)}), U256::zero()});
  const U256 ray_unit = raw("1000000000000000000000000000");
  auto whole = [&](uint64_t n) { return Value::u256(vm::mul(U256::from_u64(n), unit)); };
  auto ray_milli = [&](uint64_t thousandths) {
    return Value::u256(
        vm::mul(U256::from_u64(thousandths), vm::div(ray_unit, U256::from_u64(1000))));
  };
  const std::vector<ValType> add_types = {ValType::U256, ValType::U64,  ValType::U64, ValType::U256,
                                          ValType::U256, ValType::U256, ValType::U256};
  g.calls.push_back(
      {gov, stable->address,
       input("add_collateral", add_types,
             {word(weth), u64(18), u64(kFeedEthUsd), ray_milli(1'500),
              Value::u256(raw("1000000001547125957863212448")), whole(10'000'000), whole(100)})});
  g.calls.push_back({gov, stable->address,
                     input("set_liquidation",
                           {ValType::U64, ValType::U256, ValType::U256, ValType::U256, ValType::U64,
                            ValType::U256, ValType::U256, ValType::U256},
                           {u64(1), milli(1'130), whole(5'000'000), ray_milli(1'200), u64(8'400),
                            ray_milli(400), milli(1), whole(100)})});
  g.calls.push_back({gov, stable->address,
                     input("set_ceilings", {ValType::U256, ValType::U256},
                           {whole(50'000'000), whole(10'000'000)})});
  g.calls.push_back(
      {gov, stable->address,
       input("set_psm", {ValType::U256, ValType::U64, ValType::U256, ValType::U256, ValType::U256},
             {word(usdw), u64(6), whole(10'000'000), milli(1), milli(0)})});

  // The risk engine vouches for every system contract (a deposit in escrow,
  // a supply to the lending pool, the pool's own scoring of a borrower as
  // its payer do not look like payments to a new account) and for the
  // accounts the chain starts with, as a payment service vouches for the
  // customers it brings onto a new chain: a chain starts with no history,
  // and without it every payment looks like one between new accounts.
  for (const SystemContract& c : system_contracts()) vouch_at_genesis(g, c.address);
  for (const runtime::GenesisAccount& a : std::vector(g.accounts)) vouch_at_genesis(g, a.address);
  return g;
}

void vouch_at_genesis(runtime::Genesis& g, const Address& account) {
  g.calls.push_back({runtime::address_of(dev_key(DevKey::Governance).pub),
                     Address::from_u256(U256::from_u64(kRiskEngineAddress)),
                     input("vouch", {ValType::U256}, {word(account)})});
}

std::string default_genesis_json() {
  const runtime::Genesis g = default_genesis();
  nlohmann::ordered_json j;
  j["chain_id"] = g.chain_id;
  j["timestamp"] = g.timestamp;
  j["min_gas_price"] = vm::to_dec_string(g.min_gas_price);
  j["risk_engine"] = "0x" + g.risk_engine.hex();
  j["payment_holds"] = "0x" + g.payment_holds.hex();
  j["accounts"] = nlohmann::ordered_json::array();
  for (const auto& a : g.accounts)
    j["accounts"].push_back(
        {{"address", "0x" + a.address.hex()}, {"balance", vm::to_dec_string(a.balance)}});
  j["contracts"] = nlohmann::ordered_json::array();
  for (const auto& c : g.contracts)
    j["contracts"].push_back({{"address", "0x" + c.address.hex()},
                              {"code", hex(c.code)},
                              {"init", hex(c.init_input)},
                              {"balance", vm::to_dec_string(c.balance)}});
  j["calls"] = nlohmann::ordered_json::array();
  for (const auto& c : g.calls)
    j["calls"].push_back(
        {{"from", "0x" + c.from.hex()}, {"to", "0x" + c.to.hex()}, {"input", hex(c.input)}});
  return j.dump(2) + "\n";
}

}  // namespace writ::contracts
