// compe wbf: fuse several models' detections (WBF, NMS, soft-NMS, NMW) from CSV files.
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "commands.hpp"
#include "compe/detect.hpp"
#include "compe/tune/fusion.hpp"
#include "compe/error.hpp"
#include "compe/util.hpp"
#include "output.hpp"
#include "progress.hpp"
#include "workspace_option.hpp"

namespace compe::cli {
namespace {

std::vector<double> parse_weights(const std::string& text) {
  std::vector<double> w;
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    std::size_t used = 0;
    double v = 0;
    try {
      v = std::stod(item, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (item.empty() || used != item.size()) {
      fail(ErrorCode::kInvalidArgument, "--weights: {} is not a number; expected W1,W2,...",
           quote(item));
    }
    w.push_back(v);
  }
  return w;
}

/// Options shared by `wbf eval` and `wbf tune` for reading boxes.
struct BoxInput {
  std::string format = "xyxy", sizes;
  bool normalised = false, with_label = false, fix = false;
};

void add_box_input(CLI::App* cmd, BoxInput& b) {
  cmd->add_option("--format", b.format, "Box columns of CSV inputs: xyxy or xywh");
  cmd->add_option("--sizes", b.sizes,
                  "Image sizes CSV (image_id,width,height): converts normalised boxes to pixels "
                  "and checks boxes lie inside their image");
  cmd->add_flag("--normalised", b.normalised,
                "CSV and PredictionString inputs hold coordinates in [0, 1] (COCO JSON is always "
                "in pixels)");
  cmd->add_flag("--with-label", b.with_label,
                "PredictionString groups are 'label score x y w h' instead of 'score x y w h'");
  cmd->add_flag("--fix-boxes", b.fix,
                "Swap inverted corners, clip to the image and drop zero-area boxes, counting "
                "each change, instead of failing");
}

detect::ReadOptions read_options(const BoxInput& b) {
  return {.format = detect::parse_box_format(b.format), .normalised = b.normalised, .with_label = b.with_label};
}

nlohmann::json check_json(const detect::BoxCheck& c) {
  return {{"boxes", c.boxes},
          {"swapped", c.swapped},
          {"clipped", c.clipped},
          {"degenerate_dropped", c.degenerate}};
}

void print_check(std::string_view what, const detect::BoxCheck& c) {
  if (c.swapped + c.clipped + c.degenerate == 0) return;
  fmt::print(
      "fixed {}: {} boxes with swapped corners, {} coordinates clipped to the image, {} "
      "zero-area boxes dropped\n",
      what, c.swapped, c.clipped, c.degenerate);
}

nlohmann::json params_json(const detect::Info& info, const detect::Params& p) {
  nlohmann::json j = nlohmann::json::object();
  if (info.uses & detect::kUsesWeights) j["weights"] = p.weights;
  if (info.uses & detect::kUsesIouThr) j["iou_thr"] = p.iou_thr.value_or(info.default_iou_thr);
  if (info.uses & detect::kUsesSkipThr) j["skip_box_thr"] = p.skip_box_thr;
  if (info.uses & detect::kUsesConfType) j["conf_type"] = detect::conf_type_name(p.conf_type);
  return j;
}

std::string params_text(const detect::Info& info, const detect::Params& p) {
  std::string s;
  if (info.uses & detect::kUsesWeights) {
    s += "--weights ";
    for (std::size_t i = 0; i < p.weights.size(); ++i)
      s += (i ? "," : "") + fmt::format("{:.4g}", p.weights[i]);
  }
  if (info.uses & detect::kUsesIouThr) s += fmt::format(" --iou-thr {:.4g}", p.iou_thr.value_or(info.default_iou_thr));
  if (info.uses & detect::kUsesSkipThr) s += fmt::format(" --skip-thr {:.4g}", p.skip_box_thr);
  if (info.uses & detect::kUsesConfType) s += fmt::format(" --conf-type {}", detect::conf_type_name(p.conf_type));
  return s;
}

/// `compe wbf fuse|tune RUN RUN ...`: the fused runs recorded as a run, printed as the Run
/// record (--json) or a summary.
struct RunForm {
  std::string workspace, store, name;
  bool json = false;
};

void add_run_form_options(CLI::App* cmd, RunForm& f) {
  add_workspace_option(cmd, f.workspace);
  add_store_option(cmd, f.store);
  cmd->add_option("--name", f.name, "RUN form: name of the recorded run (default wbf-tuned or wbf-fused)");
}

void record_runs_fusion(const RunForm& f, detect::FusionRunRequest req, const std::string& cmdline) {
  Workspace ws = open_workspace(f.workspace);
  std::unique_ptr<Store> store = open_run_store(f.workspace, f.store);
  req.name = f.name;
  req.command_line = cmdline;
  TerminalProgress bar(stdout, !f.json && stdout_is_tty());
  req.progress = &bar;
  const detect::FusionRecorded rec = detect::record_fusion(ws, *store, req);
  if (f.json) {
    print_json(run_record(*store, rec.run_id));
    return;
  }
  const detect::Info& info = detect::find(req.method);
  for (std::size_t i = 0; i < rec.members.size(); ++i)
    fmt::print("member {}: oof {}\n", rec.members[i], fmt_score(rec.member_scores[i]));
  if (rec.tuned) {
    for (std::size_t k = 0; k < rec.tuned->folds.size(); ++k)
      fmt::print("fold {}: tuned on the other folds:{}{} -> {}\n", rec.tuned->folds[k],
                 params_text(info, rec.tuned->fold_best[k].params).starts_with(" ") ? "" : " ",
                 params_text(info, rec.tuned->fold_best[k].params), fmt_score(rec.tuned->fold_scores[k]));
  }
  fmt::print("final settings:{}{}\n", params_text(info, rec.params).starts_with(" ") ? "" : " ",
             params_text(info, rec.params));
  fmt::print("recorded run {} ({}): cv {}{}\n", rec.run_id, info.name, fmt_score(rec.cv),
             rec.tuned ? " (nested over the folds)" : "");
}

/// Whether the positional arguments of fuse/tune are files (the file form) or run ids.
bool all_files(const std::vector<std::string>& args) {
  for (const auto& a : args)
    if (!std::filesystem::is_regular_file(a)) return false;
  return true;
}

void add_methods(CLI::App* group) {
  auto* methods = group->add_subcommand("methods", "List the fusion methods");
  auto json_methods = std::make_shared<bool>(false);
  methods->add_flag("--json", *json_methods, "Print one JSON document");
  methods->callback([json_methods] {
    if (*json_methods) {
      nlohmann::json rows = nlohmann::json::array();
      for (const auto& r : detect::builtin()) {
        rows.push_back({{"name", r.name},
                        {"aliases", r.aliases},
                        {"summary", r.summary},
                        {"default_iou_thr", r.default_iou_thr}});
      }
      print_json({{"methods", rows}});
      return;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& r : detect::builtin()) {
      std::string aliases;
      for (const auto& a : r.aliases) aliases += (aliases.empty() ? "" : ", ") + a;
      rows.push_back({r.name, aliases, fmt::format("{}", r.default_iou_thr), r.summary});
    }
    print_table({"method", "aliases", "iou_thr", "summary"}, rows);
  });
}

void add_fuse(CLI::App* group, const std::string& cmdline) {
  struct Args {
    RunForm rf;
    std::vector<std::string> files;
    std::string method = "wbf", weights, conf_type, format = "xyxy", out, soft_method;
    std::optional<double> iou_thr;
    double skip_thr = 0, sigma = 0.5, thresh = 0.001;
    bool corrected_conf = false, decayed = false, strict = false, json = false;
    bool prediction_string = false, with_label = false;
    std::size_t threads = 0;
  };
  auto a = std::make_shared<Args>();
  auto* cmd =
      group->add_subcommand("fuse", "Fuse the detections of several models, image by image");
  cmd->add_option("MODEL_FILES", a->files,
                  "One CSV per model: image_id,x1,y1,x2,y2,score,label; or, without -o, detection runs "
                  "(ids or unique prefixes) fused and recorded as a run")
      ->required();
  cmd->add_option("--method", a->method, "wbf, nms, soft_nms or nmw (see `compe wbf methods`)");
  cmd->add_option("--weights", a->weights, "Per-model weights W1,W2,... (one per file)");
  cmd->add_option("--iou-thr", a->iou_thr, "Boxes match when IoU > this (default: the method's)");
  cmd->add_option("--skip-thr", a->skip_thr, "wbf, nmw: ignore boxes with score < this");
  cmd->add_option("--conf-type", a->conf_type,
                  "wbf: avg, max, box_and_model_avg or absent_model_aware_avg");
  cmd->add_flag("--corrected-conf", a->corrected_conf,
                "wbf avg: corrected confidence that never exceeds 1 (see REFERENCES-wbf.md)");
  cmd->add_option("--soft-method", a->soft_method, "soft_nms: linear or gaussian (default)");
  cmd->add_option("--sigma", a->sigma, "soft_nms gaussian sigma");
  cmd->add_option("--thresh", a->thresh, "soft_nms: drop boxes whose decayed score is <= this");
  cmd->add_flag("--decayed-scores", a->decayed, "soft_nms: report decayed scores");
  cmd->add_flag("--strict-boxes", a->strict,
                "Fail on inverted, out-of-range or zero-area boxes instead of fixing and counting");
  cmd->add_option("--format", a->format, "Box columns of inputs and output: xyxy or xywh");
  cmd->add_option("--threads", a->threads, "Threads (0 = all cores)");
  cmd->add_option("-o,--output", a->out,
                  "Output of fused boxes: CSV, or COCO results JSON when the name ends in .json "
                  "(required with files; the RUN form records a run instead)");
  add_run_form_options(cmd, a->rf);
  cmd->add_flag("--prediction-string", a->prediction_string,
                "Write Kaggle's image_id,PredictionString ('score x y w h ...') instead of rows");
  cmd->add_flag("--with-label", a->with_label,
                "--prediction-string: groups 'label score x y w h'");
  cmd->add_flag("--json", a->json, "Print the report as one JSON document");
  cmd->callback([a, cmdline] {
    if (a->out.empty()) {
      if (all_files(a->files))
        fail(ErrorCode::kInvalidArgument, "wbf fuse: -o is required when fusing files (RUN arguments are run ids)");
      detect::FusionRunRequest req;
      req.runs = a->files;
      req.method = a->method;
      req.threads = a->threads;
      detect::Params p;
      if (!a->weights.empty()) p.weights = parse_weights(a->weights);
      p.iou_thr = a->iou_thr;
      p.skip_box_thr = a->skip_thr;
      if (!a->conf_type.empty()) p.conf_type = detect::parse_conf_type(a->conf_type);
      p.corrected_conf = a->corrected_conf;
      req.params = p;
      a->rf.json = a->json;
      record_runs_fusion(a->rf, req, cmdline);
      return;
    }
    detect::FuseFilesRequest req;
    req.files.assign(a->files.begin(), a->files.end());
    req.method = a->method;
    req.format = detect::parse_box_format(a->format);
    req.threads = a->threads;
    detect::Params& p = req.params;
    if (!a->weights.empty()) p.weights = parse_weights(a->weights);
    p.iou_thr = a->iou_thr;
    p.skip_box_thr = a->skip_thr;
    if (!a->conf_type.empty()) p.conf_type = detect::parse_conf_type(a->conf_type);
    p.corrected_conf = a->corrected_conf;
    if (!a->soft_method.empty()) p.soft_kind = detect::parse_soft_nms_kind(a->soft_method);
    p.sigma = a->sigma;
    p.thresh = a->thresh;
    p.decayed_scores = a->decayed;
    if (a->strict) p.bad_boxes = detect::BadBoxPolicy::kError;
    const detect::FusedFiles f = detect::fuse_files(req);
    detect::write_boxes_any(a->out, f.image_ids, f.boxes, req.format, a->prediction_string,
                            a->with_label);
    const detect::Report& r = f.report;
    if (a->json) {
      print_json({{"method", f.method->name},
                  {"output", a->out},
                  {"models", a->files.size()},
                  {"images", r.images},
                  {"boxes_in", r.boxes_in},
                  {"boxes_out", r.boxes_out},
                  {"below_skip_thr", r.below_skip_thr},
                  {"swapped_boxes", r.swapped_boxes},
                  {"clipped_coords", r.clipped_coords},
                  {"zero_area_dropped", r.zero_area_dropped},
                  {"zero_conf_clusters", r.zero_conf_clusters}});
      return;
    }
    fmt::print("{}: {} images, {} boxes from {} models -> {} boxes in {}\n", f.method->name,
               r.images, r.boxes_in, a->files.size(), r.boxes_out, a->out);
    if (r.swapped_boxes + r.clipped_coords + r.zero_area_dropped > 0) {
      fmt::print(
          "fixed input: {} boxes with swapped corners, {} coordinates clipped to [0, 1], {} "
          "zero-area boxes dropped\n",
          r.swapped_boxes, r.clipped_coords, r.zero_area_dropped);
    }
    if (r.below_skip_thr > 0) fmt::print("{} boxes below --skip-thr ignored\n", r.below_skip_thr);
  });
}

void add_eval(CLI::App* group) {
  struct EvalArgs {
    std::string pred, gt, metric = "coco_map";
    BoxInput in;
    bool json = false;
  };
  auto e = std::make_shared<EvalArgs>();
  auto* eval = group->add_subcommand(
      "eval", "Score detections against ground truth (COCO mAP, Kaggle metric, F-beta)");
  eval->add_option("PRED", e->pred,
                   "Detections: CSV (image_id,x1,y1,x2,y2,score,label), PredictionString CSV or "
                   "COCO results JSON")
      ->required();
  eval->add_option("--gt", e->gt,
                   "Ground truth: CSV (image_id,x1,y1,x2,y2,label[,iscrowd]) or COCO annotations "
                   "JSON")
      ->required();
  eval->add_option("--metric", e->metric,
                   "coco_map (default; short name map), coco_map50 (map50), kaggle_map[@min_score], "
                   "det_fbeta[@beta] (fbeta[@beta])");
  add_box_input(eval, e->in);
  eval->add_flag("--json", e->json, "Print one JSON document");
  eval->callback([e] {
    detect::EvaluateFilesRequest req;
    req.predictions = e->pred;
    req.ground_truth = e->gt;
    req.metric = e->metric;
    req.read = read_options(e->in);
    req.sizes = e->in.sizes;
    req.fix_boxes = e->in.fix;
    const detect::EvaluatedFiles r = detect::evaluate_files(req);
    const detect::CocoResult& coco = r.coco;
    static const char* kStatNames[12] = {"AP", "AP50", "AP75", "AP_small", "AP_medium", "AP_large",
                                         "AR1", "AR10", "AR100", "AR_small", "AR_medium", "AR_large"};
    if (e->json) {
      nlohmann::json stats = nlohmann::json::object();
      for (std::size_t i = 0; i < 12; ++i) stats[kStatNames[i]] = coco.stats[i];
      nlohmann::json classes = nlohmann::json::array();
      for (std::size_t k = 0; k < coco.categories.size(); ++k) {
        classes.push_back({{"label", coco.categories[k]},
                           {"name", r.category_names[k]},
                           {"ap", coco.class_ap[k]},
                           {"ap50", coco.class_ap50[k]}});
      }
      print_json({{"metric", r.metric},
                  {"value", r.value},
                  {"direction", r.greater_is_better ? "maximize" : "minimize"},
                  {"images", r.images},
                  {"gt_boxes", r.gt_boxes},
                  {"pred_boxes", r.pred_boxes},
                  {"units", r.units},
                  {"coco", stats},
                  {"per_class", classes},
                  {"checks", {{"gt", check_json(r.gt_check)}, {"pred", check_json(r.pred_check)}}}});
      return;
    }
    print_check(e->gt, r.gt_check);
    print_check(e->pred, r.pred_check);
    fmt::print("{} = {}  ({} images, {} ground-truth boxes, {} predictions, {})\n", r.metric,
               fmt_score(r.value), r.images, r.gt_boxes, r.pred_boxes, r.units);
    std::vector<std::vector<std::string>> rows;
    for (std::size_t i = 0; i < 12; ++i) rows.push_back({kStatNames[i], fmt_score(coco.stats[i])});
    print_table({"coco", "value"}, rows);
    rows.clear();
    for (std::size_t k = 0; k < coco.categories.size(); ++k) {
      rows.push_back({std::to_string(coco.categories[k]), r.category_names[k],
                      fmt_score(coco.class_ap[k]), fmt_score(coco.class_ap50[k])});
    }
    print_table({"label", "name", "AP", "AP50"}, rows);
  });
}

void tune_runs(const RunForm& rf, const std::vector<std::string>& runs, const std::string& method,
               std::int64_t trials, std::uint64_t seed, std::size_t threads, const std::string& cmdline) {
  detect::FusionRunRequest req;
  req.runs = runs;
  req.method = method;
  req.trials = trials;
  req.seed = seed;
  req.threads = threads;
  record_runs_fusion(rf, req, cmdline);
}

void add_tune(CLI::App* group, const std::string& cmdline) {
  struct TuneArgs {
    RunForm rf;
    std::vector<std::string> files;
    std::string gt, metric = "coco_map", method = "wbf", out;
    BoxInput in;
    std::int64_t trials = 50;
    std::uint64_t seed = 0;
    std::size_t threads = 0;
    bool json = false, no_nested = false;
  };
  auto ta = std::make_shared<TuneArgs>();
  auto* tcmd = group->add_subcommand(
      "tune", "Tune fusion weights, iou_thr, skip_box_thr and conf_type against a metric");
  tcmd->add_option("MODEL_FILES", ta->files,
                   "One detections file per model (as for fuse); or, without --gt, detection runs (ids "
                   "or unique prefixes): tuned on their OOF boxes with a nested check over the folds "
                   "and recorded as a run")
      ->required();
  tcmd->add_option("--gt", ta->gt, "Ground truth: CSV or COCO annotations JSON (required with files)");
  add_run_form_options(tcmd, ta->rf);
  tcmd->add_option("--metric", ta->metric,
                   "coco_map (default; short name map), coco_map50 (map50), kaggle_map[@min_score], "
                   "det_fbeta[@beta] (fbeta[@beta])");
  tcmd->add_option("--method", ta->method, "Fusion method, fixed: wbf (default), nms, soft_nms, nmw");
  tcmd->add_option("--trials", ta->trials, "Trials per study (default 50)");
  tcmd->add_option("--seed", ta->seed, "Seed of the sampler and of the half split");
  tcmd->add_option("--threads", ta->threads, "Fusion threads (0 = all cores)");
  tcmd->add_flag("--no-nested", ta->no_nested, "Skip the nested check (tune on half, score the other half)");
  tcmd->add_option("-o,--output", ta->out, "Write the fused boxes with the best parameters (CSV)");
  add_box_input(tcmd, ta->in);
  tcmd->add_flag("--json", ta->json, "Print one JSON document");
  tcmd->callback([ta, cmdline] {
    if (ta->gt.empty()) {
      if (all_files(ta->files))
        fail(ErrorCode::kInvalidArgument, "wbf tune: --gt is required when tuning files (RUN arguments are run ids)");
      RunForm rf = ta->rf;
      rf.json = ta->json;
      tune_runs(rf, ta->files, ta->method, ta->trials, ta->seed, ta->threads, cmdline);
      return;
    }
    detect::TuneFilesRequest req;
    req.files.assign(ta->files.begin(), ta->files.end());
    req.ground_truth = ta->gt;
    req.metric = ta->metric;
    req.read = read_options(ta->in);
    req.sizes = ta->in.sizes;
    req.fix_boxes = ta->in.fix;
    req.output = ta->out;
    req.tune.method = ta->method;
    req.tune.trials = ta->trials;
    req.tune.seed = ta->seed;
    req.tune.threads = ta->threads;
    req.tune.nested = !ta->no_nested;
    TerminalProgress bar(stdout, !ta->json && stdout_is_tty());
    req.tune.progress = &bar;
    const detect::TunedFiles tuned = detect::tune_files(req);
    const detect::Info& info = *tuned.method;
    const detect::TuneFusionResult& r = tuned.result;
    const std::string& spec = tuned.metric;
    const std::size_t n = tuned.images;
    if (ta->json) {
      nlohmann::json doc = {{"method", info.name},
                            {"metric", spec},
                            {"trials", ta->trials},
                            {"images", n},
                            {"models", ta->files},
                            {"best", {{"value", r.best.value}, {"params", params_json(info, r.best.params)}}},
                            {"default", r.default_all},
                            {"single", r.single_all}};
      if (r.nested) {
        doc["nested"] = {{"tune_images", r.tune_images.size()},
                         {"holdout_images", r.holdout_images.size()},
                         {"params", params_json(info, r.nested_best.params)},
                         {"tuned_on_tune", r.nested_best.value},
                         {"tuned", r.nested_holdout},
                         {"default", r.default_holdout},
                         {"best_single", {{"model", ta->files[r.best_single]},
                                          {"index", r.best_single},
                                          {"value", r.single_holdout[r.best_single]}}},
                         {"single", r.single_holdout}};
      }
      print_json(doc);
      return;
    }
    fmt::print("{} tuned on {} images, {} trials: {} = {}\n", info.name, n, ta->trials, spec,
               fmt_score(r.best.value));
    fmt::print("best parameters:{}{}\n", params_text(info, r.best.params).starts_with(" ") ? "" : " ",
               params_text(info, r.best.params));
    std::vector<std::vector<std::string>> rows;
    for (std::size_t k = 0; k < ta->files.size(); ++k) {
      rows.push_back({ta->files[k], fmt_score(r.single_all[k]),
                      r.nested ? fmt_score(r.single_holdout[k]) : "-"});
    }
    rows.push_back({info.name + " defaults", fmt_score(r.default_all),
                    r.nested ? fmt_score(r.default_holdout) : "-"});
    rows.push_back({info.name + " tuned", fmt_score(r.best.value),
                    r.nested ? fmt_score(r.nested_holdout) : "-"});
    print_table({"", "all images", "holdout half"}, rows);
    if (r.nested) {
      fmt::print(
          "nested check: tuned on {} images, scored on the other {}: tuned {} vs best single "
          "model ({}) {} vs defaults {}\n",
          r.tune_images.size(), r.holdout_images.size(), fmt_score(r.nested_holdout),
          ta->files[r.best_single], fmt_score(r.single_holdout[r.best_single]),
          fmt_score(r.default_holdout));
    }
  });
}

}  // namespace

void add_wbf_command(CLI::App& app, int argc, char** argv) {
  const std::string cmdline = command_line(argc, argv);
  auto* group = app.add_subcommand("wbf", "Object-detection box fusion: WBF, NMS, soft-NMS, NMW");
  group->require_subcommand(1);
  add_methods(group);
  add_fuse(group, cmdline);
  add_eval(group);
  add_tune(group, cmdline);
}

}  // namespace compe::cli
