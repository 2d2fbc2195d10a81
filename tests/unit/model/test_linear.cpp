#include <gtest/gtest.h>

#include <cmath>

#include "compe/error.hpp"
#include "compe/model.hpp"
#include "model_test_util.hpp"

using namespace compe;
using namespace compe::model;
using namespace compe::model::testing;

namespace {

struct Tiny {
  Table train, test;
  FeatureMatrix fm;
  Target target;
  std::vector<std::size_t> train_rows, valid_rows;
};

FoldData fold_of(const FeatureMatrix& fm, const Target& t, const std::vector<std::size_t>& tr,
                 const std::vector<std::size_t>& va) {
  FoldData d;
  d.features = &fm;
  d.target = &t;
  d.train_rows = tr;
  d.valid_rows = va;
  return d;
}

}  // namespace

TEST(ModelLinear, RidgeMatchesClosedForm) {
  // Two numeric features, no missing values: with standardisation off the model is plain ridge
  // with an unpenalised intercept: w = (Xc'Xc + a I)^-1 Xc'yc, b = mean(y) - mean(X) w.
  std::vector<double> x0 = {1, 2, 3, 4, 5, 6}, x1 = {2, 1, 4, 3, 6, 5}, y = {1.5, 2.0, 3.7, 4.1, 5.9, 6.3};
  Table train;
  train.add_column(Column::from_f64("x0", x0));
  train.add_column(Column::from_f64("x1", x1));
  train.add_column(Column::from_f64("y", y));
  Table test;
  test.add_column(Column::from_f64("x0", {0.5, 7}));
  test.add_column(Column::from_f64("x1", {1, -2}));
  auto fm = FeatureMatrix::build(train, test, FeatureSpec{.target_columns = {"y"}});
  auto target = Target::encode(train.column("y"), Task::kRegression);
  std::vector<std::size_t> tr = {0, 1, 2, 3, 4, 5}, va = {2};
  const double alpha = 0.7;
  auto r = make("linear")->fit_predict(fold_of(fm, target, tr, va),
                                       {{"alpha", alpha}, {"standardize", false}}, nullptr);

  // Closed form for two features: solve the 2x2 system by Cramer's rule.
  double m0 = 0, m1 = 0, ym = 0;
  for (std::size_t i = 0; i < 6; ++i) m0 += x0[i] / 6, m1 += x1[i] / 6, ym += y[i] / 6;
  double s00 = alpha, s01 = 0, s11 = alpha, t0 = 0, t1 = 0;
  for (std::size_t i = 0; i < 6; ++i) {
    double a0 = x0[i] - m0, a1 = x1[i] - m1, yc = y[i] - ym;
    s00 += a0 * a0, s01 += a0 * a1, s11 += a1 * a1, t0 += a0 * yc, t1 += a1 * yc;
  }
  double det = s00 * s11 - s01 * s01;
  double w[2] = {(t0 * s11 - s01 * t1) / det, (s00 * t1 - s01 * t0) / det};
  double b = ym - m0 * w[0] - m1 * w[1];
  EXPECT_NEAR(r.valid_pred[0], b + 3 * w[0] + 4 * w[1], 1e-10);
  EXPECT_NEAR(r.test_pred[0], b + 0.5 * w[0] + 1 * w[1], 1e-10);
  EXPECT_NEAR(r.test_pred[1], b + 7 * w[0] - 2 * w[1], 1e-10);
}

TEST(ModelLinear, StandardisationDoesNotChangeOlsPredictions) {
  // With alpha = 0, scaling the inputs changes the coefficients but not the fitted values.
  auto s = make_synthetic(Task::kRegression, 200, 20);
  auto fm = FeatureMatrix::build(s.train, s.test, default_spec());
  auto target = Target::encode(s.target, Task::kRegression);
  std::vector<std::size_t> tr, va;
  split_rows(200, 5, 0, tr, va);
  auto a = make("linear")->fit_predict(fold_of(fm, target, tr, va), {{"alpha", 0.0}}, nullptr);
  auto b = make("linear")->fit_predict(fold_of(fm, target, tr, va),
                                       {{"alpha", 0.0}, {"standardize", false}}, nullptr);
  for (std::size_t i = 0; i < a.valid_pred.size(); ++i) EXPECT_NEAR(a.valid_pred[i], b.valid_pred[i], 1e-9);
}

