// Distributions, search spaces and directions.
#include <cmath>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "compe/error.hpp"
#include "compe/tune.hpp"
#include "compe/util.hpp"

namespace compe::tune {
namespace {

void check_finite(std::string_view name, double low, double high) {
  if (!std::isfinite(low) || !std::isfinite(high)) {
    fail(ErrorCode::kInvalidArgument, "parameter '{}': bounds [{}, {}] must be finite numbers",
         name, low, high);
  }
  if (low > high) {
    fail(ErrorCode::kInvalidArgument,
         "parameter '{}': empty range, low {} is above high {}; expected low <= high", name, low,
         high);
  }
}

bool is_scalar_choice(const nlohmann::json& c) {
  return c.is_number() || c.is_string() || c.is_boolean() || c.is_null();
}

}  // namespace

std::string_view direction_name(Direction d) {
  return d == Direction::kMinimize ? "minimize" : "maximize";
}

Direction parse_direction(std::string_view name) {
  if (name == "minimize") return Direction::kMinimize;
  if (name == "maximize") return Direction::kMaximize;
  fail(ErrorCode::kInvalidArgument, "unknown direction '{}'; expected minimize or maximize", name);
}

Distribution float_param(std::string_view name, double low, double high, bool log,
                         std::optional<double> step) {
  check_finite(name, low, high);
  Distribution d;
  d.kind = ParamKind::kFloat;
  d.low = low;
  d.high = high;
  d.log = log;
  if (log && low <= 0) {
    fail(ErrorCode::kInvalidArgument,
         "parameter '{}': log scale needs a positive low bound; got low {}", name, low);
  }
  if (step) {
    if (log) {
      fail(ErrorCode::kInvalidArgument, "parameter '{}': step and log scale cannot be combined",
           name);
    }
    if (!std::isfinite(*step) || *step <= 0) {
      fail(ErrorCode::kInvalidArgument, "parameter '{}': step is {}; expected a number > 0", name,
           *step);
    }
    // Lower high onto the grid (as Optuna does), tolerating rounding of decimal steps.
    const double k = std::floor((high - low) / *step + 1e-9);
    d.high = low + k * *step;
    d.step = step;
  }
  return d;
}

Distribution int_param(std::string_view name, std::int64_t low, std::int64_t high, bool log,
                       std::int64_t step) {
  if (low > high) {
    fail(ErrorCode::kInvalidArgument,
         "parameter '{}': empty range, low {} is above high {}; expected low <= high", name, low,
         high);
  }
  if (step <= 0) {
    fail(ErrorCode::kInvalidArgument, "parameter '{}': step is {}; expected an integer >= 1", name,
         step);
  }
  if (log && low < 1) {
    fail(ErrorCode::kInvalidArgument,
         "parameter '{}': log scale needs a positive low bound; got low {}", name, low);
  }
  if (log && step != 1) {
    fail(ErrorCode::kInvalidArgument, "parameter '{}': log scale needs step 1; got step {}", name,
         step);
  }
  Distribution d;
  d.kind = ParamKind::kInt;
  d.low = static_cast<double>(low);
  d.high = static_cast<double>(low + (high - low) / step * step);
  d.log = log;
  d.step = static_cast<double>(step);
  return d;
}

Distribution categorical_param(std::string_view name, std::vector<nlohmann::json> choices) {
  if (choices.empty()) {
    fail(ErrorCode::kInvalidArgument, "parameter '{}': no choices; expected at least one", name);
  }
  for (std::size_t i = 0; i < choices.size(); ++i) {
    if (!is_scalar_choice(choices[i])) {
      fail(ErrorCode::kInvalidArgument,
           "parameter '{}': choice {} is {}; expected a number, string or bool", name, i,
           choices[i].dump());
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (choices[j] == choices[i]) {
        fail(ErrorCode::kInvalidArgument, "parameter '{}': choice {} is repeated", name,
             choices[i].dump());
      }
    }
  }
  Distribution d;
  d.kind = ParamKind::kCategorical;
  d.choices = std::move(choices);
  return d;
}

bool Distribution::single() const {
  if (kind == ParamKind::kCategorical) return choices.size() == 1;
  return low == high;
}

bool Distribution::contains(double v) const {
  if (!std::isfinite(v)) return false;
  if (kind == ParamKind::kCategorical) {
    return v >= 0 && v < static_cast<double>(choices.size()) && v == std::floor(v);
  }
  if (v < low || v > high) return false;
  if (kind == ParamKind::kInt && v != std::floor(v)) return false;
  if (step) {
    const double k = (v - low) / *step;
    return std::abs(k - std::round(k)) < 1e-8;
  }
  return true;
}

std::optional<double> Distribution::to_internal(const nlohmann::json& e) const {
  if (kind == ParamKind::kCategorical) {
    for (std::size_t i = 0; i < choices.size(); ++i) {
      if (choices[i] == e) return static_cast<double>(i);
    }
    return std::nullopt;
  }
  if (!e.is_number()) return std::nullopt;
  const double v = e.get<double>();
  if (!contains(v)) return std::nullopt;
  return v;
}

nlohmann::json Distribution::to_external(double v) const {
  switch (kind) {
    case ParamKind::kCategorical:
      return choices.at(static_cast<std::size_t>(v));
    case ParamKind::kInt:
      return static_cast<std::int64_t>(std::llround(v));
    case ParamKind::kFloat:
      break;
  }
  return v;
}

nlohmann::json Distribution::to_json() const {
  nlohmann::json j;
  switch (kind) {
    case ParamKind::kCategorical:
      j["type"] = "categorical";
      j["choices"] = choices;
      return j;
    case ParamKind::kInt:
      j["type"] = "int";
      j["low"] = static_cast<std::int64_t>(low);
      j["high"] = static_cast<std::int64_t>(high);
      j["log"] = log;
      j["step"] = static_cast<std::int64_t>(step.value_or(1));
      return j;
    case ParamKind::kFloat:
      break;
  }
  j["type"] = "float";
  j["low"] = low;
  j["high"] = high;
  j["log"] = log;
  if (step) j["step"] = *step;
  return j;
}

Distribution distribution_from_json(std::string_view name, const nlohmann::json& j) {
  if (!j.is_object()) {
    fail(ErrorCode::kInvalidArgument,
         "parameter '{}': expected a table such as "
         "{{type = \"float\", low = 0.0, high = 1.0}}; got {}",
         name, j.dump());
  }
  std::string type = j.value("type", std::string());
  static const std::vector<std::string> kKeys = {"type", "low", "high", "log", "step", "choices"};
  for (const auto& [k, v] : j.items()) {
    bool known = false;
    for (const std::string& key : kKeys) known = known || key == k;
    if (!known) {
      fail(ErrorCode::kInvalidArgument, "parameter '{}': unknown key '{}'; expected {}", name, k,
           join(kKeys));
    }
  }
  auto number = [&](const char* key) -> double {
    if (!j.contains(key) || !j[key].is_number()) {
      fail(ErrorCode::kInvalidArgument, "parameter '{}': '{}' must be a number; got {}", name, key,
           j.contains(key) ? j[key].dump() : "nothing");
    }
    return j[key].get<double>();
  };
  auto flag = [&](const char* key) -> bool {
    if (!j.contains(key)) return false;
    if (!j[key].is_boolean()) {
      fail(ErrorCode::kInvalidArgument, "parameter '{}': '{}' must be true or false; got {}", name,
           key, j[key].dump());
    }
    return j[key].get<bool>();
  };
  if (type == "float" || type == "real" || type == "uniform" || type == "loguniform") {
    const bool log = flag("log") || type == "loguniform";
    std::optional<double> step;
    if (j.contains("step")) step = number("step");
    return float_param(name, number("low"), number("high"), log, step);
  }
  if (type == "int" || type == "integer") {
    auto integer = [&](const char* key, std::int64_t def) -> std::int64_t {
      if (!j.contains(key) && key == std::string_view("step")) return def;
      const double v = number(key);
      if (v != std::floor(v) || std::abs(v) > 9e15) {
        fail(ErrorCode::kInvalidArgument, "parameter '{}': '{}' must be an integer; got {}", name,
             key, v);
      }
      return static_cast<std::int64_t>(v);
    };
    return int_param(name, integer("low", 0), integer("high", 0), flag("log"), integer("step", 1));
  }
  if (type == "categorical" || type == "choice") {
    if (!j.contains("choices") || !j["choices"].is_array()) {
      fail(ErrorCode::kInvalidArgument, "parameter '{}': 'choices' must be an array", name);
    }
    return categorical_param(name, j["choices"].get<std::vector<nlohmann::json>>());
  }
  fail(ErrorCode::kInvalidArgument,
       "parameter '{}': unknown type '{}'; expected float, int or categorical", name, type);
}

SearchSpace& SearchSpace::add(std::string name, Distribution distribution) {
  if (name.empty()) fail(ErrorCode::kInvalidArgument, "a parameter name is empty");
  if (find(name)) {
    fail(ErrorCode::kInvalidArgument, "parameter '{}' is declared twice", name);
  }
  params_.emplace_back(std::move(name), std::move(distribution));
  return *this;
}

const Distribution* SearchSpace::find(std::string_view name) const {
  for (const auto& [n, d] : params_) {
    if (n == name) return &d;
  }
  return nullptr;
}

SearchSpace& SearchSpace::when(const std::string& name, Condition condition) {
  if (!find(name)) {
    fail(ErrorCode::kInvalidArgument, "condition on parameter '{}', which is not declared", name);
  }
  if (condition.empty()) {
    fail(ErrorCode::kInvalidArgument, "parameter '{}': 'when' names no parameter", name);
  }
  for (const auto& [parent, values] : condition) {
    const Distribution* d = find(parent);
    if (!d) {
      std::vector<std::string> names;
      for (const auto& [n, x] : params_) names.push_back(n);
      const std::string hint = closest_match(parent, names);
      fail(ErrorCode::kInvalidArgument,
           "parameter '{}': 'when' names '{}', which is not a parameter of the space{}", name,
           parent, hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint));
    }
    if (parent == name) {
      fail(ErrorCode::kInvalidArgument, "parameter '{}': 'when' names the parameter itself", name);
    }
    if (values.empty()) {
      fail(ErrorCode::kInvalidArgument, "parameter '{}': 'when.{}' lists no value", name, parent);
    }
    for (const nlohmann::json& v : values) {
      if (!d->to_internal(v)) {
        fail(ErrorCode::kInvalidArgument,
             "parameter '{}': 'when.{}' value {} is not a value of '{}' ({})", name, parent,
             v.dump(), parent, d->to_json().dump());
      }
    }
    // A cycle: the parent (transitively) depends on `name`.
    std::vector<std::string> stack = {parent};
    std::set<std::string> seen;
    while (!stack.empty()) {
      const std::string p = stack.back();
      stack.pop_back();
      if (p == name) {
        fail(ErrorCode::kInvalidArgument,
             "parameter '{}': 'when' on '{}' makes the conditions a cycle", name, parent);
      }
      if (!seen.insert(p).second) continue;
      if (auto it = conditions_.find(p); it != conditions_.end()) {
        for (const auto& [q, vals] : it->second) stack.push_back(q);
      }
    }
  }
  conditions_[name] = std::move(condition);
  return *this;
}

