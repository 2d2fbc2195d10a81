// The run writer: one lifecycle for every producer of runs, and the one Run record.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>

#include "../error_of.hpp"
#include "compe/folds.hpp"
#include "compe/run_writer.hpp"
#include "compe/store.hpp"
#include "compe/table.hpp"
#include "compe/util.hpp"
#include "compe/workspace.hpp"

using namespace compe;
namespace fs = std::filesystem;
using compe::testing::error_of;

namespace {

// A Titanic workspace with folds.csv, in a folder of its own.
struct Fixture {
  fs::path root;
  Workspace ws;
  std::unique_ptr<Store> store;
  run::Reference ref;
  explicit Fixture(const std::string& tag)
      : root(fs::temp_directory_path() / fmt::format("compe-writer-{}-{}", tag, ::getpid())),
        ws(make(root)),
        store(open_store(ws.store_path().string())),
        ref(run::reference_from_workspace(ws, true)) {}
  ~Fixture() { fs::remove_all(root); }
  static Workspace make(const fs::path& root) {
    fs::remove_all(root);
    InitOptions o;
    o.dir = root / "ws";
    o.from = fs::path(COMPE_SOURCE_DIR) / "examples" / "titanic" / "data";
    init_workspace(o);
    return Workspace::open(o.dir);
  }
  // Fold f's rows with a prediction of 0.25 + 0.5 * truth (a perfect ranking) and a test matrix
  // of the fold number.
  void add(run::RunWriter& w, int f) const {
    auto rows = ref.rows_of(f);
    std::vector<double> oof(rows.size()), test(ref.test_ids.size(), 0.1 * f);
    for (std::size_t i = 0; i < rows.size(); ++i) oof[i] = 0.25 + 0.5 * ref.y_true[rows[i]];
    w.add_fold(f, rows, oof, test);
  }
};

}  // namespace

TEST(RunWriter, FinishWritesEveryArtifactThenMarksTheRunFinished) {
  Fixture t("finish");
  run::RunWriter w(t.ws, *t.store, t.ref, {.kind = "python", .name = "perfect"});
  EXPECT_EQ(t.store->get_run(w.id()).status, RunStatus::kRunning);
  EXPECT_TRUE(fs::exists(w.dir() / "config.json"));
  for (int f = 0; f < t.ref.num_folds(); ++f) t.add(w, f);
  run::Summary s = w.finish();
  EXPECT_DOUBLE_EQ(s.cv, 1.0);
  EXPECT_DOUBLE_EQ(s.mean, 1.0);
  EXPECT_FALSE(s.partial);
  compe::Run r = t.store->get_run(w.id());
  EXPECT_EQ(r.status, RunStatus::kFinished);
  EXPECT_EQ(r.kind, "python");
  EXPECT_EQ(r.fold_scores.size(), static_cast<std::size_t>(t.ref.num_folds()));
  // Each fold model's test predictions, and their mean in test.csv.
  Table tf = read_csv(w.dir() / "test_folds.csv");
  EXPECT_EQ(tf.num_rows(), t.ref.test_ids.size() * static_cast<std::size_t>(t.ref.num_folds()));
  Table test = read_csv(w.dir() / "test.csv");
  EXPECT_NEAR(test.column(1).as_double(0), 0.1 * (t.ref.num_folds() - 1) / 2.0, 1e-12);
  run::Meta meta = run::Meta::read(w.dir() / "meta.json");
  EXPECT_EQ(meta.kind, "python");
  EXPECT_EQ(meta.test_folds, "test_folds.csv");
  EXPECT_DOUBLE_EQ(*meta.cv, 1.0);
  // The record lists every file, and the Run JSON names them.
  nlohmann::json j = run::run_json(r, t.store->list_artifacts(r.id));
  EXPECT_EQ(j["test_folds"], "runs/" + r.id + "/test_folds.csv");
  EXPECT_EQ(j["submission"], "runs/" + r.id + "/submission.csv");
  EXPECT_EQ(j["fold_mean"], 1.0);
  EXPECT_EQ(j["kind"], "python");
}

