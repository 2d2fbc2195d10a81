#pragma once
// Tuning box fusion against a detection metric with the tuner's TPE sampler: above both
// src/detect (fusion, boxes, files) and the tuner (studies in an in-memory store), so it lives in
// src/tune (fusion.cpp). Its names stay in namespace compe::detect, where its callers
// (`compe wbf tune`, Python) look for the rest of the detection API. docs/DETECTION.md.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "compe/detect.hpp"
#include "compe/progress.hpp"

namespace compe::detect {

struct TuneFusionOptions {
  std::string method = "wbf";  ///< fixed fusion method (a row of builtin())
  std::string metric;          ///< a detection metric spec, e.g. "coco_map", "kaggle_map@0.3"
  std::int64_t trials = 50;    ///< per study (two studies with nested = true)
  std::uint64_t seed = 0;      ///< TPE seed and the seed of the half split
  std::size_t threads = 0;     ///< fusion threads (0 = all cores)
  bool nested = true;          ///< also tune on half the images and score the other half
  /// Per image, the size by which fused (normalised) boxes are scaled before scoring; empty =
  /// score in normalised units. Lets COCO's area ranges read pixels.
  std::vector<ImageSize> scale;
  /// Set: one task per study, labelled by its stage ("nested": tuned on half the images, or
  /// "all"), of `trials` steps; after each trial advance(trial, "best <value so far>").
  Progress* progress = nullptr;
};

/// One evaluated choice of fusion parameters.
struct TunedFusion {
  Params params;
  double value = 0;  ///< metric on the images it was tuned on
};

struct TuneFusionResult {
  TunedFusion best;                 ///< tuned on every image
  std::vector<double> single_all;   ///< each model alone, every image
  double default_all = 0;           ///< the method's defaults (all weights 1), every image
  bool nested = false;
  std::vector<std::size_t> tune_images, holdout_images;  ///< the split (indices into images)
  TunedFusion nested_best;          ///< tuned on tune_images
  double nested_holdout = 0;        ///< nested_best's params scored on holdout_images
  double default_holdout = 0;       ///< the method's defaults on holdout_images
  std::size_t best_single = 0;      ///< the model best on tune_images
  std::vector<double> single_tune, single_holdout;  ///< each model alone on each half
};

/// Searches per-model weights, iou_thr, skip_box_thr (methods that use it) and conf_type (wbf)
/// with the tuner's TPE sampler (in-memory store) to maximise (or minimise) the metric of the
/// fused boxes against `gt` (one row per image, in images' order). Weights are searched on
/// [0.01, 1], iou_thr on [0.3, 0.8], skip_box_thr on [0, 0.3]. The half split shuffles image
/// indices with the seed (tune::Rng, Fisher-Yates) and takes the first half (rounded down) for
/// tuning. Each trial fuses in parallel over images. Needs at least 2 images with nested = true.
/// Throws kInvalidArgument for a metric that is not a detection metric or a size mismatch.
TuneFusionResult tune_fusion(std::span<const ImageDetections> images, const metric::BoxLists& gt,
                             const TuneFusionOptions& options);

struct TuneFilesRequest {
  std::vector<std::filesystem::path> files;  ///< one detections file per model
  std::filesystem::path ground_truth;
  std::string metric = "coco_map";  ///< a detection spec (short names too)
  ReadOptions read;
  std::filesystem::path sizes;
  bool fix_boxes = false;
  TuneFusionOptions tune;  ///< method, trials, seed, threads, nested, progress (metric, scale set here)
  std::filesystem::path output;  ///< when set, the fused boxes with the best parameters (CSV)
};
struct TunedFiles {
  const Info* method = nullptr;
  std::string metric;  ///< the canonical spec
  std::size_t images = 0;
  TuneFusionResult result;
};
/// load_fusion_inputs, then tune_fusion; writes the fused boxes of the best parameters to
/// `output` when set.
TunedFiles tune_files(const TuneFilesRequest& request);

}  // namespace compe::detect
