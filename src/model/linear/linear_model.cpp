// Ridge and logistic regression (binary and multinomial) on a preprocessed design matrix:
// median imputation with missing indicators, standardisation of numeric columns, one-hot
// categoricals. Everything is fitted on the fold's train rows only.

#include <Eigen/Dense>

#include <algorithm>
#include <cmath>
#include <deque>
#include <limits>

#include "compe/error.hpp"
#include "compe/model.hpp"
#include "compe/util.hpp"
#include "model/backends.hpp"
#include "model/params.hpp"

namespace compe::model {

namespace {

constexpr std::string_view kName = "linear";
// scipy's L-BFGS-B default (factr 1e7 times the machine epsilon), which scikit-learn's lbfgs uses.
constexpr double kDefaultFtol = 1e7 * 2.220446049250313e-16;

using Eigen::MatrixXd;
using Eigen::VectorXd;

// How one FeatureMatrix column becomes design columns.
struct ColumnPlan {
  std::size_t feature = 0;
  bool categorical = false;
  double median = 0;            // numeric
  double mean = 0, scale = 1;   // numeric, after imputation
  bool indicator = false;       // numeric: a 0/1 "was missing" column follows
  std::vector<int> level_slot;  // categorical: code -> design offset, -1 = unseen
  std::size_t offset = 0;       // first design column
  std::size_t width = 0;
};

struct Preprocessor {
  std::vector<ColumnPlan> plans;
  std::size_t width = 0;

  // `data`: the train matrix as this fold sees it (FeatureMatrix::fold_values when some feature
  // is count-encoded, which then counts as numeric).
  void fit(const FeatureMatrix& fm, std::span<const float> data, std::span<const std::size_t> rows,
           const std::vector<double>& w, bool standardize, bool indicators, std::size_t max_categories) {
    const auto& feats = fm.features();
    const std::size_t nf = feats.size();
    auto at = [&](std::size_t r, std::size_t f) { return data[r * nf + f]; };
    std::vector<double> values;
    for (std::size_t f = 0; f < feats.size(); ++f) {
      ColumnPlan p;
      p.feature = f;
      p.offset = width;
      if (feats[f].kind == FeatureKind::kCategorical && !feats[f].fold_encoded()) {
        p.categorical = true;
        p.level_slot.assign(feats[f].num_categories, -1);
        int next = 0;
        std::vector<std::size_t> count(feats[f].num_categories, 0);
        for (auto r : rows) {
          float v = at(r, f);
          if (!std::isnan(v)) ++count[static_cast<std::size_t>(v)];
        }
        // Keep at most max_categories levels, the most frequent (ties: lower code); the rest
        // encode like unseen levels (all zero), so a high-cardinality column cannot blow up the
        // dense design.
        std::vector<std::size_t> order;
        for (std::size_t c = 0; c < count.size(); ++c)
          if (count[c] > 0) order.push_back(c);
        if (order.size() > max_categories) {
          std::stable_sort(order.begin(), order.end(),
                           [&](std::size_t a, std::size_t b) { return count[a] > count[b]; });
          order.resize(max_categories);
          std::sort(order.begin(), order.end());
        }
        for (auto c : order) p.level_slot[c] = next++;
        p.width = static_cast<std::size_t>(next);
      } else {
        values.clear();
        for (auto r : rows) {
          float v = at(r, f);
          if (!std::isnan(v)) values.push_back(v);
        }
        bool any_missing = values.size() < rows.size();
        if (!values.empty()) {
          std::sort(values.begin(), values.end());
          std::size_t m = values.size();
          p.median = m % 2 ? values[m / 2] : 0.5 * (values[m / 2 - 1] + values[m / 2]);
        }
        p.indicator = indicators && any_missing;
        if (standardize) {
          double sw = 0, s = 0, ss = 0;
          for (std::size_t i = 0; i < rows.size(); ++i) {
            float v = at(rows[i], f);
            double x = std::isnan(v) ? p.median : v;
            sw += w[i];
            s += w[i] * x;
          }
          p.mean = sw > 0 ? s / sw : 0;
          for (std::size_t i = 0; i < rows.size(); ++i) {
            float v = at(rows[i], f);
            double x = (std::isnan(v) ? p.median : v) - p.mean;
            ss += w[i] * x * x;
          }
          double sd = sw > 0 ? std::sqrt(ss / sw) : 0;
          p.scale = sd > 0 ? sd : 1;
        }
        p.width = p.indicator ? 2 : 1;
      }
      width += p.width;
      plans.push_back(std::move(p));
    }
  }

