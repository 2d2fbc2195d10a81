#pragma once
/// A small PNG reader and writer over zlib, for the dashboard's thumbnails (api_images.cpp).
///
/// Reads non-interlaced PNG with 8 bits per sample (grey, grey + alpha, RGB, RGBA, palette) and
/// 16-bit grey/RGB(A) (reduced to 8 bits); everything else is refused. The reader never trusts
/// the file: chunk lengths are checked against the data, every chunk's CRC is verified, the
/// declared size is bounded (kMaxSide per side, kMaxPixels in all) before anything is allocated,
/// and the inflated image data must have exactly the size the header promises.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace compe::server::png {

constexpr std::int64_t kMaxSide = 16384;
constexpr std::int64_t kMaxPixels = std::int64_t{64} << 20;

/// An 8-bit RGBA image, rows top to bottom (width * height * 4 bytes).
struct Image {
  std::int64_t width = 0;
  std::int64_t height = 0;
  std::vector<std::uint8_t> rgba;
};

/// True when `bytes` starts with the PNG signature.
bool is_png(std::string_view bytes);

/// Decodes a PNG file's bytes. Throws Error(kInvalidArgument) naming `display` and what is wrong
/// (a bad signature, a truncated or corrupt chunk, an unsupported format, a size over the bounds).
Image decode(std::string_view bytes, std::string_view display);

/// The PNG file of an image (RGBA, deflate level 6).
std::string encode(const Image& image);

/// The image scaled down (area average) so that its longer side is at most `max_side` pixels,
/// keeping the aspect ratio; an image already that small is returned as it is.
Image fit(const Image& image, std::int64_t max_side);

}  // namespace compe::server::png
