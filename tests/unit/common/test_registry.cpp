#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "compe/error.hpp"
#include "compe/registry.hpp"

namespace {

struct Row {
  std::string name;
  std::vector<std::string> aliases;
  int value = 0;
};
struct NoAliases {
  std::string name;
};

std::string error_of(auto fn) {
  try {
    fn();
  } catch (const compe::Error& e) {
    EXPECT_EQ(e.code(), compe::ErrorCode::kNotFound);
    return e.what();
  }
  return "(no error)";
}

TEST(Registry, FindsNamesAndAliasesIgnoringCase) {
  const compe::Registry<Row> r("widget", {{.name = "alpha", .aliases = {"a1"}, .value = 1},
                                          {.name = "beta", .aliases = {}, .value = 2}});
  EXPECT_EQ(r.find("alpha").value, 1);
  EXPECT_EQ(r.find("ALPHA").value, 1);
  EXPECT_EQ(r.find("A1").value, 1);
  EXPECT_EQ(r.find("beta").value, 2);
  EXPECT_EQ(r.lookup("gamma"), nullptr);
  EXPECT_EQ(r.names(), (std::vector<std::string>{"alpha", "beta"}));
  EXPECT_EQ(r.rows().size(), 2u);
}

TEST(Registry, UnknownNameSuggestsTheRowOfTheClosestNameOrAlias) {
  const compe::Registry<Row> r("widget", {{.name = "alpha", .aliases = {"first_one"}},
                                          {.name = "beta", .aliases = {}}});
  EXPECT_EQ(error_of([&] { r.find("alpah"); }),
            "unknown widget 'alpah' (did you mean 'alpha'?); known: alpha, beta");
  // Close to an alias: the suggestion is the row's name.
  EXPECT_EQ(r.suggestion("first_on"), "alpha");
  EXPECT_EQ(error_of([&] { r.find("zzzzzzzz"); }), "unknown widget 'zzzzzzzz'; known: alpha, beta");
}

TEST(Registry, RowsWithoutAliases) {
  const compe::Registry<NoAliases> r("method", {{.name = "mean"}, {.name = "rank_mean"}});
  EXPECT_EQ(r.find("Mean").name, "mean");
  EXPECT_NE(error_of([&] { r.find("maen"); }).find("did you mean 'mean'"), std::string::npos);
}

TEST(Registry, SplitSpec) {
  auto s = compe::split_spec("map@5");
  EXPECT_EQ(s.name, "map");
  ASSERT_TRUE(s.arg.has_value());
  EXPECT_EQ(*s.arg, "5");
  s = compe::split_spec("rmse");
  EXPECT_EQ(s.name, "rmse");
  EXPECT_FALSE(s.arg.has_value());
  s = compe::split_spec("x@");
  ASSERT_TRUE(s.arg.has_value());
  EXPECT_TRUE(s.arg->empty());
}

}  // namespace
