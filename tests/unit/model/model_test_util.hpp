#pragma once
// Synthetic data sets and small helpers shared by the model tests.

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numeric>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "compe/model.hpp"
#include "compe/table.hpp"

namespace compe::model::testing {

struct Synthetic {
  Table train;
  Table test;
  Column target;
};

// n train rows, m test rows: numeric x0..x3 (x3 with missing values), categorical "city".
// binary: y = [x0 + 0.5 x1 + city effect + noise > 0]; multiclass: 3 classes by the same score;
// regression: y = 2 x0 - x1 + city effect + noise.
inline Synthetic make_synthetic(Task task, std::size_t n, std::size_t m, std::uint32_t seed = 7) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> norm(0.0, 1.0);
  std::uniform_int_distribution<int> pick(0, 2);
  const char* cities[] = {"lyon", "oslo", "rome"};
  const double effect[] = {-1.0, 0.0, 1.0};
  Synthetic s;
  for (int side = 0; side < 2; ++side) {
    std::size_t rows = side == 0 ? n : m;
    std::vector<double> x0(rows), x1(rows), x2(rows), x3(rows), y(rows);
    std::vector<std::optional<std::string>> city(rows);
    std::vector<std::int64_t> id(rows);
    std::vector<std::optional<std::string>> labels(rows);
    for (std::size_t i = 0; i < rows; ++i) {
      x0[i] = norm(rng);
      x1[i] = norm(rng);
      x2[i] = norm(rng);
      x3[i] = (i % 7 == 3) ? std::nan("") : norm(rng);
      int c = pick(rng);
      city[i] = cities[c];
      double noise = 0.3 * norm(rng);
      double score = x0[i] + 0.5 * x1[i] + effect[c] + noise;
      id[i] = static_cast<std::int64_t>(side * 100000 + i);
      if (task == Task::kBinary) y[i] = score > 0 ? 1 : 0;
      if (task == Task::kMulticlass) labels[i] = score < -0.7 ? "low" : (score < 0.7 ? "mid" : "high");
      if (task == Task::kRegression) y[i] = 2 * x0[i] - x1[i] + effect[c] + noise;
    }
    Table& t = side == 0 ? s.train : s.test;
    t.source = side == 0 ? "train.csv" : "test.csv";
    t.add_column(Column::from_i64("id", id));
    t.add_column(Column::from_f64("x0", x0));
    t.add_column(Column::from_f64("x1", x1));
    t.add_column(Column::from_f64("x2", x2));
    t.add_column(Column::from_f64("x3", x3));
    t.add_column(Column::from_strings("city", city));
    if (side == 0) {
      s.target = task == Task::kMulticlass ? Column::from_strings("y", labels) : Column::from_f64("y", y);
      s.train.add_column(s.target);
    }
  }
  return s;
}

inline FeatureSpec default_spec() {
  FeatureSpec spec;
  spec.id_column = "id";
  spec.target_columns = {"y"};
  return spec;
}

// Mann-Whitney AUC of scores against 0/1 labels.
inline double auc(const std::vector<double>& y, const std::vector<double>& score) {
  std::vector<std::size_t> order(y.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](auto a, auto b) { return score[a] < score[b]; });
  double rank_sum = 0, pos = 0;
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i;
    while (j < order.size() && score[order[j]] == score[order[i]]) ++j;
    double avg_rank = 0.5 * static_cast<double>(i + j + 1);
    for (std::size_t t = i; t < j; ++t)
      if (y[order[t]] == 1) rank_sum += avg_rank, ++pos;
    i = j;
  }
  double neg = static_cast<double>(y.size()) - pos;
  return (rank_sum - pos * (pos + 1) / 2) / (pos * neg);
}

// Rows [0, n) split into train (i % folds != fold) and valid (i % folds == fold).
inline void split_rows(std::size_t n, std::size_t folds, std::size_t fold,
                       std::vector<std::size_t>& train, std::vector<std::size_t>& valid) {
  train.clear();
  valid.clear();
  for (std::size_t i = 0; i < n; ++i) (i % folds == fold ? valid : train).push_back(i);
}

inline std::vector<double> take(const std::vector<double>& y, const std::vector<std::size_t>& rows) {
  std::vector<double> out;
  for (auto r : rows) out.push_back(y[r]);
  return out;
}

}  // namespace compe::model::testing
