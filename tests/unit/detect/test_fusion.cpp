// Hand-computed fusion cases, input checks and the batch API.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <string>
#include <vector>

#include "compe/detect.hpp"
#include "compe/error.hpp"

namespace det = compe::detect;

namespace {

det::ModelDetections model(std::vector<det::Coords> boxes, std::vector<double> scores,
                           std::vector<std::int64_t> labels) {
  return {std::move(boxes), std::move(scores), std::move(labels)};
}

// Two overlapping boxes (IoU 0.81) from two models, one label.
det::ImageDetections pair_image() {
  return {model({{0.1, 0.1, 0.5, 0.5}}, {0.9}, {0}), model({{0.12, 0.1, 0.52, 0.5}}, {0.6}, {0})};
}

det::ImageDetections random_image(std::mt19937& rng, int models, int boxes, int labels) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  det::ImageDetections img(static_cast<std::size_t>(models));
  std::vector<det::Coords> base;
  for (int b = 0; b < boxes; ++b) {
    double x = u(rng) * 0.8, y = u(rng) * 0.8;
    base.push_back({x, y, x + 0.05 + u(rng) * 0.15, y + 0.05 + u(rng) * 0.15});
  }
  for (auto& m : img) {
    for (int b = 0; b < boxes; ++b) {
      if (u(rng) < 0.2) continue;
      det::Coords c = base[static_cast<std::size_t>(b)];
      double j = (u(rng) - 0.5) * 0.02;
      m.boxes.push_back({c.x1 + j, c.y1 - j, c.x2 + j, c.y2 + j});
      m.scores.push_back(u(rng));
      m.labels.push_back(b % labels);
    }
  }
  return img;
}

template <typename F>
compe::ErrorCode error_code_of(F&& f) {
  try {
    f();
  } catch (const compe::Error& e) {
    return e.code();
  }
  return compe::ErrorCode::kInternal;
}

}  // namespace

TEST(DetectIou, HandComputed) {
  EXPECT_DOUBLE_EQ(det::iou({0, 0, 0.5, 0.5}, {0, 0, 0.5, 0.5}), 1.0);
  EXPECT_DOUBLE_EQ(det::iou({0, 0, 0.5, 0.5}, {0.25, 0, 0.75, 0.5}), 1.0 / 3.0);
  EXPECT_DOUBLE_EQ(det::iou({0, 0, 0.2, 0.2}, {0.2, 0, 0.4, 0.2}), 0.0);  // touching edges
  EXPECT_DOUBLE_EQ(det::iou({0, 0, 0.1, 0.1}, {0.5, 0.5, 0.9, 0.9}), 0.0);
  EXPECT_DOUBLE_EQ(det::iou({0, 0, 1, 1}, {0.25, 0.25, 0.75, 0.75}), 0.25);  // contained
}

TEST(DetectWbf, AveragesTwoBoxesByScore) {
  auto f = det::make("wbf");
  auto out = f->fuse(pair_image());
  ASSERT_EQ(out.size(), 1u);
  EXPECT_NEAR(out[0].x1, (0.9 * 0.1 + 0.6 * 0.12) / 1.5, 1e-7);
  EXPECT_NEAR(out[0].x2, (0.9 * 0.5 + 0.6 * 0.52) / 1.5, 1e-7);
  EXPECT_NEAR(out[0].y1, 0.1, 1e-7);
  EXPECT_NEAR(out[0].score, 0.75, 1e-7);  // (1.5 / 2) * min(2, 2) / 2
  EXPECT_EQ(out[0].label, 0);
  EXPECT_EQ(out[0].model, -1);
}

TEST(DetectWbf, WeightsAndConfTypes) {
  // Weighted scores 1.8 and 0.6; a third box only in model 1 (weight 1, score 0.6).
  det::ImageDetections img = pair_image();
  img[1].boxes.push_back({0.7, 0.7, 0.9, 0.9});
  img[1].scores.push_back(0.6);
  img[1].labels.push_back(0);
  struct Expect {
    det::ConfType type;
    double pair;
    double single;
  };
  const Expect cases[] = {
      {det::ConfType::kAvg, 2.4 / 2 * 2 / 3, 0.6 / 3},
      {det::ConfType::kMax, 1.8 / 2, 0.6 / 2},
      {det::ConfType::kBoxAndModelAvg, 2.4 / 2 * 2 / 3 * 3 / 3, 0.6 / 1 * 1 / 3},
      {det::ConfType::kAbsentModelAwareAvg, 2.4 / 2 * 2 / 3, 0.6 / (1 + 2)},
  };
  for (const Expect& c : cases) {
    SCOPED_TRACE(std::string(det::conf_type_name(c.type)));
    det::Params p;
    p.weights = {2, 1};
    p.conf_type = c.type;
    auto out = det::make("wbf", p)->fuse(img);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_NEAR(out[0].score, c.pair, 1e-7);
    EXPECT_NEAR(out[1].score, c.single, 1e-7);
    EXPECT_NEAR(out[0].x1, (1.8 * 0.1 + 0.6 * 0.12) / 2.4, 1e-7);
  }
}

