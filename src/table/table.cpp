#include <algorithm>
#include <cmath>
#include <limits>
#include <unordered_map>

#include <fast_float/fast_float.h>

#include "compe/error.hpp"
#include "compe/table.hpp"
#include "compe/util.hpp"

namespace compe {

std::string_view dtype_name(DType t) {
  switch (t) {
    case DType::kFloat64: return "float64";
    case DType::kInt64: return "int64";
    case DType::kString: return "string";
  }
  return "?";
}

DType parse_dtype(std::string_view name) {
  if (name == "float64" || name == "float" || name == "f64" || name == "double") return DType::kFloat64;
  if (name == "int64" || name == "int" || name == "i64" || name == "integer") return DType::kInt64;
  if (name == "string" || name == "str" || name == "category" || name == "categorical")
    return DType::kString;
  fail(ErrorCode::kInvalidArgument, "unknown column type '{}': expected float64, int64 or string",
       name);
}

Column Column::from_f64(std::string name, std::vector<double> values) {
  Column c;
  c.name = std::move(name);
  c.type = DType::kFloat64;
  c.f64 = std::move(values);
  return c;
}

Column Column::from_i64(std::string name, std::vector<std::int64_t> values) {
  Column c;
  c.name = std::move(name);
  c.type = DType::kInt64;
  c.i64 = std::move(values);
  return c;
}

Column Column::from_strings(std::string name,
                            const std::vector<std::optional<std::string>>& values) {
  Column c;
  c.name = std::move(name);
  c.type = DType::kString;
  c.codes.reserve(values.size());
  std::unordered_map<std::string, std::int32_t> index;
  for (const auto& v : values) {
    if (!v) {
      c.codes.push_back(-1);
      continue;
    }
    auto [it, inserted] = index.emplace(*v, static_cast<std::int32_t>(c.dict.size()));
    if (inserted) c.dict.push_back(*v);
    c.codes.push_back(it->second);
  }
  return c;
}

std::size_t Column::size() const {
  switch (type) {
    case DType::kFloat64: return f64.size();
    case DType::kInt64: return i64.size();
    case DType::kString: return codes.size();
  }
  return 0;
}

bool Column::is_missing(std::size_t row) const {
  switch (type) {
    case DType::kFloat64: return std::isnan(f64[row]);
    case DType::kInt64: return !missing.empty() && missing[row] != 0;
    case DType::kString: return codes[row] < 0;
  }
  return false;
}

double Column::as_double(std::size_t row) const {
  switch (type) {
    case DType::kFloat64: return f64[row];
    case DType::kInt64:
      return is_missing(row) ? std::numeric_limits<double>::quiet_NaN()
                             : static_cast<double>(i64[row]);
    case DType::kString: break;
  }
  fail(ErrorCode::kInvalidArgument, "column {} holds text, expected numbers: line {} is {}{}", quote(name),
       row + 2, quote(str(row)), space_hint(str(row)));
}

bool is_number_text(std::string_view s) {
  if (s.size() > 1 && s[0] == '+' && s[1] != '-') s.remove_prefix(1);
  if (s.empty()) return false;
  double v = 0;
  auto r = fast_float::from_chars(s.data(), s.data() + s.size(), v);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

std::string space_hint(std::string_view cell) {
  auto is_space = [](char c) { return c == ' ' || c == '\t'; };
  std::size_t b = 0, e = cell.size();
  while (b < e && is_space(cell[b])) ++b;
  while (e > b && is_space(cell[e - 1])) --e;
  if ((b == 0 && e == cell.size()) || !is_number_text(cell.substr(b, e - b))) return "";
  return " (a number with surrounding spaces reads as text: remove the spaces)";
}

void require_utf8(const Column& column, std::string_view where) {
  if (column.type != DType::kString) return;
  std::vector<std::uint8_t> bad(column.dict.size(), 0);
  bool any = false;
  for (std::size_t i = 0; i < column.dict.size(); ++i)
    if (invalid_utf8_at(column.dict[i])) {
      bad[i] = 1;
      any = true;
    }
  if (!any) return;
  for (std::size_t r = 0; r < column.size(); ++r) {
    const std::int32_t code = column.codes[r];
    if (code < 0 || !bad[static_cast<std::size_t>(code)]) continue;
    const std::string& cell = column.dict[static_cast<std::size_t>(code)];
    const std::size_t at = *invalid_utf8_at(cell);
    fail(ErrorCode::kParse, "{}:{}: column '{}' holds invalid UTF-8 (byte 0x{:02x} at offset {} of the cell): expected UTF-8 text",
         where, r + 2, column.name, static_cast<unsigned char>(cell[at]), at);
  }
}

void require_numeric(const Column& column, std::string_view where, const Column* ids) {
  if (column.type != DType::kString) return;
  for (std::size_t r = 0; r < column.size(); ++r) {
    if (column.is_missing(r) || is_number_text(column.str(r))) continue;
    fail(ErrorCode::kInvalidArgument, "{}: line {}: column {}{} holds {}: expected a number{}", where,
         r + 2, quote(column.name), ids && r < ids->size() ? fmt::format(" (id {})", quote(ids->to_string(r))) : "",
         quote(column.str(r)), space_hint(column.str(r)));
  }
  // Every cell reads as a number, yet the column is text (a forced dtype): name the column.
  fail(ErrorCode::kInvalidArgument, "{}: column '{}' is text: expected numbers", where, column.name);
}

std::string Column::to_string(std::size_t row) const {
  if (is_missing(row)) return {};
  switch (type) {
    case DType::kFloat64: return format_double(f64[row]);
    case DType::kInt64: return std::to_string(i64[row]);
    case DType::kString: return dict[static_cast<std::size_t>(codes[row])];
  }
  return {};
}

std::string_view Column::str(std::size_t row) const {
  COMPE_ASSERT(type == DType::kString);
  return codes[row] < 0 ? std::string_view() : std::string_view(dict[static_cast<std::size_t>(codes[row])]);
}

std::size_t Column::count_missing() const {
  std::size_t n = 0;
  switch (type) {
    case DType::kFloat64:
      for (double v : f64) n += std::isnan(v) ? 1 : 0;
      break;
    case DType::kInt64:
      for (auto m : missing) n += m ? 1 : 0;
      break;
    case DType::kString:
      for (auto c : codes) n += c < 0 ? 1 : 0;
      break;
  }
  return n;
}

Column Column::take(const std::vector<std::size_t>& rows) const {
  Column out;
  out.name = name;
  out.type = type;
  switch (type) {
    case DType::kFloat64:
      out.f64.resize(rows.size());
      for (std::size_t i = 0; i < rows.size(); ++i) out.f64[i] = f64[rows[i]];
      break;
    case DType::kInt64:
      out.i64.resize(rows.size());
      for (std::size_t i = 0; i < rows.size(); ++i) out.i64[i] = i64[rows[i]];
      if (!missing.empty()) {
        out.missing.resize(rows.size());
        for (std::size_t i = 0; i < rows.size(); ++i) out.missing[i] = missing[rows[i]];
      }
      break;
    case DType::kString:
      out.dict = dict;
      out.codes.resize(rows.size());
      for (std::size_t i = 0; i < rows.size(); ++i) out.codes[i] = codes[rows[i]];
      break;
  }
  return out;
}

const Column& Table::column(std::string_view name) const {
  if (auto i = find(name)) return columns_[*i];
  auto names = column_names();
  std::string hint = closest_match(name, names);
  fail(ErrorCode::kNotFound, "{}no column {}{}; columns are: {}",
       source.empty() ? "" : source + ": ", quote(name),
       hint.empty() ? "" : fmt::format(" (did you mean {}?)", quote(hint)), list_shown(names));
}

std::optional<std::size_t> Table::find(std::string_view name) const {
  for (std::size_t i = 0; i < columns_.size(); ++i)
    if (columns_[i].name == name) return i;
  return std::nullopt;
}

std::vector<std::string> Table::column_names() const {
  std::vector<std::string> out;
  out.reserve(columns_.size());
  for (const auto& c : columns_) out.push_back(c.name);
  return out;
}

void Table::add_column(Column c) {
  if (has(c.name))
    fail(ErrorCode::kInvalidArgument, "{}duplicate column name {}",
         source.empty() ? "" : source + ": ", quote(c.name));
  if (!columns_.empty() && c.size() != num_rows())
    fail(ErrorCode::kInvalidArgument, "column {} has {} rows, the table has {}", quote(c.name), c.size(),
         num_rows());
  if (c.type == DType::kInt64 && !c.missing.empty() && c.missing.size() != c.i64.size())
    fail(ErrorCode::kInternal, "column '{}': missing mask length mismatch", c.name);
  columns_.push_back(std::move(c));
}

void Table::drop_column(std::string_view name) {
  if (auto i = find(name)) columns_.erase(columns_.begin() + static_cast<std::ptrdiff_t>(*i));
}

Table Table::take(const std::vector<std::size_t>& rows) const {
  Table out;
  out.source = source;
  for (const auto& c : columns_) out.columns_.push_back(c.take(rows));
  return out;
}

}  // namespace compe
