#pragma once
/// The fold loop: one cross-validated run of a model in a workspace.
///
/// For each fold it trains on the fold's train rows, predicts the validation rows (out-of-fold)
/// and the test rows, scores the fold with the competition metric, and records everything in the
/// store. It writes runs/<run-id>/: config.json, oof.csv, test.csv (fold-averaged), submission.csv
/// (exactly the sample submission's header, ids and order), meta.json (the OOF exchange sidecar)
/// and run.log. Writes are atomic; an interrupted run is marked interrupted and leaves no
/// half-written artifact.
///
/// Curves: the backend's own (FoldResult::curves, stored as train-<metric> / valid-<metric>) and
/// those an external trainer appends to runs/<run-id>/command/fold<k>/metrics.jsonl
/// (COMPE_METRICS_FILE, read with track::read_metrics_log after the fold, also when the fold
/// failed), stored per fold in one log_metrics batch.

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "compe/progress.hpp"
#include "compe/run_writer.hpp"
#include "compe/split.hpp"
#include "compe/workspace.hpp"

namespace compe::run {

/// An experiment: the model, its parameters and the features (experiments/*.toml).
///
///   name = "xgb-depth4"          # optional run name
///   parent = "a1b2c3d4"          # optional parent run id (prefix)
///   [model]
///   backend = "xgboost"          # `compe list models`
///   [model.params]               # backend parameters
///   max_depth = 4
///   [features]
///   drop = ["name"]              # or keep = [...]
///   categorical = ["pclass"]     # numeric columns to treat as categorical
///   target_transform = "log1p"   # none | log1p (regression)
///   encoding = "count"           # high-cardinality text: count | target (per training fold)
///   target_encoding = ["zip"]    # categoricals to target-encode per training fold
///   [run]
///   folds = [0, 1]               # a subset of folds (default: all)
///   seed = 42
///   seeds = [1, 2, 3]            # train each fold once per seed, predictions averaged
///   permutation_importance = false  # also shuffle each feature on the OOF rows
///   threads = 0                  # 0 = all cores
///   parallel_folds = 1           # folds trained at once; threads are divided between them
struct Experiment {
  std::string name;
  std::string parent;
  std::string backend = "xgboost";
  nlohmann::json params = nlohmann::json::object();
  std::vector<std::string> keep, drop, categorical;
  std::string target_transform = "none";
  std::string encoding = "count";            ///< model::FeatureSpec::encoding
  std::vector<std::string> target_encoding;  ///< model::FeatureSpec::target_encoded
  std::vector<int> folds;  ///< empty = all
  std::uint64_t seed = 42;
  /// Several seeds averaged inside one run: each fold trains once per seed (the backend's seed,
  /// COMPE_SEED for command trainers) and its OOF and test predictions are the seeds' mean.
  /// Empty = `seed` alone.
  std::vector<std::uint64_t> seeds;
  /// Permutation importance on the OOF rows (each feature shuffled among a fold's validation
  /// rows, the fold's model repredicting them; xgboost and linear).
  bool permutation_importance = false;
  /// The seeds a fold trains with: `seeds`, or {seed}.
  std::vector<std::uint64_t> fold_seeds() const { return seeds.empty() ? std::vector<std::uint64_t>{seed} : seeds; }
  std::size_t threads = 0;
  std::size_t parallel_folds = 1;
  std::string source;  ///< the experiment file, "" when built from options
  /// The raw [tune] table (search space and tuner settings, read by compe tune); null when
  /// absent. Not part of the run's config.
  nlohmann::json tune;
  /// The [pseudo] table (compe/pseudo.hpp Config as JSON): pseudo-labelled rows join each fold's
  /// training; null when absent. Recorded in the run's config as `pseudo`, with its lineage.
  nlohmann::json pseudo;

  /// The experiment as JSON (stored as the run's config, diffed by later tools).
  nlohmann::json to_json() const;
};

/// The experiment recorded in a run's config (the inverse of Experiment::to_json).
Experiment experiment_from_json(const nlohmann::json& config);

/// Parses an experiment TOML file's text; errors name the file, line, key and allowed values.
Experiment parse_experiment(std::string_view toml_text, std::string_view display);

/// Progress events for a renderer (the CLI draws bars; the Python module calls back).
struct Event {
  enum Kind { kStart, kFoldStart, kIteration, kFoldEnd, kNote, kEnd } kind = kNote;
  int fold = -1;
  int num_folds = 0;
  std::size_t iteration = 0, total = 0;
  double score = 0;
  std::string message;
};
using EventSink = std::function<void(const Event&)>;
/// The events as calls on the one progress interface: kStart ("run <id>: <n> fold(s)") and kNote
/// become notes; each fold is a task "fold <f>" over its iterations, finished with its score.
/// The returned sink refers to `progress`, which must outlive it.
EventSink progress_sink(Progress& progress);

struct Options {
  std::string store;  ///< store URL or path; "" = the workspace's SQLite store
  std::string command_line;  ///< recorded for reproduction
  /// Set to true (e.g. by a SIGINT handler) to stop after the current iteration; the run is then
  /// recorded as interrupted and an Error(kInvalidArgument, "interrupted") is thrown.
  const std::atomic<bool>* cancel = nullptr;
  /// Silences the warning given when a run changes more than one hypothesis against its parent.
  bool allow_multi = false;
  /// Called after each fold is scored (serialised; folds in order when parallel_folds is 1).
  /// Returning true stops the run: it is recorded as pruned ("stopped after fold F") and
  /// Error(kInvalidArgument) is thrown. Used by the tuner's fold pruner.
  std::function<bool(int fold, double score)> after_fold;
  /// Keeps only some train rows (the tuner's proxy): called once with the split inputs and the
  /// fold of every row; returns one flag per row (empty = all). Rows left out are neither
  /// trained on nor validated, so the OOF score covers the kept rows.
  std::function<std::vector<std::uint8_t>(const split::Inputs& rows, std::span<const int> folds)>
      row_filter;
  /// How often a background thread records that the run is alive (Store::heartbeat), so that
  /// other machines sharing the store can tell a long fold from a dead run. 0 = only after each
  /// fold.
  std::chrono::milliseconds heartbeat_interval = std::chrono::seconds(30);
  /// Run::kind of the record: "model", or "trial" for the tuner's.
  std::string kind = "model";
  /// The tuner's proxy settings (rows, folds, rounds), recorded in the config as `proxy`; a run
  /// with a proxy is partial.
  nlohmann::json proxy;
};

/// Runs an experiment in a workspace. Creates folds.csv from compe.toml first when missing.
/// Throws Error with context for bad data or config; a failure after the run was recorded marks
/// it failed (or interrupted) in the store before rethrowing.
Summary run_experiment(const Workspace& ws, const Experiment& exp, const Options& options,
                       const EventSink& sink);

/// Before a rerun of `run`: when the workspace's folds.csv differs from the run's (folds hash),
/// remakes it from the run's record (competition.folds) and returns what was done, for a warning;
/// nullopt when nothing changed. Throws kInvalidArgument when the record cannot give the same
/// folds (naming both hashes): the user must restore that folds.csv.
std::optional<std::string> restore_run_folds(const Workspace& ws, const Run& run);

}  // namespace compe::run
