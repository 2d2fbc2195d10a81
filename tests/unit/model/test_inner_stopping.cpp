// Issue 16: by default nothing is chosen on the validation rows; base_score from the prior;
// id-like and free-text columns left out; high-cardinality categoricals count-encoded per fold.
#include <gtest/gtest.h>

#include <numeric>
#include <optional>

#include <fmt/core.h>

#include "compe/error.hpp"
#include "compe/model.hpp"
#include "compe/profile.hpp"
#include "model_test_util.hpp"

using namespace compe;
using namespace compe::model;
using namespace compe::model::testing;

namespace {

struct Fold {
  Synthetic data;
  FeatureMatrix fm;
  Target target;
  std::vector<std::size_t> train_rows, valid_rows;

  explicit Fold(std::size_t n = 600)
      : data(make_synthetic(Task::kBinary, n, 40)),
        fm(FeatureMatrix::build(data.train, data.test, default_spec())),
        target(Target::encode(data.target, Task::kBinary)) {
    split_rows(n, 5, 2, train_rows, valid_rows);
  }
  FoldData fold(const Target& t) const {
    FoldData d;
    d.features = &fm;
    d.target = &t;
    d.train_rows = train_rows;
    d.valid_rows = valid_rows;
    d.metric = "roc_auc";
    d.fold = 2;
    d.seed = 42;
    d.threads = 2;
    return d;
  }
};

nlohmann::json stopping(const char* mode) {
  return {{"num_boost_round", 400}, {"early_stopping_rounds", 10}, {"learning_rate", 0.3},
          {"max_depth", 3}, {"early_stopping", mode}};
}

}  // namespace

TEST(InnerStopping, DefaultNeverLooksAtValidationLabels) {
  Fold p;
  Target flipped = p.target;  // the validation rows' labels reversed
  for (auto r : p.valid_rows) flipped.y[r] = 1.0 - flipped.y[r];
  nlohmann::json params = {{"num_boost_round", 400}, {"early_stopping_rounds", 10}, {"learning_rate", 0.3}};
  auto a = make("xgboost")->fit_predict(p.fold(p.target), params, nullptr);
  auto b = make("xgboost")->fit_predict(p.fold(flipped), params, nullptr);
  EXPECT_EQ(a.early_stopping, "inner");
  EXPECT_FALSE(a.optimistic);
  EXPECT_LT(a.num_iterations, 400u);
  EXPECT_NEAR(static_cast<double>(a.inner_rows), 0.2 * static_cast<double>(p.train_rows.size()), 2.0);
  EXPECT_EQ(a.best_iteration, b.best_iteration);
  EXPECT_EQ(a.valid_pred, b.valid_pred);
  EXPECT_EQ(a.test_pred, b.test_pred);
  // The fold's curves stay train / valid (the validation one for display only).
  ASSERT_EQ(a.curves.size(), 1u);
  EXPECT_EQ(a.curves[0].metric, "auc");
  EXPECT_EQ(a.curves[0].valid.size(), a.num_iterations);
}

TEST(InnerStopping, ValidModeChoosesOnValidationRowsAndSaysSo) {
  Fold p;
  Target flipped = p.target;
  for (auto r : p.valid_rows) flipped.y[r] = 1.0 - flipped.y[r];
  auto a = make("xgboost")->fit_predict(p.fold(p.target), stopping("valid"), nullptr);
  auto b = make("xgboost")->fit_predict(p.fold(flipped), stopping("valid"), nullptr);
  EXPECT_EQ(a.early_stopping, "valid");
  EXPECT_TRUE(a.optimistic);
  EXPECT_NE(a.best_iteration, b.best_iteration);
  const Info& info = find("xgboost");
  EXPECT_TRUE(selects_on_valid(info, resolve_params(info, stopping("valid"))));
  EXPECT_FALSE(selects_on_valid(info, resolve_params(info, stopping("inner"))));
  EXPECT_FALSE(selects_on_valid(info, resolve_params(info, {})));
  nlohmann::json no_stop = stopping("valid");
  no_stop["early_stopping_rounds"] = 0;
  EXPECT_FALSE(selects_on_valid(info, resolve_params(info, no_stop)));
}

