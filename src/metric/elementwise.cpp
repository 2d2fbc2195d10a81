// Element-wise regression metrics: each is a small policy (per-row loss, optional domain check,
// final transform) over one shared weighted-mean loop.

#include <cmath>
#include <limits>

#include "metric/detail.hpp"

namespace compe::metric::detail {
namespace {

struct Mse {
  double loss(double y, double p) const { return (y - p) * (y - p); }
  double finish(double mean) const { return mean; }
};
struct Rmse : Mse {
  double finish(double mean) const { return std::sqrt(mean); }
};
struct Mae {
  double loss(double y, double p) const { return std::fabs(y - p); }
  double finish(double mean) const { return mean; }
};
struct Rmsle {
  static constexpr bool kNonNegative = true;
  double loss(double y, double p) const {
    double d = std::log1p(y) - std::log1p(p);
    return d * d;
  }
  double finish(double mean) const { return std::sqrt(mean); }
};
struct Mape {
  double loss(double y, double p) const {
    return std::fabs(y - p) / std::max(std::fabs(y), std::numeric_limits<double>::epsilon());
  }
  double finish(double mean) const { return mean; }
};
struct Smape {
  double loss(double y, double p) const {
    double den = std::fabs(y) + std::fabs(p);
    return den == 0.0 ? 0.0 : 200.0 * std::fabs(p - y) / den;
  }
  double finish(double mean) const { return mean; }
};
struct Pinball {
  double alpha;
  double loss(double y, double p) const {
    double d = y - p;
    return d >= 0 ? alpha * d : (alpha - 1.0) * d;
  }
  double finish(double mean) const { return mean; }
};

template <typename P>
concept NonNegative = P::kNonNegative;

template <typename Policy>
class Elementwise final : public Metric {
 public:
  Elementwise(const Info& info, std::string spec, Policy policy)
      : Metric(info, std::move(spec)), policy_(policy) {}

  double score(const Inputs& in) const override {
    std::size_t n = check_vector(in, spec(), 1);
    if constexpr (NonNegative<Policy>) {
      for (std::size_t i = 0; i < n; ++i) {
        if (in.y_true[i] < 0)
          fail(ErrorCode::kInvalidArgument, "{}: y_true row {} is {}; expected a value >= 0",
               spec(), i, in.y_true[i]);
        if (in.y_pred[i] < 0)
          fail(ErrorCode::kInvalidArgument, "{}: y_pred row {} is {}; expected a value >= 0",
               spec(), i, in.y_pred[i]);
      }
    }
    const double* y = in.y_true.data();
    const double* p = in.y_pred.data();
    const double* w = in.weights.empty() ? nullptr : in.weights.data();
    auto sums = block_sum<2>(n, [&](std::size_t i, std::array<double, 2>& acc) {
      double wi = w ? w[i] : 1.0;
      acc[0] += wi * policy_.loss(y[i], p[i]);
      acc[1] += wi;
    });
    return policy_.finish(sums[0] / sums[1]);
  }

 private:
  Policy policy_;
};

template <typename Policy>
std::unique_ptr<Metric> build(const Info& info, std::optional<double> arg, Policy policy = {}) {
  return std::make_unique<Elementwise<Policy>>(info, canonical_spec(info, arg), policy);
}

}  // namespace

std::unique_ptr<Metric> new_elementwise(const Info& info, std::optional<double> arg) {
  const std::string& n = info.name;
  if (n == "mse") return build<Mse>(info, arg);
  if (n == "rmse") return build<Rmse>(info, arg);
  if (n == "mae") return build<Mae>(info, arg);
  if (n == "rmsle") return build<Rmsle>(info, arg);
  if (n == "mape") return build<Mape>(info, arg);
  if (n == "smape") return build<Smape>(info, arg);
  if (n == "pinball") {
    double q = arg.value_or(0.5);
    if (!(q >= 0.0 && q <= 1.0))
      fail(ErrorCode::kInvalidArgument, "pinball: quantile {} is outside [0, 1]", q);
    return build<Pinball>(info, arg, Pinball{q});
  }
  COMPE_ASSERT(!"elementwise metric without a policy");
  return nullptr;
}

}  // namespace compe::metric::detail
