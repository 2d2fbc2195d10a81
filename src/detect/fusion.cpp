// Box fusion methods. Arithmetic mirrors ensemble_boxes 1.0.9 where it changes results: fused
// corners are accumulated and divided in float32 (the reference's fused box is a float32 array),
// sums run left to right, and every sort is NumPy's argsort reversed.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <mutex>
#include <span>
#include <vector>

#include "compe/detect.hpp"
#include "compe/error.hpp"
#include "compe/util.hpp"
#include "detect/fusion_impl.hpp"

namespace compe::detect {

double iou(const Coords& a, const Coords& b) {
  return iou_inline(a, b);
}

Report& Report::operator+=(const Report& o) {
  images += o.images;
  boxes_in += o.boxes_in;
  boxes_out += o.boxes_out;
  below_skip_thr += o.below_skip_thr;
  swapped_boxes += o.swapped_boxes;
  clipped_coords += o.clipped_coords;
  zero_area_dropped += o.zero_area_dropped;
  zero_conf_clusters += o.zero_conf_clusters;
  return *this;
}

Workspace::Workspace() : impl_(std::make_unique<Impl>()) {}
Workspace::~Workspace() = default;
Workspace::Workspace(Workspace&&) noexcept = default;
Workspace& Workspace::operator=(Workspace&&) noexcept = default;

std::vector<Box> Fuser::fuse(std::span<const ModelDetections> models, Report* report) const {
  Workspace ws;
  Report local;
  std::vector<Box> out;
  fuse(models, out, local, ws);
  if (report) *report += local;
  return out;
}

double Fuser::iou_thr() const {
  return params_.iou_thr.value_or(info_->default_iou_thr);
}

namespace {

double sum_seq(std::span<const double> v) {
  double s = 0.0;
  for (double x : v) s += x;
  return s;
}

// Checks one image's lists, applies the skip threshold and the bad-box policy, and appends the
// surviving boxes to ws.entries in input order (model, then box). `scale[m]` multiplies scores
// (divided by `divisor` afterwards, as the reference's nms does).
void collect(std::span<const ModelDetections> models, const Params& p, bool use_skip,
             std::span<const double> scale, double divisor, Report& report, Workspace::Impl& ws) {
  ws.entries.clear();
  for (std::size_t m = 0; m < models.size(); ++m) {
    const ModelDetections& md = models[m];
    if (md.boxes.size() != md.scores.size() || md.boxes.size() != md.labels.size()) {
      fail(ErrorCode::kInvalidArgument,
           "model {}: {} boxes, {} scores and {} labels; expected three lists of equal length", m,
           md.boxes.size(), md.scores.size(), md.labels.size());
    }
    report.boxes_in += md.boxes.size();
    for (std::size_t j = 0; j < md.boxes.size(); ++j) {
      const double score = md.scores[j];
      Coords c = md.boxes[j];
      if (!std::isfinite(score)) {
        fail(ErrorCode::kInvalidArgument, "model {}, box {}: score is {}; expected a finite number",
             m, j, score);
      }
      if (!std::isfinite(c.x1) || !std::isfinite(c.y1) || !std::isfinite(c.x2) ||
          !std::isfinite(c.y2)) {
        fail(ErrorCode::kInvalidArgument,
             "model {}, box {}: corners ({}, {}, {}, {}); expected finite numbers", m, j, c.x1,
             c.y1, c.x2, c.y2);
      }
      if (use_skip && score < p.skip_box_thr) {
        ++report.below_skip_thr;
        continue;
      }
      const bool strict = p.bad_boxes == BadBoxPolicy::kError;
      if (c.x2 < c.x1 || c.y2 < c.y1) {
        if (strict) {
          fail(
              ErrorCode::kInvalidArgument,
              "model {}, box {}: inverted corners ({}, {}, {}, {}); expected x1 <= x2 and y1 <= y2",
              m, j, c.x1, c.y1, c.x2, c.y2);
        }
        if (c.x2 < c.x1) std::swap(c.x1, c.x2);
        if (c.y2 < c.y1) std::swap(c.y1, c.y2);
        ++report.swapped_boxes;
      }
      for (double* v : {&c.x1, &c.y1, &c.x2, &c.y2}) {
        if (*v < 0.0 || *v > 1.0) {
          if (strict) {
            fail(ErrorCode::kInvalidArgument,
                 "model {}, box {}: coordinate {} outside [0, 1] in ({}, {}, {}, {}); expected "
                 "normalised corners",
                 m, j, *v, md.boxes[j].x1, md.boxes[j].y1, md.boxes[j].x2, md.boxes[j].y2);
          }
          *v = *v < 0.0 ? 0.0 : 1.0;
          ++report.clipped_coords;
        }
      }
      const double area = (c.x2 - c.x1) * (c.y2 - c.y1);
      if (area == 0.0) {
        if (strict) {
          fail(ErrorCode::kInvalidArgument,
               "model {}, box {}: zero area ({}, {}, {}, {}); expected x1 < x2 and y1 < y2", m, j,
               c.x1, c.y1, c.x2, c.y2);
        }
        ++report.zero_area_dropped;
        continue;
      }
      Entry e;
      e.c = c;
      e.score = score * scale[m];
      if (divisor != 1.0) e.score /= divisor;
      e.weight = scale[m];
      e.label = md.labels[j];
      e.model = static_cast<std::int32_t>(m);
      ws.entries.push_back(e);
    }
  }
}

// Splits ws.entries into label groups: ws.by_label holds entry indices grouped by label, input
// order inside a group; ws.groups lists the groups by first appearance (the reference's dict
// order) or by ascending label (np.unique, used by nms). Linear time: a small open-addressing
// table gives each label a group id in order of first appearance, then a counting sort.
void group_by_label(Workspace::Impl& ws, bool ascending_labels) {
  const std::size_t n = ws.entries.size();
  for (std::uint32_t slot : ws.used_slots) ws.slots[slot].group = -1;
  ws.used_slots.clear();
  if (ws.slots.size() < 64) ws.slots.assign(64, LabelSlot{});
  ws.entry_group.resize(n);
  ws.group_count.clear();
  ws.groups.clear();
  for (std::size_t i = 0; i < n; ++i) {
    const std::int64_t label = ws.entries[i].label;
    if ((ws.group_count.size() + 1) * 2 > ws.slots.size()) {
      // Grow and re-insert the labels seen so far (amortised; the table is kept across images).
      std::vector<LabelSlot> old;
      old.swap(ws.slots);
      ws.slots.assign(old.size() * 2, LabelSlot{});
      ws.used_slots.clear();
      const std::size_t mask = ws.slots.size() - 1;
      for (const LabelSlot& o : old) {
        if (o.group < 0) continue;
        std::size_t h = (static_cast<std::uint64_t>(o.label) * 0x9E3779B97F4A7C15ULL) >> 17 & mask;
        while (ws.slots[h].group >= 0) h = (h + 1) & mask;
        ws.slots[h] = o;
        ws.used_slots.push_back(static_cast<std::uint32_t>(h));
      }
    }
    const std::size_t mask = ws.slots.size() - 1;
    std::size_t h = (static_cast<std::uint64_t>(label) * 0x9E3779B97F4A7C15ULL) >> 17 & mask;
    while (ws.slots[h].group >= 0 && ws.slots[h].label != label) h = (h + 1) & mask;
    if (ws.slots[h].group < 0) {
      ws.slots[h] = {label, static_cast<std::int32_t>(ws.group_count.size())};
      ws.used_slots.push_back(static_cast<std::uint32_t>(h));
      ws.group_count.push_back(0);
      ws.groups.push_back({0, 0, static_cast<std::uint32_t>(i)});
    }
    const auto g = static_cast<std::size_t>(ws.slots[h].group);
    ws.entry_group[i] = static_cast<std::int32_t>(g);
    ++ws.group_count[g];
  }
  std::uint32_t at = 0;
  for (std::size_t g = 0; g < ws.groups.size(); ++g) {
    ws.groups[g].begin = ws.groups[g].end = at;
    at += ws.group_count[g];
  }
  ws.by_label.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    Group& g = ws.groups[static_cast<std::size_t>(ws.entry_group[i])];
    ws.by_label[g.end++] = static_cast<std::uint32_t>(i);
  }
  if (ascending_labels) {
    std::sort(ws.groups.begin(), ws.groups.end(), [&](const Group& a, const Group& b) {
      return ws.entries[a.first_entry].label < ws.entries[b.first_entry].label;
    });
  }
}

// Entries of group g in the reference's processing order: argsort of scores, reversed.
void sorted_group(Workspace::Impl& ws, const Group& g) {
  ws.values.clear();
  for (std::uint32_t i = g.begin; i < g.end; ++i)
    ws.values.push_back(ws.entries[ws.by_label[i]].score);
  numpy_argsort(ws.values, ws.order);
  ws.sorted.clear();
  for (std::size_t k = ws.order.size(); k-- > 0;) {
    ws.sorted.push_back(ws.entries[ws.by_label[g.begin + ws.order[k]]]);
  }
}

// Moves ws.fused to `out` in descending score, ties as the reference's argsort()[::-1] has them.
void emit_sorted(Workspace::Impl& ws, std::vector<Box>& out) {
  ws.values.clear();
  for (const Box& b : ws.fused) ws.values.push_back(b.score);
  numpy_argsort(ws.values, ws.order);
  out.clear();
  out.reserve(ws.fused.size());
  for (std::size_t k = ws.order.size(); k-- > 0;) out.push_back(ws.fused[ws.order[k]]);
}

float f32(double v) {
  return static_cast<float>(v);
}

// ---------------------------------------------------------------- weighted boxes fusion

class WbfFuser final : public Fuser {
 public:
  WbfFuser(const Info& info, Params p) : Fuser(info, std::move(p)) {}

