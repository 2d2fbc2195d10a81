// Studies shared by many workers (SQLite file and PostgreSQL), stale trials of dead workers, and
// conditional parameters.

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include <fmt/core.h>

#include "compe/error.hpp"
#include "compe/store.hpp"
#include "compe/tune.hpp"
#include "../error_of.hpp"
#include "store/db.hpp"

namespace {

namespace fs = std::filesystem;
using compe::Error;
using compe::ErrorCode;
using compe::TrialState;
namespace tune = compe::tune;

using compe::testing::error_of;

// A store location for one test: a SQLite file in a fresh folder, or a fresh PostgreSQL schema.
class Location {
 public:
  explicit Location(bool postgres) {
    const std::string tag = fmt::format("compe_tunew_{}_{}", ::getpid(), compe::now_unix_ms());
    if (postgres) {
      const char* pg = std::getenv("COMPE_TEST_POSTGRES");
      if (!pg || !*pg) return;
      base_ = pg;
      schema_ = tag;
      url_ = base_ + (base_.find('?') == std::string::npos ? "?" : "&") + "schema=" + schema_;
    } else {
      dir_ = fs::temp_directory_path() / tag;
      fs::create_directories(dir_);
      url_ = (dir_ / "compe.db").string();
    }
  }
  ~Location() {
    if (!dir_.empty()) fs::remove_all(dir_);
    if (!schema_.empty()) {
      compe::store::open_postgres(base_, "")
          ->exec_script(fmt::format("DROP SCHEMA IF EXISTS \"{}\" CASCADE", schema_));
    }
  }
  const std::string& url() const { return url_; }

