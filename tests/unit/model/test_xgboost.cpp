#include <gtest/gtest.h>

#include <cmath>
#include <thread>

#include "compe/error.hpp"
#include "compe/model.hpp"
#include "model_test_util.hpp"

using namespace compe;
using namespace compe::model;
using namespace compe::model::testing;

namespace {

struct Problem {
  Synthetic data;
  FeatureMatrix fm;
  Target target;
  std::vector<std::size_t> train_rows, valid_rows;

  Problem(Task task, std::size_t n, std::size_t m = 50)
      : data(make_synthetic(task, n, m)),
        fm(FeatureMatrix::build(data.train, data.test, default_spec())),
        target(Target::encode(data.target, task)) {
    split_rows(n, 4, 1, train_rows, valid_rows);
  }

  FoldData fold() const {
    FoldData d;
    d.features = &fm;
    d.target = &target;
    d.train_rows = train_rows;
    d.valid_rows = valid_rows;
    d.fold = 1;
    d.seed = 42;
    d.threads = 2;
    return d;
  }
};

nlohmann::json small_params() {
  return {{"num_boost_round", 60}, {"early_stopping_rounds", 0}, {"learning_rate", 0.2},
          {"max_depth", 3}};
}

}  // namespace

TEST(ModelXgboost, BinaryLearns) {
  Problem p(Task::kBinary, 800);
  auto model = make("xgboost");
  auto data = p.fold();
  data.metric = "roc_auc";
  auto r = model->fit_predict(data, small_params(), nullptr);
  ASSERT_EQ(r.cols, 1u);
  ASSERT_EQ(r.valid_pred.size(), p.valid_rows.size());
  ASSERT_EQ(r.test_pred.size(), 50u);
  for (double v : r.valid_pred) EXPECT_TRUE(v >= 0 && v <= 1);
  EXPECT_GT(auc(take(p.target.y, p.valid_rows), r.valid_pred), 0.9);
  EXPECT_EQ(r.num_iterations, 60u);
  EXPECT_EQ(r.best_iteration, 59u);
  ASSERT_FALSE(r.curves.empty());
  EXPECT_EQ(r.curves[0].metric, "auc");
  EXPECT_EQ(r.curves[0].train.size(), 60u);
  EXPECT_EQ(r.curves[0].valid.size(), 60u);
  // x0 drives the label most; x2 is noise.
  ASSERT_TRUE(r.importance.count("x0"));
  EXPECT_GT(r.importance["x0"], r.importance["x2"]);
  EXPECT_GT(r.importance["city"], 0.0);
}

TEST(ModelXgboost, MulticlassProbabilities) {
  Problem p(Task::kMulticlass, 600);
  auto r = make("xgboost")->fit_predict(p.fold(), small_params(), nullptr);
  ASSERT_EQ(r.cols, 3u);
  ASSERT_EQ(r.valid_pred.size(), p.valid_rows.size() * 3);
  ASSERT_EQ(r.test_pred.size(), 50u * 3);
  std::size_t correct = 0;
  for (std::size_t i = 0; i < p.valid_rows.size(); ++i) {
    double sum = r.valid_pred[i * 3] + r.valid_pred[i * 3 + 1] + r.valid_pred[i * 3 + 2];
    EXPECT_NEAR(sum, 1.0, 1e-5);
    auto best = std::max_element(r.valid_pred.begin() + static_cast<long>(i * 3),
                                 r.valid_pred.begin() + static_cast<long>(i * 3 + 3)) -
                (r.valid_pred.begin() + static_cast<long>(i * 3));
    correct += static_cast<double>(best) == p.target.y[p.valid_rows[i]];
  }
  EXPECT_GT(static_cast<double>(correct) / static_cast<double>(p.valid_rows.size()), 0.7);
  EXPECT_EQ(r.curves[0].metric, "mlogloss");
}

TEST(ModelXgboost, RegressionLearns) {
  Problem p(Task::kRegression, 600);
  auto data = p.fold();
  data.metric = "rmse";
  auto r = make("xgboost")->fit_predict(data, small_params(), nullptr);
  double sse = 0, sst = 0, mean = 0;
  for (auto row : p.valid_rows) mean += p.target.y[row];
  mean /= static_cast<double>(p.valid_rows.size());
  for (std::size_t i = 0; i < p.valid_rows.size(); ++i) {
    double y = p.target.y[p.valid_rows[i]];
    sse += (y - r.valid_pred[i]) * (y - r.valid_pred[i]);
    sst += (y - mean) * (y - mean);
  }
  EXPECT_GT(1 - sse / sst, 0.8);
  EXPECT_EQ(r.curves[0].metric, "rmse");
}

