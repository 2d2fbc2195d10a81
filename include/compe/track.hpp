#pragma once
/// Comparing runs: configuration differences, paired fold comparisons, the one-hypothesis check.

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "compe/store.hpp"

namespace compe::track {

/// A JSON document flattened to "a.b.c" -> value (arrays are leaves).
std::map<std::string, nlohmann::json> flatten(const nlohmann::json& doc);

struct ConfigChange {
  std::string key;
  nlohmann::json before;  ///< null when the key is absent in the first config
  nlohmann::json after;   ///< null when the key is absent in the second
};

/// Keys whose values differ, sorted by key. Keys under `ignore` prefixes are skipped.
std::vector<ConfigChange> config_diff(const nlohmann::json& a, const nlohmann::json& b,
                                      const std::vector<std::string>& ignore = {});

/// The keys of a run's config that define its hypothesis: everything but the run's name, parent
/// and how it was executed (threads, parallel folds, fold subset).
std::vector<std::string> bookkeeping_keys();

/// A paired comparison of B against A over the folds both scored.
struct PairedComparison {
  std::size_t folds = 0;     ///< folds scored by both
  std::size_t improved = 0;  ///< folds where B is better (by the metric's direction)
  std::size_t worse = 0;
  std::size_t ties = 0;
  double mean_delta = 0;     ///< mean of (B - A) over the folds
  double sign_p = 1;         ///< two-sided exact sign test p-value (ties dropped)
  double wilcoxon_p = 1;     ///< two-sided exact Wilcoxon signed-rank p-value (ties dropped, n <= 25) or
                             ///< normal approximation above that
  std::map<int, double> delta;  ///< fold -> B - A
};

PairedComparison compare_folds(const std::map<int, double>& a, const std::map<int, double>& b,
                               bool greater_is_better);

/// The curve key for a key of a trainer's metric log: `train_loss` -> `train-loss`,
/// `valid_auc` and `val_auc` -> `valid-auc` (the train/valid convention of the built-in
/// backends' curves); any other key is kept as it is (`lr`, `train-loss`).
std::string metrics_log_key(std::string_view key);

/// Reads a trainer's metric log (the file named by COMPE_METRICS_FILE, docs/COMMAND_TRAINER.md):
/// one JSON object per line, e.g. {"step": 3, "train_loss": 0.41, "valid_auc": 0.87}.
///  - `step` (optional): an integer >= 0; when absent, the previous line's step + 1 (0 first).
///  - every other key is a curve (renamed by metrics_log_key) whose value is a number or null
///    (NaN); NaN, Infinity and -Infinity as Python's json module writes them are accepted.
///  - blank lines are skipped; a step logged twice for a key keeps the later value.
///  - a last line without its line feed that does not parse is dropped: a killed program may
///    leave one half written.
/// Returns the points with `fold` set on each, ordered by key then step; none when the file does
/// not exist. Throws Error(kParse) naming the file and line for a line that is not a JSON object,
/// a bad step, or a value that is not a number, and Error(kIo) when the file cannot be read.
std::vector<MetricPoint> read_metrics_log(const std::filesystem::path& path, std::optional<int> fold);

/// The parent a new run is compared with: `explicit_parent` when given, else the best finished
/// run with the same metric and folds hash. nullopt when there is none.
std::optional<Run> choose_parent(Store& store, const std::string& explicit_parent, const std::string& metric,
                                 const std::string& folds_hash);

}  // namespace compe::track
