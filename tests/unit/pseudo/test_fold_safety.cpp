// Fold safety of pseudo-labelling end to end on a Titanic workspace: each fold trains on its own
// model's selections only, and a planted leak (fold k's rows labelled by another fold's model, or
// by the fold average without saying so) is refused before any run is recorded.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include "../error_of.hpp"
#include "../titanic_workspace.hpp"
#include "compe/oof.hpp"
#include "compe/pseudo_run.hpp"
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
  explicit Titanic(const std::string& tag) : TitanicWorkspace("pseudo", tag) {}
};

run::Experiment small_xgboost() {
  run::Experiment e;
  e.backend = "xgboost";
  e.params = {{"num_boost_round", 30}, {"max_depth", 3}, {"early_stopping_rounds", 0}};
  e.threads = 1;
  return e;
}

// The source run's fold-f test predictions, by test id.
std::map<std::string, double> fold_predictions(const fs::path& csv, int fold) {
  CsvReadOptions o;
  o.dtypes = {{"id", DType::kString}};
  Table t = read_csv(csv, o);
  std::map<std::string, double> out;
  for (std::size_t r = 0; r < t.num_rows(); ++r)
    if (t.column("fold").i64[r] == fold) out[std::string(t.column("id").str(r))] = t.column("survived").as_double(r);
  return out;
}

}  // namespace

TEST(PseudoFoldSafety, EachFoldTrainsOnItsOwnModelsSelectionsOnly) {
  Titanic t("own");
  const run::Summary src = run::run_experiment(t.ws, small_xgboost(), {}, {});
  pseudo::MakeOptions o;
  o.rule.threshold = 0.75;
  const pseudo::Made m = pseudo::make_set(t.ws, o, src.run_id);
  run::Experiment x = run::parse_experiment(m.experiment_toml, "made.toml");
  ASSERT_FALSE(x.pseudo.is_null());
  const run::Plan plan = run::plan_experiment(t.ws, x, {}, [](std::string) {});
  ASSERT_EQ(plan.pseudo.size(), 5u);
  const Column& ids = plan.test.column("id");
  std::set<std::size_t> sizes;
  for (int f = 0; f < 5; ++f) {
    // What fold f's own model of the source run would select: its own predictions >= 0.75 (or <= 0.15).
    std::set<std::string> expected, got;
    for (const auto& [id, p] : fold_predictions(src.test_folds, f))
      if (std::max(p, 1.0 - p) >= 0.75) expected.insert(id);
    const auto& rows = plan.pseudo[static_cast<std::size_t>(f)];
    for (std::size_t i = 0; i < rows.test_rows.size(); ++i) {
      const std::string id = ids.to_string(rows.test_rows[i]);
      got.insert(id);
      // Its label is fold f's model's class, not another fold's.
      const double p = fold_predictions(src.test_folds, f).at(id);
      EXPECT_EQ(rows.labels[i], p >= 0.5 ? 1.0 : 0.0) << "fold " << f << " id " << id;
    }
    EXPECT_EQ(got, expected) << "fold " << f;
    EXPECT_EQ(m.rows_per_fold[static_cast<std::size_t>(f)], expected.size());
    sizes.insert(expected.size());
  }
  // The folds' models disagree, so their selections differ: a set shared by all folds would not.
  EXPECT_GT(sizes.size(), 1u);

  // The run records its lineage and trains with the rows; its OOF rows are train rows only.
  const run::Summary ps = run::run_experiment(t.ws, x, {}, {});
  compe::Run r = open_store(t.ws.store_path().string())->get_run(ps.run_id);
  ASSERT_TRUE(r.config.contains("pseudo"));
  EXPECT_EQ(r.config["pseudo"]["source_run"], src.run_id);
  EXPECT_EQ(r.config["pseudo"]["rows_added"]["2"], m.rows_per_fold[2]);
  EXPECT_EQ(run::run_json(r)["pseudo"]["sha256"], m.sha256);
  EXPECT_EQ(read_csv(ps.oof).num_rows(), plan.train.num_rows());
}

