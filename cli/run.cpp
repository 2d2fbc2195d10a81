// compe run: one cross-validated run of an experiment; compe runs: the recorded runs.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <csignal>
#include <filesystem>
#include <map>
#include <optional>

#include <fmt/core.h>

#include "commands.hpp"
#include "compe/error.hpp"
#include "compe/run.hpp"
#include "compe/store.hpp"
#include "compe/util.hpp"
#include <vector>
#include "output.hpp"
#include "progress.hpp"
#include "workspace_option.hpp"

namespace compe::cli {
namespace fs = std::filesystem;

namespace {

std::atomic<bool> g_cancel{false};

extern "C" void on_sigint(int) {
  if (g_cancel.exchange(true)) std::_Exit(130);  // a second Ctrl-C stops at once
}

// --seeds 1,2,3: distinct integers >= 0.
std::vector<std::uint64_t> parse_seeds(const std::string& text) {
  std::vector<std::uint64_t> out;
  for (const auto& part : CLI::detail::split(text, ',')) {
    std::uint64_t v = 0;
    auto [ptr, ec] = std::from_chars(part.data(), part.data() + part.size(), v);
    if (ec != std::errc() || ptr != part.data() + part.size() || part.empty())
      fail(ErrorCode::kInvalidArgument, "--seeds: {} is not a seed; expected integers >= 0, e.g. 1,2,3", quote(part));
    if (std::find(out.begin(), out.end(), v) != out.end())
      fail(ErrorCode::kInvalidArgument, "--seeds: {} is listed twice, expected distinct seeds", v);
    out.push_back(v);
  }
  return out;
}

}  // namespace

void add_run_command(CLI::App& app, int argc, char** argv) {
  struct Args {
    std::string experiment, model, name, workspace, store, folds, parent, seeds;
    int threads = -1;
    bool json = false, allow_multi = false, permutation = false;
  };
  auto a = std::make_shared<Args>();
  std::string cmdline = command_line(argc, argv);
  auto* cmd = app.add_subcommand("run", "Train every fold of an experiment: OOF and test predictions, CV score, submission");
  cmd->add_option("EXPERIMENT", a->experiment, "Experiment TOML file (model, params, features)");
  cmd->add_option("--model", a->model, "Run a backend with its defaults instead of an experiment file (xgboost, linear)");
  cmd->add_option("--name", a->name, "Run name");
  cmd->add_option("--parent", a->parent, "Parent run id (or prefix)");
  cmd->add_option("--folds", a->folds, "Only these folds, e.g. 0,1");
  cmd->add_option("--threads", a->threads, "Threads (0 = all cores)")->check(CLI::NonNegativeNumber);
  cmd->add_option("--seeds", a->seeds, "Train each fold once per seed and average, e.g. 1,2,3 ([run] seeds)");
  cmd->add_flag("--permutation-importance", a->permutation,
                "Also measure permutation importance on the OOF rows ([run] permutation_importance)");
  add_workspace_option(cmd, a->workspace);
  add_store_option(cmd, a->store);
  cmd->add_flag("--allow-multi", a->allow_multi, "Do not warn when several hypotheses change at once");
  cmd->add_flag("--json", a->json, "Print one JSON document");
  cmd->callback([a, cmdline] {
    Workspace w = open_workspace(a->workspace);
    run::Experiment x;
    if (!a->experiment.empty() && !a->model.empty())
      fail(ErrorCode::kInvalidArgument, "give an experiment file or --model, not both");
    if (!a->experiment.empty()) {
      x = run::parse_experiment(read_file(a->experiment), a->experiment);
    } else {
      x.backend = a->model.empty() ? "xgboost" : a->model;
    }
    if (!a->name.empty()) x.name = a->name;
    if (!a->parent.empty()) x.parent = a->parent;
    if (a->threads >= 0) x.threads = static_cast<std::size_t>(a->threads);
    if (!a->seeds.empty()) x.seeds = parse_seeds(a->seeds);
    if (a->permutation) x.permutation_importance = true;
    if (!a->folds.empty()) {
      x.folds.clear();
      for (const auto& part : CLI::detail::split(a->folds, ',')) {
        try {
          std::size_t used = 0;
          int f = std::stoi(part, &used);
          if (used != part.size() || f < 0) throw std::invalid_argument(part);
          x.folds.push_back(f);
        } catch (const std::exception&) {
          fail(ErrorCode::kInvalidArgument, "--folds: '{}' is not a fold number; expected e.g. 0,1,2", part);
        }
      }
    }
    run::Options o;
    o.store = store_url_or_env(a->store);
    o.command_line = cmdline;
    o.cancel = &g_cancel;
    o.allow_multi = a->allow_multi;
    std::signal(SIGINT, on_sigint);
    TerminalProgress bar(stdout, !a->json && stdout_is_tty());
    run::Summary s = run::run_experiment(w, x, o, run::progress_sink(bar));
    std::signal(SIGINT, SIG_DFL);
    if (a->json) {
      nlohmann::json doc = run_record(*open_run_store(a->workspace, o.store), s.run_id);
      doc["dir"] = s.dir.string();
      doc["notes"] = s.notes;
      doc["model_seconds"] = s.model_seconds;
      doc["changed"] = s.changed_keys;
      doc["multi_hypothesis"] = s.multi_hypothesis;
      print_json(doc);
      return;
    }
    if (!stdout_is_tty())
      for (const auto& n : s.notes) fmt::print("{}\n", n);
    else
      for (const auto& n : s.notes)
        if (n.rfind("warning: ", 0) == 0 && !s.multi_hypothesis) fmt::print("\033[33m{}\033[0m\n", n);
    if (stdout_is_tty() && s.multi_hypothesis)
      fmt::print("\033[33m{} hypotheses changed at once: {}\033[0m\n", s.changed_keys.size(), join(s.changed_keys));
    std::vector<std::vector<std::string>> rows;
    for (auto& [f, v] : s.fold_scores) rows.push_back({std::to_string(f), fmt_score(v)});
    print_table({"fold", s.metric}, rows);
    fmt::print("mean ± std  {} ± {}\n", fmt_score(s.mean), fmt_score(s.std));
    fmt::print("cv (oof)    {}{}\n", fmt_score(s.cv), s.partial ? "  (partial: some folds or rows only)" : "");
    fmt::print("run {} ({}) in {:.1f} s\nsubmission: {}\n", s.run_id, s.name, s.wall_seconds, s.submission.string());
  });
}

void add_runs_command(CLI::App& app) {
  struct Args {
    std::string workspace, store, status, tag, name, sort = "created", order;
    std::optional<double> min_cv, max_cv;
    int limit = 50;
    bool json = false, all = false;
  };
  auto a = std::make_shared<Args>();
  auto* cmd = app.add_subcommand("runs", "List recorded runs with their scores");
  add_workspace_option(cmd, a->workspace);
  add_store_option(cmd, a->store);
  cmd->add_option("--status", a->status, "Only runs in this status (running, finished, failed, interrupted, pruned)");
  cmd->add_option("--tag", a->tag, "Only runs with this tag");
  cmd->add_option("--name", a->name, "Only runs whose name contains this text");
  cmd->add_option("--min-cv", a->min_cv, "Only runs with a CV score >= this (runs without a score are left out)");
  cmd->add_option("--max-cv", a->max_cv, "Only runs with a CV score <= this (runs without a score are left out)");
  cmd->add_option("--sort", a->sort, "created (newest first), best (by each run's metric direction), cv, name or status")
      ->check(CLI::IsMember({"created", "best", "cv", "name", "status"}));
  cmd->add_option("--order", a->order, "asc or desc (default: desc for created and cv, asc for name and status)")
      ->check(CLI::IsMember({"asc", "desc"}));
  cmd->add_option("--limit", a->limit, "At most this many runs (0 = all)")->check(CLI::NonNegativeNumber);
  cmd->add_flag("--all", a->all, "With --sort best: also partial and archived runs (left out by default)");
  cmd->add_flag("--json", a->json, "Print one JSON document");
  // ---- runs rm | archive ----
  struct HouseArgs {
    std::vector<std::string> runs;
    std::string workspace, store;
    bool force = false, json = false;
  };
  auto h = std::make_shared<HouseArgs>();
  auto* rm = cmd->add_subcommand("rm", "Delete runs: their records and their runs/<id>/ folders");
  auto* archive = cmd->add_subcommand(
      "archive", "Archive runs: tagged 'archived', kept with their files, left out of rankings and select");
  for (auto* sub : {rm, archive}) {
    sub->add_option("RUN", h->runs, "Run ids (or prefixes)")->required();
    add_workspace_option(sub, h->workspace);
    add_store_option(sub, h->store);
    sub->add_flag("--force", h->force, "Also runs that other runs depend on (children, blend members)");
    sub->add_flag("--json", h->json, "Print one JSON document");
  }
  auto housekeeping = [h](bool remove) {
    Workspace w = open_workspace(h->workspace);
    auto store = open_run_store(h->workspace, h->store);
    std::vector<std::string> ids;
    for (const auto& r : h->runs) ids.push_back(store->resolve_run_id(r));
    // Who depends on a run: its children, and blends or thresholds that name it.
    RunFilter all;
    all.limit = 0;
    std::vector<Run> runs = store->list_runs(all).runs;
    nlohmann::json done = nlohmann::json::array();
    for (const auto& id : ids) {
      std::vector<std::string> users;
      for (const Run& r : runs) {
        if (r.id == id || std::find(ids.begin(), ids.end(), r.id) != ids.end()) continue;
        bool uses = r.parent_id == id;
        for (const char* list : {"/blend/inputs", "/decision/inputs"}) {
          nlohmann::json::json_pointer ptr(list);
          if (r.config.contains(ptr))
            for (const auto& m : r.config[ptr])
              uses = uses || (m.is_object() && m.value("run_id", std::string()) == id) || (m.is_string() && m == id);
        }
        if (uses) users.push_back(fmt::format("{} ({})", r.id, r.name));
      }
      if (!users.empty() && !h->force)
        fail(ErrorCode::kInvalidArgument, "run {} is used by {} other run(s): {}; pass --force to {} it anyway", id,
             users.size(), join(users), remove ? "delete" : "archive");
      if (remove) {
        store->delete_run(id);  // the record first: a folder without a record is only a leftover
        std::error_code ec;
        fs::remove_all(w.runs_dir() / id, ec);
      } else {
        store->add_tag(id, "archived");
      }
      done.push_back(id);
      if (!h->json) fmt::print("{} {}\n", id, remove ? "deleted" : "archived");
    }
    if (h->json) print_json({{remove ? "deleted" : "archived", done}});
  };
  rm->callback([housekeeping] { housekeeping(true); });
  archive->callback([housekeeping] { housekeeping(false); });

  cmd->callback([a, rm, archive] {
    if (rm->parsed() || archive->parsed()) return;
    for (auto [flag, v] : {std::pair<const char*, std::optional<double>>{"--min-cv", a->min_cv}, {"--max-cv", a->max_cv}})
      if (v && !std::isfinite(*v)) fail(ErrorCode::kInvalidArgument, "{} {}: expected a finite number", flag, *v);
    if (a->min_cv && a->max_cv && *a->min_cv > *a->max_cv)
      fail(ErrorCode::kInvalidArgument, "--min-cv {} is above --max-cv {}: no run can match", *a->min_cv, *a->max_cv);
    std::string url = store_url_or_env(a->store);
    if (url.empty()) {
      Workspace w = open_workspace(a->workspace);
      if (!fs::exists(w.store_path())) {
        if (a->json) print_json({{"runs", nlohmann::json::array()}, {"total", 0}});
        else fmt::print("no runs yet: start one with `compe run --model xgboost`\n");
        return;
      }
      url = w.store_path().string();
    }
    auto store = open_store(url);
    store->mark_interrupted_stale();
    clean_interrupted_run_folders(*store, a->workspace);
    RunFilter f;
    if (!a->status.empty()) f.status = parse_run_status(a->status);
    f.tag = a->tag;
    f.name_contains = a->name;
    f.cv_min = a->min_cv;
    f.cv_max = a->max_cv;
    static const std::map<std::string, RunSort> kSorts = {{"created", RunSort::kCreated},
                                                          {"best", RunSort::kBest},
                                                          {"cv", RunSort::kCvScore},
                                                          {"name", RunSort::kName},
                                                          {"status", RunSort::kStatus}};
    f.sort = kSorts.at(a->sort);
    f.descending = a->order.empty() ? (a->sort != "name" && a->sort != "status") : a->order == "desc";
    f.limit = a->limit;
    f.complete_only = a->sort == "best" && !a->all;
    RunPage page = store->list_runs(f);
    if (a->json) {
      nlohmann::json runs = nlohmann::json::array();
      for (const auto& r : page.runs) runs.push_back(run_record(*store, r));
      print_json({{"runs", runs}, {"total", page.total}});
      return;
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& r : page.runs)
      rows.push_back({r.id, r.name, r.kind.empty() ? "-" : r.kind, std::string(run_status_name(r.status)),
                      r.metric, r.cv_score ? fmt_score(*r.cv_score) + (r.partial ? "*" : "") : "-",
                      std::to_string(r.fold_scores.size()), iso8601_utc(r.created_ms).substr(0, 19)});
    print_table({"run", "name", "kind", "status", "metric", "cv", "folds", "created"}, rows);
    if (std::any_of(page.runs.begin(), page.runs.end(), [](const Run& r) { return r.partial; }))
      fmt::print("* partial run (some folds or rows only): not comparable, left out of --sort best\n");
    if (page.total > static_cast<std::int64_t>(page.runs.size()))
      fmt::print("{} of {} runs shown\n", page.runs.size(), page.total);
  });
}

}  // namespace compe::cli
