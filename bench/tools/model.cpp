// bench_model: times compe's model backends over k folds of a synthetic binary problem.
//   bench_model OUT_DIR ROWS FEATURES ROUNDS
// Writes OUT_DIR/x.f32 (row-major float32, NaN missing; the last two columns are categorical
// codes 0..9), OUT_DIR/y.f32 and prints one JSON line of timings and OOF AUCs. The peer script
// feeds the same files to xgboost's and scikit-learn's Python packages.

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <numeric>
#include <random>
#include <string>

#include <fmt/format.h>

#include "compe/model.hpp"

using namespace compe;
using namespace compe::model;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

double auc(const std::vector<double>& y, const std::vector<double>& s) {
  std::vector<std::size_t> o(y.size());
  std::iota(o.begin(), o.end(), 0);
  std::sort(o.begin(), o.end(), [&](auto a, auto b) { return s[a] < s[b]; });
  double pos = 0, rank_sum = 0;
  for (std::size_t i = 0; i < o.size();) {
    std::size_t j = i;
    while (j < o.size() && s[o[j]] == s[o[i]]) ++j;
    for (std::size_t t = i; t < j; ++t)
      if (y[o[t]] == 1) rank_sum += 0.5 * static_cast<double>(i + j + 1), ++pos;
    i = j;
  }
  double neg = static_cast<double>(y.size()) - pos;
  return (rank_sum - pos * (pos + 1) / 2) / (pos * neg);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: bench_model OUT_DIR ROWS FEATURES ROUNDS\n");
    return 2;
  }
  const std::string out = argv[1];
  const std::size_t n = std::stoul(argv[2]), p = std::stoul(argv[3]);
  const int rounds = std::stoi(argv[4]);
  const std::size_t k = 5;

  std::mt19937_64 rng(11);
  std::normal_distribution<double> norm;
  std::uniform_int_distribution<int> level(0, 9);
  std::vector<float> x(n * p);
  std::vector<float> y(n);
  std::vector<std::vector<double>> cols(p, std::vector<double>(n));
  for (std::size_t i = 0; i < n; ++i) {
    double score = 0;
    for (std::size_t f = 0; f < p; ++f) {
      double v = f + 2 >= p ? level(rng) : norm(rng);
      if (f + 2 < p) score += v * (f % 3 == 0 ? 1.0 : 0.2);
      else score += (static_cast<int>(v) % 3 - 1) * 0.8;
      if (f % 5 == 1 && i % 17 == 3) v = std::nan("");
      cols[f][i] = v;
      x[i * p + f] = static_cast<float>(v);
    }
    y[i] = score + norm(rng) > 0 ? 1.0f : 0.0f;
  }
  std::ofstream(out + "/x.f32", std::ios::binary).write(reinterpret_cast<const char*>(x.data()),
                                                        static_cast<std::streamsize>(x.size() * 4));
  std::ofstream(out + "/y.f32", std::ios::binary).write(reinterpret_cast<const char*>(y.data()),
                                                        static_cast<std::streamsize>(y.size() * 4));

  Table train, test;
  for (std::size_t f = 0; f < p; ++f) {
    train.add_column(Column::from_f64(fmt::format("f{}", f), cols[f]));
    test.add_column(Column::from_f64(fmt::format("f{}", f), std::vector<double>(cols[f].begin(), cols[f].begin() + static_cast<long>(n / 5))));
  }
  FeatureSpec spec;
  spec.categorical = {fmt::format("f{}", p - 2), fmt::format("f{}", p - 1)};
  auto t0 = std::chrono::steady_clock::now();
  auto fm = FeatureMatrix::build(train, test, spec);
  double build_s = seconds_since(t0);
  Target target;
  target.task = Task::kBinary;
  target.num_class = 2;
  target.y.assign(y.begin(), y.end());

  std::string json = fmt::format("{{\"rows\":{},\"features\":{},\"feature_matrix_s\":{:.4f}", n, p, build_s);
  for (std::string backend : {"xgboost", "linear"}) {
    auto model = make(backend);
    nlohmann::json params = backend == "xgboost"
                                ? nlohmann::json{{"num_boost_round", rounds}, {"early_stopping_rounds", 0},
                                                 {"eta", 0.1}, {"max_depth", 6}, {"nthread", 2},
                                                 {"max_cat_to_onehot", 1}}
                                : nlohmann::json{{"C", 1.0}, {"tol", 1e-6}};
    std::vector<double> oof(n);
    t0 = std::chrono::steady_clock::now();
    for (std::size_t fold = 0; fold < k; ++fold) {
      std::vector<std::size_t> tr, va;
      for (std::size_t i = 0; i < n; ++i) (i % k == fold ? va : tr).push_back(i);
      FoldData d;
      d.features = &fm;
      d.target = &target;
      d.train_rows = tr;
      d.valid_rows = va;
      d.fold = static_cast<int>(fold);
      d.threads = 2;
      auto r = model->fit_predict(d, params, nullptr);
      for (std::size_t i = 0; i < va.size(); ++i) oof[va[i]] = r.valid_pred[i];
    }
    double s = seconds_since(t0);
    json += fmt::format(",\"{}_s\":{:.4f},\"{}_auc\":{:.6f}", backend, s, backend,
                        auc(target.y, oof));
  }
  std::printf("%s}\n", json.c_str());
  return 0;
}
