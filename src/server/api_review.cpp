// The review page's API (api_review.hpp): queues, items with their history, and edits.
#include "server/api_review.hpp"

#include <algorithm>

#include <fmt/format.h>

#include "compe/error.hpp"
#include "compe/json_input.hpp"
#include "compe/review_queue.hpp"

namespace compe::server {
namespace {

using json = nlohmann::json;

json edit_doc(const ReviewEdit& e) {
  json out = {{"id", e.id},         {"key", e.key},       {"action", e.action},
              {"old", e.old_value}, {"new", e.new_value}, {"reviewer", e.reviewer},
              {"time", iso8601_utc(e.time_ms)}};
  if (e.undoes) out["undoes"] = e.undoes;
  return out;
}

json item_doc(const ReviewItem& it) {
  return {{"key", it.key},
          {"rank", it.rank},
          {"label", it.label},
          {"original", it.original},
          {"status", it.status},
          {"reasons", it.reasons},
          {"predictions", it.predictions},
          {"data", it.data},
          {"last_edit", it.last_edit},
          {"last_reviewer", it.last_reviewer},
          {"last_edit_time", it.last_edit_ms ? json(iso8601_utc(it.last_edit_ms)) : json(nullptr)}};
}

json queue_doc(const ReviewQueue& q) {
  return {{"name", q.name},   {"kind", q.kind},         {"runs", q.source_runs},
          {"rules", q.rules}, {"info", q.info},         {"items", q.items},
          {"reviewed", q.reviewed}, {"created", iso8601_utc(q.created_ms)}};
}

std::string reviewer_of(const JsonAt& body) {
  std::string r = body.at("reviewer", "the reviewer's name").string();
  const bool printable = std::all_of(r.begin(), r.end(), [](char c) {
    return static_cast<unsigned char>(c) >= 0x20 && c != 0x7f;
  });
  if (r.empty() || r.size() > 64 || !printable)
    fail(ErrorCode::kInvalidArgument, "{}: expected 1 to 64 printable characters", body.at("reviewer").where());
  return r;
}

}  // namespace

json review_queues_json(Store& store) {
  json out = json::array();
  for (const ReviewQueue& q : store.list_review_queues()) out.push_back(queue_doc(q));
  return {{"queues", out}};
}

json review_queue_json(Store& store, const std::string& queue) {
  ReviewQueue q = store.get_review_queue(queue);
  json items = json::array();
  for (const ReviewItem& it : store.list_review_items(queue)) items.push_back(item_doc(it));
  return {{"queue", queue_doc(q)}, {"items", items}};
}

json review_item_json(Store& store, const std::string& queue, const std::string& key) {
  if (key.empty()) fail(ErrorCode::kInvalidArgument, "key: expected the item's id (?key=...)");
  json history = json::array();
  ReviewItem it = store.get_review_item(queue, key);
  for (const ReviewEdit& e : store.review_history(queue, key)) history.push_back(edit_doc(e));
  return {{"item", item_doc(it)}, {"history", history}};
}

json review_edit_json(Store& store, const std::string& queue, const std::string& body) {
  json doc = parse_json(body, "request body");
  JsonAt at(doc, "request body");
  at.object();
  ReviewEdit e;
  e.queue = queue;
  e.key = at.at("key", "the item's id").string();
  e.action = at.at("action", "accept, relabel, skip, boxes or undo").string();
  e.reviewer = reviewer_of(at);
  if (auto b = at.opt_integer("based_on")) e.based_on = *b;
  if (doc.contains("value")) e.new_value = doc["value"];
  if ((e.action == "accept" || e.action == "relabel") && !e.new_value.is_string())
    fail(ErrorCode::kInvalidArgument, "request body: /value: {} needs the class name (a string)", e.action);
  if (e.action == "boxes") e.new_value = review::check_boxes(e.new_value, "request body: /value");
  ReviewEditResult r = store.edit_review_item(e);
  json overridden = json::array();
  for (const ReviewEdit& o : r.overridden) overridden.push_back(edit_doc(o));
  return {{"edit", edit_doc(r.edit)},
          {"item", item_doc(store.get_review_item(queue, e.key))},
          {"overridden", overridden}};
}

}  // namespace compe::server
