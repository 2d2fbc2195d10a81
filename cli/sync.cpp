// push / pull: a run's files between runs/<id>/ and a store (a team's PostgreSQL, say).
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "commands.hpp"
#include "compe/artifacts.hpp"
#include "compe/error.hpp"
#include "compe/store.hpp"
#include "output.hpp"
#include "workspace_option.hpp"

namespace compe::cli {
namespace fs = std::filesystem;
namespace {

struct SyncArgs {
  std::string workspace, store;
  std::vector<std::string> runs;
  double max_mb = static_cast<double>(kDefaultArtifactLimitBytes) / (1 << 20);
  bool json = false;
};

void add_sync_options(CLI::App* cmd, SyncArgs& a) {
  cmd->add_option("RUN", a.runs, "Run ids or unique prefixes (default: every run)");
  add_workspace_option(cmd, a.workspace);
  add_store_option(cmd, a.store);
  cmd->add_flag("--json", a.json, "Print one JSON document");
}

std::vector<std::string> all_run_ids(Store& store) {
  RunFilter f;
  f.limit = 0;
  f.descending = false;
  std::vector<std::string> ids;
  for (const Run& r : store.list_runs(f).runs) ids.push_back(r.id);
  return ids;
}

nlohmann::json artifacts_json(const std::vector<Artifact>& arts) {
  nlohmann::json out = nlohmann::json::array();
  for (const auto& x : arts)
    out.push_back({{"name", x.name}, {"size", x.size}, {"sha256", x.sha}, {"stored", x.stored}});
  return out;
}

}  // namespace

void add_sync_commands(CLI::App& app) {
  {
    auto a = std::make_shared<SyncArgs>();
    auto* cmd = app.add_subcommand(
        "push", "Store runs' files (OOF, test, submission, meta, config, diff) in the store");
    add_sync_options(cmd, *a);
    cmd->add_option("--max-artifact-mb", a->max_mb, "Largest file stored, in MiB (default 2048)")
        ->check(CLI::PositiveNumber);
    cmd->callback([a] {
      Workspace w = open_workspace(a->workspace);
      // Records come from the workspace's own store; the target may be another (a team's).
      auto local = open_store(w.store_path().string());
      auto target = open_run_store(a->workspace, a->store);
      const bool same = target->url() == local->url();
      const auto max_bytes = static_cast<std::int64_t>(a->max_mb * (1 << 20));
      std::vector<std::string> ids;
      for (const auto& r : a->runs) ids.push_back(local->resolve_run_id(r));
      if (a->runs.empty()) ids = all_run_ids(*local);
      nlohmann::json out = nlohmann::json::array();
      std::int64_t files = 0, copied = 0;
      for (const auto& id : ids) {
        Run r = local->get_run(id);
        if (r.status == RunStatus::kRunning) {
          out.push_back({{"id", id}, {"skipped", "running"}});
          continue;
        }
        bool new_record = !same && target->copy_run(r);
        copied += new_record ? 1 : 0;
        auto arts = run::push_run(*target, w, id, max_bytes);
        files += static_cast<std::int64_t>(arts.size());
        out.push_back({{"id", id}, {"record_copied", new_record}, {"artifacts", artifacts_json(arts)}});
        if (!a->json)
          fmt::print("{}  {} file(s){}\n", id, arts.size(), new_record ? ", record copied" : "");
      }
      if (a->json) {
        print_json({{"store", target->url()}, {"runs", out}, {"files", files}, {"records_copied", copied}});
      } else {
        fmt::print("pushed {} file(s) of {} run(s) to {}\n", files, ids.size(), target->url());
      }
    });
  }
  {
    auto a = std::make_shared<SyncArgs>();
    auto* cmd = app.add_subcommand(
        "pull", "Fetch runs' files from the store into runs/<id>/ (sha256 verified)");
    add_sync_options(cmd, *a);
    cmd->callback([a] {
      Workspace w = open_workspace(a->workspace);
      auto store = open_run_store(a->workspace, a->store);
      std::vector<std::string> ids;
      for (const auto& r : a->runs) ids.push_back(store->resolve_run_id(r));
      if (a->runs.empty()) ids = all_run_ids(*store);
      nlohmann::json out = nlohmann::json::array();
      std::int64_t fetched = 0;
      for (const auto& id : ids) {
        run::LocalRun lr = run::pull_run(*store, w, id);
        fetched += static_cast<std::int64_t>(lr.fetched.size());
        out.push_back({{"id", id}, {"dir", lr.dir.string()}, {"fetched", lr.fetched}});
        if (!a->json && !lr.fetched.empty())
          fmt::print("{}  {}\n", id, join(lr.fetched));
      }
      if (a->json) {
        print_json({{"store", store->url()}, {"runs", out}, {"fetched", fetched}});
      } else {
        fmt::print("pulled {} file(s) of {} run(s) from {}\n", fetched, ids.size(), store->url());
      }
    });
  }
}

}  // namespace compe::cli
