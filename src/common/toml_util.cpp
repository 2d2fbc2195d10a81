#include "common/toml_util.hpp"

#include <algorithm>

#include "compe/error.hpp"
#include "compe/util.hpp"

namespace compe {

toml::table parse_toml(std::string_view text, std::string_view display) {
  try {
    return toml::parse(text, std::string(display));
  } catch (const toml::parse_error& e) {
    fail(ErrorCode::kParse, "{}:{}:{}: {}", display, e.source().begin.line, e.source().begin.column,
         clip(e.description(), 200));
  }
}

void check_toml_keys(const toml::table& t, const std::string& prefix,
                     const std::vector<std::string>& allowed, std::string_view display) {
  for (const auto& [k, v] : t) {
    std::string key(k.str());
    if (std::find(allowed.begin(), allowed.end(), key) != allowed.end()) continue;
    std::string hint = closest_match(key, allowed);
    fail(ErrorCode::kInvalidArgument, "{}:{}: unknown key {}{}; allowed: {}", display,
         v.source().begin.line, quote(prefix + key),
         hint.empty() ? "" : fmt::format(" (did you mean '{}{}'?)", prefix, hint), join(allowed));
  }
}

}  // namespace compe
