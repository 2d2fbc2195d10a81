// Pseudo-label selection: per-fold sources, rules, caps, soft labels and refusals.
#include <gtest/gtest.h>

#include <vector>

#include "compe/error.hpp"
#include "compe/pseudo.hpp"
#include "../error_of.hpp"

namespace ps = compe::pseudo;
using compe::testing::message_of;

namespace {
// Two folds, four test rows (binary, positive-class probability). Fold 1's model disagrees on
// row 2: the per-fold selection must follow each fold's own model.
ps::FoldPredictions binary() {
  ps::FoldPredictions p;
  p.task = ps::Task::kBinary;
  p.rows = 4;
  p.columns = 1;
  p.values = {{0.95, 0.02, 0.90, 0.55}, {0.97, 0.10, 0.05, 0.60}};
  p.train_rows_per_fold = {100, 100};
  return p;
}

std::vector<std::size_t> rows_of(const std::vector<ps::Row>& rows) {
  std::vector<std::size_t> out;
  for (const auto& r : rows) out.push_back(r.test_row);
  return out;
}
}  // namespace

TEST(PseudoSelect, EachFoldUsesItsOwnModel) {
  ps::Rule r;
  r.threshold = 0.9;
  const auto s = ps::select(binary(), r);
  ASSERT_EQ(s.per_fold.size(), 2u);
  EXPECT_EQ(rows_of(s.per_fold[0]), (std::vector<std::size_t>{0, 1, 2}));
  EXPECT_EQ(s.per_fold[0][2].label, 1.0);  // fold 0 says row 2 is positive
  EXPECT_EQ(rows_of(s.per_fold[1]), (std::vector<std::size_t>{0, 1, 2}));
  EXPECT_EQ(s.per_fold[1][2].label, 0.0);  // fold 1 says negative: never fold 0's label
  EXPECT_FALSE(s.selection_reads_other_folds);
}

TEST(PseudoSelect, FoldAverageIsTheLeakyVariant) {
  ps::Rule r;
  r.threshold = 0.9;
  r.source = ps::Source::kFoldAverage;
  const auto s = ps::select(binary(), r);
  // Averages: 0.96, 0.06, 0.475, 0.575: rows 0 and 1 in both folds, identical labels.
  EXPECT_EQ(rows_of(s.per_fold[0]), (std::vector<std::size_t>{0, 1}));
  EXPECT_EQ(rows_of(s.per_fold[1]), (std::vector<std::size_t>{0, 1}));
}

TEST(PseudoSelect, TopKPerClassCapAndSoftLabels) {
  ps::Rule r;
  r.top_k = 1;
  auto s = ps::select(binary(), r);
  EXPECT_EQ(rows_of(s.per_fold[0]), (std::vector<std::size_t>{0, 1}));  // most confident per class
  r.max_share = 0.01;  // one row per 100 training rows
  s = ps::select(binary(), r);
  EXPECT_EQ(rows_of(s.per_fold[0]), (std::vector<std::size_t>{1}));  // 0.98 beats 0.95
  ps::Rule soft;
  soft.threshold = 0.96;
  soft.soft = true;
  s = ps::select(binary(), soft);
  ASSERT_EQ(s.per_fold[1].size(), 2u);  // row 0 as two weighted rows
  EXPECT_EQ(s.per_fold[1][0].label, 0.0);
  EXPECT_NEAR(s.per_fold[1][0].weight, 0.03, 1e-12);
  EXPECT_NEAR(s.per_fold[1][1].weight, 0.97, 1e-12);
}

TEST(PseudoSelect, RegressionBySpread) {
  ps::FoldPredictions p;
  p.task = ps::Task::kRegression;
  p.rows = 3;
  p.columns = 1;
  p.values = {{1.0, 5.0, 2.0}, {1.2, 9.0, 2.1}};
  p.train_rows_per_fold = {10, 10};
  ps::Rule r;
  r.max_spread = 0.2;
  const auto s = ps::select(p, r);
  EXPECT_EQ(rows_of(s.per_fold[0]), (std::vector<std::size_t>{0, 2}));
  EXPECT_EQ(s.per_fold[1][0].label, 1.2);  // fold 1's own value
  EXPECT_TRUE(s.selection_reads_other_folds);
}

TEST(PseudoSelect, RefusalsSayWhy) {
  ps::Rule none;
  none.threshold = 0.999;
  EXPECT_EQ(message_of([&] { ps::select(binary(), none); }),
            "pseudo: the rule selects no test row in fold 0 (fold 0: 0, fold 1: 0 of 4 test rows): lower the "
            "threshold or use top_k");
  ps::Rule all;
  all.threshold = 0.5;
  EXPECT_EQ(message_of([&] { ps::select(binary(), all); }),
            "pseudo: the rule selects all 4 test rows in every fold: every prediction is kept, however unsure; raise "
            "the threshold or use top_k / top_share");
  EXPECT_EQ(message_of([&] { ps::select(binary(), ps::Rule{}); }),
            "pseudo: no selection rule: give threshold, top_k or top_share");
  ps::Rule bad;
  bad.threshold = 1.5;
  EXPECT_EQ(message_of([&] { ps::select(binary(), bad); }), "pseudo: threshold = 1.5, expected a value in (0, 1]");
  auto nan = binary();
  nan.values[1][3] = 1.7;
  EXPECT_EQ(message_of([&] { ps::select(nan, none); }),
            "pseudo: fold 1 test row 4 column 1: prediction 1.7 is not a probability in [0, 1]");
  auto missing = binary();
  missing.values.clear();
  missing.train_rows_per_fold.clear();
  EXPECT_EQ(message_of([&] { ps::select(missing, none); }),
            "pseudo: the source run has no per-fold test predictions");
}
