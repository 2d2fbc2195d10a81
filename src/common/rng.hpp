#pragma once
// The splitters' and the shake-up simulation's only source of randomness: std::mt19937_64 (its
// output sequence is fixed by the C++ standard) with our own bounded draw and shuffle, so folds and
// resamples are the same with every standard library.

#include <cstdint>
#include <random>
#include <span>
#include <utility>

namespace compe {

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : engine_(seed) {}

  /// Uniform integer in [0, n), n > 0: rejection of the low 2^64 mod n values, then modulo.
  std::uint64_t below(std::uint64_t n) {
    const std::uint64_t threshold = (0 - n) % n;
    std::uint64_t x = engine_();
    while (x < threshold) x = engine_();
    return x % n;
  }

  /// Fisher-Yates, from the last element down.
  template <typename T>
  void shuffle(std::span<T> v) {
    for (std::size_t i = v.size(); i > 1; --i) {
      std::size_t j = static_cast<std::size_t>(below(i));
      std::swap(v[i - 1], v[j]);
    }
  }

 private:
  std::mt19937_64 engine_;
};

}  // namespace compe
