#pragma once
// A Titanic workspace made by `compe init` from examples/titanic/data (no folds.csv yet), in a
// temporary folder of its own that goes away with it. Shared by the suites that run experiments.
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <string>

#include <fmt/format.h>

#include "compe/store.hpp"
#include "compe/workspace.hpp"

namespace compe::testing {

struct TitanicWorkspace {
  std::filesystem::path root;
  Workspace ws;
  /// `suite` and `tag` name the folder: <tmp>/compe-<suite>-<tag>-<pid>.
  TitanicWorkspace(const std::string& suite, const std::string& tag)
      : root(std::filesystem::temp_directory_path() / fmt::format("compe-{}-{}-{}", suite, tag, ::getpid())),
        ws(make(root)) {}
  ~TitanicWorkspace() { std::filesystem::remove_all(root); }
  TitanicWorkspace(const TitanicWorkspace&) = delete;
  TitanicWorkspace& operator=(const TitanicWorkspace&) = delete;

  static Workspace make(const std::filesystem::path& root) {
    std::filesystem::remove_all(root);
    InitOptions o;
    o.dir = root / "ws";
    o.from = std::filesystem::path(COMPE_SOURCE_DIR) / "examples" / "titanic" / "data";
    init_workspace(o);
    return Workspace::open(o.dir);
  }
  /// Runs in the workspace's store (0 before the store exists).
  std::int64_t runs() const {
    if (!std::filesystem::exists(ws.store_path())) return 0;
    RunFilter f;
    f.limit = 0;
    return open_store(ws.store_path().string())->list_runs(f).total;
  }
};

}  // namespace compe::testing
