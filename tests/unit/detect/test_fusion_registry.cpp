// One loop over every row of the fusion-method table: each property holds for every method.
#include <gtest/gtest.h>

#include <random>
#include <set>
#include <string>
#include <vector>

#include "compe/detect.hpp"
#include "compe/error.hpp"

namespace det = compe::detect;

namespace {

std::vector<det::ImageDetections> images(unsigned seed, int n) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<det::ImageDetections> out;
  for (int i = 0; i < n; ++i) {
    det::ImageDetections img(3);
    for (auto& m : img) {
      for (int b = 0; b < 25; ++b) {
        double x = u(rng) * 0.7, y = u(rng) * 0.7;
        m.boxes.push_back({x, y, x + 0.1 + u(rng) * 0.2, y + 0.1 + u(rng) * 0.2});
        m.scores.push_back(u(rng));
        m.labels.push_back(b % 3);
      }
    }
    out.push_back(std::move(img));
  }
  return out;
}

bool same(const std::vector<det::Box>& a, const std::vector<det::Box>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].x1 != b[i].x1 || a[i].y1 != b[i].y1 || a[i].x2 != b[i].x2 || a[i].y2 != b[i].y2 ||
        a[i].score != b[i].score || a[i].label != b[i].label || a[i].model != b[i].model) {
      return false;
    }
  }
  return true;
}

}  // namespace

TEST(DetectRegistry, EveryMethodHonoursTheContract) {
  const auto imgs = images(5, 12);
  std::set<std::string> names;
  ASSERT_GE(det::builtin().size(), 4u);
  for (const det::Info& row : det::builtin()) {
    SCOPED_TRACE(row.name);
    EXPECT_TRUE(names.insert(row.name).second) << "duplicate name";
    EXPECT_FALSE(row.summary.empty());
    EXPECT_TRUE(row.uses & det::kUsesIouThr);
    EXPECT_EQ(&det::find(row.name), &row);
    for (const std::string& a : row.aliases) EXPECT_EQ(&det::find(a), &row);
    auto f = det::make(row.name);
    EXPECT_EQ(&f->info(), &row);
    EXPECT_DOUBLE_EQ(f->iou_thr(), row.default_iou_thr);

    // Deterministic, and the batch API agrees with one image at a time.
    det::Report report;
    auto batch = det::fuse_batch(*f, imgs, &report, 3);
    EXPECT_EQ(report.images, imgs.size());
    for (std::size_t i = 0; i < imgs.size(); ++i) {
      auto single = f->fuse(imgs[i]);
      EXPECT_TRUE(same(single, batch[i]));
      EXPECT_TRUE(same(single, f->fuse(imgs[i])));
      // Valid boxes, labels from the input, and fewer boxes than given.
      EXPECT_LE(single.size(), 75u);
      EXPECT_FALSE(single.empty());
      for (const det::Box& b : single) {
        EXPECT_TRUE(b.x1 >= 0 && b.x1 <= b.x2 && b.x2 <= 1 && b.y1 >= 0 && b.y1 <= b.y2 && b.y2 <= 1);
        EXPECT_TRUE(b.label >= 0 && b.label < 3);
        EXPECT_EQ(b.model == -1, row.fuses_coordinates);
      }
      // Unit weights are no weights, unless weights rescale by their sum (then by 1/models).
      det::Params unit;
      unit.weights = {1, 1, 1};
      auto weighted = det::make(row.name, unit)->fuse(imgs[i]);
      if (!row.weights_scale_by_sum) {
        EXPECT_TRUE(same(single, weighted));
      } else if (row.name == "nms") {
        ASSERT_EQ(weighted.size(), single.size());
        for (std::size_t k = 0; k < single.size(); ++k) {
          EXPECT_NEAR(weighted[k].score, single[k].score / 3, 1e-12);
        }
      }
    }

    // Empty input gives no boxes; size mismatches and wrong weight counts are errors.
    det::ImageDetections empty(2);
    EXPECT_TRUE(f->fuse(empty).empty());
    det::ImageDetections bad = imgs[0];
    bad[1].labels.pop_back();
    EXPECT_THROW(f->fuse(bad), compe::Error);
    det::Params two;
    two.weights = {1, 2};
    EXPECT_THROW(det::make(row.name, two)->fuse(imgs[0]), compe::Error);
  }
}

TEST(DetectRegistry, UnknownNameSuggestsClosest) {
  try {
    det::find("wbff");
    FAIL() << "expected an error";
  } catch (const compe::Error& e) {
    EXPECT_EQ(e.code(), compe::ErrorCode::kNotFound);
    const std::string msg = e.what();
    EXPECT_NE(msg.find("did you mean 'wbf'"), std::string::npos) << msg;
    EXPECT_NE(msg.find("soft_nms"), std::string::npos) << msg;
  }
}
