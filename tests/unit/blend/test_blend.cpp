#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "compe/blend.hpp"
#include "compe/error.hpp"
#include "../error_of.hpp"

using compe::Column;
using compe::Table;
namespace blend = compe::blend;

namespace {

// 8 rows; folds 0,0,1,1,0,0,1,1; each fold holds both classes.
blend::Reference binary_ref(std::string metric = "roc_auc") {
  blend::Reference ref;
  ref.task = compe::metric::kBinary;
  ref.metric = std::move(metric);
  ref.id_column = "id";
  ref.train_ids = Column::from_i64("id", {1, 2, 3, 4, 5, 6, 7, 8});
  ref.folds = {0, 0, 1, 1, 0, 0, 1, 1};
  ref.folds_hash = "abc";
  ref.y_true = {0, 1, 0, 1, 0, 1, 0, 1};
  ref.test_ids = Column::from_i64("id", {101, 102});
  ref.prediction_columns = {"y"};
  ref.classes = {"0", "1"};
  return ref;
}

// Regression: y, A = y + d, B = y - 3d, so 0.75 A + 0.25 B = y exactly.
const std::vector<double> kY = {1, 2, 3, 4, 5, 6, 7, 8};
const std::vector<double> kD = {0.25, -0.5, 0.5, 0.25, -1.0, 0.75, -0.25, 0.5};

blend::Reference regression_ref() {
  blend::Reference ref = binary_ref("rmse");
  ref.task = compe::metric::kRegression;
  ref.y_true = kY;
  ref.classes.clear();
  return ref;
}

blend::Member member(std::string name, std::vector<double> oof, std::vector<double> test) {
  blend::Member m;
  m.name = std::move(name);
  m.oof = std::move(oof);
  m.test = std::move(test);
  return m;
}

blend::OofSet regression_set() {
  blend::OofSet set;
  set.ref = regression_ref();
  std::vector<double> a(8), b(8);
  for (std::size_t i = 0; i < 8; ++i) a[i] = kY[i] + kD[i], b[i] = kY[i] - 3 * kD[i];
  set.members.push_back(member("a", a, {1, 2}));
  set.members.push_back(member("b", b, {3, 6}));
  return set;
}

blend::OofSet binary_set() {
  blend::OofSet set;
  set.ref = binary_ref();
  set.members.push_back(member("a", {0.1, 0.7, 0.4, 0.6, 0.3, 0.35, 0.2, 0.9}, {0.2, 0.8}));
  set.members.push_back(member("b", {0.2, 0.6, 0.65, 0.8, 0.1, 0.7, 0.3, 0.4}, {0.4, 0.6}));
  set.members.push_back(member("c", {0.3, 0.5, 0.2, 0.7, 0.45, 0.8, 0.6, 0.55}, {0.1, 0.9}));
  return set;
}

Table oof_table(std::vector<std::int64_t> ids, std::vector<std::int64_t> folds,
                std::vector<double> y) {
  Table t;
  t.source = "mate/oof.csv";
  t.add_column(Column::from_i64("id", std::move(ids)));
  t.add_column(Column::from_i64("fold", std::move(folds)));
  t.add_column(Column::from_f64("y", std::move(y)));
  return t;
}

Table test_table(std::vector<std::int64_t> ids, std::vector<double> y) {
  Table t;
  t.source = "mate/test.csv";
  t.add_column(Column::from_i64("id", std::move(ids)));
  t.add_column(Column::from_f64("y", std::move(y)));
  return t;
}

using compe::testing::message_of;

}  // namespace

TEST(BlendStats, RanksAverageTiesAndScaleByN) {
  std::vector<double> v = {3, 1, 2, 2};
  std::vector<double> r = blend::rank01(v);
  EXPECT_DOUBLE_EQ(r[0], 1.0);
  EXPECT_DOUBLE_EQ(r[1], 0.25);
  EXPECT_DOUBLE_EQ(r[2], 0.625);
  EXPECT_DOUBLE_EQ(r[3], 0.625);
}

