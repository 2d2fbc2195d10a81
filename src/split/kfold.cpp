// The k-fold families that follow scikit-learn 1.2: KFold, StratifiedKFold, GroupKFold and
// StratifiedGroupKFold. With shuffle=false each reproduces the reference's folds exactly, which is
// why the order of operations (and of floating-point sums) below follows it step by step.

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "compe/error.hpp"
#include "common/numpy_compat.hpp"
#include "common/rng.hpp"
#include "split/splitters.hpp"

namespace compe::split::detail {

namespace {

std::size_t folds_of(const Spec& spec) { return static_cast<std::size_t>(spec.k); }

void check_groups_vs_k(const Codes& groups, int k) {
  if (groups.size() < static_cast<std::size_t>(k))
    fail(ErrorCode::kInvalidArgument,
         "k={} is greater than the number of groups ({}): use k <= {}", k, groups.size(),
         groups.size());
}

}  // namespace

std::vector<int> kfold(const Spec& spec, const Inputs& in, Warnings&) {
  const std::size_t n = in.rows, k = folds_of(spec);
  std::vector<std::size_t> rows(n);
  std::iota(rows.begin(), rows.end(), std::size_t{0});
  if (spec.shuffle) Rng(spec.seed).shuffle(std::span(rows));
  std::vector<int> folds(n);
  std::size_t pos = 0;
  for (std::size_t f = 0; f < k; ++f) {
    std::size_t size = n / k + (f < n % k ? 1 : 0);
    for (std::size_t i = 0; i < size; ++i) folds[rows[pos++]] = static_cast<int>(f);
  }
  return folds;
}

std::vector<int> stratified_kfold(const Spec& spec, const Inputs& in, Warnings& warnings) {
  const std::size_t n = in.rows, k = folds_of(spec);
  Codes classes = in.y_is_class ? encode_classes_first_seen(in.y) : encode_quantile_bins(in.y, spec.bins);
  check_class_counts(classes, spec.k, in.y_is_class ? "class" : "quantile bin", warnings);
  const std::size_t c_n = classes.size();
  // allocation[f][c]: members of class c that fold f validates. The reference deals the sorted
  // class codes round robin: position p of the sorted target goes to fold p % k.
  std::vector<std::size_t> allocation(k * c_n, 0);
  std::size_t p = 0;
  for (std::size_t c = 0; c < c_n; ++c) {
    for (std::int64_t i = 0; i < classes.count[c]; ++i, ++p) allocation[(p % k) * c_n + c]++;
  }
  // Each class's members, in row order, take their folds in blocks 0,0,..,1,1,..; shuffle=true
  // permutes the block labels of each class in turn.
  std::vector<std::vector<int>> per_class(c_n);
  for (std::size_t c = 0; c < c_n; ++c) {
    auto& labels = per_class[c];
    labels.reserve(static_cast<std::size_t>(classes.count[c]));
    for (std::size_t f = 0; f < k; ++f) labels.insert(labels.end(), allocation[f * c_n + c], static_cast<int>(f));
  }
  if (spec.shuffle) {
    Rng rng(spec.seed);
    for (auto& labels : per_class) rng.shuffle(std::span(labels));
  }
  std::vector<std::size_t> next(c_n, 0);
  std::vector<int> folds(n);
  for (std::size_t r = 0; r < n; ++r) {
    auto c = static_cast<std::size_t>(classes.code[r]);
    folds[r] = per_class[c][next[c]++];
  }
  return folds;
}

std::vector<int> group_kfold(const Spec& spec, const Inputs& in, Warnings&) {
  const std::size_t k = folds_of(spec);
  Codes groups = encode_groups(in.groups);
  check_groups_vs_k(groups, spec.k);
  const std::size_t g_n = groups.size();
  // Largest group first, each to the lightest fold (first of equal ones). The reference orders by
  // np.argsort(sizes)[::-1]; shuffle=true instead orders groups of equal size at random.
  std::vector<std::size_t> order;
  if (spec.shuffle) {
    order.resize(g_n);
    std::iota(order.begin(), order.end(), std::size_t{0});
    Rng(spec.seed).shuffle(std::span(order));
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return groups.count[a] > groups.count[b];
    });
  } else {
    order = numpy_argsort(groups.count);
    std::reverse(order.begin(), order.end());
  }
  std::vector<std::int64_t> load(k, 0);
  std::vector<int> group_fold(g_n, 0);
  for (std::size_t g : order) {
    std::size_t lightest = static_cast<std::size_t>(std::min_element(load.begin(), load.end()) - load.begin());
    load[lightest] += groups.count[g];
    group_fold[g] = static_cast<int>(lightest);
  }
  std::vector<int> folds(in.rows);
  for (std::size_t r = 0; r < in.rows; ++r) folds[r] = group_fold[static_cast<std::size_t>(groups.code[r])];
  return folds;
}

