#pragma once
/// The review page's documents and its one write, as plain functions over a Store (no HTTP here);
/// server.cpp maps GET /api/review, GET /api/review/{queue}, GET /api/review/{queue}/item?key=
/// and POST /api/review/{queue}/edit onto them.
///
/// Errors: an unknown queue or item throws Error(kNotFound); a bad edit body throws
/// Error(kInvalidArgument) naming the field. Thread safety: as the Store's.

#include <string>

#include <nlohmann/json.hpp>

#include "compe/store.hpp"

namespace compe::server {

/// GET /api/review: {queues: [{name, kind, runs, rules, items, reviewed, created}]}.
nlohmann::json review_queues_json(Store& store);

/// GET /api/review/{queue}: {queue: {..., info}, items: [{key, rank, label, original, status,
/// reasons, predictions, data, last_edit, last_reviewer, last_edit_time}]}.
nlohmann::json review_queue_json(Store& store, const std::string& queue);

/// GET /api/review/{queue}/item?key=: {item, history: [{id, action, old, new, reviewer, time,
/// undoes}]} (history oldest first).
nlohmann::json review_item_json(Store& store, const std::string& queue, const std::string& key);

/// POST /api/review/{queue}/edit with {key, action, value, reviewer, based_on}: saves one edit
/// (one transaction) and answers {edit, item, overridden: [edits of others saved after based_on,
/// which this one replaces]}. A reviewer name is required (1 to 64 printable characters).
nlohmann::json review_edit_json(Store& store, const std::string& queue, const std::string& body);

}  // namespace compe::server
