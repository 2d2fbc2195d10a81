// Proxy-then-transfer: the best trials of a proxy study again at full size, and whether the proxy
// ranked them as the full runs do.
#include <algorithm>
#include <cmath>

#include <fmt/core.h>

#include "compe/error.hpp"
#include "compe/tune/experiment.hpp"
#include "compe/tune/math.hpp"

namespace compe::tune {

std::vector<compe::Trial> transfer_candidates(std::vector<compe::Trial> complete,
                                              const TunePlan& plan, const std::string& study,
                                              int top) {
  const std::vector<std::string>& objectives = plan.config.objectives;
  // The proxy score is the "cv" objective's value (the first one for a single objective).
  const auto cv_at = std::find(objectives.begin(), objectives.end(), "cv");
  if (cv_at == objectives.end()) {
    fail(ErrorCode::kInvalidArgument,
         "{}: --transfer compares cross-validation scores; tune.objectives has no \"cv\"",
         plan.display);
  }
  const auto k = static_cast<std::size_t>(cv_at - objectives.begin());
  std::vector<compe::Trial> done;
  for (compe::Trial& t : complete) {
    if (t.state == TrialState::kComplete && t.values.size() > k && std::isfinite(t.values[k])) {
      // Keep only the proxy score, so the rest of the transfer reads values[0].
      t.values = {t.values[k]};
      done.push_back(std::move(t));
    }
  }
  std::stable_sort(done.begin(), done.end(), [&](const auto& l, const auto& r) {
    return plan.maximize ? l.values[0] > r.values[0] : l.values[0] < r.values[0];
  });
  if (done.empty()) {
    fail(ErrorCode::kInvalidArgument, "study '{}' has no complete trial to transfer", study);
  }
  if (top >= 0 && done.size() > static_cast<std::size_t>(top)) {
    done.resize(static_cast<std::size_t>(top));
  }
  return done;
}

TransferResult transfer(const Workspace& ws, Store& store, const TransferOptions& options,
                        const TransferSink& sink) {
  const std::string& study = options.study;
  const TunePlan plan = plan_tune(ws, store, "", study);
  const std::vector<compe::Trial> done = transfer_candidates(
      store.list_trials(study, TrialState::kComplete), plan, study, options.top);
  TransferResult result;
  result.study = study;
  result.metric = plan.metric;
  result.proxy = plan.config.proxy ? plan.config.proxy->to_json() : nlohmann::json(nullptr);
  if (sink.on_start) sink.on_start(study, done.size(), result.proxy);
  std::vector<double> proxy_scores, full_scores;
  for (const compe::Trial& t : done) {
    TrialSetup ts = trial_setup(plan, t.params, false, 0);
    ts.options.store = options.store_url;
    ts.options.command_line = options.command_line;
    ts.experiment.name = fmt::format("{}-full-t{}", study, t.number);
    ts.experiment.parent = t.run_id;  // lineage: the proxy trial's run
    const run::Summary s = run::run_experiment(ws, ts.experiment, ts.options, nullptr);
    store.add_tag(s.run_id, "transfer:" + study);
    store.add_tag(s.run_id, fmt::format("trial:{}", t.number));
    proxy_scores.push_back(t.values[0]);
    full_scores.push_back(s.cv);
    result.rows.push_back({t.number, t.values[0], s.cv, t.params, t.run_id, s.run_id});
    if (sink.on_row) sink.on_row(result.rows.back());
  }
  result.spearman = spearman(proxy_scores, full_scores);
  return result;
}

}  // namespace compe::tune