const Condition* SearchSpace::condition(std::string_view name) const {
  auto it = conditions_.find(name);
  return it == conditions_.end() ? nullptr : &it->second;
}

bool SearchSpace::active(std::string_view name, const nlohmann::json& params) const {
  const Condition* c = condition(name);
  if (!c) return true;
  for (const auto& [parent, values] : *c) {
    auto it = params.find(parent);
    if (it == params.end()) return false;
    const Distribution* d = find(parent);
    const std::optional<double> x = d ? d->to_internal(*it) : std::nullopt;
    bool match = false;
    for (const nlohmann::json& v : values) {
      // Compare internal values, so 3 and 3.0 (or a choice and its JSON twin) match.
      const std::optional<double> y = d ? d->to_internal(v) : std::nullopt;
      match = match || (x && y && *x == *y) || v == *it;
    }
    if (!match) return false;
  }
  return true;
}

std::vector<std::string> SearchSpace::sampling_order() const {
  std::vector<std::string> order;
  std::set<std::string, std::less<>> placed;
  // Conditions are acyclic (checked by when), so each pass places at least one parameter.
  while (order.size() < params_.size()) {
    const std::size_t before = order.size();
    for (const auto& [n, d] : params_) {
      if (placed.count(n)) continue;
      bool ready = true;
      if (const Condition* c = condition(n)) {
        for (const auto& [parent, values] : *c) ready = ready && placed.count(parent) > 0;
      }
      if (!ready) continue;
      order.push_back(n);
      placed.insert(n);
    }
    COMPE_ASSERT(order.size() > before);
  }
  return order;
}