TEST(InnerStopping, InnerSplitIsStratified) {
  // 3 % positives: the held-out share still holds some, and so does the rest.
  Fold p(1000);
  Target rare = p.target;
  for (std::size_t r = 0; r < rare.y.size(); ++r) rare.y[r] = (r % 33 == 0) ? 1.0 : 0.0;
  auto r = make("xgboost")->fit_predict(p.fold(rare), stopping("inner"), nullptr);
  EXPECT_EQ(r.early_stopping, "inner");
  ASSERT_TRUE(r.base_score.has_value());
  double prior = 0;
  for (auto row : p.train_rows) prior += rare.y[row];
  prior /= static_cast<double>(p.train_rows.size());
  // base_score is the mean of the rows the model learns from (the fit share): close to the prior.
  EXPECT_NEAR(*r.base_score, prior, 0.01);
  // Both classes in the held-out share: AUC is defined there, so stopping worked (not every round).
  EXPECT_LT(r.num_iterations, 400u);
}

TEST(InnerStopping, BaseScoreFromPriorKeepsEarlyRoundsOnScale) {
  Fold p(800);
  Target rare = p.target;
  for (std::size_t r = 0; r < rare.y.size(); ++r) rare.y[r] = (r % 20 == 0) ? 1.0 : 0.0;
  nlohmann::json one = {{"num_boost_round", 1}, {"early_stopping_rounds", 0}, {"learning_rate", 0.01}};
  auto r = make("xgboost")->fit_predict(p.fold(rare), one, nullptr);
  double mean = std::accumulate(r.valid_pred.begin(), r.valid_pred.end(), 0.0) / static_cast<double>(r.valid_pred.size());
  EXPECT_NEAR(mean, 0.05, 0.02);  // XGBoost 1.7's own base_score would give about 0.5
  one["base_score"] = 0.5;
  auto old = make("xgboost")->fit_predict(p.fold(rare), one, nullptr);
  EXPECT_GT(old.valid_pred[0], 0.4);
  EXPECT_FALSE(old.base_score.has_value());
}

TEST(InnerStopping, RefitTrainsTheFoundRoundsOnTheWholeFold) {
  Fold p;
  nlohmann::json params = stopping("inner");
  auto a = make("xgboost")->fit_predict(p.fold(p.target), params, nullptr);
  params["refit"] = true;
  auto b = make("xgboost")->fit_predict(p.fold(p.target), params, nullptr);
  EXPECT_EQ(a.best_iteration, b.best_iteration);
  EXPECT_NE(a.valid_pred, b.valid_pred);
  EXPECT_GT(auc(take(p.target.y, p.valid_rows), b.valid_pred), 0.9);
}

TEST(InnerStopping, RejectsUnknownMode) {
  Fold p;
  EXPECT_THROW(make("xgboost")->fit_predict(p.fold(p.target), stopping("test"), nullptr), Error);
}

// ---- feature selection ----

namespace {

Synthetic with_extra_columns(std::size_t n) {
  Synthetic s = make_synthetic(Task::kBinary, n, 30);
  for (int side = 0; side < 2; ++side) {
    Table& t = side == 0 ? s.train : s.test;
    std::size_t rows = t.num_rows();
    std::vector<std::optional<std::string>> ref(rows), text(rows), zip(rows);
    std::vector<std::int64_t> counter(rows);
    for (std::size_t i = 0; i < rows; ++i) {
      ref[i] = fmt::format("R{:06}", side * 50000 + i * 7);
      text[i] = fmt::format("the quick brown fox number {} jumps", (i * 7919) % 100003);
      zip[i] = fmt::format("Z{}", (i * 31) % 120);
      counter[i] = static_cast<std::int64_t>(side * 100000 + i * 3);
    }
    t.add_column(Column::from_strings("ref", ref));
    t.add_column(Column::from_strings("comment", text));
    t.add_column(Column::from_strings("zip", zip));
    t.add_column(Column::from_i64("row_counter", counter));
  }
  return s;
}

}  // namespace

