// Detection and segmentation runs: the workspace keys, the ground-truth and prediction readers'
// checks, and the run writer's image files, scores and combined test predictions.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "../error_of.hpp"
#include "compe/folds.hpp"
#include "compe/image_data.hpp"
#include "compe/image_run.hpp"
#include "compe/run_writer.hpp"
#include "compe/store.hpp"
#include "compe/util.hpp"
#include "compe/workspace.hpp"

using namespace compe;
namespace fs = std::filesystem;
using compe::testing::error_of;

namespace {

void write(const fs::path& p, const std::string& text) {
  fs::create_directories(p.parent_path());
  std::ofstream(p) << text;
}

// Six 10 x 8 train images (ids 0..5, fold = id % 2) and two test images; detection boxes or
// segmentation masks of two classes.
struct ImageWorkspace {
  fs::path root;
  explicit ImageWorkspace(const std::string& tag, metric::Task task)
      : root(fs::temp_directory_path() / fmt::format("compe-image-{}-{}", tag, ::getpid())) {
    fs::remove_all(root);
    const bool det = task == metric::kDetection;
    write(root / "data/train.csv", "id,width,height\n0,10,8\n1,10,8\n2,10,8\n3,10,8\n4,10,8\n5,10,8\n");
    write(root / "data/test.csv", "id,width,height\n6,10,8\n7,10,8\n");
    if (det) {
      write(root / "data/sample_submission.csv", "image_id,PredictionString\n6,\n7,\n");
      write(root / "data/boxes.csv",
            "image_id,x1,y1,x2,y2,label\n0,1,1,5,5,0\n1,2,2,6,7,1\n2,0,0,10,8,0\n3,,,,,\n4,3,1,9,4,1\n5,1,2,4,6,0\n");
    } else {
      write(root / "data/sample_submission.csv", "Image_Label,EncodedPixels\n6_a,\n6_b,\n7_a,\n7_b,\n");
      write(root / "data/masks.csv",
            "Image_Label,EncodedPixels\n0_a,1 4\n0_b,\n1_a,9 8\n2_b,20 5\n3_a,\n4_a,1 80\n5_b,70 3\n");
    }
    write(root / "compe.toml", fmt::format(R"([competition]
name = "tiny"
task = "{}"
metric = "{}"
id = "id"
classes = ["a", "b"]

[data]
train = "data/train.csv"
test = "data/test.csv"
sample_submission = "data/sample_submission.csv"
{} = "data/{}.csv"

[folds]
strategy = "kfold"
k = 2
)",
                                           det ? "detection" : "segmentation", det ? "coco_map50" : "dice",
                                           det ? "boxes" : "masks", det ? "boxes" : "masks"));
    write(root / "folds.csv", "id,fold\n0,0\n1,1\n2,0\n3,1\n4,0\n5,1\n");
  }
  ~ImageWorkspace() { fs::remove_all(root); }
  Workspace ws() const { return Workspace::open(root); }
};

Table csv_text(const std::string& text, const std::string& name) {
  CsvReadOptions o;
  o.na_values = {};
  o.dtypes.emplace("image_id", DType::kString);
  if (text.find("EncodedPixels") != std::string::npos) o.dtypes.emplace("EncodedPixels", DType::kString);
  return read_csv_string(text, name, o);
}

images::Predictions read_oof(const run::Reference& ref, int fold, const std::string& text) {
  const auto rows = ref.rows_of(fold);
  const std::string what = fmt::format("the validation images of fold {}", fold);
  return images::read_predictions(csv_text(text, "oof.csv"),
                                  {.task = ref.task, .classes = &ref.images->classes(), .set = &ref.images->train,
                                   .expected = rows, .expected_what = what});
}

}  // namespace

