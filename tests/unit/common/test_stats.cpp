#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "compe/stats.hpp"

namespace {

using V = std::vector<double>;

TEST(Stats, DegenerateInputIsNaN) {
  EXPECT_TRUE(std::isnan(compe::stats::pearson(V{}, V{})));
  EXPECT_TRUE(std::isnan(compe::stats::pearson(V{1}, V{2})));
  EXPECT_TRUE(std::isnan(compe::stats::spearman(V{1}, V{2})));
  EXPECT_TRUE(std::isnan(compe::stats::pearson(V{3, 3, 3}, V{1, 2, 3})));
  EXPECT_TRUE(std::isnan(compe::stats::spearman(V{1, 2, 3}, V{5, 5, 5})));
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  EXPECT_TRUE(std::isnan(compe::stats::pearson(V{1, nan, 3}, V{1, 2, 3})));
  EXPECT_TRUE(std::isnan(compe::stats::spearman(V{1, 2, inf}, V{1, 2, 3})));
}

TEST(Stats, PerfectAndTiedCorrelations) {
  EXPECT_DOUBLE_EQ(compe::stats::pearson(V{1, 2, 3, 4}, V{2, 4, 6, 8}), 1.0);
  EXPECT_DOUBLE_EQ(compe::stats::pearson(V{1, 2, 3, 4}, V{-1, -2, -3, -4}), -1.0);
  // Monotone but not linear: Spearman 1, Pearson below 1.
  EXPECT_DOUBLE_EQ(compe::stats::spearman(V{1, 2, 3, 4}, V{1, 10, 100, 1000}), 1.0);
  EXPECT_LT(compe::stats::pearson(V{1, 2, 3, 4}, V{1, 10, 100, 1000}), 1.0);
  EXPECT_EQ(compe::stats::average_ranks(V{10, 20, 10, 30}), (V{1.5, 3, 1.5, 4}));
}

}  // namespace
