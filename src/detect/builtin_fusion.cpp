// The table of built-in fusion methods, name parsing and parameter checks.
#include <array>
#include <cmath>
#include <string>
#include <vector>

#include "compe/detect.hpp"
#include "compe/error.hpp"
#include "compe/registry.hpp"
#include "compe/util.hpp"
#include "detect/fusion_impl.hpp"

namespace compe::detect {
namespace {

const Registry<Info>& registry() {
  static const Registry<Info> r(
      "fusion method",
      {
          {.name = "wbf",
           .aliases = {"weighted_boxes_fusion"},
           .summary = "weighted boxes fusion: clusters overlapping boxes and averages them by score",
           .uses = kUsesWeights | kUsesIouThr | kUsesSkipThr | kUsesConfType,
           .default_iou_thr = 0.55,
           .weights_scale_by_sum = false,
           .fuses_coordinates = true,
           .factory = make_wbf},
          {.name = "nms",
           .aliases = {},
           .summary = "non-maximum suppression per label: keeps the best box of each overlapping group",
           .uses = kUsesWeights | kUsesIouThr,
           .default_iou_thr = 0.5,
           .weights_scale_by_sum = true,
           .fuses_coordinates = false,
           .factory = make_nms},
          {.name = "soft_nms",
           .aliases = {"softnms"},
           .summary = "soft-NMS per label: decays overlapping scores (linear or gaussian), drops those "
                      "<= thresh",
           .uses = kUsesWeights | kUsesIouThr | kUsesSoftNms,
           .default_iou_thr = 0.5,
           .weights_scale_by_sum = true,
           .fuses_coordinates = false,
           .factory = make_soft_nms},
          {.name = "nmw",
           .aliases = {"non_maximum_weighted"},
           .summary = "non-maximum weighted: the best box of each cluster, corners averaged by score x IoU",
           .uses = kUsesWeights | kUsesIouThr | kUsesSkipThr,
           .default_iou_thr = 0.55,
           .weights_scale_by_sum = false,
           .fuses_coordinates = true,
           .factory = make_nmw},
      });
  return r;
}

constexpr std::array<std::string_view, 4> kConfTypeNames = {"avg", "max", "box_and_model_avg",
                                                            "absent_model_aware_avg"};

}  // namespace

std::string_view conf_type_name(ConfType t) {
  return kConfTypeNames[static_cast<std::size_t>(t)];
}

ConfType parse_conf_type(std::string_view name) {
  for (std::size_t i = 0; i < kConfTypeNames.size(); ++i) {
    if (kConfTypeNames[i] == name) return static_cast<ConfType>(i);
  }
  std::vector<std::string> names(kConfTypeNames.begin(), kConfTypeNames.end());
  fail(ErrorCode::kInvalidArgument, "unknown conf_type '{}'; expected one of {}", name,
       join(names));
}

std::string_view soft_nms_kind_name(SoftNmsKind k) {
  return k == SoftNmsKind::kLinear ? "linear" : "gaussian";
}

SoftNmsKind parse_soft_nms_kind(std::string_view name) {
  if (name == "linear" || name == "1") return SoftNmsKind::kLinear;
  if (name == "gaussian" || name == "2") return SoftNmsKind::kGaussian;
  fail(ErrorCode::kInvalidArgument, "unknown soft-NMS method '{}'; expected linear or gaussian",
       name);
}

std::span<const Info> builtin() { return registry().rows(); }

const Info& find(std::string_view name) { return registry().find(name); }

std::unique_ptr<Fuser> make(std::string_view name, Params p) {
  const Info& info = find(name);
  const Params def;
  auto unused = [&](unsigned flag, bool given, std::string_view param) {
    if (given && (info.uses & flag) == 0) {
      fail(ErrorCode::kInvalidArgument, "fusion method '{}' does not take {}", info.name, param);
    }
  };
  unused(kUsesSkipThr, p.skip_box_thr != def.skip_box_thr, "skip_box_thr");
  unused(kUsesConfType, p.conf_type != def.conf_type, "conf_type");
  unused(kUsesConfType, p.allows_overflow, "allows_overflow");
  unused(kUsesConfType, p.corrected_conf, "corrected_conf");
  unused(kUsesSoftNms,
         p.soft_kind != def.soft_kind || p.sigma != def.sigma || p.thresh != def.thresh ||
             p.decayed_scores,
         "soft-NMS parameters (method, sigma, thresh, decayed_scores)");
  if (p.corrected_conf && (p.conf_type != ConfType::kAvg || p.allows_overflow)) {
    fail(ErrorCode::kInvalidArgument,
         "corrected_conf applies to conf_type avg without allows_overflow; got conf_type {}{}",
         conf_type_name(p.conf_type), p.allows_overflow ? " with allows_overflow" : "");
  }
  if (!p.weights.empty()) {
    double sum = 0;
    for (std::size_t i = 0; i < p.weights.size(); ++i) {
      const double w = p.weights[i];
      if (!std::isfinite(w) || w < 0) {
        fail(ErrorCode::kInvalidArgument, "weight {} is {}; expected a finite number >= 0", i, w);
      }
      sum += w;
    }
    if (!(sum > 0)) {
      fail(ErrorCode::kInvalidArgument, "weights sum to {}; expected a positive sum", sum);
    }
  }
  if (p.iou_thr && !(*p.iou_thr >= 0.0 && *p.iou_thr <= 1.0)) {
    fail(ErrorCode::kInvalidArgument, "iou_thr is {}; expected a number in [0, 1]", *p.iou_thr);
  }
  if (!std::isfinite(p.skip_box_thr)) {
    fail(ErrorCode::kInvalidArgument, "skip_box_thr is {}; expected a finite number",
         p.skip_box_thr);
  }
  if (!(p.sigma > 0.0) || !std::isfinite(p.sigma)) {
    fail(ErrorCode::kInvalidArgument, "sigma is {}; expected a finite number > 0", p.sigma);
  }
  if (!std::isfinite(p.thresh)) {
    fail(ErrorCode::kInvalidArgument, "thresh is {}; expected a finite number", p.thresh);
  }
  return info.factory(info, std::move(p));
}

}  // namespace compe::detect
