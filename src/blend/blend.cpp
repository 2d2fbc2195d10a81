// Blending an OofSet with nested-CV scoring, and diversity analysis.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "compe/blend.hpp"
#include "compe/error.hpp"
#include "compe/stats.hpp"
#include "compe/util.hpp"

namespace compe::blend {

bool better(const Reference& ref, double a, double b) {
  return metric::make(ref.metric)->info().greater_is_better() ? a > b : a < b;
}

std::vector<double> rank01(std::span<const double> v) {
  std::vector<double> r = stats::average_ranks(v);
  for (double& x : r) x /= static_cast<double>(v.size());
  return r;
}

// The shared helpers give NaN for degenerate input; diversity reports keep their 0.
double pearson(std::span<const double> a, std::span<const double> b) {
  const double r = stats::pearson(a, b);
  return std::isnan(r) ? 0.0 : r;
}

double spearman(std::span<const double> a, std::span<const double> b) {
  const double r = stats::spearman(a, b);
  return std::isnan(r) ? 0.0 : r;
}

namespace {

std::vector<std::span<const double>> spans(const std::vector<std::vector<double>>& v) {
  return {v.begin(), v.end()};
}

}  // namespace

Result blend(const OofSet& set, std::string_view method, const Params& params) {
  const Info& info = find(method);
  const Reference& ref = set.ref;
  const std::size_t m = set.members.size(), cols = ref.cols(), rows = ref.rows();
  if (m < 2)
    fail(ErrorCode::kInvalidArgument, "blending needs at least two members; got {}{}", m,
         m == 1 ? fmt::format(" ({})", set.members[0].name) : "");
  if (!(info.tasks & ref.task))
    fail(ErrorCode::kInvalidArgument, "blend method '{}' does not support {} tasks", info.name,
         metric::task_name(ref.task));
  if (info.same_folds && set.different_folds)
    fail(ErrorCode::kInvalidArgument,
         "blend method '{}' learns from OOF predictions and needs every member on the workspace's "
         "folds; members on "
         "other folds may only be averaged (mean, rank_mean, power_mean, geometric_mean)",
         info.name);
  Result res;
  res.method = info.name;
  for (const auto& mem : set.members) res.member_scores.push_back(score_rows(ref, mem.oof));
  for (std::size_t k = 1; k < m; ++k)
    if (better(ref, res.member_scores[k],
               res.member_scores[static_cast<std::size_t>(res.best_member)]))
      res.best_member = static_cast<int>(k);

  // Fit on every row: the in-sample OOF blend and the test blend.
  std::vector<std::span<const double>> oofs, tests;
  for (const auto& mem : set.members) oofs.emplace_back(mem.oof), tests.emplace_back(mem.test);
  FitInput all{.ref = &ref, .preds = oofs, .y_true = ref.y_true, .rows = rows};
  Fitted fitted = info.fit(all, params);
  res.weights = fitted.weights;
  res.details = fitted.details;
  res.oof = fitted.apply(oofs, rows);
  res.test = fitted.apply(tests, ref.test_ids.size());

  // Nested CV: fit on the other folds, predict the held-out fold. A method that learns nothing
  // gives the same predictions (rank_mean must rank the whole OOF, not each fold apart).
  res.nested_oof.assign(rows * cols, 0.0);
  const int k = ref.num_folds();
  for (int f = 0; f < k; ++f) {
    std::vector<std::size_t> tr, va;
    for (std::size_t r = 0; r < rows; ++r) (ref.folds[r] == f ? va : tr).push_back(r);
    if (va.empty()) continue;
    if (!info.fitted) {
      res.fold_scores.push_back(score_rows(ref, res.oof, va));
      continue;
    }
    if (tr.empty())
      fail(ErrorCode::kInvalidArgument,
           "fold {} holds every validated row: nested CV needs two folds or more", f);
    std::vector<std::vector<double>> ptr(m), pva(m);
    const std::size_t tc = ref.true_cols;
    std::vector<double> ytr(tr.size() * tc);
    for (std::size_t i = 0; i < tr.size(); ++i)
      std::copy_n(ref.y_true.begin() + static_cast<std::ptrdiff_t>(tr[i] * tc), tc,
                  ytr.begin() + static_cast<std::ptrdiff_t>(i * tc));
    for (std::size_t j = 0; j < m; ++j) {
      const auto& src = set.members[j].oof;
      ptr[j].resize(tr.size() * cols);
      pva[j].resize(va.size() * cols);
      for (std::size_t i = 0; i < tr.size(); ++i)
        std::copy_n(src.begin() + static_cast<std::ptrdiff_t>(tr[i] * cols), cols,
                    ptr[j].begin() + static_cast<std::ptrdiff_t>(i * cols));
      for (std::size_t i = 0; i < va.size(); ++i)
        std::copy_n(src.begin() + static_cast<std::ptrdiff_t>(va[i] * cols), cols,
                    pva[j].begin() + static_cast<std::ptrdiff_t>(i * cols));
    }
    FitInput in{.ref = &ref, .preds = spans(ptr), .y_true = ytr, .rows = tr.size()};
    Fitted ff = info.fit(in, params);
    std::vector<double> pred = ff.apply(spans(pva), va.size());
    for (std::size_t i = 0; i < va.size(); ++i)
      std::copy_n(pred.begin() + static_cast<std::ptrdiff_t>(i * cols), cols,
                  res.nested_oof.begin() + static_cast<std::ptrdiff_t>(va[i] * cols));
    res.fold_scores.push_back(score_rows(ref, res.nested_oof, va));
  }
  if (!info.fitted) res.nested_oof = res.oof;
  res.nested_score = score_rows(ref, res.nested_oof);
  // A stack's in-sample predictions are fitted on their own truth; its honest OOF is the nested
  // one.
  if (info.name.rfind("stack", 0) == 0) res.oof = res.nested_oof;
  res.oof_score = score_rows(ref, res.oof);
  return res;
}

Analysis analyze(const OofSet& set, std::string_view method, const Params& params) {
  const Reference& ref = set.ref;
  const std::size_t m = set.members.size(), cols = ref.cols(), rows = ref.rows();
  if (m < 2) fail(ErrorCode::kInvalidArgument, "analysis needs at least two members; got {}", m);
  Analysis a;
  a.method = std::string(method);
  std::vector<std::vector<double>> err(m), rk(m), err_rk(m);
  for (std::size_t j = 0; j < m; ++j) {
    const auto& mem = set.members[j];
    a.names.push_back(mem.name);
    a.scores.push_back(score_rows(ref, mem.oof));
    err[j].resize(rows);
    if (ref.task == metric::kMultilabel) {
      // Every cell's error: the label columns side by side.
      err[j].resize(rows * cols);
      for (std::size_t i = 0; i < rows * cols; ++i) err[j][i] = mem.oof[i] - ref.y_true[i];
    }
    for (std::size_t r = 0; r < rows && ref.task != metric::kMultilabel; ++r) {
      if (ref.task == metric::kMulticlass)
        err[j][r] = 1.0 - mem.oof[r * cols + static_cast<std::size_t>(ref.y_true[r])];
      else
        err[j][r] = mem.oof[r] - ref.y_true[r];
    }
    rk[j] = rank01(mem.oof);
    err_rk[j] = rank01(err[j]);
  }
  a.pearson.assign(m * m, 1.0);
  a.spearman.assign(m * m, 1.0);
  a.error_pearson.assign(m * m, 1.0);
  a.error_spearman.assign(m * m, 1.0);
  for (std::size_t i = 0; i < m; ++i)
    for (std::size_t j = i + 1; j < m; ++j) {
      auto put = [&](std::vector<double>& mat, double v) { mat[i * m + j] = mat[j * m + i] = v; };
      put(a.pearson, pearson(set.members[i].oof, set.members[j].oof));
      put(a.spearman, pearson(rk[i], rk[j]));
      put(a.error_pearson, pearson(err[i], err[j]));
      put(a.error_spearman, pearson(err_rk[i], err_rk[j]));
    }
  // Clustered ordering: start from the best member, then always the remaining member most
  // correlated with the last one placed.
  std::vector<bool> used(m, false);
  std::size_t cur = 0;
  for (std::size_t j = 1; j < m; ++j)
    if (better(ref, a.scores[j], a.scores[cur])) cur = j;
  for (std::size_t step = 0; step < m; ++step) {
    a.order.push_back(static_cast<int>(cur));
    used[cur] = true;
    std::size_t next = m;
    for (std::size_t j = 0; j < m; ++j)
      if (!used[j] && (next == m || a.spearman[cur * m + j] > a.spearman[cur * m + next])) next = j;
    if (next == m) break;
    cur = next;
  }
  // Marginal gains on nested CV.
  const bool greater = metric::make(ref.metric)->info().greater_is_better();
  a.all_score = blend(set, method, params).nested_score;
  for (std::size_t j = 0; j < m; ++j) {
    OofSet others;
    others.ref = ref;
    others.different_folds = set.different_folds;
    for (std::size_t i = 0; i < m; ++i)
      if (i != j) others.members.push_back(set.members[i]);
    double without = others.members.size() >= 2 ? blend(others, method, params).nested_score
                                                : score_rows(ref, others.members[0].oof);
    a.marginal_gain.push_back(greater ? a.all_score - without : without - a.all_score);
  }
  return a;
}

}  // namespace compe::blend
