#pragma once
/// Leak audit of a workspace: problems in the data or the folds that make CV lie.
///
/// Checks: groups in more than one fold; exact duplicate feature rows across folds and between
/// train and test; time overlap between train and validation in time-series folds; features that
/// alone predict the target almost perfectly (single-feature AUC or R², out-of-fold target
/// encoding for categorical features); ids whose order predicts the target.

#include <string>
#include <vector>

#include "compe/folds.hpp"
#include "compe/table.hpp"
#include "compe/workspace.hpp"

namespace compe::audit {

enum class Severity { kOk, kWarning, kLeak };
std::string_view severity_name(Severity s);

struct Finding {
  std::string check;    ///< "group_overlap", "duplicates_across_folds", "train_test_duplicates",
                        ///< "time_overlap", "single_feature", "id_order"
  Severity severity = Severity::kOk;
  std::string subject;  ///< a column or "" for the whole data set
  double value = 0;     ///< the check's figure (count, AUC, R², ...)
  std::string detail;   ///< one line a person reads
};

struct Options {
  std::string group_column;           ///< "" = the folds config's
  double single_feature_threshold = 0.99;  ///< AUC (binary) or R² (regression) at or above: leak
  double id_order_z = 4.0;            ///< z-score of the id-order statistic above which: warning
};

struct Report {
  std::vector<Finding> findings;
  std::size_t rows_train = 0, rows_test = 0;
};

/// Runs every check. `folds` must be aligned with `train` (see read_folds).
Report run(const Table& train, const Table& test, const CompetitionConfig& config,
           const FoldAssignment& folds, const Options& options);

}  // namespace compe::audit
