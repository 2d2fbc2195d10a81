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
  for (const ReviewQueue& q : store.list_review_queues()) out.push_back(review::queue_json(q));
  return {{"queues", out}};
}

json review_queue_json(Store& store, const std::string& queue) {
  ReviewQueue q = store.get_review_queue(queue);
  json items = json::array();
  for (const ReviewItem& it : store.list_review_items(queue)) items.push_back(review::item_json(it));
  return {{"queue", review::queue_json(q)}, {"items", items}};
}

json review_item_json(Store& store, const std::string& queue, const std::string& key) {
  if (key.empty()) fail(ErrorCode::kInvalidArgument, "key: expected the item's id (?key=...)");
  json history = json::array();
  ReviewItem it = store.get_review_item(queue, key);
  for (const ReviewEdit& e : store.review_history(queue, key)) history.push_back(review::edit_json(e));
  return {{"item", review::item_json(it)}, {"history", history}};
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
  for (const ReviewEdit& o : r.overridden) overridden.push_back(review::edit_json(o));
  return {{"edit", review::edit_json(r.edit)},
          {"item", review::item_json(store.get_review_item(queue, e.key))},
          {"overridden", overridden}};
}

}  // namespace compe::server
