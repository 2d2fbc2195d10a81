// The leak audit's checks, each on a small table built in memory.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include <fmt/format.h>

#include "compe/audit.hpp"
#include "compe/table.hpp"
#include "compe/util.hpp"

using namespace compe;

namespace {

CompetitionConfig binary_config() {
  CompetitionConfig c;
  c.name = "t";
  c.task = metric::kBinary;
  c.metric = "roc_auc";
  c.id_column = "id";
  c.target_columns = {"y"};
  c.folds.spec.strategy = "kfold";
  c.folds.spec.k = 3;
  return c;
}

FoldAssignment folds_of(std::vector<int> folds) {
  FoldAssignment fa;
  for (std::size_t i = 0; i < folds.size(); ++i) fa.ids.push_back(std::to_string(i));
  fa.folds = std::move(folds);
  return fa;
}

// The findings of one check.
std::vector<audit::Finding> of(const audit::Report& rep, const std::string& check) {
  std::vector<audit::Finding> out;
  for (const auto& f : rep.findings)
    if (f.check == check) out.push_back(f);
  return out;
}

// 24 rows: id 1..24; y is 1 on odd ids; `noise` repeats 0..4, `copy` duplicates it; `k` is
// constant; `serial` counts up with the rows; `grp` is one group per 4 consecutive rows.
Table table24(bool with_target_copy) {
  std::string csv = "id,y,noise,copy,k,serial,grp";
  if (with_target_copy) csv += ",leak";
  csv += "\n";
  for (int i = 1; i <= 24; ++i) {
    int y = i % 2;
    csv += fmt::format("{},{},{},{},7,{},g{}", i, y, (i * 7) % 5, (i * 7) % 5, 1000 + 3 * i, (i - 1) / 4);
    if (with_target_copy) csv += fmt::format(",{}", y);
    csv += "\n";
  }
  return read_csv_string(csv, "train.csv");
}

std::vector<int> round_robin(std::size_t n, int k) {
  std::vector<int> f(n);
  for (std::size_t i = 0; i < n; ++i) f[i] = static_cast<int>(i % static_cast<std::size_t>(k));
  return f;
}

}  // namespace

TEST(Audit, ColumnsThatAreNotFeatures) {
  Table train = table24(false);
  Table test = read_csv_string("id,noise,copy,k,serial,grp\n100,1,1,7,5000,g9\n", "test.csv");
  audit::Report rep = audit::run(train, test, binary_config(), folds_of(round_robin(24, 3)), {});
  EXPECT_EQ(rep.rows_train, 24u);
  EXPECT_EQ(rep.rows_test, 1u);
  auto constant = of(rep, "constant");
  ASSERT_EQ(constant.size(), 1u);
  EXPECT_EQ(constant[0].subject, "k");
  EXPECT_EQ(constant[0].severity, audit::Severity::kWarning);
  EXPECT_EQ(constant[0].value, 1.0);
  auto id_like = of(rep, "id_like");
  ASSERT_EQ(id_like.size(), 1u);
  EXPECT_EQ(id_like[0].subject, "serial");
  auto dup = of(rep, "duplicate_column");
  ASSERT_EQ(dup.size(), 1u);
  EXPECT_EQ(dup[0].subject, "copy");
  EXPECT_EQ(dup[0].detail, "copy duplicates noise");
  EXPECT_TRUE(of(rep, "free_text").empty());
  // No folds record given: no folds_spec finding; not a time-series split: no time_overlap.
  EXPECT_TRUE(of(rep, "folds_spec").empty());
  EXPECT_TRUE(of(rep, "time_overlap").empty());
}

TEST(Audit, GroupsSplitAcrossFoldsAreALeak) {
  Table train = table24(false);
  Table test = read_csv_string("id,noise,copy,k,serial,grp\n100,1,1,7,5000,g9\n", "test.csv");
  audit::Options o;
  o.group_column = "grp";
  audit::Report rep = audit::run(train, test, binary_config(), folds_of(round_robin(24, 3)), o);
  auto g = of(rep, "group_overlap");
  ASSERT_EQ(g.size(), 1u);
  EXPECT_EQ(g[0].severity, audit::Severity::kLeak);
  EXPECT_EQ(g[0].value, 6.0);
  EXPECT_EQ(g[0].detail, "6 of 6 groups of 'grp' appear in more than one fold: use a group splitter");
  // One fold per group: ok.
  std::vector<int> by_group(24);
  for (std::size_t i = 0; i < 24; ++i) by_group[i] = static_cast<int>((i / 4) % 3);
  rep = audit::run(train, test, binary_config(), folds_of(by_group), o);
  g = of(rep, "group_overlap");
  ASSERT_EQ(g.size(), 1u);
  EXPECT_EQ(g[0].severity, audit::Severity::kOk);
  EXPECT_EQ(g[0].value, 0.0);
  EXPECT_EQ(g[0].detail, "all 6 groups of 'grp' stay within one fold");
}

