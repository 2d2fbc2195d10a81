#pragma once
/// Model backends, the feature matrix they consume, and target encoding.
///
/// The fold loop builds one FeatureMatrix and one Target per experiment, then for every fold calls
/// Model::fit_predict with the fold's train and valid row indices. A backend trains on the train
/// rows and predicts the valid rows (out-of-fold) and every test row.
///
/// Backends are rows of one explicit table (src/model/builtin_models.cpp): name, aliases, summary,
/// supported tasks, default parameters, the parameter names it knows, and a factory.

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "compe/metric.hpp"
#include "compe/table.hpp"

namespace compe::model {

using metric::Task;

// ---------------------------------------------------------------------------------------------
// Features
// ---------------------------------------------------------------------------------------------

struct Target;

enum class FeatureKind : std::uint8_t { kNumeric, kCategorical };

/// "numeric", "categorical".
std::string_view feature_kind_name(FeatureKind k);

struct FeatureInfo {
  std::string name;
  FeatureKind kind = FeatureKind::kNumeric;
  /// Categorical: number of levels seen in the train rows (codes 0..num_categories-1).
  std::size_t num_categories = 0;
  /// Categorical: the level of each code, as text (numbers as format_double writes them).
  std::vector<std::string> levels;
  /// A high-cardinality categorical that backends use as the count of its level among the
  /// training fold's rows (FeatureMatrix::fold_values), never as codes: counts come from the
  /// fold's train rows only, so nothing of the validation rows leaks in.
  bool count_encoded = false;
  /// A categorical that backends use as the smoothed mean target of its level (target encoding,
  /// target_encoding()), computed within each training fold: the fold's own training rows get
  /// the encoding of the other inner folds of the training fold (cross-fitting, as scikit-learn's
  /// TargetEncoder.fit_transform), validation and test rows that of the whole training fold.
  bool target_encoded = false;
  /// Encoded per training fold (count or target): a number to backends, never category codes.
  bool fold_encoded() const { return count_encoded || target_encoded; }
};

/// Inner folds of target encoding's cross-fitting: the training fold's rows, in train order,
/// go to inner fold i % kTargetEncodingFolds.
inline constexpr std::size_t kTargetEncodingFolds = 5;

/// Target encoding of one categorical, as scikit-learn 1.3's TargetEncoder (smooth = "auto",
/// binary or continuous target): for level c with n_c rows, mean m_c and within-level variance
/// v_c (ddof 0), encoding = l m_c + (1 - l) m with l = n_c s2 / (n_c s2 + v_c), where m and s2
/// are the mean and variance (ddof 0) of every row's target (missing codes included); m where l is
/// undefined (a level without rows, or s2 = v_c = 0). `codes[i]` in 0..levels-1 or NaN (missing, skipped), `y[i]` its
/// target. Returns one value per level.
std::vector<double> target_encoding(std::span<const float> codes, std::span<const double> y, std::size_t levels);

/// Which columns become features.
struct FeatureSpec {
  /// Excluded from the features (empty = none).
  std::string id_column;
  /// Excluded from the features.
  std::vector<std::string> target_columns;
  /// When non-empty, exactly these columns, in this order (each must exist in train).
  std::vector<std::string> keep;
  /// Removed from the features (each must exist in train).
  std::vector<std::string> drop;
  /// Numeric columns to treat as categorical (each must be a feature). String columns are always
  /// categorical.
  std::vector<std::string> categorical;
  /// When `keep` is empty: leave out id-like and free-text columns (compe/profile.hpp) that are
  /// not listed in `categorical`, and count-encode high-cardinality text columns per training fold.
  /// Naming the columns in `keep` uses them as they are.
  bool auto_select = true;
  /// Categoricals to target-encode within each training fold (each must be a feature; binary and
  /// regression targets only).
  std::vector<std::string> target_encoded;
  /// How high-cardinality text columns are encoded by default: "count" or "target".
  std::string encoding = "count";
};

/// A categorical feature whose test rows hold levels never seen in train.
struct UnseenLevels {
  std::string feature;
  std::size_t rows = 0;                ///< test rows with an unseen level (now missing)
  std::vector<std::string> examples;   ///< up to 5 of the unseen levels, first seen first
};

/// A column FeatureMatrix::build left out of the default features.
struct LeftOutColumn {
  std::string column;
  std::string reason;  ///< "id-like: a different value on every row", "free text: ..."
};

/// What FeatureMatrix::build changed in the data, for the caller to print.
struct FeatureReport {
  std::vector<UnseenLevels> unseen;
  std::vector<LeftOutColumn> left_out;
  /// High-cardinality categoricals count-encoded within each training fold (with their level count).
  std::vector<LeftOutColumn> count_encoded;
  /// Categoricals target-encoded within each training fold (named, or high-cardinality ones with
  /// FeatureSpec::encoding = "target").
  std::vector<LeftOutColumn> target_encoded;
  /// One line per left-out column, count-encoded column and feature with unseen levels ("" when
  /// none), e.g. "left out 'name' (free text: ...): name it in [features] keep to use it",
  /// "feature 'city': 3 test rows have levels not seen in train (treated as missing): Oslo, Rome".
  std::string to_string() const;
};

/// Dense float32 features for train and test rows, built once per experiment.
///
/// Row-major: value(row, f) = train()[row * num_features() + f]. Missing is NaN.
/// Numeric columns (float64, int64) are converted to float. Categorical features hold codes
/// 0..c-1 as floats; the levels are those seen in the train rows, ordered ascending (byte order for
/// text, numeric order for numbers) so codes do not depend on row order. A level found only in the
/// test rows becomes missing and is counted in report().
///
/// Immutable after build(); safe to read from many threads.
class FeatureMatrix {
 public:
  /// Builds the matrices. Throws Error(kNotFound) for a keep/drop/categorical name absent from
  /// train, Error(kInvalidArgument) when test lacks a feature column (naming it), when a feature
  /// column has a different kind in test (text vs numbers), or when no feature remains.
  static FeatureMatrix build(const Table& train, const Table& test, const FeatureSpec& spec);

