#include <gtest/gtest.h>

#include <cmath>
#include <optional>
#include <random>

#include <fmt/core.h>

#include "compe/audit.hpp"
#include "compe/error.hpp"
#include "compe/shake.hpp"
#include "compe/store.hpp"

#include "../common/recording_progress.hpp"

namespace shake = compe::shake;
using compe::ErrorCode;

namespace {

/// n rows of a binary truth and `k` candidates of decreasing quality (noise grows with index).
shake::Problem binary_problem(std::size_t n, std::size_t k, std::uint64_t seed = 7) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> noise(0, 1);
  shake::Problem p;
  p.metric = "roc_auc";
  for (std::size_t i = 0; i < n; ++i) p.y_true.push_back(static_cast<double>(rng() % 2));
  for (std::size_t c = 0; c < k; ++c) {
    shake::Candidate cand;
    cand.name = "c" + std::to_string(c);
    for (std::size_t i = 0; i < n; ++i) {
      double v = p.y_true[i] + (1.0 + 0.5 * static_cast<double>(c)) * noise(rng);
      // Rounded so that ties occur: the sorted pass must handle runs of equal values.
      cand.pred.push_back(std::round(v * 20) / 20);
    }
    p.candidates.push_back(std::move(cand));
  }
  return p;
}

void expect_code(ErrorCode code, const std::function<void()>& f, const std::string& needle = "") {
  try {
    f();
    FAIL() << "no error thrown";
  } catch (const compe::Error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    if (!needle.empty()) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  }
}

}  // namespace

TEST(Shake, StatsQuantilesInterpolateLinearly) {
  shake::Stats s = shake::stats_of({5, 1, 4, 2, 3});
  EXPECT_DOUBLE_EQ(s.mean, 3);
  EXPECT_NEAR(s.sd, std::sqrt(2.5), 1e-12);
  EXPECT_NEAR(s.p5, 1.2, 1e-12);
  EXPECT_NEAR(s.p50, 3, 1e-12);
  EXPECT_NEAR(s.p95, 4.8, 1e-12);
}

// The sorted-once AUC must give exactly what the registry's roc_auc gives on the same splits:
// two prediction columns (P(0), P(1)) take the registry path with count weights.
TEST(Shake, SortedAucEqualsRegistryOnTheSameSplits) {
  for (auto mode : {shake::Mode::kResample, shake::Mode::kResplit}) {
    shake::Problem fast = binary_problem(500, 3);
    shake::Problem slow = fast;
    slow.pred_cols = 2;
    for (auto& c : slow.candidates) {
      std::vector<double> two;
      for (double v : c.pred) {
        double p = 1 / (1 + std::exp(-v));  // monotone: same order, same AUC
        two.push_back(1 - p);
        two.push_back(p);
      }
      c.pred = two;
    }
    shake::Options o;
    o.mode = mode;
    o.simulations = 50;
    o.test_rows = 300;
    shake::Result a = shake::simulate(fast, o);
    shake::Result b = shake::simulate(slow, o);
    for (std::size_t k = 0; k < 3; ++k) {
      EXPECT_NEAR(a.candidates[k].public_score.mean, b.candidates[k].public_score.mean, 1e-12);
      EXPECT_NEAR(a.candidates[k].private_score.sd, b.candidates[k].private_score.sd, 1e-12);
      EXPECT_NEAR(a.candidates[k].gap.p95, b.candidates[k].gap.p95, 1e-12);
    }
  }
}