TEST(BlendStats, PearsonAndSpearmanByHand) {
  std::vector<double> a = {1, 2, 3}, b = {2, 4, 6}, c = {3, 2, 1}, k = {5, 5, 5};
  EXPECT_NEAR(blend::pearson(a, b), 1.0, 1e-12);
  EXPECT_NEAR(blend::pearson(a, c), -1.0, 1e-12);
  EXPECT_EQ(blend::pearson(a, k), 0.0);
  // x = 1,2,3,4 and y = 1,4,9,100: monotone, so Spearman 1 while Pearson is below 1.
  std::vector<double> x = {1, 2, 3, 4}, y = {1, 4, 9, 100};
  EXPECT_NEAR(blend::spearman(x, y), 1.0, 1e-12);
  EXPECT_LT(blend::pearson(x, y), 0.9);
}

TEST(BlendMethods, MeanPowerGeometricRankByHand) {
  blend::OofSet set;
  set.ref = binary_ref("log_loss");
  set.members.push_back(member("a", {0.2, 0.8, 0.2, 0.8, 0.2, 0.8, 0.2, 0.8}, {0.2, 0.5}));
  set.members.push_back(member("b", {0.4, 0.2, 0.4, 0.2, 0.4, 0.2, 0.4, 0.2}, {0.8, 0.5}));
  auto mean = blend::blend(set, "mean");
  EXPECT_NEAR(mean.oof[0], 0.3, 1e-12);
  EXPECT_NEAR(mean.oof[1], 0.5, 1e-12);
  EXPECT_NEAR(mean.test[0], 0.5, 1e-12);
  EXPECT_EQ(mean.weights, (std::vector<double>{0.5, 0.5}));
  blend::Params p;
  p.power = 2;
  auto pm = blend::blend(set, "power_mean", p);
  EXPECT_NEAR(pm.oof[0], std::sqrt((0.04 + 0.16) / 2), 1e-12);
  auto gm = blend::blend(set, "geometric_mean");
  EXPECT_NEAR(gm.oof[0], std::sqrt(0.2 * 0.4), 1e-12);
  EXPECT_NEAR(gm.oof[1], 0.4, 1e-12);
  auto rm = blend::blend(set, "rank_mean");
  // a's ranks: 0.2 x4 -> 2.5/8, 0.8 x4 -> 6.5/8; b's: 0.4 -> 6.5/8, 0.2 -> 2.5/8: 4.5/8 each row.
  for (double v : rm.oof) EXPECT_NEAR(v, 4.5 / 8, 1e-12);
  // The in-sample and nested scores of an unfitted method are the same predictions.
  EXPECT_NEAR(mean.oof_score, mean.nested_score, 1e-12);
  EXPECT_EQ(rm.nested_oof, rm.oof);
  p.power = 0;
  EXPECT_NE(message_of([&] { blend::blend(set, "power_mean", p); }).find("geometric_mean"),
            std::string::npos);
}

TEST(BlendMethods, WeightsFindTheExactMixture) {
  auto set = regression_set();
  auto r = blend::blend(set, "weights");
  ASSERT_EQ(r.weights.size(), 2u);
  EXPECT_NEAR(r.weights[0], 0.75, 1e-9);
  EXPECT_NEAR(r.weights[1], 0.25, 1e-9);
  EXPECT_NEAR(r.oof_score, 0.0, 1e-9);
  EXPECT_NEAR(r.test[0], 0.75 * 1 + 0.25 * 3, 1e-9);
  EXPECT_NEAR(r.test[1], 0.75 * 2 + 0.25 * 6, 1e-9);
  // The mixture is exact on every fold, so the nested fits find it too.
  EXPECT_NEAR(r.nested_score, 0.0, 1e-9);
  EXPECT_EQ(r.fold_scores.size(), 2u);
}

