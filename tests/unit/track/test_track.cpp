// Tracking: the trainers' metric log, curves and heartbeats of real runs.
#include <gtest/gtest.h>

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "compe/error.hpp"
#include "compe/run.hpp"
#include "compe/store.hpp"
#include "compe/track.hpp"
#include "compe/util.hpp"
#include "compe/workspace.hpp"

using namespace compe;
namespace fs = std::filesystem;

namespace {

class TempDir {
 public:
  explicit TempDir(const std::string& tag)
      : path_(fs::temp_directory_path() / fmt::format("compe_track_{}_{}", tag, ::getpid())) {
    fs::remove_all(path_);
    fs::create_directories(path_);
  }
  ~TempDir() { fs::remove_all(path_); }
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

fs::path write(const fs::path& p, const std::string& text) {
  std::ofstream(p, std::ios::binary) << text;
  return p;
}

Error error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const Error& e) {
    return e;
  }
  ADD_FAILURE() << "expected an error";
  return Error(ErrorCode::kInternal, "none");
}

}  // namespace

// ---- the metric log ----

TEST(TrackMetricsLog, KeysMapOntoTheTrainValidConvention) {
  EXPECT_EQ(track::metrics_log_key("train_loss"), "train-loss");
  EXPECT_EQ(track::metrics_log_key("valid_auc"), "valid-auc");
  EXPECT_EQ(track::metrics_log_key("val_loss"), "valid-loss");
  EXPECT_EQ(track::metrics_log_key("valid_top_5"), "valid-top_5");
  EXPECT_EQ(track::metrics_log_key("train-auc"), "train-auc");
  EXPECT_EQ(track::metrics_log_key("lr"), "lr");
  EXPECT_EQ(track::metrics_log_key("train_"), "train_");
  EXPECT_EQ(track::metrics_log_key("trainloss"), "trainloss");
}

TEST(TrackMetricsLog, ReadsSeriesPerKeyOrderedByStep) {
  TempDir d("log");
  auto p = write(d.path() / "m.jsonl",
                 "{\"step\": 2, \"train_loss\": 0.5, \"valid_auc\": 0.8}\n"
                 "\n"
                 "{\"step\": 1, \"train_loss\": 0.7, \"lr\": 0.1}\r\n"
                 "{\"step\": 2, \"valid_auc\": 0.85}\n");  // a repeated step: the later value wins
  auto pts = track::read_metrics_log(p, 3);
  ASSERT_EQ(pts.size(), 4u);
  EXPECT_EQ(pts[0].key, "lr");
  EXPECT_EQ(pts[1].key, "train-loss");
  EXPECT_EQ(pts[1].step, 1);
  EXPECT_DOUBLE_EQ(pts[1].value, 0.7);
  EXPECT_EQ(pts[2].key, "train-loss");
  EXPECT_EQ(pts[2].step, 2);
  EXPECT_EQ(pts[3].key, "valid-auc");
  EXPECT_DOUBLE_EQ(pts[3].value, 0.85);
  for (const auto& q : pts) EXPECT_EQ(q.fold, 3);
  EXPECT_TRUE(track::read_metrics_log(d.path() / "absent.jsonl", 0).empty());
}

TEST(TrackMetricsLog, StepDefaultsToThePreviousPlusOne) {
  TempDir d("steps");
  auto p = write(d.path() / "m.jsonl", "{\"loss\": 3}\n{\"loss\": 2}\n{\"step\": 10, \"loss\": 1}\n{\"loss\": 0.5}\n");
  auto pts = track::read_metrics_log(p, std::nullopt);
  ASSERT_EQ(pts.size(), 4u);
  std::vector<std::int64_t> steps;
  for (const auto& q : pts) steps.push_back(q.step);
  EXPECT_EQ(steps, (std::vector<std::int64_t>{0, 1, 10, 11}));
  EXPECT_FALSE(pts[0].fold.has_value());
}

