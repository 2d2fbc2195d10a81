// Detection metrics: COCO-style mAP (pycocotools' COCOeval for bbox), the Kaggle per-image metric
// (Global Wheat Detection) and F-beta at IoU thresholds, and their registry rows.
// Definitions: include/compe/detection_metrics.hpp.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "compe/detection_metrics.hpp"
#include "compe/error.hpp"
#include "compe/registry.hpp"
#include "compe/util.hpp"
#include "metric/detail.hpp"

namespace compe::metric {
namespace {

double box_area(const DetBox& b) { return (b.x2 - b.x1) * (b.y2 - b.y1); }

/// IoU; with crowd = true the union is the detection's area (COCO's rule for crowd regions).
double det_iou(const DetBox& d, const DetBox& g, bool crowd) {
  const double w = std::min(d.x2, g.x2) - std::max(d.x1, g.x1);
  if (w <= 0) return 0;
  const double h = std::min(d.y2, g.y2) - std::max(d.y1, g.y1);
  if (h <= 0) return 0;
  const double inter = w * h;
  const double u = crowd ? box_area(d) : box_area(d) + box_area(g) - inter;
  return inter / u;
}

void check_lists(const BoxLists& gt, const BoxLists& pred, std::string_view metric) {
  if (gt.rows() != pred.rows()) {
    fail(ErrorCode::kInvalidArgument,
         "{}: {} images of predictions for {} images of ground truth; expected one row each",
         metric, pred.rows(), gt.rows());
  }
  for (const BoxLists* l : {&gt, &pred}) {
    for (std::size_t i = 0; i < l->rows(); ++i) {
      for (const DetBox& b : l->row(i)) {
        if (!(std::isfinite(b.x1) && std::isfinite(b.y1) && std::isfinite(b.x2) &&
              std::isfinite(b.y2) && std::isfinite(b.score))) {
          fail(ErrorCode::kInvalidArgument,
               "{}: row {}: a {} box has a NaN or infinite coordinate or score", metric, i,
               l == &gt ? "ground-truth" : "predicted");
        }
      }
    }
  }
}

/// Indices of `boxes` sorted by descending score, stable (NumPy's mergesort of -score).
void order_by_score(std::span<const DetBox> boxes, std::vector<std::size_t>& idx) {
  idx.resize(boxes.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(),
                   [&](std::size_t a, std::size_t b) { return boxes[a].score > boxes[b].score; });
}

// ---------------------------------------------------------------- COCO

/// One image's evaluation for one category and area range (pycocotools' evaluateImg).
struct ImgEval {
  std::size_t image = 0;
  std::vector<double> scores;         // sorted descending, at most maxDets.back()
  std::vector<std::uint8_t> matched;  // T x D
  std::vector<std::uint8_t> ignored;  // T x D
  std::size_t npig = 0;               // non-ignored ground truth
};

struct CatImage {
  std::size_t cat = 0;
  std::size_t area = 0;
  ImgEval ev;
};

std::vector<double> default_iou_thrs() {
  // np.linspace(.5, 0.95, 10): i * step + start, the last value set to stop.
  const double step = (0.95 - 0.5) / 9;
  std::vector<double> t(10);
  for (std::size_t i = 0; i < 10; ++i) t[i] = static_cast<double>(i) * step + 0.5;
  t[9] = 0.95;
  return t;
}

void evaluate_image(std::size_t image, std::span<const DetBox> gts, std::span<const DetBox> dts,
                    std::size_t cat_index, std::int64_t cat, const CocoParams& p,
                    std::span<const double> thrs, std::vector<CatImage>& out) {
  std::vector<const DetBox*> g, d;
  for (const DetBox& b : gts)
    if (b.label == cat) g.push_back(&b);
  for (const DetBox& b : dts)
    if (b.label == cat) d.push_back(&b);
  if (g.empty() && d.empty()) return;
  std::stable_sort(d.begin(), d.end(),
                   [](const DetBox* a, const DetBox* b) { return a->score > b->score; });
  const std::size_t max_det = p.max_dets.back();
  if (d.size() > max_det) d.resize(max_det);
  const std::size_t T = thrs.size(), D = d.size();
  std::vector<double> ious;
  std::vector<const DetBox*> gs;
  std::vector<std::uint8_t> g_ig;
  std::vector<std::uint8_t> gt_matched;
  for (std::size_t a = 0; a < p.area_rngs.size(); ++a) {
    const auto [lo, hi] = p.area_rngs[a];
    // Ground truth: non-ignored first, order kept otherwise.
    gs.clear();
    g_ig.clear();
    for (int pass = 0; pass < 2; ++pass) {
      for (const DetBox* b : g) {
        const double area = std::isnan(b->area) ? box_area(*b) : b->area;
        const bool ig = b->crowd || area < lo || area > hi;
        if (ig == (pass == 1)) {
          gs.push_back(b);
          g_ig.push_back(ig ? 1 : 0);
        }
      }
    }
    const std::size_t G = gs.size();
    ious.assign(D * G, 0.0);
    for (std::size_t di = 0; di < D; ++di)
      for (std::size_t gi = 0; gi < G; ++gi) ious[di * G + gi] = det_iou(*d[di], *gs[gi], gs[gi]->crowd);
    CatImage ci;
    ci.cat = cat_index;
    ci.area = a;
    ImgEval& ev = ci.ev;
    ev.image = image;
    ev.scores.resize(D);
    for (std::size_t di = 0; di < D; ++di) ev.scores[di] = d[di]->score;
    ev.matched.assign(T * D, 0);
    ev.ignored.assign(T * D, 0);
    for (std::uint8_t ig : g_ig) ev.npig += ig ? 0 : 1;
    for (std::size_t t = 0; t < T; ++t) {
      gt_matched.assign(G, 0);
      for (std::size_t di = 0; di < D; ++di) {
        double best = std::min(thrs[t], 1 - 1e-10);
        std::ptrdiff_t m = -1;
        for (std::size_t gi = 0; gi < G; ++gi) {
          if (gt_matched[gi] && !gs[gi]->crowd) continue;
          if (m > -1 && g_ig[static_cast<std::size_t>(m)] == 0 && g_ig[gi] == 1) break;
          if (ious[di * G + gi] < best) continue;
          best = ious[di * G + gi];
          m = static_cast<std::ptrdiff_t>(gi);
        }
        if (m == -1) continue;
        ev.ignored[t * D + di] = g_ig[static_cast<std::size_t>(m)];
        ev.matched[t * D + di] = 1;
        gt_matched[static_cast<std::size_t>(m)] = 1;
      }
      for (std::size_t di = 0; di < D; ++di) {
        const double area = box_area(*d[di]);
        if (!ev.matched[t * D + di] && (area < lo || area > hi)) ev.ignored[t * D + di] = 1;
      }
    }
    out.push_back(std::move(ci));
  }
}

/// Mean of the entries > -1, or -1 when there are none.
double mean_valid(const std::vector<double>& v) {
  double sum = 0;
  std::size_t n = 0;
  for (double x : v)
    if (x > -1) {
      sum += x;
      ++n;
    }
  return n ? sum / static_cast<double>(n) : -1.0;
}

}  // namespace

// long-function: COCO's matching and accumulation share one set of sizes and arrays (images,
// categories, areas, max detections, IoU thresholds); split, each part would take them all.
CocoResult coco_evaluate(const BoxLists& gt, const BoxLists& pred,
                         std::span<const std::int64_t> categories, const CocoParams& params) {
  check_lists(gt, pred, "coco_map");
  if (params.max_dets.empty() || params.area_rngs.empty()) {
    fail(ErrorCode::kInvalidArgument, "coco_map: max_dets and area ranges must not be empty");
  }
  std::vector<double> thrs = params.iou_thrs.empty() ? default_iou_thrs() : params.iou_thrs;
  std::vector<std::int64_t> cats(categories.begin(), categories.end());
  if (cats.empty()) {
    for (const DetBox& b : gt.boxes) cats.push_back(b.label);
  }
  std::sort(cats.begin(), cats.end());
  cats.erase(std::unique(cats.begin(), cats.end()), cats.end());
  const std::size_t I = gt.rows(), K = cats.size(), A = params.area_rngs.size(),
                    M = params.max_dets.size(), T = thrs.size();
  constexpr std::size_t R = 101;
  // Per image, in parallel; then bucketed by (category, area) in image order.
  std::vector<std::vector<CatImage>> per_image(I);
  parallel_for(I, 0, [&](std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) {
      const auto g = gt.row(i), d = pred.row(i);
      std::vector<std::int64_t> present;
      for (const DetBox& b : g) present.push_back(b.label);
      for (const DetBox& b : d) present.push_back(b.label);
      std::sort(present.begin(), present.end());
      present.erase(std::unique(present.begin(), present.end()), present.end());
      for (std::int64_t c : present) {
        auto it = std::lower_bound(cats.begin(), cats.end(), c);
        if (it == cats.end() || *it != c) continue;
        evaluate_image(i, g, d, static_cast<std::size_t>(it - cats.begin()), c, params, thrs,
                       per_image[i]);
      }
    }
  });
  std::vector<std::vector<const ImgEval*>> bucket(K * A);
  for (const auto& v : per_image)
    for (const CatImage& ci : v) bucket[ci.cat * A + ci.area].push_back(&ci.ev);

