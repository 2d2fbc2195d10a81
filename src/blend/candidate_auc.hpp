#pragma once
// Exact ROC AUC of hill-climbing candidates (sum + p) / (k + 1) without a full sort per candidate.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace compe::blend::detail {

/// Binary labels (0/1) of the fit rows, checked once; usable when both classes occur.
struct AucLabels {
  std::vector<std::uint8_t> y;
  std::size_t n_pos = 0, n_neg = 0;
  /// nullopt-like: valid() is false when a label is not 0/1 or a class is missing (the caller then
  /// scores through the metric, which reports the problem).
  bool valid() const { return n_pos > 0 && n_neg > 0; }
};
AucLabels auc_labels(std::span<const double> y_true);

/// Reusable buffers of one thread.
struct AucScratch {
  std::vector<std::uint64_t> items, scratch;
  std::vector<std::uint32_t> hist[3];
  std::vector<double> pos, neg;
};

/// ROC AUC (ties count half, as scikit-learn) of the scores c[t] = (sum[t] + p[t]) / divisor,
/// computed exactly: the values are mapped onto 32-bit keys by a monotone map of [lo, hi] (bounds
/// of every c, lo <= c <= hi) and radix-sorted by key; pairs of different keys are ordered by
/// them, pairs sharing a key are compared on their values. Bit for bit the value compe's roc_auc
/// gives for the same c. Needs fewer than 2^31 rows.
double candidate_auc(const AucLabels& labels, std::span<const double> sum,
                     std::span<const double> p, double divisor, double lo, double hi,
                     AucScratch& scratch);

}  // namespace compe::blend::detail
