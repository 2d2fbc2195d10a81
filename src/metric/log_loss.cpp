// Log loss as scikit-learn 1.2 computes it: probabilities clipped to [eps, 1-eps], each row then
// divided by its sum, the weighted mean of -log(p[true class]).

#include <algorithm>
#include <cmath>

#include "metric/detail.hpp"

namespace compe::metric::detail {
namespace {

constexpr double kEps = 1e-15;

inline double clip(double p) {
  return std::min(std::max(p, kEps), 1.0 - kEps);
}

/// -log of the normalised clipped probability of label y (0/1) from a class-1 probability.
inline double binary_loss(double y, double p) {
  p = clip(p);
  double q = 1.0 - p;
  double s = q + p;
  return -std::log((y != 0.0 ? p : q) / s);
}

class LogLoss final : public Metric {
 public:
  LogLoss(const Info& info, std::string spec) : Metric(info, std::move(spec)) {}

  double score(const Inputs& in) const override {
    std::size_t n = check_vector(in, spec(), 0);
    std::size_t k = in.pred_cols;
    const double* y = in.y_true.data();
    const double* p = in.y_pred.data();
    const double* w = in.weights.empty() ? nullptr : in.weights.data();
    if (k == 1) {
      check_binary_truth(in.y_true, 1, spec());
      check_probabilities(in);
      auto s = block_sum<2>(n, [&](std::size_t i, std::array<double, 2>& acc) {
        double wi = w ? w[i] : 1.0;
        acc[0] += wi * binary_loss(y[i], p[i]);
        acc[1] += wi;
      });
      return s[0] / s[1];
    }
    for (std::size_t i = 0; i < n; ++i) {
      double v = y[i];
      if (!(v >= 0 && v < static_cast<double>(k) && v == std::floor(v)))
        fail(ErrorCode::kInvalidArgument,
             "{}: y_true row {} is {}; expected a class index 0..{} for {} probability columns",
             spec(), i, v, k - 1, k);
    }
    check_probabilities(in);
    auto s = block_sum<2>(n, [&](std::size_t i, std::array<double, 2>& acc) {
      const double* row = p + i * k;
      double sum = 0;
      for (std::size_t j = 0; j < k; ++j) sum += clip(row[j]);
      double wi = w ? w[i] : 1.0;
      acc[0] += wi * -std::log(clip(row[static_cast<std::size_t>(y[i])]) / sum);
      acc[1] += wi;
    });
    return s[0] / s[1];
  }

 private:
  void check_probabilities(const Inputs& in) const {
    for (std::size_t i = 0; i < in.y_pred.size(); ++i)
      if (in.y_pred[i] < 0.0 || in.y_pred[i] > 1.0)
        fail(ErrorCode::kInvalidArgument,
             "{}: y_pred row {} column {} is {}; expected a probability in [0, 1]", spec(),
             i / in.pred_cols, i % in.pred_cols, in.y_pred[i]);
  }
};

class MultilabelLogLoss final : public Metric {
 public:
  MultilabelLogLoss(const Info& info, std::string spec) : Metric(info, std::move(spec)) {}

  double score(const Inputs& in) const override {
    std::size_t n = check_matrix(in, spec());
    std::size_t k = in.true_cols;
    if (in.pred_cols != k)
      fail(ErrorCode::kInvalidArgument, "{}: y_true has {} label columns but y_pred {}", spec(), k,
           in.pred_cols);
    check_binary_truth(in.y_true, k, spec());
    for (std::size_t i = 0; i < in.y_pred.size(); ++i)
      if (in.y_pred[i] < 0.0 || in.y_pred[i] > 1.0)
        fail(ErrorCode::kInvalidArgument,
             "{}: y_pred row {} column {} is {}; expected a probability in [0, 1]", spec(), i / k,
             i % k, in.y_pred[i]);
    const double* w = in.weights.empty() ? nullptr : in.weights.data();
    double total = 0;
    for (std::size_t j = 0; j < k; ++j) {
      auto s = block_sum<2>(n, [&](std::size_t i, std::array<double, 2>& acc) {
        double wi = w ? w[i] : 1.0;
        acc[0] += wi * binary_loss(in.y_true[i * k + j], in.y_pred[i * k + j]);
        acc[1] += wi;
      });
      total += s[0] / s[1];
    }
    return total / static_cast<double>(k);
  }
};

}  // namespace

std::unique_ptr<Metric> new_log_loss(const Info& info, std::optional<double> arg) {
  return std::make_unique<LogLoss>(info, canonical_spec(info, arg));
}
std::unique_ptr<Metric> new_multilabel_log_loss(const Info& info, std::optional<double> arg) {
  return std::make_unique<MultilabelLogLoss>(info, canonical_spec(info, arg));
}

}  // namespace compe::metric::detail