  void fuse(std::span<const ModelDetections> models, std::vector<Box>& out, Report& report,
            Workspace& wsp) const override {
    Workspace::Impl& ws = wsp.impl();
    const Params& p = params();
    ++report.images;
    out.clear();
    if (!p.weights.empty() && p.weights.size() != models.size()) {
      fail(ErrorCode::kInvalidArgument, "{} weights for {} models; expected one weight per model",
           p.weights.size(), models.size());
    }
    ws.weights.assign(models.size(), 1.0);
    if (!p.weights.empty()) ws.weights.assign(p.weights.begin(), p.weights.end());
    collect(models, p, true, ws.weights, 1.0, report, ws);
    if (ws.entries.empty()) return;
    const double w_sum = sum_seq(ws.weights);
    const double w_max = *std::max_element(ws.weights.begin(), ws.weights.end());
    const double n_models = static_cast<double>(models.size());
    const double thr = iou_thr();

    group_by_label(ws, false);
    ws.fused.clear();
    for (const Group& g : ws.groups) {
      sorted_group(ws, g);
      ws.clusters.clear();
      ws.next_member.clear();
      for (std::uint32_t k = 0; k < ws.sorted.size(); ++k) {
        const Entry& e = ws.sorted[k];
        std::int32_t best = -1;
        double best_iou = thr;
        for (std::size_t ci = 0; ci < ws.clusters.size(); ++ci) {
          const double v = iou_inline(ws.clusters[ci].box, e.c);
          if (v > best_iou) {
            best_iou = v;
            best = static_cast<std::int32_t>(ci);
          }
        }
        ws.next_member.push_back(-1);
        if (best < 0) {
          Cluster c;
          c.box = e.c;
          c.first = c.last = static_cast<std::int32_t>(k);
          add_member(c, e);
          c.score_field = e.score;
          c.weight_field = e.weight;
          ws.clusters.push_back(c);
        } else {
          Cluster& c = ws.clusters[static_cast<std::size_t>(best)];
          ws.next_member[static_cast<std::size_t>(c.last)] = static_cast<std::int32_t>(k);
          c.last = static_cast<std::int32_t>(k);
          add_member(c, e);
          refresh(c);
        }
      }
      for (Cluster& c : ws.clusters) {
        if (c.n > 1 && c.conf == 0.0) ++report.zero_conf_clusters;
        Box b{c.box.x1,
              c.box.y1,
              c.box.x2,
              c.box.y2,
              rescale(c, ws, w_sum, w_max, n_models),
              ws.sorted[static_cast<std::size_t>(c.first)].label,
              -1};
        ws.fused.push_back(b);
      }
    }
    emit_sorted(ws, out);
    report.boxes_out += out.size();
  }

