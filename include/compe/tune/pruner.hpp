#pragma once
/// Pruners: the interface, the settings of the median, successive-halving and fold pruners, the
/// fold rule, and the pruner registry.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "compe/tune/trial.hpp"

namespace compe::tune {

/// Decides whether a running trial should stop after its latest intermediate value.
class Pruner {
 public:
  virtual ~Pruner() = default;
  /// `trial` is running and has at least one intermediate value; `study.trials` may include it.
  virtual bool prune(const StudyView& study, const FrozenTrial& trial) = 0;
};

/// Median pruner settings (Optuna's MedianPruner defaults).
struct MedianOptions {
  int n_startup_trials = 5;
  std::int64_t n_warmup_steps = 0;
  std::int64_t interval_steps = 1;
  int n_min_trials = 1;
};

/// Asynchronous successive halving (Optuna's SuccessiveHalvingPruner with a fixed min_resource).
struct HalvingOptions {
  std::int64_t min_resource = 1;
  int reduction_factor = 4;
  int min_early_stopping_rate = 0;
};

/// Fold pruner for cross-validated objectives; intermediate step k holds the score of fold k.
///
/// Rule: after at least `min_folds` folds, let d_i = s_i - b_i (sign-adjusted so that d_i > 0
/// means the trial is better on fold i) over the folds the trial and the best complete trial
/// both have. With mean m, sample standard deviation s and n folds, the one-sided paired
/// t statistic t = m / (s / sqrt(n)) has n - 1 degrees of freedom; the trial is pruned when
/// student_t_cdf(t, n - 1) < alpha: were the trial truly as good as the best, differences this
/// bad would be seen with probability below alpha. When every difference is equal (s = 0) the
/// trial is pruned if they are negative. Without a complete best trial with those folds, nothing
/// is pruned.
struct FoldOptions {
  int min_folds = 2;
  double alpha = 0.05;
};

/// The fold rule on paired differences d (> 0: the trial is better on that fold).
bool fold_rule_prunes(const std::vector<double>& differences, const FoldOptions& options);
struct PrunerInfo {
  std::string name;
  std::vector<std::string> aliases;
  std::string summary;
  std::vector<std::string> settings;
  std::function<std::unique_ptr<Pruner>(const Settings&)> factory;
};

std::span<const PrunerInfo> builtin_pruners();
/// Error(kNotFound) with the known names and the closest match.
const PrunerInfo& find_pruner(std::string_view name);
/// find + check the settings + build. "none" is a pruner that never prunes.
std::unique_ptr<Pruner> make_pruner(std::string_view name, const Settings& settings = {});

}  // namespace compe::tune
