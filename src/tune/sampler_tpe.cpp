// The TPE sampler (Optuna 3.1's, univariate or multivariate, one or several objectives).
#include <algorithm>
#include <cmath>
#include <limits>
#include <set>
#include <tuple>

#include "compe/error.hpp"
#include "compe/tune/math.hpp"
#include "tune/samplers.hpp"

namespace compe::tune {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// TPE keeps what it has read between asks: a finished trial never changes, so each one is read
// once (its ranking key and its parameters' internal values), the finished trials are kept
// ranked, and per parameter their values are kept sorted, which spares the "above" estimator its
// sort. Each ask then costs O(n) passes over the n observations instead of O(n log n) sorts per
// parameter. A sampler serves one study (a view with other finished trials resets it).
class TpeSampler final : public Sampler {
 public:
  explicit TpeSampler(TpeOptions options) : options_(options) {}

  std::map<std::string, double> sample_relative(const StudyView& study, Rng& rng) override {
    if (!options_.multivariate) return {};
    prepare(study);
    std::vector<std::size_t> ps;
    std::vector<Distribution> dists;
    for (std::size_t p = 0; p < names_.size(); ++p) {
      const Distribution& d = study.space->params()[p].second;
      if (d.single()) continue;
      ps.push_back(p);
      dists.push_back(d);
    }
    if (ps.empty()) return {};
    if (n_finished_ < static_cast<std::size_t>(options_.n_startup_trials)) return {};
    std::vector<double> weights;
    auto pick = [&](const std::vector<std::size_t>& idx, bool below) {
      std::vector<std::vector<double>> v(ps.size());
      for (std::size_t r = 0; r < idx.size(); ++r) {
        const Rec& o = *obs_[idx[r]];
        bool all = true;
        for (std::size_t p : ps) all = all && !std::isnan(o.values[p]);
        if (!all) continue;
        for (std::size_t q = 0; q < ps.size(); ++q) v[q].push_back(o.values[ps[q]]);
        if (below && multi_) weights.push_back(below_weights_[r]);
      }
      return v;
    };
    const auto below = pick(below_, true);
    const auto above = pick(above_, false);
    const std::vector<double> best =
        choose(below, above, dists, rng, std::move(weights), {});
    std::map<std::string, double> out;
    for (std::size_t q = 0; q < ps.size(); ++q) out[names_[ps[q]]] = best[q];
    return out;
  }

  double sample_independent(const StudyView& study, const std::string& name, const Distribution& d,
                            Rng& rng) override {
    prepare(study);
    if (n_finished_ < static_cast<std::size_t>(options_.n_startup_trials)) {
      return sample_uniform(d, rng);
    }
    const auto it = std::find(names_.begin(), names_.end(), name);
    if (it == names_.end()) return sample_uniform(d, rng);
    const auto p = static_cast<std::size_t>(it - names_.begin());
    std::vector<std::vector<double>> below(1), above(1);
    std::vector<double> weights;
    for (std::size_t r = 0; r < below_.size(); ++r) {
      const double v = obs_[below_[r]]->values[p];
      if (std::isnan(v)) continue;
      below[0].push_back(v);
      if (multi_) weights.push_back(below_weights_[r]);
    }
    std::vector<std::vector<std::size_t>> orders(1);
    const bool sorted = d.kind != ParamKind::kCategorical && !options_.multivariate;
    if (sorted) position_.assign(position_.size(), -1);
    for (std::size_t i : above_) {
      const Rec& o = *obs_[i];
      const double v = o.values[p];
      if (std::isnan(v)) continue;
      if (sorted) position_[static_cast<std::size_t>(o.number)] = static_cast<std::int64_t>(above[0].size());
      above[0].push_back(v);
    }
    if (sorted) {
      // The above set in ascending order: the finished values (kept sorted) merged with the
      // running trials' (constant liar), skipping the below set.
      std::vector<std::size_t>& order = orders[0];
      order.reserve(above[0].size());
      std::vector<std::pair<double, std::int64_t>> lies;
      for (const Rec& o : liars_) {
        if (!std::isnan(o.values[p])) lies.emplace_back(o.values[p], o.number);
      }
      std::sort(lies.begin(), lies.end());
      auto emit = [&](std::int64_t number) {
        const std::int64_t pos = position_[static_cast<std::size_t>(number)];
        if (pos >= 0) order.push_back(static_cast<std::size_t>(pos));
      };
      auto l = lies.begin();
      for (const auto& [v, number] : sorted_[p]) {
        for (; l != lies.end() && l->first < v; ++l) emit(l->second);
        emit(number);
      }
      for (; l != lies.end(); ++l) emit(l->second);
      COMPE_ASSERT(order.size() == above[0].size());
    }
    return choose(below, above, {d}, rng, std::move(weights), orders)[0];
  }

