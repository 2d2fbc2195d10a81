// Tuning an experiment: parameter merging, proxy caps, objective mapping, the study's options,
// the transfer's choice of trials and its Spearman check, end to end on the Titanic example.

#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include <fmt/core.h>

#include "compe/error.hpp"
#include "compe/store.hpp"
#include "compe/tune.hpp"
#include "compe/tune/experiment.hpp"
#include "compe/workspace.hpp"
#include "../error_of.hpp"

namespace {

namespace fs = std::filesystem;
using compe::ErrorCode;
using compe::TrialState;
using compe::testing::error_of;
namespace tune = compe::tune;
namespace run = compe::run;

// A plan built by hand: a boosted model with fixed parameters and a proxy.
tune::TunePlan boosted_plan() {
  tune::TunePlan plan;
  plan.display = "exp.toml";
  plan.path = "experiments/exp.toml";
  plan.experiment.name = "";
  plan.experiment.backend = "xgboost";
  plan.experiment.params = {{"max_depth", 3}, {"eta", 0.1}};
  plan.experiment.tune = {{"space", nlohmann::json::object()}};
  plan.rounds_key = "num_boost_round";
  plan.default_params = {{"num_boost_round", 1000}};
  plan.metric = "roc_auc";
  plan.maximize = true;
  tune::ProxyConfig proxy;
  proxy.rounds = 100;
  proxy.folds = 2;
  plan.config.proxy = proxy;
  return plan;
}

TEST(TuneExperiment, TrialParametersAreMergedOverTheFixedOnes) {
  const tune::TunePlan plan = boosted_plan();
  const tune::TrialSetup s = tune::trial_setup(plan, {{"max_depth", 6}, {"gamma", 0.5}}, false, 0);
  EXPECT_EQ(s.experiment.params["max_depth"], 6);  // sampled replaces fixed
  EXPECT_EQ(s.experiment.params["eta"], 0.1);      // fixed kept
  EXPECT_EQ(s.experiment.params["gamma"], 0.5);    // sampled added
  EXPECT_TRUE(s.experiment.tune.is_null());
  EXPECT_EQ(s.options.kind, "trial");
  EXPECT_TRUE(s.options.allow_multi);
  // Without the proxy: every fold, no cap, no subsample, nothing recorded as proxy.
  EXPECT_TRUE(s.experiment.folds.empty());
  EXPECT_FALSE(s.experiment.params.contains("num_boost_round"));
  EXPECT_TRUE(s.options.proxy.is_null());
  EXPECT_FALSE(s.options.row_filter);

  tune::TunePlan bare = plan;
  bare.experiment.params = nullptr;  // no [model.params]
  EXPECT_EQ(tune::trial_setup(bare, {{"max_depth", 2}}, false, 0).experiment.params,
            nlohmann::json({{"max_depth", 2}}));
}

TEST(TuneExperiment, ProxyCapsRoundsAndFolds) {
  tune::TunePlan plan = boosted_plan();
  // The backend's default (1000 rounds) is above the cap: capped at 100.
  tune::TrialSetup s = tune::trial_setup(plan, {{"max_depth", 4}}, true, 7);
  EXPECT_EQ(s.experiment.params["num_boost_round"], 100);
  EXPECT_EQ(s.experiment.folds, (std::vector<int>{0, 1}));
  EXPECT_EQ(s.options.proxy, plan.config.proxy->to_json());
  EXPECT_FALSE(s.options.row_filter);  // every row kept
  // A smaller value, sampled or fixed, stays.
  s = tune::trial_setup(plan, {{"num_boost_round", 40}}, true, 7);
  EXPECT_EQ(s.experiment.params["num_boost_round"], 40);
  plan.experiment.params["num_boost_round"] = 60;
  EXPECT_EQ(tune::trial_setup(plan, {}, true, 7).experiment.params["num_boost_round"], 60);
  plan.experiment.params["num_boost_round"] = 600;
  EXPECT_EQ(tune::trial_setup(plan, {}, true, 7).experiment.params["num_boost_round"], 100);
  // A fold subset: its first k folds.
  plan.experiment.folds = {3, 1, 4};
  EXPECT_EQ(tune::trial_setup(plan, {}, true, 7).experiment.folds, (std::vector<int>{3, 1}));
  // Rows: a subsample filter.
  plan.config.proxy->rows_fraction = 0.5;
  EXPECT_TRUE(tune::trial_setup(plan, {}, true, 7).options.row_filter);
  // No rounds cap asked: the rounds are left alone.
  plan.config.proxy->rounds = 0;
  EXPECT_EQ(tune::trial_setup(plan, {}, true, 7).experiment.params["num_boost_round"], 600);
}

TEST(TuneExperiment, ObjectiveValuesFollowTheObjectives) {
  run::Summary s;
  s.cv = 0.8;
  s.model_seconds = 2.5;
  s.wall_seconds = 4.0;
  const std::vector<std::string> objectives = {"wall_seconds", "cv", "fit_seconds"};
  EXPECT_EQ(tune::objective_values(objectives, s), (std::vector<double>{4.0, 0.8, 2.5}));
  EXPECT_EQ(tune::objective_values(std::vector<std::string>{"cv"}, s), std::vector<double>{0.8});
}

TEST(TuneExperiment, StudyOptionsNameDirectionsAndPrunerCheck) {
  tune::TunePlan plan = boosted_plan();
  plan.text = "experiment text";
  EXPECT_EQ(tune::study_options(plan, "", 1).name, "exp");  // the file's stem
  plan.experiment.name = "xgb";
  EXPECT_EQ(tune::study_options(plan, "", 1).name, "xgb");
  plan.config.study = "from-config";
  EXPECT_EQ(tune::study_options(plan, "", 1).name, "from-config");
  tune::StudyOptions so = tune::study_options(plan, "given", 9);
  EXPECT_EQ(so.name, "given");
  EXPECT_EQ(so.seed, 9u);
  EXPECT_EQ(so.direction, tune::Direction::kMaximize);
  EXPECT_TRUE(so.directions.empty());
  EXPECT_EQ(so.attrs["experiment"], "experiment text");
  EXPECT_EQ(so.attrs["experiment_path"], "experiments/exp.toml");

  plan.config.objectives = {"fit_seconds", "cv"};
  so = tune::study_options(plan, "", 0);
  EXPECT_EQ(so.directions,
            (std::vector<tune::Direction>{tune::Direction::kMinimize, tune::Direction::kMaximize}));
  plan.config.pruner = "fold";
  const auto e = error_of([&] { tune::study_options(plan, "", 0); });
  EXPECT_NE(e.find("must start with \"cv\""), std::string::npos) << e;
}

compe::Trial stored(std::int64_t number, TrialState state, std::vector<double> values) {
  compe::Trial t;
  t.number = number;
  t.state = state;
  t.values = std::move(values);
  return t;
}

TEST(TuneExperiment, TransferTakesTheBestCompleteTrialsByTheirCvValue) {
  tune::TunePlan plan = boosted_plan();
  plan.config.objectives = {"fit_seconds", "cv"};
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<compe::Trial> trials = {
      stored(0, TrialState::kComplete, {9.0, 0.70}), stored(1, TrialState::kComplete, {1.0, 0.90}),
      stored(2, TrialState::kComplete, {5.0, nan}),  stored(3, TrialState::kPruned, {1.0, 0.99}),
      stored(4, TrialState::kComplete, {2.0, 0.80}), stored(5, TrialState::kComplete, {3.0, 0.90})};
  auto numbers = [](const std::vector<compe::Trial>& ts) {
    std::vector<std::int64_t> n;
    for (const auto& t : ts) n.push_back(t.number);
    return n;
  };
  auto best = tune::transfer_candidates(trials, plan, "s", 3);
  EXPECT_EQ(numbers(best), (std::vector<std::int64_t>{1, 5, 4}));  // ties in number order
  EXPECT_EQ(best[0].values, std::vector<double>{0.90});              // the cv value only
  plan.maximize = false;
  EXPECT_EQ(numbers(tune::transfer_candidates(trials, plan, "s", 10)),
            (std::vector<std::int64_t>{0, 4, 1, 5}));

  plan.config.objectives = {"fit_seconds", "wall_seconds"};
  auto e = error_of([&] { tune::transfer_candidates(trials, plan, "s", 3); });
  EXPECT_NE(e.find("exp.toml: --transfer compares cross-validation scores"),
            std::string::npos)
      << e;
  plan.config.objectives = {"cv"};
  e = error_of([&] { tune::transfer_candidates({stored(0, TrialState::kComplete, {nan})}, plan,
                                               "s", 3); });
  EXPECT_NE(e.find("study 's' has no complete trial"), std::string::npos);
}

// ---- end to end on the Titanic example ----

class TuneTitanic : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() / fmt::format("compe_tunex_{}_{}", ::getpid(),
                                                   compe::now_unix_ms());
    compe::InitOptions o;
    o.dir = dir_ / "ws";
    o.from = fs::path(COMPE_SOURCE_DIR) / "examples" / "titanic" / "data";
    compe::init_workspace(o);
    ws_.emplace(compe::Workspace::open(o.dir));
    store_ = compe::open_store(ws_->store_path().string());
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }
  std::string experiment(const std::string& name, const std::string& text) {
    const fs::path p = dir_ / name;
    std::ofstream(p) << text;
    return p.string();
  }
  fs::path dir_;
  std::optional<compe::Workspace> ws_;
  std::unique_ptr<compe::Store> store_;
};

