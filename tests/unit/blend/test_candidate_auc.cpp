#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "blend/candidate_auc.hpp"
#include "compe/metric.hpp"

namespace detail = compe::blend::detail;

namespace {

struct Lcg {
  std::uint64_t state;
  double next() {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(state >> 11) / 9007199254740992.0;
  }
};

double metric_auc(const std::vector<double>& y, const std::vector<double>& sum,
                  const std::vector<double>& p, double divisor) {
  std::vector<double> c(y.size());
  for (std::size_t t = 0; t < y.size(); ++t) c[t] = (sum[t] + p[t]) / divisor;
  return compe::metric::score("roc_auc", {.y_true = y, .y_pred = c});
}

}  // namespace

TEST(BlendCandidateAuc, EqualsTheMetricBitForBitWithAndWithoutTies) {
  Lcg rng{11};
  for (std::size_t n : {2u, 7u, 100u, 5000u, 70000u})
    for (int rounding : {0, 2, 4})  // values on a coarse grid: many ties across and within classes
      for (double divisor : {1.0, 3.0, 7.0}) {
        std::vector<double> y(n), sum(n), p(n);
        for (std::size_t t = 0; t < n; ++t) {
          y[t] = t < 2 ? static_cast<double>(t) : (rng.next() < 0.3 ? 1 : 0);
          sum[t] = (divisor - 1) * (rng.next() * 0.5 + 0.3 * y[t]);
          p[t] = std::min(1.0, rng.next() * 0.7 + 0.2 * y[t]);
          if (rounding) {
            double f = std::pow(10.0, rounding);
            sum[t] = std::round(sum[t] * f) / f;
            p[t] = std::round(p[t] * f) / f;
          }
        }
        auto labels = detail::auc_labels(y);
        ASSERT_TRUE(labels.valid());
        auto [slo, shi] = std::minmax_element(sum.begin(), sum.end());
        auto [plo, phi] = std::minmax_element(p.begin(), p.end());
        detail::AucScratch scratch;
        double got = detail::candidate_auc(labels, sum, p, divisor, (*slo + *plo) / divisor,
                                           (*shi + *phi) / divisor, scratch);
        EXPECT_EQ(got, metric_auc(y, sum, p, divisor))
            << "n " << n << " rounding " << rounding << " divisor " << divisor;
      }
}

TEST(BlendCandidateAuc, ConstantScoresAndLooseBoundsByHand) {
  // Every value tied: AUC 0.5; bounds wider than the values change nothing.
  std::vector<double> y = {0, 1, 0, 1}, zero(4, 0.0), half(4, 0.5);
  auto labels = detail::auc_labels(y);
  detail::AucScratch s;
  EXPECT_EQ(detail::candidate_auc(labels, zero, half, 1, 0.5, 0.5, s), 0.5);
  EXPECT_EQ(detail::candidate_auc(labels, zero, half, 1, -3, 9, s), 0.5);
  // Positives at 0.2, 0.9; negatives 0.1, 0.9: pairs (0.2>0.1) 1, (0.2<0.9) 0, (0.9>0.1) 1,
  // tie 0.5 -> 2.5 / 4.
  std::vector<double> p = {0.1, 0.2, 0.9, 0.9};
  EXPECT_EQ(detail::candidate_auc(labels, zero, p, 1, 0.1, 0.9, s), 0.625);
  EXPECT_FALSE(detail::auc_labels(std::vector<double>{0, 0}).valid());
  EXPECT_FALSE(detail::auc_labels(std::vector<double>{0, 2, 1}).valid());
}
