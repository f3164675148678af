// A generator of synthetic payment streams with labeled fraud, for training
// and evaluating the risk engine's model (`writ risk gen`). The patterns,
// their rates and amounts are documented in docs/contracts/risk.md
// ("The generator").
//
// Deterministic from the seed on every platform: one PRNG written here
// (xoshiro256** seeded through splitmix64) and integer arithmetic only, so
// the same options give the same bytes everywhere.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace writ::cli::risk {

// splitmix64 (Steele, Lea, Flood 2014): seeds the generator below.
uint64_t splitmix64(uint64_t& state);

// xoshiro256** 1.0 (Blackman, Vigna 2018).
class Rng {
 public:
  explicit Rng(uint64_t seed);
  uint64_t next();
  uint64_t below(uint64_t n);                  // uniform in [0, n); REQUIRES: n > 0
  uint64_t between(uint64_t lo, uint64_t hi);  // uniform in [lo, hi]; REQUIRES: lo <= hi
  bool chance(uint64_t per_mille) { return below(1000) < per_mille; }

 private:
  std::array<uint64_t, 4> s_;
};

// What each generated payment is (the CSV's `kind` column). The first four
// are legitimate (label 0), the rest fraud (label 1).
enum class PaymentKind : uint8_t {
  Purchase,
  Payroll,
  Supplier,
  Peer,
  AccountTakeover,
  MuleIn,
  MuleOut,
  CardTesting,
  OddAmount,
  Split,
};
inline constexpr size_t kPaymentKinds = 10;
std::string_view kind_name(PaymentKind k);

struct GenOptions {
  uint64_t seed = 1;
  uint64_t payments = 20'000;  // exactly this many rows; >= kMinPayments
  uint64_t days = 30;          // the stream's span; >= kMinDays
};
// At most a million payments: about 45 MB of CSV, under the 64 MiB that
// train and eval read.
inline constexpr uint64_t kMinPayments = 100, kMaxPayments = 1'000'000;
inline constexpr uint64_t kMinDays = 3, kMaxDays = 3650;
// The stream starts at this time: 2023-11-14 00:00 UTC, the day of the
// default genesis (contracts::kDevGenesisTime).
inline constexpr uint64_t kGenStart = 1'699'920'000;
// Fraud is 2% of the payments (rounded; at least one).
inline constexpr uint64_t kFraudPerMille = 20;

struct GenSummary {
  uint64_t payments = 0, fraud = 0, accounts = 0;
  uint64_t first_time = 0, last_time = 0;
  std::array<uint64_t, kPaymentKinds> by_kind{};
};

// The CSV text: "time,from,to,amount,label,kind" and one line per payment,
// times strictly increasing. REQUIRES: options within the bounds above.
std::string generate_stream(const GenOptions& options, GenSummary* summary = nullptr);

}  // namespace writ::cli::risk
