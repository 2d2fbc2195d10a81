#pragma once
// Pseudo-labelling from runs (docs/PSEUDO.md): making a pseudo set from a run's per-fold test
// predictions, rounds of pseudo-labelled runs, and lineage warnings for runs combined. These read
// runs through the store and train runs, so they belong to src/run (pseudo.cpp); the selection,
// the set file and the [pseudo] table they use are compe/pseudo.hpp (src/pseudo, below run).
#include <cstddef>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "compe/pseudo.hpp"
#include "compe/store.hpp"
#include "compe/workspace.hpp"

namespace compe::pseudo {

/// For runs combined (blend members, final selections): one line per pair where member A was
/// pseudo-labelled from run S and another member B is S, descends from S through pseudo sources,
/// or is one of S's own pseudo sources: "A's training saw test labels predicted by B's models".
/// Ids that are not runs of the store (folders) are skipped.
std::vector<std::string> lineage_warnings(Store& store, const std::vector<std::string>& run_ids);

struct MakeOptions {
  Rule rule;
  /// Per-class thresholds by class label (resolved to Rule::class_threshold against the classes).
  std::vector<std::pair<std::string, double>> class_thresholds;
  Strategy strategy = Strategy::kConcat;
  double weight = 1.0;
  std::size_t pretrain_rounds = 100;
  std::size_t rounds = 1;
  std::size_t round = 1;
  /// The base experiment's TOML text ("" = the source run's recorded config).
  std::string base_experiment;
  std::string base_display;
  /// Where the set goes ("" = pseudo/<source run id>[-leaky].csv in the workspace).
  std::filesystem::path set_path;
  std::string store;  ///< store URL ("" = the workspace's)
};

struct Made {
  std::string source_run;
  std::filesystem::path set_path;
  std::string sha256;
  std::vector<std::size_t> rows_per_fold;  ///< distinct test rows per fold
  std::vector<std::size_t> entries_per_fold;  ///< set rows per fold (soft labels: one per class)
  bool selection_reads_other_folds = false;
  Config config;
  std::string experiment_toml;  ///< the experiment with its [pseudo] table
};

/// Reads the source run (id or unique prefix) through the store and its runs/<id>/test_folds.csv,
/// selects with the rule per fold, writes the set and returns the experiment text. Errors: a run
/// without test_folds.csv (saying how to get one), a blend whose members are not all fold-safe on
/// the run's folds, test ids not in the sample submission, and select()'s refusals.
Made make_set(const Workspace& ws, const MakeOptions& opt, const std::string& source_run);

/// One round of run_rounds: its set and the run trained on it.
struct RoundResult {
  Made made;
  std::string run_id;
  std::optional<double> cv;
};

/// `opt.rounds` rounds: round 1's source is `source_run`, each later round's source the previous
/// round's run. Writes each round's experiment beside `experiment_out` (`<stem>.round<n>.toml`,
/// the last round at `experiment_out` itself) and calls `on_round` after each run.
std::vector<RoundResult> run_rounds(const Workspace& ws, const MakeOptions& opt, const std::string& source_run,
                                    const std::filesystem::path& experiment_out,
                                    const std::function<void(const RoundResult&)>& on_round);

}  // namespace compe::pseudo
