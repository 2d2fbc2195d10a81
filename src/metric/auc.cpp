// ROC AUC and average precision. Scores of positives and negatives are radix-sorted separately
// (keys only when unweighted) and walked from the highest score down, one group per distinct
// score, so ties count half as scikit-learn's trapezoid does, without a comparison sort.

#include <omp.h>
#include <sys/mman.h>

#include <cmath>
#include <cstdlib>
#include <memory>
#include <new>

#include "metric/detail.hpp"
#include "metric/radix_sort.hpp"

namespace compe::metric::detail {
namespace {

struct Weighted {
  std::uint64_t key;
  double w;
};
inline std::uint64_t key_of(std::uint64_t k) {
  return k;
}
inline std::uint64_t key_of(const Weighted& x) {
  return x.key;
}
inline double weight_of(std::uint64_t) {
  return 1.0;
}
inline double weight_of(const Weighted& x) {
  return x.w;
}

struct FreeDeleter {
  void operator()(void* p) const { std::free(p); }
};
template <typename Item>
using Buffer = std::unique_ptr<Item[], FreeDeleter>;

/// An uninitialised buffer of n items (every slot is written before it is read; zeroing would cost
/// as much as a radix pass). Large buffers ask for transparent huge pages: first touch of a fresh
/// 160 MB scratch area otherwise costs tens of thousands of page faults per call.
template <typename Item>
Buffer<Item> uninitialised(std::size_t n) {
  static_assert(std::is_trivially_copyable_v<Item>);
  constexpr std::size_t kHuge = std::size_t{2} << 20;
  std::size_t bytes = std::max<std::size_t>(1, n * sizeof(Item));
  void* p = nullptr;
  if (bytes >= 2 * kHuge) {
    bytes = (bytes + kHuge - 1) / kHuge * kHuge;
    p = std::aligned_alloc(kHuge, bytes);
    if (p != nullptr) ::madvise(p, bytes, MADV_HUGEPAGE);  // a hint; failure is harmless
  } else {
    p = std::malloc(bytes);
  }
  if (p == nullptr) throw std::bad_alloc();
  return Buffer<Item>(static_cast<Item*>(p));
}

/// One binary column split by class and sorted ascending by score.
template <typename Item>
struct Sorted {
  Buffer<Item> buffer, scratch;  // positives then negatives
  const Item* pos = nullptr;
  const Item* neg = nullptr;
  std::size_t n_pos = 0, n_neg = 0;
  double pos_w = 0, neg_w = 0;
};

/// Splits column `col` of scores (row stride `stride`) by label and sorts each side. Throws
/// unless every label is 0 or 1.
template <typename Item>
Sorted<Item> split_sort(const double* score, std::size_t stride, std::size_t col, const double* y,
                        std::size_t y_stride, std::size_t y_col, const double* w, std::size_t n,
                        const std::string& metric) {
  Sorted<Item> s;
  s.buffer = uninitialised<Item>(n);
  s.scratch = uninitialised<Item>(n);
  // Inside another parallel region a nested team has one thread: plan for the team we will get.
  int threads = n < (std::size_t{1} << 16) || omp_in_parallel() ? 1 : omp_get_max_threads();
  std::vector<std::size_t> pos_count(static_cast<std::size_t>(threads) + 1, 0);
  std::vector<std::size_t> neg_count(static_cast<std::size_t>(threads) + 1, 0);
  std::vector<std::size_t> first_bad(static_cast<std::size_t>(threads), n);
  std::size_t bad = n;  // first row whose label is neither 0 nor 1
#pragma omp parallel num_threads(threads)
  {
    const auto t = static_cast<std::size_t>(omp_get_thread_num());
    const auto nt = static_cast<std::size_t>(omp_get_num_threads());
    const std::size_t begin = n * t / nt, end = n * (t + 1) / nt;
    std::size_t p = 0, q = 0;
    for (std::size_t i = begin; i < end; ++i) {
      double v = y[i * y_stride + y_col];
      p += v == 1.0;
      q += v == 0.0;
    }
    if (p + q != end - begin)
      for (std::size_t i = begin; i < end; ++i) {
        double v = y[i * y_stride + y_col];
        if (v != 0.0 && v != 1.0) {
          first_bad[t] = i;
          break;
        }
      }
    pos_count[t + 1] = p;
    neg_count[t + 1] = q;
#pragma omp barrier
#pragma omp single
    {
      for (std::size_t u = 0; u < nt; ++u) {
        pos_count[u + 1] += pos_count[u];
        neg_count[u + 1] += neg_count[u];
        bad = std::min(bad, first_bad[u]);
      }
    }  // the barrier at the end of single publishes bad and the counts
    if (bad == n) {
      Item* pp = s.buffer.get() + pos_count[t];
      Item* nn = s.buffer.get() + pos_count[nt] + neg_count[t];
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
  }
  if (bad < n) {
    double v = y[bad * y_stride + y_col];
    if (y_stride > 1)
      fail(ErrorCode::kInvalidArgument, "{}: y_true row {} column {} is {}; expected 0 or 1",
           metric, bad, y_col, v);
    fail(ErrorCode::kInvalidArgument, "{}: y_true row {} is {}; expected 0 or 1", metric, bad, v);
  }
  s.n_pos = pos_count.back();
  s.n_neg = n - s.n_pos;
  Item* pos = s.buffer.get();
  Item* neg = pos + s.n_pos;
  Item* pos_tmp = s.scratch.get();
  Item* neg_tmp = pos_tmp + s.n_pos;
  auto key = [](const Item& x) { return key_of(x); };
  if (threads >= 4) {
    s.pos = radix_sort(pos, pos_tmp, s.n_pos, key, threads);
    s.neg = radix_sort(neg, neg_tmp, s.n_neg, key, threads);
  } else {
    // Few cores: the two classes sort side by side, each on one thread.
#pragma omp parallel sections num_threads(threads)
    {
#pragma omp section
      s.pos = radix_sort(pos, pos_tmp, s.n_pos, key);
#pragma omp section
      s.neg = radix_sort(neg, neg_tmp, s.n_neg, key);
    }
  }
  if constexpr (std::is_same_v<Item, Weighted>) {
    for (std::size_t i = 0; i < s.n_pos; ++i) s.pos_w += s.pos[i].w;
    for (std::size_t i = 0; i < s.n_neg; ++i) s.neg_w += s.neg[i].w;
  } else {
    s.pos_w = static_cast<double>(s.n_pos);
    s.neg_w = static_cast<double>(s.n_neg);
  }
  return s;
}

/// Calls fn(positive weight, negative weight) for each distinct score, highest first.
template <typename Item, typename Fn>
void walk_groups(const Sorted<Item>& s, Fn fn) {
  std::size_t i = s.n_pos, j = s.n_neg;
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
  if (s.n_pos == 0 || s.n_neg == 0)
    fail(ErrorCode::kInvalidArgument,
         "{}: only one class present in y_true ({}); ROC AUC is not defined in that case", metric,
         s.n_pos == 0 ? "all 0" : "all 1");
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
                                            nullptr, n, metric),
                  metric);
  return auc_of(split_sort<Weighted>(score.data(), stride, col, y.data(), y_stride, y_col, w.data(),
                                     n, metric),
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
      fail(ErrorCode::kInvalidArgument, "{}: y_true has {} label columns but y_pred {}", spec(), k,
           in.pred_cols);
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
    if (in.weights.empty())
      return ap_of(split_sort<std::uint64_t>(in.y_pred.data(), k, k - 1, in.y_true.data(), 1, 0,
                                             nullptr, n, spec()));
    return ap_of(split_sort<Weighted>(in.y_pred.data(), k, k - 1, in.y_true.data(), 1, 0,
                                      in.weights.data(), n, spec()));
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