 private:
  struct Rec {
    std::int64_t number = 0;
    std::pair<double, double> key;  // one objective: (step key, loss) as Optuna ranks them
    std::vector<double> loss;       // several objectives: the values, all to be minimised
    std::vector<double> values;     // internal value per space parameter, NaN when absent
  };

  void reset(const StudyView& study) {
    space_ = study.space;
    names_.clear();
    for (const auto& [name, d] : study.space->params()) names_.push_back(name);
    multi_ = study.multi_objective();
    done_.clear();
    cached_.clear();
    ranked_.clear();
    sorted_.assign(names_.size(), {});
    liar_numbers_.clear();
    prepared_ = false;
  }

  Rec record(const StudyView& study, const FrozenTrial& t) const {
    Rec r;
    r.number = t.number;
    const double sign = study.direction == Direction::kMinimize ? 1.0 : -1.0;
    if (t.state == TrialState::kComplete) {
      if (multi_) {
        for (std::size_t k = 0; k < t.values.size(); ++k) {
          r.loss.push_back(study.directions[k] == Direction::kMinimize ? t.values[k]
                                                                       : -t.values[k]);
        }
      } else {
        r.key = {-kInf, sign * *t.value};
      }
    } else if (t.state == TrialState::kPruned) {
      if (t.intermediate.empty()) {
        r.key = {1.0, 0.0};
      } else {
        const auto& [step, v] = *t.intermediate.rbegin();
        r.key = {-static_cast<double>(step), std::isnan(v) ? kInf : sign * v};
      }
    } else {
      r.key = {kInf, kInf};
    }
    r.values.resize(names_.size());
    for (std::size_t p = 0; p < names_.size(); ++p) {
      auto it = t.params.find(names_[p]);
      r.values[p] = it == t.params.end() ? std::nan("") : it->second;
    }
    return r;
  }

  static bool key_less(const std::pair<std::pair<double, double>, std::int64_t>& a,
                       const std::pair<std::pair<double, double>, std::int64_t>& b) {
    if (a.first.first != b.first.first) return a.first.first < b.first.first;
    if (a.first.second != b.first.second) return a.first.second < b.first.second;
    return a.second < b.second;
  }

  // Adds finished trials not read before: one by one into the sorted structures, or, for many
  // at once (a study opened with a long history), appended and sorted once.
  void add(const StudyView& study, const std::vector<const FrozenTrial*>& fresh) {
    if (fresh.empty()) return;
    const bool bulk = fresh.size() > 16;
    for (const FrozenTrial* t : fresh) {
      COMPE_ASSERT(t->number >= 0);
      const auto num = static_cast<std::size_t>(t->number);
      if (num >= cached_.size()) cached_.resize(num + 1, 0);
      cached_[num] = 1;
      Rec r = record(study, *t);
      if (!multi_) {
        const std::pair<std::pair<double, double>, std::int64_t> k{r.key, r.number};
        if (bulk) {
          ranked_.push_back(k);
        } else {
          ranked_.insert(std::upper_bound(ranked_.begin(), ranked_.end(), k, key_less), k);
        }
      }
      for (std::size_t p = 0; p < names_.size(); ++p) {
        if (space_->params()[p].second.kind == ParamKind::kCategorical) continue;
        const double v = r.values[p];
        if (std::isnan(v)) continue;
        const std::pair<double, std::int64_t> e{v, r.number};
        if (bulk) {
          sorted_[p].push_back(e);
        } else {
          sorted_[p].insert(std::upper_bound(sorted_[p].begin(), sorted_[p].end(), e), e);
        }
      }
      if (bulk) {
        done_.push_back(std::move(r));
      } else {
        auto at = std::upper_bound(done_.begin(), done_.end(), r.number,
                                   [](std::int64_t n, const Rec& o) { return n < o.number; });
        done_.insert(at, std::move(r));
      }
    }
    if (bulk) {
      std::sort(ranked_.begin(), ranked_.end(), key_less);
      for (auto& v : sorted_) std::sort(v.begin(), v.end());
      std::sort(done_.begin(), done_.end(),
                [](const Rec& x, const Rec& y) { return x.number < y.number; });
    }
  }

