// compe.toml's [data] labels: corrected train labels (`id,<target>`, what `compe review export`
// writes) replace the train file's labels for the run. The plan applies them after the folds are
// read or made, so every row keeps its fold; the data hash covers the file (artifacts.cpp).
#include <filesystem>
#include <limits>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

#include "compe/error.hpp"
#include "compe/json_input.hpp"
#include "compe/sha256.hpp"
#include "compe/table.hpp"
#include "compe/util.hpp"
#include "run/stages.hpp"

namespace compe::run {
namespace fs = std::filesystem;

namespace {

// The target column rebuilt with the new texts, in the train column's type.
Column rebuild_column(const Column& old, const std::vector<std::optional<std::string>>& text) {
  if (old.type == DType::kString) return Column::from_strings(old.name, text);
  std::vector<double> values(text.size());
  for (std::size_t r = 0; r < text.size(); ++r)
    values[r] = text[r] ? std::stod(*text[r]) : std::numeric_limits<double>::quiet_NaN();
  if (old.type == DType::kFloat64) return Column::from_f64(old.name, std::move(values));
  std::vector<std::int64_t> ints(text.size());
  for (std::size_t r = 0; r < text.size(); ++r) ints[r] = text[r] ? std::stoll(*text[r]) : 0;
  Column c = Column::from_i64(old.name, std::move(ints));
  if (old.count_missing()) {
    c.missing.assign(text.size(), 0);
    for (std::size_t r = 0; r < text.size(); ++r) c.missing[r] = text[r] ? 0 : 1;
  }
  return c;
}

// Whether `label` may replace a label of a `type` column (an int64 column takes integers only).
bool fits_type(const std::string& label, DType type) {
  if (type == DType::kString) return true;
  if (!is_number_text(label)) return false;
  return type == DType::kFloat64 || label.find_first_of(".eEni") == std::string::npos;
}

}  // namespace

nlohmann::json apply_label_override(const Workspace& ws, Table& train) {
  const CompetitionConfig& cfg = ws.config();
  if (!cfg.labels) return nullptr;
  if (cfg.target_columns.size() != 1)
    fail(ErrorCode::kInvalidArgument, "[data] labels: overrides one target column; this competition has {}",
         cfg.target_columns.size());
  const std::string& target = cfg.target_columns[0];
  const std::string shown = cfg.labels->string();
  const fs::path path = ws.resolve(*cfg.labels);
  if (!fs::exists(path))
    fail(ErrorCode::kNotFound, "[data] labels: no file '{}' (write one with `compe review export`)", shown);
  CsvReadOptions opt;
  opt.display_name = shown;
  opt.dtypes = {{cfg.id_column, DType::kString}, {target, DType::kString}};
  opt.na_values = {};
  Table labels = read_csv(path, opt);
  const Column& ids = labels.column(cfg.id_column);
  const Column& values = labels.column(target);

  const Column& old = train.column(target);
  const Column& train_ids = train.column(cfg.id_column);
  std::unordered_map<std::string, std::size_t> row_of;
  for (std::size_t r = 0; r < train_ids.size(); ++r) row_of.emplace(train_ids.to_string(r), r);
  std::vector<std::optional<std::string>> text(old.size());
  std::set<std::string> classes;
  for (std::size_t r = 0; r < old.size(); ++r) {
    if (old.is_missing(r)) continue;
    text[r] = old.to_string(r);
    classes.insert(*text[r]);
  }
  const bool classification = cfg.task == metric::kBinary || cfg.task == metric::kMulticlass;
  std::unordered_map<std::string, std::size_t> seen;
  std::size_t changed = 0;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const std::size_t line = i + 2;
    std::string id(ids.str(i)), label(values.str(i));
    auto it = row_of.find(id);
    if (it == row_of.end())
      fail_at({.file = shown, .line = line}, ErrorCode::kInvalidArgument,
              "{}:{}: id {} is not a train id", shown, line, quote(id));
    if (auto [prev, fresh] = seen.emplace(id, line); !fresh)
      fail_at({.file = shown, .line = line}, ErrorCode::kInvalidArgument,
              "{}:{}: id {} is given twice (first at line {})", shown, line, quote(id), prev->second);
    if (classification && !classes.count(label))
      fail_at({.file = shown, .line = line}, ErrorCode::kInvalidArgument,
              "{}:{}: label {} of id {} is not one of the classes ({})", shown, line, quote(label),
              quote(id), join(std::vector<std::string>(classes.begin(), classes.end())));
    if (!fits_type(label, old.type))
      fail_at({.file = shown, .line = line}, ErrorCode::kInvalidArgument,
              "{}:{}: label {} of id {} is not {}", shown, line, quote(label), quote(id),
              old.type == DType::kInt64 ? "an integer" : "a number");
    if (text[it->second] != label) ++changed;
    text[it->second] = label;
  }
  std::size_t col = *train.find(target);
  train.column(col) = rebuild_column(old, text);

  nlohmann::json lineage = {{"file", shown},
                            {"sha256", sha256_hex(read_file(path.string()))},
                            {"rows", ids.size()},
                            {"changed", changed}};
  // `compe review export` writes which queue and edits the file holds beside it.
  fs::path sidecar = path;
  sidecar += ".review.json";
  if (fs::exists(sidecar)) lineage["review"] = parse_json(read_file(sidecar.string()), sidecar.string());
  return lineage;
}

}  // namespace compe::run