 private:
  std::string url_, base_, schema_;
  fs::path dir_;
};

double cheap(tune::Trial& t) {
  const double x = t.params().at("x").get<double>();
  const double y = t.params().at("y").get<double>();
  return x * x + y * y;
}

tune::StudyOptions worker_options(std::uint64_t seed) {
  tune::StudyOptions o;
  o.name = "workers";
  o.direction = tune::Direction::kMinimize;
  o.space.add("x", tune::float_param("x", -5, 5));
  o.space.add("y", tune::float_param("y", -5, 5));
  o.sampler = "random";
  o.seed = seed;
  return o;
}

// 8 workers, each with its own connection, share a budget of 2,000 trials: every number from 0
// to 1,999 exists once, every trial is complete with the value its parameters give, and every
// trial was evaluated exactly once.
void eight_workers(const std::string& url, const char* backend) {
  constexpr int kWorkers = 8;
  constexpr std::int64_t kTrials = 2000;
  {
    auto store = compe::open_store(url);
    tune::Study create(*store, worker_options(0));
  }
  std::mutex mu;
  std::multiset<std::int64_t> evaluated;
  std::atomic<int> errors{0};
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::thread> workers;
  for (int w = 0; w < kWorkers; ++w) {
    workers.emplace_back([&, w] {
      try {
        auto store = compe::open_store(url);
        tune::Study study(*store, worker_options(static_cast<std::uint64_t>(w + 1)));
        study.set_trial_limit(kTrials);
        study.optimize(
            [&](tune::Trial& t) {
              {
                std::lock_guard lock(mu);
                evaluated.insert(t.number());
              }
              return cheap(t);
            },
            0);
      } catch (const std::exception& e) {
        ++errors;
        ADD_FAILURE() << "worker " << w << ": " << e.what();
      }
    });
  }
  for (auto& t : workers) t.join();
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_EQ(errors.load(), 0);
  auto store = compe::open_store(url);
  const auto trials = store->list_trials("workers");
  ASSERT_EQ(trials.size(), static_cast<std::size_t>(kTrials));
  for (std::int64_t i = 0; i < kTrials; ++i) {
    const compe::Trial& t = trials[static_cast<std::size_t>(i)];
    ASSERT_EQ(t.number, i);
    ASSERT_EQ(t.state, TrialState::kComplete) << "trial " << i;
    const double x = t.params.at("x").get<double>(), y = t.params.at("y").get<double>();
    ASSERT_EQ(t.values, std::vector<double>{x * x + y * y}) << "trial " << i;
    ASSERT_EQ(evaluated.count(i), 1u) << "trial " << i;
    ASSERT_FALSE(t.ended_ms == std::nullopt);
  }
  EXPECT_EQ(evaluated.size(), static_cast<std::size_t>(kTrials));
  // The figure recorded in bench/results/tune-workers.md.
  std::printf("[ throughput ] %s: %d workers, %lld trials in %.2f s = %.0f trials/s\n", backend,
              kWorkers, static_cast<long long>(kTrials), seconds,
              static_cast<double>(kTrials) / seconds);
}

TEST(TuneWorkers, EightWorkersOnSqliteLoseAndDuplicateNothing) {
  Location loc(false);
  eight_workers(loc.url(), "sqlite");
}

TEST(TuneWorkers, EightWorkersOnPostgresLoseAndDuplicateNothing) {
  Location loc(true);
  if (loc.url().empty()) GTEST_SKIP() << "COMPE_TEST_POSTGRES is not set";
  eight_workers(loc.url(), "postgresql");
}

// A worker process that dies inside a trial leaves it running; the next ask of a live worker
// ends it as failed, and the study goes on without losing or repeating a number.
TEST(TuneWorkers, TrialOfADeadWorkerIsFailedOnTheNextAsk) {
  Location loc(false);
  {
    auto store = compe::open_store(loc.url());
    tune::Study study(*store, worker_options(0));
    study.optimize(cheap, 3);
  }
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    // The child asks for a trial and dies without telling.
    try {
      auto store = compe::open_store(loc.url());
      tune::Study study(*store, worker_options(7));
      study.ask();
    } catch (...) {
      ::_exit(3);
    }
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  auto store = compe::open_store(loc.url());
  ASSERT_EQ(store->get_trial("workers", 3).state, TrialState::kRunning);
  tune::Study study(*store, worker_options(1));
  study.optimize(cheap, 2);
  EXPECT_EQ(study.stale_trials_ended(), std::vector<std::int64_t>{3});
  const compe::Trial dead = store->get_trial("workers", 3);
  EXPECT_EQ(dead.state, TrialState::kFailed);
  EXPECT_NE(dead.error.find(fmt::format("worker process {}", child)), std::string::npos)
      << dead.error;
  const auto trials = store->list_trials("workers");
  ASSERT_EQ(trials.size(), 6u);
  for (std::size_t i = 0; i < trials.size(); ++i) {
    EXPECT_EQ(trials[i].number, static_cast<std::int64_t>(i));
    EXPECT_EQ(trials[i].state, i == 3 ? TrialState::kFailed : TrialState::kComplete);
  }
}

// A running trial's worker beats while the objective runs, so a slow trial is not stale.
TEST(TuneWorkers, HeartbeatWhileTheObjectiveRuns) {
  auto store = compe::open_store(":memory:");
  tune::StudyOptions o = worker_options(0);
  o.heartbeat_interval = std::chrono::milliseconds(20);
  tune::Study study(*store, o);
  std::int64_t first = 0, later = 0;
  study.optimize(
      [&](tune::Trial& t) {
        first = store->get_trial("workers", t.number()).heartbeat_ms.value();
        std::this_thread::sleep_for(std::chrono::milliseconds(150));
        later = store->get_trial("workers", t.number()).heartbeat_ms.value();
        return cheap(t);
      },
      1);
  EXPECT_GT(later, first);
}

// ---- several objectives with workers ----

tune::StudyOptions two_objective_options(std::uint64_t seed) {
  tune::StudyOptions o = worker_options(seed);
  o.name = "pareto";
  o.sampler = "tpe";
  o.sampler_settings = {{"n_startup_trials", 5}};
  o.directions = {tune::Direction::kMinimize, tune::Direction::kMaximize};
  o.heartbeat_interval = std::chrono::milliseconds(5);
  return o;
}

std::vector<double> two_values(tune::Trial& t) {
  const double x = t.params().at("x").get<double>();
  const double y = t.params().at("y").get<double>();
  return {x * x + y * y, x};
}

// Workers share a two-objective TPE study and one trial budget: every number exists once with
// both values, and each worker's Pareto front is the front of all the trials (its sampler reads
// the trials the others finished between its asks).
TEST(TuneWorkers, SeveralObjectivesShareOneBudget) {
  Location loc(false);
  constexpr int kWorkers = 4;
  constexpr std::int64_t kTrials = 80;
  {
    auto store = compe::open_store(loc.url());
    tune::Study create(*store, two_objective_options(0));
  }
  std::mutex mu;
  std::multiset<std::int64_t> evaluated;
  std::atomic<int> errors{0};
  std::vector<std::thread> workers;
  for (int w = 0; w < kWorkers; ++w) {
    workers.emplace_back([&, w] {
      try {
        auto store = compe::open_store(loc.url());
        tune::Study study(*store, two_objective_options(static_cast<std::uint64_t>(w + 1)));
        study.set_trial_limit(kTrials);
        study.optimize_multi(
            [&](tune::Trial& t) {
              {
                std::lock_guard lock(mu);
                evaluated.insert(t.number());
              }
              return two_values(t);
            },
            0);
      } catch (const std::exception& e) {
        ++errors;
        ADD_FAILURE() << "worker " << w << ": " << e.what();
      }
    });
  }
  for (auto& t : workers) t.join();
  ASSERT_EQ(errors.load(), 0);
  auto store = compe::open_store(loc.url());
  const auto stored = store->list_trials("pareto");
  ASSERT_EQ(stored.size(), static_cast<std::size_t>(kTrials));
  for (std::int64_t i = 0; i < kTrials; ++i) {
    const compe::Trial& t = stored[static_cast<std::size_t>(i)];
    ASSERT_EQ(t.number, i);
    ASSERT_EQ(t.state, TrialState::kComplete) << "trial " << i << ": " << t.error;
    const double x = t.params.at("x").get<double>(), y = t.params.at("y").get<double>();
    ASSERT_EQ(t.values, (std::vector<double>{x * x + y * y, x})) << "trial " << i;
    ASSERT_EQ(evaluated.count(i), 1u) << "trial " << i;
  }
  tune::Study reader(*store, two_objective_options(9));
  const auto trials = reader.trials();
  const auto front = reader.best_trials();
  ASSERT_FALSE(front.empty());
  std::set<std::int64_t> on_front;
  for (const auto& f : front) on_front.insert(f.number);
  for (const auto& a : trials) {
    bool dominated = false;
    for (const auto& b : trials) {
      dominated = dominated ||
                  (b.values[0] <= a.values[0] && b.values[1] >= a.values[1] &&
                   (b.values[0] < a.values[0] || b.values[1] > a.values[1]));
    }
    EXPECT_EQ(on_front.count(a.number) == 1, !dominated) << "trial " << a.number;
  }
}

// A worker that was judged stale by another one (its trial ended as failed) and then tells its
// values: the stored outcome stands, and the study goes on.
TEST(TuneWorkers, StaleTrialToldSeveralValuesKeepsTheStoredOutcome) {
  auto store = compe::open_store(":memory:");
  tune::Study study(*store, two_objective_options(0));
  tune::Trial t = study.ask();
  store->finish_trial("pareto", t.number(), TrialState::kFailed, {}, "judged stale elsewhere");
  const std::vector<double> values = two_values(t);
  study.tell(t, values);
  EXPECT_EQ(store->get_trial("pareto", t.number()).state, TrialState::kFailed);
  study.optimize_multi(two_values, 3);
  const auto trials = study.trials();
  ASSERT_EQ(trials.size(), 4u);
  EXPECT_EQ(trials[0].state, TrialState::kFailed);
  EXPECT_EQ(trials[0].error, "judged stale elsewhere");
  EXPECT_TRUE(trials[0].values.empty());
  for (std::size_t i = 1; i < 4; ++i) EXPECT_EQ(trials[i].values.size(), 2u);
  EXPECT_FALSE(study.best_trials().empty());
  // Telling it again from this study is still an error.
  EXPECT_NE(error_of([&] { study.tell(t, values); }), "");
}

// ---- conditional parameters ----

tune::SearchSpace conditional_space() {
  return tune::SearchSpace::from_json(nlohmann::json::parse(R"({
    "booster": {"type": "categorical", "choices": ["gbtree", "dart"]},
    "rate_drop": {"type": "float", "low": 0.0, "high": 0.5, "when": {"booster": "dart"}},
    "skip_drop": {"type": "float", "low": 0.0, "high": 0.5,
                  "when": {"booster": "dart", "normalize": ["forest"]}},
    "normalize": {"type": "categorical", "choices": ["tree", "forest"],
                  "when": {"booster": ["dart"]}},
    "eta": {"type": "float", "low": 0.01, "high": 0.3, "log": true}
  })"));
}

TEST(TuneConditional, ParsesRoundTripsAndOrders) {
  const tune::SearchSpace s = conditional_space();
  ASSERT_TRUE(s.conditional());
  EXPECT_EQ(s.condition("eta"), nullptr);
  ASSERT_NE(s.condition("skip_drop"), nullptr);
  EXPECT_EQ(s.condition("skip_drop")->at("normalize"), std::vector<nlohmann::json>{"forest"});
  EXPECT_EQ(s.condition("rate_drop")->at("booster"), std::vector<nlohmann::json>{"dart"});
  EXPECT_EQ(tune::SearchSpace::from_json(s.to_json()), s);
  // A parameter comes after those its condition names.
  const auto order = s.sampling_order();
  auto pos = [&](const std::string& n) { return std::find(order.begin(), order.end(), n); };
  EXPECT_LT(pos("booster"), pos("rate_drop"));
  EXPECT_LT(pos("normalize"), pos("skip_drop"));
  EXPECT_EQ(order.size(), 5u);
  EXPECT_TRUE(s.active("rate_drop", {{"booster", "dart"}}));
  EXPECT_FALSE(s.active("rate_drop", {{"booster", "gbtree"}}));
  EXPECT_FALSE(s.active("skip_drop", {{"booster", "dart"}}));
  EXPECT_TRUE(s.active("skip_drop", {{"booster", "dart"}, {"normalize", "forest"}}));
  EXPECT_TRUE(s.active("eta", nlohmann::json::object()));
}

TEST(TuneConditional, BadConditionsNameTheParameter) {
  auto parse = [](const char* text) { tune::SearchSpace::from_json(nlohmann::json::parse(text)); };
  EXPECT_NE(error_of([&] {
              parse(R"({"a": {"type": "int", "low": 1, "high": 3, "when": {"boster": "x"}},
                        "booster": {"type": "categorical", "choices": ["x"]}})");
            }).find("'when' names 'boster', which is not a parameter of the space (did you mean "
                    "'booster'?)"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              parse(R"({"a": {"type": "int", "low": 1, "high": 3, "when": {"b": "dart"}},
                        "b": {"type": "categorical", "choices": ["gbtree"]}})");
            }).find("'when.b' value \"dart\" is not a value of 'b'"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              parse(R"({"a": {"type": "int", "low": 1, "high": 3, "when": {"b": 2}},
                        "b": {"type": "int", "low": 1, "high": 3, "when": {"a": 1}}})");
            }).find("cycle"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              parse(R"({"a": {"type": "int", "low": 1, "high": 3, "when": {"a": 2}}})");
            }).find("the parameter itself"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              parse(R"({"a": {"type": "int", "low": 1, "high": 3, "when": "b"}})");
            }).find("'when' must be a table"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              parse(R"({"a": {"type": "int", "low": 1, "high": 3, "when": {}}})");
            }).find("names no parameter"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              parse(R"({"a": {"type": "int", "low": 1, "high": 3, "when": {"b": []}},
                        "b": {"type": "int", "low": 1, "high": 3}})");
            }).find("lists no value"),
            std::string::npos);
  // The grid sampler has no notion of an inactive parameter.
  auto store = compe::open_store(":memory:");
  tune::StudyOptions o;
  o.name = "g";
  o.space = conditional_space();
  o.sampler = "grid";
  EXPECT_NE(error_of([&] { tune::Study s(*store, o); }).find("grid sampler"), std::string::npos);
}

