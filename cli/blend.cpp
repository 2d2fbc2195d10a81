// compe blend (blend runs into a new run), compe blend analyze (diversity), compe oof
// import/export.
#include <cstdlib>
#include <memory>

#include <fmt/core.h>
#include <fmt/format.h>

#include "commands.hpp"
#include "compe/blend.hpp"
#include "compe/mask_blend.hpp"
#include "compe/metric.hpp"
#include "compe/pseudo_run.hpp"
#include "compe/error.hpp"
#include "compe/util.hpp"
#include "output.hpp"
#include "workspace_option.hpp"

namespace compe::cli {

namespace {

std::string method_help() {
  std::string s = "Blend method:";
  for (const auto& row : blend::builtin()) s += fmt::format("\n  {:15} {}", row.name, row.summary);
  return s;
}

struct Common {
  std::vector<std::string> inputs;
  std::string workspace, store, method = "weights";
  blend::Params params;
  std::vector<std::string> model_params;  // KEY=VALUE
  bool json = false, allow_different_folds = false;
};

// --model-param KEY=VALUE: VALUE as JSON (numbers, true/false, lists) or else as text.
void read_model_params(Common& c) {
  c.params.model_params = nlohmann::json::object();
  for (const auto& kv : c.model_params) {
    auto eq = kv.find('=');
    if (eq == std::string::npos || eq == 0)
      fail(ErrorCode::kInvalidArgument, "--model-param '{}': expected KEY=VALUE, e.g. max_depth=2", kv);
    std::string key = kv.substr(0, eq), text = kv.substr(eq + 1);
    nlohmann::json value = nlohmann::json::parse(text, nullptr, false);
    c.params.model_params[key] = value.is_discarded() ? nlohmann::json(text) : value;
  }
}

void add_params(CLI::App* cmd, Common& c) {
  cmd->add_option("--power", c.params.power, "power_mean: exponent p");
  cmd->add_option("--steps", c.params.steps, "hill_climb: additions")->check(CLI::PositiveNumber);
  cmd->add_option("--bags", c.params.bags, "hill_climb: bagged selections (0 = none)")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--bag-fraction", c.params.bag_fraction, "hill_climb: share of members per bag");
  cmd->add_option("--restarts", c.params.restarts, "weights: random starts")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--l2", c.params.l2, "stack: ridge penalty")->check(CLI::NonNegativeNumber);
  cmd->add_option("--model-param", c.model_params,
                  "stack_linear / stack_xgboost: a level-2 backend parameter KEY=VALUE (repeatable)");
  cmd->add_option("--seed", c.params.seed, "Seed of the random starts and bags");
  add_workspace_option(cmd, c.workspace);
  add_store_option(cmd, c.store);
  cmd->add_flag("--allow-different-folds", c.allow_different_folds,
                "Accept members made on other folds (plain averages only)");
  cmd->add_flag("--json", c.json, "Print one JSON document");
}

blend::OofSet load(const Workspace& ws, const Common& c) {
  blend::RunOptions ro;
  ro.store = store_url_or_env(c.store);
  blend::LoadOptions lo;
  lo.allow_different_folds = c.allow_different_folds;
  blend::OofSet set = blend::load_set(ws, c.inputs, ro, lo);
  std::vector<std::string> ids;
  for (const auto& m : set.members) ids.push_back(m.name);
  if (std::filesystem::exists(ws.store_path()) || !ro.store.empty())
    for (const auto& w : pseudo::lineage_warnings(*open_store(ro.store.empty() ? ws.store_path().string() : ro.store), ids))
      fmt::print(stderr, "warning: {}\n", w);
  return set;
}

nlohmann::json matrix(const std::vector<double>& v) {
  return v;
}

std::string join_numbers(const nlohmann::json& values) {
  std::string out;
  for (const auto& v : values) out += (out.empty() ? "" : ", ") + fmt::format("{:.4g}", v.get<double>());
  return out;
}

nlohmann::json decision_json(Store& store, const blend::DecisionResult& d, const blend::Recorded& rec) {
  nlohmann::json doc = run_record(store, rec.run_id);
  doc.update(nlohmann::json{{"rule", d.decision.to_json()},
                                     {"as_predicted", d.default_score},
                                     {"in_sample_score", d.in_sample_score},
                                     {"nested_score", d.nested_score},
                                     {"fold_scores", d.fold_scores},
                                     {"beats_as_predicted", d.beats_input},
                             {"dir", rec.dir.string()}});
  return doc;
}

void print_decision(const blend::Reference& ref, const nlohmann::json& d) {
  const nlohmann::json& rule = d["rule"];
  std::string what;
  if (rule.contains("threshold"))
    what = fmt::format("threshold {:.6g}", rule["threshold"].get<double>());
  else if (rule.contains("thresholds"))
    what = "thresholds per column " + join_numbers(rule["thresholds"]);
  else if (rule.contains("cuts"))
    what = "cuts " + join_numbers(rule["cuts"]);
  else
    what = "class weights " + join_numbers(rule["class_weights"]);
  fmt::print("{}: {}\n{} as predicted {}\nin-sample      {}\nnested cv      {}\n",
             rule["kind"].get<std::string>(), what, ref.metric,
             fmt_score(d["as_predicted"].get<double>()),
             fmt_score(d["in_sample_score"].get<double>()),
             fmt_score(d["nested_score"].get<double>()));
  if (!d["beats_as_predicted"].get<bool>())
    fmt::print("the fitted {} do not beat the predictions as they are on nested cv ({} against {})\n",
               rule["kind"].get<std::string>() == "class_weights" ? "class weights" : "rule",
               fmt_score(d["nested_score"].get<double>()),
               fmt_score(d["as_predicted"].get<double>()));
  fmt::print("run {} (labels)\nsubmission: {}\n", d["run_id"].get<std::string>(),
             (std::filesystem::path(d["dir"].get<std::string>()) / "submission.csv").string());
}

/// `compe blend RUN RUN ...` in a segmentation workspace: the members' masks voted pixel by pixel.
void blend_masks(const Workspace& ws, const Common& a, const std::string& name, const std::string& cmdline) {
  std::unique_ptr<Store> store = open_run_store(a.workspace, a.store);
  const blend::MaskBlendRecorded rec =
      blend::record_mask_blend(ws, *store, {.runs = a.inputs, .name = name, .command_line = cmdline});
  if (a.json) {
    print_json(run_record(*store, rec.run_id));
    return;
  }
  for (std::size_t i = 0; i < rec.members.size(); ++i)
    fmt::print("member {}: oof {}, weight {}\n", rec.members[i], fmt_score(rec.member_scores[i]), rec.vote.weights[i]);
  fmt::print("vote threshold {}: in-sample oof {}\n", rec.vote.threshold, fmt_score(rec.in_sample));
  fmt::print("recorded run {} (vote): cv {} (nested over the folds)\n", rec.run_id, fmt_score(rec.cv));
}

void run_blend(Common& a, const std::string& name, bool thresholds, const std::string& cmdline) {
  if (a.inputs.empty())
    fail(ErrorCode::kInvalidArgument, "compe blend: give the runs to blend (two or more)");
  (void)blend::find(a.method);
  read_model_params(a);
  Workspace ws = open_workspace(a.workspace);
  if (ws.config().task == metric::kDetection)
    fail(ErrorCode::kInvalidArgument,
         "compe blend: {} is a detection competition: its runs' boxes are fused, not blended; use compe wbf tune "
         "RUN RUN ... (docs/DETECTION.md)",
         ws.config().name);
  if (ws.config().task == metric::kSegmentation) {
    blend_masks(ws, a, name, cmdline);
    return;
  }
  blend::OofSet set = load(ws, a);
  if (thresholds && !blend::scores_labels(set.ref.metric))
    fail(ErrorCode::kInvalidArgument,
         "--optimize-thresholds: metric {} scores probabilities, not labels; thresholds help "
         "accuracy, f1, mcc, qwk and the other label metrics",
         quote(set.ref.metric));
  blend::Result r = blend::blend(set, a.method, a.params);
  blend::RunOptions ro;
  ro.store = store_url_or_env(a.store);
  ro.name = name;
  ro.command_line = cmdline;
  blend::Recorded rec = blend::record_blend(ws, set, a.inputs, r, a.params, ro);
  const double best_score = r.member_scores[static_cast<std::size_t>(r.best_member)];
  const bool beats = blend::better(set.ref, r.nested_score, best_score);
  nlohmann::json decision = nullptr;
  if (thresholds) {
    // Fitted on the blend's nested OOF (honest predictions), checked by nested CV in turn.
    blend::DecisionResult d = blend::optimize_decision(set.ref, r.nested_oof, r.test);
    blend::RunOptions dro = ro;
    dro.name = ro.name.empty() ? "blend-" + r.method + "-" + d.decision.kind
                               : ro.name + "-" + d.decision.kind;
    blend::Recorded drec = blend::record_decision(
        ws, set.ref, {rec.run_id}, d, {{"run_id", rec.run_id}, {"blend", r.method}}, dro);
    decision = decision_json(*open_run_store(a.workspace, ro.store), d, drec);
  }
  if (a.json) {
    nlohmann::json doc = run_record(*open_run_store(a.workspace, ro.store), rec.run_id);
    doc.update(nlohmann::json{{"method", r.method},
                                       {"oof_score", r.oof_score},
                                       {"nested_score", r.nested_score},
                                       {"fold_scores", r.fold_scores},
                                       {"best_member", set.members[static_cast<std::size_t>(r.best_member)].name},
                                       {"best_member_score", best_score},
                                       {"beats_best_member", beats},
                                       {"different_folds", set.different_folds},
                                       {"details", r.details},
                                       {"dir", rec.dir.string()},
                                       {"decision", decision}});
    print_json(doc);
    return;
  }
  std::vector<std::vector<std::string>> rows;
  for (std::size_t i = 0; i < set.members.size(); ++i)
    rows.push_back({set.members[i].name, set.members[i].label, fmt_score(r.member_scores[i]),
                    r.weights.empty() ? "-" : fmt::format("{:.4f}", r.weights[i])});
  print_table({"member", "name", set.ref.metric, "weight"}, rows);
  fmt::print("in-sample oof  {}\nnested cv      {}  ({} the best member, {} {})\n",
             fmt_score(r.oof_score), fmt_score(r.nested_score), beats ? "beats" : "does not beat",
             set.members[static_cast<std::size_t>(r.best_member)].name, fmt_score(best_score));
  fmt::print("run {} ({})\nsubmission: {}\n", rec.run_id, r.method,
             (rec.dir / "submission.csv").string());
  if (!decision.is_null()) print_decision(set.ref, decision);
}

void run_analyze(Common& b) {
  read_model_params(b);
  Workspace ws = open_workspace(b.workspace);
  blend::OofSet set = load(ws, b);
  blend::Analysis res = blend::analyze(set, b.method, b.params);
  const std::size_t m = res.names.size();
  if (b.json) {
    std::vector<std::string> labels;
    for (const auto& mem : set.members) labels.push_back(mem.label);
    print_json({{"members", res.names},
                {"labels", labels},
                {"metric", set.ref.metric},
                {"scores", res.scores},
                {"pearson", matrix(res.pearson)},
                {"spearman", matrix(res.spearman)},
                {"error_pearson", matrix(res.error_pearson)},
                {"error_spearman", matrix(res.error_spearman)},
                {"order", res.order},
                {"method", res.method},
                {"blend_score", res.all_score},
                {"marginal_gain", res.marginal_gain}});
    return;
  }
  std::vector<std::vector<std::string>> rows;
  for (std::size_t i = 0; i < m; ++i)
    rows.push_back({res.names[i], set.members[i].label, fmt_score(res.scores[i]),
                    fmt_score(res.marginal_gain[i])});
  print_table({"member", "name", set.ref.metric, "gain"}, rows);
  fmt::print("blend of all ({}, nested cv): {}\n\nSpearman of predictions (clustered order):\n",
             res.method, fmt_score(res.all_score));
  std::vector<std::string> header = {""};
  for (int j : res.order) header.push_back(res.names[static_cast<std::size_t>(j)]);
  std::vector<std::vector<std::string>> corr;
  for (int i : res.order) {
    std::vector<std::string> row = {res.names[static_cast<std::size_t>(i)]};
    for (int j : res.order)
      row.push_back(fmt::format(
          "{:.3f}", res.spearman[static_cast<std::size_t>(i) * m + static_cast<std::size_t>(j)]));
    corr.push_back(row);
  }
  print_table(header, corr);
}

struct ThresholdArgs {
  std::string input, workspace, store, name;
  int max_passes = 100;
  std::int64_t threads = 0;
  bool json = false;
};

void run_threshold(const ThresholdArgs& t, const std::string& cmdline) {
  Workspace ws = open_workspace(t.workspace);
  blend::RunOptions ro;
  ro.store = store_url_or_env(t.store);
  ro.name = t.name;
  ro.command_line = cmdline;
  blend::OofSet set = blend::load_set(ws, {t.input}, ro);
  const blend::Member& m = set.members.at(0);
  blend::DecisionResult d = blend::optimize_decision(set.ref, m.oof, m.test, t.max_passes,
                                                     check_threads(t.threads, "--threads"));
  nlohmann::json source = {{"label", m.label}};
  if (std::filesystem::is_directory(t.input) &&
      std::filesystem::exists(std::filesystem::path(t.input) / "oof.csv"))
    source["path"] = std::filesystem::absolute(t.input).lexically_normal().string();
  else
    source["run_id"] = m.name;
  blend::Recorded rec = blend::record_decision(ws, set.ref, {t.input}, d, source, ro);
  nlohmann::json j = decision_json(*open_run_store(t.workspace, ro.store), d, rec);
  if (t.json) {
    j["input"] = t.input;
    print_json(j);
    return;
  }
  print_decision(set.ref, j);
}

void add_threshold_command(CLI::App& app, const std::string& cmdline) {
  auto t = std::make_shared<ThresholdArgs>();
  auto* th = app.add_subcommand(
      "threshold",
      "Fit a threshold (binary), cut points / class weights (multiclass) or one threshold per "
      "column (multilabel F1) for a label metric on one run's OOF predictions; record a run with "
      "the label submission");
  th->add_option("RUN", t->input, "Run id (or prefix) or a folder with oof.csv and test.csv")
      ->required();
  th->add_option("--name", t->name, "Name of the new run (default: decision-<kind>)");
  th->add_option("--max-passes", t->max_passes, "Coordinate passes of the rounder / class weights")
      ->check(CLI::PositiveNumber);
  th->add_option("--threads", t->threads,
                 "Threads for the fit and the nested-CV fits (default 0: every core)");
  add_workspace_option(th, t->workspace);
  add_store_option(th, t->store);
  th->add_flag("--json", t->json, "Print one JSON document");
  th->callback([t, cmdline] { run_threshold(*t, cmdline); });
}

}  // namespace

void add_blend_commands(CLI::App& app, int argc, char** argv) {
  auto a = std::make_shared<Common>();
  auto name = std::make_shared<std::string>();
  std::string cmdline = command_line(argc, argv);
  auto* cmd = app.add_subcommand(
      "blend",
      "Blend runs' OOF and test predictions into a new run (compe blend analyze: diversity)");
  cmd->add_option("RUN", a->inputs, "Run ids (or prefixes) or folders with oof.csv and test.csv");
  cmd->add_option("--method", a->method, method_help());
  cmd->add_option("--name", *name, "Name of the new run (default: blend-<method>)");
  auto thresholds = std::make_shared<bool>(false);
  cmd->add_flag("--optimize-thresholds", *thresholds,
                "Then fit a threshold / rounder for the label metric on the blend's nested OOF "
                "and record it as a second run with a label submission");
  add_params(cmd, *a);

  auto b = std::make_shared<Common>();
  auto* an =
      cmd->add_subcommand("analyze", "Diversity: correlations, each model's CV, marginal gains");
  an->add_option("RUN", b->inputs, "Run ids (or prefixes) or folders with oof.csv and test.csv")
      ->required();
  an->add_option("--method", b->method,
                 "Blend whose marginal gains are measured (default: weights)");
  add_params(an, *b);

  cmd->callback([a, name, cmdline, an, thresholds] {
    if (an->parsed()) return;
    run_blend(*a, *name, *thresholds, cmdline);
  });
  an->callback([b] { run_analyze(*b); });
  add_threshold_command(app, cmdline);
}

void add_oof_commands(CLI::App& app, int argc, char** argv) {
  struct Args {
    std::vector<std::string> paths;
    std::string name, workspace, store, run, dir;
    bool json = false, allow_different_folds = false;
  };
  auto a = std::make_shared<Args>();
  std::string cmdline = command_line(argc, argv);
  auto* oof = app.add_subcommand("oof", "Exchange OOF predictions with teammates (import, export)");
  oof->require_subcommand(1);
  auto* imp = oof->add_subcommand(
      "import", "Validate folders with oof.csv, test.csv (and meta.json) and record them as runs");
  imp->add_option("PATH", a->paths, "Folders to import")->required();
  imp->add_option("--name", a->name,
                  "Run name (default: the folder's name; with several folders, NAME-<folder>)");
  add_workspace_option(imp, a->workspace);
  add_store_option(imp, a->store);
  imp->add_flag(
      "--allow-different-folds", a->allow_different_folds,
      "Accept predictions made on other folds (recorded with their folds; plain averages only)");
  imp->add_flag("--json", a->json, "Print one JSON document");
  imp->callback([a, cmdline] {
    Workspace ws = open_workspace(a->workspace);
    nlohmann::json runs = nlohmann::json::array();
    std::vector<std::vector<std::string>> rows;
    for (const auto& p : a->paths) {
      blend::RunOptions ro;
      ro.store = store_url_or_env(a->store);
      ro.command_line = cmdline;
      if (!a->name.empty())
        ro.name = a->paths.size() == 1
                      ? a->name
                      : a->name + "-" + std::filesystem::path(p).filename().string();
      blend::LoadOptions lo;
      lo.allow_different_folds = a->allow_different_folds;
      blend::Recorded rec = blend::import_oof(ws, p, ro, lo);
      nlohmann::json doc = run_record(*open_run_store(a->workspace, ro.store), rec.run_id);
      doc["path"] = p;
      doc["dir"] = rec.dir.string();
      doc["notes"] = rec.notes;
      runs.push_back(doc);
      rows.push_back({rec.run_id, p, fmt_score(rec.cv)});
      if (!a->json)
        for (const auto& n : rec.notes) fmt::print("{}\n", n);
    }
    if (a->json) {
      print_json({{"runs", runs}, {"metric", ws.config().metric}});
      return;
    }
    print_table({"run", "path", ws.config().metric}, rows);
  });
  auto* exp = oof->add_subcommand(
      "export", "Write a run's oof.csv, test.csv and meta.json into a folder for a teammate");
  exp->add_option("RUN", a->run, "Run id (or prefix)")->required();
  exp->add_option("DIR", a->dir, "Folder to write (created when missing)")->required();
  add_workspace_option(exp, a->workspace);
  add_store_option(exp, a->store);
  exp->add_flag("--json", a->json, "Print one JSON document");
  exp->callback([a] {
    Workspace ws = open_workspace(a->workspace);
    blend::RunOptions ro;
    ro.store = store_url_or_env(a->store);
    auto files = blend::export_oof(ws, a->run, a->dir, ro);
    std::vector<std::string> names;
    for (const auto& f : files) names.push_back(f.string());
    if (a->json) {
      print_json({{"files", names}});
      return;
    }
    for (const auto& n : names) fmt::print("{}\n", n);
  });
}

}  // namespace compe::cli
