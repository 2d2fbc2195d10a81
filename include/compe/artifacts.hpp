#pragma once
/// The files of a run folder (runs/<id>/), shared by every producer of runs (the fold loop, blends,
/// imported OOF predictions): oof.csv, test.csv, submission.csv, meta.json and their records in
/// the store. Formats: docs/FORMATS.md.

#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

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

/// A file of a run folder and its artifact name in the store.
struct ArtifactFile {
  const char* file;  ///< e.g. "oof.csv"
  const char* name;  ///< e.g. "oof" (also its kind)
};

/// The files a run folder may hold, in the order they are stored: config.json, oof.csv,
/// test.csv, test_folds.csv, submission.csv, meta.json, curves.csv, run.log, git.diff.
std::span<const ArtifactFile> artifact_files();

/// Stores the files of runs/<run_id>/ that exist among artifact_files() in the store, content
/// and record together (Store::put_artifact: sha256, compressed chunks, streamed); content the
/// store has is not sent again. Returns the records. Throws what put_artifact throws (a file over
/// `max_bytes` is Error(kInvalidArgument) naming it).
std::vector<Artifact> push_run(Store& store, const Workspace& ws, const std::string& run_id,
                               std::int64_t max_bytes = kDefaultArtifactLimitBytes);

/// push_run for the run writer: every file of `dir` (== runs/<run_id>/) in the store before
/// the run is marked finished.
void record_artifacts(Store& store, const Workspace& ws, const std::string& run_id,
                      const std::filesystem::path& dir,
                      std::int64_t max_bytes = kDefaultArtifactLimitBytes);

/// What ensure_local asks for: every file named (a missing one is an error), or those the store
/// has (the others are skipped).
enum class Need { kAll, kIfStored };

struct LocalRun {
  std::filesystem::path dir;         ///< runs/<id>/
  std::vector<std::string> fetched;  ///< files fetched from the store by this call
};

/// The one way to a run's files given its id: runs/<id>/ is a cache of the store. Each of
/// `files` (names of artifact_files(), e.g. "oof.csv") missing from the folder is fetched from
/// the store chunk by chunk, its sha256 verified, and written atomically (never half a file).
/// Files present are used as they are. Error(kNotFound) naming the run, the file and the store
/// when the store has no content for a file asked with Need::kAll; Error(kStorage) when the
/// stored content does not match its digest (nothing is written then).
LocalRun ensure_local(Store& store, const Workspace& ws, const std::string& run_id,
                      std::span<const std::string_view> files, Need need = Need::kAll);

/// ensure_local for a runs folder given as a path (runs/ of a workspace).
LocalRun ensure_local(Store& store, const std::filesystem::path& runs_dir,
                      const std::string& run_id, std::span<const std::string_view> files,
                      Need need = Need::kAll);

/// Fetches every artifact of the run the store holds content for and the folder lacks.
LocalRun pull_run(Store& store, const Workspace& ws, const std::string& run_id);

/// What a run recorded beside its scores, read from its artifacts in the store: `importance`
/// (importance.csv as a list of {feature, gain, permutation_mean, permutation_std}, nulls for
/// empty cells, most important first; null when the run has none) and `seeds` (meta.json's
/// cv_details.seeds: each seed's fold scores when [run] seeds averaged several; null otherwise).
/// The `details` of `compe show --json` and of the dashboard's run. Never throws for a run
/// without these artifacts; Error(kStorage) for corrupt content.
nlohmann::json run_details(Store& store, const std::string& run_id);

}  // namespace compe::run
