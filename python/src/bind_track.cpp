// The run store and runs recorded from Python (the fold loop lives in the caller's code).
#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>
#include <map>

#include "compe/artifacts.hpp"
#include "compe/blend.hpp"
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

py::dict run_dict(const Run& r) {
  py::dict d;
  d["id"] = r.id;
  d["name"] = r.name;
  d["status"] = std::string(run_status_name(r.status));
  d["created_ms"] = r.created_ms;
  d["started_ms"] = r.started_ms;
  d["ended_ms"] = r.ended_ms;
  d["config"] = to_python(r.config);
  d["parent_id"] = r.parent_id;
  d["folds_hash"] = r.folds_hash;
  d["data_hash"] = r.data_hash;
  d["metric"] = r.metric;
  d["direction"] = r.direction;
  d["cv_score"] = r.cv_score;
  d["fold_scores"] = r.fold_scores;
  d["tags"] = r.tags;
  d["note"] = r.note;
  d["error"] = r.error;
  d["wall_seconds"] = r.wall_seconds;
  return d;
}

/// A run whose folds are trained by Python code: created on construction, fed fold by fold,
/// written (oof.csv, test.csv, submission.csv, meta.json) and scored by finish().
class RunRecorder {
 public:
  RunRecorder(const std::string& workspace, const std::string& name, const std::string& config_json,
              const std::string& store_url, const std::string& command_line)
      : ws_(Workspace::open(workspace)),
        store_(open_store(store_url.empty() ? ws_.store_path().string() : store_url)),
        started_(std::chrono::steady_clock::now()) {
    if (!fs::exists(ws_.folds_path())) {
      FoldAssignment a = make_folds(ws_.read_train(), ws_.config(), ws_.config().folds);
      write_folds(ws_.folds_path(), a);
    }
    ref_ = blend::reference_from_workspace(ws_);
    auto metric = metric::make(ref_.metric);
    greater_ = metric->info().greater_is_better();
    Run rec;
    rec.name = name;
    rec.config = nlohmann::json::parse(config_json);
    if (!rec.config.is_object())
      fail(ErrorCode::kInvalidArgument, "start_run: config must be a dict, got {}", rec.config.dump());
    rec.folds_hash = ref_.folds_hash;
    rec.data_hash = run::data_hash(ws_);
    rec.metric = metric->spec();
    rec.direction = greater_ ? "maximize" : "minimize";
    rec.command = command_line;
    rec.workdir = fs::current_path().string();
    rec.versions = {{"compe", COMPE_VERSION}, {"producer", "python"}};
    run_ = store_->create_run(rec);
    dir_ = ws_.runs_dir() / run_.id;
    fs::create_directories(dir_);
    write_file_atomic(dir_ / "config.json", run_.config.dump(2) + "\n");
    oof_.assign(ref_.rows() * ref_.cols(), std::numeric_limits<double>::quiet_NaN());
  }

  const std::string& id() const { return run_.id; }
  std::string dir() const { return dir_.string(); }
  const blend::Reference& ref() const { return ref_; }

  /// Rows of the reference (validated train rows) in fold `fold`, in train order.
  std::vector<std::size_t> fold_rows(int fold) const {
    check_fold(fold);
    std::vector<std::size_t> rows;
    for (std::size_t r = 0; r < ref_.folds.size(); ++r)
      if (ref_.folds[r] == fold) rows.push_back(r);
    return rows;
  }

  void log(const std::vector<MetricPoint>& points) {
    store_->log_metrics(run_.id, points);
    store_->heartbeat(run_.id);
  }

  double log_fold(int fold, std::span<const double> oof, std::size_t oof_cols,
                  std::optional<std::span<const double>> test, std::size_t test_cols) {
    const auto rows = fold_rows(fold);
    const std::size_t k = ref_.cols();
    if (oof_cols != k || oof.size() != rows.size() * k)
      fail(ErrorCode::kInvalidArgument,
           "log_fold({}): oof has {} values in {} column(s), expected {} rows x {} column(s) ({})",
           fold, oof.size(), oof_cols, rows.size(), k, join(ref_.prediction_columns));
    check_finite(oof, "oof", fold, k);
    for (std::size_t i = 0; i < rows.size(); ++i)
      std::copy_n(oof.begin() + static_cast<std::ptrdiff_t>(i * k), k,
                  oof_.begin() + static_cast<std::ptrdiff_t>(rows[i] * k));
    if (test) {
      const std::size_t n_test = ref_.test_ids.size();
      if (test_cols != k || test->size() != n_test * k)
        fail(ErrorCode::kInvalidArgument,
             "log_fold({}): test has {} values in {} column(s), expected {} rows x {} column(s)", fold,
             test->size(), test_cols, n_test, k);
      check_finite(*test, "test", fold, k);
      test_[fold].assign(test->begin(), test->end());
    }
    const double s = blend::score_rows(ref_, oof_, rows);
    fold_scores_[fold] = s;
    store_->add_fold_score(run_.id, fold, s);
    store_->heartbeat(run_.id);
    return s;
  }

