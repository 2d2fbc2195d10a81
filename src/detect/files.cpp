// Whole-file detection operations: reading any layout, fusing files, evaluating and tuning
// against ground truth (what `compe wbf fuse|eval|tune` and the Python module call).
#include <algorithm>
#include <fstream>
#include <numeric>
#include <string>
#include <vector>

#include "compe/detect.hpp"
#include "compe/error.hpp"
#include "compe/registry.hpp"
#include "compe/util.hpp"

namespace compe::detect {
namespace {

bool is_json(const std::filesystem::path& path) {
  return iequals(path.extension().string(), ".json");
}

/// Whether a CSV's header names a PredictionString column.
bool has_prediction_string(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::string header;
  return in && std::getline(in, header) && header.find("PredictionString") != std::string::npos;
}

/// Ground truth read for evaluation, with --sizes applied when given.
LoadedGroundTruth load_truth(const std::filesystem::path& path, const ReadOptions& read,
                             const std::filesystem::path& sizes) {
  LoadedGroundTruth t = read_ground_truth_any(path, read);
  if (!sizes.empty()) t.sizes = read_image_sizes_csv(sizes);
  return t;
}

/// Bounds per image for check_boxes: [0, 1] for normalised boxes, the image size for pixels when
/// sizes are known, none otherwise.
std::vector<ImageSize> bounds_for(const LoadedGroundTruth& t, bool normalised) {
  std::vector<ImageSize> out;
  if (normalised) return std::vector<ImageSize>(t.gt.image_ids.size(), {1, 1});
  if (t.sizes.empty()) return out;
  for (const auto& id : t.gt.image_ids) {
    auto it = t.sizes.find(id);
    if (it == t.sizes.end()) {
      ErrorContext at;
      at.image_id = id;
      fail_at(at, ErrorCode::kInvalidArgument,
              "image_id {} has no size; the sizes must list every image", quote(id));
    }
    out.push_back(it->second);
  }
  return out;
}

}  // namespace

LoadedDetections read_detections_any(const std::filesystem::path& path, const ReadOptions& options) {
  LoadedDetections d;
  if (is_json(path)) {
    d.file = read_coco_results(path);
    d.layout = FileLayout::kCocoJson;
    return d;
  }
  d.normalised = options.normalised;
  if (has_prediction_string(path)) {
    d.file = read_prediction_string_csv(path, options.with_label);
    d.layout = FileLayout::kPredictionString;
    return d;
  }
  d.file = read_detections_csv(path, options.format);
  return d;
}

LoadedGroundTruth read_ground_truth_any(const std::filesystem::path& path, const ReadOptions& options) {
  LoadedGroundTruth t;
  if (is_json(path)) {
    CocoDataset d = read_coco_annotations(path);
    t.gt = std::move(d.gt);
    t.sizes = std::move(d.sizes);
    t.layout = FileLayout::kCocoJson;
    return t;
  }
  t.gt = read_ground_truth_csv(path, options.format);
  t.normalised = options.normalised;
  return t;
}

FusedFiles fuse_files(const FuseFilesRequest& request) {
  const Params& p = request.params;
  if (!p.weights.empty() && p.weights.size() != request.files.size()) {
    fail(ErrorCode::kInvalidArgument,
         "--weights has {} values for {} model files; expected one each", p.weights.size(),
         request.files.size());
  }
  auto fuser = make(request.method, p);
  std::vector<DetectionsFile> files;
  for (const auto& f : request.files) files.push_back(read_detections_csv(f, request.format));
  FusedFiles out;
  out.method = &fuser->info();
  const auto images = align_models(files, out.image_ids);
  out.boxes = fuse_batch(*fuser, images, &out.report, request.threads, out.image_ids);
  return out;
}

void write_boxes_any(const std::filesystem::path& path, std::span<const std::string> image_ids,
                     std::span<const std::vector<Box>> boxes, BoxFormat format,
                     bool prediction_string, bool with_label) {
  if (is_json(path)) {
    write_file_atomic(path, coco_results_string(image_ids, boxes));
  } else if (prediction_string) {
    write_file_atomic(path, prediction_string_csv(image_ids, boxes, with_label));
  } else {
    write_detections_csv(path, image_ids, boxes, format);
  }
}

EvaluatedFiles evaluate_files(const EvaluateFilesRequest& r) {
  EvaluatedFiles out;
  out.metric = detection_metric_spec(r.metric);
  auto m = metric::make(out.metric);
  LoadedGroundTruth t = load_truth(r.ground_truth, r.read, r.sizes);
  const LoadedDetections d = read_detections_any(r.predictions, r.read);
  metric::BoxLists pred = predictions_for(t.gt, d.file);
  const std::string gt_name = r.ground_truth.string(), pred_name = r.predictions.string();
  out.gt_check = check_boxes(t.gt.boxes, t.gt.image_ids, bounds_for(t, t.normalised), r.fix_boxes, gt_name);
  out.pred_check = check_boxes(pred, t.gt.image_ids, bounds_for(t, d.normalised), r.fix_boxes, pred_name);
  // One unit for both sides: pixels when sizes are known, else as read (which must agree).
  out.units = t.normalised ? "normalised" : "pixels";
  if (!t.sizes.empty()) {
    if (t.normalised) to_pixels(t.gt.image_ids, t.gt.boxes, t.sizes);
    if (d.normalised) to_pixels(t.gt.image_ids, pred, t.sizes);
    out.units = "pixels";
  } else if (t.normalised != d.normalised) {
    fail(ErrorCode::kInvalidArgument,
         "{} is in {} and {} in {} coordinates; give --sizes to convert", pred_name,
         d.normalised ? "normalised" : "pixel", gt_name, t.normalised ? "normalised" : "pixel");
  }
  metric::Inputs in;
  in.true_boxes = &t.gt.boxes;
  in.pred_boxes = &pred;
  out.value = m->score(in);
  out.metric = m->spec();
  out.greater_is_better = m->info().greater_is_better();
  out.coco = coco_evaluate(t.gt.boxes, pred, t.gt.categories);
  for (std::int64_t c : out.coco.categories) {
    auto it = t.gt.category_names.find(c);
    out.category_names.push_back(it == t.gt.category_names.end() ? std::string() : it->second);
  }
  out.images = t.gt.image_ids.size();
  out.gt_boxes = t.gt.boxes.boxes.size();
  out.pred_boxes = pred.boxes.size();
  return out;
}

FusionInputs load_fusion_inputs(std::span<const std::filesystem::path> files,
                                const std::filesystem::path& ground_truth, const ReadOptions& read,
                                const std::filesystem::path& sizes_file, bool fix_boxes) {
  LoadedGroundTruth t = load_truth(ground_truth, read, sizes_file);
  const std::string gt_name = ground_truth.string();
  check_boxes(t.gt.boxes, t.gt.image_ids, bounds_for(t, t.normalised), fix_boxes, gt_name);
  const std::size_t n = t.gt.image_ids.size();
  FusionInputs out;
  out.images.assign(n, ImageDetections(files.size()));
  if (!t.sizes.empty()) out.sizes = bounds_for(t, false);
  for (std::size_t m = 0; m < files.size(); ++m) {
    const std::string name = files[m].string();
    const LoadedDetections d = read_detections_any(files[m], read);
    metric::BoxLists boxes = predictions_for(t.gt, d.file);
    check_boxes(boxes, t.gt.image_ids, bounds_for(t, d.normalised), fix_boxes, name);
    if (!d.normalised) {
      if (out.sizes.empty()) {
        ErrorContext at;
        at.file = name;
        fail_at(at, ErrorCode::kInvalidArgument,
                "{} holds pixel coordinates; fusion needs them normalised: give --sizes (or pass "
                "--normalised if they are in [0, 1])",
                name);
      }
      to_normalised(t.gt.image_ids, boxes, t.sizes);
    }
    for (std::size_t i = 0; i < n; ++i) {
      for (const metric::DetBox& b : boxes.row(i)) {
        out.images[i][m].boxes.push_back({b.x1, b.y1, b.x2, b.y2});
        out.images[i][m].scores.push_back(b.score);
        out.images[i][m].labels.push_back(b.label);
      }
    }
  }
  // Score in pixels when sizes are known (COCO area ranges), else in normalised units.
  if (t.normalised && !out.sizes.empty()) to_pixels(t.gt.image_ids, t.gt.boxes, t.sizes);
  if (!t.normalised && out.sizes.empty()) {
    fail(ErrorCode::kInvalidArgument,
         "{} holds pixel coordinates and the detections are normalised: give --sizes", gt_name);
  }
  out.gt = std::move(t.gt.boxes);
  out.image_ids = std::move(t.gt.image_ids);
  return out;
}

metric::BoxLists to_box_lists(std::span<const std::vector<Box>> boxes,
                              std::span<const ImageSize> scale) {
  COMPE_ASSERT(scale.empty() || scale.size() == boxes.size());
  metric::BoxLists out;
  out.boxes.reserve(std::accumulate(boxes.begin(), boxes.end(), std::size_t{0},
                                    [](std::size_t n, const auto& v) { return n + v.size(); }));
  for (std::size_t i = 0; i < boxes.size(); ++i) {
    const double sx = scale.empty() ? 1.0 : scale[i].width;
    const double sy = scale.empty() ? 1.0 : scale[i].height;
    for (const Box& b : boxes[i]) {
      metric::DetBox d;
      d.x1 = b.x1 * sx;
      d.y1 = b.y1 * sy;
      d.x2 = b.x2 * sx;
      d.y2 = b.y2 * sy;
      d.score = b.score;
      d.label = b.label;
      out.boxes.push_back(d);
    }
    out.offsets.push_back(out.boxes.size());
  }
  return out;
}

}  // namespace compe::detect
