// The Parzen estimator of TPE, built as Optuna 3.1's _ParzenEstimator builds it (numpy 1.24's
// argsort included). Continuous kernels are scored as Optuna 3.1.0 scores them, without their
// -log(sigma) term (its truncnorm.logpdf drops it), unless TpeOptions::optuna31_kernels is off:
// then with the true density, as later Optuna versions score.
#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <numbers>
#include <numeric>

#include "compe/error.hpp"
#include "compe/tune.hpp"
#include "common/numpy_compat.hpp"

namespace compe::tune {
namespace {

constexpr double kEps = 1e-12;
constexpr double kSigma0Magnitude = 0.2;
constexpr double kInf = std::numeric_limits<double>::infinity();

// exp(d) for d in [-40, 0] within about one ulp, branch-free so that loops over kernels
// vectorise: d = k ln 2 + r with |r| <= ln(2)/2, exp(r) by its Taylor series to degree 13
// (truncation below 1e-17), 2^k written into the exponent bits.
inline double exp_small(double d) {
  constexpr double kLog2e = 1.4426950408889634;
  constexpr double kLn2Hi = 6.93147180369123816490e-01;
  constexpr double kLn2Lo = 1.90821492927058770002e-10;
  constexpr double kShift = 6755399441055744.0;  // 1.5 * 2^52: adding it rounds to an integer
  const double t = d * kLog2e + kShift;
  const double k = t - kShift;
  const double r = (d - k * kLn2Hi) - k * kLn2Lo;
  double p = 1.0 / 6227020800.0;
  p = p * r + 1.0 / 479001600.0;
  p = p * r + 1.0 / 39916800.0;
  p = p * r + 1.0 / 3628800.0;
  p = p * r + 1.0 / 362880.0;
  p = p * r + 1.0 / 40320.0;
  p = p * r + 1.0 / 5040.0;
  p = p * r + 1.0 / 720.0;
  p = p * r + 1.0 / 120.0;
  p = p * r + 1.0 / 24.0;
  p = p * r + 1.0 / 6.0;
  p = p * r + 0.5;
  p = p * r + 1.0;
  p = p * r + 1.0;
  const std::uint64_t bits = std::bit_cast<std::uint64_t>(t);
  const std::uint64_t scale = (bits - 0x4338000000000000ULL + 1023) << 52;
  return p * std::bit_cast<double>(scale);
}

double transform(const Distribution& d, double v) {
  return d.kind != ParamKind::kCategorical && d.log ? std::log(v) : v;
}

double untransform(const Distribution& d, double x) {
  switch (d.kind) {
    case ParamKind::kCategorical:
      return x;
    case ParamKind::kFloat:
      if (d.log) return std::exp(x);
      if (d.step) {
        const double v = std::nearbyint((x - d.low) / *d.step) * *d.step + d.low;
        return std::clamp(v, d.low, d.high);
      }
      return x;
    case ParamKind::kInt:
      if (d.log) return std::clamp(std::nearbyint(std::exp(x)), d.low, d.high);
      return std::clamp(std::nearbyint((x - d.low) / *d.step) * *d.step + d.low, d.low, d.high);
  }
  return x;
}

// Univariate TPE's bandwidths (Optuna 3.1's): each centre's distance to the farther of its two
// neighbours in sorted order (the bounds at the ends), written into `sigmas`. `given`: the
// observations' ascending order when known (else empty); the prior's centre is the last of
// `mus` when `prior`. Returns the centres' order.
std::vector<std::size_t> univariate_bandwidths(const std::vector<double>& mus, double low,
                                               double high, const std::vector<std::size_t>& given,
                                               std::size_t n, bool prior,
                                               const TpeOptions& options,
                                               std::vector<double>& sigmas) {
  const std::size_t m = mus.size();
  // numpy's argsort order among equal centres decides which of them gets which bandwidth:
  // without ties any sort gives it; with ties numpy's introsort is replayed exactly (finite
  // doubles mapped to int64 keys of the same order).
  std::vector<std::size_t> idx;
  if (!given.empty()) {
    // The given order of the observations, with the prior's centre merged in.
    COMPE_ASSERT(given.size() == n);
    idx.reserve(m);
    const auto at = std::partition_point(given.begin(), given.end(),
                                         [&](std::size_t i) { return mus[i] < mus[m - 1]; });
    idx.insert(idx.end(), given.begin(), prior ? at : given.end());
    if (prior) {
      idx.push_back(n);
      idx.insert(idx.end(), at, given.end());
    }
  } else {
    idx.resize(m);
    std::iota(idx.begin(), idx.end(), 0);
    std::sort(idx.begin(), idx.end(), [&](auto a, auto b) { return mus[a] < mus[b]; });
  }
  bool ties = false;
  for (std::size_t i = 1; i < m && !ties; ++i) ties = mus[idx[i]] == mus[idx[i - 1]];
  if (ties) {
    std::vector<std::int64_t> keys(m);
    for (std::size_t i = 0; i < m; ++i) {
      const double v = mus[i] == 0 ? 0.0 : mus[i];
      std::int64_t k;
      std::memcpy(&k, &v, sizeof k);
      keys[i] = k < 0 ? k ^ std::numeric_limits<std::int64_t>::max() : k;
    }
    idx = compe::numpy_argsort(keys);
  }
  std::vector<double> ends(m + 2);
  ends[0] = low;
  for (std::size_t i = 0; i < m; ++i) ends[i + 1] = mus[idx[i]];
  ends[m + 1] = high;
  std::vector<double> sorted(m);
  for (std::size_t i = 0; i < m; ++i) {
    sorted[i] = std::max(ends[i + 1] - ends[i], ends[i + 2] - ends[i + 1]);
  }
  if (!options.consider_endpoints && m + 2 >= 4) {
    sorted[0] = ends[2] - ends[1];
    sorted[m - 1] = ends[m] - ends[m - 1];
  }
  for (std::size_t i = 0; i < m; ++i) sigmas[idx[i]] = sorted[i];
  return idx;
}

}  // namespace

std::vector<double> default_tpe_weights(std::size_t n) {
  if (n < 25) return std::vector<double>(n, 1.0);
  std::vector<double> w(n, 1.0);
  const std::size_t ramp = n - 25;
  // numpy.linspace(1/n, 1, num=ramp)
  const double start = 1.0 / static_cast<double>(n);
  if (ramp == 1) {
    w[0] = start;
  } else {
    const double delta = (1.0 - start) / static_cast<double>(ramp - 1);
    for (std::size_t i = 0; i < ramp; ++i) w[i] = start + static_cast<double>(i) * delta;
    if (ramp > 1) w[ramp - 1] = 1.0;
  }
  return w;
}

std::size_t default_tpe_gamma(std::size_t n) {
  const auto g = static_cast<std::size_t>(std::ceil(0.1 * static_cast<double>(n)));
  return std::min<std::size_t>(g, 25);
}

std::pair<std::vector<std::size_t>, std::vector<std::size_t>> split_observations(
    const std::vector<std::pair<double, double>>& keys, std::size_t n_below) {
  std::vector<std::size_t> order(keys.size());
  std::iota(order.begin(), order.end(), 0);
  // NaN losses sort last, as numpy's structured argsort puts them.
  auto less = [&](std::size_t i, std::size_t j) {
    const auto& a = keys[i];
    const auto& b = keys[j];
    if (a.first != b.first) return a.first < b.first;
    if (std::isnan(a.second)) return false;
    if (std::isnan(b.second)) return true;
    return a.second < b.second;
  };
  std::stable_sort(order.begin(), order.end(), less);
  n_below = std::min(n_below, order.size());
  std::vector<std::size_t> below(order.begin(), order.begin() + static_cast<long>(n_below));
  std::vector<std::size_t> above(order.begin() + static_cast<long>(n_below), order.end());
  std::sort(below.begin(), below.end());
  std::sort(above.begin(), above.end());
  return {std::move(below), std::move(above)};
}

ParzenEstimator::ParzenEstimator(const std::vector<std::vector<double>>& observations,
                                 const std::vector<Distribution>& dists, const TpeOptions& options,
                                 std::vector<double> weights)
    : ParzenEstimator(observations, dists, options, std::move(weights),
                      std::vector<std::vector<std::size_t>>(dists.size())) {}

ParzenEstimator::ParzenEstimator(const std::vector<std::vector<double>>& observations,
                                 const std::vector<Distribution>& dists, const TpeOptions& options,
                                 std::vector<double> weights,
                                 const std::vector<std::vector<std::size_t>>& orders) {
  COMPE_ASSERT(!dists.empty() && observations.size() == dists.size());
  COMPE_ASSERT(orders.size() == dists.size());
  const std::size_t n = observations[0].size();
  const bool prior = options.consider_prior || n == 0;
  if (weights.empty()) weights = default_tpe_weights(n);
  COMPE_ASSERT(weights.size() == n);
  weights_ = weights;
  if (prior) weights_.push_back(options.prior_weight);
  const double total = std::accumulate(weights_.begin(), weights_.end(), 0.0);
  for (double& w : weights_) w /= total;
  log_weights_.resize(weights_.size());
  for (std::size_t k = 0; k < weights_.size(); ++k) log_weights_[k] = std::log(weights_[k]);

  const double sigmas0 =
      kSigma0Magnitude * std::pow(static_cast<double>(std::max<std::size_t>(n, 1)),
                                  -1.0 / (static_cast<double>(dists.size()) + 4.0));

  params_.resize(dists.size());
  std::vector<std::size_t> centre_order;  // one univariate parameter: its centres in order
  for (std::size_t p = 0; p < dists.size(); ++p) {
    Param& par = params_[p];
    const Distribution& d = dists[p];
    par.dist = d;
    const std::vector<double>& obs = observations[p];
    COMPE_ASSERT(obs.size() == n);
    if (d.kind == ParamKind::kCategorical) {
      const std::size_t k = d.choices.size();
      const std::size_t rows = prior ? n + 1 : n;
      const double value = options.prior_weight / static_cast<double>(prior ? n + 1 : n);
      par.cat.assign(rows, std::vector<double>(k, value));
      for (std::size_t i = 0; i < n; ++i) par.cat[i][static_cast<std::size_t>(obs[i])] += 1.0;
      for (auto& row : par.cat) {
        const double s = std::accumulate(row.begin(), row.end(), 0.0);
        for (double& v : row) v /= s;
      }
      continue;
    }
    if (d.kind == ParamKind::kFloat) {
      if (d.log) {
        par.low = std::log(d.low);
        par.high = std::log(d.high);
      } else if (d.step) {
        par.q = *d.step;
        par.low = d.low - 0.5 * *d.step;
        par.high = d.high + 0.5 * *d.step;
      } else {
        par.low = d.low;
        par.high = d.high;
      }
    } else if (d.log) {
      par.low = std::log(d.low - 0.5);
      par.high = std::log(d.high + 0.5);
    } else {
      par.q = *d.step;
      par.low = d.low - 0.5 * *d.step;
      par.high = d.high + 0.5 * *d.step;
    }
    COMPE_ASSERT(par.low < par.high);
    const double low = par.low, high = par.high;
    std::vector<double>& mus = par.mus;
    mus.resize(n);
    for (std::size_t i = 0; i < n; ++i) mus[i] = transform(d, obs[i]);
    if (prior) mus.push_back(0.5 * (low + high));
    const std::size_t m = mus.size();
    std::vector<double>& sigmas = par.sigmas;
    sigmas.assign(m, 0.0);
    if (options.multivariate) {
      std::fill(sigmas.begin(), sigmas.end(), sigmas0 * (high - low));
    } else {
      std::vector<std::size_t> idx =
          univariate_bandwidths(mus, low, high, orders[p], n, prior, options, sigmas);
      if (dists.size() == 1) centre_order = std::move(idx);
    }
    const double maxsigma = high - low;
    const double minsigma = options.consider_magic_clip
                                ? (high - low) / std::min(100.0, 1.0 + static_cast<double>(m))
                                : kEps;
    for (double& s : sigmas) s = std::clamp(s, minsigma, maxsigma);
    if (prior) sigmas[n] = high - low;
    par.log_mass.resize(m);
    par.log_norm.resize(m);
    par.inv_sigma.resize(m);
    const double log_sqrt_2pi = 0.5 * std::log(2 * std::numbers::pi);
    double last_sigma = -1, last_log = 0;  // most bandwidths are the clip: one log for them
    for (std::size_t k = 0; k < m; ++k) {
      par.log_mass[k] = log_gauss_mass((low - mus[k]) / sigmas[k], (high - mus[k]) / sigmas[k]);
      if (sigmas[k] != last_sigma) {
        last_sigma = sigmas[k];
        last_log = std::log(last_sigma);
      }
      par.log_norm[k] =
          log_sqrt_2pi + par.log_mass[k] + (options.optuna31_kernels ? 0.0 : last_log);
      par.inv_sigma[k] = 1.0 / sigmas[k];
    }
  }
  if (params_.size() == 1 && params_[0].dist.kind != ParamKind::kCategorical &&
      !params_[0].q) {
    const Param& par = params_[0];
    const std::size_t m = par.mus.size();
    std::vector<std::size_t> order = std::move(centre_order);
    if (order.size() != m) {
      order.resize(m);
      std::iota(order.begin(), order.end(), 0);
      std::sort(order.begin(), order.end(),
                [&](auto a, auto b) { return par.mus[a] < par.mus[b]; });
    }
    Sorted1D f;
    f.mu.resize(m);
    f.inv_sigma.resize(m);
    f.c0.resize(m);
    for (std::size_t i = 0; i < m; ++i) {
      const std::size_t k = order[i];
      f.mu[i] = par.mus[k];
      f.inv_sigma[i] = par.inv_sigma[k];
      f.c0[i] = log_weights_[k] - par.log_norm[k];
    }
    constexpr std::size_t kBlock = 32;
    for (std::size_t b = 0; b < m; b += kBlock) {
      Sorted1D::Block blk;
      blk.begin = b;
      blk.end = std::min(m, b + kBlock);
      blk.mu_lo = f.mu[blk.begin];
      blk.mu_hi = f.mu[blk.end - 1];
      blk.inv_sigma_min = *std::min_element(f.inv_sigma.begin() + static_cast<long>(blk.begin),
                                            f.inv_sigma.begin() + static_cast<long>(blk.end));
      blk.c0_max = *std::max_element(f.c0.begin() + static_cast<long>(blk.begin),
                                     f.c0.begin() + static_cast<long>(blk.end));
      f.blocks.push_back(blk);
    }
    sorted1d_ = std::move(f);
  }
}

std::vector<std::vector<double>> ParzenEstimator::sample(Rng& rng, std::size_t size) const {
  std::vector<double> cum(weights_.size());
  std::partial_sum(weights_.begin(), weights_.end(), cum.begin());
  std::vector<std::size_t> active(size);
  for (std::size_t j = 0; j < size; ++j) {
    const double u = rng.uniform() * cum.back();
    active[j] = std::min<std::size_t>(
        static_cast<std::size_t>(std::upper_bound(cum.begin(), cum.end(), u) - cum.begin()),
        cum.size() - 1);
  }
  std::vector<std::vector<double>> out(params_.size(), std::vector<double>(size));
  for (std::size_t p = 0; p < params_.size(); ++p) {
    const Param& par = params_[p];
    for (std::size_t j = 0; j < size; ++j) {
      const std::size_t k = active[j];
      if (par.dist.kind == ParamKind::kCategorical) {
        const double u = rng.uniform();
        double c = 0;
        std::size_t idx = 0;
        for (double w : par.cat[k]) {
          c += w;
          if (c < u) ++idx;
        }
        out[p][j] = static_cast<double>(std::min(idx, par.cat[k].size() - 1));
        continue;
      }
      const double mu = par.mus[k], sigma = par.sigmas[k];
      double u = rng.uniform();
      if (u == 0) u = 0x1.0p-53;
      const double x =
          truncnorm_ppf(u, (par.low - mu) / sigma, (par.high - mu) / sigma) * sigma + mu;
      out[p][j] = untransform(par.dist, std::clamp(x, par.low, par.high));
    }
  }
  return out;
}

std::vector<double> ParzenEstimator::log_pdf(
    const std::vector<std::vector<double>>& samples) const {
  COMPE_ASSERT(samples.size() == params_.size());
  const std::size_t size = samples.empty() ? 0 : samples[0].size();
  const std::size_t m = weights_.size();
  if (sorted1d_) return log_pdf_sorted(samples[0]);
  const std::vector<double>& log_w = log_weights_;
  std::vector<double> out(size);
  std::vector<double> comp(m);
  for (std::size_t j = 0; j < size; ++j) {
    comp = log_w;
    for (std::size_t p = 0; p < params_.size(); ++p) {
      const Param& par = params_[p];
      const double v = samples[p][j];
      if (par.dist.kind == ParamKind::kCategorical) {
        const auto c = static_cast<std::size_t>(v);
        for (std::size_t k = 0; k < m; ++k) comp[k] += std::log(par.cat[k][c]);
        continue;
      }
      const double x = transform(par.dist, v);
      if (!par.q) {
        if (x < par.low || x > par.high) {
          std::fill(comp.begin(), comp.end(), -kInf);
          continue;
        }
        const double* mu = par.mus.data();
        const double* inv = par.inv_sigma.data();
        const double* norm = par.log_norm.data();
        for (std::size_t k = 0; k < m; ++k) {
          const double z = (x - mu[k]) * inv[k];
          comp[k] += -0.5 * z * z - norm[k];
        }
      } else {
        const double lo = std::max(x - 0.5 * *par.q, par.low);
        const double hi = std::min(x + 0.5 * *par.q, par.high);
        for (std::size_t k = 0; k < m; ++k) {
          comp[k] +=
              log_gauss_mass((lo - par.mus[k]) / par.sigmas[k], (hi - par.mus[k]) / par.sigmas[k]) -
              par.log_mass[k];
        }
      }
    }
    const double mx = *std::max_element(comp.begin(), comp.end());
    if (!std::isfinite(mx)) {
      out[j] = mx;
      continue;
    }
    // Terms below exp(-40) of the largest change the sum by less than 1e-17: skip their exp.
    double s = 0;
    for (double c : comp) {
      const double d = c - mx;
      if (d > -40) s += std::exp(d);
    }
    out[j] = std::log(s) + mx;
  }
  return out;
}

// Built twice, for AVX2 and for any x86-64, the copy picked at load time: the kernel loops run on
// 4 doubles at a time where the CPU has AVX2, with the same operations and so the same values
// (no FMA).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)  // clang takes it only on a first declaration
__attribute__((target_clones("avx2", "default")))
#endif
std::vector<double> ParzenEstimator::log_pdf_sorted(const std::vector<double>& xs) const {
  const Sorted1D& f = *sorted1d_;
  const Param& par = params_[0];
  const std::size_t nb = f.blocks.size();
  std::vector<double> out(xs.size());
  std::vector<double> comp(f.mu.size()), bound(nb);
  std::vector<char> done(nb);
  for (std::size_t j = 0; j < xs.size(); ++j) {
    const double x = transform(par.dist, xs[j]);
    if (x < par.low || x > par.high) {
      out[j] = -kInf;
      continue;
    }
    // An upper bound of every term in a block: its largest constant, its widest kernel at the
    // block's nearest centre.
    std::size_t first = 0;
    for (std::size_t b = 0; b < nb; ++b) {
      const auto& blk = f.blocks[b];
      const double dist = x < blk.mu_lo ? blk.mu_lo - x : x > blk.mu_hi ? x - blk.mu_hi : 0.0;
      const double z = dist * blk.inv_sigma_min;
      bound[b] = blk.c0_max - 0.5 * z * z;
      if (bound[b] > bound[first]) first = b;
    }
    double mx = -kInf;
    const double* mu = f.mu.data();
    const double* inv = f.inv_sigma.data();
    const double* c0 = f.c0.data();
    double* cp = comp.data();
    auto eval = [&](std::size_t b) {
      const auto& blk = f.blocks[b];
      for (std::size_t k = blk.begin; k < blk.end; ++k) {
        const double z = (x - mu[k]) * inv[k];
        cp[k] = c0[k] - 0.5 * z * z;
      }
      for (std::size_t k = blk.begin; k < blk.end; ++k) mx = std::max(mx, cp[k]);
      done[b] = 1;
    };
    std::fill(done.begin(), done.end(), 0);
    eval(first);
    // Blocks whose bound lies 40 below a term already seen hold only terms that the sum below
    // skips anyway (and none of them is the largest).
    for (std::size_t b = 0; b < nb; ++b) {
      if (b != first && bound[b] >= mx - 40) eval(b);
    }
    if (!std::isfinite(mx)) {
      out[j] = mx;
      continue;
    }
    double s = 0;
    for (std::size_t b = 0; b < nb; ++b) {
      if (!done[b]) continue;
      // Both sides are computed, then one is selected: with -fno-trapping-math (CMakeLists.txt)
      // the loop vectorises; the values are the same as with a branch.
      const std::size_t kb = f.blocks[b].begin, ke = f.blocks[b].end;
      for (std::size_t k = kb; k < ke; ++k) {
        const double d = cp[k] - mx;
        const double e = exp_small(d > -40.0 ? d : -40.0);
        cp[k] = d > -40.0 ? e : 0.0;
      }
      double part[4] = {0, 0, 0, 0};
      std::size_t k = f.blocks[b].begin;
      for (; k + 4 <= f.blocks[b].end; k += 4) {
        for (int u = 0; u < 4; ++u) part[u] += cp[k + static_cast<std::size_t>(u)];
      }
      for (; k < f.blocks[b].end; ++k) part[0] += cp[k];
      s += (part[0] + part[1]) + (part[2] + part[3]);
    }
    out[j] = std::log(s) + mx;
  }
  return out;
}

}  // namespace compe::tune
