// Several objectives: non-domination ranks, hypervolume, the Pareto front, and the good/bad
// split and weights of Optuna 3.1's multi-objective TPE.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "compe/error.hpp"
#include "compe/tune.hpp"

namespace compe::tune {
namespace {

constexpr double kEps = 1e-12;

// a dominates b: no worse anywhere, better somewhere (all minimised).
bool dominates(const std::vector<double>& a, const std::vector<double>& b) {
  bool better = false;
  for (std::size_t k = 0; k < a.size(); ++k) {
    if (a[k] > b[k]) return false;
    if (a[k] < b[k]) better = true;
  }
  return better;
}

// Hypervolume of points already known to lie below the reference, by slicing along the last
// objective.
double hv_rec(std::vector<std::vector<double>> pts, const std::vector<double>& ref,
              std::size_t dims) {
  if (pts.empty()) return 0;
  if (dims == 1) {
    double lo = pts[0][0];
    for (const auto& p : pts) lo = std::min(lo, p[0]);
    return ref[0] - lo;
  }
  const std::size_t last = dims - 1;
  std::sort(pts.begin(), pts.end(),
            [&](const auto& a, const auto& b) { return a[last] < b[last]; });
  if (dims == 2) {
    double area = 0, best = ref[0];
    for (std::size_t i = 0; i < pts.size(); ++i) {
      best = std::min(best, pts[i][0]);
      const double next = i + 1 < pts.size() ? pts[i + 1][last] : ref[last];
      area += (ref[0] - best) * (next - pts[i][last]);
    }
    return area;
  }
  double volume = 0;
  std::vector<std::vector<double>> slice;
  for (std::size_t i = 0; i < pts.size(); ++i) {
    slice.push_back(pts[i]);
    const double next = i + 1 < pts.size() ? pts[i + 1][last] : ref[last];
    const double height = next - pts[i][last];
    if (height > 0) volume += height * hv_rec(slice, ref, last);
  }
  return volume;
}

std::vector<double> reference_of(const std::vector<std::vector<double>>& pts) {
  std::vector<double> worst = pts[0];
  for (const auto& p : pts) {
    for (std::size_t k = 0; k < worst.size(); ++k) worst[k] = std::max(worst[k], p[k]);
  }
  for (double& w : worst) {
    w = std::max(1.1 * w, 0.9 * w);
    if (w == 0) w = kEps;
  }
  return worst;
}

}  // namespace

std::vector<int> nondomination_ranks(const std::vector<std::vector<double>>& losses) {
  const std::size_t n = losses.size();
  std::vector<int> rank(n, -1);
  std::size_t unranked = n;
  std::vector<std::size_t> fresh;
  for (int r = 0; unranked > 0; ++r) {
    fresh.clear();
    for (std::size_t i = 0; i < n; ++i) {
      if (rank[i] != -1) continue;
      bool dominated = false;
      for (std::size_t j = 0; j < n && !dominated; ++j) {
        dominated = rank[j] == -1 && j != i && dominates(losses[j], losses[i]);
      }
      if (!dominated) fresh.push_back(i);
    }
    for (std::size_t i : fresh) rank[i] = r;
    unranked -= fresh.size();
  }
  return rank;
}

double hypervolume(const std::vector<std::vector<double>>& points,
                   const std::vector<double>& reference) {
  std::vector<std::vector<double>> inside;
  for (const auto& p : points) {
    COMPE_ASSERT(p.size() == reference.size());
    bool below = true;
    for (std::size_t k = 0; k < p.size() && below; ++k) below = p[k] < reference[k];
    if (below) inside.push_back(p);
  }
  return hv_rec(std::move(inside), reference, reference.size());
}

std::vector<FrozenTrial> pareto_front(std::span<const FrozenTrial> trials,
                                      std::span<const Direction> directions) {
  std::vector<const FrozenTrial*> complete;
  std::vector<std::vector<double>> losses;
  for (const FrozenTrial& t : trials) {
    if (t.state != TrialState::kComplete) continue;
    std::vector<double> v = t.values;
    if (v.empty() && t.value) v = {*t.value};
    if (v.size() != directions.size()) continue;
    for (std::size_t k = 0; k < v.size(); ++k) {
      if (directions[k] == Direction::kMaximize) v[k] = -v[k];
    }
    complete.push_back(&t);
    losses.push_back(std::move(v));
  }
  std::vector<FrozenTrial> front;
  for (std::size_t i = 0; i < complete.size(); ++i) {
    bool dominated = false;
    for (std::size_t j = 0; j < complete.size() && !dominated; ++j) {
      dominated = j != i && dominates(losses[j], losses[i]);
    }
    if (!dominated) front.push_back(*complete[i]);
  }
  return front;
}

std::pair<std::vector<std::size_t>, std::vector<std::size_t>> split_observations_multi(
    const std::vector<std::vector<double>>& losses, std::size_t n_below) {
  const std::size_t n = losses.size();
  n_below = std::min(n_below, n);
  const std::vector<int> rank = nondomination_ranks(losses);
  std::vector<std::size_t> below;
  int r = 0;
  for (;; ++r) {
    std::size_t count = 0;
    for (int x : rank) count += x == r;
    if (count == 0 || below.size() + count > n_below) break;
    for (std::size_t i = 0; i < n; ++i) {
      if (rank[i] == r) below.push_back(i);
    }
    if (below.size() == n_below) {
      ++r;
      break;
    }
  }
  if (below.size() < n_below) {
    // Greedy hypervolume subset selection within rank r, as Optuna's _solve_hssp.
    std::vector<std::size_t> idx;
    std::vector<std::vector<double>> vals;
    for (std::size_t i = 0; i < n; ++i) {
      if (rank[i] == r) {
        idx.push_back(i);
        vals.push_back(losses[i]);
      }
    }
    const std::vector<double> ref = reference_of(vals);
    std::vector<double> contrib(vals.size());
    for (std::size_t j = 0; j < vals.size(); ++j) contrib[j] = hypervolume({vals[j]}, ref);
    std::vector<std::vector<double>> selected;
    double hv_selected = 0;
    const std::size_t want = n_below - below.size();
    for (std::size_t s = 0; s < want; ++s) {
      const std::size_t best = static_cast<std::size_t>(
          std::max_element(contrib.begin(), contrib.end()) - contrib.begin());
      contrib[best] = -1;
      for (std::size_t j = 0; j < vals.size(); ++j) {
        if (contrib[j] == -1) continue;
        std::vector<double> p(vals[j].size());
        for (std::size_t k = 0; k < p.size(); ++k) p[k] = std::max(vals[best][k], vals[j][k]);
        std::vector<std::vector<double>> with = selected;
        with.push_back(std::move(p));
        contrib[j] -= hypervolume(with, ref) - hv_selected;
      }
      selected.push_back(vals[best]);
      below.push_back(idx[best]);
      hv_selected = hypervolume(selected, ref);
    }
  }
  std::vector<char> in_below(n, 0);
  for (std::size_t i : below) in_below[i] = 1;
  std::vector<std::size_t> above;
  for (std::size_t i = 0; i < n; ++i) {
    if (!in_below[i]) above.push_back(i);
  }
  return {std::move(below), std::move(above)};
}

std::vector<std::string> objective_names() {
  return {"cv", "fit_seconds", "wall_seconds"};
}

std::vector<double> multi_objective_weights(const std::vector<std::vector<double>>& losses) {
  const std::size_t n = losses.size();
  if (n == 0) return {};
  if (n == 1) return {1.0};
  const std::vector<double> ref = reference_of(losses);
  const double hv = hypervolume(losses, ref);
  std::vector<double> w(n);
  for (std::size_t i = 0; i < n; ++i) {
    std::vector<std::vector<double>> rest;
    for (std::size_t j = 0; j < n; ++j) {
      if (j != i) rest.push_back(losses[j]);
    }
    w[i] = hv - hypervolume(rest, ref) + kEps;
  }
  const double mx = *std::max_element(w.begin(), w.end());
  for (double& x : w) x = std::clamp(x / mx, 0.0, 1.0);
  return w;
}

}  // namespace compe::tune
