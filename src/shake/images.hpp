#pragma once
// Shake-up candidates of detection and segmentation competitions: each candidate's
// submission.csv scored against the workspace's solution, re-split by image (src/shake/images.cpp).
#include <filesystem>
#include <string>
#include <vector>

#include "compe/shake.hpp"
#include "compe/table.hpp"
#include "compe/workspace.hpp"

namespace compe::shake::detail {

struct ImageCandidate {
  std::string name, label;
  std::filesystem::path submission;
};

/// The problem for a detection or segmentation metric: units are the solution's scored images;
/// the part scorer recomputes the metric on a part's images (mAP) or averages per-mask values
/// computed once (dice, iou; dice_global pools the sums).
Loaded load_image_candidates(const Workspace& ws, const Table& solution, const std::vector<ImageCandidate>& inputs);

}  // namespace compe::shake::detail