 private:
  static void add_member(Cluster& c, const Entry& e) {
    const double v[4] = {e.c.x1, e.c.y1, e.c.x2, e.c.y2};
    for (int k = 0; k < 4; ++k) {
      c.acc[k] = f32(static_cast<double>(c.acc[k]) + e.score * v[k]);
      c.plain[k] += v[k];
    }
    c.conf += e.score;
    c.wsum += e.weight;
    c.maxs = c.n == 0 ? e.score : std::max(c.maxs, e.score);
    ++c.n;
  }

  // The fused box after a merge: float32 corners and score, as the reference stores them.
  void refresh(Cluster& c) const {
    const Params& p = params();
    const double n = static_cast<double>(c.n);
    c.score_field = p.conf_type == ConfType::kMax ? f32(c.maxs) : f32(c.conf / n);
    c.weight_field = f32(c.wsum);
    double* dst[4] = {&c.box.x1, &c.box.y1, &c.box.x2, &c.box.y2};
    if (c.conf != 0.0) {
      const float conf = f32(c.conf);
      for (int k = 0; k < 4; ++k) *dst[k] = c.acc[k] / conf;
    } else {
      for (int k = 0; k < 4; ++k) *dst[k] = f32(c.plain[k] / n);
    }
  }

  double rescale(const Cluster& c, Workspace::Impl& ws, double w_sum, double w_max,
                 double n_models) const {
    const Params& p = params();
    const double n = static_cast<double>(c.n);
    double s = c.score_field;
    switch (p.conf_type) {
      case ConfType::kBoxAndModelAvg: {
        s = s * n / c.weight_field;
        s = s * present_weight(c, ws, true) / w_sum;
        break;
      }
      case ConfType::kAbsentModelAwareAvg:
        s = s * n / (c.weight_field + present_weight(c, ws, false));
        break;
      case ConfType::kMax:
        s = s / w_max;
        break;
      case ConfType::kAvg:
        if (p.corrected_conf) {
          s = c.wsum > 0.0 ? (c.conf / c.wsum) * std::min(c.wsum, w_sum) / w_sum : 0.0;
        } else if (!p.allows_overflow) {
          s = s * std::min(n_models, n) / w_sum;
        } else {
          s = s * n / w_sum;
        }
        break;
    }
    return s;
  }

