// Blending recorded runs, and box fusion for object detection.
#include "compe/blend.hpp"
#include "compe/detect.hpp"
#include "compe/error.hpp"
#include "compe/util.hpp"
#include "compe/workspace.hpp"
#include "convert.hpp"

namespace compe::python {
using namespace pybind11::literals;
namespace {

blend::Params blend_params(const py::dict& d) {
  blend::Params p;
  for (auto [k, v] : d) {
    const std::string key = py::str(k);
    if (key == "power") p.power = v.cast<double>();
    else if (key == "steps") p.steps = v.cast<int>();
    else if (key == "bags") p.bags = v.cast<int>();
    else if (key == "bag_fraction") p.bag_fraction = v.cast<double>();
    else if (key == "restarts") p.restarts = v.cast<int>();
    else if (key == "max_passes") p.max_passes = v.cast<int>();
    else if (key == "tolerance") p.tolerance = v.cast<double>();
    else if (key == "l2") p.l2 = v.cast<double>();
    else if (key == "seed") p.seed = v.cast<std::uint64_t>();
    else
      fail(ErrorCode::kInvalidArgument,
           "blend: unknown parameter '{}'; known: power, steps, bags, bag_fraction, restarts, "
           "max_passes, tolerance, l2, seed", key);
  }
  return p;
}

detect::Params fusion_params(const py::dict& d) {
  detect::Params p;
  for (auto [k, v] : d) {
    const std::string key = py::str(k);
    if (v.is_none()) continue;
    if (key == "weights") p.weights = v.cast<std::vector<double>>();
    else if (key == "iou_thr") p.iou_thr = v.cast<double>();
    else if (key == "skip_box_thr") p.skip_box_thr = v.cast<double>();
    else if (key == "conf_type") p.conf_type = detect::parse_conf_type(v.cast<std::string>());
    else if (key == "allows_overflow") p.allows_overflow = v.cast<bool>();
    else if (key == "corrected_conf") p.corrected_conf = v.cast<bool>();
    else if (key == "soft_kind") p.soft_kind = detect::parse_soft_nms_kind(py::str(v).cast<std::string>());
    else if (key == "sigma") p.sigma = v.cast<double>();
    else if (key == "thresh") p.thresh = v.cast<double>();
    else if (key == "decayed_scores") p.decayed_scores = v.cast<bool>();
    else if (key == "bad_boxes") {
      const std::string b = v.cast<std::string>();
      if (b == "clip") p.bad_boxes = detect::BadBoxPolicy::kClip;
      else if (b == "error") p.bad_boxes = detect::BadBoxPolicy::kError;
      else fail(ErrorCode::kInvalidArgument, "bad_boxes: '{}', expected clip or error", b);
    } else
      fail(ErrorCode::kInvalidArgument,
           "fuse: unknown parameter '{}'; known: weights, iou_thr, skip_box_thr, conf_type, "
           "allows_overflow, corrected_conf, soft_kind, sigma, thresh, decayed_scores, bad_boxes", key);
  }
  return p;
}

/// One model's detections from (boxes n x 4, scores n, labels n).
detect::ModelDetections model_of(const py::handle& item, std::size_t image, std::size_t model) {
  auto t = item.cast<py::tuple>();
  if (t.size() != 3)
    fail(ErrorCode::kInvalidArgument, "image {} model {}: expected (boxes, scores, labels)", image, model);
  auto boxes = t[0].cast<F64Array>();
  auto scores = t[1].cast<F64Array>();
  auto labels = t[2].cast<I64Array>();
  const auto n = static_cast<std::size_t>(scores.size());
  if (static_cast<std::size_t>(boxes.size()) != 4 * n || static_cast<std::size_t>(labels.size()) != n)
    fail(ErrorCode::kInvalidArgument,
         "image {} model {}: {} box values, {} scores, {} labels; expected n x 4 boxes and n scores and labels",
         image, model, boxes.size(), scores.size(), labels.size());
  detect::ModelDetections m;
  m.boxes.resize(n);
  for (std::size_t i = 0; i < n; ++i)
    m.boxes[i] = {boxes.data()[4 * i], boxes.data()[4 * i + 1], boxes.data()[4 * i + 2], boxes.data()[4 * i + 3]};
  m.scores.assign(scores.data(), scores.data() + n);
  m.labels.assign(labels.data(), labels.data() + n);
  return m;
}

py::tuple boxes_out(const std::vector<detect::Box>& boxes) {
  const std::size_t n = boxes.size();
  std::vector<double> b(4 * n), s(n);
  std::vector<std::int64_t> l(n);
  std::vector<std::int32_t> model(n);
  for (std::size_t i = 0; i < n; ++i) {
    b[4 * i] = boxes[i].x1;
    b[4 * i + 1] = boxes[i].y1;
    b[4 * i + 2] = boxes[i].x2;
    b[4 * i + 3] = boxes[i].y2;
    s[i] = boxes[i].score;
    l[i] = boxes[i].label;
    model[i] = boxes[i].model;
  }
  return py::make_tuple(to_numpy(std::move(b), {static_cast<py::ssize_t>(n), 4}), to_numpy(std::move(s)),
                        to_numpy(std::move(l)), to_numpy(std::move(model)));
}

py::dict report_dict(const detect::Report& r) {
  return py::dict("images"_a = r.images, "boxes_in"_a = r.boxes_in, "boxes_out"_a = r.boxes_out,
                  "below_skip_thr"_a = r.below_skip_thr, "swapped_boxes"_a = r.swapped_boxes,
                  "clipped_coords"_a = r.clipped_coords, "zero_area_dropped"_a = r.zero_area_dropped,
                  "zero_conf_clusters"_a = r.zero_conf_clusters);
}

}  // namespace

void bind_blend_detect(py::module_& m) {
  m.def("blend_methods", [] {
    py::list out;
    for (const auto& i : blend::builtin()) {
      std::vector<std::string> tasks;
      for (metric::Task t : {metric::kBinary, metric::kMulticlass, metric::kRegression, metric::kMultilabel})
        if (i.tasks & t) tasks.emplace_back(metric::task_name(t));
      out.append(py::dict("name"_a = i.name, "summary"_a = i.summary, "fitted"_a = i.fitted,
                          "same_folds"_a = i.same_folds, "tasks"_a = tasks));
    }
    return out;
  });
  m.def("blend_runs",
        [](const std::string& workspace, const std::vector<std::string>& inputs, const std::string& method,
           const py::dict& params, bool record, const std::string& name, const std::string& store,
           const std::string& command_line, bool allow_different_folds) {
          blend::Params p = blend_params(params);
          blend::RunOptions ro{store, name, command_line};
          blend::Result r;
          blend::Recorded rec;
          std::vector<std::string> names, labels;
          {
            py::gil_scoped_release release;
            Workspace ws = Workspace::open(workspace);
            blend::OofSet set = blend::load_set(ws, inputs, ro, {allow_different_folds});
            r = blend::blend(set, method, p);
            for (const auto& mem : set.members) {
              names.push_back(mem.name);
              labels.push_back(mem.label);
            }
            if (record) rec = blend::record_blend(ws, set, inputs, r, p, ro);
          }
          py::dict d;
          d["method"] = r.method;
          d["members"] = names;
          d["labels"] = labels;
          d["weights"] = r.weights;
          d["details"] = to_python(r.details);
          d["oof_score"] = r.oof_score;
          d["nested_score"] = r.nested_score;
          d["fold_scores"] = r.fold_scores;
          d["member_scores"] = r.member_scores;
          d["best_member"] = r.best_member;
          d["run_id"] = record ? py::object(py::str(rec.run_id)) : py::object(py::none());
          d["dir"] = record ? py::object(py::str(rec.dir.string())) : py::object(py::none());
          return d;
        },
        "workspace"_a, "inputs"_a, "method"_a = "weights", "params"_a = py::dict(), "record"_a = true,
        "name"_a = "", "store"_a = "", "command_line"_a = "", "allow_different_folds"_a = false);

  m.def("fusion_methods", [] {
    py::list out;
    for (const auto& i : detect::builtin())
      out.append(py::dict("name"_a = i.name, "aliases"_a = i.aliases, "summary"_a = i.summary,
                          "default_iou_thr"_a = i.default_iou_thr, "fuses_coordinates"_a = i.fuses_coordinates));
    return out;
  });
  m.def("iou", [](const F64Array& a, const F64Array& b) {
    if (a.size() != 4 || b.size() != 4) fail(ErrorCode::kInvalidArgument, "iou: boxes are [x1, y1, x2, y2]");
    return detect::iou({a.data()[0], a.data()[1], a.data()[2], a.data()[3]},
                       {b.data()[0], b.data()[1], b.data()[2], b.data()[3]});
  }, "a"_a, "b"_a);
  m.def("fuse_batch", [](const std::string& method, const py::list& images, const py::dict& params,
                         std::int64_t threads) {
    const std::size_t nthreads = check_threads(threads, "threads");
    auto fuser = detect::make(method, fusion_params(params));
    std::vector<detect::ImageDetections> in;
    in.reserve(images.size());
    for (std::size_t i = 0; i < images.size(); ++i) {
      auto models = images[i].cast<py::list>();
      detect::ImageDetections img;
      for (std::size_t j = 0; j < models.size(); ++j) img.push_back(model_of(models[j], i, j));
      in.push_back(std::move(img));
    }
    detect::Report report;
    std::vector<std::vector<detect::Box>> out;
    {
      py::gil_scoped_release release;
      out = detect::fuse_batch(*fuser, in, &report, nthreads);
    }
    py::list results;
    for (const auto& boxes : out) results.append(boxes_out(boxes));
    return py::make_tuple(results, report_dict(report));
  }, "method"_a, "images"_a, "params"_a = py::dict(), "threads"_a = 0);
}

}  // namespace compe::python
