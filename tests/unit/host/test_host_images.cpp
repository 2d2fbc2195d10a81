// compe host for detection and segmentation competitions: solutions in the ground-truth layout
// with Usage, uploads scored by the same code as compe score, and no free answer that depends on
// which part an image is in.
#include <gtest/gtest.h>

#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "compe/error.hpp"
#include "compe/host.hpp"
#include "compe/score.hpp"
#include "compe/table.hpp"
#include "compe/util.hpp"
#include "../error_of.hpp"

namespace fs = std::filesystem;
using compe::host::Host;
using compe::testing::message_of;

namespace {

constexpr std::int64_t kNow = 1798761600000;  // 2027-01-01T00:00:00Z
const fs::path kFixtures = fs::path(COMPE_TEST_DATA) / "fixtures" / "image_scoring";

struct TempDir {
  fs::path path;
  TempDir() {
    std::random_device rd;
    path = fs::temp_directory_path() / ("compe-host-images-" + std::to_string(rd()));
    fs::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

compe::host::InitOptions init_options(const fs::path& dir, const fs::path& solution, const std::string& metric) {
  compe::host::InitOptions o;
  o.dir = dir;
  o.solution = solution;
  o.metric = metric;
  o.deadline = "2027-01-02T00:00:00Z";
  o.daily_limit = 1000;
  o.teams = {"alpha"};
  o.now_ms = kNow;
  return o;
}

compe::Table read(const fs::path& p) {
  compe::CsvReadOptions o;
  o.display_name = p.filename().string();
  return compe::read_csv(p, o);
}

}  // namespace

TEST(HostImages, SegmentationUploadsScoreAsComputeScoreDoes) {
  TempDir tmp;
  const fs::path sol = kFixtures / "segmentation" / "solution.csv";
  auto o = init_options(tmp.path / "seg", sol, "dice");
  o.classes = {"top", "bottom_bag", "shoes"};
  o.image_size = std::pair<std::int64_t, std::int64_t>{96, 96};
  compe::host::init(o);
  Host h(o.dir);
  EXPECT_EQ(h.submission_columns(), (std::vector<std::string>{"Image_Label", "EncodedPixels"}));
  EXPECT_EQ(h.submission_rows(), 120u);
  EXPECT_EQ(h.config().classes, o.classes);
  ASSERT_TRUE(h.config().image_size);
  EXPECT_EQ(h.config().image_size->first, 96);
  const fs::path noisy = kFixtures / "segmentation" / "cand_noisy" / "submission.csv";
  const auto s = h.submit("alpha", compe::read_file(noisy), "noisy.csv", kNow);
  compe::score::Options so;
  so.metric = "dice";
  so.image_size = compe::score::ImageSize{96, 96};
  so.classes = o.classes;
  const auto r = compe::score::score_submission(read(sol), read(noisy), so);
  EXPECT_DOUBLE_EQ(s.public_score, *r.public_score);
  EXPECT_DOUBLE_EQ(s.private_score, *r.private_score);
  // A code past its image: refused naming the upload, the line and the image; not counted.
  std::string text = compe::read_file(noisy);
  std::size_t line4 = 0;  // the start of line 4 (60_shoes)
  for (int i = 0; i < 3; ++i) line4 = text.find('\n', line4) + 1;
  const std::size_t comma = text.find(',', line4);
  text.insert(comma + 1, "9200 100 ");
  const std::string msg = message_of([&] { h.submit("alpha", text, "bad.csv", kNow); });
  EXPECT_NE(msg.find("bad.csv: line 4: image '60'"), std::string::npos) << msg;
  EXPECT_NE(msg.find("past the image's 9216 pixels"), std::string::npos) << msg;
  EXPECT_EQ(h.submissions_today("alpha", kNow), 1);
}

TEST(HostImages, DetectionUploadsScoreAsComputeScoreDoes) {
  TempDir tmp;
  const fs::path sol = kFixtures / "detection" / "solution.csv";
  auto o = init_options(tmp.path / "det", sol, "coco_map50");
  o.classes = {"tshirt", "trouser", "pullover", "dress", "coat", "sandal", "shirt", "sneaker", "bag", "boot"};
  compe::host::init(o);
  Host h(o.dir);
  EXPECT_EQ(h.submission_columns(), (std::vector<std::string>{"image_id", "PredictionString"}));
  EXPECT_EQ(h.submission_rows(), 40u);
  const fs::path noisy = kFixtures / "detection" / "cand_noisy" / "submission.csv";
  const auto s = h.submit("alpha", compe::read_file(noisy), "noisy.csv", kNow);
  compe::score::Options so;
  so.metric = "coco_map50";
  so.classes = o.classes;
  const auto r = compe::score::score_submission(read(sol), read(noisy), so);
  EXPECT_DOUBLE_EQ(s.public_score, *r.public_score);
  EXPECT_DOUBLE_EQ(s.private_score, *r.private_score);
  EXPECT_LT(s.private_score, 1.0);
  const auto exact = h.submit("alpha", compe::read_file(kFixtures / "detection" / "cand_exact" / "submission.csv"),
                              "exact.csv", kNow);
  EXPECT_DOUBLE_EQ(exact.public_score, 1.0);
  // Without the class names, labels written as names never match integer labels: init refuses
  // nothing, but the solution's own boxes still score (names against names).
  TempDir t2;
  compe::host::init(init_options(t2.path / "det", sol, "coco_map50"));
}

TEST(HostImages, InitRefusesAPartWhereTheMetricIsUndefined) {
  TempDir tmp;
  compe::write_file_atomic(tmp.path / "solution.csv",
                           "image_id,x1,y1,x2,y2,label,Usage\n1,0,0,5,5,0,Public\n2,,,,,,Private\n");
  const std::string msg = message_of([&] {
    compe::host::init(init_options(tmp.path / "h", tmp.path / "solution.csv", "coco_map50"));
  });
  EXPECT_NE(msg.find("undefined on the Private rows alone (they have no ground-truth box)"), std::string::npos) << msg;
  EXPECT_FALSE(fs::exists(tmp.path / "h" / "host.toml"));
}

TEST(HostImages, SplitProbeLearnsNothingFromFreeAnswers) {
  // Two hosts hold the same ground truth under different splits of the images; every answer
  // that does not count (a refusal and its message) must be the same for both, whatever the
  // upload: boxes on some images only, malformed boxes or codes on one image, missing rows.
  struct Kind {
    std::string metric, header, split_a, split_b;
    std::vector<std::string> probes;
  };
  const std::string det_rows[] = {"1,0,0,10,10,0", "2,5,5,20,20,1", "3,0,0,8,8,0", "4,2,2,9,9,1"};
  const std::string seg_rows[] = {"1_a,1 4", "1_b,", "2_a,5 2", "2_b,10 3", "3_a,", "3_b,2 2", "4_a,1 1", "4_b,"};
  std::vector<Kind> kinds;
  {
    Kind k{"coco_map50", "image_id,x1,y1,x2,y2,label,Usage\n", "", "", {}};
    const char* a[] = {"Public", "Public", "Private", "Private"};
    const char* b[] = {"Private", "Public", "Public", "Private"};
    for (int i = 0; i < 4; ++i) {
      k.split_a += det_rows[i] + "," + a[i] + "\n";
      k.split_b += det_rows[i] + "," + b[i] + "\n";
    }
    const std::string boxes[] = {"0 0.9 0 0 10 10", "1 0.8 5 5 15 15", "0 0.7 0 0 8 8", "1 0.6 2 2 7 7"};
    for (int i = 0; i < 4; ++i) {
      std::string only = "image_id,PredictionString\n", bad = only, missing = only;
      for (int j = 0; j < 4; ++j) {
        only += std::to_string(j + 1) + "," + (i == j ? boxes[j] : "") + "\n";
        bad += std::to_string(j + 1) + "," + (i == j ? "0 0.5 0 0 -3 4" : boxes[j]) + "\n";
        if (i != j) missing += std::to_string(j + 1) + "," + boxes[j] + "\n";
      }
      k.probes.insert(k.probes.end(), {only, bad, missing});
    }
    k.probes.push_back("image_id,PredictionString\n1,\n2,\n3,\n4,\n");
    kinds.push_back(k);
  }
  for (const char* metric : {"dice", "dice_global", "iou"}) {
    Kind k{metric, "Image_Label,EncodedPixels,Usage\n", "", "", {}};
    for (int i = 0; i < 8; ++i) {
      k.split_a += seg_rows[i] + "," + (i < 4 ? "Public" : "Private") + "\n";
      k.split_b += seg_rows[i] + "," + (i % 4 < 2 ? "Private" : "Public") + "\n";
    }
    for (int i = 0; i < 8; ++i) {
      std::string only = "Image_Label,EncodedPixels\n", bad = only;
      for (int j = 0; j < 8; ++j) {
        const std::string key = seg_rows[j].substr(0, 3);
        only += key + "," + (i == j ? "1 12" : "") + "\n";
        bad += key + "," + (i == j ? "12 2" : "") + "\n";
      }
      k.probes.insert(k.probes.end(), {only, bad});
    }
    kinds.push_back(k);
  }
  for (const auto& k : kinds) {
    SCOPED_TRACE(k.metric);
    TempDir tmp;
    compe::write_file_atomic(tmp.path / "a.csv", k.header + k.split_a);
    compe::write_file_atomic(tmp.path / "b.csv", k.header + k.split_b);
    auto oa = init_options(tmp.path / "ha", tmp.path / "a.csv", k.metric);
    auto ob = init_options(tmp.path / "hb", tmp.path / "b.csv", k.metric);
    oa.image_size = ob.image_size = std::pair<std::int64_t, std::int64_t>{4, 3};
    compe::host::init(oa);
    compe::host::init(ob);
    Host ha(oa.dir), hb(ob.dir);
    int counted = 0, refused = 0;
    for (const auto& csv : k.probes) {
      const std::string ma = message_of([&] { ha.submit("alpha", csv, "probe.csv", kNow); });
      const std::string mb = message_of([&] { hb.submit("alpha", csv, "probe.csv", kNow); });
      EXPECT_EQ(ma, mb) << csv;
      EXPECT_EQ(ma.find("ublic"), std::string::npos) << ma;
      EXPECT_EQ(ma.find("rivate"), std::string::npos) << ma;
      (ma.empty() ? counted : refused) += 1;
    }
    EXPECT_EQ(ha.submissions_today("alpha", kNow), counted);
    EXPECT_EQ(hb.submissions_today("alpha", kNow), counted);
    EXPECT_GT(counted, 0);
    EXPECT_GT(refused, 0);
  }
}