  std::size_t num_features() const { return features_.size(); }
  std::size_t num_train_rows() const { return num_train_; }
  std::size_t num_test_rows() const { return num_test_; }
  const std::vector<FeatureInfo>& features() const { return features_; }
  std::vector<std::string> feature_names() const;
  std::span<const float> train() const { return train_; }
  std::span<const float> test() const { return test_; }
  float train_at(std::size_t row, std::size_t f) const { return train_[row * features_.size() + f]; }
  float test_at(std::size_t row, std::size_t f) const { return test_[row * features_.size() + f]; }
  /// A categorical feature backends split on as categories (not a count-encoded one).
  bool has_categorical() const;
  /// Some feature is count_encoded or target_encoded: backends call fold_values for every fold.
  bool has_fold_encoding() const;
  /// The train (test = false) or test matrix as a fold sees it: every count_encoded feature
  /// replaced by its level's count among `fit_rows` (train-table rows; weights ignored), 0 for a
  /// level absent from them; every target_encoded feature by target_encoding() of `target.y`:
  /// over all of `fit_rows` for test rows and train rows outside them, and for the fit rows
  /// themselves over the other inner folds (kTargetEncodingFolds, by position in `fit_rows`).
  /// Missing stays missing. Other features unchanged.
  std::vector<float> fold_values(std::span<const std::size_t> fit_rows, bool test, const Target& target) const;
  const FeatureReport& report() const { return report_; }
  /// Distinct for every build() in this process (copies share it): lets backends cache work
  /// derived from a matrix without trusting its address.
  std::uint64_t id() const { return id_; }

