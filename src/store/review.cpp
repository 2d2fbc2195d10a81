// The Store's review queues (schema 6), over the Db connection of either backend (sql_store.hpp).
// An edit is one write transaction: it claims the next edit id from the counter row first (an
// UPDATE, which serialises concurrent editors on both backends), then reads the item's current
// label, inserts the edit and updates the item. A process killed before COMMIT leaves nothing.

#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "compe/error.hpp"
#include "compe/store.hpp"
#include "store/sql_store.hpp"

namespace compe::store {
namespace {

constexpr const char* kItemColumns =
    "i.queue, i.item_key, i.rank, i.reasons, i.original, i.label, i.predictions, i.data, "
    "i.status, i.last_edit, COALESCE(e.reviewer, ''), COALESCE(e.time_ms, 0)";
constexpr const char* kEditColumns =
    "id, queue, item_key, action, old_value, new_value, reviewer, time_ms, based_on, undoes";

std::vector<std::string> string_list(const json& j) {
  std::vector<std::string> out;
  for (const auto& v : j) out.push_back(v.get<std::string>());
  return out;
}

ReviewEdit edit_from_row(const Row& r) {
  ReviewEdit e;
  e.id = r.i64(0);
  e.queue = r.str(1);
  e.key = r.str(2);
  e.action = r.str(3);
  e.old_value = parse_json(r.str(4), "review edit old value");
  e.new_value = parse_json(r.str(5), "review edit new value");
  e.reviewer = r.str(6);
  e.time_ms = r.i64(7);
  e.based_on = r.i64(8);
  e.undoes = r.i64(9);
  return e;
}

bool known_action(const std::string& action) {
  return std::any_of(std::begin(kReviewActions), std::end(kReviewActions),
                     [&](const char* a) { return action == a; });
}

// The edit an undo reverts: the latest edit of the item that is neither an undo nor undone.
const ReviewEdit* undo_target(const std::vector<ReviewEdit>& edits) {
  std::set<std::int64_t> undone;
  for (auto it = edits.rbegin(); it != edits.rend(); ++it) {
    if (it->action == "undo") {
      undone.insert(it->undoes);
    } else if (!undone.count(it->id)) {
      return &*it;
    }
  }
  return nullptr;
}

}  // namespace

void SqlStore::require_review_queue(const std::string& name) {
  if (db_->query("SELECT 1 FROM review_queues WHERE name = ?", {name}).empty())
    fail(ErrorCode::kNotFound, "no review queue '{}' in store '{}'", name, url_);
}

ReviewQueue SqlStore::create_review_queue(const ReviewQueue& q,
                                          std::span<const ReviewItem> items) {
  if (q.name.empty()) fail(ErrorCode::kInvalidArgument, "a review queue needs a name");
  return write("create_review_queue", [&] {
    if (!db_->query("SELECT 1 FROM review_queues WHERE name = ?", {q.name}).empty()) {
      fail(ErrorCode::kInvalidArgument,
           "review queue '{}' already exists in store '{}' (pick another name)", q.name, url_);
    }
    ReviewQueue out = q;
    out.created_ms = q.created_ms ? q.created_ms : now_unix_ms();
    db_->exec(
        "INSERT INTO review_queues (name, source_runs, rules, kind, info, created_ms) VALUES (?, "
        "?, ?, ?, ?, ?)",
        {q.name, json(q.source_runs).dump(), json(q.rules).dump(), q.kind, q.info.dump(),
         out.created_ms});
    std::set<std::string> keys;
    for (const ReviewItem& it : items) {
      if (it.key.empty())
        fail(ErrorCode::kInvalidArgument, "review queue '{}': an item without a key", q.name);
      if (!keys.insert(it.key).second) {
        fail(ErrorCode::kInvalidArgument, "review queue '{}': item {} given twice", q.name,
             quote(it.key));
      }
      db_->exec(
          "INSERT INTO review_items (queue, item_key, rank, reasons, original, label, "
          "predictions, data) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
          {q.name, it.key, it.rank, it.reasons.dump(), it.original.dump(), it.original.dump(),
           it.predictions.dump(), it.data.dump()});
    }
    out.items = static_cast<std::int64_t>(items.size());
    out.reviewed = 0;
    return out;
  });
}

std::vector<ReviewQueue> SqlStore::list_review_queues() {
  return read("list_review_queues", [&] {
    std::vector<ReviewQueue> out;
    auto rows = db_->query(
        "SELECT q.name, q.source_runs, q.rules, q.kind, q.info, q.created_ms, (SELECT COUNT(*) "
        "FROM review_items i WHERE i.queue = q.name), (SELECT COUNT(*) FROM review_items i "
        "WHERE i.queue = q.name AND i.last_edit <> 0) FROM review_queues q ORDER BY "
        "q.created_ms, q.name",
        {});
    for (const Row& r : rows) {
      ReviewQueue q;
      q.name = r.str(0);
      q.source_runs = string_list(parse_json(r.str(1), "review queue runs"));
      q.rules = string_list(parse_json(r.str(2), "review queue rules"));
      q.kind = r.str(3);
      q.info = parse_json(r.str(4), "review queue info");
      q.created_ms = r.i64(5);
      q.items = r.i64(6);
      q.reviewed = r.i64(7);
      out.push_back(std::move(q));
    }
    return out;
  });
}

ReviewQueue SqlStore::get_review_queue(const std::string& name) {
  for (ReviewQueue& q : list_review_queues())
    if (q.name == name) return q;
  fail(ErrorCode::kNotFound, "no review queue '{}' in store '{}'", name, url_);
}

void SqlStore::delete_review_queue(const std::string& name) {
  write("delete_review_queue", [&] {
    require_review_queue(name);
    db_->exec("DELETE FROM review_edits WHERE queue = ?", {name});
    db_->exec("DELETE FROM review_items WHERE queue = ?", {name});
    db_->exec("DELETE FROM review_queues WHERE name = ?", {name});
  });
}

std::vector<ReviewItem> SqlStore::load_review_items(const std::string& queue,
                                                    const std::string& key) {
  std::string sql = fmt::format(
      "SELECT {} FROM review_items i LEFT JOIN review_edits e ON e.id = i.last_edit WHERE "
      "i.queue = ?{} ORDER BY i.rank, i.item_key",
      kItemColumns, key.empty() ? "" : " AND i.item_key = ?");
  std::vector<Value> params{queue};
  if (!key.empty()) params.emplace_back(key);
  std::vector<ReviewItem> out;
  for (const Row& r : db_->query(sql, params)) {
    ReviewItem it;
    it.queue = r.str(0);
    it.key = r.str(1);
    it.rank = r.i64(2);
    it.reasons = parse_json(r.str(3), "review item reasons");
    it.original = parse_json(r.str(4), "review item original label");
    it.label = parse_json(r.str(5), "review item label");
    it.predictions = parse_json(r.str(6), "review item predictions");
    it.data = parse_json(r.str(7), "review item data");
    it.status = r.str(8);
    it.last_edit = r.i64(9);
    it.last_reviewer = r.str(10);
    it.last_edit_ms = r.i64(11);
    out.push_back(std::move(it));
  }
  return out;
}

std::vector<ReviewItem> SqlStore::list_review_items(const std::string& queue) {
  return read("list_review_items", [&] {
    require_review_queue(queue);
    return load_review_items(queue, "");
  });
}

ReviewItem SqlStore::get_review_item(const std::string& queue, const std::string& key) {
  return read("get_review_item", [&] {
    require_review_queue(queue);
    auto items = load_review_items(queue, key);
    if (items.empty())
      fail(ErrorCode::kNotFound, "review queue '{}' has no item {}", queue, quote(key));
    return items.front();
  });
}

std::vector<ReviewEdit> SqlStore::load_review_edits(const std::string& queue,
                                                    const std::string& key, std::int64_t after) {
  std::string sql = fmt::format("SELECT {} FROM review_edits WHERE queue = ? AND id > ?{} ORDER BY id",
                                kEditColumns, key.empty() ? "" : " AND item_key = ?");
  std::vector<Value> params{queue, after};
  if (!key.empty()) params.emplace_back(key);
  std::vector<ReviewEdit> out;
  for (const Row& r : db_->query(sql, params)) out.push_back(edit_from_row(r));
  return out;
}

std::vector<ReviewEdit> SqlStore::review_history(const std::string& queue, const std::string& key) {
  return read("review_history", [&] {
    require_review_queue(queue);
    return load_review_edits(queue, key, 0);
  });
}

ReviewEditResult SqlStore::edit_review_item(const ReviewEdit& in) {
  if (!known_action(in.action)) {
    fail(ErrorCode::kInvalidArgument,
         "review edit of {}: unknown action {} (expected accept, relabel, skip, boxes or undo)",
         quote(in.key), quote(in.action));
  }
  return write("edit_review_item", [&] {
    std::int64_t id =
        db_->query(
               "UPDATE counters SET value = value + 1 WHERE name = 'review_edits' RETURNING value",
               {})
            .at(0)
            .i64(0);
    require_review_queue(in.queue);
    auto items = load_review_items(in.queue, in.key);
    if (items.empty())
      fail(ErrorCode::kNotFound, "review queue '{}' has no item {}", in.queue, quote(in.key));
    const ReviewItem& item = items.front();
    ReviewEditResult res;
    ReviewEdit& e = res.edit;
    e = in;
    e.id = id;
    e.time_ms = now_unix_ms();
    e.old_value = item.label;
    e.undoes = 0;
    if (in.action == "skip") e.new_value = item.label;
    std::vector<ReviewEdit> edits = load_review_edits(in.queue, in.key, 0);
    if (in.action == "undo") {
      const ReviewEdit* target = undo_target(edits);
      if (!target)
        fail(ErrorCode::kInvalidArgument, "review item {}: nothing to undo", quote(in.key));
      e.new_value = target->old_value;
      e.undoes = target->id;
    }
    for (const ReviewEdit& old : edits)
      if (old.id > in.based_on && old.reviewer != in.reviewer) res.overridden.push_back(old);
    db_->exec(fmt::format("INSERT INTO review_edits ({}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                          kEditColumns),
              {e.id, e.queue, e.key, e.action, e.old_value.dump(), e.new_value.dump(), e.reviewer,
               e.time_ms, e.based_on, e.undoes});
    db_->exec(
        "UPDATE review_items SET label = ?, status = ?, last_edit = ? WHERE queue = ? AND "
        "item_key = ?",
        {e.new_value.dump(), e.action, e.id, e.queue, e.key});
    return res;
  });
}

}  // namespace compe::store
