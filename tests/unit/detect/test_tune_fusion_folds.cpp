// The nested check over folds of fusion tuning (tune_fusion_folds): each outer fold's settings
// come from the other folds' images only.
#include <gtest/gtest.h>

#include <vector>

#include "compe/detect.hpp"
#include "compe/error.hpp"
#include "compe/tune/fusion.hpp"

namespace compe::detect {
namespace {

const Coords kTrue{0.1, 0.1, 0.4, 0.4};
const Coords kWrong{0.6, 0.6, 0.9, 0.9};

// Two models; on images of folds 0 and 1 model 0 finds the object and model 1 a wrong box; on
// the planted fold 2 it is the other way round.
struct Planted {
  std::vector<ImageDetections> images;
  metric::BoxLists gt;
  std::vector<int> folds;
};

Planted planted() {
  Planted p;
  for (int f : {0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2}) {
    const bool swapped = f == 2;
    ImageDetections img(2);
    img[0] = {{swapped ? kWrong : kTrue}, {0.9}, {0}};
    img[1] = {{swapped ? kTrue : kWrong}, {0.9}, {0}};
    p.images.push_back(img);
    p.gt.push_row(std::vector<metric::DetBox>{{.x1 = kTrue.x1, .y1 = kTrue.y1, .x2 = kTrue.x2, .y2 = kTrue.y2, .label = 0}});
    p.folds.push_back(f);
  }
  return p;
}

TuneFusionOptions options() {
  TuneFusionOptions o;
  o.method = "wbf";
  o.metric = "coco_map50";
  o.trials = 30;
  o.seed = 3;
  o.threads = 1;
  return o;
}

TEST(TuneFusionFolds, PlantedFoldGetsSettingsTunedOnTheOtherFoldsOnly) {
  const Planted p = planted();
  const FoldTunedFusion r = tune_fusion_folds(p.images, p.gt, p.folds, options());
  ASSERT_EQ(r.folds, (std::vector<int>{0, 1, 2}));
  ASSERT_EQ(r.fold_best.size(), 3u);
  // Tuned on folds 0 and 1, where model 0 is right: model 0 weighs more, perfect there...
  const Params& p2 = r.fold_best[2].params;
  ASSERT_EQ(p2.weights.size(), 2u);
  EXPECT_GT(p2.weights[0], p2.weights[1]);
  EXPECT_DOUBLE_EQ(r.fold_best[2].value, 1.0);
  // ...and so wrong on fold 2, whose own best settings (model 1 first) would score 1 there.
  EXPECT_LT(r.fold_scores[2], 0.75);
  const std::vector<std::size_t> fold2 = {8, 9, 10, 11};
  Params own;
  own.weights = {0.1, 1.0};
  EXPECT_DOUBLE_EQ(score_fused("coco_map50", fuse_with("wbf", own, p.images, 1), p.gt, {}, fold2), 1.0);
  // The nested boxes of fold 2 are fold 2's images fused with fold 2's settings.
  EXPECT_DOUBLE_EQ(score_fused("coco_map50", r.nested_boxes, p.gt, {}, fold2), r.fold_scores[2]);
  EXPECT_DOUBLE_EQ(r.nested, score_fused("coco_map50", r.nested_boxes, p.gt, {}));
  EXPECT_LT(r.nested, 1.0);
  // The final settings see every fold: model 0 is right on 8 of 12 images.
  EXPECT_GT(r.best.params.weights[0], r.best.params.weights[1]);
}

TEST(TuneFusionFolds, RefusesOneFoldAndMismatchedFolds) {
  const Planted p = planted();
  std::vector<int> one(p.folds.size(), 0);
  EXPECT_THROW(tune_fusion_folds(p.images, p.gt, one, options()), Error);
  std::vector<int> short_folds(p.folds.begin(), p.folds.end() - 1);
  EXPECT_THROW(tune_fusion_folds(p.images, p.gt, short_folds, options()), Error);
}

}  // namespace
}  // namespace compe::detect
