#pragma once
/// GET /api/shake: the shake-up simulation of candidate runs as JSON (no HTTP here).

#include <filesystem>

#include <nlohmann/json.hpp>

#include "compe/store.hpp"
#include "server/api.hpp"

namespace compe::server {

/// GET /api/shake?ids=a,b,c: shake::to_json of the runs' simulation, from the workspace's solution
/// when it has one (source=oof forces the OOF predictions). Parameters: ids (1 to 20 run ids or
/// unique prefixes, comma-separated), public_fraction (0..1 exclusive; default the solution's,
/// else 0.3), simulations (1..5000, default 1000), seed (default 42), source (solution | oof).
/// Errors: Error(kInvalidArgument) naming the parameter and value; what shake::load_candidates and
/// shake::simulate throw.
nlohmann::json shake_json(Store& store, const std::filesystem::path& workspace_root, const Params& params);

}  // namespace compe::server
