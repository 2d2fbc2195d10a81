// Focused metric tests: names and specs, hand-computed values, the radix-sorted AUC against a
// comparison-sort reference on inputs large enough to run in parallel, and error messages.

#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

#include "compe/error.hpp"
#include "compe/metric.hpp"
#include "metric/radix_sort.hpp"

namespace cm = compe::metric;

namespace {

cm::Inputs vec(const std::vector<double>& y, const std::vector<double>& p, std::size_t cols = 1,
               const std::vector<double>& w = {}) {
  cm::Inputs in;
  in.y_true = y;
  in.y_pred = p;
  in.pred_cols = cols;
  in.weights = w;
  return in;
}

std::string error_of(const std::string& spec, const cm::Inputs& in) {
  try {
    cm::score(spec, in);
  } catch (const compe::Error& e) {
    EXPECT_EQ(e.code(), compe::ErrorCode::kInvalidArgument) << e.what();
    return e.what();
  }
  ADD_FAILURE() << spec << " accepted the input";
  return {};
}

/// O(n log n) reference AUC with a comparison sort: ties count half.
double reference_auc(const std::vector<double>& y, const std::vector<double>& s,
                     const std::vector<double>& w) {
  std::vector<std::size_t> idx(y.size());
  for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  std::sort(idx.begin(), idx.end(), [&](auto a, auto b) { return s[a] > s[b]; });
  long double above = 0, area = 0, pos = 0, neg = 0;
  for (std::size_t i = 0; i < idx.size();) {
    std::size_t j = i;
    long double pw = 0, nw = 0;
    while (j < idx.size() && s[idx[j]] == s[idx[i]]) {
      double wi = w.empty() ? 1.0 : w[idx[j]];
      (y[idx[j]] != 0 ? pw : nw) += wi;
      ++j;
    }
    area += nw * (above + pw / 2);
    above += pw;
    pos += pw;
    neg += nw;
    i = j;
  }
  return static_cast<double>(area / (pos * neg));
}

/// Reference average precision with a comparison sort: sum over distinct scores, highest first,
/// of (recall gain) x (precision at that score).
double reference_ap(const std::vector<double>& y, const std::vector<double>& s,
                    const std::vector<double>& w) {
  std::vector<std::size_t> idx(y.size());
  for (std::size_t i = 0; i < idx.size(); ++i) idx[i] = i;
  std::sort(idx.begin(), idx.end(), [&](auto a, auto b) { return s[a] > s[b]; });
  long double total_pos = 0;
  for (std::size_t i = 0; i < y.size(); ++i) total_pos += y[i] * (w.empty() ? 1.0 : w[i]);
  long double tp = 0, fp = 0, ap = 0;
  for (std::size_t i = 0; i < idx.size();) {
    std::size_t j = i;
    long double pw = 0, nw = 0;
    while (j < idx.size() && s[idx[j]] == s[idx[i]]) {
      double wi = w.empty() ? 1.0 : w[idx[j]];
      (y[idx[j]] != 0 ? pw : nw) += wi;
      ++j;
    }
    tp += pw;
    fp += nw;
    ap += pw / total_pos * tp / (tp + fp);
    i = j;
  }
  return static_cast<double>(ap);
}

}  // namespace

