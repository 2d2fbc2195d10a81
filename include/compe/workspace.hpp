#pragma once
/// A competition workspace: a folder holding compe.toml, folds.csv, runs/ and the store (.compe/).
///
/// compe.toml (documented in docs/FORMATS.md):
///   [competition] name, task, metric, id, target (string or list; none for image tasks), classes
///   [data]        train, test, sample_submission, solution (optional; local scoring only),
///                 boxes (detection ground truth), masks (segmentation ground truth), images
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
  /// Repeated k-fold: runs also train on repeats - 1 further splits made by the same splitter
  /// with seeds spec.seed + 1, spec.seed + 2, ...; folds.csv stays the first repeat (1 = none).
  int repeats = 1;
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
  /// Image competitions (task detection or segmentation; docs/FORMATS.md): [data] boxes (the
  /// train images' boxes, detection), masks (their RLE masks, segmentation) and images (the
  /// folder of <id>.png), as written in compe.toml, "" when unset; [competition] classes (a box's
  /// label is an index into it; a mask's label is one of its names).
  std::string boxes, masks, images;
  std::vector<std::string> classes;
};

/// True for the tasks whose predictions are boxes or masks per image rather than numbers per row.
inline bool is_image_task(metric::Task t) {
  return t == metric::kDetection || t == metric::kSegmentation;
}

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
  /// The ground-truth file of an image competition ([data] boxes or masks), resolved; empty when
  /// the task is not an image task.
  std::filesystem::path ground_truth_path() const;
  /// The folder of <id>.png images: [data] images, else `images` beside the train file.
  std::filesystem::path images_dir() const;

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
/// unless `force`. An image competition (meta.json's task detection or segmentation) takes its id
/// column from meta.json's `id` (else train.csv's first column), no target, the classes from
/// meta.json's `classes`, the ground truth from train_boxes.csv / train_masks.csv, `images/` when
/// present, and kfold over the image ids; its ground truth is read and checked (image ids, boxes
/// inside their images, RLE) before compe.toml is written.
InitReport init_workspace(const InitOptions& options);

/// Infers the task of a target given train and the sample submission's prediction columns.
metric::Task infer_task(const Table& train, const std::vector<std::string>& sample_pred_columns,
                        const std::vector<std::string>& target_columns);

}  // namespace compe
