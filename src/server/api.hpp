#pragma once
/// The dashboard's read-only JSON API as plain functions over a Store (no HTTP here, so the
/// documents can be built and checked without a server). server.cpp maps routes onto them.
///
/// Errors: an unknown run throws Error(kNotFound); a bad query value (limit, sort, status, ids)
/// throws Error(kInvalidArgument) naming the parameter, the value and what is expected.
/// Thread safety: as the Store's (calls are serialised on its connection).

#include <filesystem>
#include <map>
#include <string>

#include <nlohmann/json.hpp>

#include "compe/store.hpp"

namespace compe::server {

/// Query parameters of one request (first value of each name).
using Params = std::map<std::string, std::string>;

/// GET /api/runs: {runs: [...], total, limit, offset, sort, order, cv_min, cv_max}. Parameters:
/// limit (1..1000, default 50), offset (>= 0), sort (created | cv | best | name | status),
/// order (asc | desc; default desc for created and cv, asc for name and status; best is always
/// best first), status, tag, name (substring), metric, cv_min and cv_max (inclusive bounds on
/// the cv score; runs without one are left out when either is given).
/// Runs left `running` by a dead process are marked interrupted first
/// (Store::mark_interrupted_stale), as for run_json.
nlohmann::json runs_json(Store& store, const Params& params);

/// GET /api/runs/{id}: the run (id may be a unique prefix), fold scores, artifacts, LB scores and
/// the metric keys that have curves.
nlohmann::json run_json(Store& store, const std::string& id);

/// GET /api/runs/{id}/metrics?key=: curves as series {key, fold, steps[], values[]}.
nlohmann::json metrics_json(Store& store, const std::string& id, const std::string& key);

/// GET /api/compare?ids=a,b,c: two or more runs; config flattened to dotted key paths, the keys
/// whose values differ with each run's value (null when absent), fold scores per run and the
/// validation curves of each run.
nlohmann::json compare_json(Store& store, const std::string& ids);

/// GET /api/lb: one row per run with leaderboard scores: CV, the latest public and private
/// scores, and every submission.
nlohmann::json lb_json(Store& store);

/// A run artifact to send, or why not.
struct ArtifactFile {
  int status = 404;  ///< 200 when `path` may be sent; 403 for a name or path escaping the workspace
  std::filesystem::path path;  ///< canonical path inside the workspace root
  std::string filename;        ///< base name for Content-Disposition
  std::string content_type;
  std::string message;  ///< why not, when status != 200
};

/// GET /api/runs/{id}/artifacts/{name}. `name` is an artifact name of the run ("oof") or the file
/// name of one of its artifacts ("oof.csv"), or a plain file name directly inside runs/<id>/.
/// The recorded path is resolved against `workspace_root` (symlinks followed) and refused unless
/// it is a regular file inside the root.
ArtifactFile find_artifact(Store& store, const std::filesystem::path& workspace_root,
                           const std::string& id, const std::string& name);

/// Content type for a file name by its extension (application/octet-stream when unknown).
std::string content_type_for(const std::string& filename);

/// A run as JSON (the list and detail documents share it).
nlohmann::json run_to_json(Store& store, const Run& run);

}  // namespace compe::server
