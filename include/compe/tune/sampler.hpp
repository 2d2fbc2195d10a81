#pragma once
/// Samplers: the interface, TPE's settings and its Parzen estimator (public for tests and golden
/// checks), and the sampler registry (random, grid, tpe; one src/tune/sampler_<name>.cpp each).

#include <nlohmann/json.hpp>

#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "compe/tune/space.hpp"
#include "compe/tune/trial.hpp"

namespace compe::tune {

/// Chooses parameters for a new trial. Relative sampling sees the whole space at once;
/// independent sampling then fills each parameter the relative step left out.
class Sampler {
 public:
  virtual ~Sampler() = default;
  /// Internal values for some (or none) of the space's parameters.
  virtual std::map<std::string, double> sample_relative(const StudyView& study, Rng& rng) = 0;
  /// One parameter's internal value.
  virtual double sample_independent(const StudyView& study, const std::string& name,
                                    const Distribution& dist, Rng& rng) = 0;
  /// Whether the sampler has nothing left to propose (grid: every point asked).
  virtual bool exhausted(const StudyView& /*study*/) const { return false; }
};

/// TPE settings (defaults are Optuna 3.1's).
struct TpeOptions {
  bool consider_prior = true;
  double prior_weight = 1.0;
  bool consider_magic_clip = true;
  bool consider_endpoints = false;
  int n_startup_trials = 10;
  int n_ei_candidates = 24;
  bool multivariate = false;   ///< one joint Parzen estimator over the whole space
  bool constant_liar = false;  ///< running trials count as the worst (parallel workers)
  /// Score candidates as Optuna 3.1.0 does (the default): continuous kernels without their
  /// -log(sigma) term, so wide kernels weigh more than a true density gives them. Off: true
  /// densities (as later Optuna versions score), which found worse optima at 100 trials on
  /// Branin and Hartmann6 over 100 seeds (bench/results/tune.md).
  bool optuna31_kernels = true;
};

/// Parzen estimator (one kernel mixture over one or more parameters), as Optuna 3.1 builds it.
/// Public for tests and golden checks.
class ParzenEstimator {
 public:
  /// observations[p][i]: internal value of parameter p (in space order) of observation i.
  /// `weights`: one per observation (empty = Optuna's default ramp).
  ParzenEstimator(const std::vector<std::vector<double>>& observations,
                  const std::vector<Distribution>& dists, const TpeOptions& options,
                  std::vector<double> weights = {});
  /// The same estimator, given orders[p]: the indices of observations[p] in ascending order of
  /// value (ties in any order; empty = not given), which spares the univariate bandwidths their
  /// sort. Callers that keep their observations sorted (the TPE sampler) use it.
  ParzenEstimator(const std::vector<std::vector<double>>& observations,
                  const std::vector<Distribution>& dists, const TpeOptions& options,
                  std::vector<double> weights,
                  const std::vector<std::vector<std::size_t>>& orders);

  /// Normalised mixture weights (the prior's last when considered).
  const std::vector<double>& weights() const { return weights_; }
  /// Kernel centres of parameter p in the transformed (log when log-scaled) domain.
  const std::vector<double>& mus(std::size_t p) const { return params_[p].mus; }
  const std::vector<double>& sigmas(std::size_t p) const { return params_[p].sigmas; }
  /// Truncation bounds of parameter p (transformed domain, widened by step/2 when stepped).
  double low(std::size_t p) const { return params_[p].low; }
  double high(std::size_t p) const { return params_[p].high; }
  /// Categorical kernel weights of parameter p: rows = components, columns = choices.
  const std::vector<std::vector<double>>& categorical(std::size_t p) const {
    return params_[p].cat;
  }

  /// `size` samples (internal values): samples[p][j].
  std::vector<std::vector<double>> sample(Rng& rng, std::size_t size) const;
  /// Log-density (log-mass for stepped and categorical parameters) of each sample.
  std::vector<double> log_pdf(const std::vector<std::vector<double>>& samples) const;

 private:
  std::vector<double> log_pdf_sorted(const std::vector<double>& xs) const;
  struct Param {
    Distribution dist;
    double low = 0, high = 0;
    std::optional<double> q;
    std::vector<double> mus, sigmas, log_mass;  // log_mass: log P(low <= X <= high) per kernel
    std::vector<double> log_norm, inv_sigma;    // log(sqrt(2 pi) sigma) + log_mass, 1 / sigma
    std::vector<std::vector<double>> cat;
  };
  // One continuous parameter without a step (what univariate TPE builds per parameter): the
  // kernels sorted by centre in blocks, with bounds that let log_pdf skip the blocks whose terms
  // are all below exp(-40) of the largest.
  struct Sorted1D {
    std::vector<double> mu, inv_sigma, c0;  // c0 = log weight - log normaliser
    struct Block {
      std::size_t begin = 0, end = 0;
      double mu_lo = 0, mu_hi = 0, inv_sigma_min = 0, c0_max = 0;
    };
    std::vector<Block> blocks;
  };
  std::vector<double> weights_;
  std::vector<double> log_weights_;
  std::vector<Param> params_;
  std::optional<Sorted1D> sorted1d_;
};

/// Optuna 3.1's default weights: 1 for up to 25 observations, else a linear ramp from 1/n to 1
/// over the oldest n - 25, then 25 ones.
std::vector<double> default_tpe_weights(std::size_t n);
/// Optuna 3.1's gamma: min(ceil(0.1 n), 25).
std::size_t default_tpe_gamma(std::size_t n);
/// Splits observations ranked by (step key, loss) (lexicographic, stable) into the n_below best
/// and the rest, each returned in chronological (index) order.
std::pair<std::vector<std::size_t>, std::vector<std::size_t>> split_observations(
    const std::vector<std::pair<double, double>>& keys, std::size_t n_below);
/// Optuna 3.1's split for several objectives: the `n_below` "good" observations are filled by
/// non-domination rank, the last rank that does not fit by greedy hypervolume subset selection
/// (reference point max(1.1 w, 0.9 w) of that rank's worst point w). Returns below (in the
/// order selected) and above (ascending).
std::pair<std::vector<std::size_t>, std::vector<std::size_t>> split_observations_multi(
    const std::vector<std::vector<double>>& losses, std::size_t n_below);
/// Optuna 3.1's weights of the "good" observations of a multi-objective study: each one's
/// hypervolume contribution plus 1e-12, divided by the largest, clipped to [0, 1].
std::vector<double> multi_objective_weights(const std::vector<std::vector<double>>& losses);
struct SamplerInfo {
  std::string name;
  std::vector<std::string> aliases;
  std::string summary;
  std::vector<std::string> settings;  ///< keys the row accepts
  std::function<std::unique_ptr<Sampler>(const Settings&)> factory;
};

std::span<const SamplerInfo> builtin_samplers();
/// Error(kNotFound) with the known names and the closest match.
const SamplerInfo& find_sampler(std::string_view name);
/// find + check the settings + build.
std::unique_ptr<Sampler> make_sampler(std::string_view name, const Settings& settings = {});

}  // namespace compe::tune