  // Sum of the weights of the models present in the cluster (present = true) or absent from it,
  // in ascending model order like the reference's np.unique / mask.
  static double present_weight(const Cluster& c, Workspace::Impl& ws, bool present) {
    ws.seen.assign(ws.weights.size(), 0);
    for (std::int32_t k = c.first; k >= 0; k = ws.next_member[static_cast<std::size_t>(k)]) {
      ws.seen[static_cast<std::size_t>(ws.sorted[static_cast<std::size_t>(k)].model)] = 1;
    }
    double s = 0.0;
    for (std::size_t m = 0; m < ws.weights.size(); ++m) {
      if ((ws.seen[m] != 0) == present) s += ws.weights[m];
    }
    return s;
  }
};

// ---------------------------------------------------------------- non-maximum weighted

class NmwFuser final : public Fuser {
 public:
  NmwFuser(const Info& info, Params p) : Fuser(info, std::move(p)) {}

  void fuse(std::span<const ModelDetections> models, std::vector<Box>& out, Report& report,
            Workspace& wsp) const override {
    Workspace::Impl& ws = wsp.impl();
    const Params& p = params();
    ++report.images;
    out.clear();
    if (!p.weights.empty() && p.weights.size() != models.size()) {
      fail(ErrorCode::kInvalidArgument, "{} weights for {} models; expected one weight per model",
           p.weights.size(), models.size());
    }
    ws.weights.assign(models.size(), 1.0);
    if (!p.weights.empty()) {
      const double w_max = *std::max_element(p.weights.begin(), p.weights.end());
      for (std::size_t m = 0; m < models.size(); ++m) ws.weights[m] = p.weights[m] / w_max;
    }
    collect(models, p, true, ws.weights, 1.0, report, ws);
    if (ws.entries.empty()) return;
    const double thr = iou_thr();

    group_by_label(ws, false);
    ws.fused.clear();
    for (const Group& g : ws.groups) {
      sorted_group(ws, g);
      ws.clusters.clear();
      ws.next_member.clear();
      for (std::uint32_t k = 0; k < ws.sorted.size(); ++k) {
        const Entry& e = ws.sorted[k];
        std::int32_t best = -1;
        double best_iou = thr;
        for (std::size_t ci = 0; ci < ws.clusters.size(); ++ci) {
          // Matching is against each cluster's first (highest-scored) box, not a fused one.
          const double v = iou_inline(ws.clusters[ci].box, e.c);
          if (v > best_iou) {
            best_iou = v;
            best = static_cast<std::int32_t>(ci);
          }
        }
        ws.next_member.push_back(-1);
        if (best < 0) {
          Cluster c;
          c.box = e.c;
          c.first = c.last = static_cast<std::int32_t>(k);
          ws.clusters.push_back(c);
        } else {
          Cluster& c = ws.clusters[static_cast<std::size_t>(best)];
          ws.next_member[static_cast<std::size_t>(c.last)] = static_cast<std::int32_t>(k);
          c.last = static_cast<std::int32_t>(k);
        }
      }
      for (const Cluster& c : ws.clusters) {
        const Entry& top = ws.sorted[static_cast<std::size_t>(c.first)];
        float acc[4] = {0, 0, 0, 0};
        double plain[4] = {0, 0, 0, 0};
        double conf = 0.0;
        double n = 0.0;
        for (std::int32_t k = c.first; k >= 0; k = ws.next_member[static_cast<std::size_t>(k)]) {
          const Entry& e = ws.sorted[static_cast<std::size_t>(k)];
          const double w = e.score * iou_inline(e.c, top.c);
          const double v[4] = {e.c.x1, e.c.y1, e.c.x2, e.c.y2};
          for (int q = 0; q < 4; ++q) {
            acc[q] = f32(static_cast<double>(acc[q]) + w * v[q]);
            plain[q] += v[q];
          }
          conf += w;
          n += 1.0;
        }
        Box b;
        double* dst[4] = {&b.x1, &b.y1, &b.x2, &b.y2};
        if (conf != 0.0) {
          const float fc = f32(conf);
          for (int q = 0; q < 4; ++q) *dst[q] = acc[q] / fc;
        } else {
          ++report.zero_conf_clusters;
          for (int q = 0; q < 4; ++q) *dst[q] = f32(plain[q] / n);
        }
        b.score = f32(top.score);
        b.label = top.label;
        b.model = -1;
        ws.fused.push_back(b);
      }
    }
    emit_sorted(ws, out);
    report.boxes_out += out.size();
  }
};

// ---------------------------------------------------------------- NMS and soft-NMS

class NmsFuser final : public Fuser {
 public:
  NmsFuser(const Info& info, Params p, bool soft) : Fuser(info, std::move(p)), soft_(soft) {}

