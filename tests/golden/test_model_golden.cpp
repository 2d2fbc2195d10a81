// Model backends against their references (tests/golden/REFERENCES-model.md):
// `linear` against scikit-learn 1.2.1, `xgboost` against the xgboost 1.7.4 Python package.

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <limits>

#include "compe/model.hpp"
#include "compe/util.hpp"

#include <fmt/format.h>

using namespace compe;
using namespace compe::model;

namespace {

std::vector<double> numbers(const nlohmann::json& values) {
  std::vector<double> out;
  for (const auto& v : values) out.push_back(v.is_null() ? std::numeric_limits<double>::quiet_NaN() : v.get<double>());
  return out;
}

Table table_of(const nlohmann::json& side, bool with_targets) {
  Table t;
  std::vector<std::int64_t> ids(side["x0"].size());
  for (std::size_t i = 0; i < ids.size(); ++i) ids[i] = static_cast<std::int64_t>(i);
  t.add_column(Column::from_i64("id", ids));
  for (const char* name : {"x0", "x1", "x2"}) t.add_column(Column::from_f64(name, numbers(side[name])));
  std::vector<std::optional<std::string>> city;
  for (const auto& c : side["city"]) city.emplace_back(c.get<std::string>());
  t.add_column(Column::from_strings("city", city));
  if (with_targets) {
    t.add_column(Column::from_f64("y_regression", numbers(side["y_regression"])));
    std::vector<std::int64_t> yb, ym;
    for (const auto& v : side["y_binary"]) yb.push_back(v.get<std::int64_t>());
    for (const auto& v : side["y_multiclass"]) ym.push_back(v.get<std::int64_t>());
    t.add_column(Column::from_i64("y_binary", yb));
    t.add_column(Column::from_i64("y_multiclass", ym));
  }
  return t;
}

}  // namespace

TEST(ModelGolden, BackendsMatchReferences) {
  const auto doc = nlohmann::json::parse(read_file(COMPE_TEST_DATA "/golden/cases/model/model_cases.json"));
  Table train = table_of(doc["train"], true);
  Table test = table_of(doc["test"], false);
  FeatureSpec spec;
  spec.id_column = "id";
  spec.target_columns = {"y_regression", "y_binary", "y_multiclass"};
  auto fm = FeatureMatrix::build(train, test, spec);
  auto train_rows = doc["train_rows"].get<std::vector<std::size_t>>();
  auto valid_rows = doc["valid_rows"].get<std::vector<std::size_t>>();
  ASSERT_EQ(doc["cases"].size(), 6u);
  for (const auto& c : doc["cases"]) {
    const std::string name = c["name"];
    SCOPED_TRACE(name);
    const std::string task_name = c["task"];
    Task task = task_name == "binary" ? Task::kBinary
                                      : (task_name == "multiclass" ? Task::kMulticlass : Task::kRegression);
    auto target = Target::encode(train.column("y_" + task_name), task);
    FoldData d;
    d.features = &fm;
    d.target = &target;
    d.train_rows = train_rows;
    d.valid_rows = valid_rows;
    d.seed = 0;
    d.threads = 1;
    // As the fold loop does: resolve once, then the backend resolves again.
    const Info& info = find(c["model"].get<std::string>());
    auto r = make(info.name)->fit_predict(d, resolve_params(info, c["params"]), nullptr);
    auto valid = c["valid"].get<std::vector<double>>();
    auto test_pred = c["test"].get<std::vector<double>>();
    const double tol = c["tolerance"];
    ASSERT_EQ(r.valid_pred.size(), valid.size());
    ASSERT_EQ(r.test_pred.size(), test_pred.size());
    double worst = 0;
    for (std::size_t i = 0; i < valid.size(); ++i) worst = std::max(worst, std::abs(r.valid_pred[i] - valid[i]));
    for (std::size_t i = 0; i < test_pred.size(); ++i) worst = std::max(worst, std::abs(r.test_pred[i] - test_pred[i]));
    EXPECT_LE(worst, tol) << name << ": largest difference " << worst;
    RecordProperty(name, fmt::format("{:.3g}", worst));
  }
}