TEST(Audit, DuplicateRowsAcrossFoldsAndInTest) {
  // x repeats every 4 rows; folds split rows 0-3 from 4-7, so each row's copy is in the other fold.
  std::string csv = "id,y,x\n";
  for (int i = 0; i < 8; ++i) csv += fmt::format("{},{},{}\n", i, i % 2, i % 4);
  Table train = read_csv_string(csv, "train.csv");
  Table test = read_csv_string("id,x\n100,2\n101,9\n102,3\n", "test.csv");
  audit::Report rep = audit::run(train, test, binary_config(), folds_of({0, 0, 0, 0, 1, 1, 1, 1}), {});
  auto across = of(rep, "duplicates_across_folds");
  ASSERT_EQ(across.size(), 1u);
  EXPECT_EQ(across[0].value, 8.0);
  EXPECT_EQ(across[0].severity, audit::Severity::kWarning);
  auto tt = of(rep, "train_test_duplicates");
  ASSERT_EQ(tt.size(), 1u);
  EXPECT_EQ(tt[0].value, 2.0);
  EXPECT_EQ(tt[0].detail, "2 test rows have exactly the features of a train row");
  // Copies within one fold only: not counted.
  rep = audit::run(train, test, binary_config(), folds_of({0, 1, 0, 1, 0, 1, 0, 1}), {});
  EXPECT_EQ(of(rep, "duplicates_across_folds")[0].value, 0.0);
  EXPECT_EQ(of(rep, "duplicates_across_folds")[0].severity, audit::Severity::kOk);
}

TEST(Audit, AFeatureCopyingTheTargetIsALeak) {
  Table train = table24(true);
  Table test = read_csv_string("id,noise,copy,k,serial,grp,leak\n100,1,1,7,5000,g9,0\n", "test.csv");
  audit::Report rep = audit::run(train, test, binary_config(), folds_of(round_robin(24, 3)), {});
  audit::Finding leak, noise;
  for (const auto& f : of(rep, "single_feature")) {
    if (f.subject == "leak") leak = f;
    if (f.subject == "noise") noise = f;
  }
  EXPECT_EQ(leak.severity, audit::Severity::kLeak);
  EXPECT_DOUBLE_EQ(leak.value, 1.0);
  EXPECT_EQ(leak.detail, "leak alone: AUC 1.0000");
  EXPECT_EQ(noise.severity, audit::Severity::kOk);
  EXPECT_LT(noise.value, 0.9);
}

TEST(Audit, ATextLevelNamingTheTargetLeaksThroughOutOfFoldEncoding) {
  std::string csv = "id,y,word\n";
  for (int i = 0; i < 30; ++i) csv += fmt::format("{},{},{}\n", i, i % 2, i % 2 ? "yes" : "no");
  Table train = read_csv_string(csv, "train.csv");
  Table test = read_csv_string("id,word\n5000,yes\n", "test.csv");
  audit::Report rep = audit::run(train, test, binary_config(), folds_of(round_robin(30, 3)), {});
  auto sf = of(rep, "single_feature");
  ASSERT_EQ(sf.size(), 1u);
  EXPECT_EQ(sf[0].subject, "word");
  EXPECT_EQ(sf[0].severity, audit::Severity::kLeak);
  EXPECT_EQ(sf[0].detail, "word alone: AUC 1.0000 (out-of-fold target encoding)");
}