TEST(MetricNames, UnknownNameSuggestsClosest) {
  try {
    cm::make("roc_acu");
    FAIL() << "expected an error";
  } catch (const compe::Error& e) {
    EXPECT_EQ(e.code(), compe::ErrorCode::kNotFound);
    std::string msg = e.what();
    EXPECT_NE(msg.find("did you mean 'roc_auc'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("log_loss"), std::string::npos) << msg;  // lists the known names
    EXPECT_NE(msg.find("roc_acu"), std::string::npos) << msg;
  }
  try {
    cm::find("zzzzzzzzzzzz");
    FAIL() << "expected an error";
  } catch (const compe::Error& e) {
    EXPECT_EQ(e.code(), compe::ErrorCode::kNotFound);
    EXPECT_EQ(std::string(e.what()).find("did you mean"), std::string::npos);
  }
}

TEST(MetricNames, SpecsAndArguments) {
  EXPECT_EQ(cm::make("auc")->spec(), "roc_auc");
  EXPECT_EQ(cm::make("ROC_AUC")->spec(), "roc_auc");
  EXPECT_EQ(cm::make("map@5")->spec(), "map@5");
  EXPECT_EQ(cm::make("mapk@5")->spec(), "map@5");
  EXPECT_EQ(cm::make("pinball@0.9")->spec(), "pinball@0.9");
  EXPECT_EQ(cm::make("ndcg@10")->spec(), "ndcg@10");
  for (const char* bad : {"map@0", "map@2.5", "map@x", "map@", "pinball@1.5", "pinball@-0.1",
                          "roc_auc@3", "ndcg@-1"}) {
    try {
      cm::make(bad);
      ADD_FAILURE() << bad << " accepted";
    } catch (const compe::Error& e) {
      EXPECT_EQ(e.code(), compe::ErrorCode::kInvalidArgument) << bad << ": " << e.what();
    }
  }
}

TEST(MetricNames, TasksAndDefaults) {
  for (cm::Task t :
       {cm::kBinary, cm::kMulticlass, cm::kRegression, cm::kMultilabel, cm::kRanking}) {
    EXPECT_EQ(cm::parse_task(cm::task_name(t)), t);
    std::string d = cm::default_for(t);
    auto m = cm::make(d);
    EXPECT_TRUE(m->info().accepts(t)) << d;
  }
  EXPECT_EQ(cm::default_for(cm::kBinary), "roc_auc");
  EXPECT_EQ(cm::default_for(cm::kMulticlass), "log_loss");
  EXPECT_EQ(cm::default_for(cm::kRegression), "rmse");
  EXPECT_EQ(cm::default_for(cm::kMultilabel), "multilabel_log_loss");
  EXPECT_THROW(cm::parse_task("clustering"), compe::Error);
  EXPECT_EQ(cm::find("log_loss").direction, cm::Direction::kMinimize);
  EXPECT_TRUE(cm::find("roc_auc").greater_is_better());
  EXPECT_TRUE(cm::find("roc_auc").needs_proba);
  EXPECT_FALSE(cm::find("accuracy").needs_proba);
}

TEST(MetricValues, HandComputed) {
  EXPECT_DOUBLE_EQ(cm::score("roc_auc", vec({0, 0, 1, 1}, {0.1, 0.4, 0.35, 0.8})), 0.75);
  EXPECT_DOUBLE_EQ(cm::score("roc_auc", vec({0, 1}, {0.5, 0.5})), 0.5);
  // n x 2 probabilities: column 1 is scored.
  EXPECT_DOUBLE_EQ(
      cm::score("roc_auc", vec({0, 0, 1, 1}, {0.9, 0.1, 0.6, 0.4, 0.65, 0.35, 0.2, 0.8}, 2)), 0.75);
  EXPECT_DOUBLE_EQ(cm::score("average_precision", vec({0, 1, 1, 0}, {0.1, 0.9, 0.4, 0.6})),
                   (1.0 + 2.0 / 3.0) / 2.0);
  EXPECT_NEAR(cm::score("log_loss", vec({1}, {0.0})), -std::log(1e-15), 1e-12);
  EXPECT_NEAR(cm::score("log_loss", vec({0, 1}, {0.2, 0.7})), -(std::log(0.8) + std::log(0.7)) / 2,
              1e-15);
  // A threshold of exactly 0.5 predicts class 0, as the argmax of (0.5, 0.5) does.
  EXPECT_DOUBLE_EQ(cm::score("accuracy", vec({0, 1}, {0.5, 0.51})), 1.0);
  EXPECT_DOUBLE_EQ(cm::score("smape", vec({0, 1}, {0, 3})), 50.0);
  EXPECT_DOUBLE_EQ(cm::score("qwk", vec({1, 2, 3}, {1, 2, 3})), 1.0);
  EXPECT_DOUBLE_EQ(cm::score("pinball@0.9", vec({1, 1}, {0, 2})), (0.9 + 0.1) / 2);
  EXPECT_DOUBLE_EQ(cm::score("rmse", vec({0, 0}, {3, 4}, 1, {1, 0})), 3.0);
  // Kaggle apk: actual {1,2,3}, predicted [1,4,2] -> (1/1 + 2/3) / 3.
  cm::LabelLists t, p;
  t.push_row(std::vector<std::int64_t>{1, 2, 3});
  p.push_row(std::vector<std::int64_t>{1, 4, 2});
  t.push_row(std::vector<std::int64_t>{5});
  p.push_row(std::vector<std::int64_t>{5, 5});
  cm::Inputs lists;
  lists.true_lists = &t;
  lists.pred_lists = &p;
  EXPECT_DOUBLE_EQ(cm::score("map@3", lists), ((1.0 + 2.0 / 3.0) / 3.0 + 1.0) / 2.0);
  EXPECT_DOUBLE_EQ(cm::score("map@1", lists), (1.0 / 1.0 + 1.0) / 2.0);
  // scikit-learn's median_ae: unweighted takes the mean of the two middle errors, weighted the
  // lower weighted median.
  EXPECT_DOUBLE_EQ(cm::score("median_ae", vec({0, 0, 0, 0}, {1, 2, 3, 4})), 2.5);
  EXPECT_DOUBLE_EQ(cm::score("median_ae", vec({0, 0, 0, 0}, {1, 2, 3, 4}, 1, {1, 1, 1, 1})), 2.0);
}

TEST(MetricValues, Errors) {
  EXPECT_NE(error_of("roc_auc", vec({1, 1}, {0.2, 0.3})).find("only one class"), std::string::npos);
  EXPECT_NE(error_of("rmsle", vec({1, 2, 3}, {1, -2, 3})).find("y_pred row 1"), std::string::npos);
  EXPECT_NE(error_of("roc_auc", vec({0, 1, 2}, {0.5, 0.5, 0, 0.2, 0.2, 0.2, 0, 0, 1}, 3))
                .find("row 1 sums to"),
            std::string::npos);
  EXPECT_NE(error_of("log_loss", vec({0, 3}, {0.5, 0.5, 0.2, 0.8}, 2)).find("y_true row 1"),
            std::string::npos);
  EXPECT_NE(error_of("f1", vec({0, 1, 2}, {0, 1, 2})).find("f1_macro"), std::string::npos);
  EXPECT_NE(error_of("accuracy", vec({0, 1.5}, {0, 1})).find("y_true row 1"), std::string::npos);
  EXPECT_NE(error_of("pearson", vec({1, 1, 1}, {1, 2, 3})).find("constant"), std::string::npos);
  EXPECT_NE(error_of("mse", vec({}, {})).find("no rows"), std::string::npos);
  EXPECT_NE(error_of("mse", vec({1, 2}, {1, 2}, 1, {0, 0})).find("sum to zero"), std::string::npos);
}

TEST(MetricRadix, SortsLikeStdSortAndIsStable) {
  std::mt19937_64 rng(11);
  std::normal_distribution<double> g(0, 1e3);
  for (std::size_t n : {0u, 1u, 5u, 1000u, 300000u}) {
    std::vector<std::pair<std::uint64_t, std::uint32_t>> v(n), tmp;
    for (std::size_t i = 0; i < n; ++i) {
      double d = i % 7 == 0 ? std::round(g(rng) / 100) : g(rng);  // ties, negatives, zeros
      if (i % 11 == 0) d = -0.0;
      v[i] = {cm::detail::order_key(d), static_cast<std::uint32_t>(i)};
    }
    auto expected = v;
    std::stable_sort(expected.begin(), expected.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    for (int threads : {1, 3}) {
      auto sorted = v;
      cm::detail::radix_sort(
          sorted, tmp, [](const auto& x) { return x.first; }, threads);
      EXPECT_EQ(sorted, expected) << n << " rows, " << threads << " threads";
    }
  }
  EXPECT_LT(cm::detail::order_key(-1.5), cm::detail::order_key(-0.5));
  EXPECT_LT(cm::detail::order_key(-0.5), cm::detail::order_key(0.0));
  EXPECT_EQ(cm::detail::order_key(-0.0), cm::detail::order_key(0.0));
  EXPECT_LT(cm::detail::order_key(0.0), cm::detail::order_key(1e-300));
}

TEST(MetricRadix, LargeAucAndApMatchComparisonSort) {
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> u(0, 1);
  const std::size_t n = 400000;
  std::vector<double> y(n), s(n), w(n);
  for (std::size_t i = 0; i < n; ++i) {
    y[i] = u(rng) < 0.3 ? 1.0 : 0.0;
    s[i] = i % 3 == 0 ? std::round((y[i] + u(rng)) * 50) / 50 - 0.5 : y[i] * 0.2 + u(rng) - 0.5;
    w[i] = 0.1 + u(rng);
  }
  EXPECT_NEAR(cm::score("roc_auc", vec(y, s)), reference_auc(y, s, {}), 1e-12);
  EXPECT_NEAR(cm::score("roc_auc", vec(y, s, 1, w)), reference_auc(y, s, w), 1e-12);
  EXPECT_NEAR(cm::score("average_precision", vec(y, s)), reference_ap(y, s, {}), 1e-12);
  EXPECT_NEAR(cm::score("average_precision", vec(y, s, 1, w)), reference_ap(y, s, w), 1e-12);
  // Label errors are found on the parallel path too, naming the first bad row.
  std::vector<double> bad = y;
  bad[n - 10] = 2.0;
  bad[n / 2 + 7] = -1.0;
  EXPECT_NE(error_of("roc_auc", vec(bad, s)).find(fmt::format("row {} ", n / 2 + 7)),
            std::string::npos);
}

TEST(MetricParallel, SameResultForAnyThreadCount) {
  std::mt19937_64 rng(9);
  std::uniform_real_distribution<double> u(0, 1);
  const std::size_t n = 300000;
  std::vector<double> y(n), p(n);
  for (std::size_t i = 0; i < n; ++i) {
    y[i] = u(rng) < 0.5 ? 1.0 : 0.0;
    p[i] = u(rng);
  }
  int saved = omp_get_max_threads();
  std::vector<double> results;
  for (int threads : {1, 2, 3}) {
    omp_set_num_threads(threads);
    for (const char* spec : {"log_loss", "roc_auc", "rmse", "average_precision"})
      results.push_back(cm::score(spec, vec(y, p)));
  }
  omp_set_num_threads(saved);
  for (std::size_t i = 4; i < results.size(); ++i) EXPECT_EQ(results[i], results[i % 4]) << i;
}
