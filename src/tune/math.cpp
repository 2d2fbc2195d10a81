// Random numbers, the normal helpers of TPE's truncated kernels and Student's t.
// The normal helpers follow Optuna 3.1's _truncnorm.py branch for branch, so that golden
// comparisons hold to rounding.
#include <cmath>
#include <limits>
#include <numbers>

#include "compe/error.hpp"
#include "compe/tune.hpp"

namespace compe::tune {
namespace {

std::uint64_t splitmix64(std::uint64_t& x) {
  std::uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

std::uint64_t rotl(std::uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}

double ndtr(double a) {
  const double x = a / std::numbers::sqrt2;
  if (x < -1 / std::numbers::sqrt2) return 0.5 * std::erfc(-x);
  if (x < 1 / std::numbers::sqrt2) return 0.5 + 0.5 * std::erf(x);
  return 1.0 - 0.5 * std::erfc(x);
}

double log_diff(double log_p, double log_q) {
  return log_p + std::log1p(-std::exp(log_q - log_p));
}

double log_add(double x, double y) {
  if (x == -std::numeric_limits<double>::infinity()) return y;
  if (y == -std::numeric_limits<double>::infinity()) return x;
  const double m = std::max(x, y);
  return m + std::log1p(std::exp(-std::abs(x - y)));
}

// The x with log_ndtr(x) = y (y <= 0): Newton's method kept inside a shrinking bracket.
double ndtri_exp(double y) {
  double lo = -100, hi = 100;
  double x = 0;
  for (int it = 0; it < 200; ++it) {
    const double f = log_ndtr(x) - y;
    if (f == 0) return x;
    if (f < 0) {
      lo = x;
    } else {
      hi = x;
    }
    // d/dx log Phi(x) = phi(x) / Phi(x).
    const double dlog = std::exp(-0.5 * x * x - 0.5 * std::log(2 * std::numbers::pi) - log_ndtr(x));
    double next = x - f / dlog;
    if (!(next > lo && next < hi) || !std::isfinite(next)) next = 0.5 * (lo + hi);
    if (std::abs(next - x) <= 1e-15 * std::max(1.0, std::abs(x)) || hi - lo <= 1e-15) {
      return next;
    }
    x = next;
  }
  return x;
}

// Regularised incomplete beta by its continued fraction (modified Lentz).
double beta_cf(double a, double b, double x) {
  constexpr double kTiny = 1e-300;
  const double qab = a + b, qap = a + 1, qam = a - 1;
  double c = 1, d = 1 - qab * x / qap;
  if (std::abs(d) < kTiny) d = kTiny;
  d = 1 / d;
  double h = d;
  for (int m = 1; m <= 500; ++m) {
    const int m2 = 2 * m;
    double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (std::abs(d) < kTiny) d = kTiny;
    c = 1 + aa / c;
    if (std::abs(c) < kTiny) c = kTiny;
    d = 1 / d;
    h *= d * c;
    aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (std::abs(d) < kTiny) d = kTiny;
    c = 1 + aa / c;
    if (std::abs(c) < kTiny) c = kTiny;
    d = 1 / d;
    const double del = d * c;
    h *= del;
    if (std::abs(del - 1) < 1e-15) break;
  }
  return h;
}

double beta_inc(double a, double b, double x) {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const double bt = std::exp(std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) +
                             a * std::log(x) + b * std::log1p(-x));
  if (x < (a + 1) / (a + b + 2)) return bt * beta_cf(a, b, x) / a;
  return 1 - bt * beta_cf(b, a, 1 - x) / b;
}

}  // namespace

Rng::Rng(std::uint64_t seed) {
  for (auto& s : s_) s = splitmix64(seed);
}

std::uint64_t Rng::next() {
  const std::uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const std::uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double Rng::uniform() {
  return static_cast<double>(next() >> 11) * 0x1.0p-53;
}

double Rng::uniform(double lo, double hi) {
  return lo + (hi - lo) * uniform();
}

std::uint64_t Rng::below(std::uint64_t n) {
  COMPE_ASSERT(n > 0);
  // Rejection keeps the draw unbiased.
  const std::uint64_t limit =
      std::numeric_limits<std::uint64_t>::max() - std::numeric_limits<std::uint64_t>::max() % n;
  std::uint64_t r;
  do {
    r = next();
  } while (r >= limit);
  return r % n;
}

double log_ndtr(double a) {
  if (a > 6) return -ndtr(-a);
  if (a > -20) return std::log(ndtr(a));
  // Asymptotic series of log Phi for very negative a.
  const double log_lhs = -0.5 * a * a - std::log(-a) - 0.5 * std::log(2 * std::numbers::pi);
  double last_total = 0, rhs = 1, numerator = 1, denom_factor = 1;
  const double denom_cons = 1 / (a * a);
  double sign = 1;
  int i = 0;
  while (std::abs(last_total - rhs) > std::numeric_limits<double>::epsilon() && i < 1000) {
    ++i;
    last_total = rhs;
    sign = -sign;
    denom_factor *= denom_cons;
    numerator *= 2 * i - 1;
    rhs += sign * numerator * denom_factor;
  }
  return log_lhs + std::log(rhs);
}

double log_gauss_mass(double a, double b) {
  // erf(x) is exactly -1 for x <= -6 (glibc returns tiny - 1), so a kernel this far inside its
  // bounds has log1p(-0 - 0) = -0 exactly: the shortcut spares two erf calls per kernel.
  if (a <= -6 * std::numbers::sqrt2 && b >= 6 * std::numbers::sqrt2) return -0.0;
  if (b <= 0) return log_diff(log_ndtr(b), log_ndtr(a));
  if (a > 0) return log_diff(log_ndtr(-a), log_ndtr(-b));
  return std::log1p(-(0.5 + 0.5 * std::erf(a / std::numbers::sqrt2)) -
                    (0.5 + 0.5 * std::erf(-b / std::numbers::sqrt2)));
}

double truncnorm_ppf(double q, double a, double b) {
  if (a == b) return std::numeric_limits<double>::quiet_NaN();
  if (q == 0) return a;
  if (q == 1) return b;
  if (a < 0) return ndtri_exp(log_add(log_ndtr(a), std::log(q) + log_gauss_mass(a, b)));
  return -ndtri_exp(log_add(log_ndtr(-b), std::log1p(-q) + log_gauss_mass(a, b)));
}

double student_t_cdf(double t, double df) {
  COMPE_ASSERT(df > 0);
  if (std::isnan(t)) return t;
  if (std::isinf(t)) return t > 0 ? 1.0 : 0.0;
  const double tail = 0.5 * beta_inc(0.5 * df, 0.5, df / (df + t * t));
  return t > 0 ? 1 - tail : tail;
}

}  // namespace compe::tune
