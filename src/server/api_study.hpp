#pragma once
/// The dashboard's study documents (tuning studies and their trials), as plain functions over a
/// Store; server.cpp maps GET /api/studies and /api/studies/{name} onto them.
///
/// Errors: an unknown study throws Error(kNotFound). Thread safety: as the Store's.

#include <string>

#include <nlohmann/json.hpp>

#include "compe/store.hpp"

namespace compe::server {

/// GET /api/studies: {studies: [{name, directions, sampler, pruner, trials, counts{state: n},
/// best}]}; best is the best complete value of the first objective (null when none).
nlohmann::json studies_json(Store& store);

/// GET /api/studies/{name}: {name, directions, sampler, pruner, space{param: distribution},
/// counts, trials: [{number, state, values[], params{name: external value}, run_id,
/// intermediate{step: value}, best_so_far}], best (number or null), pareto (numbers; several
/// objectives), importance{param: score} (parameter_importance on the first objective)}.
nlohmann::json study_json(Store& store, const std::string& name);

}  // namespace compe::server
