#include "compe/run.hpp"

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
#include "compe/run_writer.hpp"
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

struct Pruned : Error {
  explicit Pruned(int fold)
      : Error(ErrorCode::kInvalidArgument, fmt::format("stopped after fold {}", fold)) {}
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
    write_folds_record(ws.folds_path(), {cfg.folds, fa.hash});
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
  const Reference ref = make_reference(cfg, train, test, sample, fa, target);
  // Position of each train row among the reference's (validated) rows.
  std::vector<std::size_t> ref_pos(train.num_rows(), 0);
  for (std::size_t r = 0, p = 0; r < train.num_rows(); ++r)
    if (fa.folds[r] >= 0) ref_pos[r] = p++;

  // Metric truth: class indices for classification, original values for regression.
  std::vector<double> y_true = target.y;
  if (cfg.task == metric::kRegression)
    for (std::size_t r = 0; r < y_true.size(); ++r) y_true[r] = target_col.as_double(r);

  // ---- the run record ----
  auto store = open_store(opt.store.empty() ? ws.store_path().string() : opt.store);
  store->mark_interrupted_stale();
  nlohmann::json config = exp.to_json();
  config["model"]["params"] = params;
  config["competition"] = {{"name", cfg.name}, {"task", metric::task_name(cfg.task)}, {"metric", cfg.metric},
                           {"id", cfg.id_column}, {"target", cfg.target_columns},
                           {"folds", nlohmann::json::object()}};
  // The folds really used: folds.json's record when it describes this folds.csv, else compe.toml's
  // spec (a folds.csv made elsewhere keeps at least its hash).
  if (auto fr = read_folds_record(ws.folds_path(), fa.hash)) {
    config["competition"]["folds"] = fr->to_json();
  } else {
    config["competition"]["folds"] = FoldsRecord{cfg.folds, fa.hash}.to_json();
    config["competition"]["folds"]["from"] = "compe.toml (folds.csv has no folds.json record)";
  }
  config["competition"]["folds"]["k"] = k;
  if (!opt.proxy.is_null()) config["proxy"] = opt.proxy;
  // What the default features left out or encoded, so that the record says what was trained on.
  {
    nlohmann::json left = nlohmann::json::array(), counted = nlohmann::json::array();
    for (const auto& c : fm.report().left_out) left.push_back({{"column", c.column}, {"reason", c.reason}});
    for (const auto& c : fm.report().count_encoded) counted.push_back({{"column", c.column}, {"reason", c.reason}});
    config["features"]["left_out"] = left;
    config["features"]["count_encoded"] = counted;
  }
  // A CV whose folds chose something on their own validation rows is optimistic: say so.
  const bool optimistic = model::selects_on_valid(mi, params);
  config["cv"] = {{"optimistic", optimistic}};
  if (optimistic)
    note("warning: early stopping picks each fold's round count on that fold's validation rows "
         "(early_stopping = \"valid\"): the CV is optimistic");
  RunSpec rs;
  rs.kind = opt.kind;
  rs.name = exp.name.empty() ? mi.name : exp.name;
  rs.command_line = opt.command_line;
  rs.producer = fmt::format("compe {} ({})", COMPE_VERSION, mi.name);
  rs.target_transform = exp.target_transform;
  rs.versions = {{"threads", resolve_threads(exp.threads)}, {"seed", exp.seed}};
  if (mi.library_version) rs.versions["backend"] = mi.library_version();
  rs.partial = !keep_rows.empty() || !opt.proxy.is_null() || static_cast<int>(folds.size()) < k;
  // One hypothesis at a time: compare with the parent (given, or the best finished run on the
  // same folds and metric) and say what changed. Backend parameters count only where this
  // experiment sets them: another backend's defaults are not hypotheses.
  if (auto parent = track::choose_parent(*store, exp.parent, metric->spec(), fa.hash)) {
    rs.parent_id = parent->id;
    sum.parent_id = parent->id;
    std::vector<std::string> parts;
    for (const auto& ch : track::config_diff(parent->config, config, track::bookkeeping_keys())) {
      const std::string prefix = "model.params.";
      if (ch.key.rfind(prefix, 0) == 0 && !exp.params.contains(ch.key.substr(prefix.size()))) continue;
      sum.changed_keys.push_back(ch.key);
      parts.push_back(fmt::format("{}: {} -> {}", ch.key, ch.before.dump(), ch.after.dump()));
    }
    if (sum.changed_keys.empty()) {
      note(fmt::format("same configuration as run {} ({})", parent->id, parent->name));
    } else {
      note(fmt::format("against run {} ({}): {}", parent->id, parent->name, join(parts, "; ")));
      if (sum.changed_keys.size() > 1 && !opt.allow_multi) {
        sum.multi_hypothesis = true;
        note(fmt::format("warning: {} hypotheses changed at once ({}); test one at a time, or pass --allow-multi",
                         sum.changed_keys.size(), join(sum.changed_keys)));
      }
    }
  }
  rs.config = config;
  RunWriter w(ws, *store, ref, rs);
  w.log(fmt::format("run {} ({}), model {}, metric {}", w.id(), rs.name, mi.name, metric->spec()));
  for (const auto& n : sum.notes) w.log(n);

