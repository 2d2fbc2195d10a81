// Whole-file operations: reading any layout, fusing files, evaluating against ground truth.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "compe/detect.hpp"
#include "compe/error.hpp"
#include "compe/util.hpp"

namespace det = compe::detect;
namespace fs = std::filesystem;

namespace {

fs::path write_tmp(const std::string& name, const std::string& text) {
  const fs::path dir = fs::temp_directory_path() / "compe_detect_files";
  fs::create_directories(dir);
  const fs::path p = dir / name;
  compe::write_file_atomic(p, text);
  return p;
}

TEST(DetectFiles, ReadDetectionsAnyRecognisesEachLayout) {
  const auto csv = write_tmp("d.csv", "image_id,x1,y1,x2,y2,score,label\na,0.1,0.1,0.3,0.3,0.9,2\n");
  const auto ps = write_tmp("d_ps.csv", "image_id,PredictionString\na,0.9 0.1 0.1 0.2 0.2\nb,\n");
  const auto js = write_tmp("d.JSON", R"([{"image_id": 7, "category_id": 1, "bbox": [1, 2, 3, 4], "score": 0.5}])");
  const det::ReadOptions normalised{.normalised = true};

  const det::LoadedDetections c = det::read_detections_any(csv, normalised);
  EXPECT_EQ(c.layout, det::FileLayout::kCsv);
  EXPECT_TRUE(c.normalised);
  ASSERT_EQ(c.file.image_ids, std::vector<std::string>{"a"});
  EXPECT_EQ(c.file.images[0].labels, std::vector<std::int64_t>{2});

  const det::LoadedDetections p = det::read_detections_any(ps, normalised);
  EXPECT_EQ(p.layout, det::FileLayout::kPredictionString);
  EXPECT_TRUE(p.normalised);
  ASSERT_EQ(p.file.images.size(), 2u);
  EXPECT_DOUBLE_EQ(p.file.images[0].boxes[0].x2, 0.3);  // x + w

  // COCO results are pixels whatever the options say; the extension matches in any case.
  const det::LoadedDetections j = det::read_detections_any(js, normalised);
  EXPECT_EQ(j.layout, det::FileLayout::kCocoJson);
  EXPECT_FALSE(j.normalised);
  ASSERT_EQ(j.file.image_ids, std::vector<std::string>{"7"});
  EXPECT_DOUBLE_EQ(j.file.images[0].boxes[0].y2, 6.0);
}

TEST(DetectFiles, ReadGroundTruthAnyKeepsCocoSizes) {
  const auto csv = write_tmp("g.csv", "image_id,x,y,w,h,label\na,1,2,3,4,0\n");
  const det::LoadedGroundTruth c = det::read_ground_truth_any(csv, {.format = det::BoxFormat::kXywh});
  EXPECT_EQ(c.layout, det::FileLayout::kCsv);
  EXPECT_TRUE(c.sizes.empty());
  EXPECT_DOUBLE_EQ(c.gt.boxes.row(0)[0].x2, 4.0);
  const auto js = write_tmp("g.json", R"({"images": [{"id": 1, "width": 100, "height": 50}],
      "categories": [{"id": 3, "name": "cat"}],
      "annotations": [{"id": 1, "image_id": 1, "category_id": 3, "bbox": [10, 10, 20, 20], "iscrowd": 0}]})");
  const det::LoadedGroundTruth j = det::read_ground_truth_any(js, {.normalised = true});
  EXPECT_EQ(j.layout, det::FileLayout::kCocoJson);
  EXPECT_FALSE(j.normalised);
  ASSERT_EQ(j.sizes.count("1"), 1u);
  EXPECT_DOUBLE_EQ(j.sizes.at("1").width, 100.0);
  EXPECT_EQ(j.gt.category_names.at(3), "cat");
}

TEST(DetectFiles, FuseFilesNamesTheImageIdInMessageAndContext) {
  const auto m1 = write_tmp("m1.csv", "image_id,x1,y1,x2,y2,score,label\nimg_a,0.1,0.1,0.3,0.3,0.9,0\n"
                                      "img_b,0.5,0.5,0.4,0.7,0.8,0\n");
  const auto m2 = write_tmp("m2.csv", "image_id,x1,y1,x2,y2,score,label\nimg_a,0.1,0.1,0.3,0.31,0.7,0\n");
  det::FuseFilesRequest req;
  req.files = {m1, m2};
  const det::FusedFiles ok = det::fuse_files(req);
  EXPECT_EQ(ok.method->name, "wbf");
  EXPECT_EQ(ok.image_ids, (std::vector<std::string>{"img_a", "img_b"}));
  EXPECT_EQ(ok.report.swapped_boxes, 1u);  // img_b's x2 < x1, swapped under the default policy

  req.params.bad_boxes = det::BadBoxPolicy::kError;
  try {
    det::fuse_files(req);
    FAIL() << "expected an error";
  } catch (const compe::Error& e) {
    EXPECT_EQ(std::string(e.what()).rfind("image_id img_b: ", 0), 0u) << e.what();
    EXPECT_EQ(e.context().image_id, std::optional<std::string>("img_b"));
    EXPECT_EQ(e.context().image, std::optional<std::size_t>(1));
  }
  req.params = {};
  req.params.weights = {1, 2, 3};
  EXPECT_THROW(det::fuse_files(req), compe::Error);
}

TEST(DetectFiles, EvaluateFilesScoresAndRefusesMixedUnits) {
  const auto gt = write_tmp("eg.csv", "image_id,x1,y1,x2,y2,label\na,0.1,0.1,0.3,0.3,0\nb,0.5,0.5,0.7,0.7,0\n");
  const auto pred = write_tmp("ep.csv", "image_id,x1,y1,x2,y2,score,label\na,0.1,0.1,0.3,0.3,0.9,0\n");
  det::EvaluateFilesRequest req;
  req.ground_truth = gt;
  req.predictions = pred;
  req.metric = "map";  // the detection short name for coco_map
  const det::EvaluatedFiles r = det::evaluate_files(req);
  EXPECT_EQ(r.metric, "coco_map");
  EXPECT_EQ(r.images, 2u);
  EXPECT_EQ(r.gt_boxes, 2u);
  EXPECT_EQ(r.pred_boxes, 1u);
  EXPECT_EQ(r.units, "pixels");
  EXPECT_NEAR(r.value, 51.0 / 101.0, 1e-12);  // recall 0.5 at precision 1: 51 of 101 points
  ASSERT_EQ(r.category_names.size(), r.coco.categories.size());

  req.read.normalised = true;
  const auto js = write_tmp("ep.json", R"([{"image_id": "a", "category_id": 0, "bbox": [1, 1, 2, 2], "score": 0.5}])");
  req.predictions = js;
  EXPECT_THROW(det::evaluate_files(req), compe::Error);
}

}  // namespace
