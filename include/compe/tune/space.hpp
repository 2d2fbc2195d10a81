#pragma once
/// Search spaces: parameter distributions, their external and internal values, and conditions.
///
/// A parameter has an external value (a JSON number, or the categorical choice itself) as stored
/// in a trial, and an internal value (double): the float or integer itself, or the index of a
/// categorical choice. Errors: bad ranges, choices and conditions throw
/// compe::Error(kInvalidArgument) naming the parameter.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace compe::tune {

enum class ParamKind { kFloat, kInt, kCategorical };

/// The distribution of one parameter. Build it with float_param / int_param / categorical_param,
/// which check it.
struct Distribution {
  ParamKind kind = ParamKind::kFloat;
  double low = 0;   ///< float and int: inclusive bounds (low <= high)
  double high = 0;  ///< for a stepped range, high is lowered to low + k * step
  bool log = false;
  std::optional<double> step;           ///< float: optional grid; int: always set (default 1)
  std::vector<nlohmann::json> choices;  ///< categorical: the choices (numbers, strings, bools)

  /// Whether the distribution has exactly one value (such parameters are not sampled).
  bool single() const;
  /// Whether the internal value lies in the distribution (on its grid for stepped ranges).
  bool contains(double internal) const;
  /// The internal value of an external one; nullopt when it is not in the distribution.
  std::optional<double> to_internal(const nlohmann::json& external) const;
  /// The external value (a JSON number, or the choice) of an internal one.
  nlohmann::json to_external(double internal) const;
  /// {"type": "float", "low": .., "high": .., "log": .., "step": ..} or
  /// {"type": "categorical", "choices": [..]}.
  nlohmann::json to_json() const;
  bool operator==(const Distribution&) const = default;
};

/// A float parameter on [low, high]; log scale needs 0 < low; step (> 0) excludes log.
/// Throws Error(kInvalidArgument) naming `name` on a non-finite bound, low > high, a log scale
/// with a non-positive bound, or a bad step.
Distribution float_param(std::string_view name, double low, double high, bool log = false,
                         std::optional<double> step = std::nullopt);
/// An integer parameter on [low, high] with step (default 1; log scale needs step 1 and low >= 1).
Distribution int_param(std::string_view name, std::int64_t low, std::int64_t high, bool log = false,
                       std::int64_t step = 1);
/// A categorical parameter; choices must be non-empty, distinct scalars.
Distribution categorical_param(std::string_view name, std::vector<nlohmann::json> choices);
/// Parses to_json()'s form (also accepted: "int"/"integer", "float"/"real"/"uniform"/
/// "loguniform", "categorical"/"choice"). Error(kInvalidArgument) names `name` and the key.
Distribution distribution_from_json(std::string_view name, const nlohmann::json& j);

/// A parameter's condition: for each named parameter, the external values under which the
/// conditioned parameter is sampled. It holds when every named parameter is active (sampled in
/// the trial) and has one of its listed values.
using Condition = std::map<std::string, std::vector<nlohmann::json>>;

/// Named distributions in declaration order (names unique), some of them conditional.
class SearchSpace {
 public:
  /// Throws Error(kInvalidArgument) when `name` is empty or already declared.
  SearchSpace& add(std::string name, Distribution distribution);
  /// Makes a declared parameter conditional. Error(kInvalidArgument) when `name` or a parameter
  /// the condition names is not declared, a listed value is not in that parameter's
  /// distribution, the condition is empty, or the conditions would form a cycle.
  SearchSpace& when(const std::string& name, Condition condition);
  /// The parameter's condition; nullptr for an unconditional parameter.
  const Condition* condition(std::string_view name) const;
  bool conditional() const { return !conditions_.empty(); }
  /// Whether `name`'s condition holds for the external values sampled so far (`params`, an
  /// object). Unconditional parameters are always active.
  bool active(std::string_view name, const nlohmann::json& params) const;
  /// Parameter names in the order they are sampled: declaration order, except that a parameter
  /// comes after the parameters its condition names.
  std::vector<std::string> sampling_order() const;
  const Distribution* find(std::string_view name) const;
  std::size_t size() const { return params_.size(); }
  bool empty() const { return params_.empty(); }
  const std::vector<std::pair<std::string, Distribution>>& params() const { return params_; }
  /// [{"name": .., distribution json.., "when": {"parent": [values]}}, ...] in declaration order
  nlohmann::json to_json() const;
  /// Parses to_json()'s form, or a table {name: {type = .., when = {parent = value or [values]}}}
  /// (conditions may name parameters declared later); Error(kInvalidArgument) names the
  /// parameter.
  static SearchSpace from_json(const nlohmann::json& j);
  bool operator==(const SearchSpace&) const = default;

 private:
  std::vector<std::pair<std::string, Distribution>> params_;
  std::map<std::string, Condition, std::less<>> conditions_;
};

}  // namespace compe::tune
