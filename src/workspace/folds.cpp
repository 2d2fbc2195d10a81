#include "compe/folds.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <unordered_map>

#include "compe/error.hpp"
#include "compe/util.hpp"

namespace compe {

split::Inputs SplitData::inputs() const {
  split::Inputs in;
  in.rows = rows;
  in.y = y;
  in.y_cols = y_cols;
  in.y_is_class = y_is_class;
  in.groups = groups;
  in.time = time;
  return in;
}

SplitData make_split_data(const Table& train, const CompetitionConfig& c, const FoldsConfig& f) {
  SplitData d;
  d.rows = train.num_rows();
  std::string where = train.source.empty() ? "train" : train.source;
  bool classification = c.task == metric::kBinary || c.task == metric::kMulticlass;
  if (is_image_task(c.task)) {
    // One row per image and no target column: the splitters see a constant target (kfold,
    // group_kfold and the time series splits need none).
    d.y.assign(d.rows, 0.0);
    d.y_is_class = false;
  } else if (c.task == metric::kMultilabel) {
    d.y_cols = c.target_columns.size();
    d.y.assign(d.rows * d.y_cols, 0.0);
    for (std::size_t j = 0; j < d.y_cols; ++j) {
      const Column& col = train.column(c.target_columns[j]);
      for (std::size_t r = 0; r < d.rows; ++r) {
        double v = col.type == DType::kString ? NAN : col.as_double(r);
        if (!(v == 0.0 || v == 1.0))
          fail(ErrorCode::kInvalidArgument, "{}: line {}: multilabel target {} is {}, expected 0 or 1",
               where, r + 2, quote(col.name), quote(col.to_string(r)));
        d.y[r * d.y_cols + j] = v;
      }
    }
  } else {
    const Column& col = train.column(c.target_columns.at(0));
    d.y.resize(d.rows);
    for (std::size_t r = 0; r < d.rows; ++r)
      if (col.is_missing(r))
        fail(ErrorCode::kInvalidArgument, "{}: line {}: the target {} is empty", where, r + 2, quote(col.name));
    if (classification) {
      // Class index by sorted label (numbers numerically, text lexicographically).
      if (col.type == DType::kString) {
        // Numbers among which one carries spaces read as text: " 1" would be a third class.
        const bool numeric = std::all_of(col.dict.begin(), col.dict.end(), [](const std::string& v) {
          return is_number_text(v) || !space_hint(v).empty();
        });
        for (std::size_t r = 0; numeric && r < d.rows; ++r)
          if (!space_hint(col.str(r)).empty()) {
            const Column* ids = train.find(c.id_column) ? &train.column(c.id_column) : nullptr;
            fail(ErrorCode::kInvalidArgument, "{}: line {}: the target '{}'{} is '{}'{}", where, r + 2, col.name,
                 ids ? fmt::format(" of id '{}'", ids->to_string(r)) : "", col.str(r), space_hint(col.str(r)));
          }
        d.classes = col.dict;
        std::sort(d.classes.begin(), d.classes.end());
        std::unordered_map<std::string, double> code;
        for (std::size_t i = 0; i < d.classes.size(); ++i) code[d.classes[i]] = static_cast<double>(i);
        for (std::size_t r = 0; r < d.rows; ++r) d.y[r] = code.at(std::string(col.str(r)));
      } else {
        std::map<double, double> code;
        for (std::size_t r = 0; r < d.rows; ++r) code.emplace(col.as_double(r), 0.0);
        double i = 0;
        for (auto& [v, k] : code) {
          k = i++;
          d.classes.push_back(format_double(v));
        }
        for (std::size_t r = 0; r < d.rows; ++r) d.y[r] = code.at(col.as_double(r));
      }
    } else {
      d.y_is_class = false;
      if (col.type == DType::kString) {
        const Column* ids = train.find(c.id_column) ? &train.column(c.id_column) : nullptr;
        for (std::size_t r = 0; r < d.rows; ++r)
          if (!is_number_text(col.str(r)))
            fail(ErrorCode::kInvalidArgument, "{}: line {}: the target {}{} is {}, but the task is {}: expected a number{}",
                 where, r + 2, quote(col.name), ids ? fmt::format(" of id {}", quote(ids->to_string(r))) : "", quote(col.str(r)),
                 metric::task_name(c.task), space_hint(col.str(r)));
        require_numeric(col, where, ids);
      }
      for (std::size_t r = 0; r < d.rows; ++r) d.y[r] = col.as_double(r);
    }
  }
  if (!f.group_column.empty()) {
    const Column& g = train.column(f.group_column);
    d.groups.resize(d.rows);
    std::unordered_map<std::string, std::int64_t> code;
    for (std::size_t r = 0; r < d.rows; ++r) {
      if (g.is_missing(r))
        fail(ErrorCode::kInvalidArgument, "{}: line {}: the group column {} is empty", where, r + 2, quote(g.name));
      auto [it, ok] = code.emplace(g.to_string(r), static_cast<std::int64_t>(code.size()));
      d.groups[r] = it->second;
    }
  }
  if (!f.time_column.empty()) {
    const Column& t = train.column(f.time_column);
    d.time.resize(d.rows);
    if (t.type == DType::kString) {
      // ISO dates and other sortable text: order by the text itself.
      std::vector<std::string> sorted(t.dict);
      std::sort(sorted.begin(), sorted.end());
      std::unordered_map<std::string, double> rank;
      for (std::size_t i = 0; i < sorted.size(); ++i) rank[sorted[i]] = static_cast<double>(i);
      for (std::size_t r = 0; r < d.rows; ++r) {
        if (t.is_missing(r))
          fail(ErrorCode::kInvalidArgument, "{}: line {}: the time column {} is empty", where, r + 2, quote(t.name));
        d.time[r] = rank.at(std::string(t.str(r)));
      }
    } else {
      for (std::size_t r = 0; r < d.rows; ++r) {
        d.time[r] = t.as_double(r);
        if (std::isnan(d.time[r]))
          fail(ErrorCode::kInvalidArgument, "{}: line {}: the time column {} is empty", where, r + 2, quote(t.name));
      }
    }
  }
  return d;
}

std::string folds_hash(const std::vector<std::string>& ids, const std::vector<int>& folds) {
  Hasher h;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    h.update(ids[i]);
    h.update("\x1f", 1);
    h.update_i64(folds[i]);
  }
  return h.hex();
}

