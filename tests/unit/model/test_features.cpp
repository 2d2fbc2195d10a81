#include <gtest/gtest.h>

#include <cmath>

#include "compe/error.hpp"
#include "compe/model.hpp"
#include "model_test_util.hpp"

using namespace compe;
using namespace compe::model;

namespace {

Table small_train() {
  Table t;
  t.source = "train.csv";
  t.add_column(Column::from_i64("id", {1, 2, 3, 4}));
  t.add_column(Column::from_f64("x", {1.5, std::nan(""), 3.0, 4.0}));
  t.add_column(Column::from_strings("color", {"red", "blue", std::nullopt, "red"}));
  t.add_column(Column::from_i64("zone", {30, 10, 30, 20}));
  t.add_column(Column::from_i64("y", {0, 1, 0, 1}));
  return t;
}

Table small_test() {
  Table t;
  t.source = "test.csv";
  t.add_column(Column::from_i64("id", {5, 6, 7}));
  t.add_column(Column::from_f64("x", {2.0, 1.0, std::nan("")}));
  // "green" is unseen in train; test dictionary order differs from train's.
  t.add_column(Column::from_strings("color", {"blue", "green", "red"}));
  t.add_column(Column::from_i64("zone", {20, 40, 10}));
  return t;
}

}  // namespace

TEST(ModelFeatures, DefaultSpecSkipsIdAndTarget) {
  FeatureSpec spec{.id_column = "id", .target_columns = {"y"}};
  auto fm = FeatureMatrix::build(small_train(), small_test(), spec);
  ASSERT_EQ(fm.num_features(), 3u);
  EXPECT_EQ(fm.feature_names(), (std::vector<std::string>{"x", "color", "zone"}));
  EXPECT_EQ(fm.num_train_rows(), 4u);
  EXPECT_EQ(fm.num_test_rows(), 3u);
  EXPECT_EQ(fm.features()[0].kind, FeatureKind::kNumeric);
  EXPECT_EQ(fm.features()[2].kind, FeatureKind::kNumeric);
  EXPECT_FLOAT_EQ(fm.train_at(0, 0), 1.5f);
  EXPECT_TRUE(std::isnan(fm.train_at(1, 0)));
  EXPECT_FLOAT_EQ(fm.train_at(2, 2), 30.0f);
}

TEST(ModelFeatures, CategoricalCodesUnifiedAcrossTrainAndTest) {
  FeatureSpec spec{.id_column = "id", .target_columns = {"y"}};
  auto fm = FeatureMatrix::build(small_train(), small_test(), spec);
  const auto& color = fm.features()[1];
  EXPECT_EQ(color.kind, FeatureKind::kCategorical);
  EXPECT_EQ(color.num_categories, 2u);
  EXPECT_EQ(color.levels, (std::vector<std::string>{"blue", "red"}));
  EXPECT_FLOAT_EQ(fm.train_at(0, 1), 1.0f);  // red
  EXPECT_FLOAT_EQ(fm.train_at(1, 1), 0.0f);  // blue
  EXPECT_TRUE(std::isnan(fm.train_at(2, 1)));
  EXPECT_FLOAT_EQ(fm.test_at(0, 1), 0.0f);   // blue
  EXPECT_TRUE(std::isnan(fm.test_at(1, 1))); // green: unseen -> missing
  EXPECT_FLOAT_EQ(fm.test_at(2, 1), 1.0f);   // red
}

TEST(ModelFeatures, UnseenLevelsAreReported) {
  FeatureSpec spec{.id_column = "id", .target_columns = {"y"}, .categorical = {"zone"}};
  auto fm = FeatureMatrix::build(small_train(), small_test(), spec);
  const auto& report = fm.report();
  ASSERT_EQ(report.unseen.size(), 2u);
  EXPECT_EQ(report.unseen[0].feature, "color");
  EXPECT_EQ(report.unseen[0].rows, 1u);
  EXPECT_EQ(report.unseen[0].examples, (std::vector<std::string>{"green"}));
  EXPECT_EQ(report.unseen[1].feature, "zone");
  EXPECT_EQ(report.unseen[1].examples, (std::vector<std::string>{"40"}));
  EXPECT_NE(report.to_string().find("feature 'color': 1 test row has levels not seen in train"),
            std::string::npos);
}

TEST(ModelFeatures, NumericOverrideBecomesCategorical) {
  FeatureSpec spec{.id_column = "id", .target_columns = {"y"}, .categorical = {"zone"}};
  auto fm = FeatureMatrix::build(small_train(), small_test(), spec);
  const auto& zone = fm.features()[2];
  EXPECT_EQ(zone.kind, FeatureKind::kCategorical);
  EXPECT_EQ(zone.levels, (std::vector<std::string>{"10", "20", "30"}));
  EXPECT_FLOAT_EQ(fm.train_at(0, 2), 2.0f);
  EXPECT_FLOAT_EQ(fm.test_at(0, 2), 1.0f);
  EXPECT_TRUE(std::isnan(fm.test_at(1, 2)));
  EXPECT_FLOAT_EQ(fm.test_at(2, 2), 0.0f);
}

