#pragma once
// Factories and parameter tables of the built-in backends (used by builtin_models.cpp only).

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

// The i-th prediction column count for a task.
inline std::size_t prediction_columns(const FoldData& data) {
  return data.target->prediction_columns();
}

}  // namespace compe::model
