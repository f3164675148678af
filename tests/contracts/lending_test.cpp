// The lending pool (0x10B, docs/contracts/lending.md) on a chain of the
// default genesis: random sequences of supply, redeem, withdraw, borrow,
// repay, liquidate and donations across users, markets and moving prices
// keep the pool's books and the tokens in step; the attacks of the page;
// and the page's gas table.
#include <gtest/gtest.h>

#include <random>

#include "credit_chain.hpp"

namespace writ::contracts {
namespace {

using namespace testing;

struct Lending : CreditChain {
  static constexpr uint64_t kMarkets = 3;  // 1 WETH, 2 USDW, 3 EURW
  std::vector<U256> prices = {wad_of(2'000), milli_wad(1'080), wad_of(1)};  // ETH, EUR, USDC

  explicit Lending(int n) : CreditChain(n) {
    for (const auto& u : users)
      for (const Address& t : {weth, usdw, eurw})
        EXPECT_EQ(approve(u, t, pool).status, vm::Status::Ok);
    set_prices(prices);
  }
  Address token(uint64_t m) const { return m == 1 ? weth : m == 2 ? usdw : eurw; }
  // (cash, borrows, reserves, shares, index) accrued to now.
  std::vector<U256> ledger(uint64_t m) const {
    auto v = view(pool, "ledger", {ValType::U64}, {Value::u64(m)},
                  {ValType::U256, ValType::U256, ValType::U256, ValType::U256, ValType::U256});
    return {v[0].word, v[1].word, v[2].word, v[3].word, v[4].word};
  }
  std::vector<Value> market(uint64_t m) const {
    return view(pool, "market", {ValType::U64}, {Value::u64(m)}, kMarketFields);
  }
  U256 shares_of(uint64_t m, const Address& a) const {
    return view_word(pool, "shares_of", {ValType::U64, ValType::U256}, {Value::u64(m), word(a)});
  }
  U256 debt_of(uint64_t m, const Address& a) const {
    return view_word(pool, "debt_of", {ValType::U64, ValType::U256}, {Value::u64(m), word(a)});
  }
  U256 supplied_of(uint64_t m, const Address& a) const {
    return view_word(pool, "supplied_of", {ValType::U64, ValType::U256}, {Value::u64(m), word(a)});
  }
  U256 health(const Address& a) const {
    return view_word(pool, "health_factor", {ValType::U256}, {word(a)});
  }
  runtime::Receipt op(size_t u, const std::string& fn, uint64_t m, const U256& amount) {
    return call(users[u], pool, fn, {ValType::U64, ValType::U256}, {Value::u64(m), word(amount)});
  }
  runtime::Receipt liquidate(size_t u, const Address& borrower, uint64_t debt_m, const U256& repay,
                             uint64_t coll_m) {
    return call(users[u], pool, "liquidate",
                {ValType::U256, ValType::U64, ValType::U256, ValType::U64},
                {word(borrower), Value::u64(debt_m), word(repay), Value::u64(coll_m)});
  }
};

U256 frac(const U256& x, uint64_t num, uint64_t den) {
  return vm::div(vm::mul(x, U256::from_u64(num)), U256::from_u64(den));
}

// The checks after every step. `donated[m]`: tokens sent to the pool
// without a supply, which the pool does not count.
void check_books(const Lending& f, const std::vector<U256>& donated, const std::string& where) {
  for (uint64_t m = 1; m <= Lending::kMarkets; ++m) {
    const auto l = f.ledger(m);
    const U256 &cash = l[0], &borrows = l[1], &reserves = l[2], &shares = l[3];
    // Conservation to the unit: the pool holds its cash plus the donations,
    // and the users and the pool hold all there ever was.
    const U256 held = f.balance_of(f.token(m), f.pool);
    EXPECT_EQ(held, vm::add(cash, donated[m])) << where << " market " << m;
    U256 all = held, sum_shares = U256::zero(), claims = U256::zero(), debts = U256::zero();
    for (size_t u = 0; u < f.users.size(); ++u) {
      all = vm::add(all, f.balance_of(f.token(m), f.user(u)));
      sum_shares = vm::add(sum_shares, f.shares_of(m, f.user(u)));
      claims = vm::add(claims, f.supplied_of(m, f.user(u)));
      debts = vm::add(debts, f.debt_of(m, f.user(u)));
    }
    const U256 each = m == 1 ? f.weth_each : m == 2 ? f.usdw_each : f.eurw_each;
    EXPECT_EQ(all, vm::mul(each, U256::from_u64(f.users.size()))) << where << " market " << m;
    EXPECT_EQ(sum_shares, shares) << where << " market " << m;
    // Reserves within the books; the suppliers' claims (rounded down) plus
    // the reserves never more than the cash plus what the loans owe
    // (rounded up); the loans never owe less than the borrows say.
    EXPECT_TRUE(vm::le(reserves, vm::add(cash, borrows))) << where << " market " << m;
    EXPECT_TRUE(vm::le(vm::add(claims, reserves), vm::add(cash, debts)))
        << where << " market " << m;
    EXPECT_TRUE(vm::le(borrows, debts)) << where << " market " << m;
  }
}

TEST(Lending, RandomSequencesKeepTheBooksAndTheTokensInStep) {
  const int kUsers = 8;
  Lending f(kUsers);
  std::mt19937_64 rng(20261204);
  auto pick = [&](uint64_t n) { return rng() % n; };
  std::vector<U256> donated(Lending::kMarkets + 1, U256::zero());
  // Everyone supplies some of everything to start: 100 WETH, 10,000 USDW and EURW.
  for (size_t u = 0; u < f.users.size(); ++u)
    for (uint64_t m = 1; m <= Lending::kMarkets; ++m)
      ASSERT_EQ(
          f.op(u, "supply", m,
               m == 1 ? frac(f.weth_each, 1, 10) : frac(m == 2 ? f.usdw_each : f.eurw_each, 1, 100))
              .status,
          vm::Status::Ok);
  std::map<std::string, int> ok, failed;
  int liquidations = 0;
  for (int hour = 0; hour < 80; ++hour) {
    // ETH moves up to 4.9% an hour (within the feed's deviation guard of
    // 5%): up for 30 hours, then down.
    const uint64_t move = pick(50);
    f.prices[0] = frac(f.prices[0], hour < 30 ? 1'000 + move - 10 : 951 + move, 1'000);
    // Crashes of a fifth every ten hours of the fall (accepted by the
    // feed, flagged by its guard), and a rebound after each.
    if (hour >= 40 && hour % 10 == 0) f.prices[0] = frac(f.prices[0], 4, 5);
    if (hour > 40 && hour % 10 == 5) f.prices[0] = frac(f.prices[0], 6, 5);
    f.keep_prices(f.prices);
    // A keeper liquidates everyone below 1 once, up to half the debt.
    for (size_t b = 0; b < f.users.size(); ++b) {
      if (!vm::lt(f.health(f.user(b)), kWad)) continue;
      const size_t keeper = (b + 1 + pick(kUsers - 1)) % kUsers;
      for (uint64_t dm = 1; dm <= Lending::kMarkets; ++dm) {
        const U256 debt = f.debt_of(dm, f.user(b));
        if (debt.is_zero()) continue;
        for (uint64_t cm = 1; cm <= Lending::kMarkets; ++cm) {
          if (f.shares_of(cm, f.user(b)).is_zero()) continue;
          if (f.liquidate(keeper, f.user(b), dm, frac(debt, 1 + pick(50), 100), cm).status ==
              vm::Status::Ok) {
            ++liquidations;
            break;
          }
        }
      }
      check_books(f, donated, "keeper, hour " + std::to_string(hour));
    }
    for (int step = 0; step < 12; ++step) {
      const size_t u = pick(kUsers);
      const Address me = f.user(u);
      const int kind = static_cast<int>(pick(10));
      const uint64_t m = kind == 4 ? 2 + pick(2) : 1 + pick(Lending::kMarkets);
      const auto before = f.market(m);
      std::string name;
      runtime::Receipt r;
      const U256 bal = f.balance_of(f.token(m), me);
      const U256 cash = f.ledger(m)[0];
      switch (kind) {
        case 0:
          name = "supply";
          r = f.op(u, "supply", m, vm::add(frac(bal, pick(20), 100), U256::from_u64(1)));
          break;
        case 1:
          name = "redeem";
          r = f.op(u, "redeem", m,
                   vm::add(frac(f.shares_of(m, me), pick(101), 100), U256::from_u64(pick(2))));
          break;
        case 2:
          name = "withdraw";
          r = f.op(u, "withdraw", m,
                   vm::add(frac(f.supplied_of(m, me), pick(101), 100), U256::from_u64(1)));
          break;
        case 3:
          name = "borrow";
          r = f.op(u, "borrow", m, vm::add(frac(cash, pick(30), 100), U256::from_u64(1)));
          break;
        case 4: {
          // Up to the limit, or a little past it: the headroom in dollars
          // at the borrowing prices, in the market's token.
          name = "borrow";
          // A stable market, against mostly WETH collateral.
          auto acct =
              f.view(f.pool, "account", {ValType::U256, ValType::U64}, {word(me), Value::u64(0)},
                     {ValType::U256, ValType::U256, ValType::U256});
          if (vm::le(acct[0].word, acct[2].word)) continue;
          const U256 room = vm::sub(acct[0].word, acct[2].word);  // dollars, wad
          const U256 price = m == 2 ? f.prices[2] : f.prices[1];
          const U256 scale = m == 2 ? U256::from_u64(1'000'000) : U256::from_u64(100);
          r = f.op(u, "borrow", m, frac(vm::div(vm::mul(room, scale), price), 95 + pick(8), 100));
          break;
        }
        case 5:
        case 6:
          name = "repay";
          r = f.call(
              f.users[u], f.pool, "repay", {ValType::U64, ValType::U256, ValType::U256},
              {Value::u64(m), word(me),
               word(vm::add(frac(f.debt_of(m, me), pick(101), 100), U256::from_u64(pick(2))))});
          break;
        case 7:
          name = "repay_all";
          r = f.call(f.users[u], f.pool, "repay_all", {ValType::U64}, {Value::u64(m)});
          break;
        case 8: {
          // A liquidation of whoever is below 1, up to half its debt.
          name = "liquidate";
          for (size_t b = 0; b < f.users.size(); ++b) {
            if (b == u || !vm::lt(f.health(f.user(b)), kWad)) continue;
            for (uint64_t dm = 1; dm <= Lending::kMarkets; ++dm) {
              const U256 debt = f.debt_of(dm, f.user(b));
              if (debt.is_zero()) continue;
              for (uint64_t cm = 1; cm <= Lending::kMarkets && name == "liquidate"; ++cm) {
                if (f.shares_of(cm, f.user(b)).is_zero()) continue;
                r = f.liquidate(u, f.user(b), dm,
                                vm::add(frac(debt, 1 + pick(50), 100), U256::from_u64(1)), cm);
                name = "liquidate ";
                if (r.status == vm::Status::Ok) ++liquidations;
              }
            }
          }
          if (name == "liquidate") continue;
          break;
        }
        default: {
          name = "donate";
          const U256 gift = frac(bal, 1, 1'000);
          r = f.call(f.users[u], f.token(m), "transfer", {ValType::U256, ValType::U256},
                     {word(f.pool), word(gift)});
          if (r.status == vm::Status::Ok) donated[m] = vm::add(donated[m], gift);
          break;
        }
      }
      (r.status == vm::Status::Ok ? ok : failed)[name]++;
      const std::string where =
          "hour " + std::to_string(hour) + " step " + std::to_string(step) + " " + name;
      // A refused operation changes nothing in the market.
      if (r.status != vm::Status::Ok && name != "donate") {
        const auto after = f.market(m);
        for (size_t i = 0; i < after.size(); ++i)
          EXPECT_EQ(after[i].word, before[i].word) << where << " field " << i;
      }
      check_books(f, donated, where);
      if (::testing::Test::HasFailure()) return;
    }
  }
  for (const auto& [n, c] : ok) std::printf("%s: %d ok, %d refused\n", n.c_str(), c, failed[n]);
  std::printf("liquidations: %d\n", liquidations);
  // The sequence exercised every operation, both ways.
  for (const char* n : {"supply", "redeem", "withdraw", "borrow", "repay", "repay_all"}) {
    EXPECT_GT(ok[n], 0) << n;
  }
  EXPECT_GT(failed["borrow"], 0);
  EXPECT_GT(liquidations, 0);
  // Interest accrued: every market with borrows has a higher index.
  bool grew = false;
  for (uint64_t m = 1; m <= Lending::kMarkets; ++m) grew |= vm::gt(f.ledger(m)[4], kWad);
  EXPECT_TRUE(grew);
}

// ---- attacks ------------------------------------------------------------------

// Five borrowers at different leverage against WETH; ETH falls in steps of
// 8% (each step reaching the delayed price an hour later): each step
// liquidates those it pushed below 1, the most leveraged first, until no
// account is below 1; the books balance after every liquidation and no
// debt is left without collateral.
TEST(Lending, APriceCrashLiquidatesInCascade) {
  Lending f(7);
  const size_t lender = 5, keeper = 6;
  ASSERT_EQ(f.op(lender, "supply", 2, U256::from_u64(500'000'000'000ull)).status, vm::Status::Ok);
  const uint64_t leverage[] = {99, 93, 87, 81, 75};  // % of the borrowing limit
  for (size_t b = 0; b < 5; ++b) {
    ASSERT_EQ(f.op(b, "supply", 1, wad_of(10)).status, vm::Status::Ok);
    // 10 WETH at $2,000, collateral factor 75%: a limit of 15,000 USDW.
    ASSERT_EQ(f.op(b, "borrow", 2, U256::from_u64(15'000'000'000ull * leverage[b] / 100)).status,
              vm::Status::Ok);
  }
  std::vector<U256> donated(4, U256::zero());
  std::vector<int> liquidated_at(5, -1);
  for (int step = 1; step <= 5; ++step) {
    f.prices[0] = frac(f.prices[0], 92, 100);
    f.set_prices(f.prices);
    for (size_t b = 0; b < 5; ++b) {
      const U256 hf = f.health(f.user(b));
      if (!vm::lt(hf, kWad)) continue;
      // Half of the debt above 0.95, all of it at or below.
      const U256 debt = f.debt_of(2, f.user(b));
      const U256 repay = vm::gt(hf, milli_wad(950)) ? frac(debt, 1, 2) : debt;
      auto r = f.liquidate(keeper, f.user(b), 2, repay, 1);
      if (r.status != vm::Status::Ok) {
        // The collateral does not cover the incentive on the whole debt: what it covers.
        r = f.liquidate(keeper, f.user(b), 2, frac(repay, 9, 10), 1);
      }
      EXPECT_EQ(r.status, vm::Status::Ok) << "step " << step << " borrower " << b;
      if (liquidated_at[b] < 0) liquidated_at[b] = step;
      check_books(f, donated, "crash step " + std::to_string(step));
    }
    for (size_t b = 0; b < 5; ++b) {
      if (!f.debt_of(2, f.user(b)).is_zero()) {
        EXPECT_FALSE(f.shares_of(1, f.user(b)).is_zero()) << "debt left without collateral";
      }
    }
  }
  // The cascade: every borrower was reached, in order of leverage.
  for (size_t b = 0; b < 5; ++b) {
    EXPECT_GT(liquidated_at[b], 0) << b;
    if (b > 0) {
      EXPECT_GE(liquidated_at[b], liquidated_at[b - 1]) << b;
    }
  }
  EXPECT_LT(liquidated_at[0], liquidated_at[4]);
  // The keeper earned the incentive: its WETH is worth more than the USDW it paid.
  EXPECT_TRUE(vm::gt(f.shares_of(1, f.user(keeper)), U256::zero()));
}

// An empty market's first supplier cannot inflate the price of a share by
// sending tokens to the pool: the pool counts only supplies, so a later
// supplier gets its full share and the donation is simply lost.
TEST(Lending, ADonationCannotInflateTheShares) {
  Lending f(2);
  const size_t attacker = 0, victim = 1;
  const uint64_t eur = 3;  // EURW, 2 decimals, no supply yet
  ASSERT_TRUE(f.ledger(eur)[3].is_zero());
  ASSERT_EQ(f.op(attacker, "supply", eur, U256::from_u64(1)).status, vm::Status::Ok);
  ASSERT_EQ(f.call(f.users[attacker], f.eurw, "transfer", {ValType::U256, ValType::U256},
                   {word(f.pool), word(U256::from_u64(1'000'000))})
                .status,
            vm::Status::Ok);  // 10,000.00 EUR donated
  // The exchange rate did not move: 5,000.00 EUR buy 500,000 shares.
  auto r = f.op(victim, "supply", eur, U256::from_u64(500'000));
  ASSERT_EQ(r.status, vm::Status::Ok);
  EXPECT_EQ(vm::abi_decode(std::vector<ValType>{ValType::U256}, r.output)->at(0).word,
            U256::from_u64(500'000));
  // The attacker's share redeems for its one cent; the victim gets all back.
  r = f.op(attacker, "redeem", eur, U256::from_u64(1));
  ASSERT_EQ(r.status, vm::Status::Ok);
  EXPECT_EQ(vm::abi_decode(std::vector<ValType>{ValType::U256}, r.output)->at(0).word,
            U256::from_u64(1));
  r = f.op(victim, "redeem", eur, U256::from_u64(500'000));
  ASSERT_EQ(r.status, vm::Status::Ok);
  EXPECT_EQ(vm::abi_decode(std::vector<ValType>{ValType::U256}, r.output)->at(0).word,
            U256::from_u64(500'000));
  EXPECT_EQ(f.balance_of(f.eurw, f.pool), U256::from_u64(1'000'000));
  EXPECT_TRUE(f.ledger(eur)[0].is_zero());
}

// A spot price pushed through the hub (two reporters reporting ETH at ten
// times its price, then at a tenth) neither lends more nor liquidates: a
// borrow values collateral at the lower of the current and delayed prices,
// and a liquidation reads only the delayed price, which a correction
// before the next poke keeps from ever seeing the manipulated value.
TEST(Lending, AManipulatedSpotPriceNeitherLendsNorLiquidates) {
  Lending f(2);
  ASSERT_EQ(f.op(1, "supply", 2, U256::from_u64(1'000'000'000'000ull)).status, vm::Status::Ok);
  ASSERT_EQ(f.op(0, "supply", 1, wad_of(10)).status, vm::Status::Ok);
  // At $2,000 the limit is 15,000 USDW; at a reported $20,000 it would be 150,000.
  f.report(kFeedEthUsd, wad_of(20'000));
  auto r = f.op(0, "borrow", 2, U256::from_u64(15'000'000'001ull));
  EXPECT_EQ(r.status, vm::Status::Revert);
  EXPECT_EQ(revert_name(r, "Undercollateralized", {ValType::U256, ValType::U256, ValType::U64}),
            "Undercollateralized");
  ASSERT_EQ(f.op(0, "borrow", 2, U256::from_u64(14'000'000'000ull)).status, vm::Status::Ok);
  // Now ETH reported at $200: the account would be far below 1 at the spot
  // price, but the delayed price is still $2,000.
  f.report(kFeedEthUsd, wad_of(200));
  EXPECT_FALSE(vm::lt(f.health(f.user(0)), kWad));
  r = f.liquidate(1, f.user(0), 2, U256::from_u64(1'000'000'000ull), 1);
  EXPECT_EQ(revert_name(r, "Healthy", {ValType::U256, ValType::U256}), "Healthy");
  // The reporters correct it before the next poke: the delayed price never
  // takes the manipulated value.
  f.report(kFeedEthUsd, wad_of(2'000));
  f.keep_prices(f.prices);
  f.keep_prices(f.prices);
  EXPECT_EQ(f.view_word(f.hub, "delayed_price", {ValType::U64, ValType::U64},
                        {Value::u64(kFeedEthUsd), Value::u64(3'600)}),
            wad_of(2'000));
  EXPECT_FALSE(vm::lt(f.health(f.user(0)), kWad));
  r = f.liquidate(1, f.user(0), 2, U256::from_u64(1'000'000'000ull), 1);
  EXPECT_EQ(revert_name(r, "Healthy", {ValType::U256, ValType::U256}), "Healthy");
}

// The borrower's risk score (the chain's risk engine scoring it as payer to
// the pool) lowers its limit when at or above the pool's threshold (700 in
// the default genesis, the limit halved).
TEST(Lending, AHighRiskScoreLowersTheBorrowingLimit) {
  Lending f(2);
  ASSERT_EQ(f.op(1, "supply", 2, U256::from_u64(1'000'000'000'000ull)).status, vm::Status::Ok);
  ASSERT_EQ(f.op(0, "supply", 1, wad_of(10)).status, vm::Status::Ok);
  // A model where paying a new counterparty scores 730 (the pool is one).
  std::vector<uint8_t> w(kRiskFeatures * 32, 0);
  vm::to_be_bytes(wad_of(11), w.data() + 3 * 32);
  ASSERT_EQ(f.gov_call(Address::from_u256(U256::from_u64(kRiskEngineAddress)), "install_model",
                       {ValType::U64, ValType::U256, ValType::Buf},
                       {Value::u64(2), word(vm::sub(U256::zero(), wad_of(10))), Value::buf(w)})
                .status,
            vm::Status::Ok);
  // 60% of the limit is refused, with the halved limit and the score.
  auto r = f.op(0, "borrow", 2, U256::from_u64(9'000'000'000ull));
  ASSERT_EQ(r.status, vm::Status::Revert);
  auto err = vm::abi_decode(std::vector<ValType>{ValType::U256, ValType::U256, ValType::U64},
                            std::span<const uint8_t>(r.output).subspan(4));
  ASSERT_TRUE(err.ok());
  EXPECT_EQ(err->at(0).word, wad_of(7'500));  // half of 15,000
  EXPECT_EQ(err->at(2).word.low64(), 730u);
  EXPECT_EQ(f.op(0, "borrow", 2, U256::from_u64(7'000'000'000ull)).status, vm::Status::Ok);
  // A threshold above the score lends up to the full limit again.
  ASSERT_EQ(f.gov_call(f.pool, "set_risk", {ValType::U64, ValType::U256},
                       {Value::u64(1000), word(milli_wad(500))})
                .status,
            vm::Status::Ok);
  EXPECT_EQ(f.op(0, "borrow", 2, U256::from_u64(7'900'000'000ull)).status, vm::Status::Ok);
}

// The gas table of docs/contracts/lending.md: each operation's transaction.
TEST(Lending, GasOfTheOperations) {
  Lending f(3);
  PageGas gas("lending.md");
  ASSERT_EQ(f.op(2, "supply", 2, U256::from_u64(500'000'000'000ull)).status, vm::Status::Ok);
  gas.record("supply", f.op(0, "supply", 1, wad_of(10)));
  gas.record("borrow", f.op(0, "borrow", 2, U256::from_u64(14'000'000'000ull)));
  f.keep_prices(f.prices);
  gas.record("repay",
             f.call(f.users[0], f.pool, "repay", {ValType::U64, ValType::U256, ValType::U256},
                    {Value::u64(2), word(f.user(0)), word(U256::from_u64(1'000'000'000ull))}));
  gas.record("withdraw", f.op(0, "withdraw", 1, wad_of(1)));
  f.prices[0] = wad_of(1'600);
  f.set_prices(f.prices);
  gas.record("liquidate", f.liquidate(1, f.user(0), 2, U256::from_u64(6'000'000'000ull), 1));
  gas.record("repay_all", f.call(f.users[0], f.pool, "repay_all", {ValType::U64}, {Value::u64(2)}));
  gas.record("redeem", f.op(1, "redeem", 1, f.shares_of(1, f.user(1))));
  for (const char* op :
       {"supply", "borrow", "repay", "withdraw", "liquidate", "repay_all", "redeem"})
    std::printf("%s: %llu gas\n", op, static_cast<unsigned long long>(gas.measured(op)));
  gas.check();
}

}  // namespace
}  // namespace writ::contracts