TEST(BlendMethods, HillClimbSelectsThreeAThenOneB) {
  auto set = regression_set();
  blend::Params p;
  p.steps = 4;
  auto r = blend::blend(set, "hill_climb", p);
  // Steps: a (rmse |d|), a again (tie is not an improvement: a is first), b (2a+b = y - d/3),
  // a (3a+b = 4y): the best step is the fourth.
  EXPECT_EQ(r.details["counts"], (nlohmann::json{3.0, 1.0}));
  EXPECT_NEAR(r.weights[0], 0.75, 1e-12);
  EXPECT_NEAR(r.weights[1], 0.25, 1e-12);
  EXPECT_NEAR(r.oof_score, 0.0, 1e-12);
  p.steps = 2;
  auto short_run = blend::blend(set, "hill_climb", p);
  EXPECT_NEAR(short_run.weights[0], 1.0, 1e-12);
  p.steps = 0;
  EXPECT_NE(message_of([&] { blend::blend(set, "hill_climb", p); }).find("steps"), std::string::npos);
}

TEST(BlendMethods, BaggedHillClimbWeightsSumToOne) {
  auto set = binary_set();
  blend::Params p;
  p.steps = 10;
  p.bags = 5;
  p.bag_fraction = 0.67;
  auto r = blend::blend(set, "hill_climb", p);
  EXPECT_NEAR(std::accumulate(r.weights.begin(), r.weights.end(), 0.0), 1.0, 1e-12);
  EXPECT_EQ(blend::blend(set, "hill_climb", p).weights, r.weights);
}

TEST(BlendMethods, StackRecoversLinearMixtureAndItsOofIsNested) {
  auto set = regression_set();
  blend::Params p;
  p.l2 = 0;
  auto r = blend::blend(set, "stack", p);
  EXPECT_NEAR(r.details["coefficients"][0].get<double>(), 0.75, 1e-6);
  EXPECT_NEAR(r.details["coefficients"][1].get<double>(), 0.25, 1e-6);
  EXPECT_NEAR(r.details["intercept"].get<double>(), 0.0, 1e-6);
  EXPECT_EQ(r.oof, r.nested_oof);
  EXPECT_NEAR(r.oof_score, r.nested_score, 1e-12);
  auto b = blend::blend(binary_set(), "stack");
  for (double v : b.oof) EXPECT_TRUE(v > 0 && v < 1);
}

TEST(BlendRegistry, EveryMethodIsDeterministicAndWellFormed) {
  ASSERT_GE(blend::builtin().size(), 7u);
  for (const auto& info : blend::builtin()) {
    SCOPED_TRACE(info.name);
    EXPECT_EQ(&blend::find(info.name), &info);
    EXPECT_FALSE(info.summary.empty());
    for (auto set : {binary_set(), regression_set()}) {
      if (!(info.tasks & set.ref.task)) {
        EXPECT_NE(message_of([&] { blend::blend(set, info.name); }).find("does not support"),
                  std::string::npos);
        continue;
      }
      auto r = blend::blend(set, info.name);
      EXPECT_EQ(r.method, info.name);
      EXPECT_EQ(r.oof.size(), set.ref.rows());
      EXPECT_EQ(r.nested_oof.size(), set.ref.rows());
      EXPECT_EQ(r.test.size(), 2u);
      EXPECT_TRUE(std::isfinite(r.oof_score));
      EXPECT_TRUE(std::isfinite(r.nested_score));
      EXPECT_EQ(r.fold_scores.size(), 2u);
      EXPECT_EQ(r.member_scores.size(), set.members.size());
      if (!r.weights.empty()) {
        EXPECT_EQ(r.weights.size(), set.members.size());
        EXPECT_NEAR(std::accumulate(r.weights.begin(), r.weights.end(), 0.0), 1.0, 1e-9);
        for (double w : r.weights) EXPECT_GE(w, 0.0);
      }
      // Methods that learn nothing have no in-sample optimism: nested = in-sample predictions.
      if (!info.fitted) {
        EXPECT_EQ(r.nested_oof, r.oof);
      }
      auto again = blend::blend(set, info.name);
      EXPECT_EQ(again.oof, r.oof);
      EXPECT_EQ(again.test, r.test);
      // A single member is refused.
      blend::OofSet one = set;
      one.members.resize(1);
      EXPECT_NE(message_of([&] { blend::blend(one, info.name); }).find("at least two members"),
                std::string::npos);
      // Learning methods refuse members on different folds; averages accept them.
      blend::OofSet diff = set;
      diff.different_folds = true;
      if (info.same_folds) {
        EXPECT_NE(message_of([&] { blend::blend(diff, info.name); }).find("folds"),
                  std::string::npos);
      } else {
        EXPECT_NO_THROW(blend::blend(diff, info.name));
      }
    }
  }
  EXPECT_NE(message_of([] { blend::find("hillclimb"); }).find("hill_climb"), std::string::npos);
}