 private:
  std::uint64_t id_ = 0;
  std::vector<FeatureInfo> features_;
  std::size_t num_train_ = 0;
  std::size_t num_test_ = 0;
  std::vector<float> train_;
  std::vector<float> test_;
  FeatureReport report_;
};

// ---------------------------------------------------------------------------------------------
// Targets
// ---------------------------------------------------------------------------------------------

enum class TargetTransform : std::uint8_t { kNone, kLog1p };

/// "none", "log1p".
std::string_view target_transform_name(TargetTransform t);
/// Parses "none"/"" or "log1p"; throws Error(kInvalidArgument) listing the valid names.
TargetTransform parse_target_transform(std::string_view name);

/// The training target, encoded for the models.
///  - binary: values in {0,1}. A numeric column with values in {0,1} is kept; otherwise exactly two
///    distinct labels are mapped to 0/1 in ascending order (classes[1] is the positive class).
///  - multiclass: labels mapped to 0..k-1 in ascending order (numbers numerically, text by bytes);
///    classes[i] is the label of class i.
///  - regression: numeric values; with kLog1p the models see log1p(y) and their predictions are
///    brought back with expm1 by inverse_transform().
///  - multilabel: k columns of 0/1 indicators; y is n x k row-major (y[row * k + j]), classes and
///    columns are the k column names; models return one probability per column.
struct Target {
  Task task = Task::kRegression;
  std::size_t num_class = 1;  ///< multiclass: k; binary: 2; regression: 1; multilabel: k columns
  std::vector<double> y;      ///< one per train row, encoded (and transformed); multilabel: n x k
  std::vector<std::string> classes;  ///< binary/multiclass: label text per class index;
                                     ///< multilabel: the target column names
  TargetTransform transform = TargetTransform::kNone;
  std::string column;         ///< the source column's name (multilabel: the first one)
  std::vector<std::string> columns;  ///< the source columns (one, or the k multilabel ones)

  /// Encodes a column. Throws Error(kInvalidArgument) naming the column and row for a missing
  /// target, a binary target with other than two labels, a non-numeric regression target,
  /// log1p on a value <= -1, a transform on a classification task, or a multiclass target with
  /// fewer than two classes.
  static Target encode(const Column& column, Task task,
                       TargetTransform transform = TargetTransform::kNone);

  /// Encodes k >= 1 multilabel indicator columns (all of one table, same length). Throws
  /// Error(kInvalidArgument) naming the column and the 1-based row of a missing value or of a
  /// value other than 0 or 1 (text included), and for a repeated column.
  static Target encode_multilabel(std::span<const Column* const> columns);

  /// Multilabel: column j as a binary target (classes "0", "1", column = the column's name), for
  /// backends that train one binary model per label. Requires j < num_class.
  Target label(std::size_t j) const;