TEST(DetectWbf, LabelsAreFusedSeparately) {
  det::ImageDetections img = {model({{0.1, 0.1, 0.5, 0.5}}, {0.9}, {3}),
                              model({{0.1, 0.1, 0.5, 0.5}}, {0.8}, {7})};
  for (const det::Info& row : det::builtin()) {
    SCOPED_TRACE(row.name);
    auto out = det::make(row.name)->fuse(img);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_NE(out[0].label, out[1].label);
  }
}

TEST(DetectWbf, SkipThresholdIsStrictAndCounted) {
  det::ImageDetections img = {
      model({{0.1, 0.1, 0.5, 0.5}, {0.6, 0.6, 0.8, 0.8}}, {0.3, 0.29}, {0, 0})};
  det::Params p;
  p.skip_box_thr = 0.3;
  det::Report r;
  auto out = det::make("wbf", p)->fuse(img, &r);
  ASSERT_EQ(out.size(), 1u);  // score == thr is kept, as in the reference (score < thr skips)
  EXPECT_NEAR(out[0].score, 0.3, 1e-12);
  EXPECT_EQ(r.below_skip_thr, 1u);
  EXPECT_EQ(r.boxes_in, 2u);
  EXPECT_EQ(r.boxes_out, 1u);
}

TEST(DetectWbf, MatchNeedsIouAboveThreshold) {
  // IoU exactly 1/3: no match at iou_thr 1/3, a match just below.
  det::ImageDetections img = {model({{0, 0, 0.5, 0.5}}, {0.9}, {0}),
                              model({{0.25, 0, 0.75, 0.5}}, {0.8}, {0})};
  det::Params p;
  p.iou_thr = 1.0 / 3.0;
  EXPECT_EQ(det::make("wbf", p)->fuse(img).size(), 2u);
  p.iou_thr = 0.33;
  EXPECT_EQ(det::make("wbf", p)->fuse(img).size(), 1u);
}

TEST(DetectWbf, ReferenceAvgOverflowsAndCorrectedDoesNot) {
  // ensemble_boxes issue #40: the heavier model contributes two boxes to one cluster.
  det::ImageDetections img = {
      model({{0.1, 0.1, 0.2, 0.2}, {0.1, 0.1, 0.2, 0.2}}, {1.0, 1.0}, {0, 0}),
      model({{0.3, 0.3, 0.4, 0.4}}, {0.5}, {0})};
  det::Params p;
  p.weights = {2, 1};
  p.iou_thr = 0.5;
  auto ref = det::make("wbf", p)->fuse(img);
  ASSERT_EQ(ref.size(), 2u);
  EXPECT_NEAR(ref[0].score, 4.0 / 3.0, 1e-6);  // the reference's 1.33333337
  EXPECT_NEAR(ref[1].score, 0.5 / 3.0, 1e-7);
  det::Params overflow = p;
  overflow.allows_overflow = true;  // scaled by boxes / sum(weights): 2 boxes, weights sum 3
  auto over = det::make("wbf", overflow)->fuse(img);
  ASSERT_EQ(over.size(), 2u);
  EXPECT_NEAR(over[0].score, 4.0 / 3.0, 1e-6);
  EXPECT_NEAR(over[1].score, 0.5 / 3.0, 1e-7);
  p.corrected_conf = true;
  auto fixed = det::make("wbf", p)->fuse(img);
  ASSERT_EQ(fixed.size(), 2u);
  EXPECT_NEAR(fixed[0].score, 1.0, 1e-12);
  EXPECT_NEAR(fixed[1].score, 0.5 / 3.0, 1e-12);
  EXPECT_DOUBLE_EQ(fixed[0].x1, ref[0].x1);
}