TEST(ImageWorkspace, ParsesTheImageKeysAndRendersThemBack) {
  ImageWorkspace t("keys", metric::kDetection);
  const Workspace ws = t.ws();
  EXPECT_EQ(ws.config().task, metric::kDetection);
  EXPECT_EQ(ws.config().classes, (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(ws.config().boxes, "data/boxes.csv");
  EXPECT_TRUE(ws.config().target_columns.empty());
  EXPECT_EQ(ws.images_dir(), t.root / "data" / "images");
  const CompetitionConfig again = parse_competition_config(render_competition_config(ws.config()), "again");
  EXPECT_EQ(again.classes, ws.config().classes);
  EXPECT_EQ(again.boxes, ws.config().boxes);
  EXPECT_EQ(again.task, metric::kDetection);
}

TEST(ImageWorkspace, RefusesAnImageTaskWithoutClassesOrGroundTruth) {
  const std::string base = "[competition]\ntask = \"detection\"\nmetric = \"coco_map50\"\nid = \"id\"\n";
  const std::string data = "[data]\ntrain = \"t.csv\"\ntest = \"t.csv\"\nsample_submission = \"s.csv\"\n";
  EXPECT_NE(error_of([&] { parse_competition_config(base + data + "boxes = \"b.csv\"\n", "c.toml"); })
                .find("needs 'competition.classes'"),
            std::string::npos);
  EXPECT_NE(error_of([&] { parse_competition_config(base + "classes = [\"a\"]\n" + data, "c.toml"); })
                .find("needs 'data.boxes'"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              parse_competition_config(
                  "[competition]\ntask = \"binary\"\nid = \"id\"\ntarget = \"y\"\n" + data + "boxes = \"b.csv\"\n", "c.toml");
            }).find("'data.boxes' is for detection and segmentation competitions"),
            std::string::npos);
  EXPECT_NE(error_of([&] {
              parse_competition_config("[competition]\ntask = \"segmentation\"\nmetric = \"rmse\"\nid = \"id\"\n"
                                       "classes = [\"a\"]\n" + data + "masks = \"m.csv\"\n", "c.toml");
            }).find("does not apply to a segmentation task"),
            std::string::npos);
}

TEST(ImageTruth, NamesTheFileLineImageAndValueOfABadRow) {
  ImageWorkspace t("truth", metric::kDetection);
  const Workspace ws = t.ws();
  const images::ImageSet train = images::image_set(ws.read_train(), "id");
  const std::vector<std::string> classes{"a", "b"};
  auto truth_of = [&](const std::string& text) {
    write(t.root / "gt.csv", text);
    return images::read_truth(metric::kDetection, classes, t.root / "gt.csv", train, "gt.csv");
  };
  const images::Truth ok = images::read_workspace_truth(ws, train);
  EXPECT_EQ(ok.boxes.rows(), 6u);
  EXPECT_EQ(ok.boxes.row(3).size(), 0u);  // the empty row: an image without objects
  EXPECT_EQ(ok.boxes.row(1)[0].label, 1);
  EXPECT_EQ(error_of([&] { truth_of("image_id,x1,y1,x2,y2,label\n0,1,1,5,5,0\n42,1,1,2,2,0\n"); }),
            "gt.csv:3: image '42': the image is not in train.csv");
  EXPECT_NE(error_of([&] { truth_of("image_id,x1,y1,x2,y2,label\n0,1,1,11,5,0\n"); })
                .find("gt.csv:2: image '0': box (1, 1, 11, 5) lies outside the 10 x 8 image"),
            std::string::npos);
  EXPECT_NE(error_of([&] { truth_of("image_id,x1,y1,x2,y2,label\n0,1,1,5,5,2\n"); })
                .find("label '2' is not a class index"),
            std::string::npos);
  EXPECT_EQ(error_of([&] { images::read_truth(metric::kDetection, classes, t.root / "none.csv", train, "none.csv"); },
                     ErrorCode::kNotFound),
            "none.csv: no such file");
  write(t.root / "m.csv", "Image_Label,EncodedPixels\n0_a,1 4\n1_b,75 10\n");
  const std::string rle = error_of(
      [&] { images::read_truth(metric::kSegmentation, classes, t.root / "m.csv", train, "m.csv"); },
      ErrorCode::kInvalidArgument);
  EXPECT_NE(rle.find("m.csv"), std::string::npos) << rle;
  EXPECT_NE(rle.find("'1'"), std::string::npos) << rle;
  EXPECT_NE(rle.find("10 x 8"), std::string::npos) << rle;
}

TEST(ImagePredictions, RefuseWhatTheContractForbids) {
  ImageWorkspace t("preds", metric::kDetection);
  const Workspace ws = t.ws();
  const run::Reference ref = run::reference_from_workspace(ws);
  const std::string h = "image_id,x1,y1,x2,y2,score,label\n";
  const images::Predictions ok = read_oof(ref, 0, h + "0,1,1,5,5,0.9,0\n4,3,1,9,4,0.5,1\n");
  ASSERT_EQ(ok.images, (std::vector<std::size_t>{0, 2, 4}));
  EXPECT_EQ(ok.boxes.row(0).size(), 1u);
  EXPECT_EQ(ok.boxes.row(1).size(), 0u);
  EXPECT_EQ(error_of([&] { read_oof(ref, 0, h + "9,1,1,5,5,0.9,0\n"); }),
            "oof.csv:2: image '9': unknown image id: not one of the 6 images of train.csv");
  EXPECT_EQ(error_of([&] { read_oof(ref, 0, h + "1,1,1,5,5,0.9,0\n"); }),
            "oof.csv:2: image '1': the image is not one of the validation images of fold 0");
  EXPECT_EQ(error_of([&] { read_oof(ref, 0, h + "0,1,1,5,5,1.5,0\n"); }),
            "oof.csv:2: image '0': score is '1.5', expected a number in [0, 1]");
  EXPECT_NE(error_of([&] { read_oof(ref, 0, h + "0,1,1,5,nan,0.5,0\n"); }).find("y2 is nan, expected a finite number"),
            std::string::npos);
  EXPECT_NE(error_of([&] { read_oof(ref, 0, h + "0,1,1,5,9,0.5,0\n"); }).find("outside the 10 x 8 image"),
            std::string::npos);
  EXPECT_NE(error_of([&] { read_oof(ref, 0, h + "0,1,1,5,5,0.5,7\n"); }).find("label '7' is not a class index"),
            std::string::npos);
}

TEST(ImagePredictions, RefuseBadMasks) {
  ImageWorkspace t("maskpreds", metric::kSegmentation);
  const run::Reference ref = run::reference_from_workspace(t.ws());
  const std::string h = "image_id,label,EncodedPixels\n";
  const images::Predictions ok = read_oof(ref, 1, h + "1,a,9 8\n5,b,70 3\n");
  ASSERT_EQ(ok.masks.size(), 6u);  // 3 images x 2 classes
  EXPECT_EQ(ok.masks[0].area(), 8);
  EXPECT_TRUE(ok.masks[1].empty());
  EXPECT_NE(error_of([&] { read_oof(ref, 1, h + "1,c,9 8\n"); }).find("label 'c' is not a class"), std::string::npos);
  EXPECT_NE(error_of([&] { read_oof(ref, 1, h + "1,a,9 8 5 2\n"); }).find("oof.csv"), std::string::npos);
  EXPECT_NE(error_of([&] { read_oof(ref, 1, h + "1,a,79 5\n"); }).find("10 x 8"), std::string::npos);
  EXPECT_NE(error_of([&] { read_oof(ref, 1, h + "1,a,1 2\n1,a,5 1\n"); }).find("class 'a' has a mask already (line 2)"),
            std::string::npos);
}

TEST(ImageRunWriter, DetectionRunWritesTheContractFilesScoredAndFused) {
  ImageWorkspace t("detrun", metric::kDetection);
  const Workspace ws = t.ws();
  auto store = open_store(ws.store_path().string());
  const run::Reference ref = run::reference_from_workspace(ws);
  run::RunWriter w(ws, *store, ref, {.kind = "model", .name = "perfect"});
  const std::string h = "image_id,x1,y1,x2,y2,score,label\n";
  std::vector<std::size_t> all_test{0, 1};
  auto test_of = [&](const std::string& text) {
    return images::read_predictions(csv_text(h + text, "test.csv"),
                                    {.task = ref.task, .classes = &ref.images->classes(), .set = &ref.images->test,
                                     .expected = all_test, .expected_what = "the test images"});
  };
  // Each fold: the ground truth with score 0.9 (a perfect fold); test boxes that two folds agree on.
  const double s0 = w.add_image_fold(0, read_oof(ref, 0, h + "0,1,1,5,5,0.9,0\n2,0,0,10,8,0.9,0\n4,3,1,9,4,0.9,1\n"),
                                     test_of("6,1,1,5,5,0.8,0\n"));
  const double s1 = w.add_image_fold(1, read_oof(ref, 1, h + "1,2,2,6,7,0.9,1\n5,1,2,4,6,0.9,0\n"),
                                     test_of("6,1,1,5,5,0.6,0\n7,2,2,4,4,0.4,1\n"));
  EXPECT_DOUBLE_EQ(s0, 1.0);
  EXPECT_DOUBLE_EQ(s1, 1.0);
  EXPECT_NE(error_of([&] { w.add_image_fold(0, read_oof(ref, 1, h), {}); }).find("is in fold 1"), std::string::npos);
  const run::Summary s = w.finish();
  EXPECT_DOUBLE_EQ(s.cv, 1.0);
  EXPECT_EQ(s.oof, w.dir() / "oof_boxes.csv");
  EXPECT_EQ(read_file(w.dir() / "oof_boxes.csv"),
            "image_id,x1,y1,x2,y2,score,label,fold\n0,1,1,5,5,0.9,0,0\n1,2,2,6,7,0.9,1,1\n2,0,0,10,8,0.9,0,0\n"
            "4,3,1,9,4,0.9,1,0\n5,1,2,4,6,0.9,0,1\n");
  EXPECT_EQ(read_file(w.dir() / "test_boxes_folds.csv"),
            "image_id,x1,y1,x2,y2,score,label,fold\n6,1,1,5,5,0.8,0,0\n6,1,1,5,5,0.6,0,1\n7,2,2,4,4,0.4,1,1\n");
  // WBF (conf_type avg): the two folds' boxes on image 6 fuse into one of score 0.7; image 7's
  // one box, found by one fold of two, keeps half its score.
  const Table fused = read_csv(w.dir() / "test_boxes.csv");
  ASSERT_EQ(fused.num_rows(), 2u);
  EXPECT_EQ(fused.column("image_id").to_string(0), "6");
  const double want[2][6] = {{1, 1, 5, 5, 0.7, 0}, {2, 2, 4, 4, 0.2, 1}};
  for (std::size_t r = 0; r < 2; ++r) {
    int c = 0;
    for (const char* name : {"x1", "y1", "x2", "y2", "score", "label"})
      EXPECT_NEAR(fused.column(name).as_double(r), want[r][c++], 1e-6) << name << " row " << r;  // WBF sums in float32
  }
  const std::string sub = read_file(w.dir() / "submission.csv");
  EXPECT_TRUE(sub.starts_with("image_id,PredictionString\n6,0 0.69999")) << sub;  // label score x y w h
  EXPECT_NE(sub.find("\n7,1 0.2 2 2 2 2\n"), std::string::npos) << sub;
  const compe::Run rec = store->get_run(w.id());
  EXPECT_EQ(rec.status, RunStatus::kFinished);
  std::vector<std::string> names;
  for (const auto& a : store->list_artifacts(w.id())) names.push_back(a.name);
  for (const char* n : {"oof_boxes", "test_boxes_folds", "test_boxes", "submission", "meta"})
    EXPECT_NE(std::find(names.begin(), names.end(), n), names.end()) << n;
  const auto j = run::run_json(rec, store->list_artifacts(w.id()));
  EXPECT_EQ(j["oof"], fs::relative(w.dir() / "oof_boxes.csv", ws.root()).string());
  EXPECT_EQ(j["metric"], "coco_map50");
}

TEST(ImageRunWriter, SegmentationRunScoresDiceAndVotesTheTestMasks) {
  ImageWorkspace t("segrun", metric::kSegmentation);
  const Workspace ws = t.ws();
  auto store = open_store(ws.store_path().string());
  const run::Reference ref = run::reference_from_workspace(ws);
  run::RunWriter w(ws, *store, ref, {.kind = "model", .name = "half"});
  const std::string h = "image_id,label,EncodedPixels\n";
  std::vector<std::size_t> all_test{0, 1};
  auto test_of = [&](const std::string& text) {
    return images::read_predictions(csv_text(h + text, "test.csv"),
                                    {.task = ref.task, .classes = &ref.images->classes(), .set = &ref.images->test,
                                     .expected = all_test, .expected_what = "the test images"});
  };
  // Fold 0 (images 0, 2, 4): exact masks, Dice 1 on each of the 6 (image, class) pairs.
  EXPECT_DOUBLE_EQ(w.add_image_fold(0, read_oof(ref, 0, h + "0,a,1 4\n2,b,20 5\n4,a,1 80\n"), test_of("6,a,1 10\n")),
                   1.0);
  // Fold 1 (images 1, 3, 5): image 1's class a half found (Dice 2*4/(8+4) = 2/3), image 5's b
  // missed (0), the other four pairs empty on both sides (1 each): (2/3 + 0 + 4) / 6.
  EXPECT_DOUBLE_EQ(w.add_image_fold(1, read_oof(ref, 1, h + "1,a,9 4\n"), test_of("6,a,5 10\n7,b,3 2\n")),
                   (2.0 / 3 + 4) / 6);
  const run::Summary s = w.finish();
  EXPECT_DOUBLE_EQ(s.cv, (6 + 2.0 / 3 + 4) / 12);
  EXPECT_TRUE(read_file(w.dir() / "oof_masks.csv")
                  .starts_with("image_id,label,EncodedPixels,fold\n0,a,1 4,0\n0,b,,0\n1,a,9 4,1\n1,b,,1\n"));
  // Majority of two folds: a pixel both have (5..10 of image 6's class a); 7_b in one fold only.
  EXPECT_EQ(read_file(w.dir() / "test_masks.csv"), "image_id,label,EncodedPixels\n6,a,5 6\n6,b,\n7,a,\n7,b,\n");
  EXPECT_EQ(read_file(w.dir() / "submission.csv"), "Image_Label,EncodedPixels\n6_a,5 6\n6_b,\n7_a,\n7_b,\n");
  EXPECT_TRUE(fs::exists(w.dir() / "test_masks_folds.csv"));
  EXPECT_EQ(store->get_run(w.id()).status, RunStatus::kFinished);
}