// Every sampler samples a conditional parameter exactly when its condition holds; TPE models it
// from the trials that have it, and still finds that dart with a small rate_drop is best: over
// four seeds, most of the later trials are dart (random sampling gives about half).
TEST(TuneConditional, SampledOnlyWhenTheConditionHolds) {
  for (const std::string sampler : {"random", "tpe"}) {
    for (const bool multivariate : {false, true}) {
      if (sampler == "random" && multivariate) continue;
      int dart_late = 0;  // over the seeds
      for (const std::uint64_t seed : {5, 6, 7, 8}) {
        auto store = compe::open_store(":memory:");
        tune::StudyOptions o;
        o.name = "c";
        o.space = conditional_space();
        o.sampler = sampler;
        if (sampler == "tpe") {
          o.sampler_settings = {{"multivariate", multivariate}, {"n_startup_trials", 10}};
        }
        o.seed = seed;
        tune::Study study(*store, o);
        study.optimize(
            [](tune::Trial& t) {
              EXPECT_EQ(t.active("rate_drop"), t.params().at("booster") == "dart");
              double v = std::abs(std::log(t.suggest_float("eta", 0.01, 0.3, true) / 0.1));
              if (t.params().at("booster") == "dart") {
                v += t.suggest_float("rate_drop", 0, 0.5);
                const bool forest = t.params().at("normalize") == "forest";
                EXPECT_EQ(t.active("skip_drop"), forest);
                if (forest) v += t.params().at("skip_drop").get<double>();
              } else {
                EXPECT_FALSE(t.active("normalize"));
                EXPECT_NE(error_of([&] { t.suggest_float("rate_drop", 0, 0.5); })
                              .find("'rate_drop' is not active in trial"),
                          std::string::npos);
                v += 0.4;
              }
              return v;
            },
            60);
        const auto trials = study.trials();
        ASSERT_EQ(trials.size(), 60u);
        int dart = 0;
        for (const tune::FrozenTrial& t : trials) {
          ASSERT_EQ(t.state, TrialState::kComplete) << t.error;
          const bool is_dart = t.params.at("booster") == 1.0;
          dart += is_dart;
          if (t.number >= 30) dart_late += is_dart;
          EXPECT_EQ(t.params.count("rate_drop") == 1, is_dart);
          EXPECT_EQ(t.params.count("normalize") == 1, is_dart);
          EXPECT_EQ(t.params.count("skip_drop") == 1, is_dart && t.params.at("normalize") == 1.0);
        }
        EXPECT_GT(dart, 5) << sampler;
        EXPECT_LT(dart, 60) << sampler;
        if (sampler == "tpe") {
          EXPECT_LT(study.best_trial()->value.value(), 0.4);
        }
      }
      if (sampler == "tpe") {
        // The model prefers dart (its rate_drop near 0 beats gbtree's fixed 0.4 penalty).
        EXPECT_GE(dart_late, 72) << "multivariate " << multivariate;
      }
    }
  }
}

