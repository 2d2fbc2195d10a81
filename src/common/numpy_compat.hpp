#pragma once
// Bit-exact replicas of the numpy 1.24 kernels whose results decide scikit-learn 1.2's folds:
// the default (introsort) argsort of int64, whose order among equal keys is not stable, and the
// pairwise summation used by float64 reductions along a contiguous axis.

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace compe {

/// np.argsort(v) (kind="quicksort") for int64 keys, same order among equal keys.
std::vector<std::size_t> numpy_argsort(std::span<const std::int64_t> v);

/// np.add.reduce over n doubles spaced `stride` apart (pairwise summation, blocks of 8 and 128).
double numpy_sum(const double* a, std::size_t n, std::size_t stride = 1);

}  // namespace compe