TEST(DetectWbf, CorrectedEqualsReferenceWithUnitWeights) {
  std::mt19937 rng(7);
  det::Params ref_p, fix_p;
  fix_p.corrected_conf = true;
  auto ref = det::make("wbf", ref_p), fix = det::make("wbf", fix_p);
  for (int i = 0; i < 20; ++i) {
    auto img = random_image(rng, 3, 20, 3);
    auto a = ref->fuse(img), b = fix->fuse(img);
    ASSERT_EQ(a.size(), b.size());
    for (std::size_t k = 0; k < a.size(); ++k) EXPECT_NEAR(a[k].score, b[k].score, 1e-6);
  }
}

TEST(DetectWbf, ZeroConfidenceClusterHasFiniteCornersAndIsCounted) {
  det::ImageDetections img = {model({{0.1, 0.1, 0.5, 0.5}}, {0.0}, {0}),
                              model({{0.1, 0.1, 0.5, 0.5}}, {0.0}, {0})};
  det::Report r;
  auto out = det::make("wbf")->fuse(img, &r);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_NEAR(out[0].x1, 0.1, 1e-7);
  EXPECT_EQ(r.zero_conf_clusters, 1u);
}

TEST(DetectNms, KeepsBestPerOverlapGroupLabelsAscending) {
  det::ImageDetections img = {
      model({{0.1, 0.1, 0.5, 0.5}, {0.6, 0.6, 0.9, 0.9}}, {0.7, 0.95}, {5, 2}),
      model({{0.11, 0.1, 0.5, 0.5}}, {0.9}, {5})};
  auto out = det::make("nms")->fuse(img);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].label, 2);  // np.unique order, not score order
  EXPECT_EQ(out[1].label, 5);
  EXPECT_DOUBLE_EQ(out[1].score, 0.9);
  EXPECT_EQ(out[1].model, 1);
  EXPECT_DOUBLE_EQ(out[1].x1, 0.11);
  // Weights rescale scores by weight / sum(weights).
  det::Params p;
  p.weights = {3, 1};
  out = det::make("nms", p)->fuse(img);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_DOUBLE_EQ(out[1].score, 0.7 * 3 / 4);
  EXPECT_EQ(out[1].model, 0);
}

TEST(DetectSoftNms, LinearDecayDecidesKeepAndScoresOptionallyDecay) {
  // IoU 1/3 between the two boxes.
  det::ImageDetections img = {model({{0, 0, 0.5, 0.5}, {0.25, 0, 0.75, 0.5}}, {0.9, 0.6}, {0, 0})};
  det::Params p;
  p.soft_kind = det::SoftNmsKind::kLinear;
  p.iou_thr = 0.3;
  auto out = det::make("soft_nms", p)->fuse(img);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_DOUBLE_EQ(out[1].score, 0.6);  // the reference reports the input score
  p.decayed_scores = true;
  out = det::make("soft_nms", p)->fuse(img);
  EXPECT_NEAR(out[1].score, 0.6 * (1 - 1.0 / 3.0), 1e-12);
  p.thresh = 0.5;  // decayed 0.4 <= thresh: dropped
  EXPECT_EQ(det::make("soft_nms", p)->fuse(img).size(), 1u);
  det::Params g;
  g.sigma = 0.5;
  out = det::make("soft_nms", g)->fuse(img);
  ASSERT_EQ(out.size(), 2u);
  g.decayed_scores = true;
  out = det::make("soft_nms", g)->fuse(img);
  EXPECT_NEAR(out[1].score, 0.6 * std::exp(-(1.0 / 9.0) / 0.5), 1e-12);
}

TEST(DetectNmw, BestBoxScoreWithIouWeightedCorners) {
  auto out = det::make("nmw")->fuse(pair_image());
  ASSERT_EQ(out.size(), 1u);
  const double v = det::iou({0.1, 0.1, 0.5, 0.5}, {0.12, 0.1, 0.52, 0.5});
  EXPECT_NEAR(out[0].score, 0.9, 1e-7);
  EXPECT_NEAR(out[0].x1, (0.9 * 0.1 + 0.6 * v * 0.12) / (0.9 + 0.6 * v), 1e-7);
}

