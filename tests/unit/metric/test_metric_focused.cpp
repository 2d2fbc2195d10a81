#include <gtest/gtest.h>

#include <omp.h>

#include <random>
#include <vector>

#include "compe/metric.hpp"

// roc_auc called from inside an OpenMP parallel region (as blends and parallel folds do) must
// give the same value as from outside: nested teams have one thread.
TEST(MetricFocused, RocAucInsideAParallelRegionEqualsOutside) {
  const std::size_t n = 300000;  // above the sizes where the AUC and the radix sort go parallel
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> u(0, 1);
  std::vector<double> y(n), p(n);
  for (std::size_t i = 0; i < n; ++i) {
    y[i] = u(rng) < 0.3 ? 1.0 : 0.0;
    p[i] = 0.3 * y[i] + 0.7 * u(rng);
  }
  const double outside = compe::metric::score("roc_auc", {.y_true = y, .y_pred = p});
  std::vector<double> inside(2, 0.0);
#pragma omp parallel num_threads(2)
  { inside[static_cast<std::size_t>(omp_get_thread_num())] = compe::metric::score("roc_auc", {.y_true = y, .y_pred = p}); }
  EXPECT_EQ(inside[0], outside);
  EXPECT_EQ(inside[1], outside);
  EXPECT_GT(outside, 0.5);
}
