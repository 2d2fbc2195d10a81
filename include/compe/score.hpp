#pragma once
/// Kaggle-exact scoring of a submission against a solution.
///
/// The solution is in Kaggle's layout: an id column, one or more target columns, and a `Usage`
/// column (Public, Private or Ignored; rows marked Ignored are never scored). A submission must
/// have exactly the solution's columns other than Usage (any order), one row per solution id.

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "compe/metric.hpp"
#include "compe/segment.hpp"
#include "compe/table.hpp"

namespace compe::score {

/// An image's (width, height) in pixels.
using ImageSize = std::pair<std::int64_t, std::int64_t>;

struct Options {
  std::string metric;              ///< metric spec, e.g. "roc_auc", "map@5" (required)
  std::string id_column;           ///< default: the solution's first column
  std::optional<metric::Task> task;  ///< default: inferred from the metric and the solution
  /// A part (Public, Private, overall) on which the metric is undefined (one class, constant
  /// predictions) scores as the worst value (-inf when greater is better, +inf otherwise) and is
  /// flagged in Result, instead of failing: the host's answer then never depends on which part
  /// a row is in.
  bool undefined_as_worst = false;
  /// Detection and segmentation: the competition's class names. Detection labels written as
  /// names map to their index here; segmentation `Image_Label` keys end in `_<class name>` (the
  /// longest that matches; without classes the key is cut at its last '_').
  std::vector<std::string> classes;
  /// Segmentation: each image's size by image id (e.g. the workspace's test.csv, see
  /// read_image_sizes); the solution's own width,height columns come first, then these, then
  /// `image_size` for every image. Every RLE is checked to lie inside its image.
  std::map<std::string, ImageSize> image_sizes;
  std::optional<ImageSize> image_size;
};

struct Result {
  std::string metric;
  metric::Direction direction = metric::Direction::kMaximize;
  metric::Task task = metric::kBinary;
  std::optional<double> public_score;   ///< absent when no row is Public
  std::optional<double> private_score;  ///< absent when no row is Private
  std::optional<double> overall_score;  ///< all Public and Private rows together
  std::size_t public_rows = 0, private_rows = 0, ignored_rows = 0;
  /// With Options::undefined_as_worst: the parts whose score is the worst value because the
  /// metric is undefined there.
  bool public_undefined = false, private_undefined = false, overall_undefined = false;
};

/// How a solution row is used.
enum class Usage { kPublic, kPrivate, kIgnored };

/// A submission validated and aligned with its solution: the metric's inputs in solution row
/// order, ready to score any subset of rows (the shake simulation re-splits them).
struct Prepared {
  Result result;  ///< metric, direction, task and row counts; no scores
  std::vector<double> y_true, y_pred;  ///< rows x true_cols, rows x pred_cols (empty for ranking)
  std::size_t true_cols = 1, pred_cols = 1;
  metric::LabelLists true_lists, pred_lists;  ///< ranking metrics (map@k) only
  std::vector<Usage> usage;  ///< per solution row; every row kPrivate when there is no Usage column
  bool has_usage = false;
};

/// The validation of score_submission (same checks, same errors) without scoring.
Prepared prepare_submission(const Table& solution, const Table& submission, const Options& options);

/// Validates the submission as Kaggle does and scores it on the Public and Private rows.
/// Throws Error(kInvalidArgument) naming the first offending ids/rows and the count of others for:
/// missing or unexpected columns, wrong row count, missing, extra or duplicate ids, non-numeric,
/// empty, NaN or infinite predictions; Error(kNotFound) for an unknown metric.
Result score_submission(const Table& solution, const Table& submission, const Options& options);

/// score_submission for a detection metric (src/score/detection.cpp): either Kaggle's `image_id,PredictionString[,Usage]`
/// (ground-truth cells "x y w h ..." or, with label, "label x y w h ...", predictions "score x y w
/// h ..."), or the ground-truth CSV layout with a Usage column (one value per image) scored
/// against a submission in the detections CSV layout. Images with an empty cell (or none) have no
/// boxes.
Result score_detection_submission(const Table& solution, const Table& submission,
                                  const Options& options);

/// A segmentation submission validated and aligned with its solution: one (image, class) row per
/// solution row, in solution order, with each row's image (the unit the shake re-splits).
struct PreparedMasks {
  Result result;  ///< metric, direction, task and row counts; no scores
  std::vector<std::string> images;       ///< distinct images in first-seen order
  std::vector<std::size_t> image_of;     ///< per solution row: its index in images
  std::vector<segment::Mask> truth, pred;  ///< per solution row
  std::vector<Usage> usage;              ///< per solution row (kPrivate without a Usage column)
  bool has_usage = false;
};

/// Segmentation layouts (src/score/segmentation.cpp): `Image_Label,EncodedPixels` (Image_Label =
/// `<image>_<class>`), `ImageId,ClassId,EncodedPixels` or `image_id,label,EncodedPixels`; the
/// solution adds Usage (and may carry width,height). The submission has the solution's key
/// columns and EncodedPixels, one row per solution row. Missing, unexpected and duplicated rows
/// are refused as score_submission refuses ids; every code (solution and submission) is parsed
/// and checked against its image's size, errors naming the file, line, image and value.
PreparedMasks prepare_segmentation(const Table& solution, const Table& submission, const Options& options);

/// score_submission for a segmentation metric (dice, dice_global, iou): prepare_segmentation,
/// then one score per part.
Result score_segmentation_submission(const Table& solution, const Table& submission, const Options& options);

/// A detection submission validated and aligned with its solution: boxes per image in solution
/// image order (the unit the shake re-splits).
struct PreparedBoxes {
  Result result;  ///< metric, direction, task and row counts (images); no scores
  std::vector<std::string> images;
  std::vector<Usage> usage;  ///< per image
  metric::BoxLists truth, pred;  ///< one row per image
  bool has_usage = false;
};

/// The validation of score_detection_submission without scoring.
PreparedBoxes prepare_detection(const Table& solution, const Table& submission, const Options& options);

/// Image sizes from a table with an id column (default: the first) and width,height columns
/// (e.g. a detection or segmentation workspace's test.csv): positive integers, ids unique.
std::map<std::string, ImageSize> read_image_sizes(const Table& table, const std::string& id_column = "");

/// Parses "WxH" (e.g. "96x96"); throws kInvalidArgument naming `what` and the text.
ImageSize parse_image_size(std::string_view text, std::string_view what);

/// Checks a submission's shape against a sample submission (same columns, same ids, no
/// duplicates, finite numeric predictions where the sample is numeric). Used before writing or
/// importing a submission.
void validate_against_sample(const Table& sample, const Table& submission);

}  // namespace compe::score
