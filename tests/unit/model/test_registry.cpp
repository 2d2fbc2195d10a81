#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <filesystem>
#include <set>

#include "compe/error.hpp"
#include "compe/model.hpp"
#include "model_test_util.hpp"

using namespace compe;
using namespace compe::model;
using namespace compe::model::testing;
namespace fs = std::filesystem;

namespace {

// Parameters that make each backend fast and runnable on the synthetic data.
nlohmann::json quick_params(const Info& info) {
  if (info.name == "xgboost") return {{"num_boost_round", 20}, {"early_stopping_rounds", 5}};
  if (info.name == "command")
    return {{"command", std::string("python3 ") + COMPE_SOURCE_DIR +
                            "/examples/command_trainer/train_fold.py"},
            {"params", {{"epochs", 20}}}};
  return nlohmann::json::object();
}

}  // namespace

TEST(ModelRegistry, NamesAndAliasesAreUnique) {
  std::set<std::string> names;
  for (const auto& row : builtin()) {
    EXPECT_TRUE(names.insert(row.name).second) << row.name;
    for (const auto& a : row.aliases) EXPECT_TRUE(names.insert(a).second) << a;
    EXPECT_FALSE(row.summary.empty());
    EXPECT_TRUE(row.default_params.is_object());
    EXPECT_EQ(&find(row.name), &row);
    for (const auto& a : row.aliases) EXPECT_EQ(&find(a), &row);
    // Every default is a known parameter.
    EXPECT_NO_THROW(resolve_params(row, row.default_params)) << row.name;
  }
}

TEST(ModelRegistry, UnknownNameSuggests) {
  try {
    find("xgbost");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kNotFound);
    EXPECT_NE(std::string(e.what()).find("did you mean 'xgboost'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("linear"), std::string::npos) << e.what();
  }
}

TEST(ModelRegistry, ResolveParams) {
  const Info& info = find("linear");
  auto p = resolve_params(info, {{"alpha", 3.0}});
  EXPECT_EQ(p["alpha"], 3.0);
  EXPECT_EQ(p["C"], 1.0);
  EXPECT_THROW(resolve_params(info, nlohmann::json::array()), Error);
  EXPECT_EQ(resolve_params(info, p), p);
  try {
    resolve_params(info, {{"alpah", 1}});
    FAIL();
  } catch (const Error& e) {
    std::string msg = e.what();
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(msg.find("'alpah'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("did you mean 'alpha'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("accepted parameters are alpha, C"), std::string::npos) << msg;
  }
}

TEST(ModelRegistry, UnknownParameterListsEveryAcceptedName) {
  const Info& xgb = find("xgboost");
  try {
    resolve_params(xgb, {{"max_dept", 3}});
    FAIL();
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("did you mean 'max_depth'"), std::string::npos) << msg;
    std::string list = msg.substr(msg.find("accepted parameters are ") + 24) + ", ";
    for (const auto* names : {&xgb.known_params, &xgb.passthrough_params})
      for (const std::string& n : *names)
        EXPECT_NE((" " + list).find(" " + n + ", "), std::string::npos) << n;
  }
}

// Every parameter a backend accepts has a type and range, and every default fits it.
TEST(ModelRegistry, EveryParameterHasASpecThatItsDefaultFits) {
  for (const auto& row : builtin()) {
    std::set<std::string> specs;
    for (const ParamSpec& p : row.param_specs) {
      EXPECT_TRUE(specs.insert(p.name).second) << row.name << " " << p.name;
      EXPECT_FALSE(p.expected().empty());
    }
    std::set<std::string> accepted(row.known_params.begin(), row.known_params.end());
    accepted.insert(row.passthrough_params.begin(), row.passthrough_params.end());
    EXPECT_EQ(specs, accepted) << row.name;
    for (const auto& [key, value] : row.default_params.items())
      EXPECT_NO_THROW(resolve_params(row, {{key, value}})) << row.name << " " << key;
  }
}

TEST(ModelRegistry, ValuesAreCheckedForTypeAndRange) {
  const Info& xgb = find("xgboost");
  auto message = [&](const nlohmann::json& params) -> std::string {
    try {
      resolve_params(xgb, params);
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
      return e.what();
    }
    return "(accepted)";
  };
  auto has = [](const std::string& msg, std::string_view part) {
    return msg.find(part) != std::string::npos;
  };
  std::string m = message({{"learning_rate", std::string("\0", 1)}});
  EXPECT_TRUE(has(m, "'learning_rate'") && has(m, "a string") && has(m, "a finite number >= 0")) << m;
  EXPECT_TRUE(has(m, "\\u0000")) << m;
  m = message({{"learning_rate", -std::numeric_limits<double>::infinity()}});
  EXPECT_TRUE(has(m, "= -inf") && has(m, "a finite number >= 0")) << m;
  m = message({{"learning_rate", "0.1"}});
  EXPECT_TRUE(has(m, "'learning_rate' = \"0.1\" (a string): expected a finite number >= 0")) << m;
  m = message({{"subsample", 1.5}});
  EXPECT_TRUE(has(m, "a finite number in (0, 1]")) << m;
  m = message({{"max_depth", 2.5}});
  EXPECT_TRUE(has(m, "an integer >= 0")) << m;
  m = message({{"nthread", 100000}});
  EXPECT_TRUE(has(m, "'nthread'") && has(m, "an integer in [0, 1024]")) << m;
  m = message({{"tree_method", "histo"}});
  EXPECT_TRUE(has(m, "one of auto, exact, approx, hist, gpu_hist")) << m;
  m = message({{"objective", std::string("binary:logistic\0", 16)}});
  EXPECT_TRUE(has(m, "control characters")) << m;
  EXPECT_EQ(message({{"max_depth", 3.0}, {"eval_metric", {"auc", "logloss"}},
                     {"monotone_constraints", {1, -1}}, {"validate_parameters", 1}}),
            "(accepted)");
  EXPECT_TRUE(has(message({{"eval_train", "yes"}}), "true or false"));
}

TEST(ModelRegistry, ParameterAliasesReplaceDefaults) {
  const Info& xgb = find("xgboost");
  auto p = resolve_params(xgb, {{"eta", 0.3}});
  EXPECT_EQ(p["eta"], 0.3);
  EXPECT_FALSE(p.contains("learning_rate"));
  EXPECT_EQ(resolve_params(xgb, p), p);  // the fold loop resolves, then the backend again
  EXPECT_THROW(resolve_params(xgb, {{"eta", 0.3}, {"learning_rate", 0.1}}), Error);
  for (const auto& row : builtin())
    for (const auto& [a, b] : row.param_aliases) {
      EXPECT_NO_THROW(resolve_params(row, {{a, 1}})) << row.name << " " << a;
      EXPECT_NO_THROW(resolve_params(row, {{b, 1}})) << row.name << " " << b;
    }
}

TEST(ModelRegistry, CheckPredictionsRejectsNan) {
  auto s = make_synthetic(Task::kBinary, 10, 2);
  auto fm = FeatureMatrix::build(s.train, s.test, default_spec());
  auto target = Target::encode(s.target, Task::kBinary);
  std::vector<std::size_t> tr = {0, 1, 2}, va = {3, 4};
  FoldData d;
  d.features = &fm;
  d.target = &target;
  d.train_rows = tr;
  d.valid_rows = va;
  FoldResult r;
  r.valid_pred = {0.1, 0.2};
  r.test_pred = {0.3, 0.4};
  EXPECT_NO_THROW(check_predictions(r, d, "x"));
  r.test_pred[1] = std::nan("");
  try {
    check_predictions(r, d, "x");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kBackend);
    EXPECT_NE(std::string(e.what()).find("test prediction at row 2 column 1 is nan"), std::string::npos)
        << e.what();
  }
  r.test_pred = {0.3};
  EXPECT_THROW(check_predictions(r, d, "x"), Error);
}

