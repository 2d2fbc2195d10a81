// Search spaces, samplers, pruners and studies of the tuner.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numbers>
#include <numeric>
#include <set>
#include <thread>
#include <tuple>

#include <unistd.h>

#include "compe/error.hpp"
#include "compe/store.hpp"
#include "compe/tune.hpp"
#include "../error_of.hpp"

namespace {

namespace fs = std::filesystem;
using compe::Error;
using compe::ErrorCode;
using compe::TrialState;
namespace tune = compe::tune;

using compe::testing::error_of;

// A space every sampler can handle (the grid needs stepped floats).
tune::SearchSpace mixed_space() {
  tune::SearchSpace s;
  s.add("x", tune::float_param("x", -2.0, 2.0, false, 0.5));
  s.add("lr", tune::float_param("lr", 1e-3, 1.0, false, 1e-3));
  s.add("depth", tune::int_param("depth", 1, 9));
  s.add("leaves", tune::int_param("leaves", 2, 64, true));
  s.add("booster", tune::categorical_param("booster", {"gbtree", "dart", "linear"}));
  s.add("fixed", tune::float_param("fixed", 3.0, 3.0));
  return s;
}

// A space with every kind of parameter.
tune::SearchSpace full_space() {
  tune::SearchSpace s;
  s.add("x", tune::float_param("x", -5.0, 5.0));
  s.add("lr", tune::float_param("lr", 1e-4, 1.0, true));
  s.add("frac", tune::float_param("frac", 0.1, 1.0, false, 0.1));
  s.add("depth", tune::int_param("depth", 1, 12, false, 1));
  s.add("even", tune::int_param("even", 2, 20, false, 2));
  s.add("leaves", tune::int_param("leaves", 2, 256, true));
  s.add("kind", tune::categorical_param("kind", {1, "b", true}));
  return s;
}

// Assigning a literal to a member string trips GCC 12's -Wrestrict false positive.
tune::StudyOptions study_options(std::string name) {
  tune::StudyOptions o;
  o.name = std::move(name);
  return o;
}

double quadratic(tune::Trial& t, const tune::SearchSpace& space) {
  double v = 0;
  for (const auto& [name, d] : space.params()) {
    const nlohmann::json& p = t.params().at(name);
    if (d.kind == tune::ParamKind::kCategorical) {
      v += p == d.choices[0] ? 0.0 : 1.0;
    } else {
      const double x = d.log ? std::log(p.get<double>()) : p.get<double>();
      const double lo = d.log ? std::log(d.low) : d.low, hi = d.log ? std::log(d.high) : d.high;
      const double c = lo + 0.3 * (hi - lo);
      v += (x - c) * (x - c) / ((hi - lo) * (hi - lo) + 1e-300);
    }
  }
  return v;
}

TEST(TuneSpace, BadRangesNameTheParameter) {
  EXPECT_NE(error_of([] { tune::float_param("alpha", 2.0, 1.0); }).find("'alpha'"),
            std::string::npos);
  EXPECT_NE(error_of([] { tune::float_param("alpha", 2.0, 1.0); }).find("empty range"),
            std::string::npos);
  EXPECT_NE(error_of([] { tune::float_param("eta", 0.0, 1.0, true); }).find("'eta'"),
            std::string::npos);
  EXPECT_NE(error_of([] { tune::float_param("eta", -1.0, 1.0, true); }).find("positive"),
            std::string::npos);
  EXPECT_NE(error_of([] { tune::float_param("g", 0.0, NAN); }).find("finite"), std::string::npos);
  EXPECT_NE(error_of([] { tune::float_param("g", 0.0, 1.0, false, 0.0); }).find("step"),
            std::string::npos);
  EXPECT_NE(error_of([] { tune::float_param("g", 1.0, 2.0, true, 0.1); }).find("log"),
            std::string::npos);
  EXPECT_NE(error_of([] { tune::int_param("depth", 5, 4); }).find("'depth'"), std::string::npos);
  EXPECT_NE(error_of([] { tune::int_param("depth", 0, 4, true); }).find("positive"),
            std::string::npos);
  EXPECT_NE(error_of([] { tune::int_param("depth", 1, 4, false, 0); }).find("step"),
            std::string::npos);
  EXPECT_NE(error_of([] { tune::categorical_param("booster", {}); }).find("'booster'"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              tune::categorical_param("b", {"a", "a"});
            }).find("repeated"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              tune::distribution_from_json("m", {{"type", "float"}, {"low", 0}, {"hi", 1}});
            }).find("unknown key 'hi'"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              tune::distribution_from_json("m", {{"type", "normal"}, {"low", 0}, {"high", 1}});
            }).find("unknown type 'normal'"),
            std::string::npos);
  EXPECT_NE(error_of([] {
              tune::distribution_from_json("m", {{"type", "int"}, {"low", 0.5}, {"high", 1}});
            }).find("integer"),
            std::string::npos);
  tune::SearchSpace s;
  s.add("a", tune::float_param("a", 0, 1));
  EXPECT_NE(error_of([&] { s.add("a", tune::float_param("a", 0, 1)); }).find("twice"),
            std::string::npos);
}

