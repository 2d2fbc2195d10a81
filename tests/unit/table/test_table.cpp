#include <gtest/gtest.h>

#include <cmath>

#include "compe/error.hpp"
#include "compe/table.hpp"

using compe::Column;
using compe::DType;
using compe::Table;

TEST(Table, ColumnsAndMissing) {
  Table t;
  t.add_column(Column::from_f64("x", {1.5, std::nan(""), 3.0}));
  auto i = Column::from_i64("n", {1, 2, 3});
  i.missing = {0, 1, 0};
  t.add_column(i);
  t.add_column(Column::from_strings("s", {"a", std::nullopt, "a"}));
  EXPECT_EQ(t.num_rows(), 3u);
  EXPECT_TRUE(t.column("x").is_missing(1));
  EXPECT_TRUE(t.column("n").is_missing(1));
  EXPECT_TRUE(std::isnan(t.column("n").as_double(1)));
  EXPECT_EQ(t.column("s").dict.size(), 1u);
  EXPECT_EQ(t.column("s").to_string(2), "a");
  EXPECT_EQ(t.column("s").to_string(1), "");
  EXPECT_EQ(t.column("s").count_missing(), 1u);
  Table sub = t.take({2, 0});
  EXPECT_EQ(sub.column("x").f64[1], 1.5);
  EXPECT_EQ(sub.column("n").i64[0], 3);
}

TEST(Table, RejectsDuplicateAndMismatchedColumns) {
  Table t;
  t.add_column(Column::from_f64("x", {1, 2}));
  EXPECT_THROW(t.add_column(Column::from_f64("x", {1, 2})), compe::Error);
  EXPECT_THROW(t.add_column(Column::from_f64("y", {1})), compe::Error);
}

TEST(Table, UnknownColumnSuggestsClosest) {
  Table t;
  t.source = "train.csv";
  t.add_column(Column::from_f64("survived", {1}));
  try {
    (void)t.column("survivd");
    FAIL();
  } catch (const compe::Error& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("train.csv"), std::string::npos);
    EXPECT_NE(m.find("did you mean 'survived'"), std::string::npos);
  }
}

TEST(Table, FormatDoubleRoundTripsShortest) {
  EXPECT_EQ(compe::format_double(0.1), "0.1");
  EXPECT_EQ(compe::format_double(1.0), "1");
  EXPECT_EQ(compe::format_double(-2.5e-300), "-2.5e-300");
  for (double v : {0.1 + 0.2, 1.0 / 3.0, 123456789.123456789, 5e-324, 1.7976931348623157e308}) {
    EXPECT_EQ(std::strtod(compe::format_double(v).c_str(), nullptr), v);
  }
}