TEST(DetectInput, BadInputIsAnErrorOrCountedClip) {
  using compe::ErrorCode;
  auto wbf = det::make("wbf");
  EXPECT_EQ(error_code_of([&] {
              wbf->fuse(det::ImageDetections{model({{0, 0, 1, 1}}, {0.5, 0.4}, {0})});
            }),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(error_code_of([&] {
              wbf->fuse(det::ImageDetections{model({{0, 0, 1, 1}}, {0.5}, {})});
            }),
            ErrorCode::kInvalidArgument);
  const double nan = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(error_code_of([&] {
              wbf->fuse(det::ImageDetections{model({{0, 0, 1, 1}}, {nan}, {0})});
            }),
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(error_code_of([&] {
              wbf->fuse(det::ImageDetections{model({{0, nan, 1, 1}}, {0.5}, {0})});
            }),
            ErrorCode::kInvalidArgument);
  det::Params p;
  p.weights = {1, 2, 3};
  EXPECT_EQ(error_code_of([&] { det::make("wbf", p)->fuse(pair_image()); }),
            ErrorCode::kInvalidArgument);
  try {
    wbf->fuse(det::ImageDetections{model({{0, 0, 1, 1}}, {nan}, {0})});
  } catch (const compe::Error& e) {
    EXPECT_NE(std::string(e.what()).find("model 0, box 0"), std::string::npos) << e.what();
  }

  // The reference's clip: swap inverted corners, clip to [0, 1], drop zero area; all counted.
  det::ImageDetections img = {
      model({{0.5, 0.5, 0.1, 0.1}, {-0.2, 0.1, 1.3, 0.4}, {0.3, 0.3, 0.3, 0.6}}, {0.9, 0.8, 0.7},
            {0, 1, 2})};
  for (const det::Info& row : det::builtin()) {
    SCOPED_TRACE(row.name);
    det::Report r;
    auto out = det::make(row.name)->fuse(img, &r);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(r.swapped_boxes, 1u);
    EXPECT_EQ(r.clipped_coords, 2u);
    EXPECT_EQ(r.zero_area_dropped, 1u);
    for (const det::Box& b : out) {
      EXPECT_LE(b.x1, b.x2);
      EXPECT_GE(b.x1, 0.0);
      EXPECT_LE(b.x2, 1.0);
    }
    det::Params strict;
    strict.bad_boxes = det::BadBoxPolicy::kError;
    for (std::size_t k = 0; k < 3; ++k) {
      det::ImageDetections one = {model({img[0].boxes[k]}, {0.5}, {0})};
      EXPECT_EQ(error_code_of([&] { det::make(row.name, strict)->fuse(one); }),
                ErrorCode::kInvalidArgument);
    }
  }
}

TEST(DetectInput, BadParamsAreRejected) {
  using compe::ErrorCode;
  det::Params p;
  p.weights = {1, -1};
  EXPECT_EQ(error_code_of([&] { det::make("wbf", p); }), ErrorCode::kInvalidArgument);
  p.weights = {0, 0};
  EXPECT_EQ(error_code_of([&] { det::make("wbf", p); }), ErrorCode::kInvalidArgument);
  det::Params q;
  q.iou_thr = 1.5;
  EXPECT_EQ(error_code_of([&] { det::make("nms", q); }), ErrorCode::kInvalidArgument);
  det::Params c;
  c.conf_type = det::ConfType::kMax;
  EXPECT_EQ(error_code_of([&] { det::make("nms", c); }), ErrorCode::kInvalidArgument);
  c.corrected_conf = true;
  EXPECT_EQ(error_code_of([&] { det::make("wbf", c); }), ErrorCode::kInvalidArgument);
  det::Params s;
  s.skip_box_thr = 0.1;
  EXPECT_EQ(error_code_of([&] { det::make("soft_nms", s); }), ErrorCode::kInvalidArgument);
  EXPECT_EQ(error_code_of([&] { det::parse_conf_type("mean"); }), ErrorCode::kInvalidArgument);
  EXPECT_EQ(error_code_of([&] { det::parse_soft_nms_kind("3"); }), ErrorCode::kInvalidArgument);
}

TEST(DetectBatch, MatchesSingleImageFusionOnAnyThreadCount) {
  std::mt19937 rng(11);
  std::vector<det::ImageDetections> images;
  for (int i = 0; i < 40; ++i) images.push_back(random_image(rng, 4, 30, 4));
  auto f = det::make("wbf");
  det::Report r1, r4;
  auto one = det::fuse_batch(*f, images, &r1, 1);
  auto four = det::fuse_batch(*f, images, &r4, 4);
  ASSERT_EQ(one.size(), images.size());
  for (std::size_t i = 0; i < images.size(); ++i) {
    auto single = f->fuse(images[i]);
    ASSERT_EQ(single.size(), one[i].size());
    ASSERT_EQ(single.size(), four[i].size());
    for (std::size_t k = 0; k < single.size(); ++k) {
      EXPECT_EQ(single[k].score, one[i][k].score);
      EXPECT_EQ(single[k].x1, four[i][k].x1);
      EXPECT_EQ(single[k].label, four[i][k].label);
    }
  }
  EXPECT_EQ(r1.images, 40u);
  EXPECT_EQ(r1.boxes_out, r4.boxes_out);
  images[17][2].scores.pop_back();
  try {
    det::fuse_batch(*f, images, nullptr, 4);
    FAIL() << "expected an error";
  } catch (const compe::Error& e) {
    EXPECT_NE(std::string(e.what()).find("image 17"), std::string::npos) << e.what();
    ASSERT_TRUE(e.context().image.has_value());
    EXPECT_EQ(*e.context().image, 17u);
    EXPECT_FALSE(e.context().image_id.has_value());
  }
  std::vector<std::string> ids;
  for (std::size_t i = 0; i < images.size(); ++i) ids.push_back("img" + std::to_string(i));
  try {
    det::fuse_batch(*f, images, nullptr, 4, ids);
    FAIL() << "expected an error";
  } catch (const compe::Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("image_id img17: ", 0), 0u) << e.what();
    EXPECT_EQ(e.context().image, std::optional<std::size_t>(17));
    EXPECT_EQ(e.context().image_id, std::optional<std::string>("img17"));
  }
}

TEST(DetectArgsort, ReproducesNumpyTieOrder) {
  // Expected orders from numpy 1.24.2: np.argsort(values) (kind="quicksort").
  const std::vector<double> v = {0.5, 0.1, 0.5, 0.9, 0.5, 0.1, 0.3, 0.5, 0.5, 0.9, 0.1, 0.5, 0.3,
                                 0.5, 0.7, 0.5, 0.5, 0.1, 0.9, 0.5, 0.5, 0.3, 0.5, 0.1, 0.5};
  std::vector<std::uint32_t> order;
  det::numpy_argsort(v, order);
  EXPECT_EQ(order, (std::vector<std::uint32_t>{1, 5,  17, 10, 23, 12, 21, 6,  22, 20, 19, 16, 15,
                                               0, 11, 8,  7,  4,  2,  13, 24, 14, 9,  18, 3}));
  det::numpy_argsort(std::vector<double>(40, 0.25), order);
  EXPECT_EQ(order,
            (std::vector<std::uint32_t>{0,  22, 23, 24, 25, 26, 27, 28, 21, 29, 31, 32, 33, 34,
                                        35, 36, 37, 30, 20, 19, 18, 1,  2,  3,  4,  5,  6,  7,
                                        8,  9,  10, 11, 12, 13, 14, 15, 16, 17, 38, 39}));
  std::mt19937 rng(3);
  std::vector<double> r(5000);
  for (double& x : r) x = static_cast<double>(rng() % 50);
  det::numpy_argsort(r, order);
  for (std::size_t i = 1; i < order.size(); ++i) ASSERT_LE(r[order[i - 1]], r[order[i]]);
}

TEST(DetectGrouping, ManyAndNegativeLabelsStaySeparate) {
  // 700 boxes, the same corners, labels spread over negative and large values: nothing fuses,
  // wbf keeps score order and nms returns labels in ascending order.
  det::ImageDetections img(2);
  std::mt19937 rng(1);
  std::vector<std::int64_t> labels;
  for (int i = 0; i < 700; ++i) labels.push_back((i * 7919) % 700 - 350 + (i % 3) * 1000000007LL);
  std::shuffle(labels.begin(), labels.end(), rng);
  for (int i = 0; i < 700; ++i) {
    auto& m = img[static_cast<std::size_t>(i % 2)];
    m.boxes.push_back({0.1, 0.1, 0.4, 0.4});
    m.scores.push_back(0.001 * (i + 1));
    m.labels.push_back(labels[static_cast<std::size_t>(i)]);
  }
  auto wbf = det::make("wbf")->fuse(img);
  ASSERT_EQ(wbf.size(), 700u);
  for (std::size_t i = 1; i < wbf.size(); ++i) EXPECT_GT(wbf[i - 1].score, wbf[i].score);
  auto nms = det::make("nms")->fuse(img);
  ASSERT_EQ(nms.size(), 700u);
  for (std::size_t i = 1; i < nms.size(); ++i) EXPECT_LT(nms[i - 1].label, nms[i].label);
  // Repeated labels across images with a reused workspace give the same result.
  det::Workspace ws;
  det::Report r;
  std::vector<det::Box> out;
  auto f = det::make("wbf");
  f->fuse(img, out, r, ws);
  f->fuse(img, out, r, ws);
  ASSERT_EQ(out.size(), wbf.size());
  for (std::size_t i = 0; i < out.size(); ++i) EXPECT_EQ(out[i].label, wbf[i].label);
}
