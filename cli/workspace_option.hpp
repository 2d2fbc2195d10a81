#pragma once
// The --workspace option shared by commands that run inside a workspace.
#include <filesystem>
#include <optional>
#include <cstdlib>
#include <memory>
#include <string>

#include "compe/run_writer.hpp"
#include "compe/store.hpp"
#include "compe/util.hpp"
#include "compe/workspace.hpp"

namespace compe::cli {

inline Workspace open_workspace(const std::string& dir) {
  return Workspace::discover(dir.empty() ? std::nullopt : std::optional<std::filesystem::path>(dir));
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
  std::string url = store;
  if (url.empty())
    if (const char* env = std::getenv("COMPE_STORE")) url = env;
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
