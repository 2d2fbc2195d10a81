#pragma once
/// Column profiles: which columns of a train table are not useful features as they stand.
///
/// Used by `compe init` (notes), `compe audit` (findings) and model::FeatureMatrix::build (the
/// default baseline leaves id-like and free-text columns out and count-encodes high-cardinality
/// categoricals inside each training fold).
///
/// Rules (train rows only; thresholds in ProfileOptions):
///  - constant: at most one distinct non-missing value.
///  - id-like: an integer or text column with a different value on every row (no missing), or a
///    numeric column strictly increasing or decreasing with row order (at least min_rows rows).
///  - free text: a text column mostly distinct (distinct / non-missing >= free_text_distinct)
///    whose values are long (mean length >= free_text_length characters) or several words
///    (mean spaces >= 2). A free-text column is not also called id-like.
///  - high cardinality: a text column, not id-like nor free text, with at least
///    high_cardinality distinct levels.
///  - duplicate: a column with the same value as an earlier column on every row;
///    near-duplicate: two numeric columns with |Pearson r| >= near_duplicate_r (proportional or
///    affine copies).

#include <cstddef>
#include <span>
#include <string>
#include <vector>

#include "compe/table.hpp"

namespace compe {

struct ProfileOptions {
  std::size_t min_rows = 20;            ///< fewer train rows: no id-like / free-text calls
  std::size_t high_cardinality = 50;    ///< distinct levels of a text column
  double free_text_distinct = 0.5;
  double free_text_length = 20;
  double near_duplicate_r = 0.999;
  /// Pairwise checks (duplicate, near-duplicate) look at up to this many rows and columns.
  std::size_t pair_rows = 20000;
  std::size_t pair_columns = 500;
};

struct ColumnProfile {
  std::string name;
  DType type = DType::kFloat64;
  std::size_t rows = 0, missing = 0, distinct = 0;
  bool constant = false, id_like = false, free_text = false, high_cardinality = false;
  /// Why, in a few words ("a different value on every row", "strictly monotone with row order",
  /// "97% distinct, 27 characters on average" (free text), "412 levels", "one value: 3"); "" when
  /// none of the flags is set.
  std::string reason;
};

struct ColumnRelation {
  std::string column, other;  ///< `column` repeats the earlier column `other`
  bool exact = false;         ///< true: duplicate; false: near-duplicate
  double r = 1.0;             ///< Pearson r for near-duplicates
};

struct Profile {
  std::vector<ColumnProfile> columns;  ///< in table order, the skipped ones left out
  std::vector<ColumnRelation> relations;
  const ColumnProfile* find(std::string_view name) const;
};

/// Profiles every column of `train` except those named in `skip` (id, targets). `relations`:
/// also the pairwise duplicate / near-duplicate checks (quadratic in the columns).
Profile profile_columns(const Table& train, std::span<const std::string> skip, bool relations,
                        const ProfileOptions& options = {});

/// One line per flagged column or relation, e.g. "column 'name': free text (97% distinct, 27
/// characters on average): the default baseline leaves it out", "column 'x1_copy' duplicates 'x1'".
std::vector<std::string> profile_notes(const Profile& profile);

/// Profiles one column.
ColumnProfile profile_column(const Column& column, const ProfileOptions& options = {});

}  // namespace compe
