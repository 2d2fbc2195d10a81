// Detection metrics on hand-computed cases.
#include <gtest/gtest.h>

#include <vector>

#include "compe/detect.hpp"
#include "compe/error.hpp"
#include "compe/metric.hpp"

namespace det = compe::detect;
namespace cm = compe::metric;

namespace {

cm::DetBox gt_box(double x1, double y1, double x2, double y2, std::int64_t label = 0,
                  bool crowd = false) {
  cm::DetBox b;
  b.x1 = x1;
  b.y1 = y1;
  b.x2 = x2;
  b.y2 = y2;
  b.label = label;
  b.crowd = crowd;
  return b;
}

cm::DetBox pred_box(double x1, double y1, double x2, double y2, double score,
                    std::int64_t label = 0) {
  cm::DetBox b = gt_box(x1, y1, x2, y2, label);
  b.score = score;
  return b;
}

}  // namespace

TEST(DetectMetrics, KaggleMapByHand) {
  // Truth A and B; p1 = A (IoU 1), p2 overlaps B with IoU exactly 0.5, p3 is a false positive.
  cm::BoxLists gt, pred;
  gt.push_row(std::vector{gt_box(0, 0, 10, 10), gt_box(20, 20, 30, 30)});
  pred.push_row(std::vector{pred_box(50, 50, 60, 60, 0.1), pred_box(0, 0, 10, 10, 0.9),
                            pred_box(20, 20, 30, 25, 0.8)});
  // t = 0.5: TP 2, FP 1 -> 2/3; t >= 0.55: TP 1, FP 2, FN 1 -> 1/4.
  EXPECT_NEAR(det::kaggle_map(gt, pred), (2.0 / 3 + 5.0 / 4) / 6, 1e-15);
  // Dropping scores below 0.5: 2/2, then 1/3.
  EXPECT_NEAR(det::kaggle_map(gt, pred, 0.5), (1.0 + 5.0 / 3) / 6, 1e-15);
  // An image with nothing to find and nothing found scores 1; one with only false positives 0.
  gt.push_row(std::vector<cm::DetBox>{});
  pred.push_row(std::vector<cm::DetBox>{});
  gt.push_row(std::vector<cm::DetBox>{});
  pred.push_row(std::vector{pred_box(0, 0, 1, 1, 0.5)});
  std::vector<double> per;
  EXPECT_NEAR(det::kaggle_map(gt, pred, 0, &per), ((2.0 / 3 + 5.0 / 4) / 6 + 1 + 0) / 3, 1e-15);
  ASSERT_EQ(per.size(), 3u);
  EXPECT_EQ(per[1], 1.0);
  EXPECT_EQ(per[2], 0.0);
}

TEST(DetectMetrics, KaggleMapMatchesWithinLabelsAndTakesBestIou) {
  cm::BoxLists gt, pred;
  // Two truths; the prediction overlaps the second better: it takes that one.
  gt.push_row(std::vector{gt_box(0, 0, 10, 10), gt_box(1, 0, 11, 10)});
  pred.push_row(std::vector{pred_box(1, 0, 11, 10, 0.9), pred_box(0, 0, 10, 10, 0.8)});
  EXPECT_DOUBLE_EQ(det::kaggle_map(gt, pred), 1.0);
  // Another label never matches.
  cm::BoxLists gt2, pred2;
  gt2.push_row(std::vector{gt_box(0, 0, 10, 10, 1)});
  pred2.push_row(std::vector{pred_box(0, 0, 10, 10, 0.9, 2)});
  EXPECT_DOUBLE_EQ(det::kaggle_map(gt2, pred2), 0.0);
}

TEST(DetectMetrics, CocoByHand) {
  cm::BoxLists gt, pred;
  gt.push_row(std::vector{gt_box(0, 0, 10, 10)});
  pred.push_row(std::vector{pred_box(0, 0, 10, 10, 0.9)});
  det::CocoResult r = det::coco_evaluate(gt, pred);
  EXPECT_DOUBLE_EQ(r.stats[0], 1.0);
  EXPECT_DOUBLE_EQ(r.stats[1], 1.0);
  EXPECT_DOUBLE_EQ(r.stats[3], 1.0);   // small (area 100)
  EXPECT_DOUBLE_EQ(r.stats[4], -1.0);  // no medium object
  EXPECT_DOUBLE_EQ(r.stats[8], 1.0);
  // A false positive with a higher score halves the precision at every recall point.
  cm::BoxLists pred2;
  pred2.push_row(std::vector{pred_box(0, 0, 10, 10, 0.9), pred_box(40, 40, 50, 50, 0.95)});
  r = det::coco_evaluate(gt, pred2);
  EXPECT_NEAR(r.stats[0], 0.5, 1e-12);
  EXPECT_DOUBLE_EQ(r.stats[8], 1.0);
  // maxDets 1 keeps only the false positive: recall 0.
  EXPECT_DOUBLE_EQ(r.stats[6], 0.0);
}

