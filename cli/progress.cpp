#include "progress.hpp"

#include <algorithm>

#include <fmt/core.h>

namespace compe::cli {

TerminalProgress::TerminalProgress(std::FILE* out, bool enabled, std::chrono::milliseconds delay)
    : out_(out), enabled_(enabled), delay_(delay), started_(std::chrono::steady_clock::now()) {}

TerminalProgress::~TerminalProgress() {
  std::lock_guard<std::mutex> lock(mu_);
  clear_line();
}

void TerminalProgress::clear_line() {
  if (!drawn_) return;
  fmt::print(out_, "\r\033[K");
  std::fflush(out_);
  drawn_ = false;
}

void TerminalProgress::start(std::string_view label, std::size_t total) {
  if (!enabled_) return;
  std::lock_guard<std::mutex> lock(mu_);
  clear_line();
  label_ = label;
  total_ = total;
  started_ = std::chrono::steady_clock::now();
  last_ = {};
}

void TerminalProgress::advance(std::size_t done, std::string_view detail) {
  if (!enabled_) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (total_ == 0) return;
  const bool last = done >= total_;
  auto now = std::chrono::steady_clock::now();
  if (!last && (now - started_ < delay_ || now - last_ < std::chrono::milliseconds(100))) return;
  last_ = now;
  constexpr int kWidth = 30;
  const int filled = static_cast<int>(kWidth * std::min(1.0, static_cast<double>(done) / static_cast<double>(total_)));
  fmt::print(out_, "\r  {} [{}{}] {}/{}{}{}\033[K", label_, std::string(static_cast<std::size_t>(filled), '#'),
             std::string(static_cast<std::size_t>(kWidth - filled), '.'), done, total_, detail.empty() ? "" : " ",
             detail);
  std::fflush(out_);
  drawn_ = true;
}

void TerminalProgress::finish(std::string_view summary) {
  if (!enabled_) return;
  std::lock_guard<std::mutex> lock(mu_);
  if (summary.empty()) {
    clear_line();
  } else {
    fmt::print(out_, "\r  {} done: {}\033[K\n", label_, summary);
    std::fflush(out_);
    drawn_ = false;
  }
  label_.clear();
  total_ = 0;
}

void TerminalProgress::note(std::string_view line) {
  if (!enabled_) return;
  std::lock_guard<std::mutex> lock(mu_);
  clear_line();
  last_ = {};  // the task's bar, if any, is drawn again at the next step
  fmt::print(out_, "{}\n", line);
  std::fflush(out_);
}

}  // namespace compe::cli
