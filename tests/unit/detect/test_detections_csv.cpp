// Detections CSV: reading both box layouts, errors with file:line, aligning models, round trip.
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

fs::path temp_file(const std::string& name, const std::string& content) {
  fs::path dir = fs::temp_directory_path() / "compe_detect_csv_test";
  fs::create_directories(dir);
  compe::write_file_atomic(dir / name, content);
  return dir / name;
}

}  // namespace

TEST(DetectCsv, ReadsXyxyAndXywh) {
  auto a = det::read_detections_csv(
      temp_file("a.csv",
                "image_id,x1,y1,x2,y2,score,label\nimg1,0.1,0.2,0.5,0.6,0.9,3\n"
                "img2,0,0,1,1,0.5,1\nimg1,0.2,0.2,0.3,0.3,0.4,3\n"),
      det::BoxFormat::kXyxy);
  ASSERT_EQ(a.image_ids, (std::vector<std::string>{"img1", "img2"}));
  ASSERT_EQ(a.images[0].boxes.size(), 2u);
  EXPECT_DOUBLE_EQ(a.images[0].boxes[0].y2, 0.6);
  EXPECT_DOUBLE_EQ(a.images[0].scores[1], 0.4);
  EXPECT_EQ(a.images[0].labels[1], 3);
  auto b = det::read_detections_csv(
      temp_file("b.csv", "image_id,x,y,w,h,score,label\n7,0.1,0.2,0.3,0.4,0.9,0\n"),
      det::BoxFormat::kXywh);
  ASSERT_EQ(b.image_ids, (std::vector<std::string>{"7"}));
  EXPECT_DOUBLE_EQ(b.images[0].boxes[0].x2, 0.1 + 0.3);
  EXPECT_DOUBLE_EQ(b.images[0].boxes[0].y2, 0.2 + 0.4);
}

TEST(DetectCsv, ErrorsNameFileAndLine) {
  auto code = [](const fs::path& p, std::string& msg) {
    try {
      det::read_detections_csv(p, det::BoxFormat::kXyxy);
    } catch (const compe::Error& e) {
      msg = e.what();
      return e.code();
    }
    return compe::ErrorCode::kInternal;
  };
  std::string msg;
  EXPECT_EQ(code(temp_file("m.csv", "image_id,x1,y1,x2,score,label\na,0,0,1,0.5,1\n"), msg),
            compe::ErrorCode::kNotFound);
  EXPECT_NE(msg.find("'y2'"), std::string::npos) << msg;
  EXPECT_EQ(code(temp_file("e.csv",
                           "image_id,x1,y1,x2,y2,score,label\na,0,0,1,1,0.5,1\nb,0,0,1,,0.5,1\n"),
                 msg),
            compe::ErrorCode::kParse);
  EXPECT_NE(msg.find(":3"), std::string::npos) << msg;
  EXPECT_EQ(code(temp_file("l.csv", "image_id,x1,y1,x2,y2,score,label\na,0,0,1,1,0.5,cat\n"), msg),
            compe::ErrorCode::kParse);
  EXPECT_EQ(code(fs::temp_directory_path() / "compe_detect_csv_test" / "absent.csv", msg),
            compe::ErrorCode::kNotFound);
  EXPECT_THROW(det::parse_box_format("cxcywh"), compe::Error);
}

TEST(DetectCsv, AlignModelsUnionsImageIds) {
  det::DetectionsFile a, b;
  a.image_ids = {"x", "y"};
  a.images.resize(2);
  a.images[1].scores = {0.5};
  a.images[1].boxes = {{0, 0, 1, 1}};
  a.images[1].labels = {1};
  b.image_ids = {"z", "x"};
  b.images.resize(2);
  std::vector<det::DetectionsFile> files = {a, b};
  std::vector<std::string> ids;
  auto images = det::align_models(files, ids);
  ASSERT_EQ(ids, (std::vector<std::string>{"x", "y", "z"}));
  ASSERT_EQ(images.size(), 3u);
  for (const auto& img : images) EXPECT_EQ(img.size(), 2u);
  EXPECT_EQ(images[1][0].scores.size(), 1u);
  EXPECT_TRUE(images[1][1].scores.empty());
}

TEST(DetectCsv, WriteThenReadRoundTrips) {
  std::vector<std::string> ids = {"a,b", "plain"};
  std::vector<std::vector<det::Box>> boxes = {
      {{0.1, 0.2, 0.30000000000000004, 0.4, 0.123456789012345, 2, -1}},
      {{0, 0, 1, 1, 1e-9, -4, 0}, {0.5, 0.5, 0.75, 0.875, 0.5, 7, 1}}};
  for (det::BoxFormat f : {det::BoxFormat::kXyxy, det::BoxFormat::kXywh}) {
    SCOPED_TRACE(std::string(det::box_format_name(f)));
    fs::path p = fs::temp_directory_path() / "compe_detect_csv_test" / "rt.csv";
    det::write_detections_csv(p, ids, boxes, f);
    auto back = det::read_detections_csv(p, f);
    ASSERT_EQ(back.image_ids, ids);
    for (std::size_t i = 0; i < ids.size(); ++i) {
      ASSERT_EQ(back.images[i].boxes.size(), boxes[i].size());
      for (std::size_t k = 0; k < boxes[i].size(); ++k) {
        const det::Box& b = boxes[i][k];
        EXPECT_NEAR(back.images[i].boxes[k].x2, b.x2, 1e-15);
        EXPECT_NEAR(back.images[i].boxes[k].y2, b.y2, 1e-15);
        EXPECT_EQ(back.images[i].boxes[k].x1, b.x1);
        EXPECT_EQ(back.images[i].scores[k], b.score);
        EXPECT_EQ(back.images[i].labels[k], b.label);
      }
    }
  }
}