  // precision[t][r][k][a][m], recall[t][k][a][m], -1 where not evaluable.
  std::vector<double> precision(T * R * K * A * M, -1.0), recall(T * K * A * M, -1.0);
  auto pidx = [&](std::size_t t, std::size_t r, std::size_t k, std::size_t a, std::size_t m) {
    return (((t * R + r) * K + k) * A + a) * M + m;
  };
  auto ridx = [&](std::size_t t, std::size_t k, std::size_t a, std::size_t m) {
    return ((t * K + k) * A + a) * M + m;
  };
  std::vector<double> rec_thrs(R);
  for (std::size_t r = 0; r < R; ++r) rec_thrs[r] = static_cast<double>(r) * 0.01;
  rec_thrs[R - 1] = 1.0;
  const double eps = std::numeric_limits<double>::epsilon();
  parallel_for(K * A, 0, [&](std::size_t begin, std::size_t end) {
    std::vector<double> scores, rc, pr;
    std::vector<std::size_t> order;
    std::vector<std::pair<const ImgEval*, std::size_t>> src;
    for (std::size_t ka = begin; ka < end; ++ka) {
      const std::size_t k = ka / A, a = ka % A;
      const auto& evs = bucket[ka];
      std::size_t npig = 0;
      for (const ImgEval* e : evs) npig += e->npig;
      if (npig == 0) continue;
      for (std::size_t m = 0; m < M; ++m) {
        const std::size_t max_det = params.max_dets[m];
        scores.clear();
        src.clear();
        for (const ImgEval* e : evs) {
          for (std::size_t di = 0; di < std::min(max_det, e->scores.size()); ++di) {
            scores.push_back(e->scores[di]);
            src.emplace_back(e, di);
          }
        }
        order.resize(scores.size());
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(),
                         [&](std::size_t x, std::size_t y) { return scores[x] > scores[y]; });
        const std::size_t nd = order.size();
        for (std::size_t t = 0; t < T; ++t) {
          rc.resize(nd);
          pr.resize(nd);
          double tp = 0, fp = 0;
          for (std::size_t j = 0; j < nd; ++j) {
            const auto [e, di] = src[order[j]];
            const std::size_t D = e->scores.size();
            const bool ig = e->ignored[t * D + di] != 0;
            const bool mt = e->matched[t * D + di] != 0;
            if (!ig) (mt ? tp : fp) += 1;
            rc[j] = tp / static_cast<double>(npig);
            pr[j] = tp / (fp + tp + eps);
          }
          recall[ridx(t, k, a, m)] = nd ? rc[nd - 1] : 0.0;
          for (std::size_t j = nd; j-- > 1;)
            if (pr[j] > pr[j - 1]) pr[j - 1] = pr[j];
          for (std::size_t r = 0; r < R; ++r) {
            const std::size_t pi =
                static_cast<std::size_t>(std::lower_bound(rc.begin(), rc.end(), rec_thrs[r]) - rc.begin());
            // Past the last recall reached pycocotools leaves 0.
            precision[pidx(t, r, k, a, m)] = pi < nd ? pr[pi] : 0.0;
          }
        }
      }
    }
  });

  CocoResult res;
  res.categories = cats;
  auto find_thr = [&](double v) -> std::ptrdiff_t {
    for (std::size_t t = 0; t < T; ++t)
      if (thrs[t] == v) return static_cast<std::ptrdiff_t>(t);
    return -1;
  };
  auto find_m = [&](std::size_t md) -> std::ptrdiff_t {
    for (std::size_t m = 0; m < M; ++m)
      if (params.max_dets[m] == md) return static_cast<std::ptrdiff_t>(m);
    return -1;
  };
  const std::size_t last_m = M - 1;
  auto ap = [&](std::ptrdiff_t t_only, std::size_t a, std::size_t m) {
    std::vector<double> v;
    if (a >= A || t_only == -2) return -1.0;
    for (std::size_t t = 0; t < T; ++t) {
      if (t_only >= 0 && t != static_cast<std::size_t>(t_only)) continue;
      for (std::size_t r = 0; r < R; ++r)
        for (std::size_t k = 0; k < K; ++k) v.push_back(precision[pidx(t, r, k, a, m)]);
    }
    return mean_valid(v);
  };
  auto ar = [&](std::size_t a, std::ptrdiff_t m) {
    if (a >= A || m < 0) return -1.0;
    std::vector<double> v;
    for (std::size_t t = 0; t < T; ++t)
      for (std::size_t k = 0; k < K; ++k) v.push_back(recall[ridx(t, k, a, static_cast<std::size_t>(m))]);
    return mean_valid(v);
  };
  auto thr_or_none = [&](double v) {
    const std::ptrdiff_t t = find_thr(v);
    return t < 0 ? std::ptrdiff_t{-2} : t;
  };
  res.stats[0] = ap(-1, 0, last_m);
  res.stats[1] = ap(thr_or_none(0.5), 0, last_m);
  res.stats[2] = ap(thr_or_none(0.75), 0, last_m);
  res.stats[3] = ap(-1, 1, last_m);
  res.stats[4] = ap(-1, 2, last_m);
  res.stats[5] = ap(-1, 3, last_m);
  res.stats[6] = ar(0, find_m(1));
  res.stats[7] = ar(0, find_m(10));
  res.stats[8] = ar(0, find_m(100));
  res.stats[9] = ar(1, find_m(100));
  res.stats[10] = ar(2, find_m(100));
  res.stats[11] = ar(3, find_m(100));
  const std::ptrdiff_t t50 = find_thr(0.5);
  for (std::size_t k = 0; k < K; ++k) {
    std::vector<double> all, at50;
    for (std::size_t t = 0; t < T; ++t)
      for (std::size_t r = 0; r < R; ++r) {
        all.push_back(precision[pidx(t, r, k, 0, last_m)]);
        if (static_cast<std::ptrdiff_t>(t) == t50) at50.push_back(precision[pidx(t, r, k, 0, last_m)]);
      }
    res.class_ap.push_back(mean_valid(all));
    res.class_ap50.push_back(mean_valid(at50));
  }
  return res;
}

