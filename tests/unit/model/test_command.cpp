#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "compe/error.hpp"
#include "compe/model.hpp"
#include "model_test_util.hpp"

using namespace compe;
using namespace compe::model;
using namespace compe::model::testing;
namespace fs = std::filesystem;

namespace {

struct CommandProblem {
  Synthetic data;
  FeatureMatrix fm;
  Target target;
  SourceData source;
  std::vector<std::size_t> train_rows, valid_rows;

  CommandProblem(Task task, std::size_t n, const std::string& tag)
      : data(make_synthetic(task, n, 30)),
        fm(FeatureMatrix::build(data.train, data.test, default_spec())),
        target(Target::encode(data.target, task)) {
    split_rows(n, 3, 1, train_rows, valid_rows);
    source.train = &data.train;
    source.test = &data.test;
    source.id_column = "id";
    source.target_columns = {"y"};
    source.work_dir = fs::temp_directory_path() / fmt::format("compe_command_{}_{}", tag, ::getpid());
    source.num_folds = 3;
    fs::remove_all(source.work_dir);
    fs::create_directories(source.work_dir);
  }
  ~CommandProblem() { fs::remove_all(source.work_dir); }

  FoldData fold() const {
    FoldData d;
    d.features = &fm;
    d.target = &target;
    d.train_rows = train_rows;
    d.valid_rows = valid_rows;
    d.fold = 1;
    d.seed = 5;
    d.source = &source;
    return d;
  }
};

const std::string kExample = std::string("python3 ") + COMPE_SOURCE_DIR + "/examples/command_trainer/train_fold.py";

// A shell trainer: writes oof.csv/test.csv with a constant prediction, then `extra`.
std::string constant_trainer(const std::string& value, const std::string& extra = "") {
  return "awk -F, 'NR==1{print \"id,fold,p\"} NR>1{print $1\",1," + value +
         "\"}' \"$COMPE_VALID_CSV\" > \"$COMPE_OUTPUT_DIR/oof.csv\" && "
         "awk -F, 'NR==1{print \"id,p\"} NR>1{print $1\"," + value +
         "\"}' \"$COMPE_TEST_CSV\" > \"$COMPE_OUTPUT_DIR/test.csv\"" + extra;
}

std::string error_of(Model& model, const FoldData& data, const nlohmann::json& params) {
  try {
    model.fit_predict(data, params, nullptr);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kBackend) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "expected an error";
  return "";
}

}  // namespace

TEST(ModelCommand, ExampleTrainerBinary) {
  CommandProblem p(Task::kBinary, 150, "bin");
  auto r = make("command")->fit_predict(
      p.fold(), {{"command", kExample}, {"params", {{"epochs", 60}, {"learning_rate", 0.5}}}}, nullptr);
  ASSERT_EQ(r.valid_pred.size(), p.valid_rows.size());
  ASSERT_EQ(r.test_pred.size(), 30u);
  EXPECT_GT(auc(take(p.target.y, p.valid_rows), r.valid_pred), 0.85);
  EXPECT_TRUE(fs::exists(r.log_file));
  EXPECT_TRUE(fs::exists(p.source.work_dir / "command" / "fold1" / "train.csv"));
  EXPECT_TRUE(fs::exists(p.source.work_dir / "command" / "test.csv"));
}

TEST(ModelCommand, ExampleTrainerMulticlass) {
  CommandProblem p(Task::kMulticlass, 120, "multi");
  auto r = make("command")->fit_predict(p.fold(), {{"command", kExample}, {"params", {{"epochs", 40}}}},
                                        nullptr);
  ASSERT_EQ(r.cols, 3u);
  for (std::size_t i = 0; i < p.valid_rows.size(); ++i)
    EXPECT_NEAR(r.valid_pred[i * 3] + r.valid_pred[i * 3 + 1] + r.valid_pred[i * 3 + 2], 1.0, 1e-9);
}

