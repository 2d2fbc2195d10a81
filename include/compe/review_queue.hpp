#pragma once
// Review queues in the store (docs/REVIEW.md): built from runs' out-of-fold probabilities with the
// rules of compe/review.hpp, imported from a JSON Lines file, exported as corrected labels (the
// `[data] labels` override that `compe run` reads) or, for box items, as a boxes CSV and COCO JSON.
#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "compe/store.hpp"
#include "compe/workspace.hpp"

namespace compe::review {

/// The rule names `build_queue` knows, in the order they rank items when several are given.
inline constexpr const char* kQueueRules[] = {"confident_learning", "highest_loss",
                                              "low_confidence", "disagreement"};

struct BuildOptions {
  std::string name;
  std::vector<std::string> runs;   ///< run ids or unique prefixes (at least one)
  std::vector<std::string> rules;  ///< empty = confident_learning and highest_loss
  std::size_t top = 50;            ///< at most this many items per rule
};

/// A classification queue (binary or multiclass, tabular or image features) from the runs' OOF
/// probabilities (averaged over the runs for the label rules; `disagreement` compares the first
/// two runs, `low_confidence` queues test rows). An item's key is the row id; its label the class
/// name; its predictions each run's class probabilities; its data the row's other columns; its
/// reasons one entry per rule that queued it. Stores the queue (one transaction) and returns it.
/// Error(kInvalidArgument) for an unknown rule, a non-classification competition, disagreement
/// with fewer than two runs; what the store and the OOF reader throw.
ReviewQueue build_queue(Store& store, const Workspace& ws, const BuildOptions& options);

/// A queue from a JSON Lines file, one object per line: "id" (string or integer, required),
/// "label" (the current label: a class name, or for images an array of boxes
/// {"x1","y1","x2","y2","label"}), and optional "reasons" (a string or an array), "predictions"
/// and "data" (objects; data may hold "width" and "height" of an image). A queue whose labels are
/// box arrays has kind "boxes". Errors name the file, the line and the field.
ReviewQueue import_queue(Store& store, const std::string& name, const std::filesystem::path& file);

/// Boxes as an edit saves them: an array of {"x1","y1","x2","y2","label"} with finite numbers,
/// x1 < x2, y1 < y2 and label a class index; returns them with only those keys. Errors name
/// `where` and the box's JSON pointer.
nlohmann::json check_boxes(const nlohmann::json& boxes, const std::string& where);

struct ExportResult {
  std::size_t rows = 0;        ///< rows written to the labels or boxes file
  std::size_t images = 0;      ///< images in the COCO file
  std::int64_t last_edit = 0;  ///< the newest edit the export includes
};

/// Writes the queue's corrected labels atomically. Classification: `<id>,<target>` rows for the
/// items whose current label differs from the one they were queued with (train rows only), and
/// beside it `<out>.review.json` naming the queue and its edits (recorded by the run that uses
/// the file). Boxes: `image_id,x1,y1,x2,y2,label` of every item (an image without boxes has one
/// row with empty box cells), and when `coco` is not empty a COCO JSON of the same boxes.
ExportResult export_queue(Store& store, const std::string& name, const std::filesystem::path& out,
                          const std::filesystem::path& coco);

/// The JSON shapes of a queue, an item (with its last edit's time, null before any) and an edit,
/// shared by `compe review ... --json` and the review page's API.
nlohmann::json queue_json(const ReviewQueue& q);
nlohmann::json item_json(const ReviewItem& it);
nlohmann::json edit_json(const ReviewEdit& e);

}  // namespace compe::review
