#pragma once
// Shared pieces of the metric families: input validation, deterministic parallel sums, label
// extraction, and the factories the registry table (builtin_metrics.cpp) points at.

#include <algorithm>
#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "compe/error.hpp"
#include "compe/metric.hpp"

namespace compe::metric::detail {

using Factory = std::unique_ptr<Metric> (*)(const Info&, std::optional<double>);

/// "name" or "name@arg" with the argument written in shortest round-trip form.
std::string canonical_spec(const Info& info, std::optional<double> arg);

/// Throws unless every value is finite, naming the metric, the array and the 0-based row.
void check_finite(std::span<const double> v, std::size_t cols, const char* what,
                  const std::string& metric);
/// Weights: one per row, finite, >= 0, positive sum. No-op when empty.
void check_weights(const Inputs& in, std::size_t rows, const std::string& metric);
/// y_true is rows x true_cols and y_pred rows x pred_cols, both finite, rows >= 1; returns rows.
std::size_t check_matrix(const Inputs& in, const std::string& metric);
/// check_matrix plus true_cols == 1 and pred_cols == expected (0 = any).
std::size_t check_vector(const Inputs& in, const std::string& metric, std::size_t pred_cols);
/// Throws unless every y_true value is 0 or 1.
void check_binary_truth(std::span<const double> y, std::size_t cols, const std::string& metric);

inline double weight(const Inputs& in, std::size_t i) {
  return in.weights.empty() ? 1.0 : in.weights[i];
}

/// Deterministic parallel reduction: fn(i, acc) adds row i into acc. Rows are summed in fixed
/// blocks whose partial sums are added in order, so the result does not depend on thread count.
template <std::size_t K, typename Fn>
std::array<double, K> block_sum(std::size_t n, Fn fn) {
  constexpr std::size_t kBlock = 1 << 14;
  std::size_t blocks = (n + kBlock - 1) / kBlock;
  std::vector<std::array<double, K>> part(blocks);
#pragma omp parallel for schedule(static) if (n >= 4 * kBlock)
  for (std::size_t b = 0; b < blocks; ++b) {
    std::array<double, K> acc{};
    std::size_t end = std::min(n, (b + 1) * kBlock);
    for (std::size_t i = b * kBlock; i < end; ++i) fn(i, acc);
    part[b] = acc;
  }
  std::array<double, K> total{};
  for (const auto& p : part)
    for (std::size_t k = 0; k < K; ++k) total[k] += p[k];
  return total;
}

/// Hard class labels of a classification input (see Inputs): y_true integers; y_pred from the
/// argmax of n x k probabilities, integer labels, or probabilities of class 1 thresholded at 0.5.
struct Labels {
  std::vector<std::int64_t> y_true, y_pred;
};
Labels class_labels(const Inputs& in, const std::string& metric);

/// Binary ROC AUC of scores against 0/1 labels (optionally weighted); throws when one class only.
double binary_auc(std::span<const double> score, std::size_t stride, std::size_t col,
                  std::span<const double> y, std::size_t y_stride, std::size_t y_col,
                  std::span<const double> w, const std::string& metric);

// Factories, one per family file.
std::unique_ptr<Metric> new_elementwise(const Info& info, std::optional<double> arg);
std::unique_ptr<Metric> new_log_loss(const Info& info, std::optional<double> arg);
std::unique_ptr<Metric> new_multilabel_log_loss(const Info& info, std::optional<double> arg);
std::unique_ptr<Metric> new_roc_auc(const Info& info, std::optional<double> arg);
std::unique_ptr<Metric> new_multilabel_auc(const Info& info, std::optional<double> arg);
std::unique_ptr<Metric> new_multilabel_f1(const Info& info, std::optional<double> arg);
std::unique_ptr<Metric> new_average_precision(const Info& info, std::optional<double> arg);
std::unique_ptr<Metric> new_classification(const Info& info, std::optional<double> arg);
std::unique_ptr<Metric> new_regression_stat(const Info& info, std::optional<double> arg);
std::unique_ptr<Metric> new_map(const Info& info, std::optional<double> arg);
std::unique_ptr<Metric> new_ndcg(const Info& info, std::optional<double> arg);
/// The detection rows (coco_map, coco_map50, kaggle_map, det_fbeta), src/metric/detection.cpp.
std::vector<Info> detection_rows();
/// The segmentation rows (dice, dice_global, iou), src/metric/segmentation.cpp.
std::vector<Info> segmentation_rows();

}  // namespace compe::metric::detail
