#pragma once
/// Shake-up analysis and final selection: how much the private leaderboard may re-rank a set of
/// candidate submissions, how CV and the public LB agree over a run history, and the two finals
/// a policy declared in compe.toml picks.
///
/// The simulation scores every candidate on the same simulated public/private splits (paired):
///  - from OOF predictions (kResample): each simulation draws `test_rows` rows with replacement
///    from the OOF rows; the first round(public_fraction * test_rows) draws are public, the rest
///    private;
///  - from a local solution (kResplit): each simulation shuffles the real (non-Ignored) test rows
///    and takes the first round(public_fraction * rows) as public, the rest private.
/// Detection and segmentation competitions re-split *images* (every box or (image, class) mask
/// of an image goes to the same part) and score each part with the competition metric anew:
/// mAP is recomputed on the part's images; Dice and IoU per (image, class) are computed once and
/// each part is a weighted mean (dice_global: pooled sums) of them.
/// Metrics go through the registry (rows drawn several times carry their count as a weight where
/// the metric takes weights; they are repeated otherwise). Binary roc_auc sorts each candidate
/// once and scores every split by one pass over the sorted rows.
/// Results depend on the seed only, not on the thread count.
/// Functions are pure and never print; errors are compe::Error with context.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "compe/metric.hpp"
#include "compe/progress.hpp"
#include "compe/store.hpp"
#include "compe/workspace.hpp"

