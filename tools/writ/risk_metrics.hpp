// How well a score ranks fraud above legitimate payments, and the ROC curve
// as an SVG picture.
//
// Scores are integers, higher meaning riskier; a threshold t flags every
// payment scored >= t. Equal scores are never split (a threshold cannot
// tell them apart), so every figure is exact for tied scores:
//   roc_auc        P(a fraud scores above a legitimate payment), ties half:
//                  the Mann-Whitney statistic, the trapezoid area under the
//                  ROC curve through every distinct threshold;
//   pr_auc         average precision: sum over distinct thresholds, highest
//                  first, of (recall gained) x (precision there), as
//                  scikit-learn's average_precision_score;
//   recall_at(f)   the largest recall of a threshold whose false-positive
//                  rate is at most f (0 when none but "flag nothing" is).
// Figures are NaN when the labels hold only one class.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

namespace writ::cli::risk {

struct RocPoint {
  double fpr, tpr;
};

struct Metrics {
  uint64_t positives = 0, negatives = 0;
  double roc_auc = 0, pr_auc = 0;
  std::vector<RocPoint>
      roc;  // (0,0), one point per distinct score from the highest, ending at (1,1)
  double recall_at(double max_fpr) const;
};

// REQUIRES: scores.size() == labels.size(); labels are 0 or 1.
Metrics evaluate_scores(std::span<const int64_t> scores, std::span<const uint8_t> labels);

struct SvgCurve {
  std::string name;   // legend text
  std::string color;  // CSS color
  const Metrics* metrics;
};
// A square ROC plot (false-positive rate across, recall up) of each curve,
// with the diagonal and a legend giving each curve's ROC AUC.
std::string roc_svg(const std::vector<SvgCurve>& curves, const std::string& title);

}  // namespace writ::cli::risk