nlohmann::json SearchSpace::to_json() const {
  // An array keeps the declaration order through JSON stores.
  nlohmann::json j = nlohmann::json::array();
  for (const auto& [n, d] : params_) {
    nlohmann::json row = d.to_json();
    row["name"] = n;
    if (const Condition* c = condition(n)) {
      nlohmann::json w = nlohmann::json::object();
      for (const auto& [parent, values] : *c) w[parent] = values;
      row["when"] = std::move(w);
    }
    j.push_back(std::move(row));
  }
  return j;
}

namespace {

// Splits a parameter entry into its distribution and its `when` table.
std::pair<nlohmann::json, std::optional<Condition>> take_condition(const std::string& name,
                                                                   nlohmann::json d) {
  if (!d.is_object() || !d.contains("when")) return {std::move(d), std::nullopt};
  const nlohmann::json w = d["when"];
  d.erase("when");
  if (!w.is_object()) {
    fail(ErrorCode::kInvalidArgument,
         "parameter '{}': 'when' must be a table such as {{booster = \"dart\"}}; got {}", name,
         w.dump());
  }
  Condition c;
  for (const auto& [parent, v] : w.items()) {
    if (v.is_array()) {
      c[parent] = v.get<std::vector<nlohmann::json>>();
    } else {
      c[parent] = {v};
    }
  }
  return {std::move(d), std::move(c)};
}

}  // namespace

SearchSpace SearchSpace::from_json(const nlohmann::json& j) {
  SearchSpace space;
  std::vector<std::pair<std::string, Condition>> conditions;
  auto add_entry = [&](const std::string& name, const nlohmann::json& entry) {
    auto [d, c] = take_condition(name, entry);
    space.add(name, distribution_from_json(name, d));
    if (c) conditions.emplace_back(name, std::move(*c));
  };
  if (j.is_array()) {
    for (const nlohmann::json& row : j) {
      if (!row.is_object() || !row.contains("name") || !row["name"].is_string()) {
        fail(ErrorCode::kInvalidArgument, "search space entry {} has no name", row.dump());
      }
      nlohmann::json d = row;
      const std::string name = d["name"].get<std::string>();
      d.erase("name");
      add_entry(name, d);
    }
  } else if (j.is_object()) {
    for (const auto& [name, d] : j.items()) add_entry(name, d);
  } else {
    fail(ErrorCode::kInvalidArgument, "a search space must be a table of parameters; got {}",
         j.dump());
  }
  // Conditions may name parameters declared after them.
  for (auto& [name, c] : conditions) space.when(name, std::move(c));
  return space;
}

}  // namespace compe::tune
