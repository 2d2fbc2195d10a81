// CSV writer: header, then one line per row, '\n' line endings.

#include <charconv>
#include <cmath>

#include "compe/table.hpp"
#include "compe/util.hpp"

namespace compe {

namespace {

bool needs_quotes(std::string_view s) {
  if (s.empty()) return false;
  if (s.front() == ' ' || s.back() == ' ') return true;
  return s.find_first_of(",\"\r\n") != std::string_view::npos;
}

void append_field(std::string& out, std::string_view s) {
  if (!needs_quotes(s)) {
    out += s;
    return;
  }
  out += '"';
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  out += '"';
}

// format_double's text, with ".0" added to integral values so that a float64 column of whole
// numbers reads back as float64 rather than int64.
void append_double(std::string& out, double v) {
  std::string s = format_double(v);
  out += s;
  if (std::isfinite(v) && s.find_first_of(".e") == std::string::npos) out += ".0";
}

}  // namespace

std::string to_csv_string(const Table& table) {
  const auto& cols = table.columns();
  std::string out;
  for (std::size_t j = 0; j < cols.size(); ++j) {
    if (j) out += ',';
    // An empty name is quoted so that a one-column header is not a blank line.
    if (cols[j].name.empty())
      out += "\"\"";
    else
      append_field(out, cols[j].name);
  }
  out += '\n';
  // String columns: the written form of each dictionary entry, built once.
  std::vector<std::vector<std::string>> rendered(cols.size());
  for (std::size_t j = 0; j < cols.size(); ++j) {
    if (cols[j].type != DType::kString) continue;
    rendered[j].reserve(cols[j].dict.size());
    for (const auto& v : cols[j].dict) {
      std::string s;
      append_field(s, v);
      rendered[j].push_back(std::move(s));
    }
  }
  const std::size_t rows = table.num_rows();
  char buf[24];
  for (std::size_t r = 0; r < rows; ++r) {
    for (std::size_t j = 0; j < cols.size(); ++j) {
      if (j) out += ',';
      const Column& c = cols[j];
      switch (c.type) {
        case DType::kFloat64:
          if (!std::isnan(c.f64[r])) append_double(out, c.f64[r]);
          break;
        case DType::kInt64:
          if (c.missing.empty() || !c.missing[r]) {
            auto res = std::to_chars(buf, buf + sizeof buf, c.i64[r]);
            out.append(buf, res.ptr);
          }
          break;
        case DType::kString:
          if (c.codes[r] >= 0) out += rendered[j][static_cast<std::size_t>(c.codes[r])];
          break;
      }
    }
    out += '\n';
  }
  return out;
}

void write_csv(const Table& table, const std::filesystem::path& path) {
  write_file_atomic(path, to_csv_string(table));
}

}  // namespace compe