namespace {

// np.std(row, ddof=0) of n values spaced `stride` apart, with numpy's order of operations.
double numpy_std(const double* a, std::size_t n, std::size_t stride, std::vector<double>& scratch) {
  const double mean = numpy_sum(a, n, stride) / static_cast<double>(n);
  double small[8];
  double* sq = small;
  if (n > 8) {
    scratch.resize(n);
    sq = scratch.data();
  }
  for (std::size_t i = 0; i < n; ++i) {
    double d = a[i * stride] - mean;
    sq[i] = d * d;
  }
  return std::sqrt(numpy_sum(sq, n, 1) / static_cast<double>(n));
}

bool numpy_isclose(double a, double b) {
  if (std::isinf(a) || std::isinf(b)) return a == b;
  return std::fabs(a - b) <= 1e-8 + 1e-5 * std::fabs(b);
}

}  // namespace

std::vector<int> stratified_group_kfold(const Spec& spec, const Inputs& in, Warnings& warnings) {
  const std::size_t k = folds_of(spec);
  Codes classes = encode_classes_sorted(in.y);
  check_class_counts(classes, spec.k, "class", warnings);
  Codes groups = encode_groups(in.groups);
  check_groups_vs_k(groups, spec.k);
  const std::size_t c_n = classes.size(), g_n = groups.size();

  std::vector<double> group_counts(g_n * c_n, 0.0);
  for (std::size_t r = 0; r < in.rows; ++r)
    group_counts[static_cast<std::size_t>(groups.code[r]) * c_n + static_cast<std::size_t>(classes.code[r])] += 1.0;

  // Groups by decreasing std of their class counts; the sort is stable, so equal stds keep the
  // (shuffled) group order. Shuffling permutes group ids and their counts together.
  std::vector<std::size_t> order(g_n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  if (spec.shuffle) Rng(spec.seed).shuffle(std::span(order));
  std::vector<double> scratch;
  std::vector<double> group_std(g_n);
  for (std::size_t g = 0; g < g_n; ++g) group_std[g] = numpy_std(&group_counts[g * c_n], c_n, 1, scratch);
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return -group_std[a] < -group_std[b]; });

  std::vector<double> class_total(c_n);
  for (std::size_t c = 0; c < c_n; ++c) class_total[c] = static_cast<double>(classes.count[c]);
  std::vector<double> fold_counts(k * c_n, 0.0);
  std::vector<double> share(k * c_n, 0.0);  // fold_counts / class_total
  std::vector<double> std_per_class(c_n);
  std::vector<int> group_fold(g_n, 0);
  for (std::size_t g : order) {
    const double* gc = &group_counts[g * c_n];
    std::size_t best = 0;
    double min_eval = std::numeric_limits<double>::infinity();
    double min_samples = std::numeric_limits<double>::infinity();
    for (std::size_t f = 0; f < k; ++f) {
      // Evaluate the split with group g added to fold f: only fold f's shares change.
      for (std::size_t c = 0; c < c_n; ++c) share[f * c_n + c] = (fold_counts[f * c_n + c] + gc[c]) / class_total[c];
      for (std::size_t c = 0; c < c_n; ++c) std_per_class[c] = numpy_std(&share[c], k, c_n, scratch);
      for (std::size_t c = 0; c < c_n; ++c) share[f * c_n + c] = fold_counts[f * c_n + c] / class_total[c];
      const double eval = numpy_sum(std_per_class.data(), c_n, 1) / static_cast<double>(c_n);
      const double samples = numpy_sum(&fold_counts[f * c_n], c_n, 1);
      if (eval < min_eval || (numpy_isclose(eval, min_eval) && samples < min_samples)) {
        min_eval = eval;
        min_samples = samples;
        best = f;
      }
    }
    for (std::size_t c = 0; c < c_n; ++c) {
      fold_counts[best * c_n + c] += gc[c];
      share[best * c_n + c] = fold_counts[best * c_n + c] / class_total[c];
    }
    group_fold[g] = static_cast<int>(best);
  }
  std::vector<int> folds(in.rows);
  for (std::size_t r = 0; r < in.rows; ++r) folds[r] = group_fold[static_cast<std::size_t>(groups.code[r])];
  return folds;
}

}  // namespace compe::split::detail
