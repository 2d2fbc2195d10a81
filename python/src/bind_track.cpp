// The run store and runs recorded from Python (the fold loop lives in the caller's code).
#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>

#include "compe/image_data.hpp"
#include "compe/image_run.hpp"
#include "compe/oof.hpp"
#include "compe/run_writer.hpp"
#include "compe/error.hpp"
#include "compe/folds.hpp"
#include "compe/store.hpp"
#include "compe/util.hpp"
#include "compe/workspace.hpp"
#include "convert.hpp"

namespace compe::python {
using namespace pybind11::literals;
namespace fs = std::filesystem;
namespace {

py::object run_dict(Store& s, const Run& r) {
  auto artifacts = s.list_artifacts(r.id);
  return to_python(run::run_json(r, artifacts));
}

/// A run whose folds are trained by Python code: the run writer, fed fold by fold.
class RunRecorder {
 public:
  RunRecorder(const std::string& workspace, const std::string& name, const std::string& config_json,
              const std::string& store_url, const std::string& command_line)
      : ws_(Workspace::open(workspace)),
        store_(open_store(store_url.empty() ? ws_.store_path().string() : store_url)),
        ref_(run::reference_from_workspace(ws_, true)) {
    nlohmann::json config = nlohmann::json::parse(config_json);
    if (!config.is_object())
      fail(ErrorCode::kInvalidArgument, "start_run: config must be a dict, got {}", config.dump());
    store_->mark_interrupted_stale();
    writer_ = std::make_unique<run::RunWriter>(
        ws_, *store_, ref_,
        run::RunSpec{.kind = "python",
                     .name = name,
                     .config = std::move(config),
                     .command_line = command_line,
                     .producer = fmt::format("compe {} (python)", COMPE_VERSION),
                     .versions = {{"producer", "python"}}});
  }

  const std::string& id() const { return writer_->id(); }
  std::string dir() const { return writer_->dir().string(); }
  const run::Reference& ref() const { return ref_; }
  std::vector<std::size_t> fold_rows(int fold) const {
    if (fold < 0 || fold >= ref_.num_folds())
      fail(ErrorCode::kInvalidArgument, "fold {} is outside 0..{} (folds.csv has {} folds)", fold,
           ref_.num_folds() - 1, ref_.num_folds());
    return ref_.rows_of(fold);
  }
  void log(const std::vector<MetricPoint>& points) {
    store_->log_metrics(id(), points);
    store_->heartbeat(id());
  }
  double log_fold(int fold, std::span<const double> oof, std::span<const double> test) {
    return writer_->add_fold(fold, fold_rows(fold), oof, test);
  }
  // Detection and segmentation: a fold's boxes or masks as tables (checked like a command
  // trainer's files, compe/image_data.hpp).
  double log_image_fold(int fold, const Table& oof, const std::optional<Table>& test) {
    if (!ref_.images)
      fail(ErrorCode::kInvalidArgument, "log_image_fold: this is a {} competition; use log_fold",
           metric::task_name(ref_.task));
    const run::ImageReference& img = *ref_.images;
    const std::vector<std::size_t> rows = fold_rows(fold);
    images::Predictions o = images::read_predictions(
        oof, {.task = ref_.task, .classes = &img.classes(), .set = &img.train, .expected = rows,
              .expected_what = fmt::format("the validation images of fold {}", fold), .set_file = "train.csv"});
    images::Predictions t;
    if (test) {
      std::vector<std::size_t> all(img.test.size());
      for (std::size_t i = 0; i < all.size(); ++i) all[i] = i;
      t = images::read_predictions(*test, {.task = ref_.task, .classes = &img.classes(), .set = &img.test,
                                           .expected = all, .expected_what = "the test images", .set_file = "test.csv"});
    }
    return writer_->add_image_fold(fold, std::move(o), std::move(t));
  }
  double finish() { return writer_->finish().cv; }
  void fail_run(const std::string& status, const std::string& error) {
    writer_->stop(parse_run_status(status), error);
  }

