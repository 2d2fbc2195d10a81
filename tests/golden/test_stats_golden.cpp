// Golden cases from scipy 1.10 (see tests/golden/REFERENCES-stats.md): pearson, spearman and
// average ranks, degenerate inputs (constant, one point, none) included.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "compe/stats.hpp"

using nlohmann::json;

TEST(StatsGolden, CorrelationsMatchScipy) {
  std::ifstream in(std::filesystem::path(COMPE_TEST_DATA) / "golden" / "cases" / "stats" /
                   "correlation.json");
  ASSERT_TRUE(in) << "missing correlation.json";
  const json doc = json::parse(in);
  const double tol = doc.at("tolerance").get<double>();
  ASSERT_EQ(doc.at("cases").size(), 10u);
  for (const auto& c : doc.at("cases")) {
    const auto a = c.at("a").get<std::vector<double>>();
    const auto b = c.at("b").get<std::vector<double>>();
    const std::string name = c.at("name").get<std::string>();
    for (const char* which : {"pearson", "spearman"}) {
      const double got = std::string(which) == "pearson" ? compe::stats::pearson(a, b)
                                                         : compe::stats::spearman(a, b);
      if (c.at(which).is_null()) {
        EXPECT_TRUE(std::isnan(got)) << name << " " << which << " = " << got;
      } else {
        EXPECT_NEAR(got, c.at(which).get<double>(), tol) << name << " " << which;
      }
    }
    const auto ranks = compe::stats::average_ranks(a);
    EXPECT_EQ(ranks, c.at("ranks_a").get<std::vector<double>>()) << name;
  }
}
