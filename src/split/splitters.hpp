#pragma once
// Internal interface of the built-in splitters: one function per registry row, plus the input
// checks and encodings they share. assign() has already checked k >= 2, gap >= 0, input sizes and
// the presence of required inputs before calling a splitter.

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "compe/split.hpp"

namespace compe::split::detail {

using Warnings = std::vector<std::string>;
using SplitFn = std::vector<int> (*)(const Spec&, const Inputs&, Warnings&);

std::vector<int> kfold(const Spec& spec, const Inputs& in, Warnings& warnings);
std::vector<int> stratified_kfold(const Spec& spec, const Inputs& in, Warnings& warnings);
std::vector<int> group_kfold(const Spec& spec, const Inputs& in, Warnings& warnings);
std::vector<int> stratified_group_kfold(const Spec& spec, const Inputs& in, Warnings& warnings);
std::vector<int> timeseries(const Spec& spec, const Inputs& in, Warnings& warnings);
std::vector<int> multilabel_stratified_kfold(const Spec& spec, const Inputs& in,
                                             Warnings& warnings);
std::vector<int> multilabel_stratified_group_kfold(const Spec& spec, const Inputs& in,
                                                   Warnings& warnings);

/// The splitter function of a registry row (same order as builtin()).
SplitFn splitter_of(const Info& info);

/// Values 0..n_codes-1 for a column of keys, and how many rows hold each.
struct Codes {
  std::vector<int> code;
  std::vector<std::int64_t> count;
  std::size_t size() const { return count.size(); }
};

/// Group codes in increasing order of the group value (np.unique's order).
Codes encode_groups(std::span<const std::int64_t> groups);
/// Class codes of a class target in increasing order of the class value (np.unique's order).
/// Throws for NaN/inf or non-integer values.
Codes encode_classes_sorted(std::span<const double> y);
/// Class codes in order of first appearance (StratifiedKFold's encoding).
Codes encode_classes_first_seen(std::span<const double> y);
/// Quantile bins of a continuous target, in order of first appearance. Throws for NaN/inf.
Codes encode_quantile_bins(std::span<const double> y, int bins);

/// scikit-learn's checks on class counts: throws when every class has fewer than k members, adds
/// a warning when some class does. `what` names the classes in messages ("class", "bin").
void check_class_counts(const Codes& classes, int k, const char* what, Warnings& warnings);

/// Rows in time order: stable sort by `time` (ties keep row order), or row order when empty.
std::vector<std::size_t> time_order(const Inputs& in);

/// Timeseries block layout: validation blocks of `test_size` rows starting at `first_test`.
struct SeriesLayout {
  std::size_t test_size = 0;
  std::size_t first_test = 0;
};
SeriesLayout series_layout(const Spec& spec, std::size_t rows);
/// Training rows of timeseries fold `fold`, increasing row order.
std::vector<std::size_t> timeseries_train_rows(const Spec& spec, const Inputs& in, int fold);

}  // namespace compe::split::detail