// ---------------------------------------------------------------- greedy matching

namespace {

/// TP and FP of one image at one IoU threshold, predictions already in score order; matching is
/// within a label. `matched` is scratch.
void greedy_counts(std::span<const DetBox> gts, std::span<const DetBox> preds,
                   std::span<const std::size_t> order, double thr, std::vector<std::uint8_t>& matched,
                   std::size_t& tp, std::size_t& fp, std::size_t& fn) {
  matched.assign(gts.size(), 0);
  tp = fp = 0;
  for (std::size_t j : order) {
    const DetBox& p = preds[j];
    double best = -1;
    std::ptrdiff_t bi = -1;
    for (std::size_t g = 0; g < gts.size(); ++g) {
      if (matched[g] || gts[g].label != p.label) continue;
      const double v = det_iou(p, gts[g], false);
      if (v < thr) continue;
      if (v > best) {
        best = v;
        bi = static_cast<std::ptrdiff_t>(g);
      }
    }
    if (bi >= 0) {
      matched[static_cast<std::size_t>(bi)] = 1;
      ++tp;
    } else {
      ++fp;
    }
  }
  fn = gts.size() - tp;
}

/// The decimal thresholds start, start + 0.05, ... as the doubles nearest to them (hundredths).
std::vector<double> decimal_thresholds(int start_hundredths, std::size_t n) {
  std::vector<double> t(n);
  for (std::size_t i = 0; i < n; ++i)
    t[i] = static_cast<double>(start_hundredths + 5 * static_cast<int>(i)) / 100.0;
  return t;
}

}  // namespace

