// Shake-up for detection and segmentation competitions: images are the units a split moves
// between public and private; each candidate is validated and scored as `compe score` does.
#include "shake/images.hpp"

#include <memory>
#include <optional>

#include <toml++/toml.h>

#include "compe/error.hpp"
#include "compe/json_input.hpp"
#include "compe/score.hpp"
#include "compe/util.hpp"

namespace compe::shake::detail {
namespace fs = std::filesystem;

namespace {

/// The class names (detection labels written as names, segmentation keys): compe.toml's
/// [competition] classes, else the `classes` of the meta.json beside the solution.
std::vector<std::string> workspace_classes(const Workspace& ws) {
  std::vector<std::string> out;
  try {
    const toml::table doc = toml::parse_file(ws.config_path().string());
    if (const toml::array* a = doc["competition"]["classes"].as_array())
      for (const auto& v : *a)
        if (auto name = v.value<std::string>()) out.push_back(*name);
  } catch (const toml::parse_error&) {
    // The workspace opened, so compe.toml parsed there; nothing more to learn here.
  }
  const fs::path meta = ws.resolve(*ws.config().solution).parent_path() / "meta.json";
  if (out.empty() && fs::exists(meta)) {
    const nlohmann::json doc = read_json_file(meta);
    const JsonAt j(doc, meta.string());
    if (auto classes = j.object().find("classes")) out = classes->strings();
  }
  return out;
}

score::Options options_for(const Workspace& ws, const Table& solution) {
  const CompetitionConfig& cfg = ws.config();
  score::Options so;
  so.metric = cfg.metric;
  so.id_column = solution.has(cfg.id_column) ? cfg.id_column : std::string();
  so.classes = workspace_classes(ws);
  if (metric::make(cfg.metric)->info().accepts(metric::kSegmentation) && !(solution.has("width") && solution.has("height"))) {
    const Table test = ws.read_test();
    if (test.has("width") && test.has("height")) so.image_sizes = score::read_image_sizes(test, cfg.id_column);
  }
  return so;
}

Table read_table(const fs::path& path) {
  CsvReadOptions ro;
  ro.display_name = path.string();
  return read_csv(path, ro);
}

/// Per candidate and image: the sums a Dice or IoU part needs.
struct MaskSums {
  std::vector<double> dice, iou;           ///< sum over the image's scored masks
  std::vector<std::int64_t> inter, areas;  ///< pooled sums (dice_global)
};

/// Segmentation: units are images with a scored mask; per image the number of scored masks.
struct MaskProblem {
  std::string name;  ///< dice, dice_global or iou
  std::vector<std::size_t> masks;  ///< scored masks per unit
  std::vector<MaskSums> sums;      ///< per candidate

  double score(std::size_t k, std::span<const std::uint32_t> count) const {
    const MaskSums& s = sums[k];
    double num = 0, den = 0;
    for (std::size_t u = 0; u < count.size(); ++u) {
      if (count[u] == 0) continue;
      const double c = count[u];
      if (name == "dice_global") {
        num += c * 2.0 * static_cast<double>(s.inter[u]);
        den += c * static_cast<double>(s.areas[u]);
      } else {
        num += c * (name == "iou" ? s.iou[u] : s.dice[u]);
        den += c * static_cast<double>(masks[u]);
      }
    }
    if (name == "dice_global") return den == 0 ? 1.0 : num / den;
    if (den == 0) fail(ErrorCode::kInvalidArgument, "no mask in the part");
    return num / den;
  }
};

/// Detection: units are scored images; each part's boxes go to the metric anew.
struct BoxProblem {
  std::unique_ptr<metric::Metric> scorer;
  std::vector<std::size_t> image;  ///< unit -> image row of the prepared lists
  metric::BoxLists truth;
  std::vector<metric::BoxLists> preds;  ///< per candidate

