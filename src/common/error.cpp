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

void assertion_failed(const char* expr, const char* file, int line) {
  throw Error(ErrorCode::kInternal,
              fmt::format("internal error: assertion '{}' failed at {}:{}", expr, file, line));
}

}  // namespace compe
