#pragma once
// Factories and parameter tables of the built-in backends (used by builtin_models.cpp only).

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "compe/model.hpp"

namespace compe::model {

std::unique_ptr<Model> make_xgboost(const Info& info);
nlohmann::json xgboost_default_params();
std::vector<std::string> xgboost_known_params();
std::vector<std::string> xgboost_passthrough_params();
std::vector<std::pair<std::string, std::string>> xgboost_param_aliases();
std::string xgboost_library_version();
std::vector<ParamSpec> xgboost_param_specs();

std::unique_ptr<Model> make_linear(const Info& info);
nlohmann::json linear_default_params();
std::vector<std::string> linear_known_params();
std::vector<ParamSpec> linear_param_specs();

std::unique_ptr<Model> make_command(const Info& info);
nlohmann::json command_default_params();
std::vector<std::string> command_known_params();
std::vector<ParamSpec> command_param_specs();

}  // namespace compe::model

namespace compe::model {

// Checks the parts of a FoldData every backend relies on (non-null matrix and target, row
// indices in range, weights sized); a violation is a caller bug, so it is asserted.
void check_fold_data(const FoldData& data);

// Multilabel training as k binary problems (scikit-learn's MultiOutputClassifier): calls
// `fit_label` once per label column with a FoldData whose target is that column as a binary
// target (Target::label), whose metric is the binary counterpart of the multilabel one (roc_auc
// for multilabel_auc, else log_loss) and whose threads are the fold's divided between the labels
// trained at once (all labels at once when the threads allow). Progress messages name the label.
// Returns the labels' predictions side by side (k columns), the importances summed, the curves
// and notes prefixed with the label's column, the largest iteration counts. The first error of
// any label is rethrown (a cancelling progress callback stops the others as they report).
using LabelFit = std::function<FoldResult(const FoldData& data, const ProgressCallback& progress, std::size_t label)>;
FoldResult fit_per_label(const FoldData& data, const ProgressCallback& progress, const LabelFit& fit_label);

// The i-th prediction column count for a task.
inline std::size_t prediction_columns(const FoldData& data) {
  return data.target->prediction_columns();
}

}  // namespace compe::model
