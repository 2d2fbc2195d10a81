#pragma once
// The --workspace option shared by commands that run inside a workspace.
#include <filesystem>
#include <optional>
#include <string>

#include "compe/workspace.hpp"

namespace compe::cli {

inline Workspace open_workspace(const std::string& dir) {
  return Workspace::discover(dir.empty() ? std::nullopt : std::optional<std::filesystem::path>(dir));
}

}  // namespace compe::cli
