// run_experiment's stages: the plan (what fails before a record exists), the fold loop, the
// endings (finished, pruned, interrupted), and the Run record as JSON.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <cmath>
#include <filesystem>

#include "../error_of.hpp"
#include "../titanic_workspace.hpp"
#include "compe/run.hpp"
#include "compe/store.hpp"
#include "compe/table.hpp"
#include "compe/util.hpp"
#include "compe/workspace.hpp"
#include "run/stages.hpp"

using namespace compe;
namespace fs = std::filesystem;
using compe::testing::error_of;

namespace {

// A Titanic workspace (no folds.csv yet) in a folder of its own.
struct Titanic : compe::testing::TitanicWorkspace {
  explicit Titanic(const std::string& tag) : TitanicWorkspace("experiment", tag) {}
};

run::Experiment linear() {
  run::Experiment e;
  e.backend = "linear";
  e.threads = 1;
  return e;
}

}  // namespace

TEST(Plan, ErrorsComeBeforeAnyRunIsRecorded) {
  Titanic t("plan-errors");
  run::Experiment e = linear();
  e.folds = {9};
  EXPECT_NE(error_of([&] { run::run_experiment(t.ws, e, {}, {}); })
                .find("fold 9 does not exist: folds.csv has folds 0..4"),
            std::string::npos);
  e = linear();
  e.backend = "nope";
  EXPECT_NE(error_of([&] { run::run_experiment(t.ws, e, {}, {}); }, ErrorCode::kNotFound).find("unknown model 'nope'"),
            std::string::npos);
  e = linear();
  e.params = {{"max_depth", 3}};
  EXPECT_NE(error_of([&] { run::run_experiment(t.ws, e, {}, {}); }).find("unknown linear parameter 'max_depth'"),
            std::string::npos);
  e = linear();
  e.keep = {"no_such_column"};
  EXPECT_NE(compe::testing::message_of([&] { run::run_experiment(t.ws, e, {}, {}); }).find("no_such_column"),
            std::string::npos);
  EXPECT_EQ(t.runs(), 0);
  // The first attempt made folds.csv (5 folds, compe.toml's spec) before failing.
  EXPECT_TRUE(fs::exists(t.ws.folds_path()));
}

TEST(Plan, HoldsTheFoldsRowsAndReference) {
  Titanic t("plan");
  run::Experiment e = linear();
  e.folds = {1, 3};
  run::Options o;
  // Keep every other row: the proxy's filter.
  o.row_filter = [](const split::Inputs& in, std::span<const int>) {
    std::vector<std::uint8_t> keep(in.rows);
    for (std::size_t r = 0; r < keep.size(); r += 2) keep[r] = 1;
    return keep;
  };
  std::vector<std::string> notes;
  run::Plan p = run::plan_experiment(t.ws, e, o, [&](std::string n) { notes.push_back(std::move(n)); });
  EXPECT_EQ(p.num_folds, 5);
  EXPECT_EQ(p.folds, (std::vector<int>{1, 3}));
  EXPECT_EQ(p.train.num_rows(), 981u);
  EXPECT_EQ(p.ref.rows(), 981u);  // every titanic row is validated once
  EXPECT_EQ(p.ref_pos[0], 0u);
  EXPECT_EQ(p.ref_pos[980], 980u);
  EXPECT_EQ(p.model->name, "linear");
  EXPECT_EQ(p.metric->spec(), t.ws.config().metric);
  ASSERT_EQ(p.keep_rows.size(), 981u);
  ASSERT_FALSE(notes.empty());
  EXPECT_NE(notes[0].find("no folds.csv: made one"), std::string::npos);
  // Fold 1's rows: the filter's rows only, validation rows in fold 1, train rows elsewhere.
  run::FoldRows rows = run::fold_rows(t.ws, p, 1);
  ASSERT_FALSE(rows.valid.empty());
  for (auto r : rows.valid) {
    EXPECT_EQ(r % 2, 0u);
    EXPECT_EQ(p.folds_csv.folds[r], 1);
  }
  for (auto r : rows.train) {
    EXPECT_EQ(r % 2, 0u);
    EXPECT_NE(p.folds_csv.folds[r], 1);
  }
  EXPECT_NEAR(static_cast<double>(rows.train.size() + rows.valid.size()), 981 / 2.0, 1.0);
}

