#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "compe/blend.hpp"
#include "compe/error.hpp"
#include "compe/metric.hpp"
#include "compe/model.hpp"
#include "compe/oof.hpp"
#include "model_test_util.hpp"

using namespace compe;
using namespace compe::model;
using namespace compe::model::testing;

namespace {

// Three 0/1 label columns of the synthetic features: a = [x0 > 0], b = [x1 + noise > 0.3],
// c = [x0 + x2 > 0].
std::vector<Column> label_columns(const Synthetic& s, std::uint32_t seed = 3) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> noise(0.0, 0.5);
  const Column &x0 = s.train.column("x0"), &x1 = s.train.column("x1"), &x2 = s.train.column("x2");
  const std::size_t n = s.train.num_rows();
  std::vector<std::int64_t> a(n), b(n), c(n);
  for (std::size_t i = 0; i < n; ++i) {
    a[i] = x0.as_double(i) > 0;
    b[i] = x1.as_double(i) + noise(rng) > 0.3;
    c[i] = x0.as_double(i) + x2.as_double(i) > 0;
  }
  return {Column::from_i64("a", a), Column::from_i64("b", b), Column::from_i64("c", c)};
}

Target encode(const std::vector<Column>& cols) {
  std::vector<const Column*> p;
  for (const auto& c : cols) p.push_back(&c);
  return Target::encode_multilabel(p);
}

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(MultilabelTarget, EncodesRowMajorIndicatorsAndSplitsIntoBinaryLabels) {
  std::vector<Column> cols = {Column::from_i64("x", {0, 1, 1}), Column::from_f64("y", {1.0, 0.0, 1.0})};
  Target t = encode(cols);
  EXPECT_EQ(t.task, Task::kMultilabel);
  EXPECT_EQ(t.num_class, 2u);
  EXPECT_EQ(t.prediction_columns(), 2u);
  EXPECT_EQ(t.rows(), 3u);
  EXPECT_EQ(t.y, (std::vector<double>{0, 1, 1, 0, 1, 1}));
  EXPECT_EQ(t.columns, (std::vector<std::string>{"x", "y"}));
  EXPECT_EQ(t.classes, t.columns);
  Target y = t.label(1);
  EXPECT_EQ(y.task, Task::kBinary);
  EXPECT_EQ(y.column, "y");
  EXPECT_EQ(y.y, (std::vector<double>{1, 0, 1}));
}

TEST(MultilabelTarget, NamesTheColumnAndRowOfABadValue) {
  std::vector<Column> two = {Column::from_i64("x", {0, 1}), Column::from_i64("y", {1, 2})};
  std::string e = error_of([&] { encode(two); });
  EXPECT_NE(e.find("'y' row 2"), std::string::npos) << e;
  EXPECT_NE(e.find("not 0 or 1"), std::string::npos) << e;
  std::vector<Column> missing = {Column::from_f64("x", {0, std::nan("")})};
  e = error_of([&] { encode(missing); });
  EXPECT_NE(e.find("'x' is missing at row 2"), std::string::npos) << e;
  std::vector<Column> text = {Column::from_strings("z", {std::string("yes"), std::string("no")})};
  e = error_of([&] { encode(text); });
  EXPECT_NE(e.find("'z' row 1"), std::string::npos) << e;
  std::vector<Column> twice = {Column::from_i64("x", {0, 1}), Column::from_i64("x", {0, 1})};
  EXPECT_NE(error_of([&] { encode(twice); }).find("listed twice"), std::string::npos);
}

// Each column of a multilabel fit is the binary fit of that column (one model per label), and
// training the labels in parallel gives the same predictions as one at a time.
TEST(MultilabelBackends, EachColumnIsTheBinaryFitOfItsLabel) {
  auto s = make_synthetic(Task::kBinary, 160, 20);
  auto labels = label_columns(s);
  Target target = encode(labels);
  FeatureSpec spec = default_spec();
  spec.target_columns = {"y", "a", "b", "c"};
  auto fm = FeatureMatrix::build(s.train, s.test, spec);
  std::vector<std::size_t> tr, va;
  split_rows(160, 4, 1, tr, va);
  for (const char* backend : {"xgboost", "linear"}) {
    SCOPED_TRACE(backend);
    nlohmann::json params = std::string(backend) == "xgboost"
                                ? nlohmann::json{{"num_boost_round", 30}, {"early_stopping_rounds", 5}}
                                : nlohmann::json::object();
    FoldData d;
    d.features = &fm;
    d.target = &target;
    d.train_rows = tr;
    d.valid_rows = va;
    d.metric = "multilabel_log_loss";
    d.seed = 5;
    d.threads = 1;
    FoldResult all = make(backend)->fit_predict(d, params, nullptr);
    ASSERT_EQ(all.cols, 3u);
    ASSERT_EQ(all.valid_pred.size(), va.size() * 3);
    ASSERT_EQ(all.test_pred.size(), 20u * 3);
    for (std::size_t j = 0; j < 3; ++j) {
      Target one = target.label(j);
      FoldData b = d;
      b.target = &one;
      b.metric = "log_loss";
      FoldResult r = make(backend)->fit_predict(b, params, nullptr);
      for (std::size_t i = 0; i < va.size(); ++i) EXPECT_EQ(all.valid_pred[i * 3 + j], r.valid_pred[i]);
      for (std::size_t i = 0; i < 20; ++i) EXPECT_EQ(all.test_pred[i * 3 + j], r.test_pred[i]);
      EXPECT_GT(auc(take(one.y, va), [&] {
                  std::vector<double> p;
                  for (std::size_t i = 0; i < va.size(); ++i) p.push_back(all.valid_pred[i * 3 + j]);
                  return p;
                }()),
                0.6);
    }
    d.threads = 3;
    FoldResult parallel = make(backend)->fit_predict(d, params, nullptr);
    for (std::size_t i = 0; i < all.valid_pred.size(); ++i)
      EXPECT_NEAR(parallel.valid_pred[i], all.valid_pred[i], 1e-12);
  }
}

