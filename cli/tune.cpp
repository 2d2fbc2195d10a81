// compe tune: hyper-parameter search over an experiment's [tune] space, local worker processes,
// proxy-then-transfer; compe study show.
#include <fcntl.h>
#include <spawn.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <set>
#include <thread>

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

// ---- stopping on SIGINT / SIGTERM ----
//
// A signal handler may do almost nothing, so it only writes the signal to a pipe; a thread reads
// it and does the work: cancel this process's run (which then stops its trainer and records
// itself as interrupted), stop the local workers, end the running trial as failed, and exit. So
// Ctrl-C leaves no trial running and no worker behind.
int g_stop_pipe[2] = {-1, -1};

extern "C" void on_stop_signal(int sig) {
  const unsigned char b = static_cast<unsigned char>(sig);
  [[maybe_unused]] ssize_t n = ::write(g_stop_pipe[1], &b, 1);
}

struct StopState {
  std::mutex mu;
  std::vector<pid_t> workers;  // local worker processes still to reap
  Store* store = nullptr;
  std::string study;
  std::atomic<std::int64_t> current{-1};  // this process's running trial
  std::atomic<bool> cancel{false};        // set on a signal: the run stops at its next step
  std::atomic<bool> idle{false};          // the main thread has left the run and waits to exit
};

// Called by the main thread once a signal came: it must not start anything else.
[[noreturn]] void hold_for_exit(StopState& st) {
  st.idle = true;
  for (;;) std::this_thread::sleep_for(std::chrono::seconds(1));
}

StopState& stop_state() {
  static StopState s;
  return s;
}

