#pragma once
/// The one lifecycle of a run, whatever makes it (the fold loop, a tuning trial, a blend, a
/// threshold fit, an OOF import, Python's start_run):
///
///   RunWriter w(ws, store, ref, spec);   // begin: the record (running), runs/<id>/config.json,
///                                        // git commit/branch/diff, lineage
///   w.add_fold(f, rows, oof, test, s);   // per fold: OOF rows, that fold model's test
///                                        // predictions, the fold score, curves (thread-safe)
///   w.add_image_fold(f, oof, test);      // or, for detection and segmentation runs, the fold's
///                                        // boxes or masks (compe/image_run.hpp)
///   Summary s = w.finish(opts);          // pooled CV, fold mean/std, oof.csv, test.csv,
///                                        // test_folds.csv, submission.csv, meta.json, run.log,
///                                        // artifact records, status finished
///   w.stop(RunStatus::kFailed, why);     // or interrupted / pruned, with the reason
///
/// Every file is written atomically (a temporary beside it, then a rename). The record is
/// `finished` only after every artifact is on disk and recorded, so a killed process leaves a
/// `running` record that the next command marks interrupted, never a finished run with a
/// missing file. A RunWriter that is destroyed neither finished nor failed marks its run failed.

#include <chrono>
#include <filesystem>
#include <map>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "compe/image_run.hpp"
#include "compe/oof.hpp"
#include "compe/store.hpp"
#include "compe/workspace.hpp"

namespace compe::run {

/// What a finished run reports (the CLI's human line and the tuner's objectives; the Run record
/// in the store and run_json are the full picture).
struct Summary {
  std::string run_id;
  std::string name;
  std::string kind;
  std::string metric;
  bool greater_is_better = true;
  double cv = 0;                   ///< pooled OOF score over the validated rows
  std::map<int, double> fold_scores;
  double mean = 0, std = 0;        ///< of the fold scores
  bool partial = false;            ///< some folds or rows only (Run::partial)
  std::filesystem::path dir, submission, oof, test, test_folds;
  std::string folds_hash, data_hash;
  std::vector<std::string> notes;  ///< e.g. folds.csv created, unseen categorical levels
  std::string parent_id;           ///< the run this one was compared with ("" = none)
  std::vector<std::string> changed_keys;  ///< config keys that differ from the parent's
  bool multi_hypothesis = false;   ///< more than one key changed (and not allowed)
  double wall_seconds = 0;
  double model_seconds = 0;  ///< summed over folds: time inside the backend's fit_predict
};

/// What begin records.
struct RunSpec {
  std::string kind = "model";  ///< Run::kind
  std::string name;
  nlohmann::json config = nlohmann::json::object();  ///< the resolved experiment (config.json)
  std::string parent_id;
  std::string command_line;
  std::string producer;  ///< meta.json's producer, e.g. "compe 0.1.0 (xgboost)"
  std::string target_transform = "none";
  nlohmann::json versions = nlohmann::json::object();  ///< merged over {"compe": version}
  /// Known at begin to cover part of the data (a row subset such as the tuner's proxy, or some
  /// folds only); finish also marks a run partial when it scored fewer folds than folds.csv has.
  bool partial = false;
  bool record_git = true;  ///< commit, branch, dirty flag and git.diff of the workspace's repo
};

/// How finish writes what add_fold did not give.
struct FinishOptions {
  /// The score recorded as the run's CV (a blend's nested score); unset = the metric on the
  /// pooled OOF rows.
  std::optional<double> cv;
  /// Test predictions (test rows x cols) when no fold gave any (a blend of members' averages);
  /// empty = the mean of the folds' test predictions.
  std::vector<double> test;
  /// Class indices of the test rows: a one-column label submission gets these labels (a
  /// threshold decision) instead of the most probable class of `test`.
  const std::vector<int>* test_labels = nullptr;
  nlohmann::json cv_details = nlohmann::json::object();  ///< Meta::cv_details
  nlohmann::json meta_extra = nlohmann::json::object();  ///< Meta::extra
  double model_seconds = 0;  ///< reported in Summary::model_seconds
  /// Image runs: the test boxes or masks (aligned on every test image) when no fold gave any
  /// (a fusion or blend of members' test predictions); test_*_folds.csv is then not written.
  const images::Predictions* image_test = nullptr;
};

class RunWriter {
 public:
  /// Begin: creates the record (status running, kind, config, folds and data hashes, metric,
  /// direction, command, git), runs/<id>/ with config.json (and git.diff when the work tree is
  /// dirty). `ref` is copied: its train ids, folds and test ids define the files' rows.
  RunWriter(const Workspace& ws, Store& store, const Reference& ref, RunSpec spec);
  RunWriter(const RunWriter&) = delete;
  RunWriter& operator=(const RunWriter&) = delete;
  ~RunWriter();

