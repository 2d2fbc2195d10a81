#pragma once
/// Object-detection box fusion: weighted boxes fusion (WBF), NMS, soft-NMS and non-maximum
/// weighted (NMW), over the predictions of several models for the same image.
///
/// Results follow ensemble_boxes 1.0.9 (the reference): same boxes, same scores within 1e-6, same
/// order, ties included (the reference sorts with NumPy's introsort argsort and reverses it; so do
/// we). Where the reference has known confidence defects the reference's numbers are the default
/// and the corrected behaviour is an explicit option (Params::corrected_conf, decayed_scores).
///
/// Every method is a row of one explicit table (src/detect/builtin_fusion.cpp).

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "compe/detection_metrics.hpp"
#include "compe/metric.hpp"
#include "compe/table.hpp"

namespace compe::detect {

/// Box corners, normalised to [0, 1]: x1 <= x2, y1 <= y2 for a valid box.
struct Coords {
  double x1 = 0, y1 = 0, x2 = 0, y2 = 0;
};

/// A detection: corners, score, label and the model it came from. Fused boxes (wbf, nmw) have
/// model = -1; nms and soft_nms keep the index of the model whose box survived.
struct Box {
  double x1 = 0, y1 = 0, x2 = 0, y2 = 0;
  double score = 0;
  std::int64_t label = 0;
  std::int32_t model = -1;
  Coords coords() const { return {x1, y1, x2, y2}; }
};

/// Intersection over union of two valid boxes: inter / (area(a) + area(b) - inter), the
/// reference's formula and evaluation order. 0 when the intersection is empty (touching edges
/// included), so an empty box has IoU 0 with anything.
double iou(const Coords& a, const Coords& b);

/// One model's detections for one image, as the reference takes them: three parallel lists.
struct ModelDetections {
  std::vector<Coords> boxes;
  std::vector<double> scores;
  std::vector<std::int64_t> labels;
};

/// One image: one entry per model; a model's index is its position.
using ImageDetections = std::vector<ModelDetections>;

/// WBF confidence of a cluster (the reference's conf_type).
enum class ConfType {
  kAvg,             ///< "avg": mean weighted score, rescaled by min(models, boxes) / sum(weights)
  kMax,             ///< "max": highest weighted score / max(weights)
  kBoxAndModelAvg,  ///< "box_and_model_avg": weight-averaged score x weight of models present /
                    ///< sum(weights)
  kAbsentModelAwareAvg,  ///< "absent_model_aware_avg": sum(s*w) / (cluster weights + absent models'
                         ///< weights)
};
/// "avg", "max", "box_and_model_avg", "absent_model_aware_avg".
std::string_view conf_type_name(ConfType t);
/// Parses a conf_type name; throws Error(kInvalidArgument) listing the valid names.
ConfType parse_conf_type(std::string_view name);

enum class SoftNmsKind { kLinear = 1, kGaussian = 2 };
/// "linear", "gaussian".
std::string_view soft_nms_kind_name(SoftNmsKind k);
/// Parses "linear"/"gaussian" (or the reference's method numbers "1"/"2"); throws kInvalidArgument.
SoftNmsKind parse_soft_nms_kind(std::string_view name);

/// What to do with a box whose corners are inverted, outside [0, 1] or that has zero area.
enum class BadBoxPolicy {
  /// The reference's behaviour: swap inverted corners, clip coordinates to [0, 1], drop boxes of
  /// zero area; every such change is counted in the Report.
  kClip,
  /// Throw Error(kInvalidArgument) naming the image, model, box and value.
  kError,
};

/// Parameters of every method; each method reads the ones its Info::uses names, and make()
/// rejects a non-default value of a parameter the method does not use.
struct Params {
  /// One weight per model, finite and >= 0 with a positive sum; empty = the reference's
  /// weights=None (all 1 for wbf/nmw; unweighted scores for nms/soft_nms, which otherwise scale
  /// each score by weight / sum(weights) like the reference).
  std::vector<double> weights;
  /// Boxes match when IoU > iou_thr (strictly). Empty = the method's default
  /// (Info::default_iou_thr).
  std::optional<double> iou_thr;
  /// wbf, nmw: boxes with score < skip_box_thr are ignored before anything else.
  double skip_box_thr = 0.0;
  ConfType conf_type = ConfType::kAvg;  ///< wbf
  /// wbf avg: the reference's allows_overflow (score scaled by boxes / sum(weights), may exceed 1).
  bool allows_overflow = false;
  /// wbf avg: corrected confidence. The reference's avg score, mean(s*w) * min(models, boxes) /
  /// sum(weights), exceeds 1 when a heavy model contributes several boxes to one cluster
  /// (ensemble_boxes issues #40, #43). Corrected: (sum(s*w) / sum(w in cluster)) *
  /// min(sum(w in cluster), sum(weights)) / sum(weights), always <= max score, and equal to the
  /// reference's whenever all weights are 1.
  bool corrected_conf = false;
  SoftNmsKind soft_kind = SoftNmsKind::kGaussian;  ///< soft_nms
  double sigma = 0.5;                              ///< soft_nms gaussian: exp(-iou^2 / sigma)
  double thresh = 0.001;  ///< soft_nms: boxes whose decayed score is <= thresh are dropped
  /// soft_nms: report each kept box's decayed score. The reference reports the undecayed input
  /// score (its decayed scores only decide which boxes are kept).
  bool decayed_scores = false;
  BadBoxPolicy bad_boxes = BadBoxPolicy::kClip;
};

/// What fusion changed or dropped in the input, summed over images. Nothing is changed silently.
struct Report {
  std::size_t images = 0;
  std::size_t boxes_in = 0;           ///< boxes given, all models
  std::size_t boxes_out = 0;          ///< boxes returned
  std::size_t below_skip_thr = 0;     ///< wbf, nmw: score < skip_box_thr, ignored
  std::size_t swapped_boxes = 0;      ///< boxes with x2 < x1 or y2 < y1, corners swapped
  std::size_t clipped_coords = 0;     ///< coordinates outside [0, 1] set to 0 or 1
  std::size_t zero_area_dropped = 0;  ///< boxes of zero area (after clipping), dropped
  /// wbf, nmw: clusters whose total confidence is 0 (all scores or weights 0). The reference
  /// returns NaN corners for them; compe returns the unweighted mean of the members' corners.
  std::size_t zero_conf_clusters = 0;
  Report& operator+=(const Report& o);
};

/// Parameters a method reads (bit set, Info::uses).
enum Uses : unsigned {
  kUsesWeights = 1u << 0,
  kUsesIouThr = 1u << 1,
  kUsesSkipThr = 1u << 2,
  kUsesConfType = 1u << 3,
  kUsesSoftNms = 1u << 4,  ///< soft_kind, sigma, thresh, decayed_scores
};

/// Reusable scratch buffers for one thread. Passing the same Workspace to successive fuse() calls
/// avoids allocation once it has grown to the largest image. Not shareable between threads.
class Workspace {
 public:
  Workspace();
  ~Workspace();
  Workspace(Workspace&&) noexcept;
  Workspace& operator=(Workspace&&) noexcept;
  struct Impl;
  Impl& impl() { return *impl_; }

