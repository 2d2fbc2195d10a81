// compe study show: a tuning study's best trial, history and parameter importance
// (tune::report_study → text or JSON).
#include <cmath>
#include <cstdlib>
#include <memory>

#include <fmt/core.h>

#include "commands.hpp"
#include "compe/store.hpp"
#include "compe/tune.hpp"
#include "compe/util.hpp"
#include "output.hpp"
#include "workspace_option.hpp"

namespace compe::cli {
namespace {

nlohmann::json history_of(const tune::StudyReport& r) {
  nlohmann::json history = nlohmann::json::array();
  for (std::size_t i = 0; i < r.trials.size(); ++i) {
    const compe::Trial& t = r.trials[i];
    const tune::FrozenTrial& f = r.frozen[i];
    history.push_back({{"number", t.number},
                       {"state", trial_state_name(t.state)},
                       {"value", f.value ? nlohmann::json(*f.value) : nlohmann::json(nullptr)},
                       {"values", f.values},
                       {"params", t.params},
                       {"run_id", t.run_id},
                       {"folds", t.intermediate.size()},
                       {"error", t.error},
                       {"host", t.host},
                       {"pid", t.pid}});
  }
  return history;
}

void print_pareto(const tune::StudyReport& r) {
  const std::vector<std::string>& dirs = r.study.directions;
  fmt::print("Pareto front ({} trial(s); directions {}):\n", r.pareto.size(), join(dirs));
  std::vector<std::vector<std::string>> prow;
  for (const auto& f : r.pareto) {
    std::vector<std::string> row = {std::to_string(f.number)};
    for (double v : f.values) row.push_back(fmt_score(v));
    std::size_t at = 0;
    while (at < r.trials.size() && r.trials[at].number != f.number) ++at;
    row.push_back(at < r.trials.size() ? params_text(r.trials[at].params) : "");
    prow.push_back(std::move(row));
  }
  std::vector<std::string> head = {"trial"};
  for (std::size_t k = 0; k < dirs.size(); ++k) {
    head.push_back(fmt::format("value {} ({})", k, dirs[k]));
  }
  head.push_back("params");
  print_table(head, prow);
}

void print_report(const tune::StudyReport& r, const nlohmann::json& history) {
  const compe::Study& s = r.study;
  fmt::print("study {} ({}, sampler {}, pruner {}): {} trial(s)", s.name,
             s.directions.empty() ? "" : s.directions[0], s.sampler.value("sampler", ""),
             s.sampler.value("pruner", ""), history.size());
  for (const auto& [state, n] : r.counts) fmt::print(", {} {}", n, state);
  fmt::print("\n");
  if (r.multi) {
    print_pareto(r);
  } else if (r.best) {
    const auto& h = history[*r.best];
    fmt::print("best: trial {} = {}  [{}]  run {}\n", h["number"].get<std::int64_t>(),
               fmt_score(h["value"].get<double>()), params_text(h["params"]),
               h["run_id"].get<std::string>());
  }
  std::vector<std::vector<std::string>> rows;
  double running_best = NAN;
  for (const auto& h : history) {
    std::string value = "-";
    if (!h["value"].is_null()) {
      const double v = h["value"].get<double>();
      value = fmt_score(v);
      if (r.multi) {
        value.clear();
        for (const auto& x : h["values"]) {
          value += (value.empty() ? "" : " ") + fmt_score(x.get<double>());
        }
      }
      if (std::isnan(running_best) || (r.maximize ? v > running_best : v < running_best)) {
        running_best = v;
      }
    }
    rows.push_back(
        {std::to_string(h["number"].get<std::int64_t>()), h["state"].get<std::string>(), value,
         std::isnan(running_best) ? "-" : fmt_score(running_best), params_text(h["params"])});
  }
  print_table({"trial", "state", "value", "best so far", "params"}, rows);
  fmt::print("parameter importance (rank correlation with the objective, sums to 1):\n");
  for (const auto& [n, v] : r.importance) fmt::print("  {:<24} {:.3f}\n", n, v);
}

}  // namespace

void add_study_command(CLI::App& app) {
  struct Args {
    std::string name, store, workspace;
    bool json = false;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("study", "Inspect tuning studies");
  cmd->require_subcommand(1);
  auto* show = cmd->add_subcommand("show", "Best trial, history and parameter importance");
  show->add_option("NAME", a->name, "Study name")->required();
  add_workspace_option(show, a->workspace);
  add_store_option(show, a->store);
  show->add_flag("--json", a->json, "Print one JSON document");
  show->callback([a] {
    auto store = open_store(store_url(a->store, a->workspace));
    const tune::StudyReport r = tune::report_study(*store, a->name);
    const nlohmann::json history = history_of(r);
    if (!a->json) {
      print_report(r, history);
      return;
    }
    const compe::Study& s = r.study;
    nlohmann::json imp = nlohmann::json::object();
    for (const auto& [n, v] : r.importance) imp[n] = v;
    nlohmann::json pareto = nlohmann::json::array();
    for (const auto& f : r.pareto) pareto.push_back(f.number);
    print_json({{"study", s.name},
                {"direction", s.directions.empty() ? "" : s.directions[0]},
                {"directions", s.directions},
                {"pareto", pareto},
                {"sampler", s.sampler.value("sampler", "")},
                {"pruner", s.sampler.value("pruner", "")},
                {"counts", r.counts},
                {"best", r.best ? history[*r.best] : nlohmann::json(nullptr)},
                {"importance", imp},
                {"trials", history}});
  });
}

}  // namespace compe::cli
