// The test chain of the credit contracts (LendingPool 0x10B, Stablecoin
// 0x10C): the default genesis plus `n` generated users, each funded with
// native currency for gas and with WETH, USDW and EURW; signed transactions
// from any key; prices reported by two of the dev reporters and poked into
// the oracle hub's delayed price.
#pragma once

#include <openssl/sha.h>

#include <string>

#include "payment_chain.hpp"

namespace writ::contracts::testing {

inline U256 dec_u256(std::string_view digits) {
  U256 v = U256::zero();
  for (char c : digits)
    v = vm::add(vm::mul(v, U256::from_u64(10)), U256::from_u64(uint64_t(c - '0')));
  return v;
}
inline const U256 kRay = dec_u256("1000000000000000000000000000");
inline U256 wad_of(uint64_t whole) {
  return vm::mul(U256::from_u64(whole), kWad);
}
// `milli` thousandths of a unit at 18 decimals.
inline U256 milli_wad(uint64_t milli) {
  return vm::mul(U256::from_u64(milli), U256::from_u64(1'000'000'000'000'000ull));
}
inline U256 max_u256() {
  return vm::sub(U256::zero(), U256::from_u64(1));
}
inline Value word(const Address& a) {
  return Value::u256(a.to_u256());
}
inline Value word(const U256& v) {
  return Value::u256(v);
}

struct CreditChain {
  std::unique_ptr<Chain> chain;
  uint64_t time = kDevGenesisTime;
  std::map<std::string, uint64_t> nonces;
  std::vector<runtime::Keypair> users;
  const Address hub = Address::from_u256(U256::from_u64(kOracleHubAddress));
  const Address weth = Address::from_u256(U256::from_u64(kWethTokenAddress));
  const Address usdw = Address::from_u256(U256::from_u64(kUsdTokenAddress));
  const Address eurw = Address::from_u256(U256::from_u64(kEurTokenAddress));
  const Address pool = Address::from_u256(U256::from_u64(kLendingPoolAddress));
  const Address stable = Address::from_u256(U256::from_u64(kStablecoinAddress));
  // What each user is given at genesis, base units.
  const U256 weth_each = wad_of(1'000);
  const U256 usdw_each = U256::from_u64(1'000'000'000'000ull);  // 1,000,000 USDW
  const U256 eurw_each = U256::from_u64(100'000'000);           // 1,000,000.00 EURW

  explicit CreditChain(int n) {
    runtime::Genesis g = default_genesis();
    const Address gov = address_of(DevKey::Governance);
    for (int i = 0; i < n; ++i) {
      const std::string seed_text = "writ credit test user " + std::to_string(i);
      std::array<uint8_t, 32> seed{};
      SHA256(reinterpret_cast<const uint8_t*>(seed_text.data()), seed_text.size(), seed.data());
      users.push_back(runtime::keypair_from_seed(seed));
      const Address a = runtime::address_of(users.back().pub);
      g.accounts.push_back({a, wad_of(1'000'000)});
      for (auto [token, amount] :
           {std::pair{weth, weth_each}, std::pair{usdw, usdw_each}, std::pair{eurw, eurw_each}})
        g.calls.push_back(
            {gov, token, input("mint", {ValType::U256, ValType::U256}, {word(a), word(amount)})});
    }
    auto c = Chain::open(runtime::open_memory_store(), g);
    EXPECT_TRUE(c.ok()) << (c.ok() ? "" : c.error().to_string());
    chain = std::move(c.value());
  }

  static Address address_of(DevKey k) { return runtime::address_of(dev_key(k).pub); }
  Address user(size_t i) const { return runtime::address_of(users[i].pub); }

  runtime::Receipt send_as(const runtime::Keypair& key, const Address& to, Bytes data,
                           uint64_t advance = 5) {
    Transaction t;
    t.kind = Transaction::Kind::Call;
    t.chain_id = kDevChainId;
    t.nonce = nonces[runtime::address_of(key.pub).hex()]++;
    t.gas_limit = 3'000'000;
    t.gas_price = U256::from_u64(1);
    t.value = U256::zero();
    t.to = to;
    t.data = std::move(data);
    t.sign_with(key);
    time += advance;
    auto b = chain->produce_block({t}, time);
    EXPECT_TRUE(b.ok() && b->receipts.size() == 1) << (b.ok() ? "" : b.error().to_string());
    return b.ok() && b->receipts.size() == 1 ? b->receipts[0] : runtime::Receipt{};
  }
  runtime::Receipt call(const runtime::Keypair& key, const Address& to, const std::string& fn,
                        std::vector<ValType> types, std::vector<Value> args, uint64_t advance = 5) {
    return send_as(key, to, input(fn, std::move(types), std::move(args)), advance);
  }
  runtime::Receipt gov_call(const Address& to, const std::string& fn, std::vector<ValType> types,
                            std::vector<Value> args) {
    return call(dev_key(DevKey::Governance), to, fn, std::move(types), std::move(args), 1);
  }

  // A view call against the head, decoded as `out` (nullopt when it fails).
  std::optional<std::vector<Value>> try_view(const Address& contract, const std::string& fn,
                                             std::vector<ValType> types, std::vector<Value> args,
                                             const std::vector<ValType>& out) const {
    auto r =
        chain->call(contract, contract, input(fn, std::move(types), std::move(args)), 50'000'000);
    if (!r.ok() || r->status != vm::Status::Ok) {
      if (getenv("CREDIT_TRACE") && r.ok()) {
        std::string h;
        for (uint8_t b : r->output)
          h += "0123456789abcdef"[b >> 4], h += "0123456789abcdef"[b & 15];
        std::fprintf(stderr, "%s failed: %s %s\n", fn.c_str(), r->detail.c_str(), h.c_str());
      }
      return std::nullopt;
    }
    auto d = vm::abi_decode(out, r->output);
    if (!d.ok()) return std::nullopt;
    return d.value();
  }
  std::vector<Value> view(const Address& contract, const std::string& fn,
                          std::vector<ValType> types, std::vector<Value> args,
                          const std::vector<ValType>& out) const {
    auto v = try_view(contract, fn, std::move(types), std::move(args), out);
    EXPECT_TRUE(v.has_value()) << fn;
    return v ? *v : std::vector<Value>(out.size(), Value::u64(0));
  }
  U256 view_word(const Address& contract, const std::string& fn, std::vector<ValType> types,
                 std::vector<Value> args) const {
    return view(contract, fn, std::move(types), std::move(args), {ValType::U256})[0].word;
  }
  U256 balance_of(const Address& token, const Address& who) const {
    return view_word(token, "balance_of", {ValType::U256}, {word(who)});
  }
  runtime::Receipt approve(const runtime::Keypair& key, const Address& token,
                           const Address& spender) {
    return call(key, token, "approve", {ValType::U256, ValType::U256},
                {word(spender), word(max_u256())}, 1);
  }

  // Brings the block time to the next multiple of `hop` seconds (at least
  // one second on), with an empty block.
  void advance_to_boundary(uint64_t hop = 3'600) {
    const uint64_t next = (time / hop + 1) * hop;
    time = next - 1;
    auto b = chain->produce_block({}, ++time);
    EXPECT_TRUE(b.ok());
  }
  // Reports `price` (a wad) on `feed` from two reporters (a round closes with two).
  void report(uint64_t feed, const U256& price) {
    for (DevKey r : {DevKey::Reporter1, DevKey::Reporter2}) {
      auto rc = call(dev_key(r), hub, "report", {ValType::U64, ValType::U256},
                     {Value::u64(feed), word(price)}, 1);
      EXPECT_EQ(rc.status, vm::Status::Ok) << "report " << feed;
    }
  }
  void poke(uint64_t feed) {
    auto rc = call(dev_key(DevKey::Reporter3), hub, "poke", {ValType::U64}, {Value::u64(feed)}, 1);
    EXPECT_EQ(rc.status, vm::Status::Ok) << "poke " << feed;
  }
  // Sets the current and the delayed price of every feed: reports, and two
  // pokes an hour apart (re-reporting before the second, so the current
  // price is fresh too). `prices` in feed order 1..3.
  void set_prices(const std::vector<U256>& prices) {
    for (size_t i = 0; i < prices.size(); ++i) report(i + 1, prices[i]);
    advance_to_boundary();
    for (size_t i = 0; i < prices.size(); ++i) poke(i + 1);
    advance_to_boundary();
    for (size_t i = 0; i < prices.size(); ++i) report(i + 1, prices[i]);
    for (size_t i = 0; i < prices.size(); ++i) poke(i + 1);
  }
  // One hour on: the same prices reported again and poked (nothing moves).
  void keep_prices(const std::vector<U256>& prices) {
    advance_to_boundary();
    for (size_t i = 0; i < prices.size(); ++i) report(i + 1, prices[i]);
    for (size_t i = 0; i < prices.size(); ++i) poke(i + 1);
  }
};

// The fields of the lending pool's Market struct, as its ABI flattens it.
inline const std::vector<ValType> kMarketFields = {
    ValType::U64,  ValType::U256, ValType::U64,  ValType::U64,  ValType::U256, ValType::U256,
    ValType::U256, ValType::U256, ValType::U256, ValType::U256, ValType::U256, ValType::U256,
    ValType::U256, ValType::U256, ValType::U256, ValType::U256, ValType::U256, ValType::U64};
enum MarketField { kCash = 12, kBorrows = 13, kReserves = 14, kShares = 15, kIndex = 16 };

}  // namespace writ::contracts::testing
