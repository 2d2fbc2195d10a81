#pragma once
/// Errors: every user or input problem is a compe::Error with a code and context.
/// Bugs are asserted with COMPE_ASSERT, never triggered by input.

#include <fmt/format.h>

#include <cstddef>
#include <optional>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>

namespace compe {

enum class ErrorCode {
  kInvalidArgument,  ///< bad value, config or input content (CLI exit 2)
  kNotFound,         ///< missing file, column, run, metric name (CLI exit 2)
  kParse,            ///< malformed file: CSV, TOML, JSON (CLI exit 2)
  kIo,               ///< reading or writing failed for a reason other than content (exit 1)
  kBackend,          ///< a model backend (XGBoost) reported an error (exit 1)
  kStorage,          ///< the run store failed (exit 1)
  kInternal,         ///< a bug in compe (exit 1)
};

/// "invalid_argument", "not_found", ...
std::string_view error_code_name(ErrorCode code);

/// Exit status the CLI uses for an error of this code: 2 for bad input, 1 otherwise.
int exit_code_for(ErrorCode code);

/// Where an error happened, as data: a caller that needs the file, line, image or fold reads
/// these fields instead of parsing the message. Every field is optional; the message already
/// names whatever is set here (the context never changes the text).
struct ErrorContext {
  std::optional<std::string> file;     ///< the path as the user gave it
  std::optional<std::size_t> line;     ///< 1-based line in `file`
  std::optional<std::size_t> column;   ///< 1-based column in `line`
  std::optional<std::size_t> image;    ///< 0-based index of an image in a batch (detection)
  std::optional<std::string> image_id; ///< that image's id, when known
  std::optional<std::size_t> fold;     ///< 0-based fold of a cross-validation run

  /// Fields set here win; unset ones are taken from `outer` (a wrapper adding what it knows).
  ErrorContext merged(const ErrorContext& outer) const;
  bool empty() const {
    return !file && !line && !column && !image && !image_id && !fold;
  }
};

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, std::string message) : std::runtime_error(std::move(message)), code_(code) {}
  Error(ErrorCode code, std::string message, ErrorContext context)
      : std::runtime_error(std::move(message)), code_(code), context_(std::move(context)) {}
  ErrorCode code() const noexcept { return code_; }
  /// Structured context (empty when the thrower did not set any).
  const ErrorContext& context() const noexcept { return context_; }

 private:
  ErrorCode code_;
  ErrorContext context_;
};

/// Throws Error(code, fmt::format(fmt, args...)).
template <typename... Args>
[[noreturn]] void fail(ErrorCode code, fmt::format_string<Args...> f, Args&&... args) {
  throw Error(code, fmt::format(f, std::forward<Args>(args)...));
}

/// Throws Error(code, fmt::format(fmt, args...), context).
template <typename... Args>
[[noreturn]] void fail_at(ErrorContext context, ErrorCode code, fmt::format_string<Args...> f,
                          Args&&... args) {
  throw Error(code, fmt::format(f, std::forward<Args>(args)...), std::move(context));
}

[[noreturn]] void assertion_failed(const char* expr, const char* file, int line);

/// How much of a user's text a message shows (characters) before it is cut.
inline constexpr std::size_t kQuoteChars = 80;

/// User text (a cell, header, id, name, token) made safe to show in a message: control characters
/// as \n \t \x1b, bidirectional and C1 controls as \u202e, bytes that are not UTF-8 as \xff; at
/// most `max_chars` characters, then "... (N more characters)" with the count of what was cut.
std::string clip(std::string_view text, std::size_t max_chars = kQuoteChars);

/// clip(text) in single quotes: 'abc', or 'abc...' (N more characters) when cut.
std::string quote(std::string_view text, std::size_t max_chars = kQuoteChars);

/// Names (columns, ids) for a message: "a, b, c", each clipped to 40 characters, at most
/// `max_items` of them, then "and N more".
std::string list_shown(std::span<const std::string> items, std::size_t max_items = 20);

/// A whole message made safe for a terminal or a page: control characters (line breaks and tabs
/// excepted) and bytes that are not UTF-8 escaped as clip() does, nothing cut. Applied where errors leave compe (CLI, HTTP).
std::string escape_controls(std::string_view text);

/// Every ASCII control character (line breaks and tabs too) and DEL as \u00XX, the rest as it is:
/// a name quoted inside a one-line message (a study name, a URL path segment) stays whole and
/// readable.
std::string escape_ascii_controls(std::string_view text);

}  // namespace compe

/// Asserts an invariant of compe's own code (never a property of user input).
#define COMPE_ASSERT(expr) \
  ((expr) ? static_cast<void>(0) : ::compe::assertion_failed(#expr, __FILE__, __LINE__))
