// Splitters against scikit-learn 1.2.1 (tests/golden/gen/gen_splits.py,
// tests/golden/REFERENCES-splits.md): exact folds where the reference is deterministic, properties
// where it shuffles or where there is no reference (multilabel).

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "compe/error.hpp"
#include "compe/split.hpp"
#include "compe/util.hpp"

namespace fs = std::filesystem;
namespace split = compe::split;
using nlohmann::json;

namespace {

struct Case {
  json doc;
  std::string file;
  std::vector<double> y;
  std::vector<std::int64_t> groups;
  std::vector<double> time;
  split::Spec spec;
  split::Inputs in;

  std::string label() const { return file + ": " + doc.at("name").get<std::string>(); }
};

std::vector<Case> load_cases(const std::string& check) {
  std::vector<Case> out;
  fs::path dir = fs::path(COMPE_TEST_DATA) / "golden" / "cases" / "splits";
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".json") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  for (const fs::path& p : files) {
    json doc = json::parse(compe::read_file(p));
    for (const json& c : doc.at("cases")) {
      if (c.at("check") != check) continue;
      Case k;
      k.doc = c;
      k.file = p.filename().string();
      if (c.contains("y")) k.y = c.at("y").get<std::vector<double>>();
      if (c.contains("groups")) k.groups = c.at("groups").get<std::vector<std::int64_t>>();
      if (c.contains("time")) k.time = c.at("time").get<std::vector<double>>();
      k.spec.strategy = c.at("strategy").get<std::string>();
      k.spec.k = c.at("k").get<int>();
      k.spec.shuffle = c.at("shuffle").get<bool>();
      k.spec.seed = c.at("seed").get<std::uint64_t>();
      k.spec.gap = c.at("gap").get<int>();
      out.push_back(std::move(k));
    }
  }
  for (Case& k : out) {
    k.in.rows = k.doc.at("rows").get<std::size_t>();
    k.in.y = k.y;
    k.in.y_cols = k.doc.value("y_cols", std::size_t{1});
    k.in.groups = k.groups;
    k.in.time = k.time;
  }
  return out;
}

std::vector<int> ints(const json& j) { return j.get<std::vector<int>>(); }

// Max over folds and classes of |share of the class in the fold - share in all rows|.
double class_imbalance(std::span<const int> folds, std::span<const double> y, int k) {
  std::map<double, double> total;
  std::vector<std::map<double, double>> per_fold(static_cast<std::size_t>(k));
  std::vector<double> size(static_cast<std::size_t>(k), 0);
  for (std::size_t r = 0; r < y.size(); ++r) {
    total[y[r]] += 1;
    per_fold[static_cast<std::size_t>(folds[r])][y[r]] += 1;
    size[static_cast<std::size_t>(folds[r])] += 1;
  }
  double worst = 0;
  for (std::size_t f = 0; f < size.size(); ++f) {
    for (const auto& [c, t] : total) {
      double share = size[f] > 0 ? per_fold[f][c] / size[f] : 0;
      worst = std::max(worst, std::fabs(share - t / static_cast<double>(y.size())));
    }
  }
  return worst;
}

// Mean over folds and labels of |positive share of the label in the fold - in all rows| (the
// "label distribution" measure of Sechidis et al.), and the max of the same.
std::pair<double, double> label_imbalance(std::span<const int> folds, std::span<const double> y,
                                          std::size_t cols, int k) {
  const std::size_t n = folds.size();
  std::vector<double> total(cols, 0), size(static_cast<std::size_t>(k), 0);
  std::vector<double> pos(static_cast<std::size_t>(k) * cols, 0);
  for (std::size_t r = 0; r < n; ++r) {
    auto f = static_cast<std::size_t>(folds[r]);
    size[f] += 1;
    for (std::size_t l = 0; l < cols; ++l) {
      total[l] += y[r * cols + l];
      pos[f * cols + l] += y[r * cols + l];
    }
  }
  double sum = 0, worst = 0;
  for (std::size_t f = 0; f < size.size(); ++f) {
    for (std::size_t l = 0; l < cols; ++l) {
      double d = std::fabs(pos[f * cols + l] / size[f] - total[l] / static_cast<double>(n));
      sum += d;
      worst = std::max(worst, d);
    }
  }
  return {sum / static_cast<double>(size.size() * cols), worst};
}

std::vector<std::size_t> fold_sizes(std::span<const int> folds, int k) {
  std::vector<std::size_t> s(static_cast<std::size_t>(k), 0);
  for (int f : folds) s[static_cast<std::size_t>(f)]++;
  return s;
}

void expect_groups_whole(std::span<const int> folds, std::span<const std::int64_t> groups) {
  std::map<std::int64_t, int> fold_of;
  for (std::size_t r = 0; r < folds.size(); ++r) {
    auto [it, added] = fold_of.emplace(groups[r], folds[r]);
    ASSERT_EQ(it->second, folds[r]) << "group " << groups[r] << " is in two folds";
  }
}

}  // namespace

TEST(SplitGolden, CasesAreThere) {
  EXPECT_GE(load_cases("exact").size(), 20u);
  EXPECT_GE(load_cases("properties").size(), 4u);
  EXPECT_GE(load_cases("error").size(), 3u);
  EXPECT_GE(load_cases("multilabel").size(), 4u);
}

