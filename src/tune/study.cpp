// Studies and trials on top of compe::Store.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <condition_variable>
#include <limits>
#include <mutex>
#include <thread>

#include "compe/error.hpp"
#include "compe/tune.hpp"
#include "compe/util.hpp"

namespace compe::tune {
namespace {

// Records a running trial's heartbeat from a background thread while the objective runs.
class Heartbeat {
 public:
  Heartbeat(Store& store, std::string study, std::int64_t number,
            std::chrono::milliseconds interval)
      : thread_([this, &store, study = std::move(study), number, interval] {
          std::unique_lock lock(mu_);
          while (!cv_.wait_for(lock, interval, [this] { return done_; })) {
            lock.unlock();
            try {
              store.heartbeat_trial(study, number);
            } catch (const Error&) {
              // A lost heartbeat only risks the trial being judged stale later.
            }
            lock.lock();
          }
        }) {}
  ~Heartbeat() {
    {
      std::lock_guard lock(mu_);
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }
  Heartbeat(const Heartbeat&) = delete;
  Heartbeat& operator=(const Heartbeat&) = delete;

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;  // last: started once the members it uses exist
};

nlohmann::json settings_json(const Settings& s) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [k, v] : s) j[k] = v;
  return j;
}

}  // namespace

Study::Study(Store& store, StudyOptions options) : store_(&store), options_(std::move(options)) {
  if (options_.name.empty()) fail(ErrorCode::kInvalidArgument, "a study needs a name");
  if (options_.space.empty()) {
    fail(ErrorCode::kInvalidArgument, "study '{}': the search space is empty", options_.name);
  }
  sampler_ = make_sampler(options_.sampler, options_.sampler_settings);
  sampling_order_ = options_.space.sampling_order();
  if (options_.space.conditional()) {
    if (find_sampler(options_.sampler).name == "grid") {
      fail(ErrorCode::kInvalidArgument,
           "study '{}': the grid sampler does not take conditional parameters ('when')",
           options_.name);
    }
    for (const auto& [name, d] : options_.space.params()) {
      if (!options_.space.condition(name)) relative_space_.add(name, d);
    }
    relative_sampler_ = make_sampler(options_.sampler, options_.sampler_settings);
  }
  pruner_ = make_pruner(options_.pruner, options_.pruner_settings);
  compe::Study s;
  s.name = options_.name;
  if (!options_.directions.empty()) options_.direction = options_.directions[0];
  directions_ = options_.directions.empty() ? std::vector<Direction>{options_.direction}
                                            : options_.directions;
  for (Direction d : directions_) s.directions.emplace_back(direction_name(d));
  s.sampler = {
      {"sampler", options_.sampler}, {"sampler_settings", settings_json(options_.sampler_settings)},
      {"pruner", options_.pruner},   {"pruner_settings", settings_json(options_.pruner_settings)},
      {"seed", options_.seed},       {"space", options_.space.to_json()}};
  if (!options_.attrs.is_null()) s.sampler["attrs"] = options_.attrs;
  const compe::Study stored = store_->create_study(s, options_.load_if_exists);
  // A continued study must not replay the draws of its first session: the generator's seed
  // mixes in the number of trials already there.
  const auto existing = static_cast<std::uint64_t>(store_->list_trials(options_.name).size());
  rng_ = Rng(options_.seed ^ (existing * 0x9e3779b97f4a7c15ULL));
  if (stored.directions != s.directions) {
    fail(ErrorCode::kInvalidArgument, "study '{}' exists with direction {}; this one is {}",
         options_.name, join(stored.directions), join(s.directions));
  }
}

FrozenTrial freeze_trial(const compe::Trial& t, const SearchSpace& space) {
  FrozenTrial f;
  f.number = t.number;
  f.state = t.state;
  f.intermediate = t.intermediate;
  f.error = t.error;
  if (t.state == TrialState::kComplete && !t.values.empty()) {
    f.value = t.values[0];
    f.values = t.values;
  }
  if (t.params.is_object()) {
    for (const auto& [name, d] : space.params()) {
      auto it = t.params.find(name);
      if (it == t.params.end()) continue;
      if (auto v = d.to_internal(*it)) f.params[name] = *v;
    }
  }
  return f;
}

namespace {
bool finished_state(TrialState st) {
  return st == TrialState::kComplete || st == TrialState::kPruned || st == TrialState::kFailed;
}
}  // namespace

void Study::mark_finished(FrozenTrial f) {
  const auto n = static_cast<std::size_t>(f.number);
  if (n >= is_finished_.size()) is_finished_.resize(n + 1, 0);
  is_finished_[n] = 1;
  pending_.push_back(std::move(f));
}

