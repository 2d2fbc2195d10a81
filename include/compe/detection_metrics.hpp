#pragma once
/// Detection metrics over boxes per image (rows of the metric registry: coco_map, coco_map50,
/// kaggle_map, det_fbeta), implemented in src/metric/detection.cpp. The detection module reads
/// and fuses boxes; the metrics live here so that the metric registry depends on nothing above it.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "compe/metric.hpp"

namespace compe::metric {

// ---------------------------------------------------------------- metrics
//
// COCO (pycocotools' COCOeval for bbox, reimplemented): per image and category, ground truth with
// iscrowd or an area outside the range is ignored (non-ignored first); detections sorted by score
// (stable), at most maxDet per image and category; each detection, in order, takes the
// unmatched ground truth (crowd ones may be taken again) with the highest IoU >= t, preferring
// non-ignored ones; IoU with a crowd box is inter / area(detection). Over images (in ground-truth
// order) detections are merged by score (stable), ignored ones dropped, precision made monotone
// and read at 101 recall points (searchsorted, left). AP = mean over those points, IoU thresholds
// and the categories that have non-ignored ground truth. IoU here has no +1 pixel term.
//
// Thresholds written as decimals below are the doubles nearest to those decimals.
//
// Kaggle (Global Wheat Detection): per image and IoU threshold t in 0.5, 0.55, ..., 0.75,
// predictions in descending score order (stable) each take the unmatched ground truth of the same
// label with the highest IoU (first on ties) if that IoU >= t: TP, else FP; unmatched ground
// truth are FN; the image scores TP / (TP + FP + FN) averaged over thresholds; the metric is the
// mean over images. An image with neither ground truth nor predictions scores 1 (nothing to find,
// nothing wrongly found); crowd flags are ignored.
//
// F-beta (as TensorFlow Great Barrier Reef scored its F2): the same matching at IoU thresholds
// 0.3, 0.35, ..., 0.8; TP, FP, FN summed over images; F = (1+b^2) TP / ((1+b^2) TP + b^2 FN + FP)
// (0 when that denominator is 0); the mean over thresholds.

/// COCO evaluation settings (pycocotools' defaults).
struct CocoParams {
  std::vector<double> iou_thrs;           ///< empty = 0.5:0.05:0.95 as np.linspace computes it
  std::vector<std::size_t> max_dets{1, 10, 100};
  /// all, small, medium, large: [0, 1e10], [0, 32^2], [32^2, 96^2], [96^2, 1e10] (inclusive).
  std::vector<std::pair<double, double>> area_rngs{
      {0, 1e10}, {0, 32.0 * 32}, {32.0 * 32, 96.0 * 96}, {96.0 * 96, 1e10}};
};

struct CocoResult {
  /// pycocotools' summarize() order: AP, AP50, AP75, AP small/medium/large, AR1, AR10, AR100,
  /// AR small/medium/large; -1 where nothing is evaluable.
  std::array<double, 12> stats{};
  std::vector<std::int64_t> categories;  ///< evaluated categories
  std::vector<double> class_ap;          ///< AP@[.5:.95] per category (area all, maxDets 100), -1: no GT
  std::vector<double> class_ap50;        ///< AP@0.5 per category
};

/// COCO-style evaluation. gt and pred have one row per image; categories empty = the labels of gt.
/// Detections of other labels are not evaluated. Throws kInvalidArgument on a row-count mismatch
/// or a non-finite score or coordinate.
CocoResult coco_evaluate(const BoxLists& gt, const BoxLists& pred,
                         std::span<const std::int64_t> categories = {},
                         const CocoParams& params = {});

/// The Kaggle per-image metric (see above), per image (scores[i] for row i) and its mean.
/// Predictions with score < min_score are dropped first.
double kaggle_map(const BoxLists& gt, const BoxLists& pred, double min_score = 0,
                  std::vector<double>* per_image = nullptr);

/// F-beta at IoU thresholds (see above); thresholds empty = 0.3:0.05:0.8.
double iou_fbeta(const BoxLists& gt, const BoxLists& pred, double beta = 1,
                 std::span<const double> thresholds = {});

/// The short names that detection commands (`compe wbf eval|tune`, Python's detect.evaluate)
/// accept on top of the registry's names, spelled out here rather than hidden in the lookup:
/// "map" -> coco_map (in the metric registry `map` is the ranking metric), "map50" -> coco_map50,
/// "fbeta" -> det_fbeta. Each pair is {short name, registry name}.
inline constexpr std::pair<std::string_view, std::string_view> kDetectionShortNames[] = {
    {"map", "coco_map"}, {"map50", "coco_map50"}, {"fbeta", "det_fbeta"}};

/// A detection command's metric spec as a registry spec: a short name above is replaced by its
/// registry name ("fbeta@2" -> "det_fbeta@2"), any other spec is looked up in the registry (its
/// aliases resolve to the row's name). The result must name a detection metric
/// (kInvalidArgument listing them otherwise; kNotFound for an unknown name).
std::string detection_metric_spec(std::string_view spec);

}  // namespace compe::metric
