// Detection metrics and files, and the shake-up simulation.
//
// Boxes cross the boundary packed: per image row i, rows offsets[i] .. offsets[i+1] of an
// n x 8 float64 array with columns x1, y1, x2, y2, score, label, crowd, area (NaN = the box's
// own area). The pure-Python layer (compe.detect) builds and unpacks them.
#include <string>

#include "compe/detect.hpp"
#include "compe/error.hpp"
#include "compe/metric.hpp"
#include "compe/shake.hpp"
#include "compe/util.hpp"
#include "convert.hpp"

namespace compe::python {
using namespace pybind11::literals;
namespace {

constexpr std::size_t kBoxCols = 8;

metric::BoxLists unpack_boxes(const I64Array& offsets, const F64Array& packed,
                              std::string_view what) {
  if (packed.size() > 0 &&
      (packed.ndim() != 2 || static_cast<std::size_t>(packed.shape(1)) != kBoxCols)) {
    fail(ErrorCode::kInvalidArgument, "{}: packed boxes must be n x {}", what, kBoxCols);
  }
  const std::size_t n = static_cast<std::size_t>(packed.size()) / kBoxCols;
  metric::BoxLists out;
  out.offsets.clear();
  std::size_t prev = 0;
  for (py::ssize_t i = 0; i < offsets.size(); ++i) {
    const std::int64_t o = offsets.data()[i];
    if (o < 0 || static_cast<std::size_t>(o) > n || static_cast<std::size_t>(o) < prev ||
        (i == 0 && o != 0)) {
      fail(ErrorCode::kInvalidArgument, "{}: offset {} = {} is out of order (boxes: {})", what, i,
           o, n);
    }
    prev = static_cast<std::size_t>(o);
    out.offsets.push_back(prev);
  }
  if (out.offsets.empty()) out.offsets.push_back(0);
  if (out.offsets.back() != n) {
    fail(ErrorCode::kInvalidArgument, "{}: the last offset is {}, expected the box count {}", what,
         out.offsets.back(), n);
  }
  out.boxes.resize(n);
  const double* p = packed.data();
  for (std::size_t k = 0; k < n; ++k, p += kBoxCols) {
    metric::DetBox& b = out.boxes[k];
    b.x1 = p[0];
    b.y1 = p[1];
    b.x2 = p[2];
    b.y2 = p[3];
    b.score = p[4];
    b.label = static_cast<std::int64_t>(p[5]);
    b.crowd = p[6] != 0;
    b.area = p[7];
  }
  return out;
}

py::tuple pack_boxes(const metric::BoxLists& boxes) {
  std::vector<std::int64_t> offsets(boxes.offsets.begin(), boxes.offsets.end());
  std::vector<double> packed;
  packed.reserve(boxes.boxes.size() * kBoxCols);
  for (const metric::DetBox& b : boxes.boxes) {
    packed.insert(packed.end(), {b.x1, b.y1, b.x2, b.y2, b.score, static_cast<double>(b.label),
                                 b.crowd ? 1.0 : 0.0, b.area});
  }
  const auto n = static_cast<py::ssize_t>(boxes.boxes.size());
  return py::make_tuple(to_numpy(std::move(offsets)),
                        to_numpy(std::move(packed), {n, static_cast<py::ssize_t>(kBoxCols)}));
}

py::tuple pack_detections(const detect::DetectionsFile& f) {
  metric::BoxLists boxes;
  std::vector<metric::DetBox> row;
  for (const detect::ModelDetections& md : f.images) {
    row.clear();
    for (std::size_t k = 0; k < md.boxes.size(); ++k) {
      metric::DetBox b;
      b.x1 = md.boxes[k].x1;
      b.y1 = md.boxes[k].y1;
      b.x2 = md.boxes[k].x2;
      b.y2 = md.boxes[k].y2;
      b.score = md.scores[k];
      b.label = md.labels[k];
      row.push_back(b);
    }
    boxes.push_row(row);
  }
  py::tuple packed = pack_boxes(boxes);
  return py::make_tuple(f.image_ids, packed[0], packed[1]);
}

}  // namespace

void bind_detect_shake(py::module_& m) {
  m.def(
      "detection_evaluate",
      [](const std::string& spec, const I64Array& gt_offsets, const F64Array& gt_packed,
         const I64Array& pred_offsets, const F64Array& pred_packed,
         std::optional<I64Array> categories) {
        const std::string canonical = detect::detection_metric_spec(spec);
        auto metric = metric::make(canonical);
        metric::BoxLists gt = unpack_boxes(gt_offsets, gt_packed, "ground truth");
        metric::BoxLists pred = unpack_boxes(pred_offsets, pred_packed, "predictions");
        std::vector<std::int64_t> cats;
        if (categories) cats.assign(categories->data(), categories->data() + categories->size());
        double value = 0;
        detect::CocoResult coco;
        {
          py::gil_scoped_release release;
          metric::Inputs in;
          in.true_boxes = &gt;
          in.pred_boxes = &pred;
          value = metric->score(in);
          coco = detect::coco_evaluate(gt, pred, cats);
        }
        static const char* kStatNames[12] = {"AP",        "AP50",     "AP75",      "AP_small",
                                             "AP_medium", "AP_large", "AR1",       "AR10",
                                             "AR100",     "AR_small", "AR_medium", "AR_large"};
        py::dict stats;
        for (std::size_t i = 0; i < 12; ++i) stats[kStatNames[i]] = coco.stats[i];
        py::list classes;
        for (std::size_t k = 0; k < coco.categories.size(); ++k) {
          classes.append(py::dict("label"_a = coco.categories[k], "ap"_a = coco.class_ap[k],
                                  "ap50"_a = coco.class_ap50[k]));
        }
        py::dict d;
        d["metric"] = metric->spec();
        d["value"] = value;
        d["direction"] = metric->info().greater_is_better() ? "maximize" : "minimize";
        d["images"] = gt.rows();
        d["gt_boxes"] = gt.boxes.size();
        d["pred_boxes"] = pred.boxes.size();
        d["coco"] = stats;
        d["per_class"] = classes;
        return d;
      },
      "spec"_a, "gt_offsets"_a, "gt_packed"_a, "pred_offsets"_a, "pred_packed"_a,
      "categories"_a = py::none(),
      "Scores packed boxes with a detection metric; also returns COCO's 12 statistics.");

  m.def(
      "read_ground_truth",
      [](const std::string& path, const std::string& format) {
        detect::LoadedGroundTruth t =
            detect::read_ground_truth_any(path, {.format = detect::parse_box_format(format)});
        const detect::GroundTruth& gt = t.gt;
        const detect::ImageSizes& sizes = t.sizes;
        py::tuple packed = pack_boxes(gt.boxes);
        py::dict names;
        for (const auto& [k, v] : gt.category_names) names[py::int_(k)] = v;
        py::dict size_dict;
        for (const auto& [id, s] : sizes)
          size_dict[py::str(id)] = py::make_tuple(s.width, s.height);
        return py::make_tuple(gt.image_ids, packed[0], packed[1], gt.categories, names, size_dict);
      },
      "path"_a, "format"_a = "xyxy",
      "Ground truth from a CSV (image_id,x1,y1,x2,y2,label[,iscrowd]) or COCO annotations JSON.");
  m.def(
      "read_detections",
      [](const std::string& path, const std::string& format, bool with_label) {
        return pack_detections(
            detect::read_detections_any(path, {.format = detect::parse_box_format(format),
                                               .with_label = with_label})
                .file);
      },
      "path"_a, "format"_a = "xyxy", "with_label"_a = false,
      "Detections from a CSV (image_id,x1,y1,x2,y2,score,label), PredictionString CSV or COCO "
      "results JSON.");

  m.def(
      "shake_simulate",
      [](const std::string& spec, const F64Array& y_true, const std::vector<std::string>& names,
         const std::vector<F64Array>& preds, const std::string& mode, double public_fraction,
         std::size_t test_rows, std::size_t simulations, std::uint64_t seed, std::int64_t threads,
         std::size_t bins) {
        if (names.size() != preds.size()) {
          fail(ErrorCode::kInvalidArgument, "shake: {} names for {} candidates", names.size(),
               preds.size());
        }
        shake::Problem p;
        p.metric = spec;
        p.y_true.assign(y_true.data(), y_true.data() + y_true.size());
        p.true_cols = cols_of(y_true);
        p.pred_cols = preds.empty() ? 1 : cols_of(preds.front());
        for (std::size_t i = 0; i < preds.size(); ++i) {
          if (cols_of(preds[i]) != p.pred_cols) {
            fail(ErrorCode::kInvalidArgument, "shake: candidate '{}' has {} columns, '{}' has {}",
                 names[i], cols_of(preds[i]), names.front(), p.pred_cols);
          }
          shake::Candidate c;
          c.name = names[i];
          c.label = names[i];
          c.pred.assign(preds[i].data(), preds[i].data() + preds[i].size());
          p.candidates.push_back(std::move(c));
        }
        shake::Options o;
        if (mode == "oof") {
          o.mode = shake::Mode::kResample;
        } else if (mode == "solution") {
          o.mode = shake::Mode::kResplit;
        } else {
          fail(ErrorCode::kInvalidArgument, "shake: mode '{}' is unknown; expected oof or solution",
               mode);
        }
        o.public_fraction = public_fraction;
        o.test_rows = test_rows;
        o.simulations = simulations;
        o.seed = seed;
        o.threads = check_threads(threads, "threads");
        o.bins = bins;
        shake::Result r;
        {
          py::gil_scoped_release release;
          r = shake::simulate(p, o);
        }
        return to_python(shake::to_json(r));
      },
      "metric"_a, "y_true"_a, "names"_a, "preds"_a, "mode"_a = "oof", "public_fraction"_a = 0.3,
      "test_rows"_a = 0, "simulations"_a = 1000, "seed"_a = 42, "threads"_a = 0, "bins"_a = 20,
      "The shake-up simulation of `compe shake` on given predictions; the CLI's JSON document.");
}

}  // namespace compe::python
