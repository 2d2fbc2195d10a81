#include <gtest/gtest.h>

#include "compe/error.hpp"
#include "compe/workspace.hpp"

namespace {

const char* kGood = R"(
[competition]
name = "t"
task = "binary"
metric = "roc_auc"
id = "id"
target = "y"

[data]
train = "train.csv"
test = "test.csv"
sample_submission = "sample_submission.csv"

[folds]
strategy = "stratified_kfold"
k = 4
seed = 3
)";

std::string error_of(const std::string& text) {
  try {
    compe::parse_competition_config(text, "compe.toml");
  } catch (const compe::Error& e) {
    return e.what();
  }
  return "";
}

std::string replace(std::string s, const std::string& from, const std::string& to) {
  auto p = s.find(from);
  EXPECT_NE(p, std::string::npos) << from;
  return s.replace(p, from.size(), to);
}

}  // namespace

TEST(WorkspaceConfig, ParsesAndRoundTrips) {
  auto c = compe::parse_competition_config(kGood, "compe.toml");
  EXPECT_EQ(c.task, compe::metric::kBinary);
  EXPECT_EQ(c.folds.spec.k, 4);
  EXPECT_EQ(c.folds.spec.seed, 3u);
  EXPECT_EQ(c.target_columns, std::vector<std::string>{"y"});
  auto again = compe::parse_competition_config(compe::render_competition_config(c), "x.toml");
  EXPECT_EQ(again.metric, c.metric);
  EXPECT_EQ(again.folds.spec.strategy, c.folds.spec.strategy);
  EXPECT_EQ(again.train, c.train);
}

TEST(WorkspaceConfig, ErrorsNameKeyValueAndAllowed) {
  EXPECT_NE(error_of(replace(kGood, "k = 4", "k = 1")).find("folds.k is 1, expected an integer from 2 to 1000"),
            std::string::npos);
  EXPECT_NE(error_of(replace(kGood, "k = 4", "k = \"four\"")).find("'folds.k' must be an integer"), std::string::npos);
  EXPECT_NE(error_of(replace(kGood, "metric = \"roc_auc\"", "metric = \"rmse\"")).find("does not apply to a binary task"),
            std::string::npos);
  EXPECT_NE(error_of(replace(kGood, "strategy = \"stratified_kfold\"", "strategy = \"stratifed_k\"")).find("folds.strategy"),
            std::string::npos);
  EXPECT_NE(error_of(replace(kGood, "seed = 3", "sed = 3")).find("compe.toml:17: unknown key 'folds.sed' (did you mean 'folds.seed'?)"),
            std::string::npos);
  EXPECT_NE(error_of(replace(kGood, "id = \"id\"\n", "")).find("missing 'competition.id'"), std::string::npos);
  EXPECT_NE(error_of("[competition\n").find("compe.toml:1:"), std::string::npos);
}