TEST(Plan, AFoldLeftEmptyByTheFilterIsNamed) {
  Titanic t("empty-fold");
  run::Options o;
  o.row_filter = [](const split::Inputs& in, std::span<const int> folds) {
    std::vector<std::uint8_t> keep(in.rows, 1);
    for (std::size_t r = 0; r < keep.size(); ++r)
      if (folds[r] == 2) keep[r] = 0;
    return keep;
  };
  run::Plan p = run::plan_experiment(t.ws, linear(), o, [](std::string) {});
  EXPECT_NE(error_of([&] { run::fold_rows(t.ws, p, 2); }).find("fold 2 has"), std::string::npos);
  EXPECT_NE(error_of([&] { run::fold_rows(t.ws, p, 2); }).find(" and 0 validation rows"), std::string::npos);
}

TEST(RunExperiment, RunsEveryFoldThenFinishes) {
  Titanic t("finish");
  std::vector<run::Event::Kind> kinds;
  std::vector<int> ended;
  run::Summary s = run::run_experiment(t.ws, linear(), {}, [&](const run::Event& ev) {
    if (ev.kind == run::Event::kIteration) return;
    kinds.push_back(ev.kind);
    if (ev.kind == run::Event::kFoldEnd) ended.push_back(ev.fold);
  });
  EXPECT_EQ(ended, (std::vector<int>{0, 1, 2, 3, 4}));
  ASSERT_GE(kinds.size(), 12u);
  EXPECT_EQ(kinds.back(), run::Event::kEnd);
  EXPECT_EQ(std::count(kinds.begin(), kinds.end(), run::Event::kStart), 1);
  EXPECT_EQ(s.fold_scores.size(), 5u);
  EXPECT_GT(s.cv, 0.75);  // a logistic regression on titanic's default features
  EXPECT_LT(s.cv, 0.95);
  EXPECT_FALSE(s.partial);
  EXPECT_NE(s.notes.front().find("no folds.csv"), std::string::npos);
  auto store = open_store(t.ws.store_path().string());
  compe::Run r = store->get_run(s.run_id);
  EXPECT_EQ(r.status, RunStatus::kFinished);
  EXPECT_EQ(r.kind, "model");
  EXPECT_EQ(r.config["model"]["backend"], "linear");
  EXPECT_EQ(r.config["competition"]["folds"]["k"], 5);
  EXPECT_EQ(r.config["cv"]["optimistic"], false);
  for (const char* f : {"oof.csv", "test.csv", "submission.csv", "meta.json", "run.log", "config.json"})
    EXPECT_TRUE(fs::exists(s.dir / f)) << f;
  EXPECT_NE(read_file(s.dir / "run.log").find("fold 4: "), std::string::npos);

  // The same experiment again: compared with the first run, same configuration.
  run::Summary again = run::run_experiment(t.ws, linear(), {}, {});
  EXPECT_EQ(again.parent_id, s.run_id);
  EXPECT_TRUE(again.changed_keys.empty());
  EXPECT_DOUBLE_EQ(again.cv, s.cv);
}

TEST(RunExperiment, AfterFoldPrunesAndCancelInterrupts) {
  Titanic t("endings");
  run::Options o;
  o.after_fold = [](int fold, double) { return fold == 1; };
  EXPECT_NE(error_of([&] { run::run_experiment(t.ws, linear(), o, {}); }).find("stopped after fold 1"),
            std::string::npos);
  std::atomic<bool> cancel{true};
  run::Options c;
  c.cancel = &cancel;
  std::string msg = error_of([&] { run::run_experiment(t.ws, linear(), c, {}); });
  EXPECT_NE(msg.find("interrupted; recorded as interrupted"), std::string::npos) << msg;

  auto store = open_store(t.ws.store_path().string());
  RunFilter f;
  f.limit = 0;
  RunPage page = store->list_runs(f);
  ASSERT_EQ(page.total, 2);
  std::map<RunStatus, compe::Run> by_status;
  for (const auto& r : page.runs) by_status[r.status] = r;
  ASSERT_TRUE(by_status.count(RunStatus::kPruned));
  EXPECT_EQ(by_status[RunStatus::kPruned].error, "stopped after fold 1");
  EXPECT_EQ(by_status[RunStatus::kPruned].fold_scores.size(), 2u);
  ASSERT_TRUE(by_status.count(RunStatus::kInterrupted));
  EXPECT_EQ(by_status[RunStatus::kInterrupted].error, "interrupted");
  EXPECT_TRUE(by_status[RunStatus::kInterrupted].fold_scores.empty());
}