static std::vector<std::string> id_strings(const Table& train, const std::string& id) {
  const Column& c = train.column(id);
  std::vector<std::string> out(c.size());
  for (std::size_t r = 0; r < c.size(); ++r) out[r] = c.to_string(r);
  return out;
}

FoldAssignment make_folds(const Table& train, const CompetitionConfig& c, const FoldsConfig& f) {
  SplitData d = make_split_data(train, c, f);
  FoldAssignment a;
  a.ids = id_strings(train, c.id_column);
  a.folds = split::assign_folds(f.spec, d.inputs());
  a.hash = folds_hash(a.ids, a.folds);
  return a;
}

void write_folds(const std::filesystem::path& path, const FoldAssignment& a) {
  std::string out = "id,fold\n";
  out.reserve(a.ids.size() * 12);
  for (std::size_t i = 0; i < a.ids.size(); ++i) {
    const std::string& id = a.ids[i];
    bool quote = id.find_first_of(",\"\r\n") != std::string::npos;
    if (quote) {
      out += '"';
      for (char ch : id) {
        if (ch == '"') out += '"';
        out += ch;
      }
      out += '"';
    } else {
      out += id;
    }
    out += ',';
    out += std::to_string(a.folds[i]);
    out += '\n';
  }
  write_file_atomic(path, out);
}

FoldAssignment read_folds(const std::filesystem::path& path, const Table& train,
                          const std::string& id_column) {
  CsvReadOptions o;
  o.display_name = path.string();
  o.dtypes["id"] = DType::kString;
  Table t = read_csv(path, o);
  const Column& ids = t.column("id");
  const Column& folds = t.column("fold");
  const std::string where = path.string();
  // Every row: an integer fold, -1 (never validated) or 0..k-1 with no fold left out.
  for (std::size_t r = 0; r < folds.size(); ++r) {
    if (folds.is_missing(r))
      fail(ErrorCode::kInvalidArgument, "{}: line {}: id '{}' has no fold: expected -1 (never validated) or a fold number 0, 1, ...",
           where, r + 2, ids.to_string(r));
    if (folds.type == DType::kInt64) continue;
    const std::string cell = folds.to_string(r);
    std::int64_t v = 0;
    const auto [end, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), v);
    if (ec == std::errc() && end == cell.data() + cell.size()) continue;  // an integer among text
    fail(ErrorCode::kInvalidArgument, "{}: line {}: id '{}' has fold '{}': expected -1 (never validated) or a fold number 0, 1, ...{}",
         where, r + 2, ids.to_string(r), cell, space_hint(cell));
  }
  if (folds.type != DType::kInt64)
    fail(ErrorCode::kInvalidArgument, "{}: the 'fold' column must hold integers", where);
  std::vector<std::uint8_t> used;
  for (std::size_t r = 0; r < folds.size(); ++r) {
    const std::int64_t f = folds.i64[r];
    if (f < -1)
      fail(ErrorCode::kInvalidArgument, "{}: line {}: id '{}' has fold {}: expected -1 (never validated) or a fold number 0, 1, ...",
           where, r + 2, ids.to_string(r), f);
    if (f >= 0 && static_cast<std::uint64_t>(f) < folds.size()) {
      if (used.size() <= static_cast<std::size_t>(f)) used.resize(static_cast<std::size_t>(f) + 1, 0);
      used[static_cast<std::size_t>(f)] = 1;
    }
  }
  const auto k = static_cast<std::int64_t>(std::find(used.begin(), used.end(), 0) - used.begin());
  for (std::size_t r = 0; r < folds.size(); ++r)
    if (folds.i64[r] >= k)
      fail(ErrorCode::kInvalidArgument,
           "{}: line {}: id '{}' has fold {}, out of range: expected -1 (never validated) or 0..{} "
           "(folds are numbered 0..k-1 and no row has fold {})",
           where, r + 2, ids.to_string(r), folds.i64[r], k - 1, k);
  FoldAssignment a;
  a.ids = id_strings(train, id_column);
  std::unordered_map<std::string, std::size_t> row;
  row.reserve(a.ids.size() * 2);
  for (std::size_t r = 0; r < a.ids.size(); ++r) row.emplace(a.ids[r], r);
  a.folds.assign(a.ids.size(), -2);
  std::vector<std::string> extra, dup;
  for (std::size_t r = 0; r < ids.size(); ++r) {
    std::string id(ids.to_string(r));
    auto it = row.find(id);
    if (it == row.end()) {
      if (extra.size() < 5) extra.push_back(id);
      continue;
    }
    if (a.folds[it->second] != -2) {
      if (dup.size() < 5) dup.push_back(id);
      continue;
    }
    a.folds[it->second] = static_cast<int>(folds.i64[r]);
  }
  std::vector<std::string> missing;
  std::size_t n_missing = 0;
  for (std::size_t r = 0; r < a.ids.size(); ++r)
    if (a.folds[r] == -2 && n_missing++ < 5) missing.push_back(a.ids[r]);
  if (!extra.empty() || !dup.empty() || n_missing)
    fail(ErrorCode::kInvalidArgument,
         "{} does not match train's ids: {} missing{}{}{}{}; run `compe folds` to make it again",
         path.string(), n_missing, missing.empty() ? "" : " (" + join(missing) + ")",
         extra.empty() ? "" : "; ids not in train: " + join(extra),
         dup.empty() ? "" : "; duplicate ids: " + join(dup), "");
  a.hash = folds_hash(a.ids, a.folds);
  return a;
}

