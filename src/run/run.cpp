// run_experiment: plan, open the record, run the folds, finish (stages.hpp).
#include "compe/run.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <thread>

#include "compe/artifacts.hpp"
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

FoldRows fold_rows(const Workspace& ws, const Plan& p, int f, int repeat) {
  FoldRows rows;
  const std::vector<int>& folds = repeat == 0 ? p.folds_csv.folds : p.repeat_folds[static_cast<std::size_t>(repeat - 1)];
  rows.train = split::train_rows(ws.config().folds.spec, p.split.inputs(), folds, f);
  rows.valid = split::valid_rows(folds, f);
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

// Shuffles of each feature per fold model for permutation importance.
constexpr std::size_t kPermutationRepeats = 3;

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
    if (s_.plan.repeats() > 1) run_repeats();
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
    const std::vector<double> va_true = valid_truth(rows);
    const model::Evaluator ev = evaluator(va_true);
    model::FoldData d = fold_data(f, rows, &ev);
    emit({.kind = Event::kFoldStart, .fold = f, .num_folds = planned()});
    auto fit_start = std::chrono::steady_clock::now();
    model::FoldResult res = fit_seeds(d, ev);
    double fit_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - fit_start).count();
    p.target.inverse_transform(res.valid_pred);
    p.target.inverse_transform(res.test_pred);
    double score = p.metric->score(
        {.y_true = va_true, .true_cols = tc, .y_pred = res.valid_pred, .pred_cols = p.target.prediction_columns()});
    record(f, rows, res, d, score, fit_seconds);
    emit({.kind = Event::kFoldEnd, .fold = f, .num_folds = planned(), .score = score});
    if (s_.opt.after_fold && s_.opt.after_fold(f, score)) throw Pruned(f);
  }

  // The fold's validation rows' true values (rows x true_cols), in rows.valid's order.
  std::vector<double> valid_truth(const FoldRows& rows) const {
    const Plan& p = s_.plan;
    const std::size_t tc = p.true_cols();
    std::vector<double> out(rows.valid.size() * tc);
    for (std::size_t i = 0; i < rows.valid.size(); ++i)
      std::copy_n(p.y_true.begin() + static_cast<std::ptrdiff_t>(rows.valid[i] * tc), tc,
                  out.begin() + static_cast<std::ptrdiff_t>(i * tc));
    return out;
  }

  // The metric on those rows for the backends (model-scale predictions are inverse-transformed
  // first); `truth` must outlive the evaluator.
  model::Evaluator evaluator(const std::vector<double>& truth) const {
    const Plan& p = s_.plan;
    model::Evaluator ev;
    ev.name = p.metric->spec();
    ev.greater_is_better = p.metric->info().greater_is_better();
    ev.score = [&p, &truth](std::span<const double> pred, std::size_t c) {
      std::vector<double> q(pred.begin(), pred.end());
      p.target.inverse_transform(q);
      return p.metric->score({.y_true = truth, .true_cols = p.true_cols(), .y_pred = q, .pred_cols = c});
    };
    return ev;
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
    d.permutation_repeats = s_.exp.permutation_importance ? kPermutationRepeats : 0;
    // Only fold f's own pseudo rows (labelled by fold f's model of the source run) join its training.
    if (static_cast<std::size_t>(f) < p.pseudo.size()) d.pseudo = &p.pseudo[static_cast<std::size_t>(f)];
    std::error_code ec;
    std::filesystem::remove(d.metrics_file, ec);  // a log only ever comes from this fold's own program
    return d;
  }

  // Repeat 0's OOF rows, for oof_repeats.csv and its pooled score (under mu_).
  void keep_first_repeat(int f, const FoldRows& rows, const model::FoldResult& res) {
    const Plan& p = s_.plan;
    const std::size_t k = p.target.prediction_columns();
    if (repeat_oof_.empty()) {
      repeat_oof_.assign(static_cast<std::size_t>(p.repeats()), std::vector<double>(p.train.num_rows() * k, NAN));
      repeat_fold_.assign(static_cast<std::size_t>(p.repeats()), std::vector<int>(p.train.num_rows(), -1));
    }
    for (std::size_t i = 0; i < rows.valid.size(); ++i) {
      std::copy_n(res.valid_pred.begin() + static_cast<std::ptrdiff_t>(i * k), k,
                  repeat_oof_[0].begin() + static_cast<std::ptrdiff_t>(rows.valid[i] * k));
      repeat_fold_[0][rows.valid[i]] = f;
    }
  }

  // Repeats 1..n-1 of repeated k-fold, after repeat 0 (folds.csv's, given to the writer).
  void run_repeats() {
    const Plan& p = s_.plan;
    std::vector<std::pair<int, int>> jobs;
    for (int r = 1; r < p.repeats(); ++r)
      for (int f : p.folds) jobs.emplace_back(r, f);
    parallel_for(jobs.size(), parallel_, [&](std::size_t b, std::size_t e) {
      for (std::size_t i = b; i < e; ++i) run_repeat_fold(jobs[i].first, jobs[i].second);
    });
    write_repeats();
  }

  // One fold of a further repeat: trained and scored like repeat 0's, its score recorded as fold
  // r * k + f; its OOF rows kept for oof_repeats.csv.
  void run_repeat_fold(int r, int f) {
    const Plan& p = s_.plan;
    FoldRows rows = fold_rows(s_.ws, p, f, r);
    const std::size_t tc = p.true_cols(), k = p.target.prediction_columns();
    const std::vector<double> va_true = valid_truth(rows);
    const model::Evaluator ev = evaluator(va_true);
    model::FoldData d = fold_data(f, rows, &ev);
    auto fit_start = std::chrono::steady_clock::now();
    model::FoldResult res = fit_seeds(d, ev);
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - fit_start).count();
    p.target.inverse_transform(res.valid_pred);
    const double score = p.metric->score({.y_true = va_true, .true_cols = tc, .y_pred = res.valid_pred, .pred_cols = k});
    const int id = r * p.num_folds + f;
    std::lock_guard lock(mu_);
    for (std::size_t i = 0; i < rows.valid.size(); ++i) {
      std::copy_n(res.valid_pred.begin() + static_cast<std::ptrdiff_t>(i * k), k,
                  repeat_oof_[static_cast<std::size_t>(r)].begin() + static_cast<std::ptrdiff_t>(rows.valid[i] * k));
      repeat_fold_[static_cast<std::size_t>(r)][rows.valid[i]] = id;
    }
    s_.store.add_fold_score(s_.writer.id(), id, score);
    model_seconds_ += seconds;
    s_.writer.log(fmt::format("repeat {} fold {} (fold id {}): {} = {:.6f} ({} train, {} valid rows)", r, f, id,
                              p.metric->spec(), score, rows.train.size(), rows.valid.size()));
  }

  // oof_repeats.csv (id,fold,<columns>: every repeat's OOF rows, fold ids r * k + f, repeat 0's
  // included) and each repeat's pooled score.
  void write_repeats() {
    const Plan& p = s_.plan;
    const std::size_t k = p.target.prediction_columns(), tc = p.true_cols();
    const std::vector<std::string>& cols = s_.writer.reference().prediction_columns;
    std::vector<std::size_t> ids;
    std::vector<int> fold_ids;
    std::vector<double> pred;
    for (int r = 0; r < p.repeats(); ++r) {
      std::vector<double> y, q;
      for (std::size_t row = 0; row < p.train.num_rows(); ++row) {
        const int id = repeat_fold_[static_cast<std::size_t>(r)][row];
        if (id < 0) continue;
        const auto at = [&](std::size_t i, std::size_t w) { return static_cast<std::ptrdiff_t>(i * w); };
        ids.push_back(p.ref_pos[row]);
        fold_ids.push_back(id);
        pred.insert(pred.end(), repeat_oof_[static_cast<std::size_t>(r)].begin() + at(row, k),
                    repeat_oof_[static_cast<std::size_t>(r)].begin() + at(row + 1, k));
        q.insert(q.end(), repeat_oof_[static_cast<std::size_t>(r)].begin() + at(row, k),
                 repeat_oof_[static_cast<std::size_t>(r)].begin() + at(row + 1, k));
        y.insert(y.end(), p.y_true.begin() + at(row, tc), p.y_true.begin() + at(row + 1, tc));
      }
      if (s_.repeat_scores)
        s_.repeat_scores->pooled.push_back(
            p.metric->score({.y_true = y, .true_cols = tc, .y_pred = q, .pred_cols = k}));
    }
    write_oof_csv(s_.writer.dir() / "oof_repeats.csv", s_.writer.reference().train_ids.take(ids), fold_ids, cols, pred);
  }

  // The fold trained once per seed ([run] seeds); the predictions are the seeds' mean (model
  // scale), each model's importance and each seed's fold score recorded.
  model::FoldResult fit_seeds(model::FoldData& d, const model::Evaluator& ev) {
    const std::vector<std::uint64_t> seeds = s_.exp.fold_seeds();
    model::FoldResult out;
    for (std::size_t i = 0; i < seeds.size(); ++i) {
      d.seed = seeds[i];
      model::FoldResult r = fit(d);
      model::check_predictions(r, d, s_.plan.model->name);
      if (s_.importance || seeds.size() > 1) {
        const double own = ev.score(r.valid_pred, r.cols);
        if (s_.importance) s_.importance->add(r, own, ev.greater_is_better);
        std::lock_guard lock(mu_);
        if (s_.seed_scores && seeds.size() > 1) (*s_.seed_scores)[seeds[i]][d.fold] = own;
      }
      if (i == 0) {
        out = std::move(r);
        continue;
      }
      for (std::size_t j = 0; j < out.valid_pred.size(); ++j) out.valid_pred[j] += r.valid_pred[j];
      for (std::size_t j = 0; j < out.test_pred.size(); ++j) out.test_pred[j] += r.test_pred[j];
      out.notes.insert(out.notes.end(), r.notes.begin(), r.notes.end());
    }
    const auto n = static_cast<double>(seeds.size());
    for (double& v : out.valid_pred) v /= n;
    for (double& v : out.test_pred) v /= n;
    return out;
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
      if (p.repeats() > 1) keep_first_repeat(f, rows, res);
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
  std::vector<std::vector<double>> repeat_oof_;  ///< per repeat: train rows x columns (NaN = not validated)
  std::vector<std::vector<int>> repeat_fold_;    ///< per repeat: the fold id r * k + f of each train row, -1
};

}  // namespace

