#pragma once
/// What samplers and pruners see of a study: directions, frozen trials, the study view, the
/// seeded generator and the settings type shared by the registries.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "compe/store.hpp"
#include "compe/tune/space.hpp"

namespace compe::tune {

enum class Direction { kMinimize, kMaximize };
std::string_view direction_name(Direction d);  ///< "minimize" / "maximize"
/// Error(kInvalidArgument) for anything but "minimize" / "maximize".
Direction parse_direction(std::string_view name);

/// A trial as the sampler and pruner see it (a frozen record read from the store).
struct FrozenTrial {
  std::int64_t number = 0;
  TrialState state = TrialState::kRunning;
  std::map<std::string, double> params;  ///< internal values of the space's parameters
  std::optional<double> value;           ///< complete trials (the first objective's value)
  std::vector<double> values;  ///< complete trials: one value per objective (empty otherwise)
  std::map<std::int64_t, double> intermediate;
  std::string error;  ///< why a failed trial failed
};

/// What samplers and pruners may look at: the study's direction, space and trials.
struct StudyView {
  Direction direction = Direction::kMinimize;  ///< the (first) objective's direction
  const SearchSpace* space = nullptr;
  std::span<const FrozenTrial> trials;  ///< by number
  /// Multi-objective studies: one direction per objective (two or more). Empty for a single
  /// objective, whose direction is `direction`.
  std::span<const Direction> directions = {};
  bool multi_objective() const { return directions.size() > 1; }
};

/// A small deterministic generator (xoshiro256**, seeded with splitmix64), identical on every
/// platform.
class Rng {
 public:
  explicit Rng(std::uint64_t seed = 0);
  std::uint64_t next();
  double uniform();                      ///< [0, 1)
  double uniform(double lo, double hi);  ///< [lo, hi)
  std::uint64_t below(std::uint64_t n);  ///< [0, n), n > 0

 private:
  std::uint64_t s_[4];
};

/// Settings shared by samplers and pruners, as key = value (numbers or bools). Unknown keys and
/// keys the chosen row does not take are rejected with Error(kInvalidArgument) naming them.
using Settings = std::map<std::string, nlohmann::json>;

/// A stored trial as samplers see it: the space's parameters as internal values (others and
/// unreadable ones left out), the value(s) of a complete trial, intermediate values, error.
FrozenTrial freeze_trial(const compe::Trial& t, const SearchSpace& space);

}  // namespace compe::tune
