#pragma once
/// Competition metrics and their registry.
///
/// Every metric is a row of one explicit table (src/metric/builtin_metrics.cpp): name, aliases,
/// summary, direction, accepted tasks, whether it needs probabilities, and a factory.
/// A spec is "name" or "name@arg" (e.g. "map@5", "pinball@0.9"), parsed once by make().

#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace compe::metric {

enum class Direction { kMaximize, kMinimize };

/// Task kinds, combinable as a bit set.
enum Task : unsigned {
  kBinary = 1u << 0,
  kMulticlass = 1u << 1,
  kRegression = 1u << 2,
  kMultilabel = 1u << 3,
  kRanking = 1u << 4,  ///< label lists, e.g. map@k
  kDetection = 1u << 5,  ///< boxes per image (true_boxes, pred_boxes), e.g. coco_map
  kSegmentation = 1u << 6,  ///< RLE masks per image and class (compe/segment.hpp), e.g. dice
};

/// "binary", "multiclass", "regression", "multilabel", "ranking", "detection", "segmentation".
std::string_view task_name(Task t);
/// Parses a task name; throws Error(kInvalidArgument) listing the valid names.
Task parse_task(std::string_view name);

/// Ragged lists of integer labels, row i = labels[offsets[i] .. offsets[i+1]).
struct LabelLists {
  std::vector<std::size_t> offsets{0};
  std::vector<std::int64_t> labels;
  std::size_t rows() const { return offsets.size() - 1; }
  std::span<const std::int64_t> row(std::size_t i) const {
    return {labels.data() + offsets[i], offsets[i + 1] - offsets[i]};
  }
  void push_row(std::span<const std::int64_t> r) {
    labels.insert(labels.end(), r.begin(), r.end());
    offsets.push_back(labels.size());
  }
};

/// An object box for detection metrics: corners (x1 <= x2, y1 <= y2, any one unit per image),
/// the prediction's score, the class label, and for ground truth the crowd flag and the area that
/// COCO's area ranges read (NaN = the box's own area; COCO annotation files give their own).
struct DetBox {
  double x1 = 0, y1 = 0, x2 = 0, y2 = 0;
  double score = 0;
  std::int64_t label = 0;
  bool crowd = false;
  double area = std::numeric_limits<double>::quiet_NaN();
};

/// Ragged lists of boxes, row i = the boxes of image i: boxes[offsets[i] .. offsets[i+1]).
struct BoxLists {
  std::vector<std::size_t> offsets{0};
  std::vector<DetBox> boxes;
  std::size_t rows() const { return offsets.size() - 1; }
  std::span<const DetBox> row(std::size_t i) const {
    return {boxes.data() + offsets[i], offsets[i + 1] - offsets[i]};
  }
  void push_row(std::span<const DetBox> r) {
    boxes.insert(boxes.end(), r.begin(), r.end());
    offsets.push_back(boxes.size());
  }
};

/// What a metric scores. Row-major matrices; spans are views owned by the caller.
///  - binary: y_true in {0,1} (n); y_pred n x 1 = score/probability of class 1, or n x 2
///    probabilities (column 1 is used).
///  - multiclass: y_true class index 0..k-1 (n); y_pred n x k probabilities (roc_auc: rows must
///    sum to 1 and every class occur in y_true), or n x 1 predicted labels for label metrics.
///  - label metrics (accuracy, f1, mcc, qwk, ...) derive hard labels: the argmax of n x k
///    probabilities (first maximum); an n x 1 y_pred of integers is taken as labels, otherwise as
///    probabilities of class 1 in [0, 1] with p > 0.5 -> 1. y_true holds integer labels (any
///    integers when y_pred is n x 1). Averages run over the labels present in y_true or y_pred.
///  - regression: y_true (n), y_pred n x 1.
///  - multilabel: y_true n x k in {0,1}, y_pred n x k.
///  - ranking, map@k: true_lists and pred_lists (ranked); y_true/y_pred may be empty.
///  - ranking, ndcg@k: y_true n x d relevances >= 0, y_pred n x d scores (scikit-learn's
///    layout), d >= 2.
///  - detection: true_boxes and pred_boxes, one row per image (same row count); y_true/y_pred
///    empty. See compe/detect.hpp for the metrics' definitions.
/// Rows named in error messages are 0-based indices.
struct Inputs {
  std::span<const double> y_true;
  std::size_t true_cols = 1;
  std::span<const double> y_pred;
  std::size_t pred_cols = 1;
  std::span<const double> weights;  ///< empty = unweighted; else one per row, >= 0
  const LabelLists* true_lists = nullptr;
  const LabelLists* pred_lists = nullptr;
  const BoxLists* true_boxes = nullptr;  ///< detection: ground truth per image
  const BoxLists* pred_boxes = nullptr;  ///< detection: predictions per image
  /// Rows: y_true.size() / true_cols, or true_lists->rows() (true_boxes->rows()) when y_true is
  /// empty.
  std::size_t rows() const;
};