TEST(TuneSpace, JsonRoundTripAndRepresentations) {
  const tune::SearchSpace s = full_space();
  const tune::SearchSpace back = tune::SearchSpace::from_json(s.to_json());
  EXPECT_EQ(back, s);
  const tune::SearchSpace from_table = tune::SearchSpace::from_json(
      {{"eta", {{"type", "float"}, {"low", 0.01}, {"high", 0.3}, {"log", true}}},
       {"depth", {{"type", "int"}, {"low", 2}, {"high", 8}}},
       {"obj", {{"type", "categorical"}, {"choices", {"a", "b"}}}}});
  EXPECT_EQ(from_table.size(), 3u);
  EXPECT_TRUE(from_table.find("eta")->log);
  EXPECT_EQ(*from_table.find("depth")->step, 1.0);

  const tune::Distribution f = tune::float_param("f", 0.0, 1.05, false, 0.1);
  EXPECT_NEAR(f.high, 1.0, 1e-12);
  EXPECT_TRUE(f.contains(0.3));
  EXPECT_FALSE(f.contains(0.35));
  const tune::Distribution i = tune::int_param("i", 1, 10, false, 3);
  EXPECT_EQ(i.high, 10.0);
  EXPECT_TRUE(i.contains(7));
  EXPECT_FALSE(i.contains(8));
  EXPECT_EQ(i.to_external(7.0), nlohmann::json(7));
  const tune::Distribution c = tune::categorical_param("c", {1, "b", true});
  EXPECT_EQ(c.to_internal("b"), 1.0);
  EXPECT_EQ(c.to_internal(true), 2.0);
  EXPECT_FALSE(c.to_internal("z"));
  EXPECT_EQ(c.to_external(2.0), nlohmann::json(true));
  EXPECT_TRUE(tune::float_param("s", 2.0, 2.0).single());
}

TEST(TuneMath, RngIsDeterministicAndInRange) {
  tune::Rng a(42), b(42), c(43);
  bool differs = false;
  for (int i = 0; i < 1000; ++i) {
    const double x = a.uniform();
    EXPECT_EQ(x, b.uniform());
    differs = differs || x != c.uniform();
    EXPECT_GE(x, 0.0);
    EXPECT_LT(x, 1.0);
    EXPECT_LT(a.below(7), 7u);
    b.below(7);
    c.below(7);
  }
  EXPECT_TRUE(differs);
}

TEST(TuneMath, NormalHelpersMatchScipy) {
  // scipy 1.10: stats.t.cdf and stats.truncnorm.ppf.
  EXPECT_NEAR(tune::student_t_cdf(2.0, 5), 0.9490302605850709, 1e-12);
  EXPECT_NEAR(tune::student_t_cdf(-1.5, 10), 0.08225366322272008, 1e-12);
  EXPECT_NEAR(tune::student_t_cdf(-3.2, 2), 0.04267043961997643, 1e-12);
  EXPECT_NEAR(tune::student_t_cdf(0.3, 1), 0.5927735790777423, 1e-12);
  EXPECT_NEAR(tune::truncnorm_ppf(0.3, -1, 2), -0.24240381788922707, 1e-10);
  EXPECT_NEAR(tune::truncnorm_ppf(0.9, 0.5, 3), 1.851224070977836, 1e-10);
  EXPECT_NEAR(tune::truncnorm_ppf(0.01, -30, -25), -25.18324403941237, 1e-8);
  EXPECT_NEAR(std::exp(tune::log_gauss_mass(-1, 1)), std::erf(1 / std::numbers::sqrt2), 1e-14);
  EXPECT_NEAR(tune::log_ndtr(0), std::log(0.5), 1e-15);
}

TEST(TuneTpe, WeightsGammaAndSplit) {
  EXPECT_EQ(tune::default_tpe_gamma(1), 1u);
  EXPECT_EQ(tune::default_tpe_gamma(10), 1u);
  EXPECT_EQ(tune::default_tpe_gamma(11), 2u);
  EXPECT_EQ(tune::default_tpe_gamma(1000), 25u);
  EXPECT_EQ(tune::default_tpe_weights(24), std::vector<double>(24, 1.0));
  const std::vector<double> w = tune::default_tpe_weights(30);
  ASSERT_EQ(w.size(), 30u);
  EXPECT_DOUBLE_EQ(w[0], 1.0 / 30);
  EXPECT_DOUBLE_EQ(w[2], (1.0 / 30 + 1.0) / 2);
  EXPECT_DOUBLE_EQ(w[4], 1.0);
  EXPECT_DOUBLE_EQ(w[29], 1.0);
  const double inf = std::numeric_limits<double>::infinity();
  // Complete trials (-inf) rank before pruned ones (-step), deeper pruned ones first.
  const auto [below, above] =
      tune::split_observations({{-inf, 3.0}, {-2, 0.0}, {-inf, 1.0}, {-5, -1.0}, {inf, inf}}, 3);
  EXPECT_EQ(below, (std::vector<std::size_t>{0, 2, 3}));
  EXPECT_EQ(above, (std::vector<std::size_t>{1, 4}));
}

