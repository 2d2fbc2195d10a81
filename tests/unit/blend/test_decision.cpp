#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>

#include <fmt/core.h>

#include "compe/blend.hpp"
#include "compe/error.hpp"
#include "compe/metric.hpp"
#include "../error_of.hpp"

using compe::Column;
namespace blend = compe::blend;

namespace {

blend::Reference ref_of(compe::metric::Task task, std::string metric, std::vector<double> y,
                        std::size_t cols) {
  blend::Reference ref;
  ref.task = task;
  ref.metric = std::move(metric);
  ref.y_true = std::move(y);
  std::vector<std::int64_t> ids(ref.y_true.size());
  for (std::size_t i = 0; i < ids.size(); ++i) {
    ids[i] = static_cast<std::int64_t>(i);
    ref.folds.push_back(static_cast<int>(i % 2));
  }
  ref.train_ids = Column::from_i64("id", ids);
  ref.test_ids = Column::from_i64("id", {1000, 1001});
  for (std::size_t c = 0; c < cols; ++c) ref.prediction_columns.push_back(fmt::format("p{}", c));
  for (std::size_t c = 0; c < std::max<std::size_t>(cols, 2); ++c)
    ref.classes.push_back(std::to_string(c));
  return ref;
}

using compe::testing::message_of;

struct Lcg {
  std::uint64_t state;
  double next() {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(state >> 11) / 9007199254740992.0;
  }
};

/// Probabilities (3 classes) whose expected class index is s (0 <= s <= 2).
std::vector<double> ordinal_row(double s) {
  double p2 = std::max(0.0, s - 1), p1 = s - 2 * p2;
  return {1 - p1 - p2, p1, p2};
}

}  // namespace

TEST(BlendDecision, BinaryThresholdByHand) {
  // Every score below 0.5: as predicted, all rows are 0 (accuracy 4/8). Thresholds in
  // (0.15, 0.2] and (0.25, 0.3] both get 7/8 (every other cut less): of the tied positions the
  // middle one (here the second of two) is kept, at the midpoint 0.275.
  auto ref = ref_of(compe::metric::kBinary, "accuracy", {0, 0, 0, 1, 0, 1, 1, 1}, 1);
  std::vector<double> p = {0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4};
  auto d = blend::fit_decision(ref, p, ref.y_true);
  EXPECT_EQ(d.kind, "threshold");
  ASSERT_EQ(d.cuts.size(), 1u);
  EXPECT_NEAR(d.cuts[0], 0.275, 1e-15);
  EXPECT_EQ(d.labels(p, 1), (std::vector<int>{0, 0, 0, 0, 0, 1, 1, 1}));
  auto r = blend::optimize_decision(ref, p, std::vector<double>{0.1, 0.3});
  EXPECT_DOUBLE_EQ(r.default_score, 0.5);
  EXPECT_DOUBLE_EQ(r.in_sample_score, 0.875);
  EXPECT_EQ(r.test_labels, (std::vector<int>{0, 1}));
  EXPECT_EQ(r.fold_decisions.size(), 2u);
  EXPECT_EQ(r.fold_scores.size(), 2u);
}

TEST(BlendDecision, RounderFindsTheOrdinalCutsByHand) {
  // Expected class index s per row; plain rounding (cuts 0.5, 1.5) mislabels 0.7 and 1.3-1.4.
  // The cuts that label every row right lie in (0.7, 0.8] and (1.1, 1.3]: midpoints 0.75, 1.2.
  std::vector<double> s = {0.1, 0.2, 0.3, 0.7, 0.8, 0.9, 1.0, 1.1, 1.3, 1.35, 1.4, 1.9};
  std::vector<double> y = {0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2};
  auto ref = ref_of(compe::metric::kMulticlass, "qwk", y, 3);
  std::vector<double> p;
  for (double v : s)
    for (double x : ordinal_row(v)) p.push_back(x);
  auto d = blend::fit_decision(ref, p, y);
  EXPECT_EQ(d.kind, "rounder");
  ASSERT_EQ(d.cuts.size(), 2u);
  EXPECT_NEAR(d.cuts[0], 0.75, 1e-12);
  EXPECT_NEAR(d.cuts[1], 1.2, 1e-12);
  EXPECT_TRUE(d.converged);
  std::vector<int> want(y.begin(), y.end());
  EXPECT_EQ(d.labels(p, 3), want);
  auto r = blend::optimize_decision(ref, p, ordinal_row(1.25));
  EXPECT_LT(r.default_score, 0.95);
  EXPECT_DOUBLE_EQ(r.in_sample_score, 1.0);
  EXPECT_EQ(r.test_labels, std::vector<int>{2});
}

