#include <gtest/gtest.h>

#include <cmath>

#include "compe/error.hpp"
#include "compe/score.hpp"

using compe::Column;
using compe::Table;

namespace {

Table solution() {
  Table t;
  t.source = "solution.csv";
  t.add_column(Column::from_i64("id", {10, 11, 12, 13, 14, 15}));
  t.add_column(Column::from_f64("y", {0, 1, 0, 1, 1, 0}));
  t.add_column(Column::from_strings("Usage", {"Public", "Public", "Public", "Private", "Private", "Ignored"}));
  return t;
}

Table submission(std::vector<std::int64_t> ids, std::vector<double> p) {
  Table t;
  t.source = "sub.csv";
  t.add_column(Column::from_i64("id", std::move(ids)));
  t.add_column(Column::from_f64("y", std::move(p)));
  return t;
}

std::string error_of(const Table& sol, const Table& sub, const std::string& metric = "roc_auc") {
  try {
    compe::score::score_submission(sol, sub, {.metric = metric});
  } catch (const compe::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Score, PublicPrivateSplitAndIdOrder) {
  // Rows in another order than the solution: matched by id.
  auto r = compe::score::score_submission(
      solution(), submission({15, 14, 13, 12, 11, 10}, {0.9, 0.8, 0.1, 0.2, 0.7, 0.4}), {.metric = "accuracy"});
  ASSERT_TRUE(r.public_score && r.private_score && r.overall_score);
  // public: ids 10,11,12 -> y 0,1,0, p .4,.7,.2 -> all right
  EXPECT_DOUBLE_EQ(*r.public_score, 1.0);
  // private: ids 13,14 -> y 1,1, p .1,.8 -> one right
  EXPECT_DOUBLE_EQ(*r.private_score, 0.5);
  EXPECT_DOUBLE_EQ(*r.overall_score, 0.8);
  EXPECT_EQ(r.public_rows, 3u);
  EXPECT_EQ(r.private_rows, 2u);
  EXPECT_EQ(r.ignored_rows, 1u);
}

TEST(Score, IgnoredRowsDoNotChangeTheScore) {
  auto a = compe::score::score_submission(
      solution(), submission({10, 11, 12, 13, 14, 15}, {0.4, 0.7, 0.2, 0.1, 0.8, 0.0}), {.metric = "accuracy"});
  auto b = compe::score::score_submission(
      solution(), submission({10, 11, 12, 13, 14, 15}, {0.4, 0.7, 0.2, 0.1, 0.8, 1.0}), {.metric = "accuracy"});
  EXPECT_EQ(*a.overall_score, *b.overall_score);
}

TEST(Score, RejectsKaggleStyle) {
  auto sol = solution();
  EXPECT_NE(error_of(sol, submission({10, 11, 12, 13, 14}, {0, 0, 0, 0, 0})).find("must have 6 rows, found 5"),
            std::string::npos);
  EXPECT_NE(error_of(sol, submission({10, 11, 12, 13, 14, 14}, {0, 0, 0, 0, 0, 0})).find("duplicate id(s): '14'"),
            std::string::npos);
  EXPECT_NE(error_of(sol, submission({10, 11, 12, 13, 14, 99}, {0, 0, 0, 0, 0, 0})).find("unexpected id(s) not in the solution: '99'"),
            std::string::npos);
  EXPECT_NE(error_of(sol, submission({10, 11, 12, 13, 14, 15}, {0, NAN, 0, 0, 0, 0})).find("at id(s) '11'"),
            std::string::npos);
  EXPECT_NE(error_of(sol, submission({10, 11, 12, 13, 14, 15}, {0, 0, INFINITY, 0, 0, 0})).find("'12'"),
            std::string::npos);
  Table wrong;
  wrong.add_column(Column::from_i64("id", {10, 11, 12, 13, 14, 15}));
  wrong.add_column(Column::from_f64("target", {0, 0, 0, 0, 0, 0}));
  EXPECT_NE(error_of(sol, wrong).find("missing: y"), std::string::npos);
}

TEST(Score, NoUsageColumnScoresEverything) {
  Table sol;
  sol.add_column(Column::from_i64("id", {1, 2, 3}));
  sol.add_column(Column::from_f64("y", {1.0, 2.0, 3.0}));
  auto r = compe::score::score_submission(sol, submission({1, 2, 3}, {1.0, 2.0, 5.0}), {.metric = "mae"});
  EXPECT_FALSE(r.public_score);
  EXPECT_FALSE(r.private_score);
  EXPECT_NEAR(*r.overall_score, 2.0 / 3.0, 1e-12);
}

TEST(Score, BadUsageValueNamesTheLine) {
  Table sol;
  sol.source = "s.csv";
  sol.add_column(Column::from_i64("id", {1, 2}));
  sol.add_column(Column::from_f64("y", {0, 1}));
  sol.add_column(Column::from_strings("Usage", {"Public", "Secret"}));
  EXPECT_NE(error_of(sol, submission({1, 2}, {0.1, 0.9})).find("s.csv: line 3: Usage is 'Secret'"), std::string::npos);
}

TEST(Score, MulticlassOneHotSolution) {
  Table sol;
  sol.add_column(Column::from_i64("id", {1, 2, 3}));
  sol.add_column(Column::from_f64("a", {1, 0, 0}));
  sol.add_column(Column::from_f64("b", {0, 1, 0}));
  sol.add_column(Column::from_f64("c", {0, 0, 1}));
  Table sub;
  sub.add_column(Column::from_i64("id", {1, 2, 3}));
  sub.add_column(Column::from_f64("a", {0.8, 0.1, 0.1}));
  sub.add_column(Column::from_f64("b", {0.1, 0.8, 0.1}));
  sub.add_column(Column::from_f64("c", {0.1, 0.1, 0.8}));
  auto r = compe::score::score_submission(sol, sub, {.metric = "log_loss"});
  EXPECT_NEAR(*r.overall_score, -std::log(0.8), 1e-12);
  EXPECT_EQ(r.task, compe::metric::kMulticlass);
}

TEST(Score, ValidateAgainstSample) {
  Table sample;
  sample.add_column(Column::from_i64("id", {1, 2}));
  sample.add_column(Column::from_f64("y", {0.5, 0.5}));
  EXPECT_NO_THROW(compe::score::validate_against_sample(sample, submission({2, 1}, {0.1, 0.2})));
  EXPECT_THROW(compe::score::validate_against_sample(sample, submission({1, 3}, {0.1, 0.2})), compe::Error);
}