struct Info;

class Metric {
 public:
  virtual ~Metric() = default;
  /// Scores the inputs. Throws Error(kInvalidArgument) on shape mismatch, NaN/inf predictions,
  /// labels out of range, negative weights, or where scikit-learn raises (e.g. roc_auc with one
  /// class only); where scikit-learn returns NaN (r2 of one row, a constant vector's
  /// correlation, kappa with one label) it throws too. Messages name the metric and the row.
  /// Const and safe to call concurrently; large inputs use OpenMP threads internally, and the
  /// result does not depend on the thread count.
  virtual double score(const Inputs& in) const = 0;
  const Info& info() const { return *info_; }
  /// The spec this metric was made from, canonicalised ("map@5").
  const std::string& spec() const { return spec_; }

 protected:
  Metric(const Info& info, std::string spec) : info_(&info), spec_(std::move(spec)) {}

 private:
  const Info* info_;
  std::string spec_;
};

/// What may follow '@' in a spec. Optional arguments fall back to the row's documented default
/// (map: no cut-off, ndcg: all documents, pinball: 0.5).
enum class ArgKind { kNone, kOptionalInt, kRequiredInt, kRequiredReal, kOptionalReal };

struct Info {
  std::string name;
  std::vector<std::string> aliases;
  std::string summary;
  Direction direction = Direction::kMaximize;
  unsigned tasks = 0;        ///< bit set of Task
  bool needs_proba = false;  ///< scores probabilities/scores rather than hard labels
  bool supports_weights = false;
  ArgKind arg = ArgKind::kNone;
  std::string arg_help;  ///< what the @arg means, e.g. "k: ranks counted (default: all)"
  std::function<std::unique_ptr<Metric>(const Info&, std::optional<double> arg)> factory;
  /// The values the metric can take (inclusive); infinite where unbounded. Checks scores users
  /// type in (an LB score of 7.5 for roc_auc is a typo).
  double lower = -std::numeric_limits<double>::infinity();
  double upper = std::numeric_limits<double>::infinity();

  bool accepts(Task t) const { return (tasks & t) != 0; }
  bool greater_is_better() const { return direction == Direction::kMaximize; }
};

/// Every built-in metric, in a stable order.
std::span<const Info> builtin();
/// The row for a name or alias (no @arg); throws Error(kNotFound) listing known names and the
/// closest match.
const Info& find(std::string_view name);
/// Builds a metric from "name" or "name@arg". Throws kNotFound / kInvalidArgument.
std::unique_ptr<Metric> make(std::string_view spec);
/// A sensible default metric for a task (roc_auc, log_loss, rmse, ...).
std::string default_for(Task t);

/// Checks that `value` is a score `spec` can take (Info::lower..upper): a leaderboard score of
/// 7.5 for roc_auc is a typo. Throws kInvalidArgument "<what> <value>: <spec> scores lie in [lo, hi]".
void check_score_range(std::string_view spec, double value, std::string_view what);

/// Convenience: make(spec)->score(in).
double score(std::string_view spec, const Inputs& in);

}  // namespace compe::metric
