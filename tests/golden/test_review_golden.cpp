// Confident learning against an independent numpy implementation written from the paper
// (tests/golden/REFERENCES-review.md): thresholds, the confident joint, the issues and their order.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "compe/review.hpp"

namespace rv = compe::review;
using nlohmann::json;

TEST(ReviewGolden, ConfidentLearningMatchesThePaper) {
  std::ifstream in(std::filesystem::path(COMPE_TEST_DATA) / "golden" / "cases" / "review" /
                   "confident_learning.json");
  ASSERT_TRUE(in.good());
  const json doc = json::parse(in);
  const double tol = doc.at("tolerance").get<double>();
  ASSERT_GE(doc.at("cases").size(), 5u);
  for (const auto& c : doc.at("cases")) {
    const std::size_t n = c.at("rows"), k = c.at("classes");
    std::vector<double> values;
    for (const auto& row : c.at("probabilities"))
      for (const auto& v : row) values.push_back(v.get<double>());
    const std::vector<int> labels = c.at("labels").get<std::vector<int>>();
    const rv::Probabilities p{values.data(), n, k};
    const auto cl = rv::confident_learning(p, labels, {});
    ASSERT_EQ(cl.thresholds.size(), k);
    for (std::size_t j = 0; j < k; ++j) EXPECT_NEAR(cl.thresholds[j], c.at("thresholds")[j].get<double>(), tol);
    EXPECT_EQ(cl.confident_joint, (c.at("confident_joint").get<std::vector<std::vector<std::int64_t>>>()));
    const auto issues = c.at("issues").get<std::vector<std::size_t>>();
    const auto suggested = c.at("suggested").get<std::vector<int>>();
    ASSERT_EQ(cl.issues.size(), issues.size()) << n << " rows, " << k << " classes";
    for (std::size_t i = 0; i < issues.size(); ++i) {
      EXPECT_EQ(cl.issues[i].row, issues[i]);
      EXPECT_EQ(cl.issues[i].suggested, suggested[i]);
      EXPECT_EQ(cl.issues[i].given, labels[issues[i]]);
    }
  }
}
