// The one lifecycle of a run (begin, add_fold, finish or fail) and the one JSON shape of a run.
#include "compe/run_writer.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "compe/artifacts.hpp"
#include "compe/error.hpp"
#include "compe/util.hpp"

namespace compe::run {
namespace fs = std::filesystem;

namespace {

std::string shell_line(const std::string& cmd) {
  std::string out;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    char buf[256];
    while (std::fgets(buf, sizeof buf, p)) out += buf;
    ::pclose(p);
  }
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

std::string quote_arg(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') out += "'\\''";
    else out += c;
  }
  return out + "'";
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

RunWriter::RunWriter(const Workspace& ws, Store& store, const Reference& ref, RunSpec spec)
    : ws_(ws), store_(store), ref_(ref), spec_(std::move(spec)),
      t0_(std::chrono::steady_clock::now()) {
  const MetricDescription metric = describe_metric(ref_.task, ref_.metric);
  rec_.kind = spec_.kind;
  rec_.name = spec_.name;
  rec_.config = spec_.config;
  rec_.parent_id = spec_.parent_id;
  rec_.folds_hash = ref_.folds_hash;
  rec_.data_hash = data_hash(ws_);
  rec_.metric = metric.spec;
  rec_.direction = metric.greater_is_better ? "maximize" : "minimize";
  rec_.command = spec_.command_line;
  rec_.workdir = fs::current_path().string();
  rec_.partial = spec_.partial;
  rec_.versions = {{"compe", COMPE_VERSION}};
  for (const auto& [k, v] : spec_.versions.items()) rec_.versions[k] = v;
  std::string git = "git -C " + quote_arg(ws_.root().string()) + " ";
  if (spec_.record_git) {
    rec_.git_commit = shell_line(git + "rev-parse HEAD 2>/dev/null");
    if (!rec_.git_commit.empty()) {
      rec_.git_branch = shell_line(git + "rev-parse --abbrev-ref HEAD 2>/dev/null");
      rec_.git_dirty = !shell_line(git + "status --porcelain 2>/dev/null").empty();
    }
  }
  rec_ = store_.create_run(rec_);
  dir_ = ws_.runs_dir() / rec_.id;
  try {
    fs::create_directories(dir_);
    write_file_atomic(dir_ / "config.json", rec_.config.dump(2) + "\n");
    if (rec_.git_dirty.value_or(false)) {
      // The uncommitted change, so the run can be reproduced even if it is never committed.
      std::string diff = shell_line(git + "diff HEAD --binary 2>/dev/null");
      if (!diff.empty()) write_file_atomic(dir_ / "git.diff", diff + "\n");
    }
  } catch (const std::exception& e) {
    stop(RunStatus::kFailed, e.what());
    throw;
  }
  oof_.assign(ref_.rows() * ref_.cols(), NAN);
  has_oof_.assign(ref_.rows(), 0);
}

RunWriter::~RunWriter() {
  if (!ended_) stop(RunStatus::kFailed, "the run ended without finishing");
}

void RunWriter::log(const std::string& line) {
  std::lock_guard lock(mu_);
  log_ += line;
  if (line.empty() || line.back() != '\n') log_ += '\n';
}

double RunWriter::add_fold(int fold, std::span<const std::size_t> rows,
                           std::span<const double> oof, std::span<const double> test,
                           std::optional<double> score, std::span<const MetricPoint> curves) {
  const std::size_t k = ref_.cols();
  if (fold < 0 || fold >= ref_.num_folds())
    fail(ErrorCode::kInvalidArgument, "fold {} is outside 0..{} (folds.csv has {} folds)", fold,
         ref_.num_folds() - 1, ref_.num_folds());
  if (oof.size() != rows.size() * k)
    fail(ErrorCode::kInvalidArgument,
         "fold {}: oof has {} values, expected {} rows x {} column(s) ({})", fold, oof.size(),
         rows.size(), k, join(ref_.prediction_columns));
  if (!test.empty() && test.size() != ref_.test_ids.size() * k)
    fail(ErrorCode::kInvalidArgument, "fold {}: test has {} values, expected {} rows x {} column(s)",
         fold, test.size(), ref_.test_ids.size(), k);
  auto check_finite = [&](std::span<const double> v, const char* what) {
    for (std::size_t i = 0; i < v.size(); ++i)
      if (!std::isfinite(v[i]))
        fail(ErrorCode::kInvalidArgument,
             "fold {}: {} row {} column '{}' is {}, expected a finite number", fold, what, i / k,
             ref_.prediction_columns[i % k], v[i]);
  };
  check_finite(oof, "oof");
  check_finite(test, "test");
  if (!score) {
    const std::size_t tc = ref_.true_cols;  // multilabel: the label columns
    std::vector<double> y(rows.size() * tc);
    for (std::size_t i = 0; i < rows.size(); ++i)
      std::copy_n(ref_.y_true.begin() + static_cast<std::ptrdiff_t>(rows[i] * tc), tc,
                  y.begin() + static_cast<std::ptrdiff_t>(i * tc));
    score = metric::score(ref_.metric, {.y_true = y, .true_cols = tc, .y_pred = oof, .pred_cols = k});
  }
  std::lock_guard lock(mu_);
  // A fold given again (a notebook retraining it) replaces what it gave before.
  for (std::size_t i = 0; i < rows.size(); ++i) {
    COMPE_ASSERT(rows[i] < ref_.rows());
    std::copy_n(oof.begin() + static_cast<std::ptrdiff_t>(i * k), k,
                oof_.begin() + static_cast<std::ptrdiff_t>(rows[i] * k));
    has_oof_[rows[i]] = 1;
  }
  if (!test.empty()) test_[fold].assign(test.begin(), test.end());
  fold_scores_[fold] = *score;
  store_.add_fold_score(rec_.id, fold, *score);
  if (!curves.empty()) store_.log_metrics(rec_.id, curves);
  store_.heartbeat(rec_.id);
  return *score;
}

Summary RunWriter::finish(const FinishOptions& opt) {
  std::lock_guard lock(mu_);
  if (fold_scores_.empty())
    fail(ErrorCode::kInvalidArgument, "run {} has no scored fold: nothing to finish", rec_.id);
  const std::size_t k = ref_.cols();
  Summary sum;
  sum.run_id = rec_.id;
  sum.name = rec_.name;
  sum.kind = rec_.kind;
  sum.metric = rec_.metric;
  sum.greater_is_better = rec_.direction == "maximize";
  sum.fold_scores = fold_scores_;
  sum.folds_hash = rec_.folds_hash;
  sum.data_hash = rec_.data_hash;
  sum.parent_id = rec_.parent_id;
  sum.dir = dir_;
  sum.model_seconds = opt.model_seconds;

  // Pooled OOF: the validated rows that a fold gave, in train order.
  std::vector<std::size_t> rows;
  std::vector<double> pred;
  std::vector<int> folds;
  if (ref_.images) {
    finish_images(opt, sum);
  } else {
    for (std::size_t r = 0; r < ref_.rows(); ++r)
      if (has_oof_[r]) rows.push_back(r);
    pred.resize(rows.size() * k);
    folds.resize(rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
      std::copy_n(oof_.begin() + static_cast<std::ptrdiff_t>(rows[i] * k), k,
                  pred.begin() + static_cast<std::ptrdiff_t>(i * k));
      folds[i] = ref_.folds[rows[i]];
    }
    sum.cv = opt.cv ? *opt.cv : score_rows(ref_, oof_, rows);
  }
  std::vector<double> values;
  for (const auto& [f, s] : fold_scores_) values.push_back(s);
  sum.mean = std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
  double var = 0;
  for (double v : values) var += (v - sum.mean) * (v - sum.mean);
  sum.std = values.size() > 1 ? std::sqrt(var / static_cast<double>(values.size() - 1)) : 0.0;
  sum.partial = spec_.partial || static_cast<int>(fold_scores_.size()) < ref_.num_folds();
  if (auto d = cv_divergence(sum.cv, fold_scores_)) {
    sum.notes.push_back("warning: " + *d);
    log_ += "warning: " + *d + "\n";
  }

  if (!ref_.images) {
    write_oof_csv(dir_ / "oof.csv", ref_.train_ids.take(rows), folds, ref_.prediction_columns, pred);
    sum.oof = dir_ / "oof.csv";
    // Test: the folds' mean (or what the caller gives), and each fold model's own predictions.
    std::vector<double> test = opt.test;
    const std::size_t n_test = ref_.test_ids.size();
    if (test.empty() && !test_.empty()) {
      test.assign(n_test * k, 0.0);
      for (const auto& [f, t] : test_)
        for (std::size_t i = 0; i < t.size(); ++i) test[i] += t[i];
      for (double& v : test) v /= static_cast<double>(test_.size());
    }
    if (!test_.empty()) {
      std::vector<std::size_t> idx;
      std::vector<int> tf;
      std::vector<double> tp;
      idx.reserve(n_test * test_.size());
      tp.reserve(n_test * k * test_.size());
      for (const auto& [f, t] : test_) {
        for (std::size_t i = 0; i < n_test; ++i) idx.push_back(i);
        tf.insert(tf.end(), n_test, f);
        tp.insert(tp.end(), t.begin(), t.end());
      }
      write_oof_csv(dir_ / "test_folds.csv", ref_.test_ids.take(idx), tf, ref_.prediction_columns, tp);
      sum.test_folds = dir_ / "test_folds.csv";
    }
    if (!test.empty()) {
      COMPE_ASSERT(test.size() == n_test * k);
      write_test_csv(dir_ / "test.csv", ref_.test_ids, ref_.prediction_columns, test);
      sum.test = dir_ / "test.csv";
      Table sample = ws_.read_sample_submission();
      if (opt.test_labels && sample.num_columns() == 2)
        write_label_submission(dir_ / "submission.csv", sample, ref_.id_column, ref_.test_ids,
                               ref_.classes, *opt.test_labels);
      else
        write_submission(dir_ / "submission.csv", sample, ref_.id_column, ref_.test_ids,
                         ref_.prediction_columns, test, ref_.classes);
      sum.submission = dir_ / "submission.csv";
    }
  }
  sum.wall_seconds = seconds_since(t0_);

  const CompetitionConfig& cfg = ws_.config();
  Meta meta;
  meta.competition = cfg.name;
  meta.task = metric::task_name(ref_.task);
  meta.metric = rec_.metric;
  meta.id = ref_.id_column;
  meta.target = cfg.target_columns;
  meta.prediction_columns = ref_.prediction_columns;
  meta.folds_hash = ref_.folds_hash;
  meta.data_hash = rec_.data_hash;
  meta.target_transform = spec_.target_transform;
  meta.producer = spec_.producer.empty() ? fmt::format("compe {} ({})", COMPE_VERSION, rec_.kind)
                                         : spec_.producer;
  meta.run_id = rec_.id;
  meta.kind = rec_.kind;
  meta.partial = sum.partial;
  meta.cv = sum.cv;
  meta.fold_scores = fold_scores_;
  meta.fold_mean = sum.mean;
  meta.fold_std = sum.std;
  meta.test_folds = !ref_.images ? (test_.empty() ? "" : "test_folds.csv")
                    : image_test_.empty()           ? ""
                    : ref_.task == metric::kDetection ? "test_boxes_folds.csv"
                                                      : "test_masks_folds.csv";
  meta.cv_details = opt.cv_details;
  meta.extra = opt.meta_extra;
  write_file_atomic(dir_ / "meta.json", meta.to_json().dump(2) + "\n");
  log_ += fmt::format("cv {} = {:.6f} (folds mean {:.6f} ± {:.6f}){}, {:.2f} s\n", rec_.metric,
                      sum.cv, sum.mean, sum.std, sum.partial ? ", partial" : "", sum.wall_seconds);
  write_file_atomic(dir_ / "run.log", log_);
  record_artifacts(store_, ws_, rec_.id, dir_);

  struct rusage ru {};
  ::getrusage(RUSAGE_SELF, &ru);
  RunResult rr;
  rr.status = RunStatus::kFinished;
  rr.cv_score = sum.cv;
  rr.fold_scores = fold_scores_;
  rr.partial = sum.partial;
  rr.wall_seconds = sum.wall_seconds;
  rr.cpu_seconds = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                   static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  rr.peak_memory_bytes = static_cast<std::int64_t>(ru.ru_maxrss) * 1024;
  store_.finish_run(rec_.id, rr);
  ended_ = true;
  return sum;
}

void RunWriter::stop(RunStatus status, const std::string& why) noexcept {
  std::lock_guard lock(mu_);
  if (ended_) return;
  ended_ = true;
  try {
    RunResult rr;
    rr.status = status;
    rr.error = why;
    rr.fold_scores = fold_scores_;
    rr.partial = status == RunStatus::kPruned ? std::optional<bool>(true) : std::nullopt;
    rr.wall_seconds = seconds_since(t0_);
    store_.finish_run(rec_.id, rr);
    write_file_atomic(dir_ / "run.log",
                      log_ + fmt::format("{}: {}\n", run_status_name(status), why));
  } catch (...) {
    // The caller's error is the one to report.
  }
}

std::optional<std::string> cv_divergence(double cv, const std::map<int, double>& fold_scores) {
  const std::size_t k = fold_scores.size();
  if (k < 2 || !std::isfinite(cv)) return std::nullopt;
  double mean = 0;
  for (const auto& [f, s] : fold_scores) mean += s;
  mean /= static_cast<double>(k);
  double var = 0;
  for (const auto& [f, s] : fold_scores) var += (s - mean) * (s - mean);
  const double se = std::sqrt(var / static_cast<double>(k - 1) / static_cast<double>(k));
  const double gap = cv - mean;
  if (!(std::abs(gap) > 2 * se && std::abs(gap) > 1e-3 * std::max(1.0, std::abs(mean)))) return std::nullopt;
  return fmt::format(
      "pooled OOF {:.6g} and the fold mean {:.6g} differ by {:+.3g}, more than fold noise explains (2 standard "
      "errors: {:.3g}): the folds' predictions sit on different scales; stop early on an inner split "
      "(early_stopping = \"inner\") or calibrate before trusting either number",
      cv, mean, gap, 2 * se);
}

// ---- the Run record as JSON ----

nlohmann::json run_json(const Run& r, std::span<const Artifact> artifacts) {
  using nlohmann::json;
  auto num = [](const std::optional<double>& v) {
    return v && std::isfinite(*v) ? json(*v) : json(nullptr);
  };
  json folds = json::object();
  std::vector<double> values;
  for (const auto& [f, s] : r.fold_scores) {
    folds[std::to_string(f)] = std::isfinite(s) ? json(s) : json(nullptr);
    values.push_back(s);
  }
  std::optional<double> mean, sd;
  if (!values.empty()) {
    mean = std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
    double var = 0;
    for (double v : values) var += (v - *mean) * (v - *mean);
    sd = values.size() > 1 ? std::sqrt(var / static_cast<double>(values.size() - 1)) : 0.0;
  }
  // An image run's oof/test/test_folds are its boxes or masks files.
  auto file = [&](const char* name) {
    const std::string n = name;
    for (const auto& a : artifacts)
      if (a.name == n) return json(a.path);
    for (const char* kind : {"boxes", "masks"}) {
      const std::string alt = n == "oof" ? fmt::format("oof_{}", kind)
                              : n == "test" ? fmt::format("test_{}", kind)
                              : n == "test_folds" ? fmt::format("test_{}_folds", kind)
                                                  : std::string();
      for (const auto& a : artifacts)
        if (!alt.empty() && a.name == alt) return json(a.path);
    }
    return json(nullptr);
  };
  json artifacts_json = json::array();
  for (const auto& a : artifacts)
    artifacts_json.push_back({{"name", a.name}, {"path", a.path}, {"size", a.size},
                              {"sha", a.sha}, {"stored", a.stored}});
  const json& cfg = r.config;
  auto at = [&](const char* pointer) {
    json::json_pointer p(pointer);
    return cfg.is_object() && cfg.contains(p) ? cfg[p] : json(nullptr);
  };
  // Members of a blend, with weights; a threshold's source run.
  json members = nullptr;
  if (json in = at("/blend/inputs"); in.is_array()) {
    members = json::array();
    for (const json& m : in) {
      if (!m.is_object()) continue;
      json e = m;  // name (run id or folder), label, input, oof_score as the blend recorded them
      for (const char* key : {"run_id", "path", "name", "label", "weight", "oof_score"})
        if (!e.contains(key)) e[key] = nullptr;
      members.push_back(std::move(e));
    }
  }
  json params = at("/model/params");
  if (params.is_null()) params = at("/blend/params");
  if (params.is_null()) params = at("/decision/rule");
  const std::optional<std::string> note =
      r.cv_score ? cv_divergence(*r.cv_score, r.fold_scores) : std::nullopt;
  std::string model = at("/model/backend").is_string() ? at("/model/backend").get<std::string>()
                                                       : "";
  return {{"run_id", r.id},
          {"name", r.name},
          {"kind", r.kind.empty() ? json(nullptr) : json(r.kind)},
          {"status", run_status_name(r.status)},
          {"partial", r.partial},
          {"model", model},
          {"metric", r.metric},
          {"direction", r.direction},
          {"cv", num(r.cv_score)},
          {"fold_mean", num(mean)},
          {"fold_std", num(sd)},
          {"folds", folds},
          {"cv_optimistic", at("/cv/optimistic").is_boolean() && at("/cv/optimistic").get<bool>()},
          {"cv_note", note ? json(*note) : json(nullptr)},
          {"folds_hash", r.folds_hash},
          {"data_hash", r.data_hash},
          {"submission", file("submission")},
          {"oof", file("oof")},
          {"test", file("test")},
          {"test_folds", file("test_folds")},
          {"parent", r.parent_id.empty() ? json(nullptr) : json(r.parent_id)},
          {"members", members},
          {"params", params},
          {"proxy", at("/proxy")},
          {"pseudo", at("/pseudo")},
          {"tags", r.tags},
          {"note", r.note},
          {"error", r.error},
          {"created", iso8601_utc(r.created_ms)},
          {"ended", r.ended_ms ? json(iso8601_utc(*r.ended_ms)) : json(nullptr)},
          {"heartbeat", r.heartbeat_ms ? json(iso8601_utc(*r.heartbeat_ms)) : json(nullptr)},
          {"wall_seconds", num(r.wall_seconds)},
          {"cpu_seconds", num(r.cpu_seconds)},
          {"peak_memory_bytes", r.peak_memory_bytes ? json(*r.peak_memory_bytes) : json(nullptr)},
          {"command", r.command},
          {"workdir", r.workdir},
          {"host", r.host},
          {"user", r.user},
          {"pid", r.pid},
          {"artifacts", artifacts_json},
          {"git",
           {{"commit", r.git_commit},
            {"branch", r.git_branch},
            {"dirty", r.git_dirty ? json(*r.git_dirty) : json(nullptr)}}},
          {"versions", r.versions},
          {"config", r.config}};
}

}  // namespace compe::run