  double score(std::size_t k, std::span<const std::uint32_t> count) const {
    metric::BoxLists g, p;
    bool any_truth = false;
    for (std::size_t u = 0; u < count.size(); ++u)
      for (std::uint32_t c = 0; c < count[u]; ++c) {
        g.push_row(truth.row(image[u]));
        p.push_row(preds[k].row(image[u]));
        any_truth = any_truth || !truth.row(image[u]).empty();
      }
    const std::string& name = scorer->info().name;
    if (!any_truth && (name == "coco_map" || name == "coco_map50"))
      fail(ErrorCode::kInvalidArgument,
           "no ground-truth box in the part, where COCO AP is undefined; use more test images or a larger public "
           "fraction");
    metric::Inputs in;
    in.true_boxes = &g;
    in.pred_boxes = &p;
    return scorer->score(in);
  }
};

void add_actual(Candidate& c, const Table& solution, const Table& submission, const score::Options& so) {
  const score::Result actual = score::score_submission(solution, submission, so);
  c.actual_public = actual.public_score;
  c.actual_private = actual.private_score;
}

Loaded load_masks(const Table& solution, const std::vector<ImageCandidate>& inputs, const score::Options& so) {
  auto mp = std::make_shared<MaskProblem>();
  mp->name = metric::make(so.metric)->info().name;
  Loaded out;
  std::vector<std::size_t> unit_of_image;  // image -> unit, or npos
  std::size_t pub = 0;
  for (const auto& input : inputs) {
    Candidate c{input.name, input.label, {}, {}, {}};
    const Table sub = read_table(input.submission);
    score::PreparedMasks p;
    try {
      p = score::prepare_segmentation(solution, sub, so);
      add_actual(c, solution, sub, so);
    } catch (const Error& e) {
      fail(e.code(), "candidate {}: {}", c.name, e.what());
    }
    if (unit_of_image.empty()) {
      unit_of_image.assign(p.images.size(), std::string::npos);
      for (std::size_t r = 0; r < p.usage.size(); ++r) {
        if (p.usage[r] == score::Usage::kIgnored) continue;
        std::size_t& u = unit_of_image[p.image_of[r]];
        if (u == std::string::npos) {
          u = mp->masks.size();
          mp->masks.push_back(0);
          pub += p.usage[r] == score::Usage::kPublic;
        }
        ++mp->masks[u];
      }
    }
    MaskSums s{std::vector<double>(mp->masks.size()), std::vector<double>(mp->masks.size()),
               std::vector<std::int64_t>(mp->masks.size()), std::vector<std::int64_t>(mp->masks.size())};
    for (std::size_t r = 0; r < p.usage.size(); ++r) {
      if (p.usage[r] == score::Usage::kIgnored) continue;
      const std::size_t u = unit_of_image[p.image_of[r]];
      s.dice[u] += segment::dice(p.truth[r], p.pred[r]);
      s.iou[u] += segment::iou(p.truth[r], p.pred[r]);
      s.inter[u] += segment::intersection(p.truth[r], p.pred[r]);
      s.areas[u] += p.truth[r].area() + p.pred[r].area();
    }
    mp->sums.push_back(std::move(s));
    out.problem.candidates.push_back(std::move(c));
  }
  out.problem.units = mp->masks.size();
  out.problem.part_scorer = [mp](std::size_t k, std::span<const std::uint32_t> count) { return mp->score(k, count); };
  if (pub > 0 && pub < out.problem.units)
    out.public_fraction = static_cast<double>(pub) / static_cast<double>(out.problem.units);
  return out;
}

Loaded load_boxes(const Table& solution, const std::vector<ImageCandidate>& inputs, const score::Options& so) {
  auto bp = std::make_shared<BoxProblem>();
  bp->scorer = metric::make(so.metric);
  Loaded out;
  std::size_t pub = 0;
  for (const auto& input : inputs) {
    Candidate c{input.name, input.label, {}, {}, {}};
    const Table sub = read_table(input.submission);
    score::PreparedBoxes p;
    try {
      p = score::prepare_detection(solution, sub, so);
      add_actual(c, solution, sub, so);
    } catch (const Error& e) {
      fail(e.code(), "candidate {}: {}", c.name, e.what());
    }
    if (bp->image.empty()) {
      bp->truth = p.truth;
      for (std::size_t i = 0; i < p.usage.size(); ++i)
        if (p.usage[i] != score::Usage::kIgnored) {
          bp->image.push_back(i);
          pub += p.usage[i] == score::Usage::kPublic;
        }
    }
    bp->preds.push_back(std::move(p.pred));
    out.problem.candidates.push_back(std::move(c));
  }
  out.problem.units = bp->image.size();
  out.problem.part_scorer = [bp](std::size_t k, std::span<const std::uint32_t> count) { return bp->score(k, count); };
  if (pub > 0 && pub < out.problem.units)
    out.public_fraction = static_cast<double>(pub) / static_cast<double>(out.problem.units);
  return out;
}

}  // namespace

Loaded load_image_candidates(const Workspace& ws, const Table& solution, const std::vector<ImageCandidate>& inputs) {
  const score::Options so = options_for(ws, solution);
  const bool detection = metric::make(so.metric)->info().accepts(metric::kDetection);
  Loaded out = detection ? load_boxes(solution, inputs, so) : load_masks(solution, inputs, so);
  out.mode = Mode::kResplit;
  out.problem.metric = so.metric;
  out.test_rows = out.problem.units;
  return out;
}

}  // namespace compe::shake::detail
