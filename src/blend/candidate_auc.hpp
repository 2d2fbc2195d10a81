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
  std::vector<double> value, pos, neg;
  std::vector<std::uint32_t> pos_count, neg_count;
};

/// ROC AUC (ties count half, as scikit-learn) of the scores c[t] = (sum[t] + p[t]) / divisor,
/// computed exactly: the values are bucketed by a monotone map of [lo, hi] (bounds of every c,
/// lo <= c <= hi), pairs in different buckets are counted from the bucket counts, and only each
/// bucket's few values are sorted. Bit for bit the value compe's roc_auc gives for the same c.
double candidate_auc(const AucLabels& labels, std::span<const double> sum,
                     std::span<const double> p, double divisor, double lo, double hi,
                     AucScratch& scratch);

}  // namespace compe::blend::detail