// Re-splitting rows: public and private mse, weighted by their row counts, give the overall mse
// in every simulation, so their means must too.
TEST(Shake, ResplitPartitionsTheRows) {
  std::mt19937_64 rng(3);
  std::normal_distribution<double> noise(0, 1);
  shake::Problem p;
  p.metric = "mse";
  shake::Candidate c{"m", "m", {}, {}, {}};
  double total = 0;
  const std::size_t n = 1001;
  for (std::size_t i = 0; i < n; ++i) {
    double y = noise(rng), e = noise(rng);
    p.y_true.push_back(y);
    c.pred.push_back(y + e);
    total += e * e;
  }
  total /= static_cast<double>(n);
  p.candidates.push_back(c);
  shake::Options o;
  o.mode = shake::Mode::kResplit;
  o.public_fraction = 0.25;
  o.simulations = 40;
  shake::Result r = shake::simulate(p, o);
  EXPECT_EQ(r.public_rows, 250u);
  EXPECT_EQ(r.private_rows, 751u);
  double mixed = (250 * r.candidates[0].public_score.mean + 751 * r.candidates[0].private_score.mean) / 1001.0;
  EXPECT_NEAR(mixed, total, 1e-9);
  EXPECT_GT(r.candidates[0].gap.sd, 0);
}

TEST(Shake, ResampleDrawsTheTestSize) {
  shake::Problem p = binary_problem(400, 2);
  shake::Options o;
  o.test_rows = 1000;
  o.public_fraction = 0.2;
  o.simulations = 20;
  shake::Result r = shake::simulate(p, o);
  EXPECT_EQ(r.public_rows, 200u);
  EXPECT_EQ(r.private_rows, 800u);
  EXPECT_EQ(r.rows, 400u);
  // A smaller public split varies more than the larger private one.
  EXPECT_GT(r.candidates[0].public_score.sd, r.candidates[0].private_score.sd);
}

TEST(Shake, DeterministicAcrossThreadCounts) {
  shake::Problem p = binary_problem(300, 4);
  shake::Options o;
  o.simulations = 64;
  o.threads = 1;
  nlohmann::json a = shake::to_json(shake::simulate(p, o));
  o.threads = 3;
  nlohmann::json b = shake::to_json(shake::simulate(p, o));
  a.erase("seconds");
  b.erase("seconds");
  EXPECT_EQ(a, b);
  o.seed = 43;
  nlohmann::json c = shake::to_json(shake::simulate(p, o));
  c.erase("seconds");
  EXPECT_NE(a, c);
}

TEST(Shake, RanksPairsAndHistograms) {
  shake::Problem p = binary_problem(2000, 3);
  // Candidate 0 is perfect: always #1 on both sides, never moves.
  p.candidates[0].pred = p.y_true;
  shake::Options o;
  o.simulations = 200;
  o.bins = 10;
  shake::Result r = shake::simulate(p, o);
  EXPECT_DOUBLE_EQ(r.candidates[0].p_private_best, 1.0);
  EXPECT_DOUBLE_EQ(r.candidates[0].mean_abs_rank_change, 0.0);
  EXPECT_DOUBLE_EQ(r.p_public_top_is_private_top, 1.0);
  EXPECT_EQ(r.gap_edges.size(), 11u);
  for (const auto& c : r.candidates) {
    std::size_t total = 0;
    for (auto v : c.gap_histogram) total += v;
    EXPECT_EQ(total, 200u);
    total = 0;
    for (auto v : c.rank_change_histogram) total += v;
    EXPECT_EQ(total, 200u);
    EXPECT_EQ(c.rank_change_histogram.size(), 5u);
  }
  EXPECT_EQ(r.pairs.size(), 6u);
  for (const auto& pr : r.pairs) {
    if (pr.a == 0) {
      EXPECT_DOUBLE_EQ(pr.p_a_public, 1.0);
      ASSERT_TRUE(pr.p_private_given_public.has_value());
      EXPECT_DOUBLE_EQ(*pr.p_private_given_public, 1.0);
    }
    if (pr.b == 0) {
      EXPECT_FALSE(pr.p_private_given_public.has_value());
    }
  }
  // Candidates 1 and 2 are close: the ranks between them do change sometimes.
  EXPECT_GT(r.candidates[1].mean_abs_rank_change, 0.0);
  EXPECT_LT(r.candidates[1].mean_public_rank, r.candidates[2].mean_public_rank);
}

