#pragma once
/// Numerical helpers of the tuner: normal and Student's t distributions (TPE, the fold pruner),
/// Spearman's rank correlation (the proxy transfer), non-domination ranks and hypervolume
/// (multi-objective TPE and Pareto fronts).

#include <span>
#include <vector>

namespace compe::tune {

/// Standard normal helpers used by TPE and the fold pruner.
double log_ndtr(double x);
/// log(Phi(b) - Phi(a)) for a <= b.
double log_gauss_mass(double a, double b);
/// Quantile q in (0, 1) of the standard normal truncated to [a, b].
double truncnorm_ppf(double q, double a, double b);
/// CDF of Student's t with df > 0 degrees of freedom.
double student_t_cdf(double t, double df);

/// Spearman's rank correlation of two equally long series (average ranks for ties); NaN when
/// there are fewer than 2 pairs or a series is constant.
double spearman(std::span<const double> a, std::span<const double> b);

/// Non-domination ranks of loss vectors (every objective minimised): rank 0 is the Pareto
/// front, rank 1 the front of what remains, and so on. Vector a dominates b when it is no worse
/// in every objective and better in one. O(n^2 d).
std::vector<int> nondomination_ranks(const std::vector<std::vector<double>>& losses);
/// Hypervolume dominated by `points` (minimised) up to `reference` (exact; for the small sets
/// TPE weighs: O(n^d)). Points not below the reference in every objective add nothing.
double hypervolume(const std::vector<std::vector<double>>& points,
                   const std::vector<double>& reference);

}  // namespace compe::tune
