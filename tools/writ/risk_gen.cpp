// The stream generator. A small economy lives for `days` days:
//
//   customers  buy from a few habitual merchants at habitual amounts (and
//              now and then from another one, or a large legitimate buy),
//              pay friends (and sometimes someone new), and get paid;
//   merchants  are paid, and settle with a supplier weekly;
//   employers  pay their employees' salaries in one batch, biweekly or
//              monthly (a burst of payments to many accounts: legitimate);
//
// and fraud takes 2% of the payments, in five patterns:
//
//   account takeover  a customer's account suddenly pays 3-8 large amounts
//                     (5-25x its habit) to one to three drop accounts (new,
//                     or a known mule's) within minutes;
//   mule              a mule account collects from 4-12 scammed customers
//                     over 2-14 days (mule_in) and forwards each sum within
//                     hours to one or two new accounts (mule_out);
//   card testing      a new account, or a compromised customer, pays 8-25
//                     small amounts (0.50-5.00) to online merchants, seconds
//                     apart;
//   odd amount        one payment 20-60x the customer's habit, to a usual
//                     merchant or a new account;
//   splitting         a customer's account pays 10-40 amounts near its habit
//                     to one drop account (new, or an established customer
//                     recruited as a mule), 10 s to 40 min apart: a large sum that
//                     no single payment shows.
//
// Every number comes from Rng and integer arithmetic (amounts in cents).
#include "risk_gen.hpp"

#include <algorithm>
#include <cstdio>
#include <vector>

