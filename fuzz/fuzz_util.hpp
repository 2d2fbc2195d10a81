#pragma once
// Shared by the libFuzzer targets: inputs as files, one scratch folder per process, and the rule
// that input errors are compe::Error (anything else escapes and the fuzzer reports it).
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "compe/error.hpp"
#include "compe/util.hpp"

namespace compe::fuzz {

/// A scratch folder for this process (removed by the fuzz script, not per input).
inline const std::filesystem::path& scratch() {
  static const std::filesystem::path dir = [] {
    auto d = std::filesystem::temp_directory_path() / ("compe-fuzz-" + std::to_string(::getpid()));
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir;
}

/// Writes `data` to scratch()/name and returns the path.
inline std::filesystem::path as_file(std::string_view name, std::string_view data) {
  auto p = scratch() / std::string(name);
  write_file_atomic(p, data);
  return p;
}

/// The input split at each "\n@@\n" (several files in one input).
inline std::vector<std::string_view> parts(std::string_view data) {
  std::vector<std::string_view> out;
  for (;;) {
    auto at = data.find("\n@@\n");
    if (at == std::string_view::npos) break;
    out.push_back(data.substr(0, at));
    data.remove_prefix(at + 4);
  }
  out.push_back(data);
  return out;
}

/// Runs f; compe::Error is the expected answer to bad input, and its message must be bounded
/// and free of control characters other than line breaks (messages quote input through
/// compe::quote). Anything else propagates to the fuzzer as a finding.
template <typename F>
void expect_clean(F&& f) {
  try {
    f();
  } catch (const Error& e) {
    std::string_view m = e.what();
    for (std::size_t i = 0; i < m.size(); ++i) {
      auto c = static_cast<unsigned char>(m[i]);
      if (c == 0x1b) __builtin_trap();  // a terminal escape reached a message unescaped
    }
    if (m.size() > 64 * 1024) __builtin_trap();  // unbounded echo of input
  }
}

}  // namespace compe::fuzz
