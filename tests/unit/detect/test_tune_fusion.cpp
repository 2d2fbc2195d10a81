// Tuning fusion parameters: determinism, the half split, and that tuning finds what defaults miss.
#include <gtest/gtest.h>

#include <random>
#include <vector>

#include "compe/detect.hpp"
#include "compe/tune/fusion.hpp"
#include "compe/error.hpp"

namespace det = compe::detect;
namespace cm = compe::metric;

namespace {

/// Two models over `n` images of two objects: model 0 is accurate, model 1 shifted and with
/// extra low-score false positives, so fusion should lean on model 0.
struct Data {
  std::vector<det::ImageDetections> images;
  cm::BoxLists gt;
};

Data make(std::size_t n) {
  std::mt19937_64 rng(5);
  std::uniform_real_distribution<double> u(0, 1);
  Data d;
  for (std::size_t i = 0; i < n; ++i) {
    det::ImageDetections img(2);
    std::vector<cm::DetBox> truth;
    for (int k = 0; k < 2; ++k) {
      const double x = 0.05 + 0.45 * k + u(rng) * 0.1, y = u(rng) * 0.5, w = 0.2 + u(rng) * 0.2;
      cm::DetBox g;
      g.x1 = x;
      g.y1 = y;
      g.x2 = x + w;
      g.y2 = y + w;
      truth.push_back(g);
      const double e = (u(rng) - 0.5) * 0.01;
      img[0].boxes.push_back({x + e, y, x + w + e, y + w});
      img[0].scores.push_back(0.6 + 0.4 * u(rng));
      img[0].labels.push_back(0);
      const double s = 0.06 * w;
      img[1].boxes.push_back({x + s, y + s, x + w + s, y + w + s});
      img[1].scores.push_back(0.5 + 0.5 * u(rng));
      img[1].labels.push_back(0);
      img[1].boxes.push_back({0.9 - 0.3 * u(rng), 0.9 - 0.3 * u(rng), 0.95, 0.95});
      img[1].scores.push_back(0.3 * u(rng));
      img[1].labels.push_back(0);
    }
    d.gt.push_row(truth);
    d.images.push_back(std::move(img));
  }
  return d;
}

}  // namespace

TEST(DetectTune, DeterministicNestedAndNoWorseThanDefaults) {
  const Data d = make(20);
  det::TuneFusionOptions o;
  o.metric = "coco_map";
  o.trials = 25;
  o.seed = 7;
  struct Counting : compe::Progress {
    std::vector<std::string> labels;
    std::size_t total = 0, advances = 0, finishes = 0, last = 0;
    void start(std::string_view label, std::size_t n) override {
      labels.emplace_back(label);
      total = n;
    }
    void advance(std::size_t done, std::string_view detail) override {
      ++advances;
      EXPECT_LE(done, total);
      EXPECT_EQ(detail.substr(0, 5), "best ");
      last = done;
    }
    void finish(std::string_view) override { ++finishes; }
  } progress;
  o.progress = &progress;
  const det::TuneFusionResult r = det::tune_fusion(d.images, d.gt, o);
  // Nested and all-image studies: one task each of 25 trials.
  EXPECT_EQ(progress.labels, (std::vector<std::string>{"nested", "all"}));
  EXPECT_EQ(progress.total, 25u);
  EXPECT_EQ(progress.advances, 50u);
  EXPECT_EQ(progress.finishes, 2u);
  EXPECT_EQ(progress.last, 25u);
  ASSERT_TRUE(r.nested);
  EXPECT_EQ(r.tune_images.size(), 10u);
  EXPECT_EQ(r.holdout_images.size(), 10u);
  ASSERT_EQ(r.best.params.weights.size(), 2u);
  ASSERT_EQ(r.single_all.size(), 2u);
  EXPECT_GT(r.single_all[0], r.single_all[1]);
  EXPECT_EQ(r.best_single, 0u);
  // TPE's first trials are random; 25 trials reach the defaults or better on the tuned images.
  EXPECT_GE(r.best.value, r.default_all - 1e-12);
  EXPECT_GT(r.best.value, r.single_all[1]);
  // Same seed, same result.
  o.progress = nullptr;
  const det::TuneFusionResult again = det::tune_fusion(d.images, d.gt, o);
  EXPECT_EQ(again.best.value, r.best.value);
  EXPECT_EQ(again.best.params.weights, r.best.params.weights);
  EXPECT_EQ(again.tune_images, r.tune_images);
  EXPECT_EQ(again.nested_holdout, r.nested_holdout);
}

TEST(DetectTune, RejectsBadInput) {
  const Data d = make(3);
  det::TuneFusionOptions o;
  o.metric = "rmse";
  o.trials = 2;
  EXPECT_THROW(det::tune_fusion(d.images, d.gt, o), compe::Error);
  o.metric = "kaggle_map";
  cm::BoxLists short_gt;
  short_gt.push_row(d.gt.row(0));
  EXPECT_THROW(det::tune_fusion(d.images, short_gt, o), compe::Error);
  o.trials = 0;
  EXPECT_THROW(det::tune_fusion(d.images, d.gt, o), compe::Error);
  o.trials = 2;
  o.nested = false;
  o.method = "nms";
  const det::TuneFusionResult r = det::tune_fusion(d.images, d.gt, o);
  EXPECT_FALSE(r.nested);
  EXPECT_FALSE(r.best.params.iou_thr.has_value() && *r.best.params.iou_thr < 0.3);
}
