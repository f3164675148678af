// The risk engine's model off chain: fitting a logistic regression on the
// engine's own features, quantizing it to the WAD integers the engine
// takes, and the model.json file that carries it.
//
// Units: a Model's intercept and weights are WAD (10^18 = 1.0) in i256 two's
// complement, as install_model takes them; the engine refuses any of them
// beyond +-1,000.0 (kMaxWeight). Training works in doubles on features
// scaled from WAD to reals; only the quantized model reaches the chain, so
// scoring never sees a floating-point number.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "writ/contracts/system.hpp"
#include "writ/vm/u256.hpp"

namespace writ::cli::risk {

// contracts/risk/risk.writ: FEATURES and the order of `features`.
inline constexpr size_t kFeatureCount = contracts::kRiskFeatures;
extern const std::array<std::string_view, kFeatureCount> kFeatureNames;
inline constexpr double kMaxWeight = 1000.0;  // |intercept|, |weight| <= 1,000.0 (MAX_WEIGHT)
// Quantization keeps 9 decimals: a weight is a whole number of 10^-9, so its
// WAD is exact and reproducible from the double it came from.
inline constexpr double kQuantumPerUnit = 1e9;

using Features = std::array<vm::U256, kFeatureCount>;  // WAD, i256 (as the engine returns them)

struct Model {
  uint64_t version = 0;
  vm::U256 intercept{};                           // WAD, i256
  std::array<vm::U256, kFeatureCount> weights{};  // WAD, i256
};

// A WAD in i256 as a real number (features are at most 64.0, weights 1,000.0).
double wad_to_double(const vm::U256& wad);
// A real number as a WAD: clamped to +-kMaxWeight (`clamped` set when it
// was), then rounded to the nearest 10^-9 (ties away from zero).
vm::U256 quantize_wad(double x, bool& clamped);
// Signed decimal text of an i256 WAD, and back: "-2500000000000000000".
std::string wad_text(const vm::U256& wad);
// False with `why` set unless `text` is an optional '-' and decimal digits
// whose value is within +-kMaxWeight in WAD.
bool parse_weight(std::string_view text, vm::U256& out, std::string& why);

// Logistic regression, P(fraud | x) = sigmoid(b + w . x), fitted by Newton's
// method (iteratively reweighted least squares) on the mean log loss plus
// l2 / 2 * |w|^2 (the intercept is not penalized). With `balanced`, each
// class weighs half of the loss whatever its count. With `nonnegative`,
// every weight is at least 0 (projected Newton): more of any feature never
// lowers a score, so a sender cannot lower its score by doing more of
// anything the engine watches (paying more often, say).
struct FitOptions {
  double l2 = 1e-3;
  int max_iterations = 50;  // `--epochs`: Newton steps at most
  bool balanced = true;
  bool nonnegative = true;  // `--allow-negative` clears it
  // Features left out (`--without NAME`): their weights stay 0.
  std::array<bool, kFeatureCount> without{};
};
struct FitResult {
  double intercept = 0;
  std::array<double, kFeatureCount> weights{};
  int iterations = 0;
  double loss = 0;  // the objective at the end
  bool converged = false;
};
FitResult fit_logistic(const std::vector<std::array<double, kFeatureCount>>& x,
                       const std::vector<uint8_t>& y, const FitOptions& options);

// model.json:
//   {"version": 2, "intercept": "<i256 WAD>", "weights": [10 x "<i256 WAD>"],
//    "features": [names], "trained_on": {...}}
// `trained_on` is free-form JSON text (an object) written as given.
std::string model_json(const Model& m, const std::string& trained_on_json);
// Checks every field the chain needs before anything is sent: false with
// `err` naming the file and the field ("model.json: weights[3]: ...").
bool parse_model_json(std::string_view text, const std::string& name, Model& out, std::string& err);

}  // namespace writ::cli::risk