TEST(FeatureSelection, IdLikeAndFreeTextLeftOutWithANote) {
  Synthetic s = with_extra_columns(400);
  auto fm = FeatureMatrix::build(s.train, s.test, default_spec());
  auto names = fm.feature_names();
  EXPECT_EQ(std::count(names.begin(), names.end(), "ref"), 0);
  EXPECT_EQ(std::count(names.begin(), names.end(), "comment"), 0);
  EXPECT_EQ(std::count(names.begin(), names.end(), "row_counter"), 0);
  ASSERT_EQ(fm.report().left_out.size(), 3u);
  std::string text = fm.report().to_string();
  EXPECT_NE(text.find("left out column 'ref' (id-like"), std::string::npos) << text;
  EXPECT_NE(text.find("left out column 'comment' (free text"), std::string::npos) << text;
  EXPECT_NE(text.find("column 'zip' (120 levels): count-encoded within each training fold"), std::string::npos) << text;
  // High-cardinality: count-encoded, not a native categorical, and no unseen-level noise.
  auto zip = std::find(names.begin(), names.end(), "zip") - names.begin();
  EXPECT_TRUE(fm.features()[static_cast<std::size_t>(zip)].count_encoded);
  EXPECT_TRUE(fm.has_fold_encoding());

  FeatureSpec keep = default_spec();
  keep.keep = {"x0", "ref", "comment"};
  auto kept = FeatureMatrix::build(s.train, s.test, keep);
  EXPECT_EQ(kept.num_features(), 3u);
  EXPECT_TRUE(kept.report().left_out.empty());

  FeatureSpec off = default_spec();
  off.auto_select = false;
  EXPECT_EQ(FeatureMatrix::build(s.train, s.test, off).num_features(), 9u);
}

TEST(FeatureSelection, CountsComeFromTheTrainingFoldOnly) {
  Synthetic s = with_extra_columns(400);
  auto fm = FeatureMatrix::build(s.train, s.test, default_spec());
  auto names = fm.feature_names();
  auto f = static_cast<std::size_t>(std::find(names.begin(), names.end(), "zip") - names.begin());
  std::vector<std::size_t> fit(100);
  std::iota(fit.begin(), fit.end(), 0);
  Target t = Target::encode(s.target, Task::kBinary);
  auto values = fm.fold_values(fit, false, t);
  // Every value is the count of its level among rows 0..99, wherever the row is.
  for (std::size_t r = 0; r < fm.num_train_rows(); ++r) {
    float code = fm.train_at(r, f);
    float expected = 0;
    for (auto q : fit) expected += fm.train_at(q, f) == code ? 1.0F : 0.0F;
    ASSERT_EQ(values[r * fm.num_features() + f], expected) << "row " << r;
  }
  auto test_values = fm.fold_values(fit, true, t);
  EXPECT_EQ(test_values.size(), fm.num_test_rows() * fm.num_features());
  // The backends train on it.
  std::vector<std::size_t> tr, va;
  split_rows(400, 4, 0, tr, va);
  FoldData d;
  d.features = &fm;
  d.target = &t;
  d.train_rows = tr;
  d.valid_rows = va;
  d.threads = 2;
  auto r = make("xgboost")->fit_predict(d, {{"num_boost_round", 20}}, nullptr);
  EXPECT_GT(auc(take(t.y, va), r.valid_pred), 0.8);
  auto l = make("linear")->fit_predict(d, nlohmann::json::object(), nullptr);
  EXPECT_GT(auc(take(t.y, va), l.valid_pred), 0.8);
}

TEST(ColumnProfile, Flags) {
  Synthetic s = with_extra_columns(200);
  std::vector<std::string> skip = {"id", "y"};
  Table t = s.train;
  t.add_column(Column::from_f64("x0_twice", [&] {
    std::vector<double> v(t.num_rows());
    for (std::size_t r = 0; r < v.size(); ++r) v[r] = 2 * t.column("x0").as_double(r) + 1;
    return v;
  }()));
  t.add_column(Column::from_f64("x1_copy", [&] {
    std::vector<double> v(t.num_rows());
    for (std::size_t r = 0; r < v.size(); ++r) v[r] = t.column("x1").as_double(r);
    return v;
  }()));
  t.add_column(Column::from_i64("always", std::vector<std::int64_t>(t.num_rows(), 3)));
  Profile p = profile_columns(t, skip, true);
  EXPECT_TRUE(p.find("ref")->id_like);
  EXPECT_TRUE(p.find("row_counter")->id_like);
  EXPECT_TRUE(p.find("comment")->free_text);
  EXPECT_FALSE(p.find("comment")->id_like);
  EXPECT_TRUE(p.find("zip")->high_cardinality);
  EXPECT_TRUE(p.find("always")->constant);
  EXPECT_FALSE(p.find("x0")->id_like);  // a float column unique per row is a measurement
  EXPECT_FALSE(p.find("city")->high_cardinality);
  bool copy = false, twice = false;
  for (const auto& r : p.relations) {
    if (r.column == "x1_copy" && r.other == "x1" && r.exact) copy = true;
    if (r.column == "x0_twice" && r.other == "x0" && !r.exact) twice = true;
  }
  EXPECT_TRUE(copy);
  EXPECT_TRUE(twice);
}
