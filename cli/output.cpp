#include "output.hpp"

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>

#include <fmt/core.h>

namespace compe::cli {

bool stdout_is_tty() { return ::isatty(STDOUT_FILENO) == 1; }

static bool looks_numeric(const std::string& s) {
  if (s.empty()) return false;
  char* end = nullptr;
  std::strtod(s.c_str(), &end);
  return end && *end == '\0';
}

void print_table(const std::vector<std::string>& header,
                 const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> width(header.size());
  for (std::size_t c = 0; c < header.size(); ++c) width[c] = header[c].size();
  for (const auto& r : rows)
    for (std::size_t c = 0; c < r.size() && c < width.size(); ++c)
      width[c] = std::max(width[c], r[c].size());
  auto line = [&](const std::vector<std::string>& r, bool is_header) {
    std::string out;
    for (std::size_t c = 0; c < width.size(); ++c) {
      const std::string cell = c < r.size() ? r[c] : "";
      bool right = !is_header && looks_numeric(cell);
      if (c) out += "  ";
      out += right ? fmt::format("{:>{}}", cell, width[c]) : fmt::format("{:<{}}", cell, width[c]);
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    fmt::print("{}\n", out);
  };
  line(header, true);
  std::string rule;
  for (std::size_t c = 0; c < width.size(); ++c) {
    if (c) rule += "  ";
    rule += std::string(width[c], '-');
  }
  fmt::print("{}\n", rule);
  for (const auto& r : rows) line(r, false);
}

void print_json(const nlohmann::json& doc) {
  fmt::print("{}\n", doc.dump(2, ' ', false, nlohmann::json::error_handler_t::replace));
}

std::string fmt_score(double v) {
  if (std::isnan(v)) return "nan";
  return fmt::format("{:.6g}", v);
}

std::string params_text(const nlohmann::json& p) {
  std::string out;
  for (const auto& [k, v] : p.items()) {
    if (!out.empty()) out += ' ';
    out += k + "=" + (v.is_number_float() ? fmt_score(v.get<double>()) : v.dump());
  }
  return out;
}

}  // namespace compe::cli