double kaggle_map(const BoxLists& gt, const BoxLists& pred, double min_score,
                  std::vector<double>* per_image) {
  check_lists(gt, pred, "kaggle_map");
  const std::size_t n = gt.rows();
  if (n == 0) fail(ErrorCode::kInvalidArgument, "kaggle_map: no images to score");
  const std::vector<double> thrs = decimal_thresholds(50, 6);
  std::vector<double> scores(n, 0.0);
  parallel_for(n, 0, [&](std::size_t begin, std::size_t end) {
    std::vector<DetBox> kept;
    std::vector<std::size_t> order;
    std::vector<std::uint8_t> matched;
    for (std::size_t i = begin; i < end; ++i) {
      kept.clear();
      for (const DetBox& b : pred.row(i))
        if (b.score >= min_score) kept.push_back(b);
      const auto g = gt.row(i);
      if (g.empty() && kept.empty()) {
        scores[i] = 1.0;
        continue;
      }
      order_by_score(kept, order);
      double sum = 0;
      for (double t : thrs) {
        std::size_t tp = 0, fp = 0, fn = 0;
        greedy_counts(g, kept, order, t, matched, tp, fp, fn);
        sum += static_cast<double>(tp) / static_cast<double>(tp + fp + fn);
      }
      scores[i] = sum / static_cast<double>(thrs.size());
    }
  });
  double total = 0;
  for (double s : scores) total += s;
  if (per_image) *per_image = scores;
  return total / static_cast<double>(n);
}

