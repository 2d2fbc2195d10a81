// Fold-safe target encoding against the numpy reference of scikit-learn 1.3's TargetEncoder
// formula (tests/golden/REFERENCES-model.md, tests/golden/gen/gen_target_encoding.py).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include <nlohmann/json.hpp>

#include "compe/model.hpp"
#include "compe/table.hpp"

using nlohmann::json;
using namespace compe;
using namespace compe::model;

namespace {

// One CSV of id,c,y (or id,c): the level text, empty for missing.
std::string csv(const json& levels, const json* y) {
  std::string out = y ? "id,c,y\n" : "id,c\n";
  for (std::size_t i = 0; i < levels.size(); ++i) {
    out += std::to_string(i) + "," + (levels[i].is_null() ? std::string() : levels[i].get<std::string>());
    if (y) out += "," + format_double((*y)[i].get<double>());
    out += "\n";
  }
  return out;
}

void expect_column(const std::vector<float>& values, std::size_t nf, std::size_t f, const json& expected,
                   double tol, const std::string& what) {
  ASSERT_EQ(values.size(), expected.size() * nf) << what;
  for (std::size_t r = 0; r < expected.size(); ++r) {
    const float got = values[r * nf + f];
    if (expected[r].is_null()) {
      EXPECT_TRUE(std::isnan(got)) << what << " row " << r;
    } else {
      const double want = expected[r].get<double>();
      EXPECT_NEAR(got, want, tol * std::max(1.0, std::abs(want))) << what << " row " << r;
    }
  }
}

}  // namespace

TEST(TargetEncodingGolden, FoldValuesMatchTheReference) {
  std::ifstream in(std::filesystem::path(COMPE_TEST_DATA) / "golden" / "cases" / "model" / "target_encoding.json");
  ASSERT_TRUE(in) << "missing target_encoding.json";
  const json doc = json::parse(in);
  ASSERT_EQ(doc.at("inner_folds").get<std::size_t>(), kTargetEncodingFolds);
  const double tol = doc.at("tolerance").get<double>();
  ASSERT_EQ(doc.at("cases").size(), 3u);
  for (const auto& c : doc.at("cases")) {
    const std::string name = c.at("name").get<std::string>();
    CsvReadOptions opt;
    opt.dtypes["c"] = DType::kString;
    Table train = read_csv_string(csv(c.at("train_level"), &c.at("y")), "train.csv", opt);
    Table test = read_csv_string(csv(c.at("test_level"), nullptr), "test.csv", opt);
    FeatureSpec spec;
    spec.id_column = "id";
    spec.target_columns = {"y"};
    spec.auto_select = false;
    spec.target_encoded = {"c"};
    FeatureMatrix fm = FeatureMatrix::build(train, test, spec);
    ASSERT_EQ(fm.num_features(), 1u) << name;
    ASSERT_TRUE(fm.features()[0].target_encoded) << name;
    const Task task = c.at("task") == "binary" ? Task::kBinary : Task::kRegression;
    Target t = Target::encode(train.column("y"), task);
    const auto fit = c.at("fit_rows").get<std::vector<std::size_t>>();
    expect_column(fm.fold_values(fit, false, t), 1, 0, c.at("train_encoded"), tol, name + " train");
    expect_column(fm.fold_values(fit, true, t), 1, 0, c.at("test_encoded"), tol, name + " test");
  }
}

TEST(TargetEncoding, ShrinksSmallLevelsTowardThePrior) {
  // Level 0: four rows all 1; level 1: one row 1; level 2: no rows. Prior mean 0.5.
  std::vector<float> codes = {0, 0, 0, 0, 1, NAN, 3, 3, 3, 3};
  std::vector<double> y = {1, 1, 1, 1, 1, 0, 0, 0, 0, 0};
  auto enc = target_encoding(codes, y, 4);
  EXPECT_DOUBLE_EQ(enc[0], 1.0);   // no within-level variance: lambda 1
  EXPECT_DOUBLE_EQ(enc[1], 1.0);
  EXPECT_DOUBLE_EQ(enc[2], 0.5);   // no rows: the prior
  EXPECT_DOUBLE_EQ(enc[3], 0.0);
  std::vector<float> mixed = {0, 0, 0, 0};
  std::vector<double> ym = {1, 0, 1, 1};  // one level: lambda = 4 v / (4 v + v) = 0.8
  EXPECT_NEAR(target_encoding(mixed, ym, 1)[0], 0.75, 1e-12);
}
