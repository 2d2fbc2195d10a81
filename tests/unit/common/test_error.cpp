#include <gtest/gtest.h>

#include <optional>
#include <string>

#include "compe/error.hpp"

namespace {

TEST(ErrorContext, EmptyByDefaultAndTheMessageIsUnchanged) {
  const compe::Error e(compe::ErrorCode::kParse, "a.csv:3: bad");
  EXPECT_TRUE(e.context().empty());
  EXPECT_STREQ(e.what(), "a.csv:3: bad");
  EXPECT_EQ(e.code(), compe::ErrorCode::kParse);
}

TEST(ErrorContext, FailAtCarriesTheFieldsBesideTheText) {
  compe::ErrorContext at;
  at.file = "a.csv";
  at.line = 3;
  at.column = 7;
  try {
    compe::fail_at(at, compe::ErrorCode::kParse, "{}:{}:{}: '{}' is not a number", "a.csv", 3, 7, "x");
    FAIL() << "expected an error";
  } catch (const compe::Error& e) {
    EXPECT_STREQ(e.what(), "a.csv:3:7: 'x' is not a number");
    EXPECT_EQ(e.context().file, std::optional<std::string>("a.csv"));
    EXPECT_EQ(e.context().line, std::optional<std::size_t>(3));
    EXPECT_EQ(e.context().column, std::optional<std::size_t>(7));
    EXPECT_FALSE(e.context().image.has_value());
    EXPECT_FALSE(e.context().fold.has_value());
    EXPECT_FALSE(e.context().empty());
  }
}

TEST(ErrorContext, MergedKeepsInnerFieldsAndFillsTheRest) {
  compe::ErrorContext inner;
  inner.line = 4;
  inner.file = "inner.csv";
  compe::ErrorContext outer;
  outer.file = "outer.csv";
  outer.image = 2;
  outer.fold = 1;
  const compe::ErrorContext m = inner.merged(outer);
  EXPECT_EQ(m.file, std::optional<std::string>("inner.csv"));
  EXPECT_EQ(m.line, std::optional<std::size_t>(4));
  EXPECT_EQ(m.image, std::optional<std::size_t>(2));
  EXPECT_EQ(m.fold, std::optional<std::size_t>(1));
  EXPECT_FALSE(m.column.has_value());
}

}  // namespace
