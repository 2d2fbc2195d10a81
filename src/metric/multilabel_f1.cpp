// F1 of multilabel predictions thresholded at t: micro (counts pooled over every cell), macro
// (mean of the per-column F1) and samples (mean of the per-row F1), scikit-learn's
// f1_score(Y, P >= t, average=..., zero_division=0) with sample weights.
#include <string_view>

#include "metric/detail.hpp"

namespace compe::metric::detail {

namespace {

enum class F1Average { kMicro, kMacro, kSamples };

// 2tp / (2tp + fp + fn), 0 where nothing is true or predicted.
double f1_of(double tp, double fp, double fn) {
  const double den = 2 * tp + fp + fn;
  return den > 0 ? 2 * tp / den : 0.0;
}

class MultilabelF1 final : public Metric {
 public:
  MultilabelF1(const Info& info, std::string spec, F1Average average, double threshold)
      : Metric(info, std::move(spec)), average_(average), threshold_(threshold) {}

  double score(const Inputs& in) const override {
    const std::size_t n = check_matrix(in, spec());
    const std::size_t k = in.true_cols;
    if (in.pred_cols != k)
      fail(ErrorCode::kInvalidArgument, "{}: y_true has {} label columns but y_pred {}", spec(), k,
           in.pred_cols);
    check_binary_truth(in.y_true, k, spec());
    check_weights(in, n, spec());
    if (average_ == F1Average::kSamples) {
      auto s = block_sum<2>(n, [&](std::size_t i, std::array<double, 2>& acc) {
        double tp = 0, fp = 0, fn = 0;
        for (std::size_t j = 0; j < k; ++j) count(in, i * k + j, 1.0, tp, fp, fn);
        const double w = weight(in, i);
        acc[0] += w * f1_of(tp, fp, fn);
        acc[1] += w;
      });
      return s[0] / s[1];
    }
    // Per column: weighted tp, fp, fn.
    std::vector<double> tp(k, 0.0), fp(k, 0.0), fn(k, 0.0);
    for (std::size_t i = 0; i < n; ++i) {
      const double w = weight(in, i);
      for (std::size_t j = 0; j < k; ++j) count(in, i * k + j, w, tp[j], fp[j], fn[j]);
    }
    if (average_ == F1Average::kMicro) {
      double t = 0, p = 0, f = 0;
      for (std::size_t j = 0; j < k; ++j) {
        t += tp[j];
        p += fp[j];
        f += fn[j];
      }
      return f1_of(t, p, f);
    }
    double total = 0;
    for (std::size_t j = 0; j < k; ++j) total += f1_of(tp[j], fp[j], fn[j]);
    return total / static_cast<double>(k);
  }

 private:
  void count(const Inputs& in, std::size_t cell, double w, double& tp, double& fp, double& fn) const {
    const bool truth = in.y_true[cell] == 1.0;
    const bool pred = in.y_pred[cell] >= threshold_;
    if (truth && pred) tp += w;
    else if (pred) fp += w;
    else if (truth) fn += w;
  }

  F1Average average_;
  double threshold_;
};

}  // namespace

std::unique_ptr<Metric> new_multilabel_f1(const Info& info, std::optional<double> arg) {
  const double t = arg.value_or(0.5);
  if (!(t >= 0.0 && t <= 1.0))
    fail(ErrorCode::kInvalidArgument, "{}: threshold {} is outside [0, 1]", info.name, t);
  const std::string_view n = info.name;
  const F1Average average = n == "f1_micro_multilabel"   ? F1Average::kMicro
                            : n == "f1_macro_multilabel" ? F1Average::kMacro
                                                         : F1Average::kSamples;
  return std::make_unique<MultilabelF1>(info, canonical_spec(info, arg), average, t);
}

}  // namespace compe::metric::detail
