// The tables of built-in samplers and pruners, and their settings.
#include <cmath>
#include <string>
#include <vector>

#include "compe/error.hpp"
#include "compe/registry.hpp"
#include "compe/util.hpp"
#include "tune/samplers.hpp"

namespace compe::tune {
namespace {

double number(const Settings& s, const std::string& key, double def) {
  auto it = s.find(key);
  if (it == s.end()) return def;
  if (!it->second.is_number()) {
    fail(ErrorCode::kInvalidArgument, "setting '{}' is {}; expected a number", key,
         it->second.dump());
  }
  return it->second.get<double>();
}

std::int64_t integer(const Settings& s, const std::string& key, std::int64_t def,
                     std::int64_t min) {
  const double v = number(s, key, static_cast<double>(def));
  if (v != std::floor(v) || v < static_cast<double>(min) || v > 1e15) {
    fail(ErrorCode::kInvalidArgument, "setting '{}' is {}; expected an integer >= {}", key, v, min);
  }
  return static_cast<std::int64_t>(v);
}

bool flag(const Settings& s, const std::string& key, bool def) {
  auto it = s.find(key);
  if (it == s.end()) return def;
  if (!it->second.is_boolean()) {
    fail(ErrorCode::kInvalidArgument, "setting '{}' is {}; expected true or false", key,
         it->second.dump());
  }
  return it->second.get<bool>();
}

std::unique_ptr<Sampler> tpe(const Settings& s) {
  TpeOptions o;
  o.consider_prior = flag(s, "consider_prior", o.consider_prior);
  o.prior_weight = number(s, "prior_weight", o.prior_weight);
  if (!(o.prior_weight > 0) || !std::isfinite(o.prior_weight)) {
    fail(ErrorCode::kInvalidArgument, "setting 'prior_weight' is {}; expected a number > 0",
         o.prior_weight);
  }
  o.consider_magic_clip = flag(s, "consider_magic_clip", o.consider_magic_clip);
  o.consider_endpoints = flag(s, "consider_endpoints", o.consider_endpoints);
  o.n_startup_trials = static_cast<int>(integer(s, "n_startup_trials", o.n_startup_trials, 0));
  o.n_ei_candidates = static_cast<int>(integer(s, "n_ei_candidates", o.n_ei_candidates, 1));
  o.multivariate = flag(s, "multivariate", o.multivariate);
  o.constant_liar = flag(s, "constant_liar", o.constant_liar);
  o.optuna31_kernels = flag(s, "optuna31_kernels", o.optuna31_kernels);
  return make_tpe_sampler(o);
}

std::unique_ptr<Pruner> median(const Settings& s) {
  MedianOptions o;
  o.n_startup_trials = static_cast<int>(integer(s, "n_startup_trials", o.n_startup_trials, 0));
  o.n_warmup_steps = integer(s, "n_warmup_steps", o.n_warmup_steps, 0);
  o.interval_steps = integer(s, "interval_steps", o.interval_steps, 1);
  o.n_min_trials = static_cast<int>(integer(s, "n_min_trials", o.n_min_trials, 1));
  return make_median_pruner(o);
}

std::unique_ptr<Pruner> halving(const Settings& s) {
  HalvingOptions o;
  o.min_resource = integer(s, "min_resource", o.min_resource, 1);
  o.reduction_factor = static_cast<int>(integer(s, "reduction_factor", o.reduction_factor, 2));
  o.min_early_stopping_rate =
      static_cast<int>(integer(s, "min_early_stopping_rate", o.min_early_stopping_rate, 0));
  return make_halving_pruner(o);
}

std::unique_ptr<Pruner> fold(const Settings& s) {
  FoldOptions o;
  o.min_folds = static_cast<int>(integer(s, "min_folds", o.min_folds, 2));
  o.alpha = number(s, "alpha", o.alpha);
  if (!(o.alpha > 0 && o.alpha < 1)) {
    fail(ErrorCode::kInvalidArgument, "setting 'alpha' is {}; expected a number in (0, 1)",
         o.alpha);
  }
  return make_fold_pruner(o);
}

const std::vector<SamplerInfo>& sampler_table() {
  static const std::vector<SamplerInfo> rows = {
      {"tpe",
       {"TPESampler"},
       "tree-structured Parzen estimator (Optuna 3.1's defaults; multivariate and constant liar "
       "optional)",
       {"consider_prior", "prior_weight", "consider_magic_clip", "consider_endpoints",
        "n_startup_trials", "n_ei_candidates", "multivariate", "constant_liar",
        "optuna31_kernels"},
       tpe},
      {"random",
       {"RandomSampler"},
       "independent uniform draws (log-uniform on log scales)",
       {},
       [](const Settings&) { return make_random_sampler(); }},
      {"grid",
       {"GridSampler"},
       "every combination of the space's values (stepped floats, ints, choices), in random order",
       {},
       [](const Settings&) { return make_grid_sampler(); }},
  };
  return rows;
}

const std::vector<PrunerInfo>& pruner_table() {
  static const std::vector<PrunerInfo> rows = {
      {"none", {"nop"}, "never prunes", {}, [](const Settings&) { return make_nop_pruner(); }},
      {"median",
       {"MedianPruner"},
       "prunes a trial whose best value so far is worse than the median of complete trials at "
       "the same step",
       {"n_startup_trials", "n_warmup_steps", "interval_steps", "n_min_trials"},
       median},
      {"successive_halving",
       {"asha", "SuccessiveHalvingPruner"},
       "asynchronous successive halving: at steps min_resource * rf^k keeps the top 1/rf",
       {"min_resource", "reduction_factor", "min_early_stopping_rate"},
       halving},
      {"fold",
       {"folds"},
       "cross-validation: prunes after fold k when a paired t-test over the folds so far says "
       "the trial is very unlikely to beat the best trial",
       {"min_folds", "alpha"},
       fold},
  };
  return rows;
}

const Registry<SamplerInfo>& sampler_registry() {
  static const Registry<SamplerInfo> r("sampler", sampler_table());
  return r;
}
const Registry<PrunerInfo>& pruner_registry() {
  static const Registry<PrunerInfo> r("pruner", pruner_table());
  return r;
}

template <typename Row>
void check_settings(const Row& row, const Settings& settings, std::string_view what) {
  for (const auto& [key, value] : settings) {
    bool ok = false;
    for (const std::string& k : row.settings) ok = ok || k == key;
    if (!ok) {
      fail(ErrorCode::kInvalidArgument, "{} '{}' does not take setting '{}'; it takes: {}", what,
           row.name, key, row.settings.empty() ? std::string("none") : join(row.settings));
    }
  }
}

}  // namespace

std::span<const SamplerInfo> builtin_samplers() {
  return sampler_registry().rows();
}
std::span<const PrunerInfo> builtin_pruners() {
  return pruner_registry().rows();
}
const SamplerInfo& find_sampler(std::string_view name) {
  return sampler_registry().find(name);
}
const PrunerInfo& find_pruner(std::string_view name) {
  return pruner_registry().find(name);
}
std::unique_ptr<Sampler> make_sampler(std::string_view name, const Settings& settings) {
  const SamplerInfo& row = find_sampler(name);
  check_settings(row, settings, "sampler");
  return row.factory(settings);
}
std::unique_ptr<Pruner> make_pruner(std::string_view name, const Settings& settings) {
  const PrunerInfo& row = find_pruner(name);
  check_settings(row, settings, "pruner");
  return row.factory(settings);
}

}  // namespace compe::tune
