#pragma once
// Pseudo-labelling: which unlabelled (test) rows join each fold's training, with which labels.
//
// Fold safety: the rows and labels that train fold k come only from fold k's own model, i.e.
// from that fold's test predictions in the source run's test_folds.csv. That model never saw
// fold k's validation rows, so fold k's OOF score stays honest. The leaky alternative (labels
// from the fold-averaged test.csv, made by models that did see fold k's validation rows) is what
// `Source::kFoldAverage` builds, for measuring the inflation it causes (docs/PSEUDO.md).
//
// Selection per fold, for classification (binary: the positive column and its complement):
//   threshold           the row's top class probability >= t (per-class values override it)
//   top_k / top_share   per class, the k rows (or the share of test rows) most confidently of it
//   max_share           at most this many pseudo rows per training row of the fold (a cap; the
//                       most confident rows are kept)
//   soft                labels are the probabilities (weights for binary, see below) not classes
// Regression: rows whose fold-to-fold spread (standard deviation of the folds' test predictions)
// is at most `max_spread`; the label is fold k's own prediction. The spread is read from every
// fold's model, so *which* rows are kept depends on models that saw fold k's validation rows
// (their labels do not); `Selection::selection_reads_other_folds` records it.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace compe::pseudo {

enum class Task { kBinary, kMulticlass, kRegression };
enum class Source { kPerFold, kFoldAverage };

struct Rule {
  std::optional<double> threshold;
  std::map<int, double> class_threshold;  ///< class index → threshold (overrides `threshold`)
  std::optional<std::size_t> top_k;
  std::optional<double> top_share;
  double max_share = 1.0;
  bool soft = false;
  std::optional<double> max_spread;  ///< regression
  Source source = Source::kPerFold;
};

/// Per-fold test predictions: `values[f]` holds fold f's model's predictions for every test row
/// (rows x columns, row-major, test order), as read from test_folds.csv.
struct FoldPredictions {
  Task task = Task::kBinary;
  std::size_t rows = 0;
  std::size_t columns = 0;  ///< 1 for binary (positive class) and regression, k for multiclass
  std::vector<std::vector<double>> values;
  std::vector<std::size_t> train_rows_per_fold;  ///< the fold's training size, for max_share
};

/// One pseudo row of one fold: the test row index, its label (class index; or the regression
/// value; for soft binary labels the positive probability) and its weight.
struct Row {
  std::size_t test_row = 0;
  double label = 0.0;
  double weight = 1.0;
};

struct Selection {
  std::vector<std::vector<Row>> per_fold;  ///< per fold of the source run
  bool selection_reads_other_folds = false;
  Source source = Source::kPerFold;
  std::size_t rows_added(std::size_t fold) const { return per_fold.at(fold).size(); }
};

/// Checks the rule (ranges, a rule that selects by something) and the predictions (finite
/// values, probabilities in [0, 1]), then selects. Fails (ErrorCode::kInvalidArgument) naming
/// the option and value; a rule that selects no row in some fold, or every test row in every
/// fold, is refused too: the message says how many rows each fold got and what to change.
Selection select(const FoldPredictions& p, const Rule& rule);

// ---------------------------------------------------------------------------------------------
// Pseudo sets (docs/FORMATS.md): pseudo/<name>.csv `fold,source_fold,id,label,weight`
// ---------------------------------------------------------------------------------------------

/// How a run uses its pseudo rows: `concat` trains on train + pseudo rows (weighted);
/// `pretrain_finetune` trains on the pseudo rows first, then continues on the true labels.
enum class Strategy { kConcat, kPretrainFinetune };
std::string strategy_name(Strategy s);
/// "concat" or "pretrain_finetune"; Error(kInvalidArgument) naming the accepted values.
Strategy parse_strategy(std::string_view name);

/// One row of a pseudo set: the fold whose training it joins, the source fold whose model
/// labelled it (-1: the fold-averaged test predictions, the leaky variant), the test id, the
/// label (class label text, or the regression value as text) and its weight (> 0).
struct SetRow {
  int fold = 0;
  int source_fold = 0;
  std::string id;
  std::string label;
  double weight = 1.0;
};

/// Writes the set atomically (CSV, rows as given) and returns the file's sha256 (hex).
std::string write_set(const std::filesystem::path& csv, const std::vector<SetRow>& rows);
/// Reads a pseudo set; Error(kNotFound) when absent, Error(kInvalidArgument) naming the file, line
/// and column for a missing column, a bad fold or weight.
std::vector<SetRow> read_set(const std::filesystem::path& csv);
/// sha256 (hex) of a file's bytes.
std::string file_sha256(const std::filesystem::path& path);

/// The `[pseudo]` table of an experiment (and `pseudo` in a run's config).
struct Config {
  std::string source_run;   ///< the run whose per-fold test predictions made the set
  std::string set;          ///< the set's path, relative to the workspace (or absolute)
  std::string sha256;       ///< of the set file
  std::string folds_hash;   ///< folds of the source run (must equal the run's)
  Strategy strategy = Strategy::kConcat;
  double weight = 1.0;      ///< multiplies every pseudo row's weight
  std::size_t pretrain_rounds = 100;  ///< pretrain_finetune: boosting rounds on the pseudo rows
  std::size_t rounds = 1;   ///< rounds of `compe pseudo --rounds` this run belongs to (lineage)
  std::size_t round = 1;
  bool leaky = false;       ///< the set was made from fold-averaged predictions (allowed only so)
  nlohmann::json rule = nlohmann::json::object();  ///< the selection rule, as recorded

  nlohmann::json to_json() const;
  /// Reads the table (as JSON; from TOML or a recorded config); `display` names it in messages.
  /// Unknown keys and bad values are Error(kInvalidArgument) naming the key and what is expected.
  static Config from_json(const nlohmann::json& j, std::string_view display);
};

/// A run's pseudo lineage (its config's `pseudo`, null when none) for people, one line each:
/// source run, strategy and weight, rule, rows added per fold, set and hash, the leak warning.
std::vector<std::string> lineage_lines(const nlohmann::json& pseudo);

/// A rule as JSON (what `Config::rule` records).
nlohmann::json rule_json(const Rule& r);

/// Fold f's pseudo rows for the fold loop, resolved against the run's test table.
struct FoldRows {
  std::vector<std::size_t> test_rows;  ///< rows of the test table
  std::vector<std::string> labels;     ///< as the set holds them
  std::vector<double> weights;         ///< set weight x Config::weight
  int source_fold = 0;
};

/// Checks a pseudo set against the run about to use it and returns its rows per fold
/// (`num_folds` entries). Refuses, with Error(kInvalidArgument): a set whose sha256 differs from
/// the config's; a config folds hash other than `folds_hash` (naming both); a row whose fold is
/// outside 0..num_folds-1; a row whose source fold is not its fold (a leak: fold k's labels from
/// a model that saw fold k's validation rows), unless the config says `leaky = true` and the row
/// says -1; ids that are not test ids of the sample submission (naming up to 5).
std::vector<FoldRows> load_for_run(const Config& c, const std::filesystem::path& workspace_root,
                                   const std::string& folds_hash, int num_folds,
                                   const std::vector<std::string>& test_ids,
                                   const std::vector<std::string>& sample_ids);

}  // namespace compe::pseudo