TEST(Audit, IdOrderPredictingTheTargetIsAWarning) {
  // y = 1 for the later half of the ids: the id order ranks the target perfectly.
  std::string csv = "id,y,x\n";
  for (int i = 0; i < 40; ++i) csv += fmt::format("{},{},{}\n", i, i >= 20 ? 1 : 0, (i * 13) % 7);
  Table train = read_csv_string(csv, "train.csv");
  Table test = read_csv_string("id,x\n100,1\n", "test.csv");
  audit::Report rep = audit::run(train, test, binary_config(), folds_of(round_robin(40, 4)), {});
  auto id = of(rep, "id_order");
  ASSERT_EQ(id.size(), 1u);
  EXPECT_EQ(id[0].severity, audit::Severity::kWarning);
  EXPECT_DOUBLE_EQ(id[0].value, 1.0);
  EXPECT_NE(id[0].detail.find("AUC of id order vs target 1.0000"), std::string::npos) << id[0].detail;
  // Regression: Spearman of id order.
  CompetitionConfig reg = binary_config();
  reg.task = metric::kRegression;
  reg.metric = "rmse";
  std::string rcsv = "id,y,x\n";
  for (int i = 0; i < 40; ++i) rcsv += fmt::format("{},{},{}\n", i, 2.5 * i, (i * 13) % 7);
  rep = audit::run(read_csv_string(rcsv, "train.csv"), test, reg, folds_of(round_robin(40, 4)), {});
  id = of(rep, "id_order");
  ASSERT_EQ(id.size(), 1u);
  EXPECT_DOUBLE_EQ(id[0].value, 1.0);
  EXPECT_NE(id[0].detail.find("Spearman of id order vs target 1.0000"), std::string::npos) << id[0].detail;
}

TEST(Audit, FoldsMadeOtherwiseThanCompeTomlSays) {
  Table train = table24(false);
  Table test = read_csv_string("id,noise,copy,k,serial,grp\n100,1,1,7,5000,g9\n", "test.csv");
  audit::Options o;
  FoldsRecord rec;
  rec.folds.spec.strategy = "kfold";
  rec.folds.spec.k = 4;
  o.folds_record = rec;
  audit::Report rep = audit::run(train, test, binary_config(), folds_of(round_robin(24, 3)), o);
  auto f = of(rep, "folds_spec");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].severity, audit::Severity::kWarning);
  EXPECT_NE(f[0].detail.find("folds.csv was made with kfold k=4 seed=42 but compe.toml's [folds] says kfold k=3 seed=42"),
            std::string::npos)
      << f[0].detail;
  o.folds_record->folds.spec.k = 3;
  rep = audit::run(train, test, binary_config(), folds_of(round_robin(24, 3)), o);
  EXPECT_EQ(of(rep, "folds_spec")[0].severity, audit::Severity::kOk);
}

TEST(Audit, TimeSeriesFoldsTrainingOnTheFutureOverlap) {
  CompetitionConfig c = binary_config();
  c.folds.spec.strategy = "timeseries";
  c.folds.spec.k = 2;
  c.folds.time_column = "t";
  std::string csv = "id,y,t,x\n";
  for (int i = 0; i < 12; ++i) csv += fmt::format("{},{},{},{}\n", i, i % 2, i, (i * 5) % 3);
  Table train = read_csv_string(csv, "train.csv");
  Table test = read_csv_string("id,t,x\n100,50,1\n", "test.csv");
  // Past blocks validate later ones: rows 0-3 never validated, 4-7 fold 0, 8-11 fold 1.
  std::vector<int> forward = {-1, -1, -1, -1, 0, 0, 0, 0, 1, 1, 1, 1};
  audit::Report rep = audit::run(train, test, c, folds_of(forward), {});
  auto t = of(rep, "time_overlap");
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].severity, audit::Severity::kOk);
  EXPECT_EQ(t[0].subject, "t");
  EXPECT_EQ(t[0].detail, "every fold trains only on the past");
  // A folds.csv whose later block is fold 0: fold 1 validates rows 4-7 while the splitter trains
  // it on rows 0-7.
  std::vector<int> backward = {-1, -1, -1, -1, 1, 1, 1, 1, 0, 0, 0, 0};
  rep = audit::run(train, test, c, folds_of(backward), {});
  t = of(rep, "time_overlap");
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].severity, audit::Severity::kLeak);
  EXPECT_EQ(t[0].value, 1.0);
  EXPECT_EQ(t[0].detail, "1 fold(s) train on rows at or after their validation start");
}
