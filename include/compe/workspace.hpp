#pragma once
/// A competition workspace: a folder holding compe.toml, folds.csv, runs/ and the store (.compe/).
///
/// compe.toml (documented in docs/FORMATS.md):
///   [competition] name, task, metric, id, target (string or list)
///   [data]        train, test, sample_submission, solution (optional; local scoring only)
///   [folds]       strategy, k, seed, shuffle, group, time, gap, bins
/// Paths in [data] are relative to the workspace folder (or absolute).

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "compe/metric.hpp"
#include "compe/split.hpp"
#include "compe/table.hpp"

namespace compe {

struct FoldsConfig {
  split::Spec spec;
  std::string group_column;  ///< "" = none
  std::string time_column;   ///< "" = none
};

struct CompetitionConfig {
  std::string name;
  metric::Task task = metric::kBinary;
  std::string metric;
  std::string id_column;
  std::vector<std::string> target_columns;
  std::filesystem::path train, test, sample_submission;
  std::optional<std::filesystem::path> solution;
  /// [data] labels: corrected train labels (id,<target>) that override the train file's (review).
  std::optional<std::filesystem::path> labels;
  FoldsConfig folds;
};

class Workspace {
 public:
  /// Loads DIR/compe.toml. Throws Error(kNotFound) when absent ("not a compe workspace") and
  /// Error(kInvalidArgument/kParse) naming the key path, the value and the allowed values.
  static Workspace open(const std::filesystem::path& dir);
  /// Finds the workspace: `dir` when given, else the current folder or its nearest parent with a
  /// compe.toml.
  static Workspace discover(const std::optional<std::filesystem::path>& dir);

  const std::filesystem::path& root() const { return root_; }
  const CompetitionConfig& config() const { return config_; }
  std::filesystem::path config_path() const { return root_ / "compe.toml"; }
  std::filesystem::path folds_path() const { return root_ / "folds.csv"; }
  std::filesystem::path runs_dir() const { return root_ / "runs"; }
  std::filesystem::path store_path() const { return root_ / ".compe" / "compe.db"; }
  /// A [data] path resolved against the workspace root.
  std::filesystem::path resolve(const std::filesystem::path& p) const;

  Table read_train() const;
  Table read_test() const;
  Table read_sample_submission() const;

 private:
  std::filesystem::path root_;
  CompetitionConfig config_;
};

/// Parses compe.toml text (`display` names the file in messages).
CompetitionConfig parse_competition_config(std::string_view toml_text, std::string_view display);
/// compe.toml text for a config, with comments explaining each key.
std::string render_competition_config(const CompetitionConfig& config);

struct InitOptions {
  std::filesystem::path dir;
  std::filesystem::path from;  ///< folder with train.csv, test.csv, sample_submission.csv
  std::optional<std::string> task, metric, id, target;
  bool force = false;
};

struct InitReport {
  CompetitionConfig config;
  std::vector<std::string> notes;  ///< how each inferred value was chosen
};

/// Creates a workspace: infers id and targets from the sample submission, the task from the
/// target's values, suggests a metric (meta.json's when the folder has one), and the default folds
/// spec (stratified for classification, kfold for regression). Refuses an existing compe.toml
/// unless `force`.
InitReport init_workspace(const InitOptions& options);

/// Infers the task of a target given train and the sample submission's prediction columns.
metric::Task infer_task(const Table& train, const std::vector<std::string>& sample_pred_columns,
                        const std::vector<std::string>& target_columns);

}  // namespace compe