TEST(DetectMetrics, CocoIgnoresCrowdRegions) {
  // A crowd region and a real object; a detection inside the crowd region is ignored.
  cm::BoxLists gt, pred;
  gt.push_row(std::vector{gt_box(0, 0, 100, 100, 0, true), gt_box(200, 200, 210, 210)});
  pred.push_row(std::vector{pred_box(10, 10, 20, 20, 0.95), pred_box(200, 200, 210, 210, 0.9)});
  EXPECT_DOUBLE_EQ(det::coco_evaluate(gt, pred).stats[0], 1.0);
  // Not a crowd: it is a second object, the inner detection a false positive ranked first.
  // Recall 0.5 at precision 0.5: 51 of 101 recall points at 0.5.
  cm::BoxLists gt2;
  gt2.push_row(std::vector{gt_box(0, 0, 100, 100), gt_box(200, 200, 210, 210)});
  EXPECT_NEAR(det::coco_evaluate(gt2, pred).stats[0], 51 * 0.5 / 101, 1e-12);
}

TEST(DetectMetrics, CocoPerClassAp) {
  cm::BoxLists gt, pred;
  gt.push_row(std::vector{gt_box(0, 0, 10, 10, 3), gt_box(20, 20, 30, 30, 7)});
  pred.push_row(std::vector{pred_box(0, 0, 10, 10, 0.9, 3), pred_box(50, 50, 60, 60, 0.9, 7)});
  const det::CocoResult r = det::coco_evaluate(gt, pred);
  ASSERT_EQ(r.categories, (std::vector<std::int64_t>{3, 7}));
  EXPECT_DOUBLE_EQ(r.class_ap[0], 1.0);
  EXPECT_DOUBLE_EQ(r.class_ap[1], 0.0);
  EXPECT_DOUBLE_EQ(r.stats[0], 0.5);
}

TEST(DetectMetrics, FbetaByHand) {
  cm::BoxLists gt, pred;
  gt.push_row(std::vector{gt_box(0, 0, 10, 10)});
  pred.push_row(std::vector{pred_box(0, 0, 10, 10, 0.9), pred_box(40, 40, 50, 50, 0.5)});
  // TP 1, FP 1, FN 0 at every threshold.
  EXPECT_NEAR(det::iou_fbeta(gt, pred, 1), 2.0 / 3, 1e-15);
  EXPECT_NEAR(det::iou_fbeta(gt, pred, 2), 5.0 / 6, 1e-15);
  EXPECT_THROW(det::iou_fbeta(gt, pred, 0), compe::Error);
}

TEST(DetectMetrics, RegistryRowsAndErrors) {
  EXPECT_TRUE(cm::find("coco_map").accepts(cm::kDetection));
  EXPECT_EQ(det::detection_metric_spec("map"), "coco_map");
  EXPECT_EQ(det::detection_metric_spec("map50"), "coco_map50");
  EXPECT_EQ(det::detection_metric_spec("fbeta@2"), "det_fbeta@2");
  EXPECT_EQ(det::detection_metric_spec("kaggle_map"), "kaggle_map");
  EXPECT_THROW(det::detection_metric_spec("rmse"), compe::Error);
  cm::BoxLists gt, pred;
  gt.push_row(std::vector{gt_box(0, 0, 10, 10)});
  cm::Inputs in;
  in.true_boxes = &gt;
  in.pred_boxes = &pred;
  EXPECT_THROW(cm::score("coco_map", in), compe::Error);  // row counts differ
  pred.push_row(std::vector{pred_box(0, 0, 10, 10, std::nan(""))});
  try {
    cm::score("kaggle_map", in);
    ADD_FAILURE() << "NaN score accepted";
  } catch (const compe::Error& e) {
    EXPECT_NE(std::string(e.what()).find("row 0"), std::string::npos) << e.what();
  }
}
