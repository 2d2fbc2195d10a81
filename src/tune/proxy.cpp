// Proxy experiments for tuning: the row subsample, and the rank correlation that says how well
// proxy scores predict full-size ones.
#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

#include "compe/error.hpp"
#include "compe/stats.hpp"
#include "compe/tune.hpp"

namespace compe::tune {
namespace {

std::uint64_t mix(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

}  // namespace

nlohmann::json ProxyConfig::to_json() const {
  nlohmann::json j = nlohmann::json::object();
  if (rows_count > 0) {
    j["rows"] = rows_count;
  } else if (rows_fraction < 1.0) {
    j["rows"] = rows_fraction;
  }
  if (rounds > 0) j["rounds"] = rounds;
  if (folds > 0) j["folds"] = folds;
  return j;
}

std::vector<std::uint8_t> proxy_rows(const split::Inputs& inputs, std::span<const int> folds,
                                     const ProxyConfig& proxy, std::uint64_t seed) {
  const std::size_t n = inputs.rows;
  COMPE_ASSERT(folds.size() == n);
  double fraction = proxy.rows_fraction;
  if (proxy.rows_count > 0) {
    fraction = std::min(1.0, static_cast<double>(proxy.rows_count) / static_cast<double>(n));
  }
  std::vector<std::uint8_t> keep(n, 1);
  if (fraction >= 1.0 || n == 0) return keep;
  std::fill(keep.begin(), keep.end(), 0);
  const std::uint64_t salt = mix(seed ^ 0x70726f7879ULL);
  auto share = [&](std::size_t size) {
    return std::max<std::size_t>(
        1, static_cast<std::size_t>(std::llround(fraction * static_cast<double>(size))));
  };
  if (!inputs.groups.empty()) {
    // Whole groups, in a seeded order per fold, until the fold has its share of rows.
    std::map<int, std::map<std::int64_t, std::vector<std::size_t>>> by_fold;
    for (std::size_t r = 0; r < n; ++r) by_fold[folds[r]][inputs.groups[r]].push_back(r);
    for (auto& [fold, groups] : by_fold) {
      std::size_t rows = 0;
      std::vector<std::pair<std::uint64_t, const std::vector<std::size_t>*>> order;
      for (const auto& [g, members] : groups) {
        rows += members.size();
        order.emplace_back(mix(static_cast<std::uint64_t>(g) ^ salt), &members);
      }
      std::sort(order.begin(), order.end(),
                [](const auto& a, const auto& b) { return a.first < b.first; });
      const std::size_t want = share(rows);
      std::size_t taken = 0;
      for (const auto& [h, members] : order) {
        if (taken >= want) break;
        for (std::size_t r : *members) keep[r] = 1;
        taken += members->size();
      }
    }
    return keep;
  }
  // Cells of (fold, class) for a single class target, else one cell per fold.
  const bool by_class = inputs.y_is_class && inputs.y_cols == 1 && inputs.y.size() == n;
  std::map<std::pair<int, double>, std::vector<std::pair<std::uint64_t, std::size_t>>> cells;
  for (std::size_t r = 0; r < n; ++r) {
    cells[{folds[r], by_class ? inputs.y[r] : 0.0}].emplace_back(mix(r ^ salt), r);
  }
  for (auto& [cell, rows] : cells) {
    std::sort(rows.begin(), rows.end());
    const std::size_t want = std::min(rows.size(), share(rows.size()));
    for (std::size_t i = 0; i < want; ++i) keep[rows[i].second] = 1;
  }
  return keep;
}

double spearman(std::span<const double> a, std::span<const double> b) {
  return stats::spearman(a, b);
}

}  // namespace compe::tune