  // Reads what is new in the study and, when anything changed, redoes the split.
  void prepare(const StudyView& study) {
    if (study.space != space_ || names_.size() != study.space->size() ||
        multi_ != study.multi_objective()) {
      reset(study);
    }
    bool changed = !prepared_;
    std::vector<const FrozenTrial*> running, fresh;
    for (int attempt = 0; attempt < 2; ++attempt) {
      std::size_t finished = 0;
      running.clear();
      fresh.clear();
      for (const FrozenTrial& t : study.trials) {
        const bool complete =
            t.state == TrialState::kComplete &&
            (multi_ ? t.values.size() == study.directions.size() : t.value.has_value());
        const bool pruned = t.state == TrialState::kPruned && !multi_;
        if (complete || pruned) {
          ++finished;
          const auto num = static_cast<std::size_t>(t.number);
          if (t.number >= 0 && num < cached_.size() && cached_[num]) continue;
          fresh.push_back(&t);
        } else if (t.state == TrialState::kRunning && options_.constant_liar && !multi_) {
          running.push_back(&t);
        }
      }
      if (finished == done_.size() + fresh.size() || attempt == 1) {
        add(study, fresh);
        changed = changed || !fresh.empty();
        break;
      }
      reset(study);  // not the trials this sampler has seen: start again
      changed = true;
    }
    std::vector<std::int64_t> numbers;
    for (const FrozenTrial* t : running) numbers.push_back(t->number);
    if (numbers != liar_numbers_) changed = true;
    if (!changed) return;
    liar_numbers_ = std::move(numbers);
    liars_.clear();
    for (const FrozenTrial* t : running) liars_.push_back(record(study, *t));

    // This ask's observations: finished and running trials by number.
    obs_.clear();
    obs_.reserve(done_.size() + liars_.size());
    auto d = done_.begin();
    auto l = liars_.begin();
    while (d != done_.end() || l != liars_.end()) {
      if (l == liars_.end() || (d != done_.end() && d->number < l->number)) {
        obs_.push_back(&*d++);
      } else {
        obs_.push_back(&*l++);
      }
    }
    std::int64_t max_number = -1;
    for (const Rec* o : obs_) max_number = std::max(max_number, o->number);
    index_.assign(static_cast<std::size_t>(max_number + 1), -1);
    position_.assign(static_cast<std::size_t>(max_number + 1), -1);
    for (std::size_t i = 0; i < obs_.size(); ++i) {
      index_[static_cast<std::size_t>(obs_[i]->number)] = static_cast<std::int64_t>(i);
    }
    n_finished_ = done_.size();
    const std::size_t n_below = default_tpe_gamma(n_finished_);
    below_.clear();
    above_.clear();
    below_weights_.clear();
    if (multi_) {
      std::vector<std::vector<double>> losses;
      losses.reserve(obs_.size());
      for (const Rec* o : obs_) losses.push_back(o->loss);
      std::tie(below_, above_) = split_observations_multi(losses, n_below);
      std::vector<std::vector<double>> good;
      for (std::size_t i : below_) good.push_back(losses[i]);
      below_weights_ = multi_objective_weights(good);
    } else {
      // The ranking is the finished trials' (kept sorted), then the running ones, which rank
      // last (key (inf, inf)) in number order: what a stable sort of all the keys gives.
      std::vector<char> in_below(obs_.size(), 0);
      std::size_t taken = 0;
      for (auto r = ranked_.begin(); r != ranked_.end() && taken < n_below; ++r, ++taken) {
        in_below[static_cast<std::size_t>(index_[static_cast<std::size_t>(r->second)])] = 1;
      }
      for (auto li = liars_.begin(); li != liars_.end() && taken < n_below; ++li, ++taken) {
        in_below[static_cast<std::size_t>(index_[static_cast<std::size_t>(li->number)])] = 1;
      }
      for (std::size_t i = 0; i < obs_.size(); ++i) (in_below[i] ? below_ : above_).push_back(i);
    }
    prepared_ = true;
  }

  std::vector<double> choose(const std::vector<std::vector<double>>& below,
                             const std::vector<std::vector<double>>& above,
                             const std::vector<Distribution>& dists, Rng& rng,
                             std::vector<double> below_weights,
                             const std::vector<std::vector<std::size_t>>& above_orders) const {
    const ParzenEstimator l(below, dists, options_, std::move(below_weights));
    const ParzenEstimator g =
        above_orders.empty()
            ? ParzenEstimator(above, dists, options_)
            : ParzenEstimator(above, dists, options_, {}, above_orders);
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
  const SearchSpace* space_ = nullptr;
  bool multi_ = false;
  std::vector<std::string> names_;  // the space's parameters, in order
  std::vector<Rec> done_;           // finished trials read so far, by number
  std::vector<char> cached_;        // by trial number: read into done_
  std::vector<std::pair<std::pair<double, double>, std::int64_t>> ranked_;  // (key, number)
  std::vector<std::vector<std::pair<double, std::int64_t>>> sorted_;  // per param: (value, number)
  // This ask's observations and their split.
  bool prepared_ = false;
  std::vector<std::int64_t> liar_numbers_;
  std::vector<Rec> liars_;
  std::vector<const Rec*> obs_;
  std::vector<std::int64_t> index_;     // trial number -> index in obs_
  std::vector<std::int64_t> position_;  // trial number -> position in the above estimator
  std::size_t n_finished_ = 0;
  std::vector<std::size_t> below_, above_;  // indices into obs_
  std::vector<double> below_weights_;       // several objectives: weights of below_
};


}  // namespace

std::unique_ptr<Sampler> make_tpe_sampler(const TpeOptions& options) {
  return std::make_unique<TpeSampler>(options);
}

}  // namespace compe::tune