// Conditional parameters in a two-objective study with multivariate TPE: the relative sample
// covers the unconditional parameters, the conditional ones are sampled when active, and a
// fresh study with the same seed replays the same trials.
TEST(TuneConditional, SeveralObjectivesWithMultivariateTpe) {
  std::vector<nlohmann::json> first;
  for (int rep = 0; rep < 2; ++rep) {
    auto store = compe::open_store(":memory:");
    tune::StudyOptions o;
    o.name = "cm";
    o.space = conditional_space();
    o.sampler = "tpe";
    o.sampler_settings = {{"multivariate", true}, {"n_startup_trials", 8}};
    o.directions = {tune::Direction::kMinimize, tune::Direction::kMinimize};
    o.seed = 11;
    tune::Study study(*store, o);
    study.optimize_multi(
        [](tune::Trial& t) {
          const double eta = t.suggest_float("eta", 0.01, 0.3, true);
          const bool dart = t.params().at("booster") == "dart";
          EXPECT_EQ(t.active("rate_drop"), dart);
          const double drop = dart ? t.suggest_float("rate_drop", 0, 0.5) : 0.4;
          return std::vector<double>{std::abs(std::log(eta / 0.1)) + drop, 1.0 / eta};
        },
        40);
    const auto trials = study.trials();
    ASSERT_EQ(trials.size(), 40u);
    for (const tune::FrozenTrial& t : trials) {
      ASSERT_EQ(t.state, TrialState::kComplete) << t.error;
      ASSERT_EQ(t.values.size(), 2u);
      const bool is_dart = t.params.at("booster") == 1.0;
      EXPECT_EQ(t.params.count("rate_drop") == 1, is_dart);
      EXPECT_EQ(t.params.count("skip_drop") == 1, is_dart && t.params.at("normalize") == 1.0);
    }
    EXPECT_FALSE(study.best_trials().empty());
    const auto stored = store->list_trials("cm");
    for (std::size_t i = 0; i < stored.size(); ++i) {
      if (rep == 0) {
        first.push_back(stored[i].params);
      } else {
        EXPECT_EQ(stored[i].params, first[i]) << "trial " << i;
      }
    }
  }
}

}  // namespace

