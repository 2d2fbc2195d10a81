// Permutation importance on a fold's validation rows, shared by the backends that keep their
// fitted model in hand (xgboost, linear).
#include <algorithm>
#include <numeric>

#include "common/rng.hpp"
#include "compe/model.hpp"
#include "compe/util.hpp"

namespace compe::model {

void permutation_scores(const FoldData& data, std::span<const float> valid_values, const PredictValues& predict,
                        FoldResult& result) {
  if (data.permutation_repeats == 0 || !data.evaluator || !data.evaluator->score) return;
  const FeatureMatrix& fm = *data.features;
  const std::size_t nf = fm.num_features();
  const std::size_t n = valid_values.size() / std::max<std::size_t>(nf, 1);
  if (n < 2) return;
  std::vector<float> values(valid_values.begin(), valid_values.end());
  std::vector<std::size_t> order(n);
  std::vector<float> column(n);
  for (std::size_t f = 0; f < nf; ++f) {
    std::vector<double>& scores = result.permuted_scores[fm.features()[f].name];
    for (std::size_t r = 0; r < data.permutation_repeats; ++r) {
      std::iota(order.begin(), order.end(), std::size_t{0});
      Rng rng(data.seed * 1000003u + static_cast<std::uint64_t>(data.fold) * 10007u + f * 101u + r);
      rng.shuffle(std::span<std::size_t>(order));
      for (std::size_t i = 0; i < n; ++i) column[i] = valid_values[order[i] * nf + f];
      for (std::size_t i = 0; i < n; ++i) values[i * nf + f] = column[i];
      std::vector<double> pred = predict(values, n);
      scores.push_back(data.evaluator->score(pred, result.cols));
    }
    for (std::size_t i = 0; i < n; ++i) values[i * nf + f] = valid_values[i * nf + f];
  }
}

}  // namespace compe::model
