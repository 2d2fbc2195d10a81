#pragma once
// Rendering helpers for the CLI: aligned text tables, JSON documents, TTY detection.
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace compe::cli {

/// True when stdout is a terminal (progress bars and colour only then).
bool stdout_is_tty();
/// Prints an aligned table: a header row, a rule, then rows. Numeric-looking cells align right.
void print_table(const std::vector<std::string>& header,
                 const std::vector<std::vector<std::string>>& rows);
/// Prints one JSON document (pretty, 2-space indent) and a newline on stdout.
void print_json(const nlohmann::json& doc);
/// A score as text with enough digits to compare runs (6 significant digits).
std::string fmt_score(double v);
/// Parameters as "k=v k=v" (floats as fmt_score shows them): trial tables.
std::string params_text(const nlohmann::json& p);

}  // namespace compe::cli
