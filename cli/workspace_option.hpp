#pragma once
// What the commands share: the --workspace and --store options (one help text each), the store
// URL lookup (--store, else $COMPE_STORE, else the workspace's SQLite store) and the command line
// recorded with a run.
#include <CLI/CLI.hpp>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "compe/run_writer.hpp"
#include "compe/store.hpp"
#include "compe/util.hpp"
#include "compe/workspace.hpp"

namespace compe::cli {

inline Workspace open_workspace(const std::string& dir) {
  return Workspace::discover(dir.empty() ? std::nullopt : std::optional<std::filesystem::path>(dir));
}

inline constexpr const char* kWorkspaceHelp = "Workspace folder (default: the current one)";
inline constexpr const char* kStoreHelp =
    "Store URL (default: $COMPE_STORE, else the workspace's SQLite store .compe/compe.db)";

inline CLI::Option* add_workspace_option(CLI::App* cmd, std::string& workspace) {
  return cmd->add_option("--workspace", workspace, kWorkspaceHelp);
}
inline CLI::Option* add_store_option(CLI::App* cmd, std::string& store) {
  return cmd->add_option("--store", store, kStoreHelp);
}

/// --store as given, else $COMPE_STORE, else "": the core then opens the workspace's own store
/// (run::Options::store, shake::SelectOptions::store, blend and OOF imports).
inline std::string store_url_or_env(const std::string& given) {
  if (!given.empty()) return given;
  const char* env = std::getenv("COMPE_STORE");
  return env ? env : "";
}

/// --store as given, else $COMPE_STORE, else the workspace's SQLite file.
inline std::string store_url(const std::string& given, const Workspace& workspace) {
  std::string url = store_url_or_env(given);
  return url.empty() ? workspace.store_path().string() : url;
}

/// The same for a workspace folder given on the command line (opened only when needed).
inline std::string store_url(const std::string& given, const std::string& workspace_dir) {
  std::string url = store_url_or_env(given);
  return url.empty() ? open_workspace(workspace_dir).store_path().string() : url;
}

/// The process's arguments joined with spaces: the command line a run records.
inline std::string command_line(int argc, char** argv) {
  std::string out;
  for (int i = 0; i < argc; ++i) {
    if (i) out += ' ';
    out += argv[i];
  }
  return out;
}

/// A process killed while it wrote a run's files leaves temporary files (and, killed as the run
/// began, a folder holding nothing else): remove them from the folders of the latest interrupted
/// runs, whose processes are gone. Without a workspace there are no folders to clean.
inline void clean_interrupted_run_folders(Store& store, const std::string& workspace) {
  std::filesystem::path runs;
  try {
    runs = open_workspace(workspace).runs_dir();
  } catch (const std::exception&) {
    return;
  }
  RunFilter f;
  f.status = RunStatus::kInterrupted;
  f.limit = 200;
  for (const Run& r : store.list_runs(f).runs) remove_stale_temp_files(runs / r.id);
}

/// The store a command reads: --store, else $COMPE_STORE, else the workspace's SQLite file.
inline std::unique_ptr<Store> open_run_store(const std::string& workspace, const std::string& store) {
  std::string url = store_url_or_env(store);
  if (url.empty()) url = open_workspace(workspace).store_path().string();
  auto s = open_store(url);
  s->mark_interrupted_stale();
  clean_interrupted_run_folders(*s, workspace);
  return s;
}

/// The Run record of a run (run::run_json with its artifacts): what every --json that prints a
/// run prints, commands adding their own fields beside it.
inline nlohmann::json run_record(Store& store, const Run& run) {
  return run::run_json(run, store.list_artifacts(run.id));
}
inline nlohmann::json run_record(Store& store, const std::string& run_id) {
  return run_record(store, store.get_run(run_id));
}

}  // namespace compe::cli
