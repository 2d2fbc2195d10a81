// Run-length encoded masks: parsing with checks, canonical formatting, image conversion, and
// the overlap metrics computed on runs (include/compe/segment.hpp).
#include "compe/segment.hpp"

#include <algorithm>
#include <charconv>
#include <limits>

#include <fmt/format.h>

#include "compe/error.hpp"

namespace compe::segment {

namespace {

std::string place(const Where& w) {
  std::string out = w.file.empty() ? std::string("RLE") : w.file;
  if (w.line > 0) out += fmt::format(": line {}", w.line);
  if (!w.image.empty()) out += fmt::format(": image {}", quote(w.image));
  return out;
}

/// Appends a run, merging with the previous one when they touch.
void push_run(Mask& m, std::int64_t start, std::int64_t length) {
  if (!m.runs.empty() && m.runs.back().first + m.runs.back().second == start)
    m.runs.back().second += length;
  else
    m.runs.emplace_back(start, length);
}

}  // namespace

std::int64_t Mask::area() const {
  std::int64_t total = 0;
  for (const auto& r : runs) total += r.second;
  return total;
}

Mask parse_rle(std::string_view code, std::int64_t pixels, const Where& where) {
  Mask m;
  std::int64_t values[2] = {0, 0};
  int have = 0;
  std::int64_t token = 0;
  std::int64_t end_of_previous = 0;  // 0-based end (exclusive) of the previous run
  std::size_t i = 0;
  while (i < code.size()) {
    const char c = code[i];
    if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
      ++i;
      continue;
    }
    std::size_t j = i;
    while (j < code.size() && code[j] != ' ' && code[j] != '\t' && code[j] != '\r' && code[j] != '\n') ++j;
    const std::string_view text = code.substr(i, j - i);
    ++token;
    std::int64_t v = 0;
    const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || ptr != text.data() + text.size())
      fail(ErrorCode::kParse, "{}: RLE token {} is {}, expected a positive integer", place(where), token,
           quote(text));
    values[have++] = v;
    if (have == 2) {
      const std::int64_t start = values[0], length = values[1];
      if (start < 1)
        fail(ErrorCode::kParse, "{}: RLE run {} starts at {}, expected a start >= 1 (pixels are numbered from 1)",
             place(where), token / 2, start);
      if (length < 1)
        fail(ErrorCode::kParse, "{}: RLE run {} has length {}, expected a length >= 1", place(where), token / 2,
             length);
      if (start - 1 < end_of_previous)
        fail(ErrorCode::kParse,
             "{}: RLE run {} starts at {}, before the end of the previous run (pixel {}): starts must increase "
             "and runs must not overlap",
             place(where), token / 2, start, end_of_previous);
      if (length > std::numeric_limits<std::int64_t>::max() - start)
        fail(ErrorCode::kParse, "{}: RLE run {} ({} {}) is longer than any image", place(where), token / 2, start,
             length);
      if (pixels > 0 && start - 1 + length > pixels)
        fail(ErrorCode::kParse, "{}: RLE run {} ({} {}) ends at pixel {}, past the image's {} pixels",
             place(where), token / 2, start, length, start - 1 + length, pixels);
      push_run(m, start - 1, length);
      end_of_previous = start - 1 + length;
      have = 0;
    }
    i = j;
  }
  if (have != 0)
    fail(ErrorCode::kParse, "{}: RLE has {} numbers, expected pairs of start and length", place(where), token);
  return m;
}

std::string format_rle(const Mask& mask) {
  std::string out;
  for (const auto& [start, length] : mask.runs) {
    if (!out.empty()) out += ' ';
    out += fmt::format("{} {}", start + 1, length);
  }
  return out;
}

Mask encode(const std::uint8_t* pixels, std::int64_t width, std::int64_t height, Order numbering) {
  Mask m;
  if (width <= 0 || height <= 0) return m;
  const std::int64_t outer = numbering == Order::kColumnMajor ? width : height;
  const std::int64_t inner = numbering == Order::kColumnMajor ? height : width;
  std::int64_t run_start = -1;
  for (std::int64_t o = 0; o < outer; ++o) {
    for (std::int64_t k = 0; k < inner; ++k) {
      const std::int64_t index = o * inner + k;
      const std::int64_t at = numbering == Order::kColumnMajor ? k * width + o : o * width + k;
      if (pixels[at] != 0) {
        if (run_start < 0) run_start = index;
      } else if (run_start >= 0) {
        m.runs.emplace_back(run_start, index - run_start);
        run_start = -1;
      }
    }
  }
  if (run_start >= 0) m.runs.emplace_back(run_start, width * height - run_start);
  return m;
}

