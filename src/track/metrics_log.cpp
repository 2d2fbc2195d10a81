// The metric log of external trainers (COMPE_METRICS_FILE): JSON lines -> curve points.
#include <cmath>
#include <limits>
#include <map>
#include <utility>

#include "compe/error.hpp"
#include "compe/track.hpp"
#include "compe/util.hpp"

namespace compe::track {

namespace {

namespace fs = std::filesystem;

// Python's json.dumps writes NaN, Infinity and -Infinity, which JSON does not have. Outside
// strings they become marker strings (escaped control characters, which no trainer logs as a
// value), read back by value_of.
constexpr std::string_view kNanText = "\"\\u0001nan\"", kNanMark = "\x01nan";
constexpr std::string_view kInfText = "\"\\u0001inf\"", kInfMark = "\x01inf";
constexpr std::string_view kNegInfText = "\"\\u0001-inf\"", kNegInfMark = "\x01-inf";

std::string replace_non_finite(std::string_view line) {
  std::string out;
  out.reserve(line.size() + 8);
  bool in_string = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (in_string) {
      out += c;
      if (c == '\\' && i + 1 < line.size()) out += line[++i];
      else if (c == '"') in_string = false;
      continue;
    }
    std::string_view rest = line.substr(i);
    if (c == '"') {
      in_string = true;
      out += c;
    } else if (rest.starts_with("NaN")) {
      out += kNanText;
      i += 2;
    } else if (rest.starts_with("Infinity")) {
      out += kInfText;
      i += 7;
    } else if (rest.starts_with("-Infinity")) {
      out += kNegInfText;
      i += 8;
    } else {
      out += c;
    }
  }
  return out;
}

// The value of one curve key, or nullopt when it is not a number (nor null, nor a marker).
std::optional<double> value_of(const nlohmann::json& v) {
  if (v.is_null()) return std::numeric_limits<double>::quiet_NaN();
  if (v.is_number()) return v.get<double>();
  if (v.is_string()) {
    const auto& s = v.get_ref<const std::string&>();
    if (s == kNanMark) return std::numeric_limits<double>::quiet_NaN();
    if (s == kInfMark) return std::numeric_limits<double>::infinity();
    if (s == kNegInfMark) return -std::numeric_limits<double>::infinity();
  }
  return std::nullopt;
}

std::string shown_value(const nlohmann::json& v) {
  std::string s = v.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  return s.size() > 60 ? s.substr(0, 57) + "..." : s;
}

}  // namespace

std::string metrics_log_key(std::string_view key) {
  for (auto [prefix, to] : {std::pair<std::string_view, std::string_view>{"train_", "train-"},
                            {"valid_", "valid-"},
                            {"val_", "valid-"}}) {
    if (key.size() > prefix.size() && key.starts_with(prefix))
      return std::string(to) + std::string(key.substr(prefix.size()));
  }
  return std::string(key);
}

std::vector<MetricPoint> read_metrics_log(const fs::path& path, std::optional<int> fold) {
  std::error_code ec;
  if (!fs::exists(path, ec)) return {};
  const std::string text = read_file(path);
  const std::string shown = path.string();
  std::map<std::pair<std::string, std::int64_t>, double> values;
  std::int64_t next_step = 0;
  std::size_t line_no = 0;
  for (std::size_t begin = 0; begin < text.size();) {
    std::size_t end = text.find('\n', begin);
    const bool complete = end != std::string::npos;
    if (!complete) end = text.size();
    std::string_view line(text.data() + begin, end - begin);
    begin = end + 1;
    ++line_no;
    if (line.ends_with('\r')) line.remove_suffix(1);
    if (line.find_first_not_of(" \t") == std::string_view::npos) continue;

    nlohmann::json doc = nlohmann::json::parse(replace_non_finite(line), nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) {
      if (!complete) break;  // the half-written last line of a killed program
      fail(ErrorCode::kParse, "{}:{}: expected one JSON object per line, e.g. {{\"step\": 3, \"valid_auc\": 0.87}}, got '{}'",
           shown, line_no, line.size() > 80 ? std::string(line.substr(0, 77)) + "..." : std::string(line));
    }
    std::int64_t step = next_step;
    if (auto it = doc.find("step"); it != doc.end()) {
      const nlohmann::json& s = *it;
      double d = s.is_number() ? s.get<double>() : std::nan("");
      if (!(d >= 0) || d != std::floor(d) || d > 9.0e15)
        fail(ErrorCode::kParse, "{}:{}: step {}: expected an integer >= 0", shown, line_no, shown_value(s));
      step = static_cast<std::int64_t>(d);
    }
    next_step = step + 1;
    for (const auto& [key, v] : doc.items()) {
      if (key == "step") continue;
      if (key.empty()) fail(ErrorCode::kParse, "{}:{}: an empty key: expected a curve name", shown, line_no);
      std::optional<double> value = value_of(v);
      if (!value)
        fail(ErrorCode::kParse, "{}:{}: key '{}': {} is not a number (expected a number, null or NaN)", shown,
             line_no, key, shown_value(v));
      values[{metrics_log_key(key), step}] = *value;
    }
  }
  std::vector<MetricPoint> out;
  out.reserve(values.size());
  for (const auto& [k, v] : values) out.push_back({k.first, fold, k.second, v});
  return out;
}

}  // namespace compe::track
