#pragma once
/// Tuning an experiment: the rules that turn an experiment file's [tune] table into a study whose
/// trials are cross-validated runs (compe tune), and the proxy-then-transfer check (compe tune
/// --transfer). The core decides; the caller renders through the sinks and owns processes and
/// signals.
///
/// Errors: bad input (no [tune] table, a space key the model does not take, a proxy the model or
/// the folds cannot honour, a study without a kept experiment, a transfer without a "cv"
/// objective or a complete trial) throws compe::Error(kInvalidArgument) naming the experiment
/// file (or the study) and the key. Run and store errors propagate as the run layer throws them.
/// Thread safety: one call at a time per Store.

#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "compe/run.hpp"
#include "compe/store.hpp"
#include "compe/tune/config.hpp"
#include "compe/tune/study.hpp"
#include "compe/workspace.hpp"

namespace compe::tune {

/// An experiment with its [tune] table, read and checked against the model and the workspace.
struct TunePlan {
  run::Experiment experiment;  ///< as parsed (its `tune` table kept)
  std::string text;            ///< the experiment file's text (kept with a new study)
  std::string display;         ///< how messages name the experiment
  std::string path;            ///< the file given; "" when the experiment came from a study
  TuneConfig config;
  std::string metric;     ///< the workspace's metric ("cv" objective)
  bool maximize = false;  ///< the metric's direction
  /// The backend's boosting-rounds parameter (num_boost_round or n_estimators); "" when none.
  std::string rounds_key;
  nlohmann::json default_params;  ///< the backend's defaults (a proxy's round cap reads them)
};

/// Reads the experiment (the file at `experiment_path` when given, else the one kept with the
/// study `study`, as compe tune keeps it in the study's attributes) and checks it: a [tune]
/// table, every space key a parameter of the backend (closest name suggested), a proxy's
/// `rounds` only for a backend with boosting rounds, its `folds` at most the experiment's folds.
TunePlan plan_tune(const Workspace& ws, Store& store, const std::string& experiment_path,
                   const std::string& study);

/// One trial's run: the experiment and the run options to give run::run_experiment.
struct TrialSetup {
  run::Experiment experiment;
  run::Options options;
};

/// The run of one trial. `params` (external values) are merged over the experiment's
/// [model.params] (a sampled value replaces a fixed one); the [tune] table is dropped; the run is
/// a "trial" (allow_multi). With `proxy` and a [tune.proxy]: only the first `folds` folds (of
/// the experiment's subset when it names one), num_boost_round / n_estimators capped at
/// `rounds` (a smaller value, given or the backend's default, is kept), and the proxy's row
/// subsample (seeded with `seed`, the same for every trial of a study). The caller sets the
/// options' store, command line, cancel flag and fold hook.
TrialSetup trial_setup(const TunePlan& plan, const nlohmann::json& params, bool proxy,
                       std::uint64_t seed);

/// A trial's objective values from its run, one per TuneConfig::objectives name: "cv" the CV
/// score, "fit_seconds" the model's fit time, "wall_seconds" the run's.
std::vector<double> objective_values(std::span<const std::string> objectives,
                                     const run::Summary& summary);

/// The study a plan tunes: named `study` when given, else tune.study, else the experiment's
/// name, else the file's stem; the metric's direction for "cv" and minimise for the time
/// objectives; the experiment text and path kept in the attributes. A pruner other than "none"
/// with several objectives needs "cv" first (Error(kInvalidArgument)).
StudyOptions study_options(const TunePlan& plan, const std::string& study, std::uint64_t seed);

/// Links a trial and its run both ways: the trial's run id, the run's tags study:NAME,
/// trial:NUMBER and (for a proxy trial) proxy.
void link_trial_run(Store& store, const std::string& study, std::int64_t number,
                    const std::string& run_id, bool proxy);

// ---- compe tune ----

struct TuneOptions {
  std::string experiment_path;  ///< "" = the experiment kept with `study`
  std::string study;            ///< "" = from the plan (study_options)
  std::string store_url;        ///< given to each trial's run
  std::string command_line;     ///< recorded with each trial's run
  std::int64_t trials = 0;      ///< trials of this call; 0 = tune.trials
  double timeout = -1;          ///< seconds; < 0 = tune.timeout (0 = none)
  std::int64_t seed = -1;       ///< < 0 = tune.seed
  /// Stop once the study has this many trials (a parent's budget given to its workers);
  /// < 0 = the trials already in the study plus `trials`.
  std::int64_t trial_limit = -1;
  const std::atomic<bool>* cancel = nullptr;  ///< given to each trial's run
};

/// The study as opened by tune_experiment, before its first trial.
struct TuneSession {
  const TunePlan* plan = nullptr;
  std::string study;
  Direction direction = Direction::kMinimize;  ///< the first objective's
  std::uint64_t seed = 0;
  double timeout = 0;
  std::int64_t first = 0;  ///< trials the study had when this call began
  std::int64_t limit = 0;  ///< the trial budget shared by every process of this call
};

/// Trials of the study (from any process) that ended since the last report.
struct TuneProgress {
  std::vector<compe::Trial> ended;  ///< by end time
  std::int64_t ended_total = 0;     ///< ended since this call began
  std::int64_t budget = 0;          ///< limit - first
  bool multi = false;
  std::optional<FrozenTrial> best;  ///< single objective: the best so far
  std::size_t pareto_size = 0;      ///< several objectives: the Pareto front's size
};

/// What tune_experiment tells its caller; every member is optional.
struct TuneSink {
  /// The study is open and its budget set; nothing has run. (compe tune starts its worker
  /// processes here.)
  std::function<void(const TuneSession&)> on_open;
  /// This process starts trial `number` / its run returned or threw.
  std::function<void(std::int64_t number)> on_trial_start;
  std::function<void(std::int64_t number)> on_run_end;
  /// This process ended a trial (before the progress report).
  std::function<void(const FrozenTrial&)> on_trial_end;
  /// Set: progress reports after each trial and whenever `poll` (below) is called.
  std::function<void(const TuneProgress&)> on_progress;
  /// This process's loop ended; `failed`: by an exception, rethrown after this returns. `poll`
  /// reports progress (other processes may still be running trials).
  std::function<void(bool failed, const std::function<void()>& poll)> on_loop_end;
};

struct TuneResult {
  std::string study;
  Direction direction = Direction::kMinimize;
  std::string metric;
  std::vector<std::string> objectives;
  bool multi = false;
  std::size_t trials = 0;  ///< in the study
  struct Best {
    std::int64_t number = 0;
    double value = 0;
    std::string run_id;  ///< "" when the trial has no run
    nlohmann::json params;  ///< external values
  };
  std::optional<Best> best;
  struct Front {
    std::int64_t number = 0;
    std::vector<double> values;
    nlohmann::json params;  ///< external values
  };
  std::vector<Front> pareto;  ///< several objectives
};

/// Runs this process's share of a study's trials: plan_tune, study_options, then optimize with
/// trials that are runs (trial_setup with the proxy, the fold pruner on each fold's score,
/// objective_values, link_trial_run; a run that failed or was pruned is still linked).
TuneResult tune_experiment(const Workspace& ws, Store& store, const TuneOptions& options,
                           const TuneSink& sink = {});

/// A trial's external parameter values (the space's order; inactive ones absent).
nlohmann::json external_params(const SearchSpace& space, const FrozenTrial& trial);

// ---- compe tune --transfer ----

struct TransferOptions {
  std::string study;  ///< the proxy study; its kept experiment is used
  int top = 5;        ///< how many of its best trials
  std::string store_url;
  std::string command_line;
};

struct TransferRow {
  std::int64_t number = 0;
  double proxy = 0;  ///< the trial's proxy "cv" score
  double full = 0;   ///< the full-size run's CV score
  nlohmann::json params;
  std::string proxy_run_id;  ///< "" when the trial has no run
  std::string run_id;        ///< the full-size run
};

struct TransferResult {
  std::string study;
  std::string metric;
  nlohmann::json proxy;  ///< the proxy's settings; null when the study had none
  std::vector<TransferRow> rows;
  /// Spearman's rank correlation of the proxy and full scores; NaN when undefined (fewer than
  /// two trials, or constant scores).
  double spearman = 0;
};

struct TransferSink {
  /// Before the first run: how many trials will run.
  std::function<void(const std::string& study, std::size_t n, const nlohmann::json& proxy)>
      on_start;
  std::function<void(const TransferRow&)> on_row;  ///< after each run
};

/// The trials a transfer re-runs: the complete ones with a finite "cv" objective value, best
/// first under the metric's direction (ties in number order), at most `top`; each one's values
/// reduced to that value. Error(kInvalidArgument) when the objectives have no "cv" or no trial
/// qualifies.
std::vector<compe::Trial> transfer_candidates(std::vector<compe::Trial> complete,
                                              const TunePlan& plan, const std::string& study,
                                              int top);

/// Re-runs the best trials of a proxy study at full size (lineage: each run's parent is the proxy
/// trial's run; tags transfer:STUDY and trial:N) and measures whether the proxy ranked them as
/// the full runs do.
TransferResult transfer(const Workspace& ws, Store& store, const TransferOptions& options,
                        const TransferSink& sink = {});

}  // namespace compe::tune
