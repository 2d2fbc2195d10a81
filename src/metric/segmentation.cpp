// Segmentation metrics over run-length encoded masks (compe/segment.hpp): the registry rows dice,
// dice_global and iou. Each row of the inputs is one (image, class) pair.
#include "compe/error.hpp"
#include "compe/segment.hpp"
#include "metric/detail.hpp"

namespace compe::metric {
namespace {

enum class Kind { kDice, kDiceGlobal, kIou };

class SegmentationMetric final : public Metric {
 public:
  SegmentationMetric(const Info& info, Kind kind) : Metric(info, info.name), kind_(kind) {}

  double score(const Inputs& in) const override {
    if (in.true_masks == nullptr || in.pred_masks == nullptr)
      fail(ErrorCode::kInvalidArgument, "metric '{}' scores masks: expected true and predicted masks", spec());
    if (!in.weights.empty()) fail(ErrorCode::kInvalidArgument, "metric '{}' takes no weights", spec());
    const auto& truth = *in.true_masks;
    const auto& pred = *in.pred_masks;
    if (truth.size() != pred.size())
      fail(ErrorCode::kInvalidArgument, "metric '{}': {} true masks and {} predicted masks; expected the same rows",
           spec(), truth.size(), pred.size());
    if (truth.empty()) fail(ErrorCode::kInvalidArgument, "metric '{}': no masks to score", spec());
    switch (kind_) {
      case Kind::kDice:
        return segment::mean_dice(truth, pred, segment::Reduction::kMeanPerRow);
      case Kind::kDiceGlobal:
        return segment::mean_dice(truth, pred, segment::Reduction::kGlobal);
      case Kind::kIou:
        return segment::mean_iou(truth, pred, segment::Reduction::kMeanPerRow);
    }
    return 0;
  }

 private:
  Kind kind_;
};

std::unique_ptr<Metric> new_segmentation_metric(const Info& info, std::optional<double>) {
  Kind kind = Kind::kDice;
  if (info.name == "dice_global") kind = Kind::kDiceGlobal;
  if (info.name == "iou") kind = Kind::kIou;
  return std::make_unique<SegmentationMetric>(info, kind);
}

}  // namespace

namespace detail {

std::vector<Info> segmentation_rows() {
  constexpr auto kMax = Direction::kMaximize;
  std::vector<Info> rows;
  rows.push_back({.name = "dice",
                  .aliases = {"mean_dice"},
                  .summary = "mean Dice over (image, class) masks, both empty = 1 (Severstal, "
                             "Understanding Clouds)",
                  .direction = kMax,
                  .tasks = kSegmentation,
                  .factory = new_segmentation_metric});
  rows.push_back({.name = "dice_global",
                  .aliases = {"global_dice"},
                  .summary = "Dice pooled over every pixel of every mask, 1 when all are empty "
                             "(HuBMAP)",
                  .direction = kMax,
                  .tasks = kSegmentation,
                  .factory = new_segmentation_metric});
  rows.push_back({.name = "iou",
                  .aliases = {"jaccard", "mean_iou"},
                  .summary = "mean Jaccard (IoU) over (image, class) masks, both empty = 1",
                  .direction = kMax,
                  .tasks = kSegmentation,
                  .factory = new_segmentation_metric});
  return rows;
}

}  // namespace detail
}  // namespace compe::metric