TEST(RunWriter, SomeFoldsMakeAPartialRun) {
  Fixture t("partial");
  run::RunWriter w(t.ws, *t.store, t.ref, {.kind = "model", .name = "two"});
  t.add(w, 0);
  t.add(w, 1);
  run::Summary s = w.finish();
  EXPECT_TRUE(s.partial);
  EXPECT_TRUE(t.store->get_run(w.id()).partial);
  EXPECT_EQ(read_csv(w.dir() / "oof.csv").num_rows(), t.ref.rows_of(0).size() + t.ref.rows_of(1).size());
}

TEST(RunWriter, BadFoldsAndValuesAreRefusedNamingThem) {
  Fixture t("bad");
  run::RunWriter w(t.ws, *t.store, t.ref, {.name = "bad"});
  auto rows = t.ref.rows_of(0);
  std::vector<double> oof(rows.size(), 0.5);
  EXPECT_NE(error_of([&] { w.add_fold(99, rows, oof, {}); }).find("fold 99 is outside 0..4"), std::string::npos);
  EXPECT_NE(error_of([&] { w.add_fold(0, rows, std::span(oof).first(3), {}); }).find("expected"),
            std::string::npos);
  oof[2] = NAN;
  EXPECT_NE(error_of([&] { w.add_fold(0, rows, oof, {}); }).find("row 2 column 'survived' is nan"),
            std::string::npos);
  oof[2] = 0.5;
  std::vector<double> test(t.ref.test_ids.size() - 1, 0.5);
  EXPECT_NE(error_of([&] { w.add_fold(0, rows, oof, test); })
                .find(fmt::format("fold 0: test has {} values, expected {} rows x 1 column(s)", test.size(),
                                  t.ref.test_ids.size())),
            std::string::npos);
  test.push_back(INFINITY);
  EXPECT_NE(error_of([&] { w.add_fold(0, rows, oof, test); })
                .find(fmt::format("fold 0: test row {} column 'survived' is inf", test.size() - 1)),
            std::string::npos);
  EXPECT_NE(error_of([&] { w.finish(); }).find("no scored fold"), std::string::npos);
  // A refused fold recorded nothing.
  EXPECT_TRUE(t.store->get_run(w.id()).fold_scores.empty());
}

TEST(RunWriter, StopKeepsTheReasonAndAnUnfinishedWriterFailsItsRun) {
  Fixture t("stop");
  std::string pruned, dropped;
  {
    run::RunWriter w(t.ws, *t.store, t.ref, {.kind = "trial", .name = "p"});
    t.add(w, 0);
    w.stop(RunStatus::kPruned, "stopped after fold 0");
    pruned = w.id();
  }
  {
    run::RunWriter w(t.ws, *t.store, t.ref, {.name = "d"});
    dropped = w.id();
  }
  compe::Run p = t.store->get_run(pruned);
  EXPECT_EQ(p.status, RunStatus::kPruned);
  EXPECT_EQ(p.error, "stopped after fold 0");
  EXPECT_TRUE(p.partial);
  EXPECT_FALSE(fs::exists(t.ws.runs_dir() / pruned / "oof.csv"));  // nothing half-written
  EXPECT_EQ(t.store->get_run(dropped).status, RunStatus::kFailed);
}

TEST(RunMeta, WrongTypesNameTheFileAndThePath) {
  nlohmann::json j = {{"folds_hash", {{"a", 1}}}};
  EXPECT_NE(error_of([&] { run::Meta::from_json(j, "mate/meta.json"); }, ErrorCode::kParse)
                .find("mate/meta.json: /folds_hash: expected a string, got an object"),
            std::string::npos);
  j = {{"cv", {{"folds", {{"x", 0.5}}}}}};
  EXPECT_NE(error_of([&] { run::Meta::from_json(j, "m.json"); }, ErrorCode::kParse).find("/cv/folds: key 'x'"),
            std::string::npos);
  EXPECT_NE(error_of([&] { run::Meta::from_json(nlohmann::json::array(), "m.json"); }, ErrorCode::kParse)
                .find("expected a JSON object"),
            std::string::npos);
  // Round trip, with a teammate's own fields kept.
  run::Meta m;
  m.folds_hash = "abc";
  m.cv = 0.5;
  m.fold_scores = {{0, 0.4}, {1, 0.6}};
  m.extra = {{"team", "mate"}};
  run::Meta back = run::Meta::from_json(m.to_json(), "x");
  EXPECT_EQ(back.folds_hash, "abc");
  EXPECT_EQ(back.fold_scores, m.fold_scores);
  EXPECT_EQ(back.extra["team"], "mate");
}
