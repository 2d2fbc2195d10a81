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
#include "compe/store.hpp"
#include "compe/workspace.hpp"

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

/// The nested check over folds: for each outer fold f, settings tuned (a study of
/// options.trials) on the other folds' images only, then f's images fused with them; the nested
/// score is the metric on the pooled outer-fold fused boxes. The final settings are tuned on
/// every image.
struct FoldTunedFusion {
  TunedFusion best;                     ///< tuned on every image: the final settings
  std::vector<int> folds;               ///< the outer folds, ascending
  std::vector<TunedFusion> fold_best;   ///< per outer fold: tuned on the other folds' images only
  std::vector<double> fold_scores;      ///< per outer fold: its images fused with fold_best's settings
  double nested = 0;                    ///< the metric on the pooled outer-fold fused boxes
  std::vector<std::vector<Box>> nested_boxes;  ///< per image: fused with its fold's settings (normalised)
  std::vector<double> single_all;       ///< each model alone, every image
  double default_all = 0;               ///< the method's defaults, every image
};

/// tune_fusion's search with the nested check over `folds` (one per image, >= 0) instead of a half
/// split (options.nested is ignored). Needs at least 2 folds. Progress: one task per study
/// ("fold <f>", then "all"). Throws kInvalidArgument as tune_fusion does, or for a fold count
/// that does not match the images.
FoldTunedFusion tune_fusion_folds(std::span<const ImageDetections> images, const metric::BoxLists& gt,
                                  std::span<const int> folds, const TuneFusionOptions& options);

/// The images fused with `params` by `method` (normalised boxes, one row per image).
std::vector<std::vector<Box>> fuse_with(const std::string& method, const Params& params,
                                        std::span<const ImageDetections> images, std::size_t threads = 0);

/// The metric of boxes fused (normalised, scaled per image by `scale` when not empty) against `gt`
/// on the images `idx` (all when empty).
double score_fused(const std::string& metric, std::span<const std::vector<Box>> fused, const metric::BoxLists& gt,
                   std::span<const ImageSize> scale, std::span<const std::size_t> idx = {});

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

// ---- detection runs by id: the fused result recorded as a run (src/tune/fusion_run.cpp) ----

/// `compe wbf fuse|tune RUN RUN ...`: finished detection runs of this workspace (ids or unique
/// prefixes, each once, at least 2) fused image by image, their OOF boxes (oof_boxes.csv) scored
/// with the competition metric.
struct FusionRunRequest {
  std::vector<std::string> runs;
  std::string method = "wbf";
  /// Fixed settings (fuse); unset = tuned with the nested check over folds (tune_fusion_folds).
  std::optional<Params> params;
  std::int64_t trials = 50;
  std::uint64_t seed = 0;
  std::size_t threads = 0;
  std::string name;          ///< run name; "" = "wbf-tuned" or "wbf-fused" (the method's name)
  std::string command_line;  ///< recorded for reproduction
  Progress* progress = nullptr;
};

/// What a recorded fusion produced.
struct FusionRecorded {
  std::string run_id;
  double cv = 0;                      ///< tuned: the nested score; fixed: the metric on the fused OOF
  Params params;                      ///< the final settings (test boxes were fused with these)
  std::vector<std::string> members;   ///< run ids, as fused
  std::vector<double> member_scores;  ///< each member's OOF alone
  std::optional<FoldTunedFusion> tuned;
};

/// Loads the members (each finished, with oof_boxes.csv, on this workspace's folds and data: a
/// run that differs is refused, Error(kInvalidArgument) naming the runs and what differs: folds
/// hash, data hash, a run that is not a detection run), fuses (or tunes, then fuses) their OOF
/// boxes, fuses their test_boxes.csv with the final settings, and records a run of kind `blend`
/// through the run writer: config.json's `fusion` (method, settings, tuned, trials, seed, the
/// outer folds' settings, inputs with run id, name, weight and OOF score), fold scores,
/// oof_boxes.csv, test_boxes.csv, submission.csv; CV = the nested score when tuned.
FusionRecorded record_fusion(const compe::Workspace& ws, Store& store, const FusionRunRequest& request);

/// Whether a run's record is a fusion of detection runs (config.json has `fusion`).
bool is_fusion_run(const Run& run);

/// Fuses again from a fusion run's record: the same members, method, settings (or the same tuning
/// with its trials and seed), recorded as a new run named `name` ("" = "<name>-rerun").
FusionRecorded rerun_fusion(const compe::Workspace& ws, Store& store, const Run& run, const std::string& name,
                            const std::string& command_line);

}  // namespace compe::detect
