#include "compe/error.hpp"

namespace compe {

std::string_view error_code_name(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument: return "invalid_argument";
    case ErrorCode::kNotFound: return "not_found";
    case ErrorCode::kParse: return "parse";
    case ErrorCode::kIo: return "io";
    case ErrorCode::kBackend: return "backend";
    case ErrorCode::kStorage: return "storage";
    case ErrorCode::kInternal: return "internal";
  }
  return "internal";
}

int exit_code_for(ErrorCode code) {
  switch (code) {
    case ErrorCode::kInvalidArgument:
    case ErrorCode::kNotFound:
    case ErrorCode::kParse: return 2;
    default: return 1;
  }
}

ErrorContext ErrorContext::merged(const ErrorContext& outer) const {
  ErrorContext c = *this;
  if (!c.file) c.file = outer.file;
  if (!c.line) c.line = outer.line;
  if (!c.column) c.column = outer.column;
  if (!c.image) c.image = outer.image;
  if (!c.image_id) c.image_id = outer.image_id;
  if (!c.fold) c.fold = outer.fold;
  return c;
}

void assertion_failed(const char* expr, const char* file, int line) {
  throw Error(ErrorCode::kInternal,
              fmt::format("internal error: assertion '{}' failed at {}:{}", expr, file, line));
}

}  // namespace compe

namespace compe {
namespace {

/// Length of the UTF-8 sequence starting at s[i] and its code point; 0 when not valid UTF-8.
std::size_t utf8_sequence(std::string_view s, std::size_t i, char32_t& cp) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  std::size_t len = b0 < 0x80 ? 1 : (b0 >> 5) == 0x6 ? 2 : (b0 >> 4) == 0xe ? 3 : (b0 >> 3) == 0x1e ? 4 : 0;
  if (len == 0 || i + len > s.size()) return 0;
  cp = len == 1 ? b0 : len == 2 ? (b0 & 0x1f) : len == 3 ? (b0 & 0x0f) : (b0 & 0x07);
  for (std::size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b >> 6) != 0x2) return 0;
    cp = (cp << 6) | (b & 0x3f);
  }
  static constexpr char32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < kMin[len] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return len;
}

/// Code points a terminal or a page would act on rather than show.
bool invisible_control(char32_t cp) {
  return (cp >= 0x80 && cp <= 0x9f) || cp == 0x200e || cp == 0x200f || (cp >= 0x2028 && cp <= 0x202e) ||
         (cp >= 0x2066 && cp <= 0x2069) || cp == 0xfeff;
}

/// Appends the shown form of the character at s[i]; returns the bytes it took. `keep_lines`
/// leaves line breaks and tabs as they are (a message's own layout).
std::size_t append_shown(std::string& out, std::string_view s, std::size_t i, bool keep_lines = false) {
  char32_t cp = 0;
  std::size_t len = utf8_sequence(s, i, cp);
  if (len == 0) {
    out += fmt::format("\\x{:02x}", static_cast<unsigned char>(s[i]));
    return 1;
  }
  if (len == 1) {
    const char c = s[i];
    if (keep_lines && (c == '\n' || c == '\t')) out += c;
    else if (c == '\n') out += "\\n";
    else if (c == '\r') out += "\\r";
    else if (c == '\t') out += "\\t";
    else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      out += fmt::format("\\x{:02x}", static_cast<unsigned char>(c));
    else out += c;
    return 1;
  }
  if (invisible_control(cp)) out += fmt::format("\\u{:04x}", static_cast<std::uint32_t>(cp));
  else out.append(s.substr(i, len));
  return len;
}

/// Characters in s[i..]: UTF-8 sequences count as one, stray bytes as one each.
std::size_t count_chars(std::string_view s, std::size_t i) {
  std::size_t n = 0;
  while (i < s.size()) {
    char32_t cp = 0;
    std::size_t len = utf8_sequence(s, i, cp);
    i += len == 0 ? 1 : len;
    ++n;
  }
  return n;
}

}  // namespace

std::string clip(std::string_view text, std::size_t max_chars) {
  std::string out;
  std::size_t i = 0, shown = 0;
  while (i < text.size() && shown < max_chars) {
    i += append_shown(out, text, i);
    ++shown;
  }
  if (i < text.size()) out += fmt::format("... ({} more characters)", count_chars(text, i));
  return out;
}

std::string quote(std::string_view text, std::size_t max_chars) {
  std::string out = "'";
  std::size_t i = 0, shown = 0;
  while (i < text.size() && shown < max_chars) {
    i += append_shown(out, text, i);
    ++shown;
  }
  if (i < text.size()) return out + fmt::format("...' ({} more characters)", count_chars(text, i));
  return out + "'";
}

std::string list_shown(std::span<const std::string> items, std::size_t max_items) {
  std::string out;
  for (std::size_t i = 0; i < items.size() && i < max_items; ++i) {
    if (i) out += ", ";
    out += clip(items[i], 40);
  }
  if (items.size() > max_items) out += fmt::format(" and {} more", items.size() - max_items);
  return out;
}

std::string escape_ascii_controls(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      out += fmt::format("\\u{:04x}", static_cast<unsigned char>(c));
    else
      out += c;
  }
  return out;
}

std::string escape_controls(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size();) i += append_shown(out, text, i, true);
  return out;
}

}  // namespace compe