bool Study::known_finished(std::int64_t number) const {
  const auto n = static_cast<std::size_t>(number);
  return number >= 0 && n < is_finished_.size() && is_finished_[n];
}

void Study::refresh() {
  // Finished trials never change: after the first full read, only running trials and trials
  // that finished elsewhere since the last refresh are read again, and the view is updated from
  // the lowest trial number that changed (usually the last few), not rebuilt.
  if (!loaded_) {
    for (const compe::Trial& t : store_->list_trials(options_.name)) {
      if (finished_state(t.state)) mark_finished(freeze(t));
    }
    loaded_ = true;
  }
  std::vector<FrozenTrial> running;
  for (const compe::Trial& t : store_->list_trials(options_.name, TrialState::kRunning)) {
    running.push_back(freeze(t));
  }
  std::sort(running.begin(), running.end(),
            [](const FrozenTrial& a, const FrozenTrial& b) { return a.number < b.number; });
  std::int64_t max_number = static_cast<std::int64_t>(is_finished_.size()) - 1;
  if (!running.empty()) max_number = std::max(max_number, running.back().number);
  if (!mine_.empty()) max_number = std::max(max_number, mine_.rbegin()->first);
  // Numbers neither finished nor running here were created elsewhere (or are ours): read them.
  {
    auto ri = running.begin();
    for (std::int64_t n = 0; n <= max_number; ++n) {
      if (known_finished(n)) continue;
      while (ri != running.end() && ri->number < n) ++ri;
      if (ri != running.end() && ri->number == n) continue;
      const compe::Trial t = store_->get_trial(options_.name, n);
      if (finished_state(t.state)) {
        mine_.erase(n);
        mark_finished(freeze(t));
      }
    }
  }
  // The lowest number whose entry changes: a trial running in the previous view (it is running
  // still, with new reports, or finished), a newly finished one, a running one not seen before.
  std::int64_t lo = std::numeric_limits<std::int64_t>::max();
  for (std::int64_t n : running_in_view_) lo = std::min(lo, n);
  for (const FrozenTrial& f : pending_) lo = std::min(lo, f.number);
  for (const FrozenTrial& f : running) lo = std::min(lo, f.number);
  running_in_view_.clear();
  if (lo == std::numeric_limits<std::int64_t>::max()) return;
  const auto from = std::lower_bound(
      cache_.begin(), cache_.end(), lo,
      [](const FrozenTrial& f, std::int64_t n) { return f.number < n; });
  // The tail's finished entries stay; its running ones are replaced by this read.
  std::vector<FrozenTrial> tail;
  for (auto it = from; it != cache_.end(); ++it) {
    if (finished_state(it->state)) tail.push_back(std::move(*it));
  }
  cache_.erase(from, cache_.end());
  std::sort(pending_.begin(), pending_.end(),
            [](const FrozenTrial& a, const FrozenTrial& b) { return a.number < b.number; });
  auto t = tail.begin();
  auto p = pending_.begin();
  auto r = running.begin();
  while (t != tail.end() || p != pending_.end() || r != running.end()) {
    const std::int64_t nt = t != tail.end() ? t->number : std::numeric_limits<std::int64_t>::max();
    const std::int64_t np = p != pending_.end() ? p->number : std::numeric_limits<std::int64_t>::max();
    const std::int64_t nr = r != running.end() ? r->number : std::numeric_limits<std::int64_t>::max();
    if (np <= nt && np <= nr) {
      if (nt == np) ++t;  // the finished record read now replaces the one in the view
      cache_.push_back(std::move(*p++));
    } else if (nt <= nr) {
      cache_.push_back(std::move(*t++));
    } else {
      running_in_view_.push_back(r->number);
      cache_.push_back(std::move(*r++));
    }
  }
  pending_.clear();
}

void Study::remember(const Trial& trial, TrialState state, std::vector<double> values,
                     const std::string& error) {
  auto it = mine_.find(trial.number());
  if (it == mine_.end()) return;
  FrozenTrial f = std::move(it->second);
  mine_.erase(it);
  f.state = state;
  f.value = values.empty() ? std::nullopt : std::optional<double>(values[0]);
  f.values = std::move(values);
  f.intermediate = trial.intermediate_;
  f.error = error;
  mark_finished(std::move(f));
}

const FrozenTrial* Study::find_trial(std::int64_t number) const {
  for (const FrozenTrial& f : pending_) {
    if (f.number == number) return &f;
  }
  const auto it = std::lower_bound(
      cache_.begin(), cache_.end(), number,
      [](const FrozenTrial& f, std::int64_t n) { return f.number < n; });
  return it != cache_.end() && it->number == number ? &*it : nullptr;
}