TEST(BlendRegistry, WeightsNeverLoseToTheBestMemberInSample) {
  auto set = binary_set();
  for (const char* metric : {"roc_auc", "log_loss"}) {
    set.ref.metric = metric;
    auto r = blend::blend(set, "weights");
    double best = r.member_scores[static_cast<std::size_t>(r.best_member)];
    EXPECT_FALSE(blend::better(set.ref, best, r.oof_score)) << metric;
  }
}

TEST(BlendAnalyze, CorrelationsOrderAndMarginalGains) {
  auto set = binary_set();
  set.members.push_back(member("a_copy", set.members[0].oof, set.members[0].test));
  auto a = blend::analyze(set, "mean");
  const std::size_t m = 4;
  ASSERT_EQ(a.pearson.size(), m * m);
  EXPECT_NEAR(a.pearson[0 * m + 3], 1.0, 1e-12);
  EXPECT_NEAR(a.error_spearman[3 * m + 0], 1.0, 1e-12);
  EXPECT_NEAR(a.spearman[1 * m + 2], blend::spearman(set.members[1].oof, set.members[2].oof),
              1e-12);
  EXPECT_EQ(a.order.size(), m);
  // a and its copy sit next to each other in the clustered order.
  auto pos = [&](int k) { return std::find(a.order.begin(), a.order.end(), k) - a.order.begin(); };
  EXPECT_EQ(std::abs(pos(0) - pos(3)), 1);
  ASSERT_EQ(a.marginal_gain.size(), m);
  EXPECT_EQ(a.scores.size(), m);
  EXPECT_NE(message_of([&] {
              blend::OofSet one = set;
              one.members.resize(1);
              blend::analyze(one);
            }).find("two members"),
            std::string::npos);
}

TEST(BlendMember, AlignsRowsInAnyOrder) {
  auto ref = binary_ref();
  auto m = blend::make_member(ref, "mate",
                              oof_table({8, 7, 6, 5, 4, 3, 2, 1}, {1, 1, 0, 0, 1, 1, 0, 0},
                                        {.8, .7, .6, .5, .4, .3, .2, .1}),
                              test_table({102, 101}, {0.9, 0.1}), nullptr);
  EXPECT_EQ(m.oof, (std::vector<double>{.1, .2, .3, .4, .5, .6, .7, .8}));
  EXPECT_EQ(m.test, (std::vector<double>{0.1, 0.9}));
}

