// compe tune: hyper-parameter search over an experiment's [tune] space, local worker processes,
// proxy-then-transfer. Options → one tune:: call (tune_experiment or transfer) → text or JSON;
// the process plumbing (signals, workers) is tune_process.cpp, compe study show is study.cpp.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <memory>

#include <fmt/core.h>

#include "commands.hpp"
#include "compe/error.hpp"
#include "compe/store.hpp"
#include "compe/tune/experiment.hpp"
#include "output.hpp"
#include "progress.hpp"
#include "tune_process.hpp"
#include "workspace_option.hpp"

namespace compe::cli {
namespace {

struct TuneArgs {
  std::string experiment, study, store, workspace, transfer;
  std::int64_t trials = 0;
  double timeout = -1;
  std::int64_t seed = -1;
  int workers = 1;
  int top = 5;
  bool worker = false;
  std::int64_t trial_limit = -1;
  std::int64_t parent_pid = 0;
  bool json = false;
};

void add_tune_options(CLI::App* cmd, TuneArgs& a) {
  cmd->add_option("EXPERIMENT", a.experiment,
                  "Experiment TOML file with a [tune] table (optional when --study names a study "
                  "made by compe tune: its experiment is kept in the store)");
  cmd->add_option("--trials", a.trials,
                  "Trials to run in this call, shared by its workers (default: tune.trials)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--timeout", a.timeout, "Stop starting trials after S seconds")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--study", a.study, "Study name (an existing study is continued or joined)");
  cmd->add_option("--seed", a.seed, "Sampler seed (default: tune.seed; worker i adds i)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--workers", a.workers,
                  "Processes on this machine, this one included, sharing the trials")
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--transfer", a.transfer,
                  "Re-run the best trials of this (proxy) study at full size and compare");
  cmd->add_option("--top", a.top, "With --transfer: how many of the best trials (default 5)")
      ->check(CLI::Range(1, 1000000));
  cmd->add_flag("--worker", a.worker, "Run as a local worker of a parent compe tune")->group("");
  cmd->add_option("--trial-limit", a.trial_limit, "Stop once the study has this many trials")
      ->group("");
  cmd->add_option("--parent-pid", a.parent_pid, "With --worker: the parent compe tune")->group("");
  add_workspace_option(cmd, a.workspace);
  add_store_option(cmd, a.store);
  cmd->add_flag("--json", a.json, "Print one JSON document");
}

// compe tune --transfer: the best proxy trials again, at full size.
void run_transfer(const TuneArgs& a, const std::string& cmdline) {
  const Workspace w = open_workspace(a.workspace);
  tune::TransferOptions o;
  o.study = a.transfer;
  o.top = a.top;
  o.store_url = store_url(a.store, a.workspace);
  o.command_line = cmdline;
  auto store = open_store(o.store_url);
  tune::TransferSink sink;
  if (!a.json) {
    sink.on_start = [](const std::string& study, std::size_t n, const nlohmann::json& proxy) {
      fmt::print("transfer of study {}: the best {} trial(s) at full size (proxy {})\n", study, n,
                 proxy.is_null() ? std::string("none") : proxy.dump());
      std::fflush(stdout);
    };
    sink.on_row = [](const tune::TransferRow& r) {
      fmt::print("trial {}: proxy {} -> full {}  run {}\n", r.number, fmt_score(r.proxy),
                 fmt_score(r.full), r.run_id);
      std::fflush(stdout);
    };
  }
  const tune::TransferResult t = tune::transfer(w, *store, o, sink);
  if (a.json) {
    nlohmann::json rows = nlohmann::json::array();
    for (const tune::TransferRow& r : t.rows) {
      rows.push_back({{"number", r.number}, {"proxy", r.proxy}, {"full", r.full},
                      {"params", r.params}, {"proxy_run_id", r.proxy_run_id},
                      {"run_id", r.run_id}});
    }
    print_json({{"study", t.study},
                {"metric", t.metric},
                {"proxy", t.proxy},
                {"trials", rows},
                {"spearman", std::isnan(t.spearman) ? nlohmann::json(nullptr)
                                                    : nlohmann::json(t.spearman)}});
    return;
  }
  std::vector<std::vector<std::string>> table;
  for (const tune::TransferRow& r : t.rows) {
    table.push_back({std::to_string(r.number), fmt_score(r.proxy), fmt_score(r.full), r.run_id,
                     r.proxy_run_id.empty() ? "-" : r.proxy_run_id, params_text(r.params)});
  }
  print_table({"trial", "proxy " + t.metric, "full " + t.metric, "run", "proxy run", "params"},
              table);
  if (std::isnan(t.spearman)) {
    fmt::print("rank correlation (Spearman) of proxy and full scores: undefined ({} trial(s))\n",
               t.rows.size());
  } else {
    fmt::print("rank correlation (Spearman) of proxy and full scores over {} trials: {:.3f}\n",
               t.rows.size(), t.spearman);
  }
}

std::string values_text(const std::string& metric, const std::vector<std::string>& objectives,
                        const std::vector<double>& values) {
  std::string out;
  for (std::size_t k = 0; k < values.size() && k < objectives.size(); ++k) {
    const std::string& label = objectives[k] == "cv" ? metric : objectives[k];
    out += fmt::format("{}{} = {}", k ? ", " : "", label, fmt_score(values[k]));
  }
  return out;
}

// One line per trial that ended (from any process of the study); on a terminal they go through
// the bar's notes and the bar shows trials ended of the budget with the best so far. Returns the
// bar's detail ("best ... (trial n)").
std::string print_progress(const tune::TuneProgress& p, const tune::TuneSession& s, Progress& bar,
                           bool tty, std::size_t workers) {
  const std::string& metric = s.plan->metric;
  const std::vector<std::string>& objectives = s.plan->config.objectives;
  std::string best = "best none yet";
  if (p.multi) {
    best = fmt::format("{} on the Pareto front", p.pareto_size);
  } else if (p.best) {
    best = fmt::format("best {} (trial {})", fmt_score(*p.best->value), p.best->number);
  }
  for (const compe::Trial& t : p.ended) {
    std::string what;
    if (t.state == TrialState::kComplete && !t.values.empty()) {
      what = values_text(metric, objectives, t.values);
    } else if (t.state == TrialState::kPruned) {
      what = fmt::format("pruned after fold {}",
                         t.intermediate.empty() ? -1 : t.intermediate.rbegin()->first);
    } else {
      what = fmt::format("failed: {}", t.error);
    }
    const std::string line =
        fmt::format("trial {}: {}  {}  [{}]", t.number, what, best, params_text(t.params));
    if (tty) {
      bar.note(line);
    } else {
      fmt::print("{}\n", line);
    }
  }
  const std::string detail =
      best + (workers == 0 ? "" : fmt::format("  {} workers", workers + 1));
  bar.advance(static_cast<std::size_t>(std::max<std::int64_t>(0, p.ended_total)), detail);
  std::fflush(stdout);
  return detail;
}

void print_tune_result(const tune::TuneResult& r, Store& store, bool json, std::size_t workers) {
  if (json) {
    nlohmann::json doc = {{"study", r.study},
                          {"direction", tune::direction_name(r.direction)},
                          {"metric", r.metric},
                          {"trials", r.trials},
                          {"workers", workers + 1}};
    doc["best"] = nullptr;
    if (r.best) {
      const std::string& id = r.best->run_id;
      doc["best"] = {{"number", r.best->number},
                     {"value", r.best->value},
                     {"run_id", id.empty() ? nlohmann::json(nullptr) : nlohmann::json(id)},
                     {"params", r.best->params}};
      // The best trial's Run record (every --json that names a run prints it in one shape).
      if (!id.empty()) doc["best"]["run"] = run_record(store, id);
    }
    if (r.multi) {
      doc["objectives"] = r.objectives;
      doc["pareto"] = nlohmann::json::array();
      for (const auto& f : r.pareto) {
        doc["pareto"].push_back({{"number", f.number}, {"values", f.values}, {"params", f.params}});
      }
    }
    print_json(doc);
  } else if (r.multi) {
    fmt::print("Pareto front ({} trial(s)):\n", r.pareto.size());
    for (const auto& f : r.pareto) {
      fmt::print("  trial {}: {}  [{}]\n", f.number, values_text(r.metric, r.objectives, f.values),
                 params_text(f.params));
    }
  } else if (r.best) {
    fmt::print("best: trial {} with {} = {}  [{}]\n", r.best->number, r.metric,
               fmt_score(r.best->value), params_text(r.best->params));
  } else {
    fmt::print("no trial completed\n");
  }
}

void run_tune(const TuneArgs& a, const std::string& cmdline) {
  const Workspace w = open_workspace(a.workspace);
  tune::TuneOptions o;
  o.experiment_path = a.experiment;
  o.study = a.study;
  o.store_url = store_url(a.store, a.workspace);
  o.command_line = cmdline;
  o.trials = a.trials;
  o.timeout = a.timeout;
  o.seed = a.seed;
  o.trial_limit = a.trial_limit;
  auto store = open_store(o.store_url);
  StopState& stop = stop_state();
  o.cancel = &stop.cancel;
  const bool show = !a.json && !a.worker;
  const bool bar = show && stdout_is_tty();
  LocalWorkers workers(stop);
  TerminalProgress progress(stdout, bar);
  std::string progress_detail;
  const tune::TuneSession* session = nullptr;
  tune::TuneSink sink;
  sink.on_open = [&](const tune::TuneSession& s) {
    session = &s;
    stop.store = store.get();
    stop.study = s.study;
    install_stop_handler();
    if (a.worker && a.parent_pid > 0) die_with_parent(a.parent_pid);
    WorkerCommand c{a.experiment, a.workspace, s.study, o.store_url, s.seed, s.limit, s.timeout};
    for (int i = 1; i < a.workers && !a.worker; ++i) workers.start(i, c.args(i));
    if (!show) return;
    const tune::TuneConfig& cfg = s.plan->config;
    fmt::print("study {}: {} {} over {} parameter(s), sampler {}, pruner {}{}{}\n", s.study,
               tune::direction_name(s.direction), s.plan->metric, cfg.space.size(), cfg.sampler,
               cfg.pruner, workers.empty() ? "" : fmt::format(", {} workers", workers.size() + 1),
               cfg.proxy ? fmt::format(", proxy {}", cfg.proxy->to_json().dump()) : "");
    std::fflush(stdout);
    progress.start("trials", static_cast<std::size_t>(std::max<std::int64_t>(1, s.limit - s.first)));
  };
  sink.on_trial_start = [&](std::int64_t n) {
    stop.current = n;
    if (stop.cancel) hold_for_exit(stop);
  };
  sink.on_run_end = [&](std::int64_t) {
    if (stop.cancel) hold_for_exit(stop);
  };
  sink.on_trial_end = [&](const tune::FrozenTrial&) { stop.current = -1; };
  if (show) {
    sink.on_progress = [&](const tune::TuneProgress& p) {
      progress_detail = print_progress(p, *session, progress, bar, workers.size());
    };
  }
  // Whatever ends this process's loop, the local workers are stopped or waited for.
  sink.on_loop_end = [&](bool failed, const std::function<void()>& poll) {
    stop.current = -1;
    int exit_status = 0;
    const std::string failures = workers.wait(failed, *store, session->study, poll, exit_status);
    if (!failed) poll();
    progress.finish(progress_detail);
    if (!failed && !failures.empty()) {
      fail(exit_status == 2 ? ErrorCode::kInvalidArgument : ErrorCode::kBackend, "study '{}': {}",
           session->study, failures);
    }
  };
  const tune::TuneResult r = tune::tune_experiment(w, *store, o, sink);
  if (!a.worker) print_tune_result(r, *store, a.json, workers.size());
}

}  // namespace

void add_tune_command(CLI::App& app, int argc, char** argv) {
  auto a = std::make_shared<TuneArgs>();
  const std::string cmdline = command_line(argc, argv);
  auto* cmd = app.add_subcommand(
      "tune", "Search model parameters: each trial is a cross-validated run of the experiment");
  add_tune_options(cmd, *a);
  cmd->callback([a, cmdline] {
    if (!a->transfer.empty()) {
      run_transfer(*a, cmdline);
    } else {
      run_tune(*a, cmdline);
    }
  });
}

}  // namespace compe::cli
