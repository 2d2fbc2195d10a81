#include <algorithm>
#include <cmath>

#include "compe/error.hpp"
#include "compe/model.hpp"
#include "compe/util.hpp"
#include "model/backends.hpp"

namespace compe::model {

namespace {

std::vector<Info> make_table() {
  std::vector<Info> rows;
  rows.push_back(Info{
      .name = "xgboost",
      .aliases = {"xgb"},
      .summary = "gradient-boosted trees (XGBoost hist), native categoricals, early stopping",
      .tasks = Task::kBinary | Task::kMulticlass | Task::kRegression,
      .default_params = xgboost_default_params(),
      .known_params = xgboost_known_params(),
      .passthrough_params = xgboost_passthrough_params(),
      .param_aliases = xgboost_param_aliases(),
      .factory = make_xgboost,
      .library_version = xgboost_library_version,
  });
  rows.push_back(Info{
      .name = "linear",
      .aliases = {"ridge", "logistic"},
      .summary = "ridge / logistic regression (L2) with imputation, scaling and one-hot encoding",
      .tasks = Task::kBinary | Task::kMulticlass | Task::kRegression,
      .default_params = linear_default_params(),
      .known_params = linear_known_params(),
      .passthrough_params = {},
      .param_aliases = {},
      .factory = make_linear,
  });
  rows.push_back(Info{
      .name = "command",
      .aliases = {"external"},
      .summary = "an external program trains each fold (CSV in, oof.csv/test.csv out)",
      .tasks = Task::kBinary | Task::kMulticlass | Task::kRegression,
      .default_params = command_default_params(),
      .known_params = command_known_params(),
      .passthrough_params = {},
      .param_aliases = {},
      .factory = make_command,
  });
  return rows;
}

std::vector<std::string> all_names(std::span<const Info> rows) {
  std::vector<std::string> names;
  for (const auto& r : rows) {
    names.push_back(r.name);
    names.insert(names.end(), r.aliases.begin(), r.aliases.end());
  }
  return names;
}

}  // namespace

std::span<const Info> builtin() {
  static const std::vector<Info> table = make_table();
  return table;
}

const Info& find(std::string_view name) {
  for (const auto& row : builtin()) {
    if (row.name == name) return row;
    for (const auto& a : row.aliases)
      if (a == name) return row;
  }
  std::vector<std::string> names;
  for (const auto& row : builtin()) names.push_back(row.name);
  auto close = closest_match(name, all_names(builtin()));
  fail(ErrorCode::kNotFound, "unknown model '{}'{}: known models are {}", name,
       close.empty() ? "" : " (did you mean '" + close + "'?)", join(names));
}

std::unique_ptr<Model> make(std::string_view name) {
  const Info& info = find(name);
  return info.factory(info);
}

nlohmann::json resolve_params(const Info& info, const nlohmann::json& user) {
  if (!user.is_null() && !user.is_object())
    fail(ErrorCode::kInvalidArgument, "{} parameters: expected a table of name = value, got {}",
         info.name, user.dump());
  nlohmann::json out = info.default_params.is_object() ? info.default_params : nlohmann::json::object();
  if (user.is_null()) return out;
  for (const auto& [a, b] : info.param_aliases) {
    if (user.contains(a) && user.contains(b))
      fail(ErrorCode::kInvalidArgument, "{} parameters '{}' and '{}' are one parameter: give only one",
           info.name, a, b);
    if (user.contains(a)) out.erase(b);
    if (user.contains(b)) out.erase(a);
  }
  for (const auto& [key, value] : user.items()) {
    bool known = std::find(info.known_params.begin(), info.known_params.end(), key) !=
                     info.known_params.end() ||
                 std::find(info.passthrough_params.begin(), info.passthrough_params.end(), key) !=
                     info.passthrough_params.end();
    if (!known) {
      std::vector<std::string> all = info.known_params;
      all.insert(all.end(), info.passthrough_params.begin(), info.passthrough_params.end());
      auto close = closest_match(key, all);
      fail(ErrorCode::kInvalidArgument, "unknown {} parameter '{}'{}: known parameters are {}",
           info.name, key, close.empty() ? "" : " (did you mean '" + close + "'?)",
           join(info.known_params));
    }
    out[key] = value;
  }
  return out;
}

bool selects_on_valid(const Info& info, const nlohmann::json& params) {
  if (info.name != "xgboost" || !params.is_object()) return false;
  auto rounds = params.find("early_stopping_rounds");
  auto mode = params.find("early_stopping");
  bool stops = rounds != params.end() && rounds->is_number() && rounds->get<double>() > 0;
  return stops && mode != params.end() && mode->is_string() && mode->get<std::string>() == "valid";
}

void check_predictions(const FoldResult& result, const FoldData& data, std::string_view backend) {
  const std::size_t k = result.cols;
  auto check = [&](const std::vector<double>& pred, std::size_t rows, std::string_view what) {
    if (pred.size() != rows * k)
      fail(ErrorCode::kBackend, "{} fold {}: {} predictions have {} values, expected {} rows x {} columns",
           backend, data.fold, what, pred.size(), rows, k);
    for (std::size_t i = 0; i < pred.size(); ++i)
      if (!std::isfinite(pred[i]))
        fail(ErrorCode::kBackend, "{} fold {}: {} prediction at row {} column {} is {}", backend,
             data.fold, what, i / k + 1, i % k + 1, pred[i]);
  };
  if (data.target && k != data.target->prediction_columns())
    fail(ErrorCode::kBackend, "{} fold {}: {} prediction columns, expected {}", backend, data.fold,
         k, data.target->prediction_columns());
  check(result.valid_pred, data.valid_rows.size(), "valid");
  check(result.test_pred, data.features ? data.features->num_test_rows() : 0, "test");
}

}  // namespace compe::model

namespace compe::model {

void check_fold_data(const FoldData& data) {
  COMPE_ASSERT(data.features != nullptr);
  COMPE_ASSERT(data.target != nullptr);
  const std::size_t n = data.features->num_train_rows();
  COMPE_ASSERT(data.target->y.size() == n);
  COMPE_ASSERT(data.weights.empty() || data.weights.size() == n);
  for (auto r : data.train_rows) COMPE_ASSERT(r < n);
  for (auto r : data.valid_rows) COMPE_ASSERT(r < n);
  for (std::size_t i = 0; i < data.weights.size(); ++i)
    if (!(data.weights[i] >= 0) || !std::isfinite(data.weights[i]))
      fail(ErrorCode::kInvalidArgument, "weight of train row {} is {}: expected a finite number >= 0",
           i + 1, data.weights[i]);
  if (data.train_rows.empty())
    fail(ErrorCode::kInvalidArgument, "fold {} has no train rows", data.fold);
}

}  // namespace compe::model