double iou_fbeta(const BoxLists& gt, const BoxLists& pred, double beta,
                 std::span<const double> thresholds) {
  check_lists(gt, pred, "det_fbeta");
  if (!(std::isfinite(beta) && beta > 0)) {
    fail(ErrorCode::kInvalidArgument, "det_fbeta: beta is {}; expected a number > 0",
         fmt::format("{}", beta));
  }
  std::vector<double> thrs(thresholds.begin(), thresholds.end());
  if (thrs.empty()) thrs = decimal_thresholds(30, 11);
  const std::size_t n = gt.rows(), T = thrs.size();
  std::vector<std::size_t> counts(n * T * 3, 0);
  parallel_for(n, 0, [&](std::size_t begin, std::size_t end) {
    std::vector<std::size_t> order;
    std::vector<std::uint8_t> matched;
    for (std::size_t i = begin; i < end; ++i) {
      const auto p = pred.row(i);
      order_by_score(p, order);
      for (std::size_t t = 0; t < T; ++t) {
        std::size_t* c = &counts[(i * T + t) * 3];
        greedy_counts(gt.row(i), p, order, thrs[t], matched, c[0], c[1], c[2]);
      }
    }
  });
  const double b2 = beta * beta;
  double sum = 0;
  for (std::size_t t = 0; t < T; ++t) {
    double tp = 0, fp = 0, fn = 0;
    for (std::size_t i = 0; i < n; ++i) {
      tp += static_cast<double>(counts[(i * T + t) * 3]);
      fp += static_cast<double>(counts[(i * T + t) * 3 + 1]);
      fn += static_cast<double>(counts[(i * T + t) * 3 + 2]);
    }
    const double den = (1 + b2) * tp + b2 * fn + fp;
    sum += den > 0 ? (1 + b2) * tp / den : 0.0;
  }
  return sum / static_cast<double>(T);
}

// ---------------------------------------------------------------- registry

namespace {

enum class Kind { kMap, kMap50, kKaggle, kFbeta };

class DetectionMetric final : public Metric {
 public:
  DetectionMetric(const Info& info, std::string spec, Kind kind, double arg)
      : Metric(info, std::move(spec)), kind_(kind), arg_(arg) {}

