#pragma once
/// Studies and trials over a compe::Store: ask/tell, optimize, best trials, Pareto fronts and
/// parameter importance (see compe/tune.hpp for the design).

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "compe/store.hpp"
#include "compe/tune/pruner.hpp"
#include "compe/tune/sampler.hpp"
#include "compe/tune/space.hpp"
#include "compe/tune/trial.hpp"

namespace compe::tune {

struct StudyOptions {
  std::string name;
  Direction direction = Direction::kMinimize;
  SearchSpace space;
  std::string sampler = "tpe";
  Settings sampler_settings;
  std::string pruner = "none";
  Settings pruner_settings;
  std::uint64_t seed = 0;
  bool load_if_exists = true;  ///< continue a study of the same name
  /// Free-form attributes recorded with a new study (compe tune keeps the experiment file there,
  /// so workers on other machines can join with the study's name alone). Null: none.
  nlohmann::json attrs;
  /// While optimize runs a trial, its worker records a heartbeat this often.
  std::chrono::milliseconds heartbeat_interval = std::chrono::seconds(30);
  /// Before each ask, running trials whose worker is gone are ended as failed
  /// (Store::fail_stale_trials): a dead process on this host at once, a worker on another host
  /// when its heartbeat is older than this.
  std::chrono::milliseconds stale_after = std::chrono::minutes(10);
  /// Several objectives: one direction each (two or more; overrides `direction`). Trials are
  /// told a vector of values (Study::tell with a span); pruners judge the first objective.
  std::vector<Direction> directions;
};

class Study;

/// A running trial: its sampled parameters, intermediate reports and the pruning decision.
class Trial {
 public:
  std::int64_t number() const { return number_; }
  /// The sampled parameters as external values (inactive conditional parameters are absent).
  const nlohmann::json& params() const { return params_; }
  /// Whether `name` was sampled in this trial (false for an inactive conditional parameter).
  bool active(const std::string& name) const;
  /// The value sampled for a declared parameter. Error(kInvalidArgument) when `name` is not in
  /// the study's space, the declared distribution differs (e.g. other bounds), or the parameter
  /// is conditional and inactive in this trial.
  double suggest_float(const std::string& name, double low, double high, bool log = false,
                       std::optional<double> step = std::nullopt);
  std::int64_t suggest_int(const std::string& name, std::int64_t low, std::int64_t high,
                           bool log = false, std::int64_t step = 1);
  nlohmann::json suggest_categorical(const std::string& name,
                                     const std::vector<nlohmann::json>& choices);
  /// Records an intermediate value (e.g. the score of fold `step`).
  void report(double value, std::int64_t step);
  /// Whether the pruner says this trial should stop now.
  bool should_prune();

 private:
  friend class Study;
  Trial(Study& study, std::int64_t number, nlohmann::json params)
      : study_(&study), number_(number), params_(std::move(params)) {}
  const nlohmann::json& value_of(const std::string& name, const Distribution& expected) const;
  Study* study_;
  std::int64_t number_;
  nlohmann::json params_;
  std::map<std::int64_t, double> intermediate_;
};

/// Thrown by objectives (or raised by Study::optimize on should_prune) to end a trial as pruned.
struct TrialPruned {};

class Study {
 public:
  /// Creates or (load_if_exists) opens the study in `store`. The stored study keeps direction,
  /// space, sampler and pruner; opening an existing one with another direction is
  /// Error(kInvalidArgument). The store must outlive the study.
  Study(Store& store, StudyOptions options);

  const std::string& name() const { return options_.name; }
  Direction direction() const { return options_.direction; }
  /// One direction per objective (size 1 for a single objective).
  const std::vector<Direction>& directions() const { return directions_; }
  const SearchSpace& space() const { return options_.space; }

  /// Ends stale trials (see StudyOptions::stale_after), samples parameters and creates a running
  /// trial with the next number.
  Trial ask();
  /// Like ask, but nullopt once the study has numbered `limit` trials (Store::create_trial_below).
  std::optional<Trial> ask_below(std::int64_t limit);
  /// A budget for optimize shared by every worker of the study: optimize stops when the study
  /// has numbered `limit` trials (none: nullopt, the default).
  void set_trial_limit(std::optional<std::int64_t> limit) { trial_limit_ = limit; }
  /// Numbers of the stale trials that this process ended as failed so far (see ask).
  const std::vector<std::int64_t>& stale_trials_ended() const { return stale_ended_; }
  void tell(const Trial& trial, double value);
  /// Completes a trial with one value per objective (Error(kInvalidArgument) on another count);
  /// a non-finite value makes it failed.
  void tell(const Trial& trial, std::span<const double> values);
  void tell_pruned(const Trial& trial);
  void tell_failed(const Trial& trial, const std::string& error);

  /// The study's trials from the store (refreshed), by number.
  std::vector<FrozenTrial> trials();
  /// The best complete trial; nullopt when none.
  std::optional<FrozenTrial> best_trial();
  /// The Pareto front of the complete trials (for a single objective: the best trials).
  std::vector<FrozenTrial> best_trials();
  /// Whether the sampler has nothing left to try (grid).
  bool exhausted();

