#pragma once
/// The OOF exchange (docs/FORMATS.md): what every producer of runs writes and every consumer
/// reads. A Reference is what predictions must agree with (the workspace's validated train ids
/// and folds, test ids, prediction columns, metric truth); a Member is one model's predictions
/// aligned on it; Meta is the meta.json sidecar of a run folder or a teammate's OOF folder.
///
/// Matrices are row-major: rows x cols, cols = prediction columns (1 for binary and regression,
/// k for multiclass and multilabel). Errors are compe::Error naming the file, the ids or the JSON path at fault.

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "compe/folds.hpp"
#include "compe/metric.hpp"
#include "compe/table.hpp"
#include "compe/workspace.hpp"

namespace compe::model {
struct Target;
}

namespace compe::run {

struct ImageReference;

/// What every member must agree with: the workspace's train ids and folds, test ids, prediction
/// columns and metric truth.
struct Reference {
  metric::Task task = metric::kBinary;
  std::string metric;  ///< competition metric spec
  std::string id_column = "id";
  Column train_ids;            ///< validated train rows only, train order
  std::vector<int> folds;      ///< fold of each validated row
  std::string folds_hash;      ///< hash of the whole folds.csv
  std::vector<double> y_true;  ///< metric truth per validated row (rows() x true_cols)
  std::size_t true_cols = 1;   ///< multilabel: the label columns; else 1
  Column test_ids;             ///< test order
  std::vector<std::string> prediction_columns;
  std::vector<std::string> classes;  ///< class labels by index (classification)
  /// Detection and segmentation runs (compe/image_run.hpp): the images and their ground truth;
  /// null for the numeric tasks. Such a reference has no prediction columns.
  std::shared_ptr<const ImageReference> images;
  std::size_t cols() const { return prediction_columns.size(); }
  std::size_t rows() const { return folds.size(); }
  /// Number of folds (max fold + 1).
  int num_folds() const;
  /// Positions of the rows of fold `fold`, in train order.
  std::vector<std::size_t> rows_of(int fold) const;
};

/// The reference of a workspace: reads train, test, sample submission and folds.csv. A missing
/// folds.csv is Error(kNotFound), or, with `make_missing_folds`, made from compe.toml's spec and
/// written first. Throws what the workspace and folds readers throw.
Reference reference_from_workspace(const Workspace& ws, bool make_missing_folds = false);

/// One model's predictions, aligned on the reference.
struct Member {
  std::string name;          ///< run id or folder name
  std::string label;         ///< for people: the run's name, or the folder's (may repeat)
  std::string source;        ///< where it came from, for messages
  std::vector<double> oof;   ///< rows() x cols()
  std::vector<int> folds;    ///< each row's fold as its oof.csv gives it (ref.folds unless
                             ///< accepted with allow_different_folds)
  std::vector<double> test;  ///< test rows x cols()
  nlohmann::json meta = nlohmann::json::object();  ///< the sidecar, {} when absent
};

struct LoadOptions {
  /// Accept a member whose folds differ from the workspace's (plain averaging only; stacking and
  /// fitted weights refuse such a set).
  bool allow_different_folds = false;
};

/// Validates and aligns a member given as tables (oof.csv and test.csv as read) and its optional
/// sidecar (null when absent). Checks, each reported with the first offending ids (up to 5):
/// the id column is present; oof ids are exactly the reference's validated train ids (none
/// missing, extra or duplicated); each row's fold equals folds.csv's (a sidecar whose folds_hash
/// differs is refused before the row check); test ids are exactly the test ids; the prediction
/// columns are the reference's, in any order (reordered by name; class columns in another order
/// are fine); values are finite; classification probabilities lie in [0, 1].
/// Throws Error(kInvalidArgument) (kNotFound for a missing column).
Member make_member(const Reference& ref, std::string name, const Table& oof, const Table& test,
                   const nlohmann::json& meta, const LoadOptions& options = {});

/// make_member from a folder holding oof.csv, test.csv and optionally meta.json.
/// Throws Error(kNotFound) when oof.csv or test.csv is missing ("a run without test
/// predictions").
Member load_member(const Reference& ref, std::string name, const std::filesystem::path& dir,
                   const LoadOptions& options = {});

/// The reference of tables already read (train, test and the sample submission of `ws`'s
/// competition, and its folds). Rows whose fold is negative are left out.
Reference make_reference(const CompetitionConfig& cfg, const Table& train, const Table& test,
                         const Table& sample, const FoldAssignment& folds,
                         const model::Target& target);

/// Scores predictions (rows x ref.cols()) of the given rows (all rows when `rows` is empty)
/// with the reference's metric.
double score_rows(const Reference& ref, std::span<const double> pred,
                  std::span<const std::size_t> rows = {});

/// The meta.json sidecar of a run folder (format version 1). Every producer of runs writes it
/// through to_json; readers of OOF folders parse it with from_json. Fields a teammate's tool
/// leaves out stay empty; a field of the wrong type is an error.
struct Meta {
  int format_version = 1;
  std::string competition, task, metric, id;
  std::vector<std::string> target, prediction_columns;
  std::string folds_hash, data_hash;
  std::string target_transform = "none";
  std::string producer;
  std::string run_id;
  std::string kind;  ///< model, trial, blend, threshold, import, python ("" = unknown)
  bool partial = false;
  std::optional<double> cv;            ///< pooled OOF score
  std::map<int, double> fold_scores;
  std::optional<double> fold_mean, fold_std;
  /// Name of the per-fold test predictions file ("test_folds.csv"), "" when none.
  std::string test_folds;
  /// More of the `cv` object (blends: nested, in_sample; thresholds: as_predicted).
  nlohmann::json cv_details = nlohmann::json::object();
  /// Kind-specific top-level fields (a blend's inputs, a decision rule, imported_from).
  nlohmann::json extra = nlohmann::json::object();

  nlohmann::json to_json() const;
  /// `display` names the file in messages: "teammate/meta.json: /folds_hash: expected a string,
  /// got an object". Error(kParse).
  static Meta from_json(const nlohmann::json& j, std::string_view display);
  /// Reads and parses a meta.json file (Error(kParse) for bad JSON, naming line and column).
  static Meta read(const std::filesystem::path& path);
};

}  // namespace compe::run
