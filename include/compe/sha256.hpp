#pragma once
/// SHA-256 (FIPS 180-4), whole or streamed: host submissions and the store's content-addressed
/// artifacts are named by it.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace compe {

class Sha256 {
 public:
  Sha256();
  void update(std::string_view data);
  /// The digest of everything updated so far, 64 lowercase hex digits; starts over afterwards.
  std::string hex();

 private:
  std::array<std::uint32_t, 8> h_;
  std::array<unsigned char, 64> buf_{};
  std::size_t buffered_ = 0;
  std::uint64_t length_ = 0;
};

/// The digest of `data`, 64 lowercase hex digits.
std::string sha256_hex(std::string_view data);

}  // namespace compe
