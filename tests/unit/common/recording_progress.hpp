#pragma once
// A compe::Progress that records its calls as lines ("start fold 0/10", "advance 3 auc:0.9", ...).
#include <mutex>
#include <string>
#include <vector>

#include <fmt/core.h>

#include "compe/progress.hpp"

namespace compe::testing {

class RecordingProgress : public Progress {
 public:
  void start(std::string_view label, std::size_t total) override { add(fmt::format("start {}/{}", label, total)); }
  void advance(std::size_t done, std::string_view detail) override {
    add(detail.empty() ? fmt::format("advance {}", done) : fmt::format("advance {} {}", done, detail));
  }
  void finish(std::string_view summary) override { add(fmt::format("finish {}", summary)); }
  void note(std::string_view line) override { add(fmt::format("note {}", line)); }

  std::vector<std::string> calls() const {
    std::lock_guard<std::mutex> lock(mu_);
    return calls_;
  }

 private:
  void add(std::string line) {
    std::lock_guard<std::mutex> lock(mu_);
    calls_.push_back(std::move(line));
  }
  mutable std::mutex mu_;
  std::vector<std::string> calls_;
};

}  // namespace compe::testing
