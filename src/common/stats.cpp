#include "compe/stats.hpp"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "compe/error.hpp"

namespace compe::stats {

std::vector<double> average_ranks(std::span<const double> v) {
  std::vector<std::size_t> idx(v.size());
  std::iota(idx.begin(), idx.end(), 0);
  std::stable_sort(idx.begin(), idx.end(), [&](std::size_t a, std::size_t b) { return v[a] < v[b]; });
  std::vector<double> rank(v.size());
  for (std::size_t i = 0; i < idx.size();) {
    std::size_t j = i;
    while (j + 1 < idx.size() && v[idx[j + 1]] == v[idx[i]]) ++j;
    const double r = 0.5 * static_cast<double>(i + j) + 1.0;
    for (std::size_t t = i; t <= j; ++t) rank[idx[t]] = r;
    i = j + 1;
  }
  return rank;
}

namespace {
bool all_finite(std::span<const double> v) {
  return std::all_of(v.begin(), v.end(), [](double x) { return std::isfinite(x); });
}
/// All values equal: no spread, even where rounding would leave a tiny centred sum.
bool constant(std::span<const double> v) {
  return std::all_of(v.begin(), v.end(), [&](double x) { return x == v[0]; });
}
}  // namespace

double pearson(std::span<const double> a, std::span<const double> b) {
  COMPE_ASSERT(a.size() == b.size());
  constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
  const std::size_t n = a.size();
  if (n < 2 || !all_finite(a) || !all_finite(b) || constant(a) || constant(b)) return kNaN;
  double ma = 0, mb = 0;
  for (std::size_t i = 0; i < n; ++i) {
    ma += a[i];
    mb += b[i];
  }
  ma /= static_cast<double>(n);
  mb /= static_cast<double>(n);
  double sab = 0, saa = 0, sbb = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const double da = a[i] - ma, db = b[i] - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  if (saa == 0 || sbb == 0) return kNaN;
  return std::clamp(sab / (std::sqrt(saa) * std::sqrt(sbb)), -1.0, 1.0);
}

double spearman(std::span<const double> a, std::span<const double> b) {
  COMPE_ASSERT(a.size() == b.size());
  if (a.size() < 2 || !all_finite(a) || !all_finite(b)) return std::numeric_limits<double>::quiet_NaN();
  return pearson(average_ranks(a), average_ranks(b));
}

}  // namespace compe::stats