  void fuse(std::span<const ModelDetections> models, std::vector<Box>& out, Report& report,
            Workspace& wsp) const override {
    Workspace::Impl& ws = wsp.impl();
    const Params& p = params();
    ++report.images;
    out.clear();
    if (!p.weights.empty() && p.weights.size() != models.size()) {
      fail(ErrorCode::kInvalidArgument, "{} weights for {} models; expected one weight per model",
           p.weights.size(), models.size());
    }
    ws.weights.assign(models.size(), 1.0);
    double divisor = 1.0;
    if (!p.weights.empty()) {
      ws.weights.assign(p.weights.begin(), p.weights.end());
      divisor = sum_seq(ws.weights);
    }
    collect(models, p, false, ws.weights, divisor, report, ws);
    if (ws.entries.empty()) return;
    group_by_label(ws, true);
    for (const Group& g : ws.groups) {
      if (soft_) {
        soft_group(ws, g, out);
      } else {
        hard_group(ws, g, out);
      }
    }
    report.boxes_out += out.size();
  }

 private:
  static Box to_box(const Entry& e, double score) {
    return {e.c.x1, e.c.y1, e.c.x2, e.c.y2, score, e.label, e.model};
  }

  void hard_group(Workspace::Impl& ws, const Group& g, std::vector<Box>& out) const {
    sorted_group(ws, g);
    const double thr = iou_thr();
    std::size_t alive = ws.sorted.size();
    while (alive > 0) {
      const Entry top = ws.sorted[0];
      out.push_back(to_box(top, top.score));
      std::size_t w = 0;
      for (std::size_t r = 1; r < alive; ++r) {
        if (iou_inline(top.c, ws.sorted[r].c) <= thr) ws.sorted[w++] = ws.sorted[r];
      }
      alive = w;
    }
  }