  // Design rows for `rows` of a feature matrix (train or test side).
  MatrixXd transform(std::span<const float> data, std::size_t nf,
                     std::span<const std::size_t> rows) const {
    MatrixXd x = MatrixXd::Zero(static_cast<Eigen::Index>(rows.size()), static_cast<Eigen::Index>(width));
    for (std::size_t i = 0; i < rows.size(); ++i) {
      const float* row = data.data() + rows[i] * nf;
      auto xi = static_cast<Eigen::Index>(i);
      for (const auto& p : plans) {
        float v = row[p.feature];
        auto col = static_cast<Eigen::Index>(p.offset);
        if (p.categorical) {
          if (!std::isnan(v)) {
            int slot = p.level_slot[static_cast<std::size_t>(v)];
            if (slot >= 0) x(xi, col + slot) = 1.0;
          }
        } else {
          bool missing = std::isnan(v);
          x(xi, col) = ((missing ? p.median : v) - p.mean) / p.scale;
          if (p.indicator) x(xi, col + 1) = missing ? 1.0 : 0.0;
        }
      }
    }
    return x;
  }
};

std::vector<std::size_t> iota_rows(std::size_t n) {
  std::vector<std::size_t> r(n);
  for (std::size_t i = 0; i < n; ++i) r[i] = i;
  return r;
}

struct Solve {
  std::size_t iterations = 0;
  bool hit_max_iter = false;  // stopped by max_iter with max|grad| still above tol
  double grad = 0;            // max|grad| at the end
};

// L-BFGS with a backtracking (Armijo) line search for a smooth convex objective.
// fg(x, grad) returns f(x) and fills grad. Stops when max|grad| <= tol, or when a step lowers f
// by no more than ftol relative to max(|f|, 1) (scipy's L-BFGS-B `ftol`, as scikit-learn uses it).
template <typename Fg>
Solve lbfgs(VectorXd& x, Fg&& fg, std::size_t max_iter, double tol, double ftol, Curve* curve) {
  constexpr std::size_t kMemory = 10;
  std::deque<VectorXd> s_hist, y_hist;
  std::deque<double> rho_hist;
  VectorXd g(x.size()), g_new(x.size());
  double f = fg(x, g);
  std::size_t iter = 0;
  bool converged_on_f = false;
  for (; iter < max_iter; ++iter) {
    if (curve) curve->train.push_back(f);
    if (g.lpNorm<Eigen::Infinity>() <= tol) break;
    VectorXd q = g;
    std::vector<double> alpha(s_hist.size());
    for (std::size_t j = s_hist.size(); j-- > 0;) {
      alpha[j] = rho_hist[j] * s_hist[j].dot(q);
      q -= alpha[j] * y_hist[j];
    }
    if (!s_hist.empty()) q *= s_hist.back().dot(y_hist.back()) / y_hist.back().squaredNorm();
    else q /= std::max(1.0, g.norm());
    for (std::size_t j = 0; j < s_hist.size(); ++j) {
      double beta = rho_hist[j] * y_hist[j].dot(q);
      q += (alpha[j] - beta) * s_hist[j];
    }
    VectorXd d = -q;
    double slope = g.dot(d);
    if (slope >= 0) {  // not a descent direction: restart from steepest descent
      s_hist.clear(), y_hist.clear(), rho_hist.clear();
      d = -g / std::max(1.0, g.norm());
      slope = g.dot(d);
    }
    double step = 1.0;
    VectorXd x_new;
    double f_new = 0;
    bool accepted = false;
    for (int ls = 0; ls < 60; ++ls) {
      x_new = x + step * d;
      f_new = fg(x_new, g_new);
      if (f_new <= f + 1e-4 * step * slope) {
        accepted = true;
        break;
      }
      step *= 0.5;
    }
    if (!accepted) break;  // no progress possible at double precision
    VectorXd s = x_new - x, y = g_new - g;
    double sy = s.dot(y);
    if (sy > 1e-12) {
      if (s_hist.size() == kMemory) s_hist.pop_front(), y_hist.pop_front(), rho_hist.pop_front();
      s_hist.push_back(std::move(s));
      y_hist.push_back(std::move(y));
      rho_hist.push_back(1.0 / sy);
    }
    double f_old = f;
    x = std::move(x_new);
    g = g_new;
    f = f_new;
    if (std::abs(f_old - f) <= std::max(ftol, 1e-15) * std::max({1.0, std::abs(f), std::abs(f_old)})) {
      ++iter;
      converged_on_f = true;
      break;
    }
  }
  Solve out;
  out.iterations = iter;
  out.grad = g.lpNorm<Eigen::Infinity>();
  out.hit_max_iter = iter >= max_iter && out.grad > tol && !converged_on_f;
  return out;
}

struct Fitted {
  MatrixXd coef;      // p x m
  Eigen::RowVectorXd intercept;  // m
};

// Weighted ridge regression in closed form (centred when fitting an intercept).
Fitted fit_ridge(const MatrixXd& x, const VectorXd& wv, const Target& target, const FoldData& data, double alpha,
                 bool fit_intercept) {
  const Eigen::Index ni = x.rows(), p = x.cols();
  const double wsum = wv.sum();
  Fitted fit;
  VectorXd y(ni);
  for (Eigen::Index i = 0; i < ni; ++i) y(i) = target.y[data.train_rows[static_cast<std::size_t>(i)]];
  Eigen::RowVectorXd xmean = Eigen::RowVectorXd::Zero(p);
  double ymean = 0;
  if (fit_intercept) {
    xmean = (wv.transpose() * x) / wsum;
    ymean = wv.dot(y) / wsum;
  }
  MatrixXd xc = x.rowwise() - xmean;
  VectorXd yc = y.array() - ymean;
  MatrixXd a = xc.transpose() * wv.asDiagonal() * xc;
  a.diagonal().array() += alpha;
  VectorXd b = xc.transpose() * (wv.asDiagonal() * yc);
  Eigen::LDLT<MatrixXd> ldlt(a);
  if (ldlt.info() != Eigen::Success)
    fail(ErrorCode::kBackend, "linear fold {}: the ridge system could not be factorised (try alpha > 0)", data.fold);
  fit.coef = ldlt.solve(b);
  fit.intercept = Eigen::RowVectorXd::Constant(1, ymean - xmean.dot(fit.coef.col(0)));
  if (!fit.coef.allFinite())
    fail(ErrorCode::kBackend, "linear fold {}: the ridge solution is not finite (collinear features with alpha = 0?)",
         data.fold);
  return fit;
}

// Predictions (rows x k) from the transformed rows: values, probabilities or softmax.
std::vector<double> predict_rows(const MatrixXd& xt, const Fitted& fit, Task task, std::size_t k) {
  MatrixXd z = xt * fit.coef;
  z.rowwise() += fit.intercept;
  std::vector<double> out(static_cast<std::size_t>(z.rows()) * k);
  for (Eigen::Index i = 0; i < z.rows(); ++i) {
    auto base = static_cast<std::size_t>(i) * k;
    if (task == Task::kRegression) {
      out[base] = z(i, 0);
    } else if (task == Task::kBinary) {
      double zi = z(i, 0);
      out[base] = zi >= 0 ? 1.0 / (1.0 + std::exp(-zi)) : std::exp(zi) / (1.0 + std::exp(zi));
    } else {
      double zmax = z.row(i).maxCoeff();
      double sum = 0;
      for (Eigen::Index j = 0; j < z.cols(); ++j) sum += std::exp(z(i, j) - zmax);
      for (Eigen::Index j = 0; j < z.cols(); ++j) out[base + static_cast<std::size_t>(j)] = std::exp(z(i, j) - zmax) / sum;
    }
  }
  return out;
}

class LinearModel final : public Model {
 public:
  explicit LinearModel(const Info& info) : Model(info) {}
  FoldResult fit_predict(const FoldData& data, const nlohmann::json& user_params,
                         const ProgressCallback& progress) override;
};

FoldResult LinearModel::fit_predict(const FoldData& data, const nlohmann::json& user_params,
                                    const ProgressCallback& progress) {
  check_fold_data(data);
  if (data.target->task == Task::kMultilabel) {
    // One logistic regression per label column.
    return fit_per_label(data, progress, [&](const FoldData& d, const ProgressCallback& p, std::size_t) {
      return fit_predict(d, user_params, p);
    });
  }
  const nlohmann::json params = resolve_params(info(), user_params);
  const double alpha = param_double(params, kName, "alpha", 1.0);
  const double c = param_double(params, kName, "C", 1.0);
  const auto max_iter = param_int(params, kName, "max_iter", 1000, 1);
  const double tol = param_double(params, kName, "tol", 1e-8);
  const double ftol = param_double(params, kName, "ftol", kDefaultFtol);
  if (!(ftol >= 0)) fail(ErrorCode::kInvalidArgument, "linear parameter 'ftol': expected >= 0, got {}", ftol);
  const bool standardize = param_bool(params, kName, "standardize", true);
  const bool indicators = param_bool(params, kName, "missing_indicator", true);
  const bool fit_intercept = param_bool(params, kName, "fit_intercept", true);
  const auto max_categories = static_cast<std::size_t>(param_int(params, kName, "max_categories", 100, 1));
  if (!(alpha >= 0)) fail(ErrorCode::kInvalidArgument, "linear parameter 'alpha': expected >= 0, got {}", alpha);
  if (!(c > 0)) fail(ErrorCode::kInvalidArgument, "linear parameter 'C': expected > 0, got {}", c);
  if (!(tol > 0)) fail(ErrorCode::kInvalidArgument, "linear parameter 'tol': expected > 0, got {}", tol);

  const FeatureMatrix& fm = *data.features;
  const Target& target = *data.target;
  const std::size_t n = data.train_rows.size();
  std::vector<double> w(n, 1.0);
  if (!data.weights.empty())
    for (std::size_t i = 0; i < n; ++i) w[i] = data.weights[data.train_rows[i]];

  std::vector<float> fold_train, fold_test;
  std::span<const float> train_values = fm.train(), test_values = fm.test();
  if (fm.has_fold_encoding()) {
    fold_train = fm.fold_values(data.train_rows, false, target);
    fold_test = fm.fold_values(data.train_rows, true, target);
    train_values = fold_train;
    test_values = fold_test;
  }
  Preprocessor pre;
  pre.fit(fm, train_values, data.train_rows, w, standardize, indicators, max_categories);
  const std::size_t nf = fm.num_features();
  MatrixXd x = pre.transform(train_values, nf, data.train_rows);
  const auto p = x.cols();
  const auto ni = static_cast<Eigen::Index>(n);
  VectorXd wv(ni);
  for (std::size_t i = 0; i < n; ++i) wv(static_cast<Eigen::Index>(i)) = w[i];
  const double wsum = wv.sum();
  if (!(wsum > 0)) fail(ErrorCode::kInvalidArgument, "fold {}: the train rows' weights sum to zero", data.fold);

  FoldResult result;
  result.cols = target.prediction_columns();
  Fitted fit;
  Curve loss_curve{"objective", {}, {}};

  if (target.task == Task::kRegression) {
    fit = fit_ridge(x, wv, target, data, alpha, fit_intercept);
    result.num_iterations = 1;
  } else {
    // Binary: one logit column; multinomial: k (over-parameterised softmax, as scikit-learn).
    const bool multi = target.task == Task::kMulticlass;
    const Eigen::Index m = multi ? static_cast<Eigen::Index>(target.num_class) : 1;
    const Eigen::Index stride = p + (fit_intercept ? 1 : 0);
    MatrixXd y = MatrixXd::Zero(ni, m);
    for (std::size_t i = 0; i < n; ++i) {
      double label = target.y[data.train_rows[i]];
      if (multi) y(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(label)) = 1.0;
      else y(static_cast<Eigen::Index>(i), 0) = label;
    }
    // The objective is scaled by 1/sum(w) so the tolerance does not depend on the row count.
    const double l2 = 1.0 / c;
    auto fg = [&](const VectorXd& theta, VectorXd& grad) -> double {
      Eigen::Map<const MatrixXd> params_mat(theta.data(), stride, m);
      MatrixXd z = x.lazyProduct(params_mat.topRows(p));
      if (fit_intercept) z.rowwise() += params_mat.row(p);
      MatrixXd resid(ni, m);
      double loss = 0;
      if (multi) {
        // Column-wise array expressions (vectorised exp), not a per-row loop over a column-major
        // matrix: the softmax of every row at once.
        const VectorXd zmax = z.rowwise().maxCoeff();
        const Eigen::ArrayXXd e = (z.colwise() - zmax).array().exp();
        const Eigen::ArrayXd s = e.rowwise().sum();
        const Eigen::ArrayXd lse = zmax.array() + s.log();
        const Eigen::ArrayXd w_arr = wv.array();
        loss = (w_arr * (lse * y.rowwise().sum().array() - (y.array() * z.array()).rowwise().sum())).sum();
        resid = ((e.colwise() / s).colwise() * w_arr - y.array().colwise() * w_arr).matrix();
      } else {
        for (Eigen::Index i = 0; i < ni; ++i) {
          double zi = z(i, 0);
          // log(1 + exp(-t)) computed stably; loss = log(1+e^z) - y z
          double softplus = zi > 0 ? zi + std::log1p(std::exp(-zi)) : std::log1p(std::exp(zi));
          loss += wv(i) * (softplus - y(i, 0) * zi);
          double pi = zi >= 0 ? 1.0 / (1.0 + std::exp(-zi)) : std::exp(zi) / (1.0 + std::exp(zi));
          resid(i, 0) = wv(i) * (pi - y(i, 0));
        }
      }
      Eigen::Map<MatrixXd> g(grad.data(), stride, m);
      // p x m dot products over the rows (contiguous columns): Eigen's GEMM would run this long,
      // thin product on its OpenMP threads, whose spin-waits dominated the fit on a busy machine.
      g.topRows(p) = x.transpose().lazyProduct(resid) + l2 * params_mat.topRows(p);
      if (fit_intercept) g.row(p) = resid.colwise().sum();
      grad /= wsum;
      return (loss + 0.5 * l2 * params_mat.topRows(p).squaredNorm()) / wsum;
    };
    VectorXd theta = VectorXd::Zero(stride * m);
    Solve solve = lbfgs(theta, fg, static_cast<std::size_t>(max_iter), tol, ftol, &loss_curve);
    result.num_iterations = solve.iterations;
    if (solve.hit_max_iter)
      result.notes.push_back(fmt::format(
          "linear fold {}: stopped at max_iter = {} before converging (max |gradient| {:.3g} > tol {:.3g}): "
          "raise max_iter, or regularise more (smaller C)",
          data.fold, max_iter, solve.grad, tol));
    Eigen::Map<const MatrixXd> params_mat(theta.data(), stride, m);
    fit.coef = params_mat.topRows(p);
    fit.intercept = fit_intercept ? Eigen::RowVectorXd(params_mat.row(p)) : Eigen::RowVectorXd::Zero(m);
    result.curves.push_back(std::move(loss_curve));
  }
  result.best_iteration = result.num_iterations == 0 ? 0 : result.num_iterations - 1;

  auto predict = [&](std::span<const float> src, std::span<const std::size_t> rows) {
    return predict_rows(pre.transform(src, nf, rows), fit, target.task, result.cols);
  };
  result.valid_pred = predict(train_values, data.valid_rows);
  result.test_pred = predict(test_values, iota_rows(fm.num_test_rows()));
  if (data.permutation_repeats > 0) {
    std::vector<float> valid(data.valid_rows.size() * nf);
    for (std::size_t i = 0; i < data.valid_rows.size(); ++i)
      std::copy_n(train_values.begin() + static_cast<std::ptrdiff_t>(data.valid_rows[i] * nf), nf,
                  valid.begin() + static_cast<std::ptrdiff_t>(i * nf));
    permutation_scores(data, valid, [&](std::span<const float> values, std::size_t rows) {
      return predict(values, iota_rows(rows));
    }, result);
  }

  for (const auto& plan : pre.plans) {
    double total = 0;
    for (std::size_t j = 0; j < plan.width; ++j)
      total += fit.coef.row(static_cast<Eigen::Index>(plan.offset + j)).cwiseAbs().sum();
    result.importance[fm.features()[plan.feature].name] = total;
  }
  if (progress) progress(Progress{data.fold, result.num_iterations, result.num_iterations, ""});
  check_predictions(result, data, kName);
  return result;
}

}  // namespace

std::unique_ptr<Model> make_linear(const Info& info) { return std::make_unique<LinearModel>(info); }

nlohmann::json linear_default_params() {
  return {{"alpha", 1.0}, {"C", 1.0}, {"max_iter", 1000}, {"tol", 1e-8}, {"standardize", true},
          {"missing_indicator", true}, {"fit_intercept", true}, {"max_categories", 100},
          {"ftol", kDefaultFtol}};
}

std::vector<ParamSpec> linear_param_specs() {
  using T = ParamSpec::Type;
  constexpr double inf = std::numeric_limits<double>::infinity();
  return {{.name = "alpha", .type = T::kNumber, .min = 0},
          {.name = "C", .type = T::kNumber, .min = 0, .max = inf, .min_open = true},
          {.name = "max_iter", .type = T::kInt, .min = 1},
          {.name = "tol", .type = T::kNumber, .min = 0, .max = inf, .min_open = true},
          {.name = "standardize", .type = T::kBool},
          {.name = "missing_indicator", .type = T::kBool},
          {.name = "fit_intercept", .type = T::kBool},
          {.name = "max_categories", .type = T::kInt, .min = 1},
          {.name = "ftol", .type = T::kNumber, .min = 0}};
}

std::vector<std::string> linear_known_params() {
  return {"alpha", "C", "max_iter", "tol", "standardize", "missing_indicator", "fit_intercept",
          "max_categories", "ftol"};
}

}  // namespace compe::model
