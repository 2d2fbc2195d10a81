#pragma once
/// Image competitions (task detection or segmentation, docs/FORMATS.md "Image competitions"):
/// the images of train.csv / test.csv with their sizes, the train ground truth named in
/// compe.toml's [data] (boxes or masks), and the one reader of image predictions, used for a
/// command trainer's oof.csv / test.csv and Python's start_run alike.
///
/// Boxes are pixels, x2/y2 exclusive, 0 <= x1 < x2 <= width, 0 <= y1 < y2 <= height; a box's
/// label is an integer index into the competition's classes. Masks are RLE (compe/segment.hpp:
/// 1-based starts, column-major, increasing starts), one per image and class; a mask's label is a
/// class name. Every error is Error(kInvalidArgument) (kNotFound for a missing file or column)
/// naming the file, the line, the image and the value, with the same facts in its ErrorContext.

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "compe/metric.hpp"
#include "compe/segment.hpp"
#include "compe/table.hpp"
#include "compe/workspace.hpp"

namespace compe::images {

struct Size {
  std::int64_t width = 0, height = 0;
  std::int64_t pixels() const { return width * height; }
};

/// The images of one table (train.csv or test.csv), in table order.
struct ImageSet {
  std::vector<std::string> ids;
  std::vector<Size> sizes;
  std::unordered_map<std::string, std::size_t> index;  ///< id -> position
  std::size_t size() const { return ids.size(); }
  /// Position of `id`, or -1 when it is not one of the images.
  std::ptrdiff_t find(std::string_view id) const;
};

/// Reads the id column and `width`, `height` (positive integers) of each row; ids must be unique.
ImageSet image_set(const Table& table, const std::string& id_column);

/// Ground truth of the train images: detection boxes (row i = image i of the set) or
/// segmentation masks (image i, class c at i * classes + c; a mask absent from the file is empty).
struct Truth {
  metric::Task task = metric::kDetection;
  std::vector<std::string> classes;
  metric::BoxLists boxes;
  std::vector<segment::Mask> masks;
};

/// Reads the ground-truth file (`display` names it in messages). Detection:
/// `image_id,x1,y1,x2,y2,label` (an image without objects: one row with empty box cells).
/// Segmentation: `Image_Label,EncodedPixels` (Image_Label = <id>_<class name>) or
/// `image_id,label,EncodedPixels`. Refuses a missing file, a row of an image that is not in the
/// set, a box outside its image, a label that is not a class, a bad RLE, a mask given twice.
Truth read_truth(metric::Task task, const std::vector<std::string>& classes,
                 const std::filesystem::path& path, const ImageSet& train, std::string_view display);

/// The workspace's ground truth ([data] boxes or masks) for the train table's images.
Truth read_workspace_truth(const Workspace& ws, const ImageSet& train);

/// Predictions for some images of a set, aligned on `expected` (positions in the set).
struct Predictions {
  std::vector<std::size_t> images;   ///< = expected
  metric::BoxLists boxes;            ///< detection: row j = images[j]
  std::vector<segment::Mask> masks;  ///< segmentation: images[j] x classes (absent rows = empty)
};

/// What predictions must agree with.
struct PredictionRules {
  metric::Task task = metric::kDetection;
  const std::vector<std::string>* classes = nullptr;
  const ImageSet* set = nullptr;          ///< the images they may name (train or test)
  std::span<const std::size_t> expected;  ///< the images to predict (positions in set)
  /// For messages: "the validation images of fold 2", "the test images".
  std::string expected_what;
  /// The file the set's images come from, for messages ("train.csv", "test.csv").
  std::string set_file = "train.csv";
};

/// Reads predictions from a table: detection `image_id,x1,y1,x2,y2,score,label` (label = class
/// index; an image without boxes has no row), segmentation `image_id,label,EncodedPixels` (label =
/// class name). Refuses, naming the file (Table::source), line, image and value: a missing column,
/// an unknown image id, an image outside `expected` (an OOF row for an image of another fold), a
/// box that is not finite or lies outside its image or is empty, a score outside [0, 1], an
/// unknown label, an RLE outside width x height or with non-increasing starts, a mask given twice.
Predictions read_predictions(const Table& table, const PredictionRules& rules);

/// read_predictions from a CSV file (ids and labels read as text).
Predictions read_predictions_file(const std::filesystem::path& path, const PredictionRules& rules);

}  // namespace compe::images