namespace writ::cli::risk {

uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

Rng::Rng(uint64_t seed) {
  uint64_t state = seed;
  for (uint64_t& w : s_) w = splitmix64(state);
}

uint64_t Rng::next() {
  auto rotl = [](uint64_t x, int k) { return (x << k) | (x >> (64 - k)); };
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

// Lemire's multiply-shift: the high word of a 128-bit product.
uint64_t Rng::below(uint64_t n) {
  return static_cast<uint64_t>((static_cast<unsigned __int128>(next()) * n) >> 64);
}

uint64_t Rng::between(uint64_t lo, uint64_t hi) {
  return lo + below(hi - lo + 1);
}

std::string_view kind_name(PaymentKind k) {
  switch (k) {
    case PaymentKind::Purchase:
      return "purchase";
    case PaymentKind::Payroll:
      return "payroll";
    case PaymentKind::Supplier:
      return "supplier";
    case PaymentKind::Peer:
      return "p2p";
    case PaymentKind::AccountTakeover:
      return "ato";
    case PaymentKind::MuleIn:
      return "mule_in";
    case PaymentKind::MuleOut:
      return "mule_out";
    case PaymentKind::CardTesting:
      return "card_test";
    case PaymentKind::OddAmount:
      return "odd_amount";
    case PaymentKind::Split:
      return "split";
  }
  return "?";
}

namespace {

constexpr uint64_t kDay = 86'400, kHour = 3'600;

// Relative activity by hour of day (UTC): quiet nights, busy lunch and evening.
constexpr std::array<uint64_t, 24> kHourWeight = {1,  1,  1, 1, 1, 2,  4,  6,  8, 9, 9, 10,
                                                  11, 10, 9, 9, 9, 10, 11, 11, 9, 7, 4, 2};

struct Category {
  const char* name;
  uint64_t lo, hi;  // a merchant's typical ticket, cents
};
constexpr std::array<Category, 6> kCategories = {{{"grocery", 1'500, 9'000},
                                                  {"cafe", 300, 900},
                                                  {"fuel", 2'500, 8'000},
                                                  {"restaurant", 1'500, 7'000},
                                                  {"online", 800, 15'000},
                                                  {"utility", 4'000, 20'000}}};
constexpr size_t kOnline = 4;

struct Merchant {
  std::string id;
  size_t category;
  uint64_t level;  // typical ticket, cents
  size_t supplier;
};
struct Habit {
  size_t merchant;
  uint64_t weight, amount;  // amount in cents
};
struct Customer {
  std::string id;
  uint64_t join_day;
  uint64_t scale;  // spending level, per mille of a merchant's typical ticket
  std::vector<Habit> habits;
  uint64_t habit_weight = 0;
  std::vector<size_t> friends;
  uint64_t typical = 0;  // its largest habitual amount, cents
};
struct Row {
  uint64_t time;
  std::string from, to;
  uint64_t cents;
  PaymentKind kind;
  uint64_t seq;  // generation order: ties in time keep it
};

std::string id(const char* prefix, uint64_t n, int width) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%s%0*llu", prefix, width, static_cast<unsigned long long>(n));
  return buf;
}

std::string cents_text(uint64_t c) {
  char buf[40];
  const unsigned long long units = c / 100, frac = c % 100;
  if (frac == 0)
    std::snprintf(buf, sizeof buf, "%llu", units);
  else if (frac % 10 == 0)
    std::snprintf(buf, sizeof buf, "%llu.%llu", units, frac / 10);
  else
    std::snprintf(buf, sizeof buf, "%llu.%02llu", units, frac);
  return buf;
}

class Generator {
 public:
  explicit Generator(const GenOptions& o) : o_(o), rng_(o.seed), span_(o.days * kDay) {}

  std::vector<Row> run() {
    const uint64_t fraud = std::max<uint64_t>(1, (o_.payments * kFraudPerMille + 500) / 1000);
    populate();
    std::vector<Row> fixed = scheduled();
    const uint64_t legit = o_.payments - fraud;
    if (fixed.size() > legit / 3) {  // small streams: a random sample, a third of the legitimate
      for (size_t i = fixed.size(); i > 1; --i) std::swap(fixed[i - 1], fixed[rng_.below(i)]);
      fixed.resize(legit / 3);
    }
    for (Row& r : fixed) push(std::move(r));
    for (uint64_t i = fixed.size(); i < legit; ++i) everyday();
    while (fraud_ < fraud) {
      const uint64_t t0 = span_ / 10 + rng_.below(span_ * 8 / 10);
      // Patterns in the proportions 3 : 3 : 2 : 2 : 1 (of instances, not payments).
      const uint64_t pick = rng_.below(11);
      if (pick < 3)
        takeover(t0, fraud);
      else if (pick < 6)
        mule(t0, fraud);
      else if (pick < 8)
        card_testing(t0, fraud);
      else if (pick < 10)
        odd_amount(t0, fraud);
      else
        splitting(t0, fraud);
    }
    std::sort(rows_.begin(), rows_.end(), [](const Row& a, const Row& b) {
      return a.time != b.time ? a.time < b.time : a.seq < b.seq;
    });
    // Strictly increasing times: a payment in the same second as the one
    // before moves to the next second.
    for (size_t i = 1; i < rows_.size(); ++i)
      rows_[i].time = std::max(rows_[i].time, rows_[i - 1].time + 1);
    return std::move(rows_);
  }

  uint64_t accounts() const {
    return customers_.size() + merchants_.size() + employers_ + suppliers_ + fresh_ + mules_.size();
  }

 private:
  void populate() {
    const uint64_t n_customers = std::max<uint64_t>(30, o_.payments / 50);
    const uint64_t n_merchants = std::max<uint64_t>(10, n_customers / 8);
    employers_ = std::max<uint64_t>(2, n_customers / 60);
    suppliers_ = std::max<uint64_t>(2, n_merchants / 5);
    for (uint64_t m = 0; m < n_merchants; ++m) {
      const size_t cat = m < kCategories.size() ? m : rng_.below(kCategories.size());
      merchants_.push_back({id("m", m + 1, 4), cat,
                            rng_.between(kCategories[cat].lo, kCategories[cat].hi),
                            static_cast<size_t>(rng_.below(suppliers_))});
      if (cat == kOnline) online_.push_back(m);
    }
    for (uint64_t c = 0; c < n_customers; ++c) {
      Customer cu;
      cu.id = id("c", c + 1, 5);
      cu.join_day = rng_.chance(850) ? 0 : rng_.between(1, o_.days * 3 / 4);
      cu.scale = rng_.between(500, 2'500);
      const uint64_t k = rng_.between(3, 7);
      while (cu.habits.size() < k) {
        const size_t m = rng_.below(merchants_.size());
        if (std::any_of(cu.habits.begin(), cu.habits.end(),
                        [&](const Habit& h) { return h.merchant == m; }))
          continue;
        const uint64_t amount = std::max<uint64_t>(100, merchants_[m].level * cu.scale / 1000);
        cu.habits.push_back({m, rng_.between(1, 6), amount});
        cu.habit_weight += cu.habits.back().weight;
        cu.typical = std::max(cu.typical, amount);
      }
      const uint64_t f = rng_.between(1, 4);
      for (uint64_t i = 0; i < f; ++i) {
        const size_t other = rng_.below(n_customers);
        if (other != c) cu.friends.push_back(other);
      }
      customers_.push_back(std::move(cu));
    }
  }

  // Payroll and supplier settlements: fixed schedules.
  std::vector<Row> scheduled() {
    std::vector<Row> out;
    std::vector<std::vector<std::pair<size_t, uint64_t>>> staff(
        employers_);  // (customer, salary cents)
    for (size_t c = 0; c < customers_.size(); ++c)
      if (rng_.chance(700))
        staff[rng_.below(employers_)].push_back({c, rng_.between(1'500, 7'000) * 100});
    for (uint64_t e = 0; e < employers_; ++e) {
      const bool biweekly = rng_.chance(500);
      const uint64_t period = biweekly ? 14 : 30;
      const std::string from = id("e", e + 1, 3);
      for (uint64_t day = rng_.below(period); day < o_.days; day += period) {
        const uint64_t t = day * kDay + kHour + e * 60;  // 01:00, one employer a minute
        for (size_t k = 0; k < staff[e].size(); ++k) {
          const Customer& cu = customers_[staff[e][k].first];
          if (cu.join_day > day) continue;
          out.push_back({t + 2 * k, from, cu.id, staff[e][k].second, PaymentKind::Payroll, 0});
        }
      }
    }
    for (const Merchant& m : merchants_) {
      for (uint64_t day = rng_.below(7); day < o_.days; day += 7)
        out.push_back({day * kDay + 22 * kHour + rng_.below(kHour), m.id,
                       id("s", m.supplier + 1, 3), m.level * rng_.between(40, 120),
                       PaymentKind::Supplier, 0});
    }
    return out;
  }

  uint64_t hour_of_day() {
    uint64_t total = 0;
    for (uint64_t w : kHourWeight) total += w;
    uint64_t r = rng_.below(total);
    for (uint64_t h = 0; h < 24; ++h) {
      if (r < kHourWeight[h]) return h;
      r -= kHourWeight[h];
    }
    return 23;
  }

  // One purchase or peer payment of a random customer, at a random time
  // after it joined.
  void everyday() {
    const size_t c = rng_.below(customers_.size());
    const Customer& cu = customers_[c];
    const uint64_t day = cu.join_day + rng_.below(o_.days - cu.join_day);
    const uint64_t t = day * kDay + hour_of_day() * kHour + rng_.below(kHour);
    const uint64_t r = rng_.below(1000);
    if (r < 800) {  // a habitual merchant, by weight
      uint64_t pick = rng_.below(cu.habit_weight);
      size_t h = 0;
      while (pick >= cu.habits[h].weight) pick -= cu.habits[h++].weight;
      uint64_t amount = cu.habits[h].amount * rng_.between(750, 1'300) / 1000;
      if (rng_.chance(15)) amount *= rng_.between(4, 12);  // a large purchase, legitimately
      push({t, cu.id, merchants_[cu.habits[h].merchant].id, std::max<uint64_t>(50, amount),
            PaymentKind::Purchase, 0});
    } else if (r < 880) {  // any merchant, often a new one for this customer
      const Merchant& m = merchants_[rng_.below(merchants_.size())];
      const uint64_t amount = m.level * cu.scale / 1000 * rng_.between(700, 1'400) / 1000;
      push({t, cu.id, m.id, std::max<uint64_t>(50, amount), PaymentKind::Purchase, 0});
    } else if (r < 980 && !cu.friends.empty()) {  // a friend, in whole units
      const size_t f = cu.friends[rng_.below(cu.friends.size())];
      push({t, cu.id, customers_[f].id, rng_.between(5, 150) * 100, PaymentKind::Peer, 0});
    } else {  // someone new
      size_t other = rng_.below(customers_.size());
      if (other == c) other = (other + 1) % customers_.size();
      push({t, cu.id, customers_[other].id, rng_.between(5, 300) * 100, PaymentKind::Peer, 0});
    }
  }

  // A customer that joined at least `days` days before t (or any, if none does).
  size_t established_customer(uint64_t t, uint64_t days) {
    for (int tries = 0; tries < 50; ++tries) {
      const size_t c = rng_.below(customers_.size());
      if (customers_[c].join_day * kDay + days * kDay <= t) return c;
    }
    return rng_.below(customers_.size());
  }

  std::string fresh_account() { return id("x", ++fresh_, 5); }

  void fraud_row(uint64_t budget, Row r) {
    if (fraud_ >= budget) return;
    ++fraud_;
    push(std::move(r));
  }

  void takeover(uint64_t t, uint64_t budget) {
    const Customer& victim = customers_[established_customer(t, 2)];
    std::vector<std::string> drops;
    for (uint64_t i = rng_.between(1, 3); i > 0; --i)
      drops.push_back(!mules_.empty() && rng_.chance(400) ? mules_[rng_.below(mules_.size())]
                                                          : fresh_account());
    for (uint64_t k = rng_.between(3, 8); k > 0; --k) {
      t += rng_.between(20, 400);
      const uint64_t amount = victim.typical * rng_.between(5, 25) / 100 * 100;
      fraud_row(budget, {t, victim.id, drops[rng_.below(drops.size())],
                         std::max<uint64_t>(100, amount), PaymentKind::AccountTakeover, 0});
    }
  }

  void mule(uint64_t t0, uint64_t budget) {
    mules_.push_back(id("mule", mules_.size() + 1, 4));
    const std::string& m = mules_.back();
    const uint64_t length = std::min(rng_.between(2, 14) * kDay, span_ - t0);  // t0 < span_
    for (uint64_t v = rng_.between(4, 12); v > 0; --v) {
      const uint64_t t = t0 + rng_.below(length);
      const uint64_t amount = rng_.between(200, 3'000) * 100;
      fraud_row(budget,
                {t, customers_[established_customer(t, 2)].id, m, amount, PaymentKind::MuleIn, 0});
      // Forwarded within hours, 90% of it, to one or two new accounts.
      const uint64_t out = rng_.between(1, 2);
      const uint64_t forward = amount * 9 / 10 / out;
      uint64_t when = t + rng_.between(600, 3 * kHour);
      for (uint64_t k = 0; k < out; ++k, when += rng_.between(30, 900))
        fraud_row(budget, {when, m, fresh_account(), forward, PaymentKind::MuleOut, 0});
    }
  }

  void card_testing(uint64_t t, uint64_t budget) {
    const std::string tester =
        rng_.chance(600) ? fresh_account() : customers_[established_customer(t, 2)].id;
    for (uint64_t k = rng_.between(8, 25); k > 0; --k) {
      t += rng_.between(3, 60);
      const size_t m =
          online_.empty() ? rng_.below(merchants_.size()) : online_[rng_.below(online_.size())];
      fraud_row(budget,
                {t, tester, merchants_[m].id, rng_.between(50, 500), PaymentKind::CardTesting, 0});
    }
  }

  void odd_amount(uint64_t t, uint64_t budget) {
    const Customer& cu = customers_[established_customer(t, 3)];
    const std::string to = rng_.chance(600)
                               ? merchants_[cu.habits[rng_.below(cu.habits.size())].merchant].id
                               : fresh_account();
    fraud_row(budget, {t, cu.id, to, cu.typical * rng_.between(20, 60), PaymentKind::OddAmount, 0});
  }

  void splitting(uint64_t t, uint64_t budget) {
    const Customer& victim = customers_[established_customer(t, 2)];
    // Half the time the drop is an established customer recruited as a mule,
    // whose account is old: only the sum gives the theft away.
    const size_t other = established_customer(t, 30);
    const std::string drop = rng_.chance(500) && customers_[other].id != victim.id
                                 ? customers_[other].id
                                 : fresh_account();
    for (uint64_t k = rng_.between(10, 40); k > 0; --k) {
      t += rng_.between(10, 2'400);
      const uint64_t amount = victim.typical * rng_.between(75, 130) / 100;
      fraud_row(budget,
                {t, victim.id, drop, std::max<uint64_t>(100, amount), PaymentKind::Split, 0});
    }
  }

  void push(Row r) {
    r.seq = seq_++;
    rows_.push_back(std::move(r));
  }

  GenOptions o_;
  Rng rng_;
  uint64_t span_;
  std::vector<Merchant> merchants_;
  std::vector<size_t> online_;
  std::vector<Customer> customers_;
  std::vector<std::string> mules_;
  uint64_t employers_ = 0, suppliers_ = 0, fresh_ = 0, fraud_ = 0, seq_ = 0;
  std::vector<Row> rows_;
};

}  // namespace

std::string generate_stream(const GenOptions& options, GenSummary* summary) {
  Generator g(options);
  const std::vector<Row> rows = g.run();
  std::string out = "time,from,to,amount,label,kind\n";
  out.reserve(rows.size() * 40);
  GenSummary s;
  for (const Row& r : rows) {
    const bool fraud = r.kind >= PaymentKind::AccountTakeover;
    const uint64_t t = kGenStart + r.time;
    out += std::to_string(t) + "," + r.from + "," + r.to + "," + cents_text(r.cents) +
           (fraud ? ",1," : ",0,") + std::string(kind_name(r.kind)) + "\n";
    ++s.payments;
    s.fraud += fraud ? 1 : 0;
    ++s.by_kind[static_cast<size_t>(r.kind)];
    if (s.payments == 1) s.first_time = t;
    s.last_time = t;
  }
  s.accounts = g.accounts();
  if (summary) *summary = s;
  return out;
}

}  // namespace writ::cli::risk
