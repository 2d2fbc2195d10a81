// Random, grid and TPE samplers.
#include <algorithm>
#include <cmath>
#include <limits>
#include <set>

#include "compe/error.hpp"
#include "tune/samplers.hpp"

namespace compe::tune {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

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

class RandomSampler final : public Sampler {
 public:
  std::map<std::string, double> sample_relative(const StudyView&, Rng&) override { return {}; }
  double sample_independent(const StudyView&, const std::string&, const Distribution& d,
                            Rng& rng) override {
    return sample_uniform(d, rng);
  }
};

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

class TpeSampler final : public Sampler {
 public:
  explicit TpeSampler(TpeOptions options) : options_(options) {}

  std::map<std::string, double> sample_relative(const StudyView& study, Rng& rng) override {
    if (!options_.multivariate) return {};
    std::vector<std::string> names;
    std::vector<Distribution> dists;
    for (const auto& [name, d] : study.space->params()) {
      if (d.single()) continue;
      names.push_back(name);
      dists.push_back(d);
    }
    if (names.empty()) return {};
    const Observations obs = observations(study, names);
    if (obs.n_finished < static_cast<std::size_t>(options_.n_startup_trials)) return {};
    const auto [below_idx, above_idx] =
        split_observations(obs.keys, default_tpe_gamma(obs.n_finished));
    auto pick = [&](const std::vector<std::size_t>& idx) {
      std::vector<std::vector<double>> v(names.size());
      for (std::size_t i : idx) {
        bool all = true;
        for (std::size_t p = 0; p < names.size(); ++p) all = all && !std::isnan(obs.values[p][i]);
        if (!all) continue;
        for (std::size_t p = 0; p < names.size(); ++p) v[p].push_back(obs.values[p][i]);
      }
      return v;
    };
    const std::vector<double> best = choose(pick(below_idx), pick(above_idx), dists, rng);
    std::map<std::string, double> out;
    for (std::size_t p = 0; p < names.size(); ++p) out[names[p]] = best[p];
    return out;
  }

  double sample_independent(const StudyView& study, const std::string& name, const Distribution& d,
                            Rng& rng) override {
    const Observations obs = observations(study, {name});
    if (obs.n_finished < static_cast<std::size_t>(options_.n_startup_trials)) {
      return sample_uniform(d, rng);
    }
    const auto [below_idx, above_idx] =
        split_observations(obs.keys, default_tpe_gamma(obs.n_finished));
    auto pick = [&](const std::vector<std::size_t>& idx) {
      std::vector<std::vector<double>> v(1);
      for (std::size_t i : idx) {
        if (!std::isnan(obs.values[0][i])) v[0].push_back(obs.values[0][i]);
      }
      return v;
    };
    return choose(pick(below_idx), pick(above_idx), {d}, rng)[0];
  }

 private:
  struct Observations {
    std::vector<std::pair<double, double>> keys;  // (step key, loss) as Optuna ranks them
    std::vector<std::vector<double>> values;      // [param][obs], NaN when missing
    std::size_t n_finished = 0;
  };

  Observations observations(const StudyView& study, const std::vector<std::string>& names) const {
    Observations o;
    o.values.resize(names.size());
    const double sign = study.direction == Direction::kMinimize ? 1.0 : -1.0;
    for (const FrozenTrial& t : study.trials) {
      std::pair<double, double> key;
      if (t.state == TrialState::kComplete && t.value) {
        key = {-kInf, sign * *t.value};
      } else if (t.state == TrialState::kPruned) {
        if (t.intermediate.empty()) {
          key = {1.0, 0.0};
        } else {
          const auto& [step, v] = *t.intermediate.rbegin();
          key = {-static_cast<double>(step), std::isnan(v) ? kInf : sign * v};
        }
      } else if (t.state == TrialState::kRunning && options_.constant_liar) {
        key = {kInf, kInf};
      } else {
        continue;
      }
      if (t.state != TrialState::kRunning) ++o.n_finished;
      o.keys.push_back(key);
      for (std::size_t p = 0; p < names.size(); ++p) {
        auto it = t.params.find(names[p]);
        o.values[p].push_back(it == t.params.end() ? std::nan("") : it->second);
      }
    }
    return o;
  }

  std::vector<double> choose(const std::vector<std::vector<double>>& below,
                             const std::vector<std::vector<double>>& above,
                             const std::vector<Distribution>& dists, Rng& rng) const {
    const ParzenEstimator l(below, dists, options_);
    const ParzenEstimator g(above, dists, options_);
    const auto samples = l.sample(rng, static_cast<std::size_t>(options_.n_ei_candidates));
    const std::vector<double> ll = l.log_pdf(samples);
    const std::vector<double> lg = g.log_pdf(samples);
    std::size_t best = 0;
    double best_score = -kInf;
    for (std::size_t j = 0; j < ll.size(); ++j) {
      const double s = ll[j] - lg[j];
      if (j == 0 || s > best_score) {
        best = j;
        best_score = s;
      }
    }
    std::vector<double> out(dists.size());
    for (std::size_t p = 0; p < dists.size(); ++p) out[p] = samples[p][best];
    return out;
  }

  TpeOptions options_;
};

}  // namespace

std::unique_ptr<Sampler> make_random_sampler() {
  return std::make_unique<RandomSampler>();
}
std::unique_ptr<Sampler> make_grid_sampler() {
  return std::make_unique<GridSampler>();
}
std::unique_ptr<Sampler> make_tpe_sampler(const TpeOptions& options) {
  return std::make_unique<TpeSampler>(options);
}

}  // namespace compe::tune
