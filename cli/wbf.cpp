// compe wbf: fuse several models' detections (WBF, NMS, soft-NMS, NMW) from CSV files.
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "commands.hpp"
#include "compe/detect.hpp"
#include "compe/error.hpp"
#include "output.hpp"

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
      fail(ErrorCode::kInvalidArgument, "--weights: '{}' is not a number; expected W1,W2,...",
           item);
    }
    w.push_back(v);
  }
  return w;
}

}  // namespace

void add_wbf_command(CLI::App& app) {
  auto* group = app.add_subcommand("wbf", "Object-detection box fusion: WBF, NMS, soft-NMS, NMW");
  group->require_subcommand(1);

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

  struct Args {
    std::vector<std::string> files;
    std::string method = "wbf", weights, conf_type, format = "xyxy", out, soft_method;
    std::optional<double> iou_thr;
    double skip_thr = 0, sigma = 0.5, thresh = 0.001;
    bool corrected_conf = false, decayed = false, strict = false, json = false;
    std::size_t threads = 0;
  };
  auto a = std::make_shared<Args>();
  auto* cmd =
      group->add_subcommand("fuse", "Fuse the detections of several models, image by image");
  cmd->add_option("MODEL_FILES", a->files, "One CSV per model: image_id,x1,y1,x2,y2,score,label")
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
  cmd->add_option("-o,--output", a->out, "Output CSV of fused boxes")->required();
  cmd->add_flag("--json", a->json, "Print the report as one JSON document");
  cmd->callback([a] {
    const detect::BoxFormat format = detect::parse_box_format(a->format);
    detect::Params p;
    if (!a->weights.empty()) p.weights = parse_weights(a->weights);
    if (!p.weights.empty() && p.weights.size() != a->files.size()) {
      fail(ErrorCode::kInvalidArgument,
           "--weights has {} values for {} model files; expected one each", p.weights.size(),
           a->files.size());
    }
    p.iou_thr = a->iou_thr;
    p.skip_box_thr = a->skip_thr;
    if (!a->conf_type.empty()) p.conf_type = detect::parse_conf_type(a->conf_type);
    p.corrected_conf = a->corrected_conf;
    if (!a->soft_method.empty()) p.soft_kind = detect::parse_soft_nms_kind(a->soft_method);
    p.sigma = a->sigma;
    p.thresh = a->thresh;
    p.decayed_scores = a->decayed;
    if (a->strict) p.bad_boxes = detect::BadBoxPolicy::kError;
    auto fuser = detect::make(a->method, p);

    std::vector<detect::DetectionsFile> files;
    for (const std::string& f : a->files) files.push_back(detect::read_detections_csv(f, format));
    std::vector<std::string> ids;
    const auto images = detect::align_models(files, ids);
    detect::Report r;
    std::vector<std::vector<detect::Box>> fused;
    try {
      fused = detect::fuse_batch(*fuser, images, &r, a->threads);
    } catch (const Error& e) {
      // Name the image by its id rather than its position.
      std::string msg = e.what();
      if (msg.rfind("image ", 0) == 0) {
        const std::size_t colon = msg.find(':');
        const std::size_t idx = std::stoul(msg.substr(6, colon - 6));
        msg = fmt::format("image_id {}{}", ids.at(idx), msg.substr(colon));
      }
      throw Error(e.code(), msg);
    }
    detect::write_detections_csv(a->out, ids, fused, format);
    if (a->json) {
      print_json({{"method", fuser->info().name},
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
    fmt::print("{}: {} images, {} boxes from {} models -> {} boxes in {}\n", fuser->info().name,
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

}  // namespace compe::cli
