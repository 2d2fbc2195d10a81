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
#include <map>
#include <optional>
#include <string>
#include <vector>

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

}  // namespace compe::pseudo
