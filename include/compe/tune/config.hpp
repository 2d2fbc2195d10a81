#pragma once
/// The [tune] table of an experiment file: TuneConfig, the proxy and its row subsample.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "compe/split.hpp"
#include "compe/tune/space.hpp"
#include "compe/tune/trial.hpp"

namespace compe::tune {

/// The [tune] table of an experiment file (keys below; every key optional but the space):
///   [tune]
///   trials = 20          # trials per `compe tune` call
///   timeout = 0          # seconds per call, 0 = none
///   sampler = "tpe"      # a row of builtin_samplers()
///   pruner = "none"      # a row of builtin_pruners(); "fold" for cross-validation
///   seed = 0
///   study = "name"       # default: the experiment's name, else the file's stem
///   max_failures = 5     # consecutive failed trials before stopping
///   [tune.sampler_options]   # e.g. multivariate = true
///   [tune.pruner_options]    # e.g. alpha = 0.1
///   [tune.space]
///   learning_rate = {type = "float", low = 0.01, high = 0.3, log = true}
///   max_depth = {type = "int", low = 2, high = 8}
///   booster = {type = "categorical", choices = ["gbtree", "dart"]}
///   rate_drop = {type = "float", low = 0.0, high = 0.3, when = {booster = "dart"}}
///   [tune.proxy]             # optional: cheaper trials
///   rows = 0.25              # fraction (0 < rows <= 1) or count (integer > 1) of rows
///   rounds = 100             # cap on num_boost_round
///   folds = 2                # only the first k folds
/// [tune.proxy]: trials run on a cheaper version of the experiment (a row subsample, fewer
/// boosting rounds, fewer folds); `compe tune --transfer` re-runs the best at full size.
struct ProxyConfig {
  double rows_fraction = 1.0;   ///< rows = 0.25: keep this fraction of each fold's rows
  std::int64_t rows_count = 0;  ///< rows = 5000: keep about this many rows (0 = use the fraction)
  std::int64_t rounds = 0;      ///< cap on num_boost_round / n_estimators (0 = none)
  int folds = 0;                ///< run only the first k folds (0 = all)
  /// {"rows": .., "rounds": .., "folds": ..} with the keys that were set.
  nlohmann::json to_json() const;
};

/// The rows a proxy keeps (one flag per row of `inputs`; `folds` is the fold of each row, -1 for
/// rows never validated). Deterministic for a seed, so every trial of a study sees the same
/// subsample. The subsample follows the folds: each fold keeps the same fraction of its rows;
/// with groups (inputs.groups), whole groups are kept or dropped, taken in a seeded order until
/// the fold has its share of rows; otherwise, for a class target, each (fold, class) cell keeps
/// its share (rounded, at least one row), so the class balance of every fold is kept.
std::vector<std::uint8_t> proxy_rows(const split::Inputs& inputs, std::span<const int> folds,
                                     const ProxyConfig& proxy, std::uint64_t seed);
struct TuneConfig {
  std::int64_t trials = 20;
  double timeout = 0;
  std::string sampler = "tpe";
  Settings sampler_settings;
  std::string pruner = "none";
  Settings pruner_settings;
  std::uint64_t seed = 0;
  std::string study;
  int max_failures = 5;
  SearchSpace space;
  std::optional<ProxyConfig> proxy;  ///< [tune.proxy], when given
  /// What a trial's run is judged on: "cv" (the metric's direction), "fit_seconds" (time in
  /// the model's fit, minimised), "wall_seconds" (the whole run, minimised). Two or more make a
  /// multi-objective study. `objectives = ["cv", "fit_seconds"]` in the [tune] table.
  std::vector<std::string> objectives = {"cv"};
};

/// The names TuneConfig::objectives accepts.
std::vector<std::string> objective_names();

/// Parses and checks a [tune] table (as JSON); errors name `display` and the key (tune.space.X).
TuneConfig parse_tune_config(const nlohmann::json& table, std::string_view display);

}  // namespace compe::tune