  double score(const Inputs& in) const override {
    const std::string& name = spec();
    if (in.true_boxes == nullptr || in.pred_boxes == nullptr) {
      fail(ErrorCode::kInvalidArgument,
           "metric '{}' scores boxes per image (true_boxes and pred_boxes); got none", name);
    }
    if (!in.weights.empty()) {
      fail(ErrorCode::kInvalidArgument, "metric '{}' takes no weights", name);
    }
    const BoxLists& g = *in.true_boxes;
    const BoxLists& p = *in.pred_boxes;
    check_lists(g, p, name);
    switch (kind_) {
      case Kind::kMap:
      case Kind::kMap50: {
        const CocoResult r = coco_evaluate(g, p);
        const double v = r.stats[kind_ == Kind::kMap ? 0 : 1];
        if (v < 0) {
          fail(ErrorCode::kInvalidArgument,
               "metric '{}': the ground truth has no object that is not a crowd region", name);
        }
        return v;
      }
      case Kind::kKaggle:
        return kaggle_map(g, p, arg_);
      case Kind::kFbeta:
        return iou_fbeta(g, p, arg_);
    }
    return 0;
  }

 private:
  Kind kind_;
  double arg_;
};

std::unique_ptr<Metric> new_detection_metric(const Info& info, std::optional<double> arg) {
  Kind kind = Kind::kMap;
  double value = 0;
  std::string spec = info.name;
  if (info.name == "coco_map50") kind = Kind::kMap50;
  if (info.name == "kaggle_map") {
    kind = Kind::kKaggle;
    value = arg.value_or(0.0);
  }
  if (info.name == "det_fbeta") {
    kind = Kind::kFbeta;
    value = arg.value_or(1.0);
    if (!(value > 0)) {
      fail(ErrorCode::kInvalidArgument, "metric 'det_fbeta': beta must be > 0, got {}",
           fmt::format("{}", value));
    }
  }
  if (arg) spec = fmt::format("{}@{}", info.name, fmt::format("{}", *arg));
  return std::make_unique<DetectionMetric>(info, spec, kind, value);
}

}  // namespace

namespace detail {

std::vector<Info> detection_rows() {
  constexpr auto kMax = Direction::kMaximize;
  std::vector<Info> rows;
  rows.push_back({.name = "coco_map",
                  .aliases = {"map_50_95", "det_map"},
                  .summary = "COCO mAP@[.5:.95]: 101-point AP over 10 IoU thresholds, maxDets 100, "
                             "crowd ignored, mean over classes",
                  .direction = kMax,
                  .tasks = kDetection,
                  .needs_proba = true,
                  .factory = new_detection_metric});
  rows.push_back({.name = "coco_map50",
                  .aliases = {"map_50", "det_map50"},
                  .summary = "COCO AP at IoU 0.5 (101-point), maxDets 100, mean over classes",
                  .direction = kMax,
                  .tasks = kDetection,
                  .needs_proba = true,
                  .factory = new_detection_metric});
  rows.push_back({.name = "kaggle_map",
                  .aliases = {"wheat_map"},
                  .summary = "per image TP/(TP+FP+FN) over IoU 0.5:0.05:0.75, greedy by score "
                             "(Global Wheat), mean over images",
                  .direction = kMax,
                  .tasks = kDetection,
                  .needs_proba = true,
                  .arg = ArgKind::kOptionalReal,
                  .arg_help = "s: predictions with score < s are dropped (default 0)",
                  .factory = new_detection_metric});
  rows.push_back({.name = "det_fbeta",
                  .aliases = {"iou_fbeta"},
                  .summary = "F-beta of dataset TP/FP/FN, mean over IoU 0.3:0.05:0.8, greedy by score",
                  .direction = kMax,
                  .tasks = kDetection,
                  .needs_proba = true,
                  .arg = ArgKind::kOptionalReal,
                  .arg_help = "beta: weight of recall (default 1; 2 = F2)",
                  .factory = new_detection_metric});
  return rows;
}

}  // namespace detail

std::string detection_metric_spec(std::string_view spec) {
  const NameSpec parts = split_spec(spec);
  std::string_view name = parts.name;
  for (const auto& [short_name, registry_name] : kDetectionShortNames)
    if (iequals(name, short_name)) name = registry_name;
  const Info& info = find(name);
  if (!info.accepts(kDetection)) {
    std::vector<std::string> names;
    for (const auto& [short_name, registry_name] : kDetectionShortNames) names.emplace_back(short_name);
    for (const Info& i : builtin())
      if (i.accepts(kDetection)) names.push_back(i.name);
    fail(ErrorCode::kInvalidArgument, "metric '{}' does not score detections; expected one of {}",
         spec, join(names));
  }
  return parts.arg ? fmt::format("{}@{}", info.name, *parts.arg) : info.name;
}

}  // namespace compe::metric
