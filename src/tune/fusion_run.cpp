// Detection runs fused by run id and recorded as a run (include/compe/tune/fusion.hpp,
// docs/DETECTION.md "Fusing detection runs").
#include <algorithm>
#include <filesystem>
#include <numeric>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "compe/artifacts.hpp"
#include "compe/error.hpp"
#include "compe/image_data.hpp"
#include "compe/image_run.hpp"
#include "compe/oof.hpp"
#include "compe/run_writer.hpp"
#include "compe/tune/fusion.hpp"
#include "compe/util.hpp"

namespace compe::detect {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kMemberFilesArray[] = {"oof_boxes.csv", "test_boxes.csv"};

struct Members {
  std::vector<Run> runs;
  std::vector<images::Predictions> oof, test;  ///< aligned on every train / test image
  bool have_test = true;
};

std::string who(const Run& r) { return fmt::format("{} ({})", r.id, r.name); }

Run load_member_run(Store& store, const std::string& arg) {
  Run r = store.get_run(store.resolve_run_id(arg));
  if (r.status != RunStatus::kFinished)
    fail(ErrorCode::kInvalidArgument, "run {} is {}: only finished runs can be fused", who(r), run_status_name(r.status));
  return r;
}

/// A member's files: oof_boxes.csv must be there (a run without one is not a detection run, or
/// lost its file).
void ensure_member_files(Store& store, const compe::Workspace& ws, const Run& r) {
  run::ensure_local(store, ws, r.id, std::span<const std::string_view>(kMemberFilesArray), run::Need::kIfStored);
  const fs::path dir = ws.runs_dir() / r.id;
  if (fs::exists(dir / "oof_boxes.csv")) return;
  std::string has;
  for (const char* f : {"oof.csv", "oof_masks.csv"})
    if (fs::exists(dir / f)) has = f;
  if (!has.empty())
    fail(ErrorCode::kInvalidArgument,
         "run {} is not a detection run: its folder has {}, no oof_boxes.csv; compe wbf fuses detection runs", who(r),
         has);
  fail(ErrorCode::kNotFound, "run {} has no oof_boxes.csv (runs/{}/oof_boxes.csv): compe wbf needs each member's OOF boxes",
       who(r), r.id);
}

void check_same_competition(const std::vector<Run>& runs, const run::Reference& ref, const std::string& data_now) {
  const Run& a = runs.front();
  for (const Run& b : runs) {
    if (b.folds_hash != a.folds_hash)
      fail(ErrorCode::kInvalidArgument, "runs {} and {} were made on different folds (folds hash {} and {}): fuse runs of the same folds.csv",
           who(a), who(b), a.folds_hash, b.folds_hash);
    if (b.data_hash != a.data_hash)
      fail(ErrorCode::kInvalidArgument,
           "runs {} and {} were made on different train/test data (data hash {} and {}): fuse runs of the same data", who(a),
           who(b), a.data_hash, b.data_hash);
    if (b.metric != a.metric)
      fail(ErrorCode::kInvalidArgument, "runs {} and {} were scored with different metrics ({} and {})", who(a), who(b),
           b.metric, a.metric);
  }
  if (a.folds_hash != ref.folds_hash)
    fail(ErrorCode::kInvalidArgument,
         "run {} was made on other folds (folds hash {}) than this workspace's (folds hash {}): fuse runs of the same folds.csv",
         who(a), a.folds_hash, ref.folds_hash);
  if (!a.data_hash.empty() && a.data_hash != data_now)
    fail(ErrorCode::kInvalidArgument,
         "run {} was made on other train/test data (data hash {}) than this workspace's (data hash {})", who(a), a.data_hash,
         data_now);
}

std::vector<std::size_t> every(std::size_t n) {
  std::vector<std::size_t> all(n);
  std::iota(all.begin(), all.end(), 0);
  return all;
}

Members load_members(const compe::Workspace& ws, Store& store, const run::Reference& ref, const std::vector<std::string>& args) {
  if (args.size() < 2) fail(ErrorCode::kInvalidArgument, "compe wbf: give at least 2 detection runs to fuse (got {})", args.size());
  Members m;
  for (const auto& arg : args) {
    m.runs.push_back(load_member_run(store, arg));
    for (std::size_t j = 0; j + 1 < m.runs.size(); ++j)
      if (m.runs[j].id == m.runs.back().id)
        fail(ErrorCode::kInvalidArgument, "run {} is given twice: each member once", who(m.runs.back()));
  }
  for (const Run& r : m.runs) ensure_member_files(store, ws, r);
  if (ref.task != metric::kDetection || !ref.images)
    fail(ErrorCode::kInvalidArgument, "the workspace's competition is a {} task: compe wbf fuses detection runs",
         metric::task_name(ref.task));
  check_same_competition(m.runs, ref, run::data_hash(ws));
  const run::ImageReference& img = *ref.images;
  const std::vector<std::size_t> train = every(img.train.size()), test = every(img.test.size());
  for (const Run& r : m.runs) {
    const fs::path dir = ws.runs_dir() / r.id;
    m.oof.push_back(images::read_predictions_file(
        dir / "oof_boxes.csv", {.task = metric::kDetection, .classes = &img.classes(), .set = &img.train,
                                .expected = train, .expected_what = "the train images", .set_file = "train.csv"}));
    if (!fs::exists(dir / "test_boxes.csv")) {
      m.have_test = false;
      continue;
    }
    m.test.push_back(images::read_predictions_file(
        dir / "test_boxes.csv", {.task = metric::kDetection, .classes = &img.classes(), .set = &img.test,
                                 .expected = test, .expected_what = "the test images", .set_file = "test.csv"}));
  }
  return m;
}

/// Per image, each member's boxes normalised by the image's size (what the fusers take).
std::vector<ImageDetections> normalised(const images::ImageSet& set, std::span<const images::Predictions> members) {
  std::vector<ImageDetections> out(set.size(), ImageDetections(members.size()));
  for (std::size_t m = 0; m < members.size(); ++m)
    for (std::size_t i = 0; i < set.size(); ++i) {
      const double w = static_cast<double>(set.sizes[i].width), h = static_cast<double>(set.sizes[i].height);
      ModelDetections& md = out[i][m];
      for (const metric::DetBox& b : members[m].boxes.row(i)) {
        md.boxes.push_back({b.x1 / w, b.y1 / h, b.x2 / w, b.y2 / h});
        md.scores.push_back(b.score);
        md.labels.push_back(b.label);
      }
    }
  return out;
}

std::vector<ImageSize> sizes_of(const images::ImageSet& set) {
  std::vector<ImageSize> s;
  for (const auto& z : set.sizes) s.push_back({static_cast<double>(z.width), static_cast<double>(z.height)});
  return s;
}

/// Fused (normalised) boxes of the images `idx` of `set` as pixel predictions, clamped to the image.
images::Predictions to_pixels(const images::ImageSet& set, std::span<const std::vector<Box>> fused,
                              std::span<const std::size_t> idx) {
  images::Predictions out;
  for (std::size_t i : idx) {
    const double w = static_cast<double>(set.sizes[i].width), h = static_cast<double>(set.sizes[i].height);
    std::vector<metric::DetBox> row;
    for (const Box& b : fused[i]) {
      metric::DetBox d;
      d.x1 = std::clamp(b.x1 * w, 0.0, w);
      d.y1 = std::clamp(b.y1 * h, 0.0, h);
      d.x2 = std::clamp(b.x2 * w, 0.0, w);
      d.y2 = std::clamp(b.y2 * h, 0.0, h);
      d.score = std::clamp(b.score, 0.0, 1.0);
      d.label = b.label;
      if (d.x2 > d.x1 && d.y2 > d.y1) row.push_back(d);
    }
    out.images.push_back(i);
    out.boxes.push_row(row);
  }
  return out;
}

nlohmann::json settings_json(const Info& info, const Params& p) {
  nlohmann::json j = nlohmann::json::object();
  if (info.uses & kUsesWeights) j["weights"] = p.weights;
  if (info.uses & kUsesIouThr) j["iou_thr"] = p.iou_thr.value_or(info.default_iou_thr);
  if (info.uses & kUsesSkipThr) j["skip_box_thr"] = p.skip_box_thr;
  if (info.uses & kUsesConfType) {
    j["conf_type"] = conf_type_name(p.conf_type);
    j["corrected_conf"] = p.corrected_conf;
  }
  return j;
}

Params settings_from_json(const nlohmann::json& j) {
  Params p;
  if (j.contains("weights")) p.weights = j["weights"].get<std::vector<double>>();
  if (j.contains("iou_thr")) p.iou_thr = j["iou_thr"].get<double>();
  p.skip_box_thr = j.value("skip_box_thr", 0.0);
  if (j.contains("conf_type")) p.conf_type = parse_conf_type(j["conf_type"].get<std::string>());
  p.corrected_conf = j.value("corrected_conf", false);
  return p;
}

/// What is fused: the OOF boxes of every train image, with the settings of its fold.
struct Fused {
  std::vector<std::vector<Box>> oof;
  std::map<int, double> fold_scores;
  std::optional<double> nested;
  double in_sample = 0;
  Params params;
};

Fused fuse_oof(const run::Reference& ref, std::span<const ImageDetections> oof, const FusionRunRequest& req,
               std::optional<FoldTunedFusion>& tuned) {
  const run::ImageReference& img = *ref.images;
  const std::vector<ImageSize> scale = sizes_of(img.train);
  Fused f;
  if (!req.params) {
    TuneFusionOptions o;
    o.method = req.method;
    o.metric = ref.metric;
    o.trials = req.trials;
    o.seed = req.seed;
    o.threads = req.threads;
    o.scale = scale;
    o.progress = req.progress;
    tuned = tune_fusion_folds(oof, img.truth.boxes, ref.folds, o);
    f.oof = tuned->nested_boxes;
    for (std::size_t k = 0; k < tuned->folds.size(); ++k) f.fold_scores[tuned->folds[k]] = tuned->fold_scores[k];
    f.nested = tuned->nested;
    f.params = tuned->best.params;
    f.in_sample = tuned->best.value;
    return f;
  }
  f.params = *req.params;
  if (f.params.weights.empty() && (find(req.method).uses & kUsesWeights)) f.params.weights.assign(oof.front().size(), 1.0);
  f.oof = fuse_with(req.method, f.params, oof, req.threads);
  for (int fold = 0; fold < ref.num_folds(); ++fold) {
    const std::vector<std::size_t> rows = ref.rows_of(fold);
    if (!rows.empty()) f.fold_scores[fold] = score_fused(ref.metric, f.oof, img.truth.boxes, scale, rows);
  }
  f.in_sample = score_fused(ref.metric, f.oof, img.truth.boxes, scale);
  return f;
}

nlohmann::json fusion_config(const compe::Workspace& ws, const Info& info, const FusionRunRequest& req, const Members& m,
                             const FusionRecorded& rec) {
  nlohmann::json inputs = nlohmann::json::array();
  for (std::size_t i = 0; i < m.runs.size(); ++i) {
    nlohmann::json j = {{"run_id", m.runs[i].id}, {"name", m.runs[i].name}, {"oof_score", rec.member_scores[i]}};
    if (info.uses & kUsesWeights) j["weight"] = rec.params.weights.empty() ? 1.0 : rec.params.weights[i];
    inputs.push_back(j);
  }
  nlohmann::json fusion = {{"method", info.name},
                           {"tuned", rec.tuned.has_value()},
                           {"params", settings_json(info, rec.params)},
                           {"inputs", inputs}};
  if (rec.tuned) {
    fusion["trials"] = req.trials;
    fusion["seed"] = req.seed;
    nlohmann::json folds = nlohmann::json::array();
    for (std::size_t k = 0; k < rec.tuned->folds.size(); ++k)
      folds.push_back({{"fold", rec.tuned->folds[k]},
                       {"params", settings_json(info, rec.tuned->fold_best[k].params)},
                       {"tuned_on_other_folds", rec.tuned->fold_best[k].value},
                       {"score", rec.tuned->fold_scores[k]}});
    fusion["fold_params"] = folds;
  }
  const CompetitionConfig& cfg = ws.config();
  return {{"fusion", fusion},
          {"competition", {{"name", cfg.name}, {"task", metric::task_name(cfg.task)}, {"metric", cfg.metric}}}};
}

run::Summary write_fusion_run(const compe::Workspace& ws, Store& store, const run::Reference& ref, run::RunSpec spec,
                              const std::string& log, const Fused& fused, const images::Predictions* test, run::FinishOptions fin) {
  const run::ImageReference& img = *ref.images;
  run::RunWriter w(ws, store, ref, std::move(spec));
  try {
    w.log(log);
    for (const auto& [fold, score] : fused.fold_scores)
      w.add_image_fold(fold, to_pixels(img.train, fused.oof, ref.rows_of(fold)), {}, score);
    fin.image_test = test;
    return w.finish(fin);
  } catch (const std::exception& e) {
    w.stop(RunStatus::kFailed, e.what());
    throw;
  }
}

}  // namespace