TEST(TuneTpe, ParzenSamplesLieInTheSpaceAndDensitiesNormalise) {
  const tune::SearchSpace space = full_space();
  tune::TpeOptions opt;
  opt.optuna31_kernels = false;  // true densities (Optuna 3.1.0's scoring does not normalise)
  tune::Rng rng(7);
  for (const auto& [name, d] : space.params()) {
    std::vector<std::vector<double>> obs(1);
    for (int i = 0; i < 12; ++i) {
      obs[0].push_back(tune::make_sampler("random")->sample_independent({}, name, d, rng));
    }
    const tune::ParzenEstimator pe(obs, {d}, opt);
    const auto samples = pe.sample(rng, 200);
    for (double v : samples[0]) EXPECT_TRUE(d.contains(v)) << name << " " << v;
    // Total mass: a sum over the values of discrete parameters, an integral otherwise.
    double mass = 0;
    const bool discrete = d.kind == tune::ParamKind::kCategorical ||
                          (d.step && !(d.kind == tune::ParamKind::kInt && d.log));
    if (discrete) {
      const double n = d.kind == tune::ParamKind::kCategorical
                           ? static_cast<double>(d.choices.size())
                           : std::round((d.high - d.low) / *d.step) + 1;
      std::vector<std::vector<double>> pts(1);
      for (double k = 0; k < n; ++k) {
        pts[0].push_back(d.kind == tune::ParamKind::kCategorical ? k : d.low + k * *d.step);
      }
      for (double lp : pe.log_pdf(pts)) mass += std::exp(lp);
    } else {
      // Trapezoid rule in the transformed domain (density per unit of log x on log scales).
      const double lo = pe.low(0), hi = pe.high(0);
      const int n = 20000;
      std::vector<std::vector<double>> pts(1);
      for (int k = 0; k <= n; ++k) {
        const double u = lo + (hi - lo) * k / n;
        pts[0].push_back(d.log ? std::exp(u) : u);
      }
      const auto lp = pe.log_pdf(pts);
      for (int k = 0; k <= n; ++k) {
        mass += std::exp(lp[static_cast<std::size_t>(k)]) * (k == 0 || k == n ? 0.5 : 1.0);
      }
      mass *= (hi - lo) / n;
    }
    EXPECT_NEAR(mass, 1.0, 1e-3) << name;
  }
}

