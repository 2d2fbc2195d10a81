#include <algorithm>
#include <cmath>

#include <fmt/core.h>

#include "compe/error.hpp"
#include "compe/registry.hpp"
#include "compe/model.hpp"
#include "compe/util.hpp"
#include "model/backends.hpp"

// COMPE_WITH_XGBOOST=0 (set by CMake on this file only) in a build without XGBoost: the row stays,
// its summary says it is unavailable, and resolve_params and the factory fail with why.
#ifndef COMPE_WITH_XGBOOST
#define COMPE_WITH_XGBOOST 1
#endif

namespace compe::model {

namespace {

#if !COMPE_WITH_XGBOOST
constexpr const char* kXgboostUnavailable =
    "the xgboost backend is unavailable: compe was built without XGBoost (configure with "
    "-DCOMPE_WITH_XGBOOST=ON and libxgboost-dev installed)";
#endif

std::vector<Info> make_table() {
  std::vector<Info> rows;
#if !COMPE_WITH_XGBOOST
  rows.push_back(Info{
      .name = "xgboost",
      .aliases = {"xgb"},
      .summary = "unavailable: compe was built without XGBoost",
      .tasks = Task::kBinary | Task::kMulticlass | Task::kRegression,
      .default_params = nlohmann::json::object(),
      .factory = [](const Info&) -> std::unique_ptr<Model> { fail(ErrorCode::kBackend, "{}", kXgboostUnavailable); },
  });
#else
  rows.push_back(Info{
      .name = "xgboost",
      .aliases = {"xgb"},
      .summary = "gradient-boosted trees (XGBoost hist), native categoricals, early stopping",
      .tasks = Task::kBinary | Task::kMulticlass | Task::kRegression | Task::kMultilabel,
      .default_params = xgboost_default_params(),
      .known_params = xgboost_known_params(),
      .passthrough_params = xgboost_passthrough_params(),
      .param_aliases = xgboost_param_aliases(),
      .param_specs = xgboost_param_specs(),
      .factory = make_xgboost,
      .library_version = xgboost_library_version,
  });
#endif
  rows.push_back(Info{
      .name = "linear",
      .aliases = {"ridge", "logistic"},
      .summary = "ridge / logistic regression (L2) with imputation, scaling and one-hot encoding",
      .tasks = Task::kBinary | Task::kMulticlass | Task::kRegression | Task::kMultilabel,
      .default_params = linear_default_params(),
      .known_params = linear_known_params(),
      .passthrough_params = {},
      .param_aliases = {},
      .param_specs = linear_param_specs(),
      .factory = make_linear,
  });
  rows.push_back(Info{
      .name = "command",
      .aliases = {"external"},
      .summary = "an external program trains each fold (CSV in, oof.csv/test.csv out)",
      .tasks = Task::kBinary | Task::kMulticlass | Task::kRegression | Task::kMultilabel | Task::kDetection |
               Task::kSegmentation,
      .default_params = command_default_params(),
      .known_params = command_known_params(),
      .passthrough_params = {},
      .param_aliases = {},
      .param_specs = command_param_specs(),
      .factory = make_command,
  });
  return rows;
}

const Registry<Info>& registry() {
  static const Registry<Info> r("model", make_table());
  return r;
}

std::string bound(double v) {
  return std::isinf(v) ? (v > 0 ? "inf" : "-inf") : format_double(v);
}

// A value as the user wrote it, for messages: JSON text with control characters escaped, and
// the non-finite numbers TOML allows (which JSON cannot print) by name.
std::string shown(const nlohmann::json& v) {
  if (v.is_number_float() && !std::isfinite(v.get<double>())) return bound(v.get<double>());
  std::string text = v.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
  if (text.size() > 80) text = text.substr(0, 77) + "...";
  return text;
}

std::string_view type_word(const nlohmann::json& v) {
  if (v.is_string()) return "a string";
  if (v.is_boolean()) return "a boolean";
  if (v.is_number_integer()) return "an integer";
  if (v.is_number_float()) return std::isfinite(v.get<double>()) ? "a number" : "a non-finite number";
  if (v.is_array()) return "a list";
  if (v.is_object()) return "a table";
  return "nothing";
}

bool has_control(std::string_view s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

bool in_range(const ParamSpec& p, double v) {
  if (p.min_open ? !(v > p.min) : !(v >= p.min)) return false;
  if (p.max_open ? !(v < p.max) : !(v <= p.max)) return false;
  return true;
}

bool fits(const ParamSpec& p, const nlohmann::json& v) {
  using T = ParamSpec::Type;
  switch (p.type) {
    case T::kInt: {
      if (!v.is_number() || v.is_number_float()) {
        if (!v.is_number_float()) return false;
        const double d = v.get<double>();
        if (!std::isfinite(d) || d != std::trunc(d)) return false;
        return in_range(p, d);
      }
      return in_range(p, v.get<double>());
    }
    case T::kNumber:
      return v.is_number() && std::isfinite(v.get<double>()) && in_range(p, v.get<double>());
    case T::kBool:
      return v.is_boolean() || (v.is_number_integer() && (v.get<std::int64_t>() == 0 || v.get<std::int64_t>() == 1));
    case T::kString: {
      if (!v.is_string()) return false;
      const auto& s = v.get_ref<const std::string&>();
      if (has_control(s)) return false;
      return p.choices.empty() || std::find(p.choices.begin(), p.choices.end(), s) != p.choices.end();
    }
    case T::kStrings:
      if (v.is_string()) return !has_control(v.get_ref<const std::string&>());
      if (!v.is_array()) return false;
      return std::all_of(v.begin(), v.end(), [](const nlohmann::json& e) {
        return e.is_string() && !has_control(e.get_ref<const std::string&>());
      });
    case T::kList:
      if (v.is_string()) return !has_control(v.get_ref<const std::string&>());
      if (!v.is_array()) return false;
      return std::all_of(v.begin(), v.end(), [](const nlohmann::json& e) {
        if (e.is_array())
          return std::all_of(e.begin(), e.end(), [](const nlohmann::json& x) {
            return x.is_number() && std::isfinite(x.get<double>());
          });
        return e.is_number() && std::isfinite(e.get<double>());
      });
    case T::kTable:
      return v.is_object();
  }
  return false;
}

void check_value(const Info& info, const std::string& key, const nlohmann::json& value) {
  auto spec = std::find_if(info.param_specs.begin(), info.param_specs.end(),
                           [&](const ParamSpec& p) { return p.name == key; });
  if (spec == info.param_specs.end() || fits(*spec, value)) return;
  fail(ErrorCode::kInvalidArgument, "{} parameter '{}' = {} ({}): expected {}", info.name, key,
       shown(value), type_word(value), spec->expected());
}

}  // namespace

std::string ParamSpec::expected() const {
  using T = Type;
  auto range = [&](std::string_view what) {
    const bool lo = std::isfinite(min), hi = std::isfinite(max);
    if (lo && hi)
      return fmt::format("{} in {}{}, {}{}", what, min_open ? "(" : "[", bound(min), bound(max),
                         max_open ? ")" : "]");
    if (lo) return fmt::format("{} {} {}", what, min_open ? ">" : ">=", bound(min));
    if (hi) return fmt::format("{} {} {}", what, max_open ? "<" : "<=", bound(max));
    return std::string(what);
  };
  switch (type) {
    case T::kInt: return range("an integer");
    case T::kNumber: return range("a finite number");
    case T::kBool: return "true or false";
    case T::kString:
      return choices.empty() ? "a string without control characters" : "one of " + join(choices);
    case T::kStrings: return "a string or a list of strings";
    case T::kList: return "a list of numbers (or its text, e.g. \"(1,-1)\")";
    case T::kTable: return "a table";
  }
  return "";
}

std::span<const Info> builtin() {
  return registry().rows();
}

const Info& find(std::string_view name) { return registry().find(name); }

std::unique_ptr<Model> make(std::string_view name) {
  const Info& info = find(name);
  return info.factory(info);
}

nlohmann::json resolve_params(const Info& info, const nlohmann::json& user) {
#if !COMPE_WITH_XGBOOST
  if (info.name == "xgboost") fail(ErrorCode::kBackend, "{}", kXgboostUnavailable);
#endif
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
      fail(ErrorCode::kInvalidArgument, "unknown {} parameter '{}'{}: the {} accepted parameters are {}",
           info.name, key, close.empty() ? "" : " (did you mean '" + close + "'?)", all.size(),
           join(all));
    }
    check_value(info, key, value);
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
  COMPE_ASSERT(data.target->rows() == n);
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
