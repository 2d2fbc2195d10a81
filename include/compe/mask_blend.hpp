#pragma once
/// `compe blend RUN RUN ...` for segmentation runs (docs/BLEND.md, "Segmentation runs"): a
/// per-pixel weighted vote of the members' masks, a pixel on when the weighted share of members
/// having it reaches a threshold; weights and threshold chosen on the OOF masks with the nested
/// check over folds, recorded as a blend run.

#include <cstdint>
#include <string>
#include <vector>

#include "compe/store.hpp"
#include "compe/workspace.hpp"

namespace compe::blend {

struct MaskBlendRequest {
  std::vector<std::string> runs;  ///< finished segmentation runs (ids or unique prefixes), >= 2
  std::string name;               ///< run name; "" = "blend-vote"
  std::string command_line;
};

struct MaskVote {
  std::vector<double> weights;  ///< one per member
  double threshold = 0.5;       ///< a pixel is on when its weighted share >= threshold
};

struct MaskBlendRecorded {
  std::string run_id;
  double cv = 0;                      ///< the nested score
  double in_sample = 0;               ///< the final vote scored on every image
  MaskVote vote;                      ///< chosen on every fold (the test masks use it)
  std::vector<int> folds;             ///< the outer folds
  std::vector<MaskVote> fold_votes;   ///< per outer fold: chosen on the other folds' images only
  std::vector<std::string> members;   ///< run ids
  std::vector<double> member_scores;  ///< each member's OOF alone
};

/// The candidates searched: weights in {0.25, 0.5, 1} per member (all 1 beyond 4 members) and
/// thresholds 0.1, 0.2, ..., 1.0; ties keep the earlier candidate (equal weights, lower threshold
/// first). Members are checked as for fusion: finished, with oof_masks.csv, on this workspace's
/// folds and data (Error(kInvalidArgument) naming the runs and what differs).
MaskBlendRecorded record_mask_blend(const Workspace& ws, Store& store, const MaskBlendRequest& request);

/// Whether a run's record is a segmentation vote (config.json has `mask_vote`).
bool is_mask_blend(const Run& run);

/// The same members voted again, recorded as a new run ("" name = "<name>-rerun").
MaskBlendRecorded rerun_mask_blend(const Workspace& ws, Store& store, const Run& run, const std::string& name,
                                   const std::string& command_line);

}  // namespace compe::blend