TEST(TuneRegistry, EverySamplerRow) {
  const tune::SearchSpace space = mixed_space();
  for (const tune::SamplerInfo& row : tune::builtin_samplers()) {
    SCOPED_TRACE(row.name);
    EXPECT_FALSE(row.summary.empty());
    EXPECT_EQ(&tune::find_sampler(row.name), &row);
    for (const std::string& a : row.aliases) EXPECT_EQ(&tune::find_sampler(a), &row);
    std::vector<nlohmann::json> first;
    for (int rep = 0; rep < 2; ++rep) {
      auto store = compe::open_store(":memory:");
      tune::StudyOptions o = study_options("s");
      o.space = space;
      o.sampler = row.name;
      o.seed = 11;
      tune::Study study(*store, o);
      study.optimize([&](tune::Trial& t) { return quadratic(t, space); }, 30);
      const auto trials = store->list_trials("s");
      ASSERT_EQ(trials.size(), 30u);
      for (std::size_t i = 0; i < trials.size(); ++i) {
        EXPECT_EQ(trials[i].number, static_cast<std::int64_t>(i));
        EXPECT_EQ(trials[i].state, TrialState::kComplete);
        for (const auto& [name, d] : space.params()) {
          EXPECT_TRUE(d.to_internal(trials[i].params.at(name))) << trials[i].params.dump();
        }
        if (rep == 0) {
          first.push_back(trials[i].params);
        } else {
          EXPECT_EQ(trials[i].params, first[i]) << "not reproducible for a seed";
        }
      }
      EXPECT_EQ(trials[0].params.at("fixed"), nlohmann::json(3.0));
    }
    // Unknown settings are refused naming the key.
    EXPECT_NE(error_of([&] {
                tune::make_sampler(row.name, {{"bogus", 1}});
              }).find("'bogus'"),
              std::string::npos);
  }
  const std::string msg = error_of([] { tune::make_sampler("tep"); }, ErrorCode::kNotFound);
  EXPECT_NE(msg.find("did you mean 'tpe'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("random"), std::string::npos);
}

TEST(TuneRegistry, EveryPrunerRow) {
  for (const tune::PrunerInfo& row : tune::builtin_pruners()) {
    SCOPED_TRACE(row.name);
    EXPECT_FALSE(row.summary.empty());
    EXPECT_EQ(&tune::find_pruner(row.name), &row);
    for (const std::string& a : row.aliases) EXPECT_EQ(&tune::find_pruner(a), &row);
    auto pruner = tune::make_pruner(row.name);
    // Ten complete trials with values 0..9 at steps 0..4 (minimize); a trial far worse than all
    // of them at every step, and one better than all.
    std::vector<tune::FrozenTrial> trials;
    for (int i = 0; i < 10; ++i) {
      tune::FrozenTrial t;
      t.number = i;
      t.state = TrialState::kComplete;
      t.value = i;
      for (int s = 0; s < 5; ++s) t.intermediate[s] = i + 0.01 * s * (i % 3);
      trials.push_back(t);
    }
    tune::SearchSpace space = mixed_space();
    const tune::StudyView view{tune::Direction::kMinimize, &space, trials};
    tune::FrozenTrial bad, good;
    bad.number = good.number = 10;
    bool bad_pruned = false;
    for (int s = 0; s < 5; ++s) {
      bad.intermediate[s] = 100 + s;
      good.intermediate[s] = -1 - 0.1 * s;
      bad_pruned = bad_pruned || pruner->prune(view, bad);
      EXPECT_FALSE(pruner->prune(view, good)) << "step " << s;
    }
    EXPECT_EQ(bad_pruned, row.name != "none");
    // Nothing is pruned before any trial completed.
    const tune::StudyView empty{tune::Direction::kMinimize, &space, {}};
    EXPECT_FALSE(pruner->prune(empty, bad));
    EXPECT_NE(error_of([&] {
                tune::make_pruner(row.name, {{"bogus", 1}});
              }).find("'bogus'"),
              std::string::npos);
  }
  const std::string msg = error_of([] { tune::make_pruner("medain"); }, ErrorCode::kNotFound);
  EXPECT_NE(msg.find("did you mean 'median'"), std::string::npos) << msg;
}

TEST(TunePruner, FoldRule) {
  tune::FoldOptions o;
  EXPECT_FALSE(tune::fold_rule_prunes({-0.05}, o));  // one fold is never enough
  EXPECT_TRUE(tune::fold_rule_prunes({-0.05, -0.04, -0.06}, o));
  EXPECT_TRUE(tune::fold_rule_prunes({-0.01, -0.01}, o));  // equal differences, all worse
  EXPECT_FALSE(tune::fold_rule_prunes({0.0, 0.0, 0.0}, o));
  EXPECT_FALSE(tune::fold_rule_prunes({-0.02, 0.015, -0.01}, o));  // noisy: could still win
  EXPECT_FALSE(tune::fold_rule_prunes({0.01, 0.02, 0.03}, o));
  o.min_folds = 4;
  EXPECT_FALSE(tune::fold_rule_prunes({-0.05, -0.04, -0.06}, o));
  EXPECT_NE(error_of([] {
              tune::make_pruner("fold", {{"alpha", 1.5}});
            }).find("alpha"),
            std::string::npos);
}

TEST(TunePruner, FoldPrunerInAStudy) {
  auto store = compe::open_store(":memory:");
  tune::StudyOptions o = study_options("cv");
  o.direction = tune::Direction::kMaximize;
  o.space.add("x", tune::float_param("x", 0, 1));
  o.sampler = "random";
  o.pruner = "fold";
  tune::Study study(*store, o);
  // The best trial: AUC 0.80 on each of 5 folds, 0.01 apart.
  tune::Trial best = study.ask();
  for (int k = 0; k < 5; ++k) best.report(0.80 + 0.01 * (k % 2), k);
  study.tell(best, 0.805);
  // A clearly worse trial stops after its third fold at the latest.
  tune::Trial worse = study.ask();
  int stopped_after = -1;
  for (int k = 0; k < 5; ++k) {
    worse.report(0.70 + 0.01 * (k % 2) + 0.002 * k, k);
    if (worse.should_prune()) {
      stopped_after = k;
      break;
    }
  }
  EXPECT_GE(stopped_after, 1);
  EXPECT_LE(stopped_after, 2);
  study.tell_pruned(worse);
  // A trial level with the best is never pruned.
  tune::Trial level = study.ask();
  for (int k = 0; k < 5; ++k) {
    level.report(0.80 + 0.01 * ((k + 1) % 2), k);
    EXPECT_FALSE(level.should_prune()) << k;
  }
  study.tell(level, 0.805);
  EXPECT_EQ(store->get_trial("cv", 1).state, TrialState::kPruned);
  EXPECT_EQ(store->get_trial("cv", 1).intermediate.size(),
            static_cast<std::size_t>(stopped_after + 1));
}

TEST(TunePruner, MedianAndHalvingDetails) {
  tune::SearchSpace space = mixed_space();
  std::vector<tune::FrozenTrial> trials;
  for (int i = 0; i < 6; ++i) {
    tune::FrozenTrial t;
    t.number = i;
    t.state = TrialState::kComplete;
    t.value = i;
    for (int s = 0; s < 20; ++s) t.intermediate[s] = i;
    trials.push_back(t);
  }
  const tune::StudyView view{tune::Direction::kMinimize, &space, trials};
  tune::FrozenTrial t;
  t.number = 6;
  // Median of 0..5 is 2.5: 2.4 survives, 2.6 is pruned.
  auto median = tune::make_pruner("median");
  t.intermediate = {{0, 2.4}};
  EXPECT_FALSE(median->prune(view, t));
  t.intermediate = {{0, 2.6}};
  EXPECT_TRUE(median->prune(view, t));
  auto warm = tune::make_pruner("median", {{"n_warmup_steps", 3}});
  EXPECT_FALSE(warm->prune(view, t));
  // Halving with rf 4 and min_resource 1: rungs at steps 1, 4, 16; top quarter survives.
  auto sh = tune::make_pruner("asha");
  t.intermediate = {{0, 1.2}};
  EXPECT_FALSE(sh->prune(view, t));  // before the first rung
  t.intermediate = {{0, 1.2}, {1, -0.5}};
  EXPECT_FALSE(sh->prune(view, t));  // -0.5 is the best of {0..5, -0.5}
  t.intermediate = {{0, 1.2}, {1, 0.5}};
  EXPECT_TRUE(sh->prune(view, t));  // 7 values keep only the best one
  t.intermediate = {{0, 1.2}, {1, -0.5}, {2, 3.0}};
  EXPECT_FALSE(sh->prune(view, t));  // between rungs nothing is judged
}

TEST(TuneStudy, TpeBeatsRandomOnAQuadratic) {
  tune::SearchSpace space;
  space.add("a", tune::float_param("a", -5, 5));
  space.add("b", tune::float_param("b", 1e-3, 10, true));
  space.add("c", tune::int_param("c", 0, 20));
  double sum[2] = {0, 0};
  for (int s = 0; s < 5; ++s) {
    for (int k = 0; k < 2; ++k) {
      auto store = compe::open_store(":memory:");
      tune::StudyOptions o = study_options("q");
      o.space = space;
      o.sampler = k == 0 ? "tpe" : "random";
      o.seed = static_cast<std::uint64_t>(s);
      tune::Study study(*store, o);
      study.optimize([&](tune::Trial& t) { return quadratic(t, space); }, 60);
      sum[k] += *study.best_trial()->value;
    }
  }
  EXPECT_LT(sum[0], sum[1]);
}

TEST(TuneStudy, MultivariateAndConstantLiar) {
  const tune::SearchSpace space = full_space();
  for (const tune::Settings& s :
       {tune::Settings{{"multivariate", true}}, tune::Settings{{"constant_liar", true}},
        tune::Settings{{"multivariate", true}, {"constant_liar", true}}}) {
    auto store = compe::open_store(":memory:");
    tune::StudyOptions o = study_options("m");
    o.space = space;
    o.sampler_settings = s;
    tune::Study study(*store, o);
    study.optimize([&](tune::Trial& t) { return quadratic(t, space); }, 25);
    // Asked but not told trials (other workers) are fine under the liar.
    tune::Trial a = study.ask();
    tune::Trial b = study.ask();
    EXPECT_NE(a.number(), b.number());
    for (const auto& [name, d] : space.params()) EXPECT_TRUE(d.to_internal(b.params().at(name)));
  }
}

TEST(TuneStudy, SuggestChecksTheDeclaration) {
  auto store = compe::open_store(":memory:");
  tune::StudyOptions o = study_options("s");
  o.space.add("lr", tune::float_param("lr", 1e-3, 1, true));
  o.space.add("depth", tune::int_param("depth", 2, 8));
  o.space.add("obj", tune::categorical_param("obj", {"a", "b"}));
  tune::Study study(*store, o);
  tune::Trial t = study.ask();
  const double lr = t.suggest_float("lr", 1e-3, 1, true);
  EXPECT_GE(lr, 1e-3);
  const std::int64_t depth = t.suggest_int("depth", 2, 8);
  EXPECT_GE(depth, 2);
  EXPECT_TRUE(t.suggest_categorical("obj", {"a", "b"}).is_string());
  EXPECT_NE(error_of([&] { t.suggest_float("gamma", 0, 1); }).find("declared: lr, depth, obj"),
            std::string::npos);
  EXPECT_NE(error_of([&] { t.suggest_int("depth", 2, 9); }).find("'depth' is declared as"),
            std::string::npos);
  study.tell(t, 1.0);
  EXPECT_NE(error_of([&] { study.tell(t, 2.0); }).find(""), std::string::npos);
}

TEST(TuneStudy, FailuresAreDataAndStopAfterARun) {
  auto store = compe::open_store(":memory:");
  tune::StudyOptions o = study_options("f");
  o.space.add("x", tune::float_param("x", 0, 1));
  o.sampler = "random";
  tune::Study study(*store, o);
  int calls = 0;
  study.optimize(
      [&](tune::Trial& t) -> double {
        ++calls;
        if (calls % 2 == 0) compe::fail(ErrorCode::kBackend, "fold 1 diverged");
        if (calls == 3) return NAN;
        if (calls == 5) throw tune::TrialPruned{};
        return t.params().at("x").get<double>();
      },
      8, std::chrono::duration<double>(0), 4);
  EXPECT_EQ(store->list_trials("f", TrialState::kFailed).size(), 5u);
  EXPECT_EQ(store->get_trial("f", 1).error, "fold 1 diverged");
  EXPECT_NE(store->get_trial("f", 2).error.find("nan"), std::string::npos);
  EXPECT_EQ(store->get_trial("f", 4).state, TrialState::kPruned);
  const std::string msg = error_of(
      [&] {
        study.optimize([](tune::Trial&) -> double { compe::fail(ErrorCode::kBackend, "boom"); }, 10,
                       std::chrono::duration<double>(0), 3);
      },
      ErrorCode::kBackend);
  EXPECT_EQ(msg, "boom");
  EXPECT_EQ(store->list_trials("f").size(), 11u);
}

TEST(TuneStudy, ResumesAndWorkersNeverShareANumber) {
  const fs::path dir =
      fs::temp_directory_path() / fs::path("compe_tune_test_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  const std::string url = (dir / "store.db").string();
  tune::StudyOptions o = study_options("w");
  o.space.add("x", tune::float_param("x", -1, 1));
  o.sampler_settings = {{"constant_liar", true}, {"n_startup_trials", 4}};
  {
    auto store = compe::open_store(url);
    tune::Study study(*store, o);
    study.optimize([](tune::Trial& t) { return std::abs(t.params().at("x").get<double>()); }, 5);
  }
  std::vector<std::thread> workers;
  for (int w = 0; w < 4; ++w) {
    workers.emplace_back([&, w] {
      auto store = compe::open_store(url);
      tune::StudyOptions wo = o;
      wo.seed = static_cast<std::uint64_t>(w + 1);
      tune::Study study(*store, wo);
      study.optimize([](tune::Trial& t) { return std::abs(t.params().at("x").get<double>()); }, 10);
    });
  }
  for (auto& t : workers) t.join();
  auto store = compe::open_store(url);
  const auto trials = store->list_trials("w");
  ASSERT_EQ(trials.size(), 45u);
  for (std::size_t i = 0; i < trials.size(); ++i) {
    EXPECT_EQ(trials[i].number, static_cast<std::int64_t>(i));
    EXPECT_EQ(trials[i].state, TrialState::kComplete);
  }
  tune::StudyOptions other = o;
  other.direction = tune::Direction::kMaximize;
  EXPECT_NE(error_of([&] { tune::Study s(*store, other); }).find("direction"), std::string::npos);
  fs::remove_all(dir);
}

TEST(TuneStudy, GridVisitsEveryPointOnce) {
  auto store = compe::open_store(":memory:");
  tune::StudyOptions o = study_options("g");
  o.space.add("a", tune::int_param("a", 1, 3));
  o.space.add("b", tune::categorical_param("b", {"x", "y"}));
  o.space.add("c", tune::float_param("c", 0, 1, false, 0.5));
  o.sampler = "grid";
  tune::Study study(*store, o);
  study.optimize([](tune::Trial& t) { return t.params().at("a").get<double>(); }, 100);
  const auto trials = store->list_trials("g");
  ASSERT_EQ(trials.size(), 18u);
  std::set<std::string> seen;
  for (const auto& t : trials) seen.insert(t.params.dump());
  EXPECT_EQ(seen.size(), 18u);
  tune::StudyOptions bad = o;
  bad.name = std::string(2, 'g');
  bad.space = tune::SearchSpace();
  bad.space.add("f", tune::float_param("f", 0, 1));
  tune::Study s2(*store, bad);
  EXPECT_NE(error_of([&] { s2.ask(); }).find("'f' needs a step"), std::string::npos);
}

}  // namespace

namespace {

TEST(TuneConfig, ParsesAndRejects) {
  const nlohmann::json t = {
      {"trials", 7},
      {"timeout", 2.5},
      {"sampler", "tpe"},
      {"pruner", "fold"},
      {"seed", 9},
      {"sampler_options", {{"multivariate", true}}},
      {"pruner_options", {{"alpha", 0.1}}},
      {"space",
       {{"eta", {{"type", "float"}, {"low", 0.01}, {"high", 0.3}, {"log", true}}},
        {"max_depth", {{"type", "int"}, {"low", 2}, {"high", 8}}}}}};
  const tune::TuneConfig c = tune::parse_tune_config(t, "exp.toml");
  EXPECT_EQ(c.trials, 7);
  EXPECT_EQ(c.timeout, 2.5);
  EXPECT_EQ(c.seed, 9u);
  EXPECT_EQ(c.space.size(), 2u);
  EXPECT_EQ(c.sampler_settings.at("multivariate"), nlohmann::json(true));
  auto with = [&](const char* key, nlohmann::json v) {
    nlohmann::json u = t;
    u[key] = std::move(v);
    return u;
  };
  EXPECT_NE(error_of([&] {
              tune::parse_tune_config(with("trails", 3), "exp.toml");
            }).find("unknown key 'tune.trails' (did you mean 'tune.trials'?)"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              tune::parse_tune_config(with("trials", 0), "exp.toml");
            }).find("'tune.trials' is 0"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              tune::parse_tune_config(with("space", nlohmann::json::object()), "e");
            }).find("[tune.space] is missing or empty"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              tune::parse_tune_config(with("sampler_options", {{"gamma", 1}}), "e");
            }).find("does not take setting 'gamma'"),
            std::string::npos);
  EXPECT_NE(
      error_of([&] { tune::parse_tune_config(with("pruner", "nope"), "e"); }, ErrorCode::kNotFound)
          .find("unknown pruner 'nope'"),
      std::string::npos);
}

