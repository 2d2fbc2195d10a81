// RLE masks, Dice and IoU against an independent numpy implementation
// (tests/golden/REFERENCES-segment.md): every code parses, decodes to the reference pixels,
// formats back to the same text, and scores within 1e-12, directly and through the metric
// registry's dice, dice_global and iou rows.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "compe/metric.hpp"
#include "compe/segment.hpp"

namespace sg = compe::segment;
using nlohmann::json;

TEST(SegmentGolden, EveryCaseMatches) {
  std::ifstream in(std::filesystem::path(COMPE_TEST_DATA) / "golden" / "cases" / "segment" / "masks.json");
  ASSERT_TRUE(in.good());
  const json doc = json::parse(in);
  const double tol = doc.at("tolerance").get<double>();
  ASSERT_GE(doc.at("cases").size(), 10u);
  for (const auto& c : doc.at("cases")) {
    const std::int64_t h = c.at("height"), w = c.at("width");
    std::vector<sg::Mask> truth, pred;
    for (std::size_t i = 0; i < c.at("truth").size(); ++i) {
      const std::string t = c.at("truth")[i], p = c.at("pred")[i];
      truth.push_back(sg::parse_rle(t, w * h, {"masks.json", 0, std::to_string(i)}));
      pred.push_back(sg::parse_rle(p, w * h, {"masks.json", 0, std::to_string(i)}));
      EXPECT_EQ(sg::format_rle(truth.back()), t);
      EXPECT_EQ(sg::format_rle(pred.back()), p);
      const auto pixels = sg::decode(truth.back(), w, h);
      std::string dense;
      for (auto v : pixels) dense += v ? '1' : '0';
      EXPECT_EQ(dense, c.at("truth_pixels")[i].get<std::string>());
      EXPECT_EQ(sg::format_rle(sg::encode(pixels.data(), w, h)), t);
      EXPECT_NEAR(sg::dice(truth.back(), pred.back()), c.at("dice_per_row")[i].get<double>(), tol);
      EXPECT_NEAR(sg::iou(truth.back(), pred.back()), c.at("iou_per_row")[i].get<double>(), tol);
    }
    EXPECT_NEAR(sg::mean_dice(truth, pred), c.at("dice_mean").get<double>(), tol);
    EXPECT_NEAR(sg::mean_iou(truth, pred), c.at("iou_mean").get<double>(), tol);
    EXPECT_NEAR(sg::mean_dice(truth, pred, sg::Reduction::kGlobal), c.at("dice_global").get<double>(), tol);
    EXPECT_NEAR(sg::mean_iou(truth, pred, sg::Reduction::kGlobal), c.at("iou_global").get<double>(), tol);
    // The metric registry's rows (what compe score, the host and shake use) give the same values.
    compe::metric::Inputs masks;
    masks.true_masks = &truth;
    masks.pred_masks = &pred;
    EXPECT_NEAR(compe::metric::score("dice", masks), c.at("dice_mean").get<double>(), tol);
    EXPECT_NEAR(compe::metric::score("dice_global", masks), c.at("dice_global").get<double>(), tol);
    EXPECT_NEAR(compe::metric::score("iou", masks), c.at("iou_mean").get<double>(), tol);
  }
}
