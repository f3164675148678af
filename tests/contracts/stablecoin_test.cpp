// DUSD (Stablecoin, 0x10C, docs/contracts/stablecoin.md) on a chain of the
// default genesis: random sequences of vault operations, liquidations,
// auction bids, resets and PSM swaps across users and moving prices keep
// the accounting identity exact and the tokens in step; a crash liquidated
// in cascade; the spot price never reaching a vault; and the page's gas
// table.
#include <gtest/gtest.h>

#include <random>

#include "credit_chain.hpp"

namespace writ::contracts {
namespace {

using namespace testing;

// The Collateral struct as its ABI flattens it.
const std::vector<ValType> kCollateralFields = {
    ValType::U64,  ValType::U256, ValType::U64,  ValType::U64,  ValType::U256, ValType::U256,
    ValType::U64,  ValType::U256, ValType::U256, ValType::U256, ValType::U256, ValType::U256,
    ValType::U256, ValType::U256, ValType::U256, ValType::U64,  ValType::U256, ValType::U256,
    ValType::U256, ValType::U64,  ValType::U64,  ValType::U256, ValType::U64};
enum { kRate = 4, kArt = 7, kDust = 9, kChop = 11, kDirt = 13 };
const std::vector<ValType> kSaleFields = {ValType::U64,  ValType::U64, ValType::U256, ValType::U256,
                                          ValType::U256, ValType::U64, ValType::U256};
enum { kActive = 0, kOwner = 2, kTab = 3, kLot = 4 };

struct Dusd : CreditChain {
  std::vector<U256> prices = {wad_of(2'000), milli_wad(1'080), wad_of(1)};  // ETH, EUR, USDC

