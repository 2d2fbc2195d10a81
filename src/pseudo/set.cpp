// Pseudo sets on disk, the [pseudo] table, and the checks a run makes before using a set.
#include <algorithm>
#include <cmath>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include <fmt/format.h>

#include "compe/error.hpp"
#include "compe/json_input.hpp"
#include "compe/pseudo.hpp"
#include "compe/sha256.hpp"
#include "compe/table.hpp"
#include "compe/util.hpp"

namespace compe::pseudo {
namespace fs = std::filesystem;

std::string strategy_name(Strategy s) { return s == Strategy::kConcat ? "concat" : "pretrain_finetune"; }

Strategy parse_strategy(std::string_view name) {
  if (name == "concat") return Strategy::kConcat;
  if (name == "pretrain_finetune") return Strategy::kPretrainFinetune;
  fail(ErrorCode::kInvalidArgument, "pseudo strategy {}: expected concat or pretrain_finetune", quote(name));
}

std::string write_set(const fs::path& csv, const std::vector<SetRow>& rows) {
  std::vector<std::int64_t> fold, source;
  std::vector<std::optional<std::string>> id, label;
  std::vector<double> weight;
  for (const auto& r : rows) {
    fold.push_back(r.fold);
    source.push_back(r.source_fold);
    id.emplace_back(r.id);
    label.emplace_back(r.label);
    weight.push_back(r.weight);
  }
  Table t;
  t.add_column(Column::from_i64("fold", fold));
  t.add_column(Column::from_i64("source_fold", source));
  t.add_column(Column::from_strings("id", id));
  t.add_column(Column::from_strings("label", label));
  t.add_column(Column::from_f64("weight", weight));
  const std::string text = to_csv_string(t);
  if (csv.has_parent_path()) fs::create_directories(csv.parent_path());
  write_file_atomic(csv, text);
  return sha256_hex(text);
}

std::string file_sha256(const fs::path& path) {
  if (!fs::exists(path)) fail(ErrorCode::kNotFound, "{}: no such file", path.string());
  return sha256_hex(read_file(path.string()));
}

std::vector<SetRow> read_set(const fs::path& csv) {
  if (!fs::exists(csv)) fail(ErrorCode::kNotFound, "pseudo set {}: no such file (make it with compe pseudo)", csv.string());
  CsvReadOptions o;
  o.dtypes = {{"id", DType::kString}, {"label", DType::kString}, {"fold", DType::kInt64},
              {"source_fold", DType::kInt64}, {"weight", DType::kFloat64}};
  o.na_values = {};
  Table t = read_csv(csv, o);
  const Column& fold = t.column("fold");
  const Column& source = t.column("source_fold");
  const Column& id = t.column("id");
  const Column& label = t.column("label");
  const Column& weight = t.column("weight");
  std::vector<SetRow> out(t.num_rows());
  for (std::size_t r = 0; r < t.num_rows(); ++r) {
    auto bad = [&](const char* col, const std::string& v, const char* expected) {
      fail(ErrorCode::kInvalidArgument, "{}:{}: {} = {}: expected {}", csv.string(), r + 2, col, quote(v), expected);
    };
    if (fold.is_missing(r) || fold.i64[r] < 0) bad("fold", fold.to_string(r), "a fold number >= 0");
    if (source.is_missing(r) || source.i64[r] < -1)
      bad("source_fold", source.to_string(r), "the fold whose model labelled the row, or -1 (fold average)");
    const double w = weight.as_double(r);
    if (!(w > 0) || !std::isfinite(w)) bad("weight", weight.to_string(r), "a finite weight > 0");
    if (id.str(r).empty()) bad("id", "", "a test id");
    out[r] = {static_cast<int>(fold.i64[r]), static_cast<int>(source.i64[r]), std::string(id.str(r)),
              std::string(label.str(r)), w};
  }
  return out;
}

nlohmann::json rule_json(const Rule& r) {
  nlohmann::json j = nlohmann::json::object();
  if (r.threshold) j["threshold"] = *r.threshold;
  if (!r.class_threshold.empty()) {
    nlohmann::json c = nlohmann::json::object();
    for (const auto& [k, v] : r.class_threshold) c[std::to_string(k)] = v;
    j["class_threshold"] = c;
  }
  if (r.top_k) j["top_k"] = *r.top_k;
  if (r.top_share) j["top_share"] = *r.top_share;
  j["max_share"] = r.max_share;
  j["soft"] = r.soft;
  if (r.max_spread) j["max_spread"] = *r.max_spread;
  j["source"] = r.source == Source::kPerFold ? "per_fold" : "fold_average";
  return j;
}

nlohmann::json Config::to_json() const {
  return {{"source_run", source_run}, {"set", set},         {"sha256", sha256},
          {"folds_hash", folds_hash}, {"strategy", strategy_name(strategy)},
          {"weight", weight},         {"pretrain_rounds", pretrain_rounds},
          {"rounds", rounds},         {"round", round},     {"leaky", leaky},
          {"rule", rule}};
}

Config Config::from_json(const nlohmann::json& j, std::string_view display) {
  const JsonAt root(j, std::string(display));
  root.object();
  static const std::set<std::string> known = {"source_run", "set",    "sha256", "folds_hash", "strategy", "weight",
                                              "pretrain_rounds", "rounds", "round", "leaky", "rule",
                                              // lineage the run adds to its recorded config
                                              "rows_added", "selection_reads_other_folds"};
  for (const auto& [k, v] : j.items())
    if (!known.count(k))
      fail(ErrorCode::kInvalidArgument, "{}: unknown key {} in [pseudo]; expected one of {}", display, quote(k),
           join(std::vector<std::string>(known.begin(), known.end())));
  Config c;
  c.source_run = root.opt_string("source_run").value_or("");
  c.set = root.at("set", "the pseudo set's path (pseudo/<name>.csv)").string();
  c.sha256 = root.at("sha256", "the pseudo set's sha256").string();
  c.folds_hash = root.at("folds_hash", "the folds hash of the run that made the set").string();
  c.strategy = parse_strategy(root.opt_string("strategy").value_or("concat"));
  auto count = [&](const char* key, std::size_t dflt, std::int64_t lo) {
    auto v = root.find(key);
    if (!v) return dflt;
    const std::int64_t n = v->integer();
    if (n < lo) v->expected(fmt::format("an integer >= {}", lo));
    return static_cast<std::size_t>(n);
  };
  if (auto v = root.find("weight")) {
    c.weight = v->number();
    if (!(c.weight > 0) || !std::isfinite(c.weight)) v->expected("a finite weight > 0");
  }
  c.pretrain_rounds = count("pretrain_rounds", 100, 1);
  c.rounds = count("rounds", 1, 1);
  c.round = count("round", 1, 1);
  if (auto v = root.find("leaky")) c.leaky = v->boolean();
  if (auto v = root.find("rule")) c.rule = v->object().value();
  return c;
}

std::vector<std::string> lineage_lines(const nlohmann::json& j) {
  if (!j.is_object()) return {};
  auto text = [&](const char* k) { return j.contains(k) && j[k].is_string() ? j[k].get<std::string>() : std::string("?"); };
  std::vector<std::string> out;
  out.push_back(fmt::format("from run {}, {} (weight {}){}", text("source_run"), text("strategy"),
                            j.contains("weight") ? j["weight"].dump() : "1",
                            j.value("rounds", 1) > 1 ? fmt::format(", round {} of {}", j.value("round", 1), j.value("rounds", 1))
                                                     : std::string()));
  if (j.contains("rule")) out.push_back("rule " + j["rule"].dump());
  if (j.contains("rows_added") && j["rows_added"].is_object()) {
    std::vector<std::string> parts;
    for (const auto& [f, n] : j["rows_added"].items()) parts.push_back(fmt::format("fold {}: {}", f, n.dump()));
    out.push_back("rows added " + join(parts));
  }
  out.push_back(fmt::format("set {} sha256 {}", text("set"), text("sha256").substr(0, 16)));
  if (j.value("leaky", false))
    out.push_back("LEAKY: labels from fold-averaged test predictions (models that saw each fold's validation rows): "
                  "the CV is inflated");
  return out;
}

std::vector<FoldRows> load_for_run(const Config& c, const fs::path& root, const std::string& folds_hash,
                                   int num_folds, const std::vector<std::string>& test_ids,
                                   const std::vector<std::string>& sample_ids) {
  if (c.folds_hash != folds_hash)
    fail(ErrorCode::kInvalidArgument,
         "pseudo set {} was made on other folds: its folds hash is {}, this run's folds.csv has {}; make the set "
         "again from a run on these folds (compe pseudo)",
         c.set, c.folds_hash, folds_hash);
  const fs::path path = fs::path(c.set).is_absolute() ? fs::path(c.set) : root / c.set;
  const std::string sha = file_sha256(path);
  if (sha != c.sha256)
    fail(ErrorCode::kInvalidArgument, "pseudo set {}: its sha256 is {}, the experiment records {}: the file changed "
         "after compe pseudo wrote it", c.set, sha, c.sha256);
  const std::vector<SetRow> rows = read_set(path);
  std::unordered_map<std::string, std::size_t> test_pos;
  for (std::size_t i = 0; i < test_ids.size(); ++i) test_pos.emplace(test_ids[i], i);
  std::unordered_set<std::string> sample(sample_ids.begin(), sample_ids.end());
  std::vector<std::string> unknown;
  std::vector<FoldRows> out(static_cast<std::size_t>(std::max(num_folds, 0)));
  for (auto& f : out) f.source_fold = -2;
  for (std::size_t i = 0; i < rows.size(); ++i) {
    const SetRow& r = rows[i];
    if (r.fold >= num_folds)
      fail(ErrorCode::kInvalidArgument, "{}:{}: fold {}: this run's folds.csv has folds 0..{}", c.set, i + 2, r.fold,
           num_folds - 1);
    if (r.source_fold != r.fold && !(c.leaky && r.source_fold == -1))
      fail(ErrorCode::kInvalidArgument,
           "{}:{}: fold {}'s pseudo row {} was labelled by {}: a model that saw fold {}'s validation rows; fold k's "
           "pseudo labels must come from fold k's own model (compe pseudo without --leaky-fold-average)",
           c.set, i + 2, r.fold, quote(r.id),
           r.source_fold == -1 ? std::string("the fold-averaged test predictions")
                               : fmt::format("fold {}'s model", r.source_fold),
           r.fold);
    auto it = test_pos.find(r.id);
    if (it == test_pos.end() || !sample.count(r.id)) {
      if (unknown.size() < 5) unknown.push_back(r.id);
      continue;
    }
    FoldRows& f = out[static_cast<std::size_t>(r.fold)];
    f.test_rows.push_back(it->second);
    f.labels.push_back(r.label);
    f.weights.push_back(r.weight * c.weight);
    f.source_fold = r.source_fold;
  }
  if (!unknown.empty())
    fail(ErrorCode::kInvalidArgument, "pseudo set {}: ids {} are not test ids of the sample submission", c.set,
         list_shown(unknown, 5));
  return out;
}

}  // namespace compe::pseudo
