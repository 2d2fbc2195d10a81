#include <cmath>

#include "compe/error.hpp"
#include "split/splitters.hpp"

namespace compe::split {

namespace {

void check_inputs(const Spec& spec, const Info& info, const Inputs& in) {
  if (spec.k < 2)
    fail(ErrorCode::kInvalidArgument, "{}: k={} is too small: cross-validation needs k >= 2",
         info.name, spec.k);
  if (static_cast<std::size_t>(spec.k) > in.rows)
    fail(ErrorCode::kInvalidArgument, "{}: k={} is greater than the number of rows ({})",
         info.name, spec.k, in.rows);
  if (spec.gap < 0)
    fail(ErrorCode::kInvalidArgument, "{}: gap={} is negative: expected gap >= 0", info.name,
         spec.gap);
  if (info.needs_target) {
    if (in.y.empty())
      fail(ErrorCode::kInvalidArgument, "{} needs a target: none was given", info.name);
    if (in.y_cols == 0)
      fail(ErrorCode::kInvalidArgument, "{}: y_cols is 0: expected at least one target column",
           info.name);
    if (!info.multilabel && in.y_cols != 1)
      fail(ErrorCode::kInvalidArgument,
           "{} takes one target column, got {}: use multilabel_stratified_kfold for a label matrix",
           info.name, in.y_cols);
    if (in.y.size() != in.rows * in.y_cols)
      fail(ErrorCode::kInvalidArgument,
           "{}: the target has {} values, expected rows x columns = {} x {} = {}", info.name,
           in.y.size(), in.rows, in.y_cols, in.rows * in.y_cols);
    if (!in.y_is_class && info.name != "stratified_kfold")
      fail(ErrorCode::kInvalidArgument,
           "{} needs class labels: a continuous target (y_is_class=false) is only binned by "
           "stratified_kfold",
           info.name);
    if (!in.y_is_class && spec.bins < 2)
      fail(ErrorCode::kInvalidArgument, "{}: bins={} is too small: expected bins >= 2", info.name,
           spec.bins);
  }
  if (info.needs_groups && in.groups.empty())
    fail(ErrorCode::kInvalidArgument,
         "{} needs groups: none were given; name the group column with --group COLUMN (compe "
         "folds) or group = \"COLUMN\" under [folds] in compe.toml",
         info.name);
  if (info.needs_time && in.time.empty())
    fail(ErrorCode::kInvalidArgument,
         "{} needs a time column: none was given; name it with --time COLUMN (compe folds) or "
         "time = \"COLUMN\" under [folds] in compe.toml",
         info.name);
  if (!in.groups.empty() && in.groups.size() != in.rows)
    fail(ErrorCode::kInvalidArgument, "{}: {} group values for {} rows", info.name,
         in.groups.size(), in.rows);
  if (!in.time.empty() && in.time.size() != in.rows)
    fail(ErrorCode::kInvalidArgument, "{}: {} time values for {} rows", info.name, in.time.size(),
         in.rows);
}

void check_fold_arg(const Spec& spec, const Inputs& in, std::span<const int> folds, int fold) {
  if (folds.size() != in.rows)
    fail(ErrorCode::kInvalidArgument, "{} fold values for {} rows", folds.size(), in.rows);
  if (fold < 0 || fold >= spec.k)
    fail(ErrorCode::kInvalidArgument, "fold {} is out of range: expected 0..{}", fold, spec.k - 1);
}

}  // namespace

Assignment assign(const Spec& spec, const Inputs& in) {
  const Info& info = find(spec.strategy);
  check_inputs(spec, info, in);
  Assignment out;
  out.folds = detail::splitter_of(info)(spec, in, out.warnings);
  COMPE_ASSERT(out.folds.size() == in.rows);
  return out;
}

std::vector<int> assign_folds(const Spec& spec, const Inputs& in) { return assign(spec, in).folds; }

std::vector<std::size_t> train_rows(const Spec& spec, const Inputs& in, std::span<const int> folds,
                                    int fold) {
  check_fold_arg(spec, in, folds, fold);
  if (find(spec.strategy).name == "timeseries") return detail::timeseries_train_rows(spec, in, fold);
  std::vector<std::size_t> rows;
  for (std::size_t r = 0; r < folds.size(); ++r) {
    if (folds[r] >= 0 && folds[r] != fold) rows.push_back(r);
  }
  return rows;
}

std::vector<std::size_t> valid_rows(std::span<const int> folds, int fold) {
  std::vector<std::size_t> rows;
  for (std::size_t r = 0; r < folds.size(); ++r) {
    if (folds[r] == fold) rows.push_back(r);
  }
  return rows;
}

}  // namespace compe::split