  explicit Dusd(int n) : CreditChain(n) {
    for (const auto& u : users)
      for (const Address& t : {weth, usdw}) EXPECT_EQ(approve(u, t, stable).status, vm::Status::Ok);
    set_prices(prices);
  }
  std::vector<Value> collateral() const {
    return view(stable, "collateral", {ValType::U64}, {Value::u64(1)}, kCollateralFields);
  }
  // (ink, art) of a user's vault.
  std::pair<U256, U256> vault(const Address& a) const {
    auto v = view(stable, "vault", {ValType::U64, ValType::U256}, {Value::u64(1), word(a)},
                  {ValType::U256, ValType::U256});
    return {v[0].word, v[1].word};
  }
  std::vector<Value> sale(uint64_t id) const {
    return view(stable, "sale_of", {ValType::U64}, {Value::u64(id)}, kSaleFields);
  }
  uint64_t sales() const {
    return view(stable, "sales_count", {}, {}, {ValType::U64})[0].word.low64();
  }
  // supply, surplus, bad debt, total debt, dirt, psm art.
  std::vector<U256> books() const {
    auto v = view(stable, "books", {}, {}, std::vector<ValType>(6, ValType::U256));
    std::vector<U256> out;
    for (auto& x : v) out.push_back(x.word);
    return out;
  }
  U256 debt_of(const Address& a) const {
    return view_word(stable, "debt_of", {ValType::U64, ValType::U256}, {Value::u64(1), word(a)});
  }
  U256 max_debt_of(const Address& a) const {
    return view_word(stable, "max_debt_of", {ValType::U64, ValType::U256},
                     {Value::u64(1), word(a)});
  }
  runtime::Receipt amount_op(size_t u, const std::string& fn, const U256& amount) {
    return call(users[u], stable, fn, {ValType::U64, ValType::U256}, {Value::u64(1), word(amount)});
  }
  runtime::Receipt open(size_t u, const U256& ink, const U256& dusd) {
    return call(users[u], stable, "open", {ValType::U64, ValType::U256, ValType::U256},
                {Value::u64(1), word(ink), word(dusd)});
  }
  runtime::Receipt bark(size_t keeper, const Address& owner) {
    return call(users[keeper], stable, "bark", {ValType::U64, ValType::U256},
                {Value::u64(1), word(owner)});
  }
  runtime::Receipt take(size_t u, uint64_t sale, const U256& amt, const U256& max_price) {
    return call(users[u], stable, "take",
                {ValType::U64, ValType::U256, ValType::U256, ValType::U256},
                {Value::u64(sale), word(amt), word(max_price), word(user(u))});
  }
  // (done, price) of an active sale.
  std::pair<bool, U256> status(uint64_t sale) const {
    auto v = view(stable, "sale_status", {ValType::U64}, {Value::u64(sale)},
                  {ValType::U64, ValType::U256, ValType::U256, ValType::U256});
    return {v[0].word.low64() != 0, v[1].word};
  }
  bool unsafe(const Address& a) const { return vm::gt(debt_of(a), max_debt_of(a)); }
};

U256 frac(const U256& x, uint64_t num, uint64_t den) {
  return vm::div(vm::mul(x, U256::from_u64(num)), U256::from_u64(den));
}

void check_books(const Dusd& f, const std::string& where) {
  const auto b = f.books();
  const U256 &supply = b[0], &surplus = b[1], &bad = b[2], &debt = b[3], &dirt = b[4], &psm = b[5];
  // The accounting identity, in rad, exactly.
  EXPECT_EQ(vm::add(vm::mul(supply, kRay), surplus), vm::add(debt, bad)) << where;
  const auto c = f.collateral();
  EXPECT_EQ(debt, vm::add(vm::mul(c[kArt].word, c[kRate].word), vm::mul(psm, kRay))) << where;
  // DUSD: the users hold all of it.
  U256 held = U256::zero(), art = U256::zero(), ink = U256::zero(), weth = U256::zero(),
       usdw = U256::zero();
  const U256 dust = c[kDust].word, rate = c[kRate].word;
  for (size_t u = 0; u < f.users.size(); ++u) {
    held = vm::add(held, f.balance_of(f.stable, f.user(u)));
    auto [vi, va] = f.vault(f.user(u));
    ink = vm::add(ink, vi);
    art = vm::add(art, va);
    // A vault owes nothing or at least the dust.
    if (!va.is_zero()) {
      EXPECT_TRUE(vm::ge(vm::mul(va, rate), dust)) << where << " user " << u;
    }
    weth = vm::add(weth, f.balance_of(f.weth, f.user(u)));
    usdw = vm::add(usdw, f.balance_of(f.usdw, f.user(u)));
  }
  EXPECT_EQ(held, supply) << where;
  EXPECT_EQ(art, c[kArt].word) << where;
  // The collateral: in vaults or for sale; the sales' tabs are the debt in
  // auctions; no sale runs empty or below chost.
  const U256 chost = vm::div(vm::mul(dust, c[kChop].word), kWad);
  U256 lots = U256::zero(), tabs = U256::zero();
  for (uint64_t s = 1; s <= f.sales(); ++s) {
    const auto sale = f.sale(s);
    if (sale[kActive].word.is_zero()) continue;
    lots = vm::add(lots, sale[kLot].word);
    tabs = vm::add(tabs, sale[kTab].word);
    EXPECT_FALSE(sale[kLot].word.is_zero()) << where << " sale " << s;
    EXPECT_TRUE(vm::ge(sale[kTab].word, chost)) << where << " sale " << s;
  }
  EXPECT_EQ(f.balance_of(f.weth, f.stable), vm::add(ink, lots)) << where;
  EXPECT_EQ(tabs, dirt) << where;
  EXPECT_EQ(c[kDirt].word, dirt) << where;
  EXPECT_EQ(vm::mul(f.balance_of(f.usdw, f.stable), U256::from_u64(1'000'000'000'000ull)), psm)
      << where;
  // Conservation of the tokens to the unit.
  EXPECT_EQ(vm::add(weth, f.balance_of(f.weth, f.stable)),
            vm::mul(f.weth_each, U256::from_u64(f.users.size())))
      << where;
  EXPECT_EQ(vm::add(usdw, f.balance_of(f.usdw, f.stable)),
            vm::mul(f.usdw_each, U256::from_u64(f.users.size())))
      << where;
}

TEST(Stablecoin, RandomSequencesKeepTheIdentityAndTheTokensInStep) {
  const int kUsers = 8;
  Dusd f(kUsers);
  std::mt19937_64 rng(4122026);
  auto pick = [&](uint64_t n) { return rng() % n; };
  std::map<std::string, int> ok, failed;
  for (int hour = 0; hour < 70; ++hour) {
    const uint64_t move = pick(50);
    f.prices[0] = frac(f.prices[0], hour < 25 ? 1'000 + move - 10 : 951 + move, 1'000);
    if (hour >= 35 && hour % 10 == 5) f.prices[0] = frac(f.prices[0], 4, 5);
    if (hour > 35 && hour % 10 == 0) f.prices[0] = frac(f.prices[0], 6, 5);
    f.keep_prices(f.prices);
    for (int step = 0; step < 14; ++step) {
      const size_t u = pick(kUsers);
      const Address me = f.user(u);
      const auto before = f.books();
      const int kind = static_cast<int>(pick(12));
      std::string name;
      runtime::Receipt r;
      switch (kind) {
        case 0:
        case 1: {
          // Open or grow a vault: collateral and a draw near its limit.
          name = "open";
          const U256 ink = wad_of(1 + pick(20));
          const auto [vi, va] = f.vault(me);
          const U256 limit = vm::div(vm::mul(vm::add(vi, ink), frac(f.prices[0], 2, 3)), kWad);
          const U256 owed = f.debt_of(me);
          if (vm::le(limit, owed)) continue;
          r = f.open(u, ink, frac(vm::sub(limit, owed), 80 + pick(25), 100));
          break;
        }
        case 2:
          name = "draw";
          r = f.amount_op(u, "draw", vm::add(wad_of(pick(2'000)), U256::from_u64(pick(1'000))));
          break;
        case 3:
          name = "free";
          r = f.amount_op(u, "free", frac(f.vault(me).first, pick(40), 100));
          break;
        case 4: {
          name = "wipe";
          const U256 owed = f.debt_of(me), bal = f.balance_of(f.stable, me);
          r = f.amount_op(
              u, "wipe",
              vm::add(frac(vm::lt(owed, bal) ? owed : bal, pick(101), 100), U256::from_u64(1)));
          break;
        }
        case 5:
          name = "wipe_all";
          r = f.call(f.users[u], f.stable, "wipe_all", {ValType::U64}, {Value::u64(1)});
          break;
        case 6: {
          // A keeper barks every unsafe vault.
          name = "bark";
          bool any = false;
          for (size_t b = 0; b < f.users.size(); ++b) {
            if (!f.unsafe(f.user(b))) continue;
            r = f.bark(u, f.user(b));
            (r.status == vm::Status::Ok ? ok : failed)[name]++;
            any = true;
          }
          if (!any) continue;
          check_books(f, "hour " + std::to_string(hour) + " bark");
          continue;
        }
        case 7:
        case 8: {
          // A bid on a random active sale, or a reset when it needs one.
          name = "take";
          std::vector<uint64_t> active;
          for (uint64_t s = 1; s <= f.sales(); ++s)
            if (!f.sale(s)[kActive].word.is_zero()) active.push_back(s);
          if (active.empty()) continue;
          const uint64_t s = active[pick(active.size())];
          auto [done, price] = f.status(s);
          if (done) {
            name = "redo";
            r = f.call(f.users[u], f.stable, "redo", {ValType::U64}, {Value::u64(s)});
          } else {
            const U256 lot = f.sale(s)[kLot].word;
            r = f.take(u, s, vm::add(frac(lot, pick(120), 100), U256::from_u64(1)),
                       pick(5) == 0 ? frac(price, 99, 100) : price);
          }
          break;
        }
        case 9:
          name = "sell_gem";
          r = f.call(f.users[u], f.stable, "sell_gem", {ValType::U256},
                     {word(U256::from_u64((1 + pick(5'000)) * 1'000'000 + pick(1'000'000)))});
          break;
        case 10:
          name = "buy_gem";
          r = f.call(f.users[u], f.stable, "buy_gem", {ValType::U256},
                     {word(U256::from_u64((1 + pick(3'000)) * 1'000'000 + pick(1'000'000)))});
          break;
        default: {
          // DUSD passes between users (buyers need it).
          name = "transfer";
          const U256 bal = f.balance_of(f.stable, me);
          r = f.call(f.users[u], f.stable, "transfer", {ValType::U256, ValType::U256},
                     {word(f.user(pick(kUsers))), word(frac(bal, pick(60), 100))});
          break;
        }
      }
      (r.status == vm::Status::Ok ? ok : failed)[name]++;
      const std::string where =
          "hour " + std::to_string(hour) + " step " + std::to_string(step) + " " + name;
      if (r.status != vm::Status::Ok) {
        const auto after = f.books();
        for (size_t i = 0; i < after.size(); ++i)
          EXPECT_EQ(after[i], before[i]) << where << " book " << i;
      }
      check_books(f, where);
      if (::testing::Test::HasFailure()) return;
    }
  }
  for (const auto& [n, c] : ok) std::printf("%s: %d ok, %d refused\n", n.c_str(), c, failed[n]);
  for (const char* n :
       {"open", "draw", "free", "wipe", "wipe_all", "bark", "take", "sell_gem", "buy_gem"})
    EXPECT_GT(ok[n], 0) << n;
  EXPECT_GT(failed["draw"], 0);
  // The stability fee accrued into the surplus (or covered bad debt).
  const auto c = f.collateral();
  EXPECT_TRUE(vm::gt(c[kRate].word, kRay));
}

// Five vaults of 10 WETH at 155% to 210% of their debt; ETH falls 8% a
// step. Each step a keeper liquidates the vaults it made unsafe, the most
// indebted first; a buyer waits half an hour for the price to fall below
// the market and buys each lot. Every auction raises its tab (debt plus the
// 13% penalty), what is left of each lot goes back to its vault, the
// keepers' rewards are covered, and the identity holds throughout.
TEST(Stablecoin, ACrashIsLiquidatedInCascadeAndTheAuctionsCoverTheDebt) {
  Dusd f(7);
  const size_t keeper = 5, buyer = 6;
  // The buyer's DUSD from the peg stability module: 1,000,000 USDW.
  ASSERT_EQ(f.call(f.users[buyer], f.stable, "sell_gem", {ValType::U256},
                   {word(U256::from_u64(1'000'000'000'000ull))})
                .status,
            vm::Status::Ok);
  const uint64_t ratio[] = {155, 165, 175, 190, 210};  // % of the debt
  for (size_t v = 0; v < 5; ++v)
    ASSERT_EQ(f.open(v, wad_of(10), vm::div(wad_of(20'000 * 100), U256::from_u64(ratio[v]))).status,
              vm::Status::Ok);
  std::vector<int> barked_at(5, -1);
  for (int step = 1; step <= 6; ++step) {
    f.prices[0] = frac(f.prices[0], 92, 100);
    f.set_prices(f.prices);
    std::vector<uint64_t> started;
    for (size_t v = 0; v < 5; ++v) {
      if (!f.unsafe(f.user(v))) continue;
      auto r = f.bark(keeper, f.user(v));
      ASSERT_EQ(r.status, vm::Status::Ok) << "step " << step << " vault " << v;
      barked_at[v] = step;
      started.push_back(f.sales());
      check_books(f, "bark, step " + std::to_string(step));
    }
    // Half an hour: 20 steps of 1% off 120% of the price, about 98% of it.
    f.time += 1'800;
    ASSERT_TRUE(f.chain->produce_block({}, f.time).ok());
    for (uint64_t s : started) {
      auto [done, price] = f.status(s);
      ASSERT_FALSE(done);
      EXPECT_TRUE(vm::lt(vm::div(price, U256::from_u64(1'000'000'000)), f.prices[0]))
          << "below the market";
      auto r = f.take(buyer, s, wad_of(10), price);
      ASSERT_EQ(r.status, vm::Status::Ok) << "take " << s;
      EXPECT_TRUE(f.sale(s)[kActive].word.is_zero()) << "the lot covered the tab";
      check_books(f, "take, step " + std::to_string(step));
    }
    f.keep_prices(f.prices);
  }
  // The cascade: every vault, the most indebted first.
  for (size_t v = 0; v < 5; ++v) {
    EXPECT_GT(barked_at[v], 0) << v;
    if (v > 0) {
      EXPECT_GE(barked_at[v], barked_at[v - 1]) << v;
    }
    // Liquidated whole (its debt was the dust rule's whole or the hole's
    // room), its remaining collateral back in the vault.
    auto [ink, art] = f.vault(f.user(v));
    EXPECT_TRUE(art.is_zero()) << v;
    EXPECT_FALSE(ink.is_zero()) << v;
  }
  EXPECT_LT(barked_at[0], barked_at[4]);
  // The penalties covered the keepers' rewards: no bad debt, a surplus.
  ASSERT_EQ(f.call(f.users[keeper], f.stable, "heal", {}, {}).status, vm::Status::Ok);
  const auto b = f.books();
  EXPECT_TRUE(b[2].is_zero());
  EXPECT_TRUE(vm::gt(b[1], U256::zero()));
  check_books(f, "end");
}

// A spot price reported through the hub (ETH at 10x, then at 1/10) reaches
// no vault: drawing, freeing and liquidating read only the delayed price,
// and a correction before the next poke keeps the manipulated value out of
// it for good.
TEST(Stablecoin, AManipulatedSpotPriceReachesNoVault) {
  Dusd f(2);
  // 10 WETH at $2,000 and a ratio of 150%: at most 13,333.33 DUSD.
  ASSERT_EQ(f.open(0, wad_of(10), wad_of(13'000)).status, vm::Status::Ok);
  f.report(kFeedEthUsd, wad_of(20'000));
  auto r = f.amount_op(0, "draw", wad_of(1'000));
  EXPECT_EQ(revert_name(r, "Undercollateralized", {ValType::U256, ValType::U256}),
            "Undercollateralized");
  r = f.amount_op(0, "free", wad_of(5));
  EXPECT_EQ(revert_name(r, "Undercollateralized", {ValType::U256, ValType::U256}),
            "Undercollateralized");
  f.report(kFeedEthUsd, wad_of(200));
  r = f.bark(1, f.user(0));
  EXPECT_EQ(revert_name(r, "NotUnsafe", {ValType::U256, ValType::U256, ValType::U256}),
            "NotUnsafe");
  f.report(kFeedEthUsd, wad_of(2'000));
  f.keep_prices(f.prices);
  f.keep_prices(f.prices);
  r = f.bark(1, f.user(0));
  EXPECT_EQ(revert_name(r, "NotUnsafe", {ValType::U256, ValType::U256, ValType::U256}),
            "NotUnsafe");
  EXPECT_EQ(f.sales(), 0u);
}

// The gas table of docs/contracts/stablecoin.md.
TEST(Stablecoin, GasOfTheOperations) {
  Dusd f(3);
  PageGas gas("stablecoin.md");
  gas.record("open (lock and draw)", f.open(0, wad_of(10), wad_of(12'000)));
  gas.record("draw", f.amount_op(0, "draw", wad_of(500)));
  f.keep_prices(f.prices);
  gas.record("wipe", f.amount_op(0, "wipe", wad_of(1'000)));
  gas.record("free", f.amount_op(0, "free", wad_of(1)));
  gas.record("sell_gem", f.call(f.users[2], f.stable, "sell_gem", {ValType::U256},
                                {word(U256::from_u64(100'000'000'000ull))}));
  gas.record("buy_gem", f.call(f.users[2], f.stable, "buy_gem", {ValType::U256},
                               {word(U256::from_u64(10'000'000'000ull))}));
  ASSERT_EQ(f.open(1, wad_of(10), wad_of(13'000)).status, vm::Status::Ok);
  // The fee accrued since the draw: a little more DUSD than drawn.
  ASSERT_EQ(f.call(f.users[2], f.stable, "transfer", {ValType::U256, ValType::U256},
                   {word(f.user(0)), word(wad_of(100))})
                .status,
            vm::Status::Ok);
  gas.record("wipe_all", f.call(f.users[0], f.stable, "wipe_all", {ValType::U64}, {Value::u64(1)}));
  f.prices[0] = wad_of(1'900);
  f.set_prices(f.prices);
  gas.record("bark", f.bark(2, f.user(1)));
  gas.record("take (part)", f.take(2, 1, wad_of(2), max_u256()));
  f.time += 8'401;
  ASSERT_TRUE(f.chain->produce_block({}, f.time).ok());
  // After more than a hop without pokes, the first poke's delayed price was
  // seen before the gap (stale); the next hop's is fresh.
  f.keep_prices(f.prices);
  f.keep_prices(f.prices);
  gas.record("redo", f.call(f.users[2], f.stable, "redo", {ValType::U64}, {Value::u64(1)}));
  gas.record("take (the rest)", f.take(2, 1, wad_of(10), max_u256()));
  for (const char* op : {"open (lock and draw)", "draw", "wipe", "wipe_all", "free", "bark",
                         "take (part)", "redo", "take (the rest)", "sell_gem", "buy_gem"})
    std::printf("%s: %llu gas\n", op, static_cast<unsigned long long>(gas.measured(op)));
  gas.check();
}

}  // namespace
}  // namespace writ::contracts