TEST(ModelCommand, EnvironmentAndOrder) {
  CommandProblem p(Task::kRegression, 30, "env");
  // Writes rows in reverse order; the prediction is the row's id, so order is checkable.
  std::string cmd =
      "env | grep '^COMPE_' | sort > \"$COMPE_OUTPUT_DIR/env.txt\"; "
      "awk -F, 'NR==1{print \"id,p\"} NR>1{r[NR]=$1} END{for(i=NR;i>1;i--) print r[i]\",\"r[i]}' "
      "\"$COMPE_VALID_CSV\" > \"$COMPE_OUTPUT_DIR/oof.csv\"; "
      "awk -F, 'NR==1{print \"id,p\"} NR>1{print $1\",\"$1}' \"$COMPE_TEST_CSV\" > "
      "\"$COMPE_OUTPUT_DIR/test.csv\"";
  auto r = make("command")->fit_predict(p.fold(), {{"command", cmd}, {"params", {{"depth", 3}}}}, nullptr);
  for (std::size_t i = 0; i < p.valid_rows.size(); ++i)
    EXPECT_EQ(r.valid_pred[i], static_cast<double>(p.valid_rows[i]));
  EXPECT_EQ(r.test_pred[2], 100002.0);
  std::ifstream in(p.source.work_dir / "command" / "fold1" / "output" / "env.txt");
  std::string env((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (const char* key : {"COMPE_FOLD=1", "COMPE_NUM_FOLDS=3", "COMPE_TASK=regression",
                          "COMPE_ID_COLUMN=id", "COMPE_TARGET_COLUMNS=y", "COMPE_SEED=5",
                          "COMPE_PARAMS_JSON={\"depth\":3}", "COMPE_TRAIN_CSV=", "COMPE_VALID_CSV=",
                          "COMPE_TEST_CSV=", "COMPE_OUTPUT_DIR=", "COMPE_FOLDS_CSV="})
    EXPECT_NE(env.find(key), std::string::npos) << key << " in\n" << env;
}

TEST(ModelCommand, NonZeroExitNamesCommandStatusAndLog) {
  CommandProblem p(Task::kBinary, 30, "exit");
  auto model = make("command");
  auto msg = error_of(*model, p.fold(), {{"command", "echo something broke >&2; exit 3"}});
  EXPECT_NE(msg.find("exited with status 3"), std::string::npos) << msg;
  EXPECT_NE(msg.find("something broke"), std::string::npos) << msg;
  EXPECT_NE(msg.find("train.log"), std::string::npos) << msg;
}

TEST(ModelCommand, MissingOutputFile) {
  CommandProblem p(Task::kBinary, 30, "missing");
  auto model = make("command");
  auto msg = error_of(*model, p.fold(), {{"command", "true"}});
  EXPECT_NE(msg.find("oof.csv"), std::string::npos) << msg;
}

TEST(ModelCommand, NanPredictionDetected) {
  CommandProblem p(Task::kBinary, 30, "nan");
  auto model = make("command");
  auto msg = error_of(*model, p.fold(), {{"command", constant_trainer("nan")}});
  EXPECT_NE(msg.find("oof.csv:2: id"), std::string::npos) << msg;
  EXPECT_NE(msg.find("not a finite number"), std::string::npos) << msg;
  // The same trainer with a valid value passes.
  auto r = model->fit_predict(p.fold(), {{"command", constant_trainer("0.25")}}, nullptr);
  EXPECT_EQ(r.valid_pred[0], 0.25);
}

TEST(ModelCommand, WrongAndMissingIds) {
  CommandProblem p(Task::kBinary, 30, "ids");
  auto model = make("command");
  auto msg = error_of(*model, p.fold(), {{"command", constant_trainer("0.5", " && echo 999,1,0.5 >> \"$COMPE_OUTPUT_DIR/oof.csv\"")}});
  EXPECT_NE(msg.find("unexpected id: 999"), std::string::npos) << msg;
  msg = error_of(*model, p.fold(), {{"command", constant_trainer("0.5", " && sed -i 2d \"$COMPE_OUTPUT_DIR/test.csv\"")}});
  EXPECT_NE(msg.find("test.csv: 1 missing id: 100000"), std::string::npos) << msg;
  msg = error_of(*model, p.fold(), {{"command", constant_trainer("0.5", " && sed -n 2p \"$COMPE_OUTPUT_DIR/test.csv\" >> \"$COMPE_OUTPUT_DIR/test.csv\"")}});
  EXPECT_NE(msg.find("duplicate id"), std::string::npos) << msg;
}

TEST(ModelCommand, Timeout) {
  CommandProblem p(Task::kBinary, 30, "timeout");
  auto model = make("command");
  auto msg = error_of(*model, p.fold(), {{"command", "sleep 30"}, {"timeout_s", 0.3}});
  EXPECT_NE(msg.find("timeout_s"), std::string::npos) << msg;
}

TEST(ModelCommand, ParameterErrors) {
  CommandProblem p(Task::kBinary, 30, "params");
  auto model = make("command");
  EXPECT_THROW(model->fit_predict(p.fold(), nlohmann::json::object(), nullptr), Error);
  try {
    model->fit_predict(p.fold(), {{"command", "true"}, {"epochs", 3}}, nullptr);
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ErrorCode::kInvalidArgument);
    EXPECT_NE(std::string(e.what()).find("'epochs'"), std::string::npos);
  }
  FoldData d = p.fold();
  d.source = nullptr;
  EXPECT_THROW(model->fit_predict(d, {{"command", "true"}}, nullptr), Error);
}

TEST(ModelCommand, Log1pTargetPredictionsComeBackOnTheModelScale) {
  CommandProblem p(Task::kRegression, 30, "log1p");
  p.target = Target::encode(Column::from_f64("y", std::vector<double>(30, 4.0)), Task::kRegression,
                            TargetTransform::kLog1p);
  auto r = make("command")->fit_predict(p.fold(), {{"command", constant_trainer("9")}}, nullptr);
  EXPECT_DOUBLE_EQ(r.valid_pred[0], std::log1p(9.0));
  std::vector<double> back = r.test_pred;
  p.target.inverse_transform(back);
  EXPECT_NEAR(back[0], 9.0, 1e-12);
}

TEST(ModelCommand, CancelKillsTheCommand) {
  CommandProblem p(Task::kBinary, 30, "cancel");
  struct Cancelled {};
  auto t0 = std::chrono::steady_clock::now();
  int ticks = 0;
  EXPECT_THROW(make("command")->fit_predict(p.fold(), {{"command", "sleep 30"}},
                                            [&](const Progress& pr) {
                                              if (pr.message.starts_with("running") && ++ticks == 2)
                                                throw Cancelled{};
                                            }),
               Cancelled);
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 10.0);
}