std::vector<FrozenTrial> Study::trials() {
  refresh();
  return cache_;
}

std::optional<FrozenTrial> Study::best_trial() {
  refresh();
  std::optional<FrozenTrial> best;
  const bool maximize = options_.direction == Direction::kMaximize;
  for (const FrozenTrial& t : cache_) {
    if (t.state != TrialState::kComplete || !t.value) continue;
    if (!best || (maximize ? *t.value > *best->value : *t.value < *best->value)) best = t;
  }
  return best;
}

std::vector<FrozenTrial> Study::best_trials() {
  refresh();
  return pareto_front(cache_, directions_);
}

bool Study::exhausted() {
  refresh();
  return sampler_->exhausted(view());
}

Trial Study::ask() {
  return *ask_below(-1);
}

std::optional<Trial> Study::ask_below(std::int64_t limit) {
  for (std::int64_t n : store_->fail_stale_trials(options_.name, options_.stale_after)) {
    stale_ended_.push_back(n);
  }
  refresh();
  const StudyView v = view();
  // Relative sampling sees the parameters every trial has; conditional ones are sampled
  // independently, from the trials that have them.
  std::map<std::string, double> relative;
  if (options_.space.conditional()) {
    StudyView unconditional = v;
    unconditional.space = &relative_space_;
    relative = relative_sampler_->sample_relative(unconditional, rng_);
  } else {
    relative = sampler_->sample_relative(v, rng_);
  }
  nlohmann::json params = nlohmann::json::object();
  FrozenTrial f;
  for (const std::string& name : sampling_order_) {
    const Distribution& d = *options_.space.find(name);
    if (!options_.space.active(name, params)) continue;
    double x;
    if (d.single()) {
      x = d.kind == ParamKind::kCategorical ? 0.0 : d.low;
    } else if (auto it = relative.find(name); it != relative.end()) {
      x = it->second;
    } else {
      x = sampler_->sample_independent(v, name, d, rng_);
    }
    COMPE_ASSERT(d.contains(x));
    f.params[name] = x;
    params[name] = d.to_external(x);
  }
  compe::Trial t;
  if (limit < 0) {
    t = store_->create_trial(options_.name, params);
  } else {
    std::optional<compe::Trial> created = store_->create_trial_below(options_.name, params, limit);
    if (!created) return std::nullopt;
    t = std::move(*created);
  }
  f.number = t.number;
  f.state = TrialState::kRunning;
  cache_.push_back(f);
  running_in_view_.push_back(t.number);
  mine_[t.number] = f;
  return Trial(*this, t.number, params);
}

void Study::tell(const Trial& trial, double value) {
  const double values[1] = {value};
  tell(trial, values);
}

void Study::tell(const Trial& trial, std::span<const double> values) {
  if (values.size() != directions_.size()) {
    fail(ErrorCode::kInvalidArgument,
         "study '{}' has {} objective(s); trial {} was told {} value(s)", options_.name,
         directions_.size(), trial.number(), values.size());
  }
  for (double value : values) {
    if (!std::isfinite(value)) {
      tell_failed(trial, fmt::format("the objective returned {}", value));
      return;
    }
  }
  finish(trial, TrialState::kComplete, values, "");
}

void Study::tell_pruned(const Trial& trial) {
  finish(trial, TrialState::kPruned, {}, "");
}

void Study::tell_failed(const Trial& trial, const std::string& error) {
  finish(trial, TrialState::kFailed, {}, error);
}

void Study::finish(const Trial& trial, TrialState state, std::span<const double> values,
                   const std::string& error) {
  try {
    store_->finish_trial(options_.name, trial.number(), state, values, error);
  } catch (const Error& e) {
    // Another worker judged this trial stale and ended it while it still ran here (a heartbeat
    // lost for longer than stale_after): the stored outcome stands. Telling a trial twice from
    // this study is still an error.
    if (e.code() != ErrorCode::kInvalidArgument || !mine_.count(trial.number())) throw;
    const compe::Trial stored = store_->get_trial(options_.name, trial.number());
    if (stored.state == TrialState::kRunning || stored.state == TrialState::kWaiting) throw;
    mine_.erase(trial.number());
    mark_finished(freeze(stored));
    return;
  }
  std::vector<double> kept;
  if (state == TrialState::kComplete) kept.assign(values.begin(), values.end());
  remember(trial, state, std::move(kept), error);
}

void Study::optimize(const std::function<double(Trial&)>& objective, std::int64_t n_trials,
                     std::chrono::duration<double> timeout, int max_consecutive_failures,
                     const std::function<void(const FrozenTrial&)>& after_trial) {
  optimize_multi([&](Trial& t) { return std::vector<double>{objective(t)}; }, n_trials, timeout,
                 max_consecutive_failures, after_trial);
}