constexpr const char* kLinear =
    "name = \"lin\"\n[model]\nbackend = \"linear\"\n[features]\ndrop = [\"name\"]\n"
    "[tune]\ntrials = 3\nseed = 3\nsampler = \"random\"\n"
    "[tune.space]\nC = {type = \"float\", low = 0.001, high = 100.0, log = true}\n";

TEST_F(TuneTitanic, PlanChecksTheExperiment) {
  auto e = error_of([&] {
    tune::plan_tune(*ws_, *store_, experiment("none.toml", "[model]\nbackend = \"linear\"\n"), "");
  });
  EXPECT_NE(e.find("no [tune] table"), std::string::npos) << e;
  e = error_of([&] {
    tune::plan_tune(*ws_, *store_,
                    experiment("key.toml", "[model]\nbackend = \"linear\"\n[tune.space]\n"
                                           "CC = {type = \"float\", low = 0.1, high = 1.0}\n"),
                    "");
  });
  EXPECT_NE(e.find("tune.space.CC is not a parameter of model 'linear' (did "
                                       "you mean 'C'?)"),
            std::string::npos)
      << e;
  e = error_of([&] {
    tune::plan_tune(*ws_, *store_, experiment("rounds.toml", std::string(kLinear) +
                                                                 "[tune.proxy]\nrounds = 10\n"),
                    "");
  });
  EXPECT_NE(e.find("model 'linear' has no boosting rounds"), std::string::npos)
      << e;
  e = error_of([&] {
    tune::plan_tune(*ws_, *store_, experiment("folds.toml", std::string(kLinear) +
                                                                "[tune.proxy]\nfolds = 9\n"),
                    "");
  });
  EXPECT_NE(e.find("tune.proxy.folds is 9; the experiment has 5 folds"),
            std::string::npos)
      << e;
  e = error_of([&] { tune::plan_tune(*ws_, *store_, "", ""); });
  EXPECT_NE(e.find("needs an EXPERIMENT file"), std::string::npos);

  const tune::TunePlan plan =
      tune::plan_tune(*ws_, *store_, experiment("lin.toml", kLinear), "");
  EXPECT_EQ(plan.metric, ws_->config().metric);
  EXPECT_TRUE(plan.maximize);  // roc_auc
  EXPECT_TRUE(plan.rounds_key.empty());
  EXPECT_EQ(plan.config.trials, 3);
}