 private:
  Workspace ws_;
  std::unique_ptr<Store> store_;
  run::Reference ref_;
  std::unique_ptr<run::RunWriter> writer_;
};

// A table of image predictions from Python: text columns and number columns of one length.
Table image_table(const std::string& source, const std::map<std::string, std::vector<std::string>>& text,
                  const std::map<std::string, std::vector<double>>& numbers) {
  Table t;
  t.source = source;
  std::optional<std::size_t> n;
  auto check = [&](const std::string& name, std::size_t size) {
    if (n && *n != size)
      fail(ErrorCode::kInvalidArgument, "{}: column '{}' has {} values, the others {}", source, name, size, *n);
    n = size;
  };
  for (const auto& [name, values] : text) {
    check(name, values.size());
    t.add_column(Column::from_strings(name, std::vector<std::optional<std::string>>(values.begin(), values.end())));
  }
  for (const auto& [name, values] : numbers) {
    check(name, values.size());
    t.add_column(Column::from_f64(name, values));
  }
  return t;
}

std::vector<MetricPoint> points_of(const std::vector<std::string>& keys, const I64Array& folds,
                                   const I64Array& steps, const F64Array& values) {
  const std::size_t n = keys.size();
  if (static_cast<std::size_t>(folds.size()) != n || static_cast<std::size_t>(steps.size()) != n ||
      static_cast<std::size_t>(values.size()) != n)
    fail(ErrorCode::kInvalidArgument, "log: {} keys, {} folds, {} steps, {} values: lengths differ", n,
         folds.size(), steps.size(), values.size());
  std::vector<MetricPoint> points(n);
  for (std::size_t i = 0; i < n; ++i) {
    points[i].key = keys[i];
    if (folds.data()[i] >= 0) points[i].fold = static_cast<int>(folds.data()[i]);
    points[i].step = steps.data()[i];
    points[i].value = values.data()[i];
  }
  return points;
}

}  // namespace

void bind_track(py::module_& m) {
  py::class_<Store>(m, "Store")
      .def(py::init([](const std::string& url) {
        py::gil_scoped_release release;
        return open_store(url);
      }), "url"_a)
      .def_property_readonly("url", &Store::url)
      .def("get_run", [](Store& s, const std::string& id) {
        Run r;
        {
          py::gil_scoped_release release;
          r = s.get_run(s.resolve_run_id(id));
        }
        return run_dict(s, r);
      }, "id"_a)
      .def("list_runs", [](Store& s, std::int64_t limit, const std::string& sort, const std::string& name_contains) {
        RunFilter f;
        f.limit = limit;
        f.name_contains = name_contains;
        f.sort = sort == "best" ? RunSort::kBest : sort == "cv" ? RunSort::kCvScore : RunSort::kCreated;
        RunPage page;
        {
          py::gil_scoped_release release;
          page = s.list_runs(f);
        }
        py::list out;
        for (const auto& r : page.runs) out.append(run_dict(s, r));
        return out;
      }, "limit"_a = 50, "sort"_a = "created", "name_contains"_a = "")
      .def("log_metrics", [](Store& s, const std::string& run_id, const std::vector<std::string>& keys,
                             const I64Array& folds, const I64Array& steps, const F64Array& values) {
        auto points = points_of(keys, folds, steps, values);
        py::gil_scoped_release release;
        s.log_metrics(run_id, points);
        s.heartbeat(run_id);
      }, "run_id"_a, "keys"_a, "folds"_a, "steps"_a, "values"_a)
      .def("read_metrics", [](Store& s, const std::string& run_id, const std::string& key) {
        std::vector<MetricPoint> pts;
        {
          py::gil_scoped_release release;
          pts = s.read_metrics(run_id, key);
        }
        py::list out;
        for (const auto& p : pts)
          out.append(py::dict("key"_a = p.key, "fold"_a = p.fold, "step"_a = p.step, "value"_a = p.value));
        return out;
      }, "run_id"_a, "key"_a = "")
      .def("list_artifacts", [](Store& s, const std::string& run_id) {
        py::list out;
        for (const auto& a : s.list_artifacts(run_id))
          out.append(py::dict("name"_a = a.name, "path"_a = a.path, "kind"_a = a.kind, "size"_a = a.size));
        return out;
      }, "run_id"_a);

  m.def("default_store_path", &default_store_path, "workspace"_a);

  py::class_<RunRecorder>(m, "RunRecorder")
      .def(py::init([](const std::string& workspace, const std::string& name, const std::string& config_json,
                       const std::string& store, const std::string& command_line) {
        py::gil_scoped_release release;
        return std::make_unique<RunRecorder>(workspace, name, config_json, store, command_line);
      }), "workspace"_a, "name"_a, "config_json"_a, "store"_a = "", "command_line"_a = "")
      .def_property_readonly("id", &RunRecorder::id)
      .def_property_readonly("dir", &RunRecorder::dir)
      .def_property_readonly("num_folds", [](const RunRecorder& r) { return r.ref().num_folds(); })
      .def_property_readonly("prediction_columns", [](const RunRecorder& r) { return r.ref().prediction_columns; })
      .def_property_readonly("classes", [](const RunRecorder& r) { return r.ref().classes; })
      .def_property_readonly("folds_hash", [](const RunRecorder& r) { return r.ref().folds_hash; })
      .def("fold_rows", [](const RunRecorder& r, int fold) {
        auto rows = r.fold_rows(fold);
        return to_numpy(std::vector<std::int64_t>(rows.begin(), rows.end()));
      }, "fold"_a, "Positions among the validated train rows (train order) of fold `fold`.")
      .def("validated_ids", [](const RunRecorder& r) {
        std::vector<std::string> ids(r.ref().train_ids.size());
        for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = r.ref().train_ids.to_string(i);
        return ids;
      })
      .def("test_ids", [](const RunRecorder& r) {
        std::vector<std::string> ids(r.ref().test_ids.size());
        for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = r.ref().test_ids.to_string(i);
        return ids;
      })
      .def("log", [](RunRecorder& r, const std::vector<std::string>& keys, const I64Array& folds,
                     const I64Array& steps, const F64Array& values) {
        auto points = points_of(keys, folds, steps, values);
        py::gil_scoped_release release;
        r.log(points);
      }, "keys"_a, "folds"_a, "steps"_a, "values"_a)
      .def("log_fold", [](RunRecorder& r, int fold, const F64Array& oof, std::optional<F64Array> test) {
        const std::size_t k = r.ref().cols();
        if (cols_of(oof) != k || (test && cols_of(*test) != k))
          fail(ErrorCode::kInvalidArgument,
               "log_fold({}): predictions have {} column(s), expected {} ({})", fold,
               cols_of(test && cols_of(*test) != k ? *test : oof), k, join(r.ref().prediction_columns));
        std::span<const double> t;
        if (test) t = span_of(*test);
        py::gil_scoped_release release;
        return r.log_fold(fold, span_of(oof), t);
      }, "fold"_a, "oof"_a, "test"_a = py::none())
      .def_property_readonly("task", [](const RunRecorder& r) { return std::string(metric::task_name(r.ref().task)); })
      .def("log_image_fold", [](RunRecorder& r, int fold, const std::map<std::string, std::vector<std::string>>& oof_text,
                                const std::map<std::string, std::vector<double>>& oof_numbers,
                                std::optional<std::map<std::string, std::vector<std::string>>> test_text,
                                std::optional<std::map<std::string, std::vector<double>>> test_numbers) {
        const Table oof = image_table(fmt::format("log_image_fold({}) oof", fold), oof_text, oof_numbers);
        std::optional<Table> test;
        if (test_text || test_numbers)
          test = image_table(fmt::format("log_image_fold({}) test", fold),
                             test_text.value_or(std::map<std::string, std::vector<std::string>>{}),
                             test_numbers.value_or(std::map<std::string, std::vector<double>>{}));
        py::gil_scoped_release release;
        return r.log_image_fold(fold, oof, test);
      }, "fold"_a, "oof_text"_a, "oof_numbers"_a, "test_text"_a = py::none(), "test_numbers"_a = py::none(),
         "A detection or segmentation fold: columns as lists of text and of numbers (compe/track.py).")
      .def("finish", &RunRecorder::finish, py::call_guard<py::gil_scoped_release>())
      .def("fail", &RunRecorder::fail_run, "status"_a, "error"_a, py::call_guard<py::gil_scoped_release>());
}

}  // namespace compe::python