  // The reference's selection order: at step i the highest remaining score (first on ties)
  // swaps into place i unless score i is already as high; later scores decay by IoU with box i.
  void soft_group(Workspace::Impl& ws, const Group& g, std::vector<Box>& out) const {
    const Params& p = params();
    const double thr = iou_thr();
    ws.sorted.clear();
    ws.values.clear();
    for (std::uint32_t i = g.begin; i < g.end; ++i) {
      ws.sorted.push_back(ws.entries[ws.by_label[i]]);
      ws.values.push_back(ws.entries[ws.by_label[i]].score);
    }
    std::vector<Entry>& d = ws.sorted;
    std::vector<double>& s = ws.values;
    const std::size_t n = d.size();
    for (std::size_t i = 0; i < n; ++i) {
      if (i + 1 < n) {
        std::size_t arg = i + 1;
        for (std::size_t j = i + 2; j < n; ++j) {
          if (s[j] > s[arg]) arg = j;
        }
        if (s[i] < s[arg]) {
          std::swap(d[i], d[arg]);
          std::swap(s[i], s[arg]);
        }
      }
      for (std::size_t j = i + 1; j < n; ++j) {
        const double ovr = iou_inline(d[i].c, d[j].c);
        double w;
        if (p.soft_kind == SoftNmsKind::kLinear) {
          w = ovr > thr ? 1.0 - ovr : 1.0;
        } else {
          w = std::exp(-(ovr * ovr) / p.sigma);
        }
        s[j] = w * s[j];
      }
    }
    for (std::size_t i = 0; i < n; ++i) {
      if (s[i] > p.thresh) out.push_back(to_box(d[i], p.decayed_scores ? s[i] : d[i].score));
    }
  }

  bool soft_;
};

}  // namespace

std::unique_ptr<Fuser> make_wbf(const Info& info, Params p) {
  return std::make_unique<WbfFuser>(info, std::move(p));
}
std::unique_ptr<Fuser> make_nmw(const Info& info, Params p) {
  return std::make_unique<NmwFuser>(info, std::move(p));
}
std::unique_ptr<Fuser> make_nms(const Info& info, Params p) {
  return std::make_unique<NmsFuser>(info, std::move(p), false);
}
std::unique_ptr<Fuser> make_soft_nms(const Info& info, Params p) {
  return std::make_unique<NmsFuser>(info, std::move(p), true);
}

std::vector<std::vector<Box>> fuse_batch(const Fuser& fuser,
                                         std::span<const ImageDetections> images, Report* report,
                                         std::size_t threads,
                                         std::span<const std::string> image_ids) {
  COMPE_ASSERT(image_ids.empty() || image_ids.size() == images.size());
  std::vector<std::vector<Box>> result(images.size());
  std::mutex mu;
  Report total;
  parallel_for(images.size(), threads, [&](std::size_t begin, std::size_t end) {
    Workspace ws;
    Report local;
    for (std::size_t i = begin; i < end; ++i) {
      try {
        fuser.fuse(images[i], result[i], local, ws);
      } catch (const Error& e) {
        ErrorContext at;
        at.image = i;
        if (!image_ids.empty()) {
          at.image_id = image_ids[i];
          throw Error(e.code(), fmt::format("image_id {}: {}", image_ids[i], e.what()),
                      e.context().merged(at));
        }
        throw Error(e.code(), fmt::format("image {}: {}", i, e.what()), e.context().merged(at));
      }
    }
    std::lock_guard lock(mu);
    total += local;
  });
  if (report) *report += total;
  return result;
}

}  // namespace compe::detect
