// Tuner benchmarks (driven by bench/peers/tune.sh):
//   bench_tune overhead TRIALS STORE [SAMPLER]   cheap 10-D objective; prints one line:
//       total_s per_trial_ms per_trial_ms_last_100
//   bench_tune history HISTORY STORE TRIALS      the same objective: HISTORY random trials first
//       (untimed), then TRIALS TPE trials on that history; prints one line:
//       total_s per_trial_ms first_trial_ms per_trial_cpu_ms (per trial: the mean over trials
//       2..TRIALS, the cost per trial at that history size; the first also opens the study and
//       reads the history; CPU: this process's CPU time, which a loaded machine does not inflate,
//       a database server's excluded)
//   bench_tune quality FUNCTION TRIALS SEEDS [SETTINGS]  branin | hartmann6; prints each seed's
//       best value on one line, then "mean std"; SETTINGS: TPE settings as a JSON object
//   bench_tune proposals HISTORY_JSON DRAWS      TPE's proposals for one fixed history: for each
//       parameter, DRAWS independent samples (generator seeds 0..DRAWS-1), one line per parameter:
//       name then the values. HISTORY_JSON: {"direction", "space": {name: distribution},
//       "trials": [{"params": {name: value}, "value": v}]} (see bench/peers/tune_proposals.sh)
// STORE is ":memory:", a SQLite file path (removed first) or a PostgreSQL URL (an empty database).
#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "compe/error.hpp"
#include "compe/store.hpp"
#include "compe/tune.hpp"

namespace tune = compe::tune;
using Clock = std::chrono::steady_clock;

double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

namespace {

double branin(const std::vector<double>& x) {
  const double a = 1, b = 5.1 / (4 * M_PI * M_PI), c = 5 / M_PI, r = 6, s = 10, t = 1 / (8 * M_PI);
  const double y = x[1] - b * x[0] * x[0] + c * x[0] - r;
  return a * y * y + s * (1 - t) * std::cos(x[0]) + s;
}

double hartmann6(const std::vector<double>& x) {
  static const double alpha[4] = {1.0, 1.2, 3.0, 3.2};
  static const double A[4][6] = {{10, 3, 17, 3.5, 1.7, 8},
                                 {0.05, 10, 17, 0.1, 8, 14},
                                 {3, 3.5, 1.7, 10, 17, 8},
                                 {17, 8, 0.05, 10, 0.1, 14}};
  static const double P[4][6] = {{1312, 1696, 5569, 124, 8283, 5886},
                                 {2329, 4135, 8307, 3736, 1004, 9991},
                                 {2348, 1451, 3522, 2883, 3047, 6650},
                                 {4047, 8828, 8732, 5743, 1091, 381}};
  double out = 0;
  for (int i = 0; i < 4; ++i) {
    double inner = 0;
    for (int j = 0; j < 6; ++j)
      inner += A[i][j] * (x[j] - 1e-4 * P[i][j]) * (x[j] - 1e-4 * P[i][j]);
    out -= alpha[i] * std::exp(-inner);
  }
  return out;
}

// A new store at `url` (a SQLite file is removed first, with its WAL files).
std::unique_ptr<compe::Store> fresh_store(const std::string& url) {
  if (url != ":memory:") {
    std::filesystem::remove(url);
    std::filesystem::remove(url + "-wal");
    std::filesystem::remove(url + "-shm");
  }
  return compe::open_store(url);
}

// The cheap 10-D study of the overhead benchmarks: x0..x9 in [-5, 5], sum (x_i - 0.3)^2.
tune::StudyOptions cheap_study() {
  tune::StudyOptions o;
  o.name = std::string("bench");
  for (int i = 0; i < 10; ++i) {
    const std::string n = fmt::format("x{}", i);
    o.space.add(n, tune::float_param(n, -5, 5));
  }
  return o;
}

double cheap_objective(tune::Trial& t) {
  double v = 0;
  for (const auto& [k, x] : t.params().items())
    v += (x.get<double>() - 0.3) * (x.get<double>() - 0.3);
  return v;
}

int overhead(std::int64_t trials, const std::string& url, const std::string& sampler) {
  auto store = fresh_store(url);
  tune::StudyOptions o = cheap_study();
  o.sampler = sampler;
  tune::Study study(*store, o);
  std::vector<double> stamps;
  const auto t0 = Clock::now();
  study.optimize(
      cheap_objective,
      trials, std::chrono::duration<double>(0), 5,
      [&](const tune::FrozenTrial&) {
        stamps.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
      });
  const double total = stamps.back();
  const std::size_t n = stamps.size();
  const double last = n > 100 ? (stamps[n - 1] - stamps[n - 101]) / 100 : total / double(n);
  fmt::print("{:.3f} {:.4f} {:.4f}\n", total, 1e3 * total / double(n), 1e3 * last);
  return 0;
}

int history(std::int64_t n_history, const std::string& url, std::int64_t trials) {
  auto store = fresh_store(url);
  tune::StudyOptions o = cheap_study();
  {
    o.sampler = "random";
    tune::Study fill(*store, o);
    fill.optimize(cheap_objective, n_history);
  }
  o.sampler = "tpe";
  const auto t0 = Clock::now();
  tune::Study study(*store, o);
  std::vector<double> stamps, cpu;
  study.optimize(cheap_objective, trials, std::chrono::duration<double>(0), 5,
                 [&](const tune::FrozenTrial&) {
                   stamps.push_back(std::chrono::duration<double>(Clock::now() - t0).count());
                   cpu.push_back(cpu_seconds());
                 });
  // The first trial also opens the study and reads the history once: left out of the per-trial
  // cost, which is the steady cost at that history size.
  const double per = stamps.size() > 1 ? (stamps.back() - stamps.front()) / double(stamps.size() - 1)
                                       : stamps.back();
  const double per_cpu = cpu.size() > 1 ? (cpu.back() - cpu.front()) / double(cpu.size() - 1) : 0.0;
  fmt::print("{:.3f} {:.4f} {:.4f} {:.4f}\n", stamps.back(), 1e3 * per, 1e3 * stamps.front(),
             1e3 * per_cpu);
  return 0;
}

int quality(const std::string& fn, std::int64_t trials, int seeds, const std::string& settings) {
  std::vector<double> bests;
  for (int s = 0; s < seeds; ++s) {
    auto store = compe::open_store(":memory:");
    tune::StudyOptions o;
    o.name = std::string("q");
    o.seed = static_cast<std::uint64_t>(s);
    if (!settings.empty()) {
      const nlohmann::json parsed = nlohmann::json::parse(settings);
      for (auto it = parsed.begin(); it != parsed.end(); ++it) o.sampler_settings[it.key()] = *it;
    }
    if (fn == "branin") {
      o.space.add("x0", tune::float_param("x0", -5, 10));
      o.space.add("x1", tune::float_param("x1", 0, 15));
    } else {
      for (int i = 0; i < 6; ++i) {
        const std::string n = fmt::format("x{}", i);
        o.space.add(n, tune::float_param(n, 0, 1));
      }
    }
    tune::Study study(*store, o);
    study.optimize(
        [&](tune::Trial& t) {
          std::vector<double> x;
          for (const auto& [name, d] : study.space().params())
            x.push_back(t.params().at(name).get<double>());
          return fn == "branin" ? branin(x) : hartmann6(x);
        },
        trials);
    bests.push_back(*study.best_trial()->value);
    fmt::print("{:.6f}{}", bests.back(), s + 1 < seeds ? " " : "\n");
  }
  double mean = 0;
  for (double b : bests) mean += b;
  mean /= double(bests.size());
  double var = 0;
  for (double b : bests) var += (b - mean) * (b - mean);
  fmt::print("{:.6f} {:.6f}\n", mean,
             std::sqrt(var / double(std::max<std::size_t>(1, bests.size() - 1))));
  return 0;
}

}  // namespace

