// Ranking metrics: map@k over ranked label lists (Kaggle's apk/mapk) and ndcg@k over score
// matrices (scikit-learn's ndcg_score, ties in scores averaged).

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "metric/detail.hpp"

namespace compe::metric::detail {
namespace {

class MapAtK final : public Metric {
 public:
  MapAtK(const Info& info, std::string spec, std::size_t k)
      : Metric(info, std::move(spec)), k_(k) {}

  double score(const Inputs& in) const override {
    if (in.true_lists == nullptr || in.pred_lists == nullptr)
      fail(ErrorCode::kInvalidArgument, "{}: needs true and predicted label lists", spec());
    const LabelLists& t = *in.true_lists;
    const LabelLists& p = *in.pred_lists;
    std::size_t n = t.rows();
    if (p.rows() != n)
      fail(ErrorCode::kInvalidArgument, "{}: {} predicted lists for {} true lists", spec(),
           p.rows(), n);
    if (n == 0) fail(ErrorCode::kInvalidArgument, "{}: no rows to score", spec());
    if (!in.weights.empty())
      fail(ErrorCode::kInvalidArgument, "{}: does not take sample weights", spec());
    double total = 0;
    std::vector<std::int64_t> actual;
    for (std::size_t i = 0; i < n; ++i) {
      auto truth = t.row(i);
      auto pred = p.row(i);
      if (truth.empty()) continue;  // apk of an empty truth is 0
      actual.assign(truth.begin(), truth.end());
      std::sort(actual.begin(), actual.end());
      actual.erase(std::unique(actual.begin(), actual.end()), actual.end());
      std::size_t m = std::min(pred.size(), k_);
      double hits = 0, s = 0;
      for (std::size_t j = 0; j < m; ++j) {
        if (!std::binary_search(actual.begin(), actual.end(), pred[j])) continue;
        if (std::find(pred.begin(), pred.begin() + static_cast<std::ptrdiff_t>(j), pred[j]) !=
            pred.begin() + static_cast<std::ptrdiff_t>(j))
          continue;
        hits += 1;
        s += hits / static_cast<double>(j + 1);
      }
      // Kaggle's apk divides by min(len(actual), k) with actual as given (duplicates counted).
      total += s / static_cast<double>(std::min(truth.size(), k_));
    }
    return total / static_cast<double>(n);
  }

 private:
  std::size_t k_;
};

class Ndcg final : public Metric {
 public:
  Ndcg(const Info& info, std::string spec, std::size_t k) : Metric(info, std::move(spec)), k_(k) {}

  double score(const Inputs& in) const override {
    std::size_t n = check_matrix(in, spec());
    std::size_t d = in.true_cols;
    if (in.pred_cols != d)
      fail(ErrorCode::kInvalidArgument, "{}: y_true has {} columns but y_pred {}", spec(), d,
           in.pred_cols);
    if (d < 2)
      fail(ErrorCode::kInvalidArgument,
           "{}: y_true has {} column; NDCG needs more than one document per row", spec(), d);
    for (std::size_t i = 0; i < in.y_true.size(); ++i)
      if (in.y_true[i] < 0)
        fail(ErrorCode::kInvalidArgument,
             "{}: y_true row {} column {} is {}; expected a relevance >= 0", spec(), i / d, i % d,
             in.y_true[i]);
    std::size_t k = std::min(k_, d);
    std::vector<double> discount_cumsum(d);
    double run = 0;
    for (std::size_t j = 0; j < d; ++j) {
      if (j < k) run += 1.0 / std::log2(static_cast<double>(j) + 2.0);
      discount_cumsum[j] = run;
    }
    std::vector<std::size_t> order(d);
    std::vector<double> ideal(d);
    double total = 0, wsum = 0;
    for (std::size_t i = 0; i < n; ++i) {
      const double* rel = in.y_true.data() + i * d;
      const double* sc = in.y_pred.data() + i * d;
      ideal.assign(rel, rel + d);
      std::sort(ideal.begin(), ideal.end(), std::greater<>());
      double idcg = 0;
      for (std::size_t j = 0; j < k; ++j)
        idcg += ideal[j] / std::log2(static_cast<double>(j) + 2.0);
      // DCG with tied scores sharing the mean gain of their group.
      std::iota(order.begin(), order.end(), 0);
      std::sort(order.begin(), order.end(),
                [&](std::size_t a, std::size_t b) { return sc[a] > sc[b]; });
      double dcg = 0, prev_cum = 0;
      for (std::size_t a = 0; a < d;) {
        std::size_t b = a;
        double gain = 0;
        while (b < d && sc[order[b]] == sc[order[a]]) gain += rel[order[b++]];
        double cum = discount_cumsum[b - 1];
        dcg += gain / static_cast<double>(b - a) * (cum - prev_cum);
        prev_cum = cum;
        a = b;
      }
      double w = weight(in, i);
      total += w * (idcg == 0 ? 0.0 : dcg / idcg);
      wsum += w;
    }
    return total / wsum;
  }

 private:
  std::size_t k_;
};

std::size_t k_of(std::optional<double> arg) {
  return arg ? static_cast<std::size_t>(*arg) : std::numeric_limits<std::size_t>::max();
}

}  // namespace

std::unique_ptr<Metric> new_map(const Info& info, std::optional<double> arg) {
  return std::make_unique<MapAtK>(info, canonical_spec(info, arg), k_of(arg));
}
std::unique_ptr<Metric> new_ndcg(const Info& info, std::optional<double> arg) {
  return std::make_unique<Ndcg>(info, canonical_spec(info, arg), k_of(arg));
}

}  // namespace compe::metric::detail
