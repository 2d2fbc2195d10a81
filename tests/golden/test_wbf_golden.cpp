// Golden cases from ensemble_boxes 1.0.9 (see tests/golden/REFERENCES-wbf.md): every case's boxes,
// scores and labels within the case's tolerance, in the reference's order.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "compe/detect.hpp"

namespace fs = std::filesystem;
namespace det = compe::detect;
using nlohmann::json;

namespace {

fs::path cases_dir() { return fs::path(COMPE_TEST_DATA) / "golden" / "cases" / "wbf"; }

std::vector<fs::path> case_files() {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(cases_dir())) {
    if (e.path().extension() == ".json") files.push_back(e.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

det::ImageDetections inputs_of(const json& in) {
  det::ImageDetections models(in.at("boxes").size());
  for (std::size_t m = 0; m < models.size(); ++m) {
    for (const auto& b : in.at("boxes")[m]) {
      models[m].boxes.push_back({b[0].get<double>(), b[1].get<double>(), b[2].get<double>(),
                                 b[3].get<double>()});
    }
    for (const auto& s : in.at("scores")[m]) models[m].scores.push_back(s.get<double>());
    for (const auto& l : in.at("labels")[m]) {
      models[m].labels.push_back(static_cast<std::int64_t>(l.get<double>()));
    }
  }
  return models;
}

std::unique_ptr<det::Fuser> fuser_of(const json& c) {
  const std::string fn = c.at("function").get<std::string>();
  const json& p = c.at("params");
  det::Params params;
  if (!p.at("weights").is_null()) params.weights = p.at("weights").get<std::vector<double>>();
  params.iou_thr = p.at("iou_thr").get<double>();
  std::string method;
  if (fn == "weighted_boxes_fusion") {
    method = "wbf";
    params.skip_box_thr = p.at("skip_box_thr").get<double>();
    params.conf_type = det::parse_conf_type(p.at("conf_type").get<std::string>());
  } else if (fn == "non_maximum_weighted") {
    method = "nmw";
    params.skip_box_thr = p.at("skip_box_thr").get<double>();
  } else if (fn == "nms") {
    method = "nms";
  } else if (fn == "soft_nms") {
    method = "soft_nms";
    params.sigma = p.at("sigma").get<double>();
    params.thresh = p.at("thresh").get<double>();
    params.soft_kind = det::parse_soft_nms_kind(std::to_string(p.at("method").get<int>()));
  } else {
    ADD_FAILURE() << "unknown function " << fn;
    return nullptr;
  }
  return det::make(method, params);
}

}  // namespace

TEST(WbfGolden, AllCasesPresent) { EXPECT_EQ(case_files().size(), 48u); }

TEST(WbfGolden, EveryCaseMatchesReference) {
  std::size_t checked = 0;
  for (const fs::path& path : case_files()) {
    SCOPED_TRACE(path.filename().string());
    std::ifstream f(path);
    const json c = json::parse(f);
    auto fuser = fuser_of(c);
    ASSERT_NE(fuser, nullptr);
    det::Report report;
    const std::vector<det::Box> got = fuser->fuse(inputs_of(c.at("inputs")), &report);
    const json& exp = c.at("expected");
    const double tol = c.at("tolerance").at("abs").get<double>();
    ASSERT_LE(tol, 1e-6);
    ASSERT_EQ(got.size(), exp.at("scores").size());
    for (std::size_t i = 0; i < got.size(); ++i) {
      SCOPED_TRACE("box " + std::to_string(i));
      const auto& eb = exp.at("boxes")[i];
      EXPECT_NEAR(got[i].x1, eb[0].get<double>(), tol);
      EXPECT_NEAR(got[i].y1, eb[1].get<double>(), tol);
      EXPECT_NEAR(got[i].x2, eb[2].get<double>(), tol);
      EXPECT_NEAR(got[i].y2, eb[3].get<double>(), tol);
      EXPECT_NEAR(got[i].score, exp.at("scores")[i].get<double>(), tol);
      EXPECT_EQ(got[i].label, static_cast<std::int64_t>(exp.at("labels")[i].get<double>()));
    }
    EXPECT_EQ(report.boxes_out, got.size());
    ++checked;
  }
  EXPECT_EQ(checked, 48u);
}
