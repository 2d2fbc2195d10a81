// Multi-objective TPE internals against Optuna 3.1.0 (tests/golden/gen/gen_tpe_multi.py,
// tests/golden/REFERENCES-tpe.md): non-domination ranks, the good/bad split (rank filling, then
// greedy hypervolume subset selection) and the hypervolume weights of the good observations.
// Ranks and splits exact; weights within 1e-9.

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "compe/tune.hpp"
#include "compe/util.hpp"

namespace {

namespace fs = std::filesystem;
namespace tune = compe::tune;
using nlohmann::json;

TEST(TpeGolden, MultiObjectiveSplitAndWeights) {
  const json doc = json::parse(
      compe::read_file(fs::path(COMPE_TEST_DATA) / "golden" / "cases" / "tpe" / "multi.json"));
  ASSERT_GE(doc.at("cases").size(), 10u);
  int k = 0;
  for (const json& c : doc.at("cases")) {
    SCOPED_TRACE("case " + std::to_string(k++));
    const auto losses = c.at("losses").get<std::vector<std::vector<double>>>();
    EXPECT_EQ(tune::nondomination_ranks(losses), c.at("ranks").get<std::vector<int>>());
    const auto [below, above] =
        tune::split_observations_multi(losses, c.at("n_below").get<std::size_t>());
    EXPECT_EQ(below, c.at("below").get<std::vector<std::size_t>>());
    EXPECT_EQ(above, c.at("above").get<std::vector<std::size_t>>());
    std::vector<std::vector<double>> good;
    for (std::size_t i : c.at("below").get<std::vector<std::size_t>>()) good.push_back(losses[i]);
    const std::vector<double> w = tune::multi_objective_weights(good);
    const auto want = c.at("weights").get<std::vector<double>>();
    ASSERT_EQ(w.size(), want.size());
    for (std::size_t i = 0; i < w.size(); ++i) EXPECT_NEAR(w[i], want[i], 1e-9) << i;
  }
}

}  // namespace