TEST(TrackMetricsLog, NonFiniteValuesAsPythonWritesThem) {
  TempDir d("nan");
  auto p = write(d.path() / "m.jsonl",
                 "{\"step\": 0, \"a\": NaN, \"b\": Infinity, \"c\": -Infinity, \"d\": null, \"e\": \"NaN\"}\n");
  // "e" is a string, not a number: refused, even when it reads NaN.
  auto e = error_of([&] { track::read_metrics_log(p, 0); });
  EXPECT_EQ(e.code(), ErrorCode::kParse);
  EXPECT_NE(std::string(e.what()).find("m.jsonl:1: key 'e'"), std::string::npos) << e.what();
  write(p, "{\"step\": 0, \"a\": NaN, \"b\": Infinity, \"c\": -Infinity, \"d\": null, \"name\": \"NaN Infinity\"}\n");
  e = error_of([&] { track::read_metrics_log(p, 0); });
  EXPECT_NE(std::string(e.what()).find("key 'name'"), std::string::npos) << e.what();
  write(p, "{\"step\": 0, \"a\": NaN, \"b\": Infinity, \"c\": -Infinity, \"d\": null}\n");
  auto pts = track::read_metrics_log(p, 0);
  ASSERT_EQ(pts.size(), 4u);
  EXPECT_TRUE(std::isnan(pts[0].value));
  EXPECT_EQ(pts[1].value, INFINITY);
  EXPECT_EQ(pts[2].value, -INFINITY);
  EXPECT_TRUE(std::isnan(pts[3].value));
}

TEST(TrackMetricsLog, TruncatedLastLineIsDropped) {
  TempDir d("trunc");
  auto p = write(d.path() / "m.jsonl", "{\"step\": 0, \"loss\": 1}\n{\"step\": 1, \"loss\": 0.9}\n{\"step\": 2, \"lo");
  auto pts = track::read_metrics_log(p, 0);
  ASSERT_EQ(pts.size(), 2u);
  EXPECT_EQ(pts[1].step, 1);
  // A complete last line without its line feed still counts.
  write(p, "{\"step\": 0, \"loss\": 1}\n{\"step\": 1, \"loss\": 0.9}");
  EXPECT_EQ(track::read_metrics_log(p, 0).size(), 2u);
}

TEST(TrackMetricsLog, MalformedLinesNameFileAndLine) {
  TempDir d("bad");
  auto p = write(d.path() / "m.jsonl", "{\"step\": 0, \"loss\": 1}\n{\"step\": 1, \"lo\n{\"step\": 2, \"loss\": 0.8}\n");
  auto e = error_of([&] { track::read_metrics_log(p, 0); });
  EXPECT_EQ(e.code(), ErrorCode::kParse);
  EXPECT_NE(std::string(e.what()).find("m.jsonl:2:"), std::string::npos) << e.what();
  // The last line, complete with its line feed, is not excused either.
  write(p, "{\"step\": 0, \"loss\": 1}\nnot json\n");
  e = error_of([&] { track::read_metrics_log(p, 0); });
  EXPECT_NE(std::string(e.what()).find("m.jsonl:2:"), std::string::npos) << e.what();
  EXPECT_NE(std::string(e.what()).find("not json"), std::string::npos) << e.what();

  for (const char* bad : {"[1, 2]\n", "{\"step\": -1, \"a\": 1}\n", "{\"step\": 1.5, \"a\": 1}\n",
                          "{\"step\": \"3\", \"a\": 1}\n", "{\"a\": true}\n", "{\"a\": [1]}\n", "{\"\": 1}\n"}) {
    write(p, std::string("{\"a\": 0}\n") + bad);
    e = error_of([&] { track::read_metrics_log(p, 0); });
    EXPECT_EQ(e.code(), ErrorCode::kParse) << bad;
    EXPECT_NE(std::string(e.what()).find("m.jsonl:2:"), std::string::npos) << bad << ": " << e.what();
  }
}

// ---- runs with a command trainer ----

namespace {

// A workspace on the Titanic example, with a store of its own.
struct TrackWorkspace {
  TempDir dir;
  Workspace ws;
  explicit TrackWorkspace(const std::string& tag) : dir(tag), ws(make(dir.path())) {}
  static Workspace make(const fs::path& root) {
    InitOptions o;
    o.dir = root / "ws";
    o.from = fs::path(COMPE_SOURCE_DIR) / "examples" / "titanic" / "data";
    init_workspace(o);
    return Workspace::open(o.dir);
  }
  std::unique_ptr<Store> store() const { return open_store(ws.store_path().string()); }
};

// A trainer that predicts 0.5 for every row, after running `before` (a shell snippet).
run::Experiment constant_trainer(const std::string& before, double timeout_s = 0) {
  run::Experiment x;
  x.backend = "command";
  std::string write_preds =
      "awk -F, 'NR==1{print \"id,p\"} NR>1{print $1\",0.5\"}' \"$COMPE_VALID_CSV\" > \"$COMPE_OUTPUT_DIR/oof.csv\" && "
      "awk -F, 'NR==1{print \"id,p\"} NR>1{print $1\",0.5\"}' \"$COMPE_TEST_CSV\" > \"$COMPE_OUTPUT_DIR/test.csv\"";
  x.params = {{"command", before + write_preds}, {"timeout_s", timeout_s}};
  x.folds = {0, 1};
  return x;
}

std::string run_error(const Workspace& ws, const run::Experiment& x, std::string* run_id = nullptr) {
  std::string id;
  auto sink = [&](const run::Event& e) {
    if (e.kind == run::Event::kStart) id = e.message;
  };
  try {
    run::run_experiment(ws, x, {}, sink);
  } catch (const Error& e) {
    if (run_id) *run_id = id;
    return e.what();
  }
  ADD_FAILURE() << "expected the run to fail";
  return "";
}

}  // namespace