nlohmann::json FoldsRecord::to_json() const {
  const split::Spec& sp = folds.spec;
  nlohmann::json j = {{"strategy", sp.strategy}, {"k", sp.k},       {"shuffle", sp.shuffle},
                      {"seed", sp.seed},         {"gap", sp.gap},   {"bins", sp.bins},
                      {"group", folds.group_column}, {"time", folds.time_column}, {"hash", hash}};
  if (folds.repeats > 1) j["repeats"] = folds.repeats;  // absent for one repeat, as before
  return j;
}

FoldsRecord FoldsRecord::from_json(const nlohmann::json& j, std::string_view display) {
  if (!j.is_object()) fail(ErrorCode::kParse, "{}: expected a JSON object", display);
  FoldsRecord r;
  auto get = [&]<typename T>(const char* key, T& out, const char* want) {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return;
    bool ok = false;
    if constexpr (std::is_same_v<T, std::string>) ok = it->is_string();
    else if constexpr (std::is_same_v<T, bool>) ok = it->is_boolean();
    else ok = it->is_number_integer() && (std::is_signed_v<T> || it->template get<std::int64_t>() >= 0);
    if (!ok) fail(ErrorCode::kParse, "{}: /{}: expected {}", display, key, want);
    out = it->template get<T>();
  };
  get("strategy", r.folds.spec.strategy, "a splitter name");
  get("k", r.folds.spec.k, "an integer");
  get("shuffle", r.folds.spec.shuffle, "true or false");
  get("seed", r.folds.spec.seed, "a non-negative integer");
  get("gap", r.folds.spec.gap, "an integer");
  get("bins", r.folds.spec.bins, "an integer");
  get("group", r.folds.group_column, "a column name");
  get("time", r.folds.time_column, "a column name");
  get("hash", r.hash, "a string");
  get("repeats", r.folds.repeats, "an integer");
  if (r.folds.repeats < 1) fail(ErrorCode::kParse, "{}: /repeats: expected an integer >= 1", display);
  return r;
}

std::filesystem::path folds_record_path(const std::filesystem::path& folds_csv) {
  return folds_csv.parent_path() / "folds.json";
}

void write_folds_record(const std::filesystem::path& folds_csv, const FoldsRecord& record) {
  write_file_atomic(folds_record_path(folds_csv), record.to_json().dump(2) + "\n");
}

std::optional<FoldsRecord> read_folds_record(const std::filesystem::path& folds_csv,
                                             const std::string& hash) {
  const auto path = folds_record_path(folds_csv);
  if (!std::filesystem::exists(path)) return std::nullopt;
  nlohmann::json j = nlohmann::json::parse(read_file(path), nullptr, false);
  if (j.is_discarded()) fail(ErrorCode::kParse, "{}: not valid JSON", path.string());
  FoldsRecord r = FoldsRecord::from_json(j, path.string());
  if (r.hash != hash) return std::nullopt;
  return r;
}

}  // namespace compe
