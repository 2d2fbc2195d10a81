// Review queues in the store: built from runs' OOF probabilities, imported from JSON Lines, and
// exported as corrected labels (include/compe/review_queue.hpp).
#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

#include "compe/artifacts.hpp"
#include "compe/error.hpp"
#include "compe/json_input.hpp"
#include "compe/oof.hpp"
#include "compe/review.hpp"
#include "compe/review_queue.hpp"
#include "compe/table.hpp"
#include "compe/util.hpp"

namespace compe::review {
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

constexpr std::string_view kOofFiles[] = {"oof.csv"};
constexpr std::string_view kTestFiles[] = {"test.csv"};

// Probabilities n x k of a member's OOF or test predictions (binary: 1 - p, p).
std::vector<double> class_probabilities(const std::vector<double>& pred, std::size_t cols) {
  if (cols != 1) return pred;
  std::vector<double> out;
  out.reserve(pred.size() * 2);
  for (double p : pred) {
    out.push_back(1.0 - p);
    out.push_back(p);
  }
  return out;
}

std::vector<double> mean_of(const std::vector<std::vector<double>>& sets) {
  std::vector<double> out(sets.front().size(), 0.0);
  for (const auto& s : sets)
    for (std::size_t i = 0; i < s.size(); ++i) out[i] += s[i] / static_cast<double>(sets.size());
  return out;
}

double round6(double v) {
  return std::round(v * 1e6) / 1e6;
}

struct Source {
  run::Reference ref;
  std::vector<std::string> run_ids;
  std::vector<std::vector<double>> oof, test;  ///< per run, n x k class probabilities
  std::vector<std::string> classes;
  std::size_t k = 0;
};

Source load_source(Store& store, const Workspace& ws, const BuildOptions& o, bool need_test) {
  Source s;
  s.ref = run::reference_from_workspace(ws);
  if (s.ref.task != metric::kBinary && s.ref.task != metric::kMulticlass)
    fail(ErrorCode::kInvalidArgument,
         "review build: the competition is {}; queues from OOF probabilities need binary or "
         "multiclass classification (import other queues with `compe review import`)",
         metric::task_name(s.ref.task));
  s.classes = s.ref.classes;
  s.k = std::max<std::size_t>(2, s.ref.cols());
  if (s.classes.size() != s.k) {
    s.classes.clear();
    for (std::size_t c = 0; c < s.k; ++c) s.classes.push_back(std::to_string(c));
  }
  for (const std::string& given : o.runs) {
    std::string id = store.resolve_run_id(given);
    run::ensure_local(store, ws, id, kOofFiles);
    if (need_test) run::ensure_local(store, ws, id, kTestFiles);
    run::Member m = run::load_member(s.ref, id, ws.runs_dir() / id);
    s.run_ids.push_back(id);
    s.oof.push_back(class_probabilities(m.oof, s.ref.cols()));
    s.test.push_back(class_probabilities(m.test, s.ref.cols()));
  }
  return s;
}

struct Queued {
  std::string key;
  bool test = false;
  std::size_t row = 0;
  int given = -1;
  json reasons = json::array();
};

// Items of every rule, one per row, in the order the rules rank them.
std::vector<Queued> apply_rules(const Source& s, const BuildOptions& o) {
  std::vector<int> labels(s.ref.rows());
  for (std::size_t r = 0; r < labels.size(); ++r) labels[r] = static_cast<int>(s.ref.y_true[r]);
  std::vector<double> oof = mean_of(s.oof), test = mean_of(s.test);
  Probabilities p{oof.data(), s.ref.rows(), s.k};
  std::vector<Queued> out;
  std::map<std::pair<bool, std::size_t>, std::size_t> at;
  auto add = [&](const std::vector<Item>& items, bool is_test) {
    for (const Item& it : items) {
      auto [pos, fresh] = at.emplace(std::pair{is_test, it.row}, out.size());
      if (fresh) {
        const Column& ids = is_test ? s.ref.test_ids : s.ref.train_ids;
        // The given label from the reference (disagreement items carry none of their own).
        out.push_back({ids.to_string(it.row), is_test, it.row, is_test ? -1 : labels[it.row], json::array()});
      }
      json reason = {{"rule", it.rule}, {"score", round6(it.score)}, {"text", it.reason}};
      if (it.suggested >= 0) reason["suggested"] = s.classes[static_cast<std::size_t>(it.suggested)];
      out[pos->second].reasons.push_back(reason);
    }
  };
  for (const std::string& rule : o.rules) {
    if (rule == "confident_learning") {
      auto issues = confident_learning(p, labels, s.classes).issues;
      if (issues.size() > o.top) issues.resize(o.top);
      add(issues, false);
    } else if (rule == "highest_loss") {
      add(highest_loss(p, labels, s.classes, o.top), false);
    } else if (rule == "low_confidence") {
      add(low_confidence({test.data(), s.ref.test_ids.size(), s.k}, s.classes, o.top), true);
    } else {
      Probabilities a{s.oof[0].data(), s.ref.rows(), s.k}, b{s.oof[1].data(), s.ref.rows(), s.k};
      add(disagreement(a, b, s.classes, o.top), false);
    }
  }
  return out;
}

// Every column of the train (or test) row but the id and the target, as JSON.
json row_data(const Table& t, std::size_t row, const CompetitionConfig& cfg) {
  json out = json::object();
  for (const Column& c : t.columns()) {
    if (c.name == cfg.id_column ||
        std::find(cfg.target_columns.begin(), cfg.target_columns.end(), c.name) !=
            cfg.target_columns.end())
      continue;
    if (c.is_missing(row)) {
      out[c.name] = nullptr;
    } else if (c.type == DType::kString) {
      out[c.name] = std::string(c.str(row));
    } else {
      out[c.name] = c.as_double(row);
    }
  }
  return out;
}

std::unordered_map<std::string, std::size_t> rows_by_id(const Table& t, const std::string& id) {
  std::unordered_map<std::string, std::size_t> out;
  const Column& c = t.column(id);
  for (std::size_t r = 0; r < c.size(); ++r) out.emplace(c.to_string(r), r);
  return out;
}

void check_rules(const BuildOptions& o) {
  if (o.runs.empty()) fail(ErrorCode::kInvalidArgument, "review build: give at least one run (--from RUN)");
  for (const std::string& r : o.rules)
    if (std::none_of(std::begin(kQueueRules), std::end(kQueueRules), [&](const char* k) { return r == k; }))
      fail(ErrorCode::kInvalidArgument,
           "review build: unknown rule {} (expected confident_learning, highest_loss, "
           "low_confidence or disagreement)",
           quote(r));
  if (std::count(o.rules.begin(), o.rules.end(), "disagreement") && o.runs.size() < 2)
    fail(ErrorCode::kInvalidArgument, "review build: the disagreement rule compares two runs; give --from twice");
  if (o.top == 0) fail(ErrorCode::kInvalidArgument, "review build: --top must be at least 1");
}

}  // namespace