  /// Runs objective on asked trials until n_trials (this call's count; 0 = no limit) or timeout
  /// (0 = none) or the sampler is exhausted. TrialPruned ends a trial as pruned; a compe::Error
  /// ends it as failed and the loop goes on; after max_consecutive_failures failures in a row
  /// the last error is rethrown. Other exceptions propagate after the trial is marked failed.
  /// `after_trial` (optional) sees each ended trial (for progress lines).
  void optimize(const std::function<double(Trial&)>& objective, std::int64_t n_trials,
                std::chrono::duration<double> timeout = std::chrono::duration<double>(0),
                int max_consecutive_failures = 5,
                const std::function<void(const FrozenTrial&)>& after_trial = {});
  /// optimize() for several objectives: the objective returns one value per direction.
  void optimize_multi(const std::function<std::vector<double>(Trial&)>& objective,
                      std::int64_t n_trials,
                      std::chrono::duration<double> timeout = std::chrono::duration<double>(0),
                      int max_consecutive_failures = 5,
                      const std::function<void(const FrozenTrial&)>& after_trial = {});

 private:
  friend class Trial;
  FrozenTrial freeze(const compe::Trial& t) const { return freeze_trial(t, options_.space); }
  void refresh();
  void mark_finished(FrozenTrial f);
  bool known_finished(std::int64_t number) const;
  /// A trial of the view or finished since the last refresh; nullptr when neither.
  const FrozenTrial* find_trial(std::int64_t number) const;
  void remember(const Trial& trial, TrialState state, std::vector<double> values,
                const std::string& error);
  void finish(const Trial& trial, TrialState state, std::span<const double> values,
              const std::string& error);
  StudyView view() const {
    StudyView v{options_.direction, &options_.space, cache_};
    if (directions_.size() > 1) v.directions = directions_;
    return v;
  }

  Store* store_;
  StudyOptions options_;
  std::vector<Direction> directions_;
  std::unique_ptr<Sampler> sampler_;
  // Conditional spaces: a second instance of the sampler for relative sampling over
  // relative_space_, so that each keeps what it has read about its own space between asks.
  std::unique_ptr<Sampler> relative_sampler_;
  std::unique_ptr<Pruner> pruner_;
  std::optional<std::int64_t> trial_limit_;
  std::vector<std::int64_t> stale_ended_;
  std::vector<std::string> sampling_order_;
  SearchSpace relative_space_;  // the unconditional parameters, when some are conditional
  Rng rng_;
  bool loaded_ = false;
  std::vector<char> is_finished_;              // by trial number: finished (immutable) and read
  std::vector<FrozenTrial> pending_;           // finished since the last refresh, not yet in cache_
  std::map<std::int64_t, FrozenTrial> mine_;   // asked here, not yet told
  std::vector<FrozenTrial> cache_;             // finished and running, by number
  std::vector<std::int64_t> running_in_view_;  // numbers of cache_'s running entries
};

/// Parameter importance: how strongly each parameter's values order the objective over the
/// complete trials. Numeric parameters: the squared Spearman rank correlation between the value
/// (internal, log-scaled where the distribution is) and the objective; categorical parameters:
/// the correlation ratio (eta squared) of the objective's ranks grouped by choice. The scores are
/// normalised to sum to 1 (all 0 when none is informative, or with fewer than 3 trials). Ties get
/// average ranks. A cheap, model-free stand-in for fANOVA: it sees monotone and per-choice
/// effects, not interactions or U-shaped ones.
std::vector<std::pair<std::string, double>> parameter_importance(
    const SearchSpace& space, std::span<const FrozenTrial> trials);
/// The complete trials no other complete trial dominates, by number, under `directions`.
std::vector<FrozenTrial> pareto_front(std::span<const FrozenTrial> trials,
                                      std::span<const Direction> directions);

/// A stored study as `compe study show` reports it.
struct StudyReport {
  compe::Study study;                 ///< as stored
  SearchSpace space;                  ///< the study's space
  std::vector<compe::Trial> trials;   ///< by number
  std::vector<FrozenTrial> frozen;    ///< the same trials, frozen (value: the first objective's)
  std::optional<std::size_t> best;    ///< index of the best complete trial (first objective)
  bool maximize = false;              ///< the first objective's direction
  bool multi = false;                 ///< several objectives
  std::map<std::string, int> counts;  ///< trials per state name
  std::vector<std::pair<std::string, double>> importance;  ///< parameter_importance
  std::vector<FrozenTrial> pareto;    ///< several objectives: the Pareto front
};

/// Reads a study for a report. As for runs, a trial whose process is gone is ended (failed) first
/// (Store::fail_stale_trials), so it is not shown running. Error(kNotFound) for an unknown study.
StudyReport report_study(Store& store, const std::string& name);

}  // namespace compe::tune
