#include "compe/json_input.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

#include "compe/error.hpp"
#include "compe/util.hpp"

namespace compe {
using nlohmann::json;

namespace {

/// A SAX consumer that keeps nothing and records where and why parsing stopped: the JSON
/// library's exceptions carry no position for numbers out of range, and a prefix we do not show.
struct FailureSax : nlohmann::json_sax<json> {
  bool failed = false;
  std::size_t position = 0;
  std::string token, what;
  int id = 0;

  bool null() override { return true; }
  bool boolean(bool) override { return true; }
  bool number_integer(number_integer_t) override { return true; }
  bool number_unsigned(number_unsigned_t) override { return true; }
  bool number_float(number_float_t, const string_t&) override { return true; }
  bool string(string_t&) override { return true; }
  bool binary(binary_t&) override { return true; }
  bool start_object(std::size_t) override { return true; }
  bool key(string_t&) override { return true; }
  bool end_object() override { return true; }
  bool start_array(std::size_t) override { return true; }
  bool end_array() override { return true; }
  bool parse_error(std::size_t pos, const std::string& last_token,
                   const nlohmann::detail::exception& ex) override {
    failed = true;
    position = pos;
    token = last_token;
    what = ex.what();
    id = ex.id;
    return false;
  }
};

/// The library's reason without its "[json.exception...]" and "parse error at ..." prefixes and
/// without the raw text it quotes.
std::string reason_of(const FailureSax& sax) {
  if (sax.id == 406) return "number out of the range of a double";
  std::string r = sax.what;
  if (auto p = r.find("] "); r.starts_with("[json.exception") && p != std::string::npos) r = r.substr(p + 2);
  if (r.starts_with("parse error")) {
    if (auto p = r.find(": "); p != std::string::npos) r = r.substr(p + 2);
  }
  if (auto p = r.find("; last read:"); p != std::string::npos) r.resize(p);
  return r;
}

const char* kind_name(const json& v) {
  switch (v.type()) {
    case json::value_t::object: return "an object";
    case json::value_t::array: return "an array";
    case json::value_t::string: return "a string";
    case json::value_t::boolean: return "a boolean";
    case json::value_t::null: return "null";
    case json::value_t::number_float: return "a number";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned: return "an integer";
    default: return "a value";
  }
}

/// A key as a JSON pointer token: '~' as "~0", '/' as "~1", cut for messages.
std::string pointer_token(std::string_view key) {
  std::string out;
  for (char c : key) {
    if (c == '~') out += "~0";
    else if (c == '/') out += "~1";
    else out += c;
  }
  return clip(out, 40);
}

}  // namespace

json parse_json(std::string_view text, std::string_view display) {
  json doc = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (!doc.is_discarded()) return doc;
  FailureSax sax;
  json::sax_parse(text.begin(), text.end(), &sax);
  if (!sax.failed) fail(ErrorCode::kParse, "{}: not valid JSON", display);
  const std::size_t pos = std::min(sax.position, text.size());
  std::size_t line = 1, line_start = 0;
  for (std::size_t i = 0; i < pos; ++i)
    if (text[i] == '\n') {
      ++line;
      line_start = i + 1;
    }
  std::string near = sax.token.empty() ? std::string() : ", near " + quote(sax.token, 40);
  fail(ErrorCode::kParse, "{}: not valid JSON at line {}, column {}: {}{}", display, line,
       pos - line_start + (pos > line_start ? 0 : 1), reason_of(sax), near);
}

json read_json_file(const std::filesystem::path& path) {
  return parse_json(read_file(path), path.string());
}

std::string describe_json(const json& v) {
  switch (v.type()) {
    case json::value_t::string: return "a string " + quote(v.get_ref<const std::string&>(), 40);
    case json::value_t::array: return fmt::format("an array of {}", v.size());
    case json::value_t::object: return "an object";
    case json::value_t::boolean: return v.get<bool>() ? "true" : "false";
    case json::value_t::null: return "null";
    default: break;
  }
  if (v.is_number()) return fmt::format("the number {}", clip(v.dump(), 40));
  return kind_name(v);
}

JsonAt::JsonAt(const json& value, std::string display, std::string pointer)
    : value_(&value), display_(std::move(display)), pointer_(std::move(pointer)) {}

std::string JsonAt::where() const {
  return pointer_.empty() ? display_ : fmt::format("{}: {}", display_, pointer_);
}

void JsonAt::expected(std::string_view what) const {
  fail(ErrorCode::kParse, "{}: expected {}, got {}", where(), what, describe_json(*value_));
}

const JsonAt& JsonAt::object() const {
  if (!value_->is_object()) expected("an object");
  return *this;
}

const JsonAt& JsonAt::array() const {
  if (!value_->is_array()) expected("an array");
  return *this;
}

JsonAt JsonAt::at(std::string_view key, std::string_view what) const {
  object();
  auto it = value_->find(key);
  if (it == value_->end())
    fail(ErrorCode::kParse, "{}: no key '{}'{}", where(), clip(key, 40),
         what.empty() ? std::string() : fmt::format("; expected {}", what));
  return JsonAt(*it, display_, pointer_ + "/" + pointer_token(key));
}

std::optional<JsonAt> JsonAt::find(std::string_view key) const {
  object();
  auto it = value_->find(key);
  if (it == value_->end() || it->is_null()) return std::nullopt;
  return JsonAt(*it, display_, pointer_ + "/" + pointer_token(key));
}

std::size_t JsonAt::size() const { return array().value_->size(); }

JsonAt JsonAt::at(std::size_t index) const {
  array();
  if (index >= value_->size())
    fail(ErrorCode::kParse, "{}: expected at least {} element(s), got {}", where(), index + 1,
         value_->size());
  return JsonAt((*value_)[index], display_, fmt::format("{}/{}", pointer_, index));
}

std::string JsonAt::string() const {
  if (!value_->is_string()) expected("a string");
  return value_->get<std::string>();
}

double JsonAt::number() const {
  if (!value_->is_number()) expected("a number");
  double v = value_->get<double>();
  if (!std::isfinite(v)) expected("a finite number");
  return v;
}

double JsonAt::number_or_null() const {
  if (value_->is_null()) return std::numeric_limits<double>::quiet_NaN();
  if (!value_->is_number()) expected("a number or null");
  return value_->get<double>();
}

std::int64_t JsonAt::integer() const {
  if (value_->is_number_unsigned()) {
    if (value_->get<std::uint64_t>() > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()))
      expected("an integer below 2^63");
    return static_cast<std::int64_t>(value_->get<std::uint64_t>());
  }
  if (value_->is_number_integer()) return value_->get<std::int64_t>();
  expected("an integer");
}

bool JsonAt::boolean() const {
  if (!value_->is_boolean()) expected("true or false");
  return value_->get<bool>();
}

std::vector<std::string> JsonAt::strings() const {
  if (!value_->is_array()) expected("an array of strings");
  std::vector<std::string> out;
  for (std::size_t i = 0; i < value_->size(); ++i) out.push_back(at(i).string());
  return out;
}

std::optional<std::string> JsonAt::opt_string(std::string_view key) const {
  auto v = find(key);
  return v ? std::optional(v->string()) : std::nullopt;
}

std::optional<double> JsonAt::opt_number(std::string_view key) const {
  auto v = find(key);
  return v ? std::optional(v->number()) : std::nullopt;
}

std::optional<std::int64_t> JsonAt::opt_integer(std::string_view key) const {
  auto v = find(key);
  return v ? std::optional(v->integer()) : std::nullopt;
}

}  // namespace compe
