// Shake-up of detection and segmentation competitions: images are re-split, each part rescored
// with the competition metric; the scorer on the real split gives compe score's numbers.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include "compe/error.hpp"
#include "compe/score.hpp"
#include "compe/shake.hpp"
#include "compe/util.hpp"
#include "compe/workspace.hpp"

namespace fs = std::filesystem;
namespace shake = compe::shake;

namespace {

const fs::path kFixtures = fs::path(COMPE_TEST_DATA) / "fixtures" / "image_scoring";

/// A workspace over the fixture competition `kind` (detection or segmentation).
fs::path image_workspace(const std::string& kind, const std::string& metric) {
  const fs::path dir = fs::temp_directory_path() / ("compe_shake_images_" + kind + "_" + metric + "_" +
                                                     std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir);
  for (const char* f : {"train.csv", "test.csv", "sample_submission.csv", "solution.csv", "meta.json"})
    fs::copy_file(kFixtures / kind / f, dir / f);
  std::ofstream(dir / "compe.toml") << "[competition]\nname = \"fashion\"\ntask = \"" << kind << "\"\nmetric = \""
                                    << metric << "\"\nid = \"id\"\ntarget = \"id\"\n"
                                    << "[data]\ntrain = \"train.csv\"\ntest = \"test.csv\"\n"
                                    << "sample_submission = \"sample_submission.csv\"\nsolution = \"solution.csv\"\n";
  return dir;
}

std::vector<std::string> candidates(const std::string& kind) {
  return {(kFixtures / kind / "cand_exact").string(), (kFixtures / kind / "cand_noisy").string()};
}

/// The real split as unit counts: 1 for the Public (or Private) images, in solution order.
std::vector<std::uint32_t> real_part(const compe::Table& solution, const std::string& key, bool image_label,
                                     const std::string& usage) {
  std::vector<std::uint32_t> out;
  std::string last;
  for (std::size_t r = 0; r < solution.num_rows(); ++r) {
    std::string id = solution.column(key).to_string(r);
    if (image_label) id = id.substr(0, id.find('_'));
    if (r > 0 && id == last) continue;
    last = id;
    out.push_back(solution.column("Usage").to_string(r) == usage ? 1u : 0u);
  }
  return out;
}

void check_real_split(const std::string& kind, const std::string& metric, const std::string& key) {
  const fs::path ws_dir = image_workspace(kind, metric);
  const compe::Workspace ws = compe::Workspace::open(ws_dir);
  const shake::Loaded loaded = shake::load_candidates(ws, candidates(kind), {});
  ASSERT_EQ(loaded.mode, shake::Mode::kResplit);
  ASSERT_EQ(loaded.problem.candidates.size(), 2u);
  EXPECT_EQ(loaded.problem.rows(), 40u);  // the 40 test images, not their boxes or masks
  const compe::Table solution = compe::read_csv(ws_dir / "solution.csv");
  for (std::size_t k = 0; k < 2; ++k) {
    const auto& c = loaded.problem.candidates[k];
    ASSERT_TRUE(c.actual_public && c.actual_private);
    const double pub = loaded.problem.part_scorer(k, real_part(solution, key, kind == "segmentation", "Public"));
    const double priv = loaded.problem.part_scorer(k, real_part(solution, key, kind == "segmentation", "Private"));
    EXPECT_NEAR(pub, *c.actual_public, 1e-12) << c.name;
    EXPECT_NEAR(priv, *c.actual_private, 1e-12) << c.name;
  }
  EXPECT_DOUBLE_EQ(*loaded.problem.candidates[0].actual_public, 1.0);  // the exact candidate
  EXPECT_LT(*loaded.problem.candidates[1].actual_private, 1.0);
  // The public fraction is the share of Public images.
  const auto pub_images = real_part(solution, key, kind == "segmentation", "Public");
  double n_pub = 0;
  for (auto v : pub_images) n_pub += v;
  EXPECT_DOUBLE_EQ(*loaded.public_fraction, n_pub / 40.0);

  shake::Options o;
  o.mode = loaded.mode;
  o.public_fraction = *loaded.public_fraction;
  o.simulations = 60;
  o.threads = 2;
  const shake::Result r = shake::simulate(loaded.problem, o);
  EXPECT_EQ(r.public_rows + r.private_rows, 40u);
  EXPECT_DOUBLE_EQ(r.candidates[0].public_score.mean, 1.0);
  EXPECT_LT(r.candidates[1].private_score.mean, 1.0);
  EXPECT_GT(r.candidates[1].private_score.sd, 0.0);  // parts differ: the split moves images
  o.threads = 1;
  const shake::Result again = shake::simulate(loaded.problem, o);
  EXPECT_EQ(again.candidates[1].public_score.mean, r.candidates[1].public_score.mean);
  fs::remove_all(ws_dir);
}

}  // namespace

TEST(ShakeImages, SegmentationPartsEqualComputeScoreOnTheRealSplit) {
  for (const char* metric : {"dice", "dice_global", "iou"}) {
    SCOPED_TRACE(metric);
    check_real_split("segmentation", metric, "Image_Label");
  }
}

TEST(ShakeImages, DetectionPartsRecomputeTheMetricOnTheirImages) {
  for (const char* metric : {"coco_map50", "coco_map", "kaggle_map"}) {
    SCOPED_TRACE(metric);
    check_real_split("detection", metric, "image_id");
  }
}

TEST(ShakeImages, OofModeAndBadCandidatesAreRefusedClearly) {
  const fs::path ws_dir = image_workspace("segmentation", "dice");
  const compe::Workspace ws = compe::Workspace::open(ws_dir);
  shake::LoadOptions oof;
  oof.use_solution = false;
  try {
    shake::load_candidates(ws, candidates("segmentation"), oof);
    ADD_FAILURE() << "OOF mode accepted";
  } catch (const compe::Error& e) {
    EXPECT_NE(std::string(e.what()).find("not supported for segmentation metrics"), std::string::npos) << e.what();
  }
  // A candidate whose submission lacks a row.
  const fs::path bad = ws_dir / "bad";
  fs::create_directories(bad);
  std::string text = compe::read_file(kFixtures / "segmentation" / "cand_exact" / "submission.csv");
  text.erase(text.rfind('\n', text.size() - 2) + 1);
  std::ofstream(bad / "submission.csv") << text;
  try {
    shake::load_candidates(ws, {candidates("segmentation")[0], bad.string()}, {});
    ADD_FAILURE() << "a short submission accepted";
  } catch (const compe::Error& e) {
    EXPECT_NE(std::string(e.what()).find("candidate bad:"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("1 missing id(s): '99_shoes'"), std::string::npos) << e.what();
  }
  fs::remove_all(ws_dir);
}
