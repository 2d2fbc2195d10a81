#pragma once
// Interning of string cells into first-seen-order codes, used by the CSV reader.

#include <cstdint>
#include <cstring>
#include <deque>
#include <string>
#include <string_view>
#include <vector>

namespace compe::csv {

/// Maps strings to dense codes in first-seen order (open addressing, linear probing).
/// Views passed as `stable` must outlive the dictionary; others are copied once, on first sight.
class StringDict {
 public:
  std::int32_t intern(std::string_view s, bool stable) {
    if ((values_.size() + 1) * 4 > slots_.size()) grow();
    std::uint64_t h = hash(s);
    auto tag = static_cast<std::uint32_t>(h >> 32);
    std::size_t mask = slots_.size() - 1;
    for (std::size_t i = h & mask;; i = (i + 1) & mask) {
      Slot& slot = slots_[i];
      if (slot.code < 0) {
        if (!stable) s = owned_.emplace_back(s);
        slot.code = static_cast<std::int32_t>(values_.size());
        slot.tag = tag;
        values_.push_back(s);
        hashes_.push_back(h);
        return slot.code;
      }
      if (slot.tag == tag && equal(values_[static_cast<std::size_t>(slot.code)], s)) return slot.code;
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
  static bool equal(std::string_view a, std::string_view b) {
    std::size_t n = a.size();
    if (n != b.size()) return false;
    if (n > 16) return std::memcmp(a.data(), b.data(), n) == 0;
    if (n < 4) {
      for (std::size_t i = 0; i < n; ++i)
        if (a[i] != b[i]) return false;
      return true;
    }
    if (n < 8) {
      std::uint32_t x0, x1, y0, y1;  // first and last four bytes
      std::memcpy(&x0, a.data(), 4);
      std::memcpy(&y0, b.data(), 4);
      std::memcpy(&x1, a.data() + n - 4, 4);
      std::memcpy(&y1, b.data() + n - 4, 4);
      return ((x0 ^ y0) | (x1 ^ y1)) == 0;
    }
    std::uint64_t a0, a1, b0, b1;  // first and last eight bytes (overlapping when n < 16)
    std::memcpy(&a0, a.data(), 8);
    std::memcpy(&b0, b.data(), 8);
    std::memcpy(&a1, a.data() + n - 8, 8);
    std::memcpy(&b1, b.data() + n - 8, 8);
    return ((a0 ^ b0) | (a1 ^ b1)) == 0;
  }

  // Eight bytes at a time with a multiply-xorshift mix; cells are mostly short.
  static std::uint64_t hash(std::string_view s) {
    const char* p = s.data();
    std::size_t n = s.size();
    std::uint64_t h = 0x9e3779b97f4a7c15ULL ^ n;
    while (n >= 8) {
      std::uint64_t w;
      std::memcpy(&w, p, 8);
      h = (h ^ w) * 0xbf58476d1ce4e5b9ULL;
      h ^= h >> 31;
      p += 8;
      n -= 8;
    }
    std::uint64_t w = 0;
    for (std::size_t i = 0; i < n; ++i) w |= static_cast<std::uint64_t>(static_cast<unsigned char>(p[i])) << (8 * i);
    h = (h ^ w) * 0x94d049bb133111ebULL;
    h ^= h >> 29;
    h *= 0xbf58476d1ce4e5b9ULL;
    return h ^ (h >> 32);
  }

  void grow() {
    std::size_t cap = slots_.empty() ? 64 : slots_.size() * 2;
    slots_.assign(cap, Slot{});
    std::size_t mask = cap - 1;
    for (std::size_t k = 0; k < values_.size(); ++k) {
      std::size_t i = hashes_[k] & mask;
      while (slots_[i].code >= 0) i = (i + 1) & mask;
      slots_[i] = Slot{static_cast<std::uint32_t>(hashes_[k] >> 32), static_cast<std::int32_t>(k)};
    }
  }

  // The code, with high hash bits that settle most mismatches without touching the string.
  struct Slot {
    std::uint32_t tag = 0;
    std::int32_t code = -1;
  };

  std::vector<std::string_view> values_;
  std::vector<std::uint64_t> hashes_;
  std::vector<Slot> slots_;
  std::deque<std::string> owned_;  // deque: elements never move, so views into them stay valid
};

}  // namespace compe::csv
