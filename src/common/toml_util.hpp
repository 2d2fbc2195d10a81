#pragma once
// TOML helpers shared by compe.toml and experiment files: parse errors and unknown keys become
// compe::Error naming the file, line and the closest allowed key.
#include <string>
#include <string_view>
#include <vector>

#include <toml++/toml.h>

namespace compe {

/// Parses TOML text; a syntax error is Error(kParse) "display:line:column: what".
toml::table parse_toml(std::string_view text, std::string_view display);

/// Throws Error(kInvalidArgument) for the first key of `t` not in `allowed`, naming its line, the
/// closest allowed key and the allowed keys. `prefix` is the table's path ("folds.").
void check_toml_keys(const toml::table& t, const std::string& prefix,
                     const std::vector<std::string>& allowed, std::string_view display);

}  // namespace compe