 private:
  std::unique_ptr<Impl> impl_;
};

struct Info;

/// A configured fusion method. Immutable and thread-safe: fuse() may run concurrently with
/// different Workspaces.
class Fuser {
 public:
  virtual ~Fuser() = default;

  /// Fuses one image. `out` is cleared and receives the boxes in the reference's order (wbf, nmw:
  /// descending score over all labels; nms, soft_nms: labels ascending, then the order in which
  /// each label's boxes were kept); `report` is added to. Throws Error(kInvalidArgument) when the
  /// lists of a model differ in length, the number of weights differs from the number of models, a
  /// score or coordinate is NaN or infinite, or (BadBoxPolicy::kError) a box is inverted, outside
  /// [0, 1] or of zero area.
  virtual void fuse(std::span<const ModelDetections> models, std::vector<Box>& out, Report& report,
                    Workspace& ws) const = 0;

  /// Convenience for one image (allocates its own Workspace).
  std::vector<Box> fuse(std::span<const ModelDetections> models, Report* report = nullptr) const;

  const Info& info() const { return *info_; }
  const Params& params() const { return params_; }
  /// The IoU threshold in force (params().iou_thr or the method's default).
  double iou_thr() const;

 protected:
  Fuser(const Info& info, Params params) : info_(&info), params_(std::move(params)) {}

