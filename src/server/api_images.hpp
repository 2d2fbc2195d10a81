#pragma once
/// The dashboard's image pages, as plain functions (server.cpp maps routes onto them): the
/// workspace's images (originals and cached thumbnails), detection and segmentation runs' OOF
/// next to the ground truth per image, and a multilabel run's score per label column.
///
/// Image competitions (the image-run contract, docs/DASHBOARD.md): compe.toml's
/// `[competition] task` ("detection" or "segmentation") and `classes`, `[data] boxes` (detection
/// truth `image_id,x1,y1,x2,y2,label`), `[data] masks` (segmentation truth `Image_Label,
/// EncodedPixels` or `image_id,label,EncodedPixels`) and `[data] images` (the folder of
/// `<id>.png`; default `images` beside the train file). train.csv holds `width` and `height`.
/// A run's `runs/<id>/oof_boxes.csv` (`image_id,x1,y1,x2,y2,score,label,fold`) or
/// `oof_masks.csv` (`image_id,label,EncodedPixels,fold`) says which kind it is.

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "compe/store.hpp"
#include "server/api.hpp"

namespace compe::server {

/// What the image pages read of the workspace's config (paths resolved against its root).
struct ImageConfig {
  std::string task;                  ///< [competition] task
  std::string id_column;             ///< [competition] id
  std::vector<std::string> classes;  ///< [competition] classes; [] when unset
  std::filesystem::path train;       ///< [data] train
  std::filesystem::path boxes;       ///< [data] boxes; empty when unset
  std::filesystem::path masks;       ///< [data] masks; empty when unset
  std::filesystem::path images;      ///< [data] images, else `images` beside the train file
};

/// Opens the workspace at `root` (Workspace::open's errors) and takes those values.
ImageConfig read_image_config(const std::filesystem::path& workspace_root);

/// True for an image id the server looks up: 1 to 200 characters of A-Z a-z 0-9 . _ -, not
/// starting with '.' or '-', with no "..". Anything else (a path, NUL, a percent sign) is refused.
bool is_image_id(const std::string& id);

/// Thumbnail sizes accepted by ?size= (the longer side, in pixels).
constexpr std::int64_t kMinThumb = 32;
constexpr std::int64_t kMaxThumb = 512;

/// An image to send, or why not.
struct ImageFile {
  int status = 404;  ///< 200; 400 for a bad id or size; 403 for a file that leads outside the folder
  std::filesystem::path path;  ///< the file to send (the original or the cached thumbnail)
  std::string content_type;
  std::string etag;            ///< "\"<size>-<mtime ns>\"" of `path`
  std::string last_modified;   ///< HTTP date of `path`'s modification time
  bool thumbnail = false;      ///< true when `path` is a thumbnail made (or reused) for ?size=
  std::string message;         ///< why not, when status != 200
};

/// GET /api/images/{id}[?size=N]: `<id>.png`, `.jpg` or `.jpeg` from the image folder, looked up
/// by a checked id (is_image_id) and refused (403) unless the file, symlinks followed, is a
/// regular file inside the folder. `size` (0 = the original, else kMinThumb..kMaxThumb) asks for
/// a thumbnail whose longer side is at most `size`: cached as
/// `<root>/.compe/cache/thumbs/<size>/<id>.png` (written atomically, made again when the source
/// is newer). A source the PNG reader cannot read (JPEG, an unsupported PNG) is sent as it is.
ImageFile find_image(const std::filesystem::path& workspace_root, const std::string& id,
                     std::int64_t size);

/// GET /api/runs/{id}/images: a detection or segmentation run's OOF against the truth, one entry
/// per validated train image (every train image when the workspace has no folds.csv):
/// `{kind, run_id, classes, total, offset, limit, sort, filter, threshold, images: [...]}`.
/// Detection images: `{id, width, height, url, fold, ap, misses, false_positives, truth:
/// [{x1, y1, x2, y2, label, matched}], pred: [{x1, y1, x2, y2, score, label, matched}]}`, where
/// `ap` is coco_map50 of the image alone (1 when it has neither truth nor predictions, 0 when
/// only one side has boxes) and the errors count at IoU 0.5 among predictions scoring at least
/// `threshold` (greedy by score, same label). Segmentation images: `{id, width, height, url,
/// fold, dice, dice_per_class: {class: dice}, truth: [{label, rle}], pred: [{label, rle}]}`
/// (Dice with both-empty = 1; the image's value is the mean over the classes). Parameters:
/// offset, limit (1..200, default 24), sort (`id`, `ap` worst first, `errors` most first,
/// `dice` worst first; default `ap` or `dice`), filter (`all`, `misses`, `false_positives`,
/// `errors`; detection), threshold (0..1, default 0.5), fold. Error(kNotFound) for an unknown run
/// or one without oof_boxes.csv/oof_masks.csv; files that break the contract fail naming file,
/// line and value.
nlohmann::json run_images_json(Store& store, const std::filesystem::path& workspace_root,
                               const std::string& id, const Params& params);

/// GET /api/runs/{id}/columns: for a run of a multilabel workspace, ROC AUC per label column of
/// the pooled OOF and per fold: `{task, metric: "roc_auc", columns: [{name, auc, positives,
/// folds: {"0": auc, ...}}]}` (null where a column holds one class only). Other tasks answer
/// `{task, columns: []}`.
nlohmann::json run_columns_json(Store& store, const std::filesystem::path& workspace_root,
                                const std::string& id);

}  // namespace compe::server
