// The risk engine's off-chain tools (tools/writ/risk_*.cpp): ranking
// metrics on hand-computed examples, payment-stream CSV parsing and its
// errors, quantization to the engine's WAD bounds, model.json checks, the
// generator's determinism, the fit, and the replay through the embedded
// engine (whose first features match tests/contracts/risk_scoring.writ).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>

#include "risk_baseline.hpp"
#include "risk_gen.hpp"
#include "risk_metrics.hpp"
#include "risk_model.hpp"
#include "risk_replay.hpp"
#include "risk_stream.hpp"

namespace writ::cli::risk {
namespace {

using vm::U256;

U256 dec(const char* s) {
  return *vm::parse_u256(s);
}
U256 wad_of(int64_t units) {
  const U256 mag = vm::mul(U256::from_u64(static_cast<uint64_t>(units < 0 ? -units : units)),
                           dec("1000000000000000000"));
  return units < 0 ? vm::neg(mag) : mag;
}

// ---- metrics ---------------------------------------------------------------------------------

// Scores 5 4 4 3 2 1, labels 1 0 1 1 0 0 (P = 3, N = 3).
//   ROC AUC: of the 9 (fraud, legitimate) pairs, fraud ranks above in 7 and
//   ties in 1 (4 vs 4): 7.5 / 9.
//   Average precision, threshold by threshold: >= 5 recall 1/3 precision 1;
//   >= 4 recall 2/3 precision 2/3; >= 3 recall 1 precision 3/4:
//   1/3 * 1 + 1/3 * 2/3 + 1/3 * 3/4 = 29/36.
//   ROC points: (0,0) (0,1/3) (1/3,2/3) (1/3,1) (2/3,1) (1,1).
TEST(RiskMetrics, HandComputedExample) {
  const std::vector<int64_t> scores = {5, 4, 4, 3, 2, 1};
  const std::vector<uint8_t> labels = {1, 0, 1, 1, 0, 0};
  const Metrics m = evaluate_scores(scores, labels);
  EXPECT_EQ(m.positives, 3u);
  EXPECT_EQ(m.negatives, 3u);
  EXPECT_NEAR(m.roc_auc, 7.5 / 9, 1e-12);
  EXPECT_NEAR(m.pr_auc, 29.0 / 36, 1e-12);
  ASSERT_EQ(m.roc.size(), 6u);
  EXPECT_NEAR(m.roc[2].fpr, 1.0 / 3, 1e-12);
  EXPECT_NEAR(m.roc[2].tpr, 2.0 / 3, 1e-12);
  // Recall at a false-positive rate: the best threshold within it.
  EXPECT_NEAR(m.recall_at(0.0), 1.0 / 3, 1e-12);
  EXPECT_NEAR(m.recall_at(0.30), 1.0 / 3, 1e-12);
  EXPECT_NEAR(m.recall_at(1.0 / 3), 1.0, 1e-12);
  EXPECT_NEAR(m.recall_at(1.0), 1.0, 1e-12);
}

// The order of the input does not matter; ties are never split.
TEST(RiskMetrics, OrderAndTies) {
  const std::vector<int64_t> scores = {1, 4, 3, 2, 4, 5};
  const std::vector<uint8_t> labels = {0, 1, 1, 0, 0, 1};
  const Metrics m = evaluate_scores(scores, labels);
  EXPECT_NEAR(m.roc_auc, 7.5 / 9, 1e-12);
  EXPECT_NEAR(m.pr_auc, 29.0 / 36, 1e-12);
  // Every score equal: one threshold, chance level, precision = prevalence.
  const std::vector<int64_t> flat = {7, 7, 7, 7};
  const std::vector<uint8_t> y = {1, 0, 0, 0};
  const Metrics f = evaluate_scores(flat, y);
  EXPECT_DOUBLE_EQ(f.roc_auc, 0.5);
  EXPECT_DOUBLE_EQ(f.pr_auc, 0.25);
  EXPECT_DOUBLE_EQ(f.recall_at(0.05), 0.0);  // flagging the group would flag every legitimate one
  EXPECT_DOUBLE_EQ(f.recall_at(1.0), 1.0);
}

TEST(RiskMetrics, PerfectAndReversedAndOneClass) {
  const std::vector<int64_t> scores = {9, 8, 2, 1};
  const Metrics perfect = evaluate_scores(scores, std::vector<uint8_t>{1, 1, 0, 0});
  EXPECT_DOUBLE_EQ(perfect.roc_auc, 1.0);
  EXPECT_DOUBLE_EQ(perfect.pr_auc, 1.0);
  EXPECT_DOUBLE_EQ(perfect.recall_at(0.0), 1.0);
  const Metrics reversed = evaluate_scores(scores, std::vector<uint8_t>{0, 0, 1, 1});
  EXPECT_DOUBLE_EQ(reversed.roc_auc, 0.0);
  // Average precision of the worst ranking: recall 1/2 at precision 1/3, then 1 at 2/4.
  EXPECT_NEAR(reversed.pr_auc, 0.5 * (1.0 / 3) + 0.5 * 0.5, 1e-12);
  EXPECT_DOUBLE_EQ(reversed.recall_at(0.5), 0.0);
  const Metrics one = evaluate_scores(scores, std::vector<uint8_t>{0, 0, 0, 0});
  EXPECT_TRUE(std::isnan(one.roc_auc));
  EXPECT_TRUE(std::isnan(one.pr_auc));
  EXPECT_TRUE(std::isnan(one.recall_at(0.01)));
}

// Recall at 1% needs at least 100 legitimate payments to mean anything:
// 200 of them, 2 fraud above all but 2 legitimate ones, 2 fraud mid-way.
TEST(RiskMetrics, RecallAtOneAndFivePercent) {
  std::vector<int64_t> scores;
  std::vector<uint8_t> labels;
  for (int i = 0; i < 200; ++i) {
    scores.push_back(i);
    labels.push_back(0);
  }
  for (int s : {1000, 1001}) {  // the top two overall: legitimate
    scores.push_back(s);
    labels.push_back(0);
  }
  for (int s : {500, 501, 195, 100}) {
    scores.push_back(s);
    labels.push_back(1);
  }
  const Metrics m = evaluate_scores(scores, labels);
  // 202 legitimate: 1% allows 2.02 false positives (the two at the top),
  // which brings the fraud at 500 and 501; 5% allows 10.1: the top two and
  // 199..192, through the threshold 195 (where a fraud ties a legitimate
  // payment) but not to 100.
  EXPECT_DOUBLE_EQ(m.recall_at(0.01), 0.5);
  EXPECT_DOUBLE_EQ(m.recall_at(0.05), 0.75);
}

TEST(RiskMetrics, SvgIsAnSvgWithEveryCurve) {
  const Metrics m = evaluate_scores(std::vector<int64_t>{3, 2, 1}, std::vector<uint8_t>{1, 0, 0});
  const std::string svg =
      roc_svg({{"model <x>", "#d62728", &m}, {"rules", "#1f77b4", &m}}, "ROC & co");
  EXPECT_EQ(svg.rfind("<svg ", 0), 0u);
  EXPECT_NE(svg.find("</svg>"), std::string::npos);
  EXPECT_NE(svg.find("model &lt;x&gt; (ROC AUC 1.0000)"), std::string::npos);
  EXPECT_NE(svg.find("ROC &amp; co"), std::string::npos);
  size_t lines = 0;
  for (size_t p = svg.find("<polyline"); p != std::string::npos; p = svg.find("<polyline", p + 1))
    ++lines;
  EXPECT_EQ(lines, 2u);
}

// ---- payment streams -------------------------------------------------------------------------

TEST(RiskStream, ParsesColumnsByNameAndIgnoresOthers) {
  Stream s;
  std::string err;
  const std::string csv =
      "amount,kind,to,time,from\r\n"
      "12.5,purchase,m1,100,c1\r\n"
      "\n"
      "0.000000000000000001,x,m2,100,c2\r\n"
      "3,y,m1, 160 ,c1\n";
  ASSERT_TRUE(parse_stream(csv, "d.csv", s, err)) << err;
  ASSERT_EQ(s.payments.size(), 3u);
  EXPECT_EQ(s.unlabeled, 3u);
  EXPECT_EQ(s.payments[0].amount, dec("12500000000000000000"));
  EXPECT_EQ(s.payments[0].from, "c1");
  EXPECT_EQ(s.payments[0].to, "m1");
  EXPECT_EQ(s.payments[1].amount, U256::from_u64(1));
  EXPECT_EQ(s.payments[1].line, 4u);
  EXPECT_EQ(s.payments[2].time, 160u);
  EXPECT_EQ(s.payments[2].label, -1);

  ASSERT_TRUE(parse_stream(
      "\xEF\xBB\xBFtime,from,to,amount,label\n5,a,b,1,1\n6,a,b,2,0\n7,a,b,3,\n", "d.csv", s, err))
      << err;
  EXPECT_EQ(s.fraud, 1u);  // (after a UTF-8 byte-order mark)
  EXPECT_EQ(s.unlabeled, 1u);
  EXPECT_EQ(s.payments[0].label, 1);
  EXPECT_EQ(s.payments[1].label, 0);
}

// Every error names the file and the line, and the problem.
TEST(RiskStream, ErrorsNameFileAndLine) {
  struct Case {
    const char* csv;
    const char* error;
  };
  const Case cases[] = {
      {"", "d.csv: empty (wanted a header line time,from,to,amount[,label])"},
      {"\n\n", "d.csv: empty"},
      {"time,from,to,label\n1,a,b,0\n",
       "d.csv:1: the header has no column 'amount' (wanted time,from,to,amount[,label])"},
      {"time,from,to,amount,time\n", "d.csv:1: column 'time' appears twice in the header"},
      {"time,from,to,amount,label\n1,a,b,1,0\n2,a,b,1\n", "d.csv:3: 4 fields, the header has 5"},
      {"time,from,to,amount,label\n1,a,b,1,0,9\n", "d.csv:2: 6 fields, the header has 5"},
      {"time,from,to,amount\n12x,a,b,1\n", "d.csv:2: time '12x' is not a whole number of seconds"},
      {"time,from,to,amount\n-1,a,b,1\n", "d.csv:2: time '-1' is not a whole number of seconds"},
      {"time,from,to,amount\n18446744073709551616,a,b,1\n",
       "d.csv:2: time '18446744073709551616' is not"},
      {"time,from,to,amount\n1,a,b,1\n\n0,a,b,1\n",
       "d.csv:4: time 0 is before the previous line's 1 (payments must be in time order)"},
      {"time,from,to,amount\n1,,b,1\n", "d.csv:2: empty 'from' account"},
      {"time,from,to,amount\n1,a, ,1\n", "d.csv:2: empty 'to' account"},
      {"time,from,to,amount\n1,a,b,1.2.3\n",
       "d.csv:2: amount '1.2.3' is not a decimal amount in whole units"},
      {"time,from,to,amount\n1,a,b,1e5\n", "d.csv:2: amount '1e5' is not a decimal amount"},
      {"time,from,to,amount\n1,a,b,-5\n", "d.csv:2: amount '-5' is not a decimal amount"},
      {"time,from,to,amount\n1,a,b,\n", "d.csv:2: amount '' is not a decimal amount"},
      {"time,from,to,amount\n1,a,b,5.\n", "d.csv:2: amount '5.' is not a decimal amount"},
      {"time,from,to,amount\n1,a,b,0.1234567890123456789\n",
       "d.csv:2: amount '0.1234567890123456789' has more than 18 decimals"},
      {"time,from,to,amount\n1,a,b,1"
       "000000000000000000000000000000000000000000000000000000000000\n",
       "is above 2^256 base units"},
      {"time,from,to,amount,label\n1,a,b,1,2\n", "d.csv:2: label '2' is not 0 or 1"},
      {"time,from,to,amount,label\n1,a,b,1,yes\n", "d.csv:2: label 'yes' is not 0 or 1"},
      {"time,from,to,amount\n1,\"a,b\",c,1\n", "d.csv:2: quoted fields are not supported"},
  };
  for (const Case& c : cases) {
    Stream s;
    std::string err;
    EXPECT_FALSE(parse_stream(c.csv, "d.csv", s, err)) << c.csv;
    EXPECT_NE(err.find(c.error), std::string::npos) << "got: " << err << "\nwanted: " << c.error;
  }
}

TEST(RiskStream, UnitsRoundTrip) {
  U256 v;
  std::string why;
  ASSERT_TRUE(parse_units("12.50", v, why));
  EXPECT_EQ(format_units(v), "12.5");
  ASSERT_TRUE(parse_units("0.000000000000000001", v, why));
  EXPECT_EQ(v, U256::from_u64(1));
  EXPECT_EQ(format_units(v), "0.000000000000000001");
  ASSERT_TRUE(parse_units("7", v, why));
  EXPECT_EQ(format_units(v), "7");
  EXPECT_EQ(format_units(U256::zero()), "0");
  // The largest amount: floor((2^256 - 1) / 10^18) units and 18 decimals.
  const U256 max = vm::bit_not(U256::zero());
  ASSERT_TRUE(parse_units(format_units(max), v, why)) << why;
  EXPECT_EQ(v, max);
  EXPECT_FALSE(parse_units(format_units(max) + "1", v, why));
}

TEST(RiskStream, AccountAddressIsSha256OfTheIdentifier) {
  // sha256("c00001")
  EXPECT_EQ(account_address("c00001").hex(),
            runtime::sha256(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>("c00001"), 6))
                .hex());
  EXPECT_NE(account_address("a"), account_address("b"));
  // sha256("abc"), FIPS 180-2 appendix B.1.
  EXPECT_EQ(account_address("abc").hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

// ---- quantization and model.json -------------------------------------------------------------

TEST(RiskModel, QuantizationKeepsNineDecimalsAndTheEngineBounds) {
  bool clamped = true;
  EXPECT_EQ(quantize_wad(1.0, clamped), wad_of(1));
  EXPECT_FALSE(clamped);
  EXPECT_EQ(quantize_wad(-2.5, clamped), vm::neg(dec("2500000000000000000")));
  EXPECT_EQ(quantize_wad(0.1234567894, clamped), dec("123456789000000000"));
  EXPECT_EQ(quantize_wad(-0.1234567896, clamped), vm::neg(dec("123456790000000000")));
  EXPECT_EQ(quantize_wad(0.0000000004, clamped), U256::zero());
  EXPECT_FALSE(clamped);
  // The bounds of install_model: |w| <= 1,000.0 exactly.
  EXPECT_EQ(quantize_wad(1000.0, clamped), wad_of(1000));
  EXPECT_FALSE(clamped);
  EXPECT_EQ(quantize_wad(1000.0000001, clamped), wad_of(1000));
  EXPECT_TRUE(clamped);
  EXPECT_EQ(quantize_wad(-1e300, clamped), wad_of(-1000));
  EXPECT_TRUE(clamped);
  EXPECT_EQ(quantize_wad(std::nan(""), clamped), U256::zero());
  EXPECT_TRUE(clamped);
  // And back.
  EXPECT_DOUBLE_EQ(wad_to_double(wad_of(-1000)), -1000.0);
  EXPECT_DOUBLE_EQ(wad_to_double(dec("9967226258479058738")), 9.967226258479058738);
}

TEST(RiskModel, WeightTextIsCheckedAgainstTheBounds) {
  U256 w;
  std::string why;
  ASSERT_TRUE(parse_weight("1000000000000000000000", w, why));
  EXPECT_EQ(w, wad_of(1000));
  ASSERT_TRUE(parse_weight("-1000000000000000000000", w, why));
  EXPECT_EQ(w, wad_of(-1000));
  EXPECT_EQ(wad_text(w), "-1000000000000000000000");
  EXPECT_FALSE(parse_weight("1000000000000000000001", w, why));
  EXPECT_NE(why.find("out of range (at most 1000.0 either way"), std::string::npos) << why;
  EXPECT_FALSE(parse_weight("-1000000000000000000001", w, why));
  for (const char* bad : {"", "-", "1.5", "0x10", "+1", "1e18", " 1"}) {
    EXPECT_FALSE(parse_weight(bad, w, why)) << bad;
    EXPECT_NE(why.find("is not a decimal integer"), std::string::npos) << bad << ": " << why;
  }
}

TEST(RiskModel, ModelJsonRoundTripsAndBadFilesAreNamed) {
  Model m;
  m.version = 7;
  m.intercept = wad_of(-3);
  for (size_t i = 0; i < kFeatureCount; ++i) m.weights[i] = wad_of(static_cast<int64_t>(i) - 4);
  const std::string text = model_json(m, "{\"payments\": 3}");
  Model back;
  std::string err;
  ASSERT_TRUE(parse_model_json(text, "m.json", back, err)) << err;
  EXPECT_EQ(back.version, 7u);
  EXPECT_EQ(back.intercept, m.intercept);
  EXPECT_EQ(back.weights, m.weights);

  // A weights array of n entries, "0" but where `at` is `value` (given as JSON).
  auto list = [](size_t n, size_t at = SIZE_MAX, const std::string& value = "") {
    std::string out = "[";
    for (size_t i = 0; i < n; ++i) out += (i ? "," : "") + (i == at ? value : "\"0\"");
    return out + "]";
  };
  const std::string ten = list(kFeatureCount);
  const std::string count = std::to_string(kFeatureCount);
  const std::string last = std::to_string(kFeatureCount - 1);
  struct Case {
    std::string json, error;
  };
  const std::vector<Case> cases = {
      {"{", "m.json: not JSON: parse error"},
      {"[1]", "m.json: not a JSON object"},
      {"{\"intercept\": \"0\", \"weights\": " + ten + "}", "m.json: missing field \"version\""},
      {"{\"version\": 2, \"weights\": " + ten + "}", "m.json: missing field \"intercept\""},
      {"{\"version\": 2, \"intercept\": \"0\"}", "m.json: missing field \"weights\""},
      {"{\"version\": 0, \"intercept\": \"0\", \"weights\": " + ten + "}",
       "m.json: version: must be a whole number"},
      {"{\"version\": -1, \"intercept\": \"0\", \"weights\": " + ten + "}",
       "m.json: version: must be"},
      {"{\"version\": \"2\", \"intercept\": \"0\", \"weights\": " + ten + "}",
       "m.json: version: must be"},
      {"{\"version\": 2, \"intercept\": 0, \"weights\": " + ten + "}",
       "m.json: intercept: must be a string"},
      {"{\"version\": 2, \"intercept\": \"-1000000000000000000001\", \"weights\": " + ten + "}",
       "m.json: intercept: -1000000000000000000001 is out of range"},
      {"{\"version\": 2, \"intercept\": \"0\", \"weights\": \"0\"}",
       "m.json: weights: must be an array"},
      {"{\"version\": 2, \"intercept\": \"0\", \"weights\": " + list(kFeatureCount - 1) + "}",
       "m.json: weights: " + last + " values, the engine takes " + count + " (one per feature)"},
      {"{\"version\": 2, \"intercept\": \"0\", \"weights\": " + list(kFeatureCount + 1) + "}",
       "m.json: weights: " + std::to_string(kFeatureCount + 1) + " values, the engine takes " +
           count + " (one per feature)"},
      {"{\"version\": 2, \"intercept\": \"0\", \"weights\": " +
           list(kFeatureCount, 2, "\"2000000000000000000000\"") + "}",
       "m.json: weights[2]: 2000000000000000000000 is out of range"},
      {"{\"version\": 2, \"intercept\": \"0\", \"weights\": " + list(kFeatureCount, 3, "1") + "}",
       "m.json: weights[3]: must be a string"},
      {"{\"version\": 2, \"intercept\": \"0\", \"weights\": " +
           list(kFeatureCount, kFeatureCount - 1, "\"x\"") + "}",
       "m.json: weights[" + last + "]: 'x' is not a decimal integer"},
      {"{\"version\": 2, \"intercept\": \"0\", \"weights\": " + ten +
           ", \"features\": "
           "[\"velocity_day\",\"velocity_hour\",\"amount_vs_habit\",\"new_counterparty\","
           "\"thin_history\",\"recipient_fraud\",\"recipient_fan_in\",\"new_counterparties_hour\","
           "\"amount_size\",\"new_account\",\"new_recipient_account\"]}",
       "m.json: features[0]: \"velocity_day\" is not the engine's feature 0 \"velocity_hour\""},
  };
  for (const Case& c : cases) {
    Model out;
    EXPECT_FALSE(parse_model_json(c.json, "m.json", out, err)) << c.json;
    EXPECT_NE(err.find(c.error), std::string::npos) << "got: " << err << "\nwanted: " << c.error;
  }
}

// ---- the fit ---------------------------------------------------------------------------------

TEST(RiskModel, FitFindsTheSignalAndL2Shrinks) {
  // Feature 0 carries the label (with overlap), feature 1 is noise.
  std::vector<std::array<double, kFeatureCount>> x;
  std::vector<uint8_t> y;
  Rng rng(5);
  for (int i = 0; i < 2000; ++i) {
    const uint8_t label = rng.chance(100) ? 1 : 0;
    std::array<double, kFeatureCount> row{};
    row[0] = (label ? 2.0 : 0.0) + static_cast<double>(rng.below(1000)) / 333.0;
    row[1] = static_cast<double>(rng.below(1000)) / 1000.0;
    x.push_back(row);
    y.push_back(label);
  }
  FitOptions o;
  o.l2 = 1e-4;
  const FitResult a = fit_logistic(x, y, o);
  EXPECT_TRUE(a.converged);
  EXPECT_GT(a.weights[0], 2.0);
  EXPECT_LT(std::fabs(a.weights[1]), 0.5 * a.weights[0]);
  o.l2 = 1.0;
  const FitResult b = fit_logistic(x, y, o);
  EXPECT_LT(std::fabs(b.weights[0]), std::fabs(a.weights[0]));
  // Balanced classes center the boundary: unweighted, the intercept is lower.
  o.l2 = 1e-4;
  o.balanced = false;
  const FitResult c = fit_logistic(x, y, o);
  EXPECT_LT(c.intercept, a.intercept);
}

// A feature that, in the training stream, comes with fewer frauds (the
// hour's velocity of a payroll run) gets a negative weight when allowed:
// then doing more of it lowers a score, which a thief can always do. Under
// the default sign constraint its weight is 0, and the fit still finds the
// real signal.
TEST(RiskModel, FitKeepsEveryWeightAtLeastZeroUnlessAllowed) {
  std::vector<std::array<double, kFeatureCount>> x;
  std::vector<uint8_t> y;
  Rng rng(9);
  for (int i = 0; i < 4000; ++i) {
    const uint8_t label = rng.chance(100) ? 1 : 0;
    std::array<double, kFeatureCount> row{};
    row[0] = (label ? 0.0 : 3.0) * static_cast<double>(rng.below(1000)) / 1000.0;  // "velocity"
    row[2] = (label ? 2.0 : 0.0) + static_cast<double>(rng.below(1000)) / 333.0;   // signal
    x.push_back(row);
    y.push_back(label);
  }
  FitOptions o;
  o.nonnegative = false;
  const FitResult free = fit_logistic(x, y, o);
  EXPECT_TRUE(free.converged);
  EXPECT_LT(free.weights[0], -0.5);
  o.nonnegative = true;
  const FitResult held = fit_logistic(x, y, o);
  EXPECT_TRUE(held.converged);
  for (size_t j = 0; j < kFeatureCount; ++j) EXPECT_GE(held.weights[j], 0.0) << "weight " << j;
  EXPECT_EQ(held.weights[0], 0.0);
  EXPECT_GT(held.weights[2], 1.0);
  EXPECT_GT(held.loss, free.loss);  // the constraint costs some fit, as it must
  // A feature left out (--without) keeps a weight of 0 whatever it carries.
  o.without[2] = true;
  const FitResult without = fit_logistic(x, y, o);
  EXPECT_TRUE(without.converged);
  EXPECT_EQ(without.weights[2], 0.0);
  EXPECT_GT(without.loss, held.loss);
}

// ---- the generator ---------------------------------------------------------------------------

TEST(RiskGen, ReferenceOutputs) {
  // splitmix64 from 0, and xoshiro256** seeded by it (the authors' reference algorithms).
  uint64_t state = 0;
  EXPECT_EQ(splitmix64(state), 0xe220a8397b1dcdafull);
  EXPECT_EQ(splitmix64(state), 0x6e789e6aa1b965f4ull);
  EXPECT_EQ(splitmix64(state), 0x06c45d188009454full);
  Rng rng(0);
  EXPECT_EQ(rng.next(), 0x99ec5f36cb75f2b4ull);
  EXPECT_EQ(rng.next(), 0xbf6e1f784956452aull);
  EXPECT_EQ(rng.next(), 0x1a5f849d4933e6e0ull);
}

TEST(RiskGen, SameSeedSameBytesOtherSeedOtherBytes) {
  GenOptions o;
  o.payments = 1500;
  o.days = 10;
  o.seed = 42;
  const std::string a = generate_stream(o), b = generate_stream(o);
  EXPECT_EQ(a, b);
  o.seed = 43;
  EXPECT_NE(generate_stream(o), a);
}

TEST(RiskGen, StreamIsWellFormedWithTwoPercentFraud) {
  for (uint64_t seed : {1, 2, 3}) {
    GenOptions o;
    o.seed = seed;
    o.payments = 3000;
    o.days = 20;
    GenSummary sum;
    const std::string csv = generate_stream(o, &sum);
    Stream s;
    std::string err;
    ASSERT_TRUE(parse_stream(csv, "gen.csv", s, err)) << err;
    ASSERT_EQ(s.payments.size(), 3000u);
    EXPECT_EQ(s.unlabeled, 0u);
    EXPECT_EQ(s.fraud, 60u);  // 2%
    EXPECT_EQ(sum.fraud, 60u);
    for (size_t i = 1; i < s.payments.size(); ++i)
      ASSERT_LT(s.payments[i - 1].time, s.payments[i].time);
    EXPECT_EQ(s.payments.front().time, sum.first_time);
    EXPECT_GE(s.payments.front().time, kGenStart);
    // Every kind of payment occurs (fraud patterns: at 3000 payments at least one each is likely,
    // not certain).
    uint64_t legit_kinds = 0;
    for (size_t k = 0; k < 4; ++k) legit_kinds += sum.by_kind[k] > 0;
    EXPECT_EQ(legit_kinds, 4u);
    uint64_t fraud_rows = 0;
    for (size_t k = 4; k < kPaymentKinds; ++k) fraud_rows += sum.by_kind[k];
    EXPECT_EQ(fraud_rows, 60u);
  }
}

// ---- the rules baseline ----------------------------------------------------------------------

TEST(RiskBaseline, AmountAndVelocityRules) {
  std::string csv = "time,from,to,amount\n";
  // a pays 2,000 (large); then 12 small payments a minute apart: the 4th
  // on sees >= 3 in the hour before; the 11th on >= 10 in the day.
  csv += "1000,a,b,2000\n";
  for (int i = 1; i <= 12; ++i) csv += std::to_string(100'000 + 60 * i) + ",a,b,1\n";
  csv += "200000,a,b,999.99\n";  // more than a day after the first: only the small ones count
  Stream s;
  std::string err;
  ASSERT_TRUE(parse_stream(csv, "b.csv", s, err)) << err;
  const std::vector<int64_t> b = rules_baseline(s);
  const std::vector<int64_t> want = {1, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 2, 2, 0};
  EXPECT_EQ(b, want);
}

// ---- the replay ------------------------------------------------------------------------------

// The first payment between new accounts, as tests/contracts/risk_scoring.writ
// computes it in the engine: new counterparty 1.0, thin history 1.0,
// log2(1,000 milli-units + 1) in Q16 (653,212 / 65,536, given in WAD), new
// account 1.0, new recipient account 1.0.
TEST(RiskReplay, FeaturesComeFromTheEmbeddedEngine) {
  std::string err;
  auto engine = RiskEngineReplay::create(err);
  ASSERT_TRUE(engine) << err;
  engine->set_time(1'700'000'000);
  const runtime::Address a = account_address("a"), b = account_address("b");
  const U256 one = dec("1000000000000000000");
  Features f;
  ASSERT_TRUE(engine->features(a, b, one, f, err)) << err;
  const std::vector<U256> want = {U256::zero(), U256::zero(), U256::zero(),
                                  one,          one,          U256::zero(),
                                  U256::zero(), U256::zero(), dec("9967224121093750000"),
                                  one,          one};
  EXPECT_EQ(std::vector<U256>(f.begin(), f.end()), want);
  uint64_t score = 1;
  std::vector<uint64_t> reasons;
  ASSERT_TRUE(engine->score(a, b, one, score, reasons, err)) << err;
  EXPECT_EQ(score, 0u);  // no model installed
  // The model of risk_scoring.writ: intercept -2, new counterparty 1.0,
  // thin history 0.5, new account 0.5: logit 0, score 499, reasons 30 40 41.
  Model m;
  m.version = 1;
  m.intercept = wad_of(-2);
  m.weights[3] = one;
  m.weights[4] = dec("500000000000000000");
  m.weights[9] = dec("500000000000000000");
  ASSERT_TRUE(engine->install_model(m, err)) << err;
  ASSERT_TRUE(engine->score(a, b, one, score, reasons, err)) << err;
  EXPECT_EQ(score, 499u);
  EXPECT_EQ(reasons, (std::vector<uint64_t>{30, 40, 41}));
  EXPECT_FALSE(engine->install_model(m, err));
  EXPECT_EQ(err, "install_model reverted: OldModelVersion(1, 1)");
  ASSERT_TRUE(engine->record(a, b, one, err)) << err;
  EXPECT_EQ(engine->record_gas().calls, 1u);
  // Two new accounts: four history words in account records, no slot: a's
  // sending word, a's account word (first seen), a's payee word (b added to
  // its filter) and b's account word.
  EXPECT_EQ(engine->record_sstores(), 0u);
  EXPECT_EQ(engine->record_slots_added(), 0u);
  EXPECT_EQ(engine->record_slots_changed(), 0u);
  EXPECT_EQ(engine->record_words_changed(), 4u);
  // Its next payment to b changes only a's sending word and b's account
  // word: b is in a's filter already.
  ASSERT_TRUE(engine->record(a, b, one, err)) << err;
  EXPECT_EQ(engine->record_sstores(), 0u);
  EXPECT_EQ(engine->record_words_changed(), 4u + 2u);
}

TEST(RiskReplay, StreamWithFeedbackAndWarmup) {
  // b is paid fraudulently at t = 100; with a delay of 50 the confirmation
  // lands before the payment at 150, so c -> b sees b's confirmed fraud.
  const char* csv =
      "time,from,to,amount,label\n"
      "100,a,b,5,1\n"
      "120,c,d,1,0\n"
      "150,c,b,1,0\n";
  Stream s;
  std::string err;
  ASSERT_TRUE(parse_stream(csv, "f.csv", s, err)) << err;
  ReplayOptions o;
  o.collect_features = true;
  o.feedback_delay = 50;
  ReplayOutput out;
  ASSERT_TRUE(replay(s, o, out, err)) << err;
  ASSERT_EQ(out.features.size(), 3u);
  EXPECT_EQ(out.confirmed, 1u);
  EXPECT_EQ(out.features[2][5], dec("1000000000000000000"));  // recipient's confirmed fraud
  o.feedback_delay = 0;                                       // never fed back
  ASSERT_TRUE(replay(s, o, out, err)) << err;
  EXPECT_EQ(out.confirmed, 0u);
  EXPECT_EQ(out.features[2][5], U256::zero());
  o.first = 2;  // the first two only build history
  ASSERT_TRUE(replay(s, o, out, err)) << err;
  ASSERT_EQ(out.features.size(), 1u);
  EXPECT_EQ(out.features[0][3], dec("1000000000000000000"));  // c never paid b
  EXPECT_EQ(out.record_gas.calls, 3u);
}

// Times near the end of u64: windows and delays never wrap around.
TEST(RiskReplay, TimesNearTheEndOfU64) {
  const char* csv =
      "time,from,to,amount,label\n"
      "18446744073709500000,a,b,5000,1\n"
      "18446744073709500100,a,c,1,0\n"
      "18446744073709551615,a,c,1,0\n";
  Stream s;
  std::string err;
  ASSERT_TRUE(parse_stream(csv, "t.csv", s, err)) << err;
  ReplayOutput out;
  ASSERT_TRUE(replay(s, ReplayOptions{}, out, err)) << err;  // a 7-day delay: never due
  EXPECT_EQ(out.confirmed, 0u);
  EXPECT_EQ(rules_baseline(s), (std::vector<int64_t>{1, 0, 0}));
}

TEST(RiskReplay, AFailingCallNamesTheLine) {
  // The largest amount overflows log2(amount + 1) in record.
  const std::string csv =
      "time,from,to,amount\n1,a,b,1\n2,a,b," + format_units(vm::bit_not(U256::zero())) + "\n";
  Stream s;
  std::string err;
  ASSERT_TRUE(parse_stream(csv, "o.csv", s, err)) << err;
  ReplayOutput out;
  EXPECT_FALSE(replay(s, ReplayOptions{}, out, err));
  EXPECT_EQ(err.rfind("o.csv:3: record trapped: Overflow", 0), 0u) << err;
}

}  // namespace
}  // namespace writ::cli::risk