TEST(ModelXgboost, DeterministicForASeed) {
  Problem p(Task::kBinary, 500);
  nlohmann::json params = small_params();
  params["subsample"] = 0.7;
  params["colsample_bytree"] = 0.7;
  auto a = make("xgboost")->fit_predict(p.fold(), params, nullptr);
  auto b = make("xgboost")->fit_predict(p.fold(), params, nullptr);
  EXPECT_EQ(a.valid_pred, b.valid_pred);
  EXPECT_EQ(a.test_pred, b.test_pred);
  auto data = p.fold();
  data.seed = 43;
  auto c = make("xgboost")->fit_predict(data, params, nullptr);
  EXPECT_NE(a.valid_pred, c.valid_pred);
}

TEST(ModelXgboost, EarlyStoppingStops) {
  Problem p(Task::kBinary, 400);
  nlohmann::json params = {{"num_boost_round", 2000}, {"early_stopping_rounds", 10},
                           {"learning_rate", 0.5}, {"max_depth", 6}, {"early_stopping", "valid"}};
  auto data = p.fold();
  data.metric = "log_loss";
  std::size_t calls = 0;
  auto r = make("xgboost")->fit_predict(data, params, [&](const Progress&) { ++calls; });
  EXPECT_LT(r.num_iterations, 2000u);
  EXPECT_EQ(r.num_iterations, r.best_iteration + 11);
  EXPECT_EQ(calls, r.num_iterations);
  const auto& valid = r.curves[0].valid;
  ASSERT_EQ(valid.size(), r.num_iterations);
  EXPECT_EQ(*std::min_element(valid.begin(), valid.end()), valid[r.best_iteration]);
}

TEST(ModelXgboost, UserEvaluatorDrivesEarlyStopping) {
  Problem p(Task::kBinary, 400);
  nlohmann::json params = {{"num_boost_round", 500}, {"early_stopping_rounds", 5},
                           {"learning_rate", 0.5}, {"early_stopping", "valid"}};
  auto valid_y = take(p.target.y, p.valid_rows);
  Evaluator eval{"my_auc", true, [&](std::span<const double> pred, std::size_t cols) {
                   EXPECT_EQ(cols, 1u);
                   return auc(valid_y, std::vector<double>(pred.begin(), pred.end()));
                 }};
  auto data = p.fold();
  data.metric = "custom_metric_without_native";
  data.evaluator = &eval;
  auto r = make("xgboost")->fit_predict(data, params, nullptr);
  auto curve = std::find_if(r.curves.begin(), r.curves.end(), [](const Curve& c) { return c.metric == "my_auc"; });
  ASSERT_NE(curve, r.curves.end());
  EXPECT_EQ(curve->valid.size(), r.num_iterations);
  EXPECT_LT(r.num_iterations, 500u);
  EXPECT_DOUBLE_EQ(auc(valid_y, r.valid_pred), curve->valid[r.best_iteration]);
}

TEST(ModelXgboost, SlicingMatchesPerFoldTables) {
  // One model reused over folds (sliced from one DMatrix) equals a model trained on a table
  // holding only that fold's rows.
  Problem p(Task::kBinary, 300);
  auto model = make("xgboost");
  auto shared = model->fit_predict(p.fold(), small_params(), nullptr);
  std::vector<std::size_t> all(p.train_rows);
  all.insert(all.end(), p.valid_rows.begin(), p.valid_rows.end());
  Table sub_train = p.data.train.take(all);
  auto fm = FeatureMatrix::build(sub_train, p.data.test, default_spec());
  auto target = Target::encode(sub_train.column("y"), Task::kBinary);
  std::vector<std::size_t> tr(p.train_rows.size()), va(p.valid_rows.size());
  for (std::size_t i = 0; i < tr.size(); ++i) tr[i] = i;
  for (std::size_t i = 0; i < va.size(); ++i) va[i] = tr.size() + i;
  FoldData d = p.fold();
  d.features = &fm;
  d.target = &target;
  d.train_rows = tr;
  d.valid_rows = va;
  auto separate = make("xgboost")->fit_predict(d, small_params(), nullptr);
  EXPECT_EQ(shared.valid_pred, separate.valid_pred);
  EXPECT_EQ(shared.test_pred, separate.test_pred);
  // A second fold on the same model reuses the cached matrices.
  split_rows(300, 4, 2, p.train_rows, p.valid_rows);
  auto second = model->fit_predict(p.fold(), small_params(), nullptr);
  EXPECT_EQ(second.valid_pred.size(), p.valid_rows.size());
}

TEST(ModelXgboost, WeightsChangeTheModel) {
  Problem p(Task::kBinary, 300);
  std::vector<double> w(300, 1.0);
  for (std::size_t i = 0; i < w.size(); i += 3) w[i] = 5.0;
  auto data = p.fold();
  auto a = make("xgboost")->fit_predict(data, small_params(), nullptr);
  data.weights = w;
  auto b = make("xgboost")->fit_predict(data, small_params(), nullptr);
  EXPECT_NE(a.valid_pred, b.valid_pred);
}