TEST(TrackRun, CommandTrainerCurvesAreStoredPerFold) {
  TrackWorkspace t("curves");
  run::Experiment x;
  x.backend = "command";
  x.params = {{"command", std::string("python3 ") + COMPE_SOURCE_DIR + "/examples/command_trainer/train_fold.py"},
              {"params", {{"epochs", 6}, {"log_every", 2}}}};
  x.drop = {"name"};
  x.folds = {0, 2};
  run::Summary s = run::run_experiment(t.ws, x, {}, nullptr);
  auto store = t.store();
  EXPECT_EQ(store->metric_keys(s.run_id), (std::vector<std::string>{"train-logloss", "valid-logloss"}));
  auto pts = store->read_metrics(s.run_id, "valid-logloss");
  ASSERT_EQ(pts.size(), 6u);  // steps 2, 4, 6 of folds 0 and 2
  EXPECT_EQ(pts[0].fold, 0);
  EXPECT_EQ(pts[0].step, 2);
  EXPECT_EQ(pts[5].fold, 2);
  EXPECT_EQ(pts[5].step, 6);
  for (const auto& p : pts) EXPECT_TRUE(p.value > 0 && p.value < 1) << p.value;
  EXPECT_LT(pts[2].value, pts[0].value);  // gradient descent lowers the loss
  EXPECT_TRUE(fs::exists(s.dir / "command" / "fold0" / "metrics.jsonl"));
}

TEST(TrackRun, CurvesOfAFailedFoldAreKept) {
  TrackWorkspace t("failed");
  run::Experiment x = constant_trainer(
      "printf '{\"step\": 1, \"train_loss\": 0.9}\\n{\"step\": 2, \"train_loss\": 0.8}\\n{\"step\": 3, \"tr' "
      ">> \"$COMPE_METRICS_FILE\"; exit 4; ");
  std::string id;
  std::string err = run_error(t.ws, x, &id);
  EXPECT_NE(err.find("exited with status 4"), std::string::npos) << err;
  auto store = t.store();
  compe::Run r = store->get_run(id);
  EXPECT_EQ(r.status, RunStatus::kFailed);
  auto pts = store->read_metrics(id, "train-loss");
  ASSERT_EQ(pts.size(), 2u);
  EXPECT_EQ(pts[1].step, 2);
  EXPECT_DOUBLE_EQ(pts[1].value, 0.8);
}

TEST(TrackRun, MalformedMetricLogFailsTheRunNamingFileAndLine) {
  TrackWorkspace t("malformed");
  run::Experiment x = constant_trainer("printf '{\"step\": 1, \"loss\": 1}\\nloss=0.5\\n{\"step\": 3, \"loss\": 0.4}\\n' "
                                       ">> \"$COMPE_METRICS_FILE\"; ");
  std::string id;
  std::string err = run_error(t.ws, x, &id);
  EXPECT_NE(err.find("metrics.jsonl:2:"), std::string::npos) << err;
  EXPECT_NE(err.find("loss=0.5"), std::string::npos) << err;
  EXPECT_EQ(t.store()->get_run(id).status, RunStatus::kFailed);
}

TEST(TrackRun, HeartbeatsWhileAFoldRuns) {
  TrackWorkspace t("beat");
  run::Experiment x = constant_trainer("sleep 1.6; ");
  x.folds = {0};
  run::Options o;
  o.heartbeat_interval = std::chrono::milliseconds(200);
  std::string id;
  std::int64_t started = 0, latest_beat = 0;
  auto reader = t.store();
  auto sink = [&](const run::Event& e) {
    if (e.kind == run::Event::kStart) {
      id = e.message;
      started = reader->get_run(id).started_ms;
    }
    // The command backend reports progress about twice a second while the program runs.
    if (e.kind == run::Event::kIteration && !id.empty()) {
      compe::Run r = reader->get_run(id);
      EXPECT_EQ(r.status, RunStatus::kRunning);
      latest_beat = std::max(latest_beat, r.heartbeat_ms.value_or(0));
    }
  };
  run::run_experiment(t.ws, x, o, sink);
  EXPECT_GE(latest_beat - started, 600) << "no heartbeat recorded while the fold ran";
}