ReviewQueue build_queue(Store& store, const Workspace& ws, const BuildOptions& given) {
  BuildOptions o = given;
  if (o.rules.empty()) o.rules = {"confident_learning", "highest_loss"};
  check_rules(o);
  const bool need_test = std::count(o.rules.begin(), o.rules.end(), "low_confidence") > 0;
  Source s = load_source(store, ws, o, need_test);
  std::vector<Queued> queued = apply_rules(s, o);

  const CompetitionConfig& cfg = ws.config();
  Table train = ws.read_train();
  Table test = need_test ? ws.read_test() : Table();
  auto train_rows = rows_by_id(train, cfg.id_column);
  auto test_rows = need_test ? rows_by_id(test, cfg.id_column) : decltype(train_rows){};
  std::vector<ReviewItem> items;
  for (std::size_t i = 0; i < queued.size(); ++i) {
    const Queued& q = queued[i];
    ReviewItem it;
    it.key = q.key;
    it.rank = static_cast<std::int64_t>(i);
    it.reasons = q.reasons;
    it.original = q.test ? json(nullptr) : json(s.classes[static_cast<std::size_t>(q.given)]);
    for (std::size_t r = 0; r < s.run_ids.size(); ++r) {
      const auto& probs = q.test ? s.test[r] : s.oof[r];
      json p = json::object();
      for (std::size_t c = 0; c < s.k; ++c) p[s.classes[c]] = round6(probs[q.row * s.k + c]);
      it.predictions[s.run_ids[r]] = p;
    }
    it.data = q.test ? row_data(test, test_rows.at(q.key), cfg) : row_data(train, train_rows.at(q.key), cfg);
    if (q.test) it.data["set"] = "test";
    items.push_back(std::move(it));
  }
  ReviewQueue queue;
  queue.name = o.name;
  queue.source_runs = s.run_ids;
  queue.rules = o.rules;
  queue.info = {{"id_column", cfg.id_column},
                {"target", cfg.target_columns.front()},
                {"classes", s.classes},
                {"task", metric::task_name(s.ref.task)},
                {"top", o.top}};
  return store.create_review_queue(queue, items);
}

json edit_json(const ReviewEdit& e) {
  json out = {{"id", e.id},         {"key", e.key},       {"action", e.action},
              {"old", e.old_value}, {"new", e.new_value}, {"reviewer", e.reviewer},
              {"time", iso8601_utc(e.time_ms)}};
  if (e.undoes) out["undoes"] = e.undoes;
  return out;
}

json item_json(const ReviewItem& it) {
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

json queue_json(const ReviewQueue& q) {
  return {{"name", q.name},   {"kind", q.kind},         {"runs", q.source_runs},
          {"rules", q.rules}, {"info", q.info},         {"items", q.items},
          {"reviewed", q.reviewed}, {"created", iso8601_utc(q.created_ms)}};
}

}  // namespace compe::review
