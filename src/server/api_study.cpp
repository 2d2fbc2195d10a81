// The dashboard's study documents.
#include "server/api_study.hpp"

#include <cmath>
#include <map>
#include <optional>

#include "compe/error.hpp"
#include "compe/tune.hpp"

namespace compe::server {
using nlohmann::json;

namespace {

struct Loaded {
  tune::SearchSpace space;
  std::vector<tune::Direction> directions;
  std::vector<tune::FrozenTrial> frozen;
  std::vector<compe::Trial> raw;
};

Loaded load(Store& store, const Study& s) {
  Loaded l;
  l.space = tune::SearchSpace::from_json(s.sampler.value("space", json::array()));
  for (const std::string& d : s.directions) l.directions.push_back(tune::parse_direction(d));
  l.raw = store.list_trials(s.name);
  for (const compe::Trial& t : l.raw) l.frozen.push_back(tune::freeze_trial(t, l.space));
  return l;
}

bool better(tune::Direction d, double a, double b) {
  return d == tune::Direction::kMaximize ? a > b : a < b;
}

json counts_of(const std::vector<compe::Trial>& trials) {
  std::map<std::string, int> counts;
  for (const compe::Trial& t : trials) ++counts[std::string(trial_state_name(t.state))];
  return counts;
}

}  // namespace

json studies_json(Store& store) {
  json out = json::array();
  for (const Study& s : store.list_studies()) {
    store.fail_stale_trials(s.name);  // the liveness rule of runs, applied on read
    const std::vector<compe::Trial> trials = store.list_trials(s.name);
    const tune::Direction dir = s.directions.empty() ? tune::Direction::kMinimize
                                                     : tune::parse_direction(s.directions[0]);
    std::optional<double> best;
    for (const compe::Trial& t : trials) {
      if (t.state != TrialState::kComplete || t.values.empty()) continue;
      if (!best || better(dir, t.values[0], *best)) best = t.values[0];
    }
    out.push_back({{"name", s.name},
                   {"directions", s.directions},
                   {"sampler", s.sampler.value("sampler", "")},
                   {"pruner", s.sampler.value("pruner", "")},
                   {"trials", trials.size()},
                   {"counts", counts_of(trials)},
                   {"best", best ? json(*best) : json(nullptr)}});
  }
  return {{"studies", out}};
}

json study_json(Store& store, const std::string& name) {
  const Study s = store.get_study(name);
  store.fail_stale_trials(s.name);  // a trial whose process is gone shows as failed, not running
  const Loaded l = load(store, s);
  const tune::Direction dir =
      l.directions.empty() ? tune::Direction::kMinimize : l.directions[0];
  json trials = json::array();
  std::optional<double> best;
  json best_number = nullptr;
  for (std::size_t i = 0; i < l.raw.size(); ++i) {
    const compe::Trial& t = l.raw[i];
    const tune::FrozenTrial& f = l.frozen[i];
    if (f.value && (!best || better(dir, *f.value, *best))) {
      best = *f.value;
      best_number = f.number;
    }
    json inter = json::object();
    for (const auto& [step, v] : t.intermediate) {
      inter[std::to_string(step)] = std::isfinite(v) ? json(v) : json(nullptr);
    }
    trials.push_back({{"number", t.number},
                      {"state", trial_state_name(t.state)},
                      {"values", f.values},
                      {"params", t.params},
                      {"run_id", t.run_id},
                      {"error", t.error},
                      {"intermediate", inter},
                      {"best_so_far", best ? json(*best) : json(nullptr)}});
  }
  json pareto = json::array();
  if (l.directions.size() > 1) {
    for (const auto& f : tune::pareto_front(l.frozen, l.directions)) pareto.push_back(f.number);
  }
  json importance = json::object();
  for (const auto& [p, v] : tune::parameter_importance(l.space, l.frozen)) importance[p] = v;
  json space = json::object();
  for (const auto& [p, d] : l.space.params()) space[p] = d.to_json();
  return {{"name", s.name},
          {"directions", s.directions},
          {"sampler", s.sampler.value("sampler", "")},
          {"pruner", s.sampler.value("pruner", "")},
          {"space", space},
          {"counts", counts_of(l.raw)},
          {"trials", trials},
          {"best", best_number},
          {"pareto", pareto},
          {"importance", importance}};
}

}  // namespace compe::server
