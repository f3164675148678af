// writ risk: the off-chain tools around the on-chain risk engine
// (contracts/risk/risk.writ, docs/contracts/risk.md): synthetic payment
// streams, training a model on the engine's own features, evaluating it
// through the engine's own scoring, and installing it on a chain.
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <set>

#include "args.hpp"
#include "chain_client.hpp"
#include "commands.hpp"
#include "risk_baseline.hpp"
#include "risk_gen.hpp"
#include "risk_metrics.hpp"
#include "risk_model.hpp"
#include "risk_replay.hpp"
#include "risk_stream.hpp"
#include "writ/contracts/system.hpp"
#include "writ/runtime/node.hpp"
#include "writ/runtime/transaction.hpp"
#include "writ/vm/abi.hpp"

namespace writ::cli {

namespace rt = writ::runtime;
using json = nlohmann::json;
using vm::U256;
using namespace writ::cli::risk;

const char* kRiskHelp =
    "usage: writ risk gen -o DATA.csv [--seed N] [--payments N] [--days D]\n"
    "       writ risk train DATA.csv -o MODEL.json [--l2 X] [--epochs N] [--version N]\n"
    "                 [--feedback-delay T] [--warmup T] [--no-class-weight] [--allow-negative]\n"
    "                 [--without FEATURE[,FEATURE...]]\n"
    "       writ risk eval DATA.csv [--model MODEL.json] [--feedback-delay T] [--warmup T]\n"
    "                 [--svg ROC.svg] [--scores OUT.csv]\n"
    "       writ risk install MODEL.json (--key KEYFILE | --dev-key NAME) [--rpc HOST:PORT | "
    "--data DIR]\n"
    "Tools around the risk engine at 0x102 (docs/contracts/risk.md).\n"
    "  gen      writes a synthetic payment stream with labeled fraud (account takeover, mules,\n"
    "           card testing, odd amounts, split payments), the same bytes for the same seed\n"
    "           (default 1); default 20000 payments over 30 days\n"
    "  train    replays DATA.csv through the engine (no model), takes the engine's feature\n"
    "           vector of each payment, fits a logistic regression (Newton, L2 --l2, default\n"
    "           0.001; at most --epochs steps, default 50; classes weighed equally unless\n"
    "           --no-class-weight; every weight at least 0 unless --allow-negative) and\n"
    "           writes it quantized to WAD as MODEL.json (--version, default 2); --without\n"
    "           leaves the named features out (their weights 0)\n"
    "  eval     replays DATA.csv through the engine with the model installed (default: the\n"
    "           default genesis's), scoring each payment before recording it; prints recall\n"
    "           at 1% and 5% false-positive rate, ROC AUC and PR AUC of the model and of a\n"
    "           rules baseline; --svg writes the ROC curves, --scores each payment's score,\n"
    "           reason codes and baseline score\n"
    "  install  sends install_model(version, intercept, weights) to the engine, signed by\n"
    "           KEYFILE or a development key (--dev-key governance); --rpc (default\n"
    "           127.0.0.1:8545) or --data DIR [--init --genesis FILE]; --gas N, --wait S\n"
    "DATA.csv: a header time,from,to,amount[,label] (any order, other columns ignored), then\n"
    "one payment a line: time in seconds (in order), account identifiers, the amount in whole\n"
    "units (up to 18 decimals), label 1 fraud / 0 not (train and eval need it).\n"
    "--feedback-delay T (train, eval): a payment labeled fraud is confirmed on chain\n"
    "(confirm_fraud) T after it, like a chargeback: 7d (default), 12h, 30m, 90s, 0 for never.\n"
    "--warmup T (train, eval): the payments of the stream's first T only build history (the\n"
    "chain's past); training and the figures use the payments after it (default 0).\n"
    "Exit: 0 ok, 1 the install transaction reverted, 2 usage, 3 bad input (errors name the\n"
    "file and line) or an unreachable node.\n";

namespace {

// ---- arguments -------------------------------------------------------------------------

// "7d", "12h", "30m", "90s" or plain seconds; "0" for none.
bool parse_duration(const char* verb, const char* opt, const std::string& text, uint64_t& out) {
  static const std::map<char, uint64_t> kUnits = {{'d', 86'400}, {'h', 3'600}, {'m', 60}, {'s', 1}};
  std::string digits = text;
  uint64_t unit = 1;
  if (!digits.empty() && kUnits.count(digits.back())) {
    unit = kUnits.at(digits.back());
    digits.pop_back();
  }
  bool ok = !digits.empty() && digits.size() <= 9;
  for (char c : digits) ok = ok && c >= '0' && c <= '9';
  if (!ok) {
    std::fprintf(stderr, "writ risk %s: %s %s is not a duration (7d, 12h, 30m, 90s, 0)\n", verb,
                 opt, text.c_str());
    return false;
  }
  out = std::stoull(digits) * unit;
  return true;
}

std::string duration_text(uint64_t s) {
  if (s == 0) return "none";
  if (s % 86'400 == 0) return std::to_string(s / 86'400) + "d";
  if (s % 3'600 == 0) return std::to_string(s / 3'600) + "h";
  if (s % 60 == 0) return std::to_string(s / 60) + "m";
  return std::to_string(s) + "s";
}

bool write_text(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary | std::ios::trunc);
  f << text;
  f.close();
  return static_cast<bool>(f);
}

// Reads and parses a stream, and finds the first payment after the warm-up
// (`first`); prints the error and returns false.
bool load_stream(const char* verb, const std::string& path, bool need_labels, uint64_t warmup,
                 Stream& s, size_t& first) {
  std::vector<uint8_t> raw;
  std::string err;
  if (!read_file(path, raw, err) ||
      !parse_stream(std::string_view(reinterpret_cast<const char*>(raw.data()), raw.size()), path,
                    s, err)) {
    std::fprintf(stderr, "writ risk %s: %s\n", verb, err.c_str());
    return false;
  }
  if (s.payments.empty()) {
    std::fprintf(stderr, "writ risk %s: %s: no payments\n", verb, path.c_str());
    return false;
  }
  if (need_labels && s.unlabeled > 0) {
    for (const Payment& p : s.payments) {
      if (p.label >= 0) continue;
      std::fprintf(stderr, "writ risk %s: %s:%zu: no label (%s needs 0 or 1 on every payment)\n",
                   verb, path.c_str(), p.line, verb);
      return false;
    }
  }
  const uint64_t start = s.payments.front().time;
  first = 0;
  while (first < s.payments.size() && s.payments[first].time - start < warmup) ++first;
  size_t fraud = 0;
  for (size_t i = first; i < s.payments.size(); ++i) fraud += s.payments[i].label == 1 ? 1 : 0;
  const size_t n = s.payments.size() - first;
  if (need_labels && (fraud == 0 || fraud == n)) {
    std::fprintf(stderr, "writ risk %s: %s: %s%s; %s needs both classes\n", verb, path.c_str(),
                 n == 0       ? "no payment"
                 : fraud == 0 ? "no payment labeled 1"
                              : "no payment labeled 0",
                 warmup ? " after the warm-up" : "", verb);
    return false;
  }
  return true;
}

// The labels of the payments from `first` on.
std::vector<uint8_t> labels_of(const Stream& s, size_t first) {
  std::vector<uint8_t> y;
  for (size_t i = first; i < s.payments.size(); ++i) y.push_back(s.payments[i].label == 1 ? 1 : 0);
  return y;
}

// "data.csv: 20000 payments, 400 fraud (2.00%), 30.0 days", and the part
// after a warm-up: "; after the 14d warm-up: 11000 payments, 230 fraud (2.09%)".
std::string stream_line(const Stream& s, size_t first, uint64_t warmup) {
  auto counts = [](size_t payments, size_t fraud) {
    char b[96];
    std::snprintf(b, sizeof b, "%zu payments, %zu fraud (%.2f%%)", payments, fraud,
                  100.0 * static_cast<double>(fraud) / static_cast<double>(payments));
    return std::string(b);
  };
  char days[32];
  std::snprintf(days, sizeof days, "%.1f days",
                static_cast<double>(s.payments.back().time - s.payments.front().time) / 86'400.0);
  std::string line = s.name + ": " + counts(s.payments.size(), s.fraud) + ", " + days;
  if (warmup > 0) {
    size_t fraud = 0;
    for (size_t i = first; i < s.payments.size(); ++i) fraud += s.payments[i].label == 1 ? 1 : 0;
    line += "; after the " + duration_text(warmup) +
            " warm-up: " + counts(s.payments.size() - first, fraud);
  }
  return line;
}

// contracts::default_model(), in thousandths, as the default genesis installs it.
Model default_genesis_model() {
  const contracts::DefaultModel& d = contracts::default_model();
  auto wad_of_milli = [](int64_t v) {
    const U256 mag = vm::mul(U256::from_u64(static_cast<uint64_t>(v < 0 ? -v : v)),
                             U256::from_u64(1'000'000'000'000'000ull));
    return v < 0 ? vm::neg(mag) : mag;
  };
  Model m;
  m.version = d.version;
  m.intercept = wad_of_milli(d.intercept_milli);
  for (size_t i = 0; i < kFeatureCount; ++i) m.weights[i] = wad_of_milli(d.weights_milli[i]);
  return m;
}

bool load_model(const char* verb, const std::string& path, Model& m) {
  std::vector<uint8_t> raw;
  std::string err;
  if (!read_file(path, raw, err) ||
      !parse_model_json(std::string_view(reinterpret_cast<const char*>(raw.data()), raw.size()),
                        path, m, err)) {
    std::fprintf(stderr, "writ risk %s: %s\n", verb, err.c_str());
    return false;
  }
  return true;
}

// ---- gen -------------------------------------------------------------------------------

int risk_gen(const std::vector<std::string>& args) {
  Args a;
  if (!parse_args("risk gen", args, {"-o", "--seed", "--payments", "--days"}, {}, a))
    return kExitUsage;
  if (a.help) {
    std::fputs(kRiskHelp, stdout);
    return kExitOk;
  }
  if (!a.pos.empty() || !a.one("-o")) {
    std::fprintf(
        stderr,
        "writ risk gen: usage: writ risk gen -o DATA.csv [--seed N] [--payments N] [--days D]\n");
    return kExitUsage;
  }
  GenOptions o;
  if (a.one("--seed") &&
      !parse_count("risk gen", "--seed", *a.one("--seed"), 0, UINT64_MAX, o.seed))
    return kExitUsage;
  if (a.one("--payments") && !parse_count("risk gen", "--payments", *a.one("--payments"),
                                          kMinPayments, kMaxPayments, o.payments))
    return kExitUsage;
  if (a.one("--days") &&
      !parse_count("risk gen", "--days", *a.one("--days"), kMinDays, kMaxDays, o.days))
    return kExitUsage;
  GenSummary s;
  const std::string csv = generate_stream(o, &s);
  const std::string& out = *a.one("-o");
  if (!write_text(out, csv)) {
    std::fprintf(stderr, "writ risk gen: cannot write %s\n", out.c_str());
    return kExitInput;
  }
  std::printf("%s: %llu payments over %llu days (seed %llu), %llu accounts, %llu fraud (%.2f%%)\n",
              out.c_str(), static_cast<unsigned long long>(s.payments),
              static_cast<unsigned long long>(o.days), static_cast<unsigned long long>(o.seed),
              static_cast<unsigned long long>(s.accounts), static_cast<unsigned long long>(s.fraud),
              100.0 * static_cast<double>(s.fraud) / static_cast<double>(s.payments));
  std::string kinds;
  for (size_t k = 0; k < kPaymentKinds; ++k)
    kinds += (k ? ", " : "") + std::string(kind_name(static_cast<PaymentKind>(k))) + " " +
             std::to_string(s.by_kind[k]);
  std::printf("kinds: %s\n", kinds.c_str());
  return kExitOk;
}

// The engine's feature names, comma-separated.
std::string feature_list() {
  std::string out;
  for (std::string_view f : kFeatureNames) out += (out.empty() ? "" : ", ") + std::string(f);
  return out;
}

// ---- train -----------------------------------------------------------------------------

int risk_train(const std::vector<std::string>& args) {
  Args a;
  if (!parse_args(
          "risk train", args,
          {"-o", "--l2", "--epochs", "--version", "--feedback-delay", "--warmup", "--without"},
          {"--no-class-weight", "--allow-negative"}, a))
    return kExitUsage;
  if (a.help) {
    std::fputs(kRiskHelp, stdout);
    return kExitOk;
  }
  if (a.pos.size() != 1 || !a.one("-o")) {
    std::fprintf(
        stderr,
        "writ risk train: usage: writ risk train DATA.csv -o MODEL.json [--l2 X] [--epochs N]\n");
    return kExitUsage;
  }
  FitOptions fo;
  fo.balanced = !a.has("--no-class-weight");
  fo.nonnegative = !a.has("--allow-negative");
  std::string left_out;
  if (const std::string* v = a.one("--without")) {
    size_t start = 0;
    while (start <= v->size()) {
      const size_t end = std::min(v->find(',', start), v->size());
      const std::string name = v->substr(start, end - start);
      size_t j = 0;
      while (j < kFeatureCount && kFeatureNames[j] != name) ++j;
      if (j == kFeatureCount) {
        std::fprintf(stderr, "writ risk train: --without %s: no feature '%s' (features: %s)\n",
                     v->c_str(), name.c_str(), feature_list().c_str());
        return kExitUsage;
      }
      fo.without[j] = true;
      left_out += (left_out.empty() ? "" : ",") + name;
      start = end + 1;
    }
  }
  if (const std::string* v = a.one("--l2")) {
    char* end = nullptr;
    fo.l2 = std::strtod(v->c_str(), &end);
    if (v->empty() || *end != '\0' || !(fo.l2 >= 0) || !std::isfinite(fo.l2)) {
      std::fprintf(stderr, "writ risk train: --l2 %s is not a number >= 0\n", v->c_str());
      return kExitUsage;
    }
  }
  uint64_t epochs = static_cast<uint64_t>(fo.max_iterations), version = 2,
           delay = kDefaultFeedbackDelay;
  if (a.one("--epochs") &&
      !parse_count("risk train", "--epochs", *a.one("--epochs"), 1, 10'000, epochs))
    return kExitUsage;
  fo.max_iterations = static_cast<int>(epochs);
  if (a.one("--version") &&
      !parse_count("risk train", "--version", *a.one("--version"), 1, UINT64_MAX, version))
    return kExitUsage;
  if (a.one("--feedback-delay") &&
      !parse_duration("train", "--feedback-delay", *a.one("--feedback-delay"), delay))
    return kExitUsage;
  uint64_t warmup = 0;
  if (a.one("--warmup") && !parse_duration("train", "--warmup", *a.one("--warmup"), warmup))
    return kExitUsage;

  Stream s;
  size_t first = 0;
  if (!load_stream("train", a.pos[0], true, warmup, s, first)) return kExitInput;
  ReplayOptions ro;
  ro.collect_features = true;
  ro.first = first;
  ro.feedback_delay = delay;
  ReplayOutput r;
  std::string err;
  if (!replay(s, ro, r, err)) {
    std::fprintf(stderr, "writ risk train: %s\n", err.c_str());
    return kExitInput;
  }
  std::vector<std::array<double, kFeatureCount>> x;
  x.reserve(r.features.size());
  for (const Features& f : r.features) {
    std::array<double, kFeatureCount> row;
    for (size_t j = 0; j < kFeatureCount; ++j) row[j] = wad_to_double(f[j]);
    x.push_back(row);
  }
  const std::vector<uint8_t> y = labels_of(s, first);
  const FitResult fit = fit_logistic(x, y, fo);
  if (!std::isfinite(fit.intercept) || !std::isfinite(fit.loss)) {
    std::fprintf(stderr, "writ risk train: the fit diverged (try a larger --l2)\n");
    return kExitInput;
  }
  Model m;
  m.version = version;
  size_t clamped = 0;
  bool c = false;
  m.intercept = quantize_wad(fit.intercept, c);
  clamped += c;
  for (size_t j = 0; j < kFeatureCount; ++j) {
    m.weights[j] = quantize_wad(fit.weights[j], c);
    clamped += c;
  }
  // The quantized model's ranking of the training stream, as the chain
  // would score it before the sigmoid (the logit to 10^-6): an in-sample check.
  std::vector<int64_t> logits;
  logits.reserve(x.size());
  for (const auto& row : x) {
    double z = wad_to_double(m.intercept);
    for (size_t j = 0; j < kFeatureCount; ++j) z += wad_to_double(m.weights[j]) * row[j];
    logits.push_back(std::llround(z * 1e6));
  }
  const Metrics in_sample = evaluate_scores(logits, y);

  json trained;
  trained["file"] = s.name;
  trained["payments"] = y.size();
  trained["fraud"] = std::count(y.begin(), y.end(), uint8_t{1});
  trained["warmup_seconds"] = warmup;
  trained["feedback_delay_seconds"] = delay;
  trained["method"] = "logistic regression, Newton";
  trained["l2"] = fo.l2;
  trained["class_weight"] = fo.balanced ? "balanced" : "none";
  trained["weights"] = fo.nonnegative ? "nonnegative" : "any sign";
  if (!left_out.empty()) trained["without"] = left_out;
  trained["iterations"] = fit.iterations;
  trained["converged"] = fit.converged;
  trained["confirmed_fraud_fed_back"] = r.confirmed;
  const std::string& out = *a.one("-o");
  if (!write_text(out, model_json(m, trained.dump()))) {
    std::fprintf(stderr, "writ risk train: cannot write %s\n", out.c_str());
    return kExitInput;
  }
  std::printf("stream: %s\n", stream_line(s, first, warmup).c_str());
  std::printf("feedback: %s (%zu confirmations)\n",
              delay ? ("confirmed fraud after " + duration_text(delay)).c_str() : "none",
              r.confirmed);
  std::printf("gas: features mean %.0f (max %llu), record mean %.0f (max %llu)\n",
              r.features_gas.mean(), static_cast<unsigned long long>(r.features_gas.max),
              r.record_gas.mean(), static_cast<unsigned long long>(r.record_gas.max));
  std::printf("fit: %d Newton steps%s, loss %.6f, l2 %g, classes %s, weights %s\n", fit.iterations,
              fit.converged ? " (converged)" : " (not converged: raise --epochs)", fit.loss, fo.l2,
              fo.balanced ? "balanced" : "unweighted",
              fo.nonnegative ? "at least 0" : "of any sign");
  std::printf("%-24s %12s\n", "feature", "weight");
  std::printf("%-24s %12.6f\n", "(intercept)", wad_to_double(m.intercept));
  for (size_t j = 0; j < kFeatureCount; ++j)
    std::printf("%-24s %12.6f\n", std::string(kFeatureNames[j]).c_str(),
                wad_to_double(m.weights[j]));
  std::printf("in-sample ROC AUC %.4f, PR AUC %.4f (the quantized model's logit)\n",
              in_sample.roc_auc, in_sample.pr_auc);
  if (clamped)
    std::printf("warning: %zu parameters beyond +-1000 were clamped to the engine's bound\n",
                clamped);
  std::printf("wrote %s: model version %llu\n", out.c_str(),
              static_cast<unsigned long long>(version));
  return kExitOk;
}

// ---- eval ------------------------------------------------------------------------------

void print_metrics_row(const char* name, const Metrics& m) {
  std::printf("%-24s %13.4f %13.4f %8.4f %8.4f\n", name, m.recall_at(0.01), m.recall_at(0.05),
              m.roc_auc, m.pr_auc);
}

// "flags 1.23% of legitimate payments, recall 0.6543" for the threshold `at`.
std::string operating_point(const std::vector<uint64_t>& scores, const std::vector<uint8_t>& y,
                            uint64_t at) {
  uint64_t fp = 0, tp = 0, neg = 0, pos = 0;
  for (size_t i = 0; i < scores.size(); ++i) {
    (y[i] ? pos : neg) += 1;
    if (scores[i] >= at) (y[i] ? tp : fp) += 1;
  }
  char b[160];
  std::snprintf(b, sizeof b, "flags %.2f%% of legitimate payments, recall %.4f",
                100.0 * static_cast<double>(fp) / static_cast<double>(neg),
                static_cast<double>(tp) / static_cast<double>(pos));
  return b;
}

int risk_eval(const std::vector<std::string>& args) {
  Args a;
  if (!parse_args("risk eval", args,
                  {"--model", "--feedback-delay", "--warmup", "--svg", "--scores"}, {}, a))
    return kExitUsage;
  if (a.help) {
    std::fputs(kRiskHelp, stdout);
    return kExitOk;
  }
  if (a.pos.size() != 1) {
    std::fprintf(
        stderr,
        "writ risk eval: usage: writ risk eval DATA.csv [--model MODEL.json] [--feedback-delay T] "
        "[--svg ROC.svg]\n");
    return kExitUsage;
  }
  uint64_t delay = kDefaultFeedbackDelay;
  if (a.one("--feedback-delay") &&
      !parse_duration("eval", "--feedback-delay", *a.one("--feedback-delay"), delay))
    return kExitUsage;
  uint64_t warmup = 0;
  if (a.one("--warmup") && !parse_duration("eval", "--warmup", *a.one("--warmup"), warmup))
    return kExitUsage;
  Model m = default_genesis_model();
  std::string model_name = "the default genesis's";
  if (const std::string* path = a.one("--model")) {
    if (!load_model("eval", *path, m)) return kExitInput;
    model_name = *path;
  }
  Stream s;
  size_t first = 0;
  if (!load_stream("eval", a.pos[0], true, warmup, s, first)) return kExitInput;
  ReplayOptions ro;
  ro.model = &m;
  ro.first = first;
  ro.feedback_delay = delay;
  ro.collect_scores = true;
  ro.collect_reasons = a.one("--scores") != nullptr;
  ReplayOutput r;
  std::string err;
  if (!replay(s, ro, r, err)) {
    std::fprintf(stderr, "writ risk eval: %s\n", err.c_str());
    return kExitInput;
  }
  const std::vector<uint8_t> y = labels_of(s, first);
  const std::vector<int64_t> model_scores(r.scores.begin(), r.scores.end());
  const Metrics model = evaluate_scores(model_scores, y);
  // The baseline sees the whole stream (its velocity windows reach into the
  // warm-up) and is judged on the same payments as the model.
  std::vector<int64_t> baseline = rules_baseline(s);
  baseline.erase(baseline.begin(), baseline.begin() + static_cast<std::ptrdiff_t>(first));
  const Metrics rules = evaluate_scores(baseline, y);
  std::set<std::string> accounts;
  for (const Payment& p : s.payments) {
    accounts.insert(p.from);
    accounts.insert(p.to);
  }

  std::printf("stream: %s\n", stream_line(s, first, warmup).c_str());
  std::printf("model: %s, version %llu\n", model_name.c_str(),
              static_cast<unsigned long long>(m.version));
  if (delay)
    std::printf("feedback: confirmed fraud after %s (%zu confirmations)\n",
                duration_text(delay).c_str(), r.confirmed);
  else
    std::printf("feedback: none\n");
  std::printf("%-24s %13s %13s %8s %8s\n", "", "recall@1%FPR", "recall@5%FPR", "ROC AUC", "PR AUC");
  print_metrics_row("model (on-chain score)", model);
  print_metrics_row("rules baseline", rules);
  std::printf("hold (score >= %llu): %s\n", static_cast<unsigned long long>(kHoldScore),
              operating_point(r.scores, y, kHoldScore).c_str());
  std::printf("refuse (score >= %llu): %s\n", static_cast<unsigned long long>(kRefuseScore),
              operating_point(r.scores, y, kRefuseScore).c_str());
  std::printf("gas: score mean %.0f (max %llu), record mean %.0f (max %llu)\n", r.score_gas.mean(),
              static_cast<unsigned long long>(r.score_gas.max), r.record_gas.mean(),
              static_cast<unsigned long long>(r.record_gas.max));
  const double n = static_cast<double>(s.payments.size());
  std::printf(
      "storage: record changes %.2f history words in account records and writes %.2f slots per "
      "payment, changes %.2f (%.2f new); the engine holds %zu slots for %zu accounts\n",
      static_cast<double>(r.record_words_changed) / n, static_cast<double>(r.record_sstores) / n,
      static_cast<double>(r.record_slots_changed) / n,
      static_cast<double>(r.record_slots_added) / n, r.storage_slots, accounts.size());
  if (const std::string* path = a.one("--scores")) {
    std::string csv = "line,time,from,to,label,score,reasons,baseline\n";
    for (size_t i = 0; i < r.scores.size(); ++i) {
      const Payment& p = s.payments[first + i];
      std::string reasons;
      for (uint64_t code : r.reasons[i])
        reasons += (reasons.empty() ? "" : " ") + std::to_string(code);
      csv += std::to_string(p.line) + "," + std::to_string(p.time) + "," + p.from + "," + p.to +
             "," + std::to_string(p.label) + "," + std::to_string(r.scores[i]) + "," + reasons +
             "," + std::to_string(baseline[i]) + "\n";
    }
    if (!write_text(*path, csv)) {
      std::fprintf(stderr, "writ risk eval: cannot write %s\n", path->c_str());
      return kExitInput;
    }
    std::printf("scores: %s\n", path->c_str());
  }
  if (const std::string* svg = a.one("--svg")) {
    const std::vector<SvgCurve> curves = {{"model (on-chain score)", "#d62728", &model},
                                          {"rules baseline", "#1f77b4", &rules}};
    const std::string title = "ROC: " + s.name + ", feedback " + duration_text(delay);
    if (!write_text(*svg, roc_svg(curves, title))) {
      std::fprintf(stderr, "writ risk eval: cannot write %s\n", svg->c_str());
      return kExitInput;
    }
    std::printf("svg: %s\n", svg->c_str());
  }
  return kExitOk;
}

// ---- install ---------------------------------------------------------------------------

int risk_install(const std::vector<std::string>& args) {
  Args a;
  if (!parse_args("risk install", args,
                  {"--key", "--dev-key", "--rpc", "--data", "--genesis", "--gas", "--wait"},
                  {"--init"}, a))
    return kExitUsage;
  if (a.help) {
    std::fputs(kRiskHelp, stdout);
    return kExitOk;
  }
  if (a.pos.size() != 1 || (!a.one("--key") == !a.one("--dev-key"))) {
    std::fprintf(
        stderr,
        "writ risk install: usage: writ risk install MODEL.json (--key KEYFILE | --dev-key NAME) "
        "[--rpc HOST:PORT | --data DIR]\n");
    return kExitUsage;
  }
  const ChainAccess access = {a.one("--rpc"), a.one("--data"), a.one("--genesis"), a.has("--init")};
  if (int rc = check_chain_access("risk install", access)) return rc;
  if (a.has("--init") && !a.one("--genesis")) {
    std::fprintf(stderr, "writ risk install: --init needs --genesis FILE\n");
    return kExitUsage;
  }
  uint64_t gas = 0, wait_s = 30;
  if (a.one("--gas") &&
      !parse_count("risk install", "--gas", *a.one("--gas"), 1, rt::kBlockGasLimit, gas))
    return kExitUsage;
  if (a.one("--wait") &&
      !parse_count("risk install", "--wait", *a.one("--wait"), 0, 86'400, wait_s))
    return kExitUsage;

  // Everything is checked before anything is sent.
  Model m;
  if (!load_model("install", a.pos[0], m)) return kExitInput;
  rt::Keypair key;
  if (int rc = signing_key("risk install", a.one("--key"), a.one("--dev-key"), key)) return rc;
  const contracts::SystemContract* engine = contracts::find_system_contract("RiskEngine");
  auto module = engine ? vm::decode_module(engine->module)
                       : vm::Result<vm::Module>(vm::Error{0, 0, 0, "none"});
  const vm::Export* install = module.ok() ? module->find_export("install_model") : nullptr;
  const vm::Export* model_view = module.ok() ? module->find_export("model") : nullptr;
  if (!install || !model_view) {
    std::fprintf(stderr, "writ risk install: this build embeds no RiskEngine with install_model\n");
    return kExitInput;
  }

  std::unique_ptr<ChainClient> rpc;
  if (int rc = open_chain_client("risk install", access, rpc)) return rc;

  std::vector<uint8_t> weights;
  for (const U256& w : m.weights) {
    uint8_t be[32];
    vm::to_be_bytes(w, be);
    weights.insert(weights.end(), be, be + 32);
  }
  const std::vector<vm::Value> call_args = {vm::Value::u64(m.version), vm::Value::u256(m.intercept),
                                            vm::Value::buf(std::move(weights))};
  rt::Transaction tx;
  tx.kind = rt::Transaction::Kind::Call;
  tx.to = engine->address;
  tx.data = vm::call_input(install->selector, call_args);
  // install_model writes a dozen slots and hashes eleven words: well within
  // the intrinsic cost plus 2,000,000 that submit gives a call by default.
  TxOptions o;
  if (gas) o.gas = gas;
  o.wait_s = static_cast<double>(wait_s);
  json receipt;
  if (int rc = submit("risk install", *rpc, key, tx, o, receipt)) return rc;
  if (receipt.is_null()) return kExitOk;
  const std::string status = receipt.value("status", std::string("?"));
  std::printf("status: %s\n", status.c_str());
  if (receipt.contains("gas_used"))
    std::printf("gas used: %s\n", receipt["gas_used"].dump().c_str());
  if (status != "Ok") {
    auto out = rt::from_hex(receipt.value("output", std::string("0x")));
    const std::string why = out ? describe_revert(*module, *out) : "";
    if (!why.empty()) std::printf("revert: %s\n", why.c_str());
    std::fprintf(stderr, "writ risk install: install_model %s%s%s\n", status.c_str(),
                 why.empty() ? "" : ": ", why.c_str());
    return kExitTrap;
  }
  // What the chain now holds: model() -> (version, hash, intercept, weight count).
  const json call = {{"to", "0x" + engine->address.hex()},
                     {"data", rt::to_hex(vm::call_input(model_view->selector, {}))}};
  json r;
  std::string err;
  if (rpc->call("writ_call", json::array({call}), r, err) && r.value("status", "") == "Ok") {
    auto out = rt::from_hex(r.value("output", std::string("0x")));
    const vm::ValType types[] = {vm::ValType::U64, vm::ValType::U256, vm::ValType::U256,
                                 vm::ValType::U64};
    auto dec = out ? vm::abi_decode(types, *out) : vm::Result<std::vector<vm::Value>>(vm::Error{});
    if (dec.ok())
      std::printf("model: version %llu, hash %s, intercept %s, %llu weights\n",
                  static_cast<unsigned long long>((*dec)[0].word.low64()),
                  rt::word_hex((*dec)[1].word).c_str(), wad_text((*dec)[2].word).c_str(),
                  static_cast<unsigned long long>((*dec)[3].word.low64()));
  }
  return kExitOk;
}

}  // namespace

int cmd_risk(const std::vector<std::string>& args) {
  if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
    std::fputs(kRiskHelp, args.empty() ? stderr : stdout);
    return args.empty() ? kExitUsage : kExitOk;
  }
  const std::vector<std::string> rest(args.begin() + 1, args.end());
  if (args[0] == "gen") return risk_gen(rest);
  if (args[0] == "train") return risk_train(rest);
  if (args[0] == "eval") return risk_eval(rest);
  if (args[0] == "install") return risk_install(rest);
  std::fprintf(stderr, "writ risk: unknown subcommand '%s'\n%s", args[0].c_str(), kRiskHelp);
  return kExitUsage;
}

}  // namespace writ::cli