  /// Number of prediction columns a model returns: num_class for multiclass and multilabel, else 1.
  std::size_t prediction_columns() const {
    return task == Task::kMulticlass || task == Task::kMultilabel ? num_class : 1;
  }
  /// Rows of the train table (y.size() / prediction_columns() for multilabel).
  std::size_t rows() const { return task == Task::kMultilabel ? y.size() / num_class : y.size(); }
  /// Brings model-scale predictions back to the target's scale (expm1 for log1p), in place.
  void inverse_transform(std::span<double> predictions) const;
};

// ---------------------------------------------------------------------------------------------
// Fold input and output
// ---------------------------------------------------------------------------------------------

/// A user metric for early stopping: scores the valid predictions of the current iteration.
struct Evaluator {
  std::string name;
  bool greater_is_better = true;
  /// Called with the valid rows' predictions, row-major n_valid x cols, on the model's scale,
  /// in the order of FoldData::valid_rows.
  std::function<double(std::span<const double> predictions, std::size_t cols)> score;
};

/// The raw tables and workspace paths, for backends that hand the data to another program
/// (the `command` backend). Others ignore it.
struct SourceData {
  const Table* train = nullptr;
  const Table* test = nullptr;
  std::string id_column;
  std::vector<std::string> target_columns;
  /// The run's folder; the command backend writes command/test.csv and command/fold<k>/ in it.
  std::filesystem::path work_dir;
  /// Working directory for the external program (empty = the current one).
  std::filesystem::path cwd;
  /// The workspace's folds.csv (id,fold), passed on when set.
  std::filesystem::path folds_csv;
  std::size_t num_folds = 0;
  /// The folder of the workspace's train file (COMPE_DATA_DIR: where images and other files that
  /// go with the data live). Empty = unknown.
  std::filesystem::path data_dir;
  /// Detection and segmentation (Target::task): the train images' ground truth ([data] boxes or
  /// masks; COMPE_BOXES_CSV / COMPE_MASKS_CSV) and the folder of <id>.png (COMPE_IMAGES_DIR).
  /// The program then writes boxes or masks, which the run reads back (FoldResult::image_oof).
  std::filesystem::path ground_truth, images_dir;
};

/// Pseudo-labelled test rows a fold trains on besides its train rows (compe/pseudo.hpp): only
/// the fold's own rows, never validation rows. Backends without pseudo support never get any (the
/// plan refuses them).
struct PseudoRows {
  std::vector<std::size_t> test_rows;   ///< rows of the FeatureMatrix's test matrix
  std::vector<double> labels;           ///< encoded as Target::y (class index; transformed value)
  std::vector<std::string> label_text;  ///< as the pseudo set holds them (for external trainers)
  std::vector<double> weights;          ///< > 0: the set's weight x the [pseudo] weight
  std::string strategy = "concat";      ///< "concat" or "pretrain_finetune"
  std::size_t pretrain_rounds = 0;      ///< pretrain_finetune: boosting rounds on these rows first
  double weight = 1.0;                  ///< the [pseudo] weight
  bool pretrain() const { return strategy == "pretrain_finetune"; }
};

struct FoldData {
  const FeatureMatrix* features = nullptr;
  const Target* target = nullptr;
  /// Train-table row indices (into the FeatureMatrix train rows and Target::y).
  std::span<const std::size_t> train_rows;
  std::span<const std::size_t> valid_rows;
  /// Empty = unweighted; else one weight per train-table row, >= 0.
  std::span<const double> weights;
  /// Optional, one per train-table row: the group code (as the folds' splitter sees it) and the
  /// ordering key of time-series folds. Backends that hold out part of the training fold (xgboost's
  /// inner early stopping) keep groups whole and hold out the latest rows. Empty = none.
  std::span<const std::int64_t> groups;
  std::span<const double> time;
  /// The competition metric spec ("roc_auc", "rmse", ...); backends with a native equivalent use
  /// it for early stopping and curves. May be empty.
  std::string metric;
  /// Optional user metric for early stopping when the backend has no native equivalent.
  const Evaluator* evaluator = nullptr;
  int fold = 0;
  std::uint64_t seed = 0;
  /// Threads the backend may use (0 = all cores).
  std::size_t threads = 0;
  const SourceData* source = nullptr;
  /// Where an external program may log its curves (JSON lines, passed as COMPE_METRICS_FILE);
  /// the fold loop reads it after the fold. Empty = none. Other backends ignore it.
  std::filesystem::path metrics_file;
  /// The fold's pseudo-labelled rows; null or empty = none.
  const PseudoRows* pseudo = nullptr;
  /// Permutation importance: when > 0 (and `evaluator` is set), backends that support it also
  /// score the validation rows this many times per feature with that feature's values shuffled
  /// among them (FoldResult::permuted_scores). The fitted model is reused: nothing is refitted.
  std::size_t permutation_repeats = 0;
};

/// One metric's values per boosting iteration (or per solver step).
struct Curve {
  std::string metric;
  std::vector<double> train;
  std::vector<double> valid;
};

struct FoldResult {
  std::size_t cols = 1;              ///< prediction columns k
  std::vector<double> valid_pred;    ///< n_valid x k row-major, in FoldData::valid_rows order
  std::vector<double> test_pred;     ///< n_test x k row-major, in test-row order
  /// Binary: P(class 1); multiclass: class probabilities; multilabel: P(label j) per column;
  /// regression: the value (on the model's scale: apply Target::inverse_transform for the
  /// target's).
  std::size_t best_iteration = 0;    ///< 0-based; iterative backends only
  std::size_t num_iterations = 0;    ///< iterations actually run
  std::map<std::string, double> importance;  ///< feature name -> gain (or |coefficient|)
  /// FoldData::permutation_repeats > 0: feature name -> the evaluator's score of the validation
  /// rows with that feature shuffled, once per repeat. Empty when the backend does not support it.
  std::map<std::string, std::vector<double>> permuted_scores;
  std::vector<Curve> curves;
  std::filesystem::path log_file;    ///< external backends: where the program's output went
  /// How the round count was chosen: "inner" (early stopping on a held-out share of the training
  /// fold), "valid" (on the validation rows), "none" (every round kept, or not iterative).
  std::string early_stopping = "none";
  std::size_t inner_rows = 0;        ///< "inner": training-fold rows held out to stop on
  /// True when something was chosen on the validation rows (early_stopping "valid"): the fold's
  /// score, and a CV built from it, is optimistic.
  bool optimistic = false;
  /// The starting prediction the backend derived from the training rows (xgboost: base_score
  /// from the mean target), when it did.
  std::optional<double> base_score;
  /// Warnings for the user, one line each (e.g. "linear fold 2: stopped at max_iter = 1000 before
  /// converging ..."); the fold loop shows and records them.
  std::vector<std::string> notes;
  /// Detection and segmentation: the files the program wrote (its oof.csv and test.csv of boxes
  /// or masks), read and checked by the run (compe/image_data.hpp); valid_pred and test_pred are
  /// then empty.
  std::filesystem::path image_oof, image_test;
};

/// Progress of a long fit; backends call it from the fitting thread: xgboost once per boosting
/// round, linear once at the end, command about twice a second while the program runs.
/// The callback may throw to cancel the fit (the backend cleans up, killing an external program,
/// and the exception propagates unchanged).
struct Progress {
  int fold = 0;
  std::size_t iteration = 0;
  std::size_t total = 0;
  std::string message;  ///< e.g. "valid-auc:0.91"
};
using ProgressCallback = std::function<void(const Progress&)>;

// ---------------------------------------------------------------------------------------------
// Backends and their registry
// ---------------------------------------------------------------------------------------------

struct Info;

class Model {
 public:
  virtual ~Model() = default;
  /// Trains on data.train_rows and predicts data.valid_rows and every test row.
  /// `params` is a JSON object of backend parameters (defaults filled in by resolve_params, or
  /// not: the backend fills in missing defaults itself). Throws Error(kInvalidArgument) for an
  /// unknown or ill-typed parameter, Error(kBackend) when the backend fails.
  /// A model may be used for several folds in turn and from several threads at once.
  virtual FoldResult fit_predict(const FoldData& data, const nlohmann::json& params,
                                 const ProgressCallback& progress) = 0;
  const Info& info() const { return *info_; }

