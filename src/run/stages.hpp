#pragma once
// The stages of run_experiment (run.hpp), in order:
//
//   Plan p = plan_experiment(ws, exp, opt, note);   // everything that can fail before a record
//   RunSpec s = describe_run(ws, exp, opt, p, store, summary, note);  // config, parent, spec
//   RunWriter w(ws, store, p.ref, s);                // open the record (begin)
//   double model_seconds = run_folds({...});         // train, predict, score and add each fold
//   w.finish({.model_seconds = model_seconds});      // every artifact, status finished
//
// Where later features slot in: label overrides change Plan::target (and Plan::y_true) in
// plan_experiment; extra training rows for a fold (pseudo-labels) belong in fold_rows, which
// decides the rows each fold trains and validates on.

#include <cstdint>
#include <filesystem>
#include <map>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "compe/folds.hpp"
#include "compe/metric.hpp"
#include "compe/model.hpp"
#include "compe/oof.hpp"
#include "compe/run.hpp"
#include "compe/run_writer.hpp"
#include "compe/store.hpp"
#include "compe/table.hpp"

namespace compe::run {

/// Adds a note to the run's summary and reports it to the event sink.
using NoteFn = std::function<void(std::string)>;

/// What a run will do, decided before anything is recorded: the data, the folds, the model and
/// its checked parameters, the target and the features. Built once; read-only afterwards (the
/// folds read it from several threads when parallel_folds > 1).
struct Plan {
  Table train, test, sample;
  FoldAssignment folds_csv;            ///< folds.csv (made from compe.toml when it was missing)
  SplitData split;                     ///< the splitter's inputs (groups, time) for train rows
  int num_folds = 0;                   ///< folds in folds.csv
  std::vector<int> folds;              ///< the folds this run trains (Experiment::folds or all)
  std::vector<std::uint8_t> keep_rows; ///< Options::row_filter's flags per train row; empty = all
  const model::Info* model = nullptr;  ///< the backend's registry row
  nlohmann::json params;               ///< the backend's parameters, defaults filled and checked
  model::Target target;
  model::FeatureMatrix features;
  std::unique_ptr<metric::Metric> metric;  ///< null for a segmentation metric (compe/image_run.hpp)
  std::string metric_spec;                 ///< the competition metric's canonical spec
  Reference ref;                       ///< the run's OOF/test rows (RunWriter's reference)
  std::vector<std::size_t> ref_pos;    ///< position of each train row among ref's rows
  std::vector<double> y_true;          ///< metric truth per train row (original regression values);
                                       ///< multilabel: n x true_cols() indicators
  /// Columns of y_true per row: the label columns for multilabel, else 1.
  std::size_t true_cols() const { return target.task == metric::kMultilabel ? target.num_class : 1; }
  /// [pseudo]: each fold's pseudo rows (indexed by fold; empty without [pseudo]) and the lineage
  /// recorded in the run's config (null without).
  std::vector<model::PseudoRows> pseudo;
  nlohmann::json pseudo_lineage;
  /// [folds] repeats = n: the folds of repeats 1..n-1 (index r - 1), one per train row like
  /// folds_csv.folds, made by compe.toml's splitter with seed + r. Empty for one repeat.
  std::vector<std::vector<int>> repeat_folds;
  int repeats() const { return 1 + static_cast<int>(repeat_folds.size()); }
  /// [data] labels: the override file, its sha256, the rows it changed and the review edits it
  /// came from (null without); recorded in the run's config as "labels".
  nlohmann::json labels_lineage;
};

/// Applies compe.toml's [data] labels to `train`'s target column (labels.cpp): ids must be train
/// ids and classification labels one of the train labels, each error naming the file and line.
/// Returns the lineage recorded with the run (null when the workspace has no override).
nlohmann::json apply_label_override(const Workspace& ws, Table& train);

/// Stage 1: reads and checks the data (unique ids, target and id columns), reads folds.csv or
/// makes it, checks the requested folds, applies Options::row_filter, resolves the backend and
/// its parameters, encodes the target and builds the features, reads and checks the [pseudo] set
/// (its folds hash, sha256, source folds, test ids). Throws Error naming what is wrong;
/// records nothing (it may write folds.csv and folds.json when folds.csv was missing).
Plan plan_experiment(const Workspace& ws, const Experiment& exp, const Options& opt, const NoteFn& note);

/// Stage 2: the record's spec: the resolved config (competition, folds record, features left out,
/// optimistic CV), versions, partial flag, and the comparison with the parent run (notes,
/// Summary::parent_id, changed_keys, multi_hypothesis in `summary`).
RunSpec describe_run(const Workspace& ws, const Experiment& exp, const Options& opt, const Plan& plan,
                     Store& store, Summary& summary, const NoteFn& note);

/// A fold's rows: train rows to fit on, validation rows to predict (train-table rows).
struct FoldRows {
  std::vector<std::size_t> train, valid;
};

/// The rows of fold `f` (of repeat `repeat`, 0 = folds.csv): the splitter's train rows (gap and
/// group purge applied) and the fold's validation rows, less the rows Options::row_filter left
/// out. Error(kInvalidArgument) when either is empty.
FoldRows fold_rows(const Workspace& ws, const Plan& plan, int f, int repeat = 0);

/// Repeated k-fold's outcome (Plan::repeats() > 1): every repeat's pooled OOF score.
struct RepeatScores {
  std::vector<double> pooled;  ///< one per repeat, repeat 0 first
};

/// Feature importance over a run's fold models (every fold and seed): the backend's own gain
/// (xgboost's total gain, linear's |coefficient| on standardised columns) as each model's shares
/// (summing to 1), and permutation importance (the drop of the fold metric when one feature is
/// shuffled among the validation rows; positive = the feature helps). Thread-safe.
class Importance {
 public:
  /// One fold model: `score` is its own score of the validation rows (the same evaluator as the
  /// permuted scores).
  void add(const model::FoldResult& result, double score, bool greater_is_better);
  bool empty() const;
  /// importance.csv: feature,gain,permutation_mean,permutation_std, one row per feature (empty
  /// cells for what no model gave), most important first (permutation mean, else gain).
  void write(const std::filesystem::path& file, const std::vector<std::string>& features) const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, double> gain_;
  std::size_t models_with_gain_ = 0;
  std::map<std::string, std::vector<double>> drops_;
};

/// What the fold stage works with.
struct FoldStage {
  const Workspace& ws;
  const Experiment& exp;
  const Options& opt;
  const Plan& plan;
  RunWriter& writer;
  Store& store;
  const EventSink& sink;
  const NoteFn& note;
  Importance* importance = nullptr;  ///< filled when set
  /// Filled when the plan has several repeats: repeats 1..n-1 are trained after repeat 0 (whose
  /// folds go to the writer as usual); their fold scores are recorded as folds r * k + f and
  /// their OOF rows written to oof_repeats.csv.
  RepeatScores* repeat_scores = nullptr;
  /// Several seeds ([run] seeds): seed -> fold -> that seed's fold score, filled when set.
  std::map<std::uint64_t, std::map<int, double>>* seed_scores = nullptr;
};

/// Stage 3: trains every planned fold (parallel_folds at once, threads divided between them),
/// adds each to the writer, logs it, and calls Options::after_fold. Returns the seconds spent in
/// the backend's fit_predict, summed over folds. Throws the fold's error; an interruption
/// (Options::cancel) throws Interrupted, a pruned run Pruned.
double run_folds(const FoldStage& stage);

struct Interrupted : Error {
  Interrupted() : Error(ErrorCode::kInvalidArgument, "interrupted") {}
};

struct Pruned : Error {
  explicit Pruned(int fold);
};

}  // namespace compe::run
