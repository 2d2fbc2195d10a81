// compe score for segmentation (RLE masks per image and class) and detection (boxes per image):
// layouts, Kaggle's row checks, RLE bounds named by file, line and image, and parts.
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "compe/error.hpp"
#include "compe/score.hpp"
#include "compe/table.hpp"

namespace cs = compe::score;
using compe::Table;

namespace {

Table csv(const std::string& text, const std::string& name) {
  compe::CsvReadOptions o;
  o.display_name = name;
  return compe::read_csv_string(text, name, o);
}

// Two 4 x 3 images (12 pixels), classes a and b; image 1 Public, image 2 Private.
const char* kSolution =
    "Image_Label,EncodedPixels,Usage\n"
    "1_a,1 4,Public\n"
    "1_b,,Public\n"
    "2_a,5 2,Private\n"
    "2_b,10 3,Private\n";

cs::Options dice_options() {
  cs::Options o;
  o.metric = "dice";
  o.image_size = cs::ImageSize{4, 3};
  return o;
}

std::string error_of(const std::string& sub, const cs::Options& o, const char* solution = kSolution) {
  try {
    cs::score_submission(csv(solution, "solution.csv"), csv(sub, "sub.csv"), o);
  } catch (const compe::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(ImageScore, SegmentationScoresEachPartWithTheEmptyMaskConventions) {
  // 1_a: truth 1..4, pred 1..2 -> 2*2/(4+2); 1_b: both empty -> 1; 2_a: truth 5..6, pred empty
  // -> 0; 2_b: exact -> 1.
  const Table sub = csv("Image_Label,EncodedPixels\n2_b,10 3\n1_a,1 2\n1_b,\n2_a,\n", "sub.csv");
  const cs::Result r = cs::score_submission(csv(kSolution, "solution.csv"), sub, dice_options());
  EXPECT_EQ(r.task, compe::metric::kSegmentation);
  EXPECT_DOUBLE_EQ(*r.public_score, (4.0 / 6 + 1) / 2);
  EXPECT_DOUBLE_EQ(*r.private_score, 0.5);
  EXPECT_DOUBLE_EQ(*r.overall_score, (4.0 / 6 + 1 + 0 + 1) / 4);
  EXPECT_EQ(r.public_rows, 2u);
  cs::Options global = dice_options();
  global.metric = "dice_global";
  // Pooled: 2 * (2 + 0 + 3) / ((4 + 2) + 0 + (2 + 0) + (3 + 3)).
  EXPECT_DOUBLE_EQ(*cs::score_submission(csv(kSolution, "solution.csv"), sub, global).overall_score,
                   10.0 / 14);
  cs::Options iou = dice_options();
  iou.metric = "iou";
  EXPECT_DOUBLE_EQ(*cs::score_submission(csv(kSolution, "solution.csv"), sub, iou).public_score,
                   (0.5 + 1) / 2);
}

TEST(ImageScore, SegmentationRefusesRowsAsKaggleDoes) {
  const cs::Options o = dice_options();
  std::string e = error_of("Image_Label,EncodedPixels\n1_a,\n1_b,\n2_a,\n", o);
  EXPECT_NE(e.find("submission must have 4 rows, found 3"), std::string::npos) << e;
  EXPECT_NE(e.find("1 missing id(s): '2_b'"), std::string::npos) << e;
  e = error_of("Image_Label,EncodedPixels\n1_a,\n1_b,\n2_a,\n2_b,\n1_a,\n", o);
  EXPECT_NE(e.find("1 duplicate id(s): '1_a'"), std::string::npos) << e;
  e = error_of("Image_Label,EncodedPixels\n1_a,\n1_b,\n2_a,\n2_c,\n", o);
  EXPECT_NE(e.find("unexpected id(s) not in the solution: '2_c'"), std::string::npos) << e;
  e = error_of("Image_Label,Pixels\n1_a,\n1_b,\n2_a,\n2_b,\n", o);
  EXPECT_NE(e.find("missing: EncodedPixels"), std::string::npos) << e;
}

TEST(ImageScore, SegmentationChecksEveryCodeAgainstItsImageSize) {
  cs::Options o = dice_options();
  // 11 + 3 - 1 = pixel 13 of a 12-pixel image.
  std::string e = error_of("Image_Label,EncodedPixels\n1_a,\n1_b,\n2_a,\n2_b,11 3\n", o);
  EXPECT_NE(e.find("sub.csv: line 5: image '2'"), std::string::npos) << e;
  EXPECT_NE(e.find("ends at pixel 13, past the image's 12 pixels"), std::string::npos) << e;
  e = error_of("Image_Label,EncodedPixels\n1_a,3 2 1 1\n1_b,\n2_a,\n2_b,\n", o);
  EXPECT_NE(e.find("line 2: image '1'"), std::string::npos) << e;
  EXPECT_NE(e.find("starts must increase"), std::string::npos) << e;
  e = error_of("Image_Label,EncodedPixels\n1_a,0 2\n1_b,\n2_a,\n2_b,\n", o);
  EXPECT_NE(e.find("pixels are numbered from 1"), std::string::npos) << e;
  e = error_of("Image_Label,EncodedPixels\n1_a,1 x\n1_b,\n2_a,\n2_b,\n", o);
  EXPECT_NE(e.find("'x'"), std::string::npos) << e;
  // Sizes per image: image 2 is larger here, so the same code fits.
  o.image_size.reset();
  o.image_sizes = {{"1", {4, 3}}, {"2", {4, 4}}};
  EXPECT_EQ(error_of("Image_Label,EncodedPixels\n1_a,\n1_b,\n2_a,\n2_b,11 3\n", o), "");
  // No size at all: refused, naming the image and where sizes come from.
  o.image_sizes.clear();
  e = error_of("Image_Label,EncodedPixels\n1_a,\n1_b,\n2_a,\n2_b,\n", o);
  EXPECT_NE(e.find("no size known for image '1'"), std::string::npos) << e;
  EXPECT_NE(e.find("--image-size"), std::string::npos) << e;
  // The solution's own width,height columns.
  const char* sized =
      "ImageId,ClassId,EncodedPixels,width,height,Usage\n"
      "7,1,1 3,2,2,Public\n7,2,,2,2,Public\n8,1,,2,2,Private\n8,2,4 1,2,2,Private\n";
  e = error_of("ImageId,ClassId,EncodedPixels\n7,1,1 3\n7,2,\n8,1,\n8,2,4 2\n", o, sized);
  EXPECT_NE(e.find("line 5: image '8'"), std::string::npos) << e;
  const cs::Result r = cs::score_submission(csv(sized, "solution.csv"),
                                            csv("ImageId,ClassId,EncodedPixels\n8,2,4 1\n7,1,1 3\n7,2,\n8,1,1 1\n", "s"), o);
  EXPECT_DOUBLE_EQ(*r.public_score, 1.0);
  EXPECT_DOUBLE_EQ(*r.private_score, 0.5);
}

TEST(ImageScore, SegmentationKeysSplitOnTheKnownClassNames) {
  // Class names with '_' (bottom_bag): the longest known class the key ends with.
  const char* sol = "Image_Label,EncodedPixels,Usage\n3_bottom_bag,1 2,Public\n3_top,,Private\n";
  cs::Options o = dice_options();
  o.classes = {"top", "bottom_bag", "bag"};
  const cs::PreparedMasks p = cs::prepare_segmentation(
      csv(sol, "solution.csv"), csv("Image_Label,EncodedPixels\n3_top,\n3_bottom_bag,1 2\n", "s"), o);
  ASSERT_EQ(p.images.size(), 1u);
  EXPECT_EQ(p.images[0], "3");
  const std::string e = error_of("Image_Label,EncodedPixels\n3_top,\n3_bottom_bag,1 2\n", o,
                                 "Image_Label,EncodedPixels,Usage\n3_shoes,,Public\n3_top,,Private\n");
  EXPECT_NE(e.find("expected <image>_<class> with a class among"), std::string::npos) << e;
}

TEST(ImageScore, ImageSizesFromATestTable) {
  const auto sizes = cs::read_image_sizes(csv("id,width,height\n1,96,64\n2,10,10\n", "test.csv"));
  EXPECT_EQ(sizes.at("1"), (cs::ImageSize{96, 64}));
  try {
    cs::read_image_sizes(csv("id,width,height\n1,96,0\n", "test.csv"));
    ADD_FAILURE() << "a zero height accepted";
  } catch (const compe::Error& e) {
    EXPECT_NE(std::string(e.what()).find("test.csv: line 2: 'height' is '0'"), std::string::npos) << e.what();
  }
  EXPECT_EQ(cs::parse_image_size("96x64", "--image-size"), (cs::ImageSize{96, 64}));
  EXPECT_THROW(cs::parse_image_size("96", "--image-size"), compe::Error);
  EXPECT_THROW(cs::parse_image_size("0x5", "--image-size"), compe::Error);
}

namespace {

// Detection: ground-truth rows (label names), one image without objects.
const char* kBoxes =
    "image_id,x1,y1,x2,y2,label,Usage\n"
    "1,0,0,10,10,cat,Public\n"
    "2,20,20,30,30,dog,Private\n"
    "3,,,,,,Private\n";

cs::Options map_options() {
  cs::Options o;
  o.metric = "coco_map50";
  o.classes = {"cat", "dog"};
  return o;
}

}  // namespace

TEST(ImageScore, DetectionTakesPredictionStringsWithLabelsAgainstGroundTruthRows) {
  const Table sub = csv("image_id,PredictionString\n1,0 0.9 0 0 10 10\n2,1 0.8 20 20 10 10\n3,\n", "sub.csv");
  const cs::Result r = cs::score_submission(csv(kBoxes, "solution.csv"), sub, map_options());
  EXPECT_DOUBLE_EQ(*r.public_score, 1.0);
  EXPECT_DOUBLE_EQ(*r.private_score, 1.0);
  // A wrong label misses.
  const Table wrong = csv("image_id,PredictionString\n1,0 0.9 0 0 10 10\n2,0 0.8 20 20 10 10\n3,\n", "sub.csv");
  EXPECT_DOUBLE_EQ(*cs::score_submission(csv(kBoxes, "solution.csv"), wrong, map_options()).private_score, 0.0);
  // The detections CSV layout with label names.
  const Table rows = csv("image_id,x1,y1,x2,y2,score,label\n1,0,0,10,10,0.9,cat\n2,20,20,30,30,0.5,dog\n", "d.csv");
  EXPECT_DOUBLE_EQ(*cs::score_submission(csv(kBoxes, "solution.csv"), rows, map_options()).overall_score, 1.0);
}

TEST(ImageScore, DetectionRefusesRowsAndBoxesNamingTheLine) {
  auto err = [](const std::string& sub) {
    try {
      cs::score_submission(csv(kBoxes, "solution.csv"), csv(sub, "sub.csv"), map_options());
    } catch (const compe::Error& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  std::string e = err("image_id,PredictionString\n1,\n2,\n");
  EXPECT_NE(e.find("submission must have 3 rows, found 2; 1 missing id(s): '3'"), std::string::npos) << e;
  e = err("image_id,PredictionString\n1,\n2,\n3,\n3,\n");
  EXPECT_NE(e.find("1 duplicate id(s): '3'"), std::string::npos) << e;
  e = err("image_id,PredictionString\n1,\n2,\n3,\n9,\n");
  EXPECT_NE(e.find("unexpected id(s) not in the solution: '9'"), std::string::npos) << e;
  e = err("image_id,PredictionString\n1,0 0.9 0 0 -5 10\n2,\n3,\n");
  EXPECT_NE(e.find("sub.csv:2: image '1'"), std::string::npos) << e;
  EXPECT_NE(e.find("negative width or height"), std::string::npos) << e;
  e = err("image_id,PredictionString\n1,0 0.9 0 0 5\n2,\n3,\n");
  EXPECT_NE(e.find("not a multiple of 6"), std::string::npos) << e;
  e = err("image_id,x1,y1,x2,y2,score,label\n1,0,0,10,10,0.5,cat\n2,10,0,5,10,0.5,dog\n");
  EXPECT_NE(e.find("sub.csv:3: image '2': box x1=10 y1=0 x2=5 y2=10 has a negative width"), std::string::npos) << e;
  e = err("image_id,x1,y1,x2,y2,score,label\n4,0,0,10,10,0.5,cat\n");
  EXPECT_NE(e.find("unexpected id(s) not in the solution: '4'"), std::string::npos) << e;
}

TEST(ImageScore, DetectionPartWithoutGroundTruthScoresWorstOnlyWhenAsked) {
  // Image 3 (Private) alone has no object: COCO AP is undefined on a part of it alone.
  const char* sol = "image_id,x1,y1,x2,y2,label,Usage\n1,0,0,10,10,cat,Public\n3,,,,,,Private\n";
  const Table sub = csv("image_id,PredictionString\n1,0 0.9 0 0 10 10\n3,\n", "sub.csv");
  cs::Options o = map_options();
  cs::Result r = cs::score_submission(csv(sol, "solution.csv"), sub, o);
  EXPECT_FALSE(r.private_score.has_value());
  o.undefined_as_worst = true;
  r = cs::score_submission(csv(sol, "solution.csv"), sub, o);
  EXPECT_TRUE(r.private_undefined);
  EXPECT_EQ(*r.private_score, -INFINITY);
  EXPECT_DOUBLE_EQ(*r.public_score, 1.0);
}