TEST_F(TuneTitanic, TuneThenTransferLinksRunsAndRanksThem) {
  const std::string path = experiment(
      "lin.toml", std::string(kLinear) + "[tune.proxy]\nfolds = 2\nrows = 0.5\n");
  tune::TuneOptions o;
  o.experiment_path = path;
  o.store_url = ws_->store_path().string();
  std::vector<std::int64_t> started, ended;
  std::int64_t reported = 0;
  bool opened = false, loop_ended = false;
  tune::TuneSink sink;
  sink.on_open = [&](const tune::TuneSession& s) {
    opened = true;
    EXPECT_EQ(s.study, "lin");
    EXPECT_EQ(s.first, 0);
    EXPECT_EQ(s.limit, 3);
  };
  sink.on_trial_start = [&](std::int64_t n) { started.push_back(n); };
  sink.on_trial_end = [&](const tune::FrozenTrial& f) { ended.push_back(f.number); };
  sink.on_progress = [&](const tune::TuneProgress& p) { reported = p.ended_total; };
  sink.on_loop_end = [&](bool failed, const std::function<void()>& poll) {
    EXPECT_FALSE(failed);
    poll();
    loop_ended = true;
  };
  const tune::TuneResult r = tune::tune_experiment(*ws_, *store_, o, sink);
  EXPECT_TRUE(opened && loop_ended);
  EXPECT_EQ(started, (std::vector<std::int64_t>{0, 1, 2}));
  EXPECT_EQ(ended, started);
  EXPECT_EQ(reported, 3);
  EXPECT_EQ(r.study, "lin");
  EXPECT_EQ(r.trials, 3u);
  ASSERT_TRUE(r.best);
  EXPECT_FALSE(r.best->run_id.empty());
  EXPECT_TRUE(r.best->params.contains("C"));

  // Every trial's run is linked both ways, partial (2 folds, half the rows) and tagged proxy.
  for (const compe::Trial& t : store_->list_trials("lin")) {
    ASSERT_EQ(t.state, TrialState::kComplete);
    ASSERT_FALSE(t.run_id.empty());
    const compe::Run run = store_->get_run(t.run_id);
    EXPECT_EQ(run.name, fmt::format("lin-t{}", t.number));
    EXPECT_EQ(run.kind, "trial");
    EXPECT_TRUE(run.tags.count("study:lin") && run.tags.count("proxy") &&
                run.tags.count(fmt::format("trial:{}", t.number)));
    EXPECT_EQ(t.intermediate.size(), 2u);
  }

  tune::TransferOptions to;
  to.study = "lin";
  to.top = 2;
  to.store_url = o.store_url;
  std::size_t announced = 0;
  std::vector<std::int64_t> rows_seen;
  tune::TransferSink ts;
  ts.on_start = [&](const std::string&, std::size_t n, const nlohmann::json& proxy) {
    announced = n;
    EXPECT_EQ(proxy["folds"], 2);
  };
  ts.on_row = [&](const tune::TransferRow& row) { rows_seen.push_back(row.number); };
  const tune::TransferResult t = tune::transfer(*ws_, *store_, to, ts);
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(announced, 2u);
  EXPECT_EQ(t.rows[0].number, r.best->number);  // the best proxy trial first
  EXPECT_GE(t.rows[0].proxy, t.rows[1].proxy);
  std::vector<double> proxy, full;
  for (const tune::TransferRow& row : t.rows) {
    rows_seen.erase(std::find(rows_seen.begin(), rows_seen.end(), row.number));
    proxy.push_back(row.proxy);
    full.push_back(row.full);
    const compe::Run run = store_->get_run(row.run_id);
    EXPECT_EQ(run.name, fmt::format("lin-full-t{}", row.number));
    EXPECT_EQ(run.parent_id, row.proxy_run_id);  // lineage: the proxy trial's run
    EXPECT_FALSE(run.partial);
    EXPECT_TRUE(run.tags.count("transfer:lin"));
  }
  EXPECT_TRUE(rows_seen.empty());
  const double rho = tune::spearman(proxy, full);
  // Two trials rank the same way or the opposite way (or tie).
  if (std::isnan(rho)) {
    EXPECT_TRUE(std::isnan(t.spearman));
  } else {
    EXPECT_DOUBLE_EQ(t.spearman, rho);
    EXPECT_NEAR(std::abs(rho), 1.0, 1e-12);  // two ranks: +-1 up to rounding
  }

  // An unknown study.
  const auto e = error_of([&] {
    tune::TransferOptions bad = to;
    bad.study = "nosuch";
    tune::transfer(*ws_, *store_, bad);
  }, ErrorCode::kNotFound);
  EXPECT_NE(e.find("nosuch"), std::string::npos) << e;
}

}  // namespace
