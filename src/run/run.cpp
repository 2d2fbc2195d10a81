// run_experiment: plan, open the record, run the folds, finish (stages.hpp).
#include "compe/run.hpp"

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "compe/error.hpp"
#include "compe/image_data.hpp"
#include "compe/track.hpp"
#include "compe/util.hpp"
#include "run/stages.hpp"

namespace compe::run {

namespace {

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

Pruned::Pruned(int fold) : Error(ErrorCode::kInvalidArgument, fmt::format("stopped after fold {}", fold)) {}

FoldRows fold_rows(const Workspace& ws, const Plan& p, int f) {
  FoldRows rows;
  rows.train = split::train_rows(ws.config().folds.spec, p.split.inputs(), p.folds_csv.folds, f);
  rows.valid = split::valid_rows(p.folds_csv.folds, f);
  if (!p.keep_rows.empty()) {
    std::erase_if(rows.train, [&](std::size_t r) { return !p.keep_rows[r]; });
    std::erase_if(rows.valid, [&](std::size_t r) { return !p.keep_rows[r]; });
  }
  if (rows.train.empty() || rows.valid.empty())
    fail(ErrorCode::kInvalidArgument, "fold {} has {} train and {} validation rows", f, rows.train.size(),
         rows.valid.size());
  return rows;
}

namespace {

// The fold loop's shared state: the model, the external trainer's view of the data, and what the
// folds add up (under `mu` when folds run in parallel).
class FoldLoop {
 public:
  explicit FoldLoop(const FoldStage& s) : s_(s), model_(model::make(s.plan.model->name)) {
    const CompetitionConfig& cfg = s.ws.config();
    parallel_ = std::clamp<std::size_t>(s.exp.parallel_folds, 1, s.plan.folds.size());
    per_fold_threads_ = std::max<std::size_t>(1, resolve_threads(s.exp.threads) / parallel_);
    src_.train = &s.plan.train;
    src_.test = &s.plan.test;
    src_.id_column = cfg.id_column;
    src_.target_columns = cfg.target_columns;
    src_.work_dir = s.writer.dir();
    src_.folds_csv = s.ws.folds_path();
    src_.num_folds = static_cast<std::size_t>(s.plan.num_folds);
    src_.data_dir = s.ws.resolve(cfg.train).parent_path();
    if (is_image_task(cfg.task)) {
      src_.ground_truth = s.ws.ground_truth_path();
      src_.images_dir = s.ws.images_dir();
    }
  }

  double run() {
    const std::vector<int>& folds = s_.plan.folds;
    if (parallel_ <= 1) {
      for (int f : folds) run_fold(f);
    } else {
      parallel_for(folds.size(), parallel_, [&](std::size_t b, std::size_t e) {
        for (std::size_t i = b; i < e; ++i) run_fold(folds[i]);
      });
    }
    return model_seconds_;
  }

 private:
  void emit(const Event& e) const {
    if (s_.sink) s_.sink(e);
  }
  int planned() const { return static_cast<int>(s_.plan.folds.size()); }

  // A detection or segmentation fold: the program's boxes or masks, checked against the fold's
  // validation images and the test images, scored and added by the writer.
  void run_image_fold(int f) {
    const Plan& p = s_.plan;
    const ImageReference& img = *p.ref.images;
    FoldRows rows = fold_rows(s_.ws, p, f);
    model::FoldData d = fold_data(f, rows, nullptr);
    emit({.kind = Event::kFoldStart, .fold = f, .num_folds = planned()});
    auto fit_start = std::chrono::steady_clock::now();
    model::FoldResult res = fit(d);
    double fit_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - fit_start).count();
    std::vector<std::size_t> all_test(img.test.size());
    for (std::size_t i = 0; i < all_test.size(); ++i) all_test[i] = i;
    const std::string what = fmt::format("the validation images of fold {}", f);
    images::Predictions oof = images::read_predictions_file(
        res.image_oof, {.task = p.target.task, .classes = &img.classes(), .set = &img.train, .expected = rows.valid,
                        .expected_what = what, .set_file = "train.csv"});
    images::Predictions test = images::read_predictions_file(
        res.image_test, {.task = p.target.task, .classes = &img.classes(), .set = &img.test, .expected = all_test,
                         .expected_what = "the test images", .set_file = "test.csv"});
    std::vector<MetricPoint> points = track::read_metrics_log(d.metrics_file, f);
    double score = 0;
    {
      std::lock_guard lock(mu_);
      score = s_.writer.add_image_fold(f, std::move(oof), std::move(test), std::nullopt, points);
      model_seconds_ += fit_seconds;
    }
    s_.writer.log(fmt::format("fold {}: {} = {:.6f} ({} train, {} valid images)", f, p.metric_spec, score,
                              rows.train.size(), rows.valid.size()));
    emit({.kind = Event::kFoldEnd, .fold = f, .num_folds = planned(), .score = score});
    if (s_.opt.after_fold && s_.opt.after_fold(f, score)) throw Pruned(f);
  }