// Sends SIGTERM to the workers and reaps them, SIGKILL after `grace`.
void stop_workers(std::vector<pid_t> pids, std::chrono::milliseconds grace) {
  for (pid_t p : pids) ::kill(p, SIGTERM);
  const auto until = std::chrono::steady_clock::now() + grace;
  while (!pids.empty()) {
    std::erase_if(pids, [](pid_t p) { return ::waitpid(p, nullptr, WNOHANG) != 0; });
    if (pids.empty()) break;
    if (std::chrono::steady_clock::now() >= until) {
      for (pid_t p : pids) {
        ::kill(p, SIGKILL);
        ::waitpid(p, nullptr, 0);
      }
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

void install_stop_handler() {
  static bool installed = false;
  if (installed) return;
  installed = true;
  if (::pipe(g_stop_pipe) != 0) return;
  ::fcntl(g_stop_pipe[0], F_SETFD, FD_CLOEXEC);
  ::fcntl(g_stop_pipe[1], F_SETFD, FD_CLOEXEC);
  std::thread([] {
    unsigned char sig = 0;
    while (::read(g_stop_pipe[0], &sig, 1) != 1) {
      if (errno != EINTR) return;
    }
    StopState& st = stop_state();
    st.cancel = true;
    std::vector<pid_t> workers;
    {
      std::lock_guard lock(st.mu);
      workers = st.workers;
    }
    stop_workers(workers, std::chrono::seconds(15));
    // Give this process's run a moment to stop its trainer and record itself as interrupted.
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!st.idle && st.current >= 0 && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    const std::int64_t n = st.current.load();
    if (st.store && n >= 0) {
      try {
        st.store->finish_trial(st.study, n, TrialState::kFailed, {},
                               fmt::format("interrupted by signal {} ({})", sig,
                                           sig == SIGINT ? "SIGINT" : "SIGTERM"));
      } catch (const std::exception&) {
        // Already ended, or the store is unreachable: the stale check will end it.
      }
    }
    fmt::print(stderr, "interrupted{}{}\n",
               n >= 0 ? fmt::format(": trial {} ended as failed", n) : "",
               workers.empty() ? "" : fmt::format(", {} worker(s) stopped", workers.size()));
    std::fflush(stderr);
    ::_exit(128 + sig);
  }).detach();
  struct sigaction sa = {};
  sa.sa_handler = on_stop_signal;
  sigemptyset(&sa.sa_mask);
  sa.sa_flags = SA_RESTART;
  ::sigaction(SIGINT, &sa, nullptr);
  ::sigaction(SIGTERM, &sa, nullptr);
}

// ---- local worker processes ----

struct LocalWorker {
  int index = 0;
  pid_t pid = -1;
  fs::path errors;  // its stderr
  std::optional<int> status;
};

pid_t spawn_worker(const std::vector<std::string>& args, const fs::path& errors) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, errors.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, "/proc/self/exe", &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) {
    fail(ErrorCode::kIo, "cannot start a worker process: {}", std::strerror(rc));
  }
  return pid;
}

std::string last_line(const fs::path& p) {
  std::ifstream in(p);
  std::string line, last;
  while (std::getline(in, line)) {
    if (!line.empty()) last = line;
  }
  return last;
}

std::string describe_status(int status) {
  if (WIFEXITED(status)) return fmt::format("exit status {}", WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return fmt::format("killed by signal {}", WTERMSIG(status));
  return fmt::format("status {}", status);
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

}  // namespace

void add_tune_command(CLI::App& app, int argc, char** argv) {
  struct Args {
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
  auto a = std::make_shared<Args>();
  std::string cmdline;
  for (int i = 0; i < argc; ++i) cmdline += (i ? " " : "") + std::string(argv[i]);
  auto* cmd = app.add_subcommand(
      "tune", "Search model parameters: each trial is a cross-validated run of the experiment");
  cmd->add_option("EXPERIMENT", a->experiment,
                  "Experiment TOML file with a [tune] table (optional when --study names a study "
                  "made by compe tune: its experiment is kept in the store)");
  cmd->add_option("--trials", a->trials,
                  "Trials to run in this call, shared by its workers (default: tune.trials)")
      ->check(CLI::PositiveNumber);
  cmd->add_option("--timeout", a->timeout, "Stop starting trials after S seconds")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--study", a->study, "Study name (an existing study is continued or joined)");
  cmd->add_option("--seed", a->seed, "Sampler seed (default: tune.seed; worker i adds i)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--workers", a->workers,
                  "Processes on this machine, this one included, sharing the trials")
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--transfer", a->transfer,
                  "Re-run the best trials of this (proxy) study at full size and compare");
  cmd->add_option("--top", a->top, "With --transfer: how many of the best trials (default 5)")
      ->check(CLI::Range(1, 1000000));
  cmd->add_flag("--worker", a->worker, "Run as a local worker of a parent compe tune")
      ->group("");
  cmd->add_option("--trial-limit", a->trial_limit, "Stop once the study has this many trials")
      ->group("");
  cmd->add_option("--parent-pid", a->parent_pid, "With --worker: the parent compe tune")
      ->group("");
  cmd->add_option("--workspace", a->workspace, "Workspace folder (default: the current one)");
  cmd->add_option("--store", a->store,
                  "Store URL (default: the workspace's SQLite store; env COMPE_STORE)");
  cmd->add_flag("--json", a->json, "Print one JSON document");
  cmd->callback([a, cmdline] {
    Workspace w = open_workspace(a->workspace);
    const std::string url = store_url(a->store, a->workspace);
    auto store = open_store(url);

    // The experiment: the file given, else the one kept with the study.
    std::string experiment_text, display = a->experiment;
    const std::string stored_study = !a->transfer.empty() ? a->transfer : a->study;
    if (!a->experiment.empty() && a->transfer.empty()) {
      experiment_text = read_file(a->experiment);
    } else if (!stored_study.empty()) {
      const Study st = store->get_study(stored_study);
      const nlohmann::json attrs = st.sampler.value("attrs", nlohmann::json::object());
      if (!attrs.contains("experiment") || !attrs["experiment"].is_string()) {
        fail(ErrorCode::kInvalidArgument,
             "study '{}' keeps no experiment (it was not made by compe tune from an experiment "
             "file); give the EXPERIMENT file",
             stored_study);
      }
      experiment_text = attrs["experiment"].get<std::string>();
      display = fmt::format("{} (kept with study '{}')",
                            attrs.value("experiment_path", std::string("experiment")),
                            stored_study);
    } else {
      fail(ErrorCode::kInvalidArgument,
           "compe tune needs an EXPERIMENT file, or --study NAME of a study made by compe tune, "
           "or --transfer STUDY");
    }
    run::Experiment x = run::parse_experiment(experiment_text, display);
    if (x.tune.is_null()) {
      fail(ErrorCode::kInvalidArgument,
           "{}: no [tune] table; add one with a [tune.space], e.g. max_depth = {{type = \"int\", "
           "low = 2, high = 8}}",
           display);
    }
    tune::TuneConfig cfg = tune::parse_tune_config(x.tune, display);
    check_space_keys(cfg.space, x.backend, display);
    const model::Info& info = model::find(x.backend);
    if (cfg.proxy && cfg.proxy->rounds > 0 && rounds_key(info).empty()) {
      fail(ErrorCode::kInvalidArgument,
           "{}: tune.proxy.rounds: model '{}' has no boosting rounds (num_boost_round or "
           "n_estimators) to cap",
           display, info.name);
    }
    if (cfg.proxy && cfg.proxy->folds > 0) {
      const int k = x.folds.empty() ? w.config().folds.spec.k : static_cast<int>(x.folds.size());
      if (cfg.proxy->folds > k) {
        fail(ErrorCode::kInvalidArgument, "{}: tune.proxy.folds is {}; the experiment has {} folds",
             display, cfg.proxy->folds, k);
      }
    }
    const bool maximize = metric::make(w.config().metric)->info().greater_is_better();
    const std::uint64_t seed = a->seed >= 0 ? static_cast<std::uint64_t>(a->seed) : cfg.seed;

    // The experiment of one trial: the sampled parameters merged in, the proxy applied.
    auto trial_experiment = [&](const nlohmann::json& params, bool proxy, run::Options& o) {
      run::Experiment e = x;
      e.tune = nullptr;
      if (!e.params.is_object()) e.params = nlohmann::json::object();
      for (const auto& [k, v] : params.items()) e.params[k] = v;
      o.command_line = cmdline;
      o.allow_multi = true;
      o.kind = "trial";
      if (!proxy || !cfg.proxy) return e;
      const tune::ProxyConfig& p = *cfg.proxy;
      o.proxy = p.to_json();
      if (p.folds > 0) {
        std::vector<int> all = x.folds;
        if (all.empty()) {
          for (int f = 0; f < p.folds; ++f) all.push_back(f);
        }
        all.resize(static_cast<std::size_t>(p.folds));
        e.folds = all;
      }
      if (p.rounds > 0) {
        const std::string key = rounds_key(info);
        std::int64_t now = p.rounds;
        const nlohmann::json& given = e.params.contains(key) ? e.params[key]
                                      : info.default_params.is_object() &&
                                              info.default_params.contains(key)
                                          ? info.default_params[key]
                                          : nlohmann::json();
        if (given.is_number()) now = std::min(now, given.get<std::int64_t>());
        e.params[key] = now;
      }
      if (p.rows_count > 0 || p.rows_fraction < 1.0) {
        o.row_filter = [p, seed](const split::Inputs& in, std::span<const int> folds) {
          return tune::proxy_rows(in, folds, p, seed);
        };
      }
      return e;
    };

    if (!a->transfer.empty()) {
      // ---- proxy-then-transfer: the best proxy trials again, at full size ----
      const std::string study_name = a->transfer;
      // The proxy score is the "cv" objective's value (the first one for a single objective).
      const auto cv_at = std::find(cfg.objectives.begin(), cfg.objectives.end(), "cv");
      if (cv_at == cfg.objectives.end()) {
        fail(ErrorCode::kInvalidArgument,
             "{}: --transfer compares cross-validation scores; tune.objectives has no \"cv\"",
             display);
      }
      const auto k = static_cast<std::size_t>(cv_at - cfg.objectives.begin());
      std::vector<compe::Trial> done;
      for (compe::Trial& t : store->list_trials(study_name, TrialState::kComplete)) {
        if (t.values.size() > k && std::isfinite(t.values[k])) {
          // Keep only the proxy score, so the rest of the transfer reads values[0].
          t.values = {t.values[k]};
          done.push_back(std::move(t));
        }
      }
      std::stable_sort(done.begin(), done.end(), [&](const auto& l, const auto& r) {
        return maximize ? l.values[0] > r.values[0] : l.values[0] < r.values[0];
      });
      if (done.empty()) {
        fail(ErrorCode::kInvalidArgument, "study '{}' has no complete trial to transfer",
             study_name);
      }
      if (done.size() > static_cast<std::size_t>(a->top)) {
        done.resize(static_cast<std::size_t>(a->top));
      }
      const bool show = !a->json;
      if (show) {
        fmt::print("transfer of study {}: the best {} trial(s) at full size (proxy {})\n",
                   study_name, done.size(),
                   cfg.proxy ? cfg.proxy->to_json().dump() : std::string("none"));
        std::fflush(stdout);
      }
      std::vector<double> proxy_scores, full_scores;
      nlohmann::json rows = nlohmann::json::array();
      std::vector<std::vector<std::string>> table;
      for (const compe::Trial& t : done) {
        run::Options o;
        o.store = url;
        run::Experiment e = trial_experiment(t.params, false, o);
        e.name = fmt::format("{}-full-t{}", study_name, t.number);
        e.parent = t.run_id;  // lineage: the proxy trial's run
        const run::Summary s = run::run_experiment(w, e, o, nullptr);
        store->add_tag(s.run_id, "transfer:" + study_name);
        store->add_tag(s.run_id, fmt::format("trial:{}", t.number));
        proxy_scores.push_back(t.values[0]);
        full_scores.push_back(s.cv);
        rows.push_back({{"number", t.number},
                        {"proxy", t.values[0]},
                        {"full", s.cv},
                        {"params", t.params},
                        {"proxy_run_id", t.run_id},
                        {"run_id", s.run_id}});
        table.push_back({std::to_string(t.number), fmt_score(t.values[0]), fmt_score(s.cv),
                         s.run_id, t.run_id.empty() ? "-" : t.run_id, params_text(t.params)});
        if (show) {
          fmt::print("trial {}: proxy {} -> full {}  run {}\n", t.number, fmt_score(t.values[0]),
                     fmt_score(s.cv), s.run_id);
          std::fflush(stdout);
        }
      }
      const double rho = tune::spearman(proxy_scores, full_scores);
      if (a->json) {
        print_json({{"study", study_name},
                    {"metric", w.config().metric},
                    {"proxy", cfg.proxy ? cfg.proxy->to_json() : nlohmann::json(nullptr)},
                    {"trials", rows},
                    {"spearman", std::isnan(rho) ? nlohmann::json(nullptr) : nlohmann::json(rho)}});
        return;
      }
      print_table({"trial", "proxy " + w.config().metric, "full " + w.config().metric, "run",
                   "proxy run", "params"},
                  table);
      if (std::isnan(rho)) {
        fmt::print("rank correlation (Spearman) of proxy and full scores: undefined ({} trial(s))\n",
                   done.size());
      } else {
        fmt::print("rank correlation (Spearman) of proxy and full scores over {} trials: {:.3f}\n",
                   done.size(), rho);
      }
      return;
    }

    tune::StudyOptions so;
    so.name = !a->study.empty()    ? a->study
              : !cfg.study.empty() ? cfg.study
              : !x.name.empty()    ? x.name
                                   : fs::path(a->experiment).stem().string();
    so.direction = maximize ? tune::Direction::kMaximize : tune::Direction::kMinimize;
    const bool multi = cfg.objectives.size() > 1;
    if (multi) {
      for (const std::string& o : cfg.objectives) {
        so.directions.push_back(o == "cv" ? so.direction : tune::Direction::kMinimize);
      }
      if (cfg.pruner != "none" && cfg.objectives[0] != "cv") {
        fail(ErrorCode::kInvalidArgument,
             "{}: pruner '{}' judges fold scores, so tune.objectives must start with \"cv\"",
             display, cfg.pruner);
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
    so.seed = seed;
    so.attrs = {{"experiment", experiment_text},
                {"experiment_path", a->experiment.empty() ? display : a->experiment}};
    tune::Study study(*store, so);
    const std::string study_name = so.name;
    const std::int64_t n_trials = a->trials > 0 ? a->trials : cfg.trials;
    const double timeout = a->timeout >= 0 ? a->timeout : cfg.timeout;
    const bool show = !a->json && !a->worker;
    const bool bar = show && stdout_is_tty();

    StopState& stop = stop_state();
    stop.store = store.get();
    stop.study = study_name;
    install_stop_handler();
    if (a->worker && a->parent_pid > 0) {
      // A worker must not outlive its parent, even one killed with SIGKILL: the kernel sends it
      // SIGTERM when the parent dies, and the stop handler ends its trial and run cleanly. The
      // parent may have died before this line: then stop the same way at once.
      ::prctl(PR_SET_PDEATHSIG, SIGTERM);
      if (::getppid() != static_cast<pid_t>(a->parent_pid)) ::raise(SIGTERM);
    }

    // A trial budget shared by this call's processes.
    const std::int64_t first = static_cast<std::int64_t>(store->list_trials(study_name).size());
    const std::int64_t limit = a->trial_limit >= 0 ? a->trial_limit : first + n_trials;
    study.set_trial_limit(limit);

    std::vector<LocalWorker> workers;
    const fs::path err_dir = fs::temp_directory_path();
    for (int i = 1; i < a->workers && !a->worker; ++i) {
      LocalWorker lw;
      lw.index = i;
      lw.errors = err_dir / fmt::format("compe-tune-{}-worker{}.err", ::getpid(), i);
      std::vector<std::string> args = {"compe", "tune"};
      if (!a->experiment.empty()) args.push_back(a->experiment);
      for (const std::string& v :
           {std::string("--study"), study_name, std::string("--store"), url,
            std::string("--seed"), std::to_string(seed + static_cast<std::uint64_t>(i)),
            std::string("--worker"), std::string("--trial-limit"), std::to_string(limit),
            std::string("--parent-pid"), std::to_string(::getpid())}) {
        args.push_back(v);
      }
      if (!a->workspace.empty()) {
        args.push_back("--workspace");
        args.push_back(a->workspace);
      }
      if (timeout > 0) {
        args.push_back("--timeout");
        args.push_back(fmt::format("{}", timeout));
      }
      {
        std::lock_guard lock(stop.mu);
        lw.pid = spawn_worker(args, lw.errors);
        stop.workers.push_back(lw.pid);
      }
      workers.push_back(lw);
    }
    if (show) {
      fmt::print("study {}: {} {} over {} parameter(s), sampler {}, pruner {}{}{}\n", study_name,
                 tune::direction_name(so.direction), w.config().metric, cfg.space.size(),
                 cfg.sampler, cfg.pruner,
                 workers.empty() ? "" : fmt::format(", {} workers", workers.size() + 1),
                 cfg.proxy ? fmt::format(", proxy {}", cfg.proxy->to_json().dump()) : "");
      std::fflush(stdout);
    }

    // Progress: one line per trial that ended since this call began, from any process of the
    // study; on a terminal, a bar with the best so far under them.
    std::set<std::int64_t> printed;
    std::int64_t ended = 0;
    auto progress = [&] {
      if (!show) return;
      std::vector<compe::Trial> fresh;
      for (compe::Trial& t : store->list_trials(study_name)) {
        if (t.number < first || t.state == TrialState::kRunning ||
            t.state == TrialState::kWaiting || printed.count(t.number)) {
          continue;
        }
        fresh.push_back(std::move(t));
      }
      std::stable_sort(fresh.begin(), fresh.end(), [](const auto& l, const auto& r) {
        return l.ended_ms.value_or(0) < r.ended_ms.value_or(0);
      });
      // The best so far: a single objective's best trial, or the size of the Pareto front.
      std::string best = "best none yet";
      if (multi) {
        best = fmt::format("{} on the Pareto front", study.best_trials().size());
      } else if (auto b = study.best_trial()) {
        best = fmt::format("best {} (trial {})", fmt_score(*b->value), b->number);
      }
      if (bar && !fresh.empty()) fmt::print("\r\033[K");
      for (const compe::Trial& t : fresh) {
        printed.insert(t.number);
        ++ended;
        std::string what;
        if (t.state == TrialState::kComplete && !t.values.empty()) {
          for (std::size_t k = 0; k < t.values.size() && k < cfg.objectives.size(); ++k) {
            what += fmt::format("{}{} = {}", k ? ", " : "", objective_label(cfg.objectives[k]),
                                fmt_score(t.values[k]));
          }
        } else if (t.state == TrialState::kPruned) {
          what = fmt::format("pruned after fold {}",
                             t.intermediate.empty() ? -1 : t.intermediate.rbegin()->first);
        } else {
          what = fmt::format("failed: {}", t.error);
        }
        fmt::print("trial {}: {}  {}  [{}]\n", t.number, what, best, params_text(t.params));
      }
      if (bar) {
        const std::int64_t total = std::max<std::int64_t>(1, limit - first);
        const int width = 30;
        const int filled = static_cast<int>(std::min<std::int64_t>(width, ended * width / total));
        fmt::print("\r\033[K[{}{}] {}/{} trials  {}{}", std::string(filled, '#'),
                   std::string(width - filled, '.'), ended, limit - first, best,
                   workers.empty() ? "" : fmt::format("  {} workers", workers.size() + 1));
      }
      std::fflush(stdout);
    };

    auto objective = [&](tune::Trial& t) -> std::vector<double> {
      stop.current = t.number();
      if (stop.cancel) hold_for_exit(stop);
      run::Options o;
      o.store = url;
      o.cancel = &stop.cancel;
      run::Experiment e = trial_experiment(t.params(), true, o);
      e.name = fmt::format("{}-t{}", study_name, t.number());
      bool pruned = false;
      o.after_fold = [&](int fold, double score) {
        t.report(score, fold);
        pruned = t.should_prune();
        return pruned;
      };
      auto link = [&](const std::string& run_id) {
        store->set_trial_run(study_name, t.number(), run_id);
        store->add_tag(run_id, "study:" + study_name);
        store->add_tag(run_id, fmt::format("trial:{}", t.number()));
        if (cfg.proxy) store->add_tag(run_id, "proxy");
      };
      try {
        run::Summary s = run::run_experiment(w, e, o, nullptr);
        if (stop.cancel) hold_for_exit(stop);
        link(s.run_id);
        std::vector<double> values;
        for (const std::string& name : cfg.objectives) {
          values.push_back(name == "cv"            ? s.cv
                           : name == "fit_seconds" ? s.model_seconds
                                                   : s.wall_seconds);
        }
        return values;
      } catch (const Error&) {
        if (stop.cancel) hold_for_exit(stop);
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

    // Whatever ends this process's loop, the local workers are stopped or waited for.
    std::string worker_failures;
    int worker_exit = 0;
    auto wait_workers = [&](bool stop_them) {
      if (workers.empty()) return;
      std::vector<pid_t> pids;
      for (const LocalWorker& lw : workers) pids.push_back(lw.pid);
      if (stop_them) stop_workers(pids, std::chrono::seconds(10));
      for (LocalWorker& lw : workers) {
        int status = 0;
        while (!stop_them && !lw.status) {
          const pid_t r = ::waitpid(lw.pid, &status, WNOHANG);
          if (r == lw.pid) {
            lw.status = status;
          } else if (r < 0) {
            lw.status = 0;
          } else {
            progress();
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
          }
        }
        if (lw.status && *lw.status != 0) {
          const std::string why = last_line(lw.errors);
          worker_failures += fmt::format("{}worker {} (pid {}) failed with {}{}",
                                         worker_failures.empty() ? "" : "; ", lw.index, lw.pid,
                                         describe_status(*lw.status),
                                         why.empty() ? "" : ": " + why);
          if (WIFEXITED(*lw.status)) worker_exit = std::max(worker_exit, WEXITSTATUS(*lw.status));
        }
        std::error_code ec;
        fs::remove(lw.errors, ec);
      }
      {
        std::lock_guard lock(stop.mu);
        stop.workers.clear();
      }
      // A worker killed mid-trial left it running: end it now rather than at the next call.
      store->fail_stale_trials(study_name);
    };
    try {
      study.optimize_multi(objective, 0, std::chrono::duration<double>(timeout),
                           cfg.max_failures, [&](const tune::FrozenTrial&) {
                             stop.current = -1;
                             progress();
                           });
    } catch (...) {
      stop.current = -1;
      wait_workers(true);
      if (bar) fmt::print("\n");
      throw;
    }
    stop.current = -1;
    wait_workers(false);
    progress();
    if (bar) fmt::print("\n");
    if (!worker_failures.empty()) {
      fail(worker_exit == 2 ? ErrorCode::kInvalidArgument : ErrorCode::kBackend,
           "study '{}': {}", study_name, worker_failures);
    }
    if (a->worker) return;
    const auto best = study.best_trial();
    const auto trials = study.trials();
    if (a->json) {
      nlohmann::json doc = {{"study", study_name},
                            {"direction", tune::direction_name(so.direction)},
                            {"metric", w.config().metric},
                            {"trials", trials.size()},
                            {"workers", workers.size() + 1}};
      if (best) {
        const std::string run_id = store->get_trial(study_name, best->number).run_id;
        doc["best"] = {{"number", best->number},
                       {"value", *best->value},
                       {"run_id", run_id.empty() ? nlohmann::json(nullptr) : nlohmann::json(run_id)},
                       {"params", external_params(cfg.space, *best)}};
        // The best trial's Run record (every --json that names a run prints it in one shape).
        if (!run_id.empty()) doc["best"]["run"] = run_record(*store, run_id);
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
    // As for runs: a trial whose process is gone is ended (failed) when read, not shown running.
    store->fail_stale_trials(s.name);
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
      tune::FrozenTrial f = tune::freeze_trial(t, space);
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
                         {"folds", t.intermediate.size()},
                         {"error", t.error},
                         {"host", t.host},
                         {"pid", t.pid}});
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
