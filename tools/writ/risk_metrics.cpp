#include "risk_metrics.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <numeric>

namespace writ::cli::risk {

double Metrics::recall_at(double max_fpr) const {
  if (positives == 0 || negatives == 0) return std::numeric_limits<double>::quiet_NaN();
  double best = 0;
  for (const RocPoint& p : roc)
    if (p.fpr <= max_fpr + 1e-12) best = std::max(best, p.tpr);
  return best;
}

Metrics evaluate_scores(std::span<const int64_t> scores, std::span<const uint8_t> labels) {
  Metrics m;
  for (uint8_t y : labels) (y ? m.positives : m.negatives) += 1;
  if (m.positives == 0 || m.negatives == 0) {
    m.roc_auc = m.pr_auc = std::numeric_limits<double>::quiet_NaN();
    return m;
  }
  std::vector<size_t> order(scores.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return scores[a] > scores[b]; });
  const double P = static_cast<double>(m.positives), N = static_cast<double>(m.negatives);
  uint64_t tp = 0, fp = 0;
  double auc = 0, ap = 0;
  m.roc.push_back({0, 0});
  for (size_t i = 0; i < order.size();) {
    // One group of equal scores: one threshold.
    uint64_t gtp = 0, gfp = 0;
    size_t j = i;
    for (; j < order.size() && scores[order[j]] == scores[order[i]]; ++j)
      (labels[order[j]] ? gtp : gfp) += 1;
    // Trapezoid: the group's negatives times the positives ranked above them
    // plus half of the group's positives (the ties).
    auto dgfp = static_cast<double>(gfp);
    auto dtp = static_cast<double>(tp), dgtp = static_cast<double>(gtp);
    auc += dgfp * (dtp + dgtp / 2);
    tp += gtp;
    fp += gfp;
    if (gtp > 0) ap += (dgtp / P) * (static_cast<double>(tp) / static_cast<double>(tp + fp));
    m.roc.push_back({static_cast<double>(fp) / N, static_cast<double>(tp) / P});
    i = j;
  }
  m.roc_auc = auc / (P * N);
  m.pr_auc = ap;
  return m;
}

std::string roc_svg(const std::vector<SvgCurve>& curves, const std::string& title) {
  // Plot area: 400 x 400 at (60, 40); the unit square maps onto it.
  constexpr double kLeft = 60, kTop = 40, kSize = 400;
  auto X = [&](double fpr) { return kLeft + fpr * kSize; };
  auto Y = [&](double tpr) { return kTop + (1 - tpr) * kSize; };
  auto num = [](double v) {
    char b[32];
    std::snprintf(b, sizeof b, "%.1f", v);
    return std::string(b);
  };
  auto escape = [](const std::string& s) {
    std::string o;
    for (char c : s) {
      if (c == '<')
        o += "&lt;";
      else if (c == '>')
        o += "&gt;";
      else if (c == '&')
        o += "&amp;";
      else
        o += c;
    }
    return o;
  };
  std::string s =
      "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"500\" height=\"500\" viewBox=\"0 0 500 "
      "500\" "
      "font-family=\"sans-serif\" font-size=\"12\">\n"
      "<rect width=\"500\" height=\"500\" fill=\"white\"/>\n";
  s += "<text x=\"260\" y=\"24\" text-anchor=\"middle\" font-size=\"14\">" + escape(title) +
       "</text>\n";
  s += "<rect x=\"60\" y=\"40\" width=\"400\" height=\"400\" fill=\"none\" stroke=\"black\"/>\n";
  for (int k = 1; k < 10; ++k) {  // grid at tenths
    const double v = k / 10.0;
    s += "<line x1=\"" + num(X(v)) + "\" y1=\"40\" x2=\"" + num(X(v)) +
         "\" y2=\"440\" stroke=\"#e0e0e0\"/>\n";
    s += "<line x1=\"60\" y1=\"" + num(Y(v)) + "\" x2=\"460\" y2=\"" + num(Y(v)) +
         "\" stroke=\"#e0e0e0\"/>\n";
  }
  for (int k = 0; k <= 10; k += 2) {
    const double v = k / 10.0;
    s += "<text x=\"" + num(X(v)) + "\" y=\"456\" text-anchor=\"middle\">" + num(v) + "</text>\n";
    s += "<text x=\"52\" y=\"" + num(Y(v) + 4) + "\" text-anchor=\"end\">" + num(v) + "</text>\n";
  }
  s += "<text x=\"260\" y=\"476\" text-anchor=\"middle\">false-positive rate</text>\n";
  s += "<text x=\"18\" y=\"240\" text-anchor=\"middle\" transform=\"rotate(-90 18 240)\">recall "
       "(true-positive "
       "rate)</text>\n";
  s += "<line x1=\"60\" y1=\"440\" x2=\"460\" y2=\"40\" stroke=\"#999\" stroke-dasharray=\"4 "
       "4\"/>\n";
  double legend_y = 420;
  for (const SvgCurve& c : curves) {
    std::string pts;
    // Consecutive points closer than a tenth of a pixel add nothing to the picture.
    double lx = -1, ly = -1;
    const auto& roc = c.metrics->roc;
    for (size_t i = 0; i < roc.size(); ++i) {
      const double x = X(roc[i].fpr), y = Y(roc[i].tpr);
      if (i + 1 < roc.size() && i > 0 && std::fabs(x - lx) < 0.1 && std::fabs(y - ly) < 0.1)
        continue;
      pts += (pts.empty() ? "" : " ") + num(x) + "," + num(y);
      lx = x;
      ly = y;
    }
    s += "<polyline fill=\"none\" stroke=\"" + c.color + "\" stroke-width=\"2\" points=\"" + pts +
         "\"/>\n";
    char auc[32];
    std::snprintf(auc, sizeof auc, "%.4f", c.metrics->roc_auc);
    s += "<line x1=\"250\" y1=\"" + num(legend_y - 4) + "\" x2=\"270\" y2=\"" + num(legend_y - 4) +
         "\" stroke=\"" + c.color + "\" stroke-width=\"2\"/>\n";
    s += "<text x=\"276\" y=\"" + num(legend_y) + "\">" + escape(c.name) + " (ROC AUC " + auc +
         ")</text>\n";
    legend_y -= 18;
  }
  s += "</svg>\n";
  return s;
}

}  // namespace writ::cli::risk