 protected:
  explicit Model(const Info& info) : info_(&info) {}

 private:
  const Info* info_;
};

/// The type and range of one backend parameter. resolve_params checks every given value against
/// its row before anything trains, so a value the library would reject (or crash on) fails early
/// with the key and what is expected.
struct ParamSpec {
  enum class Type {
    kInt,      ///< an integer (an integral float such as 3.0 is accepted)
    kNumber,   ///< a finite number (never NaN or +-inf)
    kBool,     ///< true or false (0 and 1 are accepted)
    kString,   ///< text without control characters; one of `choices` when those are given
    kStrings,  ///< a string or a list of strings (XGBoost's eval_metric)
    kList,     ///< a list of numbers, or its text form such as "(1,-1)"
    kTable,    ///< a table (JSON object)
  };
  std::string name;
  Type type = Type::kNumber;
  double min = -std::numeric_limits<double>::infinity();  ///< kInt and kNumber
  double max = std::numeric_limits<double>::infinity();
  bool min_open = false;  ///< the bounds are excluded
  bool max_open = false;
  std::vector<std::string> choices;  ///< kString: the accepted values (empty: any text)

  /// What the parameter expects, for messages: "a finite number >= 0", "an integer in [1, 1024]",
  /// "one of hist, approx, exact".
  std::string expected() const;
};

struct Info {
  std::string name;
  std::vector<std::string> aliases;
  std::string summary;
  unsigned tasks = 0;  ///< bit set of metric::Task
  /// Default parameters (a JSON object).
  nlohmann::json default_params;
  /// Parameter names the backend interprets itself (listed in error messages).
  std::vector<std::string> known_params;
  /// Further names the backend hands to its library unchanged (XGBoost's own parameters).
  /// resolve_params accepts a name from either list and rejects any other.
  std::vector<std::string> passthrough_params;
  /// Pairs of names for the same parameter (XGBoost's eta/learning_rate): a value given under
  /// one name replaces a default under the other; giving both is an error.
  std::vector<std::pair<std::string, std::string>> param_aliases;
  /// The type and range of every name in known_params and passthrough_params.
  std::vector<ParamSpec> param_specs;
  std::function<std::unique_ptr<Model>(const Info&)> factory;
  /// The library behind the backend and its version ("xgboost 1.7.4"), recorded with each run;
  /// empty for backends of compe's own.
  std::function<std::string()> library_version;

