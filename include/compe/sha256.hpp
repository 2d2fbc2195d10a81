#pragma once
/// SHA-256 (FIPS 180-4), whole or streamed: host submissions and the store's content-addressed
/// artifacts are named by it. Computed by OpenSSL's libcrypto, which uses the CPU's SHA
/// extensions where it has them (several times the speed of portable code).

#include <memory>
#include <string>
#include <string_view>

struct evp_md_ctx_st;  // OpenSSL's EVP_MD_CTX

namespace compe {

class Sha256 {
 public:
  Sha256();
  Sha256(Sha256&&) noexcept = default;
  Sha256& operator=(Sha256&&) noexcept = default;
  ~Sha256();
  void update(std::string_view data);
  /// The digest of everything updated so far, 64 lowercase hex digits; starts over afterwards.
  std::string hex();

 private:
  struct Free {
    void operator()(evp_md_ctx_st* ctx) const noexcept;
  };
  std::unique_ptr<evp_md_ctx_st, Free> ctx_;
};

/// The digest of `data`, 64 lowercase hex digits.
std::string sha256_hex(std::string_view data);

}  // namespace compe