std::vector<std::uint8_t> decode(const Mask& mask, std::int64_t width, std::int64_t height, Order numbering) {
  if (width <= 0 || height <= 0)
    fail(ErrorCode::kInvalidArgument, "image size {} x {}: expected a positive width and height", width, height);
  const std::int64_t pixels = width * height;
  std::vector<std::uint8_t> out(static_cast<std::size_t>(pixels), 0);
  for (const auto& [start, length] : mask.runs) {
    if (start < 0 || length < 0 || start + length > pixels)
      fail(ErrorCode::kInvalidArgument, "RLE run {} {} lies outside a {} x {} image", start + 1, length, width,
           height);
    for (std::int64_t p = start; p < start + length; ++p) {
      const std::int64_t at = numbering == Order::kColumnMajor ? (p % height) * width + p / height : p;
      out[static_cast<std::size_t>(at)] = 1;
    }
  }
  return out;
}

std::int64_t intersection(const Mask& a, const Mask& b) {
  std::int64_t total = 0;
  std::size_t i = 0, j = 0;
  while (i < a.runs.size() && j < b.runs.size()) {
    const std::int64_t a0 = a.runs[i].first, a1 = a0 + a.runs[i].second;
    const std::int64_t b0 = b.runs[j].first, b1 = b0 + b.runs[j].second;
    const std::int64_t lo = std::max(a0, b0), hi = std::min(a1, b1);
    if (hi > lo) total += hi - lo;
    if (a1 < b1)
      ++i;
    else
      ++j;
  }
  return total;
}

double dice(const Mask& a, const Mask& b) {
  const std::int64_t sum = a.area() + b.area();
  if (sum == 0) return 1.0;
  return 2.0 * static_cast<double>(intersection(a, b)) / static_cast<double>(sum);
}

double iou(const Mask& a, const Mask& b) {
  const std::int64_t inter = intersection(a, b);
  const std::int64_t uni = a.area() + b.area() - inter;
  if (uni == 0) return 1.0;
  return static_cast<double>(inter) / static_cast<double>(uni);
}

namespace {

template <class PerRow, class Global>
double reduce(const std::vector<Mask>& truth, const std::vector<Mask>& pred, Reduction reduction,
              PerRow per_row, Global global) {
  if (truth.size() != pred.size())
    fail(ErrorCode::kInvalidArgument, "{} true masks and {} predicted masks: expected the same rows", truth.size(),
         pred.size());
  if (truth.empty()) fail(ErrorCode::kInvalidArgument, "no masks to score");
  if (reduction == Reduction::kMeanPerRow) {
    double sum = 0.0;
    for (std::size_t i = 0; i < truth.size(); ++i) sum += per_row(truth[i], pred[i]);
    return sum / static_cast<double>(truth.size());
  }
  std::int64_t inter = 0, areas = 0;
  for (std::size_t i = 0; i < truth.size(); ++i) {
    inter += intersection(truth[i], pred[i]);
    areas += truth[i].area() + pred[i].area();
  }
  return global(inter, areas);
}

}  // namespace

double mean_dice(const std::vector<Mask>& truth, const std::vector<Mask>& pred, Reduction reduction) {
  return reduce(truth, pred, reduction, [](const Mask& a, const Mask& b) { return dice(a, b); },
                [](std::int64_t inter, std::int64_t areas) {
                  return areas == 0 ? 1.0 : 2.0 * static_cast<double>(inter) / static_cast<double>(areas);
                });
}

double mean_iou(const std::vector<Mask>& truth, const std::vector<Mask>& pred, Reduction reduction) {
  return reduce(truth, pred, reduction, [](const Mask& a, const Mask& b) { return iou(a, b); },
                [](std::int64_t inter, std::int64_t areas) {
                  const std::int64_t uni = areas - inter;
                  return uni == 0 ? 1.0 : static_cast<double>(inter) / static_cast<double>(uni);
                });
}

}  // namespace compe::segment