  /// Writes the run's files and marks it finished; returns the CV score (NaN without folds).
  double finish() {
    if (fold_scores_.empty())
      fail(ErrorCode::kInvalidArgument, "run {} ended without any log_fold(): nothing to score",
           run_.id);
    std::vector<std::size_t> rows;
    std::vector<int> folds;
    for (std::size_t r = 0; r < ref_.folds.size(); ++r)
      if (fold_scores_.count(ref_.folds[r])) {
        rows.push_back(r);
        folds.push_back(ref_.folds[r]);
      }
    const std::size_t k = ref_.cols();
    const double cv = blend::score_rows(ref_, oof_, rows);
    std::vector<double> oof(rows.size() * k);
    for (std::size_t i = 0; i < rows.size(); ++i)
      std::copy_n(oof_.begin() + static_cast<std::ptrdiff_t>(rows[i] * k), k,
                  oof.begin() + static_cast<std::ptrdiff_t>(i * k));
    run::write_oof_csv(dir_ / "oof.csv", ref_.train_ids.take(rows), folds, ref_.prediction_columns, oof);
    if (!test_.empty()) {
      std::vector<double> test(ref_.test_ids.size() * k, 0.0);
      for (auto& [f, t] : test_)
        for (std::size_t i = 0; i < t.size(); ++i) test[i] += t[i] / static_cast<double>(test_.size());
      run::write_test_csv(dir_ / "test.csv", ref_.test_ids, ref_.prediction_columns, test);
      run::write_submission(dir_ / "submission.csv", ws_.read_sample_submission(), ref_.id_column,
                            ref_.test_ids, ref_.prediction_columns, test, ref_.classes);
    }
    const CompetitionConfig& cfg = ws_.config();
    nlohmann::json fold_json = nlohmann::json::object();
    for (auto& [f, s] : fold_scores_) fold_json[std::to_string(f)] = s;
    nlohmann::json meta = {{"format_version", 1},
                           {"competition", cfg.name},
                           {"task", metric::task_name(cfg.task)},
                           {"metric", run_.metric},
                           {"id", cfg.id_column},
                           {"target", cfg.target_columns},
                           {"prediction_columns", ref_.prediction_columns},
                           {"folds_hash", ref_.folds_hash},
                           {"data_hash", run_.data_hash},
                           {"target_transform", "none"},
                           {"producer", fmt::format("compe {} (python)", COMPE_VERSION)},
                           {"run_id", run_.id},
                           {"cv", {{"score", cv}, {"folds", fold_json}}}};
    write_file_atomic(dir_ / "meta.json", meta.dump(2) + "\n");
    run::record_artifacts(*store_, ws_, run_.id, dir_);
    RunResult rr;
    rr.status = RunStatus::kFinished;
    rr.cv_score = cv;
    rr.fold_scores = fold_scores_;
    rr.wall_seconds = elapsed();
    store_->finish_run(run_.id, rr);
    return cv;
  }

  void fail_run(const std::string& status, const std::string& error) {
    RunResult rr;
    rr.status = parse_run_status(status);
    rr.error = error;
    rr.fold_scores = fold_scores_;
    rr.wall_seconds = elapsed();
    store_->finish_run(run_.id, rr);
  }

 private:
  void check_fold(int fold) const {
    if (fold < 0 || fold >= ref_.num_folds())
      fail(ErrorCode::kInvalidArgument, "fold {} is outside 0..{} (folds.csv has {} folds)", fold,
           ref_.num_folds() - 1, ref_.num_folds());
  }
  void check_finite(std::span<const double> v, const char* what, int fold, std::size_t k) const {
    for (std::size_t i = 0; i < v.size(); ++i)
      if (!std::isfinite(v[i]))
        fail(ErrorCode::kInvalidArgument, "log_fold({}): {} row {} column {} is {}, expected a finite number",
             fold, what, i / k, i % k, v[i]);
  }
  double elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
  }

  Workspace ws_;
  std::unique_ptr<Store> store_;
  blend::Reference ref_;
  bool greater_ = true;
  Run run_;
  fs::path dir_;
  std::vector<double> oof_;
  std::map<int, std::vector<double>> test_;
  std::map<int, double> fold_scores_;
  std::chrono::steady_clock::time_point started_;
};

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
        return run_dict(r);
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
        for (const auto& r : page.runs) out.append(run_dict(r));
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
        std::optional<std::span<const double>> t;
        std::size_t test_cols = 0;
        if (test) {
          t = span_of(*test);
          test_cols = cols_of(*test);
        }
        py::gil_scoped_release release;
        return r.log_fold(fold, span_of(oof), cols_of(oof), t, test_cols);
      }, "fold"_a, "oof"_a, "test"_a = py::none())
      .def("finish", &RunRecorder::finish, py::call_guard<py::gil_scoped_release>())
      .def("fail", &RunRecorder::fail_run, "status"_a, "error"_a, py::call_guard<py::gil_scoped_release>());
}

}  // namespace compe::python
