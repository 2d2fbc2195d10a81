// Tuning an experiment: its plan, the run of one trial, the study's options and the trial loop.
#include "compe/tune/experiment.hpp"

#include <algorithm>
#include <filesystem>
#include <set>

#include <fmt/core.h>

#include "compe/error.hpp"
#include "compe/metric.hpp"
#include "compe/model.hpp"
#include "compe/util.hpp"

namespace compe::tune {
namespace fs = std::filesystem;
namespace {

// Every space key must be a parameter the backend takes.
void check_space_keys(const SearchSpace& space, const model::Info& info,
                      const std::string& display) {
  std::vector<std::string> known = info.known_params;
  known.insert(known.end(), info.passthrough_params.begin(), info.passthrough_params.end());
  if (info.default_params.is_object()) {
    for (const auto& [k, v] : info.default_params.items()) known.push_back(k);
  }
  for (const auto& [name, d] : space.params()) {
    if (std::find(known.begin(), known.end(), name) != known.end()) continue;
    const std::string hint = closest_match(name, known);
    fail(ErrorCode::kInvalidArgument, "{}: tune.space.{} is not a parameter of model '{}'{}",
         display, name, info.name, hint.empty() ? "" : fmt::format(" (did you mean '{}'?)", hint));
  }
}

// The parameter of a backend that caps boosting rounds ("" when it has none).
std::string rounds_key(const model::Info& info) {
  for (const char* k : {"num_boost_round", "n_estimators"}) {
    if (std::find(info.known_params.begin(), info.known_params.end(), k) !=
        info.known_params.end()) {
      return k;
    }
  }
  return "";
}

// The experiment file's text and how messages name it: the file given, else the one kept with
// the study.
void read_experiment(Store& store, const std::string& path, const std::string& study,
                     TunePlan& plan) {
  plan.path = path;
  plan.display = path;
  if (!path.empty()) {
    plan.text = read_file(path);
    return;
  }
  if (study.empty()) {
    fail(ErrorCode::kInvalidArgument,
         "compe tune needs an EXPERIMENT file, or --study NAME of a study made by compe tune, "
         "or --transfer STUDY");
  }
  const compe::Study st = store.get_study(study);
  const nlohmann::json attrs = st.sampler.value("attrs", nlohmann::json::object());
  if (!attrs.contains("experiment") || !attrs["experiment"].is_string()) {
    fail(ErrorCode::kInvalidArgument,
         "study '{}' keeps no experiment (it was not made by compe tune from an experiment "
         "file); give the EXPERIMENT file",
         study);
  }
  plan.text = attrs["experiment"].get<std::string>();
  plan.display = fmt::format("{} (kept with study '{}')",
                             attrs.value("experiment_path", std::string("experiment")), study);
}

}  // namespace

TunePlan plan_tune(const Workspace& ws, Store& store, const std::string& experiment_path,
                   const std::string& study) {
  TunePlan plan;
  read_experiment(store, experiment_path, study, plan);
  const std::string& display = plan.display;
  plan.experiment = run::parse_experiment(plan.text, display);
  if (plan.experiment.tune.is_null()) {
    fail(ErrorCode::kInvalidArgument,
         "{}: no [tune] table; add one with a [tune.space], e.g. max_depth = {{type = \"int\", "
         "low = 2, high = 8}}",
         display);
  }
  plan.config = parse_tune_config(plan.experiment.tune, display);
  const model::Info& info = model::find(plan.experiment.backend);
  check_space_keys(plan.config.space, info, display);
  plan.rounds_key = rounds_key(info);
  plan.default_params = info.default_params;
  const std::optional<ProxyConfig>& proxy = plan.config.proxy;
  if (proxy && proxy->rounds > 0 && plan.rounds_key.empty()) {
    fail(ErrorCode::kInvalidArgument,
         "{}: tune.proxy.rounds: model '{}' has no boosting rounds (num_boost_round or "
         "n_estimators) to cap",
         display, info.name);
  }
  if (proxy && proxy->folds > 0) {
    const std::vector<int>& subset = plan.experiment.folds;
    const int k = subset.empty() ? ws.config().folds.spec.k : static_cast<int>(subset.size());
    if (proxy->folds > k) {
      fail(ErrorCode::kInvalidArgument, "{}: tune.proxy.folds is {}; the experiment has {} folds",
           display, proxy->folds, k);
    }
  }
  plan.metric = ws.config().metric;
  plan.maximize = metric::make(plan.metric)->info().greater_is_better();
  return plan;
}

TrialSetup trial_setup(const TunePlan& plan, const nlohmann::json& params, bool proxy,
                       std::uint64_t seed) {
  TrialSetup out;
  run::Experiment& e = out.experiment;
  run::Options& o = out.options;
  e = plan.experiment;
  e.tune = nullptr;
  if (!e.params.is_object()) e.params = nlohmann::json::object();
  for (const auto& [k, v] : params.items()) e.params[k] = v;
  o.allow_multi = true;
  o.kind = "trial";
  if (!proxy || !plan.config.proxy) return out;
  const ProxyConfig& p = *plan.config.proxy;
  o.proxy = p.to_json();
  if (p.folds > 0) {
    std::vector<int> all = plan.experiment.folds;
    if (all.empty()) {
      for (int f = 0; f < p.folds; ++f) all.push_back(f);
    }
    all.resize(static_cast<std::size_t>(p.folds));
    e.folds = all;
  }
  if (p.rounds > 0) {
    const std::string& key = plan.rounds_key;
    std::int64_t now = p.rounds;
    const nlohmann::json& defaults = plan.default_params;
    const nlohmann::json given = e.params.contains(key) ? e.params[key]
                                 : defaults.is_object() && defaults.contains(key)
                                     ? defaults[key]
                                     : nlohmann::json();
    if (given.is_number()) now = std::min(now, given.get<std::int64_t>());
    e.params[key] = now;
  }
  if (p.rows_count > 0 || p.rows_fraction < 1.0) {
    o.row_filter = [p, seed](const split::Inputs& in, std::span<const int> folds) {
      return proxy_rows(in, folds, p, seed);
    };
  }
  return out;
}

std::vector<double> objective_values(std::span<const std::string> objectives,
                                     const run::Summary& summary) {
  std::vector<double> values;
  for (const std::string& name : objectives) {
    values.push_back(name == "cv"            ? summary.cv
                     : name == "fit_seconds" ? summary.model_seconds
                                             : summary.wall_seconds);
  }
  return values;
}

StudyOptions study_options(const TunePlan& plan, const std::string& study, std::uint64_t seed) {
  const TuneConfig& cfg = plan.config;
  StudyOptions so;
  so.name = !study.empty()                ? study
            : !cfg.study.empty()          ? cfg.study
            : !plan.experiment.name.empty() ? plan.experiment.name
                                            : fs::path(plan.path).stem().string();
  so.direction = plan.maximize ? Direction::kMaximize : Direction::kMinimize;
  if (cfg.objectives.size() > 1) {
    for (const std::string& o : cfg.objectives) {
      so.directions.push_back(o == "cv" ? so.direction : Direction::kMinimize);
    }
    if (cfg.pruner != "none" && cfg.objectives[0] != "cv") {
      fail(ErrorCode::kInvalidArgument,
           "{}: pruner '{}' judges fold scores, so tune.objectives must start with \"cv\"",
           plan.display, cfg.pruner);
    }
  }
  so.space = cfg.space;
  so.sampler = cfg.sampler;
  so.sampler_settings = cfg.sampler_settings;
  so.pruner = cfg.pruner;
  so.pruner_settings = cfg.pruner_settings;
  so.seed = seed;
  so.attrs = {{"experiment", plan.text},
              {"experiment_path", plan.path.empty() ? plan.display : plan.path}};
  return so;
}

void link_trial_run(Store& store, const std::string& study, std::int64_t number,
                    const std::string& run_id, bool proxy) {
  store.set_trial_run(study, number, run_id);
  store.add_tag(run_id, "study:" + study);
  store.add_tag(run_id, fmt::format("trial:{}", number));
  if (proxy) store.add_tag(run_id, "proxy");
}

nlohmann::json external_params(const SearchSpace& space, const FrozenTrial& trial) {
  nlohmann::json p = nlohmann::json::object();
  for (const auto& [name, d] : space.params()) {
    auto it = trial.params.find(name);
    if (it != trial.params.end()) p[name] = d.to_external(it->second);
  }
  return p;
}

namespace {

// Reports the trials of the study (any process) that ended since the last report.
class ProgressReporter {
 public:
  ProgressReporter(Store& store, Study& study, const TuneSession& session, const TuneSink& sink)
      : store_(store), study_(study), session_(session), sink_(sink) {}