  const Run& record() const { return rec_; }
  const std::string& id() const { return rec_.id; }
  const std::filesystem::path& dir() const { return dir_; }
  const Reference& reference() const { return ref_; }

  /// A line of run.log (the file is written by finish and fail).
  void log(const std::string& line);

  /// One fold: predictions (rows.size() x cols, row-major) for the reference rows `rows`
  /// (positions in reference().train_ids), the fold model's test predictions (test rows x cols;
  /// empty when it gave none), its score (unset: the metric on these rows), and curves to store.
  /// Records the fold score at once and returns it; a fold given again replaces the earlier one.
  /// Thread-safe. Error(kInvalidArgument) for a fold outside folds.csv's, sizes that do not match,
  /// or a value that is not finite (naming the fold, row and column).
  double add_fold(int fold, std::span<const std::size_t> rows, std::span<const double> oof,
                  std::span<const double> test, std::optional<double> score = std::nullopt,
                  std::span<const MetricPoint> curves = {});

  /// Detection and segmentation runs (reference().images set): fold `fold`'s predictions for its
  /// validation images (`oof`, aligned on them: positions in the reference's train images, each
  /// of fold `fold`) and that fold model's predictions for every test image (`test`; no images =
  /// none). Scores the fold with the competition metric unless `score` is given, records it and
  /// returns it; a fold given again replaces the earlier one. Thread-safe.
  /// Error(kInvalidArgument) for a fold outside folds.csv's or an image of another fold.
  double add_image_fold(int fold, images::Predictions oof, images::Predictions test,
                        std::optional<double> score = std::nullopt, std::span<const MetricPoint> curves = {});

  /// Scores, writes every artifact and marks the run finished. Error(kInvalidArgument) when no
  /// fold was added. Image runs write oof_boxes.csv, test_boxes_folds.csv, test_boxes.csv (the
  /// folds' boxes fused with WBF) or oof_masks.csv, test_masks_folds.csv, test_masks.csv (the
  /// folds' per-pixel majority), and submission.csv in the sample submission's layout
  /// (docs/FORMATS.md).
  Summary finish(const FinishOptions& options = {});

  /// Marks the run failed, interrupted or pruned with `why` (kept with the run), writing run.log;
  /// never throws (the caller's error is the one to report).
  void stop(RunStatus status, const std::string& why) noexcept;

 private:
  const Workspace& ws_;
  Store& store_;
  Reference ref_;
  RunSpec spec_;
  Run rec_;
  std::filesystem::path dir_;
  std::chrono::steady_clock::time_point t0_;
  std::mutex mu_;
  std::vector<double> oof_;                     ///< ref rows x cols, NaN until given
  std::vector<std::uint8_t> has_oof_;           ///< per ref row
  std::map<int, std::vector<double>> test_;     ///< fold -> test rows x cols
  std::map<int, double> fold_scores_;
  std::map<int, images::Predictions> image_oof_, image_test_;  ///< image runs, by fold
  std::string log_;
  bool ended_ = false;

  /// finish's files for an image run; fills the summary's cv and file paths.
  void finish_images(const FinishOptions& opt, Summary& sum);
};

/// When the pooled OOF score and the mean of the fold scores differ by more than fold noise
/// explains (more than two standard errors of the fold mean, and more than 0.1% of it), a note
/// saying so: the folds' predictions then sit on different scales (each fold's model calibrated
/// otherwise), and the pooled score misleads as much as the fold mean flatters. nullopt when they
/// agree or with fewer than two folds.
std::optional<std::string> cv_divergence(double cv, const std::map<int, double>& fold_scores);

/// The Run record as JSON: the one shape of every `--json` that prints a run, the dashboard API
/// and the Python module (docs/FORMATS.md, "Run record"). `artifacts` fills the file fields
/// (oof, test, test_folds, submission; paths relative to the workspace), null when absent.
nlohmann::json run_json(const Run& run, std::span<const Artifact> artifacts = {});

}  // namespace compe::run