TEST(RunExperiment, SomeFoldsMakeAPartialRun) {
  Titanic t("partial");
  run::Experiment e = linear();
  e.folds = {0, 2};
  run::Summary s = run::run_experiment(t.ws, e, {}, {});
  EXPECT_TRUE(s.partial);
  EXPECT_EQ(s.fold_scores.size(), 2u);
  Table folds = read_csv(t.ws.folds_path());
  std::size_t in_02 = 0;
  for (std::size_t r = 0; r < folds.num_rows(); ++r) {
    const double f = folds.column("fold").as_double(r);
    in_02 += f == 0 || f == 2;
  }
  EXPECT_GT(in_02, 300u);
  EXPECT_EQ(read_csv(s.oof).num_rows(), in_02);
  auto store = open_store(t.ws.store_path().string());
  EXPECT_TRUE(store->get_run(s.run_id).partial);
}

TEST(RunJson, FieldsFromTheRecordAndItsConfig) {
  compe::Run r;
  r.id = "abcd2345";
  r.name = "x";
  r.status = RunStatus::kFinished;
  r.metric = "roc_auc";
  r.direction = "maximize";
  r.cv_score = 0.85;
  r.fold_scores = {{0, 0.8}, {1, 0.9}};
  r.config = {{"model", {{"backend", "xgboost"}, {"params", {{"max_depth", 4}}}}},
              {"cv", {{"optimistic", true}}},
              {"proxy", {{"rows", 100}}}};
  r.created_ms = 0;
  std::vector<Artifact> arts(1);
  arts[0].name = "oof";
  arts[0].path = "runs/abcd2345/oof.csv";
  nlohmann::json j = run::run_json(r, arts);
  EXPECT_EQ(j["run_id"], "abcd2345");
  EXPECT_EQ(j["status"], "finished");
  EXPECT_TRUE(j["kind"].is_null());  // stores from before kinds were recorded
  EXPECT_EQ(j["model"], "xgboost");
  EXPECT_EQ(j["params"]["max_depth"], 4);
  EXPECT_DOUBLE_EQ(j["cv"].get<double>(), 0.85);
  EXPECT_DOUBLE_EQ(j["fold_mean"].get<double>(), 0.85);
  EXPECT_NEAR(j["fold_std"].get<double>(), std::sqrt(0.005), 1e-12);
  EXPECT_EQ(j["folds"]["1"], 0.9);
  EXPECT_EQ(j["cv_optimistic"], true);
  EXPECT_EQ(j["proxy"]["rows"], 100);
  EXPECT_EQ(j["oof"], "runs/abcd2345/oof.csv");
  EXPECT_TRUE(j["submission"].is_null());
  EXPECT_TRUE(j["parent"].is_null());
  EXPECT_TRUE(j["ended"].is_null());
  EXPECT_EQ(j["created"], "1970-01-01T00:00:00.000Z");
  // A fold score that is not finite is null, never NaN in JSON; no cv: null.
  r.fold_scores[2] = NAN;
  r.cv_score.reset();
  j = run::run_json(r);
  EXPECT_TRUE(j["folds"]["2"].is_null());
  EXPECT_TRUE(j["cv"].is_null());
  EXPECT_TRUE(j["cv_note"].is_null());
}

TEST(RunJson, CvDivergenceNoteWhenPooledAndMeanDisagree) {
  // Fold scores agree closely; a pooled score far from their mean gets a note, a close one none.
  std::map<int, double> folds = {{0, 0.80}, {1, 0.801}, {2, 0.799}, {3, 0.80}};
  EXPECT_FALSE(run::cv_divergence(0.8001, folds));
  auto note = run::cv_divergence(0.70, folds);
  ASSERT_TRUE(note);
  EXPECT_NE(note->find("0.7"), std::string::npos) << *note;
  EXPECT_FALSE(run::cv_divergence(0.70, {{0, 0.8}}));  // one fold: no spread to compare with
}
