#pragma once
/// The dashboard's blend documents, as plain functions (server.cpp maps routes onto them).

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "compe/store.hpp"

namespace compe::server {

/// GET /api/diversity?ids=a,b,c[&method=M]: `compe blend analyze` of two to twenty finished runs
/// of the workspace (ids or unique prefixes; folders are not accepted here): each member's id,
/// name and OOF score, the clustered order, the m x m correlation matrices (Pearson and Spearman,
/// of predictions and of errors; row-major), each member's marginal gain on nested CV (positive
/// helps) and the score of the blend of all. `method` is the blend used for the gains (default
/// weights). Errors: Error(kInvalidArgument) for a bad ids or method value and what blending
/// refuses (mismatched folds, missing predictions), Error(kNotFound) for an unknown run.
nlohmann::json diversity_json(Store& store, const std::filesystem::path& workspace_root,
                              const std::string& ids, const std::string& method);

}  // namespace compe::server
