#pragma once
/// Folds of a workspace: the per-row data splitters need, folds.csv (`id,fold`) and its hash.
///
/// The folds hash identifies a split for the whole team: it is computed over the ids (as text)
/// and folds in train order, so two folds.csv files with the same assignment hash the same.

#include <filesystem>
#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "compe/split.hpp"
#include "compe/table.hpp"
#include "compe/workspace.hpp"

namespace compe {

/// Owning storage behind split::Inputs for a train table.
struct SplitData {
  std::size_t rows = 0;
  std::vector<double> y;  ///< class index (classification), value (regression), n x k (multilabel)
  std::size_t y_cols = 1;
  bool y_is_class = true;
  std::vector<std::string> classes;  ///< class labels by index (classification)
  std::vector<std::int64_t> groups;
  std::vector<double> time;
  split::Inputs inputs() const;
};

/// Builds SplitData from train for a competition config and a folds config (which may name a
/// group and a time column). Throws Error(kNotFound) for unknown columns,
/// Error(kInvalidArgument) for missing targets.
SplitData make_split_data(const Table& train, const CompetitionConfig& config, const FoldsConfig& folds);

struct FoldAssignment {
  std::vector<std::string> ids;  ///< train ids in train order
  std::vector<int> folds;        ///< one per row; -1 = never validated
  std::string hash;
};

/// Hash of ids and folds in order (16 hex digits).
std::string folds_hash(const std::vector<std::string>& ids, const std::vector<int>& folds);

/// Assigns folds to train rows with the config's splitter.
FoldAssignment make_folds(const Table& train, const CompetitionConfig& config, const FoldsConfig& folds);

/// Writes folds.csv atomically.
void write_folds(const std::filesystem::path& path, const FoldAssignment& a);

/// Reads folds.csv and aligns it with train (ids must match train's exactly, any order; the
/// result is in train order). Throws Error(kInvalidArgument) naming missing, extra or duplicate
/// ids and non-integer folds.
FoldAssignment read_folds(const std::filesystem::path& path, const Table& train,
                          const std::string& id_column);

/// How a folds.csv was made: the splitter settings and the hash they gave. `compe folds` and
/// `compe run` (when it makes folds.csv) keep it as folds.json beside folds.csv, so that a run
/// records the folds it really used (which may differ from compe.toml's spec) and `rerun` can
/// remake them.
struct FoldsRecord {
  FoldsConfig folds;
  std::string hash;
  nlohmann::json to_json() const;
  /// Error(kParse) naming `display` and the field at fault.
  static FoldsRecord from_json(const nlohmann::json& j, std::string_view display);
};

/// folds.json's path: beside folds.csv.
std::filesystem::path folds_record_path(const std::filesystem::path& folds_csv);
/// Writes folds.json atomically.
void write_folds_record(const std::filesystem::path& folds_csv, const FoldsRecord& record);
/// The record of folds.csv when folds.json exists and its hash is `hash` (nullopt otherwise:
/// no record, or folds.csv was replaced by hand).
std::optional<FoldsRecord> read_folds_record(const std::filesystem::path& folds_csv,
                                             const std::string& hash);

}  // namespace compe