TEST(BlendDecision, ClassWeightsRaiseAnUnderpredictedClass) {
  // Class 2's rows have p = (0.4, 0.25, 0.35): argmax says 0. Any w2 in (0.4/0.35, 0.6/0.3)
  // labels every row right.
  std::vector<double> y = {0, 0, 1, 1, 2, 2}, p;
  for (double c : y) {
    std::vector<double> row = c == 0   ? std::vector<double>{0.6, 0.1, 0.3}
                              : c == 1 ? std::vector<double>{0.2, 0.7, 0.1}
                                       : std::vector<double>{0.4, 0.25, 0.35};
    p.insert(p.end(), row.begin(), row.end());
  }
  auto ref = ref_of(compe::metric::kMulticlass, "f1_macro", y, 3);
  auto r = blend::optimize_decision(ref, p, std::vector<double>{0.4, 0.25, 0.35});
  EXPECT_EQ(r.decision.kind, "class_weights");
  const auto& w = r.decision.class_weights;
  ASSERT_EQ(w.size(), 3u);
  EXPECT_GT(w[2] / w[0], 0.4 / 0.35);
  EXPECT_LT(w[2] / w[0], 0.6 / 0.3);
  EXPECT_DOUBLE_EQ(r.in_sample_score, 1.0);
  EXPECT_LT(r.default_score, 1.0);
  EXPECT_EQ(r.test_labels, std::vector<int>{2});
}

TEST(BlendDecision, EveryBinaryLabelMetricGetsTheBestThresholdOfAll) {
  // Every label metric of the registry that accepts binary tasks: the fitted threshold's score
  // equals the best over every possible cut (labels p >= t for each distinct p, and none).
  Lcg rng{5};
  const std::size_t n = 300;
  std::vector<double> y(n), p(n);
  for (std::size_t i = 0; i < n; ++i) {
    y[i] = rng.next() < 0.35 ? 1 : 0;
    p[i] = std::round((0.3 * y[i] + 0.7 * rng.next()) * 50) / 50;  // ties
  }
  std::set<double> cuts(p.begin(), p.end());
  cuts.insert(2.0);
  int checked = 0;
  for (const auto& row : compe::metric::builtin()) {
    if (!row.accepts(compe::metric::kBinary) || !blend::scores_labels(row.name)) continue;
    ++checked;
    auto ref = ref_of(compe::metric::kBinary, row.name, y, 1);
    auto metric = compe::metric::make(row.name);
    double best = 0;
    bool first = true;
    for (double t : cuts) {
      std::vector<double> labels(n);
      for (std::size_t i = 0; i < n; ++i) labels[i] = p[i] >= t ? 1 : 0;
      double s = metric->score({.y_true = y, .y_pred = labels});
      if (first || (row.greater_is_better() ? s > best : s < best)) best = s, first = false;
    }
    auto d = blend::fit_decision(ref, p, y);
    std::vector<int> got = d.labels(p, 1);
    std::vector<double> labels(got.begin(), got.end());
    EXPECT_NEAR(metric->score({.y_true = y, .y_pred = labels}), best, 1e-12) << row.name;
  }
  EXPECT_GE(checked, 8);
}