TEST(TuneImportance, RanksTheParameterThatDrivesTheObjective) {
  tune::SearchSpace space;
  space.add("a", tune::float_param("a", 0, 1));
  space.add("noise", tune::float_param("noise", 0, 1));
  space.add("c", tune::categorical_param("c", {"x", "y"}));
  std::vector<tune::FrozenTrial> trials;
  tune::Rng rng(5);
  for (int i = 0; i < 60; ++i) {
    tune::FrozenTrial t;
    t.number = i;
    t.state = TrialState::kComplete;
    t.params = {{"a", rng.uniform()}, {"noise", rng.uniform()}, {"c", double(i % 2)}};
    t.value = 3 * t.params["a"] + 0.5 * t.params["c"];
    trials.push_back(t);
  }
  const auto imp = tune::parameter_importance(space, trials);
  ASSERT_EQ(imp.size(), 3u);
  EXPECT_EQ(imp[0].first, "a");
  EXPECT_EQ(imp[2].first, "noise");
  double sum = 0;
  for (const auto& [n, v] : imp) sum += v;
  EXPECT_NEAR(sum, 1.0, 1e-12);
  EXPECT_LT(imp[2].second, 0.1);
  // Too few trials: nothing to say.
  for (const auto& [n, v] : tune::parameter_importance(space, std::span(trials).first(2))) {
    EXPECT_EQ(v, 0.0);
  }
}

}  // namespace

