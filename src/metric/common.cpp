#include <algorithm>
#include <cmath>

#include "compe/segment.hpp"
#include "metric/detail.hpp"

namespace compe::metric {

std::size_t Inputs::rows() const {
  if (!y_true.empty()) return true_cols == 0 ? 0 : y_true.size() / true_cols;
  if (true_lists != nullptr) return true_lists->rows();
  if (true_boxes != nullptr) return true_boxes->rows();
  if (true_masks != nullptr) return true_masks->size();
  return 0;
}

namespace detail {

std::string canonical_spec(const Info& info, std::optional<double> arg) {
  if (!arg) return info.name;
  return fmt::format("{}@{}", info.name, *arg);
}

void check_finite(std::span<const double> v, std::size_t cols, const char* what,
                  const std::string& metric) {
  std::size_t bad = v.size();
#pragma omp parallel for reduction(min : bad) if (v.size() >= 65536)
  for (std::size_t i = 0; i < v.size(); ++i)
    if (!std::isfinite(v[i]) && i < bad) bad = i;
  if (bad < v.size()) {
    if (cols > 1)
      fail(ErrorCode::kInvalidArgument, "{}: {} row {} column {} is {}; expected a finite number",
           metric, what, bad / cols, bad % cols, v[bad]);
    fail(ErrorCode::kInvalidArgument, "{}: {} row {} is {}; expected a finite number", metric, what,
         bad, v[bad]);
  }
}

void check_weights(const Inputs& in, std::size_t rows, const std::string& metric) {
  if (in.weights.empty()) return;
  if (in.weights.size() != rows)
    fail(ErrorCode::kInvalidArgument, "{}: {} weights for {} rows; expected one weight per row",
         metric, in.weights.size(), rows);
  double sum = 0;
  for (std::size_t i = 0; i < rows; ++i) {
    double w = in.weights[i];
    if (!std::isfinite(w) || w < 0)
      fail(ErrorCode::kInvalidArgument, "{}: weight row {} is {}; expected a finite number >= 0",
           metric, i, w);
    sum += w;
  }
  if (!(sum > 0))
    fail(ErrorCode::kInvalidArgument, "{}: weights sum to zero; expected a positive total", metric);
}

std::size_t check_matrix(const Inputs& in, const std::string& metric) {
  if (in.true_cols == 0 || in.pred_cols == 0)
    fail(ErrorCode::kInvalidArgument,
         "{}: y_true has {} columns and y_pred {}; expected at least 1", metric, in.true_cols,
         in.pred_cols);
  if (in.y_true.size() % in.true_cols != 0)
    fail(ErrorCode::kInvalidArgument, "{}: y_true has {} values, not a multiple of its {} columns",
         metric, in.y_true.size(), in.true_cols);
  std::size_t rows = in.y_true.size() / in.true_cols;
  if (rows == 0) fail(ErrorCode::kInvalidArgument, "{}: no rows to score", metric);
  if (in.y_pred.size() != rows * in.pred_cols)
    fail(ErrorCode::kInvalidArgument,
         "{}: y_pred has {} values; expected {} rows x {} columns = {} to match y_true", metric,
         in.y_pred.size(), rows, in.pred_cols, rows * in.pred_cols);
  check_finite(in.y_true, in.true_cols, "y_true", metric);
  check_finite(in.y_pred, in.pred_cols, "y_pred", metric);
  check_weights(in, rows, metric);
  return rows;
}

std::size_t check_vector(const Inputs& in, const std::string& metric, std::size_t pred_cols) {
  if (in.true_cols != 1)
    fail(ErrorCode::kInvalidArgument, "{}: y_true has {} columns; expected 1", metric,
         in.true_cols);
  if (pred_cols != 0 && in.pred_cols != pred_cols)
    fail(ErrorCode::kInvalidArgument, "{}: y_pred has {} columns; expected {}", metric,
         in.pred_cols, pred_cols);
  return check_matrix(in, metric);
}

void check_binary_truth(std::span<const double> y, std::size_t cols, const std::string& metric) {
  std::size_t bad = y.size();
#pragma omp parallel for reduction(min : bad) if (y.size() >= 65536)
  for (std::size_t i = 0; i < y.size(); ++i)
    if (y[i] != 0.0 && y[i] != 1.0 && i < bad) bad = i;
  if (bad < y.size()) {
    if (cols > 1)
      fail(ErrorCode::kInvalidArgument, "{}: y_true row {} column {} is {}; expected 0 or 1",
           metric, bad / cols, bad % cols, y[bad]);
    fail(ErrorCode::kInvalidArgument, "{}: y_true row {} is {}; expected 0 or 1", metric, bad,
         y[bad]);
  }
}

static bool is_integer(double v) {
  return std::floor(v) == v && std::fabs(v) < 9.0e15;
}

Labels class_labels(const Inputs& in, const std::string& metric) {
  std::size_t n = check_vector(in, metric, 0);
  Labels out;
  out.y_true.resize(n);
  for (std::size_t i = 0; i < n; ++i) {
    double v = in.y_true[i];
    if (!is_integer(v))
      fail(ErrorCode::kInvalidArgument, "{}: y_true row {} is {}; expected an integer class label",
           metric, i, v);
    out.y_true[i] = static_cast<std::int64_t>(v);
  }
  out.y_pred.resize(n);
  std::size_t k = in.pred_cols;
  if (k >= 2) {
    for (std::size_t i = 0; i < n; ++i) {
      if (out.y_true[i] < 0 || out.y_true[i] >= static_cast<std::int64_t>(k))
        fail(ErrorCode::kInvalidArgument,
             "{}: y_true row {} is {}; expected a class index 0..{} for {} probability columns",
             metric, i, out.y_true[i], k - 1, k);
      const double* row = in.y_pred.data() + i * k;
      out.y_pred[i] = std::max_element(row, row + k) - row;
    }
    return out;
  }
  bool all_integer = std::all_of(in.y_pred.begin(), in.y_pred.end(), is_integer);
  for (std::size_t i = 0; i < n; ++i) {
    double p = in.y_pred[i];
    if (all_integer) {
      out.y_pred[i] = static_cast<std::int64_t>(p);
    } else {
      if (p < 0.0 || p > 1.0)
        fail(ErrorCode::kInvalidArgument,
             "{}: y_pred row {} is {}; expected integer class labels, or probabilities of class 1 "
             "in [0, 1]",
             metric, i, p);
      out.y_pred[i] = p > 0.5 ? 1 : 0;
    }
  }
  return out;
}

}  // namespace detail
}  // namespace compe::metric