  void run_fold(int f) {
    const Plan& p = s_.plan;
    if (p.ref.images) {
      run_image_fold(f);
      return;
    }
    FoldRows rows = fold_rows(s_.ws, p, f);
    const std::size_t tc = p.true_cols();
    std::vector<double> va_true(rows.valid.size() * tc);
    for (std::size_t i = 0; i < rows.valid.size(); ++i)
      std::copy_n(p.y_true.begin() + static_cast<std::ptrdiff_t>(rows.valid[i] * tc), tc,
                  va_true.begin() + static_cast<std::ptrdiff_t>(i * tc));
    model::Evaluator ev;
    ev.name = p.metric->spec();
    ev.greater_is_better = p.metric->info().greater_is_better();
    ev.score = [&](std::span<const double> pred, std::size_t c) {
      std::vector<double> q(pred.begin(), pred.end());
      p.target.inverse_transform(q);
      return p.metric->score({.y_true = va_true, .true_cols = tc, .y_pred = q, .pred_cols = c});
    };
    model::FoldData d = fold_data(f, rows, &ev);
    emit({.kind = Event::kFoldStart, .fold = f, .num_folds = planned()});
    auto fit_start = std::chrono::steady_clock::now();
    model::FoldResult res = fit(d);
    double fit_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - fit_start).count();
    model::check_predictions(res, d, p.model->name);
    p.target.inverse_transform(res.valid_pred);
    p.target.inverse_transform(res.test_pred);
    double score = p.metric->score(
        {.y_true = va_true, .true_cols = tc, .y_pred = res.valid_pred, .pred_cols = p.target.prediction_columns()});
    record(f, rows, res, d, score, fit_seconds);
    emit({.kind = Event::kFoldEnd, .fold = f, .num_folds = planned(), .score = score});
    if (s_.opt.after_fold && s_.opt.after_fold(f, score)) throw Pruned(f);
  }

  model::FoldData fold_data(int f, const FoldRows& rows, const model::Evaluator* ev) const {
    const Plan& p = s_.plan;
    model::FoldData d;
    d.features = &p.features;
    d.target = &p.target;
    d.train_rows = rows.train;
    d.valid_rows = rows.valid;
    d.metric = p.metric_spec;
    d.evaluator = ev;
    d.fold = f;
    d.seed = s_.exp.seed;
    d.threads = per_fold_threads_;
    d.source = &src_;
    d.groups = p.split.inputs().groups;
    d.time = p.split.inputs().time;
    d.metrics_file = s_.writer.dir() / "command" / fmt::format("fold{}", f) / "metrics.jsonl";
    // Only fold f's own pseudo rows (labelled by fold f's model of the source run) join its training.
    if (static_cast<std::size_t>(f) < p.pseudo.size()) d.pseudo = &p.pseudo[static_cast<std::size_t>(f)];
    std::error_code ec;
    std::filesystem::remove(d.metrics_file, ec);  // a log only ever comes from this fold's own program
    return d;
  }

  model::FoldResult fit(const model::FoldData& d) {
    auto progress = [&](const model::Progress& pr) {
      if (s_.opt.cancel && s_.opt.cancel->load()) throw Interrupted();
      emit({.kind = Event::kIteration, .fold = d.fold, .iteration = pr.iteration, .total = pr.total,
            .message = pr.message});
    };
    try {
      return model_->fit_predict(d, s_.plan.params, progress);
    } catch (const std::exception&) {
      // What the trainer logged before it failed helps to see why; its own error is the one to
      // report.
      try {
        auto logged = track::read_metrics_log(d.metrics_file, d.fold);
        std::lock_guard lock(mu_);
        if (!logged.empty()) s_.store.log_metrics(s_.writer.id(), logged);
      } catch (const std::exception&) {
      }
      throw;
    }
  }