// The TPE sampler keeps its observations between asks; what it proposes must be what a fresh
// sampler proposes from the same history, whatever the order trials finish in.
TEST(TuneTpe, IncrementalSamplerMatchesAFreshOne) {
  const tune::SearchSpace space = full_space();
  for (const tune::Settings& settings :
       {tune::Settings{}, tune::Settings{{"constant_liar", true}},
        tune::Settings{{"multivariate", true}, {"constant_liar", true}}}) {
    SCOPED_TRACE(nlohmann::json(settings).dump());
    auto kept = tune::make_sampler("tpe", settings);
    tune::Rng gen(5);
    std::vector<tune::FrozenTrial> all;
    std::vector<int> finish_at;  // the view number from which a trial is finished
    const int n = 120;
    for (int i = 0; i < n; ++i) {
      tune::FrozenTrial t;
      t.number = i;
      for (const auto& [name, d] : space.params()) {
        if (name == "leaves" && i % 7 == 3) continue;  // a parameter some trials lack
        t.params[name] = d.kind == tune::ParamKind::kCategorical
                             ? static_cast<double>(gen.below(d.choices.size()))
                         : d.step ? d.low + static_cast<double>(gen.below(static_cast<std::uint64_t>(
                                               std::llround((d.high - d.low) / *d.step) + 1))) *
                                              *d.step
                                  : gen.uniform(d.low, d.high);
      }
      const std::uint64_t kind = gen.below(10);
      t.state = kind < 7 ? TrialState::kComplete : kind < 9 ? TrialState::kPruned : TrialState::kFailed;
      if (t.state == TrialState::kComplete) {
        t.value = std::round(gen.uniform(0, 20));  // ties in the ranking
        t.values = {*t.value};
      }
      if (t.state == TrialState::kPruned && gen.below(2)) t.intermediate[3] = gen.uniform(0, 20);
      all.push_back(t);
      finish_at.push_back(i + 1 + static_cast<int>(gen.below(6)));  // finish out of order
    }
    for (int k = 0; k < n; k += 3) {
      std::vector<tune::FrozenTrial> view_trials;
      for (int i = 0; i < k; ++i) {
        tune::FrozenTrial t = all[static_cast<std::size_t>(i)];
        if (finish_at[static_cast<std::size_t>(i)] > k) {
          t.state = TrialState::kRunning;
          t.value.reset();
          t.values.clear();
          t.intermediate.clear();
        }
        view_trials.push_back(t);
      }
      const tune::StudyView view{tune::Direction::kMaximize, &space, view_trials};
      auto fresh = tune::make_sampler("tpe", settings);
      tune::Rng r1(static_cast<std::uint64_t>(k)), r2(static_cast<std::uint64_t>(k));
      const auto rel1 = kept->sample_relative(view, r1);
      const auto rel2 = fresh->sample_relative(view, r2);
      EXPECT_EQ(rel1, rel2) << "view " << k;
      for (const auto& [name, d] : space.params()) {
        if (rel1.count(name)) continue;
        EXPECT_EQ(kept->sample_independent(view, name, d, r1),
                  fresh->sample_independent(view, name, d, r2))
            << "view " << k << " " << name;
      }
    }
  }
}