TEST(ModelLinear, LogisticConvergesToStationaryPoint) {
  auto s = make_synthetic(Task::kBinary, 400, 30);
  auto fm = FeatureMatrix::build(s.train, s.test, default_spec());
  auto target = Target::encode(s.target, Task::kBinary);
  std::vector<std::size_t> tr, va;
  split_rows(400, 4, 0, tr, va);
  auto r = make("linear")->fit_predict(fold_of(fm, target, tr, va), {{"C", 0.5}}, nullptr);
  EXPECT_LT(r.num_iterations, 1000u);
  ASSERT_EQ(r.curves.size(), 1u);
  const auto& loss = r.curves[0].train;
  for (std::size_t i = 1; i < loss.size(); ++i) EXPECT_LE(loss[i], loss[i - 1] + 1e-15);
  EXPECT_GT(auc(take(target.y, va), r.valid_pred), 0.9);
  for (double v : r.test_pred) EXPECT_TRUE(v > 0 && v < 1);
  // The gradient of the intercept vanishes at the optimum: mean predicted probability on the
  // train rows equals the positive rate.
  auto on_train = make("linear")->fit_predict(fold_of(fm, target, tr, tr), {{"C", 0.5}}, nullptr);
  double mean_p = 0, rate = 0;
  for (std::size_t i = 0; i < tr.size(); ++i) mean_p += on_train.valid_pred[i], rate += target.y[tr[i]];
  EXPECT_NEAR(mean_p / static_cast<double>(tr.size()), rate / static_cast<double>(tr.size()), 1e-6);
}

TEST(ModelLinear, MultinomialProbabilitiesSumToOne) {
  auto s = make_synthetic(Task::kMulticlass, 300, 40);
  auto fm = FeatureMatrix::build(s.train, s.test, default_spec());
  auto target = Target::encode(s.target, Task::kMulticlass);
  std::vector<std::size_t> tr, va;
  split_rows(300, 3, 2, tr, va);
  auto r = make("linear")->fit_predict(fold_of(fm, target, tr, va), {}, nullptr);
  ASSERT_EQ(r.cols, 3u);
  ASSERT_EQ(r.test_pred.size(), 40u * 3);
  std::size_t correct = 0;
  for (std::size_t i = 0; i < va.size(); ++i) {
    double sum = 0;
    std::size_t best = 0;
    for (std::size_t j = 0; j < 3; ++j) {
      sum += r.valid_pred[i * 3 + j];
      if (r.valid_pred[i * 3 + j] > r.valid_pred[i * 3 + best]) best = j;
    }
    EXPECT_NEAR(sum, 1.0, 1e-12);
    correct += static_cast<double>(best) == target.y[va[i]];
  }
  EXPECT_GT(static_cast<double>(correct) / static_cast<double>(va.size()), 0.75);
}

TEST(ModelLinear, MissingAndUnseenCategoriesAreHandled) {
  Table train;
  train.add_column(Column::from_f64("x", {1, std::nan(""), 3, 5}));
  train.add_column(Column::from_strings("c", {"a", "b", "a", "b"}));
  train.add_column(Column::from_f64("y", {1, 2, 3, 4}));
  Table test;
  test.add_column(Column::from_f64("x", {std::nan("")}));
  test.add_column(Column::from_strings("c", {"z"}));
  auto fm = FeatureMatrix::build(train, test, FeatureSpec{.target_columns = {"y"}});
  auto target = Target::encode(train.column("y"), Task::kRegression);
  std::vector<std::size_t> tr = {0, 1, 2, 3}, va = {};
  auto r = make("linear")->fit_predict(fold_of(fm, target, tr, va), {{"alpha", 0.1}}, nullptr);
  ASSERT_EQ(r.test_pred.size(), 1u);
  EXPECT_TRUE(std::isfinite(r.test_pred[0]));
  EXPECT_EQ(r.importance.size(), 2u);
}

