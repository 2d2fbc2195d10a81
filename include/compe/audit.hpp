#pragma once
/// Leak audit of a workspace: problems in the data or the folds that make CV lie.
///
/// Checks: columns that are not features as they stand (id-like, free text, high cardinality,
/// constant, duplicate and near-duplicate columns; compe/profile.hpp); groups in more than one fold; exact duplicate feature rows across folds and between
/// train and test; time overlap between train and validation in time-series folds; features that
/// alone predict the target almost perfectly (single-feature AUC or R², out-of-fold target
/// encoding for categorical features); ids whose order predicts the target.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "compe/folds.hpp"
#include "compe/progress.hpp"
#include "compe/table.hpp"
#include "compe/workspace.hpp"

namespace compe::audit {

enum class Severity { kOk, kWarning, kLeak };
std::string_view severity_name(Severity s);

struct Finding {
  std::string check;    ///< "id_like", "free_text", "high_cardinality", "constant",
                        ///< "duplicate_column", "near_duplicate_column", "group_overlap",
                        ///< "duplicates_across_folds", "train_test_duplicates",
                        ///< "time_overlap", "single_feature", "id_order"
  Severity severity = Severity::kOk;
  std::string subject;  ///< a column or "" for the whole data set
  double value = 0;     ///< the check's figure (count, AUC, R², ...)
  std::string detail;   ///< one line a person reads
};

struct Options {
  std::string group_column;           ///< "" = the folds config's
  double single_feature_threshold = 0.99;  ///< AUC (binary) or R² (regression) at or above: leak
  double id_order_z = 4.0;            ///< z-score of the id-order statistic above which: warning
  /// How folds.csv was made (folds.json, when it describes folds.csv): warned about when it
  /// differs from compe.toml's [folds].
  std::optional<FoldsRecord> folds_record;
};

struct Report {
  std::vector<Finding> findings;
  std::size_t rows_train = 0, rows_test = 0;
};

/// Runs every check. `folds` must be aligned with `train` (see read_folds).
Report run(const Table& train, const Table& test, const CompetitionConfig& config,
           const FoldAssignment& folds, const Options& options);

// ---- adversarial validation ----

struct AdversarialOptions {
  int folds = 5;            ///< stratified folds over the train-vs-test label (2..100)
  std::uint64_t seed = 42;  ///< folds and model seed
  std::size_t top = 10;     ///< features reported, by gain
  std::size_t threads = 0;  ///< model threads (0 = all cores)
  /// XGBoost parameters over the adversarial defaults (300 rounds, early stopping 30, eta 0.1,
  /// depth 6).
  nlohmann::json params = nlohmann::json::object();
  /// Set: one task "adversarial folds" of `folds` steps, advanced after each fold.
  Progress* progress = nullptr;
};

struct DriftFeature {
  std::string name;
  double gain = 0;        ///< total gain summed over folds
  double gain_share = 0;  ///< of the total over every feature
  double auc = 0.5;       ///< single-feature AUC train-vs-test, max(auc, 1 - auc); missing lowest
};

struct Adversarial {
  double auc = 0.5;                ///< OOF ROC AUC of the train-vs-test classifier
  std::vector<double> fold_auc;
  std::vector<DriftFeature> features;  ///< top features by gain
  /// Every shared column that alone separates train from test with AUC >= 0.8 (highest first;
  /// gain filled in when the classifier used it). A classifier may miss such a column (text
  /// levels never seen in the training folds, an id-like counter), so the verdict weighs both.
  std::vector<DriftFeature> separating;
  /// Per train row (train order): OOF probability of being a test row (test-likeness).
  std::vector<double> train_test_likeness;
  std::size_t rows_train = 0, rows_test = 0;
  /// Check "adversarial", on the larger of the classifier's AUC and the best single column's:
  /// ok below 0.6, warning from 0.6, leak from 0.8.
  Finding finding;
};

/// Adversarial validation: an XGBoost classifier separating train rows (label 0) from test rows
/// (label 1) over the competition's features (id and targets left out), fitted fold by fold on
/// stratified folds of the stacked rows through the model registry. Categorical levels are those
/// of the stacked rows, so levels found only in test separate too.
/// Throws Error(kInvalidArgument) for fewer than 2 folds or fewer rows than folds on either side,
/// and what FeatureMatrix::build and the backend throw.
Adversarial adversarial(const Table& train, const Table& test, const CompetitionConfig& config,
                        const AdversarialOptions& options);

}  // namespace compe::audit