FusionRecorded record_fusion(const compe::Workspace& ws, Store& store, const FusionRunRequest& req) {
  const Info& info = find(req.method);
  const run::Reference ref = run::reference_from_workspace(ws);
  const Members m = load_members(ws, store, ref, req.runs);
  const run::ImageReference& img = *ref.images;
  if (req.params && !req.params->weights.empty() && req.params->weights.size() != m.runs.size())
    fail(ErrorCode::kInvalidArgument, "--weights: {} weights for {} runs; expected one per run", req.params->weights.size(),
         m.runs.size());
  FusionRecorded rec;
  for (const Run& r : m.runs) rec.members.push_back(r.id);
  for (const auto& p : m.oof) rec.member_scores.push_back(run::score_images(ref.metric, img, p));
  const std::vector<ImageDetections> oof = normalised(img.train, m.oof);
  const Fused fused = fuse_oof(ref, oof, req, rec.tuned);
  rec.params = fused.params;
  std::optional<images::Predictions> test;
  if (m.have_test) {
    const auto boxes = fuse_with(req.method, rec.params, normalised(img.test, m.test), req.threads);
    test = to_pixels(img.test, boxes, every(img.test.size()));
  }
  const bool maximize = run::describe_metric(metric::kDetection, ref.metric).greater_is_better;
  std::size_t best = 0;
  for (std::size_t i = 1; i < rec.member_scores.size(); ++i)
    if (maximize ? rec.member_scores[i] > rec.member_scores[best] : rec.member_scores[i] < rec.member_scores[best]) best = i;
  const nlohmann::json config = fusion_config(ws, info, req, m, rec);
  std::string log = fmt::format("fusion of detection runs, method {}, metric {}\n", info.name, ref.metric);
  for (std::size_t i = 0; i < m.runs.size(); ++i)
    log += fmt::format("member {}: oof {:.6f}\n", who(m.runs[i]), rec.member_scores[i]);
  log += rec.tuned ? fmt::format("in-sample oof {:.6f}, nested cv {:.6f}", fused.in_sample, *fused.nested)
                   : fmt::format("oof {:.6f}", fused.in_sample);
  run::FinishOptions fin;
  fin.cv = fused.nested;
  fin.cv_details = {{"in_sample", fused.in_sample}};
  if (fused.nested) fin.cv_details["nested"] = *fused.nested;
  fin.meta_extra = {{"inputs", config["fusion"]["inputs"]}};
  run::RunSpec spec{.kind = "blend",
                    .name = req.name.empty() ? fmt::format("{}-{}", info.name, rec.tuned ? "tuned" : "fused") : req.name,
                    .config = config,
                    .parent_id = m.runs[best].id,
                    .command_line = req.command_line,
                    .producer = fmt::format("compe {} (fusion {})", COMPE_VERSION, info.name)};
  run::Summary s = write_fusion_run(ws, store, ref, std::move(spec), log, fused, test ? &*test : nullptr, std::move(fin));
  rec.run_id = s.run_id;
  rec.cv = s.cv;
  return rec;
}

bool is_fusion_run(const Run& r) { return r.config.contains("fusion") && r.config["fusion"].is_object(); }

FusionRecorded rerun_fusion(const compe::Workspace& ws, Store& store, const Run& r, const std::string& name,
                            const std::string& command_line) {
  if (!is_fusion_run(r)) fail(ErrorCode::kInvalidArgument, "run {} is not a fusion of detection runs", who(r));
  const nlohmann::json& f = r.config["fusion"];
  FusionRunRequest req;
  for (const auto& in : f.value("inputs", nlohmann::json::array())) {
    if (!in.contains("run_id") || !in["run_id"].is_string())
      fail(ErrorCode::kInvalidArgument, "fusion {}: a member has no run id in its record", who(r));
    req.runs.push_back(in["run_id"]);
  }
  req.method = f.value("method", std::string("wbf"));
  if (f.value("tuned", false)) {
    req.trials = f.value("trials", std::int64_t{50});
    req.seed = f.value("seed", std::uint64_t{0});
  } else {
    req.params = settings_from_json(f.value("params", nlohmann::json::object()));
  }
  req.name = name.empty() ? r.name + "-rerun" : name;
  req.command_line = command_line;
  return record_fusion(ws, store, req);
}

}  // namespace compe::detect