TEST(BlendDecision, EveryMulticlassLabelMetricNeverLosesInSample) {
  Lcg rng{9};
  const std::size_t n = 240, k = 4;
  std::vector<double> y(n), p(n * k);
  for (std::size_t i = 0; i < n; ++i) {
    y[i] = static_cast<double>(i % k);
    double sum = 0;
    for (std::size_t c = 0; c < k; ++c) {
      double v = rng.next() + (c == i % k ? 0.4 : 0.0) + (c == 0 ? 0.3 : 0.0);
      p[i * k + c] = v;
      sum += v;
    }
    for (std::size_t c = 0; c < k; ++c) p[i * k + c] /= sum;
  }
  int checked = 0;
  for (const auto& row : compe::metric::builtin()) {
    if (!row.accepts(compe::metric::kMulticlass) || !blend::scores_labels(row.name)) continue;
    ++checked;
    auto ref = ref_of(compe::metric::kMulticlass, row.name, y, k);
    auto r = blend::optimize_decision(ref, p, std::vector<double>(p.begin(), p.begin() + k));
    EXPECT_FALSE(row.greater_is_better() ? r.in_sample_score < r.default_score - 1e-12
                                         : r.in_sample_score > r.default_score + 1e-12)
        << row.name;
    EXPECT_EQ(r.decision.kind, row.name == "qwk" ? "rounder" : "class_weights");
    // Nested labels are each fold's decision applied to that fold.
    for (std::size_t i = 0; i < n; ++i) {
      const auto& fd = r.fold_decisions[static_cast<std::size_t>(ref.folds[i])];
      EXPECT_EQ(fd.labels(std::span<const double>(p).subspan(i * k, k), k)[0],
                r.nested_labels[i]);
    }
  }
  EXPECT_GE(checked, 10);
}

TEST(BlendDecision, ProbabilityMetricsAndRegressionAreRefused) {
  auto ref = ref_of(compe::metric::kBinary, "roc_auc", {0, 1, 0, 1}, 1);
  std::vector<double> p = {0.1, 0.9, 0.2, 0.8};
  EXPECT_NE(message_of([&] { blend::fit_decision(ref, p, ref.y_true); }).find("scores probabilities"),
            std::string::npos);
  auto reg = ref_of(compe::metric::kRegression, "rmse", {1, 2, 3, 4}, 1);
  EXPECT_NE(message_of([&] { blend::fit_decision(reg, p, reg.y_true); }).find("regression"),
            std::string::npos);
  EXPECT_TRUE(blend::scores_labels("f1"));
  EXPECT_TRUE(blend::scores_labels("qwk"));
  EXPECT_FALSE(blend::scores_labels("log_loss"));
  EXPECT_FALSE(blend::scores_labels("rmse"));
}

TEST(BlendDecision, LabelsAsPredictions) {
  auto bin = ref_of(compe::metric::kBinary, "f1", {0, 1}, 1);
  EXPECT_EQ(blend::labels_as_predictions(bin, std::vector<int>{1, 0}),
            (std::vector<double>{1, 0}));
  auto mc = ref_of(compe::metric::kMulticlass, "accuracy", {0, 1, 2}, 3);
  EXPECT_EQ(blend::labels_as_predictions(mc, std::vector<int>{2, 0}),
            (std::vector<double>{0, 0, 1, 1, 0, 0}));
}

namespace {

/// Rows of k-class probabilities whose argmax favours class 0 (a biased model), truth i % k.
std::vector<double> biased_probabilities(std::size_t n, std::size_t k, std::uint64_t seed,
                                         double bias, std::vector<double>& y) {
  Lcg rng{seed};
  y.resize(n);
  std::vector<double> p(n * k);
  for (std::size_t i = 0; i < n; ++i) {
    y[i] = static_cast<double>(i % k);
    double sum = 0;
    for (std::size_t c = 0; c < k; ++c) {
      double v = rng.next() + (c == i % k ? 0.4 : 0.0) + (c == 0 ? bias : 0.0);
      p[i * k + c] = v;
      sum += v;
    }
    for (std::size_t c = 0; c < k; ++c) p[i * k + c] /= sum;
  }
  return p;
}

}  // namespace

