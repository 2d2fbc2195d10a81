// Median, successive-halving and fold pruners.
#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

#include "compe/error.hpp"
#include "compe/tune/math.hpp"
#include "tune/samplers.hpp"

namespace compe::tune {
namespace {

class NopPruner final : public Pruner {
 public:
  bool prune(const StudyView&, const FrozenTrial&) override { return false; }
};

// numpy.nanpercentile with linear interpolation.
double percentile(std::vector<double> v, double pct) {
  std::erase_if(v, [](double x) { return std::isnan(x); });
  if (v.empty()) return std::nan("");
  std::sort(v.begin(), v.end());
  const double rank = pct / 100.0 * static_cast<double>(v.size() - 1);
  const auto lo = static_cast<std::size_t>(std::floor(rank));
  const std::size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (rank - static_cast<double>(lo));
}

class MedianPruner final : public Pruner {
 public:
  explicit MedianPruner(MedianOptions o) : o_(o) {}
  bool prune(const StudyView& study, const FrozenTrial& trial) override {
    if (trial.intermediate.empty()) return false;
    const std::int64_t step = trial.intermediate.rbegin()->first;
    std::vector<const FrozenTrial*> done;
    for (const FrozenTrial& t : study.trials) {
      if (t.state == TrialState::kComplete) done.push_back(&t);
    }
    if (done.size() < static_cast<std::size_t>(o_.n_startup_trials) || done.empty()) return false;
    if (step < o_.n_warmup_steps) return false;
    // Check once per interval: only when no earlier report fell in this interval.
    const std::int64_t lower =
        (step - o_.n_warmup_steps) / o_.interval_steps * o_.interval_steps + o_.n_warmup_steps;
    std::int64_t second_last = -1;
    for (const auto& [s, v] : trial.intermediate) {
      if (s != step && s > second_last) second_last = s;
    }
    if (second_last >= lower) return false;
    const bool maximize = study.direction == Direction::kMaximize;
    double best = std::nan("");
    for (const auto& [s, v] : trial.intermediate) {
      if (std::isnan(v)) continue;
      if (std::isnan(best) || (maximize ? v > best : v < best)) best = v;
    }
    if (std::isnan(best)) return true;
    std::vector<double> at_step;
    for (const FrozenTrial* t : done) {
      auto it = t->intermediate.find(step);
      if (it != t->intermediate.end()) at_step.push_back(it->second);
    }
    if (at_step.size() < static_cast<std::size_t>(o_.n_min_trials)) return false;
    const double p = percentile(std::move(at_step), 50.0);
    if (std::isnan(p)) return false;
    return maximize ? best < p : best > p;
  }

 private:
  MedianOptions o_;
};

class HalvingPruner final : public Pruner {
 public:
  explicit HalvingPruner(HalvingOptions o) : o_(o) {}
  bool prune(const StudyView& study, const FrozenTrial& trial) override {
    if (trial.intermediate.empty()) return false;
    const auto last = trial.intermediate.rbegin();
    const std::int64_t step = last->first;
    const double value = last->second;
    const std::int64_t previous = trial.intermediate.size() > 1
                                      ? std::next(last)->first
                                      : std::numeric_limits<std::int64_t>::min();
    const bool maximize = study.direction == Direction::kMaximize;
    for (int rung = 0;; ++rung) {
      const std::int64_t promo = promotion_step(rung);
      if (step < promo) return false;
      if (previous >= promo) continue;  // this rung was judged at an earlier report
      if (std::isnan(value)) return true;
      // A trial's value at a rung: what it reported first at or after the rung's step.
      std::vector<double> competing;
      for (const FrozenTrial& t : study.trials) {
        if (t.number == trial.number) continue;
        auto it = t.intermediate.lower_bound(promo);
        if (it != t.intermediate.end() && !std::isnan(it->second)) competing.push_back(it->second);
      }
      competing.push_back(value);
      std::sort(competing.begin(), competing.end());
      std::int64_t idx = static_cast<std::int64_t>(competing.size()) / o_.reduction_factor - 1;
      if (idx < 0) idx = 0;
      const bool promotable =
          maximize ? value >= competing[competing.size() - 1 - static_cast<std::size_t>(idx)]
                   : value <= competing[static_cast<std::size_t>(idx)];
      if (!promotable) return true;
      if (promo > (std::numeric_limits<std::int64_t>::max() / o_.reduction_factor)) return false;
    }
  }

 private:
  std::int64_t promotion_step(int rung) const {
    std::int64_t s = o_.min_resource;
    for (int i = 0; i < o_.min_early_stopping_rate + rung; ++i) {
      if (s > std::numeric_limits<std::int64_t>::max() / o_.reduction_factor) {
        return std::numeric_limits<std::int64_t>::max();
      }
      s *= o_.reduction_factor;
    }
    return s;
  }
  HalvingOptions o_;
};

class FoldPruner final : public Pruner {
 public:
  explicit FoldPruner(FoldOptions o) : o_(o) {}
  bool prune(const StudyView& study, const FrozenTrial& trial) override {
    const bool maximize = study.direction == Direction::kMaximize;
    const FrozenTrial* best = nullptr;
    for (const FrozenTrial& t : study.trials) {
      if (t.state != TrialState::kComplete || !t.value || t.number == trial.number) continue;
      if (!best || (maximize ? *t.value > *best->value : *t.value < *best->value)) best = &t;
    }
    if (!best) return false;
    std::vector<double> d;
    for (const auto& [fold, s] : trial.intermediate) {
      auto it = best->intermediate.find(fold);
      if (it == best->intermediate.end()) continue;
      if (std::isnan(s)) return true;  // a fold that cannot be scored never beats the best
      d.push_back(maximize ? s - it->second : it->second - s);
    }
    return fold_rule_prunes(d, o_);
  }

 private:
  FoldOptions o_;
};

}  // namespace

bool fold_rule_prunes(const std::vector<double>& d, const FoldOptions& o) {
  const std::size_t n = d.size();
  if (n < static_cast<std::size_t>(std::max(o.min_folds, 2))) return false;
  double mean = 0;
  for (double x : d) mean += x;
  mean /= static_cast<double>(n);
  double ss = 0;
  for (double x : d) ss += (x - mean) * (x - mean);
  const double sd = std::sqrt(ss / static_cast<double>(n - 1));
  if (sd == 0 || sd < 1e-12 * std::abs(mean)) return mean < 0;
  const double t = mean / (sd / std::sqrt(static_cast<double>(n)));
  return student_t_cdf(t, static_cast<double>(n - 1)) < o.alpha;
}

std::unique_ptr<Pruner> make_nop_pruner() {
  return std::make_unique<NopPruner>();
}
std::unique_ptr<Pruner> make_median_pruner(const MedianOptions& o) {
  return std::make_unique<MedianPruner>(o);
}
std::unique_ptr<Pruner> make_halving_pruner(const HalvingOptions& o) {
  return std::make_unique<HalvingPruner>(o);
}
std::unique_ptr<Pruner> make_fold_pruner(const FoldOptions& o) {
  return std::make_unique<FoldPruner>(o);
}

}  // namespace compe::tune
