#pragma once
// Factories of the built-in samplers and pruners (the registry in builtin_tune.cpp names them),
// one sampler_<name>.cpp each.
#include <memory>

#include "compe/tune/pruner.hpp"
#include "compe/tune/sampler.hpp"

namespace compe::tune {

std::unique_ptr<Sampler> make_random_sampler();
std::unique_ptr<Sampler> make_grid_sampler();
std::unique_ptr<Sampler> make_tpe_sampler(const TpeOptions& options);

std::unique_ptr<Pruner> make_nop_pruner();
std::unique_ptr<Pruner> make_median_pruner(const MedianOptions& options);
std::unique_ptr<Pruner> make_halving_pruner(const HalvingOptions& options);
std::unique_ptr<Pruner> make_fold_pruner(const FoldOptions& options);

/// A uniform draw from the distribution (internal value): the random sampler's, and the fallback
/// of the grid and TPE samplers.
double sample_uniform(const Distribution& d, Rng& rng);

}  // namespace compe::tune
