#pragma once
// The CLI's one progress renderer: a bar on a terminal, nothing otherwise.
#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>
#include <string_view>

#include "compe/progress.hpp"

namespace compe::cli {

/// Renders compe::Progress on `out` when `enabled` (callers pass whether the stream is a terminal
/// and no --json was asked for): notes as lines, a task as one redrawn line
/// "  <label> [####......] done/total detail", ended by "  <label> done: <summary>" or, with no
/// summary, cleared. Redraws at most every 100 ms (and not before `delay` has passed since the
/// task started) except the last step; a line left drawn is cleared when the renderer goes.
class TerminalProgress : public Progress {
 public:
  TerminalProgress(std::FILE* out, bool enabled,
                   std::chrono::milliseconds delay = std::chrono::milliseconds(0));
  ~TerminalProgress() override;
  TerminalProgress(const TerminalProgress&) = delete;
  TerminalProgress& operator=(const TerminalProgress&) = delete;

  void start(std::string_view label, std::size_t total) override;
  void advance(std::size_t done, std::string_view detail = {}) override;
  void finish(std::string_view summary = {}) override;
  void note(std::string_view line) override;

 private:
  void clear_line();

  std::FILE* out_;
  bool enabled_;
  std::chrono::milliseconds delay_;
  std::mutex mu_;
  std::string label_;
  std::size_t total_ = 0;
  bool drawn_ = false;
  std::chrono::steady_clock::time_point started_, last_{};
};

}  // namespace compe::cli
