// PNG decoding and encoding for thumbnails: a bounded reader (every length and CRC checked) and a
// plain RGBA writer, both over zlib.
#include "server/png.hpp"

#include <zlib.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>

#include "compe/error.hpp"

namespace compe::server::png {
namespace {

constexpr std::string_view kSignature("\x89PNG\r\n\x1a\n", 8);

std::uint32_t be32(const unsigned char* p) {
  return (std::uint32_t{p[0]} << 24) | (std::uint32_t{p[1]} << 16) | (std::uint32_t{p[2]} << 8) |
         std::uint32_t{p[3]};
}

void put32(std::string& out, std::uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(static_cast<char>((v >> shift) & 0xff));
}

struct Header {
  std::uint32_t width = 0, height = 0;
  int depth = 0, color = 0, interlace = 0;
  int channels() const {
    switch (color) {
      case 0: return 1;
      case 2: return 3;
      case 3: return 1;
      case 4: return 2;
      case 6: return 4;
      default: return 0;
    }
  }
};

struct Chunks {
  Header header;
  std::vector<std::array<std::uint8_t, 3>> palette;
  std::vector<std::uint8_t> palette_alpha;
  std::string idat;
};

Header read_header(std::string_view data, std::string_view display) {
  if (data.size() != 13) fail(ErrorCode::kInvalidArgument, "{}: IHDR has {} bytes, expected 13", display, data.size());
  const auto* p = reinterpret_cast<const unsigned char*>(data.data());
  Header h;
  h.width = be32(p);
  h.height = be32(p + 4);
  h.depth = p[8];
  h.color = p[9];
  h.interlace = p[12];
  if (h.width == 0 || h.height == 0 || h.width > kMaxSide || h.height > kMaxSide ||
      std::int64_t{h.width} * h.height > kMaxPixels)
    fail(ErrorCode::kInvalidArgument, "{}: image size {}x{} is outside 1..{} per side and {} pixels",
         display, h.width, h.height, kMaxSide, kMaxPixels);
  const bool known = h.channels() > 0 && (h.depth == 8 || (h.depth == 16 && h.color != 3));
  if (!known || p[10] != 0 || p[11] != 0 || h.interlace != 0)
    fail(ErrorCode::kInvalidArgument,
         "{}: unsupported PNG (bit depth {}, colour type {}, interlace {}): thumbnails read 8- or "
         "16-bit non-interlaced images", display, h.depth, h.color, h.interlace);
  return h;
}

Chunks read_chunks(std::string_view bytes, std::string_view display) {
  if (!is_png(bytes)) fail(ErrorCode::kInvalidArgument, "{}: not a PNG file (no PNG signature)", display);
  Chunks c;
  bool have_header = false, have_end = false;
  std::size_t pos = kSignature.size();
  while (pos < bytes.size() && !have_end) {
    if (bytes.size() - pos < 12) fail(ErrorCode::kInvalidArgument, "{}: truncated chunk at byte {}", display, pos);
    const auto* p = reinterpret_cast<const unsigned char*>(bytes.data() + pos);
    const std::uint32_t length = be32(p);
    if (length > bytes.size() - pos - 12)
      fail(ErrorCode::kInvalidArgument, "{}: chunk at byte {} claims {} bytes, past the end of the file", display, pos, length);
    const std::string_view type = bytes.substr(pos + 4, 4);
    const std::string_view data = bytes.substr(pos + 8, length);
    const std::uint32_t crc = be32(p + 8 + length);
    const auto crc_of = crc32(0L, p + 4, static_cast<uInt>(length + 4));
    if (crc != crc_of) fail(ErrorCode::kInvalidArgument, "{}: chunk at byte {} fails its CRC", display, pos);
    if (!have_header && type != "IHDR") fail(ErrorCode::kInvalidArgument, "{}: the first chunk is not IHDR", display);
    if (type == "IHDR") {
      c.header = read_header(data, display);
      have_header = true;
    } else if (type == "PLTE") {
      if (length % 3 != 0 || length > 768) fail(ErrorCode::kInvalidArgument, "{}: PLTE has {} bytes", display, length);
      for (std::size_t i = 0; i < length; i += 3)
        c.palette.push_back({static_cast<std::uint8_t>(data[i]), static_cast<std::uint8_t>(data[i + 1]),
                             static_cast<std::uint8_t>(data[i + 2])});
    } else if (type == "tRNS" && c.header.color == 3) {
      c.palette_alpha.assign(data.begin(), data.end());
    } else if (type == "IDAT") {
      if (c.idat.size() + length > (std::size_t{1} << 30)) fail(ErrorCode::kInvalidArgument, "{}: image data over 1 GiB", display);
      c.idat.append(data);
    } else if (type == "IEND") {
      have_end = true;
    }
    pos += 12 + length;
  }
  if (!have_end) fail(ErrorCode::kInvalidArgument, "{}: truncated (no IEND chunk)", display);
  if (c.header.color == 3 && c.palette.empty()) fail(ErrorCode::kInvalidArgument, "{}: palette image without PLTE", display);
  return c;
}

/// Inflates exactly `expected` bytes, failing on more or fewer.
std::vector<std::uint8_t> inflate_exact(const std::string& in, std::size_t expected, std::string_view display) {
  std::vector<std::uint8_t> out(expected + 1);  // one spare byte tells "too much" from "exact"
  z_stream z{};
  if (inflateInit(&z) != Z_OK) fail(ErrorCode::kInternal, "zlib inflateInit failed");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  z.next_out = out.data();
  z.avail_out = static_cast<uInt>(out.size());
  const int rc = inflate(&z, Z_FINISH);
  const std::size_t got = out.size() - z.avail_out;
  inflateEnd(&z);
  if (rc != Z_STREAM_END || got != expected)
    fail(ErrorCode::kInvalidArgument, "{}: image data inflates to {}{} bytes, expected {}", display,
         rc == Z_STREAM_END ? "" : "at least ", got, expected);
  out.resize(expected);
  return out;
}

int paeth(int a, int b, int c) {
  const int p = a + b - c, pa = std::abs(p - a), pb = std::abs(p - b), pc = std::abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/// Undoes the per-row filters in place; returns the rows without their filter bytes.
std::vector<std::uint8_t> unfilter(std::vector<std::uint8_t>& raw, std::size_t rows, std::size_t stride,
                                   std::size_t bpp, std::string_view display) {
  std::vector<std::uint8_t> out(rows * stride);
  for (std::size_t y = 0; y < rows; ++y) {
    const std::uint8_t filter = raw[y * (stride + 1)];
    const std::uint8_t* in = &raw[y * (stride + 1) + 1];
    std::uint8_t* row = &out[y * stride];
    const std::uint8_t* up = y ? &out[(y - 1) * stride] : nullptr;
    for (std::size_t x = 0; x < stride; ++x) {
      const int a = x >= bpp ? row[x - bpp] : 0, b = up ? up[x] : 0, c = up && x >= bpp ? up[x - bpp] : 0;
      int pred = 0;
      switch (filter) {
        case 0: pred = 0; break;
        case 1: pred = a; break;
        case 2: pred = b; break;
        case 3: pred = (a + b) / 2; break;
        case 4: pred = paeth(a, b, c); break;
        default: fail(ErrorCode::kInvalidArgument, "{}: row {} has filter type {} (expected 0..4)", display, y, filter);
      }
      row[x] = static_cast<std::uint8_t>(in[x] + pred);
    }
  }
  return out;
}

}  // namespace

bool is_png(std::string_view bytes) { return bytes.substr(0, kSignature.size()) == kSignature; }

Image decode(std::string_view bytes, std::string_view display) {
  Chunks c = read_chunks(bytes, display);
  const Header& h = c.header;
  const std::size_t samples = static_cast<std::size_t>(h.channels());
  const std::size_t bytes_per_sample = static_cast<std::size_t>(h.depth / 8);
  const std::size_t bpp = samples * bytes_per_sample;
  const std::size_t stride = bpp * h.width;
  std::vector<std::uint8_t> raw = inflate_exact(c.idat, (stride + 1) * h.height, display);
  std::vector<std::uint8_t> px = unfilter(raw, h.height, stride, bpp, display);
  Image img;
  img.width = h.width;
  img.height = h.height;
  img.rgba.resize(static_cast<std::size_t>(img.width * img.height * 4));
  for (std::size_t i = 0, n = static_cast<std::size_t>(img.width * img.height); i < n; ++i) {
    const std::uint8_t* s = &px[i * bpp];
    auto sample = [&](std::size_t k) { return s[k * bytes_per_sample]; };  // 16-bit: the high byte
    std::uint8_t* d = &img.rgba[i * 4];
    switch (h.color) {
      case 0: d[0] = d[1] = d[2] = sample(0); d[3] = 255; break;
      case 4: d[0] = d[1] = d[2] = sample(0); d[3] = sample(1); break;
      case 2: d[0] = sample(0); d[1] = sample(1); d[2] = sample(2); d[3] = 255; break;
      case 6: d[0] = sample(0); d[1] = sample(1); d[2] = sample(2); d[3] = sample(3); break;
      default: {  // palette
        const std::size_t k = s[0];
        if (k >= c.palette.size())
          fail(ErrorCode::kInvalidArgument, "{}: pixel {} uses palette entry {} of {}", display, i, k, c.palette.size());
        std::copy(c.palette[k].begin(), c.palette[k].end(), d);
        d[3] = k < c.palette_alpha.size() ? c.palette_alpha[k] : 255;
      }
    }
  }
  return img;
}

std::string encode(const Image& image) {
  const std::size_t stride = static_cast<std::size_t>(image.width) * 4;
  std::string raw;
  raw.reserve((stride + 1) * static_cast<std::size_t>(image.height));
  for (std::int64_t y = 0; y < image.height; ++y) {
    raw.push_back('\0');  // filter: none
    raw.append(reinterpret_cast<const char*>(&image.rgba[static_cast<std::size_t>(y) * stride]), stride);
  }
  uLongf packed_size = compressBound(static_cast<uLong>(raw.size()));
  std::string packed(packed_size, '\0');
  if (compress2(reinterpret_cast<Bytef*>(packed.data()), &packed_size,
                reinterpret_cast<const Bytef*>(raw.data()), static_cast<uLong>(raw.size()), 6) != Z_OK)
    fail(ErrorCode::kInternal, "zlib compress2 failed");
  packed.resize(packed_size);
  std::string out(kSignature);
  auto chunk = [&out](std::string_view type, std::string_view data) {
    put32(out, static_cast<std::uint32_t>(data.size()));
    const std::size_t start = out.size();
    out.append(type);
    out.append(data);
    put32(out, static_cast<std::uint32_t>(crc32(0L, reinterpret_cast<const Bytef*>(out.data() + start),
                                                static_cast<uInt>(out.size() - start))));
  };
  std::string ihdr;
  put32(ihdr, static_cast<std::uint32_t>(image.width));
  put32(ihdr, static_cast<std::uint32_t>(image.height));
  ihdr += std::string("\x08\x06\x00\x00\x00", 5);  // 8-bit RGBA, deflate, no interlace
  chunk("IHDR", ihdr);
  chunk("IDAT", packed);
  chunk("IEND", {});
  return out;
}

Image fit(const Image& image, std::int64_t max_side) {
  const std::int64_t side = std::max(image.width, image.height);
  if (side <= max_side) return image;
  Image out;
  out.width = std::max<std::int64_t>(1, image.width * max_side / side);
  out.height = std::max<std::int64_t>(1, image.height * max_side / side);
  out.rgba.assign(static_cast<std::size_t>(out.width * out.height * 4), 0);
  for (std::int64_t y = 0; y < out.height; ++y) {
    const std::int64_t y0 = y * image.height / out.height, y1 = std::max(y0 + 1, (y + 1) * image.height / out.height);
    for (std::int64_t x = 0; x < out.width; ++x) {
      const std::int64_t x0 = x * image.width / out.width, x1 = std::max(x0 + 1, (x + 1) * image.width / out.width);
      std::array<std::uint64_t, 4> sum{};
      for (std::int64_t sy = y0; sy < y1; ++sy)
        for (std::int64_t sx = x0; sx < x1; ++sx)
          for (int k = 0; k < 4; ++k) sum[static_cast<std::size_t>(k)] += image.rgba[static_cast<std::size_t>((sy * image.width + sx) * 4 + k)];
      const std::uint64_t n = static_cast<std::uint64_t>((y1 - y0) * (x1 - x0));
      for (int k = 0; k < 4; ++k)
        out.rgba[static_cast<std::size_t>((y * out.width + x) * 4 + k)] = static_cast<std::uint8_t>((sum[static_cast<std::size_t>(k)] + n / 2) / n);
    }
  }
  return out;
}

}  // namespace compe::server::png