TEST(BlendMember, BadInputIsReportedWithTheFirstIds) {
  auto ref = binary_ref();
  std::vector<std::int64_t> ids = {1, 2, 3, 4, 5, 6, 7, 8}, folds = {0, 0, 1, 1, 0, 0, 1, 1};
  std::vector<double> p(8, 0.5);
  auto test = test_table({101, 102}, {0.5, 0.5});
  auto make = [&](const Table& oof, const Table& t, nlohmann::json meta = nullptr,
                  blend::LoadOptions o = {}) {
    return message_of([&] { blend::make_member(ref, "mate", oof, t, meta, o); });
  };
  // A missing id.
  std::string e = make(
      oof_table({1, 2, 3, 4, 5, 6, 7}, {0, 0, 1, 1, 0, 0, 1}, std::vector<double>(7, 0.5)), test);
  EXPECT_NE(e.find("missing: '8'"), std::string::npos) << e;
  // An unknown id.
  e = make(oof_table({1, 2, 3, 4, 5, 6, 7, 9}, folds, p), test);
  EXPECT_NE(e.find("'9'"), std::string::npos) << e;
  // A duplicate.
  e = make(oof_table({1, 2, 3, 4, 5, 6, 7, 8, 8}, {0, 0, 1, 1, 0, 0, 1, 1, 1},
                     std::vector<double>(9, 0.5)),
           test);
  EXPECT_NE(e.find("duplicate id(s): '8'"), std::string::npos) << e;
  // Another fold for one row.
  e = make(oof_table(ids, {0, 0, 1, 1, 0, 1, 1, 1}, p), test);
  EXPECT_NE(e.find("id '6' has fold 1, folds.csv says 0"), std::string::npos) << e;
  // The sidecar's hash.
  e = make(oof_table(ids, folds, p), test, {{"folds_hash", "zzz"}});
  EXPECT_NE(e.find("other folds"), std::string::npos) << e;
  // ... accepted for plain averaging when allowed.
  blend::LoadOptions allow;
  allow.allow_different_folds = true;
  EXPECT_EQ(make(oof_table(ids, {1, 1, 0, 0, 1, 1, 0, 0}, p), test, {{"folds_hash", "zzz"}}, allow),
            "");
  // NaN, and a probability out of range.
  auto q = p;
  q[2] = NAN;
  e = make(oof_table(ids, folds, q), test);
  EXPECT_NE(e.find("NaN"), std::string::npos);
  EXPECT_NE(e.find("'3'"), std::string::npos) << e;
  q[2] = 1.5;
  e = make(oof_table(ids, folds, q), test);
  EXPECT_NE(e.find("outside [0, 1] at ids '3'"), std::string::npos) << e;
  // Test ids.
  e = make(oof_table(ids, folds, p), test_table({101}, {0.5}));
  EXPECT_NE(e.find("'102'"), std::string::npos) << e;
  // Prediction columns.
  Table other = oof_table(ids, folds, p);
  other.add_column(Column::from_f64("z", p));
  e = make(other, test);
  EXPECT_NE(e.find("unexpected: [z]"), std::string::npos) << e;
}

TEST(BlendMember, ClassColumnsInAnotherOrderAreAligned) {
  blend::Reference ref = binary_ref("log_loss");
  ref.task = compe::metric::kMulticlass;
  ref.train_ids = Column::from_i64("id", {1, 2});
  ref.folds = {0, 1};
  ref.y_true = {0, 2};
  ref.prediction_columns = {"a", "b", "c"};
  Table oof;
  oof.source = "mate/oof.csv";
  oof.add_column(Column::from_i64("id", {1, 2}));
  oof.add_column(Column::from_i64("fold", {0, 1}));
  oof.add_column(Column::from_f64("c", {0.1, 0.7}));
  oof.add_column(Column::from_f64("a", {0.6, 0.2}));
  oof.add_column(Column::from_f64("b", {0.3, 0.1}));
  Table test;
  test.source = "mate/test.csv";
  test.add_column(Column::from_i64("id", {101, 102}));
  test.add_column(Column::from_f64("b", {0.5, 0.2}));
  test.add_column(Column::from_f64("c", {0.3, 0.2}));
  test.add_column(Column::from_f64("a", {0.2, 0.6}));
  auto m = blend::make_member(ref, "mate", oof, test, nullptr);
  EXPECT_EQ(m.oof, (std::vector<double>{0.6, 0.3, 0.1, 0.2, 0.1, 0.7}));
  EXPECT_EQ(m.test, (std::vector<double>{0.2, 0.5, 0.3, 0.6, 0.2, 0.2}));
}