TEST(TuneTpe, GivenOrderGivesTheSameEstimator) {
  tune::Rng gen(3);
  const std::vector<tune::Distribution> dists = {tune::float_param("f", -1, 1),
                                                 tune::int_param("i", 1, 30),
                                                 tune::int_param("l", 1, 64, true)};
  for (std::size_t n : {0u, 1u, 2u, 5u, 40u, 300u}) {
    std::vector<std::vector<double>> obs(3);
    for (std::size_t j = 0; j < n; ++j) {
      obs[0].push_back(std::round(gen.uniform(-1, 1) * 8) / 8);  // ties, and the prior's centre
      obs[1].push_back(static_cast<double>(1 + gen.below(30)));
      obs[2].push_back(static_cast<double>(1 + gen.below(64)));
    }
    std::vector<std::vector<std::size_t>> orders(3);
    for (std::size_t p = 0; p < 3; ++p) {
      orders[p].resize(n);
      std::iota(orders[p].begin(), orders[p].end(), 0);
      std::stable_sort(orders[p].begin(), orders[p].end(),
                       [&](auto a, auto b) { return obs[p][a] < obs[p][b]; });
      std::reverse(orders[p].begin(), orders[p].end());  // ties in another order
      std::stable_sort(orders[p].begin(), orders[p].end(),
                       [&](auto a, auto b) { return obs[p][a] < obs[p][b]; });
    }
    const tune::ParzenEstimator a(obs, dists, tune::TpeOptions{});
    const tune::ParzenEstimator b(obs, dists, tune::TpeOptions{}, {}, orders);
    EXPECT_EQ(a.weights(), b.weights());
    for (std::size_t p = 0; p < 3; ++p) {
      EXPECT_EQ(a.mus(p), b.mus(p)) << n;
      EXPECT_EQ(a.sigmas(p), b.sigmas(p)) << n << " param " << p;
    }
  }
  // Kernels far inside their bounds have mass 1 exactly.
  EXPECT_EQ(tune::log_gauss_mass(-9, 9), 0.0);
  EXPECT_EQ(tune::log_gauss_mass(-40, 12), 0.0);
  EXPECT_LT(tune::log_gauss_mass(-8, 8), 0.0);
}

