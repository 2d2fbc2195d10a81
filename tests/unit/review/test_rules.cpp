// Review rules: rankings, reasons and bad input.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "compe/error.hpp"
#include "compe/review.hpp"
#include "../error_of.hpp"

namespace rv = compe::review;
using compe::testing::message_of;

namespace {
// 4 rows, 2 classes: row 2 is labelled 0 but the model is sure of 1.
const std::vector<double> kProbs = {0.9, 0.1, 0.2, 0.8, 0.05, 0.95, 0.6, 0.4};
const std::vector<int> kLabels = {0, 1, 0, 0};
}  // namespace

TEST(ReviewRules, ConfidentLearningFindsTheFlippedRow) {
  const rv::Probabilities p{kProbs.data(), 4, 2};
  const auto cl = rv::confident_learning(p, kLabels, {"cat", "dog"});
  // t_0 = mean(0.9, 0.05, 0.6) = 0.516..., t_1 = 0.8.
  EXPECT_NEAR(cl.thresholds[0], 1.55 / 3.0, 1e-15);
  EXPECT_DOUBLE_EQ(cl.thresholds[1], 0.8);
  ASSERT_EQ(cl.issues.size(), 1u);
  EXPECT_EQ(cl.issues[0].row, 2u);
  EXPECT_EQ(cl.issues[0].suggested, 1);
  EXPECT_EQ(cl.issues[0].reason, "labelled cat (p = 0.050) but confidently dog (p = 0.950 >= threshold 0.800)");
  EXPECT_EQ(cl.confident_joint, (std::vector<std::vector<std::int64_t>>{{2, 1}, {0, 1}}));
}

TEST(ReviewRules, HighestLossAndLowConfidenceRank) {
  const rv::Probabilities p{kProbs.data(), 4, 2};
  const auto loss = rv::highest_loss(p, kLabels, {}, 2);
  ASSERT_EQ(loss.size(), 2u);
  EXPECT_EQ(loss[0].row, 2u);
  EXPECT_NEAR(loss[0].score, -std::log(0.05), 1e-12);
  EXPECT_EQ(loss[1].row, 3u);
  const auto low = rv::low_confidence(p, {}, 1);
  ASSERT_EQ(low.size(), 1u);
  EXPECT_EQ(low[0].row, 3u);
  EXPECT_NEAR(low[0].score, 0.4, 1e-12);
}

TEST(ReviewRules, DisagreementAndQuality) {
  const std::vector<double> other = {0.9, 0.1, 0.7, 0.3, 0.05, 0.95, 0.6, 0.4};
  const auto d = rv::disagreement({kProbs.data(), 4, 2}, {other.data(), 4, 2}, {}, 4);
  EXPECT_EQ(d[0].row, 1u);
  EXPECT_NEAR(d[0].score, 0.5, 1e-12);
  EXPECT_EQ(d[0].suggested, -1);
  const auto q = rv::quality_at(d, {1, 3}, 2);
  EXPECT_EQ(q.found, 1u);
  EXPECT_DOUBLE_EQ(q.precision, 0.5);
  EXPECT_DOUBLE_EQ(q.recall, 0.5);
}

TEST(ReviewRules, BadInputNamesTheRow) {
  const std::vector<double> bad = {0.9, 0.1, std::nan(""), 0.8};
  EXPECT_EQ(message_of([&] { rv::confident_learning({bad.data(), 2, 2}, {0, 1}, {}); }),
            "confident learning: row 2 column 1: probability nan is not in [0, 1]");
  EXPECT_EQ(message_of([&] { rv::confident_learning({kProbs.data(), 4, 2}, {0, 1, 2, 0}, {}); }),
            "row 3: label index 2 is not one of the 2 classes");
  EXPECT_EQ(message_of([&] { rv::highest_loss({kProbs.data(), 4, 2}, {0, 1}, {}, 3); }),
            "2 labels for 4 rows of probabilities");
}