// Every backend, every task it accepts: shapes, finiteness, determinism, unknown parameters.
TEST(ModelRegistry, EveryBackendEveryTask) {
  for (const auto& row : builtin()) {
    for (Task task : {Task::kBinary, Task::kMulticlass, Task::kRegression}) {
      if (!row.accepts(task)) continue;
      SCOPED_TRACE(row.name + " task " + std::to_string(static_cast<unsigned>(task)));
      auto s = make_synthetic(task, 120, 15);
      auto fm = FeatureMatrix::build(s.train, s.test, default_spec());
      auto target = Target::encode(s.target, task);
      std::vector<std::size_t> tr, va;
      split_rows(120, 4, 0, tr, va);
      SourceData src{&s.train, &s.test, "id", {"y"},
                     fs::temp_directory_path() / fmt::format("compe_registry_{}", ::getpid()),
                     {}, {}, 4};
      FoldData d;
      d.features = &fm;
      d.target = &target;
      d.train_rows = tr;
      d.valid_rows = va;
      d.seed = 3;
      d.threads = 1;
      d.source = &src;
      auto model = make(row.name);
      EXPECT_EQ(&model->info(), &row);
      auto params = quick_params(row);
      auto a = model->fit_predict(d, params, nullptr);
      const std::size_t k = target.prediction_columns();
      EXPECT_EQ(a.cols, k);
      EXPECT_EQ(a.valid_pred.size(), va.size() * k);
      EXPECT_EQ(a.test_pred.size(), 15u * k);
      EXPECT_NO_THROW(check_predictions(a, d, row.name));
      if (task != Task::kRegression) {
        for (double v : a.valid_pred) EXPECT_TRUE(v >= 0 && v <= 1);
      }
      auto b = make(row.name)->fit_predict(d, params, nullptr);
      EXPECT_EQ(a.valid_pred, b.valid_pred);
      EXPECT_EQ(a.test_pred, b.test_pred);
      std::vector<double> ones(120, 1.0);
      d.weights = ones;
      auto unit = make(row.name)->fit_predict(d, params, nullptr);
      for (std::size_t i = 0; i < a.valid_pred.size(); ++i)
        EXPECT_NEAR(unit.valid_pred[i], a.valid_pred[i], 1e-9) << "unit weights differ from none";
      std::vector<double> negative(120, 1.0);
      negative[7] = -1;
      d.weights = negative;
      EXPECT_THROW(make(row.name)->fit_predict(d, params, nullptr), Error);
      d.weights = {};
      auto bad = params;
      bad["no_such_parameter"] = 1;
      EXPECT_THROW(model->fit_predict(d, bad, nullptr), Error);
      fs::remove_all(src.work_dir);
    }
  }
}
