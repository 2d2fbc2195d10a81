#pragma once
// Typed access to a backend's JSON parameters, failing with the key and the expected type.

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "compe/error.hpp"

namespace compe::model {

inline double param_double(const nlohmann::json& p, std::string_view backend, const char* key,
                           double fallback) {
  auto it = p.find(key);
  if (it == p.end() || it->is_null()) return fallback;
  if (!it->is_number())
    fail(ErrorCode::kInvalidArgument, "{} parameter '{}': expected a number, got {}", backend, key,
         it->dump());
  return it->get<double>();
}

inline std::int64_t param_int(const nlohmann::json& p, std::string_view backend, const char* key,
                              std::int64_t fallback, std::int64_t min_value) {
  auto it = p.find(key);
  if (it == p.end() || it->is_null()) return fallback;
  bool integral = it->is_number_integer() ||
                  (it->is_number_float() && it->get<double>() == static_cast<double>(
                                                                     static_cast<std::int64_t>(it->get<double>())));
  if (!integral)
    fail(ErrorCode::kInvalidArgument, "{} parameter '{}': expected an integer, got {}", backend,
         key, it->dump());
  auto v = it->get<std::int64_t>();
  if (v < min_value)
    fail(ErrorCode::kInvalidArgument, "{} parameter '{}': expected an integer >= {}, got {}",
         backend, key, min_value, v);
  return v;
}

inline bool param_bool(const nlohmann::json& p, std::string_view backend, const char* key,
                       bool fallback) {
  auto it = p.find(key);
  if (it == p.end() || it->is_null()) return fallback;
  if (!it->is_boolean())
    fail(ErrorCode::kInvalidArgument, "{} parameter '{}': expected true or false, got {}", backend,
         key, it->dump());
  return it->get<bool>();
}

inline std::string param_string(const nlohmann::json& p, std::string_view backend,
                                const char* key, std::string fallback) {
  auto it = p.find(key);
  if (it == p.end() || it->is_null()) return fallback;
  if (!it->is_string())
    fail(ErrorCode::kInvalidArgument, "{} parameter '{}': expected a string, got {}", backend, key,
         it->dump());
  return it->get<std::string>();
}

}  // namespace compe::model
