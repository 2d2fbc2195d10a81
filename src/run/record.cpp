// run_experiment's second stage: what the run's record says (config, spec, parent comparison).
#include "compe/error.hpp"
#include "compe/track.hpp"
#include "compe/util.hpp"
#include "run/stages.hpp"

namespace compe::run {

namespace {

// The experiment as it was resolved: parameters with defaults, the competition, the folds really
// used, the proxy, and what the default features left out or encoded.
nlohmann::json resolved_config(const Workspace& ws, const Experiment& exp, const Options& opt, const Plan& p) {
  const CompetitionConfig& cfg = ws.config();
  nlohmann::json config = exp.to_json();
  config["model"]["params"] = p.params;
  config["competition"] = {{"name", cfg.name}, {"task", metric::task_name(cfg.task)}, {"metric", cfg.metric},
                           {"id", cfg.id_column}, {"target", cfg.target_columns},
                           {"folds", nlohmann::json::object()}};
  // The folds really used: folds.json's record when it describes this folds.csv, else compe.toml's
  // spec (a folds.csv made elsewhere keeps at least its hash).
  if (auto fr = read_folds_record(ws.folds_path(), p.folds_csv.hash)) {
    config["competition"]["folds"] = fr->to_json();
  } else {
    config["competition"]["folds"] = FoldsRecord{cfg.folds, p.folds_csv.hash}.to_json();
    config["competition"]["folds"]["from"] = "compe.toml (folds.csv has no folds.json record)";
  }
  config["competition"]["folds"]["k"] = p.num_folds;
  if (!opt.proxy.is_null()) config["proxy"] = opt.proxy;
  if (!p.pseudo_lineage.is_null()) config["pseudo"] = p.pseudo_lineage;
  if (!p.labels_lineage.is_null()) config["labels"] = p.labels_lineage;
  nlohmann::json left = nlohmann::json::array(), counted = nlohmann::json::array();
  for (const auto& c : p.features.report().left_out) left.push_back({{"column", c.column}, {"reason", c.reason}});
  for (const auto& c : p.features.report().count_encoded)
    counted.push_back({{"column", c.column}, {"reason", c.reason}});
  config["features"]["left_out"] = left;
  config["features"]["count_encoded"] = counted;
  if (!p.features.report().target_encoded.empty()) {
    nlohmann::json te = nlohmann::json::array();
    for (const auto& c : p.features.report().target_encoded) te.push_back({{"column", c.column}, {"reason", c.reason}});
    config["features"]["target_encoded"] = te;
  }
  return config;
}

// One hypothesis at a time: compare with the parent (given, or the best finished run on the same
// folds and metric) and say what changed. Backend parameters count only where this experiment
// sets them: another backend's defaults are not hypotheses.
void compare_with_parent(const Experiment& exp, const Options& opt, const Plan& p, const nlohmann::json& config,
                         Store& store, RunSpec& rs, Summary& sum, const NoteFn& note) {
  auto parent = track::choose_parent(store, exp.parent, p.metric_spec, p.folds_csv.hash);
  if (!parent) return;
  rs.parent_id = parent->id;
  sum.parent_id = parent->id;
  std::vector<std::string> parts;
  for (const auto& ch : track::config_diff(parent->config, config, track::bookkeeping_keys())) {
    const std::string prefix = "model.params.";
    if (ch.key.rfind(prefix, 0) == 0 && !exp.params.contains(ch.key.substr(prefix.size()))) continue;
    sum.changed_keys.push_back(ch.key);
    parts.push_back(fmt::format("{}: {} -> {}", ch.key, ch.before.dump(), ch.after.dump()));
  }
  if (sum.changed_keys.empty()) {
    note(fmt::format("same configuration as run {} ({})", parent->id, parent->name));
    return;
  }
  note(fmt::format("against run {} ({}): {}", parent->id, parent->name, join(parts, "; ")));
  if (sum.changed_keys.size() > 1 && !opt.allow_multi) {
    sum.multi_hypothesis = true;
    note(fmt::format("warning: {} hypotheses changed at once ({}); test one at a time, or pass --allow-multi",
                     sum.changed_keys.size(), join(sum.changed_keys)));
  }
}

}  // namespace

RunSpec describe_run(const Workspace& ws, const Experiment& exp, const Options& opt, const Plan& p, Store& store,
                     Summary& sum, const NoteFn& note) {
  const model::Info& mi = *p.model;
  nlohmann::json config = resolved_config(ws, exp, opt, p);
  // A CV whose folds chose something on their own validation rows is optimistic: say so.
  const bool optimistic = model::selects_on_valid(mi, p.params);
  config["cv"] = {{"optimistic", optimistic}};
  if (optimistic)
    note("warning: early stopping picks each fold's round count on that fold's validation rows "
         "(early_stopping = \"valid\"): the CV is optimistic");
  RunSpec rs;
  rs.kind = opt.kind;
  rs.name = exp.name.empty() ? mi.name : exp.name;
  rs.command_line = opt.command_line;
  rs.producer = fmt::format("compe {} ({})", COMPE_VERSION, mi.name);
  rs.target_transform = exp.target_transform;
  rs.versions = {{"threads", resolve_threads(exp.threads)}, {"seed", exp.seed}};
  if (mi.library_version) rs.versions["backend"] = mi.library_version();
  rs.partial = !p.keep_rows.empty() || !opt.proxy.is_null() || static_cast<int>(p.folds.size()) < p.num_folds;
  compare_with_parent(exp, opt, p, config, store, rs, sum, note);
  rs.config = std::move(config);
  return rs;
}

}  // namespace compe::run
