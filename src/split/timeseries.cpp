// Expanding-window time-series split (scikit-learn TimeSeriesSplit with n_splits=k, default
// test_size), with an optional purge of groups that reach into the validation block.

#include <algorithm>
#include <cmath>
#include <unordered_set>

#include "compe/error.hpp"
#include "split/splitters.hpp"

namespace compe::split::detail {

SeriesLayout series_layout(const Spec& spec, std::size_t rows) {
  const auto k = static_cast<std::size_t>(spec.k);
  const auto gap = static_cast<std::size_t>(spec.gap);
  if (k + 1 > rows)
    fail(ErrorCode::kInvalidArgument,
         "timeseries with k={} needs at least k + 1 = {} rows, got {}", spec.k, k + 1, rows);
  SeriesLayout layout;
  layout.test_size = rows / (k + 1);
  if (rows <= gap + layout.test_size * k)
    fail(ErrorCode::kInvalidArgument,
         "timeseries: k={} validation blocks of {} rows and gap={} leave no training rows out of {}: "
         "use a smaller k or gap",
         spec.k, layout.test_size, spec.gap, rows);
  layout.first_test = rows - layout.test_size * k;
  return layout;
}

std::vector<int> timeseries(const Spec& spec, const Inputs& in, Warnings&) {
  for (std::size_t r = 0; r < in.time.size(); ++r) {
    if (std::isnan(in.time[r]))
      fail(ErrorCode::kInvalidArgument, "time at row {} is NaN: expected an ordering key", r);
  }
  const SeriesLayout layout = series_layout(spec, in.rows);
  const std::vector<std::size_t> order = time_order(in);
  std::vector<int> folds(in.rows, -1);
  for (std::size_t p = layout.first_test; p < in.rows; ++p)
    folds[order[p]] = static_cast<int>((p - layout.first_test) / layout.test_size);
  if (!in.groups.empty()) {
    for (int f = 0; f < spec.k; ++f) {
      if (timeseries_train_rows(spec, in, f).empty())
        fail(ErrorCode::kInvalidArgument,
             "timeseries fold {}: every group before the validation block also appears in it, so "
             "purging leaves no training rows (groups span too much time for k={})",
             f, spec.k);
    }
  }
  return folds;
}

std::vector<std::size_t> timeseries_train_rows(const Spec& spec, const Inputs& in, int fold) {
  const SeriesLayout layout = series_layout(spec, in.rows);
  const std::vector<std::size_t> order = time_order(in);
  const std::size_t test_start = layout.first_test + static_cast<std::size_t>(fold) * layout.test_size;
  const std::size_t train_end = test_start - static_cast<std::size_t>(spec.gap);
  std::vector<std::size_t> rows;
  if (in.groups.empty()) {
    rows.assign(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(train_end));
  } else {
    std::unordered_set<std::int64_t> in_valid;
    for (std::size_t p = test_start; p < test_start + layout.test_size; ++p) in_valid.insert(in.groups[order[p]]);
    for (std::size_t p = 0; p < train_end; ++p) {
      if (!in_valid.contains(in.groups[order[p]])) rows.push_back(order[p]);
    }
  }
  std::sort(rows.begin(), rows.end());
  return rows;
}

}  // namespace compe::split::detail