// ---- proxy ----

namespace proxy_tests {

TEST(TuneProxy, KeepsTheShareOfEveryFoldAndClass) {
  // 1,000 rows, 4 folds, a 30 % minority class.
  const std::size_t n = 1000;
  std::vector<double> y(n);
  std::vector<int> folds(n);
  for (std::size_t i = 0; i < n; ++i) {
    y[i] = i % 10 < 3 ? 1.0 : 0.0;
    folds[i] = static_cast<int>(i % 4);
  }
  compe::split::Inputs in;
  in.rows = n;
  in.y = y;
  tune::ProxyConfig p;
  p.rows_fraction = 0.25;
  const auto keep = tune::proxy_rows(in, folds, p, 7);
  ASSERT_EQ(keep.size(), n);
  std::map<std::pair<int, double>, std::pair<int, int>> cells;  // kept, total
  for (std::size_t i = 0; i < n; ++i) {
    auto& c = cells[{folds[i], y[i]}];
    c.first += keep[i];
    c.second += 1;
  }
  for (const auto& [cell, c] : cells) {
    EXPECT_EQ(c.first, static_cast<int>(std::llround(0.25 * c.second)))
        << "fold " << cell.first << " class " << cell.second;
  }
  EXPECT_EQ(tune::proxy_rows(in, folds, p, 7), keep);  // deterministic for a seed
  EXPECT_NE(tune::proxy_rows(in, folds, p, 8), keep);
  // A count is a fraction of the rows.
  tune::ProxyConfig count;
  count.rows_count = 100;
  const auto k100 = tune::proxy_rows(in, folds, count, 7);
  EXPECT_EQ(std::count(k100.begin(), k100.end(), 1), 100);
  count.rows_count = 5000;  // more than there is: everything
  const auto all = tune::proxy_rows(in, folds, count, 7);
  EXPECT_EQ(std::count(all.begin(), all.end(), 1), static_cast<long>(n));
  // A tiny class keeps at least one row per fold.
  p.rows_fraction = 0.01;
  const auto tiny = tune::proxy_rows(in, folds, p, 7);
  for (int f = 0; f < 4; ++f) {
    int minority = 0;
    for (std::size_t i = 0; i < n; ++i) minority += tiny[i] && folds[i] == f && y[i] == 1.0;
    EXPECT_GE(minority, 1);
  }
}

TEST(TuneProxy, KeepsOrDropsWholeGroups) {
  const std::size_t n = 600;
  std::vector<std::int64_t> groups(n);
  std::vector<int> folds(n);
  for (std::size_t i = 0; i < n; ++i) {
    groups[i] = static_cast<std::int64_t>(i / 6);  // 100 groups of 6
    folds[i] = static_cast<int>(groups[i] % 3);
  }
  compe::split::Inputs in;
  in.rows = n;
  in.groups = groups;
  in.y_is_class = false;
  tune::ProxyConfig p;
  p.rows_fraction = 0.5;
  const auto keep = tune::proxy_rows(in, folds, p, 1);
  std::map<std::int64_t, std::set<int>> per_group;
  std::map<int, int> per_fold;
  for (std::size_t i = 0; i < n; ++i) {
    per_group[groups[i]].insert(keep[i]);
    per_fold[folds[i]] += keep[i];
  }
  for (const auto& [g, states] : per_group) EXPECT_EQ(states.size(), 1u) << "group " << g;
  for (const auto& [f, kept] : per_fold) {
    EXPECT_GE(kept, 100) << "fold " << f;  // its share (about 100 of 200 rows), whole groups
    EXPECT_LE(kept, 108) << "fold " << f;
  }
}

TEST(TuneProxy, SpearmanAndConfig) {
  const std::vector<double> a = {1, 2, 3, 4}, b = {10, 20, 30, 40}, c = {4, 3, 2, 1};
  EXPECT_DOUBLE_EQ(tune::spearman(a, b), 1.0);
  EXPECT_DOUBLE_EQ(tune::spearman(a, c), -1.0);
  // scipy.stats.spearmanr([1, 2, 3, 4, 5], [2, 1, 4, 3, 3]) = 0.5642880936468347 (ties averaged)
  const std::vector<double> x = {1, 2, 3, 4, 5}, y = {2, 1, 4, 3, 3};
  EXPECT_NEAR(tune::spearman(x, y), 0.5642880936468347, 1e-12);
  EXPECT_TRUE(std::isnan(tune::spearman(std::vector<double>{1}, std::vector<double>{2})));
  EXPECT_TRUE(std::isnan(tune::spearman(a, std::vector<double>{1, 1, 1, 1})));

  auto config = [](const char* proxy) {
    nlohmann::json t = {{"space", {{"C", {{"type", "float"}, {"low", 0.1}, {"high", 1.0}}}}}};
    t["proxy"] = nlohmann::json::parse(proxy);
    return tune::parse_tune_config(t, "x.toml");
  };
  const tune::TuneConfig c1 = config(R"({"rows": 0.25, "rounds": 50, "folds": 2})");
  ASSERT_TRUE(c1.proxy.has_value());
  EXPECT_EQ(c1.proxy->rows_fraction, 0.25);
  EXPECT_EQ(c1.proxy->rounds, 50);
  EXPECT_EQ(c1.proxy->folds, 2);
  EXPECT_EQ(c1.proxy->to_json().dump(), R"({"folds":2,"rounds":50,"rows":0.25})");
  EXPECT_EQ(config(R"({"rows": 5000})").proxy->rows_count, 5000);
  EXPECT_EQ(config(R"({"rows": 1})").proxy->rows_fraction, 1.0);
  EXPECT_NE(error_of([&] { config(R"({"rows": 0})"); }).find("'tune.proxy.rows' is 0"),
            std::string::npos);
  EXPECT_NE(error_of([&] { config(R"({"rows": -3})"); }).find("tune.proxy.rows"),
            std::string::npos);
  EXPECT_NE(error_of([&] { config(R"({"rounds": 0})"); }).find("'tune.proxy.rounds' is 0"),
            std::string::npos);
  EXPECT_NE(error_of([&] { config(R"({"folds": 1.5})"); }).find("'tune.proxy.folds' is 1.5"),
            std::string::npos);
  EXPECT_NE(error_of([&] { config(R"({"fold": 2})"); }).find("did you mean 'tune.proxy.folds'"),
            std::string::npos);
  EXPECT_NE(error_of([&] { config(R"(3)"); }).find("'tune.proxy' must be a table"),
            std::string::npos);
  EXPECT_FALSE(tune::parse_tune_config(
                   {{"space", {{"C", {{"type", "float"}, {"low", 0.1}, {"high", 1.0}}}}}}, "x")
                   .proxy.has_value());
}

}  // namespace proxy_tests
