// The grid sampler: every combination of the space's values.
#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <tuple>

#include "compe/error.hpp"
#include "tune/samplers.hpp"

namespace compe::tune {
namespace {

// Every combination of the space's values; unvisited points are drawn at random.
class GridSampler final : public Sampler {
 public:
  std::map<std::string, double> sample_relative(const StudyView& study, Rng& rng) override {
    build(*study.space);
    const std::set<std::uint64_t> seen = visited(study);
    std::uint64_t id = rng.below(total_);
    if (seen.size() < total_ && seen.count(id)) {
      if (total_ <= 1'000'000) {
        // Draw among the unvisited points.
        std::uint64_t k = rng.below(total_ - seen.size());
        for (id = 0;; ++id) {
          if (seen.count(id)) continue;
          if (k-- == 0) break;
        }
      } else {
        while (seen.count(id)) id = rng.below(total_);
      }
    }
    std::map<std::string, double> out;
    std::uint64_t rest = id;
    for (std::size_t p = 0; p < names_.size(); ++p) {
      out[names_[p]] = values_[p][rest % values_[p].size()];
      rest /= values_[p].size();
    }
    return out;
  }
  double sample_independent(const StudyView&, const std::string& name, const Distribution&,
                            Rng&) override {
    fail(ErrorCode::kInvalidArgument, "grid sampler: parameter '{}' is not on the grid", name);
  }
  bool exhausted(const StudyView& study) const override {
    const_cast<GridSampler*>(this)->build(*study.space);
    return visited(study).size() >= total_;
  }

 private:
  void build(const SearchSpace& space) {
    if (built_) return;
    total_ = 1;
    for (const auto& [name, d] : space.params()) {
      std::vector<double> vals;
      if (d.kind == ParamKind::kCategorical) {
        for (std::size_t i = 0; i < d.choices.size(); ++i) vals.push_back(static_cast<double>(i));
      } else if (d.step) {
        const auto n = std::llround((d.high - d.low) / *d.step) + 1;
        for (long long i = 0; i < n; ++i) vals.push_back(d.low + static_cast<double>(i) * *d.step);
      } else if (d.single()) {
        vals.push_back(d.low);
      } else {
        fail(ErrorCode::kInvalidArgument,
             "grid sampler: float parameter '{}' needs a step to be put on a grid", name);
      }
      if (total_ > (std::uint64_t{1} << 40) / vals.size()) {
        fail(ErrorCode::kInvalidArgument, "grid sampler: the grid has more than 2^40 points");
      }
      total_ *= vals.size();
      names_.push_back(name);
      values_.push_back(std::move(vals));
    }
    built_ = true;
  }

  std::set<std::uint64_t> visited(const StudyView& study) const {
    std::set<std::uint64_t> seen;
    for (const FrozenTrial& t : study.trials) {
      std::uint64_t id = 0, mult = 1;
      bool ok = true;
      for (std::size_t p = 0; p < names_.size() && ok; ++p) {
        auto it = t.params.find(names_[p]);
        if (it == t.params.end()) {
          ok = false;
          break;
        }
        const auto& vals = values_[p];
        auto pos = std::find_if(vals.begin(), vals.end(), [&](double v) {
          return std::abs(v - it->second) <= 1e-9 * std::max(1.0, std::abs(v));
        });
        if (pos == vals.end()) ok = false;
        id += static_cast<std::uint64_t>(pos - vals.begin()) * mult;
        mult *= vals.size();
      }
      if (ok) seen.insert(id);
    }
    return seen;
  }

  bool built_ = false;
  std::uint64_t total_ = 1;
  std::vector<std::string> names_;
  std::vector<std::vector<double>> values_;
};

}  // namespace

std::unique_ptr<Sampler> make_grid_sampler() {
  return std::make_unique<GridSampler>();
}

}  // namespace compe::tune