  // The fold's predictions, score and curves into the writer; its line and notes into run.log.
  void record(int f, const FoldRows& rows, const model::FoldResult& res, const model::FoldData& d, double score,
              double fit_seconds) {
    const Plan& p = s_.plan;
    std::vector<MetricPoint> points = track::read_metrics_log(d.metrics_file, f);
    for (const auto& c : res.curves) {
      for (std::size_t i = 0; i < c.train.size(); ++i)
        points.push_back({"train-" + c.metric, f, static_cast<std::int64_t>(i), c.train[i]});
      for (std::size_t i = 0; i < c.valid.size(); ++i)
        points.push_back({"valid-" + c.metric, f, static_cast<std::int64_t>(i), c.valid[i]});
    }
    std::vector<std::size_t> ref_rows(rows.valid.size());
    for (std::size_t i = 0; i < rows.valid.size(); ++i) ref_rows[i] = p.ref_pos[rows.valid[i]];
    {
      std::lock_guard lock(mu_);
      s_.writer.add_fold(f, ref_rows, res.valid_pred, res.test_pred, score, points);
      model_seconds_ += fit_seconds;
    }
    s_.writer.log(fmt::format("fold {}: {} = {:.6f} ({} train, {} valid rows, {} iterations, best {}{}{}{})", f,
                              p.metric_spec, score, rows.train.size(), rows.valid.size(), res.num_iterations,
                              res.best_iteration,
                              res.early_stopping == "none" ? "" : ", early stopping " + res.early_stopping,
                              res.inner_rows ? fmt::format(" on {} held-out training rows", res.inner_rows) : "",
                              res.base_score ? fmt::format(", base_score {:.6g}", *res.base_score) : ""));
    if (d.pseudo)
      s_.writer.log(fmt::format("fold {}: + {} pseudo rows ({})", f, d.pseudo->test_rows.size(), d.pseudo->strategy));
    for (const auto& n : res.notes) {
      std::lock_guard lock(mu_);
      s_.note(fmt::format("fold {}: {}", f, n));
      s_.writer.log(fmt::format("fold {}: {}", f, n));
    }
  }

  const FoldStage& s_;
  std::unique_ptr<model::Model> model_;
  model::SourceData src_;
  std::size_t parallel_ = 1;
  std::size_t per_fold_threads_ = 1;
  std::mutex mu_;
  double model_seconds_ = 0;
};

}  // namespace

double run_folds(const FoldStage& stage) { return FoldLoop(stage).run(); }

Summary run_experiment(const Workspace& ws, const Experiment& exp, const Options& opt, const EventSink& sink) {
  auto t0 = std::chrono::steady_clock::now();
  Summary sum;
  NoteFn note = [&](std::string m) {
    sum.notes.push_back(m);
    if (sink) sink({.kind = Event::kNote, .message = std::move(m)});
  };

  // 1. Plan: everything that can fail before a run is recorded.
  const Plan plan = plan_experiment(ws, exp, opt, note);

  // 2. Open the record.
  auto store = open_store(opt.store.empty() ? ws.store_path().string() : opt.store);
  store->mark_interrupted_stale();
  const RunSpec spec = describe_run(ws, exp, opt, plan, *store, sum, note);
  RunWriter w(ws, *store, plan.ref, spec);
  w.log(fmt::format("run {} ({}), model {}, metric {}", w.id(), spec.name, plan.model->name, plan.metric_spec));
  for (const auto& n : sum.notes) w.log(n);

  // 3. The folds, then 4. finish (or stop as pruned, interrupted or failed).
  if (sink) sink({.kind = Event::kStart, .num_folds = static_cast<int>(plan.folds.size()), .message = w.id()});
  Summary out;
  try {
    Heartbeat heartbeat(*store, w.id(), opt.heartbeat_interval);
    const double model_seconds = run_folds({ws, exp, opt, plan, w, *store, sink, note});
    out = w.finish({.model_seconds = model_seconds});
  } catch (const Pruned& e) {
    w.stop(RunStatus::kPruned, e.what());
    throw;
  } catch (const std::exception& e) {
    bool interrupted = dynamic_cast<const Interrupted*>(&e) != nullptr || (opt.cancel && opt.cancel->load());
    w.stop(interrupted ? RunStatus::kInterrupted : RunStatus::kFailed, interrupted ? "interrupted" : e.what());
    if (interrupted) fail(ErrorCode::kInvalidArgument, "run {} interrupted; recorded as interrupted", w.id());
    throw;
  }
  out.notes.insert(out.notes.begin(), sum.notes.begin(), sum.notes.end());
  out.changed_keys = sum.changed_keys;
  out.multi_hypothesis = sum.multi_hypothesis;
  out.wall_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (sink) sink({.kind = Event::kEnd, .score = out.cv, .message = out.run_id});
  return out;
}

}  // namespace compe::run
