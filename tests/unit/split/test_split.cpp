#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <set>
#include <string>
#include <vector>

#include "compe/error.hpp"
#include "compe/split.hpp"
#include "common/numpy_compat.hpp"
#include "common/rng.hpp"

namespace split = compe::split;

namespace {

// Data every splitter can run on: classes 0..3, 0/1 labels in 4 columns, 60 groups, a time key.
struct Data {
  std::size_t rows = 600;
  std::vector<double> y, labels, time;
  std::vector<std::int64_t> groups;
  Data() {
    compe::Rng rng(7);
    for (std::size_t r = 0; r < rows; ++r) {
      std::int64_t g = static_cast<std::int64_t>(rng.below(60)) * 3 - 50;
      groups.push_back(g);
      y.push_back(static_cast<double>((g + 50) % 4 == 0 ? rng.below(4) : rng.below(2)));
      for (int l = 0; l < 4; ++l) labels.push_back(rng.below(10) < static_cast<unsigned>(1 + 2 * l) ? 1.0 : 0.0);
      time.push_back(static_cast<double>(rng.below(1000)));
    }
  }
  split::Inputs inputs(const split::Info& info) const {
    split::Inputs in;
    in.rows = rows;
    if (info.multilabel) {
      in.y = labels;
      in.y_cols = 4;
    } else if (info.needs_target) {
      in.y = y;
    }
    if (info.uses_groups) in.groups = groups;
    return in;
  }
};

split::Spec spec_for(const split::Info& info, int k = 4) {
  split::Spec s;
  s.strategy = info.name;
  s.k = k;
  return s;
}

void expect_invalid(const split::Spec& spec, const split::Inputs& in, const std::string& needle) {
  try {
    split::assign(spec, in);
    ADD_FAILURE() << "expected an error mentioning '" << needle << "'";
  } catch (const compe::Error& e) {
    EXPECT_EQ(e.code(), compe::ErrorCode::kInvalidArgument) << e.what();
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

std::map<std::int64_t, std::set<int>> folds_per_group(std::span<const int> folds,
                                                     std::span<const std::int64_t> groups) {
  std::map<std::int64_t, std::set<int>> m;
  for (std::size_t r = 0; r < folds.size(); ++r) m[groups[r]].insert(folds[r]);
  return m;
}

}  // namespace

TEST(SplitRegistry, NamesAndAliasesResolve) {
  std::set<std::string> seen;
  ASSERT_GE(split::builtin().size(), 7u);
  for (const split::Info& info : split::builtin()) {
    EXPECT_TRUE(seen.insert(info.name).second) << info.name;
    EXPECT_EQ(&split::find(info.name), &info);
    EXPECT_FALSE(info.summary.empty()) << info.name;
    for (const std::string& a : info.aliases) {
      EXPECT_TRUE(seen.insert(a).second) << a;
      EXPECT_EQ(split::find(a).name, info.name);
    }
  }
}

TEST(SplitRegistry, UnknownNameSuggestsClosest) {
  try {
    split::find("stratifed_kfold");
    FAIL() << "expected an error";
  } catch (const compe::Error& e) {
    EXPECT_EQ(e.code(), compe::ErrorCode::kNotFound);
    std::string msg = e.what();
    EXPECT_NE(msg.find("stratified_kfold"), std::string::npos) << msg;
    EXPECT_NE(msg.find("timeseries"), std::string::npos) << msg;
  }
}

TEST(SplitRegistry, EveryRowAssignsValidDeterministicFolds) {
  Data d;
  for (const split::Info& info : split::builtin()) {
    SCOPED_TRACE(info.name);
    split::Spec spec = spec_for(info);
    split::Inputs in = d.inputs(info);
    split::Assignment a = split::assign(spec, in);
    ASSERT_EQ(a.folds.size(), d.rows);
    EXPECT_EQ(a.folds, split::assign_folds(spec, in)) << "not deterministic";
    std::size_t unassigned = 0;
    for (int f : a.folds) {
      ASSERT_GE(f, info.validates_all ? 0 : -1);
      ASSERT_LT(f, spec.k);
      unassigned += f < 0 ? 1 : 0;
    }
    EXPECT_EQ(unassigned == 0, info.validates_all);
    for (int f = 0; f < spec.k; ++f) {
      std::vector<std::size_t> valid = split::valid_rows(a.folds, f);
      std::vector<std::size_t> train = split::train_rows(spec, in, a.folds, f);
      EXPECT_FALSE(valid.empty()) << "fold " << f;
      EXPECT_FALSE(train.empty()) << "fold " << f;
      EXPECT_TRUE(std::is_sorted(train.begin(), train.end()));
      std::vector<std::size_t> both;
      std::set_intersection(train.begin(), train.end(), valid.begin(), valid.end(), std::back_inserter(both));
      EXPECT_TRUE(both.empty()) << "fold " << f << " trains on its validation rows";
      if (!in.groups.empty()) {
        std::set<std::int64_t> valid_groups;
        for (std::size_t r : valid) valid_groups.insert(in.groups[r]);
        for (std::size_t r : train) {
          ASSERT_FALSE(valid_groups.contains(in.groups[r])) << "group " << in.groups[r] << " in train and valid of fold " << f;
        }
      }
      if (info.validates_all) {
        EXPECT_EQ(train.size() + valid.size(), d.rows);
      }
    }
    if (info.needs_groups) {
      for (const auto& [g, fs] : folds_per_group(a.folds, in.groups)) EXPECT_EQ(fs.size(), 1u) << "group " << g;
    }
    split::Spec other = spec;
    other.seed = 43;
    if (info.uses_shuffle) {
      EXPECT_NE(split::assign_folds(other, in), a.folds) << "seed has no effect";
    } else {
      EXPECT_EQ(split::assign_folds(other, in), a.folds) << "seed changes a splitter without shuffle";
    }
  }
}

TEST(SplitRegistry, EveryRowRejectsBadInputs) {
  Data d;
  for (const split::Info& info : split::builtin()) {
    SCOPED_TRACE(info.name);
    split::Inputs in = d.inputs(info);
    split::Spec spec = spec_for(info);
    spec.k = 1;
    expect_invalid(spec, in, "k=1");
    spec.k = static_cast<int>(d.rows) + 1;
    expect_invalid(spec, in, "k=601");
    spec = spec_for(info);
    spec.strategy = info.aliases.empty() ? info.name : info.aliases.front();
    EXPECT_NO_THROW(split::assign(spec, in));
    if (info.needs_target) {
      split::Inputs bad = in;
      bad.y = bad.y.subspan(1);
      expect_invalid(spec, bad, "target");
      bad = in;
      bad.y = {};
      expect_invalid(spec, bad, "needs a target");
      std::vector<double> y(in.y.begin(), in.y.end());
      y[17] = std::numeric_limits<double>::quiet_NaN();
      bad = in;
      bad.y = y;
      expect_invalid(spec, bad, "row");
    }
    if (info.uses_groups) {
      split::Inputs bad = in;
      bad.groups = bad.groups.subspan(1);
      expect_invalid(spec, bad, "group values");
    }
    if (info.needs_groups) {
      split::Inputs bad = in;
      bad.groups = {};
      expect_invalid(spec, bad, "needs groups");
      std::vector<std::int64_t> three(d.rows);
      for (std::size_t r = 0; r < d.rows; ++r) three[r] = static_cast<std::int64_t>(r % 3);
      bad.groups = three;
      expect_invalid(spec, bad, "number of groups (3)");
    }
    split::Inputs bad = in;
    std::vector<double> short_time(d.rows - 1, 0.0);
    bad.time = short_time;
    expect_invalid(spec, bad, "time values");
  }
}

TEST(SplitRng, PinnedSequence) {
  // Folds stored in runs must not change between versions or standard libraries.
  split::Spec spec;
  spec.k = 5;
  spec.seed = 42;
  split::Inputs in;
  in.rows = 10;
  std::vector<int> folds = split::assign_folds(spec, in);
  compe::Rng rng(42);
  std::vector<int> rows(10);
  std::iota(rows.begin(), rows.end(), 0);
  rng.shuffle(std::span(rows));
  std::vector<int> expected(10);
  for (int p = 0; p < 10; ++p) expected[static_cast<std::size_t>(rows[static_cast<std::size_t>(p)])] = p / 2;
  EXPECT_EQ(folds, expected);
  compe::Rng a(1), b(1);
  for (int i = 0; i < 1000; ++i) {
    std::uint64_t n = 1 + static_cast<std::uint64_t>(i) * 7919;
    std::uint64_t x = a.below(n);
    EXPECT_LT(x, n);
    EXPECT_EQ(x, b.below(n));
  }
  // The engine's 10000th output is fixed by the C++ standard for seed 5489.
  std::mt19937_64 e;
  e.discard(9999);
  EXPECT_EQ(e(), 9981545732273789042ULL);
}

TEST(SplitNumpy, ArgsortMatchesNumpyTieOrder) {
  // np.argsort of this array (numpy 1.24.2): equal keys are not in row order.
  std::vector<std::int64_t> v = {3, 2, 2, 3, 2, 3, 3, 0, 0, 1, 1, 3, 3, 0, 1, 3, 0, 3, 0, 1,
                                 3, 1, 1, 1, 2, 1, 3, 1, 1, 2, 2, 2, 2, 3, 3, 3, 2, 2, 1, 3};
  std::vector<std::size_t> expected = {18, 7,  8,  16, 13, 19, 25, 23, 22, 21, 38, 27, 14, 10,
                                       9,  28, 32, 31, 36, 30, 4,  37, 2,  24, 1,  29, 34, 35,
                                       33, 0,  20, 17, 15, 12, 11, 6,  5,  3,  26, 39};
  EXPECT_EQ(compe::numpy_argsort(v), expected);
  // Larger inputs (heapsort fallback included) still sort.
  compe::Rng rng(3);
  for (std::size_t n : {0u, 1u, 17u, 1000u, 20000u}) {
    std::vector<std::int64_t> keys(n);
    for (auto& k : keys) k = static_cast<std::int64_t>(rng.below(5));
    std::vector<std::size_t> order = compe::numpy_argsort(keys);
    std::vector<std::size_t> sorted = order;
    std::sort(sorted.begin(), sorted.end());
    for (std::size_t i = 0; i < n; ++i) ASSERT_EQ(sorted[i], i);
    for (std::size_t i = 1; i < n; ++i) ASSERT_LE(keys[order[i - 1]], keys[order[i]]);
  }
}

TEST(SplitNumpy, PairwiseSum) {
  std::vector<double> v(300);
  for (std::size_t i = 0; i < v.size(); ++i) v[i] = 1.0 / static_cast<double>(i + 1);
  double exact = 0;
  for (double x : v) exact += x;
  EXPECT_NEAR(compe::numpy_sum(v.data(), v.size()), exact, 1e-12);
  EXPECT_EQ(compe::numpy_sum(v.data(), 0), 0.0);
  EXPECT_EQ(compe::numpy_sum(v.data(), 3, 2), v[0] + v[2] + v[4]);
}

TEST(SplitStratified, ContinuousTargetIsBinned) {
  std::vector<double> y(1000);
  compe::Rng rng(11);
  for (double& v : y) v = std::exp(static_cast<double>(rng.below(100000)) / 20000.0);
  split::Spec spec;
  spec.strategy = "stratified_kfold";
  spec.k = 5;
  spec.bins = 10;
  split::Inputs in;
  in.rows = y.size();
  in.y = y;
  in.y_is_class = false;
  std::vector<int> folds = split::assign_folds(spec, in);
  // Each fold holds 20 rows of each decile.
  std::vector<std::size_t> order(y.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return y[a] < y[b]; });
  std::map<std::pair<std::size_t, int>, int> counts;
  for (std::size_t p = 0; p < order.size(); ++p) counts[{p / 100, folds[order[p]]}]++;
  for (const auto& [key, c] : counts) EXPECT_EQ(c, 20) << "decile " << key.first << " fold " << key.second;
  // Equal values share a bin: two values, two bins of 25, 5 of each per fold.
  std::vector<double> flat(50, 3.0);
  std::fill(flat.begin() + 25, flat.end(), 7.5);
  in.rows = flat.size();
  in.y = flat;
  folds = split::assign_folds(spec, in);
  std::map<std::pair<double, int>, int> per_fold;
  for (std::size_t r = 0; r < flat.size(); ++r) per_fold[{flat[r], folds[r]}]++;
  EXPECT_EQ(per_fold.size(), 10u);
  for (const auto& [key, c] : per_fold) EXPECT_EQ(c, 5);
  // Too few members in every bin, too few bins, non-integer classes are rejected.
  std::vector<double> distinct = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
  in.rows = distinct.size();
  in.y = distinct;
  spec.bins = 12;
  expect_invalid(spec, in, "every quantile bin");
  spec.bins = 10;
  in.rows = flat.size();
  in.y = flat;
  flat.assign(50, 0.5);
  in.y_is_class = true;
  expect_invalid(spec, in, "integer class values");
  in.y_is_class = false;
  spec.bins = 1;
  expect_invalid(spec, in, "bins=1");
}

TEST(SplitStratified, RareClassWarnsAndAllRareRaises) {
  std::vector<double> y(40, 0.0);
  y[3] = 1;
  y[20] = 1;
  split::Spec spec;
  spec.strategy = "stratified_kfold";
  spec.k = 5;
  split::Inputs in;
  in.rows = y.size();
  in.y = y;
  split::Assignment a = split::assign(spec, in);
  ASSERT_EQ(a.warnings.size(), 1u);
  EXPECT_NE(a.warnings[0].find("only 2 members"), std::string::npos) << a.warnings[0];
  std::vector<double> few = {0, 0, 1, 1, 2, 2, 0, 1, 2};
  in.rows = few.size();
  in.y = few;
  spec.k = 3;
  EXPECT_TRUE(split::assign(spec, in).warnings.empty());
  spec.k = 4;
  expect_invalid(spec, in, "k=4 is greater than the number of members in every class");
}

TEST(SplitStratifiedGroup, ShuffleKeepsClassBalance) {
  // Groups with a dominant class: stratification needs the group's own counts, which a shuffle
  // that separated groups from their counts would lose.
  compe::Rng rng(5);
  std::vector<double> y;
  std::vector<std::int64_t> groups;
  for (std::int64_t g = 0; g < 2000; ++g) {
    std::uint64_t size = 1 + rng.below(12);
    double dominant = static_cast<double>(rng.below(10) < 7 ? 0 : 1 + rng.below(3));
    for (std::uint64_t i = 0; i < size; ++i) {
      groups.push_back(g);
      y.push_back(rng.below(10) < 8 ? dominant : static_cast<double>(rng.below(4)));
    }
  }
  split::Inputs in;
  in.rows = y.size();
  in.y = y;
  in.groups = groups;
  auto imbalance = [&](const std::vector<int>& folds) {
    std::map<std::pair<int, double>, double> c;
    std::map<int, double> size;
    std::map<double, double> total;
    for (std::size_t r = 0; r < y.size(); ++r) {
      c[{folds[r], y[r]}] += 1;
      size[folds[r]] += 1;
      total[y[r]] += 1;
    }
    double worst = 0;
    for (const auto& [f, s] : size) {
      for (const auto& [cls, t] : total) worst = std::max(worst, std::fabs(c[{f, cls}] / s - t / static_cast<double>(y.size())));
    }
    return worst;
  };
  split::Spec spec;
  spec.strategy = "stratified_group_kfold";
  spec.k = 5;
  std::vector<int> sgkf = split::assign_folds(spec, in);
  spec.strategy = "group_kfold";
  std::vector<int> gkf = split::assign_folds(spec, in);
  EXPECT_LT(imbalance(sgkf), 0.005);
  EXPECT_LT(imbalance(sgkf), imbalance(gkf) / 3);
  for (const auto& [g, fs] : folds_per_group(sgkf, groups)) ASSERT_EQ(fs.size(), 1u);
}

TEST(SplitTimeseries, TimeColumnOrdersRowsAndGapDropsRows) {
  // Rows given in reverse time order behave as row order reversed.
  const std::size_t n = 24;
  std::vector<double> time(n);
  for (std::size_t r = 0; r < n; ++r) time[r] = static_cast<double>(n - r);
  split::Spec spec;
  spec.strategy = "timeseries";
  spec.k = 3;
  spec.gap = 2;
  split::Inputs in;
  in.rows = n;
  std::vector<int> plain = split::assign_folds(spec, in);
  in.time = time;
  std::vector<int> timed = split::assign_folds(spec, in);
  for (std::size_t r = 0; r < n; ++r) EXPECT_EQ(timed[r], plain[n - 1 - r]);
  // 24 rows, k=3: blocks of 6; fold 1 validates time positions 12..17, trains on 0..9.
  std::vector<std::size_t> train = split::train_rows(spec, in, timed, 1);
  ASSERT_EQ(train.size(), 10u);
  for (std::size_t r : train) EXPECT_GE(r, n - 10);
  std::vector<double> bad = time;
  bad[4] = std::numeric_limits<double>::quiet_NaN();
  in.time = bad;
  expect_invalid(spec, in, "time at row 4 is NaN");
  spec.gap = 6;
  in.time = time;
  expect_invalid(spec, in, "gap=6");
  split::Spec negative = spec;
  negative.gap = -1;
  expect_invalid(negative, in, "gap=-1");
}

TEST(SplitTimeseries, GroupsArePurgedFromTraining) {
  // Weekly groups of 5 rows; blocks of 10 rows cut through weeks, so the week that straddles a
  // block start must leave training.
  const std::size_t n = 52;
  std::vector<std::int64_t> week(n);
  for (std::size_t r = 0; r < n; ++r) week[r] = static_cast<std::int64_t>((r + 2) / 5);
  split::Spec spec;
  spec.strategy = "timeseries";
  spec.k = 4;
  split::Inputs in;
  in.rows = n;
  std::vector<int> folds = split::assign_folds(spec, in);
  std::vector<std::size_t> unpurged = split::train_rows(spec, in, folds, 0);
  in.groups = week;
  std::vector<std::size_t> purged = split::train_rows(spec, in, folds, 0);
  // first_test = 52 - 4 * 10 = 12; rows 8..11 share week 2 with row 12 of the block.
  EXPECT_EQ(unpurged.size(), 12u);
  EXPECT_EQ(purged.size(), 8u);
  // One group over all rows leaves nothing to train on.
  std::vector<std::int64_t> one(n, 9);
  in.groups = one;
  expect_invalid(spec, in, "purging leaves no training rows");
}

TEST(SplitMultilabel, RejectsNonBinaryLabelsAndHandlesEmptyRows) {
  split::Spec spec;
  spec.strategy = "multilabel_stratified_kfold";
  spec.k = 3;
  std::vector<double> y = {1, 0, 0, 0, 0, 1, 0, 0, 1, 1, 0, 0, 0, 2};
  split::Inputs in;
  in.rows = 7;
  in.y = y;
  in.y_cols = 2;
  expect_invalid(spec, in, "row 6, column 1 is 2");
  y[13] = 0;
  split::Assignment a = split::assign(spec, in);
  for (int f : a.folds) EXPECT_TRUE(f >= 0 && f < 3);
  EXPECT_FALSE(a.warnings.empty());  // label 1 has 2 positives < k
  // Rare labels are spread first: the two rows with label 1 land in different folds.
  EXPECT_NE(a.folds[2], a.folds[4]);
  in.y_cols = 3;
  expect_invalid(spec, in, "rows x columns");
  spec.strategy = "stratified_kfold";
  in.y_cols = 2;
  expect_invalid(spec, in, "one target column");
}
