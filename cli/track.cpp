// Tracking commands: show, tag, note, diff, lb add, rerun.
#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>

#include <fmt/core.h>

#include "commands.hpp"
#include "compe/artifacts.hpp"
#include "compe/error.hpp"
#include "compe/pseudo.hpp"
#include "compe/blend.hpp"
#include "compe/mask_blend.hpp"
#include "compe/folds.hpp"
#include "compe/metric.hpp"
#include "compe/run.hpp"
#include "compe/track.hpp"
#include "compe/tune/fusion.hpp"
#include "compe/util.hpp"
#include "output.hpp"
#include "workspace_option.hpp"

namespace compe::cli {
namespace fs = std::filesystem;

namespace {

struct StoreArgs {
  std::string workspace, store;
  bool json = false;
};

void add_store_options(CLI::App* cmd, StoreArgs& a) {
  add_workspace_option(cmd, a.workspace);
  add_store_option(cmd, a.store);
}

nlohmann::json opt_json(const std::optional<double>& v) { return v ? nlohmann::json(*v) : nlohmann::json(nullptr); }

// Curves as series {key, fold, steps, values} (the dashboard API's shape); NaN becomes null.
nlohmann::json curves_json(const std::vector<MetricPoint>& points) {
  nlohmann::json out = nlohmann::json::array();
  const MetricPoint* prev = nullptr;
  for (const auto& p : points) {
    if (!prev || prev->key != p.key || prev->fold != p.fold)
      out.push_back({{"key", p.key}, {"fold", p.fold ? nlohmann::json(*p.fold) : nlohmann::json(nullptr)},
                     {"steps", nlohmann::json::array()}, {"values", nlohmann::json::array()}});
    out.back()["steps"].push_back(p.step);
    out.back()["values"].push_back(std::isfinite(p.value) ? nlohmann::json(p.value) : nlohmann::json(nullptr));
    prev = &p;
  }
  return out;
}

// One line per curve key: folds, steps and the last value of each fold.
std::vector<std::string> curve_lines(const std::vector<MetricPoint>& points) {
  struct Key {
    std::set<std::string> folds;
    std::int64_t first = 0, last = 0;
    std::map<std::string, double> final_value;  // fold -> value at its last step
    bool any = false;
  };
  std::map<std::string, Key> keys;
  for (const auto& p : points) {
    Key& k = keys[p.key];
    std::string fold = p.fold ? std::to_string(*p.fold) : "all";
    k.folds.insert(fold);
    k.first = k.any ? std::min(k.first, p.step) : p.step;
    k.last = k.any ? std::max(k.last, p.step) : p.step;
    k.any = true;
    k.final_value[fold] = p.value;  // points come ordered by step within a fold
  }
  std::vector<std::string> out;
  for (const auto& [name, k] : keys) {
    std::vector<std::string> last;
    for (const auto& [f, v] : k.final_value) last.push_back(f + ": " + fmt_score(v));
    out.push_back(fmt::format("{}  steps {}..{}, {} fold{}; last {}", name, k.first, k.last, k.folds.size(),
                              k.folds.size() == 1 ? "" : "s", join(last)));
  }
  return out;
}

// Each seed's fold mean ([run] seeds) and the 20 most important features.
void print_details(const nlohmann::json& details) {
  if (details["seeds"].is_object())
    for (const auto& [seed, d] : details["seeds"].items())
      fmt::print("  seed     {}  fold mean {}\n", seed, d.contains("fold_mean") ? fmt_score(d["fold_mean"].get<double>()) : "-");
  if (!details["importance"].is_array() || details["importance"].empty()) return;
  const auto& rows = details["importance"];
  auto cell = [](const nlohmann::json& v) { return v.is_number() ? fmt::format("{:.4f}", v.get<double>()) : std::string("-"); };
  fmt::print("  importance (top {} of {}; gain share, permutation drop of the metric mean ± std)\n",
             std::min<std::size_t>(20, rows.size()), rows.size());
  for (std::size_t i = 0; i < rows.size() && i < 20; ++i)
    fmt::print("    {:<24} gain {:>7}  permutation {:>8} ± {}\n", rows[i]["feature"].get<std::string>(),
               cell(rows[i]["gain"]), cell(rows[i]["permutation_mean"]), cell(rows[i]["permutation_std"]));
}

void add_show_command(CLI::App& app) {
  auto a = std::make_shared<StoreArgs>();
  auto run_id = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("show", "Show one run: config, scores, lineage, artifacts, LB scores");
  cmd->add_option("RUN", *run_id, "Run id (or a unique prefix)")->required();
  add_store_options(cmd, *a);
  cmd->add_flag("--json", a->json, "Print one JSON document");
  cmd->callback([a, run_id] {
    auto store = open_run_store(a->workspace, a->store);
    Run r = store->get_run(store->resolve_run_id(*run_id));
    auto arts = store->list_artifacts(r.id);
    auto lbs = store->list_lb_scores(r.id);
    auto curves = store->read_metrics(r.id);
    if (a->json) {
      nlohmann::json doc = run::run_json(r, arts);
      doc["artifacts"] = nlohmann::json::array();
      for (const auto& x : arts) doc["artifacts"].push_back({{"name", x.name}, {"path", x.path}, {"size", x.size}, {"sha", x.sha}});
      doc["lb"] = nlohmann::json::array();
      for (const auto& l : lbs)
        doc["lb"].push_back({{"public", l.public_score}, {"private", opt_json(l.private_score)}, {"time", iso8601_utc(l.time_ms)}, {"note", l.note}});
      doc["curves"] = curves_json(curves);
      doc["details"] = run::run_details(*store, r.id);
      print_json(doc);
      return;
    }
    nlohmann::json rec = run::run_json(r, arts);
    fmt::print("run {} ({}) {} {}{}\n", r.id, r.name, r.kind.empty() ? "run" : r.kind, run_status_name(r.status),
               r.partial ? ", partial (some folds or rows only)" : "");
    fmt::print("  created  {}   wall {:.1f} s\n", iso8601_utc(r.created_ms), r.wall_seconds.value_or(0));
    fmt::print("  metric   {} = {} (pooled OOF){}\n", r.metric, r.cv_score ? fmt_score(*r.cv_score) : "-",
               rec["fold_mean"].is_number()
                   ? fmt::format("   fold mean {} ± {}", fmt_score(rec["fold_mean"].get<double>()),
                                 fmt_score(rec["fold_std"].get<double>()))
                   : std::string());
    for (auto& [f, v] : r.fold_scores) fmt::print("    fold {}  {}\n", f, fmt_score(v));
    if (rec["cv_note"].is_string()) fmt::print("  warning  {}\n", rec["cv_note"].get<std::string>());
    if (rec["cv_optimistic"].get<bool>())
      fmt::print("  warning  optimistic CV: each fold chose its stopping round on its own validation rows\n");
    if (!r.parent_id.empty()) fmt::print("  parent   {}\n", r.parent_id);
    for (const auto& line : pseudo::lineage_lines(rec["pseudo"])) fmt::print("  pseudo   {}\n", line);
    if (rec["members"].is_array()) {
      fmt::print("  blend    {} of {} member(s)\n", r.config.value("/blend/method"_json_pointer, std::string("?")),
                 rec["members"].size());
      for (const auto& m : rec["members"])
        fmt::print("    member {}  {}  weight {}  oof {}\n",
                   m["run_id"].is_string() ? m["run_id"].get<std::string>() : m["path"].is_string() ? m["path"].get<std::string>() : "?",
                   m["label"].is_string() ? m["label"].get<std::string>() : m["name"].is_string() ? m["name"].get<std::string>() : "",
                   m["weight"].is_number() ? fmt_score(m["weight"].get<double>()) : "-",
                   m["oof_score"].is_number() ? fmt_score(m["oof_score"].get<double>()) : "-");
    } else if (!rec["model"].get<std::string>().empty()) {
      fmt::print("  model    {}\n", rec["model"].get<std::string>());
    }
    fmt::print("  folds    {}   data {}\n", r.folds_hash, r.data_hash);
    if (!r.git_commit.empty())
      fmt::print("  git      {} ({}){}\n", r.git_commit.substr(0, 12), r.git_branch, r.git_dirty.value_or(false) ? " + uncommitted diff" : "");
    fmt::print("  command  {}\n  in       {} on {}\n", r.command, r.workdir, r.host);
    if (!r.tags.empty()) fmt::print("  tags     {}\n", join(std::vector<std::string>(r.tags.begin(), r.tags.end())));
    if (!r.note.empty()) fmt::print("  note     {}\n", r.note);
    if (!r.error.empty()) fmt::print("  error    {}\n", r.error);
    for (const auto& l : lbs)
      fmt::print("  LB       public {}{}  ({}){}\n", fmt_score(l.public_score),
                 l.private_score ? " private " + fmt_score(*l.private_score) : "", iso8601_utc(l.time_ms).substr(0, 19),
                 l.note.empty() ? "" : "  " + l.note);
    if (!rec["params"].is_null()) fmt::print("  params   {}\n", rec["params"].dump());
    for (const auto& line : curve_lines(curves)) fmt::print("  curve    {}\n", line);
    print_details(run::run_details(*store, r.id));
    for (const auto& x : arts) fmt::print("  artifact {}  ({} bytes)\n", x.path, x.size);
  });
}

void add_tag_command(CLI::App& app) {
  auto a = std::make_shared<StoreArgs>();
  auto args = std::make_shared<std::vector<std::string>>();
  auto remove = std::make_shared<bool>(false);
  auto* cmd = app.add_subcommand("tag", "Add (or with --remove, remove) tags on a run");
  cmd->add_option("RUN_AND_TAGS", *args, "RUN TAG [TAG...]")->required()->expected(2, -1);
  cmd->add_flag("--remove", *remove, "Remove the tags instead");
  add_store_options(cmd, *a);
  cmd->add_flag("--json", a->json, "Print the run's record");
  cmd->callback([a, args, remove] {
    auto store = open_run_store(a->workspace, a->store);
    std::string id = store->resolve_run_id(args->front());
    for (std::size_t i = 1; i < args->size(); ++i) {
      if ((*args)[i].empty()) fail(ErrorCode::kInvalidArgument, "a tag cannot be empty");
      if (*remove) store->remove_tag(id, (*args)[i]);
      else store->add_tag(id, (*args)[i]);
    }
    Run r = store->get_run(id);
    if (a->json) return print_json(run_record(*store, r));
    fmt::print("{}: {}\n", id, join(std::vector<std::string>(r.tags.begin(), r.tags.end())));
  });
}

void add_note_command(CLI::App& app) {
  auto a = std::make_shared<StoreArgs>();
  auto run_id = std::make_shared<std::string>();
  auto text = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("note", "Set a run's note");
  cmd->add_option("RUN", *run_id, "Run id (or a unique prefix)")->required();
  cmd->add_option("TEXT", *text, "The note")->required();
  add_store_options(cmd, *a);
  cmd->add_flag("--json", a->json, "Print the run's record");
  cmd->callback([a, run_id, text] {
    auto store = open_run_store(a->workspace, a->store);
    std::string id = store->resolve_run_id(*run_id);
    store->set_note(id, *text);
    if (a->json) return print_json(run_record(*store, id));
    fmt::print("{}: note set\n", id);
  });
}

void add_diff_command(CLI::App& app) {
  auto a = std::make_shared<StoreArgs>();
  auto ids = std::make_shared<std::vector<std::string>>();
  auto* cmd = app.add_subcommand("diff", "Compare two runs: config changes, score deltas, paired test over folds");
  cmd->add_option("A B", *ids, "Two run ids (or prefixes)")->required()->expected(2);
  add_store_options(cmd, *a);
  cmd->add_flag("--json", a->json, "Print one JSON document");
  cmd->callback([a, ids] {
    auto store = open_run_store(a->workspace, a->store);
    Run ra = store->get_run(store->resolve_run_id((*ids)[0]));
    Run rb = store->get_run(store->resolve_run_id((*ids)[1]));
    bool greater = ra.direction != "minimize";
    auto changes = track::config_diff(ra.config, rb.config, {"name", "parent"});
    auto cmp = track::compare_folds(ra.fold_scores, rb.fold_scores, greater);
    std::optional<double> delta;
    if (ra.cv_score && rb.cv_score) delta = *rb.cv_score - *ra.cv_score;
    std::vector<std::string> warnings;
    if (ra.metric != rb.metric) warnings.push_back(fmt::format("different metrics: {} vs {}", ra.metric, rb.metric));
    if (ra.folds_hash != rb.folds_hash) warnings.push_back("different folds: fold scores are not paired");
    if (ra.data_hash != rb.data_hash) warnings.push_back("different data (train/test files changed)");
    if (a->json) {
      nlohmann::json ch = nlohmann::json::array();
      for (const auto& c : changes) ch.push_back({{"key", c.key}, {"a", c.before}, {"b", c.after}});
      nlohmann::json d = nlohmann::json::object();
      for (auto& [f, v] : cmp.delta) d[std::to_string(f)] = v;
      print_json({{"a", ra.id}, {"b", rb.id}, {"metric", rb.metric}, {"changes", ch},
                  {"cv", {{"a", opt_json(ra.cv_score)}, {"b", opt_json(rb.cv_score)}, {"delta", opt_json(delta)}}},
                  {"folds", {{"delta", d}, {"paired", cmp.folds}, {"improved", cmp.improved}, {"worse", cmp.worse},
                             {"ties", cmp.ties}, {"mean_delta", cmp.mean_delta}, {"sign_p", cmp.sign_p},
                             {"wilcoxon_p", cmp.wilcoxon_p}}},
                  {"warnings", warnings}});
      return;
    }
    fmt::print("A {} ({})  vs  B {} ({})\n\n", ra.id, ra.name, rb.id, rb.name);
    // One line per change; a long value is cut so that the line stays readable (--json has it whole).
    auto shown = [](const nlohmann::json& v) {
      std::string t = v.is_null() ? "(absent)" : v.dump();
      return t.size() > 60 ? t.substr(0, 57) + "..." : t;
    };
    if (changes.empty()) fmt::print("same configuration\n");
    for (const auto& c : changes) fmt::print("  {}  {}  ->  {}\n", c.key, shown(c.before), shown(c.after));
    fmt::print("\n");
    std::vector<std::vector<std::string>> rows;
    for (auto& [f, v] : cmp.delta)
      rows.push_back({std::to_string(f), fmt_score(ra.fold_scores[f]), fmt_score(rb.fold_scores[f]), fmt::format("{:+.6f}", v)});
    rows.push_back({"cv", ra.cv_score ? fmt_score(*ra.cv_score) : "-", rb.cv_score ? fmt_score(*rb.cv_score) : "-",
                    delta ? fmt::format("{:+.6f}", *delta) : "-"});
    print_table({"fold", "A " + ra.metric, "B " + rb.metric, "B - A"}, rows);
    fmt::print("\nB is better on {} of {} folds (worse on {}); mean delta {:+.6f}\n", cmp.improved, cmp.folds,
               cmp.worse, cmp.mean_delta);
    fmt::print("sign test p = {:.3g}, Wilcoxon signed-rank p = {:.3g}{}\n", cmp.sign_p, cmp.wilcoxon_p,
               cmp.folds < 6 ? "  (with fewer than 6 folds no difference can reach p < 0.05)" : "");
    for (const auto& w : warnings) fmt::print("warning: {}\n", w);
  });
}

void add_lb_commands(CLI::App& app) {
  auto lb = app.add_subcommand("lb", "Leaderboard scores of runs' submissions");
  lb->require_subcommand(1);
  struct LbArgs : StoreArgs {
    std::string run, note;
    double pub = 0;
    std::optional<double> priv;
  };
  auto a = std::make_shared<LbArgs>();
  auto* add = lb->add_subcommand("add", "Record the LB score of a run's submission");
  add->add_option("RUN", a->run, "Run id (or a unique prefix)")->required();
  add->add_option("--public", a->pub, "Public LB score")->required();
  add->add_option("--private", a->priv, "Private LB score");
  add->add_option("--note", a->note, "A note (e.g. the submission's description)");
  add_store_options(add, *a);
  add->add_flag("--json", a->json, "Print the run's record with its LB scores");
  add->callback([a] {
    if (!std::isfinite(a->pub) || (a->priv && !std::isfinite(*a->priv)))
      fail(ErrorCode::kInvalidArgument, "LB scores must be finite numbers");
    auto store = open_run_store(a->workspace, a->store);
    std::string id = store->resolve_run_id(a->run);
    Run r = store->get_run(id);
    // A score the metric cannot take is a typo (7.5 for roc_auc), not a score.
    if (!r.metric.empty()) {
      metric::check_score_range(r.metric, a->pub, "--public");
      if (a->priv) metric::check_score_range(r.metric, *a->priv, "--private");
    }
    store->add_lb_score({.run_id = id, .public_score = a->pub, .private_score = a->priv, .note = a->note});
    if (a->json) {
      nlohmann::json doc = run_record(*store, id);
      doc["lb"] = nlohmann::json::array();
      for (const auto& l : store->list_lb_scores(id))
        doc["lb"].push_back({{"public", l.public_score}, {"private", opt_json(l.private_score)},
                             {"time", iso8601_utc(l.time_ms)}, {"note", l.note}});
      return print_json(doc);
    }
    fmt::print("{} ({}): cv {}  public LB {}{}\n", id, r.name, r.cv_score ? fmt_score(*r.cv_score) : "-",
               fmt_score(a->pub), a->priv ? "  private LB " + fmt_score(*a->priv) : "");
  });
  struct RmArgs : StoreArgs {
    std::string run;
    bool all = false;
  };
  auto rm = std::make_shared<RmArgs>();
  auto* rmc = lb->add_subcommand("rm", "Remove a run's latest LB score (--all: every one)");
  rmc->add_option("RUN", rm->run, "Run id (or a unique prefix)")->required();
  rmc->add_flag("--all", rm->all, "Remove every LB score of the run");
  add_store_options(rmc, *rm);
  rmc->add_flag("--json", rm->json, "Print one JSON document");
  rmc->callback([rm] {
    auto store = open_run_store(rm->workspace, rm->store);
    std::string id = store->resolve_run_id(rm->run);
    auto scores = store->list_lb_scores(id);
    if (scores.empty()) fail(ErrorCode::kNotFound, "run {} has no LB score to remove", id);
    std::int64_t n = store->remove_lb_scores(
        id, rm->all ? std::nullopt : std::optional<std::int64_t>(scores.back().time_ms));
    if (rm->json) return print_json({{"run_id", id}, {"removed", n}});
    fmt::print("{}: {} LB score(s) removed\n", id, n);
  });
  auto b = std::make_shared<StoreArgs>();
  auto* list = lb->add_subcommand("list", "CV and LB scores side by side");
  add_store_options(list, *b);
  list->add_flag("--json", b->json, "Print one JSON document");
  list->callback([b] {
    auto store = open_run_store(b->workspace, b->store);
    nlohmann::json doc = nlohmann::json::array();
    std::vector<std::vector<std::string>> rows;
    for (const auto& l : store->list_lb_scores()) {
      Run r = store->get_run(l.run_id);
      doc.push_back({{"run_id", r.id}, {"name", r.name}, {"cv", opt_json(r.cv_score)}, {"public", l.public_score},
                     {"private", opt_json(l.private_score)}, {"time", iso8601_utc(l.time_ms)}});
      rows.push_back({r.id, r.name, r.cv_score ? fmt_score(*r.cv_score) : "-", fmt_score(l.public_score),
                      l.private_score ? fmt_score(*l.private_score) : "-"});
    }
    if (b->json) print_json(doc);
    else print_table({"run", "name", "cv", "public", "private"}, rows);
  });
}

void add_rerun_command(CLI::App& app, const std::string& cmdline) {
  struct RerunArgs : StoreArgs {
    std::string run;
  };
  auto a = std::make_shared<RerunArgs>();
  auto* cmd = app.add_subcommand("rerun", "Reproduce a run from its record (same config, same folds)");
  cmd->add_option("RUN", a->run, "Run id (or a unique prefix)")->required();
  add_store_options(cmd, *a);
  cmd->add_flag("--json", a->json, "Print one JSON document");
  cmd->callback([a, cmdline] {
    Workspace w = open_workspace(a->workspace);
    std::unique_ptr<Store> store = open_run_store(a->workspace, a->store);
    Run r = store->get_run(store->resolve_run_id(a->run));
    std::vector<std::string> warnings;
    // Same folds: a changed folds.csv is remade from the run's record when it can be.
    if (auto done = run::restore_run_folds(w, r)) warnings.push_back(*done);
    std::string new_id;
    double cv = 0;
    const bool model_run = r.config.contains("model") && !r.config.contains("blend") && !r.config.contains("decision");
    if (model_run && r.kind != "python" && r.kind != "import") {
      run::Experiment x = run::experiment_from_json(r.config);
      x.name = r.name + "-rerun";
      x.parent = r.id;
      run::Options o;
      o.store = a->store;
      o.command_line = cmdline;
      o.allow_multi = true;
      run::Summary s = run::run_experiment(w, x, o, nullptr);
      new_id = s.run_id;
      cv = s.cv;
    } else if (blend::is_mask_blend(r)) {
      const blend::MaskBlendRecorded rec = blend::rerun_mask_blend(w, *store, r, "", cmdline);
      new_id = rec.run_id;
      cv = rec.cv;
    } else if (detect::is_fusion_run(r)) {
      const detect::FusionRecorded rec = detect::rerun_fusion(w, *store, r, "", cmdline);
      new_id = rec.run_id;
      cv = rec.cv;
    } else {
      blend::RunOptions ro;
      ro.store = a->store;
      ro.command_line = cmdline;
      blend::Recorded rec = blend::rerun(w, r, ro);
      new_id = rec.run_id;
      cv = rec.cv;
    }
    Run again = store->get_run(new_id);
    if (again.data_hash != r.data_hash) warnings.push_back("the train/test data changed since the run");
    if (!r.git_commit.empty() && again.git_commit != r.git_commit)
      warnings.push_back(fmt::format("the commit differs: {} then, {} now", r.git_commit.substr(0, 12),
                                     again.git_commit.substr(0, 12)));
    if (a->json) {
      nlohmann::json doc = run_record(*store, again);
      doc["of"] = r.id;
      doc["original_cv"] = opt_json(r.cv_score);
      doc["warnings"] = warnings;
      print_json(doc);
      return;
    }
    for (const auto& wmsg : warnings) fmt::print("warning: {}\n", wmsg);
    fmt::print("rerun {} of {}: cv {} (was {})\n", new_id, r.id, fmt_score(cv),
               r.cv_score ? fmt_score(*r.cv_score) : "-");
  });
}

}  // namespace

void add_track_commands(CLI::App& app, int argc, char** argv) {
  add_show_command(app);
  add_tag_command(app);
  add_note_command(app);
  add_diff_command(app);
  add_lb_commands(app);
  add_rerun_command(app, command_line(argc, argv));
}

}  // namespace compe::cli