TEST(TuneMulti, RanksHypervolumeAndFront) {
  // Minimise both: (1,4) (2,2) (4,1) are the front; (3,3) rank 1; (4,4) rank 2.
  const std::vector<std::vector<double>> l = {{3, 3}, {1, 4}, {2, 2}, {4, 4}, {4, 1}};
  EXPECT_EQ(tune::nondomination_ranks(l), (std::vector<int>{1, 0, 0, 2, 0}));
  // 2-D: the staircase under (5,5): 4*1 + 3*2 + ... = area of the union of boxes.
  EXPECT_DOUBLE_EQ(tune::hypervolume({{1, 4}, {2, 2}, {4, 1}}, {5, 5}), 4 * 1 + 3 * 2 + 1 * 1);
  // 3-D: two unit boxes overlapping in a quarter cube.
  EXPECT_DOUBLE_EQ(tune::hypervolume({{0, 0, 1}, {1, 0, 0}}, {2, 2, 2}), 4 + 4 - 2);
  EXPECT_DOUBLE_EQ(tune::hypervolume({{3, 0, 0}}, {2, 2, 2}), 0.0);
  std::vector<tune::FrozenTrial> trials;
  for (std::size_t i = 0; i < l.size(); ++i) {
    tune::FrozenTrial t;
    t.number = static_cast<std::int64_t>(i);
    t.state = TrialState::kComplete;
    t.values = {-l[i][0], l[i][1]};  // the first objective maximised
    t.value = t.values[0];
    trials.push_back(t);
  }
  tune::FrozenTrial pruned;
  pruned.number = 5;
  pruned.state = TrialState::kPruned;
  trials.push_back(pruned);
  const std::vector<tune::Direction> dirs = {tune::Direction::kMaximize,
                                             tune::Direction::kMinimize};
  std::vector<std::int64_t> numbers;
  for (const auto& t : tune::pareto_front(trials, dirs)) numbers.push_back(t.number);
  EXPECT_EQ(numbers, (std::vector<std::int64_t>{1, 2, 4}));
  // The good set: the front fits in 3; with 4 the fourth comes from rank 1.
  auto [below, above] = tune::split_observations_multi(l, 3);
  EXPECT_EQ(below, (std::vector<std::size_t>{1, 2, 4}));
  EXPECT_EQ(above, (std::vector<std::size_t>{0, 3}));
  std::tie(below, above) = tune::split_observations_multi(l, 2);
  EXPECT_EQ(below.size(), 2u);
  const std::set<std::size_t> front_idx = {1, 2, 4};
  for (std::size_t i : below) EXPECT_TRUE(front_idx.count(i)) << i;
  const auto w = tune::multi_objective_weights({{1, 4}, {2, 2}, {4, 1}});
  ASSERT_EQ(w.size(), 3u);
  EXPECT_DOUBLE_EQ(*std::max_element(w.begin(), w.end()), 1.0);
  for (double x : w) EXPECT_GT(x, 0.0);
}

TEST(TuneMulti, StudiesWithTwoObjectives) {
  tune::SearchSpace space;
  space.add("x", tune::float_param("x", -1, 3));
  space.add("k", tune::int_param("k", 0, 4));
  for (const std::string sampler : {"tpe", "random"}) {
    SCOPED_TRACE(sampler);
    std::vector<double> first;
    for (int rep = 0; rep < 2; ++rep) {
      auto store = compe::open_store(":memory:");
      tune::StudyOptions o = study_options("mo");
      o.space = space;
      o.sampler = sampler;
      o.directions = {tune::Direction::kMinimize, tune::Direction::kMaximize};
      tune::Study study(*store, o);
      EXPECT_EQ(study.directions().size(), 2u);
      study.optimize_multi(
          [](tune::Trial& t) {
            const double x = t.params().at("x").get<double>();
            const double k = t.params().at("k").get<double>();
            return std::vector<double>{x * x + k, -(x - 2) * (x - 2) - k};
          },
          40);
      const auto trials = study.trials();
      ASSERT_EQ(trials.size(), 40u);
      for (const auto& t : trials) {
        EXPECT_EQ(t.state, TrialState::kComplete);
        EXPECT_EQ(t.values.size(), 2u);
        if (rep == 0) first.push_back(t.values[0]);
      }
      if (rep == 1) {
        for (std::size_t i = 0; i < trials.size(); ++i) EXPECT_EQ(trials[i].values[0], first[i]);
      }
      const auto front = study.best_trials();
      ASSERT_FALSE(front.empty());
      for (const auto& a : front) {
        for (const auto& b : trials) {
          const bool dominated = b.values[0] <= a.values[0] && b.values[1] >= a.values[1] &&
                                 (b.values[0] < a.values[0] || b.values[1] > a.values[1]);
          EXPECT_FALSE(dominated) << a.number << " dominated by " << b.number;
        }
      }
      // One value is not enough; the store keeps both directions.
      tune::Trial t = study.ask();
      EXPECT_NE(error_of([&] { study.tell(t, 1.0); }).find("2 objective"), std::string::npos);
      EXPECT_EQ(store->get_study("mo").directions,
                (std::vector<std::string>{"minimize", "maximize"}));
    }
  }
  // Reopening with other directions is refused.
  auto store = compe::open_store(":memory:");
  tune::StudyOptions o = study_options("mo");
  o.space = space;
  o.directions = {tune::Direction::kMinimize, tune::Direction::kMaximize};
  tune::Study first(*store, o);
  o.directions = {tune::Direction::kMinimize, tune::Direction::kMinimize};
  EXPECT_NE(error_of([&] { tune::Study again(*store, o); }).find("direction"), std::string::npos);
}
