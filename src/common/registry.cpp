#include "compe/registry.hpp"

namespace compe {

NameSpec split_spec(std::string_view spec) {
  const std::size_t at = spec.find('@');
  if (at == std::string_view::npos) return {spec, std::nullopt};
  return {spec.substr(0, at), spec.substr(at + 1)};
}

namespace {
char lower_char(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c; }
}  // namespace

std::string ascii_lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = lower_char(c);
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i)
    if (lower_char(a[i]) != lower_char(b[i])) return false;
  return true;
}

}  // namespace compe
