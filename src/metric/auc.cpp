// ROC AUC and average precision. Scores of positives and negatives are radix-sorted separately
// (keys only when unweighted) and walked from the highest score down, one group per distinct
// score, so ties count half as scikit-learn's trapezoid does, without a comparison sort.

#include <omp.h>

#include <cmath>

#include "metric/detail.hpp"
#include "metric/radix_sort.hpp"

namespace compe::metric::detail {
namespace {

struct Weighted {
  std::uint64_t key;
  double w;
};
inline std::uint64_t key_of(std::uint64_t k) { return k; }
inline std::uint64_t key_of(const Weighted& x) { return x.key; }
inline double weight_of(std::uint64_t) { return 1.0; }
inline double weight_of(const Weighted& x) { return x.w; }

/// One binary column split by class and sorted ascending by score.
template <typename Item>
struct Sorted {
  std::vector<Item> pos, neg;
  double pos_w = 0, neg_w = 0;
};

/// Splits column `col` of scores (row stride `stride`) by label and sorts each side.
/// Labels must already be checked to be 0/1.
template <typename Item>
Sorted<Item> split_sort(const double* score, std::size_t stride, std::size_t col, const double* y,
                        std::size_t y_stride, std::size_t y_col, const double* w, std::size_t n) {
  Sorted<Item> s;
  int threads = n < (std::size_t{1} << 16) ? 1 : omp_get_max_threads();
  std::vector<std::size_t> pos_count(static_cast<std::size_t>(threads) + 1, 0);
  std::vector<std::size_t> neg_count(static_cast<std::size_t>(threads) + 1, 0);
#pragma omp parallel num_threads(threads)
  {
    const auto t = static_cast<std::size_t>(omp_get_thread_num());
    const auto nt = static_cast<std::size_t>(omp_get_num_threads());
    const std::size_t begin = n * t / nt, end = n * (t + 1) / nt;
    std::size_t p = 0;
    for (std::size_t i = begin; i < end; ++i) p += y[i * y_stride + y_col] != 0.0;
    pos_count[t + 1] = p;
    neg_count[t + 1] = (end - begin) - p;
#pragma omp barrier
#pragma omp single
    {
      for (std::size_t u = 0; u < nt; ++u) {
        pos_count[u + 1] += pos_count[u];
        neg_count[u + 1] += neg_count[u];
      }
      s.pos.resize(pos_count[nt]);
      s.neg.resize(neg_count[nt]);
    }
    Item* pp = s.pos.data() + pos_count[t];
    Item* nn = s.neg.data() + neg_count[t];
    for (std::size_t i = begin; i < end; ++i) {
      std::uint64_t k = order_key(score[i * stride + col]);
      Item item;
      if constexpr (std::is_same_v<Item, Weighted>) {
        item = Weighted{k, w[i]};
      } else {
        item = k;
      }
      if (y[i * y_stride + y_col] != 0.0)
        *pp++ = item;
      else
        *nn++ = item;
    }
  }
  std::vector<Item> tmp;
  radix_sort(s.pos, tmp, [](const Item& x) { return key_of(x); });
  radix_sort(s.neg, tmp, [](const Item& x) { return key_of(x); });
  if constexpr (std::is_same_v<Item, Weighted>) {
    for (const auto& x : s.pos) s.pos_w += x.w;
    for (const auto& x : s.neg) s.neg_w += x.w;
  } else {
    s.pos_w = static_cast<double>(s.pos.size());
    s.neg_w = static_cast<double>(s.neg.size());
  }
  return s;
}

/// Calls fn(positive weight, negative weight) for each distinct score, highest first.
template <typename Item, typename Fn>
void walk_groups(const Sorted<Item>& s, Fn fn) {
  std::size_t i = s.pos.size(), j = s.neg.size();
  while (i > 0 || j > 0) {
    std::uint64_t k = 0;
    if (i > 0) k = key_of(s.pos[i - 1]);
    if (j > 0) k = std::max(k, key_of(s.neg[j - 1]));
    double pw = 0, nw = 0;
    while (i > 0 && key_of(s.pos[i - 1]) == k) pw += weight_of(s.pos[--i]);
    while (j > 0 && key_of(s.neg[j - 1]) == k) nw += weight_of(s.neg[--j]);
    fn(pw, nw);
  }
}

template <typename Item>
double auc_of(const Sorted<Item>& s, const std::string& metric) {
  if (s.pos.empty() || s.neg.empty())
    fail(ErrorCode::kInvalidArgument,
         "{}: only one class present in y_true ({}); ROC AUC is not defined in that case", metric,
         s.pos.empty() ? "all 0" : "all 1");
  if (!(s.pos_w > 0) || !(s.neg_w > 0))
    fail(ErrorCode::kInvalidArgument,
         "{}: the {} rows all have weight 0; ROC AUC is not defined in that case", metric,
         s.pos_w > 0 ? "negative" : "positive");
  double above = 0, area = 0;
  walk_groups(s, [&](double pw, double nw) {
    area += nw * (above + 0.5 * pw);
    above += pw;
  });
  return area / (s.pos_w * s.neg_w);
}

template <typename Item>
double ap_of(const Sorted<Item>& s) {
  if (!(s.pos_w > 0)) return 0.0;  // scikit-learn: recall is set to 1 everywhere, so AP is 0
  double tp = 0, fp = 0, ap = 0;
  walk_groups(s, [&](double pw, double nw) {
    tp += pw;
    fp += nw;
    if (pw > 0) ap += (pw / s.pos_w) * (tp / (tp + fp));
  });
  return ap;
}

}  // namespace

double binary_auc(std::span<const double> score, std::size_t stride, std::size_t col,
                  std::span<const double> y, std::size_t y_stride, std::size_t y_col,
                  std::span<const double> w, const std::string& metric) {
  std::size_t n = y.size() / y_stride;
  if (w.empty())
    return auc_of(split_sort<std::uint64_t>(score.data(), stride, col, y.data(), y_stride, y_col,
                                            nullptr, n),
                  metric);
  return auc_of(
      split_sort<Weighted>(score.data(), stride, col, y.data(), y_stride, y_col, w.data(), n),
      metric);
}

namespace {

class RocAuc final : public Metric {
 public:
  RocAuc(const Info& info, std::string spec) : Metric(info, std::move(spec)) {}

