// Tuning fusion parameters against a detection metric with the tuner's TPE sampler
// (include/compe/tune/fusion.hpp).
#include <algorithm>
#include <numeric>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "compe/detect.hpp"
#include "compe/tune/fusion.hpp"
#include "compe/error.hpp"
#include "compe/store.hpp"
#include "compe/tune.hpp"
#include "compe/util.hpp"

namespace compe::detect {


namespace {

const std::vector<std::string> kConfTypes = {"avg", "max", "box_and_model_avg",
                                             "absent_model_aware_avg"};

/// The images, truth and scale of a subset of image indices.
struct Subset {
  std::vector<ImageDetections> images;
  metric::BoxLists gt;
  std::vector<ImageSize> scale;
};

Subset take(std::span<const ImageDetections> images, const metric::BoxLists& gt,
            std::span<const ImageSize> scale, std::span<const std::size_t> idx) {
  Subset s;
  for (std::size_t i : idx) {
    s.images.push_back(images[i]);
    s.gt.push_row(gt.row(i));
    if (!scale.empty()) s.scale.push_back(scale[i]);
  }
  return s;
}

class Scorer {
 public:
  Scorer(const TuneFusionOptions& o, const metric::Metric& m) : o_(o), m_(m) {}

  double fused(const Subset& s, const Params& p) const {
    auto fuser = make(o_.method, p);
    const auto out = fuse_batch(*fuser, s.images, nullptr, o_.threads);
    return score(s, out);
  }

  double single(const Subset& s, std::size_t model) const {
    std::vector<std::vector<Box>> out(s.images.size());
    for (std::size_t i = 0; i < s.images.size(); ++i) {
      const ModelDetections& md = s.images[i][model];
      for (std::size_t k = 0; k < md.boxes.size(); ++k) {
        const Coords& c = md.boxes[k];
        out[i].push_back({c.x1, c.y1, c.x2, c.y2, md.scores[k], md.labels[k],
                          static_cast<std::int32_t>(model)});
      }
    }
    return score(s, out);
  }

 private:
  double score(const Subset& s, const std::vector<std::vector<Box>>& out) const {
    const metric::BoxLists pred = to_box_lists(out, s.scale);
    metric::Inputs in;
    in.true_boxes = &s.gt;
    in.pred_boxes = &pred;
    return m_.score(in);
  }