TEST(PseudoFoldSafety, APlantedLeakIsRefusedBeforeAnyRecord) {
  Titanic t("leak");
  const run::Summary src = run::run_experiment(t.ws, small_xgboost(), {}, {});
  pseudo::MakeOptions o;
  o.rule.threshold = 0.75;
  const pseudo::Made m = pseudo::make_set(t.ws, o, src.run_id);
  const std::int64_t before = t.runs();

  // Plant: fold 0's rows carry labels from fold 1's model (rewrite the set, sha256 updated so that
  // only the fold check can catch it).
  std::vector<pseudo::SetRow> rows = pseudo::read_set(m.set_path);
  auto fold1 = fold_predictions(src.test_folds, 1);
  for (auto& r : rows)
    if (r.fold == 0) {
      r.source_fold = 1;
      r.label = fold1.at(r.id) >= 0.5 ? "1" : "0";
    }
  pseudo::Config c = m.config;
  c.sha256 = pseudo::write_set(m.set_path, rows);
  run::Experiment x = run::parse_experiment(m.experiment_toml, "made.toml");
  x.pseudo = c.to_json();
  EXPECT_NE(error_of([&] { run::run_experiment(t.ws, x, {}, {}); }).find("was labelled by fold 1's model"),
            std::string::npos);

  // The fold-average variant is refused unless the experiment says leaky = true.
  pseudo::MakeOptions lo = o;
  lo.rule.source = pseudo::Source::kFoldAverage;
  const pseudo::Made leaky = pseudo::make_set(t.ws, lo, src.run_id);
  EXPECT_TRUE(leaky.config.leaky);
  pseudo::Config lc = leaky.config;
  lc.leaky = false;
  x.pseudo = lc.to_json();
  EXPECT_NE(error_of([&] { run::run_experiment(t.ws, x, {}, {}); }).find("the fold-averaged test predictions"),
            std::string::npos);
  // A set changed after it was made, and one from other folds.
  x.pseudo = leaky.config.to_json();
  x.pseudo["sha256"] = std::string(64, '0');
  EXPECT_NE(error_of([&] { run::run_experiment(t.ws, x, {}, {}); }).find("the file changed"), std::string::npos);
  x.pseudo = m.config.to_json();
  x.pseudo["folds_hash"] = "0123456789abcdef";
  const std::string e = error_of([&] { run::run_experiment(t.ws, x, {}, {}); });
  EXPECT_NE(e.find("0123456789abcdef"), std::string::npos) << e;
  EXPECT_NE(e.find(m.config.folds_hash), std::string::npos) << e;
  EXPECT_EQ(t.runs(), before);

  // The honest set (made again: the planted one overwrote it) runs.
  x.pseudo = pseudo::make_set(t.ws, o, src.run_id).config.to_json();
  EXPECT_EQ(compe::testing::message_of([&] { run::run_experiment(t.ws, x, {}, {}); }), "");
  EXPECT_EQ(t.runs(), before + 1);
}

TEST(PseudoFoldSafety, PretrainFinetuneContinuesFromThePseudoModel) {
  Titanic t("pretrain");
  const run::Summary src = run::run_experiment(t.ws, small_xgboost(), {}, {});
  pseudo::MakeOptions o;
  o.rule.top_share = 0.2;
  o.strategy = pseudo::Strategy::kPretrainFinetune;
  o.pretrain_rounds = 7;
  const pseudo::Made m = pseudo::make_set(t.ws, o, src.run_id);
  run::Experiment x = run::parse_experiment(m.experiment_toml, "made.toml");
  const run::Summary ps = run::run_experiment(t.ws, x, {}, {});
  // Every fold's booster holds the 7 pretraining rounds and then the 30 on the true labels.
  const std::string log = read_file((ps.dir / "run.log").string());
  EXPECT_NE(log.find("37 iterations"), std::string::npos) << log;
  EXPECT_NE(log.find("pseudo rows (pretrain_finetune)"), std::string::npos) << log;
}