double run_folds(const FoldStage& stage) { return FoldLoop(stage).run(); }

namespace {

// [run] seeds: each seed's fold scores and their mean, for meta.json's cv_details.
nlohmann::json seed_details(const Experiment& exp, const std::map<std::uint64_t, std::map<int, double>>& scores,
                            const metric::Metric& metric) {
  nlohmann::json out = nlohmann::json::object();
  if (exp.seeds.size() < 2) return out;
  nlohmann::json seeds = nlohmann::json::object();
  for (const auto& [seed, folds] : scores) {
    nlohmann::json f = nlohmann::json::object();
    double sum = 0;
    for (const auto& [fold, v] : folds) {
      f[std::to_string(fold)] = v;
      sum += v;
    }
    seeds[std::to_string(seed)] = {{"folds", f}, {"fold_mean", folds.empty() ? 0.0 : sum / static_cast<double>(folds.size())}};
  }
  out["seeds"] = seeds;
  out["seed_note"] = fmt::format("{} seeds averaged per fold; the fold scores are those of the averaged "
                                 "predictions, seeds.<seed> each seed's own ({})", exp.seeds.size(), metric.spec());
  return out;
}

}  // namespace

namespace {

// Repeated k-fold: the CV is the mean over repeats of each repeat's pooled OOF score.
void repeat_details(const Plan& plan, const RepeatScores& repeats, FinishOptions& fin) {
  if (plan.repeats() < 2 || repeats.pooled.empty()) return;
  double sum = 0;
  for (double v : repeats.pooled) sum += v;
  fin.cv = sum / static_cast<double>(repeats.pooled.size());
  fin.cv_details["repeats"] = {
      {"n", plan.repeats()},
      {"pooled", repeats.pooled},
      {"note", fmt::format("cv is the mean over {} repeats of each repeat's pooled OOF score; folds r*{}+f are "
                           "fold f of repeat r; oof.csv, test.csv and the submission are repeat 0's (folds.csv), "
                           "oof_repeats.csv holds every repeat's OOF rows",
                           plan.repeats(), plan.num_folds)}};
}

// The Summary's fold scores, mean and std over every repeat's folds (as the record has them).
void with_repeated_folds(Store& store, Summary& out) {
  out.fold_scores = store.get_run(out.run_id).fold_scores;
  std::vector<double> v;
  for (const auto& [f, s] : out.fold_scores) v.push_back(s);
  double m = 0;
  for (double x : v) m += x;
  m /= static_cast<double>(v.size());
  double var = 0;
  for (double x : v) var += (x - m) * (x - m);
  out.mean = m;
  out.std = v.size() > 1 ? std::sqrt(var / static_cast<double>(v.size() - 1)) : 0.0;
}

}  // namespace

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
    Importance importance;
    std::map<std::uint64_t, std::map<int, double>> seed_scores;
    FoldStage stage{ws, exp, opt, plan, w, *store, sink, note};
    stage.importance = &importance;
    stage.seed_scores = &seed_scores;
    RepeatScores repeats;
    stage.repeat_scores = &repeats;
    const double model_seconds = run_folds(stage);
    if (!importance.empty()) importance.write(w.dir() / "importance.csv", plan.features.feature_names());
    FinishOptions fin{.model_seconds = model_seconds};
    fin.cv_details = seed_details(exp, seed_scores, *plan.metric);
    repeat_details(plan, repeats, fin);
    out = w.finish(fin);
    if (plan.repeats() > 1) with_repeated_folds(*store, out);
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
