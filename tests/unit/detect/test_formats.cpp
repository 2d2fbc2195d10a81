// Detection formats: ground-truth CSV, COCO JSON, PredictionString, image sizes, box checks.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "compe/detect.hpp"
#include "compe/error.hpp"
#include "compe/util.hpp"

namespace det = compe::detect;
namespace cm = compe::metric;
namespace fs = std::filesystem;

namespace {

fs::path write_tmp(const std::string& name, const std::string& text) {
  const fs::path dir = fs::temp_directory_path() / "compe_detect_formats";
  fs::create_directories(dir);
  const fs::path p = dir / name;
  compe::write_file_atomic(p, text);
  return p;
}

template <typename Fn>
std::string error_of(Fn fn) {
  try {
    fn();
  } catch (const compe::Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST(DetectFormats, GroundTruthCsv) {
  const auto p = write_tmp("gt.csv",
                           "image_id,x1,y1,x2,y2,label,iscrowd\n"
                           "a,0,0,10,10,1,0\n"
                           "b,,,,,,\n"
                           "a,5,5,20,30,2,1\n");
  const det::GroundTruth gt = det::read_ground_truth_csv(p, det::BoxFormat::kXyxy);
  ASSERT_EQ(gt.image_ids, (std::vector<std::string>{"a", "b"}));
  ASSERT_EQ(gt.boxes.row(0).size(), 2u);
  EXPECT_EQ(gt.boxes.row(1).size(), 0u);
  EXPECT_EQ(gt.boxes.row(0)[1].label, 2);
  EXPECT_TRUE(gt.boxes.row(0)[1].crowd);
  EXPECT_FALSE(gt.boxes.row(0)[0].crowd);
  EXPECT_EQ(gt.categories, (std::vector<std::int64_t>{1, 2}));
  EXPECT_EQ(gt.index_of("b", "x"), 1u);
  EXPECT_NE(error_of([&] { gt.index_of("zz", "preds.csv"); }).find("'zz'"), std::string::npos);

  const auto q = write_tmp("gt_xywh.csv", "image_id,x,y,w,h,label\na,1,2,3,4,0\n");
  const det::GroundTruth g2 = det::read_ground_truth_csv(q, det::BoxFormat::kXywh);
  EXPECT_EQ(g2.boxes.row(0)[0].x2, 4.0);
  EXPECT_EQ(g2.boxes.row(0)[0].y2, 6.0);

  const auto bad = write_tmp("gt_bad.csv", "image_id,x1,y1,x2,y2,label\na,0,,1,1,0\n");
  EXPECT_NE(error_of([&] { det::read_ground_truth_csv(bad, det::BoxFormat::kXyxy); })
                .find(":2: column 'y1' is empty"),
            std::string::npos);
  const auto crowd = write_tmp("gt_crowd.csv", "image_id,x1,y1,x2,y2,label,iscrowd\na,0,0,1,1,0,2\n");
  EXPECT_NE(error_of([&] { det::read_ground_truth_csv(crowd, det::BoxFormat::kXyxy); })
                .find("iscrowd is '2'"),
            std::string::npos);
}

TEST(DetectFormats, SizesAndConversionsAreExact) {
  const auto p = write_tmp("sizes.csv", "image_id,width,height\na,640,480\nb,1024,768\n");
  const det::ImageSizes sizes = det::read_image_sizes_csv(p);
  ASSERT_EQ(sizes.size(), 2u);
  cm::BoxLists boxes;
  cm::DetBox b;
  b.x1 = 64;
  b.y1 = 48;
  b.x2 = 320;
  b.y2 = 480;
  boxes.push_row(std::vector{b});
  boxes.push_row(std::vector{b});
  const std::vector<std::string> ids{"a", "b"};
  det::to_normalised(ids, boxes, sizes);
  EXPECT_EQ(boxes.row(0)[0].x1, 0.1);
  EXPECT_EQ(boxes.row(0)[0].y1, 0.1);
  EXPECT_EQ(boxes.row(0)[0].x2, 0.5);
  EXPECT_EQ(boxes.row(0)[0].y2, 1.0);
  EXPECT_EQ(boxes.row(1)[0].x2, 320.0 / 1024);
  det::to_pixels(ids, boxes, sizes);
  EXPECT_EQ(boxes.row(0)[0].x1, 64.0);
  EXPECT_EQ(boxes.row(0)[0].x2, 320.0);
  EXPECT_EQ(boxes.row(1)[0].y2, 480.0);
  // Round trips of every integer pixel coordinate of a 1000-pixel-wide image stay within 1 ulp.
  for (int x = 0; x <= 1000; ++x) {
    const double n = x / 1000.0;
    EXPECT_LE(std::fabs(n * 1000.0 - x), std::nextafter(static_cast<double>(x), 2e3) - x);
  }
  const std::vector<std::string> unknown{"zz", "b"};
  EXPECT_NE(error_of([&] { det::to_normalised(unknown, boxes, sizes); }).find("'zz' has no size"),
            std::string::npos);
  const auto bad = write_tmp("sizes_bad.csv", "image_id,width,height\na,0,480\n");
  EXPECT_THROW(det::read_image_sizes_csv(bad), compe::Error);
}

TEST(DetectFormats, CocoAnnotationsAndResults) {
  const auto p = write_tmp("coco.json", R"({
    "images": [{"id": 1, "width": 640, "height": 480}, {"id": 2, "width": 100, "height": 100}],
    "categories": [{"id": 3, "name": "face"}, {"id": 5, "name": "cat"}],
    "annotations": [
      {"id": 1, "image_id": 1, "category_id": 3, "bbox": [10, 20, 30, 40], "iscrowd": 0, "area": 900},
      {"id": 2, "image_id": 1, "category_id": 5, "bbox": [0, 0, 5, 5], "iscrowd": 1}
    ]})");
  const det::CocoDataset d = det::read_coco_annotations(p);
  ASSERT_EQ(d.gt.image_ids, (std::vector<std::string>{"1", "2"}));
  EXPECT_EQ(d.gt.categories, (std::vector<std::int64_t>{3, 5}));
  EXPECT_EQ(d.gt.category_names.at(3), "face");
  ASSERT_EQ(d.gt.boxes.row(0).size(), 2u);
  EXPECT_EQ(d.gt.boxes.row(0)[0].x2, 40.0);
  EXPECT_EQ(d.gt.boxes.row(0)[0].y2, 60.0);
  EXPECT_EQ(d.gt.boxes.row(0)[0].area, 900.0);
  EXPECT_TRUE(d.gt.boxes.row(0)[1].crowd);
  EXPECT_EQ(d.sizes.at("2").width, 100.0);

  const auto bad = write_tmp("coco_bad.json", R"({"images": [{"id": 1}], "categories": [{"id": 1}],
    "annotations": [{"image_id": 9, "category_id": 1, "bbox": [0, 0, 1, 1]}]})");
  EXPECT_NE(error_of([&] { det::read_coco_annotations(bad); }).find("/annotations/0"),
            std::string::npos);
  const auto bad2 = write_tmp("coco_bad2.json", R"({"images": [{"id": 1}], "categories": [{"id": 1}],
    "annotations": [{"image_id": 1, "category_id": 1, "bbox": [0, 0, 1]}]})");
  EXPECT_NE(error_of([&] { det::read_coco_annotations(bad2); }).find("/annotations/0/bbox"),
            std::string::npos);

