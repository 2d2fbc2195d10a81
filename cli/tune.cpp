// compe tune: hyper-parameter search over an experiment's [tune] space; compe study show.
#include <cmath>
#include <cstdlib>
#include <filesystem>

#include <fmt/core.h>

#include "commands.hpp"
#include "compe/error.hpp"
#include "compe/metric.hpp"
#include "compe/model.hpp"
#include "compe/run.hpp"
#include "compe/store.hpp"
#include "compe/tune.hpp"
#include "compe/util.hpp"
#include "output.hpp"
#include "workspace_option.hpp"

namespace compe::cli {
namespace fs = std::filesystem;

namespace {

std::string store_url(const std::string& given, const std::string& workspace) {
  if (!given.empty()) return given;
  if (const char* env = std::getenv("COMPE_STORE")) return env;
  return open_workspace(workspace).store_path().string();
}

// Every space key must be a parameter the backend takes.
void check_space_keys(const tune::SearchSpace& space, const std::string& backend,
                      const std::string& display) {
  const model::Info& info = model::find(backend);
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

std::string params_text(const nlohmann::json& p) {
  std::string out;
  for (const auto& [k, v] : p.items()) {
    if (!out.empty()) out += ' ';
    out += k + "=" + (v.is_number_float() ? fmt_score(v.get<double>()) : v.dump());
  }
  return out;
}

nlohmann::json external_params(const tune::SearchSpace& space, const tune::FrozenTrial& t) {
  nlohmann::json p = nlohmann::json::object();
  for (const auto& [name, d] : space.params()) {
    auto it = t.params.find(name);
    if (it != t.params.end()) p[name] = d.to_external(it->second);
  }
  return p;
}

}  // namespace

void add_tune_command(CLI::App& app, int argc, char** argv) {
  struct Args {
    std::string experiment, study, store, workspace;
    std::int64_t trials = 0;
    double timeout = -1;
    std::int64_t seed = -1;
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  std::string cmdline;
  for (int i = 0; i < argc; ++i) cmdline += (i ? " " : "") + std::string(argv[i]);
  auto* cmd = app.add_subcommand(
      "tune", "Search model parameters: each trial is a cross-validated run of the experiment");
  cmd->add_option("EXPERIMENT", a->experiment, "Experiment TOML file with a [tune] table")
      ->required();
  cmd->add_option("--trials", a->trials, "Trials to run in this call (default: tune.trials)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--timeout", a->timeout, "Stop starting trials after S seconds")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--study", a->study, "Study name (an existing study is continued)");
  cmd->add_option("--seed", a->seed, "Sampler seed (default: tune.seed)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--workspace", a->workspace, "Workspace folder (default: the current one)");
  cmd->add_option("--store", a->store,
                  "Store URL (default: the workspace's SQLite store; env COMPE_STORE)");
  cmd->add_flag("--json", a->json, "Print one JSON document");
  cmd->callback([a, cmdline] {
    Workspace w = open_workspace(a->workspace);
    run::Experiment x = run::parse_experiment(read_file(a->experiment), a->experiment);
    if (x.tune.is_null()) {
      fail(ErrorCode::kInvalidArgument,
           "{}: no [tune] table; add one with a [tune.space], e.g. max_depth = {{type = \"int\", "
           "low = 2, high = 8}}",
           a->experiment);
    }
    tune::TuneConfig cfg = tune::parse_tune_config(x.tune, a->experiment);
    check_space_keys(cfg.space, x.backend, a->experiment);
    const std::string url = store_url(a->store, a->workspace);
    auto store = open_store(url);

    tune::StudyOptions so;
    so.name = !a->study.empty()    ? a->study
              : !cfg.study.empty() ? cfg.study
              : !x.name.empty()    ? x.name
                                   : fs::path(a->experiment).stem().string();
    so.direction = metric::make(w.config().metric)->info().greater_is_better()
                       ? tune::Direction::kMaximize
                       : tune::Direction::kMinimize;
    const bool multi = cfg.objectives.size() > 1;
    if (multi) {
      for (const std::string& o : cfg.objectives) {
        so.directions.push_back(o == "cv" ? so.direction : tune::Direction::kMinimize);
      }
      if (cfg.pruner != "none" && cfg.objectives[0] != "cv") {
        fail(ErrorCode::kInvalidArgument,
             "{}: pruner '{}' judges fold scores, so tune.objectives must start with \"cv\"",
             a->experiment, cfg.pruner);
      }
    }
    auto objective_label = [&](const std::string& o) {
      return o == "cv" ? w.config().metric : o;
    };
    so.space = cfg.space;
    so.sampler = cfg.sampler;
    so.sampler_settings = cfg.sampler_settings;
    so.pruner = cfg.pruner;
    so.pruner_settings = cfg.pruner_settings;
    so.seed = a->seed >= 0 ? static_cast<std::uint64_t>(a->seed) : cfg.seed;
    tune::Study study(*store, so);
    const std::string study_name = so.name;
    const std::int64_t n_trials = a->trials > 0 ? a->trials : cfg.trials;
    const double timeout = a->timeout >= 0 ? a->timeout : cfg.timeout;
    const bool show = !a->json;
    if (show) {
      fmt::print("study {}: {} {} over {} parameter(s), sampler {}, pruner {}\n", study_name,
                 tune::direction_name(so.direction), w.config().metric, cfg.space.size(),
                 cfg.sampler, cfg.pruner);
      std::fflush(stdout);
    }

    std::map<std::int64_t, int> stopped_after;  // pruned trial -> last fold
    auto objective = [&](tune::Trial& t) -> std::vector<double> {
      run::Experiment e = x;
      e.tune = nullptr;
      if (!e.params.is_object()) e.params = nlohmann::json::object();
      for (const auto& [k, v] : t.params().items()) e.params[k] = v;
      e.name = fmt::format("{}-t{}", study_name, t.number());
      run::Options o;
      o.store = url;
      o.command_line = cmdline;
      o.allow_multi = true;
      bool pruned = false;
      o.after_fold = [&](int fold, double score) {
        t.report(score, fold);
        pruned = t.should_prune();
        if (pruned) stopped_after[t.number()] = fold;
        return pruned;
      };
      auto link = [&](const std::string& run_id) {
        store->set_trial_run(study_name, t.number(), run_id);
        store->add_tag(run_id, "study:" + study_name);
        store->add_tag(run_id, fmt::format("trial:{}", t.number()));
      };
      try {
        run::Summary s = run::run_experiment(w, e, o, nullptr);
        link(s.run_id);
        std::vector<double> values;
        for (const std::string& name : cfg.objectives) {
          values.push_back(name == "cv"            ? s.cv
                           : name == "fit_seconds" ? s.model_seconds
                                                   : s.wall_seconds);
        }
        return values;
      } catch (const Error&) {
        RunFilter f;
        f.name_contains = e.name;
        f.limit = 1;
        for (const Run& r : store->list_runs(f).runs) {
          if (r.name == e.name) link(r.id);
        }
        if (pruned) throw tune::TrialPruned{};
        throw;
      }
    };
    auto progress = [&](const tune::FrozenTrial& t) {
      if (!show) return;
      std::string what;
      if (t.state == TrialState::kComplete) {
        for (std::size_t k = 0; k < t.values.size() && k < cfg.objectives.size(); ++k) {
          what += fmt::format("{}{} = {}", k ? ", " : "", objective_label(cfg.objectives[k]),
                              fmt_score(t.values[k]));
        }
      } else if (t.state == TrialState::kPruned) {
        what = fmt::format("pruned after fold {}", stopped_after[t.number]);
      } else {
        what = fmt::format("failed: {}", t.error);
      }
      std::string best = "best none yet";
      if (multi) {
        best = fmt::format("{} on the Pareto front", study.best_trials().size());
      } else if (auto b = study.best_trial()) {
        best = fmt::format("best {} (trial {})", fmt_score(*b->value), b->number);
      }
      fmt::print("trial {}: {}  {}  [{}]\n", t.number, what, best,
                 params_text(external_params(cfg.space, t)));
      std::fflush(stdout);
    };
    study.optimize_multi(objective, n_trials, std::chrono::duration<double>(timeout),
                         cfg.max_failures, progress);
    const auto best = study.best_trial();
    const auto trials = study.trials();
    if (a->json) {
      nlohmann::json doc = {{"study", study_name},
                            {"direction", tune::direction_name(so.direction)},
                            {"metric", w.config().metric},
                            {"trials", trials.size()}};
      if (best) {
        doc["best"] = {{"number", best->number},
                       {"value", *best->value},
                       {"params", external_params(cfg.space, *best)}};
      } else {
        doc["best"] = nullptr;
      }
      if (multi) {
        doc["objectives"] = cfg.objectives;
        doc["pareto"] = nlohmann::json::array();
        for (const auto& f : study.best_trials()) {
          doc["pareto"].push_back({{"number", f.number},
                                   {"values", f.values},
                                   {"params", external_params(cfg.space, f)}});
        }
      }
      print_json(doc);
      return;
    }
    if (multi) {
      const auto front = study.best_trials();
      fmt::print("Pareto front ({} trial(s)):\n", front.size());
      for (const auto& f : front) {
        std::string vals;
        for (std::size_t k = 0; k < f.values.size(); ++k) {
          vals += fmt::format("{}{} = {}", k ? ", " : "", objective_label(cfg.objectives[k]),
                              fmt_score(f.values[k]));
        }
        fmt::print("  trial {}: {}  [{}]\n", f.number, vals,
                   params_text(external_params(cfg.space, f)));
      }
    } else if (best) {
      fmt::print("best: trial {} with {} = {}  [{}]\n", best->number, w.config().metric,
                 fmt_score(*best->value), params_text(external_params(cfg.space, *best)));
    } else {
      fmt::print("no trial completed\n");
    }
  });
}

void add_study_command(CLI::App& app) {
  struct Args {
    std::string name, store, workspace;
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("study", "Inspect tuning studies");
  cmd->require_subcommand(1);
  auto* show = cmd->add_subcommand("show", "Best trial, history and parameter importance");
  show->add_option("NAME", a->name, "Study name")->required();
  show->add_option("--workspace", a->workspace, "Workspace folder (default: the current one)");
  show->add_option("--store", a->store, "Store URL (default: the workspace's; env COMPE_STORE)");
  show->add_flag("--json", a->json, "Print one JSON document");
  show->callback([a] {
    auto store = open_store(store_url(a->store, a->workspace));
    const Study s = store->get_study(a->name);
    const tune::SearchSpace space =
        tune::SearchSpace::from_json(s.sampler.value("space", nlohmann::json::array()));
    const bool maximize = !s.directions.empty() && s.directions[0] == "maximize";
    const bool multi = s.directions.size() > 1;
    std::vector<tune::Direction> dirs;
    for (const std::string& d : s.directions) dirs.push_back(tune::parse_direction(d));
    std::vector<tune::FrozenTrial> trials;
    nlohmann::json history = nlohmann::json::array();
    std::optional<std::size_t> best;
    std::map<std::string, int> counts;
    for (const compe::Trial& t : store->list_trials(a->name)) {
      tune::FrozenTrial f;
      f.number = t.number;
      f.state = t.state;
      if (t.state == TrialState::kComplete && !t.values.empty()) {
        f.value = t.values[0];
        f.values = t.values;
      }
      for (const auto& [name, d] : space.params()) {
        if (t.params.contains(name)) {
          if (auto v = d.to_internal(t.params[name])) f.params[name] = *v;
        }
      }
      ++counts[std::string(trial_state_name(t.state))];
      if (f.value && (!best || (maximize ? *f.value > *trials[*best].value
                                         : *f.value < *trials[*best].value))) {
        best = trials.size();
      }
      history.push_back({{"number", t.number},
                         {"state", trial_state_name(t.state)},
                         {"value", f.value ? nlohmann::json(*f.value) : nlohmann::json(nullptr)},
                         {"values", f.values},
                         {"params", t.params},
                         {"run_id", t.run_id},
                         {"folds", t.intermediate.size()}});
      trials.push_back(std::move(f));
    }
    const auto importance = tune::parameter_importance(space, trials);
    const std::vector<tune::FrozenTrial> front = multi ? tune::pareto_front(trials, dirs)
                                                       : std::vector<tune::FrozenTrial>{};
    if (a->json) {
      nlohmann::json imp = nlohmann::json::object();
      for (const auto& [n, v] : importance) imp[n] = v;
      nlohmann::json b = nullptr;
      if (best) b = history[*best];
      nlohmann::json pareto = nlohmann::json::array();
      for (const auto& f : front) pareto.push_back(f.number);
      print_json({{"study", s.name},
                  {"direction", s.directions.empty() ? "" : s.directions[0]},
                  {"directions", s.directions},
                  {"pareto", pareto},
                  {"sampler", s.sampler.value("sampler", "")},
                  {"pruner", s.sampler.value("pruner", "")},
                  {"counts", counts},
                  {"best", b},
                  {"importance", imp},
                  {"trials", history}});
      return;
    }
    fmt::print("study {} ({}, sampler {}, pruner {}): {} trial(s)", s.name,
               s.directions.empty() ? "" : s.directions[0], s.sampler.value("sampler", ""),
               s.sampler.value("pruner", ""), history.size());
    for (const auto& [state, n] : counts) fmt::print(", {} {}", n, state);
    fmt::print("\n");
    if (multi) {
      fmt::print("Pareto front ({} trial(s); directions {}):\n", front.size(), join(s.directions));
      std::vector<std::vector<std::string>> prow;
      for (const auto& f : front) {
        std::vector<std::string> row = {std::to_string(f.number)};
        for (double v : f.values) row.push_back(fmt_score(v));
        std::size_t at = 0;
        while (at < history.size() && history[at]["number"].get<std::int64_t>() != f.number) ++at;
        row.push_back(at < history.size() ? params_text(history[at]["params"]) : "");
        prow.push_back(std::move(row));
      }
      std::vector<std::string> head = {"trial"};
      for (std::size_t k = 0; k < s.directions.size(); ++k) {
        head.push_back(fmt::format("value {} ({})", k, s.directions[k]));
      }
      head.push_back("params");
      print_table(head, prow);
    } else if (best) {
      const auto& h = history[*best];
      fmt::print("best: trial {} = {}  [{}]  run {}\n", h["number"].get<std::int64_t>(),
                 fmt_score(h["value"].get<double>()), params_text(h["params"]),
                 h["run_id"].get<std::string>());
    }
    std::vector<std::vector<std::string>> rows;
    double running_best = NAN;
    for (const auto& h : history) {
      std::string value = "-";
      if (!h["value"].is_null()) {
        const double v = h["value"].get<double>();
        value = fmt_score(v);
        if (multi) {
          value.clear();
          for (const auto& x : h["values"]) value += (value.empty() ? "" : " ") + fmt_score(x.get<double>());
        }
        if (std::isnan(running_best) || (maximize ? v > running_best : v < running_best)) {
          running_best = v;
        }
      }
      rows.push_back(
          {std::to_string(h["number"].get<std::int64_t>()), h["state"].get<std::string>(), value,
           std::isnan(running_best) ? "-" : fmt_score(running_best), params_text(h["params"])});
    }
    print_table({"trial", "state", "value", "best so far", "params"}, rows);
    fmt::print("parameter importance (rank correlation with the objective, sums to 1):\n");
    for (const auto& [n, v] : importance) fmt::print("  {:<24} {:.3f}\n", n, v);
  });
}

}  // namespace compe::cli
