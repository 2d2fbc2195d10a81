// SHA-256 through OpenSSL's EVP interface: the file hash of host submissions and of the store's
// artifacts. libcrypto picks the fastest block function the CPU allows (SHA-NI, AVX2, ...) at
// run time; the portable code this replaced ran at about a fifth of that speed.
#include "compe/sha256.hpp"

#include <openssl/evp.h>

#include "compe/error.hpp"

namespace compe {
namespace {

void start(EVP_MD_CTX* ctx) {
  if (EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) != 1)
    fail(ErrorCode::kInternal, "SHA-256: libcrypto could not start a digest");
}

}  // namespace

void Sha256::Free::operator()(evp_md_ctx_st* ctx) const noexcept { EVP_MD_CTX_free(ctx); }

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  if (!ctx_) fail(ErrorCode::kInternal, "SHA-256: out of memory for a digest context");
  start(ctx_.get());
}

Sha256::~Sha256() = default;

void Sha256::update(std::string_view data) {
  if (EVP_DigestUpdate(ctx_.get(), data.data(), data.size()) != 1)
    fail(ErrorCode::kInternal, "SHA-256: libcrypto refused {} bytes", data.size());
}

std::string Sha256::hex() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_DigestFinal_ex(ctx_.get(), digest, &n) != 1 || n != 32)
    fail(ErrorCode::kInternal, "SHA-256: libcrypto could not finish the digest");
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(64, '0');
  for (unsigned int i = 0; i < 32; ++i) {
    out[2 * i] = kHex[digest[i] >> 4];
    out[2 * i + 1] = kHex[digest[i] & 15];
  }
  start(ctx_.get());
  return out;
}

std::string sha256_hex(std::string_view data) {
  Sha256 h;
  h.update(data);
  return h.hex();
}

}  // namespace compe