TEST(ModelLinear, Deterministic) {
  auto s = make_synthetic(Task::kBinary, 300, 20);
  auto fm = FeatureMatrix::build(s.train, s.test, default_spec());
  auto target = Target::encode(s.target, Task::kBinary);
  std::vector<std::size_t> tr, va;
  split_rows(300, 3, 0, tr, va);
  auto a = make("linear")->fit_predict(fold_of(fm, target, tr, va), {}, nullptr);
  auto b = make("linear")->fit_predict(fold_of(fm, target, tr, va), {}, nullptr);
  EXPECT_EQ(a.valid_pred, b.valid_pred);
  EXPECT_EQ(a.test_pred, b.test_pred);
}

TEST(ModelLinear, ParameterErrors) {
  auto s = make_synthetic(Task::kBinary, 50, 5);
  auto fm = FeatureMatrix::build(s.train, s.test, default_spec());
  auto target = Target::encode(s.target, Task::kBinary);
  std::vector<std::size_t> tr, va;
  split_rows(50, 2, 0, tr, va);
  auto model = make("linear");
  try {
    model->fit_predict(fold_of(fm, target, tr, va), {{"c", 1.0}}, nullptr);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(std::string(e.what()).find("unknown linear parameter 'c' (did you mean 'C'?)"),
              std::string::npos) << e.what();
  }
  EXPECT_THROW(model->fit_predict(fold_of(fm, target, tr, va), {{"C", -1.0}}, nullptr), Error);
  EXPECT_THROW(model->fit_predict(fold_of(fm, target, tr, va), {{"standardize", 1}}, nullptr), Error);
}

TEST(ModelLinear, MaxCategoriesKeepsTheMostFrequentLevels) {
  // With max_categories = 1 only "a" (the most frequent) gets a column: the same model as one
  // where "b" and "c" are missing.
  std::vector<std::optional<std::string>> full = {"a", "a", "a", "b", "b", "c", "a", "b"};
  std::vector<std::optional<std::string>> cut = {"a", "a", "a", std::nullopt, std::nullopt, std::nullopt, "a", std::nullopt};
  std::vector<double> x = {0.5, 1, 2, 3, 1.5, 0, 2.5, 1}, y = {1, 2, 2.5, 4, 3, 1, 3.5, 2};
  auto fit = [&](const std::vector<std::optional<std::string>>& c, const nlohmann::json& params) {
    Table train, test;
    train.add_column(Column::from_f64("x", x));
    train.add_column(Column::from_strings("c", c));
    train.add_column(Column::from_f64("y", y));
    test.add_column(Column::from_f64("x", {1.0, 2.0, 3.0}));
    test.add_column(Column::from_strings("c", {"a", "b", "c"}));
    auto fm = FeatureMatrix::build(train, test, FeatureSpec{.target_columns = {"y"}});
    auto target = Target::encode(train.column("y"), Task::kRegression);
    std::vector<std::size_t> tr = {0, 1, 2, 3, 4, 5, 6, 7}, va = {};
    return make("linear")->fit_predict(fold_of(fm, target, tr, va), params, nullptr).test_pred;
  };
  auto limited = fit(full, {{"max_categories", 1}});
  auto reference = fit(cut, nlohmann::json::object());
  ASSERT_EQ(limited.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) EXPECT_NEAR(limited[i], reference[i], 1e-12);
  EXPECT_NE(fit(full, nlohmann::json::object())[1], limited[1]);
}

TEST(ModelLinear, WarnsWhenMaxIterStopsBeforeConverging) {
  Synthetic s = make_synthetic(Task::kMulticlass, 300, 10);
  auto fm = FeatureMatrix::build(s.train, s.test, default_spec());
  auto target = Target::encode(s.target, Task::kMulticlass);
  std::vector<std::size_t> tr, va;
  split_rows(300, 3, 0, tr, va);
  auto cut = make("linear")->fit_predict(fold_of(fm, target, tr, va), {{"max_iter", 3}}, nullptr);
  ASSERT_EQ(cut.notes.size(), 1u);
  EXPECT_NE(cut.notes[0].find("linear fold 0: stopped at max_iter = 3 before converging"), std::string::npos)
      << cut.notes[0];
  auto full = make("linear")->fit_predict(fold_of(fm, target, tr, va), nlohmann::json::object(), nullptr);
  EXPECT_TRUE(full.notes.empty());
}