int proposals(const std::string& path, int draws) {
  std::ifstream in(path);
  if (!in) compe::fail(compe::ErrorCode::kIo, "{}: cannot open", path);
  const nlohmann::json doc = nlohmann::json::parse(in);
  tune::SearchSpace space;
  for (const auto& [name, d] : doc.at("space").items()) {
    space.add(name, tune::distribution_from_json(name, d));
  }
  std::vector<tune::FrozenTrial> trials;
  for (const nlohmann::json& t : doc.at("trials")) {
    tune::FrozenTrial f;
    f.number = static_cast<std::int64_t>(trials.size());
    f.state = compe::TrialState::kComplete;
    f.value = t.at("value").get<double>();
    f.values = {*f.value};
    for (const auto& [name, d] : space.params()) f.params[name] = *d.to_internal(t.at("params").at(name));
    trials.push_back(std::move(f));
  }
  tune::StudyView view;
  view.direction = tune::parse_direction(doc.at("direction").get<std::string>());
  view.space = &space;
  view.trials = trials;
  for (const auto& [name, d] : space.params()) {
    fmt::print("{}", name);
    for (int s = 0; s < draws; ++s) {
      // A fresh sampler and generator per draw, as a fresh Optuna TPESampler(seed=s) per draw.
      const auto sampler = tune::make_sampler("tpe");
      tune::Rng rng(static_cast<std::uint64_t>(s));
      fmt::print(" {}", d.to_external(sampler->sample_independent(view, name, d, rng)).dump());
    }
    fmt::print("\n");
  }
  return 0;
}

int main(int argc, char** argv) {
  try {
    const std::vector<std::string> a(argv + 1, argv + argc);
    if (a.size() >= 3 && a[0] == "overhead") {
      return overhead(std::stoll(a[1]), a[2], a.size() > 3 ? a[3] : "tpe");
    }
    if (a.size() == 4 && a[0] == "history") {
      return history(std::stoll(a[1]), a[2], std::stoll(a[3]));
    }
    if ((a.size() == 4 || a.size() == 5) && a[0] == "quality") {
      return quality(a[1], std::stoll(a[2]), std::stoi(a[3]), a.size() == 5 ? a[4] : "");
    }
    if (a.size() == 3 && a[0] == "proposals") return proposals(a[1], std::stoi(a[2]));
    std::fprintf(
        stderr,
        "usage: bench_tune overhead TRIALS STORE [SAMPLER] | history HISTORY STORE TRIALS | "
        "quality FUNCTION TRIALS SEEDS [SETTINGS] | proposals HISTORY_JSON DRAWS\n");
    return 2;
  } catch (const compe::Error& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  }
}
