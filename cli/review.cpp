// review: queues of rows or images to look at (docs/REVIEW.md). Building, importing and
// exporting live in src/review; this file parses options and renders.
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "commands.hpp"
#include "compe/error.hpp"
#include "compe/json_input.hpp"
#include "compe/review_queue.hpp"
#include "compe/store.hpp"
#include "compe/util.hpp"
#include "output.hpp"
#include "workspace_option.hpp"

namespace compe::cli {
namespace {

using json = nlohmann::json;

struct ReviewArgs {
  std::string workspace, store, name, file, coco, key, action, label, reviewer;
  std::vector<std::string> runs, rules;
  std::size_t top = 50;
  bool json = false;
};

CLI::App* review_command(CLI::App* group, const char* name, const char* help, ReviewArgs& a) {
  auto* cmd = group->add_subcommand(name, help);
  add_workspace_option(cmd, a.workspace);
  add_store_option(cmd, a.store);
  return cmd;
}

using review::edit_json;
using review::item_json;
using review::queue_json;

std::string short_text(const json& v) {
  std::string s = v.is_string() ? v.get<std::string>() : v.dump();
  return s.size() > 40 ? s.substr(0, 37) + "..." : s;
}

std::string first_reason(const ReviewItem& it) {
  if (it.reasons.empty()) return "";
  const json& r = it.reasons.front();
  return r.value("rule", std::string()) + (r.contains("text") ? ": " + r["text"].get<std::string>() : "");
}

void print_queue(Store& store, const std::string& name, bool as_json) {
  ReviewQueue q = store.get_review_queue(name);
  std::vector<ReviewItem> items = store.list_review_items(name);
  if (as_json) {
    json doc = queue_json(q);
    doc["items"] = json::array();
    for (const auto& it : items) doc["items"].push_back(item_json(it));
    print_json(doc);
    return;
  }
  fmt::print("queue {} ({}): {} items, {} reviewed; runs {}; rules {}\n", q.name, q.kind, q.items, q.reviewed,
             q.source_runs.empty() ? "-" : join(q.source_runs), join(q.rules));
  std::vector<std::vector<std::string>> rows;
  for (const auto& it : items)
    rows.push_back({std::to_string(it.rank + 1), it.key, short_text(it.original), short_text(it.label), it.status,
                    it.last_reviewer, first_reason(it)});
  print_table({"#", "id", "queued as", "label", "status", "by", "why"}, rows);
}

void add_build(CLI::App* group) {
  auto a = std::make_shared<ReviewArgs>();
  auto* cmd = review_command(group, "build", "Queue the rows whose labels the runs' OOF probabilities doubt", *a);
  cmd->add_option("NAME", a->name, "Queue name")->required();
  cmd->add_option("--from", a->runs, "Run id or unique prefix (repeat for more runs)")->required();
  cmd->add_option("--rule", a->rules,
                  "confident_learning, highest_loss, low_confidence or disagreement (repeatable; "
                  "default: confident_learning and highest_loss)");
  cmd->add_option("--top", a->top, "At most this many items per rule (default 50)");
  cmd->add_flag("--json", a->json, "Print the queue as JSON");
  cmd->callback([a] {
    Workspace ws = open_workspace(a->workspace);
    auto store = open_run_store(a->workspace, a->store);
    ReviewQueue q = review::build_queue(*store, ws, {a->name, a->runs, a->rules, a->top});
    if (a->json) return print_queue(*store, q.name, true);
    fmt::print("queue {}: {} items from {} run(s) by {}\n", q.name, q.items, q.source_runs.size(), join(q.rules));
  });
}

void add_list_show(CLI::App* group) {
  auto a = std::make_shared<ReviewArgs>();
  auto* list = review_command(group, "list", "List the review queues", *a);
  list->add_flag("--json", a->json, "Print JSON");
  list->callback([a] {
    auto store = open_run_store(a->workspace, a->store);
    auto queues = store->list_review_queues();
    if (a->json) {
      json doc = json::array();
      for (const auto& q : queues) doc.push_back(queue_json(q));
      return print_json(doc);
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& q : queues)
      rows.push_back({q.name, q.kind, std::to_string(q.items), std::to_string(q.reviewed), join(q.source_runs),
                      join(q.rules)});
    print_table({"queue", "kind", "items", "reviewed", "runs", "rules"}, rows);
  });
  auto b = std::make_shared<ReviewArgs>();
  auto* show = review_command(group, "show", "Show a queue's items with their labels and reasons", *b);
  show->add_option("NAME", b->name, "Queue name")->required();
  show->add_flag("--json", b->json, "Print JSON");
  show->callback([b] { print_queue(*open_run_store(b->workspace, b->store), b->name, b->json); });
}

void add_export_import(CLI::App* group) {
  auto a = std::make_shared<ReviewArgs>();
  auto* exp = review_command(group, "export", "Write the corrected labels (id,<target>) or boxes", *a);
  exp->add_option("NAME", a->name, "Queue name")->required();
  exp->add_option("-o,--output", a->file, "Labels CSV (for [data] labels) or boxes CSV")->required();
  exp->add_option("--coco", a->coco, "Also write the boxes as COCO JSON (box queues)");
  exp->add_flag("--json", a->json, "Print JSON");
  exp->callback([a] {
    auto store = open_run_store(a->workspace, a->store);
    auto r = review::export_queue(*store, a->name, a->file, a->coco);
    if (a->json)
      return print_json({{"queue", a->name}, {"rows", r.rows}, {"images", r.images}, {"last_edit", r.last_edit},
                         {"output", a->file}});
    fmt::print("{}: {} rows from queue {}{}\n", a->file, r.rows, a->name,
               a->coco.empty() ? "" : fmt::format(", {}: {} images", a->coco, r.images));
  });
  auto b = std::make_shared<ReviewArgs>();
  auto* imp = review_command(group, "import", "A queue from a JSON Lines file (rows or images with boxes)", *b);
  imp->add_option("NAME", b->name, "Queue name")->required();
  imp->add_option("ITEMS", b->file, "JSON Lines: {\"id\", \"label\", \"reasons\", \"predictions\", \"data\"}")
      ->required();
  imp->add_flag("--json", b->json, "Print the queue as JSON");
  imp->callback([b] {
    auto store = open_run_store(b->workspace, b->store);
    ReviewQueue q = review::import_queue(*store, b->name, b->file);
    if (b->json) return print_json(queue_json(q));
    fmt::print("queue {} ({}): {} items from {}\n", q.name, q.kind, q.items, b->file);
  });
}

void add_edit_history(CLI::App* group) {
  auto a = std::make_shared<ReviewArgs>();
  auto* edit = review_command(group, "edit", "Edit one item (what the review page saves)", *a);
  edit->add_option("NAME", a->name, "Queue name")->required();
  edit->add_option("ID", a->key, "Item id")->required();
  edit->add_option("--action", a->action, "accept, relabel, skip, boxes or undo")->required();
  edit->add_option("--label", a->label, "The new label (relabel, accept), or the boxes as JSON (boxes)");
  edit->add_option("--reviewer", a->reviewer, "Who edits (default: $USER)");
  edit->add_flag("--json", a->json, "Print JSON");
  edit->callback([a] {
    auto store = open_run_store(a->workspace, a->store);
    ReviewEdit e;
    e.queue = a->name;
    e.key = a->key;
    e.action = a->action;
    e.reviewer = a->reviewer.empty() ? (std::getenv("USER") ? std::getenv("USER") : "") : a->reviewer;
    if (a->action == "boxes") {
      e.new_value = review::check_boxes(parse_json(a->label, "--label"), "--label");
    } else if (a->action == "accept" || a->action == "relabel") {
      if (a->label.empty()) fail(ErrorCode::kInvalidArgument, "review edit: --action {} needs --label", a->action);
      e.new_value = a->label;
    }
    e.based_on = store->get_review_item(e.queue, e.key).last_edit;
    auto r = store->edit_review_item(e);
    if (a->json) return print_json(edit_json(r.edit));
    fmt::print("{} {}: {} -> {} ({})\n", a->name, a->key, short_text(r.edit.old_value), short_text(r.edit.new_value),
               r.edit.action);
  });
  auto b = std::make_shared<ReviewArgs>();
  auto* hist = review_command(group, "history", "Every edit of a queue or of one item", *b);
  hist->add_option("NAME", b->name, "Queue name")->required();
  hist->add_option("ID", b->key, "Item id (default: every item)");
  hist->add_flag("--json", b->json, "Print JSON");
  hist->callback([b] {
    auto store = open_run_store(b->workspace, b->store);
    auto edits = store->review_history(b->name, b->key);
    if (b->json) {
      json doc = json::array();
      for (const auto& e : edits) doc.push_back(edit_json(e));
      return print_json(doc);
    }
    std::vector<std::vector<std::string>> rows;
    for (const auto& e : edits)
      rows.push_back({std::to_string(e.id), e.key, e.action, short_text(e.old_value), short_text(e.new_value),
                      e.reviewer, iso8601_utc(e.time_ms)});
    print_table({"edit", "id", "action", "old", "new", "by", "time"}, rows);
  });
}

}  // namespace

void add_review_commands(CLI::App& app) {
  auto* group = app.add_subcommand("review", "Review queues: rows or images whose labels models doubt");
  group->require_subcommand(1);
  add_build(group);
  add_list_show(group);
  add_export_import(group);
  add_edit_history(group);
}

}  // namespace compe::cli