  double score(const Inputs& in) const override {
    std::size_t n = check_vector(in, spec(), 0);
    std::size_t k = in.pred_cols;
    if (k <= 2) {
      check_binary_truth(in.y_true, 1, spec());
      return binary_auc(in.y_pred, k, k - 1, in.y_true, 1, 0, in.weights, spec());
    }
    for (std::size_t i = 0; i < n; ++i) {
      const double* row = in.y_pred.data() + i * k;
      double sum = 0;
      for (std::size_t j = 0; j < k; ++j) sum += row[j];
      if (!(std::fabs(1.0 - sum) <= 1e-8 + 1e-5 * std::fabs(sum)))
        fail(ErrorCode::kInvalidArgument,
             "{}: y_pred row {} sums to {}; multiclass ROC AUC needs probabilities summing to 1",
             spec(), i, sum);
    }
    std::vector<std::size_t> count(k, 0);
    for (std::size_t i = 0; i < n; ++i) {
      double v = in.y_true[i];
      if (!(v >= 0 && v < static_cast<double>(k) && v == std::floor(v)))
        fail(ErrorCode::kInvalidArgument,
             "{}: y_true row {} is {}; expected a class index 0..{} for {} probability columns",
             spec(), i, v, k - 1, k);
      ++count[static_cast<std::size_t>(v)];
    }
    for (std::size_t c = 0; c < k; ++c)
      if (count[c] == 0)
        fail(ErrorCode::kInvalidArgument,
             "{}: class {} never occurs in y_true; one-vs-rest ROC AUC needs every one of the {} "
             "classes present",
             spec(), c, k);
    std::vector<double> onehot(n);
    double total = 0;
    for (std::size_t c = 0; c < k; ++c) {
      for (std::size_t i = 0; i < n; ++i) onehot[i] = in.y_true[i] == static_cast<double>(c);
      total += binary_auc(in.y_pred, k, c, onehot, 1, 0, in.weights, spec());
    }
    return total / static_cast<double>(k);
  }
};

class MultilabelAuc final : public Metric {
 public:
  MultilabelAuc(const Info& info, std::string spec) : Metric(info, std::move(spec)) {}

  double score(const Inputs& in) const override {
    check_matrix(in, spec());
    std::size_t k = in.true_cols;
    if (in.pred_cols != k)
      fail(ErrorCode::kInvalidArgument, "{}: y_true has {} label columns but y_pred {}", spec(),
           k, in.pred_cols);
    check_binary_truth(in.y_true, k, spec());
    double total = 0;
    for (std::size_t c = 0; c < k; ++c) {
      try {
        total += binary_auc(in.y_pred, k, c, in.y_true, k, c, in.weights, spec());
      } catch (const Error& e) {
        fail(e.code(), "{} (label column {})", e.what(), c);
      }
    }
    return total / static_cast<double>(k);
  }
};

class AveragePrecision final : public Metric {
 public:
  AveragePrecision(const Info& info, std::string spec) : Metric(info, std::move(spec)) {}

  double score(const Inputs& in) const override {
    std::size_t n = check_vector(in, spec(), 0);
    std::size_t k = in.pred_cols;
    if (k > 2)
      fail(ErrorCode::kInvalidArgument, "{}: y_pred has {} columns; expected 1 (or 2) for binary",
           spec(), k);
    check_binary_truth(in.y_true, 1, spec());
    if (in.weights.empty())
      return ap_of(split_sort<std::uint64_t>(in.y_pred.data(), k, k - 1, in.y_true.data(), 1, 0,
                                             nullptr, n));
    return ap_of(split_sort<Weighted>(in.y_pred.data(), k, k - 1, in.y_true.data(), 1, 0,
                                      in.weights.data(), n));
  }
};

}  // namespace

std::unique_ptr<Metric> new_roc_auc(const Info& info, std::optional<double> arg) {
  return std::make_unique<RocAuc>(info, canonical_spec(info, arg));
}
std::unique_ptr<Metric> new_multilabel_auc(const Info& info, std::optional<double> arg) {
  return std::make_unique<MultilabelAuc>(info, canonical_spec(info, arg));
}
std::unique_ptr<Metric> new_average_precision(const Info& info, std::optional<double> arg) {
  return std::make_unique<AveragePrecision>(info, canonical_spec(info, arg));
}

}  // namespace compe::metric::detail