  // Results: write, read back, same boxes.
  std::vector<std::string> ids{"1", "img_b"};
  std::vector<std::vector<det::Box>> boxes(2);
  boxes[0].push_back({10, 20, 40, 60, 0.75, 3, -1});
  boxes[1].push_back({0.5, 1.5, 2.5, 4.5, 0.1, 5, -1});
  const std::string text = det::coco_results_string(ids, boxes);
  EXPECT_NE(text.find(R"("image_id": 1,)"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("image_id": "img_b")"), std::string::npos) << text;
  EXPECT_NE(text.find(R"("bbox": [10, 20, 30, 40])"), std::string::npos) << text;
  const det::DetectionsFile f = det::read_coco_results(write_tmp("res.json", text));
  ASSERT_EQ(f.image_ids, ids);
  EXPECT_EQ(f.images[0].boxes[0].x2, 40.0);
  EXPECT_EQ(f.images[1].boxes[0].y2, 4.5);
  EXPECT_EQ(f.images[0].scores[0], 0.75);
  EXPECT_EQ(f.images[1].labels[0], 5);
}

TEST(DetectFormats, PredictionString) {
  std::vector<det::Box> out;
  det::parse_prediction_string("0.9 10 20 30 40 0.5 0 0 5 5", false, "x", out);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].score, 0.9);
  EXPECT_EQ(out[0].x2, 40.0);
  EXPECT_EQ(out[0].y2, 60.0);
  EXPECT_EQ(out[1].label, 0);
  EXPECT_EQ(det::prediction_string(out, false), "0.9 10 20 30 40 0.5 0 0 5 5");
  out.clear();
  det::parse_prediction_string("2 0.9 10 20 30 40", true, "x", out);
  EXPECT_EQ(out[0].label, 2);
  EXPECT_EQ(det::prediction_string(out, true), "2 0.9 10 20 30 40");
  out.clear();
  EXPECT_NE(error_of([&] { det::parse_prediction_string("0.9 1 2 3", false, "f.csv:3", out); })
                .find("f.csv:3: PredictionString has 4 numbers"),
            std::string::npos);
  EXPECT_NE(error_of([&] { det::parse_prediction_string("0.9 1 2 3 x", false, "f", out); })
                .find("token 5 'x'"),
            std::string::npos);