void Study::optimize_multi(const std::function<std::vector<double>(Trial&)>& objective,
                           std::int64_t n_trials, std::chrono::duration<double> timeout,
                           int max_consecutive_failures,
                           const std::function<void(const FrozenTrial&)>& after_trial) {
  const auto start = std::chrono::steady_clock::now();
  int failures = 0;
  auto report = [&](const Trial& t) {
    if (!after_trial) return;
    const FrozenTrial* f = find_trial(t.number());
    after_trial(f && finished_state(f->state)
                    ? *f
                    : freeze(store_->get_trial(options_.name, t.number())));
  };
  for (std::int64_t done = 0; n_trials == 0 || done < n_trials; ++done) {
    if (timeout.count() > 0 && std::chrono::steady_clock::now() - start >= timeout) break;
    if (sampler_->exhausted(view()) && exhausted()) break;
    std::optional<Trial> asked = ask_below(trial_limit_.value_or(-1));
    if (!asked) break;
    Trial& trial = *asked;
    std::vector<double> values;
    try {
      const Heartbeat beat(*store_, options_.name, trial.number(), options_.heartbeat_interval);
      values = objective(trial);
      if (values.size() != directions_.size()) {
        fail(ErrorCode::kInvalidArgument,
             "study '{}' has {} objective(s); the objective returned {} value(s)", options_.name,
             directions_.size(), values.size());
      }
    } catch (const TrialPruned&) {
      tell_pruned(trial);
      failures = 0;
      report(trial);
      continue;
    } catch (const Error& e) {
      tell_failed(trial, e.what());
      report(trial);
      if (++failures >= max_consecutive_failures) throw;
      continue;
    } catch (...) {
      tell_failed(trial, "the objective threw an exception that is not a compe::Error");
      throw;
    }
    const auto bad = std::find_if(values.begin(), values.end(),
                                  [](double v) { return !std::isfinite(v); });
    if (bad != values.end()) {
      const double value = *bad;
      tell_failed(trial, fmt::format("the objective returned {}", value));
      report(trial);
      if (++failures >= max_consecutive_failures) {
        fail(ErrorCode::kInvalidArgument,
             "study '{}': {} trials failed in a row; last: trial {} "
             "returned {}",
             options_.name, failures, trial.number(), value);
      }
      continue;
    }
    tell(trial, std::span<const double>(values));
    failures = 0;
    report(trial);
  }
}

const nlohmann::json& Trial::value_of(const std::string& name, const Distribution& expected) const {
  const Distribution* declared = study_->space().find(name);
  if (!declared) {
    std::vector<std::string> names;
    for (const auto& [n, d] : study_->space().params()) names.push_back(n);
    fail(ErrorCode::kInvalidArgument,
         "parameter '{}' is not in the study's search space; declared: {}", name, join(names));
  }
  if (!(*declared == expected)) {
    fail(ErrorCode::kInvalidArgument,
         "parameter '{}' is declared as {} in the study; suggested as {}", name,
         declared->to_json().dump(), expected.to_json().dump());
  }
  auto it = params_.find(name);
  if (it == params_.end()) {
    fail(ErrorCode::kInvalidArgument,
         "parameter '{}' is not active in trial {}: its 'when' condition does not hold", name,
         number_);
  }
  return *it;
}

bool Trial::active(const std::string& name) const {
  return params_.contains(name);
}

double Trial::suggest_float(const std::string& name, double low, double high, bool log,
                            std::optional<double> step) {
  return value_of(name, float_param(name, low, high, log, step)).get<double>();
}

std::int64_t Trial::suggest_int(const std::string& name, std::int64_t low, std::int64_t high,
                                bool log, std::int64_t step) {
  return value_of(name, int_param(name, low, high, log, step)).get<std::int64_t>();
}

nlohmann::json Trial::suggest_categorical(const std::string& name,
                                          const std::vector<nlohmann::json>& choices) {
  return value_of(name, categorical_param(name, choices));
}

void Trial::report(double value, std::int64_t step) {
  if (step < 0) {
    fail(ErrorCode::kInvalidArgument, "trial {}: step {} is negative", number_, step);
  }
  study_->store_->report_intermediate(study_->name(), number_, step, value);
  intermediate_[step] = value;
}

bool Trial::should_prune() {
  if (intermediate_.empty()) return false;
  study_->refresh();
  FrozenTrial self;
  self.number = number_;
  self.state = TrialState::kRunning;
  self.intermediate = intermediate_;
  return study_->pruner_->prune(study_->view(), self);
}

}  // namespace compe::tune
