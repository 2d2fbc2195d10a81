// Fold-safe pseudo-label selection (include/compe/pseudo.hpp).
#include <algorithm>
#include <cmath>
#include <numeric>

#include <fmt/format.h>

#include "compe/error.hpp"
#include "compe/pseudo.hpp"

namespace compe::pseudo {

namespace {

void check_rule(const FoldPredictions& p, const Rule& r) {
  const bool regression = p.task == Task::kRegression;
  auto unit = [](const char* name, double v) {
    if (!(v > 0.0 && v <= 1.0))
      fail(ErrorCode::kInvalidArgument, "pseudo: {} = {}, expected a value in (0, 1]", name, v);
  };
  if (r.threshold) unit("threshold", *r.threshold);
  for (const auto& [c, t] : r.class_threshold) {
    if (c < 0 || static_cast<std::size_t>(c) >= (p.task == Task::kBinary ? 2 : p.columns))
      fail(ErrorCode::kInvalidArgument, "pseudo: a threshold for class {}, which the source run does not have", c);
    unit("class threshold", t);
  }
  if (r.top_share) unit("top_share", *r.top_share);
  if (r.top_k && *r.top_k == 0) fail(ErrorCode::kInvalidArgument, "pseudo: top_k = 0, expected at least 1");
  if (!(r.max_share > 0.0) || !std::isfinite(r.max_share))
    fail(ErrorCode::kInvalidArgument, "pseudo: max_share = {}, expected a positive share of the training rows",
         r.max_share);
  if (r.max_spread && !(*r.max_spread >= 0.0))
    fail(ErrorCode::kInvalidArgument, "pseudo: max_spread = {}, expected a value >= 0", *r.max_spread);
  if (regression) {
    if (!r.max_spread)
      fail(ErrorCode::kInvalidArgument,
           "pseudo: a regression source needs max_spread (the largest fold-to-fold standard deviation kept)");
    if (r.threshold || !r.class_threshold.empty() || r.top_k || r.top_share || r.soft)
      fail(ErrorCode::kInvalidArgument,
           "pseudo: threshold, top_k, top_share and soft labels are for classification; regression takes max_spread");
  } else {
    if (r.max_spread)
      fail(ErrorCode::kInvalidArgument, "pseudo: max_spread is for regression; classification takes threshold, top_k or top_share");
    if (!r.threshold && r.class_threshold.empty() && !r.top_k && !r.top_share)
      fail(ErrorCode::kInvalidArgument, "pseudo: no selection rule: give threshold, top_k or top_share");
    if (r.top_k && r.top_share)
      fail(ErrorCode::kInvalidArgument, "pseudo: give top_k or top_share, not both");
  }
}

void check_predictions(const FoldPredictions& p) {
  if (p.values.empty()) fail(ErrorCode::kInvalidArgument, "pseudo: the source run has no per-fold test predictions");
  if (p.columns == 0 || (p.task == Task::kMulticlass && p.columns < 2))
    fail(ErrorCode::kInvalidArgument, "pseudo: {} prediction columns for a {} source", p.columns,
         p.task == Task::kMulticlass ? "multiclass" : "single-column");
  if (p.train_rows_per_fold.size() != p.values.size())
    fail(ErrorCode::kInvalidArgument, "pseudo: {} fold training sizes for {} folds", p.train_rows_per_fold.size(),
         p.values.size());
  for (std::size_t f = 0; f < p.values.size(); ++f) {
    if (p.values[f].size() != p.rows * p.columns)
      fail(ErrorCode::kInvalidArgument, "pseudo: fold {} has {} test values, expected {} rows x {} columns", f,
           p.values[f].size(), p.rows, p.columns);
    for (std::size_t i = 0; i < p.values[f].size(); ++i) {
      const double v = p.values[f][i];
      const bool ok = p.task == Task::kRegression ? std::isfinite(v) : (v >= 0.0 && v <= 1.0);
      if (!ok)
        fail(ErrorCode::kInvalidArgument, "pseudo: fold {} test row {} column {}: prediction {} is not {}", f,
             i / p.columns + 1, i % p.columns + 1, v,
             p.task == Task::kRegression ? "finite" : "a probability in [0, 1]");
    }
  }
}

/// Class probabilities of one test row as a small vector (binary: 1 - p, p).
std::vector<double> probs(const FoldPredictions& p, const std::vector<double>& v, std::size_t row) {
  if (p.task == Task::kBinary) return {1.0 - v[row], v[row]};
  return {v.begin() + static_cast<std::ptrdiff_t>(row * p.columns),
          v.begin() + static_cast<std::ptrdiff_t>((row + 1) * p.columns)};
}

struct Candidate {
  std::size_t row;
  int cls;
  double confidence;
  std::vector<double> p;
};

std::vector<Row> to_rows(const std::vector<Candidate>& kept, bool soft) {
  std::vector<Row> out;
  for (const auto& c : kept) {
    if (!soft) {
      out.push_back({c.row, static_cast<double>(c.cls), 1.0});
      continue;
    }
    for (std::size_t k = 0; k < c.p.size(); ++k)  // one weighted row per class with mass
      if (c.p[k] > 0.0) out.push_back({c.row, static_cast<double>(k), c.p[k]});
  }
  return out;
}

std::vector<Row> select_classification(const FoldPredictions& p, const std::vector<double>& v, const Rule& r,
                                       std::size_t train_rows) {
  const std::size_t classes = p.task == Task::kBinary ? 2 : p.columns;
  std::vector<std::vector<Candidate>> by_class(classes);
  for (std::size_t row = 0; row < p.rows; ++row) {
    auto pr = probs(p, v, row);
    const auto best = static_cast<int>(std::max_element(pr.begin(), pr.end()) - pr.begin());
    const double conf = pr[static_cast<std::size_t>(best)];
    const auto it = r.class_threshold.find(best);
    const std::optional<double> t = it != r.class_threshold.end() ? std::optional<double>(it->second) : r.threshold;
    if (t && conf < *t) continue;
    if (!t && !r.class_threshold.empty() && !r.top_k && !r.top_share) continue;  // only listed classes
    by_class[static_cast<std::size_t>(best)].push_back({row, best, conf, std::move(pr)});
  }
  std::vector<Candidate> kept;
  for (auto& cands : by_class) {
    std::stable_sort(cands.begin(), cands.end(),
                     [](const Candidate& a, const Candidate& b) { return a.confidence > b.confidence; });
    std::size_t n = cands.size();
    if (r.top_k) n = std::min(n, *r.top_k);
    if (r.top_share) n = std::min(n, static_cast<std::size_t>(std::floor(*r.top_share * static_cast<double>(p.rows))));
    kept.insert(kept.end(), std::make_move_iterator(cands.begin()),
                std::make_move_iterator(cands.begin() + static_cast<std::ptrdiff_t>(n)));
  }
  const auto cap = static_cast<std::size_t>(std::floor(r.max_share * static_cast<double>(train_rows)));
  if (kept.size() > cap) {
    std::stable_sort(kept.begin(), kept.end(),
                     [](const Candidate& a, const Candidate& b) { return a.confidence > b.confidence; });
    kept.resize(cap);
  }
  std::sort(kept.begin(), kept.end(), [](const Candidate& a, const Candidate& b) { return a.row < b.row; });
  return to_rows(kept, r.soft);
}

std::vector<double> spread(const FoldPredictions& p) {
  std::vector<double> out(p.rows, 0.0);
  const double folds = static_cast<double>(p.values.size());
  for (std::size_t row = 0; row < p.rows; ++row) {
    double mean = 0.0;
    for (const auto& v : p.values) mean += v[row];
    mean /= folds;
    double ss = 0.0;
    for (const auto& v : p.values) ss += (v[row] - mean) * (v[row] - mean);
    out[row] = p.values.size() > 1 ? std::sqrt(ss / (folds - 1.0)) : 0.0;
  }
  return out;
}

std::vector<Row> select_regression(const FoldPredictions& p, const std::vector<double>& v,
                                   const std::vector<double>& sd, const Rule& r, std::size_t train_rows) {
  std::vector<std::pair<double, std::size_t>> kept;
  for (std::size_t row = 0; row < p.rows; ++row)
    if (sd[row] <= *r.max_spread) kept.emplace_back(sd[row], row);
  const auto cap = static_cast<std::size_t>(std::floor(r.max_share * static_cast<double>(train_rows)));
  if (kept.size() > cap) {
    std::stable_sort(kept.begin(), kept.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    kept.resize(cap);
  }
  std::sort(kept.begin(), kept.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
  std::vector<Row> out;
  for (const auto& [s, row] : kept) out.push_back({row, v[row], 1.0});
  return out;
}

}  // namespace

Selection select(const FoldPredictions& p, const Rule& rule) {
  check_predictions(p);
  check_rule(p, rule);
  Selection out;
  out.source = rule.source;
  std::vector<double> average;
  if (rule.source == Source::kFoldAverage) {
    average.assign(p.rows * p.columns, 0.0);
    for (const auto& v : p.values)
      for (std::size_t i = 0; i < v.size(); ++i) average[i] += v[i] / static_cast<double>(p.values.size());
  }
  std::vector<double> sd;
  if (p.task == Task::kRegression) {
    sd = spread(p);
    out.selection_reads_other_folds = p.values.size() > 1;
  }
  for (std::size_t f = 0; f < p.values.size(); ++f) {
    const auto& v = rule.source == Source::kFoldAverage ? average : p.values[f];
    out.per_fold.push_back(p.task == Task::kRegression
                               ? select_regression(p, v, sd, rule, p.train_rows_per_fold[f])
                               : select_classification(p, v, rule, p.train_rows_per_fold[f]));
  }
  auto distinct = [&](std::size_t f) {
    std::size_t n = 0;
    for (std::size_t i = 0; i < out.per_fold[f].size(); ++i)
      n += i == 0 || out.per_fold[f][i].test_row != out.per_fold[f][i - 1].test_row;
    return n;
  };
  std::string counts;
  bool all_everything = true;
  for (std::size_t f = 0; f < out.per_fold.size(); ++f) {
    counts += fmt::format("{}fold {}: {}", f ? ", " : "", f, distinct(f));
    all_everything = all_everything && distinct(f) == p.rows;
  }
  for (std::size_t f = 0; f < out.per_fold.size(); ++f)
    if (distinct(f) == 0)
      fail(ErrorCode::kInvalidArgument,
           "pseudo: the rule selects no test row in fold {} ({} of {} test rows): lower the threshold or use top_k",
           f, counts, p.rows);
  if (all_everything && p.rows > 1)
    fail(ErrorCode::kInvalidArgument,
         "pseudo: the rule selects all {} test rows in every fold: every prediction is kept, however unsure; raise "
         "the threshold or use top_k / top_share",
         p.rows);
  return out;
}

}  // namespace compe::pseudo
