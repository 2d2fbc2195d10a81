#pragma once
// Interning of string cells into first-seen-order codes, used by the CSV reader.

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace compe::csv {

/// Maps strings to dense codes in first-seen order (open addressing, linear probing).
/// Views passed as `stable` must outlive the dictionary; others are copied once, on first sight.
class StringDict {
 public:
  std::int32_t intern(std::string_view s, bool stable) {
    if ((values_.size() + 1) * 2 > slots_.size()) grow();
    std::size_t h = std::hash<std::string_view>{}(s);
    std::size_t mask = slots_.size() - 1;
    for (std::size_t i = h & mask;; i = (i + 1) & mask) {
      std::int32_t code = slots_[i];
      if (code < 0) {
        if (!stable) s = owned_.emplace_back(s);
        code = static_cast<std::int32_t>(values_.size());
        values_.push_back(s);
        hashes_.push_back(h);
        slots_[i] = code;
        return code;
      }
      auto k = static_cast<std::size_t>(code);
      if (hashes_[k] == h && values_[k] == s) return code;
    }
  }

  const std::vector<std::string_view>& values() const { return values_; }
  std::size_t size() const { return values_.size(); }

  void clear() {
    values_.clear();
    hashes_.clear();
    slots_.clear();
    owned_.clear();
  }

 private:
  void grow() {
    std::size_t cap = slots_.empty() ? 64 : slots_.size() * 2;
    slots_.assign(cap, -1);
    std::size_t mask = cap - 1;
    for (std::size_t k = 0; k < values_.size(); ++k) {
      std::size_t i = hashes_[k] & mask;
      while (slots_[i] >= 0) i = (i + 1) & mask;
      slots_[i] = static_cast<std::int32_t>(k);
    }
  }

  std::vector<std::string_view> values_;
  std::vector<std::size_t> hashes_;
  std::vector<std::int32_t> slots_;
  std::deque<std::string> owned_;  // deque: elements never move, so views into them stay valid
};

}  // namespace compe::csv