  bool accepts(Task t) const { return (tasks & t) != 0; }
};

/// Every built-in backend, in a stable order.
std::span<const Info> builtin();
/// The row for a name or alias; throws Error(kNotFound) listing known names and the closest match.
const Info& find(std::string_view name);
/// A new model of the named backend.
std::unique_ptr<Model> make(std::string_view name);
/// `user` merged over the backend's defaults (idempotent: resolving a resolved object changes
/// nothing). Throws Error(kInvalidArgument) when `user` is not an object, names a parameter the
/// backend does not know (naming the key, the closest match and listing every accepted name), gives
/// one parameter under two alias names, or gives a value whose type or range does not fit the
/// parameter's ParamSpec (naming the key, the value and what is expected).
nlohmann::json resolve_params(const Info& info, const nlohmann::json& user);

/// True when the backend, with these (resolved) parameters, chooses something on the validation
/// rows (xgboost with early_stopping = "valid" and early_stopping_rounds > 0): a CV from such a run
/// is optimistic and its record should say so. Known before any fold runs.
bool selects_on_valid(const Info& info, const nlohmann::json& params);

/// Predicts rows of a feature matrix given row-major (rows x num_features, the model's own view of
/// the features), returning rows x cols predictions on the model's scale.
using PredictValues = std::function<std::vector<double>(std::span<const float> values, std::size_t rows)>;

/// Permutation importance for backends: `valid_values` holds the validation rows as the fitted
/// model sees them (n_valid x nf, row-major, FoldData::valid_rows order). For every feature and
/// each of data.permutation_repeats repeats, shuffles that feature's column among the rows (a
/// seeded shuffle from data.seed, data.fold, the feature and the repeat), predicts with `predict`
/// and scores with data.evaluator; fills result.permuted_scores. Does nothing when
/// permutation_repeats is 0 or no evaluator is set.
void permutation_scores(const FoldData& data, std::span<const float> valid_values, const PredictValues& predict,
                        FoldResult& result);

/// The number of test rows and valid rows of a result match the fold; every prediction is finite.
/// Throws Error(kBackend) naming the backend, fold, row and column of the first NaN/inf.
void check_predictions(const FoldResult& result, const FoldData& data, std::string_view backend);

}  // namespace compe::model