TEST(MultilabelBackends, CancellingOneLabelStopsTheFit) {
  auto s = make_synthetic(Task::kBinary, 120, 10);
  auto labels = label_columns(s);
  Target target = encode(labels);
  auto fm = FeatureMatrix::build(s.train, s.test, default_spec());
  std::vector<std::size_t> tr, va;
  split_rows(120, 4, 0, tr, va);
  FoldData d;
  d.features = &fm;
  d.target = &target;
  d.train_rows = tr;
  d.valid_rows = va;
  d.threads = 2;
  std::vector<std::string> seen;
  std::mutex mu;
  auto progress = [&](const Progress& p) {
    std::lock_guard lock(mu);
    seen.push_back(p.message);
    if (p.iteration == 3) throw Error(ErrorCode::kInvalidArgument, "cancelled");
  };
  EXPECT_THROW(make("xgboost")->fit_predict(d, {{"num_boost_round", 50}}, progress), Error);
  ASSERT_FALSE(seen.empty());
  EXPECT_TRUE(std::any_of(seen.begin(), seen.end(), [](const std::string& m) { return m.starts_with("a: "); }))
      << seen.front();
}

TEST(MultilabelF1, ThresholdArgumentAndShapesAreChecked) {
  EXPECT_THROW(metric::make("f1_macro_multilabel@1.5"), Error);
  EXPECT_EQ(metric::make("f1_micro_multilabel@0.3")->spec(), "f1_micro_multilabel@0.3");
  std::vector<double> y = {1, 0, 0, 1}, p = {0.6, 0.4, 0.2, 0.9};
  // Rows (1,0) and (0,1), predictions at 0.5 (1,0) and (0,1): perfect; at 0.3 the 0.4 turns on.
  EXPECT_DOUBLE_EQ(metric::score("f1_micro_multilabel", {.y_true = y, .true_cols = 2, .y_pred = p, .pred_cols = 2}), 1.0);
  EXPECT_DOUBLE_EQ(metric::score("f1_micro_multilabel@0.3", {.y_true = y, .true_cols = 2, .y_pred = p, .pred_cols = 2}),
                   2.0 * 2 / (2 * 2 + 1));
  EXPECT_THROW(metric::score("f1_samples_multilabel", {.y_true = y, .true_cols = 2, .y_pred = p, .pred_cols = 1}), Error);
}

TEST(MultilabelThresholds, OneThresholdPerColumnNeverScoresBelowTheDefault) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  const std::size_t n = 300, k = 3;
  run::Reference ref;
  ref.task = metric::kMultilabel;
  ref.metric = "f1_macro_multilabel";
  ref.true_cols = k;
  ref.prediction_columns = {"a", "b", "c"};
  std::vector<double> pred(n * k);
  for (std::size_t r = 0; r < n; ++r) {
    ref.folds.push_back(static_cast<int>(r % 3));
    for (std::size_t j = 0; j < k; ++j) {
      double y = u(rng) < 0.3 ? 1 : 0;
      ref.y_true.push_back(y);
      // Column j's scores are shifted down by 0.2 j: the best threshold moves with them.
      pred[r * k + j] = std::clamp(0.35 * y + 0.5 * u(rng) + 0.2 - 0.2 * static_cast<double>(j), 0.0, 1.0);
    }
  }
  blend::Decision d = blend::fit_decision(ref, pred, ref.y_true, 20);
  EXPECT_EQ(d.kind, "column_thresholds");
  ASSERT_EQ(d.cuts.size(), k);
  EXPECT_LT(d.cuts[2], d.cuts[0]);
  std::vector<int> labels = d.labels(pred, k);
  ASSERT_EQ(labels.size(), n * k);
  std::vector<double> as_pred(labels.begin(), labels.end());
  const double tuned = run::score_rows(ref, as_pred), plain = run::score_rows(ref, pred);
  EXPECT_GT(tuned, plain);
  ref.metric = "multilabel_auc";
  EXPECT_THROW(blend::fit_decision(ref, pred, ref.y_true, 20), Error);
}
