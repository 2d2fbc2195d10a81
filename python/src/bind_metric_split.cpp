// Metrics and splitters: their registries and the functions that score and assign folds.
#include "compe/error.hpp"
#include "compe/metric.hpp"
#include "compe/split.hpp"
#include "convert.hpp"

namespace compe::python {
using namespace pybind11::literals;
namespace {

std::string arg_kind_name(metric::ArgKind k) {
  switch (k) {
    case metric::ArgKind::kNone: return "none";
    case metric::ArgKind::kOptionalInt: return "optional_int";
    case metric::ArgKind::kRequiredInt: return "required_int";
    case metric::ArgKind::kRequiredReal: return "required_real";
    case metric::ArgKind::kOptionalReal: return "optional_real";
  }
  return "none";
}

std::vector<std::string> task_names(unsigned tasks) {
  std::vector<std::string> out;
  for (metric::Task t : {metric::kBinary, metric::kMulticlass, metric::kRegression, metric::kMultilabel,
                         metric::kRanking, metric::kDetection, metric::kSegmentation})
    if (tasks & t) out.emplace_back(metric::task_name(t));
  return out;
}

py::dict metric_info(const metric::Info& i) {
  py::dict d;
  d["name"] = i.name;
  d["aliases"] = i.aliases;
  d["summary"] = i.summary;
  d["direction"] = i.greater_is_better() ? "maximize" : "minimize";
  d["tasks"] = task_names(i.tasks);
  d["needs_proba"] = i.needs_proba;
  d["supports_weights"] = i.supports_weights;
  d["arg"] = arg_kind_name(i.arg);
  d["arg_help"] = i.arg_help;
  return d;
}

metric::LabelLists label_lists(const I64Array& offsets, const I64Array& labels) {
  metric::LabelLists l;
  l.offsets.clear();
  for (py::ssize_t i = 0; i < offsets.size(); ++i) l.offsets.push_back(static_cast<std::size_t>(offsets.data()[i]));
  l.labels.assign(labels.data(), labels.data() + labels.size());
  return l;
}

}  // namespace

void bind_metric_split(py::module_& m) {
  m.def("metrics", [] {
    py::list out;
    for (const auto& i : metric::builtin()) out.append(metric_info(i));
    return out;
  }, "Every registered metric, in the registry's order.");
  m.def("metric_info", [](const std::string& spec) {
    auto metric = metric::make(spec);
    py::dict d = metric_info(metric->info());
    d["spec"] = metric->spec();
    return d;
  }, "spec"_a);
  m.def("default_metric", [](const std::string& task) { return metric::default_for(metric::parse_task(task)); },
        "task"_a);
  m.def("metric_score",
        [](const std::string& spec, const F64Array& y_true, const F64Array& y_pred,
           std::optional<F64Array> weights, std::optional<I64Array> true_offsets,
           std::optional<I64Array> true_labels, std::optional<I64Array> pred_offsets,
           std::optional<I64Array> pred_labels) {
          metric::LabelLists tl, pl;
          metric::Inputs in;
          in.y_true = span_of(y_true);
          in.true_cols = cols_of(y_true);
          in.y_pred = span_of(y_pred);
          in.pred_cols = cols_of(y_pred);
          if (weights) in.weights = span_of(*weights);
          if (true_offsets && true_labels) {
            tl = label_lists(*true_offsets, *true_labels);
            in.true_lists = &tl;
          }
          if (pred_offsets && pred_labels) {
            pl = label_lists(*pred_offsets, *pred_labels);
            in.pred_lists = &pl;
          }
          auto metric = metric::make(spec);
          py::gil_scoped_release release;
          return metric->score(in);
        },
        "spec"_a, "y_true"_a, "y_pred"_a, "weights"_a = py::none(), "true_offsets"_a = py::none(),
        "true_labels"_a = py::none(), "pred_offsets"_a = py::none(), "pred_labels"_a = py::none());

  m.def("splitters", [] {
    py::list out;
    for (const auto& i : split::builtin()) {
      py::dict d;
      d["name"] = i.name;
      d["aliases"] = i.aliases;
      d["summary"] = i.summary;
      d["needs_target"] = i.needs_target;
      d["needs_groups"] = i.needs_groups;
      d["needs_time"] = i.needs_time;
      d["multilabel"] = i.multilabel;
      d["uses_groups"] = i.uses_groups;
      d["uses_shuffle"] = i.uses_shuffle;
      d["validates_all"] = i.validates_all;
      out.append(d);
    }
    return out;
  });
  m.def("assign_folds",
        [](const std::string& strategy, int k, bool shuffle, std::uint64_t seed, int gap, int bins,
           std::size_t rows, std::optional<F64Array> y, bool y_is_class, std::optional<I64Array> groups,
           std::optional<F64Array> time) {
          split::Spec spec{strategy, k, shuffle, seed, gap, bins};
          split::Inputs in;
          in.rows = rows;
          if (y) {
            in.y = span_of(*y);
            in.y_cols = cols_of(*y);
          }
          in.y_is_class = y_is_class;
          if (groups) in.groups = span_of(*groups);
          if (time) in.time = span_of(*time);
          split::Assignment a;
          std::vector<std::vector<std::size_t>> train(static_cast<std::size_t>(std::max(k, 0)));
          {
            py::gil_scoped_release release;
            a = split::assign(spec, in);
            for (int f = 0; f < k; ++f) train[static_cast<std::size_t>(f)] = split::train_rows(spec, in, a.folds, f);
          }
          std::vector<std::int32_t> folds(a.folds.begin(), a.folds.end());
          py::list train_rows;
          for (auto& t : train) {
            std::vector<std::int64_t> r(t.begin(), t.end());
            train_rows.append(to_numpy(std::move(r)));
          }
          return py::make_tuple(to_numpy(std::move(folds)), train_rows, a.warnings);
        },
        "strategy"_a, "k"_a, "shuffle"_a, "seed"_a, "gap"_a, "bins"_a, "rows"_a, "y"_a = py::none(),
        "y_is_class"_a = true, "groups"_a = py::none(), "time"_a = py::none());
}

}  // namespace compe::python
