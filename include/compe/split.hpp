#pragma once
/// Cross-validation splitters and their registry.
///
/// A splitter assigns every training row to a validation fold (0..k-1), or -1 for rows that are
/// never validated (the first block of a time-series split). Which rows train fold f is given by
/// train_rows(): all other assigned rows for the k-fold families; for `timeseries`, the rows that
/// come before fold f's block in time order, less `gap` rows (and, with groups, less any group that
/// reaches into the validation block).
///
/// Built-in splitters (src/split/builtin_splitters.cpp; algorithms documented there and in
/// tests/golden/REFERENCES-splits.md):
///  - kfold: contiguous blocks of (shuffled) rows; the first rows % k folds get one extra row.
///    shuffle=false reproduces scikit-learn 1.2 KFold exactly.
///  - stratified_kfold: scikit-learn 1.2 StratifiedKFold's allocation (classes in order of first
///    appearance, round robin over the sorted target, each class's members take their folds in
///    blocks, the block labels shuffled per class when shuffle=true). shuffle=false is exact.
///    A continuous target (y_is_class=false) is first cut into `bins` quantile bins: rows sorted
///    by value (stably), sorted position p in bin floor(p * bins / rows), equal values all in the
///    bin of the first of them (so there may be fewer than `bins` bins).
///  - group_kfold: scikit-learn 1.2 GroupKFold (largest group to the lightest fold). shuffle=false
///    is exact (numpy's argsort tie order included); shuffle=true orders groups of equal size at
///    random, which keeps the same fold sizes.
///  - stratified_group_kfold: scikit-learn 1.2 StratifiedGroupKFold's greedy (groups by
///    decreasing std of their class counts, each to the fold that minimises the mean over classes
///    of the std over folds of the class share, ties to the smaller fold). shuffle=false is exact;
///    shuffle=true shuffles the groups together with their class counts before the stable sort
///    (scikit-learn 1.2 shuffles the counts apart from the group ids, which loses stratification).
///  - timeseries: scikit-learn TimeSeriesSplit with n_splits=k: k validation blocks of
///    rows / (k + 1) rows each at the end of the time order, earlier rows fold -1; rows ordered by
///    `time` (stable: ties keep row order) or row order. With groups, a group seen in fold f's
///    validation block is dropped from fold f's training rows.
///  - multilabel_stratified_kfold: iterative stratification (Sechidis, Tsoumakas, Vlahavas 2011),
///    as in the iterative-stratification package: take the label with the fewest positives among
///    unassigned rows; each such row goes to the fold that still wants the most positives of it,
///    ties to the fold that wants the most rows, then at random (shuffle=true) or lowest fold.
///  - multilabel_stratified_group_kfold: the same greedy with groups as the units (a group carries
///    its rows' label counts and row count; no group is split). The rarest remaining label is
///    taken; the unassigned groups holding it go, largest count of that label first, to the fold
///    with the largest remaining demand for that label (the group's rarest), ties to the fold with
///    the largest remaining demand for rows (the smallest), then at random or lowest fold. Groups
///    without any label go, largest first, to the fold wanting the most rows.
///
/// Randomness: one std::mt19937_64 seeded with Spec::seed, integers below n drawn by rejection and
/// shuffles by Fisher-Yates (src/split/rng.hpp), so results do not depend on the standard
/// library's distributions. The same spec and inputs give the same folds on every platform.
///
/// Thread safety: all functions are pure; they may be called concurrently.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace compe::split {

struct Spec {
  std::string strategy = "kfold";  ///< a registry name: kfold, stratified_kfold, group_kfold, ...
  int k = 5;
  bool shuffle = true;
  std::uint64_t seed = 42;
  int gap = 0;      ///< timeseries: rows dropped between train and validation blocks (>= 0)
  int bins = 10;    ///< stratified_kfold on a continuous target: quantile bins (>= 2)
};

/// Per-row data a splitter may need. Spans are views owned by the caller.
struct Inputs {
  std::size_t rows = 0;
  std::span<const double> y;            ///< target: class index, value, or n x y_cols 0/1 labels
  std::size_t y_cols = 1;               ///< > 1 for multilabel targets
  bool y_is_class = true;               ///< false: continuous target (binned for stratification)
  std::span<const std::int64_t> groups; ///< group code per row, or empty
  std::span<const double> time;         ///< ordering key per row, or empty (row order is time)
};

struct Info {
  std::string name;
  std::vector<std::string> aliases;
  std::string summary;
  bool needs_target = false;
  bool needs_groups = false;
  bool needs_time = false;
  bool multilabel = false;
  bool uses_groups = false;     ///< groups change the result when given (required or optional)
  bool uses_shuffle = false;    ///< Spec::shuffle / Spec::seed change the result
  bool validates_all = true;    ///< every row gets a fold >= 0 (false: timeseries' first block)
};

/// Every built-in splitter, in a stable order.
std::span<const Info> builtin();
/// The row for a name or alias; throws Error(kNotFound) listing known names and the closest match.
const Info& find(std::string_view name);

/// A fold assignment with the conditions a user should hear about that are not errors.
struct Assignment {
  std::vector<int> folds;             ///< one per row: 0..k-1, or -1 (never validated)
  std::vector<std::string> warnings;  ///< e.g. a class with fewer members than k
};

/// Assigns folds. Deterministic for a given spec and inputs. Throws Error(kInvalidArgument) for
/// k < 2, more folds than rows (or groups), when every class has fewer than k members (the
/// stratified splitters, as scikit-learn; when only some classes do, the split goes on with a
/// warning and those classes miss some folds), missing required inputs, input sizes that do not
/// match `rows`, NaN/inf targets or times, class targets that are not integers, multilabel
/// targets other than 0/1, a time series too short for k, gap, and (with groups) a fold whose
/// training rows are all purged. Throws Error(kNotFound) for an unknown strategy.
Assignment assign(const Spec& spec, const Inputs& in);

/// assign(spec, in).folds.
std::vector<int> assign_folds(const Spec& spec, const Inputs& in);

/// Rows that train fold `fold` given an assignment made by assign_folds with the same spec/inputs,
/// in increasing row order. Throws Error(kInvalidArgument) when folds.size() != in.rows or fold is
/// outside 0..k-1.
std::vector<std::size_t> train_rows(const Spec& spec, const Inputs& in, std::span<const int> folds,
                                    int fold);
/// Rows validated in fold `fold`, in increasing row order.
std::vector<std::size_t> valid_rows(std::span<const int> folds, int fold);

}  // namespace compe::split
