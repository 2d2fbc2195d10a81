#pragma once
/// Cross-validation splitters and their registry.
///
/// A splitter assigns every training row to a validation fold (0..k-1), or -1 for rows that are
/// never validated (the first block of a time-series split). Which rows train fold f is given by
/// train_rows(): all other assigned rows for the k-fold families; for `timeseries`, the rows that
/// come before fold f's block in time order, less `gap` rows (and, with groups, less any group that
/// reaches into the validation block).

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
  int gap = 0;      ///< timeseries: rows dropped between train and validation blocks
  int bins = 10;    ///< stratified_kfold on a continuous target: quantile bins
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
};

/// Every built-in splitter, in a stable order.
std::span<const Info> builtin();
/// The row for a name or alias; throws Error(kNotFound) listing known names and the closest match.
const Info& find(std::string_view name);

/// Assigns folds. Deterministic for a given spec and inputs. Throws Error(kInvalidArgument) for
/// k < 2, more folds than rows (or groups, or members of the rarest class where the reference
/// raises), missing required inputs, NaN targets or groups.
std::vector<int> assign_folds(const Spec& spec, const Inputs& in);

/// Rows that train fold `fold` given an assignment made by assign_folds with the same spec/inputs.
std::vector<std::size_t> train_rows(const Spec& spec, const Inputs& in, std::span<const int> folds,
                                    int fold);
/// Rows validated in fold `fold`.
std::vector<std::size_t> valid_rows(std::span<const int> folds, int fold);

}  // namespace compe::split
