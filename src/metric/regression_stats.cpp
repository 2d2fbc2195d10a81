// Regression metrics that are not a plain mean of per-row losses: r2, median absolute error and
// the correlations (scipy.stats.pearsonr / spearmanr).

#include <algorithm>
#include <cmath>
#include <numeric>

#include "compe/stats.hpp"
#include "metric/detail.hpp"

namespace compe::metric::detail {
namespace {

enum class Kind { kR2, kMedianAe, kPearson, kSpearman };

class RegressionStat final : public Metric {
 public:
  RegressionStat(const Info& info, std::string spec, Kind kind)
      : Metric(info, std::move(spec)), kind_(kind) {}

  double score(const Inputs& in) const override {
    std::size_t n = check_vector(in, spec(), 1);
    switch (kind_) {
      case Kind::kR2:
        return r2(in, n);
      case Kind::kMedianAe:
        return median_ae(in, n);
      case Kind::kPearson:
      case Kind::kSpearman: {
        if (!in.weights.empty())
          fail(ErrorCode::kInvalidArgument, "{}: does not take sample weights", spec());
        if (n < 2)
          fail(ErrorCode::kInvalidArgument, "{}: {} row(s); a correlation needs at least 2", spec(),
               n);
        const double r = kind_ == Kind::kPearson ? stats::pearson(in.y_true, in.y_pred)
                                                 : stats::spearman(in.y_true, in.y_pred);
        if (std::isnan(r))
          fail(ErrorCode::kInvalidArgument,
               "{}: {} is constant; the correlation coefficient is not defined", spec(),
               constant(in.y_true) ? "y_true" : "y_pred");
        return r;
      }
    }
    return 0.0;
  }

 private:
  static bool constant(std::span<const double> v) {
    return std::all_of(v.begin(), v.end(), [&](double x) { return x == v[0]; });
  }

  double r2(const Inputs& in, std::size_t n) const {
    if (n < 2)
      fail(ErrorCode::kInvalidArgument, "{}: R^2 is not well-defined with fewer than two rows",
           spec());
    double sw = 0, swy = 0;
    for (std::size_t i = 0; i < n; ++i) {
      sw += weight(in, i);
      swy += weight(in, i) * in.y_true[i];
    }
    double mean = constant(in.y_true) ? in.y_true[0] : swy / sw, num = 0, den = 0;
    for (std::size_t i = 0; i < n; ++i) {
      double w = weight(in, i), e = in.y_true[i] - in.y_pred[i], d = in.y_true[i] - mean;
      num += w * e * e;
      den += w * d * d;
    }
    if (den == 0) return num == 0 ? 1.0 : 0.0;  // scikit-learn's force_finite
    return 1.0 - num / den;
  }

  double median_ae(const Inputs& in, std::size_t n) const {
    std::vector<double> err(n);
    for (std::size_t i = 0; i < n; ++i) err[i] = std::fabs(in.y_true[i] - in.y_pred[i]);
    if (in.weights.empty()) {
      std::size_t mid = n / 2;
      std::nth_element(err.begin(), err.begin() + static_cast<std::ptrdiff_t>(mid), err.end());
      double hi = err[mid];
      if (n % 2 == 1) return hi;
      double lo = *std::max_element(err.begin(), err.begin() + static_cast<std::ptrdiff_t>(mid));
      return 0.5 * (lo + hi);
    }
    // Lower weighted median: the first sorted error whose cumulative weight reaches half.
    std::vector<std::size_t> idx(n);
    std::iota(idx.begin(), idx.end(), 0);
    std::stable_sort(idx.begin(), idx.end(),
                     [&](std::size_t a, std::size_t b) { return err[a] < err[b]; });
    std::vector<double> cdf(n);
    double run = 0;
    for (std::size_t i = 0; i < n; ++i) cdf[i] = run += in.weights[idx[i]];
    double half = 0.5 * cdf.back();
    std::size_t at =
        static_cast<std::size_t>(std::lower_bound(cdf.begin(), cdf.end(), half) - cdf.begin());
    return err[idx[std::min(at, n - 1)]];
  }

  Kind kind_;
};

}  // namespace

std::unique_ptr<Metric> new_regression_stat(const Info& info, std::optional<double> arg) {
  const std::string& n = info.name;
  Kind kind = n == "r2"          ? Kind::kR2
              : n == "median_ae" ? Kind::kMedianAe
              : n == "pearson"   ? Kind::kPearson
                                 : Kind::kSpearman;
  COMPE_ASSERT(kind != Kind::kSpearman || n == "spearman");
  return std::make_unique<RegressionStat>(info, canonical_spec(info, arg), kind);
}

}  // namespace compe::metric::detail