  model::SourceData src;
  src.train = &train;
  src.test = &test;
  src.id_column = cfg.id_column;
  src.target_columns = cfg.target_columns;
  src.work_dir = w.dir();
  src.folds_csv = ws.folds_path();
  src.num_folds = static_cast<std::size_t>(k);

  std::mutex mu;
  double model_seconds = 0;
  emit({.kind = Event::kStart, .num_folds = static_cast<int>(folds.size()), .message = w.id()});
  Summary out;
  try {
    Heartbeat heartbeat(*store, w.id(), opt.heartbeat_interval);
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
      d.groups = sd.inputs().groups;
      d.time = sd.inputs().time;
      d.metrics_file = w.dir() / "command" / fmt::format("fold{}", f) / "metrics.jsonl";
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
          if (!logged.empty()) store->log_metrics(w.id(), logged);
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
      std::vector<std::size_t> rows(va.size());
      for (std::size_t i = 0; i < va.size(); ++i) rows[i] = ref_pos[va[i]];
      {
        std::lock_guard lock(mu);
        w.add_fold(f, rows, res.valid_pred, res.test_pred, score, points);
        model_seconds += fit_seconds;
      }
      w.log(fmt::format("fold {}: {} = {:.6f} ({} train, {} valid rows, {} iterations, best {}{}{}{})", f,
                        metric->spec(), score, tr.size(), va.size(), res.num_iterations, res.best_iteration,
                        res.early_stopping == "none" ? "" : ", early stopping " + res.early_stopping,
                        res.inner_rows ? fmt::format(" on {} held-out training rows", res.inner_rows) : "",
                        res.base_score ? fmt::format(", base_score {:.6g}", *res.base_score) : ""));
      for (const auto& n : res.notes) {
        std::lock_guard lock(mu);
        note(fmt::format("fold {}: {}", f, n));
        w.log(fmt::format("fold {}: {}", f, n));
      }
      emit({.kind = Event::kFoldEnd, .fold = f, .num_folds = static_cast<int>(folds.size()), .score = score});
      if (opt.after_fold && opt.after_fold(f, score)) throw Pruned(f);
    };
    if (parallel <= 1) {
      for (int f : folds) run_fold(f);
    } else {
      parallel_for(folds.size(), parallel, [&](std::size_t b, std::size_t e) {
        for (std::size_t i = b; i < e; ++i) run_fold(folds[i]);
      });
    }
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
  emit({.kind = Event::kEnd, .score = out.cv, .message = out.run_id});
  return out;
}

}  // namespace compe::run