TEST(BlendMethods, WeightsOnLogLossReachTheGridMinimum) {
  // Binary log loss takes the projected Newton path; a fine grid over the simplex checks it.
  auto set = binary_set();
  set.ref.metric = "log_loss";
  auto r = blend::blend(set, "weights");
  EXPECT_EQ(r.details["optimiser"].get<std::string>().rfind("projected Newton", 0), 0u);
  double grid_best = 1e300;
  for (int i = 0; i <= 200; ++i)
    for (int j = 0; i + j <= 200; ++j) {
      double wa = i / 200.0, wb = j / 200.0, wc = 1 - wa - wb;
      std::vector<double> p(8);
      for (std::size_t k = 0; k < 8; ++k)
        p[k] = wa * set.members[0].oof[k] + wb * set.members[1].oof[k] + wc * set.members[2].oof[k];
      grid_best = std::min(grid_best, blend::score_rows(set.ref, p));
    }
  EXPECT_LE(r.oof_score, grid_best + 1e-12);
  EXPECT_GT(r.oof_score, grid_best - 1e-3);
  // A member that only adds noise gets no weight: the active set holds it at zero.
  set.members.push_back(member("bad", {0.9, 0.1, 0.9, 0.1, 0.9, 0.1, 0.9, 0.1}, {0.5, 0.5}));
  auto with_bad = blend::blend(set, "weights");
  EXPECT_EQ(with_bad.weights[3], 0.0);
  EXPECT_NEAR(with_bad.oof_score, r.oof_score, 1e-9);
}

TEST(BlendMethods, HillClimbOnManyRowsMatchesAPlainSerialLoop) {
  // Enough rows for candidates to be scored in parallel; the picks must be the serial loop's.
  const std::size_t n = 40000, m = 4;
  blend::Reference ref = binary_ref();
  ref.folds.assign(n, 0);
  ref.y_true.resize(n);
  std::vector<std::vector<double>> p(m, std::vector<double>(n));
  std::uint64_t state = 7;
  auto next = [&] {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(state >> 11) / 9007199254740992.0;
  };
  for (std::size_t r = 0; r < n; ++r) {
    ref.y_true[r] = next() < 0.3 ? 1 : 0;
    for (std::size_t j = 0; j < m; ++j)
      p[j][r] = std::clamp(0.1 * (j + 1) * ref.y_true[r] + next(), 0.0, 1.0);
  }
  blend::FitInput in{.ref = &ref, .preds = {p.begin(), p.end()}, .y_true = ref.y_true, .rows = n};
  blend::Params params;
  params.steps = 6;
  auto fitted = blend::find("hill_climb").fit(in, params);
  std::vector<double> counts(m, 0.0), sum(n, 0.0), best_counts;
  double best = -1;
  for (int step = 0; step < params.steps; ++step) {
    std::size_t pick = 0;
    double pick_s = -1;
    for (std::size_t j = 0; j < m; ++j) {
      std::vector<double> c(n);
      for (std::size_t r = 0; r < n; ++r) c[r] = (sum[r] + p[j][r]) / (step + 1);
      double s = blend::score_rows(ref, c);
      if (s > pick_s + 1e-12 * std::max(1.0, std::abs(pick_s))) pick = j, pick_s = s;
    }
    for (std::size_t r = 0; r < n; ++r) sum[r] += p[pick][r];
    counts[pick] += 1;
    if (pick_s > best + 1e-12 * std::max(1.0, std::abs(best))) best = pick_s, best_counts = counts;
  }
  EXPECT_EQ(fitted.details["counts"], nlohmann::json(best_counts));
}

TEST(BlendMethods, WeightsThatDoNotConvergeSaySoAndStayValid) {
  auto set = binary_set();  // roc_auc: the coordinate search
  blend::Params p;
  p.max_passes = 1;
  p.restarts = 0;
  auto r = blend::blend(set, "weights", p);
  EXPECT_EQ(r.details["converged"], false);
  EXPECT_NEAR(std::accumulate(r.weights.begin(), r.weights.end(), 0.0), 1.0, 1e-12);
  for (double w : r.weights) EXPECT_GE(w, 0.0);
  // Never worse in-sample than the best member, converged or not.
  EXPECT_FALSE(blend::better(set.ref, r.member_scores[static_cast<std::size_t>(r.best_member)],
                             r.oof_score));
  p.max_passes = 200;
  EXPECT_EQ(blend::blend(set, "weights", p).details["converged"], true);
}