  const TuneFusionOptions& o_;
  const metric::Metric& m_;
};

Params params_of(const Info& info, const nlohmann::json& ext, std::size_t models) {
  Params p;
  if (info.uses & kUsesWeights) {
    for (std::size_t m = 0; m < models; ++m) p.weights.push_back(ext.at(fmt::format("w{}", m)));
  }
  if (info.uses & kUsesIouThr) p.iou_thr = ext.at("iou_thr").get<double>();
  if (info.uses & kUsesSkipThr) p.skip_box_thr = ext.at("skip_box_thr").get<double>();
  if (info.uses & kUsesConfType) p.conf_type = parse_conf_type(ext.at("conf_type").get<std::string>());
  return p;
}

TunedFusion run_study(const Subset& s, const Info& info, std::size_t models, bool maximize,
                      const Scorer& scorer, const TuneFusionOptions& o, std::string_view stage) {
  tune::SearchSpace space;
  if (info.uses & kUsesWeights) {
    for (std::size_t m = 0; m < models; ++m)
      space.add(fmt::format("w{}", m), tune::float_param("weight", 0.01, 1.0));
  }
  if (info.uses & kUsesIouThr) space.add("iou_thr", tune::float_param("iou_thr", 0.3, 0.8));
  if (info.uses & kUsesSkipThr) {
    space.add("skip_box_thr", tune::float_param("skip_box_thr", 0.0, 0.3));
  }
  if (info.uses & kUsesConfType) {
    std::vector<nlohmann::json> choices(kConfTypes.begin(), kConfTypes.end());
    space.add("conf_type", tune::categorical_param("conf_type", choices));
  }
  auto store = open_store(":memory:");
  tune::StudyOptions so;
  so.name = fmt::format("wbf_tune_{}", stage);
  so.direction = maximize ? tune::Direction::kMaximize : tune::Direction::kMinimize;
  so.space = space;
  so.sampler = "tpe";
  so.seed = o.seed;
  tune::Study study(*store, so);
  std::int64_t done = 0;
  std::optional<double> best;
  if (o.progress) o.progress->start(stage, static_cast<std::size_t>(std::max<std::int64_t>(0, o.trials)));
  for (std::int64_t t = 0; t < o.trials; ++t) {
    tune::Trial trial = study.ask();
    std::optional<double> value;
    try {
      value = scorer.fused(s, params_of(info, trial.params(), models));
      study.tell(trial, *value);
    } catch (const Error& e) {
      study.tell_failed(trial, e.what());
    }
    ++done;
    if (value && (!best || (maximize ? *value > *best : *value < *best))) best = value;
    if (o.progress) o.progress->advance(static_cast<std::size_t>(done), fmt::format("best {:.6g}", best.value_or(0.0)));
  }
  if (o.progress) o.progress->finish(fmt::format("best {:.6g}", best.value_or(0.0)));
  const auto b = study.best_trial();
  if (!b) fail(ErrorCode::kInvalidArgument, "wbf tune: no trial completed");
  // The best trial's external parameters.
  nlohmann::json ext = nlohmann::json::object();
  for (const auto& [name, dist] : space.params()) ext[name] = dist.to_external(b->params.at(name));
  return {params_of(info, ext, models), *b->value};
}

void check_tune_inputs(std::span<const ImageDetections> images, const metric::BoxLists& gt,
                       const TuneFusionOptions& o, const metric::Metric& m) {
  if (!m.info().accepts(metric::kDetection)) {
    fail(ErrorCode::kInvalidArgument, "wbf tune: metric '{}' does not score detections", o.metric);
  }
  if (gt.rows() != images.size()) {
    fail(ErrorCode::kInvalidArgument, "wbf tune: {} images of detections for {} of ground truth",
         images.size(), gt.rows());
  }
  if (!o.scale.empty() && o.scale.size() != images.size()) {
    fail(ErrorCode::kInvalidArgument, "wbf tune: {} image sizes for {} images", o.scale.size(),
         images.size());
  }
  if (o.trials < 1) fail(ErrorCode::kInvalidArgument, "wbf tune: --trials must be >= 1");
  if (images.empty()) fail(ErrorCode::kInvalidArgument, "wbf tune: no images");
}

}  // namespace

TuneFusionResult tune_fusion(std::span<const ImageDetections> images, const metric::BoxLists& gt,
                             const TuneFusionOptions& o) {
  auto m = metric::make(o.metric);
  check_tune_inputs(images, gt, o, *m);
  const std::size_t models = images.front().size();
  const Info& info = find(o.method);
  const bool maximize = m->info().greater_is_better();
  const Scorer scorer(o, *m);

  TuneFusionResult r;
  std::vector<std::size_t> all(images.size());
  std::iota(all.begin(), all.end(), 0);
  const Subset whole = take(images, gt, o.scale, all);
  for (std::size_t k = 0; k < models; ++k) r.single_all.push_back(scorer.single(whole, k));
  r.default_all = scorer.fused(whole, Params{});

  if (o.nested) {
    if (images.size() < 2) {
      fail(ErrorCode::kInvalidArgument, "wbf tune: the nested check needs at least 2 images");
    }
    std::vector<std::size_t> perm = all;
    tune::Rng rng(o.seed);
    for (std::size_t i = perm.size(); i > 1; --i) std::swap(perm[i - 1], perm[rng.below(i)]);
    const std::size_t half = perm.size() / 2;
    r.tune_images.assign(perm.begin(), perm.begin() + static_cast<std::ptrdiff_t>(half));
    r.holdout_images.assign(perm.begin() + static_cast<std::ptrdiff_t>(half), perm.end());
    std::sort(r.tune_images.begin(), r.tune_images.end());
    std::sort(r.holdout_images.begin(), r.holdout_images.end());
    const Subset a = take(images, gt, o.scale, r.tune_images);
    const Subset b = take(images, gt, o.scale, r.holdout_images);
    r.nested = true;
    r.nested_best = run_study(a, info, models, maximize, scorer, o, "nested");
    r.nested_holdout = scorer.fused(b, r.nested_best.params);
    r.default_holdout = scorer.fused(b, Params{});
    for (std::size_t k = 0; k < models; ++k) {
      r.single_tune.push_back(scorer.single(a, k));
      r.single_holdout.push_back(scorer.single(b, k));
      const bool better = maximize ? r.single_tune[k] > r.single_tune[r.best_single]
                                   : r.single_tune[k] < r.single_tune[r.best_single];
      if (better) r.best_single = k;
    }
  }
  r.best = run_study(whole, info, models, maximize, scorer, o, "all");
  return r;
}

std::vector<std::vector<Box>> fuse_with(const std::string& method, const Params& params,
                                        std::span<const ImageDetections> images, std::size_t threads) {
  auto fuser = make(method, params);
  return fuse_batch(*fuser, images, nullptr, threads);
}

double score_fused(const std::string& metric, std::span<const std::vector<Box>> fused, const metric::BoxLists& gt,
                   std::span<const ImageSize> scale, std::span<const std::size_t> idx) {
  std::vector<std::vector<Box>> boxes;
  metric::BoxLists truth;
  std::vector<ImageSize> sizes;
  std::vector<std::size_t> all;
  if (idx.empty()) {
    all.resize(fused.size());
    std::iota(all.begin(), all.end(), 0);
    idx = all;
  }
  for (std::size_t i : idx) {
    boxes.push_back(fused[i]);
    truth.push_row(gt.row(i));
    if (!scale.empty()) sizes.push_back(scale[i]);
  }
  const metric::BoxLists pred = to_box_lists(boxes, sizes);
  metric::Inputs in;
  in.true_boxes = &truth;
  in.pred_boxes = &pred;
  return metric::score(metric, in);
}

FoldTunedFusion tune_fusion_folds(std::span<const ImageDetections> images, const metric::BoxLists& gt,
                                  std::span<const int> folds, const TuneFusionOptions& o) {
  auto m = metric::make(o.metric);
  check_tune_inputs(images, gt, o, *m);
  if (folds.size() != images.size())
    fail(ErrorCode::kInvalidArgument, "wbf tune: {} folds for {} images", folds.size(), images.size());
  const std::size_t models = images.front().size();
  const Info& info = find(o.method);
  const bool maximize = m->info().greater_is_better();
  const Scorer scorer(o, *m);
  FoldTunedFusion r;
  for (int f : folds) {
    if (f < 0) fail(ErrorCode::kInvalidArgument, "wbf tune: every image needs a fold (got {})", f);
    if (std::find(r.folds.begin(), r.folds.end(), f) == r.folds.end()) r.folds.push_back(f);
  }
  std::sort(r.folds.begin(), r.folds.end());
  if (r.folds.size() < 2) fail(ErrorCode::kInvalidArgument, "wbf tune: the nested check needs at least 2 folds");
  std::vector<std::size_t> all(images.size());
  std::iota(all.begin(), all.end(), 0);
  const Subset whole = take(images, gt, o.scale, all);
  for (std::size_t k = 0; k < models; ++k) r.single_all.push_back(scorer.single(whole, k));
  r.default_all = scorer.fused(whole, Params{});
  r.nested_boxes.resize(images.size());
  for (int f : r.folds) {
    std::vector<std::size_t> inner, outer;
    for (std::size_t i = 0; i < images.size(); ++i) (folds[i] == f ? outer : inner).push_back(i);
    const Subset tune_on = take(images, gt, o.scale, inner);
    TunedFusion best = run_study(tune_on, info, models, maximize, scorer, o, fmt::format("fold {}", f));
    std::vector<ImageDetections> held;
    for (std::size_t i : outer) held.push_back(images[i]);
    auto fused = fuse_with(o.method, best.params, held, o.threads);
    for (std::size_t j = 0; j < outer.size(); ++j) r.nested_boxes[outer[j]] = std::move(fused[j]);
    r.fold_scores.push_back(score_fused(o.metric, r.nested_boxes, gt, o.scale, outer));
    r.fold_best.push_back(std::move(best));
  }
  r.nested = score_fused(o.metric, r.nested_boxes, gt, o.scale);
  r.best = run_study(whole, info, models, maximize, scorer, o, "all");
  return r;
}

TunedFiles tune_files(const TuneFilesRequest& r) {
  TunedFiles out;
  out.metric = detection_metric_spec(r.metric);
  out.method = &find(r.tune.method);
  FusionInputs in = load_fusion_inputs(r.files, r.ground_truth, r.read, r.sizes, r.fix_boxes);
  TuneFusionOptions o = r.tune;
  o.metric = out.metric;
  o.scale = in.sizes;
  out.images = in.image_ids.size();
  out.result = tune_fusion(in.images, in.gt, o);
  if (!r.output.empty()) {
    auto fuser = make(o.method, out.result.best.params);
    const auto fused = fuse_batch(*fuser, in.images, nullptr, o.threads, in.image_ids);
    write_detections_csv(r.output, in.image_ids, fused, BoxFormat::kXyxy);
  }
  return out;
}

}  // namespace compe::detect
