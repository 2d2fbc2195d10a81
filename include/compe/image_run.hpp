#pragma once
/// Detection and segmentation runs (docs/FORMATS.md, "Image runs"): what the run writer keeps
/// of an image competition, the one place image predictions are scored, and the folds' test
/// predictions combined (detection: WBF with default settings; segmentation: per-pixel majority).

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "compe/folds.hpp"
#include "compe/image_data.hpp"
#include "compe/metric.hpp"
#include "compe/oof.hpp"

namespace compe::run {

/// The images of an image run: train (every train image, in train order, each with a fold) and
/// test sets, and the train ground truth.
struct ImageReference {
  images::ImageSet train, test;
  images::Truth truth;
  const std::vector<std::string>& classes() const { return truth.classes; }
};

/// The reference of an image competition's run: train and test images (every train image must
/// have a fold: Error(kInvalidArgument) naming one that has none), the ground truth (read and
/// checked, compe/image_data.hpp), the folds, the metric and the classes; no prediction columns.
Reference image_reference(const Workspace& ws, const Table& train, const Table& test, const FoldAssignment& folds);

/// A metric's canonical spec and direction for a task. Segmentation's dice, dice_global, iou and
/// iou_global are compe/segment.hpp's (maximised) until the metric registry has rows for them;
/// any other name is looked up in the registry and must accept the task (kInvalidArgument).
struct MetricDescription {
  std::string spec;
  bool greater_is_better = true;
};
MetricDescription describe_metric(metric::Task task, const std::string& spec);

/// Scores predictions of the train images pred.images (positions in ref.train; pred aligned on
/// them) with the metric `spec` against the ground truth: detection through the metric registry (COCO mAP,
/// Kaggle mAP, F-beta), segmentation with compe/segment.hpp (dice: mean per image and class, both
/// empty = 1; dice_global; iou; iou_global). The one place image runs are scored.
double score_images(const std::string& spec, const ImageReference& ref, const images::Predictions& pred);

/// The run's test prediction from the fold models' (each aligned on every test image): detection
/// boxes fused with WBF (default settings, coordinates normalised by each image's size, labels
/// kept apart), segmentation masks by per-pixel majority (a pixel is on when more than half of the
/// folds have it).
images::Predictions combine_test_folds(const ImageReference& ref, std::span<const images::Predictions> folds);

}  // namespace compe::run
