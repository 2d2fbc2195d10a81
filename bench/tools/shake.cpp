// Times compe::shake::simulate on synthetic binary or regression candidates.
// Usage: bench_shake ROWS CANDIDATES SIMULATIONS METRIC [THREADS] [PREDICTIONS_CSV]
// Prints one JSON line: {"metric", "rows", "candidates", "simulations", "seconds", "mean_private_0"}.
// With PREDICTIONS_CSV, writes y,p0,p1,... so that a peer can score the same data.
#include <cstdio>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <random>
#include <string>

#include <fmt/core.h>

#include "compe/shake.hpp"

int main(int argc, char** argv) {
  if (argc < 5) {
    std::fprintf(stderr, "usage: bench_shake ROWS CANDIDATES SIMULATIONS METRIC [THREADS] [PREDICTIONS_CSV]\n");
    return 2;
  }
  const std::size_t n = std::stoul(argv[1]), k = std::stoul(argv[2]), b = std::stoul(argv[3]);
  const std::string metric = argv[4];
  const std::size_t threads = argc > 5 ? std::stoul(argv[5]) : 0;
  const bool regression = metric == "rmse" || metric == "mae" || metric == "mse";
  std::mt19937_64 rng(1);
  std::normal_distribution<double> g(0, 1);
  compe::shake::Problem p;
  p.metric = metric;
  for (std::size_t i = 0; i < n; ++i) p.y_true.push_back(regression ? g(rng) : static_cast<double>(rng() % 2));
  for (std::size_t c = 0; c < k; ++c) {
    compe::shake::Candidate cand;
    cand.name = fmt::format("c{}", c);
    for (std::size_t i = 0; i < n; ++i) {
      double v = p.y_true[i] + (1.0 + 0.05 * static_cast<double>(c)) * g(rng);
      cand.pred.push_back(regression ? v : 1 / (1 + std::exp(-v)));
    }
    p.candidates.push_back(std::move(cand));
  }
  if (argc > 6) {
    std::ofstream out(argv[6]);
    out << "y";
    for (std::size_t c = 0; c < k; ++c) out << ",p" << c;
    out << "\n";
    for (std::size_t i = 0; i < n; ++i) {
      out << p.y_true[i];
      for (std::size_t c = 0; c < k; ++c) out << "," << fmt::format("{}", p.candidates[c].pred[i]);
      out << "\n";
    }
  }
  compe::shake::Options o;
  o.simulations = b;
  o.threads = threads;
  compe::shake::Result r = compe::shake::simulate(p, o);
  fmt::print("{{\"metric\": \"{}\", \"rows\": {}, \"candidates\": {}, \"simulations\": {}, \"seconds\": {:.3f}, "
             "\"mean_private_0\": {:.6f}}}\n",
             metric, n, k, b, r.seconds, r.candidates[0].private_score.mean);
  return 0;
}