  std::vector<std::string> ids{"a", "b"};
  std::vector<std::vector<det::Box>> boxes(2);
  boxes[0].push_back({1, 2, 4, 6, 0.5, 0, -1});
  const auto p = write_tmp("ps.csv", det::prediction_string_csv(ids, boxes, false));
  const det::DetectionsFile f = det::read_prediction_string_csv(p, false);
  ASSERT_EQ(f.image_ids, ids);
  EXPECT_EQ(f.images[0].boxes[0].x2, 4.0);
  EXPECT_TRUE(f.images[1].boxes.empty());
}

TEST(DetectFormats, BoxChecksErrorOrCountedFix) {
  auto make = [] {
    cm::BoxLists l;
    std::vector<cm::DetBox> row(4);
    row[0] = {0.5, 0.1, 0.2, 0.3, 0.9};   // x inverted
    row[1] = {-0.1, 0.1, 0.2, 1.2, 0.8};  // outside on two sides
    row[2] = {0.3, 0.3, 0.3, 0.5, 0.7};   // zero width
    row[3] = {0.1, 0.1, 0.2, 0.2, 0.6};   // fine
    l.push_row(row);
    return l;
  };
  const std::vector<std::string> ids{"img7"};
  const std::vector<det::ImageSize> unit{{1, 1}};
  cm::BoxLists l = make();
  const std::string e = error_of([&] { det::check_boxes(l, ids, unit, false, "p.csv"); });
  EXPECT_NE(e.find("p.csv: image_id 'img7', box 1"), std::string::npos) << e;
  EXPECT_NE(e.find("inverted"), std::string::npos) << e;
  l = make();
  const det::BoxCheck c = det::check_boxes(l, ids, unit, true, "p.csv");
  EXPECT_EQ(c.boxes, 4u);
  EXPECT_EQ(c.swapped, 1u);
  EXPECT_EQ(c.clipped, 2u);
  EXPECT_EQ(c.degenerate, 1u);
  ASSERT_EQ(l.row(0).size(), 3u);
  EXPECT_EQ(l.row(0)[0].x1, 0.2);
  EXPECT_EQ(l.row(0)[1].x1, 0.0);
  EXPECT_EQ(l.row(0)[1].y2, 1.0);
  // A NaN score is always an error.
  cm::BoxLists n;
  n.push_row(std::vector<cm::DetBox>{{0.1, 0.1, 0.2, 0.2, std::nan("")}});
  EXPECT_NE(error_of([&] { det::check_boxes(n, ids, {}, true, "p.csv"); }).find("score is nan"),
            std::string::npos);
}

TEST(DetectFormats, PredictionsForUnknownImage) {
  det::GroundTruth gt;
  gt.image_ids = {"a"};
  gt.index = {{"a", 0}};
  gt.boxes.push_row(std::vector<cm::DetBox>{});
  det::DetectionsFile f;
  f.source = "preds.csv";
  f.image_ids = {"b"};
  f.images.resize(1);
  EXPECT_NE(error_of([&] { det::predictions_for(gt, f); }).find("preds.csv: image_id 'b'"),
            std::string::npos);
}
