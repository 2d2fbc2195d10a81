#pragma once
/// The files of a run folder (runs/<id>/), shared by every producer of runs (the fold loop, blends,
/// imported OOF predictions): oof.csv, test.csv, submission.csv, meta.json and their records in
/// the store. Formats: docs/FORMATS.md.

#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "compe/model.hpp"
#include "compe/store.hpp"
#include "compe/table.hpp"
#include "compe/workspace.hpp"

namespace compe::run {

/// Names of the prediction columns, one per model output column: the sample submission's where it
/// has one column per output (class labels first when it names its columns after them), else
/// `<target>_<class>` per class. Throws Error(kInvalidArgument) when they cannot agree.
std::vector<std::string> prediction_columns(const Table& sample, const std::string& id,
                                            const model::Target& target);

/// Hash of the bytes of the workspace's train and test files (16 hex digits).
std::string data_hash(const Workspace& ws);

/// Writes oof.csv: `id,fold,<pred_cols>`; ids.size() rows, `pred` row-major ids.size() x
/// pred_cols.size(). The id column keeps its name and type.
void write_oof_csv(const std::filesystem::path& path, const Column& ids, std::span<const int> folds,
                   const std::vector<std::string>& pred_cols, std::span<const double> pred);

/// Writes test.csv: `id,<pred_cols>` with `pred` row-major ids.size() x pred_cols.size().
void write_test_csv(const std::filesystem::path& path, const Column& ids,
                    const std::vector<std::string>& pred_cols, std::span<const double> pred);

/// Writes submission.csv: exactly the sample submission's header, ids and order, from test
/// predictions in `test_ids` order. Probabilities where the sample holds numbers; the most probable
/// class label (binary: P >= 0.5) where it holds text or one column for several classes.
/// Throws Error(kInvalidArgument) naming the line of a sample id missing from the test ids.
void write_submission(const std::filesystem::path& path, const Table& sample,
                      const std::string& id_column, const Column& test_ids,
                      const std::vector<std::string>& pred_cols, std::span<const double> test_pred,
                      const std::vector<std::string>& classes);

/// Writes a one-column label submission (the sample's header, ids and order) from class indices
/// of the test rows (`labels`, test_ids order): the class labels' own text, or numbers where the
/// sample's column is numeric. Throws Error(kInvalidArgument) naming the line of a sample id that
/// is not a test id, or a label that is not a number for a numeric column.
void write_label_submission(const std::filesystem::path& path, const Table& sample,
                            const std::string& id_column, const Column& test_ids,
                            const std::vector<std::string>& classes, std::span<const int> labels);

/// Records the files of `dir` that exist among config.json, oof.csv, test.csv, test_folds.csv,
/// submission.csv, meta.json, run.log and git.diff as artifacts of `run_id` (paths relative to the workspace).
void record_artifacts(Store& store, const Workspace& ws, const std::string& run_id,
                      const std::filesystem::path& dir);

}  // namespace compe::run