TEST(ModelXgboost, ParameterErrors) {
  Problem p(Task::kBinary, 100);
  auto model = make("xgboost");
  try {
    model->fit_predict(p.fold(), {{"max_dept", 3}}, nullptr);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(std::string(e.what()).find("'max_dept'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("max_depth"), std::string::npos) << e.what();
  }
  EXPECT_THROW(model->fit_predict(p.fold(), {{"num_boost_round", "many"}}, nullptr), Error);
  EXPECT_THROW(model->fit_predict(p.fold(), {{"objective", "reg:squarederror"}}, nullptr), Error);
  try {  // out of the parameter's range: refused before XGBoost sees it
    model->fit_predict(p.fold(), {{"num_boost_round", 2}, {"max_depth", -3}}, nullptr);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(std::string(e.what()).find("expected an integer >= 0"), std::string::npos) << e.what();
  }
  try {  // XGBoost itself rejects the value: a backend error carrying its message
    model->fit_predict(p.fold(), {{"num_boost_round", 2}, {"objective", "binary:nonsense"}}, nullptr);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kBackend);
    EXPECT_NE(std::string(e.what()).find("xgboost: "), std::string::npos) << e.what();
  }
}

TEST(ModelXgboost, ReusedModelFollowsDataChanges) {
  // One model instance over different weights, targets and matrices gives what fresh ones give.
  Problem p(Task::kBinary, 300);
  Problem q(Task::kBinary, 300);
  q.target.y[4] = 1 - q.target.y[4];  // a train row of fold 1
  std::vector<double> w(300, 1.0);
  w[0] = 7;
  auto model = make("xgboost");
  auto plain = model->fit_predict(p.fold(), small_params(), nullptr);
  auto data = p.fold();
  data.weights = w;
  auto weighted = model->fit_predict(data, small_params(), nullptr);
  EXPECT_EQ(weighted.valid_pred, make("xgboost")->fit_predict(data, small_params(), nullptr).valid_pred);
  auto other = model->fit_predict(q.fold(), small_params(), nullptr);
  EXPECT_EQ(other.valid_pred, make("xgboost")->fit_predict(q.fold(), small_params(), nullptr).valid_pred);
  EXPECT_EQ(model->fit_predict(p.fold(), small_params(), nullptr).valid_pred, plain.valid_pred);
  EXPECT_NE(other.valid_pred, plain.valid_pred);
  // Same objects, labels edited in place (as after a label review).
  p.target.y[4] = 1 - p.target.y[4];
  auto edited = model->fit_predict(p.fold(), small_params(), nullptr);
  EXPECT_EQ(edited.valid_pred, make("xgboost")->fit_predict(p.fold(), small_params(), nullptr).valid_pred);
  EXPECT_NE(edited.valid_pred, plain.valid_pred);
}

TEST(ModelXgboost, ConcurrentFoldsOnOneModel) {
  Problem p(Task::kBinary, 400);
  std::vector<std::vector<std::size_t>> tr(4), va(4);
  for (std::size_t f = 0; f < 4; ++f) split_rows(400, 4, f, tr[f], va[f]);
  auto fold = [&](std::size_t f) {
    FoldData d = p.fold();
    d.train_rows = tr[f];
    d.valid_rows = va[f];
    d.threads = 1;
    return d;
  };
  std::vector<FoldResult> sequential;
  for (std::size_t f = 0; f < 4; ++f) sequential.push_back(make("xgboost")->fit_predict(fold(f), small_params(), nullptr));
  auto shared = make("xgboost");
  std::vector<FoldResult> parallel(4);
  std::vector<std::thread> threads;
  for (std::size_t f = 0; f < 4; ++f)
    threads.emplace_back([&, f] { parallel[f] = shared->fit_predict(fold(f), small_params(), nullptr); });
  for (auto& t : threads) t.join();
  for (std::size_t f = 0; f < 4; ++f) {
    EXPECT_EQ(parallel[f].valid_pred, sequential[f].valid_pred) << "fold " << f;
    EXPECT_EQ(parallel[f].test_pred, sequential[f].test_pred) << "fold " << f;
  }
}

TEST(ModelXgboost, Log1pTargetPicksMetricsOnTheRightScale) {
  Problem p(Task::kRegression, 200);
  for (double& y : p.target.y) y = std::log1p(std::abs(y));
  p.target.transform = TargetTransform::kLog1p;
  Evaluator eval{"rmse_original", false, [](std::span<const double>, std::size_t) { return 1.0; }};
  auto data = p.fold();
  data.evaluator = &eval;
  auto names = [](const FoldResult& r) {
    std::vector<std::string> out;
    for (const auto& c : r.curves) out.push_back(c.metric);
    return out;
  };
  data.metric = "rmsle";  // rmse of log1p values is rmsle of the target: native
  auto r = make("xgboost")->fit_predict(data, small_params(), nullptr);
  EXPECT_EQ(names(r), (std::vector<std::string>{"rmse"}));
  data.metric = "rmse";   // no native equivalent on the log scale: the evaluator decides
  r = make("xgboost")->fit_predict(data, small_params(), nullptr);
  EXPECT_EQ(names(r).back(), "rmse_original");
}