TEST(SplitGolden, ExactFolds) {
  for (Case& c : load_cases("exact")) {
    SCOPED_TRACE(c.label());
    split::Assignment a = split::assign(c.spec, c.in);
    const std::vector<int> expected = ints(c.doc.at("folds"));
    EXPECT_EQ(a.folds, expected);
    EXPECT_EQ(!a.warnings.empty(), c.doc.value("warns", false));
    for (int f = 0; f < c.spec.k; ++f) {
      std::vector<std::size_t> valid = split::valid_rows(a.folds, f);
      std::vector<std::size_t> train = split::train_rows(c.spec, c.in, a.folds, f);
      if (c.doc.contains("train")) {
        EXPECT_EQ(train, c.doc.at("train").at(static_cast<std::size_t>(f)).get<std::vector<std::size_t>>())
            << "fold " << f;
        EXPECT_EQ(valid, c.doc.at("valid").at(static_cast<std::size_t>(f)).get<std::vector<std::size_t>>())
            << "fold " << f;
      } else {
        EXPECT_EQ(train.size() + valid.size(), c.in.rows) << "fold " << f;
      }
    }
  }
}

TEST(SplitGolden, ErrorsWhereTheReferenceRaises) {
  for (Case& c : load_cases("error")) {
    SCOPED_TRACE(c.label() + " (reference: " + c.doc.at("message").get<std::string>() + ")");
    try {
      split::assign(c.spec, c.in);
      ADD_FAILURE() << "expected an error";
    } catch (const compe::Error& e) {
      EXPECT_EQ(e.code(), compe::ErrorCode::kInvalidArgument);
    }
  }
}

TEST(SplitGolden, ShuffledPropertiesMatchTheReference) {
  int checked = 0;
  for (Case& c : load_cases("properties")) {
    SCOPED_TRACE(c.label());
    const std::vector<int> ref = ints(c.doc.at("reference_folds"));
    const std::vector<int> got = split::assign_folds(c.spec, c.in);
    ASSERT_EQ(got.size(), ref.size());
    split::Spec unshuffled = c.spec;
    unshuffled.shuffle = false;
    EXPECT_NE(got, split::assign_folds(unshuffled, c.in)) << "shuffle changed nothing";
    std::vector<std::size_t> got_sizes = fold_sizes(got, c.spec.k);
    std::vector<std::size_t> ref_sizes = fold_sizes(ref, c.spec.k);
    const std::string& s = c.spec.strategy;
    if (s == "kfold") {
      EXPECT_EQ(got_sizes, ref_sizes);
    } else if (s == "stratified_kfold") {
      // The per-fold class counts are fixed before the shuffle: identical to the reference's.
      std::map<std::pair<int, double>, int> got_counts, ref_counts;
      for (std::size_t r = 0; r < got.size(); ++r) {
        got_counts[{got[r], c.y[r]}]++;
        ref_counts[{ref[r], c.y[r]}]++;
      }
      EXPECT_EQ(got_counts, ref_counts);
    } else if (s == "group_kfold") {
      // Only the order of equal-sized groups is random, so the fold sizes are the reference's.
      EXPECT_EQ(got_sizes, ref_sizes);
      expect_groups_whole(got, c.groups);
    } else if (s == "stratified_group_kfold") {
      expect_groups_whole(got, c.groups);
      const std::vector<int> ref_plain = ints(c.doc.at("reference_unshuffled_folds"));
      double mine = class_imbalance(got, c.y, c.spec.k);
      double theirs = class_imbalance(ref, c.y, c.spec.k);
      double theirs_plain = class_imbalance(ref_plain, c.y, c.spec.k);
      EXPECT_LE(mine, theirs) << "reference shuffled: " << theirs;
      EXPECT_LE(mine, 1.5 * theirs_plain) << "reference unshuffled: " << theirs_plain;
      auto spread = [](const std::vector<std::size_t>& v) {
        return *std::max_element(v.begin(), v.end()) - *std::min_element(v.begin(), v.end());
      };
      EXPECT_LE(spread(got_sizes), std::max(spread(ref_sizes), spread(fold_sizes(ref_plain, c.spec.k))));
    } else {
      ADD_FAILURE() << "no property check for " << s;
    }
    ++checked;
  }
  EXPECT_GE(checked, 4);
}

TEST(SplitGolden, MultilabelBeatsRandomBaseline) {
  for (Case& c : load_cases("multilabel")) {
    SCOPED_TRACE(c.label());
    split::Assignment a = split::assign(c.spec, c.in);
    const std::vector<int>& got = a.folds;
    const std::vector<int> baseline = ints(c.doc.at("baseline_folds"));
    ASSERT_EQ(got.size(), c.in.rows);
    for (int f : got) ASSERT_TRUE(f >= 0 && f < c.spec.k);
    if (!c.groups.empty()) expect_groups_whole(got, c.groups);
    std::vector<std::size_t> sizes = fold_sizes(got, c.spec.k);
    std::size_t ideal = c.in.rows / static_cast<std::size_t>(c.spec.k);
    for (std::size_t s : sizes) {
      EXPECT_GT(s, ideal * 9 / 10);
      EXPECT_LT(s, ideal * 11 / 10 + 1);
    }
    auto [mean_got, max_got] = label_imbalance(got, c.y, c.in.y_cols, c.spec.k);
    auto [mean_base, max_base] = label_imbalance(baseline, c.y, c.in.y_cols, c.spec.k);
    EXPECT_LT(mean_got, 0.6 * mean_base) << "mean |share - global|: " << mean_got << " vs random "
                                         << mean_base;
    EXPECT_LT(max_got, max_base) << "max |share - global|: " << max_got << " vs random " << max_base;
    RecordProperty(c.doc.at("name").get<std::string>() + "_label_imbalance", std::to_string(mean_got));
  }
}
