// The blend method registry: one row per method, with the algorithms it names.
#include <algorithm>
#include <cmath>
#include <exception>
#include <memory>
#include <numeric>
#include <optional>
#include <random>

#include <omp.h>

#include "blend/candidate_auc.hpp"
#include "compe/blend.hpp"
#include "compe/error.hpp"
#include "compe/registry.hpp"
#include "compe/model.hpp"
#include "compe/util.hpp"

namespace compe::blend {

namespace {

using Preds = std::vector<std::span<const double>>;

std::size_t cols_of(const FitInput& in) {
  return in.ref->cols();
}

/// sum_m w[m] * preds[m], rows x cols.
std::vector<double> weighted_sum(const Preds& preds, std::span<const double> w, std::size_t n) {
  std::vector<double> out(n, 0.0);
  for (std::size_t m = 0; m < preds.size(); ++m) {
    if (w[m] == 0.0) continue;
    const double* p = preds[m].data();
    const double wm = w[m];
    for (std::size_t i = 0; i < n; ++i) out[i] += wm * p[i];
  }
  return out;
}

/// Rows of a multiclass matrix rescaled to sum to one (other tasks unchanged).
void normalise_rows(std::vector<double>& v, std::size_t cols, metric::Task task) {
  if (task != metric::kMulticlass) return;
  for (std::size_t r = 0; r * cols < v.size(); ++r) {
    double s = 0;
    for (std::size_t j = 0; j < cols; ++j) s += v[r * cols + j];
    if (s > 0)
      for (std::size_t j = 0; j < cols; ++j) v[r * cols + j] /= s;
  }
}

Fitted fixed_weights(std::vector<double> w) {
  Fitted f;
  f.weights = w;
  f.apply = [w](const Preds& preds, std::size_t) {
    return weighted_sum(preds, w, preds.at(0).size());
  };
  return f;
}

std::vector<double> equal(std::size_t m) {
  return std::vector<double>(m, 1.0 / static_cast<double>(m));
}

Fitted fit_mean(const FitInput& in, const Params&) {
  return fixed_weights(equal(in.preds.size()));
}

Fitted fit_rank_mean(const FitInput& in, const Params&) {
  Fitted f;
  f.weights = equal(in.preds.size());
  f.details = {
      {"ranks", "average ranks scaled to [0, 1] within the rows blended (test ranked on its own); "
                "multilabel: each column ranked on its own"}};
  f.apply = [cols = cols_of(in)](const Preds& preds, std::size_t rows) {
    std::vector<double> out(rows * cols, 0.0), column(rows);
    for (const auto& p : preds)
      for (std::size_t j = 0; j < cols; ++j) {
        for (std::size_t i = 0; i < rows; ++i) column[i] = p[i * cols + j];
        std::vector<double> r = rank01(column);
        for (std::size_t i = 0; i < rows; ++i) out[i * cols + j] += r[i] / static_cast<double>(preds.size());
      }
    return out;
  };
  return f;
}

Fitted fit_power_mean(const FitInput& in, const Params& params) {
  const double p = params.power;
  if (p == 0.0 || !std::isfinite(p))
    fail(ErrorCode::kInvalidArgument,
         "power_mean: p = {} is not allowed: use a finite p != 0 (p = 0 is geometric_mean)", p);
  const metric::Task task = in.ref->task;
  Fitted f;
  f.weights = equal(in.preds.size());
  f.details = {{"p", p}};
  f.apply = [p, task, cols = cols_of(in)](const Preds& preds, std::size_t rows) {
    const std::size_t n = rows * cols;
    std::vector<double> out(n, 0.0);
    const double inv_m = 1.0 / static_cast<double>(preds.size());
    for (const auto& pr : preds)
      for (std::size_t i = 0; i < n; ++i) {
        if (pr[i] < 0)
          fail(ErrorCode::kInvalidArgument,
               "power_mean needs non-negative predictions; found {} (row {})", pr[i], i / cols);
        out[i] += std::pow(pr[i], p) * inv_m;
      }
    for (auto& v : out) v = std::pow(v, 1.0 / p);
    normalise_rows(out, cols, task);
    return out;
  };
  return f;
}

Fitted fit_geometric_mean(const FitInput& in, const Params&) {
  const metric::Task task = in.ref->task;
  Fitted f;
  f.weights = equal(in.preds.size());
  f.apply = [task, cols = cols_of(in)](const Preds& preds, std::size_t rows) {
    const std::size_t n = rows * cols;
    std::vector<double> out(n, 0.0);
    const double inv_m = 1.0 / static_cast<double>(preds.size());
    // Probabilities are floored so that one model's zero does not zero the blend.
    const double floor = task == metric::kRegression ? 0.0 : 1e-15;
    for (const auto& pr : preds)
      for (std::size_t i = 0; i < n; ++i) {
        if (task == metric::kRegression && pr[i] <= 0)
          fail(ErrorCode::kInvalidArgument,
               "geometric_mean needs positive predictions; found {} (row {})", pr[i], i / cols);
        out[i] += std::log(std::max(pr[i], floor)) * inv_m;
      }
    for (auto& v : out) v = std::exp(v);
    normalise_rows(out, cols, task);
    return out;
  };
  return f;
}

/// Scores a blend of the fit rows with the reference's metric.
struct Objective {
  const FitInput& in;
  std::unique_ptr<metric::Metric> metric;
  bool greater;
  explicit Objective(const FitInput& i)
      : in(i), metric(metric::make(i.ref->metric)), greater(metric->info().greater_is_better()) {}
  double operator()(std::span<const double> pred) const {
    return metric->score(
        {.y_true = in.y_true, .true_cols = in.ref->true_cols, .y_pred = pred, .pred_cols = in.ref->cols()});
  }
  /// Strictly better, ignoring differences at rounding level (so that ties never cycle).
  bool better(double a, double b) const {
    double eps = 1e-12 * std::max(1.0, std::abs(b));
    return greater ? a > b + eps : a < b - eps;
  }
};

/// Solves the small dense system A x = b (d x d) by Gaussian elimination with partial pivoting;
/// false when singular.
bool solve_dense(std::vector<double> a, std::vector<double>& b, std::size_t d) {
  for (std::size_t c = 0; c < d; ++c) {
    std::size_t piv = c;
    for (std::size_t r = c + 1; r < d; ++r)
      if (std::abs(a[r * d + c]) > std::abs(a[piv * d + c])) piv = r;
    if (std::abs(a[piv * d + c]) < 1e-300) return false;
    if (piv != c) {
      for (std::size_t k = 0; k < d; ++k) std::swap(a[c * d + k], a[piv * d + k]);
      std::swap(b[c], b[piv]);
    }
    for (std::size_t r = c + 1; r < d; ++r) {
      double f = a[r * d + c] / a[c * d + c];
      if (f == 0) continue;
      for (std::size_t k = c; k < d; ++k) a[r * d + k] -= f * a[c * d + k];
      b[r] -= f * b[c];
    }
  }
  for (std::size_t c = d; c-- > 0;) {
    for (std::size_t k = c + 1; k < d; ++k) b[c] -= a[c * d + k] * b[k];
    b[c] /= a[c * d + c];
  }
  return true;
}

/// Binary log loss of the blend P w (probabilities clipped like the metric).
double binary_log_loss(const FitInput& in, std::span<const double> w, std::vector<double>& p) {
  p = weighted_sum(in.preds, w, in.rows);
  double s = 0;
  for (std::size_t r = 0; r < in.rows; ++r) {
    double q = std::clamp(p[r], 1e-15, 1 - 1e-15);
    s -= in.y_true[r] > 0.5 ? std::log(q) : std::log(1 - q);
  }
  return s / static_cast<double>(in.rows);
}

/// Binary log loss is convex in the weights: a projected Newton method with an active set on the
/// simplex (analytic gradient and Hessian, Armijo backtracking) reaches its minimum in a few
/// iterations. Returns nullopt when it does not converge.
std::optional<std::vector<double>> newton_log_loss(const FitInput& in, int* iterations) {
  const std::size_t m = in.preds.size(), n = in.rows;
  std::vector<double> w = equal(m), p, a(n), h(n);
  std::vector<bool> free(m, true);
  double f = binary_log_loss(in, w, p);
  for (int it = 0; it < 100; ++it) {
    *iterations = it + 1;
    for (std::size_t r = 0; r < n; ++r) {
      double q = std::clamp(p[r], 1e-15, 1 - 1e-15), y = in.y_true[r];
      a[r] = -(y / q - (1 - y) / (1 - q)) / static_cast<double>(n);
      h[r] = (y / (q * q) + (1 - y) / ((1 - q) * (1 - q))) / static_cast<double>(n);
    }
    std::vector<double> g(m, 0.0), hess(m * m, 0.0);
    for (std::size_t j = 0; j < m; ++j) {
      const double* pj = in.preds[j].data();
      double gj = 0;
      for (std::size_t r = 0; r < n; ++r) gj += a[r] * pj[r];
      g[j] = gj;
      for (std::size_t k = 0; k <= j; ++k) {
        const double* pk = in.preds[k].data();
        double s = 0;
        for (std::size_t r = 0; r < n; ++r) s += h[r] * pj[r] * pk[r];
        hess[j * m + k] = hess[k * m + j] = s;
      }
    }
    // Newton step on the free weights, keeping their sum: [H_FF 1; 1' 0][d; nu] = [-g_F; 0].
    std::vector<std::size_t> fr;
    for (std::size_t j = 0; j < m; ++j)
      if (free[j]) fr.push_back(j);
    const std::size_t d = fr.size() + 1;
    double trace = 0;
    for (std::size_t j = 0; j < m; ++j) trace += hess[j * m + j];
    std::vector<double> kkt(d * d, 0.0), rhs(d, 0.0);
    for (std::size_t i = 0; i < fr.size(); ++i) {
      for (std::size_t k = 0; k < fr.size(); ++k) kkt[i * d + k] = hess[fr[i] * m + fr[k]];
      kkt[i * d + i] += 1e-12 * trace;
      kkt[i * d + fr.size()] = kkt[fr.size() * d + i] = 1;
      rhs[i] = -g[fr[i]];
    }
    if (!solve_dense(kkt, rhs, d)) return std::nullopt;
    const double nu = rhs[fr.size()];
    std::vector<double> step(m, 0.0);
    double size = 0, slope = 0;
    for (std::size_t i = 0; i < fr.size(); ++i)
      step[fr[i]] = rhs[i], size = std::max(size, std::abs(rhs[i]));
    for (std::size_t j = 0; j < m; ++j) slope += g[j] * step[j];
    // Stationary when the step is tiny or the predicted decrease is at rounding level.
    if (size < 1e-9 || -slope <= 1e-13 * std::max(1.0, std::abs(f))) {
      // Stationary on the free set: release a bound weight whose multiplier is negative.
      bool released = false;
      for (std::size_t j = 0; j < m; ++j)
        if (!free[j] && g[j] + nu < -1e-12) free[j] = true, released = true;
      if (!released) return w;
      continue;
    }
    // Longest feasible step, then backtracking until the loss decreases enough.
    double alpha = 1;
    std::size_t blocking = m;
    for (std::size_t j = 0; j < m; ++j)
      if (step[j] < 0 && w[j] + alpha * step[j] < 0) alpha = -w[j] / step[j], blocking = j;
    std::vector<double> trial(m), tp;
    double ft = 0;
    for (int bt = 0;; ++bt) {
      for (std::size_t j = 0; j < m; ++j) trial[j] = std::max(0.0, w[j] + alpha * step[j]);
      ft = binary_log_loss(in, trial, tp);
      if (ft <= f + 1e-4 * alpha * slope || bt >= 40) break;
      alpha /= 2;
      blocking = m;
    }
    if (!(ft <= f)) {
      if (-slope <= 1e-10 * std::max(1.0, std::abs(f))) return w;  // converged up to rounding
      return std::nullopt;
    }
    w = trial;
    p.swap(tp);
    f = ft;
    if (blocking < m) w[blocking] = 0, free[blocking] = false;
  }
  return std::nullopt;
}

/// Coordinate search on the simplex: moves mass `step` from member j to member i whenever that
/// improves the metric, halving the step after a pass without improvement. Starts from equal
/// weights, the best single member and `restarts` random points; keeps the best end point.
Fitted fit_weights(const FitInput& in, const Params& params) {
  const std::size_t m = in.preds.size(), n = in.rows * cols_of(in);
  Objective obj(in);
  std::optional<std::vector<double>> newton;
  int newton_iterations = 0;
  if (in.ref->task == metric::kBinary && obj.metric->info().name == "log_loss")
    newton = newton_log_loss(in, &newton_iterations);
  if (newton) {
    std::vector<double> w = *newton;
    double s = std::accumulate(w.begin(), w.end(), 0.0);
    for (auto& x : w) x /= s;
    Fitted f = fixed_weights(w);
    f.details = {
        {"optimiser", "projected Newton on the simplex (binary log_loss is convex in the weights)"},
        {"iterations", newton_iterations},
        {"converged", true},
        {"fit_score", obj(weighted_sum(in.preds, w, n))}};
    return f;
  }
  std::vector<std::vector<double>> starts;
  starts.push_back(equal(m));
  {
    std::size_t best = 0;
    double best_s = 0;
    for (std::size_t k = 0; k < m; ++k) {
      double s = obj(in.preds[k]);
      if (k == 0 || obj.better(s, best_s)) best = k, best_s = s;
    }
    std::vector<double> one(m, 0.0);
    one[best] = 1.0;
    starts.push_back(one);
  }
  std::mt19937_64 rng(params.seed);
  std::exponential_distribution<double> expo(1.0);
  for (int r = 0; r < params.restarts; ++r) {
    std::vector<double> w(m);
    for (auto& x : w) x = expo(rng);
    double s = std::accumulate(w.begin(), w.end(), 0.0);
    for (auto& x : w) x /= s;
    starts.push_back(w);
  }
  std::vector<double> best_w;
  double best_score = 0;
  int evaluations = 0, passes_total = 0;
  bool converged_all = true;
  std::vector<double> cand(n);
  for (const auto& start : starts) {
    std::vector<double> w = start;
    std::vector<double> cur = weighted_sum(in.preds, w, n);
    double cur_s = obj(cur);
    ++evaluations;
    double step = 0.5;
    int passes = 0;
    while (step >= params.tolerance && passes < params.max_passes) {
      ++passes;
      bool improved = false;
      for (std::size_t i = 0; i < m; ++i)
        for (std::size_t j = 0; j < m; ++j) {
          if (i == j || w[j] <= 0) continue;
          double d = std::min(step, w[j]);
          const double* pi = in.preds[i].data();
          const double* pj = in.preds[j].data();
          for (std::size_t t = 0; t < n; ++t) cand[t] = cur[t] + d * (pi[t] - pj[t]);
          double s = obj(cand);
          ++evaluations;
          if (obj.better(s, cur_s)) {
            w[i] += d;
            w[j] -= d;
            if (w[j] < 1e-15) w[j] = 0;
            cur.swap(cand);
            cur_s = s;
            improved = true;
          }
        }
      if (!improved) step /= 2;
    }
    passes_total += passes;
    if (step >= params.tolerance) converged_all = false;
    if (best_w.empty() || obj.better(cur_s, best_score)) best_w = w, best_score = cur_s;
  }
  double s = std::accumulate(best_w.begin(), best_w.end(), 0.0);
  for (auto& x : best_w) x /= s;
  Fitted f = fixed_weights(best_w);
  f.details = {
      {"optimiser", "coordinate search on the simplex (pairwise mass moves, step halving)"},
      {"starts", starts.size()},
      {"evaluations", evaluations},
      {"passes", passes_total},
      {"converged", converged_all},
      {"fit_score", best_score}};
  return f;
}

/// Caruana et al. (2004) ensemble selection with replacement on the given members; returns
/// selection counts at the best step.
std::vector<double> caruana(const FitInput& in, const Objective& obj,
                            const std::vector<std::size_t>& pool, int steps,
                            std::vector<double>* path) {
  const std::size_t m = in.preds.size(), n = in.rows * cols_of(in);
  std::vector<double> counts(m, 0.0), best_counts;
  std::vector<double> sum(n, 0.0), scores(pool.size());
  double best_s = 0;
  // Candidates are scored in parallel (one buffer per thread; the metric is const and thread
  // safe); the pick is made in pool order afterwards, so the result does not depend on threads.
  const int threads =
      n < (std::size_t{1} << 15)
          ? 1
          : static_cast<int>(std::min<std::size_t>(pool.size(), resolve_threads(0)));
  // roc_auc of a binary task: candidates scored by candidate_auc (exact, the metric's value),
  // which buckets each candidate instead of sorting it.
  detail::AucLabels labels;
  if (obj.metric->info().name == "roc_auc" && cols_of(in) == 1)
    labels = detail::auc_labels(in.y_true);
  const bool fast_auc = labels.valid();
  std::vector<double> lo_p(m), hi_p(m);
  if (fast_auc)
    for (std::size_t j : pool) {
      auto [lo, hi] = std::minmax_element(in.preds[j].begin(), in.preds[j].end());
      lo_p[j] = *lo, hi_p[j] = *hi;
    }
  std::vector<detail::AucScratch> scratch(fast_auc ? static_cast<std::size_t>(threads) : 0);
  std::vector<std::vector<double>> cand(fast_auc ? 0 : static_cast<std::size_t>(threads),
                                        std::vector<double>(n));
  const int outer_threads = omp_get_max_threads();
  for (int step = 0; step < steps; ++step) {
    const double k = static_cast<double>(step);
    double lo_sum = 0, hi_sum = 0;
    if (fast_auc) {
      auto [lo, hi] = std::minmax_element(sum.begin(), sum.end());
      lo_sum = *lo, hi_sum = *hi;
    }
    std::exception_ptr error;
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1) if (threads > 1)
    for (std::size_t i = 0; i < pool.size(); ++i) {
      try {
        if (fast_auc) {
          // Bounds of every candidate value: the rounded sum and quotient are monotone.
          const std::size_t j = pool[i];
          scores[i] = detail::candidate_auc(
              labels, sum, in.preds[j], k + 1, (lo_sum + lo_p[j]) / (k + 1),
              (hi_sum + hi_p[j]) / (k + 1),
              scratch[static_cast<std::size_t>(omp_get_thread_num())]);
          continue;
        }
        // The metric sizes its own parallel regions by omp_get_max_threads(); inside this region
        // they would get one thread anyway, so say so.
        omp_set_num_threads(1);
        std::vector<double>& buf = cand[static_cast<std::size_t>(omp_get_thread_num())];
        const double* p = in.preds[pool[i]].data();
        for (std::size_t t = 0; t < n; ++t) buf[t] = (sum[t] + p[t]) / (k + 1);
        scores[i] = obj(buf);
      } catch (...) {
#pragma omp critical
        if (!error) error = std::current_exception();
      }
    }
    omp_set_num_threads(outer_threads);
    if (error) std::rethrow_exception(error);
    std::size_t pick = pool[0];
    double pick_s = scores[0];
    for (std::size_t i = 1; i < pool.size(); ++i)
      if (obj.better(scores[i], pick_s)) pick = pool[i], pick_s = scores[i];
    const double* p = in.preds[pick].data();
    for (std::size_t t = 0; t < n; ++t) sum[t] += p[t];
    counts[pick] += 1;
    if (path) path->push_back(pick_s);
    if (best_counts.empty() || obj.better(pick_s, best_s)) best_counts = counts, best_s = pick_s;
  }
  return best_counts;
}

Fitted fit_hill_climb(const FitInput& in, const Params& params) {
  if (params.steps < 1)
    fail(ErrorCode::kInvalidArgument, "hill_climb: steps = {}: need at least 1", params.steps);
  const std::size_t m = in.preds.size();
  Objective obj(in);
  std::vector<std::size_t> all(m);
  std::iota(all.begin(), all.end(), 0);
  std::vector<double> w(m, 0.0), path;
  if (params.bags <= 0) {
    w = caruana(in, obj, all, params.steps, &path);
  } else {
    if (!(params.bag_fraction > 0 && params.bag_fraction <= 1))
      fail(ErrorCode::kInvalidArgument, "hill_climb: bag fraction {} is not in (0, 1]",
           params.bag_fraction);
    std::mt19937_64 rng(params.seed);
    auto take = std::max<std::size_t>(
        1, static_cast<std::size_t>(std::lround(params.bag_fraction * double(m))));
    for (int b = 0; b < params.bags; ++b) {
      std::vector<std::size_t> pool = all;
      std::shuffle(pool.begin(), pool.end(), rng);
      pool.resize(take);
      std::sort(pool.begin(), pool.end());
      std::vector<double> c = caruana(in, obj, pool, params.steps, nullptr);
      double s = std::accumulate(c.begin(), c.end(), 0.0);
      for (std::size_t k = 0; k < m; ++k) w[k] += c[k] / s / params.bags;
    }
  }
  std::vector<double> counts = w;
  double s = std::accumulate(w.begin(), w.end(), 0.0);
  for (auto& x : w) x /= s;
  Fitted f = fixed_weights(w);
  f.details = {{"steps", params.steps}, {"bags", params.bags}};
  if (params.bags <= 0) f.details["counts"] = counts, f.details["path"] = path;
  return f;
}

/// Solves the symmetric positive definite system A x = b (d x d, small) by Cholesky.
std::vector<double> solve_spd(std::vector<double> a, std::vector<double> b, std::size_t d) {
  for (std::size_t j = 0; j < d; ++j) {
    double s = a[j * d + j];
    for (std::size_t k = 0; k < j; ++k) s -= a[j * d + k] * a[j * d + k];
    if (!(s > 0))
      fail(ErrorCode::kInvalidArgument,
           "stack: the level-2 system is singular (members identical?)");
    a[j * d + j] = std::sqrt(s);
    for (std::size_t i = j + 1; i < d; ++i) {
      double t = a[i * d + j];
      for (std::size_t k = 0; k < j; ++k) t -= a[i * d + k] * a[j * d + k];
      a[i * d + j] = t / a[j * d + j];
    }
  }
  for (std::size_t i = 0; i < d; ++i) {
    for (std::size_t k = 0; k < i; ++k) b[i] -= a[i * d + k] * b[k];
    b[i] /= a[i * d + i];
  }
  for (std::size_t i = d; i-- > 0;) {
    for (std::size_t k = i + 1; k < d; ++k) b[i] -= a[k * d + i] * b[k];
    b[i] /= a[i * d + i];
  }
  return b;
}

double logit(double p) {
  p = std::clamp(p, 1e-6, 1 - 1e-6);
  return std::log(p / (1 - p));
}

/// A level-2 model from the model registry (compe::model), trained on the members' predictions
/// of the fit rows as features (one feature per member and class; `log_features`: their logs,
/// clipped at 1e-15). Training happens when predictions are asked for (the backend trains and
/// predicts in one call); the fit rows are kept for that. The backend's own validation rows
/// (curves) are the fit rows themselves and its early stopping holds out a share of them, so the
/// rows a fold holds out are never seen: the nested OOF stays honest.
Fitted fit_stack_model(const FitInput& in, const Params& params, const std::string& backend,
                       nlohmann::json model_params, bool log_features) {
  const std::size_t m = in.preds.size(), n = in.rows, cols = cols_of(in);
  auto fit_x = std::make_shared<std::vector<std::vector<double>>>();
  for (const auto& p : in.preds) fit_x->emplace_back(p.begin(), p.end());
  auto fit_y = std::make_shared<std::vector<double>>(in.y_true.begin(), in.y_true.end());
  const metric::Task task = in.ref->task;
  const std::string metric_spec = in.ref->metric;
  const std::uint64_t seed = params.seed;
  const model::Info& mi = model::find(backend);
  const nlohmann::json resolved = model::resolve_params(mi, model_params);  // fails early on a bad name
  Fitted f;
  f.details = {{"model", backend},
               {"features", log_features ? "the logs of the members' predictions" : "the members' predictions"},
               {"params", model_params}};
  f.apply = [=](const Preds& preds, std::size_t rows) {
    Table train, test;
    std::vector<std::int64_t> train_id(n), test_id(rows);
    std::iota(train_id.begin(), train_id.end(), 0);
    std::iota(test_id.begin(), test_id.end(), 0);
    train.add_column(Column::from_i64("id", std::move(train_id)));
    test.add_column(Column::from_i64("id", std::move(test_id)));
    auto column = [&](std::span<const double> p, std::size_t r_count, std::size_t j) {
      std::vector<double> v(r_count);
      for (std::size_t r = 0; r < r_count; ++r) {
        double x = p[r * cols + j];
        v[r] = log_features ? std::log(std::max(x, 1e-15)) : x;
      }
      return v;
    };
    for (std::size_t k = 0; k < m; ++k) {
      for (std::size_t j = 0; j < cols; ++j) {
        std::string name = cols == 1 ? fmt::format("m{}", k) : fmt::format("m{}_c{}", k, j);
        train.add_column(Column::from_f64(name, column((*fit_x)[k], n, j)));
        test.add_column(Column::from_f64(name, column(preds[k], rows, j)));
      }
    }
    if (task == metric::kRegression) {
      train.add_column(Column::from_f64("y", *fit_y));
    } else {
      std::vector<std::int64_t> labels(n);
      for (std::size_t r = 0; r < n; ++r) labels[r] = static_cast<std::int64_t>((*fit_y)[r]);
      train.add_column(Column::from_i64("y", std::move(labels)));
    }
    model::FeatureSpec spec{"id", {"y"}, {}, {}, {}, false};
    model::FeatureMatrix fm = model::FeatureMatrix::build(train, test, spec);
    model::Target target = model::Target::encode(train.column("y"), task);
    if (target.prediction_columns() != cols)
      fail(ErrorCode::kInvalidArgument,
           "{}: the rows a level-2 model is fitted on hold {} of the {} classes: every class needs rows in "
           "every fold",
           backend, target.num_class, cols);
    std::vector<std::size_t> all(n);
    std::iota(all.begin(), all.end(), 0);
    model::FoldData d;
    d.features = &fm;
    d.target = &target;
    d.train_rows = all;
    d.valid_rows = all;
    d.metric = metric_spec;
    d.seed = seed;
    auto mdl = model::make(backend);
    model::FoldResult res = mdl->fit_predict(d, resolved, [](const model::Progress&) {});
    target.inverse_transform(res.test_pred);
    return res.test_pred;
  };
  return f;
}

/// Level-2 linear model on the members' predictions: logistic regression on their logits
/// (binary, Newton's method) or ridge regression on their values (regression), with an intercept
/// and an L2 penalty on the slopes; multiclass: compe's multinomial `linear` backend on the logs
/// of the members' class probabilities (C = 1 / (l2 * rows), standardised features). Its OOF is
/// honest because blend() fits it fold by fold.
Fitted fit_stack(const FitInput& in, const Params& params) {
  if (in.ref->task == metric::kMulticlass) {
    const double c = 1.0 / std::max(params.l2 * static_cast<double>(in.rows), 1e-12);
    Fitted f = fit_stack_model(in, params, "linear", {{"C", c}}, true);
    f.details["model"] = "multinomial logistic regression on log-probabilities";
    f.details["l2"] = params.l2;
    return f;
  }
  const std::size_t m = in.preds.size(), n = in.rows, d = m + 1;
  const bool binary = in.ref->task == metric::kBinary;
  auto feature = [binary](double v) { return binary ? logit(v) : v; };
  std::vector<double> beta(d, 0.0);
  const double l2 = params.l2 * static_cast<double>(n);
  int iterations = 0;
  for (int it = 0; it < (binary ? 50 : 1); ++it) {
    ++iterations;
    std::vector<double> a(d * d, 0.0), g(d, 0.0), x(d);
    for (std::size_t r = 0; r < n; ++r) {
      x[0] = 1;
      for (std::size_t k = 0; k < m; ++k) x[k + 1] = feature(in.preds[k][r]);
      double wgt = 1, resid;
      if (binary) {
        double z = 0;
        for (std::size_t k = 0; k < d; ++k) z += beta[k] * x[k];
        double p = 1 / (1 + std::exp(-z));
        wgt = std::max(p * (1 - p), 1e-12);
        resid = in.y_true[r] - p;
      } else {
        resid = in.y_true[r];
      }
      for (std::size_t i = 0; i < d; ++i) {
        g[i] += x[i] * resid;
        for (std::size_t j = 0; j < d; ++j) a[i * d + j] += wgt * x[i] * x[j];
      }
    }
    for (std::size_t i = 1; i < d; ++i) {
      a[i * d + i] += l2;
      if (binary) g[i] -= l2 * beta[i];
    }
    a[0] += 1e-9;
    std::vector<double> delta = solve_spd(a, g, d);
    double change = 0;
    for (std::size_t i = 0; i < d; ++i) {
      beta[i] = binary ? beta[i] + delta[i] : delta[i];
      change = std::max(change, std::abs(delta[i]));
    }
    if (change < 1e-10) break;
  }
  Fitted f;
  f.details = {{"model", binary ? "logistic regression on logits" : "ridge regression"},
               {"intercept", beta[0]},
               {"coefficients", std::vector<double>(beta.begin() + 1, beta.end())},
               {"l2", params.l2},
               {"iterations", iterations}};
  f.apply = [beta, binary, feature, m](const Preds& preds, std::size_t rows) {
    std::vector<double> out(rows);
    for (std::size_t r = 0; r < rows; ++r) {
      double z = beta[0];
      for (std::size_t k = 0; k < m; ++k) z += beta[k + 1] * feature(preds[k][r]);
      out[r] = binary ? 1 / (1 + std::exp(-z)) : z;
    }
    return out;
  };
  return f;
}

constexpr unsigned kAll = metric::kBinary | metric::kMulticlass | metric::kRegression;
// Multilabel blends work column by column with one weight per member shared by the columns
// (optimised on the multilabel metric); stacking stays single-target.
constexpr unsigned kAllMultilabel = kAll | metric::kMultilabel;

Fitted fit_stack_linear(const FitInput& in, const Params& params) {
  return fit_stack_model(in, params, "linear", params.model_params, false);
}
Fitted fit_stack_xgboost(const FitInput& in, const Params& params) {
  return fit_stack_model(in, params, "xgboost", params.model_params, false);
}

const Registry<Info>& registry() {
  static const Registry<Info> rows("blend method", {
      {.name = "mean",
       .summary = "arithmetic mean of the members' predictions",
       .fitted = false,
       .same_folds = false,
       .tasks = kAllMultilabel,
       .fit = fit_mean},
      {.name = "rank_mean",
       .summary = "mean of the members' ranks scaled to [0, 1] (for ranking metrics such as AUC)",
       .fitted = false,
       .same_folds = false,
       .tasks = metric::kBinary | metric::kMultilabel,
       .fit = fit_rank_mean},
      {.name = "power_mean",
       .summary = "(mean of p^power)^(1/power); multiclass rows renormalised",
       .fitted = false,
       .same_folds = false,
       .tasks = kAllMultilabel,
       .fit = fit_power_mean},
      {.name = "geometric_mean",
       .summary = "exp(mean of log p); multiclass rows renormalised",
       .fitted = false,
       .same_folds = false,
       .tasks = kAllMultilabel,
       .fit = fit_geometric_mean},
      {.name = "weights",
       .summary = "non-negative weights summing to one, optimised on the competition metric",
       .fitted = true,
       .same_folds = true,
       .tasks = kAllMultilabel,
       .fit = fit_weights},
      {.name = "hill_climb",
       .summary = "Caruana ensemble selection with replacement, optionally bagged",
       .fitted = true,
       .same_folds = true,
       .tasks = kAllMultilabel,
       .fit = fit_hill_climb},
      {.name = "stack",
       .summary = "level-2 linear model (logistic on logits / ridge / multinomial on "
                  "log-probabilities) fitted fold by fold",
       .fitted = true,
       .same_folds = true,
       .tasks = kAll,
       .fit = fit_stack},
      {.name = "stack_linear",
       .summary = "level-2 model: compe's `linear` backend on the members' predictions, fitted fold by fold "
                  "(--model-param)",
       .fitted = true,
       .same_folds = true,
       .tasks = kAll,
       .fit = fit_stack_linear},
      {.name = "stack_xgboost",
       .summary = "level-2 model: compe's `xgboost` backend on the members' predictions, fitted fold by fold "
                  "(--model-param)",
       .fitted = true,
       .same_folds = true,
       .tasks = kAll,
       .fit = fit_stack_xgboost},
  });
  return rows;
}

}  // namespace

std::span<const Info> builtin() { return registry().rows(); }

const Info& find(std::string_view name) { return registry().find(name); }

}  // namespace compe::blend