TEST(ModelFeatures, CodesDoNotDependOnRowOrder) {
  FeatureSpec spec{.id_column = "id", .target_columns = {"y"}};
  auto a = FeatureMatrix::build(small_train(), small_test(), spec);
  auto b = FeatureMatrix::build(small_train().take({3, 2, 1, 0}), small_test(), spec);
  for (std::size_t r = 0; r < 4; ++r) {
    float va = a.train_at(r, 1), vb = b.train_at(3 - r, 1);
    EXPECT_TRUE((std::isnan(va) && std::isnan(vb)) || va == vb);
  }
}

TEST(ModelFeatures, KeepAndDrop) {
  FeatureSpec keep{.id_column = "id", .target_columns = {"y"}, .keep = {"zone", "x"}};
  auto fm = FeatureMatrix::build(small_train(), small_test(), keep);
  EXPECT_EQ(fm.feature_names(), (std::vector<std::string>{"zone", "x"}));
  FeatureSpec drop{.id_column = "id", .target_columns = {"y"}, .drop = {"color"}};
  fm = FeatureMatrix::build(small_train(), small_test(), drop);
  EXPECT_EQ(fm.feature_names(), (std::vector<std::string>{"x", "zone"}));
}

TEST(ModelFeatures, MissingTestColumnIsNamed) {
  Table test = small_test();
  test.drop_column("zone");
  FeatureSpec spec{.id_column = "id", .target_columns = {"y"}};
  try {
    FeatureMatrix::build(small_train(), test, spec);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(std::string(e.what()).find("'zone'"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("test.csv"), std::string::npos) << e.what();
  }
}

TEST(ModelFeatures, UnknownSpecColumnsFail) {
  FeatureSpec spec{.id_column = "id", .target_columns = {"y"}, .drop = {"colour"}};
  try {
    FeatureMatrix::build(small_train(), small_test(), spec);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kNotFound);
    EXPECT_NE(std::string(e.what()).find("did you mean 'color'"), std::string::npos) << e.what();
  }
  FeatureSpec cat{.id_column = "id", .target_columns = {"y"}, .categorical = {"y"}};
  EXPECT_THROW(FeatureMatrix::build(small_train(), small_test(), cat), Error);
  FeatureSpec none{.id_column = "id", .target_columns = {"y"}, .drop = {"x", "color", "zone"}};
  EXPECT_THROW(FeatureMatrix::build(small_train(), small_test(), none), Error);
}

TEST(ModelFeatures, KindMismatchBetweenTrainAndTestFails) {
  Table test = small_test();
  test.drop_column("zone");
  test.add_column(Column::from_strings("zone", {"a", "b", "c"}));
  FeatureSpec spec{.id_column = "id", .target_columns = {"y"}};
  EXPECT_THROW(FeatureMatrix::build(small_train(), test, spec), Error);
}

TEST(ModelTarget, BinaryZeroOneAndLabels) {
  auto t = Target::encode(Column::from_i64("y", {0, 1, 1, 0}), Task::kBinary);
  EXPECT_EQ(t.y, (std::vector<double>{0, 1, 1, 0}));
  EXPECT_EQ(t.num_class, 2u);
  auto s = Target::encode(Column::from_strings("y", {"yes", "no", "yes"}), Task::kBinary);
  EXPECT_EQ(s.y, (std::vector<double>{1, 0, 1}));
  EXPECT_EQ(s.classes, (std::vector<std::string>{"no", "yes"}));
  auto n = Target::encode(Column::from_i64("y", {2, 5, 5}), Task::kBinary);
  EXPECT_EQ(n.y, (std::vector<double>{0, 1, 1}));
  EXPECT_EQ(n.classes, (std::vector<std::string>{"2", "5"}));
  EXPECT_THROW(Target::encode(Column::from_i64("y", {0, 1, 2}), Task::kBinary), Error);
  EXPECT_THROW(Target::encode(Column::from_strings("y", {"a", std::nullopt}), Task::kBinary), Error);
}

TEST(ModelTarget, MulticlassMapping) {
  auto t = Target::encode(Column::from_i64("y", {10, 2, 33, 2}), Task::kMulticlass);
  EXPECT_EQ(t.num_class, 3u);
  EXPECT_EQ(t.classes, (std::vector<std::string>{"2", "10", "33"}));
  EXPECT_EQ(t.y, (std::vector<double>{1, 0, 2, 0}));
  EXPECT_EQ(t.prediction_columns(), 3u);
  EXPECT_THROW(Target::encode(Column::from_i64("y", {1, 1}), Task::kMulticlass), Error);
}

TEST(ModelTarget, RegressionLog1p) {
  auto t = Target::encode(Column::from_f64("y", {0.0, 1.0, 9.0}), Task::kRegression,
                          TargetTransform::kLog1p);
  EXPECT_DOUBLE_EQ(t.y[2], std::log1p(9.0));
  std::vector<double> pred = t.y;
  t.inverse_transform(pred);
  EXPECT_NEAR(pred[2], 9.0, 1e-12);
  EXPECT_THROW(Target::encode(Column::from_f64("y", {-1.0}), Task::kRegression, TargetTransform::kLog1p),
               Error);
  EXPECT_THROW(Target::encode(Column::from_strings("y", {"a"}), Task::kRegression), Error);
  EXPECT_THROW(Target::encode(Column::from_i64("y", {0, 1}), Task::kBinary, TargetTransform::kLog1p),
               Error);
  EXPECT_EQ(parse_target_transform("log1p"), TargetTransform::kLog1p);
  EXPECT_THROW(parse_target_transform("log"), Error);
}