 private:
  const Info* info_;
  Params params_;
};

struct Info {
  std::string name;
  std::vector<std::string> aliases;
  std::string summary;
  unsigned uses = 0;  ///< bit set of Uses
  double default_iou_thr = 0.55;
  /// True when given weights rescale scores by weight / sum(weights) (nms, soft_nms), so unit
  /// weights are not the same as no weights.
  bool weights_scale_by_sum = false;
  /// True when boxes are averaged into new ones (wbf, nmw) rather than selected (nms, soft_nms).
  bool fuses_coordinates = false;
  std::function<std::unique_ptr<Fuser>(const Info&, Params)> factory;
};

/// Every built-in method, in a stable order: wbf, nms, soft_nms, nmw.
std::span<const Info> builtin();
/// The row for a name or alias; throws Error(kNotFound) listing known names and the closest match.
const Info& find(std::string_view name);
/// Builds a method after checking its parameters: weights finite, >= 0, positive sum; iou_thr in
/// [0, 1]; skip_box_thr, sigma > 0, thresh finite; and no non-default value for a parameter the
/// method does not use. Throws kNotFound / kInvalidArgument.
std::unique_ptr<Fuser> make(std::string_view name, Params params = {});

/// Fuses many images in parallel (compe::parallel_for over images, one Workspace per thread).
/// Result i belongs to images[i]. `threads` 0 = all cores. An error names the image: "image_id
/// <id>: ..." when `image_ids` (one per image) is given, else "image <index>: ..."; its
/// context() carries the index (ErrorContext::image) and the id (image_id).
std::vector<std::vector<Box>> fuse_batch(const Fuser& fuser,
                                         std::span<const ImageDetections> images,
                                         Report* report = nullptr, std::size_t threads = 0,
                                         std::span<const std::string> image_ids = {});

/// NumPy 1.24's argsort order (introsort: median-of-3 quicksort, insertion sort below 17
/// elements, heapsort past the depth limit) of `values`, written to `order` (resized to n).
/// Ties come out as NumPy orders them, which is what the reference's `argsort()[::-1]` relies on.
void numpy_argsort(std::span<const double> values, std::vector<std::uint32_t>& order);

// ---------------------------------------------------------------- CSV detections

/// Corner layout of a detections CSV: `image_id,x1,y1,x2,y2,score,label` (kXyxy) or
/// `image_id,x,y,w,h,score,label` (kXywh: x2 = x + w, y2 = y + h).
enum class BoxFormat { kXyxy, kXywh };
/// "xyxy", "xywh".
std::string_view box_format_name(BoxFormat f);
/// Parses "xyxy"/"xywh"; throws kInvalidArgument.
BoxFormat parse_box_format(std::string_view name);

/// One model's detections over many images, read from one CSV file.
struct DetectionsFile {
  std::string source;                   ///< the path as given, for messages
  std::vector<std::string> image_ids;   ///< in first-seen order
  std::vector<ModelDetections> images;  ///< images[i] belongs to image_ids[i]
};

/// Reads a detections CSV (other columns are ignored; image_id is read as text). Throws
/// kNotFound for a missing file or column, kParse (file:line) for an empty cell or a value that is
/// not a number (label: not an integer). Box checks happen at fusion time.
DetectionsFile read_detections_csv(const std::filesystem::path& path, BoxFormat format);

/// Lines up several models' files by image id: the union of ids in first-seen order (file by
/// file); a model with no rows for an image contributes empty lists. `image_ids` receives the ids.
std::vector<ImageDetections> align_models(std::span<const DetectionsFile> files,
                                          std::vector<std::string>& image_ids);

/// CSV text of fused boxes: header, then one row per box, image by image in the given order;
/// numbers in the shortest form that round-trips. boxes.size() must equal image_ids.size().
std::string detections_csv_string(std::span<const std::string> image_ids,
                                  std::span<const std::vector<Box>> boxes, BoxFormat format);
/// Writes detections_csv_string(...) to `path` atomically.
void write_detections_csv(const std::filesystem::path& path, std::span<const std::string> image_ids,
                          std::span<const std::vector<Box>> boxes, BoxFormat format);

// ---------------------------------------------------------------- formats and ground truth
//
// Layouts (docs/FORMATS.md):
//  - detections CSV: image_id,x1,y1,x2,y2,score,label (or xywh: image_id,x,y,w,h,score,label)
//  - ground-truth CSV: image_id,x1,y1,x2,y2,label[,iscrowd] (or xywh); a row whose box cells are
//    all empty names an image without objects
//  - COCO annotations JSON (images, categories, annotations with bbox [x,y,w,h], iscrowd, area)
//    and COCO results JSON (a list of {image_id, category_id, bbox [x,y,w,h], score})
//  - PredictionString CSV: image_id,PredictionString with "score x y w h ..." (Global Wheat; x y
//    the top-left corner, label 0), or with a label first, "label score x y w h ..."
//  - image sizes CSV: image_id,width,height

/// Ground truth of many images: image_ids[i]'s objects are boxes.row(i) (score unused).
struct GroundTruth {
  std::string source;
  std::vector<std::string> image_ids;  ///< every image evaluated, those without objects included
  metric::BoxLists boxes;
  /// Categories evaluated by COCO mAP (sorted): a COCO file's categories, else the labels present.
  std::vector<std::int64_t> categories;
  std::unordered_map<std::int64_t, std::string> category_names;  ///< COCO files only
  /// The row of an image id; throws Error(kInvalidArgument) naming `what` when unknown.
  std::size_t index_of(const std::string& id, std::string_view what) const;
  std::unordered_map<std::string, std::size_t> index;  ///< image id -> row
};

/// Reads a ground-truth CSV. Throws kNotFound (missing column), kParse (file:line: bad number,
/// label not an integer, iscrowd not 0/1, a partly empty box row).
GroundTruth read_ground_truth_csv(const std::filesystem::path& path, BoxFormat format);

/// Image sizes in pixels, by image id.
struct ImageSize {
  double width = 0, height = 0;
};
using ImageSizes = std::unordered_map<std::string, ImageSize>;
/// Reads `image_id,width,height`; sizes must be finite and > 0, ids unique (kParse: file:line).
ImageSizes read_image_sizes_csv(const std::filesystem::path& path);

/// Pixel -> normalised coordinates: x / width, y / height, one correctly rounded division per
/// coordinate (so an exact quotient stays exact). Normalised -> pixels: x * width, y * height.
/// A round trip returns the input within one ulp. Throws kInvalidArgument when an image has no
/// size (naming the id).
void to_normalised(std::span<const std::string> image_ids, metric::BoxLists& boxes,
                   const ImageSizes& sizes);
void to_pixels(std::span<const std::string> image_ids, metric::BoxLists& boxes,
               const ImageSizes& sizes);

/// A COCO annotations file: ground truth (image ids are the images' "id" as text, boxes in pixel
/// corners, area from the annotation, else the box's) and the images' sizes.
struct CocoDataset {
  GroundTruth gt;
  ImageSizes sizes;
};
/// Reads a COCO annotations JSON. Throws kParse naming the file and the JSON path of a bad entry
/// (e.g. annotations[3].bbox), kInvalidArgument for an annotation of an unknown image or category.
CocoDataset read_coco_annotations(const std::filesystem::path& path);
/// Reads a COCO results JSON (a list of {image_id, category_id, bbox, score}) into corners.
DetectionsFile read_coco_results(const std::filesystem::path& path);
/// COCO results JSON text: bbox [x, y, w, h]; image_id written as a number when the id is an
/// integer, else as a string; category_id = label.
std::string coco_results_string(std::span<const std::string> image_ids,
                                std::span<const std::vector<Box>> boxes);

/// Kaggle's PredictionString: groups of "score x y w h" (with_label: "label score x y w h").
/// Parses one cell into `out` (appended); throws kParse (with `where`) when the token count is
/// not a multiple of the group size or a token is not a number.
void parse_prediction_string(std::string_view text, bool with_label, const std::string& where,
                             std::vector<Box>& out);
std::string prediction_string(std::span<const Box> boxes, bool with_label);
/// Reads `image_id,PredictionString`; an empty cell is an image without predictions.
DetectionsFile read_prediction_string_csv(const std::filesystem::path& path, bool with_label);
std::string prediction_string_csv(std::span<const std::string> image_ids,
                                  std::span<const std::vector<Box>> boxes, bool with_label);

// ---------------------------------------------------------------- reading any layout

/// How to read box files whose layout is recognised from the name and the header: a name ending
/// in .json (any case) is COCO (annotations for ground truth, results for detections); a CSV
/// whose header names a PredictionString column is Kaggle's PredictionString layout; any other
/// CSV is the detections / ground-truth CSV layout.
struct ReadOptions {
  BoxFormat format = BoxFormat::kXyxy;  ///< box columns of the CSV layouts
  /// CSV and PredictionString coordinates are in [0, 1] (COCO JSON is always in pixels).
  bool normalised = false;
  bool with_label = false;  ///< PredictionString groups are "label score x y w h"
};

enum class FileLayout { kCsv, kPredictionString, kCocoJson };

struct LoadedDetections {
  DetectionsFile file;
  FileLayout layout = FileLayout::kCsv;
  bool normalised = false;  ///< the coordinates as read are in [0, 1]
};
/// Reads detections in any layout above. Errors as the layout's reader throws them.
LoadedDetections read_detections_any(const std::filesystem::path& path, const ReadOptions& options);

struct LoadedGroundTruth {
  GroundTruth gt;
  ImageSizes sizes;  ///< a COCO file's image sizes; empty for CSV
  FileLayout layout = FileLayout::kCsv;
  bool normalised = false;  ///< the coordinates as read are in [0, 1]
};
/// Reads ground truth: COCO annotations JSON or the ground-truth CSV layout (a PredictionString
/// ground truth is read by `compe score`, not here).
LoadedGroundTruth read_ground_truth_any(const std::filesystem::path& path, const ReadOptions& options);

/// Predictions of a DetectionsFile as one BoxLists row per ground-truth image (images without
/// predictions get empty rows). Throws kInvalidArgument for an image id the ground truth lacks.
metric::BoxLists predictions_for(const GroundTruth& gt, const DetectionsFile& preds);

/// What check_boxes found or changed.
struct BoxCheck {
  std::size_t boxes = 0;
  std::size_t swapped = 0;     ///< inverted corners, swapped
  std::size_t clipped = 0;     ///< coordinates outside the image, set to its edge
  std::size_t degenerate = 0;  ///< zero width or height (after the above), dropped
};
/// Checks every box of `boxes` (rows named by image_ids; `what` names the file): scores finite
/// (always an error), corners finite, x1 <= x2 and y1 <= y2, inside [0, width] x [0, height] when
/// `bounds` is given (one per row), width and height > 0. With fix = false the first problem
/// throws kInvalidArgument naming the file, image id, box and value; with fix = true corners are
/// swapped, clipped and degenerate boxes dropped, and every change is counted.
BoxCheck check_boxes(metric::BoxLists& boxes, std::span<const std::string> image_ids,
                     std::span<const ImageSize> bounds, bool fix, std::string_view what);

// ---------------------------------------------------------------- metrics
// The detection metrics (COCO mAP, Kaggle per-image metric, F-beta) are rows of the metric
// registry, declared in compe/detection_metrics.hpp; the names below keep detect:: callers short.
using metric::CocoParams;
using metric::CocoResult;
using metric::coco_evaluate;
using metric::detection_metric_spec;
using metric::iou_fbeta;
using metric::kaggle_map;

/// Fused boxes (normalised) as BoxLists, scaled per image by `scale` when it is not empty.
metric::BoxLists to_box_lists(std::span<const std::vector<Box>> boxes,
                              std::span<const ImageSize> scale);

// ---------------------------------------------------------------- whole-file operations
//
// What `compe wbf fuse|eval|tune` do, as one call each (src/detect/files.cpp), so the CLI, the
// Python module and the dashboard share them.

/// Fusing several models' detection CSV files (one per model, same layout).
struct FuseFilesRequest {
  std::vector<std::filesystem::path> files;
  std::string method = "wbf";
  Params params;  ///< weights, when given, one per file
  BoxFormat format = BoxFormat::kXyxy;
  std::size_t threads = 0;
};
struct FusedFiles {
  const Info* method = nullptr;
  std::vector<std::string> image_ids;  ///< union of the files' ids, first-seen order
  std::vector<std::vector<Box>> boxes;  ///< fused boxes per image
  Report report;
};
/// Reads the files, lines them up by image id and fuses (fuse_batch with ids, so an error names
/// the image id and carries it in its context). Throws kInvalidArgument when the weights do not
/// number one per file, and whatever reading and fusion throw.
FusedFiles fuse_files(const FuseFilesRequest& request);

/// Writes boxes by the output name: COCO results JSON when it ends in .json (any case), else
/// Kaggle's PredictionString CSV with `prediction_string`, else the detections CSV layout.
void write_boxes_any(const std::filesystem::path& path, std::span<const std::string> image_ids,
                     std::span<const std::vector<Box>> boxes, BoxFormat format,
                     bool prediction_string, bool with_label);

/// Scoring one detections file against ground truth.
struct EvaluateFilesRequest {
  std::filesystem::path predictions, ground_truth;
  std::string metric = "coco_map";  ///< a detection spec (detection_metric_spec's short names too)
  ReadOptions read;
  std::filesystem::path sizes;  ///< optional image sizes CSV
  bool fix_boxes = false;       ///< check_boxes(fix = true) instead of failing
};
struct EvaluatedFiles {
  std::string metric;  ///< the canonical spec
  double value = 0;
  bool greater_is_better = true;
  std::size_t images = 0, gt_boxes = 0, pred_boxes = 0;
  std::string units;  ///< "pixels" or "normalised"
  CocoResult coco;
  /// category_names[k] belongs to coco.categories[k] ("" when the file names none).
  std::vector<std::string> category_names;
  BoxCheck gt_check, pred_check;
};
/// Reads both files (any layout), checks the boxes, brings both sides to one unit (pixels when
/// sizes are known), scores the metric and COCO's statistics. Throws kInvalidArgument when the
/// sides are in different units and no sizes are known, and whatever reading and checks throw.
EvaluatedFiles evaluate_files(const EvaluateFilesRequest& request);

/// What fusion tuning reads (tune/fusion.hpp): per image (ground-truth order) and model, the
/// normalised detections; the ground truth, in pixels when sizes are known; the sizes.
struct FusionInputs {
  std::vector<std::string> image_ids;
  std::vector<ImageDetections> images;
  metric::BoxLists gt;
  std::vector<ImageSize> sizes;  ///< per image; empty when no sizes are known
};
/// Reads the ground truth and every model's detections, checks the boxes and brings them to
/// the units fusion and scoring need. Throws kInvalidArgument when a file holds pixel
/// coordinates and no sizes are known, and whatever reading and checks throw.
FusionInputs load_fusion_inputs(std::span<const std::filesystem::path> files,
                                const std::filesystem::path& ground_truth, const ReadOptions& read,
                                const std::filesystem::path& sizes, bool fix_boxes);

}  // namespace compe::detect
