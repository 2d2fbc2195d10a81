#pragma once
// Segmentation masks as Kaggle submits them: run-length encoding (RLE) in a CSV cell.
//
// Pixel order: pixels are numbered from 1, top to bottom, then left to right (column-major: pixel
// k sits at row (k - 1) % height, column (k - 1) / height), as in Kaggle's HuBMAP, Severstal and
// Understanding Clouds competitions. A code is space-separated pairs "start length" with
// increasing, non-overlapping starts; an empty cell is an empty mask. Competitions that number
// pixels row-major (Carvana) are read with Order::kRowMajor.
//
// Masks are kept as runs (0-based start, length) and never decoded for scoring: intersections are
// a merge of two sorted run lists, so a 1e8-pixel image costs its runs, not its pixels.
//
// Metrics (docs/SEGMENTATION.md):
//   dice       mean over rows (image x class) of 2|A∩B| / (|A| + |B|); a row where both masks
//              are empty scores 1, one empty and the other not scores 0 (Severstal, Clouds)
//   dice_global  2 Σ|A∩B| / (Σ|A| + Σ|B|) over all rows; 1 when every mask is empty
//   iou        mean over rows of |A∩B| / |A∪B|, both empty = 1
//   iou_global Σ|A∩B| / Σ|A∪B|; 1 when every mask is empty
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace compe::segment {

enum class Order { kColumnMajor, kRowMajor };

/// A mask as sorted, non-overlapping, non-adjacent runs of 0-based (start, length).
struct Mask {
  std::vector<std::pair<std::int64_t, std::int64_t>> runs;
  std::int64_t area() const;
  bool empty() const { return runs.empty(); }
};

/// Where a code came from, for messages: "file: line N: image 'x': ...".
struct Where {
  std::string file;
  std::int64_t line = 0;  ///< 1-based CSV line; 0 when unknown
  std::string image;
};

/// Parses "start length ..." (1-based starts). `pixels` (width x height) bounds the runs; pass
/// 0 to skip the bound. Fails (ErrorCode::kParse) naming the place and the offending value on
/// a non-integer token, an odd token count, a start < 1 or length < 1, a run past the image,
/// and starts that decrease or overlap. Touching runs are merged.
Mask parse_rle(std::string_view code, std::int64_t pixels, const Where& where);

/// The canonical code of a mask: 1-based starts, merged runs; "" for an empty mask.
std::string format_rle(const Mask& mask);

/// The mask of the non-zero bytes of an image stored row-major (height rows of width bytes),
/// its runs numbered in `numbering` (the competition's pixel order).
Mask encode(const std::uint8_t* pixels, std::int64_t width, std::int64_t height,
            Order numbering = Order::kColumnMajor);

/// The mask as a row-major image of 0/1 bytes; its runs are read in `numbering`. Runs past
/// width x height fail (ErrorCode::kInvalidArgument).
std::vector<std::uint8_t> decode(const Mask& mask, std::int64_t width, std::int64_t height,
                                 Order numbering = Order::kColumnMajor);

/// |a ∩ b| by merging the run lists.
std::int64_t intersection(const Mask& a, const Mask& b);

/// Dice and IoU of one pair with the empty-mask convention above (both empty = 1).
double dice(const Mask& a, const Mask& b);
double iou(const Mask& a, const Mask& b);

enum class Reduction { kMeanPerRow, kGlobal };

/// Scores truth[i] against pred[i] (the same rows in the same order).
double mean_dice(const std::vector<Mask>& truth, const std::vector<Mask>& pred,
                 Reduction reduction = Reduction::kMeanPerRow);
double mean_iou(const std::vector<Mask>& truth, const std::vector<Mask>& pred,
                Reduction reduction = Reduction::kMeanPerRow);

}  // namespace compe::segment