namespace compe::shake {

/// One candidate's predictions on the problem's rows.
struct Candidate {
  std::string name;   ///< run id or folder
  std::string label;  ///< the run's name, for people
  std::vector<double> pred;  ///< rows x pred_cols, row-major
  std::optional<double> actual_public, actual_private;  ///< kResplit: the real split's scores
};

enum class Mode { kResample, kResplit };
/// "oof" (kResample) or "solution" (kResplit).
std::string_view mode_name(Mode m);

/// Scores candidate `candidate` on one part of a simulated split, given each unit's count in it
/// (0 = not in the part, 2 = drawn twice): for metrics that are not a function of table rows,
/// such as detection mAP and segmentation Dice, whose units are images. Called from several
/// threads at once.
using PartScorer = std::function<double(std::size_t candidate, std::span<const std::uint32_t> count)>;

/// What is simulated: truth, candidates and the metric. y_true has rows() x true_cols values;
/// or, with a part_scorer, the units are `units` images and candidates carry no pred.
struct Problem {
  std::string metric;  ///< metric spec
  std::vector<double> y_true;
  std::size_t true_cols = 1;
  std::size_t pred_cols = 1;
  std::vector<Candidate> candidates;
  PartScorer part_scorer;  ///< set for detection and segmentation (units are images)
  std::size_t units = 0;   ///< with part_scorer: the number of images
  std::size_t rows() const {
    if (part_scorer) return units;
    return true_cols ? y_true.size() / true_cols : 0;
  }
};

struct Options {
  Mode mode = Mode::kResample;
  double public_fraction = 0.3;  ///< in (0, 1)
  std::size_t test_rows = 0;     ///< kResample: rows of a simulated test set (0 = rows())
  std::size_t simulations = 1000;
  std::uint64_t seed = 42;
  std::size_t threads = 0;  ///< 0 = all cores
  std::size_t bins = 20;    ///< histogram bins of public - private
  /// Optional: one task "simulating" over the simulations (advanced from one thread).
  Progress* progress = nullptr;
};

/// Mean, standard deviation and the 5/50/95% quantiles (linear interpolation) of a sample.
struct Stats {
  double mean = 0, sd = 0, p5 = 0, p50 = 0, p95 = 0;
};
Stats stats_of(std::vector<double> values);

struct CandidateResult {
  std::string name, label;
  Stats public_score, private_score;
  Stats gap;  ///< public - private
  /// Counts of public - private per bin of the Result's common edges (bins values).
  std::vector<std::size_t> gap_histogram;
  double mean_public_rank = 0, mean_private_rank = 0;  ///< 1 = best
  double mean_rank_change = 0;      ///< private rank - public rank (positive: falls)
  double mean_abs_rank_change = 0;
  /// Counts of private rank - public rank, index i = change i - (candidates - 1).
  std::vector<std::size_t> rank_change_histogram;
  double p_private_best = 0;  ///< share of simulations where it is #1 on private
  std::optional<double> actual_public, actual_private;
};

struct PairResult {
  std::size_t a = 0, b = 0;      ///< candidate indices
  double p_a_public = 0;         ///< P(A beats B on public)
  double p_a_private = 0;        ///< P(A beats B on private)
  /// P(A beats B on private | A beats B on public); absent when A never beats B on public.
  std::optional<double> p_private_given_public;
};

struct Result {
  std::string metric;
  metric::Direction direction = metric::Direction::kMaximize;
  Mode mode = Mode::kResample;
  std::size_t rows = 0;  ///< rows the splits are drawn from
  std::size_t public_rows = 0, private_rows = 0;  ///< per simulated split
  std::size_t simulations = 0;
  double public_fraction = 0;
  std::uint64_t seed = 0;
  std::vector<double> gap_edges;  ///< bins + 1 edges shared by every candidate's histogram
  std::vector<CandidateResult> candidates;
  std::vector<PairResult> pairs;  ///< every ordered pair a != b
  /// P(the public #1 is also the private #1), over simulations with a single public #1.
  double p_public_top_is_private_top = 0;
  double mean_abs_rank_change = 0;  ///< over candidates and simulations
  double seconds = 0;
};

/// Runs the simulation. Throws Error(kInvalidArgument) for a public fraction outside (0, 1), no
/// candidate, predictions whose size is not rows() x pred_cols, fewer than 2 rows on either side,
/// no simulation, or a metric that fails on a simulated split (naming the candidate, the side and
/// the metric's message, e.g. a public split with one class only).
Result simulate(const Problem& problem, const Options& options);

/// The result as one JSON document (the CLI's --json and the dashboard's /api/shake).
nlohmann::json to_json(const Result& result);

// ---- candidates from a workspace ----

struct LoadOptions {
  std::string store;  ///< store URL; "" = the workspace's
  /// Use the workspace's solution (kResplit, scoring each run's submission.csv) when it has one;
  /// false = always the OOF predictions.
  bool use_solution = true;
};

/// A problem and its mode from runs (ids or unique prefixes) or OOF folders of a workspace.
struct Loaded {
  Problem problem;
  Mode mode = Mode::kResample;
  std::size_t test_rows = 0;         ///< the workspace's test rows (a default for test_rows)
  std::optional<double> public_fraction;  ///< kResplit: the solution's Public share of scored rows
};

/// Runs must be finished. kResplit when use_solution and the workspace names a solution: each run's submission.csv is
/// validated and aligned with the solution as `compe score` does (different ids are refused with
/// Kaggle's phrasing), and its actual public/private scores recorded. Otherwise kResample on the
/// OOF predictions, validated against the workspace as blend members are (ids must match the
/// workspace's validated train rows; other folds are accepted). A candidate given twice is
/// refused. Errors name the run.
/// `store`: the store to resolve run ids in (nullptr = open options.store).
Loaded load_candidates(const Workspace& ws, const std::vector<std::string>& inputs,
                       const LoadOptions& options, Store* store = nullptr);

// ---- CV vs public LB over the run history ----

struct HistoryRow {
  std::string run_id, name, parent_id;
  double cv = 0;
  double public_score = 0;  ///< the latest public LB score of the run
  std::optional<double> private_score;
  /// Set when the run looks like public-LB overfitting: why (e.g. "public up 0.004 while CV down
  /// 0.002 against parent abcd1234").
  std::string overfit_reason;
};

struct History {
  std::string metric;
  metric::Direction direction = metric::Direction::kMaximize;
  std::vector<HistoryRow> rows;  ///< runs with a CV and an LB score, oldest LB score first
  std::optional<double> pearson, spearman;  ///< CV vs public; absent with fewer than 3 runs
  std::optional<double> pearson_private, spearman_private;  ///< CV vs private, when recorded
  std::string best_cv_run;
};

/// Runs with LB scores from the store. A run looks like public-LB overfitting when its public
/// score is better while its CV is worse than its parent's (when the parent has an LB score), or
/// than the best-CV run's. Runs of another metric than the workspace's are left out.
/// Throws Error(kInvalidArgument) when no run has an LB score.
History history(Store& store, const std::string& metric);
nlohmann::json to_json(const History& history);

// ---- final selection ----

/// The final-selection policy, compe.toml's [select] table:
///   first = "best_cv" | "best_public"
///   second = "best_public" | "best_cv" | "most_diverse" | "best_cv_other_model"
///   min_cv = 0.85        (optional: runs with a worse CV are not eligible)
///   tag = "final"        (optional: only runs carrying this tag)
struct Policy {
  std::string first = "best_cv";
  std::string second = "best_public";
  std::optional<double> min_cv;
  std::string tag;
  bool declared = false;  ///< false when compe.toml has no [select] table (defaults used)
};

/// The policy names, for messages and docs.
const std::vector<std::string>& policy_names();

/// Reads [select] from compe.toml text (`display` names the file). Unknown keys or names are
/// Error(kInvalidArgument) naming the key, the value and the allowed values.
Policy parse_policy(std::string_view toml_text, std::string_view display);

struct Final {
  std::string rule;  ///< the policy name that picked it
  Run run;
  std::optional<double> public_score, private_score;  ///< the latest LB scores
  std::string config_path;  ///< runs/<id>/config.json (relative to the workspace)
  std::string config_hash;  ///< hash of the recorded config
  std::string model;        ///< the config's model backend ("" when none)
};

struct Selection {
  Policy policy;
  std::vector<Final> finals;  ///< two (one when only one run is eligible)
  std::optional<double> oof_correlation;  ///< Pearson of the two finals' OOF predictions
  std::optional<Result> shake;            ///< the two finals' shake simulation
  std::size_t eligible = 0;               ///< runs considered
  std::vector<std::string> excluded;      ///< "run: why" for runs left out
};

struct SelectOptions {
  std::string store;
  std::size_t simulations = 1000;
  std::uint64_t seed = 42;
  std::size_t threads = 0;
};

/// Applies the workspace's policy to its finished runs. Eligible: a submission.csv artifact, the
/// workspace's folds hash, a CV (at least min_cv), the tag when the policy names one. Runs left
/// out are listed with the reason. Throws Error(kInvalidArgument) when no run is eligible, or when
/// a rule needs LB scores (best_public) and no eligible run has one.
Selection select_finals(const Workspace& ws, const SelectOptions& options);
nlohmann::json to_json(const Selection& selection);

}  // namespace compe::shake
