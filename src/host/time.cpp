// Deadlines and UTC days.
#include <chrono>
#include <cctype>
#include <ctime>

#include "compe/host.hpp"

namespace compe::host {
namespace {

[[noreturn]] void bad_time(std::string_view text, std::string_view why) {
  fail(ErrorCode::kInvalidArgument,
       "time '{}': {}; expected ISO 8601 such as 2026-12-31, 2026-12-31T23:59:00Z or "
       "2026-12-31T23:59:00+01:00",
       text, why);
}

/// Reads exactly `n` digits at `pos`.
int digits(std::string_view text, std::size_t& pos, std::size_t n) {
  if (pos + n > text.size()) bad_time(text, "too short");
  int v = 0;
  for (std::size_t i = 0; i < n; ++i) {
    char c = text[pos + i];
    if (!std::isdigit(static_cast<unsigned char>(c))) bad_time(text, "a digit was expected");
    v = v * 10 + (c - '0');
  }
  pos += n;
  return v;
}

void expect(std::string_view text, std::size_t& pos, char c) {
  if (pos >= text.size() || text[pos] != c) bad_time(text, fmt::format("'{}' was expected", c));
  ++pos;
}

}  // namespace

std::int64_t parse_iso8601(std::string_view text) {
  std::size_t pos = 0;
  int year = digits(text, pos, 4);
  expect(text, pos, '-');
  int month = digits(text, pos, 2);
  expect(text, pos, '-');
  int day = digits(text, pos, 2);
  int hour = 0, minute = 0, second = 0, millis = 0, offset_min = 0;
  if (pos < text.size()) {
    if (text[pos] != 'T' && text[pos] != 't' && text[pos] != ' ') bad_time(text, "'T' was expected");
    ++pos;
    hour = digits(text, pos, 2);
    expect(text, pos, ':');
    minute = digits(text, pos, 2);
    if (pos < text.size() && text[pos] == ':') {
      ++pos;
      second = digits(text, pos, 2);
      if (pos < text.size() && text[pos] == '.') {
        ++pos;
        std::size_t start = pos;
        int scale = 100;
        while (pos < text.size() && std::isdigit(static_cast<unsigned char>(text[pos]))) {
          millis += (text[pos] - '0') * scale;
          scale /= 10;
          ++pos;
        }
        if (pos == start) bad_time(text, "digits were expected after '.'");
      }
    }
    if (pos >= text.size()) bad_time(text, "a zone (Z or +HH:MM) is required after the time");
    char z = text[pos++];
    if (z == 'Z' || z == 'z') {
      offset_min = 0;
    } else if (z == '+' || z == '-') {
      int oh = digits(text, pos, 2);
      if (pos < text.size() && text[pos] == ':') ++pos;
      int om = digits(text, pos, 2);
      if (oh > 23 || om > 59) bad_time(text, "the zone offset is out of range");
      offset_min = (z == '+' ? 1 : -1) * (oh * 60 + om);
    } else {
      bad_time(text, "a zone (Z or +HH:MM) was expected");
    }
    if (pos != text.size()) bad_time(text, "unexpected text at the end");
  }
  static constexpr int kDays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
  if (month < 1 || month > 12) bad_time(text, "the month is out of range");
  if (day < 1 || day > kDays[month - 1] || (month == 2 && !leap && day > 28))
    bad_time(text, "the day is out of range");
  if (hour > 23 || minute > 59 || second > 59) bad_time(text, "the time of day is out of range");
  std::tm tm{};
  tm.tm_year = year - 1900;
  tm.tm_mon = month - 1;
  tm.tm_mday = day;
  tm.tm_hour = hour;
  tm.tm_min = minute;
  tm.tm_sec = second;
  std::int64_t secs = static_cast<std::int64_t>(::timegm(&tm));
  return (secs - std::int64_t{offset_min} * 60) * 1000 + millis;
}

std::int64_t utc_day_start(std::int64_t unix_ms) {
  constexpr std::int64_t kDay = 86400000;
  std::int64_t d = unix_ms / kDay;
  if (unix_ms % kDay < 0) --d;
  return d * kDay;
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace compe::host
