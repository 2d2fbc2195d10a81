#pragma once
/// Correlation helpers shared by every module (metrics, blend diversity, shake history, tuning
/// transfer, the leak audit). One definition, one documented behaviour on degenerate input.
///
/// Degenerate input: fewer than 2 points, or an input without spread (all values equal, so its
/// variance is 0), gives NaN, as scipy.stats.pearsonr / spearmanr do (they warn and return nan).
/// A NaN or infinite value in either input gives NaN. Callers that want another value for these
/// cases (0, say) choose it at the call site.

#include <span>
#include <vector>

namespace compe::stats {

/// Ranks 1..n of `v` in ascending order; tied values share the average of their ranks
/// (scipy.stats.rankdata(method="average")). NaN values are not supported (they rank
/// arbitrarily); callers check finiteness first.
std::vector<double> average_ranks(std::span<const double> v);

/// Pearson's correlation coefficient of a and b (two-pass: means, then centred sums), clamped
/// to [-1, 1]. NaN on degenerate input (above). a.size() != b.size() is a caller bug
/// (COMPE_ASSERT).
double pearson(std::span<const double> a, std::span<const double> b);

/// Spearman's rank correlation: pearson(average_ranks(a), average_ranks(b)). NaN on degenerate
/// input (above; a constant input has all ranks equal).
double spearman(std::span<const double> a, std::span<const double> b);

}  // namespace compe::stats
