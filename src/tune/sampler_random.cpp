// The random sampler, and the uniform draw other samplers fall back on.
#include <algorithm>
#include <cmath>

#include "compe/error.hpp"
#include "tune/samplers.hpp"

namespace compe::tune {

double sample_uniform(const Distribution& d, Rng& rng) {
  switch (d.kind) {
    case ParamKind::kCategorical:
      return static_cast<double>(rng.below(d.choices.size()));
    case ParamKind::kFloat:
      if (d.log)
        return std::clamp(std::exp(rng.uniform(std::log(d.low), std::log(d.high))), d.low, d.high);
      if (d.step) {
        const auto n = static_cast<std::uint64_t>(std::llround((d.high - d.low) / *d.step)) + 1;
        return d.low + static_cast<double>(rng.below(n)) * *d.step;
      }
      return rng.uniform(d.low, d.high);
    case ParamKind::kInt:
      if (d.log) {
        const double x = std::exp(rng.uniform(std::log(d.low - 0.5), std::log(d.high + 0.5)));
        return std::clamp(std::nearbyint(x), d.low, d.high);
      } else {
        const auto n = static_cast<std::uint64_t>(std::llround((d.high - d.low) / *d.step)) + 1;
        return d.low + static_cast<double>(rng.below(n)) * *d.step;
      }
  }
  return d.low;
}

namespace {

class RandomSampler final : public Sampler {
 public:
  std::map<std::string, double> sample_relative(const StudyView&, Rng&) override { return {}; }
  double sample_independent(const StudyView&, const std::string&, const Distribution& d,
                            Rng& rng) override {
    return sample_uniform(d, rng);
  }
};

}  // namespace

std::unique_ptr<Sampler> make_random_sampler() {
  return std::make_unique<RandomSampler>();
}

}  // namespace compe::tune
