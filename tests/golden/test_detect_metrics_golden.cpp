// Detection metrics against cases worked out independently from the published definitions (see
// tests/golden/REFERENCES-detect.md): COCO stats and per-class AP, the Kaggle per-image metric and
// F-beta at IoU thresholds, each within 1e-9.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "compe/detect.hpp"
#include "compe/metric.hpp"

namespace det = compe::detect;
namespace cm = compe::metric;
using nlohmann::json;

namespace {

json load() {
  std::ifstream in(std::filesystem::path(COMPE_TEST_DATA) / "golden" / "cases" / "detect" /
                   "metrics.json");
  EXPECT_TRUE(in.good());
  return json::parse(in);
}

void read_case(const json& c, cm::BoxLists& gt, cm::BoxLists& pred) {
  for (const auto& img : c.at("gt")) {
    std::vector<cm::DetBox> row;
    for (const auto& b : img) {
      cm::DetBox d;
      d.x1 = b[0];
      d.y1 = b[1];
      d.x2 = b[2];
      d.y2 = b[3];
      d.label = b[4];
      d.crowd = b[5].get<int>() != 0;
      d.area = b[6].is_null() ? std::numeric_limits<double>::quiet_NaN() : b[6].get<double>();
      row.push_back(d);
    }
    gt.push_row(row);
  }
  for (const auto& img : c.at("pred")) {
    std::vector<cm::DetBox> row;
    for (const auto& b : img) {
      cm::DetBox d;
      d.x1 = b[0];
      d.y1 = b[1];
      d.x2 = b[2];
      d.y2 = b[3];
      d.score = b[4];
      d.label = b[5];
      row.push_back(d);
    }
    pred.push_row(row);
  }
}

}  // namespace

TEST(DetectMetricsGolden, EveryCaseMatches) {
  const json doc = load();
  const double tol = doc.at("tolerance");
  ASSERT_GE(doc.at("cases").size(), 10u);
  for (const auto& c : doc.at("cases")) {
    SCOPED_TRACE(c.at("name").get<std::string>());
    cm::BoxLists gt, pred;
    read_case(c, gt, pred);
    const det::CocoResult r = det::coco_evaluate(gt, pred);
    for (std::size_t s = 0; s < 12; ++s) {
      EXPECT_NEAR(r.stats[s], c.at("coco_stats")[s].get<double>(), tol) << "stat " << s;
    }
    ASSERT_EQ(r.categories.size(), c.at("categories").size());
    for (std::size_t k = 0; k < r.categories.size(); ++k) {
      EXPECT_EQ(r.categories[k], c.at("categories")[k].get<std::int64_t>());
      EXPECT_NEAR(r.class_ap[k], c.at("class_ap")[k].get<double>(), tol) << "class " << k;
      EXPECT_NEAR(r.class_ap50[k], c.at("class_ap50")[k].get<double>(), tol) << "class " << k;
    }
    EXPECT_NEAR(det::kaggle_map(gt, pred), c.at("kaggle_map").get<double>(), tol);
    EXPECT_NEAR(det::kaggle_map(gt, pred, 0.3), c.at("kaggle_map_0.3").get<double>(), tol);
    EXPECT_NEAR(det::iou_fbeta(gt, pred, 1.0), c.at("fbeta_1").get<double>(), tol);
    EXPECT_NEAR(det::iou_fbeta(gt, pred, 2.0), c.at("fbeta_2").get<double>(), tol);
    // The registry rows give the same numbers.
    cm::Inputs in;
    in.true_boxes = &gt;
    in.pred_boxes = &pred;
    if (r.stats[0] >= 0) {
      EXPECT_NEAR(cm::score("coco_map", in), c.at("coco_stats")[0].get<double>(), tol);
      EXPECT_NEAR(cm::score("coco_map50", in), c.at("coco_stats")[1].get<double>(), tol);
    }
    EXPECT_NEAR(cm::score("kaggle_map@0.3", in), c.at("kaggle_map_0.3").get<double>(), tol);
    EXPECT_NEAR(cm::score("det_fbeta@2", in), c.at("fbeta_2").get<double>(), tol);
  }
}
