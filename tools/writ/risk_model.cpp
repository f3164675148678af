#include "risk_model.hpp"

#include <nlohmann/json.hpp>

#include <cmath>

namespace writ::cli::risk {

using vm::U256;

const std::array<std::string_view, kFeatureCount> kFeatureNames = {
    "velocity_hour", "velocity_day",    "amount_vs_habit",      "new_counterparty",
    "thin_history",  "recipient_fraud", "recipient_fan_in",     "new_counterparties_hour",
    "amount_size",   "new_account",     "new_recipient_account"};

namespace {

const U256 kWad = U256::from_u64(1'000'000'000'000'000'000ull);
// 1,000.0 in WAD: MAX_WEIGHT of the engine.
const U256 kMaxWeightWad = vm::mul(U256::from_u64(1000), kWad);

bool is_negative(const U256& x) {
  return (x.limb[3] >> 63) != 0;
}

}  // namespace

double wad_to_double(const U256& wad) {
  const bool neg = is_negative(wad);
  const U256 mag = neg ? vm::neg(wad) : wad;
  double v = 0;
  for (int i = 3; i >= 0; --i) v = v * 18446744073709551616.0 + static_cast<double>(mag.limb[i]);
  v /= 1e18;
  return neg ? -v : v;
}

U256 quantize_wad(double x, bool& clamped) {
  clamped = false;
  if (std::isnan(x)) {
    clamped = true;
    return U256::zero();
  }
  if (x > kMaxWeight || x < -kMaxWeight) {
    clamped = true;
    x = x > 0 ? kMaxWeight : -kMaxWeight;
  }
  // |x| * 10^9 <= 10^12: exact in an int64, then times 10^9 to a WAD.
  const long long q = std::llround(x * kQuantumPerUnit);
  const U256 mag = vm::mul(U256::from_u64(static_cast<uint64_t>(q < 0 ? -q : q)),
                           U256::from_u64(1'000'000'000ull));
  return q < 0 ? vm::neg(mag) : mag;
}

std::string wad_text(const U256& wad) {
  return vm::to_signed_dec_string(wad);
}

bool parse_weight(std::string_view text, U256& out, std::string& why) {
  const bool neg = !text.empty() && text[0] == '-';
  const std::string_view digits = neg ? text.substr(1) : text;
  bool ok = !digits.empty() && digits.size() <= 78;
  for (char c : digits) ok = ok && c >= '0' && c <= '9';
  std::optional<U256> mag = ok ? vm::parse_u256(digits) : std::nullopt;
  if (!mag) {
    why = "'" + std::string(text.substr(0, 80)) + "' is not a decimal integer (a WAD: 10^18 = 1.0)";
    return false;
  }
  if (vm::gt(*mag, kMaxWeightWad)) {
    why = std::string(text.substr(0, 80)) +
          " is out of range (at most 1000.0 either way: " + vm::to_dec_string(kMaxWeightWad) +
          " in WAD)";
    return false;
  }
  out = neg ? vm::neg(*mag) : *mag;
  return true;
}

// ---- fitting ------------------------------------------------------------------------------

namespace {

constexpr size_t kParams = kFeatureCount + 1;  // intercept, then one weight per feature
using Vec = std::array<double, kParams>;
using Mat = std::array<Vec, kParams>;

double sigmoid(double z) {
  if (z >= 0) return 1.0 / (1.0 + std::exp(-z));
  const double e = std::exp(z);
  return e / (1.0 + e);
}

// -log P(y | z), without overflow for large |z|.
double log_loss(double z, uint8_t y) {
  const double softplus = std::max(z, 0.0) + std::log1p(std::exp(-std::fabs(z)));
  return softplus - (y ? z : 0.0);
}

double logit_of(const Vec& theta, const std::array<double, kFeatureCount>& x) {
  double z = theta[0];
  for (size_t j = 0; j < kFeatureCount; ++j) z += theta[j + 1] * x[j];
  return z;
}

// Solves A d = b for symmetric positive definite A (Cholesky). False if A
// is not positive definite.
bool solve_spd(Mat a, Vec b, Vec& d) {
  for (size_t j = 0; j < kParams; ++j) {
    double s = a[j][j];
    for (size_t k = 0; k < j; ++k) s -= a[j][k] * a[j][k];
    if (!(s > 0)) return false;
    a[j][j] = std::sqrt(s);
    for (size_t i = j + 1; i < kParams; ++i) {
      double t = a[i][j];
      for (size_t k = 0; k < j; ++k) t -= a[i][k] * a[j][k];
      a[i][j] = t / a[j][j];
    }
  }
  for (size_t i = 0; i < kParams; ++i) {  // L y = b
    for (size_t k = 0; k < i; ++k) b[i] -= a[i][k] * b[k];
    b[i] /= a[i][i];
  }
  for (size_t i = kParams; i-- > 0;) {  // L^T d = y
    for (size_t k = i + 1; k < kParams; ++k) b[i] -= a[k][i] * b[k];
    b[i] /= a[i][i];
  }
  d = b;
  return true;
}

}  // namespace

FitResult fit_logistic(const std::vector<std::array<double, kFeatureCount>>& x,
                       const std::vector<uint8_t>& y, const FitOptions& options) {
  const size_t n = x.size();
  FitResult out;
  if (n == 0) return out;
  size_t positives = 0;
  for (uint8_t v : y) positives += v ? 1 : 0;
  // Class weights, normalized to a mean of 1 over the examples.
  double w_pos = 1, w_neg = 1;
  if (options.balanced && positives > 0 && positives < n) {
    w_pos = static_cast<double>(n) / (2.0 * static_cast<double>(positives));
    w_neg = static_cast<double>(n) / (2.0 * static_cast<double>(n - positives));
  }
  // A tiny ridge keeps the Hessian invertible when l2 is 0 and a feature
  // never varies (the recipient's confirmed fraud without feedback).
  const double ridge = std::max(options.l2, 1e-9);
  auto objective = [&](const Vec& theta) {
    double loss = 0;
    for (size_t i = 0; i < n; ++i)
      loss += (y[i] ? w_pos : w_neg) * log_loss(logit_of(theta, x[i]), y[i]);
    loss /= static_cast<double>(n);
    for (size_t j = 1; j < kParams; ++j) loss += 0.5 * options.l2 * theta[j] * theta[j];
    return loss;
  };
  Vec theta{};
  double loss = objective(theta);
  for (int it = 0; it < options.max_iterations; ++it) {
    Vec grad{};
    Mat hess{};
    for (size_t i = 0; i < n; ++i) {
      const double c = y[i] ? w_pos : w_neg;
      const double p = sigmoid(logit_of(theta, x[i]));
      const double r = c * (p - (y[i] ? 1.0 : 0.0));
      const double h = c * p * (1 - p);
      std::array<double, kParams> xi;
      xi[0] = 1;
      for (size_t j = 0; j < kFeatureCount; ++j) xi[j + 1] = x[i][j];
      for (size_t a = 0; a < kParams; ++a) {
        grad[a] += r * xi[a];
        for (size_t b = 0; b <= a; ++b) hess[a][b] += h * xi[a] * xi[b];
      }
    }
    for (size_t a = 0; a < kParams; ++a) {
      grad[a] /= static_cast<double>(n);
      for (size_t b = 0; b <= a; ++b) {
        hess[a][b] /= static_cast<double>(n);
        hess[b][a] = hess[a][b];
      }
    }
    for (size_t j = 1; j < kParams; ++j) {
      grad[j] += options.l2 * theta[j];
      hess[j][j] += ridge;
    }
    hess[0][0] += 1e-12;
    // Under the sign constraint a weight at zero whose gradient would push
    // it below stays there this step: its row and column become the
    // identity's and its step 0 (projected Newton, Bertsekas 1982). A
    // feature left out stays at 0 the same way.
    for (size_t j = 1; j < kParams; ++j)
      if (options.without[j - 1] || (options.nonnegative && theta[j] <= 0 && grad[j] >= 0)) {
        for (size_t k = 0; k < kParams; ++k) hess[j][k] = hess[k][j] = 0;
        hess[j][j] = 1;
        grad[j] = 0;
      }
    Vec step;
    if (!solve_spd(hess, grad, step)) break;
    // Newton's step, halved until the objective does not grow.
    double scale = 1;
    Vec next{};
    double next_loss = loss;
    for (int k = 0; k < 40; ++k, scale /= 2) {
      for (size_t a = 0; a < kParams; ++a) next[a] = theta[a] - scale * step[a];
      for (size_t j = 1; j < kParams; ++j) {
        if (options.nonnegative) next[j] = std::max(next[j], 0.0);
        if (options.without[j - 1]) next[j] = 0;
      }
      next_loss = objective(next);
      if (next_loss <= loss) break;
    }
    if (next_loss > loss) break;
    double largest = 0;
    for (size_t a = 0; a < kParams; ++a) largest = std::max(largest, std::fabs(next[a] - theta[a]));
    theta = next;
    const double gain = loss - next_loss;
    loss = next_loss;
    out.iterations = it + 1;
    if (largest < 1e-9 || gain < 1e-13) {
      out.converged = true;
      break;
    }
  }
  out.intercept = theta[0];
  for (size_t j = 0; j < kFeatureCount; ++j) out.weights[j] = theta[j + 1];
  out.loss = loss;
  return out;
}

// ---- model.json ---------------------------------------------------------------------------

std::string model_json(const Model& m, const std::string& trained_on_json) {
  nlohmann::ordered_json j;
  j["version"] = m.version;
  j["intercept"] = wad_text(m.intercept);
  j["weights"] = nlohmann::ordered_json::array();
  for (const U256& w : m.weights) j["weights"].push_back(wad_text(w));
  j["features"] = nlohmann::ordered_json::array();
  for (std::string_view f : kFeatureNames) j["features"].push_back(f);
  j["trained_on"] = nlohmann::ordered_json::parse(trained_on_json.empty() ? "{}" : trained_on_json);
  return j.dump(2) + "\n";
}

bool parse_model_json(std::string_view text, const std::string& name, Model& out,
                      std::string& err) {
  auto fail = [&](const std::string& why) {
    err = name + ": " + why;
    return false;
  };
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    std::string what = e.what();
    if (size_t p = what.find("parse error"); p != std::string::npos) what = what.substr(p);
    return fail("not JSON: " + what);
  }
  if (!j.is_object())
    return fail("not a JSON object (wanted {\"version\", \"intercept\", \"weights\", ...})");
  for (const char* field : {"version", "intercept", "weights"})
    if (!j.contains(field)) return fail(std::string("missing field \"") + field + "\"");
  const nlohmann::json& v = j["version"];
  if (!v.is_number_unsigned() || v.get<uint64_t>() == 0)
    return fail(
        "version: must be a whole number from 1 to 2^64-1 (above the chain's current model "
        "version)");
  Model m;
  m.version = v.get<uint64_t>();
  std::string why;
  if (!j["intercept"].is_string()) return fail("intercept: must be a string, a decimal i256 WAD");
  if (!parse_weight(j["intercept"].get<std::string>(), m.intercept, why))
    return fail("intercept: " + why);
  const nlohmann::json& w = j["weights"];
  if (!w.is_array())
    return fail("weights: must be an array of " + std::to_string(kFeatureCount) +
                " decimal strings");
  if (w.size() != kFeatureCount)
    return fail("weights: " + std::to_string(w.size()) + " values, the engine takes " +
                std::to_string(kFeatureCount) + " (one per feature)");
  for (size_t i = 0; i < kFeatureCount; ++i) {
    const std::string at = "weights[" + std::to_string(i) + "]: ";
    if (!w[i].is_string()) return fail(at + "must be a string, a decimal i256 WAD");
    if (!parse_weight(w[i].get<std::string>(), m.weights[i], why)) return fail(at + why);
  }
  if (j.contains("features")) {  // optional; when given, the engine's order
    const nlohmann::json& f = j["features"];
    if (!f.is_array() || f.size() != kFeatureCount)
      return fail("features: must list the engine's " + std::to_string(kFeatureCount) +
                  " features in order");
    for (size_t i = 0; i < kFeatureCount; ++i)
      if (!f[i].is_string() || f[i].get<std::string>() != kFeatureNames[i])
        return fail("features[" + std::to_string(i) + "]: " + f[i].dump() +
                    " is not the engine's feature " + std::to_string(i) + " \"" +
                    std::string(kFeatureNames[i]) + "\"");
  }
  out = m;
  return true;
}

}  // namespace writ::cli::risk
