#include "compe/folds.hpp"

#include <algorithm>
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
  if (c.task == metric::kMultilabel) {
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
      if (col.type == DType::kString)
        fail(ErrorCode::kInvalidArgument, "{}: the target {} holds text, but the task is {}", where,
             quote(col.name), metric::task_name(c.task));
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
  if (folds.type != DType::kInt64 || folds.count_missing() > 0)
    fail(ErrorCode::kInvalidArgument, "{}: the 'fold' column must hold integers in every row", path.string());
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

}  // namespace compe