TEST(Shake, IdenticalCandidatesNeverBeatEachOther) {
  shake::Problem p = binary_problem(300, 1);
  p.candidates.push_back(p.candidates[0]);
  p.candidates[1].name = "copy";
  shake::Options o;
  o.simulations = 30;
  shake::Result r = shake::simulate(p, o);
  for (const auto& pr : r.pairs) {
    EXPECT_DOUBLE_EQ(pr.p_a_public, 0.0);
    EXPECT_FALSE(pr.p_private_given_public.has_value());
  }
  EXPECT_DOUBLE_EQ(r.mean_abs_rank_change, 0.0);
}

TEST(Shake, MetricsWithoutWeightsRepeatRows) {
  // pearson takes no weights: drawn rows are repeated. Still a valid, finite result.
  std::mt19937_64 rng(5);
  std::normal_distribution<double> noise(0, 1);
  shake::Problem p;
  p.metric = "pearson";
  shake::Candidate c{"a", "a", {}, {}, {}};
  for (int i = 0; i < 200; ++i) {
    double y = noise(rng);
    p.y_true.push_back(y);
    c.pred.push_back(y + noise(rng));
  }
  p.candidates.push_back(c);
  shake::Options o;
  o.simulations = 20;
  shake::Result r = shake::simulate(p, o);
  EXPECT_GT(r.candidates[0].private_score.mean, 0.5);
  EXPECT_LT(r.candidates[0].private_score.mean, 0.9);
}

TEST(Shake, BadInputIsRefused) {
  shake::Problem p = binary_problem(100, 2);
  for (double f : {0.0, 1.0, -0.2, 1.5, std::nan("")}) {
    shake::Options o;
    o.public_fraction = f;
    expect_code(ErrorCode::kInvalidArgument, [&] { shake::simulate(p, o); }, "strictly between 0 and 1");
  }
  shake::Options o;
  o.public_fraction = 0.001;
  expect_code(ErrorCode::kInvalidArgument, [&] { shake::simulate(p, o); }, "at least 2");
  shake::Problem q = p;
  q.candidates[1].pred.pop_back();
  expect_code(ErrorCode::kInvalidArgument, [&] { shake::simulate(q, {}); }, "'c1' has 99 predictions");
  q.candidates.clear();
  expect_code(ErrorCode::kInvalidArgument, [&] { shake::simulate(q, {}); }, "no candidate");
  // One class on a small public side: said so, not a NaN.
  shake::Problem r = binary_problem(100, 1);
  for (std::size_t i = 0; i < 100; ++i) r.y_true[i] = i < 2 ? 1 : 0;
  o.public_fraction = 0.05;
  o.simulations = 200;
  expect_code(ErrorCode::kInvalidArgument, [&] { shake::simulate(r, o); }, "one class");
}

TEST(Shake, PolicyParsing) {
  shake::Policy none = shake::parse_policy("[competition]\nname = \"x\"\n", "compe.toml");
  EXPECT_FALSE(none.declared);
  shake::Policy p = shake::parse_policy(
      "[select]\nfirst = \"best_cv\"\nsecond = \"most_diverse\"\nmin_cv = 0.8\ntag = \"final\"\n", "compe.toml");
  EXPECT_TRUE(p.declared);
  EXPECT_EQ(p.second, "most_diverse");
  ASSERT_TRUE(p.min_cv.has_value());
  EXPECT_DOUBLE_EQ(*p.min_cv, 0.8);
  EXPECT_EQ(p.tag, "final");
  expect_code(ErrorCode::kInvalidArgument,
              [] { shake::parse_policy("[select]\nsecond = \"most_divers\"\n", "compe.toml"); }, "did you mean 'most_diverse'");
  expect_code(ErrorCode::kInvalidArgument,
              [] { shake::parse_policy("[select]\nfirst = \"most_diverse\"\n", "compe.toml"); }, "select.first");
  expect_code(ErrorCode::kInvalidArgument, [] { shake::parse_policy("[select]\nmincv = 1\n", "compe.toml"); }, "min_cv");
  for (const auto& name : shake::policy_names())
    EXPECT_TRUE(shake::parse_policy("[select]\nsecond = \"" + name + "\"\n", "t").declared) << name;
}

