#include "compe/run.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>
#include <numeric>
#include <unordered_map>
#include <unordered_set>

#include "compe/artifacts.hpp"
#include "compe/error.hpp"
#include "compe/folds.hpp"
#include "compe/metric.hpp"
#include "compe/model.hpp"
#include "compe/score.hpp"
#include "compe/store.hpp"
#include "compe/track.hpp"
#include "compe/util.hpp"

namespace compe::run {
namespace fs = std::filesystem;

namespace {

struct Interrupted : Error {
  Interrupted() : Error(ErrorCode::kInvalidArgument, "interrupted") {}
};

void check_unique_ids(const Table& t, const std::string& id) {
  const Column& c = t.column(id);
  std::unordered_map<std::string, std::size_t> seen;
  seen.reserve(c.size() * 2);
  for (std::size_t r = 0; r < c.size(); ++r) {
    if (c.is_missing(r))
      fail(ErrorCode::kInvalidArgument, "{}: line {}: the id column '{}' is empty", t.source, r + 2, id);
    auto [it, ok] = seen.emplace(c.to_string(r), r);
    if (!ok)
      fail(ErrorCode::kInvalidArgument, "{}: duplicate id '{}' at lines {} and {}: ids must be unique",
           t.source, it->first, it->second + 2, r + 2);
  }
}

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

void write_text(const fs::path& p, const std::string& s) { write_file_atomic(p, s); }

// Beats for a run from a thread of its own while the folds train. A failed beat (a busy or
// unreachable store) is skipped: the next one may succeed, and the run's own writes report
// a store that stays down.
class Heartbeat {
 public:
  Heartbeat(Store& store, std::string run_id, std::chrono::milliseconds every)
      : store_(store), run_id_(std::move(run_id)), every_(every) {
    if (every_.count() > 0) thread_ = std::thread([this] { loop(); });
  }
  Heartbeat(const Heartbeat&) = delete;
  Heartbeat& operator=(const Heartbeat&) = delete;
  ~Heartbeat() {
    {
      std::lock_guard lock(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void loop() {
    std::unique_lock lock(mu_);
    while (!cv_.wait_for(lock, every_, [this] { return stop_; })) {
      lock.unlock();
      try {
        store_.heartbeat(run_id_);
      } catch (const std::exception&) {
      }
      lock.lock();
    }
  }

  Store& store_;
  std::string run_id_;
  std::chrono::milliseconds every_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace

Summary run_experiment(const Workspace& ws, const Experiment& exp, const Options& opt, const EventSink& sink) {
  auto t0 = std::chrono::steady_clock::now();
  const CompetitionConfig& cfg = ws.config();
  Summary sum;
  auto emit = [&](Event e) {
    if (sink) sink(e);
  };
  auto note = [&](std::string m) {
    sum.notes.push_back(m);
    emit({.kind = Event::kNote, .message = std::move(m)});
  };

  // ---- data, folds, target, features: everything that can fail before a run is recorded ----
  Table train = ws.read_train();
  Table test = ws.read_test();
  Table sample = ws.read_sample_submission();
  check_unique_ids(train, cfg.id_column);
  check_unique_ids(test, cfg.id_column);
  (void)sample.column(cfg.id_column);
  for (const auto& t : cfg.target_columns) (void)train.column(t);

  FoldAssignment fa;
  if (!fs::exists(ws.folds_path())) {
    fa = make_folds(train, cfg, cfg.folds);
    write_folds(ws.folds_path(), fa);
    note(fmt::format("no folds.csv: made one ({} k={} seed={}, hash {})", cfg.folds.spec.strategy,
                     cfg.folds.spec.k, cfg.folds.spec.seed, fa.hash));
  } else {
    fa = read_folds(ws.folds_path(), train, cfg.id_column);
  }
  SplitData sd = make_split_data(train, cfg, cfg.folds);
  int k = 0;
  for (int f : fa.folds) k = std::max(k, f + 1);
  std::vector<int> folds = exp.folds;
  if (folds.empty())
    for (int f = 0; f < k; ++f) folds.push_back(f);
  for (int f : folds)
    if (f >= k) fail(ErrorCode::kInvalidArgument, "fold {} does not exist: folds.csv has folds 0..{}", f, k - 1);
  std::vector<std::uint8_t> keep_rows;
  if (opt.row_filter) {
    keep_rows = opt.row_filter(sd.inputs(), fa.folds);
    COMPE_ASSERT(keep_rows.empty() || keep_rows.size() == train.num_rows());
  }

  const model::Info& mi = model::find(exp.backend);
  if (!mi.accepts(cfg.task))
    fail(ErrorCode::kInvalidArgument, "model '{}' does not support {} tasks", mi.name, metric::task_name(cfg.task));
  nlohmann::json params = model::resolve_params(mi, exp.params);
  if (cfg.target_columns.size() != 1)
    fail(ErrorCode::kInvalidArgument, "the '{}' model trains one target column; this competition has {}",
         mi.name, cfg.target_columns.size());
  const Column& target_col = train.column(cfg.target_columns[0]);
  model::Target target =
      model::Target::encode(target_col, cfg.task, model::parse_target_transform(exp.target_transform));
  model::FeatureSpec spec{cfg.id_column, cfg.target_columns, exp.keep, exp.drop, exp.categorical};
  model::FeatureMatrix fm = model::FeatureMatrix::build(train, test, spec);
  if (std::string r = fm.report().to_string(); !r.empty()) note(r);
  auto metric = metric::make(cfg.metric);
  const bool greater = metric->info().greater_is_better();
  const std::size_t cols = target.prediction_columns();
  std::vector<std::string> pred_cols = prediction_columns(sample, cfg.id_column, target);

  // Metric truth: class indices for classification, original values for regression.
  std::vector<double> y_true = target.y;
  if (cfg.task == metric::kRegression)
    for (std::size_t r = 0; r < y_true.size(); ++r) y_true[r] = target_col.as_double(r);

  // ---- the run record ----
  auto store = open_store(opt.store.empty() ? ws.store_path().string() : opt.store);
  store->mark_interrupted_stale();
  Run rec;
  rec.name = exp.name.empty() ? mi.name : exp.name;
  nlohmann::json config = exp.to_json();
  config["model"]["params"] = params;
  config["competition"] = {{"name", cfg.name}, {"task", metric::task_name(cfg.task)}, {"metric", cfg.metric},
                           {"id", cfg.id_column}, {"target", cfg.target_columns},
                           {"folds", {{"strategy", cfg.folds.spec.strategy}, {"k", k}, {"seed", cfg.folds.spec.seed}}}};
  rec.config = config;
  rec.folds_hash = fa.hash;
  rec.data_hash = data_hash(ws);
  rec.metric = metric->spec();
  rec.direction = greater ? "maximize" : "minimize";
  rec.command = opt.command_line;
  rec.workdir = fs::current_path().string();
  rec.versions = {{"compe", COMPE_VERSION}};
  std::string git = "git -C " + quote_arg(ws.root().string()) + " ";
  rec.git_commit = shell_line(git + "rev-parse HEAD 2>/dev/null");
  if (!rec.git_commit.empty()) {
    rec.git_branch = shell_line(git + "rev-parse --abbrev-ref HEAD 2>/dev/null");
    rec.git_dirty = !shell_line(git + "status --porcelain 2>/dev/null").empty();
  }
  // One hypothesis at a time: compare with the parent (given, or the best finished run on the
  // same folds and metric) and say what changed.
  if (auto parent = track::choose_parent(*store, exp.parent, metric->spec(), fa.hash)) {
    rec.parent_id = parent->id;
    sum.parent_id = parent->id;
    auto ignore = track::bookkeeping_keys();
    for (const auto& ch : track::config_diff(parent->config, config, ignore)) sum.changed_keys.push_back(ch.key);
    if (sum.changed_keys.empty()) {
      note(fmt::format("same configuration as run {} ({})", parent->id, parent->name));
    } else {
      std::vector<std::string> parts;
      for (const auto& ch : track::config_diff(parent->config, config, ignore))
        parts.push_back(fmt::format("{}: {} -> {}", ch.key, ch.before.dump(), ch.after.dump()));
      note(fmt::format("against run {} ({}): {}", parent->id, parent->name, join(parts, "; ")));
      if (sum.changed_keys.size() > 1 && !opt.allow_multi) {
        sum.multi_hypothesis = true;
        note(fmt::format("warning: {} hypotheses changed at once ({}); test one at a time, or pass --allow-multi",
                         sum.changed_keys.size(), join(sum.changed_keys)));
      }
    }
  }
  rec.config = config;
  rec.versions["threads"] = resolve_threads(exp.threads);
  rec.versions["seed"] = exp.seed;
  rec = store->create_run(rec);
  sum.run_id = rec.id;
  sum.name = rec.name;
  sum.metric = metric->spec();
  sum.greater_is_better = greater;
  sum.folds_hash = fa.hash;
  sum.data_hash = rec.data_hash;
  sum.dir = ws.runs_dir() / rec.id;
  fs::create_directories(sum.dir);
  write_text(sum.dir / "config.json", config.dump(2) + "\n");
  if (rec.git_dirty.value_or(false)) {
    // The uncommitted change, so the run can be reproduced even if it is never committed.
    std::string diff = shell_line(git + "diff HEAD --binary 2>/dev/null");
    if (!diff.empty()) write_text(sum.dir / "git.diff", diff + "\n");
  }

  const std::size_t n_test = fm.num_test_rows();
  std::vector<double> oof(train.num_rows() * cols, NAN);
  std::vector<std::uint8_t> has_oof(train.num_rows(), 0);
  std::vector<double> test_sum(n_test * cols, 0.0);
  std::mutex mu;
  std::string log = fmt::format("run {} ({}), model {}, metric {}\n", rec.id, rec.name, mi.name, metric->spec());
  for (const auto& n : sum.notes) log += n + "\n";

  model::SourceData src;
  src.train = &train;
  src.test = &test;
  src.id_column = cfg.id_column;
  src.target_columns = cfg.target_columns;
  src.work_dir = sum.dir;
  src.folds_csv = ws.folds_path();
  src.num_folds = static_cast<std::size_t>(k);

  emit({.kind = Event::kStart, .num_folds = static_cast<int>(folds.size()), .message = rec.id});
  try {
    Heartbeat heartbeat(*store, rec.id, opt.heartbeat_interval);
    std::size_t parallel = std::clamp<std::size_t>(exp.parallel_folds, 1, folds.size());
    std::size_t threads = resolve_threads(exp.threads);
    std::size_t per_fold = std::max<std::size_t>(1, threads / parallel);
    auto model = model::make(mi.name);

    auto run_fold = [&](int f) {
      std::vector<std::size_t> tr = split::train_rows(cfg.folds.spec, sd.inputs(), fa.folds, f);
      std::vector<std::size_t> va = split::valid_rows(fa.folds, f);
      if (!keep_rows.empty()) {
        std::erase_if(tr, [&](std::size_t r) { return !keep_rows[r]; });
        std::erase_if(va, [&](std::size_t r) { return !keep_rows[r]; });
      }
      if (tr.empty() || va.empty())
        fail(ErrorCode::kInvalidArgument, "fold {} has {} train and {} validation rows", f, tr.size(), va.size());
      std::vector<double> va_true(va.size());
      for (std::size_t i = 0; i < va.size(); ++i) va_true[i] = y_true[va[i]];
      model::Evaluator ev;
      ev.name = metric->spec();
      ev.greater_is_better = greater;
      ev.score = [&](std::span<const double> p, std::size_t c) {
        std::vector<double> q(p.begin(), p.end());
        target.inverse_transform(q);
        return metric->score({.y_true = va_true, .y_pred = q, .pred_cols = c});
      };
      model::FoldData d;
      d.features = &fm;
      d.target = &target;
      d.train_rows = tr;
      d.valid_rows = va;
      d.metric = metric->spec();
      d.evaluator = &ev;
      d.fold = f;
      d.seed = exp.seed;
      d.threads = per_fold;
      d.source = &src;
      d.metrics_file = sum.dir / "command" / fmt::format("fold{}", f) / "metrics.jsonl";
      std::error_code ec;
      fs::remove(d.metrics_file, ec);  // a log only ever comes from this fold's own program
      emit({.kind = Event::kFoldStart, .fold = f, .num_folds = static_cast<int>(folds.size())});
      auto progress = [&](const model::Progress& p) {
        if (opt.cancel && opt.cancel->load()) throw Interrupted();
        emit({.kind = Event::kIteration, .fold = f, .iteration = p.iteration, .total = p.total, .message = p.message});
      };
      auto fit_start = std::chrono::steady_clock::now();
      model::FoldResult res;
      try {
        res = model->fit_predict(d, params, progress);
      } catch (const std::exception&) {
        // What the trainer logged before it failed helps to see why; its own error is the one
        // to report.
        try {
          auto logged = track::read_metrics_log(d.metrics_file, f);
          std::lock_guard lock(mu);
          if (!logged.empty()) store->log_metrics(rec.id, logged);
        } catch (const std::exception&) {
        }
        throw;
      }
      double fit_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - fit_start).count();
      model::check_predictions(res, d, mi.name);
      target.inverse_transform(res.valid_pred);
      target.inverse_transform(res.test_pred);
      double score = metric->score({.y_true = va_true, .y_pred = res.valid_pred, .pred_cols = cols});
      std::vector<MetricPoint> points = track::read_metrics_log(d.metrics_file, f);
      for (const auto& c : res.curves) {
        for (std::size_t i = 0; i < c.train.size(); ++i)
          points.push_back({"train-" + c.metric, f, static_cast<std::int64_t>(i), c.train[i]});
        for (std::size_t i = 0; i < c.valid.size(); ++i)
          points.push_back({"valid-" + c.metric, f, static_cast<std::int64_t>(i), c.valid[i]});
      }
      std::lock_guard lock(mu);
      for (std::size_t i = 0; i < va.size(); ++i) {
        std::copy_n(res.valid_pred.begin() + static_cast<std::ptrdiff_t>(i * cols), cols,
                    oof.begin() + static_cast<std::ptrdiff_t>(va[i] * cols));
        has_oof[va[i]] = 1;
      }
      for (std::size_t i = 0; i < test_sum.size(); ++i) test_sum[i] += res.test_pred[i];
      store->add_fold_score(rec.id, f, score);
      if (!points.empty()) store->log_metrics(rec.id, points);
      store->heartbeat(rec.id);
      sum.fold_scores[f] = score;
      sum.model_seconds += fit_seconds;
      log += fmt::format("fold {}: {} = {:.6f} ({} train, {} valid rows, {} iterations, best {})\n", f,
                         metric->spec(), score, tr.size(), va.size(), res.num_iterations, res.best_iteration);
      emit({.kind = Event::kFoldEnd, .fold = f, .num_folds = static_cast<int>(folds.size()), .score = score});
      if (opt.after_fold && opt.after_fold(f, score))
        fail(ErrorCode::kInvalidArgument, "stopped after fold {}", f);
    };
    if (parallel <= 1) {
      for (int f : folds) run_fold(f);
    } else {
      parallel_for(folds.size(), parallel, [&](std::size_t b, std::size_t e) {
        for (std::size_t i = b; i < e; ++i) run_fold(folds[i]);
      });
    }

    // ---- overall OOF score and artifacts ----
    std::vector<double> yt, yp;
    for (std::size_t r = 0; r < train.num_rows(); ++r) {
      if (!has_oof[r]) continue;
      yt.push_back(y_true[r]);
      yp.insert(yp.end(), oof.begin() + static_cast<std::ptrdiff_t>(r * cols),
                oof.begin() + static_cast<std::ptrdiff_t>((r + 1) * cols));
    }
    sum.cv = metric->score({.y_true = yt, .y_pred = yp, .pred_cols = cols});
    std::vector<double> fs_values;
    for (auto& [f, s] : sum.fold_scores) fs_values.push_back(s);
    sum.mean = std::accumulate(fs_values.begin(), fs_values.end(), 0.0) / static_cast<double>(fs_values.size());
    double var = 0;
    for (double v : fs_values) var += (v - sum.mean) * (v - sum.mean);
    sum.std = fs_values.size() > 1 ? std::sqrt(var / static_cast<double>(fs_values.size() - 1)) : 0.0;
    for (auto& v : test_sum) v /= static_cast<double>(folds.size());

    const Column& train_ids = train.column(cfg.id_column);
    const Column& test_ids = test.column(cfg.id_column);
    // oof.csv: id, fold, predictions (validated rows only, train order).
    {
      std::vector<std::size_t> rows;
      for (std::size_t r = 0; r < train.num_rows(); ++r)
        if (has_oof[r]) rows.push_back(r);
      Column ids = train_ids.take(rows);
      ids.name = cfg.id_column;
      std::vector<int> fo(rows.size());
      std::vector<double> pred(rows.size() * cols);
      for (std::size_t i = 0; i < rows.size(); ++i) {
        fo[i] = fa.folds[rows[i]];
        std::copy_n(oof.begin() + static_cast<std::ptrdiff_t>(rows[i] * cols), cols,
                    pred.begin() + static_cast<std::ptrdiff_t>(i * cols));
      }
      sum.oof = sum.dir / "oof.csv";
      write_oof_csv(sum.oof, ids, fo, pred_cols, pred);
    }
    // test.csv: id, fold-averaged predictions (test order).
    sum.test = sum.dir / "test.csv";
    write_test_csv(sum.test, test_ids, pred_cols, test_sum);
    // submission.csv: the sample submission's header, ids and order.
    sum.submission = sum.dir / "submission.csv";
    write_submission(sum.submission, sample, cfg.id_column, test_ids, pred_cols, test_sum, target.classes);
    auto t1 = std::chrono::steady_clock::now();
    sum.wall_seconds = std::chrono::duration<double>(t1 - t0).count();
    nlohmann::json fold_json = nlohmann::json::object();
    for (auto& [f, s] : sum.fold_scores) fold_json[std::to_string(f)] = s;
    nlohmann::json meta = {{"format_version", 1},
                           {"competition", cfg.name},
                           {"task", metric::task_name(cfg.task)},
                           {"metric", metric->spec()},
                           {"id", cfg.id_column},
                           {"target", cfg.target_columns},
                           {"prediction_columns", pred_cols},
                           {"folds_hash", fa.hash},
                           {"data_hash", rec.data_hash},
                           {"target_transform", exp.target_transform},
                           {"producer", fmt::format("compe {} ({})", COMPE_VERSION, mi.name)},
                           {"run_id", rec.id},
                           {"cv", {{"score", sum.cv}, {"folds", fold_json}, {"mean", sum.mean}, {"std", sum.std}}}};
    write_text(sum.dir / "meta.json", meta.dump(2) + "\n");
    log += fmt::format("cv {} = {:.6f} (folds mean {:.6f} ± {:.6f}), {:.2f} s\n", metric->spec(), sum.cv, sum.mean,
                       sum.std, sum.wall_seconds);
    write_text(sum.dir / "run.log", log);
    record_artifacts(*store, ws, rec.id, sum.dir);
    struct rusage ru {};
    ::getrusage(RUSAGE_SELF, &ru);
    RunResult rr;
    rr.status = RunStatus::kFinished;
    rr.cv_score = sum.cv;
    rr.fold_scores = sum.fold_scores;
    rr.wall_seconds = sum.wall_seconds;
    rr.cpu_seconds = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
                     static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
    rr.peak_memory_bytes = static_cast<std::int64_t>(ru.ru_maxrss) * 1024;
    store->finish_run(rec.id, rr);
  } catch (const std::exception& e) {
    bool interrupted = dynamic_cast<const Interrupted*>(&e) != nullptr || (opt.cancel && opt.cancel->load());
    RunResult rr;
    rr.status = interrupted ? RunStatus::kInterrupted : RunStatus::kFailed;
    rr.error = e.what();
    rr.fold_scores = sum.fold_scores;
    rr.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    try {
      store->finish_run(rec.id, rr);
      write_text(sum.dir / "run.log", log + (interrupted ? "interrupted\n" : fmt::format("failed: {}\n", e.what())));
    } catch (...) {
      // The original error is the one to report.
    }
    if (interrupted) fail(ErrorCode::kInvalidArgument, "run {} interrupted; recorded as interrupted", rec.id);
    throw;
  }
  emit({.kind = Event::kEnd, .score = sum.cv, .message = rec.id});
  return sum;
}

}  // namespace compe::run
