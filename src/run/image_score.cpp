// Image runs: the one place detection and segmentation predictions are scored, and the folds'
// test predictions combined.
#include "compe/image_run.hpp"

#include <algorithm>

#include "compe/detect.hpp"
#include "compe/error.hpp"
#include "compe/segment.hpp"
#include "compe/util.hpp"

namespace compe::run {

namespace {

// Until the metric registry has segmentation rows (issue 17's scoring side), these are scored
// here with compe/segment.hpp's functions.
struct SegmentMetric {
  const char* name;
  bool dice;
  segment::Reduction reduction;
};
constexpr SegmentMetric kSegmentMetrics[] = {
    {"dice", true, segment::Reduction::kMeanPerRow},
    {"dice_global", true, segment::Reduction::kGlobal},
    {"iou", false, segment::Reduction::kMeanPerRow},
    {"iou_global", false, segment::Reduction::kGlobal},
};

const SegmentMetric* segment_metric(std::string_view name) {
  for (const auto& m : kSegmentMetrics)
    if (name == m.name) return &m;
  return nullptr;
}

}  // namespace

MetricDescription describe_metric(metric::Task task, const std::string& spec) {
  if (task == metric::kSegmentation && segment_metric(spec)) return {spec, true};
  auto m = metric::make(spec);
  if (!m->info().accepts(task))
    fail(ErrorCode::kInvalidArgument, "metric {} does not apply to a {} task", quote(spec), metric::task_name(task));
  return {m->spec(), m->info().greater_is_better()};
}

Reference image_reference(const Workspace& ws, const Table& train, const Table& test, const FoldAssignment& folds) {
  const CompetitionConfig& cfg = ws.config();
  const bool det = cfg.task == metric::kDetection;
  if (cfg.classes.empty())
    fail(ErrorCode::kInvalidArgument, "{}: a {} run needs 'competition.classes' (the class names)",
         ws.config_path().string(), metric::task_name(cfg.task));
  if ((det ? cfg.boxes : cfg.masks).empty())
    fail(ErrorCode::kInvalidArgument, "{}: a {} run needs 'data.{}' (the train images' {})", ws.config_path().string(),
         metric::task_name(cfg.task), det ? "boxes" : "masks", det ? "boxes" : "masks");
  auto img = std::make_shared<ImageReference>();
  img->train = images::image_set(train, cfg.id_column);
  img->test = images::image_set(test, cfg.id_column);
  img->truth = images::read_workspace_truth(ws, img->train);
  for (std::size_t r = 0; r < folds.folds.size(); ++r)
    if (folds.folds[r] < 0)
      fail(ErrorCode::kInvalidArgument,
           "{}: image {} has no fold ({}); a detection or segmentation run needs every train image in a fold",
           ws.folds_path().string(), quote(img->train.ids[r]), folds.folds[r]);
  Reference ref;
  ref.task = cfg.task;
  ref.metric = describe_metric(cfg.task, cfg.metric).spec;
  ref.id_column = cfg.id_column;
  ref.train_ids = train.column(cfg.id_column);
  ref.folds = folds.folds;
  ref.folds_hash = folds.hash;
  ref.test_ids = test.column(cfg.id_column);
  ref.classes = cfg.classes;
  ref.images = std::move(img);
  return ref;
}

double score_images(const std::string& spec, const ImageReference& ref, const images::Predictions& pred) {
  const images::Truth& truth = ref.truth;
  if (truth.task == metric::kDetection) {
    metric::BoxLists gt;
    for (std::size_t i : pred.images) gt.push_row(truth.boxes.row(i));
    metric::Inputs in;
    in.true_boxes = &gt;
    in.pred_boxes = &pred.boxes;
    return metric::score(spec, in);
  }
  const std::size_t k = ref.classes().size();
  std::vector<segment::Mask> gt;
  gt.reserve(pred.images.size() * k);
  for (std::size_t i : pred.images)
    for (std::size_t c = 0; c < k; ++c) gt.push_back(truth.masks[i * k + c]);
  if (const SegmentMetric* m = segment_metric(spec))
    return m->dice ? segment::mean_dice(gt, pred.masks, m->reduction) : segment::mean_iou(gt, pred.masks, m->reduction);
  fail(ErrorCode::kInvalidArgument, "metric {} does not score segmentation masks; expected dice, dice_global, iou or iou_global",
       quote(spec));
}

namespace {

images::Predictions fuse_boxes(const ImageReference& ref, std::span<const images::Predictions> folds) {
  const images::ImageSet& test = ref.test;
  std::vector<detect::ImageDetections> per_image(test.size(), detect::ImageDetections(folds.size()));
  for (std::size_t m = 0; m < folds.size(); ++m) {
    COMPE_ASSERT(folds[m].boxes.rows() == test.size());
    for (std::size_t i = 0; i < test.size(); ++i) {
      const double w = static_cast<double>(test.sizes[i].width), h = static_cast<double>(test.sizes[i].height);
      detect::ModelDetections& md = per_image[i][m];
      for (const metric::DetBox& b : folds[m].boxes.row(i)) {
        md.boxes.push_back({b.x1 / w, b.y1 / h, b.x2 / w, b.y2 / h});
        md.scores.push_back(b.score);
        md.labels.push_back(b.label);
      }
    }
  }
  auto wbf = detect::make("wbf");
  const auto fused = detect::fuse_batch(*wbf, per_image, nullptr, 0, test.ids);
  images::Predictions out;
  for (std::size_t i = 0; i < test.size(); ++i) {
    const double w = static_cast<double>(test.sizes[i].width), h = static_cast<double>(test.sizes[i].height);
    std::vector<metric::DetBox> row;
    for (const detect::Box& b : fused[i]) {
      metric::DetBox d;
      d.x1 = std::clamp(b.x1 * w, 0.0, w);
      d.y1 = std::clamp(b.y1 * h, 0.0, h);
      d.x2 = std::clamp(b.x2 * w, 0.0, w);
      d.y2 = std::clamp(b.y2 * h, 0.0, h);
      d.score = std::clamp(b.score, 0.0, 1.0);
      d.label = b.label;
      row.push_back(d);
    }
    out.boxes.push_row(row);
  }
  return out;
}

images::Predictions vote_masks(const ImageReference& ref, std::span<const images::Predictions> folds) {
  const images::ImageSet& test = ref.test;
  const std::size_t k = ref.classes().size();
  images::Predictions out;
  out.masks.resize(test.size() * k);
  std::vector<std::uint16_t> count;
  for (std::size_t i = 0; i < test.size(); ++i) {
    const images::Size s = test.sizes[i];
    for (std::size_t c = 0; c < k; ++c) {
      count.assign(static_cast<std::size_t>(s.pixels()), 0);
      for (const auto& f : folds)
        for (const auto& [start, len] : f.masks[i * k + c].runs)
          for (std::int64_t p = start; p < start + len; ++p) ++count[static_cast<std::size_t>(p)];
      // Column-major pixel numbers, as the runs count them.
      std::vector<std::uint8_t> on(count.size());
      for (std::size_t p = 0; p < count.size(); ++p) on[p] = static_cast<std::size_t>(2 * count[p]) > folds.size();
      segment::Mask m;
      for (std::int64_t p = 0; p < s.pixels();) {
        if (!on[static_cast<std::size_t>(p)]) {
          ++p;
          continue;
        }
        std::int64_t q = p;
        while (q < s.pixels() && on[static_cast<std::size_t>(q)]) ++q;
        m.runs.emplace_back(p, q - p);
        p = q;
      }
      out.masks[i * k + c] = std::move(m);
    }
  }
  return out;
}

}  // namespace

images::Predictions combine_test_folds(const ImageReference& ref, std::span<const images::Predictions> folds) {
  COMPE_ASSERT(!folds.empty());
  images::Predictions out =
      ref.truth.task == metric::kDetection ? fuse_boxes(ref, folds) : vote_masks(ref, folds);
  out.images.resize(ref.test.size());
  for (std::size_t i = 0; i < out.images.size(); ++i) out.images[i] = i;
  return out;
}

}  // namespace compe::run