TEST(BlendDecision, ClassWeightsAreACoordinateOptimumOfEveryMulticlassMetric) {
  // The search reads scores from sufficient statistics updated row by row; here every metric is
  // recomputed by the registry from the labels: no single weight, moved to any position between
  // the rows' switch points, scores better than the fitted weights. 320 rows: the switch keys
  // are radix sorted (256 rows or more).
  const std::size_t n = 320, k = 4;
  std::vector<double> y;
  std::vector<double> p = biased_probabilities(n, k, 9, 0.3, y);
  int checked = 0;
  for (const auto& row : compe::metric::builtin()) {
    if (!row.accepts(compe::metric::kMulticlass) || !blend::scores_labels(row.name) || row.name == "qwk")
      continue;
    ++checked;
    auto ref = ref_of(compe::metric::kMulticlass, row.name, y, k);
    auto metric = compe::metric::make(row.name);
    blend::Decision d = blend::fit_decision(ref, p, y);
    ASSERT_TRUE(d.converged) << row.name;
    auto score_of = [&](const blend::Decision& dec) {
      std::vector<int> l = dec.labels(p, k);
      std::vector<double> yp(l.begin(), l.end());
      return metric->score({.y_true = y, .y_pred = yp});
    };
    const double fitted = score_of(d);
    for (std::size_t j = 0; j < k; ++j) {
      std::vector<double> keys;
      for (std::size_t r = 0; r < n; ++r) {
        double m = 0;
        for (std::size_t c = 0; c < k; ++c)
          if (c != j) m = std::max(m, d.class_weights[c] * p[r * k + c]);
        keys.push_back(m / p[r * k + j]);
      }
      std::sort(keys.begin(), keys.end());
      std::vector<double> candidates = {keys.front() / 2, keys.back() * 2};
      for (std::size_t i = 0; i + 1 < n; ++i) candidates.push_back((keys[i] + keys[i + 1]) / 2);
      for (double w : candidates) {
        blend::Decision t = d;
        t.class_weights[j] = w;
        EXPECT_LE(score_of(t), fitted + 1e-12) << row.name << " class " << j << " weight " << w;
      }
    }
  }
  EXPECT_GE(checked, 10);
}

TEST(BlendDecision, NestedFitsGiveTheSameResultOnAnyThreadCount) {
  std::vector<double> y;
  std::vector<double> p = biased_probabilities(300, 5, 17, 0.3, y);
  auto ref = ref_of(compe::metric::kMulticlass, "f1_macro", y, 5);
  for (std::size_t i = 0; i < y.size(); ++i) ref.folds[i] = static_cast<int>(i % 4);
  std::vector<double> test(p.begin(), p.begin() + 10);
  auto one = blend::optimize_decision(ref, p, test, 100, 1);
  auto many = blend::optimize_decision(ref, p, test, 100, 3);
  EXPECT_EQ(one.decision.class_weights, many.decision.class_weights);
  EXPECT_EQ(one.nested_labels, many.nested_labels);
  EXPECT_EQ(one.fold_scores, many.fold_scores);
  ASSERT_EQ(many.fold_decisions.size(), 4u);
  for (std::size_t f = 0; f < 4; ++f)
    EXPECT_EQ(one.fold_decisions[f].class_weights, many.fold_decisions[f].class_weights);
}

TEST(BlendDecision, SaysWhetherTheFittedWeightsBeatThePredictionsOnNestedCv) {
  // A model biased to class 0: the weights undo the bias on held-out folds too.
  std::vector<double> y;
  std::vector<double> p = biased_probabilities(400, 3, 21, 0.5, y);
  auto ref = ref_of(compe::metric::kMulticlass, "accuracy", y, 3);
  auto r = blend::optimize_decision(ref, p, std::vector<double>(p.begin(), p.begin() + 3));
  EXPECT_GT(r.nested_score, r.default_score);
  EXPECT_TRUE(r.beats_input);
  // Predictions that are already right on every row: nothing to gain, and the result says so.
  std::vector<double> perfect(p.size(), 0.1);
  for (std::size_t i = 0; i < y.size(); ++i) perfect[i * 3 + static_cast<std::size_t>(y[i])] = 0.8;
  auto same = blend::optimize_decision(ref, perfect, std::vector<double>(perfect.begin(), perfect.begin() + 3));
  EXPECT_EQ(same.default_score, 1.0);
  EXPECT_EQ(same.nested_score, 1.0);
  EXPECT_FALSE(same.beats_input);
}