TEST(Shake, HistoryCorrelatesAndFlagsPublicOverfitting) {
  auto store = compe::open_store(":memory:");
  auto make = [&](const std::string& name, double cv, const std::string& parent) {
    compe::Run r;
    r.name = name;
    r.metric = "roc_auc";
    r.direction = "maximize";
    r.parent_id = parent;
    compe::Run c = store->create_run(r);
    store->finish_run(c.id, {.cv_score = cv});
    return c.id;
  };
  std::string a = make("a", 0.80, "");
  std::string b = make("b", 0.82, a);
  std::string c = make("c", 0.81, b);  // CV down against b, public up: flagged
  std::string d = make("d", 0.79, "");
  store->add_lb_score({.run_id = a, .public_score = 0.78, .time_ms = 1});
  store->add_lb_score({.run_id = b, .public_score = 0.80, .private_score = 0.81, .time_ms = 2});
  store->add_lb_score({.run_id = c, .public_score = 0.805, .private_score = 0.79, .time_ms = 3});
  store->add_lb_score({.run_id = d, .public_score = 0.77, .time_ms = 4});
  shake::History h = shake::history(*store, "auc");
  ASSERT_EQ(h.rows.size(), 4u);
  EXPECT_EQ(h.best_cv_run, b);
  ASSERT_TRUE(h.pearson && h.spearman);
  EXPECT_GT(*h.pearson, 0.5);
  EXPECT_NEAR(*h.spearman, 0.8, 1e-12);
  EXPECT_FALSE(h.pearson_private.has_value());  // two private scores only
  for (const auto& r : h.rows) {
    if (r.run_id == c) {
      EXPECT_NE(r.overfit_reason.find("parent"), std::string::npos) << r.overfit_reason;
    } else {
      EXPECT_TRUE(r.overfit_reason.empty()) << r.run_id << ": " << r.overfit_reason;
    }
  }
  auto empty = compe::open_store(":memory:");
  expect_code(ErrorCode::kInvalidArgument, [&] { shake::history(*empty, "auc"); }, "compe lb add");
}

namespace {

compe::Table drift_table(std::size_t n, double shift, std::uint64_t seed, bool with_target) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<double> g(0, 1);
  std::vector<std::int64_t> id;
  std::vector<double> stable, moved, y;
  for (std::size_t i = 0; i < n; ++i) {
    id.push_back(static_cast<std::int64_t>(seed * 100000 + i));
    stable.push_back(g(rng));
    moved.push_back(g(rng) + shift);
    y.push_back(static_cast<double>(rng() % 2));
  }
  compe::Table t;
  t.add_column(compe::Column::from_i64("id", id));
  t.add_column(compe::Column::from_f64("stable", stable));
  t.add_column(compe::Column::from_f64("moved", moved));
  if (with_target) t.add_column(compe::Column::from_f64("y", y));
  return t;
}

}  // namespace

