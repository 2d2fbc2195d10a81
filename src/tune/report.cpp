// A stored study as compe study show reports it.
#include "compe/tune/study.hpp"

namespace compe::tune {

StudyReport report_study(Store& store, const std::string& name) {
  StudyReport r;
  r.study = store.get_study(name);
  store.fail_stale_trials(r.study.name);
  r.space = SearchSpace::from_json(r.study.sampler.value("space", nlohmann::json::array()));
  const std::vector<std::string>& directions = r.study.directions;
  r.maximize = !directions.empty() && directions[0] == "maximize";
  r.multi = directions.size() > 1;
  std::vector<Direction> dirs;
  for (const std::string& d : directions) dirs.push_back(parse_direction(d));
  r.trials = store.list_trials(name);
  for (const compe::Trial& t : r.trials) {
    FrozenTrial f = freeze_trial(t, r.space);
    ++r.counts[std::string(trial_state_name(t.state))];
    if (f.value && (!r.best || (r.maximize ? *f.value > *r.frozen[*r.best].value
                                           : *f.value < *r.frozen[*r.best].value))) {
      r.best = r.frozen.size();
    }
    r.frozen.push_back(std::move(f));
  }
  r.importance = parameter_importance(r.space, r.frozen);
  if (r.multi) r.pareto = pareto_front(r.frozen, dirs);
  return r;
}

}  // namespace compe::tune