  void operator()() {
    if (!sink_.on_progress) return;
    TuneProgress p;
    for (compe::Trial& t : store_.list_trials(session_.study)) {
      if (t.number < session_.first || t.state == TrialState::kRunning ||
          t.state == TrialState::kWaiting || reported_.count(t.number)) {
        continue;
      }
      p.ended.push_back(std::move(t));
    }
    std::stable_sort(p.ended.begin(), p.ended.end(), [](const auto& l, const auto& r) {
      return l.ended_ms.value_or(0) < r.ended_ms.value_or(0);
    });
    p.multi = study_.directions().size() > 1;
    if (p.multi) {
      p.pareto_size = study_.best_trials().size();
    } else {
      p.best = study_.best_trial();
    }
    for (const compe::Trial& t : p.ended) reported_.insert(t.number);
    ended_ += static_cast<std::int64_t>(p.ended.size());
    p.ended_total = ended_;
    p.budget = session_.limit - session_.first;
    sink_.on_progress(p);
  }

 private:
  Store& store_;
  Study& study_;
  const TuneSession& session_;
  const TuneSink& sink_;
  std::set<std::int64_t> reported_;
  std::int64_t ended_ = 0;
};

// A trial is a run of the experiment with the trial's parameters (and the proxy); its fold scores
// feed the pruner; its run is linked to it whether it completed, failed or was pruned.
std::function<std::vector<double>(Trial&)> trial_objective(const Workspace& ws, Store& store,
                                                          const TunePlan& plan,
                                                          const TuneOptions& options,
                                                          const TuneSession& session,
                                                          const TuneSink& sink) {
  return [&ws, &store, &plan, &options, &session, &sink](Trial& t) -> std::vector<double> {
    if (sink.on_trial_start) sink.on_trial_start(t.number());
    TrialSetup ts = trial_setup(plan, t.params(), true, session.seed);
    ts.options.store = options.store_url;
    ts.options.command_line = options.command_line;
    ts.options.cancel = options.cancel;
    run::Experiment& e = ts.experiment;
    e.name = fmt::format("{}-t{}", session.study, t.number());
    bool pruned = false;
    ts.options.after_fold = [&](int fold, double score) {
      t.report(score, fold);
      pruned = t.should_prune();
      return pruned;
    };
    const bool proxy = plan.config.proxy.has_value();
    try {
      const run::Summary s = run::run_experiment(ws, e, ts.options, nullptr);
      if (sink.on_run_end) sink.on_run_end(t.number());
      link_trial_run(store, session.study, t.number(), s.run_id, proxy);
      return objective_values(plan.config.objectives, s);
    } catch (const Error&) {
      if (sink.on_run_end) sink.on_run_end(t.number());
      RunFilter f;
      f.name_contains = e.name;
      f.limit = 1;
      for (const Run& r : store.list_runs(f).runs) {
        if (r.name == e.name) link_trial_run(store, session.study, t.number(), r.id, proxy);
      }
      if (pruned) throw TrialPruned{};
      throw;
    }
  };
}

TuneResult tune_result(Store& store, Study& study, const TunePlan& plan) {
  TuneResult r;
  r.study = study.name();
  r.direction = study.direction();
  r.metric = plan.metric;
  r.objectives = plan.config.objectives;
  r.multi = r.objectives.size() > 1;
  r.trials = study.trials().size();
  if (const auto best = study.best_trial()) {
    r.best = TuneResult::Best{best->number, *best->value,
                              store.get_trial(r.study, best->number).run_id,
                              external_params(plan.config.space, *best)};
  }
  if (r.multi) {
    for (const FrozenTrial& f : study.best_trials()) {
      r.pareto.push_back({f.number, f.values, external_params(plan.config.space, f)});
    }
  }
  return r;
}

}  // namespace

TuneResult tune_experiment(const Workspace& ws, Store& store, const TuneOptions& options,
                           const TuneSink& sink) {
  const TunePlan plan = plan_tune(ws, store, options.experiment_path, options.study);
  const TuneConfig& cfg = plan.config;
  const std::uint64_t seed =
      options.seed >= 0 ? static_cast<std::uint64_t>(options.seed) : cfg.seed;
  const StudyOptions so = study_options(plan, options.study, seed);
  Study study(store, so);

  TuneSession session;
  session.plan = &plan;
  session.study = so.name;
  session.direction = so.direction;
  session.seed = seed;
  session.timeout = options.timeout >= 0 ? options.timeout : cfg.timeout;
  // A trial budget shared by this call's processes.
  session.first = static_cast<std::int64_t>(store.list_trials(so.name).size());
  const std::int64_t n_trials = options.trials > 0 ? options.trials : cfg.trials;
  session.limit = options.trial_limit >= 0 ? options.trial_limit : session.first + n_trials;
  study.set_trial_limit(session.limit);
  if (sink.on_open) sink.on_open(session);

  ProgressReporter progress(store, study, session, sink);
  const auto objective = trial_objective(ws, store, plan, options, session, sink);
  const std::function<void()> poll = [&progress] { progress(); };
  try {
    study.optimize_multi(objective, 0, std::chrono::duration<double>(session.timeout),
                         cfg.max_failures, [&](const FrozenTrial& f) {
                           if (sink.on_trial_end) sink.on_trial_end(f);
                           progress();
                         });
  } catch (...) {
    if (sink.on_loop_end) sink.on_loop_end(true, poll);
    throw;
  }
  if (sink.on_loop_end) sink.on_loop_end(false, poll);
  return tune_result(store, study, plan);
}

}  // namespace compe::tune