TEST(Shake, AdversarialFindsTheDriftingFeature) {
  compe::CompetitionConfig cfg;
  cfg.task = compe::metric::kBinary;
  cfg.metric = "roc_auc";
  cfg.id_column = "id";
  cfg.target_columns = {"y"};
  compe::audit::AdversarialOptions o;
  o.folds = 3;
  o.threads = 1;
  o.params = {{"num_boost_round", 60}};
  compe::Table train = drift_table(600, 0.0, 1, true);
  compe::audit::Adversarial drift = compe::audit::adversarial(train, drift_table(300, 1.5, 2, false), cfg, o);
  EXPECT_GT(drift.auc, 0.75);
  ASSERT_FALSE(drift.features.empty());
  EXPECT_EQ(drift.features[0].name, "moved");
  EXPECT_GT(drift.features[0].auc, 0.75);
  EXPECT_EQ(drift.train_test_likeness.size(), 600u);
  EXPECT_EQ(drift.fold_auc.size(), 3u);
  EXPECT_NE(drift.finding.severity, compe::audit::Severity::kOk);
  compe::audit::Adversarial same = compe::audit::adversarial(train, drift_table(300, 0.0, 3, false), cfg, o);
  EXPECT_LT(same.auc, 0.6);
  EXPECT_EQ(same.finding.severity, compe::audit::Severity::kOk);
  o.folds = 1;
  expect_code(ErrorCode::kInvalidArgument, [&] { compe::audit::adversarial(train, train, cfg, o); }, "folds");
}

TEST(Shake, AdversarialVerdictWeighsSingleColumnSeparation) {
  // A reference code, unique per row, lower in train than in test: it separates train from test
  // alone (AUC 1), yet the classifier cannot use it (its levels are never seen in training folds).
  compe::CompetitionConfig cfg;
  cfg.task = compe::metric::kBinary;
  cfg.metric = "roc_auc";
  cfg.id_column = "id";
  cfg.target_columns = {"y"};
  compe::audit::AdversarialOptions o;
  o.folds = 3;
  o.threads = 1;
  o.params = {{"num_boost_round", 40}};
  auto with_ref = [](compe::Table t, std::size_t offset) {
    std::vector<std::optional<std::string>> ref;
    for (std::size_t i = 0; i < t.num_rows(); ++i) ref.push_back(fmt::format("REF{:06}", offset + i));
    t.add_column(compe::Column::from_strings("ref", ref));
    return t;
  };
  compe::Table train = with_ref(drift_table(600, 0.0, 1, true), 0);
  compe::Table test = with_ref(drift_table(300, 0.0, 3, false), 500000);
  compe::audit::Adversarial r = compe::audit::adversarial(train, test, cfg, o);
  EXPECT_LT(r.auc, 0.7);  // the classifier alone would call them alike
  ASSERT_FALSE(r.separating.empty());
  EXPECT_EQ(r.separating[0].name, "ref");
  EXPECT_DOUBLE_EQ(r.separating[0].auc, 1.0);
  EXPECT_EQ(r.finding.severity, compe::audit::Severity::kLeak);
  EXPECT_EQ(r.finding.subject, "ref");
  EXPECT_EQ(r.finding.detail.find("look alike"), std::string::npos) << r.finding.detail;
  EXPECT_NE(r.finding.detail.find("'ref' (AUC 1.000) alone separates them"), std::string::npos) << r.finding.detail;
}

TEST(Shake, ReportsProgressAsOneTask) {
  shake::Problem p = binary_problem(200, 2);
  compe::testing::RecordingProgress progress;
  shake::Options o;
  o.simulations = 30;
  o.threads = 2;
  o.progress = &progress;
  shake::simulate(p, o);
  std::vector<std::string> calls = progress.calls();
  ASSERT_GE(calls.size(), 3u);
  EXPECT_EQ(calls.front(), "start simulating/30");
  EXPECT_EQ(calls[calls.size() - 2], "advance 30");
  EXPECT_EQ(calls.back(), "finish ");
  std::size_t last = 0;
  for (std::size_t i = 1; i + 1 < calls.size(); ++i) {
    ASSERT_EQ(calls[i].rfind("advance ", 0), 0u) << calls[i];
    std::size_t done = std::stoul(calls[i].substr(8));
    EXPECT_GE(done, last) << "done never goes back";
    EXPECT_LE(done, 30u);
    last = done;
  }
}
