#pragma once
/// Errors: every user or input problem is a compe::Error with a code and context.
/// Bugs are asserted with COMPE_ASSERT, never triggered by input.

#include <fmt/format.h>

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

class Error : public std::runtime_error {
 public:
  Error(ErrorCode code, std::string message) : std::runtime_error(std::move(message)), code_(code) {}
  ErrorCode code() const noexcept { return code_; }

 private:
  ErrorCode code_;
};

/// Throws Error(code, fmt::format(fmt, args...)).
template <typename... Args>
[[noreturn]] void fail(ErrorCode code, fmt::format_string<Args...> f, Args&&... args) {
  throw Error(code, fmt::format(f, std::forward<Args>(args)...));
}

[[noreturn]] void assertion_failed(const char* expr, const char* file, int line);

}  // namespace compe

/// Asserts an invariant of compe's own code (never a property of user input).
#define COMPE_ASSERT(expr) \
  ((expr) ? static_cast<void>(0) : ::compe::assertion_failed(#expr, __FILE__, __LINE__))
