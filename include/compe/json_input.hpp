#pragma once
/// JSON input (COCO files, meta.json sidecars, compe's own records, HTTP request bodies) with
/// messages that name the file, the JSON path and what was expected. Nothing here throws the JSON
/// library's own exceptions: every problem is a compe::Error(kParse).

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

namespace compe {

/// Parses `text` as one JSON document. Error(kParse) "<display>: not valid JSON at line L,
/// column C: <reason>" for a syntax error, trailing text or a number beyond a double's range; the
/// text near the error is quoted and cut (compe::quote), never echoed whole.
nlohmann::json parse_json(std::string_view text, std::string_view display);

/// read_file(path) then parse_json; messages name the path as given.
nlohmann::json read_json_file(const std::filesystem::path& path);

/// A value inside a parsed document and where it is, for typed reads. Each getter checks the
/// value's type (and range) and otherwise throws Error(kParse)
/// "<display>: <path>: expected <what>, got <what it is>" where <path> is a JSON pointer
/// ("/images/3/bbox/0"; the root has none). A JsonAt refers to the document it was made from,
/// which must outlive it.
class JsonAt {
 public:
  JsonAt(const nlohmann::json& value, std::string display, std::string pointer = "");

  const nlohmann::json& value() const { return *value_; }
  /// "file: /a/0", or "file" at the root.
  std::string where() const;
  const std::string& pointer() const { return pointer_; }

  /// Throws unless the value is an object / an array; returns *this.
  const JsonAt& object() const;
  const JsonAt& array() const;

  /// A member of an object; missing (or not an object) throws "no key 'k'; expected <what>".
  JsonAt at(std::string_view key, std::string_view what = "") const;
  /// A member of an object, or nullopt when absent or null.
  std::optional<JsonAt> find(std::string_view key) const;
  /// Elements of an array.
  std::size_t size() const;
  JsonAt at(std::size_t index) const;

  std::string string() const;
  /// A finite number.
  double number() const;
  /// A number or null (NaN): the form compe writes scores that could not be computed in.
  double number_or_null() const;
  /// An integer that fits in int64.
  std::int64_t integer() const;
  bool boolean() const;
  std::vector<std::string> strings() const;

  /// Optional members: nullopt when absent; a wrong type throws.
  std::optional<std::string> opt_string(std::string_view key) const;
  std::optional<double> opt_number(std::string_view key) const;
  std::optional<std::int64_t> opt_integer(std::string_view key) const;

  /// Throws "<where>: expected <what>, got <kind and a short excerpt>".
  [[noreturn]] void expected(std::string_view what) const;

 private:
  const nlohmann::json* value_;
  std::string display_;
  std::string pointer_;
};

/// "an object", "an array of 3", "a string 'abc'", "the number 1.5", "null", ... for messages.
std::string describe_json(const nlohmann::json& value);

}  // namespace compe
