#pragma once
/// Team merge and ensembling: sets of OOF predictions, their validation, blend methods (a
/// registry), nested-CV scoring and diversity analysis.
///
/// A member is one model's predictions in the OOF exchange format (docs/FORMATS.md): oof.csv
/// (`id,fold,<prediction columns>`), test.csv (`id,<prediction columns>`) and an optional
/// meta.json sidecar. An OofSet holds several members aligned on the workspace's validated train
/// rows (train order) and test rows (test order); every member was checked against the same
/// Reference (ids, folds, prediction columns, finite values, probabilities in range).
///
/// Matrices are row-major: rows x cols, cols = prediction columns (1 for binary and regression,
/// k for multiclass). Functions are pure and never print; errors are compe::Error with context.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "compe/metric.hpp"
#include "compe/oof.hpp"
#include "compe/store.hpp"
#include "compe/table.hpp"
#include "compe/workspace.hpp"

namespace compe::blend {

// The OOF exchange types (Reference, Member, LoadOptions, reference_from_workspace,
// make_member, load_member, score_rows) live in compe/oof.hpp, namespace compe::run: every
// producer and consumer of runs reads them; blend uses them under its own names too.
using run::LoadOptions;
using run::Member;
using run::Reference;
using run::load_member;
using run::make_member;
using run::reference_from_workspace;
using run::score_rows;

/// Members on one reference. `different_folds` is true when some member was accepted with
/// allow_different_folds.
struct OofSet {
  Reference ref;
  std::vector<Member> members;
  bool different_folds = false;
};

// ---- scoring ----

/// True when score a is better than b under the reference's metric direction.
bool better(const Reference& ref, double a, double b);

// ---- blend methods ----

/// Parameters of the blend methods (each method reads the ones it names).
struct Params {
  double power = 2.0;         ///< power_mean: exponent p (p != 0)
  int steps = 100;            ///< hill_climb: additions
  int bags = 0;               ///< hill_climb: bagged selections (0 = none)
  double bag_fraction = 0.5;  ///< hill_climb: share of members each bag sees
  int restarts = 3;           ///< weights: random starts besides equal weights and the best member
  int max_passes = 200;       ///< weights: coordinate passes per start
  double tolerance = 1e-4;    ///< weights: smallest mass moved between two members
  double l2 = 1e-3;           ///< stack: ridge penalty of the level-2 linear model
  std::uint64_t seed = 42;
  /// stack_linear / stack_xgboost: parameters of the level-2 backend over its defaults (a JSON
  /// object checked by model::resolve_params, e.g. {"max_depth": 2} or {"C": 0.1}).
  nlohmann::json model_params = nlohmann::json::object();
};

/// A fitted blend: turns member predictions of any rows into blended predictions.
struct Fitted {
  std::vector<double> weights;  ///< one per member (empty for stack / rank-free methods)
  nlohmann::json details = nlohmann::json::object();  ///< method-specific (steps, coefficients)
  /// preds[m] = member m's predictions (rows x cols); returns rows x cols.
  std::function<std::vector<double>(const std::vector<std::span<const double>>& preds,
                                    std::size_t rows)>
      apply;
};

/// What a method is fitted on: member predictions of some rows and their truth.
struct FitInput {
  const Reference* ref = nullptr;
  std::vector<std::span<const double>> preds;  ///< per member, rows x cols
  std::span<const double> y_true;              ///< rows x ref->true_cols
  std::size_t rows = 0;
};

/// A row of the method registry.
struct Info {
  std::string name;
  std::string summary;
  bool fitted = false;      ///< learns from the OOF truth (weights, hill_climb, stack)
  bool same_folds = false;  ///< refuses members on different folds
  unsigned tasks = 0;       ///< bit set of metric::Task
  std::function<Fitted(const FitInput&, const Params&)> fit;
};

/// Every built-in blend method, in a stable order (src/blend/builtin_methods.cpp).
std::span<const Info> builtin();
/// The row for a name; Error(kNotFound) listing the known names and the closest match.
const Info& find(std::string_view name);

/// The result of blending an OofSet.
struct Result {
  std::string method;
  std::vector<double> weights;  ///< one per member (empty for stack)
  nlohmann::json details;
  std::vector<double> oof;         ///< rows x cols: in-sample fit applied (stack: its honest OOF)
  std::vector<double> nested_oof;  ///< rows x cols: each fold predicted by a fit on the other folds
  std::vector<double> test;        ///< test rows x cols, fit on every row
  double oof_score = 0;            ///< score of `oof` (in-sample for fitted methods)
  double nested_score = 0;         ///< score of `nested_oof` (honest)
  std::vector<double> fold_scores;    ///< nested score per fold
  std::vector<double> member_scores;  ///< each member's OOF score
  int best_member = 0;
};

/// Blends a set with a method. Needs at least two members (Error(kInvalidArgument) otherwise);
/// methods that learn refuse a set with different folds.
Result blend(const OofSet& set, std::string_view method, const Params& params = {});

// ---- decisions: thresholds and the optimised rounder ----

/// True when the metric scores hard labels of a classification task (accuracy, f1*, precision*,
/// recall*, mcc, qwk, balanced_accuracy): the metrics whose score a decision rule can raise.
bool scores_labels(std::string_view metric);

/// How predictions become class labels, fitted on OOF rows to maximise a label metric:
///  - "threshold" (binary): label 1 when p >= cuts[0];
///  - "rounder" (multiclass scored by qwk, classes ordinal in index order): the expected class
///    index s = sum_c c * p_c, label = the number of cuts <= s (k-1 non-decreasing cut points);
///  - "class_weights" (other multiclass label metrics): label = the first argmax of w_c * p_c.
struct Decision {
  std::string kind;
  std::vector<double> cuts;           ///< threshold: {t}; rounder: k-1 cut points;
                                      ///< column_thresholds (multilabel): one per column
  std::vector<double> class_weights;  ///< class_weights: one per class (max 1)
  int passes = 0;                     ///< coordinate passes made (rounder, class_weights)
  bool converged = true;              ///< false when the pass limit stopped the search
  /// Class index of each row of `pred` (rows x cols, the reference's prediction columns);
  /// column_thresholds: 0/1 per cell (rows x cols).
  std::vector<int> labels(std::span<const double> pred, std::size_t cols) const;
  nlohmann::json to_json() const;
};

/// Fits the decision maximising the reference's label metric on predictions `pred` (rows x
/// ref.cols()) of rows whose truth is `y_true`. The optimiser is exact per coordinate: the
/// threshold is swept over every distinct score (the best of all cut positions; of positions
/// tied at the best score, the middle one); the rounder's cuts (from 0.5, 1.5, ...) and the class weights (from 1) are improved by
/// coordinate descent, each coordinate set to its best position over every distinct switch
/// point of the rows it moves, until a pass moves nothing (at most `max_passes`). Candidates are
/// midpoints between neighbouring switch points. Deterministic.
/// Multilabel tasks with a multilabel F1 metric get one threshold per column (kind
/// column_thresholds), fitted by coordinate ascent over each column's distinct predictions.
/// Throws Error(kInvalidArgument) for regression tasks, multilabel tasks with another metric and
/// probability metrics (roc_auc, log_loss, ...).
Decision fit_decision(const Reference& ref, std::span<const double> pred,
                      std::span<const double> y_true, int max_passes = 100);

/// A decision fitted on every OOF row, its nested-CV check and the labels it gives.
struct DecisionResult {
  Decision decision;                 ///< fitted on every row
  std::vector<Decision> fold_decisions;  ///< fold f's: fitted on the other folds
  std::vector<int> in_sample_labels;     ///< rows: `decision` applied to every OOF row
  std::vector<int> nested_labels;        ///< rows: each fold labelled by its fold decision
  std::vector<int> test_labels;          ///< test rows: `decision` applied
  double default_score = 0;  ///< the metric on the predictions as they are (argmax / p > 0.5)
  double in_sample_score = 0;
  double nested_score = 0;
  std::vector<double> fold_scores;  ///< nested score of each fold
  bool beats_input = false;  ///< nested_score strictly better than default_score
};

/// Fits a decision on OOF predictions (rows x ref.cols()) and checks it by nested CV (fitted on
/// k-1 folds, scored on the held-out fold); `test` (test rows x cols) is labelled by the decision
/// fitted on every row. The fit on every row and the fold fits run in parallel on up to
/// `threads` threads (0 = every core); the result does not depend on the thread count. Throws
/// what fit_decision throws.
DecisionResult optimize_decision(const Reference& ref, std::span<const double> oof,
                                 std::span<const double> test, int max_passes = 100,
                                 std::size_t threads = 0);

/// Labels as predictions in the reference's columns: binary 0/1, multiclass one-hot rows.
std::vector<double> labels_as_predictions(const Reference& ref, std::span<const int> labels);

// ---- diversity ----

struct Analysis {
  std::vector<std::string> names;
  std::vector<double> scores;  ///< each member's OOF score
  /// m x m, row-major: correlations of predictions and of errors (prediction - truth; for
  /// multiclass 1 - p(true class)). Predictions of several columns are flattened.
  std::vector<double> pearson, spearman, error_pearson, error_spearman;
  std::vector<int> order;             ///< clustered ordering: best member, then nearest by Spearman
  std::vector<double> marginal_gain;  ///< score(blend of all) - score(blend of the others), signed
                                      ///< so that positive helps
  std::string method;                 ///< blend used for the marginal gains
  double all_score = 0;               ///< score of the blend of all members
};

/// Diversity of a set: correlations, scores and each member's marginal gain when added to the
/// blend (method `method`, nested CV score) of the others. Needs at least two members.
Analysis analyze(const OofSet& set, std::string_view method = "weights", const Params& params = {});

/// Pearson and Spearman correlation of two equal-length vectors: compe::stats (compe/stats.hpp)
/// with 0 where that is NaN (fewer than 2 points, a constant or non-finite input), the value the
/// diversity report and the shake history have always shown there.
double pearson(std::span<const double> a, std::span<const double> b);
double spearman(std::span<const double> a, std::span<const double> b);
/// Average ranks (1-based, ties averaged) scaled to [0, 1] by dividing by n.
std::vector<double> rank01(std::span<const double> v);

// ---- runs: members from the store, blends and imports recorded as runs ----

/// Where a blend or an import is recorded.
struct RunOptions {
  std::string store;         ///< store URL; "" = the workspace's SQLite store
  std::string name;          ///< run name; "" = a default
  std::string command_line;  ///< recorded for reproduction
};

/// Loads members named by run id (or unique prefix) in the store, or by a folder holding oof.csv
/// and test.csv (a teammate's export). Errors name the argument.
OofSet load_set(const Workspace& ws, const std::vector<std::string>& inputs, const RunOptions& run,
                const LoadOptions& options = {});

/// What a recorded blend or import produced.
struct Recorded {
  std::string run_id;
  std::filesystem::path dir;
  double cv = 0;  ///< the run's CV: a blend's nested-CV score, an import's OOF score
  std::vector<std::string> notes;  ///< e.g. the folder was imported before
};

/// Records a blend as a run: config.json (method, params, weights, inputs with their run ids or
/// folders: the lineage), oof.csv (the nested-CV predictions for methods that learn, so that the
/// file stays honest for a later level; the plain blend otherwise), test.csv (fit on every row),
/// submission.csv, meta.json (with both scores), run.log; fold scores are the nested ones.
Recorded record_blend(const Workspace& ws, const OofSet& set,
                      const std::vector<std::string>& inputs, const Result& result,
                      const Params& params, const RunOptions& run);

/// Records a decision fitted on a run's (or a blend's) predictions as a run: oof.csv holds the
/// nested labels (binary 0/1, multiclass one-hot), test.csv the test labels, submission.csv the
/// labels in the sample submission's layout (class labels in a one-column sample), meta.json the
/// nested score as its CV and the in-sample score; config.json the decision, its fold decisions
/// and `source` (what the predictions came from: a run, a folder or a blend and its members).
/// `inputs` are the arguments as given; the run's parent is the source run when it is one.
Recorded record_decision(const Workspace& ws, const Reference& ref,
                         const std::vector<std::string>& inputs, const DecisionResult& result,
                         const nlohmann::json& source, const RunOptions& run);

/// Validates a folder with oof.csv, test.csv and an optional meta.json against the workspace
/// (make_member's checks) and records it as a run named `run.name` (default: the folder's name).
/// With allow_different_folds, predictions made on other folds are recorded with their own folds
/// and folds hash (the sidecar's, else one computed from the file), so that only plain averages
/// use them later.
Recorded import_oof(const Workspace& ws, const std::filesystem::path& dir, const RunOptions& run,
                    const LoadOptions& options = {});

/// Copies a run's oof.csv, test.csv and meta.json into `dir` (created when missing).
/// Throws Error(kNotFound) for an unknown run or a run without these files.
std::vector<std::filesystem::path> export_oof(const Workspace& ws, const std::string& run,
                                              const std::filesystem::path& dir,
                                              const RunOptions& options);

/// Params as JSON (recorded in a blend's config).
nlohmann::json params_to_json(const Params& params);
/// Inverse of params_to_json (missing fields keep their defaults).
Params params_from_json(const nlohmann::json& j);

/// Makes again a blend or threshold run from its record: a blend re-blends its members (run ids
/// in the store, or folders) with the recorded method and parameters; a threshold refits on its
/// source run. Error(kInvalidArgument) for other kinds (an import's predictions came from outside:
/// import the folder again), or when a member is gone.
Recorded rerun(const Workspace& ws, const Run& run, const RunOptions& options);

}  // namespace compe::blend
